//! Evidence from text: what an on-call engineer has in hand — `kubectl get` tables (any
//! column set, `-A`, `-o wide`, `get all`, rows a `grep` left without their header),
//! `kubectl describe` of the common kinds, `kubectl get events` / `kubectl events`,
//! `kubectl top`, `kubectl logs` (with `--timestamps`, `--prefix`, `--previous`), manifests
//! under any file name, and kubectl's error output — read into the same [`ClusterState`]
//! the analyzers use (`sextant ask --evidence FILE_OR_DIR`).
//!
//! Files recorded by HolmesGPT's tool fixtures (a JSON header, then `stdout:` … `stderr:`)
//! are unwrapped first. A file that is none of these is named on stderr; logs are bound to the
//! pod their file name or header names, whether or not the pod itself is in the evidence.

mod describe;
mod describe_kinds;
pub mod table;

use crate::jsonptr::Pointer as _;
use crate::logs::LogBlob;
use crate::state::{Absent, ClusterState};
use serde_json::{Value, json};
use std::path::Path;

/// Evidence files larger than this are logs at most (read through the bounded log reader),
/// never parsed whole.
const MAX_TEXT_BYTES: u64 = 64 * 1024 * 1024;

/// The Kind a kubectl resource word names (`po`, `pods`, `deployment.apps`, `Deployment`),
/// by the snapshot reader's table.
pub(crate) fn kind_name(word: &str) -> Option<&'static str> {
    let w = word.trim().to_ascii_lowercase();
    let w = w.split('.').next().unwrap_or("");
    crate::source::snapshot::kind_for_plural(w)
}

/// What a file's name and a tool header say about its content.
#[derive(Debug, Default)]
struct Hints {
    kind: Option<&'static str>,
    namespace: Option<String>,
    name: Option<String>,
    /// A `kubectl_find_resource`-style grep: rows without a header.
    grep: bool,
    log: bool,
    previous: bool,
}

fn hints(file_name: &str, header: Option<&Value>) -> Hints {
    let p = |k: &str| {
        header
            .and_then(|h| h.at(&format!("/match_params/{k}")))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let tool = header
        .and_then(|h| h.get("tool_name"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let words: Vec<&str> = file_name.split(['_', '-', '.']).collect();
    Hints {
        kind: p("kind")
            .as_deref()
            .and_then(kind_name)
            .or_else(|| words.iter().find_map(|w| kind_name(w))),
        namespace: p("namespace"),
        name: p("pod_name").or_else(|| p("name")),
        grep: tool.contains("find_resource") || file_name.contains("grep"),
        log: tool.contains("log") || words.iter().any(|w| *w == "log" || *w == "logs"),
        previous: file_name.contains("previous"),
    }
}

/// A pasted session's command line (`$ kubectl -n shop logs api-1 --previous`) says what the
/// output below it is: verb, kind, namespace, object, `--previous`. The line is removed.
fn command_hints(text: &str, h: &mut Hints) -> String {
    let mut kept = String::with_capacity(text.len());
    for (i, line) in text.lines().enumerate() {
        let t = line
            .trim_start()
            .trim_start_matches(['$', '#', '>'])
            .trim_start();
        if i < 3 && t.starts_with("kubectl ") {
            let args: Vec<&str> = t.split_whitespace().skip(1).collect();
            let mut positional: Vec<&str> = Vec::new();
            let mut j = 0;
            while j < args.len() {
                let a = args[j];
                match a {
                    "-n" | "--namespace" => {
                        h.namespace = args.get(j + 1).map(|s| s.to_string());
                        j += 1;
                    }
                    "-p" | "--previous" => h.previous = true,
                    "-c" | "--container" | "-o" | "--output" | "-l" | "--selector" | "--tail"
                    | "--since" | "--context" => j += 1,
                    _ if a.starts_with("--namespace=") => {
                        h.namespace = a.split_once('=').map(|(_, v)| v.to_string());
                    }
                    _ if a.starts_with("--previous") => h.previous = true,
                    _ if a.starts_with('-') || a == "|" => {}
                    _ => positional.push(a),
                }
                if a == "|" {
                    break;
                }
                j += 1;
            }
            let verb = positional.first().copied().unwrap_or("");
            let rest = &positional[positional.len().min(1)..];
            if verb == "logs" {
                h.log = true;
                h.name = rest
                    .first()
                    .map(|p| p.trim_start_matches("pod/").to_string());
            } else if let Some(res) = rest.first() {
                let (k, n) = res
                    .split_once('/')
                    .map_or((*res, rest.get(1).copied()), |(k, n)| (k, Some(n)));
                if let Some(kind) = kind_name(k) {
                    h.kind = Some(kind);
                }
                if verb == "describe" || verb == "get" {
                    h.name = n.map(str::to_string).or(h.name.take());
                }
            }
            continue;
        }
        kept.push_str(line);
        kept.push('\n');
    }
    kept
}

/// `Error from server (NotFound): pods "foo" not found`, `Error from server (NotFound):
/// namespaces "x" not found`, or a `Status` body: facts about what does not exist.
fn absences(text: &str, hints: &Hints) -> Option<Vec<Absent>> {
    let t = text.trim();
    if t.starts_with('{')
        && let Ok(v) = serde_json::from_str::<Value>(t)
        && v.get("kind").and_then(Value::as_str) == Some("Status")
    {
        if v.get("reason").and_then(Value::as_str) != Some("NotFound") {
            return Some(Vec::new());
        }
        let d = v.get("details");
        return Some(vec![Absent {
            kind: d
                .and_then(|d| d.get("kind"))
                .and_then(Value::as_str)
                .and_then(kind_name)
                .unwrap_or("Object")
                .to_string(),
            namespace: hints.namespace.clone(),
            name: d
                .and_then(|d| d.get("name"))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            message: v
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
        }]);
    }
    let lines: Vec<&str> = t.lines().filter(|l| !l.trim().is_empty()).collect();
    let errors: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.starts_with("Error from server") || l.starts_with("error: "))
        .collect();
    if errors.is_empty() || errors.len() * 2 < lines.len() {
        return None;
    }
    static NOT_FOUND: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    let re = NOT_FOUND
        .get_or_init(|| regex::Regex::new(r#"\(NotFound\): ([a-z.]+) "([^"]+)" not found"#).ok())
        .as_ref()?;
    Some(
        errors
            .iter()
            .filter_map(|l| {
                let c = re.captures(l)?;
                let kind = kind_name(&c[1]).unwrap_or("Object");
                Some(Absent {
                    kind: kind.to_string(),
                    namespace: (kind != "Namespace" && kind != "Node")
                        .then(|| hints.namespace.clone())
                        .flatten(),
                    name: c[2].to_string(),
                    message: crate::redact::redact(l).into_owned(),
                })
            })
            .collect(),
    )
}

/// Whether unlabelled text reads as a log: most lines carry a timestamp, a level, or are JSON.
fn looks_like_log(text: &str) -> bool {
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(200)
        .collect();
    if lines.is_empty() {
        return false;
    }
    static LOGGY: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    let Some(re) = LOGGY
        .get_or_init(|| {
            regex::Regex::new(
                r"(?i)^\[?(\d{4}-\d\d-\d\d[T ]\d\d:\d\d|\d\d:\d\d:\d\d|[IWEF]\d{4} |\{|\[pod/)|\b(error|warn|warning|info|debug|fatal|panic|exception|level=)\b",
            )
            .ok()
        })
        .as_ref()
    else {
        return false;
    };
    lines.iter().filter(|l| re.is_match(l)).count() * 2 >= lines.len()
}

/// What one file held.
#[derive(Default)]
struct Parsed {
    objects: Vec<Value>,
    listed: Vec<(String, String)>,
    tables: Vec<table::Read>,
    absent: Vec<Absent>,
}

/// `<error: endpoints "web" not found>` in `describe ingress`.
fn missing_backend() -> Option<&'static regex::Regex> {
    static RE: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    RE.get_or_init(|| regex::Regex::new(r#"<error: endpoints "([^"]+)" not found>"#).ok())
        .as_ref()
}

/// Read one file's text as describe output, tables, errors or manifests (`None`: none of them).
fn parse_text(text: &str, name: &str, h: &Hints) -> Option<Parsed> {
    let mut p = Parsed::default();
    if let Some(a) = absences(text, h) {
        p.absent = a;
        return Some(p);
    }
    // `describe`: one section per object.
    let sections = describe_kinds::sections(text);
    for s in &sections {
        let objs = describe::parse_describe_pod(s)
            .or_else(|| describe::parse_describe_pvc(s))
            .or_else(|| describe::parse_describe_job(s))
            .or_else(|| describe_kinds::parse(s, h.kind));
        if let Some(o) = objs {
            p.objects.extend(o);
            p.objects.extend(describe_kinds::service_endpoints(s));
            // An Ingress's backend shown as `<error: endpoints "web" not found>`.
            let ns = s
                .lines()
                .find_map(|l| l.strip_prefix("Namespace:"))
                .map(|n| n.trim().to_string());
            let names: Vec<String> = missing_backend()
                .map(|re| re.captures_iter(s).map(|c| c[1].to_string()).collect())
                .unwrap_or_default();
            for c in names {
                p.absent.push(Absent {
                    kind: "Service".into(),
                    namespace: ns.clone(),
                    message: format!("endpoints \"{c}\" not found (kubectl describe ingress)"),
                    name: c,
                });
            }
        }
    }
    if !p.objects.is_empty() {
        return Some(p);
    }
    // Tables (`get`, `get events`, `top`), or grep'd rows without their header.
    let ns_hint = h.namespace.as_deref();
    let kind_hint = h.kind.map(str::to_ascii_lowercase);
    for t in table::tables(text) {
        if table::kind_of(&t, kind_hint.as_deref()).is_some() {
            p.tables
                .push(table::read(&t, kind_hint.as_deref(), ns_hint));
        }
    }
    if p.tables.is_empty()
        && h.grep
        && let Some(t) = kind_hint
            .as_deref()
            .and_then(|k| table::headerless(text, k))
    {
        let mut r = table::read(&t, kind_hint.as_deref(), ns_hint);
        // Rows a grep kept are not a complete listing.
        r.listed.clear();
        p.tables.push(r);
    }
    if !p.tables.is_empty() {
        return Some(p);
    }
    // Manifests (`get -o yaml|json`) under any file name.
    let head = text.trim_start();
    let json_like = head.starts_with('{') || head.starts_with('[');
    let yaml_like = text
        .lines()
        .any(|l| l.starts_with("apiVersion:") || l.starts_with("kind:"));
    if (json_like || yaml_like || name.ends_with(".yaml") || name.ends_with(".yml"))
        && let Ok(docs) = crate::source::snapshot::parse_text(text, json_like)
        && docs.iter().any(|d| d.get("kind").is_some())
    {
        // `kubectl get KIND -o yaml|json` prints a List: a complete listing of what it holds.
        let is_list = text.lines().any(|l| {
            let t = l.trim().trim_end_matches(',');
            t == "kind: List"
                || t == "\"kind\": \"List\""
                || (l.starts_with("kind: ") && t.ends_with("List"))
        });
        if is_list {
            for d in &docs {
                if let Some(k) = str_at(d, "/kind") {
                    let ns = str_at(d, "/metadata/namespace").unwrap_or("default");
                    p.listed.push((k.to_string(), ns.to_string()));
                }
            }
        }
        // A bundle that creates its namespace defines what is in it.
        for d in &docs {
            if str_at(d, "/kind") == Some("Namespace")
                && let Some(n) = str_at(d, "/metadata/name")
            {
                p.listed.push(("*".to_string(), n.to_string()));
            }
        }
        p.objects = docs;
        return Some(p);
    }
    None
}

/// Read a file or every file of a directory as evidence.
pub fn load(path: &Path) -> crate::Result<ClusterState> {
    if !path.exists() {
        return Err(crate::Error::Usage(format!(
            "--evidence {}: no such file or directory",
            path.display()
        )));
    }
    let mut files = Vec::new();
    if path.is_dir() {
        files = crate::fswalk::files(path, &|_| true)
            .map_err(|e| crate::Error::Usage(format!("--evidence {}: {e}", path.display())))?;
        files.sort();
    } else {
        files.push(path.to_path_buf());
    }
    let mut objects: Vec<Value> = Vec::new();
    let mut logs: Vec<(Hints, String, String)> = Vec::new();
    let mut st = ClusterState::default();
    st.evidence.partial = true;
    for f in &files {
        let shown = f.display().to_string();
        let meta = std::fs::metadata(f).ok();
        if !meta.as_ref().is_some_and(|m| m.is_file()) {
            st.report
                .skipped_files
                .push((shown, "not a regular file".into()));
            continue;
        }
        if meta.is_some_and(|m| m.len() > MAX_TEXT_BYTES) {
            st.report.skipped_files.push((
                shown,
                format!("larger than {} MiB", MAX_TEXT_BYTES / (1024 * 1024)),
            ));
            continue;
        }
        let Ok(raw) = std::fs::read_to_string(f) else {
            st.report
                .skipped_files
                .push((shown, "not UTF-8 text".into()));
            continue;
        };
        st.report.files_read += 1;
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        let (header, text) = unwrap_fixture(&raw);
        let mut h = hints(&name, header.as_ref());
        let text = command_hints(&text, &mut h);
        if text.trim().is_empty() {
            continue;
        }
        if !h.log
            && let Some(p) = parse_text(&text, &name, &h)
        {
            objects.extend(p.objects);
            st.evidence.absent.extend(p.absent);
            st.evidence.listed.extend(p.listed);
            for t in p.tables {
                objects.extend(t.objects);
                st.evidence.listed.extend(t.listed);
                st.evidence.usage.extend(t.usage);
                st.secret_names.extend(t.secret_names);
            }
            continue;
        }
        // A JSON document that is no Kubernetes object (a tool's request, a ticket) is not a
        // log either.
        let whole_json = serde_json::from_str::<Value>(text.trim()).is_ok();
        if !whole_json && (h.log || looks_like_log(&text)) {
            logs.push((h, name, text));
            continue;
        }
        st.report.skipped_files.push((
            shown,
            "not understood (not kubectl get/describe/events/top/logs output, a manifest or an error)".into(),
        ));
    }
    // One object pasted twice (a manifest and its `describe`, a table row) is one object:
    // merged, the fullest first (a table row says least).
    objects.sort_by_key(|o| {
        o.at(&format!(
            "/metadata/annotations/{}",
            table::FROM_TABLE.replace('/', "~1")
        ))
        .is_some()
    });
    let objects = merge_same(objects);
    // One code path for typing objects: the snapshot reader's. A Secret's name is kept,
    // nothing else of it.
    for (i, o) in objects.into_iter().enumerate() {
        if str_at(&o, "/kind") == Some("Secret") {
            if let Some(n) = str_at(&o, "/metadata/name") {
                let ns = str_at(&o, "/metadata/namespace").unwrap_or("default");
                st.secret_names.insert((ns.to_string(), n.to_string()));
            }
            continue;
        }
        crate::source::snapshot::ingest_one(o, &format!("evidence #{i}"), &mut st);
    }
    bind_logs(&mut st, logs);
    st.observed_at = Some(jiff::Timestamp::now());
    // Manifests pasted as evidence are judged as manifests: spec-level checks only.
    st.report.manifests_only = crate::source::snapshot::manifests_only(&st);
    st.index_events();
    Ok(st)
}

/// Logs belong to the pod their header or file name names (`kubectl_logs_POD_NS.txt`,
/// `POD.log`), whether or not that pod is in the evidence; else to the only pod described;
/// else to the file itself. `kubectl logs --prefix` lines (`[pod/P/C] …`) go to their pod and
/// container.
fn bind_logs(st: &mut ClusterState, logs: Vec<(Hints, String, String)>) {
    let pods: Vec<(String, String)> = st
        .pods
        .iter()
        .map(|p| {
            (
                p.metadata
                    .namespace
                    .clone()
                    .unwrap_or_else(|| "default".into()),
                p.metadata.name.clone().unwrap_or_default(),
            )
        })
        .collect();
    let namespaces = st.namespace_names();
    for (h, file, text) in logs {
        // `--prefix`: split by the pod and container each line names.
        if let Some(groups) = prefixed(&text) {
            for ((pod, container), body) in groups {
                let ns = h
                    .namespace
                    .clone()
                    .or_else(|| pods.iter().find(|(_, p)| *p == pod).map(|(n, _)| n.clone()))
                    .unwrap_or_else(|| "default".into());
                st.logs.add(
                    &ns,
                    &pod,
                    LogBlob::Text {
                        container,
                        previous: h.previous,
                        text: body.into(),
                    },
                );
            }
            continue;
        }
        let stem = file
            .rsplit_once('.')
            .map_or(file.as_str(), |(s, _)| s)
            .to_string();
        let tokens: Vec<&str> = stem
            .split('_')
            .filter(|t| {
                !matches!(
                    *t,
                    "kubectl"
                        | "logs"
                        | "log"
                        | "previous"
                        | "all"
                        | "containers"
                        | "fetch"
                        | "pod"
                ) && crate::shell::is_k8s_name(t)
            })
            .collect();
        // A pod named by the header, then by a token of the file name that is a pod of the
        // evidence (or the prefix of exactly one), then the only pod, then the first token.
        let named = h.name.clone().or_else(|| {
            tokens.iter().find_map(|t| {
                pods.iter()
                    .find(|(_, p)| p == t)
                    .or_else(|| {
                        let m: Vec<_> = pods
                            .iter()
                            .filter(|(_, p)| p.starts_with(&format!("{t}-")))
                            .collect();
                        (m.len() == 1).then(|| m[0])
                    })
                    .map(|(_, p)| p.clone())
            })
        });
        let pod = named
            .clone()
            .or_else(|| (pods.len() == 1).then(|| pods[0].1.clone()))
            .or_else(|| tokens.first().map(|t| t.to_string()))
            .unwrap_or_else(|| stem.clone());
        let ns = h
            .namespace
            .clone()
            .or_else(|| pods.iter().find(|(_, p)| *p == pod).map(|(n, _)| n.clone()))
            .or_else(|| {
                tokens
                    .iter()
                    .rev()
                    .find(|t| namespaces.contains(**t))
                    .map(|t| t.to_string())
            })
            .unwrap_or_else(|| "default".into());
        st.logs.add(
            &ns,
            &pod,
            LogBlob::Text {
                container: None,
                previous: h.previous,
                text: text.into(),
            },
        );
    }
}

type PodContainer = (String, Option<String>);

/// Lines of `kubectl logs --prefix` grouped by (pod, container); `None` when the text is not
/// prefixed.
fn prefixed(text: &str) -> Option<Vec<(PodContainer, String)>> {
    let mut groups: Vec<(PodContainer, String)> = Vec::new();
    let mut n = 0;
    let mut total = 0;
    for l in text.lines().filter(|l| !l.trim().is_empty()) {
        total += 1;
        let Some(rest) = l.strip_prefix("[pod/") else {
            continue;
        };
        let Some((who, line)) = rest.split_once("] ") else {
            continue;
        };
        n += 1;
        let mut parts = who.splitn(2, '/');
        let pod = parts.next().unwrap_or("").to_string();
        let container = parts.next().map(str::to_string);
        let key = (pod, container);
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, body)) => {
                body.push_str(line);
                body.push('\n');
            }
            None => groups.push((key, format!("{line}\n"))),
        }
    }
    (total > 0 && n * 2 > total).then_some(groups)
}

/// HolmesGPT fixtures: `{json header}` `{json result}` `stdout:` TEXT `stderr:` …
fn unwrap_fixture(raw: &str) -> (Option<Value>, String) {
    if !raw.trim_start().starts_with("{\"toolset_name\"") {
        return (None, raw.to_string());
    }
    let header = raw
        .lines()
        .next()
        .and_then(|l| serde_json::from_str(l).ok());
    let text = match raw.split_once("\nstdout:\n") {
        Some((_, rest)) => rest.rsplit_once("\nstderr:").map_or(rest, |(s, _)| s),
        // The newer layout: the header, a JSON result line, then the output itself.
        None => {
            let mut rest = raw.split_once('\n').map_or("", |(_, r)| r);
            if let Some((second, after)) = rest.split_once('\n')
                && second.trim_start().starts_with('{')
                && serde_json::from_str::<Value>(second).is_ok()
            {
                rest = after;
            }
            rest
        }
    };
    (header, text.to_string())
}

/// The string at a JSON pointer.
fn str_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.at(pointer).and_then(Value::as_str)
}

/// Objects of the same kind, namespace and name merged into the first (events are kept as
/// they are: several share a name pattern but are distinct).
fn merge_same(objects: Vec<Value>) -> Vec<Value> {
    fn fill(into: &mut Value, from: Value) {
        match (into, from) {
            (Value::Object(a), Value::Object(b)) => {
                for (k, v) in b {
                    match a.get_mut(&k) {
                        Some(existing) => fill(existing, v),
                        None => {
                            a.insert(k, v);
                        }
                    }
                }
            }
            (slot @ Value::Null, v) => *slot = v,
            _ => {}
        }
    }
    let key = |o: &Value| -> Option<(String, String, String)> {
        let kind = str_at(o, "/kind")?;
        if kind == "Event" || kind.ends_with("List") {
            return None;
        }
        Some((
            kind.to_string(),
            str_at(o, "/metadata/namespace")
                .unwrap_or("default")
                .to_string(),
            str_at(o, "/metadata/name")?.to_string(),
        ))
    };
    let mut out: Vec<Value> = Vec::with_capacity(objects.len());
    let mut seen: std::collections::HashMap<(String, String, String), usize> = Default::default();
    for o in objects {
        match key(&o).and_then(|k| seen.get(&k).copied().map(|i| (k, i))) {
            Some((_, i)) => fill(&mut out[i], o),
            None => {
                if let Some(k) = key(&o) {
                    seen.insert(k, out.len());
                }
                out.push(o);
            }
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn event(
    ns: &str,
    kind: &str,
    name: &str,
    type_: &str,
    reason: &str,
    message: &str,
    count: i64,
    n: usize,
) -> Value {
    let now = jiff::Timestamp::now().to_string();
    json!({"apiVersion": "v1", "kind": "Event",
        "metadata": {"name": format!("{name}.{n}"), "namespace": ns},
        "involvedObject": {"kind": kind, "name": name, "namespace": ns, "uid": format!("evidence-{name}")},
        "type": type_, "reason": reason, "message": message, "count": count,
        "firstTimestamp": now, "lastTimestamp": now})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixture_wrappers_are_unwrapped() {
        let raw = "{\"toolset_name\": \"k\", \"tool_name\": \"fetch_pod_logs\", \"match_params\": {\"pod_name\": \"p\"}}\n{\"status\": \"success\"}\nstdout:\nboom\n\nstderr:\n";
        let (h, t) = unwrap_fixture(raw);
        assert_eq!(t.trim(), "boom");
        // The newer layout has no `stdout:` marker: the output follows the result line.
        let newer = "{\"toolset_name\": \"k\"}\n{\"schema_version\": \"v1\", \"data\": null}\nName: web-1\nNamespace: shop\n";
        assert_eq!(unwrap_fixture(newer).1, "Name: web-1\nNamespace: shop\n");
        assert_eq!(
            h.and_then(|h| h.at("/match_params/pod_name").cloned()),
            Some(json!("p"))
        );
    }
}
