//! Impact before enforcement: evaluate a set of policies (Gatekeeper templates and
//! constraints, ValidatingAdmissionPolicies and bindings, Kyverno CEL policies) against every
//! matching object of a cluster state and report what they would deny today.
//!
//! Controllers and pods are both evaluated (a policy may match either), and the denials of
//! pods one controller owns are folded into one line with a count, so one bad template is
//! one line, not one per replica.

use super::{Engine, PolicyError, cel, gatekeeper, kyverno, str_at, vap};
use crate::state::{ClusterState, WorkloadJson};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;
use serde_json::Value;
use std::path::PathBuf;

mod run;
mod siblings;
use run::run;
use siblings::*;

/// An object of the state that becomes JSON when it is checked.
trait ToJson: Sync {
    fn to_json(&self) -> Option<Value>;
}

impl<T: Serialize + Sync> ToJson for T {
    fn to_json(&self) -> Option<Value> {
        serde_json::to_value(self).ok()
    }
}

/// A workload kept as JSON text: parsed when it is checked.
struct Text<'a>(&'a WorkloadJson);

impl ToJson for Text<'_> {
    fn to_json(&self) -> Option<Value> {
        serde_json::from_str(&self.0.json).ok()
    }
}

/// Every pod-bearing object of the state (controllers, ReplicaSets and Jobs nothing owns, and
/// every pod), in order.
fn workloads(state: &ClusterState) -> Vec<&dyn ToJson> {
    fn push<'a, T: Serialize + Sync + k8s_openapi::Metadata<Ty = ObjectMeta>>(
        out: &mut Vec<&'a dyn ToJson>,
        items: &'a [T],
        only_unowned: bool,
    ) {
        let unowned = |m: &ObjectMeta| m.owner_references.as_ref().is_none_or(Vec::is_empty);
        out.extend(
            items
                .iter()
                .filter(|i| !only_unowned || unowned(i.metadata()))
                .map(|i| i as &dyn ToJson),
        );
    }
    let mut out: Vec<&dyn ToJson> = Vec::new();
    push(&mut out, &state.deployments, false);
    push(&mut out, &state.stateful_sets, false);
    push(&mut out, &state.daemon_sets, false);
    push(&mut out, &state.cron_jobs, false);
    // A ReplicaSet or Job a controller owns is checked through that controller.
    push(&mut out, &state.replica_sets, true);
    push(&mut out, &state.jobs, true);
    push(&mut out, &state.replication_controllers, false);
    push(&mut out, &state.pods, false);
    out
}

/// The workloads a state keeps as JSON ([`ClusterState::keeping_workloads_as_json`]; owned
/// ReplicaSets and Jobs were not kept), in the order [`workloads`] gives the typed ones.
fn texts(state: &ClusterState) -> Vec<Text<'_>> {
    let mut out: Vec<Text> = state.workload_json.iter().map(Text).collect();
    out.sort_by_key(|t| t.0.rank());
    out
}

/// Every pod-bearing object of the state as JSON, in the order [`workloads`] gives.
pub fn workload_objects(state: &ClusterState) -> Vec<Value> {
    let texts = texts(state);
    workloads(state)
        .into_iter()
        .chain(texts.iter().map(|t| t as &dyn ToJson))
        .filter_map(|w| w.to_json())
        .collect()
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
        /// Boxed: its compiled resource rules make it the largest variant.
        policy: Box<vap::Policy>,
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
    /// Per policy: whether its code and match rules read only fields that sibling pods (pods
    /// of one controller) share, so one sibling's verdict stands for the others (see
    /// [`sibling_invariant`]).
    pub sibling_safe: Vec<bool>,
    /// What the set's CEL policies read of an object: each object is cut to it and converted
    /// to CEL once for all of them ([`cel::Cover`]).
    pub cover: Option<std::sync::Arc<cel::Cover>>,
}

impl PolicySet {
    /// Read every policy document of `paths` (files or folders).
    pub fn load(paths: &[PathBuf]) -> Result<PolicySet, PolicyError> {
        Ok(PolicySet::from_documents(super::read_documents(paths)?))
    }

    /// The policies among `docs` (each with the file it came from, for messages).
    pub fn from_documents(docs: Vec<(PathBuf, Value)>) -> PolicySet {
        let mut set = PolicySet {
            policies: Vec::new(),
            skipped: Vec::new(),
            sibling_safe: Vec::new(),
            cover: None,
        };
        // name → whether the policy's documents read only what sibling pods share.
        let mut safe: std::collections::HashMap<String, bool> = Default::default();
        let mut note_safe = |name: Option<&str>, d: &Value| {
            if let Some(n) = name {
                let ok = sibling_invariant(d);
                let e = safe.entry(n.to_string()).or_insert(true);
                *e &= ok;
            }
        };
        let mut templates = Vec::new();
        let mut constraints = Vec::new();
        let mut vaps = Vec::new();
        let mut bindings = Vec::new();
        let mut others = Vec::new();
        for (path, d) in docs {
            let where_ = path.display().to_string();
            // Templates by name, constraints by the template kind they instantiate (lowercased
            // as the template's name), VAPs and bindings by the policy name, Kyverno by name.
            let owner_name = match str_at(&d, "/kind").unwrap_or("") {
                "ValidatingAdmissionPolicyBinding" => {
                    str_at(&d, "/spec/policyName").map(str::to_string)
                }
                _ if str_at(&d, "/apiVersion")
                    .is_some_and(|a| a.starts_with("constraints.gatekeeper.sh/")) =>
                {
                    str_at(&d, "/kind").map(str::to_lowercase)
                }
                _ => str_at(&d, "/metadata/name").map(str::to_string),
            };
            note_safe(owner_name.as_deref(), &d);
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
                // Kyverno: ClusterPolicy/Policy (kyverno.io) and its CEL policy types
                // (policies.kyverno.io: ValidatingPolicy evaluated, the others named).
                kind if str_at(&d, "/apiVersion").is_some_and(|a| {
                    a.starts_with("kyverno.io/") && matches!(kind, "ClusterPolicy" | "Policy")
                        || a.starts_with("policies.kyverno.io/")
                }) =>
                {
                    match kyverno::Policy::from_object(&d) {
                        Ok(p) => {
                            for (r, what) in p.lookups() {
                                set.skipped.push(format!(
                                    "{where_}: Kyverno rule {r} of {}: its context looks up the cluster ({what}), which a snapshot cannot answer; not checked",
                                    p.name
                                ));
                            }
                            // A ValidatingPolicy's one rule is the policy itself (unnamed).
                            let who = |r: &str| match r {
                                "" => format!("Kyverno policy {}", p.name),
                                r => format!("Kyverno rule {r} of {}", p.name),
                            };
                            for (r, why) in &p.unsupported {
                                set.skipped
                                    .push(format!("{where_}: {}: {why}; not checked", who(r)));
                            }
                            for (r, what) in &p.not_validating {
                                set.skipped.push(format!(
                                    "{where_}: {} is a {what}{}: it denies nothing, not checked",
                                    who(r),
                                    if r.is_empty() { "" } else { " rule" }
                                ));
                            }
                            if p.rule_names().next().is_some() {
                                set.policies.push((p.name.clone(), Loaded::Kyverno(p)));
                            }
                        }
                        Err(e) => set.skipped.push(format!("{where_}: {e}")),
                    }
                }
                // Kyverno's CEL policy types: named, never silently dropped.
                kind if str_at(&d, "/apiVersion")
                    .is_some_and(|a| a.starts_with("policies.kyverno.io/")) =>
                {
                    set.skipped.push(format!(
                        "{where_}: Kyverno {kind} {} (policies.kyverno.io) is not evaluated by this version of Sextant: not checked",
                        str_at(&d, "/metadata/name").unwrap_or("?")
                    ));
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
                    policy: Box::new(p),
                    bindings: mine,
                    params,
                },
            ));
        }
        set.sibling_safe = set
            .policies
            .iter()
            .map(|(name, p)| {
                let key = match p {
                    Loaded::Gatekeeper { template, .. } => template.name.to_lowercase(),
                    _ => name.clone(),
                };
                // Parameter objects are data a policy may compare names against: not shared.
                let has_params = matches!(p, Loaded::Vap { params, .. } if !params.is_empty());
                !has_params && safe.get(&key).copied().unwrap_or(false)
            })
            .collect();
        set.cover = cel::Cover::new(set.policies.iter().flat_map(|(_, p)| {
            match p {
                Loaded::Vap { policy, .. } => vec![&policy.reach],
                Loaded::Kyverno(k) => k.reaches().collect(),
                Loaded::Gatekeeper { template, .. } => template
                    .preferred_cel()
                    .map(|p| &p.reach)
                    .into_iter()
                    .collect(),
            }
        }));
        set
    }
}

/// One object a policy would deny.
#[derive(Debug, Clone, PartialEq, Serialize)]
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

/// Evaluate every policy against every object.
///
/// Objects are split across the machine's cores; within a chunk, objects are the outer loop so
/// each object is converted to CEL and to Rego once for all policies. The result does not
/// depend on the number of threads (chunks are joined in order).
pub fn check(set: &PolicySet, objects: &[Value], namespaces: &[(String, Value)]) -> Report {
    run(
        set,
        objects.len(),
        &|i| objects.get(i).map(std::borrow::Cow::Borrowed),
        namespaces,
    )
}

/// [`check`] of the state's workloads ([`workload_objects`]), each made JSON only while it is
/// checked: a large cluster's objects are never all in memory as JSON at once.
pub fn check_state(
    set: &PolicySet,
    state: &ClusterState,
    namespaces: &[(String, Value)],
) -> Report {
    let texts = texts(state);
    let mut items = workloads(state);
    items.extend(texts.iter().map(|t| t as &dyn ToJson));
    run(
        set,
        items.len(),
        &|i| {
            items
                .get(i)
                .and_then(|w| w.to_json())
                .map(std::borrow::Cow::Owned)
        },
        namespaces,
    )
}

/// Policy `i` of the set on one object: its denials and evaluation errors, their text as the
/// policy and the evaluation wrote it (not yet [`shown`]).
fn evaluate<'o>(
    set: &PolicySet,
    own_templates: &[Option<gatekeeper::Template>],
    i: usize,
    o: &'o Value,
    subject: &std::cell::OnceCell<cel::Subject<'o>>,
    review: &std::cell::OnceCell<regorus::Value>,
    namespace: Option<&Value>,
) -> (Vec<Denial>, Vec<String>) {
    // What `namespaceSelector`s match.
    let ns_labels = namespace.and_then(|n| n.get("metadata")?.get("labels"));
    let (mut denials, mut errors) = (Vec::new(), Vec::new());
    let Some((name, p)) = set.policies.get(i) else {
        return (denials, errors);
    };
    // The object converted for CEL once, for every CEL policy of the set.
    let subject = || {
        subject.get_or_init(|| {
            cel::Subject::create(o)
                .covered_by(set.cover.clone())
                .in_namespace(namespace.cloned())
        })
    };
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
                let cel = template
                    .preferred_cel()
                    .and_then(|_| template.cel_subject_violations(subject(), &c.parameters));
                let result = match cel {
                    Some(r) => r.map_err(|e| PolicyError::Eval(format!("{}: {e}", template.name))),
                    None => {
                        let review = review.get_or_init(|| {
                            regorus::Value::from(gatekeeper::review(o, "CREATE", None))
                        });
                        template.review_prepared(review, &c.parameters_rego)
                    }
                };
                match result {
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
            let subject = subject();
            for b in bindings {
                let param = policy
                    .param_kind
                    .as_deref()
                    .and_then(|k| b.params(k, params));
                match policy.evaluate_subject(subject, Some(b), param, ns_labels) {
                    vap::Verdict::Deny(m) => denials.push(Denial {
                        engine: Engine::Vap,
                        policy: name.clone(),
                        via: Some(b.name.clone()),
                        action: b.actions.join(","),
                        object: label(o),
                        message: m,
                        count: 1,
                    }),
                    vap::Verdict::Error(e) => errors.push(format!("{name} on {}: {e}", label(o))),
                    _ => {}
                }
            }
        }
        Loaded::Kyverno(k) => {
            let subject = subject();
            for (rule, out) in k.evaluate_subject(subject) {
                match out {
                    kyverno::Outcome::Fail(m) => denials.push(Denial {
                        engine: Engine::Kyverno,
                        // A ValidatingPolicy's one rule is the policy itself.
                        policy: if rule == *name {
                            name.clone()
                        } else {
                            format!("{name}/{rule}")
                        },
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
    (denials, errors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vap(name: &str, expression: &str, message: &str) -> String {
        format!(
            "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata:\n  name: {name}\nspec:\n  matchConstraints:\n    resourceRules:\n    - apiGroups: ['']\n      apiVersions: [v1]\n      operations: [CREATE, UPDATE]\n      resources: [pods]\n  validations:\n  - expression: \"{expression}\"\n    messageExpression: \"{message}\"\n---\napiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\nmetadata:\n  name: {name}\nspec:\n  policyName: {name}\n  validationActions: [Deny]\n"
        )
    }

    fn pod(i: usize, image: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": format!("web-7d9f-{i}"), "namespace": "shop", "uid": format!("u{i}"),
                "labels": {"app": "web"},
                "ownerReferences": [{"kind": "ReplicaSet", "name": "web-7d9f", "uid": "rs1", "apiVersion": "apps/v1"}]},
            "spec": {"nodeName": format!("node-{}", i % 3), "containers": [{"name": "web", "image": image}]},
            "status": {"phase": "Running", "podIP": format!("10.0.0.{i}")}})
    }

    /// Reads only what replicas share.
    fn no_latest() -> String {
        vap(
            "no-latest",
            "object.spec.containers.all(c, !c.image.endsWith(':latest'))",
            "'latest in ' + object.metadata.namespace",
        )
    }

    /// Reads the pod's own name.
    fn by_name() -> String {
        vap(
            "by-name",
            "!object.metadata.name.endsWith('-3')",
            "'no pod 3'",
        )
    }

    fn set(docs: &[String]) -> (PolicySet, tempfile::TempDir) {
        let dir = tempfile::tempdir().expect("tmp");
        for (i, d) in docs.iter().enumerate() {
            std::fs::write(dir.path().join(format!("p{i}.yaml")), d).expect("write");
        }
        let s = PolicySet::load(&[dir.path().to_path_buf()]).expect("load");
        (s, dir)
    }

    #[test]
    fn which_policies_read_only_what_siblings_share() {
        let (s, _d) = set(&[
            no_latest(),
            by_name(),
            vap("by-node", "!has(object.spec.nodeName)", "'pinned'"),
        ]);
        let safe: std::collections::HashMap<&str, bool> = s
            .policies
            .iter()
            .map(|(n, _)| n.as_str())
            .zip(s.sibling_safe.iter().copied())
            .collect();
        assert!(safe["no-latest"]);
        assert!(!safe["by-name"], "reads metadata.name");
        assert!(!safe["by-node"], "reads spec.nodeName");
        let gk = json!({"kind": "K8sX", "spec": {"match": {"name": "web-*"}}});
        assert!(!sibling_invariant(&gk), "matches by name");
    }

    /// Sextant's own drafts read only what replicas share, so `policy check` of them reuses
    /// verdicts across replicas (the 10,000-pod benchmark depends on it).
    #[test]
    fn every_catalog_draft_reads_only_shared_fields() {
        use crate::policy::{Engine, draft};
        let mut docs = Vec::new();
        for rule in crate::policy::catalog::rules() {
            let req =
                draft::request_for_category(rule.category, Engine::ALL.to_vec()).expect("request");
            let d = draft::draft(&req, Vec::new()).expect("draft");
            for e in d.drafts.iter().filter(|e| e.scope == draft::Scope::Cluster) {
                docs.extend(e.files.values().cloned());
            }
        }
        let (s, _d) = set(&docs);
        assert_eq!(s.policies.len(), 3 * crate::policy::catalog::rules().len());
        for ((name, _), ok) in s.policies.iter().zip(&s.sibling_safe) {
            assert!(ok, "{name} reads a field replicas do not share");
        }
    }

    /// Reusing one sibling's verdict gives exactly the report of evaluating every pod, for
    /// policies that may reuse it and for those that must not.
    #[test]
    fn sibling_reuse_changes_nothing_in_the_report() {
        let (s, _d) = set(&[no_latest(), by_name()]);
        assert_eq!(s.sibling_safe, vec![true, false]);
        // 12 replicas of a bad template, and one pod of the same owner that differs.
        let mut objects: Vec<Value> = (0..12).map(|i| pod(i, "web:latest")).collect();
        objects.push(pod(12, "web:1.2.3"));
        let with = check(&s, &objects, &[]);
        let plain = PolicySet {
            policies: s.policies,
            skipped: s.skipped,
            sibling_safe: vec![false, false],
            cover: s.cover,
        };
        let without = check(&plain, &objects, &[]);
        assert_eq!(with.denials, without.denials);
        assert_eq!(with.errors, without.errors);
        assert_eq!(
            denial(&with, "no-latest").count,
            12,
            "the differing pod is evaluated on its own"
        );
        assert_eq!(denial(&with, "by-name").count, 1);
    }

    /// The (first) denial line of `policy`.
    fn denial<'r>(r: &'r Report, policy: &str) -> &'r Denial {
        r.denials
            .iter()
            .find(|d| d.policy == policy)
            .unwrap_or_else(|| panic!("no denial by {policy}"))
    }

    #[test]
    fn what_the_report_quotes_of_an_object_is_redacted_and_neutralised() {
        let token = format!("ghp_{}", "a1B2".repeat(9));
        let (s, _d) = set(&[
            vap(
                "image-quoted",
                "object.spec.containers.all(c, !c.image.startsWith('ghp_'))",
                "'image ' + object.spec.containers[0].image",
            ),
            // An error can quote the object too: the key it did not find.
            vap(
                "label-by-image",
                "object.metadata.labels[object.spec.containers[0].image] == 'x'",
                "'never'",
            ),
        ]);
        // Many replicas and a few distinct images: messages repeat, and the ones shown again
        // are still the redacted ones.
        let objects: Vec<Value> = (0..300)
            .map(|i| pod(i, &format!("{token}\u{1b}[2J{}", i % 3)))
            .collect();
        let r = check(&s, &objects, &[]);
        let text = serde_json::to_string(&r).expect("json");
        assert!(!text.contains(&token), "the token is shown");
        assert!(!text.contains('\u{1b}'), "an escape is shown raw");
        let quoted = denial(&r, "image-quoted");
        assert!(
            quoted.message.contains("[REDACTED:github-token]"),
            "{}",
            quoted.message
        );
        assert_eq!(quoted.count, 300);
        // One line per distinct image, counted over the replicas.
        assert_eq!(r.errors.len(), 3, "{:?}", r.errors.first());
        assert!(r.errors.iter().all(|e| e.ends_with("(×100)")));
        assert!(
            r.errors
                .iter()
                .all(|e| e.contains("[REDACTED:github-token]")),
            "{:?}",
            r.errors.first()
        );
    }

    #[test]
    fn namespace_selectors_read_the_namespaces_labels() {
        let policy = vap("team-a", "false", "'denied'").replace(
            "  validations:",
            "    namespaceSelector:\n      matchLabels: {team: a}\n  validations:",
        );
        let (s, _d) = set(&[policy]);
        let objects = [pod(1, "web:1")];
        let labelled = |team: &str| vec![("shop".to_string(), json!({"team": team}))];
        assert_eq!(check(&s, &objects, &labelled("a")).denials.len(), 1);
        assert!(check(&s, &objects, &labelled("b")).denials.is_empty());
        assert!(check(&s, &objects, &[]).denials.is_empty());
        // A name listed twice keeps its first labels.
        let mut twice = labelled("a");
        twice.extend(labelled("b"));
        assert_eq!(check(&s, &objects, &twice).denials.len(), 1);
    }

    /// What a policy reads as `namespaceObject` is the object's Namespace as the snapshot has
    /// it (name and labels), in every engine; a namespace the snapshot lacks reads as the API
    /// server guarantees it.
    #[test]
    fn policies_read_the_namespace_the_snapshot_has() {
        let expr = "namespaceObject.metadata.name == 'shop' && namespaceObject.metadata.labels.team == 'a'";
        let msg = "'in ' + namespaceObject.metadata.name";
        let vpol = format!(
            "apiVersion: policies.kyverno.io/v1\nkind: ValidatingPolicy\nmetadata:\n  name: vpol-team\nspec:\n  matchConstraints:\n    resourceRules:\n    - apiGroups: ['']\n      apiVersions: [v1]\n      operations: [CREATE, UPDATE]\n      resources: [pods]\n  validations:\n  - expression: \"!({expr})\"\n    messageExpression: \"{msg}\"\n"
        );
        let (s, _d) = set(&[vap("vap-team", &format!("!({expr})"), msg), vpol]);
        let objects = [pod(1, "web:1")];
        let team = |t: &str| vec![("shop".to_string(), json!({"team": t}))];
        let r = check(&s, &objects, &team("a"));
        assert!(r.errors.is_empty(), "{:?}", r.errors);
        let mut denied: Vec<(&str, &str)> = r
            .denials
            .iter()
            .map(|d| (d.policy.as_str(), d.message.as_str()))
            .collect();
        denied.sort();
        assert_eq!(denied, [("vap-team", "in shop"), ("vpol-team", "in shop")]);
        assert!(check(&s, &objects, &team("b")).denials.is_empty());
        // Not in the snapshot: its name, and no `team` label (an evaluation error, never a
        // denial's message).
        let r = check(&s, &objects, &[]);
        assert!(
            r.denials
                .iter()
                .all(|d| d.message.starts_with("evaluation error") && d.message.contains("team")),
            "{:?}",
            r.denials
        );
    }

    #[test]
    fn the_report_is_the_same_however_the_objects_are_chunked() {
        let (s, _d) = set(&[no_latest(), by_name()]);
        // Several chunks' worth, a bad replica now and then.
        let objects: Vec<Value> = (0..700)
            .map(|i| {
                pod(
                    i,
                    if i % 7 == 3 {
                        "web:latest"
                    } else {
                        "web:1.2.3"
                    },
                )
            })
            .collect();
        let whole = check(&s, &objects, &[]);
        let mut one_by_one: Vec<Denial> = objects
            .iter()
            .flat_map(|o| check(&s, std::slice::from_ref(o), &[]).denials)
            .collect();
        one_by_one = fold(one_by_one);
        one_by_one.sort_by(|a, b| (&a.policy, &a.via).cmp(&(&b.policy, &b.via)));
        assert_eq!(whole.denials, one_by_one);
        assert_eq!(whole.objects, 700);
        assert_eq!(denial(&whole, "no-latest").count, 100);
    }
}
