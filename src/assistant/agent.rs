//! The agent's tools: read-only views of what Sextant already holds (findings, events, logs,
//! guidance, policy drafts). None can change anything — there is no tool that writes, and a
//! tool name the model invents is refused. Results that carry cluster text are fenced as
//! untrusted data and capped.

use super::context::{ModelContext, fence};
use crate::findings::Finding;
use crate::index::guidance::GuidanceIndex;
use crate::state::ClusterState;
use serde_json::{Value, json};

/// Longest tool result, in characters.
const RESULT_CHARS: usize = 4000;

/// The tool definitions sent to the model (OpenAI function-calling schema).
pub fn definitions() -> Value {
    let tool = |name: &str, desc: &str, props: Value, required: &[&str]| {
        json!({"type": "function", "function": {"name": name, "description": desc,
            "parameters": {"type": "object", "properties": props, "required": required}}})
    };
    json!([
        tool(
            "list_findings",
            "List the findings of the analyzers (id, severity, category, object, title), optionally in one namespace or category.",
            json!({"namespace": {"type": "string"}, "category": {"type": "string"}}),
            &[]
        ),
        tool(
            "get_finding",
            "One finding in full: explanation, evidence, fix, guidance ids.",
            json!({"id": {"type": "string"}}),
            &["id"]
        ),
        tool(
            "get_object",
            "One object's manifest as YAML (spec and status; managed fields, ConfigMap values and sensitive env values removed). kind may be plural or short (deploy, svc, pvc).",
            json!({"kind": {"type": "string"}, "name": {"type": "string"}, "namespace": {"type": "string"}}),
            &["kind", "name"]
        ),
        tool(
            "search_cluster",
            "Search the cluster's events and the collected log lines for text (every word must appear, any case), optionally in one namespace; newest events first.",
            json!({"query": {"type": "string"}, "namespace": {"type": "string"}}),
            &["query"]
        ),
        tool(
            "get_events",
            "Events about an object (by name), newest first.",
            json!({"object": {"type": "string"}}),
            &["object"]
        ),
        tool(
            "get_logs",
            "The last lines of a pod's log (redacted).",
            json!({"pod": {"type": "string"}, "previous": {"type": "boolean"}}),
            &["pod"]
        ),
        tool(
            "list_objects",
            "List objects of a kind (pod, deploy, svc, pvc, node, …; empty for every kind), optionally in one namespace and matching a label selector (app=web,tier!=db): kind, namespace/name and, for pods, the status kubectl shows.",
            json!({"kind": {"type": "string"}, "namespace": {"type": "string"}, "label_selector": {"type": "string"}}),
            &[]
        ),
        tool(
            "count",
            "Count objects of a kind, optionally in one namespace and matching a label selector; pods are counted by status too.",
            json!({"kind": {"type": "string"}, "namespace": {"type": "string"}, "label_selector": {"type": "string"}}),
            &["kind"]
        ),
        tool(
            "search_logs",
            "Log lines (redacted) that contain a text (any case), optionally of one pod or namespace; the newest 40 matches, each with its pod and container.",
            json!({"pattern": {"type": "string"}, "namespace": {"type": "string"}, "pod": {"type": "string"}}),
            &["pattern"]
        ),
        tool(
            "search_guidance",
            "Search the Level 4 maturity guidance; returns sections with G ids to cite.",
            json!({"query": {"type": "string"}}),
            &["query"]
        ),
        tool(
            "draft_policy",
            "Draft policy-as-code for a finding id or a category, proven in-process before it is returned.",
            json!({"target": {"type": "string"}}),
            &["target"]
        ),
    ])
}

/// What the tools read.
pub struct Tools<'a> {
    pub findings: &'a [Finding],
    pub state: Option<&'a ClusterState>,
    pub gi: &'a GuidanceIndex,
}

/// A tool result within [`RESULT_CHARS`], its fences closed.
fn cap(s: String) -> String {
    crate::untrusted::cut_fenced(&s, RESULT_CHARS)
}

impl Tools<'_> {
    /// Run one tool call; `ctx` gains the guidance sections a search returns (so they can be
    /// cited).
    pub fn call(&self, name: &str, args: &Value, ctx: &mut ModelContext) -> String {
        let arg = |k: &str| {
            args.get(k)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        cap(match name {
            "list_findings" => {
                let (ns, cat) = (arg("namespace"), arg("category"));
                let lines = self
                    .findings
                    .iter()
                    .filter(|f| ns.is_empty() || f.object.namespace.as_deref() == Some(ns.as_str()))
                    .filter(|f| cat.is_empty() || f.category.as_str().eq_ignore_ascii_case(&cat))
                    .map(|f| f.summary_line() + "\n")
                    .collect::<String>();
                fence("finding", "list_findings", &lines)
            }
            "get_finding" => match crate::analyzers::find(self.findings, &arg("id")) {
                Ok(f) => {
                    let mut s = fence(
                        "finding",
                        &f.id,
                        format!(
                            "{}\nanalysis: {}\nfix: {}",
                            f.summary_line(),
                            f.explanation,
                            f.remediation
                        ),
                    );
                    s.push('\n');
                    for e in &f.evidence {
                        s.push_str(&fence(e.source.as_str(), &e.reference, &e.text));
                        s.push('\n');
                    }
                    s
                }
                Err(e) => e.to_string(),
            },
            "get_object" => match self.state {
                Some(st) => {
                    let (kind, name, ns) = (arg("kind"), arg("name"), arg("namespace"));
                    let found =
                        st.find_objects(&kind, (!ns.is_empty()).then_some(ns.as_str()), &name);
                    if found.is_empty() {
                        format!("no {kind} named {name:?} in the cluster state")
                    } else {
                        found
                            .into_iter()
                            .take(3)
                            .map(|(k, v)| {
                                // `scrub` is the one gate: managed fields, ConfigMap values, credential
                                // env values and flags, every string redacted.
                                let v = crate::cluster::save::scrub(k, v);
                                let ns = v
                                    .pointer("/metadata/namespace")
                                    .and_then(Value::as_str)
                                    .unwrap_or("");
                                fence(
                                    "object",
                                    &format!("{k}/{ns}/{name}"),
                                    crate::policy::to_yaml(&v),
                                ) + "\n"
                            })
                            .collect()
                    }
                }
                None => "no cluster state".into(),
            },
            "search_cluster" => match self.state {
                Some(st) => {
                    let (query, ns) = (arg("query"), arg("namespace"));
                    search_cluster(st, &query, &ns)
                }
                None => "no cluster state".into(),
            },
            "get_events" => match self.state {
                Some(st) => {
                    let o = arg("object");
                    let text: String = st
                        .events
                        .iter()
                        .filter(|e| {
                            e.involved_object
                                .name
                                .as_deref()
                                .is_some_and(|n| n.contains(&o))
                        })
                        .take(20)
                        .map(|e| {
                            format!(
                                "{} {}: {}\n",
                                e.type_.as_deref().unwrap_or(""),
                                e.reason.as_deref().unwrap_or(""),
                                e.message.as_deref().unwrap_or("")
                            )
                        })
                        .collect();
                    fence("event", &format!("events/{o}"), &text)
                }
                None => "no cluster state".into(),
            },
            "get_logs" => match self.state {
                Some(st) => {
                    let pod = arg("pod");
                    let previous = args
                        .get("previous")
                        .and_then(Value::as_bool)
                        .unwrap_or(false);
                    // The pod's namespace: from its object, else from the logs themselves (a
                    // pod known only by its log).
                    let ns = st
                        .pods
                        .iter()
                        .find(|p| p.metadata.name.as_deref() == Some(pod.as_str()))
                        .and_then(|p| p.metadata.namespace.clone())
                        .or_else(|| {
                            st.logs
                                .pods()
                                .find(|(_, p)| *p == pod)
                                .map(|(ns, _)| ns.clone())
                        })
                        .unwrap_or_default();
                    let mut lines = Vec::new();
                    st.logs
                        .for_each_line(&ns, &pod, |c: &str, prev: bool, _: usize, l: &str| {
                            if prev == previous {
                                lines.push(format!("[{c}] {l}"));
                            }
                        });
                    if lines.is_empty() {
                        return format!(
                            "no {}log of pod {pod:?} is in the evidence",
                            if previous { "previous " } else { "" }
                        );
                    }
                    let lines: Vec<String> = lines
                        .iter()
                        .map(|l| crate::redact::redact(l).into_owned())
                        .collect();
                    let skip = lines.len().saturating_sub(60);
                    fence("log", &format!("logs/{ns}/{pod}"), lines[skip..].join("\n"))
                }
                None => "no cluster state".into(),
            },
            "list_objects" | "count" => match self.state {
                Some(st) => {
                    let lines = super::facts::list_objects(
                        st,
                        &arg("kind"),
                        &arg("namespace"),
                        &arg("label_selector"),
                    );
                    let text = if name == "count" {
                        let mut by: std::collections::BTreeMap<String, usize> = Default::default();
                        for l in &lines {
                            let status = l.splitn(3, ' ').nth(2).unwrap_or("").to_string();
                            if !status.is_empty() {
                                *by.entry(status).or_default() += 1;
                            }
                        }
                        let parts: Vec<String> =
                            by.iter().map(|(s, n)| format!("{n} {s}")).collect();
                        format!(
                            "{} {}{}",
                            lines.len(),
                            arg("kind"),
                            if parts.is_empty() {
                                String::new()
                            } else {
                                format!(" ({})", parts.join(", "))
                            }
                        )
                    } else if lines.is_empty() {
                        "none in the state".into()
                    } else {
                        lines.join("\n")
                    };
                    let complete = st.evidence.absence_known(
                        crate::source::evidence::kind_name(&arg("kind")).unwrap_or("*"),
                        if arg("namespace").is_empty() {
                            "*".into()
                        } else {
                            arg("namespace")
                        }
                        .as_str(),
                    );
                    let note = if complete {
                        ""
                    } else {
                        "\n(the evidence holds no complete listing of these: there may be more)"
                    };
                    fence("objects", "state", format!("{text}{note}"))
                }
                None => "no cluster state".into(),
            },
            "search_logs" => match self.state {
                Some(st) => search_logs(st, &arg("pattern"), &arg("namespace"), &arg("pod")),
                None => "no cluster state".into(),
            },
            "search_guidance" => {
                let mut s = String::new();
                for h in self.gi.search(&arg("query"), 3, None).unwrap_or_default() {
                    let Some(r) = self.gi.cite(&h.id) else {
                        continue;
                    };
                    let gid = match ctx.guidance.iter().find(|(_, c)| c.id == r.id) {
                        Some((g, _)) => g.clone(),
                        None => {
                            let g = format!("G{}", ctx.guidance.len() + 1);
                            ctx.guidance.insert(
                                g.clone(),
                                super::Citation {
                                    id: r.id.clone(),
                                    file: r.file.clone(),
                                    heading: r.heading.clone(),
                                    lang: r.lang.clone(),
                                    quote: h.text.chars().take(280).collect(),
                                },
                            );
                            g
                        }
                    };
                    s.push_str(&format!(
                        "[{gid}] {} ({})\n{}\n\n",
                        r.heading, r.file, h.text
                    ));
                }
                s
            }
            "draft_policy" => {
                let target = arg("target");
                let engines = vec![
                    crate::policy::Engine::Kyverno,
                    crate::policy::Engine::Gatekeeper,
                    crate::policy::Engine::Vap,
                ];
                let d = match (crate::analyzers::find(self.findings, &target), self.state) {
                    (Ok(f), Some(st)) => crate::policy::draft::request_for_finding(f, st, engines)
                        .and_then(|r| crate::policy::draft::draft(&r, f.guidance.clone())),
                    _ => match target.parse::<crate::findings::Category>() {
                        Ok(c) => crate::policy::draft::request_for_category(c, engines)
                            .and_then(|r| crate::policy::draft::draft(&r, self.gi.for_category(c))),
                        Err(e) => return e.to_string(),
                    },
                };
                match d {
                    Ok(d) if d.proven() => d
                        .drafts
                        .iter()
                        .filter(|e| e.scope == crate::policy::draft::Scope::Cluster)
                        .flat_map(|e| {
                            e.files
                                .iter()
                                .map(move |(f, y)| format!("# {} {f}\n{y}\n", e.engine.as_str()))
                        })
                        .collect(),
                    Ok(d) => format!(
                        "the draft for {} failed its proof and is withheld",
                        d.policy
                    ),
                    Err(e) => e.to_string(),
                }
            }
            other => {
                format!("refused: there is no tool named {other:?}; Sextant's tools only read")
            }
        })
    }
}

/// Log lines containing `pattern` (any case), of one pod and/or namespace when given: the
/// newest 40, redacted, fenced.
fn search_logs(st: &ClusterState, pattern: &str, namespace: &str, pod: &str) -> String {
    let p = pattern.to_lowercase();
    if p.trim().is_empty() {
        return "an empty pattern finds nothing".into();
    }
    let mut out: Vec<String> = Vec::new();
    let pods: Vec<(String, String)> = st.logs.pods().cloned().collect();
    for (ns, name) in pods {
        if (!namespace.is_empty() && ns != namespace) || (!pod.is_empty() && name != pod) {
            continue;
        }
        st.logs.for_each_line(&ns, &name, |c, prev, _, l| {
            if l.to_lowercase().contains(&p) {
                out.push(format!(
                    "[{ns}/{name} {c}{}] {}",
                    if prev { " previous" } else { "" },
                    crate::redact::redact(l)
                ));
            }
        });
    }
    if out.is_empty() {
        return format!("no log line in the evidence contains {pattern:?}");
    }
    let skip = out.len().saturating_sub(40);
    fence("log", "search_logs", out[skip..].join("\n"))
}

/// Events and log lines holding every word of `query` (any case), in `namespace` when given:
/// events newest first, then log lines; at most 25, fenced.
fn search_cluster(st: &ClusterState, query: &str, namespace: &str) -> String {
    let words: Vec<String> = query
        .split_whitespace()
        .map(str::to_lowercase)
        .filter(|w| !w.is_empty())
        .collect();
    if words.is_empty() {
        return "an empty query finds nothing".into();
    }
    let hit = |text: &str| {
        let t = text.to_lowercase();
        words.iter().all(|w| t.contains(w))
    };
    let mut out: Vec<String> = Vec::new();
    let timeline = super::when::Timeline::of(st);
    for e in timeline.events.iter().rev() {
        if (!namespace.is_empty() && e.namespace != namespace)
            || !hit(&format!("{} {} {} {}", e.reason, e.kind, e.name, e.message))
        {
            continue;
        }
        out.push(format!("[event] {}", e.line()));
        if out.len() == 25 {
            break;
        }
    }
    for (ns, pod) in st.logs.pods() {
        if out.len() >= 25 {
            break;
        }
        if !namespace.is_empty() && ns != namespace {
            continue;
        }
        st.logs
            .for_each_line(ns, pod, |c: &str, prev: bool, n: usize, l: &str| {
                if out.len() < 25 && hit(l) {
                    let which = if prev { "previous" } else { "current" };
                    out.push(format!("[log {ns}/{pod} {c} {which} line {n}] {l}"));
                }
            });
    }
    if out.is_empty() {
        return format!("no event or log line matches {query:?}");
    }
    fence("search", &format!("search/{query}"), out.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> ClusterState {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/demo-incident");
        crate::source::snapshot::load(std::path::Path::new(dir)).expect("demo")
    }

    fn call(st: &ClusterState, name: &str, args: Value) -> String {
        let gi = GuidanceIndex::embedded().expect("guidance");
        let tools = Tools {
            findings: &[],
            state: Some(st),
            gi: &gi,
        };
        tools.call(name, &args, &mut ModelContext::default())
    }

    #[test]
    fn get_object_shows_a_scrubbed_fenced_manifest() {
        let mut st = demo();
        let out = call(
            &st,
            "get_object",
            json!({"kind": "deploy", "name": "ledger", "namespace": "payments"}),
        );
        assert!(
            out.starts_with(
                "<untrusted-data source=\"object\" ref=\"Deployment/payments/ledger\">"
            ),
            "{out}"
        );
        assert!(
            out.contains("kind: Deployment") && out.contains("512Mi"),
            "{out}"
        );
        assert!(!out.contains("managedFields"), "{out}");
        assert!(
            call(&st, "get_object", json!({"kind": "Pod", "name": "nope"}))
                .starts_with("no Pod named \"nope\""),
        );
        // A credential in a plain env value and a ConfigMap's data never leave.
        let pod: k8s_openapi::api::core::v1::Pod = serde_json::from_value(json!({
            "metadata": {"name": "api", "namespace": "ns"},
            "spec": {"containers": [{"name": "c", "image": "i", "env": [
                {"name": "DB_PASSWORD", "value": "plain-hunter2"},
                {"name": "LOG_LEVEL", "value": "debug"}]}]}
        }))
        .expect("pod");
        st.pods.push(pod);
        let cm: k8s_openapi::api::core::v1::ConfigMap = serde_json::from_value(json!({
            "metadata": {"name": "cfg", "namespace": "ns"},
            "data": {"settings": "dsn=postgres://u:quiet-secret@db/x"}
        }))
        .expect("cm");
        st.config_maps.push(cm);
        let pod = call(&st, "get_object", json!({"kind": "pods", "name": "api"}));
        assert!(
            !pod.contains("plain-hunter2") && pod.contains("debug"),
            "{pod}"
        );
        let cm = call(&st, "get_object", json!({"kind": "cm", "name": "cfg"}));
        assert!(
            !cm.contains("quiet-secret") && cm.contains("settings"),
            "{cm}"
        );
    }

    #[test]
    fn search_cluster_finds_events_and_log_lines() {
        let st = demo();
        let out = call(
            &st,
            "search_cluster",
            json!({"query": "checkout-stripe NOT found"}),
        );
        assert!(
            out.contains("[event]") && out.contains("payments/checkout-"),
            "{out}"
        );
        let out = call(&st, "search_cluster", json!({"query": "OutOfMemoryError"}));
        assert!(out.contains("[log payments/ledger-"), "{out}");
        let out = call(
            &st,
            "search_cluster",
            json!({"query": "OutOfMemoryError", "namespace": "shop"}),
        );
        assert!(out.starts_with("no event or log line matches"), "{out}");
        // Log text is fenced and redacted like every other cluster text.
        let out = call(&st, "search_cluster", json!({"query": "password"}));
        assert!(
            out.starts_with("<untrusted-data source=\"search\""),
            "{out}"
        );
        assert!(!out.contains("Sup3rS3cretPassw0rd"), "{out}");
    }
}
