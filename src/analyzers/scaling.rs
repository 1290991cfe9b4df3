//! HorizontalPodAutoscalers that cannot scale, and PodDisruptionBudgets that block every
//! voluntary disruption (drains, upgrades).

use super::{Context, Draft, evidence, selector, workload};
use crate::findings::{Category, ObjectRef, Severity};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

pub fn analyze(ctx: &Context, out: &mut Vec<Draft>) {
    hpas(ctx, out);
    pdbs(ctx, out);
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

fn hpas(ctx: &Context, out: &mut Vec<Draft>) {
    let st = ctx.state;
    for hpa in &st.hpas {
        let ns = hpa.metadata.namespace.as_deref().unwrap_or("default");
        let name = hpa.metadata.name.as_deref().unwrap_or("");
        let Some(spec) = &hpa.spec else { continue };
        let target = &spec.scale_target_ref;
        let events = st.events_for("HorizontalPodAutoscaler", &hpa.metadata);
        let target_missing = !st.report.manifests_only
            && match target.kind.as_str() {
                "Deployment" => !st.deployments.iter().any(|d| {
                    d.metadata.namespace.as_deref() == Some(ns)
                        && d.metadata.name.as_deref() == Some(&target.name)
                }),
                "StatefulSet" => !st.stateful_sets.iter().any(|d| {
                    d.metadata.namespace.as_deref() == Some(ns)
                        && d.metadata.name.as_deref() == Some(&target.name)
                }),
                _ => false,
            }
            && (!st.deployments.is_empty() || !st.stateful_sets.is_empty());
        let bad = hpa
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .and_then(|c| {
                c.iter().find(|c| {
                    (c.type_ == "ScalingActive" || c.type_ == "AbleToScale") && c.status == "False"
                })
            });
        let metric_events = events.iter().any(|e| {
            e.type_.as_deref() == Some("Warning")
                && matches!(
                    e.reason.as_deref(),
                    Some("FailedGetResourceMetric")
                        | Some("FailedComputeMetricsReplicas")
                        | Some("FailedGetExternalMetric")
                        | Some("FailedGetPodsMetric")
                )
        });
        // The HPA controller measures utilisation as a share of requests: a target whose
        // containers lack the request cannot be scaled on it (unless a LimitRange fills
        // requests in, which the capture would show).
        let unmeasurable = if st.report.other_kinds.contains_key("LimitRange") {
            Vec::new()
        } else {
            requests_missing(ctx.state, &ctx.workloads, ns, spec)
        };
        if bad.is_none() && !metric_events && !target_missing && unmeasurable.is_empty() {
            continue;
        }
        let mut d = draft(
            Severity::Warning,
            Category::HPAUnhealthy,
            "HorizontalPodAutoscaler",
            ns,
            name,
        );
        let msg = bad.and_then(|c| c.message.clone()).unwrap_or_default();
        if target_missing {
            d.title = format!(
                "HPA {name} targets {} {}, which does not exist",
                target.kind, target.name
            );
            d.explanation = format!(
                "HorizontalPodAutoscaler {name} scales {} {}, which is not in namespace {ns}: it does nothing.",
                target.kind, target.name
            );
            d.remediation =
                "Point scaleTargetRef at the workload that exists, or delete the stale HPA.".into();
        } else {
            let no_requests = !unmeasurable.is_empty()
                || msg.contains("missing request")
                || events.iter().any(|e| {
                    e.message
                        .as_deref()
                        .is_some_and(|m| m.contains("missing request"))
                });
            d.title = format!("HPA {name} cannot compute its metrics and is not scaling");
            d.explanation = if no_requests {
                format!(
                    "HorizontalPodAutoscaler {name} scales on CPU/memory utilisation, which is measured against requests, but containers of {} {} have no requests for it{}: the HPA cannot compute utilisation and never scales.",
                    target.kind,
                    target.name,
                    if unmeasurable.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", unmeasurable.join(", "))
                    }
                )
            } else {
                format!(
                    "HorizontalPodAutoscaler {name} cannot read the metrics it scales on, so {} {} stays at its current size whatever the load: {msg}",
                    target.kind, target.name
                )
            };
            d.remediation = if no_requests {
                format!(
                    "Set resources.requests for every container of {} {} (utilisation is a percentage of requests).",
                    target.kind, target.name
                )
            } else {
                "Check the metrics pipeline: `kubectl get apiservice v1beta1.metrics.k8s.io` and the metrics-server pods; for custom metrics, the adapter.".into()
            };
        }
        for m in &unmeasurable {
            d.evidence.push(evidence::spec(
                m.clone(),
                "HorizontalPodAutoscaler",
                ns,
                name,
            ));
        }
        if let Some(c) = bad {
            d.evidence.push(evidence::status(
                format!(
                    "condition {}=False reason={}: {msg}",
                    c.type_,
                    c.reason.as_deref().unwrap_or("-")
                ),
                "HorizontalPodAutoscaler",
                ns,
                name,
            ));
        }
        d.evidence.extend(evidence::events(
            &events,
            false,
            "HorizontalPodAutoscaler",
            ns,
            name,
        ));
        out.push(d);
    }
}

/// "container web: no requests.cpu" for each container of the HPA's target that lacks a
/// request for a resource the HPA scales on by utilisation.
fn requests_missing(
    st: &crate::state::ClusterState,
    workloads: &[workload::Workload],
    ns: &str,
    spec: &k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscalerSpec,
) -> Vec<String> {
    let resources: Vec<&str> = spec
        .metrics
        .iter()
        .flatten()
        .filter_map(|m| m.resource.as_ref())
        .filter(|r| r.target.type_ == "Utilization")
        .map(|r| r.name.as_str())
        .collect();
    if resources.is_empty() {
        return Vec::new();
    }
    let target = &spec.scale_target_ref;
    let Some(w) = workloads.iter().find(|w| {
        w.kind == target.kind
            && w.ns() == ns
            && w.name() == target.name
            && w.name_override.is_none()
    }) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for c in &w.spec.containers {
        for res in &resources {
            // A limit without a request sets the request to the limit.
            let r = w.resources(st, c);
            let has = r.request(res).is_some() || r.limit(res).is_some();
            if !has {
                out.push(format!("container {}: no requests.{res}", c.name));
            }
        }
    }
    out
}

fn int_value(v: &IntOrString, total: i32) -> i32 {
    match v {
        IntOrString::Int(i) => *i,
        IntOrString::String(s) => {
            let pct: f64 = s.trim_end_matches('%').parse().unwrap_or(0.0);
            (pct * total as f64 / 100.0).ceil() as i32
        }
    }
}

fn pdbs(ctx: &Context, out: &mut Vec<Draft>) {
    let st = ctx.state;
    let workloads = &ctx.workloads;
    for pdb in &st.pdbs {
        let ns = pdb.metadata.namespace.as_deref().unwrap_or("default");
        let name = pdb.metadata.name.as_deref().unwrap_or("");
        let Some(spec) = &pdb.spec else { continue };
        let (expected, allowed, healthy) = match &pdb.status {
            Some(s) if s.expected_pods > 0 || s.disruptions_allowed > 0 => {
                (s.expected_pods, s.disruptions_allowed, s.current_healthy)
            }
            _ => {
                // No status: compute from the workloads the selector matches (manifests).
                let Some(sel) = &spec.selector else { continue };
                let total: i32 = workloads
                    .iter()
                    .filter(|w| w.ns() == ns && selector::matches(sel, w.labels))
                    .filter_map(|w| w.replicas.or(Some(1)))
                    .sum();
                if total == 0 {
                    continue;
                }
                let allowed = match (&spec.min_available, &spec.max_unavailable) {
                    (Some(min), _) => (total - int_value(min, total)).max(0),
                    (None, Some(max)) => int_value(max, total).max(0),
                    _ => continue,
                };
                (total, allowed, total)
            }
        };
        if expected == 0 || allowed > 0 {
            continue;
        }
        let mut d = draft(
            Severity::Warning,
            Category::PDBBlocking,
            "PodDisruptionBudget",
            ns,
            name,
        );
        let rule = match (&spec.min_available, &spec.max_unavailable) {
            (Some(m), _) => format!("minAvailable={}", show(m)),
            (None, Some(m)) => format!("maxUnavailable={}", show(m)),
            _ => "no budget".into(),
        };
        let unhealthy = healthy < expected;
        d.title = format!(
            "PodDisruptionBudget {name} allows no disruption ({rule}, {healthy}/{expected} healthy)"
        );
        d.explanation = if unhealthy {
            format!(
                "PodDisruptionBudget {name} ({rule}) allows 0 disruptions because only {healthy} of its {expected} pods are healthy: node drains and cluster upgrades will hang until the pods recover."
            )
        } else {
            format!(
                "PodDisruptionBudget {name} ({rule}) covers {expected} pods and allows 0 disruptions even when all are healthy: no node running them can be drained, so upgrades and autoscaler scale-downs block."
            )
        };
        d.evidence.push(evidence::status(format!("expectedPods={expected} currentHealthy={healthy} disruptionsAllowed={allowed} ({rule})"), "PodDisruptionBudget", ns, name));
        d.remediation = if unhealthy {
            "Fix the unhealthy pods the budget covers; the budget itself may be fine.".into()
        } else {
            format!(
                "Allow at least one disruption: set maxUnavailable: 1 (or minAvailable below the replica count) on PodDisruptionBudget {name}, or run more replicas."
            )
        };
        out.push(d);
    }
}

fn show(v: &IntOrString) -> String {
    match v {
        IntOrString::Int(i) => i.to_string(),
        IntOrString::String(s) => s.clone(),
    }
}
