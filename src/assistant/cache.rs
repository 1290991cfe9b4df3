//! The answer cache: a model's answer on disk, keyed by the model, the prompts' version and the
//! exact (redacted) messages, so the same question over the same state costs nothing the second
//! time. Entries expire after a TTL; `--no-cache` bypasses it.

use sha2::{Digest, Sha256};
use std::path::Path;
use std::time::Duration;

/// The cache key of one model call.
pub fn key(model: &str, prompts_version: &str, messages: &[(&str, String)]) -> String {
    let mut h = Sha256::new();
    for part in [model, "\u{0}", prompts_version, "\u{0}"] {
        h.update(part.as_bytes());
    }
    for (role, text) in messages {
        h.update(role.as_bytes());
        h.update([0]);
        h.update(text.as_bytes());
        h.update([0]);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// A cached answer younger than `ttl`.
pub fn get(dir: &Path, key: &str, ttl: Duration) -> Option<String> {
    let path = dir.join(format!("{key}.txt"));
    let age = std::fs::metadata(&path)
        .ok()?
        .modified()
        .ok()?
        .elapsed()
        .ok()?;
    if age > ttl {
        let _ = std::fs::remove_file(&path);
        return None;
    }
    std::fs::read_to_string(path).ok()
}

/// Keep an answer (failures are ignored: the cache is an optimisation).
pub fn put(dir: &Path, key: &str, answer: &str) {
    if std::fs::create_dir_all(dir).is_ok() {
        let tmp = dir.join(format!("{key}.tmp"));
        if std::fs::write(&tmp, answer).is_ok() {
            let _ = std::fs::rename(&tmp, dir.join(format!("{key}.txt")));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyed_by_model_prompts_and_messages_with_ttl() {
        let m = vec![("user", "q".to_string())];
        let k = key("m1", "answer:v1", &m);
        assert_ne!(k, key("m2", "answer:v1", &m));
        assert_ne!(k, key("m1", "answer:v2", &m));
        assert_ne!(k, key("m1", "answer:v1", &[("user", "q2".to_string())]));
        let dir = tempfile::tempdir().expect("tmp");
        assert_eq!(get(dir.path(), &k, Duration::from_secs(60)), None);
        put(dir.path(), &k, "answer");
        assert_eq!(
            get(dir.path(), &k, Duration::from_secs(60)).as_deref(),
            Some("answer")
        );
        assert_eq!(get(dir.path(), &k, Duration::ZERO), None, "expired");
    }
}
