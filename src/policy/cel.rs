//! CEL as Kubernetes evaluates it in ValidatingAdmissionPolicies and Kyverno `validate.cel`
//! rules: `object`, `oldObject`, `request`, `params`, `namespaceObject` and `variables.NAME`
//! bound, with the Kubernetes CEL libraries (quantity, regex, lists, sets, url, ip…) from
//! `kube-cel`.
//!
//! `kube-cel`'s own VAP evaluator has no `variables`, which both our drafts and the upstream
//! policies use, so the binding is done here; the functions are kube-cel's.

use kube_cel::KubeCelExt;
use kube_cel::cel::extractors::Arguments;
use kube_cel::cel::objects::{Key, Map};
use kube_cel::cel::{Context, ExecutionError, Program, ResolveResult, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// A compiled expression and its source (for messages).
pub struct Expr {
    program: Program,
    pub source: String,
    /// The expression refers to `variables` as a whole (not only `variables.NAME`), so the
    /// map must be published before it runs.
    needs_variables_map: bool,
}

impl std::fmt::Debug for Expr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Expr").field(&self.source).finish()
    }
}

/// Compile `source`; the error is the parser's message, one line.
pub fn compile(source: &str) -> Result<Expr, String> {
    let (rewritten, needs_variables_map) = rewrite_variables(&desugar_optionals(source));
    Program::compile(&rewritten)
        .map(|program| Expr {
            program,
            source: source.to_string(),
            needs_variables_map,
        })
        .map_err(|e| e.to_string().replace('\n', " "))
}

/// The identifier `variables.NAME` is rewritten to.
const VAR_PREFIX: &str = "sextant__var__";

/// Rewrite `variables.NAME` into the plain identifier `sextant__var__NAME`, outside string
/// literals. The `cel` crate converts a whole value into its internal form every time a
/// variable is added, so publishing one `variables` map after each binding costs O(n²)
/// conversions of possibly large values (`variables.spec` is a pod spec); one identifier per
/// variable is converted once. `has(variables.NAME)` is left alone (it needs a field
/// selection); the second result says some use of the map remains.
fn rewrite_variables(src: &str) -> (String, bool) {
    const WORD: &str = "variables";
    let b = src.as_bytes();
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let mut out = String::with_capacity(src.len());
    let mut needs_map = false;
    let mut quote: Option<u8> = None;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if let Some(q) = quote {
            if c == b'\\' && i + 1 < b.len() {
                out.push_str(&src[i..i + 2]);
                i += 2;
                continue;
            }
            if c == q {
                quote = None;
            }
        } else if c == b'\'' || c == b'"' {
            quote = Some(c);
        } else if src[i..].starts_with(WORD) && (i == 0 || !ident(b[i - 1]) && b[i - 1] != b'.') {
            let after = i + WORD.len();
            if after < b.len() && ident(b[after]) {
                // A longer identifier (`variablesFoo`).
                let end = (after..b.len()).find(|&j| !ident(b[j])).unwrap_or(b.len());
                out.push_str(&src[i..end]);
                i = end;
                continue;
            }
            let name_end = (b.get(after) == Some(&b'.'))
                .then(|| {
                    (after + 1..b.len())
                        .find(|&j| !ident(b[j]))
                        .unwrap_or(b.len())
                })
                .filter(|&e| e > after + 1);
            let in_has = out.trim_end().ends_with("has(");
            match name_end {
                Some(e) if !in_has || src[e..].starts_with('.') => {
                    out.push_str(VAR_PREFIX);
                    out.push_str(&src[after + 1..e]);
                    i = e;
                }
                _ => {
                    needs_map = true;
                    out.push_str(WORD);
                    i = after;
                }
            }
            continue;
        }
        let len = src[i..].chars().next().map_or(1, char::len_utf8);
        out.push_str(&src[i..i + len]);
        i += len;
    }
    (out, needs_map)
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

/// The `request` of a CREATE of `object` (what a dry-run admission of a manifest is).
fn create_request(object: &serde_json::Value) -> serde_json::Value {
    let kind = object.get("kind").cloned().unwrap_or_default();
    let api = object
        .get("apiVersion")
        .and_then(|v| v.as_str())
        .unwrap_or("v1");
    let (group, version) = api.rsplit_once('/').unwrap_or(("", api));
    let meta = object.get("metadata");
    serde_json::json!({
        "operation": "CREATE",
        "kind": {"group": group, "version": version, "kind": kind},
        "namespace": meta.and_then(|m| m.get("namespace")).cloned().unwrap_or_else(|| "".into()),
        "name": meta.and_then(|m| m.get("name")).cloned().unwrap_or_else(|| "".into()),
        "userInfo": {"username": "sextant", "groups": []},
        "dryRun": true,
    })
}

/// The CEL standard and Kubernetes functions, registered once per thread and shared by every
/// context as their parent (registering them costs more than most evaluations).
fn dyn_identity(v: Arguments) -> ResolveResult {
    v.0.first()
        .cloned()
        .ok_or_else(|| ExecutionError::function_error("dyn", "dyn() takes one argument"))
}

fn functions() -> &'static Context<'static> {
    thread_local! {
        static FUNCTIONS: &'static Context<'static> = {
            let mut ctx = Context::default();
            ctx.register_all();
            ctx.add_function("matches", matches_cached);
            // CEL's `dyn(x)`: a type hint for the checker, the value itself at run time
            // (Gatekeeper's library uses it inside lists and maps of mixed types).
            ctx.add_function("dyn", dyn_identity);
            // Leaked once per thread: contexts borrow it for 'static.
            Box::leak(Box::new(ctx))
        };
    }
    FUNCTIONS.with(|f| *f)
}

/// CEL's `string.matches(regex)`, with the compiled regex cached per thread: the `cel`
/// crate compiles the pattern on every call, which dominated policies that check image tags.
fn matches_cached(
    ftx: &kube_cel::cel::FunctionContext,
    kube_cel::cel::extractors::This(this): kube_cel::cel::extractors::This<Arc<String>>,
    pattern: Arc<String>,
) -> kube_cel::cel::ResolveResult {
    thread_local! {
        static CACHE: std::cell::RefCell<HashMap<String, regex::Regex>> =
            std::cell::RefCell::new(HashMap::new());
    }
    CACHE.with(|c| {
        let mut cache = c.borrow_mut();
        if !cache.contains_key(pattern.as_str()) {
            let re = regex::Regex::new(&pattern)
                .map_err(|e| ftx.error(format!("'{pattern}' not a valid regex: {e}")))?;
            // Patterns come from policies, not objects: a small bound is plenty.
            if cache.len() >= 512 {
                cache.clear();
            }
            cache.insert(pattern.to_string(), re);
        }
        Ok(Value::Bool(
            cache
                .get(pattern.as_str())
                .is_some_and(|re| re.is_match(&this)),
        ))
    })
}

/// An object under admission (a CREATE), converted to CEL once, on first use: `object`,
/// `oldObject` (null) and `request`. Evaluating many policies against one object shares it
/// ([`Subject::scope`]); an object no CEL policy matches is never converted.
pub struct Subject<'j> {
    pub json: &'j serde_json::Value,
    /// The admission request when it is not a plain CREATE (UPDATE, DELETE: `request`,
    /// `oldObject` come from it).
    review: Option<&'j serde_json::Value>,
    ctx: std::cell::OnceCell<Context<'static>>,
}

impl<'j> Subject<'j> {
    pub fn create(json: &'j serde_json::Value) -> Subject<'j> {
        Subject {
            json,
            review: None,
            ctx: std::cell::OnceCell::new(),
        }
    }

    /// An object under the admission request `review` (its `operation`, `oldObject`, …);
    /// `json` is what matching sees (the object, or the old one of a DELETE).
    pub fn reviewed(json: &'j serde_json::Value, review: &'j serde_json::Value) -> Subject<'j> {
        Subject {
            json,
            review: Some(review),
            ctx: std::cell::OnceCell::new(),
        }
    }

    /// A fresh scope for one policy: its params, namespace and variables go there.
    pub fn scope(&self) -> Scope<'_> {
        let base = self.ctx.get_or_init(|| {
            let mut ctx = functions().new_inner_scope();
            match self.review {
                None => {
                    ctx.add_variable_from_value("object", value(self.json));
                    ctx.add_variable_from_value("oldObject", Value::Null);
                    ctx.add_variable_from_value("request", value(&create_request(self.json)));
                }
                Some(r) => {
                    let get = |k: &str| r.get(k).map_or(Value::Null, value);
                    ctx.add_variable_from_value("object", get("object"));
                    ctx.add_variable_from_value("oldObject", get("oldObject"));
                    ctx.add_variable_from_value("request", value(r));
                }
            }
            ctx
        });
        Scope {
            ctx: base.new_inner_scope(),
            variables: HashMap::new(),
            published: true,
        }
    }
}

/// One policy's evaluation over a [`Subject`]; `variables` grow with [`Scope::bind`].
pub struct Scope<'s> {
    ctx: Context<'s>,
    variables: HashMap<Key, Value>,
    /// The `variables` map is up to date in `ctx`.
    published: bool,
}

impl<'s> Scope<'s> {
    /// Bind `params` or `namespaceObject` (JSON, converted here).
    pub fn add(&mut self, name: &str, v: &serde_json::Value) {
        self.ctx.add_variable_from_value(name, value(v));
    }

    fn publish(&mut self) {
        if !self.published {
            let vars = Value::Map(Map {
                map: Arc::new(self.variables.clone()),
            });
            self.ctx.add_variable_from_value("variables", vars);
            self.published = true;
        }
    }

    /// Evaluate a variable's expression and make it `variables.NAME`. A variable that fails
    /// is bound to null and the error returned (an expression using it then fails).
    pub fn bind(&mut self, name: &str, e: &Expr) -> Result<(), String> {
        let r = self.eval(e);
        let v = r.clone().unwrap_or(Value::Null);
        self.ctx
            .add_variable_from_value(format!("{VAR_PREFIX}{name}"), v.clone());
        self.variables.insert(Key::String(Arc::new(name.into())), v);
        self.published = false;
        r.map(|_| ())
    }

    pub fn eval(&mut self, e: &Expr) -> Result<Value, String> {
        if e.needs_variables_map {
            self.publish();
        }
        e.program
            .execute(&self.ctx)
            .map_err(|err| format!("{}: {err}", e.source))
    }

    /// A validation: `Ok(true)` admits, `Ok(false)` denies, `Err` is an evaluation error
    /// (which admission treats per `failurePolicy`; we report it).
    pub fn check(&mut self, e: &Expr) -> Result<bool, String> {
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
    pub fn message(&mut self, e: &Expr) -> Option<String> {
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
        Subject::create(&object).scope().check(&compile(expr)?)
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
        let subject = Subject::create(&o);
        let mut s = subject.scope();
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
    fn variables_become_identifiers_outside_strings() {
        let (s, map) = rewrite_variables(
            "variables.spec.x == 'variables.a' && has(variables.spec.y) && myvariables.z",
        );
        assert_eq!(
            s,
            "sextant__var__spec.x == 'variables.a' && has(sextant__var__spec.y) && myvariables.z"
        );
        assert!(!map);
        // `has(variables.NAME)` and the bare map keep the map.
        assert!(rewrite_variables("has(variables.spec)").1);
        assert!(rewrite_variables("size(variables) > 0").1);
        let o = json!({"spec": {}});
        let subject = Subject::create(&o);
        let mut s = subject.scope();
        s.bind("spec", &compile("object.spec").expect("c"))
            .expect("bind");
        assert_eq!(
            s.check(&compile("has(variables.spec) && size(variables) == 1").expect("c")),
            Ok(true)
        );
    }

    #[test]
    fn matches_caches_and_reports_bad_patterns() {
        for _ in 0..2 {
            assert_eq!(
                check("object.i.matches(':[0-9.]+$')", json!({"i": "nginx:1.27"})),
                Ok(true)
            );
            assert_eq!(
                check(
                    "object.i.matches(':[0-9.]+$')",
                    json!({"i": "nginx:latest"})
                ),
                Ok(false)
            );
        }
        let e = check("object.i.matches('(')", json!({"i": "x"})).expect_err("bad regex");
        assert!(e.contains("not a valid regex"), "{e}");
    }

    #[test]
    fn errors_are_reported_not_panics() {
        assert!(compile("object.spec.(").is_err());
        assert!(check("object.spec.missing.field == 1", json!({"spec": {}})).is_err());
        assert!(check("'not a bool'", json!({})).is_err());
    }
}
