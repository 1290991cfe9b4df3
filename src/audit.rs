//! The audit trail: every question, every cluster request and every model request (redacted,
//! with token estimates) appended as one JSON line to `$XDG_DATA_HOME/sextant/audit.jsonl` (or
//! `--audit-log PATH`), so a team can show what the assistant saw and sent.
//!
//! A process-wide sink, opened once by the CLI; the cluster guard and the assistant append to
//! it. Writing never fails a command: an unwritable log is skipped (said with `-v`).

use serde_json::{Value, json};
use std::io::Write;
use std::path::Path;
use std::sync::{Mutex, OnceLock};

static SINK: OnceLock<Mutex<Option<std::fs::File>>> = OnceLock::new();

/// Open (append) the log. Later calls keep the first sink.
pub fn open(path: &Path) {
    let file = path
        .parent()
        .map(std::fs::create_dir_all)
        .transpose()
        .and_then(|_| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
        });
    let file = match file {
        Ok(f) => Some(f),
        Err(e) => {
            tracing::info!(path = %path.display(), error = %e, "audit log not writable; not auditing");
            None
        }
    };
    let _ = SINK.set(Mutex::new(file));
}

/// Append one event (`kind` plus fields); text fields must be redacted by the caller.
pub fn record(kind: &str, mut fields: Value) {
    let Some(sink) = SINK.get() else { return };
    if let Some(m) = fields.as_object_mut() {
        m.insert("time".into(), json!(jiff::Timestamp::now().to_string()));
        m.insert("kind".into(), json!(kind));
    }
    let Ok(mut guard) = sink.lock() else { return };
    if let Some(f) = guard.as_mut() {
        let _ = writeln!(f, "{fields}");
    }
}

/// A rough token count (4 characters per token), as logged.
pub fn tokens(text: &str) -> usize {
    text.len().div_ceil(4)
}
