//! Any object that says it is failing: `status.conditions` with `Available=False`,
//! `Ready=False`, `Degraded=True` (or any `…Failed`/`…Failing`/`…Degraded` type set to True),
//! or `status.phase: Failed`. One generic analyzer for the kinds Sextant has no typed model of:
//! operators (OLM InstallPlans and ClusterServiceVersions, OpenShift ClusterOperators) and
//! custom resources. The object's own words (reason, message) are the evidence.
//!
//! Conditions are the object's current status, so a failing one is current by definition;
//! conditions like `Progressing` or `Upgradeable` describe, they do not alarm.

use super::{Context, Draft, evidence};
use crate::findings::{Category, ObjectRef, Severity};
use crate::state::{ConditionedObject, ObjectCondition};
use std::collections::HashSet;

/// Whether a condition says its object is failing.
fn failing(c: &ObjectCondition) -> bool {
    let t = c.type_.as_str();
    let positive = matches!(t, "Available" | "Ready" | "Healthy");
    let negative = matches!(t, "Degraded" | "Failing" | "Failed" | "Stalled")
        || t.ends_with("Degraded")
        || t.ends_with("Failed")
        || t.ends_with("Failing");
    (positive && c.status == "False") || (negative && c.status == "True")
}

pub fn analyze(ctx: &Context, out: &mut Vec<Draft>) {
    let objects = &ctx.state.conditioned;
    // Objects whose failure is another failing object's (a Subscription whose InstallPlan
    // failed): reported once, on the object that failed.
    let failed_names: HashSet<(Option<&str>, &str)> = objects
        .iter()
        .filter(|o| is_failing(o))
        .map(|o| (o.namespace.as_deref(), o.name.as_str()))
        .collect();
    for o in objects {
        if !is_failing(o) {
            continue;
        }
        if o.status_refs
            .iter()
            .any(|r| failed_names.contains(&(o.namespace.as_deref(), r.as_str())))
        {
            continue;
        }
        out.push(finding(ctx, o));
    }
}

fn is_failing(o: &ConditionedObject) -> bool {
    o.phase.as_deref() == Some("Failed") || o.conditions.iter().any(failing)
}

fn finding(ctx: &Context, o: &ConditionedObject) -> Draft {
    let bad: Vec<&ObjectCondition> = o.conditions.iter().filter(|c| failing(c)).collect();
    let unavailable = bad
        .iter()
        .any(|c| c.type_ == "Available" && c.status == "False");
    // An operator that is not Available is an outage of what it runs; the rest degrade.
    let severity = if unavailable && o.kind == "ClusterOperator" {
        Severity::Critical
    } else {
        Severity::Warning
    };
    let ns = o.namespace.as_deref().unwrap_or("");
    let what: Vec<String> = bad
        .iter()
        .map(|c| {
            format!(
                "{}={}{}",
                c.type_,
                c.status,
                c.reason
                    .as_deref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default()
            )
        })
        .chain((o.phase.as_deref() == Some("Failed")).then(|| "phase Failed".to_string()))
        .collect();
    // A failed phase explains itself in the conditions that did not come true.
    let message = bad
        .iter()
        .find_map(|c| c.message.as_deref())
        .or_else(|| {
            o.conditions
                .iter()
                .filter(|c| {
                    c.status == "False" || c.reason.as_deref().is_some_and(|r| r.contains("Fail"))
                })
                .find_map(|c| c.message.as_deref())
        })
        .map(|m| m.lines().next().unwrap_or(m).to_string());
    let since = bad
        .iter()
        .filter_map(|c| c.last_transition)
        .min()
        .map(|t| {
            format!(
                " since {} ({} before the capture)",
                evidence::short_time(t),
                super::history::ago(ctx.now, t)
            )
        })
        .unwrap_or_default();
    let mut evidence_list: Vec<_> = bad
        .iter()
        .map(|c| {
            evidence::status(
                format!(
                    "condition {}={} reason={}{}",
                    c.type_,
                    c.status,
                    c.reason.as_deref().unwrap_or("-"),
                    c.message
                        .as_deref()
                        .map(|m| format!(": {m}"))
                        .unwrap_or_default()
                ),
                &o.kind,
                ns,
                &o.name,
            )
        })
        .collect();
    if o.phase.as_deref() == Some("Failed") {
        evidence_list.push(evidence::status(
            match &message {
                Some(m) => format!("status.phase=Failed: {m}"),
                None => "status.phase=Failed".to_string(),
            },
            &o.kind,
            ns,
            &o.name,
        ));
    }
    let scope = if ns.is_empty() {
        String::new()
    } else {
        format!(" -n {ns}")
    };
    Draft {
        severity,
        category: Category::ConditionFailing,
        object: ObjectRef::new(&o.kind, o.namespace.as_deref(), &o.name),
        owner: None,
        title: format!("{} {} reports {}", o.kind, o.name, what.join(", ")),
        explanation: format!(
            "{} {} says in its own status that it is failing: {}{since}.{}",
            o.kind,
            o.name,
            what.join(", "),
            message
                .map(|m| format!(" Its message: \"{m}\"."))
                .unwrap_or_default()
        ),
        evidence: evidence_list,
        remediation: format!(
            "Read the object's conditions and the controller's log for the cause it names (`kubectl get {}{scope} {} -o yaml`); fix that cause — the condition clears when the controller next reconciles.",
            o.kind.to_ascii_lowercase(),
            o.name
        ),
        score: 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cond(t: &str, s: &str) -> ObjectCondition {
        ObjectCondition {
            type_: t.into(),
            status: s.into(),
            ..Default::default()
        }
    }

    #[test]
    fn polarity_of_conditions() {
        assert!(failing(&cond("Available", "False")));
        assert!(failing(&cond("Degraded", "True")));
        assert!(failing(&cond("InstallPlanFailed", "True")));
        assert!(!failing(&cond("Degraded", "False")));
        assert!(!failing(&cond("Progressing", "True")));
        assert!(!failing(&cond("Upgradeable", "False")));
        assert!(!failing(&cond("Available", "True")));
    }
}
