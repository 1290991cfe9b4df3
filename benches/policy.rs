//! `cargo bench --bench policy`: `policy check` of every drafted policy (the catalog's rules ×
//! Kyverno, Gatekeeper and VAP, cluster-wide), then of 80 policies (those and upstream Kyverno
//! policies from the conformance data), against the realistic synthetic state (9,600 pods in
//! 160 namespaces, 1–3 replicas per Deployment), as the CLI runs it (`check_state`).
//!
//! Machines are shared and noisy, so the check is printed beside a baseline measured in the
//! same run: loading the state from the dump as `policy check --snapshot` reads it (workloads
//! kept as JSON text), what any check pays before evaluating anything. Targets (from the speed
//! issue): the drafts under 2 s; 80 policies under 5 s and 400 MB (peak RSS of the process).
//!
//! The dump is the one `cargo bench --bench analyze` generates (shared under the target dir).

mod support;
mod synthetic;

use sextant::policy::{Engine, check, draft};
use std::path::{Path, PathBuf};
use std::time::Instant;

const RUNS: usize = 3;

/// Write the cluster-wide draft of every catalog rule for every engine; returns each draft's
/// files (a VAP's policy and binding, a Gatekeeper template and constraint: one policy).
fn write_policies(out: &Path) -> Vec<Vec<PathBuf>> {
    let mut drafts = Vec::new();
    for rule in sextant::policy::catalog::rules() {
        let req = draft::request_for_category(
            rule.category,
            vec![Engine::Kyverno, Engine::Gatekeeper, Engine::Vap],
        )
        .expect("request");
        let d = draft::draft(&req, Vec::new()).expect("draft");
        assert!(d.proven(), "{} does not prove", d.policy);
        for e in d.drafts.iter().filter(|e| e.scope == draft::Scope::Cluster) {
            let mut files = Vec::new();
            for (file, text) in &e.files {
                let path = out.join(format!("{}-{}-{file}", d.policy, e.engine.as_str()));
                std::fs::write(&path, text).expect("write policy");
                files.push(path);
            }
            drafts.push(files);
        }
    }
    drafts
}

/// Upstream Kyverno policies (kyverno/policies, as copied for the conformance tests) that
/// Sextant evaluates, Pod Security and best practices first: `want` of them, copied to `out`
/// (the copies' paths).
fn upstream_policies(out: &Path, want: usize) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/policy/conformance/kyverno");
    let mut copied = Vec::new();
    for group in [
        "pod-security",
        "pod-security-cel",
        "best-practices",
        "best-practices-vpol",
        "other",
    ] {
        let mut dirs: Vec<_> = std::fs::read_dir(root.join(group))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .collect();
        dirs.sort();
        for d in dirs {
            let Some(name) = d.file_name().and_then(|f| f.to_str()) else {
                continue;
            };
            let file = d.join(format!("{name}.yaml"));
            let Ok(set) = check::PolicySet::load(std::slice::from_ref(&file)) else {
                continue;
            };
            let usable = set.policies.len() == 1
                && set.policies.iter().all(|(_, p)| {
                    matches!(p, check::Loaded::Kyverno(k)
                        if k.unsupported.is_empty() && k.not_validating.is_empty())
                });
            if usable && copied.len() < want {
                let to = out.join(format!("upstream-{group}-{name}.yaml"));
                std::fs::copy(&file, &to).expect("copy policy");
                copied.push(to);
            }
        }
    }
    copied
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    sextant::allocator::return_freed_memory_soon();
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `cargo test --benches` runs this with no bench flag: nothing to measure then.
    if !args.iter().any(|a| a == "--bench") {
        return;
    }
    let typed = args.iter().any(|a| a == "--typed");
    // Few replicas per controller: verdicts shared between identical pods are not what makes
    // the figure.
    let dir = synthetic::realistic_dump_dir();
    synthetic::ensure(&dir, &synthetic::Size::REALISTIC);
    let policies_dir = tempfile::tempdir().expect("tempdir");
    let drafts = write_policies(policies_dir.path());
    let n = drafts.len();
    let set = check::PolicySet::load(&[policies_dir.path().to_path_buf()]).expect("load policies");
    assert_eq!(set.policies.len(), n, "skipped: {:?}", set.skipped);

    // Each run loads the state afresh (the baseline) and checks it as the CLI does.
    let measure = |set: &check::PolicySet| {
        let (mut loads, mut checks, mut detail) = (Vec::new(), Vec::new(), String::new());
        for _ in 0..RUNS {
            let t = Instant::now();
            // As the CLI reads a snapshot for a check: workloads kept as JSON text (`--typed`:
            // the typed state `analyze` reads, to compare).
            let state = if typed {
                sextant::source::snapshot::load(&dir)
            } else {
                sextant::source::snapshot::load_workloads_as_json(&dir)
            }
            .expect("load");
            loads.push(t.elapsed().as_secs_f64());
            let namespaces = check::namespace_labels(&state);
            let t = Instant::now();
            let r = check::check_state(set, &state, &namespaces);
            checks.push(t.elapsed().as_secs_f64());
            detail = format!(
                "{} objects, {} denial lines, {} errors",
                r.objects,
                r.denials.len(),
                r.errors.len()
            );
        }
        (median(loads), median(checks), detail)
    };
    if args.iter().any(|a| a == "--each") {
        let upstream = upstream_policies(policies_dir.path(), 80 - n);
        return each(
            &dir,
            drafts
                .into_iter()
                .chain(upstream.into_iter().map(|p| vec![p])),
        );
    }
    let (load, chk, detail) = measure(&set);

    // 80 policies: the drafts and upstream Kyverno policies, as a platform team runs them.
    let upstream = upstream_policies(policies_dir.path(), 80 - n).len();
    let big = check::PolicySet::load(&[policies_dir.path().to_path_buf()]).expect("load policies");
    let (big_load, big_chk, big_detail) = measure(&big);
    let rss = support::peak_rss_mb();

    println!(
        "policy check: {n} policies against the realistic synthetic state, read {} ({detail})",
        if typed {
            "typed"
        } else {
            "with workloads as JSON text"
        }
    );
    println!("median of {RUNS} runs:");
    println!("  baseline  load the state            {load:>7.3} s");
    println!("  sextant   evaluate every policy     {chk:>7.3} s");
    println!(
        "  ratio     check / load               {:>6.2}x   target: check under 2 s ({})",
        chk / load,
        if chk < 2.0 { "met" } else { "MISSED" }
    );
    println!(
        "  sextant   {} policies ({n} drafts + {upstream} upstream Kyverno) {big_chk:>7.3} s   ratio {:>6.2}x   ({big_detail})",
        big.policies.len(),
        big_chk / big_load
    );
    println!(
        "            peak RSS of this process (state, objects, policies) {rss:.0} MB   target: 80 policies under 5 s and 400 MB ({})",
        if big_chk < 5.0 && rss < 400.0 {
            "met"
        } else {
            "MISSED"
        }
    );
}

/// `--each`: every policy of the 80 (a draft's files together) checked alone against one load
/// of the state, slowest first: where a check's time goes.
fn each(dir: &Path, policies: impl Iterator<Item = Vec<PathBuf>>) {
    let state = sextant::source::snapshot::load_workloads_as_json(dir).expect("load");
    let namespaces = check::namespace_labels(&state);
    let mut times = Vec::new();
    for files in policies {
        let set = check::PolicySet::load(&files).expect("load policy");
        assert_eq!(set.policies.len(), 1, "{files:?}: {:?}", set.skipped);
        let t = Instant::now();
        let r = check::check_state(&set, &state, &namespaces);
        let (name, p) = &set.policies[0];
        let engine = match p {
            check::Loaded::Gatekeeper { .. } => "Gatekeeper",
            check::Loaded::Vap { .. } => "VAP",
            check::Loaded::Kyverno(_) => "Kyverno",
        };
        let name = format!("{name} ({engine})");
        times.push((t.elapsed().as_secs_f64(), name, r.denials.len()));
    }
    times.sort_by(|a, b| b.0.total_cmp(&a.0));
    let total: f64 = times.iter().map(|t| t.0).sum();
    println!("{} policies alone: {total:.3} s in all", times.len());
    for (t, name, d) in times {
        println!("  {t:>7.3} s  {d:>6} denial lines  {name}");
    }
}

// The binary's allocator, so the figure is the one a user sees.
#[global_allocator]
static GLOBAL: sextant::allocator::Allocator = sextant::allocator::Allocator;
