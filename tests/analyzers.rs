//! Each analyzer, positive and negative, through the real reader: manifests and dumps written to
//! a temporary directory, loaded with `snapshot::load`, analyzed with `analyzers::analyze`.

mod common;

use common::*;
use sextant::findings::{Category as C, Severity};

const NOW: &str = "2026-01-01T10:00:00Z";

fn crash_status(container: &str, reason: &str, exit: i32, restarts: i32, finished: &str) -> String {
    format!(
        "  phase: Running\n  conditions: [{{type: Ready, status: 'False'}}]\n  containerStatuses:\n  - name: {container}\n    image: app:1\n    imageID: ''\n    ready: false\n    restartCount: {restarts}\n    state: {{waiting: {{reason: CrashLoopBackOff, message: back-off}}}}\n    lastState: {{terminated: {{exitCode: {exit}, reason: {reason}, finishedAt: '{finished}'}}}}"
    )
}

fn waiting_status(container: &str, reason: &str, message: &str) -> String {
    let message = message.replace('\'', "''");
    format!(
        "  phase: Pending\n  conditions: [{{type: Ready, status: 'False'}}]\n  containerStatuses:\n  - name: {container}\n    image: app:1\n    imageID: ''\n    ready: false\n    restartCount: 0\n    state: {{waiting: {{reason: {reason}, message: '{message}'}}}}"
    )
}

fn running_status(container: &str, restarts: i32, last: &str) -> String {
    format!(
        "  phase: Running\n  conditions: [{{type: Ready, status: 'True', lastTransitionTime: '{NOW}'}}]\n  containerStatuses:\n  - name: {container}\n    image: app:1\n    imageID: ''\n    ready: true\n    restartCount: {restarts}\n    state: {{running: {{startedAt: '2025-12-20T00:00:00Z'}}}}\n{last}"
    )
}

fn owned_pod(ns: &str, name: &str, rs: &str, hash: &str, status: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: {ns}\n  uid: uid-{name}\n  labels: {{app: web, pod-template-hash: {hash}}}\n  ownerReferences: [{{apiVersion: apps/v1, kind: ReplicaSet, name: {rs}, uid: u-{rs}, controller: true}}]\nspec:\n{}\nstatus:\n{status}\n---\n",
        spec("web", "web:1.0")
    )
}

// ------------------------------------------------------------------ pods

#[test]
fn crash_loop_names_the_missing_variable_from_the_log() {
    let yaml = pod(
        "shop",
        "cart-1",
        "app: cart",
        &spec("cart", "cart:1"),
        &crash_status("cart", "Error", 1, 7, NOW),
    );
    let files = [
        ("shop/pods.yaml", yaml.as_str()),
        (
            "shop/cart-1/logs.txt",
            "==== START logs for container cart of pod shop/cart-1 ====\nINFO starting\nERROR environment variable DATABASE_URL is required\nFATAL exiting\n==== END logs for container cart of pod shop/cart-1 ====\n",
        ),
    ];
    let f = analyze_files(&files);
    let c = find(&f, C::CrashLoopBackOff);
    assert_eq!(c.severity, Severity::Critical);
    assert!(c.explanation.contains("DATABASE_URL"), "{}", c.explanation);
    assert!(c.remediation.contains("DATABASE_URL"), "{}", c.remediation);
    assert!(
        c.evidence
            .iter()
            .any(|e| e.text.contains("FATAL exiting") && e.reference == "logs/shop/cart-1/cart")
    );
    assert!(c.evidence.iter().any(|e| e.text.contains("exitCode=1")));
}

#[test]
fn healthy_pod_with_normal_events_makes_no_finding() {
    let mut yaml = pod(
        "shop",
        "web-1",
        "app: web",
        &spec("web", "web:1.0"),
        &running_status("web", 0, ""),
    );
    yaml.push_str(&event(
        "shop",
        "Pod",
        "web-1",
        "Started",
        "Started container web",
        "Normal",
        1,
        NOW,
    ));
    yaml.push_str(&event(
        "shop",
        "Pod",
        "web-1",
        "Pulled",
        "Container image already present",
        "Normal",
        1,
        NOW,
    ));
    let f = analyze_yaml(&yaml);
    assert!(f.is_empty(), "{f:#?}");
}

#[test]
fn completed_job_pod_is_not_a_failure() {
    let status = "  phase: Succeeded\n  containerStatuses:\n  - name: job\n    image: j:1\n    imageID: ''\n    ready: false\n    restartCount: 0\n    state: {terminated: {exitCode: 0, reason: Completed}}";
    let f = analyze_yaml(&pod(
        "batch",
        "migrate-x",
        "app: m",
        &spec("job", "j:1"),
        status,
    ));
    assert!(!f.iter().any(|f| f.severity > Severity::Info), "{f:#?}");
}

#[test]
fn restarts_a_week_ago_are_not_a_crash_loop_now() {
    let last = "    lastState: {terminated: {exitCode: 2, reason: Error, finishedAt: '2025-12-25T10:00:00Z'}}";
    let mut yaml = pod(
        "shop",
        "web-1",
        "app: web",
        &spec("web", "web:1.0"),
        &running_status("web", 2, last),
    );
    yaml.push_str(&event(
        "shop",
        "Pod",
        "web-1",
        "Started",
        "Started container web",
        "Normal",
        1,
        NOW,
    ));
    let f = analyze_yaml(&yaml);
    // History, not a current failure: at most info, in the past tense.
    assert!(f.iter().all(|f| f.severity == Severity::Info), "{f:#?}");
    assert!(
        !f.iter().any(|f| f.category == C::CrashLoopBackOff),
        "{f:#?}"
    );
}

#[test]
fn chronic_restarts_long_ago_are_history() {
    let last = "    lastState: {terminated: {exitCode: 255, reason: Error, finishedAt: '2025-12-25T10:00:00Z'}}";
    let f = analyze_yaml(&pod(
        "ops",
        "op-1",
        "app: op",
        &spec("op", "op:1"),
        &running_status("op", 12, last),
    ));
    let c = find(&f, C::ContainerExitError);
    assert_eq!(c.severity, Severity::Info, "Ready now: history");
    assert!(c.title.contains("255"));
    assert!(c.title.contains("before the capture"), "{}", c.title);
}

#[test]
fn image_pull_not_found_and_unauthorized_are_told_apart() {
    let mut yaml = pod(
        "shop",
        "fe-1",
        "app: fe",
        &spec("fe", "reg.example.com/fe:9.9"),
        &waiting_status("fe", "ImagePullBackOff", "Back-off pulling image"),
    );
    yaml.push_str(&event(
        "shop",
        "Pod",
        "fe-1",
        "Failed",
        "Failed to pull image reg.example.com/fe:9.9: manifest unknown: not found",
        "Warning",
        3,
        NOW,
    ));
    let f = analyze_yaml(&yaml);
    let c = find(&f, C::ImagePullBackOff);
    assert!(
        c.explanation.contains("does not exist") && c.explanation.contains("9.9"),
        "{}",
        c.explanation
    );

    let mut yaml = pod(
        "shop",
        "fe-2",
        "app: fe",
        &spec("fe", "private.io/fe:1"),
        &waiting_status("fe", "ErrImagePull", "pull failed"),
    );
    yaml.push_str(&event(
        "shop",
        "Pod",
        "fe-2",
        "Failed",
        "Failed to pull image: 401 Unauthorized",
        "Warning",
        1,
        NOW,
    ));
    let c = analyze_yaml(&yaml);
    let c = find(&c, C::ImagePullBackOff);
    assert!(
        c.remediation.contains("imagePullSecret"),
        "{}",
        c.remediation
    );

    let f = analyze_yaml(&pod(
        "shop",
        "fe-3",
        "app: fe",
        &spec("fe", "Bad Name"),
        &waiting_status("fe", "InvalidImageName", "bad"),
    ));
    assert!(
        find(&f, C::ImagePullBackOff)
            .explanation
            .contains("not a valid name")
    );
}

#[test]
fn config_errors_name_the_missing_object() {
    let f = analyze_yaml(&pod(
        "pay",
        "co-1",
        "app: co",
        &spec("co", "co:1"),
        &waiting_status(
            "co",
            "CreateContainerConfigError",
            "couldn't find key LOG_LEVEL in ConfigMap pay/app-config",
        ),
    ));
    let c = find(&f, C::CreateContainerConfigError);
    assert!(
        c.title.contains("LOG_LEVEL") && c.title.contains("app-config"),
        "{}",
        c.title
    );
    let f = analyze_yaml(&pod(
        "pay",
        "co-2",
        "app: co",
        &spec("co", "co:1"),
        &waiting_status(
            "co",
            "CreateContainerError",
            "exec: \"/app/run\": executable file not found in $PATH",
        ),
    ));
    assert!(
        find(&f, C::CreateContainerError)
            .explanation
            .contains("does not exist in the image")
    );
    let f = analyze_yaml(&pod(
        "pay",
        "co-3",
        "app: co",
        &spec("co", "co:1"),
        &waiting_status("co", "RunContainerError", "permission denied"),
    ));
    assert!(has(&f, C::RunContainerError));
}

#[test]
fn oom_killed_is_the_root_cause_of_the_crash_loop() {
    let f = analyze_yaml(&pod(
        "pay",
        "ledger-1",
        "app: l",
        &spec("ledger", "l:1"),
        &crash_status("ledger", "OOMKilled", 137, 4, NOW),
    ));
    let c = find(&f, C::OOMKilled);
    assert!(!has(&f, C::CrashLoopBackOff), "one finding for one problem");
    assert!(
        c.title.contains("128Mi") && c.title.contains("CrashLoopBackOff"),
        "{}",
        c.title
    );
    assert_eq!(c.severity, Severity::Critical);
}

#[test]
fn probe_failures_come_from_unhealthy_events() {
    let status = "  phase: Running\n  conditions: [{type: Ready, status: 'False'}]\n  containerStatuses:\n  - name: web\n    image: w:1\n    imageID: ''\n    ready: false\n    restartCount: 0\n    state: {running: {startedAt: '2026-01-01T09:00:00Z'}}";
    let mut yaml = pod("shop", "web-1", "app: web", &spec("web", "w:1"), status);
    yaml.push_str(&event(
        "shop",
        "Pod",
        "web-1",
        "Unhealthy",
        "Readiness probe failed: HTTP probe failed with statuscode: 503",
        "Warning",
        40,
        NOW,
    ));
    let f = analyze_yaml(&yaml);
    let c = find(&f, C::ProbeFailure);
    assert_eq!(c.severity, Severity::Critical);
    assert!(c.title.contains("readiness"));
    // Without the events, nothing.
    let f = analyze_yaml(&pod(
        "shop",
        "web-1",
        "app: web",
        &spec("web", "w:1"),
        &running_status("web", 0, ""),
    ));
    assert!(!has(&f, C::ProbeFailure));
}

#[test]
fn unschedulable_quotes_the_scheduler() {
    let status = "  phase: Pending\n  conditions:\n  - {type: PodScheduled, status: 'False', reason: Unschedulable, message: '0/3 nodes are available: 3 Insufficient cpu.'}";
    let f = analyze_yaml(&pod("ml", "t-1", "app: t", &spec("t", "t:1"), status));
    let c = find(&f, C::Unschedulable);
    assert!(
        c.explanation.contains("no node has enough free cpu"),
        "{}",
        c.explanation
    );
}

#[test]
fn evicted_pods_say_which_resource() {
    let status =
        "  phase: Failed\n  reason: Evicted\n  message: 'The node was low on resource: memory.'";
    let f = analyze_yaml(&pod("mon", "x-1", "app: x", &spec("x", "x:1"), status));
    assert!(find(&f, C::Evicted).explanation.contains("memory"));
}

#[test]
fn init_containers_are_checked_too() {
    let status = "  phase: Pending\n  initContainerStatuses:\n  - name: fetch\n    image: busybox:1\n    imageID: ''\n    ready: false\n    restartCount: 5\n    state: {waiting: {reason: CrashLoopBackOff}}\n    lastState: {terminated: {exitCode: 127, reason: Error, finishedAt: '2026-01-01T10:00:00Z'}}\n  containerStatuses:\n  - name: app\n    image: a:1\n    imageID: ''\n    ready: false\n    restartCount: 0\n    state: {waiting: {reason: PodInitializing}}";
    let files = [
        ("ns/pods.yaml", pod("ns", "agent", "app: agent", &spec("app", "a:1"), status)),
        ("ns/agent/logs.txt", "==== START logs for container fetch of pod ns/agent ====\nsh: wge: not found\n==== END logs for container fetch of pod ns/agent ====\n".to_string()),
    ];
    let files: Vec<(&str, &str)> = files.iter().map(|(a, b)| (*a, b.as_str())).collect();
    let f = analyze_files(&files);
    let c = find(&f, C::CrashLoopBackOff);
    assert!(c.title.starts_with("Init container fetch"), "{}", c.title);
    assert!(c.explanation.contains("`wge`"), "{}", c.explanation);
    assert!(c.explanation.contains("code 127"), "{}", c.explanation);
}

#[test]
fn pods_of_one_controller_are_one_finding_with_a_stable_id() {
    let rs = "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: web-abc12, namespace: shop, ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: d1, controller: true}]}\nspec: {selector: {matchLabels: {app: web}}}\n---\n";
    let status = crash_status("web", "Error", 1, 3, NOW);
    let mut yaml = rs.to_string();
    for p in ["web-abc12-aaaaa", "web-abc12-bbbbb", "web-abc12-ccccc"] {
        yaml.push_str(&owned_pod("shop", p, "web-abc12", "abc12", &status));
    }
    let f = analyze_yaml(&yaml);
    let crash: Vec<_> = f
        .iter()
        .filter(|f| f.category == C::CrashLoopBackOff)
        .collect();
    assert_eq!(crash.len(), 1, "{f:#?}");
    assert_eq!(crash[0].affected.len(), 3);
    assert_eq!(
        crash[0]
            .owner
            .as_ref()
            .map(|o| (o.kind.as_str(), o.name.as_str())),
        Some(("Deployment", "web"))
    );
    assert!(crash[0].title.contains("3 pods of Deployment web"));

    // A new rollout: different pod names, no ReplicaSet in the dump (owner inferred from the
    // pod-template-hash). Same id.
    let mut yaml2 = String::new();
    for p in ["web-def34-xxxxx", "web-def34-yyyyy"] {
        yaml2.push_str(&owned_pod("shop", p, "web-def34", "def34", &status));
    }
    let f2 = analyze_yaml(&yaml2);
    assert_eq!(find(&f2, C::CrashLoopBackOff).id, crash[0].id);
    // And twice the same input → the same ids.
    let again = analyze_yaml(&yaml);
    assert_eq!(
        f.iter().map(|f| &f.id).collect::<Vec<_>>(),
        again.iter().map(|f| &f.id).collect::<Vec<_>>()
    );
}

// ------------------------------------------------------------------ workloads

fn deployment(name: &str, replicas: i32, status: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}, namespace: shop, uid: d-{name}}}\nspec:\n  replicas: {replicas}\n  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n    metadata: {{labels: {{app: {name}}}}}\n    spec:\n{}\nstatus:\n{status}\n---\n",
        spec(name, &format!("{name}:1"))
            .lines()
            .map(|l| format!("    {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    )
}

#[test]
fn rollout_stuck_and_unavailable_replicas() {
    let stuck = deployment(
        "api",
        2,
        "  availableReplicas: 1\n  updatedReplicas: 1\n  conditions:\n  - {type: Progressing, status: 'False', reason: ProgressDeadlineExceeded, message: 'ReplicaSet api-1 has timed out progressing.'}",
    );
    let f = analyze_yaml(&stuck);
    assert!(has(&f, C::RolloutStuck));

    let quota_rs = "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: api-5d4, namespace: shop, uid: rs1, ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: api, uid: d-api, controller: true}]}\nspec: {selector: {matchLabels: {app: api}}}\n---\n";
    let mut yaml = deployment("api", 3, "  replicas: 0");
    yaml.push_str(quota_rs);
    yaml.push_str(&event("shop", "ReplicaSet", "api-5d4", "FailedCreate", "Error creating: pods \"api-5d4-x\" is forbidden: failed quota: compute-quota: must specify limits.cpu", "Warning", 12, NOW).replace("uid: uid-api-5d4", "uid: rs1"));
    let f = analyze_yaml(&yaml);
    let c = find(&f, C::ReplicasUnavailable);
    assert_eq!(c.severity, Severity::Critical);
    assert!(
        c.explanation.contains("ResourceQuota") && c.explanation.contains("limits.cpu"),
        "{}",
        c.explanation
    );

    let fine = deployment("api", 2, "  availableReplicas: 2\n  readyReplicas: 2");
    assert!(analyze_yaml(&fine).is_empty());
}

#[test]
fn failed_jobs_and_failing_cronjobs() {
    let job = "apiVersion: batch/v1\nkind: Job\nmetadata: {name: import, namespace: batch, uid: j1}\nspec:\n  backoffLimit: 2\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{name: import, image: 'imp:1', resources: {limits: {memory: 1Gi, cpu: '1'}, requests: {memory: 1Gi, cpu: '1'}}, securityContext: {allowPrivilegeEscalation: false, runAsNonRoot: true}}]\nstatus:\n  failed: 3\n  conditions: [{type: Failed, status: 'True', reason: BackoffLimitExceeded, message: Job has reached the specified backoff limit}]\n---\n";
    let jpod = "apiVersion: v1\nkind: Pod\nmetadata: {name: import-abcde, namespace: batch, ownerReferences: [{apiVersion: batch/v1, kind: Job, name: import, uid: j1, controller: true}]}\nspec: {containers: [{name: import, image: 'imp:1'}]}\nstatus:\n  phase: Failed\n  containerStatuses: [{name: import, image: 'imp:1', imageID: '', ready: false, restartCount: 0, state: {terminated: {exitCode: 1, reason: Error}}}]\n---\n";
    let files = [
        ("batch/jobs.yaml", format!("{job}{jpod}")),
        ("batch/import-abcde/logs.txt", "==== START logs for container import of pod batch/import-abcde ====\nconnecting\ncurl: (6) Could not resolve host: api.internal\n==== END logs for container import of pod batch/import-abcde ====\n".to_string()),
    ];
    let files: Vec<(&str, &str)> = files.iter().map(|(a, b)| (*a, b.as_str())).collect();
    let f = analyze_files(&files);
    let c = find(&f, C::JobFailed);
    assert!(
        c.explanation.contains("backoffLimit of 2"),
        "{}",
        c.explanation
    );
    assert!(c.explanation.contains("api.internal"), "{}", c.explanation);
    assert!(
        !has(&f, C::ContainerExitError),
        "the job's pods are reported on the job"
    );

    let cron = job.replace("metadata: {name: import, namespace: batch, uid: j1}", "metadata: {name: import-123, namespace: batch, uid: j1, ownerReferences: [{apiVersion: batch/v1, kind: CronJob, name: nightly, uid: c1, controller: true}]}");
    let f = analyze_yaml(&cron);
    let c = find(&f, C::CronJobFailing);
    assert_eq!(c.object.kind, "CronJob");
    assert_eq!(c.object.name, "nightly");
    assert!(!has(&f, C::JobFailed));
}

// ------------------------------------------------------------------ networking

fn service(name: &str, selector: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Service\nmetadata: {{name: {name}, namespace: shop}}\nspec:\n  selector: {{{selector}}}\n  ports: [{{port: 80, targetPort: 8080}}]\n---\n"
    )
}

#[test]
fn service_selector_that_matches_nothing_says_what_differs() {
    let mut yaml = service("backend", "app: backend, version: v2");
    yaml.push_str(&pod(
        "shop",
        "backend-1",
        "app: backend, version: v1",
        &spec("b", "b:1"),
        &running_status("b", 0, ""),
    ));
    let f = analyze_yaml(&yaml);
    let c = find(&f, C::ServiceNoEndpoints);
    assert!(
        c.explanation
            .contains("version=v1 (selector wants version=v2)"),
        "{}",
        c.explanation
    );

    let mut ok = service("backend", "app: backend");
    ok.push_str(&pod(
        "shop",
        "backend-1",
        "app: backend, version: v1",
        &spec("b", "b:1"),
        &running_status("b", 0, ""),
    ));
    assert!(!has(&analyze_yaml(&ok), C::ServiceNoEndpoints));
}

#[test]
fn endpoint_slices_are_authoritative() {
    let mut yaml = service("api", "app: api");
    yaml.push_str(&pod(
        "shop",
        "api-1",
        "app: api",
        &spec("a", "a:1"),
        &running_status("a", 0, ""),
    ));
    yaml.push_str("apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: api-x, namespace: shop, labels: {kubernetes.io/service-name: api}}\naddressType: IPv4\nendpoints: [{addresses: [10.0.0.1], conditions: {ready: false}}]\n---\n");
    assert!(has(&analyze_yaml(&yaml), C::ServiceNoEndpoints));
}

#[test]
fn ingress_backends_tls_and_class() {
    let ing = "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: web, namespace: shop}\nspec:\n  ingressClassName: traefik\n  tls: [{hosts: [a.example.com], secretName: a-tls}]\n  rules:\n  - host: a.example.com\n    http:\n      paths:\n      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}\n      - {path: /api, pathType: Prefix, backend: {service: {name: api, port: {number: 80}}}}\n---\n";
    let class = "apiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata: {name: nginx}\nspec: {controller: k8s.io/ingress-nginx}\n---\n";
    let mut yaml = format!("{ing}{class}{}", service("web", "app: web"));
    yaml.push_str(&event(
        "shop",
        "Ingress",
        "web",
        "MissingSecret",
        "Error getting SSL certificate shop/a-tls: local SSL certificate shop/a-tls was not found",
        "Warning",
        3,
        NOW,
    ));
    let f = analyze_yaml(&yaml);
    let b = find(&f, C::IngressBackendMissing);
    assert!(
        b.title.contains("Service api does not exist"),
        "{}",
        b.title
    );
    assert_eq!(
        f.iter()
            .filter(|f| f.category == C::IngressBackendMissing)
            .count(),
        1
    );
    assert!(has(&f, C::IngressTLSSecretMissing));
    assert!(
        find(&f, C::IngressClassMissing)
            .explanation
            .contains("nginx")
    );
    // The class named the old way, by annotation, and a class marked as the default.
    let annotated = ing.replace(
        "namespace: shop}\nspec:\n  ingressClassName: traefik\n",
        "namespace: shop, annotations: {kubernetes.io/ingress.class: nginx}}\nspec:\n",
    );
    let default = class.replace(
        "{name: nginx}",
        "{name: nginx, annotations: {ingressclass.kubernetes.io/is-default-class: 'true'}}",
    );
    let unnamed = ing.replace("  ingressClassName: traefik\n", "");
    assert!(annotated.contains("ingress.class") && unnamed != ing);
    for (what, yaml) in [
        ("the annotation", format!("{annotated}{class}")),
        ("the default class", format!("{unnamed}{default}")),
    ] {
        let f = analyze_yaml(&yaml);
        assert!(!has(&f, C::IngressClassMissing), "{what}: {f:#?}");
    }
    assert!(has(
        &analyze_yaml(&format!("{unnamed}{class}")),
        C::IngressClassMissing
    ));
}

#[test]
fn network_policy_that_selects_nothing() {
    let np = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: iso, namespace: shop}\nspec:\n  podSelector: {matchLabels: {app: gone}}\n---\n";
    let mut yaml = np.to_string();
    yaml.push_str(&pod(
        "shop",
        "web-1",
        "app: web",
        &spec("w", "w:1"),
        &running_status("w", 0, ""),
    ));
    assert!(has(&analyze_yaml(&yaml), C::NetworkPolicyNoMatch));
    let yaml = yaml.replace("app: gone", "app: web");
    assert!(!has(&analyze_yaml(&yaml), C::NetworkPolicyNoMatch));
}

// ------------------------------------------------------------------ storage, nodes, scaling

#[test]
fn pvc_pending_lost_and_bound() {
    let pvc = |name: &str, phase: &str| {
        format!(
            "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {{name: {name}, namespace: data, uid: uid-{name}}}\nspec: {{storageClassName: fast, volumeName: pv-1, accessModes: [ReadWriteOnce], resources: {{requests: {{storage: 1Gi}}}}}}\nstatus: {{phase: {phase}}}\n---\n"
        )
    };
    let mut yaml = pvc("a", "Pending");
    yaml.push_str(&event(
        "data",
        "PersistentVolumeClaim",
        "a",
        "ProvisioningFailed",
        "storageclass.storage.k8s.io \"fast\" not found",
        "Warning",
        5,
        NOW,
    ));
    yaml.push_str(&pvc("b", "Lost"));
    yaml.push_str(&pvc("c", "Bound"));
    let f = analyze_yaml(&yaml);
    assert!(
        find(&f, C::PVCPending)
            .title
            .contains("StorageClass fast does not exist")
    );
    assert_eq!(find(&f, C::PVCLost).object.name, "b");
    assert!(!f.iter().any(|f| f.object.name == "c"));
}

#[test]
fn nodes_not_ready_and_standard_pressure_only() {
    let node = |name: &str, conds: &str| {
        format!(
            "apiVersion: v1\nkind: Node\nmetadata: {{name: {name}}}\nstatus:\n  conditions:\n{conds}\n---\n"
        )
    };
    let mut yaml = node(
        "n1",
        "  - {type: Ready, status: Unknown, reason: NodeStatusUnknown, message: Kubelet stopped posting node status.}",
    );
    yaml.push_str(&node("n2", "  - {type: Ready, status: 'True'}\n  - {type: DiskPressure, status: 'True', reason: KubeletHasDiskPressure}"));
    yaml.push_str(&node("n3", "  - {type: Ready, status: 'True'}\n  - {type: FrequentContainerdRestart, status: 'True'}\n  - {type: KernelDeadlock, status: 'True'}"));
    let f = analyze_yaml(&yaml);
    assert_eq!(find(&f, C::NodeNotReady).object.name, "n1");
    assert_eq!(find(&f, C::NodePressure).object.name, "n2");
    assert!(
        !f.iter().any(|f| f.object.name == "n3"),
        "custom node conditions are not alarms"
    );
}

/// A NotReady node of many pods names a few (with their namespaces: pod names repeat across
/// namespaces) and counts the rest; an empty condition message is not shown as ": .".
#[test]
fn a_not_ready_node_names_a_few_of_its_pods_and_counts_the_rest() {
    let mut yaml = String::from(
        "apiVersion: v1\nkind: Node\nmetadata: {name: n1}\nstatus:\n  conditions:\n  - {type: Ready, status: 'False', reason: KubeletNotReady}\n---\n",
    );
    for ns in ["team-a", "team-b"] {
        for i in 0..6 {
            yaml.push_str(&format!(
                "apiVersion: v1\nkind: Pod\nmetadata: {{name: web-{i}, namespace: {ns}}}\nspec: {{nodeName: n1, containers: [{{name: c, image: nginx}}]}}\n---\n"
            ));
        }
    }
    let f = analyze_yaml(&yaml);
    let e = &find(&f, C::NodeNotReady).explanation;
    assert!(e.contains("Its 12 pods (team-a/web-0, team-a/web-1"), "{e}");
    assert!(e.contains("team-b/web-3 and 2 more)"), "{e}");
    assert!(!e.contains("team-b/web-5") && !e.contains(": ."), "{e}");
}

#[test]
fn hpa_without_metrics_and_blocking_pdb() {
    let hpa = "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: web, namespace: shop}\nspec: {scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}, maxReplicas: 5}\nstatus:\n  desiredReplicas: 1\n  conditions: [{type: ScalingActive, status: 'False', reason: FailedGetResourceMetric, message: 'missing request for cpu'}]\n---\n";
    let f = analyze_yaml(hpa);
    assert!(find(&f, C::HPAUnhealthy).explanation.contains("requests"));
    let pdb = |allowed: i32| {
        format!(
            "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {{name: web, namespace: shop}}\nspec: {{minAvailable: 2, selector: {{matchLabels: {{app: web}}}}}}\nstatus: {{currentHealthy: 2, desiredHealthy: 2, disruptionsAllowed: {allowed}, expectedPods: 2}}\n---\n"
        )
    };
    assert!(has(&analyze_yaml(&pdb(0)), C::PDBBlocking));
    assert!(!has(&analyze_yaml(&pdb(1)), C::PDBBlocking));
}

// ------------------------------------------------------------------ security and hygiene

#[test]
fn pod_security_and_hygiene_once_per_workload() {
    let dep = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: agent, namespace: ops}\nspec:\n  selector: {matchLabels: {app: agent}}\n  template:\n    metadata: {labels: {app: agent}}\n    spec:\n      hostNetwork: true\n      volumes: [{name: root, hostPath: {path: /}}]\n      containers:\n      - name: agent\n        image: agent:latest\n        securityContext: {privileged: true, runAsUser: 0, capabilities: {add: [SYS_ADMIN, NET_BIND_SERVICE]}}\n---\n";
    // Three pods of it must not triple the findings.
    let mut yaml = dep.to_string();
    for i in 0..3 {
        yaml.push_str(&format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: agent-{i}, namespace: ops, ownerReferences: [{{apiVersion: apps/v1, kind: Deployment, name: agent, uid: x, controller: true}}]}}\nspec: {{hostNetwork: true, containers: [{{name: agent, image: 'agent:latest', securityContext: {{privileged: true}}}}]}}\nstatus: {{phase: Running}}\n---\n"));
    }
    let f = analyze_yaml(&yaml);
    for c in [
        C::Privileged,
        C::HostNamespace,
        C::HostPath,
        C::RunAsRoot,
        C::DangerousCapabilities,
        C::LatestTag,
        C::NoResourceLimits,
        C::NoResourceRequests,
        C::NoProbes,
    ] {
        let of: Vec<_> = f.iter().filter(|f| f.category == c).collect();
        assert_eq!(of.len(), 1, "{c}: {of:#?}");
        assert_eq!(of[0].object.kind, "Deployment", "{c}");
    }
    let caps = find(&f, C::DangerousCapabilities);
    assert!(
        caps.explanation.contains("SYS_ADMIN") && !caps.explanation.contains("NET_BIND_SERVICE")
    );
    assert_eq!(find(&f, C::Privileged).severity, Severity::Warning);
    assert_eq!(find(&f, C::NoResourceRequests).severity, Severity::Info);

    // The same in kube-system: not nagged.
    let sys = yaml.replace("namespace: ops", "namespace: kube-system");
    assert!(
        !analyze_yaml(&sys).iter().any(|f| f.category.is_hygiene()),
        "system namespaces are not nagged"
    );
}

#[test]
fn findings_are_ranked_critical_first() {
    let mut yaml = pod(
        "a",
        "p1",
        "app: p",
        &spec("c", "c:latest"),
        &crash_status("c", "Error", 1, 3, NOW),
    );
    yaml.push_str(&pod(
        "a",
        "p2",
        "app: q",
        &spec("c", "c:1"),
        "  phase: Failed\n  reason: Evicted\n  message: low on memory",
    ));
    let f = analyze_yaml(&yaml);
    let sev: Vec<Severity> = f.iter().map(|f| f.severity).collect();
    let mut sorted = sev.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(sev, sorted);
    assert_eq!(f[0].category, C::CrashLoopBackOff);
}

/// Static (mirror) pods name their Node as controller: two control-plane components crashing on
/// one node are two findings with no owner, not "2 pods of Node master-0".
#[test]
fn static_pods_are_not_replicas_of_their_node() {
    let mirror = |name: &str, container: &str| {
        pod(
            "openshift-etcd",
            name,
            "app: static",
            &spec(container, "registry.example/etcd:4.16"),
            &crash_status(container, "Error", 1, 6, NOW),
        )
        .replace(
            "  labels:",
            "  ownerReferences: [{apiVersion: v1, kind: Node, name: master-0, uid: node-uid, controller: true}]\n  labels:",
        )
    };
    let yaml =
        mirror("etcd-master-0", "etcd") + &mirror("kube-apiserver-master-0", "kube-apiserver");
    let f = analyze_yaml(&yaml);
    let crashes: Vec<_> = f
        .iter()
        .filter(|x| x.category == C::CrashLoopBackOff)
        .collect();
    assert_eq!(crashes.len(), 2, "{crashes:#?}");
    assert!(crashes.iter().all(|c| c.owner.is_none()), "{crashes:#?}");
    assert_ne!(crashes[0].id, crashes[1].id);
}

#[test]
fn a_static_pods_mirror_is_not_a_workload_to_nag() {
    // A bare pod with a `:latest` image is a workload someone deploys; the same pod marked as
    // the mirror of a node's static pod is the node's.
    let bare = pod(
        "ops",
        "agent-node-1",
        "app: agent",
        &spec("agent", "agent:latest"),
        &running_status("agent", 0, ""),
    );
    assert!(has(&analyze_yaml(&bare), C::LatestTag));
    let mirror = bare.replace(
        "  uid: uid-agent-node-1\n",
        "  uid: uid-agent-node-1\n  annotations: {kubernetes.io/config.mirror: abc123}\n",
    );
    assert_ne!(mirror, bare);
    let f = analyze_yaml(&mirror);
    assert!(!f.iter().any(|f| f.category.is_hygiene()), "{f:#?}");
}
