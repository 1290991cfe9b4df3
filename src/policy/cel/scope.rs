//! One policy's evaluation over a [`super::Subject`]: its variables, declared and evaluated
//! lazily as the API server does.

use super::{COST_BUDGET, Expr, ast, value};
use kube_cel::cel::objects::{Key, Map};
use kube_cel::cel::{Context, ExecutionError, Value};
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
    pub(super) declared: HashMap<&'s str, &'s Expr>,
    /// Declaration order, for `variables` read as a whole.
    pub(super) order: Vec<&'s str>,
    pub(super) state: HashMap<&'s str, Var>,
    /// The bound values by name, for `variables` read as a whole.
    pub(super) values: HashMap<&'s str, Value>,
    /// The first declarations' values, evaluated once for the object and bound below this
    /// scope ([`Cover`]): the policy's own first declarations are exactly those.
    pub(super) shared: &'s [Result<Value, String>],
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
