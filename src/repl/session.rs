//! One REPL session: the loaded state and its findings, the focus (namespace), the
//! conversation, and the handlers of the command table. Front-end agnostic: a line in, text
//! out — the interactive loop and piped stdin both drive it.

use super::commands::{self, Arg};
use crate::analyzers;
use crate::assistant::{self, Answer};
use crate::findings::{Category, Finding, Severity};
use crate::index::guidance::GuidanceIndex;
use crate::index::{DocKind, SearchIndex, SearchQuery};
use crate::policy::{Engine, draft};
use crate::render::{self, Header, Style};
use crate::source::{Scope, Source};
use crate::state::{ClusterState, SourceInfo};
use std::fmt::Write as _;
use std::str::FromStr;

mod views;

/// Whether a question refers back to the previous answer (en, de, zh).
fn is_follow_up(q: &str) -> bool {
    const REFS: &[&str] = &[
        "that", "it", "this", "those", "them", "these", "other", "same", "das", "es", "diese",
        "dafür", "那", "它", "这个", "这些",
    ];
    let lower = q.to_lowercase();
    lower
        .split(|c: char| !c.is_alphanumeric())
        .any(|w| REFS.contains(&w))
        || ["那", "它", "这个", "这些"].iter().any(|w| q.contains(w))
}

/// What a line did.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Print(String),
    Exit,
}

/// Loads (and reloads) the state: the snapshot, or the live cluster of a context.
pub type Loader = Box<dyn Fn(Option<&str>) -> crate::Result<Box<dyn Source>>>;

pub struct Session {
    loader: Loader,
    context: Option<String>,
    pub info: Option<SourceInfo>,
    pub state: Option<ClusterState>,
    pub findings: Vec<Finding>,
    gi: GuidanceIndex,
    pub namespace: Option<String>,
    pub offline: bool,
    pub model: Option<String>,
    style: Style,
    last: Option<Answer>,
    /// The `E` and `G` citations of the last model answer: (id, what it points at, its text).
    last_cited: Vec<(String, String, String)>,
    transcript: Vec<(String, String)>,
    search: Option<SearchIndex>,
    /// Why there is no state (shown once, and by /sources).
    pub no_state: Option<String>,
    /// The model, when one is configured (used unless `offline`).
    pub llm: Option<crate::assistant::model::Model>,
    pub prompts: crate::assistant::prompts::Prompts,
    /// Earlier turns, shown to a model within their token budget; `/clear` empties it.
    pub memory: assistant::memory::Memory,
    /// The model context budget (`[llm] context_tokens`).
    pub budget: assistant::context::Budget,
    /// Offer the model the read-only tools (`[llm] tools`).
    pub tools: bool,
    /// Placeholders instead of names in what is sent (`[llm] anonymize`).
    pub anonymize: bool,
    /// The model's text of the turn being answered (for memory).
    model_text: Option<String>,
    /// What the editor returned for the last `/edit` or Ctrl-X Ctrl-E (the line editor adds
    /// it to the history: it is what was asked).
    pub edited: Option<String>,
}

impl Session {
    /// Load the state through `loader` (failures leave a guidance-only session).
    pub fn new(
        loader: Loader,
        gi: GuidanceIndex,
        namespace: Option<String>,
        offline: bool,
        model: Option<String>,
        style: Style,
    ) -> Session {
        let mut s = Session {
            loader,
            context: None,
            info: None,
            state: None,
            findings: Vec::new(),
            gi,
            namespace,
            offline,
            model,
            style,
            last: None,
            last_cited: Vec::new(),
            transcript: Vec::new(),
            search: None,
            no_state: None,
            llm: None,
            tools: true,
            anonymize: false,
            prompts: Default::default(),
            memory: Default::default(),
            budget: Default::default(),
            model_text: None,
            edited: None,
        };
        if s.reload() == Err("cancelled".into()) {
            s.no_state = Some("loading was cancelled with Ctrl-C".into());
        }
        s
    }

    /// (Re)read the state. Ctrl-C while it loads (a slow cluster, a big dump) returns at once
    /// with `Err("cancelled")` and keeps the state there was: the read goes on in a thread of
    /// its own and its result is dropped (it only reads).
    fn reload(&mut self) -> Result<(), String> {
        self.search = None;
        let busy = crate::render::progress::Busy::start(match &self.context {
            Some(c) => format!("reading context {c} (Ctrl-C to stop)"),
            None => "loading the cluster state (Ctrl-C to stop)".to_string(),
        });
        let loaded = match (self.loader)(self.context.as_deref()) {
            Err(e) => Err(e.to_string()),
            Ok(src) => {
                let (tx, rx) = tokio::sync::oneshot::channel();
                let spawned = std::thread::Builder::new()
                    .name("sextant-load".into())
                    .spawn(move || {
                        let r = src.load(&Scope::All).map(|st| (src.info(), st));
                        let _ = tx.send(r);
                    });
                match (spawned, crate::runtime::new()) {
                    (Ok(_), Ok(rt)) => rt.block_on(async {
                        tokio::select! {
                            r = rx => match r {
                                Ok(r) => r.map_err(|e| e.to_string()),
                                Err(_) => Err("the loader stopped without a result".to_string()),
                            },
                            _ = tokio::signal::ctrl_c() => Err("cancelled".to_string()),
                        }
                    }),
                    (Err(e), _) => Err(e.to_string()),
                    (_, Err(e)) => Err(e.to_string()),
                }
            }
        };
        drop(busy);
        match loaded {
            Ok((info, state)) => {
                let mut f = analyzers::analyze(&state);
                self.gi.attach(&mut f);
                self.findings = f;
                self.info = Some(info);
                self.state = Some(state);
                self.no_state = None;
                Ok(())
            }
            Err(e) if e == "cancelled" => Err(e),
            Err(e) => {
                self.info = None;
                self.state = None;
                self.findings.clear();
                self.no_state = Some(e.clone());
                Err(e)
            }
        }
    }

    /// The prompt: source, namespace, mode — `sextant [demo-incident/shop · offline] › `.
    pub fn prompt(&self) -> String {
        let src = self.source_name();
        let ns = self
            .namespace
            .as_deref()
            .map(|n| format!("/{n}"))
            .unwrap_or_default();
        let mode = if self.offline {
            "offline".to_string()
        } else {
            self.model.clone().unwrap_or_else(|| "offline".into())
        };
        format!("sextant [{src}{ns} · {mode}] › ")
    }

    /// The source as the prompt shows it: a snapshot's directory name, or the context.
    fn source_name(&self) -> String {
        match &self.info {
            Some(i) => std::path::Path::new(&i.path_or_context)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| i.path_or_context.clone()),
            None => "no cluster".into(),
        }
    }

    /// Findings in focus (the namespace, when one is set).
    fn in_focus(&self) -> Vec<Finding> {
        match (&self.namespace, &self.state) {
            (Some(ns), Some(st)) => analyzers::in_namespace(self.findings.clone(), st, ns),
            _ => self.findings.clone(),
        }
    }

    /// Completion candidates for an argument kind (from the loaded state: no API call).
    /// What completion offers for an argument: values, each with what it is (a finding's
    /// severity and title; empty when the value says it all).
    pub fn candidates(&self, arg: Arg) -> Vec<(String, String)> {
        let st = self.state.as_ref();
        let plain = |v: Vec<String>| v.into_iter().map(|s| (s, String::new())).collect();
        let findings = || {
            self.findings.iter().map(|f| {
                (
                    f.id.clone(),
                    format!("{} {}", f.severity.as_str().to_ascii_uppercase(), f.title),
                )
            })
        };
        match arg {
            // Ids with their titles, and the names `/explain NAME` takes.
            Arg::Finding => findings()
                .chain(plain(
                    self.findings
                        .iter()
                        .map(|f| f.object.name.clone())
                        .collect::<std::collections::BTreeSet<_>>()
                        .into_iter()
                        .collect(),
                ))
                .collect(),
            Arg::FindingOrCategory => findings()
                .chain(
                    crate::policy::catalog::rules()
                        .iter()
                        .map(|r| (r.category.as_str().to_string(), "category".to_string())),
                )
                .collect(),
            Arg::Namespace => plain(
                st.map(|s| {
                    s.namespace_names()
                        .into_iter()
                        .chain(["-".to_string()])
                        .collect()
                })
                .unwrap_or_default(),
            ),
            Arg::Pod => plain(
                st.map(|s| {
                    s.pods
                        .iter()
                        .filter_map(|p| p.metadata.name.clone())
                        .collect()
                })
                .unwrap_or_default(),
            ),
            Arg::Object => plain(
                self.findings
                    .iter()
                    .flat_map(assistant::question::names_of)
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .collect(),
            ),
            Arg::OnOff => plain(vec!["on".into(), "off".into()]),
            Arg::Command => plain(
                commands::COMMANDS
                    .iter()
                    .map(|c| c.name.to_string())
                    .collect(),
            ),
            Arg::None | Arg::Text => Vec::new(),
        }
    }

    /// Handle one (complete) input.
    pub fn handle(&mut self, line: &str) -> Outcome {
        let line = line.trim();
        if line.is_empty() {
            return Outcome::Print(String::new());
        }
        if !line.starts_with('/') {
            let out = self.ask(line);
            self.transcript.push((line.to_string(), out.clone()));
            // The model's own words when it answered (what is printed also lists citations).
            let shown = self.model_text.take().unwrap_or_else(|| out.clone());
            self.memory.push(line, &shown);
            return Outcome::Print(out);
        }
        let (name, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let rest = rest.trim();
        let Some(cmd) = commands::find(name) else {
            return Outcome::Print(format!("unknown command {name} (/help lists them)\n"));
        };
        let out = match cmd.name {
            "/exit" => return Outcome::Exit,
            "/help" => commands::help((!rest.is_empty()).then_some(rest)),
            "/analyze" => self.analyze(rest),
            "/trends" => self.trends(),
            "/explain" => self.explain(rest),
            "/policy" => self.policy(rest),
            "/events" => self.events(rest),
            "/logs" => self.logs(rest),
            "/search" => self.search(rest),
            "/guidance" => self.guidance(rest),
            "/ns" => self.set_ns(rest),
            "/context" => self.set_context(rest),
            "/model" => {
                if rest.is_empty() {
                    format!(
                        "model: {}\n",
                        self.model.as_deref().unwrap_or("none configured")
                    )
                } else {
                    self.model = Some(rest.to_string());
                    if let Some(l) = self.llm.as_mut() {
                        l.set_name(rest);
                    }
                    format!("model set to {rest}\n")
                }
            }
            "/offline" => match rest {
                "on" => {
                    self.offline = true;
                    "offline: on (no model is called)\n".into()
                }
                "off" => {
                    self.offline = false;
                    match &self.llm {
                        Some(l) => format!("offline: off (questions go to {})\n", l.name()),
                        None => "offline: off, but no model is configured ([llm] in the config, or OPENAI_BASE_URL / SEXTANT_MODEL): answers stay offline\n".into(),
                    }
                }
                _ => format!(
                    "offline is {}; /offline on|off\n",
                    if self.offline { "on" } else { "off" }
                ),
            },
            "/edit" => return self.edit(rest),
            "/sources" => self.sources(),
            "/save" => self.save(rest),
            "/clear" => {
                self.last = None;
                self.transcript.clear();
                self.memory.clear();
                "conversation cleared\n".into()
            }
            other => format!("{other}: not handled\n"),
        };
        if cmd.name != "/save" && cmd.name != "/help" {
            self.transcript.push((line.to_string(), out.clone()));
        }
        Outcome::Print(out)
    }

    /// Write the input in the user's editor (`$VISUAL`, `$EDITOR`, else `vi`), starting from
    /// `initial` or the last question, then handle what was written as if typed. Long
    /// questions, pasted log excerpts and multi-line `kubectl describe` output are easier
    /// there than on one line.
    pub fn edit(&mut self, initial: &str) -> Outcome {
        let start = if initial.is_empty() {
            self.transcript
                .iter()
                .rev()
                .find(|(q, _)| !q.starts_with('/'))
                .map(|(q, _)| q.clone())
                .unwrap_or_default()
        } else {
            initial.to_string()
        };
        match edit_in_editor(&start) {
            Ok(text) => {
                let text = super::normalize_input(&text);
                if text.is_empty() {
                    return Outcome::Print("nothing to ask: the editor returned no text\n".into());
                }
                if text.starts_with("/edit") {
                    return Outcome::Print("/edit cannot run itself\n".into());
                }
                self.edited = Some(text.clone());
                let echo = format!("› {}\n", text.replace('\n', "\n  "));
                match self.handle(&text) {
                    Outcome::Print(out) => Outcome::Print(echo + &out),
                    Outcome::Exit => Outcome::Exit,
                }
            }
            Err(e) => Outcome::Print(format!("{e}\n")),
        }
    }

    fn ask(&mut self, q: &str) -> String {
        crate::audit::record(
            "question",
            serde_json::json!({"text": crate::redact::redact(q), "command": "repl"}),
        );
        let findings = self.in_focus();
        let namespaces = self
            .state
            .as_ref()
            .map(ClusterState::namespace_names)
            .unwrap_or_default();
        // Follow-ups ("draft a policy for that", "and the other pods?") resolve against the
        // previous answer's findings when the question names nothing itself.
        let previous: Vec<String> = self
            .last
            .as_ref()
            .map(|a| a.findings.clone())
            .unwrap_or_default();
        let follow_up = !previous.is_empty()
            && assistant::question::resolve(q, &findings, &namespaces).is_general()
            && is_follow_up(q);
        if follow_up && q.to_lowercase().contains("polic") {
            return self.policy(&previous[0]);
        }
        let question = if follow_up {
            format!("{q} {}", previous.join(" "))
        } else {
            q.to_string()
        };
        if !self.offline
            && let Some(model) = self.llm.clone()
        {
            match self.ask_model(&model, &question, &findings, &namespaces) {
                Ok(text) => return text,
                Err(e) => eprintln!("sextant: the model did not answer ({e}); answering offline"),
            }
        }
        let a = assistant::answer_offline(
            &question,
            &findings,
            &namespaces,
            &self.gi,
            self.state.as_ref(),
        );
        let mut text = crate::render::terminal::offline_answer(&a.answer, self.style);
        // No cluster: said before the answer, with the way to try Sextant at once.
        if self.state.is_none() {
            text = format!(
                "(no cluster loaded: this answer comes from the guidance alone; to try Sextant on an incident, start it with --snapshot examples/demo-incident)\n{text}"
            );
        }
        self.last = Some(a);
        text
    }

    /// The model's answer through the one assistant pipeline (the same context, tools,
    /// anonymisation and audit records as `ask`), streamed to stdout line by line; Ctrl-C drops
    /// the request and returns to the prompt. Returns what is left to print.
    fn ask_model(
        &mut self,
        model: &crate::assistant::model::Model,
        question: &str,
        findings: &[Finding],
        namespaces: &std::collections::BTreeSet<String>,
    ) -> Result<String, String> {
        use crate::assistant::pipeline;
        // Earlier turns go between the system prompt and this question, within their budget.
        let (earlier, left_out) = self.memory.messages();
        if left_out > 0 {
            tracing::debug!(left_out, "older turns left out of the model's memory");
        }
        let mut busy =
            crate::render::progress::Busy::start(format!("waiting for {}", model.name()));
        // Markdown for a terminal (plain when piped or NO_COLOR).
        let mut md = crate::render::terminal::MarkdownStream::new(self.style);
        let mut on_line = |line: &str| {
            busy.stop();
            print!("{}", md.line(line));
            let _ = std::io::Write::flush(&mut std::io::stdout());
        };
        let request = pipeline::Request {
            question,
            findings,
            namespaces,
            gi: &self.gi,
            prompts: &self.prompts,
            state: self.state.as_ref(),
            tools: self.tools,
            anonymize: self.anonymize,
            explain: None,
            budget: self.budget,
            earlier,
            cache: None,
            front_end: "repl",
        };
        let cancel: pipeline::Cancel = Box::pin(async {
            let _ = tokio::signal::ctrl_c().await;
        });
        let result = pipeline::run(model, request, &mut on_line, Some(cancel));
        busy.stop();
        let reply = match result {
            Ok(r) => r,
            Err(f) if matches!(f.error, pipeline::PipelineError::Cancelled) => {
                return Ok("\n[cancelled]\n".into());
            }
            Err(f) if f.streamed => return Ok(format!("\n[the model's answer stopped: {f}]\n")),
            Err(f) => return Err(f.to_string()),
        };
        let mut out = md.finish();
        for (gid, c) in &reply.cited_guidance {
            let _ = writeln!(out, "  [{gid}] {} ({}): “{}”", c.heading, c.file, c.quote);
        }
        if reply.dropped > 0 {
            let _ = writeln!(
                out,
                "(note: {} citation(s) the model made up were removed)",
                reply.dropped
            );
        }
        let _ = writeln!(out, "({})", model.name());
        self.model_text = Some(reply.answer.answer.clone());
        // What `/sources` shows: each cited evidence item's text, each cited section's quote.
        self.last_cited = reply
            .cited_evidence
            .iter()
            .map(|(eid, fid, reference)| {
                let text = self
                    .findings
                    .iter()
                    .find(|f| &f.id == fid)
                    .and_then(|f| f.evidence.iter().find(|e| &e.reference == reference))
                    .map(|e| e.text.clone())
                    .unwrap_or_default();
                (eid.clone(), format!("{fid} · {reference}"), text)
            })
            .chain(reply.cited_guidance.iter().map(|(gid, c)| {
                (
                    gid.clone(),
                    format!("{} ({})", c.heading, c.file),
                    c.quote.clone(),
                )
            }))
            .collect();
        self.last = Some(reply.answer);
        Ok(out)
    }
}

/// Run the editor on a temporary file holding `initial`; what it holds afterwards.
fn edit_in_editor(initial: &str) -> Result<String, String> {
    let editor = ["VISUAL", "EDITOR"]
        .iter()
        .filter_map(|k| std::env::var(k).ok())
        .find(|v| !v.trim().is_empty())
        .unwrap_or_else(|| "vi".to_string());
    // `code --wait`, `emacsclient -t`: the command and its own arguments.
    let mut parts = editor.split_whitespace();
    let program = parts.next().unwrap_or("vi").to_string();
    let args: Vec<&str> = parts.collect();
    let path = std::env::temp_dir().join(format!(
        "sextant-question-{}-{}.md",
        std::process::id(),
        jiff::Timestamp::now().as_nanosecond()
    ));
    std::fs::write(&path, initial)
        .map_err(|e| format!("/edit: cannot write {}: {e}", path.display()))?;
    let status = std::process::Command::new(&program)
        .args(&args)
        .arg(&path)
        .status();
    let text = std::fs::read_to_string(&path);
    let _ = std::fs::remove_file(&path);
    match status {
        Ok(s) if s.success() => text.map_err(|e| format!("/edit: cannot read back the text: {e}")),
        Ok(s) => Err(format!(
            "/edit: the editor {editor:?} exited with {s}; nothing asked"
        )),
        Err(e) => Err(format!(
            "/edit: cannot run the editor {editor:?} ({e}); set $EDITOR"
        )),
    }
}
