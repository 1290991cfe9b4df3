//! `snapshot save DIR`: what was collected, written in the `kubectl cluster-info dump` layout
//! that `--snapshot` reads back — `DIR/nodes.json` for cluster-scoped kinds,
//! `DIR/NS/pods.json` for namespaced ones, `DIR/NS/POD/CONTAINER[.previous].log` for logs —
//! so an on-call engineer can hand a colleague the exact state.
//!
//! Nothing secret is written: Secrets were never read, ConfigMap values are blanked (their
//! keys kept, as the analyzers need), `last-applied-configuration` annotations of ConfigMaps
//! are dropped (they repeat the values), and logs were redacted when collected.

use super::collect::Collected;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What was written.
#[derive(Debug, Default)]
pub struct Saved {
    pub files: usize,
    pub objects: usize,
    pub logs: usize,
}

/// Write `c` under `dir` (created if missing; files of the same names are replaced).
pub fn write(dir: &Path, c: &Collected) -> crate::Result<Saved> {
    let io = |p: &Path, e: std::io::Error| crate::Error::Io {
        context: format!("snapshot save: {}", p.display()),
        source: e,
    };
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let mut saved = Saved::default();
    for (k, items) in &c.lists {
        // namespace ("" for cluster-scoped) → items
        let mut by_ns: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
        for item in items {
            // What the server returned is re-checked: an item that is (or carries) a Secret,
            // slipped into another kind's list, is never written.
            if is_secret_like(item) {
                tracing::warn!(
                    kind = k.kind,
                    "an item that looks like a Secret was dropped"
                );
                continue;
            }
            let ns = if k.namespaced {
                item.pointer("/metadata/namespace")
                    .and_then(Value::as_str)
                    .unwrap_or("default")
            } else {
                ""
            };
            by_ns
                .entry(ns)
                .or_default()
                .push(scrub(k.kind, item.clone()));
        }
        if items.is_empty() && !k.namespaced {
            by_ns.insert("", Vec::new());
        }
        for (ns, items) in by_ns {
            let path: PathBuf = if ns.is_empty() {
                dir.join(k.file)
            } else {
                dir.join(safe(ns)).join(k.file)
            };
            if let Some(p) = path.parent() {
                std::fs::create_dir_all(p).map_err(|e| io(p, e))?;
            }
            saved.objects += items.len();
            let list = json!({
                "kind": format!("{}List", k.kind),
                "apiVersion": k.group_version(),
                "metadata": {},
                "items": items,
            });
            let text = serde_json::to_string_pretty(&list).unwrap_or_default();
            std::fs::write(&path, text).map_err(|e| io(&path, e))?;
            saved.files += 1;
        }
    }
    for l in &c.logs {
        let d = dir.join(safe(&l.namespace)).join(safe(&l.pod));
        std::fs::create_dir_all(&d).map_err(|e| io(&d, e))?;
        let name = if l.previous {
            format!("{}.previous.log", safe(&l.container))
        } else {
            format!("{}.log", safe(&l.container))
        };
        let path = d.join(name);
        // Collected logs are redacted already; redact again so this file can never be the
        // one place a secret slips through if collection changes.
        std::fs::write(&path, crate::redact::redact(&l.text).as_bytes())
            .map_err(|e| io(&path, e))?;
        saved.files += 1;
        saved.logs += 1;
    }
    Ok(saved)
}

/// An item whose own `kind` says Secret, or that has a Secret's fields (`stringData`, `data`
/// with a Secret `type`).
fn is_secret_like(item: &Value) -> bool {
    item.get("kind").and_then(Value::as_str) == Some("Secret")
        || item.get("stringData").is_some()
        || (item.get("data").is_some()
            && item
                .get("type")
                .and_then(Value::as_str)
                .is_some_and(|t| t == "Opaque" || t.starts_with("kubernetes.io/")))
}

/// Drop what must not be written and what only bloats a dump (also what the assistant's
/// `get_object` tool shows).
pub(crate) fn scrub(kind: &str, mut item: Value) -> Value {
    crate::redact::learn_object(kind, &item);
    if let Some(m) = item.get_mut("metadata").and_then(Value::as_object_mut) {
        m.remove("managedFields");
    }
    if kind == "ConfigMap" {
        for field in ["data", "binaryData"] {
            if let Some(Value::Object(m)) = item.get_mut(field) {
                for v in m.values_mut() {
                    *v = Value::String(String::new());
                }
            }
        }
    }
    // `last-applied-configuration` repeats the object as it was applied — literal env values
    // and data included — so it never leaves; other annotation values are redacted as text.
    if let Some(Value::Object(a)) = item.pointer_mut("/metadata/annotations") {
        a.remove("kubectl.kubernetes.io/last-applied-configuration");
        for (k, v) in a.iter_mut() {
            if crate::redact::sensitive_key(k) {
                *v = Value::String("[redacted]".into());
                continue;
            }
            if let Value::String(s) = v
                && let std::borrow::Cow::Owned(r) = crate::redact::redact(s)
            {
                *s = r;
            }
        }
    }
    if let Some(m) = item.as_object_mut() {
        m.entry("kind").or_insert_with(|| kind.into());
    }
    redact_strings(&mut item);
    item
}

/// Every string of an object through the redactor (event messages, env values, args,
/// annotations): what is saved or shown carries no credential the patterns recognise. Env
/// entries named like credentials lose their literal value whatever it looks like.
fn redact_strings(v: &mut Value) {
    match v {
        Value::String(s) => {
            if let std::borrow::Cow::Owned(r) = crate::redact::redact(s) {
                *s = r;
            }
        }
        Value::Array(a) => {
            // `["--db-password", "VALUE"]`: the value after a credential flag.
            let mut blank_next = false;
            for x in a.iter_mut() {
                if blank_next && x.is_string() {
                    *x = Value::String("[redacted]".into());
                    blank_next = false;
                    continue;
                }
                blank_next = x.as_str().is_some_and(|f| {
                    f.starts_with('-') && !f.contains('=') && crate::redact::may_hold_credential(f)
                });
                redact_strings(x);
            }
        }
        Value::Object(m) => {
            let sensitive = m
                .get("name")
                .and_then(Value::as_str)
                .is_some_and(crate::redact::may_hold_credential);
            if sensitive
                && m.contains_key("value")
                && let Some(val) = m.get_mut("value")
            {
                *val = Value::String("[redacted]".into());
            }
            m.values_mut().for_each(redact_strings);
        }
        _ => {}
    }
}

/// A path component from a Kubernetes name (names cannot hold `/`, but a hostile server
/// could send anything).
fn safe(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() || s == "." || s == ".." {
        format!("_{s}")
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_map_values_never_written() {
        let cm = json!({"metadata": {"name": "c", "annotations": {
            "kubectl.kubernetes.io/last-applied-configuration": "{\"data\":{\"password\":\"hunter2\"}}"}},
            "data": {"password": "hunter2"}});
        let out = scrub("ConfigMap", cm).to_string();
        assert!(!out.contains("hunter2"), "{out}");
        assert!(out.contains("\"password\""));
    }

    #[test]
    fn last_applied_configuration_never_leaves() {
        let d = json!({"metadata": {"name": "api", "annotations": {
            "kubectl.kubernetes.io/last-applied-configuration": "{\"spec\":{\"env\":[{\"name\":\"DB_PASSWORD\",\"value\":\"hunter2\"}]}}",
            "note": "connect with password=hunter2"}}});
        let out = scrub("Deployment", d).to_string();
        assert!(!out.contains("hunter2"), "{out}");
    }

    #[test]
    fn saved_objects_carry_no_planted_credential() {
        let pod = json!({"metadata": {"name": "api"}, "spec": {"containers": [{"name": "api",
            "args": ["--db-password", "S3cretPa55", "--url=redis://:S3cretPa55@redis:6379"],
            "env": [{"name": "DB_PASSWORD", "value": "S3cretPa55"}, {"name": "MODE", "value": "fast"}]}]}});
        let out = scrub("Pod", pod).to_string();
        assert!(!out.contains("S3cretPa55"), "{out}");
        assert!(out.contains("fast"), "{out}");
        let ev = json!({"metadata": {"name": "e"}, "message": "mysql -pS3cretPa55 failed"});
        assert!(!scrub("Event", ev).to_string().contains("S3cretPa55"));
    }

    #[test]
    fn secrets_slipped_into_a_list_are_recognised() {
        assert!(is_secret_like(
            &json!({"kind": "Secret", "data": {"a": "b"}})
        ));
        assert!(is_secret_like(
            &json!({"type": "Opaque", "data": {"a": "b"}})
        ));
        assert!(!is_secret_like(&json!({"kind": "Pod", "spec": {}})));
        assert!(!is_secret_like(
            &json!({"kind": "ConfigMap", "data": {"a": "b"}})
        ));
    }

    #[test]
    fn hostile_names_stay_inside() {
        assert_eq!(safe("../etc"), ".._etc");
        assert_eq!(safe(".."), "_..");
        assert_eq!(safe("shop"), "shop");
    }
}
