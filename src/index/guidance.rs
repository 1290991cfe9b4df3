//! Guidance search: the corpus in an in-memory index (built in milliseconds from the
//! embedded documents), citation resolution, and the guidance that applies to a finding.

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
        let mut index = SearchIndex::in_memory()?;
        index.update("guidance", &docs::guidance(&corpus))?;
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
