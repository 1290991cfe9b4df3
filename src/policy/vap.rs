//! ValidatingAdmissionPolicy and its bindings, evaluated as the API server does:
//! `matchConstraints` (resource rules, namespace selector), the binding's `matchResources`,
//! `matchConditions`, `variables`, then `validations` with `message`/`messageExpression`;
//! `params` from the binding's `paramRef` when the param object is given.

use super::cel::{self, Expr, Subject};
use super::resource_rules::ResourceRules;
use super::{PolicyError, str_at};
use crate::jsonptr::Pointer as _;
use serde_json::Value;

struct Validation {
    expr: Expr,
    message: Option<String>,
    message_expr: Option<Expr>,
}

/// A compiled ValidatingAdmissionPolicy.
pub struct Policy {
    pub name: String,
    match_constraints: ResourceRules,
    match_conditions: Vec<(String, Expr)>,
    variables: Vec<(String, Expr)>,
    validations: Vec<Validation>,
    /// `spec.paramKind.kind`, when the policy takes params.
    pub param_kind: Option<String>,
    /// What its expressions read of `object`.
    pub reach: cel::Reach,
}

impl std::fmt::Debug for Policy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Policy")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// A binding of a policy to resources, with its actions.
#[derive(Debug, Clone)]
pub struct Binding {
    pub name: String,
    pub policy: String,
    pub actions: Vec<String>,
    /// `spec.matchResources` (`None`: absent, the policy's constraints alone).
    match_resources: Option<ResourceRules>,
    param_ref: Value,
}

/// The verdict for one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Admit,
    Deny(String),
    /// Not matched (constraints, binding or match conditions).
    NotMatched,
    Error(String),
}

/// Compile problems of one expression, collected rather than stopping at the first.
#[derive(Debug, Clone)]
pub struct CompileIssue {
    pub field: String,
    pub expression: String,
    pub problem: String,
}

impl Policy {
    pub fn from_object(p: &Value) -> Result<Policy, PolicyError> {
        let (policy, issues) = Policy::compile(p);
        match (policy, issues.first()) {
            (Some(p), None) => Ok(p),
            (_, Some(i)) => Err(PolicyError::Invalid {
                what: format!(
                    "ValidatingAdmissionPolicy {}",
                    str_at(p, "/metadata/name").unwrap_or("(unnamed)")
                ),
                why: format!("{}: {}", i.field, i.problem),
            }),
            (None, None) => Err(PolicyError::Invalid {
                what: "ValidatingAdmissionPolicy".into(),
                why: "no spec".into(),
            }),
        }
    }

    /// Compile every expression, returning the policy (if all compiled) and every issue,
    /// including static ones: a field of `object` that no matched kind has at the top level
    /// (the API server's type check reports these as warnings).
    pub fn compile(p: &Value) -> (Option<Policy>, Vec<CompileIssue>) {
        let name = str_at(p, "/metadata/name")
            .unwrap_or("(unnamed)")
            .to_string();
        let mut issues = Vec::new();
        let mut compile_list = |field: &str, key: &str| -> Vec<(String, Option<Expr>, Value)> {
            let mut out = Vec::new();
            for (i, e) in p
                .at(&format!("/spec/{field}"))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                let src = str_at(e, &format!("/{key}")).unwrap_or("");
                let compiled = match cel::compile(src) {
                    Ok(x) if x.outside_calls().next().is_some() => {
                        let calls: Vec<&str> = x.outside_calls().collect();
                        issues.push(CompileIssue {
                            field: format!("spec.{field}[{i}].{key}"),
                            expression: src.to_string(),
                            problem: format!(
                                "calls {}, which needs the API server (or the cluster): not evaluated offline",
                                calls.join(", ")
                            ),
                        });
                        None
                    }
                    Ok(x) => Some(x),
                    Err(problem) => {
                        issues.push(CompileIssue {
                            field: format!("spec.{field}[{i}].{key}"),
                            expression: src.to_string(),
                            problem,
                        });
                        None
                    }
                };
                if let Some(me) = str_at(e, "/messageExpression")
                    && let Err(problem) = cel::compile(me)
                {
                    issues.push(CompileIssue {
                        field: format!("spec.{field}[{i}].messageExpression"),
                        expression: me.to_string(),
                        problem,
                    });
                }
                for top in object_fields(src) {
                    if !["apiVersion", "kind", "metadata", "spec", "status"].contains(&top.as_str())
                    {
                        issues.push(CompileIssue {
                            field: format!("spec.{field}[{i}].{key}"),
                            expression: src.to_string(),
                            problem: format!(
                                "type check: undefined field '{top}' (objects have apiVersion, kind, metadata, spec, status)"
                            ),
                        });
                    }
                }
                out.push((
                    str_at(e, "/name").unwrap_or("").to_string(),
                    compiled,
                    e.clone(),
                ));
            }
            out
        };
        let validations = compile_list("validations", "expression");
        let conditions = compile_list("matchConditions", "expression");
        let variables = compile_list("variables", "expression");
        if !issues.is_empty() {
            return (None, issues);
        }
        let pick = |v: Vec<(String, Option<Expr>, Value)>| -> Vec<(String, Expr)> {
            v.into_iter()
                .filter_map(|(n, e, _)| e.map(|e| (n, e)))
                .collect()
        };
        let validations: Vec<Validation> = validations
            .into_iter()
            .filter_map(|(_, e, raw)| {
                Some(Validation {
                    expr: e?,
                    message: str_at(&raw, "/message").map(str::to_string),
                    message_expr: str_at(&raw, "/messageExpression")
                        .and_then(|m| cel::compile(m).ok()),
                })
            })
            .collect();
        let match_conditions = pick(conditions);
        let variables = pick(variables);
        let reach = cel::Reach::of(
            variables.iter().map(|(n, e)| (n.as_str(), e)),
            match_conditions.iter().map(|(_, e)| e).chain(
                validations
                    .iter()
                    .flat_map(|v| std::iter::once(&v.expr).chain(&v.message_expr)),
            ),
        );
        (
            Some(Policy {
                name,
                match_constraints: ResourceRules::new(
                    p.at("/spec/matchConstraints").unwrap_or(&Value::Null),
                ),
                match_conditions,
                variables,
                validations,
                param_kind: str_at(p, "/spec/paramKind/kind").map(str::to_string),
                reach,
            }),
            issues,
        )
    }

    /// Evaluate `object` (a CREATE) under `binding` (None: the policy's own constraints only),
    /// with `params` when the policy takes them, its namespace unknown (`namespaceObject` is
    /// what the API server guarantees of it).
    pub fn evaluate(
        &self,
        object: &Value,
        binding: Option<&Binding>,
        params: Option<&Value>,
    ) -> Verdict {
        self.evaluate_subject(&Subject::create(object), binding, params, None)
    }

    /// [`Policy::evaluate`] over an object already prepared for CEL (shared by policies):
    /// `namespaceObject` is the subject's ([`Subject::in_namespace`]), `namespace_labels` what
    /// `namespaceSelector`s match.
    pub fn evaluate_subject(
        &self,
        subject: &Subject,
        binding: Option<&Binding>,
        params: Option<&Value>,
        namespace_labels: Option<&Value>,
    ) -> Verdict {
        match self.run(subject, binding, params, namespace_labels, false) {
            Ok(None) => Verdict::NotMatched,
            Ok(Some(d)) => d.into_iter().next().map_or(Verdict::Admit, Verdict::Deny),
            Err(e) => Verdict::Error(e),
        }
    }

    /// Every failing validation's message (not only the first), as Gatekeeper counts
    /// violations of a CEL template; empty when admitted or not matched.
    pub fn denials(
        &self,
        subject: &Subject,
        params: Option<&Value>,
    ) -> Result<Vec<String>, String> {
        self.run(subject, None, params, None, true)
            .map(Option::unwrap_or_default)
    }

    /// Match, bind variables, check validations (all of them, or up to the first failure).
    /// `Ok(None)`: not matched.
    fn run(
        &self,
        subject: &Subject,
        binding: Option<&Binding>,
        params: Option<&Value>,
        namespace_labels: Option<&Value>,
        all: bool,
    ) -> Result<Option<Vec<String>>, String> {
        let object: &serde_json::Value = &subject.json;
        let op = subject.operation();
        if !self.match_constraints.matches(object, namespace_labels, op) {
            return Ok(None);
        }
        if let Some(m) = binding.and_then(|b| b.match_resources.as_ref())
            && !m.matches(object, namespace_labels, op)
        {
            return Ok(None);
        }
        let mut scope = subject.scope_for(&self.reach);
        if let Some(p) = params {
            scope.add("params", p);
        }
        for (_, c) in &self.match_conditions {
            if !scope.check(c)? {
                return Ok(None);
            }
        }
        for (name, e) in &self.variables {
            scope.declare(name, e);
        }
        let mut denied = Vec::new();
        for v in &self.validations {
            if !scope.check(&v.expr)? {
                denied.push(
                    v.message_expr
                        .as_ref()
                        .and_then(|m| scope.message(m))
                        .or_else(|| v.message.clone())
                        .unwrap_or_else(|| format!("failed expression: {}", v.expr.source)),
                );
                if !all {
                    break;
                }
            }
        }
        Ok(Some(denied))
    }
}

impl Binding {
    pub fn from_object(b: &Value) -> Result<Binding, PolicyError> {
        let name = str_at(b, "/metadata/name")
            .unwrap_or("(unnamed)")
            .to_string();
        let policy = str_at(b, "/spec/policyName")
            .ok_or_else(|| PolicyError::Invalid {
                what: format!("ValidatingAdmissionPolicyBinding {name}"),
                why: "spec.policyName is missing".into(),
            })?
            .to_string();
        Ok(Binding {
            name,
            policy,
            actions: b
                .at("/spec/validationActions")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_else(|| vec!["Deny".into()]),
            match_resources: b
                .at("/spec/matchResources")
                .filter(|m| !m.is_null())
                .map(ResourceRules::new),
            param_ref: b.at("/spec/paramRef").cloned().unwrap_or(Value::Null),
        })
    }

    /// The param object this binding names, among `candidates` of the policy's param kind.
    pub fn params<'a>(&self, kind: &str, candidates: &'a [Value]) -> Option<&'a Value> {
        let name = str_at(&self.param_ref, "/name");
        let sel = self.param_ref.get("selector");
        candidates.iter().find(|c| {
            str_at(c, "/kind") == Some(kind)
                && match (name, sel) {
                    (Some(n), _) => str_at(c, "/metadata/name") == Some(n),
                    (None, Some(s)) => super::label_selector_matches(
                        s,
                        c.at("/metadata/labels").unwrap_or(&Value::Null),
                    ),
                    _ => false,
                }
        })
    }
}

/// The fields read directly off `object.` in an expression (`object.spec.x` → `spec`).
fn object_fields(src: &str) -> Vec<String> {
    let mut out = Vec::new();
    let b = src.as_bytes();
    let mut i = 0;
    while let Some(pos) = src[i..].find("object.") {
        let at = i + pos;
        let before = at.checked_sub(1).map(|j| b[j]);
        let word_start =
            before.is_none_or(|c| !(c.is_ascii_alphanumeric() || c == b'_' || c == b'.'));
        let rest = &src[at + 7..];
        let field: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if word_start && !field.is_empty() && !out.contains(&field) {
            out.push(field);
        }
        i = at + 7;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn policy() -> Value {
        json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy",
          "metadata": {"name": "replicas"},
          "spec": {"matchConstraints": {"resourceRules": [{"apiGroups": ["apps"], "apiVersions": ["v1"],
              "operations": ["CREATE", "UPDATE"], "resources": ["deployments"]}]},
            "validations": [{"expression": "object.spec.replicas <= 5",
              "messageExpression": "'replicas ' + string(object.spec.replicas) + ' > 5'"}]}})
    }

    fn deploy(n: i64) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "shop"},
            "spec": {"replicas": n}})
    }

    #[test]
    fn admits_denies_and_ignores() {
        let p = Policy::from_object(&policy()).expect("policy");
        assert_eq!(p.evaluate(&deploy(3), None, None), Verdict::Admit);
        assert_eq!(
            p.evaluate(&deploy(7), None, None),
            Verdict::Deny("replicas 7 > 5".into())
        );
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}});
        assert_eq!(p.evaluate(&pod, None, None), Verdict::NotMatched);
    }

    #[test]
    fn binding_namespace_selector() {
        let p = Policy::from_object(&policy()).expect("policy");
        let b = Binding::from_object(&json!({"metadata": {"name": "b"}, "spec": {"policyName": "replicas",
            "validationActions": ["Warn"],
            "matchResources": {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "prod"}}}}}))
        .expect("binding");
        assert_eq!(p.evaluate(&deploy(7), Some(&b), None), Verdict::NotMatched);
    }

    #[test]
    fn type_check_catches_top_level_typos() {
        let mut p = policy();
        p["spec"]["validations"][0]["expression"] = json!("object.replicas > 1");
        let (_, issues) = Policy::compile(&p);
        assert!(
            issues[0].problem.contains("undefined field 'replicas'"),
            "{issues:?}"
        );
        assert_eq!(
            object_fields("oldObject.spec == object.metadata"),
            vec!["metadata"]
        );
    }
}
