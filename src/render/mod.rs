//! Rendering findings for people (text, markdown) and programs (JSON, the contract).
//!
//! Text is coloured only when stdout is a terminal and `NO_COLOR` is unset: the caller decides
//! by passing a [`Style`]; renderers never probe the terminal themselves.

mod markdown;
pub mod policy;
pub mod progress;
pub mod sarif;
pub mod terminal;
pub mod text;

pub use markdown::{markdown_explain, markdown_report, markdown_trends};
pub use sarif::{SarifRun, sarif_report};
pub use text::{text_explain, text_report, text_report_brief, text_trends};

use crate::findings::{Finding, Summary};
use crate::state::{ClusterState, LoadReport, SourceInfo};
use serde::Serialize;

/// Output format, as `-o`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Markdown,
    /// SARIF 2.1.0, for code-scanning dashboards (`analyze` only)
    Sarif,
}

/// Colour on or off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    pub color: bool,
}

impl Style {
    /// Colour when stdout is a terminal and NO_COLOR is not set.
    pub fn detect() -> Self {
        use std::io::IsTerminal;
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Style {
            color: !no_color && std::io::stdout().is_terminal(),
        }
    }

    pub fn plain() -> Self {
        Style { color: false }
    }

    /// `text` in bold when colour is on.
    pub fn bold(self, text: &str) -> String {
        if self.color {
            format!("\x1b[1m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

/// What a report says about the state besides findings.
pub struct Header<'a> {
    pub source: &'a SourceInfo,
    pub objects: usize,
    pub namespaces: usize,
    pub observed_at: Option<jiff::Timestamp>,
    pub report: &'a LoadReport,
    /// Findings hidden by filters (for the "N more" line).
    pub hidden: usize,
}

impl<'a> Header<'a> {
    pub fn of(source: &'a SourceInfo, state: &'a ClusterState, hidden: usize) -> Self {
        Header {
            source,
            objects: state.object_count(),
            namespaces: state.namespace_names().len(),
            observed_at: state.observed_at,
            report: &state.report,
            hidden,
        }
    }

    /// "106 objects in 7 namespaces", singular where it should be.
    pub fn scope(&self) -> String {
        format!(
            "{} in {}",
            plural(self.objects, "object"),
            plural(self.namespaces, "namespace")
        )
    }

    /// One line each for what could not be read.
    pub fn gaps(&self) -> Vec<String> {
        let mut out = self.report.warnings.clone();
        for (file, reason) in &self.report.skipped_files {
            out.push(format!("skipped {file}: {reason}"));
        }
        for (at, reason) in self.report.skipped_objects.iter().take(20) {
            out.push(format!("skipped object at {at}: {reason}"));
        }
        if self.report.skipped_objects.len() > 20 {
            out.push(format!(
                "… and {} more objects skipped",
                self.report.skipped_objects.len() - 20
            ));
        }
        for (kind, reason) in &self.report.unreadable_kinds {
            out.push(format!("could not read {kind}: {reason}"));
        }
        if !self.report.other_kinds.is_empty() {
            let mut kinds: Vec<String> = self
                .report
                .other_kinds
                .iter()
                .map(|(k, n)| format!("{k} ×{n}"))
                .collect();
            kinds.sort();
            out.push(format!(
                "not analysed (kinds Sextant has no analyzer for): {}",
                kinds.join(", ")
            ));
        }
        if self.report.manifests_only {
            out.push(
                "plain manifests (no status): spec-level checks ran, status checks were skipped"
                    .into(),
            );
        }
        out
    }
}

/// A cluster of a fleet, as report headings name it.
#[derive(Debug, Clone)]
pub struct ClusterLine {
    pub name: String,
    pub source: SourceInfo,
    /// Why the cluster could not be read, when it could not.
    pub error: Option<String>,
}

/// "2 clusters (eu, us)" or "snapshot examples/demo-incident".
fn cluster_list(clusters: &[ClusterLine]) -> String {
    match clusters {
        [one] => format!("{} {}", one.source.kind.label(), one.source.path_or_context),
        many => format!(
            "{} ({})",
            plural(many.len(), "cluster"),
            many.iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// `analyze -o json`, exactly the contract's shape plus `warnings` (what could not be read).
#[derive(Serialize)]
pub struct AnalyzeJson<'a> {
    pub source: &'a SourceInfo,
    pub findings: &'a [Finding],
    pub summary: Summary,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

fn analyze_json<'a>(header: &Header<'a>, findings: &'a [Finding]) -> AnalyzeJson<'a> {
    AnalyzeJson {
        source: header.source,
        findings,
        summary: Summary::of(findings),
        warnings: header.gaps(),
    }
}

pub fn json_report(header: &Header, findings: &[Finding]) -> String {
    let doc = analyze_json(header, findings);
    serde_json::to_string_pretty(&doc).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

/// [`json_report`] and a newline, written to `w` as it is serialised. Why: a large cluster's
/// report is megabytes (8 MB for 5,300 findings), and held whole it was the last step of
/// `analyze`'s peak memory. `w` should be buffered and of a concrete type: the pretty printer
/// writes a few bytes at a time, and through `dyn Write` each was a call that could not be
/// inlined.
pub fn write_json_report(
    w: &mut impl std::io::Write,
    header: &Header,
    findings: &[Finding],
) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, &analyze_json(header, findings))?;
    w.write_all(b"\n")
}

pub fn json_explain(finding: &Finding) -> String {
    serde_json::to_string_pretty(finding).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

/// The object a finding is grouped under in text and markdown: its owner, or itself.
pub fn group_label(f: &Finding) -> String {
    let ns = f.object.namespace.as_deref();
    match (&f.owner, ns) {
        (Some(o), Some(ns)) => format!("{ns} · {} {}", o.kind, o.name),
        (Some(o), None) => format!("{} {}", o.kind, o.name),
        (None, Some(ns)) => format!("{ns} · {} {}", f.object.kind, f.object.name),
        (None, None) => format!("{} {}", f.object.kind, f.object.name),
    }
}

/// Findings grouped by [`group_label`], groups in the order of their best finding.
pub fn grouped(findings: &[Finding]) -> Vec<(String, Vec<&Finding>)> {
    // Each label's group found through an index: a search of the groups per finding was
    // quadratic on a report of thousands of findings.
    let mut groups: Vec<(String, Vec<&Finding>)> = Vec::new();
    let mut at: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for f in findings {
        let label = group_label(f);
        match at.get(&label) {
            Some(&i) => groups[i].1.push(f),
            None => {
                at.insert(label.clone(), groups.len());
                groups.push((label, vec![f]));
            }
        }
    }
    groups
}

pub use crate::findings::plural;
