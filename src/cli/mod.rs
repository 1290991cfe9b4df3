//! The command line: flags as in the contract (`docs/cli.md`), dispatch, and the
//! mapping of errors to exit codes (0 ok, 1 the command found a failure it reports, 2 bad
//! usage or input, with a one-line reason on stderr).

mod args;
mod assist;
mod fleet;
mod live;
mod man;
mod policy;
mod search;
mod settings;

use crate::analyzers;
use crate::config::Config;
use crate::error::Error;
use crate::findings::{Category, Severity};
use crate::render::{self, Format, Header, Style};
use crate::source::{Scope, SnapshotSource, Source};
pub use args::*;
use assist::{AskOptions, ask, explain, repl};
use clap::Parser;
use std::io::Write;

/// Parse, run, and return the process exit code.
pub fn main() -> i32 {
    // Installed as `kubectl-sextant`, kubectl runs it for `kubectl sextant …` with the same
    // arguments: it behaves as `sextant` (kubectl's --context, -n, --kubeconfig are ours too).
    let cli = match Cli::try_parse_from(plugin_args(std::env::args_os())) {
        Ok(c) => c,
        Err(e) => {
            // Help and version go to stdout with exit 0; usage errors are exit 2 with one line.
            if !e.use_stderr() {
                let _ = e.print();
                return 0;
            }
            eprintln!("sextant: {}", clap_one_line(&e.render().to_string()));
            return 2;
        }
    };
    init_tracing(&cli.global);
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            let bad_input = e.downcast_ref::<Error>().is_none_or(Error::is_bad_input);
            eprintln!("sextant: {}", one_line(&e));
            if bad_input { 2 } else { 1 }
        }
    }
}

/// `sextant mcp`: load the state once (a missing cluster is said by the tools, not fatal),
/// then serve over stdio. stdout belongs to the protocol: nothing else is printed there.
fn mcp(
    g: &Global,
    cfg: &Config,
    http: Option<&str>,
    token_file: Option<&std::path::Path>,
) -> anyhow::Result<i32> {
    // Check the HTTP exposure before loading anything: a refused address fails fast.
    let http = match http {
        Some(a) => {
            let addr = crate::mcp::http::parse_addr(a).map_err(Error::Usage)?;
            let token = match token_file {
                Some(p) => Some(
                    std::fs::read_to_string(p)
                        .map_err(|e| Error::Usage(format!("--token-file {}: {e}", p.display())))?
                        .lines()
                        .next()
                        .unwrap_or_default()
                        .trim()
                        .to_string(),
                ),
                None => std::env::var("SEXTANT_MCP_TOKEN").ok(),
            }
            .filter(|t| !t.is_empty());
            crate::mcp::http::check_exposure(&addr, token.as_deref()).map_err(Error::Usage)?;
            Some((addr, token))
        }
        None => None,
    };
    let gi = search::guidance_index(g, cfg)?;
    let (state, no_state) = match load(g, cfg) {
        Ok((_, s)) => (Some(s), None),
        Err(e) => {
            tracing::warn!(error = %one_line(&e), "mcp: no cluster state");
            (None, Some(one_line(&e)))
        }
    };
    let findings = match &state {
        Some(s) => findings_with_guidance(g, &gi, s),
        None => Vec::new(),
    };
    let server = crate::mcp::SextantMcp::new(crate::mcp::Served {
        state,
        no_state,
        findings,
        gi,
    });
    let rt = crate::runtime::new()?;
    match http {
        Some((addr, token)) => {
            let quiet = g.quiet;
            let guarded = token.is_some();
            rt.block_on(crate::mcp::http::serve(server, addr, token, |bound| {
                if !quiet {
                    eprintln!(
                        "sextant mcp: serving http://{bound}{}{} (Ctrl-C stops)",
                        crate::mcp::http::PATH,
                        if guarded {
                            ", bearer token required"
                        } else {
                            ""
                        }
                    );
                }
            }))
            .map_err(Error::Usage)?;
        }
        None => rt
            .block_on(crate::mcp::serve_stdio(server))
            .map_err(|e| Error::Usage(format!("mcp: {e}")))?,
    }
    Ok(0)
}

/// The arguments, with the program name normalised: `kubectl-sextant` (the kubectl plugin
/// name) is reported as `sextant` in help and errors.
fn plugin_args(args: impl Iterator<Item = std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let mut v: Vec<std::ffi::OsString> = args.collect();
    if let Some(first) = v.first_mut() {
        let name = std::path::Path::new(first.as_os_str())
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.starts_with("kubectl-sextant") {
            *first = "sextant".into();
        }
    }
    v
}

/// clap's multi-line usage error, folded to one line: the message, plus the possible values
/// or the suggestion when clap gives them.
fn clap_one_line(rendered: &str) -> String {
    let mut parts = Vec::new();
    for line in rendered.lines().map(str::trim) {
        if line.is_empty() || line.starts_with("For more information") || line.starts_with("Usage:")
        {
            continue;
        }
        parts.push(line.strip_prefix("error: ").unwrap_or(line).to_string());
    }
    parts.join(" ")
}

fn one_line(e: &anyhow::Error) -> String {
    let mut s = e.to_string();
    // Include the root cause only when it adds information.
    if let Some(root) = e.chain().last() {
        let r = root.to_string();
        if !s.contains(&r) {
            s = format!("{s}: {r}");
        }
    }
    s.replace('\n', " ")
}

fn init_tracing(g: &Global) {
    let level = if g.quiet {
        "error"
    } else {
        match g.verbose {
            0 => "warn",
            1 => "info",
            2 => "debug",
            _ => "trace",
        }
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("SEXTANT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("sextant={level}")));
    // Escape codes only for a terminal, and never with NO_COLOR.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(|| crate::render::progress::LogWriter)
        .with_target(false)
        .without_time()
        .try_init();
}

fn run(cli: Cli) -> anyhow::Result<i32> {
    let g = cli.global;
    crate::render::progress::set_enabled(!g.quiet);
    crate::audit::open(&g.audit_log.clone().unwrap_or_else(crate::dirs::audit_log));
    let cfg = Config::load_profile(g.config.as_deref(), g.profile.as_deref())?;
    crate::redact::set_extra_patterns(&cfg.redact.patterns).map_err(|e| {
        Error::Usage(format!(
            "{}: [redact] patterns: {e}",
            cfg.source
                .as_ref()
                .map_or("config".to_string(), |p| p.display().to_string())
        ))
    })?;
    // The model is resolved once, the first time a command needs it.
    let models = crate::assistant::model::ModelSlot::new(&cfg.llm, g.offline);
    let analyze_cmd = matches!(cli.command, Some(Command::Analyze(_)));
    if g.names_fleet() && !analyze_cmd {
        return Err(Error::Usage(
            "several clusters (--snapshot more than once, or --context a,b): only `analyze` reads a fleet"
                .into(),
        )
        .into());
    }
    if g.output == Some(Format::Sarif) && !analyze_cmd {
        return Err(Error::Usage("-o sarif: only `analyze` writes SARIF".into()).into());
    }
    match cli.command {
        Some(Command::Analyze(args)) => analyze(&g, &cfg, &args),
        Some(Command::Explain { id }) => explain(&g, &cfg, &models, &id),
        Some(Command::Guidance(GuidanceCommand::Search { query, limit, lang })) => {
            search::guidance_search(&g, &cfg, &query.join(" "), limit, lang.as_deref())
        }
        Some(Command::Index(IndexCommand::Build)) => search::index_build(&g, &cfg),
        Some(Command::Index(IndexCommand::Search {
            query,
            kind,
            since,
            limit,
        })) => search::index_search(
            &g,
            &cfg,
            search::IndexSearchArgs {
                query: &query.join(" "),
                kinds: &kind,
                since: since.as_deref(),
                limit,
            },
        ),
        Some(Command::Index(IndexCommand::Stats)) => search::index_stats(&g, &cfg),
        None | Some(Command::Repl) => repl(&g, &cfg, &models),
        Some(Command::Ask {
            question,
            show_prompt,
            prompts,
            evidence,
            no_cache,
            anonymize,
        }) => ask(
            &g,
            &cfg,
            &models,
            &question.join(" "),
            AskOptions {
                show_prompt,
                prompts: prompts.as_deref(),
                evidence: evidence.as_deref(),
                no_cache,
                anonymize,
            },
        ),
        Some(Command::Policy(PolicyCommand::Draft {
            target,
            request,
            engine,
            out,
        })) => match (target, request) {
            (_, Some(text)) => {
                policy::propose(&cfg, &models, &text, &engine.join(","), out.as_deref())
            }
            (Some(target), None) => {
                policy::draft(&g, &cfg, &target, &engine.join(","), out.as_deref())
            }
            (None, None) => Err(Error::Usage(
                "policy draft: give a finding id, a category or --request TEXT".into(),
            )
            .into()),
        },
        Some(Command::Policy(PolicyCommand::Test { dir })) => policy::test(&g, &dir),
        Some(Command::Policy(PolicyCommand::Check { files })) => policy::check(&g, &cfg, &files),
        Some(Command::Snapshot(SnapshotCommand::Save { dir })) => {
            live::snapshot_save(&g, &cfg, &dir)
        }
        Some(Command::Doctor) => live::doctor(&g, &cfg, &models),
        Some(Command::Completions { shell }) => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut cmd, "sextant", &mut out);
            write_out(&String::from_utf8_lossy(&out))?;
            Ok(0)
        }
        Some(Command::Mcp { http, token_file }) => {
            mcp(&g, &cfg, http.as_deref(), token_file.as_deref())
        }
        Some(Command::Config(ConfigCommand::Path)) => settings::path(&g),
        Some(Command::Config(ConfigCommand::Show)) => settings::show(&g, &cfg, &models),
        Some(Command::Config(ConfigCommand::Init)) => settings::init(&g),
        Some(Command::Man { dir }) => man::run(dir.as_deref()),
    }
}

/// The source the flags name: a dump with `--snapshot`, else the live cluster.
fn source(g: &Global, cfg: &Config) -> Box<dyn Source> {
    source_tallied(g, cfg, std::sync::Arc::default())
}

/// [`source`], a live collection counting into `tally` (the progress line reads it).
fn source_tallied(
    g: &Global,
    cfg: &Config,
    tally: std::sync::Arc<crate::cluster::collect::Tally>,
) -> Box<dyn Source> {
    let inner: Box<dyn Source> = match g.snapshot() {
        Some(path) => Box::new(SnapshotSource { path: path.clone() }),
        None => Box::new(crate::source::live::LiveSource::new(
            live::target(g, cfg),
            crate::cluster::collect::Options {
                tally,
                ..live::options(cfg)
            },
        )),
    };
    judged(cfg, inner)
}

/// Every source reads through the user's judgement settings.
fn judged(cfg: &Config, inner: Box<dyn Source>) -> Box<dyn Source> {
    Box::new(crate::source::Judged {
        inner,
        recent_minutes: cfg.analyze.recent_minutes,
    })
}

fn scope(g: &Global) -> Scope {
    match (&g.namespace, g.all_namespaces) {
        (Some(ns), false) => Scope::Namespace(ns.clone()),
        _ => Scope::All,
    }
}

/// Leave a one-shot command's cluster state to the operating system at exit instead of freeing
/// it object by object: for a large cluster that is hundreds of thousands of allocations, a
/// tenth of `analyze`'s wall time spent after the report is written, which a pipe's reader
/// waits for too (stdout closes at exit). Only for a command about to return to `main`; the
/// REPL and the MCP server free what they drop.
pub(super) fn leave_to_exit(state: crate::state::ClusterState) {
    std::mem::forget(state);
}

/// Load the state and say once on stderr what was skipped.
fn load(
    g: &Global,
    cfg: &Config,
) -> anyhow::Result<(crate::state::SourceInfo, crate::state::ClusterState)> {
    load_for(g, cfg, |src, scope| src.load(scope))
}

/// [`load`], reading the source with `read` (the typed state, or what `policy check` needs).
fn load_for(
    g: &Global,
    cfg: &Config,
    read: impl FnOnce(&dyn Source, &Scope) -> crate::error::Result<crate::state::ClusterState>,
) -> anyhow::Result<(crate::state::SourceInfo, crate::state::ClusterState)> {
    let tally = std::sync::Arc::new(crate::cluster::collect::Tally::default());
    let src = source_tallied(g, cfg, tally.clone());
    let busy = match g.snapshot() {
        Some(p) => crate::render::progress::Busy::start(format!("loading {}", p.display())),
        // Live: how far the collection is, as it goes.
        None => crate::render::progress::Busy::with_status("reading the cluster", move |_| {
            use std::sync::atomic::Ordering::Relaxed;
            format!(
                "{} kinds listed, {} objects, {} requests",
                tally.kinds.load(Relaxed),
                tally.objects.load(Relaxed),
                tally.requests.load(Relaxed)
            )
        }),
    };
    let state = read(src.as_ref(), &scope(g))?;
    drop(busy);
    // After loading: a live source knows its context only once connected.
    let info = src.info();
    if state.report.secrets_skipped > 0 && !g.quiet {
        eprintln!(
            "note: {} Secret object(s) in the snapshot were skipped: Sextant never reads Secrets",
            state.report.secrets_skipped
        );
    }
    for w in &state.report.warnings {
        eprintln!("warning: {w}");
    }
    tracing::info!(
        objects = state.object_count(),
        files = state.report.files_read,
        pods_with_logs = state.logs.pod_count(),
        "state loaded"
    );
    Ok((info, state))
}

fn parse_severity(flag: &str, value: &str) -> anyhow::Result<Severity> {
    value
        .parse::<Severity>()
        .map_err(|e| Error::Usage(format!("{flag}: {e}")).into())
}

fn write_out(text: &str) -> anyhow::Result<()> {
    write_out_with(|out| out.write_all(text.as_bytes()))
}

/// Standard output to `write`, buffered, as [`write_out`] treats it.
fn write_out_with(
    write: impl FnOnce(&mut std::io::BufWriter<std::io::StdoutLock<'static>>) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    // Why 64 KiB: stdout is line-buffered underneath, and each time an 8 KiB buffer was
    // handed to it, it wrote the lines and then the part line on its own: a 4.6 MB report went
    // out in 1,900 writes, half of them under 30 bytes. 64 KiB (a pipe's capacity) is ~140.
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    match write(&mut out).and_then(|_| out.flush()) {
        // A closed pipe (`| head`) is not an error worth reporting.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => Ok(r?),
    }
}

/// Findings with the guidance that applies to each.
fn findings_with_guidance(
    g: &Global,
    gi: &crate::index::guidance::GuidanceIndex,
    state: &crate::state::ClusterState,
) -> Vec<crate::findings::Finding> {
    let mut findings = analyzers::analyze(state);
    if let Scope::Namespace(ns) = scope(g) {
        findings = analyzers::in_namespace(findings, state, &ns);
    }
    gi.attach(&mut findings);
    findings
}

fn analyze(g: &Global, cfg: &Config, args: &AnalyzeArgs) -> anyhow::Result<i32> {
    let min = parse_severity("--min-severity", &args.min_severity)?;
    let fail_on = args
        .fail_on
        .as_deref()
        .map(|v| parse_severity("--fail-on", v))
        .transpose()?;
    let categories = args
        .category
        .iter()
        .filter(|c| !c.trim().is_empty())
        .map(|c| {
            c.trim()
                .parse::<Category>()
                .map_err(|e| Error::Usage(format!("--category: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if args.watch {
        if g.names_fleet() {
            return Err(Error::Usage("--watch follows one cluster, not a fleet".into()).into());
        }
        if g.output == Some(Format::Sarif) {
            return Err(Error::Usage("--watch has no SARIF form (-o text or json)".into()).into());
        }
        return live::analyze_watch(g, cfg, &categories, min, args.watch_interval);
    }
    if args.trends && g.output == Some(Format::Sarif) {
        return Err(Error::Usage(
            "--trends has no SARIF form (SARIF lists findings: drop --trends, or use -o json)"
                .into(),
        )
        .into());
    }
    if g.names_fleet() || args.all_contexts {
        return fleet::analyze(g, cfg, args, &categories, min, fail_on);
    }
    // Why the guidance index is opened beside the load: it needs nothing from the cluster,
    // and after the load it was ~10 ms of one core on a large dump's critical path.
    let (loaded, gi) = crate::runtime::beside(
        || load_for(g, cfg, |src, scope| src.load_for_analysis(scope)),
        || search::guidance_index(g, cfg),
    );
    let (info, state) = loaded?;
    let gi = gi?;
    let all = findings_with_guidance(g, &gi, &state);
    let total = all.len();
    let findings = analyzers::filter(all, &categories, min);
    let failed = fail_on.is_some_and(|s| findings.iter().any(|f| f.severity >= s));
    let hidden = total - findings.len();
    if args.trends {
        write_out(&fleet::trends_single(g, info, state, findings, hidden)?)?;
        return Ok(if failed { 1 } else { 0 });
    }
    let header = Header::of(&info, &state, hidden);
    match g.output.unwrap_or(Format::Text) {
        Format::Text if args.brief => write_out(&render::text_report_brief(
            &header,
            &findings,
            Style::detect(),
        ))?,
        Format::Text => write_out(&render::text_report(&header, &findings, Style::detect()))?,
        // Written as it is serialised, not held whole (see `write_json_report`).
        Format::Json => write_out_with(|w| render::write_json_report(w, &header, &findings))?,
        Format::Markdown => write_out(&render::markdown_report(&header, &findings))?,
        Format::Sarif => write_out(
            &(render::sarif_report(&[render::SarifRun {
                cluster: None,
                findings: &findings,
                origins: &state.origins,
            }]) + "\n"),
        )?,
    }
    leave_to_exit(state);
    Ok(if failed { 1 } else { 0 })
}
