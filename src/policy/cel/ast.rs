//! The parsed expression, rewritten so the `cel` crate evaluates it as Kubernetes does.
//!
//! - **Optional syntax** (`a.?b`, `m[?'k']`, and selections or indexes on an optional):
//!   the crate parses it, but its interpreter errors on a missing field under `.?` and turns a
//!   selection on an optional into `false`. Each optional step becomes a call to
//!   [`opt_select`] / [`opt_index`], which follow the CEL spec: a missing field or key is
//!   `optional.none()`, and `none` propagates through the rest of the chain. `orValue`,
//!   `hasValue`, `value` and `or` are the crate's own functions on the result.
//! - **`variables.NAME`** becomes the identifier `sextant__var__NAME` (a map rebuilt after
//!   every binding would convert large values again and again), and the names an expression
//!   reads are recorded so a scope evaluates only those ([`super::Scope`]: lazy, as the API
//!   server does).

use kube_cel::cel::ExecutionError;
use kube_cel::cel::Value;
use kube_cel::cel::common::ast::{
    CallExpr, EntryExpr, Expr, IdedExpr, LiteralValue, SelectExpr, operators,
};
use kube_cel::cel::extractors::{Arguments, This};
use kube_cel::cel::objects::{Key, OptionalValue};
use std::collections::BTreeSet;
use std::sync::Arc;

/// The identifier `variables.NAME` is rewritten to.
pub const VAR_PREFIX: &str = "sextant__var__";
/// The functions optional steps are rewritten to (registered in `super::functions`).
pub const OPT_SELECT: &str = "sextant__opt_select";
pub const OPT_INDEX: &str = "sextant__opt_index";

/// What a rewrite found out about the expression.
#[derive(Debug, Default)]
pub struct Reads {
    /// `variables.NAME` read by name.
    pub variables: BTreeSet<String>,
    /// `variables` used as a whole (`has(variables.x)`, `size(variables)`): every variable
    /// must be bound before the expression runs.
    pub whole_map: bool,
    /// Calls into libraries that read the cluster, registries or the network (Kyverno's
    /// `resource.Get`, `image.GetMetadata`, `http.Get`…; Kubernetes' `authorizer`): not
    /// evaluable offline.
    pub outside_calls: BTreeSet<String>,
    /// Nodes by comprehension depth (`[n0, n1, …]`: n1 nodes run once per element of a list,
    /// n2 once per pair…): with the longest list of the input `L`, `Σ n_d·L^d` bounds what an
    /// evaluation can cost.
    pub nodes_by_depth: Vec<u64>,
    /// It reads what a policy binds in its own scope (`params`, `namespaceObject`), not only
    /// the object under admission: its value may differ between policies.
    pub scoped: bool,
    /// It constructs a message (`Foo{a: 1}`): no message types are declared (nor are they
    /// for admission policies in the API server), and the crate's interpreter would panic.
    pub constructs_message: bool,
}

impl Reads {
    /// It reads the object under admission alone: no variable, no `params` or
    /// `namespaceObject` a policy binds in its own scope.
    pub fn object_alone(&self) -> bool {
        self.variables.is_empty() && !self.whole_map && !self.scoped
    }
}

/// Kyverno library objects whose functions look outside the object under admission.
const OUTSIDE_TARGETS: &[&str] = &[
    // Kubernetes' own: the API server's authorization checks.
    "authorizer",
    "resource",
    "http",
    "image",
    "imagedata",
    "globalContext",
    "gctx",
    "x509",
    "json",
    "yaml",
];
/// Kyverno's global functions beyond the Kubernetes CEL libraries.
const KYVERNO_GLOBALS: &[&str] = &["parseServiceAccount", "random", "parseImageReference"];

/// Parse `source` with the optional syntax on and rewrite it (see the module comment).
pub fn parse(source: &str) -> Result<(IdedExpr, Reads), String> {
    // The parser's macro expansion asserts argument counts it has already checked; a panic
    // there would still be a bug in the crate, not in the policy: report it as a parse error.
    let parsed = std::panic::catch_unwind(|| {
        kube_cel::cel::parser::Parser::new()
            .enable_optional_syntax(true)
            .parse(source)
    })
    .map_err(|_| "the CEL parser failed on this expression".to_string())?;
    let mut expr = parsed.map_err(|e| e.to_string().replace('\n', " "))?;
    let mut reads = Reads::default();
    rewrite(&mut expr, &mut reads, &mut Vec::new());
    if reads.constructs_message {
        return Err(
            "message construction (`Type{field: …}`) is not supported: no message types are declared"
                .to_string(),
        );
    }
    reads.nodes_by_depth = shape(&expr);
    Ok((expr, reads))
}

fn call(name: &str, args: Vec<IdedExpr>) -> Expr {
    Expr::Call(CallExpr {
        func_name: name.to_string(),
        target: None,
        args,
    })
}

/// The expression yields an optional (statically: the result of an optional step, of
/// `optional.of/none/ofNonZeroValue`, or of `.or()` on one).
fn is_optional(e: &IdedExpr) -> bool {
    match &e.expr {
        Expr::Call(c) => match c.func_name.as_str() {
            OPT_SELECT | OPT_INDEX => true,
            "optional.of" | "optional.none" | "optional.ofNonZeroValue" => true,
            "of" | "none" | "ofNonZeroValue" => c
                .target
                .as_deref()
                .is_some_and(|t| matches!(&t.expr, Expr::Ident(i) if i == "optional")),
            "or" => c.target.as_deref().is_some_and(is_optional),
            _ => false,
        },
        _ => false,
    }
}

/// `bound`: the comprehension variables in scope (`image` in `images.all(image, …)` is a
/// value, not Kyverno's image library).
fn rewrite(e: &mut IdedExpr, reads: &mut Reads, bound: &mut Vec<String>) {
    // Children first: whether an operand is optional is known once it is rewritten.
    match &mut e.expr {
        Expr::Call(c) => {
            match c.target.as_deref().map(|t| &t.expr) {
                Some(Expr::Ident(t))
                    if OUTSIDE_TARGETS.contains(&t.as_str()) && !bound.contains(t) =>
                {
                    reads.outside_calls.insert(format!("{t}.{}", c.func_name));
                }
                None if KYVERNO_GLOBALS.contains(&c.func_name.as_str())
                    && !bound.contains(&c.func_name) =>
                {
                    reads.outside_calls.insert(c.func_name.clone());
                }
                _ => {}
            }
            if let Some(t) = c.target.as_deref_mut() {
                rewrite(t, reads, bound);
            }
            for a in &mut c.args {
                rewrite(a, reads, bound);
            }
        }
        Expr::Comprehension(c) => {
            rewrite(&mut c.iter_range, reads, bound);
            rewrite(&mut c.accu_init, reads, bound);
            let before = bound.len();
            bound.push(c.iter_var.clone());
            bound.extend(c.iter_var2.clone());
            bound.push(c.accu_var.clone());
            rewrite(&mut c.loop_cond, reads, bound);
            rewrite(&mut c.loop_step, reads, bound);
            rewrite(&mut c.result, reads, bound);
            bound.truncate(before);
        }
        Expr::List(l) => l.elements.iter_mut().for_each(|x| rewrite(x, reads, bound)),
        Expr::Map(m) => m.entries.iter_mut().for_each(|x| match &mut x.expr {
            EntryExpr::MapEntry(me) => {
                rewrite(&mut me.key, reads, bound);
                rewrite(&mut me.value, reads, bound);
            }
            EntryExpr::StructField(f) => {
                reads.constructs_message = true;
                rewrite(&mut f.value, reads, bound)
            }
        }),
        Expr::Struct(s) => {
            reads.constructs_message = true;
            s.entries.iter_mut().for_each(|x| match &mut x.expr {
                EntryExpr::MapEntry(me) => {
                    rewrite(&mut me.key, reads, bound);
                    rewrite(&mut me.value, reads, bound);
                }
                EntryExpr::StructField(f) => rewrite(&mut f.value, reads, bound),
            })
        }
        Expr::Select(s) => {
            // `variables.NAME` is handled below, before its operand would count as a use
            // of the whole map.
            let is_var = matches!(&s.operand.expr, Expr::Ident(i) if i == "variables");
            if !is_var || s.test {
                rewrite(&mut s.operand, reads, bound);
            }
        }
        Expr::Ident(i) if i == "variables" => reads.whole_map = true,
        Expr::Ident(i) if (i == "params" || i == "namespaceObject") && !bound.contains(i) => {
            reads.scoped = true
        }
        Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => {}
    }
    let id = e.id;
    let replacement = match &mut e.expr {
        Expr::Call(c) if c.func_name == operators::OPT_SELECT => {
            Some(call(OPT_SELECT, std::mem::take(&mut c.args)))
        }
        Expr::Call(c) if c.func_name == operators::OPT_INDEX => {
            Some(call(OPT_INDEX, std::mem::take(&mut c.args)))
        }
        Expr::Call(c)
            if c.func_name == operators::INDEX && c.args.first().is_some_and(is_optional) =>
        {
            Some(call(OPT_INDEX, std::mem::take(&mut c.args)))
        }
        Expr::Select(SelectExpr {
            operand,
            field,
            test: false,
        }) => {
            if matches!(&operand.expr, Expr::Ident(i) if i == "variables") {
                reads.variables.insert(field.clone());
                Some(Expr::Ident(format!("{VAR_PREFIX}{field}")))
            } else if is_optional(operand) {
                let field = IdedExpr {
                    id,
                    expr: Expr::Literal(LiteralValue::String(field.as_str().into())),
                };
                let operand = std::mem::take(operand.as_mut());
                Some(call(OPT_SELECT, vec![operand, field]))
            } else {
                None
            }
        }
        _ => None,
    };
    if let Some(r) = replacement {
        e.expr = r;
    }
}

fn entries(list: &[kube_cel::cel::common::ast::IdedEntryExpr]) -> Vec<&IdedExpr> {
    list.iter()
        .flat_map(|x| match &x.expr {
            EntryExpr::MapEntry(me) => vec![&me.key, &me.value],
            EntryExpr::StructField(f) => vec![&f.value],
        })
        .collect()
}

/// Nodes by comprehension depth of an expression (see [`Reads::nodes_by_depth`]).
fn shape(e: &IdedExpr) -> Vec<u64> {
    fn add(into: &mut Vec<u64>, from: &[u64], shift: usize) {
        if into.len() < from.len() + shift {
            into.resize(from.len() + shift, 0);
        }
        for (d, n) in from.iter().enumerate() {
            into[d + shift] += n;
        }
    }
    let mut out = vec![1];
    match &e.expr {
        Expr::Call(c) => {
            for x in c.target.as_deref().into_iter().chain(&c.args) {
                add(&mut out, &shape(x), 0);
            }
        }
        Expr::Comprehension(c) => {
            for x in [&c.iter_range, &c.accu_init] {
                add(&mut out, &shape(x), 0);
            }
            // The loop runs once per element of the range.
            for x in [&c.loop_cond, &c.loop_step] {
                add(&mut out, &shape(x), 1);
            }
            add(&mut out, &shape(&c.result), 0);
        }
        Expr::List(l) => l.elements.iter().for_each(|x| add(&mut out, &shape(x), 0)),
        Expr::Map(m) => entries(&m.entries)
            .into_iter()
            .for_each(|x| add(&mut out, &shape(x), 0)),
        Expr::Struct(st) => entries(&st.entries)
            .into_iter()
            .for_each(|x| add(&mut out, &shape(x), 0)),
        Expr::Select(sel) => add(&mut out, &shape(&sel.operand), 0),
        Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => {}
    }
    out
}

/// `base.?field`, and `.field` on an optional: the field's value as an optional, `none` when
/// the field (or the optional itself) is absent.
pub fn opt_select(Arguments(args): Arguments) -> Result<Value, ExecutionError> {
    let (Some(base), Some(Value::String(field))) = (args.first(), args.get(1)) else {
        return Err(ExecutionError::function_error(
            "_?._",
            "takes a value and a field",
        ));
    };
    let Some(base) = unwrap_optional(base)? else {
        return Ok(none());
    };
    match base {
        Value::Map(m) => Ok(m
            .map
            .get(&Key::String(field.clone()))
            .map_or_else(none, |v| of(v.clone()))),
        // JSON `null` where an object was expected: absent, as the API server sees it.
        Value::Null => Ok(none()),
        other => Err(ExecutionError::function_error(
            "_?._",
            format!("no field selection on {}", other.type_of()),
        )),
    }
}

/// `base[?key]`, and `[key]` on an optional: map keys and list indexes, `none` when absent.
pub fn opt_index(Arguments(args): Arguments) -> Result<Value, ExecutionError> {
    let (Some(base), Some(key)) = (args.first(), args.get(1)) else {
        return Err(ExecutionError::function_error(
            "_[?_]",
            "takes a value and a key",
        ));
    };
    let Some(base) = unwrap_optional(base)? else {
        return Ok(none());
    };
    match (base, key) {
        (Value::Map(m), key) => {
            let key = match key {
                Value::String(s) => Key::String(s.clone()),
                Value::Int(i) => Key::Int(*i),
                Value::UInt(u) => Key::Uint(*u),
                Value::Bool(b) => Key::Bool(*b),
                other => {
                    return Err(ExecutionError::function_error(
                        "_[?_]",
                        format!("a map key cannot be {}", other.type_of()),
                    ));
                }
            };
            Ok(m.map.get(&key).map_or_else(none, |v| of(v.clone())))
        }
        (Value::List(l), Value::Int(i)) => Ok(usize::try_from(*i)
            .ok()
            .and_then(|i| l.get(i))
            .map_or_else(none, |v| of(v.clone()))),
        (Value::List(l), Value::UInt(u)) => Ok(usize::try_from(*u)
            .ok()
            .and_then(|i| l.get(i))
            .map_or_else(none, |v| of(v.clone()))),
        (Value::Null, _) => Ok(none()),
        (other, _) => Err(ExecutionError::function_error(
            "_[?_]",
            format!("no index on {}", other.type_of()),
        )),
    }
}

/// The value inside an optional (`None` for `optional.none()`); any other value as itself.
fn unwrap_optional(v: &Value) -> Result<Option<&Value>, ExecutionError> {
    match v {
        Value::Opaque(o) if o.runtime_type_name() == "optional_type" => Ok(o
            .downcast_ref::<OptionalValue>()
            .ok_or_else(|| ExecutionError::function_error("optional", "not an optional"))?
            .value()),
        other => Ok(Some(other)),
    }
}

/// `x.orValue(d)`: the optional's value or `d`. On a value that is not an optional (a
/// field read without `.?`, which Kyverno's untyped environment lets through) it is the
/// value itself, as Kyverno evaluates it.
pub fn or_value(This(this): This<Value>, default: Value) -> Result<Value, ExecutionError> {
    Ok(match unwrap_optional(&this)? {
        Some(v) => v.clone(),
        None => default,
    })
}

/// `x.hasValue()`: whether the optional holds a value (a plain value does).
pub fn has_value(This(this): This<Value>) -> Result<Value, ExecutionError> {
    Ok(Value::Bool(unwrap_optional(&this)?.is_some()))
}

/// `x.value()`: the optional's value; an error on `optional.none()`.
pub fn value_of(This(this): This<Value>) -> Result<Value, ExecutionError> {
    unwrap_optional(&this)?
        .cloned()
        .ok_or_else(|| ExecutionError::function_error("value", "optional.none() dereference"))
}

fn none() -> Value {
    Value::Opaque(Arc::new(OptionalValue::none()))
}

fn of(v: Value) -> Value {
    Value::Opaque(Arc::new(OptionalValue::of(v)))
}
