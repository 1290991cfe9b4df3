//! `sextant config path|show|init`: where the config is, what is in effect (file, profile and
//! environment merged; keys never shown), and a commented starting file.

use super::{Global, write_out};
use crate::config::Config;
use crate::error::Error;
use std::fmt::Write as _;

/// The file a command reads: `--config`, else the default path.
fn path_of(g: &Global) -> Option<std::path::PathBuf> {
    g.config.clone().or_else(crate::dirs::config_file)
}

pub fn path(g: &Global) -> anyhow::Result<i32> {
    let Some(p) = path_of(g) else {
        return Err(Error::Usage(
            "no config path: set XDG_CONFIG_HOME or HOME, or give --config".into(),
        )
        .into());
    };
    let state = if p.exists() {
        "exists"
    } else {
        "absent: defaults apply; `sextant config init` writes one"
    };
    write_out(&format!("{} ({state})\n", p.display()))?;
    Ok(0)
}

/// Where a setting's value comes from, for `show`.
fn origin(env: &[&str], in_file: bool) -> String {
    for v in env {
        if std::env::var(v).is_ok_and(|x| !x.is_empty()) {
            return format!("from {v}");
        }
    }
    if in_file {
        "from the file".into()
    } else {
        "default".into()
    }
}

pub fn show(
    g: &Global,
    cfg: &Config,
    models: &crate::assistant::model::ModelSlot,
) -> anyhow::Result<i32> {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# file: {}",
        cfg.source
            .as_ref()
            .map_or("(none: defaults)".to_string(), |p| p.display().to_string())
    );
    let _ = writeln!(
        s,
        "# profile: {}",
        cfg.active_profile.as_deref().unwrap_or("(none)")
    );
    if !cfg.profiles.is_empty() {
        let names: Vec<&str> = cfg.profiles.keys().map(String::as_str).collect();
        let _ = writeln!(s, "# profiles in the file: {}", names.join(", "));
    }
    // The model as it will be called: environment over the file, the key only as its source.
    let _ = writeln!(s, "\n[llm]  # in effect");
    match models.configured() {
        None => {
            let _ = writeln!(s, "# no model configured: answers are offline");
        }
        Some(st) => {
            let _ = writeln!(
                s,
                "base_url = {:?}  # {}",
                st.base_url(),
                origin(&["OPENAI_BASE_URL"], cfg.llm.base_url.is_some())
            );
            let _ = writeln!(
                s,
                "model = {:?}  # {}",
                st.name(),
                origin(&["SEXTANT_MODEL"], cfg.llm.model.is_some())
            );
            let key_source = match (&cfg.llm.api_key_env, &cfg.llm.api_key_cmd) {
                (Some(v), _) if std::env::var(v).is_ok_and(|x| !x.is_empty()) => {
                    format!("from {v}")
                }
                _ if std::env::var("OPENAI_API_KEY").is_ok_and(|x| !x.is_empty()) => {
                    "from OPENAI_API_KEY".into()
                }
                (_, Some(_)) => "from api_key_cmd".into(),
                _ if cfg.llm.api_key.is_some() => {
                    "from the file (prefer api_key_env or api_key_cmd)".into()
                }
                _ => "none".into(),
            };
            let _ = writeln!(
                s,
                "api_key = {}  # {key_source}",
                if st.has_key() {
                    "\"(set, hidden)\""
                } else {
                    "\"(none)\""
                }
            );
            if !cfg.llm.headers.is_empty() {
                let names: Vec<&str> = cfg.llm.headers.keys().map(String::as_str).collect();
                let _ = writeln!(s, "# headers (values hidden): {}", names.join(", "));
            }
        }
    }
    // The rest of the file as read (after the profile), secrets blanked.
    let mut shown = cfg.clone();
    if shown.llm.api_key.is_some() {
        shown.llm.api_key = Some("(hidden)".into());
    }
    // A command may carry a key inline (`printf sk-…`): not shown either.
    if shown.llm.api_key_cmd.is_some() {
        shown.llm.api_key_cmd = Some("(set, hidden)".into());
    }
    for v in shown.llm.headers.values_mut() {
        *v = "(hidden)".into();
    }
    shown.profiles.clear();
    shown.profile = None;
    let toml = toml::to_string_pretty(&shown).unwrap_or_default();
    let _ = writeln!(
        s,
        "\n# the file (after the profile; secrets hidden)\n{toml}"
    );
    let _ = writeln!(
        s,
        "# precedence: flags > environment (OPENAI_*, SEXTANT_*) > profile > file > defaults"
    );
    let _ = g;
    write_out(&s)?;
    Ok(0)
}

/// A commented config to start from.
const TEMPLATE: &str = r#"# Sextant configuration. Every key is optional; flags and environment variables win.
# Precedence: flags > environment (OPENAI_BASE_URL, SEXTANT_MODEL, OPENAI_API_KEY, SEXTANT_PROFILE)
# > the selected profile > this file > built-in defaults.

# profile = "prod"                        # the profile used when --profile / SEXTANT_PROFILE name none

[llm]
# base_url = "http://localhost:11434/v1"  # any OpenAI-compatible endpoint (Ollama here)
# model = "qwen2.5:14b"
# api_key_env = "MY_GATEWAY_KEY"          # the variable holding the key, or:
# api_key_cmd = "pass show openai"        # a command printing it (never logged or shown)
# context_tokens = 6000                   # model context budget
# memory_tokens = 1500                    # REPL conversation memory
# timeout_secs = 60

[cluster]
# context = "prod-eu"                     # default kubeconfig context (--context wins)
# timeout_secs = 30
# fleet_concurrency = 4                   # clusters read at once (analyze --context a,b)

[redact]
# patterns = { ticket-token = 'tkt_[A-Za-z0-9]{24}' }   # your own secrets, redacted everywhere

[index]
# dir = "/var/lib/sextant/index"

# [profiles.local.llm]                    # `sextant --profile local …`
# base_url = "http://localhost:11434/v1"
# model = "llama3.1:8b"
# [profiles.prod.cluster]
# context = "prod-eu"
"#;

pub fn init(g: &Global) -> anyhow::Result<i32> {
    let Some(p) = path_of(g) else {
        return Err(Error::Usage(
            "no config path: set XDG_CONFIG_HOME or HOME, or give --config".into(),
        )
        .into());
    };
    if p.exists() {
        return Err(Error::Usage(format!(
            "{} exists: edit it, or remove it first",
            p.display()
        ))
        .into());
    }
    if let Some(dir) = p.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::Usage(format!("{}: {e}", dir.display())))?;
    }
    std::fs::write(&p, TEMPLATE).map_err(|e| Error::Usage(format!("{}: {e}", p.display())))?;
    write_out(&format!("wrote {}\n", p.display()))?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_template_parses() {
        let c: crate::config::Config = toml::from_str(super::TEMPLATE).expect("template");
        assert!(c.llm.model.is_none());
    }
}
