//! Pods: container waiting reasons, crashes (OOMKilled, non-zero exits), probe failures,
//! scheduling and eviction. Init containers are checked like the others.
//!
//! Root cause wins over symptom: a container in CrashLoopBackOff whose last run was OOMKilled
//! is reported as OOMKilled (naming the back-off), not twice.

use super::text;
use super::{Context, Draft};
use super::{evidence, history, pod_start as start, probes};
use crate::findings::{Category, Evidence, ObjectRef, OwnerRef, Severity};
use k8s_openapi::api::core::v1::{Container, ContainerStatus, Event, Pod};

mod exited;
use exited::*;

/// Log lines quoted per container.
const LOG_LINES: usize = 6;

pub fn analyze(ctx: &Context, out: &mut Vec<Draft>) {
    // The pods are independent and the most work of all analyzers (their logs are read here).
    out.extend(super::each_on_all_cores(&ctx.state.pods, |pod, out| {
        analyze_pod(ctx, pod, out)
    }));
}

pub(super) struct PodInfo<'a> {
    pub(super) pod: &'a Pod,
    pub(super) ns: &'a str,
    pub(super) name: &'a str,
    pub(super) owner: Option<OwnerRef>,
    pub(super) events: Vec<&'a Event>,
}

impl PodInfo<'_> {
    pub(super) fn draft(&self, severity: Severity, category: Category, title: String) -> Draft {
        Draft {
            severity,
            category,
            object: ObjectRef::new("Pod", Some(self.ns), self.name),
            owner: self.owner.clone(),
            title,
            explanation: String::new(),
            evidence: Vec::new(),
            remediation: String::new(),
            score: 1,
        }
    }

    pub(super) fn event_evidence(&self) -> Vec<Evidence> {
        evidence::events(&self.events, false, "Pod", self.ns, self.name)
    }

    pub(super) fn owner_phrase(&self) -> String {
        match &self.owner {
            Some(o) => format!("{} {}", o.kind.to_ascii_lowercase(), o.name),
            None => format!("pod {}", self.name),
        }
    }

    pub(super) fn rollout_hint(&self) -> String {
        match &self.owner {
            Some(o) if matches!(o.kind.as_str(), "Deployment" | "StatefulSet" | "DaemonSet") => {
                format!(
                    "kubectl -n {} rollout restart {}/{}",
                    self.ns,
                    o.kind.to_ascii_lowercase(),
                    o.name
                )
            }
            _ => format!(
                "kubectl -n {} delete pod {}   # after fixing its spec",
                self.ns, self.name
            ),
        }
    }

    pub(super) fn workload_ref(&self) -> String {
        match &self.owner {
            Some(o) => format!("{}/{}", o.kind.to_ascii_lowercase(), o.name),
            None => format!("pod/{}", self.name),
        }
    }
}

fn analyze_pod(ctx: &Context, pod: &Pod, out: &mut Vec<Draft>) {
    let Some(status) = &pod.status else { return };
    let ns = pod.metadata.namespace.as_deref().unwrap_or("default");
    let Some(name) = pod.metadata.name.as_deref() else {
        return;
    };
    let info = PodInfo {
        pod,
        ns,
        name,
        owner: ctx.owners.top(&pod.metadata),
        events: ctx.state.events_for("Pod", &pod.metadata),
    };
    let phase = status.phase.as_deref().unwrap_or("");
    if phase == "Succeeded" {
        return;
    }
    if status.reason.as_deref() == Some("Evicted") {
        out.push(start::evicted(&info));
        return;
    }
    if let Some(cond) = status
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == "PodScheduled" && c.status == "False")
    {
        out.push(start::unschedulable(
            ctx,
            &info,
            cond.message
                .as_deref()
                .filter(|m| !m.is_empty())
                .unwrap_or("-"),
        ));
        return;
    }
    // A pod read from a table has no conditions; the scheduler's own event says it could
    // not place the pod (and no later event says it did).
    let unplaced = phase == "Pending"
        && pod.spec.as_ref().is_none_or(|s| s.node_name.is_none())
        && status.conditions.as_ref().is_none_or(|c| c.is_empty());
    let last_scheduling = info
        .events
        .iter()
        .filter(|e| matches!(e.reason.as_deref(), Some("FailedScheduling" | "Scheduled")))
        .max_by_key(|e| crate::state::event_time(e));
    if unplaced && last_scheduling.is_some_and(|e| e.reason.as_deref() == Some("FailedScheduling"))
    {
        out.push(start::unschedulable(ctx, &info, ""));
        return;
    }
    // A failed Job's pods are reported on the Job (with their logs), not one by one.
    let job_owned = pod.metadata.owner_references.iter().flatten().any(|r| {
        r.kind == "Job"
            && ctx.state.jobs.iter().any(|j| {
                j.metadata.name.as_deref() == Some(&r.name)
                    && j.metadata.namespace.as_deref() == Some(ns)
            })
    });
    if job_owned && phase == "Failed" {
        return;
    }

    let spec_containers: Vec<&Container> = pod
        .spec
        .iter()
        .flat_map(|s| {
            s.init_containers
                .iter()
                .flatten()
                .chain(s.containers.iter())
        })
        .collect();
    let mut reported = false;
    let statuses = status
        .init_container_statuses
        .iter()
        .flatten()
        .map(|c| (c, true))
        .chain(
            status
                .container_statuses
                .iter()
                .flatten()
                .map(|c| (c, false)),
        );
    for (cs, init) in statuses {
        let spec = spec_containers.iter().find(|c| c.name == cs.name).copied();
        if let Some(d) = container_issue(ctx, &info, cs, spec, init) {
            out.push(d);
            reported = true;
        }
    }
    if !reported && let Some(d) = probes::probe_failure(ctx, &info) {
        out.push(d);
    }
    if !reported && phase == "Pending" && status.container_statuses.is_none() {
        // Pending with no container statuses and scheduled: volumes not mounting.
        if let Some(d) = start::mount_failure(&info) {
            out.push(d);
        }
    }
}

/// The one issue a container has, if any.
fn container_issue(
    ctx: &Context,
    info: &PodInfo,
    cs: &ContainerStatus,
    spec: Option<&Container>,
    init: bool,
) -> Option<Draft> {
    let kind = if init { "Init container" } else { "Container" };
    let c = &cs.name;
    let waiting = cs.state.as_ref().and_then(|s| s.waiting.as_ref());
    let terminated_now = cs.state.as_ref().and_then(|s| s.terminated.as_ref());
    let last = cs.last_state.as_ref().and_then(|s| s.terminated.as_ref());
    let restarts = cs.restart_count;
    let status_ev = |text: String| evidence::status(text, "Pod", info.ns, info.name);

    if let Some(w) = waiting {
        let reason = w.reason.as_deref().unwrap_or("");
        let message = w.message.clone().unwrap_or_default();
        match reason {
            "CrashLoopBackOff" => return Some(crash_loop(ctx, info, cs, spec, init)),
            "ImagePullBackOff" | "ErrImagePull" | "InvalidImageName" | "ErrImageNeverPull" => {
                // The spec's image is what the kubelet tries to pull.
                let image = spec
                    .and_then(|c| c.image.clone())
                    .unwrap_or_else(|| cs.image.clone());
                return Some(start::image_pull(info, cs, &image, reason, &message, kind));
            }
            "CreateContainerConfigError" => {
                let mut d = info.draft(
                    Severity::Critical,
                    Category::CreateContainerConfigError,
                    format!(
                        "{kind} {c} cannot start: its configuration references something missing"
                    ),
                );
                let all_msgs = format!(
                    "{message}\n{}",
                    info.events
                        .iter()
                        .filter_map(|e| e.message.as_deref())
                        .collect::<Vec<_>>()
                        .join("\n")
                );
                match text::missing_config_ref(&all_msgs) {
                    Some(m) => {
                        let key = m
                            .key
                            .as_ref()
                            .map(|k| format!("key {k} in "))
                            .unwrap_or_default();
                        d.title = format!(
                            "{kind} {c} cannot start: {key}{} {} not found",
                            m.kind, m.name
                        );
                        d.explanation = format!(
                            "The kubelet cannot build container {c}'s environment or volumes because {key}{} \"{}\" does not exist in namespace {}. The container will not start until it does.",
                            m.kind, m.name, info.ns
                        );
                        d.remediation = if m.kind == "Secret" {
                            format!(
                                "Create the Secret (`kubectl -n {} create secret generic {} --from-literal=KEY=VALUE`) or correct the name referenced in the pod spec (env[].valueFrom.secretKeyRef / envFrom / volumes).",
                                info.ns, m.name
                            )
                        } else {
                            format!(
                                "Create the ConfigMap (`kubectl -n {} create configmap {} --from-literal=KEY=VALUE`){} or correct the reference in the pod spec.",
                                info.ns,
                                m.name,
                                m.key
                                    .as_ref()
                                    .map(|k| format!(" with key {k}"))
                                    .unwrap_or_default()
                            )
                        };
                    }
                    None => {
                        d.explanation =
                            format!("The kubelet cannot create container {c}: {message}");
                        d.remediation = "Fix the referenced ConfigMap/Secret/volume named in the message, or the reference itself.".into();
                    }
                }
                d.evidence.push(status_ev(format!(
                    "{c}: waiting reason=CreateContainerConfigError message=\"{message}\""
                )));
                d.evidence.extend(info.event_evidence());
                return Some(d);
            }
            "CreateContainerError" | "RunContainerError" => {
                let category = if reason == "CreateContainerError" {
                    Category::CreateContainerError
                } else {
                    Category::RunContainerError
                };
                let mut d = info.draft(
                    Severity::Critical,
                    category,
                    format!(
                        "{kind} {c} fails to {}: {reason}",
                        if reason == "CreateContainerError" {
                            "be created"
                        } else {
                            "run"
                        }
                    ),
                );
                // The waiting message is often empty: the kubelet's Failed events carry the
                // runtime's words.
                let said: String = std::iter::once(message.to_string())
                    .chain(
                        info.events
                            .iter()
                            .filter(|e| e.reason.as_deref() == Some("Failed"))
                            .filter_map(|e| e.message.clone()),
                    )
                    .collect::<Vec<_>>()
                    .join("\n");
                let m = said.to_ascii_lowercase();
                let missing_command =
                    text::log_diagnosis(&said.lines().map(str::to_string).collect::<Vec<_>>())
                        .filter(|(cause, _)| cause.starts_with("the command `"));
                let cause = if let Some((cause, _)) = &missing_command {
                    cause.as_str()
                } else if m.contains("executable file not found")
                    || m.contains("no such file or directory")
                {
                    "the command in the container spec does not exist in the image"
                } else if m.contains("no command specified") {
                    "the image has no entrypoint and the spec gives no command"
                } else if m.contains("permission denied") {
                    "the runtime was denied access (command not executable, or a mount/securityContext problem)"
                } else if m.contains("already in use")
                    || m.contains("failed to reserve container name")
                {
                    "the runtime is still cleaning up a previous instance (usually transient; a slow or overloaded node)"
                } else {
                    "the container runtime refused the container spec"
                };
                d.explanation = if message.is_empty() {
                    format!("The container runtime cannot start {c}: {cause}.")
                } else {
                    format!(
                        "The container runtime cannot start {c}: {cause}. Runtime: \"{message}\""
                    )
                };
                d.remediation = match &missing_command {
                    Some((_, fix)) => {
                        format!("{}; then `{}`.", capitalise(fix), info.rollout_hint())
                    }
                    None => format!(
                        "Check the container's command/args, image entrypoint, volume mounts and securityContext against the message; `kubectl -n {} describe pod {}`.",
                        info.ns, info.name
                    ),
                };
                d.evidence.push(status_ev(format!(
                    "{c}: waiting reason={reason} message=\"{message}\""
                )));
                d.evidence.extend(info.event_evidence());
                return Some(d);
            }
            _ => {}
        }
    }

    // Terminated now with a failure (restartPolicy Never/OnFailure pods that are done failing).
    if let Some(t) = terminated_now
        && (t.exit_code != 0 || t.reason.as_deref() == Some("OOMKilled"))
    {
        return Some(exited(
            ctx,
            info,
            cs,
            spec,
            init,
            t.exit_code,
            t.reason.as_deref(),
            false,
        ));
    }

    // Running now after earlier failures: current only while it has not settled.
    if let Some(t) = last
        && (t.exit_code != 0 || t.reason.as_deref() == Some("OOMKilled"))
        && restarts > 0
    {
        let key = (info.ns.to_string(), info.name.to_string(), c.clone());
        if cs.ready && ctx.restarted_with_node.contains(&key) {
            return None; // one cause, one finding: the node's
        }
        let finished = t.finished_at.as_ref().map(|f| f.0);
        let recent = finished.is_some_and(|f| ctx.is_recent(f));
        let current = !cs.ready || (recent && !history::settled(ctx, cs));
        if current {
            return Some(exited(
                ctx,
                info,
                cs,
                spec,
                init,
                t.exit_code,
                t.reason.as_deref(),
                true,
            ));
        }
        return Some(past_restarts(ctx, info, cs, init, t));
    }
    None
}

/// A container that failed before and has run cleanly since: history, worded in the past.
fn past_restarts(
    ctx: &Context,
    info: &PodInfo,
    cs: &ContainerStatus,
    init: bool,
    t: &k8s_openapi::api::core::v1::ContainerStateTerminated,
) -> Draft {
    let kind = if init { "Init container" } else { "Container" };
    let c = &cs.name;
    let oom = t.reason.as_deref() == Some("OOMKilled");
    let when = t
        .finished_at
        .as_ref()
        .map(|f| format!("{} before the capture", history::ago(ctx.now, f.0)));
    let since = history::running_since(cs).map(evidence::short_time);
    let mut d = info.draft(
        Severity::Info,
        if oom {
            Category::OOMKilled
        } else {
            Category::ContainerExitError
        },
        format!(
            "{kind} {c} restarted {} (last exit code {}{}); running and Ready now",
            crate::findings::plural(cs.restart_count.max(0) as usize, "time"),
            t.exit_code,
            when.as_ref().map(|w| format!(", {w}")).unwrap_or_default()
        ),
    );
    let (logs, lines, _) = log_evidence(ctx, info, c);
    let cause = text::log_diagnosis(&lines)
        .map(|(cause, _)| format!(" The failed run's log shows the cause then: {cause}."))
        .unwrap_or_default();
    d.explanation = format!(
        "{kind} {c} of {} restarted {}; its last run {}{}. It has been running and Ready since {}, so this is history, not a current failure.{cause}",
        info.owner_phrase(),
        crate::findings::plural(cs.restart_count.max(0) as usize, "time"),
        text::exit_code_meaning(t.exit_code, t.reason.as_deref()),
        when.map(|w| format!(" ({w})")).unwrap_or_default(),
        since.unwrap_or_else(|| "then".to_string()),
    );
    d.remediation = format!(
        "Nothing is failing now. If the restarts were not expected (a deploy, a node restart), read the failed run's log: `kubectl -n {} logs {} -c {c} --previous`.",
        info.ns, info.name
    );
    let mut status = format!(
        "{c}: ready=true lastState.terminated exitCode={} reason={} restartCount={}",
        text::code(t.exit_code),
        t.reason.as_deref().unwrap_or("-"),
        cs.restart_count
    );
    if let Some(f) = &t.finished_at {
        status.push_str(&format!(" finishedAt={}", evidence::short_time(f.0)));
    }
    if let Some(s) = history::running_since(cs) {
        status.push_str(&format!(" running since {}", evidence::short_time(s)));
    }
    d.evidence
        .push(evidence::status(status, "Pod", info.ns, info.name));
    d.evidence.extend(logs);
    d
}

/// The limit of `res` of container `spec` of the pod ([`crate::state::ClusterState::resources_of`]).
fn limit_of(ctx: &Context, info: &PodInfo, spec: Option<&Container>, res: &str) -> Option<String> {
    let r = ctx.state.resources_of("Pod", &info.pod.metadata, spec?);
    r.limit(res).map(str::to_string)
}

/// A container's log as evidence, its decisive lines, and the sentence that quotes its
/// headline.
pub(super) fn log_evidence(
    ctx: &Context,
    info: &PodInfo,
    container: &str,
) -> (Vec<Evidence>, Vec<String>, Option<String>) {
    let ex = ctx
        .state
        .logs
        .excerpt(info.ns, info.name, container, true)
        .or_else(|| ctx.state.logs.excerpt(info.ns, info.name, container, false));
    match ex {
        Some(ex) => {
            let lines = ex.ranked_lines();
            // Only an error line is "decisive"; a plain last line is said as such.
            let headline = ex.headline().map(|h| {
                if ex.headline_is_error() {
                    format!(" The log's decisive line: \"{h}\".")
                } else {
                    format!(" The log shows no error; its last line was: \"{h}\".")
                }
            });
            (
                evidence::logs(&ex, info.ns, info.name, LOG_LINES),
                lines,
                headline,
            )
        }
        None => (Vec::new(), Vec::new(), None),
    }
}

/// Liveness probe failures recorded for a container, if any.
fn liveness_kills(info: &PodInfo, container: &str) -> Option<String> {
    info.events.iter().find_map(|e| {
        let m = e.message.as_deref()?;
        let about = e
            .involved_object
            .field_path
            .as_deref()
            .is_none_or(|f| f.contains(container));
        (about
            && e.reason.as_deref() == Some("Unhealthy")
            && m.starts_with("Liveness probe failed"))
        .then(|| m.to_string())
    })
}

fn crash_loop(
    ctx: &Context,
    info: &PodInfo,
    cs: &ContainerStatus,
    spec: Option<&Container>,
    init: bool,
) -> Draft {
    let last = cs.last_state.as_ref().and_then(|s| s.terminated.as_ref());
    let code = last.map(|t| t.exit_code).unwrap_or(0);
    let reason = last.and_then(|t| t.reason.as_deref());
    if reason == Some("OOMKilled") {
        return exited(ctx, info, cs, spec, init, code, reason, true);
    }
    let kind = if init { "Init container" } else { "Container" };
    let c = &cs.name;
    let mut d = info.draft(
        Severity::Critical,
        Category::CrashLoopBackOff,
        format!(
            "{kind} {c} is in CrashLoopBackOff ({} restarts)",
            cs.restart_count
        ),
    );
    let (logs, lines, headline) = log_evidence(ctx, info, c);
    let meaning = last.map(|t| text::exit_code_meaning(t.exit_code, t.reason.as_deref()));
    let probe = liveness_kills(info, c);
    let diagnosis = text::log_diagnosis(&lines);
    // No log (a process that never started): the runtime's own words, in the last state's
    // message and the kubelet's Failed events, often name the cause.
    let runtime: Vec<String> = last
        .and_then(|t| t.message.clone())
        .into_iter()
        .chain(
            info.events
                .iter()
                .filter(|e| e.reason.as_deref() == Some("Failed"))
                .filter_map(|e| e.message.clone()),
        )
        .collect();
    let (diagnosis, said_by) = match diagnosis {
        Some(d) => (Some(d), "The log shows the cause"),
        None => (
            text::log_diagnosis(&runtime),
            "The container runtime says why",
        ),
    };
    let mut why = format!(
        "{kind} {c} of {} keeps crashing and Kubernetes is backing off before each restart ({} restarts so far).",
        info.owner_phrase(),
        cs.restart_count
    );
    if let Some(m) = &meaning {
        why.push_str(&format!(" Its last run {m}."));
    }
    if init {
        why.push_str(" As an init container it blocks the pod's main containers from starting.");
    }
    if let Some(p) = &probe {
        why.push_str(&format!(
            " The kubelet killed it because its liveness probe fails (\"{p}\"): the probe, not the application, may be what is wrong."
        ));
    }
    match &diagnosis {
        Some((cause, _)) => {
            why.push_str(&format!(" {said_by}: {cause}."));
            why.push_str(&dns_hint(ctx, info.ns, &lines));
        }
        None => {
            if let Some(quote) = &headline {
                why.push_str(quote);
            } else if logs.is_empty() {
                why.push_str(" No log was captured for it.");
            }
        }
    }
    d.explanation = why;
    d.remediation = match (&diagnosis, &probe) {
        (_, Some(_)) => format!(
            "Check the liveness probe's port, path and timing against what the container serves (`kubectl -n {} get {} -o yaml | grep -A8 livenessProbe`); give slow starters a startupProbe. Then `{}`.",
            info.ns,
            info.workload_ref(),
            info.rollout_hint()
        ),
        (Some((_, fix)), None) => format!("{}; then `{}`.", capitalise(fix), info.rollout_hint()),
        (None, None) => format!(
            "Read the crashed instance's log (`kubectl -n {} logs {} -c {c} --previous`), fix the cause, then `{}`.",
            info.ns,
            info.name,
            info.rollout_hint()
        ),
    };
    let mut status = format!(
        "{c}: waiting reason=CrashLoopBackOff restartCount={}",
        cs.restart_count
    );
    if let Some(t) = last {
        status.push_str(&format!(
            "; lastState.terminated exitCode={} reason={}",
            text::code(t.exit_code),
            t.reason.as_deref().unwrap_or("-")
        ));
        if let Some(f) = &t.finished_at {
            status.push_str(&format!(" finishedAt={}", evidence::short_time(f.0)));
        }
    }
    d.evidence
        .push(evidence::status(status, "Pod", info.ns, info.name));
    d.evidence.extend(logs);
    d.evidence.extend(info.event_evidence());
    d.score = 1 + cs.restart_count.max(0) as u64;
    let _ = code;
    d
}
fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// When a log cannot resolve a cluster-internal name: whether a Service of that name exists,
/// and the closest one that does ("memcom" → did you mean "memcache"?).
fn dns_hint(ctx: &Context, ns: &str, lines: &[String]) -> String {
    let Some(host) = text::unresolved_host(lines) else {
        return String::new();
    };
    let labels: Vec<&str> = host.split('.').collect();
    let namespaces = ctx.state.namespace_names();
    // `svc`, `svc.ns`, `svc.ns.svc[.cluster.local]`; anything else is an outside name.
    let target_ns = match labels.as_slice() {
        [_] => ns.to_string(),
        [_, n, rest @ ..]
            if namespaces.contains(*n) && (rest.is_empty() || rest.first() == Some(&"svc")) =>
        {
            n.to_string()
        }
        _ => return String::new(),
    };
    let name = labels[0];
    let services: Vec<&str> = ctx
        .state
        .services
        .iter()
        .filter(|s| s.metadata.namespace.as_deref() == Some(target_ns.as_str()))
        .filter_map(|s| s.metadata.name.as_deref())
        .collect();
    if services.is_empty() || services.contains(&name) {
        return String::new();
    }
    match text::closest(name, services.iter().copied()) {
        Some(c) => {
            format!(" No Service `{name}` exists in namespace {target_ns}: did you mean `{c}`?")
        }
        None => format!(" No Service `{name}` exists in namespace {target_ns}."),
    }
}
