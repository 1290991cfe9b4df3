//! `cargo bench --bench analyze`: load + analyze a dump shaped like a real large cluster
//! (9,600 pods in 160 namespaces, 1–3 replicas per Deployment, 16,400 events, logs for about
//! half the pods, objects the size of real ones, 464 MB), and print wall time and peak RSS.
//!
//! Machines are shared and noisy, so every figure is printed beside baselines measured in the
//! same run on the same bytes: reading every file of the dump once, and a Python script that
//! only parses every JSON file and reads every log (the performance issue's yardstick; skipped
//! when `python3` is missing). Each measurement runs in a fresh child process so its peak RSS
//! (`VmHWM`) is its own. Targets: at most 0.5× the Python parse, under 250 MB. The CLI itself
//! (`sextant analyze -A -o json`, spawn to exit: guidance, rendering and exit included) is
//! timed and its peak RSS read too, as the figures a user sees.
//!
//! `cargo bench --bench analyze -- --generate DIR` only writes the dump (to try the CLI on it).

mod support;
mod synthetic;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const RUNS: usize = 3;

/// Baseline: read every byte of the tree, holding one file at a time.
fn read_all(dir: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read_dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                total += std::fs::read(&p).map(|b| b.len() as u64).unwrap_or(0);
            }
        }
    }
    total
}

/// Child mode: do one measured thing and print `seconds rss_mb detail`.
fn child(what: &str, dir: &Path) {
    let t = Instant::now();
    let detail = match what {
        "read" => format!("{} bytes", read_all(dir)),
        _ => {
            // What `analyze` reads: owned ReplicaSets without their templates.
            let state = sextant::source::snapshot::load_for_analysis(dir).expect("load");
            let loaded = t.elapsed().as_secs_f64();
            let findings = sextant::analyzers::analyze(&state);
            if std::env::var_os("SEXTANT_BENCH_PHASES").is_some() {
                eprintln!(
                    "load {loaded:.3}s, analyze {:.3}s",
                    t.elapsed().as_secs_f64() - loaded
                );
            }
            // Touch the log evidence the way `analyze` output does.
            let json = serde_json::to_string(&findings).expect("json");
            let detail = format!(
                "{} objects, {} findings, {} bytes of JSON",
                state.object_count(),
                findings.len(),
                json.len()
            );
            // As `analyze` does (`cli::leave_to_exit`): the state is left to the process's
            // exit, not freed object by object inside the timing.
            std::mem::forget(state);
            detail
        }
    };
    println!(
        "{:.3} {:.1} {detail}",
        t.elapsed().as_secs_f64(),
        support::peak_rss_mb()
    );
}

/// The Python baseline: parse every JSON file, read every other file; nothing else.
const PYTHON: &str = r#"
import json, os, sys, time, resource
t = time.time()
n = 0
for root, _, files in os.walk(sys.argv[1]):
    for f in files:
        p = os.path.join(root, f)
        if f.endswith('.json'):
            with open(p) as h:
                json.load(h)
        else:
            with open(p, 'rb') as h:
                h.read()
        n += 1
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"{time.time() - t:.3f} {rss:.1f} {n} files")
"#;

fn measure_python(dir: &Path) -> Option<(f64, f64, String)> {
    let mut runs = Vec::new();
    for _ in 0..RUNS {
        let out = Command::new("python3")
            .args(["-c", PYTHON])
            .arg(dir)
            .output()
            .ok()?;
        if !out.status.success() {
            return None;
        }
        let line = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let mut it = line.splitn(3, ' ');
        let secs: f64 = it.next()?.parse().ok()?;
        let rss: f64 = it.next()?.parse().ok()?;
        runs.push((secs, rss, it.next().unwrap_or("").to_string()));
    }
    runs.sort_by(|a, b| a.0.total_cmp(&b.0));
    Some(runs.swap_remove(RUNS / 2))
}

fn measure(what: &str, dir: &Path) -> (f64, f64, String) {
    let mut runs = Vec::new();
    for _ in 0..RUNS {
        let out = Command::new(std::env::current_exe().expect("exe"))
            .args(["--child", what])
            .arg(dir)
            .output()
            .expect("spawn child");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let line = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let mut it = line.splitn(3, ' ');
        let secs: f64 = it.next().and_then(|s| s.parse().ok()).expect("secs");
        let rss: f64 = it.next().and_then(|s| s.parse().ok()).expect("rss");
        runs.push((secs, rss, it.next().unwrap_or("").to_string()));
    }
    runs.sort_by(|a, b| a.0.total_cmp(&b.0));
    runs.swap_remove(RUNS / 2)
}

/// Runs a command given as arguments, its output thrown away, and prints the peak RSS of its
/// process in MB (`ru_maxrss` of the children, KB on Linux): std has no `getrusage`, and
/// Python is already the baseline's requirement.
const PEAK_OF: &str = r#"
import resource, subprocess, sys
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024 if done.returncode == 0 else "failed")
"#;

/// `sextant analyze -A -o json` as a user runs it (the release binary, its guidance cache
/// warm, output to a pipe read to the end): wall time from spawn to exit, median of RUNS after
/// one warm-up run; and its peak RSS, the median of RUNS more runs under [`PEAK_OF`] (None
/// without `python3`).
fn measure_cli(dir: &Path) -> (f64, Option<f64>) {
    let cache = tempfile::tempdir().expect("cache dir");
    let cli = |program: &str| {
        let mut c = Command::new(program);
        c.env("HOME", "/nonexistent")
            .env("XDG_CACHE_HOME", cache.path())
            .env("XDG_CONFIG_HOME", "/nonexistent")
            .env("XDG_DATA_HOME", cache.path())
            .env_remove("KUBECONFIG");
        c
    };
    let args = ["analyze", "-A", "-o", "json", "--snapshot"];
    let run = || {
        let t = Instant::now();
        let out = cli(env!("CARGO_BIN_EXE_sextant"))
            .args(args)
            .arg(dir)
            .output()
            .expect("spawn sextant");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        t.elapsed().as_secs_f64()
    };
    run();
    let mut v: Vec<f64> = (0..RUNS).map(|_| run()).collect();
    v.sort_by(f64::total_cmp);
    let peak = || -> Option<f64> {
        let out = cli("python3")
            .args(["-c", PEAK_OF, env!("CARGO_BIN_EXE_sextant")])
            .args(args)
            .arg(dir)
            .output()
            .ok()?;
        String::from_utf8_lossy(&out.stdout).trim().parse().ok()
    };
    let mut peaks: Vec<f64> = (0..RUNS).filter_map(|_| peak()).collect();
    peaks.sort_by(f64::total_cmp);
    (v[RUNS / 2], peaks.get(peaks.len() / 2).copied())
}

fn main() {
    sextant::allocator::return_freed_memory_soon();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        let what = args.get(i + 1).map(String::as_str).unwrap_or("analyze");
        let dir = args.get(i + 2).map(PathBuf::from).expect("dir");
        child(what, &dir);
        return;
    }
    if let Some(i) = args.iter().position(|a| a == "--generate") {
        let dir = args
            .get(i + 1)
            .map(PathBuf::from)
            .unwrap_or_else(synthetic::realistic_dump_dir);
        std::fs::create_dir_all(&dir).expect("mkdir");
        synthetic::generate(&dir, &synthetic::Size::REALISTIC).expect("generate");
        println!("wrote {}", dir.display());
        return;
    }
    // `cargo test --benches` runs this with no bench flag: nothing to measure then.
    if !args.iter().any(|a| a == "--bench") {
        return;
    }
    let dir = synthetic::realistic_dump_dir();
    synthetic::ensure(&dir, &synthetic::Size::REALISTIC);
    let (base_s, base_rss, base_detail) = measure("read", &dir);
    let python = measure_python(&dir);
    let (s, rss, detail) = measure("analyze", &dir);
    let (cli, cli_rss) = measure_cli(&dir);
    let cli_rss_text = cli_rss.map_or("peak RSS n/a (no python3)".to_string(), |r| {
        format!("peak RSS {r:>7.1} MB")
    });
    println!(
        "realistic dump: 9,600 pods in 160 namespaces, 1-3 replicas per Deployment, 16,400 events, logs for ~54% of pods ({base_detail})"
    );
    println!("median of {RUNS} runs, each in a fresh process:");
    println!("  baseline  read every file once   {base_s:>7.3} s   peak RSS {base_rss:>7.1} MB");
    match &python {
        Some((py, py_rss, files)) => println!(
            "  baseline  python3: parse every JSON, read every log {py:>7.3} s   peak RSS {py_rss:>7.1} MB   ({files})"
        ),
        None => println!("  baseline  python3: not available on this machine"),
    }
    println!("  sextant   load + analyze         {s:>7.3} s   peak RSS {rss:>7.1} MB   ({detail})");
    println!(
        "  sextant   the CLI, spawn to exit   {cli:>7.3} s   {cli_rss_text}   (`sextant analyze -A -o json`, output read to the end)"
    );
    println!("  ratio     analyze / read           {:>6.2}x", s / base_s);
    if let Some((py, _, _)) = python {
        println!(
            "  ratio     analyze / python parse   {:>6.2}x   (the CLI: {:.2}x)   target: at most 0.5x and under 250 MB, the CLI's peak too ({})",
            s / py,
            cli / py,
            if s <= 0.5 * py && rss < 250.0 && cli_rss.is_some_and(|r| r < 250.0) {
                "met"
            } else {
                "MISSED"
            }
        );
    }
}

// The binary's allocator, so the figure is the one a user sees.
#[global_allocator]
static GLOBAL: sextant::allocator::Allocator = sextant::allocator::Allocator;
