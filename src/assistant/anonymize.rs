//! Optional anonymisation of what a model is sent: namespaces, object names, IPv4 addresses and
//! email addresses become placeholders (`ANON_NS_3`, `ANON_OBJ_12`, `ANON_IP_1`,
//! `ANON_EMAIL_1`), consistent within a conversation, and are mapped back in the answer the
//! user sees. Tool arguments the model sends are mapped back before the tool runs.

use std::collections::BTreeSet;

/// The placeholder ↔ real mapping of one conversation.
#[derive(Debug, Default)]
pub struct Anonymizer {
    /// (real, placeholder), longest real first (so `cart-6d9f` is replaced before `cart`).
    pairs: Vec<(String, String)>,
    ips: usize,
    emails: usize,
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '.'
}

/// Replace whole-name occurrences of `from` (not inside a longer name).
fn replace_names(text: &str, from: &str, to: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(from) {
        let before = rest[..i].chars().next_back();
        let after = rest[i + from.len()..].chars().next();
        let bounded = !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '-')
            && !after.is_some_and(|c| c.is_ascii_alphanumeric() || c == '-');
        out.push_str(&rest[..i]);
        out.push_str(if bounded { to } else { from });
        rest = &rest[i + from.len()..];
    }
    out.push_str(rest);
    out
}

impl Anonymizer {
    /// Placeholders for these namespaces and object names (numbered in sorted order, so the
    /// same state gives the same placeholders).
    pub fn new(namespaces: &BTreeSet<String>, objects: &BTreeSet<String>) -> Anonymizer {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for (i, n) in namespaces.iter().enumerate() {
            pairs.push((n.clone(), format!("ANON_NS_{}", i + 1)));
        }
        for (i, o) in objects
            .iter()
            .filter(|o| !namespaces.contains(*o))
            .enumerate()
        {
            pairs.push((o.clone(), format!("ANON_OBJ_{}", i + 1)));
        }
        // Very short names ("db", "app") would also hit ordinary words: keep names of 3+.
        pairs.retain(|(r, _)| r.len() >= 3 && r.chars().all(is_name_char));
        pairs.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
        Anonymizer {
            pairs,
            ips: 0,
            emails: 0,
        }
    }

    /// The text with every known name, IPv4 address and email replaced.
    pub fn apply(&mut self, text: &str) -> String {
        static IP: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
        static EMAIL: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
        let ip = IP.get_or_init(|| {
            regex::Regex::new(r"\b(?:\d{1,3}\.){3}\d{1,3}\b").unwrap_or_else(|e| panic!("ip: {e}"))
        });
        let email = EMAIL.get_or_init(|| {
            regex::Regex::new(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
                .unwrap_or_else(|e| panic!("email: {e}"))
        });
        // New addresses get placeholders as they are seen.
        for m in email
            .find_iter(text)
            .map(|m| m.as_str().to_string())
            .collect::<Vec<_>>()
        {
            if !self.pairs.iter().any(|(r, _)| *r == m) {
                self.emails += 1;
                self.pairs
                    .insert(0, (m, format!("ANON_EMAIL_{}", self.emails)));
            }
        }
        for m in ip
            .find_iter(text)
            .map(|m| m.as_str().to_string())
            .collect::<Vec<_>>()
        {
            if !self.pairs.iter().any(|(r, _)| *r == m) {
                self.ips += 1;
                self.pairs.push((m, format!("ANON_IP_{}", self.ips)));
            }
        }
        let mut out = text.to_string();
        for (real, ph) in &self.pairs {
            if out.contains(real.as_str()) {
                out = replace_names(&out, real, ph);
            }
        }
        out
    }

    /// Placeholders back to the real names.
    pub fn restore(&self, text: &str) -> String {
        let mut out = text.to_string();
        // Longest placeholder first (ANON_OBJ_12 before ANON_OBJ_1).
        let mut by_len: Vec<&(String, String)> = self.pairs.iter().collect();
        by_len.sort_by_key(|p| std::cmp::Reverse(p.1.len()));
        for (real, ph) in by_len {
            out = out.replace(ph.as_str(), real);
        }
        out
    }

    /// Tool arguments back to real names.
    pub fn restore_json(&self, v: &serde_json::Value) -> serde_json::Value {
        serde_json::from_str(&self.restore(&v.to_string())).unwrap_or_else(|_| v.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_ips_and_emails_round_trip() {
        let ns: BTreeSet<String> = ["payments".to_string()].into();
        let objs: BTreeSet<String> = [
            "checkout".to_string(),
            "checkout-7f6e5d4c3-b8c9d".to_string(),
        ]
        .into();
        let mut a = Anonymizer::new(&ns, &objs);
        let text = "pod checkout-7f6e5d4c3-b8c9d of checkout in payments at 10.1.2.3, mail ops@example.com; checkouts stay";
        let anon = a.apply(text);
        for real in [
            "checkout-7f6e5d4c3-b8c9d",
            "payments",
            "10.1.2.3",
            "ops@example.com",
            " checkout ",
        ] {
            assert!(!anon.contains(real), "{real} in {anon}");
        }
        assert!(
            anon.contains("checkouts stay"),
            "a longer word is not a name: {anon}"
        );
        assert_eq!(a.restore(&anon), text);
        assert_eq!(
            a.restore_json(&serde_json::json!({"pod": "ANON_OBJ_2"}))["pod"],
            "checkout-7f6e5d4c3-b8c9d"
        );
    }
}
