//! Workloads as "something with a pod template": the unit hygiene findings are reported on,
//! and what Services and policies match when a state has no pods (plain manifests).

use super::owners::Owners;
use crate::state::{ClusterState, PodEnvVar, PodResources, PodVolume, has_owner};
use k8s_openapi::api::core::v1::{Container, PodSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use std::borrow::Cow;
use std::collections::BTreeMap;

pub struct Workload<'a> {
    pub kind: &'static str,
    pub meta: &'a ObjectMeta,
    pub labels: Option<&'a BTreeMap<String, String>>,
    pub spec: &'a PodSpec,
    /// Replicas it asks for, when it says.
    pub replicas: Option<i32>,
    /// The controller's name when the workload stands for a controller that is not in the
    /// capture, read through one of its pods (`meta` is then the pod's).
    pub name_override: Option<String>,
}

impl<'a> Workload<'a> {
    /// The volumes of its pod spec ([`ClusterState::volumes_of`]).
    pub fn volumes(&self, st: &'a ClusterState) -> Cow<'a, [PodVolume]> {
        st.volumes_of(self.holder(), self.meta, self.spec)
    }

    /// The environment variables of its container `c` ([`ClusterState::env_of`]).
    pub fn env(&self, st: &'a ClusterState, c: &'a Container) -> Cow<'a, [PodEnvVar]> {
        st.env_of(self.holder(), self.meta, c)
    }

    /// The requests and limits of its container `c` ([`ClusterState::resources_of`]).
    pub fn resources(&self, st: &'a ClusterState, c: &'a Container) -> Cow<'a, PodResources> {
        st.resources_of(self.holder(), self.meta, c)
    }

    /// The kind of the object `meta` is: `kind`, but a pod's when the workload stands for a
    /// controller not in the capture.
    fn holder(&self) -> &'static str {
        match self.name_override {
            Some(_) => "Pod",
            None => self.kind,
        }
    }

    pub fn ns(&self) -> &str {
        self.meta.namespace.as_deref().unwrap_or("default")
    }
    pub fn name(&self) -> &str {
        self.name_override
            .as_deref()
            .or(self.meta.name.as_deref())
            .unwrap_or("")
    }
    /// A finding about this workload, its blast radius the replicas it asks for.
    pub fn draft(
        &self,
        severity: crate::findings::Severity,
        category: crate::findings::Category,
        title: String,
    ) -> super::Draft {
        super::Draft {
            severity,
            category,
            object: crate::findings::ObjectRef::new(self.kind, Some(self.ns()), self.name()),
            owner: None,
            title,
            explanation: String::new(),
            evidence: Vec::new(),
            remediation: String::new(),
            score: self.replicas.unwrap_or(1).max(1) as u64,
        }
    }

    /// Long-running workloads are expected to have probes; run-to-completion ones are not.
    pub fn long_running(&self) -> bool {
        !matches!(self.kind, "Job" | "CronJob")
    }
}

/// Every top-level workload: controllers, and pods nobody controls (`owners` of `state`).
pub fn all<'a>(state: &'a ClusterState, owners: &Owners) -> Vec<Workload<'a>> {
    let mut out = Vec::new();
    for d in &state.deployments {
        if let Some(s) = &d.spec
            && let Some(spec) = &s.template.spec
        {
            out.push(Workload {
                kind: "Deployment",
                meta: &d.metadata,
                labels: s.template.metadata.as_ref().and_then(|m| m.labels.as_ref()),
                spec,
                replicas: s.replicas,
                name_override: None,
            });
        }
    }
    for d in &state.stateful_sets {
        if let Some(s) = &d.spec
            && let Some(spec) = &s.template.spec
        {
            out.push(Workload {
                kind: "StatefulSet",
                meta: &d.metadata,
                labels: s.template.metadata.as_ref().and_then(|m| m.labels.as_ref()),
                spec,
                replicas: s.replicas,
                name_override: None,
            });
        }
    }
    for d in &state.daemon_sets {
        if let Some(s) = &d.spec
            && let Some(spec) = &s.template.spec
        {
            out.push(Workload {
                kind: "DaemonSet",
                meta: &d.metadata,
                labels: s.template.metadata.as_ref().and_then(|m| m.labels.as_ref()),
                spec,
                replicas: None,
                name_override: None,
            });
        }
    }
    for d in state
        .replica_sets
        .iter()
        .filter(|r| !has_owner(&r.metadata))
    {
        if let Some(s) = &d.spec
            && let Some(t) = &s.template
            && let Some(spec) = &t.spec
        {
            out.push(Workload {
                kind: "ReplicaSet",
                meta: &d.metadata,
                labels: t.metadata.as_ref().and_then(|m| m.labels.as_ref()),
                spec,
                replicas: s.replicas,
                name_override: None,
            });
        }
    }
    for d in state
        .replication_controllers
        .iter()
        .filter(|r| !has_owner(&r.metadata))
    {
        if let Some(s) = &d.spec
            && let Some(t) = &s.template
            && let Some(spec) = &t.spec
        {
            out.push(Workload {
                kind: "ReplicationController",
                meta: &d.metadata,
                labels: t.metadata.as_ref().and_then(|m| m.labels.as_ref()),
                spec,
                replicas: s.replicas,
                name_override: None,
            });
        }
    }
    for d in &state.cron_jobs {
        if let Some(s) = &d.spec
            && let Some(js) = &s.job_template.spec
            && let Some(spec) = &js.template.spec
        {
            out.push(Workload {
                kind: "CronJob",
                meta: &d.metadata,
                labels: js
                    .template
                    .metadata
                    .as_ref()
                    .and_then(|m| m.labels.as_ref()),
                spec,
                replicas: None,
                name_override: None,
            });
        }
    }
    for d in state.jobs.iter().filter(|r| !has_owner(&r.metadata)) {
        if let Some(s) = &d.spec
            && let Some(spec) = &s.template.spec
        {
            out.push(Workload {
                kind: "Job",
                meta: &d.metadata,
                labels: s.template.metadata.as_ref().and_then(|m| m.labels.as_ref()),
                spec,
                replicas: None,
                name_override: None,
            });
        }
    }
    for p in state.pods.iter().filter(|p| !has_owner(&p.metadata)) {
        // Static/mirror pods are the node's, not a workload anyone deploys.
        let mirror = p
            .metadata
            .annotations
            .as_ref()
            .is_some_and(|a| a.contains_key("kubernetes.io/config.mirror"));
        if let Some(spec) = &p.spec
            && !mirror
        {
            out.push(Workload {
                kind: "Pod",
                meta: &p.metadata,
                labels: p.metadata.labels.as_ref(),
                spec,
                replicas: Some(1),
                name_override: None,
            });
        }
    }
    orphans(state, owners, &mut out);
    out
}

/// Pods whose controller is not in the capture (a support bundle without that kind, a
/// namespace listed only for pods) still get their hygiene checks: once per controller,
/// through the first of its pods, named after the controller its ownerReferences name.
fn orphans<'a>(state: &'a ClusterState, owners: &Owners, out: &mut Vec<Workload<'a>>) {
    let mut present: std::collections::HashSet<(String, String, String)> = out
        .iter()
        .map(|w| (w.kind.to_string(), w.ns().to_string(), w.name().to_string()))
        .collect();
    for p in state.pods.iter().filter(|p| has_owner(&p.metadata)) {
        let Some(top) = owners.top(&p.metadata) else {
            continue; // the Node's static pods
        };
        let Some(spec) = &p.spec else { continue };
        let ns = p
            .metadata
            .namespace
            .clone()
            .unwrap_or_else(|| "default".into());
        let key = (top.kind.clone(), ns, top.name.clone());
        if present.contains(&key) {
            continue;
        }
        let kind = match top.kind.as_str() {
            "Deployment" => "Deployment",
            "StatefulSet" => "StatefulSet",
            "DaemonSet" => "DaemonSet",
            "ReplicaSet" => "ReplicaSet",
            "ReplicationController" => "ReplicationController",
            "Job" => "Job",
            "CronJob" => "CronJob",
            // A custom controller: the pod stands for itself.
            _ => "Pod",
        };
        present.insert(key);
        out.push(Workload {
            kind,
            meta: &p.metadata,
            labels: p.metadata.labels.as_ref(),
            spec,
            replicas: None,
            name_override: (kind != "Pod").then(|| top.name.clone()),
        });
    }
}
