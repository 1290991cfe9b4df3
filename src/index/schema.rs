//! The index's fields and text analysis: one text field per language (English and German
//! stemmed with stop words, Chinese segmented by jieba), the analyzers registered on every
//! index opened, and the terms a query is analysed into.

use super::*;

#[derive(Clone, Copy)]
pub(super) struct Fields {
    pub(super) id: Field,
    pub(super) kind: Field,
    pub(super) lang: Field,
    pub(super) source: Field,
    pub(super) file: Field,
    pub(super) namespace: Field,
    pub(super) object: Field,
    pub(super) time: Field,
    pub(super) revision: Field,
    pub(super) lines: Field,
    /// Analysed body and title per language: [en, de, zh]. A document fills one language's
    /// pair, and that pair is also what is stored: the text is kept once, not beside its
    /// analysed copy (half the copying and the store of a log-heavy index).
    pub(super) body: [Field; 3],
    pub(super) head: [Field; 3],
}

pub(super) fn lang_slot(l: Lang) -> usize {
    match l {
        Lang::En => 0,
        Lang::De => 1,
        Lang::Zh => 2,
    }
}

const ANALYZERS: [&str; 3] = ["sx_en", "sx_de", "sx_zh"];

pub(super) fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let analysed = |name: &str| {
        TextOptions::default()
            .set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(name)
                    .set_index_option(IndexRecordOption::WithFreqs),
            )
            .set_stored()
    };
    // Indexed (as one term) only where a query or a delete looks a document up by it: the id
    // (replacing and deleting), kind and language (filters, counts), namespace (`--namespace`).
    // Source, file, object, revision and lines are only shown: stored, never a term (four
    // terms a document fewer for the indexing threads to sort and write).
    let id = b.add_text_field("id", STRING | STORED);
    let kind = b.add_text_field("kind", STRING | STORED);
    let lang = b.add_text_field("lang", STRING | STORED);
    let source = b.add_text_field("source", STORED);
    let file = b.add_text_field("file", STORED);
    let namespace = b.add_text_field("namespace", STRING | STORED);
    let object = b.add_text_field("object", STORED);
    let time = b.add_date_field(
        "time",
        DateOptions::default().set_indexed().set_stored().set_fast(),
    );
    let revision = b.add_text_field("revision", STORED);
    let lines = b.add_text_field("lines", STORED);
    let body = [
        b.add_text_field("body_en", analysed(ANALYZERS[0])),
        b.add_text_field("body_de", analysed(ANALYZERS[1])),
        b.add_text_field("body_zh", analysed(ANALYZERS[2])),
    ];
    let head = [
        b.add_text_field("head_en", analysed(ANALYZERS[0])),
        b.add_text_field("head_de", analysed(ANALYZERS[1])),
        b.add_text_field("head_zh", analysed(ANALYZERS[2])),
    ];
    (
        b.build(),
        Fields {
            id,
            kind,
            lang,
            source,
            file,
            namespace,
            object,
            time,
            revision,
            lines,
            body,
            head,
        },
    )
}

/// The analyzer for a language (also used to analyse queries).
pub fn analyzer(l: Lang) -> TextAnalyzer {
    match l {
        Lang::En => stemmed(Language::English, frostem::Algorithm::English),
        Lang::De => stemmed(Language::German, frostem::Algorithm::German),
        Lang::Zh => TextAnalyzer::builder(tantivy_jieba::JiebaTokenizer::new())
            .filter(RemoveLongFilter::limit(40))
            .filter(LowerCaser)
            .build(),
    }
}

/// Words, lower-cased, stop words removed, Snowball-stemmed (`stem.rs`: tantivy's stop-word
/// filter and stemmer, remembered per word).
pub(super) fn stemmed(language: Language, algorithm: frostem::Algorithm) -> TextAnalyzer {
    let b = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser);
    b.filter(super::stem::MemoStemmer::new(
        algorithm,
        StopWordFilter::new(language),
    ))
    .build()
}

/// The terms `text` yields in language `l`, deduplicated, punctuation dropped.
pub fn terms(l: Lang, text: &str) -> Vec<String> {
    let mut a = analyzer(l);
    let mut stream = a.token_stream(text);
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    while stream.advance() {
        let t = &stream.token().text;
        if t.chars().any(char::is_alphanumeric) && seen.insert(t.clone()) {
            out.push(t.clone());
        }
    }
    out
}

pub(super) fn register(index: &Index) {
    for l in Lang::ALL {
        index
            .tokenizers()
            .register(ANALYZERS[lang_slot(l)], analyzer(l));
    }
}

pub(super) fn to_date(t: jiff::Timestamp) -> DateTime {
    DateTime::from_timestamp_secs(t.as_second())
}
