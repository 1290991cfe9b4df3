//! A pod's logs summarised by error signature: the distinct errors across the whole log (not
//! its last lines), each with how often it occurred, when first and last (when the lines carry
//! timestamps), the line itself, the top frame of a stack trace that follows it, and the
//! common cause it names (connection refused or timed out to a host:port, DNS failure, an
//! expired or untrusted certificate, permission denied, out of memory, missing configuration,
//! a panic, a bad command or exit code).

use super::{
    LogStore, fold, is_tool_placeholder, line_time, reads_like_instructions, signal_strength,
    strip_timestamp,
};
use regex::Regex;
use std::sync::OnceLock;

/// One distinct error of a log.
#[derive(Debug, Clone, PartialEq)]
pub struct Signature {
    pub container: String,
    pub previous: bool,
    /// The first line with this signature (unredacted: callers redact before showing).
    pub line: String,
    pub count: usize,
    pub first: Option<jiff::Timestamp>,
    pub last: Option<jiff::Timestamp>,
    /// 3 panic/fatal/exception, 2 error, 1 warning.
    pub strength: u8,
    /// The cause in a few words, when the line names a common one.
    pub cause: Option<String>,
    /// The top frame of the stack trace after the line.
    pub frame: Option<String>,
}

/// At most this many signatures are kept per pod.
const MAX_SIGNATURES: usize = 12;

/// The error signatures of one pod's logs, most severe and most frequent first.
pub fn of_pod(store: &LogStore, namespace: &str, pod: &str) -> Vec<Signature> {
    let mut sigs: Vec<(String, Signature)> = Vec::new();
    let mut pending_frame: Option<usize> = None;
    let mut frame_budget = 0usize;
    store.for_each_line(namespace, pod, |container, previous, _n, raw| {
        let line = strip_timestamp(raw).trim_end();
        if line.trim().is_empty() || is_tool_placeholder(line) || reads_like_instructions(line) {
            return;
        }
        // The top frame of a trace: Java `at x.y(Z.java:1)`, Go `main.f(...)` lines,
        // Python's `File "x.py", line 3, in f` (the last one before the exception line).
        if let Some(i) = pending_frame
            && frame_budget > 0
        {
            frame_budget -= 1;
            let t = line.trim();
            // A Go trace's preamble belongs to the panic: `[signal …]`, `goroutine 1 [running]:`.
            if t.is_empty() || t.starts_with("[signal ") || t.starts_with("goroutine ") {
                return;
            }
            let go_frame = t
                .split_once('(')
                .is_some_and(|(f, _)| !f.is_empty() && f.contains('.') && !f.contains(' '));
            let frame = t
                .strip_prefix("at ")
                .map(str::to_string)
                .or_else(|| (t.starts_with("File \"") || go_frame).then(|| t.to_string()));
            if let Some(f) = frame {
                if sigs[i].1.frame.is_none() {
                    sigs[i].1.frame = Some(f);
                }
                if !t.starts_with("File \"") {
                    pending_frame = None;
                }
                return;
            }
        }
        let strength = signal_strength(line);
        if strength < 2 {
            return;
        }
        let key = fold(line);
        let at = line_time(raw);
        let i = match sigs
            .iter()
            .position(|(k, s)| *k == key && s.container == container)
        {
            Some(i) => {
                let s = &mut sigs[i].1;
                s.count += 1;
                if at.is_some() {
                    s.last = at;
                }
                i
            }
            None => {
                if sigs.len() >= 200 {
                    return;
                }
                sigs.push((
                    key,
                    Signature {
                        container: container.to_string(),
                        previous,
                        line: line.chars().take(400).collect(),
                        count: 1,
                        first: at,
                        last: at,
                        strength,
                        cause: cause(line),
                        frame: None,
                    },
                ));
                sigs.len() - 1
            }
        };
        if strength == 3 || line.starts_with("Traceback") || line.contains("Exception") {
            pending_frame = Some(i);
            frame_budget = 20;
        }
    });
    let mut out: Vec<Signature> = sigs.into_iter().map(|(_, s)| s).collect();
    out.sort_by(|a, b| {
        b.cause
            .is_some()
            .cmp(&a.cause.is_some())
            .then(b.strength.cmp(&a.strength))
            .then(b.count.cmp(&a.count))
    });
    out.truncate(MAX_SIGNATURES);
    out
}

fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).unwrap_or_else(|e| panic!("cause pattern: {e}")))
}

/// The common cause a line names, in a few words.
pub fn cause(line: &str) -> Option<String> {
    static HOSTPORT: OnceLock<Regex> = OnceLock::new();
    static DNS: OnceLock<Regex> = OnceLock::new();
    static EXIT: OnceLock<Regex> = OnceLock::new();
    static ENV: OnceLock<Regex> = OnceLock::new();
    let l = line.to_ascii_lowercase();
    let target = re(
        &HOSTPORT,
        r"\b((?:[A-Za-z0-9-]+\.)*[A-Za-z0-9-]+:\d{2,5})\b",
    )
    .captures(line)
    .map(|c| c[1].to_string());
    let to = |what: &str| match &target {
        Some(t) => format!("{what} to {t}"),
        None => what.to_string(),
    };
    if l.contains("connection refused") || l.contains("econnrefused") {
        return Some(to("connection refused"));
    }
    if l.contains("timed out") || l.contains("timeout") || l.contains("deadline exceeded") {
        return Some(to("timed out connecting"));
    }
    if l.contains("no such host")
        || l.contains("nxdomain")
        || l.contains("name or service not known")
        || l.contains("temporary failure in name resolution")
        || l.contains("could not resolve host")
        || l.contains("unknownhostexception")
        || l.contains("getaddrinfo")
    {
        let host = re(
            &DNS,
            r"(?i)(?:lookup|host|resolve host:?)\s+([A-Za-z0-9_.-]+)",
        )
        .captures(line)
        .map(|c| c[1].trim_end_matches(['.', ':']).to_string());
        return Some(match host {
            Some(h) => format!("DNS cannot resolve {h}"),
            None => "DNS resolution failed".into(),
        });
    }
    if (l.contains("certificate") || l.contains("x509") || l.contains("ssl") || l.contains("tls"))
        && (l.contains("expired") || l.contains("not yet valid"))
    {
        return Some("TLS certificate expired".into());
    }
    if l.contains("x509")
        || l.contains("unknown authority")
        || l.contains("certificate verify failed")
    {
        return Some("TLS certificate not trusted".into());
    }
    if l.contains("permission denied") || l.contains("eacces") {
        return Some("permission denied".into());
    }
    if l.contains("forbidden")
        || l.contains("unauthorized")
        || l.contains(" 401")
        || l.contains(" 403")
    {
        return Some("access forbidden or unauthorized".into());
    }
    if l.contains("out of memory")
        || l.contains("outofmemory")
        || l.contains("oomkilled")
        || l.contains("cannot allocate memory")
    {
        return Some("out of memory".into());
    }
    if let Some(c) = re(
        &ENV,
        r"(?i)(?:environment variable|env var|variable)\s+`?'?([A-Z_][A-Z0-9_]*)'?`?\s+(?:is\s+)?(?:undefined|not set|unset|missing|required)|\b([A-Z][A-Z0-9_]{2,})\s+(?:is\s+)?(?:undefined|not set|must be set|is required)\b",
    )
    .captures(line)
    {
        let v = c.get(1).or_else(|| c.get(2)).map_or("", |m| m.as_str());
        return Some(format!("missing configuration: {v} is not set"));
    }
    if (l.contains("config") || l.contains("file"))
        && (l.contains("no such file") || l.contains("not found"))
    {
        return Some("missing configuration file".into());
    }
    if l.contains("command not found")
        || l.contains("executable file not found")
        || l.contains(": not found")
    {
        return Some("command not found".into());
    }
    if l.starts_with("panic:") || l.contains("fatal error:") || l.contains("segmentation fault") {
        return Some("the process panicked".into());
    }
    if let Some(c) = re(
        &EXIT,
        r"(?i)exit(?:ed|ing)? (?:with )?(?:code|status) ([1-9]\d*)",
    )
    .captures(line)
    {
        return Some(format!("exited with code {}", &c[1]));
    }
    static EXC: OnceLock<Regex> = OnceLock::new();
    if let Some(c) = re(
        &EXC,
        r"\b((?:[a-z_][\w$]*\.)*[A-Z][\w$]*(?:Exception|Error))\b",
    )
    .captures(line)
    {
        return Some(format!("{} was raised", &c[1]));
    }
    if l.contains("database")
        && (l.contains("unavailable") || l.contains("down") || l.contains("cannot connect"))
    {
        return Some("database unavailable".into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::LogBlob;

    #[test]
    fn signatures_fold_repeats_and_name_causes() {
        let mut store = LogStore::default();
        let text = "2024-05-01T10:00:00Z INFO starting\n2024-05-01T10:00:01Z ERROR dial tcp db.shop.svc:5432: connect: connection refused\n2024-05-01T10:00:05Z ERROR dial tcp db.shop.svc:5432: connect: connection refused\n2024-05-01T10:00:09Z ERROR x509: certificate has expired or is not yet valid\nException in thread \"main\" java.lang.IllegalStateException: boom\n\tat com.shop.Main.run(Main.java:42)\n\tat com.shop.Main.main(Main.java:10)\n";
        store.add(
            "shop",
            "api-1",
            LogBlob::Text {
                container: None,
                previous: false,
                text: text.into(),
            },
        );
        let s = of_pod(&store, "shop", "api-1");
        let refused = s
            .iter()
            .find(|s| s.cause.as_deref() == Some("connection refused to db.shop.svc:5432"))
            .expect("refused");
        assert_eq!(refused.count, 2);
        assert!(refused.first < refused.last);
        assert!(
            s.iter()
                .any(|s| s.cause.as_deref() == Some("TLS certificate expired"))
        );
        let ex = s
            .iter()
            .find(|s| s.line.contains("IllegalState"))
            .expect("exception");
        assert_eq!(ex.frame.as_deref(), Some("com.shop.Main.run(Main.java:42)"));
        assert!(!s.iter().any(|s| s.line.contains("starting")));
    }
}
