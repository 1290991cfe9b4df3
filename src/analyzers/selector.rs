//! Label selector matching, for Services, NetworkPolicies and PDBs (a dump has no Endpoints,
//! so "does anything match" is computed here).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use std::collections::BTreeMap;

/// A Service-style selector (all pairs must match). An empty selector matches nothing here:
/// Services without selectors are managed by hand.
pub fn matches_map(
    selector: &BTreeMap<String, String>,
    labels: Option<&BTreeMap<String, String>>,
) -> bool {
    if selector.is_empty() {
        return false;
    }
    let Some(labels) = labels else { return false };
    selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// A `LabelSelector` (matchLabels and matchExpressions). An empty selector matches everything.
pub fn matches(selector: &LabelSelector, labels: Option<&BTreeMap<String, String>>) -> bool {
    let empty = BTreeMap::new();
    let labels = labels.unwrap_or(&empty);
    if let Some(ml) = &selector.match_labels
        && !ml.iter().all(|(k, v)| labels.get(k) == Some(v))
    {
        return false;
    }
    for expr in selector.match_expressions.iter().flatten() {
        let value = labels.get(&expr.key);
        let values = expr.values.as_deref().unwrap_or(&[]);
        let ok = match expr.operator.as_str() {
            "In" => value.is_some_and(|v| values.contains(v)),
            "NotIn" => value.is_none_or(|v| !values.contains(v)),
            "Exists" => value.is_some(),
            "DoesNotExist" => value.is_none(),
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    true
}

pub fn is_empty(selector: &LabelSelector) -> bool {
    selector.match_labels.as_ref().is_none_or(|m| m.is_empty())
        && selector
            .match_expressions
            .as_ref()
            .is_none_or(|e| e.is_empty())
}

pub fn show_map(m: &BTreeMap<String, String>) -> String {
    m.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// For a selector that matches nothing, the closest label sets (those that agree on most keys)
/// and what differs: "pods with app=backend have version=v1, the selector wants version=v2".
pub fn near_miss<'a>(
    selector: &BTreeMap<String, String>,
    candidates: impl Iterator<Item = (&'a str, &'a BTreeMap<String, String>)>,
) -> Option<String> {
    let mut best: Option<(usize, String, Vec<String>)> = None;
    for (name, labels) in candidates {
        let agree = selector
            .iter()
            .filter(|(k, v)| labels.get(*k) == Some(v))
            .count();
        if agree == 0 {
            continue;
        }
        let diffs: Vec<String> = selector
            .iter()
            .filter(|(k, v)| labels.get(*k) != Some(v))
            .map(|(k, v)| match labels.get(k) {
                Some(actual) => format!("{k}={actual} (selector wants {k}={v})"),
                None => format!("no label {k} (selector wants {k}={v})"),
            })
            .collect();
        // Ties go to the candidate whose name carries a selector value (pod search-… for
        // app=search), the likelier intended target.
        let named = selector.values().any(|v| name.contains(v.as_str()));
        let score = agree * 2 + usize::from(named);
        if best.as_ref().is_none_or(|(a, _, _)| score > *a) {
            best = Some((score, name.to_string(), diffs));
        }
    }
    best.map(|(_, name, diffs)| format!("{name} has {}", diffs.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn service_selectors() {
        let labels = map(&[("app", "backend"), ("version", "v1")]);
        assert!(matches_map(&map(&[("app", "backend")]), Some(&labels)));
        assert!(!matches_map(
            &map(&[("app", "backend"), ("version", "v2")]),
            Some(&labels)
        ));
        assert!(!matches_map(&map(&[]), Some(&labels)));
        let miss = near_miss(
            &map(&[("app", "backend"), ("version", "v2")]),
            [("pod backend-1", &labels)].into_iter(),
        )
        .unwrap();
        assert!(
            miss.contains("version=v1 (selector wants version=v2)"),
            "{miss}"
        );
    }

    #[test]
    fn label_selector_expressions() {
        let labels = map(&[("tier", "web")]);
        let sel = LabelSelector {
            match_expressions: Some(vec![LabelSelectorRequirement {
                key: "tier".into(),
                operator: "In".into(),
                values: Some(vec!["web".into(), "api".into()]),
            }]),
            ..Default::default()
        };
        assert!(matches(&sel, Some(&labels)));
        assert!(matches(&LabelSelector::default(), None));
        assert!(is_empty(&LabelSelector::default()));
    }
}
