//! `cargo bench --bench ask`: the offline assistant on the demo incident.
//!
//! - **Time to first byte**: the release binary answering `ask` on the demo (spawn to first
//!   stdout byte), beside the same binary running `analyze` on the demo in the same run (the
//!   load + analysis every answer needs) — and an answer inside a session (the REPL's case:
//!   state and guidance already loaded). Target: under 100 ms. The guidance index is cached on
//!   disk after the first command (see `src/index/guidance.rs`): the first run, which builds
//!   it, is reported apart from the runs that find it.
//! - **Tokens** a model would be sent for the demo questions (`ask --show-prompt`'s context),
//!   against the 6,000-token aim, and model calls per question.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Instant;

const QUESTIONS: &[&str] = &[
    "why is checkout down?",
    "why does cart crash?",
    "是什么导致 ledger 崩溃？",
    "what is wrong in payments?",
    "what does Level 4 say about shell access to pods?",
];

fn first_byte(cache: &std::path::Path, args: &[&str]) -> f64 {
    let bin = env!("CARGO_BIN_EXE_sextant");
    let t = Instant::now();
    let mut child = Command::new(bin)
        .args(args)
        .env("HOME", "/nonexistent")
        .env("XDG_CACHE_HOME", cache)
        .env_remove("KUBECONFIG")
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut out = child.stdout.take().expect("stdout");
    let mut b = [0u8; 1];
    let _ = out.read(&mut b);
    let secs = t.elapsed().as_secs_f64();
    let mut rest = Vec::new();
    let _ = out.read_to_end(&mut rest);
    let _ = child.wait();
    secs
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/demo-incident");
    let runs = 5;
    let cache = tempfile::tempdir().expect("cache dir");
    let ask = ["-q", "ask", "--snapshot", demo, QUESTIONS[0]];
    // The very first command builds the guidance index cache.
    let first = first_byte(cache.path(), &ask);
    let base = median(
        (0..runs)
            .map(|_| first_byte(cache.path(), &["-q", "analyze", "--snapshot", demo]))
            .collect(),
    );
    let cold = median((0..runs).map(|_| first_byte(cache.path(), &ask)).collect());
    // In a session: state, findings and guidance loaded once.
    let state = sextant::source::snapshot::load(std::path::Path::new(demo)).expect("load");
    let gi = sextant::index::guidance::GuidanceIndex::embedded().expect("guidance");
    let mut findings = sextant::analyzers::analyze(&state);
    gi.attach(&mut findings);
    let ns = state.namespace_names();
    let mut warm = Vec::new();
    let mut tokens = Vec::new();
    let prompts = sextant::assistant::prompts::Prompts::default();
    for q in QUESTIONS {
        let t = Instant::now();
        let a = sextant::assistant::answer_offline(q, &findings, &ns, &gi, Some(&state));
        warm.push(t.elapsed().as_secs_f64());
        assert!(!a.answer.is_empty());
        let (msgs, _) = sextant::assistant::model_messages(
            q,
            &findings,
            &ns,
            &gi,
            &prompts,
            sextant::assistant::context::Budget::default(),
            Some(&state),
        );
        tokens.push(msgs.iter().map(|(_, m)| m.len()).sum::<usize>() / 4);
    }
    let warm_ms = median(warm) * 1000.0;
    println!("ask on the demo incident (median of {runs} runs):");
    println!(
        "  baseline  `analyze` spawn → first byte     {:>7.1} ms",
        base * 1000.0
    );
    println!(
        "  sextant   `ask`, first run (builds cache)  {:>7.1} ms   ({:.2}× the baseline)",
        first * 1000.0,
        first / base
    );
    println!(
        "  sextant   `ask` spawn → first byte         {:>7.1} ms   ({:.2}× the baseline)",
        cold * 1000.0,
        cold / base
    );
    println!(
        "  sextant   answer in a session (REPL)       {warm_ms:>7.2} ms   target under 100 ms: {}",
        if cold < 0.1 {
            "met (cold and warm)"
        } else if warm_ms < 100.0 {
            "met in a session; cold start MISSED"
        } else {
            "MISSED"
        }
    );
    for (q, t) in QUESTIONS.iter().zip(&tokens) {
        println!("  tokens a model would be sent: {t:>5}  ({q})");
    }
    println!(
        "  max {} tokens (aim: under 6,000); model calls per question: 1 (single-shot), at most 5 with tools (4 tool rounds + the answer)",
        tokens.iter().max().copied().unwrap_or(0)
    );
}
