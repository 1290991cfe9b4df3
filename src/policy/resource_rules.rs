//! Admission resource rules — a ValidatingAdmissionPolicy's `matchConstraints`, a binding's
//! `matchResources`, a Kyverno ValidatingPolicy's `matchConstraints` — compiled once when the
//! policy is loaded and matched against every object of a check.
//!
//! Why compiled: matching ran for every policy on every object, and read the rules out of
//! their JSON each time (a dozen map lookups by string per rule); it was a tenth of a check.

use super::{Selector, cluster_scoped, resource_of, str_at};
use crate::jsonptr::Pointer as _;
use serde_json::Value;

/// `matchConstraints` / `matchResources`: resource rules, excluded rules, selectors.
#[derive(Debug, Clone, Default)]
pub(crate) struct ResourceRules {
    /// Absent (`null`): every object matches.
    any: bool,
    /// `resourceRules`, when given (a value that is not a list matches nothing).
    rules: Option<Vec<Rule>>,
    /// `excludeResourceRules`, when given.
    exclude: Option<Vec<Rule>>,
    /// `namespaceSelector`, when it selects anything less than every namespace.
    namespace_selector: Option<Selector>,
    /// `objectSelector`, when given.
    object_selector: Option<Selector>,
}

/// One rule: each list absent means any; `*` in a list means any.
#[derive(Debug, Clone)]
struct Rule {
    groups: Option<Vec<String>>,
    versions: Option<Vec<String>>,
    resources: Option<Vec<String>>,
    operations: Option<Vec<String>>,
    /// `resourceNames`: absent or empty means every name.
    names: Option<Vec<String>>,
}

/// What an object is matched as, worked out once per object and rule set.
struct Target<'o> {
    group: &'o str,
    version: &'o str,
    resource: std::borrow::Cow<'static, str>,
    name: &'o str,
}

/// A rule's list of strings: `None` when absent or not a list (which matches anything, as
/// the API server's defaulting reads it); items that are not strings never match.
fn strings(list: Option<&Value>) -> Option<Vec<String>> {
    list.and_then(Value::as_array).map(|a| {
        a.iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect()
    })
}

fn has(list: &Option<Vec<String>>, want: &str) -> bool {
    list.as_ref()
        .is_none_or(|l| l.iter().any(|v| v == "*" || v == want))
}

impl Rule {
    fn new(r: &Value) -> Rule {
        Rule {
            groups: strings(r.get("apiGroups")),
            versions: strings(r.get("apiVersions")),
            resources: strings(r.get("resources")),
            operations: strings(r.get("operations")),
            names: strings(
                r.get("resourceNames")
                    .filter(|a| a.as_array().is_some_and(|a| !a.is_empty())),
            ),
        }
    }

    fn hits(&self, t: &Target, operation: &str) -> bool {
        has(&self.groups, t.group)
            && has(&self.versions, t.version)
            && has(&self.resources, &t.resource)
            && has(&self.operations, operation)
            && self
                .names
                .as_ref()
                .is_none_or(|n| n.iter().any(|v| v == t.name))
    }
}

fn rules(v: Option<&Value>) -> Option<Vec<Rule>> {
    v.map(|rules| {
        rules
            .as_array()
            .into_iter()
            .flatten()
            .map(Rule::new)
            .collect()
    })
}

impl ResourceRules {
    pub(crate) fn new(m: &Value) -> ResourceRules {
        if m.is_null() {
            return ResourceRules {
                any: true,
                ..ResourceRules::default()
            };
        }
        ResourceRules {
            any: false,
            rules: rules(m.get("resourceRules")),
            exclude: rules(m.get("excludeResourceRules")),
            namespace_selector: m
                .get("namespaceSelector")
                .filter(|s| s.as_object().is_some_and(|o| !o.is_empty()))
                .map(Selector::new),
            object_selector: m.get("objectSelector").map(Selector::new),
        }
    }

    /// Whether `object`, under `operation`, in a namespace labelled `ns_labels`, matches.
    pub(crate) fn matches(
        &self,
        object: &Value,
        ns_labels: Option<&Value>,
        operation: &str,
    ) -> bool {
        if self.any {
            return true;
        }
        let kind = str_at(object, "/kind").unwrap_or("");
        if self.rules.is_some() || self.exclude.is_some() {
            let api = str_at(object, "/apiVersion").unwrap_or("v1");
            let (group, version) = api.rsplit_once('/').unwrap_or(("", api));
            let target = Target {
                group,
                version,
                resource: resource_of(kind),
                name: str_at(object, "/metadata/name").unwrap_or(""),
            };
            if let Some(rules) = &self.rules
                && !rules.iter().any(|r| r.hits(&target, operation))
            {
                return false;
            }
            if let Some(rules) = &self.exclude
                && rules.iter().any(|r| r.hits(&target, operation))
            {
                return false;
            }
        }
        if let Some(sel) = &self.namespace_selector
            && !cluster_scoped(kind)
        {
            let ns = str_at(object, "/metadata/namespace").unwrap_or("default");
            // Every namespace carries its name as a label (since Kubernetes 1.22); a capture
            // that lacks it (or has no Namespace object) is read as if it had it.
            const NAME: &str = "kubernetes.io/metadata.name";
            let label = |k: &str| {
                ns_labels
                    .and_then(|l| l.get(k))
                    .and_then(Value::as_str)
                    .or_else(|| (k == NAME).then_some(ns))
            };
            if !sel.matches(label) {
                return false;
            }
        }
        if let Some(sel) = &self.object_selector {
            let labels = object.at("/metadata/labels");
            if !sel.matches(|k| labels.and_then(|l| l.get(k)).and_then(Value::as_str)) {
                return false;
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(ns: &str, name: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": ns, "labels": {"app": "web"}}})
    }

    #[test]
    fn rules_exclusions_names_and_selectors_match_as_the_api_server_does() {
        let deploy = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "d", "namespace": "shop"}});
        let labels = json!({"env": "prod"});
        for (m, object, op, want) in [
            (Value::Null, pod("a", "p"), "CREATE", true),
            (json!({}), pod("a", "p"), "CREATE", true),
            (
                json!({"resourceRules": [{"apiGroups": [""], "apiVersions": ["v1"],
                "resources": ["pods"], "operations": ["CREATE"]}]}),
                pod("a", "p"),
                "CREATE",
                true,
            ),
            (
                json!({"resourceRules": [{"apiGroups": [""], "apiVersions": ["v1"],
                "resources": ["pods"], "operations": ["UPDATE"]}]}),
                pod("a", "p"),
                "CREATE",
                false,
            ),
            (
                json!({"resourceRules": [{"apiGroups": ["apps"], "apiVersions": ["*"],
                "resources": ["deployments"], "operations": ["*"]}]}),
                deploy.clone(),
                "CREATE",
                true,
            ),
            (
                json!({"resourceRules": [{"apiGroups": ["apps"], "resources": ["deployments"]}]}),
                pod("a", "p"),
                "CREATE",
                false,
            ),
            // Not a list: no rule, nothing matches.
            (
                json!({"resourceRules": "pods"}),
                pod("a", "p"),
                "CREATE",
                false,
            ),
            (
                json!({"resourceRules": [{"resources": ["pods"], "resourceNames": ["q"]}]}),
                pod("a", "p"),
                "CREATE",
                false,
            ),
            (
                json!({"resourceRules": [{"resources": ["pods"], "resourceNames": []}]}),
                pod("a", "p"),
                "CREATE",
                true,
            ),
            (
                json!({"excludeResourceRules": [{"resources": ["pods"]}]}),
                pod("a", "p"),
                "CREATE",
                false,
            ),
            (
                json!({"excludeResourceRules": [{"resources": ["pods"]}]}),
                deploy,
                "CREATE",
                true,
            ),
            (
                json!({"namespaceSelector": {"matchLabels": {"env": "prod"}}}),
                pod("a", "p"),
                "CREATE",
                true,
            ),
            (
                json!({"namespaceSelector": {"matchLabels": {"env": "dev"}}}),
                pod("a", "p"),
                "CREATE",
                false,
            ),
            (
                json!({"namespaceSelector": {"matchExpressions": [{"key": "kubernetes.io/metadata.name",
                "operator": "NotIn", "values": ["a"]}]}}),
                pod("a", "p"),
                "CREATE",
                false,
            ),
            (
                json!({"objectSelector": {"matchLabels": {"app": "web"}}}),
                pod("a", "p"),
                "CREATE",
                true,
            ),
            (
                json!({"objectSelector": {"matchLabels": {"app": "db"}}}),
                pod("a", "p"),
                "CREATE",
                false,
            ),
        ] {
            assert_eq!(
                ResourceRules::new(&m).matches(&object, Some(&labels), op),
                want,
                "{m} on {object} ({op})"
            );
        }
    }
}
