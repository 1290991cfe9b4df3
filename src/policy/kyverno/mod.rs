//! Kyverno `ClusterPolicy`/`Policy` rules that validate with CEL (`validate.cel`), evaluated
//! as Kyverno does: `match`/`exclude` on kinds, namespaces, operations and selectors,
//! `celPreconditions`, `validate.cel.variables`, then every expression; and Kyverno's
//! auto-generation of rules for Pod controllers (a rule on Pods also checks the pod template
//! of Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs and CronJobs unless the
//! `pod-policies.kyverno.io/autogen-controllers` annotation says `none`).
//!
//! Pattern rules (`validate.pattern`, `anyPattern`) are evaluated by [`super::pattern`];
//! `deny` conditions, `preconditions` and `foreach` lists (JMESPath over `request.object`, with
//! `element` bound) by [`super::jmes`], as an admission CREATE. Rules that need what Sextant
//! does not have (`context` lookups, `podSecurity`, nested `foreach`, global anchors) are
//! reported as unsupported rather than passed.

mod matching;
mod native;

use super::cel::{self, Expr, Subject};
use super::{PolicyError, str_at};
use crate::jsonptr::Pointer as _;
use matching::{as_pod, review};
use native::{ContextEntry, ContextSource, Entry, Native, native_check};
use serde_json::Value;

/// A rule's verdict for one resource, in `kyverno test` vocabulary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    Fail(String),
    /// The rule does not apply (match/exclude/preconditions).
    Skip,
    Error(String),
    /// The rule needs what offline evaluation does not have (a cluster lookup).
    NotEvaluated(String),
}

impl Outcome {
    pub fn word(&self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail(_) => "fail",
            Outcome::Skip => "skip",
            Outcome::Error(_) => "error",
            Outcome::NotEvaluated(_) => "not evaluated",
        }
    }
}

pub(super) struct Validation {
    pub(super) expr: Expr,
    pub(super) message: Option<String>,
    pub(super) message_expr: Option<Expr>,
}

/// How a rule validates.
pub(super) enum Check {
    Cel {
        preconditions: Vec<Expr>,
        variables: Vec<(String, Expr)>,
        validations: Vec<Validation>,
        /// What its expressions read of `object` ([`Check::cel`]).
        reach: cel::Reach,
    },
    /// Patterns and JMESPath conditions.
    Native {
        /// Rule `preconditions` (JMESPath conditions): the rule applies only when they hold.
        preconditions: Option<Value>,
        /// The rule's `context`, in order.
        context: Vec<ContextEntry>,
        entries: Vec<Entry>,
        message: Option<String>,
        /// Its versions for pod controllers, made on first use.
        generated: Box<native::AutogenCache>,
    },
}

impl Check {
    pub(super) fn cel(
        preconditions: Vec<Expr>,
        variables: Vec<(String, Expr)>,
        validations: Vec<Validation>,
    ) -> Check {
        let reach = cel::Reach::of(
            variables.iter().map(|(n, e)| (n.as_str(), e)),
            preconditions.iter().chain(
                validations
                    .iter()
                    .flat_map(|v| std::iter::once(&v.expr).chain(&v.message_expr)),
            ),
        );
        Check::Cel {
            preconditions,
            variables,
            validations,
            reach,
        }
    }
}

pub(super) struct Rule {
    pub(super) name: String,
    pub(super) matcher: Matcher,
    pub(super) check: Check,
}

/// Which objects a rule applies to.
pub(super) enum Matcher {
    /// A `ClusterPolicy` rule's `match` and `exclude`.
    Kyverno { matcher: Value, exclude: Value },
    /// A `ValidatingPolicy`'s `matchConstraints` (admission resource rules, as in a VAP).
    Admission(super::resource_rules::ResourceRules),
}

/// The Pod controllers Kyverno generates rules for when none are named.
pub(super) const POD_CONTROLLERS: [&str; 7] = [
    "DaemonSet",
    "Deployment",
    "Job",
    "StatefulSet",
    "ReplicaSet",
    "ReplicationController",
    "CronJob",
];

/// A compiled Kyverno policy (its CEL rules).
pub struct Policy {
    pub name: String,
    /// `Policy` (namespaced) only applies in its own namespace.
    pub namespace: Option<String>,
    pub action: String,
    /// The Pod controllers whose templates Pod rules also check (Kyverno's autogen).
    pub(super) autogen: Vec<String>,
    pub(super) rules: Vec<Rule>,
    /// Validate rules Sextant cannot evaluate (context lookups, podSecurity, nested foreach,
    /// Kyverno's cluster and image CEL libraries): (name, why).
    pub unsupported: Vec<(String, String)>,
    /// Rules that do not validate (mutate, generate, verifyImages): (name, what they do).
    /// They never deny an object, so there is nothing to check.
    pub not_validating: Vec<(String, String)>,
}

impl std::fmt::Debug for Policy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Policy")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Policy {
    /// What each CEL rule reads of `object`.
    pub fn reaches(&self) -> impl Iterator<Item = &cel::Reach> {
        self.rules.iter().filter_map(|r| match &r.check {
            Check::Cel { reach, .. } => Some(reach),
            Check::Native { .. } => None,
        })
    }

    pub fn from_object(p: &Value) -> Result<Policy, PolicyError> {
        let name = str_at(p, "/metadata/name")
            .unwrap_or("(unnamed)")
            .to_string();
        let bad = |why: String| PolicyError::Invalid {
            what: format!("Kyverno policy {name}"),
            why,
        };
        if str_at(p, "/apiVersion").is_some_and(|a| a.starts_with("policies.kyverno.io/")) {
            return super::vpol::from_object(p);
        }
        let autogen = match str_at(
            p,
            "/metadata/annotations/pod-policies.kyverno.io~1autogen-controllers",
        ) {
            None | Some("all") => POD_CONTROLLERS.iter().map(|k| k.to_string()).collect(),
            Some("none") => Vec::new(),
            Some(list) => list
                .split(',')
                .map(|k| k.trim().to_string())
                .filter(|k| !k.is_empty())
                .collect(),
        };
        let mut rules = Vec::new();
        let mut unsupported = Vec::new();
        let mut not_validating = Vec::new();
        for r in p
            .at("/spec/rules")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let rname = str_at(r, "/name").unwrap_or("(unnamed)").to_string();
            if r.get("validate").is_none() {
                let what = ["mutate", "generate", "verifyImages"]
                    .into_iter()
                    .find(|k| r.get(*k).is_some())
                    .unwrap_or("no validate");
                not_validating.push((rname, what.to_string()));
                continue;
            }
            let Some(c) = r.at("/validate/cel") else {
                match native_check(r) {
                    Ok(check) => rules.push(Rule {
                        name: rname,
                        matcher: Matcher::Kyverno {
                            matcher: r.get("match").cloned().unwrap_or(Value::Null),
                            exclude: r.get("exclude").cloned().unwrap_or(Value::Null),
                        },
                        check,
                    }),
                    Err(why) => unsupported.push((rname, why)),
                }
                continue;
            };
            let compile =
                |e: &str| cel::compile(e).map_err(|why| bad(format!("rule {rname}: {why}")));
            let mut validations = Vec::new();
            for e in c
                .get("expressions")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                validations.push(Validation {
                    expr: compile(str_at(e, "/expression").unwrap_or(""))?,
                    message: str_at(e, "/message").map(str::to_string),
                    message_expr: match str_at(e, "/messageExpression") {
                        Some(m) => Some(compile(m)?),
                        None => None,
                    },
                });
            }
            let mut variables = Vec::new();
            for v in c
                .get("variables")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                variables.push((
                    str_at(v, "/name").unwrap_or("").to_string(),
                    compile(str_at(v, "/expression").unwrap_or(""))?,
                ));
            }
            let mut preconditions = Vec::new();
            for v in r
                .get("celPreconditions")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                preconditions.push(compile(str_at(v, "/expression").unwrap_or(""))?);
            }
            if let Some(why) = offline_blocker(&preconditions, &variables, &validations) {
                unsupported.push((rname, why));
                continue;
            }
            rules.push(Rule {
                name: rname,
                matcher: Matcher::Kyverno {
                    matcher: r.get("match").cloned().unwrap_or(Value::Null),
                    exclude: r.get("exclude").cloned().unwrap_or(Value::Null),
                },
                check: Check::cel(preconditions, variables, validations),
            });
        }
        if rules.is_empty() && unsupported.is_empty() && not_validating.is_empty() {
            return Err(bad("no rules".into()));
        }
        Ok(Policy {
            name,
            namespace: if str_at(p, "/kind") == Some("Policy") {
                str_at(p, "/metadata/namespace").map(str::to_string)
            } else {
                None
            },
            action: str_at(p, "/spec/validationFailureAction")
                .or_else(|| str_at(p, "/spec/rules/0/validate/failureAction"))
                .unwrap_or("Audit")
                .to_string(),
            autogen,
            rules,
            unsupported,
            not_validating,
        })
    }

    /// A policy with nothing Sextant evaluates: one that cannot be evaluated offline (`why`)
    /// or one that does not validate (`kind`: a MutatingPolicy…). Its cases name the reason.
    pub(super) fn not_evaluated(
        name: String,
        namespace: Option<String>,
        why: Option<String>,
        kind: Option<String>,
    ) -> Policy {
        Policy {
            name,
            namespace,
            action: "Audit".into(),
            autogen: Vec::new(),
            rules: Vec::new(),
            unsupported: why.map(|w| (String::new(), w)).into_iter().collect(),
            not_validating: kind.map(|k| (String::new(), k)).into_iter().collect(),
        }
    }

    /// Rules whose `context` looks up the cluster (apiCall, configMap…): over a snapshot they
    /// are not evaluated. (name, what they look up)
    pub fn lookups(&self) -> Vec<(String, String)> {
        self.rules
            .iter()
            .filter_map(|r| match &r.check {
                Check::Native { context, .. } => {
                    let kinds: Vec<&str> = context
                        .iter()
                        .filter_map(|c| match &c.source {
                            ContextSource::Lookup(k) => Some(k.as_str()),
                            ContextSource::Variable(_) => None,
                        })
                        .collect();
                    (!kinds.is_empty()).then(|| (r.name.clone(), kinds.join(", ")))
                }
                Check::Cel { .. } => None,
            })
            .collect()
    }

    pub fn rule_names(&self) -> impl Iterator<Item = &str> {
        self.rules.iter().map(|r| r.name.as_str())
    }

    /// Every CEL rule's outcome for `object` (a CREATE).
    pub fn evaluate(&self, object: &Value) -> Vec<(String, Outcome)> {
        self.evaluate_subject(&Subject::create(object))
    }

    /// [`Policy::evaluate`] over an object already prepared for CEL (shared by policies).
    pub fn evaluate_subject(&self, subject: &Subject) -> Vec<(String, Outcome)> {
        self.rules
            .iter()
            .map(|r| (r.name.clone(), self.evaluate_rule(r, subject)))
            .collect()
    }

    /// One rule's outcome, by name (`autogen-…` names resolve to their Pod rule), for a
    /// `kyverno test` case: `namespace` is the object's Namespace when the test has it, and
    /// `values` what the test's values file sets (`request.operation`, context variables).
    pub fn evaluate_named(
        &self,
        rule: &str,
        object: &Value,
        namespace: Option<&Value>,
        values: &serde_json::Map<String, Value>,
    ) -> Option<Outcome> {
        let base = rule
            .strip_prefix("autogen-cronjob-")
            .or_else(|| rule.strip_prefix("autogen-"))
            .unwrap_or(rule);
        let r = self
            .rules
            .iter()
            // A policy of one rule (a ValidatingPolicy) answers for it unnamed.
            .find(|r| r.name == base || base.is_empty() && self.rules.len() == 1)?;
        let op = values
            .get("request.operation")
            .and_then(Value::as_str)
            .unwrap_or("CREATE");
        let review = (op != "CREATE").then(|| review(object, op));
        let subject = match &review {
            Some(rv) => Subject::reviewed(object, rv),
            None => Subject::create(object),
        }
        .in_namespace(namespace.cloned());
        Some(self.evaluate_rule_with(r, &subject, values))
    }

    fn evaluate_rule(&self, r: &Rule, object: &Subject) -> Outcome {
        self.evaluate_rule_with(r, object, &serde_json::Map::new())
    }

    fn evaluate_rule_with(
        &self,
        r: &Rule,
        object: &Subject,
        values: &serde_json::Map<String, Value>,
    ) -> Outcome {
        let json: &Value = &object.json;
        let kind = str_at(json, "/kind").unwrap_or("");
        let op = object.operation();
        let subject = if r.matcher.applies(json, kind, op) {
            object
        } else if kind != "Pod" && self.autogen.iter().any(|k| k == kind) {
            // Auto-generated controller rule: the Pod rule over the pod template (made once
            // per object for every policy).
            match object.derived(as_pod) {
                Some(p) if r.matcher.applies(&p.json, "Pod", op) => p,
                _ => return Outcome::Skip,
            }
        } else {
            return Outcome::Skip;
        };
        if let (Some(ns), Some(own)) = (
            str_at(&subject.json, "/metadata/namespace"),
            &self.namespace,
        ) && ns != own
        {
            return Outcome::Skip;
        }
        let (preconditions, variables, validations, reach) = match &r.check {
            Check::Native {
                preconditions,
                context,
                entries,
                message,
                generated,
            } => {
                let rule = Native {
                    preconditions: preconditions.as_ref(),
                    context,
                    entries,
                    message: message.as_deref(),
                };
                return native::evaluate(&r.name, &rule, generated, subject, object, op, values);
            }
            Check::Cel {
                preconditions,
                variables,
                validations,
                reach,
            } => (preconditions, variables, validations, reach),
        };
        let mut scope = subject.scope_for(reach);
        for p in preconditions {
            match scope.check(p) {
                Ok(true) => {}
                Ok(false) => return Outcome::Skip,
                Err(e) => return Outcome::Error(e),
            }
        }
        for (name, e) in variables {
            scope.declare(name, e);
        }
        for v in validations {
            match scope.check(&v.expr) {
                Ok(true) => {}
                Ok(false) => {
                    let msg = v
                        .message_expr
                        .as_ref()
                        .and_then(|m| scope.message(m))
                        .or_else(|| v.message.clone())
                        .unwrap_or_else(|| format!("{} evaluated to false", v.expr.source));
                    return Outcome::Fail(msg);
                }
                // An expression that fails to evaluate denies, as admission does under
                // Kyverno's default `failurePolicy: Fail`; the message says why.
                Err(e) => return Outcome::Fail(format!("evaluation error: {e}")),
            }
        }
        Outcome::Pass
    }
}

/// Why a CEL rule cannot be evaluated offline: it calls Kyverno libraries that read the
/// cluster, an image registry or the network.
pub(super) fn offline_blocker(
    preconditions: &[Expr],
    variables: &[(String, Expr)],
    validations: &[Validation],
) -> Option<String> {
    let mut libs: Vec<&str> = preconditions
        .iter()
        .chain(variables.iter().map(|(_, e)| e))
        .chain(validations.iter().map(|v| &v.expr))
        .flat_map(Expr::outside_calls)
        .collect();
    libs.sort_unstable();
    libs.dedup();
    (!libs.is_empty()).then(|| {
        format!(
            "it calls Kyverno's CEL library ({}), which reads the cluster, a registry or the network",
            libs.join(", ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::pattern::wildcard;
    use serde_json::json;

    fn policy() -> Policy {
        Policy::from_object(&json!({
            "apiVersion": "kyverno.io/v1", "kind": "ClusterPolicy",
            "metadata": {"name": "no-latest"},
            "spec": {"validationFailureAction": "Audit", "rules": [{
                "name": "tag",
                "match": {"any": [{"resources": {"kinds": ["Pod"]}}]},
                "exclude": {"any": [{"resources": {"namespaces": ["kube-*"]}}]},
                "validate": {"cel": {"expressions": [{
                    "expression": "object.spec.containers.all(c, !c.image.endsWith(':latest'))",
                    "message": "no latest"}]}}}]}}))
        .expect("policy")
    }

    fn pod(ns: &str, image: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": ns},
            "spec": {"containers": [{"name": "a", "image": image}]}})
    }

    #[test]
    fn pass_fail_skip() {
        let p = policy();
        assert_eq!(p.evaluate(&pod("shop", "x:1"))[0].1, Outcome::Pass);
        assert_eq!(
            p.evaluate(&pod("shop", "x:latest"))[0].1,
            Outcome::Fail("no latest".into())
        );
        assert_eq!(
            p.evaluate(&pod("kube-system", "x:latest"))[0].1,
            Outcome::Skip
        );
    }

    #[test]
    fn autogen_checks_pod_templates() {
        let d = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "d", "namespace": "shop"},
            "spec": {"template": {"metadata": {"labels": {"app": "d"}},
                "spec": {"containers": [{"name": "a", "image": "x:latest"}]}}}});
        assert!(matches!(
            policy().evaluate_named("autogen-tag", &d, None, &serde_json::Map::new()),
            Some(Outcome::Fail(_))
        ));
    }

    #[test]
    fn wildcards() {
        assert!(wildcard("kube-*", "kube-system"));
        assert!(wildcard("a?c", "abc"));
        assert!(!wildcard("kube-*", "shop"));
    }
}
