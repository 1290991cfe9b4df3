//! Kyverno's JMESPath: `{{ expression }}` variables over the admission request
//! (`request.object`, `request.operation`, `element` in a `foreach`), and the condition
//! operators of `preconditions` and `deny.conditions` (`Equals`, `NotEquals`, `AnyIn`, `AllIn`,
//! `AnyNotIn`, `AllNotIn`, `In`, `NotIn`, the numeric comparisons), with Kyverno's wildcards and
//! numeric ranges in values. Standard JMESPath plus Kyverno's `to_upper` and `to_lower`; other
//! Kyverno functions are evaluation errors (reported, never guessed).

use jmespath::{Rcvar, Runtime, Variable};
use serde_json::Value;
use std::sync::LazyLock;

static RUNTIME: LazyLock<Runtime> = LazyLock::new(|| {
    let mut rt = Runtime::new();
    rt.register_builtin_functions();
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

/// The expressions inside `{{ … }}` of `text`.
fn expressions(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        out.push(after[..end].trim());
        rest = &after[end + 2..];
    }
    out
}

/// What expressions are evaluated against, converted once: `request` (operation CREATE, the
/// object), and in a `foreach` the `element` and `elementIndex`.
#[derive(Clone)]
pub struct Data(Rcvar);

impl Data {
    /// The admission request for `object`.
    pub fn request(object: &Value) -> Result<Data, String> {
        use jmespath::ToJmespath;
        let object = object.to_jmespath().map_err(|e| e.to_string())?;
        let mut request = std::collections::BTreeMap::new();
        request.insert(
            "operation".to_string(),
            Rcvar::new(Variable::String("CREATE".into())),
        );
        request.insert("object".to_string(), object);
        let mut top = std::collections::BTreeMap::new();
        top.insert("request".to_string(), Rcvar::new(Variable::Object(request)));
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

/// Evaluate one expression against `data`, as JMESPath's own value.
pub fn search(expr: &str, data: &Data) -> Result<Rcvar, String> {
    let compiled = RUNTIME.compile(expr).map_err(|e| e.to_string())?;
    compiled
        .search(&data.0)
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

/// Replace the variables of a condition operand: a string that is one `{{ … }}` becomes the
/// value; `{{ … }}` inside text is rendered into it; lists and maps are substituted deeply.
pub fn substitute(v: &Value, data: &Data) -> Result<Value, String> {
    match v {
        Value::String(s) => {
            let t = s.trim();
            if t.starts_with("{{") && t.ends_with("}}") && expressions(t).len() == 1 {
                return eval(expressions(t)[0], data);
            }
            let mut out = String::new();
            let mut rest = s.as_str();
            while let Some(start) = rest.find("{{") {
                out.push_str(&rest[..start]);
                let after = &rest[start + 2..];
                let Some(end) = after.find("}}") else {
                    out.push_str(&rest[start..]);
                    rest = "";
                    break;
                };
                let value = eval(after[..end].trim(), data)?;
                out.push_str(&match value {
                    Value::String(s) => s,
                    Value::Null => String::new(),
                    other => other.to_string(),
                });
                rest = &after[end + 2..];
            }
            out.push_str(rest);
            Ok(Value::String(out))
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
    let in_values = |k: &Value| values.iter().any(|v| matches(k, v));
    Ok(match op {
        "Equals" => matches(&key, &value),
        "NotEquals" => !matches(&key, &value),
        "AnyIn" => keys.iter().any(in_values),
        "AllIn" | "In" => !keys.is_empty() && keys.iter().all(in_values),
        "AnyNotIn" => keys.iter().any(|k| !in_values(k)),
        "AllNotIn" | "NotIn" => keys.iter().all(|k| !in_values(k)),
        "GreaterThan" | "GreaterThanOrEquals" | "LessThan" | "LessThanOrEquals" => {
            let (Some(a), Some(b)) = (number(&key), number(&value)) else {
                return Err(format!("{op}: {key} and {value} are not numbers"));
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
        Value::Null => Vec::new(),
        other => vec![other.clone()],
    }
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
    fn variables_and_operators() {
        let data = Data::request(&json!({"spec": {"containers": [
            {"name": "a", "securityContext": {"capabilities": {"add": ["NET_ADMIN"], "drop": ["all"]}}}]}}))
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
