//! What Sextant can draft: one rule per finding category where a policy would have
//! prevented the problem, each written once in CEL (Kyverno `validate.cel` and
//! ValidatingAdmissionPolicy share it) and once in Rego (Gatekeeper), with the minimal fix
//! that satisfies it.
//!
//! Both languages see the pod spec whatever the workload kind: CEL through
//! `variables.spec` / `variables.containers` (bound by [`CEL_VARIABLES`]), Rego through
//! `pod_spec` / `containers` (the [`REGO_PRELUDE`]), as the upstream libraries do.

use crate::findings::Category;
use crate::jsonptr::Pointer as _;
use serde_json::{Value, json};
use std::collections::HashMap;

/// CEL variables every draft binds, in order.
pub const CEL_VARIABLES: [(&str, &str); 2] = [
    (
        "spec",
        "object.kind == 'Pod' ? object.spec : (object.kind == 'CronJob' ? object.spec.jobTemplate.spec.template.spec : object.spec.template.spec)",
    ),
    (
        "containers",
        "variables.spec.containers + (has(variables.spec.initContainers) ? variables.spec.initContainers : []) + (has(variables.spec.ephemeralContainers) ? variables.spec.ephemeralContainers : [])",
    ),
];

/// Rego helpers every Gatekeeper draft starts with (Rego v0, Gatekeeper's default); the
/// draft defines `exempt_image` beside them (the constraint's `exemptImages`).
pub const REGO_PRELUDE: &str = r#"pod_spec := input.review.object.spec {
  input.review.object.kind == "Pod"
}

pod_spec := input.review.object.spec.jobTemplate.spec.template.spec {
  input.review.object.kind == "CronJob"
}

pod_spec := input.review.object.spec.template.spec {
  input.review.object.kind != "Pod"
  input.review.object.kind != "CronJob"
}

containers[c] {
  c := pod_spec.containers[_]
  not exempt_image(c.image)
}

containers[c] {
  c := pod_spec.initContainers[_]
  not exempt_image(c.image)
}

containers[c] {
  c := pod_spec.ephemeralContainers[_]
  not exempt_image(c.image)
}
"#;

/// What a fix may use besides the object: digests of running images, for pinning tags; the
/// registries the cluster's healthy workloads pull from, for the allowed-registries rule.
#[derive(Debug, Clone, Default)]
pub struct FixContext {
    /// image as written → `repo@sha256:…` actually running.
    pub digests: HashMap<String, String>,
    /// Image prefixes to trust (`registry.example.com/`), sorted.
    pub registries: Vec<String>,
}

/// The registry prefix of an image, as the allowed-registries rule matches it:
/// `registry.example.com/shop/cart:1` → `registry.example.com/`; a Docker Hub short name
/// (`nginx:1.25`, `bitnami/redis`) → `docker.io/`.
pub fn registry_of(image: &str) -> String {
    match image.split_once('/') {
        Some((first, _)) if first.contains('.') || first.contains(':') || first == "localhost" => {
            format!("{first}/")
        }
        _ => "docker.io/".to_string(),
    }
}

/// An image reference as the runtime pulls it: a Docker Hub short name gets its registry and,
/// for an official image, `library/` (`nginx:1.25` → `docker.io/library/nginx:1.25`,
/// `bitnami/redis` → `docker.io/bitnami/redis`); anything with a registry host is itself.
pub fn normalize_image(image: &str) -> String {
    match image.split_once('/') {
        Some((first, _)) if first.contains('.') || first.contains(':') || first == "localhost" => {
            image.to_string()
        }
        Some(_) => format!("docker.io/{image}"),
        None => format!("docker.io/library/{image}"),
    }
}

/// Whether `image` comes from one of `registries` as the drafted rule decides it: its
/// normalized reference ([`normalize_image`]) starts with a trusted prefix.
pub fn is_trusted(image: &str, registries: &[String]) -> bool {
    let image = normalize_image(image);
    registries.iter().any(|r| image.starts_with(r.as_str()))
}

/// A policy rule Sextant drafts.
pub struct Rule {
    pub category: Category,
    /// Policy name stem: `sextant-disallow-privileged`.
    pub slug: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    /// Kyverno's severity vocabulary: high, medium, low.
    pub severity: &'static str,
    /// Workload kinds the rule governs (pod templates included).
    pub kinds: &'static [&'static str],
    /// The CEL condition (true = admitted) over `variables.spec` and `variables.containers`.
    pub cel: &'static str,
    /// A CEL `messageExpression` naming the offenders.
    pub cel_message: &'static str,
    /// Gatekeeper `deny` rules (and helpers) after [`REGO_PRELUDE`]; the draft's `violation`
    /// is every `deny` outside its exemptions.
    pub rego: &'static str,
    /// The minimal change to a pod spec that satisfies the rule; returns what was changed.
    pub fix: fn(&mut Value, &FixContext) -> Vec<String>,
    /// The rule takes the trusted registries as a parameter: CEL `variables.allowed`, Rego
    /// `input.parameters.repos` (a Gatekeeper constraint parameter, as the upstream
    /// `k8sallowedrepos` does).
    pub registries: bool,
}

pub const ALL_WORKLOADS: &[&str] = &[
    "Pod",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "Job",
    "CronJob",
];
/// Long-running workloads: controllers that keep pods up, and bare Pods (a Pod a Job
/// created is exempt in the rule itself).
const LONG_RUNNING: &[&str] = &["Pod", "Deployment", "StatefulSet", "DaemonSet"];

pub use crate::analyzers::BASELINE_CAPS;

/// The rules, one per category.
pub fn rules() -> &'static [Rule] {
    &RULES
}

/// The rule for a category, if a policy helps with it.
pub fn rule_for(c: Category) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.category == c)
}

static RULES: [Rule; 11] = [
    Rule {
        category: Category::Privileged,
        slug: "disallow-privileged",
        title: "Disallow privileged containers",
        description: "Privileged containers have every capability and the node's devices: a compromise of the container is a compromise of the node. Pod Security Standards (baseline).",
        severity: "high",
        kinds: ALL_WORKLOADS,
        cel: "variables.containers.all(c, !has(c.securityContext) || !has(c.securityContext.privileged) || c.securityContext.privileged == false)",
        cel_message: "'privileged containers are not allowed: ' + variables.containers.filter(c, has(c.securityContext) && has(c.securityContext.privileged) && c.securityContext.privileged == true).map(c, c.name).join(', ')",
        rego: r#"deny[{"msg": msg}] {
  c := containers[_]
  c.securityContext.privileged == true
  msg := sprintf("privileged containers are not allowed: %v", [c.name])
}
"#,
        fix: fix_privileged,
        registries: false,
    },
    Rule {
        category: Category::PrivilegeEscalation,
        slug: "disallow-privilege-escalation",
        title: "Disallow privilege escalation",
        description: "A setuid binary can give a process more privileges than its container started with. Pod Security Standards (restricted) require allowPrivilegeEscalation: false on every container.",
        severity: "medium",
        kinds: ALL_WORKLOADS,
        cel: "variables.containers.all(c, has(c.securityContext) && has(c.securityContext.allowPrivilegeEscalation) && c.securityContext.allowPrivilegeEscalation == false)",
        cel_message: "'allowPrivilegeEscalation must be false: ' + variables.containers.filter(c, !(has(c.securityContext) && has(c.securityContext.allowPrivilegeEscalation) && c.securityContext.allowPrivilegeEscalation == false)).map(c, c.name).join(', ')",
        rego: r#"deny[{"msg": msg}] {
  c := containers[_]
  not c.securityContext.allowPrivilegeEscalation == false
  msg := sprintf("allowPrivilegeEscalation must be false: %v", [c.name])
}
"#,
        fix: fix_escalation,
        registries: false,
    },
    Rule {
        category: Category::HostNamespace,
        slug: "disallow-host-namespaces",
        title: "Disallow host namespaces",
        description: "hostNetwork, hostPID and hostIPC let a pod see and interfere with everything on its node. Pod Security Standards (baseline).",
        severity: "high",
        kinds: ALL_WORKLOADS,
        cel: "!(has(variables.spec.hostNetwork) && variables.spec.hostNetwork == true) && !(has(variables.spec.hostPID) && variables.spec.hostPID == true) && !(has(variables.spec.hostIPC) && variables.spec.hostIPC == true)",
        cel_message: "'host namespaces are not allowed: ' + ['hostNetwork', 'hostPID', 'hostIPC'].filter(f, f in variables.spec && variables.spec[f] == true).join(', ')",
        rego: r#"deny[{"msg": msg}] {
  f := ["hostNetwork", "hostPID", "hostIPC"][_]
  pod_spec[f] == true
  msg := sprintf("host namespaces are not allowed: %v", [f])
}
"#,
        fix: fix_host_namespaces,
        registries: false,
    },
    Rule {
        category: Category::HostPath,
        slug: "disallow-host-path",
        title: "Disallow hostPath volumes",
        description: "hostPath volumes give a pod the node's files and tie its data to one node. Pod Security Standards (baseline).",
        severity: "medium",
        kinds: ALL_WORKLOADS,
        cel: "!has(variables.spec.volumes) || variables.spec.volumes.all(v, !has(v.hostPath))",
        cel_message: "'hostPath volumes are not allowed: ' + variables.spec.volumes.filter(v, has(v.hostPath)).map(v, v.name).join(', ')",
        rego: r#"deny[{"msg": msg}] {
  v := pod_spec.volumes[_]
  v.hostPath
  msg := sprintf("hostPath volumes are not allowed: %v", [v.name])
}
"#,
        fix: fix_host_path,
        registries: false,
    },
    Rule {
        category: Category::RunAsRoot,
        slug: "require-run-as-non-root",
        title: "Require running as non-root",
        description: "A container escape as root is far more dangerous. Pod Security Standards (restricted) require runAsNonRoot: true (pod or container level) and no runAsUser: 0.",
        severity: "medium",
        kinds: ALL_WORKLOADS,
        cel: "variables.containers.all(c, (has(c.securityContext) && has(c.securityContext.runAsNonRoot)) ? c.securityContext.runAsNonRoot == true : (has(variables.spec.securityContext) && has(variables.spec.securityContext.runAsNonRoot) && variables.spec.securityContext.runAsNonRoot == true)) && variables.containers.all(c, !(has(c.securityContext) && has(c.securityContext.runAsUser) && c.securityContext.runAsUser == 0)) && !(has(variables.spec.securityContext) && has(variables.spec.securityContext.runAsUser) && variables.spec.securityContext.runAsUser == 0)",
        cel_message: "'containers must run as non-root (runAsNonRoot: true, runAsUser not 0): ' + variables.containers.map(c, c.name).join(', ')",
        rego: r#"deny[{"msg": msg}] {
  c := containers[_]
  not non_root(c)
  msg := sprintf("container must set runAsNonRoot: true (pod or container level): %v", [c.name])
}

deny[{"msg": msg}] {
  c := containers[_]
  c.securityContext.runAsUser == 0
  msg := sprintf("container must not run as user 0: %v", [c.name])
}

deny[{"msg": msg}] {
  pod_spec.securityContext.runAsUser == 0
  msg := "pod must not run as user 0"
}

non_root(c) {
  c.securityContext.runAsNonRoot == true
}

non_root(c) {
  not c.securityContext.runAsNonRoot == false
  pod_spec.securityContext.runAsNonRoot == true
}
"#,
        fix: fix_run_as_root,
        registries: false,
    },
    Rule {
        category: Category::DangerousCapabilities,
        slug: "restrict-capabilities",
        title: "Restrict added capabilities to the baseline set",
        description: "Capabilities beyond the baseline set (SYS_ADMIN, NET_ADMIN, SYS_PTRACE, ALL…) let a process act on the node. Pod Security Standards (baseline).",
        severity: "high",
        kinds: ALL_WORKLOADS,
        cel: "variables.containers.all(c, !has(c.securityContext) || !has(c.securityContext.capabilities) || !has(c.securityContext.capabilities.add) || c.securityContext.capabilities.add.all(cap, cap in ['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT']))",
        cel_message: "'only baseline capabilities may be added; offending containers: ' + variables.containers.filter(c, has(c.securityContext) && has(c.securityContext.capabilities) && has(c.securityContext.capabilities.add) && !c.securityContext.capabilities.add.all(cap, cap in ['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT'])).map(c, c.name).join(', ')",
        rego: r#"allowed_caps := {"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"}

deny[{"msg": msg}] {
  c := containers[_]
  cap := c.securityContext.capabilities.add[_]
  not allowed_caps[cap]
  msg := sprintf("only baseline capabilities may be added: container %v adds %v", [c.name, cap])
}
"#,
        fix: fix_capabilities,
        registries: false,
    },
    Rule {
        category: Category::NoResourceLimits,
        slug: "require-limits",
        title: "Require CPU and memory limits",
        description: "Without limits one runaway process can take a node's memory or starve its neighbours, and cost is unpredictable.",
        severity: "medium",
        kinds: ALL_WORKLOADS,
        cel: "(variables.spec.containers + (has(variables.spec.initContainers) ? variables.spec.initContainers : [])).all(c, has(c.resources) && has(c.resources.limits) && has(c.resources.limits.memory) && has(c.resources.limits.cpu))",
        cel_message: "'CPU and memory limits are required: ' + (variables.spec.containers + (has(variables.spec.initContainers) ? variables.spec.initContainers : [])).filter(c, !(has(c.resources) && has(c.resources.limits) && has(c.resources.limits.memory) && has(c.resources.limits.cpu))).map(c, c.name).join(', ')",
        rego: r#"resourced[c] {
  c := pod_spec.containers[_]
}

resourced[c] {
  c := pod_spec.initContainers[_]
}

deny[{"msg": msg}] {
  c := resourced[_]
  r := ["memory", "cpu"][_]
  not c.resources.limits[r]
  msg := sprintf("CPU and memory limits are required: container %v has no %v limit", [c.name, r])
}
"#,
        fix: fix_limits,
        registries: false,
    },
    Rule {
        category: Category::NoResourceRequests,
        slug: "require-requests",
        title: "Require CPU and memory requests",
        description: "Without requests the scheduler places pods blind, they are evicted first under pressure, and autoscalers cannot compute utilisation.",
        severity: "low",
        kinds: ALL_WORKLOADS,
        cel: "(variables.spec.containers + (has(variables.spec.initContainers) ? variables.spec.initContainers : [])).all(c, has(c.resources) && has(c.resources.requests) && has(c.resources.requests.memory) && has(c.resources.requests.cpu))",
        cel_message: "'CPU and memory requests are required: ' + (variables.spec.containers + (has(variables.spec.initContainers) ? variables.spec.initContainers : [])).filter(c, !(has(c.resources) && has(c.resources.requests) && has(c.resources.requests.memory) && has(c.resources.requests.cpu))).map(c, c.name).join(', ')",
        rego: r#"resourced[c] {
  c := pod_spec.containers[_]
}

resourced[c] {
  c := pod_spec.initContainers[_]
}

deny[{"msg": msg}] {
  c := resourced[_]
  r := ["memory", "cpu"][_]
  not c.resources.requests[r]
  msg := sprintf("CPU and memory requests are required: container %v has no %v request", [c.name, r])
}
"#,
        fix: fix_requests,
        registries: false,
    },
    Rule {
        category: Category::LatestTag,
        slug: "disallow-latest-tag",
        title: "Require a pinned image tag or digest",
        description: "A missing or ':latest' tag changes what runs with each pull, defeats rollbacks and lets replicas run different code.",
        severity: "medium",
        kinds: ALL_WORKLOADS,
        cel: "variables.containers.all(c, c.image.contains('@') || (c.image.matches(':[A-Za-z0-9_][A-Za-z0-9_.-]*$') && !c.image.endsWith(':latest')))",
        cel_message: "'images must be pinned to a version tag or digest: ' + variables.containers.filter(c, !(c.image.contains('@') || (c.image.matches(':[A-Za-z0-9_][A-Za-z0-9_.-]*$') && !c.image.endsWith(':latest')))).map(c, c.image).join(', ')",
        rego: r#"deny[{"msg": msg}] {
  c := containers[_]
  not contains(c.image, "@")
  not regex.match(":[A-Za-z0-9_][A-Za-z0-9_.-]*$", c.image)
  msg := sprintf("images must be pinned to a version tag or digest: %v has no tag", [c.image])
}

deny[{"msg": msg}] {
  c := containers[_]
  not contains(c.image, "@")
  endswith(c.image, ":latest")
  msg := sprintf("images must be pinned to a version tag or digest: %v uses latest", [c.image])
}
"#,
        fix: fix_latest,
        registries: false,
    },
    Rule {
        category: Category::NoProbes,
        slug: "require-probes",
        title: "Require health probes on long-running workloads",
        description: "Without readiness or liveness probes traffic reaches pods before they are ready and a hung process is never restarted.",
        severity: "low",
        kinds: LONG_RUNNING,
        cel: "(object.kind == 'Pod' && has(object.metadata.ownerReferences) && object.metadata.ownerReferences.exists(o, o.kind == 'Job')) || variables.spec.containers.all(c, has(c.readinessProbe) || has(c.livenessProbe) || has(c.startupProbe))",
        cel_message: "'a readiness, liveness or startup probe is required: ' + variables.spec.containers.filter(c, !(has(c.readinessProbe) || has(c.livenessProbe) || has(c.startupProbe))).map(c, c.name).join(', ')",
        rego: r#"job_pod {
  input.review.object.kind == "Pod"
  input.review.object.metadata.ownerReferences[_].kind == "Job"
}

deny[{"msg": msg}] {
  not job_pod
  c := pod_spec.containers[_]
  not c.readinessProbe
  not c.livenessProbe
  not c.startupProbe
  msg := sprintf("a readiness, liveness or startup probe is required: %v", [c.name])
}
"#,
        fix: fix_probes,
        registries: false,
    },
    Rule {
        category: Category::ImagePullBackOff,
        slug: "allowed-registries",
        title: "Allow images only from trusted registries",
        description: "An image from a registry the team does not run can be unavailable, unvetted or typosquatted; admitting only the registries in use keeps pulls predictable and the supply chain reviewable.",
        severity: "medium",
        kinds: ALL_WORKLOADS,
        // Images are compared as the runtime pulls them: a Docker Hub short name is
        // `docker.io/library/nginx`, `docker.io/bitnami/redis` (see `normalize_image`), so a
        // trusted `docker.io/` or `docker.io/library/` admits `nginx:1.25`.
        cel: "variables.containers.all(c, variables.allowed.exists(r, (c.image.matches('^[^/]+[.:][^/]*/') || c.image.startsWith('localhost/') ? c.image : 'docker.io/' + (c.image.contains('/') ? c.image : 'library/' + c.image)).startsWith(r)))",
        cel_message: "'images must come from ' + variables.allowed.join(', ') + ': ' + variables.containers.filter(c, !variables.allowed.exists(r, (c.image.matches('^[^/]+[.:][^/]*/') || c.image.startsWith('localhost/') ? c.image : 'docker.io/' + (c.image.contains('/') ? c.image : 'library/' + c.image)).startsWith(r))).map(c, c.image).join(', ')",
        rego: r#"# An image as the runtime pulls it: Docker Hub short names get docker.io/ (and library/).
normalized(image) = image {
  regex.match(`^[^/]+[.:][^/]*/`, image)
}

normalized(image) = image {
  startswith(image, "localhost/")
}

normalized(image) = concat("", ["docker.io/", image]) {
  not regex.match(`^[^/]+[.:][^/]*/`, image)
  not startswith(image, "localhost/")
  contains(image, "/")
}

normalized(image) = concat("", ["docker.io/library/", image]) {
  not contains(image, "/")
}

trusted(image) {
  startswith(normalized(image), input.parameters.repos[_])
}

deny[{"msg": msg}] {
  c := containers[_]
  not trusted(c.image)
  msg := sprintf("images must come from %v: %v", [concat(", ", input.parameters.repos), c.image])
}
"#,
        fix: fix_registry,
        registries: true,
    },
];

/// Apply `f` to every container of the listed sections.
fn each_container(spec: &mut Value, sections: &[&str], mut f: impl FnMut(&mut Value)) {
    for s in sections {
        if let Some(a) = spec.get_mut(*s).and_then(Value::as_array_mut) {
            for c in a.iter_mut() {
                f(c);
            }
        }
    }
}

const ALL_SECTIONS: [&str; 3] = ["containers", "initContainers", "ephemeralContainers"];

fn name_of(c: &Value) -> String {
    c.get("name")
        .and_then(Value::as_str)
        .unwrap_or("?")
        .to_string()
}

/// `obj[key]`, created as `{}` when missing or not an object.
fn child<'a>(obj: &'a mut Value, key: &str) -> &'a mut Value {
    if !obj.get(key).is_some_and(Value::is_object) {
        obj[key] = json!({});
    }
    &mut obj[key]
}

fn fix_privileged(spec: &mut Value, _: &FixContext) -> Vec<String> {
    let mut changed = Vec::new();
    each_container(spec, &ALL_SECTIONS, |c| {
        let n = name_of(c);
        if let Some(sc) = c.get_mut("securityContext").and_then(Value::as_object_mut)
            && sc.get("privileged") == Some(&json!(true))
        {
            sc.remove("privileged");
            changed.push(format!("container {n}: remove securityContext.privileged"));
        }
    });
    changed
}

fn fix_escalation(spec: &mut Value, _: &FixContext) -> Vec<String> {
    let mut changed = Vec::new();
    each_container(spec, &ALL_SECTIONS, |c| {
        let n = name_of(c);
        let sc = child(c, "securityContext");
        if sc.get("allowPrivilegeEscalation") != Some(&json!(false)) {
            sc["allowPrivilegeEscalation"] = json!(false);
            changed.push(format!(
                "container {n}: set securityContext.allowPrivilegeEscalation: false"
            ));
        }
    });
    changed
}

fn fix_host_namespaces(spec: &mut Value, _: &FixContext) -> Vec<String> {
    let mut changed = Vec::new();
    if let Some(o) = spec.as_object_mut() {
        for f in ["hostNetwork", "hostPID", "hostIPC"] {
            if o.get(f) == Some(&json!(true)) {
                o.remove(f);
                changed.push(format!("remove spec.{f}"));
            }
        }
    }
    changed
}

fn fix_host_path(spec: &mut Value, _: &FixContext) -> Vec<String> {
    let mut changed = Vec::new();
    for v in spec
        .get_mut("volumes")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
    {
        if let Some(o) = v.as_object_mut()
            && o.remove("hostPath").is_some()
        {
            o.insert("emptyDir".into(), json!({}));
            changed.push(format!(
                "volume {}: hostPath → emptyDir (or a PersistentVolumeClaim if the data must persist)",
                o.get("name").and_then(Value::as_str).unwrap_or("?")
            ));
        }
    }
    changed
}

fn fix_run_as_root(spec: &mut Value, _: &FixContext) -> Vec<String> {
    let mut changed = Vec::new();
    let psc = child(spec, "securityContext");
    if psc.get("runAsNonRoot") != Some(&json!(true)) {
        psc["runAsNonRoot"] = json!(true);
        changed.push("set spec.securityContext.runAsNonRoot: true".into());
    }
    if psc.get("runAsUser") == Some(&json!(0)) {
        psc["runAsUser"] = json!(10001);
        changed.push("spec.securityContext.runAsUser: 0 → 10001".into());
    }
    each_container(spec, &ALL_SECTIONS, |c| {
        let n = name_of(c);
        if let Some(sc) = c.get_mut("securityContext").and_then(Value::as_object_mut) {
            if sc.get("runAsNonRoot") == Some(&json!(false)) {
                sc.remove("runAsNonRoot");
                changed.push(format!("container {n}: remove runAsNonRoot: false"));
            }
            if sc.get("runAsUser") == Some(&json!(0)) {
                sc.insert("runAsUser".into(), json!(10001));
                changed.push(format!("container {n}: runAsUser: 0 → 10001"));
            }
        }
    });
    changed
}

fn fix_capabilities(spec: &mut Value, _: &FixContext) -> Vec<String> {
    let mut changed = Vec::new();
    each_container(spec, &ALL_SECTIONS, |c| {
        let n = name_of(c);
        if let Some(add) = c
            .pointer_mut("/securityContext/capabilities/add")
            .and_then(Value::as_array_mut)
        {
            let before: Vec<String> = add
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect();
            add.retain(|cap| cap.as_str().is_some_and(|s| BASELINE_CAPS.contains(&s)));
            for cap in before
                .iter()
                .filter(|c| !BASELINE_CAPS.contains(&c.as_str()))
            {
                changed.push(format!(
                    "container {n}: drop capability {cap} from capabilities.add"
                ));
            }
        }
    });
    changed
}

fn set_resources(spec: &mut Value, section: &str, defaults: [(&str, &str); 2]) -> Vec<String> {
    let mut changed = Vec::new();
    let other = if section == "limits" {
        "requests"
    } else {
        "limits"
    };
    each_container(spec, &["containers", "initContainers"], |c| {
        let n = name_of(c);
        let res = child(c, "resources");
        let from_other = res.get(other).cloned().unwrap_or(Value::Null);
        let sec = child(res, section);
        for (r, default) in defaults {
            if sec.get(r).is_none() {
                let v = from_other
                    .get(r)
                    .and_then(Value::as_str)
                    .unwrap_or(default)
                    .to_string();
                changed.push(format!("container {n}: set resources.{section}.{r}: {v}"));
                sec[r] = json!(v);
            }
        }
    });
    changed
}

fn fix_limits(spec: &mut Value, _: &FixContext) -> Vec<String> {
    set_resources(spec, "limits", [("memory", "256Mi"), ("cpu", "500m")])
}

fn fix_requests(spec: &mut Value, _: &FixContext) -> Vec<String> {
    set_resources(spec, "requests", [("memory", "128Mi"), ("cpu", "100m")])
}

fn fix_latest(spec: &mut Value, cx: &FixContext) -> Vec<String> {
    let mut changed = Vec::new();
    each_container(spec, &ALL_SECTIONS, |c| {
        let n = name_of(c);
        let img = c
            .get("image")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let last = img.rsplit('/').next().unwrap_or("");
        let pinned = img.contains('@') || (last.contains(':') && !img.ends_with(":latest"));
        if pinned {
            return;
        }
        let new = match cx.digests.get(&img) {
            Some(d) => d.clone(),
            None => {
                let repo = img.strip_suffix(":latest").unwrap_or(&img);
                format!("{repo}:PIN-A-VERSION")
            }
        };
        changed.push(format!("container {n}: image {img} → {new}"));
        c["image"] = json!(new);
    });
    changed
}

/// Images from untrusted registries are pointed at the first trusted one (the image must be
/// mirrored there first: the change says so).
fn fix_registry(spec: &mut Value, cx: &FixContext) -> Vec<String> {
    let mut changed = Vec::new();
    let Some(target) = cx.registries.first() else {
        return changed;
    };
    each_container(spec, &ALL_SECTIONS, |c| {
        let n = name_of(c);
        let img = c
            .get("image")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if is_trusted(&img, &cx.registries) {
            return;
        }
        let from = registry_of(&img);
        let path = img
            .strip_prefix(from.as_str())
            .unwrap_or(&img)
            .trim_start_matches("library/");
        let new = format!("{target}{path}");
        changed.push(format!(
            "container {n}: image {img} → {new} (mirror it into {target} first)"
        ));
        c["image"] = json!(new);
    });
    changed
}

fn fix_probes(spec: &mut Value, _: &FixContext) -> Vec<String> {
    let mut changed = Vec::new();
    each_container(spec, &["containers"], |c| {
        if c.get("readinessProbe").is_some()
            || c.get("livenessProbe").is_some()
            || c.get("startupProbe").is_some()
        {
            return;
        }
        let n = name_of(c);
        let port = c.at("/ports/0/containerPort").and_then(Value::as_i64);
        let probe = match port {
            Some(p) => json!({"tcpSocket": {"port": p}, "periodSeconds": 10}),
            None => json!({"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 10}),
        };
        changed.push(format!(
            "container {n}: add readinessProbe ({})",
            match port {
                Some(p) => format!("tcpSocket :{p}"),
                None => "httpGet /healthz :8080 — adjust to the app's health endpoint".into(),
            }
        ));
        c["readinessProbe"] = probe;
    });
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_has_a_unique_slug_and_category() {
        let mut slugs: Vec<&str> = rules().iter().map(|r| r.slug).collect();
        slugs.sort();
        slugs.dedup();
        assert_eq!(slugs.len(), rules().len());
        assert!(rule_for(Category::Privileged).is_some());
        assert!(rule_for(Category::CrashLoopBackOff).is_none());
    }

    #[test]
    fn capability_rules_spell_out_the_baseline_list() {
        let r = rule_for(Category::DangerousCapabilities).expect("rule");
        for cap in BASELINE_CAPS {
            assert!(r.cel.contains(&format!("'{cap}'")), "{cap} in CEL");
            assert!(r.rego.contains(&format!("\"{cap}\"")), "{cap} in Rego");
        }
    }

    #[test]
    fn fixes_change_only_what_they_must() {
        let mut spec = json!({"containers": [{"name": "a", "image": "nginx",
            "securityContext": {"privileged": true, "runAsUser": 0}}]});
        assert_eq!(fix_privileged(&mut spec, &FixContext::default()).len(), 1);
        assert_eq!(
            spec["containers"][0]["securityContext"],
            json!({"runAsUser": 0})
        );
        let mut cx = FixContext::default();
        cx.digests.insert("nginx".into(), "nginx@sha256:abc".into());
        fix_latest(&mut spec, &cx);
        assert_eq!(spec["containers"][0]["image"], "nginx@sha256:abc");
    }
}
