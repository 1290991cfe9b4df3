//! The snapshot reader against the layouts it must read, and the ways dumps go wrong.

mod common;

use common::*;
use sextant::findings::Category as C;

#[test]
fn reads_the_cluster_info_dump_layout() {
    let st = load(&demo());
    assert_eq!(st.nodes.len(), 4);
    assert!(st.pods.len() >= 25, "{}", st.pods.len());
    assert!(st.events.len() >= 25, "{}", st.events.len());
    assert!(
        !st.deployments.is_empty() && !st.replica_sets.is_empty() && !st.daemon_sets.is_empty()
    );
    assert!(!st.stateful_sets.is_empty() && !st.jobs.is_empty() && !st.cron_jobs.is_empty());
    assert!(
        !st.pvcs.is_empty()
            && !st.ingresses.is_empty()
            && !st.hpas.is_empty()
            && !st.pdbs.is_empty()
    );
    assert!(st.logs.has_pod("shop", "cart-6d9f7c5b8-x2k4p"));
    assert!(
        st.report.skipped_files.is_empty(),
        "{:?}",
        st.report.skipped_files
    );
    assert!(
        st.report.skipped_objects.is_empty(),
        "{:?}",
        st.report.skipped_objects
    );
    assert_eq!(
        st.observed_at.map(|t| t.to_string()).as_deref(),
        Some("2026-11-24T08:59:00Z")
    );
}

#[test]
fn reads_a_kubectl_get_multi_document_yaml_and_a_list() {
    let yaml = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata: {name: a, namespace: x}\n  spec: {selector: {app: a}}\n- apiVersion: apps/v1\n  kind: StatefulSet\n  metadata: {name: db, namespace: x}\n  spec: {selector: {matchLabels: {app: db}}, serviceName: db, template: {metadata: {labels: {app: db}}, spec: {containers: [{name: db, image: 'pg:16'}]}}}\n---\napiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c, namespace: x}\nspec: {schedule: '* * * * *', jobTemplate: {spec: {template: {spec: {containers: [{name: c, image: 'c:1'}], restartPolicy: Never}}}}}\n---\n# a comment-only document\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: np, namespace: x}\nspec: {podSelector: {}}\n";
    let dir = write_tree(&[("state.yaml", yaml)]);
    let st = load(dir.path());
    assert_eq!(st.services.len(), 1);
    assert_eq!(st.stateful_sets.len(), 1);
    assert_eq!(st.cron_jobs.len(), 1);
    assert_eq!(st.network_policies.len(), 1);
    // One file can also be the whole snapshot.
    let st = load(&dir.path().join("state.yaml"));
    assert_eq!(st.services.len(), 1);
}

#[test]
fn reads_old_capitalised_dumps() {
    let pods = r#"{"Items": [{"ObjectMeta": {"Name": "api-1", "Namespace": "legacy", "UID": "u1", "Labels": {"App": "api"}},
        "Spec": {"Containers": [{"Name": "api", "Image": "api:0.9", "Resources": {"Limits": {"memory": "64Mi"}}}]},
        "Status": {"Phase": "Running", "ContainerStatuses": [{"Name": "api", "Image": "api:0.9", "ImageID": "", "Ready": false,
            "RestartCount": 31, "State": {"Waiting": {"Reason": "CrashLoopBackOff"}},
            "LastState": {"Terminated": {"ExitCode": 2, "Reason": "Error", "FinishedAt": "2018-03-01T10:00:00Z"}}}]}}]}"#;
    let events = r#"{"Items": [{"ObjectMeta": {"Name": "api-1.1", "Namespace": "legacy"},
        "InvolvedObject": {"Kind": "Pod", "Name": "api-1", "Namespace": "legacy", "UID": "u1"},
        "Reason": "BackOff", "Message": "Back-off restarting failed container", "Type": "Warning", "Count": 120,
        "LastTimestamp": "2018-03-01T10:01:00Z"}]}"#;
    let dir = write_tree(&[("legacy/pods.json", pods), ("legacy/events.json", events)]);
    let st = load(dir.path());
    assert_eq!(st.pods.len(), 1);
    assert_eq!(st.events.len(), 1);
    assert_eq!(
        st.pods[0]
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get("App"))
            .map(String::as_str),
        Some("api")
    );
    let f = sextant::analyzers::analyze(&st);
    let c = find(&f, C::CrashLoopBackOff);
    assert!(
        c.evidence
            .iter()
            .any(|e| e.text.contains("BackOff") && e.text.contains("×120")),
        "{:#?}",
        c.evidence
    );
}

#[test]
fn a_truncated_file_is_reported_and_the_rest_loads() {
    let good = std::fs::read_to_string(demo().join("shop/pods.json")).unwrap();
    let truncated = &good[..good.len() / 2];
    let dir = write_tree(&[
        ("shop/pods.json", good.as_str()),
        ("payments/pods.json", truncated),
        ("broken.yaml", "a: [unclosed\n  b: {"),
    ]);
    let st = load(dir.path());
    assert!(!st.pods.is_empty());
    let skipped: Vec<&String> = st.report.skipped_files.iter().map(|(f, _)| f).collect();
    assert!(
        skipped.iter().any(|f| f.ends_with("payments/pods.json")),
        "{skipped:?}"
    );
    assert!(
        skipped.iter().any(|f| f.ends_with("broken.yaml")),
        "{skipped:?}"
    );
    let reason = &st
        .report
        .skipped_files
        .iter()
        .find(|(f, _)| f.ends_with("payments/pods.json"))
        .unwrap()
        .1;
    assert!(reason.contains("truncated"), "{reason}");
}

#[test]
fn invalid_utf8_in_logs_is_survivable() {
    let dir = write_tree(&[("ns/pods.yaml", crashing_pod_ns_p().as_str())]);
    let mut log = b"==== START logs for container c of pod ns/p ====\n".to_vec();
    log.extend_from_slice(b"ok \xff\xfe line\npanic: bad \xc3\x28 input\n");
    log.extend_from_slice(b"==== END logs for container c of pod ns/p ====\n");
    std::fs::create_dir_all(dir.path().join("ns/p")).unwrap();
    std::fs::write(dir.path().join("ns/p/logs.txt"), log).unwrap();
    let f = sextant::analyzers::analyze(&load(dir.path()));
    let c = find(&f, C::CrashLoopBackOff);
    assert!(
        c.evidence.iter().any(|e| e.text.contains("panic: bad")),
        "{:#?}",
        c.evidence
    );
}

#[test]
fn secrets_in_a_dump_are_never_loaded() {
    let secret = r#"{"kind": "SecretList", "apiVersion": "v1", "items": [{"kind": "Secret", "apiVersion": "v1", "metadata": {"name": "db", "namespace": "a"}, "data": {"password": "aHVudGVyMmh1bnRlcjI="}}]}"#;
    let dir = write_tree(&[
        ("a/secrets.json", secret),
        (
            "a/services.json",
            r#"{"kind":"ServiceList","items":[{"metadata":{"name":"s","namespace":"a"},"spec":{}}]}"#,
        ),
    ]);
    let st = load(dir.path());
    assert_eq!(st.report.secrets_skipped, 1);
    let out = sextant()
        .args(["analyze", "-o", "json", "--snapshot"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stdout.contains("aHVudGVy") && !stderr.contains("aHVudGVy"));
    assert_eq!(
        stderr
            .matches("Secret object(s) in the snapshot were skipped")
            .count(),
        1,
        "{stderr}"
    );
}

#[test]
fn must_gather_and_insights_log_layouts_are_found() {
    let dir = write_tree(&[
        (
            "namespaces/mon/pods/prom-0/containers/prom/logs/last-50-lines.log",
            "level=error msg=\"boom\"\n",
        ),
        ("config/pod/auth/logs/oauth-1/errors.log", "E0101 failed\n"),
        (
            "x.json",
            r#"{"kind":"Namespace","metadata":{"name":"mon"}}"#,
        ),
    ]);
    let st = load(dir.path());
    assert!(st.logs.excerpt("mon", "prom-0", "prom", false).is_some());
    assert!(
        st.logs
            .excerpt("auth", "oauth-1", "anything", false)
            .is_some()
    );
}

/// A snapshot folder holding one running pod, `ns/pods.yaml`.
fn one_running_pod() -> tempfile::TempDir {
    common::write_tree(&[(
        "ns/pods.yaml",
        &common::pod(
            "ns",
            "web-1",
            "app: web",
            &common::spec("web", "nginx:1.27"),
            "  phase: Running",
        ),
    )])
}

/// A FIFO named like a dump file is never opened (it would block forever): in a snapshot
/// folder it is skipped with a note; given as the snapshot itself it is one clear line, exit 2.
#[test]
fn fifos_are_never_read() {
    let dir = one_running_pod();
    let fifo = dir.path().join("ns/deployments.json");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success(), "mkfifo failed");
    let out = common::sextant()
        .args(["analyze", "--snapshot"])
        .arg(dir.path())
        .timeout(std::time::Duration::from_secs(20))
        .output()
        .expect("run");
    assert!(out.status.code().is_some(), "killed: it hung on the FIFO");
    let alone = common::sextant()
        .args(["analyze", "--snapshot"])
        .arg(&fifo)
        .timeout(std::time::Duration::from_secs(20))
        .output()
        .expect("run");
    assert_eq!(alone.status.code(), Some(2), "{alone:?}");
    let err = String::from_utf8_lossy(&alone.stderr);
    assert!(err.contains("not a regular file"), "{err}");
}

/// A support bundle or must-gather passed still packed (`--snapshot bundle.tar.gz`) is one line
/// that says to extract it, exit 2, never a YAML error about byte 0x1f.
#[test]
fn a_packed_capture_says_extract_it_first() {
    let dir = one_running_pod();
    for (flags, name, format) in [
        ("czf", "bundle.tar.gz", "gzip"),
        ("cf", "bundle.tar", "tar"),
    ] {
        let packed = dir.path().join(name);
        let made = std::process::Command::new("tar")
            .arg(flags)
            .arg(&packed)
            .arg("-C")
            .arg(dir.path())
            .arg("ns")
            .status()
            .expect("tar runs");
        assert!(made.success(), "tar failed");
        let out = common::sextant()
            .args(["analyze", "--snapshot"])
            .arg(&packed)
            .timeout(std::time::Duration::from_secs(20))
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(2), "{out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&format!("packed as {format}")) && err.contains("extract it"),
            "{err}"
        );
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
}

/// A JSON list of tens of megabytes is read item by item (never held whole): in kubectl's key
/// order (`items` before `kind`, items without `kind`, the kind from the file name), in the API
/// server's order (`kind` first), and truncated (reported, the items before the cut kept).
#[test]
fn large_json_lists_are_streamed_item_by_item() {
    let pod = |i: usize, crash: bool| {
        let state = if crash {
            r#"{"waiting":{"reason":"CrashLoopBackOff","message":"back-off restarting failed container"}}"#
        } else {
            r#"{"running":{"startedAt":"2026-11-30T08:00:00Z"}}"#
        };
        format!(
            r#"{{"apiVersion":"v1","metadata":{{"name":"web-{i}","namespace":"ns-{}","uid":"u-{i}","labels":{{"app":"web-{i}","padding":"{}"}}}},"spec":{{"containers":[{{"name":"app","image":"registry.example.com/web:1.{}"}}]}},"status":{{"phase":"Running","containerStatuses":[{{"name":"app","ready":{},"restartCount":{},"image":"registry.example.com/web:1","imageID":"","state":{state},"lastState":{{"terminated":{{"exitCode":1,"reason":"Error","finishedAt":"2026-11-30T08:59:00Z"}}}}}}]}}}}"#,
            i % 50,
            "x".repeat(5600),
            i % 7,
            !crash,
            if crash { 9 } else { 0 }
        )
    };
    let n = 6_000;
    let items: Vec<String> = (0..n).map(|i| pod(i, i == 17)).collect();
    let body = items.join(",");
    assert!(body.len() > 32 * 1024 * 1024, "{}", body.len());
    let dir = tempfile::tempdir().expect("tmp");
    for (name, text) in [
        (
            "kubectl/pods.json",
            format!(r#"{{"apiVersion":"v1","items":[{body}],"kind":"List","metadata":{{}}}}"#),
        ),
        (
            "api/all.json",
            format!(r#"{{"kind":"PodList","apiVersion":"v1","metadata":{{}},"items":[{body}]}}"#),
        ),
    ] {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, text).expect("write");
        let st = load(&path);
        assert_eq!(st.pods.len(), n, "{name}");
        assert!(
            st.report.skipped_files.is_empty(),
            "{:?}",
            st.report.skipped_files
        );
        let findings = sextant::analyzers::analyze(&st);
        assert!(
            findings
                .iter()
                .any(|f| f.object.name == "web-17" && f.category == C::CrashLoopBackOff),
            "{name}"
        );
    }
    // Cut in its last item: the file is reported, the items before the cut are kept.
    let whole = std::fs::read(dir.path().join("api/all.json")).expect("read");
    let cut = dir.path().join("cut/pods.json");
    std::fs::create_dir_all(cut.parent().expect("parent")).expect("mkdir");
    std::fs::write(&cut, &whole[..whole.len() - 1000]).expect("write");
    let st = sextant::source::snapshot::load(&cut);
    match st {
        Ok(st) => {
            assert!(!st.report.skipped_files.is_empty());
            assert!(
                st.pods.len() > n / 3 && st.pods.len() < n,
                "{}",
                st.pods.len()
            );
        }
        Err(e) => panic!("a truncated large list still loads what it holds: {e}"),
    }
}

/// Files too large to read are one line each, and the rest of the dump loads: YAML over
/// 256 MiB, JSON over 4 GiB (sparse files: nothing is written).
#[test]
fn oversized_object_files_are_refused_with_one_line() {
    let dir = common::write_tree(&[(
        "ok/pods.yaml",
        &common::pod(
            "shop",
            "web",
            "app: web",
            &common::spec("web", "nginx:1"),
            "  phase: Running",
        ),
    )]);
    for (name, bytes) in [("big.yaml", 300u64 << 20), ("huge/pods.json", 5u64 << 30)] {
        let p = dir.path().join(name);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::File::create(&p)
            .and_then(|f| f.set_len(bytes))
            .expect("sparse file");
    }
    let st = load(dir.path());
    assert_eq!(st.pods.len(), 1);
    let skipped: Vec<String> = st
        .report
        .skipped_files
        .iter()
        .map(|(f, why)| format!("{f}: {why}"))
        .collect();
    assert!(
        skipped
            .iter()
            .any(|s| s.contains("big.yaml") && s.contains("over the 256 MiB limit")),
        "{skipped:?}"
    );
    assert!(
        skipped
            .iter()
            .any(|s| s.contains("pods.json") && s.contains("over the 4096 MiB limit")),
        "{skipped:?}"
    );
}

/// The same object read from two files (a must-gather lists each pod in its namespace and again
/// beside its logs; bundles repeat events) is one object, whatever its kind; two objects that
/// share a name in different namespaces stay two.
#[test]
fn an_object_read_twice_is_one_object_of_every_kind() {
    let objects = "\
apiVersion: v1
kind: ReplicationController
metadata: {name: legacy, namespace: shop}
spec: {replicas: 1, selector: {app: legacy}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: shop}
data: {mode: fast}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: other}
data: {mode: slow}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web, namespace: shop}
spec: {minAvailable: 1}
---
apiVersion: v1
kind: Event
metadata: {name: web-1.17f, namespace: shop}
involvedObject: {kind: Pod, name: web-1, namespace: shop}
reason: BackOff
message: Back-off restarting failed container
type: Warning
";
    let dir = write_tree(&[("a/all.yaml", objects), ("b/again.yaml", objects)]);
    let st = sextant::source::snapshot::load(dir.path()).expect("loads");
    assert_eq!(st.replication_controllers.len(), 1);
    assert_eq!(st.config_maps.len(), 2, "one per namespace");
    assert_eq!(st.pdbs.len(), 1);
    assert_eq!(st.events.len(), 1);
}
