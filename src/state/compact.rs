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

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
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

use super::beside::Moved;

/// A kind a state keeps typed.
pub(crate) trait Kept {
    /// Give back the room the object's lists have to spare.
    fn shrink(&mut self);
    /// The kind of this object when it holds a pod spec (one of `WORKLOAD_KINDS`: the key its
    /// moved parts are kept under).
    const HOLDER: Option<&'static str> = None;
    /// Whether an analyzer reads the labels of this kind's own metadata: a pod's (selectors
    /// pick pods), a node's (node selectors and affinity), a namespace's (network policies)
    /// and an EndpointSlice's (the Service it belongs to). A workload's selectors pick pods by
    /// its template's labels, which are kept; its own labels, a Service's, a ConfigMap's and
    /// the rest are read by no analyzer, and a state read for `analyze` drops them. Keep this
    /// with the analyzers: every analyzer test compares the findings of such a state with the
    /// whole one's.
    const LABELS_READ: bool = false;
    /// Drop what no analyzer reads of this object (a state read for `analyze`); return the
    /// volumes, variables, requests and limits of its pod spec, as the analyzers read them,
    /// for the state to keep beside it (`state/beside.rs`).
    fn for_analysis(&mut self) -> Moved {
        Moved::default()
    }
}

/// Each named `Option<Vec<_>>` field of `$o` without spare room.
macro_rules! fit {
    ($o:expr => $($f:ident),* $(,)?) => { $(
        if let Some(list) = $o.$f.as_mut() {
            list.shrink_to_fit();
        }
    )* };
}

fn meta(m: &mut ObjectMeta) {
    fit!(m => owner_references, finalizers);
}

fn container(c: &mut Container) {
    fit!(c => env, env_from, ports, volume_mounts, volume_devices, args, command);
}

fn pod_spec(s: &mut PodSpec) {
    s.containers.shrink_to_fit();
    s.containers.iter_mut().for_each(container);
    s.init_containers.iter_mut().flatten().for_each(container);
    fit!(s => init_containers, ephemeral_containers, volumes, tolerations, image_pull_secrets,
        topology_spread_constraints, host_aliases);
}

/// A pod spec without what no analyzer reads of it (a state read for `analyze`): scheduling and
/// DNS details, ephemeral containers, and of each container what [`container_for_analysis`]
/// drops. Its volumes and its containers' environment variables, requests and limits are
/// returned, as the analyzers read them ([`Moved::take`]: volumes that name no ConfigMap,
/// Secret, claim or host path and variables with neither a value nor a key behind them
/// dropped), for the state to keep beside it (`state/beside.rs`).
fn pod_spec_for_analysis(s: &mut PodSpec) -> Moved {
    // Scheduling and DNS details no analyzer reads (the scheduler's own words in the events and
    // conditions are what `pod_start` explains a pending pod with).
    s.topology_spread_constraints = None;
    s.host_aliases = None;
    s.readiness_gates = None;
    s.dns_config = None;
    // Names and policies no analyzer reads: the scheduler and priority class, DNS and
    // restart policies, the deprecated alias of the service account, host and subdomain names.
    s.scheduler_name = None;
    s.priority_class_name = None;
    s.preemption_policy = None;
    s.dns_policy = None;
    s.restart_policy = None;
    s.service_account = None;
    s.hostname = None;
    s.subdomain = None;
    s.runtime_class_name = None;
    s.scheduling_gates = None;
    s.resource_claims = None;
    s.overhead = None;
    s.ephemeral_containers = None;
    let containers = s.containers.iter_mut();
    containers
        .chain(s.init_containers.iter_mut().flatten())
        .for_each(container_for_analysis);
    Moved::take(s)
}

/// A container without what no analyzer reads of it: where its volumes are mounted (every
/// container mounts the service account's token), its termination-message settings, pull and
/// resize policies and working directory. Its environment goes with the pod spec's volumes
/// ([`pod_spec_for_analysis`]).
fn container_for_analysis(c: &mut Container) {
    c.volume_mounts = None;
    c.volume_devices = None;
    c.termination_message_path = None;
    c.termination_message_policy = None;
    c.image_pull_policy = None;
    c.working_dir = None;
    c.resize_policy = None;
}

/// A pod status without what no analyzer reads of it: its addresses, QoS class and resize
/// state, and of each container's status the runtime's ids, its mounts, user and the resources
/// the kubelet allocated (the spec's requests and limits are what the analyzers compare).
/// Why: from Kubernetes 1.33 in-place resize is on by default, and the kubelet reports each
/// running container's `resources` in its status (`allocatedResources` too, behind a further
/// feature gate): more B-trees per container, copies of the spec's.
fn pod_status_for_analysis(s: &mut PodStatus) {
    s.pod_ip = None;
    s.pod_ips = None;
    s.host_ips = None;
    s.qos_class = None;
    s.resize = None;
    s.nominated_node_name = None;
    s.resource_claim_statuses = None;
    let statuses = s.container_statuses.iter_mut().flatten();
    let init = s.init_container_statuses.iter_mut().flatten();
    for c in statuses.chain(init) {
        c.image_id = String::new();
        c.container_id = None;
        c.volume_mounts = None;
        c.user = None;
        c.allocated_resources = None;
        c.allocated_resources_status = None;
        c.resources = None;
        c.stop_signal = None;
    }
    s.ephemeral_container_statuses = None;
}

fn template_for_analysis(t: Option<&mut PodTemplateSpec>) -> Moved {
    let Some(t) = t else {
        return Moved::default();
    };
    if let Some(m) = t.metadata.as_mut() {
        metadata_for_analysis(m);
    }
    t.spec
        .as_mut()
        .map(pod_spec_for_analysis)
        .unwrap_or_default()
}

/// The annotations an analyzer reads: the class an Ingress names the old way and the default
/// IngressClass (`network`), a static pod's mirror mark (`workload`). Keep this list with them:
/// every analyzer test compares the findings of such a state with the whole one's.
const ANNOTATIONS_READ: &[&str] = &[
    "kubernetes.io/ingress.class",
    "ingressclass.kubernetes.io/is-default-class",
    "kubernetes.io/config.mirror",
];

/// An object's metadata without its version, generated-name prefix and self link (a state
/// read for `analyze`: no analyzer reads them), nor the annotations no analyzer reads. Why:
/// tools and controllers annotate freely — `kubectl apply` repeats the whole object in
/// `last-applied-configuration`, operators keep their state there — and each entry is two
/// strings in a B-tree, on every object.
pub(super) fn metadata_for_analysis(m: &mut ObjectMeta) {
    m.resource_version = None;
    m.generate_name = None;
    m.self_link = None;
    if let Some(a) = m.annotations.as_mut() {
        a.retain(|k, _| ANNOTATIONS_READ.contains(&k.as_str()));
        if a.is_empty() {
            m.annotations = None;
        }
    }
}

fn pod_status(s: &mut PodStatus) {
    fit!(s => conditions, container_statuses, init_container_statuses,
        ephemeral_container_statuses, pod_ips, host_ips);
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
    const LABELS_READ: bool = true;

    fn shrink(&mut self) {
        meta(&mut self.metadata);
        if let Some(s) = self.spec.as_mut() {
            pod_spec(s);
        }
        if let Some(s) = self.status.as_mut() {
            pod_status(s);
        }
    }

    const HOLDER: Option<&'static str> = Some("Pod");

    fn for_analysis(&mut self) -> Moved {
        if let Some(s) = self.status.as_mut() {
            pod_status_for_analysis(s);
        }
        self.spec
            .as_mut()
            .map(pod_spec_for_analysis)
            .unwrap_or_default()
    }
}

/// A workload: its metadata, its pod template (when it has one), its status conditions.
fn workload<C>(
    m: &mut ObjectMeta,
    t: Option<&mut PodTemplateSpec>,
    conditions: Option<&mut Vec<C>>,
) {
    meta(m);
    if let Some(t) = t {
        template(t);
    }
    if let Some(c) = conditions {
        c.shrink_to_fit();
    }
}

/// Workloads whose spec holds a pod template directly and whose status reports conditions.
/// A state read for `analyze` drops their selector: the analyzers match pods by a template's
/// labels (`analyzers::workload`), and read the selectors of Services and disruption budgets
/// only.
macro_rules! templated {
    ($($ty:ident),*) => { $(
        impl Kept for $ty {
            const HOLDER: Option<&'static str> = Some(stringify!($ty));

            fn shrink(&mut self) {
                workload(
                    &mut self.metadata,
                    self.spec.as_mut().map(|s| &mut s.template),
                    self.status.as_mut().and_then(|s| s.conditions.as_mut()),
                );
            }

            fn for_analysis(&mut self) -> Moved {
                let spec = self.spec.as_mut();
                template_for_analysis(spec.map(|s| {
                    s.selector = Default::default();
                    &mut s.template
                }))
            }
        }
    )* };
}
templated!(Deployment, StatefulSet, DaemonSet, Job);

impl Kept for ReplicaSet {
    const HOLDER: Option<&'static str> = Some("ReplicaSet");

    fn shrink(&mut self) {
        workload(
            &mut self.metadata,
            self.spec.as_mut().and_then(|s| s.template.as_mut()),
            self.status.as_mut().and_then(|s| s.conditions.as_mut()),
        );
    }

    /// An owned ReplicaSet without its pod template. Why: the analyzers read a pod template
    /// only of a top-level workload (a ReplicaSet nobody owns; `analyzers::workload::all`),
    /// and of an owned ReplicaSet only its name, uid and owner (to find its events and its
    /// Deployment); its template is the Deployment's (or an older revision of it, kept up to
    /// `revisionHistoryLimit`, 10 by default), ~80% of its memory. A ReplicaSet nobody owns
    /// keeps its template as any workload does. Neither keeps its selector (as no workload
    /// does) nor its own labels ([`Kept::LABELS_READ`]).
    fn for_analysis(&mut self) -> Moved {
        let Some(spec) = self.spec.as_mut() else {
            return Moved::default();
        };
        spec.selector = Default::default();
        // Not top-level (`analyzers::workload::all` asks the same).
        if super::has_owner(&self.metadata) {
            spec.template = None;
            return Moved::default();
        }
        template_for_analysis(spec.template.as_mut())
    }
}

impl Kept for ReplicationController {
    const HOLDER: Option<&'static str> = Some("ReplicationController");

    fn shrink(&mut self) {
        workload(
            &mut self.metadata,
            self.spec.as_mut().and_then(|s| s.template.as_mut()),
            self.status.as_mut().and_then(|s| s.conditions.as_mut()),
        );
    }

    fn for_analysis(&mut self) -> Moved {
        template_for_analysis(self.spec.as_mut().and_then(|s| {
            s.selector = None;
            s.template.as_mut()
        }))
    }
}

impl Kept for CronJob {
    const HOLDER: Option<&'static str> = Some("CronJob");

    fn shrink(&mut self) {
        meta(&mut self.metadata);
        if let Some(s) = self.spec.as_mut() {
            meta_opt(&mut s.job_template.metadata);
            if let Some(j) = s.job_template.spec.as_mut() {
                template(&mut j.template);
            }
        }
    }

    fn for_analysis(&mut self) -> Moved {
        let job = self
            .spec
            .as_mut()
            .and_then(|s| s.job_template.spec.as_mut());
        template_for_analysis(job.map(|j| &mut j.template))
    }
}

fn meta_opt(m: &mut Option<ObjectMeta>) {
    if let Some(m) = m {
        meta(m);
    }
}

/// Kinds with nothing large to give back beyond their metadata's lists (and whether an
/// analyzer reads their labels).
macro_rules! plain {
    (labels read: $($ty:ty),*) => { $(
        impl Kept for $ty {
            const LABELS_READ: bool = true;

            fn shrink(&mut self) {
                meta(&mut self.metadata);
            }
        }
    )* };
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
    Ingress,
    IngressClass,
    NetworkPolicy,
    PersistentVolumeClaim,
    PersistentVolume,
    StorageClass,
    HorizontalPodAutoscaler,
    PodDisruptionBudget,
    ResourceQuota,
    ConfigMap,
    ServiceAccount
);
plain!(labels read: EndpointSlice, Node, Namespace);

impl Kept for Event {
    fn shrink(&mut self) {
        meta(&mut self.metadata);
    }

    /// An event without what no analyzer (nor the index) reads of it: who reported it and from
    /// where, the action and related object of the newer API, the versions it was written at.
    /// What stays: the object it is about (the uid included: events are matched by it), the
    /// type, reason, message, count, series and times.
    fn for_analysis(&mut self) -> Moved {
        self.source = None;
        self.reporting_component = None;
        self.reporting_instance = None;
        self.action = None;
        self.related = None;
        self.metadata.resource_version = None;
        self.involved_object.resource_version = None;
        Moved::default()
    }
}

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

    #[test]
    fn a_workloads_template_and_conditions_are_shrunk_too() {
        let text = r#"{"metadata":{"name":"web","namespace":"shop"},
          "spec":{"selector":{},"template":{"spec":{"containers":[{"name":"app",
            "env":[{"name":"A","value":"1"}]}]}}},
          "status":{"conditions":[{"type":"Available","status":"True"}]}}"#;
        let read: Deployment = serde_json::from_str(text).expect("deployment");
        let room = |d: &Deployment| {
            let spec = d.spec.as_ref().and_then(|s| s.template.spec.as_ref());
            let env = spec
                .and_then(|s| s.containers[0].env.as_ref())
                .expect("env");
            let conditions = d.status.as_ref().and_then(|s| s.conditions.as_ref());
            (env.capacity(), conditions.expect("conditions").capacity())
        };
        assert_eq!(room(&read), (4, 4));
        let mut kept = read.clone();
        kept.shrink();
        assert_eq!(room(&kept), (1, 1));
        assert_eq!(kept, read);
    }

    /// What is moved out of a spec is kept under the kind analyzers name its workload by.
    #[test]
    fn every_holder_is_a_workload_kind() {
        let holders = [
            Pod::HOLDER,
            Deployment::HOLDER,
            StatefulSet::HOLDER,
            DaemonSet::HOLDER,
            Job::HOLDER,
            ReplicaSet::HOLDER,
            ReplicationController::HOLDER,
            CronJob::HOLDER,
        ];
        for h in holders {
            let h = h.expect("holds a pod spec");
            assert!(crate::state::WORKLOAD_KINDS.contains(&h), "{h}");
        }
        assert_eq!(Event::HOLDER, None);
    }

    #[test]
    fn an_analysis_state_moves_volumes_variables_and_resources_and_drops_only_what_no_analyzer_reads()
     {
        let text = r#"{"metadata":{"name":"web-1","namespace":"shop"},
          "spec":{"containers":[{"name":"app",
              "resources":{"requests":{"cpu":"100m","memory":"128Mi"},"limits":{"memory":"256Mi"}},
              "env":[
              {"name":"URL","value":"http://api.shop:8080"},
              {"name":"DB","valueFrom":{"secretKeyRef":{"name":"db","key":"password"}}},
              {"name":"MODE","valueFrom":{"configMapKeyRef":{"name":"web","key":"mode"}}},
              {"name":"POD","valueFrom":{"fieldRef":{"fieldPath":"metadata.name"}}}]}],
            "initContainers":[{"name":"init","env":[
              {"name":"CPU","valueFrom":{"resourceFieldRef":{"resource":"limits.cpu"}}}]}],
            "volumes":[
              {"name":"config","configMap":{"name":"web"}},
              {"name":"tls","secret":{"secretName":"web-tls"}},
              {"name":"data","persistentVolumeClaim":{"claimName":"web-data"}},
              {"name":"host","hostPath":{"path":"/var/log"}},
              {"name":"scratch","emptyDir":{}},
              {"name":"info","downwardAPI":{"items":[{"path":"labels","fieldRef":{"fieldPath":"metadata.labels"}}]}},
              {"name":"bundle","projected":{"sources":[
                {"secret":{"name":"web-keys"}},
                {"configMap":{"name":"kube-root-ca.crt"}},
                {"configMap":{"name":"web-ca"}}]}},
              {"name":"kube-api-access-x7k2p","projected":{"sources":[
                {"serviceAccountToken":{"expirationSeconds":3607,"path":"token"}},
                {"configMap":{"name":"kube-root-ca.crt","items":[{"key":"ca.crt","path":"ca.crt"}]}},
                {"downwardAPI":{"items":[{"path":"namespace","fieldRef":{"fieldPath":"metadata.namespace"}}]}}]}}]}}"#;
        let read: Pod = serde_json::from_str(text).expect("pod");
        let mut st = crate::state::ClusterState::keeping(crate::state::Keep::ForAnalysis);
        let kept = st.take_typed("Pod", read.clone()).expect("kept");
        let spec = kept.spec.as_ref().expect("spec");
        // The variables left the containers for the state's table, those that name nothing
        // dropped; each reads as from the whole container.
        let init = spec.init_containers.as_ref().expect("init");
        assert!(spec.containers[0].env.is_none() && init[0].env.is_none());
        let env = |c| {
            st.env_of("Pod", &kept.metadata, c)
                .iter()
                .map(|e| e.name.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(env(&spec.containers[0]), ["URL", "DB", "MODE"]);
        assert!(env(&init[0]).is_empty());
        let whole = crate::state::ClusterState::default();
        let app = &read.spec.as_ref().expect("spec").containers[0];
        let from_spec = whole.env_of("Pod", &read.metadata, app);
        for e in st.env_of("Pod", &kept.metadata, &spec.containers[0]).iter() {
            assert!(
                from_spec.contains(e),
                "{} reads as from the container",
                e.name
            );
        }
        // So do its requests and limits.
        assert_eq!(spec.containers[0].resources, None);
        let resources = st.resources_of("Pod", &kept.metadata, &spec.containers[0]);
        assert_eq!(resources, whole.resources_of("Pod", &read.metadata, app));
        assert_eq!(resources.request("cpu"), Some("100m"));
        assert_eq!(resources.limit("memory"), Some("256Mi"));
        assert!(st.resources_of("Pod", &kept.metadata, &init[0]).is_empty());
        let db = &from_spec[1];
        assert_eq!(db.key_ref.as_ref().map(|k| k.1.as_str()), Some("db"));
        assert_eq!(from_spec[0].value.as_deref(), Some("http://api.shop:8080"));

        // The volumes too.
        assert_eq!(spec.volumes, None);
        let volumes = st.volumes_of("Pod", &kept.metadata, spec).into_owned();
        let names: Vec<&str> = volumes.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(names, ["config", "tls", "data", "host", "bundle"]);
        // Each reads as the same volume read from the whole spec.
        let original = read.spec.as_ref().expect("spec");
        let from_spec = whole.volumes_of("Pod", &read.metadata, original);
        for v in volumes.iter() {
            assert!(from_spec.contains(v), "{} reads as from the spec", v.name);
        }
        assert_eq!(
            volumes[0].config_map.as_ref().map(|c| c.name.as_str()),
            Some("web")
        );
        assert_eq!(
            volumes[1].secret.as_ref().map(|c| c.name.as_str()),
            Some("web-tls")
        );
        assert_eq!(volumes[2].claim.as_deref(), Some("web-data"));
        assert_eq!(volumes[3].host_path.as_deref(), Some("/var/log"));
        assert_eq!(volumes[4].projected.len(), 3);
        // Another object of that name, or of another kind, has none of them.
        let mut other = kept.metadata.clone();
        other.name = Some("web-2".into());
        assert!(st.volumes_of("Pod", &other, spec).is_empty());
        assert!(st.volumes_of("Deployment", &kept.metadata, spec).is_empty());
        // The rest of the pod is as read.
        assert_eq!(kept.metadata, read.metadata);
        assert_eq!(spec.containers[0].name, "app");

        // A workload's template goes the same way, its volumes kept under the workload.
        let mut dep = Deployment {
            metadata: read.metadata.clone(),
            ..Deployment::default()
        };
        dep.spec.get_or_insert_default().template.spec = read.spec.clone();
        let dep = st.take_typed("Deployment", dep).expect("kept");
        let template = dep.spec.and_then(|s| s.template.spec).expect("template");
        assert_eq!(&template, spec);
        let of_dep = st.volumes_of("Deployment", &dep.metadata, &template);
        assert_eq!(of_dep, volumes);
    }

    #[test]
    fn an_analysis_state_drops_mounts_runtime_ids_and_reporters_but_keeps_what_is_matched() {
        let text = r#"{"metadata":{"name":"web-1","namespace":"shop"},
          "spec":{"containers":[{"name":"app","image":"shop:1","imagePullPolicy":"Always",
              "terminationMessagePath":"/dev/termination-log",
              "resources":{"limits":{"memory":"256Mi"}},
              "volumeMounts":[{"name":"kube-api-access-x7k2p","mountPath":"/var/run/secrets"}]}],
            "nodeName":"node-1","hostAliases":[{"ip":"10.0.0.1","hostnames":["db"]}],
            "schedulerName":"default-scheduler","dnsPolicy":"ClusterFirst","restartPolicy":"Always",
            "serviceAccount":"web","serviceAccountName":"web"},
          "status":{"phase":"Running","hostIP":"10.0.0.5","podIP":"10.1.0.7",
            "podIPs":[{"ip":"10.1.0.7"}],"qosClass":"Burstable",
            "containerStatuses":[{"name":"app","image":"shop:1","imageID":"shop@sha256:00",
              "containerID":"containerd://abc","ready":true,"restartCount":3,
              "allocatedResources":{"memory":"256Mi"},
              "lastState":{"terminated":{"exitCode":137,"reason":"OOMKilled"}}}]}}"#;
        let read: Pod = serde_json::from_str(text).expect("pod");
        let mut kept = read.clone();
        let moved = kept.for_analysis();
        let c = &kept.spec.as_ref().expect("spec").containers[0];
        assert_eq!(c.volume_mounts, None);
        assert_eq!(c.image_pull_policy, None);
        assert_eq!(c.termination_message_path, None);
        assert_eq!(c.image.as_deref(), Some("shop:1"));
        // Requests and limits go beside the pod, as the analyzers read them.
        assert_eq!(c.resources, None);
        let parts = &moved.containers[0];
        assert_eq!(parts.name, "app");
        assert_eq!(parts.resources.limit("memory"), Some("256Mi"));
        let spec = kept.spec.as_ref().expect("spec");
        assert_eq!(
            (spec.node_name.as_deref(), &spec.host_aliases),
            (Some("node-1"), &None)
        );
        let unread = (&spec.scheduler_name, &spec.dns_policy, &spec.restart_policy);
        assert_eq!(unread, (&None, &None, &None));
        assert_eq!(spec.service_account, None);
        assert_eq!(spec.service_account_name.as_deref(), Some("web"));
        let s = kept.status.as_ref().expect("status");
        assert_eq!((&s.pod_ip, &s.pod_ips, &s.qos_class), (&None, &None, &None));
        assert_eq!(s.host_ip.as_deref(), Some("10.0.0.5"));
        let cs = &s.container_statuses.as_ref().expect("statuses")[0];
        assert_eq!((cs.image_id.as_str(), &cs.container_id), ("", &None));
        assert_eq!(cs.allocated_resources, None);
        let was = &read
            .status
            .as_ref()
            .and_then(|s| s.container_statuses.clone())
            .expect("s")[0];
        assert_eq!((cs.restart_count, &cs.last_state), (3, &was.last_state));

        let text = r#"{"metadata":{"name":"web-1.0","namespace":"shop","resourceVersion":"9"},
          "involvedObject":{"kind":"Pod","name":"web-1","namespace":"shop","uid":"u-1",
            "resourceVersion":"7","fieldPath":"spec.containers{app}"},
          "reason":"BackOff","message":"Back-off restarting failed container","type":"Warning",
          "count":4,"source":{"component":"kubelet","host":"node-1"},
          "reportingComponent":"kubelet","reportingInstance":"node-1"}"#;
        let read: Event = serde_json::from_str(text).expect("event");
        let mut kept = read.clone();
        kept.for_analysis();
        assert_eq!((&kept.source, &kept.reporting_instance), (&None, &None));
        assert_eq!(kept.involved_object.resource_version, None);
        assert_eq!(
            kept.involved_object.uid.as_deref(),
            Some("u-1"),
            "matched by uid"
        );
        assert_eq!(
            (&kept.reason, &kept.message, kept.count, &kept.type_),
            (&read.reason, &read.message, read.count, &read.type_)
        );
    }

    #[test]
    fn an_owned_replica_set_keeps_no_template_and_no_workload_its_selector() {
        let owned = r#"{"metadata":{"name":"web-7f","namespace":"shop","uid":"u-7f",
            "labels":{"app":"web","pod-template-hash":"7f"},
            "ownerReferences":[{"apiVersion":"apps/v1","kind":"Deployment","name":"web","uid":"u"}]},
          "spec":{"replicas":2,"selector":{"matchLabels":{"app":"web","pod-template-hash":"7f"}},
            "template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"app"}]}}},
          "status":{"replicas":2,"readyReplicas":1}}"#;
        let read: ReplicaSet = serde_json::from_str(owned).expect("rs");
        let mut kept = read.clone();
        kept.for_analysis();
        let spec = kept.spec.as_ref().expect("spec");
        assert_eq!(spec.template, None);
        assert_eq!(spec.selector, Default::default());
        let m = (
            &kept.metadata.name,
            &kept.metadata.uid,
            &kept.metadata.owner_references,
        );
        assert_eq!(
            m,
            (
                &read.metadata.name,
                &read.metadata.uid,
                &read.metadata.owner_references
            )
        );
        assert_eq!(kept.status, read.status);
        // One nobody owns is a workload of its own: it keeps its template (its selector goes
        // as every workload's does).
        let mut alone = read.clone();
        alone.metadata.owner_references = None;
        let mut kept = alone.clone();
        kept.for_analysis();
        let spec = kept.spec.expect("spec");
        assert_eq!(spec.selector, Default::default());
        assert!(spec.template.is_some());
    }
}
