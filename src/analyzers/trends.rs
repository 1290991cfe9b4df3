//! Trends: findings aggregated by category across namespaces, applications and clusters.
//!
//! Level 4 asks teams to aggregate issues across applications and fix them once, centrally:
//! "9 workloads in 5 namespaces run as root; one policy covers them all". A finding list says
//! what is wrong where; a trend says what the platform team should change.

use crate::findings::{Category, CategoryGroup, Finding, GuidanceRef, Severity, plural};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// One category's findings across the fleet.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trend {
    pub category: Category,
    /// The highest severity among the findings.
    pub severity: Severity,
    pub findings: usize,
    /// Distinct workloads (controller, or the object itself when it has none), per cluster.
    pub workloads: usize,
    /// Distinct application names (the controller's or object's name), across clusters: the
    /// same app failing in two clusters counts once.
    pub applications: Vec<String>,
    /// Namespaces, as `cluster/namespace` when the findings come from several clusters.
    pub namespaces: Vec<String>,
    pub clusters: Vec<String>,
    /// The command that drafts one policy covering every workload of the trend, when Sextant
    /// has a policy for the category.
    pub policy: Option<String>,
    /// The Level 4 section that applies (the first of the findings' guidance).
    pub guidance: Option<GuidanceRef>,
    /// Up to three examples, `cluster · namespace · Kind name`.
    pub examples: Vec<String>,
    /// The trend in one sentence.
    pub summary: String,
}

/// The findings of one cluster, named.
pub struct ClusterFindings<'a> {
    pub cluster: &'a str,
    pub findings: &'a [Finding],
}

/// Aggregate the findings of every cluster by category; most severe and widest first.
pub fn trends(clusters: &[ClusterFindings]) -> Vec<Trend> {
    #[derive(Default)]
    struct Acc {
        severity: Option<Severity>,
        findings: usize,
        workloads: BTreeSet<(String, String, String)>,
        applications: BTreeSet<String>,
        namespaces: BTreeSet<(String, String)>,
        clusters: BTreeSet<String>,
        guidance: Option<GuidanceRef>,
        examples: Vec<String>,
        /// The kind of the first object (the noun of non-workload trends).
        kind: String,
    }
    let several = clusters.len() > 1;
    let mut by: BTreeMap<Category, Acc> = BTreeMap::new();
    for c in clusters {
        for f in c.findings {
            let a = by.entry(f.category).or_default();
            a.severity = Some(a.severity.map_or(f.severity, |s| s.max(f.severity)));
            a.findings += 1;
            if a.kind.is_empty() {
                a.kind = f.object.kind.clone();
            }
            let (kind, app) = match &f.owner {
                Some(o) => (o.kind.clone(), o.name.clone()),
                None => (f.object.kind.clone(), f.object.name.clone()),
            };
            let ns = f.object.namespace.clone().unwrap_or_default();
            if a.workloads
                .insert((c.cluster.to_string(), ns.clone(), format!("{kind}/{app}")))
                && a.examples.len() < 3
            {
                let at = if ns.is_empty() {
                    format!("{kind} {app}")
                } else {
                    format!("{ns} · {kind} {app}")
                };
                a.examples.push(if several {
                    format!("{} · {at}", c.cluster)
                } else {
                    at
                });
            }
            a.applications.insert(app);
            if !ns.is_empty() {
                a.namespaces.insert((c.cluster.to_string(), ns));
            }
            a.clusters.insert(c.cluster.to_string());
            if a.guidance.is_none() {
                a.guidance = f.guidance.first().cloned();
            }
        }
    }
    let mut out: Vec<Trend> = by
        .into_iter()
        .map(|(category, a)| {
            let policy = crate::policy::catalog::rule_for(category)
                .map(|_| format!("sextant policy draft {}", category.as_str()));
            let namespaces: Vec<String> = a
                .namespaces
                .iter()
                .map(|(c, ns)| {
                    if several {
                        format!("{c}/{ns}")
                    } else {
                        ns.clone()
                    }
                })
                .collect();
            let clusters: Vec<String> = a.clusters.into_iter().collect();
            let summary = sentence(
                category,
                &a.kind,
                a.workloads.len(),
                namespaces.len(),
                if several { &clusters } else { &[] },
                policy.is_some(),
            );
            Trend {
                category,
                severity: a.severity.unwrap_or(Severity::Info),
                findings: a.findings,
                workloads: a.workloads.len(),
                applications: a.applications.into_iter().collect(),
                namespaces,
                clusters,
                policy,
                guidance: a.guidance,
                examples: a.examples,
                summary,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(b.workloads.cmp(&a.workloads))
            .then(a.category.as_str().cmp(b.category.as_str()))
    });
    out
}

/// "9 workloads in 5 namespaces across 2 clusters run as root; one policy covers them all".
fn sentence(
    category: Category,
    kind: &str,
    workloads: usize,
    namespaces: usize,
    clusters: &[String],
    policy: bool,
) -> String {
    let mut s = match category.group() {
        CategoryGroup::Workloads | CategoryGroup::Security => plural(workloads, "workload"),
        _ => counted(workloads, kind),
    };
    if namespaces > 0 {
        s.push_str(&format!(" in {}", plural(namespaces, "namespace")));
    }
    match clusters {
        [] => {}
        [one] => s.push_str(&format!(" of cluster {one}")),
        many => s.push_str(&format!(" across {} clusters", many.len())),
    }
    let phrase = phrase(category);
    s.push(' ');
    s.push_str(&if workloads == 1 {
        singular(phrase)
    } else {
        phrase.to_string()
    });
    if policy {
        s.push_str(if workloads > 1 {
            "; one policy covers them all"
        } else {
            "; a policy keeps it from coming back"
        });
    }
    s
}

/// "1 node", "2 PVCs", "3 ingresses": a count of objects of `kind`.
fn counted(n: usize, kind: &str) -> String {
    let (one, many) = match kind {
        "Node" => ("node", "nodes"),
        "Service" => ("service", "services"),
        "Ingress" => ("ingress", "ingresses"),
        "PersistentVolumeClaim" => ("PVC", "PVCs"),
        "HorizontalPodAutoscaler" => ("HPA", "HPAs"),
        "PodDisruptionBudget" => ("PDB", "PDBs"),
        "NetworkPolicy" => ("network policy", "network policies"),
        _ => ("object", "objects"),
    };
    format!("{n} {}", if n == 1 { one } else { many })
}

/// What the workloads of a category do, in the plural ("run as root").
pub(crate) fn phrase(c: Category) -> &'static str {
    use Category::*;
    match c {
        Privileged => "run privileged containers",
        PrivilegeEscalation => "allow privilege escalation",
        HostNamespace => "share the host's namespaces",
        HostPath => "mount host paths",
        RunAsRoot => "run as root",
        DangerousCapabilities => "add dangerous capabilities",
        NoResourceLimits => "have no resource limits",
        NoResourceRequests => "have no resource requests",
        LatestTag => "use a mutable image tag (latest or none)",
        NoProbes => "have no health probes",
        CrashLoopBackOff => "are crash-looping",
        ImagePullBackOff => "cannot pull their image",
        OOMKilled => "were OOM-killed",
        ContainerExitError => "exited with an error",
        ProbeFailure => "fail their probes",
        Unschedulable => "cannot be scheduled",
        Evicted => "were evicted",
        RolloutStuck => "have a stuck rollout",
        ReplicasUnavailable => "have unavailable replicas",
        JobFailed => "failed",
        CronJobFailing => "keep failing",
        ServiceNoEndpoints => "have no endpoints",
        PVCPending => "are pending",
        NodeNotReady => "are not ready",
        NodePressure => "are under resource pressure",
        CreateContainerConfigError => "cannot start: their container config is broken",
        CreateContainerError => "cannot create their containers",
        RunContainerError => "cannot run their containers",
        IngressBackendMissing => "route to missing backends",
        IngressTLSSecretMissing => "reference a missing TLS secret",
        IngressClassMissing => "name a missing IngressClass",
        NetworkPolicyNoMatch => "select no pods",
        NetworkPolicyBlocking => "are cut off by a NetworkPolicy",
        PVCLost => "have lost their volume",
        HPAUnhealthy => "cannot scale",
        PDBBlocking => "block voluntary evictions",
        ConditionFailing => "report a failing condition",
    }
}

/// The phrase for one subject: the first verb agrees ("run" → "runs", "are" → "is") and
/// "their" becomes "its".
fn singular(phrase: &str) -> String {
    let (verb, rest) = phrase.split_once(' ').unwrap_or((phrase, ""));
    let verb = match verb {
        "are" => "is".to_string(),
        "were" => "was".to_string(),
        "have" => "has".to_string(),
        "cannot" | "failed" => verb.to_string(),
        v => format!("{v}s"),
    };
    let rest = rest
        .split(' ')
        .map(|w| if w == "their" { "its" } else { w })
        .collect::<Vec<_>>()
        .join(" ");
    if rest.is_empty() {
        verb
    } else {
        format!("{verb} {rest}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::{ObjectRef, OwnerRef};

    fn finding(category: Category, severity: Severity, ns: &str, owner: &str) -> Finding {
        Finding {
            id: format!("F-{ns}-{owner}"),
            severity,
            category,
            object: ObjectRef::new("Deployment", Some(ns), owner),
            owner: Some(OwnerRef {
                kind: "Deployment".into(),
                name: owner.into(),
            }),
            title: String::new(),
            explanation: String::new(),
            evidence: Vec::new(),
            remediation: String::new(),
            guidance: Vec::new(),
            affected: Vec::new(),
            related: Vec::new(),
            score: 0,
        }
    }

    #[test]
    fn aggregates_across_namespaces_and_clusters() {
        let a = vec![
            finding(Category::RunAsRoot, Severity::Warning, "shop", "cart"),
            finding(Category::RunAsRoot, Severity::Warning, "shop", "ledger"),
            finding(Category::RunAsRoot, Severity::Warning, "pay", "api"),
            finding(
                Category::CrashLoopBackOff,
                Severity::Critical,
                "shop",
                "cart",
            ),
        ];
        let b = vec![finding(
            Category::RunAsRoot,
            Severity::Warning,
            "shop",
            "cart",
        )];
        let t = trends(&[
            ClusterFindings {
                cluster: "eu",
                findings: &a,
            },
            ClusterFindings {
                cluster: "us",
                findings: &b,
            },
        ]);
        assert_eq!(t[0].category, Category::CrashLoopBackOff, "critical first");
        let root = &t[1];
        assert_eq!(root.findings, 4);
        assert_eq!(
            root.workloads, 4,
            "cart in eu and cart in us are two workloads"
        );
        assert_eq!(root.applications, vec!["api", "cart", "ledger"]);
        assert_eq!(root.namespaces, vec!["eu/pay", "eu/shop", "us/shop"]);
        assert_eq!(root.clusters, vec!["eu", "us"]);
        assert_eq!(
            root.summary,
            "4 workloads in 3 namespaces across 2 clusters run as root; one policy covers them all"
        );
        assert_eq!(
            t[0].summary,
            "1 workload in 1 namespace of cluster eu is crash-looping"
        );
        assert_eq!(
            root.policy.as_deref(),
            Some("sextant policy draft RunAsRoot")
        );
        assert!(t[0].policy.is_none());
    }

    #[test]
    fn one_cluster_names_no_cluster() {
        let a = vec![finding(Category::LatestTag, Severity::Info, "shop", "web")];
        let t = trends(&[ClusterFindings {
            cluster: "demo",
            findings: &a,
        }]);
        assert_eq!(t[0].namespaces, vec!["shop"]);
        assert_eq!(t[0].examples, vec!["shop · Deployment web"]);
        assert!(
            t[0].summary
                .starts_with("1 workload in 1 namespace uses a mutable image tag")
        );
        assert_eq!(singular("cannot pull their image"), "cannot pull its image");
        assert_eq!(singular("keep failing"), "keeps failing");
        assert_eq!(singular("are crash-looping"), "is crash-looping");
        assert_eq!(counted(1, "Node"), "1 node");
        assert_eq!(counted(2, "Ingress"), "2 ingresses");
    }
}
