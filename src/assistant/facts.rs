//! Question intent and the facts that answer it, from the state itself: "how many pods are in
//! test-1?", "which image does web run?", "is api healthy?", "how do I reach web?", "what
//! should I fix first?" are answered first, in a sentence or two, before any finding. A named
//! namespace or object that is not in the state is said to be missing (with the nearest
//! names), never silently swapped for another.

use super::intent::{Intent, detect, named, named_namespace};
use crate::findings::{Finding, Severity};
use crate::state::ClusterState;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// One object of the state, by kind, namespace and name.
#[derive(Debug, Clone)]
pub(super) struct Obj {
    pub(super) kind: &'static str,
    pub(super) ns: Option<String>,
    pub(super) name: String,
    pub(super) labels: BTreeMap<String, String>,
}

fn objects(st: &ClusterState) -> Vec<Obj> {
    let mut out = Vec::new();
    macro_rules! add {
        ($($field:ident => $kind:literal),*) => { $(
            for o in &st.$field {
                out.push(Obj {
                    kind: $kind,
                    ns: o.metadata.namespace.clone(),
                    name: o.metadata.name.clone().unwrap_or_default(),
                    labels: o.metadata.labels.clone().unwrap_or_default(),
                });
            }
        )* };
    }
    add!(pods => "Pod", deployments => "Deployment", stateful_sets => "StatefulSet",
        daemon_sets => "DaemonSet", replica_sets => "ReplicaSet", jobs => "Job",
        cron_jobs => "CronJob", services => "Service", ingresses => "Ingress",
        pvcs => "PersistentVolumeClaim", nodes => "Node", config_maps => "ConfigMap",
        hpas => "HorizontalPodAutoscaler", service_accounts => "ServiceAccount",
        network_policies => "NetworkPolicy");
    // Pods known only by their logs.
    for (ns, pod) in st.logs.pods() {
        if !out.iter().any(|o| o.kind == "Pod" && o.name == *pod) {
            out.push(Obj {
                kind: "Pod",
                ns: Some(ns.clone()),
                name: pod.clone(),
                labels: Default::default(),
            });
        }
    }
    out
}

/// The lead of an answer.
#[derive(Debug, Default)]
pub struct Lead {
    pub text: String,
    /// The question cannot be answered from this state (a missing namespace or object):
    /// nothing else is shown.
    pub stop: bool,
    /// The named objects as they are in the state (`kind/ns/name`).
    pub objects: Vec<String>,
}

pub(super) fn where_(st: &ClusterState) -> &'static str {
    if st.evidence.partial {
        "the evidence"
    } else {
        "the cluster state"
    }
}

/// The intent-first lead of the answer to `question`, from the state and its findings.
pub fn lead(question: &str, st: &ClusterState, findings: &[Finding]) -> Option<Lead> {
    let all = objects(st);
    if all.is_empty() && st.evidence.absent.is_empty() && st.evidence.usage.is_empty() {
        return None;
    }
    let mut namespaces = st.namespace_names();
    namespaces.extend(st.evidence.usage.iter().filter_map(|u| u.namespace.clone()));
    namespaces.extend(st.logs.pods().map(|(ns, _)| ns.clone()));
    let mut lead = Lead::default();
    // A named namespace that is not there: say so, never answer from another.
    let ns = named_namespace(question);
    if let Some(n) = &ns
        && !namespaces.contains(n)
        && !all.iter().any(|o| o.name == *n)
    {
        let near = crate::analyzers::closest(n, namespaces.iter().map(String::as_str));
        lead.text = format!(
            "There is no namespace `{n}` in {}{}. Namespaces it has: {}.",
            where_(st),
            near.map(|x| format!("; did you mean `{x}`?"))
                .unwrap_or_default(),
            namespaces
                .iter()
                .take(12)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        );
        lead.stop = true;
        return Some(lead);
    }
    // A name kubectl said does not exist.
    let lower = question.to_lowercase();
    let absent = st.evidence.absent.iter().find(|a| {
        lower
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '.'))
            .any(|w| w.trim_end_matches('.') == a.name)
            && !all.iter().any(|o| o.name == a.name)
    });
    if let Some(a) = absent {
        lead.text = format!(
            "{} {}{} does not exist: kubectl said “{}”.",
            a.kind,
            a.name,
            a.namespace
                .as_ref()
                .map(|n| format!(" (namespace {n})"))
                .unwrap_or_default(),
            a.message
        );
        let near = crate::analyzers::closest(&a.name, all.iter().map(|o| o.name.as_str()));
        if let Some(n) = near {
            let _ = write!(lead.text, " Did you mean `{n}`?");
        }
        lead.stop = true;
        return Some(lead);
    }
    let intent = detect(question);
    let in_ns = |o: &Obj| {
        ns.as_ref()
            .is_none_or(|n| o.ns.as_deref() == Some(n.as_str()))
    };
    // Named objects: exact names first, then names that start with the word (a workload's
    // pods); a word that names nothing is reported missing.
    let mut hits: Vec<&Obj> = Vec::new();
    let mut reading: Option<String> = None;
    for (kind, word, explicit) in named(question) {
        if namespaces.contains(&word) || Some(&word) == ns.as_ref() {
            continue;
        }
        let kind_ok =
            |o: &&Obj| kind.is_none_or(|k| o.kind == k || (k == "Deployment" && o.kind == "Pod"));
        let exact: Vec<&Obj> = all
            .iter()
            .filter(|o| o.name == word && in_ns(o))
            .filter(kind_ok)
            .collect();
        let prefixed: Vec<&Obj> = all
            .iter()
            .filter(|o| o.name.starts_with(&format!("{word}-")) && in_ns(o))
            .filter(kind_ok)
            .collect();
        if !exact.is_empty() || !prefixed.is_empty() {
            hits.extend(if exact.is_empty() { prefixed } else { exact });
            continue;
        }
        // "the web-app pod" for a Deployment web-app: the name in another kind is what was
        // meant (a workload's pods are called by its name).
        let any_kind: Vec<&Obj> = all
            .iter()
            .filter(|o| (o.name == word || o.name.starts_with(&format!("{word}-"))) && in_ns(o))
            .collect();
        if !any_kind.is_empty() {
            hits.extend(any_kind);
            continue;
        }
        // Only a word put forward as a name (after a kind word, quoted, or shaped like one
        // with a hyphen) is reported missing; other words simply name nothing.
        if !explicit && !word.contains('-') {
            continue;
        }
        let elsewhere: Vec<String> = all
            .iter()
            .filter(|o| o.name == word || o.name.starts_with(&format!("{word}-")))
            .map(|o| format!("`{}/{}`", o.ns.as_deref().unwrap_or("-"), o.name))
            .take(3)
            .collect();
        let near = crate::analyzers::closest(
            &word,
            all.iter().filter(|o| in_ns(o)).map(|o| o.name.as_str()),
        );
        // A hyphenated word nobody put forward as a name ("health-check") is reported only
        // when it is close to a name of the state (a typo) or names one elsewhere.
        if !explicit && near.is_none() && elsewhere.is_empty() {
            continue;
        }
        // A word nobody put forward as a name, close to one in the asked namespace ("back-end"
        // for `backend`): read as that name, and said so.
        if !explicit && let Some(n) = &near {
            hits.extend(all.iter().filter(|o| o.name == *n && in_ns(o)));
            reading = Some(format!("(Reading `{word}` as `{n}`.)"));
            continue;
        }
        let what = kind.map_or("object".to_string(), |k| k.to_lowercase());
        let mut t = format!(
            "There is no {what} `{word}`{} in {}",
            ns.as_ref()
                .map(|n| format!(" in `{n}`"))
                .unwrap_or_default(),
            where_(st)
        );
        let mut alts: Vec<String> = near.into_iter().map(|n| format!("`{n}`")).collect();
        alts.extend(elsewhere);
        if !alts.is_empty() {
            let _ = write!(t, "; did you mean {}?", alts.join(" or "));
        } else {
            t.push('.');
        }
        if let Some(a) = st.evidence.absent.iter().find(|a| a.name == word) {
            let _ = write!(t, " kubectl said: “{}”.", a.message);
        }
        lead.text = t;
        lead.stop = true;
        return Some(lead);
    }
    lead.objects = hits
        .iter()
        .map(|o| format!("{}/{}/{}", o.kind, o.ns.as_deref().unwrap_or("-"), o.name))
        .collect();
    let sentence = match &intent {
        Intent::Count(kind) => Some(count(st, &all, kind, ns.as_deref())),
        Intent::Label(k, v) => {
            let m: Vec<String> = all
                .iter()
                .filter(|o| in_ns(o) && o.labels.get(k).is_some_and(|x| v.is_empty() || x == v))
                .map(|o| {
                    format!(
                        "{} {}/{}",
                        o.kind.to_lowercase(),
                        o.ns.as_deref().unwrap_or("-"),
                        o.name
                    )
                })
                .collect();
            Some(if m.is_empty() {
                format!("Nothing in {} carries the label {k}={v}.", where_(st))
            } else {
                format!(
                    "{} object(s) carry the label {k}={v}: {}.",
                    m.len(),
                    m.join(", ")
                )
            })
        }
        Intent::FixFirst => findings
            .iter()
            .filter(|f| !f.category.is_hygiene() || f.severity == Severity::Critical)
            .max_by(|a, b| a.severity.cmp(&b.severity).then(a.score.cmp(&b.score)))
            .or_else(|| findings.first())
            .map(|f| {
                format!(
                    "Fix first: {} {}/{} — {} ({}). Then the rest, most severe first.",
                    f.object.kind,
                    f.object.namespace.as_deref().unwrap_or("-"),
                    f.object.name,
                    f.title,
                    f.severity.as_str()
                )
            }),
        Intent::Usage => Some(usage(st, &hits, ns.as_deref(), question)),
        _ if hits.is_empty() => None,
        Intent::Image => Some(attribute(st, &hits, Attr::Image)),
        Intent::Node => Some(attribute(st, &hits, Attr::Node)),
        Intent::Port => Some(attribute(st, &hits, Attr::Port)),
        Intent::Reach => Some(reach(st, &hits)),
        Intent::Healthy | Intent::Other | Intent::LogErrors => None,
    };
    let sentence = sentence.or_else(|| {
        matches!(intent, Intent::Healthy | Intent::Other)
            .then(|| super::verdict::verdict(st, &hits, findings, intent == Intent::Healthy))
            .flatten()
    });
    lead.text = match (sentence, reading) {
        (Some(t), Some(r)) => format!("{r} {t}"),
        (Some(t), None) => t,
        (None, Some(r)) => r,
        (None, None) => return None,
    };
    Some(lead)
}

/// Objects of `kind` (any kind when empty), in `namespace` when given, whose labels match
/// `selector` (`k=v,k2=v2`, `k`, `k!=v`): one line each with the status kubectl would show.
/// For the model's `list_objects` and `count` tools.
pub fn list_objects(st: &ClusterState, kind: &str, namespace: &str, selector: &str) -> Vec<String> {
    let want = (!kind.is_empty())
        .then(|| crate::source::evidence::kind_name(kind))
        .flatten();
    if !kind.is_empty() && want.is_none() {
        return Vec::new();
    }
    let terms: Vec<(String, Option<String>, bool)> = selector
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| match t.split_once("!=") {
            Some((k, v)) => (k.trim().to_string(), Some(v.trim().to_string()), false),
            None => match t.split_once('=') {
                Some((k, v)) => (
                    k.trim().to_string(),
                    Some(v.trim().trim_start_matches('=').to_string()),
                    true,
                ),
                None => (t.to_string(), None, true),
            },
        })
        .collect();
    objects(st)
        .into_iter()
        .filter(|o| want.is_none_or(|k| o.kind == k))
        .filter(|o| namespace.is_empty() || o.ns.as_deref().unwrap_or("default") == namespace)
        .filter(|o| {
            terms.iter().all(|(k, v, eq)| match (o.labels.get(k), v) {
                (Some(x), Some(v)) => (x == v) == *eq,
                (Some(_), None) => true,
                (None, _) => !eq,
            })
        })
        .map(|o| {
            let status = if o.kind == "Pod" {
                st.pods
                    .iter()
                    .find(|p| {
                        p.metadata.name.as_deref() == Some(o.name.as_str())
                            && p.metadata.namespace == o.ns
                    })
                    .map(pod_status_word)
                    .unwrap_or_else(|| "known from its log only".into())
            } else {
                String::new()
            };
            format!(
                "{} {}/{} {status}",
                o.kind,
                o.ns.as_deref().unwrap_or("-"),
                o.name
            )
            .trim_end()
            .to_string()
        })
        .collect()
}

/// Memory is compared in bytes, CPU in millicores.
fn quantity(q: &str) -> f64 {
    let (num, unit) = q.split_at(q.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(q.len()));
    let n: f64 = num.parse().unwrap_or(0.0);
    n * match unit {
        "m" => 1.0,
        "" => 1000.0,
        "Ki" => 1024.0,
        "Mi" => 1024.0 * 1024.0,
        "Gi" => 1024.0 * 1024.0 * 1024.0,
        "K" | "k" => 1000.0,
        "M" => 1e6,
        "G" => 1e9,
        _ => 1.0,
    }
}

fn usage(st: &ClusterState, hits: &[&Obj], ns: Option<&str>, question: &str) -> String {
    let by_cpu = question.to_lowercase().contains("cpu");
    let mut rows: Vec<&crate::state::Usage> = st
        .evidence
        .usage
        .iter()
        .filter(|u| ns.is_none_or(|n| u.namespace.as_deref() == Some(n)))
        .filter(|u| hits.is_empty() || hits.iter().any(|h| h.name == u.name))
        .collect();
    if rows.is_empty() {
        return format!(
            "{} holds no `kubectl top` figures for that.",
            capital(where_(st))
        );
    }
    rows.sort_by(|a, b| {
        let (x, y) = if by_cpu {
            (&a.cpu, &b.cpu)
        } else {
            (&a.memory, &b.memory)
        };
        quantity(y).total_cmp(&quantity(x))
    });
    let list: Vec<String> = rows
        .iter()
        .take(5)
        .map(|u| {
            format!(
                "{} {} (CPU {}, memory {})",
                u.kind.to_lowercase(),
                u.name,
                u.cpu,
                u.memory
            )
        })
        .collect();
    format!(
        "By `kubectl top`, most {} first: {}.",
        if by_cpu { "CPU" } else { "memory" },
        list.join("; ")
    )
}

fn count(st: &ClusterState, all: &[Obj], kind: &str, ns: Option<&str>) -> String {
    let of: Vec<&Obj> = all
        .iter()
        .filter(|o| o.kind == kind && ns.is_none_or(|n| o.ns.as_deref() == Some(n)))
        .collect();
    let place = ns.map(|n| format!(" in `{n}`")).unwrap_or_default();
    let plural = if of.len() == 1 { "" } else { "s" };
    let mut t = format!("{} {}{plural}{place}", of.len(), kind.to_lowercase());
    if kind == "Pod" {
        let mut by: BTreeMap<String, usize> = BTreeMap::new();
        for p in st
            .pods
            .iter()
            .filter(|p| ns.is_none_or(|n| p.metadata.namespace.as_deref() == Some(n)))
        {
            *by.entry(pod_status_word(p)).or_default() += 1;
        }
        if !by.is_empty() {
            let parts: Vec<String> = by.iter().map(|(s, n)| format!("{n} {s}")).collect();
            let _ = write!(t, " ({})", parts.join(", "));
        }
    }
    let complete = st.evidence.absence_known(kind, ns.unwrap_or("*"));
    if complete {
        format!("There are {t}.")
    } else {
        format!(
            "{} lists {t}; it holds no complete listing of them, so there may be more.",
            capital(where_(st))
        )
    }
}

pub(super) fn capital(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

/// The word `kubectl get pods` would show in STATUS.
pub fn pod_status_word(p: &k8s_openapi::api::core::v1::Pod) -> String {
    let s = p.status.as_ref();
    if p.metadata.deletion_timestamp.is_some() {
        return "Terminating".into();
    }
    if let Some(r) = s.and_then(|s| s.reason.clone()) {
        return r;
    }
    let waiting = s
        .into_iter()
        .flat_map(|s| {
            s.init_container_statuses
                .iter()
                .flatten()
                .map(|c| (c, true))
                .chain(s.container_statuses.iter().flatten().map(|c| (c, false)))
        })
        .find_map(|(c, init)| {
            let st = c.state.as_ref()?;
            let r = st
                .waiting
                .as_ref()
                .and_then(|w| w.reason.clone())
                .filter(|r| r != "PodInitializing")
                .or_else(|| {
                    st.terminated
                        .as_ref()
                        .and_then(|t| t.reason.clone())
                        .filter(|r| r != "Completed")
                })?;
            Some(if init { format!("Init:{r}") } else { r })
        });
    waiting.unwrap_or_else(|| {
        s.and_then(|s| s.phase.clone())
            .unwrap_or_else(|| "Unknown".into())
    })
}

enum Attr {
    Image,
    Node,
    Port,
}

fn attribute(st: &ClusterState, hits: &[&Obj], attr: Attr) -> String {
    let mut parts = Vec::new();
    for o in hits.iter().take(6) {
        let ns = o.ns.as_deref();
        let same = |m: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta| {
            m.name.as_deref() == Some(o.name.as_str()) && m.namespace.as_deref() == ns
        };
        let containers = containers_of(st, o.kind, &same);
        let who = format!("{} {}", o.kind.to_lowercase(), o.name);
        match attr {
            Attr::Image => {
                let mut imgs: Vec<String> = containers
                    .iter()
                    .filter_map(|c| {
                        c.image
                            .as_ref()
                            .filter(|i| !i.is_empty())
                            .map(|i| format!("{i} (container {})", c.name))
                    })
                    .collect();
                if imgs.is_empty() && o.kind == "Pod" {
                    imgs = st
                        .pods
                        .iter()
                        .filter(|p| same(&p.metadata))
                        .flat_map(|p| {
                            p.status
                                .iter()
                                .flat_map(|s| s.container_statuses.iter().flatten())
                        })
                        .filter(|c| !c.image.is_empty())
                        .map(|c| format!("{} (container {})", c.image, c.name))
                        .collect();
                }
                if !imgs.is_empty() {
                    parts.push(format!("{who} runs {}", imgs.join(", ")));
                }
            }
            Attr::Node => {
                if let Some(n) = st
                    .pods
                    .iter()
                    .find(|p| same(&p.metadata))
                    .and_then(|p| p.spec.as_ref())
                    .and_then(|s| s.node_name.clone())
                {
                    parts.push(format!("{who} runs on node {n}"));
                } else if o.kind == "Pod" {
                    parts.push(format!("{who} is not scheduled on any node"));
                }
            }
            Attr::Port => {
                if o.kind == "Service" {
                    if let Some(s) = st
                        .services
                        .iter()
                        .find(|s| same(&s.metadata))
                        .and_then(|s| s.spec.as_ref())
                    {
                        let ps: Vec<String> = s.ports.iter().flatten().map(|p| {
                            let target = p.target_port.as_ref().map(|t| match t {
                                k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(i) => i.to_string(),
                                k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String(s) => s.clone(),
                            });
                            format!("{}/{}{}", p.port, p.protocol.as_deref().unwrap_or("TCP"), target.map(|t| format!(" → target port {t}")).unwrap_or_default())
                        }).collect();
                        parts.push(format!("{who} listens on {}", ps.join(", ")));
                    }
                } else {
                    let ps: Vec<String> = containers
                        .iter()
                        .flat_map(|c| {
                            c.ports.iter().flatten().map(move |p| {
                                format!(
                                    "{}/{} (container {})",
                                    p.container_port,
                                    p.protocol.as_deref().unwrap_or("TCP"),
                                    c.name
                                )
                            })
                        })
                        .collect();
                    if !ps.is_empty() {
                        parts.push(format!("{who} declares port {}", ps.join(", ")));
                    }
                }
            }
        }
    }
    if parts.is_empty() {
        format!("{} does not show that.", capital(where_(st)))
    } else {
        capital(&(parts.join("; ") + "."))
    }
}

/// The containers of a pod, or of a workload's pod template.
fn containers_of(
    st: &ClusterState,
    kind: &str,
    same: &dyn Fn(&k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> bool,
) -> Vec<k8s_openapi::api::core::v1::Container> {
    use k8s_openapi::api::core::v1::PodTemplateSpec;
    fn template<T>(
        items: &[T],
        meta: impl Fn(&T) -> &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
        tpl: impl Fn(&T) -> Option<&PodTemplateSpec>,
        same: &dyn Fn(&k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> bool,
    ) -> Vec<k8s_openapi::api::core::v1::Container> {
        items
            .iter()
            .find(|i| same(meta(i)))
            .and_then(tpl)
            .and_then(|t| t.spec.clone())
            .map(|s| s.containers)
            .unwrap_or_default()
    }
    match kind {
        "Pod" => st
            .pods
            .iter()
            .find(|p| same(&p.metadata))
            .and_then(|p| p.spec.clone())
            .map(|s| s.containers)
            .unwrap_or_default(),
        "Deployment" => template(
            &st.deployments,
            |d| &d.metadata,
            |d| d.spec.as_ref().map(|s| &s.template),
            same,
        ),
        "StatefulSet" => template(
            &st.stateful_sets,
            |d| &d.metadata,
            |d| d.spec.as_ref().map(|s| &s.template),
            same,
        ),
        "DaemonSet" => template(
            &st.daemon_sets,
            |d| &d.metadata,
            |d| d.spec.as_ref().map(|s| &s.template),
            same,
        ),
        "Job" => template(
            &st.jobs,
            |d| &d.metadata,
            |d| d.spec.as_ref().map(|s| &s.template),
            same,
        ),
        _ => Vec::new(),
    }
}

fn reach(st: &ClusterState, hits: &[&Obj]) -> String {
    let svc = hits.iter().find(|o| o.kind == "Service").and_then(|o| {
        st.services
            .iter()
            .find(|s| s.metadata.name.as_deref() == Some(&o.name) && s.metadata.namespace == o.ns)
    });
    let Some(s) = svc else {
        return format!(
            "{} holds no Service for it: without one, reach a pod with `kubectl -n NS port-forward pod/NAME LOCAL:PORT`.",
            capital(where_(st))
        );
    };
    let name = s.metadata.name.as_deref().unwrap_or("");
    let ns = s.metadata.namespace.as_deref().unwrap_or("default");
    let port = s
        .spec
        .as_ref()
        .and_then(|sp| sp.ports.as_ref())
        .and_then(|p| p.first())
        .map(|p| p.port);
    let p = port.map(|p| format!(":{p}")).unwrap_or_default();
    format!(
        "Inside the cluster: `{name}.{ns}.svc.cluster.local{p}` (or `{name}{p}` from namespace {ns}). From your machine: `kubectl -n {ns} port-forward svc/{name} 8080{}` then `localhost:8080`.",
        port.map(|p| format!(":{p}")).unwrap_or_default()
    )
}
