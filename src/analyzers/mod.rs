//! Analyzers: cluster state in, ranked findings out.
//!
//! Each analyzer module looks at one family of objects and emits [`Draft`]s. This module turns
//! drafts into findings: pods of one controller that fail the same way become one finding with
//! every pod listed, ids are derived from (category, owner-or-object), and the list is ranked
//! critical first, then by blast radius.

mod conditions;
mod evidence;
mod history;
mod netpol;
mod network;
mod nodes;
mod owners;
mod pod_start;
mod pods;
mod probes;
mod references;
mod related;
mod scaling;
mod security;
pub mod trends;

pub use security::BASELINE_CAPS;
pub use text::{UNKNOWN_EXIT, closest, log_diagnosis};
pub(crate) use workloads::quantity;
mod selector;
mod storage;
mod text;
mod workload;
mod workloads;

use owners::Owners;

use crate::findings::{Category, Evidence, Finding, ObjectRef, OwnerRef, Severity};
use crate::state::ClusterState;
use std::collections::{BTreeMap, HashMap};

/// Longest evidence list on one finding: enough to decide, short enough to read.
const MAX_EVIDENCE: usize = 12;
/// Hex digits in a finding id.
const ID_HEX: usize = 8;

/// What analyzers share: the state, owner resolution, and the clock to judge "recent" by.
pub struct Context<'a> {
    pub state: &'a ClusterState,
    pub owners: Owners,
    /// The snapshot's own "now" (its newest timestamp) or the wall clock.
    pub now: jiff::Timestamp,
    /// ReplicaSets by (namespace, owning Deployment): the rollout analyzer asks per
    /// Deployment, and a scan per question is quadratic on big clusters.
    pub replica_sets_of: HashMap<(String, String), Vec<usize>>,
    /// Events about ReplicaSets, by namespace (for ReplicaSets missing from the dump).
    pub rs_events_in: HashMap<String, Vec<usize>>,
    /// Failures within this long before `now` are current; older ones are history.
    pub recent_secs: i64,
    /// Node restarts seen in container statuses, and the containers they explain.
    pub node_restarts: Vec<history::NodeRestart>,
    pub restarted_with_node: std::collections::HashSet<(String, String, String)>,
    /// Every workload (controllers, uncontrolled pods, pods whose controller is not in the
    /// capture), built once: hygiene, Service, policy and reference checks all walk it.
    pub workloads: Vec<workload::Workload<'a>>,
    /// Pods by namespace, so per-workload questions do not scan every pod of the cluster.
    pub pods_in: HashMap<&'a str, Vec<&'a k8s_openapi::api::core::v1::Pod>>,
}

/// How analyzers judge time; the defaults are Kubernetes' own habits.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Failures within this many minutes before the capture's moment are current.
    pub recent_minutes: i64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            recent_minutes: history::DEFAULT_RECENT_MINUTES,
        }
    }
}

impl<'a> Context<'a> {
    pub fn new(state: &'a ClusterState) -> Self {
        let mut options = Options::default();
        if let Some(m) = state.recent_minutes {
            options.recent_minutes = m;
        }
        Self::with_options(state, options)
    }

    pub fn with_options(state: &'a ClusterState, options: Options) -> Self {
        // Why two threads: owners and workloads (which need the owners) are half of this on a
        // large dump, and nothing else here needs them.
        let (maps, (owners, workloads)) = crate::runtime::beside(
            || Maps::build(state),
            || {
                let owners = Owners::build(state);
                let workloads = workload::all(state, &owners);
                (owners, workloads)
            },
        );
        Context {
            state,
            owners,
            now: state.observed_at.unwrap_or_else(jiff::Timestamp::now),
            replica_sets_of: maps.replica_sets_of,
            rs_events_in: maps.rs_events_in,
            recent_secs: options.recent_minutes.max(1) * 60,
            restarted_with_node: history::restarted_with_node(&maps.node_restarts),
            node_restarts: maps.node_restarts,
            workloads,
            pods_in: maps.pods_in,
        }
    }

    /// Whether `t` lies within the recent window before the state's "now".
    pub fn is_recent(&self, t: jiff::Timestamp) -> bool {
        self.now.duration_since(t).as_secs() <= self.recent_secs
    }

    /// Whether `t` is within `hours` of the state's "now".
    pub fn within_hours(&self, t: jiff::Timestamp, hours: i64) -> bool {
        self.now.duration_since(t).as_secs().le(&(hours * 3600))
    }
}

/// The lookups of a [`Context`] that do not need the owners.
struct Maps<'a> {
    replica_sets_of: HashMap<(String, String), Vec<usize>>,
    rs_events_in: HashMap<String, Vec<usize>>,
    node_restarts: Vec<history::NodeRestart>,
    pods_in: HashMap<&'a str, Vec<&'a k8s_openapi::api::core::v1::Pod>>,
}

impl<'a> Maps<'a> {
    fn build(state: &'a ClusterState) -> Self {
        let mut replica_sets_of: HashMap<(String, String), Vec<usize>> = HashMap::new();
        for (i, rs) in state.replica_sets.iter().enumerate() {
            let ns = rs.metadata.namespace.clone().unwrap_or_default();
            for r in rs.metadata.owner_references.iter().flatten() {
                if r.kind == "Deployment" {
                    replica_sets_of
                        .entry((ns.clone(), r.name.clone()))
                        .or_default()
                        .push(i);
                }
            }
        }
        let mut rs_events_in: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, e) in state.events.iter().enumerate() {
            if e.involved_object.kind.as_deref() == Some("ReplicaSet") {
                let ns = e.involved_object.namespace.clone().unwrap_or_default();
                rs_events_in.entry(ns).or_default().push(i);
            }
        }
        let mut pods_in: HashMap<&str, Vec<_>> = HashMap::new();
        for p in &state.pods {
            pods_in
                .entry(p.metadata.namespace.as_deref().unwrap_or("default"))
                .or_default()
                .push(p);
        }
        Maps {
            replica_sets_of,
            rs_events_in,
            node_restarts: history::node_restarts(state),
            pods_in,
        }
    }
}

/// A finding before grouping and ids.
#[derive(Debug, Clone)]
pub struct Draft {
    pub severity: Severity,
    pub category: Category,
    pub object: ObjectRef,
    pub owner: Option<OwnerRef>,
    pub title: String,
    pub explanation: String,
    pub evidence: Vec<Evidence>,
    pub remediation: String,
    pub score: u64,
}

/// Run every analyzer over the state.
pub fn analyze(state: &ClusterState) -> Vec<Finding> {
    run(Context::new(state))
}

/// Run every analyzer over the state, judging time as `options` say.
pub fn analyze_with(state: &ClusterState, options: Options) -> Vec<Finding> {
    run(Context::with_options(state, options))
}

type Analyzer = fn(&Context, &mut Vec<Draft>);

/// The analyzers that read the drafts before theirs (workloads skips what pod drafts cover,
/// network folds into them), in order.
const CHAIN: [Analyzer; 4] = [
    history::analyze,
    pods::analyze,
    workloads::analyze,
    network::analyze,
];

/// The analyzers that never read another's drafts (a test holds their findings to those of one
/// sequence, CHAIN then TAIL, on every real capture).
const TAIL: [Analyzer; 7] = [
    netpol::analyze,
    storage::analyze,
    nodes::analyze,
    scaling::analyze,
    security::analyze,
    conditions::analyze,
    references::analyze,
];

fn run(ctx: Context) -> Vec<Finding> {
    // Why two threads: TAIL runs beside CHAIN and its drafts follow CHAIN's, the order one
    // thread made. Serial, TAIL was a fifth of the analysis on a large dump.
    let each = |analyzers: &[Analyzer]| {
        let mut drafts = Vec::new();
        analyzers.iter().for_each(|a| a(&ctx, &mut drafts));
        drafts
    };
    let (mut drafts, tail) = crate::runtime::beside(|| each(&CHAIN), || each(&TAIL));
    drafts.extend(tail);
    let mut findings = finish(drafts);
    related::link(&ctx, &mut findings);
    findings
}

/// `each(item, drafts)` for every item, the items split into one contiguous run per core: the
/// drafts come back in the items' order, as one thread would have made them.
fn each_on_all_cores<T: Sync>(
    items: &[T],
    each: impl Fn(&T, &mut Vec<Draft>) + Sync,
) -> Vec<Draft> {
    let chunks: Vec<&[T]> = items.chunks(run_length(items.len())).collect();
    on_all_cores(chunks, |chunk| {
        let mut out = Vec::new();
        chunk.iter().for_each(|i| each(i, &mut out));
        out
    })
}

/// How many items one thread takes: one contiguous run per core, but below a few hundred
/// items a thread costs more than it saves.
fn run_length(items: usize) -> usize {
    items.div_ceil(crate::runtime::cores().min(8)).max(256)
}

/// `run(chunk)` for every chunk, one thread each (none when there is one chunk), the results
/// joined in the chunks' order.
fn on_all_cores<C: Send, R: Send>(mut chunks: Vec<C>, run: impl Fn(C) -> Vec<R> + Sync) -> Vec<R> {
    if chunks.len() <= 1 {
        return chunks.pop().map(&run).unwrap_or_default();
    }
    std::thread::scope(|s| {
        let run = &run;
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| s.spawn(move || run(chunk)))
            .collect();
        // A panicking analyzer is a bug: it is passed on as one thread would have.
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

/// Group, identify and rank drafts.
pub fn finish(drafts: Vec<Draft>) -> Vec<Finding> {
    // Group failures of several pods of one controller into one finding.
    let mut groups: BTreeMap<String, Vec<Draft>> = BTreeMap::new();
    for d in drafts {
        let key = Finding::identity_key(d.category, &d.object, d.owner.as_ref());
        groups.entry(key).or_default().push(d);
    }
    // Each group is made into its finding on all cores (quoting cluster text safely is most
    // of the work), in the groups' order.
    let run = run_length(groups.len());
    let mut chunks: Vec<Vec<(String, Vec<Draft>)>> = Vec::new();
    for group in groups {
        match chunks.last_mut() {
            Some(c) if c.len() < run => c.push(group),
            _ => chunks.push(vec![group]),
        }
    }
    let mut findings = on_all_cores(chunks, |chunk| {
        chunk
            .into_iter()
            .filter_map(|(key, members)| one_finding(&key, members))
            .collect()
    });
    disambiguate_ids(&mut findings);
    // Why the indices are sorted: a finding is large and a sort moves each element many
    // times (7 ms for the 5,300 findings of a large dump); the findings then move once.
    let mut order: Vec<usize> = (0..findings.len()).collect();
    order.sort_by(|&a, &b| {
        let (a, b) = (&findings[a], &findings[b]);
        b.severity
            .cmp(&a.severity)
            .then(b.score.cmp(&a.score))
            .then(a.category.cmp(&b.category))
            .then(a.object.cmp(&b.object))
    });
    let mut slots: Vec<Option<Finding>> = findings.into_iter().map(Some).collect();
    order
        .into_iter()
        .filter_map(|i| slots.get_mut(i).and_then(Option::take))
        .collect()
}

/// The finding a group of drafts (one identity) makes.
fn one_finding(key: &str, mut members: Vec<Draft>) -> Option<Finding> {
    members.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.object.cmp(&b.object)));
    let n = members.len();
    let mut iter = members.into_iter();
    let first = iter.next()?;
    // Cluster text quoted in prose and evidence is data: secrets redacted (a probe URL with
    // a password, a token in a status message), escapes shown, not run.
    let safe = |s: String| crate::untrusted::Untrusted::new(s).shown();
    let mut f = Finding {
        id: Finding::make_id(key, ID_HEX),
        severity: first.severity,
        category: first.category,
        object: first.object.clone(),
        owner: first.owner.clone(),
        title: safe(first.title),
        explanation: safe(first.explanation),
        evidence: first
            .evidence
            .into_iter()
            .map(|mut e| {
                e.text = safe(e.text);
                e
            })
            .collect(),
        remediation: safe(first.remediation),
        guidance: Vec::new(),
        affected: Vec::new(),
        related: Vec::new(),
        score: first.score,
    };
    if n > 1 {
        f.affected.push(first.object.name.clone());
        for d in iter {
            if !f.affected.contains(&d.object.name) {
                f.affected.push(d.object.name.clone());
            }
            f.score += d.score;
            for mut e in d.evidence {
                e.text = safe(e.text);
                push_evidence(&mut f.evidence, e);
            }
        }
        if f.affected.len() > 1
            && let Some(o) = &f.owner
        {
            let kind = f.object.kind.to_ascii_lowercase();
            f.title = format!(
                "{} ({} {kind}s of {} {})",
                f.title,
                f.affected.len(),
                o.kind,
                o.name
            );
        } else if f.affected.len() == 1 {
            f.affected.clear();
        }
    }
    f.evidence.truncate(MAX_EVIDENCE);
    // Remediation commands are meant to be copied into a shell: a name that is not a
    // Kubernetes name (only a hostile or corrupt dump has one) never reaches one.
    let names_ok = crate::shell::is_k8s_name(&f.object.name)
        && f.object
            .namespace
            .as_deref()
            .is_none_or(crate::shell::is_k8s_name)
        && f.owner
            .as_ref()
            .is_none_or(|o| crate::shell::is_k8s_name(&o.name));
    if !names_ok {
        f.remediation = "Commands left out: the object's name is not a valid Kubernetes name (a corrupt or tampered capture); inspect it by hand.".into();
    }
    // Blast radius: objects affected first, then restarts/event counts.
    f.score = f.affected.len().max(1) as u64 * 1000 + f.score.min(999);
    Some(f)
}

/// Add evidence unless the same text is already there (pods of one owner share events).
fn push_evidence(list: &mut Vec<Evidence>, e: Evidence) {
    let same =
        |x: &Evidence| x.source == e.source && strip_pod_names(&x.text) == strip_pod_names(&e.text);
    if !list.iter().any(same) {
        list.push(e);
    }
}

/// Text with the generated suffixes of pod names folded, so "pod cart-7d9f-abc" and "pod
/// cart-7d9f-xyz" compare equal.
fn strip_pod_names(s: &str) -> String {
    s.split_whitespace()
        .map(|w| {
            let parts: Vec<&str> = w.split('-').collect();
            if parts.len() >= 3 {
                parts[..parts.len() - 2].join("-")
            } else {
                w.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Two identity keys whose short ids collide get longer ids (both, deterministically).
fn disambiguate_ids(findings: &mut [Finding]) {
    let mut seen: HashMap<String, usize> = HashMap::new();
    for f in findings.iter() {
        *seen.entry(f.id.clone()).or_default() += 1;
    }
    if seen.values().all(|&n| n == 1) {
        return;
    }
    for f in findings.iter_mut() {
        if seen.get(&f.id).copied().unwrap_or(0) > 1 {
            let key = Finding::identity_key(f.category, &f.object, f.owner.as_ref());
            f.id = Finding::make_id(&key, 16);
        }
    }
}

/// Keep findings that pass the user's filters.
pub fn filter(
    findings: Vec<Finding>,
    categories: &[Category],
    min_severity: Severity,
) -> Vec<Finding> {
    findings
        .into_iter()
        .filter(|f| f.severity >= min_severity)
        .filter(|f| categories.is_empty() || categories.contains(&f.category))
        .collect()
}

/// Narrow findings to one namespace, as `kubectl -n` would: namespaced findings elsewhere
/// go, and of the cluster-scoped ones only nodes that run a pod of the namespace stay (a
/// NotReady node under your pods is your problem too).
pub fn in_namespace(findings: Vec<Finding>, state: &ClusterState, ns: &str) -> Vec<Finding> {
    let nodes: std::collections::HashSet<&str> = state
        .pods
        .iter()
        .filter(|p| p.metadata.namespace.as_deref() == Some(ns))
        .filter_map(|p| p.spec.as_ref().and_then(|s| s.node_name.as_deref()))
        .collect();
    findings
        .into_iter()
        .filter(|f| match &f.object.namespace {
            Some(n) => n == ns,
            None => f.object.kind == "Node" && nodes.contains(f.object.name.as_str()),
        })
        .collect()
}

/// Find a finding by id or unique id prefix (`F-3a9c` or `3a9c`).
pub fn find<'f>(findings: &'f [Finding], id: &str) -> crate::error::Result<&'f Finding> {
    let wanted = id.trim();
    let wanted = if wanted.len() >= 2
        && wanted.is_char_boundary(2)
        && wanted[..2].eq_ignore_ascii_case("f-")
    {
        wanted[2..].to_ascii_lowercase()
    } else {
        wanted.to_ascii_lowercase()
    };
    let matches: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.id[2..].starts_with(&wanted))
        .collect();
    match matches.as_slice() {
        [one] => Ok(one),
        // Not an id: an object's name (`explain cart`) stands for its most severe finding —
        // the object itself, its owner, or a pod a grouped finding covers.
        [] => findings
            .iter()
            .filter(|f| {
                let n = id.trim();
                f.object.name == n
                    || f.owner.as_ref().is_some_and(|o| o.name == n)
                    || f.affected.iter().any(|a| a == n)
            })
            .max_by(|a, b| a.severity.cmp(&b.severity).then(a.score.cmp(&b.score)))
            .ok_or_else(|| crate::error::Error::FindingNotFound(id.to_string())),
        many => {
            if let Some(exact) = many.iter().find(|f| f.id[2..] == wanted) {
                return Ok(exact);
            }
            Err(crate::error::Error::FindingAmbiguous(id.to_string(), {
                let mut shown: Vec<&str> = many.iter().take(5).map(|f| f.id.as_str()).collect();
                let more = many.len().saturating_sub(5);
                let more = format!("and {more} more");
                if many.len() > 5 {
                    shown.push(&more);
                }
                shown.join(", ")
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Run as two groups on two threads, the analyzers make exactly the findings one sequence
    /// of them made (CHAIN then TAIL into one list of drafts), on every real capture and the
    /// demo: no analyzer in TAIL reads drafts it no longer sees.
    #[test]
    fn the_two_groups_make_the_findings_one_sequence_makes() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut dirs = vec![root.join("examples/demo-incident")];
        for top in std::fs::read_dir(root.join("tests/data/real-dumps")).expect("captures") {
            let top = top.expect("entry").path();
            if top.is_dir() {
                dirs.push(top.clone());
                for sub in std::fs::read_dir(&top).expect("capture").flatten() {
                    if sub.path().is_dir() {
                        dirs.push(sub.path());
                    }
                }
            }
        }
        let (mut compared, mut findings) = (0, 0);
        for dir in dirs {
            let Ok(state) = crate::source::snapshot::load_for_analysis(&dir) else {
                continue; // a folder of a capture that holds no objects of its own
            };
            let split = run(Context::with_options(&state, Options::default()));
            let ctx = Context::with_options(&state, Options::default());
            let mut drafts = Vec::new();
            for a in CHAIN.iter().chain(TAIL.iter()) {
                a(&ctx, &mut drafts);
            }
            let mut serial = finish(drafts);
            related::link(&ctx, &mut serial);
            let json = |f: &[Finding]| serde_json::to_string(f).expect("json");
            assert_eq!(json(&split), json(&serial), "{}", dir.display());
            compared += 1;
            findings += serial.len();
        }
        assert!(compared >= 10, "{compared} captures compared");
        assert!(findings >= 50, "{findings} findings compared");
    }

    /// Split over threads, the drafts are those of one thread, in the same order (items that
    /// make none, one or two drafts each, so runs differ in length).
    #[test]
    fn drafts_made_on_all_cores_come_back_in_order() {
        let each = |i: &usize, out: &mut Vec<Draft>| {
            for k in 0..(i % 3) {
                out.push(Draft {
                    severity: Severity::Info,
                    category: Category::ALL[0],
                    object: ObjectRef::new("Pod", Some("ns"), &format!("p{i}")),
                    owner: None,
                    title: format!("{i}/{k}"),
                    explanation: String::new(),
                    evidence: Vec::new(),
                    remediation: String::new(),
                    score: 1,
                });
            }
        };
        let items: Vec<usize> = (0..5_000).collect();
        let mut serial = Vec::new();
        items.iter().for_each(|i| each(i, &mut serial));
        let titles = |d: &[Draft]| d.iter().map(|d| d.title.clone()).collect::<Vec<_>>();
        let parallel = each_on_all_cores(&items, each);
        assert_eq!(serial.len(), 4_999);
        assert_eq!(titles(&parallel), titles(&serial));
    }
}
