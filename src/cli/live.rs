//! Commands that talk to a live cluster: `doctor` and `snapshot save`. (`analyze` and the
//! others read a live cluster through [`crate::source::live::LiveSource`] like any source.)

use super::{Global, scope, write_out};
use crate::assistant::model::{Model, ModelSlot, Probe};
use crate::cluster::{Cluster, ClusterError, Target, collect, kinds, save};
use crate::config::Config;
use crate::error::Error;
use crate::render::Format;
use crate::source::live::LiveSource;
use serde::Serialize;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

/// The cluster the flags name.
pub fn target(g: &Global, cfg: &Config) -> Target {
    Target {
        kubeconfig: g.kubeconfig.clone(),
        context: g.context.clone().or_else(|| cfg.cluster.context.clone()),
        timeout: g
            .request_timeout
            .or(cfg.cluster.timeout_secs.map(Duration::from_secs)),
    }
}

/// Collection options from the config file.
pub fn options(cfg: &Config) -> collect::Options {
    let d = collect::Options::default();
    let c = &cfg.cluster;
    collect::Options {
        namespace: None,
        page_size: c.page_size.unwrap_or(d.page_size).max(1),
        concurrency: c.concurrency.unwrap_or(d.concurrency).max(1),
        log_tail_lines: c.log_tail_lines.unwrap_or(d.log_tail_lines),
        log_limit_bytes: c.log_limit_bytes.unwrap_or(d.log_limit_bytes),
        max_log_containers: c.max_log_containers.unwrap_or(d.max_log_containers),
        attempts: d.attempts,
        tally: d.tally,
    }
}

pub fn snapshot_save(g: &Global, cfg: &Config, dir: &Path) -> anyhow::Result<i32> {
    if g.snapshot().is_some() {
        return Err(Error::Usage(
            "snapshot save: --snapshot reads a dump; saving one needs a live cluster (drop --snapshot)"
                .into(),
        )
        .into());
    }
    if dir.is_file() {
        return Err(Error::Usage(format!(
            "snapshot save {}: is a file, expected a directory",
            dir.display()
        ))
        .into());
    }
    let src = LiveSource::new(target(g, cfg), options(cfg));
    let (cluster, collected) = src.collect(&scope(g))?;
    let saved = save::write(dir, &collected)?;
    let mut s = format!(
        "saved context {} ({}) to {}: {} objects, {} container logs (redacted), {} files, {} requests\n",
        cluster.context,
        cluster.server,
        dir.display(),
        saved.objects,
        saved.logs,
        saved.files,
        collected.requests
    );
    for (kind, why) in &collected.unreadable {
        let _ = writeln!(s, "  missing {kind}: {why}");
    }
    for m in collected.logs_missing.iter().take(10) {
        let _ = writeln!(s, "  log not saved: {m}");
    }
    let _ = writeln!(
        s,
        "Secrets are never read; ConfigMap values are blanked. Read it back with: sextant analyze --snapshot {}",
        dir.display()
    );
    if !g.quiet {
        eprint!("{s}");
    }
    Ok(0)
}

/// What `doctor` found.
#[derive(Debug, Default, Serialize)]
pub struct Doctor {
    pub kubeconfig: Option<String>,
    pub context: Option<String>,
    pub server: Option<String>,
    pub server_version: Option<String>,
    /// Kinds the credentials may list.
    pub readable: Vec<String>,
    /// Kinds they may not, with what to grant.
    pub unreadable: Vec<String>,
    pub logs_readable: Option<bool>,
    /// Write permissions held (Sextant never uses them).
    pub can_write: Vec<String>,
    pub can_read_secrets: Option<bool>,
    pub model: String,
    pub index: String,
    /// Problems that make a command fail (exit 1 when any).
    pub problems: Vec<String>,
}

pub fn doctor(g: &Global, cfg: &Config, models: &ModelSlot) -> anyhow::Result<i32> {
    let (model, model_problem) = model_state(models.configured());
    let mut d = Doctor {
        model,
        index: index_state(g, cfg),
        problems: model_problem.into_iter().collect(),
        ..Doctor::default()
    };
    if let Some(s) = g.snapshot() {
        d.kubeconfig = Some(format!("not used (--snapshot {})", s.display()));
    } else {
        let rt = crate::runtime::new()?;
        let ns = g.namespace.clone();
        if let Err(e) = rt.block_on(cluster_checks(g, cfg, ns.as_deref(), &mut d)) {
            d.problems.push(e.to_string());
        }
    }
    let text = match g.output.unwrap_or(Format::Text) {
        Format::Json => serde_json::to_string_pretty(&d)? + "\n",
        _ => render(&d),
    };
    write_out(&text)?;
    Ok(if d.problems.is_empty() { 0 } else { 1 })
}

async fn cluster_checks(
    g: &Global,
    cfg: &Config,
    ns: Option<&str>,
    d: &mut Doctor,
) -> Result<(), ClusterError> {
    let cluster = Cluster::connect(&target(g, cfg)).await?;
    d.kubeconfig = Some(cluster.origin.clone());
    d.context = Some(cluster.context.clone());
    d.server = Some(cluster.server.clone());
    d.server_version = Some(cluster.server_version().await?);
    let ns = ns.unwrap_or(&cluster.default_namespace).to_string();
    // One access review per kind Sextant lists, concurrently.
    let checks = kinds::KINDS.iter().map(|k| {
        let cluster = cluster.clone();
        let ns = ns.clone();
        async move {
            let scoped = g.namespace.is_some() && k.namespaced;
            let r = cluster
                .can_i(
                    "list",
                    k.group,
                    k.plural,
                    None,
                    scoped.then_some(ns.as_str()),
                )
                .await;
            (k, scoped, r)
        }
    });
    for (k, scoped, r) in futures::future::join_all(checks).await {
        match r? {
            true => d.readable.push(k.kind.to_string()),
            false => d.unreadable.push(format!(
                "{} (grant `list` on {}{})",
                k.kind,
                k.resource(),
                if scoped {
                    format!(" in namespace {ns}")
                } else {
                    " cluster-wide".into()
                }
            )),
        }
    }
    d.logs_readable = Some(cluster.can_i("get", "", "pods", Some("log"), None).await?);
    d.can_read_secrets = Some(cluster.can_i("get", "", "secrets", None, None).await?);
    // What the credentials could change: the namespace's rules, plus cluster-wide checks of
    // the verbs that hurt most.
    let rules = cluster.rules_review(&ns).await?;
    let mut writes = std::collections::BTreeSet::new();
    for r in rules
        .pointer("/status/resourceRules")
        .and_then(serde_json::Value::as_array)
        .into_iter()
        .flatten()
    {
        let verbs: Vec<&str> = r
            .get("verbs")
            .and_then(serde_json::Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(serde_json::Value::as_str)
            .filter(|v| !matches!(*v, "get" | "list" | "watch"))
            .collect();
        if verbs.is_empty() {
            continue;
        }
        for res in r
            .get("resources")
            .and_then(serde_json::Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(serde_json::Value::as_str)
        {
            // Creating access reviews is how every user asks what it may do: not a write.
            if res.contains("selfsubject") {
                continue;
            }
            writes.insert(format!("{} {res} (namespace {ns})", verbs.join("/")));
        }
    }
    for (verb, group, res) in [
        ("delete", "", "pods"),
        ("patch", "apps", "deployments"),
        ("delete", "", "nodes"),
    ] {
        if cluster.can_i(verb, group, res, None, None).await? {
            writes.insert(format!("{verb} {res} (cluster-wide)"));
        }
    }
    d.can_write = writes.into_iter().collect();
    if d.readable.is_empty() {
        d.problems
            .push("these credentials cannot list any kind Sextant reads".into());
    }
    Ok(())
}

/// The model endpoint as `doctor` sees it, and a problem when it is configured but does not
/// work (the probe is the assistant's: `GET /models`, or TCP where there is no listing).
fn model_state(model: Option<&Model>) -> (String, Option<String>) {
    let Some(m) = model else {
        return (
            "not configured: Sextant runs offline (set OPENAI_BASE_URL / SEXTANT_MODEL or [llm] in the config)".into(),
            None,
        );
    };
    let name = m.name();
    let head = format!("{} (model {name})", m.base_url());
    match m.probe() {
        Probe::Unlisted { reach, azure: true } => (format!("{head}: {reach} (Azure)"), None),
        // No model listing on this server: the chat endpoint is exercised by `ask`.
        Probe::Unlisted { reach, .. } => (format!("{head}: {reach} (no /models listing)"), None),
        Probe::Listed { ids, served: true } => (
            format!(
                "{head}: answers, key accepted, {name} is served ({} models)",
                ids.len()
            ),
            None,
        ),
        Probe::Listed { ids, .. } => (
            format!(
                "{head}: answers, key accepted, but {name} is not among its {} models{}",
                ids.len(),
                if ids.is_empty() {
                    String::new()
                } else {
                    format!(
                        " ({}{})",
                        ids.iter().take(5).cloned().collect::<Vec<_>>().join(", "),
                        if ids.len() > 5 { ", …" } else { "" }
                    )
                }
            ),
            None,
        ),
        Probe::Failed { why, rejected_key } => {
            let why = if rejected_key {
                format!("{why} (the key is missing or rejected)")
            } else {
                why
            };
            (
                format!("{head}: {why}"),
                Some(format!(
                    "model endpoint: {why}; ask and explain fall back to offline answers"
                )),
            )
        }
    }
}

fn index_state(g: &Global, cfg: &Config) -> String {
    let dir = super::search::index_dir(g, cfg);
    if !dir.exists() {
        return format!(
            "{}: not built (built on first use; `sextant index build` builds it now)",
            dir.display()
        );
    }
    match crate::index::SearchIndex::open(&dir).and_then(|(i, _)| i.stats()) {
        Ok(s) => format!(
            "{}: {} documents, {:.1} MB",
            dir.display(),
            s.documents,
            s.bytes_on_disk as f64 / 1e6
        ),
        Err(e) => format!(
            "{}: unreadable ({e}); it is rebuilt on next use",
            dir.display()
        ),
    }
}

fn render(d: &Doctor) -> String {
    let mut s = String::new();
    let row = |s: &mut String, k: &str, v: &str| {
        let _ = writeln!(s, "{k:<12} {v}");
    };
    if let Some(k) = &d.kubeconfig {
        row(&mut s, "kubeconfig", k);
    }
    if let (Some(c), Some(sv)) = (&d.context, &d.server) {
        row(&mut s, "context", &format!("{c} ({sv})"));
    }
    if let Some(v) = &d.server_version {
        row(&mut s, "server", v);
    }
    if !d.readable.is_empty() || !d.unreadable.is_empty() {
        row(
            &mut s,
            "can read",
            &format!(
                "{}/{} kinds Sextant reads",
                d.readable.len(),
                d.readable.len() + d.unreadable.len()
            ),
        );
        for u in &d.unreadable {
            row(&mut s, "", &format!("cannot list {u}"));
        }
    }
    if let Some(l) = d.logs_readable {
        row(
            &mut s,
            "logs",
            if l {
                "pods/log readable"
            } else {
                "pods/log NOT readable (grant `get` on pods/log): findings will lack log evidence"
            },
        );
    }
    if d.can_read_secrets == Some(true) {
        row(
            &mut s,
            "secrets",
            "WARNING: these credentials can read Secrets (Sextant never does: Secrets are not in its resource list and its client refuses them)",
        );
    }
    if !d.can_write.is_empty() {
        row(
            &mut s,
            "writes",
            "WARNING: these credentials can change the cluster; Sextant never will (its client refuses every write), but a dedicated read-only identity is safer (deploy/rbac.yaml):",
        );
        for w in d.can_write.iter().take(15) {
            row(&mut s, "", w);
        }
        if d.can_write.len() > 15 {
            row(
                &mut s,
                "",
                &format!("… and {} more", d.can_write.len() - 15),
            );
        }
    } else if d.server_version.is_some() {
        row(&mut s, "writes", "none: the credentials are read-only");
    }
    row(&mut s, "model", &d.model);
    row(&mut s, "index", &d.index);
    for p in &d.problems {
        row(&mut s, "PROBLEM", p);
    }
    s
}

/// `analyze --watch`: the usual report, then one line per finding that appears or resolves
/// as pods and events change, until Ctrl-C.
pub fn analyze_watch(
    g: &Global,
    cfg: &Config,
    categories: &[crate::findings::Category],
    min: crate::findings::Severity,
    interval: Duration,
) -> anyhow::Result<i32> {
    use crate::analyzers;
    use crate::render::{Header, Style};
    if g.snapshot().is_some() {
        return Err(Error::Usage(
            "--watch follows a live cluster; a --snapshot does not change (drop one of them)"
                .into(),
        )
        .into());
    }
    let gi = super::search::guidance_index(g, cfg)?;
    let scope = scope(g);
    let ns = match &scope {
        crate::source::Scope::Namespace(ns) => Some(ns.clone()),
        crate::source::Scope::All => None,
    };
    let findings_of = |state: &crate::state::ClusterState| {
        let mut f = analyzers::analyze(state);
        if let Some(ns) = &ns {
            f = analyzers::in_namespace(f, state, ns);
        }
        gi.attach(&mut f);
        let total = f.len();
        (analyzers::filter(f, categories, min), total)
    };
    let opts = options(cfg);
    let src = LiveSource::new(target(g, cfg), opts.clone());
    // One runtime for the collection and the watch: the client lives on it.
    let rt = crate::runtime::new()?;
    let (cluster, collected) = rt.block_on(src.collect_async(&scope))?;
    let mut state = crate::source::live::into_state(collected.clone());
    state.recent_minutes = cfg.analyze.recent_minutes;
    if let Some(ns) = &ns {
        let ns = ns.clone();
        state.retain_namespaces(&move |n| n == ns);
    }
    let (findings, total) = findings_of(&state);
    let info = crate::state::SourceInfo {
        kind: crate::state::SourceKind::Live,
        path_or_context: cluster.context.clone(),
    };
    let format = g.output.unwrap_or(Format::Text);
    let header = Header::of(&info, &state, total - findings.len());
    let first = match format {
        Format::Text | Format::Sarif => {
            crate::render::text_report(&header, &findings, Style::detect())
        }
        Format::Json => crate::render::json_report(&header, &findings) + "\n",
        Format::Markdown => crate::render::markdown_report(&header, &findings),
    };
    write_out(&first)?;
    if format == Format::Text {
        write_out(&format!(
            "watching pods and events in context {} (every {}s at most; Ctrl-C stops)\n",
            cluster.context,
            interval.as_secs()
        ))?;
    }
    let mut known: std::collections::BTreeMap<String, crate::findings::Finding> =
        findings.into_iter().map(|f| (f.id.clone(), f)).collect();
    let mut failed: Option<anyhow::Error> = None;
    let emit = |c: collect::Collected| {
        let mut state = crate::source::live::into_state(c);
        state.recent_minutes = cfg.analyze.recent_minutes;
        if let Some(ns) = &ns {
            let ns = ns.clone();
            state.retain_namespaces(&move |n| n == ns);
        }
        let (now, _) = findings_of(&state);
        let now: std::collections::BTreeMap<String, crate::findings::Finding> =
            now.into_iter().map(|f| (f.id.clone(), f)).collect();
        let mut out = String::new();
        for (id, f) in &now {
            if !known.contains_key(id) {
                out.push_str(&change_line(format, "new", f));
            }
        }
        for (id, f) in &known {
            if !now.contains_key(id) {
                out.push_str(&change_line(format, "resolved", f));
            }
        }
        known = now;
        if !out.is_empty()
            && let Err(e) = write_out(&out)
        {
            failed.get_or_insert(e);
        }
    };
    let on_error = |e: &str| tracing::warn!(error = e, "watch interrupted; retrying with backoff");
    rt.block_on(async {
        tokio::select! {
            r = crate::cluster::watch::run(&cluster, &collected, &opts, ns.as_deref(), interval, emit, on_error) => r,
            _ = tokio::signal::ctrl_c() => Ok(()),
        }
    })?;
    match failed {
        Some(e) => Err(e),
        None => Ok(0),
    }
}

fn change_line(format: Format, change: &str, f: &crate::findings::Finding) -> String {
    match format {
        Format::Json => serde_json::json!({"change": change, "finding": f}).to_string() + "\n",
        _ => format!(
            "{} {:<10} {}\n",
            jiff::Timestamp::now().strftime("%H:%M:%S"),
            if change == "new" {
                "+ NEW"
            } else {
                "- RESOLVED"
            },
            f.summary_line()
        ),
    }
}
