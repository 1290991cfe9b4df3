//! `ask` with a model, against a scripted OpenAI-compatible server (tests/fake_openai):
//! streaming, citations checked, retries on 429/500, fallback to the offline answer when the
//! endpoint fails or stalls, and what the request carries (fenced, redacted cluster text).

mod common;
mod fake_openai;

use common::{demo, sextant_no_cluster};
use fake_openai::{FakeOpenAi, Reply};
use std::time::{Duration, Instant};

fn ask(server: &FakeOpenAi, args: &[&str]) -> std::process::Output {
    let cfg = tempfile::NamedTempFile::new().expect("cfg");
    std::fs::write(cfg.path(), "[llm]\ntimeout_secs = 2\n").expect("write");
    sextant_no_cluster()
        .env("OPENAI_BASE_URL", server.base_url())
        .env("SEXTANT_MODEL", "fake-model")
        .env("OPENAI_API_KEY", "sk-test-not-a-real-key")
        .arg("--config")
        .arg(cfg.path())
        .args(["ask", "--snapshot"])
        .arg(demo())
        .args(args)
        .output()
        .expect("run")
}

/// The stdout of a run that must have succeeded (stderr shown when it did not).
fn ok_stdout(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

#[test]
fn streamed_answer_keeps_known_citations_and_drops_made_up_ones() {
    let server = FakeOpenAi::start(vec![Reply::Stream(s(&[
        "The cart container needs REDIS_URL [E3] [E99].\n",
        "Level 4 asks for automated remediation [G1] [G42].\n",
    ]))]);
    let out = ask(&server, &["why does cart crash?"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("REDIS_URL [E3]"), "{stdout}\n{stderr}");
    assert!(
        !stdout.contains("[E99]") && !stdout.contains("[G42]"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Level 4 guidance cited:") && stdout.contains("[G1]"),
        "{stdout}"
    );
    assert!(
        stderr.contains("2 citation(s) the model made up were removed"),
        "{stderr}"
    );
    // What was sent: fenced cluster text, no planted secret, the model asked for.
    let bodies = server.bodies();
    assert_eq!(bodies.len(), 1);
    let body = &bodies[0];
    assert!(body.contains("untrusted-data"), "{body}");
    assert!(!body.contains("Sup3rS3cretPassw0rd"), "a secret was sent");
    assert!(body.contains("\"model\":\"fake-model\""), "{body}");
    assert!(
        body.contains("\"tools\""),
        "the read-only tools are offered: {body}"
    );
}

#[test]
fn json_answer_is_the_contract_with_mode_llm() {
    let server = FakeOpenAi::start(vec![Reply::Stream(s(&[
        "Secret checkout-stripe is missing [E1] [G1].",
    ]))]);
    let out = ask(&server, &["-o", "json", "why is checkout down?"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["mode"], "llm");
    assert_eq!(v["model"], "fake-model");
    assert!(
        v["answer"]
            .as_str()
            .expect("answer")
            .contains("checkout-stripe")
    );
    let gi = sextant::index::guidance::GuidanceIndex::embedded().expect("gi");
    for c in v["citations"].as_array().expect("citations") {
        assert!(gi.cite(c["id"].as_str().expect("id")).is_some(), "{c}");
    }
    assert_eq!(v["findings"].as_array().expect("findings").len(), 1);
}

#[test]
fn server_errors_are_retried() {
    let server = FakeOpenAi::start(vec![
        Reply::Status(500, "boom"),
        Reply::Status(429, "slow down"),
        Reply::Stream(s(&["ledger ran out of memory [E1].\n"])),
    ]);
    let out = ask(&server, &["why is ledger crashing?"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(stdout.contains("ledger ran out of memory"), "{stdout}");
    assert_eq!(server.bodies().len(), 3);
}

#[test]
fn retry_after_is_honoured_once_and_a_long_one_is_reported() {
    // The endpoint's wait is slept (not the 0.5 s backoff), and only Sextant retries: two
    // requests, not the transport's own retries on top.
    for header in ["retry-after: 1", "retry-after-ms: 1200"] {
        let server = FakeOpenAi::start(vec![
            Reply::RateLimited(header),
            Reply::Stream(s(&["ledger ran out of memory [E1].\n"])),
        ]);
        let t = Instant::now();
        let out = ask(&server, &["why is ledger crashing?"]);
        assert!(ok_stdout(&out).contains("ledger ran out of memory"));
        assert!(
            t.elapsed() >= Duration::from_millis(1000),
            "{header}: {:?}",
            t.elapsed()
        );
        assert_eq!(server.bodies().len(), 2, "{header}");
    }
    // An hour is longer than the 2 s timeout: no sleeping through it, one clear line, the
    // offline answer.
    let server = FakeOpenAi::start(vec![
        Reply::RateLimited("retry-after: 3600"),
        Reply::Stream(s(&["never sent"])),
    ]);
    let t = Instant::now();
    let out = ask(&server, &["why is ledger crashing?"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(ok_stdout(&out).contains("Fix:"), "offline answer expected");
    assert!(
        stderr.contains("HTTP 429") && stderr.contains("retry after 3600 s"),
        "{stderr}"
    );
    assert_eq!(server.bodies().len(), 1);
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
}

#[test]
fn failures_fall_back_to_the_offline_answer() {
    for (reply, why) in [
        (Reply::Status(401, "invalid api key"), "HTTP 401"),
        (Reply::Malformed, ""),
        // The agent streams too: a stream that goes silent is reported as stalled.
        (Reply::Stall(vec![]), "stalled for 2 s"),
    ] {
        let server = FakeOpenAi::start(vec![reply.clone(), reply.clone(), reply]);
        let t = Instant::now();
        let out = ask(&server, &["why is checkout down?"]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        assert!(
            stderr.contains("the model did not answer") && stderr.contains(why),
            "{stderr}"
        );
        assert_eq!(
            stderr.lines().filter(|l| l.starts_with("sextant:")).count(),
            1,
            "one line: {stderr}"
        );
        assert!(
            stdout.contains("checkout-stripe") && stdout.contains("Fix:"),
            "offline answer: {stdout}"
        );
        assert!(t.elapsed() < Duration::from_secs(20), "{:?}", t.elapsed());
    }
}

#[test]
fn offline_flag_never_calls_the_model() {
    let server = FakeOpenAi::start(vec![Reply::Stream(s(&["model text"]))]);
    let out = ask(&server, &["--offline", "why is checkout down?"]);
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stdout).contains("model text"));
    assert!(server.bodies().is_empty());
}

#[test]
fn the_audit_log_records_question_and_model_call_redacted() {
    let server = FakeOpenAi::start(vec![Reply::Stream(s(&["cart needs REDIS_URL [E3].\n"]))]);
    let dir = tempfile::tempdir().expect("tmp");
    let log = dir.path().join("audit.jsonl");
    let out = ask(
        &server,
        &[
            "--audit-log",
            log.to_str().expect("path"),
            "why does cart crash? password=hunter2hunter2",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&log).expect("audit log");
    assert!(
        !text.contains("hunter2hunter2"),
        "a secret reached the audit log: {text}"
    );
    let kinds: Vec<String> = text
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("json line");
            v["kind"].as_str().unwrap_or("").to_string()
        })
        .collect();
    assert_eq!(
        kinds,
        ["question", "model_request", "tool_calls", "model_response"],
        "{text}"
    );
    assert!(text.contains("\"tokens\":"), "{text}");
}

#[test]
fn answers_are_cached_by_model_prompts_and_context() {
    let server = FakeOpenAi::start(vec![
        Reply::Stream(s(&["first answer [E1].\n"])),
        Reply::Stream(s(&["second answer [E1].\n"])),
    ]);
    let data = common::fresh_data_dir();
    let run = |extra: &[&str]| {
        let cfg = tempfile::NamedTempFile::new().expect("cfg");
        std::fs::write(cfg.path(), "[llm]\ntimeout_secs = 2\n").expect("write");
        let out = sextant_no_cluster()
            .env("XDG_DATA_HOME", &data)
            .env("OPENAI_BASE_URL", server.base_url())
            .env("SEXTANT_MODEL", "fake-model")
            .arg("--config")
            .arg(cfg.path())
            .args(["ask", "--snapshot"])
            .arg(demo())
            .args(extra)
            .arg("why is checkout down?")
            .output()
            .expect("run");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert!(run(&[]).contains("first answer"));
    assert!(
        run(&[]).contains("first answer"),
        "the second ask is served from the cache"
    );
    assert_eq!(server.bodies().len(), 1);
    assert!(run(&["--no-cache"]).contains("second answer"));
    assert_eq!(server.bodies().len(), 2);
}

#[test]
fn the_repl_asks_the_model_unless_offline() {
    let server = FakeOpenAi::start(vec![Reply::Stream(s(&[
        "model says: missing secret [E1].\n",
    ]))]);
    let out = sextant_no_cluster()
        .env("OPENAI_BASE_URL", server.base_url())
        .env("SEXTANT_MODEL", "fake-model")
        .args(["--snapshot"])
        .arg(demo())
        .write_stdin("why is checkout down?\n/offline on\nwhy is checkout down?\n")
        .output()
        .expect("run");
    let stdout = ok_stdout(&out);
    assert!(
        stdout.contains("model says: missing secret [E1]"),
        "{stdout}"
    );
    assert!(stdout.contains("(fake-model)"), "{stdout}");
    assert!(
        stdout.contains("Fix:"),
        "the offline answer after /offline on: {stdout}"
    );
    assert_eq!(server.bodies().len(), 1);
}

/// Conversation memory: the second question carries the first turn (question and the model's
/// words) between the system prompt and itself; a small budget keeps only what fits; /clear
/// forgets.
#[test]
fn the_repl_remembers_earlier_turns_within_a_budget() {
    let roles = |body: &str| -> Vec<(String, String)> {
        let v: serde_json::Value = serde_json::from_str(body).expect("json");
        v["messages"]
            .as_array()
            .expect("messages")
            .iter()
            .map(|m| {
                (
                    m["role"].as_str().unwrap_or("").to_string(),
                    m["content"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    };
    let run = |cfg: &str, input: &str, replies: usize| {
        let server = FakeOpenAi::start(
            (0..replies)
                .map(|i| {
                    Reply::Stream(s(&[&format!(
                        "answer {i}: ledger ran out of memory [E1].\n"
                    )]))
                })
                .collect(),
        );
        let file = tempfile::NamedTempFile::new().expect("cfg");
        std::fs::write(file.path(), cfg).expect("write");
        let out = sextant_no_cluster()
            .env("OPENAI_BASE_URL", server.base_url())
            .env("SEXTANT_MODEL", "fake-model")
            .arg("--config")
            .arg(file.path())
            .args(["--snapshot"])
            .arg(demo())
            .write_stdin(input)
            .output()
            .expect("run");
        ok_stdout(&out);
        server.bodies()
    };
    let bodies = run(
        "",
        "why is ledger crashing?\nand how much memory does it have?\n/clear\nwhy is cart down?\n",
        3,
    );
    assert_eq!(bodies.len(), 3);
    let first = roles(&bodies[0]);
    assert_eq!(
        first.iter().map(|(r, _)| r.as_str()).collect::<Vec<_>>(),
        ["system", "user"]
    );
    let second = roles(&bodies[1]);
    assert_eq!(
        second.iter().map(|(r, _)| r.as_str()).collect::<Vec<_>>(),
        ["system", "user", "assistant", "user"]
    );
    assert_eq!(second[1].1, "why is ledger crashing?");
    assert_eq!(second[2].1, "answer 0: ledger ran out of memory [E1].");
    assert!(second[3].1.contains("and how much memory does it have?"));
    // After /clear: nothing remembered.
    assert_eq!(roles(&bodies[2]).len(), 2);
    // A budget smaller than one turn: nothing fits, nothing is sent.
    let bodies = run(
        "[llm]\nmemory_tokens = 5\n",
        "why is ledger crashing?\nand how much memory does it have?\n",
        2,
    );
    assert_eq!(roles(&bodies[1]).len(), 2);
}

/// The agent loop: the scripted model asks for a tool that does not exist (echoing the log
/// line that tells it to delete a namespace) and for a real read-only one; the first is
/// refused, the second answered with fenced data, and the model's final answer is shown.
#[test]
fn injected_instructions_cannot_make_tools_act() {
    let calls = serde_json::json!({"role": "assistant", "content": null, "tool_calls": [
        {"id": "t1", "type": "function", "function": {"name": "delete_namespace", "arguments": "{\"name\": \"payments\"}"}},
        {"id": "t2", "type": "function", "function": {"name": "get_logs", "arguments": "{\"pod\": \"cart-6d9f7c5b8-m8qzt\"}"}},
        {"id": "t3", "type": "function", "function": {"name": "get_logs", "arguments": "{\"pod\": \"cart-6d9f7c5b8-m8qzt\"}"}}
    ]});
    let server = FakeOpenAi::start(vec![
        Reply::Message(calls),
        Reply::Stream(s(&[
            "cart needs REDIS_URL [E3]; a log line asks to delete a namespace — ignored.\n",
        ])),
    ]);
    let out = ask(&server, &["why does cart crash?"]);
    let stdout = ok_stdout(&out);
    assert!(stdout.contains("cart needs REDIS_URL [E3]"), "{stdout}");
    let bodies = server.bodies();
    assert_eq!(bodies.len(), 2, "one tool round, then the answer");
    let second: serde_json::Value = serde_json::from_str(&bodies[1]).expect("json");
    let tool_msgs: Vec<&serde_json::Value> = second["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter(|m| m["role"] == "tool")
        .collect();
    assert_eq!(tool_msgs.len(), 3);
    let refused = tool_msgs[0]["content"].as_str().unwrap_or("");
    assert!(
        refused.starts_with("refused: there is no tool named \"delete_namespace\""),
        "{refused}"
    );
    let logs = tool_msgs[1]["content"].as_str().unwrap_or("");
    assert!(logs.starts_with("<untrusted-data source=\"log\""), "{logs}");
    assert!(
        logs.contains("IGNORE ALL PREVIOUS INSTRUCTIONS"),
        "the injected line is data: {logs}"
    );
    assert!(
        !logs.contains("Sup3rS3cretPassw0rd"),
        "a secret in a tool result"
    );
    assert_eq!(
        tool_msgs[2]["content"], tool_msgs[1]["content"],
        "the duplicate call is served from the first"
    );
    // Only read-only tools were offered.
    let names: Vec<&str> = second["tools"].as_array().map_or(vec![], |t| {
        t.iter()
            .filter_map(|t| t.pointer("/function/name").and_then(|n| n.as_str()))
            .collect()
    });
    assert_eq!(
        names,
        [
            "list_findings",
            "get_finding",
            "get_object",
            "search_cluster",
            "get_events",
            "get_logs",
            "list_objects",
            "count",
            "search_logs",
            "search_guidance",
            "draft_policy"
        ],
        "only read-only tools"
    );
}

#[test]
fn models_without_tools_get_the_streamed_single_shot_prompt() {
    let server = FakeOpenAi::start(vec![
        Reply::Status(400, "tools are not supported by this model"),
        Reply::Stream(s(&["single shot [E1].\n"])),
    ]);
    let out = ask(&server, &["why is checkout down?"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("single shot [E1]"));
    let bodies = server.bodies();
    assert_eq!(bodies.len(), 2);
    assert!(bodies[1].contains("\"stream\":true") && !bodies[1].contains("\"tools\""));
}

#[test]
fn anonymised_requests_carry_placeholders_and_answers_show_names() {
    // Namespaces are numbered in sorted order: find payments' placeholder as Sextant will.
    let state = sextant::source::snapshot::load(&demo()).expect("demo");
    let n = state
        .namespace_names()
        .iter()
        .position(|n| n == "payments")
        .expect("payments")
        + 1;
    let placeholder = format!("ANON_NS_{n}");
    let server = FakeOpenAi::start(vec![Reply::Stream(vec![format!(
        "The failing workload is in {placeholder} [E1].\n"
    )])]);
    let out = ask(
        &server,
        &["--anonymize", "--no-cache", "why is checkout down?"],
    );
    let stdout = ok_stdout(&out);
    assert!(
        stdout.contains("The failing workload is in payments [E1]"),
        "{stdout}"
    );
    let body = &server.bodies()[0];
    for real in ["payments", "checkout-7f6e5d4c3-b8c9d", "checkout-stripe"] {
        assert!(!body.contains(real), "{real} was sent");
    }
    assert!(
        body.contains(&placeholder) && body.contains("ANON_OBJ_"),
        "placeholders sent"
    );
}

#[test]
fn azure_deployments_use_their_url_and_key_header() {
    let server = FakeOpenAi::start(vec![Reply::Stream(s(&["azure answer [E1].\n"]))]);
    let cfg = tempfile::NamedTempFile::new().expect("cfg");
    std::fs::write(
        cfg.path(),
        format!(
            "[llm]\nbase_url = \"http://{}\"\nazure_deployment = \"gpt4o-prod\"\nazure_api_version = \"2024-10-21\"\ntimeout_secs = 2\n[llm.headers]\nx-team = \"sre-eu\"\n",
            server.addr
        ),
    )
    .expect("write");
    let out = sextant_no_cluster()
        .env("OPENAI_API_KEY", "azure-key-not-real")
        .arg("--config")
        .arg(cfg.path())
        .args(["ask", "--snapshot"])
        .arg(demo())
        .arg("why is checkout down?")
        .output()
        .expect("run");
    assert!(ok_stdout(&out).contains("azure answer [E1]"));
    let reqs = server.requests();
    let (target, headers) = &reqs[0];
    assert_eq!(
        target,
        "/openai/deployments/gpt4o-prod/chat/completions?api-version=2024-10-21"
    );
    assert!(
        headers
            .iter()
            .any(|(k, v)| k == "api-key" && v == "azure-key-not-real"),
        "{headers:?}"
    );
    // Extra headers from the config reach Azure too.
    assert!(
        headers.iter().any(|(k, v)| k == "x-team" && v == "sre-eu"),
        "{headers:?}"
    );
}

#[test]
fn explain_uses_the_explain_prompt_and_falls_back_offline() {
    let server = FakeOpenAi::start(vec![
        Reply::Stream(s(&["ledger hit its 512Mi limit [E1].\n"])),
        Reply::Status(401, "bad key"),
    ]);
    let run = || {
        sextant_no_cluster()
            .env("OPENAI_BASE_URL", server.base_url())
            .env("SEXTANT_MODEL", "fake-model")
            .args(["explain", "F-02dc500d", "--snapshot"])
            .arg(demo())
            .output()
            .expect("run")
    };
    assert!(ok_stdout(&run()).contains("ledger hit its 512Mi limit [E1]"));
    let body = &server.bodies()[0];
    assert!(body.contains("Explain finding F-02dc500d"), "{body}");
    assert!(!body.contains("\"tools\""), "explain is single-shot");
    let offline = run();
    assert!(String::from_utf8_lossy(&offline.stderr).contains("explaining offline"));
    assert!(ok_stdout(&offline).contains("OOMKilled"));
}

const PROPOSED_VAP: &str = "```yaml policy\napiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata:\n  name: require-team-label\nspec:\n  failurePolicy: Fail\n  matchConstraints:\n    resourceRules:\n    - apiGroups: [\"\"]\n      apiVersions: [\"v1\"]\n      operations: [\"CREATE\", \"UPDATE\"]\n      resources: [\"namespaces\"]\n  validations:\n  - expression: \"has(object.metadata.labels) && 'team' in object.metadata.labels\"\n    messageExpression: \"'namespace ' + object.metadata.name + ' needs a team label'\"\n---\napiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\nmetadata:\n  name: require-team-label\nspec:\n  policyName: require-team-label\n  validationActions: [Warn, Audit]\n```\n```yaml offending\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: scratch\n```\n```yaml fixed\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: scratch\n  labels:\n    team: payments\n```\n";

fn propose(server: &FakeOpenAi, out_dir: &std::path::Path) -> std::process::Output {
    sextant_no_cluster()
        .env("OPENAI_BASE_URL", server.base_url())
        .env("SEXTANT_MODEL", "fake-model")
        .args([
            "policy",
            "draft",
            "--request",
            "require a team label on every namespace",
            "--engine",
            "vap",
            "--out",
        ])
        .arg(out_dir)
        .output()
        .expect("run")
}

/// A model-proposed policy: the first answer (condition inverted) fails its proof and the
/// reason goes back; the second is proven and shown; the files are written.
#[test]
fn proposed_policies_are_proven_with_bounded_retries() {
    let broken = PROPOSED_VAP.replace("\"has(", "\"!has(");
    let server = FakeOpenAi::start(vec![
        Reply::Stream(vec![broken.clone()]),
        Reply::Stream(vec![PROPOSED_VAP.to_string()]),
    ]);
    let dir = tempfile::tempdir().expect("tmp");
    let out = propose(&server, dir.path());
    let stdout = ok_stdout(&out);
    assert!(
        stdout.contains("model-proposed policy (vap) for: require a team label on every namespace"),
        "{stdout}"
    );
    assert!(stdout.contains("after 2 answer(s)"), "{stdout}");
    assert!(
        stdout.contains("namespace scratch needs a team label"),
        "{stdout}"
    );
    let bodies = server.bodies();
    assert_eq!(bodies.len(), 2);
    assert!(bodies[0].contains("draft-policy") || bodies[0].contains("require a team label"));
    assert!(
        bodies[1].contains("was evaluated and rejected") && bodies[1].contains("not denied"),
        "the failure is fed back"
    );
    let written = dir.path().join("proposed-vap");
    for f in [
        "policy.yaml",
        "binding.yaml",
        "example-offending.yaml",
        "example-fixed.yaml",
    ] {
        assert!(written.join(f).is_file(), "{f}");
    }

    // Never right: three answers, then refused with exit 1 and nothing shown as valid.
    let server = FakeOpenAi::start(vec![
        Reply::Stream(vec![broken.clone()]),
        Reply::Stream(vec![broken.clone()]),
        Reply::Stream(vec![broken]),
    ]);
    let dir = tempfile::tempdir().expect("tmp");
    let out = propose(&server, dir.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("refused") && stdout.contains("3 time(s)"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("kind: ValidatingAdmissionPolicy"),
        "{stdout}"
    );
    assert_eq!(server.bodies().len(), 3);
    assert!(!dir.path().join("proposed-vap").exists());

    // No model: a one-line usage error.
    let out = sextant_no_cluster()
        .args(["policy", "draft", "--request", "x", "--engine", "vap"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--request needs a model"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

/// `/policy` in the REPL with words instead of an id: the model proposes, the proof decides,
/// as `policy draft --request`; offline it says what it needs.
#[test]
fn repl_policy_takes_a_request_in_plain_words() {
    let server = FakeOpenAi::start(vec![Reply::Stream(vec![PROPOSED_VAP.to_string()])]);
    let out = sextant_no_cluster()
        .env("OPENAI_BASE_URL", server.base_url())
        .env("SEXTANT_MODEL", "fake-model")
        .arg("--snapshot")
        .arg(demo())
        .write_stdin("/policy require a team label on every namespace --engine vap\n")
        .output()
        .expect("run");
    let stdout = ok_stdout(&out);
    assert!(
        stdout.contains("model-proposed policy (vap) for: require a team label on every namespace"),
        "{stdout}"
    );
    assert!(
        stdout.contains("proven in-process after 1 answer(s)"),
        "{stdout}"
    );
    assert_eq!(server.bodies().len(), 1);

    let offline = sextant_no_cluster()
        .arg("--snapshot")
        .arg(demo())
        .write_stdin("/policy require a team label on every namespace\n")
        .output()
        .expect("run");
    assert!(ok_stdout(&offline).contains("needs a model"));
}

/// `doctor` lists the endpoint's models: the URL, the key and the model are checked without
/// spending tokens; a rejected key is a problem (exit 1).
#[test]
fn doctor_checks_the_model_endpoint_for_real() {
    let server = FakeOpenAi::start(vec![
        // As some servers answer: no `created` and no `owned_by` (chat works all the same).
        Reply::Json(serde_json::json!({"object": "list", "data": [
            {"id": "fake-model", "object": "model"},
            {"id": "other"}]})),
        Reply::Status(401, "invalid api key"),
    ]);
    let run = || {
        sextant_no_cluster()
            .env("OPENAI_BASE_URL", server.base_url())
            .env("SEXTANT_MODEL", "fake-model")
            .env("OPENAI_API_KEY", "sk-doctor-test-0123456789abcdef")
            .args(["doctor", "--snapshot"])
            .arg(demo())
            .output()
            .expect("run")
    };
    let ok = run();
    let text = String::from_utf8_lossy(&ok.stdout).to_string();
    assert_eq!(ok.status.code(), Some(0), "{text}");
    assert!(
        text.contains("key accepted, fake-model is served (2 models)"),
        "{text}"
    );
    let (target, headers) = &server.requests()[0];
    assert!(target.ends_with("/models"), "{target}");
    assert!(
        headers
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case("authorization") && v.starts_with("Bearer ")),
        "{headers:?}"
    );
    let bad = run();
    let text = String::from_utf8_lossy(&bad.stdout).to_string();
    assert_eq!(bad.status.code(), Some(1), "{text}");
    assert!(
        text.contains("HTTP 401") && text.contains("rejected"),
        "{text}"
    );
    assert!(!text.contains("sk-doctor-test"), "the key is never printed");
}

/// The agent streams its rounds: after a tool round, the answer's first line is on screen
/// before the stream stalls (a non-streamed agent would have shown nothing), and the stall
/// is said, then the offline answer follows.
#[test]
fn the_agents_answer_streams_as_it_comes() {
    let calls = serde_json::json!({"role": "assistant", "content": null, "tool_calls": [
        {"id": "t1", "type": "function", "function": {"name": "get_events", "arguments": "{\"object\": \"ledger\"}"}}
    ]});
    let server = FakeOpenAi::start(vec![
        Reply::Message(calls),
        Reply::Stall(s(&["ledger is OOMKilled at 512Mi [E1].\n", "and then"])),
    ]);
    let out = ask(&server, &["why is ledger crashing?"]);
    let stdout = ok_stdout(&out);
    let first = stdout
        .find("ledger is OOMKilled at 512Mi")
        .expect("the first line was shown");
    let stopped = stdout
        .find("[the model's answer stopped")
        .expect("the stall is said");
    assert!(first < stopped, "{stdout}");
    assert!(stdout.contains("Fix:"), "then the offline answer: {stdout}");
    let bodies = server.bodies();
    assert_eq!(bodies.len(), 2);
    assert!(
        bodies.iter().all(|b| b.contains("\"stream\":true")),
        "every agent round is streamed"
    );
}

/// With a model, the question's intent decides the first request: the facts the state holds
/// about what is asked and the logs' error signatures come first (logs whose pod is not in the
/// evidence included), hygiene findings do not, and the factual tools are offered.
#[test]
fn the_first_request_carries_the_facts_and_log_signatures_the_question_needs() {
    let server = FakeOpenAi::start(vec![Reply::Stream(s(&[
        "payments fails: its upstream certificate expired.\n",
    ]))]);
    let cfg = tempfile::NamedTempFile::new().expect("cfg");
    std::fs::write(cfg.path(), "[llm]\ntimeout_secs = 2\n").expect("write");
    let out = sextant_no_cluster()
        .env("OPENAI_BASE_URL", server.base_url())
        .env("SEXTANT_MODEL", "fake-model")
        .env("OPENAI_API_KEY", "sk-test-not-a-real-key")
        .arg("--config")
        .arg(cfg.path())
        .args(["ask", "--no-cache", "--evidence"])
        .arg(common::data(
            "incidents/02-logs-only-certificate-expired/evidence",
        ))
        .arg("why is payments failing?")
        .output()
        .expect("run");
    ok_stdout(&out);
    let bodies = server.bodies();
    let first: serde_json::Value = serde_json::from_str(&bodies[0]).expect("json");
    let user = first["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter(|m| m["role"] == "user")
        .map(|m| m["content"].as_str().unwrap_or(""))
        .collect::<String>();
    assert!(
        user.contains("source=\"log\" ref=\"log-signatures\"")
            && user.contains("TLS certificate expired"),
        "{user}"
    );
    let tools: Vec<&str> = first["tools"].as_array().map_or(vec![], |t| {
        t.iter()
            .filter_map(|t| t.pointer("/function/name").and_then(|n| n.as_str()))
            .collect()
    });
    for t in ["list_objects", "count", "search_logs"] {
        assert!(tools.contains(&t), "{tools:?}");
    }
}

/// The audit trail is complete: every request of every agent round is a `model_request`
/// (the first with the whole context, later ones with the tool calls and results they add),
/// and every tool result is recorded, as many as the model server received.
#[test]
fn every_agent_round_is_an_audited_request() {
    let call = |id: &str, pod: &str| {
        serde_json::json!({"role": "assistant", "content": null, "tool_calls": [
            {"id": id, "type": "function", "function": {"name": "get_logs", "arguments": format!("{{\"pod\": \"{pod}\"}}")}}
        ]})
    };
    let server = FakeOpenAi::start(vec![
        Reply::Message(call("t1", "cart-6d9f7c5b8-m8qzt")),
        Reply::Message(call("t2", "checkout-stripe")),
        Reply::Stream(s(&["cart needs REDIS_URL [E3].\n"])),
    ]);
    let dir = tempfile::tempdir().expect("tmp");
    let log = dir.path().join("audit.jsonl");
    let out = ask(
        &server,
        &[
            "--audit-log",
            log.to_str().expect("path"),
            "why does cart crash?",
        ],
    );
    ok_stdout(&out);
    let records: Vec<serde_json::Value> = std::fs::read_to_string(&log)
        .expect("audit log")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    let requests: Vec<&serde_json::Value> = records
        .iter()
        .filter(|r| r["kind"] == "model_request")
        .collect();
    assert_eq!(requests.len(), server.bodies().len(), "{records:?}");
    let rounds: Vec<u64> = requests
        .iter()
        .filter_map(|r| r["round"].as_u64())
        .collect();
    assert_eq!(rounds, [0, 1, 2], "{requests:?}");
    assert!(
        requests[1]["messages_added"]
            .to_string()
            .contains("untrusted-data"),
        "round 1 carries the tool result it sends: {:?}",
        requests[1]
    );
    assert_eq!(
        records
            .iter()
            .filter(|r| r["kind"] == "tool_result")
            .count(),
        2
    );
}

/// `/sources` after a model answer looks up its `[E…]` and `[G…]` citations: what each points
/// at (the finding and the evidence reference, or the guidance section) and its text.
#[test]
fn the_repls_sources_look_up_the_models_citations() {
    let server = FakeOpenAi::start(vec![Reply::Stream(s(&[
        "checkout cannot reach stripe [E1]; see [G1].\n",
    ]))]);
    let out = sextant_no_cluster()
        .env("OPENAI_BASE_URL", server.base_url())
        .env("SEXTANT_MODEL", "fake-model")
        .args(["--snapshot"])
        .arg(demo())
        .write_stdin("why is checkout down?\n/sources\n")
        .output()
        .expect("run");
    let stdout = ok_stdout(&out);
    let sources = &stdout[stdout.find("mode: llm").expect("/sources")..];
    let e1 = sources
        .lines()
        .position(|l| l.starts_with("[E1] F-") && l.contains(" · "))
        .unwrap_or_else(|| panic!("[E1] looked up: {sources}"));
    assert!(
        sources
            .lines()
            .nth(e1 + 1)
            .is_some_and(|l| l.starts_with("     “")),
        "[E1]'s text: {sources}"
    );
    assert!(
        sources
            .lines()
            .any(|l| l.starts_with("[G1] ") && l.contains(".md)")),
        "{sources}"
    );
}
