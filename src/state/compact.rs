//! What every typed object of a state goes through as it is kept ([`ClusterState::take_typed`]):
//! the slack of its lists given back, and, in a state read for the analyzers, what they never
//! read dropped.
//!
//! Why the slack matters: serde reads a JSON array into a `Vec` that grows by doubling from
//! four elements (one for elements over 1 KB), and k8s-openapi's structs are large because
//! their optional parts are inline (a `ContainerStatus` is 752 bytes, a `Volume` 3,208). A pod
//! with one container kept room for four container statuses; on a dump of 9,600 pods the lists'
//! unused room was tens of megabytes of the peak. Shrinking is a reallocation per list that had
//! room to spare, never a change of content.

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, ReplicaSetSpec, StatefulSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{
    ConfigMap, Container, Event, Namespace, Node, PersistentVolume, PersistentVolumeClaim, Pod,
    PodSpec, PodStatus, PodTemplateSpec, ReplicationController, ResourceQuota, Service,
    ServiceAccount,
};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::networking::v1::{Ingress, IngressClass, NetworkPolicy};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::api::storage::v1::StorageClass;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

/// A kind a state keeps typed.
pub(crate) trait Kept {
    /// Give back the room the object's lists have to spare.
    fn shrink(&mut self);
    /// Drop what no analyzer reads of this object (a state read for `analyze`).
    fn for_analysis(&mut self) {}
}

/// `Option<Vec<T>>` without spare room.
fn fit<T>(list: &mut Option<Vec<T>>) {
    if let Some(l) = list {
        l.shrink_to_fit();
    }
}

fn meta(m: &mut ObjectMeta) {
    fit(&mut m.owner_references);
    fit(&mut m.finalizers);
}

fn container(c: &mut Container) {
    fit(&mut c.env);
    fit(&mut c.env_from);
    fit(&mut c.ports);
    fit(&mut c.volume_mounts);
    fit(&mut c.volume_devices);
    fit(&mut c.args);
    fit(&mut c.command);
}

fn pod_spec(s: &mut PodSpec) {
    s.containers.shrink_to_fit();
    s.containers.iter_mut().for_each(container);
    fit(&mut s.init_containers);
    s.init_containers.iter_mut().flatten().for_each(container);
    fit(&mut s.ephemeral_containers);
    fit(&mut s.volumes);
    fit(&mut s.tolerations);
    fit(&mut s.image_pull_secrets);
    fit(&mut s.topology_spread_constraints);
    fit(&mut s.host_aliases);
}

fn pod_status(s: &mut PodStatus) {
    fit(&mut s.conditions);
    fit(&mut s.container_statuses);
    fit(&mut s.init_container_statuses);
    fit(&mut s.ephemeral_container_statuses);
    fit(&mut s.pod_ips);
    fit(&mut s.host_ips);
}

fn template(t: &mut PodTemplateSpec) {
    if let Some(m) = t.metadata.as_mut() {
        meta(m);
    }
    if let Some(s) = t.spec.as_mut() {
        pod_spec(s);
    }
}

impl Kept for Pod {
    fn shrink(&mut self) {
        meta(&mut self.metadata);
        if let Some(s) = self.spec.as_mut() {
            pod_spec(s);
        }
        if let Some(s) = self.status.as_mut() {
            pod_status(s);
        }
    }
}

/// Workloads whose spec holds a pod template directly and whose status reports conditions.
macro_rules! templated {
    ($($ty:ty),*) => { $(
        impl Kept for $ty {
            fn shrink(&mut self) {
                meta(&mut self.metadata);
                if let Some(s) = self.spec.as_mut() {
                    template(&mut s.template);
                }
                if let Some(s) = self.status.as_mut() {
                    fit(&mut s.conditions);
                }
            }
        }
    )* };
}
templated!(Deployment, StatefulSet, DaemonSet, Job);

impl Kept for ReplicaSet {
    fn shrink(&mut self) {
        meta(&mut self.metadata);
        if let Some(t) = self.spec.as_mut().and_then(|s| s.template.as_mut()) {
            template(t);
        }
        if let Some(s) = self.status.as_mut() {
            fit(&mut s.conditions);
        }
    }

    /// An owned ReplicaSet without its pod template. Why: the analyzers read a pod template
    /// only of a top-level workload (a ReplicaSet nobody owns; `analyzers::workload::all`),
    /// and of an owned ReplicaSet only its metadata, status and events; its template is the
    /// Deployment's (or an older revision of it, kept up to `revisionHistoryLimit`, 10 by
    /// default), ~80% of its memory.
    fn for_analysis(&mut self) {
        // Not top-level (`analyzers::workload::all` asks the same).
        if super::has_owner(&self.metadata)
            && let Some(ReplicaSetSpec { template, .. }) = self.spec.as_mut()
        {
            *template = None;
        }
    }
}

impl Kept for ReplicationController {
    fn shrink(&mut self) {
        meta(&mut self.metadata);
        if let Some(t) = self.spec.as_mut().and_then(|s| s.template.as_mut()) {
            template(t);
        }
        if let Some(s) = self.status.as_mut() {
            fit(&mut s.conditions);
        }
    }
}

impl Kept for CronJob {
    fn shrink(&mut self) {
        meta(&mut self.metadata);
        if let Some(s) = self.spec.as_mut() {
            meta_opt(&mut s.job_template.metadata);
            if let Some(j) = s.job_template.spec.as_mut() {
                template(&mut j.template);
            }
        }
    }
}

fn meta_opt(m: &mut Option<ObjectMeta>) {
    if let Some(m) = m {
        meta(m);
    }
}

/// Kinds with nothing large to give back beyond their metadata's lists.
macro_rules! plain {
    ($($ty:ty),*) => { $(
        impl Kept for $ty {
            fn shrink(&mut self) {
                meta(&mut self.metadata);
            }
        }
    )* };
}
plain!(
    Service,
    EndpointSlice,
    Ingress,
    IngressClass,
    NetworkPolicy,
    PersistentVolumeClaim,
    PersistentVolume,
    StorageClass,
    Node,
    Namespace,
    HorizontalPodAutoscaler,
    PodDisruptionBudget,
    ResourceQuota,
    ConfigMap,
    ServiceAccount,
    Event
);

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{ContainerStatus, PodCondition};

    #[test]
    fn shrinking_gives_back_room_and_changes_nothing() {
        let text = r#"{"metadata":{"name":"web-1","namespace":"shop",
            "ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"web-7f","uid":"u"}]},
          "spec":{"containers":[{"name":"app","image":"shop:1",
              "env":[{"name":"A","value":"1"}],"volumeMounts":[{"name":"config","mountPath":"/etc/app"}]}],
            "volumes":[{"name":"config","configMap":{"name":"web"}}]},
          "status":{"phase":"Running",
            "conditions":[{"type":"Ready","status":"True"},{"type":"PodScheduled","status":"True"}],
            "containerStatuses":[{"name":"app","image":"shop:1","imageID":"","ready":true,
              "restartCount":0}]}}"#;
        let read: Pod = serde_json::from_str(text).expect("pod");
        let statuses = |p: &Pod| -> Vec<ContainerStatus> {
            p.status
                .as_ref()
                .and_then(|s| s.container_statuses.clone())
                .unwrap_or_default()
        };
        let room = |p: &Pod| {
            let s = p.status.as_ref().expect("status");
            let c: &Vec<PodCondition> = s.conditions.as_ref().expect("conditions");
            (
                s.container_statuses.as_ref().expect("statuses").capacity(),
                c.capacity(),
                p.metadata
                    .owner_references
                    .as_ref()
                    .expect("owners")
                    .capacity(),
            )
        };
        // What serde left: room for four of each (the premise of this module).
        assert_eq!(room(&read), (4, 4, 4));
        let mut kept = read.clone();
        kept.shrink();
        assert_eq!(room(&kept), (1, 2, 1));
        assert_eq!(kept, read, "the same object");
        assert_eq!(statuses(&kept), statuses(&read));
    }
}
