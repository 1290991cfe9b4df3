//! Snowball stemming that remembers each word it stemmed.
//!
//! Logs repeat a small vocabulary millions of times, and the Snowball algorithm is dear beside
//! a hash lookup: stemming was a fifth of an indexing thread's time on a realistic dump. This
//! filter gives exactly what tantivy's `Stemmer` gives (the same `frostem` algorithm; a test
//! holds the two equal) and looks a word up before stemming it.
//!
//! Each indexing thread works on its own clone of the analyzer, and a clone starts with an
//! empty memo, so nothing is shared or locked. The memo is bounded: past [`MEMO_WORDS`] words it
//! starts over, and words longer than [`MEMO_WORD_BYTES`] or with a digit in them are stemmed
//! every time (ids and hashes, which never repeat). Its hasher is seeded per memo, so crafted log text cannot aim
//! collisions at it.

use std::collections::HashMap;
use tantivy::tokenizer::{Token, TokenFilter, TokenStream, Tokenizer};

/// Words one memo holds before it starts over (a few MB at most).
const MEMO_WORDS: usize = 50_000;
/// Longer words are not remembered.
const MEMO_WORD_BYTES: usize = 24;

/// Stem → `None` when the word is its own stem (most log words), so a hit copies nothing.
type Memo = HashMap<Box<str>, Option<Box<str>>, foldhash::fast::RandomState>;

/// The filter: Snowball stemming for one language, remembered per word.
#[derive(Clone, Copy)]
pub(super) struct MemoStemmer(frostem::Algorithm);

impl MemoStemmer {
    pub(super) fn new(algorithm: frostem::Algorithm) -> MemoStemmer {
        MemoStemmer(algorithm)
    }
}

impl TokenFilter for MemoStemmer {
    type Tokenizer<T: Tokenizer> = MemoStemmerFilter<T>;

    fn transform<T: Tokenizer>(self, inner: T) -> MemoStemmerFilter<T> {
        MemoStemmerFilter {
            inner,
            stemmer: frostem::Stemmer::new(self.0),
            memo: Memo::default(),
        }
    }
}

pub(super) struct MemoStemmerFilter<T> {
    inner: T,
    stemmer: frostem::Stemmer,
    memo: Memo,
}

impl<T: Clone> Clone for MemoStemmerFilter<T> {
    /// A clone starts with an empty memo of its own (one per indexing thread).
    fn clone(&self) -> Self {
        MemoStemmerFilter {
            inner: self.inner.clone(),
            stemmer: self.stemmer,
            memo: Memo::default(),
        }
    }
}

impl<T: Tokenizer> Tokenizer for MemoStemmerFilter<T> {
    type TokenStream<'a> = MemoStemmerStream<'a, T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        MemoStemmerStream {
            tail: self.inner.token_stream(text),
            stemmer: self.stemmer,
            memo: &mut self.memo,
        }
    }
}

pub(super) struct MemoStemmerStream<'a, T> {
    tail: T,
    stemmer: frostem::Stemmer,
    memo: &'a mut Memo,
}

impl<T: TokenStream> TokenStream for MemoStemmerStream<'_, T> {
    fn advance(&mut self) -> bool {
        if !self.tail.advance() {
            return false;
        }
        let token = self.tail.token_mut();
        // Numbers (a third of log tokens) have no letters, and every Snowball rule strips or
        // rewrites letters: a number is its own stem. A word with a digit in it (`v1`, `12ms`,
        // `7f3ab`, a request id) rarely repeats: stemmed, not remembered.
        if token.text.bytes().all(|b| b.is_ascii_digit()) {
            return true;
        }
        if token.text.bytes().any(|b| b.is_ascii_digit()) {
            if let std::borrow::Cow::Owned(stem) = self.stemmer.stem(&token.text) {
                token.text = stem;
            }
            return true;
        }
        if let Some(known) = self.memo.get(token.text.as_str()) {
            if let Some(stem) = known {
                token.text.clear();
                token.text.push_str(stem);
            }
            return true;
        }
        let stem = match self.stemmer.stem(&token.text) {
            std::borrow::Cow::Borrowed(_) => None,
            std::borrow::Cow::Owned(s) => Some(s.into_boxed_str()),
        };
        if token.text.len() <= MEMO_WORD_BYTES {
            if self.memo.len() >= MEMO_WORDS {
                self.memo.clear();
            }
            self.memo.insert(token.text.as_str().into(), stem.clone());
        }
        if let Some(stem) = stem {
            token.text.clear();
            token.text.push_str(&stem);
        }
        true
    }

    fn token(&self) -> &Token {
        self.tail.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.tail.token_mut()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::tokenizer::{Language, LowerCaser, SimpleTokenizer, Stemmer, TextAnalyzer};

    fn tokens(a: &mut TextAnalyzer, text: &str) -> Vec<(String, usize, usize)> {
        let mut s = a.token_stream(text);
        let mut out = Vec::new();
        while s.advance() {
            let t = s.token();
            out.push((t.text.clone(), t.offset_from, t.position));
        }
        out
    }

    /// Text with words that stem and words that do not, repeated (memo hits), long words
    /// (never remembered), and German.
    fn corpus() -> String {
        let mut text = String::from(
            "Back-off restarting failed container; connections refused while connecting \
             to upstream servers. Liveness probe failed: HTTP probe failed with statuscode \
             500. Pulling images, pulled image successfully, scheduling pods, evicted pods \
             running runs runner ran. Die Verbindungen wurden abgelehnt; Behälter neu \
             gestartet, Häuser häuslich. averyveryverylongidentifierthatneverrepeats12345 \
             generalizations nationalization organizational ",
        );
        for i in 0..200 {
            text.push_str(&format!(
                "request{i} handled handling handles 7f{i:x}ab {i} 2026 0{i} 12ms v1s pods{i}s "
            ));
        }
        text
    }

    #[test]
    fn the_memo_stems_as_tantivys_stemmer_does() {
        for (language, algorithm) in [
            (Language::English, frostem::Algorithm::English),
            (Language::German, frostem::Algorithm::German),
        ] {
            let mut theirs = TextAnalyzer::builder(SimpleTokenizer::default())
                .filter(LowerCaser)
                .filter(Stemmer::new(language))
                .build();
            let mut ours = TextAnalyzer::builder(SimpleTokenizer::default())
                .filter(LowerCaser)
                .filter(MemoStemmer::new(algorithm))
                .build();
            let text = corpus();
            let want = tokens(&mut theirs, &text);
            // Twice through one analyzer: the second pass is all memo hits.
            assert_eq!(tokens(&mut ours, &text), want);
            assert_eq!(tokens(&mut ours, &text), want);
            assert!(want.iter().any(|(t, ..)| t == "pod"), "{want:?}");
        }
    }

    #[test]
    fn a_full_memo_starts_over_and_still_stems_alike() {
        let build = |memo: bool| {
            let b = TextAnalyzer::builder(SimpleTokenizer::default());
            if memo {
                b.filter(MemoStemmer::new(frostem::Algorithm::English))
                    .build()
            } else {
                b.filter(Stemmer::new(Language::English)).build()
            }
        };
        let text: String = (0..MEMO_WORDS + 10)
            .map(|i| format!("walk{i}ing walked{} ", i % 7))
            .collect();
        let want = tokens(&mut build(false), &text);
        assert_eq!(want.len(), 2 * (MEMO_WORDS + 10));
        assert_eq!(tokens(&mut build(true), &text), want);
    }
}
