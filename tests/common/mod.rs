//! Helpers shared by the integration tests: write manifests/dumps to a temporary directory,
//! load them through the real snapshot reader, run the real analyzers, run the real binary.
#![allow(dead_code)]

use sextant::findings::{Category, Finding};
use sextant::state::ClusterState;
use std::path::{Path, PathBuf};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn demo() -> PathBuf {
    repo().join("examples/demo-incident")
}

pub fn data(rel: &str) -> PathBuf {
    repo().join("tests/data").join(rel)
}

/// Write `files` (relative path, content) under a fresh temporary directory.
pub fn write_tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for (rel, content) in files {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, content).expect("write");
    }
    dir
}

pub fn load(path: &Path) -> ClusterState {
    sextant::source::snapshot::load(path).unwrap_or_else(|e| panic!("load {}: {e}", path.display()))
}

/// Load one YAML stream and analyze it.
pub fn analyze_yaml(yaml: &str) -> Vec<Finding> {
    analyze_files(&[("state.yaml", yaml)])
}

/// Analyze the files as a snapshot, and check that what `analyze` keeps of them
/// (`load_for_analysis`: what no analyzer reads dropped) gives the same findings: every
/// analyzer test is also a test of what that drops.
pub fn analyze_files(files: &[(&str, &str)]) -> Vec<Finding> {
    let dir = write_tree(files);
    let findings = sextant::analyzers::analyze(&load(dir.path()));
    let kept = sextant::source::snapshot::load_for_analysis(dir.path()).expect("load for analysis");
    assert_eq!(
        sextant::analyzers::analyze(&kept),
        findings,
        "what `analyze` keeps of the objects finds the same"
    );
    findings
}

pub fn categories(findings: &[Finding]) -> Vec<Category> {
    findings.iter().map(|f| f.category).collect()
}

pub fn find(findings: &[Finding], c: Category) -> &Finding {
    findings
        .iter()
        .find(|f| f.category == c)
        .unwrap_or_else(|| {
            panic!(
                "no {c} finding in {:#?}",
                findings
                    .iter()
                    .map(|f| (&f.category, &f.title))
                    .collect::<Vec<_>>()
            )
        })
}

pub fn has(findings: &[Finding], c: Category) -> bool {
    findings.iter().any(|f| f.category == c)
}

/// A pod manifest with a status block (indented under `status:`).
pub fn pod(ns: &str, name: &str, labels: &str, spec: &str, status: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: {ns}\n  uid: uid-{name}\n  labels: {{{labels}}}\nspec:\n{spec}\nstatus:\n{status}\n---\n"
    )
}

/// A simple one-container spec.
pub fn spec(container: &str, image: &str) -> String {
    format!(
        "  containers:\n  - name: {container}\n    image: {image}\n    resources:\n      limits: {{memory: 128Mi, cpu: 100m}}\n      requests: {{memory: 64Mi, cpu: 50m}}\n    securityContext: {{allowPrivilegeEscalation: false, runAsNonRoot: true}}\n    readinessProbe: {{tcpSocket: {{port: 8080}}}}\n    ports: [{{containerPort: 8080}}]"
    )
}

/// Positional on purpose: tests read like the event table they describe.
#[allow(clippy::too_many_arguments)]
pub fn event(
    ns: &str,
    kind: &str,
    name: &str,
    reason: &str,
    message: &str,
    type_: &str,
    count: i32,
    last: &str,
) -> String {
    format!(
        "apiVersion: v1\nkind: Event\nmetadata:\n  name: {name}.{reason}\n  namespace: {ns}\ninvolvedObject: {{kind: {kind}, name: {name}, namespace: {ns}, uid: uid-{name}}}\nreason: {reason}\nmessage: '{message}'\ntype: {type_}\ncount: {count}\nfirstTimestamp: '2026-01-01T09:00:00Z'\nlastTimestamp: '{last}'\n---\n"
    )
}

/// A data directory no other command of this test run uses (created on demand by the binary).
pub fn fresh_data_dir() -> PathBuf {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    std::env::temp_dir().join(format!(
        "sextant-test-data-{}-{}",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ))
}

pub fn sextant() -> assert_cmd::Command {
    assert_cmd::Command::from_std(sextant_process())
}

/// [`sextant`] as a plain process, for a test that drives its pipes itself.
pub fn sextant_process() -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_sextant"));
    // Hermetic: no model, no colour, and not the developer's own config file.
    c.env_remove("OPENAI_API_KEY")
        .env_remove("SEXTANT_MODEL")
        .env("XDG_CONFIG_HOME", "/nonexistent")
        // A data dir of its own per command: no answer cache or history shared between tests,
        // and never the developer's.
        .env("XDG_DATA_HOME", fresh_data_dir())
        // One guidance index cache for the whole test run (as on a real machine), never the
        // developer's.
        .env(
            "XDG_CACHE_HOME",
            std::env::temp_dir().join("sextant-test-cache"),
        )
        // Not the developer's own audit trail.
        .env(
            "SEXTANT_AUDIT_LOG",
            std::env::temp_dir().join("sextant-tests-audit.jsonl"),
        )
        .env("NO_COLOR", "1");
    c
}

/// Pod ns/p whose container c crash-loops (exit 1): the subject of the log-reading tests.
pub fn crashing_pod_ns_p() -> String {
    pod(
        "ns",
        "p",
        "app: p",
        &spec("c", "c:1"),
        "  phase: Running\n  containerStatuses:\n  - {name: c, image: 'c:1', imageID: '', ready: false, restartCount: 9, state: {waiting: {reason: CrashLoopBackOff}}, lastState: {terminated: {exitCode: 1, reason: Error}}}",
    )
}

/// The binary with no cluster configuration at all (no KUBECONFIG, no ~/.kube/config).
pub fn sextant_no_cluster() -> assert_cmd::Command {
    let mut c = sextant();
    c.env_remove("KUBECONFIG").env("HOME", "/nonexistent");
    c
}

/// Run; it must succeed; its stdout.
pub fn stdout_ok(cmd: &mut assert_cmd::Command) -> String {
    let out = cmd.output().expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A successful run's stdout as JSON (both streams shown when it is not).
pub fn json_of(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// Copy a dump tree (the demo) to `to`.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read").flatten() {
        let p = e.path();
        let dest = to.join(e.file_name());
        if p.is_dir() {
            copy_tree(&p, &dest);
        } else {
            std::fs::copy(&p, &dest).expect("copy");
        }
    }
}

/// Every file under `dir`, depth first.
pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// Every file under `dir`, at any depth (no order promised).
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                todo.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}
