//! CEL as Kubernetes evaluates it in ValidatingAdmissionPolicies and Kyverno `validate.cel`
//! rules: `object`, `oldObject`, `request`, `params`, `namespaceObject` and `variables.NAME`
//! bound, with the Kubernetes CEL libraries (quantity, regex, lists, sets, url, ip…) from
//! `kube-cel`.
//!
//! `kube-cel`'s own VAP evaluator has no `variables`, which both our drafts and the upstream
//! policies use, so the binding is done here; the functions are kube-cel's.

mod ast;
mod paths;

use kube_cel::KubeCelExt;
use kube_cel::cel::common::ast::IdedExpr;
use kube_cel::cel::extractors::Arguments;
use kube_cel::cel::objects::{Key, Map};
use kube_cel::cel::{Context, ExecutionError, ResolveResult, Value};
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

/// What a policy's expressions read of `object` (see [`paths`]), found when it is compiled.
#[derive(Debug, Clone)]
pub struct Reach {
    /// Names this reach in a [`Cover`].
    id: u64,
    trie: paths::Trie,
    /// The policy's variable declarations in order: name, source, and whether its value
    /// depends on the object alone (not on `params`, `namespaceObject` or the variables map).
    decls: Vec<(String, String, bool)>,
}

impl Reach {
    /// What `exprs` read, with `variables` declared in order.
    pub fn of<'e>(
        variables: impl IntoIterator<Item = (&'e str, &'e Expr)>,
        exprs: impl IntoIterator<Item = &'e Expr>,
    ) -> Reach {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let variables: Vec<(&str, &Expr)> = variables.into_iter().collect();
        Reach {
            id: NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            trie: paths::reach(
                variables.iter().map(|(n, e)| (*n, &e.expr)),
                exprs.into_iter().map(|e| &e.expr),
            ),
            decls: variables
                .iter()
                .enumerate()
                .map(|(i, (n, e))| {
                    // Only variables declared before it: evaluated apart from the policy, a
                    // later one would not be there.
                    let earlier = |v: &String| variables[..i].iter().any(|(m, _)| m == v);
                    let alone = !e.reads.scoped
                        && !e.reads.whole_map
                        && e.reads.variables.iter().all(earlier);
                    (n.to_string(), e.source.clone(), alone)
                })
                .collect(),
        }
    }
}

/// What every policy of a set reads of `object`: an object is cut to it and converted to CEL
/// once for all of them (those that read it whole get the whole object).
#[derive(Debug)]
pub struct Cover {
    trie: paths::Trie,
    /// The reaches it covers.
    ids: Vec<u64>,
    /// Variable declarations that several covered policies start with (the drafts'
    /// `variables.spec`, `variables.containers`): evaluated once per object, for all of them.
    shared: Vec<(String, Expr)>,
    /// The covered reaches that start with exactly those declarations.
    sharing: Vec<u64>,
}

impl Cover {
    /// The cover of `reaches`; `None` when none of them can be cut.
    pub fn new<'r>(reaches: impl IntoIterator<Item = &'r Reach>) -> Option<Arc<Cover>> {
        let mut cover = Cover {
            trie: paths::Trie::default(),
            ids: Vec::new(),
            shared: Vec::new(),
            sharing: Vec::new(),
        };
        let covered: Vec<&Reach> = reaches.into_iter().filter(|r| !r.trie.is_whole()).collect();
        for r in &covered {
            cover.trie.union(&r.trie);
            cover.ids.push(r.id);
        }
        // The longest run of declarations most covered policies start with, each depending
        // on the object alone. A policy shares them only when it starts with all of them and
        // declares no name twice: then every shared binding is its own declaration.
        let unique = |r: &Reach| {
            let mut names: Vec<&str> = r.decls.iter().map(|d| d.0.as_str()).collect();
            names.sort_unstable();
            names.windows(2).all(|w| w[0] != w[1])
        };
        let mut group: Vec<&Reach> = covered.iter().copied().filter(|r| unique(r)).collect();
        let mut prefix: Vec<&(String, String, bool)> = Vec::new();
        loop {
            let k = prefix.len();
            let mut counts: Vec<(&(String, String, bool), usize)> = Vec::new();
            for d in group.iter().filter_map(|r| r.decls.get(k)).filter(|d| d.2) {
                match counts.iter_mut().find(|(c, _)| *c == d) {
                    Some((_, n)) => *n += 1,
                    None => counts.push((d, 1)),
                }
            }
            let Some((d, n)) = counts.into_iter().max_by_key(|(_, n)| *n) else {
                break;
            };
            if n < 2 {
                break;
            }
            prefix.push(d);
            group.retain(|r| r.decls.get(k) == Some(d));
        }
        // Compiled again for the cover (sources that compiled once compile again).
        cover.shared = prefix
            .iter()
            .filter_map(|(n, src, _)| Some((n.clone(), compile(src).ok()?)))
            .collect();
        if cover.shared.len() == prefix.len() && !prefix.is_empty() {
            cover.sharing = group.iter().map(|r| r.id).collect();
        } else {
            cover.shared.clear();
        }
        (!cover.ids.is_empty()).then(|| Arc::new(cover))
    }

    fn covers(&self, r: &Reach) -> bool {
        self.ids.contains(&r.id)
    }
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
    /// The cut object with the cover's shared variables bound, and their values (or why
    /// each failed), in declaration order.
    ctx_shared: std::cell::OnceCell<(Context<'static>, Vec<Result<Value, String>>)>,
    /// The longest list or map of the input (for the cost budget).
    longest: std::cell::OnceCell<u64>,
    /// A view derived once and shared by every policy (a controller's pod).
    derived: std::cell::OnceCell<Option<Box<Subject<'static>>>>,
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
                    })
                })
            })
            .as_deref()
    }

    fn namespace_object(&self, object: &serde_json::Value) -> Value {
        if let Some(ns) = &self.namespace {
            return value(ns);
        }
        let kind = object.get("kind").and_then(|k| k.as_str()).unwrap_or("");
        let ns = object
            .pointer("/metadata/namespace")
            .and_then(|n| n.as_str());
        match ns {
            None if super::cluster_scoped(kind) => Value::Null,
            ns => {
                let ns = ns.unwrap_or("default");
                value(&serde_json::json!({"apiVersion": "v1", "kind": "Namespace",
                    "metadata": {"name": ns, "labels": {"kubernetes.io/metadata.name": ns}}}))
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
        match &self.cover {
            Some(c) if self.review.is_none() && c.sharing.contains(&reach.id) => {
                let (base, values) = self.ctx_shared.get_or_init(|| self.shared_base(c));
                let mut scope = self.scope_over(base);
                scope.shared = values;
                scope
            }
            Some(c) if self.review.is_none() && c.covers(reach) => {
                let base = self.ctx_cut.get_or_init(|| self.base(Some(&c.trie)));
                self.scope_over(base)
            }
            _ => self.scope(),
        }
    }

    /// The cut object's bindings with the cover's shared variables evaluated (as a policy's
    /// scope evaluates them, so a failure reads the same) and bound.
    fn shared_base(&self, c: &Cover) -> (Context<'static>, Vec<Result<Value, String>>) {
        let mut base = self.base(Some(&c.trie));
        let results: Vec<Result<Value, String>> = {
            let mut scope = self.scope_over(&base);
            for (name, e) in &c.shared {
                scope.declare(name, e);
            }
            c.shared
                .iter()
                .map(|(name, _)| {
                    scope.ensure(name);
                    match (
                        scope.values.get(name.as_str()),
                        scope.state.get(name.as_str()),
                    ) {
                        (Some(v), _) => Ok(v.clone()),
                        (None, Some(Var::Failed(why))) => Err(why.clone()),
                        (None, _) => Err(format!("no variable `{name}`")),
                    }
                })
                .collect()
        };
        for ((name, _), r) in c.shared.iter().zip(&results) {
            if let Ok(v) = r {
                base.add_variable_from_value(format!("{}{name}", ast::VAR_PREFIX), v.clone());
            }
        }
        (base, results)
    }

    /// The bindings every policy shares: `object` (cut to `trie`, if given), `oldObject`,
    /// `request`, `namespaceObject`.
    fn base(&self, trie: Option<&paths::Trie>) -> Context<'static> {
        let mut ctx = functions().new_inner_scope();
        match self.review {
            None => {
                let object = match trie {
                    Some(t) => value(&paths::cut(&self.json, t)),
                    None => value(&self.json),
                };
                ctx.add_variable_from_value("object", object);
                ctx.add_variable_from_value("oldObject", Value::Null);
                ctx.add_variable_from_value("request", value(&create_request(&self.json)));
            }
            Some(r) => {
                let get = |k: &str| r.get(k).map_or(Value::Null, value);
                ctx.add_variable_from_value("object", get("object"));
                ctx.add_variable_from_value("oldObject", get("oldObject"));
                ctx.add_variable_from_value("request", value(r));
            }
        }
        ctx.add_variable_from_value("namespaceObject", self.namespace_object(&self.json));
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
            declared: HashMap::new(),
            order: Vec::new(),
            state: HashMap::new(),
            values: HashMap::new(),
            shared: &[],
        }
    }
}

/// A variable's state in a scope.
enum Var {
    /// Being evaluated (a cycle reads it as unbound).
    Evaluating,
    Bound,
    /// Its evaluation failed: an expression that reads it fails with this.
    Failed(String),
}

/// One policy's evaluation over a [`Subject`]. Variables are declared, not evaluated: an
/// expression evaluates the ones it reads when it runs, as the API server and Kyverno do,
/// so a variable that would fail only matters to the expressions that read it.
pub struct Scope<'s> {
    /// The longest list or map of the input, for [`COST_BUDGET`].
    longest: u64,
    ctx: Context<'s>,
    declared: HashMap<&'s str, &'s Expr>,
    /// Declaration order, for `variables` read as a whole.
    order: Vec<&'s str>,
    state: HashMap<&'s str, Var>,
    /// The bound values by name, for `variables` read as a whole.
    values: HashMap<&'s str, Value>,
    /// The first declarations' values, evaluated once for the object and bound below this
    /// scope ([`Cover`]): the policy's own first declarations are exactly those.
    shared: &'s [Result<Value, String>],
}

impl<'s> Scope<'s> {
    /// Bind `params` or `namespaceObject` (JSON, converted here).
    pub fn add(&mut self, name: &str, v: &serde_json::Value) {
        self.ctx.add_variable_from_value(name, value(v));
    }

    /// Declare `variables.NAME`; it is evaluated when an expression first reads it.
    pub fn declare(&mut self, name: &'s str, e: &'s Expr) {
        if self.declared.insert(name, e).is_none() {
            if let Some(r) = self.shared.get(self.order.len()) {
                match r {
                    Ok(v) => {
                        self.values.insert(name, v.clone());
                        self.state.insert(name, Var::Bound);
                    }
                    Err(why) => {
                        self.state.insert(name, Var::Failed(why.clone()));
                    }
                }
            }
            self.order.push(name);
        }
    }

    /// Evaluate the variable `name` if it is declared and not yet evaluated.
    fn ensure(&mut self, name: &str) {
        let Some((&name, &e)) = self.declared.get_key_value(name) else {
            return;
        };
        if self.state.contains_key(name) {
            return;
        }
        self.state.insert(name, Var::Evaluating);
        // A variable reads only the ones declared before it.
        let before = self.order.iter().position(|n| *n == name).unwrap_or(0);
        self.ensure_reads(e, before);
        match self.run(e) {
            Ok(v) => {
                self.ctx
                    .add_variable_from_value(format!("{}{name}", ast::VAR_PREFIX), v.clone());
                self.values.insert(name, v);
                self.state.insert(name, Var::Bound);
            }
            Err(why) => {
                self.state.insert(name, Var::Failed(why));
            }
        }
    }

    /// Bind what `e` reads; `variables` as a whole means the first `before` declared.
    fn ensure_reads(&mut self, e: &Expr, before: usize) {
        for v in &e.reads.variables {
            self.ensure(v);
        }
        if e.reads.whole_map {
            for i in 0..before {
                if let Some(name) = self.order.get(i).copied() {
                    self.ensure(name);
                }
            }
            let vars: HashMap<Key, Value> = self.order[..before.min(self.order.len())]
                .iter()
                .filter_map(|n| {
                    Some((
                        Key::String(Arc::new((*n).into())),
                        self.values.get(n)?.clone(),
                    ))
                })
                .collect();
            self.ctx.add_variable_from_value(
                "variables",
                Value::Map(Map {
                    map: Arc::new(vars),
                }),
            );
        }
    }

    fn run(&self, e: &Expr) -> Result<Value, String> {
        let cost = e.cost(self.longest);
        if cost > COST_BUDGET {
            return Err(format!(
                "{}: exceeds the CEL cost budget: over lists of up to {} items it could cost {cost} (the API server allows {COST_BUDGET} per evaluation and would refuse it too)",
                e.source, self.longest
            ));
        }
        Value::resolve(&e.expr, &self.ctx).map_err(|err| match &err {
            ExecutionError::UndeclaredReference(r) => match r
                .strip_prefix(ast::VAR_PREFIX)
                .map(|name| (name, self.state.get(name)))
            {
                Some((_, Some(Var::Failed(why)))) => why.clone(),
                Some((name, _)) => format!("{}: no variable `{name}`", e.source),
                None => format!("{}: {err}", e.source),
            },
            _ => format!("{}: {err}", e.source),
        })
    }

    pub fn eval(&mut self, e: &Expr) -> Result<Value, String> {
        self.ensure_reads(e, self.order.len());
        self.run(e)
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
mod cut_object {
    use super::*;
    use serde_json::json;

    /// Every expression answers the same (value or error message) over the object cut to
    /// what it reads as over the whole object; alone (so another expression's reads cannot
    /// hide a path it needs) and under the cover of all of them.
    fn same_both_ways(vars: &[(&str, &str)], exprs: &[&str], objects: &[serde_json::Value]) {
        let vars: Vec<(&str, Expr)> = vars
            .iter()
            .map(|(n, s)| (*n, compile(s).expect("compiles")))
            .collect();
        let exprs: Vec<Expr> = exprs
            .iter()
            .map(|s| compile(s).expect("compiles"))
            .collect();
        let reach_of = |exprs: &[Expr]| Reach::of(vars.iter().map(|(n, e)| (*n, e)), exprs);
        let all = reach_of(&exprs);
        let alone: Vec<Reach> = exprs
            .iter()
            .map(|e| reach_of(std::slice::from_ref(e)))
            .collect();
        for o in objects {
            for (i, e) in exprs.iter().enumerate() {
                // Cut alone; cut with the variables shared by two policies.
                for (reach, cover) in [
                    (&alone[i], Cover::new([&alone[i]])),
                    (&alone[i], Cover::new([&alone[i], &all])),
                    (&all, Cover::new([&alone[i], &all])),
                ] {
                    assert!(cover.is_some(), "nothing to cut for {}", e.source);
                    let whole = Subject::create(o);
                    let cut = Subject::create(o).covered_by(cover);
                    let (mut a, mut b) = (whole.scope(), cut.scope_for(reach));
                    for (n, v) in &vars {
                        a.declare(n, v);
                        b.declare(n, v);
                    }
                    assert_eq!(a.eval(e), b.eval(e), "{} over {o}", e.source);
                }
            }
        }
    }

    /// Variables shared between policies: only a common first run of declarations that
    /// depend on the object alone, and only for policies that start with all of it.
    #[test]
    fn shared_variables_are_the_policies_own() {
        let c = |s: &str| compile(s).expect("compiles");
        let (spec, containers, ns, later) = (
            c("object.spec"),
            c("variables.spec.containers"),
            c("namespaceObject.metadata.name"),
            c("variables.after"),
        );
        let check = c("variables.containers.size() > 0");
        let a = Reach::of([("spec", &spec), ("containers", &containers)], [&check]);
        let b = Reach::of(
            [("spec", &spec), ("containers", &containers), ("n", &ns)],
            [&check],
        );
        let lone = Reach::of([("spec", &spec)], [&check]);
        let cover = Cover::new([&a, &b, &lone]).expect("cover");
        assert_eq!(cover.shared.len(), 2);
        assert!(cover.sharing.contains(&a.id) && cover.sharing.contains(&b.id));
        // Starts with only part of the run: evaluated on its own.
        assert!(!cover.sharing.contains(&lone.id));
        // A declaration that reads `namespaceObject` or a later variable is not shared.
        let d = Reach::of([("n", &ns), ("spec", &spec)], [&check]);
        let e = Reach::of([("x", &later), ("after", &spec)], [&check]);
        let cover = Cover::new([&d, &d.clone(), &e, &e.clone()]).expect("cover");
        assert!(cover.shared.is_empty(), "{:?}", cover.shared);
        // A shared variable that fails fails its readers with its own message.
        let o = json!({"spec": {}});
        let cover = Cover::new([&a, &b]);
        let subject = Subject::create(&o).covered_by(cover);
        let mut scope = subject.scope_for(&a);
        scope.declare("spec", &spec);
        scope.declare("containers", &containers);
        let shared = scope.check(&check).expect_err("no containers");
        let whole = Subject::create(&o);
        let mut scope = whole.scope();
        scope.declare("spec", &spec);
        scope.declare("containers", &containers);
        assert_eq!(Err(shared), scope.check(&check));
    }

    #[test]
    fn the_cut_object_answers_as_the_whole_one() {
        let objects = [
            json!({"kind": "Pod", "metadata": {"name": "p", "labels": {"a": "1", "b": "2"}},
                "spec": {"hostNetwork": true, "volumes": [{"name": "v", "hostPath": {"path": "/"}}, {"name": "w"}],
                    "containers": [{"name": "c", "image": "nginx", "securityContext": {"privileged": true},
                        "env": [{"name": "A", "value": "1"}], "ports": [{"containerPort": 80}]}],
                    "initContainers": [{"name": "i", "image": "busybox:1"}]},
                "status": {"phase": "Running"}}),
            json!({"kind": "Deployment", "metadata": {"name": "d"},
                "spec": {"replicas": 2, "template": {"metadata": {"labels": {}},
                    "spec": {"containers": [{"name": "c", "image": "r/x@sha256:1", "resources": {"limits": {"cpu": "1"}}}]}}}}),
            json!({"kind": "Pod", "metadata": {"name": "bare"}, "spec": {"containers": []}}),
            json!({"kind": "Pod", "metadata": {"name": "odd"}, "spec": {"containers": [{"name": "x", "securityContext": null}], "volumes": "oops"}}),
        ];
        same_both_ways(
            &[
                ("spec", crate::policy::catalog::CEL_VARIABLES[0].1),
                ("containers", crate::policy::catalog::CEL_VARIABLES[1].1),
            ],
            &[
                "variables.containers.all(c, !has(c.securityContext) || !has(c.securityContext.privileged) || c.securityContext.privileged == false)",
                "!has(variables.spec.volumes) || variables.spec.volumes.all(v, !has(v.hostPath))",
                "variables.containers.all(c, c.image.contains('@') || c.image.endsWith(':1'))",
                "variables.containers.map(c, c.name).size() > 0",
                "'privileged: ' + variables.containers.filter(c, has(c.securityContext) && has(c.securityContext.privileged) && c.securityContext.privileged == true).map(c, c.name).join(', ')",
                "[variables.spec.containers, [object.metadata]].all(l, l.all(x, has(x.name)))",
                "variables.containers.filter(c, c.name != '').map(c, c.ports).exists(p, p != null && p.size() > 0)",
                "variables.containers.filter(c, has(c.env)).all(c, c.env.size() == 1)",
                "object.metadata.labels.all(k, k != 'x') && object.metadata.?labels[?'a'].orValue('') == '1'",
                "object.metadata.?labels.?b.hasValue()",
                "object.spec.missing.deeper == 1",
                "has(object.spec.template.spec) ? object.spec.template.spec.containers[0].?resources.?limits.cpu.orValue('') == '1' : true",
                "variables.spec.containers.exists_one(c, c.ports[0].containerPort == 80)",
                "size(variables.spec.?volumes.orValue([])) <= 2",
                "object.status.phase == 'Running'",
                "['hostNetwork', 'hostPID', 'hostIPC'].filter(f, f in variables.spec && variables.spec[f] == true).join(', ')",
                "'a' in object.metadata.labels && !('zz' in object.metadata.labels)",
                "'c' in variables.spec.containers.map(c, c.name)",
                "['a', 'b'].all(k, k in object.metadata.labels && object.metadata.labels[k] != '')",
                "object.spec.containers.all(c, 'image' in c)",
                "'%s/%s'.format([object.kind, object.metadata.name])",
            ],
            &objects,
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
