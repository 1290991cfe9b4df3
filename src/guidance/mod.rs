//! The guidance corpus: the CNCF Cloud Native Maturity Model documents, parsed into citable
//! sections.
//!
//! The Level 4 documents ship in `index/maturity-model/` and are embedded in the binary, so a
//! fresh install needs no files; `--guidance DIR` adds (or, with `replace`, replaces) corpora.
//! Parsing handles what the published files actually contain: Hugo front matter, `##` headings
//! with `<i class="..."></i>` icon markup, bold-only headings (`### **Cost**`), a plain-text
//! rendering whose headings are bare lines, mixed-language files, and repeated paragraphs.
//! Near-duplicate sections across files (the earlier revision as markdown and as text, the
//! untranslated English half of the Chinese file) collapse into one canonical section that
//! keeps the others as aliases, so search shows a passage once and a citation to any copy
//! resolves.

mod parse;

pub mod mapping;

use crate::lang::Lang;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

pub use parse::{parse_markdown, parse_text};

/// Which revision of the model a file carries; the current one is preferred when two say
/// the same thing or answer the same question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Revision {
    Current,
    Earlier,
}

/// One citable section.
#[derive(Debug, Clone, Serialize)]
pub struct Section {
    /// Stable id: `<file stem>/<heading path slug>`, e.g. `level-4.en/technology/security-and-policy`.
    pub id: String,
    /// File name within its corpus, e.g. `level-4.en.md`.
    pub file: String,
    /// Language of the section text (a mixed file has sections in several).
    pub lang: Lang,
    /// Maturity level the document describes.
    pub level: u8,
    /// Heading path joined with " > ", e.g. "Technology > Security and Policy".
    pub heading: String,
    /// Plain text: markup stripped, repeated paragraphs dropped, paragraphs separated by a
    /// blank line.
    pub text: String,
    /// 1-based line range in the file (heading line to last line of the section).
    pub lines: (usize, usize),
    pub revision: Revision,
    /// Ids of near-duplicate sections collapsed into this one.
    pub aliases: Vec<String>,
}

impl Section {
    /// The paragraphs of the section.
    pub fn paragraphs(&self) -> impl Iterator<Item = &str> {
        self.text.split("\n\n").filter(|p| !p.trim().is_empty())
    }
}

/// One input document before parsing.
pub struct Document {
    pub file: String,
    pub content: String,
    /// Known revision; `None` infers it from the name (`.v1.` is earlier).
    pub revision: Option<Revision>,
}

/// The Level 4 documents shipped with Sextant (see `index/maturity-model/PROVENANCE.md`).
pub const EMBEDDED: &[(&str, &str)] = &[
    (
        "level-4.en.md",
        include_str!("../../index/maturity-model/level-4.en.md"),
    ),
    (
        "level-4.en.v1.md",
        include_str!("../../index/maturity-model/level-4.en.v1.md"),
    ),
    (
        "level-4.en.v1.txt",
        include_str!("../../index/maturity-model/level-4.en.v1.txt"),
    ),
    (
        "level-4.de.md",
        include_str!("../../index/maturity-model/level-4.de.md"),
    ),
    (
        "level-4.zh.md",
        include_str!("../../index/maturity-model/level-4.zh.md"),
    ),
];

/// Embedded files that carry the earlier revision although their names do not say so
/// (PROVENANCE.md: the German and Chinese pages translate the earlier revision).
const EMBEDDED_EARLIER: &[&str] = &["level-4.de.md", "level-4.zh.md"];

fn embedded_documents() -> Vec<Document> {
    EMBEDDED
        .iter()
        .map(|(f, c)| Document {
            file: (*f).to_string(),
            content: (*c).to_string(),
            revision: EMBEDDED_EARLIER.contains(f).then_some(Revision::Earlier),
        })
        .collect()
}

/// Attribution shown by `sextant guidance` and required by the CC BY 4.0 licence.
pub const ATTRIBUTION: &str = "CNCF Cloud Native Maturity Model (cncf/cartografos), CC BY 4.0";

/// The whole corpus: canonical sections, and aliases resolving to them.
#[derive(Debug, Clone, Default)]
pub struct Corpus {
    sections: Vec<Section>,
    by_id: HashMap<String, usize>,
    /// Every section as parsed, before collapsing (for tests and `index stats`).
    pub parsed: usize,
}

impl Corpus {
    /// The embedded Level 4 documents.
    pub fn embedded() -> Corpus {
        Corpus::from_documents(embedded_documents())
    }

    /// The embedded documents plus (or, with `replace`, instead of) every `*.md`/`*.txt`
    /// in `dirs`.
    pub fn load(dirs: &[std::path::PathBuf], replace: bool) -> crate::Result<Corpus> {
        let mut docs: Vec<Document> = if replace {
            Vec::new()
        } else {
            embedded_documents()
        };
        for dir in dirs {
            docs.extend(read_dir(dir)?);
        }
        if docs.is_empty() {
            return Err(crate::Error::Usage(
                "--guidance: no .md or .txt documents found".into(),
            ));
        }
        Ok(Corpus::from_documents(docs))
    }

    pub fn from_documents(docs: Vec<Document>) -> Corpus {
        // Markdown first: its top-level headings tell the plain-text parser which bare lines
        // open a part rather than a subsection.
        let mut sections = Vec::new();
        let mut top_level = HashSet::new();
        let (md, txt): (Vec<&Document>, Vec<&Document>) =
            docs.iter().partition(|d| !d.file.ends_with(".txt"));
        for d in md {
            let mut s = parse_markdown(&d.file, &d.content);
            for sec in &mut s {
                if let Some(r) = d.revision {
                    sec.revision = r;
                }
                if let Some(first) = sec.heading.split(" > ").next() {
                    top_level.insert(first.to_string());
                }
            }
            sections.extend(s);
        }
        for d in txt {
            let mut s = parse_text(&d.file, &d.content, &top_level);
            if let Some(r) = d.revision {
                s.iter_mut().for_each(|sec| sec.revision = r);
            }
            sections.extend(s);
        }
        let parsed = sections.len();
        let sections = collapse_near_duplicates(sections);
        let mut by_id = HashMap::new();
        for (i, s) in sections.iter().enumerate() {
            by_id.insert(s.id.clone(), i);
            for a in &s.aliases {
                by_id.entry(a.clone()).or_insert(i);
            }
        }
        Corpus {
            sections,
            by_id,
            parsed,
        }
    }

    /// Canonical sections, in document order.
    pub fn sections(&self) -> &[Section] {
        &self.sections
    }

    /// The canonical section for an id or alias; `None` when it does not exist (such a
    /// citation is dropped, never shown).
    pub fn resolve(&self, id: &str) -> Option<&Section> {
        self.by_id.get(id).map(|&i| &self.sections[i])
    }

    /// Section count per file (canonical sections only), for `index stats`.
    pub fn per_file(&self) -> BTreeMap<String, usize> {
        let mut m = BTreeMap::new();
        for s in &self.sections {
            *m.entry(s.file.clone()).or_default() += 1;
        }
        m
    }
}

fn read_dir(dir: &Path) -> crate::Result<Vec<Document>> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| crate::Error::Usage(format!("--guidance {}: {e}", dir.display())))?;
    let mut docs = Vec::new();
    let mut paths: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    for p in paths {
        let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("");
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if !matches!(ext, "md" | "txt") || name.eq_ignore_ascii_case("PROVENANCE.md") {
            continue;
        }
        let content = std::fs::read_to_string(&p)
            .map_err(|e| crate::Error::Usage(format!("--guidance {}: {e}", p.display())))?;
        docs.push(Document {
            file: name.to_string(),
            content,
            revision: None,
        });
    }
    Ok(docs)
}

/// Text reduced to lowercase alphanumerics and single spaces: what two copies of a passage
/// share whatever their markup.
pub fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = true;
    for c in text.chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
            space = false;
        } else if !space {
            out.push(' ');
            space = true;
        }
    }
    out.trim_end().to_string()
}

/// Word 4-gram shingles (character bigrams for Chinese), hashed.
fn shingles(text: &str, lang: Lang) -> HashSet<u64> {
    use std::hash::{Hash, Hasher};
    let n = normalise(text);
    let mut out = HashSet::new();
    let mut push = |parts: &[&str]| {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        parts.hash(&mut h);
        out.insert(h.finish());
    };
    if lang == Lang::Zh {
        let chars: Vec<String> = n
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(String::from)
            .collect();
        let refs: Vec<&str> = chars.iter().map(String::as_str).collect();
        for w in refs.windows(2) {
            push(w);
        }
    } else {
        let words: Vec<&str> = n.split(' ').collect();
        if words.len() < 4 {
            push(&words);
        }
        for w in words.windows(4) {
            push(w);
        }
    }
    out
}

fn jaccard(a: &HashSet<u64>, b: &HashSet<u64>) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let inter = a.intersection(b).count() as f64;
    inter / ((a.len() + b.len()) as f64 - inter)
}

/// Similarity above which two sections are the same passage.
const NEAR_DUPLICATE: f64 = 0.6;

/// Preference among copies: current revision, markdown over plain text, a section in its
/// file's own language over an untranslated one, then document order.
fn preference(s: &Section) -> (Revision, bool, bool) {
    let file_lang = file_lang(&s.file);
    (
        s.revision,
        s.file.ends_with(".txt"),
        file_lang != Some(s.lang),
    )
}

/// `level-4.de.md` → `de`.
pub fn file_lang(file: &str) -> Option<Lang> {
    file.split('.').skip(1).find_map(Lang::from_code)
}

fn collapse_near_duplicates(sections: Vec<Section>) -> Vec<Section> {
    let sh: Vec<HashSet<u64>> = sections.iter().map(|s| shingles(&s.text, s.lang)).collect();
    // Union-find over near-duplicate pairs of the same language.
    let mut parent: Vec<usize> = (0..sections.len()).collect();
    fn root(p: &mut [usize], mut i: usize) -> usize {
        while p[i] != i {
            p[i] = p[p[i]];
            i = p[i];
        }
        i
    }
    for i in 0..sections.len() {
        for j in i + 1..sections.len() {
            if sections[i].lang == sections[j].lang
                && sections[i].file != sections[j].file
                && jaccard(&sh[i], &sh[j]) >= NEAR_DUPLICATE
            {
                let (a, b) = (root(&mut parent, i), root(&mut parent, j));
                if a != b {
                    parent[b] = a;
                }
            }
        }
    }
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in 0..sections.len() {
        let r = root(&mut parent, i);
        groups.entry(r).or_default().push(i);
    }
    let mut keep: Vec<(usize, Section)> = Vec::new();
    let mut sections: Vec<Option<Section>> = sections.into_iter().map(Some).collect();
    for (_, members) in groups {
        let best = *members
            .iter()
            .min_by_key(|&&i| {
                let s = sections[i].as_ref().map(preference);
                (s, i)
            })
            .unwrap_or(&members[0]);
        let aliases: Vec<String> = members
            .iter()
            .filter(|&&i| i != best)
            .filter_map(|&i| sections[i].as_ref().map(|s| s.id.clone()))
            .collect();
        if let Some(mut s) = sections[best].take() {
            s.aliases = aliases;
            keep.push((best, s));
        }
    }
    keep.sort_by_key(|(i, _)| *i);
    keep.into_iter().map(|(_, s)| s).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jaccard_of_identical_and_disjoint_sets() {
        let a: HashSet<u64> = [1, 2, 3].into();
        let b: HashSet<u64> = [4, 5].into();
        assert!((jaccard(&a, &a) - 1.0).abs() < 1e-9);
        assert_eq!(jaccard(&a, &b), 0.0);
        let c: HashSet<u64> = [1, 2, 4].into();
        assert!((jaccard(&a, &c) - 0.5).abs() < 1e-9);
    }

    #[test]
    fn normalise_drops_markup() {
        assert_eq!(normalise("**Cost** — the [tools](x)!"), "cost the tools x");
    }
}
