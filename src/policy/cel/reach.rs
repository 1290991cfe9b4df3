//! What a policy reads of `object` ([`Reach`]) and what a set of policies reads together
//! ([`Cover`]): the object is cut to it, and converted to CEL, once for all of them.

use super::{Expr, compile, paths};
use std::sync::Arc;

/// What a policy's expressions read of `object` (see [`paths`]), found when it is compiled.
#[derive(Debug, Clone)]
pub struct Reach {
    /// Names this reach in a [`Cover`].
    pub(super) id: u64,
    pub(super) trie: paths::Trie,
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
    pub(super) trie: paths::Trie,
    /// The reaches it covers.
    ids: Vec<u64>,
    /// Variable declarations that several covered policies start with (the drafts'
    /// `variables.spec`, `variables.containers`): evaluated once per object, for all of them.
    pub(super) shared: Vec<(String, Expr)>,
    /// The covered reaches that start with exactly those declarations.
    pub(super) sharing: Vec<u64>,
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

    pub(super) fn covers(&self, r: &Reach) -> bool {
        self.ids.contains(&r.id)
    }
}

#[cfg(test)]
mod cut_object {
    use super::super::*;
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
