//! Policy conformance against upstream suites (copied under tests/data/policy/ with their
//! PROVENANCE), drafts proven on the demo incident, schema validity of drafted YAML, and the
//! `policy` CLI.

mod common;

use common::demo;
use serde_json::Value;
use sextant::policy::{Engine, draft, suite};
use std::path::PathBuf;

/// The upstream suites copied for these tests.
fn data(p: &str) -> PathBuf {
    common::data("policy").join(p)
}

#[test]
fn vap_examples_parse_and_compile_and_typos_are_reported() {
    let docs = sextant::policy::read_documents(&[data("vap-examples")]).expect("read");
    let mut compiled = 0;
    let mut type_errors = Vec::new();
    for (path, d) in &docs {
        if d["kind"] != "ValidatingAdmissionPolicy" {
            continue;
        }
        let (p, issues) = sextant::policy::vap::Policy::compile(d);
        if p.is_some() {
            compiled += 1;
        }
        for i in issues {
            assert!(
                i.problem.contains("type check"),
                "{}: {i:?}",
                path.display()
            );
            type_errors.push(
                path.file_name()
                    .and_then(|f| f.to_str())
                    .unwrap_or("")
                    .to_string(),
            );
        }
    }
    type_errors.sort();
    type_errors.dedup();
    assert_eq!(
        type_errors,
        vec!["typechecking-multiple-match.yaml", "typechecking.yaml"]
    );
    assert!(compiled >= 6, "{compiled}");
    // The match-conditions example calls `startWith` (an upstream typo): an evaluation error.
    let (_, d) = docs
        .iter()
        .find(|(p, _)| p.ends_with("validating-admission-policy-match-conditions.yaml"))
        .expect("file");
    let p = sextant::policy::vap::Policy::from_object(d).expect("compiles");
    let obj = serde_json::json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x", "namespace": "default"},
        "spec": {"containers": []}});
    let v = p.evaluate(&obj, None, None);
    assert!(
        matches!(
            v,
            sextant::policy::vap::Verdict::Error(_) | sextant::policy::vap::Verdict::NotMatched
        ),
        "{v:?}"
    );
}

/// Every finding of the demo that a policy can prevent yields drafts that pass their proof
/// for every engine and scope.
#[test]
fn every_demo_draft_passes_its_proof() {
    let state = sextant::source::snapshot::load(&demo()).expect("demo");
    let findings = sextant::analyzers::analyze(&state);
    let mut drafted = 0;
    for f in &findings {
        if sextant::policy::catalog::rule_for(f.category).is_none() {
            continue;
        }
        if f.category == sextant::findings::Category::ImagePullBackOff {
            // frontend's image is from the registry everything else uses (its tag is
            // missing): an allowed-registries policy would not have helped, and Sextant says so.
            let e = draft::request_for_finding(f, &state, Engine::ALL.to_vec())
                .err()
                .expect("refused");
            assert!(
                e.to_string()
                    .contains("registry.example.com/, which the cluster's other workloads use"),
                "{e}"
            );
            continue;
        }
        let req = draft::request_for_finding(f, &state, Engine::ALL.to_vec()).expect("request");
        let d = draft::draft(&req, Vec::new()).expect("draft");
        for e in &d.drafts {
            assert!(e.proof.passed(), "{} {:?}: {:?}", f.id, e.engine, e.proof);
        }
        drafted += 1;
    }
    assert!(drafted >= 8, "{drafted}");
}

/// ImagePullBackOff from a registry no other workload uses: the allowed-registries draft
/// trusts the registries in use, denies the workload, admits it once mirrored, in all engines.
/// The ImagePullBackOff finding of the pods in `yaml`, its allowed-registries draft (which
/// trusts exactly `trusted`) proven in every engine, and the state it came from.
fn proven_registry_draft(
    yaml: &str,
    trusted: &str,
) -> (sextant::state::ClusterState, draft::Draft) {
    let dir = common::write_tree(&[("pods.yaml", yaml)]);
    let state = common::load(dir.path());
    let findings = sextant::analyzers::analyze(&state);
    let f = common::find(&findings, sextant::findings::Category::ImagePullBackOff);
    let req = draft::request_for_finding(f, &state, Engine::ALL.to_vec()).expect("request");
    assert_eq!(req.fix_context.registries, [trusted]);
    let d = draft::draft(&req, Vec::new()).expect("draft");
    assert!(
        d.proven(),
        "{:?}",
        d.drafts.iter().map(|e| &e.proof).collect::<Vec<_>>()
    );
    (state, d)
}

#[test]
fn an_untrusted_registry_gets_an_allowed_registries_draft() {
    let running = "  phase: Running\n  containerStatuses:\n  - {name: web, image: 'registry.example.com/shop/web:1.4', imageID: 'registry.example.com/shop/web@sha256:aa', ready: true, restartCount: 0, state: {running: {startedAt: '2026-11-24T08:00:00Z'}}}";
    let pulling = "  phase: Pending\n  containerStatuses:\n  - {name: miner, image: 'docker.io/evil/miner:1.0', imageID: '', ready: false, restartCount: 0, state: {waiting: {reason: ImagePullBackOff, message: 'Back-off pulling image'}}}";
    let yaml = common::pod(
        "shop",
        "web",
        "app: web",
        &common::spec("web", "registry.example.com/shop/web:1.4"),
        running,
    ) + &common::pod(
        "shop",
        "miner",
        "app: miner",
        &common::spec("miner", "docker.io/evil/miner:1.0"),
        pulling,
    );
    let (_, d) = proven_registry_draft(&yaml, "registry.example.com/");
    for e in &d.drafts {
        assert_eq!(
            e.proof.denied.as_deref().ok(),
            Some("images must come from registry.example.com/: docker.io/evil/miner:1.0"),
            "{:?}",
            e.engine
        );
    }
    assert!(
        d.changes[0].contains("docker.io/evil/miner:1.0 → registry.example.com/evil/miner:1.0"),
        "{:?}",
        d.changes
    );
    // The Gatekeeper constraint carries the registries as a parameter.
    let gk = d
        .drafts
        .iter()
        .find(|e| e.engine == Engine::Gatekeeper)
        .expect("gatekeeper");
    assert!(
        gk.files["constraint.yaml"].contains("repos:"),
        "{}",
        gk.files["constraint.yaml"]
    );
}

#[test]
fn cli_draft_writes_bundles_that_policy_test_runs() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = common::sextant()
        .args(["policy", "draft", "LatestTag", "--snapshot"])
        .arg(demo())
        .arg("--out")
        .arg(dir.path())
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("✓ kyverno"), "{text}");
    assert!(
        text.contains("kubectl -n shop patch deployment legacy-admin"),
        "{text}"
    );
    let t = common::sextant()
        .args(["policy", "test"])
        .arg(dir.path())
        .output()
        .expect("run");
    assert_eq!(
        t.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&t.stdout)
    );
    // Kyverno, Gatekeeper (its Rego and its CEL source), VAP: two cases each.
    assert!(String::from_utf8_lossy(&t.stdout).contains("8 passed, 0 failed"));

    // Break the Gatekeeper sample: the allowed object now uses :latest → exit 1.
    // One folder per finding: `<policy>/<finding id>/<engine>/`.
    let finding_dir = std::fs::read_dir(dir.path().join("sextant-disallow-latest-tag"))
        .expect("policy folder")
        .filter_map(Result::ok)
        .find(|e| e.file_name().to_string_lossy().starts_with("F-"))
        .expect("a folder named after the finding")
        .path();
    let allowed = finding_dir.join("gatekeeper/samples/example_allowed.yaml");
    let broken = std::fs::read_to_string(&allowed).expect("read").replace(
        "image: registry.example.com/shop/legacy-admin",
        "image: nginx:latest #",
    );
    std::fs::write(&allowed, broken).expect("write");
    let t = common::sextant()
        .args(["policy", "test"])
        .arg(dir.path())
        .output()
        .expect("run");
    assert_eq!(
        t.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&t.stdout)
    );
}

#[test]
fn cli_errors_are_one_line_exit_2() {
    for args in [
        vec!["policy", "draft", "CrashLoopBackOff"],
        vec!["policy", "draft", "Privileged", "--engine", "opa"],
        vec!["policy", "test", "/nonexistent/dir"],
        vec![
            "policy",
            "check",
            "/nonexistent.yaml",
            "--snapshot",
            "examples/demo-incident",
        ],
    ] {
        let out = common::sextant()
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(&args)
            .output()
            .expect("run");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
    }
}

#[test]
fn cli_check_reports_what_would_be_denied() {
    let out = common::sextant()
        .args(["policy", "check"])
        .arg(data(
            "gatekeeper-library/library/pod-security-policy/privileged-containers",
        ))
        .arg("--snapshot")
        .arg(demo())
        .args(["-o", "json"])
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    let denied: Vec<&str> = v["denials"]
        .as_array()
        .expect("denials")
        .iter()
        .filter_map(|d| d["object"].as_str())
        .collect();
    assert!(
        denied.iter().any(|o| o.contains("monitoring/node-agent")),
        "{denied:?}"
    );
}

/// Upstream Kyverno policies checked against the demo: a pattern rule (privileged) and a
/// JMESPath `deny` rule (added capabilities) both deny the privileged DaemonSet (and its pods,
/// through Kyverno's auto-generated controller rule), with where they failed; a rule Sextant
/// cannot evaluate (`podSecurity`) is named as not checked.
#[test]
fn cli_check_evaluates_kyverno_pattern_and_deny_policies() {
    let dir = tempfile::tempdir().expect("tmp");
    let pss = dir.path().join("pss.yaml");
    std::fs::write(
        &pss,
        "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata:\n  name: pss-baseline\nspec:\n  rules:\n  - name: baseline\n    match:\n      any:\n      - resources:\n          kinds: [Pod]\n    validate:\n      podSecurity:\n        level: baseline\n        version: latest\n",
    )
    .expect("write");
    let out = common::sextant()
        .args(["policy", "check"])
        .arg(data(
            "kyverno-policies/pod-security/baseline/disallow-privileged-containers",
        ))
        .arg(data(
            "kyverno-policies/pod-security/baseline/disallow-capabilities/disallow-capabilities.yaml",
        ))
        .arg(&pss)
        .arg("--snapshot")
        .arg(demo())
        .args(["-o", "json"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    let denials = v["denials"].as_array().expect("denials");
    let denied = |policy: &str, at: &str| {
        denials.iter().any(|d| {
            d["object"] == "DaemonSet/monitoring/node-agent"
                && d["engine"] == "kyverno"
                && d["policy"].as_str().is_some_and(|p| p.starts_with(policy))
                && d["message"].as_str().is_some_and(|m| m.contains(at))
        })
    };
    assert!(
        denied(
            "disallow-privileged-containers",
            "/spec/containers/0/securityContext/privileged"
        ),
        "{denials:#?}"
    );
    assert!(
        denied("disallow-capabilities", "deny conditions"),
        "{denials:#?}"
    );
    assert!(
        denials.iter().all(|d| d["object"]
            .as_str()
            .is_some_and(|o| o.contains("node-agent"))),
        "only the privileged workload: {denials:#?}"
    );
    assert!(
        v["skipped"].as_array().expect("skipped").iter().any(|s| s
            .as_str()
            .is_some_and(|s| s.contains("baseline of pss-baseline"))),
        "{v}"
    );
}

/// A test suite naming a device as a resource is refused for that file, never read until
/// memory runs out.
#[test]
fn a_device_named_as_a_resource_is_refused() {
    let dir = common::write_tree(&[
        (
            "kyverno-test.yaml",
            "apiVersion: cli.kyverno.io/v1alpha1\nkind: Test\nmetadata:\n  name: t\npolicies:\n- policy.yaml\nresources:\n- /dev/zero\nresults:\n- policy: require-labels\n  rule: check\n  resources: [x]\n  kind: Pod\n  result: fail\n",
        ),
        (
            "policy.yaml",
            "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata:\n  name: require-labels\nspec:\n  rules:\n  - name: check\n    match:\n      any:\n      - resources:\n          kinds: [Pod]\n    validate:\n      message: label app required\n      pattern:\n        metadata:\n          labels:\n            app: \"?*\"\n",
        ),
    ]);
    let out = common::sextant()
        .args(["policy", "test"])
        .arg(dir.path())
        .timeout(std::time::Duration::from_secs(20))
        .output()
        .expect("run");
    assert!(out.status.code().is_some(), "killed: it read /dev/zero");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("not a regular file"), "{text}");
}

/// `policy test` counts cases, not files: a policy Sextant does not evaluate (here a Kyverno
/// `MutatingPolicy`) makes each of its cases skipped with the reason, one line each, while the
/// other policies of the same test file (a ClusterPolicy and a `ValidatingPolicy`) still run.
#[test]
fn policy_test_counts_cases_and_skips_what_it_cannot_read_case_by_case() {
    let dir = common::write_tree(&[
        (
            "t/kyverno-test.yaml",
            "apiVersion: cli.kyverno.io/v1alpha1\nkind: Test\nmetadata:\n  name: t\npolicies: [policies.yaml]\nresources: [resources.yaml]\nresults:\n- policy: require-team\n  rule: team\n  kind: Pod\n  resources: [labelled]\n  result: pass\n- policy: require-team\n  rule: team\n  kind: Pod\n  resources: [bare]\n  result: fail\n- policy: vpol\n  kind: Pod\n  resources: [labelled]\n  result: pass\n- policy: vpol\n  kind: Pod\n  resources: [bare]\n  result: fail\n- policy: mpol\n  kind: Pod\n  resources: [labelled, bare]\n  result: pass\n",
        ),
        (
            "t/policies.yaml",
            "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata:\n  name: require-team\nspec:\n  rules:\n  - name: team\n    match:\n      any:\n      - resources:\n          kinds: [Pod]\n    validate:\n      message: team label required\n      pattern:\n        metadata:\n          labels:\n            team: \"?*\"\n---\napiVersion: policies.kyverno.io/v1alpha1\nkind: ValidatingPolicy\nmetadata:\n  name: vpol\nspec:\n  matchConstraints:\n    resourceRules:\n    - apiGroups: ['']\n      apiVersions: [v1]\n      operations: [CREATE]\n      resources: [pods]\n  validations:\n  - expression: \"object.metadata.?labels[?'team'].orValue('') != ''\"\n    message: a team label\n---\napiVersion: policies.kyverno.io/v1alpha1\nkind: MutatingPolicy\nmetadata:\n  name: mpol\nspec:\n  mutations: []\n",
        ),
        (
            "t/resources.yaml",
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: labelled\n  labels:\n    team: a\nspec:\n  containers:\n  - name: c\n    image: nginx\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: bare\nspec:\n  containers:\n  - name: c\n    image: nginx\n",
        ),
    ]);
    let out = common::sextant()
        .args(["policy", "test"])
        .arg(dir.path())
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("4 passed, 0 failed, 2 skipped"), "{text}");
    assert_eq!(
        text.lines()
            .filter(|l| l.starts_with("- mpol")
                && l.contains("not evaluated (mpol is a MutatingPolicy: it denies nothing"))
            .count(),
        2,
        "{text}"
    );
    // policy check names the policy it does not evaluate, never drops it silently.
    let out = common::sextant()
        .args(["policy", "check"])
        .arg(dir.path().join("t/policies.yaml"))
        .arg("--snapshot")
        .arg(demo())
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("skipped:")
            && text.contains(
                "Kyverno policy mpol is a MutatingPolicy: it denies nothing, not checked"
            )
            && !text.contains("vpol:"),
        "{text}"
    );
    // The ValidatingPolicy is evaluated over the snapshot, pod controllers included.
    assert!(
        text.lines().any(|l| l.contains("kyverno    vpol ")
            && l.contains("Deployment/shop/cart")
            && l.contains("a team label")),
        "{text}"
    );
}

/// Docker Hub short names are `docker.io/…` as the runtime pulls them: when the workloads in
/// use run `nginx:latest` and `postgres:16.4`, the allowed-registries draft trusts `docker.io/`
/// and admits them (in every engine), while the image from an unknown registry is denied.
#[test]
fn the_registries_draft_admits_the_short_names_it_trusts() {
    let running = |c: &str, img: &str| {
        format!(
            "  phase: Running\n  containerStatuses:\n  - {{name: {c}, image: '{img}', imageID: 'x@sha256:aa', ready: true, restartCount: 0, state: {{running: {{startedAt: '2026-11-24T08:00:00Z'}}}}}}"
        )
    };
    let pulling = "  phase: Pending\n  containerStatuses:\n  - {name: miner, image: 'evil.example.com/miner:1.0', imageID: '', ready: false, restartCount: 0, state: {waiting: {reason: ImagePullBackOff, message: 'Back-off pulling image'}}}";
    let yaml = common::pod(
        "shop",
        "web",
        "app: web",
        &common::spec("web", "nginx:latest"),
        &running("web", "nginx:latest"),
    ) + &common::pod(
        "shop",
        "db",
        "app: db",
        &common::spec("db", "postgres:16.4"),
        &running("db", "postgres:16.4"),
    ) + &common::pod(
        "shop",
        "miner",
        "app: miner",
        &common::spec("miner", "evil.example.com/miner:1.0"),
        pulling,
    );
    let (state, d) = proven_registry_draft(&yaml, "docker.io/");
    // Every engine's policy over the state: only the miner is denied.
    let out = tempfile::tempdir().expect("tmp");
    suite::write_bundle(out.path(), &d).expect("write");
    let set = sextant::policy::check::PolicySet::load(&[out.path().to_path_buf()]).expect("load");
    assert!(set.policies.len() >= 3, "{:?}", set.skipped);
    let report = sextant::policy::check::check(
        &set,
        &sextant::policy::check::workload_objects(&state),
        &sextant::policy::check::namespace_labels(&state),
    );
    let denied: std::collections::BTreeSet<String> = report
        .denials
        .iter()
        .map(|d| format!("{:?} {}", d.engine, d.object))
        .collect();
    assert!(!denied.is_empty());
    for d in &denied {
        assert!(d.contains("miner"), "{denied:?}");
    }
}

/// Cluster-wide drafts leave the policy engines' own namespaces alone (`kyverno`,
/// `gatekeeper-system`) besides the Kubernetes system ones, in every engine.
#[test]
fn drafts_exclude_the_policy_engines_namespaces() {
    let req = draft::request_for_category(
        sextant::findings::Category::Privileged,
        Engine::ALL.to_vec(),
    )
    .expect("request");
    let d = draft::draft(&req, Vec::new()).expect("draft");
    assert!(d.proven());
    let cluster_wide: Vec<_> = d
        .drafts
        .iter()
        .filter(|e| e.scope == draft::Scope::Cluster)
        .collect();
    assert_eq!(cluster_wide.len(), 3);
    for e in cluster_wide {
        let all: String = e.files.values().cloned().collect();
        assert!(
            all.contains("- kyverno\n")
                && all.contains("gatekeeper-system")
                && all.contains("kube-system"),
            "{:?}: {all}",
            e.engine
        );
        // Kyverno: a ValidatingPolicy, Audit until the team switches to Deny.
        if e.engine == Engine::Kyverno {
            assert!(
                all.contains("kind: ValidatingPolicy") && all.contains("- Audit"),
                "{all}"
            );
        }
    }
}

/// A Kyverno policy with no validate rule (mutate or generate only) is named as not checked by
/// `policy check` — as a mutate rule, not as an evaluation Sextant lacks — never dropped in
/// silence.
#[test]
fn policy_check_names_kyverno_policies_without_a_validate_rule() {
    let dir = common::write_tree(&[(
        "mutate.yaml",
        "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata:\n  name: add-team\nspec:\n  rules:\n  - name: add-team\n    match:\n      any:\n      - resources:\n          kinds: [Pod]\n    mutate:\n      patchStrategicMerge:\n        metadata:\n          labels:\n            team: platform\n",
    )]);
    let out = common::sextant()
        .args(["policy", "check"])
        .arg(dir.path().join("mutate.yaml"))
        .arg("--snapshot")
        .arg(demo())
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        format!("{text}{err}").contains("rule add-team of add-team is a mutate rule"),
        "{text}{err}"
    );
}

/// The allowed-registries draft compares images as the runtime pulls them: a trusted
/// `docker.io/` or `docker.io/library/` admits `nginx:1.27` and `postgres:16.4`, never by the
/// literal prefix, in every engine.
#[test]
fn allowed_registries_normalize_docker_hub_short_names() {
    let rule = sextant::policy::catalog::rules()
        .iter()
        .find(|r| r.slug == "allowed-registries")
        .expect("rule");
    let pod = |image: &str| {
        serde_json::json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "namespace": "shop"},
            "spec": {"containers": [{"name": "c", "image": image}]}})
    };
    let mut engines = Engine::ALL.to_vec();
    engines.push(Engine::KyvernoClusterPolicy);
    for (trusted, image, admitted) in [
        ("docker.io/", "nginx:1.27", true),
        ("docker.io/", "postgres:16.4", true),
        ("docker.io/library/", "nginx:1.27", true),
        ("docker.io/library/", "bitnami/redis:7", false),
        ("docker.io/bitnami/", "bitnami/redis:7", true),
        ("registry.example.com/", "nginx:1.27", false),
        (
            "registry.example.com/",
            "registry.example.com/shop/web:1",
            true,
        ),
        ("docker.io/", "ghcr.io/acme/web:1", false),
    ] {
        for engine in &engines {
            let files = draft::render(
                rule,
                *engine,
                &draft::Scope::Cluster,
                None,
                &[],
                &[trusted.to_string()],
            );
            let denied = draft::evaluate(*engine, &files, &pod(image)).expect("evaluates");
            assert_eq!(
                denied.is_none(),
                admitted,
                "{engine:?} trusting {trusted}: {image} → {denied:?}"
            );
        }
        assert_eq!(
            sextant::policy::catalog::is_trusted(image, &[trusted.to_string()]),
            admitted
        );
    }
}

/// Gatekeeper drafts as the library's maintainers write them: a Pod's UPDATE is exempt (its
/// spec is immutable; a label change must not be denied), a Deployment's is not; the
/// constraint takes `exemptImages`; and the template's CEL source agrees with its Rego.
#[test]
fn gatekeeper_drafts_exempt_pod_updates_and_images_and_carry_cel() {
    use sextant::policy::gatekeeper::{Constraint, Template, review};
    let rule = sextant::policy::catalog::rules()
        .iter()
        .find(|r| r.slug == "disallow-privileged")
        .expect("rule");
    let files = draft::render(
        rule,
        Engine::Gatekeeper,
        &draft::Scope::Cluster,
        None,
        &[],
        &[],
    );
    let parse = |f: &str| -> Value { serde_saphyr::from_str(&files[f]).expect("yaml") };
    let template = Template::from_object(&parse("template.yaml")).expect("template");
    let constraint = Constraint::from_object(&parse("constraint.yaml")).expect("constraint");
    let privileged = |kind: &str, image: &str| {
        let pod_spec = serde_json::json!({"containers": [{"name": "c", "image": image,
            "securityContext": {"privileged": true}}]});
        match kind {
            "Pod" => serde_json::json!({"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": "p", "namespace": "shop"}, "spec": pod_spec}),
            _ => serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "d", "namespace": "shop"},
                "spec": {"template": {"spec": pod_spec}}}),
        }
    };
    let verdicts = |object: &Value, op: &str, params: &Value| {
        let r = review(object, op, Some(object));
        let rego = template.review(&r, params).expect("rego").len();
        let cel = template
            .cel_violations(&r, object, params)
            .expect("a CEL source")
            .expect("cel")
            .len();
        (rego, cel)
    };
    let none = serde_json::json!({});
    assert!(constraint.matches(&privileged("Pod", "nginx")));
    assert_eq!(
        verdicts(&privileged("Pod", "nginx"), "CREATE", &none),
        (1, 1)
    );
    assert_eq!(
        verdicts(&privileged("Pod", "nginx"), "UPDATE", &none),
        (0, 0)
    );
    assert_eq!(
        verdicts(&privileged("Deployment", "nginx"), "UPDATE", &none),
        (1, 1)
    );
    let exempt = serde_json::json!({"exemptImages": ["registry.example.com/debug/*"]});
    assert_eq!(
        verdicts(
            &privileged("Pod", "registry.example.com/debug/shell:1"),
            "CREATE",
            &exempt
        ),
        (0, 0)
    );
    assert_eq!(
        verdicts(&privileged("Pod", "nginx"), "CREATE", &exempt),
        (1, 1)
    );
}

/// Two findings of one category drafted into one `--out` each get their own folder (the
/// second never overwrites the first).
#[test]
fn two_findings_of_one_category_get_their_own_folders() {
    let state = common::load(&demo());
    let findings = sextant::analyzers::analyze(&state);
    let run_as_root: Vec<_> = findings
        .iter()
        .filter(|f| f.category == sextant::findings::Category::RunAsRoot)
        .collect();
    assert!(run_as_root.len() >= 2, "{}", run_as_root.len());
    let out = tempfile::tempdir().expect("tmp");
    for f in &run_as_root {
        let req = draft::request_for_finding(f, &state, vec![Engine::Kyverno]).expect("request");
        let d = draft::draft(&req, Vec::new()).expect("draft");
        suite::write_bundle(out.path(), &d).expect("write");
    }
    for f in &run_as_root {
        let dir = out
            .path()
            .join("sextant-require-run-as-non-root")
            .join(&f.id);
        assert!(
            dir.join("kyverno/policy.yaml").exists(),
            "{}",
            dir.display()
        );
    }
}

/// A ValidatingAdmissionPolicy that asks the API server's authorizer cannot be evaluated
/// offline: it is refused with that reason, never given a guessed verdict.
#[test]
fn an_authorizer_check_is_reported_not_guessed() {
    let vap: Value = serde_saphyr::from_str(
        "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata:\n  name: admins-only\nspec:\n  matchConstraints:\n    resourceRules:\n    - apiGroups: [apps]\n      apiVersions: [v1]\n      operations: [CREATE]\n      resources: [deployments]\n  validations:\n  - expression: \"authorizer.group('apps').resource('deployments').check('delete').allowed()\"\n",
    )
    .expect("yaml");
    let e = sextant::policy::vap::Policy::from_object(&vap).expect_err("not evaluable offline");
    assert!(
        e.to_string().contains("authorizer") && e.to_string().contains("not evaluated offline"),
        "{e}"
    );
}

/// A CEL expression the interpreter cannot evaluate (it would panic on a message literal) is
/// refused as the policy loads: one clear line and exit 2, never a crash mid-check.
#[test]
fn policy_check_refuses_message_construction_in_cel() {
    let dir = common::write_tree(&[(
        "structy.yaml",
        "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata:\n  name: structy\nspec:\n  matchConstraints:\n    resourceRules:\n    - apiGroups: ['']\n      apiVersions: [v1]\n      operations: [CREATE]\n      resources: [pods]\n  validations:\n  - expression: \"Foo{a: 1} == Foo{a: 1}\"\n---\napiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\nmetadata:\n  name: structy\nspec:\n  policyName: structy\n  validationActions: [Deny]\n",
    )]);
    let out = common::sextant()
        .args(["policy", "check"])
        .arg(dir.path())
        .arg("--snapshot")
        .arg(demo())
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("message construction"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}
