//! One question → answer pipeline with a model, for every front end: `ask`, `explain`, the
//! REPL. It builds the context (the question's facts, failures, logs, guidance), anonymises
//! what is sent when asked, records every request and tool result in the audit trail, runs the
//! agent with read-only tools (or the single-shot prompt), serves and fills the answer cache,
//! and hands each streamed line to the front end's sink already restored, citation-checked and
//! neutralised. A cancellation future (the REPL's Ctrl-C) drops the request.
//!
//! Front ends only print: they never talk to the model themselves.

use super::{Answer, Citation, Mode, context, prompts};
use crate::findings::Finding;
use crate::index::guidance::GuidanceIndex;
use crate::state::ClusterState;
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::time::Duration;

/// Why the pipeline produced no answer.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Model(#[from] crate::llm::LlmError),
    #[error(transparent)]
    Runtime(#[from] crate::runtime::RuntimeError),
    #[error("cancelled")]
    Cancelled,
}

/// A failure, and whether part of the answer had already reached the sink.
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct Failure {
    #[source]
    pub error: PipelineError,
    pub streamed: bool,
}

/// Everything one answer is made from.
pub struct Request<'a> {
    pub question: &'a str,
    pub findings: &'a [Finding],
    pub namespaces: &'a BTreeSet<String>,
    pub gi: &'a GuidanceIndex,
    pub prompts: &'a prompts::Prompts,
    pub state: Option<&'a ClusterState>,
    /// Offer the read-only tools (`[llm] tools = false` for models without).
    pub tools: bool,
    /// Replace names, IPs and emails with placeholders in everything sent.
    pub anonymize: bool,
    /// Explain this finding (the explain-finding prompt) instead of answering `question`.
    pub explain: Option<&'a Finding>,
    pub budget: context::Budget,
    /// Earlier turns of a conversation, placed between the system prompt and this question.
    pub earlier: Vec<(&'static str, String)>,
    /// Answer cache directory and time to live; `None`: no cache.
    pub cache: Option<(PathBuf, Duration)>,
    /// Which front end asked (recorded in the audit trail).
    pub front_end: &'static str,
}

/// The answer, as shown.
pub struct Reply {
    /// The contract's answer: text restored, citation-checked and neutralised.
    pub answer: Answer,
    /// The guidance the answer cites, with the `G` id it was cited by.
    pub cited_guidance: Vec<(String, Citation)>,
    /// The evidence the answer cites: (`E` id, finding id or `events`, reference).
    pub cited_evidence: Vec<(String, String, String)>,
    /// Citations the model made up, removed.
    pub dropped: usize,
}

/// A future that, when it completes, cancels the request.
pub type Cancel = Pin<Box<dyn Future<Output = ()>>>;

/// Answer with the model. `on_line` receives each line as it streams (clean); the last
/// partial line is flushed before returning.
pub fn run(
    model: &super::model::Model,
    req: Request,
    on_line: &mut dyn FnMut(&str),
    cancel: Option<Cancel>,
) -> Result<Reply, Failure> {
    let fail = |error: PipelineError, streamed: bool| Failure { error, streamed };
    let Request {
        question,
        findings,
        namespaces,
        gi,
        prompts,
        state,
        tools,
        anonymize,
        explain,
        budget,
        earlier,
        cache,
        front_end,
    } = req;
    let (mut messages, ctx) = match explain {
        Some(f) => super::explain_messages(f, gi, prompts, budget),
        None => super::model_messages(question, findings, namespaces, gi, prompts, budget, state),
    };
    if !earlier.is_empty() {
        let current = messages.split_off(1.min(messages.len()));
        messages.extend(earlier);
        messages.extend(current);
    }
    // Optional anonymisation: what is sent carries placeholders; what is shown, real names.
    let mut anon = anonymize.then(|| {
        let mut objects: BTreeSet<String> = findings
            .iter()
            .flat_map(super::question::names_of)
            .collect();
        if let Some(st) = state {
            objects.extend(st.object_names());
        }
        super::anonymize::Anonymizer::new(namespaces, &objects)
    });
    let messages: Vec<(&str, String)> = messages
        .into_iter()
        .map(|(r, t)| (r, anon.as_mut().map_or(t.clone(), |a| a.apply(&t))))
        .collect();
    let settings = model.settings();
    let model = settings.model.clone();
    crate::audit::record(
        "model_request",
        serde_json::json!({
            "front_end": front_end,
            "model": model,
            "round": 0,
            "base_url": settings.base_url,
            "prompts": prompts.version(),
            "tokens": messages.iter().map(|(_, m)| crate::audit::tokens(m)).sum::<usize>(),
            "findings": ctx.finding_ids,
            "evidence_items": ctx.evidence.len(),
            "guidance_sections": ctx.guidance.len(),
            // Exactly what is sent (already redacted and fenced).
            "messages": messages.iter().map(|(r, m)| serde_json::json!({"role": r, "content": m})).collect::<Vec<_>>(),
        }),
    );
    let client = crate::llm::LlmClient::new(settings).map_err(|e| fail(e.into(), false))?;
    let rt = crate::runtime::new().map_err(|e| fail(e.into(), false))?;
    let key = super::cache::key(&model, &prompts.version(), &messages);
    let cached = cache
        .as_ref()
        .and_then(|(dir, ttl)| super::cache::get(dir, &key, *ttl));
    let from_cache = cached.is_some();
    // The tools add to the context (what citations may name) and the anonymiser learns names
    // while the answer streams: both are shared by the tool calls and the lines, one at a time.
    let ctx = RefCell::new(ctx);
    let anon = RefCell::new(anon);
    let sink = RefCell::new(on_line);
    let stream = RefCell::new((String::new(), false, 0usize)); // pending, streamed, dropped
    let emit = |line: &str| {
        let line = anon
            .borrow()
            .as_ref()
            .map_or(line.to_string(), |a| a.restore(line));
        let (clean, _, d) = context::check_citations(&line, &ctx.borrow());
        // A model can echo escape sequences it read in cluster text: shown, not run.
        let clean = crate::untrusted::neutralise(&clean);
        (sink.borrow_mut())(&clean);
        let mut s = stream.borrow_mut();
        s.1 = true;
        s.2 += d;
    };
    let on_piece = |piece: &str| {
        let lines: Vec<String> = {
            let mut s = stream.borrow_mut();
            s.0.push_str(piece);
            let mut out = Vec::new();
            while let Some(i) = s.0.find('\n') {
                out.push(s.0.drain(..=i).collect());
            }
            out
        };
        for l in lines {
            emit(&l);
        }
    };
    let result: Result<String, PipelineError> = if let Some(text) = cached {
        on_piece(&text);
        Ok(text)
    } else {
        let work = async {
            // The agent loop first (read-only tools, streamed); an endpoint that rejects tools
            // (HTTP 400) gets the single-shot streamed prompt instead.
            if tools {
                let t = super::agent::Tools {
                    findings,
                    state,
                    gi,
                };
                let defs = super::agent::definitions();
                let exec = |name: &str, args: &serde_json::Value| {
                    let mut anon = anon.borrow_mut();
                    let mut ctx = ctx.borrow_mut();
                    let out = match anon.as_mut() {
                        Some(a) => {
                            let real = a.restore_json(args);
                            let out = t.call(name, &real, &mut ctx);
                            a.apply(&out)
                        }
                        None => t.call(name, args, &mut ctx),
                    };
                    // Every tool result, exactly as sent back to the model.
                    crate::audit::record(
                        "tool_result",
                        serde_json::json!({"front_end": front_end, "tool": name, "args": args, "result": out}),
                    );
                    out
                };
                // Every round after the first is a request of its own: recorded with what it
                // adds (the tool calls and their results, as sent).
                let on_round = |round: usize, added: &[serde_json::Value]| {
                    crate::audit::record(
                        "model_request",
                        serde_json::json!({
                            "front_end": front_end,
                            "model": model,
                            "round": round,
                            "tokens": added.iter().map(|m| crate::audit::tokens(&m.to_string())).sum::<usize>(),
                            "messages_added": added,
                        }),
                    );
                };
                match client
                    .agent(&messages, &defs, 4, exec, on_piece, on_round)
                    .await
                {
                    Ok(run) => {
                        crate::audit::record(
                            "tool_calls",
                            serde_json::json!({"front_end": front_end, "calls": run.calls.iter().map(|(n, a)| serde_json::json!({"tool": n, "args": a})).collect::<Vec<_>>(), "steps": run.steps}),
                        );
                        return Ok(run.answer);
                    }
                    Err(crate::llm::LlmError::Status { status: 400, .. }) => {}
                    Err(e) => return Err(PipelineError::from(e)),
                }
            }
            client
                .chat(&messages, on_piece)
                .await
                .map_err(PipelineError::from)
        };
        rt.block_on(async {
            match cancel {
                Some(c) => tokio::select! {
                    r = work => r,
                    _ = c => Err(PipelineError::Cancelled),
                },
                None => work.await,
            }
        })
    };
    if let (Some((dir, _)), Ok(text), false) = (&cache, &result, from_cache) {
        super::cache::put(dir, &key, text);
    }
    crate::audit::record(
        "model_response",
        match &result {
            Ok(t) => {
                serde_json::json!({"front_end": front_end, "model": model, "tokens": crate::audit::tokens(t), "cached": from_cache})
            }
            Err(e) => {
                serde_json::json!({"front_end": front_end, "model": model, "error": e.to_string()})
            }
        },
    );
    let streamed = stream.borrow().1;
    let text = result.map_err(|e| fail(e, streamed))?;
    // The last line, when the answer does not end with a newline.
    let rest = std::mem::take(&mut stream.borrow_mut().0);
    if !rest.is_empty() {
        emit(&rest);
    }
    let text = anon
        .borrow()
        .as_ref()
        .map_or(text.clone(), |a| a.restore(&text));
    let ctx = ctx.into_inner();
    let (clean, citations, dropped) = context::check_citations(&text, &ctx);
    let clean = crate::untrusted::neutralise(&clean).into_owned();
    let cited_guidance = ctx
        .guidance
        .iter()
        .filter(|(_, c)| citations.iter().any(|u| u.id == c.id))
        .map(|(g, c)| (g.clone(), c.clone()))
        .collect();
    let cited_evidence = ctx
        .evidence
        .iter()
        .filter(|(eid, _)| clean.contains(&format!("[{eid}]")))
        .map(|(eid, (f, r))| (eid.clone(), f.clone(), r.clone()))
        .collect();
    Ok(Reply {
        cited_evidence,
        answer: Answer {
            answer: clean,
            mode: Mode::Llm,
            model: Some(model),
            citations,
            findings: ctx.finding_ids.clone(),
        },
        cited_guidance,
        dropped,
    })
}
