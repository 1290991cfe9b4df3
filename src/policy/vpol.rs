//! Kyverno's `policies.kyverno.io` policy types, read into a [`Policy`] of the Kyverno engine.
//!
//! A `ValidatingPolicy` is a ValidatingAdmissionPolicy with Kyverno's additions: the same
//! `matchConstraints`, `matchConditions`, `variables` and `validations`, plus
//! `validationActions` and auto-generation for Pod controllers (`spec.autogen.podControllers`;
//! a policy on Pods also checks the pod template of Deployments, CronJobs… unless the list is
//! empty). It becomes one rule named after the policy, which `kyverno test` results address
//! without a rule name.
//!
//! `MutatingPolicy`, `GeneratingPolicy`, `DeletingPolicy` and `ImageValidatingPolicy` deny
//! nothing Sextant can evaluate offline: they load as policies with no validating rule, and
//! their cases are reported as not evaluated, never as failures.

use super::cel;
use super::kyverno::{Check, Matcher, Policy, Rule, Validation};
use super::{PolicyError, str_at};
use crate::jsonptr::Pointer as _;
use serde_json::Value;

pub(super) fn from_object(p: &Value) -> Result<Policy, PolicyError> {
    let name = str_at(p, "/metadata/name")
        .unwrap_or("(unnamed)")
        .to_string();
    let kind = str_at(p, "/kind").unwrap_or("(no kind)").to_string();
    let bad = |why: String| PolicyError::Invalid {
        what: format!("{kind} {name}"),
        why,
    };
    let namespace = kind
        .starts_with("Namespaced")
        .then(|| str_at(p, "/metadata/namespace").map(str::to_string))
        .flatten();
    if !matches!(
        kind.as_str(),
        "ValidatingPolicy" | "NamespacedValidatingPolicy"
    ) {
        return Ok(Policy::not_evaluated(name, namespace, None, Some(kind)));
    }
    let spec = p.get("spec").unwrap_or(&Value::Null);
    let compile = |e: &str| cel::compile(e).map_err(&bad);
    let list = |k: &str| {
        spec.get(k)
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
    };
    let mut validations = Vec::new();
    for v in list("validations") {
        validations.push(Validation {
            expr: compile(str_at(v, "/expression").unwrap_or(""))?,
            message: str_at(v, "/message").map(str::to_string),
            message_expr: str_at(v, "/messageExpression").map(compile).transpose()?,
        });
    }
    let mut variables = Vec::new();
    for v in list("variables") {
        variables.push((
            str_at(v, "/name").unwrap_or("").to_string(),
            compile(str_at(v, "/expression").unwrap_or(""))?,
        ));
    }
    let mut preconditions = Vec::new();
    for c in list("matchConditions") {
        preconditions.push(compile(str_at(c, "/expression").unwrap_or(""))?);
    }
    if validations.is_empty() {
        return Err(bad("no validations".into()));
    }
    if let Some(why) = super::kyverno::offline_blocker(&preconditions, &variables, &validations) {
        return Ok(Policy::not_evaluated(name, namespace, Some(why), None));
    }
    let action = if list("validationActions")
        .iter()
        .any(|a| a.as_str() == Some("Deny"))
    {
        "Enforce"
    } else {
        "Audit"
    };
    // Pod controllers: the named ones, none for an empty list, all by default.
    let autogen = match spec.at("/autogen/podControllers/controllers") {
        Some(Value::Array(kinds)) => kinds
            .iter()
            .filter_map(Value::as_str)
            .map(controller_kind)
            .collect(),
        _ => super::kyverno::POD_CONTROLLERS.map(String::from).to_vec(),
    };
    Ok(Policy {
        name: name.clone(),
        namespace,
        action: action.into(),
        autogen,
        rules: vec![Rule {
            name,
            matcher: Matcher::Admission(super::resource_rules::ResourceRules::new(
                spec.get("matchConstraints").unwrap_or(&Value::Null),
            )),
            check: Check::cel(preconditions, variables, validations),
        }],
        unsupported: Vec::new(),
        not_validating: Vec::new(),
    })
}

/// `deployments` / `Deployment` / `apps/v1/deployments` → `Deployment`.
fn controller_kind(k: &str) -> String {
    let k = k.rsplit('/').next().unwrap_or(k);
    let singular = k.strip_suffix('s').unwrap_or(k);
    match singular.to_ascii_lowercase().as_str() {
        "daemonset" => "DaemonSet",
        "deployment" => "Deployment",
        "job" => "Job",
        "statefulset" => "StatefulSet",
        "replicaset" => "ReplicaSet",
        "replicationcontroller" => "ReplicationController",
        "cronjob" => "CronJob",
        _ => k,
    }
    .to_string()
}
