//! Collection: every kind of [`KINDS`] listed once per scope (paginated), events with them,
//! and logs only for containers that are failing or restarting.
//!
//! The number of requests is `1` (discovery) `+ Σ pages per kind + log fetches`: it grows
//! with the number of objects only through pages (`--page-size`, default 500) and with the
//! number of failing containers through logs (capped by `max_log_containers`).
//!
//! Partial data degrades, never aborts: a 403 on a kind is recorded with the permission to
//! grant, a kind the server does not serve is skipped quietly, a 5xx/429 is retried with
//! backoff. Only an unreachable server (or a refused request, which is a bug) is fatal.

use super::kinds::{KINDS, KindSpec};
use super::{Cluster, ClusterError};
use futures::StreamExt;
use serde_json::Value;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// How much to fetch.
#[derive(Debug, Clone)]
pub struct Options {
    /// Only this namespace (namespaced kinds); cluster-scoped kinds are still listed.
    pub namespace: Option<String>,
    /// `limit` of each list page.
    pub page_size: u32,
    /// Lists and log fetches in flight at once.
    pub concurrency: usize,
    /// `tailLines` of each log fetch.
    pub log_tail_lines: u32,
    /// `limitBytes` of each log fetch.
    pub log_limit_bytes: u64,
    /// At most this many containers' logs (the rest are named as missing).
    pub max_log_containers: usize,
    /// Attempts per request on 5xx/429/transport errors.
    pub attempts: u32,
    /// Requests answered and bytes read so far, for a progress line.
    pub tally: std::sync::Arc<Tally>,
}

/// What a collection has done so far, updated as it goes (a front end's progress line).
#[derive(Debug, Default)]
pub struct Tally {
    /// Requests sent (pages, logs, discovery).
    pub requests: AtomicUsize,
    /// Kinds listed completely.
    pub kinds: AtomicUsize,
    /// Objects read.
    pub objects: AtomicUsize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            namespace: None,
            page_size: 500,
            concurrency: 4,
            log_tail_lines: 500,
            log_limit_bytes: 256 * 1024,
            max_log_containers: 100,
            attempts: 3,
            tally: Arc::default(),
        }
    }
}

/// One container log fetched.
#[derive(Debug, Clone)]
pub struct Log {
    pub namespace: String,
    pub pod: String,
    pub container: String,
    pub previous: bool,
    /// Redacted already.
    pub text: String,
}

/// What was read, raw (as the API returned it), before typing.
#[derive(Debug, Default, Clone)]
pub struct Collected {
    /// Items of each kind, in the order of [`KINDS`].
    pub lists: Vec<(KindSpec, Vec<Value>)>,
    pub logs: Vec<Log>,
    /// Kinds that could not be read, with the reason and what to grant.
    pub unreadable: Vec<(String, String)>,
    /// Kinds the server does not serve (skipped quietly).
    pub not_served: Vec<String>,
    /// Failing containers whose logs were not fetched (over the cap, or the fetch failed).
    pub logs_missing: Vec<String>,
    /// Requests sent (for the benchmark and `-v`).
    pub requests: usize,
}

/// Why one request did not yield data.
#[derive(Debug)]
enum Fetch {
    /// The server answered with an error status.
    Status(u16, String),
    /// No answer (connection refused, timeout) after the retries.
    Transport(String),
    /// The guard refused the request: a bug, never degraded around.
    Fatal(ClusterError),
}

impl Cluster {
    /// GET `path_and_query` as JSON, retrying 5xx/429 and transport errors with backoff.
    async fn get_json(
        &self,
        path_and_query: &str,
        attempts: u32,
        count: &AtomicUsize,
    ) -> Result<Value, Fetch> {
        self.get_text(path_and_query, attempts, count)
            .await
            .and_then(|t| {
                serde_json::from_str(&t).map_err(|e| {
                    Fetch::Status(200, format!("unreadable response to {path_and_query}: {e}"))
                })
            })
    }

    /// GET with retries, all within `--request-timeout`: a silent server is reported after
    /// the timeout, not after every attempt's own timeout and the backoff between them.
    async fn get_text(
        &self,
        path_and_query: &str,
        attempts: u32,
        count: &AtomicUsize,
    ) -> Result<String, Fetch> {
        let total = self.request_timeout;
        match tokio::time::timeout(
            total,
            self.get_text_retrying(path_and_query, attempts, count),
        )
        .await
        {
            Ok(r) => r,
            Err(_) => Err(Fetch::Transport(format!(
                "{}: no answer within {}s (--request-timeout, retries included)",
                self.server,
                total.as_secs_f64()
            ))),
        }
    }

    async fn get_text_retrying(
        &self,
        path_and_query: &str,
        attempts: u32,
        count: &AtomicUsize,
    ) -> Result<String, Fetch> {
        let mut delay = Duration::from_millis(200);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let req = http::Request::get(path_and_query)
                .body(Vec::new())
                .map_err(|e| Fetch::Status(400, e.to_string()))?;
            count.fetch_add(1, Ordering::Relaxed);
            let err = match self.client.request_text(req).await {
                Ok(t) => return Ok(t),
                Err(e) => e,
            };
            if let Some(r) = super::guard::refused(&err) {
                return Err(Fetch::Fatal(ClusterError::Refused(r.clone())));
            }
            let (retry, outcome) = match &err {
                kube::Error::Api(s) => (
                    s.code >= 500 || s.code == 429,
                    Fetch::Status(s.code, s.message.clone()),
                ),
                other => (true, Fetch::Transport(self.unreachable(other).to_string())),
            };
            if !retry || attempt >= attempts {
                return Err(outcome);
            }
            tracing::debug!(path = path_and_query, attempt, error = %err, "retrying");
            tokio::time::sleep(delay).await;
            delay *= 2;
        }
    }

    /// Group/versions the server serves (`/api` is always assumed; `/apis` lists the rest).
    async fn served(
        &self,
        o: &Options,
        count: &AtomicUsize,
    ) -> Result<Option<BTreeSet<String>>, ClusterError> {
        match self.get_json("/apis", o.attempts, count).await {
            Ok(v) => {
                let mut out = BTreeSet::from(["v1".to_string()]);
                for g in v
                    .get("groups")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    for gv in g
                        .get("versions")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                    {
                        if let Some(s) = gv.get("groupVersion").and_then(Value::as_str) {
                            out.insert(s.to_string());
                        }
                    }
                }
                Ok(Some(out))
            }
            Err(Fetch::Fatal(e)) => Err(e),
            // The first request: no answer means no cluster.
            Err(Fetch::Transport(reason)) => Err(ClusterError::Runtime(reason)),
            // Discovery forbidden or broken: try every kind and let each fail on its own.
            Err(Fetch::Status(code, msg)) => {
                tracing::warn!(code, msg, "discovery failed; listing every kind");
                Ok(None)
            }
        }
    }

    /// Every page of one kind.
    async fn list_all(
        &self,
        k: &KindSpec,
        o: &Options,
        count: &AtomicUsize,
    ) -> Result<Vec<Value>, Fetch> {
        let base = k.list_path(o.namespace.as_deref());
        let mut items = Vec::new();
        let mut cont: Option<String> = None;
        let mut restarted = false;
        loop {
            let mut q = format!("{base}?limit={}", o.page_size);
            if let Some(c) = &cont {
                q.push_str("&continue=");
                q.push_str(&urlencode(c));
            }
            let page = match self.get_json(&q, o.attempts, count).await {
                Ok(p) => p,
                // The continue token expired (410): start the list again, once.
                Err(Fetch::Status(410, _)) if !restarted => {
                    restarted = true;
                    items.clear();
                    cont = None;
                    continue;
                }
                Err(e) => return Err(e),
            };
            let mut page = page;
            if let Some(Value::Array(a)) = page.get_mut("items").map(Value::take) {
                items.extend(a);
            }
            cont = page
                .pointer("/metadata/continue")
                .and_then(Value::as_str)
                .filter(|c| !c.is_empty())
                .map(str::to_string);
            if cont.is_none() {
                return Ok(items);
            }
        }
    }

    /// Collect everything Sextant reads.
    pub async fn collect(&self, o: &Options) -> Result<Collected, ClusterError> {
        // The request count is the tally's: a progress line reads it while this runs.
        let count = o.tally.clone();
        for c in [&count.requests, &count.kinds, &count.objects] {
            c.store(0, Ordering::Relaxed);
        }
        let served = self.served(o, &count.requests).await?;
        let mut out = Collected::default();
        let wanted: Vec<&KindSpec> = KINDS
            .iter()
            .filter(|k| {
                let ok = served
                    .as_ref()
                    .is_none_or(|s| s.contains(&k.group_version()));
                if !ok {
                    out.not_served
                        .push(format!("{} ({})", k.kind, k.group_version()));
                }
                ok
            })
            .collect();
        let results: Vec<(&KindSpec, Result<Vec<Value>, Fetch>)> =
            futures::stream::iter(wanted.into_iter().map(|k| {
                let count = count.clone();
                async move {
                    let r = self.list_all(k, o, &count.requests).await;
                    if let Ok(items) = &r {
                        count.kinds.fetch_add(1, Ordering::Relaxed);
                        count.objects.fetch_add(items.len(), Ordering::Relaxed);
                    }
                    (k, r)
                }
            }))
            .buffered(o.concurrency.max(1))
            .collect()
            .await;
        for (k, r) in results {
            match r {
                Ok(items) => out.lists.push((*k, items)),
                Err(Fetch::Fatal(e)) => return Err(e),
                Err(Fetch::Status(403, msg)) => out.unreadable.push((
                    k.kind.to_string(),
                    format!(
                        "forbidden ({}); grant `list` on {}{}",
                        first_sentence(&msg),
                        k.resource(),
                        match (&o.namespace, k.namespaced) {
                            (Some(ns), true) => format!(" in namespace {ns}"),
                            _ => " cluster-wide".to_string(),
                        }
                    ),
                )),
                Err(Fetch::Status(404, _)) => {
                    out.not_served
                        .push(format!("{} ({})", k.kind, k.group_version()))
                }
                Err(Fetch::Status(code, msg)) => out.unreadable.push((
                    k.kind.to_string(),
                    format!("HTTP {code}: {}", first_sentence(&msg)),
                )),
                Err(Fetch::Transport(reason)) => out.unreadable.push((k.kind.to_string(), reason)),
            }
        }
        self.collect_logs(o, &count, &mut out).await?;
        out.requests = count.requests.load(Ordering::Relaxed);
        Ok(out)
    }

    async fn collect_logs(
        &self,
        o: &Options,
        count: &Arc<Tally>,
        out: &mut Collected,
    ) -> Result<(), ClusterError> {
        let pods = out
            .lists
            .iter()
            .find(|(k, _)| k.kind == "Pod")
            .map(|(_, items)| items.as_slice())
            .unwrap_or_default();
        let mut wanted = failing_containers(pods);
        if wanted.len() > o.max_log_containers {
            for w in wanted.drain(o.max_log_containers..) {
                out.logs_missing.push(format!(
                    "{}/{} container {}{}: over the log cap ({})",
                    w.0,
                    w.1,
                    w.2,
                    if w.3 { " (previous)" } else { "" },
                    o.max_log_containers
                ));
            }
        }
        let (logs, missing) = self.fetch_logs(o, count, wanted).await?;
        out.logs.extend(logs);
        out.logs_missing.extend(missing);
        Ok(())
    }

    /// Fetch these containers' logs (redacted), `o.concurrency` at a time: the logs, and a
    /// line for each one that could not be read and why. A 404 (rotated away, never started)
    /// is not missing: the cluster has nothing more.
    pub(crate) async fn fetch_logs(
        &self,
        o: &Options,
        count: &Arc<Tally>,
        wanted: Vec<(String, String, String, bool)>,
    ) -> Result<(Vec<Log>, Vec<String>), ClusterError> {
        let (mut logs, mut missing) = (Vec::new(), Vec::new());
        let results: Vec<_> = futures::stream::iter(wanted.into_iter().map(|(ns, pod, c, prev)| {
            let count = count.clone();
            async move {
                let mut q = format!(
                    "/api/v1/namespaces/{ns}/pods/{pod}/log?container={}&tailLines={}&limitBytes={}",
                    urlencode(&c),
                    o.log_tail_lines,
                    o.log_limit_bytes
                );
                if prev {
                    q.push_str("&previous=true");
                }
                let r = self.get_text(&q, o.attempts, &count.requests).await;
                (ns, pod, c, prev, r)
            }
        }))
        .buffered(o.concurrency.max(1))
        .collect()
        .await;
        for (ns, pod, container, previous, r) in results {
            match r {
                Ok(text) => logs.push(Log {
                    text: crate::redact::redact(&text).into_owned(),
                    namespace: ns,
                    pod,
                    container,
                    previous,
                }),
                Err(Fetch::Fatal(e)) => return Err(e),
                Err(Fetch::Transport(reason)) => missing.push(format!(
                    "{ns}/{pod} container {container}{}: {reason}",
                    if previous { " (previous)" } else { "" }
                )),
                // No such log (the previous instance was rotated away, the container never
                // started): nothing is missing that the cluster still has.
                Err(Fetch::Status(code @ (400 | 404), msg)) => {
                    tracing::debug!(ns, pod, container, previous, code, msg, "no log");
                }
                Err(Fetch::Status(code, msg)) => {
                    tracing::debug!(ns, pod, container, previous, code, msg, "log not fetched");
                    missing.push(format!(
                        "{ns}/{pod} container {container}{}: HTTP {code}{}",
                        if previous { " (previous)" } else { "" },
                        if code == 403 {
                            " (grant `get` on pods/log)".to_string()
                        } else {
                            String::new()
                        }
                    ));
                }
            }
        }
        Ok((logs, missing))
    }
}

/// Containers whose logs explain something: (namespace, pod, container, previous). A
/// container that restarted gets its previous log (the crash) and its current one; one
/// that is failing now gets its current log; one that never started (image pull, config
/// errors) has no log to fetch.
pub fn failing_containers(pods: &[Value]) -> Vec<(String, String, String, bool)> {
    const NO_LOG: [&str; 7] = [
        "ContainerCreating",
        "PodInitializing",
        "ImagePullBackOff",
        "ErrImagePull",
        "CreateContainerConfigError",
        "CreateContainerError",
        "InvalidImageName",
    ];
    let mut out = Vec::new();
    for p in pods {
        let (Some(ns), Some(name)) = (
            p.pointer("/metadata/namespace").and_then(Value::as_str),
            p.pointer("/metadata/name").and_then(Value::as_str),
        ) else {
            continue;
        };
        let statuses = ["initContainerStatuses", "containerStatuses"]
            .into_iter()
            .filter_map(|f| p.pointer(&format!("/status/{f}")).and_then(Value::as_array))
            .flatten();
        for s in statuses {
            let Some(c) = s.get("name").and_then(Value::as_str) else {
                continue;
            };
            let restarts = s.get("restartCount").and_then(Value::as_i64).unwrap_or(0);
            let waiting = s.pointer("/state/waiting/reason").and_then(Value::as_str);
            let exit = s
                .pointer("/state/terminated/exitCode")
                .and_then(Value::as_i64);
            let ran_before = restarts > 0 || s.pointer("/lastState/terminated").is_some();
            let failing_now = exit.is_some_and(|e| e != 0)
                || waiting.is_some_and(|w| !NO_LOG.contains(&w))
                || (restarts > 0 && s.pointer("/state/running").is_some());
            if ran_before {
                out.push((ns.to_string(), name.to_string(), c.to_string(), true));
            }
            if failing_now {
                out.push((ns.to_string(), name.to_string(), c.to_string(), false));
            }
        }
    }
    out
}

fn first_sentence(s: &str) -> String {
    let s = s.lines().next().unwrap_or("").trim();
    if s.chars().count() > 160 {
        format!("{}…", s.chars().take(160).collect::<String>())
    } else {
        s.to_string()
    }
}

/// Percent-encode a query value (continue tokens are base64 with `=`, `+`, `/`).
fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_failing_or_restarting_containers_get_logs() {
        let pods = vec![json!({
            "metadata": {"namespace": "shop", "name": "p"},
            "status": {"containerStatuses": [
                {"name": "ok", "restartCount": 0, "state": {"running": {}}},
                {"name": "crash", "restartCount": 4, "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                 "lastState": {"terminated": {"exitCode": 1}}},
                {"name": "pull", "restartCount": 0, "state": {"waiting": {"reason": "ImagePullBackOff"}}},
                {"name": "oom", "restartCount": 1, "state": {"running": {}}, "lastState": {"terminated": {"reason": "OOMKilled"}}},
                {"name": "done", "restartCount": 0, "state": {"terminated": {"exitCode": 2}}}
            ]}
        })];
        let got: Vec<(String, bool)> = failing_containers(&pods)
            .into_iter()
            .map(|(_, _, c, p)| (c, p))
            .collect();
        assert_eq!(
            got,
            vec![
                ("crash".into(), true),
                ("crash".into(), false),
                ("oom".into(), true),
                ("oom".into(), false),
                ("done".into(), false),
            ]
        );
    }

    #[test]
    fn continue_tokens_are_encoded() {
        assert_eq!(urlencode("eyJ2Ijo+/="), "eyJ2Ijo%2B%2F%3D");
    }
}
