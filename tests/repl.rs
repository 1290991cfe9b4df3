//! The REPL: piped sessions (clean text, no escape codes) and, where tmux exists, a real
//! terminal session driven with send-keys: a question, a slash command, Tab completion of a
//! namespace, `/exit`.

// Both fake servers carry their own copy of the small request reader (tests/support/http.rs).
#![allow(clippy::duplicate_mod)]

mod common;
mod fake_kube;
mod fake_openai;

use common::{demo, sextant_no_cluster, stdout_ok};
use std::process::Command;
use std::time::{Duration, Instant};

fn piped(input: &str) -> String {
    stdout_ok(
        sextant_no_cluster()
            .arg("--snapshot")
            .arg(demo())
            .write_stdin(input),
    )
}

/// An editor script: records the text it was given in `seen`, then writes `answer` (or, when
/// `answer` starts with `+`, appends the rest to what was there).
fn editor_script(dir: &std::path::Path, answer: &str) -> std::path::PathBuf {
    let script = dir.join("editor.sh");
    let seen = dir.join("seen.txt");
    let write = match answer.strip_prefix('+') {
        Some(more) => format!("printf '%s' '{more}' >> \"$1\""),
        None => format!("printf '%s' '{answer}' > \"$1\""),
    };
    std::fs::write(
        &script,
        format!("#!/bin/sh\ncp \"$1\" '{}'\n{write}\n", seen.display()),
    )
    .expect("script");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    script
}

#[test]
fn edit_asks_what_the_editor_wrote() {
    let dir = tempfile::tempdir().expect("tmp");
    let script = editor_script(dir.path(), "why is ledger crashing?");
    let out = stdout_ok(
        sextant_no_cluster()
            .env("EDITOR", &script)
            .env_remove("VISUAL")
            .arg("--snapshot")
            .arg(demo())
            .write_stdin("why is checkout down?\n/edit\n/edit what about cart\n"),
    );
    assert!(out.contains("› why is ledger crashing?"), "{out}");
    assert!(out.contains("OOMKilled"), "{out}");
    // `/edit TEXT` starts from TEXT; bare `/edit` from the last question.
    let seen = std::fs::read_to_string(dir.path().join("seen.txt")).expect("seen");
    assert_eq!(seen, "what about cart");
    // An editor that fails asks nothing and says so.
    let out = stdout_ok(
        sextant_no_cluster()
            .env("EDITOR", "false")
            .env_remove("VISUAL")
            .arg("--snapshot")
            .arg(demo())
            .write_stdin("/edit why is ledger crashing?\n"),
    );
    assert!(out.contains("the editor \"false\" exited with"), "{out}");
    assert!(!out.contains("OOMKilled"), "{out}");
}

#[test]
fn piped_session_answers_runs_commands_and_stops_at_exit() {
    let out = piped(
        "why is ledger crashing?\n/ns payments\n/events ledger\n/sources\n/policy LatestTag --engine vap\n/nope\n/exit\nwhy is checkout down?\n",
    );
    assert!(
        !out.contains('\u{1b}'),
        "escape codes in piped output: {out:?}"
    );
    assert!(out.contains("OOMKilled"), "{out}");
    assert!(out.contains("namespace payments"), "{out}");
    assert!(out.contains("BackOff"), "{out}");
    assert!(out.contains("findings: F-"), "{out}");
    assert!(out.contains("denies the offending object"), "{out}");
    assert!(out.contains("unknown command /nope"), "{out}");
    assert!(
        !out.contains("checkout-stripe"),
        "a line after /exit was answered: {out}"
    );
}

#[test]
fn every_command_of_the_table_runs_piped() {
    let mut input = String::new();
    for c in sextant::repl::commands::COMMANDS {
        input.push_str(&format!("/help {}\n", c.name));
    }
    input.push_str("/analyze --min-severity critical\n/trends\n/explain F-02\n/logs cart-6d9f7c5b8-m8qzt\n/search OutOfMemoryError\n/guidance shell access to pods\n/ns -\n/context prod\n/model m1\n/offline on\n/clear\n/sources\n");
    let dir = tempfile::tempdir().expect("tmp");
    let saved = dir.path().join("t.md");
    input.push_str(&format!(
        "why is checkout down?\n/save {}\n",
        saved.display()
    ));
    let out = piped(&input);
    for c in sextant::repl::commands::COMMANDS {
        assert!(out.contains(c.help), "no help for {}", c.name);
    }
    for want in [
        "CRITICAL",
        "OutOfMemoryError",
        "REDIS_URL",
        "Security and Policy",
        "all namespaces",
        "a snapshot has no contexts",
        "model set to m1",
        "one policy covers them all",
        "offline: on",
        "conversation cleared",
        "no answer yet",
        "saved",
    ] {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }
    let md = std::fs::read_to_string(&saved).expect("transcript");
    assert!(
        md.starts_with("# Sextant session") && md.contains("## why is checkout down?"),
        "{md}"
    );
}

fn tmux(args: &[&str]) -> String {
    let out = Command::new("tmux").args(args).output().expect("tmux");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn wait_screen(session: &str, needle: &str) -> Result<String, String> {
    wait_screen_for(session, needle, Duration::from_secs(20))
}

fn wait_screen_for(session: &str, needle: &str, limit: Duration) -> Result<String, String> {
    let until = Instant::now() + limit;
    let mut screen = String::new();
    while Instant::now() < until {
        screen = tmux(&["capture-pane", "-p", "-t", session, "-S", "-200"]);
        if screen.contains(needle) {
            return Ok(screen);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(screen)
}

/// tmux drives the REPL's terminal tests: missing, they fail and say why (`.ci/run` installs
/// it), never pass unrun.
fn require_tmux() {
    assert!(
        Command::new("tmux").arg("-V").output().is_ok(),
        "tmux is required by the REPL's terminal tests: install it (.ci/run does)"
    );
}

/// Start the binary on the demo in a detached tmux session.
fn start_tmux(name: &str, data: &std::path::Path, extra_env: &str) -> String {
    let args = format!("--snapshot {}", demo().display());
    start_tmux_with(name, data, extra_env, &args)
}

fn start_tmux_with(name: &str, data: &std::path::Path, extra_env: &str, args: &str) -> String {
    require_tmux();
    let bin = assert_cmd::cargo::cargo_bin("sextant");
    let session = format!("{name}-{}", std::process::id());
    let cmd = format!(
        "env -u KUBECONFIG HOME=/nonexistent XDG_CONFIG_HOME=/nonexistent XDG_DATA_HOME={} XDG_CACHE_HOME={} NO_COLOR=1 {extra_env} {} {args}",
        data.display(),
        data.join("cache").display(),
        bin.display(),
    );
    tmux(&[
        "new-session",
        "-d",
        "-s",
        &session,
        "-x",
        "200",
        "-y",
        "50",
        &cmd,
    ]);
    session
}

/// Type `text` at the prompt. rustyline queries the terminal when it starts reading; keys that
/// arrive during the query can be taken as its answer: type until the text shows.
fn type_text(session: &str, text: &str) -> Result<(), String> {
    for _ in 0..10 {
        tmux(&["send-keys", "-t", session, "C-u", text]);
        if wait_screen_for(session, text, Duration::from_secs(1)).is_ok() {
            return Ok(());
        }
    }
    Err(format!("typed text {text:?} never appeared"))
}

#[test]
fn terminal_session_with_completion() {
    require_tmux();
    let hist = tempfile::tempdir().expect("tmp");
    let script = editor_script(hist.path(), "+out down?");
    let env = format!("EDITOR={}", script.display());
    let session = start_tmux("sextant-test", hist.path(), &env);
    let result = (|| -> Result<(), String> {
        // (capture-pane trims trailing spaces: look for the prompt without its space)
        wait_screen(&session, "offline] ›")?;
        type_text(&session, "/ns paym")?;
        // Tab completes a namespace.
        tmux(&["send-keys", "-t", &session, "Tab"]);
        wait_screen(&session, "/ns payments")?;
        tmux(&["send-keys", "-t", &session, "Enter"]);
        wait_screen(&session, "demo-incident/payments")?;
        tmux(&[
            "send-keys",
            "-t",
            &session,
            "why is ledger crashing?",
            "Enter",
        ]);
        wait_screen(&session, "OOMKilled")?;
        // Ctrl-X Ctrl-E: the line typed so far goes to the editor, what it writes is asked.
        type_text(&session, "why is check")?;
        tmux(&["send-keys", "-t", &session, "C-x", "C-e"]);
        wait_screen(&session, "› why is checkout down?")?;
        wait_screen(&session, "checkout-stripe")?;
        // Tab after /explain lists finding ids with their titles.
        type_text(&session, "/explain F-")?;
        tmux(&["send-keys", "-t", &session, "Tab", "Tab"]);
        wait_screen(&session, "CRITICAL Container")?;
        // Ctrl-C clears the line; on the empty line, twice, it still keeps the session and
        // says how to leave.
        tmux(&["send-keys", "-t", &session, "C-c"]);
        tmux(&["send-keys", "-t", &session, "C-c"]);
        wait_screen(&session, "(Ctrl-D or /exit to leave)")?;
        tmux(&["send-keys", "-t", &session, "C-c"]);
        std::thread::sleep(Duration::from_millis(300));
        if !Command::new("tmux")
            .args(["has-session", "-t", &session])
            .output()
            .is_ok_and(|o| o.status.success())
        {
            return Err("Ctrl-C ended the session".into());
        }
        tmux(&["send-keys", "-t", &session, "/exit", "Enter"]);
        let until = Instant::now() + Duration::from_secs(10);
        while Instant::now() < until {
            if !Command::new("tmux")
                .args(["has-session", "-t", &session])
                .output()
                .is_ok_and(|o| o.status.success())
            {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err("the session did not end after /exit".into())
    })();
    let _ = Command::new("tmux")
        .args(["kill-session", "-t", &session])
        .output();
    if let Err(screen) = result {
        panic!("terminal session failed; screen:\n{screen}");
    }
    // The question written in the editor is in the history, beside the typed ones.
    let history = std::fs::read_to_string(hist.path().join("sextant/history")).unwrap_or_default();
    assert!(history.contains("why is checkout down?"), "{history}");
    assert!(history.contains("why is ledger crashing?"), "{history}");
    // History was written, redacted.
    let h = std::fs::read_to_string(hist.path().join("sextant/history")).unwrap_or_default();
    assert!(h.contains("why is ledger crashing?"), "history: {h:?}");
}

#[test]
fn follow_ups_resolve_against_the_previous_answer() {
    let out = piped("which workloads run privileged?\ndraft a policy for that\n");
    assert!(
        out.contains("from finding F-") && out.contains("(Privileged)"),
        "{out}"
    );
    assert!(out.contains("denies the offending object"), "{out}");
    // Without a previous answer, "that" names nothing: no draft.
    let out = piped("draft a policy for that\n");
    assert!(!out.contains("from finding"), "{out}");
}

/// Ctrl-C while the model is answering (a stream that stalls) drops the request and returns
/// to the prompt; the session goes on.
#[test]
fn ctrl_c_cancels_a_slow_answer() {
    let server = fake_openai::FakeOpenAi::start(vec![
        fake_openai::Reply::Stall(vec![]),
        fake_openai::Reply::Stall(vec!["thinking…\n".into()]),
    ]);
    let data = tempfile::tempdir().expect("tmp");
    let env = format!(
        "OPENAI_BASE_URL={} SEXTANT_MODEL=slow-model",
        server.base_url()
    );
    let session = start_tmux("sextant-cancel", data.path(), &env);
    let result = (|| -> Result<(), String> {
        wait_screen(&session, "slow-model] ›")?;
        // Nothing comes: after 300 ms a spinner says what is being waited for; Ctrl-C clears
        // it and returns to the prompt.
        type_text(&session, "why is ledger crashing?")?;
        tmux(&["send-keys", "-t", &session, "Enter"]);
        wait_screen(&session, "waiting for slow-model")?;
        tmux(&["send-keys", "-t", &session, "C-c"]);
        wait_screen(&session, "[cancelled]")?;
        let screen = tmux(&["capture-pane", "-p", "-t", &session, "-S", "-200"]);
        if screen.contains("waiting for slow-model") {
            return Err(format!("spinner left on screen:\n{screen}"));
        }
        // Part of the answer has come: Ctrl-C stops the stream.
        type_text(&session, "why is checkout down?")?;
        tmux(&["send-keys", "-t", &session, "Enter"]);
        wait_screen(&session, "thinking…")?;
        tmux(&["send-keys", "-t", &session, "C-c"]);
        wait_screen(&session, "[cancelled]")?;
        tmux(&["send-keys", "-t", &session, "/help exit", "Enter"]);
        wait_screen(&session, "leave (Ctrl-D works too)")?;
        Ok(())
    })();
    let _ = Command::new("tmux")
        .args(["kill-session", "-t", &session])
        .output();
    if let Err(screen) = result {
        panic!("cancel session failed; screen:\n{screen}");
    }
}

/// In a terminal with colour, a model's markdown is rendered as it streams: no `**` or
/// fences on screen, a YAML block under a rule with its text intact.
#[test]
fn model_answers_render_as_markdown_in_a_terminal() {
    let server = fake_openai::FakeOpenAi::start(vec![fake_openai::Reply::Stream(
        [
            "## Cause\n",
            "ledger was **OOMKilled** at its limit [E1].\n",
            "```yaml\n",
            "resources:\n",
            "  limits:\n",
            "    memory: 1Gi  # measured peak 800Mi\n",
            "```\n",
            "Roll out again.\n",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
    )]);
    let data = tempfile::tempdir().expect("tmp");
    let env = format!(
        "NO_COLOR= OPENAI_BASE_URL={} SEXTANT_MODEL=md-model",
        server.base_url()
    );
    let session = start_tmux("sextant-md", data.path(), &env);
    let result = (|| -> Result<(), String> {
        wait_screen(&session, "md-model] ›")?;
        type_text(&session, "why is ledger crashing?")?;
        tmux(&["send-keys", "-t", &session, "Enter"]);
        let screen = wait_screen(&session, "Roll out again.")?;
        let ok = screen.contains("── yaml ──")
            && screen.contains("    memory: 1Gi  # measured peak 800Mi")
            && screen.contains("ledger was OOMKilled at its limit [E1].")
            && !screen.contains("```")
            && !screen.contains("**")
            && !screen.contains("## Cause");
        if ok { Ok(()) } else { Err(screen) }
    })();
    let _ = Command::new("tmux")
        .args(["kill-session", "-t", &session])
        .output();
    if let Err(screen) = result {
        panic!("markdown session failed; screen:\n{screen}");
    }
}

/// Ctrl-C while a context switch reads a slow cluster: back at the prompt at once, still on
/// the cluster it was on, which still answers.
#[test]
fn ctrl_c_cancels_a_slow_collection() {
    let fast = fake_kube::FakeKube::start(fake_kube::Faults::default()).with_dump(&demo());
    let mut faults = fake_kube::Faults::default();
    faults.slow.insert("pods".into(), Duration::from_secs(60));
    let slow = fake_kube::FakeKube::start(faults).with_dump(&demo());
    let data = tempfile::tempdir().expect("tmp");
    let (a, b) = (data.path().join("a"), data.path().join("b"));
    std::fs::write(&a, fake_kube::kubeconfig_text(&fast.url(), "fast")).expect("a");
    std::fs::write(&b, fake_kube::kubeconfig_text(&slow.url(), "slow")).expect("b");
    let env = format!("KUBECONFIG={}:{}", a.display(), b.display());
    let session = start_tmux_with("sextant-collect", data.path(), &env, "");
    let result = (|| -> Result<(), String> {
        wait_screen(&session, "[fast · offline] ›")?;
        type_text(&session, "/context slow")?;
        tmux(&["send-keys", "-t", &session, "Enter"]);
        wait_screen(&session, "reading context slow (Ctrl-C to stop)")?;
        let t = Instant::now();
        tmux(&["send-keys", "-t", &session, "C-c"]);
        wait_screen(&session, "[cancelled] still on fast")?;
        if t.elapsed() > Duration::from_secs(5) {
            return Err(format!("cancel took {:?}", t.elapsed()));
        }
        tmux(&[
            "send-keys",
            "-t",
            &session,
            "why is ledger crashing?",
            "Enter",
        ]);
        wait_screen(&session, "OOMKilled")?;
        Ok(())
    })();
    let _ = Command::new("tmux")
        .args(["kill-session", "-t", &session])
        .output();
    if let Err(screen) = result {
        panic!("collection cancel failed; screen:\n{screen}");
    }
}

/// One assistant pipeline: the same question through `ask` and through the REPL sends the same
/// request (context, tools) and writes the same audit records, each naming its front end.
#[test]
fn ask_and_the_repl_send_the_same_request_and_audit_it_alike() {
    let server = fake_openai::FakeOpenAi::start(vec![
        fake_openai::Reply::Stream(vec!["ledger is OOMKilled.\n".into()]),
        fake_openai::Reply::Stream(vec!["ledger is OOMKilled.\n".into()]),
    ]);
    let dir = tempfile::tempdir().expect("tmp");
    let run = |log: &str, repl: bool| {
        let mut cmd = sextant_no_cluster();
        cmd.env("OPENAI_BASE_URL", server.base_url())
            .env("SEXTANT_MODEL", "fake-model")
            .env("OPENAI_API_KEY", "sk-test-not-a-real-key")
            .arg("--audit-log")
            .arg(dir.path().join(log))
            .arg("--snapshot")
            .arg(demo());
        if repl {
            cmd.write_stdin("why is ledger crashing?\n/exit\n");
        } else {
            cmd.args(["ask", "--no-cache", "why is ledger crashing?"]);
        }
        stdout_ok(&mut cmd)
    };
    assert!(run("ask.jsonl", false).contains("ledger is OOMKilled."));
    assert!(run("repl.jsonl", true).contains("ledger is OOMKilled."));
    let bodies = server.bodies();
    assert_eq!(bodies.len(), 2, "one request each");
    let body = |i: usize| -> serde_json::Value { serde_json::from_str(&bodies[i]).expect("json") };
    let (a, r) = (body(0), body(1));
    assert_eq!(a["messages"], r["messages"], "the same context");
    assert_eq!(a["tools"], r["tools"], "the same tools");
    let kinds = |log: &str| -> Vec<(String, String)> {
        std::fs::read_to_string(dir.path().join(log))
            .expect("audit log")
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v["kind"].as_str().is_some_and(|e| e.starts_with("model_")))
            .map(|v| {
                (
                    v["kind"].as_str().unwrap_or("").to_string(),
                    v["front_end"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    };
    let (ka, kr) = (kinds("ask.jsonl"), kinds("repl.jsonl"));
    assert_eq!(
        ka.iter().map(|k| &k.0).collect::<Vec<_>>(),
        kr.iter().map(|k| &k.0).collect::<Vec<_>>(),
        "{ka:?} / {kr:?}"
    );
    assert!(
        ka.iter().all(|k| k.1 == "ask") && kr.iter().all(|k| k.1 == "repl"),
        "{ka:?} / {kr:?}"
    );
}

/// `/explain` takes an object name as well as an id.
#[test]
fn explain_by_name_in_the_repl() {
    let out = piped("/explain cart\n");
    assert!(
        out.contains("CrashLoopBackOff") && out.contains("REDIS_URL"),
        "{out}"
    );
}

/// `/policy` takes `--engine` and `--out DIR` (the files written, as `policy draft --out`);
/// `/explain` takes an object's name; `/sources` shows each citation's text.
#[test]
fn repl_policy_out_explain_by_name_and_sources() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = piped(&format!(
        "/policy Privileged --engine kyverno --out {}\n/explain cart\nwhy is cart crashing?\n/sources\n",
        dir.path().display()
    ));
    assert!(out.contains("wrote 6 files"), "{out}");
    // One folder per finding: `<policy>/<finding id>/<engine>/`.
    let finding = out
        .split_whitespace()
        .find(|w| w.starts_with("F-"))
        .expect("the finding id");
    assert!(
        dir.path()
            .join(format!(
                "sextant-disallow-privileged/{finding}/kyverno/kyverno-test.yaml"
            ))
            .exists(),
        "{out}"
    );
    assert!(
        out.contains("CrashLoopBackOff") && out.contains("owner:    Deployment cart"),
        "{out}"
    );
    let sources = &out[out.rfind("mode: offline").expect("/sources")..];
    assert!(
        sources.contains("[1] ") && sources.contains("     “"),
        "{sources}"
    );
}
