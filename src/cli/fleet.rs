//! `analyze` over several clusters (`--context a,b`, `--all-contexts`, `--snapshot` given
//! more than once), and the trends view (`--trends`) over one cluster or many.

use super::{AnalyzeArgs, Global, findings_with_guidance, live, scope, write_out};
use crate::analyzers::{self, trends};
use crate::config::Config;
use crate::error::Error;
use crate::findings::{Category, Finding, Severity, Summary};
use crate::fleet::{self, Member};
use crate::render::{self, ClusterLine, Format, Header, SarifRun, Style};
use crate::source::SnapshotSource;
use crate::state::ClusterState;
use serde::Serialize;
use std::fmt::Write as _;

/// The clusters the flags name, as fleet members.
fn members(g: &Global, cfg: &Config, all_contexts: bool) -> anyhow::Result<Vec<Member>> {
    if !g.snapshots.is_empty() {
        if all_contexts || g.context.is_some() {
            return Err(Error::Usage(
                "--snapshot reads dumps, --context/--all-contexts read live clusters: use one or the other".into(),
            )
            .into());
        }
        let names = fleet::snapshot_names(&g.snapshots);
        return Ok(names
            .into_iter()
            .zip(&g.snapshots)
            .map(|(name, path)| Member {
                name,
                source: super::judged(cfg, Box::new(SnapshotSource { path: path.clone() })),
            })
            .collect());
    }
    let mut contexts: Vec<String> = if all_contexts {
        crate::cluster::contexts(g.kubeconfig.as_deref())?
    } else {
        g.context
            .as_deref()
            .unwrap_or_default()
            .split(',')
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty())
            .collect()
    };
    let mut seen = std::collections::HashSet::new();
    contexts.retain(|c| seen.insert(c.clone()));
    if contexts.is_empty() {
        return Err(Error::Usage(if all_contexts {
            "--all-contexts: the kubeconfig has no contexts".into()
        } else {
            "--context: no context names (expected e.g. --context prod-eu,prod-us)".into()
        })
        .into());
    }
    let base = live::target(g, cfg);
    Ok(contexts
        .into_iter()
        .map(|c| {
            let mut t = base.clone();
            t.context = Some(c.clone());
            Member {
                name: c,
                source: super::judged(
                    cfg,
                    Box::new(crate::source::live::LiveSource::new(t, live::options(cfg))),
                ),
            }
        })
        .collect())
}

/// One cluster's result.
struct Read {
    line: ClusterLine,
    state: Option<ClusterState>,
    findings: Vec<Finding>,
    hidden: usize,
}

/// `analyze` over a fleet; `Ok(exit code)`.
pub fn analyze(
    g: &Global,
    cfg: &Config,
    args: &AnalyzeArgs,
    categories: &[Category],
    min: Severity,
    fail_on: Option<Severity>,
) -> anyhow::Result<i32> {
    let members = members(g, cfg, args.all_contexts)?;
    let busy = crate::render::progress::Busy::start(format!(
        "reading {}",
        crate::findings::plural(members.len(), "cluster")
    ));
    let concurrency = cfg
        .cluster
        .fleet_concurrency
        .unwrap_or(fleet::DEFAULT_CONCURRENCY)
        .max(1);
    let loaded = fleet::load(members, &scope(g), concurrency);
    drop(busy);
    let gi = super::search::guidance_index(g, cfg)?;
    let mut reads = Vec::new();
    for l in loaded {
        match l.state {
            Ok(state) => {
                let all = findings_with_guidance(g, &gi, &state);
                let total = all.len();
                let findings = analyzers::filter(all, categories, min);
                reads.push(Read {
                    line: ClusterLine {
                        name: l.name,
                        source: l.info,
                        error: None,
                    },
                    hidden: total - findings.len(),
                    state: Some(state),
                    findings,
                });
            }
            // A dump that does not exist or a malformed flag is the user's to fix now.
            Err(e @ (Error::SnapshotNotFound(_) | Error::Usage(_))) => return Err(e.into()),
            Err(e) => {
                let why = e.to_string().replace('\n', " ");
                if !g.quiet {
                    eprintln!("sextant: cluster {}: {why}", l.name);
                }
                reads.push(Read {
                    line: ClusterLine {
                        name: l.name,
                        source: l.info,
                        error: Some(why),
                    },
                    state: None,
                    findings: Vec::new(),
                    hidden: 0,
                });
            }
        }
    }
    let failed = reads.iter().filter(|r| r.state.is_none()).count();
    if failed == reads.len() {
        return Err(Error::Usage(format!(
            "no cluster could be read: {}",
            reads
                .iter()
                .map(|r| format!("{}: {}", r.line.name, r.line.error.as_deref().unwrap_or("")))
                .collect::<Vec<_>>()
                .join("; ")
        ))
        .into());
    }
    let text = report(g, &reads, args.trends)?;
    write_out(&text)?;
    let found = fail_on.is_some_and(|s| {
        reads
            .iter()
            .flat_map(|r| &r.findings)
            .any(|f| f.severity >= s)
    });
    Ok(if found || failed > 0 { 1 } else { 0 })
}

/// `analyze --trends` on one cluster: the same report with one member.
pub fn trends_single(
    g: &Global,
    info: crate::state::SourceInfo,
    state: ClusterState,
    findings: Vec<Finding>,
    hidden: usize,
) -> anyhow::Result<String> {
    let name = info.path_or_context.clone();
    let read = Read {
        line: ClusterLine {
            name,
            source: info,
            error: None,
        },
        state: Some(state),
        findings,
        hidden,
    };
    report(g, std::slice::from_ref(&read), true)
}

/// The fleet's JSON: one entry per cluster (findings as in the single-cluster contract), the
/// overall summary, and the trends when asked for.
#[derive(Serialize)]
struct FleetJson<'a> {
    clusters: Vec<ClusterJson<'a>>,
    summary: Summary,
    #[serde(skip_serializing_if = "Option::is_none")]
    trends: Option<Vec<trends::Trend>>,
}

#[derive(Serialize)]
struct ClusterJson<'a> {
    name: &'a str,
    source: &'a crate::state::SourceInfo,
    findings: &'a [Finding],
    summary: Summary,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    warnings: Vec<String>,
    error: Option<&'a str>,
}

fn report(g: &Global, reads: &[Read], with_trends: bool) -> anyhow::Result<String> {
    let all = Summary::of(reads.iter().flat_map(|r| &r.findings));
    let trends = || {
        let per: Vec<trends::ClusterFindings> = reads
            .iter()
            .filter(|r| r.state.is_some())
            .map(|r| trends::ClusterFindings {
                cluster: &r.line.name,
                findings: &r.findings,
            })
            .collect();
        trends::trends(&per)
    };
    let lines: Vec<ClusterLine> = reads.iter().map(|r| r.line.clone()).collect();
    let single = reads.len() == 1;
    Ok(match g.output.unwrap_or(Format::Text) {
        Format::Text if with_trends => render::text_trends(&lines, &trends(), Style::detect()),
        Format::Markdown if with_trends => render::markdown_trends(&lines, &trends()),
        Format::Json if single => {
            // One cluster: the contract's analyze JSON, plus `trends`.
            let r = &reads[0];
            let state = r.state.as_ref();
            let mut doc = serde_json::to_value(render::AnalyzeJson {
                source: &r.line.source,
                findings: &r.findings,
                summary: Summary::of(&r.findings),
                warnings: state
                    .map(|s| Header::of(&r.line.source, s, r.hidden).gaps())
                    .unwrap_or_default(),
            })?;
            doc["trends"] = serde_json::to_value(trends())?;
            serde_json::to_string_pretty(&doc)? + "\n"
        }
        Format::Json => {
            let doc = FleetJson {
                clusters: reads
                    .iter()
                    .map(|r| ClusterJson {
                        name: &r.line.name,
                        source: &r.line.source,
                        findings: &r.findings,
                        summary: Summary::of(&r.findings),
                        warnings: r
                            .state
                            .as_ref()
                            .map(|s| Header::of(&r.line.source, s, r.hidden).gaps())
                            .unwrap_or_default(),
                        error: r.line.error.as_deref(),
                    })
                    .collect(),
                summary: all,
                trends: with_trends.then(trends),
            };
            serde_json::to_string_pretty(&doc)? + "\n"
        }
        Format::Sarif => {
            let runs: Vec<SarifRun> = reads
                .iter()
                .filter_map(|r| {
                    r.state.as_ref().map(|s| SarifRun {
                        cluster: (!single).then_some(r.line.name.as_str()),
                        findings: &r.findings,
                        origins: &s.origins,
                    })
                })
                .collect();
            render::sarif_report(&runs) + "\n"
        }
        Format::Text => {
            let style = Style::detect();
            let mut out = String::new();
            for r in reads {
                let _ = writeln!(
                    out,
                    "{}",
                    style.bold(&format!("── cluster {} ──", r.line.name))
                );
                match &r.state {
                    Some(s) => out.push_str(&render::text_report(
                        &Header::of(&r.line.source, s, r.hidden),
                        &r.findings,
                        style,
                    )),
                    None => {
                        let _ = writeln!(
                            out,
                            "could not read: {}",
                            r.line.error.as_deref().unwrap_or("")
                        );
                    }
                }
                out.push('\n');
            }
            let s = all;
            let _ = writeln!(
                out,
                "{}: {} critical · {} warning · {} info{} (trends across them: --trends)",
                crate::findings::plural(reads.len(), "cluster"),
                s.critical,
                s.warning,
                s.info,
                match reads.iter().filter(|r| r.state.is_none()).count() {
                    0 => String::new(),
                    n => format!("; {n} could not be read"),
                }
            );
            out
        }
        Format::Markdown => {
            let mut out = String::new();
            for r in reads {
                // Each report names its source (the dump or the context) under its title.
                match &r.state {
                    Some(s) => out.push_str(&render::markdown_report(
                        &Header::of(&r.line.source, s, r.hidden),
                        &r.findings,
                    )),
                    None => {
                        let _ = writeln!(
                            out,
                            "# Cluster {}\n\nCould not read: {}",
                            r.line.name,
                            r.line.error.as_deref().unwrap_or("")
                        );
                    }
                }
                out.push('\n');
            }
            out
        }
    })
}
