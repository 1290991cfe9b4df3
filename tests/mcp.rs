//! `sextant mcp` driven by the official Rust MCP SDK's client over stdio, against a fake
//! cluster: the tools are listed and each is called; results are redacted and fenced; only
//! reads reach the cluster; guidance sections are resources.

mod common;
mod fake_kube;

use common::demo;
use rmcp::ServiceExt;
use rmcp::model::{CallToolRequestParams, ReadResourceRequestParams};
use rmcp::transport::{ConfigureCommandExt, TokioChildProcess};
use serde_json::json;

/// The environment every `sextant mcp` of these tests runs in: no user config, data and
/// audit log under `dir`, no model key.
fn hermetic_env(dir: &std::path::Path) -> Vec<(&'static str, std::ffi::OsString)> {
    vec![
        ("HOME", "/nonexistent".into()),
        ("XDG_CONFIG_HOME", "/nonexistent".into()),
        ("XDG_DATA_HOME", dir.join("data").into()),
        (
            "XDG_CACHE_HOME",
            std::env::temp_dir().join("sextant-test-cache").into(),
        ),
        ("SEXTANT_AUDIT_LOG", dir.join("audit.jsonl").into()),
    ]
}

fn text_of(r: &rmcp::model::CallToolResult) -> String {
    serde_json::to_value(r).expect("json")["content"]
        .as_array()
        .expect("content")
        .iter()
        .filter_map(|c| c["text"].as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test(flavor = "multi_thread")]
async fn an_mcp_client_lists_and_calls_every_tool_and_only_reads() {
    let server = fake_kube::FakeKube::start(fake_kube::Faults::default()).with_dump(&demo());
    let dir = tempfile::tempdir().expect("tmp");
    let kubeconfig = server.kubeconfig(dir.path());
    let bin = assert_cmd::cargo::cargo_bin("sextant");
    let transport = TokioChildProcess::new(tokio::process::Command::new(bin).configure(|c| {
        c.arg("mcp")
            .env("KUBECONFIG", &kubeconfig)
            .envs(hermetic_env(dir.path()))
            .env_remove("OPENAI_API_KEY");
    }))
    .expect("spawn");
    let client = ().serve(transport).await.expect("initialize");
    let info = client.peer_info().expect("server info");
    assert_eq!(
        info.server_info.as_ref().map(|i| i.name.as_str()),
        Some("sextant")
    );

    let mut names: Vec<String> = client
        .list_all_tools()
        .await
        .expect("tools/list")
        .into_iter()
        .map(|t| t.name.to_string())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "analyze",
            "check_policy",
            "draft_policy",
            "explain_finding",
            "get_events",
            "get_logs",
            "search_guidance",
            "search_logs"
        ]
    );

    let call = |name: &'static str, args: serde_json::Value| {
        let client = &client;
        async move {
            let r = client
                .call_tool(
                    CallToolRequestParams::new(name)
                        .with_arguments(args.as_object().cloned().unwrap_or_default()),
                )
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            text_of(&r)
        }
    };
    let findings = call("analyze", json!({"namespace": "payments"})).await;
    let list: serde_json::Value = serde_json::from_str(&findings).expect("json");
    let oom = list
        .as_array()
        .expect("list")
        .iter()
        .find(|f| f["category"] == "OOMKilled")
        .expect("ledger's OOMKilled");
    let id = oom["id"].as_str().expect("id");

    let explained = call("explain_finding", json!({"id": id})).await;
    assert!(explained.contains("<untrusted-data source="), "{explained}");
    assert!(explained.contains("512Mi"), "{explained}");

    let guidance = call(
        "search_guidance",
        json!({"query": "security policy enforcement"}),
    )
    .await;
    assert!(guidance.contains("[G1]"), "{guidance}");

    let found = call(
        "search_logs",
        json!({"query": "OutOfMemoryError", "namespace": "payments"}),
    )
    .await;
    assert!(
        found.starts_with("<untrusted-data source=\"search\""),
        "{found}"
    );

    let events = call("get_events", json!({"object": "ledger"})).await;
    assert!(events.contains("BackOff"), "{events}");

    // Logs: the planted password never leaves; the injected instruction is fenced data.
    let logs = call("get_logs", json!({"pod": "cart-6d9f7c5b8-m8qzt"})).await;
    assert!(logs.starts_with("<untrusted-data source=\"log\""), "{logs}");
    assert!(logs.contains("IGNORE ALL PREVIOUS INSTRUCTIONS"), "{logs}");
    assert!(
        !logs.contains("Sup3rS3cretPassw0rd"),
        "a secret left through MCP"
    );

    let drafted = call("draft_policy", json!({"target": "Privileged"})).await;
    assert!(drafted.contains("kind: ValidatingPolicy"), "{drafted}");

    let vap = "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata:\n  name: no-ledger\nspec:\n  matchConstraints:\n    resourceRules:\n    - apiGroups: [apps]\n      apiVersions: [v1]\n      operations: [CREATE, UPDATE]\n      resources: [deployments]\n  validations:\n  - expression: object.metadata.name != 'ledger'\n    message: ledger is frozen\n---\napiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\nmetadata:\n  name: no-ledger\nspec:\n  policyName: no-ledger\n  validationActions: [Deny]\n";
    let report = call("check_policy", json!({"policy_yaml": vap})).await;
    assert!(report.contains("ledger is frozen"), "{report}");

    // Resources: every guidance section, readable by its uri.
    let resources = client.list_all_resources().await.expect("resources/list");
    assert!(resources.len() >= 80, "{}", resources.len());
    let uri = resources
        .iter()
        .map(|r| r.uri.clone())
        .find(|u| u.contains("security-and-policy"))
        .expect("a security section");
    let read = client
        .read_resource(ReadResourceRequestParams::new(uri.clone()))
        .await
        .expect("resources/read");
    let body = serde_json::to_string(&read).expect("json");
    assert!(body.contains("Security and Policy"), "{body}");

    client.cancel().await.expect("close");
    // Read-only: every request that reached the cluster was a read.
    let requests = server.requests();
    assert!(!requests.is_empty());
    for r in &requests {
        assert!(
            r.method == "GET" || r.path.contains("selfsubject"),
            "{} {}",
            r.method,
            r.path
        );
    }
}

/// `sextant mcp --http`: the SDK's streamable-HTTP client with the bearer token lists and
/// calls tools; a request without the token gets 401 before reaching MCP; beyond loopback the
/// server refuses to start without a token.
#[tokio::test(flavor = "multi_thread")]
async fn mcp_over_http_requires_the_bearer_token() {
    use rmcp::transport::StreamableHttpClientTransport;
    use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
    use std::io::{BufRead, Read, Write};
    // The SDK's HTTP client is reqwest with rustls and no provider chosen (as in Sextant).
    sextant::install_crypto_provider();

    let dir = tempfile::tempdir().expect("tmp");
    let token = "test-token-0123456789";
    let bin = assert_cmd::cargo::cargo_bin("sextant");
    let mut child = std::process::Command::new(&bin)
        .args(["mcp", "--http", "127.0.0.1:0", "--snapshot"])
        .arg(demo())
        .env("SEXTANT_MCP_TOKEN", token)
        .envs(hermetic_env(dir.path()))
        .env_remove("OPENAI_API_KEY")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    // Kill the server however the test ends.
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let stderr = child.stderr.take().expect("stderr");
    let _guard = Kill(child);
    let mut lines = std::io::BufReader::new(stderr).lines();
    let url = loop {
        let line = lines
            .next()
            .expect("the server says where it listens")
            .expect("line");
        if let Some(rest) = line.split("serving ").nth(1) {
            break rest.split([',', ' ']).next().expect("url").to_string();
        }
    };
    assert!(
        url.starts_with("http://127.0.0.1:") && url.ends_with("/mcp"),
        "{url}"
    );

    // No token: 401 with a Bearer challenge, from Sextant, before MCP.
    let authority = url
        .trim_start_matches("http://")
        .trim_end_matches("/mcp")
        .to_string();
    let raw = tokio::task::spawn_blocking(move || {
        let mut s = std::net::TcpStream::connect(&authority).expect("connect");
        let body = r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#;
        write!(
            s,
            "POST /mcp HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\nAuthorization: Bearer wrong\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .expect("write");
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        out
    })
    .await
    .expect("join");
    assert!(raw.starts_with("HTTP/1.1 401"), "{raw}");
    assert!(
        raw.to_ascii_lowercase()
            .contains("www-authenticate: bearer")
    );

    // With the token: the SDK's client works as over stdio.
    let transport = StreamableHttpClientTransport::from_config(
        StreamableHttpClientTransportConfig::with_uri(url.as_str()).auth_header(token),
    );
    let client = ().serve(transport).await.expect("initialize over http");
    let tools = client.list_all_tools().await.expect("tools/list");
    assert_eq!(tools.len(), 8);
    let r = client
        .call_tool(
            CallToolRequestParams::new("analyze").with_arguments(
                json!({"namespace": "payments"})
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
            ),
        )
        .await
        .expect("analyze");
    assert!(text_of(&r).contains("OOMKilled"));
    client.cancel().await.expect("close");

    // Beyond loopback without a token: refused at start, exit 2, one line.
    let out = std::process::Command::new(&bin)
        .args(["mcp", "--http", "0.0.0.0:0", "--snapshot"])
        .arg(demo())
        .env_remove("SEXTANT_MCP_TOKEN")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bearer token is required"), "{err}");
}

/// An oversized tool result (every finding of a 300-workload cluster) is cut at the cap and
/// says so, over the real protocol.
#[tokio::test(flavor = "multi_thread")]
async fn oversized_results_are_capped_and_say_so() {
    let dir = tempfile::tempdir().expect("tmp");
    let items: Vec<serde_json::Value> = (0..300)
        .map(|i| {
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": format!("app-{i}"), "namespace": format!("team-{}", i % 7)},
                "spec": {"replicas": 1, "selector": {"matchLabels": {"app": format!("app-{i}")}},
                    "template": {"metadata": {"labels": {"app": format!("app-{i}")}},
                        "spec": {"containers": [{"name": "main", "image": "app:latest"}]}}}})
        })
        .collect();
    let dump = dir.path().join("deployments.json");
    std::fs::write(
        &dump,
        serde_json::to_string(&json!({"kind": "List", "items": items})).expect("json"),
    )
    .expect("write");
    let bin = assert_cmd::cargo::cargo_bin("sextant");
    let transport = TokioChildProcess::new(tokio::process::Command::new(bin).configure(|c| {
        c.args(["mcp", "--snapshot"])
            .arg(&dump)
            .envs(hermetic_env(dir.path()))
            .env_remove("OPENAI_API_KEY");
    }))
    .expect("spawn");
    let client = ().serve(transport).await.expect("initialize");
    let r = client
        .call_tool(CallToolRequestParams::new("analyze"))
        .await
        .expect("analyze");
    let text = text_of(&r);
    assert!(
        text.ends_with("[… result cut at 16,000 characters]"),
        "{}",
        &text[text.len().saturating_sub(200)..]
    );
    assert!(
        text.chars().count() <= 16_000 + 50,
        "{}",
        text.chars().count()
    );
    // A narrower question fits.
    let r = client
        .call_tool(
            CallToolRequestParams::new("analyze").with_arguments(
                json!({"namespace": "team-1", "category": "LatestTag"})
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
            ),
        )
        .await
        .expect("analyze");
    let narrow = text_of(&r);
    assert!(!narrow.contains("result cut"), "{narrow}");
    assert!(narrow.contains("LatestTag"));
    client.cancel().await.expect("close");
}
