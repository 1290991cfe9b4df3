//! What Sextant reads from a cluster: one row per kind. This table is the whole read surface —
//! the collector lists exactly these, `doctor` checks exactly these, and `deploy/rbac.yaml`
//! grants exactly these (a test keeps the three in step). Secrets are not in it.

/// One readable kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KindSpec {
    pub kind: &'static str,
    /// API group; "" is the core group.
    pub group: &'static str,
    pub version: &'static str,
    pub plural: &'static str,
    pub namespaced: bool,
    /// File name in a cluster-info-dump layout (`pods.json`), as `snapshot save` writes it.
    pub file: &'static str,
}

impl KindSpec {
    /// `group/version` (or `v1` for core).
    pub fn group_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// The list path: cluster-wide, or in one namespace for namespaced kinds.
    pub fn list_path(&self, namespace: Option<&str>) -> String {
        let prefix = if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        };
        match namespace {
            Some(ns) if self.namespaced => format!("{prefix}/namespaces/{ns}/{}", self.plural),
            _ => format!("{prefix}/{}", self.plural),
        }
    }

    /// `pods`, `deployments.apps`: how RBAC and `kubectl auth can-i` name the resource.
    pub fn resource(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }
}

const fn k(
    kind: &'static str,
    group: &'static str,
    version: &'static str,
    plural: &'static str,
    namespaced: bool,
    file: &'static str,
) -> KindSpec {
    KindSpec {
        kind,
        group,
        version,
        plural,
        namespaced,
        file,
    }
}

/// Every kind the analyzers read (the same set the snapshot reader understands).
pub const KINDS: &[KindSpec] = &[
    k("Node", "", "v1", "nodes", false, "nodes.json"),
    k(
        "Namespace",
        "",
        "v1",
        "namespaces",
        false,
        "namespaces.json",
    ),
    k(
        "PersistentVolume",
        "",
        "v1",
        "persistentvolumes",
        false,
        "persistentvolumes.json",
    ),
    k(
        "StorageClass",
        "storage.k8s.io",
        "v1",
        "storageclasses",
        false,
        "storageclasses.json",
    ),
    k(
        "IngressClass",
        "networking.k8s.io",
        "v1",
        "ingressclasses",
        false,
        "ingressclasses.json",
    ),
    k("Pod", "", "v1", "pods", true, "pods.json"),
    k("Event", "", "v1", "events", true, "events.json"),
    k("Service", "", "v1", "services", true, "services.json"),
    k(
        "ReplicationController",
        "",
        "v1",
        "replicationcontrollers",
        true,
        "replication-controllers.json",
    ),
    k(
        "PersistentVolumeClaim",
        "",
        "v1",
        "persistentvolumeclaims",
        true,
        "persistentvolumeclaims.json",
    ),
    k(
        "ServiceAccount",
        "",
        "v1",
        "serviceaccounts",
        true,
        "serviceaccounts.json",
    ),
    k("ConfigMap", "", "v1", "configmaps", true, "configmaps.json"),
    k(
        "ResourceQuota",
        "",
        "v1",
        "resourcequotas",
        true,
        "resourcequotas.json",
    ),
    k(
        "Deployment",
        "apps",
        "v1",
        "deployments",
        true,
        "deployments.json",
    ),
    k(
        "ReplicaSet",
        "apps",
        "v1",
        "replicasets",
        true,
        "replicasets.json",
    ),
    k(
        "StatefulSet",
        "apps",
        "v1",
        "statefulsets",
        true,
        "statefulsets.json",
    ),
    k(
        "DaemonSet",
        "apps",
        "v1",
        "daemonsets",
        true,
        "daemonsets.json",
    ),
    k("Job", "batch", "v1", "jobs", true, "jobs.json"),
    k("CronJob", "batch", "v1", "cronjobs", true, "cronjobs.json"),
    k(
        "EndpointSlice",
        "discovery.k8s.io",
        "v1",
        "endpointslices",
        true,
        "endpointslices.json",
    ),
    k(
        "Ingress",
        "networking.k8s.io",
        "v1",
        "ingresses",
        true,
        "ingresses.json",
    ),
    k(
        "NetworkPolicy",
        "networking.k8s.io",
        "v1",
        "networkpolicies",
        true,
        "networkpolicies.json",
    ),
    k(
        "PodDisruptionBudget",
        "policy",
        "v1",
        "poddisruptionbudgets",
        true,
        "poddisruptionbudgets.json",
    ),
    k(
        "HorizontalPodAutoscaler",
        "autoscaling",
        "v2",
        "horizontalpodautoscalers",
        true,
        "horizontalpodautoscalers.json",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_resources() {
        let pods = KINDS.iter().find(|k| k.kind == "Pod").expect("pods");
        assert_eq!(pods.list_path(None), "/api/v1/pods");
        assert_eq!(pods.list_path(Some("shop")), "/api/v1/namespaces/shop/pods");
        let d = KINDS.iter().find(|k| k.kind == "Deployment").expect("d");
        assert_eq!(
            d.list_path(Some("shop")),
            "/apis/apps/v1/namespaces/shop/deployments"
        );
        assert_eq!(d.resource(), "deployments.apps");
        let n = KINDS.iter().find(|k| k.kind == "Node").expect("n");
        assert_eq!(n.list_path(Some("shop")), "/api/v1/nodes");
        assert!(
            KINDS
                .iter()
                .all(|k| k.kind != "Secret" && k.plural != "secrets")
        );
    }
}
