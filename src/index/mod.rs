//! The retrieval index: guidance sections, events, log windows and findings in one tantivy
//! index, searchable together or apart.
//!
//! - **Languages.** Each document's text goes into the field of its language: English and
//!   German with stop words and Snowball stemming, Chinese segmented by jieba. A query is
//!   analysed the same way in the language it is written in, so a German question meets the
//!   German sections and a Chinese one the Chinese sections; English falls back for the rest.
//! - **Queries are built, not parsed**: user text never meets tantivy's query syntax, so
//!   `CI/CD`, quotes or a stray colon cannot make a query fail.
//! - **Incremental.** Every document carries a content hash; a manifest beside the index maps
//!   id → (source, hash). Re-indexing the same snapshot writes nothing; a changed one replaces
//!   exactly the documents that changed and deletes those that went away.
//! - **Safe to share.** tantivy's writer lock keeps a second writer out (a clear error, not a
//!   panic); readers open at any time. A missing index is created; a corrupt one or one from
//!   another schema version is rebuilt, with a message saying so.
//!
//! Everything indexed from the cluster has been redacted first (see [`docs`]).

pub mod docs;
pub mod guidance;
mod query;
mod schema;
mod stem;

pub use query::best_passage;
use schema::*;
pub use schema::{analyzer, terms};

use crate::guidance::Revision;
use crate::lang::{self, Lang};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, RangeQuery, TermQuery};
use tantivy::schema::{
    DateOptions, Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
    Value,
};
use tantivy::tokenizer::{
    Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, StopWordFilter, TextAnalyzer,
    TokenStream,
};
use tantivy::{DateTime, Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};
use thiserror::Error;

/// Bumped whenever fields or analyzers change: an index of another version is rebuilt.
/// 2: text and title stored in their language's analysed fields, not twice.
/// 3: source, file, object and revision stored only (no query looks them up).
pub const SCHEMA_VERSION: u32 = 3;
const MANIFEST: &str = "sextant-manifest.json";
const WRITER_MEMORY: usize = 64 * 1024 * 1024;

/// The file an `index build` holds locked for its whole run.
const BUILD_LOCK: &str = ".sextant-build.lock";

/// Held while an index is being built; the lock goes with it.
pub struct BuildLock {
    _file: std::fs::File,
}

#[derive(Debug, Error)]
pub enum IndexError {
    #[error(
        "--index-dir {0}: another sextant process is writing this index; wait for it or use another --index-dir"
    )]
    Busy(PathBuf),
    #[error("--index-dir {path}: {reason}")]
    Io { path: PathBuf, reason: String },
    #[error("index: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
}

pub type Result<T> = std::result::Result<T, IndexError>;

/// What a document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DocKind {
    Guidance,
    Event,
    Log,
    Finding,
}

impl DocKind {
    pub const ALL: [DocKind; 4] = [
        DocKind::Guidance,
        DocKind::Event,
        DocKind::Log,
        DocKind::Finding,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DocKind::Guidance => "guidance",
            DocKind::Event => "event",
            DocKind::Log => "log",
            DocKind::Finding => "finding",
        }
    }
}

impl std::str::FromStr for DocKind {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        DocKind::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| format!("unknown kind '{s}' (expected guidance, event, log or finding)"))
    }
}

/// One document to index. Text from the cluster must already be redacted.
#[derive(Debug, Clone, Default)]
pub struct IndexDoc {
    /// Unique across the index (kinds and sources are part of it).
    pub id: String,
    pub kind: Option<DocKind>,
    pub lang: Option<Lang>,
    /// What produced it: `guidance`, `snapshot:<path>`, `context:<name>`; re-indexing a
    /// source removes its documents that no longer exist.
    pub source: String,
    /// Heading (guidance), or a one-line title.
    pub title: String,
    pub text: String,
    /// Guidance file, or the evidence reference (`events/ns/Kind/name`, `logs/ns/pod/c`).
    pub file: String,
    pub namespace: Option<String>,
    /// `Kind/ns/name`.
    pub object: Option<String>,
    pub time: Option<jiff::Timestamp>,
    pub revision: Option<Revision>,
    /// Line range, e.g. `157-161`.
    pub lines: String,
}

impl IndexDoc {
    fn hash(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for part in [
            self.id.as_str(),
            self.kind.map_or("", DocKind::as_str),
            self.lang.map_or("", Lang::code),
            &self.title,
            &self.text,
            &self.file,
            self.namespace.as_deref().unwrap_or(""),
            self.object.as_deref().unwrap_or(""),
            &self.time.map(|t| t.to_string()).unwrap_or_default(),
            match self.revision {
                Some(Revision::Current) => "current",
                Some(Revision::Earlier) => "earlier",
                None => "",
            },
            &self.lines,
        ] {
            h.update(part.as_bytes());
            h.update([0]);
        }
        format!("{:x}", h.finalize())[..24].to_string()
    }
}

/// One search result.
#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    pub id: String,
    pub kind: DocKind,
    pub file: String,
    pub heading: String,
    pub lang: String,
    pub score: f32,
    /// The passage that answers (guidance: the best paragraphs of the section).
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub lines: String,
}

/// A search request.
#[derive(Debug, Clone)]
pub struct SearchQuery<'a> {
    pub text: &'a str,
    /// Empty: all kinds.
    pub kinds: Vec<DocKind>,
    pub namespace: Option<&'a str>,
    pub since: Option<jiff::Timestamp>,
    pub limit: usize,
    /// Force the query language; `None` detects it.
    pub lang: Option<Lang>,
}

impl<'a> SearchQuery<'a> {
    pub fn new(text: &'a str) -> Self {
        SearchQuery {
            text,
            kinds: Vec::new(),
            namespace: None,
            since: None,
            limit: 10,
            lang: None,
        }
    }
}

/// What `index build` did.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct UpdateStats {
    pub added: usize,
    pub updated: usize,
    pub removed: usize,
    pub unchanged: usize,
}

impl UpdateStats {
    pub fn changed(&self) -> bool {
        self.added + self.updated + self.removed > 0
    }
}

/// What `index stats` says.
#[derive(Debug, Clone, Serialize)]
pub struct Stats {
    pub dir: Option<String>,
    pub schema_version: u32,
    pub documents: usize,
    pub by_kind: BTreeMap<String, usize>,
    pub by_lang: BTreeMap<String, usize>,
    pub sources: BTreeMap<String, usize>,
    pub segments: usize,
    pub bytes_on_disk: u64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Manifest {
    schema: u32,
    /// id → (source, hash). foldhash, seeded per process: SipHash on the ids of a
    /// million-line build was a percent of it.
    docs: HashMap<String, (String, String), foldhash::fast::RandomState>,
    /// source → the moment its state was observed (seconds): `--since 2h` counts back from
    /// the newest, so a snapshot from last week can still be searched by relative time.
    #[serde(default)]
    observed: HashMap<String, i64>,
}

/// A tantivy index plus its manifest.
pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    f: Fields,
    dir: Option<PathBuf>,
    manifest: Manifest,
    /// Told of every document taken (1, its text's bytes): a front end's progress line.
    progress: Option<Box<dyn Fn(u64, u64) + Send + Sync>>,
}

impl SearchIndex {
    /// Call `f(1, bytes)` for every document an update takes.
    pub fn on_progress(&mut self, f: impl Fn(u64, u64) + Send + Sync + 'static) {
        self.progress = Some(Box::new(f));
    }

    /// An index in memory (guidance search, tests).
    pub fn in_memory() -> Result<SearchIndex> {
        let (schema, f) = schema();
        let index = Index::create_in_ram(schema);
        SearchIndex::wrap(index, f, None, Manifest::default())
    }

    fn wrap(
        index: Index,
        f: Fields,
        dir: Option<PathBuf>,
        mut manifest: Manifest,
    ) -> Result<SearchIndex> {
        register(&index);
        manifest.schema = SCHEMA_VERSION;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(SearchIndex {
            index,
            reader,
            f,
            dir,
            manifest,
            progress: None,
        })
    }

    /// Open a complete index of this schema in `dir` for reading, without creating or
    /// repairing anything (the guidance cache).
    pub fn open_existing(dir: &Path) -> Result<SearchIndex> {
        let bad = |reason: &str| IndexError::Io {
            path: dir.to_path_buf(),
            reason: reason.to_string(),
        };
        let manifest: Manifest = std::fs::read(dir.join(MANIFEST))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(|| bad("no readable manifest"))?;
        if manifest.schema != SCHEMA_VERSION {
            return Err(bad("another schema version"));
        }
        let (schema, f) = schema();
        let index = Index::open_in_dir(dir)?;
        if index.schema() != schema {
            return Err(bad("another schema"));
        }
        SearchIndex::wrap(index, f, Some(dir.to_path_buf()), manifest)
    }

    /// Take the exclusive build lock of the index in `dir` before anything of the index is
    /// created or read for writing: a second `index build` on the same directory reports
    /// busy at once instead of adding every document again. An OS lock (released by the
    /// kernel when the process dies, so a killed build leaves nothing stale).
    pub fn lock_for_build(dir: &Path) -> Result<BuildLock> {
        let io = |e: std::io::Error| IndexError::Io {
            path: dir.to_path_buf(),
            reason: e.to_string(),
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join(BUILD_LOCK))
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => Ok(BuildLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(IndexError::Busy(dir.to_path_buf())),
            Err(std::fs::TryLockError::Error(e)) => Err(io(e)),
        }
    }

    /// Open the index in `dir`, creating it when missing. A corrupt index, or one from
    /// another schema version, is rebuilt empty: the returned message says so.
    pub fn open(dir: &Path) -> Result<(SearchIndex, Option<String>)> {
        let io = |e: std::io::Error| IndexError::Io {
            path: dir.to_path_buf(),
            reason: e.to_string(),
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let manifest_path = dir.join(MANIFEST);
        let manifest: Option<Manifest> = std::fs::read(&manifest_path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok());
        let has_meta = dir.join("meta.json").exists();
        let (schema, f) = schema();
        let mut note = None;
        match (&manifest, has_meta) {
            (Some(m), true) if m.schema == SCHEMA_VERSION => match Index::open_in_dir(dir) {
                Ok(index) if index.schema() == schema => {
                    let m = manifest.unwrap_or_default();
                    return SearchIndex::wrap(index, f, Some(dir.to_path_buf()), m)
                        .map(|i| (i, None));
                }
                Ok(_) => note = Some("its schema differs from this version's".to_string()),
                Err(e) => note = Some(format!("it could not be opened ({e})")),
            },
            (Some(_), true) => note = Some("it was built by another version of sextant".into()),
            (None, true) => note = Some("its manifest is missing or unreadable".into()),
            _ => {}
        }
        if note.is_some() {
            // Only remove what an index consists of; never a whole user directory.
            for entry in std::fs::read_dir(dir).map_err(io)?.flatten() {
                let p = entry.path();
                let name = entry.file_name().to_string_lossy().to_string();
                let ours = name == "meta.json"
                    || name == MANIFEST
                    || name == ".managed.json"
                    || name.starts_with(".tantivy")
                    || [
                        ".idx",
                        ".pos",
                        ".term",
                        ".store",
                        ".fast",
                        ".fieldnorm",
                        ".del",
                    ]
                    .iter()
                    .any(|ext| name.ends_with(ext));
                if ours && p.is_file() {
                    let _ = std::fs::remove_file(p);
                }
            }
        }
        let index = Index::create_in_dir(dir, schema)?;
        let msg = note.map(|why| format!("index at {} was rebuilt: {why}", dir.display()));
        SearchIndex::wrap(index, f, Some(dir.to_path_buf()), Manifest::default()).map(|i| (i, msg))
    }

    /// The index's writer. The lock of a writer dropped a moment ago can still be held while
    /// its background merge winds down, so a busy lock is retried for up to 5 s before it is
    /// reported as another process's.
    fn writer(&self) -> Result<IndexWriter> {
        let mut waited = std::time::Duration::ZERO;
        let step = std::time::Duration::from_millis(100);
        loop {
            match self.index.writer(WRITER_MEMORY) {
                Ok(w) => return Ok(w),
                Err(tantivy::TantivyError::LockFailure(..))
                    if waited < std::time::Duration::from_secs(5) =>
                {
                    std::thread::sleep(step);
                    waited += step;
                }
                Err(tantivy::TantivyError::LockFailure(..)) => {
                    return Err(IndexError::Busy(
                        self.dir
                            .clone()
                            .unwrap_or_else(|| PathBuf::from("(memory)")),
                    ));
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    fn to_document(&self, d: &IndexDoc) -> TantivyDocument {
        let f = &self.f;
        let mut doc = TantivyDocument::default();
        doc.add_text(f.id, &d.id);
        if let Some(k) = d.kind {
            doc.add_text(f.kind, k.as_str());
        }
        let l = d.lang.unwrap_or(Lang::En);
        doc.add_text(f.lang, l.code());
        doc.add_text(f.source, &d.source);
        doc.add_text(f.file, &d.file);
        if let Some(ns) = &d.namespace {
            doc.add_text(f.namespace, ns);
        }
        if let Some(o) = &d.object {
            doc.add_text(f.object, o);
        }
        if let Some(t) = d.time {
            doc.add_date(f.time, to_date(t));
        }
        if let Some(r) = d.revision {
            doc.add_text(
                f.revision,
                match r {
                    Revision::Current => "current",
                    Revision::Earlier => "earlier",
                },
            );
        }
        doc.add_text(f.lines, &d.lines);
        doc.add_text(f.body[lang_slot(l)], &d.text);
        doc.add_text(f.head[lang_slot(l)], &d.title);
        doc
    }

    /// Bring the documents of `source` in line with `docs`: add new ones, replace changed ones,
    /// delete the ones that are gone. Writes nothing when nothing changed.
    pub fn update(&mut self, source: &str, docs: &[IndexDoc]) -> Result<UpdateStats> {
        self.update_observed(source, docs, None)
    }

    /// [`update`](Self::update), recording when the source's state was observed.
    pub fn update_observed(
        &mut self,
        source: &str,
        docs: &[IndexDoc],
        observed: Option<jiff::Timestamp>,
    ) -> Result<UpdateStats> {
        self.update_with(source, observed, |emit| {
            for d in docs {
                emit(d);
            }
        })
    }

    /// Index a cluster state's events, log windows and findings under `source` (streamed:
    /// documents are indexed as they are made). Returns the stats and the counts of events,
    /// log windows and findings.
    pub fn update_cluster(
        &mut self,
        source: &str,
        state: &crate::state::ClusterState,
        findings: &[crate::findings::Finding],
    ) -> Result<(UpdateStats, usize, usize, usize)> {
        let fd = docs::findings(findings, source);
        let (mut ne, mut nl) = (0, 0);
        let stats = self.update_with(source, state.observed_at, |emit| {
            docs::events_each(state, source, &mut |d| {
                ne += 1;
                emit(d);
            });
            docs::logs_each(state, source, &mut |d| {
                nl += 1;
                emit(d);
            });
            for d in &fd {
                emit(d);
            }
        })?;
        Ok((stats, ne, nl, fd.len()))
    }

    /// The streaming form of [`update_observed`](Self::update_observed): `produce` hands each
    /// document to `emit` as it is made, and a changed one goes straight to tantivy's indexing
    /// threads. Producing (reading, redacting, windowing) overlaps indexing, and a million log
    /// lines never sit in memory as one batch.
    pub fn update_with(
        &mut self,
        source: &str,
        observed: Option<jiff::Timestamp>,
        produce: impl FnOnce(&mut dyn FnMut(&IndexDoc)),
    ) -> Result<UpdateStats> {
        let mut stats = UpdateStats::default();
        let observed_changed = match observed {
            Some(t) => {
                self.manifest
                    .observed
                    .insert(source.to_string(), t.as_second())
                    != Some(t.as_second())
            }
            None => false,
        };
        let mut present: HashSet<String, foldhash::fast::RandomState> = HashSet::default();
        let mut writer: Option<IndexWriter> = None;
        let mut failed: Option<IndexError> = None;
        // Manifest entries replaced so far, to put back if the update fails half-way.
        let mut undo: Vec<(String, Option<(String, String)>)> = Vec::new();
        {
            let this = &mut *self;
            let mut emit = |d: &IndexDoc| {
                if failed.is_some() || !present.insert(d.id.clone()) {
                    return; // after an error, or the same id twice in one batch: first wins
                }
                if let Some(p) = &this.progress {
                    p(1, (d.text.len() + d.title.len()) as u64);
                }
                let h = d.hash();
                let replace = match this.manifest.docs.get(&d.id) {
                    Some((_, old)) if *old == h => {
                        stats.unchanged += 1;
                        return;
                    }
                    Some(_) => true,
                    None => false,
                };
                if writer.is_none() {
                    match this.writer() {
                        Ok(w) => writer = Some(w),
                        Err(e) => {
                            failed = Some(e);
                            return;
                        }
                    }
                }
                let Some(w) = writer.as_mut() else { return };
                if replace {
                    w.delete_term(Term::from_field_text(this.f.id, &d.id));
                    stats.updated += 1;
                } else {
                    stats.added += 1;
                }
                if let Err(e) = w.add_document(this.to_document(d)) {
                    failed = Some(e.into());
                    return;
                }
                let old = this
                    .manifest
                    .docs
                    .insert(d.id.clone(), (source.to_string(), h));
                undo.push((d.id.clone(), old));
            };
            produce(&mut emit);
        }
        if let Some(e) = failed {
            // Dropping the writer without a commit discards what was added; the manifest is
            // put back so it matches the index again.
            drop(writer);
            for (id, old) in undo.into_iter().rev() {
                match old {
                    Some(v) => self.manifest.docs.insert(id, v),
                    None => self.manifest.docs.remove(&id),
                };
            }
            return Err(e);
        }
        let gone: Vec<String> = self
            .manifest
            .docs
            .iter()
            .filter(|(id, (src, _))| src == source && !present.contains(*id))
            .map(|(id, _)| id.clone())
            .collect();
        if writer.is_none() && gone.is_empty() {
            if observed_changed {
                self.save_manifest()?;
            }
            return Ok(stats);
        }
        let mut w = match writer {
            Some(w) => w,
            None => self.writer()?,
        };
        for id in &gone {
            w.delete_term(Term::from_field_text(self.f.id, id));
            self.manifest.docs.remove(id);
            stats.removed += 1;
        }
        w.commit()?;
        drop(w);
        self.reader.reload()?;
        self.save_manifest()?;
        Ok(stats)
    }

    fn save_manifest(&self) -> Result<()> {
        let Some(dir) = &self.dir else { return Ok(()) };
        let io = |e: std::io::Error| IndexError::Io {
            path: dir.clone(),
            reason: e.to_string(),
        };
        let tmp = dir.join(format!("{MANIFEST}.tmp"));
        let bytes = serde_json::to_vec(&self.manifest).map_err(|e| IndexError::Io {
            path: dir.clone(),
            reason: e.to_string(),
        })?;
        std::fs::write(&tmp, bytes).map_err(io)?;
        std::fs::rename(&tmp, dir.join(MANIFEST)).map_err(io)
    }

    /// Counts by kind, language and source, and the size on disk.
    pub fn stats(&self) -> Result<Stats> {
        let searcher = self.reader.searcher();
        let count = |field: Field, value: &str| -> Result<usize> {
            Ok(searcher.search(
                &TermQuery::new(
                    Term::from_field_text(field, value),
                    IndexRecordOption::Basic,
                ),
                &Count,
            )?)
        };
        let mut by_kind = BTreeMap::new();
        for k in DocKind::ALL {
            by_kind.insert(k.as_str().to_string(), count(self.f.kind, k.as_str())?);
        }
        let mut by_lang = BTreeMap::new();
        for l in Lang::ALL {
            by_lang.insert(l.code().to_string(), count(self.f.lang, l.code())?);
        }
        let mut sources = BTreeMap::new();
        for (src, _) in self.manifest.docs.values() {
            *sources.entry(src.clone()).or_default() += 1;
        }
        let bytes_on_disk = self
            .dir
            .as_ref()
            .and_then(|d| std::fs::read_dir(d).ok())
            .map(|rd| {
                rd.flatten()
                    .filter_map(|e| e.metadata().ok())
                    .filter(|m| m.is_file())
                    .map(|m| m.len())
                    .sum()
            })
            .unwrap_or(0);
        Ok(Stats {
            dir: self.dir.as_ref().map(|d| d.display().to_string()),
            schema_version: SCHEMA_VERSION,
            documents: searcher.num_docs() as usize,
            by_kind,
            by_lang,
            sources,
            segments: searcher.segment_readers().len(),
            bytes_on_disk,
        })
    }

    /// The newest observation time of any indexed source ("now" for relative `--since`).
    pub fn newest_observed(&self) -> Option<jiff::Timestamp> {
        self.manifest
            .observed
            .values()
            .max()
            .and_then(|&s| jiff::Timestamp::from_second(s).ok())
    }

    /// Whether the index holds no document at all.
    pub fn is_empty(&self) -> bool {
        self.manifest.docs.is_empty()
    }

    /// Whether a document id is in the index (citations are checked against this).
    pub fn contains(&self, id: &str) -> bool {
        self.manifest.docs.contains_key(id)
    }
}
