//! Guidance search: the corpus in a tantivy index, citation resolution, and the guidance that
//! applies to a finding.
//!
//! Building the index means segmenting the Chinese documents, and loading jieba's dictionary
//! for that is most of a short command's time. So the built index is kept on disk under
//! `$XDG_CACHE_HOME/sextant/guidance/<key>`, the key a hash of the documents as indexed, the
//! schema and Sextant's version: a changed corpus (or `[guidance]` directories) is a
//! different key. A missing, unwritable or unreadable cache only means building in memory.

use super::{DocKind, Hit, Result, SearchIndex, SearchQuery, docs};
use crate::findings::{Category, Finding, GuidanceRef};
use crate::guidance::{Corpus, mapping};
use crate::lang::Lang;
use std::collections::HashMap;

/// The corpus and its index.
pub struct GuidanceIndex {
    pub corpus: Corpus,
    index: SearchIndex,
}

impl GuidanceIndex {
    pub fn new(corpus: Corpus) -> Result<GuidanceIndex> {
        let docs = docs::guidance(&corpus);
        if let Some(root) = crate::dirs::guidance_cache() {
            match cached(&root, &docs) {
                Ok(index) => return Ok(GuidanceIndex { corpus, index }),
                Err(e) => {
                    tracing::debug!(error = %e, "guidance index cache unusable; building in memory")
                }
            }
        }
        GuidanceIndex::in_memory(corpus, &docs)
    }

    fn in_memory(corpus: Corpus, docs: &[super::IndexDoc]) -> Result<GuidanceIndex> {
        let mut index = SearchIndex::in_memory()?;
        index.update("guidance", docs)?;
        Ok(GuidanceIndex { corpus, index })
    }

    /// The embedded Level 4 documents.
    pub fn embedded() -> Result<GuidanceIndex> {
        GuidanceIndex::new(Corpus::embedded())
    }

    pub fn search(&self, query: &str, limit: usize, lang: Option<Lang>) -> Result<Vec<Hit>> {
        let mut q = SearchQuery::new(query);
        q.kinds = vec![DocKind::Guidance];
        q.limit = limit;
        q.lang = lang;
        self.index.search(&q)
    }

    /// A citation as the contract shows it, only when the section exists (an alias resolves
    /// to its canonical section); `None` means the citation must be dropped.
    pub fn cite(&self, id: &str) -> Option<GuidanceRef> {
        self.corpus.resolve(id).map(|s| GuidanceRef {
            id: s.id.clone(),
            file: s.file.clone(),
            heading: s.heading.clone(),
            lang: s.lang.code().to_string(),
        })
    }

    /// The sections that apply to findings of category `c` (English, current revision
    /// first): a curated query per category, answered by retrieval.
    pub fn for_category(&self, c: Category) -> Vec<GuidanceRef> {
        let hits = self
            .search(mapping::query_for(c), 5, Some(Lang::En))
            .unwrap_or_default();
        // The same heading in both revisions is one piece of advice: cite the better one.
        let mut out: Vec<GuidanceRef> = Vec::new();
        for h in &hits {
            if out.len() == 2 {
                break;
            }
            if let Some(r) = self.cite(&h.id)
                && !out.iter().any(|o| o.heading == r.heading)
            {
                out.push(r);
            }
        }
        out
    }

    /// Fill `guidance` on every finding.
    pub fn attach(&self, findings: &mut [Finding]) {
        let mut cache: HashMap<Category, Vec<GuidanceRef>> = HashMap::new();
        for f in findings {
            f.guidance = cache
                .entry(f.category)
                .or_insert_with(|| self.for_category(f.category))
                .clone();
        }
    }
}

/// The cached index of `docs` under `root`, built there first when missing. Built in a
/// private directory and renamed into place, so concurrent commands never see half an index.
fn cached(root: &std::path::Path, docs: &[super::IndexDoc]) -> Result<SearchIndex> {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(format!(
        "{}:{}:",
        env!("CARGO_PKG_VERSION"),
        super::SCHEMA_VERSION
    ));
    for d in docs {
        h.update(format!("{d:?}\n"));
    }
    let key: String = h
        .finalize()
        .iter()
        .take(12)
        .map(|b| format!("{b:02x}"))
        .collect();
    let dir = root.join(&key);
    if let Ok(index) = SearchIndex::open_existing(&dir) {
        return Ok(index);
    }
    let io = |e: std::io::Error| super::IndexError::Io {
        path: root.to_path_buf(),
        reason: e.to_string(),
    };
    std::fs::create_dir_all(root).map_err(io)?;
    let tmp = root.join(format!(
        ".build-{}-{}",
        std::process::id(),
        jiff::Timestamp::now().as_nanosecond()
    ));
    {
        let (mut index, _) = SearchIndex::open(&tmp)?;
        index.update("guidance", docs)?;
    }
    if std::fs::rename(&tmp, &dir).is_err() {
        if SearchIndex::open_existing(&dir).is_ok() {
            // Another command got there first: use its index.
            let _ = std::fs::remove_dir_all(&tmp);
        } else {
            // A damaged entry (a crash, a full disk): replace it.
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::rename(&tmp, &dir).map_err(io)?;
        }
    }
    // Old keys (another version, another corpus) are left for a while: a second Sextant
    // binary may still use them; they are a few MB each.
    SearchIndex::open_existing(&dir)
}
