//! Nothing secret leaves, by any exit. `tests/data/hostile-secrets` plants 55 realistic
//! credentials in every place clusters leak them (env, URLs, flags in every form, a shell
//! command, `last-applied-configuration`, dockerconfig `auth`, status and event messages, a
//! ConfigMap, an ingress annotation, Job args, CronJob env, log lines and PEM bodies, a
//! Secret slipped into the pods list). Every sink is then read back: `analyze` in every
//! format, `explain`, offline `ask`, `ask` with a model that calls every read-only tool (what
//! the model server received, and what was printed), the REPL, the search index, `policy
//! check` messages, `snapshot save` against a fake API server serving the same objects, the
//! MCP tools, and the audit trail all of these wrote.

// Both fake servers carry their own copy of the small request reader (tests/support/http.rs).
#![allow(clippy::duplicate_mod)]

mod common;
mod fake_kube;
mod fake_openai;

use common::{data, sextant, sextant_no_cluster, walk};
use fake_openai::{FakeOpenAi, Reply};
use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::{ConfigureCommandExt, TokioChildProcess};
use serde_json::json;
use std::path::{Path, PathBuf};

fn dump() -> PathBuf {
    data("hostile-secrets")
}

/// The planted values (each a credential that must never be seen again).
fn planted() -> Vec<String> {
    let text = std::fs::read_to_string(dump().join("planted.txt")).expect("planted.txt");
    let v: Vec<String> = text
        .lines()
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    assert!(v.len() >= 40, "{} planted", v.len());
    v
}

/// Every planted value found in `text`, as `sink: value`.
fn leaks(sink: &str, text: &str, planted: &[String]) -> Vec<String> {
    planted
        .iter()
        .filter(|s| text.contains(s.as_str()))
        .map(|s| format!("{sink}: {s}"))
        .collect()
}

fn all_text(out: &std::process::Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Every file under `dir`, read as text.
fn tree_text(dir: &Path) -> String {
    let mut s = String::new();
    for e in walk(dir) {
        s.push_str(&String::from_utf8_lossy(
            &std::fs::read(&e).unwrap_or_default(),
        ));
        s.push('\n');
    }
    s
}

/// The model scripted to call every read-only tool on the hostile objects, then answer.
fn tool_script() -> Vec<Reply> {
    let calls = [
        (
            "get_object",
            json!({"kind": "Deployment", "name": "vault-app", "namespace": "shop"}),
        ),
        (
            "get_object",
            json!({"kind": "Pod", "name": "vault-app-7c9d5-x1x2z", "namespace": "shop"}),
        ),
        (
            "get_object",
            json!({"kind": "ConfigMap", "name": "vault-app-config", "namespace": "shop"}),
        ),
        (
            "get_object",
            json!({"kind": "Ingress", "name": "vault-app", "namespace": "shop"}),
        ),
        (
            "get_object",
            json!({"kind": "Job", "name": "rotate-keys", "namespace": "shop"}),
        ),
        (
            "get_object",
            json!({"kind": "CronJob", "name": "mailer", "namespace": "shop"}),
        ),
        (
            "get_object",
            json!({"kind": "Secret", "name": "vault-app-creds", "namespace": "shop"}),
        ),
        (
            "get_logs",
            json!({"pod": "vault-app-7c9d5-x1x2z", "namespace": "shop"}),
        ),
        (
            "search_logs",
            json!({"query": "password token key Authorization"}),
        ),
        ("search_cluster", json!({"query": "password token secret"})),
        ("get_events", json!({"object": "vault-app-7c9d5-x1x2z"})),
        ("list_objects", json!({"kind": "ConfigMap"})),
        ("list_findings", json!({})),
    ];
    let tool_calls: Vec<serde_json::Value> = calls
        .iter()
        .enumerate()
        .map(|(i, (name, args))| {
            json!({"id": format!("t{i}"), "type": "function",
                   "function": {"name": name, "arguments": args.to_string()}})
        })
        .collect();
    vec![
        Reply::Message(json!({"role": "assistant", "content": null, "tool_calls": tool_calls})),
        Reply::Stream(vec!["vault-app cannot log in to its database.\n".into()]),
    ]
}

#[test]
fn no_planted_secret_leaves_by_any_exit() {
    let planted = planted();
    let tmp = tempfile::tempdir().expect("tmp");
    let audit = tmp.path().join("audit.jsonl");
    let mut found: Vec<String> = Vec::new();
    let run = |cmd: &mut assert_cmd::Command| -> String {
        all_text(&cmd.env("SEXTANT_AUDIT_LOG", &audit).output().expect("run"))
    };

    // analyze, every format.
    let mut ids = Vec::new();
    for format in ["text", "json", "markdown", "sarif"] {
        let text = run(sextant()
            .args(["analyze", "-o", format, "--snapshot"])
            .arg(dump()));
        if format == "json" {
            let start = text.find('{').expect("json");
            let v: serde_json::Value = serde_json::Deserializer::from_str(&text[start..])
                .into_iter()
                .next()
                .expect("a document")
                .expect("json");
            for f in v["findings"].as_array().expect("findings") {
                ids.push(f["id"].as_str().expect("id").to_string());
            }
        }
        found.extend(leaks(&format!("analyze -o {format}"), &text, &planted));
    }
    assert!(ids.len() >= 3, "the hostile dump has findings: {ids:?}");

    // explain every finding, every format.
    for id in &ids {
        for format in ["text", "json", "markdown"] {
            let text = run(sextant()
                .args(["explain", id, "-o", format, "--snapshot"])
                .arg(dump()));
            found.extend(leaks(&format!("explain {id} -o {format}"), &text, &planted));
        }
    }

    // Offline answers.
    let questions = [
        "why is vault-app crashing?",
        "what env does vault-app have?",
        "show me the logs of vault-app",
        "what is in the config map vault-app-config?",
        "which errors are in the logs?",
        "why did rotate-keys fail?",
        "what image does vault-app run?",
        "what password does vault-app use?",
    ];
    for q in questions {
        for format in ["text", "json"] {
            let text = run(sextant()
                .args(["ask", "--offline", "-o", format, "--snapshot"])
                .arg(dump())
                .arg(q));
            found.extend(leaks(&format!("ask --offline '{q}'"), &text, &planted));
        }
    }

    // A model that calls every tool: what it received and what was printed.
    let server = FakeOpenAi::start(tool_script());
    let text = run(sextant_no_cluster()
        .env("OPENAI_BASE_URL", server.base_url())
        .env("SEXTANT_MODEL", "fake-model")
        .env("OPENAI_API_KEY", "sk-test-not-a-real-key")
        .args(["ask", "--no-cache", "--snapshot"])
        .arg(dump())
        .arg("why is vault-app crashing? show me its env, config and logs"));
    let bodies = server.bodies();
    assert_eq!(bodies.len(), 2, "the tool round and the answer: {text}");
    assert!(
        bodies[1].contains("vault-app-config") && bodies[1].contains("\"role\":\"tool\""),
        "the tools answered: {}",
        bodies[1]
    );
    found.extend(leaks("ask (printed)", &text, &planted));
    for (i, b) in bodies.iter().enumerate() {
        found.extend(leaks(&format!("model request {i}"), b, &planted));
    }

    // The REPL, offline.
    let text = run(sextant_no_cluster()
        .arg("--snapshot")
        .arg(dump())
        .write_stdin(
            "why is vault-app crashing?\n/explain vault-app\n/events vault-app-7c9d5-x1x2z\n/logs vault-app-7c9d5-x1x2z\n/search password\n/context\n/exit\n",
        ));
    found.extend(leaks("repl", &text, &planted));

    // The search index: built from the dump, searched for what secrets look like; the
    // index files themselves.
    let index = tmp.path().join("index");
    let text = run(sextant()
        .arg("--index-dir")
        .arg(&index)
        .args(["index", "build", "--snapshot"])
        .arg(dump()));
    found.extend(leaks("index build", &text, &planted));
    for q in [
        "password",
        "token",
        "Authorization Bearer",
        "BEGIN RSA PRIVATE KEY",
        "client_secret",
        "AKIA",
    ] {
        let text = run(sextant()
            .arg("--index-dir")
            .arg(&index)
            .args(["index", "search", "-o", "json", q]));
        found.extend(leaks(&format!("index search '{q}'"), &text, &planted));
    }
    found.extend(leaks("index files", &tree_text(&index), &planted));

    // policy check: a policy whose messages read env values, annotations and args.
    let policy = tmp.path().join("leaky.yaml");
    std::fs::write(
        &policy,
        "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata:\n  name: leaky\nspec:\n  matchConstraints:\n    resourceRules:\n    - apiGroups: [apps]\n      apiVersions: [v1]\n      operations: [CREATE, UPDATE]\n      resources: [deployments]\n  validations:\n  - expression: \"false\"\n    messageExpression: \"'env ' + object.spec.template.spec.containers[0].env.map(e, has(e.value) ? e.value : '').join(',') + ' args ' + object.spec.template.spec.containers[0].args.join(' ') + ' annotations ' + object.metadata.annotations.map(k, object.metadata.annotations[k]).join(' ')\"\n---\napiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\nmetadata:\n  name: leaky\nspec:\n  policyName: leaky\n  validationActions: [Deny]\n",
    )
    .expect("write policy");
    for format in ["text", "json"] {
        let text = run(sextant()
            .args(["policy", "check", "-o", format, "--snapshot"])
            .arg(dump())
            .arg(&policy));
        assert!(text.contains("leaky"), "the policy ran: {text}");
        found.extend(leaks(&format!("policy check -o {format}"), &text, &planted));
    }

    // snapshot save against a server that serves the same objects (and slips the Secret into
    // the pods list): every file written.
    let kube = fake_kube::FakeKube::start(fake_kube::Faults::default()).with_dump(&dump());
    let saved = tmp.path().join("saved");
    let text = run(sextant()
        .arg("--kubeconfig")
        .arg(kube.kubeconfig(tmp.path()))
        .args(["snapshot", "save"])
        .arg(&saved));
    assert!(saved.join("shop").exists(), "saved: {text}");
    found.extend(leaks("snapshot save", &text, &planted));
    found.extend(leaks("saved files", &tree_text(&saved), &planted));
    assert!(
        !kube.requests().iter().any(|r| r.path.contains("secrets")),
        "Secret objects are never read"
    );

    // The audit trail every run above appended to.
    let trail = std::fs::read_to_string(&audit).expect("audit log");
    assert!(trail.contains("model_request") && trail.contains("tool_result"));
    found.extend(leaks("audit log", &trail, &planted));

    assert!(found.is_empty(), "secrets left:\n{}", found.join("\n"));
}

/// The MCP tools against a fake API server serving the hostile objects and logs.
#[tokio::test(flavor = "multi_thread")]
async fn no_planted_secret_leaves_through_mcp() {
    let planted = planted();
    let server = fake_kube::FakeKube::start(fake_kube::Faults::default()).with_dump(&dump());
    let dir = tempfile::tempdir().expect("tmp");
    let kubeconfig = server.kubeconfig(dir.path());
    let audit = dir.path().join("audit.jsonl");
    let bin = assert_cmd::cargo::cargo_bin("sextant");
    let transport = TokioChildProcess::new(tokio::process::Command::new(bin).configure(|c| {
        c.arg("mcp")
            .env("KUBECONFIG", &kubeconfig)
            .env("HOME", "/nonexistent")
            .env("XDG_CONFIG_HOME", "/nonexistent")
            .env("XDG_DATA_HOME", dir.path().join("data"))
            .env(
                "XDG_CACHE_HOME",
                std::env::temp_dir().join("sextant-test-cache"),
            )
            .env("SEXTANT_AUDIT_LOG", &audit)
            .env_remove("OPENAI_API_KEY");
    }))
    .expect("spawn");
    let client = ().serve(transport).await.expect("initialize");
    let mut found = Vec::new();
    let call = async |name: &'static str, args: serde_json::Value| -> String {
        let r = client
            .call_tool(
                CallToolRequestParams::new(name)
                    .with_arguments(args.as_object().cloned().unwrap_or_default()),
            )
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        serde_json::to_string(&r).expect("json")
    };
    let listed = call("analyze", json!({"namespace": "shop"})).await;
    found.extend(leaks("mcp analyze", &listed, &planted));
    let ids: Vec<String> = listed
        .split("F-")
        .skip(1)
        .filter_map(|s| s.get(..8))
        .map(|s| format!("F-{s}"))
        .collect();
    assert!(!ids.is_empty(), "{listed}");
    for id in ids.iter().take(20) {
        let t = call("explain_finding", json!({"id": id})).await;
        found.extend(leaks(&format!("mcp explain_finding {id}"), &t, &planted));
    }
    for (name, args) in [
        (
            "get_logs",
            json!({"pod": "vault-app-7c9d5-x1x2z", "namespace": "shop"}),
        ),
        (
            "get_events",
            json!({"object": "vault-app-7c9d5-x1x2z", "namespace": "shop"}),
        ),
        (
            "search_logs",
            json!({"query": "password token Authorization key", "namespace": "shop"}),
        ),
        ("search_logs", json!({"query": "BEGIN RSA PRIVATE KEY"})),
        (
            "check_policy",
            json!({"policy_yaml": "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata:\n  name: leaky\nspec:\n  matchConstraints:\n    resourceRules:\n    - apiGroups: ['']\n      apiVersions: [v1]\n      operations: [CREATE, UPDATE]\n      resources: [pods]\n  validations:\n  - expression: 'false'\n    messageExpression: \"object.spec.containers[0].args.join(' ') + ' ' + object.spec.containers[0].env.map(e, has(e.value) ? e.value : '').join(',')\"\n---\napiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\nmetadata:\n  name: leaky\nspec:\n  policyName: leaky\n  validationActions: [Deny]\n"}),
        ),
    ] {
        let t = call(name, args).await;
        found.extend(leaks(&format!("mcp {name}"), &t, &planted));
    }
    client.cancel().await.expect("close");
    let trail = std::fs::read_to_string(&audit).unwrap_or_default();
    found.extend(leaks("mcp audit log", &trail, &planted));
    assert!(found.is_empty(), "secrets left:\n{}", found.join("\n"));
}

/// `analyze` drops an owned ReplicaSet's pod template (`Keep::ForAnalysis`) only after the
/// reader has learned the credentials in it: a password rotated out of the Deployment that
/// an old revision still carries, quoted by an event, is redacted as it is everywhere else; so
/// is a token in an annotation, which `analyze` does not keep either.
#[test]
fn an_old_revisions_credential_is_learned_before_its_template_is_dropped() {
    let old = "OldPw-9x7Kq2Lm3nZ";
    let meta = |name: &str, owner: Option<(&str, &str)>| {
        let mut m = json!({"name": name, "namespace": "shop", "uid": format!("uid-{name}")});
        if let Some((kind, owner)) = owner {
            m["ownerReferences"] = json!([{"apiVersion": "apps/v1", "kind": kind,
                "name": owner, "uid": format!("uid-{owner}"), "controller": true}]);
        }
        m
    };
    let template = |password: &str| {
        json!({"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "app",
            "image": "registry.example.com/shop/web:2", "env": [{"name": "DB_PASSWORD",
            "value": password}]}]}})
    };
    let list = |kind: &str, api: &str, items: Vec<serde_json::Value>| {
        json!({"apiVersion": "v1", "kind": "List", "items": items.into_iter().map(|mut i| {
            i["apiVersion"] = json!(api);
            i["kind"] = json!(kind);
            i
        }).collect::<Vec<_>>()})
        .to_string()
    };
    // `analyze` keeps no annotation an analyzer does not read: one carrying a token is
    // learned before it goes.
    let token = "Qz8-annot-4Kp2Wm9";
    let annotated = |mut m: serde_json::Value| {
        m["annotations"] = json!({"example.com/api-token": token});
        m
    };
    let selector = json!({"matchLabels": {"app": "web"}});
    let deployments = list(
        "Deployment",
        "apps/v1",
        vec![json!({"metadata": meta("web", None),
        "spec": {"replicas": 1, "selector": selector, "template": template("NewPw-current-7Hq")},
        "status": {"replicas": 1, "unavailableReplicas": 1}})],
    );
    let replica_sets = list(
        "ReplicaSet",
        "apps/v1",
        vec![json!({
        "metadata": meta("web-6b9f", Some(("Deployment", "web"))),
        "spec": {"replicas": 0, "selector": selector, "template": template(old)},
        "status": {"replicas": 0}})],
    );
    let pods = list(
        "Pod",
        "v1",
        vec![json!({
        "metadata": annotated(meta("web-7c4d-x2x9q", Some(("ReplicaSet", "web-7c4d")))),
        "spec": template("NewPw-current-7Hq")["spec"].clone(),
        "status": {"phase": "Running", "containerStatuses": [{"name": "app", "ready": false,
            "restartCount": 9, "image": "registry.example.com/shop/web:2", "imageID": "",
            "state": {"waiting": {"reason": "CrashLoopBackOff",
                "message": "back-off 5m0s restarting failed container=app"}},
            "lastState": {"terminated": {"exitCode": 1, "reason": "Error",
                "finishedAt": "2026-12-01T10:00:00Z", "startedAt": "2026-12-01T09:59:58Z"}}}]}})],
    );
    let events = list(
        "Event",
        "v1",
        vec![json!({"metadata": meta("web-7c4d-x2x9q.1", None),
        "involvedObject": {"kind": "Pod", "namespace": "shop", "name": "web-7c4d-x2x9q",
            "uid": "uid-web-7c4d-x2x9q"},
        "type": "Warning", "reason": "Failed", "count": 3,
        "firstTimestamp": "2026-12-01T09:50:00Z", "lastTimestamp": "2026-12-01T10:00:00Z",
        "message": format!("login failed for user app with {old}: access denied (token {token})")})],
    );
    let dir = common::write_tree(&[
        ("shop/deployments.json", &deployments),
        ("shop/replicasets.json", &replica_sets),
        ("shop/pods.json", &pods),
        ("shop/events.json", &events),
    ]);
    let out = common::stdout_ok(
        sextant_no_cluster()
            .arg("--snapshot")
            .arg(dir.path())
            .args(["analyze", "-A", "-o", "json"]),
    );
    assert!(
        out.contains("login failed for user app"),
        "the event is quoted: {out}"
    );
    assert!(!out.contains(old), "{out}");
    assert!(!out.contains(token), "{out}");
}
