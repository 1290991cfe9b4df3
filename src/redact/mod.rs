//! Redaction of secrets in text that came from a cluster (logs, event messages, describe
//! output) before it is printed, indexed or sent anywhere.
//!
//! The rules are data (`rules.txt`, gitleaks-style: one id and one pattern a rule), compiled
//! once. A `RegexSet` pre-filter means a clean line, the overwhelmingly common case, costs one
//! scan instead of one per rule.

mod learn;

pub use learn::{
    learn, learn_object, learn_typed, may_hold_credential, sensitive_flag, sensitive_key,
};
use regex::{Regex, RegexSet};
use std::borrow::Cow;
use std::sync::OnceLock;

const RULES: &str = include_str!("rules.txt");

/// One secret pattern.
pub struct Rule {
    pub id: String,
    regex: Regex,
    /// Whether the rule names the secret part `s` (the key name stays readable).
    has_group: bool,
}

/// A compiled rule set.
pub struct Redactor {
    rules: Vec<Rule>,
    set: RegexSet,
}

impl Redactor {
    /// Parse a rule list (`ID<TAB>REGEX` lines; `#` comments). Invalid rules are an error
    /// naming the rule, so a user-supplied extra list fails loudly.
    pub fn from_rules(text: &str) -> Result<Self, String> {
        let mut rules = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim_end();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (id, pattern) = line
                .split_once('\t')
                .ok_or_else(|| format!("rule on line {}: expected ID<TAB>REGEX", n + 1))?;
            // Word boundaries are ASCII: a Unicode `\b` keeps the set off the lazy DFA and on
            // the PikeVM for every line (credentials are ASCII; so are their delimiters).
            let pattern = pattern.replace(r"\b", r"(?-u:\b)");
            let regex =
                Regex::new(&pattern).map_err(|e| format!("rule '{id}' on line {}: {e}", n + 1))?;
            let has_group = regex.capture_names().any(|c| c == Some("s"));
            rules.push(Rule {
                id: id.trim().to_string(),
                regex,
                has_group,
            });
        }
        let set = RegexSet::new(rules.iter().map(|r| r.regex.as_str()))
            .map_err(|e| format!("rule set: {e}"))?;
        Ok(Redactor { rules, set })
    }

    /// The built-in rule set.
    pub fn builtin() -> &'static Redactor {
        static R: OnceLock<Redactor> = OnceLock::new();
        R.get_or_init(|| {
            // The built-in rules are tested (see tests below); failing here is a build defect.
            Redactor::from_rules(RULES).unwrap_or_else(|e| panic!("built-in redaction rules: {e}"))
        })
    }

    pub fn rule_ids(&self) -> impl Iterator<Item = &str> {
        self.rules.iter().map(|r| r.id.as_str())
    }

    /// Replace every secret in `text` by `[REDACTED:rule-id]`.
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        // Whether anything matches first: that search stops at the first match and uses the
        // set's fast paths, where naming every rule that matches is an overlapping search
        // over the whole text. Most text matches nothing.
        if !self.set.is_match(text) {
            if text.lines().any(is_pem_body) {
                return Cow::Owned(redact_pem_bodies(text));
            }
            return Cow::Borrowed(text);
        }
        let matches = self.set.matches(text);
        let mut out = text.to_string();
        for i in matches.iter() {
            let rule = &self.rules[i];
            let placeholder = format!("[REDACTED:{}]", rule.id);
            if rule.has_group {
                // Replace only the named group, right to left so offsets stay valid.
                let spans: Vec<(usize, usize)> = rule
                    .regex
                    .captures_iter(&out)
                    .filter_map(|c| c.name("s").map(|m| (m.start(), m.end())))
                    .collect();
                for (s, e) in spans.into_iter().rev() {
                    if !out[s..e].starts_with("[REDACTED:") {
                        out.replace_range(s..e, &placeholder);
                    }
                }
            } else {
                out = rule
                    .regex
                    .replace_all(&out, regex::NoExpand(&placeholder))
                    .into_owned();
            }
        }
        if out.lines().any(is_pem_body) {
            out = redact_pem_bodies(&out);
        }
        Cow::Owned(out)
    }
}

/// A line of a PEM body (base64, 60+ characters, both letter cases): logs are redacted line
/// by line, so the lines between BEGIN and END of a key printed to a log must be caught on
/// their own. Hex digests (one case) and ordinary words do not qualify.
fn is_pem_body(line: &str) -> bool {
    // The body may follow a prefix (`[log ns/pod] `, a timestamp): its last word is judged.
    let t = line.trim().rsplit(' ').next().unwrap_or("");
    let body = t.trim_end_matches('=');
    body.len() >= 60
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
        && body.bytes().any(|b| b.is_ascii_uppercase())
        && body.bytes().any(|b| b.is_ascii_lowercase())
}

fn redact_pem_bodies(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        if is_pem_body(line) {
            let keep = line.trim_end().rsplit_once(' ').map_or("", |(p, _)| p);
            if !keep.is_empty() {
                out.push_str(keep);
                out.push(' ');
            }
            out.push_str("[REDACTED:private-key]");
        } else {
            out.push_str(line);
        }
    }
    out
}

/// A team's own patterns (`[redact] patterns` in the config), applied after the built-in ones.
static EXTRA: OnceLock<Redactor> = OnceLock::new();

/// Add the config's patterns (id → regex) for the rest of the process. An invalid pattern is
/// an error naming it; calling twice keeps the first set.
pub fn set_extra_patterns<'a>(
    patterns: impl IntoIterator<Item = (&'a String, &'a String)>,
) -> Result<(), String> {
    let text: String = patterns
        .into_iter()
        .map(|(id, re)| format!("{}\t{re}\n", id.replace('\t', " ")))
        .collect();
    if text.is_empty() {
        return Ok(());
    }
    let r = Redactor::from_rules(&text)?;
    let _ = EXTRA.set(r);
    Ok(())
}

/// Redact with the built-in rules, the config's extra patterns (when set) and the credential
/// values learned from the objects read ([`learn_object`]).
pub fn redact(text: &str) -> Cow<'_, str> {
    let r = Redactor::builtin().redact(text);
    let r = match EXTRA.get() {
        None => r,
        Some(x) => match x.redact(&r) {
            Cow::Borrowed(_) => r,
            Cow::Owned(o) => Cow::Owned(o),
        },
    };
    match learn::replace(&r) {
        Some(o) => Cow::Owned(o),
        None => r,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_rules_compile() {
        assert!(Redactor::builtin().rule_ids().count() >= 30);
    }

    #[test]
    fn planted_secrets_are_removed() {
        let planted = [
            ("AKIAIOSFODNN7EXAMPLE", "aws-access-key"),
            ("ghp_abcdefghijklmnopqrstuvwxyz0123456789", "github-token"),
            ("xoxb-123456789012-abcdefghijkl", "slack-token"),
            (
                "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
                "jwt",
            ),
            ("sk_live_4eC39HqLyjWDarjtT1zdp7dc", "stripe-key"),
        ];
        for (secret, id) in planted {
            let line = format!("2024-01-01 connecting with {secret} now");
            let out = redact(&line);
            assert!(!out.contains(secret), "{id} survived: {out}");
            assert!(out.contains("[REDACTED:"), "{out}");
        }
    }

    #[test]
    fn secrets_in_command_lines_urls_and_env_are_removed() {
        let cases = [
            ("redis://:s3cretPass@cache:6379/0", "s3cretPass"),
            ("mysql -h db -u root -pHunter2x42 shop", "Hunter2x42"),
            ("server --db-password S3cr3tValue --port 80", "S3cr3tValue"),
            ("server --db-password=S3cr3tValue", "S3cr3tValue"),
            (r#"args: ["--api-key", "abcd1234efgh"]"#, "abcd1234efgh"),
            (
                r#"{"env":[{"name":"DB_PASSWORD","value":"plaintext-pw-1"}]}"#,
                "plaintext-pw-1",
            ),
            (
                "- name: STRIPE_SECRET\n  value: whsec_live_xyz",
                "whsec_live_xyz",
            ),
        ];
        for (text, secret) in cases {
            let out = redact(text);
            assert!(!out.contains(secret), "{secret} survived: {out}");
        }
        // A port flag and an ordinary URL stay.
        assert_eq!(
            redact("--port 8080 https://example.com/x"),
            "--port 8080 https://example.com/x"
        );
    }

    #[test]
    fn key_names_stay_readable() {
        let out = redact("db password=hunter2hunter2 host=db");
        assert!(out.starts_with("db password=[REDACTED:"), "{out}");
        assert!(out.ends_with("] host=db"), "{out}");
        let out = redact("GET https://admin:s3cr3t@example.com/x");
        assert!(!out.contains("s3cr3t"));
        assert!(out.contains("admin:"));
    }

    #[test]
    fn ordinary_text_is_kept() {
        for text in [
            "pulled image docker.io/library/nginx@sha256:4bbfbe07eceeed5ab9136b37faf4f5cff3c28a339087ce068a76f2c1733054e8",
            "pod uid 321da3d1-2435-4987-bdd9-cc69dd3617ba restarted",
            "Back-off restarting failed container cart in pod cart-7d9f6c5b8-x2k4p",
            "secretName: shop-tls",
            "max_tokens=4096",
        ] {
            assert_eq!(redact(text), text);
        }
    }
}

#[cfg(test)]
mod mode_tests {
    /// File modes and ports are numbers, not secrets.
    #[test]
    fn file_modes_are_not_secrets() {
        for s in [
            "defaultMode: 0755",
            "defaultMode: 420",
            "mode: 0644",
            "\"defaultMode\": 493",
        ] {
            assert_eq!(super::redact(s), s);
        }
    }
}

#[cfg(test)]
mod planted_tests {
    /// Credentials in the shapes the adversarial review planted.
    #[test]
    fn planted_secrets_are_redacted() {
        for (text, secret) in [
            ("redis://:S3cretPa55@redis:6379/0", "S3cretPa55"),
            ("mysql -uroot -pS3cretPa55 -h db", "S3cretPa55"),
            ("--db-password S3cretPa55", "S3cretPa55"),
            ("--db-password=S3cretPa55", "S3cretPa55"),
            (
                "[log shop/api-1] MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj",
                "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj",
            ),
            (
                "{\"auths\":{\"r.io\":{\"auth\":\"dXNlcjpTM2NyZXRQYTU1\"}}}",
                "dXNlcjpTM2NyZXRQYTU1",
            ),
            ("DB_PASSWORD: S3cretPa55", "S3cretPa55"),
            (
                "token=ghp_abcdefghijklmnopqrstuvwxyz0123456789",
                "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
            ),
        ] {
            let r = super::redact(text);
            assert!(!r.contains(secret), "{text} → {r}");
        }
    }
}
