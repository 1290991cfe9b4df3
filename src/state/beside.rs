//! What a state read for `analyze` keeps of each pod spec beside the object that holds it,
//! rather than in the spec: its volumes ([`PodVolume`]), its containers' environment
//! variables ([`PodEnvVar`]) and their requests and limits ([`PodResources`]), as the analyzers
//! read them. k8s-openapi holds each in a struct of every source it may have, inline (a
//! `Volume` 3,208 bytes, an `EnvVar` 280), or in B-trees with room for eleven entries; the
//! analyzers read a name or two of each.
//!
//! A state read for `analyze` (`Keep::ForAnalysis`) moves them out of each pod and template
//! into a [`SpecTable`], keyed by the object that holds them; every other state keeps them in
//! the spec. [`ClusterState::volumes_of`], [`ClusterState::env_of`] and
//! [`ClusterState::resources_of`] read whichever is there, so an analyzer reads one way.
//!
//! Caveat: a spec whose parts were moved is no longer the object as read; only the analyzers
//! read such a state (`policy check`, the REPL and MCP read states that keep everything).

use super::ClusterState;
use super::env::PodEnvVar;
use super::resources::PodResources;
use super::volumes::PodVolume;
use k8s_openapi::api::core::v1::{Container, PodSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use std::borrow::Cow;
use std::collections::HashMap;

/// What was moved out of one pod spec.
#[derive(Debug, Default)]
pub struct Moved {
    pub volumes: Vec<PodVolume>,
    /// Its containers' parts (init containers first), those with any.
    pub containers: Vec<ContainerParts>,
}

/// What was moved out of one container of a pod spec.
#[derive(Debug, Default)]
pub struct ContainerParts {
    /// Unique across a pod's containers, init containers included.
    pub name: String,
    pub env: Vec<PodEnvVar>,
    pub resources: PodResources,
}

impl Moved {
    /// Take what the analyzers read of a spec's volumes and containers out of it.
    pub(super) fn take(spec: &mut PodSpec) -> Moved {
        let containers = spec.init_containers.iter_mut().flatten();
        let mut containers: Vec<ContainerParts> = containers
            .chain(spec.containers.iter_mut())
            .map(|c| ContainerParts {
                env: super::env::take(c),
                resources: c
                    .resources
                    .take()
                    .map(|r| PodResources::from(&r))
                    .unwrap_or_default(),
                name: c.name.clone(),
            })
            .filter(|p| !p.env.is_empty() || !p.resources.is_empty())
            .collect();
        containers.shrink_to_fit();
        Moved {
            containers,
            volumes: super::volumes::take(spec),
        }
    }

    fn is_empty(&self) -> bool {
        self.volumes.is_empty() && self.containers.is_empty()
    }
}

/// What was moved out of the specs of a state read for `analyze`, by the kind of the object
/// that holds the spec (one of [`super::WORKLOAD_KINDS`]), its namespace and name. Nested maps
/// so that a lookup borrows its key.
#[derive(Debug, Default)]
pub struct SpecTable(HashMap<&'static str, HashMap<String, HashMap<String, Moved>>>);

impl SpecTable {
    /// Keep what was moved out of the spec of the object `meta` of `kind`. The first object of
    /// a name is the one a state keeps (`dedupe`), so a later one does not replace it.
    pub(super) fn insert(&mut self, kind: &'static str, meta: &ObjectMeta, moved: Moved) {
        if moved.is_empty() {
            return;
        }
        let ns = meta.namespace.clone().unwrap_or_default();
        let name = meta.name.clone().unwrap_or_default();
        let names = self.0.entry(kind).or_default().entry(ns).or_default();
        names.entry(name).or_insert(moved);
    }

    fn get(&self, kind: &str, meta: &ObjectMeta) -> Option<&Moved> {
        let ns = meta.namespace.as_deref().unwrap_or_default();
        let name = meta.name.as_deref().unwrap_or_default();
        self.0.get(kind)?.get(ns)?.get(name)
    }

    /// Everything of `from` this table does not have (an earlier part's stays).
    pub(crate) fn merge(&mut self, from: SpecTable) {
        for (kind, namespaces) in from.0 {
            let into = self.0.entry(kind).or_default();
            for (ns, names) in namespaces {
                let into = into.entry(ns).or_default();
                for (name, moved) in names {
                    into.entry(name).or_insert(moved);
                }
            }
        }
    }
}

impl ClusterState {
    /// The volumes of `spec`, held by the object `meta` of `kind`, as the analyzers
    /// read them: from the spec where it has them, else from where a state read for
    /// `analyze` moved them.
    pub fn volumes_of<'a>(
        &'a self,
        kind: &str,
        meta: &ObjectMeta,
        spec: &'a PodSpec,
    ) -> Cow<'a, [PodVolume]> {
        if let Some(v) = &spec.volumes {
            return Cow::Owned(v.iter().map(PodVolume::from).collect());
        }
        let moved = self.spec_parts.get(kind, meta);
        Cow::Borrowed(moved.map(|m| m.volumes.as_slice()).unwrap_or_default())
    }

    /// The environment variables of container `c` of a pod spec held by the object `meta` of
    /// `kind`, as the analyzers read them: from the container where it has them, else
    /// from where a state read for `analyze` moved them.
    pub fn env_of<'a>(
        &'a self,
        kind: &str,
        meta: &ObjectMeta,
        c: &'a Container,
    ) -> Cow<'a, [PodEnvVar]> {
        if let Some(env) = &c.env {
            return Cow::Owned(env.iter().map(PodEnvVar::from).collect());
        }
        let moved = self.moved_container(kind, meta, c);
        Cow::Borrowed(moved.map(|m| m.env.as_slice()).unwrap_or_default())
    }

    /// The requests and limits of container `c` of a pod spec held by the object `meta` of
    /// `kind`, as the analyzers read them: from the container where it has them, else from
    /// where a state read for `analyze` moved them.
    pub fn resources_of<'a>(
        &'a self,
        kind: &str,
        meta: &ObjectMeta,
        c: &'a Container,
    ) -> Cow<'a, PodResources> {
        if let Some(r) = &c.resources {
            return Cow::Owned(PodResources::from(r));
        }
        let moved = self.moved_container(kind, meta, c);
        Cow::Borrowed(moved.map_or(&super::resources::NONE, |m| &m.resources))
    }

    fn moved_container(
        &self,
        kind: &str,
        meta: &ObjectMeta,
        c: &Container,
    ) -> Option<&ContainerParts> {
        let moved = self.spec_parts.get(kind, meta)?;
        moved.containers.iter().find(|p| p.name == c.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{EnvVar, Volume};

    fn meta(ns: &str, name: &str) -> ObjectMeta {
        ObjectMeta {
            namespace: Some(ns.into()),
            name: Some(name.into()),
            ..ObjectMeta::default()
        }
    }

    fn claim(name: &str) -> Moved {
        let v: Volume = serde_json::from_value(serde_json::json!(
            {"name": "data", "persistentVolumeClaim": {"claimName": name}}
        ))
        .expect("volume");
        Moved {
            volumes: vec![PodVolume::from(&v)],
            containers: Vec::new(),
        }
    }

    /// The point of the table: a volume or a variable as the analyzers read it is a small
    /// part of one as k8s-openapi holds it.
    #[test]
    fn what_is_moved_is_smaller_than_what_it_was() {
        let (slim, whole) = (size_of::<PodVolume>(), size_of::<Volume>());
        assert!(slim * 20 <= whole, "{slim} against {whole}");
        let (slim, whole) = (size_of::<PodEnvVar>(), size_of::<EnvVar>());
        assert!(slim * 3 <= whole, "{slim} against {whole}");
    }

    /// The first object of a name is the one a state keeps (`dedupe`), in one part or across
    /// the parts a snapshot is read in.
    #[test]
    fn the_first_object_of_a_name_keeps_its_volumes() {
        let spec = PodSpec::default();
        let mut st = ClusterState::default();
        st.spec_parts
            .insert("Pod", &meta("shop", "web-1"), claim("first"));
        st.spec_parts
            .insert("Pod", &meta("shop", "web-1"), claim("second"));
        let mut later = SpecTable::default();
        later.insert("Pod", &meta("shop", "web-1"), claim("third"));
        later.insert("Pod", &meta("shop", "web-2"), claim("other"));
        st.spec_parts.merge(later);
        let read = |name: &str| {
            st.volumes_of("Pod", &meta("shop", name), &spec)
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
            st.volumes_of("Pod", &meta("shop", "web-1"), &spec)
                .is_empty()
        );
    }
}
