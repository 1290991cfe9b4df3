//! `kubectl get` tables (default, `-o wide`, `-A`, `--show-labels`, custom columns, the rows a
//! `| grep` left without their header), `kubectl get events` in both column sets and
//! `kubectl top`, read into objects that carry exactly what the table shows.
//!
//! A table says less than the object: a pod row has no container names, no spec. What it
//! does not say is left out (never guessed), and every object read from a table carries the
//! annotation [`FROM_TABLE`] so that a `describe` or manifest of the same object wins where
//! both say something.

use super::event;
use serde_json::{Value, json};

mod pod_rows;
use pod_rows::*;

/// Annotation on objects read from a table.
pub const FROM_TABLE: &str = "sextant.dev/from-table";
/// The name given to a container a table counts but does not name.
pub const UNNAMED: &str = "(unnamed)";

/// A table: column names and rows of cells.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    fn col(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }
    fn has(&self, name: &str) -> bool {
        self.col(name).is_some()
    }
    /// The cell of `row` in column `name`, unless empty or `<none>`.
    fn cell<'a>(&self, row: &'a [String], name: &str) -> Option<&'a str> {
        self.col(name)
            .and_then(|i| row.get(i))
            .map(|s| s.trim())
            .filter(|s| !s.is_empty() && *s != "<none>" && *s != "<unknown>")
    }
}

/// Whether a line is a kubectl table header: upper-case column names, two or more, one of
/// them `NAME` (or an events table's `REASON`).
fn is_header(line: &str) -> bool {
    let t = line.trim();
    // `kubectl top` writes `CPU(cores)`: lower case inside parentheses only.
    let mut depth = 0;
    let ok = !t.is_empty()
        && t.chars().all(|c| {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                _ => {}
            }
            c.is_ascii_uppercase()
                || c.is_ascii_digit()
                || " ()-_/%.:".contains(c)
                || depth > 0 && c.is_ascii_lowercase()
        });
    ok && header_columns(line).len() >= 2
        && (t.contains("NAME") || t.contains("REASON") || t.contains("CPU("))
}

/// Column names and their start offsets (in characters): kubectl pads columns with at least
/// three spaces, and a name like `LAST SEEN` holds one.
fn header_columns(line: &str) -> Vec<(usize, String)> {
    let chars: Vec<char> = line.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == ' ' {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && !(chars[i] == ' ' && chars.get(i + 1).is_none_or(|c| *c == ' ')) {
            i += 1;
        }
        let name: String = chars[start..i].iter().collect();
        out.push((start, name.trim().to_string()));
    }
    out
}

/// Cells by the header's offsets; rows that do not line up (re-spaced by a copy) are split on
/// runs of two or more spaces instead.
fn cells(row: &str, cols: &[(usize, String)]) -> Vec<String> {
    let chars: Vec<char> = row.chars().collect();
    let aligned = cols
        .iter()
        .skip(1)
        .all(|(s, _)| *s >= chars.len() || (*s > 0 && chars[*s - 1] == ' ' && chars[*s] != ' '));
    if aligned {
        return cols
            .iter()
            .enumerate()
            .map(|(i, (s, _))| {
                let end = cols
                    .get(i + 1)
                    .map_or(chars.len(), |n| n.0.min(chars.len()));
                chars
                    .get((*s).min(chars.len())..end)
                    .map(|c| c.iter().collect::<String>().trim().to_string())
                    .unwrap_or_default()
            })
            .collect();
    }
    split_wide(row)
}

/// Cells separated by two or more spaces (a cell like `1 (8s ago)` keeps its single spaces).
pub fn split_wide(row: &str) -> Vec<String> {
    row.trim()
        .split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .collect()
}

/// Every table in `text` (blocks separated by blank lines, each under its header line).
pub fn tables(text: &str) -> Vec<Table> {
    let mut out = Vec::new();
    let mut cur: Option<(Vec<(usize, String)>, Table)> = None;
    for line in text.lines() {
        if line.trim().is_empty() {
            if let Some((_, t)) = cur.take() {
                out.push(t);
            }
            continue;
        }
        if is_header(line) {
            if let Some((_, t)) = cur.take() {
                out.push(t);
            }
            let cols = header_columns(line);
            let columns = cols.iter().map(|(_, n)| n.clone()).collect();
            cur = Some((
                cols,
                Table {
                    columns,
                    rows: Vec::new(),
                },
            ));
            continue;
        }
        if let Some((cols, t)) = cur.as_mut() {
            t.rows.push(cells(line, cols));
        }
    }
    if let Some((_, t)) = cur {
        out.push(t);
    }
    out
}

/// The columns of `kubectl get -A --show-labels -o wide KIND` (what HolmesGPT's
/// `kubectl_find_resource` greps): used for rows that lost their header to `grep`.
pub fn wide_columns(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "pod" => &[
            "NAMESPACE",
            "NAME",
            "READY",
            "STATUS",
            "RESTARTS",
            "AGE",
            "IP",
            "NODE",
            "NOMINATED NODE",
            "READINESS GATES",
            "LABELS",
        ],
        "deployment" => &[
            "NAMESPACE",
            "NAME",
            "READY",
            "UP-TO-DATE",
            "AVAILABLE",
            "AGE",
            "CONTAINERS",
            "IMAGES",
            "SELECTOR",
            "LABELS",
        ],
        "job" => &[
            "NAMESPACE",
            "NAME",
            "STATUS",
            "COMPLETIONS",
            "DURATION",
            "AGE",
            "CONTAINERS",
            "IMAGES",
            "SELECTOR",
            "LABELS",
        ],
        "service" => &[
            "NAMESPACE",
            "NAME",
            "TYPE",
            "CLUSTER-IP",
            "EXTERNAL-IP",
            "PORT(S)",
            "AGE",
            "SELECTOR",
            "LABELS",
        ],
        "statefulset" => &[
            "NAMESPACE",
            "NAME",
            "READY",
            "AGE",
            "CONTAINERS",
            "IMAGES",
            "LABELS",
        ],
        "node" => &[
            "NAME",
            "STATUS",
            "ROLES",
            "AGE",
            "VERSION",
            "INTERNAL-IP",
            "EXTERNAL-IP",
            "OS-IMAGE",
            "KERNEL-VERSION",
            "CONTAINER-RUNTIME",
            "LABELS",
        ],
        _ => return None,
    })
}

/// Rows without a header, read with the wide columns of `kind`; the NAMESPACE column is
/// dropped when the rows have one cell fewer (no `-A`).
pub fn headerless(text: &str, kind: &str) -> Option<Table> {
    let cols = wide_columns(kind)?;
    let rows: Vec<Vec<String>> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(split_wide)
        .collect();
    let first = rows.first()?;
    let columns: Vec<String> = if first.len() + 1 == cols.len() && cols[0] == "NAMESPACE" {
        cols[1..].iter().map(|c| c.to_string()).collect()
    } else if first.len() >= cols.len() - 2 && first.len() <= cols.len() {
        cols.iter().map(|c| c.to_string()).collect()
    } else {
        // Fewer cells than even the default columns: read the leading ones by position.
        let plain = cols.len() - usize::from(cols[0] == "NAMESPACE");
        if first.len() < 4 || first.len() > plain {
            return None;
        }
        cols[usize::from(cols[0] == "NAMESPACE")..]
            .iter()
            .map(|c| c.to_string())
            .collect()
    };
    Some(Table { columns, rows })
}

/// What a table is a listing of, from its columns (a `KIND/NAME` cell says it per row).
pub fn kind_of(t: &Table, hint: Option<&str>) -> Option<&'static str> {
    let h = |c: &str| t.has(c);
    let by_columns = if h("CPU(cores)") || h("CPU(CORES)") {
        Some(if h("CPU%") {
            "NodeMetrics"
        } else {
            "PodMetrics"
        })
    } else if h("REASON") && h("TYPE") && (h("OBJECT") || h("KIND")) {
        Some("Event")
    } else if h("READY") && h("STATUS") && h("RESTARTS") {
        Some("Pod")
    } else if h("UP-TO-DATE") && h("AVAILABLE") && h("DESIRED") {
        Some("DaemonSet")
    } else if h("UP-TO-DATE") && h("AVAILABLE") {
        Some("Deployment")
    } else if h("DESIRED") && h("CURRENT") {
        Some("ReplicaSet")
    } else if h("CLUSTER-IP") {
        Some("Service")
    } else if h("ROLES") && h("VERSION") {
        Some("Node")
    } else if h("CLAIM") && h("RECLAIM POLICY") {
        Some("PersistentVolume")
    } else if h("VOLUME") && h("CAPACITY") {
        Some("PersistentVolumeClaim")
    } else if h("COMPLETIONS") {
        Some("Job")
    } else if h("SCHEDULE") && h("SUSPEND") {
        Some("CronJob")
    } else if h("REFERENCE") && h("TARGETS") {
        Some("HorizontalPodAutoscaler")
    } else if h("HOSTS") && h("ADDRESS") {
        Some("Ingress")
    } else if h("ENDPOINTS") {
        Some("Endpoints")
    } else if h("TYPE") && h("DATA") {
        Some("Secret")
    } else if h("DATA") {
        Some("ConfigMap")
    } else if h("SECRETS") {
        Some("ServiceAccount")
    } else if h("READY") && h("AGE") && !h("STATUS") && t.columns.len() <= 7 {
        Some("StatefulSet")
    } else {
        None
    };
    by_columns.or_else(|| hint.and_then(super::kind_name))
}

/// Age as kubectl prints it (`8s`, `3h51m`, `6d22h`, `91d`) → seconds.
pub fn age_secs(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let (mut total, mut n) = (0i64, String::new());
    for c in s.chars() {
        if c.is_ascii_digit() {
            n.push(c);
            continue;
        }
        let v: i64 = n.parse().ok()?;
        n.clear();
        total = total.checked_add(v.checked_mul(match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'y' => 31_536_000,
            _ => return None,
        })?)?;
    }
    n.is_empty().then_some(total)
}

fn ago(now: jiff::Timestamp, secs: i64) -> String {
    now.checked_sub(jiff::SignedDuration::from_secs(secs))
        .unwrap_or(now)
        .to_string()
}

fn labels(cell: Option<&str>) -> Value {
    let mut m = serde_json::Map::new();
    for kv in cell.unwrap_or("").split(',') {
        if let Some((k, v)) = kv.split_once('=') {
            m.insert(k.trim().into(), json!(v.trim()));
        }
    }
    Value::Object(m)
}

fn meta(name: &str, ns: Option<&str>, labels: Value, created: Option<String>) -> Value {
    let mut m = json!({"name": name, "labels": labels,
        "annotations": {FROM_TABLE: "true"}, "uid": format!("evidence-{name}")});
    if let Some(ns) = ns {
        m["namespace"] = json!(ns);
    }
    if let Some(c) = created {
        m["creationTimestamp"] = json!(c);
    }
    m
}

/// `a/b` → (a, b).
fn fraction(s: Option<&str>) -> Option<(i64, i64)> {
    let (a, b) = s?.split_once('/')?;
    Some((a.trim().parse().ok()?, b.trim().parse().ok()?))
}

/// What one table holds, read.
#[derive(Debug, Default)]
pub struct Read {
    pub objects: Vec<Value>,
    pub secret_names: Vec<(String, String)>,
    pub usage: Vec<crate::state::Usage>,
    /// (kind, namespace or `*`) listed completely by the table.
    pub listed: Vec<(String, String)>,
}

/// The objects of a table. `ns_hint`: the namespace the command was run in (`-n`), when known.
pub fn read(t: &Table, kind_hint: Option<&str>, ns_hint: Option<&str>) -> Read {
    let now = jiff::Timestamp::now();
    let mut out = Read::default();
    let table_kind = kind_of(t, kind_hint);
    let all_ns = t.has("NAMESPACE");
    let cluster_scoped = matches!(
        table_kind,
        Some("Node" | "PersistentVolume" | "NodeMetrics" | "Namespace")
    );
    let mut listed_ns = std::collections::BTreeSet::new();
    for row in &t.rows {
        let Some(raw_name) = t
            .cell(row, "NAME")
            .or_else(|| row.first().map(String::as_str))
        else {
            continue;
        };
        // A tree (`kube-lineage`) draws its branches before the name.
        let raw_name = raw_name.trim_start_matches(['├', '│', '└', '─', ' ']);
        // `kubectl get all`: `pod/web-1`, `deployment.apps/web`.
        let (kind, name) = match raw_name.split_once('/') {
            Some((k, n)) if table_kind != Some("Event") => {
                match super::kind_name(k.split('.').next().unwrap_or(k)) {
                    Some(k) => (Some(k), n),
                    None => (table_kind, raw_name),
                }
            }
            _ => (table_kind, raw_name),
        };
        let Some(kind) = kind else { continue };
        // A row of another kind than the table's columns describe (a tree of a Job, its
        // pods and Services) is read only when it is a pod: its columns are the pod's.
        if table_kind != Some(kind) && kind != "Pod" {
            continue;
        }
        let ns = if cluster_scoped {
            None
        } else {
            Some(
                t.cell(row, "NAMESPACE")
                    .or(ns_hint)
                    .unwrap_or("default")
                    .to_string(),
            )
        };
        listed_ns.insert((
            kind.to_string(),
            if all_ns || cluster_scoped {
                "*".to_string()
            } else {
                ns.clone().unwrap_or_default()
            },
        ));
        let ns = ns.as_deref();
        let created = t.cell(row, "AGE").and_then(age_secs).map(|s| ago(now, s));
        let lbl = labels(t.cell(row, "LABELS"));
        let m = meta(name, ns, lbl.clone(), created);
        let c = |col: &str| t.cell(row, col);
        let obj = match kind {
            "Event" => {
                let (okind, oname) = c("OBJECT")
                    .and_then(|o| o.split_once('/'))
                    .map(|(k, n)| (super::kind_name(k).unwrap_or("Pod"), n))
                    .unwrap_or(("Pod", c("NAME").unwrap_or("")));
                let count = c("COUNT").and_then(|n| n.parse().ok()).unwrap_or(1);
                let mut e = event(
                    ns.unwrap_or("default"),
                    okind,
                    oname,
                    c("TYPE").unwrap_or("Normal"),
                    c("REASON").unwrap_or(""),
                    c("MESSAGE").unwrap_or(""),
                    count,
                    out.objects.len(),
                );
                if let Some(secs) = c("LAST SEEN").and_then(|a| age_secs(a.split(' ').next()?)) {
                    e["lastTimestamp"] = json!(ago(now, secs));
                }
                Some(e)
            }
            "Pod" => Some(pod_row(t, row, m, now)),
            "Deployment" | "StatefulSet" => {
                let (ready, want) = fraction(c("READY")).unwrap_or((0, 0));
                let mut o = json!({"kind": kind, "metadata": m,
                    "spec": {"replicas": want, "template": {"metadata": {"labels": labels(c("SELECTOR"))}, "spec": {"containers": containers(c("CONTAINERS"), c("IMAGES"))}}},
                    "status": {"replicas": want, "readyReplicas": ready,
                        "availableReplicas": c("AVAILABLE").and_then(|a| a.parse::<i64>().ok()).unwrap_or(ready),
                        "updatedReplicas": c("UP-TO-DATE").and_then(|a| a.parse::<i64>().ok()).unwrap_or(ready)}});
                if let Some(sel) = c("SELECTOR") {
                    o["spec"]["selector"] = json!({"matchLabels": labels(Some(sel))});
                }
                Some(o)
            }
            "DaemonSet" | "ReplicaSet" => {
                let n = |col: &str| c(col).and_then(|v| v.parse::<i64>().ok()).unwrap_or(0);
                let status = if kind == "DaemonSet" {
                    json!({"desiredNumberScheduled": n("DESIRED"), "currentNumberScheduled": n("CURRENT"),
                        "numberReady": n("READY"), "updatedNumberScheduled": n("UP-TO-DATE"),
                        "numberAvailable": n("AVAILABLE"), "numberMisscheduled": 0})
                } else {
                    json!({"replicas": n("CURRENT"), "readyReplicas": n("READY")})
                };
                let mut o = json!({"kind": kind, "metadata": m, "status": status,
                    "spec": {"template": {"spec": {"containers": containers(c("CONTAINERS"), c("IMAGES"))}}}});
                if kind == "ReplicaSet" {
                    o["spec"]["replicas"] = json!(n("DESIRED"));
                }
                Some(o)
            }
            "Service" => {
                let ports: Vec<Value> = c("PORT(S)")
                    .unwrap_or("")
                    .split(',')
                    .filter_map(|p| {
                        let (num, proto) = p.split_once('/').unwrap_or((p, "TCP"));
                        let (port, node_port) = num.split_once(':').unwrap_or((num, ""));
                        let mut v = json!({"port": port.parse::<i64>().ok()?, "protocol": proto});
                        if let Ok(np) = node_port.parse::<i64>() {
                            v["nodePort"] = json!(np);
                        }
                        Some(v)
                    })
                    .collect();
                let mut spec = json!({"type": c("TYPE").unwrap_or("ClusterIP"), "ports": ports});
                if let Some(ip) = c("CLUSTER-IP") {
                    spec["clusterIP"] = json!(ip);
                }
                // Without `-o wide` the selector is not shown: the Service is known by name
                // and ports only, and no endpoint check is made on it.
                match c("SELECTOR") {
                    Some(sel) => spec["selector"] = labels(Some(sel)),
                    None if !t.has("SELECTOR") => {
                        spec["selector"] = Value::Null;
                    }
                    None => {}
                }
                Some(json!({"kind": "Service", "metadata": m, "spec": spec}))
            }
            "Node" => {
                let status = c("STATUS").unwrap_or("Unknown");
                let ready = status.split(',').any(|s| s == "Ready");
                let mut labels = lbl;
                for role in c("ROLES")
                    .unwrap_or("")
                    .split(',')
                    .filter(|r| !r.is_empty())
                {
                    labels[format!("node-role.kubernetes.io/{role}")] = json!("");
                }
                let mut m = m;
                m["labels"] = labels;
                Some(json!({"kind": "Node", "metadata": m,
                    "spec": {"unschedulable": status.contains("SchedulingDisabled")},
                    "status": {"conditions": [{"type": "Ready", "status": if ready { "True" } else if status.contains("Unknown") { "Unknown" } else { "False" }}],
                        "nodeInfo": {"kubeletVersion": c("VERSION").unwrap_or(""), "containerRuntimeVersion": c("CONTAINER-RUNTIME").unwrap_or(""),
                            "osImage": c("OS-IMAGE").unwrap_or(""), "kernelVersion": c("KERNEL-VERSION").unwrap_or(""),
                            "architecture": "", "bootID": "", "kubeProxyVersion": "", "machineID": "", "operatingSystem": "", "systemUUID": ""}}}))
            }
            "PersistentVolumeClaim" => {
                let mut spec = json!({});
                if let Some(sc) = c("STORAGECLASS") {
                    spec["storageClassName"] = json!(sc);
                }
                if let Some(v) = c("VOLUME") {
                    spec["volumeName"] = json!(v);
                }
                Some(json!({"kind": kind, "metadata": m, "spec": spec,
                    "status": {"phase": c("STATUS").unwrap_or("Pending")}}))
            }
            "Job" => {
                let (done, want) = fraction(c("COMPLETIONS")).unwrap_or((0, 1));
                let status_word = c("STATUS").unwrap_or("");
                let mut status = json!({"succeeded": done});
                if status_word == "Failed" {
                    status["conditions"] = json!([{"type": "Failed", "status": "True"}]);
                    status["failed"] = json!(1);
                } else if status_word == "Complete" {
                    status["conditions"] = json!([{"type": "Complete", "status": "True"}]);
                } else if status_word == "Running" {
                    status["active"] = json!(1);
                }
                Some(json!({"kind": "Job", "metadata": m,
                    "spec": {"completions": want, "template": {"spec": {"containers": containers(c("CONTAINERS"), c("IMAGES"))}}},
                    "status": status}))
            }
            "Namespace" => Some(json!({"kind": "Namespace", "metadata": m,
                "status": {"phase": c("STATUS").unwrap_or("Active")}})),
            "ConfigMap" | "ServiceAccount" => Some(json!({"kind": kind, "metadata": m})),
            "Secret" => {
                out.secret_names
                    .push((ns.unwrap_or("default").to_string(), name.to_string()));
                None
            }
            "PodMetrics" | "NodeMetrics" => {
                out.usage.push(crate::state::Usage {
                    kind: if kind == "PodMetrics" { "Pod" } else { "Node" }.into(),
                    namespace: ns.map(str::to_string),
                    name: name.to_string(),
                    cpu: c("CPU(cores)")
                        .or(c("CPU(CORES)"))
                        .unwrap_or("")
                        .to_string(),
                    memory: c("MEMORY(bytes)")
                        .or(c("MEMORY(BYTES)"))
                        .unwrap_or("")
                        .to_string(),
                });
                None
            }
            // Kinds whose rows say too little to stand for the object (an Endpoints row, an
            // HPA's targets, an Ingress's hosts) are not typed from a table.
            _ => None,
        };
        if let Some(o) = obj {
            out.objects.push(o);
        }
    }
    // A table of events lists events, not objects whose absence it proves.
    if table_kind != Some("Event") {
        out.listed = listed_ns.into_iter().collect();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wide_pod_table_becomes_pods_with_what_it_shows() {
        let text = "NAME                     READY   STATUS             RESTARTS      AGE   IP            NODE     NOMINATED NODE   READINESS GATES\nweb-5d8f-abcde           0/1     CrashLoopBackOff   5 (40s ago)   10m   10.1.0.4      node-1   <none>           <none>\nweb-5d8f-fghij           1/1     Running            0             10m   10.1.0.5      node-2   <none>           <none>\n";
        let ts = tables(text);
        assert_eq!(ts.len(), 1);
        assert_eq!(ts[0].columns[7], "NOMINATED NODE");
        let r = read(&ts[0], None, Some("shop"));
        assert_eq!(r.objects.len(), 2);
        let p = &r.objects[0];
        assert_eq!(p["metadata"]["namespace"], "shop");
        let s = &p["status"]["containerStatuses"][0];
        assert_eq!(s["state"]["waiting"]["reason"], "CrashLoopBackOff");
        assert_eq!(s["restartCount"], 5);
        assert!(s.get("lastState").is_none(), "no exit code is invented");
        assert!(p["metadata"]["annotations"]["sextant.dev/last-restart"].is_string());
        assert_eq!(r.objects[1]["status"]["conditions"][0]["status"], "True");
        assert_eq!(r.listed, vec![("Pod".to_string(), "shop".to_string())]);
    }

    #[test]
    fn get_all_rows_carry_their_kind() {
        let text = "NAME                       READY   STATUS    RESTARTS   AGE\npod/api-1                  1/1     Running   0          2d\n\nNAME                  READY   UP-TO-DATE   AVAILABLE   AGE\ndeployment.apps/api   0/2     2            0           2d\n";
        let ts = tables(text);
        assert_eq!(ts.len(), 2);
        let d = read(&ts[1], None, None);
        assert_eq!(d.objects[0]["kind"], "Deployment");
        assert_eq!(d.objects[0]["metadata"]["name"], "api");
        assert_eq!(d.objects[0]["spec"]["replicas"], 2);
        assert_eq!(d.objects[0]["status"]["readyReplicas"], 0);
    }

    #[test]
    fn grep_output_without_a_header_is_read_with_the_wide_columns() {
        let text = "default              web-747ccfb9db-78qds               0/1     CrashLoopBackOff   1 (8s ago)       12s     10.244.0.196   kind-control-plane   <none>           <none>            app=web,pod-template-hash=747ccfb9db\n";
        let t = headerless(text, "pod").expect("table");
        let r = read(&t, Some("pod"), None);
        assert_eq!(r.objects[0]["metadata"]["labels"]["app"], "web");
        assert_eq!(r.objects[0]["spec"]["nodeName"], "kind-control-plane");
    }

    #[test]
    fn a_lineage_tree_yields_its_pods_only() {
        let text = "NAME                             READY   STATUS   AGE\nJob/java-api-checker             -                28d\n├── Pod/java-api-checker-mdr44   0/1     Error    28d\n│   └── Service/kubernetes       -                77d\n";
        let r = read(&tables(text)[0], None, None);
        assert_eq!(r.objects.len(), 1, "{:?}", r.objects);
        assert_eq!(r.objects[0]["kind"], "Pod");
        assert_eq!(r.objects[0]["metadata"]["name"], "java-api-checker-mdr44");
    }

    #[test]
    fn ages_and_events_tables() {
        assert_eq!(age_secs("3h51m"), Some(3 * 3600 + 51 * 60));
        assert_eq!(age_secs("6d22h"), Some(6 * 86_400 + 22 * 3600));
        assert_eq!(age_secs("<unknown>"), None);
        let text = "LAST SEEN   TYPE      REASON    OBJECT          MESSAGE\n2m          Warning   BackOff   pod/web-1       Back-off restarting failed container app in pod web-1\n";
        let r = read(&tables(text)[0], None, Some("shop"));
        assert_eq!(r.objects[0]["reason"], "BackOff");
        assert_eq!(r.objects[0]["involvedObject"]["name"], "web-1");
        assert_eq!(
            r.objects[0]["message"],
            "Back-off restarting failed container app in pod web-1"
        );
        assert!(r.listed.is_empty());
    }
}
