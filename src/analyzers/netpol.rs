//! NetworkPolicies that block traffic a workload needs.
//!
//! - **DNS.** Once any policy with an `Egress` type selects a pod, only what some such policy
//!   allows may leave it. If no egress rule allows port 53 (or all ports) to somewhere DNS can
//!   be (any destination, an ipBlock, or another namespace), every name lookup of the pod
//!   fails: the classic default-deny egress without a DNS exception.
//! - **Ingress behind an Ingress.** Pods behind a Service that an Ingress routes to, selected
//!   by `Ingress`-type policies of which none has a single rule allowing anything, receive
//!   nothing from the ingress controller.
//!
//! Judged from specs on pod templates (and pods), so it works on manifests too. Lenient where
//! the capture cannot tell (a namespaceSelector is assumed to reach kube-dns): precision first.

use super::workload::Workload;
use super::{Context, Draft, evidence, selector};
use crate::findings::{Category, Severity};
use crate::state::{ClusterState, is_system_namespace};
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::networking::v1::{NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;

pub fn analyze(ctx: &Context, out: &mut Vec<Draft>) {
    let st = ctx.state;
    if st.network_policies.is_empty() {
        return;
    }
    for w in &ctx.workloads {
        if is_system_namespace(w.ns()) || w.replicas == Some(0) {
            continue;
        }
        let applying: Vec<&NetworkPolicy> = st
            .network_policies
            .iter()
            .filter(|p| p.metadata.namespace.as_deref().unwrap_or("default") == w.ns())
            .filter(|p| {
                p.spec
                    .as_ref()
                    .and_then(|s| s.pod_selector.as_ref())
                    .is_none_or(|sel| selector::matches(sel, w.labels))
            })
            .collect();
        if applying.is_empty() {
            continue;
        }
        dns(w, &applying, out);
        ingress(ctx, w, &applying, out);
    }
}

fn has_type(p: &NetworkPolicy, t: &str) -> bool {
    let Some(spec) = &p.spec else { return false };
    match &spec.policy_types {
        Some(types) => types.iter().any(|x| x == t),
        // Without policyTypes: Ingress always, Egress when egress rules are given.
        None => t == "Ingress" || (t == "Egress" && spec.egress.is_some()),
    }
}

fn allows_dns_port(ports: Option<&Vec<NetworkPolicyPort>>) -> bool {
    let Some(ports) = ports.filter(|p| !p.is_empty()) else {
        return true; // all ports
    };
    ports.iter().any(|p| match &p.port {
        None => true,
        Some(IntOrString::Int(n)) => *n == 53 || p.end_port.is_some_and(|e| *n <= 53 && 53 <= e),
        Some(IntOrString::String(s)) => s.contains("dns"),
    })
}

fn may_reach_dns(to: Option<&Vec<NetworkPolicyPeer>>, ns: &str) -> bool {
    let Some(peers) = to.filter(|p| !p.is_empty()) else {
        return true; // anywhere
    };
    peers.iter().any(|peer| {
        peer.ip_block.is_some()
            || peer.namespace_selector.is_some()
            // Pods of its own namespace only: DNS lives elsewhere unless this is its namespace.
            || ns == "kube-system"
    })
}

fn dns(w: &Workload, policies: &[&NetworkPolicy], out: &mut Vec<Draft>) {
    let egress: Vec<&&NetworkPolicy> = policies.iter().filter(|p| has_type(p, "Egress")).collect();
    if egress.is_empty() {
        return;
    }
    let allowed = egress.iter().any(|p| {
        p.spec
            .as_ref()
            .and_then(|s| s.egress.as_ref())
            .into_iter()
            .flatten()
            .any(|rule| {
                allows_dns_port(rule.ports.as_ref()) && may_reach_dns(rule.to.as_ref(), w.ns())
            })
    });
    if allowed {
        return;
    }
    let names = policy_names(&egress);
    let mut d = w.draft(
        Severity::Warning,
        Category::NetworkPolicyBlocking,
        format!(
            "{} {} cannot resolve names: egress is restricted by {} and nothing allows DNS (port 53)",
            w.kind,
            w.name(),
            names.join(", ")
        ),
    );
    d.explanation = format!(
        "NetworkPolicy {} selects the pods of {} {} and restricts their egress, and no egress rule allows port 53 to the cluster DNS: every name lookup (Services included) times out, so connections by name fail even where the rest of the policy allows them.",
        names.join(", "),
        w.kind.to_ascii_lowercase(),
        w.name()
    );
    for p in &egress {
        let name = p.metadata.name.as_deref().unwrap_or("");
        let rules = p
            .spec
            .as_ref()
            .and_then(|s| s.egress.as_ref())
            .map(|e| e.len())
            .unwrap_or(0);
        d.evidence.push(evidence::spec(
            format!(
                "NetworkPolicy {name}: policyTypes Egress, {rules} egress rule(s), none to port 53"
            ),
            "NetworkPolicy",
            w.ns(),
            name,
        ));
    }
    d.remediation = format!(
        "Add an egress rule allowing DNS to kube-dns, e.g. `to: [{{namespaceSelector: {{matchLabels: {{kubernetes.io/metadata.name: kube-system}}}}, podSelector: {{matchLabels: {{k8s-app: kube-dns}}}}}}]` with `ports: [{{port: 53, protocol: UDP}}, {{port: 53, protocol: TCP}}]` (`kubectl -n {} edit networkpolicy {}`).",
        w.ns(),
        names.first().copied().unwrap_or("")
    );
    out.push(d);
}

fn ingress(ctx: &Context, w: &Workload, policies: &[&NetworkPolicy], out: &mut Vec<Draft>) {
    let ingress: Vec<&&NetworkPolicy> =
        policies.iter().filter(|p| has_type(p, "Ingress")).collect();
    if ingress.is_empty() {
        return;
    }
    let any_rule = ingress.iter().any(|p| {
        p.spec
            .as_ref()
            .and_then(|s| s.ingress.as_ref())
            .is_some_and(|r| !r.is_empty())
    });
    if any_rule {
        clients(ctx, w, &ingress, out);
        return;
    }
    // Only when something is meant to reach the pods from outside: a Service of theirs that
    // an Ingress routes to.
    let st = ctx.state;
    let services: Vec<&str> = services_of(ctx, w)
        .into_iter()
        .filter_map(|s| s.metadata.name.as_deref())
        .collect();
    let routed: Vec<String> = st
        .ingresses
        .iter()
        .filter(|i| i.metadata.namespace.as_deref() == Some(w.ns()))
        .filter_map(|i| {
            let spec = i.spec.as_ref()?;
            let backends = spec
                .rules
                .iter()
                .flatten()
                .flat_map(|r| r.http.iter().flat_map(|h| h.paths.iter()))
                .filter_map(|p| p.backend.service.as_ref())
                .chain(
                    spec.default_backend
                        .as_ref()
                        .and_then(|b| b.service.as_ref()),
                );
            let hits: Vec<&str> = backends
                .map(|b| b.name.as_str())
                .filter(|b| services.contains(b))
                .collect();
            (!hits.is_empty()).then(|| {
                format!(
                    "Ingress {} → Service {}",
                    i.metadata.name.as_deref().unwrap_or(""),
                    hits.join(", ")
                )
            })
        })
        .collect();
    if routed.is_empty() {
        return;
    }
    let names = policy_names(&ingress);
    let mut d = w.draft(
        Severity::Warning,
        Category::NetworkPolicyBlocking,
        format!(
            "{} {} receives no traffic: {} allows no ingress, but {} routes to it",
            w.kind,
            w.name(),
            names.join(", "),
            routed.join("; ")
        ),
    );
    d.explanation = format!(
        "NetworkPolicy {} isolates the pods of {} {} for ingress and allows nothing in, yet {} sends them traffic: requests through the ingress controller time out (502/504).",
        names.join(", "),
        w.kind.to_ascii_lowercase(),
        w.name(),
        routed.join("; ")
    );
    for r in &routed {
        d.evidence
            .push(evidence::spec(r.clone(), w.kind, w.ns(), w.name()));
    }
    for n in &names {
        d.evidence.push(evidence::spec(
            format!("NetworkPolicy {n}: policyTypes Ingress, no ingress rules"),
            "NetworkPolicy",
            w.ns(),
            n,
        ));
    }
    d.remediation = "Add an ingress rule admitting the ingress controller's namespace (`from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: INGRESS-NAMESPACE}}}]`) on the Service's target port.".into();
    out.push(d);
}

/// The Services that select the workload's pods.
fn services_of<'s>(ctx: &'s Context, w: &Workload) -> Vec<&'s Service> {
    ctx.state
        .services
        .iter()
        .filter(|s| s.metadata.namespace.as_deref() == Some(w.ns()))
        .filter(|s| {
            s.spec
                .as_ref()
                .and_then(|sp| sp.selector.as_ref())
                .is_some_and(|sel| !sel.is_empty() && selector::matches_map(sel, w.labels))
        })
        .collect()
}

/// Whether a workload's configuration (env values, args, command) names the Service as a host
/// it calls: `svc.ns[.svc…]` from anywhere, `svc` itself (as a URL host, `svc:port`, or a whole
/// value) from its own namespace.
fn calls(st: &ClusterState, c: &Workload, svc: &str, svc_ns: &str, ports: &[i32]) -> bool {
    let mut texts: Vec<String> = Vec::new();
    for k in &c.spec.containers {
        texts.extend(c.env(st, k).iter().filter_map(|e| e.value.clone()));
        texts.extend(k.args.iter().flatten().cloned());
        texts.extend(k.command.iter().flatten().cloned());
    }
    let qualified = format!("{svc}.{svc_ns}");
    let same_ns = c.ns() == svc_ns;
    texts.iter().any(|t| {
        let words = t
            .split(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '-' || ch == '.' || ch == ':'));
        words.filter(|w| !w.is_empty()).any(|word| {
            let host = word.split(':').next().unwrap_or(word);
            let port: Option<i32> = word.split(':').nth(1).and_then(|p| p.parse().ok());
            host == qualified
                || host.starts_with(&format!("{qualified}.svc"))
                || (same_ns
                    && host == svc
                    && (t.trim() == svc
                        || port.is_some_and(|p| ports.contains(&p))
                        || t.contains(&format!("://{svc}"))))
        })
    })
}

/// The labels a namespace carries, with the one Kubernetes sets on every namespace.
fn namespace_labels(ctx: &Context, ns: &str) -> BTreeMap<String, String> {
    let mut labels = ctx
        .state
        .namespaces
        .iter()
        .find(|n| n.metadata.name.as_deref() == Some(ns))
        .and_then(|n| n.metadata.labels.clone())
        .unwrap_or_default();
    labels.insert("kubernetes.io/metadata.name".into(), ns.to_string());
    labels
}

/// Whether some ingress rule of `policies` admits traffic from `client` on `port`.
fn admits(
    ctx: &Context,
    target_ns: &str,
    policies: &[&&NetworkPolicy],
    client: &Workload,
    port: Option<i32>,
) -> bool {
    policies.iter().any(|p| {
        p.spec
            .as_ref()
            .and_then(|s| s.ingress.as_ref())
            .into_iter()
            .flatten()
            .any(|rule| {
                let port_ok = rule
                    .ports
                    .as_ref()
                    .filter(|p| !p.is_empty())
                    .is_none_or(|ports| {
                        ports.iter().any(|pp| match (&pp.port, port) {
                            (None, _) | (_, None) => true,
                            (Some(IntOrString::Int(n)), Some(want)) => {
                                *n == want || pp.end_port.is_some_and(|e| *n <= want && want <= e)
                            }
                            (Some(IntOrString::String(_)), _) => true, // named: not judged
                        })
                    });
                let from_ok = rule
                    .from
                    .as_ref()
                    .filter(|f| !f.is_empty())
                    .is_none_or(|peers| {
                        peers.iter().any(|peer| {
                            if peer.ip_block.is_some() {
                                return true; // addresses: not judged
                            }
                            let ns_ok = match &peer.namespace_selector {
                                None => client.ns() == target_ns,
                                Some(sel) => selector::matches(
                                    sel,
                                    Some(&namespace_labels(ctx, client.ns())),
                                ),
                            };
                            let pod_ok = peer
                                .pod_selector
                                .as_ref()
                                .is_none_or(|sel| selector::matches(sel, client.labels));
                            ns_ok && pod_ok
                        })
                    });
                port_ok && from_ok
            })
    })
}

/// Clients whose configuration calls a Service of `w` that the ingress rules do not admit.
fn clients(ctx: &Context, w: &Workload, policies: &[&&NetworkPolicy], out: &mut Vec<Draft>) {
    for svc in services_of(ctx, w) {
        let name = svc.metadata.name.as_deref().unwrap_or("");
        let ports: Vec<i32> = svc
            .spec
            .iter()
            .flat_map(|s| s.ports.iter().flatten())
            .map(|p| p.port)
            .collect();
        let target_port: Option<i32> = svc
            .spec
            .iter()
            .flat_map(|s| s.ports.iter().flatten())
            .find_map(|p| match &p.target_port {
                Some(IntOrString::Int(n)) => Some(*n),
                Some(IntOrString::String(_)) => None,
                None => Some(p.port),
            });
        let blocked: Vec<String> = ctx
            .workloads
            .iter()
            .filter(|c| !(c.ns() == w.ns() && c.name() == w.name() && c.kind == w.kind))
            .filter(|c| c.replicas != Some(0) && calls(ctx.state, c, name, w.ns(), &ports))
            .filter(|c| !admits(ctx, w.ns(), policies, c, target_port))
            .map(|c| format!("{} {}/{}", c.kind.to_ascii_lowercase(), c.ns(), c.name()))
            .collect();
        if blocked.is_empty() {
            continue;
        }
        let names = policy_names(policies);
        let mut d = w.draft(
            Severity::Warning,
            Category::NetworkPolicyBlocking,
            format!(
                "NetworkPolicy {} blocks {} calling Service {name}",
                names.join(", "),
                blocked.join(", ")
            ),
        );
        d.explanation = format!(
            "{} calls Service {name} (its configuration names the host), but the ingress rules of NetworkPolicy {} that isolate {} {}'s pods admit no traffic from it{}: its connections time out.",
            blocked.join(", "),
            names.join(", "),
            w.kind.to_ascii_lowercase(),
            w.name(),
            target_port
                .map(|p| format!(" on port {p}"))
                .unwrap_or_default()
        );
        for b in &blocked {
            d.evidence.push(evidence::spec(
                format!("{b} → Service {name}: not admitted by {}", names.join(", ")),
                w.kind,
                w.ns(),
                w.name(),
            ));
        }
        d.remediation = format!(
            "Add a `from` entry admitting the caller (its namespace with a namespaceSelector on `kubernetes.io/metadata.name`, and its pod labels) on the Service's target port (`kubectl -n {} edit networkpolicy {}`).",
            w.ns(),
            names.first().copied().unwrap_or("")
        );
        out.push(d);
    }
}

fn policy_names<'p>(policies: &[&&'p NetworkPolicy]) -> Vec<&'p str> {
    policies
        .iter()
        .filter_map(|p| p.metadata.name.as_deref())
        .collect()
}
