//! `kubectl describe` of the kinds besides pods, jobs and claims: deployments, replica sets,
//! stateful sets, daemon sets, cron jobs, services, endpoints, ingresses, nodes, HPAs,
//! persistent volumes, config maps, namespaces — and secrets, of which only the name is kept.
//!
//! Each becomes the object with what the text shows (replica counts, selectors, pod template
//! containers, conditions, endpoints) and the events of its table. Describe output does not
//! print the kind; it is told by the fields only that kind has.

use super::describe::{describe_events, field, indent, parse_containers, top_field};
use serde_json::{Value, json};

/// Split text into one section per described object (each starts at a `Name:` line).
pub fn sections(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut cur = String::new();
    for l in text.lines() {
        if l.starts_with("Name:") && !cur.trim().is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        cur.push_str(l);
        cur.push('\n');
    }
    if !cur.trim().is_empty() {
        out.push(cur);
    }
    out
}

/// `k=v` pairs of a top-level block such as `Labels:` or `Selector:`, continuation lines
/// included.
pub fn pairs(lines: &[&str], key: &str) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    let Some(i) = lines
        .iter()
        .position(|l| indent(l) == 0 && field(l, key).is_some())
    else {
        return m;
    };
    let mut add = |v: &str| {
        for kv in v.split(',') {
            if let Some((k, val)) = kv.split_once('=') {
                m.insert(k.trim().into(), json!(val.trim()));
            }
        }
    };
    add(field(lines[i], key).unwrap_or(""));
    for l in &lines[i + 1..] {
        if indent(l) == 0 || l.trim().is_empty() || (l.contains(": ") && !l.contains('=')) {
            break;
        }
        add(l.trim());
    }
    m
}

/// The lines of a top-level block (`Taints:` and its continuation lines).
fn block(lines: &[&str], key: &str) -> Vec<String> {
    let Some(i) = lines
        .iter()
        .position(|l| indent(l) == 0 && field(l, key).is_some())
    else {
        return Vec::new();
    };
    let mut out: Vec<String> = field(lines[i], key)
        .filter(|v| !v.is_empty() && *v != "<none>")
        .map(|v| vec![v.to_string()])
        .unwrap_or_default();
    for l in &lines[i + 1..] {
        if indent(l) == 0 || l.trim().is_empty() {
            break;
        }
        out.push(l.trim().to_string());
    }
    out
}

/// A `Conditions:` table (`Type Status [LastHeartbeatTime LastTransitionTime] Reason Message`),
/// read by its header's column offsets.
pub fn conditions(lines: &[&str]) -> Vec<Value> {
    let Some(i) = lines
        .iter()
        .position(|l| indent(l) == 0 && l.starts_with("Conditions:"))
    else {
        return Vec::new();
    };
    let Some(head) = lines.get(i + 1) else {
        return Vec::new();
    };
    let fixed = head.to_ascii_uppercase();
    let table = super::table::tables(&format!(
        "{}\n{}",
        fixed,
        lines[i + 2..]
            .iter()
            .take_while(|l| indent(l) > 0 && !l.trim().is_empty())
            .filter(|l| !l.trim().starts_with("----"))
            .copied()
            .collect::<Vec<_>>()
            .join("\n")
    ));
    let Some(t) = table.first() else {
        return Vec::new();
    };
    let col = |name: &str| t.columns.iter().position(|c| c == name);
    let (ty, st, re, msg) = (col("TYPE"), col("STATUS"), col("REASON"), col("MESSAGE"));
    t.rows
        .iter()
        .filter_map(|r| {
            let get = |c: Option<usize>| c.and_then(|c| r.get(c)).filter(|v| !v.is_empty());
            let mut c = json!({"type": get(ty)?, "status": get(st)?});
            if let Some(v) = get(re) {
                c["reason"] = json!(v);
            }
            if let Some(v) = get(msg) {
                c["message"] = json!(v);
            }
            Some(c)
        })
        .collect()
}

/// The containers of the `Pod Template:` (or a cron job's) block.
fn template_containers(lines: &[&str]) -> (Vec<Value>, Vec<Value>) {
    let (mut main, mut init) = (Vec::new(), Vec::new());
    let mut i = 0;
    while i < lines.len() {
        let t = lines[i].trim_start();
        if indent(lines[i]) > 0 && (t == "Containers:" || t == "Init Containers:") {
            let (specs, _) = parse_containers(lines, &mut i);
            if t.starts_with("Init") {
                init = specs;
            } else {
                main = specs;
            }
            continue;
        }
        i += 1;
    }
    (main, init)
}

/// Numbers in text such as `3 desired | 3 updated | 3 total | 0 available | 3 unavailable` or
/// `1 Running / 2 Waiting`: the number before `word`.
fn count_before(text: &str, word: &str) -> Option<i64> {
    let words: Vec<&str> = text.split_whitespace().collect();
    words
        .windows(2)
        .find(|w| w[1].trim_matches(|c| c == '|' || c == '/' || c == ',') == word)
        .and_then(|w| w[0].parse().ok())
}

fn meta(lines: &[&str], name: &str, ns: Option<&str>) -> Value {
    let mut m = json!({"name": name, "uid": format!("evidence-{name}"),
        "labels": Value::Object(pairs(lines, "Labels"))});
    if let Some(ns) = ns {
        m["namespace"] = json!(ns);
    }
    if let Some((k, n)) = top_field(lines, "Controlled By").and_then(|v| v.split_once('/')) {
        m["ownerReferences"] = json!([{"kind": k, "name": n, "apiVersion": "v1",
            "uid": format!("evidence-{n}"), "controller": true}]);
    }
    m
}

/// `describe` of any kind but pod, job and claim. `hint`: the kind a file name or a tool
/// header names, for sections whose fields do not tell.
pub fn parse(text: &str, hint: Option<&str>) -> Option<Vec<Value>> {
    let lines: Vec<&str> = text.lines().collect();
    let name = top_field(&lines, "Name")?;
    let ns_field = top_field(&lines, "Namespace");
    let ns = ns_field.unwrap_or("default");
    let top = |k: &str| top_field(&lines, k);
    let has = |k: &str| {
        lines
            .iter()
            .any(|l| indent(l) == 0 && field(l, k).is_some())
    };
    let kind = if has("StrategyType") || top("Replicas").is_some_and(|r| r.contains("updated")) {
        "Deployment"
    } else if has("Desired Number of Nodes Scheduled") {
        "DaemonSet"
    } else if top("Replicas").is_some_and(|r| r.contains("current /")) {
        "ReplicaSet"
    } else if has("Update Strategy") && has("Pods Status") || has("Volume Claims") {
        "StatefulSet"
    } else if has("Schedule") && has("Concurrency Policy") {
        "CronJob"
    } else if has("TargetPort") || (has("IP Families") && has("Type")) {
        "Service"
    } else if has("Subsets") {
        "Endpoints"
    } else if has("Rules") && (has("Ingress Class") || has("Default backend")) {
        "Ingress"
    } else if has("Roles") && (has("Taints") || has("Unschedulable")) {
        "Node"
    } else if has("Spec")
        && lines
            .iter()
            .any(|l| l.trim_start().starts_with("PodSelector:"))
        && lines.iter().any(|l| l.contains("Policy Types:"))
    {
        "NetworkPolicy"
    } else if has("Reference") && (has("Min replicas") || has("Max replicas")) {
        "HorizontalPodAutoscaler"
    } else if has("Reclaim Policy") && has("Claim") {
        "PersistentVolume"
    } else if lines.iter().any(|l| l.trim_end().ends_with(" bytes"))
        && lines.iter().any(|l| l.trim() == "Data")
    {
        "Secret"
    } else if lines.iter().any(|l| l.trim() == "Data") {
        "ConfigMap"
    } else if ns_field.is_none()
        && has("Status")
        && lines
            .iter()
            .any(|l| l.contains("Resource Quota") || l.contains("LimitRange"))
    {
        "Namespace"
    } else {
        hint.filter(|h| *h == "Namespace")?
    };
    let ns_opt = (!matches!(kind, "Node" | "PersistentVolume" | "Namespace")).then_some(ns);
    let mut m = meta(&lines, name, ns_opt);
    let (containers, init) = template_containers(&lines);
    let mut template = json!({"metadata": {"labels": Value::Object(pairs_in_template(&lines))},
        "spec": {"containers": containers}});
    if !init.is_empty() {
        template["spec"]["initContainers"] = json!(init);
    }
    let selector = pairs(&lines, "Selector");
    let conds = conditions(&lines);
    let pods_status = top("Pods Status").unwrap_or("");
    let obj = match kind {
        "Deployment" => {
            let r = top("Replicas").unwrap_or("");
            let want = count_before(r, "desired").unwrap_or(1);
            let avail = count_before(r, "available").unwrap_or(0);
            json!({"kind": kind, "metadata": m,
                "spec": {"replicas": want, "selector": {"matchLabels": selector}, "template": template},
                "status": {"replicas": count_before(r, "total").unwrap_or(want),
                    "updatedReplicas": count_before(r, "updated").unwrap_or(0),
                    "readyReplicas": avail, "availableReplicas": avail,
                    "unavailableReplicas": count_before(r, "unavailable").unwrap_or(0),
                    "conditions": conds}})
        }
        "ReplicaSet" | "StatefulSet" => {
            let r = top("Replicas").unwrap_or("");
            let want = count_before(r, "desired").unwrap_or(1);
            let running = count_before(pods_status, "Running").unwrap_or(0);
            json!({"kind": kind, "metadata": m,
                "spec": {"replicas": want, "selector": {"matchLabels": selector}, "template": template},
                "status": {"replicas": count_before(r, "current").or(count_before(r, "total")).unwrap_or(want),
                    "readyReplicas": running}})
        }
        "DaemonSet" => {
            let n = |k: &str| top(k).and_then(|v| v.parse::<i64>().ok()).unwrap_or(0);
            json!({"kind": kind, "metadata": m,
                "spec": {"selector": {"matchLabels": selector}, "template": template},
                "status": {"desiredNumberScheduled": n("Desired Number of Nodes Scheduled"),
                    "currentNumberScheduled": n("Current Number of Nodes Scheduled"),
                    "updatedNumberScheduled": n("Number of Nodes Scheduled with Up-to-date Pods"),
                    "numberAvailable": n("Number of Nodes Scheduled with Available Pods"),
                    "numberMisscheduled": n("Number of Nodes Misscheduled"),
                    "numberReady": count_before(pods_status, "Running").unwrap_or(0)}})
        }
        "CronJob" => json!({"kind": kind, "metadata": m,
            "spec": {"schedule": top("Schedule").unwrap_or(""),
                "suspend": top("Suspend") == Some("True"),
                "jobTemplate": {"spec": {"template": template}}}}),
        "Service" => service(&lines, m, selector),
        "Endpoints" => return Some(endpoints(&lines, name, ns)),
        // A policy read wrongly would block or allow traffic that is not: one not understood
        // line and it is left out.
        "NetworkPolicy" => network_policy(&lines, m)?,
        "Ingress" => ingress(&lines, m),
        "Node" => node(&lines, m, conds),
        "HorizontalPodAutoscaler" => {
            let (k, n) = top("Reference")
                .and_then(|r| r.split_once('/'))
                .unwrap_or(("Deployment", ""));
            let dp = top("Deployment pods").unwrap_or("");
            let n_of = |k: &str| top(k).and_then(|v| v.parse::<i64>().ok());
            json!({"kind": kind, "metadata": m,
                "spec": {"scaleTargetRef": {"kind": k, "name": n, "apiVersion": "apps/v1"},
                    "minReplicas": n_of("Min replicas").unwrap_or(1), "maxReplicas": n_of("Max replicas").unwrap_or(1)},
                "status": {"currentReplicas": count_before(dp, "current").unwrap_or(0),
                    "desiredReplicas": count_before(dp, "desired").unwrap_or(0), "conditions": conds}})
        }
        "PersistentVolume" => {
            let mut spec =
                json!({"persistentVolumeReclaimPolicy": top("Reclaim Policy").unwrap_or("Delete")});
            if let Some(sc) = top("StorageClass") {
                spec["storageClassName"] = json!(sc);
            }
            if let Some((cns, cn)) = top("Claim").and_then(|c| c.split_once('/')) {
                spec["claimRef"] = json!({"namespace": cns, "name": cn});
            }
            json!({"kind": kind, "metadata": m, "spec": spec,
                "status": {"phase": top("Status").unwrap_or("Available"), "message": top("Message")}})
        }
        "ConfigMap" => {
            // Keys only: what a reference can be checked against.
            let mut data = serde_json::Map::new();
            for w in lines.windows(2) {
                if w[1].trim_start().starts_with("----") && w[0].trim_end().ends_with(':') {
                    data.insert(w[0].trim().trim_end_matches(':').to_string(), json!(""));
                }
            }
            json!({"kind": kind, "metadata": m, "data": data})
        }
        "Secret" => {
            // The name only: a Secret's data is never read.
            m.as_object_mut().map(|o| o.remove("labels"));
            return Some(vec![json!({"kind": "Secret", "metadata": m})]);
        }
        _ => {
            json!({"kind": "Namespace", "metadata": m, "status": {"phase": top("Status").unwrap_or("Active")}})
        }
    };
    let mut out = vec![obj];
    out.extend(describe_events(&lines, kind, name, ns));
    Some(out)
}

/// The `Labels:` inside `Pod Template:`.
fn pairs_in_template(lines: &[&str]) -> serde_json::Map<String, Value> {
    let Some(i) = lines.iter().position(|l| l.starts_with("Pod Template:")) else {
        return Default::default();
    };
    let inner: Vec<&str> = lines[i + 1..]
        .iter()
        .take_while(|l| indent(l) > 0)
        .map(|l| l.get(2..).unwrap_or(""))
        .collect();
    pairs(&inner, "Labels")
}

fn service(lines: &[&str], m: Value, selector: serde_json::Map<String, Value>) -> Value {
    let top = |k: &str| top_field(lines, k);
    let targets: Vec<&str> = lines
        .iter()
        .filter_map(|l| (indent(l) == 0).then(|| field(l, "TargetPort")).flatten())
        .collect();
    let ports: Vec<Value> = lines
        .iter()
        .filter_map(|l| (indent(l) == 0).then(|| field(l, "Port")).flatten())
        .enumerate()
        .filter_map(|(i, p)| {
            // "http  80/TCP" or "<unset>  80/TCP"
            let words: Vec<&str> = p.split_whitespace().collect();
            let (pname, spec) = match words.as_slice() {
                [n, s] => (Some(*n).filter(|n| *n != "<unset>"), *s),
                [s] => (None, *s),
                _ => return None,
            };
            let (num, proto) = spec.split_once('/').unwrap_or((spec, "TCP"));
            let mut v = json!({"port": num.parse::<i64>().ok()?, "protocol": proto});
            if let Some(n) = pname {
                v["name"] = json!(n);
            }
            if let Some(t) = targets.get(i).map(|t| t.split('/').next().unwrap_or(t)) {
                v["targetPort"] = t.parse::<i64>().map_or(json!(t), |n| json!(n));
            }
            Some(v)
        })
        .collect();
    let mut spec = json!({"type": top("Type").unwrap_or("ClusterIP"), "ports": ports});
    if !selector.is_empty() {
        spec["selector"] = Value::Object(selector);
    }
    if let Some(ip) = top("IP") {
        spec["clusterIP"] = json!(ip);
    }
    json!({"kind": "Service", "metadata": m, "spec": spec})
}

/// `describe service` also shows its endpoints: an EndpointSlice for the analyzers.
pub fn service_endpoints(text: &str) -> Option<Value> {
    let lines: Vec<&str> = text.lines().collect();
    if !lines.iter().any(|l| field(l, "TargetPort").is_some()) {
        return None;
    }
    let name = top_field(&lines, "Name")?;
    let ns = top_field(&lines, "Namespace").unwrap_or("default");
    let eps = lines
        .iter()
        .find_map(|l| (indent(l) == 0).then(|| field(l, "Endpoints")).flatten())?;
    let addrs: Vec<&str> = eps
        .split(',')
        .map(|a| a.trim())
        .filter(|a| !a.is_empty() && *a != "<none>" && !a.starts_with("+ "))
        .collect();
    Some(slice(name, ns, &addrs, &[]))
}

fn slice(service: &str, ns: &str, ready: &[&str], not_ready: &[&str]) -> Value {
    let ep = |a: &&str, r: bool| {
        let ip = a.rsplit_once(':').map_or(*a, |(ip, _)| ip);
        json!({"addresses": [ip], "conditions": {"ready": r}})
    };
    let endpoints: Vec<Value> = ready
        .iter()
        .map(|a| ep(a, true))
        .chain(not_ready.iter().map(|a| ep(a, false)))
        .collect();
    json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": format!("{service}-evidence"), "namespace": ns,
            "labels": {"kubernetes.io/service-name": service}},
        "addressType": "IPv4", "endpoints": endpoints})
}

fn endpoints(lines: &[&str], name: &str, ns: &str) -> Vec<Value> {
    let list = |key: &str| -> Vec<&str> {
        lines
            .iter()
            .filter_map(|l| field(l, key))
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|a| !a.is_empty() && *a != "<none>")
            .collect()
    };
    let mut out = vec![slice(
        name,
        ns,
        &list("Addresses"),
        &list("NotReadyAddresses"),
    )];
    out.extend(describe_events(lines, "Endpoints", name, ns));
    out
}

fn ingress(lines: &[&str], m: Value) -> Value {
    let mut rules: Vec<Value> = Vec::new();
    if let Some(i) = lines.iter().position(|l| l.starts_with("Rules:")) {
        let mut host: Option<String> = None;
        for l in lines[i + 1..].iter().take_while(|l| indent(l) > 0) {
            let words: Vec<&str> = l.split_whitespace().collect();
            if words
                .first()
                .is_some_and(|w| *w == "Host" || w.starts_with("----"))
            {
                continue;
            }
            // A line with a host alone, or `[host] path backend:port (addresses)`.
            let backend_at = words
                .iter()
                .position(|w| w.contains(':') && !w.starts_with('(') && !w.starts_with('/'));
            let Some(b) = backend_at else {
                host = words.first().map(|h| h.to_string());
                continue;
            };
            let (svc, port) = words[b].split_once(':').unwrap_or((words[b], ""));
            let path = words[..b]
                .iter()
                .rev()
                .find(|w| w.starts_with('/'))
                .copied()
                .unwrap_or("/");
            if b >= 2 {
                host = Some(words[0].to_string());
            }
            let port = port
                .parse::<i64>()
                .map_or(json!({"name": port}), |n| json!({"number": n}));
            let mut rule = json!({"http": {"paths": [{"path": path, "pathType": "Prefix",
                "backend": {"service": {"name": svc, "port": port}}}]}});
            if let Some(h) = host.as_deref().filter(|h| *h != "*") {
                rule["host"] = json!(h);
            }
            rules.push(rule);
        }
    }
    let mut spec = json!({"rules": rules});
    if let Some(c) = top_field(lines, "Ingress Class").filter(|c| *c != "<none>") {
        spec["ingressClassName"] = json!(c);
    }
    json!({"kind": "Ingress", "metadata": m, "spec": spec})
}

fn node(lines: &[&str], m: Value, conds: Vec<Value>) -> Value {
    let taints: Vec<Value> = block(lines, "Taints")
        .iter()
        .filter_map(|t| {
            let (kv, effect) = t.rsplit_once(':')?;
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            Some(json!({"key": k, "value": v, "effect": effect}))
        })
        .collect();
    let section = |name: &str| -> serde_json::Map<String, Value> {
        let mut out = serde_json::Map::new();
        if let Some(i) = lines.iter().position(|l| l.trim_end() == name) {
            for l in lines[i + 1..].iter().take_while(|l| indent(l) > 0) {
                if let Some((k, v)) = l.trim().split_once(':') {
                    out.insert(k.trim().into(), json!(v.trim()));
                }
            }
        }
        out
    };
    let info = section("System Info:");
    let get = |k: &str| info.get(k).cloned().unwrap_or(json!(""));
    let mut m = m;
    for role in top_field(lines, "Roles")
        .unwrap_or("")
        .split(',')
        .filter(|r| !r.is_empty() && *r != "<none>")
    {
        m["labels"][format!("node-role.kubernetes.io/{role}")] = json!("");
    }
    json!({"kind": "Node", "metadata": m,
        "spec": {"taints": taints, "unschedulable": top_field(lines, "Unschedulable") == Some("true")},
        "status": {"conditions": conds, "capacity": section("Capacity:"), "allocatable": section("Allocatable:"),
            "nodeInfo": {"kubeletVersion": get("Kubelet Version"), "containerRuntimeVersion": get("Container Runtime Version"),
                "osImage": get("OS Image"), "kernelVersion": get("Kernel Version"), "architecture": get("Architecture"),
                "bootID": get("Boot ID"), "kubeProxyVersion": "", "machineID": get("Machine ID"),
                "operatingSystem": get("Operating System"), "systemUUID": get("System UUID")}}})
}

/// `PodSelector: app=db,tier=x` or `<none> (…all pods…)` → a label selector.
fn selector(v: &str) -> Option<Value> {
    let v = v.trim();
    if v.starts_with("<none>") {
        return Some(json!({}));
    }
    let mut m = serde_json::Map::new();
    for kv in v.split(',') {
        let (k, val) = kv.split_once('=')?;
        m.insert(k.trim().into(), json!(val.trim()));
    }
    Some(json!({"matchLabels": m}))
}

/// `kubectl describe networkpolicy`: pod selector, policy types and the ingress/egress rules
/// (ports; pod, namespace and IP-block peers). `None` when any line of the spec is not
/// understood.
fn network_policy(lines: &[&str], m: Value) -> Option<Value> {
    let start = lines.iter().position(|l| l.starts_with("Spec:"))? + 1;
    let mut pod_selector: Option<Value> = None;
    let mut types: Vec<String> = Vec::new();
    // (direction, rules); a rule is (ports, peers).
    let mut ingress: Option<Vec<Value>> = None;
    let mut egress: Option<Vec<Value>> = None;
    let mut dir = "";
    let mut rule: Option<(Vec<Value>, Vec<Value>)> = None;
    let mut in_peers = false;
    let flush = |dir: &str,
                 rule: &mut Option<(Vec<Value>, Vec<Value>)>,
                 ingress: &mut Option<Vec<Value>>,
                 egress: &mut Option<Vec<Value>>| {
        if let Some((ports, peers)) = rule.take() {
            let key = if dir == "ingress" { "from" } else { "to" };
            let mut r = json!({});
            if !ports.is_empty() {
                r["ports"] = json!(ports);
            }
            if !peers.is_empty() {
                r[key] = json!(peers);
            }
            let list = if dir == "ingress" { ingress } else { egress };
            list.get_or_insert_with(Vec::new).push(r);
        }
    };
    for l in lines[start..]
        .iter()
        .take_while(|l| indent(l) > 0 || l.trim().is_empty())
    {
        let t = l.trim();
        if t.is_empty() {
            continue;
        }
        if let Some(v) = t.strip_prefix("PodSelector:")
            && indent(l) == 2
        {
            pod_selector = Some(selector(v)?);
        } else if let Some(v) = t.strip_prefix("Policy Types:") {
            types = v
                .split(',')
                .map(|x| x.trim().to_string())
                .filter(|x| !x.is_empty())
                .collect();
        } else if t == "Allowing ingress traffic:" || t == "Allowing egress traffic:" {
            flush(dir, &mut rule, &mut ingress, &mut egress);
            dir = if t.contains("ingress") {
                "ingress"
            } else {
                "egress"
            };
            let list = if dir == "ingress" {
                &mut ingress
            } else {
                &mut egress
            };
            list.get_or_insert_with(Vec::new);
        } else if t.starts_with("Not affecting") {
            flush(dir, &mut rule, &mut ingress, &mut egress);
            dir = "";
        } else if t.starts_with("<none> (Selected pods are isolated") {
            // No rule: everything in that direction is denied.
        } else if t.starts_with("----") {
            flush(dir, &mut rule, &mut ingress, &mut egress);
        } else if let Some(v) = t.strip_prefix("To Port:") {
            // A port after the peers of a rule starts the next rule.
            if rule.as_ref().is_some_and(|(_, peers)| !peers.is_empty()) {
                flush(dir, &mut rule, &mut ingress, &mut egress);
            }
            in_peers = false;
            let r = rule.get_or_insert_with(|| (Vec::new(), Vec::new()));
            let v = v.trim();
            if !v.starts_with("<any>") {
                for p in v.split(',') {
                    let (port, proto) = p.trim().split_once('/').unwrap_or((p.trim(), "TCP"));
                    let port = port.parse::<i64>().map_or(json!(port), |n| json!(n));
                    r.0.push(json!({"port": port, "protocol": proto}));
                }
            }
        } else if t == "From:" || t == "To:" {
            in_peers = true;
            rule.get_or_insert_with(|| (Vec::new(), Vec::new()));
        } else if t.starts_with("From: <any>") || t.starts_with("To: <any>") {
            rule.get_or_insert_with(|| (Vec::new(), Vec::new()));
        } else if in_peers {
            let r = rule.as_mut()?;
            if let Some(v) = t.strip_prefix("PodSelector:") {
                r.1.push(json!({"podSelector": selector(v)?}));
            } else if let Some(v) = t.strip_prefix("NamespaceSelector:") {
                r.1.push(json!({"namespaceSelector": selector(v)?}));
            } else if let Some(v) = t.strip_prefix("IPBlock:") {
                let _ = v;
            } else if let Some(v) = t.strip_prefix("CIDR:") {
                r.1.push(json!({"ipBlock": {"cidr": v.trim()}}));
            } else if t.starts_with("Except:") {
            } else {
                return None;
            }
        } else {
            return None;
        }
    }
    flush(dir, &mut rule, &mut ingress, &mut egress);
    let mut spec = json!({"podSelector": pod_selector?, "policyTypes": types});
    if let Some(i) = ingress {
        spec["ingress"] = json!(i);
    }
    if let Some(e) = egress {
        spec["egress"] = json!(e);
    }
    Some(json!({"kind": "NetworkPolicy", "metadata": m, "spec": spec}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_deployment_reads_replicas_template_and_conditions() {
        let text = "Name:                   web\nNamespace:              shop\nLabels:                 app=web\nSelector:               app=web\nReplicas:               3 desired | 3 updated | 3 total | 0 available | 3 unavailable\nStrategyType:           RollingUpdate\nPod Template:\n  Labels:  app=web\n  Containers:\n   web:\n    Image:      nginx:1.27\n    Port:       80/TCP\n    Limits:\n      memory:  128Mi\n    Environment:\n      DB_HOST:  db\n  Volumes:  <none>\nConditions:\n  Type           Status  Reason\n  ----           ------  ------\n  Available      False   MinimumReplicasUnavailable\n  Progressing    True    ReplicaSetUpdated\nEvents:          <none>\n";
        let o = &parse(text, None).expect("deployment")[0];
        assert_eq!(o["kind"], "Deployment");
        assert_eq!(o["spec"]["replicas"], 3);
        assert_eq!(o["status"]["availableReplicas"], 0);
        let c = &o["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(c["name"], "web");
        assert_eq!(c["image"], "nginx:1.27");
        assert_eq!(c["resources"]["limits"]["memory"], "128Mi");
        assert_eq!(o["spec"]["template"]["metadata"]["labels"]["app"], "web");
        assert_eq!(
            o["status"]["conditions"][0]["reason"],
            "MinimumReplicasUnavailable"
        );
    }

    #[test]
    fn describe_service_and_node() {
        let svc = "Name:              web\nNamespace:         shop\nLabels:            <none>\nSelector:          app=web\nType:              ClusterIP\nIP:                10.96.0.10\nPort:              http  80/TCP\nTargetPort:        8080/TCP\nEndpoints:         <none>\nEvents:            <none>\n";
        let o = &parse(svc, None).expect("service")[0];
        assert_eq!(o["spec"]["selector"]["app"], "web");
        assert_eq!(o["spec"]["ports"][0]["targetPort"], 8080);
        let s = service_endpoints(svc).expect("slice");
        assert_eq!(s["endpoints"].as_array().map(Vec::len), Some(0));
        let node = "Name:               node-1\nRoles:              worker\nLabels:             kubernetes.io/hostname=node-1\nTaints:             node.kubernetes.io/disk-pressure:NoSchedule\nUnschedulable:      false\nConditions:\n  Type             Status  LastHeartbeatTime                 LastTransitionTime                Reason                       Message\n  ----             ------  -----------------                 ------------------                ------                       -------\n  DiskPressure     True    Mon, 18 Nov 2024 10:00:00 +0000   Mon, 18 Nov 2024 09:00:00 +0000   KubeletHasDiskPressure       kubelet has disk pressure\n  Ready            True    Mon, 18 Nov 2024 10:00:00 +0000   Mon, 18 Nov 2024 09:00:00 +0000   KubeletReady                 kubelet is posting ready status\n";
        let n = &parse(node, None).expect("node")[0];
        assert_eq!(
            n["spec"]["taints"][0]["key"],
            "node.kubernetes.io/disk-pressure"
        );
        assert_eq!(n["status"]["conditions"][0]["type"], "DiskPressure");
        assert_eq!(
            n["status"]["conditions"][0]["reason"],
            "KubeletHasDiskPressure"
        );
        assert!(n["metadata"].get("namespace").is_none());
    }

    #[test]
    fn a_secret_keeps_its_name_only() {
        let text = "Name:         db\nNamespace:    shop\nLabels:       <none>\nType:  Opaque\n\nData\n====\npassword:  12 bytes\n";
        let o = parse(text, None).expect("secret");
        assert_eq!(o.len(), 1);
        assert_eq!(o[0]["kind"], "Secret");
        assert!(o[0].get("data").is_none());
    }

    #[test]
    fn describe_networkpolicy_reads_rules_or_nothing() {
        let text = "Name:         db-ingress\nNamespace:    shop\nCreated on:   2024-11-18 09:00:00 +0000 UTC\nLabels:       <none>\nAnnotations:  <none>\nSpec:\n  PodSelector:     app=db\n  Allowing ingress traffic:\n    To Port: 5432/TCP\n    From:\n      PodSelector: app=api\n  Not affecting egress traffic\n  Policy Types: Ingress\n";
        let o = &parse(text, None).expect("netpol")[0];
        assert_eq!(o["spec"]["podSelector"]["matchLabels"]["app"], "db");
        assert_eq!(o["spec"]["ingress"][0]["ports"][0]["port"], 5432);
        assert_eq!(
            o["spec"]["ingress"][0]["from"][0]["podSelector"]["matchLabels"]["app"],
            "api"
        );
        assert!(o["spec"].get("egress").is_none());
        let deny = "Name:         deny\nNamespace:    shop\nSpec:\n  PodSelector:     <none> (Allowing the specific traffic to all pods in this namespace)\n  Allowing ingress traffic:\n    <none> (Selected pods are isolated for ingress connectivity)\n  Not affecting egress traffic\n  Policy Types: Ingress\n";
        let d = &parse(deny, None).expect("deny")[0];
        assert_eq!(d["spec"]["ingress"].as_array().map(Vec::len), Some(0));
        let odd = "Name:         x\nNamespace:    shop\nSpec:\n  PodSelector:     app=db\n  Something new: here\n  Policy Types: Ingress\n";
        assert!(parse(odd, None).is_none(), "not understood: left out");
    }
}
