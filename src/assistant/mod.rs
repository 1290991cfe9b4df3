//! The assistant: a question in, a short grounded answer out, with citations that resolve.
//!
//! This module is the offline answer engine — deterministic, composed from the findings, their
//! evidence and the Level 4 guidance — which is also what a model-backed answer falls back
//! to. Data flows one way: the caller hands in the findings (analyzers) and the guidance
//! index; nothing here reads a cluster.

pub mod agent;
pub mod anonymize;
pub mod cache;
pub mod context;
pub mod memory;
pub mod prompts;
pub mod question;
pub mod when;

use crate::findings::{Finding, Severity};
use crate::index::guidance::GuidanceIndex;
use serde::Serialize;
use std::collections::BTreeSet;
use std::fmt::Write as _;

/// How an answer was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Offline,
    Llm,
}

/// A guidance citation as the contract shows it, with the quoted passage.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Citation {
    pub id: String,
    pub file: String,
    pub heading: String,
    pub lang: String,
    pub quote: String,
}

/// The contract's `ask -o json`.
#[derive(Debug, Clone, Serialize)]
pub struct Answer {
    pub answer: String,
    pub mode: Mode,
    pub model: Option<String>,
    pub citations: Vec<Citation>,
    pub findings: Vec<String>,
}

/// How much goes into one answer.
const MAX_DETAILED: usize = 3;
const MAX_LISTED: usize = 8;
const MAX_EVIDENCE: usize = 3;
const MAX_GUIDANCE: usize = 3;
const QUOTE_CHARS: usize = 280;

/// Answer `question` from `findings` (already analysed, guidance attached) and the guidance.
/// `namespaces` are the cluster's (to recognise them in the question); `timeline` is the
/// state's events (`None`: no cluster state was available at all).
pub fn answer_offline(
    question: &str,
    findings: &[Finding],
    namespaces: &BTreeSet<String>,
    gi: &GuidanceIndex,
    timeline: Option<&when::Timeline>,
) -> Answer {
    let cluster = timeline.is_some();
    let Focus {
        subject,
        selected,
        window,
    } = relevant(question, findings, namespaces, timeline);
    let general = subject.is_general() && window.is_none();
    let mut text = String::new();
    let mut cites = Citations::default();
    if let Some(tf) = &window {
        let _ = writeln!(text, "{}.", tf.heading());
        for e in tf.shown() {
            let line = e.line();
            let cut: String = line.chars().take(200).collect();
            let _ = writeln!(
                text,
                "- {cut}{}",
                if cut.len() < line.len() { " […]" } else { "" }
            );
        }
        text.push('\n');
    }
    if !selected.is_empty() {
        write_findings(&mut text, &selected, &mut cites, gi);
    } else if !general {
        let _ = writeln!(
            text,
            "No finding matches what the question names{}. {}",
            describe(&subject),
            if findings.is_empty() {
                "The cluster state shows no problem Sextant checks for.".to_string()
            } else {
                format!(
                    "The state has {} other finding(s); the most severe: {}.",
                    findings.len(),
                    findings
                        .iter()
                        .take(3)
                        .map(|f| format!("{} ({} {})", f.title, f.id, f.category.as_str()))
                        .collect::<Vec<_>>()
                        .join("; ")
                )
            }
        );
    } else if subject.troubleshooting && cluster {
        let _ = writeln!(
            text,
            "Nothing is wrong that Sextant checks for: no finding in the cluster state."
        );
    }
    // Named objects with no failure in their status: what their logs say, when the state has
    // them (a process that keeps failing to reach a dependency can look healthy).
    if let Some(t) = timeline
        && !subject.objects.is_empty()
        && selected.iter().all(|f| f.category.is_hygiene())
    {
        text.push_str(&log_notes(&subject.objects, t));
    }
    // Guidance: what the question asks about, in its language, when it is not (only) about
    // findings — or when the findings carried none.
    if general || cites.is_empty() {
        let lang = crate::lang::detect(question);
        let hits = gi
            .search(question, 8, Some(lang))
            .ok()
            .filter(|h| !h.is_empty())
            .or_else(|| gi.search(question, 8, None).ok())
            .unwrap_or_default();
        let mut shown = 0;
        let mut block = String::new();
        for h in hits {
            if shown == MAX_GUIDANCE {
                break;
            }
            if let Some(n) = cites.add(gi, &h.id, Some(&h.text)) {
                shown += 1;
                let c = &cites.list[n - 1];
                let _ = writeln!(block, "- {} ({}): “{}” [{n}]", c.heading, c.file, c.quote);
            }
        }
        if shown > 0 {
            let _ = writeln!(text, "\nWhat the Level 4 guidance says:\n{block}");
        }
    }
    if text.trim().is_empty() {
        text = "Sextant found nothing in the cluster state or the guidance that answers this. Try naming an object, a namespace or a finding id (`sextant analyze` lists them), or ask about a Level 4 topic.\n".into();
    }
    Answer {
        answer: text.trim_end().to_string() + "\n",
        mode: Mode::Offline,
        model: None,
        citations: cites.list,
        findings: selected.iter().map(|f| f.id.clone()).collect(),
    }
}

/// For each named object, the logs of its pods (the pod itself, or pods named after it):
/// the cause when the decisive lines name one, and those lines (redacted).
fn log_notes(objects: &BTreeSet<String>, t: &when::Timeline) -> String {
    let mut out = String::new();
    let mut shown = 0;
    for (ns, pod) in t.logs.pods() {
        if shown == 2 {
            break;
        }
        let Some(object) = objects
            .iter()
            .find(|o| pod == *o || pod.starts_with(&format!("{o}-")))
        else {
            continue;
        };
        let Some(ex) = t
            .logs
            .excerpt(ns, pod, "", true)
            .or_else(|| t.logs.excerpt(ns, pod, "", false))
        else {
            continue;
        };
        let lines: Vec<String> = ex
            .signals
            .iter()
            .chain(&ex.tail)
            .map(|l| crate::redact::redact(&l.text).into_owned())
            .collect();
        if lines.is_empty() {
            continue;
        }
        shown += 1;
        let _ = writeln!(
            out,
            "
No failure shows in the status of {object}, but the log of pod {ns}/{pod} does:"
        );
        if let Some((cause, fix)) = crate::analyzers::log_diagnosis(&lines) {
            let _ = writeln!(
                out,
                "  Cause: {cause}.
  Fix: {fix}."
            );
        }
        let mut seen = BTreeSet::new();
        for l in lines.iter().filter(|l| seen.insert(l.as_str())).take(4) {
            let cut: String = l.chars().take(200).collect();
            let _ = writeln!(out, "  > [log] {cut}");
        }
    }
    out
}

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

/// The messages a model would get for `question`: the system prompt and the answer prompt
/// with the findings, evidence (fenced, redacted) and guidance inside the budget. Nothing is
/// sent anywhere here; `ask --show-prompt` prints it, and the model client sends it.
pub fn model_messages(
    question: &str,
    findings: &[Finding],
    namespaces: &BTreeSet<String>,
    gi: &GuidanceIndex,
    p: &prompts::Prompts,
    budget: context::Budget,
    timeline: Option<&when::Timeline>,
) -> (Vec<(&'static str, String)>, context::ModelContext) {
    let Focus {
        selected, window, ..
    } = relevant(question, findings, namespaces, timeline);
    let mut guidance: Vec<String> = Vec::new();
    for f in &selected {
        for g in &f.guidance {
            if !guidance.contains(&g.id) {
                guidance.push(g.id.clone());
            }
        }
    }
    let lang = crate::lang::detect(question);
    for h in gi.search(question, 4, Some(lang)).unwrap_or_default() {
        if !guidance.contains(&h.id) {
            guidance.push(h.id);
        }
    }
    let mut ctx = context::build(&selected, &guidance, gi, budget);
    if let Some(tf) = &window {
        ctx.add_events(&tf.heading(), tf.shown(), budget);
    }
    // The question is user input: redacted, but not fenced (it is the instruction).
    let q = crate::redact::redact(question);
    let user = prompts::render(
        &p.answer,
        &[
            ("question", &q),
            (
                "findings",
                if ctx.findings_block.is_empty() {
                    "(none)"
                } else {
                    &ctx.findings_block
                },
            ),
            (
                "guidance",
                if ctx.guidance_block.is_empty() {
                    "(none)"
                } else {
                    &ctx.guidance_block
                },
            ),
        ],
    );
    (
        vec![("system", prompts::render(&p.system, &[])), ("user", user)],
        ctx,
    )
}

/// The messages for explaining one finding (the `explain-finding` prompt): the finding, its
/// evidence fenced, and the guidance that applies.
pub fn explain_messages(
    f: &Finding,
    gi: &GuidanceIndex,
    p: &prompts::Prompts,
    budget: context::Budget,
) -> (Vec<(&'static str, String)>, context::ModelContext) {
    let guidance: Vec<String> = f.guidance.iter().map(|g| g.id.clone()).collect();
    let ctx = context::build(&[f], &guidance, gi, budget);
    let user = prompts::render(
        &p.explain_finding,
        &[
            ("finding_id", &f.id),
            ("findings", &ctx.findings_block),
            ("guidance", &ctx.guidance_block),
        ],
    );
    (
        vec![("system", prompts::render(&p.system, &[])), ("user", user)],
        ctx,
    )
}

fn describe(s: &question::Subject) -> String {
    let mut parts: Vec<String> = Vec::new();
    parts.extend(s.objects.iter().cloned());
    parts.extend(s.namespaces.iter().map(|n| format!("namespace {n}")));
    parts.extend(s.categories.iter().map(|c| c.as_str().to_string()));
    parts.extend(s.finding_ids.iter().cloned());
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join(", "))
    }
}

fn write_findings(
    text: &mut String,
    selected: &[&Finding],
    cites: &mut Citations,
    gi: &GuidanceIndex,
) {
    let critical = selected
        .iter()
        .filter(|f| f.severity == Severity::Critical)
        .count();
    let _ = writeln!(
        text,
        "{} finding(s){}:\n",
        selected.len(),
        if critical > 0 {
            format!(", {critical} critical")
        } else {
            String::new()
        }
    );
    for f in selected.iter().take(MAX_DETAILED) {
        let ns = f.object.namespace.as_deref().unwrap_or("-");
        let _ = writeln!(
            text,
            "{} {}/{}/{} — {} [{}]",
            f.severity.as_str().to_uppercase(),
            f.object.kind,
            ns,
            f.object.name,
            f.title,
            f.id
        );
        let _ = writeln!(text, "  Why: {}", f.explanation);
        for e in f.evidence.iter().take(MAX_EVIDENCE) {
            let _ = writeln!(text, "  > [{}] {}", e.source.as_str(), e.text);
        }
        let _ = writeln!(text, "  Fix: {}", f.remediation);
        let refs: Vec<String> = f
            .guidance
            .iter()
            .filter_map(|g| cites.add(gi, &g.id, None).map(|n| format!("[{n}]")))
            .collect();
        if !refs.is_empty() {
            let _ = writeln!(text, "  Level 4: {}", refs.join(" "));
        }
        if !f.related.is_empty() {
            let _ = writeln!(text, "  Related: {}", f.related.join(", "));
        }
        text.push('\n');
    }
    if selected.len() > MAX_DETAILED {
        let _ = writeln!(text, "Also:");
        for f in selected.iter().skip(MAX_DETAILED).take(MAX_LISTED) {
            let _ = writeln!(
                text,
                "  {} {} {} — {}",
                f.id,
                f.severity.as_str(),
                f.category.as_str(),
                f.title
            );
        }
        if selected.len() > MAX_DETAILED + MAX_LISTED {
            let _ = writeln!(
                text,
                "  … and {} more (`sextant analyze`)",
                selected.len() - MAX_DETAILED - MAX_LISTED
            );
        }
        text.push('\n');
    }
    if !cites.is_empty() {
        let _ = writeln!(text, "Level 4 guidance cited:");
        for (i, c) in cites.list.iter().enumerate() {
            let _ = writeln!(
                text,
                "  [{}] {} ({}): “{}”",
                i + 1,
                c.heading,
                c.file,
                c.quote
            );
        }
    }
}

/// Numbered citations; only sections that resolve in the corpus are ever added.
#[derive(Default)]
struct Citations {
    list: Vec<Citation>,
}

impl Citations {
    fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The 1-based number of section `id` (added on first use), or `None` when the id does
    /// not resolve — a citation that cannot be resolved is dropped, never shown.
    fn add(&mut self, gi: &GuidanceIndex, id: &str, passage: Option<&str>) -> Option<usize> {
        let r = gi.cite(id)?;
        if let Some(i) = self
            .list
            .iter()
            .position(|c| c.id == r.id || c.heading == r.heading)
        {
            return Some(i + 1);
        }
        let section_text = gi
            .corpus
            .resolve(&r.id)
            .map(|s| s.text.clone())
            .unwrap_or_default();
        let quote = quote_of(
            passage
                .filter(|p| !p.trim().is_empty())
                .unwrap_or(&section_text),
        );
        self.list.push(Citation {
            id: r.id,
            file: r.file,
            heading: r.heading,
            lang: r.lang,
            quote,
        });
        Some(self.list.len())
    }
}

/// The first sentences of a passage, up to [`QUOTE_CHARS`], cut at a sentence end when one
/// is near, else at a word, with an ellipsis when cut.
fn quote_of(text: &str) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= QUOTE_CHARS {
        return flat;
    }
    let cut: String = flat.chars().take(QUOTE_CHARS).collect();
    let end = cut
        .rfind(['.', '。', '!', '?'])
        .filter(|&i| i > QUOTE_CHARS / 2)
        .map(|i| i + cut[i..].chars().next().map_or(1, char::len_utf8));
    match end {
        Some(e) => cut[..e].to_string(),
        None => {
            let w = cut.rfind(' ').unwrap_or(cut.len());
            format!("{}…", &cut[..w])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_are_cut_at_sentences() {
        let long = "First sentence is here. ".repeat(20);
        let q = quote_of(&long);
        assert!(q.ends_with('.') && q.chars().count() <= QUOTE_CHARS, "{q}");
        let words = "word ".repeat(100);
        assert!(quote_of(&words).ends_with('…'));
        assert_eq!(quote_of("short"), "short");
    }

    #[test]
    fn unknown_citations_are_dropped() {
        let gi = GuidanceIndex::embedded().expect("index");
        let mut c = Citations::default();
        assert_eq!(c.add(&gi, "level-4.en/no/such/section", None), None);
        assert!(c.is_empty());
    }
}
