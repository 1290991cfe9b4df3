//! A fake Kubernetes API server on 127.0.0.1 for the live-cluster tests: real HTTP/1.1,
//! serving recorded JSON (a `kubectl cluster-info dump` tree, e.g. the demo incident) or a
//! synthetic fixture, with pagination (`limit`/`continue`), pod logs (current and
//! `previous`, `tailLines`, `limitBytes`), discovery, `/version`, self access reviews, and
//! chosen faults: 403 for a kind, 500 once then success, a slow kind, a server that never
//! answers. It records every request it receives, so tests can assert what left Sextant.
#![allow(dead_code)]

#[path = "../support/http.rs"]
mod http;

use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One request as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub query: String,
}

/// Faults and permissions to simulate.
#[derive(Debug, Default, Clone)]
pub struct Faults {
    /// Plurals answered with 403 (lists and access reviews).
    pub forbidden: HashSet<String>,
    /// Plurals answered with 500 the first time.
    pub fail_once: HashSet<String>,
    /// Plurals answered after this delay.
    pub slow: HashMap<String, Duration>,
    /// Group/versions left out of discovery (and answered 404).
    pub not_served: HashSet<String>,
    /// Whether access reviews say the credentials may write.
    pub can_write: bool,
    /// Watches end the moment they start (an empty 200): a hostile or broken proxy.
    pub watch_ends_at_once: bool,
}

#[derive(Default)]
struct State {
    /// plural → items (each with metadata.namespace when namespaced)
    objects: BTreeMap<String, Vec<Value>>,
    /// (namespace, pod, container) → log text
    logs: HashMap<(String, String, String), String>,
    faults: Faults,
    failed_once: HashSet<String>,
    requests: Vec<Recorded>,
    /// resourceVersion: bumped by every watch event.
    seq: u64,
    /// (resourceVersion, plural, type, object) of every change pushed.
    changes: Vec<(u64, String, String, Value)>,
}

/// A running fake server. Dropping it leaves the thread parked on accept (tests are short).
pub struct FakeKube {
    pub addr: std::net::SocketAddr,
    state: Arc<Mutex<State>>,
}

/// (group/version, plural) of every kind served.
const SERVED: &[(&str, &str)] = &[
    ("v1", "pods"),
    ("v1", "events"),
    ("v1", "services"),
    ("v1", "nodes"),
    ("v1", "namespaces"),
    ("v1", "replicationcontrollers"),
    ("v1", "persistentvolumeclaims"),
    ("v1", "persistentvolumes"),
    ("v1", "serviceaccounts"),
    ("v1", "configmaps"),
    ("v1", "resourcequotas"),
    ("v1", "secrets"),
    ("apps/v1", "deployments"),
    ("apps/v1", "replicasets"),
    ("apps/v1", "statefulsets"),
    ("apps/v1", "daemonsets"),
    ("batch/v1", "jobs"),
    ("batch/v1", "cronjobs"),
    ("discovery.k8s.io/v1", "endpointslices"),
    ("networking.k8s.io/v1", "ingresses"),
    ("networking.k8s.io/v1", "ingressclasses"),
    ("networking.k8s.io/v1", "networkpolicies"),
    ("policy/v1", "poddisruptionbudgets"),
    ("storage.k8s.io/v1", "storageclasses"),
    ("autoscaling/v2", "horizontalpodautoscalers"),
];

fn plural_of_file(stem: &str) -> Option<&'static str> {
    let stem = if stem == "replication-controllers" {
        "replicationcontrollers"
    } else {
        stem
    };
    SERVED.iter().map(|(_, p)| *p).find(|p| *p == stem)
}

impl FakeKube {
    pub fn start(faults: Faults) -> FakeKube {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let state = Arc::new(Mutex::new(State {
            faults,
            ..State::default()
        }));
        let st = state.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let st = st.clone();
                std::thread::spawn(move || serve(conn, &st));
            }
        });
        FakeKube { addr, state }
    }

    /// Serve a cluster-info dump tree (`*.json` lists, `NS/POD/logs.txt`).
    pub fn with_dump(self, dir: &Path) -> FakeKube {
        {
            let mut st = self.state.lock().expect("lock");
            load_dump(dir, &mut st);
        }
        self
    }

    /// Add objects of a plural.
    pub fn add(&self, plural: &str, items: Vec<Value>) {
        let mut st = self.state.lock().expect("lock");
        st.objects.entry(plural.into()).or_default().extend(items);
    }

    /// A change as a watch would see it (`ADDED`, `MODIFIED`, `DELETED`): applied to what
    /// lists return, and streamed to watches from an older resourceVersion.
    pub fn push_change(&self, plural: &str, type_: &str, obj: Value) {
        let mut st = self.state.lock().expect("lock");
        st.seq += 1;
        let seq = st.seq;
        let id = |v: &Value| {
            (
                v.pointer("/metadata/namespace").cloned(),
                v.pointer("/metadata/name").cloned(),
            )
        };
        let list = st.objects.entry(plural.into()).or_default();
        list.retain(|o| id(o) != id(&obj));
        if type_ != "DELETED" {
            list.push(obj.clone());
        }
        st.changes.push((seq, plural.into(), type_.into(), obj));
    }

    pub fn add_log(&self, ns: &str, pod: &str, container: &str, text: &str) {
        let mut st = self.state.lock().expect("lock");
        st.logs
            .insert((ns.into(), pod.into(), container.into()), text.into());
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.lock().expect("lock").requests.clone()
    }

    pub fn clear_requests(&self) {
        self.state.lock().expect("lock").requests.clear();
    }

    /// A kubeconfig pointing at this server (context `fake`, namespace `default`).
    pub fn kubeconfig(&self, dir: &Path) -> std::path::PathBuf {
        let path = dir.join("kubeconfig");
        std::fs::write(&path, kubeconfig_text(&self.url(), "fake")).expect("write kubeconfig");
        path
    }
}

pub fn kubeconfig_text(server: &str, context: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Config\ncurrent-context: {context}\nclusters:\n- name: {context}-cluster\n  cluster:\n    server: {server}\ncontexts:\n- name: {context}\n  context:\n    cluster: {context}-cluster\n    user: {context}-user\n    namespace: default\nusers:\n- name: {context}-user\n  user:\n    token: fake-token-not-a-secret\n"
    )
}

fn load_dump(dir: &Path, st: &mut State) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            load_dump(&p, st);
            continue;
        }
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name == "logs.txt" {
            let text = std::fs::read_to_string(&p).unwrap_or_default();
            parse_dump_logs(&text, st);
            continue;
        }
        let Some(stem) = name.strip_suffix(".json") else {
            continue;
        };
        let Some(plural) = plural_of_file(stem) else {
            continue;
        };
        let Ok(v) = serde_json::from_str::<Value>(&std::fs::read_to_string(&p).unwrap_or_default())
        else {
            continue;
        };
        let items = v
            .get("items")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        st.objects.entry(plural.into()).or_default().extend(items);
    }
}

fn parse_dump_logs(text: &str, st: &mut State) {
    let mut cur: Option<(String, String, String)> = None;
    let mut buf = String::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("==== START logs for container ") {
            // "C of pod NS/P ===="
            let rest = rest.trim_end_matches(" ====");
            if let Some((c, nsp)) = rest.split_once(" of pod ")
                && let Some((ns, p)) = nsp.split_once('/')
            {
                cur = Some((ns.into(), p.into(), c.into()));
                buf.clear();
            }
        } else if line.starts_with("==== END logs for container ") {
            if let Some(k) = cur.take() {
                st.logs.insert(k, std::mem::take(&mut buf));
            }
        } else if cur.is_some() {
            buf.push_str(line);
            buf.push('\n');
        }
    }
}

fn serve(mut conn: TcpStream, st: &Arc<Mutex<State>>) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
    let _ = conn.set_nodelay(true);
    let mut reader = BufReader::new(match conn.try_clone() {
        Ok(c) => c,
        Err(_) => return,
    });
    // Keep-alive: serve requests until the client closes.
    loop {
        let Some(http::Request {
            method,
            target,
            body,
            ..
        }) = http::read_request(&mut reader)
        else {
            return;
        };
        let (path, query) = target.split_once('?').unwrap_or((&target, ""));
        if method == "GET" && matches!(query_param(query, "watch"), Some("true" | "1")) {
            st.lock().expect("lock").requests.push(Recorded {
                method: method.clone(),
                path: path.to_string(),
                query: query.to_string(),
            });
            if st.lock().expect("lock").faults.watch_ends_at_once {
                let _ = conn.write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 0\r\n\r\n",
                );
                return;
            }
            stream_watch(&mut conn, st, path, query);
            // Every watch ends after a while, as real ones do: clients must resume.
            return;
        }
        let (status, ctype, payload, delay) = {
            let mut s = st.lock().expect("lock");
            s.requests.push(Recorded {
                method: method.clone(),
                path: path.to_string(),
                query: query.to_string(),
            });
            route(&mut s, &method, path, query, &body)
        };
        if let Some(d) = delay {
            std::thread::sleep(d);
        }
        let head = format!(
            "HTTP/1.1 {status} {}\r\ncontent-type: {ctype}\r\ncontent-length: {}\r\n\r\n",
            reason(status),
            payload.len()
        );
        // One write: head and body in two writes meet Nagle + delayed ACK (40 ms stalls).
        let mut msg = head.into_bytes();
        msg.extend_from_slice(&payload);
        if conn.write_all(&msg).is_err() {
            return;
        }
    }
}

/// Stream the changes of `path`'s plural newer than the `resourceVersion` asked for, as
/// chunked JSON lines, for about 1.5 s; then close.
fn stream_watch(conn: &mut TcpStream, st: &Arc<Mutex<State>>, path: &str, query: &str) {
    let plural = path.rsplit('/').next().unwrap_or("").to_string();
    let ns = path
        .split("/namespaces/")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .map(str::to_string);
    let mut from: u64 = query_param(query, "resourceVersion")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let head =
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
    if conn.write_all(head.as_bytes()).is_err() {
        return;
    }
    let until = std::time::Instant::now() + Duration::from_millis(1500);
    while std::time::Instant::now() < until {
        let batch: Vec<(u64, String, Value)> = {
            let s = st.lock().expect("lock");
            s.changes
                .iter()
                .filter(|(seq, p, _, o)| {
                    *seq > from
                        && *p == plural
                        && ns.as_deref().is_none_or(|ns| {
                            o.pointer("/metadata/namespace").and_then(Value::as_str) == Some(ns)
                        })
                })
                .map(|(seq, _, t, o)| (*seq, t.clone(), o.clone()))
                .collect()
        };
        for (seq, t, mut o) in batch {
            from = seq;
            o["metadata"]["resourceVersion"] = json!(seq.to_string());
            let line = json!({"type": t, "object": o}).to_string() + "\n";
            let chunk = format!("{:x}\r\n{line}\r\n", line.len());
            if conn.write_all(chunk.as_bytes()).is_err() {
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = conn.write_all(b"0\r\n\r\n");
}

fn reason(code: u16) -> &'static str {
    match code {
        200 | 201 => "OK",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Error",
    }
}

fn status(
    code: u16,
    reason: &str,
    message: &str,
) -> (u16, &'static str, Vec<u8>, Option<Duration>) {
    let body = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": reason, "code": code});
    (
        code,
        "application/json",
        body.to_string().into_bytes(),
        None,
    )
}

fn ok_json(v: &Value) -> (u16, &'static str, Vec<u8>, Option<Duration>) {
    (200, "application/json", v.to_string().into_bytes(), None)
}

fn query_param<'a>(query: &'a str, key: &str) -> Option<&'a str> {
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v)
}

fn route(
    s: &mut State,
    method: &str,
    path: &str,
    query: &str,
    body: &[u8],
) -> (u16, &'static str, Vec<u8>, Option<Duration>) {
    let segs: Vec<&str> = path.split('/').filter(|x| !x.is_empty()).collect();
    if method == "POST" {
        return match segs.as_slice() {
            [
                "apis",
                "authorization.k8s.io",
                "v1",
                "selfsubjectaccessreviews",
            ] => {
                let req: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
                let attrs = req
                    .pointer("/spec/resourceAttributes")
                    .cloned()
                    .unwrap_or(Value::Null);
                let verb = attrs.get("verb").and_then(Value::as_str).unwrap_or("");
                let res = attrs.get("resource").and_then(Value::as_str).unwrap_or("");
                let allowed = match verb {
                    "get" | "list" | "watch" => !s.faults.forbidden.contains(res),
                    _ => s.faults.can_write,
                };
                let mut out = req.clone();
                out["status"] = json!({"allowed": allowed});
                (201, "application/json", out.to_string().into_bytes(), None)
            }
            [
                "apis",
                "authorization.k8s.io",
                "v1",
                "selfsubjectrulesreviews",
            ] => {
                let mut rules = vec![
                    json!({"verbs": ["get", "list", "watch"], "apiGroups": ["*"], "resources": ["*"]}),
                    json!({"verbs": ["create"], "apiGroups": ["authorization.k8s.io"], "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]}),
                ];
                if s.faults.can_write {
                    rules.push(json!({"verbs": ["create", "delete", "patch"], "apiGroups": [""], "resources": ["pods"]}));
                }
                let out = json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectRulesReview",
                    "status": {"resourceRules": rules, "nonResourceRules": [], "incomplete": false}});
                (201, "application/json", out.to_string().into_bytes(), None)
            }
            _ => status(405, "MethodNotAllowed", "the fake server only reads"),
        };
    }
    if method != "GET" {
        return status(405, "MethodNotAllowed", "the fake server only reads");
    }
    match segs.as_slice() {
        ["version"] => {
            return ok_json(
                &json!({"major": "1", "minor": "31", "gitVersion": "v1.31.0-fake",
                "gitCommit": "0", "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z",
                "goVersion": "go1.23", "compiler": "gc", "platform": "linux/amd64"}),
            );
        }
        ["api"] => {
            return ok_json(
                &json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}),
            );
        }
        ["apis"] => {
            let mut groups: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
            for (gv, _) in SERVED {
                if let Some((g, _)) = gv.split_once('/')
                    && !s.faults.not_served.contains(*gv)
                {
                    let e = groups.entry(g).or_default();
                    if !e.contains(gv) {
                        e.push(gv);
                    }
                }
            }
            groups
                .entry("authorization.k8s.io")
                .or_default()
                .push("authorization.k8s.io/v1");
            let list: Vec<Value> = groups
                .iter()
                .map(|(g, gvs)| {
                    let versions: Vec<Value> = gvs
                        .iter()
                        .map(|gv| json!({"groupVersion": gv, "version": gv.split_once('/').map_or("", |x| x.1)}))
                        .collect();
                    json!({"name": g, "versions": versions, "preferredVersion": versions[0]})
                })
                .collect();
            return ok_json(&json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": list}));
        }
        _ => {}
    }
    // Resource lists (what kubectl's discovery reads): /api/v1, /apis/G/V.
    let gv_path = match segs.as_slice() {
        ["api", v] => Some(v.to_string()),
        ["apis", g, v] => Some(format!("{g}/{v}")),
        _ => None,
    };
    if let Some(gv) = gv_path {
        let resources: Vec<Value> = SERVED
            .iter()
            .filter(|(g, _)| *g == gv)
            .map(|(_, p)| {
                let kind = SERVED_KIND
                    .iter()
                    .find(|(q, _)| q == p)
                    .map_or("Unknown", |x| x.1);
                let cluster = matches!(
                    *p,
                    "nodes"
                        | "namespaces"
                        | "persistentvolumes"
                        | "storageclasses"
                        | "ingressclasses"
                );
                json!({"name": p, "singularName": "", "namespaced": !cluster, "kind": kind,
                    "verbs": ["get", "list", "watch"]})
            })
            .collect();
        if resources.is_empty() {
            return status(404, "NotFound", "no such group/version");
        }
        return ok_json(
            &json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}),
        );
    }
    // Logs: /api/v1/namespaces/NS/pods/P/log
    if let ["api", "v1", "namespaces", ns, "pods", pod, "log"] = segs.as_slice() {
        if s.faults.forbidden.contains("pods/log") {
            return status(403, "Forbidden", "pods/log is forbidden");
        }
        let container = query_param(query, "container").unwrap_or("");
        let Some(text) = s
            .logs
            .get(&(ns.to_string(), pod.to_string(), container.to_string()))
        else {
            return status(
                400,
                "BadRequest",
                &format!("container {container} is not valid for pod {pod}"),
            );
        };
        let mut lines: Vec<&str> = text.lines().collect();
        if let Some(n) = query_param(query, "tailLines").and_then(|n| n.parse::<usize>().ok()) {
            let skip = lines.len().saturating_sub(n);
            lines.drain(..skip);
        }
        let mut out = lines.join("\n");
        if let Some(n) = query_param(query, "limitBytes").and_then(|n| n.parse::<usize>().ok())
            && out.len() > n
        {
            out.truncate(n);
        }
        return (200, "text/plain", out.into_bytes(), None);
    }
    // Lists: /api/v1[/namespaces/NS]/PLURAL, /apis/G/V[/namespaces/NS]/PLURAL
    let (gv, rest): (String, &[&str]) = match segs.as_slice() {
        ["api", v, rest @ ..] => (v.to_string(), rest),
        ["apis", g, v, rest @ ..] => (format!("{g}/{v}"), rest),
        _ => return status(404, "NotFound", "no such path"),
    };
    let (ns, plural) = match rest {
        ["namespaces", ns, plural] => (Some(*ns), *plural),
        [plural] => (None, *plural),
        _ => return status(404, "NotFound", "the fake server serves lists only"),
    };
    if !SERVED.iter().any(|(g, p)| *g == gv && *p == plural) || s.faults.not_served.contains(&gv) {
        return status(
            404,
            "NotFound",
            "the server could not find the requested resource",
        );
    }
    if s.faults.forbidden.contains(plural) {
        return status(
            403,
            "Forbidden",
            &format!("{plural} is forbidden: User \"fake\" cannot list resource \"{plural}\""),
        );
    }
    if s.faults.fail_once.contains(plural) && s.failed_once.insert(plural.to_string()) {
        return status(500, "InternalError", "etcdserver: request timed out");
    }
    let delay = s.faults.slow.get(plural).copied();
    let all: Vec<&Value> = s
        .objects
        .get(plural)
        .map(|v| {
            v.iter()
                .filter(|o| {
                    ns.is_none_or(|ns| {
                        o.pointer("/metadata/namespace").and_then(Value::as_str) == Some(ns)
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let limit = query_param(query, "limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(usize::MAX);
    let start = query_param(query, "continue")
        .and_then(|c| c.parse::<usize>().ok())
        .unwrap_or(0);
    let end = start.saturating_add(limit).min(all.len());
    let page: Vec<Value> = all[start.min(end)..end]
        .iter()
        .map(|v| (*v).clone())
        .collect();
    let mut meta = json!({"resourceVersion": s.seq.to_string()});
    if end < all.len() {
        meta["continue"] = json!(end.to_string());
    }
    let kind = SERVED_KIND
        .iter()
        .find(|(p, _)| *p == plural)
        .map_or("Unknown", |(_, k)| *k);
    let list =
        json!({"kind": format!("{kind}List"), "apiVersion": gv, "metadata": meta, "items": page});
    let (c, t, b, _) = ok_json(&list);
    (c, t, b, delay)
}

const SERVED_KIND: &[(&str, &str)] = &[
    ("pods", "Pod"),
    ("events", "Event"),
    ("services", "Service"),
    ("nodes", "Node"),
    ("namespaces", "Namespace"),
    ("replicationcontrollers", "ReplicationController"),
    ("persistentvolumeclaims", "PersistentVolumeClaim"),
    ("persistentvolumes", "PersistentVolume"),
    ("serviceaccounts", "ServiceAccount"),
    ("configmaps", "ConfigMap"),
    ("resourcequotas", "ResourceQuota"),
    ("secrets", "Secret"),
    ("deployments", "Deployment"),
    ("replicasets", "ReplicaSet"),
    ("statefulsets", "StatefulSet"),
    ("daemonsets", "DaemonSet"),
    ("jobs", "Job"),
    ("cronjobs", "CronJob"),
    ("endpointslices", "EndpointSlice"),
    ("ingresses", "Ingress"),
    ("ingressclasses", "IngressClass"),
    ("networkpolicies", "NetworkPolicy"),
    ("poddisruptionbudgets", "PodDisruptionBudget"),
    ("storageclasses", "StorageClass"),
    ("horizontalpodautoscalers", "HorizontalPodAutoscaler"),
];

/// A synthetic cluster of `pods` pods in 5 namespaces, one Deployment per 10 pods, with
/// every 50th pod crash-looping (restarted, with a log).
pub fn synthetic(server: &FakeKube, pods: usize) -> usize {
    let mut items = Vec::new();
    let mut deployments = Vec::new();
    let mut failing = 0;
    for i in 0..pods {
        let ns = format!("ns{}", i % 5);
        let app = format!("app{}", i / 10);
        let name = format!("{app}-{i}");
        let crash = i % 50 == 7;
        let status = if crash {
            failing += 1;
            server.add_log(
                &ns,
                &name,
                "main",
                &format!("starting\npanic: cannot connect to db password=hunter2-{i}\n"),
            );
            json!({"phase": "Running", "containerStatuses": [{"name": "main", "ready": false, "restartCount": 5, "image": "app:1", "imageID": "", "started": false,
                "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off"}},
                "lastState": {"terminated": {"exitCode": 2, "reason": "Error", "startedAt": "2026-11-24T09:00:00Z", "finishedAt": "2026-11-24T09:00:05Z"}}}]})
        } else {
            json!({"phase": "Running", "containerStatuses": [{"name": "main", "ready": true, "restartCount": 0, "image": "app:1", "imageID": "", "started": true,
                "state": {"running": {"startedAt": "2026-11-24T08:00:00Z"}}}]})
        };
        items.push(json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": ns, "uid": format!("uid-{i}"), "labels": {"app": app}},
            "spec": {"containers": [{"name": "main", "image": "app:1",
                "resources": {"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "100m", "memory": "128Mi"}}}]},
            "status": status}));
        if i % 10 == 0 {
            deployments.push(json!({"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": app, "namespace": ns, "uid": format!("d-{i}")},
                "spec": {"replicas": 10, "selector": {"matchLabels": {"app": app}},
                    "template": {"metadata": {"labels": {"app": app}}, "spec": {"containers": [{"name": "main", "image": "app:1"}]}}},
                "status": {"replicas": 10, "readyReplicas": 10, "availableReplicas": 10}}));
        }
    }
    server.add("pods", items);
    server.add("deployments", deployments);
    server.add(
        "namespaces",
        (0..5)
            .map(|i| json!({"metadata": {"name": format!("ns{i}")}, "status": {"phase": "Active"}}))
            .collect(),
    );
    server.add("secrets", vec![json!({"metadata": {"name": "db", "namespace": "ns0"}, "data": {"password": "aHVudGVyMg=="}})]);
    failing
}
