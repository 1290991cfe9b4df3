//! The outside of the program, as `docs/cli.md` fixes it: exit codes,
//! one-line errors, output formats, the JSON shape, and what must never be printed.

mod common;

use common::{copy_tree, demo, sextant, write_tree};
use serde_json::Value;
use std::collections::HashSet;

/// The password planted in the demo's cart logs; it must never leave Sextant.
const PLANTED: &str = "Sup3rS3cretPassw0rd!";

fn demo_arg() -> String {
    demo().display().to_string()
}

fn stdout_of(args: &[&str]) -> String {
    let out = sextant().args(args).output().expect("run");
    String::from_utf8(out.stdout).expect("utf-8 stdout")
}

fn json_of(args: &[&str]) -> Value {
    let out = sextant().args(args).output().expect("run");
    assert!(
        out.status.code() == Some(0),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}

/// Exit 2 with exactly one line on stderr that mentions `needle`.
fn assert_usage_error(args: &[&str], needle: &str) {
    let out = sextant().args(args).output().expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "args {args:?}; stderr: {err}");
    let lines: Vec<&str> = err
        .lines()
        .filter(|l| !l.starts_with("note:") && !l.trim().is_empty())
        .collect();
    assert_eq!(lines.len(), 1, "one-line error expected, got: {err}");
    assert!(
        lines[0].contains(needle),
        "{needle:?} not in {:?}",
        lines[0]
    );
    assert!(!err.contains("panicked"), "panic: {err}");
    assert!(out.stdout.is_empty(), "nothing on stdout for a usage error");
}

#[test]
fn missing_snapshot_is_exit_2_naming_the_flag() {
    assert_usage_error(
        &["analyze", "--snapshot", "/definitely/not/here"],
        "--snapshot /definitely/not/here",
    );
}

#[test]
fn empty_tree_is_exit_2() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().display().to_string();
    assert_usage_error(&["analyze", "--snapshot", &p], "no Kubernetes objects");
}

#[test]
fn a_tree_of_unparsable_files_is_exit_2_but_one_bad_file_is_not() {
    let bad = write_tree(&[("pods.json", "{\"kind\": \"PodList\", \"items\": [")]);
    let p = bad.path().display().to_string();
    assert_usage_error(&["analyze", "--snapshot", &p], "--snapshot");

    let mixed = write_tree(&[
        ("pods.json", "{\"kind\": \"PodList\", \"items\": ["),
        (
            "svc.yaml",
            "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: default}\nspec:\n  selector: {app: web}\n",
        ),
    ]);
    let p = mixed.path().display().to_string();
    let out = sextant()
        .args(["analyze", "--snapshot", &p])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    // The report names the file and why it was skipped; the rest loaded.
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("pods.json: truncated JSON"), "{text}");
    assert!(text.contains("Service web"), "{text}");
}

#[test]
fn bad_filters_are_exit_2_naming_the_flag() {
    let d = demo_arg();
    assert_usage_error(
        &["analyze", "--snapshot", &d, "--category", "Bogus"],
        "--category",
    );
    assert_usage_error(
        &["analyze", "--snapshot", &d, "--min-severity", "huge"],
        "--min-severity",
    );
    assert_usage_error(&["analyze", "--snapshot", &d, "-o", "yaml"], "yaml");
}

#[test]
fn explain_unknown_and_ambiguous_ids_are_exit_2() {
    let d = demo_arg();
    assert_usage_error(&["explain", "F-zzzzzz", "--snapshot", &d], "not found");
    // Every id starts with F-, so the bare prefix is ambiguous.
    assert_usage_error(&["explain", "F-", "--snapshot", &d], "ambiguous");
}

#[test]
fn fail_on_turns_findings_into_exit_1() {
    let d = demo_arg();
    sextant()
        .args(["analyze", "--snapshot", &d, "--fail-on", "critical"])
        .assert()
        .code(1);
    // Nothing critical in the filtered view: success.
    sextant()
        .args([
            "analyze",
            "--snapshot",
            &d,
            "--category",
            "LatestTag",
            "--fail-on",
            "critical",
        ])
        .assert()
        .code(0);
    sextant()
        .args(["analyze", "--snapshot", &d])
        .assert()
        .code(0);
}

#[test]
fn piped_text_has_no_escape_codes_even_without_no_color() {
    let d = demo_arg();
    let out = sextant()
        .env_remove("NO_COLOR")
        .args(["analyze", "--snapshot", &d])
        .output()
        .expect("run");
    let text = String::from_utf8(out.stdout).expect("utf-8");
    assert!(!text.contains('\u{1b}'), "escape codes in piped output");
    assert!(text.contains("CRITICAL"), "{text}");
}

#[test]
fn text_groups_findings_under_their_owner() {
    let text = stdout_of(&["analyze", "--snapshot", &demo_arg()]);
    let first = text.lines().next().unwrap_or_default();
    assert!(first.starts_with("Sextant snapshot"), "{first}");
    assert!(text.contains("shop · Deployment cart"), "{text}");
    // Three crashing replicas read as one problem: one line in the list.
    assert_eq!(
        text.lines()
            .filter(|l| l.starts_with("  CRITICAL F-") && l.contains("shop/cart-"))
            .count(),
        1,
        "{text}"
    );
    assert!(text.contains("3 pods of Deployment cart"));
}

const CATEGORIES: &[&str] = &[
    "CrashLoopBackOff",
    "ImagePullBackOff",
    "CreateContainerConfigError",
    "CreateContainerError",
    "RunContainerError",
    "OOMKilled",
    "ContainerExitError",
    "ProbeFailure",
    "Unschedulable",
    "Evicted",
    "RolloutStuck",
    "ReplicasUnavailable",
    "JobFailed",
    "CronJobFailing",
    "ServiceNoEndpoints",
    "IngressBackendMissing",
    "IngressTLSSecretMissing",
    "IngressClassMissing",
    "NetworkPolicyNoMatch",
    "PVCPending",
    "PVCLost",
    "NodeNotReady",
    "NodePressure",
    "HPAUnhealthy",
    "PDBBlocking",
    "Privileged",
    "PrivilegeEscalation",
    "HostNamespace",
    "HostPath",
    "RunAsRoot",
    "DangerousCapabilities",
    "NoResourceLimits",
    "NoResourceRequests",
    "LatestTag",
    "NoProbes",
];

fn str_field<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("{k} missing or not a string in {v}"))
}

/// The JSON shape of the contract, checked field by field.
#[test]
fn json_follows_the_contract() {
    let v = json_of(&["analyze", "--snapshot", &demo_arg(), "-o", "json"]);
    assert_eq!(v["source"]["kind"], "snapshot");
    assert!(str_field(&v["source"], "path_or_context").ends_with("demo-incident"));
    let findings = v["findings"].as_array().expect("findings array");
    assert!(findings.len() >= 20, "{} findings", findings.len());
    let id_re = regex::Regex::new(r"^F-[0-9a-f]{8}([0-9a-f]{8})?$").expect("re");
    let mut ids = HashSet::new();
    let mut counts = std::collections::HashMap::<String, u64>::new();
    let mut last_rank = 0;
    for f in findings {
        let id = str_field(f, "id");
        assert!(id_re.is_match(id), "id {id}");
        assert!(ids.insert(id.to_string()), "duplicate id {id}");
        let sev = str_field(f, "severity");
        let rank = ["critical", "warning", "info"]
            .iter()
            .position(|s| *s == sev)
            .unwrap_or_else(|| panic!("severity {sev}"));
        assert!(rank >= last_rank, "critical first, then warning, then info");
        last_rank = rank;
        *counts.entry(sev.to_string()).or_default() += 1;
        let cat = str_field(f, "category");
        assert!(
            CATEGORIES.contains(&cat),
            "category {cat} not in the contract"
        );
        let obj = &f["object"];
        assert!(!str_field(obj, "kind").is_empty());
        assert!(!str_field(obj, "name").is_empty());
        assert!(obj.get("namespace").is_some(), "object.namespace present");
        assert!(
            f["owner"].is_null()
                || f["owner"]["kind"].is_string() && f["owner"]["name"].is_string()
        );
        for k in ["title", "explanation", "remediation"] {
            assert!(!str_field(f, k).trim().is_empty(), "{k} empty in {id}");
        }
        let evidence = f["evidence"].as_array().expect("evidence array");
        assert!(!evidence.is_empty(), "{id} has no evidence");
        for e in evidence {
            let src = str_field(e, "source");
            assert!(["event", "log", "status", "spec"].contains(&src), "{src}");
            assert!(!str_field(e, "text").is_empty());
            assert!(!str_field(e, "ref").is_empty());
        }
        assert!(f["guidance"].is_array(), "guidance is an array");
    }
    for sev in ["critical", "warning", "info"] {
        assert_eq!(
            v["summary"][sev].as_u64(),
            Some(counts.get(sev).copied().unwrap_or(0)),
            "summary.{sev}"
        );
    }
}

/// The shape and ranking of the demo's findings, pinned. Review changes with
/// `cargo insta review`.
#[test]
fn json_snapshot_of_the_demo() {
    let v = json_of(&["analyze", "--snapshot", &demo_arg(), "-o", "json"]);
    let brief: Vec<Value> = v["findings"]
        .as_array()
        .expect("array")
        .iter()
        .map(|f| {
            serde_json::json!({
                "id": f["id"], "severity": f["severity"], "category": f["category"],
                "object": f["object"], "owner": f["owner"], "title": f["title"],
            })
        })
        .collect();
    insta::assert_json_snapshot!("demo_findings", brief);
}

#[test]
fn ids_are_stable_across_runs() {
    let d = demo_arg();
    let a = json_of(&["analyze", "--snapshot", &d, "-o", "json"]);
    let b = json_of(&["analyze", "--snapshot", &d, "-o", "json"]);
    let ids = |v: &Value| -> Vec<String> {
        v["findings"]
            .as_array()
            .expect("array")
            .iter()
            .map(|f| f["id"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    assert_eq!(ids(&a), ids(&b));
}

#[test]
fn filters_narrow_the_view() {
    let d = demo_arg();
    let v = json_of(&["analyze", "--snapshot", &d, "-o", "json", "-n", "payments"]);
    let mut nodes = 0;
    for f in v["findings"].as_array().expect("array") {
        if f["object"]["kind"] == "Node" {
            // Only nodes that run a payments pod stay in view.
            assert!(f["object"]["namespace"].is_null());
            nodes += 1;
        } else {
            assert_eq!(f["object"]["namespace"], "payments", "{f}");
        }
    }
    let all = json_of(&["analyze", "--snapshot", &d, "-o", "json"]);
    let all_nodes = all["findings"]
        .as_array()
        .expect("array")
        .iter()
        .filter(|f| f["object"]["kind"] == "Node")
        .count();
    assert!(nodes < all_nodes, "unrelated node findings are dropped");
    let v = json_of(&[
        "analyze",
        "--snapshot",
        &d,
        "-o",
        "json",
        "--category",
        "OOMKilled,ImagePullBackOff",
    ]);
    let cats: HashSet<&str> = v["findings"]
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|f| f["category"].as_str())
        .collect();
    assert_eq!(cats, HashSet::from(["OOMKilled", "ImagePullBackOff"]));
    let v = json_of(&[
        "analyze",
        "--snapshot",
        &d,
        "-o",
        "json",
        "--min-severity",
        "critical",
    ]);
    assert!(
        v["findings"]
            .as_array()
            .expect("array")
            .iter()
            .all(|f| f["severity"] == "critical")
    );
    assert_eq!(v["summary"]["info"], 0);
}

#[test]
fn markdown_is_a_ticket_ready_table() {
    let md = stdout_of(&["analyze", "--snapshot", &demo_arg(), "-o", "markdown"]);
    assert!(md.starts_with("# Sextant findings"), "{md}");
    assert!(md.contains("| Severity | ID | Category | Object | Title |"));
    assert!(md.contains("| critical | `F-"), "{md}");
    assert!(!md.contains('\u{1b}'));
}

#[test]
fn explain_accepts_an_id_prefix_and_shows_the_cause() {
    let d = demo_arg();
    let v = json_of(&[
        "analyze",
        "--snapshot",
        &d,
        "-o",
        "json",
        "--category",
        "CrashLoopBackOff",
    ]);
    let id = v["findings"][0]["id"].as_str().expect("id").to_string();
    let text = stdout_of(&["explain", &id[..6], "--snapshot", &d]);
    assert!(text.contains(&id), "{text}");
    assert!(
        text.contains("REDIS_URL"),
        "names the missing variable: {text}"
    );
    assert!(text.contains("Evidence"));
    let j = json_of(&["explain", &id, "--snapshot", &d, "-o", "json"]);
    assert_eq!(j["id"], id.as_str());
    assert_eq!(j["category"], "CrashLoopBackOff");
}

#[test]
fn secrets_are_skipped_and_said_so_once() {
    let out = sextant()
        .args(["analyze", "--snapshot", &demo_arg()])
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.matches("never reads Secrets").count(), 1, "{err}");
}

/// The planted password is in the demo's raw logs; no output format and no explanation
/// may carry it.
#[test]
fn the_planted_password_never_leaves() {
    let d = demo_arg();
    let raw = std::fs::read_to_string(demo().join("shop/cart-6d9f7c5b8-m8qzt/logs.txt"))
        .expect("demo log");
    assert!(raw.contains(PLANTED), "the demo must plant the secret");
    let mut outputs = Vec::new();
    for fmt in ["text", "json", "markdown"] {
        outputs.push(stdout_of(&["analyze", "--snapshot", &d, "-o", fmt]));
    }
    let v = json_of(&["analyze", "--snapshot", &d, "-o", "json"]);
    // Explain renders the same finding as the JSON above; run it on those quoting logs.
    for f in v["findings"].as_array().expect("array") {
        let quotes_logs = f["evidence"]
            .as_array()
            .is_some_and(|e| e.iter().any(|e| e["source"] == "log"));
        if quotes_logs {
            let id = f["id"].as_str().expect("id");
            outputs.push(stdout_of(&["explain", id, "--snapshot", &d]));
        }
    }
    assert!(outputs.len() > 3, "some findings quote logs");
    for o in &outputs {
        assert!(!o.contains(PLANTED), "secret leaked:\n{o}");
        assert!(!o.contains("Sup3rS3cret"), "partial secret leaked");
    }
}

#[test]
fn global_flags_of_the_contract_are_accepted() {
    let d = demo_arg();
    sextant()
        .args([
            "analyze",
            "--snapshot",
            &d,
            "--offline",
            "-A",
            "-q",
            "--index-dir",
            "/tmp/sextant-idx-unused",
            "--config",
            "/dev/null",
        ])
        .assert()
        .code(0);
}

#[test]
fn guidance_search_json_follows_the_contract() {
    let v = json_of(&[
        "guidance",
        "search",
        "how do we enforce security policies in production",
        "-o",
        "json",
    ]);
    let hits = v["hits"].as_array().expect("hits");
    assert!(!hits.is_empty());
    let mut last = f64::INFINITY;
    for h in hits {
        for k in ["id", "file", "heading", "lang", "text"] {
            assert!(!str_field(h, k).is_empty(), "{k} in {h}");
        }
        let score = h["score"].as_f64().expect("score");
        assert!(score <= last, "best first");
        last = score;
    }
    assert_eq!(hits[0]["heading"], "Technology > Security and Policy");
    assert_eq!(hits[0]["file"], "level-4.en.md");
    let de = json_of(&[
        "guidance",
        "search",
        "Sicherheit und Richtlinien",
        "-o",
        "json",
    ]);
    assert_eq!(de["hits"][0]["lang"], "de");
    let zh = json_of(&["guidance", "search", "安全性", "-o", "json"]);
    assert_eq!(zh["hits"][0]["lang"], "zh");
    let text = stdout_of(&["guidance", "search", "cost optimization"]);
    assert!(text.contains("Business Outcomes > Cost"), "{text}");
    assert!(text.contains("CC BY 4.0"), "attribution shown");
}

#[test]
fn guidance_and_index_usage_errors_are_exit_2() {
    assert_usage_error(&["guidance", "search"], "give a query");
    assert_usage_error(&["guidance", "search", "x", "--lang", "fr"], "--lang");
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path().display().to_string();
    assert_usage_error(
        &["index", "search", "x", "--kind", "bogus", "--index-dir", &d],
        "--kind",
    );
    assert_usage_error(
        &["index", "search", "x", "--since", "soon", "--index-dir", &d],
        "--since",
    );
    let cfg = dir.path().join("bad.toml");
    std::fs::write(&cfg, "[guidance\n").expect("write");
    let c = cfg.display().to_string();
    assert_usage_error(&["guidance", "search", "x", "--config", &c], "bad.toml");
    assert_usage_error(
        &["guidance", "search", "x", "--guidance", "/no/such/dir"],
        "--guidance /no/such/dir",
    );
}

#[test]
fn every_finding_cites_guidance_that_exists() {
    let v = json_of(&["analyze", "--snapshot", &demo_arg(), "-o", "json"]);
    let files = [
        "level-4.en.md",
        "level-4.en.v1.md",
        "level-4.en.v1.txt",
        "level-4.de.md",
        "level-4.zh.md",
    ];
    let mut checked = HashSet::new();
    for f in v["findings"].as_array().expect("findings") {
        let g = f["guidance"].as_array().expect("guidance");
        assert!(!g.is_empty(), "{} has no guidance", f["id"]);
        for r in g {
            assert!(files.contains(&str_field(r, "file")), "{r}");
            assert_eq!(r["lang"], "en");
            if !checked.insert(str_field(r, "id").to_string()) {
                continue;
            }
            // The cited section is findable by its heading.
            let heading = str_field(r, "heading");
            let hits = json_of(&["guidance", "search", heading, "-o", "json", "--limit", "10"]);
            assert!(
                hits["hits"]
                    .as_array()
                    .expect("hits")
                    .iter()
                    .any(|h| h["id"] == r["id"]),
                "{} not found by its heading",
                r["id"]
            );
        }
    }
    let privileged = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["category"] == "Privileged")
        .expect("a privileged finding in the demo");
    assert_eq!(
        privileged["guidance"][0]["heading"],
        "Technology > Security and Policy"
    );
}

#[test]
fn index_build_is_incremental_and_searchable() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path().display().to_string();
    let demo = demo_arg();
    let first = stdout_of(&["index", "build", "--snapshot", &demo, "--index-dir", &d]);
    assert!(first.contains("guidance: 80 sections (80 added"), "{first}");
    assert!(first.contains("events"), "{first}");
    let second = stdout_of(&["index", "build", "--snapshot", &demo, "--index-dir", &d]);
    assert!(
        second.contains("(0 added, 0 updated, 0 removed"),
        "nothing changes the second time: {second}"
    );
    let stats = json_of(&["index", "stats", "-o", "json", "--index-dir", &d]);
    for k in ["guidance", "event", "log", "finding"] {
        assert!(
            stats["by_kind"][k].as_u64().unwrap_or(0) > 0,
            "{k}: {stats}"
        );
    }
    let hits = json_of(&[
        "index",
        "search",
        "REDIS_URL",
        "--kind",
        "log",
        "-n",
        "shop",
        "-o",
        "json",
        "--index-dir",
        &d,
    ]);
    let h = &hits["hits"][0];
    assert_eq!(h["kind"], "log");
    assert_eq!(h["namespace"], "shop");
    assert!(str_field(h, "text").contains("REDIS_URL"));
    let logs = stdout_of(&[
        "index",
        "search",
        "REDIS_URL",
        "--kind",
        "log",
        "--limit",
        "1",
        "--index-dir",
        &d,
    ]);
    assert!(
        logs.contains(
            "\n   2026-11-24T08:54:02Z ERROR config: environment variable REDIS_URL is required\n"
        ),
        "log lines keep their breaks: {logs}"
    );
    assert!(logs.contains("[REDACTED:"), "{logs}");
    let text = stdout_of(&[
        "index",
        "search",
        "back-off",
        "--kind",
        "event",
        "--since",
        "1h",
        "--index-dir",
        &d,
    ]);
    assert!(text.contains("[event]"), "{text}");
}

#[test]
fn explain_cites_level_4_guidance() {
    let v = json_of(&[
        "analyze",
        "--snapshot",
        &demo_arg(),
        "-o",
        "json",
        "--category",
        "NoResourceLimits",
    ]);
    let id = str_field(&v["findings"][0], "id").to_string();
    let text = stdout_of(&["explain", &id, "--snapshot", &demo_arg()]);
    assert!(text.contains("Level 4 guidance"), "{text}");
    assert!(
        text.contains("Cost Efficiency, Resource Usage and Sustainability"),
        "{text}"
    );
}

/// A context named on the command line that cannot be reached is an error for `ask` and
/// `index build` (exit 2, one line); without one, `ask` answers from the guidance with a note.
#[test]
fn an_unreachable_named_context_is_exit_2() {
    for args in [
        vec!["--context", "nope", "ask", "what is wrong?"],
        vec!["--context", "nope", "index", "build"],
    ] {
        let data = tempfile::tempdir().expect("tmp");
        let out = common::sextant_no_cluster()
            .env("XDG_DATA_HOME", data.path())
            .args(&args)
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
    let out = common::sextant_no_cluster()
        .args(["ask", "what does level 4 say about audit?"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
}

/// Text output fits the terminal: with `COLUMNS=80` no line is wider (a long word alone
/// excepted), cuts are marked with `…`, the one-line-per-finding list comes before the
/// details, and `--brief` prints the list alone.
#[test]
fn the_text_report_fits_80_columns_and_lists_before_details() {
    // A checkout path as long as a CI runner's: the header wraps, the path is never cut.
    let tmp = tempfile::tempdir().expect("tmp");
    let deep = tmp
        .path()
        .join("a-checkout-directory-as-long-as-the-ones-ci-runners-use/examples/demo-incident");
    copy_tree(&demo(), &deep);
    let mut text = String::new();
    for dump in [demo(), deep.clone()] {
        let out = sextant()
            .env("COLUMNS", "80")
            .args(["analyze", "--snapshot"])
            .arg(&dump)
            .output()
            .expect("run");
        text = String::from_utf8_lossy(&out.stdout).into_owned();
        for line in text.lines() {
            assert!(
                line.chars().count() <= 80 || !line.trim().contains(' '),
                "{} columns: {line}",
                line.chars().count()
            );
        }
    }
    assert!(text.contains(&deep.display().to_string()), "{text}");
    assert!(text.contains('…'), "{text}");
    let list = text.find("  CRITICAL F-").expect("a list line");
    let details = text.find("      evidence:").expect("details");
    assert!(list < details, "{text}");
    let brief = String::from_utf8_lossy(
        &sextant()
            .env("COLUMNS", "80")
            .args(["analyze", "--brief", "--snapshot"])
            .arg(demo())
            .output()
            .expect("run")
            .stdout,
    )
    .into_owned();
    assert!(
        brief.contains("  CRITICAL F-") && !brief.contains("evidence:"),
        "{brief}"
    );
    // explain, the in-depth view, wraps instead of cutting: every word of the evidence stays.
    let explained = String::from_utf8_lossy(
        &sextant()
            .env("COLUMNS", "80")
            .args(["explain", "cart", "--snapshot"])
            .arg(demo())
            .output()
            .expect("run")
            .stdout,
    )
    .into_owned();
    for line in explained.lines() {
        assert!(
            line.chars().count() <= 80 || !line.trim().contains(' '),
            "{} columns: {line}",
            line.chars().count()
        );
    }
    assert!(!explained.contains('…'), "{explained}");
    assert!(
        explained.contains("(×61, 2026-11-24 07:45:00Z .. 2026-11-24 08:59:00Z)")
            || explained.contains("08:59:00Z)"),
        "{explained}"
    );
}

/// `explain` takes an object's name as well as a finding id: its most severe finding.
#[test]
fn explain_takes_an_object_name() {
    let out = sextant()
        .args(["explain", "cart", "--snapshot"])
        .arg(demo())
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(text.contains("CrashLoopBackOff"), "{text}");
    let out = sextant()
        .args(["explain", "nosuch", "--snapshot"])
        .arg(demo())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
}

/// Help, man pages and completions as a newcomer meets them: each subcommand's help lists its
/// own options before the global ones and ends with examples; the man page has ENVIRONMENT,
/// FILES and EXIT STATUS and every page it names exists; completions offer the values of
/// `--category`, `--min-severity`, `--engine` and `-o`; an invalid value lists the valid ones.
#[test]
fn help_man_and_completions_guide() {
    for sub in [
        vec!["analyze"],
        vec!["explain"],
        vec!["ask"],
        vec!["repl"],
        vec!["doctor"],
        vec!["mcp"],
        vec!["policy", "draft"],
        vec!["policy", "test"],
        vec!["policy", "check"],
        vec!["guidance", "search"],
        vec!["index", "build"],
        vec!["index", "search"],
        vec!["snapshot", "save"],
    ] {
        let out = sextant().args(&sub).arg("--help").output().expect("run");
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{sub:?}");
        let own = help.find("Options:").expect("own options");
        let global = help.find("Global options:").expect("global heading");
        assert!(own < global, "{sub:?}: own options first\n{help}");
        assert!(
            help.contains("Examples:\n  sextant "),
            "{sub:?}: examples\n{help}"
        );
    }
    let man =
        String::from_utf8_lossy(&sextant().arg("man").output().expect("run").stdout).into_owned();
    for s in [
        ".SH ENVIRONMENT",
        ".SH FILES",
        ".SH \"EXIT STATUS\"",
        "KUBECONFIG",
    ] {
        assert!(man.contains(s), "{s}");
    }
    let dir = tempfile::tempdir().expect("tmp");
    assert!(
        sextant()
            .args(["man", "--dir"])
            .arg(dir.path())
            .output()
            .expect("run")
            .status
            .success()
    );
    for named in man.lines().filter_map(|l| l.strip_suffix("(1)")) {
        let page = named.replace("\\-", "-");
        assert!(dir.path().join(format!("{page}.1")).exists(), "{page}.1");
    }
    let bash = String::from_utf8_lossy(
        &sextant()
            .args(["completions", "bash"])
            .output()
            .expect("run")
            .stdout,
    )
    .into_owned();
    for v in ["CrashLoopBackOff", "critical", "gatekeeper", "markdown"] {
        assert!(bash.contains(v), "completion offers {v}");
    }
    let out = sextant()
        .args(["analyze", "--category", "CrashLoop", "--snapshot"])
        .arg(demo())
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("CrashLoopBackOff") && err.contains("OOMKilled"),
        "{err}"
    );
}

/// First run, no kubeconfig and no `--snapshot`: `analyze` says so in one line and names the
/// demo; `ask` and the REPL say it before their answer.
#[test]
fn the_first_run_points_at_the_demo() {
    let out = common::sextant_no_cluster()
        .arg("analyze")
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("--snapshot examples/demo-incident"), "{err}");
    let out = common::sextant_no_cluster()
        .args(["ask", "why is checkout failing?"])
        .output()
        .expect("run");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("examples/demo-incident"),
        "{out:?}"
    );
    let out = common::sextant_no_cluster()
        .write_stdin("why is checkout failing?\n")
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("(no cluster loaded")
            && text.contains("--snapshot examples/demo-incident"),
        "{text}"
    );
}

/// A reader that stops early (`| head`) ends the report quietly, exit 0: a JSON report is
/// written as it is serialised, so the closed pipe is met in the middle of it.
#[test]
fn a_json_report_into_a_pipe_closed_early_is_not_an_error() {
    use std::io::Read;
    // 3,000 Deployments without limits: a report far larger than a pipe's buffer.
    let items: Vec<String> = (0..3000)
        .map(|i| {
            format!(
                r#"{{"apiVersion":"apps/v1","kind":"Deployment","metadata":{{"name":"web-{i}","namespace":"shop"}},"spec":{{"selector":{{}},"template":{{"spec":{{"containers":[{{"name":"app","image":"shop:1"}}]}}}}}}}}"#
            )
        })
        .collect();
    let list = format!(
        r#"{{"apiVersion":"v1","kind":"List","items":[{}]}}"#,
        items.join(",")
    );
    let dir = write_tree(&[("deployments.json", &list)]);
    let mut child = common::sextant_process()
        .args(["analyze", "-A", "-o", "json", "--snapshot"])
        .arg(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut head = [0u8; 16];
    let mut stdout = child.stdout.take().expect("stdout");
    stdout
        .read_exact(&mut head)
        .expect("the report's first bytes");
    drop(stdout);
    let out = child.wait_with_output().expect("wait");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr: {err}");
    assert!(
        head.starts_with(b"{"),
        "{:?}",
        String::from_utf8_lossy(&head)
    );
    assert!(!err.contains("error") && !err.contains("panicked"), "{err}");
}
