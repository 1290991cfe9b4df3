//! Drafting: from a finding (or a category) to policies for each engine, the fixed object,
//! and the proof that each policy denies the offending object and admits the fixed one.
//!
//! The proof evaluates the YAML text that will be written, parsed back, so what is proven is
//! exactly what the reviewer gets.

mod render;

pub use render::{evaluate, prove, render};

use super::catalog::{self, FixContext, Rule};
use super::{Engine, PolicyError, SYSTEM_NAMESPACES, pod_spec_pointer, str_at, to_yaml};
use crate::findings::{Category, Finding, GuidanceRef};
use crate::jsonptr::Pointer as _;
use crate::state::ClusterState;
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Where a draft applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "scope", content = "namespace", rename_all = "lowercase")]
pub enum Scope {
    /// Only the finding's namespace.
    Namespace(String),
    /// Every namespace but the system ones.
    Cluster,
}

impl Scope {
    fn suffix(&self) -> String {
        match self {
            Scope::Namespace(ns) => format!("-{ns}"),
            Scope::Cluster => String::new(),
        }
    }
}

/// The outcome of a proof.
#[derive(Debug, Clone, Serialize)]
pub struct Proof {
    /// The offending object was denied, with this message.
    pub denied: Result<String, String>,
    /// The fixed object was admitted.
    pub admitted: Result<(), String>,
}

impl Proof {
    pub fn passed(&self) -> bool {
        self.denied.is_ok() && self.admitted.is_ok()
    }
}

/// One engine's draft at one scope.
#[derive(Debug, Clone, Serialize)]
pub struct EngineDraft {
    pub engine: Engine,
    pub scope: Scope,
    /// File name → YAML text.
    pub files: BTreeMap<String, String>,
    pub proof: Proof,
}

/// A complete draft: rule, objects, fix, per-engine policies with proofs.
#[derive(Debug, Clone, Serialize)]
pub struct Draft {
    pub category: Category,
    pub policy: String,
    pub title: String,
    pub finding: Option<String>,
    pub guidance: Vec<GuidanceRef>,
    pub offending: Value,
    pub fixed: Value,
    pub changes: Vec<String>,
    pub diff: String,
    /// A strategic-merge patch for `kubectl patch` (suggested, never applied).
    pub patch: String,
    pub drafts: Vec<EngineDraft>,
}

impl Draft {
    pub fn proven(&self) -> bool {
        self.drafts.iter().all(|d| d.proof.passed())
    }
}

/// What to draft from.
pub struct Request<'a> {
    pub rule: &'static Rule,
    pub finding: Option<&'a Finding>,
    /// The offending object (a workload) as JSON.
    pub offending: Value,
    pub engines: Vec<Engine>,
    pub fix_context: FixContext,
}

/// Build a request from a finding and the state it came from.
pub fn request_for_finding<'a>(
    f: &'a Finding,
    state: &ClusterState,
    engines: Vec<Engine>,
) -> Result<Request<'a>, PolicyError> {
    let rule = catalog::rule_for(f.category).ok_or_else(|| PolicyError::Invalid {
        what: format!("finding {}", f.id),
        why: format!(
            "no policy would have prevented a {} (policies exist for: {})",
            f.category.as_str(),
            supported()
        ),
    })?;
    let ns = f.object.namespace.as_deref();
    let find = |kind: &str, name: &str| super::check::workload_object(state, kind, ns, name);
    let offending = find(&f.object.kind, &f.object.name)
        .or_else(|| f.owner.as_ref().and_then(|o| find(&o.kind, &o.name)))
        .ok_or_else(|| PolicyError::Invalid {
            what: format!("finding {}", f.id),
            why: format!(
                "{} {} is not a workload in the snapshot",
                f.object.kind, f.object.name
            ),
        })?;
    let mut fix_context = FixContext {
        digests: running_digests(state),
        registries: Vec::new(),
    };
    if rule.registries {
        fix_context.registries = trusted_registries(f, &offending, state)?;
    }
    Ok(Request {
        rule,
        finding: Some(f),
        offending: clean(offending),
        engines,
        fix_context,
    })
}

/// The registries the cluster's other workloads pull from (outside system namespaces), when
/// the finding's failing image comes from none of them; otherwise an allowed-registries
/// policy would not have prevented the failure, and the error says why.
fn trusted_registries(
    f: &Finding,
    offending: &Value,
    state: &ClusterState,
) -> Result<Vec<String>, PolicyError> {
    let mine: Vec<String> = offending
        .at(pod_spec_pointer(str_at(offending, "/kind").unwrap_or("")).unwrap_or("/spec"))
        .and_then(|s| s.get("containers"))
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .filter_map(|c| c.get("image").and_then(Value::as_str).map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let mut trusted: Vec<String> = state
        .pods
        .iter()
        .filter(|p| {
            !p.metadata
                .namespace
                .as_deref()
                .is_some_and(|ns| SYSTEM_NAMESPACES.contains(&ns))
        })
        .flat_map(|p| p.spec.iter().flat_map(|s| s.containers.iter()))
        .filter_map(|c| c.image.clone())
        .filter(|i| !mine.contains(i))
        .map(|i| catalog::registry_of(&i))
        .collect();
    trusted.sort();
    trusted.dedup();
    let failing: Vec<&String> = mine
        .iter()
        .filter(|i| !trusted.contains(&catalog::registry_of(i)))
        .collect();
    let invalid = |why: String| PolicyError::Invalid {
        what: format!("finding {}", f.id),
        why,
    };
    if trusted.is_empty() {
        return Err(invalid(
            "no other workload pulls images here, so there is no registry to trust yet".into(),
        ));
    }
    if failing.is_empty() {
        return Err(invalid(format!(
            "its image {} comes from {}, which the cluster's other workloads use: an allowed-registries policy would not have prevented it (check that the tag exists and the pull secret)",
            mine.join(", "),
            mine.iter()
                .map(|i| catalog::registry_of(i))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Ok(trusted)
}

/// A built-in offending Pod for a category (drafting without a snapshot).
pub fn request_for_category(
    c: Category,
    engines: Vec<Engine>,
) -> Result<Request<'static>, PolicyError> {
    let rule = catalog::rule_for(c).ok_or_else(|| PolicyError::Invalid {
        what: format!("category {}", c.as_str()),
        why: format!(
            "no policy drafts for it (policies exist for: {})",
            supported()
        ),
    })?;
    let mut container = json!({"name": "app", "image": "registry.example.com/shop/app:1.4.2",
        "ports": [{"containerPort": 8080}],
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}},
        "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8080}},
        "securityContext": {"allowPrivilegeEscalation": false, "runAsNonRoot": true}});
    let mut spec = json!({});
    match c {
        Category::Privileged => container["securityContext"]["privileged"] = json!(true),
        Category::PrivilegeEscalation => {
            container["securityContext"]["allowPrivilegeEscalation"] = json!(true)
        }
        Category::HostNamespace => spec["hostNetwork"] = json!(true),
        Category::HostPath => {
            spec["volumes"] = json!([{"name": "host", "hostPath": {"path": "/var/run"}}])
        }
        Category::RunAsRoot => container["securityContext"]["runAsUser"] = json!(0),
        Category::DangerousCapabilities => {
            container["securityContext"]["capabilities"] = json!({"add": ["SYS_ADMIN"]})
        }
        Category::NoResourceLimits => {
            if let Some(r) = container["resources"].as_object_mut() {
                r.remove("limits");
            }
        }
        Category::NoResourceRequests => {
            if let Some(r) = container["resources"].as_object_mut() {
                r.remove("requests");
            }
        }
        Category::LatestTag => container["image"] = json!("registry.example.com/shop/app:latest"),
        Category::ImagePullBackOff => container["image"] = json!("docker.io/unknown/miner:1.0"),
        Category::NoProbes => {
            if let Some(o) = container.as_object_mut() {
                o.remove("readinessProbe");
            }
        }
        _ => {}
    }
    spec["containers"] = json!([container]);
    let kind = if rule.kinds.contains(&"Pod") {
        "Pod"
    } else {
        "Deployment"
    };
    let offending = if kind == "Pod" {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "example", "namespace": "default"}, "spec": spec})
    } else {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "example", "namespace": "default"},
            "spec": {"selector": {"matchLabels": {"app": "example"}},
                "template": {"metadata": {"labels": {"app": "example"}}, "spec": spec}}})
    };
    Ok(Request {
        rule,
        finding: None,
        offending,
        engines,
        fix_context: FixContext {
            registries: if rule.registries {
                vec!["registry.example.com/".to_string()]
            } else {
                Vec::new()
            },
            ..FixContext::default()
        },
    })
}

/// The categories Sextant drafts policies for.
pub fn supported() -> String {
    catalog::rules()
        .iter()
        .map(|r| r.category.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Strip what a cluster adds (status, managed fields, uid…) so the object reads as a manifest.
pub fn clean(mut o: Value) -> Value {
    if let Some(m) = o.as_object_mut() {
        m.remove("status");
    }
    if let Some(meta) = o.get_mut("metadata").and_then(Value::as_object_mut) {
        for k in [
            "managedFields",
            "uid",
            "resourceVersion",
            "generation",
            "creationTimestamp",
            "selfLink",
            "ownerReferences",
        ] {
            meta.remove(k);
        }
        if let Some(a) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
            a.retain(|k, _| {
                k != "kubectl.kubernetes.io/last-applied-configuration"
                    && !k.starts_with("deployment.kubernetes.io/")
            });
            if a.is_empty() {
                meta.remove("annotations");
            }
        }
    }
    o
}

/// image → `repo@sha256:…` from the pods' container statuses (what actually runs).
fn running_digests(state: &ClusterState) -> std::collections::HashMap<String, String> {
    let mut out = std::collections::HashMap::new();
    for p in &state.pods {
        for cs in p
            .status
            .iter()
            .flat_map(|s| s.container_statuses.iter().flatten())
        {
            if let Some((_, digest)) = cs.image_id.split_once("@sha256:") {
                let repo = cs
                    .image
                    .rsplit_once(':')
                    .map_or(cs.image.as_str(), |(r, t)| {
                        if t.contains('/') {
                            cs.image.as_str()
                        } else {
                            r
                        }
                    });
                out.insert(cs.image.clone(), format!("{repo}@sha256:{digest}"));
            }
        }
    }
    out
}

/// Draft, prove, and return everything; a failed proof is recorded, never hidden.
pub fn draft(req: &Request, guidance: Vec<GuidanceRef>) -> Result<Draft, PolicyError> {
    let rule = req.rule;
    let kind = str_at(&req.offending, "/kind").unwrap_or("").to_string();
    let ptr = pod_spec_pointer(&kind).ok_or_else(|| PolicyError::Invalid {
        what: format!(
            "{kind} {}",
            str_at(&req.offending, "/metadata/name").unwrap_or("")
        ),
        why: "not a workload with a pod template".into(),
    })?;
    let mut fixed = req.offending.clone();
    let changes = match fixed.pointer_mut(ptr) {
        Some(spec) => (rule.fix)(spec, &req.fix_context),
        None => Vec::new(),
    };
    let ns = str_at(&req.offending, "/metadata/namespace").map(str::to_string);
    let mut scopes = vec![Scope::Cluster];
    if let Some(ns) = &ns
        && !SYSTEM_NAMESPACES.contains(&ns.as_str())
    {
        scopes.insert(0, Scope::Namespace(ns.clone()));
    }
    let mut drafts = Vec::new();
    for &engine in &req.engines {
        for scope in &scopes {
            let files = render(
                rule,
                engine,
                scope,
                req.finding,
                &guidance,
                &req.fix_context.registries,
            );
            let proof = prove(engine, &files, &req.offending, &fixed);
            drafts.push(EngineDraft {
                engine,
                scope: scope.clone(),
                files,
                proof,
            });
        }
    }
    let (before, after) = (to_yaml(&req.offending), to_yaml(&fixed));
    let diff = similar::TextDiff::from_lines(&before, &after)
        .unified_diff()
        .context_radius(3)
        .header("offending", "fixed")
        .to_string();
    let patch_body = strategic_patch(&req.offending, &fixed);
    let obj_kind = kind.to_ascii_lowercase();
    let name = str_at(&req.offending, "/metadata/name").unwrap_or("");
    // Names go into a shell script: they must be Kubernetes names, and are quoted anyway.
    if !crate::shell::is_k8s_name(name) {
        return Err(PolicyError::Invalid {
            what: format!("{kind} name {:?}", crate::redact::redact(name)),
            why: "not a valid Kubernetes name (lower-case letters, digits, '-' and '.'); refusing to write it into a command".into(),
        });
    }
    if let Some(n) = ns.as_deref()
        && !crate::shell::is_k8s_name(n)
    {
        return Err(PolicyError::Invalid {
            what: format!("namespace {:?}", crate::redact::redact(n)),
            why: "not a valid Kubernetes name; refusing to write it into a command".into(),
        });
    }
    let q = crate::shell::quote;
    let patch = format!(
        "kubectl{} patch {} {} --type strategic -p {}",
        ns.as_deref()
            .map(|n| format!(" -n {}", q(n)))
            .unwrap_or_default(),
        q(&obj_kind),
        q(name),
        q(&serde_json::to_string(&patch_body).unwrap_or_default())
    );
    Ok(Draft {
        category: rule.category,
        policy: format!("sextant-{}", rule.slug),
        title: rule.title.to_string(),
        finding: req.finding.map(|f| f.id.clone()),
        guidance,
        offending: req.offending.clone(),
        fixed,
        changes,
        diff,
        patch,
        drafts,
    })
}

/// A strategic-merge patch from `a` to `b`: changed keys, `null` for removed ones, lists of
/// named objects (containers, volumes) merged by name.
pub fn strategic_patch(a: &Value, b: &Value) -> Value {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut out = serde_json::Map::new();
            for (k, vb) in y {
                match x.get(k) {
                    Some(va) if va == vb => {}
                    Some(va) => {
                        out.insert(k.clone(), strategic_patch(va, vb));
                    }
                    None => {
                        out.insert(k.clone(), vb.clone());
                    }
                }
            }
            for k in x.keys() {
                if !y.contains_key(k) {
                    out.insert(k.clone(), Value::Null);
                }
            }
            Value::Object(out)
        }
        (Value::Array(x), Value::Array(y))
            if y.iter().all(|v| v.get("name").is_some()) && x.len() == y.len() =>
        {
            Value::Array(
                x.iter()
                    .zip(y)
                    .filter(|(p, q)| p != q)
                    .map(|(p, q)| {
                        let mut d = strategic_patch(p, q);
                        if let Some(o) = d.as_object_mut() {
                            o.insert("name".into(), q["name"].clone());
                        }
                        d
                    })
                    .collect(),
            )
        }
        _ => b.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_category_draft_proves_on_the_builtin_example() {
        for rule in catalog::rules() {
            let req = request_for_category(rule.category, Engine::ALL.to_vec()).expect("req");
            let d = draft(&req, Vec::new()).expect("draft");
            for e in &d.drafts {
                assert!(
                    e.proof.passed(),
                    "{} {:?} {:?}: {:?}",
                    rule.slug,
                    e.engine,
                    e.scope,
                    e.proof
                );
            }
            assert!(!d.changes.is_empty(), "{}", rule.slug);
        }
    }

    #[test]
    fn an_inverted_condition_fails_its_proof() {
        let rule = catalog::rule_for(Category::Privileged).expect("rule");
        let req = request_for_category(Category::Privileged, vec![Engine::Vap]).expect("req");
        let d = draft(&req, Vec::new()).expect("draft");
        let mut files = d.drafts[0].files.clone();
        let mut p: Value =
            serde_saphyr::from_str(files.get("policy.yaml").expect("p")).expect("yaml");
        assert_eq!(p["spec"]["validations"][0]["expression"], rule.cel);
        p["spec"]["validations"][0]["expression"] = json!(format!("!({})", rule.cel));
        files.insert("policy.yaml".into(), to_yaml(&p));
        let proof = prove(Engine::Vap, &files, &d.offending, &d.fixed);
        assert!(!proof.passed());
        assert!(
            proof.denied.is_err() && proof.admitted.is_err(),
            "{proof:?}"
        );
    }

    #[test]
    fn patches_merge_containers_by_name() {
        let a = json!({"spec": {"containers": [{"name": "a", "securityContext": {"privileged": true}}]}});
        let b = json!({"spec": {"containers": [{"name": "a", "securityContext": {}}]}});
        assert_eq!(
            strategic_patch(&a, &b),
            json!({"spec": {"containers": [{"name": "a", "securityContext": {"privileged": null}}]}})
        );
    }
}
