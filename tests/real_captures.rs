//! Real captures written by others (tests/data/real-dumps/PROVENANCE.md, with hand-made
//! labels): every capture format is read faithfully, current problems are found, history and
//! healthy platforms raise nothing at warning or critical. And one small capture per format,
//! built here, for what the real ones do not show.

mod common;

use common::{data, load, write_tree};
use sextant::analyzers::analyze;
use sextant::findings::{Category, Finding, Severity};

fn findings(rel: &str) -> Vec<Finding> {
    analyze(&load(&data(rel)))
}

fn alarms(f: &[Finding]) -> Vec<&Finding> {
    f.iter().filter(|f| f.severity > Severity::Info).collect()
}

/// Alarms that are not Pod Security Standards hygiene.
fn operational(f: &[Finding]) -> Vec<String> {
    alarms(f)
        .into_iter()
        .filter(|f| !f.category.is_hygiene())
        .map(|f| format!("{} {} {}", f.severity, f.category, f.title))
        .collect()
}

#[test]
fn support_bundle_after_a_node_restart_is_history_in_one_finding() {
    let state = load(&data("real-dumps/troubleshoot-k3s"));
    // Logs at cluster-resources/pods/logs/NS/POD/C[-previous].log are bound to their container.
    let ex = state
        .logs
        .excerpt("kube-system", "coredns-b96499967-tncf4", "coredns", true)
        .expect("coredns previous log read");
    assert!(ex.previous && ex.lines_seen > 0);
    let f = analyze(&state);
    assert!(operational(&f).is_empty(), "{:#?}", operational(&f));
    assert!(alarms(&f).is_empty(), "no PSS violation at warning either");
    let node: Vec<&Finding> = f
        .iter()
        .filter(|f| f.object.kind == "Node" && f.title.contains("restarted"))
        .collect();
    assert_eq!(node.len(), 1, "one cause, one finding: {f:#?}");
    assert!(
        node[0].title.contains("6 containers in 4 pods"),
        "{}",
        node[0].title
    );
    // Containers that went down with the node are not reported one by one.
    assert!(
        !f.iter().any(|f| f.object.name.starts_with("coredns")),
        "{f:#?}"
    );
    // The crash-at-boot restarts are history, in the past tense.
    let lpp = f
        .iter()
        .find(|f| f.object.name.starts_with("local-path-provisioner"))
        .expect("local-path-provisioner history");
    assert_eq!(lpp.severity, Severity::Info);
    assert!(lpp.explanation.contains("history"), "{}", lpp.explanation);
    assert!(
        !f.iter()
            .any(|f| f.explanation.contains("No log was captured"))
    );
}

#[test]
fn kurl_bundle_finds_the_broken_velero_with_its_own_log_line() {
    let f = findings("real-dumps/sbctl-kurl");
    let ops = operational(&f);
    assert_eq!(ops.len(), 1, "{ops:#?}");
    let velero = alarms(&f)
        .into_iter()
        .find(|f| f.category == Category::CrashLoopBackOff)
        .expect("velero crash loop");
    assert_eq!(velero.object.namespace.as_deref(), Some("velero"));
    assert!(
        velero.explanation.contains("server-junk"),
        "{}",
        velero.explanation
    );
    let log = velero
        .evidence
        .iter()
        .find(|e| e.text.contains("server-junk"))
        .expect("decisive log line");
    assert!(log.text.contains("[velero previous]"), "{}", log.text);
    // longhorn-ui is scaled to 0: its Service has no endpoints by design.
    let frontend = f
        .iter()
        .find(|f| f.object.name == "longhorn-frontend")
        .expect("longhorn-frontend");
    assert_eq!(frontend.severity, Severity::Info);
    assert!(frontend.title.contains("scaled to 0"), "{}", frontend.title);
    // Install-time restarts of the network plugin are history.
    let weave = f
        .iter()
        .find(|f| f.owner.as_ref().is_some_and(|o| o.name == "weave-net"))
        .expect("weave-net history");
    assert_eq!(weave.severity, Severity::Info);
}

#[test]
fn healthy_openshift_must_gather_raises_only_its_failed_install_plan() {
    let state = load(&data("real-dumps/must-gather-metal"));
    // must-gather keeps each container's log in pods/POD/C/C/logs/: bound to that container.
    let pod = "etcd-master-0.ci-ln-xj8t7ct-86010.origin-ci-int-aws.dev.rhcloud.com";
    let etcd = state
        .logs
        .excerpt("openshift-etcd", pod, "etcd", false)
        .expect("etcd log");
    let setup = state
        .logs
        .excerpt("openshift-etcd", pod, "setup", false)
        .expect("setup log");
    assert_ne!(etcd.tail, setup.tail, "each container reads its own file");
    assert!(
        setup
            .tail
            .iter()
            .any(|l| l.text.contains("Fixing etcd log permissions")),
        "{:?}",
        setup.tail
    );
    let f = analyze(&state);
    let ops = operational(&f);
    assert_eq!(ops.len(), 1, "{ops:#?}");
    let plan = alarms(&f)[0];
    assert_eq!(plan.category, Category::ConditionFailing);
    assert_eq!(plan.object.kind, "InstallPlan");
    // The Subscription's InstallPlanFailed is the same cause: not reported twice.
    assert!(!f.iter().any(|f| f.object.kind == "Subscription"), "{f:#?}");
    // Install-time probe failures of pods that are Ready now are not findings at all.
    assert!(
        !f.iter().any(|f| f.category == Category::ProbeFailure),
        "{f:#?}"
    );
    // A Service of a feature that is off on this platform is not an outage.
    let mac = f
        .iter()
        .find(|f| f.object.name == "machine-api-controllers")
        .expect("machine-api-controllers");
    assert_eq!(mac.severity, Severity::Info);
}

#[test]
fn analyze_finds_the_same_in_what_it_keeps_of_every_capture() {
    // `analyze` reads a snapshot keeping only what the analyzers read (`Keep::ForAnalysis`: an
    // owned ReplicaSet without its pod template; pod specs without their volumes and variables,
    // kept beside them but for those that name nothing the analyzers check, such as the
    // service account's token volume; no annotation but the three analyzers read); every real capture must give the
    // same findings as from the whole state.
    let mut captures: Vec<std::path::PathBuf> =
        ["troubleshoot-k3s", "sbctl-kurl", "must-gather-metal"]
            .iter()
            .map(|c| data(&format!("real-dumps/{c}")))
            .collect();
    for set in ["real-dumps/k8s-bench", "holmes-evals/test_ask_holmes"] {
        for e in std::fs::read_dir(data(set)).expect(set) {
            let path = e.expect("entry").path();
            if path.is_dir() {
                captures.push(path);
            }
        }
    }
    captures.push(data("../../examples/demo-incident"));
    // (ReplicaSets without a template, pods with fewer volumes, pods with fewer variables).
    let mut trimmed = (0, 0, 0);
    let mut unannotated = 0;
    let mut moved = 0;
    let mut asking = 0;
    for dir in &captures {
        let whole = load(dir);
        let kept = sextant::source::snapshot::load_for_analysis(dir).expect("load for analysis");
        assert_eq!(
            kept.object_count(),
            whole.object_count(),
            "{}",
            dir.display()
        );
        trimmed.0 += kept
            .replica_sets
            .iter()
            .filter(|r| r.spec.as_ref().is_some_and(|s| s.template.is_none()))
            .count();
        // Volumes as the analyzers read them: from the spec of a whole state, from where a
        // state read for `analyze` moved them.
        let specs = |st: &sextant::state::ClusterState| -> Vec<(usize, usize)> {
            st.pods
                .iter()
                .filter_map(|p| p.spec.as_ref().map(|s| (p, s)))
                .map(|(p, s)| {
                    let env = s
                        .containers
                        .iter()
                        .map(|c| st.env_of("Pod", &p.metadata, c));
                    let volumes = st.volumes_of("Pod", &p.metadata, s);
                    (volumes.len(), env.map(|e| e.len()).sum())
                })
                .collect()
        };
        assert!(
            kept.pods.iter().filter_map(|p| p.spec.as_ref()).all(|s| {
                s.volumes.is_none()
                    && s.containers
                        .iter()
                        .all(|c| c.env.is_none() && c.resources.is_none())
            }),
            "{}: the volumes, variables, requests and limits left the specs",
            dir.display()
        );
        // Requests and limits are moved whole: each container's read as from the whole state.
        let resources = |st: &sextant::state::ClusterState| -> Vec<sextant::state::PodResources> {
            let containers = st
                .pods
                .iter()
                .filter_map(|p| p.spec.as_ref().map(|s| (p, s)))
                .flat_map(|(p, s)| s.containers.iter().map(move |c| (p, c)));
            containers
                .map(|(p, c)| st.resources_of("Pod", &p.metadata, c).into_owned())
                .collect()
        };
        let asked = resources(&kept);
        assert_eq!(asked, resources(&whole), "{}", dir.display());
        asking += asked.iter().filter(|r| !r.is_empty()).count();
        moved += specs(&kept).iter().map(|(v, _)| v).sum::<usize>();
        for (k, w) in specs(&kept).into_iter().zip(specs(&whole)) {
            assert!(
                k.0 <= w.0 && k.1 <= w.1,
                "{}: only ever less",
                dir.display()
            );
            trimmed.1 += usize::from(k.0 < w.0);
            trimmed.2 += usize::from(k.1 < w.1);
        }
        let annotations = |st: &sextant::state::ClusterState| -> Vec<usize> {
            let count = |m: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta| {
                m.annotations.as_ref().map_or(0, |a| a.len())
            };
            let pods = st.pods.iter().map(|p| count(&p.metadata));
            pods.chain(st.deployments.iter().map(|d| count(&d.metadata)))
                .collect()
        };
        for (k, w) in annotations(&kept).into_iter().zip(annotations(&whole)) {
            assert!(k <= w, "{}: only ever fewer annotations", dir.display());
            unannotated += usize::from(k < w);
        }
        assert_eq!(analyze(&kept), analyze(&whole), "{}", dir.display());
    }
    assert!(
        unannotated >= 50,
        "pods and Deployments lost annotations: {unannotated}"
    );
    assert!(asking >= 50, "containers with requests or limits: {asking}");
    let (sets, volumes, env) = trimmed;
    assert!(sets >= 10, "owned ReplicaSets were trimmed: {sets}");
    assert!(volumes >= 50, "pods lost volumes nobody reads: {volumes}");
    assert!(moved >= 50, "the volumes analyzers read were kept: {moved}");
    assert!(env >= 10, "pods lost variables nobody reads: {env}");
}

#[test]
fn benchmark_manifests_flag_only_what_manifests_can_show() {
    let f = findings("real-dumps/k8s-bench/fix-service-routing");
    let ops = operational(&f);
    assert_eq!(ops.len(), 1, "{ops:#?}");
    assert!(ops[0].contains("ServiceNoEndpoints"), "{ops:?}");
    for task in [
        "fix-probes",
        "fix-service-with-no-endpoints",
        "fix-pending-pod",
    ] {
        let f = findings(&format!("real-dumps/k8s-bench/{task}"));
        assert!(alarms(&f).is_empty(), "{task}: {:#?}", alarms(&f));
        // No status, no status claims.
        assert!(
            !f.iter()
                .any(|f| f.title.contains("not Ready") || f.title.contains("Pending")),
            "{task}: {f:#?}"
        );
    }
}

// ---- one small capture per format ----

const OLD_DUMP: &str = r#"{"Kind": "PodList", "Items": [
 {"Name": "web-1", "Namespace": "shop", "Labels": {"app": "web"},
  "CreationTimestamp": "2018-03-01T10:00:00Z",
  "Spec": {"Containers": [{"Name": "web", "Image": "nginx:1.13"}]},
  "Status": {"Phase": "Pending", "Conditions": [{"Type": "PodScheduled", "Status": "False",
    "Reason": "Unschedulable", "Message": "0/3 nodes are available: 3 Insufficient cpu."}]}},
 {"ObjectMeta": {"Name": "api-1", "Namespace": "shop"},
  "Spec": {"Containers": [{"Name": "api", "Image": "api:2"}]},
  "Status": {"Phase": "Running", "ContainerStatuses": [{"Name": "api", "Ready": false,
    "RestartCount": 9, "Image": "api:2", "ImageID": "",
    "State": {"Waiting": {"Reason": "CrashLoopBackOff"}},
    "LastState": {"Terminated": {"ExitCode": 1, "Reason": "Error",
      "FinishedAt": "2018-03-01T10:05:00Z"}}}]}}
]}"#;

#[test]
fn old_go_named_dumps_keep_names_in_both_shapes() {
    let dir = write_tree(&[("shop/pods.json", OLD_DUMP)]);
    let state = load(dir.path());
    let names: Vec<(Option<&str>, Option<&str>)> = state
        .pods
        .iter()
        .map(|p| (p.metadata.namespace.as_deref(), p.metadata.name.as_deref()))
        .collect();
    assert!(names.contains(&(Some("shop"), Some("web-1"))), "{names:?}");
    assert!(names.contains(&(Some("shop"), Some("api-1"))), "{names:?}");
    assert!(
        state.report.warnings.is_empty(),
        "{:?}",
        state.report.warnings
    );
    let f = analyze(&state);
    assert!(
        f.iter()
            .any(|f| f.category == Category::Unschedulable && f.object.name == "web-1")
    );
    assert!(
        f.iter()
            .any(|f| f.category == Category::CrashLoopBackOff && f.object.name == "api-1")
    );
}

#[test]
fn objects_without_names_are_reported_loudly() {
    let dir = write_tree(&[(
        "pods.json",
        r#"{"kind": "PodList", "items": [{"spec": {"containers": [{"name": "a", "image": "x"}]},
            "status": {"phase": "Running"}}]}"#,
    )]);
    let state = sextant::source::snapshot::load(dir.path());
    match state {
        Ok(state) => {
            assert!(
                state
                    .report
                    .warnings
                    .iter()
                    .any(|w| w.contains("without a name")),
                "{:?}",
                state.report.warnings
            );
            assert!(state.pods.is_empty());
        }
        Err(e) => assert!(e.to_string().contains("pods.json"), "{e}"),
    }
    // The binary says it on stderr and at the top of the report.
    let out = assert_cmd::Command::cargo_bin("sextant")
        .expect("bin")
        .args(["analyze", "--snapshot"])
        .arg(dir.path().join("pods.json"))
        .env("NO_COLOR", "1")
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stderr.contains("without a name") || !out.status.success(),
        "stderr: {stderr}\nstdout: {stdout}"
    );
}

#[test]
fn a_bare_json_array_is_a_list() {
    let dir = write_tree(&[(
        "items.json",
        r#"[{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "a"},
             "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}}]"#,
    )]);
    let state = load(dir.path());
    assert_eq!(state.services.len(), 1);
}

const CRASHING_POD: &str = r#"{"apiVersion": "v1", "kind": "Pod",
 "metadata": {"name": "cart-1", "namespace": "shop", "creationTimestamp": "2024-05-01T09:00:00Z"},
 "spec": {"nodeName": "n1", "containers": [{"name": "app", "image": "cart:1"}, {"name": "proxy", "image": "envoy:1"}]},
 "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "False"}],
  "containerStatuses": [
   {"name": "app", "ready": false, "restartCount": 7, "image": "cart:1", "imageID": "",
    "state": {"waiting": {"reason": "CrashLoopBackOff"}},
    "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": "2024-05-01T10:00:00Z"}}},
   {"name": "proxy", "ready": true, "restartCount": 0, "image": "envoy:1", "imageID": "",
    "state": {"running": {"startedAt": "2024-05-01T09:00:05Z"}}}]}}"#;

#[test]
fn must_gather_logs_belong_to_their_own_container() {
    let base = "namespaces/shop/pods/cart-1";
    let dir = write_tree(&[
        ("namespaces/shop/core/pods.yaml", CRASHING_POD),
        (
            &format!("{base}/app/app/logs/previous.log"),
            "2024-05-01T09:59:58Z starting cart\n2024-05-01T09:59:59Z panic: DATABASE_URL is not set\n",
        ),
        (&format!("{base}/app/app/logs/current.log"), ""),
        (
            &format!("{base}/proxy/proxy/logs/current.log"),
            "2024-05-01T10:00:00Z [error] upstream connect error or disconnect/reset before headers\n",
        ),
    ]);
    let crash = crash_loop_of(dir.path());
    assert!(
        crash.explanation.contains("DATABASE_URL"),
        "{}",
        crash.explanation
    );
    assert!(
        !crash
            .evidence
            .iter()
            .any(|e| e.text.contains("upstream connect")),
        "the proxy's log is not the app's: {:#?}",
        crash.evidence
    );
}

#[test]
fn support_bundle_logs_and_kubectl_placeholders() {
    let dir = write_tree(&[
        (
            "cluster-resources/pods/shop.json",
            &format!(r#"{{"kind": "PodList", "items": [{CRASHING_POD}]}}"#),
        ),
        (
            "cluster-resources/pods/logs/shop/cart-1/app-previous.log",
            "boot\nFATAL: cannot connect to redis:6379: connection refused\n",
        ),
        (
            "cluster-resources/pods/logs/shop/cart-1/proxy.log",
            "unable to retrieve container logs for containerd://abc123\n",
        ),
    ]);
    let state = load(dir.path());
    let proxy = state.logs.excerpt("shop", "cart-1", "proxy", false);
    assert!(
        proxy.as_ref().is_none_or(|p| p.lines_seen == 0),
        "kubectl's placeholder is not a log line: {proxy:?}"
    );
    let f = analyze(&state);
    let crash = f
        .iter()
        .find(|f| f.category == Category::CrashLoopBackOff)
        .expect("crash loop");
    assert!(crash.explanation.contains("redis"), "{}", crash.explanation);
    assert!(!crash.explanation.contains("No log was captured"));
}

fn pod_with(restarts: i32, finished: &str, started: &str, ready: bool) -> String {
    format!(
        r#"---
{{"apiVersion": "v1", "kind": "Pod",
 "metadata": {{"name": "api-1", "namespace": "shop", "creationTimestamp": "2024-05-01T00:00:00Z"}},
 "spec": {{"nodeName": "n1", "containers": [{{"name": "api", "image": "api:1"}}]}},
 "status": {{"phase": "Running", "conditions": [{{"type": "Ready", "status": "{}"}}],
  "containerStatuses": [{{"name": "api", "ready": {ready}, "restartCount": {restarts}, "image": "api:1", "imageID": "",
    "state": {{"running": {{"startedAt": "{started}"}}}},
    "lastState": {{"terminated": {{"exitCode": 1, "reason": "Error", "finishedAt": "{finished}"}}}}}}]}}}}
---
{{"apiVersion": "v1", "kind": "Event", "metadata": {{"name": "e", "namespace": "shop"}},
  "involvedObject": {{"kind": "Node", "name": "n1"}}, "reason": "Tick", "type": "Normal",
  "message": "as of", "lastTimestamp": "2024-05-01T12:00:00Z"}}"#,
        if ready { "True" } else { "False" }
    )
}

#[test]
fn now_not_then() {
    let severity_of = |yaml: String| {
        let f = common::analyze_yaml(&yaml);
        f.iter()
            .find(|f| f.category == Category::ContainerExitError)
            .map(|f| (f.severity, f.title.clone(), f.explanation.clone()))
    };
    // Restarted 6 h before the capture, Ready since: history, in the past tense.
    let (sev, title, why) = severity_of(pod_with(
        3,
        "2024-05-01T06:00:00Z",
        "2024-05-01T06:00:05Z",
        true,
    ))
    .expect("history finding");
    assert_eq!(sev, Severity::Info, "{title}");
    assert!(title.contains("6 h before the capture"), "{title}");
    assert!(why.contains("history"), "{why}");
    // Restarted 3 min ago and running for under the kubelet's 10 minutes: current.
    let (sev, title, _) = severity_of(pod_with(
        4,
        "2024-05-01T11:57:00Z",
        "2024-05-01T11:57:10Z",
        true,
    ))
    .expect("current finding");
    assert_eq!(sev, Severity::Warning, "{title}");
    // Not Ready now: current, whenever the last restart was.
    let (sev, _, _) = severity_of(pod_with(
        4,
        "2024-05-01T06:00:00Z",
        "2024-05-01T06:00:05Z",
        false,
    ))
    .expect("not ready");
    assert!(sev >= Severity::Warning);
}

#[test]
fn probes_on_undeclared_ports_are_legal() {
    let f = common::analyze_yaml(
        r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: dns, namespace: shop}
spec:
  replicas: 1
  selector: {matchLabels: {app: dns}}
  template:
    metadata: {labels: {app: dns}}
    spec:
      containers:
      - name: dns
        image: coredns:1.11
        ports: [{containerPort: 53, protocol: UDP}]
        livenessProbe: {httpGet: {path: /health, port: 8080}}
        readinessProbe: {httpGet: {path: /ready, port: 8181}}
"#,
    );
    // Legal: at most an info hint, never an alarm.
    assert!(
        !f.iter()
            .any(|f| f.category == Category::ProbeFailure && f.severity > Severity::Info),
        "{f:#?}"
    );
}

#[test]
fn custom_resources_that_say_they_fail() {
    let f = common::analyze_yaml(
        r#"apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: shop-tls, namespace: shop}
status:
  conditions:
  - {type: Ready, status: "False", reason: DoesNotExist, message: "Issuer letsencrypt not found", lastTransitionTime: "2024-05-01T10:00:00Z"}
---
apiVersion: config.openshift.io/v1
kind: ClusterOperator
metadata: {name: dns}
status:
  conditions:
  - {type: Available, status: "True"}
  - {type: Degraded, status: "False"}
  - {type: Upgradeable, status: "False"}
"#,
    );
    let failing: Vec<&Finding> = f
        .iter()
        .filter(|f| f.category == Category::ConditionFailing)
        .collect();
    assert_eq!(failing.len(), 1, "{f:#?}");
    assert_eq!(failing[0].object.kind, "Certificate");
    assert_eq!(failing[0].severity, Severity::Warning);
    assert!(
        failing[0]
            .explanation
            .contains("Issuer letsencrypt not found")
    );
}

#[test]
fn the_recent_window_is_a_setting() {
    // Restarted 8 min before the capture, running for 7 (not yet settled): current within
    // the default 30 minutes; history with `[analyze] recent_minutes = 5`.
    let dir = write_tree(&[
        (
            "state.yaml",
            &pod_with(2, "2024-05-01T11:52:00Z", "2024-05-01T11:53:00Z", true),
        ),
        ("sextant.toml", "[analyze]\nrecent_minutes = 5\n"),
    ]);
    let run = |config: Option<&str>| {
        let mut cmd = assert_cmd::Command::cargo_bin("sextant").expect("bin");
        cmd.args(["analyze", "-o", "json", "--snapshot"])
            .arg(dir.path().join("state.yaml"))
            .env("NO_COLOR", "1")
            .env("XDG_CONFIG_HOME", dir.path().join("none"));
        if let Some(c) = config {
            cmd.arg("--config").arg(dir.path().join(c));
        }
        let out = cmd.output().expect("run");
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        doc["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .find(|f| f["category"] == "ContainerExitError")
            .map(|f| f["severity"].as_str().unwrap_or("").to_string())
    };
    assert_eq!(run(None).as_deref(), Some("warning"));
    assert_eq!(run(Some("sextant.toml")).as_deref(), Some("info"));
}

#[test]
fn dns_failures_name_the_service_that_was_meant() {
    let svc = r#"{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "memcache", "namespace": "shop"},
        "spec": {"selector": {"app": "memcache"}, "ports": [{"port": 11211}]}}"#;
    let dir = write_tree(&[
        (
            "cluster-resources/pods/shop.json",
            &format!(r#"{{"kind": "PodList", "items": [{CRASHING_POD}]}}"#),
        ),
        (
            "cluster-resources/services/shop.json",
            &format!(r#"{{"kind": "ServiceList", "items": [{svc}]}}"#),
        ),
        (
            "cluster-resources/pods/logs/shop/cart-1/app-previous.log",
            "starting\npanic: dial tcp: lookup memcom on 10.96.0.10:53: no such host\n",
        ),
    ]);
    let crash = crash_loop_of(dir.path());
    assert!(
        crash.explanation.contains("did you mean `memcache`"),
        "{}",
        crash.explanation
    );
}

#[test]
fn an_injected_log_line_is_never_the_evidence_or_the_cause() {
    let f = analyze(&load(&common::demo()));
    let cart = f
        .iter()
        .find(|f| f.category == Category::CrashLoopBackOff)
        .expect("cart");
    assert!(
        cart.explanation.contains("REDIS_URL"),
        "{}",
        cart.explanation
    );
    for x in f.iter() {
        assert!(
            !x.explanation.contains("IGNORE ALL PREVIOUS INSTRUCTIONS"),
            "{}",
            x.explanation
        );
        assert!(
            !x.evidence
                .iter()
                .any(|e| e.text.contains("IGNORE ALL PREVIOUS INSTRUCTIONS")),
            "{:#?}",
            x.evidence
        );
    }
}

#[test]
fn a_namespace_that_is_not_there_is_exit_2_with_a_suggestion() {
    let out = assert_cmd::Command::cargo_bin("sextant")
        .expect("bin")
        .args(["analyze", "-n", "Shop", "--snapshot"])
        .arg(common::demo())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no namespace `Shop`") && err.contains("did you mean `shop`"),
        "{err}"
    );
    assert!(out.stdout.is_empty(), "no report, no false all-clear");
}

#[test]
fn a_namespace_scope_scopes_every_part_of_the_state() {
    use sextant::source::{Scope, SnapshotSource, Source};
    let src = SnapshotSource {
        path: data("real-dumps/troubleshoot-k3s"),
    };
    let full = src.load(&Scope::All).expect("load");
    assert!(full.logs.pods().any(|(ns, _)| ns == "kube-system"));
    let state = src.load(&Scope::Namespace("default".into())).expect("load");
    assert!(state.logs.pod_count() > 0);
    assert!(
        state.logs.pods().all(|(ns, _)| ns == "default"),
        "logs scoped"
    );
    assert!(state.secret_names.iter().all(|(ns, _)| ns == "default"));
    assert!(
        state
            .origins
            .keys()
            .all(|(_, ns, _)| ns.is_empty() || ns == "default")
    );
    assert!(
        state
            .pods
            .iter()
            .all(|p| p.metadata.namespace.as_deref() == Some("default"))
    );
    assert!(
        state
            .conditioned
            .iter()
            .all(|o| o.namespace.as_deref().is_none_or(|n| n == "default"))
    );
}

#[test]
fn hostile_names_never_reach_a_shell_script() {
    let dir = write_tree(&[(
        "m.yaml",
        r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: "web$(touch PWNED)", namespace: "shop;true"}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "nginx:1.27", securityContext: {privileged: true}}]
"#,
    )]);
    let out = assert_cmd::Command::cargo_bin("sextant")
        .expect("bin")
        .current_dir(dir.path())
        .args([
            "policy",
            "draft",
            "Privileged",
            "--snapshot",
            "m.yaml",
            "--out",
            "out",
        ])
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a valid Kubernetes name"));
    assert!(!dir.path().join("out").exists(), "nothing written");
    assert!(!dir.path().join("PWNED").exists());
    // Suggested commands in findings never carry such a name either.
    let f = analyze(&load(&dir.path().join("m.yaml")));
    assert!(!f.is_empty());
    for x in &f {
        assert!(!x.remediation.contains("$("), "{}", x.remediation);
        assert!(!x.remediation.contains("shop;true"), "{}", x.remediation);
    }
}

#[test]
fn a_kubeconfig_variable_naming_a_missing_file_is_named() {
    let out = assert_cmd::Command::cargo_bin("sextant")
        .expect("bin")
        .args(["analyze"])
        .env("KUBECONFIG", "/nonexistent/sextant-test/config")
        .env("HOME", "/nonexistent")
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .env_remove("KUBERNETES_SERVICE_HOST")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("KUBECONFIG names /nonexistent/sextant-test/config, which does not exist"),
        "{err}"
    );
    assert!(
        !err.contains('\u{1b}'),
        "no escape codes on a pipe: {err:?}"
    );
}

/// The crash-loop finding of a capture that holds one.
fn crash_loop_of(dir: &std::path::Path) -> Finding {
    analyze(&load(dir))
        .into_iter()
        .find(|f| f.category == Category::CrashLoopBackOff)
        .expect("crash loop")
}
