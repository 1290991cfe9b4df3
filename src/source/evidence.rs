//! Evidence from text: what an on-call engineer has in hand — `kubectl describe pod` output,
//! `kubectl get events` / `kubectl events` tables, raw logs, manifests — read into the same
//! [`ClusterState`] the analyzers use (`sextant ask --evidence FILE_OR_DIR`).
//!
//! `describe` text is turned into a Pod with its container states, last states, exit codes,
//! restart counts, limits, environment names and probes, plus the Events of its table; files
//! recorded by HolmesGPT's tool fixtures (a JSON header, then `stdout:` … `stderr:`) are
//! unwrapped first. What cannot be parsed is kept as a log of the pod it names.

use crate::logs::LogBlob;
use crate::state::ClusterState;
use serde_json::{Value, json};
use std::path::Path;

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
    let mut logs: Vec<(Option<String>, Option<String>, bool, String)> = Vec::new();
    for f in &files {
        let Ok(raw) = std::fs::read_to_string(f) else {
            continue;
        };
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        let (header, text) = unwrap_fixture(&raw);
        let pod_hint = header
            .as_ref()
            .and_then(|h| {
                h.pointer("/match_params/pod_name")
                    .or_else(|| h.pointer("/match_params/name"))
                    .and_then(Value::as_str)
            })
            .map(str::to_string);
        let ns_hint = header
            .as_ref()
            .and_then(|h| h.pointer("/match_params/namespace").and_then(Value::as_str))
            .map(str::to_string);
        if let Some(pod) = parse_describe_pod(&text) {
            objects.extend(pod);
            continue;
        }
        if let Some(pvc) = parse_describe_pvc(&text) {
            objects.extend(pvc);
            continue;
        }
        if let Some(job) = parse_describe_job(&text) {
            objects.extend(job);
            continue;
        }
        if let Some(evs) = parse_events_table(&text, ns_hint.as_deref()) {
            objects.extend(evs);
            continue;
        }
        let is_manifest =
            name.ends_with(".yaml") || name.ends_with(".yml") || name.ends_with(".json");
        if is_manifest
            && let Ok(docs) = crate::source::snapshot::parse_text(&text, name.ends_with(".json"))
            && docs.iter().any(|d| d.get("kind").is_some())
        {
            objects.extend(docs);
            continue;
        }
        let header_tool = header
            .as_ref()
            .and_then(|h| h.get("tool_name").and_then(Value::as_str))
            .unwrap_or("");
        let looks_like_log = header_tool.contains("log") || name.contains("log");
        if looks_like_log && !text.trim().is_empty() {
            logs.push((ns_hint, pod_hint, name.contains("previous"), text));
        }
    }
    let mut st = ClusterState::default();
    // One object pasted twice (a manifest and its `describe`) is one object: merged, the
    // first seen wins where both say something.
    let objects = merge_same(objects);
    // One code path for typing objects: the snapshot reader's.
    for (i, o) in objects.into_iter().enumerate() {
        crate::source::snapshot::ingest_one(o, &format!("evidence #{i}"), &mut st);
    }
    // Logs belong to the pod they name, else to the only pod described.
    let only_pod = (st.pods.len() == 1).then(|| {
        (
            st.pods[0].metadata.namespace.clone().unwrap_or_default(),
            st.pods[0].metadata.name.clone().unwrap_or_default(),
        )
    });
    for (ns, pod, previous, text) in logs {
        let target = match (ns, pod) {
            (ns, Some(p)) => Some((
                ns.or_else(|| {
                    st.pods
                        .iter()
                        .find(|x| x.metadata.name.as_deref() == Some(&p))
                        .and_then(|x| x.metadata.namespace.clone())
                })
                .unwrap_or_else(|| "default".into()),
                p,
            )),
            _ => only_pod.clone(),
        };
        if let Some((ns, pod)) = target {
            st.logs.add(
                &ns,
                &pod,
                LogBlob::Text {
                    container: None,
                    previous,
                    text: text.into(),
                },
            );
        }
    }
    st.observed_at = Some(jiff::Timestamp::now());
    // Manifests pasted as evidence are judged as manifests: spec-level checks only.
    st.report.manifests_only = crate::source::snapshot::manifests_only(&st);
    st.index_events();
    Ok(st)
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

/// The value after `Key:` on a line of `describe` output.
fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    line.trim_start()
        .strip_prefix(key)
        .and_then(|r| r.strip_prefix(':'))
        .map(str::trim)
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// The string at a JSON pointer.
fn str_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer).and_then(Value::as_str)
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

/// A top-level `Key:` of `describe` output, when it has a value.
fn top_field<'a>(lines: &[&'a str], key: &str) -> Option<&'a str> {
    lines
        .iter()
        .find_map(|l| (indent(l) == 0).then(|| field(l, key)).flatten())
        .filter(|v| !v.is_empty())
}

/// The rows of the `Events:` table of `describe` output, as events about `kind/name`.
fn describe_events(lines: &[&str], kind: &str, name: &str, ns: &str) -> Vec<Value> {
    lines
        .iter()
        .position(|l| l.starts_with("Events:"))
        .map(|i| parse_events_rows(&lines[i + 1..], kind, name, ns))
        .unwrap_or_default()
}

/// `kubectl describe job` → the Job's status (active, succeeded, failed; a Failed condition once
/// the failures exceed the backoff limit) and its Events.
fn parse_describe_job(text: &str) -> Option<Vec<Value>> {
    let lines: Vec<&str> = text.lines().collect();
    let top = |key: &str| top_field(&lines, key);
    let statuses = top("Pods Statuses")?;
    let name = top("Name")?;
    let ns = top("Namespace").unwrap_or("default");
    // "0 Active (0 Ready) / 0 Succeeded / 1 Failed"
    let count = |what: &str| -> i64 {
        statuses
            .split('/')
            .find(|part| part.contains(what))
            .and_then(|part| part.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    let backoff: i64 = top("Backoff Limit")
        .and_then(|b| b.parse().ok())
        .unwrap_or(6);
    let (failed, active) = (count("Failed"), count("Active"));
    let mut status = json!({"active": active, "succeeded": count("Succeeded"), "failed": failed});
    let events = describe_events(&lines, "Job", name, ns);
    let said_failed = events
        .iter()
        .any(|e| str_at(e, "/reason") == Some("BackoffLimitExceeded"));
    if (failed > backoff && active == 0) || said_failed {
        status["conditions"] = json!([{"type": "Failed", "status": "True",
            "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit"}]);
    }
    let mut out = vec![json!({"apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": name, "namespace": ns, "uid": format!("evidence-job-{name}")},
        "spec": {"backoffLimit": backoff, "template": {"spec": {"containers": []}}},
        "status": status})];
    out.extend(events);
    Some(out)
}

/// `kubectl describe pvc` → the PersistentVolumeClaim (class, phase, volume) and its Events:
/// a pod pending on an unbound claim is explained by the claim's own events.
fn parse_describe_pvc(text: &str) -> Option<Vec<Value>> {
    let lines: Vec<&str> = text.lines().collect();
    let top = |key: &str| top_field(&lines, key);
    // What only a claim's describe has.
    if top("VolumeMode").is_none() && !lines.iter().any(|l| l.starts_with("Access Modes:")) {
        return None;
    }
    let name = top("Name")?;
    let ns = top("Namespace").unwrap_or("default");
    let mut spec =
        json!({"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}});
    if let Some(class) = top("StorageClass") {
        spec["storageClassName"] = json!(class);
    }
    if let Some(volume) = top("Volume") {
        spec["volumeName"] = json!(volume);
    }
    let phase = top("Status").unwrap_or("Pending");
    let mut out = vec![json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "namespace": ns, "uid": format!("evidence-pvc-{name}")},
        "spec": spec, "status": {"phase": phase}})];
    out.extend(describe_events(&lines, "PersistentVolumeClaim", name, ns));
    Some(out)
}

/// `kubectl describe pod` → the Pod and its Events.
fn parse_describe_pod(text: &str) -> Option<Vec<Value>> {
    let lines: Vec<&str> = text.lines().collect();
    let name = top_field(&lines, "Name")?;
    if !lines.iter().any(|l| l.starts_with("Containers:")) {
        return None;
    }
    let ns = top_field(&lines, "Namespace").unwrap_or("default");
    let mut labels = serde_json::Map::new();
    let mut owner: Option<(String, String)> = None;
    let mut node: Option<String> = None;
    let mut phase = "Running".to_string();
    let mut node_selector = serde_json::Map::new();
    let mut containers: Vec<Value> = Vec::new();
    let mut statuses: Vec<Value> = Vec::new();
    let mut init_containers: Vec<Value> = Vec::new();
    let mut init_statuses: Vec<Value> = Vec::new();
    let mut events: Vec<Value> = Vec::new();
    let mut conditions: Vec<Value> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let l = lines[i];
        if indent(l) == 0 {
            if let Some(v) = field(l, "Labels") {
                let mut j = i;
                let mut v = v.to_string();
                loop {
                    if let Some((k, val)) = v.split_once('=') {
                        labels.insert(k.trim().into(), json!(val.trim()));
                    }
                    j += 1;
                    match lines.get(j) {
                        Some(n) if indent(n) > 0 && !n.contains(':') => v = n.trim().to_string(),
                        _ => break,
                    }
                }
            } else if let Some(v) = field(l, "Controlled By") {
                owner = v
                    .split_once('/')
                    .map(|(k, n)| (k.to_string(), n.to_string()));
            } else if let Some(v) = field(l, "Node") {
                node = v
                    .split('/')
                    .next()
                    .filter(|n| *n != "<none>")
                    .map(str::to_string);
            } else if let Some(v) = field(l, "Status") {
                phase = v.to_string();
            } else if let Some(v) = field(l, "Node-Selectors") {
                for kv in v.split(',') {
                    if let Some((k, val)) = kv.split_once('=') {
                        node_selector.insert(k.trim().into(), json!(val.trim()));
                    }
                }
            } else if l.starts_with("Containers:") || l.starts_with("Init Containers:") {
                let init = l.starts_with("Init");
                let (specs, sts) = parse_containers(&lines, &mut i);
                if init {
                    init_containers = specs;
                    init_statuses = sts;
                } else {
                    containers = specs;
                    statuses = sts;
                }
                continue;
            } else if l.starts_with("Conditions:") {
                i += 2;
                while let Some(c) = lines.get(i).filter(|c| indent(c) > 0) {
                    let mut p = c.split_whitespace();
                    if let (Some(t), Some(s)) = (p.next(), p.next()) {
                        conditions.push(json!({"type": t, "status": s}));
                    }
                    i += 1;
                }
                continue;
            } else if l.starts_with("Events:") {
                events = parse_events_rows(&lines[i + 1..], "Pod", name, ns);
            }
        }
        i += 1;
    }
    let mut meta =
        json!({"name": name, "namespace": ns, "uid": format!("evidence-{name}"), "labels": labels});
    if let Some((k, n)) = owner {
        meta["ownerReferences"] = json!([{"kind": k, "name": n, "apiVersion": "v1", "uid": format!("evidence-{n}"), "controller": true}]);
    }
    let mut spec = json!({"containers": containers});
    if !init_containers.is_empty() {
        spec["initContainers"] = json!(init_containers);
    }
    if let Some(n) = node {
        spec["nodeName"] = json!(n);
    }
    if !node_selector.is_empty() {
        spec["nodeSelector"] = Value::Object(node_selector);
    }
    let mut status =
        json!({"phase": phase, "containerStatuses": statuses, "conditions": conditions});
    if !init_statuses.is_empty() {
        status["initContainerStatuses"] = json!(init_statuses);
    }
    let mut out = vec![
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec, "status": status}),
    ];
    out.extend(events);
    Some(out)
}

/// The container blocks after `Containers:` (2-space names, 4-space fields).
fn parse_containers(lines: &[&str], i: &mut usize) -> (Vec<Value>, Vec<Value>) {
    let (mut specs, mut statuses) = (Vec::new(), Vec::new());
    *i += 1;
    while *i < lines.len() && (indent(lines[*i]) > 0 || lines[*i].trim().is_empty()) {
        let l = lines[*i];
        if indent(l) == 2 && l.trim_end().ends_with(':') {
            let name = l.trim().trim_end_matches(':').to_string();
            let mut spec = json!({"name": name});
            let mut st = json!({"name": name, "ready": false, "restartCount": 0, "image": "", "imageID": ""});
            let mut section = "";
            let mut env = Vec::new();
            *i += 1;
            while *i < lines.len() && indent(lines[*i]) >= 4 {
                let c = lines[*i];
                let d = indent(c);
                let t = c.trim();
                if d == 4 {
                    section = "";
                    if let Some(v) = field(c, "Image") {
                        spec["image"] = json!(v);
                        st["image"] = json!(v);
                    } else if let Some(v) = field(c, "State") {
                        section = "state";
                        st["state"] = json!({ state_key(v): {} });
                    } else if let Some(v) = field(c, "Last State") {
                        section = "last";
                        if v != "<none>" && !v.is_empty() {
                            st["lastState"] = json!({ state_key(v): {} });
                        }
                    } else if let Some(v) = field(c, "Ready") {
                        st["ready"] = json!(v == "True");
                    } else if let Some(v) = field(c, "Restart Count") {
                        st["restartCount"] = json!(v.parse::<i64>().unwrap_or(0));
                    } else if t.starts_with("Limits:") {
                        section = "limits";
                    } else if t.starts_with("Requests:") {
                        section = "requests";
                    } else if t.starts_with("Environment:") {
                        section = "env";
                    } else if let Some(v) = field(c, "Liveness") {
                        spec["livenessProbe"] = probe(v);
                    } else if let Some(v) = field(c, "Readiness") {
                        spec["readinessProbe"] = probe(v);
                    } else if let Some(v) = field(c, "Startup") {
                        spec["startupProbe"] = probe(v);
                    } else if let Some(v) = field(c, "Command") {
                        section = "command";
                        if !v.is_empty() {
                            spec["command"] = json!([v]);
                        }
                    } else if t.starts_with("Args:") {
                        section = "args";
                    }
                } else if d >= 6 {
                    let slot = match section {
                        "state" => st.get_mut("state"),
                        "last" => st.get_mut("lastState"),
                        _ => None,
                    };
                    if let Some(s) = slot
                        .and_then(|s| s.as_object_mut())
                        .and_then(|m| m.values_mut().next())
                    {
                        if let Some(v) = field(c, "Reason") {
                            s["reason"] = json!(v);
                        } else if let Some(v) = field(c, "Exit Code") {
                            s["exitCode"] = json!(v.parse::<i64>().unwrap_or(0));
                        } else if let Some(v) = field(c, "Message") {
                            s["message"] = json!(v);
                        }
                    } else if section == "limits" || section == "requests" {
                        if let Some((k, v)) = t.split_once(':') {
                            let key = if section == "limits" {
                                "limits"
                            } else {
                                "requests"
                            };
                            spec["resources"][key][k.trim()] = json!(v.trim());
                        }
                    } else if section == "env" {
                        if let Some((k, v)) = t.split_once(':') {
                            env.push(json!({"name": k.trim(), "value": v.trim()}));
                        }
                    } else if section == "command" || section == "args" {
                        let key = if section == "command" {
                            "command"
                        } else {
                            "args"
                        };
                        if spec.get(key).is_none() {
                            spec[key] = json!([]);
                        }
                        if let Some(a) = spec[key].as_array_mut() {
                            a.push(json!(t));
                        }
                    }
                }
                *i += 1;
            }
            if !env.is_empty() {
                spec["env"] = json!(env);
            }
            if st.get("state").is_none() {
                st["state"] = json!({"waiting": {}});
            }
            specs.push(spec);
            statuses.push(st);
            continue;
        }
        *i += 1;
    }
    (specs, statuses)
}

fn state_key(v: &str) -> &'static str {
    match v.split_whitespace().next().unwrap_or("") {
        "Running" => "running",
        "Terminated" => "terminated",
        _ => "waiting",
    }
}

/// `http-get http://:8080/health delay=0s …` → a probe object the analyzers recognise.
fn probe(v: &str) -> Value {
    let mut words = v.split_whitespace();
    match (words.next(), words.next()) {
        (Some("http-get"), Some(url)) => {
            let port = url
                .rsplit_once(':')
                .and_then(|(_, r)| r.split('/').next())
                .and_then(|p| p.parse::<i64>().ok())
                .map_or(json!(80), |p| json!(p));
            let path = url
                .find("/")
                .and_then(|_| url.splitn(4, '/').nth(3))
                .map(|p| format!("/{p}"));
            json!({"httpGet": {"port": port, "path": path.unwrap_or_else(|| "/".into())}})
        }
        (Some("tcp-socket"), Some(addr)) => {
            let port = addr
                .rsplit(':')
                .next()
                .and_then(|p| p.parse::<i64>().ok())
                .unwrap_or(0);
            json!({"tcpSocket": {"port": port}})
        }
        _ => json!({"exec": {"command": [v]}}),
    }
}

/// Rows of an events table (`Type Reason Age From Message`, or `kubectl get events`'s
/// `LAST SEEN TYPE REASON OBJECT MESSAGE`).
fn parse_events_rows(rows: &[&str], kind: &str, name: &str, ns: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for r in rows {
        let t = r.trim();
        if t.is_empty() || t.starts_with("Type") || t.starts_with("----") || t.starts_with("<none>")
        {
            continue;
        }
        let mut cols = t.split_whitespace();
        let (Some(type_), Some(reason)) = (cols.next(), cols.next()) else {
            continue;
        };
        if type_ != "Normal" && type_ != "Warning" {
            break;
        }
        // Age may be "10s (x2 over 11s)"; then From (one word, or "default-scheduler").
        let rest: Vec<&str> = cols.collect();
        let mut k = 1;
        let mut count = 1;
        if rest.get(1).is_some_and(|w| w.starts_with("(x")) {
            count = rest[1].trim_start_matches("(x").parse::<i64>().unwrap_or(1);
            k = 4;
        }
        let message = rest.get(k + 1..).map(|m| m.join(" ")).unwrap_or_default();
        out.push(event(
            ns,
            kind,
            name,
            type_,
            reason,
            &message,
            count,
            out.len(),
        ));
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

/// `kubectl get events` (`LAST SEEN TYPE REASON OBJECT MESSAGE`).
fn parse_events_table(text: &str, ns_hint: Option<&str>) -> Option<Vec<Value>> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let head = lines.next()?;
    if !(head.contains("TYPE") && head.contains("REASON") && head.contains("OBJECT")) {
        return None;
    }
    let ns_col = head.starts_with("NAMESPACE");
    let mut out = Vec::new();
    for l in lines {
        let mut cols = l.split_whitespace();
        let ns = if ns_col {
            cols.next().unwrap_or("default")
        } else {
            ns_hint.unwrap_or("default")
        };
        let _last_seen = cols.next();
        let (Some(type_), Some(reason), Some(object)) = (cols.next(), cols.next(), cols.next())
        else {
            continue;
        };
        let (kind, name) = object.split_once('/').unwrap_or(("Pod", object));
        let kind = match kind.to_ascii_lowercase().as_str() {
            "pod" => "Pod",
            "deployment" => "Deployment",
            "replicaset" => "ReplicaSet",
            "job" => "Job",
            "node" => "Node",
            "persistentvolumeclaim" => "PersistentVolumeClaim",
            "service" => "Service",
            _ => "Pod",
        };
        let message = cols.collect::<Vec<_>>().join(" ");
        out.push(event(ns, kind, name, type_, reason, &message, 1, out.len()));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DESCRIBE: &str = "Name:             web-1\nNamespace:        shop\nLabels:           app=web\n                  tier=front\nStatus:           Running\nControlled By:  ReplicaSet/web-7d\nContainers:\n  app:\n    Image:         nginx:1.27\n    State:          Waiting\n      Reason:       CrashLoopBackOff\n    Last State:     Terminated\n      Reason:       OOMKilled\n      Exit Code:    137\n    Ready:          False\n    Restart Count:  4\n    Limits:\n      memory:  100Mi\n    Environment:\n      MODE:  prod\nConditions:\n  Type   Status\n  Ready  False\nEvents:\n  Type     Reason   Age                From     Message\n  ----     ------   ----               ----     -------\n  Warning  BackOff  10s (x2 over 11s)  kubelet  Back-off restarting failed container app\n";

    #[test]
    fn describe_job_becomes_a_failed_job_merged_with_its_manifest() {
        let text = "Name:             get-data\nNamespace:        default\nBackoff Limit:    0\nPods Statuses:    0 Active (0 Ready) / 0 Succeeded / 1 Failed\nEvents:\n  Type    Reason  Age  From  Message\n";
        let objs = parse_describe_job(text).expect("job");
        assert_eq!(objs[0]["status"]["failed"], 1);
        assert_eq!(objs[0]["status"]["conditions"][0]["type"], "Failed");
        let manifest = json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "get-data", "namespace": "default"},
            "spec": {"backoffLimit": 0, "template": {"spec": {"containers": [{"name": "curl", "image": "curl"}]}}}});
        let merged = merge_same(vec![manifest, objs[0].clone()]);
        assert_eq!(merged.len(), 1);
        assert_eq!(
            merged[0]["spec"]["template"]["spec"]["containers"][0]["name"],
            "curl"
        );
        assert_eq!(merged[0]["status"]["failed"], 1);
        assert!(parse_describe_job(DESCRIBE).is_none(), "a pod is not a job");
    }

    #[test]
    fn describe_pvc_becomes_a_claim_with_its_events() {
        let text = "Name:          data\nNamespace:     app\nStorageClass:  fast\nStatus:        Pending\nVolume:\nAccess Modes:\nVolumeMode:    Filesystem\nEvents:\n  Type     Reason              Age   From                         Message\n  ----     ------              ----  ----                         -------\n  Warning  ProvisioningFailed  2m    persistentvolume-controller  storageclass.storage.k8s.io \"fast\" not found\n";
        let objs = parse_describe_pvc(text).expect("pvc");
        assert_eq!(objs[0]["spec"]["storageClassName"], "fast");
        assert_eq!(objs[0]["status"]["phase"], "Pending");
        assert!(objs[0]["spec"].get("volumeName").is_none());
        assert_eq!(objs[1]["reason"], "ProvisioningFailed");
        assert!(
            parse_describe_pvc(DESCRIBE).is_none(),
            "a pod is not a claim"
        );
    }

    #[test]
    fn describe_pod_becomes_a_pod_with_states_and_events() {
        let objs = parse_describe_pod(DESCRIBE).expect("pod");
        let pod = &objs[0];
        assert_eq!(pod["metadata"]["labels"]["tier"], "front");
        assert_eq!(pod["metadata"]["ownerReferences"][0]["name"], "web-7d");
        let s = &pod["status"]["containerStatuses"][0];
        assert_eq!(s["state"]["waiting"]["reason"], "CrashLoopBackOff");
        assert_eq!(s["lastState"]["terminated"]["reason"], "OOMKilled");
        assert_eq!(s["lastState"]["terminated"]["exitCode"], 137);
        assert_eq!(s["restartCount"], 4);
        assert_eq!(
            pod["spec"]["containers"][0]["resources"]["limits"]["memory"],
            "100Mi"
        );
        assert_eq!(pod["spec"]["containers"][0]["env"][0]["name"], "MODE");
        assert_eq!(objs[1]["reason"], "BackOff");
        assert_eq!(objs[1]["count"], 2);
        assert_eq!(
            objs[1]["message"],
            "Back-off restarting failed container app"
        );
    }

    #[test]
    fn fixture_wrappers_are_unwrapped() {
        let raw = "{\"toolset_name\": \"k\", \"tool_name\": \"fetch_pod_logs\", \"match_params\": {\"pod_name\": \"p\"}}\n{\"status\": \"success\"}\nstdout:\nboom\n\nstderr:\n";
        let (h, t) = unwrap_fixture(raw);
        assert_eq!(t.trim(), "boom");
        // The newer layout has no `stdout:` marker: the output follows the result line.
        let newer = "{\"toolset_name\": \"k\"}\n{\"schema_version\": \"v1\", \"data\": null}\nName: web-1\nNamespace: shop\n";
        assert_eq!(unwrap_fixture(newer).1, "Name: web-1\nNamespace: shop\n");
        assert_eq!(
            h.and_then(|h| h.pointer("/match_params/pod_name").cloned()),
            Some(json!("p"))
        );
    }
}
