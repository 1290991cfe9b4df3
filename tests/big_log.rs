//! A 50 MB log is streamed with bounded memory. Alone in its test binary so the process's
//! peak RSS (VmHWM) measures this read only.

mod common;

use common::*;
use std::io::Write;

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
}

#[test]
fn a_50_mb_log_is_streamed_with_bounded_memory() {
    let dir = write_tree(&[("ns/pods.yaml", crashing_pod_ns_p().as_str())]);
    std::fs::create_dir_all(dir.path().join("ns/p")).unwrap();
    let mut f =
        std::io::BufWriter::new(std::fs::File::create(dir.path().join("ns/p/logs.txt")).unwrap());
    writeln!(f, "==== START logs for container c of pod ns/p ====").unwrap();
    let line = "2026-01-01T00:00:00Z INFO request handled path=/api/v1/items status=200 duration=12ms user=42\n";
    let mut written = 0usize;
    let mut i = 0u64;
    while written < 50 * 1024 * 1024 {
        let l = if i.is_multiple_of(100_000) {
            format!("2026-01-01T00:00:00Z ERROR upstream timeout #{i}\n")
        } else {
            line.to_string()
        };
        f.write_all(l.as_bytes()).unwrap();
        written += l.len();
        i += 1;
    }
    writeln!(f, "panic: the last words").unwrap();
    writeln!(f, "==== END logs for container c of pod ns/p ====").unwrap();
    drop(f);

    let before = peak_rss_kib();
    let st = load(dir.path());
    let findings = sextant::analyzers::analyze(&st);
    let after = peak_rss_kib();
    let c = find(&findings, sextant::findings::Category::CrashLoopBackOff);
    assert!(
        c.evidence
            .iter()
            .any(|e| e.text.contains("panic: the last words"))
    );
    assert!(
        c.evidence
            .iter()
            .any(|e| e.text.contains("upstream timeout") && e.text.contains('×')),
        "{:#?}",
        c.evidence
    );
    if let (Some(b), Some(a)) = (before, after) {
        // The file is 50 MB; reading it whole would raise the peak by at least that much.
        assert!(
            a.saturating_sub(b) < 20 * 1024,
            "peak RSS grew by {} KiB",
            a - b
        );
    }
}
