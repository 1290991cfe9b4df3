//! The finding for a container that exited with a failure — now, or as the last state of one
//! that crash-loops or was restarted: OOM against its memory limit, a signal, a config error
//! read from the exit code and the last log lines that say why.

use super::*;

#[allow(clippy::too_many_arguments)]
pub(super) fn exited(
    ctx: &Context,
    info: &PodInfo,
    cs: &ContainerStatus,
    spec: Option<&Container>,
    init: bool,
    code: i32,
    reason: Option<&str>,
    from_last_state: bool,
) -> Draft {
    let kind = if init { "Init container" } else { "Container" };
    let c = &cs.name;
    let looping = cs
        .state
        .as_ref()
        .and_then(|s| s.waiting.as_ref())
        .and_then(|w| w.reason.as_deref())
        == Some("CrashLoopBackOff");
    let running = cs.state.as_ref().is_some_and(|s| s.running.is_some());
    let (logs, lines, headline) = log_evidence(ctx, info, c);
    let oom = reason == Some("OOMKilled");
    let mut d = if oom {
        let limit = limit_of(ctx, info, spec, "memory");
        let mut d = info.draft(
            if looping || !running {
                Severity::Critical
            } else {
                Severity::Warning
            },
            Category::OOMKilled,
            format!(
                "{kind} {c} was OOMKilled{}{}",
                limit
                    .as_ref()
                    .map(|l| format!(" (memory limit {l})"))
                    .unwrap_or_default(),
                if looping {
                    " and is in CrashLoopBackOff"
                } else {
                    ""
                }
            ),
        );
        d.explanation = format!(
            "{kind} {c} of {} used more memory than its limit{} and the kernel killed it (exit code {code}, OOMKilled){}. It has restarted {} times.",
            info.owner_phrase(),
            limit
                .as_ref()
                .map(|l| format!(" of {l}"))
                .unwrap_or_else(|| " (no limit is set, so the node ran out of memory)".into()),
            if looping {
                ", so it restarts in a loop with back-off"
            } else if running {
                "; it is running again now"
            } else {
                ""
            },
            cs.restart_count,
        );
        let suggestion = limit.as_deref().and_then(text::double_quantity);
        d.remediation = match (&info.owner, suggestion) {
            (Some(o), Some(s)) if matches!(o.kind.as_str(), "Deployment" | "StatefulSet" | "DaemonSet") => format!(
                "Raise the memory limit above the real peak, or fix the leak if usage grows without bound: `kubectl -n {} set resources {}/{} -c {c} --limits=memory={s}` (a suggestion: size it from observed usage, `kubectl top pod`).",
                info.ns, o.kind.to_ascii_lowercase(), o.name
            ),
            _ => "Raise the container's memory limit above its real peak (see `kubectl top pod`) or reduce the memory the process uses; set requests equal to the limit for predictable scheduling.".into(),
        };
        d
    } else {
        let mut d = info.draft(
            if running {
                Severity::Warning
            } else {
                Severity::Critical
            },
            Category::ContainerExitError,
            format!(
                "{kind} {c} {}{}",
                if code == text::UNKNOWN_EXIT {
                    "ended with an error".to_string()
                } else {
                    format!("exited with code {code}")
                },
                if from_last_state {
                    format!(" ({} restarts)", cs.restart_count)
                } else {
                    String::new()
                }
            ),
        );
        let meaning = text::exit_code_meaning(code, reason);
        let diagnosis = text::log_diagnosis(&lines);
        let mut why = format!("{kind} {c} of {} {meaning}", info.owner_phrase());
        if from_last_state {
            why.push_str(&format!(
                "; it has restarted {} times and is {} now",
                cs.restart_count,
                if running { "running" } else { "not running" }
            ));
        }
        why.push('.');
        match &diagnosis {
            Some((cause, _)) => {
                why.push_str(&format!(" The log shows the cause: {cause}."));
                why.push_str(&dns_hint(ctx, info.ns, &lines));
            }
            None => {
                if let Some(quote) = &headline {
                    why.push_str(quote);
                }
            }
        }
        d.explanation = why;
        d.remediation = match diagnosis {
            Some((_, fix)) => format!("{}.", capitalise(&fix)),
            None => format!(
                "Read the log of the failed run (`kubectl -n {} logs {} -c {c}{}`) and fix what it reports.",
                info.ns,
                info.name,
                if from_last_state { " --previous" } else { "" }
            ),
        };
        d
    };
    let t = if from_last_state {
        cs.last_state.as_ref().and_then(|s| s.terminated.as_ref())
    } else {
        cs.state.as_ref().and_then(|s| s.terminated.as_ref())
    };
    let mut status = format!(
        "{c}: {} exitCode={} reason={} restartCount={}",
        if from_last_state {
            "lastState.terminated"
        } else {
            "state.terminated"
        },
        text::code(code),
        reason.unwrap_or("-"),
        cs.restart_count
    );
    if let Some(f) = t.and_then(|t| t.finished_at.as_ref()) {
        status.push_str(&format!(" finishedAt={}", evidence::short_time(f.0)));
    }
    if let Some(l) = limit_of(ctx, info, spec, "memory") {
        status.push_str(&format!(" (limits.memory={l})"));
    }
    d.evidence
        .push(evidence::status(status, "Pod", info.ns, info.name));
    d.evidence.extend(logs);
    d.evidence.extend(info.event_evidence());
    d.score = 1 + cs.restart_count.max(0) as u64;
    d
}
