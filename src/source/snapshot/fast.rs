//! The fast path for the bulk of a dump: a JSON List of a kind Sextant types (pods, events,
//! workloads, services) is read without building a `serde_json::Value` tree. The envelope is
//! scanned once (`scan.rs`), each item written compact and without `managedFields` (the
//! largest part of a real object, never read), then deserialized straight into its typed
//! object. Anything this path is not sure of — another shape, an older API
//! version, a reduced record, a kind it does not type — goes through the general path
//! (`ingest_object`), which normalises it; so the result is the same object either way.

use crate::state::ClusterState;
use serde::Deserialize;
use std::borrow::Cow;

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
    let scanned = super::scan::scan_list(text, scratch)?;
    let list_kind = scanned.kind.as_deref();
    let kind = super::item_kind(list_kind, hint);
    let mut any = false;
    let mut typed_items = 0;
    let n = scanned.items.len();
    for (i, (raw, compact)) in scanned.items.into_iter().enumerate() {
        // The compact text is cut at token boundaries of `text`, so it is valid UTF-8 and
        // every range is in bounds; `get` keeps a mistake from panicking.
        if let Some(k) = kind.as_deref()
            && let Some(compact) = scratch.get(compact)
            && typed(k, compact, n - i, st)
        {
            any = true;
            typed_items += 1;
            continue;
        }
        let at = format!("{file} item {i}");
        // Anything this path does not type is read from its own text, as the general path
        // would (`managedFields` and all).
        match serde_json::from_str(text.get(raw).unwrap_or_default()) {
            Ok(value) => any |= super::ingest_object(value, kind.as_deref(), &at, st),
            // The scan checked the structure; the parse checks the rest.
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
fn typed(kind: &str, text: &str, room: usize, st: &mut ClusterState) -> bool {
    use k8s_openapi::api::{apps::v1 as apps, batch::v1 as batch, core::v1 as core};
    // Why: a state kept for `policy check` drops a ReplicaSet or Job its controller owns
    // (`take_typed`); typing one only to drop it was a fifth of that load on a real-shaped
    // dump, where every ReplicaSet has a Deployment. Its metadata alone decides.
    if matches!(kind, "ReplicaSet" | "Job") && st.keeps_workloads_as_json() && owned(kind, text) {
        return true;
    }
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
}
