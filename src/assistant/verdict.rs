//! "Is X healthy?" and "why is X failing?" when X has no failure finding: a verdict from the
//! status (readiness, restarts and when, suspension, binding, the last warning event).

use super::facts::{Obj, capital, pod_status_word, where_};
use crate::findings::{Finding, Severity};
use crate::state::ClusterState;
use std::collections::BTreeSet;
use std::fmt::Write as _;

/// "Is X healthy?" / "why is X failing?" when X has no failure finding: a verdict with the
/// facts (readiness, restarts and when, the last warning event); `None` when it has one (the
/// findings answer).
pub(super) fn verdict(
    st: &ClusterState,
    hits: &[&Obj],
    findings: &[Finding],
    healthy_question: bool,
) -> Option<String> {
    let o = hits.first()?;
    let names: BTreeSet<String> = hits.iter().map(|o| o.name.clone()).collect();
    let failing: Vec<&Finding> = findings
        .iter()
        .filter(|f| {
            !f.category.is_hygiene() && f.severity >= Severity::Warning
                || f.severity == Severity::Critical
        })
        .filter(|f| {
            super::question::names_of(f)
                .iter()
                .any(|n| names.contains(n))
        })
        .collect();
    if let Some(f) = failing.first() {
        // "Is X healthy?" gets its no; "why is X failing?" is answered by the findings.
        return healthy_question.then(|| {
            format!(
                "No: {} {}/{} — {}.",
                f.object.kind,
                f.object.namespace.as_deref().unwrap_or("-"),
                f.object.name,
                f.title
            )
        });
    }
    let mut unhealthy = false;
    let mut facts: Vec<String> = Vec::new();
    // A pod without status (a manifest) says nothing about health.
    for p in st
        .pods
        .iter()
        .filter(|p| p.status.is_some())
        .filter(|p| {
            p.metadata.name.as_ref().is_some_and(|n| {
                names.contains(n) || hits.iter().any(|h| n.starts_with(&format!("{}-", h.name)))
            })
        })
        .take(3)
    {
        let cs: Vec<_> = p
            .status
            .iter()
            .flat_map(|s| s.container_statuses.iter().flatten())
            .collect();
        let ready = cs.iter().filter(|c| c.ready).count();
        let restarts: i32 = cs.iter().map(|c| c.restart_count).sum();
        let last = cs
            .iter()
            .filter_map(|c| {
                c.last_state
                    .as_ref()?
                    .terminated
                    .as_ref()?
                    .finished_at
                    .as_ref()
            })
            .map(|t| t.0)
            .max()
            .or_else(|| {
                p.metadata
                    .annotations
                    .as_ref()?
                    .get("sextant.dev/last-restart")?
                    .parse()
                    .ok()
            });
        let word = pod_status_word(p);
        unhealthy |= ready < cs.len() && word != "Succeeded"
            || !matches!(word.as_str(), "Running" | "Succeeded");
        let mut f = format!(
            "pod {} is {word} with {ready}/{} containers ready, {restarts} restart(s)",
            p.metadata.name.as_deref().unwrap_or(""),
            cs.len()
        );
        if let (Some(l), Some(now)) = (last, st.observed_at) {
            let mins = now.duration_since(l).as_secs() / 60;
            let _ = write!(f, ", the last {mins} min before the state was taken");
        }
        facts.push(f);
    }
    for d in st
        .deployments
        .iter()
        .filter(|d| d.metadata.name.as_ref().is_some_and(|n| names.contains(n)))
    {
        let s = d.status.clone().unwrap_or_default();
        let want = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
        unhealthy |= s.ready_replicas.unwrap_or(0) < want && !st.report.manifests_only;
        facts.push(format!(
            "deployment {} has {}/{} replicas ready",
            d.metadata.name.as_deref().unwrap_or(""),
            s.ready_replicas.unwrap_or(0),
            d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
        ));
    }
    let named = |m: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta| {
        m.name.as_ref().is_some_and(|n| names.contains(n))
    };
    for c in st.cron_jobs.iter().filter(|c| named(&c.metadata)) {
        let spec = c.spec.as_ref();
        let last = c
            .status
            .as_ref()
            .and_then(|s| s.last_schedule_time.as_ref())
            .map(|t| t.0.strftime("%Y-%m-%d %H:%M UTC").to_string());
        if spec.and_then(|s| s.suspend) == Some(true) {
            unhealthy = true;
            facts.push(format!(
                "cronjob {} is suspended (spec.suspend: true), so it creates no jobs until resumed (`kubectl -n {} patch cronjob {} -p '{{\"spec\":{{\"suspend\":false}}}}'`)",
                c.metadata.name.as_deref().unwrap_or(""),
                c.metadata.namespace.as_deref().unwrap_or("default"),
                c.metadata.name.as_deref().unwrap_or("")
            ));
        } else {
            facts.push(format!(
                "cronjob {} runs on schedule `{}`",
                c.metadata.name.as_deref().unwrap_or(""),
                spec.map_or("", |s| s.schedule.as_str())
            ));
        }
        if let Some(l) = last {
            facts.push(format!("it last scheduled a job at {l}"));
        }
    }
    for s in st.stateful_sets.iter().filter(|s| named(&s.metadata)) {
        let want = s.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
        let ready = s
            .status
            .as_ref()
            .and_then(|s| s.ready_replicas)
            .unwrap_or(0);
        unhealthy |= ready < want && !st.report.manifests_only;
        facts.push(format!(
            "statefulset {} has {ready}/{want} replicas ready",
            s.metadata.name.as_deref().unwrap_or("")
        ));
    }
    for n in st.nodes.iter().filter(|n| named(&n.metadata)) {
        let ready = n
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .and_then(|c| c.iter().find(|c| c.type_ == "Ready"))
            .map(|c| c.status.clone());
        unhealthy |= ready.as_deref() != Some("True");
        facts.push(format!(
            "node {} is Ready={}{}",
            n.metadata.name.as_deref().unwrap_or(""),
            ready.unwrap_or_else(|| "unknown".into()),
            if n.spec.as_ref().and_then(|s| s.unschedulable) == Some(true) {
                " and cordoned"
            } else {
                ""
            }
        ));
    }
    for c in st.pvcs.iter().filter(|c| named(&c.metadata)) {
        let phase = c
            .status
            .as_ref()
            .and_then(|s| s.phase.clone())
            .unwrap_or_else(|| "Unknown".into());
        let cname = c.metadata.name.as_deref().unwrap_or("");
        let waiting = st
            .events_for("PersistentVolumeClaim", &c.metadata)
            .iter()
            .any(|e| e.reason.as_deref() == Some("WaitForFirstConsumer"));
        if phase == "Pending" && waiting {
            facts.push(format!("claim {cname} is Pending because its StorageClass binds on first use (WaitForFirstConsumer): it binds when a pod that uses it is scheduled — expected, not a failure"));
        } else {
            unhealthy |= phase != "Bound";
            let vol = c.spec.as_ref().and_then(|s| s.volume_name.clone());
            facts.push(format!(
                "claim {cname} is {phase}{}",
                vol.map(|v| format!(" to volume {v}")).unwrap_or_default()
            ));
        }
    }
    let warning = st
        .events
        .iter()
        .filter(|e| {
            e.type_.as_deref() == Some("Warning")
                && e.involved_object.name.as_ref().is_some_and(|n| {
                    names.contains(n) || hits.iter().any(|h| n.starts_with(&format!("{}-", h.name)))
                })
        })
        .max_by_key(|e| crate::state::event_time(e));
    if let Some(e) = warning {
        facts.push(format!(
            "its last warning event: {} “{}”",
            e.reason.as_deref().unwrap_or(""),
            crate::redact::redact(e.message.as_deref().unwrap_or("").trim())
        ));
    }
    if facts.is_empty() {
        return Some(format!(
            "{} {} shows no failure in its status in {}.",
            capital(&o.kind.to_lowercase()),
            o.name,
            where_(st)
        ));
    }
    if st.report.manifests_only && !unhealthy {
        return None;
    }
    // A status that looks fine while the logs report errors is not "healthy": the logs
    // (shown after this) are the lead.
    let log_errors = st.logs.pods().any(|(ns, p)| {
        (names.contains(p) || hits.iter().any(|h| p.starts_with(&format!("{}-", h.name))))
            && !crate::logs::signatures::of_pod(&st.logs, ns, p).is_empty()
    });
    let verdict = if unhealthy {
        "is not healthy, though Sextant found no cause"
    } else if log_errors {
        "shows no failure in its status, but its log reports errors (below)"
    } else {
        "looks healthy"
    };
    Some(format!(
        "{} {} {verdict}. By its status: {}.",
        capital(&o.kind.to_lowercase()),
        o.name,
        facts.join("; ")
    ))
}
