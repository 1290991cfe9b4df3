//! Pods of one controller are copies: evaluated once per controller, not once per pod. What
//! makes two objects siblings (same owner, same spec once the fields pods differ in are
//! set aside), and the denials of siblings folded into one.

use super::*;
use crate::jsonptr::Pointer as _;

/// Fields in which pods of one controller differ from each other.
pub(super) const SIBLING_VARYING_META: &[&str] = &[
    "name",
    "uid",
    "resourceVersion",
    "creationTimestamp",
    "managedFields",
    "selfLink",
    "deletionTimestamp",
    "generation",
];

/// A denial message as it may be shown: a policy's message can quote any value of the object
/// (an env value, an annotation), so it is redacted and its escapes neutralised like any
/// cluster text.
pub(super) fn shown(message: &str) -> String {
    crate::untrusted::neutralise(&crate::redact::redact(message)).into_owned()
}

/// Whether a policy document (its code, match rules and messages) can only see what sibling
/// pods share: it never names the fields in which they differ ([`SIBLING_VARYING_META`],
/// `status`, `spec.nodeName`, `spec.hostname`), every `metadata` it reads is labels,
/// annotations, namespace, owner references or generateName, and it matches by no object name.
/// Conservative by construction: a policy that reads anything else is evaluated pod by pod.
pub fn sibling_invariant(doc: &Value) -> bool {
    // The code and settings: every key and string under `spec` (not the policy's own metadata).
    fn collect(v: &Value, out: &mut String) {
        match v {
            Value::String(s) => {
                out.push_str(s);
                out.push('\n');
            }
            Value::Array(a) => a.iter().for_each(|x| collect(x, out)),
            Value::Object(m) => {
                for (k, x) in m {
                    // Selectors name label keys (`kubernetes.io/metadata.name`), and a
                    // template's `crd` is its parameters' schema: neither is code.
                    if matches!(k.as_str(), "namespaceSelector" | "objectSelector" | "crd") {
                        continue;
                    }
                    out.push_str(k);
                    out.push('\n');
                    collect(x, out);
                }
            }
            _ => {}
        }
    }
    fn has_key(v: &Value, key: &str) -> bool {
        match v {
            Value::Object(m) => m.iter().any(|(k, x)| k == key || has_key(x, key)),
            Value::Array(a) => a.iter().any(|x| has_key(x, key)),
            _ => false,
        }
    }
    let mut text = String::new();
    if let Some(spec) = doc.get("spec") {
        collect(spec, &mut text);
    }
    // Matching by name: Gatekeeper `match.name`, VAP `resourceNames`, Kyverno `names` in a
    // rule's match or exclude.
    let kyverno_names = doc
        .at("/spec/rules")
        .and_then(Value::as_array)
        .is_some_and(|rules| {
            rules.iter().any(|r| {
                ["match", "exclude"]
                    .iter()
                    .any(|k| r.get(*k).is_some_and(|m| has_key(m, "names")))
            })
        });
    // The varying fields as words (a package named `…hostnamespaces` is not `hostname`).
    static VARYING: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    let varying = VARYING.get_or_init(|| {
        let words = SIBLING_VARYING_META[1..]
            .iter()
            .chain(&[
                "resourceNames",
                "status",
                "nodeName",
                "hostname",
                "podIP",
                "podIPs",
            ])
            .copied()
            .collect::<Vec<_>>()
            .join("|");
        regex::Regex::new(&format!(r"\b({words})\b")).ok()
    });
    if kyverno_names
        || doc.at("/spec/match/name").is_some()
        || text.contains("review.name")
        || varying.as_ref().is_none_or(|r| r.is_match(&text))
    {
        return false;
    }
    const SHARED: &[&str] = &[
        ".labels",
        ".annotations",
        ".namespace",
        ".ownerReferences",
        ".generateName",
        "[\"labels\"]",
        "[\"annotations\"]",
        "[\"namespace\"]",
    ];
    text.match_indices("metadata").all(|(i, m)| {
        let rest = &text[i + m.len()..];
        SHARED.iter().any(|s| rest.starts_with(s))
    })
}

/// A pod's content without what differs between siblings: pods of one controller with equal
/// keys get equal verdicts from a [`sibling_invariant`] policy. `None` for what is not a
/// controller-owned pod.
pub(super) fn sibling_key(o: &Value) -> Option<u64> {
    use std::hash::{Hash, Hasher};
    if str_at(o, "/kind") != Some("Pod") || o.at("/metadata/ownerReferences/0").is_none() {
        return None;
    }
    // Hashed in place, field by field, leaving out what differs (a copy of the pod and its
    // text cost more than evaluating a policy). A map's entries end with their count, so
    // leaving a field out cannot make two different pods hash alike by shifting another.
    fn entries<'a, H: Hasher>(
        m: &'a serde_json::Map<String, Value>,
        skip: &[&str],
        h: &mut H,
        mut each: impl FnMut(&'a str, &'a Value, &mut H),
    ) {
        let mut n = 0usize;
        for (k, v) in m.iter().filter(|(k, _)| !skip.contains(&k.as_str())) {
            k.hash(h);
            each(k, v, h);
            n += 1;
        }
        n.hash(h);
    }
    let mut h = std::collections::hash_map::DefaultHasher::new();
    entries(o.as_object()?, &["status"], &mut h, |k, v, h| {
        match (k, v) {
            ("metadata", Value::Object(meta)) => {
                entries(meta, SIBLING_VARYING_META, h, |_, v, h| v.hash(h))
            }
            ("spec", Value::Object(spec)) => {
                entries(spec, &["nodeName", "hostname"], h, |_, v, h| v.hash(h))
            }
            (_, v) => v.hash(h),
        }
    });
    Some(h.finish())
}

pub(super) fn label(o: &Value) -> String {
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
pub(super) fn fold(denials: Vec<Denial>) -> Vec<Denial> {
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

/// Identical error lines as one, in the order they first came, with how many there were
/// (`(×12)`): a policy that fails on a controller's template fails the same way on each of its
/// pods, which are one `pods of …` line already.
pub(super) fn fold_errors(errors: Vec<String>) -> Vec<String> {
    let mut counts: Vec<(String, usize)> = Vec::new();
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for e in errors {
        match seen.get(&e) {
            Some(&i) => counts[i].1 += 1,
            None => {
                seen.insert(e.clone(), counts.len());
                counts.push((e, 1));
            }
        }
    }
    counts
        .into_iter()
        .map(|(e, n)| if n > 1 { format!("{e} (×{n})") } else { e })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(name: &str, node: &str, image: &str) -> Value {
        json!({"kind": "Pod", "metadata": {"name": name, "namespace": "shop", "uid": name,
            "labels": {"app": "web"},
            "ownerReferences": [{"kind": "ReplicaSet", "name": "web-1", "controller": true}]},
            "spec": {"nodeName": node, "containers": [{"name": "web", "image": image}]},
            "status": {"phase": "Running", "podIP": format!("10.0.0.{}", name.len())}})
    }

    #[test]
    fn sibling_keys_ignore_only_what_replicas_differ_in() {
        let a = sibling_key(&pod("web-1-a", "n1", "web:1")).expect("owned pod has a key");
        assert_eq!(sibling_key(&pod("web-1-bb", "n2", "web:1")), Some(a));
        assert_ne!(sibling_key(&pod("web-1-a", "n1", "web:2")), Some(a));
        let mut labelled = pod("web-1-a", "n1", "web:1");
        labelled["metadata"]["labels"]["tier"] = json!("front");
        assert_ne!(sibling_key(&labelled), Some(a));
        // A field moved between the skipped and the kept ones does not collide.
        let mut moved = pod("web-1-a", "n1", "web:1");
        moved["spec"]["hostname"] = json!("x");
        assert_eq!(sibling_key(&moved), Some(a));
        moved["spec"]["subdomain"] = json!("x");
        assert_ne!(sibling_key(&moved), Some(a));
        let mut unowned = pod("web-1-a", "n1", "web:1");
        unowned["metadata"]
            .as_object_mut()
            .expect("metadata")
            .remove("ownerReferences");
        assert_eq!(sibling_key(&unowned), None);
    }
}
