//! What of `object` a policy reads, through its variables and comprehensions, and the object
//! cut down to it.
//!
//! The `cel` crate (0.13) copies a value deeply at every field selection, at every element a
//! comprehension visits and at every function call (`object.spec` copies the whole spec, then
//! `.containers` copies the containers, `all(c, …)` copies each container): over a real pod a
//! policy's few expressions copy most of the object dozens of times, and that was most of a
//! `policy check`. Binding `object` cut down to what the policies read makes each copy the
//! size of what is read.
//!
//! The analysis follows where values of `object` flow: an expression *aliases* paths of the
//! object (`object.spec.containers` aliases `spec.containers`; `variables.spec` aliases what
//! its declaration does; in `l.all(c, …)` `c` aliases every element of what `l` aliases; a
//! conditional or a `+` aliases what either side does). A path is kept **whole** when a value
//! at it is used other than by selecting a field of it (compared, passed to a function, sized,
//! tested with `has()`, put in a list), and kept as **structure** when fields are only
//! selected from it: a map keeps only the selected keys, a list all its elements (each cut
//! alike). So every value an expression observes is the same in the cut object: a missing
//! field is missing at the same step (same error), `has()` answers the same, a comprehension
//! visits the same elements. What cannot be followed (the root `object` itself used as a
//! value) keeps the whole object.

use super::ast::{OPT_INDEX, OPT_SELECT, VAR_PREFIX};
use kube_cel::cel::common::ast::operators;
use kube_cel::cel::common::ast::{EntryExpr, Expr, IdedExpr, LiteralValue};
use kube_cel::cel::common::value::Val;
use std::collections::{BTreeMap, HashMap};

/// One step of a path: a field, or any element of a list / value of a map.
type Step = Option<String>;
type Path = Vec<Step>;

/// The paths of an object to keep, as a tree.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Trie {
    /// Kept whole from here down.
    whole: bool,
    fields: BTreeMap<String, Trie>,
    /// Every element (list) or value (map).
    any: Option<Box<Trie>>,
}

impl Trie {
    /// The whole object.
    pub fn everything() -> Trie {
        Trie {
            whole: true,
            ..Trie::default()
        }
    }

    pub fn is_whole(&self) -> bool {
        self.whole
    }

    fn node(&mut self, path: &[Step]) -> Option<&mut Trie> {
        let mut at = self;
        for step in path {
            if at.whole {
                return None;
            }
            at = match step {
                Some(f) => at.fields.entry(f.clone()).or_default(),
                None => at.any.get_or_insert_with(Default::default),
            };
        }
        (!at.whole).then_some(at)
    }

    /// Keep `path` as structure (at least).
    fn reach(&mut self, path: &[Step]) {
        self.node(path);
    }

    /// Keep `path` whole.
    fn keep(&mut self, path: &[Step]) {
        if let Some(n) = self.node(path) {
            *n = Trie::everything();
        }
    }

    /// Everything either keeps.
    pub fn union(&mut self, other: &Trie) {
        if self.whole {
            return;
        }
        if other.whole {
            *self = Trie::everything();
            return;
        }
        for (k, t) in &other.fields {
            self.fields.entry(k.clone()).or_default().union(t);
        }
        if let Some(a) = &other.any {
            self.any.get_or_insert_with(Default::default).union(a);
        }
    }
}

/// What `exprs` read of `object`, with `variables` declared (in order) as `(name, expr)`.
pub fn reach<'e>(
    variables: impl IntoIterator<Item = (&'e str, &'e IdedExpr)>,
    exprs: impl IntoIterator<Item = &'e IdedExpr>,
) -> Trie {
    let mut flow = Flow::default();
    for (name, e) in variables {
        // A name declared twice: the scope evaluates the last declaration; both are followed.
        let origins = flow.visit(e);
        let var = flow.vars.entry(format!("{VAR_PREFIX}{name}")).or_default();
        var.extend(origins);
        var.sort();
        var.dedup();
    }
    for e in exprs {
        let origins = flow.visit(e);
        flow.keep(origins);
    }
    flow.trie
}

/// A value an expression may yield: the object's value at a path, inside `lists` list
/// literals (`[c]` yields the value of `c` one list down: iterating it yields `c` again).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Origin {
    path: Path,
    lists: u32,
}

/// Rounds of a comprehension's accumulator before it is given up on (kept whole).
const ACCUMULATOR_ROUNDS: usize = 4;

#[derive(Default)]
struct Flow {
    trie: Trie,
    /// What each declared variable may yield (by its rewritten identifier).
    vars: HashMap<String, Vec<Origin>>,
    /// Comprehension variables in scope, innermost last, with the strings one may be (it
    /// iterates a list of string literals: `['hostPID', 'hostIPC'].all(f, spec[f] …)`).
    bound: Vec<(String, Vec<Origin>, Option<Vec<String>>)>,
}

fn union(mut a: Vec<Origin>, b: Vec<Origin>) -> Vec<Origin> {
    a.extend(b);
    a.sort();
    a.dedup();
    a
}

impl Flow {
    fn keep(&mut self, origins: Vec<Origin>) {
        for o in origins {
            self.trie.keep(&o.path);
        }
    }

    /// Visit `e`, used as a value (kept whole).
    fn used(&mut self, e: &IdedExpr) {
        let o = self.visit(e);
        self.keep(o);
    }

    /// Visit `e`: record what it reads and return what its value may be.
    fn visit(&mut self, e: &IdedExpr) -> Vec<Origin> {
        match &e.expr {
            Expr::Ident(name) => self.ident(name),
            Expr::Select(s) => {
                // `has()` observes presence only: the field is kept as structure (a map
                // without its fields, an empty list) unless something reads it.
                let o = self.visit(&s.operand);
                let o = self.step(o, Some(&s.field));
                if s.test { Vec::new() } else { o }
            }
            Expr::Call(c) => self.call(c),
            Expr::Comprehension(c) => {
                let range = self.visit(&c.iter_range);
                let elements = self.step(range, None);
                let before = self.bound.len();
                let strings = match &c.iter_range.expr {
                    Expr::List(l) => l
                        .elements
                        .iter()
                        .map(|x| match &x.expr {
                            Expr::Literal(LiteralValue::String(s)) => Some(s.to_string()),
                            _ => None,
                        })
                        .collect::<Option<Vec<_>>>(),
                    _ => None,
                };
                match &c.iter_var2 {
                    // Two variables: an index or key, and a value.
                    Some(v2) => {
                        self.bound
                            .push((c.iter_var.clone(), elements.clone(), None));
                        self.bound.push((v2.clone(), elements, strings));
                    }
                    None => self.bound.push((c.iter_var.clone(), elements, strings)),
                }
                // The accumulator holds what its start and each step put in it: followed
                // until nothing new goes in (`filter` keeps elements, `map` their fields).
                let mut accu = self.visit(&c.accu_init);
                let mut settled = false;
                for _ in 0..ACCUMULATOR_ROUNDS {
                    self.bound.push((c.accu_var.clone(), accu.clone(), None));
                    let step = self.visit(&c.loop_step);
                    self.used(&c.loop_cond);
                    self.bound.pop();
                    let next = union(accu.clone(), step);
                    if next == accu {
                        settled = true;
                        break;
                    }
                    accu = next;
                }
                if !settled {
                    self.keep(accu);
                    accu = Vec::new();
                }
                self.bound.push((c.accu_var.clone(), accu, None));
                let result = self.visit(&c.result);
                self.bound.truncate(before);
                result
            }
            Expr::List(l) => {
                let mut out = Vec::new();
                for x in &l.elements {
                    out.extend(self.visit(x).into_iter().map(|mut o| {
                        o.lists += 1;
                        o
                    }));
                }
                union(out, Vec::new())
            }
            Expr::Map(m) => {
                m.entries.iter().for_each(|x| self.entry(&x.expr));
                Vec::new()
            }
            Expr::Struct(s) => {
                s.entries.iter().for_each(|x| self.entry(&x.expr));
                Vec::new()
            }
            Expr::Literal(_) | Expr::Unspecified => Vec::new(),
        }
    }

    fn ident(&mut self, name: &str) -> Vec<Origin> {
        if let Some((_, o, _)) = self.bound.iter().rev().find(|(n, ..)| n == name) {
            return o.clone();
        }
        match name {
            "object" => vec![Origin {
                path: Vec::new(),
                lists: 0,
            }],
            // The variables as a map: each variable's value is observed whole.
            "variables" => {
                let all: Vec<Origin> = self.vars.values().flatten().cloned().collect();
                self.keep(all);
                Vec::new()
            }
            _ => self.vars.get(name).cloned().unwrap_or_default(),
        }
    }

    /// One step below `origins`: a field, or an element (`None`). A step into the object is
    /// kept as structure; an element of a list literal is what was put in it; a field of a
    /// list literal is nothing of the object.
    fn step(&mut self, origins: Vec<Origin>, field: Option<&str>) -> Vec<Origin> {
        let mut out = Vec::new();
        for mut o in origins {
            match (o.lists, field) {
                (0, _) => {
                    o.path.push(field.map(str::to_string));
                    self.trie.reach(&o.path);
                    out.push(o);
                }
                (_, None) => {
                    o.lists -= 1;
                    out.push(o);
                }
                (_, Some(_)) => {}
            }
        }
        union(out, Vec::new())
    }

    /// The strings `e` can only be: a literal, or a variable iterating literals.
    fn strings(&self, e: &IdedExpr) -> Option<Vec<String>> {
        match &e.expr {
            Expr::Literal(LiteralValue::String(s)) => Some(vec![s.to_string()]),
            Expr::Ident(name) => self
                .bound
                .iter()
                .rev()
                .find(|(n, ..)| n == name)
                .and_then(|(_, _, s)| s.clone()),
            _ => None,
        }
    }

    /// The fields `keys` of `origins` (or every element when they are not known).
    fn step_keys(&mut self, origins: Vec<Origin>, keys: Option<Vec<String>>) -> Vec<Origin> {
        match keys {
            Some(keys) => {
                let mut out = Vec::new();
                for k in &keys {
                    let o = self.step(origins.clone(), Some(k));
                    out = union(out, o);
                }
                out
            }
            None => self.step(origins, None),
        }
    }

    fn call(&mut self, c: &kube_cel::cel::common::ast::CallExpr) -> Vec<Origin> {
        let args = c.args.as_slice();
        match (c.func_name.as_str(), args, &c.target) {
            // A known key in a map: its presence (a list with a field named is kept whole).
            (operators::IN, [key, container], None) => {
                if let Some(keys) = self.strings(key) {
                    let o = self.visit(container);
                    self.step_keys(o, Some(keys));
                    return Vec::new();
                }
            }
            (OPT_SELECT, [operand, field], None) => {
                if let Expr::Literal(LiteralValue::String(f)) = &field.expr {
                    let o = self.visit(operand);
                    return self.step(o, Some(f.as_ref()));
                }
            }
            (operators::INDEX | operators::OPT_INDEX | OPT_INDEX, [operand, index], None) => {
                let o = self.visit(operand);
                self.used(index);
                let keys = self.strings(index);
                return self.step_keys(o, keys);
            }
            (operators::CONDITIONAL, [cond, then, otherwise], None) => {
                self.used(cond);
                let o = self.visit(then);
                let other = self.visit(otherwise);
                return union(o, other);
            }
            // Lists concatenated: the result holds the elements of both sides.
            (operators::ADD, [a, b], None) => {
                let o = self.visit(a);
                let other = self.visit(b);
                return union(o, other);
            }
            _ => {}
        }
        // Any other call observes its arguments whole and returns a value of its own.
        if let Some(t) = c.target.as_deref() {
            self.used(t);
        }
        args.iter().for_each(|a| self.used(a));
        Vec::new()
    }

    fn entry(&mut self, e: &EntryExpr) {
        match e {
            EntryExpr::MapEntry(me) => {
                self.used(&me.key);
                self.used(&me.value);
            }
            EntryExpr::StructField(f) => self.used(&f.value),
        }
    }
}

/// `object` with only what `trie` keeps (see the module comment), built straight in the
/// interpreter's representation (no cut JSON in between).
pub fn cut_val(object: &serde_json::Value, trie: &Trie) -> Box<dyn Val> {
    cut_by(object, &[trie])
}

/// Cut by several tries at once (a field's own and the map's "any value" one).
fn cut_by(v: &serde_json::Value, tries: &[&Trie]) -> Box<dyn Val> {
    use serde_json::Value;
    if tries.iter().any(|t| t.whole) {
        return super::val(v);
    }
    match v {
        Value::Object(map) => {
            let any: Vec<&Trie> = tries.iter().filter_map(|t| t.any.as_deref()).collect();
            let mut out = Vec::new();
            for (k, child) in map {
                let mut at: Vec<&Trie> = tries.iter().filter_map(|t| t.fields.get(k)).collect();
                if at.is_empty() && any.is_empty() {
                    continue;
                }
                at.extend(&any);
                out.push((k.as_str(), cut_by(child, &at)));
            }
            super::val_map(out.into_iter())
        }
        Value::Array(items) => {
            if tries.iter().any(|t| !t.fields.is_empty()) {
                // A field selected of a list: an error either way, on the same value.
                return super::val(v);
            }
            let any: Vec<&Trie> = tries.iter().filter_map(|t| t.any.as_deref()).collect();
            if any.is_empty() {
                // Reached but never read (only selected past, or tested for presence).
                return list(Vec::new());
            }
            list(items.iter().map(|x| cut_by(x, &any)).collect())
        }
        scalar => super::val(scalar),
    }
}

/// A CEL list of `items`.
fn list(items: Vec<Box<dyn Val>>) -> Box<dyn Val> {
    Box::new(kube_cel::cel::common::types::CelList::from(items))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The object cut by `t` is `want` (compared as the interpreter's values).
    #[track_caller]
    fn assert_cut(object: &serde_json::Value, t: &Trie, want: serde_json::Value) {
        let (got, want) = (cut_val(object, t), super::super::val(&want));
        assert!(got.equals(want.as_ref()), "cut: {got:?}\nwant: {want:?}");
    }

    fn trie(vars: &[(&str, &str)], exprs: &[&str]) -> Trie {
        let vars: Vec<(&str, IdedExpr)> = vars
            .iter()
            .map(|(n, s)| (*n, super::super::ast::parse(s).expect("parse").0))
            .collect();
        let exprs: Vec<IdedExpr> = exprs
            .iter()
            .map(|s| super::super::ast::parse(s).expect("parse").0)
            .collect();
        reach(vars.iter().map(|(n, e)| (*n, e)), exprs.iter())
    }

    #[test]
    fn values_are_followed_through_variables_and_comprehensions() {
        let t = trie(
            &[
                (
                    "spec",
                    "object.kind == 'Pod' ? object.spec : object.spec.template.spec",
                ),
                (
                    "containers",
                    "variables.spec.containers + (has(variables.spec.initContainers) ? variables.spec.initContainers : [])",
                ),
            ],
            &["variables.containers.all(c, c.image.startsWith('r/') && !has(c.securityContext))"],
        );
        let pod = json!({"kind": "Pod", "metadata": {"name": "p", "labels": {"a": "b"}},
            "spec": {"nodeName": "n", "volumes": [{"name": "v"}],
                "containers": [{"name": "a", "image": "r/a", "env": [{"name": "X"}],
                    "securityContext": {"privileged": true}}, {"name": "b", "image": "x"}],
                "initContainers": [{"name": "i", "image": "r/i", "ports": [1]}]},
            "status": {"phase": "Running"}});
        assert_cut(
            &pod,
            &t,
            json!({"kind": "Pod", "spec": {
                "containers": [{"image": "r/a", "securityContext": {}}, {"image": "x"}],
                "initContainers": [{"image": "r/i"}]}}),
        );
        let deploy = json!({"kind": "Deployment", "spec": {"replicas": 2, "template": {
            "metadata": {"labels": {}}, "spec": {"containers": [{"name": "a", "image": "i"}]}}}});
        assert_cut(
            &deploy,
            &t,
            json!({"kind": "Deployment", "spec": {"template": {"spec": {"containers": [{"image": "i"}]}}}}),
        );
    }

    #[test]
    fn a_value_used_whole_keeps_its_subtree_and_the_root_keeps_everything() {
        // Sized, compared, passed, put in a list: whole.
        let t = trie(
            &[],
            &["size(object.spec.containers) > 0 && object.metadata.labels == {}"],
        );
        let o = json!({"metadata": {"name": "n", "labels": {"a": "1"}},
            "spec": {"containers": [{"name": "a", "image": "i"}], "x": 1}});
        assert_cut(
            &o,
            &t,
            json!({"metadata": {"labels": {"a": "1"}}, "spec": {"containers": [{"name": "a", "image": "i"}]}}),
        );
        assert!(trie(&[], &["object == oldObject"]).is_whole());
        assert!(trie(&[], &["size(object) > 1"]).is_whole());
        assert!(trie(&[("o", "object")], &["has(variables.o)"]).is_whole());
        assert!(trie(&[], &["[object].size() == 1"]).is_whole());
        // A comprehension variable named `object` is not the object.
        assert!(!trie(&[], &["[1].all(object, object > 0)"]).is_whole());
        // Maps iterated keep every key; what `filter` and `map` return is followed; a
        // filtered list used whole keeps its elements whole.
        let t = trie(
            &[],
            &[
                "object.metadata.labels.all(k, k != 'x') && object.spec.c.filter(c, c.a).map(c, c.n).join(',') == ''",
                "object.spec.e.filter(e, e.a).size() == 1",
            ],
        );
        let o = json!({"metadata": {"labels": {"a": "1", "b": "2"}, "name": "n"},
            "spec": {"c": [{"a": true, "n": "x", "b": 1}, {"a": false}], "d": 1, "e": [{"a": true, "b": 2}]}});
        assert_cut(
            &o,
            &t,
            json!({"metadata": {"labels": {"a": "1", "b": "2"}},
                "spec": {"c": [{"a": true, "n": "x"}, {"a": false}], "e": [{"a": true, "b": 2}]}}),
        );
    }
}
