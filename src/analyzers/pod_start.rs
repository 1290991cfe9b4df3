//! What keeps a pod from starting or staying: eviction, scheduling, image pulls, volumes
//! that cannot mount. Each reads the pod's status and the kubelet's and scheduler's events.

use super::Draft;
use super::evidence;
use super::pods::PodInfo;
use super::text::{self, PullProblem};
use crate::findings::{Category, Severity};
use k8s_openapi::api::core::v1::{ContainerStatus, Event};

pub(super) fn evicted(info: &PodInfo) -> Draft {
    let status = info.pod.status.as_ref();
    let msg = status.and_then(|s| s.message.clone()).unwrap_or_default();
    let mut d = info.draft(
        Severity::Warning,
        Category::Evicted,
        format!("Pod {} was evicted", info.name),
    );
    let resource = ["memory", "ephemeral-storage", "disk", "pid"]
        .into_iter()
        .find(|r| msg.to_ascii_lowercase().contains(r));
    d.explanation = match resource {
        Some(r) => format!(
            "The kubelet evicted pod {} because its node ran low on {r}: {msg}",
            info.name
        ),
        None => format!("The kubelet evicted pod {}: {msg}", info.name),
    };
    d.evidence.push(evidence::status(
        format!("status.phase=Failed reason=Evicted message=\"{msg}\""),
        "Pod",
        info.ns,
        info.name,
    ));
    d.evidence.extend(info.event_evidence());
    d.remediation = format!(
        "Set requests close to real usage (memory and ephemeral-storage) so the scheduler places pods where they fit; check the node's pressure conditions (`kubectl describe node`). Evicted pods stay as records: `kubectl -n {} delete pod {}` once understood.",
        info.ns, info.name
    );
    d
}

pub(super) fn unschedulable(ctx: &super::Context, info: &PodInfo, message: &str) -> Draft {
    let failed: Vec<&&Event> = info
        .events
        .iter()
        .filter(|e| e.reason.as_deref() == Some("FailedScheduling"))
        .collect();
    let msg = failed
        .last()
        .and_then(|e| e.message.as_deref())
        .filter(|m| !m.is_empty())
        .unwrap_or(message);
    let mut d = info.draft(
        Severity::Critical,
        Category::Unschedulable,
        format!("Pod {} cannot be scheduled", info.name),
    );
    let reasons = text::scheduler_reasons(msg);
    let spec = info.pod.spec.as_ref();
    let mut details = Vec::new();
    if let Some(sel) = spec
        .and_then(|s| s.node_selector.as_ref())
        .filter(|s| !s.is_empty())
    {
        let sel: Vec<String> = sel.iter().map(|(k, v)| format!("{k}={v}")).collect();
        details.push(format!("its nodeSelector is {}", sel.join(",")));
    }
    for c in spec.iter().flat_map(|s| s.containers.iter()) {
        let r = ctx.state.resources_of("Pod", &info.pod.metadata, c);
        for (res, q) in r.requests.iter().chain(&r.limits) {
            if reasons.iter().any(|r| r.ends_with(res.as_str())) {
                details.push(format!("container {} asks for {res}={q}", c.name));
            }
        }
    }
    details.dedup();
    d.explanation = format!(
        "The scheduler cannot place pod {}: {}.{} Scheduler: \"{msg}\"",
        info.name,
        if reasons.is_empty() {
            "no node satisfies its constraints".to_string()
        } else {
            reasons.join("; ")
        },
        if details.is_empty() {
            String::new()
        } else {
            format!(" ({})", details.join("; "))
        },
    );
    // The condition is quoted only when the pod's status has it (a pod read from a table is
    // known unschedulable by the scheduler's event alone).
    if !message.is_empty() {
        d.evidence.push(evidence::status(
            format!("condition PodScheduled=False reason=Unschedulable: {message}"),
            "Pod",
            info.ns,
            info.name,
        ));
    }
    d.evidence.extend(info.event_evidence());
    d.remediation = if reasons.iter().any(|r| r.contains("nodeSelector")) {
        "Fix the nodeSelector/affinity to match labels that nodes have (`kubectl get nodes --show-labels`), or label a node to match.".into()
    } else if reasons.iter().any(|r| r.starts_with("no node has enough")) {
        "Lower the requests to what the pod needs, free capacity, or add nodes that provide the resource (`kubectl describe nodes | grep -A8 Allocated`).".into()
    } else if reasons.iter().any(|r| r.contains("taints")) {
        "Add a toleration for the nodes' taints if the pod belongs there, or remove the taint (`kubectl describe node | grep Taints`).".into()
    } else if reasons.iter().any(|r| r.contains("PersistentVolumeClaim")) {
        "Fix the PersistentVolumeClaim first (see its finding): the pod waits for the claim to bind.".into()
    } else {
        "Read the scheduler's message above; adjust requests, selectors, affinity or tolerations, or add capacity.".into()
    };
    d.score = 1 + failed
        .iter()
        .map(|e| e.count.unwrap_or(1).max(1) as u64)
        .sum::<u64>()
        .min(1000)
        / 10;
    d
}

pub(super) fn image_pull(
    info: &PodInfo,
    cs: &ContainerStatus,
    image: &str,
    reason: &str,
    message: &str,
    kind: &str,
) -> Draft {
    let c = &cs.name;
    let event_msgs: Vec<&str> = info
        .events
        .iter()
        .filter(|e| {
            matches!(
                e.reason.as_deref(),
                Some("Failed") | Some("InspectFailed") | Some("ErrImageNeverPull")
            )
        })
        .filter_map(|e| e.message.as_deref())
        .collect();
    let all = format!("{reason} {message} {}", event_msgs.join(" "));
    let problem = if reason == "InvalidImageName" {
        PullProblem::InvalidName
    } else {
        text::classify_pull(&all)
    };
    let registry = text::registry_of(image);
    let tag = text::tag_of(image).unwrap_or("latest");
    let mut d = info.draft(
        Severity::Critical,
        Category::ImagePullBackOff,
        format!("{kind} {c} cannot pull image {image}"),
    );
    let (cause, fix) = match problem {
        PullProblem::NotFound => (
            format!("the image {image} does not exist: tag `{tag}` or the repository is not in {registry} (a typo, or a tag that was never pushed)"),
            format!("Point the container at a tag that exists (`kubectl -n {} set image {} {c}=REPO:TAG`), or push the missing tag.", info.ns, info.workload_ref()),
        ),
        PullProblem::Unauthorized => (
            format!("{registry} refused the pull: the image is private and the pod has no valid credentials for it"),
            format!("Add an imagePullSecret for {registry} to the pod spec or its ServiceAccount (`kubectl -n {} create secret docker-registry …` then reference it), or check the credentials have read access.", info.ns),
        ),
        PullProblem::Unreachable => (
            format!("the node cannot reach the registry {registry} (DNS, network egress or proxy)"),
            format!("Check the registry host name and the nodes' egress to {registry}; mirror the image to a registry the cluster can reach."),
        ),
        PullProblem::InvalidName => (
            format!("the image reference `{image}` is not a valid name"),
            "Fix the image reference (lower-case repository, one tag, no spaces or stray characters).".into(),
        ),
        PullProblem::RateLimited => (
            format!("{registry} is rate-limiting pulls"),
            format!("Authenticate pulls to {registry} or mirror the image to a private registry."),
        ),
        PullProblem::Unknown => (
            format!("the kubelet cannot pull {image}"),
            "Read the pull error in the events below and check the image name, tag and registry credentials.".into(),
        ),
    };
    d.explanation = format!(
        "{kind} {c} of {} cannot start because {cause}. Kubernetes retries with growing back-off ({reason}).",
        info.owner_phrase()
    );
    d.remediation = fix;
    d.evidence.push(evidence::status(
        format!(
            "{c}: waiting reason={reason} image={image}{}",
            if message.is_empty() {
                String::new()
            } else {
                format!(" message=\"{message}\"")
            }
        ),
        "Pod",
        info.ns,
        info.name,
    ));
    d.evidence.extend(info.event_evidence());
    d
}

/// A pod Pending because a volume cannot mount (a missing Secret/ConfigMap volume, an
/// unattachable disk).
pub(super) fn mount_failure(info: &PodInfo) -> Option<Draft> {
    let ev = info.events.iter().rev().find(|e| {
        matches!(
            e.reason.as_deref(),
            Some("FailedMount") | Some("FailedAttachVolume")
        )
    })?;
    let msg = ev.message.clone().unwrap_or_default();
    let missing = text::missing_config_ref(&msg)?;
    let mut d = info.draft(
        Severity::Critical,
        Category::CreateContainerConfigError,
        format!(
            "Pod {} cannot mount {} {}: not found",
            info.name, missing.kind, missing.name
        ),
    );
    d.explanation = format!(
        "Pod {} stays Pending because a volume refers to {} \"{}\", which does not exist in namespace {}.",
        info.name, missing.kind, missing.name, info.ns
    );
    d.remediation = format!(
        "Create {} {} in namespace {} or fix the volume's reference (mark it `optional: true` only if the app copes without it).",
        missing.kind, missing.name, info.ns
    );
    d.evidence.extend(info.event_evidence());
    Some(d)
}
