//! The cluster state every analyzer reads: typed objects, events indexed by the object they
//! are about, and a handle on container logs.
//!
//! Sources (the snapshot reader today, the live kube-rs collector later) produce a
//! [`ClusterState`]; nothing downstream knows which one did.

use crate::logs::LogStore;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{
    ConfigMap, Event, Namespace, Node, PersistentVolume, PersistentVolumeClaim, Pod,
    ReplicationController, ResourceQuota, Service, ServiceAccount,
};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::networking::v1::{Ingress, IngressClass, NetworkPolicy};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::api::storage::v1::StorageClass;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::{Hash, Hasher};

mod as_json;
mod beside;
mod compact;
mod env;
mod keep;
mod resources;
mod volumes;
pub use as_json::{WORKLOAD_KINDS, WorkloadJson};
pub use beside::{ContainerParts, Moved, SpecTable};
pub use env::{KeyKind, PodEnvVar};
pub use keep::Keep;
pub use resources::PodResources;
pub use volumes::{Named, PodVolume, Projection};

/// Where the state came from; printed in headers and the JSON `source`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceInfo {
    pub kind: SourceKind,
    pub path_or_context: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    Snapshot,
    Live,
}

impl SourceKind {
    /// How reports name it before the path or context: `snapshot PATH`, `context NAME`.
    pub fn label(self) -> &'static str {
        match self {
            SourceKind::Snapshot => "snapshot",
            SourceKind::Live => "context",
        }
    }
}

/// What a source could not provide, so output can say what is missing instead of silently
/// analysing less.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LoadReport {
    /// Files that could not be parsed: (path, reason).
    pub skipped_files: Vec<(String, String)>,
    /// Objects inside a parsed file that could not be read as their kind: (where, reason).
    pub skipped_objects: Vec<(String, String)>,
    /// Secrets present in the source and deliberately not loaded.
    pub secrets_skipped: usize,
    /// Objects of kinds Sextant does not analyse (counted per kind).
    pub other_kinds: HashMap<String, usize>,
    /// Kinds that could not be read at all (e.g. a 403 on a live cluster), with the reason.
    pub unreadable_kinds: Vec<(String, String)>,
    /// True when the state carries no status (plain manifests, e.g. a Git repository):
    /// status-based checks are skipped.
    pub manifests_only: bool,
    pub files_read: usize,
    /// Problems with the capture itself that change what the findings mean (objects read
    /// without names, nothing understood): printed on stderr and at the top of every report.
    pub warnings: Vec<String>,
}

/// Calls `$m!(pods, deployments, …)` with every list of typed objects in [`ClusterState`]: code
/// that must touch each of them (counting, joining the per-file states of a snapshot) names
/// them once, here, so a kind added to the state is not silently left out.
macro_rules! object_lists {
    ($m:ident) => {
        $m!(
            pods,
            deployments,
            replica_sets,
            stateful_sets,
            daemon_sets,
            replication_controllers,
            jobs,
            cron_jobs,
            services,
            endpoint_slices,
            ingresses,
            ingress_classes,
            network_policies,
            pvcs,
            pvs,
            storage_classes,
            nodes,
            namespaces,
            hpas,
            pdbs,
            resource_quotas,
            config_maps,
            service_accounts,
            events
        )
    };
}
pub(crate) use object_lists;

/// Everything Sextant knows about one cluster at one moment.
#[derive(Default)]
pub struct ClusterState {
    pub pods: Vec<Pod>,
    pub deployments: Vec<Deployment>,
    pub replica_sets: Vec<ReplicaSet>,
    pub stateful_sets: Vec<StatefulSet>,
    pub daemon_sets: Vec<DaemonSet>,
    pub replication_controllers: Vec<ReplicationController>,
    pub jobs: Vec<Job>,
    pub cron_jobs: Vec<CronJob>,
    pub services: Vec<Service>,
    pub endpoint_slices: Vec<EndpointSlice>,
    pub ingresses: Vec<Ingress>,
    pub ingress_classes: Vec<IngressClass>,
    pub network_policies: Vec<NetworkPolicy>,
    pub pvcs: Vec<PersistentVolumeClaim>,
    pub pvs: Vec<PersistentVolume>,
    pub storage_classes: Vec<StorageClass>,
    pub nodes: Vec<Node>,
    pub namespaces: Vec<Namespace>,
    pub hpas: Vec<HorizontalPodAutoscaler>,
    pub pdbs: Vec<PodDisruptionBudget>,
    pub resource_quotas: Vec<ResourceQuota>,
    pub config_maps: Vec<ConfigMap>,
    pub service_accounts: Vec<ServiceAccount>,
    pub events: Vec<Event>,
    /// Secret names known from references or a listing of metadata only; the data of a
    /// Secret is never read.
    pub secret_names: BTreeSet<(String, String)>,
    /// Whether `secret_names` is authoritative (a metadata listing was available).
    pub secret_names_known: bool,
    /// Objects of other kinds (custom resources, operators' objects) that report
    /// `status.conditions` or `status.phase`: what the generic condition analyzer reads.
    pub conditioned: Vec<ConditionedObject>,
    /// Workloads kept as JSON text, not typed, in a state read for `policy check`
    /// ([`ClusterState::keeping_workloads_as_json`]); empty otherwise.
    pub workload_json: Vec<WorkloadJson>,
    /// What readers keep of the objects they read into this state.
    keep: Keep,
    pub logs: LogStore,
    pub report: LoadReport,
    /// The moment the state describes: the newest timestamp seen in a snapshot, or now for a
    /// live cluster. "Recent" is measured from here, so an old dump reads as it did then.
    pub observed_at: Option<jiff::Timestamp>,
    /// How long before `observed_at` a failure still counts as current, in minutes
    /// (`[analyze] recent_minutes`); `None`: the analyzers' default (30).
    pub recent_minutes: Option<i64>,
    /// The file each object was read from, keyed by (kind, namespace, name): manifests read
    /// with `--snapshot` are located in SARIF output. Empty for a live cluster.
    pub origins: BTreeMap<(String, String, String), String>,
    /// What pasted evidence says beyond objects: what kubectl reported missing, `kubectl top`
    /// figures, which listings are complete.
    pub evidence: EvidenceFacts,
    event_index: HashMap<u64, Vec<usize>>,
    /// The volumes, variables, requests and limits a state read for `analyze` moved out of
    /// its pod specs ([`ClusterState::volumes_of`], [`ClusterState::env_of`] and
    /// [`ClusterState::resources_of`] read them).
    pub(crate) spec_parts: SpecTable,
}

/// What pasted evidence (`ask --evidence`) says beyond objects.
#[derive(Debug, Clone, Default)]
pub struct EvidenceFacts {
    /// The state is a handful of pasted outputs, not a capture: that an object is missing from
    /// it proves nothing unless a listing of its kind and namespace is complete (`listed`).
    pub partial: bool,
    /// (kind, namespace or `*`) of which the evidence holds a complete listing (a
    /// `kubectl get` table or a List); kind `*`: a manifest bundle that creates the namespace
    /// itself defines everything in it.
    pub listed: BTreeSet<(String, String)>,
    /// Objects kubectl said do not exist (`Error from server (NotFound)`).
    pub absent: Vec<Absent>,
    /// `kubectl top` rows.
    pub usage: Vec<Usage>,
}

impl EvidenceFacts {
    /// Whether the absence of a `kind` object in `ns` is a fact of this state: always for a
    /// capture or a live cluster, for pasted evidence only inside a complete listing.
    pub fn absence_known(&self, kind: &str, ns: &str) -> bool {
        !self.partial
            || self.listed.contains(&(kind.to_string(), ns.to_string()))
            || self.listed.contains(&(kind.to_string(), "*".to_string()))
            || self.listed.contains(&("*".to_string(), ns.to_string()))
    }

    /// Whether kubectl said this object does not exist.
    pub fn said_absent(&self, kind: &str, ns: &str, name: &str) -> bool {
        self.absent.iter().any(|a| {
            a.kind == kind && a.name == name && a.namespace.as_deref().is_none_or(|n| n == ns)
        })
    }

    /// Whether the absence of `kind` `name` in `ns` can be claimed.
    pub fn missing_is_fact(&self, kind: &str, ns: &str, name: &str) -> bool {
        self.absence_known(kind, ns) || self.said_absent(kind, ns, name)
    }
}

/// An object kubectl reported missing, with its words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Absent {
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    pub message: String,
}

/// One `kubectl top pod|node` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Usage {
    /// `Pod` or `Node`.
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    pub cpu: String,
    pub memory: String,
}

/// An object of a kind Sextant has no typed model for, reduced to what its status says.
#[derive(Debug, Clone, Default)]
pub struct ConditionedObject {
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    pub phase: Option<String>,
    pub conditions: Vec<ObjectCondition>,
    /// Names of other objects its status refers to (an OLM Subscription's InstallPlan), so one
    /// cause is reported once.
    pub status_refs: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct ObjectCondition {
    pub type_: String,
    pub status: String,
    pub reason: Option<String>,
    pub message: Option<String>,
    pub last_transition: Option<jiff::Timestamp>,
}

impl ConditionedObject {
    /// Read from any object's JSON: `None` when it carries neither conditions nor a phase.
    pub fn from_value(kind: &str, obj: &serde_json::Value) -> Option<Self> {
        use serde_json::Value;
        let status = obj.get("status")?;
        let str_of = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        let conditions: Vec<ObjectCondition> = status
            .get("conditions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|c| {
                Some(ObjectCondition {
                    type_: str_of(c, "type")?,
                    status: str_of(c, "status")?,
                    reason: str_of(c, "reason"),
                    message: str_of(c, "message"),
                    last_transition: str_of(c, "lastTransitionTime").and_then(|t| t.parse().ok()),
                })
            })
            .collect();
        let phase = str_of(status, "phase");
        if conditions.is_empty() && phase.is_none() {
            return None;
        }
        let meta = obj.get("metadata")?;
        let mut status_refs = Vec::new();
        for key in ["installPlanRef", "installplan"] {
            if let Some(n) = status.get(key).and_then(|r| str_of(r, "name")) {
                status_refs.push(n);
            }
        }
        Some(ConditionedObject {
            kind: kind.to_string(),
            namespace: str_of(meta, "namespace"),
            name: str_of(meta, "name")?,
            phase,
            conditions,
            status_refs,
        })
    }
}

/// How events are matched to objects: by uid when both sides have one, else by
/// kind+namespace+name. The index holds a hash of each key, not its strings (two keys an
/// event were ~5 MB on 16,000 events, and a lookup built three strings); [`events_for`]
/// checks every event it finds against the object, so keys that share a hash never mix.
///
/// [`events_for`]: ClusterState::events_for
fn uid_key(uid: &str) -> u64 {
    let mut h = std::hash::DefaultHasher::new();
    (0u8, uid).hash(&mut h);
    h.finish()
}

fn name_key(kind: &str, namespace: &str, name: &str) -> u64 {
    let mut h = std::hash::DefaultHasher::new();
    (1u8, kind, namespace, name).hash(&mut h);
    h.finish()
}

/// The namespace of the object an event is about (its own, for events that leave it out).
fn event_namespace(ev: &Event) -> &str {
    let io = &ev.involved_object;
    io.namespace
        .as_deref()
        .or(ev.metadata.namespace.as_deref())
        .unwrap_or_default()
}

impl ClusterState {
    /// Build the event index. Call once after all objects are loaded.
    pub fn index_events(&mut self) {
        self.event_index.clear();
        for (i, ev) in self.events.iter().enumerate() {
            let io = &ev.involved_object;
            if let Some(uid) = io.uid.as_deref().filter(|u| !u.is_empty()) {
                self.event_index.entry(uid_key(uid)).or_default().push(i);
            }
            let kind = io.kind.as_deref().unwrap_or_default();
            let name = io.name.as_deref().unwrap_or_default();
            let key = name_key(kind, event_namespace(ev), name);
            self.event_index.entry(key).or_default().push(i);
        }
    }

    /// Events about one object, oldest first, each once.
    pub fn events_for(&self, kind: &str, meta: &ObjectMeta) -> Vec<&Event> {
        let ns = meta.namespace.as_deref().unwrap_or_default();
        let name = meta.name.as_deref().unwrap_or_default();
        let found = |key: u64, about: &dyn Fn(&Event) -> bool| -> Vec<usize> {
            let at = self.event_index.get(&key).into_iter().flatten().copied();
            at.filter(|&i| self.events.get(i).is_some_and(about))
                .collect()
        };
        let mut idx: Vec<usize> = Vec::new();
        if let Some(uid) = meta.uid.as_deref().filter(|u| !u.is_empty()) {
            idx.extend(found(uid_key(uid), &|e| {
                e.involved_object.uid.as_deref() == Some(uid)
            }));
        }
        idx.extend(found(name_key(kind, ns, name), &|e| {
            let io = &e.involved_object;
            io.kind.as_deref().unwrap_or_default() == kind
                && io.name.as_deref().unwrap_or_default() == name
                && event_namespace(e) == ns
        }));
        idx.sort_unstable();
        idx.dedup();
        let mut out: Vec<&Event> = idx.iter().filter_map(|&i| self.events.get(i)).collect();
        out.sort_by_key(|e| event_time(e));
        out
    }

    /// Namespaces present in the state (from objects, not only Namespace objects).
    pub fn namespace_names(&self) -> BTreeSet<String> {
        let mut set = BTreeSet::new();
        for n in &self.namespaces {
            if let Some(name) = &n.metadata.name {
                set.insert(name.clone());
            }
        }
        let mut add = |ns: &Option<String>| {
            if let Some(ns) = ns {
                set.insert(ns.clone());
            }
        };
        macro_rules! each {
            ($($field:ident),*) => { $( for o in &self.$field { add(&o.metadata.namespace); } )* };
        }
        each!(
            pods,
            deployments,
            stateful_sets,
            daemon_sets,
            jobs,
            cron_jobs,
            services,
            ingresses,
            pvcs,
            hpas,
            pdbs
        );
        for o in &self.workload_json {
            if let Some(ns) = &o.namespace {
                set.insert(ns.to_string());
            }
        }
        set
    }

    /// Total number of objects loaded (all kinds), for summaries.
    /// The name of every object the state holds, plus the Secret names it knows (for
    /// anonymisation: any of them may appear in text sent to a model).
    pub fn object_names(&self) -> BTreeSet<String> {
        fn names<T: k8s_openapi::Metadata<Ty = ObjectMeta>>(
            items: &[T],
        ) -> impl Iterator<Item = String> + '_ {
            items.iter().filter_map(|i| i.metadata().name.clone())
        }
        let mut out = BTreeSet::new();
        out.extend(names(&self.pods));
        out.extend(names(&self.deployments));
        out.extend(names(&self.replica_sets));
        out.extend(names(&self.stateful_sets));
        out.extend(names(&self.daemon_sets));
        out.extend(names(&self.replication_controllers));
        out.extend(names(&self.jobs));
        out.extend(names(&self.cron_jobs));
        out.extend(names(&self.services));
        out.extend(names(&self.ingresses));
        out.extend(names(&self.network_policies));
        out.extend(names(&self.pvcs));
        out.extend(names(&self.pvs));
        out.extend(names(&self.nodes));
        out.extend(names(&self.hpas));
        out.extend(names(&self.pdbs));
        out.extend(names(&self.config_maps));
        out.extend(names(&self.service_accounts));
        out.extend(self.secret_names.iter().map(|(_, n)| n.clone()));
        // Names referenced by pods (Secrets, ConfigMaps, claims) that are not objects here.
        for p in &self.pods {
            let Some(spec) = &p.spec else { continue };
            for c in &spec.containers {
                for e in self.env_of("Pod", &p.metadata, c).iter() {
                    out.extend(e.key_ref.as_ref().map(|(_, name, _)| name.clone()));
                }
                for f in c.env_from.iter().flatten() {
                    out.extend(f.secret_ref.as_ref().map(|r| r.name.clone()));
                    out.extend(f.config_map_ref.as_ref().map(|r| r.name.clone()));
                }
            }
            for v in self.volumes_of("Pod", &p.metadata, spec).iter() {
                out.extend(v.secret.as_ref().map(|s| s.name.clone()));
                out.extend(v.config_map.as_ref().map(|c| c.name.clone()));
                out.extend(v.claim.clone());
            }
        }
        out.retain(|n| !n.is_empty());
        out
    }

    /// The objects of `kind` (a kind, plural or short name, any case) named `name` (in
    /// `namespace` when given), as JSON with `apiVersion` and `kind`. Secrets are never here.
    pub fn find_objects(
        &self,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Vec<(&'static str, serde_json::Value)> {
        fn pick<T: k8s_openapi::Metadata<Ty = ObjectMeta> + Serialize>(
            kind: &'static str,
            items: &[T],
            namespace: Option<&str>,
            name: &str,
        ) -> Vec<(&'static str, serde_json::Value)> {
            items
                .iter()
                .filter(|i| {
                    let m = i.metadata();
                    m.name.as_deref() == Some(name)
                        // An object that names no namespace is in `default` (a manifest
                        // applied without `-n`), and a cluster-scoped one in none.
                        && namespace.is_none_or(|ns| {
                            let own = m.namespace.as_deref().unwrap_or("");
                            own == ns || (own.is_empty() && (ns == "default" || ns.is_empty()))
                        })
                })
                .filter_map(|i| serde_json::to_value(i).ok().map(|v| (kind, v)))
                .collect()
        }
        let lower = kind.to_ascii_lowercase();
        let Some(kind) = crate::source::snapshot::kind_for_plural(&lower) else {
            return Vec::new();
        };
        match kind {
            "Pod" => pick(kind, &self.pods, namespace, name),
            "Deployment" => pick(kind, &self.deployments, namespace, name),
            "ReplicaSet" => pick(kind, &self.replica_sets, namespace, name),
            "StatefulSet" => pick(kind, &self.stateful_sets, namespace, name),
            "DaemonSet" => pick(kind, &self.daemon_sets, namespace, name),
            "ReplicationController" => pick(kind, &self.replication_controllers, namespace, name),
            "Job" => pick(kind, &self.jobs, namespace, name),
            "CronJob" => pick(kind, &self.cron_jobs, namespace, name),
            "Service" => pick(kind, &self.services, namespace, name),
            "EndpointSlice" => pick(kind, &self.endpoint_slices, namespace, name),
            "Ingress" => pick(kind, &self.ingresses, namespace, name),
            "IngressClass" => pick(kind, &self.ingress_classes, namespace, name),
            "NetworkPolicy" => pick(kind, &self.network_policies, namespace, name),
            "PersistentVolumeClaim" => pick(kind, &self.pvcs, namespace, name),
            "PersistentVolume" => pick(kind, &self.pvs, namespace, name),
            "StorageClass" => pick(kind, &self.storage_classes, namespace, name),
            "Node" => pick(kind, &self.nodes, namespace, name),
            "Namespace" => pick(kind, &self.namespaces, namespace, name),
            "HorizontalPodAutoscaler" => pick(kind, &self.hpas, namespace, name),
            "PodDisruptionBudget" => pick(kind, &self.pdbs, namespace, name),
            "ResourceQuota" => pick(kind, &self.resource_quotas, namespace, name),
            "ConfigMap" => pick(kind, &self.config_maps, namespace, name),
            "ServiceAccount" => pick(kind, &self.service_accounts, namespace, name),
            "Event" => pick(kind, &self.events, namespace, name),
            _ => Vec::new(),
        }
    }

    pub fn object_count(&self) -> usize {
        macro_rules! count {
            ($($f:ident),*) => { 0 $( + self.$f.len() )* };
        }
        object_lists!(count) + self.workload_json.len()
    }

    /// Keep only objects in the given namespaces (cluster-scoped objects stay).
    pub fn retain_namespaces(&mut self, keep: &dyn Fn(&str) -> bool) {
        fn ok(meta: &ObjectMeta, keep: &dyn Fn(&str) -> bool) -> bool {
            meta.namespace.as_deref().is_none_or(keep)
        }
        macro_rules! retain {
            ($($field:ident),*) => { $( self.$field.retain(|o| ok(&o.metadata, keep)); )* };
        }
        // Cluster-scoped objects have no namespace and stay; Namespaces go by their name.
        object_lists!(retain);
        self.namespaces
            .retain(|n| n.metadata.name.as_deref().is_none_or(keep));
        self.conditioned
            .retain(|o| o.namespace.as_deref().is_none_or(keep));
        self.workload_json
            .retain(|o| o.namespace.as_deref().is_none_or(keep));
        // Everything keyed by namespace goes too: logs, Secret names, where objects came from.
        self.logs.retain_namespaces(keep);
        self.secret_names.retain(|(ns, _)| keep(ns));
        self.origins
            .retain(|(_, ns, _), _| ns.is_empty() || keep(ns));
        self.evidence
            .absent
            .retain(|a| a.namespace.as_deref().is_none_or(keep));
        self.evidence
            .usage
            .retain(|u| u.namespace.as_deref().is_none_or(keep));
        self.index_events();
    }
}

/// The best time an event carries: last seen, then event time, then first seen, then creation.
pub fn event_time(ev: &Event) -> Option<jiff::Timestamp> {
    ev.last_timestamp
        .as_ref()
        .map(|t| t.0)
        .or_else(|| ev.event_time.as_ref().map(|t| t.0))
        .or_else(|| {
            ev.series
                .as_ref()
                .and_then(|s| s.last_observed_time.as_ref().map(|t| t.0))
        })
        .or_else(|| ev.first_timestamp.as_ref().map(|t| t.0))
        .or_else(|| ev.metadata.creation_timestamp.as_ref().map(|t| t.0))
}

/// Whether an object names any owner: a controller's ReplicaSet, Job or pod, an operator's
/// Service; not a top-level workload. Any owner counts, controller or not (what
/// `analyzers::workload::all` and the readers' [`Keep`] modes must agree on).
pub fn has_owner(meta: &ObjectMeta) -> bool {
    meta.owner_references
        .as_ref()
        .is_some_and(|r| !r.is_empty())
}

/// ConfigMaps Kubernetes itself publishes in every namespace (the cluster's CA bundle; its
/// service CA on OpenShift): a reference to one is never missing.
pub const BUILT_IN_CONFIGMAPS: &[&str] = &["kube-root-ca.crt", "openshift-service-ca.crt"];

/// Namespaces whose workloads are the platform's own; hygiene findings are not reported there.
pub fn is_system_namespace(ns: &str) -> bool {
    matches!(
        ns,
        "kube-system" | "kube-public" | "kube-node-lease" | "local-path-storage"
    ) || ns.starts_with("openshift")
        || ns.starts_with("kube-")
        || ns == "gatekeeper-system"
        || ns == "kyverno"
        || ns == "cert-manager"
}
