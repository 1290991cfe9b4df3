//! A pod row of a `kubectl get pods` table as the pod object it describes: phase and
//! container states from STATUS and READY, restarts (and when the last one was) from
//! RESTARTS, node and IP from `-o wide`, containers from CONTAINERS/IMAGES — never an
//! invented container name or exit code.

use super::*;

/// Containers from `-o wide`'s CONTAINERS and IMAGES columns.
pub(super) fn containers(names: Option<&str>, images: Option<&str>) -> Value {
    let images: Vec<&str> = images.map(|i| i.split(',').collect()).unwrap_or_default();
    Value::Array(
        names
            .map(|n| n.split(',').collect::<Vec<_>>())
            .unwrap_or_default()
            .into_iter()
            .enumerate()
            .map(|(i, n)| json!({"name": n, "image": images.get(i).copied().unwrap_or("")}))
            .collect(),
    )
}

/// A pod row: phase, readiness and one unnamed container status per container counted.
pub(super) fn pod_row(t: &Table, row: &[String], mut m: Value, now: jiff::Timestamp) -> Value {
    let c = |col: &str| t.cell(row, col);
    let status = c("STATUS").unwrap_or("Unknown");
    let (ready, total) = fraction(c("READY")).unwrap_or((0, 1));
    // "5 (2m ago)": restarts, and when the last one was.
    let restarts_cell = c("RESTARTS").unwrap_or("0");
    let restarts: i64 = restarts_cell
        .split_whitespace()
        .next()
        .and_then(|r| r.parse().ok())
        .unwrap_or(0);
    let last_restart = restarts_cell
        .split_once('(')
        .and_then(|(_, r)| age_secs(r.trim_end_matches(')').trim_end_matches(" ago")))
        .map(|s| ago(now, s));
    let (init, word) = match status.strip_prefix("Init:") {
        Some(w) => (true, w),
        None => (false, status),
    };
    let waiting = |reason: &str| json!({"waiting": {"reason": reason}});
    let (phase, state): (&str, Value) = match word {
        "Running" => ("Running", json!({"running": {}})),
        "Completed" => (
            "Succeeded",
            json!({"terminated": {"reason": "Completed", "exitCode": 0}}),
        ),
        "Error" | "OOMKilled" | "ContainerCannotRun" | "StartError" => (
            if restarts == 0 { "Failed" } else { "Running" },
            // OOMKilled is exit 137 by definition; other codes are not in the table.
            json!({"terminated": {"reason": word, "exitCode": if word == "OOMKilled" { 137 } else { crate::analyzers::UNKNOWN_EXIT }}}),
        ),
        "Pending" => ("Pending", Value::Null),
        "Evicted" => ("Failed", Value::Null),
        "Terminating" | "Unknown" | "NodeLost" => (
            if word == "Terminating" {
                "Running"
            } else {
                "Unknown"
            },
            json!({"running": {}}),
        ),
        w if w.contains('/') => ("Pending", json!({"running": {}})), // Init:0/1
        w => (
            if w == "CrashLoopBackOff" || w == "RunContainerError" && restarts > 0 {
                "Running"
            } else {
                "Pending"
            },
            waiting(w),
        ),
    };
    let (phase, state) = if init {
        ("Pending", state)
    } else {
        (phase, state)
    };
    let status_of = |i: i64, is_ready: bool, st: &Value| -> Value {
        // The table says when the last restart was, not how the container ended: no last
        // state is made up (an exit code would be invented). The time is kept on the pod.
        json!({"name": if total > 1 { format!("{UNNAMED}-{}", i + 1) } else { UNNAMED.to_string() },
            "ready": is_ready, "restartCount": if i == 0 { restarts } else { 0 }, "image": "", "imageID": "",
            "state": st})
    };
    let mut pod_status = json!({"phase": phase});
    if status == "Evicted" {
        pod_status["reason"] = json!("Evicted");
    }
    if let Some(at) = &last_restart {
        m["annotations"]["sextant.dev/last-restart"] = json!(at);
    }
    if status == "Terminating" {
        m["deletionTimestamp"] = json!(now.to_string());
    }
    if !state.is_null() {
        if init {
            pod_status["initContainerStatuses"] = json!([status_of(0, false, &state)]);
            pod_status["containerStatuses"] = json!(
                (0..total)
                    .map(|i| status_of(i, false, &waiting("PodInitializing")))
                    .map(|mut s| {
                        s["restartCount"] = json!(0);
                        s.as_object_mut().map(|o| o.remove("lastState"));
                        s
                    })
                    .collect::<Vec<_>>()
            );
        } else {
            // The containers that are not ready carry the status word; the ready ones run.
            let list: Vec<Value> = (0..total)
                .map(|i| {
                    let is_ready = i >= total - ready;
                    if is_ready && word != "Completed" {
                        status_of(i, true, &json!({"running": {}}))
                    } else {
                        status_of(i, false, &state)
                    }
                })
                .collect();
            pod_status["containerStatuses"] = json!(list);
        }
        pod_status["conditions"] = json!([{"type": "Ready", "status": if ready == total && total > 0 { "True" } else { "False" }}]);
    }
    if let Some(ip) = c("IP") {
        pod_status["podIP"] = json!(ip);
    }
    let mut spec = json!({"containers": []});
    if let Some(n) = c("NODE") {
        spec["nodeName"] = json!(n);
    }
    json!({"kind": "Pod", "metadata": m, "spec": spec, "status": pod_status})
}
