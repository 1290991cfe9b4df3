//! Several clusters at once: `analyze --context a,b`, `--all-contexts`, or one `--snapshot`
//! per cluster.
//!
//! Each cluster is read by its own [`Source`] on its own thread (a live source runs its own
//! runtime), at most [`DEFAULT_CONCURRENCY`] at a time so a fleet of forty contexts does not
//! open forty sets of connections at once. One unreachable or forbidden cluster is reported
//! beside the others' findings, never fatal to them.

use crate::source::{Scope, Source};
use crate::state::{ClusterState, SourceInfo};
use std::sync::Mutex;

/// How many clusters are read at the same time.
pub const DEFAULT_CONCURRENCY: usize = 4;

/// One cluster of the fleet: a display name and where its state comes from.
pub struct Member {
    pub name: String,
    pub source: Box<dyn Source>,
}

/// A cluster's state, or why it could not be read.
pub struct Loaded {
    pub name: String,
    pub info: SourceInfo,
    pub state: crate::Result<ClusterState>,
}

/// Read every member for `analyze` ([`Source::load_for_analysis`]), at most `concurrency` at a
/// time; results in the members' order.
pub fn load(members: Vec<Member>, scope: &Scope, concurrency: usize) -> Vec<Loaded> {
    let n = members.len();
    let queue = Mutex::new(members.into_iter().enumerate());
    let done: Mutex<Vec<(usize, Loaded)>> = Mutex::new(Vec::with_capacity(n));
    std::thread::scope(|s| {
        for _ in 0..concurrency.clamp(1, n.max(1)) {
            s.spawn(|| {
                loop {
                    // The lock is held only to take the next member, not while it loads.
                    let next = queue.lock().ok().and_then(|mut q| q.next());
                    let Some((i, m)) = next else { break };
                    let _span = tracing::info_span!("cluster", name = %m.name).entered();
                    let state = m.source.load_for_analysis(scope);
                    // A live source knows its context only once connected: ask after loading.
                    let loaded = Loaded {
                        info: m.source.info(),
                        name: m.name,
                        state,
                    };
                    if let Ok(mut d) = done.lock() {
                        d.push((i, loaded));
                    }
                }
            });
        }
    });
    let mut done = done.into_inner().unwrap_or_default();
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, l)| l).collect()
}

/// Display names for snapshot paths: the directory or file name, made unique by the parent
/// directory (and then an index) where two are alike.
pub fn snapshot_names(paths: &[std::path::PathBuf]) -> Vec<String> {
    let base = |p: &std::path::Path| {
        p.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| p.display().to_string())
    };
    let bases: Vec<String> = paths.iter().map(|p| base(p)).collect();
    let mut names: Vec<String> = paths
        .iter()
        .zip(&bases)
        .map(|(p, b)| {
            if bases.iter().filter(|x| *x == b).count() == 1 {
                return b.clone();
            }
            match p.parent().map(base).filter(|s| !s.is_empty()) {
                Some(parent) => format!("{parent}/{b}"),
                None => p.display().to_string(),
            }
        })
        .collect();
    let mut seen = std::collections::HashMap::<String, usize>::new();
    for name in &mut names {
        let k = seen.entry(name.clone()).or_default();
        *k += 1;
        if *k > 1 {
            *name = format!("{name}#{k}");
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::SourceKind;
    use std::path::PathBuf;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A source that counts how many loads run at the same time.
    struct Slow {
        running: Arc<AtomicUsize>,
        peak: Arc<AtomicUsize>,
        fail: bool,
    }

    impl Source for Slow {
        fn info(&self) -> SourceInfo {
            SourceInfo {
                kind: SourceKind::Snapshot,
                path_or_context: "slow".into(),
            }
        }
        fn load(&self, _: &Scope) -> crate::Result<ClusterState> {
            let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
            self.peak.fetch_max(now, Ordering::SeqCst);
            std::thread::sleep(std::time::Duration::from_millis(30));
            self.running.fetch_sub(1, Ordering::SeqCst);
            if self.fail {
                Err(crate::Error::Usage("unreachable".into()))
            } else {
                Ok(ClusterState::default())
            }
        }
    }

    #[test]
    fn bounded_ordered_and_failures_kept() {
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let members: Vec<Member> = (0..9)
            .map(|i| Member {
                name: format!("c{i}"),
                source: Box::new(Slow {
                    running: running.clone(),
                    peak: peak.clone(),
                    fail: i == 4,
                }),
            })
            .collect();
        let out = load(members, &Scope::All, 3);
        let names: Vec<&str> = out.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(
            names,
            ["c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8"]
        );
        assert!(out[4].state.is_err());
        assert_eq!(out.iter().filter(|l| l.state.is_ok()).count(), 8);
        let p = peak.load(Ordering::SeqCst);
        assert!(p <= 3, "at most 3 at a time, saw {p}");
    }

    #[test]
    fn snapshot_names_are_unique() {
        let paths: Vec<PathBuf> = ["dumps/eu/state", "dumps/us/state", "demo", "x/demo"]
            .iter()
            .map(PathBuf::from)
            .collect();
        assert_eq!(
            snapshot_names(&paths),
            ["eu/state", "us/state", "demo", "x/demo"]
        );
        let same: Vec<PathBuf> = ["a/s", "a/s"].iter().map(PathBuf::from).collect();
        assert_eq!(snapshot_names(&same), ["a/s", "a/s#2"]);
    }
}
