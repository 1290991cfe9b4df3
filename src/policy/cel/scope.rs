//! One policy's evaluation over a [`super::Subject`]: its variables, declared and evaluated
//! lazily as the API server does.

use super::{COST_BUDGET, Expr, ast, val};
use kube_cel::cel::common::value::Val;
use kube_cel::cel::objects::{Key, Map};
use kube_cel::cel::{Context, ExecutionError, Value};
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

/// A variable's state in a scope.
pub(super) enum Var {
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
    pub(super) longest: u64,
    pub(super) ctx: Context<'s>,
    /// A few names per policy, made for every policy and object: foldhash, not SipHash.
    pub(super) declared: foldhash::HashMap<&'s str, &'s Expr>,
    /// Declaration order, for `variables` read as a whole.
    pub(super) order: Vec<&'s str>,
    pub(super) state: foldhash::HashMap<&'s str, Var>,
    /// Declarations evaluated once for the object and bound below this scope ([`Cover`]),
    /// by name (or why each failed): the policy declares each of them itself, from the same
    /// source.
    pub(super) shared: &'s [(String, Result<(), String>)],
    /// Which of `shared` this policy shares (bit `i`: `shared[i]`).
    pub(super) shared_mask: u64,
}

impl<'s> Scope<'s> {
    /// Bind `params` or `namespaceObject` (JSON, converted here).
    pub fn add(&mut self, name: &str, v: &serde_json::Value) {
        self.ctx
            .add_variable_cow(name.to_string(), Cow::Owned(val(v)));
    }

    /// Declare `variables.NAME`; it is evaluated when an expression first reads it.
    pub fn declare(&mut self, name: &'s str, e: &'s Expr) {
        if self.declared.insert(name, e).is_none() {
            if let Some((_, (_, r))) = self
                .shared
                .iter()
                .enumerate()
                .find(|(i, (n, _))| n == name && self.shared_mask & (1 << i) != 0)
            {
                match r {
                    Ok(()) => {
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
    pub(super) fn ensure(&mut self, name: &str) {
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
        // Kept in the interpreter's representation: converting a list of containers to a
        // `Value` and back again cost two deep copies per variable. A declaration that reads
        // the object alone runs below this scope, so its value may borrow from the object
        // (`object.spec.template.spec` is not copied).
        let value = match self.below() {
            Some(below) if e.reads.object_alone() => self.run_below(below, e),
            _ => self.run_val(e).map(Cow::Owned),
        };
        match value {
            Ok(v) => {
                self.ctx
                    .add_variable_cow(format!("{}{name}", ast::VAR_PREFIX), v);
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
                .filter(|n| matches!(self.state.get(*n), Some(Var::Bound)))
                .filter_map(|n| {
                    let v = self.ctx.get_variable(format!("{}{n}", ast::VAR_PREFIX))?;
                    Some((
                        Key::String(Arc::new((*n).into())),
                        Value::try_from(v.as_ref()).ok()?,
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
        self.within_budget(e)?;
        guarded(e, || Value::resolve(&e.expr, &self.ctx)).map_err(|err| self.explain(e, err))
    }

    /// The bindings this scope sits on (the object's), which outlive it.
    fn below(&self) -> Option<&'s Context<'s>> {
        match &self.ctx {
            Context::Child { parent, .. } => Some(*parent),
            Context::Root { .. } => None,
        }
    }

    /// [`Scope::run_val`] over the bindings below this scope: the value may borrow from them.
    fn run_below(&self, below: &'s Context<'s>, e: &'s Expr) -> Result<Cow<'s, dyn Val>, String> {
        self.within_budget(e)?;
        guarded(e, || Value::resolve_val(&e.expr, below)).map_err(|err| self.explain(e, err))
    }

    /// [`Scope::run`], the result left in the interpreter's representation.
    fn run_val(&self, e: &Expr) -> Result<Box<dyn Val>, String> {
        self.within_budget(e)?;
        guarded(e, || {
            Value::resolve_val(&e.expr, &self.ctx).map(|v| v.into_owned())
        })
        .map_err(|err| self.explain(e, err))
    }

    fn within_budget(&self, e: &Expr) -> Result<(), String> {
        let cost = e.cost(self.longest);
        if cost > COST_BUDGET {
            return Err(format!(
                "{}: exceeds the CEL cost budget: over lists of up to {} items it could cost {cost} (the API server allows {COST_BUDGET} per evaluation and would refuse it too)",
                e.source, self.longest
            ));
        }
        Ok(())
    }

    /// An evaluation error as a message: a read of a variable that failed says why it did.
    fn explain(&self, e: &Expr, err: ExecutionError) -> String {
        match &err {
            ExecutionError::UndeclaredReference(r) => match r
                .strip_prefix(ast::VAR_PREFIX)
                .map(|name| (name, self.state.get(name)))
            {
                Some((_, Some(Var::Failed(why)))) => why.clone(),
                Some((name, _)) => format!("{}: no variable `{name}`", e.source),
                None => format!("{}: {err}", e.source),
            },
            _ => format!("{}: {err}", e.source),
        }
    }

    /// Take the variable `name` this scope bound (for the cover's shared base).
    pub(super) fn take_bound(&mut self, name: &str) -> Option<Box<dyn Val>> {
        match &mut self.ctx {
            Context::Root { variables, .. } | Context::Child { variables, .. } => variables
                .remove(&format!("{}{name}", ast::VAR_PREFIX))
                .map(Cow::into_owned),
        }
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

/// Run the interpreter; a panic in it (the crate has `todo!`s and `expect`s on shapes the
/// compile step does not all rule out) is this expression's evaluation error, not a crash of
/// the whole check.
fn guarded<T>(
    e: &Expr,
    run: impl FnOnce() -> Result<T, ExecutionError>,
) -> Result<T, ExecutionError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)).unwrap_or_else(|_| {
        Err(ExecutionError::function_error(
            "cel",
            format!("the CEL interpreter failed on `{}`", e.source),
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_in_the_interpreter_is_an_evaluation_error() {
        let e = super::super::compile("1 == 1").expect("compiles");
        let r: Result<Value, ExecutionError> = guarded(&e, || panic!("not yet implemented"));
        let err = r.expect_err("an error, not a crash");
        assert!(
            err.to_string()
                .contains("the CEL interpreter failed on `1 == 1`"),
            "{err}"
        );
        assert_eq!(guarded(&e, || Ok(Value::Bool(true))), Ok(Value::Bool(true)));
    }
}
