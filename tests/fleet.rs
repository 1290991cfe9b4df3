//! Fleets and trends: several `--snapshot` dumps as several clusters, several live contexts
//! (`--context a,b`, `--all-contexts`) against fake API servers, `--trends` aggregating across
//! them, SARIF for manifests, and the config file's default context.

mod common;
mod fake_kube;

use common::{copy_tree, demo, json_of, sextant, stdout_ok};
use fake_kube::{FakeKube, Faults};
use serde_json::Value;
use std::path::PathBuf;

/// The demo as two clusters, `eu` and `us`.
fn two_dumps() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let tmp = tempfile::tempdir().expect("tmp");
    let (eu, us) = (tmp.path().join("eu"), tmp.path().join("us"));
    copy_tree(&demo(), &eu);
    copy_tree(&demo(), &us);
    (tmp, eu, us)
}

fn trend<'a>(json: &'a Value, category: &str) -> &'a Value {
    json["trends"]
        .as_array()
        .expect("trends")
        .iter()
        .find(|t| t["category"] == category)
        .unwrap_or_else(|| panic!("no {category} trend in {json}"))
}

#[test]
fn two_snapshots_are_two_clusters_and_trends_aggregate_across_both() {
    let (_tmp, eu, us) = two_dumps();
    let one = json_of(
        &sextant()
            .args(["analyze", "-o", "json", "--snapshot"])
            .arg(&eu)
            .output()
            .expect("run"),
    );
    let per_cluster = one["findings"].as_array().expect("findings").len();

    let out = sextant()
        .args(["analyze", "--trends", "-o", "json", "--snapshot"])
        .arg(&eu)
        .arg("--snapshot")
        .arg(&us)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let fleet = json_of(&out);
    let clusters = fleet["clusters"].as_array().expect("clusters");
    let names: Vec<&str> = clusters.iter().filter_map(|c| c["name"].as_str()).collect();
    assert_eq!(names, ["eu", "us"]);
    for c in clusters {
        assert_eq!(c["findings"].as_array().map(Vec::len), Some(per_cluster));
        assert!(c["error"].is_null());
        assert_eq!(c["source"]["kind"], "snapshot");
    }
    let total = fleet["summary"]["critical"].as_u64().unwrap_or(0)
        + fleet["summary"]["warning"].as_u64().unwrap_or(0)
        + fleet["summary"]["info"].as_u64().unwrap_or(0);
    assert_eq!(total as usize, 2 * per_cluster);

    // The same two workloads run as root in each cluster: four workloads, two applications,
    // namespaces named per cluster, and one policy for all of them.
    let root = trend(&fleet, "RunAsRoot");
    let single = trend(
        &json_of(
            &sextant()
                .args(["analyze", "--trends", "-o", "json", "--snapshot"])
                .arg(&eu)
                .output()
                .expect("run"),
        ),
        "RunAsRoot",
    )
    .clone();
    assert_eq!(
        root["workloads"],
        2 * single["workloads"].as_u64().unwrap_or(0)
    );
    assert_eq!(root["applications"], single["applications"]);
    assert_eq!(root["clusters"], serde_json::json!(["eu", "us"]));
    assert!(
        root["namespaces"].as_array().expect("ns").iter().all(|n| n
            .as_str()
            .is_some_and(|n| n.starts_with("eu/") || n.starts_with("us/"))),
        "{root}"
    );
    assert_eq!(root["policy"], "sextant policy draft RunAsRoot");
    let summary = root["summary"].as_str().expect("summary");
    assert!(
        summary.contains("across 2 clusters run as root; one policy covers them all"),
        "{summary}"
    );

    // Text: one block per category, the sentence, the command, the guidance.
    let text = stdout_ok(
        sextant()
            .args(["analyze", "--trends", "--snapshot"])
            .arg(&eu)
            .arg("--snapshot")
            .arg(&us),
    );
    assert!(text.contains("2 clusters (eu, us)"), "{text}");
    assert!(text.contains(summary), "{text}");
    assert!(text.contains("fix once, centrally: sextant policy draft RunAsRoot"));
    assert!(text.contains("Level 4: "));

    // Without --trends: each cluster's report under its name, then the fleet's total.
    let text = stdout_ok(
        sextant()
            .args(["analyze", "--snapshot"])
            .arg(&eu)
            .arg("--snapshot")
            .arg(&us),
    );
    assert!(text.contains("── cluster eu ──") && text.contains("── cluster us ──"));
    assert!(text.contains("2 clusters: "), "{text}");
}

#[test]
fn fleet_flags_are_refused_where_they_mean_nothing() {
    let (_tmp, eu, us) = two_dumps();
    for args in [
        vec!["explain", "F-000000"],
        vec!["ask", "why?"],
        vec!["policy", "draft", "Privileged"],
    ] {
        let out = sextant()
            .args(&args)
            .arg("--snapshot")
            .arg(&eu)
            .arg("--snapshot")
            .arg(&us)
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("only `analyze` reads a fleet"), "{err}");
    }
    // A missing dump among several is named, exit 2.
    let out = sextant()
        .args(["analyze", "--snapshot"])
        .arg(&eu)
        .args(["--snapshot", "/nonexistent/dump"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/dump"));
    // --snapshot and live contexts together.
    let out = sextant()
        .args(["analyze", "--all-contexts", "--snapshot"])
        .arg(&eu)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
}

/// Two fake clusters in one kubeconfig (two files merged through KUBECONFIG), plus a third
/// context whose server does not answer.
#[test]
fn live_contexts_are_read_concurrently_read_only_and_a_dead_one_is_reported() {
    let a = FakeKube::start(Faults::default()).with_dump(&demo());
    let b = FakeKube::start(Faults::default()).with_dump(&demo());
    let tmp = tempfile::tempdir().expect("tmp");
    let files: Vec<PathBuf> = [
        ("prod-eu", a.url()),
        ("prod-us", b.url()),
        ("dead", "http://127.0.0.1:1".to_string()),
    ]
    .iter()
    .map(|(ctx, url)| {
        let p = tmp.path().join(ctx);
        std::fs::write(&p, fake_kube::kubeconfig_text(url, ctx)).expect("kc");
        p
    })
    .collect();
    let kubeconfig = std::env::join_paths(&files).expect("join");
    let run = |args: &[&str]| {
        sextant()
            .env("KUBECONFIG", &kubeconfig)
            .env("HOME", "/nonexistent")
            .args(["--request-timeout", "2s"])
            .args(args)
            .output()
            .expect("run")
    };

    let out = run(&[
        "analyze",
        "--context",
        "prod-eu,prod-us",
        "-o",
        "json",
        "--trends",
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let fleet = json_of(&out);
    let names: Vec<&str> = fleet["clusters"]
        .as_array()
        .expect("clusters")
        .iter()
        .filter_map(|c| c["source"]["path_or_context"].as_str())
        .collect();
    assert_eq!(names, ["prod-eu", "prod-us"]);
    assert_eq!(
        trend(&fleet, "CrashLoopBackOff")["clusters"],
        serde_json::json!(["prod-eu", "prod-us"])
    );
    for server in [&a, &b] {
        let reqs = server.requests();
        assert!(!reqs.is_empty(), "each cluster is read");
        assert!(
            reqs.iter()
                .all(|r| r.method == "GET" && !r.path.split('/').any(|s| s == "secrets")),
            "only reads: {reqs:?}"
        );
    }

    // Every context, including one that does not answer: the others are reported, the dead
    // one is named with its reason, exit 1.
    let out = run(&["analyze", "--all-contexts", "-o", "json"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let fleet = json_of(&out);
    let clusters = fleet["clusters"].as_array().expect("clusters");
    assert_eq!(clusters.len(), 3);
    let dead = clusters
        .iter()
        .find(|c| c["name"] == "dead")
        .expect("dead listed");
    assert!(
        dead["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{dead}"
    );
    assert!(
        clusters
            .iter()
            .filter(|c| c["name"] != "dead")
            .all(|c| c["error"].is_null() && !c["findings"].as_array().expect("f").is_empty())
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cluster dead:"), "{err}");
}

#[test]
fn sarif_points_at_the_manifest_line() {
    let dir = tempfile::tempdir().expect("tmp");
    let manifests = dir.path().join("k8s");
    std::fs::create_dir_all(&manifests).expect("mkdir");
    std::fs::write(
        manifests.join("web.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  labels:\n    name: web\n  name: web\n  namespace: shop\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers:\n      - name: web\n        image: nginx:latest\n        securityContext: {privileged: true}\n",
    )
    .expect("write");
    let out = sextant()
        .current_dir(dir.path())
        .args(["analyze", "--snapshot", "k8s", "-o", "sarif"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let sarif = json_of(&out);
    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "sextant");
    let rules: Vec<&str> = run["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .filter_map(|r| r["id"].as_str())
        .collect();
    let results = run["results"].as_array().expect("results");
    let privileged = results
        .iter()
        .find(|r| r["ruleId"] == "Privileged")
        .expect("privileged result");
    let loc = &privileged["locations"][0];
    assert_eq!(
        loc["physicalLocation"]["artifactLocation"]["uri"],
        "k8s/web.yaml"
    );
    assert_eq!(
        loc["physicalLocation"]["region"]["startLine"], 11,
        "the Deployment's metadata.name, not the label"
    );
    assert_eq!(
        loc["logicalLocations"][0]["fullyQualifiedName"],
        "shop/Deployment/web"
    );
    for r in results {
        let id = r["ruleId"].as_str().expect("ruleId");
        assert!(rules.contains(&id), "{id} has a rule");
        assert_eq!(rules[r["ruleIndex"].as_u64().expect("index") as usize], id);
        assert!(["error", "warning", "note"].contains(&r["level"].as_str().unwrap_or("")));
        assert!(r["partialFingerprints"]["sextantFindingId/v1"].is_string());
    }
    let rule = run["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .find(|r| r["id"] == "Privileged")
        .expect("rule");
    assert!(rule["properties"]["security-severity"].is_string());
    assert!(
        rule["help"]["text"]
            .as_str()
            .is_some_and(|h| h.contains("sextant policy draft Privileged"))
    );

    // Trends have no SARIF form.
    let out = sextant()
        .current_dir(dir.path())
        .args(["analyze", "--snapshot", "k8s", "-o", "sarif", "--trends"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));

    // SARIF is analyze's only; elsewhere it is a usage error.
    let out = sextant()
        .args(["guidance", "search", "policy", "-o", "sarif"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
}

/// `[cluster] context` in the config file picks the context when --context is absent; the
/// flag still wins.
#[test]
fn config_default_context_is_used_and_the_flag_wins() {
    let server = FakeKube::start(Faults::default()).with_dump(&demo());
    let tmp = tempfile::tempdir().expect("tmp");
    // KUBECONFIG merges two files; the first's current-context, "other", is a dead server.
    let fake = tmp.path().join("fake");
    let other = tmp.path().join("other");
    std::fs::write(
        &other,
        fake_kube::kubeconfig_text("http://127.0.0.1:1", "other"),
    )
    .expect("o");
    std::fs::write(&fake, fake_kube::kubeconfig_text(&server.url(), "fake")).expect("f");
    let kubeconfig = std::env::join_paths([&other, &fake]).expect("join");
    let cfg = tmp.path().join("config.toml");
    std::fs::write(&cfg, "[cluster]\ncontext = \"fake\"\n").expect("cfg");
    let run = |extra: &[&str]| {
        sextant()
            .env("KUBECONFIG", &kubeconfig)
            .env("HOME", "/nonexistent")
            .args(["--request-timeout", "2s", "--config"])
            .arg(&cfg)
            .args(extra)
            .args(["analyze", "-o", "json"])
            .output()
            .expect("run")
    };
    let out = run(&[]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(json_of(&out)["source"]["path_or_context"], "fake");
    assert!(!server.requests().is_empty());
    // The flag names the dead context: it is used, and fails.
    let out = run(&["--context", "other"]);
    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("other"));
}
