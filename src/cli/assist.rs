//! The assistant's front ends on the command line: `ask`, `explain` and the REPL's start.
//! Each calls the one assistant pipeline and only prints what it returns.

use super::{Global, findings_with_guidance, load, one_line, search, source, write_out};
use crate::analyzers;
use crate::assistant::model::{Model, ModelSlot};
use crate::config::Config;
use crate::error::Error;
use crate::render::{self, Format, Style};

pub(super) fn repl(g: &Global, cfg: &Config, models: &ModelSlot) -> anyhow::Result<i32> {
    let gi = search::guidance_index(g, cfg)?;
    let (g2, cfg2) = (g.clone(), cfg.clone());
    let loader: crate::repl::Loader = Box::new(move |context: Option<&str>| {
        let mut g = g2.clone();
        if let Some(c) = context {
            g.context = Some(c.to_string());
        }
        Ok(source(&g, &cfg2))
    });
    let model = std::env::var("SEXTANT_MODEL")
        .ok()
        .or_else(|| cfg.llm.model.clone());
    let style = if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        Style::detect()
    } else {
        Style::plain()
    };
    let mut session = crate::repl::Session::new(
        loader,
        gi,
        g.namespace.clone(),
        g.offline || !cfg.llm_configured(),
        model,
        style,
    );
    session.llm = models.configured().cloned();
    session.prompts = crate::assistant::prompts::Prompts::load(cfg.llm.prompts.as_deref())?;
    session.budget = crate::assistant::context::Budget::with_tokens(cfg.llm.context_tokens);
    session.tools = cfg.llm.tools.unwrap_or(true);
    session.anonymize = cfg.llm.anonymize.unwrap_or(false);
    session.memory = crate::assistant::memory::Memory::new(
        cfg.llm
            .memory_tokens
            .unwrap_or(crate::assistant::memory::DEFAULT_TOKENS),
    );
    crate::repl::run(session)?;
    Ok(0)
}

/// `ask`'s own flags.
pub(super) struct AskOptions<'a> {
    pub(super) show_prompt: bool,
    pub(super) prompts: Option<&'a std::path::Path>,
    pub(super) evidence: Option<&'a std::path::Path>,
    pub(super) no_cache: bool,
    pub(super) anonymize: bool,
}

pub(super) fn ask(
    g: &Global,
    cfg: &Config,
    models: &ModelSlot,
    question: &str,
    o: AskOptions,
) -> anyhow::Result<i32> {
    let (show_prompt, prompts_dir, evidence) = (o.show_prompt, o.prompts, o.evidence);
    let prompts =
        crate::assistant::prompts::Prompts::load(prompts_dir.or(cfg.llm.prompts.as_deref()))?;
    crate::audit::record(
        "question",
        serde_json::json!({"text": crate::redact::redact(question), "command": "ask"}),
    );
    if question.trim().is_empty() {
        return Err(Error::Usage(
            "ask: the question is empty (sextant ask \"why is checkout down?\")".into(),
        )
        .into());
    }
    let gi = search::guidance_index(g, cfg)?;
    // The cluster is context, not a requirement: a guidance question needs none.
    let evidence_state = evidence.map(crate::source::evidence::load);
    // One line per file that was not understood, so nothing is dropped silently.
    if let Some(Ok(st)) = &evidence_state {
        for (file, reason) in &st.report.skipped_files {
            eprintln!("note: --evidence: skipped {file}: {reason}");
        }
        for w in &st.report.warnings {
            eprintln!("warning: {w}");
        }
    }
    let loaded = match evidence_state {
        Some(st) => Some((
            crate::state::SourceInfo {
                kind: crate::state::SourceKind::Snapshot,
                path_or_context: evidence
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
            },
            st?,
        )),
        None => match load(g, cfg) {
            Ok(l) => Some(l),
            // A context named on the command line that cannot be reached is an error (exit 2):
            // the user asked about that cluster. Without one, no cluster is only a note.
            Err(e)
                if g.snapshot().is_none()
                    && g.context.is_none()
                    && matches!(e.downcast_ref::<Error>(), Some(Error::Cluster(_))) =>
            {
                if !g.quiet {
                    eprintln!(
                        "note: no cluster ({}): answering from the guidance only",
                        one_line(&e)
                    );
                }
                None
            }
            Err(e) => return Err(e),
        },
    };
    let (findings, namespaces) = match &loaded {
        Some((_, state)) => (
            findings_with_guidance(g, &gi, state),
            state.namespace_names(),
        ),
        None => (Vec::new(), Default::default()),
    };
    if show_prompt {
        let (messages, ctx) = crate::assistant::model_messages(
            question,
            &findings,
            &namespaces,
            &gi,
            &prompts,
            crate::assistant::context::Budget::with_tokens(cfg.llm.context_tokens),
            loaded.as_ref().map(|(_, s)| s),
        );
        let mut s = String::new();
        for (role, text) in &messages {
            s.push_str(&format!("--- {role} ---\n{text}\n"));
        }
        s.push_str(&format!(
            "--- ≈{} tokens of context, prompts {}{} ---\n",
            ctx.tokens(),
            prompts.version(),
            if ctx.cut.is_empty() {
                String::new()
            } else {
                format!("; cut: {}", ctx.cut.join("; "))
            }
        ));
        write_out(&s)?;
        return Ok(0);
    }
    if let Some(model) = models.get() {
        let cache = (!o.no_cache).then(|| {
            (
                crate::dirs::answers_dir(),
                std::time::Duration::from_secs(cfg.llm.cache_ttl_secs.unwrap_or(3600)),
            )
        });
        let request = crate::assistant::pipeline::Request {
            question,
            findings: &findings,
            namespaces: &namespaces,
            gi: &gi,
            prompts: &prompts,
            state: loaded.as_ref().map(|(_, s)| s),
            tools: cfg.llm.tools.unwrap_or(true),
            anonymize: o.anonymize || cfg.llm.anonymize.unwrap_or(false),
            explain: None,
            budget: crate::assistant::context::Budget::with_tokens(cfg.llm.context_tokens),
            earlier: Vec::new(),
            cache,
            front_end: "ask",
        };
        match ask_model(g, model, request) {
            Ok(()) => return Ok(0),
            Err(e) => {
                eprintln!("sextant: the model did not answer ({e}); answering offline");
            }
        }
    }
    let a = crate::assistant::answer_offline(
        question,
        &findings,
        &namespaces,
        &gi,
        loaded.as_ref().map(|(_, s)| s),
    );
    let text = match g.output.unwrap_or(Format::Text) {
        Format::Json => serde_json::to_string_pretty(&a)? + "\n",
        _ => a.answer.clone(),
    };
    write_out(&text)?;
    Ok(0)
}

/// Answer with the model through the assistant pipeline, printing each line as it streams
/// (markdown for a terminal) or the contract's JSON at the end. An error before the first line
/// leaves nothing printed, so the caller can fall back to the offline answer.
fn ask_model(
    g: &Global,
    model: &Model,
    request: crate::assistant::pipeline::Request,
) -> anyhow::Result<()> {
    use crate::assistant::pipeline;
    let json = g.output == Some(Format::Json);
    let mut busy = crate::render::progress::Busy::start(format!("waiting for {}", model.name()));
    // Markdown rendered for a terminal; plain lines for pipes and NO_COLOR.
    let mut md = crate::render::terminal::MarkdownStream::new(crate::render::Style::detect());
    let mut on_line = |line: &str| {
        busy.stop();
        if !json {
            let _ = write_out(&md.line(line));
        }
    };
    let result = pipeline::run(model, request, &mut on_line, None);
    busy.stop();
    let reply = match result {
        Ok(r) => r,
        Err(f) if !f.streamed => return Err(f.into()),
        Err(f) => {
            // Part of the answer is on screen: say it stopped, then the offline answer.
            let _ = write_out(&format!("\n[the model's answer stopped: {f}]\n\n"));
            return Err(f.into());
        }
    };
    if json {
        write_out(&(serde_json::to_string_pretty(&reply.answer)? + "\n"))?;
    } else {
        write_out(&md.finish())?;
        let mut s = String::new();
        for (gid, c) in &reply.cited_guidance {
            s.push_str(&format!(
                "  [{gid}] {} ({}): “{}”\n",
                c.heading, c.file, c.quote
            ));
        }
        if !s.is_empty() {
            write_out(&format!("\nLevel 4 guidance cited:\n{s}"))?;
        }
        write_out(&format!(
            "({}; answer grounded in {} finding(s))\n",
            model.name(),
            reply.answer.findings.len()
        ))?;
    }
    if reply.dropped > 0 && !g.quiet {
        eprintln!(
            "note: {} citation(s) the model made up were removed",
            reply.dropped
        );
    }
    Ok(())
}

pub(super) fn explain(
    g: &Global,
    cfg: &Config,
    models: &ModelSlot,
    id: &str,
) -> anyhow::Result<i32> {
    let (_, state) = load(g, cfg)?;
    let findings = findings_with_guidance(g, &search::guidance_index(g, cfg)?, &state);
    let f = analyzers::find(&findings, id)?;
    // With a model (text output): its explanation, grounded in this finding; the offline
    // explanation when it fails.
    if g.output.unwrap_or(Format::Text) == Format::Text
        && let Some(model) = models.get()
    {
        let gi = search::guidance_index(g, cfg)?;
        let prompts = crate::assistant::prompts::Prompts::load(cfg.llm.prompts.as_deref())?;
        let namespaces = state.namespace_names();
        let question = format!("explain {}", f.id);
        let request = crate::assistant::pipeline::Request {
            question: &question,
            findings: &findings,
            namespaces: &namespaces,
            gi: &gi,
            prompts: &prompts,
            state: Some(&state),
            tools: false,
            anonymize: cfg.llm.anonymize.unwrap_or(false),
            explain: Some(f),
            budget: crate::assistant::context::Budget::with_tokens(cfg.llm.context_tokens),
            earlier: Vec::new(),
            cache: None,
            front_end: "explain",
        };
        match ask_model(g, model, request) {
            Ok(()) => return Ok(0),
            Err(e) => eprintln!("sextant: the model did not answer ({e}); explaining offline"),
        }
    }
    let text = match g.output.unwrap_or(Format::Text) {
        Format::Text | Format::Sarif => render::text_explain(f, Style::detect()),
        Format::Json => render::json_explain(f) + "\n",
        Format::Markdown => render::markdown_explain(f),
    };
    write_out(&text)?;
    Ok(0)
}
