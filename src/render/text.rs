//! Terminal text: grouped by owner, critical first, colour only when allowed.

use super::{Header, Style, grouped};
use crate::analyzers::trends::Trend;
use crate::findings::{Finding, Severity, Summary};
use anstyle::{AnsiColor, Effects, Style as A};
use std::fmt::Write;

fn paint(style: Style, s: A, text: &str) -> String {
    if style.color {
        format!("{}{text}{}", s.render(), s.render_reset())
    } else {
        text.to_string()
    }
}

fn sev_style(sev: Severity) -> A {
    match sev {
        Severity::Critical => A::new()
            .fg_color(Some(AnsiColor::Red.into()))
            .effects(Effects::BOLD),
        Severity::Warning => A::new()
            .fg_color(Some(AnsiColor::Yellow.into()))
            .effects(Effects::BOLD),
        Severity::Info => A::new().fg_color(Some(AnsiColor::Cyan.into())),
    }
}

fn sev_label(sev: Severity) -> &'static str {
    match sev {
        Severity::Critical => "CRITICAL",
        Severity::Warning => "WARNING ",
        Severity::Info => "INFO    ",
    }
}

fn dim() -> A {
    A::new().effects(Effects::DIMMED)
}

fn bold() -> A {
    A::new().effects(Effects::BOLD)
}

/// Wrap `text` at `width` columns with `indent` before every line.
pub fn wrap(text: &str, indent: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && indent.len() + line.len() + 1 + word.chars().count() > width {
            let _ = writeln!(out, "{indent}{line}");
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        let _ = writeln!(out, "{indent}{line}");
    }
    out
}

pub fn header_line(h: &Header, style: Style) -> String {
    let mut s = format!(
        "{} {} {} · {}",
        paint(style, bold(), "Sextant"),
        h.source.kind.label(),
        h.source.path_or_context,
        h.scope()
    );
    if let Some(t) = h.observed_at {
        let _ = write!(s, " · as of {}", t.strftime("%Y-%m-%d %H:%M UTC"));
    }
    s
}

/// The `analyze` report.
pub fn text_report(h: &Header, findings: &[Finding], style: Style) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", header_line(h, style));
    let s = Summary::of(findings);
    let _ = writeln!(
        out,
        "{} critical · {} warning · {} info{}\n",
        paint(
            style,
            sev_style(Severity::Critical),
            &s.critical.to_string()
        ),
        paint(style, sev_style(Severity::Warning), &s.warning.to_string()),
        paint(style, sev_style(Severity::Info), &s.info.to_string()),
        if h.hidden > 0 {
            format!(" ({} hidden by filters)", h.hidden)
        } else {
            String::new()
        }
    );
    // What could not be read changes what the findings mean: said before them.
    let gaps = h.gaps();
    for gap in &gaps {
        let _ = writeln!(
            out,
            "{} {gap}",
            paint(style, sev_style(Severity::Warning), "note:")
        );
    }
    if !gaps.is_empty() {
        out.push('\n');
    }
    if findings.is_empty() {
        let _ = writeln!(out, "No problems found.");
    }
    let (problems, info): (Vec<&Finding>, Vec<&Finding>) =
        findings.iter().partition(|f| f.severity > Severity::Info);
    let problems: Vec<Finding> = problems.into_iter().cloned().collect();
    for (label, group) in grouped(&problems) {
        let _ = writeln!(out, "{}", paint(style, bold(), &label));
        for f in group {
            out.push_str(&finding_block(f, style, false));
        }
        out.push('\n');
    }
    if !info.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            paint(style, bold(), "Info (history and hygiene)")
        );
        for f in info {
            let _ = writeln!(
                out,
                "  {} {}  {}",
                paint(style, dim(), &f.id),
                paint(style, sev_style(f.severity), f.category.as_str()),
                f.title
            );
        }
        out.push('\n');
    }
    if !findings.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            paint(
                style,
                dim(),
                "Details: sextant explain ID · as JSON: -o json · for a ticket: -o markdown"
            )
        );
    }
    out
}

fn finding_block(f: &Finding, style: Style, full: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "  {} {}  {}  {}",
        paint(style, sev_style(f.severity), sev_label(f.severity)),
        paint(style, dim(), &f.id),
        paint(style, bold(), f.category.as_str()),
        f.title
    );
    if !f.affected.is_empty() {
        let shown: Vec<&str> = f
            .affected
            .iter()
            .take(if full { 50 } else { 5 })
            .map(String::as_str)
            .collect();
        let more = f.affected.len().saturating_sub(shown.len());
        let _ = writeln!(
            out,
            "      {} {}{}",
            paint(style, dim(), "affects:"),
            shown.join(", "),
            if more > 0 {
                format!(" (+{more} more)")
            } else {
                String::new()
            }
        );
    } else if f.owner.is_some() {
        let _ = writeln!(
            out,
            "      {} {}",
            paint(style, dim(), "object: "),
            f.object
        );
    }
    out.push_str(&wrap(&f.explanation, "      ", 100));
    let max = if full { usize::MAX } else { 5 };
    if !f.evidence.is_empty() {
        let _ = writeln!(out, "      {}", paint(style, dim(), "evidence:"));
        for e in f.evidence.iter().take(max) {
            let text: String = if full {
                e.text.clone()
            } else {
                e.text.chars().take(160).collect()
            };
            let _ = writeln!(
                out,
                "        {} {}",
                paint(style, dim(), &format!("[{}]", e.source.as_str())),
                text
            );
            if full {
                let _ = writeln!(
                    out,
                    "          {}",
                    paint(style, dim(), &format!("↳ {}", e.reference))
                );
            }
        }
        if f.evidence.len() > max {
            let _ = writeln!(
                out,
                "        {}",
                paint(
                    style,
                    dim(),
                    &format!(
                        "… {} more (sextant explain {})",
                        f.evidence.len() - max,
                        f.id
                    )
                )
            );
        }
    }
    let fix = wrap(&f.remediation, "           ", 100);
    let _ = write!(
        out,
        "      {} {}",
        paint(
            style,
            A::new().fg_color(Some(AnsiColor::Green.into())),
            "fix:"
        ),
        fix.trim_start()
    );
    out
}

/// `explain`: one finding in depth.
pub fn text_explain(f: &Finding, style: Style) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}",
        paint(style, bold(), &format!("{} · {}", f.id, f.title))
    );
    let _ = writeln!(
        out,
        "severity: {}   category: {}",
        paint(style, sev_style(f.severity), f.severity.as_str()),
        f.category
    );
    let _ = writeln!(out, "object:   {}", f.object);
    if let Some(o) = &f.owner {
        let _ = writeln!(out, "owner:    {} {}", o.kind, o.name);
    }
    if !f.affected.is_empty() {
        let _ = writeln!(out, "affects:  {}", f.affected.join(", "));
    }
    let _ = writeln!(out, "\n{}", paint(style, bold(), "What is wrong"));
    out.push_str(&wrap(&f.explanation, "  ", 100));
    let _ = writeln!(out, "\n{}", paint(style, bold(), "Evidence"));
    for e in &f.evidence {
        let _ = writeln!(
            out,
            "  {} {}",
            paint(style, dim(), &format!("[{}]", e.source.as_str())),
            e.text
        );
        let _ = writeln!(
            out,
            "      {}",
            paint(style, dim(), &format!("↳ {}", e.reference))
        );
    }
    let _ = writeln!(
        out,
        "\n{}",
        paint(
            style,
            bold(),
            "Fix (suggestions; Sextant never changes the cluster)"
        )
    );
    out.push_str(&wrap(&f.remediation, "  ", 100));
    if !f.guidance.is_empty() {
        let _ = writeln!(out, "\n{}", paint(style, bold(), "Level 4 guidance"));
        for g in &f.guidance {
            let _ = writeln!(out, "  [{}] {} ({}, {})", g.id, g.heading, g.file, g.lang);
        }
    }
    out
}

/// `analyze --trends`: one block per category, most severe and widest first.
pub fn text_trends(clusters: &[super::ClusterLine], trends: &[Trend], style: Style) -> String {
    let mut out = String::new();
    let total: usize = trends.iter().map(|t| t.findings).sum();
    let _ = writeln!(
        out,
        "{} trends · {} · {}",
        paint(style, bold(), "Sextant"),
        super::cluster_list(clusters),
        super::plural(total, "finding")
    );
    for c in clusters {
        if let Some(e) = &c.error {
            let _ = writeln!(
                out,
                "  {} cluster {}: {e}",
                paint(style, sev_style(Severity::Warning), "could not read"),
                c.name
            );
        }
    }
    out.push('\n');
    if trends.is_empty() {
        let _ = writeln!(out, "No problems found.");
        return out;
    }
    let width = trends
        .iter()
        .map(|t| t.category.as_str().len())
        .max()
        .unwrap_or(0);
    for t in trends {
        let name = format!("{:<width$}", t.category.as_str());
        let _ = writeln!(
            out,
            "{} {} {}",
            paint(style, sev_style(t.severity), sev_label(t.severity)),
            paint(style, bold(), &name),
            t.summary
        );
        let pad = " ".repeat(9);
        if !t.examples.is_empty() {
            let more = t.workloads.saturating_sub(t.examples.len());
            let _ = writeln!(
                out,
                "{pad}{}{}",
                paint(style, dim(), &format!("e.g. {}", t.examples.join("; "))),
                if more > 0 {
                    paint(style, dim(), &format!(" and {more} more"))
                } else {
                    String::new()
                }
            );
        }
        if let Some(p) = &t.policy {
            let _ = writeln!(out, "{pad}fix once, centrally: {p}");
        }
        if let Some(g) = &t.guidance {
            let _ = writeln!(
                out,
                "{pad}{}",
                paint(
                    style,
                    dim(),
                    &format!("Level 4: {} ({})", g.heading, g.file)
                )
            );
        }
    }
    out
}
