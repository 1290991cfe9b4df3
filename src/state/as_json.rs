//! Workloads kept as their JSON text instead of typed objects: what `policy check` reads of a
//! snapshot. A policy sees each object as JSON, so holding the typed model of every pod and
//! controller (25 KB in memory for a pod that is 4–5 KB of compact JSON) only to turn each one
//! into JSON again is most of the check's memory on a large cluster.
//!
//! The text is the typed object written out (`serde_json::to_string`), so a policy sees
//! exactly what it sees of the typed state: the same fields, `apiVersion` and `kind` as the
//! typed model writes them.

use super::ClusterState;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;

/// The kinds a policy check evaluates (controllers and pods), in the order it reports them.
pub const WORKLOAD_KINDS: [&str; 8] = [
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "CronJob",
    "ReplicaSet",
    "Job",
    "ReplicationController",
    "Pod",
];

/// One workload as compact JSON.
#[derive(Debug, Clone)]
pub struct WorkloadJson {
    /// One of [`WORKLOAD_KINDS`].
    pub kind: &'static str,
    pub namespace: Option<Box<str>>,
    pub name: Box<str>,
    pub json: Box<str>,
}

impl WorkloadJson {
    /// Where its kind stands in [`WORKLOAD_KINDS`] (the check's order).
    pub fn rank(&self) -> usize {
        WORKLOAD_KINDS
            .iter()
            .position(|k| *k == self.kind)
            .unwrap_or(WORKLOAD_KINDS.len())
    }
}

impl ClusterState {
    /// In a state that keeps workloads as JSON ([`Keep::WorkloadsAsJson`]): a named workload
    /// becomes its JSON text (`None`: nothing left to push) and a ReplicaSet or Job a
    /// controller owns is dropped (checked through its controller); anything else comes back
    /// to be pushed typed.
    ///
    /// [`Keep::WorkloadsAsJson`]: super::Keep::WorkloadsAsJson
    pub(super) fn take_as_json<T>(&mut self, kind: &str, object: T) -> Option<T>
    where
        T: Serialize + k8s_openapi::Metadata<Ty = ObjectMeta>,
    {
        let Some(kind) = WORKLOAD_KINDS.iter().copied().find(|k| *k == kind) else {
            return Some(object);
        };
        let m = object.metadata();
        // Nameless objects stay typed: the reader reports and drops them.
        let Some(name) = m.name.as_deref().filter(|n| !n.is_empty()) else {
            return Some(object);
        };
        if super::has_owner(m) && matches!(kind, "ReplicaSet" | "Job") {
            return None;
        }
        match serde_json::to_string(&object) {
            Ok(json) => {
                self.workload_json.push(WorkloadJson {
                    kind,
                    namespace: m.namespace.as_deref().map(Box::from),
                    name: Box::from(name),
                    json: json.into_boxed_str(),
                });
                None
            }
            // A typed object always writes out; should it not, it stays typed.
            Err(_) => Some(object),
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::ReplicaSet;
    use k8s_openapi::api::core::v1::Pod;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;

    /// Metadata in namespace `shop`, owned by Deployment `web` when `owned`.
    pub(in crate::state) fn meta(name: Option<&str>, owned: bool) -> ObjectMeta {
        ObjectMeta {
            name: name.map(str::to_string),
            namespace: Some("shop".into()),
            owner_references: owned.then(|| {
                vec![OwnerReference {
                    kind: "Deployment".into(),
                    name: "web".into(),
                    ..OwnerReference::default()
                }]
            }),
            ..ObjectMeta::default()
        }
    }

    fn pod(name: Option<&str>, owned: bool) -> Pod {
        Pod {
            metadata: meta(name, owned),
            ..Pod::default()
        }
    }

    #[test]
    fn a_json_state_keeps_named_workloads_as_text_and_drops_owned_replica_sets() {
        let mut st = ClusterState::keeping_workloads_as_json();
        assert!(st.fresh().keeps_workloads_as_json());
        assert!(st.take_typed("Pod", pod(Some("web-1"), true)).is_none());
        let owned = ReplicaSet {
            metadata: meta(Some("web-7f"), true),
            ..ReplicaSet::default()
        };
        assert!(st.take_typed("ReplicaSet", owned).is_none());
        let alone = ReplicaSet {
            metadata: meta(Some("solo"), false),
            ..ReplicaSet::default()
        };
        assert!(st.take_typed("ReplicaSet", alone).is_none());
        // Nameless: handed back for the reader to report.
        assert!(st.take_typed("Pod", pod(None, false)).is_some());
        // Not a workload kind: stays typed.
        assert!(st.take_typed("Something", pod(Some("x"), false)).is_some());

        let kept: Vec<(&str, &str)> = st
            .workload_json
            .iter()
            .map(|w| (w.kind, &*w.name))
            .collect();
        assert_eq!(kept, [("Pod", "web-1"), ("ReplicaSet", "solo")]);
        let text: serde_json::Value = serde_json::from_str(&st.workload_json[0].json).unwrap();
        assert_eq!(text["apiVersion"], "v1");
        assert_eq!(text["kind"], "Pod");
        assert_eq!(text["metadata"]["namespace"], "shop");
        assert!(st.workload_json[1].rank() < st.workload_json[0].rank());
        assert_eq!(st.object_count(), 2);
    }
}
