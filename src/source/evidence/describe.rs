//! `kubectl describe` output of a pod, a job and a claim, and the pieces every describe shares
//! (fields, label blocks, container blocks, probes, the Events table). Other kinds are in
//! [`super::describe_kinds`].

use super::{event, str_at};
use serde_json::{Value, json};

/// The value after `Key:` on a line of `describe` output.
pub(super) fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    line.trim_start()
        .strip_prefix(key)
        .and_then(|r| r.strip_prefix(':'))
        .map(str::trim)
}

pub(super) fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// A top-level `Key:` of `describe` output, when it has a value.
pub(super) fn top_field<'a>(lines: &[&'a str], key: &str) -> Option<&'a str> {
    lines
        .iter()
        .find_map(|l| (indent(l) == 0).then(|| field(l, key)).flatten())
        .filter(|v| !v.is_empty())
}

/// The rows of the `Events:` table of `describe` output, as events about `kind/name`.
pub(super) fn describe_events(lines: &[&str], kind: &str, name: &str, ns: &str) -> Vec<Value> {
    lines
        .iter()
        .position(|l| l.starts_with("Events:"))
        .map(|i| parse_events_rows(&lines[i + 1..], kind, name, ns))
        .unwrap_or_default()
}

/// `kubectl describe job` → the Job's status (active, succeeded, failed; a Failed condition once
/// the failures exceed the backoff limit) and its Events.
pub(super) fn parse_describe_job(text: &str) -> Option<Vec<Value>> {
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
pub(super) fn parse_describe_pvc(text: &str) -> Option<Vec<Value>> {
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
pub(super) fn parse_describe_pod(text: &str) -> Option<Vec<Value>> {
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

/// The container blocks after the `Containers:` line at `*i`.
pub(super) fn parse_containers(lines: &[&str], i: &mut usize) -> (Vec<Value>, Vec<Value>) {
    let (mut specs, mut statuses) = (Vec::new(), Vec::new());
    // `describe pod` puts names at 2 and fields at 4; a pod template (`describe deployment`)
    // one level deeper: the indents are read, not assumed.
    let base = lines.get(*i).map_or(0, |l| indent(l));
    *i += 1;
    let name_ind = lines[*i..]
        .iter()
        .find(|l| !l.trim().is_empty())
        .map_or(base + 2, |l| indent(l));
    let field_ind = lines[(*i + 1).min(lines.len())..]
        .iter()
        .find(|l| !l.trim().is_empty())
        .map_or(name_ind + 2, |l| indent(l))
        .max(name_ind + 1);
    while *i < lines.len() && (indent(lines[*i]) > base || lines[*i].trim().is_empty()) {
        let l = lines[*i];
        if lines[*i].trim().is_empty() && lines.get(*i + 1).is_none_or(|n| indent(n) <= base) {
            break;
        }
        if indent(l) == name_ind && l.trim_end().ends_with(':') {
            let name = l.trim().trim_end_matches(':').to_string();
            let mut spec = json!({"name": name});
            let mut st = json!({"name": name, "ready": false, "restartCount": 0, "image": "", "imageID": ""});
            let mut section = "";
            let mut env = Vec::new();
            *i += 1;
            while *i < lines.len() && indent(lines[*i]) > name_ind {
                let c = lines[*i];
                let d = indent(c);
                let t = c.trim();
                if d == field_ind {
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
                } else if d > field_ind {
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
pub(super) fn parse_events_rows(rows: &[&str], kind: &str, name: &str, ns: &str) -> Vec<Value> {
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

#[cfg(test)]
mod tests {
    use super::super::merge_same;
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
}
