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
//! log_tail_lines = 500                     # per failing container
//! log_limit_bytes = 262144
//! max_log_containers = 100
//! timeout_secs = 30                        # connect/read timeout (--request-timeout wins)
//! ```

use crate::error::Error;
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub guidance: GuidanceConfig,
    pub index: IndexConfig,
    pub llm: LlmConfig,
    pub cluster: ClusterConfig,
}

/// Live collection settings (see [`crate::cluster::collect::Options`]).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClusterConfig {
    pub page_size: Option<u32>,
    pub concurrency: Option<usize>,
    pub log_tail_lines: Option<u32>,
    pub log_limit_bytes: Option<u64>,
    pub max_log_containers: Option<usize>,
    pub timeout_secs: Option<u64>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GuidanceConfig {
    pub dirs: Vec<PathBuf>,
    pub replace: bool,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IndexConfig {
    pub dir: Option<PathBuf>,
}

/// Language model settings; the environment (`OPENAI_API_KEY`, `OPENAI_BASE_URL`,
/// `SEXTANT_MODEL`) wins over these.
#[derive(Debug, Default, Clone, Deserialize)]
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
    /// A directory of prompt files overriding the compiled-in ones (`ask --prompts` wins).
    pub prompts: Option<PathBuf>,
    /// How many tokens of earlier REPL turns a model is shown (default 1500; 0: none).
    pub memory_tokens: Option<usize>,
}

fn home() -> Option<PathBuf> {
    std::env::var_os("HOME").map(PathBuf::from)
}

/// `$XDG_CONFIG_HOME/sextant/config.toml`.
pub fn default_path() -> Option<PathBuf> {
    std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| home().map(|h| h.join(".config")))
        .map(|d| d.join("sextant/config.toml"))
}

/// `$XDG_DATA_HOME/sextant/index`.
pub fn default_index_dir() -> PathBuf {
    std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| home().map(|h| h.join(".local/share")))
        .unwrap_or_else(std::env::temp_dir)
        .join("sextant/index")
}

impl Config {
    /// Whether a language model is configured (file or environment).
    pub fn llm_configured(&self) -> bool {
        ["OPENAI_API_KEY", "OPENAI_BASE_URL", "SEXTANT_MODEL"]
            .iter()
            .any(|v| std::env::var_os(v).is_some_and(|v| !v.is_empty()))
            || self.llm.base_url.is_some()
            || self.llm.model.is_some()
    }

    /// Load `explicit` (must exist and parse) or the default path (may be absent).
    pub fn load(explicit: Option<&Path>) -> crate::Result<Config> {
        let (path, required) = match explicit {
            Some(p) => (p.to_path_buf(), true),
            None => match default_path() {
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
        toml::from_str(&text).map_err(|e| {
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

#[cfg(test)]
mod tests {
    use super::*;

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
