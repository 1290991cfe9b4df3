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
    /// The variable names its expressions and declarations read.
    reads: std::collections::BTreeSet<String>,
}

impl Reach {
    /// What `exprs` read, with `variables` declared in order.
    pub fn of<'e>(
        variables: impl IntoIterator<Item = (&'e str, &'e Expr)>,
        exprs: impl IntoIterator<Item = &'e Expr>,
    ) -> Reach {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let variables: Vec<(&str, &Expr)> = variables.into_iter().collect();
        let exprs: Vec<&Expr> = exprs.into_iter().collect();
        let reads = variables
            .iter()
            .map(|(_, e)| *e)
            .chain(exprs.iter().copied())
            .flat_map(|e| e.reads.variables.iter().cloned())
            .collect();
        Reach {
            id: NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            trie: paths::reach(
                variables.iter().map(|(n, e)| (*n, &e.expr)),
                exprs.iter().map(|e| &e.expr),
            ),
            decls: {
                let mut decls: Vec<(String, String, bool)> = Vec::with_capacity(variables.len());
                for (n, e) in &variables {
                    // It reads only variables declared before it (evaluated apart from the
                    // policy, a later one would not be there) that depend on the object alone.
                    let earlier = |v: &String| decls.iter().any(|(m, _, alone)| m == v && *alone);
                    let alone = !e.reads.scoped
                        && !e.reads.whole_map
                        && e.reads.variables.iter().all(earlier);
                    decls.push((n.to_string(), e.source.clone(), alone));
                }
                decls
            },
            reads,
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
    /// Variable declarations several covered policies make alike, each depending on the
    /// object alone (the drafts' `variables.spec`, `variables.containers`): evaluated once
    /// per object, for all of them. At most 64.
    pub(super) shared: Vec<(String, Expr)>,
    /// The covered reaches that share some of them: which (bit `i`: `shared[i]`), and which
    /// others each must not see.
    sharing: Vec<(u64, u64, u64)>,
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
        // Only policies that declare no name twice share: then every shared binding a policy
        // sees is its own declaration.
        let unique = |r: &Reach| {
            let mut names: Vec<&str> = r.decls.iter().map(|d| d.0.as_str()).collect();
            names.sort_unstable();
            names.windows(2).all(|w| w[0] != w[1])
        };
        let group: Vec<&Reach> = covered.iter().copied().filter(|r| unique(r)).collect();
        // Object-alone declarations (name, source) and how many policies make them; per name,
        // the source most make (a shared value is bound under its name), if two or more do.
        let mut counts: Vec<(&str, &str, usize)> = Vec::new();
        for d in group.iter().flat_map(|r| r.decls.iter().filter(|d| d.2)) {
            match counts.iter_mut().find(|(n, s, _)| *n == d.0 && *s == d.1) {
                Some((_, _, c)) => *c += 1,
                None => counts.push((&d.0, &d.1, 1)),
            }
        }
        let mut chosen: Vec<(&str, &str)> = Vec::new();
        for (name, _, _) in &counts {
            if chosen.iter().any(|(n, _)| n == name) {
                continue;
            }
            if let Some((_, src, c)) = counts
                .iter()
                .filter(|(n, _, _)| n == name)
                .max_by_key(|(_, _, c)| *c)
                && *c >= 2
            {
                chosen.push((name, src));
            }
        }
        // Compiled again for the cover (sources that compiled once compile again).
        let candidates: Vec<(String, Expr)> = chosen
            .iter()
            .filter_map(|(n, src)| Some((n.to_string(), compile(src).ok()?)))
            .take(64)
            .collect();
        // Per policy: the candidates it declares alike whose reads are shared by it too. The
        // shared values are bound beneath the policy's scope under their names, so the other
        // shared names it reads or declares (from another source) are hidden in its scope:
        // where its own declaration fails, or it declares none, the shared binding must not
        // answer for it.
        let mut per_reach: Vec<(u64, u64, u64)> = Vec::new();
        for r in group {
            let mut mask = candidates
                .iter()
                .enumerate()
                .filter(|(_, (n, e))| r.decls.iter().any(|d| d.2 && d.0 == *n && d.1 == e.source))
                .fold(0u64, |m, (i, _)| m | (1 << i));
            loop {
                let has = |m: u64, v: &String| {
                    candidates
                        .iter()
                        .enumerate()
                        .any(|(i, (n, _))| m & (1 << i) != 0 && n == v)
                };
                let kept = candidates
                    .iter()
                    .enumerate()
                    .filter(|(i, (_, e))| {
                        mask & (1 << i) != 0 && e.reads.variables.iter().all(|v| has(mask, v))
                    })
                    .fold(0u64, |m, (i, _)| m | (1 << i));
                if kept == mask {
                    break;
                }
                mask = kept;
            }
            if mask != 0 {
                let hide = candidates
                    .iter()
                    .enumerate()
                    .filter(|(i, (n, _))| {
                        mask & (1 << i) == 0
                            && (r.reads.contains(n) || r.decls.iter().any(|d| d.0 == *n))
                    })
                    .fold(0u64, |m, (i, _)| m | (1 << i));
                per_reach.push((r.id, mask, hide));
            }
        }
        // Only what some policy shares is evaluated per object.
        let used = per_reach.iter().fold(0u64, |m, (_, k, _)| m | k);
        let keep: Vec<usize> = (0..candidates.len())
            .filter(|i| used & (1 << i) != 0)
            .collect();
        let remap = |mask: u64| {
            keep.iter()
                .enumerate()
                .filter(|(_, old)| mask & (1 << **old) != 0)
                .fold(0u64, |m, (new, _)| m | (1 << new))
        };
        cover.sharing = per_reach
            .into_iter()
            .map(|(id, m, h)| (id, remap(m), remap(h)))
            .collect();
        cover.shared = candidates
            .into_iter()
            .enumerate()
            .filter(|(i, _)| used & (1 << i) != 0)
            .map(|(_, c)| c)
            .collect();
        (!cover.ids.is_empty()).then(|| Arc::new(cover))
    }

    pub(super) fn covers(&self, r: &Reach) -> bool {
        self.ids.contains(&r.id)
    }

    /// Which of the shared declarations `r` shares (bit `i`: `shared[i]`), and which it must
    /// not see (it reads them or declares them otherwise); `(0, 0)` when it shares none.
    pub(super) fn sharing(&self, r: &Reach) -> (u64, u64) {
        self.sharing
            .iter()
            .find(|(id, _, _)| *id == r.id)
            .map_or((0, 0), |(_, m, h)| (*m, *h))
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
        assert_eq!((cover.sharing(&a).0, cover.sharing(&b).0), (0b11, 0b11));
        // Starts with only part of the run, and reads `variables.containers` it does not
        // declare: it shares `spec`, and the shared `containers` is hidden from it (it would
        // answer where its read must fail).
        assert_eq!(cover.sharing(&lone), (0b01, 0b10));
        // Declares `containers` from another source: it shares `spec`; the shared
        // `containers` is hidden, so its own answers, or its own failure.
        let own = c("variables.spec.initContainers");
        let partial = Reach::of([("spec", &spec), ("containers", &own)], [&check]);
        let cover = Cover::new([&a, &b, &partial]).expect("cover");
        assert_eq!(cover.sharing(&a), (0b11, 0));
        assert_eq!(cover.sharing(&partial), (0b01, 0b10));
        let o = json!({"spec": {"containers": [{"name": "a"}], "initContainers": []}});
        let subject = Subject::create(&o).covered_by(Some(cover.clone()));
        let mut scope = subject.scope_for(&partial);
        scope.declare("spec", &spec);
        scope.declare("containers", &own);
        // Its own `containers` (empty), not the shared one (one container).
        assert_eq!(scope.check(&check), Ok(false));
        let failing = c("variables.spec.missing");
        let broken = Reach::of([("spec", &spec), ("containers", &failing)], [&check]);
        let broken_cover = Cover::new([&a, &b, &broken]).expect("cover");
        assert_eq!(broken_cover.sharing(&broken), (0b01, 0b10));
        let broken_subject = Subject::create(&o).covered_by(Some(broken_cover));
        let mut scope = broken_subject.scope_for(&broken);
        scope.declare("spec", &spec);
        scope.declare("containers", &failing);
        let whole_subject = Subject::create(&o);
        let mut whole = whole_subject.scope();
        whole.declare("spec", &spec);
        whole.declare("containers", &failing);
        let failed = scope.check(&check);
        assert!(failed.is_err(), "its own `containers` fails");
        // With the same message as over the whole object, where nothing is shared.
        assert_eq!(failed, whole.check(&check));
        // A failure the expression does not reach is no failure, as without sharing.
        let unreached = c("false && variables.containers.size() > 0");
        assert_eq!(scope.check(&unreached), Ok(false));
        // One that does not declare it at all fails to read it, as over the whole object.
        let undeclared = Subject::create(&o).covered_by(Some(cover));
        let mut scope = undeclared.scope_for(&lone);
        scope.declare("spec", &spec);
        let whole_subject = Subject::create(&o);
        let mut whole = whole_subject.scope();
        whole.declare("spec", &spec);
        assert_eq!(scope.check(&check), whole.check(&check));
        assert!(whole.check(&check).is_err());
        // A declaration that reads `namespaceObject`, a later variable, or one that does
        // either, is not shared; one after them that reads the object alone is (Gatekeeper
        // declares `params` first).
        let on_ns = c("variables.n + 'x'");
        let d = Reach::of([("n", &ns), ("m", &on_ns)], [&check]);
        let e = Reach::of([("x", &later), ("after", &ns)], [&check]);
        let cover = Cover::new([&d, &d.clone(), &e, &e.clone()]).expect("cover");
        assert!(cover.shared.is_empty(), "{:?}", cover.shared);
        let g = Reach::of([("n", &ns), ("spec", &spec)], [&check]);
        let cover = Cover::new([&g, &g.clone()]).expect("cover");
        assert_eq!(cover.shared.len(), 1);
        assert_eq!(cover.sharing(&g).0, 0b1);
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
