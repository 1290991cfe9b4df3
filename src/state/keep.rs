//! What a reader keeps of the objects it reads into a state: everything (the REPL, `ask`, MCP,
//! the index), what the analyzers read (`analyze`), or the workloads as JSON text
//! (`policy check`). The reader asks [`ClusterState::take_typed`] for every object it types.

use super::ClusterState;
use super::compact::Kept;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;

/// What readers keep of the objects they read into a state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Keep {
    /// Every object, typed, as read.
    #[default]
    Everything,
    /// What the analyzers read: every object typed, but what no analyzer reads of it dropped
    /// (`Kept::for_analysis`: a ReplicaSet a controller owns without its pod template; pod
    /// specs without their volumes, environment variables, requests and limits, which the
    /// state keeps beside them as the analyzers read them (`ClusterState::volumes_of`,
    /// `env_of`, `resources_of`) but for volumes and variables that name nothing, such as the
    /// service account's token volume; containers, pod statuses and events without the
    /// fields no analyzer reads; no annotation but the three analyzers read; labels only
    /// where an analyzer reads them, `Kept::LABELS_READ`).
    ForAnalysis,
    /// Pods and controllers as JSON text ([`ClusterState::workload_json`]), owned ReplicaSets
    /// and Jobs dropped: all `policy check` reads of them. Analyzers find no workloads here.
    WorkloadsAsJson,
}

impl ClusterState {
    /// An empty state whose readers keep `keep`.
    pub fn keeping(keep: Keep) -> Self {
        ClusterState {
            keep,
            ..ClusterState::default()
        }
    }

    /// A state whose readers keep workloads as JSON ([`Keep::WorkloadsAsJson`]).
    pub fn keeping_workloads_as_json() -> Self {
        Self::keeping(Keep::WorkloadsAsJson)
    }

    /// An empty state read the same way as this one.
    pub fn fresh(&self) -> Self {
        Self::keeping(self.keep)
    }

    /// Whether readers keep workloads as JSON in this state.
    pub fn keeps_workloads_as_json(&self) -> bool {
        self.keep == Keep::WorkloadsAsJson
    }

    /// Hand a freshly read object to the state, after the reader has learned the credentials
    /// it carries: what comes back is pushed typed (`None`: nothing left to push), its lists
    /// without spare room (`state::compact`).
    pub(crate) fn take_typed<T>(&mut self, kind: &str, mut object: T) -> Option<T>
    where
        T: Kept + Serialize + k8s_openapi::Metadata<Ty = ObjectMeta>,
    {
        let kept = match self.keep {
            Keep::Everything => Some(object),
            Keep::ForAnalysis => {
                let moved = object.for_analysis();
                if let Some(holder) = T::HOLDER {
                    self.spec_parts.insert(holder, object.metadata(), moved);
                }
                super::compact::metadata_for_analysis(object.metadata_mut());
                if !T::LABELS_READ {
                    object.metadata_mut().labels = None;
                }
                Some(object)
            }
            Keep::WorkloadsAsJson => self.take_as_json(kind, object),
        };
        kept.map(|mut o| {
            o.shrink();
            o
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::as_json::tests::meta;
    use k8s_openapi::api::apps::v1::{ReplicaSet, ReplicaSetSpec};
    use k8s_openapi::api::core::v1::{Pod, PodTemplateSpec};

    fn rs(owned: bool) -> ReplicaSet {
        ReplicaSet {
            metadata: meta(Some("web-7f"), owned),
            spec: Some(ReplicaSetSpec {
                replicas: Some(2),
                template: Some(PodTemplateSpec::default()),
                ..ReplicaSetSpec::default()
            }),
            ..ReplicaSet::default()
        }
    }

    #[test]
    fn a_full_state_keeps_every_object_as_read() {
        let mut st = ClusterState::default();
        assert_eq!(st.keep, Keep::Everything);
        assert_eq!(st.take_typed("ReplicaSet", rs(true)), Some(rs(true)));
        assert!(st.take_typed("Pod", Pod::default()).is_some());
        assert!(st.workload_json.is_empty());
        assert!(!st.fresh().keeps_workloads_as_json());
    }

    #[test]
    fn an_analysis_state_drops_only_an_owned_replica_sets_template() {
        let mut st = ClusterState::keeping(Keep::ForAnalysis);
        assert_eq!(st.fresh().keep, Keep::ForAnalysis);
        let owned = st.take_typed("ReplicaSet", rs(true)).expect("kept");
        let spec = owned.spec.expect("spec");
        assert_eq!(spec.template, None);
        assert_eq!(spec.replicas, Some(2), "the rest of the spec stays");
        assert_eq!(owned.metadata, rs(true).metadata);
        // A ReplicaSet nobody owns is a top-level workload: its template is analysed.
        assert_eq!(st.take_typed("ReplicaSet", rs(false)), Some(rs(false)));
        let pod = Pod {
            spec: Some(Default::default()),
            ..Pod::default()
        };
        assert_eq!(st.take_typed("Pod", pod.clone()), Some(pod));
        assert!(st.workload_json.is_empty());
    }

    /// Labels stay where an analyzer reads them (a pod's, a node's, a namespace's, an
    /// EndpointSlice's, a pod template's) and go from everything else.
    #[test]
    fn an_analysis_state_keeps_the_labels_analyzers_read() {
        use k8s_openapi::api::apps::v1::Deployment;
        use k8s_openapi::api::core::v1::{Node, Service};
        use k8s_openapi::api::discovery::v1::EndpointSlice;
        let labelled = || {
            let mut m = meta(Some("web"), false);
            m.labels = Some([("app".to_string(), "web".to_string())].into());
            m
        };
        let mut st = ClusterState::keeping(Keep::ForAnalysis);
        let pod = Pod {
            metadata: labelled(),
            ..Pod::default()
        };
        let kept = st.take_typed("Pod", pod.clone()).expect("pod");
        assert_eq!(kept.metadata.labels, pod.metadata.labels);
        // Its version and generated-name prefix go (no analyzer reads them).
        let mut versioned = pod.clone();
        versioned.metadata.resource_version = Some("7".into());
        versioned.metadata.generate_name = Some("web-".into());
        let kept = st.take_typed("Pod", versioned).expect("pod");
        assert_eq!(kept.metadata, pod.metadata);
        let node = Node {
            metadata: labelled(),
            ..Node::default()
        };
        let kept = st.take_typed("Node", node.clone()).expect("node");
        assert_eq!(kept.metadata.labels, node.metadata.labels);
        let slice = EndpointSlice {
            metadata: labelled(),
            ..EndpointSlice::default()
        };
        let kept = st
            .take_typed("EndpointSlice", slice.clone())
            .expect("slice");
        assert_eq!(kept.metadata.labels, slice.metadata.labels);
        let mut dep = Deployment {
            metadata: labelled(),
            ..Deployment::default()
        };
        dep.spec.get_or_insert_default().template.metadata = Some(labelled());
        let kept = st
            .take_typed("Deployment", dep.clone())
            .expect("deployment");
        assert_eq!(kept.metadata.labels, None);
        let template = kept.spec.and_then(|s| s.template.metadata);
        assert_eq!(template.and_then(|m| m.labels), pod.metadata.labels);
        let svc = Service {
            metadata: labelled(),
            ..Service::default()
        };
        let kept = st.take_typed("Service", svc).expect("service");
        assert_eq!(kept.metadata.labels, None);
        // A whole state keeps them all.
        let mut whole = ClusterState::default();
        let kept = whole
            .take_typed("Deployment", dep.clone())
            .expect("deployment");
        assert_eq!(kept.metadata.labels, dep.metadata.labels);
    }
}
