//! Every drafted policy is valid YAML for its engine: checked against the engines' own
//! schemas (Kyverno and Gatekeeper CRDs, the Kubernetes OpenAPI document for admission types),
//! copied under tests/data/policy/ with their PROVENANCE.

mod common;

use serde_json::Value;
use sextant::policy::{Engine, draft};
use std::path::PathBuf;

/// The upstream schemas copied for these tests.
fn data(p: &str) -> PathBuf {
    common::data("policy").join(p)
}

/// A minimal structural validator for OpenAPI v3 schemas (types, properties, required,
/// preserve-unknown-fields), enough to catch a misspelt or misplaced field.
fn validate(v: &Value, schema: &Value, path: &str, errors: &mut Vec<String>) {
    if schema["x-kubernetes-preserve-unknown-fields"] == true || schema.is_null() {
        return;
    }
    let ty = schema["type"].as_str().unwrap_or("");
    match (ty, v) {
        ("object", Value::Object(o)) | ("", Value::Object(o)) => {
            for r in schema["required"].as_array().into_iter().flatten() {
                if let Some(k) = r.as_str()
                    && !o.contains_key(k)
                {
                    errors.push(format!("{path}.{k}: required"));
                }
            }
            let props = schema["properties"].as_object();
            for (k, val) in o {
                match props.and_then(|p| p.get(k)) {
                    Some(s) => validate(val, s, &format!("{path}.{k}"), errors),
                    None if schema.get("additionalProperties").is_some() => validate(
                        val,
                        &schema["additionalProperties"],
                        &format!("{path}.{k}"),
                        errors,
                    ),
                    None if props.is_some() => errors.push(format!("{path}.{k}: unknown field")),
                    None => {}
                }
            }
        }
        ("array", Value::Array(a)) => {
            for (i, x) in a.iter().enumerate() {
                validate(x, &schema["items"], &format!("{path}[{i}]"), errors);
            }
        }
        ("string", Value::String(_)) | ("boolean", Value::Bool(_)) => {}
        ("integer", Value::Number(_)) | ("number", Value::Number(_)) => {}
        (t, _) if !t.is_empty() => errors.push(format!("{path}: expected {t}")),
        _ => {}
    }
}

fn crd_schema(file: &str, kind: &str) -> Value {
    let docs = sextant::policy::parse_documents(&data(&format!("crds/{file}"))).expect("crd");
    let crd = docs
        .iter()
        .find(|d| d["spec"]["names"]["kind"] == kind)
        .expect("kind");
    let versions = crd["spec"]["versions"].as_array().expect("versions");
    let v = versions
        .iter()
        .find(|v| v["name"] == "v1")
        .unwrap_or(&versions[0]);
    v["schema"]["openAPIV3Schema"].clone()
}

/// The admission types' schema from the Kubernetes OpenAPI document, with `$ref`s inlined.
fn k8s_schema(kind: &str) -> Value {
    let text = std::fs::read_to_string(data(
        "crds/kubernetes/apis__admissionregistration.k8s.io__v1_openapi.json",
    ))
    .expect("openapi");
    let doc: Value = serde_json::from_str(&text).expect("json");
    let schemas = doc["components"]["schemas"].clone();
    fn inline(v: &Value, all: &Value, depth: usize) -> Value {
        if depth > 12 {
            return Value::Null;
        }
        match v {
            Value::Object(o) => {
                let r = o.get("$ref").and_then(Value::as_str).or_else(|| {
                    o.get("allOf")
                        .and_then(|a| a.get(0))
                        .and_then(|x| x.get("$ref"))
                        .and_then(Value::as_str)
                });
                if let Some(r) = r {
                    let name = r.rsplit('/').next().unwrap_or("");
                    return inline(&all[name], all, depth + 1);
                }
                Value::Object(
                    o.iter()
                        .map(|(k, x)| (k.clone(), inline(x, all, depth + 1)))
                        .collect(),
                )
            }
            Value::Array(a) => Value::Array(a.iter().map(|x| inline(x, all, depth + 1)).collect()),
            other => other.clone(),
        }
    }
    let key = format!("io.k8s.api.admissionregistration.v1.{kind}");
    inline(&schemas[key.as_str()], &schemas, 0)
}

#[test]
fn drafted_yaml_is_valid_against_the_engines_schemas() {
    let kyverno = crd_schema("kyverno/kyverno.io_clusterpolicies.yaml", "ClusterPolicy");
    let vpol = crd_schema(
        "kyverno/policies.kyverno.io_validatingpolicies.yaml",
        "ValidatingPolicy",
    );
    let template = crd_schema(
        "gatekeeper/constrainttemplate-customresourcedefinition.yaml",
        "ConstraintTemplate",
    );
    let vap = k8s_schema("ValidatingAdmissionPolicy");
    let binding = k8s_schema("ValidatingAdmissionPolicyBinding");
    assert!(vap["properties"]["spec"].is_object(), "schema found");
    for rule in sextant::policy::catalog::rules() {
        let mut engines = Engine::ALL.to_vec();
        engines.push(Engine::KyvernoClusterPolicy);
        let req = draft::request_for_category(rule.category, engines).expect("req");
        let d = draft::draft(&req, Vec::new()).expect("draft");
        assert!(d.proven(), "{}", rule.slug);
        for e in &d.drafts {
            for (name, text) in &e.files {
                let v: Value = serde_saphyr::from_str(text).expect("yaml");
                let schema = match (e.engine, name.as_str()) {
                    (Engine::Kyverno, _) => {
                        assert_eq!(v["kind"], "ValidatingPolicy");
                        &vpol
                    }
                    (Engine::KyvernoClusterPolicy, _) => {
                        assert_eq!(v["kind"], "ClusterPolicy");
                        // Kyverno generates the controller rules: the draft matches Pods.
                        assert_eq!(
                            v["spec"]["rules"][0]["match"]["any"][0]["resources"]["kinds"],
                            serde_json::json!(["Pod"])
                        );
                        &kyverno
                    }
                    (Engine::Gatekeeper, "template.yaml") => &template,
                    (Engine::Gatekeeper, _) => continue, // constraints are typed by their template
                    (Engine::Vap, "policy.yaml") => &vap,
                    (Engine::Vap, _) => &binding,
                };
                let mut errors = Vec::new();
                validate(&v, schema, "", &mut errors);
                assert!(errors.is_empty(), "{} {name}: {errors:?}", rule.slug);
            }
        }
    }
    // The validator does catch a misplaced field.
    for (bad, schema) in [
        (
            serde_json::json!({"spec": {"validationFailureActon": "Audit"}}),
            &kyverno,
        ),
        (
            serde_json::json!({"spec": {"autogen": {"controllers": []}}}),
            &vpol,
        ),
    ] {
        let mut errors = Vec::new();
        validate(&bad, schema, "", &mut errors);
        assert!(!errors.is_empty(), "{bad}");
    }
}
