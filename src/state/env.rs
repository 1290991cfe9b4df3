//! What the analyzers read of a container's environment variables ([`PodEnvVar`]), which a
//! state read for `analyze` keeps beside the objects (`state/beside.rs`).
//!
//! Why: k8s-openapi holds every `EnvVar` in 280 bytes, most of them the four inline sources a
//! value may come from. The realistic dump of `benches/analyze.rs` keeps 67,088 variables (four
//! a container, those with a value or a ConfigMap or Secret key behind them): 19 MB; a
//! [`PodEnvVar`] is 80 bytes.

use k8s_openapi::api::core::v1::{Container, EnvVar};

/// The ConfigMap or Secret a variable's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    ConfigMap,
    Secret,
}

/// What the analyzers read of an environment variable: its name, its value (`netpol` finds the
/// Services a workload calls), and the ConfigMap or Secret key behind it (`references`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodEnvVar {
    pub name: String,
    pub value: Option<String>,
    /// The object a `configMapKeyRef` or `secretKeyRef` names, and whether it is optional.
    /// Kubernetes allows one source a variable; a Secret is read first, as the kubelet fails
    /// a pod on either.
    pub key_ref: Option<(KeyKind, String, Option<bool>)>,
}

impl From<&EnvVar> for PodEnvVar {
    fn from(e: &EnvVar) -> Self {
        let from = e.value_from.as_ref();
        let secret = from
            .and_then(|f| f.secret_key_ref.as_ref())
            .map(|r| (KeyKind::Secret, r.name.clone(), r.optional));
        let config_map = || {
            from.and_then(|f| f.config_map_key_ref.as_ref())
                .map(|r| (KeyKind::ConfigMap, r.name.clone(), r.optional))
        };
        PodEnvVar {
            name: e.name.clone(),
            value: e.value.clone(),
            key_ref: secret.or_else(config_map),
        }
    }
}

/// Take the variables out of a container, as the analyzers read them: those with neither a
/// value nor a key behind them dropped (a field or resource reference names nothing an
/// analyzer checks).
pub(super) fn take(c: &mut Container) -> Vec<PodEnvVar> {
    let Some(env) = c.env.take() else {
        return Vec::new();
    };
    let mut kept: Vec<PodEnvVar> = env
        .iter()
        .map(PodEnvVar::from)
        .filter(|e| e.value.is_some() || e.key_ref.is_some())
        .collect();
    kept.shrink_to_fit();
    kept
}
