//! Which kind an object is when its list or item does not say: from the file's name or
//! folders, from a plural (`pods` → Pod), or from the object's own shape.

use super::*;

/// The kind a file's items probably are, from its name (`pods.json` → Pod) or, failing that,
/// the folders it sits in (`config/pod/NS/x.json`, `events/NS.json`), for dumps whose lists
/// and items carry no `kind`.
pub(super) fn kind_hint(file: &Path) -> Option<&'static str> {
    let stem = file.file_stem()?.to_string_lossy().to_ascii_lowercase();
    if let Some(k) = kind_for_plural(&stem) {
        return Some(k);
    }
    file.parent()?
        .components()
        .rev()
        .take(3)
        .filter_map(|c| match c {
            Component::Normal(s) => kind_for_plural(&s.to_string_lossy().to_ascii_lowercase()),
            _ => None,
        })
        .next()
}

/// Resource name (plural, singular or short, lower case) → kind.
pub(crate) fn kind_for_plural(name: &str) -> Option<&'static str> {
    Some(match name {
        "pods" | "pod" | "po" => "Pod",
        "events" | "event" | "ev" => "Event",
        "nodes" | "node" | "no" => "Node",
        "services" | "service" | "svc" => "Service",
        "deployments" | "deployment" | "deploy" => "Deployment",
        "replicasets" | "replicaset" | "rs" => "ReplicaSet",
        "daemonsets" | "daemonset" | "ds" => "DaemonSet",
        "statefulsets" | "statefulset" | "sts" => "StatefulSet",
        "replication-controllers" | "replicationcontrollers" | "rc" => "ReplicationController",
        "jobs" | "job" => "Job",
        "cronjobs" | "cronjob" | "cj" => "CronJob",
        "persistentvolumeclaims" | "pvcs" | "pvc" => "PersistentVolumeClaim",
        "persistentvolumes" | "pvs" | "pv" => "PersistentVolume",
        "ingresses" | "ingress" | "ing" => "Ingress",
        "ingressclasses" | "ingressclass" => "IngressClass",
        "networkpolicies" | "networkpolicy" | "netpol" => "NetworkPolicy",
        "horizontalpodautoscalers" | "horizontalpodautoscaler" | "hpas" | "hpa" => {
            "HorizontalPodAutoscaler"
        }
        "poddisruptionbudgets" | "poddisruptionbudget" | "pdbs" | "pdb" => "PodDisruptionBudget",
        "endpointslices" | "endpointslice" => "EndpointSlice",
        "storageclasses" | "storageclass" | "sc" => "StorageClass",
        "namespaces" | "namespace" | "ns" => "Namespace",
        "resourcequotas" | "resourcequota" | "quota" => "ResourceQuota",
        "configmaps" | "configmap" | "cm" => "ConfigMap",
        "serviceaccounts" | "serviceaccount" | "sa" => "ServiceAccount",
        "persistentvolumeclaim" => "PersistentVolumeClaim",
        "persistentvolume" => "PersistentVolume",
        "replicationcontroller" => "ReplicationController",
        "secrets" | "secret" => "Secret",
        "endpoints" | "ep" => "Endpoints",
        _ => return None,
    })
}

/// The kind of an object that does not say: from its `selfLink`
/// (`/api/v1/namespaces/NS/pods/NAME`), else from its shape.
pub(super) fn infer_kind(obj: &Value) -> Option<&'static str> {
    if let Some(link) = obj.at("/metadata/selfLink").and_then(Value::as_str) {
        let parts: Vec<&str> = link.trim_matches('/').split('/').collect();
        if parts.len() >= 2
            && let Some(k) = kind_for_plural(parts[parts.len() - 2])
        {
            return Some(k);
        }
    }
    if obj.at("/spec/containers").is_some() {
        Some("Pod")
    } else if obj.at("/status/nodeInfo").is_some() {
        Some("Node")
    } else if obj.get("involvedObject").is_some()
        || (obj.get("reason").is_some() && obj.get("message").is_some())
    {
        Some("Event")
    } else {
        None
    }
}
