//! Kyverno's native rules: `pattern`/`anyPattern`, `deny` conditions, `preconditions`,
//! `foreach` and `context` variables (JMESPath over the admission request), and the text
//! rewriting by which Kyverno generates a Pod rule's version for pod controllers.

use super::super::jmes::{self, Data};
use super::super::pattern::{Mismatch, check};
use super::super::str_at;
use super::{Check, Outcome, Subject};
use serde_json::{Value, json};

/// A rule `context` entry.
pub(in crate::policy) struct ContextEntry {
    pub(super) name: String,
    /// A `variable` (computed from the request: evaluable offline), or the kind of lookup
    /// (`apiCall`, `configMap`, `imageRegistry`, `globalReference`) a test must give a value
    /// for.
    pub(super) source: ContextSource,
}

pub(in crate::policy) enum ContextSource {
    Variable(Value),
    Lookup(String),
}

/// A native rule's parts, borrowed for one evaluation.
pub(super) struct Native<'r> {
    pub(super) preconditions: Option<&'r Value>,
    pub(super) context: &'r [ContextEntry],
    pub(super) entries: &'r [Entry],
    pub(super) message: Option<&'r str>,
}

/// One check of a rule: on the resource itself (`list: None`), or on each element of a
/// JMESPath list of it (a `foreach` entry, `element` bound in its conditions).
pub(in crate::policy) struct Entry {
    list: Option<String>,
    /// The entry's own preconditions (a `foreach` entry's).
    preconditions: Option<Value>,
    /// One (`pattern`), or several of which one must match (`anyPattern`).
    patterns: Vec<Value>,
    /// `deny.conditions`: the resource (element) is denied when they hold.
    deny: Option<Value>,
}

/// A Pod rule's parts rewritten for a controller's pod template (see [`autogen_text`]).
pub(in crate::policy) struct Generated {
    preconditions: Option<Value>,
    context: Vec<ContextEntry>,
    entries: Vec<Entry>,
    message: Option<String>,
}

/// The rewritten rule, made once per template path (`.spec.template`,
/// `.spec.jobTemplate.spec.template`) and kept: it depends on the rule alone, not on the
/// controller, and `policy check` evaluates it for every controller.
pub(in crate::policy) type AutogenCache = [std::sync::OnceLock<Generated>; 2];

fn generate(rule: &Native, template: &str) -> Generated {
    let re = |v: &Value| autogen_text(v, template);
    Generated {
        preconditions: rule.preconditions.map(re),
        context: rule
            .context
            .iter()
            .map(|c| ContextEntry {
                name: c.name.clone(),
                source: match &c.source {
                    ContextSource::Variable(v) => ContextSource::Variable(re(v)),
                    ContextSource::Lookup(k) => ContextSource::Lookup(k.clone()),
                },
            })
            .collect(),
        entries: rule
            .entries
            .iter()
            .map(|e| Entry {
                list: e.list.as_ref().map(|l| match re(&json!(l)) {
                    Value::String(s) => s,
                    _ => l.clone(),
                }),
                preconditions: e.preconditions.as_ref().map(re),
                patterns: e.patterns.iter().map(re).collect(),
                deny: e.deny.as_ref().map(re),
            })
            .collect(),
        message: rule
            .message
            .and_then(|m| re(&json!(m)).as_str().map(str::to_string)),
    }
}

/// A native rule's outcome for `subject` (the object, or the pod template of the controller
/// `object` when the rule was generated for it).
pub(super) fn evaluate(
    name: &str,
    rule: &Native,
    generated: &AutogenCache,
    subject: &Subject,
    object: &Subject,
    op: &str,
    values: &serde_json::Map<String, Value>,
) -> Outcome {
    let json: &Value = &object.json;
    if std::ptr::eq(subject, object) {
        return native_outcome(name, rule, &subject.json, object, op, values);
    }
    // An autogen rule: Kyverno generates it by rewriting the Pod rule's text
    // (`request.object.spec` → the template's spec, `{{request.object.metadata`
    // → the template's metadata); patterns see the pod template.
    let kind = str_at(json, "/kind").unwrap_or("");
    let template = super::super::pod_spec_pointer(kind)
        .and_then(|p| p.strip_suffix("/spec"))
        .unwrap_or("/spec/template")
        .replace('/', ".");
    let slot = usize::from(template != ".spec.template");
    let g = generated[slot].get_or_init(|| generate(rule, &template));
    native_outcome(
        name,
        &Native {
            preconditions: g.preconditions.as_ref(),
            context: &g.context,
            entries: &g.entries,
            message: g.message.as_deref(),
        },
        &subject.json,
        object,
        op,
        values,
    )
}

/// A rule Sextant can evaluate natively: `pattern`, `anyPattern`, `deny`, `preconditions`,
/// and one level of `foreach` with any of them; `None` for anything else (`context` lookups,
/// `podSecurity`, nested `foreach`, unsupported anchors, JMESPath that does not parse).
pub(super) fn native_check(rule: &Value) -> Result<Check, String> {
    let mut context = Vec::new();
    for c in rule
        .get("context")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let name = str_at(c, "/name").ok_or("a context entry without a name")?;
        let source = match c.get("variable") {
            Some(v) => ContextSource::Variable(v.clone()),
            None => ContextSource::Lookup(
                c.as_object()
                    .and_then(|m| m.keys().find(|k| *k != "name").cloned())
                    .unwrap_or_else(|| "lookup".into()),
            ),
        };
        context.push(ContextEntry {
            name: name.to_string(),
            source,
        });
    }
    let all_parse = |v: &Value| -> Result<(), String> {
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
        out.iter().try_for_each(|s| jmes::parses(s))
    };
    let preconditions = rule.get("preconditions").cloned();
    if let Some(p) = &preconditions {
        all_parse(p)?;
    }
    let v = rule.get("validate").ok_or("no validate")?;
    let entry = |e: &Value, list: Option<String>| -> Result<Entry, String> {
        let patterns = match (e.get("pattern"), e.get("anyPattern")) {
            (Some(p), None) => vec![p.clone()],
            (None, Some(Value::Array(a))) => a.clone(),
            (None, None) => Vec::new(),
            _ => return Err("both pattern and anyPattern".into()),
        };
        // `deny: {}` denies whenever the rule applies (its preconditions hold).
        let deny = e
            .get("deny")
            .map(|d| d.get("conditions").cloned().unwrap_or(Value::Null));
        if patterns.is_empty() && deny.is_none() {
            return Err("neither a pattern nor deny conditions".into());
        }
        let entry_pre = e.get("preconditions").cloned();
        for p in &patterns {
            super::super::pattern::supported(p)?;
        }
        if let Some(d) = &deny {
            all_parse(d)?;
        }
        if let Some(p) = &entry_pre {
            all_parse(p)?;
        }
        Ok(Entry {
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
                if let Some(k) = e
                    .as_object()
                    .and_then(|m| m.keys().find(|k| !known.contains(&k.as_str())))
                {
                    return Err(format!(
                        "foreach `{k}` (nested foreach, context) is not evaluated"
                    ));
                }
                let list = str_at(e, "/list")
                    .ok_or("foreach without list")?
                    .trim()
                    .to_string();
                jmes::parses(&format!("{{{{ {list} }}}}"))?;
                out.push(entry(e, Some(list))?);
            }
            out
        }
        Some(_) => return Err("foreach is not a list".into()),
        None if v.get("podSecurity").is_some() => {
            return Err("podSecurity (the Pod Security Standards checks) is not evaluated".into());
        }
        None => vec![entry(v, None)?],
    };
    Ok(Check::Native {
        preconditions,
        context,
        entries,
        message: str_at(v, "/message").map(|m| m.trim().to_string()),
        generated: Default::default(),
    })
}

/// A native rule's outcome: fail at the first pattern path that does not match or the first
/// `deny` whose conditions hold; skip when preconditions do not hold or nothing applied.
fn native_outcome(
    rule: &str,
    native: &Native,
    object: &Value,
    data_object: &Subject,
    op: &str,
    values: &serde_json::Map<String, Value>,
) -> Outcome {
    let Native {
        preconditions,
        context,
        entries,
        message,
    } = *native;
    // The JMESPath data only when the rule has JMESPath: most pattern rules do not.
    let needs_data = preconditions.is_some()
        || !context.is_empty()
        || !values.is_empty()
        || message.is_some_and(|m| m.contains("{{"))
        || entries.iter().any(|e| {
            e.list.is_some()
                || e.deny.is_some()
                || e.preconditions.is_some()
                || e.patterns.iter().any(|p| p.to_string().contains("{{"))
        });
    let data = match needs_data
        .then(|| {
            let d = data_object
                .jmes_request(op)
                .and_then(|d| d.with_values(values))
                .map_err(Outcome::Error)?;
            context_data(d, context, values)
        })
        .transpose()
    {
        Ok(d) => d,
        Err(e) => return e,
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
                // Variables in a pattern are resolved first (`{{ element.name }}`).
                let results: Vec<Result<(), Mismatch>> = e
                    .patterns
                    .iter()
                    .map(|p| match &d {
                        Some(d) if p.to_string().contains("{{") => match jmes::substitute(p, d) {
                            Ok(p) => check(&p, &target),
                            Err(_) => Err(Mismatch::Fail("a pattern variable".into())),
                        },
                        _ => check(p, &target),
                    })
                    .collect();
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

/// A Pod rule's text as Kyverno rewrites it for a controller whose pod template is at
/// `template` (`.spec.template`, `.spec.jobTemplate.spec.template`): the same plain string
/// replacements, so `{{ request.object.metadata… }}` (with a space) and quoted paths keep
/// pointing at the controller itself, as in Kyverno.
fn autogen_text(v: &Value, template: &str) -> Value {
    match v {
        Value::String(s) => Value::String(
            s.replace(
                "request.object.spec",
                &format!("request.object{template}.spec"),
            )
            .replace(
                "request.oldObject.spec",
                &format!("request.oldObject{template}.spec"),
            )
            .replace(
                "{{request.object.metadata",
                &format!("{{{{request.object{template}.metadata"),
            ),
        ),
        Value::Array(a) => Value::Array(a.iter().map(|x| autogen_text(x, template)).collect()),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| (k.clone(), autogen_text(x, template)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The JMESPath data with the rule's context entries bound: values a test gives win, then
/// `variable` entries are computed; a lookup without a value cannot be evaluated offline.
fn context_data(
    mut data: jmes::Data,
    context: &[ContextEntry],
    values: &serde_json::Map<String, Value>,
) -> Result<jmes::Data, Outcome> {
    for c in context {
        let given = values.keys().any(|k| {
            k == &c.name
                || k.strip_prefix(c.name.as_str())
                    .is_some_and(|r| r.starts_with('.'))
        });
        if given {
            continue;
        }
        let v = match &c.source {
            ContextSource::Lookup(kind) => {
                return Err(Outcome::NotEvaluated(format!(
                    "context {} is a {kind} lookup, which needs a live cluster",
                    c.name
                )));
            }
            ContextSource::Variable(spec) => {
                let base = match spec.get("value") {
                    Some(v) => jmes::substitute(v, &data).ok(),
                    None => None,
                };
                let found = match (str_at(spec, "/jmesPath"), base) {
                    (Some(path), Some(b)) => {
                        jmes::eval_on(&jmes::substitute_text(path, &data).unwrap_or_default(), &b)
                            .ok()
                    }
                    (Some(path), None) => jmes::substitute_text(path, &data)
                        .and_then(|p| jmes::eval(&p, &data))
                        .ok(),
                    (None, b) => b,
                };
                match found.filter(|v| !v.is_null()) {
                    Some(v) => v,
                    None => match spec.get("default") {
                        Some(d) => jmes::substitute(d, &data).unwrap_or(Value::Null),
                        None => Value::Null,
                    },
                }
            }
        };
        data = data.with_var(&c.name, &v).map_err(Outcome::Error)?;
    }
    Ok(data)
}
