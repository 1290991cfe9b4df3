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

/// The width text output is laid out for: `COLUMNS` when set, else the terminal's width when
/// stdout is one, else 100 (piped); never under 40.
pub fn width() -> usize {
    use std::io::IsTerminal;
    let from_env = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok());
    let w = from_env.unwrap_or_else(|| {
        if std::io::stdout().is_terminal() {
            termimad::crossterm::terminal::size().map_or(100, |(w, _)| usize::from(w))
        } else {
            100
        }
    });
    w.clamp(40, 200)
}

/// `text` cut to `max` characters, the cut marked with `…`.
pub fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut t: String = text.chars().take(max.saturating_sub(1)).collect();
    t.push('…');
    t
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

/// The header laid out for `width`: its parts (`Sextant KIND PATH`, scope, time) packed on
/// lines joined by ` · `; the path alone on its own line when even that does not fit.
fn header_lines(h: &Header, style: Style, width: usize) -> Vec<String> {
    let one = header_line(h, style);
    if header_line(h, Style::plain()).chars().count() <= width {
        return vec![one];
    }
    let lead = format!(
        "{} {}",
        paint(style, bold(), "Sextant"),
        h.source.kind.label()
    );
    let lead_plain = format!("Sextant {}", h.source.kind.label());
    let mut parts: Vec<(String, usize)> = Vec::new();
    let first_plain = format!("{lead_plain} {}", h.source.path_or_context);
    let mut lines = Vec::new();
    if first_plain.chars().count() <= width {
        parts.push((
            format!("{lead} {}", h.source.path_or_context),
            first_plain.chars().count(),
        ));
    } else {
        lines.push(lead);
        lines.push(format!("  {}", h.source.path_or_context));
    }
    let scope = h.scope();
    parts.push((scope.clone(), scope.chars().count()));
    if let Some(t) = h.observed_at {
        let at = format!("as of {}", t.strftime("%Y-%m-%d %H:%M UTC"));
        let n = at.chars().count();
        parts.push((at, n));
    }
    let (mut line, mut len) = (String::new(), 0usize);
    for (part, n) in parts {
        if len > 0 && len + 3 + n > width {
            lines.push(std::mem::take(&mut line));
            len = 0;
        }
        if len > 0 {
            line.push_str(" · ");
            len += 3;
        }
        line.push_str(&part);
        len += n;
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// The `analyze` report, laid out for [`width`]: the header, what could not be read, one line
/// per finding, then the details.
pub fn text_report(h: &Header, findings: &[Finding], style: Style) -> String {
    text_report_as(h, findings, style, false, width())
}

/// The report's list alone, one line per finding (`analyze --brief`).
pub fn text_report_brief(h: &Header, findings: &[Finding], style: Style) -> String {
    text_report_as(h, findings, style, true, width())
}

/// One line for a finding: severity, id, object, title — cut to the width.
fn list_line(f: &Finding, style: Style, width: usize) -> String {
    // The title names the kind; the list shows where.
    let object = match &f.object.namespace {
        Some(ns) => format!("{ns}/{}", f.object.name),
        None => f.object.name.clone(),
    };
    let plain_head = format!("  {:<8} {}  ", sev_label(f.severity), f.id);
    let rest = cut(
        &format!("{object} — {}", f.title),
        width.saturating_sub(plain_head.chars().count()),
    );
    format!(
        "  {} {}  {rest}",
        paint(
            style,
            sev_style(f.severity),
            &format!("{:<8}", sev_label(f.severity))
        ),
        paint(style, dim(), &f.id),
    )
}

fn text_report_as(
    h: &Header,
    findings: &[Finding],
    style: Style,
    brief: bool,
    width: usize,
) -> String {
    let mut out = String::new();
    // The header's parts go on further lines when the width asks; a long path gets a line of
    // its own and is never cut (it is what the reader copies).
    for line in header_lines(h, style, width) {
        let _ = writeln!(out, "{line}");
    }
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
    // The list first: every problem on one line, before any detail.
    if !problems.is_empty() {
        for f in &problems {
            let _ = writeln!(out, "{}", list_line(f, style, width));
        }
        out.push('\n');
    }
    if brief {
        if !info.is_empty() {
            let _ = writeln!(
                out,
                "{}",
                paint(
                    style,
                    dim(),
                    &format!(
                        "{} info finding(s) (history and hygiene) not listed",
                        info.len()
                    )
                )
            );
        }
        return out;
    }
    let problems: Vec<Finding> = problems.into_iter().cloned().collect();
    for (label, group) in grouped(&problems) {
        let _ = writeln!(out, "{}", paint(style, bold(), &label));
        for f in group {
            out.push_str(&finding_block(f, style, false, width));
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
            let plain = format!("  {} {}  ", f.id, f.category.as_str());
            let _ = writeln!(
                out,
                "  {} {}  {}",
                paint(style, dim(), &f.id),
                paint(style, sev_style(f.severity), f.category.as_str()),
                cut(&f.title, width.saturating_sub(plain.chars().count()))
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

fn finding_block(f: &Finding, style: Style, full: bool, width: usize) -> String {
    let mut out = String::new();
    let head = format!(
        "  {} {}  {}  ",
        sev_label(f.severity),
        f.id,
        f.category.as_str()
    );
    // The title wraps under itself when the line is too narrow for it.
    let title = wrap(&f.title, "      ", width);
    let first_room = width.saturating_sub(head.chars().count());
    let title = if f.title.chars().count() <= first_room {
        f.title.clone()
    } else {
        format!("\n{}", title.trim_end())
    };
    let _ = writeln!(
        out,
        "  {} {}  {}{}{}",
        paint(style, sev_style(f.severity), sev_label(f.severity)),
        paint(style, dim(), &f.id),
        paint(style, bold(), f.category.as_str()),
        if title.starts_with('\n') { "" } else { "  " },
        title.trim_end_matches(' ')
    );
    if !f.affected.is_empty() {
        let shown: Vec<&str> = f
            .affected
            .iter()
            .take(if full { 50 } else { 5 })
            .map(String::as_str)
            .collect();
        let more = f.affected.len().saturating_sub(shown.len());
        let list = format!(
            "{}{}",
            shown.join(", "),
            if more > 0 {
                format!(" (+{more} more)")
            } else {
                String::new()
            }
        );
        let _ = writeln!(
            out,
            "      {} {}",
            paint(style, dim(), "affects:"),
            wrap(&list, "                ", width)
                .trim_start()
                .trim_end()
        );
    } else if f.owner.is_some() {
        let _ = writeln!(
            out,
            "      {} {}",
            paint(style, dim(), "object: "),
            f.object
        );
    }
    out.push_str(&wrap(&f.explanation, "      ", width));
    let max = if full { usize::MAX } else { 5 };
    if !f.evidence.is_empty() {
        let _ = writeln!(out, "      {}", paint(style, dim(), "evidence:"));
        for e in f.evidence.iter().take(max) {
            let label = format!("        [{}] ", e.source.as_str());
            let text: String = if full {
                e.text.clone()
            } else {
                cut(&e.text, width.saturating_sub(label.chars().count()))
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
    let fix = wrap(&f.remediation, "           ", width);
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
    // The in-depth view is never cut: long lines wrap at the width with a hanging indent.
    let w = width();
    for line in wrap(&format!("{} · {}", f.id, f.title), "", w).lines() {
        let _ = writeln!(out, "{}", paint(style, bold(), line));
    }
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
    out.push_str(&wrap(&f.explanation, "  ", w));
    let _ = writeln!(out, "\n{}", paint(style, bold(), "Evidence"));
    for e in &f.evidence {
        let tag = format!("[{}]", e.source.as_str());
        let hang = 2 + tag.chars().count() + 1;
        let body = wrap(&e.text, "", w.saturating_sub(hang).max(20));
        for (i, line) in body.lines().enumerate() {
            if i == 0 {
                let _ = writeln!(out, "  {} {line}", paint(style, dim(), &tag));
            } else {
                let _ = writeln!(out, "{:hang$}{line}", "");
            }
        }
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
    out.push_str(&wrap(&f.remediation, "  ", w));
    if !f.guidance.is_empty() {
        let _ = writeln!(out, "\n{}", paint(style, bold(), "Level 4 guidance"));
        // The id on a line of its own, then the heading (kept whole when it fits).
        for g in &f.guidance {
            let _ = writeln!(out, "  [{}]", g.id);
            out.push_str(&wrap(
                &format!("{} ({}, {})", g.heading, g.file, g.lang),
                "    ",
                w,
            ));
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
