//! Reading Kubernetes' own messages: exit codes, image pull failures, scheduler verdicts,
//! config errors. These turn a status line into the specific sentence an SRE would say.

use regex::Regex;
use std::sync::OnceLock;

fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).unwrap_or_else(|e| panic!("pattern {pattern}: {e}")))
}

/// What an exit code usually means.
/// An exit code the evidence does not give (`kubectl get pods` shows `Error`, not the code).
pub const UNKNOWN_EXIT: i32 = -1;

/// An exit code as evidence shows it: `?` when unknown.
pub fn code(c: i32) -> String {
    if c == UNKNOWN_EXIT {
        "?".into()
    } else {
        c.to_string()
    }
}

pub fn exit_code_meaning(code: i32, reason: Option<&str>) -> String {
    if reason == Some("OOMKilled") {
        return "was killed by the kernel for exceeding its memory limit (OOMKilled)".into();
    }
    if code == UNKNOWN_EXIT {
        return "ended with an error (the exit code is not in the evidence)".into();
    }
    match code {
        0 => "exited successfully (code 0) — a long-running workload that finishes is restarted, so the process is ending when it should keep running".into(),
        1 => "exited with code 1 (an application error; the log says which)".into(),
        2 => "exited with code 2 (usually a usage error: bad flags or arguments)".into(),
        126 => "exited with code 126 (the command is not executable: permissions or wrong binary)".into(),
        127 => "exited with code 127 (command not found in the image)".into(),
        128 if reason == Some("StartError") => {
            "never started (StartError: the runtime could not start the process)".into()
        }
        128 => "exited with code 128 (invalid exit argument)".into(),
        130 => "was interrupted (code 130, SIGINT)".into(),
        134 => "aborted (code 134, SIGABRT: an assertion or abort() in the process)".into(),
        137 => "was killed (code 137, SIGKILL: the OOM killer, a failed liveness probe, or a forced stop)".into(),
        139 => "crashed with a segmentation fault (code 139, SIGSEGV)".into(),
        143 => "was terminated (code 143, SIGTERM: a stop request, often a failed liveness probe)".into(),
        c if c > 128 && c < 160 => format!("was killed by signal {} (code {c})", c - 128),
        c => format!("exited with code {c}"),
    }
}

/// Why an image could not be pulled, from the kubelet's messages.
pub enum PullProblem {
    NotFound,
    Unauthorized,
    Unreachable,
    InvalidName,
    RateLimited,
    Unknown,
}

pub fn classify_pull(messages: &str) -> PullProblem {
    let m = messages.to_ascii_lowercase();
    if m.contains("invalidimagename")
        || m.contains("invalid reference format")
        || m.contains("couldn't parse image")
    {
        PullProblem::InvalidName
    } else if m.contains("toomanyrequests") || m.contains("rate limit") {
        PullProblem::RateLimited
    } else if m.contains("unauthorized")
        || m.contains("authentication required")
        || m.contains("access denied")
        || m.contains("denied:")
        || m.contains("pull access denied")
        || m.contains("403 forbidden")
        || m.contains("insufficient_scope")
    {
        // "pull access denied ... repository does not exist or may require authorization"
        // is Docker Hub's answer for both; treat as not found when it says so.
        if m.contains("does not exist") {
            PullProblem::NotFound
        } else {
            PullProblem::Unauthorized
        }
    } else if m.contains("not found")
        || m.contains("manifest unknown")
        || m.contains("does not exist")
    {
        PullProblem::NotFound
    } else if m.contains("no such host")
        || m.contains("i/o timeout")
        || m.contains("connection refused")
        || m.contains("dial tcp")
        || m.contains("tls handshake")
        || m.contains("context deadline exceeded")
    {
        PullProblem::Unreachable
    } else {
        PullProblem::Unknown
    }
}

/// The registry host of an image reference (`docker.io` when none is named).
pub fn registry_of(image: &str) -> &str {
    match image.split_once('/') {
        Some((first, _)) if first.contains('.') || first.contains(':') || first == "localhost" => {
            first
        }
        _ => "docker.io",
    }
}

/// The tag of an image reference, None when it has no tag (which means `latest`).
pub fn tag_of(image: &str) -> Option<&str> {
    let without_digest = image.split('@').next().unwrap_or(image);
    let last = without_digest.rsplit('/').next().unwrap_or(without_digest);
    last.split_once(':').map(|(_, t)| t)
}

/// A reference the kubelet could not resolve in a CreateContainerConfigError message.
pub struct MissingRef {
    pub kind: &'static str,
    pub name: String,
    pub key: Option<String>,
}

pub fn missing_config_ref(message: &str) -> Option<MissingRef> {
    static NOT_FOUND: OnceLock<Regex> = OnceLock::new();
    static KEY: OnceLock<Regex> = OnceLock::new();
    let not_found = re(
        &NOT_FOUND,
        r#"(?i)(secret|configmap)s? "([^"]+)" not found"#,
    );
    let key = re(
        &KEY,
        r#"(?i)couldn't find key ([^\s]+) in (Secret|ConfigMap) ([^/\s]+)/([^\s]+)"#,
    );
    if let Some(c) = key.captures(message) {
        return Some(MissingRef {
            kind: if c[2].eq_ignore_ascii_case("secret") {
                "Secret"
            } else {
                "ConfigMap"
            },
            name: c[4].to_string(),
            key: Some(c[1].to_string()),
        });
    }
    not_found.captures(message).map(|c| MissingRef {
        kind: if c[1].eq_ignore_ascii_case("secret") {
            "Secret"
        } else {
            "ConfigMap"
        },
        name: c[2].to_string(),
        key: None,
    })
}

/// The scheduler's verdict in plain words, e.g. "0/3 nodes are available: 3 Insufficient
/// nvidia.com/gpu." → "no node has enough free nvidia.com/gpu".
pub fn scheduler_reasons(message: &str) -> Vec<String> {
    static INSUFFICIENT: OnceLock<Regex> = OnceLock::new();
    let insufficient = re(&INSUFFICIENT, r"Insufficient ([A-Za-z0-9./_-]+)");
    let mut out = Vec::new();
    for c in insufficient.captures_iter(message) {
        let r = format!(
            "no node has enough free {}",
            c[1].trim_end_matches(['.', ','])
        );
        if !out.contains(&r) {
            out.push(r);
        }
    }
    let m = message.to_ascii_lowercase();
    if m.contains("didn't match pod's node affinity/selector")
        || m.contains("node(s) didn't match node selector")
    {
        out.push("no node matches the pod's nodeSelector/affinity".into());
    }
    if m.contains("untolerated taint") || m.contains("taint") && m.contains("tolerate") {
        out.push("the nodes carry taints the pod does not tolerate".into());
    }
    if m.contains("unbound immediate persistentvolumeclaims")
        || m.contains("persistentvolumeclaim") && m.contains("not found")
    {
        out.push("a PersistentVolumeClaim it mounts is not bound".into());
    }
    if m.contains("didn't match pod anti-affinity") || m.contains("anti-affinity") {
        out.push("pod anti-affinity rules exclude every node".into());
    }
    if m.contains("too many pods") {
        out.push("the nodes are at their pod limit".into());
    }
    if m.contains("volume node affinity conflict") {
        out.push("its volume lives in a zone where no usable node is".into());
    }
    if m.contains("unschedulable") && m.contains("node(s) were unschedulable") {
        out.push("some nodes are cordoned".into());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pull_problems_are_told_apart() {
        assert!(matches!(
            classify_pull("rpc error: manifest unknown"),
            PullProblem::NotFound
        ));
        assert!(matches!(
            classify_pull(
                "pull access denied for yourcompany/crw, repository does not exist or may require 'docker login'"
            ),
            PullProblem::NotFound
        ));
        assert!(matches!(
            classify_pull("401 Unauthorized"),
            PullProblem::Unauthorized
        ));
        assert!(matches!(
            classify_pull("dial tcp: lookup reg.example: no such host"),
            PullProblem::Unreachable
        ));
    }

    #[test]
    fn image_parts() {
        assert_eq!(registry_of("nginx:1.25"), "docker.io");
        assert_eq!(registry_of("ghcr.io/a/b:1"), "ghcr.io");
        assert_eq!(registry_of("localhost:5000/x"), "localhost:5000");
        assert_eq!(tag_of("nginx"), None);
        assert_eq!(tag_of("reg:5000/nginx:1.2"), Some("1.2"));
        assert_eq!(tag_of("nginx@sha256:abc"), None);
    }

    #[test]
    fn config_refs_are_named() {
        let m = missing_config_ref(r#"secret "database-secret" not found"#).unwrap();
        assert_eq!((m.kind, m.name.as_str()), ("Secret", "database-secret"));
        let m =
            missing_config_ref("couldn't find key LOG_LEVEL in ConfigMap shop/app-config").unwrap();
        assert_eq!(m.key.as_deref(), Some("LOG_LEVEL"));
        assert_eq!(m.name, "app-config");
    }

    #[test]
    fn scheduler_messages_are_read() {
        let r = scheduler_reasons(
            "0/3 nodes are available: 3 Insufficient nvidia.com/gpu. preemption: 0/3 nodes are available",
        );
        assert_eq!(
            r,
            vec!["no node has enough free nvidia.com/gpu".to_string()]
        );
        let r = scheduler_reasons(
            "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector.",
        );
        assert_eq!(r.len(), 1);
    }
}

/// The common command a missing one is one or two edits away from (`wge` → `wget`,
/// `pyhton` → `python`), when exactly one is the closest.
pub fn likely_meant(command: &str) -> Option<&'static str> {
    const COMMON: &[&str] = &[
        "wget",
        "curl",
        "bash",
        "sh",
        "python",
        "python3",
        "pip",
        "node",
        "npm",
        "java",
        "nginx",
        "echo",
        "cat",
        "ls",
        "sleep",
        "grep",
        "sed",
        "awk",
        "tar",
        "gzip",
        "ssh",
        "git",
        "make",
        "ruby",
        "perl",
        "php",
        "dotnet",
        "psql",
        "mysql",
        "redis-cli",
        "kubectl",
        "envsubst",
        "openssl",
        "nc",
        "jq",
        "yq",
        "gunicorn",
        "uvicorn",
    ];
    if command.len() < 3 || COMMON.contains(&command) {
        return None;
    }
    let max = if command.len() <= 4 { 1 } else { 2 };
    let scored: Vec<(usize, &'static str)> = COMMON
        .iter()
        .map(|c| (strsim::damerau_levenshtein(command, c), *c))
        .filter(|(d, _)| *d <= max)
        .collect();
    // The closest one, when nothing else is as close.
    let best = scored.iter().map(|(d, _)| *d).min()?;
    match scored
        .iter()
        .filter(|(d, _)| *d == best)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [(_, one)] => Some(one),
        _ => None,
    }
}

/// What a crashed container's last log lines say, as (cause, fix), when they say something
/// specific: a missing variable, a missing command, an unreachable dependency, an expired
/// certificate, a permission problem.
pub fn log_diagnosis(lines: &[String]) -> Option<(String, String)> {
    static ENV: OnceLock<Regex> = OnceLock::new();
    static CMD: OnceLock<Regex> = OnceLock::new();
    static CONN: OnceLock<Regex> = OnceLock::new();
    static HOST: OnceLock<Regex> = OnceLock::new();
    let env = re(
        &ENV,
        r"(?i)(?:environment variable|env(?:ironment)? var(?:iable)?|variable)\s+`?'?([A-Z_][A-Z0-9_]*)'?`?\s+(?:is\s+)?(?:undefined|not set|unset|missing|required|must be set|is required|not defined)|\b([A-Z][A-Z0-9_]{2,})\s+(?:is\s+)?(?:undefined|not set|must be set|is required)\b",
    );
    let cmd = re(
        &CMD,
        r#"(?i)(?:sh|bash|/bin/sh|exec)?:?\s*(?:line \d+:\s*)?([A-Za-z0-9_./-]+): (?:command )?not found|executable file not found in \$PATH|exec: "([^"]+)": executable file not found"#,
    );
    let conn = re(
        &CONN,
        r"(?i)(?:connect(?:ion)?(?: to)?|dial tcp|tried:?)\s*\(?(?:tried:\s*)?([A-Za-z0-9_.-]+:\d{2,5})\)?.*?(?:refused|failed|timed out|timeout|unreachable|no available connection)|([A-Za-z0-9_.-]+:\d{2,5}).{0,40}(?:connection refused|timed out|unreachable)|(?:tried: ([A-Za-z0-9_.-]+:\d{2,5}))",
    );
    let host = re(
        &HOST,
        r"(?i)(?:could not resolve host|no such host|name or service not known|temporary failure in name resolution|unknown host)[:\s]*([A-Za-z0-9_.-]*)",
    );
    for line in lines {
        // "X not set, defaulting to Y" is a warning, not the cause.
        if line.to_ascii_lowercase().contains("default") {
            continue;
        }
        if let Some(c) = env.captures(line) {
            let var = c
                .get(1)
                .or_else(|| c.get(2))
                .map(|m| m.as_str())
                .unwrap_or("?");
            return Some((
                format!("the application needs the environment variable {var}, which is not set"),
                format!(
                    "add {var} to the container's env (or an envFrom ConfigMap/Secret) and roll out again"
                ),
            ));
        }
    }
    for line in lines {
        if let Some(c) = cmd.captures(line) {
            let what = c
                .get(1)
                .or_else(|| c.get(2))
                .map(|m| m.as_str())
                .unwrap_or("the command");
            let name = what.rsplit('/').next().unwrap_or(what);
            return Some(match likely_meant(name) {
                Some(meant) => (
                    format!(
                        "the command `{what}` does not exist in the image: probably a typo for `{meant}`"
                    ),
                    format!(
                        "fix the container's command/args: `{what}` → `{meant}` (or use an image that ships `{what}`)"
                    ),
                ),
                None => (
                    format!(
                        "the command `{what}` does not exist in the image (a typo, or a tool the image does not ship)"
                    ),
                    format!(
                        "fix the container's command/args (`{what}`) or use an image that contains it"
                    ),
                ),
            });
        }
    }
    if let Some(d) = rbac_denial(lines) {
        return Some(d);
    }
    for line in lines {
        if let Some(c) = host.captures(line) {
            let named = unresolved_host(std::slice::from_ref(line));
            let h = named
                .as_deref()
                .or_else(|| c.get(1).map(|m| m.as_str()))
                .filter(|s| !s.is_empty());
            let what = h.map(|h| format!(" `{h}`")).unwrap_or_default();
            return Some((
                format!("it cannot resolve the host{what}: DNS could not resolve the name to an IP address (the name is wrong, or the Service it names does not exist in this namespace)"),
                "check the host name in the configuration and that the Service exists (`kubectl get svc -A | grep NAME`); from a debug pod, `nslookup NAME`".into(),
            ));
        }
    }
    static PG: OnceLock<Regex> = OnceLock::new();
    let pg = re(&PG, r#"(?i)server running on host "([^"]+)".*port (\d+)"#);
    let refused = lines.iter().any(|l| {
        l.to_ascii_lowercase().contains("connection refused")
            || l.to_ascii_lowercase().contains("could not connect")
    });
    if refused {
        for line in lines {
            if let Some(c) = pg.captures(line) {
                let target = format!("{}:{}", &c[1], &c[2]);
                return Some((
                    format!(
                        "it cannot reach {target}: the connection is refused (the database is down or not accepting connections)"
                    ),
                    format!("bring {target} back (check its pods and Service endpoints)"),
                ));
            }
        }
    }
    for line in lines {
        if let Some(c) = conn.captures(line) {
            let target = c
                .get(1)
                .or_else(|| c.get(2))
                .or_else(|| c.get(3))
                .map(|m| m.as_str())
                .unwrap_or("its dependency");
            let l = line.to_ascii_lowercase();
            let how = if l.contains("refused") {
                " (connection refused: nothing listens there)"
            } else if l.contains("timed out") || l.contains("timeout") {
                " (the connection timed out)"
            } else {
                ""
            };
            return Some((
                format!(
                    "it cannot reach {target}{how}: the dependency is down, the address or port is wrong, or a NetworkPolicy blocks it"
                ),
                format!(
                    "check that {target} exists and listens (`kubectl get svc,endpoints -A | grep {}`), and the configured address and port",
                    target.split(':').next().unwrap_or(target)
                ),
            ));
        }
    }
    for line in lines {
        let l = line.to_ascii_lowercase();
        if (l.contains("certificate") || l.contains("x509"))
            && (l.contains("expired") || l.contains("not yet valid"))
        {
            return Some((
                "its TLS certificate has expired (or is not yet valid)".into(),
                "renew the certificate (cert-manager: `kubectl get certificate -A`; otherwise replace the TLS Secret) and restart the pods".into(),
            ));
        }
        if l.contains("permission denied") || l.contains("read-only file system") {
            return Some((
                "it is denied access to a file or directory (permission denied) (permissions, runAsUser, or a read-only filesystem)".into(),
                "check the volume's ownership (fsGroup), the container's runAsUser and readOnlyRootFilesystem against the path in the log".into(),
            ));
        }
    }
    None
}

/// Double a Kubernetes quantity for a suggested new limit (`50Mi` → `100Mi`).
pub fn double_quantity(q: &str) -> Option<String> {
    let digits: String = q
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let suffix = &q[digits.len()..];
    let n: f64 = digits.parse().ok()?;
    let d = n * 2.0;
    Some(if d.fract() == 0.0 {
        format!("{}{suffix}", d as u64)
    } else {
        format!("{d}{suffix}")
    })
}

#[cfg(test)]
mod diagnosis_tests {
    use super::*;

    fn diag(s: &str) -> String {
        log_diagnosis(&[s.to_string()])
            .map(|d| d.0)
            .unwrap_or_default()
    }

    #[test]
    fn reads_the_usual_causes() {
        assert!(diag("Environment variable DEPLOY_ENV is undefined").contains("DEPLOY_ENV"));
        assert!(diag("sh: wge: not found").contains("`wge`"));
        assert!(diag("sh: wge: not found").contains("typo for `wget`"));
        assert!(
            diag(r#"exec: "/usr/bin/pyhton": executable file not found in $PATH"#)
                .contains("typo for `python`")
        );
        assert!(!diag("sh: frobnicate: not found").contains("probably a typo"));
        assert_eq!(likely_meant("wget"), None, "a real command is not a typo");
        assert!(diag("All host(s) tried for db query failed (tried: prod-db:3333) - no available connection").contains("prod-db:3333"));
        assert!(diag("curl: (6) Could not resolve host: api.internal").contains("api.internal"));
        assert!(diag("x509: certificate has expired or is not yet valid").contains("expired"));
        assert_eq!(log_diagnosis(&["all good".to_string()]), None);
        assert_eq!(double_quantity("50Mi").as_deref(), Some("100Mi"));
        assert_eq!(double_quantity("0.5").as_deref(), Some("1"));
    }
}

/// The one candidate closest to `name` ("did you mean"): within a third of its length (at
/// least 1, at most 3 edits), or sharing it as a prefix/suffix of a dash-separated name;
/// `None` when nothing is close or two candidates tie.
pub fn closest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<String> {
    let max = (name.chars().count() / 3).clamp(1, 3);
    // Close by edits, or by a long shared beginning (Jaro-Winkler: "memcom" ~ "memcache").
    let mut scored: Vec<(u32, &str)> = candidates
        .filter(|c| *c != name)
        .filter_map(|c| {
            let jw = strsim::jaro_winkler(name, c);
            let prefix = name
                .chars()
                .zip(c.chars())
                .take_while(|(a, b)| a == b)
                .count();
            let near = strsim::damerau_levenshtein(name, c) <= max
                || (jw >= 0.8 && prefix >= 3)
                || (name.len() >= 4
                    && (c.starts_with(&format!("{name}-")) || name.starts_with(&format!("{c}-"))));
            // Rank by similarity, best first (integer for a total order).
            near.then_some(((1000.0 * (1.0 - jw)) as u32, c))
        })
        .collect();
    scored.sort();
    match scored.as_slice() {
        [(d, c), rest @ ..] if rest.first().is_none_or(|(d2, _)| d2 > d) => Some(c.to_string()),
        _ => None,
    }
}

/// An RBAC denial quoted in a log (client-go, kubectl, controllers): which ServiceAccount
/// lacks which verb on which resource, and where.
pub fn rbac_denial(lines: &[String]) -> Option<(String, String)> {
    static RBAC: OnceLock<Regex> = OnceLock::new();
    let rbac = re(
        &RBAC,
        r#"User "system:serviceaccount:([a-z0-9.-]+):([a-z0-9.-]+)" cannot ([a-z]+) resource "([a-z0-9.-]+)"(?: in API group "([a-z0-9.-]*)")?(?: in the namespace "([a-z0-9.-]+)"| at the cluster scope)?"#,
    );
    for line in lines {
        let Some(c) = rbac.captures(line) else {
            continue;
        };
        let (sa_ns, sa, verb, res) = (&c[1], &c[2], &c[3], &c[4]);
        let group = c.get(5).map(|m| m.as_str()).filter(|g| !g.is_empty());
        let resource = match group {
            Some(g) => format!("{res}.{g}"),
            None => res.to_string(),
        };
        let (scope, grant) = match c.get(6) {
            Some(ns) => (
                format!("in namespace {}", ns.as_str()),
                format!(
                    "`kubectl -n {ns} create role {sa}-{verb}-{res} --verb={verb} --resource={resource}` and `kubectl -n {ns} create rolebinding {sa}-{verb}-{res} --role={sa}-{verb}-{res} --serviceaccount={sa_ns}:{sa}`",
                    ns = ns.as_str()
                ),
            ),
            None => (
                "cluster-wide".to_string(),
                format!(
                    "`kubectl create clusterrole {sa}-{verb}-{res} --verb={verb} --resource={resource}` and `kubectl create clusterrolebinding {sa}-{verb}-{res} --clusterrole={sa}-{verb}-{res} --serviceaccount={sa_ns}:{sa}`"
                ),
            ),
        };
        return Some((
            format!(
                "RBAC denies it: ServiceAccount {sa_ns}/{sa} may not {verb} {resource} {scope}"
            ),
            format!(
                "grant ServiceAccount {sa_ns}/{sa} the verb `{verb}` on `{resource}` {scope} — review first, least privilege: {grant}"
            ),
        ));
    }
    None
}

/// The host a log says it could not resolve, if any.
pub fn unresolved_host(lines: &[String]) -> Option<String> {
    static HOST2: OnceLock<Regex> = OnceLock::new();
    let host = re(
        &HOST2,
        r"(?i)(?:could not resolve host|no such host|name or service not known|temporary failure in name resolution|unknown host|lookup ([A-Za-z0-9_.-]+)(?: on [0-9.:]+)?: no such host)[:\s]*([A-Za-z0-9_.-]*)",
    );
    lines.iter().find_map(|l| {
        let c = host.captures(l)?;
        c.get(1)
            .or_else(|| c.get(2))
            .map(|m| m.as_str().trim_end_matches('.').to_string())
            .filter(|h| !h.is_empty())
    })
}

#[cfg(test)]
mod rbac_tests {
    use super::*;

    #[test]
    fn rbac_denials_name_the_account_verb_and_resource() {
        let line = r#"E0501 10:00:00.000000 1 reflector.go:138] failed to list *v1.Pod: pods is forbidden: User "system:serviceaccount:shop:cart" cannot list resource "pods" in API group "" in the namespace "shop""#;
        let (cause, fix) = log_diagnosis(&[line.to_string()]).expect("diagnosis");
        assert!(
            cause.contains("ServiceAccount shop/cart may not list pods in namespace shop"),
            "{cause}"
        );
        assert!(fix.contains("--serviceaccount=shop:cart"), "{fix}");
        let cluster = r#"forbidden: User "system:serviceaccount:mon:agent" cannot list resource "nodes" in API group "" at the cluster scope"#;
        let (cause, _) = log_diagnosis(&[cluster.to_string()]).expect("diagnosis");
        assert!(cause.contains("cluster-wide"), "{cause}");
    }

    #[test]
    fn unresolved_hosts() {
        let l = |s: &str| vec![s.to_string()];
        assert_eq!(
            unresolved_host(&l("dial tcp: lookup memcom on 10.96.0.10:53: no such host"))
                .as_deref(),
            Some("memcom")
        );
        assert_eq!(
            unresolved_host(&l("curl: (6) Could not resolve host: api.internal")).as_deref(),
            Some("api.internal")
        );
    }
}
