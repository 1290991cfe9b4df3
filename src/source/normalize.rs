//! Old kubectl dumps (2017-2019) printed Go field names: `Items`, `ObjectMeta`,
//! `InvolvedObject`, `Reason`, `HostIP`. This turns them into the JSON names of the API
//! (`items`, `metadata`, `involvedObject`, `reason`, `hostIP`) so the typed model reads them.

use serde_json::{Map, Value};

/// Whether a document looks like an old capitalised dump.
pub fn is_capitalised(doc: &Value) -> bool {
    // A List envelope in API form may still hold Go-named items.
    let first_item = |d: &Value| {
        d.get("items")
            .and_then(Value::as_array)
            .and_then(|a| a.first())
            .cloned()
    };
    if let Some(item) = first_item(doc).or_else(|| doc.as_array().and_then(|a| a.first()).cloned())
        && is_capitalised(&item)
    {
        return true;
    }
    match doc {
        Value::Object(m) => m.keys().any(|k| {
            matches!(
                k.as_str(),
                "Items"
                    | "Kind"
                    | "APIVersion"
                    | "ObjectMeta"
                    | "TypeMeta"
                    | "ListMeta"
                    | "Spec"
                    | "Status"
                    | "InvolvedObject"
            )
        }),
        _ => false,
    }
}

/// Go field name → JSON field name: the leading run of capitals is lowered, except the last
/// capital when a lower-case letter follows (`APIVersion` → `apiVersion`, `UID` → `uid`,
/// `HostIP` → `hostIP`, `ContainerID` → `containerID`).
pub fn json_name(go: &str) -> String {
    let chars: Vec<char> = go.chars().collect();
    let run = chars.iter().take_while(|c| c.is_ascii_uppercase()).count();
    if run == 0 {
        return go.to_string();
    }
    let lower_upto = if run == chars.len() || run == 1 {
        run
    } else {
        run - 1
    };
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if i < lower_upto {
                c.to_ascii_lowercase()
            } else {
                *c
            }
        })
        .collect()
}

/// Rewrite a document's keys to JSON names. Map keys under `labels`, `annotations`,
/// `selector`/`matchLabels`, `data` and `nodeSelector` are user data and stay as they are.
pub fn normalise(doc: Value) -> Value {
    normalise_value(doc, false)
}

fn normalise_value(v: Value, user_keys: bool) -> Value {
    match v {
        Value::Object(m) => {
            let mut out = Map::with_capacity(m.len());
            for (k, v) in m {
                if user_keys {
                    out.insert(k, v);
                    continue;
                }
                match k.as_str() {
                    // Embedded Go structs: TypeMeta's fields sit on the object itself.
                    "TypeMeta" => {
                        if let Value::Object(inner) = normalise_value(v, false) {
                            for (ik, iv) in inner {
                                out.insert(ik, iv);
                            }
                        }
                    }
                    "ObjectMeta" | "ListMeta" => {
                        out.insert("metadata".into(), normalise_value(v, false));
                    }
                    _ => {
                        let name = json_name(&k);
                        let child_user = matches!(
                            name.as_str(),
                            "labels"
                                | "annotations"
                                | "matchLabels"
                                | "data"
                                | "binaryData"
                                | "nodeSelector"
                                | "capacity"
                                | "allocatable"
                                | "limits"
                                | "requests"
                                | "hard"
                                | "used"
                        ) || (name == "selector" && is_flat_string_map(&v));
                        out.insert(name, normalise_value(v, child_user));
                    }
                }
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.into_iter().map(|v| normalise_value(v, false)).collect()),
        other => other,
    }
}

/// ObjectMeta's fields, which Go's JSON encoding puts at the top level of an object whose
/// struct embeds ObjectMeta without a tag (old dumps); moved out of `obj` into a metadata map.
pub fn promoted_metadata(obj: &mut Map<String, Value>) -> Value {
    const META: &[&str] = &[
        "name",
        "generateName",
        "namespace",
        "selfLink",
        "uid",
        "resourceVersion",
        "generation",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "labels",
        "annotations",
        "ownerReferences",
        "finalizers",
        "clusterName",
    ];
    let mut meta = Map::new();
    // Only an object that also has spec/status/data is a typed object with promoted
    // metadata; an Event's own `message` or `reason` never moves.
    let typed = ["spec", "status", "data", "involvedObject", "subsets"]
        .iter()
        .any(|k| obj.contains_key(*k));
    if typed {
        for k in META {
            if let Some(v) = obj.remove(*k) {
                meta.insert((*k).to_string(), v);
            }
        }
    }
    Value::Object(meta)
}

fn is_flat_string_map(v: &Value) -> bool {
    matches!(v, Value::Object(m) if m.values().all(Value::is_string))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn go_names_become_json_names() {
        assert_eq!(json_name("Items"), "items");
        assert_eq!(json_name("InvolvedObject"), "involvedObject");
        assert_eq!(json_name("APIVersion"), "apiVersion");
        assert_eq!(json_name("UID"), "uid");
        assert_eq!(json_name("HostIP"), "hostIP");
        assert_eq!(json_name("ContainerID"), "containerID");
        assert_eq!(json_name("already"), "already");
    }

    #[test]
    fn labels_keep_their_keys() {
        let doc = json!({"Items": [{"ObjectMeta": {"Name": "a", "Labels": {"App": "X"}},
                                    "Spec": {"Selector": {"App": "X"}}}]});
        assert!(is_capitalised(&doc));
        let n = normalise(doc);
        assert_eq!(n["items"][0]["metadata"]["name"], "a");
        assert_eq!(n["items"][0]["metadata"]["labels"]["App"], "X");
        assert_eq!(n["items"][0]["spec"]["selector"]["App"], "X");
    }
}
