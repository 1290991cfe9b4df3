//! Names that point at nothing, judged from specs when the status cannot say (plain
//! manifests, or workloads whose pods are not in the capture):
//! - ConfigMap and Secret references (env, envFrom, volumes, projected volumes) that name
//!   nothing in the namespace — ConfigMaps from the capture, Secrets from their names only;
//! - claims and `volumeClaimTemplates` naming a StorageClass the capture's list lacks;
//! - nodeSelector, required node affinity and taints that no node of the capture satisfies.
//!
//! Each is judged only when the capture lists what is referred to (some ConfigMap or Secret
//! of that namespace, some StorageClass, some Node): absence from a capture that lists nothing
//! proves nothing. A workload whose pods run is proof the reference resolves, so running pods
//! silence the check.

use super::workload::Workload;
use super::{Context, Draft, evidence};
use crate::findings::{Category, ObjectRef, Severity};
use crate::state::{BUILT_IN_CONFIGMAPS, KeyKind, PodEnvVar, PodVolume};
use k8s_openapi::api::core::v1::{Container, Node, PodSpec, Toleration};
use std::borrow::Cow;
use std::collections::BTreeSet;

pub fn analyze(ctx: &Context, out: &mut Vec<Draft>) {
    for w in &ctx.workloads {
        // Scaled to zero: nothing will start, so nothing is refused.
        if w.replicas == Some(0) || running(ctx, w) {
            continue;
        }
        config_refs(ctx, w, out);
        placement(ctx, w, out);
        anti_affinity(ctx, w, out);
    }
    storage_classes(ctx, out);
}

/// Whether pods carrying the workload's template labels run in its namespace (then whatever
/// the spec refers to exists, whatever the capture lacks).
fn running(ctx: &Context, w: &Workload) -> bool {
    pods_of(ctx, w, |p| {
        p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running")
    })
}

/// Whether a pod of the workload was placed on a node: proof some node satisfies it, even
/// when the capture's node labels are incomplete.
fn scheduled(ctx: &Context, w: &Workload) -> bool {
    pods_of(ctx, w, |p| {
        p.spec
            .as_ref()
            .and_then(|s| s.node_name.as_deref())
            .is_some()
    })
}

fn pods_of(
    ctx: &Context,
    w: &Workload,
    test: impl Fn(&k8s_openapi::api::core::v1::Pod) -> bool,
) -> bool {
    let Some(labels) = w.labels.filter(|l| !l.is_empty()) else {
        return false;
    };
    ctx.pods_in.get(w.ns()).into_iter().flatten().any(|p| {
        test(p)
            && p.metadata
                .labels
                .as_ref()
                .is_some_and(|pl| labels.iter().all(|(k, v)| pl.get(k) == Some(v)))
    })
}

/// (kind, name, where) of every ConfigMap and Secret a pod spec needs (optional ones left out),
/// its volumes and each container's variables as the state keeps them (`Workload::volumes`,
/// `Workload::env`).
fn needed<'a>(
    spec: &'a PodSpec,
    volumes: &[PodVolume],
    env: impl Fn(&'a Container) -> Cow<'a, [PodEnvVar]>,
) -> Vec<(&'static str, String, String)> {
    let mut out = Vec::new();
    let containers = spec
        .init_containers
        .iter()
        .flatten()
        .chain(spec.containers.iter());
    for c in containers {
        for e in env(c).iter() {
            let Some((kind, name, optional)) = &e.key_ref else {
                continue;
            };
            if *optional == Some(true) {
                continue;
            }
            let (kind, how) = match kind {
                KeyKind::Secret => ("Secret", "secretKeyRef"),
                KeyKind::ConfigMap => ("ConfigMap", "configMapKeyRef"),
            };
            out.push((
                kind,
                name.clone(),
                format!("container {}: env {} {how}", c.name, e.name),
            ));
        }
        for f in c.env_from.iter().flatten() {
            if let Some(r) = &f.secret_ref
                && r.optional != Some(true)
            {
                out.push((
                    "Secret",
                    r.name.clone(),
                    format!("container {}: envFrom secretRef", c.name),
                ));
            }
            if let Some(r) = &f.config_map_ref
                && r.optional != Some(true)
            {
                out.push((
                    "ConfigMap",
                    r.name.clone(),
                    format!("container {}: envFrom configMapRef", c.name),
                ));
            }
        }
    }
    for v in volumes {
        if let Some(s) = &v.secret
            && s.optional != Some(true)
        {
            out.push(("Secret", s.name.clone(), format!("volume {}", v.name)));
        }
        if let Some(c) = &v.config_map
            && c.optional != Some(true)
        {
            out.push(("ConfigMap", c.name.clone(), format!("volume {}", v.name)));
        }
        for src in &v.projected {
            if let Some(s) = &src.secret
                && s.optional != Some(true)
            {
                out.push((
                    "Secret",
                    s.name.clone(),
                    format!("projected volume {}", v.name),
                ));
            }
            if let Some(c) = &src.config_map
                && c.optional != Some(true)
            {
                out.push((
                    "ConfigMap",
                    c.name.clone(),
                    format!("projected volume {}", v.name),
                ));
            }
        }
    }
    out.retain(|(k, n, _)| {
        let built_in = *k == "ConfigMap" && BUILT_IN_CONFIGMAPS.contains(&n.as_str());
        !(n.is_empty() || built_in)
    });
    out
}

fn config_refs(ctx: &Context, w: &Workload, out: &mut Vec<Draft>) {
    let st = ctx.state;
    let ns = w.ns();
    let secrets_listed = st.secret_names.iter().any(|(n, _)| n == ns);
    let config_maps: BTreeSet<&str> = st
        .config_maps
        .iter()
        .filter(|c| c.metadata.namespace.as_deref() == Some(ns))
        .filter_map(|c| c.metadata.name.as_deref())
        .collect();
    let mut missing: Vec<(&'static str, String, Vec<String>)> = Vec::new();
    for (kind, name, at) in needed(w.spec, &w.volumes(st), |c| w.env(st, c)) {
        let absent = match kind {
            "Secret" => {
                secrets_listed && !st.secret_names.contains(&(ns.to_string(), name.clone()))
            }
            _ => {
                !config_maps.is_empty()
                    && !config_maps.contains(name.as_str())
                    && config_maps.iter().any(|c| !BUILT_IN_CONFIGMAPS.contains(c))
            }
        };
        // Pasted evidence proves absence only by a complete listing or kubectl's NotFound.
        let absent = (absent || st.evidence.said_absent(kind, ns, &name))
            && st.evidence.missing_is_fact(kind, ns, &name);
        if !absent {
            continue;
        }
        match missing
            .iter_mut()
            .find(|(k, n, _)| *k == kind && *n == name)
        {
            Some((_, _, places)) => places.push(at),
            None => missing.push((kind, name, vec![at])),
        }
    }
    if missing.is_empty() {
        return;
    }
    // One finding per workload (its identity is category + object), naming every reference.
    let named: Vec<String> = missing.iter().map(|(k, n, _)| format!("{k} {n}")).collect();
    let mut d = w.draft(
        Severity::Critical,
        Category::CreateContainerConfigError,
        format!(
            "{} {} references {}, which {}",
            w.kind,
            w.name(),
            named.join(" and "),
            if named.len() == 1 {
                "does not exist"
            } else {
                "do not exist"
            }
        ),
    );
    let mut why = Vec::new();
    let mut fixes = Vec::new();
    for (kind, name, places) in &missing {
        let known: Vec<String> = if *kind == "Secret" {
            st.secret_names
                .iter()
                .filter(|(n, _)| n == ns)
                .map(|(_, s)| s.clone())
                .collect()
        } else {
            config_maps.iter().map(|s| s.to_string()).collect()
        };
        let close = crate::analyzers::text::closest(name, known.iter().map(String::as_str));
        why.push(format!(
            "{kind} {name} ({}) is not in namespace {ns}.{}",
            places.join("; "),
            close
                .as_ref()
                .map(|c| format!(" Did you mean {kind} {c}?"))
                .unwrap_or_default()
        ));
        fixes.push(format!(
            "create {kind} {name} in namespace {ns}{}",
            close
                .map(|c| format!(" or point the reference at {c}"))
                .unwrap_or_default()
        ));
        for p in places {
            d.evidence.push(evidence::spec(
                format!("{p}: {kind} {name}"),
                w.kind,
                ns,
                w.name(),
            ));
        }
    }
    d.explanation = format!(
        "{} {}'s pods will not start (CreateContainerConfigError, or ContainerCreating with FailedMount for a volume): {}{}",
        w.kind.to_ascii_lowercase(),
        w.name(),
        why.join(" "),
        if missing.iter().any(|(k, _, _)| *k == "Secret") {
            " (Sextant knows Secrets by name only; it never reads them.)"
        } else {
            ""
        }
    );
    let mut fix = fixes.join("; ");
    if let Some(first) = fix.get(..1) {
        fix = first.to_uppercase() + &fix[1..];
    }
    d.remediation = format!("{fix} — or correct the names in the references.");
    out.push(d);
}

fn tolerates(tolerations: &[Toleration], key: &str, value: Option<&str>, effect: &str) -> bool {
    tolerations.iter().any(|t| {
        let effect_ok = t
            .effect
            .as_deref()
            .is_none_or(|e| e.is_empty() || e == effect);
        let key_ok = t.key.as_deref().is_none_or(|k| k.is_empty() || k == key);
        let value_ok = match t.operator.as_deref() {
            Some("Exists") => true,
            _ => t.value.as_deref().unwrap_or("") == value.unwrap_or(""),
        };
        effect_ok && key_ok && (value_ok || t.key.is_none())
    })
}

/// Why a node cannot run the pod spec, if it cannot.
fn refuses(spec: &PodSpec, node: &Node) -> Option<String> {
    let empty = Default::default();
    let labels = node.metadata.labels.as_ref().unwrap_or(&empty);
    if let Some(sel) = &spec.node_selector {
        for (k, v) in sel {
            if labels.get(k) != Some(v) {
                return Some(format!("nodeSelector {k}={v}"));
            }
        }
    }
    if let Some(req) = spec
        .affinity
        .as_ref()
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|n| {
            n.required_during_scheduling_ignored_during_execution
                .as_ref()
        })
    {
        let any_term = req.node_selector_terms.iter().any(|t| {
            t.match_expressions.iter().flatten().all(|e| {
                let v = labels.get(&e.key);
                let vals = e.values.as_deref().unwrap_or(&[]);
                match e.operator.as_str() {
                    "In" => v.is_some_and(|v| vals.contains(v)),
                    "NotIn" => v.is_none_or(|v| !vals.contains(v)),
                    "Exists" => v.is_some(),
                    "DoesNotExist" => v.is_none(),
                    // Gt/Lt and field selectors: not judged, assume satisfied.
                    _ => true,
                }
            })
        });
        if !any_term {
            return Some("required node affinity".to_string());
        }
    }
    let tolerations = spec.tolerations.as_deref().unwrap_or(&[]);
    for t in node
        .spec
        .as_ref()
        .and_then(|s| s.taints.as_ref())
        .into_iter()
        .flatten()
    {
        if matches!(t.effect.as_str(), "NoSchedule" | "NoExecute")
            && !tolerates(tolerations, &t.key, t.value.as_deref(), &t.effect)
        {
            return Some(format!(
                "taint {}{}:{}",
                t.key,
                t.value
                    .as_deref()
                    .map(|v| format!("={v}"))
                    .unwrap_or_default(),
                t.effect
            ));
        }
    }
    None
}

fn placement(ctx: &Context, w: &Workload, out: &mut Vec<Draft>) {
    let nodes = &ctx.state.nodes;
    if nodes.is_empty()
        || scheduled(ctx, w)
        || w.replicas == Some(0)
        || !matches!(
            w.kind,
            "Deployment" | "StatefulSet" | "DaemonSet" | "Pod" | "Job" | "ReplicaSet"
        )
    {
        return;
    }
    let constrained = w.spec.node_selector.as_ref().is_some_and(|s| !s.is_empty())
        || w.spec
            .affinity
            .as_ref()
            .and_then(|a| a.node_affinity.as_ref())
            .is_some_and(|n| {
                n.required_during_scheduling_ignored_during_execution
                    .is_some()
            });
    // Taints alone are the nodes' choice; a pod with no placement wish on a fully tainted
    // cluster is reported by the scheduler's own events once it exists.
    if !constrained {
        return;
    }
    let reasons: Vec<(String, String)> = nodes
        .iter()
        .filter_map(|n| {
            let why = refuses(w.spec, n)?;
            Some((n.metadata.name.clone().unwrap_or_default(), why))
        })
        .collect();
    if reasons.len() < nodes.len() {
        return;
    }
    let mut why: Vec<String> = reasons
        .iter()
        .map(|(_, w)| w.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    why.truncate(4);
    let mut d = w.draft(
        Severity::Critical,
        Category::Unschedulable,
        format!(
            "{} {}: no node satisfies its placement ({})",
            w.kind,
            w.name(),
            why.join("; ")
        ),
    );
    d.explanation = format!(
        "None of the {} nodes in the capture can run {} {}'s pods: each refuses them ({}). The scheduler will leave them Pending.",
        nodes.len(),
        w.kind.to_ascii_lowercase(),
        w.name(),
        why.join("; ")
    );
    for (node, reason) in reasons.iter().take(6) {
        d.evidence.push(evidence::spec(
            format!("node {node}: {reason}"),
            w.kind,
            w.ns(),
            w.name(),
        ));
    }
    d.remediation = "Make the nodeSelector/affinity match labels that nodes have (`kubectl get nodes --show-labels`), label a node to match, or add a toleration for the taint.".into();
    out.push(d);
}

/// Replicas that require to be apart from each other (required pod anti-affinity on their own
/// labels, per node) need as many eligible nodes as replicas: with fewer, the rest stay
/// Pending. Judged only when the workload's pods are not in the capture (then the scheduler's
/// own events on the Pending pods say it).
fn anti_affinity(ctx: &Context, w: &Workload, out: &mut Vec<Draft>) {
    let nodes = &ctx.state.nodes;
    if nodes.is_empty() || !matches!(w.kind, "Deployment" | "StatefulSet" | "ReplicaSet") {
        return;
    }
    let replicas = w.replicas.unwrap_or(1);
    if replicas <= 1 || pods_of(ctx, w, |p| p.status.is_some()) {
        return;
    }
    let per_node = w
        .spec
        .affinity
        .as_ref()
        .and_then(|a| a.pod_anti_affinity.as_ref())
        .and_then(|p| {
            p.required_during_scheduling_ignored_during_execution
                .as_ref()
        })
        .is_some_and(|terms| {
            terms.iter().any(|t| {
                t.topology_key == "kubernetes.io/hostname"
                    && t.label_selector.as_ref().is_some_and(|s| {
                        !super::selector::is_empty(s) && super::selector::matches(s, w.labels)
                    })
            })
        });
    if !per_node {
        return;
    }
    let eligible = nodes
        .iter()
        .filter(|n| n.spec.as_ref().and_then(|s| s.unschedulable) != Some(true))
        .filter(|n| refuses(w.spec, n).is_none())
        .count();
    // None eligible at all is the placement check's finding.
    if eligible == 0 || eligible as i32 >= replicas {
        return;
    }
    let stuck = replicas - eligible as i32;
    let mut d = w.draft(
        Severity::Critical,
        Category::Unschedulable,
        format!(
            "{} {}: {stuck} of {replicas} replicas cannot be placed (required anti-affinity, one per node, {eligible} eligible node(s))",
            w.kind,
            w.name()
        ),
    );
    d.explanation = format!(
        "{} {} asks for {replicas} replicas that must each run on a different node (required podAntiAffinity on its own labels, topologyKey kubernetes.io/hostname), but only {eligible} node(s) of the capture can take one: {stuck} replica(s) will stay Pending.",
        w.kind,
        w.name()
    );
    d.evidence.push(evidence::spec(
        format!("replicas: {replicas}; podAntiAffinity required, topologyKey kubernetes.io/hostname; eligible nodes: {eligible}"),
        w.kind,
        w.ns(),
        w.name(),
    ));
    d.remediation = "Add nodes, lower the replicas to the node count, or make the anti-affinity preferred (preferredDuringSchedulingIgnoredDuringExecution) instead of required.".into();
    out.push(d);
}

/// Claims (of any phase but Bound) and StatefulSet volumeClaimTemplates naming a StorageClass
/// that the capture's list of StorageClasses lacks. A Pending claim is already explained by
/// the storage analyzer; this covers the claims without status and the templates.
fn storage_classes(ctx: &Context, out: &mut Vec<Draft>) {
    let st = ctx.state;
    if st.storage_classes.is_empty() {
        return;
    }
    let classes: Vec<&str> = st
        .storage_classes
        .iter()
        .filter_map(|s| s.metadata.name.as_deref())
        .collect();
    let missing = |c: &Option<String>| -> Option<String> {
        let c = c.as_deref().filter(|c| !c.is_empty())?;
        (!classes.contains(&c)).then(|| c.to_string())
    };
    for pvc in &st.pvcs {
        if pvc
            .status
            .as_ref()
            .and_then(|s| s.phase.as_deref())
            .is_some()
        {
            continue; // Pending/Lost: the storage analyzer; Bound: it exists
        }
        let Some(c) = missing(&pvc.spec.as_ref().and_then(|s| s.storage_class_name.clone())) else {
            continue;
        };
        let ns = pvc.metadata.namespace.as_deref().unwrap_or("default");
        let name = pvc.metadata.name.as_deref().unwrap_or("");
        out.push(class_draft(
            "PersistentVolumeClaim",
            ns,
            name,
            &format!("claim {name}"),
            &c,
            &classes,
        ));
    }
    for s in &st.stateful_sets {
        let ns = s.metadata.namespace.as_deref().unwrap_or("default");
        let name = s.metadata.name.as_deref().unwrap_or("");
        for t in s
            .spec
            .iter()
            .flat_map(|sp| sp.volume_claim_templates.iter().flatten())
        {
            let Some(c) = missing(&t.spec.as_ref().and_then(|s| s.storage_class_name.clone()))
            else {
                continue;
            };
            // The claims exist and bound: the class existed when they were made.
            let tname = t.metadata.name.as_deref().unwrap_or("");
            let bound = st.pvcs.iter().any(|p| {
                p.metadata.namespace.as_deref() == Some(ns)
                    && p.metadata
                        .name
                        .as_deref()
                        .is_some_and(|n| n.starts_with(&format!("{tname}-{name}-")))
                    && p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Bound")
            });
            if bound {
                continue;
            }
            out.push(class_draft(
                "StatefulSet",
                ns,
                name,
                &format!("volumeClaimTemplate {tname}"),
                &c,
                &classes,
            ));
        }
    }
}

fn class_draft(
    kind: &str,
    ns: &str,
    name: &str,
    what: &str,
    class: &str,
    classes: &[&str],
) -> Draft {
    let close = crate::analyzers::text::closest(class, classes.iter().copied());
    Draft {
        severity: Severity::Critical,
        category: Category::PVCPending,
        object: ObjectRef::new(kind, Some(ns), name),
        owner: None,
        title: format!("{kind} {name}: {what} asks for StorageClass {class}, which does not exist"),
        explanation: format!(
            "{what} of {} {name} asks for StorageClass {class}; the cluster has {}. No volume will be provisioned, the claim stays Pending and so do the pods that mount it.{}",
            kind.to_ascii_lowercase(),
            classes.join(", "),
            close
                .as_ref()
                .map(|c| format!(" Did you mean {c}?"))
                .unwrap_or_default()
        ),
        evidence: vec![evidence::spec(
            format!("{what}: storageClassName: {class}"),
            kind,
            ns,
            name,
        )],
        remediation: format!(
            "Use an existing StorageClass ({}) — storageClassName is immutable on a claim, so change the manifest and re-create the claim.",
            classes.join(", ")
        ),
        score: 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn projected_sources_are_needed() {
        let spec: PodSpec = serde_json::from_value(serde_json::json!({
            "containers": [{"name": "a"}],
            "volumes": [{"name": "certs", "projected": {"sources": [
                {"configMap": {"name": "kube-root-ca.crt"}}, {"secret": {"name": "shop-tls"}}]}}]
        }))
        .expect("spec");
        let volumes: Vec<PodVolume> = spec.volumes.iter().flatten().map(Into::into).collect();
        let whole = crate::state::ClusterState::default();
        let meta = Default::default();
        let n = needed(&spec, &volumes, |c| whole.env_of("Pod", &meta, c));
        assert_eq!(n.len(), 1, "{n:?}");
        assert_eq!(n[0].1, "shop-tls");
    }
}
