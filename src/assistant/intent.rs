//! What a question asks (a count, an image, a verdict, …) and the names it puts forward: the
//! objects and namespace it is about, as typed. Deterministic and cheap; [`super::facts`]
//! answers from the state.

use regex::Regex;
use std::sync::OnceLock;

/// What a question asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intent {
    /// "how many pods …": the kind counted.
    Count(&'static str),
    Image,
    Node,
    Port,
    Healthy,
    Reach,
    /// "which pods have label app=web": the selector.
    Label(String, String),
    LogErrors,
    FixFirst,
    /// "which pod uses the most memory": `kubectl top` figures.
    Usage,
    /// Why is X failing / what is wrong / anything else.
    Other,
}

pub(super) fn re(cell: &'static OnceLock<Regex>, p: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(p).unwrap_or_else(|e| panic!("intent pattern: {e}")))
}

/// The intent of a question (English; other languages fall back to [`Intent::Other`]).
pub fn detect(question: &str) -> Intent {
    static COUNT: OnceLock<Regex> = OnceLock::new();
    static LABEL: OnceLock<Regex> = OnceLock::new();
    let q = question.to_lowercase();
    if let Some(c) = re(&COUNT, r"\b(?:how many|wie viele) ([a-z]+)").captures(&q)
        && let Some(k) = crate::source::evidence::kind_name(&c[1])
    {
        return Intent::Count(k);
    }
    if let Some(c) = re(
        &LABEL,
        r"\blabel(?:led|ed)?\s+`?([a-z0-9./_-]+)=([a-z0-9._-]*)",
    )
    .captures(&q)
    {
        return Intent::Label(c[1].to_string(), c[2].to_string());
    }
    let has = |ws: &[&str]| ws.iter().any(|w| q.contains(w));
    if has(&[
        "which image",
        "what image",
        "image does",
        "image is",
        "which version",
        "what version",
        "image tag",
    ]) {
        Intent::Image
    } else if has(&[
        "which node",
        "what node",
        "where is",
        "where does",
        "scheduled on",
        "running on which",
    ]) {
        Intent::Node
    } else if has(&[
        "which port",
        "what port",
        "port does",
        "ports does",
        "listen on",
    ]) {
        Intent::Port
    } else if has(&[
        "how do i reach",
        "how can i reach",
        "how do i access",
        "how can i access",
        "how do i connect",
        "how to reach",
        "how to access",
        "port-forward",
        "dns name",
    ]) {
        Intent::Reach
    } else if has(&[
        "memory usage",
        "cpu usage",
        "most memory",
        "most cpu",
        "how much memory",
        "how much cpu",
        "uses the most",
        "using the most",
        "resource usage",
    ]) {
        Intent::Usage
    } else if has(&["fix first", "most urgent", "priorit", "start with"]) {
        Intent::FixFirst
    } else if has(&[
        "in the logs",
        "in the log",
        "log errors",
        "errors in",
        "logs of",
        "logs say",
        "log say",
    ]) {
        Intent::LogErrors
    } else if re(
        &HEALTHY,
        r"^\s*(?:is|are)\b.*\b(?:healthy|ok|okay|fine|running|up|working|ready)\b",
    )
    .is_match(&q)
    {
        Intent::Healthy
    } else {
        Intent::Other
    }
}
static HEALTHY: OnceLock<Regex> = OnceLock::new();

/// Words that look like names but are reasons, tools or units.
const NOT_NAMES: &[&str] = &[
    "crashloopbackoff",
    "imagepullbackoff",
    "errimagepull",
    "oomkilled",
    "x509",
    "kube-proxy",
    "port-forward",
    "kubectl",
    "node-selector",
    "pre-stop",
    "post-start",
    "read-only",
    "non-root",
    "run-as-root",
    "out-of-memory",
    "level-4",
    "http2",
    "ipv4",
    "ipv6",
    "utf-8",
    "k8s",
    "e2e",
    "cpu",
    "mtls",
    "oauth2",
    "s3",
    "ec2",
    "gke",
    "eks",
    "aks",
    "l4",
    "l7",
];

/// Kind words that put a name right after them ("pod foo").
const KIND_WORDS: &[&str] = &[
    "pod",
    "deployment",
    "deploy",
    "service",
    "svc",
    "job",
    "cronjob",
    "statefulset",
    "daemonset",
    "node",
    "pvc",
    "ingress",
    "configmap",
    "replicaset",
    "secret",
];

/// Words that follow a kind word in a sentence without being a name ("the pod failing").
fn is_english(w: &str) -> bool {
    const WORDS: &[&str] = &[
        "is", "are", "was", "were", "be", "in", "of", "on", "at", "to", "for", "from", "with",
        "that", "which", "named", "called", "and", "or", "not", "has", "have", "had", "can",
        "cannot", "can't", "does", "doesn't", "do", "did", "won't", "keeps", "keep", "will",
        "would", "should", "could", "logs", "log", "status", "events", "healthy", "ready", "down",
        "up", "stuck", "it", "its", "the", "a", "an", "this", "there", "here", "so", "connect",
        "start", "work", "fail", "fails", "crash", "crashes", "restart", "restarts", "get", "gets",
        "go", "goes", "spec", "name", "names", "ip", "image", "port", "run", "runs", "use", "uses",
        "need", "needs", "say", "says", "show", "shows",
    ];
    WORDS.contains(&w) || w.ends_with("ing") || w.ends_with("ed") && !w.contains('-')
}

/// Names the question puts forward: backticked or quoted words, words after a kind word, and
/// words shaped like generated names (a hyphen or a digit).
/// Each: the kind named with it, the name, and whether it was put forward explicitly (a kind
/// word before it, or quotes).
pub(super) fn named(question: &str) -> Vec<(Option<&'static str>, String, bool)> {
    static TICK: OnceLock<Regex> = OnceLock::new();
    let mut out: Vec<(Option<&'static str>, String, bool)> = Vec::new();
    let mut push = |k: Option<&'static str>, n: &str, explicit: bool| {
        let n = n
            .trim_matches(|c: char| !c.is_ascii_alphanumeric())
            .to_lowercase();
        if n.len() >= 3 && crate::shell::is_k8s_name(&n) && !out.iter().any(|(_, x, _)| *x == n) {
            out.push((k, n, explicit));
        }
    };
    for c in re(&TICK, r#"[`'"]([a-zA-Z0-9][a-zA-Z0-9.-]*)[`'"]"#).captures_iter(question) {
        // A quoted plain word ("type" in pasted JSON) is not put forward as a name.
        let shaped = c[1].contains('-') || c[1].chars().any(|ch| ch.is_ascii_digit());
        push(None, &c[1], shaped);
    }
    let words: Vec<&str> = question
        .split(|c: char| {
            !(c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_' || c == '/')
        })
        .filter(|w| !w.is_empty())
        .collect();
    for (i, w) in words.iter().enumerate() {
        let lw = w.to_lowercase();
        let lw = lw.trim_end_matches('.');
        if let Some((k, n)) = lw.split_once('/')
            && let Some(kind) = crate::source::evidence::kind_name(k)
        {
            push(Some(kind), n, true);
            continue;
        }
        if i > 0 && KIND_WORDS.contains(&words[i - 1].to_lowercase().as_str()) && !is_english(lw) {
            // Put forward as a name only when shaped like one; "the service listens" is not.
            let shaped = lw.contains('-') || lw.chars().any(|c| c.is_ascii_digit());
            push(
                crate::source::evidence::kind_name(&words[i - 1].to_lowercase()),
                lw,
                shaped,
            );
            continue;
        }
        // "the checkout deployment": a name right before a kind word.
        if words
            .get(i + 1)
            .is_some_and(|n| KIND_WORDS.contains(&n.to_lowercase().as_str()))
            && !is_english(lw)
            && lw.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            push(
                crate::source::evidence::kind_name(&words[i + 1].to_lowercase()),
                lw,
                false,
            );
            continue;
        }
        if !is_english(lw)
            && lw.len() >= 3
            && lw.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !lw.contains('-')
            && !lw.chars().any(|c| c.is_ascii_digit())
        {
            // A plain word: a name when an object carries it exactly, never reported missing.
            push(None, lw, false);
            continue;
        }
        let shaped = lw.contains('-') && lw.chars().any(|c| c.is_ascii_alphabetic())
            || lw.chars().any(|c| c.is_ascii_digit())
                && lw.chars().filter(|c| c.is_ascii_alphabetic()).count() >= 3;
        if shaped && !NOT_NAMES.contains(&lw) && !lw.contains('.') && !lw.contains('/') {
            push(None, lw, false);
        }
    }
    out
}

/// The namespace a question names ("in namespace x", "-n x", "in the x namespace").
pub(super) fn named_namespace(question: &str) -> Option<String> {
    static NS: OnceLock<Regex> = OnceLock::new();
    static IN: OnceLock<Regex> = OnceLock::new();
    let q = question.to_lowercase();
    let explicit = re(
        &NS,
        r"(?:\bnamespace\s+|\bns\s+|(?:^|\s)-n\s+)[`'\x22]?([a-z0-9][-a-z0-9]*)|\bthe\s+[`'\x22]?([a-z0-9][-a-z0-9]*)[`'\x22]?\s+namespace\b",
    );
    if let Some(c) = explicit.captures(&q) {
        return c
            .get(1)
            .or_else(|| c.get(2))
            .map(|m| m.as_str().to_string());
    }
    // "in X" counts only where X is shaped like a generated name (a hyphen or a digit).
    re(&IN, r"\bin\s+[`'\x22]?([a-z0-9][-a-z0-9]*[a-z0-9])")
        .captures_iter(&q)
        .map(|c| c[1].to_string())
        .find(|w| {
            let duration = crate::source::evidence::table::age_secs(w).is_some();
            (w.contains('-') || w.chars().any(|ch| ch.is_ascii_digit()))
                && w.chars().any(|ch| ch.is_ascii_alphabetic())
                && !duration
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intents() {
        assert_eq!(detect("How many pods are in test-1?"), Intent::Count("Pod"));
        assert_eq!(
            detect("Wie viele Pods laufen in test-1?"),
            Intent::Count("Pod")
        );
        assert_eq!(detect("which image does web run?"), Intent::Image);
        assert_eq!(detect("Is api healthy?"), Intent::Healthy);
        assert_eq!(detect("how do I reach the shop frontend?"), Intent::Reach);
        assert_eq!(detect("what should I fix first?"), Intent::FixFirst);
        assert_eq!(detect("which pod uses the most memory?"), Intent::Usage);
        assert_eq!(detect("why is checkout failing?"), Intent::Other);
        assert_eq!(
            detect("which pods have label app=web"),
            Intent::Label("app".into(), "web".into())
        );
    }

    #[test]
    fn names_and_namespaces_put_forward() {
        let n = named("why is pod foo failing in test-57?");
        assert!(
            n.iter().any(|(k, w, _)| *k == Some("Pod") && w == "foo"),
            "{n:?}"
        );
        let n = named("why is pod foo-1 failing?");
        assert!(n.iter().any(|(_, w, e)| w == "foo-1" && *e), "{n:?}");
        assert_eq!(
            named_namespace("how many pods are in test-57?").as_deref(),
            Some("test-57")
        );
        assert_eq!(
            named_namespace("what is wrong in namespace shop"),
            Some("shop".into())
        );
        assert_eq!(named_namespace("what is wrong in production"), None);
        assert_eq!(named_namespace("what failed in 10m or in 2h30m"), None);
        assert!(
            named("is it a CrashLoopBackOff?")
                .iter()
                .all(|(_, _, explicit)| !explicit)
        );
    }
}
