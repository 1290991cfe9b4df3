//! Policy-as-code: drafts for Kyverno, Gatekeeper and ValidatingAdmissionPolicy that are
//! proven before they are shown, test bundles in the upstream formats, and the impact of
//! policies on a cluster's current state.
//!
//! Everything is evaluated in-process: Rego with `regorus` ([`gatekeeper`]), CEL with
//! `kube-cel` ([`cel`], used by [`kyverno`] and [`vap`]). A draft whose proof fails is
//! never rendered as valid ([`draft`]).

pub mod catalog;
pub mod cel;
pub mod check;
pub mod draft;
pub mod gatekeeper;
pub mod jmes;
mod jmes_fns;
pub mod kyverno;
pub mod pattern;
pub mod propose;
mod rego_compat;
mod resource_rules;
pub mod suite;
pub mod vap;
mod vpol;

use crate::jsonptr::Pointer as _;
use serde_json::Value;
use std::path::PathBuf;

/// The engines Sextant drafts for and evaluates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    /// Kyverno's current policy type: a `ValidatingPolicy` (policies.kyverno.io).
    Kyverno,
    /// Kyverno's legacy `ClusterPolicy` (kyverno.io) with `validate.cel` rules.
    KyvernoClusterPolicy,
    Gatekeeper,
    Vap,
}

impl Engine {
    /// What `--engine all` drafts: one policy per engine (Kyverno's current type).
    pub const ALL: [Engine; 3] = [Engine::Kyverno, Engine::Gatekeeper, Engine::Vap];

    pub fn as_str(self) -> &'static str {
        match self {
            Engine::Kyverno => "kyverno",
            Engine::KyvernoClusterPolicy => "kyverno-clusterpolicy",
            Engine::Gatekeeper => "gatekeeper",
            Engine::Vap => "vap",
        }
    }

    /// `--engine` values, one name each (`all` is the front ends' own).
    pub fn parse(name: &str) -> Option<Engine> {
        [
            Engine::Kyverno,
            Engine::KyvernoClusterPolicy,
            Engine::Gatekeeper,
            Engine::Vap,
        ]
        .into_iter()
        .find(|e| e.as_str() == name)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("{what}: {why}")]
    Invalid { what: String, why: String },
    #[error("evaluation failed: {0}")]
    Eval(String),
    #[error("{}: {reason}", path.display())]
    Io { path: PathBuf, reason: String },
}

/// A string at a JSON pointer.
pub(crate) fn str_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.at(pointer).and_then(Value::as_str)
}

/// Kinds that have no namespace (the ones policies meet).
pub(crate) fn cluster_scoped(kind: &str) -> bool {
    matches!(
        kind,
        "Namespace"
            | "Node"
            | "PersistentVolume"
            | "StorageClass"
            | "ClusterRole"
            | "ClusterRoleBinding"
            | "CustomResourceDefinition"
            | "IngressClass"
            | "PriorityClass"
            | "ValidatingAdmissionPolicy"
            | "ValidatingAdmissionPolicyBinding"
            | "ClusterPolicy"
            | "ConstraintTemplate"
    )
}

/// A per-thread cache of what is compiled from a policy's text (a JMESPath expression, a
/// `matches()` regex): policies run the same few over every object. Bounded: cleared when
/// `bound` entries are held (rendered expressions can make new texts). The value is handed out
/// as a clone (an `Rc`), so the cache is not borrowed while it runs: a JMESPath function may
/// compile another expression.
pub(crate) fn compiled_once<V: Clone, E>(
    cache: &'static std::thread::LocalKey<std::cell::RefCell<std::collections::HashMap<String, V>>>,
    bound: usize,
    source: &str,
    compile: impl FnOnce() -> Result<V, E>,
) -> Result<V, E> {
    if let Some(v) = cache.with(|c| c.borrow().get(source).cloned()) {
        return Ok(v);
    }
    let v = compile()?;
    cache.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= bound {
            c.clear();
        }
        c.insert(source.to_string(), v.clone());
    });
    Ok(v)
}

/// The plural resource name of a kind, as admission rules name it.
pub(crate) fn resource_of(kind: &str) -> std::borrow::Cow<'static, str> {
    // The kinds Sextant reads (every policy check's workloads among them) by the table that
    // names their resources, without building a string; others by the API's plural rules.
    match crate::cluster::kinds::KINDS.iter().find(|k| k.kind == kind) {
        Some(k) => std::borrow::Cow::Borrowed(k.plural),
        None => plural_by_rules(kind).into(),
    }
}

/// A kind's plural as the API forms it for kinds without irregular names.
fn plural_by_rules(kind: &str) -> String {
    let l = kind.to_ascii_lowercase();
    if l.ends_with("policy") {
        format!("{}ies", &l[..l.len() - 1])
    } else if l.ends_with("ss") || l.ends_with("ch") || l.ends_with("sh") || l.ends_with('x') {
        format!("{l}es")
    } else if l.ends_with('s') {
        l
    } else {
        format!("{l}s")
    }
}

/// A `metav1.LabelSelector` (`matchLabels`, `matchExpressions`) against labels.
pub(crate) fn label_selector_matches(sel: &Value, labels: &Value) -> bool {
    selector_matches(sel, |k| labels.get(k).and_then(Value::as_str))
}

/// [`label_selector_matches`] over labels read by `get` (no map is built to match against).
pub(crate) fn selector_matches<'l>(sel: &Value, get: impl Fn(&str) -> Option<&'l str>) -> bool {
    Selector::new(sel).matches(get)
}

/// A `metav1.LabelSelector` read once, to match many objects: a policy's namespace selector
/// is matched for every object of a check.
#[derive(Debug, Clone, Default)]
pub(crate) struct Selector {
    /// `matchLabels`; a value that is not a string matches only where the label is absent.
    labels: Vec<(String, Option<String>)>,
    /// `matchExpressions`: key, operator, values (items that are not strings never match).
    expressions: Vec<(String, SelectorOp, Vec<String>)>,
}

#[derive(Debug, Clone, Copy)]
enum SelectorOp {
    In,
    NotIn,
    Exists,
    DoesNotExist,
    /// An operator the API does not have: the requirement matches nothing.
    Unknown,
}

impl Selector {
    pub(crate) fn new(sel: &Value) -> Selector {
        let labels = sel
            .get("matchLabels")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.as_str().map(str::to_string)))
            .collect();
        let expressions = sel
            .get("matchExpressions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|e| {
                let op = match str_at(e, "/operator").unwrap_or("") {
                    "In" => SelectorOp::In,
                    "NotIn" => SelectorOp::NotIn,
                    "Exists" => SelectorOp::Exists,
                    "DoesNotExist" => SelectorOp::DoesNotExist,
                    _ => SelectorOp::Unknown,
                };
                let values = e
                    .get("values")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect();
                (str_at(e, "/key").unwrap_or("").to_string(), op, values)
            })
            .collect();
        Selector {
            labels,
            expressions,
        }
    }

    /// Whether labels read by `get` match (no map is built to match against).
    pub(crate) fn matches<'l>(&self, get: impl Fn(&str) -> Option<&'l str>) -> bool {
        self.labels.iter().all(|(k, v)| get(k) == v.as_deref())
            && self.expressions.iter().all(|(key, op, values)| {
                let has = |v: &str| values.iter().any(|w| w == v);
                match op {
                    SelectorOp::In => get(key).is_some_and(has),
                    SelectorOp::NotIn => get(key).is_none_or(|v| !has(v)),
                    SelectorOp::Exists => get(key).is_some(),
                    SelectorOp::DoesNotExist => get(key).is_none(),
                    SelectorOp::Unknown => false,
                }
            })
    }
}

/// Workload kinds whose pods a policy governs, and where their pod template lives.
pub const POD_KINDS: [(&str, &str); 8] = [
    ("Pod", "/spec"),
    ("Deployment", "/spec/template/spec"),
    ("StatefulSet", "/spec/template/spec"),
    ("DaemonSet", "/spec/template/spec"),
    ("ReplicaSet", "/spec/template/spec"),
    ("ReplicationController", "/spec/template/spec"),
    ("Job", "/spec/template/spec"),
    ("CronJob", "/spec/jobTemplate/spec/template/spec"),
];

/// The JSON pointer of the pod spec in an object of `kind`.
pub fn pod_spec_pointer(kind: &str) -> Option<&'static str> {
    POD_KINDS.iter().find(|(k, _)| *k == kind).map(|(_, p)| *p)
}

/// Namespaces that system components live in — the policy engines' own among them, whose
/// webhooks and controllers must keep running whatever a policy says: cluster-wide drafts
/// exclude them.
pub const SYSTEM_NAMESPACES: [&str; 5] = [
    "kube-system",
    "kube-public",
    "kube-node-lease",
    "gatekeeper-system",
    "kyverno",
];

/// Read every YAML/JSON document of the files (a folder: its `*.yaml|*.yml|*.json`),
/// untrusted input parsed with budgets.
pub fn read_documents(paths: &[PathBuf]) -> Result<Vec<(PathBuf, Value)>, PolicyError> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            let found = crate::fswalk::files(p, &|_| true).map_err(|e| PolicyError::Io {
                path: p.clone(),
                reason: e.to_string(),
            })?;
            files.extend(found.into_iter().filter(|f| {
                matches!(
                    f.extension().and_then(|x| x.to_str()),
                    Some("yaml" | "yml" | "json")
                )
            }));
        } else {
            files.push(p.clone());
        }
    }
    files.sort();
    let mut out = Vec::new();
    for f in files {
        for d in parse_documents(&f)? {
            out.push((f.clone(), d));
        }
    }
    Ok(out)
}

/// The documents of one YAML (or JSON) file, parsed as the snapshot reader parses them;
/// `List` objects are flattened, and Secrets are dropped unread (as everywhere in Sextant).
pub fn parse_documents(path: &std::path::Path) -> Result<Vec<Value>, PolicyError> {
    let io = |reason: String| PolicyError::Io {
        path: path.to_path_buf(),
        reason,
    };
    // Only a regular file of bounded size is read (a test suite naming `/dev/zero` or a FIFO
    // as a resource must not grow or block forever).
    let meta = std::fs::metadata(path).map_err(|e| io(e.to_string()))?;
    if !meta.is_file() {
        return Err(io("not a regular file".into()));
    }
    let max = crate::source::snapshot::MAX_OBJECT_FILE_BYTES;
    if meta.len() > max {
        return Err(io(format!("larger than {} MiB", max / (1024 * 1024))));
    }
    let text = std::fs::read_to_string(path).map_err(|e| io(e.to_string()))?;
    let is_json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    parse_documents_text(&text, is_json).map_err(io)
}

/// [`parse_documents`] of text already in hand (policy YAML from an MCP client).
pub fn parse_documents_text(text: &str, is_json: bool) -> Result<Vec<Value>, String> {
    let docs = crate::source::snapshot::parse_text(text, is_json)?;
    let mut out = Vec::new();
    for d in docs {
        if d.is_null() {
            continue;
        }
        match d.get("items").and_then(Value::as_array) {
            Some(items) if str_at(&d, "/kind").is_some_and(|k| k.ends_with("List")) => {
                out.extend(items.iter().cloned())
            }
            _ => out.push(d),
        }
    }
    out.retain(|d| str_at(d, "/kind") != Some("Secret"));
    Ok(out)
}

/// YAML text of a value (for files the user reads and upstream tools consume).
pub fn to_yaml(v: &Value) -> String {
    serde_saphyr::to_string(v).unwrap_or_else(|_| {
        // JSON is valid YAML: the fallback is still readable by every tool.
        serde_json::to_string_pretty(v).unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn resources_are_plural() {
        assert_eq!(resource_of("Pod"), "pods");
        assert_eq!(resource_of("Ingress"), "ingresses");
        assert_eq!(resource_of("NetworkPolicy"), "networkpolicies");
        assert_eq!(resource_of("Deployment"), "deployments");
        // The table's names are the ones the plural rules give.
        for k in crate::cluster::kinds::KINDS {
            assert_eq!(plural_by_rules(k.kind), k.plural, "{}", k.kind);
        }
    }

    #[test]
    fn secrets_in_policy_folders_are_never_read() {
        let d = tempfile::tempdir().expect("tmp");
        let f = d.path().join("mixed.yaml");
        std::fs::write(
            &f,
            "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {password: aHVudGVyMg==}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
        )
        .expect("write");
        let docs = parse_documents(&f).expect("parse");
        assert_eq!(docs.len(), 1);
        assert_eq!(docs[0]["kind"], "ConfigMap");
        assert!(!format!("{docs:?}").contains("aHVudGVyMg"));
    }

    #[test]
    fn label_selectors() {
        let l = json!({"app": "x", "tier": "api"});
        assert!(label_selector_matches(
            &json!({"matchLabels": {"app": "x"}}),
            &l
        ));
        assert!(!label_selector_matches(
            &json!({"matchLabels": {"app": "y"}}),
            &l
        ));
        assert!(label_selector_matches(
            &json!({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["api"]}]}),
            &l
        ));
        assert!(!label_selector_matches(
            &json!({"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}),
            &l
        ));
    }
}
