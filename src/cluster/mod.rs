//! Live clusters, read-only by construction.
//!
//! [`Cluster`] is the only way Sextant reaches an API server. Its kube client is built with
//! [`guard::ReadOnlyLayer`] at the outside of the service stack, so whatever code holds the
//! client — the collector, `doctor`, a future tool, or a bug — can only send GETs and self
//! access reviews; anything else fails with [`guard::Refused`] before a byte leaves.
//!
//! kubeconfig is resolved as kubectl does: `--kubeconfig`, else `KUBECONFIG` (several files
//! merged), else `~/.kube/config`, else the in-cluster service account; `--context` picks
//! the context.

pub mod collect;
pub mod guard;
pub mod kinds;
pub mod save;
pub mod watch;
pub mod watch_floor;

use kube::config::{KubeConfigOptions, Kubeconfig};
use std::path::PathBuf;
use std::time::Duration;

/// Why a cluster could not be used. Each names the flag or setting at fault.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("{origin}: {reason}")]
    Kubeconfig { origin: String, reason: String },
    #[error("--context {name}: no such context in {origin} (available: {available})")]
    NoSuchContext {
        name: String,
        origin: String,
        available: String,
    },
    #[error(
        "no kubeconfig ({}) and not running in a cluster: pass --kubeconfig PATH, or --snapshot PATH to read a dump (to try Sextant: --snapshot examples/demo-incident in its repository)",
        why_no_config()
    )]
    NoConfig,
    #[error("cannot reach the API server {server} (context {context}): {reason}")]
    Unreachable {
        server: String,
        context: String,
        reason: String,
    },
    #[error(transparent)]
    Refused(#[from] guard::Refused),
    #[error("{0}")]
    Runtime(String),
}

/// Which cluster to talk to, from the flags.
#[derive(Debug, Clone, Default)]
pub struct Target {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    /// Connect and read timeout of every request.
    pub timeout: Option<Duration>,
}

/// A connected, read-only cluster.
#[derive(Clone)]
pub struct Cluster {
    client: kube::Client,
    /// The context in use (`in-cluster` for a service account).
    pub context: String,
    pub server: String,
    /// Where the configuration came from (`--kubeconfig PATH`, `KUBECONFIG`, …).
    pub origin: String,
    pub default_namespace: String,
    /// `--request-timeout`: the longest one request may take, retries included.
    pub request_timeout: Duration,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("context", &self.context)
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

impl Cluster {
    /// Resolve the kubeconfig and build the guarded client. Does not contact the server.
    pub async fn connect(t: &Target) -> Result<Cluster, ClusterError> {
        crate::install_crypto_provider();
        let (config, context, origin) = resolve(t).await?;
        let mut config = config;
        let timeout = t.timeout.unwrap_or(DEFAULT_TIMEOUT);
        config.connect_timeout = Some(timeout);
        config.read_timeout = Some(timeout);
        config.write_timeout = Some(timeout);
        let server = config.cluster_url.to_string();
        let default_namespace = config.default_namespace.clone();
        let client = kube::client::ClientBuilder::try_from(config)
            .map_err(|e| ClusterError::Kubeconfig {
                origin: origin.clone(),
                reason: one_line(&e.to_string()),
            })?
            // Inside the guard: a refused request never waits, an allowed watch may.
            .with_layer(&watch_floor::WatchFloorLayer::default())
            .with_layer(&guard::ReadOnlyLayer)
            .build();
        Ok(Cluster {
            client,
            context,
            server: server.trim_end_matches('/').to_string(),
            origin,
            request_timeout: timeout,
            default_namespace,
        })
    }

    /// The guarded client, for code that wants kube-rs's typed `Api<K>`. It is the same
    /// client the collector uses: writes through it are refused (see the module doc).
    pub fn client(&self) -> kube::Client {
        self.client.clone()
    }

    fn unreachable(&self, e: &kube::Error) -> ClusterError {
        let mut reason = e.to_string();
        let mut src = std::error::Error::source(e);
        while let Some(s) = src {
            reason = s.to_string();
            src = s.source();
        }
        ClusterError::Unreachable {
            server: self.server.clone(),
            context: self.context.clone(),
            reason: one_line(&reason),
        }
    }

    /// `/version`: the server's version (`v1.31.2`).
    pub async fn server_version(&self) -> Result<String, ClusterError> {
        match self.client.apiserver_version().await {
            Ok(v) => Ok(v.git_version),
            Err(e) => Err(guard::refused(&e)
                .map(|r| ClusterError::Refused(r.clone()))
                .unwrap_or_else(|| self.unreachable(&e))),
        }
    }

    /// A SelfSubjectRulesReview: what the credentials may do in `namespace`.
    pub async fn rules_review(&self, namespace: &str) -> Result<serde_json::Value, ClusterError> {
        let body = serde_json::json!({
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectRulesReview",
            "spec": {"namespace": namespace}
        });
        self.post_review("selfsubjectrulesreviews", &body).await
    }

    /// A SelfSubjectAccessReview: may the credentials `verb` `resource` (in `namespace`)?
    pub async fn can_i(
        &self,
        verb: &str,
        group: &str,
        resource: &str,
        subresource: Option<&str>,
        namespace: Option<&str>,
    ) -> Result<bool, ClusterError> {
        let mut attrs = serde_json::json!({"verb": verb, "group": group, "resource": resource});
        if let Some(s) = subresource {
            attrs["subresource"] = s.into();
        }
        if let Some(ns) = namespace {
            attrs["namespace"] = ns.into();
        }
        let body = serde_json::json!({
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": attrs}
        });
        let r = self.post_review("selfsubjectaccessreviews", &body).await?;
        Ok(r.pointer("/status/allowed")
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false))
    }

    async fn post_review(
        &self,
        plural: &str,
        body: &serde_json::Value,
    ) -> Result<serde_json::Value, ClusterError> {
        let req = http::Request::post(format!("/apis/authorization.k8s.io/v1/{plural}"))
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(serde_json::to_vec(body).unwrap_or_default())
            .map_err(|e| ClusterError::Runtime(e.to_string()))?;
        match self.client.request::<serde_json::Value>(req).await {
            Ok(v) => Ok(v),
            Err(e) => Err(match guard::refused(&e) {
                Some(r) => ClusterError::Refused(r.clone()),
                None => match &e {
                    kube::Error::Api(s) => ClusterError::Runtime(format!(
                        "{plural}: HTTP {} {}",
                        s.code,
                        one_line(&s.message)
                    )),
                    _ => self.unreachable(&e),
                },
            }),
        }
    }
}

/// kubectl's resolution order. Returns the config, the context name and where it came from.
/// The kubeconfig kubectl would read (`--kubeconfig`, else `KUBECONFIG`'s files merged, else
/// `~/.kube/config`) and where it came from; `None` when there is none (in-cluster).
fn read_kubeconfig(
    path: Option<&std::path::Path>,
) -> Result<(Option<Kubeconfig>, String), ClusterError> {
    Ok(if let Some(p) = path {
        let origin = format!("--kubeconfig {}", p.display());
        if !p.exists() {
            return Err(ClusterError::Kubeconfig {
                origin,
                reason: "no such file".into(),
            });
        }
        let k = Kubeconfig::read_from(p).map_err(|e| ClusterError::Kubeconfig {
            origin: origin.clone(),
            reason: one_line(&e.to_string()),
        })?;
        (Some(k), origin)
    } else if let Some(v) = std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
        let origin = format!("KUBECONFIG={}", v.to_string_lossy());
        // kubectl skips files of the list that do not exist; so do we.
        let files: Vec<PathBuf> = std::env::split_paths(&v).filter(|p| p.exists()).collect();
        let mut merged = Kubeconfig::default();
        for f in &files {
            let k = Kubeconfig::read_from(f).map_err(|e| ClusterError::Kubeconfig {
                origin: format!("KUBECONFIG file {}", f.display()),
                reason: one_line(&e.to_string()),
            })?;
            merged = merged.merge(k).map_err(|e| ClusterError::Kubeconfig {
                origin: origin.clone(),
                reason: one_line(&e.to_string()),
            })?;
        }
        (Some(merged).filter(|_| !files.is_empty()), origin)
    } else {
        let home = std::env::var_os("HOME").map(PathBuf::from);
        match home.map(|h| h.join(".kube/config")).filter(|p| p.exists()) {
            Some(p) => {
                let origin = p.display().to_string();
                let k = Kubeconfig::read_from(&p).map_err(|e| ClusterError::Kubeconfig {
                    origin: origin.clone(),
                    reason: one_line(&e.to_string()),
                })?;
                (Some(k), origin)
            }
            None => (None, String::new()),
        }
    })
}

/// Why no kubeconfig was found, as the user set things up: a `KUBECONFIG` naming files that
/// do not exist is said so, not "unset".
fn why_no_config() -> String {
    let home = "~/.kube/config does not exist";
    match std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
        Some(v) => {
            let missing: Vec<String> = std::env::split_paths(&v)
                .filter(|p| !p.exists())
                .map(|p| p.display().to_string())
                .collect();
            if missing.is_empty() {
                format!("KUBECONFIG names no usable file, {home}")
            } else {
                format!(
                    "KUBECONFIG names {}, which does not exist; {home}",
                    missing.join(", ")
                )
            }
        }
        None => format!("KUBECONFIG is unset, {home}"),
    }
}

/// The context names of the kubeconfig (`--all-contexts`), in file order.
pub fn contexts(kubeconfig: Option<&std::path::Path>) -> Result<Vec<String>, ClusterError> {
    match read_kubeconfig(kubeconfig)? {
        (Some(k), _) => Ok(k.contexts.iter().map(|c| c.name.clone()).collect()),
        (None, _) => Err(ClusterError::NoConfig),
    }
}

async fn resolve(t: &Target) -> Result<(kube::Config, String, String), ClusterError> {
    let (kubeconfig, origin) = read_kubeconfig(t.kubeconfig.as_deref())?;
    let Some(kubeconfig) = kubeconfig else {
        if t.context.is_some() {
            return Err(ClusterError::NoConfig);
        }
        let config = kube::Config::incluster().map_err(|_| ClusterError::NoConfig)?;
        return Ok((config, "in-cluster".into(), "service account".into()));
    };
    let names: Vec<String> = kubeconfig.contexts.iter().map(|c| c.name.clone()).collect();
    let context = match (&t.context, &kubeconfig.current_context) {
        (Some(c), _) => c.clone(),
        (None, Some(c)) if !c.is_empty() => c.clone(),
        _ => {
            return Err(ClusterError::Kubeconfig {
                origin,
                reason: format!(
                    "no current-context; pass --context (available: {})",
                    list_or_none(&names)
                ),
            });
        }
    };
    if !names.contains(&context) {
        return Err(ClusterError::NoSuchContext {
            name: context,
            origin,
            available: list_or_none(&names),
        });
    }
    let opts = KubeConfigOptions {
        context: Some(context.clone()),
        ..KubeConfigOptions::default()
    };
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &opts)
        .await
        .map_err(|e| ClusterError::Kubeconfig {
            origin: format!("{origin} (context {context})"),
            reason: one_line(&e.to_string()),
        })?;
    Ok((config, context, origin))
}

fn list_or_none(names: &[String]) -> String {
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl From<ClusterError> for crate::Error {
    fn from(e: ClusterError) -> crate::Error {
        crate::Error::Cluster(Box::new(e))
    }
}

/// Where a collection came from.
#[derive(Debug, Clone)]
pub struct Connected {
    pub context: String,
    pub server: String,
}
