//! Cause across objects: a finding whose log or events name a Service (`search.shop.svc`,
//! `postgres.data.svc`, `search:9200` in the same namespace) that is down because of another
//! finding gets a pointer to it, so the reader follows the chain to the root cause.

use super::Context;
use super::selector::matches_map;
use crate::findings::{EvidenceSource, Finding};

pub fn link(ctx: &Context, findings: &mut [Finding]) {
    // Service → the finding that explains why it has no endpoints. Indexed once (services ×
    // findings × pods was quadratic on clusters of thousands of each): the first finding, in
    // report order, that is the Service's own ServiceNoEndpoints, else the first critical Pod
    // finding about one of its pods.
    use crate::findings::{Category, Severity};
    use std::collections::HashMap;
    let mut direct: HashMap<(&str, &str), usize> = HashMap::new();
    let mut by_pod: HashMap<(&str, &str), usize> = HashMap::new();
    for (i, f) in findings.iter().enumerate() {
        let ns = f.object.namespace.as_deref().unwrap_or("");
        if f.category == Category::ServiceNoEndpoints {
            direct.entry((ns, f.object.name.as_str())).or_insert(i);
        }
        if f.severity == Severity::Critical && f.object.kind == "Pod" {
            for name in std::iter::once(&f.object.name).chain(&f.affected) {
                by_pod.entry((ns, name.as_str())).or_insert(i);
            }
        }
    }
    let mut pods_in: HashMap<&str, Vec<&k8s_openapi::api::core::v1::Pod>> = HashMap::new();
    for p in &ctx.state.pods {
        if let Some(ns) = p.metadata.namespace.as_deref() {
            pods_in.entry(ns).or_default().push(p);
        }
    }
    let mut down: Vec<(String, String, usize)> = Vec::new();
    for svc in &ctx.state.services {
        let (Some(ns), Some(name)) = (
            svc.metadata.namespace.as_deref(),
            svc.metadata.name.as_deref(),
        ) else {
            continue;
        };
        let via_pods = || {
            let sel = svc.spec.as_ref()?.selector.as_ref()?;
            pods_in
                .get(ns)?
                .iter()
                .filter(|p| matches_map(sel, p.metadata.labels.as_ref()))
                .filter_map(|p| by_pod.get(&(ns, p.metadata.name.as_deref()?)))
                .min()
                .copied()
        };
        if let Some(i) = direct.get(&(ns, name)).copied().or_else(via_pods) {
            down.push((ns.to_string(), name.to_string(), i));
        }
    }
    if down.is_empty() {
        return;
    }
    // Every down Service's two names searched at once in each text (a search per Service per
    // finding was quadratic): `name.ns.svc` anywhere, and `name:PORT` from the same namespace.
    // One pattern per distinct needle (two Services of one name share `name:`), each with
    // the Services it stands for: (index in `down`, whether it is the full name).
    let mut needles: Vec<String> = Vec::new();
    let mut of_needle: Vec<Vec<(usize, bool)>> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (k, (ns, name, _)) in down.iter().enumerate() {
        for (needle, full) in [
            (format!("{name}.{ns}.svc"), true),
            (format!("{name}:"), false),
        ] {
            let p = *seen.entry(needle.clone()).or_insert_with(|| {
                needles.push(needle);
                of_needle.push(Vec::new());
                needles.len() - 1
            });
            of_needle[p].push((k, full));
        }
    }
    let Ok(ac) = aho_corasick::AhoCorasick::new(&needles) else {
        return;
    };
    let mut links: Vec<(usize, usize, String)> = Vec::new();
    for (fi, f) in findings.iter().enumerate() {
        let own_ns = f.object.namespace.as_deref().unwrap_or("");
        // The first down Service (in their order) a text names, as a scan in that order
        // would find it.
        let mut first: Option<usize> = None;
        let texts = f
            .evidence
            .iter()
            .filter(|e| matches!(e.source, EvidenceSource::Log | EvidenceSource::Event))
            .map(|e| e.text.as_str());
        for t in texts {
            for m in ac.find_overlapping_iter(t) {
                for &(k, full) in of_needle.get(m.pattern().as_usize()).into_iter().flatten() {
                    let (ns, _, target) = &down[k];
                    if *target == fi || first.is_some_and(|f| f <= k) {
                        continue;
                    }
                    let named = full || {
                        let (i, b) = (m.start(), t.as_bytes());
                        let before_ok =
                            i == 0 || !b[i - 1].is_ascii_alphanumeric() && b[i - 1] != b'-';
                        own_ns == ns
                            && before_ok
                            && t[m.end()..].starts_with(|c: char| c.is_ascii_digit())
                    };
                    if named {
                        first = Some(k);
                    }
                }
            }
        }
        if let Some(k) = first {
            let (ns, name, target) = &down[k];
            links.push((fi, *target, format!("{name}.{ns}")));
        }
    }
    for (fi, target, svc) in links {
        let (tid, ttitle) = (findings[target].id.clone(), findings[target].title.clone());
        let f = &mut findings[fi];
        if !f.related.contains(&tid) {
            f.related.push(tid.clone());
            f.explanation.push_str(&format!(
                " Related: it depends on Service {svc}, which is down — {ttitle} ({tid})."
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::{Category, Evidence, ObjectRef, Severity};
    use crate::state::ClusterState;

    fn finding(
        id: &str,
        category: Category,
        kind: &str,
        ns: &str,
        name: &str,
        logs: &[&str],
    ) -> Finding {
        Finding {
            id: id.into(),
            severity: Severity::Critical,
            category,
            object: ObjectRef {
                kind: kind.into(),
                namespace: Some(ns.into()),
                name: name.into(),
            },
            owner: None,
            title: format!("{name} is down"),
            explanation: String::new(),
            evidence: logs
                .iter()
                .map(|t| Evidence {
                    source: EvidenceSource::Log,
                    text: (*t).into(),
                    reference: String::new(),
                })
                .collect(),
            remediation: String::new(),
            guidance: Vec::new(),
            affected: Vec::new(),
            related: Vec::new(),
            score: 0,
        }
    }

    fn service(ns: &str, name: &str) -> k8s_openapi::api::core::v1::Service {
        serde_json::from_value(serde_json::json!({
            "metadata": {"namespace": ns, "name": name},
            "spec": {"selector": {"app": name}}
        }))
        .expect("service")
    }

    /// A log that names a down Service (fully, or `name:PORT` from its own namespace) points at
    /// the finding that explains it; the first down Service it names, in their order, wins.
    #[test]
    fn a_log_naming_a_down_service_points_at_its_finding() {
        let mut st = ClusterState::default();
        st.services = vec![
            service("a", "db"),
            service("b", "db"),
            service("a", "cache"),
        ];
        let ctx = Context::new(&st);
        let mut findings = vec![
            finding(
                "F-1",
                Category::ServiceNoEndpoints,
                "Service",
                "a",
                "db",
                &[],
            ),
            finding(
                "F-2",
                Category::ServiceNoEndpoints,
                "Service",
                "b",
                "db",
                &[],
            ),
            finding(
                "F-3",
                Category::ServiceNoEndpoints,
                "Service",
                "a",
                "cache",
                &[],
            ),
            // `db:5432` from namespace b is b's db; `cache.a.svc` is named too, but later.
            finding(
                "F-4",
                Category::CrashLoopBackOff,
                "Pod",
                "b",
                "web",
                &["dial cache.a.svc:6379 and db:5432: refused"],
            ),
            // A longer name that ends in `db:` is not `db`; a port must follow.
            finding(
                "F-5",
                Category::CrashLoopBackOff,
                "Pod",
                "a",
                "x",
                &["mydb:5432 down", "my-db:1", "db:none"],
            ),
            finding(
                "F-6",
                Category::CrashLoopBackOff,
                "Pod",
                "c",
                "y",
                &["db:5432 refused", "to cache.a.svc"],
            ),
            // The full name from any namespace; its own Service never points at itself.
            finding(
                "F-7",
                Category::CrashLoopBackOff,
                "Pod",
                "a",
                "z",
                &["(db:5432)"],
            ),
        ];
        findings[0].evidence.push(Evidence {
            source: EvidenceSource::Event,
            text: "db.a.svc unreachable".into(),
            reference: String::new(),
        });
        link(&ctx, &mut findings);
        let related: Vec<Vec<String>> = findings.iter().map(|f| f.related.clone()).collect();
        assert_eq!(
            related[3],
            ["F-2"],
            "the first down Service named, in order"
        );
        assert!(related[4].is_empty(), "{:?}", related[4]);
        assert_eq!(related[5], ["F-3"], "the full name from another namespace");
        assert_eq!(related[6], ["F-1"]);
        assert!(related[0].is_empty(), "a finding never points at itself");
        assert!(
            findings[3]
                .explanation
                .contains("depends on Service db.b, which is down")
        );
    }
}
