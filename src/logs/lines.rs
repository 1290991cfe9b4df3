//! One log line at a time: how strongly it signals a failure (declared level, else its
//! words), whether it reads like instructions to a model or a tool's placeholder, its
//! timestamp, and its shape with the variable parts folded away (the signature key).

use super::*;

/// How strongly a line signals the cause of a failure: 3 for panics, fatal errors and
/// exceptions, 2 for errors, 1 for warnings and common failure phrases.
pub(crate) fn signal_strength(line: &str) -> u8 {
    let line = strip_timestamp(line);
    // A line that declares its own level is taken at its word: an info line that mentions
    // "failed" is progress, not the cause.
    match declared_level(line) {
        Some(Level::Quiet) => return 0,
        Some(Level::Warn) => return 1,
        _ => {}
    }
    free_text_strength(line)
}

pub(super) enum Level {
    Quiet,
    Warn,
}

/// The level a structured or klog line declares, when it is info/debug or warning.
pub(super) fn declared_level(line: &str) -> Option<Level> {
    static QUIET: OnceLock<RegexSet> = OnceLock::new();
    static WARN: OnceLock<RegexSet> = OnceLock::new();
    let quiet = QUIET.get_or_init(|| {
        RegexSet::new([
            r"^[ID]\d{4} \d\d:\d\d:\d\d",
            r#"(?i)"(?:level|severity|lvl)"\s*:\s*"(?:info|debug|trace|notice)""#,
            r"(?i)\blevel=(?:info|debug|trace)\b",
            r"^\[(?:INFO|DEBUG)\]|^(?:INFO|DEBUG)[: ]|\s(?:INFO|DEBUG)\s",
        ])
        .unwrap_or_else(|e| panic!("level patterns: {e}"))
    });
    let warn = WARN.get_or_init(|| {
        RegexSet::new([
            r"^W\d{4} \d\d:\d\d:\d\d",
            r#"(?i)"(?:level|severity|lvl)"\s*:\s*"warn(?:ing)?""#,
            r"(?i)\blevel=warn(?:ing)?\b",
        ])
        .unwrap_or_else(|e| panic!("level patterns: {e}"))
    });
    if quiet.is_match(line) {
        Some(Level::Quiet)
    } else if warn.is_match(line) {
        Some(Level::Warn)
    } else {
        None
    }
}

pub(super) fn free_text_strength(line: &str) -> u8 {
    static STRONG: OnceLock<RegexSet> = OnceLock::new();
    static ERROR: OnceLock<RegexSet> = OnceLock::new();
    static WEAK: OnceLock<RegexSet> = OnceLock::new();
    let strong = STRONG.get_or_init(|| {
        RegexSet::new([
            r"^panic:",
            r"(?i)\bfatal\b",
            r"\b[A-Z][A-Za-z0-9_.]*(?:Exception|Error)\b(?::|\s+at\b|$)",
            r"^Traceback \(most recent call last\)",
            r"^Caused by:",
            r"(?i)\bout of memory\b|OutOfMemory",
            r"(?i)\bsegmentation fault\b|SIGSEGV",
            r"(?i)\bcritical\b",
            r"(?i)\bemerg(?:ency)?\b",
        ])
        .unwrap_or_else(|e| panic!("signal patterns: {e}"))
    });
    let error = ERROR.get_or_init(|| {
        RegexSet::new([
            r"(?i)\blevel=(?:error|err)\b",
            r#"(?i)"(?:level|severity)"\s*:\s*"(?:error|err)""#,
            r"\bERROR\b|\bERR\b|^E\d{4} ",
            r"(?i)^error\b|\berror:",
            r"(?i)\b(?:failed|failure|unable to|cannot|can't|could not|couldn't)\b",
            r"(?i)\b(?:undefined|is not set|missing|not found|no such)\b",
            r"(?i)\b(?:connection refused|connection reset|timed out|timeout|no route to host|no such host|name resolution)\b",
            r"(?i)\b(?:permission denied|forbidden|unauthorized|access denied)\b",
            r"(?i)\b(?:certificate|x509|tls handshake)\b.*\b(?:expired|invalid|unknown|failed|error)\b",
            r"(?i)\bexit(?:ed|ing)? (?:with )?(?:code|status) [1-9]",
        ])
        .unwrap_or_else(|e| panic!("signal patterns: {e}"))
    });
    let weak = WEAK.get_or_init(|| {
        RegexSet::new([
            r"(?i)\blevel=warn(?:ing)?\b",
            r"\bWARN(?:ING)?\b|^W\d{4} ",
            r"(?i)\bretry(?:ing)?\b|\bback-?off\b",
            r"(?i)\bdeprecated\b",
        ])
        .unwrap_or_else(|e| panic!("signal patterns: {e}"))
    });
    if strong.is_match(line) {
        3
    } else if error.is_match(line) {
        2
    } else if weak.is_match(line) {
        1
    } else {
        0
    }
}

/// The mark put before a log line that reads like instructions to an assistant.
pub const SUSPICIOUS: &str = "[suspicious: reads like instructions, not a cause] ";

/// Whether a line reads like instructions to an assistant (prompt injection planted in a
/// log): it is shown marked, never chosen as the decisive line.
pub fn reads_like_instructions(line: &str) -> bool {
    static INSTR: OnceLock<RegexSet> = OnceLock::new();
    let set = INSTR.get_or_init(|| {
        RegexSet::new([
            r"(?i)\b(?:ignore|disregard|forget)\s+(?:all\s+|any\s+)?(?:the\s+)?(?:previous|prior|above|earlier)\s+(?:instructions|prompts?|messages|rules)",
            r"(?i)\byou\s+are\s+now\b",
            r"(?i)^\s*(?:system|assistant)\s*:",
            r"(?i)\b(?:run|execute)\s+`?kubectl\s+(?:delete|drain|exec|apply|patch|scale|cordon)\b",
            r"(?i)</?(?:untrusted-data|system|instructions?)>",
        ])
        .unwrap_or_else(|e| panic!("instruction patterns: {e}"))
    });
    set.is_match(line)
}

/// Whether a line is what the capture tool wrote in place of a log (kubectl's or the
/// kubelet's error when the log could not be fetched), not something the container said.
pub fn is_tool_placeholder(line: &str) -> bool {
    let body = strip_timestamp(line).trim_start();
    const PREFIXES: &[&str] = &[
        "unable to retrieve container logs for ",
        "Request log error",
        "Error from server (",
        "error: previous terminated container ",
        "failed to try resolving symlinks in path \"/var/log/pods/",
        "Error: container ",
        "error: a container name must be specified",
    ];
    if PREFIXES.iter().any(|p| body.starts_with(p)) {
        return true;
    }
    // An API `Status` body (what `kubectl get --raw` or a failed fetch writes).
    body.starts_with('{')
        && body.contains("\"kind\":\"Status\"")
        && body.contains("\"status\":\"Failure\"")
}

/// A log line without the RFC 3339 timestamp `kubectl logs --timestamps` puts before it.
pub fn strip_timestamp(line: &str) -> &str {
    let b = line.as_bytes();
    let looks = b.len() > 20
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T';
    if !looks {
        return line;
    }
    match line.find(' ') {
        Some(i) if i <= 40 => &line[i + 1..],
        _ => line,
    }
}

/// When a log line was written, from the timestamp `--timestamps` puts before it.
pub fn line_time(line: &str) -> Option<jiff::Timestamp> {
    let rest = strip_timestamp(line);
    if rest.len() == line.len() {
        return None;
    }
    line[..line.len() - rest.len()].trim().parse().ok()
}

/// A line with the variable parts (numbers, hex ids, timestamps) folded, so repeats of the same
/// message count as one.
pub(crate) fn fold(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut in_num = false;
    for ch in line.chars() {
        if ch.is_ascii_digit() {
            if !in_num {
                out.push('#');
                in_num = true;
            }
        } else {
            in_num = false;
            out.push(ch);
        }
    }
    out
}
