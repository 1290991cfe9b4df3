//! Markdown for incident tickets: a summary table, then each finding with its evidence quoted.

use super::{Header, grouped};
use crate::analyzers::trends::Trend;
use crate::findings::{Finding, Summary};
use std::fmt::Write;

fn escape_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

pub fn markdown_report(h: &Header, findings: &[Finding]) -> String {
    let mut out = String::new();
    let s = Summary::of(findings);
    let _ = writeln!(out, "# Sextant findings\n");
    let _ = writeln!(
        out,
        "Source: {} `{}` · {}{}\n",
        h.source.kind.label(),
        h.source.path_or_context,
        h.scope(),
        h.observed_at
            .map(|t| format!(" · as of {}", t.strftime("%Y-%m-%d %H:%M UTC")))
            .unwrap_or_default()
    );
    let _ = writeln!(
        out,
        "**{} critical · {} warning · {} info**\n",
        s.critical, s.warning, s.info
    );
    if findings.is_empty() {
        let _ = writeln!(out, "No problems found.");
        return out;
    }
    let _ = writeln!(out, "| Severity | ID | Category | Object | Title |");
    let _ = writeln!(out, "| --- | --- | --- | --- | --- |");
    for f in findings {
        let _ = writeln!(
            out,
            "| {} | `{}` | {} | {} | {} |",
            f.severity,
            f.id,
            f.category,
            escape_cell(&f.object.to_string()),
            escape_cell(&f.title)
        );
    }
    out.push('\n');
    for (label, group) in grouped(findings) {
        if group
            .iter()
            .all(|f| f.severity == crate::findings::Severity::Info)
        {
            continue;
        }
        let _ = writeln!(out, "## {label}\n");
        for f in group
            .into_iter()
            .filter(|f| f.severity > crate::findings::Severity::Info)
        {
            out.push_str(&finding_section(f, "###"));
        }
    }
    for gap in h.gaps() {
        let _ = writeln!(out, "> note: {gap}");
    }
    out
}

fn finding_section(f: &Finding, level: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{level} [{}] {} — `{}`\n",
        f.severity.as_str().to_uppercase(),
        f.title,
        f.id
    );
    if !f.affected.is_empty() {
        let _ = writeln!(
            out,
            "Affects: {}\n",
            f.affected
                .iter()
                .map(|a| format!("`{a}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let _ = writeln!(out, "{}\n", f.explanation);
    if !f.evidence.is_empty() {
        let _ = writeln!(out, "Evidence:\n\n```text");
        for e in &f.evidence {
            let _ = writeln!(
                out,
                "[{}] {}",
                e.source.as_str(),
                e.text.replace("```", "ʼʼʼ")
            );
        }
        let _ = writeln!(out, "```\n");
    }
    let _ = writeln!(out, "**Fix:** {}\n", f.remediation);
    if !f.guidance.is_empty() {
        let _ = writeln!(
            out,
            "Guidance: {}\n",
            f.guidance
                .iter()
                .map(|g| format!("{} ({})", g.heading, g.file))
                .collect::<Vec<_>>()
                .join("; ")
        );
    }
    out
}

pub fn markdown_explain(f: &Finding) -> String {
    finding_section(f, "#")
}

/// `analyze --trends -o markdown`: a table for the ticket or the platform team's backlog.
pub fn markdown_trends(clusters: &[super::ClusterLine], trends: &[Trend]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Sextant trends\n");
    let _ = writeln!(out, "Clusters: {}\n", super::cluster_list(clusters));
    for c in clusters {
        if let Some(e) = &c.error {
            let _ = writeln!(out, "- **could not read** cluster `{}`: {}", c.name, e);
        }
    }
    if clusters.iter().any(|c| c.error.is_some()) {
        out.push('\n');
    }
    if trends.is_empty() {
        let _ = writeln!(out, "No problems found.");
        return out;
    }
    let _ = writeln!(
        out,
        "| Severity | Category | Trend | Fix once | Level 4 guidance |"
    );
    let _ = writeln!(out, "| --- | --- | --- | --- | --- |");
    for t in trends {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            t.severity.as_str(),
            t.category.as_str(),
            escape_cell(&t.summary),
            t.policy
                .as_deref()
                .map(|p| format!("`{p}`"))
                .unwrap_or_default(),
            t.guidance
                .as_ref()
                .map(|g| escape_cell(&format!("{} ({})", g.heading, g.file)))
                .unwrap_or_default()
        );
    }
    out
}
