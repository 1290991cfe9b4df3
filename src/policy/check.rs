//! Impact before enforcement: evaluate a set of policies (Gatekeeper templates and
//! constraints, ValidatingAdmissionPolicies and bindings, Kyverno CEL policies) against every
//! matching object of a cluster state and report what they would deny today.
//!
//! Controllers and pods are both evaluated (a policy may match either), and the denials of
//! pods one controller owns are folded into one line with a count, so one bad template is
//! one line, not one per replica.

use super::{Engine, PolicyError, cel, gatekeeper, kyverno, str_at, vap};
use crate::state::ClusterState;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;
use serde_json::Value;
use std::path::PathBuf;

/// Every pod-bearing object of the state as JSON (controllers, and pods nothing owns).
pub fn workload_objects(state: &ClusterState) -> Vec<Value> {
    fn push<T: serde::Serialize>(out: &mut Vec<Value>, items: &[T]) {
        out.extend(items.iter().filter_map(|i| serde_json::to_value(i).ok()));
    }
    let mut out = Vec::new();
    push(&mut out, &state.deployments);
    push(&mut out, &state.stateful_sets);
    push(&mut out, &state.daemon_sets);
    push(&mut out, &state.cron_jobs);
    let unowned_rs: Vec<_> = state
        .replica_sets
        .iter()
        .filter(|r| {
            r.metadata
                .owner_references
                .as_ref()
                .is_none_or(Vec::is_empty)
        })
        .cloned()
        .collect();
    push(&mut out, &unowned_rs);
    let unowned_jobs: Vec<_> = state
        .jobs
        .iter()
        .filter(|j| {
            j.metadata
                .owner_references
                .as_ref()
                .is_none_or(Vec::is_empty)
        })
        .cloned()
        .collect();
    push(&mut out, &unowned_jobs);
    push(&mut out, &state.replication_controllers);
    push(&mut out, &state.pods);
    out
}

/// Each namespace's labels (what `namespaceSelector`s match), by name.
pub fn namespace_labels(state: &ClusterState) -> Vec<(String, Value)> {
    state
        .namespaces
        .iter()
        .filter_map(|n| {
            Some((
                n.metadata.name.clone()?,
                serde_json::to_value(n.metadata.labels.clone().unwrap_or_default()).ok()?,
            ))
        })
        .collect()
}

/// One pod-bearing object by kind, namespace and name, as JSON (only that one is serialized).
pub fn workload_object(
    state: &ClusterState,
    kind: &str,
    ns: Option<&str>,
    name: &str,
) -> Option<Value> {
    fn pick<T: serde::Serialize + k8s_openapi::Metadata<Ty = ObjectMeta>>(
        items: &[T],
        ns: Option<&str>,
        name: &str,
    ) -> Option<Value> {
        items
            .iter()
            .find(|i| {
                let m = i.metadata();
                m.name.as_deref() == Some(name) && m.namespace.as_deref() == ns
            })
            .and_then(|i| serde_json::to_value(i).ok())
    }
    match kind {
        "Pod" => pick(&state.pods, ns, name),
        "Deployment" => pick(&state.deployments, ns, name),
        "StatefulSet" => pick(&state.stateful_sets, ns, name),
        "DaemonSet" => pick(&state.daemon_sets, ns, name),
        "ReplicaSet" => pick(&state.replica_sets, ns, name),
        "ReplicationController" => pick(&state.replication_controllers, ns, name),
        "Job" => pick(&state.jobs, ns, name),
        "CronJob" => pick(&state.cron_jobs, ns, name),
        _ => None,
    }
}

/// A loaded policy of any engine.
pub enum Loaded {
    Gatekeeper {
        /// Boxed: a compiled Rego engine is large beside the other variants.
        template: Box<gatekeeper::Template>,
        constraints: Vec<gatekeeper::Constraint>,
    },
    Vap {
        policy: vap::Policy,
        bindings: Vec<vap::Binding>,
        params: Vec<Value>,
    },
    Kyverno(kyverno::Policy),
}

/// A set of policies read from files.
pub struct PolicySet {
    pub policies: Vec<(String, Loaded)>,
    /// Documents that were not policies, or policies that could not be used, with why.
    pub skipped: Vec<String>,
}

impl PolicySet {
    /// Read every policy document of `paths` (files or folders).
    pub fn load(paths: &[PathBuf]) -> Result<PolicySet, PolicyError> {
        let docs = super::read_documents(paths)?;
        let mut set = PolicySet {
            policies: Vec::new(),
            skipped: Vec::new(),
        };
        let mut templates = Vec::new();
        let mut constraints = Vec::new();
        let mut vaps = Vec::new();
        let mut bindings = Vec::new();
        let mut others = Vec::new();
        for (path, d) in docs {
            let where_ = path.display().to_string();
            match str_at(&d, "/kind").unwrap_or("") {
                "ConstraintTemplate" => match gatekeeper::Template::from_object(&d) {
                    Ok(t) => templates.push(t),
                    Err(e) => set.skipped.push(format!("{where_}: {e}")),
                },
                "ValidatingAdmissionPolicy" => match vap::Policy::from_object(&d) {
                    Ok(p) => vaps.push(p),
                    Err(e) => set.skipped.push(format!("{where_}: {e}")),
                },
                "ValidatingAdmissionPolicyBinding" => match vap::Binding::from_object(&d) {
                    Ok(b) => bindings.push(b),
                    Err(e) => set.skipped.push(format!("{where_}: {e}")),
                },
                "ClusterPolicy" | "Policy"
                    if str_at(&d, "/apiVersion").is_some_and(|a| a.starts_with("kyverno.io/")) =>
                {
                    match kyverno::Policy::from_object(&d) {
                        Ok(p) => {
                            for r in &p.unsupported {
                                set.skipped.push(format!(
                                    "{where_}: Kyverno rule {} of {} is not a CEL rule (only validate.cel is evaluated)",
                                    r, p.name
                                ));
                            }
                            if p.rule_names().next().is_some() {
                                set.policies.push((p.name.clone(), Loaded::Kyverno(p)));
                            }
                        }
                        Err(e) => set.skipped.push(format!("{where_}: {e}")),
                    }
                }
                _ if str_at(&d, "/apiVersion")
                    .is_some_and(|a| a.starts_with("constraints.gatekeeper.sh/")) =>
                {
                    match gatekeeper::Constraint::from_object(&d) {
                        Ok(c) => constraints.push(c),
                        Err(e) => set.skipped.push(format!("{where_}: {e}")),
                    }
                }
                _ => others.push(d),
            }
        }
        for t in templates {
            let mine: Vec<_> = constraints
                .iter()
                .filter(|c| c.kind == t.kind)
                .cloned()
                .collect();
            if mine.is_empty() {
                set.skipped.push(format!(
                    "ConstraintTemplate {}: no constraint of kind {}",
                    t.name, t.kind
                ));
                continue;
            }
            set.policies.push((
                t.name.clone(),
                Loaded::Gatekeeper {
                    template: Box::new(t),
                    constraints: mine,
                },
            ));
        }
        for p in vaps {
            let mine: Vec<_> = bindings
                .iter()
                .filter(|b| b.policy == p.name)
                .cloned()
                .collect();
            if mine.is_empty() {
                set.skipped.push(format!(
                    "ValidatingAdmissionPolicy {}: no binding (a VAP without a binding does nothing)",
                    p.name
                ));
                continue;
            }
            let params = match &p.param_kind {
                Some(k) => others
                    .iter()
                    .filter(|o| str_at(o, "/kind") == Some(k.as_str()))
                    .cloned()
                    .collect(),
                None => Vec::new(),
            };
            set.policies.push((
                p.name.clone(),
                Loaded::Vap {
                    policy: p,
                    bindings: mine,
                    params,
                },
            ));
        }
        Ok(set)
    }
}

/// One object a policy would deny.
#[derive(Debug, Clone, Serialize)]
pub struct Denial {
    pub engine: Engine,
    pub policy: String,
    /// The constraint or binding (Gatekeeper, VAP).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    /// deny / dryrun / warn / Audit… as the policy says it would act.
    pub action: String,
    pub object: String,
    pub message: String,
    /// How many objects this line stands for (pods of one owner).
    pub count: usize,
}

/// The impact report.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Report {
    pub policies: usize,
    pub objects: usize,
    pub denials: Vec<Denial>,
    pub errors: Vec<String>,
    pub skipped: Vec<String>,
}

fn label(o: &Value) -> String {
    let own = format!(
        "{}/{}/{}",
        str_at(o, "/kind").unwrap_or("?"),
        str_at(o, "/metadata/namespace").unwrap_or("-"),
        str_at(o, "/metadata/name").unwrap_or("?")
    );
    match (
        str_at(o, "/metadata/ownerReferences/0/kind"),
        str_at(o, "/metadata/ownerReferences/0/name"),
    ) {
        (Some(k), Some(n)) => format!(
            "pods of {k}/{}/{n}",
            str_at(o, "/metadata/namespace").unwrap_or("-")
        ),
        _ => own,
    }
}

/// Fold identical denials (pods of one owner) into one, counting them.
fn fold(denials: Vec<Denial>) -> Vec<Denial> {
    let mut out: Vec<Denial> = Vec::new();
    let mut seen: std::collections::HashMap<(Engine, String, Option<String>, String), usize> =
        std::collections::HashMap::new();
    for d in denials {
        let key = (d.engine, d.policy.clone(), d.via.clone(), d.object.clone());
        match seen.get(&key) {
            Some(&i) => out[i].count += 1,
            None => {
                seen.insert(key, out.len());
                out.push(d);
            }
        }
    }
    out
}

/// Evaluate every policy against every object.
///
/// Objects are split across the machine's cores; within a chunk, objects are the outer loop so
/// each object is converted to CEL and to Rego once for all policies. The result does not
/// depend on the number of threads (chunks are joined in order).
pub fn check(set: &PolicySet, objects: &[Value], namespaces: &[(String, Value)]) -> Report {
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .min(objects.len().div_ceil(256))
        .max(1);
    let chunk = objects.len().div_ceil(threads).max(1);
    let parts: Vec<(Vec<Denial>, Vec<String>)> = std::thread::scope(|s| {
        let handles: Vec<_> = objects
            .chunks(chunk)
            .enumerate()
            .map(|(i, objs)| {
                s.spawn(move || {
                    // The first chunk uses the set's engines; the others their own copies of the
                    // Rego engines (an engine evaluates one input at a time).
                    let own: Vec<Option<gatekeeper::Template>> = set
                        .policies
                        .iter()
                        .map(|(_, p)| match p {
                            Loaded::Gatekeeper { template, .. } if i > 0 => {
                                Some(template.as_ref().clone())
                            }
                            _ => None,
                        })
                        .collect();
                    check_chunk(set, &own, objs, namespaces)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    let mut r = Report {
        policies: set.policies.len(),
        objects: objects.len(),
        skipped: set.skipped.clone(),
        ..Report::default()
    };
    for (d, e) in parts {
        r.denials.extend(d);
        r.errors.extend(e);
    }
    r.denials = fold(std::mem::take(&mut r.denials));
    // Grouped by policy, objects in state order (a stable sort keeps it).
    r.denials
        .sort_by(|a, b| (&a.policy, &a.via).cmp(&(&b.policy, &b.via)));
    r
}

/// One thread's share of [`check`]: denials and errors in object order.
fn check_chunk(
    set: &PolicySet,
    own_templates: &[Option<gatekeeper::Template>],
    objects: &[Value],
    namespaces: &[(String, Value)],
) -> (Vec<Denial>, Vec<String>) {
    let (mut denials, mut errors) = (Vec::new(), Vec::new());
    let ns_labels = |o: &Value| {
        str_at(o, "/metadata/namespace")
            .and_then(|ns| namespaces.iter().find(|(n, _)| n == ns).map(|(_, l)| l))
    };
    for o in objects {
        let subject = cel::Subject::create(o);
        let review = std::cell::OnceCell::new();
        for (i, (name, p)) in set.policies.iter().enumerate() {
            match p {
                Loaded::Gatekeeper {
                    template,
                    constraints,
                } => {
                    let template = own_templates
                        .get(i)
                        .and_then(Option::as_ref)
                        .unwrap_or(template);
                    for c in constraints.iter().filter(|c| c.matches(o)) {
                        let review = review.get_or_init(|| {
                            regorus::Value::from(gatekeeper::review(o, "CREATE", None))
                        });
                        match template.review_prepared(review, &c.parameters_rego) {
                            Ok(v) => denials.extend(v.into_iter().map(|v| Denial {
                                engine: Engine::Gatekeeper,
                                policy: name.clone(),
                                via: Some(c.name.clone()),
                                action: c.enforcement.clone(),
                                object: label(o),
                                message: v.msg,
                                count: 1,
                            })),
                            Err(e) => errors.push(format!("{name} on {}: {e}", label(o))),
                        }
                    }
                }
                Loaded::Vap {
                    policy,
                    bindings,
                    params,
                } => {
                    for b in bindings {
                        let param = policy
                            .param_kind
                            .as_deref()
                            .and_then(|k| b.params(k, params));
                        match policy.evaluate_subject(&subject, Some(b), param, ns_labels(o)) {
                            vap::Verdict::Deny(m) => denials.push(Denial {
                                engine: Engine::Vap,
                                policy: name.clone(),
                                via: Some(b.name.clone()),
                                action: b.actions.join(","),
                                object: label(o),
                                message: m,
                                count: 1,
                            }),
                            vap::Verdict::Error(e) => {
                                errors.push(format!("{name} on {}: {e}", label(o)))
                            }
                            _ => {}
                        }
                    }
                }
                Loaded::Kyverno(k) => {
                    for (rule, out) in k.evaluate_subject(&subject) {
                        match out {
                            kyverno::Outcome::Fail(m) => denials.push(Denial {
                                engine: Engine::Kyverno,
                                policy: format!("{name}/{rule}"),
                                via: None,
                                action: k.action.clone(),
                                object: label(o),
                                message: m,
                                count: 1,
                            }),
                            kyverno::Outcome::Error(e) => {
                                errors.push(format!("{name}/{rule} on {}: {e}", label(o)))
                            }
                            _ => {}
                        }
                    }
                }
            }
        }
    }
    (denials, errors)
}
