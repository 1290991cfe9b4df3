//! `cargo bench --bench analyze`: load + analyze a synthetic dump of 10,000 pods, 100,000
//! events and 200 MB of logs, and print wall time and peak RSS.
//!
//! Machines are shared and noisy, so every figure is printed beside a baseline measured in
//! the same run on the same bytes: reading every file of the dump once (what any tool that
//! looks at the dump must at least pay). Each measurement runs in a fresh child process so
//! its peak RSS (`VmHWM`) is its own. Targets: under 2 s on 2 cores,
//! under 1 GB RSS.
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
            let state = sextant::source::snapshot::load(dir).expect("load");
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
            format!(
                "{} objects, {} findings, {} bytes of JSON",
                state.object_count(),
                findings.len(),
                json.len()
            )
        }
    };
    println!(
        "{:.3} {:.1} {detail}",
        t.elapsed().as_secs_f64(),
        support::peak_rss_mb()
    );
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

fn main() {
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
            .unwrap_or_else(synthetic::large_dump_dir);
        std::fs::create_dir_all(&dir).expect("mkdir");
        synthetic::generate(&dir, &synthetic::Size::LARGE).expect("generate");
        println!("wrote {}", dir.display());
        return;
    }
    // `cargo test --benches` runs this with no bench flag: nothing to measure then.
    if !args.iter().any(|a| a == "--bench") {
        return;
    }
    let dir = synthetic::large_dump_dir();
    synthetic::ensure(&dir, &synthetic::Size::LARGE);
    let (base_s, base_rss, base_detail) = measure("read", &dir);
    let (s, rss, detail) = measure("analyze", &dir);
    println!("synthetic dump: 10,000 pods, 100,000 events, 200 MB of logs ({base_detail})");
    println!("median of {RUNS} runs, each in a fresh process:");
    println!("  baseline  read every file once   {base_s:>7.3} s   peak RSS {base_rss:>7.1} MB");
    println!("  sextant   load + analyze         {s:>7.3} s   peak RSS {rss:>7.1} MB   ({detail})");
    println!(
        "  ratio     analyze / read           {:>6.2}x   target: under 2 s and under 1024 MB ({})",
        s / base_s,
        if s < 2.0 && rss < 1024.0 {
            "met"
        } else {
            "MISSED"
        }
    );
}
