//! What the logs say, for an answer: error signatures per pod, with the common cause each
//! names, counts, time span and a stack trace's top frame.

use std::collections::BTreeSet;
use std::fmt::Write as _;

/// Whether any log of the state has an error signature.
pub(super) fn has_log_errors(state: Option<&crate::state::ClusterState>) -> bool {
    state.is_some_and(|st| {
        st.logs
            .pods()
            .take(50)
            .any(|(ns, p)| !crate::logs::signatures::of_pod(&st.logs, ns, p).is_empty())
    })
}

/// The log notes for a question: the pods of the objects it names (and its lead names), in the
/// window it names, or every pod with errors when `all`.
pub(super) fn for_question(
    st: &crate::state::ClusterState,
    subject: &super::question::Subject,
    lead: Option<&super::facts::Lead>,
    window: Option<&super::TimeFocus>,
    all: bool,
) -> String {
    let mut names: BTreeSet<String> = subject.objects.clone();
    if let Some(l) = lead {
        names.extend(
            l.objects
                .iter()
                .filter_map(|o| o.rsplit('/').next().map(str::to_string)),
        );
    }
    let since = window.map(|t| (t.window.since, t.window.phrase.as_str()));
    log_notes(st, &names, all, since)
}

/// What the logs say, by error signature: for the named objects' pods (the pod itself, or pods
/// named after it), or for every pod with errors when `all`. The common cause each names, its
/// count and time span, the decisive line (redacted) and a stack trace's top frame.
/// `since`: a window the question names (its start and phrase) — signatures whose last
/// occurrence is known to be before it are left out.
pub(super) fn log_notes(
    st: &crate::state::ClusterState,
    objects: &BTreeSet<String>,
    all: bool,
    since: Option<(jiff::Timestamp, &str)>,
) -> String {
    let mut out = String::new();
    let mut shown = 0;
    for (ns, pod) in st.logs.pods() {
        if shown == 3 {
            break;
        }
        let named = objects
            .iter()
            .any(|o| pod == o || pod.starts_with(&format!("{o}-")));
        if !(named || all && objects.is_empty()) {
            continue;
        }
        let mut sigs = crate::logs::signatures::of_pod(&st.logs, ns, pod);
        if let Some((t, _)) = since {
            sigs.retain(|s| s.last.is_none_or(|l| l >= t));
        }
        if sigs.is_empty() {
            continue;
        }
        shown += 1;
        let in_state = st
            .pods
            .iter()
            .any(|p| p.metadata.name.as_deref() == Some(pod.as_str()));
        let _ = writeln!(
            out,
            "\nThe log of pod {ns}/{pod}{} shows {} distinct error(s){}:",
            if in_state {
                ""
            } else {
                " (the pod itself is not in the evidence)"
            },
            sigs.len(),
            since.map(|(_, p)| format!(" {p}")).unwrap_or_default()
        );
        let lines: Vec<String> = sigs
            .iter()
            .map(|s| crate::redact::redact(&s.line).into_owned())
            .collect();
        if let Some((cause, fix)) = crate::analyzers::log_diagnosis(&lines) {
            let _ = writeln!(out, "  Cause: {cause}.\n  Fix: {fix}.");
        }
        for s in sigs.iter().take(5) {
            let line: String = crate::redact::redact(&s.line).chars().take(200).collect();
            let span = match (s.first, s.last) {
                (Some(a), Some(b)) if a != b => {
                    format!(", {} → {}", a.strftime("%H:%M:%S"), b.strftime("%H:%M:%S"))
                }
                (Some(a), _) => format!(", at {}", a.strftime("%H:%M:%S")),
                _ => String::new(),
            };
            let _ = writeln!(
                out,
                "  - {}×{}{span}: “{line}”{}",
                s.cause
                    .as_ref()
                    .map(|c| format!("{c} — "))
                    .unwrap_or_default(),
                s.count,
                s.frame
                    .as_ref()
                    .map(|f| format!(" (at {})", crate::redact::redact(f)))
                    .unwrap_or_default()
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// "Errors in the logs of X since T": signatures last seen before T are left out.
    #[test]
    fn a_window_leaves_out_older_errors() {
        let mut st = crate::state::ClusterState::default();
        st.logs.add(
            "shop",
            "indexer-1",
            crate::logs::LogBlob::Text {
                container: None,
                previous: false,
                text: "2024-11-18T10:00:00Z ERROR disk quota exceeded writing /data/idx\n2024-11-18T10:06:00Z ERROR dial tcp search:9200: connect: connection refused\n".into(),
            },
        );
        let names: BTreeSet<String> = ["indexer-1".to_string()].into();
        let all = log_notes(&st, &names, false, None);
        assert!(all.contains("quota") && all.contains("9200"), "{all}");
        let since: jiff::Timestamp = "2024-11-18T10:05:00Z".parse().expect("time");
        let recent = log_notes(&st, &names, false, Some((since, "since 10:05 UTC")));
        assert!(
            !recent.contains("quota") && recent.contains("9200"),
            "{recent}"
        );
        assert!(recent.contains("since 10:05 UTC"), "{recent}");
    }
}
