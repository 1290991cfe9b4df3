//! `sextant man`: the main page with the sections a man page is expected to have (ENVIRONMENT,
//! FILES, EXIT STATUS) besides what clap describes; `--dir` writes it and a page for every
//! subcommand it names (`sextant-analyze.1`, `sextant-policy-draft.1`, …).

use super::write_out;
use std::io::Write as _;
use std::path::Path;

const ENVIRONMENT: &[(&str, &str)] = &[
    (
        "KUBECONFIG",
        "kubeconfig file(s) for live clusters (default ~/.kube/config, then in-cluster).",
    ),
    (
        "OPENAI_BASE_URL, SEXTANT_MODEL, OPENAI_API_KEY",
        "an OpenAI-compatible model endpoint, model and key (over [llm] in the config). Without them answers are offline.",
    ),
    (
        "SEXTANT_PROFILE",
        "the config profile to apply (under --profile).",
    ),
    (
        "SEXTANT_AUDIT_LOG",
        "where the audit trail is appended (under --audit-log).",
    ),
    (
        "SEXTANT_MCP_TOKEN",
        "the bearer token of `sextant mcp --http`.",
    ),
    (
        "XDG_CONFIG_HOME, XDG_DATA_HOME, XDG_CACHE_HOME",
        "where files live (see FILES).",
    ),
    (
        "NO_COLOR, COLUMNS",
        "no colour; the width text output is laid out for.",
    ),
];

const FILES: &[(&str, &str)] = &[
    (
        "$XDG_CONFIG_HOME/sextant/config.toml",
        "the config file (`sextant config init` writes a commented one).",
    ),
    (
        "$XDG_DATA_HOME/sextant/index",
        "the search index (`sextant index build`).",
    ),
    (
        "$XDG_DATA_HOME/sextant/audit.jsonl",
        "the audit trail: questions, cluster and model requests, tool results.",
    ),
    ("$XDG_DATA_HOME/sextant/answers/", "the model answer cache."),
    (
        "$XDG_DATA_HOME/sextant/history",
        "the REPL history (redacted).",
    ),
    (
        "$XDG_CACHE_HOME/sextant/guidance/",
        "the cached index of the Level 4 guidance.",
    ),
];

const EXIT: &[(&str, &str)] = &[
    (
        "0",
        "success (for `analyze`: no finding at or above --fail-on).",
    ),
    (
        "1",
        "the command found what it reports as a failure: a finding at or above --fail-on, a failing policy test, a proposed policy that was never proven, a doctor problem.",
    ),
    (
        "2",
        "bad usage or input: an unknown flag or value, a missing or unreadable --snapshot, a namespace or finding that does not exist, an unreachable cluster. One line on stderr says why.",
    ),
];

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('-', "\\-")
}

fn section(out: &mut Vec<u8>, title: &str, items: &[(&str, &str)]) -> std::io::Result<()> {
    if title.contains(' ') {
        writeln!(out, ".SH \"{title}\"")?;
    } else {
        writeln!(out, ".SH {title}")?;
    }
    for (k, v) in items {
        writeln!(out, ".TP\n\\fB{}\\fR\n{}", escape(k), escape(v))?;
    }
    Ok(())
}

/// The main page: clap's sections, then ENVIRONMENT, FILES and EXIT STATUS.
fn main_page(cmd: clap::Command) -> std::io::Result<Vec<u8>> {
    let man = clap_mangen::Man::new(cmd);
    let mut out = Vec::new();
    man.render_title(&mut out)?;
    man.render_name_section(&mut out)?;
    man.render_synopsis_section(&mut out)?;
    man.render_description_section(&mut out)?;
    man.render_options_section(&mut out)?;
    man.render_subcommands_section(&mut out)?;
    man.render_extra_section(&mut out)?;
    section(&mut out, "ENVIRONMENT", ENVIRONMENT)?;
    section(&mut out, "FILES", FILES)?;
    section(&mut out, "EXIT STATUS", EXIT)?;
    man.render_version_section(&mut out)?;
    Ok(out)
}

/// Print the main page, or write every page under `dir`.
pub fn run(dir: Option<&Path>) -> anyhow::Result<i32> {
    let cmd = <super::Cli as clap::CommandFactory>::command();
    match dir {
        None => write_out(&String::from_utf8_lossy(&main_page(cmd)?))?,
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            // Every subcommand's page (and clap's own main page), then ours over the main one.
            clap_mangen::generate_to(cmd.clone(), dir)?;
            std::fs::write(dir.join("sextant.1"), main_page(cmd)?)?;
            let n = std::fs::read_dir(dir)?.flatten().count();
            write_out(&format!("wrote {n} man pages to {}\n", dir.display()))?;
        }
    }
    Ok(0)
}
