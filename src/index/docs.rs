//! What goes into the index: guidance sections, events, log windows and findings, each as an
//! [`IndexDoc`]. Every piece of cluster text passes through [`crate::redact`] here, before it
//! can reach the index, a search result or a prompt.

use super::{DocKind, IndexDoc};
use crate::findings::Finding;
use crate::guidance::Corpus;
use crate::lang::Lang;
use crate::redact::redact;
use crate::state::{ClusterState, event_time};

/// Lines per log window: enough context around an error, small enough to cite.
pub const LOG_WINDOW_LINES: usize = 20;
/// A window also closes at this many bytes (a stack trace of very long lines).
const LOG_WINDOW_BYTES: usize = 4096;

/// The guidance corpus: canonical sections only (aliases resolve through the corpus).
pub fn guidance(corpus: &Corpus) -> Vec<IndexDoc> {
    corpus
        .sections()
        .iter()
        .map(|s| IndexDoc {
            id: s.id.clone(),
            kind: Some(DocKind::Guidance),
            lang: Some(s.lang),
            source: "guidance".into(),
            title: s.heading.clone(),
            text: s.text.clone(),
            file: s.file.clone(),
            revision: Some(s.revision),
            lines: format!("{}-{}", s.lines.0, s.lines.1),
            ..IndexDoc::default()
        })
        .collect()
}

/// One document per event (events are already aggregated by the API: count, first, last).
pub fn events(state: &ClusterState, source: &str) -> Vec<IndexDoc> {
    state.events.iter().map(|e| event(e, source)).collect()
}

/// [`events`], handing each document to `emit` as it is made.
pub fn events_each(state: &ClusterState, source: &str, emit: &mut dyn FnMut(&IndexDoc)) {
    for e in &state.events {
        emit(&event(e, source));
    }
}

fn event(e: &k8s_openapi::api::core::v1::Event, source: &str) -> IndexDoc {
    let o = &e.involved_object;
    let ns = o.namespace.clone().or_else(|| e.metadata.namespace.clone());
    let kind = o.kind.as_deref().unwrap_or("Object");
    let name = o.name.as_deref().unwrap_or("");
    let key = e
        .metadata
        .name
        .clone()
        .or_else(|| e.metadata.uid.clone())
        .unwrap_or_else(|| format!("{kind}.{name}.{}", e.reason.as_deref().unwrap_or("")));
    let object = match &ns {
        Some(ns) => format!("{kind}/{ns}/{name}"),
        None => format!("{kind}/{name}"),
    };
    let msg = redact(e.message.as_deref().unwrap_or("")).into_owned();
    let count = e.count.unwrap_or(1);
    IndexDoc {
        id: format!("{source}#event/{}/{key}", ns.as_deref().unwrap_or("-")),
        kind: Some(DocKind::Event),
        lang: Some(Lang::En),
        source: source.to_string(),
        title: format!(
            "{} {} {object}",
            e.type_.as_deref().unwrap_or("Normal"),
            e.reason.as_deref().unwrap_or("")
        ),
        text: if count > 1 {
            format!("{msg} (×{count})")
        } else {
            msg
        },
        file: format!("events/{}/{kind}/{name}", ns.as_deref().unwrap_or("-")),
        namespace: ns,
        object: Some(object),
        time: event_time(e),
        ..IndexDoc::default()
    }
}

/// A leading RFC 3339 timestamp, if the line has one (most structured logs do).
fn line_time(line: &str) -> Option<jiff::Timestamp> {
    let head = line.trim_start().get(..40).unwrap_or(line.trim_start());
    let end = head
        .find(|c: char| c.is_whitespace() || c == ']' || c == '"')
        .unwrap_or(head.len());
    let candidate = head.get(..end)?.trim_start_matches('[');
    if candidate.len() < 19 || !candidate.as_bytes()[0].is_ascii_digit() {
        return None;
    }
    candidate.parse().ok()
}

struct Window {
    container: String,
    previous: bool,
    start: usize,
    end: usize,
    text: String,
    lines: usize,
    time: Option<jiff::Timestamp>,
}

/// Log lines grouped into windows per container, redacted.
pub fn logs(state: &ClusterState, source: &str) -> Vec<IndexDoc> {
    let mut out = Vec::new();
    logs_each(state, source, &mut |d| out.push(d.clone()));
    out
}

/// [`logs`], handing each window to `emit` as it closes.
///
/// A window is redacted as one text (one pass of the rule set per window, not per line; a
/// private key spanning lines is caught whole).
pub fn logs_each(state: &ClusterState, source: &str, emit: &mut dyn FnMut(&IndexDoc)) {
    let mut pods: Vec<&(String, String)> = state.logs.pods().collect();
    pods.sort();
    for (ns, pod) in pods {
        let mut cur: Option<Window> = None;
        let mut flush = |w: Window| {
            let c = if w.container.is_empty() {
                "-"
            } else {
                &w.container
            };
            let instance = if w.previous { "previous" } else { "current" };
            let text = match redact(&w.text) {
                std::borrow::Cow::Borrowed(_) => w.text,
                std::borrow::Cow::Owned(r) => r,
            };
            emit(&IndexDoc {
                id: format!("{source}#log/{ns}/{pod}/{c}/{instance}/{}", w.start),
                kind: Some(DocKind::Log),
                lang: Some(Lang::En),
                source: source.to_string(),
                title: format!(
                    "log {ns}/{pod} {c} ({instance}) lines {}-{}",
                    w.start, w.end
                ),
                text,
                file: format!("logs/{ns}/{pod}/{c}"),
                namespace: Some(ns.clone()),
                object: Some(format!("Pod/{ns}/{pod}")),
                time: w.time,
                lines: format!("{}-{}", w.start, w.end),
                ..IndexDoc::default()
            });
        };
        state
            .logs
            .for_each_line(ns, pod, |container, previous, n, line| {
                let same = cur
                    .as_ref()
                    .is_some_and(|w| w.container == container && w.previous == previous);
                let full = cur.as_ref().is_some_and(|w| {
                    w.lines >= LOG_WINDOW_LINES || w.text.len() >= LOG_WINDOW_BYTES
                });
                if (!same || full)
                    && let Some(w) = cur.take()
                {
                    flush(w);
                }
                let w = cur.get_or_insert_with(|| Window {
                    container: container.to_string(),
                    previous,
                    start: n,
                    end: n,
                    text: String::new(),
                    lines: 0,
                    time: None,
                });
                if w.time.is_none() {
                    w.time = line_time(line);
                }
                if !w.text.is_empty() {
                    w.text.push('\n');
                }
                w.text.push_str(line);
                w.end = n;
                w.lines += 1;
            });
        if let Some(w) = cur.take() {
            flush(w);
        }
    }
}

/// Findings, with their evidence (already redacted by the analyzers).
pub fn findings(findings: &[Finding], source: &str) -> Vec<IndexDoc> {
    findings
        .iter()
        .map(|f| {
            let mut text = f.explanation.clone();
            for e in &f.evidence {
                text.push('\n');
                text.push_str(&e.text);
            }
            text.push('\n');
            text.push_str(&f.remediation);
            let o = &f.object;
            IndexDoc {
                id: format!("{source}#finding/{}", f.id),
                kind: Some(DocKind::Finding),
                lang: Some(Lang::En),
                source: source.to_string(),
                title: format!("{} {} {}: {}", f.id, f.severity, f.category, f.title),
                text: redact(&text).into_owned(),
                file: f.id.clone(),
                namespace: o.namespace.clone(),
                object: Some(match &o.namespace {
                    Some(ns) => format!("{}/{ns}/{}", o.kind, o.name),
                    None => format!("{}/{}", o.kind, o.name),
                }),
                ..IndexDoc::default()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leading_timestamps_are_read() {
        assert!(line_time("2026-11-24T08:54:02Z ERROR x").is_some());
        assert!(line_time("[2026-11-24T08:54:02.123+01:00] x").is_some());
        assert!(line_time("ERROR 2026-11-24T08:54:02Z").is_none());
        assert!(line_time("").is_none());
    }
}
