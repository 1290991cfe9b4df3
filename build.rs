//! Records the git commit the binary was built from, for `sextant --version`. Outside a git
//! checkout (a crates.io tarball) the version stands alone.

fn main() {
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|c| !c.is_empty());
    let dirty = std::process::Command::new("git")
        .args(["status", "--porcelain", "--untracked-files=no"])
        .output()
        .ok()
        .is_some_and(|o| o.status.success() && !o.stdout.is_empty());
    let version = env!("CARGO_PKG_VERSION");
    let long = match commit {
        Some(c) => format!(
            "{version} (commit {c}{})",
            if dirty { ", modified" } else { "" }
        ),
        None => version.to_string(),
    };
    println!("cargo:rustc-env=SEXTANT_LONG_VERSION={long}");
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/index");
}
