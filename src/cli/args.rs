//! The command line's shape as clap parses it: global flags, commands and their own flags.
//! Raw values only; what they mean together is resolved in dispatch ([`super::run`]).

use crate::render::Format;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "sextant",
    disable_help_subcommand = true,
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
    #[arg(help_heading = "Global options", long = "snapshot", global = true, value_name = "PATH", action = clap::ArgAction::Append)]
    pub snapshots: Vec<PathBuf>,
    /// kubeconfig file (default: KUBECONFIG, then ~/.kube/config, then in-cluster)
    #[arg(
        help_heading = "Global options",
        long,
        global = true,
        value_name = "PATH"
    )]
    pub kubeconfig: Option<PathBuf>,
    /// kubeconfig context to use; `analyze` takes several (a,b) and reads them as a fleet
    #[arg(
        help_heading = "Global options",
        long,
        global = true,
        value_name = "NAME"
    )]
    pub context: Option<String>,
    /// Only this namespace
    #[arg(
        help_heading = "Global options",
        short = 'n',
        long,
        global = true,
        value_name = "NS",
        conflicts_with = "all_namespaces"
    )]
    pub namespace: Option<String>,
    /// All namespaces (the default)
    #[arg(help_heading = "Global options", short = 'A', long, global = true)]
    pub all_namespaces: bool,
    /// Time limit of each API request, retries included, e.g. 10s, 2m (default 30s)
    #[arg(help_heading = "Global options", long, global = true, value_name = "DURATION", value_parser = parse_timeout)]
    pub request_timeout: Option<std::time::Duration>,
    /// Output format (text is the default)
    #[arg(
        help_heading = "Global options",
        short = 'o',
        long,
        global = true,
        value_enum,
        value_name = "FORMAT"
    )]
    pub output: Option<Format>,
    /// Never call a language model, even if one is configured
    #[arg(help_heading = "Global options", long, global = true)]
    pub offline: bool,
    /// Config file (default: $XDG_CONFIG_HOME/sextant/config.toml)
    #[arg(
        help_heading = "Global options",
        long,
        global = true,
        value_name = "PATH"
    )]
    pub config: Option<PathBuf>,
    /// Apply this profile of the config file (default: SEXTANT_PROFILE, then the file's `profile`)
    #[arg(
        help_heading = "Global options",
        long,
        global = true,
        value_name = "NAME"
    )]
    pub profile: Option<String>,
    /// Where the search index lives (default: under $XDG_DATA_HOME/sextant/)
    #[arg(
        help_heading = "Global options",
        long,
        global = true,
        value_name = "PATH"
    )]
    pub index_dir: Option<PathBuf>,
    /// More guidance documents (*.md, *.txt), besides the embedded Level 4; repeatable
    #[arg(
        help_heading = "Global options",
        long,
        global = true,
        value_name = "DIR"
    )]
    pub guidance: Vec<PathBuf>,
    /// Use only the --guidance directories, not the embedded Level 4 documents
    #[arg(help_heading = "Global options", long, global = true)]
    pub replace_guidance: bool,
    /// More logging (to stderr); repeat for more
    #[arg(help_heading = "Global options", short = 'v', long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Less logging: errors only
    #[arg(help_heading = "Global options", short = 'q', long, global = true)]
    pub quiet: bool,
    /// Append the audit trail (questions, cluster and model requests) here (default: $XDG_DATA_HOME/sextant/audit.jsonl)
    #[arg(
        help_heading = "Global options",
        long,
        global = true,
        value_name = "PATH",
        env = "SEXTANT_AUDIT_LOG"
    )]
    pub audit_log: Option<PathBuf>,
}

impl Global {
    /// The dump to read (`--snapshot`), when one is named. Several are a fleet, which only
    /// `analyze` reads; [`run`] refuses them elsewhere before this is asked.
    pub fn snapshot(&self) -> Option<&PathBuf> {
        self.snapshots.first()
    }

    /// Whether the flags name several clusters (`--snapshot` twice, `--context a,b`).
    pub(super) fn names_fleet(&self) -> bool {
        self.snapshots.len() > 1 || self.context.as_deref().is_some_and(|c| c.contains(','))
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the analyzers and print findings
    #[command(
        after_help = "Examples:\n  sextant analyze --snapshot examples/demo-incident\n  sextant analyze -n payments --min-severity warning --brief\n  sextant analyze --snapshot ./dump -o markdown > ticket.md\n  sextant analyze --fail-on critical -o sarif > findings.sarif   # a CI gate"
    )]
    Analyze(AnalyzeArgs),
    /// One finding in depth: evidence, likely cause, fix, guidance
    #[command(
        after_help = "Examples:\n  sextant explain F-3a9c --snapshot examples/demo-incident\n  sextant explain cart --snapshot examples/demo-incident   # an object's most severe finding\n  sextant explain F-3a9c -o markdown"
    )]
    Explain {
        /// Finding id (or a unique prefix of it), or an object's name
        id: String,
    },
    /// Ask one question, get one answer with citations
    #[command(
        after_help = "Examples:\n  sextant ask --snapshot examples/demo-incident \"why is checkout failing?\"\n  sextant ask \"how many pods are crash-looping in payments?\"\n  sextant ask --evidence ./pasted/ \"why does ledger restart?\"   # kubectl output pasted into files\n  sextant ask --show-prompt \"why is cart down?\"   # what a model would be sent"
    )]
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
    #[command(
        after_help = "Examples:\n  sextant --snapshot examples/demo-incident\n  sextant repl --context staging -n shop\n  echo 'why is cart crashing?' | sextant --snapshot examples/demo-incident repl"
    )]
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
    #[command(after_help = "Examples:\n  sextant doctor\n  sextant --context prod doctor -o json")]
    Doctor,
    /// Print a shell completion script: `sextant completions bash > /etc/bash_completion.d/sextant`
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): `sextant man > /usr/local/share/man/man1/sextant.1`; with
    /// --dir, write it and one page per subcommand
    Man {
        /// Write every page (sextant.1, sextant-analyze.1, …) into this directory
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Where the config file is, what is in effect (keys never shown), or a commented one to start from
    #[command(
        subcommand,
        after_help = "Examples:\n  sextant config init && $EDITOR \"$(sextant config path | cut -d' ' -f1)\"\n  sextant --profile prod config show"
    )]
    Config(ConfigCommand),
    /// Serve Sextant's read-only tools and the Level 4 guidance over MCP (stdio, or HTTP with
    /// --http) for an AI agent; the cluster state (--snapshot or the live cluster) is read once
    /// at start
    #[command(
        after_help = "Examples:\n  sextant --snapshot examples/demo-incident mcp\n  SEXTANT_MCP_TOKEN=$(openssl rand -hex 16) sextant mcp --http 0.0.0.0:8765"
    )]
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
    #[arg(long, value_delimiter = ',', value_name = "C,...", ignore_case = true,
          value_parser = category_values(), hide_possible_values = true)]
    pub category: Vec<String>,
    /// Hide findings below this severity
    #[arg(long, value_name = "SEVERITY", default_value = "info", ignore_case = true,
          value_parser = SEVERITIES)]
    pub min_severity: String,
    /// Exit 1 when a finding at or above this severity is reported (for CI gates)
    #[arg(long, value_name = "SEVERITY", ignore_case = true, value_parser = SEVERITIES)]
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
    #[command(
        after_help = "Examples:\n  sextant policy draft Privileged --engine kyverno\n  sextant policy draft F-3a9c --snapshot examples/demo-incident --out ./policies\n  sextant policy draft --request \"require a team label on every namespace\"   # needs a model"
    )]
    Draft {
        /// A finding id (or unique prefix), or a category such as Privileged or LatestTag
        #[arg(required_unless_present = "request", conflicts_with = "request")]
        target: Option<String>,
        /// Ask the configured model for a policy in plain words ("require a team label on
        /// every namespace"); shown only once it passes the same proof (bounded retries)
        #[arg(long, value_name = "TEXT")]
        request: Option<String>,
        /// kyverno (a ValidatingPolicy), kyverno-clusterpolicy (the legacy ClusterPolicy),
        /// gatekeeper, vap or all (comma-separated; all = kyverno, gatekeeper, vap)
        #[arg(long, default_value = "all", value_delimiter = ',', value_name = "ENGINE,...",
              ignore_case = true, value_parser = ENGINES)]
        engine: Vec<String>,
        /// Write the policies and their test bundles here
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Run policy tests under DIR (kyverno-test.yaml, gator suite.yaml, sextant-vap-test.yaml);
    /// exit 1 if any fails
    #[command(
        after_help = "Examples:\n  sextant policy test ./policies\n  sextant policy test ./kyverno-policies/pod-security -o json"
    )]
    Test {
        /// A folder holding test suites (searched recursively)
        dir: PathBuf,
    },
    /// Which objects of the cluster state the policies would deny today
    #[command(
        after_help = "Examples:\n  sextant policy check ./policies --snapshot examples/demo-incident\n  sextant policy check require-labels.yaml -n payments -o json"
    )]
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
    #[command(
        after_help = "Examples:\n  sextant guidance search policy enforcement\n  sextant guidance search \"Richtlinien als Code\" --limit 3"
    )]
    Search {
        /// The query, in any of the corpus languages
        query: Vec<String>,
        /// How many sections to show
        #[arg(long, default_value_t = 5)]
        limit: usize,
        /// Query language (en, de, zh); detected when absent
        #[arg(long, value_parser = ["en", "de", "zh"])]
        lang: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum IndexCommand {
    /// Index the guidance and the cluster's events, logs and findings (a --snapshot dump, or the live cluster when one is configured)
    /// (incremental: only what changed is rewritten)
    #[command(
        after_help = "Examples:\n  sextant index build --snapshot examples/demo-incident\n  sextant --index-dir /tmp/idx index build"
    )]
    Build,
    /// Query the index
    #[command(
        after_help = "Examples:\n  sextant index search OOMKilled --kind event,log\n  sextant index search \"connection refused\" --since 2h"
    )]
    Search {
        query: Vec<String>,
        /// Only these kinds: guidance, event, log, finding (comma-separated)
        #[arg(long, value_delimiter = ',', value_name = "KIND,...",
              value_parser = ["guidance", "event", "log", "finding"])]
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
    /// Save the cluster's state (read-only) as a dump any command reads with --snapshot:
    /// Secrets never read, ConfigMap values blanked, logs and every string redacted
    #[command(
        after_help = "Examples:\n  sextant snapshot save ./incident-2026-12-01\n  sextant --context prod -n payments snapshot save ./payments\n  sextant analyze --snapshot ./incident-2026-12-01"
    )]
    Save {
        /// The directory to write (created; must be empty or absent)
        dir: PathBuf,
    },
}

/// The severities `--min-severity` and `--fail-on` take.
const SEVERITIES: [&str; 3] = ["info", "warning", "critical"];

/// The engines `policy draft --engine` takes.
/// (`kyverno` drafts a ValidatingPolicy; `kyverno-clusterpolicy` the legacy ClusterPolicy.)
const ENGINES: [&str; 5] = [
    "kyverno",
    "kyverno-clusterpolicy",
    "gatekeeper",
    "vap",
    "all",
];

/// Every category name, for `--category` (completion, and the list an invalid value prints).
fn category_values() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(
        crate::findings::Category::ALL.iter().map(|c| c.as_str()),
    )
}

/// `--request-timeout`: `30`, `30s`, `2m`.
pub(super) fn parse_timeout(s: &str) -> Result<std::time::Duration, String> {
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
