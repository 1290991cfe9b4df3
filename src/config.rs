//! The config file: `--config PATH`, else `$XDG_CONFIG_HOME/sextant/config.toml` (or
//! `~/.config/sextant/config.toml`). Every key is optional; flags and environment variables
//! win over it.
//!
//! ```toml
//! [guidance]
//! dirs = ["/srv/maturity-model/level-3"]   # more corpora (*.md, *.txt)
//! replace = false                          # true: use only `dirs`, not the embedded Level 4
//!
//! [index]
//! dir = "/var/lib/sextant/index"
//!
//! [cluster]                                # live collection (all optional)
//! page_size = 500                          # `limit` of each list request
//! concurrency = 4                          # requests in flight
//! fleet_concurrency = 4                    # clusters read at once (analyze --context a,b)
//! log_tail_lines = 500                     # per failing container
//! log_limit_bytes = 262144
//! max_log_containers = 100
//! timeout_secs = 30                        # connect/read timeout (--request-timeout wins)
//! ```

use crate::error::Error;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The whole file. `Debug` shows profiles by name only (a profile may hold a key).
#[derive(Default, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub guidance: GuidanceConfig,
    pub index: IndexConfig,
    pub llm: LlmConfig,
    pub cluster: ClusterConfig,
    pub redact: RedactConfig,
    pub analyze: AnalyzeConfig,
    /// The profile used when neither `--profile` nor `SEXTANT_PROFILE` names one.
    pub profile: Option<String>,
    /// Named overlays of any of the sections above (`[profiles.prod.llm]`, …); the chosen one
    /// is merged over the file before it is read.
    pub profiles: std::collections::BTreeMap<String, toml::Value>,
    /// Where this config came from (`None`: no file), and the profile applied.
    #[serde(skip)]
    pub source: Option<PathBuf>,
    #[serde(skip)]
    pub active_profile: Option<String>,
}

/// How findings are judged.
#[derive(Debug, Default, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AnalyzeConfig {
    /// Failures within this many minutes before the capture's moment (or now, live) are
    /// current; older ones are history (default 30).
    pub recent_minutes: Option<i64>,
}

/// A team's own secret patterns, redacted like the built-in ones.
#[derive(Debug, Default, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RedactConfig {
    /// Rule id → regex (a named group `s` redacts only that part).
    pub patterns: std::collections::BTreeMap<String, String>,
}

/// Live collection settings (see [`crate::cluster::collect::Options`]).
#[derive(Debug, Default, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClusterConfig {
    /// The kubeconfig context to use when `--context` is not given.
    pub context: Option<String>,
    pub page_size: Option<u32>,
    pub concurrency: Option<usize>,
    /// Clusters of a fleet read at the same time (default [`crate::fleet::DEFAULT_CONCURRENCY`]).
    pub fleet_concurrency: Option<usize>,
    pub log_tail_lines: Option<u32>,
    pub log_limit_bytes: Option<u64>,
    pub max_log_containers: Option<usize>,
    pub timeout_secs: Option<u64>,
}

#[derive(Debug, Default, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct GuidanceConfig {
    pub dirs: Vec<PathBuf>,
    pub replace: bool,
}

#[derive(Debug, Default, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct IndexConfig {
    pub dir: Option<PathBuf>,
}

/// Language model settings; the environment (`OPENAI_API_KEY`, `OPENAI_BASE_URL`,
/// `SEXTANT_MODEL`) wins over these. `Debug` hides the key (a config printed in a log or a
/// panic message must not carry it).
#[derive(Default, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LlmConfig {
    pub base_url: Option<String>,
    pub model: Option<String>,
    /// Name of the environment variable holding the key (the key itself never goes in a file
    /// Sextant writes; reading it from this file is allowed but discouraged).
    pub api_key_env: Option<String>,
    pub api_key: Option<String>,
    pub timeout_secs: Option<u64>,
    pub organization: Option<String>,
    /// Extra request headers (gateways, Azure API management, LiteLLM keys…).
    pub headers: std::collections::BTreeMap<String, String>,
    pub temperature: Option<f32>,
    pub max_tokens: Option<u32>,
    /// How long a cached answer is reused (default 3600; 0 disables the cache).
    pub cache_ttl_secs: Option<u64>,
    /// Offer the model Sextant's read-only tools (default true; false for models without
    /// function calling: they get the single-shot prompt).
    pub tools: Option<bool>,
    /// Send placeholders instead of names, namespaces, IPs and emails (default false).
    pub anonymize: Option<bool>,
    /// Azure OpenAI deployment name (`base_url` is then the resource endpoint,
    /// `https://NAME.openai.azure.com`).
    pub azure_deployment: Option<String>,
    /// Azure OpenAI `api-version` (default 2024-10-21).
    pub azure_api_version: Option<String>,
    /// A command whose output is the API key (`pass show openai`, `op read …`), run with
    /// `sh -c` when no key is in the environment; its output is never printed.
    pub api_key_cmd: Option<String>,
    /// The model context budget in estimated tokens (default 6000).
    pub context_tokens: Option<usize>,
    /// A directory of prompt files overriding the compiled-in ones (`ask --prompts` wins).
    pub prompts: Option<PathBuf>,
    /// How many tokens of earlier REPL turns a model is shown (default 1500; 0: none).
    pub memory_tokens: Option<usize>,
}

impl Config {
    /// Whether a language model is configured (file or environment).
    pub fn llm_configured(&self) -> bool {
        ["OPENAI_API_KEY", "OPENAI_BASE_URL", "SEXTANT_MODEL"]
            .iter()
            .any(|v| std::env::var_os(v).is_some_and(|v| !v.is_empty()))
            || self.llm.base_url.is_some()
            || self.llm.model.is_some()
            || self.llm.api_key_cmd.is_some()
    }

    /// [`Config::load_profile`] with the profile from `SEXTANT_PROFILE` or the file.
    pub fn load(explicit: Option<&Path>) -> crate::Result<Config> {
        Config::load_profile(explicit, None)
    }

    /// Read the file (`explicit`, else the default path when it exists) and apply a profile:
    /// `profile` (the `--profile` flag), else `SEXTANT_PROFILE`, else the file's `profile`.
    pub fn load_profile(explicit: Option<&Path>, profile: Option<&str>) -> crate::Result<Config> {
        let mut c = Config::read(explicit)?;
        let env = std::env::var("SEXTANT_PROFILE")
            .ok()
            .filter(|p| !p.is_empty());
        let chosen = profile
            .map(str::to_string)
            .or(env)
            .or_else(|| c.profile.clone());
        let Some(name) = chosen else {
            return Ok(c);
        };
        let file = c
            .source
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "(no config file)".into());
        let Some(overlay) = c.profiles.get(&name).cloned() else {
            let known: Vec<&str> = c.profiles.keys().map(String::as_str).collect();
            return Err(Error::Usage(format!(
                "profile {name:?} is not in {file} (profiles: {})",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            )));
        };
        // Merge: the file's tables, then the profile's over them.
        let mut base =
            toml::Value::try_from(&c).map_err(|e| Error::Usage(format!("{file}: {e}")))?;
        merge(&mut base, overlay);
        let mut merged: Config = base.try_into().map_err(|e: toml::de::Error| {
            Error::Usage(format!("{file}: profile {name}: {}", e.message()))
        })?;
        merged.source = c.source.take();
        merged.profiles = std::mem::take(&mut c.profiles);
        merged.active_profile = Some(name);
        Ok(merged)
    }

    /// Load `explicit` (must exist and parse) or the default path (may be absent).
    fn read(explicit: Option<&Path>) -> crate::Result<Config> {
        let (path, required) = match explicit {
            Some(p) => (p.to_path_buf(), true),
            None => match crate::dirs::config_file() {
                Some(p) => (p, false),
                None => return Ok(Config::default()),
            },
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Config::default());
            }
            Err(e) => return Err(Error::Usage(format!("--config {}: {e}", path.display()))),
        };
        let parsed: Result<Config, _> = toml::from_str(&text);
        parsed
            .map(|mut c| {
                c.source = Some(path.clone());
                c
            })
            .map_err(|e| {
                let msg = e.message().replace('\n', " ");
                let at = e
                    .span()
                    .map(|s| {
                        format!(
                            " (line {})",
                            text[..s.start.min(text.len())].lines().count().max(1)
                        )
                    })
                    .unwrap_or_default();
                Error::Usage(format!("--config {}: {msg}{at}", path.display()))
            })
    }
}

/// Deep-merge `over` into `base`: tables merge key by key, anything else is replaced.
fn merge(base: &mut toml::Value, over: toml::Value) {
    match (base, over) {
        (toml::Value::Table(b), toml::Value::Table(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(slot) => merge(slot, v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (b, o) => *b = o,
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("guidance", &self.guidance)
            .field("index", &self.index)
            .field("llm", &self.llm)
            .field("cluster", &self.cluster)
            .field("redact", &self.redact)
            .field("profile", &self.profile)
            .field("profiles", &self.profiles.keys().collect::<Vec<_>>())
            .field("source", &self.source)
            .field("active_profile", &self.active_profile)
            .finish()
    }
}

impl std::fmt::Debug for LlmConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        if let Some(k) = v.get_mut("api_key").filter(|k| !k.is_null()) {
            *k = serde_json::Value::String("[hidden]".into());
        }
        // Extra headers often carry credentials (`api-key`, `Authorization`): names only.
        if let Some(serde_json::Value::Object(h)) = v.get_mut("headers") {
            for value in h.values_mut() {
                *value = serde_json::Value::String("[hidden]".into());
            }
        }
        write!(f, "LlmConfig {v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_a_key() {
        let c: Config = toml::from_str(
            "[llm]\napi_key = \"sk-in-file-0123456789\"\nheaders = { api-key = \"sk-in-header-0123456789\" }\n[profiles.p.llm]\napi_key = \"sk-in-profile-0123456789\"\n",
        )
        .expect("parse");
        let shown = format!("{c:?} {:?} {c:#?}", c.llm);
        assert!(!shown.contains("sk-in-file"), "{shown}");
        assert!(!shown.contains("sk-in-profile"), "{shown}");
        assert!(
            !shown.contains("sk-in-header") && shown.contains("api-key"),
            "{shown}"
        );
        assert!(
            shown.contains("[hidden]") && shown.contains("\"p\""),
            "{shown}"
        );
    }

    #[test]
    fn empty_and_partial_files_parse() {
        let c: Config = toml::from_str("").expect("empty");
        assert!(c.guidance.dirs.is_empty());
        let c: Config = toml::from_str("[guidance]\nreplace = true\n").expect("partial");
        assert!(c.guidance.replace);
    }

    #[test]
    fn unknown_keys_are_errors_naming_the_file() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("c.toml");
        std::fs::write(&p, "[guidance]\ndirz = []\n").expect("write");
        let e = Config::load(Some(&p)).expect_err("unknown key").to_string();
        assert!(e.contains("c.toml") && e.contains("dirz"), "{e}");
    }
}
