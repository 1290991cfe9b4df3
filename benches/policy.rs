//! `cargo bench --bench policy`: `policy check` of every drafted policy (the catalog's rules ×
//! Kyverno, Gatekeeper and VAP, cluster-wide) against the realistic synthetic state (9,600
//! pods in 160 namespaces, 1–3 replicas per Deployment).
//!
//! Machines are shared and noisy, so the check is printed beside a baseline measured in the
//! same run: loading the state from the dump (what any `policy check --snapshot` pays before
//! evaluating anything). Target (from the policy issue): the check under 2 s.
//!
//! The dump is the one `cargo bench --bench analyze` generates (shared under the target dir).

mod synthetic;

use sextant::policy::{Engine, check, draft};
use std::path::Path;
use std::time::Instant;

const RUNS: usize = 3;

/// Write the cluster-wide draft of every catalog rule for every engine; returns the count.
fn write_policies(out: &Path) -> usize {
    let mut n = 0;
    for rule in sextant::policy::catalog::rules() {
        let req = draft::request_for_category(
            rule.category,
            vec![Engine::Kyverno, Engine::Gatekeeper, Engine::Vap],
        )
        .expect("request");
        let d = draft::draft(&req, Vec::new()).expect("draft");
        assert!(d.proven(), "{} does not prove", d.policy);
        for e in d.drafts.iter().filter(|e| e.scope == draft::Scope::Cluster) {
            for (file, text) in &e.files {
                std::fs::write(
                    out.join(format!("{}-{}-{file}", d.policy, e.engine.as_str())),
                    text,
                )
                .expect("write policy");
            }
            n += 1;
        }
    }
    n
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `cargo test --benches` runs this with no bench flag: nothing to measure then.
    if !args.iter().any(|a| a == "--bench") {
        return;
    }
    // Few replicas per controller: verdicts shared between identical pods are not what makes
    // the figure.
    let dir = synthetic::realistic_dump_dir();
    synthetic::ensure(&dir, &synthetic::Size::REALISTIC);
    let policies_dir = tempfile::tempdir().expect("tempdir");
    let n = write_policies(policies_dir.path());
    let set = check::PolicySet::load(&[policies_dir.path().to_path_buf()]).expect("load policies");
    assert_eq!(set.policies.len(), n, "skipped: {:?}", set.skipped);

    let (mut loads, mut checks) = (Vec::new(), Vec::new());
    let mut detail = String::new();
    for _ in 0..RUNS {
        let t = Instant::now();
        let state = sextant::source::snapshot::load(&dir).expect("load");
        loads.push(t.elapsed().as_secs_f64());
        let objects = check::workload_objects(&state);
        let namespaces = check::namespace_labels(&state);
        let t = Instant::now();
        let r = check::check(&set, &objects, &namespaces);
        checks.push(t.elapsed().as_secs_f64());
        detail = format!(
            "{} objects, {} denial lines, {} errors",
            r.objects,
            r.denials.len(),
            r.errors.len()
        );
    }
    let (load, chk) = (median(loads), median(checks));
    println!("policy check: {n} policies against the realistic synthetic state ({detail})");
    println!("median of {RUNS} runs:");
    println!("  baseline  load the state            {load:>7.3} s");
    println!("  sextant   evaluate every policy     {chk:>7.3} s");
    println!(
        "  ratio     check / load               {:>6.2}x   target: check under 2 s ({})",
        chk / load,
        if chk < 2.0 { "met" } else { "MISSED" }
    );
}

// The binary's allocator, so the figure is the one a user sees.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
