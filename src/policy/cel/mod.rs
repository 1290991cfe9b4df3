//! CEL as Kubernetes evaluates it in ValidatingAdmissionPolicies and Kyverno `validate.cel`
//! rules: `object`, `oldObject`, `request`, `params`, `namespaceObject` and `variables.NAME`
//! bound, with the Kubernetes CEL libraries (quantity, regex, lists, sets, url, ip…) from
//! `kube-cel`.
//!
//! `kube-cel`'s own VAP evaluator has no `variables`, which both our drafts and the upstream
//! policies use, so the binding is done here; the functions are kube-cel's.

mod ast;
mod paths;
mod reach;
mod scope;

use crate::jsonptr::Pointer as _;
pub use reach::{Cover, Reach};
pub use scope::Scope;
use scope::Var;

use kube_cel::KubeCelExt;
use kube_cel::cel::common::ast::IdedExpr;
use kube_cel::cel::common::value::Val;
use kube_cel::cel::extractors::Arguments;
use kube_cel::cel::{Context, ExecutionError, ResolveResult, Value};
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

/// A compiled expression and its source (for messages).
pub struct Expr {
    expr: IdedExpr,
    pub source: String,
    /// The variables it reads: a scope binds those (and what they read) before it runs.
    reads: ast::Reads,
}

impl std::fmt::Debug for Expr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Expr").field(&self.source).finish()
    }
}

/// The API server's runtime cost budget for one CEL evaluation (`RuntimeCELCostBudget`).
/// Evaluation here has no cost accounting, so an expression whose worst case over the input
/// (its nodes by comprehension depth × the longest list of the input to that power) exceeds
/// it is refused before it runs, never left to run unbounded.
pub const COST_BUDGET: u64 = 10_000_000;

impl Expr {
    /// The worst-case cost of one evaluation when no list of the input is longer than
    /// `longest`: `Σ n_d · longest^d` (saturating).
    pub fn cost(&self, longest: u64) -> u64 {
        let mut total: u64 = 0;
        let mut power: u64 = 1;
        for n in &self.reads.nodes_by_depth {
            total = total.saturating_add(n.saturating_mul(power));
            power = power.saturating_mul(longest.max(1));
        }
        total
    }

    /// Calls that need a cluster, a registry or the network (Kyverno's libraries,
    /// Kubernetes' `authorizer`).
    pub fn outside_calls(&self) -> impl Iterator<Item = &str> {
        self.reads.outside_calls.iter().map(String::as_str)
    }
}

/// Compile `source`; the error is the parser's message, one line.
pub fn compile(source: &str) -> Result<Expr, String> {
    let (expr, reads) = ast::parse(source)?;
    Ok(Expr {
        expr,
        source: source.to_string(),
        reads,
    })
}

/// JSON to a CEL value, straight in the interpreter's representation (through the crate's
/// `Value` it was two deep copies of every object evaluated). Integers stay signed
/// (`cel::to_value` would make them `uint`, and `x > 0` between int and uint is an error in
/// CEL).
pub fn val(v: &serde_json::Value) -> Box<dyn Val> {
    use kube_cel::cel::common::types::{
        CelBool, CelDouble, CelInt, CelList, CelNull, CelString, CelUInt,
    };
    match v {
        serde_json::Value::Null => Box::new(CelNull),
        serde_json::Value::Bool(b) => Box::new(CelBool::from(*b)),
        serde_json::Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Box::new(CelInt::from(i)),
            (None, Some(u)) => Box::new(CelUInt::from(u)),
            _ => Box::new(CelDouble::from(n.as_f64().unwrap_or(f64::NAN))),
        },
        serde_json::Value::String(s) => Box::new(CelString::from(s.as_str())),
        serde_json::Value::Array(a) => {
            Box::new(CelList::from(a.iter().map(val).collect::<Vec<_>>()))
        }
        serde_json::Value::Object(o) => val_map(o.iter().map(|(k, v)| (k.as_str(), val(v)))),
    }
}

/// A CEL map of string keys.
pub(crate) fn val_map<'k>(
    fields: impl ExactSizeIterator<Item = (&'k str, Box<dyn Val>)>,
) -> Box<dyn Val> {
    use kube_cel::cel::common::types::{CelMap, CelMapKey, CelMapState, CelValMap};
    let mut map = CelValMap::with_capacity_and_hasher(fields.len(), CelMapState::default());
    for (k, v) in fields {
        map.insert(CelMapKey::from(k), v);
    }
    Box::new(CelMap::from(map))
}

/// The Namespace object named `name` with `labels`, as `namespaceObject` shows it when the
/// namespace is known (a snapshot's Namespace, a test's resources).
pub fn namespace_json(name: &str, labels: &serde_json::Value) -> serde_json::Value {
    serde_json::json!({"apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": name, "labels": labels}})
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
            ctx.add_function(ast::OPT_SELECT, ast::opt_select);
            ctx.add_function("orValue", ast::or_value);
            ctx.add_function("hasValue", ast::has_value);
            ctx.add_function("value", ast::value_of);
            ctx.add_function(ast::OPT_INDEX, ast::opt_index);
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
        static CACHE: std::cell::RefCell<HashMap<String, std::rc::Rc<regex::Regex>>> =
            Default::default();
    }
    // Patterns come from policies, not objects: a small bound is plenty.
    let re = crate::policy::compiled_once(&CACHE, 512, &pattern, || {
        regex::Regex::new(&pattern)
            .map(std::rc::Rc::new)
            .map_err(|e| ftx.error(format!("'{pattern}' not a valid regex: {e}")))
    })?;
    Ok(Value::Bool(re.is_match(&this)))
}

/// The cover's shared variables evaluated for one object, by name (each bound in the shared
/// base), or why its evaluation failed.
type SharedValues = Vec<(String, Result<(), String>)>;

/// An object under admission (a CREATE), converted to CEL once, on first use: `object`,
/// `oldObject` (null) and `request`. Evaluating many policies against one object shares it
/// ([`Subject::scope`]); an object no CEL policy matches is never converted.
pub struct Subject<'j> {
    /// Borrowed from the caller, or owned by a derived view ([`Subject::derived`]).
    pub json: std::borrow::Cow<'j, serde_json::Value>,
    /// The admission request when it is not a plain CREATE (UPDATE, DELETE: `request`,
    /// `oldObject` come from it).
    review: Option<&'j serde_json::Value>,
    /// The object's Namespace, when known (`namespaceObject`).
    namespace: Option<serde_json::Value>,
    ctx: std::cell::OnceCell<Context<'static>>,
    /// What the policies evaluated over it read of `object`, and the context binding the
    /// object cut to it.
    cover: Option<Arc<Cover>>,
    ctx_cut: std::cell::OnceCell<Context<'static>>,
    /// The cut object with the cover's shared variables bound, and by name whether each
    /// was (or why it failed).
    ctx_shared: std::cell::OnceCell<(Context<'static>, SharedValues)>,
    /// The longest list or map of the input (for the cost budget).
    longest: std::cell::OnceCell<u64>,
    /// A view derived once and shared by every policy (a controller's pod).
    derived: std::cell::OnceCell<Option<Box<Subject<'static>>>>,
    /// The object as Kyverno's JMESPath sees it (`request`, `images`), for its operation:
    /// converted once for every native rule.
    jmes: std::cell::OnceCell<Result<super::jmes::Data, String>>,
}

impl<'j> Subject<'j> {
    pub fn create(json: &'j serde_json::Value) -> Subject<'j> {
        Subject {
            json: std::borrow::Cow::Borrowed(json),
            review: None,
            namespace: None,
            ctx: std::cell::OnceCell::new(),
            cover: None,
            ctx_cut: std::cell::OnceCell::new(),
            ctx_shared: std::cell::OnceCell::new(),
            longest: std::cell::OnceCell::new(),
            derived: std::cell::OnceCell::new(),
            jmes: std::cell::OnceCell::new(),
        }
    }

    /// An object under the admission request `review` (its `operation`, `oldObject`, …);
    /// `json` is what matching sees (the object, or the old one of a DELETE).
    pub fn reviewed(json: &'j serde_json::Value, review: &'j serde_json::Value) -> Subject<'j> {
        Subject {
            json: std::borrow::Cow::Borrowed(json),
            review: Some(review),
            namespace: None,
            ctx: std::cell::OnceCell::new(),
            cover: None,
            ctx_cut: std::cell::OnceCell::new(),
            ctx_shared: std::cell::OnceCell::new(),
            longest: std::cell::OnceCell::new(),
            derived: std::cell::OnceCell::new(),
            jmes: std::cell::OnceCell::new(),
        }
    }

    /// The object's Namespace (from a snapshot or a test's resources) as `namespaceObject`;
    /// without it a namespaced object's is `{metadata: {name, labels: {kubernetes.io/
    /// metadata.name}}}`, which is all the API server guarantees, and a cluster-scoped
    /// object's is null.
    pub fn in_namespace(mut self, namespace: Option<serde_json::Value>) -> Self {
        self.namespace = namespace;
        self
    }

    /// Evaluated by the policies of `cover`: each one that reads part of `object` sees the
    /// object cut to what they all read ([`Subject::scope_for`]).
    pub fn covered_by(mut self, cover: Option<Arc<Cover>>) -> Self {
        self.cover = cover;
        self
    }

    /// The admission operation (`CREATE` unless a review says otherwise).
    pub fn operation(&self) -> &str {
        self.review
            .and_then(|r| r.get("operation"))
            .and_then(|o| o.as_str())
            .unwrap_or("CREATE")
    }

    /// The JMESPath data of an admission request for this object under `op` (made once for
    /// the subject's own operation).
    pub fn jmes_request(&self, op: &str) -> Result<super::jmes::Data, String> {
        if op != self.operation() {
            return super::jmes::Data::request(&self.json, op);
        }
        self.jmes
            .get_or_init(|| super::jmes::Data::request(&self.json, op))
            .clone()
    }

    /// The view `make` derives from this object (a controller's pod), admitted in the same
    /// namespace: made and converted to CEL once, however many policies read it. `make` must
    /// be the same function at every call (the first call's view is kept).
    pub fn derived(
        &self,
        make: impl FnOnce(&serde_json::Value) -> Option<serde_json::Value>,
    ) -> Option<&Subject<'static>> {
        self.derived
            .get_or_init(|| {
                make(&self.json).map(|v| {
                    Box::new(Subject {
                        json: std::borrow::Cow::Owned(v),
                        review: None,
                        namespace: self.namespace.clone(),
                        ctx: std::cell::OnceCell::new(),
                        cover: self.cover.clone(),
                        ctx_cut: std::cell::OnceCell::new(),
                        ctx_shared: std::cell::OnceCell::new(),
                        longest: std::cell::OnceCell::new(),
                        derived: std::cell::OnceCell::new(),
                        jmes: std::cell::OnceCell::new(),
                    })
                })
            })
            .as_deref()
    }

    fn namespace_object(&self, object: &serde_json::Value) -> Box<dyn Val> {
        if let Some(ns) = &self.namespace {
            return val(ns);
        }
        let kind = object.get("kind").and_then(|k| k.as_str()).unwrap_or("");
        let ns = object.at("/metadata/namespace").and_then(|n| n.as_str());
        match ns {
            None if super::cluster_scoped(kind) => val(&serde_json::Value::Null),
            ns => {
                let ns = ns.unwrap_or("default");
                val(&namespace_json(
                    ns,
                    &serde_json::json!({"kubernetes.io/metadata.name": ns}),
                ))
            }
        }
    }

    /// A fresh scope for one policy over the whole object: its params, namespace and
    /// variables go there.
    pub fn scope(&self) -> Scope<'_> {
        let base = self.ctx.get_or_init(|| self.base(None));
        self.scope_over(base)
    }

    /// A fresh scope for a policy whose expressions read `reach`: over the object cut to its
    /// cover when the cover includes it, else the whole object.
    pub fn scope_for(&self, reach: &Reach) -> Scope<'_> {
        let Some(c) = self.cover.as_ref().filter(|_| self.review.is_none()) else {
            return self.scope();
        };
        let (shares, hides) = c.sharing(reach);
        if shares != 0 {
            let (base, values) = self.ctx_shared.get_or_init(|| self.shared_base(c));
            let mut scope = self.scope_over(base);
            scope.shared = values;
            scope.shared_mask = shares;
            for (i, (name, _)) in c.shared.iter().enumerate() {
                if hides & (1 << i) != 0 {
                    scope
                        .ctx
                        .hide_variable(format!("{}{name}", ast::VAR_PREFIX));
                }
            }
            scope
        } else if c.covers(reach) {
            let base = self.ctx_cut.get_or_init(|| self.base(Some(&c.trie)));
            self.scope_over(base)
        } else {
            self.scope()
        }
    }

    /// The cut object's bindings with the cover's shared variables evaluated (as a policy's
    /// scope evaluates them, so a failure reads the same) and bound.
    fn shared_base(&self, c: &Cover) -> (Context<'static>, SharedValues) {
        let mut base = self.base(Some(&c.trie));
        let results: Vec<_> = {
            let mut scope = self.scope_over(&base);
            for (name, e) in &c.shared {
                scope.declare(name, e);
            }
            for (name, _) in &c.shared {
                scope.ensure(name);
            }
            // Taken out of the scope once all are evaluated (they read one another there).
            c.shared
                .iter()
                .map(|(name, _)| {
                    let r = match (scope.take_bound(name), scope.state.get(name.as_str())) {
                        (Some(v), _) => Ok(v),
                        (None, Some(Var::Failed(why))) => Err(why.clone()),
                        (None, _) => Err(format!("no variable `{name}`")),
                    };
                    (name.clone(), r)
                })
                .collect()
        };
        let named = results
            .into_iter()
            .map(|(name, r)| {
                let r = r.map(|v| {
                    base.add_variable_cow(format!("{}{name}", ast::VAR_PREFIX), Cow::Owned(v))
                });
                (name, r)
            })
            .collect();
        (base, named)
    }

    /// The bindings every policy shares: `object` (cut to `trie`, if given), `oldObject`,
    /// `request`, `namespaceObject`.
    fn base(&self, trie: Option<&paths::Trie>) -> Context<'static> {
        let mut ctx = functions().new_inner_scope();
        let null = || val(&serde_json::Value::Null);
        let mut bind = |name: &str, v: Box<dyn Val>| ctx.add_variable_cow(name, Cow::Owned(v));
        match self.review {
            None => {
                let object = match trie {
                    Some(t) => paths::cut_val(&self.json, t),
                    None => val(&self.json),
                };
                bind("object", object);
                bind("oldObject", null());
                bind("request", val(&create_request(&self.json)));
            }
            Some(r) => {
                let get = |k: &str| r.get(k).map_or_else(null, val);
                bind("object", get("object"));
                bind("oldObject", get("oldObject"));
                bind("request", val(r));
            }
        }
        let namespace = self.namespace_object(&self.json);
        ctx.add_variable_cow("namespaceObject", Cow::Owned(namespace));
        ctx
    }

    fn scope_over<'s>(&'s self, base: &'s Context<'static>) -> Scope<'s> {
        let longest = *self.longest.get_or_init(|| {
            fn walk(v: &serde_json::Value) -> u64 {
                match v {
                    serde_json::Value::Array(a) => {
                        a.iter().map(walk).max().unwrap_or(0).max(a.len() as u64)
                    }
                    serde_json::Value::Object(o) => {
                        o.values().map(walk).max().unwrap_or(0).max(o.len() as u64)
                    }
                    _ => 0,
                }
            }
            walk(&self.json).max(self.review.map_or(0, walk))
        });
        Scope {
            longest,
            ctx: base.new_inner_scope(),
            declared: Default::default(),
            order: Vec::new(),
            state: Default::default(),
            shared: &[],
            shared_mask: 0,
        }
    }
}

#[cfg(test)]
mod vendored;

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
        let spec = compile("object.spec").expect("c");
        let all = compile("variables.spec.containers + (has(variables.spec.initContainers) ? variables.spec.initContainers : [])")
            .expect("c");
        let mut s = subject.scope();
        s.declare("spec", &spec);
        s.declare("all", &all);
        assert_eq!(
            s.check(&compile("size(variables.all) == 2").expect("c")),
            Ok(true)
        );
    }

    #[test]
    fn variables_are_lazy_as_in_the_api_server() {
        // A variable that fails matters only to the expressions that read it.
        let o = json!({"spec": {}});
        let subject = Subject::create(&o);
        let broken = compile("object.spec.missing.field").expect("c");
        let fine = compile("object.spec").expect("c");
        let mut s = subject.scope();
        s.declare("broken", &broken);
        s.declare("fine", &fine);
        assert_eq!(
            s.check(&compile("variables.fine == {}").expect("c")),
            Ok(true)
        );
        // Short-circuiting keeps a failing variable out of the result, as in Kubernetes.
        assert_eq!(
            s.check(&compile("true || variables.broken == 1").expect("c")),
            Ok(true)
        );
        let e = s
            .check(&compile("variables.broken == 1").expect("c"))
            .expect_err("reads the failing variable");
        assert!(e.starts_with("object.spec.missing.field"), "{e}");
        let e = s
            .check(&compile("variables.nothing == 1").expect("c"))
            .expect_err("undeclared");
        assert!(e.contains("no variable `nothing`"), "{e}");
    }

    #[test]
    fn optional_syntax_in_every_form() {
        let o = json!({"metadata": {"labels": {"app.kubernetes.io/name": "web"}},
            "spec": {"containers": [{"name": "a", "securityContext": {"runAsNonRoot": true}}]}});
        for (expr, want) in [
            ("object.spec.?hostNetwork.orValue(false) == false", true),
            (
                "object.metadata.?labels[?'app.kubernetes.io/name'].orValue('') == 'web'",
                true,
            ),
            (
                "object.metadata.?annotations[?'x'].orValue('d') == 'd'",
                true,
            ),
            (
                "!object.spec.?securityContext.?seccompProfile.?type.hasValue()",
                true,
            ),
            // A plain selection after `.?` stays optional (none propagates).
            (
                "object.spec.containers.all(c, c.?securityContext.runAsNonRoot.orValue(false))",
                true,
            ),
            (
                "object.spec.containers.all(c, c.?resources.limits.orValue({}) == {})",
                true,
            ),
            ("object.spec.containers[?0].name.orValue('') == 'a'", true),
            ("object.spec.containers[?3].hasValue()", false),
            ("object.spec.?containers.orValue([]).size() == 1", true),
            ("object.spec.?x.?y.orValue(['a', ')']).size() == 2", true),
            ("optional.of(1).or(optional.none()).value() == 1", true),
            ("object.?spec.?containers.value().size() == 1", true),
        ] {
            assert_eq!(check(expr, o.clone()), Ok(want), "{expr}");
        }
        let e = check("object.spec.?nothing.value() == 1", o).expect_err("none has no value");
        assert!(e.contains("optional.none()"), "{e}");
    }

    #[test]
    fn variables_become_identifiers_and_the_map_stays_readable() {
        let (_, reads) = ast::parse(
            "variables.spec.x == 'variables.a' && has(variables.spec.y) && myvariables.z",
        )
        .expect("parses");
        assert_eq!(reads.variables.iter().collect::<Vec<_>>(), ["spec"]);
        assert!(!reads.whole_map);
        assert!(ast::parse("has(variables.spec)").expect("p").1.whole_map);
        assert!(ast::parse("size(variables) > 0").expect("p").1.whole_map);
        let o = json!({"spec": {}});
        let subject = Subject::create(&o);
        let spec = compile("object.spec").expect("c");
        let mut s = subject.scope();
        s.declare("spec", &spec);
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
        // The crate's interpreter panics on message construction: refused when compiled.
        for e in ["Foo{a: 1} == Foo{a: 1}", "[x.Y{}].size() == 1"] {
            let err = compile(e).expect_err(e);
            assert!(err.contains("message construction"), "{err}");
        }
    }
}

#[cfg(test)]
mod outside_calls {
    use super::*;

    #[test]
    fn calls_that_need_the_cluster_are_named() {
        let e =
            compile("authorizer.group('apps').resource('deployments').check('create').allowed()")
                .expect("compiles");
        assert_eq!(e.outside_calls().collect::<Vec<_>>(), ["authorizer.group"]);
        let e = compile("image.GetMetadata(object.spec.containers[0].image).config.created != ''")
            .expect("compiles");
        assert_eq!(e.outside_calls().collect::<Vec<_>>(), ["image.GetMetadata"]);
        assert_eq!(
            compile("object.spec.replicas > 1")
                .expect("c")
                .outside_calls()
                .count(),
            0
        );
    }
}

#[cfg(test)]
mod cost {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_cost_budget_bounds_every_evaluation() {
        let nested = compile(
            "object.items.all(a, object.items.all(b, object.items.all(c, a + b + c >= 0)))",
        )
        .expect("compiles");
        let flat = compile("object.items.all(a, a >= 0)").expect("compiles");
        // Cost grows with the input's longest list, to the power of the nesting.
        assert!(nested.cost(10) < COST_BUDGET);
        assert!(nested.cost(1_000) > COST_BUDGET);
        assert!(flat.cost(1_000_000) < COST_BUDGET);
        let small = json!({"items": (0..10).collect::<Vec<_>>()});
        assert_eq!(Subject::create(&small).scope().check(&nested), Ok(true));
        let big = json!({"items": (0..1_000).collect::<Vec<_>>()});
        let e = Subject::create(&big)
            .scope()
            .check(&nested)
            .expect_err("refused before it runs");
        assert!(e.contains("exceeds the CEL cost budget"), "{e}");
        assert_eq!(Subject::create(&big).scope().check(&flat), Ok(true));
    }
}
