//! The model as the front ends see it: resolved once per run from the configuration
//! (environment over profile over file over defaults), then used only through the assistant —
//! answers ([`super::pipeline::run`]), policies proposed for a plain-words request
//! ([`Model::propose_policy`]) and `doctor`'s probe ([`Model::probe`]). Front ends never hold
//! a client, a key or a request body.

use super::prompts::{self, Prompts};
use crate::config::LlmConfig;
use crate::llm::{LlmClient, LlmError, Settings};
use crate::policy::Engine;
use crate::policy::propose::{self, Proposal, Refusal};
use std::cell::OnceCell;
use std::time::Duration;

/// A configured model endpoint. Cloning is cheap; the key never prints (`Debug` hides it).
#[derive(Debug, Clone)]
pub struct Model {
    settings: Settings,
}

impl Model {
    /// The model as configured, or `None` when nothing names one (offline answers).
    pub fn resolve(c: &LlmConfig) -> Option<Model> {
        Settings::resolve(c).map(|settings| Model { settings })
    }

    /// The model's name as it is sent (`SEXTANT_MODEL` over the file).
    pub fn name(&self) -> &str {
        &self.settings.model
    }

    /// Ask a different model of the same endpoint (the REPL's `/model NAME`).
    pub fn set_name(&mut self, name: &str) {
        self.settings.model = name.to_string();
    }

    /// The endpoint (`OPENAI_BASE_URL` over the file).
    pub fn base_url(&self) -> &str {
        &self.settings.base_url
    }

    /// Whether a key is configured (shown by `config show` as its source only).
    pub fn has_key(&self) -> bool {
        self.settings.has_key()
    }

    pub(crate) fn settings(&self) -> Settings {
        self.settings.clone()
    }

    /// Whether the endpoint answers, the key is accepted and the model is served.
    /// `GET /models` proves the URL, TLS and key without spending tokens; Azure deployments
    /// and servers without a listing get a TCP check. At most 10 s per attempt.
    pub fn probe(&self) -> Probe {
        if self.settings.azure.is_some() {
            return Probe::Unlisted {
                reach: tcp_reachable(&self.settings.base_url),
                azure: true,
            };
        }
        let mut settings = self.settings.clone();
        settings.timeout = settings.timeout.min(Duration::from_secs(10));
        let base = settings.base_url.clone();
        let listed = LlmClient::new(settings).and_then(|client| {
            let rt = crate::runtime::new().map_err(|e| LlmError::Other {
                url: base.clone(),
                message: e.to_string(),
            })?;
            rt.block_on(client.models())
        });
        match listed {
            Ok(ids) => Probe::Listed {
                served: ids.iter().any(|i| i == self.name()),
                ids,
            },
            Err(LlmError::Status { status: 404, .. }) => Probe::Unlisted {
                reach: tcp_reachable(&base),
                azure: false,
            },
            Err(e) => Probe::Failed {
                rejected_key: matches!(
                    e,
                    LlmError::Status {
                        status: 401 | 403,
                        ..
                    }
                ),
                why: e.to_string(),
            },
        }
    }

    /// A policy for a plain-words request, proposed by the model and proven in-process
    /// (bounded retries, [`propose::MAX_ATTEMPTS`]). Every answer asked for is an audited
    /// `model_request`; `on_attempt(n)` runs before each (a progress line); `cancellable`
    /// drops the request on Ctrl-C (the REPL).
    pub fn propose_policy(
        &self,
        request: &str,
        engine: Engine,
        prompts: &Prompts,
        front_end: &'static str,
        cancellable: bool,
        on_attempt: &mut dyn FnMut(usize),
    ) -> Result<Proposal, Refusal> {
        let client =
            LlmClient::new(self.settings.clone()).map_err(|e| Refusal::Model(e.to_string()))?;
        let rt = crate::runtime::new().map_err(|e| Refusal::Model(e.to_string()))?;
        let mut attempt = 0;
        propose::propose(request, engine, opening(request, engine, prompts), |m| {
            attempt += 1;
            on_attempt(attempt);
            crate::audit::record(
                "model_request",
                serde_json::json!({
                    "front_end": front_end,
                    "model": self.name(),
                    "base_url": self.base_url(),
                    "purpose": "policy",
                    "engine": engine.as_str(),
                    "attempt": attempt,
                    "tokens": m.iter().map(|(_, t)| crate::audit::tokens(t)).sum::<usize>(),
                    "messages": m.iter().map(|(r, t)| serde_json::json!({"role": r, "content": t})).collect::<Vec<_>>(),
                }),
            );
            let reply = rt.block_on(async {
                if cancellable {
                    tokio::select! {
                        r = client.chat(m, |_| {}) => r.map_err(|e| e.to_string()),
                        _ = tokio::signal::ctrl_c() => Err(CANCELLED.to_string()),
                    }
                } else {
                    client.chat(m, |_| {}).await.map_err(|e| e.to_string())
                }
            });
            crate::audit::record(
                "model_response",
                match &reply {
                    Ok(t) => {
                        serde_json::json!({"front_end": front_end, "model": self.name(), "purpose": "policy", "tokens": crate::audit::tokens(t)})
                    }
                    Err(e) => {
                        serde_json::json!({"front_end": front_end, "model": self.name(), "purpose": "policy", "error": e})
                    }
                },
            );
            reply
        })
    }
}

/// The reason a cancelled proposal gives ([`Refusal::Model`]).
pub const CANCELLED: &str = "cancelled";

/// What [`Model::probe`] found.
#[derive(Debug, Clone)]
pub enum Probe {
    /// `GET /models` answered: the key is accepted.
    Listed { ids: Vec<String>, served: bool },
    /// No listing (Azure, or 404): whether the host takes a TCP connection.
    Unlisted { reach: String, azure: bool },
    /// The endpoint failed; `rejected_key` for 401/403.
    Failed { why: String, rejected_key: bool },
}

/// Whether the endpoint's host accepts a TCP connection within 3 s (the API itself is
/// exercised by `ask`).
fn tcp_reachable(base: &str) -> String {
    let Ok(uri) = base.parse::<http::Uri>() else {
        return format!("not a URL: {base}");
    };
    let Some(host) = uri.host() else {
        return "no host in the URL".into();
    };
    let port = uri
        .port_u16()
        .unwrap_or(if uri.scheme_str() == Some("http") {
            80
        } else {
            443
        });
    use std::net::ToSocketAddrs;
    let addrs = match (host, port).to_socket_addrs() {
        Ok(a) => a.collect::<Vec<_>>(),
        Err(e) => return format!("cannot resolve {host}: {e}"),
    };
    for a in addrs {
        if std::net::TcpStream::connect_timeout(&a, Duration::from_secs(3)).is_ok() {
            return "reachable".into();
        }
    }
    format!("unreachable ({host}:{port} refused or timed out)")
}

/// The opening conversation for `request` in `engine`: the system prompt and the
/// draft-policy prompt with the (redacted) request and the engine's rules.
pub fn opening(request: &str, engine: Engine, prompts: &Prompts) -> Vec<(&'static str, String)> {
    vec![
        ("system", prompts::render(&prompts.system, &[])),
        (
            "user",
            prompts::render(
                &prompts.draft_policy,
                &[
                    ("request", &crate::redact::redact(request)),
                    ("engine", engine.as_str()),
                    ("engine_rules", propose::engine_rules(engine)),
                ],
            ),
        ),
    ]
}

/// The model, resolved the first time a command needs it and never again (resolving may run
/// `api_key_cmd`). `--offline` hides it from [`ModelSlot::get`]; [`ModelSlot::configured`]
/// still shows it (`config show`, the REPL's `/offline off`).
pub struct ModelSlot {
    config: LlmConfig,
    offline: bool,
    cell: OnceCell<Option<Model>>,
}

impl ModelSlot {
    pub fn new(config: &LlmConfig, offline: bool) -> ModelSlot {
        ModelSlot {
            config: config.clone(),
            offline,
            cell: OnceCell::new(),
        }
    }

    /// The model to call, unless `--offline` or none is configured.
    pub fn get(&self) -> Option<&Model> {
        if self.offline {
            return None;
        }
        self.configured()
    }

    /// The model as configured, whatever `--offline` says.
    pub fn configured(&self) -> Option<&Model> {
        self.cell
            .get_or_init(|| Model::resolve(&self.config))
            .as_ref()
    }
}
