//! Probe failures that are happening now. The kubelet records every failed probe as an
//! `Unhealthy` event, and most pods fail a few while they start (install time, a node
//! restart): those are history once the pod is Ready. A probe failure is reported when the pod
//! is not Ready now, or when failures continue after it became Ready and within the recent
//! window (a flapping readiness probe, a liveness probe about to restart it).
//!
//! The fix follows the evidence: an HTTP 500 is the application's own answer (a dependency it
//! checks is down), a 404 a wrong path, "connection refused" nothing listening on the port
//! (yet), a timeout a slow answer.

use super::pods::{PodInfo, log_evidence};
use super::{Context, Draft};
use crate::findings::{Category, Severity};
use crate::state::event_time;

/// What a probe failure message says about the cause, and what to do.
fn reading(msg: &str) -> (String, String) {
    let m = msg.to_ascii_lowercase();
    if let Some(code) = status_code(&m) {
        let failing: Vec<&str> = msg
            .lines()
            .filter_map(|l| l.trim().strip_prefix("[-]"))
            .map(|l| l.split_whitespace().next().unwrap_or(l))
            .collect();
        return match code {
            500..=599 => (
                format!(
                    "the application answers its health endpoint with HTTP {code}: it is up and reports itself unhealthy{}",
                    if failing.is_empty() {
                        String::new()
                    } else {
                        format!(" (failing checks: {})", failing.join(", "))
                    }
                ),
                "Find out why the application reports itself unhealthy: the failing check or dependency in its health response and its log. The probe's port and path are right — it got an answer.".to_string(),
            ),
            404 => (
                "the health endpoint answers HTTP 404: the probe's path does not exist in the application".to_string(),
                "Point the probe's httpGet.path at the application's real health endpoint.".to_string(),
            ),
            401 | 403 => (
                format!("the health endpoint answers HTTP {code}: it requires authentication the kubelet does not send"),
                "Expose an unauthenticated health path for the probe, or use a tcpSocket/exec probe.".to_string(),
            ),
            c => (
                format!("the health endpoint answers HTTP {c}"),
                "Make the health endpoint answer 2xx/3xx when the application is healthy.".to_string(),
            ),
        };
    }
    if m.contains("connection refused") {
        return (
            "nothing accepts connections on the probed port: the process has not started listening yet, or listens on another port or address".to_string(),
            "Check that the process listens on the probed port on all interfaces (not 127.0.0.1); if it is slow to start, add a startupProbe or raise initialDelaySeconds.".to_string(),
        );
    }
    if m.contains("timeout") || m.contains("deadline exceeded") || m.contains("timed out") {
        return (
            "the application does not answer the probe in time".to_string(),
            "Find out why the application is slow to answer (load, a blocked dependency); raise the probe's timeoutSeconds only if the slowness is expected.".to_string(),
        );
    }
    (
        "the probe's check does not pass".to_string(),
        "Compare the probe (port, path, command, timeouts) with what the container really serves."
            .to_string(),
    )
}

/// The HTTP status code in a kubelet probe message ("statuscode: 500").
fn status_code(lower: &str) -> Option<u16> {
    let i = lower.find("statuscode:")?;
    lower[i + "statuscode:".len()..]
        .trim_start()
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

pub(super) fn probe_failure(ctx: &Context, info: &PodInfo) -> Option<Draft> {
    let unhealthy: Vec<_> = info
        .events
        .iter()
        .filter(|e| {
            e.reason.as_deref() == Some("Unhealthy") && e.type_.as_deref() != Some("Normal")
        })
        .collect();
    let last_event = unhealthy.iter().max_by_key(|e| event_time(e))?;
    let last = event_time(last_event);
    let ready = info
        .pod
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|c| c.iter().find(|c| c.type_ == "Ready"));
    let not_ready = ready.is_some_and(|c| c.status != "True");
    let ready_since = ready
        .filter(|c| c.status == "True")
        .and_then(|c| c.last_transition_time.as_ref())
        .map(|t| t.0);
    // Ready now: only failures after it became Ready, and recent, are current.
    let failing_after_ready = match (last, ready_since) {
        (Some(l), Some(r)) => l > r && ctx.is_recent(l),
        (Some(l), None) => ctx.is_recent(l),
        (None, _) => false,
    };
    if !not_ready && !failing_after_ready {
        return None;
    }
    let msg = last_event.message.clone().unwrap_or_default();
    let probe = if msg.starts_with("Liveness") {
        "liveness"
    } else if msg.starts_with("Startup") {
        "startup"
    } else {
        "readiness"
    };
    let (cause, fix) = reading(&msg);
    let mut d = info.draft(
        if not_ready {
            Severity::Critical
        } else {
            Severity::Warning
        },
        Category::ProbeFailure,
        format!(
            "Pod {} fails its {probe} probe{}",
            info.name,
            if not_ready { " and is not Ready" } else { "" }
        ),
    );
    let headline = msg.lines().next().unwrap_or("");
    d.explanation = format!(
        "The kubelet's {probe} probe for pod {} fails now (\"{headline}\"): {cause}{}.",
        info.name,
        match probe {
            "readiness" if not_ready =>
                "; the pod is not Ready, so its Services send it no traffic",
            "readiness" => "; it keeps dropping out of its Services' endpoints",
            "liveness" =>
                "; the kubelet restarts the container each time the probe fails its threshold",
            _ => "",
        }
    );
    d.remediation = format!(
        "{fix} Probe settings: `kubectl -n {} get {} -o yaml | grep -B2 -A10 Probe`.",
        info.ns,
        info.workload_ref()
    );
    d.evidence.extend(info.event_evidence());
    // What the application logs while failing its probe often says why (a dependency down).
    for c in info.pod.spec.iter().flat_map(|s| s.containers.iter()) {
        let (logs, _, _) = log_evidence(ctx, info, &c.name);
        d.evidence.extend(logs);
    }
    d.score = unhealthy
        .iter()
        .map(|e| e.count.unwrap_or(1).max(1) as u64)
        .sum::<u64>()
        .min(1000);
    Some(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fix_follows_what_the_probe_got() {
        let (cause, fix) = reading(
            "Readiness probe failed: HTTP probe failed with statuscode: 500\nbody: [+]ping ok\n[-]etcd failed: reason withheld",
        );
        assert!(
            cause.contains("HTTP 500") && cause.contains("etcd"),
            "{cause}"
        );
        assert!(fix.contains("port and path are right"), "{fix}");
        let (cause, _) = reading("Liveness probe failed: HTTP probe failed with statuscode: 404");
        assert!(cause.contains("path"), "{cause}");
        let (cause, _) = reading(
            "Readiness probe failed: Get \"http://10.0.0.1:8080/\": dial tcp 10.0.0.1:8080: connect: connection refused",
        );
        assert!(cause.contains("nothing accepts connections"), "{cause}");
    }
}
