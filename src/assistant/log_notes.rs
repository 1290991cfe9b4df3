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

/// What the logs say, by error signature: for the named objects' pods (the pod itself, or pods
/// named after it), or for every pod with errors when `all`. The common cause each names, its
/// count and time span, the decisive line (redacted) and a stack trace's top frame.
pub(super) fn log_notes(
    st: &crate::state::ClusterState,
    objects: &BTreeSet<String>,
    all: bool,
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
        let sigs = crate::logs::signatures::of_pod(&st.logs, ns, pod);
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
            "\nThe log of pod {ns}/{pod}{} shows {} distinct error(s):",
            if in_state {
                ""
            } else {
                " (the pod itself is not in the evidence)"
            },
            sigs.len()
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
