//! Services without endpoints, Ingresses pointing at nothing, NetworkPolicies selecting
//! nothing. A dump has no Endpoints objects, so endpoints are computed by matching selectors
//! against pod labels (or EndpointSlices when the state has them, or pod templates when the
//! state is plain manifests).

use super::selector::{self, matches_map, near_miss, show_map};
use super::{Context, Draft, evidence, workload};
use crate::findings::{Category, ObjectRef, Severity};
use std::collections::BTreeMap;

pub fn analyze(ctx: &Context, out: &mut Vec<Draft>) {
    services(ctx, out);
    ingresses(ctx, out);
    network_policies(ctx, out);
}

fn draft(severity: Severity, category: Category, kind: &str, ns: &str, name: &str) -> Draft {
    Draft {
        severity,
        category,
        object: ObjectRef::new(kind, Some(ns), name),
        owner: None,
        title: String::new(),
        explanation: String::new(),
        evidence: Vec::new(),
        remediation: String::new(),
        score: 1,
    }
}

fn pod_ready(p: &k8s_openapi::api::core::v1::Pod) -> bool {
    p.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

fn services(ctx: &Context, out: &mut Vec<Draft>) {
    let st = ctx.state;
    let manifests = st.report.manifests_only;
    // Indexed by namespace once: a Service looks only at its own namespace (scanning every
    // pod, workload and slice per Service was quadratic on large clusters).
    use std::collections::HashMap;
    let mut workloads_in: HashMap<&str, Vec<&workload::Workload>> = HashMap::new();
    for w in &ctx.workloads {
        workloads_in.entry(w.ns()).or_default().push(w);
    }
    let mut pods_in: HashMap<&str, Vec<&k8s_openapi::api::core::v1::Pod>> = HashMap::new();
    for p in &st.pods {
        if let Some(ns) = p.metadata.namespace.as_deref() {
            pods_in.entry(ns).or_default().push(p);
        }
    }
    let mut slices_of: HashMap<(&str, &str), Vec<_>> = HashMap::new();
    for sl in &st.endpoint_slices {
        if let (Some(ns), Some(svc)) = (
            sl.metadata.namespace.as_deref(),
            sl.metadata
                .labels
                .as_ref()
                .and_then(|l| l.get("kubernetes.io/service-name")),
        ) {
            slices_of.entry((ns, svc.as_str())).or_default().push(sl);
        }
    }
    // The pod drafts so far, by namespace and name: a Service whose pods all fail adds to
    // theirs (`fold_into_pod_findings`), found without a scan of every draft per Service.
    let mut pod_drafts: PodDrafts = HashMap::new();
    for (i, d) in out.iter().enumerate() {
        if d.object.kind == "Pod" {
            pod_drafts
                .entry((d.object.namespace.clone(), d.object.name.clone()))
                .or_default()
                .push(i);
        }
    }
    for svc in &st.services {
        let Some(spec) = &svc.spec else { continue };
        if spec.type_.as_deref() == Some("ExternalName") {
            continue;
        }
        let Some(sel) = spec.selector.as_ref().filter(|s| !s.is_empty()) else {
            continue;
        };
        let ns = svc.metadata.namespace.as_deref().unwrap_or("default");
        let name = svc.metadata.name.as_deref().unwrap_or("");
        // EndpointSlices are authoritative when present.
        let slices: &[_] = slices_of.get(&(ns, name)).map_or(&[], Vec::as_slice);
        // Workloads whose pod template carries the selector: what the Service will select
        // once their pods exist, and how many replicas they ask for.
        let templates: Vec<&workload::Workload> = workloads_in
            .get(ns)
            .into_iter()
            .flatten()
            .filter(|w| matches_map(sel, w.labels))
            .copied()
            .collect();
        let pods: Vec<&k8s_openapi::api::core::v1::Pod> = if manifests {
            Vec::new()
        } else {
            pods_in
                .get(ns)
                .into_iter()
                .flatten()
                .filter(|p| matches_map(sel, p.metadata.labels.as_ref()))
                .copied()
                .collect()
        };
        let (matching, ready) = if manifests {
            let m = templates.iter().filter(|w| w.replicas != Some(0)).count();
            (m, m)
        } else {
            // Pods without status (manifests beside a capture) say nothing of readiness.
            let unknown = pods.iter().filter(|p| p.status.is_none()).count();
            let ready = if slices.is_empty() {
                pods.iter().filter(|p| pod_ready(p)).count() + unknown
            } else {
                slices
                    .iter()
                    .flat_map(|s| s.endpoints.iter())
                    .filter(|e| e.conditions.as_ref().and_then(|c| c.ready).unwrap_or(true))
                    .count()
            };
            // Addresses an EndpointSlice lists (ready or not) are pods the selector matched,
            // whether or not the pods themselves were captured.
            let listed: usize = slices.iter().map(|s| s.endpoints.len()).sum();
            (pods.len().max(listed), ready)
        };
        if ready > 0 {
            continue;
        }
        // Pasted evidence that holds neither a listing of the namespace's pods nor any pod or
        // workload there cannot tell a Service without endpoints from pods not pasted.
        if st.evidence.partial
            && slices.is_empty()
            && matching == 0
            && !st.evidence.absence_known("Pod", ns)
            && !workloads_in.contains_key(ns)
            && !pods_in.contains_key(ns)
        {
            continue;
        }
        if matching > 0 && manifests {
            continue;
        }
        if matching > 0 && fold_into_pod_findings(out, &pod_drafts, &pods, ns, name, sel) {
            continue;
        }
        let sel_text = show_map(sel);
        if matching == 0 && !templates.is_empty() {
            // A workload will provide the endpoints: scaled to zero on purpose is info; one
            // that asks for replicas whose pods are not in the capture cannot be judged.
            if templates.iter().all(|w| w.replicas == Some(0)) {
                out.push(scaled_to_zero(ns, name, &sel_text, &templates));
            }
            continue;
        }
        // An operator-managed Service (it has an owner) or a platform one whose backends do
        // not exist is usually a feature that is not enabled on this cluster.
        let managed =
            crate::state::has_owner(&svc.metadata) || crate::state::is_system_namespace(ns);
        let mut d = draft(
            if managed && matching == 0 {
                Severity::Info
            } else {
                Severity::Critical
            },
            Category::ServiceNoEndpoints,
            "Service",
            ns,
            name,
        );
        d.evidence.push(evidence::spec(
            format!("spec.selector: {sel_text}"),
            "Service",
            ns,
            name,
        ));
        if matching == 0 {
            // Nothing matches: say which labels are close.
            let candidates: Vec<(String, &BTreeMap<String, String>)> = if manifests {
                workloads_in
                    .get(ns)
                    .into_iter()
                    .flatten()
                    .filter_map(|w| {
                        w.labels.map(|l| {
                            (
                                format!("{} {}'s pods", w.kind.to_ascii_lowercase(), w.name()),
                                l,
                            )
                        })
                    })
                    .collect()
            } else {
                pods_in
                    .get(ns)
                    .into_iter()
                    .flatten()
                    .filter_map(|p| {
                        p.metadata.labels.as_ref().map(|l| {
                            (
                                format!("pod {}", p.metadata.name.as_deref().unwrap_or("")),
                                l,
                            )
                        })
                    })
                    .collect()
            };
            let miss = near_miss(sel, candidates.iter().map(|(n, l)| (n.as_str(), *l)));
            d.title = format!(
                "Service {name} has no endpoints: its selector matches no {}",
                if manifests { "workload" } else { "pod" }
            );
            d.explanation = format!(
                "Service {name} selects {sel_text}, but no {} in namespace {ns} carries those labels, so it has no endpoints and every connection to it fails.{}",
                if manifests {
                    "workload's pod template"
                } else {
                    "pod"
                },
                miss.as_ref()
                    .map(|m| format!(" Closest: {m}."))
                    .unwrap_or_default()
            );
            if let Some(m) = &miss {
                d.evidence.push(evidence::spec(
                    format!("closest match: {m}"),
                    "Service",
                    ns,
                    name,
                ));
            }
            if managed {
                d.explanation.push_str(
                    " It is managed by an operator or the platform and nothing in the namespace is meant to carry those labels yet: usually a feature that is not enabled on this cluster, so this is info.",
                );
            }
            d.remediation = format!(
                "Make the selector match the pods' labels (or the pods' labels match the selector): `kubectl -n {ns} get pods --show-labels`, then `kubectl -n {ns} edit service {name}`."
            );
        } else {
            d.title = format!(
                "Service {name} has no ready endpoints ({matching} pods match, none is Ready)"
            );
            d.explanation = format!(
                "Service {name} selects {sel_text}; {matching} pod(s) match but none is Ready, so the Service has no endpoints. The pods' own findings say why they are not ready."
            );
            d.remediation = "Fix the matching pods (see their findings); the Service recovers as soon as one is Ready.".into();
        }
        d.evidence.extend(evidence::events(
            &st.events_for("Service", &svc.metadata),
            false,
            "Service",
            ns,
            name,
        ));
        out.push(d);
    }
}

fn scaled_to_zero(ns: &str, name: &str, sel: &str, templates: &[&workload::Workload]) -> Draft {
    let owners: Vec<String> = templates
        .iter()
        .map(|w| format!("{} {}", w.kind.to_ascii_lowercase(), w.name()))
        .collect();
    let mut d = draft(
        Severity::Info,
        Category::ServiceNoEndpoints,
        "Service",
        ns,
        name,
    );
    d.title = format!(
        "Service {name} has no endpoints: {} is scaled to 0",
        owners.join(", ")
    );
    d.explanation = format!(
        "Service {name} selects {sel}, which is the pod template of {}; it asks for 0 replicas, so the Service has no endpoints by design. Connections to it fail until it is scaled up.",
        owners.join(", ")
    );
    d.evidence.push(evidence::spec(
        format!(
            "spec.selector: {sel}; {}: spec.replicas: 0",
            owners.join(", ")
        ),
        "Service",
        ns,
        name,
    ));
    d.remediation = format!(
        "If the Service should answer, scale the workload up (`kubectl -n {ns} scale {} --replicas=1`).",
        templates
            .first()
            .map(|w| format!("{}/{}", w.kind.to_ascii_lowercase(), w.name()))
            .unwrap_or_default()
    );
    d
}

/// Pod drafts' places by (namespace, name).
type PodDrafts = std::collections::HashMap<(Option<String>, String), Vec<usize>>;

/// A Service whose matching pods all fail is a consequence of their failure: say so on the
/// pods' findings instead of reporting a second problem. Returns whether any finding took it.
fn fold_into_pod_findings(
    out: &mut [Draft],
    pod_drafts: &PodDrafts,
    pods: &[&k8s_openapi::api::core::v1::Pod],
    ns: &str,
    name: &str,
    sel: &BTreeMap<String, String>,
) -> bool {
    let names: Vec<&str> = pods
        .iter()
        .filter_map(|p| p.metadata.name.as_deref())
        .collect();
    // The drafts about the matching pods, in the order they were made.
    let mut at: Vec<usize> = names
        .iter()
        .filter_map(|p| pod_drafts.get(&(Some(ns.to_string()), p.to_string())))
        .flatten()
        .copied()
        .collect();
    at.sort_unstable();
    at.dedup();
    let mut folded = false;
    for i in at {
        let Some(d) = out.get_mut(i) else { continue };
        let sentence =
            format!(" As a result Service {name} has no ready endpoints: requests to it fail.");
        if !d.explanation.ends_with(&sentence) {
            d.explanation.push_str(&sentence);
        }
        d.evidence.push(evidence::status(
            format!(
                "Service {name} ({}) has 0 ready endpoints of {} matching pods",
                show_map(sel),
                names.len()
            ),
            "Service",
            ns,
            name,
        ));
        folded = true;
    }
    folded
}

fn ingresses(ctx: &Context, out: &mut Vec<Draft>) {
    let st = ctx.state;
    for ing in &st.ingresses {
        let Some(spec) = &ing.spec else { continue };
        let ns = ing.metadata.namespace.as_deref().unwrap_or("default");
        let name = ing.metadata.name.as_deref().unwrap_or("");
        let events = st.events_for("Ingress", &ing.metadata);
        // Backends.
        let mut backends = Vec::new();
        if let Some(b) = spec
            .default_backend
            .as_ref()
            .and_then(|b| b.service.as_ref())
        {
            backends.push(("defaultBackend".to_string(), b));
        }
        for rule in spec.rules.iter().flatten() {
            for path in rule.http.iter().flat_map(|h| h.paths.iter()) {
                if let Some(b) = path.backend.service.as_ref() {
                    let p = format!(
                        "{}{}",
                        rule.host.as_deref().unwrap_or("*"),
                        path.path.as_deref().unwrap_or("/")
                    );
                    backends.push((p, b));
                }
            }
        }
        for (path, backend) in backends {
            let svc = st.services.iter().find(|s| {
                s.metadata.namespace.as_deref() == Some(ns)
                    && s.metadata.name.as_deref() == Some(&backend.name)
            });
            let problem = match svc {
                None if !st.evidence.missing_is_fact("Service", ns, &backend.name) => None,
                None => Some(format!(
                    "Service {} does not exist in namespace {ns}",
                    backend.name
                )),
                Some(s) => backend.port.as_ref().and_then(|p| {
                    let ports = s.spec.as_ref().and_then(|s| s.ports.as_ref());
                    let ok = ports.is_some_and(|ports| {
                        ports.iter().any(|sp| {
                            p.number == Some(sp.port) || (p.name.is_some() && p.name == sp.name)
                        })
                    });
                    (!ok).then(|| {
                        format!(
                            "Service {} has no port {}",
                            backend.name,
                            p.number
                                .map(|n| n.to_string())
                                .or_else(|| p.name.clone())
                                .unwrap_or_default()
                        )
                    })
                }),
            };
            if let Some(problem) = problem {
                let mut d = draft(
                    Severity::Critical,
                    Category::IngressBackendMissing,
                    "Ingress",
                    ns,
                    name,
                );
                d.title = format!("Ingress {name} routes {path} to a missing backend: {problem}");
                d.explanation = format!(
                    "Requests for {path} through Ingress {name} have nowhere to go: {problem}. The ingress controller answers them with 503/404."
                );
                d.evidence.push(evidence::spec(
                    format!(
                        "rule {path} → service {} port {:?}",
                        backend.name,
                        backend
                            .port
                            .as_ref()
                            .and_then(|p| p.number.map(|n| n.to_string()).or(p.name.clone()))
                            .unwrap_or_default()
                    ),
                    "Ingress",
                    ns,
                    name,
                ));
                d.evidence
                    .extend(evidence::events(&events, false, "Ingress", ns, name));
                d.remediation = format!(
                    "Point the rule at an existing Service and port (`kubectl -n {ns} get svc`), or create Service {}.",
                    backend.name
                );
                out.push(d);
            }
        }
        // TLS secrets: known from events (controllers complain) or from secret names in the dump.
        for tls in spec.tls.iter().flatten() {
            let Some(secret) = &tls.secret_name else {
                continue;
            };
            let from_event = events.iter().find(|e| {
                e.message.as_deref().is_some_and(|m| {
                    m.contains(secret.as_str())
                        && (m.contains("not found")
                            || m.contains("does not exist")
                            || m.contains("missing"))
                })
            });
            let known_missing = st.secret_names_known
                && st.secret_names.iter().any(|(n, _)| n == ns)
                && !st.secret_names.contains(&(ns.to_string(), secret.clone()));
            if from_event.is_some() || known_missing {
                let mut d = draft(
                    Severity::Warning,
                    Category::IngressTLSSecretMissing,
                    "Ingress",
                    ns,
                    name,
                );
                d.title =
                    format!("Ingress {name} refers to TLS secret {secret}, which does not exist");
                d.explanation = format!(
                    "Ingress {name} terminates TLS with Secret {secret}, but that Secret is missing in namespace {ns}{}; the controller serves its default (self-signed) certificate, so clients see certificate errors. (Sextant never reads Secrets; this is from {}.)",
                    tls.hosts
                        .as_ref()
                        .map(|h| format!(" (hosts {})", h.join(", ")))
                        .unwrap_or_default(),
                    if from_event.is_some() {
                        "the controller's event"
                    } else {
                        "the secret names in the snapshot"
                    }
                );
                d.evidence.push(evidence::spec(
                    format!("spec.tls[].secretName: {secret}"),
                    "Ingress",
                    ns,
                    name,
                ));
                d.evidence
                    .extend(evidence::events(&events, false, "Ingress", ns, name));
                d.remediation = format!(
                    "Create the TLS Secret (`kubectl -n {ns} create secret tls {secret} --cert=FILE --key=FILE`), or let cert-manager issue it (a Certificate with secretName {secret})."
                );
                out.push(d);
            }
        }
        // Ingress class.
        if !st.ingress_classes.is_empty() {
            let class = spec.ingress_class_name.clone().or_else(|| {
                ing.metadata
                    .annotations
                    .as_ref()
                    .and_then(|a| a.get("kubernetes.io/ingress.class").cloned())
            });
            let exists = |c: &str| {
                st.ingress_classes
                    .iter()
                    .any(|ic| ic.metadata.name.as_deref() == Some(c))
            };
            let default_exists = st.ingress_classes.iter().any(|ic| {
                ic.metadata
                    .annotations
                    .as_ref()
                    .and_then(|a| a.get("ingressclass.kubernetes.io/is-default-class"))
                    .map(String::as_str)
                    == Some("true")
            });
            let problem = match &class {
                Some(c) if !exists(c) => Some(format!("IngressClass {c} does not exist")),
                None if !default_exists => Some(
                    "it names no IngressClass and the cluster has no default class".to_string(),
                ),
                _ => None,
            };
            if let Some(problem) = problem {
                let mut d = draft(
                    Severity::Warning,
                    Category::IngressClassMissing,
                    "Ingress",
                    ns,
                    name,
                );
                d.title = format!("Ingress {name} is ignored by every controller: {problem}");
                let classes: Vec<&str> = st
                    .ingress_classes
                    .iter()
                    .filter_map(|c| c.metadata.name.as_deref())
                    .collect();
                d.explanation = format!(
                    "No ingress controller picks up Ingress {name} because {problem}. Classes in the cluster: {}.",
                    classes.join(", ")
                );
                d.evidence.push(evidence::spec(
                    format!(
                        "spec.ingressClassName: {}",
                        class.as_deref().unwrap_or("<unset>")
                    ),
                    "Ingress",
                    ns,
                    name,
                ));
                d.remediation = format!(
                    "Set spec.ingressClassName to one of: {} (`kubectl get ingressclass`).",
                    classes.join(", ")
                );
                out.push(d);
            }
        }
    }
}

fn network_policies(ctx: &Context, out: &mut Vec<Draft>) {
    let st = ctx.state;
    let manifests = st.report.manifests_only;
    if st.pods.is_empty() && !manifests {
        return;
    }
    let workloads = &ctx.workloads;
    for np in &st.network_policies {
        let Some(spec) = &np.spec else { continue };
        let Some(pod_selector) = &spec.pod_selector else {
            continue;
        };
        if selector::is_empty(pod_selector) {
            continue; // selects every pod in the namespace
        }
        let ns = np.metadata.namespace.as_deref().unwrap_or("default");
        let name = np.metadata.name.as_deref().unwrap_or("");
        let any = if manifests {
            workloads
                .iter()
                .any(|w| w.ns() == ns && selector::matches(pod_selector, w.labels))
        } else {
            st.pods.iter().any(|p| {
                p.metadata.namespace.as_deref() == Some(ns)
                    && selector::matches(pod_selector, p.metadata.labels.as_ref())
            })
        };
        if any {
            continue;
        }
        let sel = pod_selector
            .match_labels
            .as_ref()
            .map(show_map)
            .unwrap_or_else(|| "matchExpressions".into());
        let mut d = draft(
            Severity::Info,
            Category::NetworkPolicyNoMatch,
            "NetworkPolicy",
            ns,
            name,
        );
        d.title = format!("NetworkPolicy {name} selects no pod");
        d.explanation = format!(
            "NetworkPolicy {name} applies to pods with {sel}, and none exists in namespace {ns}: the isolation it was written for is not in force (a renamed label, or a policy left behind)."
        );
        d.evidence.push(evidence::spec(
            format!("spec.podSelector: {sel}"),
            "NetworkPolicy",
            ns,
            name,
        ));
        d.remediation = format!(
            "Align the podSelector with the pods' labels (`kubectl -n {ns} get pods --show-labels`) or delete the stale policy after review."
        );
        out.push(d);
    }
}
