//! What a question is about: finding ids, categories, objects (fuzzy-matched against the
//! findings' objects, owners and affected pods), namespaces — or nothing in the cluster at
//! all (a guidance question). Deterministic and cheap: it runs before any model does.

use crate::findings::{Category, Finding};
use std::collections::BTreeSet;

/// The resolved subject of a question.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Subject {
    pub finding_ids: Vec<String>,
    pub categories: Vec<Category>,
    /// Names (objects, owners) the question mentions, as they are in the cluster.
    pub objects: BTreeSet<String>,
    pub namespaces: BTreeSet<String>,
    /// The question is about troubleshooting in general ("why is it down?", "what is wrong").
    pub troubleshooting: bool,
}

impl Subject {
    /// Nothing in the cluster was named.
    pub fn is_general(&self) -> bool {
        self.finding_ids.is_empty()
            && self.categories.is_empty()
            && self.objects.is_empty()
            && self.namespaces.is_empty()
    }

    /// The findings the question is about: those of the objects, namespaces and ids it names,
    /// narrowed to the categories it names when that leaves any ("why does ledger crash?"
    /// is about ledger's crash, not every crash); with no object named, the categories'.
    pub fn select<'f>(&self, findings: &'f [Finding]) -> Vec<&'f Finding> {
        let named =
            !(self.finding_ids.is_empty() && self.objects.is_empty() && self.namespaces.is_empty());
        let of_category = |f: &&Finding| self.categories.contains(&f.category);
        if !named {
            return findings.iter().filter(of_category).collect();
        }
        let primary: Vec<&Finding> = findings
            .iter()
            .filter(|f| {
                self.finding_ids.contains(&f.id)
                    || names_of(f).iter().any(|n| self.objects.contains(n))
                    || f.object
                        .namespace
                        .as_ref()
                        .is_some_and(|ns| self.namespaces.contains(ns))
            })
            .collect();
        let narrowed: Vec<&Finding> = primary.iter().copied().filter(of_category).collect();
        if narrowed.is_empty() {
            primary
        } else {
            narrowed
        }
    }
}

/// Words that mark a question as troubleshooting (en, de, zh).
const TROUBLE: &[&str] = &[
    "why",
    "wrong",
    "down",
    "fail",
    "failing",
    "broken",
    "error",
    "problem",
    "issue",
    "crash",
    "outage",
    "incident",
    "unhealthy",
    "warum",
    "fehler",
    "kaputt",
    "ausfall",
    "为什么",
    "故障",
    "问题",
    "错误",
    "崩溃",
];

/// Everyday words for categories (en, de, zh). Exact category names match too.
const KEYWORDS: &[(&str, &[Category])] = &[
    (
        "crash",
        &[Category::CrashLoopBackOff, Category::ContainerExitError],
    ),
    (
        "restart",
        &[Category::CrashLoopBackOff, Category::OOMKilled],
    ),
    ("absturz", &[Category::CrashLoopBackOff]),
    (
        "崩溃",
        &[Category::CrashLoopBackOff, Category::ContainerExitError],
    ),
    ("oom", &[Category::OOMKilled]),
    ("memory", &[Category::OOMKilled, Category::NoResourceLimits]),
    ("speicher", &[Category::OOMKilled]),
    ("内存", &[Category::OOMKilled]),
    ("image", &[Category::ImagePullBackOff, Category::LatestTag]),
    ("pull", &[Category::ImagePullBackOff]),
    ("镜像", &[Category::ImagePullBackOff]),
    ("pending", &[Category::Unschedulable, Category::PVCPending]),
    ("schedul", &[Category::Unschedulable]),
    ("evict", &[Category::Evicted, Category::NodePressure]),
    ("endpoint", &[Category::ServiceNoEndpoints]),
    (
        "ingress",
        &[
            Category::IngressBackendMissing,
            Category::IngressClassMissing,
            Category::IngressTLSSecretMissing,
        ],
    ),
    ("probe", &[Category::ProbeFailure, Category::NoProbes]),
    ("rollout", &[Category::RolloutStuck]),
    ("privileged", &[Category::Privileged]),
    ("root", &[Category::RunAsRoot]),
    ("hostpath", &[Category::HostPath]),
    ("capabilit", &[Category::DangerousCapabilities]),
    ("limits", &[Category::NoResourceLimits]),
    ("volume", &[Category::PVCPending, Category::PVCLost]),
    ("node", &[Category::NodeNotReady, Category::NodePressure]),
    ("cronjob", &[Category::CronJobFailing]),
    (
        "secret",
        &[
            Category::CreateContainerConfigError,
            Category::IngressTLSSecretMissing,
        ],
    ),
    ("config", &[Category::CreateContainerConfigError]),
];

/// Every name a finding answers to: its object, owner and affected objects.
pub fn names_of(f: &Finding) -> Vec<String> {
    let mut v = vec![f.object.name.clone()];
    if let Some(o) = &f.owner {
        v.push(o.name.clone());
    }
    v.extend(
        f.affected
            .iter()
            .map(|a| a.rsplit('/').next().unwrap_or(a).to_string()),
    );
    v
}

/// Resolve `question` against the findings (and the namespaces the cluster has).
pub fn resolve(question: &str, findings: &[Finding], namespaces: &BTreeSet<String>) -> Subject {
    let lower = question.to_lowercase();
    let mut s = Subject {
        troubleshooting: TROUBLE.iter().any(|w| lower.contains(w)),
        ..Subject::default()
    };
    let tokens: Vec<&str> = lower
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'))
        .map(|t| t.trim_matches(|c| c == '.' || c == '-'))
        .filter(|t| t.len() >= 3)
        .collect();
    // Finding ids (a unique prefix is enough, as on the command line).
    for t in &tokens {
        if let Some(hex) = t.strip_prefix("f-")
            && hex.len() >= 4
        {
            s.finding_ids.extend(
                findings
                    .iter()
                    .filter(|f| f.id.to_lowercase().starts_with(t))
                    .map(|f| f.id.clone()),
            );
        }
    }
    // Categories: exact names, then everyday words.
    for c in Category::ALL {
        if lower.contains(&c.as_str().to_lowercase()) && !s.categories.contains(c) {
            s.categories.push(*c);
        }
    }
    if s.categories.is_empty() {
        for (word, cats) in KEYWORDS {
            if lower.contains(word) {
                for c in *cats {
                    if !s.categories.contains(c) {
                        s.categories.push(*c);
                    }
                }
            }
        }
    }
    // Namespaces: exact.
    for t in &tokens {
        if namespaces.contains(*t) {
            s.namespaces.insert((*t).to_string());
        }
    }
    // Objects: exact, the name's first segment (`checkout` for `checkout-7d9f…`), or one
    // edit away for longer words (typos).
    let names: BTreeSet<String> = findings.iter().flat_map(names_of).collect();
    for t in &tokens {
        if s.namespaces.contains(*t) {
            continue;
        }
        for n in &names {
            let nl = n.to_lowercase();
            let head = nl.split('-').next().unwrap_or(&nl);
            let hit = nl == *t
                || (nl.starts_with(t) && nl[t.len()..].starts_with('-'))
                || (t.len() >= 5 && (edits_at_most_one(t, &nl) || edits_at_most_one(t, head)));
            if hit {
                s.objects.insert(n.clone());
            }
        }
    }
    // A category word alone ("why do pods crash?") is general unless findings of it exist.
    if !s.categories.is_empty() && s.objects.is_empty() && s.finding_ids.is_empty() {
        let any = findings.iter().any(|f| s.categories.contains(&f.category));
        if !any {
            s.categories.clear();
        }
    }
    s
}

/// Levenshtein distance ≤ 1 (one insertion, deletion or substitution).
fn edits_at_most_one(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.len().abs_diff(b.len()) > 1 {
        return false;
    }
    let (mut i, mut j, mut edits) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        if a[i] == b[j] {
            i += 1;
            j += 1;
            continue;
        }
        edits += 1;
        if edits > 1 {
            return false;
        }
        match a.len().cmp(&b.len()) {
            std::cmp::Ordering::Greater => i += 1,
            std::cmp::Ordering::Less => j += 1,
            std::cmp::Ordering::Equal => {
                i += 1;
                j += 1;
            }
        }
    }
    edits + (a.len() - i) + (b.len() - j) <= 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_edit() {
        assert!(edits_at_most_one("checkout", "chekout"));
        assert!(edits_at_most_one("ledger", "ledgers"));
        assert!(edits_at_most_one("ledger", "ledgar"));
        assert!(!edits_at_most_one("ledger", "lodgar"));
        assert!(!edits_at_most_one("cart", "catalog"));
    }
}
