//! Findings: what the analyzers produce and every renderer, the index and the assistant consume.
//!
//! The JSON shape is the public contract (`docs/cli.md`, `analyze -o json`); the
//! field names and the category vocabulary here must not drift from it. Additions
//! (`affected`, `score`) are extensions the contract allows.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;

/// How bad a finding is. Ordered so that `Critical > Warning > Info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "info" => Ok(Severity::Info),
            "warning" | "warn" => Ok(Severity::Warning),
            "critical" | "crit" => Ok(Severity::Critical),
            other => Err(format!(
                "unknown severity '{other}' (expected info, warning or critical)"
            )),
        }
    }
}

macro_rules! categories {
    ($( $group:ident => [ $( $name:ident ),* $(,)? ] ),* $(,)?) => {
        /// The finding vocabulary of the contract. One variant per category name, spelled as
        /// in the JSON.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum Category { $( $( $name, )* )* }

        impl Category {
            /// Every category, in contract order.
            pub const ALL: &'static [Category] = &[ $( $( Category::$name, )* )* ];

            pub fn as_str(self) -> &'static str {
                match self { $( $( Category::$name => stringify!($name), )* )* }
            }

            /// The contract's grouping of the category.
            pub fn group(self) -> CategoryGroup {
                match self { $( $( Category::$name => CategoryGroup::$group, )* )* }
            }
        }
    };
}

categories! {
    Workloads => [
        CrashLoopBackOff, ImagePullBackOff, CreateContainerConfigError, CreateContainerError,
        RunContainerError, OOMKilled, ContainerExitError, ProbeFailure, Unschedulable, Evicted,
        RolloutStuck, ReplicasUnavailable, JobFailed, CronJobFailing, ConditionFailing,
    ],
    Networking => [
        ServiceNoEndpoints, IngressBackendMissing, IngressTLSSecretMissing, IngressClassMissing,
        NetworkPolicyNoMatch, NetworkPolicyBlocking,
    ],
    StorageAndNodes => [PVCPending, PVCLost, NodeNotReady, NodePressure],
    Scaling => [HPAUnhealthy, PDBBlocking],
    Security => [
        Privileged, PrivilegeEscalation, HostNamespace, HostPath, RunAsRoot,
        DangerousCapabilities, NoResourceLimits, NoResourceRequests, LatestTag, NoProbes,
    ],
}

/// The contract's four groups of categories.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CategoryGroup {
    Workloads,
    Networking,
    StorageAndNodes,
    Scaling,
    Security,
}

impl Category {
    /// Security and hygiene findings are reported once per workload and never on system
    /// namespaces.
    pub fn is_hygiene(self) -> bool {
        self.group() == CategoryGroup::Security
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Category {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Category::ALL
            .iter()
            .copied()
            .find(|c| c.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("unknown category '{s}'"))
    }
}

/// A Kubernetes object as findings name it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ObjectRef {
    pub kind: String,
    /// `null` for cluster-scoped objects: the field is always present so consumers can rely
    /// on the shape.
    #[serde(default)]
    pub namespace: Option<String>,
    pub name: String,
}

impl ObjectRef {
    pub fn new(kind: &str, namespace: Option<&str>, name: &str) -> Self {
        ObjectRef {
            kind: kind.to_string(),
            namespace: namespace.filter(|n| !n.is_empty()).map(str::to_string),
            name: name.to_string(),
        }
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{}/{}/{}", self.kind, ns, self.name),
            None => write!(f, "{}/{}", self.kind, self.name),
        }
    }
}

/// The top controller of an object, as the contract prints it (`{"kind", "name"}`; the
/// namespace is the object's own).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct OwnerRef {
    pub kind: String,
    pub name: String,
}

/// Where a piece of evidence comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EvidenceSource {
    Event,
    Log,
    Status,
    Spec,
}

impl EvidenceSource {
    pub fn as_str(self) -> &'static str {
        match self {
            EvidenceSource::Event => "event",
            EvidenceSource::Log => "log",
            EvidenceSource::Status => "status",
            EvidenceSource::Spec => "spec",
        }
    }
}

/// One quoted fact that supports a finding. `ref` points at where the text was read, so a
/// reader (or the index) can find it again: `events/NS/OBJECT`, `logs/NS/POD/CONTAINER`,
/// `status/KIND/NS/NAME`, `spec/KIND/NS/NAME`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    pub source: EvidenceSource,
    pub text: String,
    #[serde(rename = "ref")]
    pub reference: String,
}

/// A guidance section that applies to a finding (filled by the index; empty offline until the
/// index exists).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuidanceRef {
    pub id: String,
    pub file: String,
    pub heading: String,
    pub lang: String,
}

/// One problem, with the evidence that shows it and what to do about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub id: String,
    pub severity: Severity,
    pub category: Category,
    pub object: ObjectRef,
    pub owner: Option<OwnerRef>,
    pub title: String,
    pub explanation: String,
    pub evidence: Vec<Evidence>,
    pub remediation: String,
    pub guidance: Vec<GuidanceRef>,
    /// Every object this finding stands for when several pods of one controller fail the same
    /// way (the `object` is the first of them). Extension of the contract.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub affected: Vec<String>,
    /// Ids of findings that explain this one (e.g. the Service its log says it cannot reach
    /// is down because of another finding). Extension.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<String>,
    /// Blast radius used for ranking: affected replicas, restarts, event counts. Extension.
    #[serde(default)]
    pub score: u64,
}

impl Finding {
    /// One line: `F-3a9c1e critical CrashLoopBackOff Pod/shop/cart-x: title`.
    pub fn summary_line(&self) -> String {
        format!(
            "{} {} {} {}/{}/{}: {}",
            self.id,
            self.severity.as_str(),
            self.category.as_str(),
            self.object.kind,
            self.object.namespace.as_deref().unwrap_or("-"),
            self.object.name,
            self.title
        )
    }

    /// The key a finding's id is derived from: the owner when there is one (pod names change
    /// on every rollout, the Deployment does not), otherwise the object itself.
    pub fn identity_key(
        category: Category,
        object: &ObjectRef,
        owner: Option<&OwnerRef>,
    ) -> String {
        let ns = object.namespace.as_deref().unwrap_or("");
        match owner {
            Some(o) => format!("{}|{}|{}|{}", category.as_str(), ns, o.kind, o.name),
            None => format!(
                "{}|{}|{}|{}",
                category.as_str(),
                ns,
                object.kind,
                object.name
            ),
        }
    }

    /// A stable id: `F-` and the first hex digits of a SHA-256 of the identity key.
    pub fn make_id(key: &str, hex_len: usize) -> String {
        let digest = Sha256::digest(key.as_bytes());
        let mut s = String::with_capacity(2 + hex_len);
        s.push_str("F-");
        for b in digest.iter() {
            if s.len() >= 2 + hex_len {
                break;
            }
            s.push_str(&format!("{b:02x}"));
        }
        s.truncate(2 + hex_len);
        s
    }
}

/// Counts per severity, as in the contract's `summary`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub critical: usize,
    pub warning: usize,
    pub info: usize,
}

impl Summary {
    pub fn of<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> Self {
        let mut s = Summary::default();
        for f in findings {
            match f.severity {
                Severity::Critical => s.critical += 1,
                Severity::Warning => s.warning += 1,
                Severity::Info => s.info += 1,
            }
        }
        s
    }
}

/// `1 pod`, `3 pods`: counts in titles and explanations read as English.
pub fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_and_prefixed() {
        let a = Finding::make_id("CrashLoopBackOff|shop|Deployment|cart", 8);
        let b = Finding::make_id("CrashLoopBackOff|shop|Deployment|cart", 8);
        assert_eq!(a, b);
        assert!(a.starts_with("F-"));
        assert_eq!(a.len(), 10);
        assert_ne!(a, Finding::make_id("OOMKilled|shop|Deployment|cart", 8));
    }

    #[test]
    fn categories_round_trip_through_their_names() {
        for c in Category::ALL {
            assert_eq!(c.as_str().parse::<Category>().unwrap(), *c);
            let json = serde_json::to_string(c).unwrap();
            assert_eq!(json, format!("\"{}\"", c.as_str()));
        }
        assert_eq!(Category::ALL.len(), 37);
        assert!("crashloopbackoff".parse::<Category>().is_ok());
        assert!("Nope".parse::<Category>().is_err());
    }

    #[test]
    fn severity_orders_and_parses() {
        assert!(Severity::Critical > Severity::Warning);
        assert!(Severity::Warning > Severity::Info);
        assert_eq!("WARNING".parse::<Severity>().unwrap(), Severity::Warning);
        assert!("bad".parse::<Severity>().is_err());
    }
}
