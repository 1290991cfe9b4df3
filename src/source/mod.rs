//! Where cluster state comes from. Every source produces the same [`ClusterState`], so the
//! analyzers, the index and the assistant never know whether they read a dump or a cluster.

pub mod evidence;
pub mod live;
mod normalize;
pub mod snapshot;

use crate::error::Result;
use crate::state::{ClusterState, SourceInfo, SourceKind};
use std::path::PathBuf;

/// Which namespaces to keep, as kubectl's `-n` / `-A`.
#[derive(Debug, Clone, Default)]
pub enum Scope {
    #[default]
    All,
    Namespace(String),
}

/// A source of cluster state.
/// `Send`: the REPL reads a source on a thread of its own so Ctrl-C can leave it behind.
pub trait Source: Send {
    /// What to print as the source (`snapshot PATH`, `context NAME`).
    fn info(&self) -> SourceInfo;
    /// Read the state, scoped.
    fn load(&self, scope: &Scope) -> Result<ClusterState>;
    /// Read the state for `policy check`: a source that can keeps pods and controllers as
    /// JSON text ([`ClusterState::keeping_workloads_as_json`]), which is all a policy reads of
    /// them. By default, the typed state.
    fn load_for_policy_check(&self, scope: &Scope) -> Result<ClusterState> {
        self.load(scope)
    }
    /// Read the state for `analyze`: a source that can keeps only what the analyzers read
    /// ([`crate::state::Keep::ForAnalysis`]). By default, the whole typed state.
    fn load_for_analysis(&self, scope: &Scope) -> Result<ClusterState> {
        self.load(scope)
    }
}

/// A dump on disk (`--snapshot PATH`). Never touches a cluster.
pub struct SnapshotSource {
    pub path: PathBuf,
}

impl Source for SnapshotSource {
    fn info(&self) -> SourceInfo {
        SourceInfo {
            kind: SourceKind::Snapshot,
            path_or_context: self.path.display().to_string(),
        }
    }

    fn load(&self, scope: &Scope) -> Result<ClusterState> {
        scoped(snapshot::load(&self.path)?, scope)
    }

    fn load_for_policy_check(&self, scope: &Scope) -> Result<ClusterState> {
        scoped(snapshot::load_workloads_as_json(&self.path)?, scope)
    }

    fn load_for_analysis(&self, scope: &Scope) -> Result<ClusterState> {
        scoped(snapshot::load_for_analysis(&self.path)?, scope)
    }
}

/// A snapshot's state kept to `scope`.
fn scoped(mut state: ClusterState, scope: &Scope) -> Result<ClusterState> {
    if let Scope::Namespace(ns) = scope {
        check_namespace(&state, ns)?;
        let ns = ns.clone();
        state.retain_namespaces(&move |n| n == ns);
    }
    Ok(state)
}

/// A `-n` that names no namespace of the state is a usage error, never an empty all-clear:
/// "no namespace `Shop` in the snapshot (did you mean `shop`?)".
pub fn check_namespace(state: &ClusterState, ns: &str) -> Result<()> {
    check_namespace_in(state, ns, "in the snapshot")
}

/// [`check_namespace`], saying where the namespace was looked for (`on the server`).
pub fn check_namespace_in(state: &ClusterState, ns: &str, place: &str) -> Result<()> {
    let names = state.namespace_names();
    // Objects of any kind in it count (events, config maps): the namespace exists.
    if names.contains(ns)
        || state
            .events
            .iter()
            .any(|e| e.metadata.namespace.as_deref() == Some(ns))
        || state
            .config_maps
            .iter()
            .any(|c| c.metadata.namespace.as_deref() == Some(ns))
    {
        return Ok(());
    }
    let lower = ns.to_ascii_lowercase();
    let guess = names
        .iter()
        .find(|n| n.to_ascii_lowercase() == lower)
        .cloned()
        .or_else(|| {
            let mut best: Vec<(usize, &String)> = names
                .iter()
                .map(|n| (strsim::damerau_levenshtein(&lower, n), n))
                .filter(|(d, _)| *d <= 2)
                .collect();
            best.sort();
            best.first().map(|(_, n)| (*n).clone())
        });
    Err(crate::Error::Usage(match guess {
        Some(g) => format!("-n {ns}: no namespace `{ns}` {place} (did you mean `{g}`?)"),
        None => format!(
            "-n {ns}: no namespace `{ns}` {place} (it has: {})",
            names
                .iter()
                .take(12)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }))
}

/// A source whose states are judged with the user's settings (the recent window): every
/// front end reads through one, so a setting resolved once applies everywhere.
pub struct Judged {
    pub inner: Box<dyn Source>,
    pub recent_minutes: Option<i64>,
}

impl Source for Judged {
    fn info(&self) -> SourceInfo {
        self.inner.info()
    }

    fn load(&self, scope: &Scope) -> Result<ClusterState> {
        self.inner.load(scope).map(|s| self.judging(s))
    }

    fn load_for_policy_check(&self, scope: &Scope) -> Result<ClusterState> {
        self.inner
            .load_for_policy_check(scope)
            .map(|s| self.judging(s))
    }

    fn load_for_analysis(&self, scope: &Scope) -> Result<ClusterState> {
        self.inner.load_for_analysis(scope).map(|s| self.judging(s))
    }
}

impl Judged {
    /// `state`, judged by this source's window of "recent".
    fn judging(&self, mut state: ClusterState) -> ClusterState {
        state.recent_minutes = self.recent_minutes;
        state
    }
}
