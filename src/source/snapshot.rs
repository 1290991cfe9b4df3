//! The offline source: a `kubectl cluster-info dump --output-directory` tree, a directory of
//! `kubectl get -o json|yaml` files (Lists, single objects, multi-document YAML), plain
//! manifests, old capitalised dumps, or one such file.
//!
//! A file that does not parse is reported and skipped; the rest still loads. Secrets are never
//! kept: they are counted, their names noted, and dropped as soon as their kind is seen.

use super::normalize;
use crate::error::{Error, Result};
use crate::jsonptr::Pointer as _;
use crate::logs::{LogBlob, LogStore};
use crate::state::ClusterState;
use serde_json::Value;
use std::path::{Component, Path, PathBuf};

mod assemble;
mod fast;
mod kinds;
mod scan;
mod stream;
pub(crate) use kinds::kind_for_plural;
use kinds::*;

/// Read a snapshot at `path` (a directory or one file).
pub fn load(path: &Path) -> Result<ClusterState> {
    load_into(path, ClusterState::default())
}

/// [`load`], pods and controllers kept as JSON text rather than typed
/// ([`ClusterState::keeping_workloads_as_json`]): what `policy check` reads, in a fraction
/// of the memory. Analyzers find no workloads in this state, and what the reader derives from
/// typed objects (`report.manifests_only`, `observed_at`) does not see the workloads: only
/// `policy check`, which reads neither, may use it.
pub fn load_workloads_as_json(path: &Path) -> Result<ClusterState> {
    load_into(path, ClusterState::keeping_workloads_as_json())
}

/// [`load`], keeping what the analyzers read ([`Keep::ForAnalysis`]): what `analyze` reads.
///
/// [`Keep::ForAnalysis`]: crate::state::Keep::ForAnalysis
pub fn load_for_analysis(path: &Path) -> Result<ClusterState> {
    load_into(path, ClusterState::keeping(crate::state::Keep::ForAnalysis))
}

/// Read the snapshot into states made like `empty` (one per file, joined).
fn load_into(path: &Path, empty: ClusterState) -> Result<ClusterState> {
    if !path.exists() {
        return Err(Error::SnapshotNotFound(path.to_path_buf()));
    }
    let (mut state, object_files, log_files) = if path.is_dir() {
        let walked = assemble::walk_and_parse(path, &enter, &is_object_file, &is_log_file, &empty)
            .map_err(|e| Error::SnapshotUnreadable {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?;
        (walked.state, walked.object_files, walked.log_files)
    } else {
        let files = vec![path.to_path_buf()];
        (
            assemble::parse_files(path, &files, &empty),
            files,
            Vec::new(),
        )
    };
    state.report.files_read = object_files.len();

    if state.object_count() == 0
        && state.report.secrets_skipped == 0
        && state.conditioned.is_empty()
    {
        if let Some((at, reason)) = state.report.skipped_objects.first() {
            return Err(Error::SnapshotUnreadable {
                path: PathBuf::from(at),
                reason: reason.clone(),
            });
        }
        if let Some((file, reason)) = state.report.skipped_files.first()
            && object_files.len() == 1
        {
            return Err(Error::SnapshotUnreadable {
                path: PathBuf::from(file),
                reason: reason.clone(),
            });
        }
        return Err(Error::SnapshotEmpty(path.to_path_buf()));
    }
    // Why the logs are registered on a thread of their own: nothing below reads them, and on
    // a dump of thousands of pods they and the steps below were each a few ms on one core.
    let ((), logs) = crate::runtime::beside(
        || {
            assemble::nameless_warnings(&mut state);
            assemble::dedupe(&mut state);
            state.report.manifests_only = manifests_only(&state);
            state.observed_at = newest_timestamp(&state);
            state.index_events();
        },
        || {
            let mut logs = LogStore::default();
            for log in &log_files {
                register_log(path, log, &lower_name(log), &mut logs);
            }
            logs
        },
    );
    state.logs = logs;
    Ok(state)
}

/// Folders a walk of a snapshot enters: not hidden ones, `node_modules` or `target` (a Git
/// checkout of manifests has them).
fn enter(name: &str) -> bool {
    !(name.starts_with('.') || name == "node_modules" || name == "target")
}

/// Whether a file (its lower-case name) holds objects.
fn is_object_file(lower: &str) -> bool {
    lower.ends_with(".json") || lower.ends_with(".yaml") || lower.ends_with(".yml")
}

/// Whether a file (its lower-case name) is a container log.
fn is_log_file(lower: &str) -> bool {
    lower == "logs.txt" || lower.ends_with(".log")
}

fn lower_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default()
}

/// Work out which pod (and container) a log file belongs to from where it sits. Each layout
/// is one that a real capture tool writes:
/// - `NS/POD/logs.txt` (`kubectl cluster-info dump`, blocks per container),
/// - `namespaces/NS/pods/POD/C/C/logs/{current,previous}[.insecure].log` (`oc adm
///   must-gather`: one folder per container, the container name twice),
/// - `.../namespaces/NS/pods/POD/containers/C/logs/*.log` (older must-gather style),
/// - `cluster-resources/pods/logs/NS/POD/C[-previous].log` (troubleshoot.sh support bundles),
/// - `.../NS/logs/POD/*.log` (Insights archive),
/// - `.../NS/POD/C.log` or `.../NS/POD/C.previous.log`.
///
/// A log is always bound to its own container when the layout names one: quoting another
/// container's log as a crash cause is worse than quoting none.
fn register_log(root: &Path, path: &Path, lower_name: &str, logs: &mut LogStore) {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let parts: Vec<String> = rel
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    let n = parts.len();
    let previous = lower_name.contains("previous");
    let file = |container: Option<String>, previous: bool| LogBlob::File {
        path: path.to_path_buf(),
        container,
        previous,
    };
    if lower_name == "logs.txt" && n >= 3 {
        logs.add(
            &parts[n - 3],
            &parts[n - 2],
            LogBlob::DumpFile(path.to_path_buf()),
        );
        return;
    }
    // Support bundle: pods/logs/NS/POD/C.log, C-previous.log.
    if n >= 5 && parts[n - 5] == "pods" && parts[n - 4] == "logs" {
        let stem = parts[n - 1].strip_suffix(".log").unwrap_or(&parts[n - 1]);
        let (container, prev) = match stem.strip_suffix("-previous") {
            Some(c) => (c, true),
            None => (stem, false),
        };
        logs.add(
            &parts[n - 3],
            &parts[n - 2],
            file(Some(container.to_string()), prev),
        );
        return;
    }
    if let Some(i) = parts.iter().position(|p| p == "pods")
        && i >= 1
        && n > i + 1
    {
        let ns = &parts[i - 1];
        let pod = &parts[i + 1];
        // must-gather: pods/POD/C/C/logs/FILE.
        let container = if n == i + 6 && parts[i + 4] == "logs" && parts[i + 2] == parts[i + 3] {
            Some(parts[i + 2].clone())
        } else {
            parts
                .iter()
                .position(|p| p == "containers")
                .and_then(|j| parts.get(j + 1))
                .cloned()
        };
        logs.add(ns, pod, file(container, previous));
        return;
    }
    if let Some(i) = parts.iter().rposition(|p| p == "logs")
        && i >= 1
        && n == i + 3
    {
        logs.add(&parts[i - 1], &parts[i + 1], file(None, previous));
        return;
    }
    if n >= 3 && parts[..n - 1].iter().all(|p| p != "node" && p != "nodes") {
        let stem = parts[n - 1]
            .trim_end_matches(".log")
            .trim_end_matches(".previous")
            .trim_end_matches("-previous")
            .to_string();
        logs.add(&parts[n - 3], &parts[n - 2], file(Some(stem), previous));
    }
}

/// Buffers a reading thread keeps from file to file: a large dump is thousands of files of a
/// few MB, and fresh allocations of that size are fresh pages the kernel must zero each time.
#[derive(Default)]
pub(super) struct Buffers {
    bytes: Vec<u8>,
    scratch: String,
}

fn display(root: &Path, file: &Path) -> String {
    if root.is_dir() {
        root.join(file.strip_prefix(root).unwrap_or(file))
            .display()
            .to_string()
    } else {
        file.display().to_string()
    }
}

/// YAML files larger than this are refused with one line: a YAML document is parsed in memory
/// (several times its size), and a dump this large is better loaded per namespace. JSON files
/// from 32 MiB on are streamed item by item instead (`stream.rs`).
pub const MAX_OBJECT_FILE_BYTES: u64 = 256 * 1024 * 1024;

fn is_json(file: &Path) -> bool {
    file.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

pub(super) fn parse_file(root: &Path, file: &Path, st: &mut ClusterState, buffers: &mut Buffers) {
    let shown = display(root, file);
    // Only regular files are read: a FIFO named like a dump file would block forever, a
    // device would never end.
    match std::fs::metadata(file) {
        Ok(m) if !m.is_file() => {
            st.report.skipped_files.push((
                shown,
                "not a regular file (FIFOs and devices are never read)".into(),
            ));
            return;
        }
        // Large JSON is read item by item (bounded memory), up to a much higher limit.
        Ok(m) if is_json(file) && m.len() >= stream::STREAM_BYTES => {
            if m.len() > stream::MAX_STREAMED_BYTES {
                st.report.skipped_files.push((
                    shown,
                    format!(
                        "{} MiB is over the {} MiB limit for one JSON file: save the namespaces you need separately",
                        m.len() / (1024 * 1024),
                        stream::MAX_STREAMED_BYTES / (1024 * 1024)
                    ),
                ));
                return;
            }
            match stream::ingest_json_file(file, kind_hint(file), &shown, st) {
                Ok(true) => {}
                Ok(false) => st
                    .report
                    .skipped_files
                    .push((shown, "no Kubernetes objects in this file".into())),
                // Streamed: what came before the fault is kept, and said so.
                Err(reason) => st
                    .report
                    .skipped_files
                    .push((shown, format!("{reason}; the objects before it were read"))),
            }
            return;
        }
        Ok(m) if m.len() > MAX_OBJECT_FILE_BYTES => {
            st.report.skipped_files.push((
                shown,
                format!(
                    "{} MiB is over the {} MiB limit for one object file: save the namespaces you need separately",
                    m.len() / (1024 * 1024),
                    MAX_OBJECT_FILE_BYTES / (1024 * 1024)
                ),
            ));
            return;
        }
        _ => {}
    }
    buffers.bytes.clear();
    if let Err(e) = std::fs::File::open(file)
        .and_then(|mut f| std::io::Read::read_to_end(&mut f, &mut buffers.bytes))
    {
        st.report.skipped_files.push((shown, e.to_string()));
        return;
    }
    if let Some(format) = archive_format(&buffers.bytes) {
        st.report.skipped_files.push((
            shown,
            format!(
                "a capture packed as {format}, not manifests: extract it and pass the extracted directory"
            ),
        ));
        return;
    }
    let text = crate::logs::lossy(&buffers.bytes);
    let hint = kind_hint(file);
    if (is_json(file) || text.trim_start().starts_with('{'))
        && let Some(listed) = fast::ingest_list(&text, hint, &shown, st, &mut buffers.scratch)
    {
        tracing::trace!(file = %shown, typed = listed.typed, "list read");
        if !listed.any {
            st.report
                .skipped_files
                .push((shown, "no Kubernetes objects in this file".into()));
        }
        return;
    }
    let docs = match parse_text(&text, is_json(file)) {
        Ok(d) => d,
        Err(reason) => {
            st.report
                .skipped_files
                .push((shown, format!("{reason}; file skipped")));
            return;
        }
    };
    let mut any = false;
    for doc in docs {
        if doc.is_null() {
            continue;
        }
        let doc = if normalize::is_capitalised(&doc) {
            normalize::normalise(doc)
        } else {
            doc
        };
        any |= ingest_doc(doc, hint, &shown, st);
    }
    if !any && !st.report.skipped_files.iter().any(|(f, _)| f == &shown) {
        st.report
            .skipped_files
            .push((shown, "no Kubernetes objects in this file".into()));
    }
}

/// The archive format a file's first bytes name (support bundles and must-gathers come as
/// `.tar.gz`/`.tar.xz`): read as text it would be one baffling parse error.
fn archive_format(bytes: &[u8]) -> Option<&'static str> {
    const MAGIC: [(&[u8], &str); 6] = [
        (&[0x1f, 0x8b], "gzip"),
        (&[0xfd, b'7', b'z', b'X', b'Z', 0x00], "xz"),
        (&[0x28, 0xb5, 0x2f, 0xfd], "zstd"),
        (b"BZh", "bzip2"),
        (b"PK\x03\x04", "zip"),
        (b"7z\xbc\xaf\x27\x1c", "7-Zip"),
    ];
    if let Some((_, format)) = MAGIC.iter().find(|(m, _)| bytes.starts_with(m)) {
        return Some(format);
    }
    // A POSIX tar header names its format at byte 257.
    bytes
        .get(257..262)
        .filter(|m| *m == b"ustar")
        .map(|_| "tar")
}

/// The documents of a manifest file's text: one JSON value, or a multi-document YAML stream
/// (parsed with resource budgets: the text is untrusted). The error is one line.
pub(crate) fn parse_text(text: &str, is_json: bool) -> Result<Vec<Value>, String> {
    if is_json || text.trim_start().starts_with('{') {
        serde_json::from_str::<Value>(text)
            .map(|v| vec![v])
            .map_err(|e| {
                if e.is_eof() {
                    format!("truncated JSON ({e})")
                } else {
                    format!("invalid JSON ({e})")
                }
            })
    } else {
        serde_saphyr::from_multiple::<Value>(text)
            .map(|v| v.into_iter().map(integral_floats).collect())
            .map_err(|e| {
                let msg = e.to_string();
                format!(
                    "invalid YAML ({})",
                    msg.lines().next().unwrap_or("parse error")
                )
            })
    }
}

/// YAML scalars like `0755` (a file mode) come back as floats; Kubernetes fields that hold
/// numbers are integers, so integral floats are turned back into integers.
fn integral_floats(v: Value) -> Value {
    match v {
        Value::Number(n) if !n.is_i64() && !n.is_u64() => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Value::from(f as i64),
            _ => Value::Number(n),
        },
        Value::Array(a) => Value::Array(a.into_iter().map(integral_floats).collect()),
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| (k, integral_floats(v)))
                .collect(),
        ),
        other => other,
    }
}

/// The kind of a list's items when they do not say: `PodList` → Pod; `List` (kubectl get
/// all) → none (each item names its kind), else the file's hint.
fn item_kind(list_kind: Option<&str>, hint: Option<&str>) -> Option<String> {
    list_kind
        .and_then(|k| k.strip_suffix("List"))
        .filter(|k| !k.is_empty())
        .or(hint)
        .map(str::to_string)
}

/// Take one document (a List or a single object). Returns whether it held any object.
fn ingest_doc(doc: Value, hint: Option<&str>, file: &str, st: &mut ClusterState) -> bool {
    // A bare array of objects (what `kubectl get -o json | jq .items` prints) is a List
    // without its envelope.
    let doc = match doc {
        Value::Array(items) => serde_json::json!({ "items": items }),
        other => other,
    };
    let Value::Object(mut map) = doc else {
        return false;
    };
    let list_kind = map.get("kind").and_then(Value::as_str).map(str::to_string);
    if let Some(Value::Array(items)) = map.remove("items") {
        let item_kind = item_kind(list_kind.as_deref(), hint);
        let mut any = false;
        for (i, item) in items.into_iter().enumerate() {
            let where_ = format!("{file} item {i}");
            any |= ingest_object(item, item_kind.as_deref(), &where_, st);
        }
        // An empty list is still a (valid) object file.
        return any || list_kind.is_some() || hint.is_some();
    }
    if let Some(kind) = list_kind.as_deref().or(hint) {
        let meta = |k: &str| {
            map.get("metadata")
                .and_then(|m| m.get(k))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let name = meta("name");
        if !name.is_empty() {
            st.origins.insert(
                (kind.to_string(), meta("namespace"), name),
                file.to_string(),
            );
        }
    }
    let where_ = file.to_string();
    ingest_object(Value::Object(map), hint, &where_, st)
}

/// One document (an object or a List) read from elsewhere (pasted evidence).
pub(crate) fn ingest_one(doc: Value, at: &str, st: &mut ClusterState) -> bool {
    ingest_doc(doc, None, at, st)
}

/// One item of a live list (the kind comes from the list).
pub(crate) fn ingest_live(obj: Value, kind: &str, at: &str, st: &mut ClusterState) -> bool {
    ingest_object(obj, Some(kind), at, st)
}

fn ingest_object(
    mut obj: Value,
    default_kind: Option<&str>,
    at: &str,
    st: &mut ClusterState,
) -> bool {
    let kind = obj
        .get("kind")
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| infer_kind(&obj).map(str::to_string))
        .or_else(|| default_kind.map(str::to_string));
    let Some(kind) = kind else {
        return false;
    };
    if !obj.is_object() {
        return false;
    }
    // Credentials known by where they stand are redacted wherever they appear later.
    crate::redact::learn_object(&kind, &obj);
    // Objects from some tools omit metadata; the typed model requires it. Old dumps of Go
    // structs (2017-2019) promote the embedded ObjectMeta: `name`, `namespace`, `labels` …
    // stand at the top level beside `spec` and `status`.
    if obj.get("metadata").is_none()
        && let Some(m) = obj.as_object_mut()
    {
        let meta = normalize::promoted_metadata(m);
        m.insert("metadata".into(), meta);
    }
    // The typed model checks apiVersion against the one version it knows; older versions of
    // the same kind (extensions/v1beta1 Ingress, batch/v1beta1 CronJob, events.k8s.io Events)
    // carry the same fields Sextant reads, so the version is dropped before typing.
    if let Some(m) = obj.as_object_mut() {
        m.remove("apiVersion");
        m.remove("kind");
        // Who wrote which field (the largest part of a real object) is never read.
        if let Some(Value::Object(meta)) = m.get_mut("metadata") {
            meta.remove("managedFields");
        }
    }
    macro_rules! push {
        ($field:ident) => {
            match serde_json::from_value(obj) {
                Ok(v) => {
                    if let Some(v) = st.take_typed(&kind, v) {
                        st.$field.push(v);
                    }
                    true
                }
                Err(e) => {
                    st.report
                        .skipped_objects
                        .push((at.to_string(), format!("{kind}: {e}")));
                    true
                }
            }
        };
    }
    match kind.as_str() {
        "Secret" => {
            // Never kept: the name only, for reference checks; the data is dropped here.
            let ns = obj
                .at("/metadata/namespace")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let name = obj
                .at("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            drop(obj);
            st.report.secrets_skipped += 1;
            st.secret_names.insert((ns, name));
            st.secret_names_known = true;
            true
        }
        "Pod" => push!(pods),
        "Deployment" => push!(deployments),
        "ReplicaSet" => push!(replica_sets),
        "StatefulSet" => push!(stateful_sets),
        "DaemonSet" => push!(daemon_sets),
        "ReplicationController" => push!(replication_controllers),
        "Job" => push!(jobs),
        "CronJob" => push!(cron_jobs),
        "Service" => push!(services),
        "EndpointSlice" => push!(endpoint_slices),
        "Ingress" => push!(ingresses),
        "IngressClass" => push!(ingress_classes),
        "NetworkPolicy" => push!(network_policies),
        "PersistentVolumeClaim" => push!(pvcs),
        "PersistentVolume" => push!(pvs),
        "StorageClass" => push!(storage_classes),
        "Node" => push!(nodes),
        "Namespace" => push!(namespaces),
        "HorizontalPodAutoscaler" => {
            upgrade_hpa(&mut obj);
            push!(hpas)
        }
        "PodDisruptionBudget" => push!(pdbs),
        "ResourceQuota" => push!(resource_quotas),
        "ServiceAccount" => push!(service_accounts),
        "ConfigMap" => {
            // Keep the keys (for reference checks), never the values.
            for field in ["data", "binaryData"] {
                if let Some(Value::Object(m)) = obj.get_mut(field) {
                    for v in m.values_mut() {
                        *v = Value::String(String::new());
                    }
                }
            }
            push!(config_maps)
        }
        "Event" => {
            normalise_event(&mut obj);
            push!(events)
        }
        other => {
            *st.report.other_kinds.entry(other.to_string()).or_default() += 1;
            if let Some(c) = crate::state::ConditionedObject::from_value(other, &obj) {
                st.conditioned.push(c);
            }
            true
        }
    }
}

/// `events.k8s.io/v1` Events and reduced event records are turned into the core/v1 shape.
fn normalise_event(obj: &mut Value) {
    let Some(m) = obj.as_object_mut() else { return };
    if let Some(r) = m.remove("regarding") {
        m.entry("involvedObject").or_insert(r);
    }
    if let Some(n) = m.remove("note") {
        m.entry("message").or_insert(n);
    }
    for (from, to) in [
        ("deprecatedCount", "count"),
        ("deprecatedFirstTimestamp", "firstTimestamp"),
        ("deprecatedLastTimestamp", "lastTimestamp"),
    ] {
        if let Some(v) = m.remove(from) {
            m.entry(to).or_insert(v);
        }
    }
    // Reduced records (e.g. Insights archives) carry the namespace on the event itself.
    if let Some(ns) = m.get("namespace").cloned()
        && let Some(Value::Object(meta)) = m.get_mut("metadata")
    {
        meta.entry("namespace").or_insert(ns);
    }
    m.entry("involvedObject")
        .or_insert_with(|| Value::Object(Default::default()));
}

/// autoscaling/v1 HPAs have no `metrics`; the v2 model reads their conditions and replica
/// counts alike, so only the CPU target is carried over.
fn upgrade_hpa(obj: &mut Value) {
    let Some(spec) = obj.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    if let Some(cpu) = spec.remove("targetCPUUtilizationPercentage") {
        spec.entry("metrics").or_insert_with(|| {
            serde_json::json!([{"type": "Resource", "resource": {"name": "cpu",
                "target": {"type": "Utilization", "averageUtilization": cpu}}}])
        });
    }
}

/// Whether the state is plain manifests: no status anywhere, no events, no nodes.
pub(crate) fn manifests_only(state: &ClusterState) -> bool {
    state.pods.iter().all(|p| p.status.is_none())
        && state.events.is_empty()
        // EndpointSlices are observed state, never written by hand.
        && state.endpoint_slices.is_empty()
        && state.nodes.is_empty()
        && !has_any_status(state)
}

fn has_any_status(st: &ClusterState) -> bool {
    st.deployments.iter().any(|d| d.status.is_some())
        || st.stateful_sets.iter().any(|d| d.status.is_some())
        || st.daemon_sets.iter().any(|d| d.status.is_some())
        || st.jobs.iter().any(|d| d.status.is_some())
        || st
            .pvcs
            .iter()
            .any(|d| d.status.as_ref().and_then(|s| s.phase.as_ref()).is_some())
}

/// The newest timestamp in the state: the moment the snapshot was taken, near enough.
fn newest_timestamp(st: &ClusterState) -> Option<jiff::Timestamp> {
    let mut newest: Option<jiff::Timestamp> = None;
    let mut see = |t: Option<jiff::Timestamp>| {
        if let Some(t) = t
            && newest.is_none_or(|n| t > n)
        {
            newest = Some(t);
        }
    };
    for ev in &st.events {
        see(crate::state::event_time(ev));
    }
    for p in &st.pods {
        see(p.metadata.creation_timestamp.as_ref().map(|t| t.0));
        if let Some(status) = &p.status {
            for c in status.conditions.iter().flatten() {
                see(c.last_transition_time.as_ref().map(|t| t.0));
            }
            for cs in status
                .container_statuses
                .iter()
                .flatten()
                .chain(status.init_container_statuses.iter().flatten())
            {
                for state in [&cs.state, &cs.last_state].into_iter().flatten() {
                    if let Some(r) = &state.running {
                        see(r.started_at.as_ref().map(|t| t.0));
                    }
                    if let Some(t) = &state.terminated {
                        see(t.finished_at.as_ref().map(|t| t.0));
                    }
                }
            }
        }
    }
    for n in &st.nodes {
        for c in n.status.iter().flat_map(|s| s.conditions.iter().flatten()) {
            see(c.last_heartbeat_time.as_ref().map(|t| t.0));
        }
    }
    newest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_hints_from_file_names() {
        assert_eq!(kind_hint(Path::new("x/pods.json")), Some("Pod"));
        assert_eq!(
            kind_hint(Path::new("replication-controllers.json")),
            Some("ReplicationController")
        );
        assert_eq!(kind_hint(Path::new("state.yaml")), None);
        assert_eq!(
            kind_hint(Path::new("config/pod/openshift-etcd/etcd-0.json")),
            Some("Pod")
        );
        let pod = serde_json::json!({"metadata": {"selfLink": "/api/v1/namespaces/a/pods/p"}});
        assert_eq!(infer_kind(&pod), Some("Pod"));
    }

    #[test]
    fn new_style_events_read_as_core_events() {
        let mut st = ClusterState::default();
        let ev = serde_json::json!({"apiVersion": "events.k8s.io/v1", "kind": "Event",
            "metadata": {"name": "e", "namespace": "shop"}, "eventTime": "2024-01-01T00:00:00.000000Z",
            "regarding": {"kind": "Pod", "name": "p", "namespace": "shop"},
            "note": "Back-off restarting failed container", "reason": "BackOff", "type": "Warning",
            "deprecatedCount": 4});
        assert!(
            ingest_object(ev, None, "t", &mut st),
            "{:?}",
            st.report.skipped_objects
        );
        assert_eq!(st.events.len(), 1);
        assert_eq!(st.events[0].involved_object.name.as_deref(), Some("p"));
        assert_eq!(st.events[0].count, Some(4));
    }

    #[test]
    fn secrets_are_counted_not_kept() {
        let mut st = ClusterState::default();
        let s = serde_json::json!({"kind": "Secret", "metadata": {"name": "db", "namespace": "a"},
            "data": {"password": "aHVudGVyMg=="}});
        assert!(ingest_object(s, None, "t", &mut st));
        assert_eq!(st.report.secrets_skipped, 1);
        assert!(
            st.secret_names
                .contains(&("a".to_string(), "db".to_string()))
        );
        assert_eq!(st.object_count(), 0);
    }
}
