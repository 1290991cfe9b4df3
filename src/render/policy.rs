//! Policy drafts and model proposals for people: proofs first, then the fix, then the YAML
//! (highlighted on a terminal). Only proven variants' YAML is ever printed.

use super::Style;
use crate::policy::draft::{Draft, Scope};
use crate::policy::propose::Proposal;
use std::fmt::Write as _;
use std::path::PathBuf;

/// A draft as `policy draft` and `/policy` print it: the proof of every variant, the fix as a
/// diff and a patch, the proven cluster-wide YAML (`show_yaml`), and the files written.
/// The progress line while a model is asked for a policy (CLI and REPL alike).
pub fn asking(model: &str, engine: crate::policy::Engine, attempt: usize) -> String {
    format!(
        "asking {model} for a {} policy (answer {attempt} of at most {})",
        engine.as_str(),
        crate::policy::propose::MAX_ATTEMPTS
    )
}

pub fn draft_text(d: &Draft, written: &[PathBuf], style: Style, show_yaml: bool) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{}  {}", style.bold(&d.policy), d.title);
    if let Some(f) = &d.finding {
        let _ = writeln!(s, "from finding {f} ({})", d.category.as_str());
    }
    let _ = writeln!(
        s,
        "object: {} {}/{}",
        d.offending["kind"].as_str().unwrap_or("?"),
        d.offending["metadata"]["namespace"].as_str().unwrap_or("-"),
        d.offending["metadata"]["name"].as_str().unwrap_or("?")
    );
    for gref in &d.guidance {
        let _ = writeln!(s, "implements Level 4: {} ({})", gref.heading, gref.id);
    }
    s.push_str("\nproof (evaluated in-process: CEL for Kyverno and VAP, Rego and its CEL source for Gatekeeper):\n");
    for e in &d.drafts {
        let scope = match &e.scope {
            Scope::Namespace(ns) => format!("namespace {ns}"),
            Scope::Cluster => "cluster-wide".into(),
        };
        if e.proof.passed() {
            let _ = writeln!(
                s,
                "  ✓ {:<10} {:<18} denies the offending object ({}) and admits the fixed one",
                e.engine.as_str(),
                scope,
                e.proof.denied.as_deref().unwrap_or("")
            );
        } else {
            let why: Vec<&str> = [
                e.proof.denied.as_ref().err(),
                e.proof.admitted.as_ref().err(),
            ]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect();
            let _ = writeln!(
                s,
                "  ✗ {:<10} {:<18} FAILED its proof, not shown: {}",
                e.engine.as_str(),
                scope,
                why.join("; ")
            );
        }
    }
    s.push_str("\nthe fix (suggested, never applied):\n");
    for c in &d.changes {
        let _ = writeln!(s, "  - {c}");
    }
    let diff: String = d
        .diff
        .trim_end()
        .lines()
        .map(|l| {
            let colour = match l.as_bytes().first() {
                _ if !style.color => None,
                Some(b'+') if !l.starts_with("+++") => Some("32"),
                Some(b'-') if !l.starts_with("---") => Some("31"),
                _ => None,
            };
            match colour {
                Some(c) => format!("\x1b[{c}m{l}\x1b[0m\n"),
                None => format!("{l}\n"),
            }
        })
        .collect();
    let _ = write!(s, "\n{diff}");
    let _ = writeln!(s, "\n  {}", d.patch);
    if show_yaml {
        for e in d
            .drafts
            .iter()
            .filter(|e| e.proof.passed() && e.scope == Scope::Cluster)
        {
            for (name, text) in &e.files {
                let _ = writeln!(s, "\n# --- {} {name} ---", e.engine.as_str());
                if style.color {
                    for l in text.lines() {
                        s.push_str(&crate::render::terminal::yaml_line(l));
                        s.push('\n');
                    }
                } else {
                    s.push_str(text);
                }
            }
        }
        s.push_str("\n(give --out DIR to write the policies with their test bundles)\n");
    }
    if !written.is_empty() {
        let _ = writeln!(s, "\nwrote {} files:", written.len());
        for w in written {
            let _ = writeln!(s, "  {}", w.display());
        }
        s.push_str(
            "run the tests: sextant policy test DIR (or `kyverno test`, `gator verify` upstream)\n",
        );
    }
    s
}

/// A model-proposed policy that passed its proof, with the model's examples.
pub fn proposal_text(p: &Proposal, style: Style) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} ({}) for: {}",
        style.bold("model-proposed policy"),
        p.engine.as_str(),
        p.request
    );
    let _ = writeln!(
        s,
        "  ✓ proven in-process after {} answer(s): denies the model's offending example ({}) and admits its fixed one",
        p.attempts,
        p.proof.denied.as_deref().unwrap_or("")
    );
    s.push_str("  review it: the examples are the model's own; the proof shows the policy does what they illustrate
");
    let yaml = |t: &str| -> String {
        if style.color {
            t.lines()
                .map(|l| crate::render::terminal::yaml_line(l) + "\n")
                .collect()
        } else {
            t.to_string()
        }
    };
    let _ = writeln!(s, "\n# --- offending example ---");
    s.push_str(&yaml(&crate::policy::to_yaml(&p.offending)));
    let _ = writeln!(s, "\n# --- fixed example ---");
    s.push_str(&yaml(&crate::policy::to_yaml(&p.fixed)));
    for (name, text) in &p.files {
        let _ = writeln!(s, "\n# --- {} {name} ---", p.engine.as_str());
        s.push_str(&yaml(text));
    }
    s.push('\n');
    s
}
