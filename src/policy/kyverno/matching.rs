//! Which objects a Kyverno rule applies to: `match`/`exclude` filters, a ValidatingPolicy's
//! admission resource rules, the pod template of a controller (autogen), and the admission
//! request a `kyverno test` values file describes.

use super::super::pattern::wildcard;
use super::super::{pod_spec_pointer, str_at};
use super::Matcher;
use crate::jsonptr::Pointer as _;
use serde_json::{Value, json};

impl Matcher {
    pub(super) fn applies(&self, object: &Value, kind: &str, op: &str) -> bool {
        match self {
            Matcher::Kyverno { matcher, exclude } => {
                selects(matcher, object, kind, op) && !excluded(exclude, object, kind, op)
            }
            Matcher::Admission(m) => m.matches(object, None, op),
        }
    }
}

/// The admission request of `op` (UPDATE, DELETE) on `object`, as `kyverno test` builds it
/// from a values file: an UPDATE's old object is the object itself.
pub(super) fn review(object: &Value, op: &str) -> Value {
    let api = str_at(object, "/apiVersion").unwrap_or("v1");
    let (group, version) = api.rsplit_once('/').unwrap_or(("", api));
    let (new, old) = match op {
        "DELETE" => (Value::Null, object.clone()),
        "CREATE" | "CONNECT" => (object.clone(), Value::Null),
        _ => (object.clone(), object.clone()),
    };
    json!({
        "operation": op,
        "kind": {"group": group, "version": version, "kind": str_at(object, "/kind").unwrap_or("")},
        "namespace": str_at(object, "/metadata/namespace").unwrap_or(""),
        "name": str_at(object, "/metadata/name").unwrap_or(""),
        "userInfo": {"username": "sextant", "groups": []},
        "object": new,
        "oldObject": old,
        "dryRun": true,
    })
}

/// The Pod a controller's template describes (what Kyverno's autogen rules check).
pub(super) fn as_pod(object: &Value) -> Option<Value> {
    let kind = str_at(object, "/kind")?;
    let spec_ptr = pod_spec_pointer(kind).filter(|_| kind != "Pod")?;
    let template_ptr = spec_ptr.strip_suffix("/spec")?;
    let template = object.at(template_ptr)?;
    let mut meta = template
        .get("metadata")
        .cloned()
        .unwrap_or_else(|| json!({}));
    if let (Some(m), Some(ns)) = (meta.as_object_mut(), str_at(object, "/metadata/namespace")) {
        m.insert("namespace".into(), json!(ns));
    }
    if let (Some(m), Some(n)) = (meta.as_object_mut(), str_at(object, "/metadata/name")) {
        m.entry("name").or_insert_with(|| json!(n));
    }
    Some(json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta,
        "spec": template.get("spec").cloned().unwrap_or_else(|| json!({})),
    }))
}

/// `match`: `any` (one filter matches) / `all` (every filter matches) / a bare `resources`.
fn selects(m: &Value, object: &Value, kind: &str, op: &str) -> bool {
    if m.is_null() {
        return false;
    }
    if let Some(any) = m.get("any").and_then(Value::as_array) {
        return any.iter().any(|f| filter(f, object, kind, op));
    }
    if let Some(all) = m.get("all").and_then(Value::as_array) {
        return all.iter().all(|f| filter(f, object, kind, op));
    }
    filter(m, object, kind, op)
}

fn excluded(x: &Value, object: &Value, kind: &str, op: &str) -> bool {
    !x.is_null() && selects(x, object, kind, op)
}

/// One resource filter: kinds (`Pod`, `v1/Pod`, `apps/v1/Deployment`, `*`), names,
/// namespaces (with `*` globs), operations (CREATE is what we evaluate), selector.
fn filter(f: &Value, object: &Value, kind: &str, op: &str) -> bool {
    let Some(r) = f.get("resources") else {
        return false;
    };
    let list = |k: &str| -> Option<Vec<&str>> {
        r.get(k)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
    };
    if let Some(kinds) = list("kinds")
        && !kinds
            .iter()
            .any(|k| *k == "*" || k.rsplit('/').next() == Some(kind))
    {
        return false;
    }
    if let Some(ops) = list("operations")
        && !ops.contains(&op)
    {
        return false;
    }
    let ns = str_at(object, "/metadata/namespace").unwrap_or("default");
    if let Some(nss) = list("namespaces")
        && !nss.iter().any(|p| wildcard(p, ns))
    {
        return false;
    }
    let name = str_at(object, "/metadata/name").unwrap_or("");
    if let Some(names) = list("names")
        && !names.iter().any(|p| wildcard(p, name))
    {
        return false;
    }
    if let Some(sel) = r.get("selector") {
        let labels = object.at("/metadata/labels").unwrap_or(&Value::Null);
        if !super::super::label_selector_matches(sel, labels) {
            return false;
        }
    }
    true
}
