//! The command line: flags as in the contract (`docs/cli.md`), dispatch, and the
//! mapping of errors to exit codes (0 ok, 1 the command found a failure it reports, 2 bad
//! usage or input, with a one-line reason on stderr).

mod fleet;
mod live;
mod policy;
mod search;
mod settings;

use crate::analyzers;
use crate::assistant::model::{Model, ModelSlot};
use crate::config::Config;
use crate::error::Error;
use crate::findings::{Category, Severity};
use crate::render::{self, Format, Header, Style};
use crate::source::{Scope, SnapshotSource, Source};
use clap::{Args, Parser, Subcommand};
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "sextant",
    version = env!("SEXTANT_LONG_VERSION"),
    about = "Read-only Kubernetes triage: findings with evidence, Level 4 guidance, policy drafts",
    long_about = "Sextant reads a cluster (or a dump of one), finds what is wrong, explains why with \
evidence quoted from events and logs, and suggests fixes. It never changes the cluster and works \
offline with no language model.",
    after_help = "Try it on the shipped demo incident:\n  sextant analyze --snapshot examples/demo-incident"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Flags every command takes.
#[derive(Debug, Args, Clone)]
pub struct Global {
    /// Read cluster state from a dump (cluster-info dump tree, directory of kubectl -o json/yaml files, or one file). Never touches a cluster. `analyze` takes it repeatedly: one dump per cluster of a fleet
    #[arg(long = "snapshot", global = true, value_name = "PATH", action = clap::ArgAction::Append)]
    pub snapshots: Vec<PathBuf>,
    /// kubeconfig file (default: KUBECONFIG, then ~/.kube/config, then in-cluster)
    #[arg(long, global = true, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// kubeconfig context to use; `analyze` takes several (a,b) and reads them as a fleet
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
    /// Only this namespace
    #[arg(
        short = 'n',
        long,
        global = true,
        value_name = "NS",
        conflicts_with = "all_namespaces"
    )]
    pub namespace: Option<String>,
    /// All namespaces (the default)
    #[arg(short = 'A', long, global = true)]
    pub all_namespaces: bool,
    /// Connect/read timeout of each API request, e.g. 10s, 2m (default 30s)
    #[arg(long, global = true, value_name = "DURATION", value_parser = parse_timeout)]
    pub request_timeout: Option<std::time::Duration>,
    /// Output format (text is the default)
    #[arg(short = 'o', long, global = true, value_enum, value_name = "FORMAT")]
    pub output: Option<Format>,
    /// Never call a language model, even if one is configured
    #[arg(long, global = true)]
    pub offline: bool,
    /// Config file (default: $XDG_CONFIG_HOME/sextant/config.toml)
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Apply this profile of the config file (default: SEXTANT_PROFILE, then the file's `profile`)
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,
    /// Where the search index lives (default: under $XDG_DATA_HOME/sextant/)
    #[arg(long, global = true, value_name = "PATH")]
    pub index_dir: Option<PathBuf>,
    /// More guidance documents (*.md, *.txt), besides the embedded Level 4; repeatable
    #[arg(long, global = true, value_name = "DIR")]
    pub guidance: Vec<PathBuf>,
    /// Use only the --guidance directories, not the embedded Level 4 documents
    #[arg(long, global = true)]
    pub replace_guidance: bool,
    /// More logging (to stderr); repeat for more
    #[arg(short = 'v', long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Less logging: errors only
    #[arg(short = 'q', long, global = true)]
    pub quiet: bool,
    /// Append the audit trail (questions, cluster and model requests) here (default: $XDG_DATA_HOME/sextant/audit.jsonl)
    #[arg(long, global = true, value_name = "PATH", env = "SEXTANT_AUDIT_LOG")]
    pub audit_log: Option<PathBuf>,
}

impl Global {
    /// The dump to read (`--snapshot`), when one is named. Several are a fleet, which only
    /// `analyze` reads; [`run`] refuses them elsewhere before this is asked.
    pub fn snapshot(&self) -> Option<&PathBuf> {
        self.snapshots.first()
    }

    /// Whether the flags name several clusters (`--snapshot` twice, `--context a,b`).
    fn names_fleet(&self) -> bool {
        self.snapshots.len() > 1 || self.context.as_deref().is_some_and(|c| c.contains(','))
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the analyzers and print findings
    Analyze(AnalyzeArgs),
    /// One finding in depth: evidence, likely cause, fix, guidance
    Explain {
        /// Finding id (or a unique prefix of it)
        id: String,
    },
    /// Ask one question, get one answer with citations
    Ask {
        /// The question
        question: Vec<String>,
        /// Print what a model would be sent (prompts, fenced evidence, guidance) instead of answering
        #[arg(long)]
        show_prompt: bool,
        /// Prompt files overriding the built-in ones (system.md, answer.md, …)
        #[arg(long, value_name = "DIR")]
        prompts: Option<PathBuf>,
        /// Do not use or fill the answer cache
        #[arg(long)]
        no_cache: bool,
        /// Send the model placeholders instead of names, namespaces, IPs and emails (mapped back in the answer)
        #[arg(long)]
        anonymize: bool,
        /// Pasted evidence instead of a cluster: `kubectl describe pod` output, events tables, logs, manifests (a file or a directory)
        #[arg(long, value_name = "FILE_OR_DIR")]
        evidence: Option<PathBuf>,
    },
    /// The interactive REPL (default when stdin is a terminal)
    Repl,
    /// Policy-as-code: draft and test
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Search the maturity guidance
    #[command(subcommand)]
    Guidance(GuidanceCommand),
    /// Build, query or describe the search index
    #[command(subcommand)]
    Index(IndexCommand),
    /// Capture a live cluster, read-only, into a dump
    #[command(subcommand)]
    Snapshot(SnapshotCommand),
    /// Check kubeconfig, permissions, model endpoint and index
    Doctor,
    /// Print a shell completion script: `sextant completions bash > /etc/bash_completion.d/sextant`
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): `sextant man > /usr/local/share/man/man1/sextant.1`
    Man,
    /// Where the config file is, what is in effect (keys never shown), or a commented one to start from
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Serve Sextant's read-only tools and the Level 4 guidance over MCP (stdio, or HTTP with
    /// --http) for an AI agent; the cluster state (--snapshot or the live cluster) is read once
    /// at start
    Mcp {
        /// Serve MCP's streamable HTTP at http://ADDR/mcp instead of stdio: PORT or :PORT
        /// (127.0.0.1), or HOST:PORT. Beyond loopback a bearer token is required
        #[arg(long, value_name = "ADDR")]
        http: Option<String>,
        /// The bearer token clients must send (first line of the file; default:
        /// SEXTANT_MCP_TOKEN)
        #[arg(long, value_name = "PATH", requires = "http")]
        token_file: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// The config file's path, and whether it exists
    Path,
    /// The configuration in effect: file, profile and environment merged; secrets hidden
    Show,
    /// Write a commented config file to start from (refuses to overwrite)
    Init,
}

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// Only these categories (comma-separated, e.g. CrashLoopBackOff,OOMKilled)
    #[arg(long, value_delimiter = ',', value_name = "C,...")]
    pub category: Vec<String>,
    /// Hide findings below this severity
    #[arg(long, value_name = "info|warning|critical", default_value = "info")]
    pub min_severity: String,
    /// Exit 1 when a finding at or above this severity is reported (for CI gates)
    #[arg(long, value_name = "info|warning|critical")]
    pub fail_on: Option<String>,
    /// Live clusters: keep watching pods and events and print new and resolved findings
    /// (Ctrl-C stops)
    #[arg(long)]
    pub watch: bool,
    /// With --watch: at most one update per this interval (e.g. 2s)
    #[arg(long, value_name = "DURATION", value_parser = parse_timeout, default_value = "2s")]
    pub watch_interval: std::time::Duration,
    /// Every context of the kubeconfig, as a fleet (read 4 at a time)
    #[arg(long, conflicts_with = "watch")]
    pub all_contexts: bool,
    /// Aggregate the findings by category across namespaces, applications and clusters
    /// ("9 workloads in 5 namespaces run as root; one policy covers them all")
    #[arg(long, conflicts_with = "watch")]
    pub trends: bool,
    /// Text output: the list alone, one line per finding (severity, id, object, title)
    #[arg(long)]
    pub brief: bool,
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Draft policy-as-code for a finding id (with --snapshot) or a category, proven before it
    /// is shown, with test bundles
    Draft {
        /// A finding id (or unique prefix), or a category such as Privileged or LatestTag
        #[arg(required_unless_present = "request", conflicts_with = "request")]
        target: Option<String>,
        /// Ask the configured model for a policy in plain words ("require a team label on
        /// every namespace"); shown only once it passes the same proof (bounded retries)
        #[arg(long, value_name = "TEXT")]
        request: Option<String>,
        /// kyverno, gatekeeper, vap or all (comma-separated)
        #[arg(long, default_value = "all")]
        engine: String,
        /// Write the policies and their test bundles here
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Run policy tests under DIR (kyverno-test.yaml, gator suite.yaml, sextant-vap-test.yaml);
    /// exit 1 if any fails
    Test { dir: PathBuf },
    /// Which objects of the cluster state the policies would deny today
    Check {
        /// Policy files or folders (Gatekeeper templates + constraints, VAPs + bindings,
        /// Kyverno CEL policies)
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum GuidanceCommand {
    /// Search the maturity guidance alone (English, German or Chinese queries)
    Search {
        /// The query, in any of the corpus languages
        query: Vec<String>,
        /// How many sections to show
        #[arg(long, default_value_t = 5)]
        limit: usize,
        /// Query language (en, de, zh); detected when absent
        #[arg(long)]
        lang: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum IndexCommand {
    /// Index the guidance and the cluster's events, logs and findings (a --snapshot dump, or the live cluster when one is configured)
    /// (incremental: only what changed is rewritten)
    Build,
    /// Query the index
    Search {
        query: Vec<String>,
        /// Only these kinds: guidance, event, log, finding (comma-separated)
        #[arg(long, value_delimiter = ',', value_name = "KIND,...")]
        kind: Vec<String>,
        /// Only documents at or after this time (RFC 3339) or this long before the newest
        /// indexed state (30m, 2h, 7d)
        #[arg(long, value_name = "TIME|DURATION")]
        since: Option<String>,
        #[arg(long, default_value_t = 10)]
        limit: usize,
    },
    /// Documents by kind, language and source; size on disk
    Stats,
}

#[derive(Debug, Subcommand)]
pub enum SnapshotCommand {
    Save { dir: PathBuf },
}

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
    let rt = crate::cluster::runtime()?;
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
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .try_init();
}

fn run(cli: Cli) -> anyhow::Result<i32> {
    let g = cli.global;
    crate::render::progress::set_enabled(!g.quiet);
    crate::audit::open(
        &g.audit_log
            .clone()
            .unwrap_or_else(crate::audit::default_path),
    );
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
            (_, Some(text)) => policy::propose(&cfg, &models, &text, &engine, out.as_deref()),
            (Some(target), None) => policy::draft(&g, &cfg, &target, &engine, out.as_deref()),
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
        Some(Command::Man) => {
            let cmd = <Cli as clap::CommandFactory>::command();
            let mut out = Vec::new();
            clap_mangen::Man::new(cmd).render(&mut out)?;
            write_out(&String::from_utf8_lossy(&out))?;
            Ok(0)
        }
    }
}

/// The source the flags name: a dump with `--snapshot`, else the live cluster.
fn source(g: &Global, cfg: &Config) -> Box<dyn Source> {
    let inner: Box<dyn Source> = match g.snapshot() {
        Some(path) => Box::new(SnapshotSource { path: path.clone() }),
        None => Box::new(crate::cluster::LiveSource::new(
            live::target(g, cfg),
            live::options(cfg),
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

/// `--request-timeout`: `30`, `30s`, `2m`.
fn parse_timeout(s: &str) -> Result<std::time::Duration, String> {
    let (num, unit) = match s.strip_suffix('s') {
        Some(n) => (n, 1),
        None => match s.strip_suffix('m') {
            Some(n) => (n, 60),
            None => (s, 1),
        },
    };
    match num.trim().parse::<u64>() {
        Ok(n) if n > 0 => Ok(std::time::Duration::from_secs(n * unit)),
        _ => Err(format!("'{s}' is not a duration (e.g. 10s, 2m)")),
    }
}

fn scope(g: &Global) -> Scope {
    match (&g.namespace, g.all_namespaces) {
        (Some(ns), false) => Scope::Namespace(ns.clone()),
        _ => Scope::All,
    }
}

/// Load the state and say once on stderr what was skipped.
fn load(
    g: &Global,
    cfg: &Config,
) -> anyhow::Result<(crate::state::SourceInfo, crate::state::ClusterState)> {
    let src = source(g, cfg);
    let busy = crate::render::progress::Busy::start(match g.snapshot() {
        Some(p) => format!("loading {}", p.display()),
        None => "reading the cluster".to_string(),
    });
    let state = src.load(&scope(g))?;
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
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
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
    let (info, state) = load(g, cfg)?;
    let all = findings_with_guidance(g, &search::guidance_index(g, cfg)?, &state);
    let total = all.len();
    let findings = analyzers::filter(all, &categories, min);
    let failed = fail_on.is_some_and(|s| findings.iter().any(|f| f.severity >= s));
    let hidden = total - findings.len();
    let text = if args.trends {
        fleet::trends_single(g, info, state, findings, hidden)?
    } else {
        let header = Header::of(&info, &state, hidden);
        match g.output.unwrap_or(Format::Text) {
            Format::Text if args.brief => {
                render::text_report_brief(&header, &findings, Style::detect())
            }
            Format::Text => render::text_report(&header, &findings, Style::detect()),
            Format::Json => render::json_report(&header, &findings) + "\n",
            Format::Markdown => render::markdown_report(&header, &findings),
            Format::Sarif => {
                render::sarif_report(&[render::SarifRun {
                    cluster: None,
                    findings: &findings,
                    origins: &state.origins,
                }]) + "\n"
            }
        }
    };
    write_out(&text)?;
    Ok(if failed { 1 } else { 0 })
}

fn repl(g: &Global, cfg: &Config, models: &ModelSlot) -> anyhow::Result<i32> {
    let gi = search::guidance_index(g, cfg)?;
    let (g2, cfg2) = (g.clone(), cfg.clone());
    let loader: crate::repl::Loader = Box::new(move |context: Option<&str>| {
        let mut g = g2.clone();
        if let Some(c) = context {
            g.context = Some(c.to_string());
        }
        Ok(source(&g, &cfg2))
    });
    let model = std::env::var("SEXTANT_MODEL")
        .ok()
        .or_else(|| cfg.llm.model.clone());
    let style = if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        Style::detect()
    } else {
        Style::plain()
    };
    let mut session = crate::repl::Session::new(
        loader,
        gi,
        g.namespace.clone(),
        g.offline || !cfg.llm_configured(),
        model,
        style,
    );
    session.llm = models.configured().cloned();
    session.prompts = crate::assistant::prompts::Prompts::load(cfg.llm.prompts.as_deref())?;
    session.budget = crate::assistant::context::Budget::with_tokens(cfg.llm.context_tokens);
    session.tools = cfg.llm.tools.unwrap_or(true);
    session.anonymize = cfg.llm.anonymize.unwrap_or(false);
    session.memory = crate::assistant::memory::Memory::new(
        cfg.llm
            .memory_tokens
            .unwrap_or(crate::assistant::memory::DEFAULT_TOKENS),
    );
    crate::repl::run(session)?;
    Ok(0)
}

/// `ask`'s own flags.
struct AskOptions<'a> {
    show_prompt: bool,
    prompts: Option<&'a std::path::Path>,
    evidence: Option<&'a std::path::Path>,
    no_cache: bool,
    anonymize: bool,
}

fn ask(
    g: &Global,
    cfg: &Config,
    models: &ModelSlot,
    question: &str,
    o: AskOptions,
) -> anyhow::Result<i32> {
    let (show_prompt, prompts_dir, evidence) = (o.show_prompt, o.prompts, o.evidence);
    let prompts =
        crate::assistant::prompts::Prompts::load(prompts_dir.or(cfg.llm.prompts.as_deref()))?;
    crate::audit::record(
        "question",
        serde_json::json!({"text": crate::redact::redact(question), "command": "ask"}),
    );
    if question.trim().is_empty() {
        return Err(Error::Usage(
            "ask: the question is empty (sextant ask \"why is checkout down?\")".into(),
        )
        .into());
    }
    let gi = search::guidance_index(g, cfg)?;
    // The cluster is context, not a requirement: a guidance question needs none.
    let evidence_state = evidence.map(crate::source::evidence::load);
    // One line per file that was not understood, so nothing is dropped silently.
    if let Some(Ok(st)) = &evidence_state {
        for (file, reason) in &st.report.skipped_files {
            eprintln!("note: --evidence: skipped {file}: {reason}");
        }
        for w in &st.report.warnings {
            eprintln!("warning: {w}");
        }
    }
    let loaded = match evidence_state {
        Some(st) => Some((
            crate::state::SourceInfo {
                kind: crate::state::SourceKind::Snapshot,
                path_or_context: evidence
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
            },
            st?,
        )),
        None => match load(g, cfg) {
            Ok(l) => Some(l),
            // A context named on the command line that cannot be reached is an error (exit 2):
            // the user asked about that cluster. Without one, no cluster is only a note.
            Err(e)
                if g.snapshot().is_none()
                    && g.context.is_none()
                    && matches!(e.downcast_ref::<Error>(), Some(Error::Cluster(_))) =>
            {
                if !g.quiet {
                    eprintln!(
                        "note: no cluster ({}): answering from the guidance only",
                        one_line(&e)
                    );
                }
                None
            }
            Err(e) => return Err(e),
        },
    };
    let (findings, namespaces) = match &loaded {
        Some((_, state)) => (
            findings_with_guidance(g, &gi, state),
            state.namespace_names(),
        ),
        None => (Vec::new(), Default::default()),
    };
    if show_prompt {
        let (messages, ctx) = crate::assistant::model_messages(
            question,
            &findings,
            &namespaces,
            &gi,
            &prompts,
            crate::assistant::context::Budget::with_tokens(cfg.llm.context_tokens),
            loaded.as_ref().map(|(_, s)| s),
        );
        let mut s = String::new();
        for (role, text) in &messages {
            s.push_str(&format!("--- {role} ---\n{text}\n"));
        }
        s.push_str(&format!(
            "--- ≈{} tokens of context, prompts {}{} ---\n",
            ctx.tokens(),
            prompts.version(),
            if ctx.cut.is_empty() {
                String::new()
            } else {
                format!("; cut: {}", ctx.cut.join("; "))
            }
        ));
        write_out(&s)?;
        return Ok(0);
    }
    if let Some(model) = models.get() {
        let cache = (!o.no_cache).then(|| {
            (
                crate::assistant::cache::default_dir(),
                std::time::Duration::from_secs(cfg.llm.cache_ttl_secs.unwrap_or(3600)),
            )
        });
        let request = crate::assistant::pipeline::Request {
            question,
            findings: &findings,
            namespaces: &namespaces,
            gi: &gi,
            prompts: &prompts,
            state: loaded.as_ref().map(|(_, s)| s),
            tools: cfg.llm.tools.unwrap_or(true),
            anonymize: o.anonymize || cfg.llm.anonymize.unwrap_or(false),
            explain: None,
            budget: crate::assistant::context::Budget::with_tokens(cfg.llm.context_tokens),
            earlier: Vec::new(),
            cache,
            front_end: "ask",
        };
        match ask_model(g, model, request) {
            Ok(()) => return Ok(0),
            Err(e) => {
                eprintln!("sextant: the model did not answer ({e}); answering offline");
            }
        }
    }
    let a = crate::assistant::answer_offline(
        question,
        &findings,
        &namespaces,
        &gi,
        loaded.as_ref().map(|(_, s)| s),
    );
    let text = match g.output.unwrap_or(Format::Text) {
        Format::Json => serde_json::to_string_pretty(&a)? + "\n",
        _ => a.answer.clone(),
    };
    write_out(&text)?;
    Ok(0)
}

/// Answer with the model through the assistant pipeline, printing each line as it streams
/// (markdown for a terminal) or the contract's JSON at the end. An error before the first line
/// leaves nothing printed, so the caller can fall back to the offline answer.
fn ask_model(
    g: &Global,
    model: &Model,
    request: crate::assistant::pipeline::Request,
) -> anyhow::Result<()> {
    use crate::assistant::pipeline;
    let json = g.output == Some(Format::Json);
    let mut busy = crate::render::progress::Busy::start(format!("waiting for {}", model.name()));
    // Markdown rendered for a terminal; plain lines for pipes and NO_COLOR.
    let mut md = crate::render::terminal::MarkdownStream::new(crate::render::Style::detect());
    let mut on_line = |line: &str| {
        busy.stop();
        if !json {
            let _ = write_out(&md.line(line));
        }
    };
    let result = pipeline::run(model, request, &mut on_line, None);
    busy.stop();
    let reply = match result {
        Ok(r) => r,
        Err(f) if !f.streamed => return Err(f.into()),
        Err(f) => {
            // Part of the answer is on screen: say it stopped, then the offline answer.
            let _ = write_out(&format!("\n[the model's answer stopped: {f}]\n\n"));
            return Err(f.into());
        }
    };
    if json {
        write_out(&(serde_json::to_string_pretty(&reply.answer)? + "\n"))?;
    } else {
        write_out(&md.finish())?;
        let mut s = String::new();
        for (gid, c) in &reply.cited_guidance {
            s.push_str(&format!(
                "  [{gid}] {} ({}): “{}”\n",
                c.heading, c.file, c.quote
            ));
        }
        if !s.is_empty() {
            write_out(&format!("\nLevel 4 guidance cited:\n{s}"))?;
        }
        write_out(&format!(
            "({}; answer grounded in {} finding(s))\n",
            model.name(),
            reply.answer.findings.len()
        ))?;
    }
    if reply.dropped > 0 && !g.quiet {
        eprintln!(
            "note: {} citation(s) the model made up were removed",
            reply.dropped
        );
    }
    Ok(())
}

fn explain(g: &Global, cfg: &Config, models: &ModelSlot, id: &str) -> anyhow::Result<i32> {
    let (_, state) = load(g, cfg)?;
    let findings = findings_with_guidance(g, &search::guidance_index(g, cfg)?, &state);
    let f = analyzers::find(&findings, id)?;
    // With a model (text output): its explanation, grounded in this finding; the offline
    // explanation when it fails.
    if g.output.unwrap_or(Format::Text) == Format::Text
        && let Some(model) = models.get()
    {
        let gi = search::guidance_index(g, cfg)?;
        let prompts = crate::assistant::prompts::Prompts::load(cfg.llm.prompts.as_deref())?;
        let namespaces = state.namespace_names();
        let question = format!("explain {}", f.id);
        let request = crate::assistant::pipeline::Request {
            question: &question,
            findings: &findings,
            namespaces: &namespaces,
            gi: &gi,
            prompts: &prompts,
            state: Some(&state),
            tools: false,
            anonymize: cfg.llm.anonymize.unwrap_or(false),
            explain: Some(f),
            budget: crate::assistant::context::Budget::with_tokens(cfg.llm.context_tokens),
            earlier: Vec::new(),
            cache: None,
            front_end: "explain",
        };
        match ask_model(g, model, request) {
            Ok(()) => return Ok(0),
            Err(e) => eprintln!("sextant: the model did not answer ({e}); explaining offline"),
        }
    }
    let text = match g.output.unwrap_or(Format::Text) {
        Format::Text | Format::Sarif => render::text_explain(f, Style::detect()),
        Format::Json => render::json_explain(f) + "\n",
        Format::Markdown => render::markdown_explain(f),
    };
    write_out(&text)?;
    Ok(0)
}
