//! Evidence builders: events deduplicated with counts and times, log excerpts, status and spec
//! facts, all redacted and each with a `ref` saying where it was read.

use crate::findings::{Evidence, EvidenceSource};
use crate::logs::LogExcerpt;
use crate::redact::redact;
use crate::state::event_time;
use k8s_openapi::api::core::v1::Event;

/// Events as evidence: Warnings first (Normal ones only when asked), the same reason+message
/// once with the counts summed and the first..last time range.
pub fn events(
    events: &[&Event],
    include_normal: bool,
    kind: &str,
    ns: &str,
    name: &str,
) -> Vec<Evidence> {
    struct Agg {
        reason: String,
        message: String,
        kind: String,
        count: i64,
        first: Option<jiff::Timestamp>,
        last: Option<jiff::Timestamp>,
        warning: bool,
    }
    let mut aggs: Vec<Agg> = Vec::new();
    for ev in events {
        let warning = ev.type_.as_deref() != Some("Normal");
        if !warning && !include_normal {
            continue;
        }
        let reason = ev.reason.clone().unwrap_or_default();
        let message = ev.message.clone().unwrap_or_default().trim().to_string();
        let count = ev
            .count
            .map(i64::from)
            .or_else(|| ev.series.as_ref().and_then(|s| s.count).map(i64::from))
            .unwrap_or(1)
            .max(1);
        let first = ev
            .first_timestamp
            .as_ref()
            .map(|t| t.0)
            .or_else(|| ev.event_time.as_ref().map(|t| t.0));
        let last = event_time(ev);
        if let Some(a) = aggs
            .iter_mut()
            .find(|a| a.reason == reason && a.message == message)
        {
            a.count += count;
            a.first = min_opt(a.first, first);
            a.last = max_opt(a.last, last);
        } else {
            aggs.push(Agg {
                reason,
                message,
                kind: ev
                    .involved_object
                    .kind
                    .clone()
                    .unwrap_or_else(|| kind.to_string()),
                count,
                first,
                last,
                warning,
            });
        }
    }
    // Warnings first, then by how often they happened.
    aggs.sort_by(|a, b| b.warning.cmp(&a.warning).then(b.count.cmp(&a.count)));
    aggs.into_iter()
        .map(|a| {
            let times = match (a.first, a.last) {
                (Some(f), Some(l)) if a.count > 1 && f != l => {
                    format!(" (×{}, {} .. {})", a.count, short_time(f), short_time(l))
                }
                (_, Some(l)) if a.count > 1 => format!(" (×{}, last {})", a.count, short_time(l)),
                (_, Some(l)) => format!(" ({})", short_time(l)),
                _ if a.count > 1 => format!(" (×{})", a.count),
                _ => String::new(),
            };
            let label = if a.warning { "Warning" } else { "Normal" };
            Evidence {
                source: EvidenceSource::Event,
                text: redact(&format!("{label} {}: {}{times}", a.reason, a.message)).into_owned(),
                reference: format!("events/{ns}/{}/{name}", a.kind),
            }
        })
        .collect()
}

/// A log excerpt as evidence lines.
pub fn logs(ex: &LogExcerpt, ns: &str, pod: &str, max: usize) -> Vec<Evidence> {
    let which = if ex.previous { "previous" } else { "current" };
    let reference = format!("logs/{ns}/{pod}/{}", ex.container);
    ex.decisive_lines(max)
        .into_iter()
        .map(|line| Evidence {
            source: EvidenceSource::Log,
            text: format!("[{} {which}] {line}", ex.container),
            reference: reference.clone(),
        })
        .collect()
}

pub fn status(text: impl Into<String>, kind: &str, ns: &str, name: &str) -> Evidence {
    Evidence {
        source: EvidenceSource::Status,
        text: redact(&text.into()).into_owned(),
        reference: object_ref("status", kind, ns, name),
    }
}

pub fn spec(text: impl Into<String>, kind: &str, ns: &str, name: &str) -> Evidence {
    Evidence {
        source: EvidenceSource::Spec,
        text: redact(&text.into()).into_owned(),
        reference: object_ref("spec", kind, ns, name),
    }
}

fn object_ref(prefix: &str, kind: &str, ns: &str, name: &str) -> String {
    if ns.is_empty() {
        format!("{prefix}/{kind}/{name}")
    } else {
        format!("{prefix}/{kind}/{ns}/{name}")
    }
}

/// `2024-11-26 12:38:59Z`: readable and unambiguous.
pub fn short_time(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M:%SZ").to_string()
}

fn min_opt(a: Option<jiff::Timestamp>, b: Option<jiff::Timestamp>) -> Option<jiff::Timestamp> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn max_opt(a: Option<jiff::Timestamp>, b: Option<jiff::Timestamp>) -> Option<jiff::Timestamp> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}
