//! Kyverno's JMESPath: `{{ expression }}` variables over the admission request
//! (`request.object`, `request.operation`, `element` in a `foreach`), and the condition
//! operators of `preconditions` and `deny.conditions` (`Equals`, `NotEquals`, `AnyIn`, `AllIn`,
//! `AnyNotIn`, `AllNotIn`, `In`, `NotIn`, the numeric comparisons), with Kyverno's wildcards and
//! numeric ranges in values; numbers, durations (`24h`) and quantities (`512Mi`) compare as
//! Kyverno compares them. Standard JMESPath plus Kyverno's functions ([`super::jmes_fns`]);
//! other Kyverno functions are evaluation errors (reported, never guessed).

use crate::jsonptr::Pointer as _;
use jmespath::{Rcvar, Runtime, Variable};
use serde_json::Value;
use std::sync::LazyLock;

static RUNTIME: LazyLock<Runtime> = LazyLock::new(|| {
    let mut rt = Runtime::new();
    rt.register_builtin_functions();
    super::jmes_fns::register(&mut rt);
    for (name, upper) in [("to_upper", true), ("to_lower", false)] {
        rt.register_function(
            name,
            Box::new(
                move |args: &[Rcvar],
                      _: &mut jmespath::Context<'_>|
                      -> Result<Rcvar, jmespath::JmespathError> {
                    let s = args.first().and_then(|a| a.as_string().cloned());
                    Ok(Rcvar::new(match s {
                        Some(s) if upper => Variable::String(s.to_uppercase()),
                        Some(s) => Variable::String(s.to_lowercase()),
                        None => Variable::Null,
                    }))
                },
            ),
        );
    }
    rt
});

/// Whether every `{{ … }}` in `text` parses.
pub fn parses(text: &str) -> Result<(), String> {
    for e in expressions(text) {
        RUNTIME
            .compile(e)
            .map_err(|err| format!("{{{{ {e} }}}}: {err}"))?;
    }
    Ok(())
}

/// The innermost expressions inside `{{ … }}` of `text` (an outer expression with nested
/// variables is only complete once they are rendered, so it is not checked here).
fn expressions(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some((start, end)) = innermost(&text[from..]) {
        out.push(text[from + start + 2..from + end].trim());
        from += end + 2;
    }
    out
}

/// The byte range (`{{` start, `}}` start) of the first innermost `{{ … }}` of `text`.
fn innermost(text: &str) -> Option<(usize, usize)> {
    let end = text.find("}}")?;
    let start = text[..end].rfind("{{")?;
    Some((start, end))
}

/// What expressions are evaluated against, converted once: `request` (operation CREATE, the
/// object), and in a `foreach` the `element` and `elementIndex`.
#[derive(Clone)]
pub struct Data(Rcvar);

impl Data {
    /// The admission request for `object`.
    pub fn request(object: &Value, operation: &str) -> Result<Data, String> {
        use jmespath::ToJmespath;
        let images = images(object).to_jmespath().map_err(|e| e.to_string())?;
        let object = object.to_jmespath().map_err(|e| e.to_string())?;
        let mut request = std::collections::BTreeMap::new();
        request.insert(
            "operation".to_string(),
            Rcvar::new(Variable::String(operation.into())),
        );
        // An UPDATE without an old version (a manifest, a test case) changes nothing: its
        // old object is the object, as `kyverno test` has it.
        if operation == "UPDATE" {
            request.insert("oldObject".to_string(), object.clone());
        }
        request.insert("object".to_string(), object);
        let mut top = std::collections::BTreeMap::new();
        top.insert("request".to_string(), Rcvar::new(Variable::Object(request)));
        top.insert("images".to_string(), images);
        Ok(Data(Rcvar::new(Variable::Object(top))))
    }

    /// The same data with `values` set: dotted names (`request.operation`,
    /// `podprioritydict.data.default`) as a `kyverno test` values file gives them.
    pub fn with_values(self, values: &serde_json::Map<String, Value>) -> Result<Data, String> {
        if values.is_empty() {
            return Ok(self);
        }
        use jmespath::ToJmespath;
        let mut top = to_json(&self.0)?;
        for (k, v) in values {
            let mut at = &mut top;
            let parts: Vec<&str> = k.split('.').collect();
            for (i, part) in parts.iter().enumerate() {
                if !at.is_object() {
                    *at = Value::Object(serde_json::Map::new());
                }
                let Some(m) = at.as_object_mut() else { break };
                if i + 1 == parts.len() {
                    m.insert((*part).to_string(), v.clone());
                    break;
                }
                at = m
                    .entry((*part).to_string())
                    .or_insert_with(|| Value::Object(serde_json::Map::new()));
            }
        }
        Ok(Data(top.to_jmespath().map_err(|e| e.to_string())?))
    }

    /// The same data with one more top-level variable (a context entry), sharing the rest.
    pub fn with_var(&self, name: &str, v: &Value) -> Result<Data, String> {
        use jmespath::ToJmespath;
        let mut top = self.0.as_object().cloned().unwrap_or_default();
        top.insert(
            name.to_string(),
            v.to_jmespath().map_err(|e| e.to_string())?,
        );
        Ok(Data(Rcvar::new(Variable::Object(top))))
    }

    /// The same data with a `foreach` element bound (shares everything else).
    pub fn with_element(&self, element: Rcvar, index: usize) -> Data {
        let mut top = self.0.as_object().cloned().unwrap_or_default();
        top.insert("element".to_string(), element);
        top.insert(
            "elementIndex".to_string(),
            Rcvar::new(Variable::Number(serde_json::Number::from(index))),
        );
        Data(Rcvar::new(Variable::Object(top)))
    }
}

/// Kyverno's built-in `images` variable: for each container list of the pod (or a
/// controller's pod template), container name → the parts of its image reference.
fn images(object: &Value) -> Value {
    let spec = object
        .get("kind")
        .and_then(Value::as_str)
        .and_then(super::pod_spec_pointer)
        .and_then(|p| object.at(p));
    let mut out = serde_json::Map::new();
    for list in ["containers", "initContainers", "ephemeralContainers"] {
        let Some(cs) = spec.and_then(|s| s.get(list)).and_then(Value::as_array) else {
            continue;
        };
        let mut m = serde_json::Map::new();
        for c in cs {
            if let (Some(name), Some(image)) = (
                c.get("name").and_then(Value::as_str),
                c.get("image").and_then(Value::as_str),
            ) {
                m.insert(name.to_string(), image_info(image));
            }
        }
        out.insert(list.to_string(), Value::Object(m));
    }
    Value::Object(out)
}

/// An image reference's parts as Kyverno names them (`nginx` is `docker.io`, path `nginx`,
/// tag `latest`).
fn image_info(image: &str) -> Value {
    let (rest, digest) = match image.split_once('@') {
        Some((r, d)) => (r, d),
        None => (image, ""),
    };
    let (registry, repo) = match rest.split_once('/') {
        Some((first, more)) if first.contains(['.', ':']) || first == "localhost" => (first, more),
        _ => ("docker.io", rest),
    };
    // A tag is after the last `:` of the repository (a registry port is not in `repo`).
    let (path, tag) = match repo.rsplit_once(':') {
        Some((p, t)) if !t.contains('/') => (p, t),
        _ => (repo, if digest.is_empty() { "latest" } else { "" }),
    };
    let name = path.rsplit('/').next().unwrap_or(path);
    let reference = if digest.is_empty() {
        format!("{registry}/{path}:{tag}")
    } else {
        format!("{registry}/{path}@{digest}")
    };
    serde_json::json!({
        "registry": registry, "path": path, "name": name, "tag": tag, "digest": digest,
        "reference": reference, "referenceWithTag": format!("{registry}/{path}:{tag}"),
    })
}

/// Data searched as it is. `Expression::search` takes any `Serialize` value and rebuilds it
/// as a new `Variable` (a deep copy of the whole object at every search: a tenth of a
/// `policy check` of upstream Kyverno policies); this type is not `Serialize`, so its own
/// conversion applies: a reference count.
struct Shared<'a>(&'a Rcvar);

impl jmespath::ToJmespath for Shared<'_> {
    fn to_jmespath(self) -> Result<Rcvar, jmespath::JmespathError> {
        Ok(self.0.clone())
    }
}

/// Expressions compiled once per thread ([`super::compiled_once`]): a policy's `{{ … }}` run
/// for every object, and parsing them each time was a fiftieth of checking upstream Kyverno
/// policies.
fn compiled(expr: &str) -> Result<std::rc::Rc<jmespath::Expression<'static>>, String> {
    type Compiled = std::rc::Rc<jmespath::Expression<'static>>;
    thread_local! {
        static CACHE: std::cell::RefCell<std::collections::HashMap<String, Compiled>> =
            Default::default();
    }
    super::compiled_once(&CACHE, 4096, expr, || {
        RUNTIME
            .compile(expr)
            .map(std::rc::Rc::new)
            .map_err(|e| e.to_string())
    })
}

/// Evaluate one expression against `data`, as JMESPath's own value.
pub fn search(expr: &str, data: &Data) -> Result<Rcvar, String> {
    compiled(expr)?
        .search(Shared(&data.0))
        .map_err(|e| format!("{{{{ {expr} }}}}: {e}"))
}

/// A JMESPath value as JSON.
pub fn to_json(v: &Rcvar) -> Result<Value, String> {
    serde_json::to_value(&**v).map_err(|e| e.to_string())
}

/// Evaluate one expression against `data`.
pub fn eval(expr: &str, data: &Data) -> Result<Value, String> {
    to_json(&search(expr, data)?)
}

/// Evaluate one expression against a plain value (a context variable's `value`).
pub fn eval_on(expr: &str, v: &Value) -> Result<Value, String> {
    use jmespath::ToJmespath;
    let v = v.to_jmespath().map_err(|e| e.to_string())?;
    to_json(
        &compiled(expr)?
            .search(&v)
            .map_err(|e| format!("{{{{ {expr} }}}}: {e}"))?,
    )
}

/// `text` with every `{{ … }}` rendered into it (a JMESPath path that has variables).
pub fn substitute_text(text: &str, data: &Data) -> Result<String, String> {
    match substitute(&Value::String(text.to_string()), data)? {
        Value::String(s) => Ok(s),
        other => Ok(other.to_string()),
    }
}

/// Replace the variables of a condition operand: a string that is one `{{ … }}` becomes the
/// value; `{{ … }}` inside text is rendered into it; lists and maps are substituted deeply.
pub fn substitute(v: &Value, data: &Data) -> Result<Value, String> {
    match v {
        Value::String(s) => {
            // Innermost first: `{{ regex_match('^v', '{{ request.object.x }}') }}` renders
            // the inner variable into the outer expression's text, as Kyverno does.
            let mut text = s.clone();
            loop {
                let Some((start, end)) = innermost(&text) else {
                    return Ok(Value::String(text));
                };
                let value = eval(text[start + 2..end].trim(), data)?;
                // A string that is one expression is that expression's value, typed.
                if text[..start].trim().is_empty() && text[end + 2..].trim().is_empty() {
                    return Ok(value);
                }
                let rendered = match value {
                    Value::String(s) => s,
                    Value::Null => String::new(),
                    other => other.to_string(),
                };
                text = format!("{}{rendered}{}", &text[..start], &text[end + 2..]);
            }
        }
        Value::Array(a) => a
            .iter()
            .map(|x| substitute(x, data))
            .collect::<Result<_, _>>()
            .map(Value::Array),
        Value::Object(m) => m
            .iter()
            .map(|(k, x)| substitute(x, data).map(|x| (k.clone(), x)))
            .collect::<Result<_, _>>()
            .map(Value::Object),
        other => Ok(other.clone()),
    }
}

/// Kyverno conditions: `{any: […], all: […]}` (both must hold when both are given) or a bare
/// list (all).
pub fn conditions(c: &Value, data: &Data) -> Result<bool, String> {
    let each = |list: &Value, all: bool| -> Result<bool, String> {
        let items = list.as_array().cloned().unwrap_or_default();
        let mut results = Vec::with_capacity(items.len());
        for cond in &items {
            results.push(condition(cond, data)?);
        }
        Ok(if all {
            results.iter().all(|r| *r)
        } else {
            results.iter().any(|r| *r)
        })
    };
    match c {
        Value::Array(_) => each(c, true),
        Value::Object(m) => {
            let any = match m.get("any") {
                Some(l) => each(l, false)?,
                None => true,
            };
            let all = match m.get("all") {
                Some(l) => each(l, true)?,
                None => true,
            };
            Ok(any && all)
        }
        _ => Ok(true),
    }
}

fn condition(c: &Value, data: &Data) -> Result<bool, String> {
    let key = substitute(c.get("key").unwrap_or(&Value::Null), data)?;
    let value = substitute(c.get("value").unwrap_or(&Value::Null), data)?;
    let op = c
        .get("operator")
        .and_then(Value::as_str)
        .unwrap_or("Equals");
    let keys = as_list(&key);
    let values = as_list(&value);
    // Set membership matches wildcards on both sides: a key `*` (a role's `verbs: ['*']`)
    // is in any list, as in Kyverno.
    let in_values = |k: &Value| {
        values.iter().any(|v| {
            matches(k, v)
                || matches!((k, v), (Value::String(p), Value::String(t))
                    if p.contains(['*', '?']) && super::pattern::wildcard(p, t))
        })
    };
    // A set operator with no list to compare against (a variable that resolved to null)
    // does not hold, whichever way it is phrased: Kyverno's operators reject the type.
    let set_op = matches!(
        op,
        "AnyIn" | "AllIn" | "In" | "AnyNotIn" | "AllNotIn" | "NotIn"
    );
    if set_op && value.is_null() {
        return Ok(false);
    }
    Ok(match op {
        "Equals" => matches(&key, &value),
        "NotEquals" => !matches(&key, &value),
        "AnyIn" => keys.iter().any(in_values),
        "AllIn" | "In" => !keys.is_empty() && keys.iter().all(in_values),
        "AnyNotIn" => keys.iter().any(|k| !in_values(k)),
        "AllNotIn" | "NotIn" => keys.iter().all(|k| !in_values(k)),
        "GreaterThan" | "GreaterThanOrEquals" | "LessThan" | "LessThanOrEquals" => {
            let (Some(a), Some(b)) = comparable(&key, &value) else {
                return Err(format!(
                    "{op}: {key} and {value} are not numbers, durations or quantities"
                ));
            };
            match op {
                "GreaterThan" => a > b,
                "GreaterThanOrEquals" => a >= b,
                "LessThan" => a < b,
                _ => a <= b,
            }
        }
        other => return Err(format!("operator {other} is not evaluated")),
    })
}

fn as_list(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a.clone(),
        // A JSON list in text (a context value, a values file's `'["a", "b"]'`) is the list,
        // as Kyverno's set operators read it.
        Value::String(s) if s.trim_start().starts_with('[') => {
            match serde_json::from_str::<Value>(s) {
                Ok(Value::Array(a)) => a,
                _ => vec![v.clone()],
            }
        }
        Value::Null => Vec::new(),
        other => vec![other.clone()],
    }
}

/// Two values as numbers: plain numbers, else both Go durations (`1h30m`, in seconds), else
/// both Kubernetes quantities (`512Mi`), as Kyverno's comparison operators read them.
fn comparable(a: &Value, b: &Value) -> (Option<f64>, Option<f64>) {
    if let (Some(x), Some(y)) = (number(a), number(b)) {
        return (Some(x), Some(y));
    }
    let text = |v: &Value| match v {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    let (Some(ta), Some(tb)) = (text(a), text(b)) else {
        return (None, None);
    };
    if let (Some(x), Some(y)) = (duration(&ta), duration(&tb)) {
        return (Some(x), Some(y));
    }
    (
        crate::analyzers::quantity(&ta),
        crate::analyzers::quantity(&tb),
    )
}

/// A Go duration (`300ms`, `1.5h`, `2h45m`) in seconds; `None` for anything else, including
/// a bare number (that is a number, not a duration).
pub(super) fn duration(s: &str) -> Option<f64> {
    let (neg, mut rest) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if rest.is_empty() || rest.parse::<f64>().is_ok() {
        return None;
    }
    let mut total = 0.0;
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .filter(|&i| i > 0)?;
        let n: f64 = rest[..num_end].parse().ok()?;
        rest = &rest[num_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_end] {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        total += n * scale;
        rest = &rest[unit_end..];
    }
    Some(if neg { -total } else { total })
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A key element against a value element: equal (numbers and their text alike), a wildcard
/// string, or a numeric range `a-b`.
fn matches(k: &Value, v: &Value) -> bool {
    if k == v {
        return true;
    }
    if let (Some(a), Some(b)) = (number(k), number(v)) {
        return (a - b).abs() < f64::EPSILON;
    }
    let Value::String(p) = v else {
        return false;
    };
    if let Some((lo, hi)) = p.split_once('-')
        && let (Ok(lo), Ok(hi), Some(x)) = (
            lo.trim().parse::<f64>(),
            hi.trim().parse::<f64>(),
            number(k),
        )
    {
        return x >= lo && x <= hi;
    }
    let text = match k {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        _ => return false,
    };
    super::pattern::wildcard(p, &text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn compiled_expressions_are_reused_across_objects_and_errors_stay_errors() {
        for (name, n) in [("a", 1), ("b", 2), ("a", 1)] {
            let data = Data::request(&json!({"metadata": {"name": name}, "n": n}), "CREATE")
                .expect("data");
            assert_eq!(eval("request.object.metadata.name", &data), Ok(json!(name)));
            assert_eq!(eval_on("n", &json!({"n": n})), Ok(json!(n)));
            assert!(eval("request.object.[", &data).is_err());
        }
    }

    #[test]
    fn variables_and_operators() {
        let data = Data::request(&json!({"spec": {"containers": [
            {"name": "a", "securityContext": {"capabilities": {"add": ["NET_ADMIN"], "drop": ["all"]}}}]}}), "CREATE")
        .expect("data");
        assert_eq!(
            eval("request.object.spec.[ephemeralContainers, initContainers, containers][].securityContext.capabilities.add[]", &data).expect("eval"),
            json!(["NET_ADMIN"])
        );
        assert_eq!(
            eval(
                "request.object.spec.containers[].securityContext.capabilities.drop[].to_upper(@)",
                &data
            )
            .expect("eval"),
            json!(["ALL"])
        );
        assert_eq!(
            substitute(&json!("{{ request.operation || 'BACKGROUND' }}"), &data).expect("sub"),
            json!("CREATE")
        );
        assert_eq!(
            substitute(&json!("op is {{ request.operation }}"), &data).expect("sub"),
            json!("op is CREATE")
        );
        let deny = json!({"all": [{"key": "{{ request.object.spec.containers[].securityContext.capabilities.add[] }}",
            "operator": "AnyNotIn", "value": ["CHOWN", "KILL"]}]});
        assert!(conditions(&deny, &data).expect("conditions"));
        let ok = json!({"any": [{"key": "{{ request.operation }}", "operator": "AnyIn", "value": ["CREATE", "UPDATE"]}]});
        assert!(conditions(&ok, &data).expect("conditions"));
        assert!(!conditions(&json!([{"key": "livenessProbe", "operator": "AllNotIn", "value": ["livenessProbe", "name"]}]), &data).expect("c"));
        assert!(
            conditions(
                &json!([{"key": 8080, "operator": "AnyIn", "value": ["8000-9000"]}]),
                &data
            )
            .expect("c")
        );
        assert!(parses("{{ request.object.spec.[a, b][] }}").is_ok());
        assert!(parses("{{ request.object..x }}").is_err());
    }
}

#[cfg(test)]
mod kyverno_semantics {
    use super::*;
    use serde_json::json;

    fn data() -> Data {
        Data::request(
            &json!({"kind": "Pod", "metadata": {"name": "web", "labels": {"v": "v1.2.3"}},
                "spec": {"containers": [{"name": "app", "image": "ghcr.io/acme/web:2.1"},
                                        {"name": "side", "image": "nginx"}]}}),
            "UPDATE",
        )
        .expect("data")
    }

    #[test]
    fn nested_variables_render_innermost_first() {
        let d = data();
        assert_eq!(
            substitute(
                &json!(
                    "{{ regex_match('^v[0-9].[0-9].[0-9]$', '{{ request.object.metadata.labels.v }}') }}"
                ),
                &d
            ),
            Ok(json!(true))
        );
        assert_eq!(
            substitute(&json!("name {{ request.object.metadata.name }}!"), &d),
            Ok(json!("name web!"))
        );
        assert!(parses("{{ divide('{{ a.b }}', '2') }}").is_ok());
    }

    #[test]
    fn images_operation_and_old_object_are_bound() {
        let d = data();
        assert_eq!(
            eval("images.containers.app.registry", &d),
            Ok(json!("ghcr.io"))
        );
        assert_eq!(eval("images.containers.app.tag", &d), Ok(json!("2.1")));
        assert_eq!(
            eval("images.containers.side.registry", &d),
            Ok(json!("docker.io"))
        );
        assert_eq!(eval("images.containers.side.tag", &d), Ok(json!("latest")));
        assert_eq!(eval("request.operation", &d), Ok(json!("UPDATE")));
        assert_eq!(
            eval("request.oldObject.metadata.name", &d),
            Ok(json!("web"))
        );
        let d = d
            .with_values(&serde_json::Map::from_iter([(
                "cfg.data.max".to_string(),
                json!("3"),
            )]))
            .expect("values");
        assert_eq!(eval("cfg.data.max", &d), Ok(json!("3")));
    }

    #[test]
    fn kyverno_functions_and_comparisons() {
        let d = data();
        for (expr, want) in [
            ("split('a/b/c', '/')[1]", json!("b")),
            ("regex_replace_all('h.*', '24h', '')", json!("24")),
            ("divide('300Mi', '100Mi')", json!(3.0)),
            ("trim('--x--', '-')", json!("x")),
            ("request.object.spec.nothing.keys(@)", json!(null)),
            ("label_match({a: 'b'}, {a: 'b', c: 'd'})", json!(true)),
        ] {
            assert_eq!(eval(expr, &d), Ok(want), "{expr}");
        }
        let cond = |key: Value, op: &str, value: Value| {
            condition(&json!({"key": key, "operator": op, "value": value}), &d)
        };
        assert_eq!(cond(json!("24h"), "GreaterThan", json!("8h")), Ok(true));
        assert_eq!(cond(json!("1Gi"), "GreaterThan", json!("512Mi")), Ok(true));
        // A wildcard key is in any list; a JSON list in text is a list.
        assert_eq!(cond(json!(["*"]), "AnyIn", json!(["escalate"])), Ok(true));
        assert_eq!(cond(json!("a"), "AnyIn", json!("[\"a\", \"b\"]")), Ok(true));
        // Against nothing (a null variable) no set operator holds.
        assert_eq!(cond(json!("a"), "AnyNotIn", json!(null)), Ok(false));
        assert!(cond(json!("x"), "GreaterThan", json!("8h")).is_err());
    }
}
