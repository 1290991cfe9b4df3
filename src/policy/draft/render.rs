//! Each engine's files for a drafted rule, and their proof: evaluated in-process, the
//! offending object denied and the fixed one admitted.

use super::super::catalog::{CEL_VARIABLES, REGO_PRELUDE, Rule};
use super::super::{Engine, SYSTEM_NAMESPACES, gatekeeper, kyverno, to_yaml, vap};
use super::{Proof, Scope};
use crate::findings::{Finding, GuidanceRef};
use serde_json::{Value, json};
use std::collections::BTreeMap;

fn camel(slug: &str) -> String {
    slug.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// The API groups of the kinds a rule governs: `(group, kinds)`.
fn groups(kinds: &[&str]) -> Vec<(&'static str, Vec<String>)> {
    let mut out: Vec<(&'static str, Vec<String>)> = Vec::new();
    for k in kinds {
        let g = match *k {
            "Pod" | "ReplicationController" => "",
            "Job" | "CronJob" => "batch",
            _ => "apps",
        };
        match out.iter_mut().find(|(x, _)| *x == g) {
            Some((_, v)) => v.push(k.to_string()),
            None => out.push((g, vec![k.to_string()])),
        }
    }
    out
}

fn annotations(rule: &Rule, finding: Option<&Finding>, guidance: &[GuidanceRef]) -> Value {
    let mut a = json!({
        "policies.kyverno.io/title": rule.title,
        "policies.kyverno.io/category": format!("Sextant: {}", rule.category.as_str()),
        "policies.kyverno.io/severity": rule.severity,
        "policies.kyverno.io/subject": "Pod",
        "policies.kyverno.io/description": rule.description,
        "sextant.dev/category": rule.category.as_str(),
    });
    if let Some(f) = finding {
        a["sextant.dev/finding"] = json!(f.id);
    }
    if let Some(g) = guidance.first() {
        a["sextant.dev/level-4-guidance"] = json!(format!("{} ({})", g.heading, g.id));
    }
    a
}

/// The policy files of one engine and scope.
pub fn render(
    rule: &Rule,
    engine: Engine,
    scope: &Scope,
    finding: Option<&Finding>,
    guidance: &[GuidanceRef],
    registries: &[String],
) -> BTreeMap<String, String> {
    let name = format!("sextant-{}{}", rule.slug, scope.suffix());
    let mut variables: Vec<Value> = CEL_VARIABLES
        .iter()
        .map(|(n, e)| json!({"name": n, "expression": e}))
        .collect();
    if rule.registries {
        // A CEL list literal of the trusted prefixes (they are registry names: no quotes).
        let list = registries
            .iter()
            .map(|r| format!("'{}'", r.replace(['\\', '\''], "")))
            .collect::<Vec<_>>()
            .join(", ");
        variables.push(json!({"name": "allowed", "expression": format!("[{list}]")}));
    }
    let mut files = BTreeMap::new();
    match engine {
        Engine::Kyverno => {
            // A ValidatingPolicy on Pods: Kyverno generates the Deployment, StatefulSet…
            // versions itself (autogen), so reports name the controller once.
            let p = json!({
                "apiVersion": "policies.kyverno.io/v1",
                "kind": "ValidatingPolicy",
                "metadata": {"name": name, "annotations": annotations(rule, finding, guidance)},
                "spec": {
                    "validationActions": ["Audit"],
                    "evaluation": {"background": {"enabled": true}},
                    "matchConstraints": {
                        "resourceRules": [{"apiGroups": [""], "apiVersions": ["v1"],
                            "operations": ["CREATE", "UPDATE"], "resources": ["pods"]}],
                        "namespaceSelector": namespace_selector(scope),
                    },
                    "autogen": {"podControllers": {"controllers": POD_CONTROLLERS}},
                    "variables": variables,
                    "validations": [{"expression": rule.cel, "messageExpression": rule.cel_message}],
                },
            });
            files.insert("policy.yaml".into(), to_yaml(&p));
        }
        Engine::KyvernoClusterPolicy => {
            // Kyverno's legacy type, in the v1.19 CRD's current fields: `failureAction` per
            // rule (`spec.validationFailureAction` is deprecated) and a rule on Pods that
            // Kyverno auto-generates for the pod controllers.
            let mut resources = json!({"kinds": ["Pod"]});
            if let Scope::Namespace(ns) = scope {
                resources["namespaces"] = json!([ns]);
            }
            let mut r = json!({
                "name": rule.slug,
                "match": {"any": [{"resources": resources}]},
                "validate": {"failureAction": "Audit", "cel": {
                    "variables": variables,
                    "expressions": [{"expression": rule.cel, "messageExpression": rule.cel_message}],
                }},
            });
            if *scope == Scope::Cluster {
                r["exclude"] = json!({"any": [{"resources": {"namespaces": SYSTEM_NAMESPACES}}]});
            }
            let p = json!({
                "apiVersion": "kyverno.io/v1",
                "kind": "ClusterPolicy",
                "metadata": {"name": name, "annotations": annotations(rule, finding, guidance)},
                "spec": {"background": true, "rules": [r]},
            });
            files.insert("policy.yaml".into(), to_yaml(&p));
        }
        Engine::Gatekeeper => {
            let kind = format!("Sextant{}", camel(rule.slug));
            let tname = kind.to_ascii_lowercase();
            // The rule's `deny` becomes `violation` outside the exemptions (a Pod's UPDATE,
            // `exemptImages`): see GATEKEEPER_EXEMPTIONS.
            let rego = format!(
                "package {tname}\n\n{REGO_PRELUDE}\n{GATEKEEPER_EXEMPTIONS}\n{}",
                rule.rego
            );
            let mut params = json!({"exemptImages": {"type": "array", "items": {"type": "string"},
                "description": "Images (a trailing * matches a prefix) this constraint does not check."}});
            if rule.registries {
                params["repos"] = json!({"type": "array", "description": "Image prefixes to admit.", "items": {"type": "string"}});
            }
            // The same rule as CEL (Gatekeeper's K8sNativeValidation engine, which can also
            // run it as a ValidatingAdmissionPolicy), beside the Rego.
            // Gatekeeper's variables: the draft's, the trusted registries from the
            // constraint's parameters, and containers minus `exemptImages`.
            let mut cel_variables = variables.clone();
            for v in cel_variables.iter_mut() {
                if v["name"] == "containers" {
                    let all = v["expression"].as_str().unwrap_or_default().to_string();
                    v["expression"] = json!(format!(
                        "({all}).filter(c, !(has(variables.params.exemptImages) && variables.params.exemptImages.exists(e, e.endsWith('*') ? c.image.startsWith(e.substring(0, size(e) - 1)) : c.image == e)))"
                    ));
                } else if v["name"] == "allowed" {
                    v["expression"] = json!("variables.params.repos");
                }
            }
            let cel = json!({
                "matchConditions": [{"name": "exempt-pod-update",
                    "expression": "!(request.operation == 'UPDATE' && object.kind == 'Pod')"}],
                "variables": cel_variables,
                "validations": [{"expression": rule.cel, "messageExpression": rule.cel_message}],
            });
            let t = json!({
                "apiVersion": "templates.gatekeeper.sh/v1",
                "kind": "ConstraintTemplate",
                "metadata": {"name": tname, "annotations": {
                    "metadata.gatekeeper.sh/title": rule.title,
                    "description": rule.description,
                    "sextant.dev/category": rule.category.as_str(),
                }},
                "spec": {
                    "crd": {"spec": {"names": {"kind": kind}, "validation": {"openAPIV3Schema":
                        json!({"type": "object", "properties": params})}}},
                    "targets": [{"target": "admission.k8s.gatekeeper.sh", "code": [
                        {"engine": "K8sNativeValidation", "source": cel},
                        {"engine": "Rego", "source": {"rego": rego}},
                    ]}],
                },
            });
            let kinds: Vec<Value> = groups(rule.kinds)
                .into_iter()
                .map(|(g, k)| json!({"apiGroups": [g], "kinds": k}))
                .collect();
            let mut m = json!({"kinds": kinds});
            match scope {
                Scope::Namespace(ns) => m["namespaces"] = json!([ns]),
                Scope::Cluster => m["excludedNamespaces"] = json!(SYSTEM_NAMESPACES),
            }
            let mut ann = annotations(rule, finding, guidance);
            if let Some(o) = ann.as_object_mut() {
                o.retain(|k, _| k.starts_with("sextant.dev/"));
            }
            let mut c = json!({
                "apiVersion": "constraints.gatekeeper.sh/v1beta1",
                "kind": kind,
                "metadata": {"name": name, "annotations": ann},
                "spec": {"enforcementAction": "dryrun", "match": m},
            });
            if rule.registries {
                c["spec"]["parameters"] = json!({"repos": registries});
            }
            files.insert("template.yaml".into(), to_yaml(&t));
            files.insert("constraint.yaml".into(), to_yaml(&c));
        }
        Engine::Vap => {
            let rules: Vec<Value> = groups(rule.kinds)
                .into_iter()
                .map(|(g, k)| {
                    json!({"apiGroups": [g], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"],
                        "resources": k.iter().map(|k| super::super::resource_of(k)).collect::<Vec<_>>()})
                })
                .collect();
            let mut ann = annotations(rule, finding, guidance);
            if let Some(o) = ann.as_object_mut() {
                o.retain(|k, _| k.starts_with("sextant.dev/"));
            }
            let pname = format!("sextant-{}", rule.slug);
            let p = json!({
                "apiVersion": "admissionregistration.k8s.io/v1",
                "kind": "ValidatingAdmissionPolicy",
                "metadata": {"name": pname, "annotations": ann},
                "spec": {
                    "failurePolicy": "Fail",
                    "matchConstraints": {"resourceRules": rules},
                    "variables": variables,
                    "validations": [{"expression": rule.cel, "messageExpression": rule.cel_message, "reason": "Forbidden"}],
                },
            });
            let selector = namespace_selector(scope);
            let b = json!({
                "apiVersion": "admissionregistration.k8s.io/v1",
                "kind": "ValidatingAdmissionPolicyBinding",
                "metadata": {"name": name},
                "spec": {"policyName": pname, "validationActions": ["Warn", "Audit"],
                    "matchResources": {"namespaceSelector": selector}},
            });
            files.insert("policy.yaml".into(), to_yaml(&p));
            files.insert("binding.yaml".into(), to_yaml(&b));
        }
    }
    files
}

/// Rego every Gatekeeper draft carries after the prelude: the UPDATE exemption and
/// `exemptImages`, as the upstream pod security templates have them.
const GATEKEEPER_EXEMPTIONS: &str = r#"violation[v] {
  not exempt_update
  deny[v]
}

# A Pod's spec is immutable: an UPDATE (a label change) of an existing pod is not checked
# again. Controllers are, since an update changes their pod template.
exempt_update {
  input.review.operation == "UPDATE"
  input.review.object.kind == "Pod"
}

exempt_image(image) {
  exemption := input.parameters.exemptImages[_]
  endswith(exemption, "*")
  startswith(image, trim_suffix(exemption, "*"))
}

exempt_image(image) {
  input.parameters.exemptImages[_] == image
}
"#;

/// The Pod controllers a Kyverno ValidatingPolicy on Pods is generated for.
const POD_CONTROLLERS: [&str; 6] = [
    "deployments",
    "statefulsets",
    "daemonsets",
    "replicasets",
    "jobs",
    "cronjobs",
];

/// The namespaces a draft applies in: one, or all but the system ones.
fn namespace_selector(scope: &Scope) -> Value {
    match scope {
        Scope::Namespace(ns) => json!({"matchLabels": {"kubernetes.io/metadata.name": ns}}),
        Scope::Cluster => json!({"matchExpressions": [{"key": "kubernetes.io/metadata.name",
            "operator": "NotIn", "values": SYSTEM_NAMESPACES}]}),
    }
}

fn parse(text: &str) -> Result<Value, String> {
    serde_saphyr::from_str(text).map_err(|e| format!("the draft is not valid YAML: {e}"))
}

/// Evaluate one engine's files: `Some(message)` when `object` is denied.
pub fn evaluate(
    engine: Engine,
    files: &BTreeMap<String, String>,
    object: &Value,
) -> Result<Option<String>, String> {
    let file = |n: &str| {
        files
            .get(n)
            .ok_or_else(|| format!("{n} missing"))
            .and_then(|t| parse(t))
    };
    match engine {
        Engine::Kyverno | Engine::KyvernoClusterPolicy => {
            let p =
                kyverno::Policy::from_object(&file("policy.yaml")?).map_err(|e| e.to_string())?;
            for (_, o) in p.evaluate(object) {
                match o {
                    kyverno::Outcome::Fail(m) => return Ok(Some(m)),
                    kyverno::Outcome::Error(e) => return Err(e),
                    _ => {}
                }
            }
            Ok(None)
        }
        Engine::Gatekeeper => {
            let t = gatekeeper::Template::from_object(&file("template.yaml")?)
                .map_err(|e| e.to_string())?;
            let c = gatekeeper::Constraint::from_object(&file("constraint.yaml")?)
                .map_err(|e| e.to_string())?;
            if !c.matches(object) {
                return Ok(None);
            }
            let v = t
                .violations(object, &c.parameters)
                .map_err(|e| e.to_string())?;
            // The CEL source must reach the same verdict as the Rego.
            let review = gatekeeper::review(object, "CREATE", None);
            if let Some(cel) = t.cel_violations(&review, object, &c.parameters) {
                let cel = cel.map_err(|e| format!("the CEL source: {e}"))?;
                if cel.is_empty() != v.is_empty() {
                    return Err(format!(
                        "the CEL source and the Rego disagree: Rego {} violation(s), CEL {}",
                        v.len(),
                        cel.len()
                    ));
                }
            }
            Ok(v.first().map(|v| v.msg.clone()))
        }
        Engine::Vap => {
            let p = vap::Policy::from_object(&file("policy.yaml")?).map_err(|e| e.to_string())?;
            let b = vap::Binding::from_object(&file("binding.yaml")?).map_err(|e| e.to_string())?;
            match p.evaluate(object, Some(&b), None) {
                vap::Verdict::Deny(m) => Ok(Some(m)),
                vap::Verdict::Error(e) => Err(e),
                _ => Ok(None),
            }
        }
    }
}

/// Deny the offending object, admit the fixed one.
pub fn prove(
    engine: Engine,
    files: &BTreeMap<String, String>,
    offending: &Value,
    fixed: &Value,
) -> Proof {
    let denied = match evaluate(engine, files, offending) {
        Ok(Some(m)) => Ok(m),
        Ok(None) => Err("the offending object was admitted".into()),
        Err(e) => Err(format!("evaluating the offending object failed: {e}")),
    };
    let admitted = match evaluate(engine, files, fixed) {
        Ok(None) => Ok(()),
        Ok(Some(m)) => Err(format!("the fixed object was denied: {m}")),
        Err(e) => Err(format!("evaluating the fixed object failed: {e}")),
    };
    Proof { denied, admitted }
}
