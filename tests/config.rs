//! The config file, profiles and the `config` command: precedence (flags > environment >
//! profile > file), keys never shown anywhere, `api_key_cmd`, the default context, extra
//! redaction patterns.

mod common;
mod fake_openai;

use common::{demo, sextant_no_cluster, stdout_ok};
use fake_openai::{FakeOpenAi, Reply};

const FILE_KEY: &str = "sk-file-secret-0123456789abcdefghij";
const CMD_KEY: &str = "sk-cmd-secret-0123456789abcdefghijkl";

fn config(text: &str) -> tempfile::NamedTempFile {
    let f = tempfile::NamedTempFile::new().expect("cfg");
    std::fs::write(f.path(), text).expect("write");
    f
}

fn show(cfg: &tempfile::NamedTempFile, extra: &[&str], env: &[(&str, &str)]) -> String {
    let mut c = sextant_no_cluster();
    for (k, v) in env {
        c.env(k, v);
    }
    stdout_ok(
        c.arg("--config")
            .arg(cfg.path())
            .args(extra)
            .args(["config", "show"]),
    )
}

#[test]
fn precedence_is_flags_then_environment_then_profile_then_file() {
    let cfg = config(
        "[llm]\nmodel = \"file-model\"\nbase_url = \"http://127.0.0.1:9/v1\"\n[profiles.p.llm]\nmodel = \"profile-model\"\n[profiles.q.llm]\nmodel = \"q-model\"\n",
    );
    assert!(show(&cfg, &[], &[]).contains("model = \"file-model\"  # from the file"));
    assert!(show(&cfg, &["--profile", "p"], &[]).contains("model = \"profile-model\""));
    assert!(show(&cfg, &[], &[("SEXTANT_PROFILE", "p")]).contains("model = \"profile-model\""));
    // The flag wins over the environment's profile.
    assert!(
        show(&cfg, &["--profile", "q"], &[("SEXTANT_PROFILE", "p")])
            .contains("model = \"q-model\"")
    );
    // The environment's model wins over any profile and the file.
    let out = show(&cfg, &["--profile", "p"], &[("SEXTANT_MODEL", "env-model")]);
    assert!(
        out.contains("model = \"env-model\"  # from SEXTANT_MODEL"),
        "{out}"
    );
    // An unknown profile: one line naming the file and the profiles there.
    let out = sextant_no_cluster()
        .arg("--config")
        .arg(cfg.path())
        .args(["--profile", "nope", "config", "show"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("profile \"nope\"") && err.contains("profiles: p, q"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn keys_never_appear_in_output_logs_or_the_audit_trail() {
    let server = FakeOpenAi::start(vec![Reply::Stream(vec![
        "ledger ran out of memory [E1].\n".into(),
    ])]);
    let cfg = config(&format!(
        "[llm]\nbase_url = \"{}\"\nmodel = \"m\"\napi_key = \"{FILE_KEY}\"\napi_key_cmd = \"printf {CMD_KEY}\"\ntimeout_secs = 2\n",
        server.base_url()
    ));
    let out = show(&cfg, &[], &[]);
    assert!(
        out.contains("api_key = \"(set, hidden)\"  # from api_key_cmd"),
        "{out}"
    );
    let audit = tempfile::NamedTempFile::new().expect("audit");
    let run = sextant_no_cluster()
        .env("SEXTANT_AUDIT_LOG", audit.path())
        .arg("--config")
        .arg(cfg.path())
        .args(["-vvv", "ask", "--no-cache", "--snapshot"])
        .arg(demo())
        .arg("why is ledger crashing?")
        .output()
        .expect("run");
    assert!(run.status.success());
    let everything = format!(
        "{out}{}{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr),
        std::fs::read_to_string(audit.path()).unwrap_or_default()
    );
    for key in [FILE_KEY, CMD_KEY] {
        assert!(!everything.contains(key), "a key leaked: {key}");
    }
    // api_key_cmd won over the file's key: it is what the endpoint received.
    let (_, headers) = &server.requests()[0];
    assert!(
        headers
            .iter()
            .any(|(k, v)| k == "authorization" && v == &format!("Bearer {CMD_KEY}")),
        "{headers:?}"
    );
}

#[test]
fn extra_redaction_patterns_apply_everywhere() {
    let cfg = config("[redact]\npatterns = { team-token = 'tt_[A-Za-z0-9]{10}' }\n");
    let text = stdout_ok(
        sextant_no_cluster()
            .arg("--config")
            .arg(cfg.path())
            .args(["-q", "ask", "--show-prompt", "--snapshot"])
            .arg(demo())
            .arg("why does cart crash? my token is tt_ABCDEFGHIJ"),
    );
    assert!(!text.contains("tt_ABCDEFGHIJ"), "{text}");
    assert!(text.contains("[REDACTED:team-token]"), "{text}");
    let bad = config("[redact]\npatterns = { broken = '(' }\n");
    let out = sextant_no_cluster()
        .arg("--config")
        .arg(bad.path())
        .args(["config", "show"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("[redact] patterns: rule 'broken'"));
}

#[test]
fn config_init_writes_a_commented_file_once_and_path_says_where() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("sextant/config.toml");
    let run = |args: &[&str]| {
        sextant_no_cluster()
            .env("XDG_CONFIG_HOME", dir.path())
            .args(args)
            .output()
            .expect("run")
    };
    let out = run(&["config", "path"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("absent"));
    let out = run(&["config", "init"]);
    assert!(out.status.success());
    assert!(
        std::fs::read_to_string(&path)
            .expect("written")
            .contains("api_key_cmd")
    );
    assert!(String::from_utf8_lossy(&run(&["config", "path"]).stdout).contains("(exists)"));
    let again = run(&["config", "init"]);
    assert_eq!(again.status.code(), Some(2));
    // The written file is a valid config.
    assert!(run(&["config", "show"]).status.success());
}
