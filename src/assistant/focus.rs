//! What a question is about in the findings: the subject it names, the time window it
//! names, and — for a troubleshooting question — what the selected findings depend on.

use super::{question, when};
use crate::findings::Finding;
use std::collections::BTreeSet;

/// The findings a question is about, most severe first ("what is wrong?" with nothing named:
/// all of them), and, when it names a time ("since 8:50", "in the last hour") and a timeline
/// is at hand, the events inside that window: the findings are then narrowed to those with
/// activity in it (when any has).
pub fn relevant<'f, 't>(
    question: &str,
    findings: &'f [Finding],
    namespaces: &BTreeSet<String>,
    timeline: Option<&'t when::Timeline>,
) -> Focus<'f, 't> {
    let subject = question::resolve(question, findings, namespaces);
    let window = timeline.and_then(|t| when::window(question, t.now).map(|w| (t, w)));
    let mut selected = subject.select(findings);
    if subject.is_general() && (subject.troubleshooting || window.is_some()) {
        selected = findings.iter().collect();
    }
    selected.sort_by(|a, b| b.severity.cmp(&a.severity).then(b.score.cmp(&a.score)));
    if !subject.is_general() && subject.troubleshooting {
        selected = with_causes(selected, findings);
    }
    let window = window.map(|(t, w)| {
        let names: BTreeSet<String> = selected
            .iter()
            .flat_map(|f| question::names_of(f))
            .collect();
        let general = subject.is_general();
        let events = t.within(&w, |ns, name| {
            general
                || subject.namespaces.contains(ns)
                || subject.objects.contains(name)
                || names.contains(name)
        });
        let active: Vec<&Finding> = selected
            .iter()
            .copied()
            .filter(|f| {
                let n = question::names_of(f);
                events.iter().any(|e| n.contains(&e.name))
            })
            .collect();
        if !active.is_empty() {
            selected = active;
        }
        TimeFocus {
            window: w,
            now: t.now,
            events,
        }
    });
    Focus {
        subject,
        selected,
        window,
    }
}

/// The findings of what the selected ones depend on, put first: a pod that cannot be
/// scheduled because of a taint from an unreachable node, or a claim that is not bound, is
/// explained by the node's or the claim's own finding. A dependency is a finding whose object
/// the selected finding names (in its title, explanation or evidence), or a NotReady node
/// when the scheduler names the taints a NotReady node carries.
fn with_causes<'f>(selected: Vec<&'f Finding>, findings: &'f [Finding]) -> Vec<&'f Finding> {
    use crate::findings::Category;
    let mut causes: Vec<&'f Finding> = Vec::new();
    for f in &selected {
        let text = format!(
            "{} {} {}",
            f.title,
            f.explanation,
            f.evidence
                .iter()
                .map(|e| e.text.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        );
        let node_taint = text.contains("node.kubernetes.io/unreachable")
            || text.contains("node.kubernetes.io/not-ready");
        for g in findings {
            if std::ptr::eq(*f, g) || selected.iter().any(|s| std::ptr::eq(*s, g)) {
                continue;
            }
            if causes.iter().any(|c| std::ptr::eq(*c, g)) || g.category.is_hygiene() {
                continue;
            }
            // Another finding of the same object is not a dependency.
            if g.object.name == f.object.name && g.object.namespace == f.object.namespace {
                continue;
            }
            let same_ns = g.object.namespace.is_none() || g.object.namespace == f.object.namespace;
            // Named with its kind ("Service recommendations", "node worker-3", "claim data").
            let kind = g.object.kind.as_str();
            let lower = text.to_lowercase();
            let named = same_ns
                && [
                    format!("{} {}", kind.to_lowercase(), g.object.name.to_lowercase()),
                    format!("{} {}", short_kind(kind), g.object.name.to_lowercase()),
                ]
                .iter()
                .any(|p| lower.contains(p.as_str()));
            let claims_in_ns = findings
                .iter()
                .filter(|c| {
                    c.object.kind == "PersistentVolumeClaim"
                        && c.object.namespace == f.object.namespace
                })
                .count();
            let claim = kind == "PersistentVolumeClaim"
                && same_ns
                && claims_in_ns == 1
                && text.contains("PersistentVolumeClaim");
            let node = node_taint && g.category == Category::NodeNotReady;
            if named || claim || node {
                causes.push(g);
            }
        }
    }
    causes.extend(selected);
    causes
}

/// The word analyzers use for a kind in prose ("claim", "node").
fn short_kind(kind: &str) -> &'static str {
    match kind {
        "PersistentVolumeClaim" => "claim",
        "PersistentVolume" => "volume",
        "ConfigMap" => "configmap",
        "HorizontalPodAutoscaler" => "hpa",
        _ => "\u{0}",
    }
}

/// What a question is about (see [`relevant`]).
pub struct Focus<'f, 't> {
    pub subject: question::Subject,
    pub selected: Vec<&'f Finding>,
    pub window: Option<TimeFocus<'t>>,
}

/// The time window a question names and the events inside it.
pub struct TimeFocus<'t> {
    pub window: when::Window,
    pub now: jiff::Timestamp,
    pub events: Vec<&'t when::TimedEvent>,
}

impl TimeFocus<'_> {
    /// At most this many events are shown or sent (the newest).
    pub const MAX_EVENTS: usize = 12;

    /// The heading line: "Events since 08:50 UTC (the state describes 09:00 UTC): 14, the
    /// newest 12 shown".
    pub fn heading(&self) -> String {
        let n = self.events.len();
        format!(
            "Events {} (the state describes {}): {}",
            self.window.phrase,
            self.now.strftime("%H:%M UTC"),
            if n == 0 {
                "none".to_string()
            } else if n > Self::MAX_EVENTS {
                format!("{n}, the newest {} shown", Self::MAX_EVENTS)
            } else {
                n.to_string()
            }
        )
    }

    /// The events shown: the newest, in time order.
    pub fn shown(&self) -> &[&when::TimedEvent] {
        &self.events[self.events.len().saturating_sub(Self::MAX_EVENTS)..]
    }
}
