//! The vendored `cel` interpreter (`vendor/cel`, PATCHES.md) borrows where the crate copied:
//! a field of a borrowed map, a comprehension's element, an accumulator a step leaves as it
//! was, the items of an owned list being concatenated. These tests hold every such path to
//! the answers CEL defines (the crate's own answers before the patches), including the
//! errors.

use super::{Subject, compile};
use serde_json::json;

fn object() -> serde_json::Value {
    json!({
        "metadata": {"labels": {"app": "web", "tier": "front", "team": ""}},
        "spec": {
            "containers": [
                {"name": "a", "ports": [{"containerPort": 80}, {"containerPort": 443}]},
                {"name": "b"},
                {"name": "c", "ports": [{"containerPort": 8080}]}
            ],
            "initContainers": [{"name": "i"}],
            "hostPID": false
        }
    })
}

fn check(expr: &str) -> Result<bool, String> {
    Subject::create(&object()).scope().check(&compile(expr)?)
}

#[test]
fn selections_and_comprehensions_answer_as_cel_defines() {
    for expr in [
        // Selection through a borrowed object, and through owned values (literals, results).
        "object.spec.containers[0].name == 'a'",
        "{'a': {'b': [1, 2]}}.a.b == [1, 2]",
        "object.spec.containers.map(c, {'n': c.name})[1].n == 'b'",
        "object.spec.containers.filter(c, c.name == 'c')[0].ports[0].containerPort == 8080",
        // Comprehensions: every macro, the element borrowed, the accumulator kept or moved.
        "object.spec.containers.filter(c, c.name != 'b').map(c, c.name) == ['a', 'c']",
        "object.spec.containers.filter(c, false) == []",
        "object.spec.containers.filter(c, true).size() == 3",
        "object.spec.containers.exists_one(c, c.name == 'a')",
        "!object.spec.containers.exists_one(c, c.name != 'a')",
        "object.spec.containers.exists(c, c.name == 'c')",
        "object.spec.containers.all(c, !has(c.ports) || c.ports.all(p, p.containerPort > 0))",
        "object.spec.containers.map(c, has(c.ports) ? c.ports.size() : 0) == [2, 0, 1]",
        "object.spec.containers.map(c, c.?ports.orValue([]).map(p, p.containerPort)) == [[80, 443], [], [8080]]",
        // Over a map's keys.
        "object.metadata.labels.filter(k, object.metadata.labels[k] != '').size() == 2",
        "object.metadata.labels.all(k, k != '')",
        // An inner variable shadows an outer one of the same name, and only inside.
        "[1, 2].all(x, [3, 4].all(x, x > 2)) && [1, 2].map(x, [x].map(y, y + x)) == [[2], [4]]",
        // List concatenation: borrowed and owned operands, either side.
        "size(object.spec.containers + object.spec.initContainers) == 4",
        "object.spec.containers.map(c, c.name) + object.spec.initContainers.map(c, c.name) == ['a', 'b', 'c', 'i']",
        "[1, 2].filter(x, x > 1) + [4] == [2, 4]",
        "[0] + [1, 2].map(x, x * 2) == [0, 2, 4]",
        "object.spec.initContainers + [] == object.spec.initContainers",
        // The operands of a concatenation are left as they were.
        "(object.spec.initContainers + [{'name': 'x'}]).size() == 2 && object.spec.initContainers.size() == 1",
        "['hostPID', 'hostIPC'].filter(f, f in object.spec && object.spec[f]) == []",
        // `map` and `filter` append to their accumulator in place.
        "[1, 2, 3].map(x, x * 2) == [2, 4, 6] && [].map(x, x) == [] && [1, 2, 3].filter(x, x != 2) == [1, 3]",
        "[1, 2, 3].map(x, x > 1, x * 10) == [20, 30]",
        "[[1], [2, 3]].map(l, l.map(x, x + 1)) == [[2], [3, 4]]",
        "object.spec.containers.map(c, c).filter(c, c.name == 'a')[0].ports.size() == 2",
        // Maps share their entries when copied: a field moved out of a copy (an owned
        // result) leaves the map it was copied from, and its other copies, whole.
        "(object.spec.containers + []).map(c, c.name) == ['a', 'b', 'c'] && object.spec.containers[0].ports.size() == 2",
        "[object.spec.containers[0], object.spec.containers[0]].map(c, c.ports)[1].size() == 2",
        "(object.spec.containers + object.spec.initContainers)[0].ports[1].containerPort == 443 && object.spec.containers[0].ports[1].containerPort == 443",
        "[{'a': {'b': 1}}][0].a.b == 1 && {'m': object.metadata.labels}.m.app == 'web' && object.metadata.labels.app == 'web'",
        "object.metadata.labels == {'app': 'web', 'tier': 'front', 'team': ''}",
    ] {
        assert_eq!(check(expr), Ok(true), "{expr}");
    }
}

#[test]
fn errors_are_the_same_through_borrowed_and_owned_values() {
    for (expr, want) in [
        ("object.spec.nope == 1", "nope"),
        ("{'a': 1}.b == 1", "b"),
        ("object.spec.containers.all(c, c.ports.size() > 0)", "ports"),
        ("object.spec.containers.map(c, c.x) == []", "x"),
        ("[1] + 'a' == [1]", ""),
        ("[1, 'a'].map(x, x + 1) == []", ""),
        ("[1, 'a'].filter(x, x > 0) == []", ""),
    ] {
        let e = check(expr).expect_err(expr);
        assert!(e.contains(want), "{expr}: {e}");
    }
}

/// The interpreter tells its operators by their names' bytes, functions by a hashed lookup,
/// qualified functions only under a prefix some function has: every operator and call form
/// answers as CEL defines, and a name near an operator's is a function, not that operator.
#[test]
fn every_operator_and_call_form_answers() {
    for expr in [
        "(true ? 1 : 2) == 1 && (false ? 1 : 2) == 2",
        "true && !false && (false || true)",
        "1 + 2 == 3 && 5 - 2 == 3 && 2 * 3 == 6 && 7 / 2 == 3 && 7 % 2 == 1 && -(1) == -1",
        "1 != 2 && 1 < 2 && 2 > 1 && 1 <= 1 && 1 >= 1 && !(2 <= 1) && !(1 >= 2)",
        "[1, 2][1] == 2 && {'a': 1}['a'] == 1 && 'a' in {'a': 1} && 2 in [1, 2]",
        "{'a': 1}[?'a'].orValue(0) == 1 && {'a': 1}[?'b'].orValue(0) == 0",
        "object.spec.?hostPID.orValue(true) == false && object.spec.?nope.orValue(7) == 7",
        "has(object.spec.hostPID) && !has(object.spec.nope) && !has(object.metadata.labels.x)",
        "object.metadata.labels.team == '' && object.metadata.labels['app'] == 'web'",
        "size('abc') == 3 && 'abc'.startsWith('ab') && 'abc'.size() == 3",
        "math.greatest([1, 3, 2]) == 3 && ['a', 'b'].join(',') == 'a,b'",
        "object.spec.containers.exists(c, c.name.endsWith('a'))",
        "'x'.matches('^x$') && quantity('1Gi').isGreaterThan(quantity('1Mi'))",
    ] {
        assert_eq!(check(expr), Ok(true), "{expr}");
    }
    for expr in ["undefinedFn(1)", "object.spec.containers[0].name.nope()"] {
        assert!(check(expr).is_err(), "{expr}");
    }
}

/// Patch 12: a hidden name is undeclared in its scope and below, whatever a parent binds,
/// until bound there again; the parent keeps its binding.
#[test]
fn a_hidden_name_is_undeclared_below_until_bound_again() {
    use kube_cel::cel::{Context, ExecutionError, Value};
    let e = compile("x + 1").expect("compiles");
    let mut parent = Context::default();
    parent.add_variable_from_value("x", 1i64);
    let mut child = parent.new_inner_scope();
    child.hide_variable("x");
    {
        let grandchild = child.new_inner_scope();
        for ctx in [&child, &grandchild] {
            assert!(matches!(
                Value::resolve(&e.expr, ctx),
                Err(ExecutionError::UndeclaredReference(n)) if n.as_str() == "x"
            ));
        }
    }
    assert_eq!(Value::resolve(&e.expr, &parent), Ok(Value::Int(2)));
    child.add_variable_from_value("x", 41i64);
    assert_eq!(Value::resolve(&e.expr, &child), Ok(Value::Int(42)));
}
