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
    let mut links: Vec<(usize, usize, String)> = Vec::new();
    for (fi, f) in findings.iter().enumerate() {
        let texts: Vec<&str> = f
            .evidence
            .iter()
            .filter(|e| matches!(e.source, EvidenceSource::Log | EvidenceSource::Event))
            .map(|e| e.text.as_str())
            .collect();
        if texts.is_empty() {
            continue;
        }
        let own_ns = f.object.namespace.as_deref().unwrap_or("");
        for (ns, name, target) in &down {
            if *target == fi {
                continue;
            }
            let fq = format!("{name}.{ns}.svc");
            let with_port = format!("{name}:");
            let same_ns_port = |t: &str| {
                own_ns == ns
                    && t.match_indices(&with_port).any(|(i, m)| {
                        let before_ok = i == 0
                            || !t.as_bytes()[i - 1].is_ascii_alphanumeric()
                                && t.as_bytes()[i - 1] != b'-';
                        before_ok && t[i + m.len()..].starts_with(|c: char| c.is_ascii_digit())
                    })
            };
            if texts.iter().any(|t| t.contains(&fq) || same_ns_port(t)) {
                links.push((fi, *target, format!("{name}.{ns}")));
                break;
            }
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
