//! Fitting the ecosystem: shell completions, the man page, `--version` with the commit, and
//! the kubectl plugin (the binary installed as `kubectl-sextant`).

mod common;

use common::{demo, sextant, stdout_ok};
use std::process::Command;

#[test]
fn completions_for_each_shell_and_a_man_page() {
    for (shell, marker) in [
        ("bash", "_sextant()"),
        ("zsh", "#compdef sextant"),
        ("fish", "complete -c sextant"),
    ] {
        let out = stdout_ok(sextant().args(["completions", shell]));
        assert!(
            out.contains(marker),
            "{shell}: {}",
            &out[..out.len().min(200)]
        );
        for sub in ["analyze", "explain", "policy", "doctor"] {
            assert!(out.contains(sub), "{shell} lacks {sub}");
        }
    }
    let out = sextant()
        .args(["completions", "tcsh"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let man = stdout_ok(sextant().arg("man"));
    assert!(man.contains(".TH sextant 1"), "{}", &man[..200]);
    assert!(
        man.contains("Read\\-only Kubernetes triage"),
        "{}",
        &man[..400]
    );
}

#[test]
fn version_names_the_build() {
    let v = stdout_ok(sextant().arg("--version"));
    assert!(
        v.starts_with(&format!("sextant {}", env!("CARGO_PKG_VERSION"))),
        "{v}"
    );
    // Built from a git checkout (CI and development): the commit is named.
    if std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.git")).exists() {
        assert!(v.contains("(commit "), "{v}");
    }
}

/// The same binary under the kubectl plugin name, in a directory of its own.
fn plugin_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tmp");
    let bin = assert_cmd::cargo::cargo_bin("sextant");
    std::os::unix::fs::symlink(&bin, dir.path().join("kubectl-sextant")).expect("link");
    dir
}

#[test]
fn invoked_as_kubectl_sextant_it_is_sextant() {
    let dir = plugin_dir();
    let plugin = dir.path().join("kubectl-sextant");
    let run = |program: &std::path::Path| {
        Command::new(program)
            .env_remove("KUBECONFIG")
            .env("HOME", "/nonexistent")
            .env("XDG_CONFIG_HOME", "/nonexistent")
            .env(
                "XDG_CACHE_HOME",
                std::env::temp_dir().join("sextant-test-cache"),
            )
            .args(["analyze", "-o", "json", "-n", "payments", "--snapshot"])
            .arg(demo())
            .output()
            .expect("run")
    };
    let as_plugin = run(&plugin);
    let as_sextant = run(&assert_cmd::cargo::cargo_bin("sextant"));
    assert!(as_plugin.status.success());
    assert_eq!(as_plugin.stdout, as_sextant.stdout);
    let help = Command::new(&plugin).arg("--help").output().expect("help");
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("Usage: sextant"), "{help}");
    // Through kubectl itself, when it is installed: `kubectl sextant …` finds the plugin on
    // PATH and passes -n through.
    if Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output()
        .is_ok()
    {
        let path = format!(
            "{}:{}",
            dir.path().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let out = Command::new("kubectl")
            .env("PATH", path)
            .env_remove("KUBECONFIG")
            .env("HOME", "/nonexistent")
            .env(
                "XDG_CACHE_HOME",
                std::env::temp_dir().join("sextant-test-cache"),
            )
            .args([
                "sextant",
                "analyze",
                "-o",
                "json",
                "-n",
                "payments",
                "--snapshot",
            ])
            .arg(demo())
            .output()
            .expect("kubectl");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.stdout, as_sextant.stdout);
    }
}

#[test]
fn the_krew_manifest_names_the_plugin_binary() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/deploy/krew/sextant.yaml"
    ))
    .expect("manifest");
    let v: serde_json::Value = serde_saphyr::from_str(&text).expect("yaml");
    assert_eq!(v["kind"], "Plugin");
    assert_eq!(v["metadata"]["name"], "sextant");
    assert_eq!(
        v["spec"]["version"],
        format!("v{}", env!("CARGO_PKG_VERSION"))
    );
    for p in v["spec"]["platforms"].as_array().expect("platforms") {
        assert_eq!(p["bin"], "kubectl-sextant");
    }
}
