//! Watch mode: after the first collection, watch Pods and Events (the two kinds that change
//! during an incident) and emit a fresh collection whenever they changed, at most once
//! per `debounce`. The caller re-runs the analyzers and prints what changed, so this module
//! stays a source: it knows nothing about findings.
//!
//! Containers that start failing during the watch get their logs fetched (once each, within
//! the collection's `max_log_containers` budget), so a new crash is explained as the first
//! collection would have explained it.
//!
//! kube-runtime's watcher does the list-then-watch, resumes from the last resourceVersion when
//! a stream ends, re-lists when it expired (410), and backs off exponentially on errors.

use super::collect::{Collected, Log, Options, failing_containers};
use super::{Cluster, ClusterError};
use futures::StreamExt;
use k8s_openapi::api::core::v1::{Event, Pod};
use kube::Api;
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

/// Boxed: a Pod is large beside the other variants.
enum Msg {
    Pods(Box<watcher::Event<Pod>>),
    Events(Box<watcher::Event<Event>>),
    Failed(String),
}

/// Objects of one kind by uid (or namespace/name), fed by watcher events.
#[derive(Default)]
struct Mirror {
    objects: BTreeMap<String, Value>,
    /// Objects of a re-list in progress (replace `objects` at `InitDone`).
    relist: Option<BTreeMap<String, Value>>,
}

impl Mirror {
    fn from_items(items: &[Value]) -> Mirror {
        Mirror {
            objects: items.iter().map(|v| (key(v), v.clone())).collect(),
            relist: None,
        }
    }

    /// Apply one watcher event; returns whether the visible set changed.
    fn apply<K: serde::Serialize>(&mut self, e: watcher::Event<K>) -> bool {
        let json = |k: &K| serde_json::to_value(k).unwrap_or(Value::Null);
        match e {
            watcher::Event::Apply(k) => {
                let v = json(&k);
                self.objects.insert(key(&v), v);
                true
            }
            watcher::Event::Delete(k) => self.objects.remove(&key(&json(&k))).is_some(),
            watcher::Event::Init => {
                self.relist = Some(BTreeMap::new());
                false
            }
            watcher::Event::InitApply(k) => {
                let v = json(&k);
                self.relist
                    .get_or_insert_with(BTreeMap::new)
                    .insert(key(&v), v);
                false
            }
            watcher::Event::InitDone => match self.relist.take() {
                Some(m) if m != self.objects => {
                    self.objects = m;
                    true
                }
                _ => false,
            },
        }
    }
}

fn key(v: &Value) -> String {
    let s = |p: &str| v.pointer(p).and_then(Value::as_str).unwrap_or("");
    match s("/metadata/uid") {
        "" => format!("{}/{}", s("/metadata/namespace"), s("/metadata/name")),
        uid => uid.to_string(),
    }
}

/// Watch until the stream ends or the future is dropped (Ctrl-C), calling `emit` with the
/// new state after each batch of changes. Errors are reported through `on_error` (the
/// watcher retries them with backoff).
pub async fn run(
    cluster: &Cluster,
    base: &Collected,
    options: &Options,
    namespace: Option<&str>,
    debounce: Duration,
    mut emit: impl FnMut(Collected),
    mut on_error: impl FnMut(&str),
) -> Result<(), ClusterError> {
    let client = cluster.client();
    let (pods_api, events_api): (Api<Pod>, Api<Event>) = match namespace {
        Some(ns) => (
            Api::namespaced(client.clone(), ns),
            Api::namespaced(client, ns),
        ),
        None => (Api::all(client.clone()), Api::all(client)),
    };
    let items = |kind: &str| {
        base.lists
            .iter()
            .find(|(k, _)| k.kind == kind)
            .map(|(_, v)| v.as_slice())
            .unwrap_or_default()
    };
    let mut pods = Mirror::from_items(items("Pod"));
    let mut events = Mirror::from_items(items("Event"));
    // Logs: the first collection's, plus those of containers that fail later.
    let mut logs: Vec<Log> = base.logs.clone();
    let mut logs_missing = base.logs_missing.clone();
    let mut asked: HashSet<(String, String, String, bool)> =
        failing_containers(items("Pod")).into_iter().collect();
    let count = Arc::new(super::collect::Tally::default());
    let pod_stream = watcher(pods_api, watcher::Config::default())
        .default_backoff()
        .map(|r| r.map_or_else(|e| Msg::Failed(e.to_string()), |e| Msg::Pods(Box::new(e))));
    let event_stream = watcher(events_api, watcher::Config::default())
        .default_backoff()
        .map(|r| r.map_or_else(|e| Msg::Failed(e.to_string()), |e| Msg::Events(Box::new(e))));
    let mut stream = std::pin::pin!(futures::stream::select(pod_stream, event_stream));
    let mut tick = tokio::time::interval(debounce);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut dirty = false;
    loop {
        tokio::select! {
            msg = stream.next() => match msg {
                None => return Ok(()),
                Some(Msg::Pods(e)) => dirty |= pods.apply(*e),
                Some(Msg::Events(e)) => dirty |= events.apply(*e),
                Some(Msg::Failed(e)) => on_error(&e),
            },
            _ = tick.tick(), if dirty => {
                dirty = false;
                let now: Vec<Value> = pods.objects.values().cloned().collect();
                let room = options.max_log_containers.saturating_sub(asked.len());
                let wanted: Vec<_> = failing_containers(&now)
                    .into_iter()
                    .filter(|w| !asked.contains(w))
                    .take(room)
                    .collect();
                if !wanted.is_empty() {
                    asked.extend(wanted.iter().cloned());
                    match cluster.fetch_logs(options, &count, wanted).await {
                        Ok((new, missing)) => {
                            logs.extend(new);
                            logs_missing.extend(missing);
                        }
                        Err(e) => on_error(&e.to_string()),
                    }
                }
                emit(collected_of(base, &pods, &events, &logs, &logs_missing));
            }
        }
    }
}

/// The base collection with the watched Pods and Events (and the logs fetched since) in place
/// of the listed ones (the caller types it into a state, as the first collection).
fn collected_of(
    base: &Collected,
    pods: &Mirror,
    events: &Mirror,
    logs: &[Log],
    logs_missing: &[String],
) -> Collected {
    let lists = base
        .lists
        .iter()
        .map(|(k, items)| {
            let items = match k.kind {
                "Pod" => pods.objects.values().cloned().collect(),
                "Event" => events.objects.values().cloned().collect(),
                _ => items.clone(),
            };
            (*k, items)
        })
        .collect();
    Collected {
        lists,
        logs: logs.to_vec(),
        unreadable: base.unreadable.clone(),
        not_served: base.not_served.clone(),
        logs_missing: logs_missing.to_vec(),
        requests: 0,
    }
}
