//! What of `object` an expression reads, and the object cut down to it.
//!
//! The `cel` crate copies a value at every field selection (`object.spec` copies the whole
//! spec, then `.containers` copies the containers): over a real pod, a policy's few
//! expressions copy the object dozens of times. A scope binds `object` cut down to the paths
//! its expressions select ([`object_paths`], [`cut`]), so each copy is of what is read. The
//! cut keeps every selected subtree whole and every map on the way (so a missing field is
//! missing at the same step, `has()` answers the same): an expression reads the same values
//! either way. An expression that uses `object` other than by a chain of field selections
//! (`object == oldObject`, `object[k]`, `size(object)`) reads it whole.

use kube_cel::cel::common::ast::{EntryExpr, Expr, IdedExpr, LiteralValue};
use std::collections::BTreeSet;

/// Field paths selected from `object` (`object.spec.containers` → `["spec", "containers"]`),
/// or `None` when the expression reads `object` as a whole.
pub fn object_paths(e: &IdedExpr) -> Option<BTreeSet<Vec<String>>> {
    let mut out = BTreeSet::new();
    visit(e, &mut out).then_some(out)
}

fn visit(e: &IdedExpr, out: &mut BTreeSet<Vec<String>>) -> bool {
    match &e.expr {
        Expr::Ident(i) => i != "object",
        Expr::Select(_) => selection(e, out),
        Expr::Call(c) if c.func_name == super::ast::OPT_SELECT && step(e).is_some() => {
            selection(e, out)
        }
        Expr::Call(c) => c
            .target
            .as_deref()
            .into_iter()
            .chain(&c.args)
            .all(|x| visit(x, out)),
        // A comprehension that names its variable `object` shadows it: read whole, to be safe.
        Expr::Comprehension(c) => {
            c.iter_var != "object"
                && c.iter_var2.as_deref() != Some("object")
                && c.accu_var != "object"
                && [
                    &c.iter_range,
                    &c.accu_init,
                    &c.loop_cond,
                    &c.loop_step,
                    &c.result,
                ]
                .into_iter()
                .all(|x| visit(x, out))
        }
        Expr::List(l) => l.elements.iter().all(|x| visit(x, out)),
        Expr::Map(m) => m.entries.iter().all(|x| entry(&x.expr, out)),
        Expr::Struct(s) => s.entries.iter().all(|x| entry(&x.expr, out)),
        Expr::Literal(_) | Expr::Unspecified => true,
    }
}

/// One field step: `x.f` (not a `has()` test: that reads the same, and is a step too) or the
/// rewritten optional step `x.?f`. Its operand and field.
fn step(e: &IdedExpr) -> Option<(&IdedExpr, &str)> {
    match &e.expr {
        Expr::Select(s) => Some((&s.operand, s.field.as_str())),
        Expr::Call(c) if c.func_name == super::ast::OPT_SELECT && c.target.is_none() => {
            match c.args.as_slice() {
                [operand, field] => match &field.expr {
                    Expr::Literal(LiteralValue::String(f)) => Some((operand, f.as_ref())),
                    _ => None,
                },
                _ => None,
            }
        }
        _ => None,
    }
}

/// A chain of steps: a path when it starts at `object`, else its root is visited.
fn selection(e: &IdedExpr, out: &mut BTreeSet<Vec<String>>) -> bool {
    let mut fields = Vec::new();
    let mut at = e;
    while let Some((operand, field)) = step(at) {
        fields.push(field.to_string());
        at = operand;
    }
    match &at.expr {
        Expr::Ident(i) if i == "object" => {
            fields.reverse();
            out.insert(fields);
            true
        }
        _ => visit(at, out),
    }
}

fn entry(e: &EntryExpr, out: &mut BTreeSet<Vec<String>>) -> bool {
    match e {
        EntryExpr::MapEntry(me) => visit(&me.key, out) && visit(&me.value, out),
        EntryExpr::StructField(f) => visit(&f.value, out),
    }
}

/// `object` with only `paths`: each selected subtree whole, the maps on the way to it with
/// only the selected keys.
pub fn cut(object: &serde_json::Value, paths: &BTreeSet<Vec<String>>) -> serde_json::Value {
    let serde_json::Value::Object(_) = object else {
        return object.clone();
    };
    let mut out = serde_json::Value::Object(serde_json::Map::new());
    for path in paths {
        let (mut from, mut to) = (object, &mut out);
        for (i, field) in path.iter().enumerate() {
            let (Some(src), serde_json::Value::Object(dst)) = (from.get(field), &mut *to) else {
                // Missing here: the map on the way is kept without it, as in the object.
                break;
            };
            let last = i + 1 == path.len();
            if last || !src.is_object() {
                // Selected whole (or not a map: a further selection fails alike on the copy).
                dst.insert(field.clone(), src.clone());
                break;
            }
            to = dst
                .entry(field.clone())
                .or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()));
            from = src;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn paths(source: &str) -> Option<BTreeSet<Vec<String>>> {
        let (e, _) = super::super::ast::parse(source).expect("parse");
        object_paths(&e)
    }

    #[test]
    fn selections_are_paths_and_other_uses_read_the_whole_object() {
        let p = paths(
            "object.spec.containers.all(c, has(c.securityContext)) && has(object.metadata.labels)",
        )
        .expect("paths");
        assert_eq!(
            p.into_iter().collect::<Vec<_>>(),
            vec![
                vec!["metadata".to_string(), "labels".into()],
                vec!["spec".into(), "containers".into()]
            ]
        );
        assert_eq!(
            paths("object.?metadata.?labels.orValue({}).size() > 0")
                .expect("paths")
                .len(),
            1
        );
        assert!(paths("object == oldObject").is_none());
        assert!(paths("size(object) > 1").is_none());
        assert!(paths("[1].all(object, object > 0)").is_none());
        assert_eq!(
            paths("request.operation == 'CREATE'"),
            Some(BTreeSet::new())
        );
    }

    #[test]
    fn the_cut_keeps_selected_subtrees_and_the_maps_on_the_way() {
        let obj = json!({"metadata": {"name": "p", "labels": {"a": "1"}},
            "spec": {"containers": [{"name": "c"}], "volumes": [1, 2], "hostNetwork": true}, "status": {}});
        let p: BTreeSet<Vec<String>> = [
            vec!["spec".to_string(), "containers".into()],
            vec!["spec".into(), "missing".into(), "deeper".into()],
            vec![
                "metadata".into(),
                "labels".into(),
                "a".into(),
                "beyond".into(),
            ],
            vec!["nothing".into()],
        ]
        .into_iter()
        .collect();
        assert_eq!(
            cut(&obj, &p),
            json!({"metadata": {"labels": {"a": "1"}}, "spec": {"containers": [{"name": "c"}]}})
        );
    }
}
