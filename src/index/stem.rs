//! Snowball stemming and stop-word removal that remember each word they judged.
//!
//! Logs repeat a small vocabulary millions of times, and the Snowball algorithm is dear beside
//! a hash lookup: stemming was a fifth of an indexing thread's time on a realistic dump. This
//! filter gives exactly what tantivy's `StopWordFilter` followed by its `Stemmer` give (the
//! same word lists and the same `frostem` algorithm; a test holds the two equal) and looks a
//! word up once: whether it is a stop word and what its stem is are one memo entry, so a
//! token costs one hash lookup, not one per filter.
//!
//! Each indexing thread works on its own clone of the analyzer, and a clone starts with an
//! empty memo, so nothing is shared or locked. The memo is bounded: past [`MEMO_WORDS`] words it
//! starts over, and words longer than [`MEMO_WORD_BYTES`] or with a digit in them are not
//! remembered (ids and hashes, which never repeat): numbers and English words ending in a
//! digit are their own stems, the rest are stemmed every time. Its hasher is seeded per memo,
//! so crafted log text cannot aim collisions at it.

use std::collections::HashMap;
use tantivy::tokenizer::{
    RawTokenizer, StopWordFilter, TextAnalyzer, Token, TokenFilter, TokenStream, Tokenizer,
};

/// Words one memo holds before it starts over (a few MB at most).
const MEMO_WORDS: usize = 50_000;
/// Longer words are not remembered.
const MEMO_WORD_BYTES: usize = 24;

/// What the memo knows of a word.
enum Known {
    /// A stop word: dropped.
    Stop,
    /// Its own stem (most log words): nothing copied.
    Own,
    Stem(Box<str>),
}

type Memo = HashMap<Box<str>, Known, foldhash::fast::RandomState>;

/// The filter: stop words of one language dropped, the rest Snowball-stemmed, remembered per
/// word.
#[derive(Clone)]
pub(super) struct MemoStemmer {
    algorithm: frostem::Algorithm,
    stop: Option<StopWordFilter>,
}

impl MemoStemmer {
    /// `stop`: the language's stop words (tantivy's lists), or none.
    pub(super) fn new(algorithm: frostem::Algorithm, stop: Option<StopWordFilter>) -> MemoStemmer {
        MemoStemmer { algorithm, stop }
    }
}

impl TokenFilter for MemoStemmer {
    type Tokenizer<T: Tokenizer> = MemoStemmerFilter<T>;

    fn transform<T: Tokenizer>(self, inner: T) -> MemoStemmerFilter<T> {
        MemoStemmerFilter {
            inner,
            stemmer: frostem::Stemmer::new(self.algorithm),
            // Why an analyzer: tantivy keeps its stop lists private; its filter over a whole
            // word says whether the word is one (asked once per word, on a memo miss).
            stop: self.stop.map(|s| {
                TextAnalyzer::builder(RawTokenizer::default())
                    .filter(s)
                    .build()
            }),
            memo: Memo::default(),
        }
    }
}

pub(super) struct MemoStemmerFilter<T> {
    inner: T,
    stemmer: frostem::Stemmer,
    stop: Option<TextAnalyzer>,
    memo: Memo,
}

impl<T: Clone> Clone for MemoStemmerFilter<T> {
    /// A clone starts with an empty memo of its own (one per indexing thread).
    fn clone(&self) -> Self {
        MemoStemmerFilter {
            inner: self.inner.clone(),
            stemmer: self.stemmer,
            stop: self.stop.clone(),
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
            english: self.stemmer.algorithm() == frostem::Algorithm::English,
            stop: self.stop.as_mut(),
            memo: &mut self.memo,
        }
    }
}

pub(super) struct MemoStemmerStream<'a, T> {
    tail: T,
    stemmer: frostem::Stemmer,
    /// English, whose rules leave a word ending in a digit as it is (see `advance`).
    english: bool,
    stop: Option<&'a mut TextAnalyzer>,
    memo: &'a mut Memo,
}

/// What `word` is: a stop word (when the language has a list), its own stem, or another stem.
fn judge(stop: Option<&mut TextAnalyzer>, stemmer: &frostem::Stemmer, word: &str) -> Known {
    if stop.is_some_and(|a| !a.token_stream(word).advance()) {
        return Known::Stop;
    }
    match stemmer.stem(word) {
        std::borrow::Cow::Borrowed(_) => Known::Own,
        std::borrow::Cow::Owned(s) => Known::Stem(s.into_boxed_str()),
    }
}

/// Apply what is known of the token's word; false when the token is dropped.
fn apply(known: &Known, text: &mut String) -> bool {
    match known {
        Known::Stop => false,
        Known::Own => true,
        Known::Stem(stem) => {
            text.clear();
            text.push_str(stem);
            true
        }
    }
}

impl<T: TokenStream> TokenStream for MemoStemmerStream<'_, T> {
    fn advance(&mut self) -> bool {
        loop {
            if !self.tail.advance() {
                return false;
            }
            let token = self.tail.token_mut();
            // Numbers (a third of log tokens) have no letters, and every Snowball rule strips
            // or rewrites letters: a number is its own stem. A word with a digit in it (`v1`,
            // `12ms`, `7f3ab`, a request id) rarely repeats: stemmed, not remembered. No stop
            // word has a digit (Snowball's lists, which tantivy ships, are letters only).
            let bytes = token.text.as_bytes();
            if bytes.iter().any(u8::is_ascii_digit) {
                // Why an English word of ASCII letters and digits that ends in a digit is its
                // own stem too: every rule of the English algorithm removes or replaces a suffix
                // of letters, and its one other change (`y` marked, then unmarked) gives back
                // what it took. German is not so: it reads `ae` as `ä` and then drops the umlaut
                // anywhere in the word. A test holds the English claim on generated words.
                let number = bytes.iter().all(u8::is_ascii_digit);
                let english_own = self.english
                    && bytes.last().is_some_and(u8::is_ascii_digit)
                    && bytes.iter().all(u8::is_ascii_alphanumeric);
                if !number
                    && !english_own
                    && let std::borrow::Cow::Owned(stem) = self.stemmer.stem(&token.text)
                {
                    token.text = stem;
                }
                return true;
            }
            let keep = match self.memo.get(token.text.as_str()) {
                Some(known) => apply(known, &mut token.text),
                None => {
                    let known = judge(self.stop.as_deref_mut(), &self.stemmer, &token.text);
                    let word: Option<Box<str>> =
                        (token.text.len() <= MEMO_WORD_BYTES).then(|| token.text.as_str().into());
                    let keep = apply(&known, &mut token.text);
                    if let Some(word) = word {
                        if self.memo.len() >= MEMO_WORDS {
                            self.memo.clear();
                        }
                        self.memo.insert(word, known);
                    }
                    keep
                }
            };
            if keep {
                return true;
            }
        }
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
    use tantivy::tokenizer::{Language, LowerCaser, SimpleTokenizer, Stemmer};

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
             generalizations nationalization organizational running1 pods2 flies3 \
             aerzte4 Häuser5 maße6 sky7 ",
        );
        for i in 0..200 {
            text.push_str(&format!(
                "request{i} handled handling handles 7f{i:x}ab {i} 2026 0{i} 12ms v1s pods{i}s "
            ));
        }
        text
    }

    /// tantivy's filters and ours for one language, with its stop words or without.
    fn both(language: Language, algorithm: frostem::Algorithm, stop: bool) -> [TextAnalyzer; 2] {
        let stops = || StopWordFilter::new(language).filter(|_| stop);
        let theirs = TextAnalyzer::builder(SimpleTokenizer::default()).filter(LowerCaser);
        let theirs = match stops() {
            Some(s) => theirs.filter(s).filter(Stemmer::new(language)).build(),
            None => theirs.filter(Stemmer::new(language)).build(),
        };
        let ours = TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(LowerCaser)
            .filter(MemoStemmer::new(algorithm, stops()))
            .build();
        [theirs, ours]
    }

    const LANGUAGES: [(Language, frostem::Algorithm); 2] = [
        (Language::English, frostem::Algorithm::English),
        (Language::German, frostem::Algorithm::German),
    ];

    #[test]
    fn the_memo_stems_as_tantivys_stemmer_does() {
        for (language, algorithm) in LANGUAGES {
            let [mut theirs, mut ours] = both(language, algorithm, false);
            let text = corpus();
            let want = tokens(&mut theirs, &text);
            // Twice through one analyzer: the second pass is all memo hits.
            assert_eq!(tokens(&mut ours, &text), want);
            assert_eq!(tokens(&mut ours, &text), want);
            assert!(want.iter().any(|(t, ..)| t == "pod"), "{want:?}");
        }
    }

    /// What `advance` relies on to leave English words that end in a digit unstemmed: the
    /// algorithm gives every such word back unchanged, whatever suffixes, `y`s, prefixes and
    /// exceptional words it holds.
    #[test]
    fn english_leaves_a_word_ending_in_a_digit_as_it_is() {
        let stemmer = frostem::Stemmer::new(frostem::Algorithm::English);
        let heads = [
            "", "y", "ay", "gener", "commun", "arsen", "past", "univers", "later", "emerg", "skis",
            "skies", "dying", "lying", "news", "inning", "outing", "canning", "idly", "gently",
            "ugly", "early", "only", "singly", "sky", "howe", "atlas", "cosmos", "bias", "andes",
            "proceed", "exceed", "succeed",
        ];
        let suffixes = [
            "", "s", "sses", "ied", "ies", "us", "ss", "eed", "eedly", "ed", "edly", "ing",
            "ingly", "y", "tional", "enci", "anci", "abli", "entli", "izer", "ization", "ational",
            "ation", "ator", "alism", "aliti", "alli", "fulness", "ousli", "ousness", "iveness",
            "iviti", "biliti", "bli", "ogi", "fulli", "lessli", "li", "ical", "ful", "ness",
            "ative", "alize", "icate", "iciti", "al", "ance", "ence", "er", "ic", "able", "ible",
            "ant", "ement", "ment", "ent", "ism", "ate", "iti", "ous", "ive", "ize", "ion", "e",
            "l", "ll",
        ];
        let mut checked = 0;
        for head in heads {
            for suffix in suffixes {
                for tail in ["1", "s2", "ing3", "y4", "e5", "ed06", "ational7", "9ies8"] {
                    let word = format!("{head}{suffix}{tail}");
                    assert_eq!(stemmer.stem(&word), word.as_str(), "{word}");
                    checked += 1;
                }
            }
        }
        assert!(checked > 8_000);
        // The German algorithm is not so: `ae` is read as an umlaut and the umlaut dropped.
        let german = frostem::Stemmer::new(frostem::Algorithm::German);
        assert_ne!(german.stem("aerzte4"), "aerzte4");
    }

    #[test]
    fn a_full_memo_starts_over_and_still_stems_alike() {
        let build = |memo: bool| {
            let b = TextAnalyzer::builder(SimpleTokenizer::default());
            if memo {
                b.filter(MemoStemmer::new(frostem::Algorithm::English, None))
                    .build()
            } else {
                b.filter(Stemmer::new(Language::English)).build()
            }
        };
        // Words of letters only (a word with a digit is never remembered), all different, so
        // the memo fills and starts over mid-text.
        let letters = |mut i: usize| {
            let mut w = String::new();
            loop {
                w.push(char::from(b"abcdefghijklmnopqrstuvwxyz"[i % 26]));
                i /= 26;
                if i == 0 {
                    return w;
                }
            }
        };
        let text: String = (0..MEMO_WORDS + 10)
            .map(|i| format!("walk{}ing walked{} ", letters(i), letters(i % 7)))
            .collect();
        let want = tokens(&mut build(false), &text);
        assert_eq!(want.len(), 2 * (MEMO_WORDS + 10));
        assert_eq!(tokens(&mut build(true), &text), want);
    }

    #[test]
    fn stop_words_are_dropped_as_tantivys_filter_drops_them() {
        for (language, algorithm) in LANGUAGES {
            let [mut theirs, mut ours] = both(language, algorithm, true);
            let text = format!(
                "The pod and the node were not ready. Der und die. {}",
                corpus()
            );
            let want = tokens(&mut theirs, &text);
            assert_eq!(tokens(&mut ours, &text), want);
            // Again, every word a memo hit; and a clone starts afresh and agrees.
            assert_eq!(tokens(&mut ours, &text), want);
            assert_eq!(tokens(&mut ours.clone(), &text), want);
            let words: Vec<&str> = want.iter().map(|(t, ..)| t.as_str()).collect();
            let dropped = match language {
                Language::English => ["the", "and"],
                _ => ["der", "und"],
            };
            assert!(dropped.iter().all(|w| !words.contains(w)), "{words:?}");
            assert!(words.contains(&"pod"), "{words:?}");
        }
    }
}
