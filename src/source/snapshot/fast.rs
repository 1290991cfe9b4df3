//! The fast path for the bulk of a dump: a JSON List of a kind Sextant types (pods, events,
//! workloads, services) is read without building a `serde_json::Value` tree. The envelope is
//! scanned once with its items left as raw text, then each item is deserialized straight into
//! its typed object, `managedFields` cut out of the text first (the largest part of a real
//! object, never read). Anything this path is not sure of — another shape, an older API
//! version, a reduced record, a kind it does not type — goes through the general path
//! (`ingest_object`), which normalises it; so the result is the same object either way.

use crate::state::ClusterState;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(default, borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    items: Option<Vec<&'a RawValue>>,
}

/// What [`ingest_list`] read.
pub(super) struct Listed {
    /// Whether the file held objects (as `ingest_doc` says it).
    pub any: bool,
    /// How many items were typed straight from their text.
    pub typed: usize,
}

/// Read a JSON List's items. `None` when `text` is not a List (the caller reads it the general
/// way).
pub(super) fn ingest_list(
    text: &str,
    hint: Option<&str>,
    file: &str,
    st: &mut ClusterState,
    scratch: &mut String,
) -> Option<Listed> {
    let envelope: Envelope = serde_json::from_str(text).ok()?;
    let items = envelope.items?;
    let list_kind = envelope.kind.as_deref();
    let kind = super::item_kind(list_kind, hint);
    let mut any = false;
    let mut typed_items = 0;
    let n = items.len();
    for (i, raw) in items.into_iter().enumerate() {
        if let Some(k) = kind.as_deref()
            && typed(k, raw.get(), n - i, st, scratch)
        {
            any = true;
            typed_items += 1;
            continue;
        }
        let at = format!("{file} item {i}");
        match serde_json::from_str(raw.get()) {
            Ok(value) => any |= super::ingest_object(value, kind.as_deref(), &at, st),
            // The envelope's scan checked the syntax; only the nesting limit is left.
            Err(e) => st
                .report
                .skipped_objects
                .push((at, format!("invalid JSON ({e})"))),
        }
    }
    Some(Listed {
        any: any || list_kind.is_some() || hint.is_some(),
        typed: typed_items,
    })
}

/// Deserialize one item of `kind` into its typed list. False (nothing kept) when the kind is
/// not one this path types, or the item is not a plain current-version object of it: the
/// typed model refuses another `kind` or `apiVersion` (a Secret in a PodList, an
/// `events.k8s.io` Event), and an object without a name (promoted or capitalised metadata)
/// or an event without a namespace (a reduced record) is left to the general path.
///
/// `room` is how many items of the List are left, this one included: a full typed list grows
/// by that much at once (pushing doubled it, touching each page of a large list two or three
/// times).
fn typed(kind: &str, text: &str, room: usize, st: &mut ClusterState, scratch: &mut String) -> bool {
    use k8s_openapi::api::{apps::v1 as apps, batch::v1 as batch, core::v1 as core};
    // Why: a state kept for `policy check` drops a ReplicaSet or Job its controller owns
    // (`take_typed`); typing one only to drop it was a fifth of that load on a real-shaped
    // dump, where every ReplicaSet has a Deployment. Its metadata alone decides.
    if matches!(kind, "ReplicaSet" | "Job") && st.keeps_workloads_as_json() && owned(kind, text) {
        return true;
    }
    let text = if without_key(text, "\"managedFields\"", scratch) {
        scratch.as_str()
    } else {
        text
    };
    macro_rules! go {
        ($ty:ty, $field:ident, |$o:ident| $spec:expr) => {{
            match serde_json::from_str::<$ty>(text) {
                Ok($o) if $o.metadata.name.is_some() => {
                    crate::redact::learn_typed($o.metadata.annotations.as_ref(), $spec);
                    if let Some($o) = st.take_typed(kind, $o) {
                        push(&mut st.$field, $o, room);
                    }
                    true
                }
                _ => false,
            }
        }};
    }
    match kind {
        "Pod" => go!(core::Pod, pods, |o| o.spec.as_ref()),
        "ReplicaSet" => go!(apps::ReplicaSet, replica_sets, |o| o
            .spec
            .as_ref()
            .and_then(|s| s.template.as_ref())
            .and_then(|t| t.spec.as_ref())),
        "Deployment" => go!(apps::Deployment, deployments, |o| o
            .spec
            .as_ref()
            .and_then(|s| s.template.spec.as_ref())),
        "StatefulSet" => go!(apps::StatefulSet, stateful_sets, |o| o
            .spec
            .as_ref()
            .and_then(|s| s.template.spec.as_ref())),
        "DaemonSet" => go!(apps::DaemonSet, daemon_sets, |o| o
            .spec
            .as_ref()
            .and_then(|s| s.template.spec.as_ref())),
        "Job" => go!(batch::Job, jobs, |o| o
            .spec
            .as_ref()
            .and_then(|s| s.template.spec.as_ref())),
        "Service" => go!(core::Service, services, |o| None),
        "Event" => match serde_json::from_str::<core::Event>(text) {
            // Events carry no credentials by where they stand (`learn_object` skips them).
            Ok(e) if e.metadata.name.is_some() && e.metadata.namespace.is_some() => {
                if let Some(e) = st.take_typed(kind, e) {
                    push(&mut st.events, e, room);
                }
                true
            }
            _ => false,
        },
        _ => false,
    }
}

/// What [`owned`] reads of an item: its kind and metadata, everything else skipped unread.
#[derive(Deserialize)]
struct Head<'a> {
    #[serde(default, borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    metadata: Option<HeadMeta<'a>>,
}

#[derive(Deserialize)]
struct HeadMeta<'a> {
    #[serde(default, borrow)]
    name: Option<Cow<'a, str>>,
    #[serde(default, rename = "ownerReferences")]
    owner_references: Option<Vec<serde::de::IgnoredAny>>,
}

/// Whether the item is a named `kind` with an owner: what `take_typed` drops from a state that
/// keeps workloads as JSON. Anything else (another kind in the List, no name, text that does
/// not read) is left to the usual paths, which report it as they always do.
fn owned(kind: &str, text: &str) -> bool {
    let Ok(head) = serde_json::from_str::<Head>(text) else {
        return false;
    };
    let Some(meta) = head.metadata else {
        return false;
    };
    head.kind.as_deref().is_none_or(|k| k == kind)
        && meta.name.is_some_and(|n| !n.is_empty())
        && meta.owner_references.is_some_and(|o| !o.is_empty())
}

/// Push `item`, growing a full list by the `room` its List still has.
fn push<T>(list: &mut Vec<T>, item: T, room: usize) {
    if list.len() == list.capacity() {
        list.reserve_exact(room);
    }
    list.push(item);
}

/// Write `text` (one JSON object) without every member named `key` (quoted), at any depth,
/// into `out`; false (and `out` untouched) when there is none. A quoted string followed by `:`
/// is a member name wherever it stands in valid JSON (inside a string value the quotes would be
/// escaped), so the cut cannot land inside a value.
fn without_key(text: &str, key: &str, out: &mut String) -> bool {
    let finder = memchr::memmem::Finder::new(key.as_bytes());
    let bytes = text.as_bytes();
    let mut cut = false;
    let mut from = 0;
    let mut search = 0;
    while let Some(found) = finder.find(&bytes[search..]) {
        let start = search + found;
        let after = start + key.len();
        let colon = skip_ws(bytes, after);
        if bytes.get(colon) != Some(&b':') {
            search = after;
            continue;
        }
        let Some(end) = value_end(bytes, skip_ws(bytes, colon + 1)) else {
            // Not valid JSON from here: the parser refuses the text as it is.
            return false;
        };
        // Remove the member and one comma beside it (after it, else before it).
        let mut cut_end = skip_ws(bytes, end);
        let mut cut_start = start;
        if bytes.get(cut_end) == Some(&b',') {
            cut_end += 1;
        } else {
            let mut i = start;
            while i > from && bytes[i - 1].is_ascii_whitespace() {
                i -= 1;
            }
            if i > from && bytes[i - 1] == b',' {
                cut_start = i - 1;
            }
        }
        if !cut {
            out.clear();
            cut = true;
        }
        out.push_str(&text[from..cut_start]);
        from = cut_end;
        search = cut_end;
    }
    if cut {
        out.push_str(&text[from..]);
    }
    cut
}

fn skip_ws(bytes: &[u8], mut i: usize) -> usize {
    while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
        i += 1;
    }
    i
}

/// The end (exclusive) of the JSON value starting at `i`: strings, objects and arrays by their
/// brackets (strings and escapes respected), scalars up to the next delimiter.
fn value_end(bytes: &[u8], i: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut j = i;
    while j < bytes.len() {
        let b = bytes[j];
        if in_string {
            match b {
                b'\\' => j += 1,
                b'"' => {
                    in_string = false;
                    if depth == 0 {
                        return Some(j + 1);
                    }
                }
                _ => {}
            }
        } else {
            match b {
                b'"' => in_string = true,
                b'{' | b'[' => depth += 1,
                b'}' | b']' => {
                    if depth == 0 {
                        return Some(j);
                    }
                    depth -= 1;
                    if depth == 0 {
                        return Some(j + 1);
                    }
                }
                b',' if depth == 0 => return Some(j),
                _ => {}
            }
        }
        j += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every List in the real captures reads the same through this path as through the
    /// general one (which builds a Value, normalises and types it), and most of their items
    /// do take this path.
    #[test]
    fn real_captures_read_the_same_both_ways() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/real-dumps");
        let (mut lists, mut typed_total, mut items_total) = (0, 0, 0);
        for file in crate::fswalk::files(&root, &|_| true).expect("walk") {
            if file.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let text = std::fs::read_to_string(&file).expect("read");
            let hint = super::super::kind_hint(&file);
            let mut fast = ClusterState::default();
            let Some(listed) = ingest_list(&text, hint, "f", &mut fast, &mut String::new()) else {
                continue;
            };
            lists += 1;
            typed_total += listed.typed;
            let mut general = ClusterState::default();
            let doc: serde_json::Value = serde_json::from_str(&text).expect("json");
            let any = super::super::ingest_doc(doc, hint, "f", &mut general);
            assert_eq!(listed.any, any, "{}", file.display());
            macro_rules! same {
                ($($f:ident),*) => {$(
                    assert_eq!(
                        serde_json::to_value(&fast.$f).expect("json"),
                        serde_json::to_value(&general.$f).expect("json"),
                        "{} {}", stringify!($f), file.display()
                    );
                )*};
            }
            same!(
                pods,
                replica_sets,
                deployments,
                stateful_sets,
                daemon_sets,
                jobs,
                services,
                events,
                nodes,
                config_maps
            );
            assert_eq!(fast.conditioned.len(), general.conditioned.len());
            assert_eq!(fast.report.secrets_skipped, general.report.secrets_skipped);
            // Every plain item of a kind this path types did take it.
            items_total += general.pods.len()
                + general.replica_sets.len()
                + general.deployments.len()
                + general.stateful_sets.len()
                + general.daemon_sets.len()
                + general.jobs.len()
                + general.services.len()
                + general.events.len();
        }
        assert!(lists >= 20, "{lists} lists");
        assert!(
            typed_total > 150 && typed_total == items_total,
            "{typed_total} of {items_total} typed"
        );
    }

    /// In a state kept for `policy check`, the owned ReplicaSets and Jobs this path drops
    /// unread are the ones the general path types and drops: the workloads kept as JSON are
    /// the same either way, on every real capture and on owned items of every shape.
    #[test]
    fn owned_workloads_drop_the_same_both_ways_in_a_state_kept_as_json() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/real-dumps");
        let kept = |st: &ClusterState| -> Vec<(String, String)> {
            st.workload_json
                .iter()
                .map(|w| (w.kind.to_string(), w.json.to_string()))
                .collect()
        };
        let mut texts: Vec<(String, Option<&str>)> = Vec::new();
        for file in crate::fswalk::files(&root, &|_| true).expect("walk") {
            if file.extension().is_some_and(|e| e == "json") {
                let hint = super::super::kind_hint(&file);
                texts.push((std::fs::read_to_string(&file).expect("read"), hint));
            }
        }
        let made = r#"{"kind": "ReplicaSetList", "items": [
            {"metadata": {"name": "web-7f", "namespace": "a", "ownerReferences": [{"kind": "Deployment", "name": "web"}]}, "spec": {"selector": {}}},
            {"kind": "ReplicaSet", "apiVersion": "apps/v1", "metadata": {"name": "solo", "namespace": "a", "ownerReferences": []}},
            {"kind": "Secret", "metadata": {"name": "s", "namespace": "a", "ownerReferences": [{"kind": "X", "name": "y"}]}},
            {"kind": "ReplicaSet", "metadata": {"name": "", "ownerReferences": [{"kind": "X", "name": "y"}]}}
        ]}"#;
        texts.push((made.to_string(), Some("ReplicaSet")));
        let mut dropped = 0;
        for (text, hint) in &texts {
            let mut fast = ClusterState::keeping_workloads_as_json();
            let Some(listed) = ingest_list(text, *hint, "f", &mut fast, &mut String::new()) else {
                continue;
            };
            let mut general = ClusterState::keeping_workloads_as_json();
            let doc: serde_json::Value = serde_json::from_str(text).expect("json");
            dropped += doc["items"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|i| {
                    ["ReplicaSet", "Job"]
                        .iter()
                        .any(|k| owned(k, &i.to_string()))
                })
                .count();
            assert_eq!(
                listed.any,
                super::super::ingest_doc(doc, *hint, "f", &mut general)
            );
            assert_eq!(kept(&fast), kept(&general));
            assert_eq!(fast.report.secrets_skipped, general.report.secrets_skipped);
            assert_eq!(
                fast.report.skipped_objects.len(),
                general.report.skipped_objects.len()
            );
        }
        // The shortcut is taken (the made list's first item, and the captures' own).
        assert!(dropped > 1, "{dropped} items dropped unread");
        assert!(!owned(
            "ReplicaSet",
            r#"{"kind": "Secret", "metadata": {"name": "s", "ownerReferences": [{}]}}"#
        ));
        assert!(!owned(
            "ReplicaSet",
            r#"{"metadata": {"name": "s", "ownerReferences": []}}"#
        ));
        assert!(owned(
            "Job",
            r#"{"metadata": {"name": "j", "ownerReferences": [{"kind": "CronJob"}]}, "spec": 1}"#
        ));
    }

    #[test]
    fn managed_fields_are_cut_wherever_they_stand() {
        let text = r#"{"metadata": {"name": "p", "managedFields": [{"f": {"k:{\"a\":\"}\"}": {}}}], "uid": "u"},
            "spec": {"template": {"metadata": {"managedFields": []}}}, "x": "\"managedFields\": 1"}"#;
        let mut out = String::new();
        assert!(without_key(text, "\"managedFields\"", &mut out));
        let v: serde_json::Value = serde_json::from_str(&out).expect(&out);
        assert_eq!(v["metadata"], serde_json::json!({"name": "p", "uid": "u"}));
        assert_eq!(v["spec"]["template"]["metadata"], serde_json::json!({}));
        assert_eq!(v["x"], "\"managedFields\": 1");
        let last = r#"{"a": 1, "managedFields": null}"#;
        assert!(without_key(last, "\"managedFields\"", &mut out));
        assert_eq!(out, r#"{"a": 1}"#);
        let none = r#"{"a": "managedFields"}"#;
        assert!(!without_key(none, "\"managedFields\"", &mut out));
    }
}
