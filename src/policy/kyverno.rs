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

use super::cel::{self, Expr, Subject};
use super::pattern::wildcard;
use super::{PolicyError, pod_spec_pointer, str_at};
use serde_json::{Value, json};

/// A rule's verdict for one resource, in `kyverno test` vocabulary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    Fail(String),
    /// The rule does not apply (match/exclude/preconditions).
    Skip,
    Error(String),
}

impl Outcome {
    pub fn word(&self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail(_) => "fail",
            Outcome::Skip => "skip",
            Outcome::Error(_) => "error",
        }
    }
}

struct Validation {
    expr: Expr,
    message: Option<String>,
    message_expr: Option<Expr>,
}

/// How a rule validates.
enum Check {
    Cel {
        preconditions: Vec<Expr>,
        variables: Vec<(String, Expr)>,
        validations: Vec<Validation>,
    },
    /// Patterns and JMESPath conditions.
    Native {
        /// Rule `preconditions` (JMESPath conditions): the rule applies only when they hold.
        preconditions: Option<Value>,
        entries: Vec<Entry>,
        message: Option<String>,
    },
}

/// One check of a rule: on the resource itself (`list: None`), or on each element of a
/// JMESPath list of it (a `foreach` entry, `element` bound in its conditions).
struct Entry {
    list: Option<String>,
    /// The entry's own preconditions (a `foreach` entry's).
    preconditions: Option<Value>,
    /// One (`pattern`), or several of which one must match (`anyPattern`).
    patterns: Vec<Value>,
    /// `deny.conditions`: the resource (element) is denied when they hold.
    deny: Option<Value>,
}

struct Rule {
    name: String,
    matcher: Value,
    exclude: Value,
    check: Check,
}

/// A compiled Kyverno policy (its CEL rules).
pub struct Policy {
    pub name: String,
    /// `Policy` (namespaced) only applies in its own namespace.
    pub namespace: Option<String>,
    pub action: String,
    autogen: bool,
    rules: Vec<Rule>,
    /// Validate rules Sextant cannot evaluate (context lookups, podSecurity, nested foreach),
    /// by name.
    pub unsupported: Vec<String>,
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
    pub fn from_object(p: &Value) -> Result<Policy, PolicyError> {
        let name = str_at(p, "/metadata/name")
            .unwrap_or("(unnamed)")
            .to_string();
        let bad = |why: String| PolicyError::Invalid {
            what: format!("Kyverno policy {name}"),
            why,
        };
        let autogen = str_at(
            p,
            "/metadata/annotations/pod-policies.kyverno.io~1autogen-controllers",
        )
        .is_none_or(|v| v != "none");
        let mut rules = Vec::new();
        let mut unsupported = Vec::new();
        let mut not_validating = Vec::new();
        for r in p
            .pointer("/spec/rules")
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
            let Some(c) = r.pointer("/validate/cel") else {
                match native_check(r) {
                    Some(check) => rules.push(Rule {
                        name: rname,
                        matcher: r.get("match").cloned().unwrap_or(Value::Null),
                        exclude: r.get("exclude").cloned().unwrap_or(Value::Null),
                        check,
                    }),
                    None => unsupported.push(rname),
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
            rules.push(Rule {
                name: rname,
                matcher: r.get("match").cloned().unwrap_or(Value::Null),
                exclude: r.get("exclude").cloned().unwrap_or(Value::Null),
                check: Check::Cel {
                    preconditions,
                    variables,
                    validations,
                },
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

    /// One rule's outcome, by name (`autogen-…` names resolve to their Pod rule).
    pub fn evaluate_named(&self, rule: &str, object: &Value) -> Option<Outcome> {
        let base = rule
            .strip_prefix("autogen-cronjob-")
            .or_else(|| rule.strip_prefix("autogen-"))
            .unwrap_or(rule);
        self.rules
            .iter()
            .find(|r| r.name == base)
            .map(|r| self.evaluate_rule(r, &Subject::create(object)))
    }

    fn evaluate_rule(&self, r: &Rule, object: &Subject) -> Outcome {
        let pod;
        let pod_subject;
        let json = object.json;
        let kind = str_at(json, "/kind").unwrap_or("");
        let subject = if selects(&r.matcher, json, kind) && !excluded(&r.exclude, json, kind) {
            object
        } else if self.autogen
            && kind != "Pod"
            && selects(&r.matcher, &as_pod(json).unwrap_or(Value::Null), "Pod")
        {
            // Auto-generated controller rule: the Pod rule over the pod template.
            match as_pod(json) {
                Some(p) if !excluded(&r.exclude, &p, "Pod") => {
                    pod = p;
                    pod_subject = Subject::create(&pod);
                    &pod_subject
                }
                _ => return Outcome::Skip,
            }
        } else {
            return Outcome::Skip;
        };
        if let (Some(ns), Some(own)) =
            (str_at(subject.json, "/metadata/namespace"), &self.namespace)
            && ns != own
        {
            return Outcome::Skip;
        }
        let (preconditions, variables, validations) = match &r.check {
            Check::Native {
                preconditions,
                entries,
                message,
            } => {
                return native_outcome(
                    &r.name,
                    preconditions.as_ref(),
                    entries,
                    message.as_deref(),
                    subject.json,
                );
            }
            Check::Cel {
                preconditions,
                variables,
                validations,
            } => (preconditions, variables, validations),
        };
        let mut scope = subject.scope();
        for p in preconditions {
            match scope.check(p) {
                Ok(true) => {}
                Ok(false) => return Outcome::Skip,
                Err(e) => return Outcome::Error(e),
            }
        }
        for (name, e) in variables {
            if let Err(e) = scope.bind(name, e) {
                return Outcome::Error(e);
            }
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
                Err(e) => return Outcome::Error(e),
            }
        }
        Outcome::Pass
    }
}

/// A rule Sextant can evaluate natively: `pattern`, `anyPattern`, `deny`, `preconditions`,
/// and one level of `foreach` with any of them; `None` for anything else (`context` lookups,
/// `podSecurity`, nested `foreach`, unsupported anchors, JMESPath that does not parse).
fn native_check(rule: &Value) -> Option<Check> {
    if rule.get("context").is_some() {
        return None;
    }
    let all_parse = |v: &Value| -> bool {
        fn strings<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
            match v {
                Value::String(s) => out.push(s),
                Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
                Value::Object(m) => m.values().for_each(|x| strings(x, out)),
                _ => {}
            }
        }
        let mut out = Vec::new();
        strings(v, &mut out);
        out.iter().all(|s| super::jmes::parses(s).is_ok())
    };
    let preconditions = rule.get("preconditions").cloned();
    if preconditions.as_ref().is_some_and(|p| !all_parse(p)) {
        return None;
    }
    let v = rule.get("validate")?;
    let entry = |e: &Value, list: Option<String>| -> Option<Entry> {
        let patterns = match (e.get("pattern"), e.get("anyPattern")) {
            (Some(p), None) => vec![p.clone()],
            (None, Some(Value::Array(a))) => a.clone(),
            (None, None) => Vec::new(),
            _ => return None,
        };
        // `deny: {}` denies whenever the rule applies (its preconditions hold).
        let deny = e
            .get("deny")
            .map(|d| d.get("conditions").cloned().unwrap_or(Value::Null));
        if patterns.is_empty() && deny.is_none() {
            return None;
        }
        let entry_pre = e.get("preconditions").cloned();
        let ok = patterns
            .iter()
            .all(|p| super::pattern::supported(p).is_ok())
            && deny.as_ref().is_none_or(all_parse)
            && entry_pre.as_ref().is_none_or(all_parse);
        ok.then_some(Entry {
            list,
            preconditions: entry_pre,
            patterns,
            deny,
        })
    };
    let entries = match v.get("foreach") {
        Some(Value::Array(fe)) => {
            let mut out = Vec::new();
            for e in fe {
                let known = [
                    "list",
                    "pattern",
                    "anyPattern",
                    "deny",
                    "preconditions",
                    "elementScope",
                ];
                if e.as_object()
                    .is_none_or(|m| m.keys().any(|k| !known.contains(&k.as_str())))
                {
                    return None;
                }
                let list = str_at(e, "/list")?.trim().to_string();
                super::jmes::parses(&format!("{{{{ {list} }}}}")).ok()?;
                out.push(entry(e, Some(list))?);
            }
            out
        }
        Some(_) => return None,
        None if v.get("podSecurity").is_some() => return None,
        None => vec![entry(v, None)?],
    };
    Some(Check::Native {
        preconditions,
        entries,
        message: str_at(v, "/message").map(|m| m.trim().to_string()),
    })
}

/// A native rule's outcome: fail at the first pattern path that does not match or the first
/// `deny` whose conditions hold; skip when preconditions do not hold or nothing applied.
fn native_outcome(
    rule: &str,
    preconditions: Option<&Value>,
    entries: &[Entry],
    message: Option<&str>,
    object: &Value,
) -> Outcome {
    use super::jmes::{self, Data};
    use super::pattern::{Mismatch, check};
    // The JMESPath data only when the rule has JMESPath: most pattern rules do not.
    let needs_data = preconditions.is_some()
        || message.is_some_and(|m| m.contains("{{"))
        || entries
            .iter()
            .any(|e| e.list.is_some() || e.deny.is_some() || e.preconditions.is_some());
    let data = match needs_data.then(|| Data::request(object)).transpose() {
        Ok(d) => d,
        Err(e) => return Outcome::Error(e),
    };
    if let (Some(p), Some(d)) = (preconditions, &data) {
        match jmes::conditions(p, d) {
            Err(e) => return Outcome::Error(format!("preconditions: {e}")),
            Ok(false) => return Outcome::Skip,
            Ok(true) => {}
        }
    }
    let fail = |at: String, data: Option<&Data>| {
        let msg = message
            .map(|m| match data.map(|d| jmes::substitute(&json!(m), d)) {
                Some(Ok(Value::String(s))) => s,
                _ => m.to_string(),
            })
            .unwrap_or_else(|| "validation failed".into());
        Outcome::Fail(format!("{msg} (rule {rule} failed at {at})"))
    };
    let mut applied = false;
    for e in entries {
        // (which element, the pattern's subject, the JMESPath data with `element` bound)
        let targets: Vec<(Option<String>, std::borrow::Cow<Value>, Option<Data>)> =
            match (&e.list, &data) {
                (None, _) => vec![(None, std::borrow::Cow::Borrowed(object), data.clone())],
                (Some(list), Some(d)) => match jmes::search(list, d) {
                    Err(err) => return Outcome::Error(format!("foreach list: {err}")),
                    Ok(items) => {
                        let items = items.as_array().cloned().unwrap_or_default();
                        let mut out = Vec::with_capacity(items.len());
                        for (i, it) in items.into_iter().enumerate() {
                            match jmes::to_json(&it) {
                                Ok(v) => out.push((
                                    Some(format!("{list} element {i}")),
                                    std::borrow::Cow::Owned(v),
                                    Some(d.with_element(it, i)),
                                )),
                                Err(err) => return Outcome::Error(err),
                            }
                        }
                        out
                    }
                },
                (Some(_), None) => Vec::new(),
            };
        for (at, target, d) in targets {
            match e
                .preconditions
                .as_ref()
                .zip(d.as_ref())
                .map(|(p, d)| jmes::conditions(p, d))
            {
                Some(Err(err)) => return Outcome::Error(format!("preconditions: {err}")),
                Some(Ok(false)) => continue,
                _ => {}
            }
            if !e.patterns.is_empty() {
                let results: Vec<Result<(), Mismatch>> =
                    e.patterns.iter().map(|p| check(p, &target)).collect();
                if results.iter().any(Result::is_ok) {
                    applied = true;
                } else if let Some(path) = results.iter().find_map(|r| match r {
                    Err(Mismatch::Fail(path)) => Some(path.clone()),
                    _ => None,
                }) {
                    let at = match &at {
                        Some(w) => format!("{w}, path {path}"),
                        None => format!("path {path}"),
                    };
                    return fail(at, d.as_ref());
                }
            }
            if let (Some(c), Some(d)) = (&e.deny, &d) {
                applied = true;
                match jmes::conditions(c, d) {
                    Err(err) => return Outcome::Error(format!("deny: {err}")),
                    Ok(true) => {
                        let at = match &at {
                            Some(w) => format!("{w}: deny conditions"),
                            None => "deny conditions".to_string(),
                        };
                        return fail(at, Some(d));
                    }
                    Ok(false) => {}
                }
            }
        }
    }
    if applied {
        Outcome::Pass
    } else {
        Outcome::Skip
    }
}

/// The Pod a controller's template describes (what Kyverno's autogen rules check).
fn as_pod(object: &Value) -> Option<Value> {
    let kind = str_at(object, "/kind")?;
    let spec_ptr = pod_spec_pointer(kind).filter(|_| kind != "Pod")?;
    let template_ptr = spec_ptr.strip_suffix("/spec")?;
    let template = object.pointer(template_ptr)?;
    let mut meta = template
        .get("metadata")
        .cloned()
        .unwrap_or_else(|| json!({}));
    if let (Some(m), Some(ns)) = (meta.as_object_mut(), str_at(object, "/metadata/namespace")) {
        m.insert("namespace".into(), json!(ns));
    }
    if let (Some(m), Some(n)) = (meta.as_object_mut(), str_at(object, "/metadata/name")) {
        m.entry("name").or_insert_with(|| json!(n));
    }
    Some(json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta,
        "spec": template.get("spec").cloned().unwrap_or_else(|| json!({})),
    }))
}

/// `match`: `any` (one filter matches) / `all` (every filter matches) / a bare `resources`.
fn selects(m: &Value, object: &Value, kind: &str) -> bool {
    if m.is_null() {
        return false;
    }
    if let Some(any) = m.get("any").and_then(Value::as_array) {
        return any.iter().any(|f| filter(f, object, kind));
    }
    if let Some(all) = m.get("all").and_then(Value::as_array) {
        return all.iter().all(|f| filter(f, object, kind));
    }
    filter(m, object, kind)
}

fn excluded(x: &Value, object: &Value, kind: &str) -> bool {
    !x.is_null() && selects(x, object, kind)
}

/// One resource filter: kinds (`Pod`, `v1/Pod`, `apps/v1/Deployment`, `*`), names,
/// namespaces (with `*` globs), operations (CREATE is what we evaluate), selector.
fn filter(f: &Value, object: &Value, kind: &str) -> bool {
    let Some(r) = f.get("resources") else {
        return false;
    };
    let list = |k: &str| -> Option<Vec<&str>> {
        r.get(k)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
    };
    if let Some(kinds) = list("kinds")
        && !kinds
            .iter()
            .any(|k| *k == "*" || k.rsplit('/').next() == Some(kind))
    {
        return false;
    }
    if let Some(ops) = list("operations")
        && !ops.contains(&"CREATE")
    {
        return false;
    }
    let ns = str_at(object, "/metadata/namespace").unwrap_or("default");
    if let Some(nss) = list("namespaces")
        && !nss.iter().any(|p| wildcard(p, ns))
    {
        return false;
    }
    let name = str_at(object, "/metadata/name").unwrap_or("");
    if let Some(names) = list("names")
        && !names.iter().any(|p| wildcard(p, name))
    {
        return false;
    }
    if let Some(sel) = r.get("selector") {
        let labels = object.pointer("/metadata/labels").unwrap_or(&Value::Null);
        if !super::label_selector_matches(sel, labels) {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

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
            policy().evaluate_named("autogen-tag", &d),
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
