//! Controllers: stuck rollouts, unavailable replicas, failed Jobs and failing CronJobs.
//!
//! `ReplicasUnavailable` is only reported when no pod-level finding already explains the
//! workload (pods that cannot even be created, e.g. a quota rejection), so one outage reads as
//! one problem.

use super::evidence;
use super::{Context, Draft};
use crate::findings::{Category, ObjectRef, OwnerRef, Severity};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

pub fn analyze(ctx: &Context, out: &mut Vec<Draft>) {
    let covered = |out: &Vec<Draft>, kind: &str, ns: &str, name: &str| {
        out.iter().any(|d| {
            d.object.namespace.as_deref() == Some(ns)
                && d.owner
                    .as_ref()
                    .is_some_and(|o| o.kind == kind && o.name == name)
        })
    };
    for dep in &ctx.state.deployments {
        let Some(status) = &dep.status else { continue };
        let (ns, name) = ns_name(&dep.metadata);
        let desired = dep.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
        let available = status.available_replicas.unwrap_or(0);
        if let Some(c) = status.conditions.iter().flatten().find(|c| {
            c.type_ == "Progressing"
                && c.status == "False"
                && c.reason.as_deref() == Some("ProgressDeadlineExceeded")
        }) {
            let mut d = draft(
                Severity::Critical,
                Category::RolloutStuck,
                "Deployment",
                ns,
                name,
            );
            d.title = format!("Rollout of deployment {name} is stuck (progress deadline exceeded)");
            let deadline = dep
                .spec
                .as_ref()
                .and_then(|s| s.progress_deadline_seconds)
                .unwrap_or(600);
            d.explanation = format!(
                "Deployment {name}'s new ReplicaSet has not become available within its progress deadline ({deadline}s): {} of {desired} replicas are updated, {available} available. The controller has stopped waiting; the pods of the new revision are failing (see the pod findings of this deployment).",
                status.updated_replicas.unwrap_or(0)
            );
            d.evidence.push(evidence::status(
                format!(
                    "condition Progressing=False reason=ProgressDeadlineExceeded: {}",
                    c.message.as_deref().unwrap_or("")
                ),
                "Deployment",
                ns,
                name,
            ));
            d.evidence.push(replica_line(
                "Deployment",
                ns,
                name,
                desired,
                status.ready_replicas,
                available,
                status.updated_replicas,
            ));
            d.evidence.extend(evidence::events(
                &ctx.state.events_for("Deployment", &dep.metadata),
                false,
                "Deployment",
                ns,
                name,
            ));
            d.remediation = format!(
                "Fix the failing pods of the new revision, or roll back now: `kubectl -n {ns} rollout undo deployment/{name}` (and `kubectl -n {ns} rollout history deployment/{name}` to see revisions)."
            );
            d.score = (desired - available).max(1) as u64;
            out.push(d);
            continue;
        }
        if available < desired && !covered(out, "Deployment", ns, name) {
            out.push(unavailable(
                ctx,
                "Deployment",
                &dep.metadata,
                desired,
                status.ready_replicas,
                available,
                rs_events(ctx, ns, name),
            ));
        }
    }
    for sts in &ctx.state.stateful_sets {
        let Some(status) = &sts.status else { continue };
        let (ns, name) = ns_name(&sts.metadata);
        let desired = sts.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
        let ready = status.ready_replicas.unwrap_or(0);
        if ready < desired && !covered(out, "StatefulSet", ns, name) {
            out.push(unavailable(
                ctx,
                "StatefulSet",
                &sts.metadata,
                desired,
                status.ready_replicas,
                status.available_replicas.unwrap_or(ready),
                Vec::new(),
            ));
        }
    }
    for ds in &ctx.state.daemon_sets {
        let Some(status) = &ds.status else { continue };
        let (ns, name) = ns_name(&ds.metadata);
        let desired = status.desired_number_scheduled;
        let available = status.number_available.unwrap_or(status.number_ready);
        if available < desired && !covered(out, "DaemonSet", ns, name) {
            out.push(unavailable(
                ctx,
                "DaemonSet",
                &ds.metadata,
                desired,
                Some(status.number_ready),
                available,
                Vec::new(),
            ));
        }
    }
    for rc in &ctx.state.replication_controllers {
        let Some(status) = &rc.status else { continue };
        let (ns, name) = ns_name(&rc.metadata);
        let desired = rc.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
        let available = status.available_replicas.unwrap_or(0);
        if available < desired && !covered(out, "ReplicationController", ns, name) {
            out.push(unavailable(
                ctx,
                "ReplicationController",
                &rc.metadata,
                desired,
                status.ready_replicas,
                available,
                Vec::new(),
            ));
        }
    }
    jobs(ctx, out);
}

fn ns_name(meta: &ObjectMeta) -> (&str, &str) {
    (
        meta.namespace.as_deref().unwrap_or("default"),
        meta.name.as_deref().unwrap_or(""),
    )
}

fn draft(severity: Severity, category: Category, kind: &str, ns: &str, name: &str) -> Draft {
    Draft {
        severity,
        category,
        object: ObjectRef::new(kind, Some(ns), name),
        owner: None,
        title: String::new(),
        explanation: String::new(),
        evidence: Vec::new(),
        remediation: String::new(),
        score: 1,
    }
}

fn replica_line(
    kind: &str,
    ns: &str,
    name: &str,
    desired: i32,
    ready: Option<i32>,
    available: i32,
    updated: Option<i32>,
) -> crate::findings::Evidence {
    let mut s = format!("replicas desired={desired} available={available}");
    if let Some(r) = ready {
        s.push_str(&format!(" ready={r}"));
    }
    if let Some(u) = updated {
        s.push_str(&format!(" updated={u}"));
    }
    evidence::status(s, kind, ns, name)
}

/// Events of the ReplicaSets of a Deployment: where quota and admission rejections show up.
fn rs_events(ctx: &Context, ns: &str, deployment: &str) -> Vec<crate::findings::Evidence> {
    let mut out = Vec::new();
    let key = (ns.to_string(), deployment.to_string());
    for &i in ctx.replica_sets_of.get(&key).into_iter().flatten() {
        let rs = &ctx.state.replica_sets[i];
        let rs_name = rs.metadata.name.as_deref().unwrap_or("");
        out.extend(evidence::events(
            &ctx.state.events_for("ReplicaSet", &rs.metadata),
            false,
            "ReplicaSet",
            ns,
            rs_name,
        ));
    }
    // ReplicaSets missing from the dump: their events are still there, by name prefix.
    if out.is_empty() {
        let evs: Vec<_> = ctx
            .rs_events_in
            .get(ns)
            .into_iter()
            .flatten()
            .map(|&i| &ctx.state.events[i])
            .filter(|e| {
                e.involved_object.name.as_deref().is_some_and(|n| {
                    n.strip_prefix(deployment)
                        .is_some_and(|r| r.starts_with('-'))
                })
            })
            .collect();
        out.extend(evidence::events(&evs, false, "ReplicaSet", ns, deployment));
    }
    out
}

fn unavailable(
    ctx: &Context,
    kind: &str,
    meta: &ObjectMeta,
    desired: i32,
    ready: Option<i32>,
    available: i32,
    extra: Vec<crate::findings::Evidence>,
) -> Draft {
    let (ns, name) = ns_name(meta);
    let sev = if available == 0 && desired > 0 {
        Severity::Critical
    } else {
        Severity::Warning
    };
    let mut d = draft(sev, Category::ReplicasUnavailable, kind, ns, name);
    d.title = format!("{kind} {name} has {available} of {desired} replicas available");
    let quota = extra
        .iter()
        .find(|e| e.text.contains("exceeded quota") || e.text.contains("failed quota"))
        .cloned();
    let failed_create = extra.iter().any(|e| e.text.contains("FailedCreate"));
    d.explanation = if let Some(q) = &quota {
        let needs = if q.text.contains("must specify") {
            q.text.split("must specify").nth(1).map(|s| {
                s.trim()
                    .trim_end_matches(|c: char| !c.is_alphanumeric() && c != '.')
                    .to_string()
            })
        } else {
            None
        };
        let full = exhausted_quotas(ctx, ns);
        format!(
            "{kind} {name} cannot create its pods: the namespace's ResourceQuota rejects them{}{}. Pods that are never created leave no pod to diagnose, only this event.",
            needs
                .map(|n| format!(" because the pod spec does not specify {n}"))
                .unwrap_or_default(),
            if full.is_empty() {
                String::new()
            } else {
                format!("; the quota is used up: {}", full.join(", "))
            }
        )
    } else if failed_create {
        // An RBAC denial in the event names the account and the missing permission.
        let said: Vec<String> = extra.iter().map(|e| e.text.clone()).collect();
        match super::text::rbac_denial(&said) {
            Some((cause, _)) => format!(
                "{kind} {name} cannot create its pods: {cause} (see the FailedCreate event)."
            ),
            None => format!(
                "{kind} {name} cannot create its pods: the API server rejects them (see the FailedCreate event)."
            ),
        }
    } else {
        let not_ready: Vec<&str> = ctx
            .state
            .nodes
            .iter()
            .filter(|n| {
                n.status
                    .as_ref()
                    .and_then(|s| s.conditions.as_ref())
                    .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status != "True"))
            })
            .filter_map(|n| n.metadata.name.as_deref())
            .collect();
        if kind == "DaemonSet" && !not_ready.is_empty() {
            format!(
                "DaemonSet {name} runs {available} of {desired} pods: node(s) {} are NotReady, so their daemon pods are not available (see the node finding).",
                not_ready.join(", ")
            )
        } else {
            format!(
                "{kind} {name} wants {desired} replicas but only {available} are available. No failing pod explains it in this state: the pods may be starting, or were not captured."
            )
        }
    };
    d.evidence.push(replica_line(
        kind, ns, name, desired, ready, available, None,
    ));
    d.evidence.extend(evidence::events(
        &ctx.state.events_for(kind, meta),
        false,
        kind,
        ns,
        name,
    ));
    let rbac = super::text::rbac_denial(&extra.iter().map(|e| e.text.clone()).collect::<Vec<_>>());
    d.evidence.extend(extra);
    d.remediation = if let Some((_, fix)) = rbac.filter(|_| quota.is_none()) {
        let mut f = fix;
        if let Some(c) = f.get(..1) {
            f = c.to_uppercase() + &f[1..];
        }
        format!("{f}.")
    } else if quota.is_some() {
        format!(
            "Give every container the requests/limits the quota requires (`kubectl -n {ns} describe resourcequota`), e.g. `kubectl -n {ns} set resources {}/{name} --limits=cpu=100m,memory=128Mi --requests=cpu=50m,memory=64Mi`, or raise the quota.",
            kind.to_ascii_lowercase()
        )
    } else {
        format!(
            "`kubectl -n {ns} describe {}/{name}` and its pods; check events of its ReplicaSet/pods for admission or scheduling errors.",
            kind.to_ascii_lowercase()
        )
    };
    d.score = (desired - available).max(1) as u64;
    d
}

fn job_failed_condition(job: &Job) -> Option<(String, String)> {
    job.status
        .as_ref()?
        .conditions
        .iter()
        .flatten()
        .find_map(|c| {
            (c.type_ == "Failed" && c.status == "True").then(|| {
                (
                    c.reason.clone().unwrap_or_else(|| "Failed".into()),
                    c.message.clone().unwrap_or_default(),
                )
            })
        })
}

fn jobs(ctx: &Context, out: &mut Vec<Draft>) {
    // Standalone Jobs → JobFailed; Jobs of a CronJob → CronJobFailing on the CronJob.
    for job in &ctx.state.jobs {
        let Some((reason, message)) = job_failed_condition(job) else {
            continue;
        };
        let (ns, name) = ns_name(&job.metadata);
        let cron = job
            .metadata
            .owner_references
            .iter()
            .flatten()
            .find(|r| r.kind == "CronJob")
            .map(|r| r.name.clone());
        let status = job.status.as_ref();
        let failed = status.and_then(|s| s.failed).unwrap_or(0);
        let backoff = job.spec.as_ref().and_then(|s| s.backoff_limit).unwrap_or(6);
        let mut d = draft(Severity::Critical, Category::JobFailed, "Job", ns, name);
        d.owner = cron.as_ref().map(|c| OwnerRef {
            kind: "CronJob".into(),
            name: c.clone(),
        });
        if cron.is_some() {
            d.category = Category::CronJobFailing;
            d.severity = Severity::Warning;
        }
        d.title = match &cron {
            Some(c) => format!("CronJob {c}'s job {name} failed ({reason})"),
            None => format!("Job {name} failed ({reason})"),
        };
        // The decisive lines of its failed pods' logs.
        let mut log_lines = Vec::new();
        let mut headline: Option<String> = None;
        let mut log_ev = Vec::new();
        for pod in ctx.state.pods.iter().filter(|p| {
            p.metadata.namespace.as_deref() == Some(ns)
                && p.metadata
                    .owner_references
                    .iter()
                    .flatten()
                    .any(|r| r.kind == "Job" && r.name == name)
        }) {
            let pname = pod.metadata.name.as_deref().unwrap_or("");
            for cs in pod
                .status
                .iter()
                .flat_map(|s| s.container_statuses.iter().flatten())
            {
                let code = cs
                    .state
                    .as_ref()
                    .and_then(|s| s.terminated.as_ref())
                    .map(|t| t.exit_code)
                    .or_else(|| {
                        cs.last_state
                            .as_ref()
                            .and_then(|s| s.terminated.as_ref())
                            .map(|t| t.exit_code)
                    });
                if let Some(code) = code.filter(|c| *c != 0) {
                    if log_ev.is_empty() {
                        log_ev.push(evidence::status(
                            format!(
                                "pod {pname} container {} exitCode={}",
                                cs.name,
                                super::text::code(code)
                            ),
                            "Pod",
                            ns,
                            pname,
                        ));
                    }
                    if let Some(ex) = ctx.state.logs.excerpt(ns, pname, &cs.name, false) {
                        let lines = ex.ranked_lines();
                        if log_lines.is_empty() {
                            log_lines = lines;
                            headline = ex.headline().map(str::to_string);
                            log_ev.extend(evidence::logs(&ex, ns, pname, 5));
                        }
                    }
                }
            }
        }
        let diagnosis = super::text::log_diagnosis(&log_lines);
        let why = match reason.as_str() {
            "BackoffLimitExceeded" => {
                format!("its pods failed {failed} times, reaching the backoffLimit of {backoff}")
            }
            "DeadlineExceeded" => format!(
                "it ran longer than its activeDeadlineSeconds ({}s)",
                job.spec
                    .as_ref()
                    .and_then(|s| s.active_deadline_seconds)
                    .unwrap_or(0)
            ),
            _ => message.clone(),
        };
        d.explanation = format!(
            "Job {name} gave up: {why}.{}",
            match (&diagnosis, &headline) {
                (Some((cause, _)), _) => format!(" The pods' log shows the cause: {cause}."),
                (None, Some(line)) => format!(" The pods' log ends with: \"{line}\"."),
                _ => String::new(),
            }
        );
        d.remediation = match &diagnosis {
            Some((_, fix)) => format!(
                "{fix}; then re-run: `kubectl -n {ns} create job {name}-retry --from={}`.",
                match &cron {
                    Some(c) => format!("cronjob/{c}"),
                    None => format!("job/{name}"),
                }
            ),
            None => format!(
                "Read the failed pods' logs (`kubectl -n {ns} logs job/{name}`), fix the cause, then delete and re-create the Job."
            ),
        };
        d.evidence.push(evidence::status(format!("condition Failed=True reason={reason}: {message}; failed={failed} backoffLimit={backoff}"), "Job", ns, name));
        d.evidence.extend(log_ev);
        d.evidence.extend(evidence::events(
            &ctx.state.events_for("Job", &job.metadata),
            false,
            "Job",
            ns,
            name,
        ));
        d.score = failed.max(1) as u64;
        if let Some(c) = &cron {
            // Report on the CronJob itself: one finding however many runs failed.
            d.object = ObjectRef::new("CronJob", Some(ns), c);
            d.owner = None;
            d.title = format!("CronJob {c} is failing: job {name} failed ({reason})");
            d.explanation = format!("CronJob {c}'s runs fail. {}", d.explanation);
        }
        out.push(d);
    }
}

/// "ResourceQuota compute: requests.cpu 4/4" for every resource of the namespace's quotas
/// whose use has reached its hard limit (from the quotas' own status).
fn exhausted_quotas(ctx: &Context, ns: &str) -> Vec<String> {
    let mut out = Vec::new();
    for q in ctx
        .state
        .resource_quotas
        .iter()
        .filter(|q| q.metadata.namespace.as_deref() == Some(ns))
    {
        let Some(status) = &q.status else { continue };
        let (Some(hard), Some(used)) = (&status.hard, &status.used) else {
            continue;
        };
        for (res, h) in hard {
            let Some(u) = used.get(res) else { continue };
            if let (Some(hv), Some(uv)) = (quantity(&h.0), quantity(&u.0))
                && uv >= hv
            {
                out.push(format!(
                    "ResourceQuota {} {res} {}/{}",
                    q.metadata.name.as_deref().unwrap_or(""),
                    u.0,
                    h.0
                ));
            }
        }
    }
    out
}

/// A Kubernetes quantity ("500m", "4", "1Gi", "2k") in base units.
pub(crate) fn quantity(q: &str) -> Option<f64> {
    let q = q.trim();
    let split = q
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+'))
        .unwrap_or(q.len());
    let (num, suffix) = q.split_at(split);
    let n: f64 = num.parse().ok()?;
    let scale = match suffix {
        "" => 1.0,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "Ki" => 1024.0,
        "Mi" => 1024.0 * 1024.0,
        "Gi" => 1024.0 * 1024.0 * 1024.0,
        "Ti" => 1024.0f64.powi(4),
        _ => return None,
    };
    Some(n * scale)
}

#[cfg(test)]
mod quantity_tests {
    use super::quantity;

    #[test]
    fn quantities() {
        assert_eq!(quantity("500m"), Some(0.5));
        assert_eq!(quantity("4"), Some(4.0));
        assert_eq!(quantity("1Gi"), Some(1073741824.0));
        assert_eq!(quantity("2k"), Some(2000.0));
        assert_eq!(quantity("x"), None);
    }
}
