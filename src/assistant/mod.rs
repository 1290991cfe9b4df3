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
pub mod facts;
mod focus;
pub mod intent;
mod log_notes;
pub mod memory;
pub mod model;
pub mod pipeline;
pub mod prompts;
pub mod question;
mod verdict;
pub mod when;

pub use focus::{Focus, TimeFocus, relevant};
use log_notes::has_log_errors;

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

/// Answer `question` from `findings` (already analysed, guidance attached), the state they
/// were found in (`None`: no cluster state was available at all) and the guidance.
/// `namespaces` are the cluster's (to recognise them in the question).
///
/// The answer leads with what was asked (a count, an image, a verdict, a missing name), then
/// the failures that explain it (the root cause before its symptoms, never hygiene first),
/// then what the logs say, and Level 4 guidance only when it is relevant.
pub fn answer_offline(
    question: &str,
    findings: &[Finding],
    namespaces: &BTreeSet<String>,
    gi: &GuidanceIndex,
    state: Option<&crate::state::ClusterState>,
) -> Answer {
    let timeline_value = state.map(when::Timeline::of);
    let timeline = timeline_value.as_ref();
    let cluster = state.is_some();
    let lead = state.and_then(|s| facts::lead(question, s, findings));
    if let Some(l) = &lead
        && l.stop
    {
        return Answer {
            answer: crate::untrusted::neutralise(l.text.trim_end()).into_owned() + "\n",
            mode: Mode::Offline,
            model: None,
            citations: Vec::new(),
            findings: Vec::new(),
        };
    }
    let intent = intent::detect(question);
    let Focus {
        subject,
        mut selected,
        window,
    } = relevant(question, findings, namespaces, timeline);
    // The root cause leads: hygiene (limits, tags, root, probes) is a footnote unless asked.
    let asks_hygiene = subject.categories.iter().any(|c| c.is_hygiene());
    let mut hygiene = 0;
    if !asks_hygiene {
        hygiene = selected.iter().filter(|f| is_hygiene(f)).count();
        selected.retain(|f| !is_hygiene(f));
    }
    let general = subject.is_general() && window.is_none() && lead.is_none();
    let mut text = String::new();
    if let Some(l) = &lead {
        let _ = writeln!(text, "{}\n", l.text);
    }
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
    let factual = matches!(
        intent,
        intent::Intent::Count(_)
            | intent::Intent::Image
            | intent::Intent::Node
            | intent::Intent::Port
            | intent::Intent::Reach
            | intent::Intent::Label(..)
            | intent::Intent::Usage
    );
    let nothing_read = state.is_some_and(|s| {
        s.object_count() == 0
            && s.logs.pod_count() == 0
            && s.evidence.usage.is_empty()
            && s.evidence.absent.is_empty()
    });
    if nothing_read && let Some(s) = state {
        let skipped: Vec<String> = s
            .report
            .skipped_files
            .iter()
            .take(5)
            .map(|(f, _)| f.clone())
            .collect();
        let _ = writeln!(
            text,
            "The evidence held nothing Sextant could read{}: no object, event or log, so nothing can be said about what is wrong.",
            if skipped.is_empty() {
                String::new()
            } else {
                format!(" (not understood: {})", skipped.join(", "))
            }
        );
    } else if !selected.is_empty() {
        write_findings(&mut text, &selected, &mut cites, gi);
    } else if !general && !factual && lead.is_none() {
        let _ = writeln!(
            text,
            "No failure matches what the question names{}. {}",
            describe(&subject),
            if findings.iter().all(is_hygiene) {
                "The state shows no failure Sextant checks for.".to_string()
            } else {
                format!(
                    "The state has {} other finding(s); the most severe: {}.",
                    findings.len(),
                    findings
                        .iter()
                        .filter(|f| !is_hygiene(f))
                        .take(3)
                        .map(|f| format!("{} ({} {})", f.title, f.id, f.category.as_str()))
                        .collect::<Vec<_>>()
                        .join("; ")
                )
            }
        );
    } else if subject.troubleshooting && cluster && lead.is_none() && !has_log_errors(state) {
        let _ = writeln!(
            text,
            "Nothing is wrong that Sextant checks for: no failure in the {}.",
            if state.is_some_and(|s| s.evidence.partial) {
                "evidence"
            } else {
                "cluster state"
            }
        );
    }
    // What the logs say: for a question about logs, and whenever the status shows no failure
    // of what is asked about (a process that keeps failing to reach a dependency can look
    // healthy; logs may be all the evidence there is).
    if let Some(st) = state
        && !nothing_read
        && !factual
        && (matches!(intent, intent::Intent::LogErrors) || selected.is_empty())
    {
        let notes = log_notes::for_question(
            st,
            &subject,
            lead.as_ref(),
            window.as_ref(),
            subject.troubleshooting || general,
        );
        if text.ends_with("\n\n") || text.is_empty() {
            text.push_str(notes.trim_start_matches('\n'));
        } else {
            text.push_str(&notes);
        }
    }
    if hygiene > 0 && !factual {
        let _ = writeln!(
            text,
            "\n({hygiene} hygiene finding(s) — limits, probes, image tags, privileges — are not shown; ask about them or run `sextant analyze`.)"
        );
    }
    // Guidance: for a question about practice (no object, no failure asked about), the
    // sections that answer it in its language, above a relevance threshold, each once.
    if general && !subject.troubleshooting && !factual && cites.is_empty() {
        let lang = crate::lang::detect(question);
        let hits = gi
            .search(question, 8, Some(lang))
            .ok()
            .filter(|h| !h.is_empty())
            .or_else(|| gi.search(question, 8, None).ok())
            .unwrap_or_default();
        let top = hits.first().map_or(0.0, |h| h.score);
        let mut block = String::new();
        for h in hits.iter().filter(|h| h.score >= top * 0.5) {
            if cites.list.len() == MAX_GUIDANCE {
                break;
            }
            let before = cites.list.len();
            if let Some(n) = cites.add(gi, &h.id, Some(&h.text))
                && n > before
            {
                let c = &cites.list[n - 1];
                let _ = writeln!(block, "- {} ({}): “{}” [{n}]", c.heading, c.file, c.quote);
            }
        }
        if !block.is_empty() {
            let _ = writeln!(text, "\nWhat the Level 4 guidance says:\n{block}");
        }
    }
    if text.trim().is_empty() {
        text = "Sextant found nothing in the cluster state or the guidance that answers this. Try naming an object, a namespace or a finding id (`sextant analyze` lists them), or ask about a Level 4 topic.\n".into();
    }
    Answer {
        answer: crate::untrusted::neutralise(text.trim_end()).into_owned() + "\n",
        mode: Mode::Offline,
        model: None,
        citations: cites.list,
        findings: selected.iter().map(|f| f.id.clone()).collect(),
    }
}

/// A hygiene finding (limits, tags, privileges, probes) that is not what breaks anything: a
/// critical one (a quota that rejects pods without limits) is a cause, not hygiene.
fn is_hygiene(f: &Finding) -> bool {
    f.category.is_hygiene() && f.severity < Severity::Critical
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
    state: Option<&crate::state::ClusterState>,
) -> (Vec<(&'static str, String)>, context::ModelContext) {
    let timeline_value = state.map(when::Timeline::of);
    let Focus {
        subject,
        mut selected,
        window,
    } = relevant(question, findings, namespaces, timeline_value.as_ref());
    // The same focus as the offline answer: failures first, hygiene only when asked.
    let asks_hygiene = subject.categories.iter().any(|c| c.is_hygiene());
    if !asks_hygiene && selected.iter().any(|f| !is_hygiene(f)) {
        selected.retain(|f| !is_hygiene(f));
    }
    let mut guidance: Vec<String> = Vec::new();
    for f in &selected {
        for g in &f.guidance {
            if !guidance.contains(&g.id) {
                guidance.push(g.id.clone());
            }
        }
    }
    // Guidance the question itself asks about, only for a question about practice.
    let general = subject.is_general() && window.is_none();
    if general && !subject.troubleshooting {
        let lang = crate::lang::detect(question);
        let hits = gi.search(question, 4, Some(lang)).unwrap_or_default();
        let top = hits.first().map_or(0.0, |h| h.score);
        for h in hits.into_iter().filter(|h| h.score >= top * 0.5) {
            if !guidance.contains(&h.id) {
                guidance.push(h.id);
            }
        }
    }
    let mut ctx = context::build(&selected, &guidance, gi, budget);
    if let Some(tf) = &window {
        ctx.add_events(&tf.heading(), tf.shown(), budget);
    }
    // What the state says about what is asked (a count, an image, a verdict, a missing name)
    // and the logs' error signatures lead the context: the facts, before the findings.
    if let Some(st) = state {
        let lead = facts::lead(question, st, findings);
        let logs = log_notes::for_question(
            st,
            &subject,
            lead.as_ref(),
            window.as_ref(),
            subject.troubleshooting || general,
        );
        let mut head = String::new();
        if let Some(l) = lead {
            head.push_str(&context::fence("facts", "state", &l.text));
            head.push('\n');
        }
        if !logs.trim().is_empty() {
            head.push_str(&context::fence("log", "log-signatures", logs.trim()));
            head.push('\n');
        }
        if !head.is_empty() {
            ctx.findings_block = head + &ctx.findings_block;
        }
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
