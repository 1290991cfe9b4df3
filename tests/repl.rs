//! The REPL: piped sessions (clean text, no escape codes) and, where tmux exists, a real
//! terminal session driven with send-keys: a question, a slash command, Tab completion of a
//! namespace, `/exit`.

mod common;

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
    input.push_str("/analyze --min-severity critical\n/explain F-02\n/logs cart-6d9f7c5b8-m8qzt\n/search OutOfMemoryError\n/guidance shell access to pods\n/ns -\n/context prod\n/model m1\n/offline on\n/clear\n/sources\n");
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

#[test]
fn terminal_session_with_completion() {
    if Command::new("tmux").arg("-V").output().is_err() {
        eprintln!("tmux not installed: terminal session test not run");
        return;
    }
    let bin = assert_cmd::cargo::cargo_bin("sextant");
    let session = format!("sextant-test-{}", std::process::id());
    let hist = tempfile::tempdir().expect("tmp");
    let cmd = format!(
        "env -u KUBECONFIG HOME=/nonexistent XDG_CONFIG_HOME=/nonexistent XDG_DATA_HOME={} NO_COLOR=1 {} --snapshot {}",
        hist.path().display(),
        bin.display(),
        demo().display()
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
    let result = (|| -> Result<(), String> {
        // (capture-pane trims trailing spaces: look for the prompt without its space)
        wait_screen(&session, "offline] ›")?;
        // rustyline queries the terminal when it starts reading; keys that arrive during the
        // query can be taken as its answer: type until the text shows.
        let mut typed = false;
        for _ in 0..10 {
            tmux(&["send-keys", "-t", &session, "C-u", "/ns paym"]);
            if wait_screen_for(&session, "/ns paym", Duration::from_secs(1)).is_ok() {
                typed = true;
                break;
            }
        }
        if !typed {
            return Err("typed text never appeared".into());
        }
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
        // Ctrl-C on an empty line once keeps the session.
        tmux(&["send-keys", "-t", &session, "C-c"]);
        wait_screen(&session, "Ctrl-C again")?;
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
