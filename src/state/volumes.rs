//! What the analyzers read of a pod spec's volumes, and where a state read for `analyze` keeps
//! it: beside the objects, not in their specs.
//!
//! Why: k8s-openapi holds every `Volume` in 3,208 bytes, whichever of its thirty sources it
//! uses (each is an inline `Option`). On the realistic dump of `benches/analyze.rs` the volumes
//! left after dropping those no analyzer reads (one ConfigMap volume per pod and per template)
//! were 46 MB of a 288 MB heap; a [`PodVolume`] is 160 bytes. A state read for `analyze`
//! (`Keep::ForAnalysis`) moves the volumes out of each pod and template into a
//! [`VolumeTable`], keyed by the object that holds them; every other state keeps them in the
//! spec, and [`ClusterState::volumes_of`] reads whichever is there, so an analyzer reads one
//! way.
//!
//! Caveat: a spec whose volumes were moved is no longer the object as read; only the analyzers
//! read such a state (`policy check`, the REPL and MCP read states that keep everything).

use super::ClusterState;
use k8s_openapi::api::core::v1::{PodSpec, Volume};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use std::borrow::Cow;
use std::collections::HashMap;

/// A ConfigMap or Secret a volume names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    /// Empty when the volume names none (a Secret volume without `secretName`).
    pub name: String,
    pub optional: Option<bool>,
}

/// One source of a projected volume, of those the analyzers read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Projection {
    pub config_map: Option<Named>,
    pub secret: Option<Named>,
}

/// What the analyzers read of a volume: its name, the ConfigMap, Secret or claim it names
/// (`references`, `storage`), its host path (`security`), its projected sources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodVolume {
    pub name: String,
    pub config_map: Option<Named>,
    pub secret: Option<Named>,
    pub claim: Option<String>,
    pub host_path: Option<String>,
    pub projected: Vec<Projection>,
}

impl From<&Volume> for PodVolume {
    fn from(v: &Volume) -> Self {
        let projected = v.projected.iter().flat_map(|p| p.sources.iter().flatten());
        PodVolume {
            name: v.name.clone(),
            config_map: v.config_map.as_ref().map(|c| Named {
                name: c.name.clone(),
                optional: c.optional,
            }),
            secret: v.secret.as_ref().map(|s| Named {
                name: s.secret_name.clone().unwrap_or_default(),
                optional: s.optional,
            }),
            claim: v
                .persistent_volume_claim
                .as_ref()
                .map(|c| c.claim_name.clone()),
            host_path: v.host_path.as_ref().map(|h| h.path.clone()),
            projected: projected
                .map(|src| Projection {
                    config_map: src.config_map.as_ref().map(|c| Named {
                        name: c.name.clone(),
                        optional: c.optional,
                    }),
                    secret: src.secret.as_ref().map(|s| Named {
                        name: s.name.clone(),
                        optional: s.optional,
                    }),
                })
                .filter(|p| p.config_map.is_some() || p.secret.is_some())
                .collect(),
        }
    }
}

impl PodVolume {
    /// Whether an analyzer reads anything of it. Not the service account's token volume
    /// (`kube-api-access-*`: a token, the cluster's CA ConfigMap, the namespace from the
    /// downward API), an `emptyDir` or a downward-API volume.
    fn read_by_analyzers(&self) -> bool {
        let built_in = |c: &Named| super::BUILT_IN_CONFIGMAPS.contains(&c.name.as_str());
        self.config_map.is_some()
            || self.secret.is_some()
            || self.claim.is_some()
            || self.host_path.is_some()
            || self
                .projected
                .iter()
                .any(|p| p.secret.is_some() || p.config_map.as_ref().is_some_and(|c| !built_in(c)))
    }
}

/// The kinds of object whose spec is, or holds, a pod spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Holder {
    Pod,
    Deployment,
    StatefulSet,
    DaemonSet,
    ReplicaSet,
    ReplicationController,
    Job,
    CronJob,
}

impl Holder {
    /// The holder of that kind, if it holds a pod spec.
    pub fn of_kind(kind: &str) -> Option<Holder> {
        Some(match kind {
            "Pod" => Holder::Pod,
            "Deployment" => Holder::Deployment,
            "StatefulSet" => Holder::StatefulSet,
            "DaemonSet" => Holder::DaemonSet,
            "ReplicaSet" => Holder::ReplicaSet,
            "ReplicationController" => Holder::ReplicationController,
            "Job" => Holder::Job,
            "CronJob" => Holder::CronJob,
            _ => return None,
        })
    }
}

/// The volumes moved out of the specs of a state read for `analyze`, by holder, namespace and
/// name. Nested maps so that a lookup borrows its key.
#[derive(Debug, Default)]
pub struct VolumeTable(HashMap<Holder, HashMap<String, HashMap<String, Vec<PodVolume>>>>);

impl VolumeTable {
    /// Keep `volumes` for the object `meta` of `holder`. The first object of a name is the one
    /// a state keeps (`dedupe`), so a later one does not replace its volumes.
    pub(super) fn insert(&mut self, holder: Holder, meta: &ObjectMeta, volumes: Vec<PodVolume>) {
        let ns = meta.namespace.clone().unwrap_or_default();
        let name = meta.name.clone().unwrap_or_default();
        let names = self.0.entry(holder).or_default().entry(ns).or_default();
        names.entry(name).or_insert(volumes);
    }

    fn get(&self, holder: Holder, meta: &ObjectMeta) -> Option<&[PodVolume]> {
        let ns = meta.namespace.as_deref().unwrap_or_default();
        let name = meta.name.as_deref().unwrap_or_default();
        let volumes = self.0.get(&holder)?.get(ns)?.get(name)?;
        Some(volumes)
    }

    /// Every volume of `from` this table does not have (an earlier part's stay).
    pub(crate) fn merge(&mut self, from: VolumeTable) {
        for (holder, namespaces) in from.0 {
            let into = self.0.entry(holder).or_default();
            for (ns, names) in namespaces {
                let into = into.entry(ns).or_default();
                for (name, volumes) in names {
                    into.entry(name).or_insert(volumes);
                }
            }
        }
    }
}

/// Take the volumes out of `spec`, as the analyzers read them: those no analyzer reads are
/// dropped (see [`PodVolume::read_by_analyzers`]).
pub(super) fn take(spec: &mut PodSpec) -> Vec<PodVolume> {
    let Some(volumes) = spec.volumes.take() else {
        return Vec::new();
    };
    let mut kept: Vec<PodVolume> = volumes
        .iter()
        .map(PodVolume::from)
        .filter(PodVolume::read_by_analyzers)
        .collect();
    kept.shrink_to_fit();
    kept
}

impl ClusterState {
    /// The volumes of `spec`, held by the object `meta` of kind `holder`, as the analyzers
    /// read them: from the spec where it has them, else from where a state read for
    /// `analyze` moved them.
    pub fn volumes_of<'a>(
        &'a self,
        holder: Holder,
        meta: &ObjectMeta,
        spec: &'a PodSpec,
    ) -> Cow<'a, [PodVolume]> {
        if let Some(v) = &spec.volumes {
            return Cow::Owned(v.iter().map(PodVolume::from).collect());
        }
        Cow::Borrowed(self.pod_volumes.get(holder, meta).unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(ns: &str, name: &str) -> ObjectMeta {
        ObjectMeta {
            namespace: Some(ns.into()),
            name: Some(name.into()),
            ..ObjectMeta::default()
        }
    }

    fn claim(name: &str) -> Vec<PodVolume> {
        let v: Volume = serde_json::from_value(serde_json::json!(
            {"name": "data", "persistentVolumeClaim": {"claimName": name}}
        ))
        .expect("volume");
        vec![PodVolume::from(&v)]
    }

    /// The point of the table: a volume as the analyzers read it is a small part of one as
    /// k8s-openapi holds it.
    #[test]
    fn a_pod_volume_is_a_twentieth_of_a_volume() {
        let (slim, whole) = (size_of::<PodVolume>(), size_of::<Volume>());
        assert!(slim * 20 <= whole, "{slim} against {whole}");
    }

    /// The first object of a name is the one a state keeps (`dedupe`), in one part or across
    /// the parts a snapshot is read in.
    #[test]
    fn the_first_object_of_a_name_keeps_its_volumes() {
        let spec = PodSpec::default();
        let mut st = ClusterState::default();
        st.pod_volumes
            .insert(Holder::Pod, &meta("shop", "web-1"), claim("first"));
        st.pod_volumes
            .insert(Holder::Pod, &meta("shop", "web-1"), claim("second"));
        let mut later = VolumeTable::default();
        later.insert(Holder::Pod, &meta("shop", "web-1"), claim("third"));
        later.insert(Holder::Pod, &meta("shop", "web-2"), claim("other"));
        st.pod_volumes.merge(later);
        let read = |name: &str| {
            st.volumes_of(Holder::Pod, &meta("shop", name), &spec)
                .iter()
                .filter_map(|v| v.claim.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(read("web-1"), ["first"]);
        assert_eq!(read("web-2"), ["other"]);
        assert!(read("web-3").is_empty());
        // A spec that has its volumes is read as it is.
        let spec = PodSpec {
            volumes: Some(vec![]),
            ..PodSpec::default()
        };
        assert!(
            st.volumes_of(Holder::Pod, &meta("shop", "web-1"), &spec)
                .is_empty()
        );
    }
}
