//! Security and hygiene, once per workload on its controller: Pod Security Standards
//! (baseline and restricted) and best practice (limits, requests, tags, probes). Also the
//! spec-level probe predictions that need no status: a named probe port the container does
//! not define or a command that always fails (a numbered port nobody declares is legal: an
//! info hint). References that name nothing are `references.rs`'s.
//!
//! Severity follows the Pod Security Standards: baseline violations and explicit restricted
//! violations are warnings; implicit restricted gaps and best practice that no standard
//! requires (limits, requests, tags, probes) are info. System namespaces
//! are not nagged.

use super::workload::Workload;
use super::{Context, Draft, evidence};
use crate::findings::{Category, ObjectRef, Severity};
use crate::state::is_system_namespace;
use k8s_openapi::api::core::v1::{Container, Probe};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// Capabilities Pod Security Standards (baseline) allow to be added. Policy drafts use the
/// same list, so a finding and the policy that prevents it agree.
pub const BASELINE_CAPS: [&str; 13] = [
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

pub fn analyze(ctx: &Context, out: &mut Vec<Draft>) {
    // Each workload on its own: checked on all cores, the drafts in the workloads' order.
    out.extend(super::each_on_all_cores(&ctx.workloads, |w, out| {
        if !is_system_namespace(w.ns()) {
            check(ctx, w, out);
        }
    }));
}

struct Out<'a, 'w> {
    w: &'a Workload<'w>,
    out: &'a mut Vec<Draft>,
}

impl Out<'_, '_> {
    fn push(
        &mut self,
        severity: Severity,
        category: Category,
        title: String,
        explanation: String,
        evidence: Vec<String>,
        remediation: String,
    ) {
        let (kind, ns, name) = (self.w.kind, self.w.ns(), self.w.name());
        self.out.push(Draft {
            severity,
            category,
            object: ObjectRef::new(kind, Some(ns), name),
            owner: None,
            title,
            explanation,
            evidence: evidence
                .into_iter()
                .map(|e| evidence::spec(e, kind, ns, name))
                .collect(),
            remediation,
            score: self.w.replicas.unwrap_or(1).max(1) as u64,
        });
    }
}

fn all_containers<'a>(w: &'a Workload) -> impl Iterator<Item = (&'a Container, &'static str)> {
    w.spec
        .init_containers
        .iter()
        .flatten()
        .map(|c| (c, "initContainers"))
        .chain(w.spec.containers.iter().map(|c| (c, "containers")))
}

fn check(ctx: &Context, w: &Workload, out: &mut Vec<Draft>) {
    let kind_l = w.kind.to_ascii_lowercase();
    let (ns, name) = (w.ns().to_string(), w.name().to_string());
    let obj = format!("{kind_l}/{name}");
    let mut o = Out { w, out };
    let pod_sc = w.spec.security_context.as_ref();

    // Privileged.
    let privileged: Vec<&str> = all_containers(w)
        .filter(|(c, _)| c.security_context.as_ref().and_then(|s| s.privileged) == Some(true))
        .map(|(c, _)| c.name.as_str())
        .collect();
    if !privileged.is_empty() {
        o.push(
            Severity::Warning,
            Category::Privileged,
            format!("{} {name} runs privileged containers ({})", w.kind, privileged.join(", ")),
            format!("Container(s) {} of {kind_l} {name} run privileged: they have every capability and full access to the node's devices, so a compromise of the container is a compromise of the node. Pod Security Standards (baseline) forbid it.", privileged.join(", ")),
            privileged.iter().map(|c| format!("container {c}: securityContext.privileged: true")).collect(),
            format!("Remove `privileged: true`; grant only the capabilities the process needs (securityContext.capabilities.add). `kubectl -n {ns} edit {obj}`."),
        );
    }

    // Privilege escalation.
    let explicit: Vec<&str> = all_containers(w)
        .filter(|(c, _)| {
            c.security_context
                .as_ref()
                .and_then(|s| s.allow_privilege_escalation)
                == Some(true)
        })
        .map(|(c, _)| c.name.as_str())
        .collect();
    let unset: Vec<&str> = all_containers(w)
        .filter(|(c, _)| {
            c.security_context
                .as_ref()
                .and_then(|s| s.allow_privilege_escalation)
                .is_none()
                && !privileged.contains(&c.name.as_str())
        })
        .map(|(c, _)| c.name.as_str())
        .collect();
    if !explicit.is_empty() || !unset.is_empty() {
        let (sev, which) = if explicit.is_empty() {
            (Severity::Info, &unset)
        } else {
            (Severity::Warning, &explicit)
        };
        o.push(
            sev,
            Category::PrivilegeEscalation,
            format!("{} {name} allows privilege escalation ({})", w.kind, which.join(", ")),
            format!(
                "Container(s) {} of {kind_l} {name} {}: a setuid binary in the image can gain more privileges than the container started with. Pod Security Standards (restricted) require allowPrivilegeEscalation: false.",
                which.join(", "),
                if explicit.is_empty() { "do not set allowPrivilegeEscalation: false" } else { "set allowPrivilegeEscalation: true" }
            ),
            which.iter().map(|c| format!("container {c}: securityContext.allowPrivilegeEscalation {}", if explicit.is_empty() { "unset (defaults to true)" } else { "true" })).collect(),
            "Set `securityContext.allowPrivilegeEscalation: false` on each container.".into(),
        );
    }

    // Host namespaces.
    let mut host = Vec::new();
    if w.spec.host_network == Some(true) {
        host.push("hostNetwork");
    }
    if w.spec.host_pid == Some(true) {
        host.push("hostPID");
    }
    if w.spec.host_ipc == Some(true) {
        host.push("hostIPC");
    }
    if !host.is_empty() {
        o.push(
            Severity::Warning,
            Category::HostNamespace,
            format!("{} {name} shares the node's namespaces ({})", w.kind, host.join(", ")),
            format!("{kind_l} {name} uses {}: its pods see the node's network stack / processes / IPC and can interfere with everything on the node. Pod Security Standards (baseline) forbid it.", host.join(", ")),
            host.iter().map(|h| format!("spec.{h}: true")).collect(),
            format!("Remove {} unless this is a node agent that truly needs it (then run it in a namespace with a privileged Pod Security level, documented).", host.join("/")),
        );
    }

    // hostPath volumes.
    let paths: Vec<String> = w
        .volumes(ctx.state)
        .iter()
        .filter_map(|v| {
            v.host_path
                .as_ref()
                .map(|h| format!("volume {}: hostPath {h}", v.name))
        })
        .collect();
    if !paths.is_empty() {
        o.push(
            Severity::Warning,
            Category::HostPath,
            format!("{} {name} mounts host paths", w.kind),
            format!("{kind_l} {name} mounts directories of the node ({}): the pod can read or change node files, and its data is tied to one node. Pod Security Standards (baseline) forbid hostPath.", paths.join("; ")),
            paths.clone(),
            "Use a PersistentVolumeClaim, emptyDir, ConfigMap or projected volume instead of hostPath.".into(),
        );
    }

    // Running as root.
    let pod_non_root = pod_sc.and_then(|s| s.run_as_non_root);
    let pod_uid = pod_sc.and_then(|s| s.run_as_user);
    let mut root_explicit = Vec::new();
    let mut root_possible = Vec::new();
    for (c, _) in all_containers(w) {
        let sc = c.security_context.as_ref();
        let uid = sc.and_then(|s| s.run_as_user).or(pod_uid);
        let non_root = sc.and_then(|s| s.run_as_non_root).or(pod_non_root);
        if uid == Some(0) {
            root_explicit.push(c.name.as_str());
        } else if non_root != Some(true) && uid.is_none_or(|u| u == 0) {
            root_possible.push(c.name.as_str());
        }
    }
    if !root_explicit.is_empty() || !root_possible.is_empty() {
        let explicit = !root_explicit.is_empty();
        let which = if explicit {
            &root_explicit
        } else {
            &root_possible
        };
        o.push(
            if explicit { Severity::Warning } else { Severity::Info },
            Category::RunAsRoot,
            format!("{} {name} {} as root ({})", w.kind, if explicit { "runs" } else { "may run" }, which.join(", ")),
            if explicit {
                format!("Container(s) {} of {kind_l} {name} run with runAsUser: 0 (root). A container escape as root is far more dangerous. Pod Security Standards (restricted) require non-root.", which.join(", "))
            } else {
                format!("Container(s) {} of {kind_l} {name} do not set runAsNonRoot: true, so they run as whatever user the image says — often root. Pod Security Standards (restricted) require runAsNonRoot.", which.join(", "))
            },
            which.iter().map(|c| format!("container {c}: {}", if explicit { "runAsUser: 0" } else { "runAsNonRoot unset" })).collect(),
            "Set `securityContext.runAsNonRoot: true` and a non-zero `runAsUser` (pod or container level); make sure the image works as that user.".into(),
        );
    }

    // Capabilities.
    let caps: Vec<String> = all_containers(w)
        .flat_map(|(c, _)| {
            c.security_context
                .as_ref()
                .and_then(|s| s.capabilities.as_ref())
                .and_then(|cap| cap.add.as_ref())
                .into_iter()
                .flatten()
                .filter(|cap| !BASELINE_CAPS.contains(&cap.trim_start_matches("CAP_")))
                .map(move |cap| format!("container {}: capabilities.add {cap}", c.name))
        })
        .collect();
    if !caps.is_empty() {
        o.push(
            Severity::Warning,
            Category::DangerousCapabilities,
            format!("{} {name} adds dangerous capabilities", w.kind),
            format!("{kind_l} {name} adds Linux capabilities beyond the baseline set ({}); SYS_ADMIN, NET_ADMIN, SYS_PTRACE and ALL in particular let a process act on the node. Pod Security Standards (baseline) forbid them.", caps.join("; ")),
            caps.clone(),
            "Drop ALL capabilities and add back only what the process needs from the baseline list (e.g. NET_BIND_SERVICE).".into(),
        );
    }

    // Limits, with the namespace's quota in mind.
    let quota_needs: Vec<String> = ctx
        .state
        .resource_quotas
        .iter()
        .filter(|q| q.metadata.namespace.as_deref() == Some(ns.as_str()))
        .flat_map(|q| {
            q.spec
                .iter()
                .flat_map(|s| s.hard.iter().flatten())
                .map(|(k, _)| k.clone())
        })
        .filter(|k| {
            k.starts_with("limits.") || k.starts_with("requests.") || k == "cpu" || k == "memory"
        })
        .collect();
    let mut no_limits = Vec::new();
    let mut no_requests = Vec::new();
    let mut quota_violations = Vec::new();
    let mut memory_missing = false;
    for (c, _) in all_containers(w) {
        let r = w.resources(ctx.state, c);
        for res in ["cpu", "memory"] {
            if r.request(res).is_none() {
                no_requests.push(format!("container {}: no requests.{res}", c.name));
            }
        }
        for res in ["memory", "cpu"] {
            if r.limit(res).is_none() {
                no_limits.push(format!("container {}: no limits.{res}", c.name));
                memory_missing |= res == "memory";
                if quota_needs.iter().any(|q| q == &format!("limits.{res}")) {
                    quota_violations.push(format!("{} needs limits.{res}", c.name));
                }
            }
        }
    }
    if !no_limits.is_empty() {
        let quota = !quota_violations.is_empty();
        o.push(
            // Not a Pod Security Standard: best practice, so info. A quota that demands limits
            // refuses the pods only when no LimitRange supplies defaults, which the FailedCreate
            // events of its controller show.
            // Manifests: admission refuses such pods unless a LimitRange supplies defaults.
            if quota && (quota_refused(ctx, &ns) || (ctx.state.report.manifests_only && !ctx.state.report.other_kinds.contains_key("LimitRange"))) { Severity::Critical } else if quota && ctx.state.report.manifests_only { Severity::Warning } else { Severity::Info },
            Category::NoResourceLimits,
            if quota {
                format!("{} {name} cannot create pods: the namespace's ResourceQuota requires limits it does not set ({})", w.kind, quota_violations.join(", "))
            } else {
                format!("{} {name} has containers without resource limits", w.kind)
            },
            if quota {
                format!("Namespace {ns} has a ResourceQuota on {}, so every new pod must specify those limits; {kind_l} {name} does not ({}), so the API server rejects its pods and none are created.", quota_needs.join(", "), quota_violations.join(", "))
            } else {
                format!("{kind_l} {name} sets no {} limit on some containers: one runaway process can take the node's memory (the kernel then kills other pods) or starve its neighbours. Limits also make cost predictable.", if memory_missing { "memory" } else { "CPU" })
            },
            no_limits.clone(),
            format!("Set resources.limits from observed usage (`kubectl top pod -n {ns}`), e.g. `kubectl -n {ns} set resources {obj} --limits=memory=256Mi,cpu=500m`."),
        );
    }
    if !no_requests.is_empty() {
        o.push(
            Severity::Info,
            Category::NoResourceRequests,
            format!("{} {name} has containers without resource requests", w.kind),
            format!("Without requests the scheduler places {kind_l} {name}'s pods blind, they are first to be evicted under pressure (BestEffort/Burstable QoS), and HPAs cannot compute utilisation."),
            no_requests,
            format!("Set resources.requests to typical usage: `kubectl -n {ns} set resources {obj} --requests=cpu=100m,memory=128Mi`."),
        );
    }

    // Image tags.
    let latest: Vec<String> = all_containers(w)
        .filter(|(c, _)| {
            let img = c.image.as_deref().unwrap_or("");
            !img.contains('@') && matches!(super::text::tag_of(img), None | Some("latest"))
        })
        .map(|(c, _)| {
            format!(
                "container {}: image {}",
                c.name,
                c.image.as_deref().unwrap_or("")
            )
        })
        .collect();
    if !latest.is_empty() {
        o.push(
            Severity::Info,
            Category::LatestTag,
            format!("{} {name} uses a floating image tag (latest or none)", w.kind),
            format!("{kind_l} {name} runs images without a fixed tag ({}): what runs changes with each pull, rollbacks cannot restore the previous version, and two replicas can run different code.", latest.join("; ")),
            latest.clone(),
            format!("Pin a version tag or digest: `kubectl -n {ns} set image {obj} CONTAINER=REPO:VERSION` (or REPO@sha256:…)."),
        );
    }

    // Probes, and probes aimed at the wrong port.
    if w.long_running() {
        let no_probes: Vec<&str> = w
            .spec
            .containers
            .iter()
            .filter(|c| {
                c.readiness_probe.is_none()
                    && c.liveness_probe.is_none()
                    && c.startup_probe.is_none()
            })
            .map(|c| c.name.as_str())
            .collect();
        if !no_probes.is_empty() {
            o.push(
                Severity::Info,
                Category::NoProbes,
                format!("{} {name} has containers without health probes ({})", w.kind, no_probes.join(", ")),
                format!("Container(s) {} of {kind_l} {name} have no readiness or liveness probe: traffic is sent before they are ready and a hung process is never restarted.", no_probes.join(", ")),
                no_probes.iter().map(|c| format!("container {c}: no readinessProbe, livenessProbe or startupProbe")).collect(),
                "Add a readinessProbe (and a livenessProbe for hang detection) on the port the app serves, e.g. httpGet /healthz.".into(),
            );
        }
        for c in &w.spec.containers {
            for (probe, which) in [
                (&c.liveness_probe, "liveness"),
                (&c.readiness_probe, "readiness"),
                (&c.startup_probe, "startup"),
            ] {
                if let Some(p) = probe
                    && let Some(msg) = probe_port_mismatch(c, p)
                {
                    o.push(
                        if which == "liveness" { Severity::Critical } else { Severity::Warning },
                        Category::ProbeFailure,
                        format!("{} {name}: container {}'s {which} probe targets {msg}", w.kind, c.name),
                        format!(
                            "Container {}'s {which} probe is configured to check {msg} (the port it is listening on), so it will fail: {}.",
                            c.name,
                            if which == "liveness" { "the kubelet keeps restarting the container (CrashLoopBackOff with exit code 137)" } else { "the pod never becomes Ready and gets no traffic" }
                        ),
                        vec![format!("container {}: {which}Probe {msg}", c.name)],
                        format!("Point the {which} probe at the port the container listens on (`kubectl -n {ns} edit {obj}`)."),
                    );
                } else if let Some(p) = probe
                    && let Some(port) = undeclared_port(w, p)
                {
                    // Legal, so never an alarm; but when the probe does fail, this is the
                    // first thing to look at.
                    o.push(
                        Severity::Info,
                        Category::ProbeFailure,
                        format!("{} {name}: container {}'s {which} probe checks port {port}, which no container of the pod declares", w.kind, c.name),
                        format!(
                            "Container {}'s {which} probe checks port {port}; the pod's containers declare {}. Undeclared ports are legal (declaring ports is informational), so this is only a hint: if the probe fails (events `Unhealthy`, {}), check that the process listens on {port}.",
                            c.name,
                            declared_ports(w),
                            if which == "liveness" { "restarts with exit code 137" } else { "the pod not Ready" }
                        ),
                        vec![format!("container {}: {which}Probe port {port}", c.name)],
                        format!("If the probe fails, point it at the port the process listens on (`kubectl -n {ns} edit {obj}`)."),
                    );
                }
            }
        }
    }
}

/// A probe that cannot pass whatever the container does: a named port the container does not
/// define (the kubelet cannot resolve it), or a command that always fails. A numbered port
/// that is not declared is fine: declaring ports is informational, and another container of
/// the pod may serve it.
fn probe_port_mismatch(c: &Container, p: &Probe) -> Option<String> {
    if let Some(cmd) = p.exec.as_ref().and_then(|e| e.command.as_ref()) {
        let joined = cmd.join(" ");
        let last = cmd.last().map(|s| s.trim()).unwrap_or("");
        let always_fails = matches!(last, "false" | "/bin/false" | "exit 1")
            || last.starts_with("exit ") && last[5..].trim().parse::<i32>().is_ok_and(|n| n != 0);
        return always_fails.then(|| format!("a command that always fails (`{joined}`)"));
    }
    let (port, how) = if let Some(h) = &p.http_get {
        (
            &h.port,
            format!("HTTP {}", h.path.as_deref().unwrap_or("/")),
        )
    } else if let Some(t) = &p.tcp_socket {
        (&t.port, "TCP".to_string())
    } else {
        return None;
    };
    match port {
        IntOrString::Int(_) => None,
        IntOrString::String(s) => {
            let defined = c
                .ports
                .iter()
                .flatten()
                .any(|cp| cp.name.as_deref() == Some(s.as_str()));
            (!defined)
                .then(|| format!("{how} on named port {s}, which the container does not define"))
        }
    }
}

/// Whether a controller in the namespace was refused pods by a quota (its FailedCreate events).
fn quota_refused(ctx: &Context, ns: &str) -> bool {
    ctx.state.events.iter().any(|e| {
        e.reason.as_deref() == Some("FailedCreate")
            && e.involved_object.namespace.as_deref() == Some(ns)
            && e.message
                .as_deref()
                .is_some_and(|m| m.contains("exceeded quota") || m.contains("must specify limits"))
    })
}

/// A numbered probe port that no container of the pod declares (when they declare any).
fn undeclared_port(w: &Workload, p: &Probe) -> Option<i32> {
    let port = match (&p.http_get, &p.tcp_socket) {
        (Some(h), _) => &h.port,
        (None, Some(t)) => &t.port,
        _ => return None,
    };
    let IntOrString::Int(n) = port else {
        return None;
    };
    let declared: Vec<i32> = all_containers(w)
        .flat_map(|(c, _)| c.ports.iter().flatten().map(|p| p.container_port))
        .collect();
    (!declared.is_empty() && !declared.contains(n)).then_some(*n)
}

fn declared_ports(w: &Workload) -> String {
    all_containers(w)
        .flat_map(|(c, _)| {
            c.ports
                .iter()
                .flatten()
                .map(|p| p.container_port.to_string())
        })
        .collect::<Vec<_>>()
        .join(", ")
}
