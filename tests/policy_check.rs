//! `policy check` over whole states: the object cut to what CEL policies read changes no
//! verdict, and Gatekeeper templates run on their CEL source as Gatekeeper runs them, over the
//! workloads of two real captures.

mod common;

use serde_json::Value;
use sextant::policy::{Engine, draft};
use std::path::{Path, PathBuf};

/// The upstream suites copied for these tests.
fn data(p: &str) -> PathBuf {
    common::data("policy").join(p)
}

/// Every catalog rule's cluster-wide drafts for `engines`, written to files in a temporary
/// directory (kept alive by the returned handle).
fn cluster_drafts(engines: &[Engine]) -> (tempfile::TempDir, Vec<std::path::PathBuf>) {
    let out = tempfile::tempdir().expect("tempdir");
    let mut files = Vec::new();
    for rule in sextant::policy::catalog::rules() {
        let req = draft::request_for_category(rule.category, engines.to_vec()).expect("request");
        let d = draft::draft(&req, Vec::new()).expect("draft");
        for e in d.drafts.iter().filter(|e| e.scope == draft::Scope::Cluster) {
            for (file, text) in &e.files {
                let path = out
                    .path()
                    .join(format!("{}-{}-{file}", d.policy, e.engine.as_str()));
                std::fs::write(&path, text).expect("write");
                files.push(path);
            }
        }
    }
    (out, files)
}

/// The states of the two real support bundles whose workloads policy tests run over.
fn two_real_captures() -> Vec<sextant::state::ClusterState> {
    ["real-dumps/troubleshoot-k3s", "real-dumps/sbctl-kurl"]
        .iter()
        .map(|capture| {
            let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/data")
                .join(capture);
            sextant::source::snapshot::load(&dir).expect("capture loads")
        })
        .collect()
}

/// Objects are cut to what a set's CEL policies read before they are converted for CEL
/// (`cel::Cover`); the cut must change no verdict and no message. Every upstream Kyverno
/// bundle with a CEL policy is checked against its own test resources and the workloads of
/// two real captures, with the cut and without it.
#[test]
fn the_object_cut_changes_no_verdict() {
    use sextant::policy::check::{self, PolicySet};
    // Every catalog draft (Kyverno, Gatekeeper, VAP) in one set: they start with the same
    // variables, evaluated once per object for all of them.
    let (_out, files) = cluster_drafts(&Engine::ALL);
    let mut drafts = PolicySet::load(&files).expect("drafts load");
    assert!(drafts.cover.is_some());
    let mut real = Vec::new();
    for state in two_real_captures() {
        let objects = check::workload_objects(&state);
        // What the CLI runs (each object made JSON while it is checked) reports the same.
        let streamed = check::check_state(&drafts, &state, &[]);
        let listed = check::check(&drafts, &objects, &[]);
        assert_eq!(streamed.objects, listed.objects);
        assert!(streamed.denials == listed.denials && !listed.denials.is_empty());
        real.extend(objects);
    }
    assert!(real.len() > 50, "{}", real.len());
    let mut bundles = Vec::new();
    for entry in common::files_under(&data("conformance/kyverno")) {
        // `<policy>/.kyverno-test/kyverno-test.yaml` beside `<policy>/<policy>.yaml`.
        if entry.file_name().is_some_and(|n| n == "kyverno-test.yaml") {
            bundles.extend(entry.parent().map(Path::to_path_buf));
        }
    }
    let (mut covered, mut denials) = (0, 0);
    let mut resources: Vec<Value> = Vec::new();
    for dir in bundles {
        let policy_dir = match dir.file_name() {
            Some(n) if n == ".kyverno-test" => dir.parent().map_or(dir.clone(), Path::to_path_buf),
            _ => dir.clone(),
        };
        let mut docs =
            sextant::policy::read_documents(std::slice::from_ref(&policy_dir)).unwrap_or_default();
        if !docs.iter().any(|(f, _)| f.starts_with(&dir)) {
            docs.extend(
                sextant::policy::read_documents(std::slice::from_ref(&dir)).unwrap_or_default(),
            );
        }
        let mut objects: Vec<Value> = docs
            .iter()
            .map(|(_, d)| d)
            .filter(|d| d.pointer("/metadata/name").is_some() && d.get("spec").is_some())
            .filter(|d| {
                !d["apiVersion"].as_str().is_some_and(|a| {
                    a.contains("kyverno.io") || a.contains("admissionregistration")
                })
            })
            .cloned()
            .collect();
        resources.extend(objects.iter().cloned());
        objects.extend(real.iter().cloned());
        let mut set = PolicySet::from_documents(docs);
        if set.cover.is_none() {
            continue;
        }
        covered += 1;
        let with = check::check(&set, &objects, &[]);
        set.cover = None;
        let without = check::check(&set, &objects, &[]);
        // The first difference, not two long lists.
        let first = |a: &[check::Denial], b: &[check::Denial]| {
            a.iter()
                .zip(b)
                .find(|(x, y)| x != y)
                .map(|(x, y)| format!("{x:?}\n  vs {y:?}"))
        };
        assert!(
            with.denials == without.denials,
            "{}: {} vs {} denials; {:?}",
            dir.display(),
            with.denials.len(),
            without.denials.len(),
            first(&with.denials, &without.denials)
        );
        assert_eq!(with.errors, without.errors, "{}", dir.display());
        denials += with.denials.len();
    }
    assert!(
        covered >= 40,
        "{covered} bundles with a CEL policy to cut for"
    );
    assert!(denials >= 100, "{denials}");

    // The drafts over every bundle's resources and the captures' workloads.
    resources.extend(real);
    let with = check::check(&drafts, &resources, &[]);
    drafts.cover = None;
    let without = check::check(&drafts, &resources, &[]);
    assert!(with.denials.len() >= 100, "{}", with.denials.len());
    assert!(
        with.denials == without.denials,
        "drafts: {} vs {} denials",
        with.denials.len(),
        without.denials.len()
    );
    assert_eq!(with.errors, without.errors);
}

/// `policy check` evaluates a Gatekeeper template that carries a CEL source with that source,
/// as Gatekeeper does (its CEL driver comes before Rego). Every draft's two sources must then
/// deny the same objects over the workloads of two real captures, or `policy check` and an
/// admission by a Gatekeeper with CEL turned off would differ. (The messages may be cut
/// differently: Rego says one line per offending container, a CEL validation one in all.)
#[test]
fn drafted_gatekeeper_cel_and_rego_deny_alike() {
    use sextant::policy::check::{self, Loaded, PolicySet};
    let (_out, files) = cluster_drafts(&[Engine::Gatekeeper]);
    let set = PolicySet::load(&files).expect("drafts load");
    let objects: Vec<Value> = two_real_captures()
        .iter()
        .flat_map(check::workload_objects)
        .collect();
    let (mut templates, mut denied) = (0, 0);
    let mut cel_said = Vec::new();
    for (name, p) in &set.policies {
        let Loaded::Gatekeeper {
            template,
            constraints,
        } = p
        else {
            continue;
        };
        assert!(template.preferred_cel().is_some(), "{name}: no CEL source");
        templates += 1;
        for o in &objects {
            for c in constraints.iter().filter(|c| c.matches(o)) {
                let review = sextant::policy::gatekeeper::review(o, "CREATE", None);
                let mut rego: Vec<String> = template
                    .review(&review, &c.parameters)
                    .expect("rego evaluates")
                    .into_iter()
                    .map(|v| v.msg)
                    .collect();
                let mut cel: Vec<String> = template
                    .cel_violations(&review, o, &c.parameters)
                    .expect("a CEL source")
                    .expect("CEL evaluates")
                    .into_iter()
                    .map(|v| v.msg)
                    .collect();
                rego.sort();
                cel.sort();
                cel_said.extend(cel.iter().cloned());
                assert_eq!(
                    rego.is_empty(),
                    cel.is_empty(),
                    "{name} on {}: Rego {rego:?}, CEL {cel:?}",
                    o["metadata"]["name"]
                );
                denied += usize::from(!rego.is_empty());
            }
        }
    }
    assert!(
        templates >= 10 && denied > 20,
        "{templates} templates, {denied} denials"
    );
    // And `policy check` says what the CEL sources say.
    let mut said: Vec<String> = check::check(&set, &objects, &[])
        .denials
        .into_iter()
        .flat_map(|d| std::iter::repeat_n(d.message, d.count))
        .collect();
    said.sort();
    cel_said.sort();
    assert_eq!(said, cel_said);
}

/// `policy check` reads a snapshot with its pods and controllers kept as JSON text (a fraction
/// of the typed model's memory): over every real capture, all drafts and the upstream Pod
/// Security policies in CEL, the report is the one the typed state gives, whole and kept to
/// one namespace.
#[test]
fn a_state_kept_as_json_checks_as_the_typed_state_does() {
    use sextant::policy::check::{self, PolicySet};
    use sextant::source::snapshot;
    let (_out, mut files) = cluster_drafts(&Engine::ALL);
    files.push(data("kyverno-policies/pod-security-cel"));
    let set = PolicySet::load(&files).expect("policies load");
    assert!(set.policies.len() > 30, "{}", set.policies.len());
    let mut denials = 0;
    for capture in [
        "troubleshoot-k3s",
        "sbctl-kurl",
        "must-gather-metal",
        "k8s-bench",
    ] {
        let dir = common::data("real-dumps").join(capture);
        let typed = snapshot::load(&dir).expect("capture loads");
        let json = snapshot::load_workloads_as_json(&dir).expect("capture loads");
        // Nothing of the workloads is typed in it; everything a check reads is there.
        assert!(
            json.pods.is_empty() && json.deployments.is_empty() && json.replica_sets.is_empty()
        );
        assert!(!json.workload_json.is_empty(), "{capture}");
        let report = |s: &sextant::state::ClusterState| {
            let r = check::check_state(&set, s, &check::namespace_labels(s));
            serde_json::to_value(&r).expect("report is JSON")
        };
        let (a, b) = (report(&typed), report(&json));
        assert_eq!(a, b, "{capture}");
        assert!(a["objects"].as_u64().is_some_and(|n| n > 0), "{capture}");
        denials += a["denials"].as_array().map_or(0, Vec::len);
        // `-n kube-system`.
        let (mut typed, mut json) = (typed, json);
        typed.retain_namespaces(&|n| n == "kube-system");
        json.retain_namespaces(&|n| n == "kube-system");
        assert_eq!(json.namespace_names(), typed.namespace_names(), "{capture}");
        assert_eq!(report(&typed), report(&json), "{capture} -n kube-system");
    }
    assert!(denials > 100, "{denials}");
}
