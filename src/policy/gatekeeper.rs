//! Gatekeeper: a `ConstraintTemplate` (Rego, with its `libs`) and its Constraints, evaluated
//! in-process with `regorus` the way Gatekeeper's admission webhook and `gator verify` do:
//! `input.review` is the admission review, `input.parameters` the constraint's parameters,
//! `data.inventory` the cached objects for referential templates, and the answer is the set
//! `violation[{"msg": msg}]`.

use super::{PolicyError, str_at};
use crate::jsonptr::Pointer as _;
use serde_json::{Value, json};

/// A compiled template.
pub struct Template {
    /// `metadata.name`, e.g. `k8sdisallowedtags`.
    pub name: String,
    /// The Constraint kind it defines, e.g. `K8sDisallowedTags`.
    pub kind: String,
    package: String,
    /// One engine per template, reused for every review: cloning it per evaluation (to keep
    /// `&self`) cost more than the evaluation. The lock is uncontended (one thread evaluates).
    engine: std::sync::Mutex<regorus::Engine>,
    /// The template's CEL (`code: [{engine: K8sNativeValidation}]`) as a compiled policy,
    /// or why it did not compile; `None` when the template has no CEL.
    pub cel: Option<std::sync::Arc<Result<super::vap::Policy, String>>>,
}

impl Clone for Template {
    fn clone(&self) -> Template {
        Template {
            name: self.name.clone(),
            kind: self.kind.clone(),
            package: self.package.clone(),
            engine: std::sync::Mutex::new(self.engine().clone()),
            cel: self.cel.clone(),
        }
    }
}

/// Gatekeeper's K8sNativeValidation source as a ValidatingAdmissionPolicy the CEL evaluator
/// runs: the variables Gatekeeper defines first (`params`: the constraint's parameters;
/// `anyObject`: the object, or the old one of a DELETE), then the template's own.
fn cel_policy(name: &str, source: &Value) -> Result<super::vap::Policy, String> {
    let mut variables = vec![
        serde_json::json!({"name": "params", "expression": "params"}),
        serde_json::json!({"name": "anyObject", "expression": "has(request.operation) && request.operation == 'DELETE' ? oldObject : object"}),
    ];
    variables.extend(
        source
            .get("variables")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .cloned(),
    );
    let vap = serde_json::json!({
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": format!("{name}-cel")},
        "spec": {
            "matchConditions": source.get("matchConditions").cloned().unwrap_or(Value::Array(vec![])),
            "variables": variables,
            "validations": source.get("validations").cloned().unwrap_or(Value::Array(vec![])),
        },
    });
    super::vap::Policy::from_object(&vap).map_err(|e| e.to_string())
}

impl std::fmt::Debug for Template {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Template")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// One Constraint: which objects it matches and with which parameters.
#[derive(Debug, Clone)]
pub struct Constraint {
    pub kind: String,
    pub name: String,
    pub parameters: Value,
    /// `parameters` converted for Rego once.
    pub parameters_rego: regorus::Value,
    pub enforcement: String,
    matcher: Value,
}

/// One violation: the message Rego produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub msg: String,
}

impl Template {
    /// Compile a ConstraintTemplate object (Rego v0, as Gatekeeper's default engine).
    pub fn from_object(t: &Value) -> Result<Template, PolicyError> {
        let name = str_at(t, "/metadata/name")
            .unwrap_or("(unnamed)")
            .to_string();
        let bad = |why: String| PolicyError::Invalid {
            what: format!("ConstraintTemplate {name}"),
            why,
        };
        let kind = str_at(t, "/spec/crd/spec/names/kind")
            .ok_or_else(|| bad("spec.crd.spec.names.kind is missing".into()))?
            .to_string();
        let target = t
            .at("/spec/targets/0")
            .ok_or_else(|| bad("spec.targets is empty".into()))?;
        let rego = target
            .get("rego")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| {
                // Newer templates may carry the Rego under `code: [{engine: Rego, source: {rego}}]`.
                target
                    .get("code")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .find(|c| c.get("engine").and_then(Value::as_str) == Some("Rego"))
                    .and_then(|c| str_at(c, "/source/rego"))
                    .map(str::to_string)
            })
            .ok_or_else(|| bad("no Rego source in spec.targets[0]".into()))?;
        let mut engine = regorus::Engine::new();
        engine.set_rego_v0(true);
        let package = engine
            .add_policy(format!("{name}.rego"), super::rego_compat::normalize(&rego))
            .map_err(|e| bad(first_line(&e.to_string())))?;
        // Libraries sit beside `rego`, or under `code[engine=Rego].source` in newer templates.
        let code_libs = target
            .get("code")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|c| c.get("engine").and_then(Value::as_str) == Some("Rego"))
            .filter_map(|c| c.at("/source/libs").and_then(Value::as_array))
            .flatten();
        let libs: Vec<&Value> = target
            .get("libs")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .chain(code_libs)
            .collect();
        for (i, lib) in libs.into_iter().enumerate() {
            if let Some(src) = lib.as_str() {
                engine
                    .add_policy(
                        format!("{name}.lib{i}.rego"),
                        super::rego_compat::normalize(src),
                    )
                    .map_err(|e| bad(first_line(&e.to_string())))?;
            }
        }
        let cel = target
            .get("code")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|c| c.get("engine").and_then(Value::as_str) == Some("K8sNativeValidation"))
            .and_then(|c| c.get("source"))
            .map(|src| std::sync::Arc::new(cel_policy(&name, src)));
        Ok(Template {
            name,
            kind,
            package,
            engine: std::sync::Mutex::new(engine),
            cel,
        })
    }

    /// The engine (a panic elsewhere while it was held leaves it usable: inputs are reset
    /// before every evaluation).
    fn engine(&self) -> std::sync::MutexGuard<'_, regorus::Engine> {
        self.engine
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Set `data.inventory` from objects (for referential templates, as Gatekeeper's sync).
    pub fn set_inventory(&mut self, objects: &[Value]) -> Result<(), PolicyError> {
        let mut cluster = serde_json::Map::new();
        let mut namespaced = serde_json::Map::new();
        for o in objects {
            let api = str_at(o, "/apiVersion").unwrap_or("v1");
            let kind = str_at(o, "/kind").unwrap_or("");
            let name = str_at(o, "/metadata/name").unwrap_or("");
            let slot = match str_at(o, "/metadata/namespace") {
                Some(ns) => namespaced
                    .entry(ns.to_string())
                    .or_insert_with(|| json!({}))
                    .as_object_mut(),
                None => Some(&mut cluster),
            };
            if let Some(m) = slot {
                let by_api = m.entry(api.to_string()).or_insert_with(|| json!({}));
                if let Some(by_kind) = by_api.as_object_mut() {
                    let k = by_kind.entry(kind.to_string()).or_insert_with(|| json!({}));
                    if let Some(k) = k.as_object_mut() {
                        k.insert(name.to_string(), o.clone());
                    }
                }
            }
        }
        let data = json!({"inventory": {"cluster": cluster, "namespace": namespaced}});
        let engine = self
            .engine
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        engine.clear_data();
        engine
            .add_data(regorus::Value::from(data))
            .map_err(|e| PolicyError::Eval(first_line(&e.to_string())))
    }

    /// The CEL source's violations (one per failing validation) of the admission request
    /// `review` about `subject`, with the constraint's `parameters`; `None` without CEL.
    pub fn cel_violations(
        &self,
        review: &Value,
        subject: &Value,
        parameters: &Value,
    ) -> Option<Result<Vec<Violation>, String>> {
        self.cel_subject_violations(&super::cel::Subject::reviewed(subject, review), parameters)
    }

    /// [`Template::cel_violations`] of a subject already made (`policy check` makes one per
    /// object for every CEL policy of the set).
    pub fn cel_subject_violations(
        &self,
        subject: &super::cel::Subject,
        parameters: &Value,
    ) -> Option<Result<Vec<Violation>, String>> {
        let policy = match self.cel.as_ref()?.as_ref() {
            Ok(p) => p,
            Err(e) => return Some(Err(e.clone())),
        };
        let empty = serde_json::json!({});
        let params = if parameters.is_null() {
            &empty
        } else {
            parameters
        };
        Some(
            policy
                .denials(subject, Some(params))
                .map(|d| d.into_iter().map(|msg| Violation { msg }).collect()),
        )
    }

    /// The CEL source as Gatekeeper runs it when it has one: its k8scel driver is registered
    /// before the Rego driver (native validation is on by default since 3.17), and a template
    /// is evaluated by the first driver that has code for it. `None` without CEL, or when
    /// Sextant could not compile it (Rego then stands in).
    pub fn preferred_cel(&self) -> Option<&super::vap::Policy> {
        self.cel.as_deref().and_then(|r| r.as_ref().ok())
    }

    /// The violations of `object` under `constraint`'s parameters. Matching is the caller's
    /// business ([`Constraint::matches`]); `gator verify` also evaluates unmatched cases.
    pub fn violations(
        &self,
        object: &Value,
        parameters: &Value,
    ) -> Result<Vec<Violation>, PolicyError> {
        self.review(&review(object, "CREATE", None), parameters)
    }

    /// Evaluate a full `input.review` (UPDATE reviews carry `oldObject`).
    pub fn review(
        &self,
        review: &Value,
        parameters: &Value,
    ) -> Result<Vec<Violation>, PolicyError> {
        self.review_prepared(
            &regorus::Value::from(review.clone()),
            &regorus::Value::from(parameters.clone()),
        )
    }

    /// [`Template::review`] with the review and parameters already converted for Rego, so a
    /// caller evaluating many templates against one object converts it once.
    pub fn review_prepared(
        &self,
        review: &regorus::Value,
        parameters: &regorus::Value,
    ) -> Result<Vec<Violation>, PolicyError> {
        let mut input = regorus::Value::new_object();
        if let Ok(m) = input.as_object_mut() {
            // Values share their contents: these clones are reference counts.
            m.insert(regorus::Value::from("review"), review.clone());
            m.insert(regorus::Value::from("parameters"), parameters.clone());
        }
        let mut engine = self.engine();
        engine.set_input(input);
        let rule = format!("{}.violation", self.package);
        let v = engine.eval_rule(rule).map_err(|e| {
            PolicyError::Eval(format!("{}: {}", self.name, first_line(&e.to_string())))
        })?;
        if v == regorus::Value::Undefined {
            return Ok(Vec::new());
        }
        let j: Value = v
            .to_json_str()
            .ok()
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or(Value::Null);
        Ok(j.as_array()
            .into_iter()
            .flatten()
            .map(|v| Violation {
                msg: v
                    .get("msg")
                    .and_then(Value::as_str)
                    .unwrap_or("(no message)")
                    .to_string(),
            })
            .collect())
    }
}

/// The admission review Gatekeeper builds for an object.
pub fn review(object: &Value, operation: &str, old: Option<&Value>) -> Value {
    let api = str_at(object, "/apiVersion").unwrap_or("v1");
    let (group, version) = api.rsplit_once('/').unwrap_or(("", api));
    let mut r = json!({
        "kind": {"group": group, "version": version, "kind": str_at(object, "/kind").unwrap_or("")},
        "name": str_at(object, "/metadata/name").unwrap_or(""),
        "operation": operation,
        "object": object,
        "userInfo": {"username": "sextant", "groups": []},
    });
    if let Some(ns) = str_at(object, "/metadata/namespace") {
        r["namespace"] = json!(ns);
    }
    if let Some(o) = old {
        r["oldObject"] = o.clone();
    }
    r
}

impl Constraint {
    pub fn from_object(c: &Value) -> Result<Constraint, PolicyError> {
        let kind = str_at(c, "/kind").unwrap_or("").to_string();
        let name = str_at(c, "/metadata/name")
            .unwrap_or("(unnamed)")
            .to_string();
        if kind.is_empty() {
            return Err(PolicyError::Invalid {
                what: format!("Constraint {name}"),
                why: "kind is missing".into(),
            });
        }
        let parameters = c
            .at("/spec/parameters")
            .cloned()
            .unwrap_or_else(|| json!({}));
        Ok(Constraint {
            kind,
            name,
            parameters_rego: regorus::Value::from(parameters.clone()),
            parameters,
            enforcement: str_at(c, "/spec/enforcementAction")
                .unwrap_or("deny")
                .to_string(),
            matcher: c.at("/spec/match").cloned().unwrap_or(Value::Null),
        })
    }

    /// Whether the constraint's `match` selects `object` (kinds, namespaces, excluded
    /// namespaces, label selector, scope). A namespaced object with no namespace is treated
    /// as in `default`, as `kubectl apply` would place it.
    pub fn matches(&self, object: &Value) -> bool {
        let m = &self.matcher;
        let api = str_at(object, "/apiVersion").unwrap_or("v1");
        let group = api.rsplit_once('/').map_or("", |(g, _)| g);
        let kind = str_at(object, "/kind").unwrap_or("");
        if let Some(kinds) = m.get("kinds").and_then(Value::as_array) {
            let hit = kinds.iter().any(|k| {
                let groups_ok = k
                    .get("apiGroups")
                    .and_then(Value::as_array)
                    .is_none_or(|g| g.iter().any(|g| g == "*" || g == group));
                let kinds_ok = k
                    .get("kinds")
                    .and_then(Value::as_array)
                    .is_none_or(|ks| ks.iter().any(|k| k == "*" || k == kind));
                groups_ok && kinds_ok
            });
            if !hit {
                return false;
            }
        }
        let cluster_scoped = super::cluster_scoped(kind);
        let ns = str_at(object, "/metadata/namespace").unwrap_or(if cluster_scoped {
            ""
        } else {
            "default"
        });
        match str_at(m, "/scope") {
            Some("Namespaced") if cluster_scoped => return false,
            Some("Cluster") if !cluster_scoped => return false,
            _ => {}
        }
        if !cluster_scoped {
            if let Some(list) = m.get("namespaces").and_then(Value::as_array)
                && !list.iter().any(|p| glob(p.as_str().unwrap_or(""), ns))
            {
                return false;
            }
            if let Some(list) = m.get("excludedNamespaces").and_then(Value::as_array)
                && list.iter().any(|p| glob(p.as_str().unwrap_or(""), ns))
            {
                return false;
            }
        }
        if let Some(sel) = m.get("labelSelector") {
            let labels = object.at("/metadata/labels").unwrap_or(&Value::Null);
            if !super::label_selector_matches(sel, labels) {
                return false;
            }
        }
        true
    }
}

/// Gatekeeper's namespace globs: a trailing or leading `*`.
fn glob(pattern: &str, s: &str) -> bool {
    match (pattern.strip_prefix('*'), pattern.strip_suffix('*')) {
        _ if pattern == "*" => true,
        (_, Some(prefix)) => s.starts_with(prefix),
        (Some(suffix), _) => s.ends_with(suffix),
        _ => pattern == s,
    }
}

/// A regorus error on one line: `file:line:col: message` (its report spreads the location,
/// the source line, a caret and the message over several lines).
fn first_line(s: &str) -> String {
    let lines: Vec<&str> = s.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let location = lines
        .iter()
        .find_map(|l| l.strip_prefix("--> "))
        .unwrap_or_default();
    let message = lines
        .iter()
        .rev()
        .find_map(|l| l.strip_prefix("error: "))
        .unwrap_or_else(|| lines.last().copied().unwrap_or("(no message)"));
    if location.is_empty() {
        message.to_string()
    } else {
        format!("{location}: {message}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATE: &str = r#"{"apiVersion":"templates.gatekeeper.sh/v1","kind":"ConstraintTemplate",
      "metadata":{"name":"k8snolatest"},
      "spec":{"crd":{"spec":{"names":{"kind":"K8sNoLatest"}}},
        "targets":[{"target":"admission.k8s.gatekeeper.sh","rego":"package k8snolatest\nviolation[{\"msg\": msg}] {\n  c := input.review.object.spec.containers[_]\n  endswith(c.image, \":latest\")\n  msg := sprintf(\"%v uses latest\", [c.name])\n}\n"}]}}"#;

    fn pod(image: &str) -> Value {
        json!({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},
            "spec":{"containers":[{"name":"app","image":image}]}})
    }

    #[test]
    fn evaluates_violations() {
        let t = Template::from_object(&serde_json::from_str(TEMPLATE).expect("json")).expect("t");
        assert_eq!(t.kind, "K8sNoLatest");
        let v = t
            .violations(&pod("nginx:latest"), &json!({}))
            .expect("eval");
        assert_eq!(
            v,
            vec![Violation {
                msg: "app uses latest".into()
            }]
        );
        assert!(
            t.violations(&pod("nginx:1.27"), &json!({}))
                .expect("eval")
                .is_empty()
        );
    }

    #[test]
    fn bad_rego_is_an_error_not_a_panic() {
        let mut t: Value = serde_json::from_str(TEMPLATE).expect("json");
        t["spec"]["targets"][0]["rego"] = json!("package x\nviolation[{\"msg\": msg}] { msg := ");
        assert!(Template::from_object(&t).is_err());
    }

    #[test]
    fn constraint_matching() {
        let c = Constraint::from_object(&json!({"kind":"K8sNoLatest","metadata":{"name":"c"},
            "spec":{"match":{"kinds":[{"apiGroups":[""],"kinds":["Pod"]}],"excludedNamespaces":["kube-*"]}}}))
        .expect("c");
        let mut p = pod("x");
        assert!(c.matches(&p));
        p["metadata"]["namespace"] = json!("kube-system");
        assert!(!c.matches(&p));
        let d = json!({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"}});
        assert!(!c.matches(&d));
    }
}
