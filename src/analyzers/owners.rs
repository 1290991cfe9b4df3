//! Owner resolution: the top controller of an object through `ownerReferences`
//! (Pod → ReplicaSet → Deployment, Pod → Job → CronJob), so failures group under the thing a
//! person deploys.

use crate::findings::OwnerRef;
use crate::state::ClusterState;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use std::collections::HashMap;

/// Parent links of the controllers in the state: (namespace, kind, name) → its own controller.
pub struct Owners {
    parents: HashMap<(String, String, String), OwnerRef>,
}

fn controller_of(meta: &ObjectMeta) -> Option<&OwnerReference> {
    let refs = meta.owner_references.as_ref()?;
    refs.iter()
        .find(|r| r.controller == Some(true))
        .or_else(|| refs.first())
}

impl Owners {
    pub fn build(state: &ClusterState) -> Self {
        let mut parents = HashMap::new();
        let mut add = |kind: &str, meta: &ObjectMeta| {
            if let (Some(name), Some(r)) = (&meta.name, controller_of(meta)) {
                parents.insert(
                    (
                        meta.namespace.clone().unwrap_or_default(),
                        kind.to_string(),
                        name.clone(),
                    ),
                    OwnerRef {
                        kind: r.kind.clone(),
                        name: r.name.clone(),
                    },
                );
            }
        };
        for rs in &state.replica_sets {
            add("ReplicaSet", &rs.metadata);
        }
        for j in &state.jobs {
            add("Job", &j.metadata);
        }
        Owners { parents }
    }

    /// The top controller of an object, or None for an object nobody controls.
    pub fn top(&self, meta: &ObjectMeta) -> Option<OwnerRef> {
        let direct = controller_of(meta)?;
        // Static (mirror) pods name their Node as controller: etcd, the API server and the
        // scheduler on one node are different workloads, not replicas of the Node.
        if direct.kind == "Node" {
            return None;
        }
        let ns = meta.namespace.clone().unwrap_or_default();
        let mut current = OwnerRef {
            kind: direct.kind.clone(),
            name: direct.name.clone(),
        };
        // ReplicaSets missing from the dump: a pod's ReplicaSet is `<deployment>-<hash>` and
        // the pod carries the hash as `pod-template-hash`.
        if current.kind == "ReplicaSet"
            && !self
                .parents
                .contains_key(&(ns.clone(), "ReplicaSet".into(), current.name.clone()))
            && let Some(hash) = meta
                .labels
                .as_ref()
                .and_then(|l| l.get("pod-template-hash"))
            && let Some(deploy) = current.name.strip_suffix(&format!("-{hash}"))
        {
            return Some(OwnerRef {
                kind: "Deployment".into(),
                name: deploy.to_string(),
            });
        }
        for _ in 0..4 {
            match self
                .parents
                .get(&(ns.clone(), current.kind.clone(), current.name.clone()))
            {
                Some(p) => current = p.clone(),
                None => break,
            }
        }
        Some(current)
    }
}
