//! Recorded incidents written for Sextant (tests/data/incidents, see PROVENANCE.md): the
//! kubectl output an on-call engineer saves (get tables of every shape, describe of many
//! kinds, events in both column sets, top, logs with and without prefixes, kubectl errors),
//! the question they asked and the facts a good answer states. Each is answered offline
//! through `ask --evidence`'s library path.
//!
//! The judge is strict: a fact counts only when the answer's prose states it — evidence
//! lines (`> …`) and quoted log lines (“…”) are removed first — and every one of its terms
//! (alternatives split by `|`) must be there. A case whose answer names a wrong root cause
//! (a listed phrase on a CRITICAL or WARNING line) fails outright.

mod common;

use serde_json::Value;
use std::path::{Path, PathBuf};

/// Facts stated when the harness was last raised; it must not fall.
const BASELINE_FACTS: usize = 91;
/// The harness covers at least this many incidents.
const MIN_CASES: usize = 40;

fn cases() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(common::data("incidents"))
        .expect("incidents")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("case.yaml").exists())
        .collect();
    v.sort();
    v
}

/// The answer's prose: no evidence lines, no quoted log text.
fn prose(answer: &str) -> String {
    let mut out = String::new();
    for l in answer.lines() {
        if l.trim_start().starts_with('>') {
            continue;
        }
        let mut inside = false;
        for c in l.chars() {
            match c {
                '“' => inside = true,
                '”' => inside = false,
                _ if !inside => out.push(c),
                _ => {}
            }
        }
        out.push('\n');
    }
    out.to_lowercase()
}

fn states(prose: &str, fact: &[String]) -> bool {
    fact.iter().all(|term| {
        term.split('|')
            .any(|alt| prose.contains(&alt.to_lowercase()))
    })
}

/// Lines where the answer names a cause at critical or warning severity.
fn severe_lines(answer: &str) -> Vec<String> {
    answer
        .lines()
        .filter(|l| l.starts_with("CRITICAL ") || l.starts_with("WARNING "))
        .map(str::to_lowercase)
        .collect()
}

struct Outcome {
    facts: usize,
    stated: usize,
    wrong: Vec<String>,
    report: String,
}

fn run(case: &Path, gi: &sextant::index::guidance::GuidanceIndex) -> Outcome {
    let tc: Value = serde_saphyr::from_str(
        &std::fs::read_to_string(case.join("case.yaml")).expect("case.yaml"),
    )
    .expect("yaml");
    let question = tc["question"].as_str().expect("question");
    let state = sextant::source::evidence::load(&case.join("evidence")).expect("evidence");
    let mut findings = sextant::analyzers::analyze(&state);
    gi.attach(&mut findings);
    let a = sextant::assistant::answer_offline(
        question,
        &findings,
        &state.namespace_names(),
        gi,
        Some(&state),
    );
    let p = prose(&a.answer);
    let name = case
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut o = Outcome {
        facts: 0,
        stated: 0,
        wrong: Vec::new(),
        report: String::new(),
    };
    for f in tc["facts"].as_array().into_iter().flatten() {
        let terms: Vec<String> = f
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| t.as_str().map(str::to_string))
            .collect();
        o.facts += 1;
        let ok = states(&p, &terms);
        o.stated += usize::from(ok);
        o.report.push_str(&format!(
            "{} {name:<44} {}\n",
            if ok { "PASS" } else { "miss" },
            terms.join(" + ")
        ));
    }
    for w in tc["wrong"].as_array().into_iter().flatten() {
        let w = w.as_str().unwrap_or("").to_lowercase();
        if severe_lines(&a.answer).iter().any(|l| l.contains(&w)) {
            o.wrong
                .push(format!("{name}: a CRITICAL/WARNING line names `{w}`"));
        }
    }
    if o.stated < o.facts || !o.wrong.is_empty() {
        o.report
            .push_str(&format!("---- {name}: {question}\n{}----\n", a.answer));
    }
    o
}

#[test]
fn incidents_are_answered_with_their_facts_and_no_wrong_cause() {
    let gi = sextant::index::guidance::GuidanceIndex::embedded().expect("guidance");
    let all = cases();
    assert!(all.len() >= MIN_CASES, "only {} incidents", all.len());
    let (mut facts, mut stated) = (0, 0);
    let mut wrong = Vec::new();
    let mut report = String::new();
    for c in &all {
        let o = run(c, &gi);
        facts += o.facts;
        stated += o.stated;
        wrong.extend(o.wrong);
        report.push_str(&o.report);
    }
    eprintln!(
        "{report}incidents offline: {stated}/{facts} facts stated, {} wrong cause(s)",
        wrong.len()
    );
    assert!(
        wrong.is_empty(),
        "wrong root causes:\n{}\n{report}",
        wrong.join("\n")
    );
    assert!(
        stated >= BASELINE_FACTS,
        "regressed: {stated}/{facts} facts, baseline {BASELINE_FACTS}\n{report}"
    );
}

#[test]
fn the_judge_ignores_quoted_evidence() {
    let answer = "Cause: it cannot connect.\n  > [log] connection refused to db:5432\n  - ×3: “connection refused”\n";
    let p = prose(answer);
    assert!(!states(&p, &["connection refused".into()]));
    assert!(states(&p, &["cannot connect".into()]));
    assert!(states(&p, &["nothing|cannot".into()]));
}

/// The model's factual tools answer from the evidence: counts and lists by kind, namespace and
/// label; log search and `get_logs` for a pod known only by its log; `get_object` finds an
/// object that names no namespace under `default`; what is not there is said to be missing.
#[test]
fn the_agent_tools_answer_factual_questions_from_the_evidence() {
    use sextant::assistant::agent::Tools;
    use sextant::assistant::context::ModelContext;
    let gi = sextant::index::guidance::GuidanceIndex::embedded().expect("guidance");
    let call = |case: &str, tool: &str, args: serde_json::Value| {
        let st =
            sextant::source::evidence::load(&common::data(&format!("incidents/{case}/evidence")))
                .expect("evidence");
        let tools = Tools {
            findings: &[],
            state: Some(&st),
            gi: &gi,
        };
        tools.call(tool, &args, &mut ModelContext::default())
    };
    let n = call(
        "03-count-pods-in-namespace",
        "count",
        serde_json::json!({"kind": "pods", "namespace": "test-1"}),
    );
    assert!(
        n.contains("5 pods") && n.contains("3 Running") && n.contains("2 Pending"),
        "{n}"
    );
    let l = call(
        "33-find-by-label",
        "list_objects",
        serde_json::json!({"kind": "pod", "label_selector": "team=payments"}),
    );
    assert!(
        l.contains("payments/ledger-0") && !l.contains("web-"),
        "{l}"
    );
    let s = call(
        "02-logs-only-certificate-expired",
        "search_logs",
        serde_json::json!({"pattern": "x509"}),
    );
    assert!(
        s.contains("payments-6b8f9c7d5-qv7lm") && s.contains("certificate has expired"),
        "{s}"
    );
    let g = call(
        "02-logs-only-certificate-expired",
        "get_logs",
        serde_json::json!({"pod": "payments-6b8f9c7d5-qv7lm"}),
    );
    assert!(g.contains("handshake failed"), "{g}");
    let missing = call(
        "02-logs-only-certificate-expired",
        "get_logs",
        serde_json::json!({"pod": "nope"}),
    );
    assert!(
        missing.contains("is in the evidence") && missing.starts_with("no log"),
        "{missing}"
    );
    // A manifest applied without `-n` is in `default`.
    let dir = common::write_tree(&[(
        "cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: fast\n",
    )]);
    let st = sextant::source::evidence::load(dir.path()).expect("evidence");
    let tools = Tools {
        findings: &[],
        state: Some(&st),
        gi: &gi,
    };
    let o = tools.call(
        "get_object",
        &serde_json::json!({"kind": "configmap", "name": "settings", "namespace": "default"}),
        &mut ModelContext::default(),
    );
    assert!(o.contains("name: settings"), "{o}");
}
