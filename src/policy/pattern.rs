//! Kyverno's validation patterns (`validate.pattern`, `anyPattern`, and `foreach` entries with
//! a pattern), evaluated as Kyverno does, for the constructs it documents:
//!
//! - maps: every key of the pattern must be in the resource and match; keys may carry anchors:
//!   `=(key)` equality (checked only when present), `(key)` conditional (when absent or not
//!   matching, the enclosing map is not checked: a root condition skips the rule, one inside a
//!   list element skips that element), `X(key)` negation (must be absent), `^(key)` existence (a
//!   list with at least one element matching), and glob keys (`annotations: {"container.*": …}`
//!   apply to every key they match);
//! - lists: a one-element pattern list applies to every element of the resource's list;
//! - values: `*` / `?` wildcards, `?*` non-empty, `|` alternatives, `&` conjunctions, `!`
//!   negation, `>`, `>=`, `<`, `<=` and `a-b` / `a!-b` ranges on numbers; `"true"` matches
//!   `true` and numbers match their text, as Kyverno converts them.
//!
//! Global (`<(key)`) and add (`+(key)`) anchors and `{{ variables }}` are not evaluated:
//! [`supported`] says so, and such a rule is reported as unsupported rather than guessed.

use serde_json::Value;

/// Why a resource does not match, or that the pattern does not apply to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mismatch {
    /// The first path that does not match (`/spec/containers/0/image`).
    Fail(String),
    /// A conditional anchor was not met: the pattern does not apply.
    Skip,
}

/// Whether Sextant evaluates every construct of `pattern` (see the module doc).
pub fn supported(pattern: &Value) -> Result<(), String> {
    match pattern {
        Value::Object(m) => {
            for (k, v) in m {
                if k.starts_with("<(") || k.starts_with("+(") {
                    return Err(format!("anchor {k} is not evaluated"));
                }
                supported(v)?;
            }
            Ok(())
        }
        Value::Array(a) => a.iter().try_for_each(supported),
        _ => Ok(()),
    }
}

/// Match `resource` against `pattern`: `Ok(())`, a failing path, or a skip.
pub fn check(pattern: &Value, resource: &Value) -> Result<(), Mismatch> {
    walk(pattern, Some(resource), "")
}

enum Anchor<'k> {
    Plain(&'k str),
    Equality(&'k str),
    Conditional(&'k str),
    Negation(&'k str),
    Existence(&'k str),
}

fn anchor(key: &str) -> Anchor<'_> {
    let inner = |prefix: &str| {
        key.strip_prefix(prefix)
            .and_then(|r| r.strip_suffix(')'))
            .filter(|r| !r.is_empty())
    };
    if let Some(k) = inner("=(") {
        Anchor::Equality(k)
    } else if let Some(k) = inner("X(") {
        Anchor::Negation(k)
    } else if let Some(k) = inner("^(") {
        Anchor::Existence(k)
    } else if let Some(k) = inner("(") {
        Anchor::Conditional(k)
    } else {
        Anchor::Plain(key)
    }
}

fn is_glob(k: &str) -> bool {
    k.contains('*') || k.contains('?')
}

/// The resource's entries a pattern key names (a glob names every key it matches).
fn entries<'r>(key: &str, map: &'r serde_json::Map<String, Value>) -> Vec<(&'r str, &'r Value)> {
    if is_glob(key) {
        map.iter()
            .filter(|(k, _)| wildcard(key, k))
            .map(|(k, v)| (k.as_str(), v))
            .collect()
    } else {
        map.get_key_value(key)
            .map(|(k, v)| vec![(k.as_str(), v)])
            .unwrap_or_default()
    }
}

fn walk(pattern: &Value, resource: Option<&Value>, path: &str) -> Result<(), Mismatch> {
    match pattern {
        Value::Object(pm) => {
            let Some(Value::Object(rm)) = resource else {
                return Err(Mismatch::Fail(path_or_root(path)));
            };
            // Conditions first: when one is not met, this map is not checked at all.
            for (k, pv) in pm {
                if let Anchor::Conditional(key) = anchor(k) {
                    let found = entries(key, rm);
                    if found.is_empty() {
                        return Err(Mismatch::Skip);
                    }
                    for (name, v) in found {
                        if walk(pv, Some(v), &format!("{path}/{name}")).is_err() {
                            return Err(Mismatch::Skip);
                        }
                    }
                }
            }
            for (k, pv) in pm {
                match anchor(k) {
                    Anchor::Conditional(_) => {}
                    Anchor::Negation(key) => {
                        if let Some((name, _)) = entries(key, rm).first() {
                            return Err(Mismatch::Fail(format!("{path}/{name}")));
                        }
                    }
                    Anchor::Equality(key) => {
                        for (name, v) in entries(key, rm) {
                            walk(pv, Some(v), &format!("{path}/{name}"))?;
                        }
                    }
                    Anchor::Existence(key) => {
                        let at = format!("{path}/{key}");
                        let (Some(Value::Array(items)), Some(Value::Array(pp))) =
                            (rm.get(key), Some(pv))
                        else {
                            return Err(Mismatch::Fail(at));
                        };
                        let Some(p0) = pp.first() else {
                            continue;
                        };
                        if !items
                            .iter()
                            .enumerate()
                            .any(|(i, it)| walk(p0, Some(it), &format!("{at}/{i}")).is_ok())
                        {
                            return Err(Mismatch::Fail(at));
                        }
                    }
                    Anchor::Plain(key) => {
                        let found = entries(key, rm);
                        if found.is_empty() {
                            // A glob key that names nothing, or a missing field.
                            if is_glob(key) {
                                continue;
                            }
                            return Err(Mismatch::Fail(format!("{path}/{key}")));
                        }
                        for (name, v) in found {
                            walk(pv, Some(v), &format!("{path}/{name}"))?;
                        }
                    }
                }
            }
            Ok(())
        }
        Value::Array(pp) => {
            let Some(Value::Array(items)) = resource else {
                return Err(Mismatch::Fail(path_or_root(path)));
            };
            match pp.as_slice() {
                [] => Ok(()),
                // One pattern for every element; an element whose condition is not met is
                // not checked.
                // When every element's condition is unmet, the list as a whole is (a
                // conditional `(volumes)` holds only if some volume matches), as in Kyverno.
                [p0] => {
                    let mut checked = items.is_empty();
                    for (i, it) in items.iter().enumerate() {
                        match walk(p0, Some(it), &format!("{path}/{i}")) {
                            Ok(()) => checked = true,
                            Err(Mismatch::Skip) => {}
                            Err(f) => return Err(f),
                        }
                    }
                    if checked { Ok(()) } else { Err(Mismatch::Skip) }
                }
                // Several: element by element.
                many => {
                    for (i, p) in many.iter().enumerate() {
                        match walk(p, items.get(i), &format!("{path}/{i}")) {
                            Ok(()) | Err(Mismatch::Skip) => {}
                            Err(f) => return Err(f),
                        }
                    }
                    Ok(())
                }
            }
        }
        scalar => match resource {
            // A scalar pattern against a list checks every element (Kyverno's validation of
            // `supplementalGroups: ">0"`).
            Some(Value::Array(items)) => {
                for (i, it) in items.iter().enumerate() {
                    if !value_matches(scalar, it) {
                        return Err(Mismatch::Fail(format!("{path}/{i}")));
                    }
                }
                Ok(())
            }
            Some(v) if value_matches(scalar, v) => Ok(()),
            _ => Err(Mismatch::Fail(path_or_root(path))),
        },
    }
}

fn path_or_root(path: &str) -> String {
    if path.is_empty() {
        "/".into()
    } else {
        path.to_string()
    }
}

/// A pattern scalar against a resource value.
fn value_matches(pattern: &Value, actual: &Value) -> bool {
    match pattern {
        Value::Null => actual.is_null(),
        Value::Bool(b) => match actual {
            Value::Bool(a) => a == b,
            Value::String(s) => s.eq_ignore_ascii_case(if *b { "true" } else { "false" }),
            _ => false,
        },
        Value::Number(n) => match (n.as_f64(), number(actual)) {
            (Some(p), Some(a)) => (p - a).abs() < f64::EPSILON,
            _ => false,
        },
        Value::String(s) => string_matches(s, actual),
        _ => false,
    }
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null => Some(String::new()),
        _ => None,
    }
}

/// `a | b` (any), `a & b` (all), then one operand.
fn string_matches(p: &str, actual: &Value) -> bool {
    p.split('|').any(|alt| {
        alt.split('&')
            .all(|term| operand_matches(term.trim(), actual))
    })
}

fn operand_matches(p: &str, actual: &Value) -> bool {
    // Ranges `1-10` and `1!-10` on numbers.
    if let Some((lo, hi)) = p.split_once("!-")
        && let (Ok(lo), Ok(hi), Some(a)) = (lo.parse::<f64>(), hi.parse::<f64>(), number(actual))
    {
        return a < lo || a > hi;
    }
    if let Some((lo, hi)) = p.split_once('-')
        && !lo.is_empty()
        && let (Ok(lo), Ok(hi), Some(a)) = (lo.parse::<f64>(), hi.parse::<f64>(), number(actual))
    {
        return a >= lo && a <= hi;
    }
    for (op, cmp) in [
        (">=", (|a: f64, b: f64| a >= b) as fn(f64, f64) -> bool),
        ("<=", |a, b| a <= b),
        (">", |a, b| a > b),
        ("<", |a, b| a < b),
    ] {
        if let Some(rest) = p.strip_prefix(op)
            && let Ok(b) = rest.trim().parse::<f64>()
        {
            return number(actual).is_some_and(|a| cmp(a, b));
        }
    }
    if let Some(rest) = p.strip_prefix('!') {
        return !operand_matches(rest, actual);
    }
    match text(actual) {
        Some(t) => {
            if let Value::Bool(b) = actual {
                return p.eq_ignore_ascii_case(&b.to_string()) || wildcard(p, &t);
            }
            wildcard(p, &t)
        }
        None => p == "*",
    }
}

/// Kyverno's wildcards: `*` any run, `?` one character.
pub fn wildcard(p: &str, s: &str) -> bool {
    fn go(p: &[u8], s: &[u8]) -> bool {
        match (p.first(), s.first()) {
            (None, None) => true,
            (Some(b'*'), _) => go(&p[1..], s) || (!s.is_empty() && go(p, &s[1..])),
            (Some(b'?'), Some(_)) => go(&p[1..], &s[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &s[1..]),
            _ => false,
        }
    }
    go(p.as_bytes(), s.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ok(p: Value, r: Value) -> bool {
        check(&p, &r).is_ok()
    }

    #[test]
    fn values() {
        assert!(ok(json!({"image": "*:*"}), json!({"image": "nginx:1.27"})));
        assert!(!ok(json!({"image": "*:*"}), json!({"image": "nginx"})));
        assert!(!ok(
            json!({"image": "!*:latest"}),
            json!({"image": "nginx:latest"})
        ));
        assert!(ok(json!({"m": "?*"}), json!({"m": "1Gi"})));
        assert!(!ok(json!({"m": "?*"}), json!({"m": ""})));
        assert!(
            !ok(json!({"m": "?*"}), json!({})),
            "a plain key must be present"
        );
        assert!(ok(
            json!({"t": "RuntimeDefault | Localhost"}),
            json!({"t": "Localhost"})
        ));
        assert!(ok(json!({"p": "0"}), json!({"p": 0})));
        assert!(ok(json!({"p": 0}), json!({"p": 0})));
        assert!(!ok(json!({"p": 0}), json!({"p": 80})));
        assert!(ok(json!({"x": "true"}), json!({"x": true})));
        assert!(ok(json!({"x": true}), json!({"x": "true"})));
        assert!(ok(json!({"n": ">=1000 & <2000"}), json!({"n": 1500})));
        assert!(!ok(json!({"n": "1-10"}), json!({"n": 11})));
        assert!(ok(json!({"n": "1!-10"}), json!({"n": 11})));
        assert!(ok(json!({"t": "!NodePort"}), json!({"t": "ClusterIP"})));
    }

    #[test]
    fn anchors() {
        let p =
            json!({"spec": {"=(volumes)": [{"=(hostPath)": {"path": "!/var/run/docker.sock"}}]}});
        assert!(ok(p.clone(), json!({"spec": {}})));
        assert!(ok(
            p.clone(),
            json!({"spec": {"volumes": [{"emptyDir": {}}]}})
        ));
        assert_eq!(
            check(
                &p,
                &json!({"spec": {"volumes": [{"emptyDir": {}}, {"hostPath": {"path": "/var/run/docker.sock"}}]}})
            ),
            Err(Mismatch::Fail("/spec/volumes/1/hostPath/path".into()))
        );
        let neg = json!({"spec": {"X(externalIPs)": "null"}});
        assert!(ok(neg.clone(), json!({"spec": {"ports": []}})));
        assert!(!ok(neg, json!({"spec": {"externalIPs": ["1.2.3.4"]}})));
        // A condition not met skips the element; when no element meets it, the pattern
        // (the rule does not apply: skip, never a denial).
        let cond = json!({"spec": {"containers": [{"(name)": "web", "image": "web:*"}]}});
        assert_eq!(
            check(
                &cond,
                &json!({"spec": {"containers": [{"name": "db", "image": "pg"}]}})
            ),
            Err(Mismatch::Skip)
        );
        assert!(ok(
            cond.clone(),
            json!({"spec": {"containers": [{"name": "db", "image": "pg"}, {"name": "web", "image": "web:1"}]}})
        ));
        assert!(!ok(
            cond,
            json!({"spec": {"containers": [{"name": "web", "image": "nginx"}]}})
        ));
        assert_eq!(
            check(&json!({"(kind)": "Job", "x": 1}), &json!({"kind": "Pod"})),
            Err(Mismatch::Skip)
        );
        let exists = json!({"spec": {"^(containers)": [{"image": "sidecar:*"}]}});
        assert!(ok(
            exists.clone(),
            json!({"spec": {"containers": [{"image": "a"}, {"image": "sidecar:1"}]}})
        ));
        assert!(!ok(
            exists,
            json!({"spec": {"containers": [{"image": "a"}]}})
        ));
        // Glob keys.
        let glob = json!({"=(metadata)": {"=(annotations)": {"=(container.apparmor.security.beta.kubernetes.io/*)": "runtime/default | localhost/*"}}});
        assert!(ok(
            glob.clone(),
            json!({"metadata": {"annotations": {"container.apparmor.security.beta.kubernetes.io/web": "localhost/p"}}})
        ));
        assert!(!ok(
            glob,
            json!({"metadata": {"annotations": {"container.apparmor.security.beta.kubernetes.io/web": "unconfined"}}})
        ));
    }

    #[test]
    fn a_scalar_checks_every_element_and_unmet_conditions_skip_the_list() {
        // `supplementalGroups: ">0"` against `[32, 94]` and `[0, 5]`.
        let p = json!({"spec": {"=(securityContext)": {"=(supplementalGroups)": ">0"}}});
        let pod =
            |g: serde_json::Value| json!({"spec": {"securityContext": {"supplementalGroups": g}}});
        assert!(check(&p, &pod(json!([32, 94]))).is_ok());
        assert!(
            matches!(check(&p, &pod(json!([0, 5]))), Err(Mismatch::Fail(at)) if at.ends_with("/0"))
        );
        // A conditional list holds only if some element meets its condition.
        let p = json!({"metadata": {"labels": {"allow": "true"}},
            "(spec)": {"(volumes)": [{"(hostPath)": {"path": "/var/run/docker.sock"}}]}});
        let with = |path: &str| {
            json!({"metadata": {"labels": {"allow": "false"}},
            "spec": {"volumes": [{"hostPath": {"path": path}}]}})
        };
        assert!(matches!(check(&p, &with("/random")), Err(Mismatch::Skip)));
        assert!(matches!(
            check(&p, &with("/var/run/docker.sock")),
            Err(Mismatch::Fail(_))
        ));
    }

    #[test]
    fn unsupported_constructs_are_named() {
        assert!(supported(&json!({"spec": {"<(x)": 1}})).is_err());
        // Variables are resolved before matching (`{{ element.name }}`), so they are fine.
        assert!(supported(&json!({"a": "{{ request.object.metadata.name }}"})).is_ok());
        assert!(supported(&json!({"spec": {"=(x)": [{"y": "*"}]}})).is_ok());
    }
}
