//! Where Sextant keeps its files, decided in one place. The XDG base directories (resolved by
//! `etcetera`: absolute `XDG_*` values only, else the spec's defaults under HOME — on macOS
//! too, as command-line tools there expect):
//!
//! | what | where |
//! |---|---|
//! | config file | `$XDG_CONFIG_HOME/sextant/config.toml` |
//! | search index | `$XDG_DATA_HOME/sextant/index` |
//! | audit trail | `$XDG_DATA_HOME/sextant/audit.jsonl` |
//! | answer cache | `$XDG_DATA_HOME/sextant/answers/` |
//! | REPL history | `$XDG_DATA_HOME/sextant/history` |
//! | guidance index cache | `$XDG_CACHE_HOME/sextant/guidance/` |
//!
//! Flags (`--config`, `--index-dir`, `--audit-log`) override these where the command reads them.

use etcetera::BaseStrategy;
use std::path::PathBuf;

const APP: &str = "sextant";

fn base() -> Option<etcetera::base_strategy::Xdg> {
    etcetera::base_strategy::Xdg::new().ok()
}

/// `$XDG_DATA_HOME/sextant`; the temporary directory when there is no home at all.
fn data_root() -> PathBuf {
    base()
        .map(|b| b.data_dir())
        .unwrap_or_else(std::env::temp_dir)
        .join(APP)
}

/// The config file; `None` when there is no home to put it in.
pub fn config_file() -> Option<PathBuf> {
    base().map(|b| b.config_dir().join(APP).join("config.toml"))
}

pub fn index_dir() -> PathBuf {
    data_root().join("index")
}

pub fn audit_log() -> PathBuf {
    data_root().join("audit.jsonl")
}

pub fn answers_dir() -> PathBuf {
    data_root().join("answers")
}

pub fn history_file() -> PathBuf {
    data_root().join("history")
}

/// The guidance index cache; `None` without a home.
pub fn guidance_cache() -> Option<PathBuf> {
    base().map(|b| b.cache_dir().join(APP).join("guidance"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_place_is_under_the_apps_own_directory() {
        for p in [
            super::index_dir(),
            super::audit_log(),
            super::answers_dir(),
            super::history_file(),
        ] {
            assert!(p.components().any(|c| c.as_os_str() == "sextant"), "{p:?}");
        }
    }
}
