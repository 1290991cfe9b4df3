//! What the analyzers read of a pod spec's volumes ([`PodVolume`]), which a state read for
//! `analyze` keeps beside the objects (`state/beside.rs`).
//!
//! Why: k8s-openapi holds every `Volume` in 3,208 bytes, whichever of its thirty sources it
//! uses (each is an inline `Option`). On the realistic dump of `benches/analyze.rs` the volumes
//! left after dropping those no analyzer reads (one ConfigMap volume per pod and per template)
//! were 46 MB of a 288 MB heap; a [`PodVolume`] is 160 bytes.

use k8s_openapi::api::core::v1::{PodSpec, Volume};

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
