//! `sextant policy draft|test|check`.

use super::{Global, load, load_for, search, write_out};
use crate::analyzers;
use crate::config::Config;
use crate::error::Error;
use crate::findings::Category;
use crate::policy::draft;
use crate::policy::{Engine, check, suite};
use crate::render::{Format, Style};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::str::FromStr;

fn engines(arg: &str) -> anyhow::Result<Vec<Engine>> {
    let mut out = Vec::new();
    for e in arg.split(',').map(str::trim) {
        match (e, Engine::parse(e)) {
            ("all", _) => out.extend(Engine::ALL),
            (_, Some(engine)) => out.push(engine),
            (other, None) => {
                return Err(Error::Usage(format!(
                    "--engine: unknown engine '{other}' (expected kyverno, kyverno-clusterpolicy, gatekeeper, vap or all)"
                ))
                .into());
            }
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

pub fn draft(
    g: &Global,
    cfg: &Config,
    target: &str,
    engine: &str,
    out: Option<&Path>,
) -> anyhow::Result<i32> {
    let engines = engines(engine)?;
    let category = Category::from_str(target).ok();
    let gi = search::guidance_index(g, cfg)?;
    let d = match (category, g.snapshot().is_some()) {
        (Some(c), false) => {
            if crate::policy::catalog::rule_for(c).is_none() {
                return Err(Error::Usage(format!(
                    "no policy would have prevented a {} (policies exist for: {})",
                    c.as_str(),
                    draft::supported()
                ))
                .into());
            }
            if !g.quiet {
                eprintln!(
                    "note: no --snapshot: drafting {} against a built-in example Pod",
                    c.as_str()
                );
            }
            let req = draft::request_for_category(c, engines)?;
            draft::draft(&req, gi.for_category(c))?
        }
        // A finding id: from the snapshot, or the live cluster.
        (c, snapshot) if snapshot || target.to_ascii_uppercase().starts_with("F-") => {
            let (_, state) = load(g, cfg)?;
            let mut findings = analyzers::analyze(&state);
            if let super::Scope::Namespace(ns) = super::scope(g) {
                findings = analyzers::in_namespace(findings, &state, &ns);
            }
            gi.attach(&mut findings);
            let f = match c {
                Some(c) => findings.iter().find(|f| f.category == c),
                None => Some(analyzers::find(&findings, target)?),
            };
            match (f, c) {
                (Some(f), _) => {
                    let req = draft::request_for_finding(f, &state, engines)?;
                    draft::draft(&req, f.guidance.clone())?
                }
                (None, None) => return Err(Error::FindingNotFound(target.into()).into()),
                // A category with no finding in this snapshot: the built-in example.
                (None, Some(c)) => {
                    if !g.quiet {
                        eprintln!(
                            "note: no {} finding in the snapshot: drafting against a built-in example Pod",
                            c.as_str()
                        );
                    }
                    let req = draft::request_for_category(c, engines)?;
                    draft::draft(&req, gi.for_category(c))?
                }
            }
        }
        _ => {
            return Err(Error::Usage(format!(
                "'{target}' is neither a category ({}) nor a finding id (F-…, from `sextant analyze`)",
                draft::supported()
            ))
            .into());
        }
    };
    let mut written = Vec::new();
    if let Some(dir) = out {
        written = suite::write_bundle(dir, &d)?;
    }
    let text = match g.output.unwrap_or(Format::Text) {
        Format::Json => serde_json::to_string_pretty(&d)? + "\n",
        Format::Text | Format::Markdown | Format::Sarif => {
            crate::render::policy::draft_text(&d, &written, Style::detect(), out.is_none())
        }
    };
    write_out(&text)?;
    Ok(if d.proven() { 0 } else { 1 })
}

/// `policy draft --request TEXT`: the model proposes, Sextant proves (bounded retries), and
/// only a proven policy is shown. Exit 1 when the model never got it right.
pub fn propose(
    cfg: &Config,
    models: &crate::assistant::model::ModelSlot,
    request: &str,
    engine: &str,
    out: Option<&Path>,
) -> anyhow::Result<i32> {
    let engines = engines(engine)?;
    let Some(model) = models.get() else {
        return Err(Error::Usage(
            "--request needs a model: configure [llm] (or OPENAI_BASE_URL / SEXTANT_MODEL), and no --offline".into(),
        )
        .into());
    };
    let prompts = crate::assistant::prompts::Prompts::load(cfg.llm.prompts.as_deref())?;
    crate::audit::record(
        "policy_request",
        serde_json::json!({"text": crate::redact::redact(request), "command": "policy draft"}),
    );
    let style = Style::detect();
    let mut s = String::new();
    let mut refused = 0;
    for engine in engines {
        let mut busy = None;
        let result = model.propose_policy(
            request,
            engine,
            &prompts,
            "policy draft",
            false,
            &mut |attempt| {
                busy = Some(crate::render::progress::Busy::start(
                    crate::render::policy::asking(model.name(), engine, attempt),
                ));
            },
        );
        drop(busy);
        match result {
            Ok(p) => {
                s.push_str(&crate::render::policy::proposal_text(&p, style));
                if let Some(dir) = out {
                    let written = write_proposal(dir, &p)?;
                    let _ = writeln!(s, "wrote {} files under {}", written, dir.display());
                }
            }
            Err(e) => {
                refused += 1;
                let _ = writeln!(
                    s,
                    "{} ({}): refused — {e}; nothing is shown that was not proven",
                    style.bold("model-proposed policy"),
                    engine.as_str()
                );
            }
        }
    }
    write_out(&s)?;
    Ok(if refused > 0 { 1 } else { 0 })
}

/// The proposal's files and examples under `DIR/proposed-ENGINE/`; how many were written.
fn write_proposal(dir: &Path, p: &crate::policy::propose::Proposal) -> anyhow::Result<usize> {
    let root = dir.join(format!("proposed-{}", p.engine.as_str()));
    let io = |path: &Path, e: std::io::Error| crate::Error::Io {
        context: path.display().to_string(),
        source: e,
    };
    std::fs::create_dir_all(&root).map_err(|e| io(&root, e))?;
    let mut files: Vec<(String, String)> = p
        .files
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    files.push((
        "example-offending.yaml".into(),
        crate::policy::to_yaml(&p.offending),
    ));
    files.push((
        "example-fixed.yaml".into(),
        crate::policy::to_yaml(&p.fixed),
    ));
    for (name, text) in &files {
        let path = root.join(name);
        std::fs::write(&path, text).map_err(|e| io(&path, e))?;
    }
    Ok(files.len())
}

pub fn test(g: &Global, dir: &Path) -> anyhow::Result<i32> {
    let r = suite::run_dir(dir)?;
    if r.results.is_empty() {
        return Err(Error::Usage(format!(
            "{}: no kyverno-test.yaml, suite.yaml or sextant-vap-test.yaml found",
            dir.display()
        ))
        .into());
    }
    let text = match g.output.unwrap_or(Format::Text) {
        Format::Json => serde_json::to_string_pretty(&r)? + "\n",
        _ => {
            let mut s = String::new();
            for c in &r.results {
                let mark = match (&c.skipped, c.passed) {
                    (Some(_), _) => "-",
                    (None, true) => "✓",
                    (None, false) => "✗",
                };
                match &c.skipped {
                    Some(why) => {
                        let _ = write!(
                            s,
                            "{mark} {}  expected {}: not evaluated ({why})",
                            c.case, c.expected
                        );
                    }
                    None => {
                        let _ = write!(
                            s,
                            "{mark} {}  expected {}, got {}",
                            c.case, c.expected, c.got
                        );
                    }
                }
                s.push('\n');
            }
            let _ = writeln!(
                s,
                "\n{} passed, {} failed, {} skipped",
                r.passed(),
                r.failed(),
                r.skipped()
            );
            s
        }
    };
    write_out(&text)?;
    Ok(if r.failed() > 0 { 1 } else { 0 })
}

pub fn check(g: &Global, cfg: &Config, files: &[PathBuf]) -> anyhow::Result<i32> {
    for f in files {
        if !f.exists() {
            return Err(Error::Usage(format!("{}: no such file or directory", f.display())).into());
        }
    }
    let set = check::PolicySet::load(files)?;
    if set.policies.is_empty() {
        return Err(Error::Usage(format!(
            "no usable policy in {} ({})",
            files
                .iter()
                .map(|f| f.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            if set.skipped.is_empty() {
                "expected ConstraintTemplates with constraints, ValidatingAdmissionPolicies with bindings, or Kyverno CEL policies".to_string()
            } else {
                set.skipped.join("; ")
            }
        ))
        .into());
    }
    let (_, state) = load_for(g, cfg, |src, scope| src.load_for_policy_check(scope))?;
    let namespaces = check::namespace_labels(&state);
    let t = std::time::Instant::now();
    let r = check::check_state(&set, &state, &namespaces);
    tracing::info!(secs = t.elapsed().as_secs_f64(), "policy check");
    let text = match g.output.unwrap_or(Format::Text) {
        Format::Json => serde_json::to_string_pretty(&r)? + "\n",
        _ => {
            let mut s = format!(
                "{} against {}: {} would be denied\n",
                if r.policies == 1 {
                    "1 policy".to_string()
                } else {
                    format!("{} policies", r.policies)
                },
                crate::findings::plural(r.objects, "workload"),
                r.denials.len()
            );
            for d in &r.denials {
                let _ = writeln!(
                    s,
                    "  {:<10} {:<40} {}{}  [{}] {}",
                    d.engine.as_str(),
                    d.policy,
                    d.object,
                    if d.count > 1 {
                        format!(" (×{})", d.count)
                    } else {
                        String::new()
                    },
                    d.action,
                    d.message
                );
            }
            for e in &r.errors {
                let _ = writeln!(s, "  error: {e}");
            }
            for k in &r.skipped {
                let _ = writeln!(s, "  skipped: {k}");
            }
            s
        }
    };
    write_out(&text)?;
    super::leave_to_exit(state);
    Ok(0)
}
