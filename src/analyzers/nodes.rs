//! Nodes: NotReady, and the standard pressure conditions only (custom node conditions from
//! node-problem-detector and friends are not alarms by themselves).

use super::{Context, Draft, evidence};
use crate::findings::{Category, ObjectRef, Severity};

/// Pods named in a NotReady node's explanation (the rest are counted).
const MAX_PODS_NAMED: usize = 10;

const PRESSURE: &[&str] = &[
    "MemoryPressure",
    "DiskPressure",
    "PIDPressure",
    "NetworkUnavailable",
];

pub fn analyze(ctx: &Context, out: &mut Vec<Draft>) {
    // Pods by node, once (not every pod for every node).
    let mut by_node: std::collections::HashMap<&str, Vec<&k8s_openapi::api::core::v1::Pod>> =
        Default::default();
    for p in &ctx.state.pods {
        if let Some(node) = p.spec.as_ref().and_then(|s| s.node_name.as_deref()) {
            by_node.entry(node).or_default().push(p);
        }
    }
    for node in &ctx.state.nodes {
        let name = node.metadata.name.as_deref().unwrap_or("");
        let Some(conds) = node.status.as_ref().and_then(|s| s.conditions.as_ref()) else {
            continue;
        };
        let pods_on = by_node.get(name).map_or(&[][..], Vec::as_slice);
        let events = ctx.state.events_for("Node", &node.metadata);
        if let Some(ready) = conds.iter().find(|c| c.type_ == "Ready")
            && ready.status != "True"
        {
            let mut d = draft(Severity::Critical, Category::NodeNotReady, name);
            let why = ready.message.clone().unwrap_or_default();
            d.title = format!("Node {name} is NotReady");
            let pods_phrase = match pods_on.len() {
                0 => "No pod in this snapshot runs on it.".to_string(),
                // A few names to act on; a node of hundreds of pods is not a list to read.
                n => format!(
                    "Its {} ({}{}) are not being managed; after the eviction timeout they are rescheduled elsewhere.",
                    crate::findings::plural(n, "pod"),
                    first_names(pods_on),
                    if n > MAX_PODS_NAMED {
                        format!(" and {} more", n - MAX_PODS_NAMED)
                    } else {
                        String::new()
                    }
                ),
            };
            let why_shown = why.trim().trim_end_matches('.');
            d.explanation = format!(
                "Node {name} reports Ready={} ({}){}. {pods_phrase}",
                ready.status,
                ready.reason.as_deref().unwrap_or("-"),
                if why_shown.is_empty() {
                    String::new()
                } else {
                    format!(": {why_shown}")
                },
            );
            d.evidence.push(evidence::status(
                format!(
                    "condition Ready={} reason={} lastHeartbeat={}: {why}",
                    ready.status,
                    ready.reason.as_deref().unwrap_or("-"),
                    ready
                        .last_heartbeat_time
                        .as_ref()
                        .map(|t| evidence::short_time(t.0))
                        .unwrap_or_else(|| "-".into())
                ),
                "Node",
                "",
                name,
            ));
            d.evidence
                .extend(evidence::events(&events, false, "Node", "", name));
            d.remediation = format!(
                "Check the kubelet and container runtime on the node (`journalctl -u kubelet` over SSH/console), its network to the API server, and disk/memory. Drain it if it does not recover: `kubectl drain {name} --ignore-daemonsets --delete-emptydir-data`."
            );
            d.score = 1 + pods_on.len() as u64;
            out.push(d);
        }
        for c in conds
            .iter()
            .filter(|c| PRESSURE.contains(&c.type_.as_str()) && c.status == "True")
        {
            let mut d = draft(Severity::Warning, Category::NodePressure, name);
            d.title = format!("Node {name} has {}", c.type_);
            d.explanation = format!(
                "Node {name} reports {}: {}. The kubelet stops admitting new pods of lower priority and evicts pods to recover.",
                c.type_,
                c.message.as_deref().unwrap_or("")
            );
            d.evidence.push(evidence::status(
                format!(
                    "condition {}=True reason={}",
                    c.type_,
                    c.reason.as_deref().unwrap_or("-")
                ),
                "Node",
                "",
                name,
            ));
            d.remediation = match c.type_.as_str() {
                "DiskPressure" => "Free disk on the node (unused images: `crictl rmi --prune`; large container logs; emptyDir usage) or enlarge it.".into(),
                "MemoryPressure" => "Find the pods using the most memory (`kubectl top pods -A --sort-by=memory`), set memory limits, or add capacity.".into(),
                "PIDPressure" => "Find the pod forking too many processes; set pod PID limits on the kubelet.".into(),
                _ => "Check the node's CNI plugin: its network is not configured.".into(),
            };
            out.push(d);
        }
    }
}

fn draft(severity: Severity, category: Category, name: &str) -> Draft {
    Draft {
        severity,
        category,
        object: ObjectRef::new("Node", None, name),
        owner: None,
        title: String::new(),
        explanation: String::new(),
        evidence: Vec::new(),
        remediation: String::new(),
        score: 1,
    }
}

/// The first [`MAX_PODS_NAMED`] pods as `namespace/name`, sorted (pod names repeat across
/// namespaces).
fn first_names(pods: &[&k8s_openapi::api::core::v1::Pod]) -> String {
    let mut names: Vec<String> = pods
        .iter()
        .map(|p| {
            format!(
                "{}/{}",
                p.metadata.namespace.as_deref().unwrap_or("default"),
                p.metadata.name.as_deref().unwrap_or("")
            )
        })
        .collect();
    names.sort_unstable();
    names.truncate(MAX_PODS_NAMED);
    names.join(", ")
}
