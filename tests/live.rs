//! Live clusters against a fake API server (real HTTP on 127.0.0.1, see tests/fake_kube):
//! read-only enforcement, request bounds, degradation on 403/500/slow kinds, kubeconfig
//! resolution, `doctor` and `snapshot save`.

mod common;
mod fake_kube;

use common::{demo, json_of, sextant, stdout_ok, walk};
use fake_kube::{FakeKube, Faults, Recorded};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

/// The binary, hermetic, pointed at `kubeconfig`.
fn live(kubeconfig: &Path) -> assert_cmd::Command {
    let mut c = sextant();
    c.env_remove("KUBECONFIG")
        .env("HOME", "/nonexistent")
        .env(
            "XDG_DATA_HOME",
            std::env::temp_dir().join("sextant-live-tests"),
        )
        .arg("--kubeconfig")
        .arg(kubeconfig);
    c
}

/// The fake server serving the demo incident, a temp dir, and a kubeconfig for it.
fn demo_cluster(faults: Faults) -> (FakeKube, tempfile::TempDir, std::path::PathBuf) {
    let server = FakeKube::start(faults).with_dump(&demo());
    let tmp = tempfile::tempdir().expect("tmp");
    let kc = server.kubeconfig(tmp.path());
    (server, tmp, kc)
}

/// Every request must be a read: GET of a non-secret path, or a self access review POST.
fn assert_all_reads(reqs: &[Recorded]) {
    assert!(!reqs.is_empty(), "no request reached the server");
    for r in reqs {
        let ok = match r.method.as_str() {
            "GET" => !r.path.split('/').any(|s| s == "secrets"),
            "POST" => {
                r.path == "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
                    || r.path == "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews"
            }
            _ => false,
        };
        assert!(ok, "a non-read request left Sextant: {r:?}");
    }
}

fn categories(json: &Value) -> BTreeSet<(String, String)> {
    json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["category"].as_str().unwrap_or("").to_string(),
                f["object"]["name"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[test]
fn live_demo_gives_the_snapshot_findings_with_reads_only() {
    let (server, _tmp, kc) = demo_cluster(Faults::default());
    let live_json: Value =
        serde_json::from_str(&stdout_ok(live(&kc).args(["analyze", "-o", "json"]))).expect("json");
    assert_eq!(live_json["source"]["kind"], "live");
    assert_eq!(live_json["source"]["path_or_context"], "fake");
    let snap = sextant()
        .args(["analyze", "-o", "json", "--snapshot"])
        .arg(demo())
        .output()
        .expect("run");
    let snap_json = json_of(&snap);
    let (l, s) = (categories(&live_json), categories(&snap_json));
    assert!(l.len() >= 10, "live found too little: {l:?}");
    // The dump holds Secrets (the live source never lists them): findings that depend on
    // knowing every Secret name may differ; everything else is the same.
    let differs: Vec<_> = l.symmetric_difference(&s).collect();
    assert!(
        differs
            .iter()
            .all(|(c, _)| c.contains("Secret") || c.contains("Config")),
        "live and snapshot disagree: {differs:?}"
    );
    let reqs = server.requests();
    assert_all_reads(&reqs);
    // Logs were fetched for the crash-looping demo pods, and only as pod log reads.
    assert!(reqs.iter().any(|r| r.path.ends_with("/log")), "{reqs:?}");
}

#[test]
fn request_count_is_bounded_for_500_pods_and_pages_are_followed() {
    let server = FakeKube::start(Faults::default());
    let failing = fake_kube::synthetic(&server, 500);
    let tmp = tempfile::tempdir().expect("tmp");
    let kc = server.kubeconfig(tmp.path());
    // Page size 100: pods take 5 pages.
    let cfg = tmp.path().join("config.toml");
    std::fs::write(&cfg, "[cluster]\npage_size = 100\n").expect("cfg");
    let out = live(&kc)
        .arg("--config")
        .arg(&cfg)
        .args(["analyze", "-o", "json"])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let j = json_of(&out);
    let crash: Vec<_> = j["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["category"] == "CrashLoopBackOff")
        .collect();
    assert_eq!(crash.len(), failing, "one finding per crash-looping pod");
    // The log was read, quoted and redacted.
    let text = serde_json::to_string(&crash).expect("json");
    assert!(text.contains("cannot connect to db"), "{text}");
    assert!(
        !text.contains("hunter2"),
        "a password in a log leaked: {text}"
    );
    let reqs = server.requests();
    assert_all_reads(&reqs);
    let pod_pages = reqs.iter().filter(|r| r.path == "/api/v1/pods").count();
    assert_eq!(pod_pages, 5, "500 pods at limit=100");
    assert!(reqs.iter().any(|r| r.query.contains("continue=100")));
    // Bound: discovery + one request per kind (24) + 4 more pod pages + previous and
    // current log of each failing container.
    let bound = 1 + 24 + 4 + 2 * failing;
    assert!(
        reqs.len() <= bound,
        "{} requests > bound {bound}",
        reqs.len()
    );
    let logs = reqs.iter().filter(|r| r.path.ends_with("/log")).count();
    assert_eq!(
        logs,
        2 * failing,
        "previous + current per failing container only"
    );
}

#[test]
fn forbidden_kind_degrades_and_says_what_to_grant() {
    let faults = Faults {
        forbidden: ["nodes".to_string()].into(),
        ..Faults::default()
    };
    let (_server, _tmp, kc) = demo_cluster(faults);
    let text = stdout_ok(live(&kc).arg("analyze"));
    assert!(text.contains("could not read Node"), "{text}");
    assert!(
        text.contains("grant `list` on nodes cluster-wide"),
        "{text}"
    );
    assert!(
        text.contains("CrashLoopBackOff"),
        "other findings intact: {text}"
    );
}

#[test]
fn server_error_once_is_retried_and_unserved_kinds_are_skipped_quietly() {
    let faults = Faults {
        fail_once: ["deployments".to_string()].into(),
        not_served: ["autoscaling/v2".to_string()].into(),
        ..Faults::default()
    };
    let (server, _tmp, kc) = demo_cluster(faults);
    let text = stdout_ok(live(&kc).arg("analyze"));
    assert!(!text.contains("could not read Deployment"), "{text}");
    assert!(!text.contains("HorizontalPodAutoscaler"), "{text}");
    let reqs = server.requests();
    assert_eq!(
        reqs.iter()
            .filter(|r| r.path == "/apis/apps/v1/deployments")
            .count(),
        2,
        "500 then a retry"
    );
    assert!(
        !reqs
            .iter()
            .any(|r| r.path.contains("horizontalpodautoscalers")),
        "an unserved kind was requested"
    );
}

#[test]
fn slow_kind_times_out_alone() {
    let faults = Faults {
        slow: [("configmaps".to_string(), Duration::from_secs(4))].into(),
        ..Faults::default()
    };
    let (_server, tmp, kc) = demo_cluster(faults);
    let cfg = tmp.path().join("config.toml");
    std::fs::write(&cfg, "[cluster]\nconcurrency = 8\n").expect("cfg");
    let t = Instant::now();
    let out = live(&kc)
        .arg("--config")
        .arg(&cfg)
        .args(["--request-timeout", "1s", "analyze"])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("could not read ConfigMap"), "{text}");
    assert!(text.contains("CrashLoopBackOff"), "{text}");
    assert!(t.elapsed() < Duration::from_secs(30), "{:?}", t.elapsed());
}

#[test]
fn writes_are_refused_before_reaching_the_server() {
    use k8s_openapi::api::core::v1::Pod;
    use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
    let (server, _tmp, kc) = demo_cluster(Faults::default());
    let rt = sextant::runtime::new().expect("runtime");
    rt.block_on(async {
        let target = sextant::cluster::Target {
            kubeconfig: Some(kc),
            ..Default::default()
        };
        let cluster = sextant::cluster::Cluster::connect(&target)
            .await
            .expect("connect");
        let pods: Api<Pod> = Api::namespaced(cluster.client(), "shop");
        // A read goes through.
        pods.list(&Default::default()).await.expect("list");
        server.clear_requests();
        let del = pods.delete("cart", &DeleteParams::default()).await;
        let patch = pods
            .patch(
                "cart",
                &PatchParams::default(),
                &Patch::Merge(serde_json::json!({"metadata": {"labels": {"x": "y"}}})),
            )
            .await;
        let create = pods.create(&PostParams::default(), &Pod::default()).await;
        let secrets: Api<k8s_openapi::api::core::v1::Secret> =
            Api::namespaced(cluster.client(), "shop");
        let secret = secrets.get("db").await;
        for (what, r) in [
            ("delete", del.err()),
            ("patch", patch.err()),
            ("create", create.err()),
            ("get secret", secret.err()),
        ] {
            let e = r.unwrap_or_else(|| panic!("{what} succeeded"));
            assert!(
                sextant::cluster::guard::refused(&e).is_some(),
                "{what}: not refused by the guard: {e}"
            );
        }
    });
    assert_eq!(
        server.requests(),
        vec![],
        "a refused request reached the server"
    );
}

#[test]
fn every_command_only_reads() {
    let (server, tmp, kc) = demo_cluster(Faults::default());
    let analyze = live(&kc)
        .args(["analyze", "-o", "json"])
        .output()
        .expect("run");
    let j = json_of(&analyze);
    let id = j["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["category"] == "Privileged" || f["category"] == "LatestTag")
        .and_then(|f| f["id"].as_str())
        .expect("a finding a policy drafts for")
        .to_string();
    let out_dir = tmp.path().join("drafts");
    for args in [
        vec!["explain".to_string(), id.clone()],
        vec![
            "policy".into(),
            "draft".into(),
            id.clone(),
            "--out".into(),
            out_dir.display().to_string(),
        ],
        vec!["doctor".into()],
        vec![
            "snapshot".into(),
            "save".into(),
            tmp.path().join("dump").display().to_string(),
        ],
    ] {
        let out = live(&kc).args(&args).output().expect("run");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_all_reads(&server.requests());
}

#[test]
fn snapshot_save_round_trips_without_secrets() {
    let (_server, tmp, kc) = demo_cluster(Faults::default());
    let dump = tmp.path().join("dump");
    let out = live(&kc)
        .args(["snapshot", "save"])
        .arg(&dump)
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("saved context fake"));
    // Read back: the same findings as live.
    let live_json = json_of(
        &live(&kc)
            .args(["analyze", "-o", "json"])
            .output()
            .expect("run"),
    );
    let back = sextant()
        .args(["analyze", "-o", "json", "--snapshot"])
        .arg(&dump)
        .output()
        .expect("run");
    assert_eq!(categories(&json_of(&back)), categories(&live_json));
    // Nothing secret on disk.
    let mut all = String::new();
    for f in walk(&dump) {
        all.push_str(&std::fs::read_to_string(&f).unwrap_or_default());
    }
    assert!(
        !all.contains("\"kind\": \"Secret\""),
        "a Secret was written"
    );
    assert!(all.contains("ConfigMapList") || all.contains("PodList"));
    assert!(
        walk(&dump)
            .iter()
            .any(|p| p.extension().is_some_and(|e| e == "log"))
    );
}

#[test]
fn doctor_reports_reads_writes_and_gaps() {
    let faults = Faults {
        forbidden: ["nodes".to_string()].into(),
        can_write: true,
        ..Faults::default()
    };
    let (server, _tmp, kc) = demo_cluster(faults);
    let out = live(&kc).arg("doctor").output().expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("context      fake"), "{text}");
    assert!(text.contains("v1.31.0-fake"), "{text}");
    assert!(text.contains("23/24 kinds"), "{text}");
    assert!(
        text.contains("cannot list Node (grant `list` on nodes cluster-wide)"),
        "{text}"
    );
    assert!(
        text.contains("WARNING: these credentials can change the cluster"),
        "{text}"
    );
    assert!(text.contains("model        not configured"), "{text}");
    assert_all_reads(&server.requests());
}

#[test]
fn kubeconfig_edge_cases() {
    let server = FakeKube::start(Faults::default()).with_dump(&demo());
    let tmp = tempfile::tempdir().expect("tmp");
    // Several files in KUBECONFIG: the first names another current context, the second
    // holds the fake one; --context picks it from the merge.
    let a = tmp.path().join("a");
    let b = tmp.path().join("b");
    std::fs::write(
        &a,
        fake_kube::kubeconfig_text("http://127.0.0.1:1", "other"),
    )
    .expect("a");
    std::fs::write(&b, fake_kube::kubeconfig_text(&server.url(), "fake")).expect("b");
    let joined = std::env::join_paths([&a, &b]).expect("join");
    let mut c = sextant();
    let out = c
        .env("KUBECONFIG", &joined)
        .env("HOME", "/nonexistent")
        .args(["--context", "fake", "analyze", "-o", "json"])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(json_of(&out)["source"]["path_or_context"], "fake");

    // A missing context: exit 2, one line naming it and what exists.
    let out = sextant()
        .env("KUBECONFIG", &joined)
        .env("HOME", "/nonexistent")
        .args(["--context", "nope", "analyze"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("--context nope") && err.contains("other, fake"),
        "{err}"
    );

    // A missing kubeconfig file, and none at all.
    let out = sextant()
        .args(["--kubeconfig", "/nonexistent/kc", "analyze"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--kubeconfig /nonexistent/kc"));

    // An unreachable server: a clear error within the timeout, no hang.
    let t = Instant::now();
    let out = sextant()
        .env("KUBECONFIG", &a)
        .env("HOME", "/nonexistent")
        .args(["--request-timeout", "2s", "analyze"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot reach the API server http://127.0.0.1:1"),
        "{err}"
    );
    assert!(t.elapsed() < Duration::from_secs(20), "{:?}", t.elapsed());

    // A server that accepts and never answers: the request timeout ends it.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", silent.local_addr().expect("addr"));
    let hold = std::thread::spawn(move || {
        let conns: Vec<_> = silent.incoming().take(3).collect();
        std::thread::sleep(Duration::from_secs(15));
        drop(conns);
    });
    let c = tmp.path().join("c");
    std::fs::write(&c, fake_kube::kubeconfig_text(&url, "silent")).expect("c");
    let t = Instant::now();
    let out = sextant()
        .args(["--request-timeout", "1s", "--kubeconfig"])
        .arg(&c)
        .arg("analyze")
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // `--request-timeout` is the total of a request, retries included (three 1 s attempts
    // and their backoff would be 3.6 s).
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    drop(hold);
}

/// If kubectl is installed, it must read the fake server too (keeps the fake faithful).
#[test]
fn kubectl_reads_the_fake_server_when_installed() {
    let Ok(kubectl) = which("kubectl") else {
        eprintln!("kubectl not installed: fake-server fidelity check not run");
        return;
    };
    let (_server, _tmp, kc) = demo_cluster(Faults::default());
    let out = std::process::Command::new(kubectl)
        .arg("--kubeconfig")
        .arg(&kc)
        .args(["get", "pods", "-A", "-o", "json"])
        .output()
        .expect("kubectl");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(v["items"].as_array().is_some_and(|a| !a.is_empty()));
}

fn which(bin: &str) -> Result<std::path::PathBuf, ()> {
    std::env::var_os("PATH")
        .and_then(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join(bin))
                .find(|p| p.is_file())
        })
        .ok_or(())
}

/// deploy/rbac.yaml grants exactly what the collector reads: every kind of the table with
/// get/list/watch, pods/log, the self reviews — and no Secrets, no write verbs.
#[test]
fn rbac_manifest_grants_exactly_the_read_surface() {
    let text = std::fs::read_to_string(common::repo().join("deploy/rbac.yaml")).expect("rbac");
    let docs: Vec<Value> = text
        .split("\n---\n")
        .map(|d| serde_saphyr::from_str::<Value>(d).expect("yaml"))
        .collect();
    let role = docs
        .iter()
        .find(|d| d["kind"] == "ClusterRole")
        .expect("ClusterRole");
    let mut granted = BTreeSet::new();
    for rule in role["rules"].as_array().expect("rules") {
        let verbs: BTreeSet<&str> = rule["verbs"]
            .as_array()
            .expect("verbs")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        for g in rule["apiGroups"].as_array().expect("groups") {
            for r in rule["resources"].as_array().expect("resources") {
                let (g, r) = (g.as_str().unwrap_or(""), r.as_str().unwrap_or(""));
                assert_ne!(r, "secrets", "Secrets granted");
                assert!(!r.contains('*') && !g.contains('*'), "wildcard in {rule}");
                let expected: BTreeSet<&str> = match r {
                    "pods/log" => ["get"].into(),
                    "selfsubjectaccessreviews" | "selfsubjectrulesreviews" => ["create"].into(),
                    _ => ["get", "list", "watch"].into(),
                };
                assert_eq!(verbs, expected, "{g}/{r}");
                granted.insert((g.to_string(), r.to_string()));
            }
        }
    }
    let mut wanted: BTreeSet<(String, String)> = sextant::cluster::kinds::KINDS
        .iter()
        .map(|k| (k.group.to_string(), k.plural.to_string()))
        .collect();
    wanted.insert((String::new(), "pods/log".into()));
    for r in ["selfsubjectaccessreviews", "selfsubjectrulesreviews"] {
        wanted.insert(("authorization.k8s.io".into(), r.into()));
    }
    assert_eq!(granted, wanted);
}

/// `analyze --watch`: the first report, then a line when a finding appears and when one
/// resolves, across watch streams that the server ends every 1.5 s (the watcher resumes).
/// `sextant analyze --watch` against a kubeconfig, its stdout lines on a channel; killed
/// when dropped.
struct Watch {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
}

impl Watch {
    fn start(kc: &Path, tmp: &Path, extra: &[&str]) -> Watch {
        use std::io::BufRead;
        let bin = assert_cmd::cargo::cargo_bin("sextant");
        let mut child = std::process::Command::new(bin)
            .env_remove("KUBECONFIG")
            .env_remove("OPENAI_API_KEY")
            .env("HOME", "/nonexistent")
            .env("XDG_CONFIG_HOME", "/nonexistent")
            .env("NO_COLOR", "1")
            .arg("--kubeconfig")
            .arg(kc)
            .args(["analyze", "--watch", "--watch-interval", "1s"])
            .args(extra)
            .stdout(std::process::Stdio::piped())
            .stderr(std::fs::File::create(tmp.join("stderr")).expect("stderr file"))
            .spawn()
            .expect("spawn");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = std::sync::mpsc::channel::<String>();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Watch { child, lines }
    }

    /// Collect lines into `seen` until one contains `needle` (true) or 30 s pass (false).
    fn wait_for(&self, needle: &str, seen: &mut Vec<String>) -> bool {
        let until = Instant::now() + Duration::from_secs(30);
        while Instant::now() < until {
            if let Ok(l) = self.lines.recv_timeout(Duration::from_millis(200)) {
                let hit = l.contains(needle);
                seen.push(l);
                if hit {
                    return true;
                }
            }
        }
        false
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A container that starts crash-looping during the watch gets its log fetched: the new
/// finding quotes it, as the first collection would have.
#[test]
fn watch_fetches_the_logs_of_containers_that_fail_later() {
    let server = FakeKube::start(Faults::default());
    fake_kube::synthetic(&server, 20);
    let tmp = tempfile::tempdir().expect("tmp");
    let kc = server.kubeconfig(tmp.path());
    let watch = Watch::start(
        &kc,
        tmp.path(),
        &["-o", "json", "--category", "CrashLoopBackOff"],
    );
    let mut seen = Vec::new();
    // JSON mode prints no banner: the first change tells the watch is up. Give it time.
    std::thread::sleep(Duration::from_secs(2));
    server.add_log(
        "ns3",
        "latecomer",
        "main",
        "booting\npanic: open /data/ledger.db: read-only file system\n",
    );
    let crashing = serde_json::json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "latecomer", "namespace": "ns3", "uid": "uid-late"},
        "spec": {"containers": [{"name": "main", "image": "app:1"}]},
        "status": {"phase": "Running", "containerStatuses": [{"name": "main", "ready": false, "restartCount": 4,
            "image": "app:1", "imageID": "", "started": false,
            "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off"}},
            "lastState": {"terminated": {"exitCode": 2, "reason": "Error", "startedAt": "2026-11-24T10:00:00Z", "finishedAt": "2026-11-24T10:00:05Z"}}}]}});
    server.push_change("pods", "ADDED", crashing);
    let found = watch.wait_for("latecomer", &mut seen);
    drop(watch);
    let all = seen.join("\n");
    assert!(found, "no change line for the new crash:\n{all}");
    let line = seen.iter().find(|l| l.contains("latecomer")).expect("line");
    let change: Value = serde_json::from_str(line).expect("json change line");
    assert_eq!(change["change"], "new");
    let logs: Vec<&str> = change["finding"]["evidence"]
        .as_array()
        .expect("evidence")
        .iter()
        .filter(|e| e["source"] == "log")
        .filter_map(|e| e["text"].as_str())
        .collect();
    assert!(
        logs.iter().any(|t| t.contains("read-only file system")),
        "the new crash's log is quoted: {change}"
    );
    let reqs = server.requests();
    assert_all_reads(&reqs);
    assert!(
        reqs.iter()
            .any(|r| r.path.ends_with("/namespaces/ns3/pods/latecomer/log")),
        "{reqs:?}"
    );
}

#[test]
fn watch_prints_new_and_resolved_findings() {
    let server = FakeKube::start(Faults::default());
    fake_kube::synthetic(&server, 100);
    let tmp = tempfile::tempdir().expect("tmp");
    let kc = server.kubeconfig(tmp.path());
    let watch = Watch::start(
        &kc,
        tmp.path(),
        &["--category", "CrashLoopBackOff,ImagePullBackOff"],
    );
    let wait_for = |needle: &str, seen: &mut Vec<String>| watch.wait_for(needle, seen);
    let mut seen = Vec::new();
    let ok = wait_for("watching pods and events", &mut seen);
    let crash_before = seen
        .iter()
        .filter(|l| l.contains("CrashLoopBackOff"))
        .count();
    // ns0/app0-7 is crash-looping in the fixture: heal it. And a new pod cannot pull.
    let healed = serde_json::json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "app0-7", "namespace": "ns2", "uid": "uid-7", "labels": {"app": "app0"}},
        "spec": {"containers": [{"name": "main", "image": "app:1"}]},
        "status": {"phase": "Running", "containerStatuses": [{"name": "main", "ready": true, "restartCount": 0,
            "image": "app:1", "imageID": "", "started": true, "state": {"running": {"startedAt": "2026-11-24T10:00:00Z"}}}]}});
    let broken = serde_json::json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "newcomer", "namespace": "ns1", "uid": "uid-new"},
        "spec": {"containers": [{"name": "main", "image": "registry.invalid/app:9"}]},
        "status": {"phase": "Pending", "containerStatuses": [{"name": "main", "ready": false, "restartCount": 0,
            "image": "registry.invalid/app:9", "imageID": "", "started": false,
            "state": {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image"}}}]}});
    let mut resolved = false;
    let mut new = false;
    if ok {
        server.push_change("pods", "MODIFIED", healed);
        resolved = wait_for("RESOLVED", &mut seen);
        // After at least one server-side disconnect, the watch still delivers.
        std::thread::sleep(Duration::from_secs(2));
        server.push_change("pods", "ADDED", broken);
        new = wait_for("newcomer", &mut seen);
    }
    drop(watch);
    let all = seen.join("\n")
        + "\n--- stderr:\n"
        + &std::fs::read_to_string(tmp.path().join("stderr")).unwrap_or_default();
    assert!(ok, "no watch banner:\n{all}");
    assert!(crash_before >= 1, "{all}");
    assert!(resolved, "no RESOLVED line:\n{all}");
    assert!(
        all.contains("- RESOLVED") && all.contains("app0-7"),
        "{all}"
    );
    assert!(new, "no NEW line:\n{all}");
    assert!(
        all.contains("+ NEW") && all.contains("ImagePullBackOff"),
        "{all}"
    );
    let reqs = server.requests();
    assert_all_reads(&reqs);
    assert!(
        reqs.iter()
            .filter(|r| r.query.contains("watch=true"))
            .count()
            >= 3,
        "{reqs:?}"
    );
}

/// A server that ends every watch at once gets a few watch requests a second from us, not
/// thousands: watch re-establishment has a floor whatever the server does.
#[test]
fn watches_a_server_ends_at_once_are_not_hammered() {
    let server = FakeKube::start(Faults {
        watch_ends_at_once: true,
        ..Faults::default()
    });
    fake_kube::synthetic(&server, 10);
    let tmp = tempfile::tempdir().expect("tmp");
    let kc = server.kubeconfig(tmp.path());
    let watch = Watch::start(&kc, tmp.path(), &[]);
    let mut seen = Vec::new();
    let ok = watch.wait_for("watching pods and events", &mut seen);
    let watches = || {
        server
            .requests()
            .iter()
            .filter(|r| r.query.contains("watch=true"))
            .count()
    };
    let before = watches();
    std::thread::sleep(Duration::from_secs(4));
    let during = watches() - before;
    drop(watch);
    assert!(ok, "no watch banner: {seen:?}");
    // Two watched paths, one request per path every 0.5 s at most: about 16 in 4 s.
    assert!(during <= 24, "{during} watch requests in 4 s");
    assert!(during >= 2, "the watch keeps trying: {during}");
    assert_all_reads(&server.requests());
}

#[test]
fn the_audit_log_lists_every_cluster_request() {
    let (server, tmp, kc) = demo_cluster(Faults::default());
    let log = tmp.path().join("audit.jsonl");
    stdout_ok(live(&kc).arg("--audit-log").arg(&log).arg("analyze"));
    let lines: Vec<Value> = std::fs::read_to_string(&log)
        .expect("audit log")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    let cluster: Vec<&Value> = lines
        .iter()
        .filter(|l| l["kind"] == "cluster_request")
        .collect();
    assert_eq!(
        cluster.len(),
        server.requests().len(),
        "one audit line per request"
    );
    assert!(
        cluster
            .iter()
            .all(|l| l["allowed"] == true && l["method"] == "GET")
    );
}

/// `index build` against a live cluster indexes its events, logs and findings (redacted),
/// with reads only; the same search finds them afterwards.
#[test]
fn index_build_reads_the_live_cluster_too() {
    let (server, tmp, kc) = demo_cluster(Faults::default());
    let idx = tmp.path().join("index");
    let out = stdout_ok(live(&kc).args(["index", "build", "--index-dir"]).arg(&idx));
    assert!(out.contains("context:fake: "), "{out}");
    let line = out
        .lines()
        .find(|l| l.starts_with("context:fake: "))
        .expect("cluster line");
    assert!(!line.contains(": 0 events"), "{line}");
    assert_all_reads(&server.requests());
    let hits = stdout_ok(
        live(&kc)
            .args([
                "index",
                "search",
                "OutOfMemoryError",
                "--kind",
                "log",
                "--index-dir",
            ])
            .arg(&idx),
    );
    assert!(hits.contains("ledger"), "{hits}");
    let all = std::fs::read_dir(&idx).map(|d| d.count()).unwrap_or(0);
    assert!(all > 0);
}

/// `-n` naming a namespace the server does not have is exit 2 with a suggestion, never an
/// empty all-clear; one it has (even empty) is read.
#[test]
fn a_namespace_the_server_does_not_have_is_an_error() {
    let (server, _tmp, kc) = demo_cluster(Faults::default());
    let ns = |name: &str| serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
    server.add(
        "namespaces",
        vec![ns("shop"), ns("payments"), ns("data"), ns("empty")],
    );
    let out = live(&kc)
        .args(["analyze", "-n", "Shop"])
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("no namespace `Shop` on the server (did you mean `shop`?)"),
        "{err}"
    );
    let out = live(&kc)
        .args(["analyze", "-n", "empty"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
}
