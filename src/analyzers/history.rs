//! Now, not then. A capture holds the whole remembered past of a cluster: restart counts since
//! the pod was created, probe events from install time, the last exit of a container that has
//! run happily for hours since. An on-call engineer needs to know what is failing *now*.
//!
//! The rules, from how Kubernetes itself behaves:
//! - "now" is the capture's own moment (its newest timestamp) or the wall clock when live;
//! - a failure is current when the object's status says so (not Ready, waiting, terminated
//!   with an error) or when failures keep happening within the recent window (30 minutes by
//!   default, `[analyze] recent_minutes`);
//! - a container that has run for 10 minutes without a problem has settled: the kubelet itself
//!   resets its restart back-off after that long, so an older restart is history;
//! - many containers on one node ending at the same moment with the runtime's "unknown" exit
//!   (code 255, reason Unknown) is the node restarting: one cause, one finding, on the Node.

use super::{Context, Draft, evidence};
use crate::findings::{Category, ObjectRef, Severity};
use k8s_openapi::api::core::v1::ContainerStatus;
use std::collections::{HashMap, HashSet};

/// How long a container must have run for the kubelet to reset its restart back-off.
pub const SETTLED_SECS: i64 = 600;
/// Default width of "recent": failures inside it are current.
pub const DEFAULT_RECENT_MINUTES: i64 = 30;
/// Containers ending within this many seconds of each other on one node end together.
const TOGETHER_SECS: i64 = 90;
/// Fewest containers (in at least two pods) that make a node restart.
const NODE_RESTART_MIN: usize = 3;

/// One restart of a node, as the containers on it saw it.
pub struct NodeRestart {
    pub node: String,
    pub at: jiff::Timestamp,
    /// (namespace, pod, container) that ended with it.
    pub containers: Vec<(String, String, String)>,
}

/// Whether a container ended the way containers end when their node goes away.
fn ended_with_node(cs: &ContainerStatus) -> Option<jiff::Timestamp> {
    let t = cs.last_state.as_ref()?.terminated.as_ref()?;
    // Exit code 255 alone is not enough: Go programs exit 255 on a fatal log line (klog).
    // The runtime says "Unknown" for containers it lost with the node.
    let unknown = t.reason.as_deref() == Some("Unknown")
        || (t.exit_code == 255 && t.reason.as_deref().is_none_or(str::is_empty));
    if !unknown {
        return None;
    }
    t.finished_at.as_ref().map(|f| f.0)
}

/// Node restarts seen in container statuses: groups of containers on one node whose last run
/// ended with the runtime's unknown exit within [`TOGETHER_SECS`] of each other.
pub fn node_restarts(state: &crate::state::ClusterState) -> Vec<NodeRestart> {
    type Ended = (jiff::Timestamp, String, String, String);
    let mut by_node: HashMap<String, Vec<Ended>> = HashMap::new();
    for p in &state.pods {
        let (Some(spec), Some(status)) = (&p.spec, &p.status) else {
            continue;
        };
        let Some(node) = spec.node_name.as_deref() else {
            continue;
        };
        let ns = p.metadata.namespace.clone().unwrap_or_default();
        let pod = p.metadata.name.clone().unwrap_or_default();
        for cs in status
            .container_statuses
            .iter()
            .flatten()
            .chain(status.init_container_statuses.iter().flatten())
        {
            if let Some(at) = ended_with_node(cs) {
                by_node.entry(node.to_string()).or_default().push((
                    at,
                    ns.clone(),
                    pod.clone(),
                    cs.name.clone(),
                ));
            }
        }
    }
    let mut out = Vec::new();
    for (node, mut ended) in by_node {
        ended.sort();
        let mut group: Vec<Ended> = Vec::new();
        let mut flush = |group: &mut Vec<Ended>| {
            let pods: HashSet<&str> = group.iter().map(|(_, _, p, _)| p.as_str()).collect();
            if group.len() >= NODE_RESTART_MIN && pods.len() >= 2 {
                out.push(NodeRestart {
                    node: node.clone(),
                    at: group.last().map(|g| g.0).unwrap_or_default(),
                    containers: group
                        .iter()
                        .map(|(_, ns, p, c)| (ns.clone(), p.clone(), c.clone()))
                        .collect(),
                });
            }
            group.clear();
        };
        for e in ended {
            if let Some(first) = group.first()
                && e.0.duration_since(first.0).as_secs() > TOGETHER_SECS
            {
                flush(&mut group);
            }
            group.push(e);
        }
        flush(&mut group);
    }
    out.sort_by(|a, b| a.node.cmp(&b.node).then(a.at.cmp(&b.at)));
    out
}

/// The containers whose last exit is explained by a node restart.
pub fn restarted_with_node(restarts: &[NodeRestart]) -> HashSet<(String, String, String)> {
    restarts
        .iter()
        .flat_map(|r| r.containers.iter().cloned())
        .collect()
}

/// When the container's current run started, if it is running.
pub fn running_since(cs: &ContainerStatus) -> Option<jiff::Timestamp> {
    cs.state
        .as_ref()?
        .running
        .as_ref()?
        .started_at
        .as_ref()
        .map(|t| t.0)
}

/// Running, Ready, and for long enough that the kubelet considers it settled.
pub fn settled(ctx: &Context, cs: &ContainerStatus) -> bool {
    cs.ready
        && running_since(cs).is_some_and(|s| ctx.now.duration_since(s).as_secs() >= SETTLED_SECS)
}

/// "6 h", "25 min", "3 d": how long before the capture's moment `t` was.
pub fn ago(now: jiff::Timestamp, t: jiff::Timestamp) -> String {
    let secs = now.duration_since(t).as_secs().max(0);
    match secs {
        s if s < 120 => format!("{s} s"),
        s if s < 2 * 3600 => format!("{} min", s / 60),
        s if s < 2 * 86_400 => format!("{} h", s / 3600),
        s => format!("{} d", s / 86_400),
    }
}

/// One finding per node restart: info when the node and its pods are back, a warning while
/// the node is not Ready (the NotReady finding then says the rest).
pub fn analyze(ctx: &Context, out: &mut Vec<Draft>) {
    for r in &ctx.node_restarts {
        let node_ready = ctx
            .state
            .nodes
            .iter()
            .find(|n| n.metadata.name.as_deref() == Some(r.node.as_str()))
            .and_then(|n| n.status.as_ref()?.conditions.as_ref())
            .and_then(|c| c.iter().find(|c| c.type_ == "Ready"))
            .map(|c| c.status == "True");
        if node_ready == Some(false) {
            continue; // NodeNotReady says it, now.
        }
        let pods: HashSet<&str> = r.containers.iter().map(|(_, p, _)| p.as_str()).collect();
        let when = evidence::short_time(r.at);
        let mut d = Draft {
            severity: Severity::Info,
            category: Category::NodeNotReady,
            object: ObjectRef::new("Node", None, &r.node),
            owner: None,
            title: format!(
                "Node {} restarted around {when} ({} containers in {} pods restarted with it, {} before the capture)",
                r.node,
                r.containers.len(),
                pods.len(),
                ago(ctx.now, r.at)
            ),
            explanation: format!(
                "{} containers in {} pods on node {} ended within {TOGETHER_SECS} s of {when} with the runtime's unknown exit (code 255 / reason Unknown): that is what a node restart looks like from its pods, not {} separate crashes. Their restart counts include it. The pods were restarted by the kubelet when the node came back.",
                r.containers.len(),
                pods.len(),
                r.node,
                r.containers.len()
            ),
            evidence: r
                .containers
                .iter()
                .take(8)
                .map(|(ns, p, c)| {
                    evidence::status(
                        format!("{ns}/{p} container {c}: lastState.terminated exitCode=255 finishedAt={when}"),
                        "Pod",
                        ns,
                        p,
                    )
                })
                .collect(),
            remediation: format!(
                "Nothing to fix in the pods. If the restart was not planned, read the node's own logs around {when} (`journalctl -b -1` on the node, or the cloud provider's instance events)."
            ),
            score: r.containers.len() as u64,
        };
        if node_ready.is_none() {
            d.explanation
                .push_str(" (The node itself is not in the capture.)");
        }
        out.push(d);
    }
}
