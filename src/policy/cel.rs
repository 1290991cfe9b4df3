//! CEL as Kubernetes evaluates it in ValidatingAdmissionPolicies and Kyverno `validate.cel`
//! rules: `object`, `oldObject`, `request`, `params`, `namespaceObject` and `variables.NAME`
//! bound, with the Kubernetes CEL libraries (quantity, regex, lists, sets, url, ip…) from
//! `kube-cel`.
//!
//! `kube-cel`'s own VAP evaluator has no `variables`, which both our drafts and the upstream
//! policies use, so the binding is done here; the functions are kube-cel's.

use kube_cel::KubeCelExt;
use kube_cel::cel::objects::{Key, Map};
use kube_cel::cel::{Context, Program, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// A compiled expression and its source (for messages).
pub struct Expr {
    program: Program,
    pub source: String,
}

impl std::fmt::Debug for Expr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Expr").field(&self.source).finish()
    }
}

/// Compile `source`; the error is the parser's message, one line.
pub fn compile(source: &str) -> Result<Expr, String> {
    Program::compile(&desugar_optionals(source))
        .map(|program| Expr {
            program,
            source: source.to_string(),
        })
        .map_err(|e| e.to_string().replace('\n', " "))
}

/// Rewrite CEL's optional field chains, which the `cel` crate does not parse, into the
/// equivalent `has()` form: `a.b.?c.?d.orValue(x)` → `(has(a.b.c) && has(a.b.c.d) ? a.b.c.d : (x))`.
/// Kubernetes and Kyverno policies use this idiom for fields that may be absent.
pub fn desugar_optionals(src: &str) -> String {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| {
        regex::Regex::new(r"([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)((?:\.\?[A-Za-z_]\w*)+)\.orValue\(")
            .unwrap_or_else(|e| panic!("optional-chain pattern: {e}"))
    });
    let mut s = src.to_string();
    // Each pass rewrites the first chain; nested defaults are handled by later passes.
    for _ in 0..64 {
        let Some(c) = re.captures(&s) else { break };
        let (Some(m), Some(base), Some(chain)) = (c.get(0), c.get(1), c.get(2)) else {
            break;
        };
        let Some(close) = matching_paren(&s, m.end()) else {
            break;
        };
        let default = &s[m.end()..close];
        let mut path = base.as_str().to_string();
        let mut tests = Vec::new();
        for f in chain.as_str().split(".?").filter(|f| !f.is_empty()) {
            path = format!("{path}.{f}");
            tests.push(format!("has({path})"));
        }
        let repl = format!("({} ? {path} : ({default}))", tests.join(" && "));
        s = format!("{}{repl}{}", &s[..m.start()], &s[close + 1..]);
    }
    s
}

/// The index of the `)` closing a call whose arguments start at `from`, skipping strings.
fn matching_paren(s: &str, from: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut quote: Option<u8> = None;
    let b = s.as_bytes();
    let mut i = from;
    while i < b.len() {
        let c = b[i];
        match quote {
            Some(_) if c == b'\\' => i += 1,
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                b'\'' | b'"' => quote = Some(c),
                b'(' => depth += 1,
                b')' if depth == 0 => return Some(i),
                b')' => depth -= 1,
                _ => {}
            },
        }
        i += 1;
    }
    None
}

/// JSON to a CEL value. Integers stay signed (`cel::to_value` would make them `uint`, and
/// `x > 0` between int and uint is an error in CEL).
pub fn value(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Value::Int(i),
            (None, Some(u)) => Value::UInt(u),
            _ => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        serde_json::Value::String(s) => Value::String(Arc::new(s.clone())),
        serde_json::Value::Array(a) => Value::List(Arc::new(a.iter().map(value).collect())),
        serde_json::Value::Object(o) => Value::Map(Map {
            map: Arc::new(
                o.iter()
                    .map(|(k, v)| (Key::String(Arc::new(k.clone())), value(v)))
                    .collect(),
            ),
        }),
    }
}

/// What an admission request binds.
#[derive(Debug, Clone, Default)]
pub struct Bindings {
    pub object: serde_json::Value,
    pub old_object: Option<serde_json::Value>,
    pub params: Option<serde_json::Value>,
    pub namespace_object: Option<serde_json::Value>,
    /// `request`: operation, kind, namespace, name, userInfo.
    pub request: serde_json::Value,
}

impl Bindings {
    /// A CREATE of `object` (what a dry-run admission of a manifest is).
    pub fn create(object: serde_json::Value) -> Bindings {
        let kind = object.get("kind").cloned().unwrap_or_default();
        let api = object
            .get("apiVersion")
            .and_then(|v| v.as_str())
            .unwrap_or("v1");
        let (group, version) = api.rsplit_once('/').unwrap_or(("", api));
        let meta = object.get("metadata");
        let request = serde_json::json!({
            "operation": "CREATE",
            "kind": {"group": group, "version": version, "kind": kind},
            "namespace": meta.and_then(|m| m.get("namespace")).cloned().unwrap_or_else(|| "".into()),
            "name": meta.and_then(|m| m.get("name")).cloned().unwrap_or_else(|| "".into()),
            "userInfo": {"username": "sextant", "groups": []},
            "dryRun": true,
        });
        Bindings {
            object,
            request,
            ..Bindings::default()
        }
    }
}

/// A context with the bindings; `variables` start empty and grow with [`Scope::bind`].
pub struct Scope {
    ctx: Context<'static>,
    variables: HashMap<Key, Value>,
}

impl Scope {
    pub fn new(b: &Bindings) -> Scope {
        let mut ctx = Context::default();
        ctx.register_all();
        ctx.add_variable_from_value("object", value(&b.object));
        ctx.add_variable_from_value(
            "oldObject",
            b.old_object.as_ref().map_or(Value::Null, value),
        );
        ctx.add_variable_from_value("request", value(&b.request));
        if let Some(p) = &b.params {
            ctx.add_variable_from_value("params", value(p));
        }
        if let Some(n) = &b.namespace_object {
            ctx.add_variable_from_value("namespaceObject", value(n));
        }
        let mut s = Scope {
            ctx,
            variables: HashMap::new(),
        };
        s.publish();
        s
    }

    fn publish(&mut self) {
        let vars = Value::Map(Map {
            map: Arc::new(self.variables.clone()),
        });
        self.ctx.add_variable_from_value("variables", vars);
    }

    /// Evaluate a variable's expression and make it `variables.NAME`. A variable that fails
    /// is bound to null and the error returned (an expression using it then fails).
    pub fn bind(&mut self, name: &str, e: &Expr) -> Result<(), String> {
        let r = self.eval(e);
        let v = r.clone().unwrap_or(Value::Null);
        self.variables.insert(Key::String(Arc::new(name.into())), v);
        self.publish();
        r.map(|_| ())
    }

    pub fn eval(&self, e: &Expr) -> Result<Value, String> {
        e.program
            .execute(&self.ctx)
            .map_err(|err| format!("{}: {err}", e.source))
    }

    /// A validation: `Ok(true)` admits, `Ok(false)` denies, `Err` is an evaluation error
    /// (which admission treats per `failurePolicy`; we report it).
    pub fn check(&self, e: &Expr) -> Result<bool, String> {
        match self.eval(e)? {
            Value::Bool(b) => Ok(b),
            other => Err(format!(
                "{}: expected a bool, got {:?}",
                e.source,
                other.type_of()
            )),
        }
    }

    /// A `messageExpression`: the string it yields, if it yields one.
    pub fn message(&self, e: &Expr) -> Option<String> {
        match self.eval(e) {
            Ok(Value::String(s)) => Some(s.to_string()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(expr: &str, object: serde_json::Value) -> Result<bool, String> {
        Scope::new(&Bindings::create(object)).check(&compile(expr)?)
    }

    #[test]
    fn binds_object_and_request() {
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "shop"},
            "spec": {"containers": [{"name": "a", "image": "nginx:1.27"}]}});
        assert_eq!(
            check(
                "object.spec.containers.all(c, c.image.contains(':'))",
                pod.clone()
            ),
            Ok(true)
        );
        assert_eq!(check("request.namespace == 'shop'", pod.clone()), Ok(true));
        assert_eq!(check("request.kind.kind == 'Pod'", pod.clone()), Ok(true));
        assert_eq!(
            check(
                "!has(object.spec.hostNetwork) || object.spec.hostNetwork == false",
                pod
            ),
            Ok(true)
        );
    }

    #[test]
    fn integers_are_signed_and_quantities_work() {
        let o = json!({"spec": {"replicas": 3, "mem": "512Mi"}});
        assert_eq!(check("object.spec.replicas > 2", o.clone()), Ok(true));
        assert_eq!(
            check("quantity(object.spec.mem).isLessThan(quantity('1Gi'))", o),
            Ok(true)
        );
    }

    #[test]
    fn variables_chain() {
        let o = json!({"spec": {"containers": [{"name": "a"}], "initContainers": [{"name": "b"}]}});
        let mut s = Scope::new(&Bindings::create(o));
        s.bind("spec", &compile("object.spec").expect("c"))
            .expect("bind");
        s.bind(
            "all",
            &compile("variables.spec.containers + (has(variables.spec.initContainers) ? variables.spec.initContainers : [])")
                .expect("c"),
        )
        .expect("bind");
        assert_eq!(
            s.check(&compile("size(variables.all) == 2").expect("c")),
            Ok(true)
        );
    }

    #[test]
    fn optional_chains_are_desugared() {
        assert_eq!(
            desugar_optionals("object.spec.?hostNetwork.orValue(false) == false"),
            "(has(object.spec.hostNetwork) ? object.spec.hostNetwork : (false)) == false"
        );
        let o = json!({"spec": {"containers": [{"name": "a", "securityContext": {}}]}});
        assert_eq!(
            check(
                "object.spec.containers.all(c, c.?securityContext.?privileged.orValue(false) == false)",
                o
            ),
            Ok(true)
        );
        assert_eq!(
            check(
                "object.spec.?x.?y.orValue(['a', ')']).size() == 2",
                json!({"spec": {}})
            ),
            Ok(true)
        );
    }

    #[test]
    fn errors_are_reported_not_panics() {
        assert!(compile("object.spec.(").is_err());
        assert!(check("object.spec.missing.field == 1", json!({"spec": {}})).is_err());
        assert!(check("'not a bool'", json!({})).is_err());
    }
}
