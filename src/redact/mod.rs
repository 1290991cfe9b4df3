//! Redaction of secrets in text that came from a cluster (logs, event messages, describe
//! output) before it is printed, indexed or sent anywhere.
//!
//! The rules are data (`rules.txt`, gitleaks-style: one id, one pattern and its keywords a
//! rule), compiled once. Text without any rule's keyword skips the regexes (`prefilter.rs`);
//! then a `RegexSet` means text that matches nothing costs one scan instead of one per rule.

mod learn;
mod prefilter;

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
    /// Present when every rule names its keywords (the built-in set; a team's own patterns
    /// name none, and always run).
    prefilter: Option<prefilter::Prefilter>,
}

/// How a rule list's lines are laid out.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// `ID<TAB>REGEX<TAB>KEYWORDS` (the built-in `rules.txt`): the keywords feed the prefilter.
    Keyed,
    /// `ID<TAB>REGEX` (a team's own list): the regex is the rest of the line, tabs and all.
    Plain,
}

impl Redactor {
    /// Parse a rule list (`ID<TAB>REGEX` lines; `#` comments). Invalid rules are an error
    /// naming the rule, so a user-supplied extra list fails loudly.
    pub fn from_rules(text: &str) -> Result<Self, String> {
        Self::parse(text, Layout::Plain)
    }

    /// Parse lines laid out as `layout` says.
    fn parse(text: &str, layout: Layout) -> Result<Self, String> {
        let mut rules = Vec::new();
        let mut keywords: Vec<&str> = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim_end();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (id, pattern) = line
                .split_once('\t')
                .ok_or_else(|| format!("rule on line {}: expected ID<TAB>REGEX", n + 1))?;
            let pattern = if layout == Layout::Keyed {
                let (pattern, words) = pattern.rsplit_once('\t').ok_or_else(|| {
                    format!("rule on line {}: expected ID<TAB>REGEX<TAB>KEYWORDS", n + 1)
                })?;
                let before = keywords.len();
                keywords.extend(words.split(',').filter(|w| !w.is_empty()));
                if keywords.len() == before {
                    return Err(format!("rule '{id}' on line {}: no keywords", n + 1));
                }
                pattern
            } else {
                pattern
            };
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
        let prefilter = if layout == Layout::Keyed {
            Some(prefilter::Prefilter::new(keywords)?)
        } else {
            None
        };
        Ok(Redactor {
            rules,
            set,
            prefilter,
        })
    }

    /// The built-in rule set.
    pub fn builtin() -> &'static Redactor {
        static R: OnceLock<Redactor> = OnceLock::new();
        R.get_or_init(|| {
            // The built-in rules are tested (see tests below); failing here is a build defect.
            Redactor::parse(RULES, Layout::Keyed)
                .unwrap_or_else(|e| panic!("built-in redaction rules: {e}"))
        })
    }

    pub fn rule_ids(&self) -> impl Iterator<Item = &str> {
        self.rules.iter().map(|r| r.id.as_str())
    }

    /// Replace every secret in `text` by `[REDACTED:rule-id]`.
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        // Whether anything matches first: that search stops at the first match and uses the
        // set's fast paths, where naming every rule that matches is an overlapping search
        // over the whole text. Most text matches nothing, and most of that holds no keyword.
        let clean = match &self.prefilter {
            Some(p) if !p.may_match(text) => true,
            _ => !self.set.is_match(text),
        };
        if clean {
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
        // However long the value: a bound on its length let the rest of it out.
        let long = "k".repeat(700);
        for text in [
            format!(r#"{{"name":"DB_PASSWORD","value":"{long}"}}"#),
            format!("- name: DB_PASSWORD\n  value: {long}"),
            format!("redis://user:{long}@cache:6379/0"),
        ] {
            let out = redact(&text);
            assert!(!out.contains("kkk"), "the long value survived: {out}");
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

#[cfg(test)]
mod keyword_tests {
    use super::*;

    /// One text a rule must catch, and the secret in it, for every built-in rule.
    const SAMPLES: &[(&str, &str, &str)] = &[
        (
            "private-key",
            "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n-----END RSA PRIVATE KEY-----",
            "MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu",
        ),
        (
            "aws-access-key",
            "key id AKIAIOSFODNN7EXAMPLE in use",
            "AKIAIOSFODNN7EXAMPLE",
        ),
        (
            "aws-secret-key",
            "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        ),
        (
            "github-token",
            "cloning with ghp_abcdefghijklmnopqrstuvwxyz0123456789",
            "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
        ),
        (
            "github-fine-grained-pat",
            "github_pat_11ABCDEFG0123456789_abcdefghijklmnop",
            "11ABCDEFG0123456789_abcdefghijklmnop",
        ),
        (
            "gitlab-token",
            "glpat-abcdefghij0123456789",
            "abcdefghij0123456789",
        ),
        (
            "slack-token",
            "xoxb-123456789012-abcdefghijkl",
            "123456789012-abcdefghijkl",
        ),
        (
            "slack-webhook",
            "posting to https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
            "XXXXXXXXXXXXXXXXXXXXXXXX",
        ),
        (
            "stripe-key",
            "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
            "4eC39HqLyjWDarjtT1zdp7dc",
        ),
        (
            "openai-api-key",
            "sk-proj-abcdefghijklmnopqrstuvwx",
            "abcdefghijklmnopqrstuvwx",
        ),
        (
            "anthropic-api-key",
            "sk-ant-api03-abcdefghijklmnopqrstuv",
            "abcdefghijklmnopqrstuv",
        ),
        (
            "google-api-key",
            "AIzaSyA1234567890abcdefghijklmnopqrstuv",
            "SyA1234567890abcdefghijklmnopqrstuv",
        ),
        (
            "gcp-service-account-key",
            r#""private_key_id": "0123456789abcdef0123456789abcdef01234567""#,
            "0123456789abcdef0123456789abcdef01234567",
        ),
        (
            "azure-storage-key",
            "DefaultEndpointsProtocol=https;AccountKey=abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN0123==",
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN0123",
        ),
        (
            "azure-sas-token",
            "GET https://x.blob.core.windows.net/c?sv=2020&sig=abcdefghijklmnopqrstuvwx%3D",
            "abcdefghijklmnopqrstuvwx",
        ),
        (
            "npm-token",
            "npm_abcdefghijklmnopqrstuvwxyz0123456789",
            "abcdefghijklmnopqrstuvwxyz0123456789",
        ),
        (
            "pypi-token",
            "pypi-AgEIcHlwaS5vcmcabcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnop",
            "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnop",
        ),
        (
            "sendgrid-api-key",
            "SG.abcdefghijklmnopqrstuv.abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
            "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
        ),
        (
            "twilio-api-key",
            "SK0123456789abcdef0123456789abcdef",
            "0123456789abcdef0123456789abcdef",
        ),
        (
            "mailgun-api-key",
            "key-0123456789abcdefghijklmnopqrstuv",
            "0123456789abcdefghijklmnopqrstuv",
        ),
        (
            "datadog-api-key",
            "DD_API_KEY=0123456789abcdef0123456789abcdef",
            "0123456789abcdef0123456789abcdef",
        ),
        (
            "heroku-api-key",
            "HEROKU_API_KEY: 01234567-89ab-cdef-0123-456789abcdef",
            "01234567-89ab-cdef-0123-456789abcdef",
        ),
        (
            "digitalocean-token",
            "dop_v1_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ),
        (
            "hashicorp-vault-token",
            "hvs.CAESIabcdefghijklmnopqrstuvwxyz",
            "CAESIabcdefghijklmnopqrstuvwxyz",
        ),
        (
            "docker-config-auth",
            r#"{"auth":"dXNlcjpTM2NyZXRQYTU1"}"#,
            "dXNlcjpTM2NyZXRQYTU1",
        ),
        (
            "kubernetes-sa-token",
            "kube_token: abcdefghijklmnopqrstuvwxyz.0123",
            "abcdefghijklmnopqrstuvwxyz.0123",
        ),
        (
            "jwt",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
            "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        ),
        (
            "bearer-token",
            "Authorization: Bearer abcdef0123456789xyz",
            "abcdef0123456789xyz",
        ),
        (
            "basic-auth-header",
            "Authorization: Basic dXNlcjpwYXNzd29yZA==",
            "dXNlcjpwYXNzd29yZA==",
        ),
        (
            "url-password",
            "redis://:S3cretPa55@redis:6379/0",
            "S3cretPa55",
        ),
        (
            "mysql-cli-password",
            "mysql -uroot -pS3cretPa55 -h db",
            "S3cretPa55",
        ),
        (
            "cli-flag-secret",
            "server --db-password S3cretPa55 --port 80",
            "S3cretPa55",
        ),
        (
            "env-json-secret",
            r#"{"name":"DB_PASSWORD","value":"plaintext-pw-1"}"#,
            "plaintext-pw-1",
        ),
        (
            "env-yaml-secret",
            "- name: STRIPE_SECRET\n  value: whsec_live_xyz",
            "whsec_live_xyz",
        ),
        (
            "connection-string-password",
            "Server=db;Database=x;Pwd=S3cretPa55;",
            "S3cretPa55",
        ),
        (
            "generic-password",
            "db password=hunter2hunter2 host=db",
            "hunter2hunter2",
        ),
        (
            "generic-secret",
            "client_secret: abcdefgh12345678",
            "abcdefgh12345678",
        ),
    ];

    /// The built-in rules without their keywords: every text goes to the regexes.
    fn unfiltered() -> Redactor {
        let mut r = Redactor::parse(RULES, Layout::Keyed).expect("rules");
        r.prefilter = None;
        r
    }

    fn keywords() -> Vec<(String, Vec<String>)> {
        RULES
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|l| {
                let (id, rest) = l.split_once('\t').expect("id");
                let (_, words) = rest.rsplit_once('\t').expect("keywords");
                (
                    id.to_string(),
                    words.split(',').map(str::to_string).collect(),
                )
            })
            .collect()
    }

    /// Every rule has a sample it catches, the sample holds one of the rule's keywords, and
    /// the secret is gone with the pre-filter as without it.
    #[test]
    fn every_rule_catches_its_sample_through_its_keywords() {
        let builtin = Redactor::builtin();
        let all = unfiltered();
        for (id, words) in keywords() {
            let (_, text, secret) = SAMPLES
                .iter()
                .find(|(s, _, _)| *s == id)
                .unwrap_or_else(|| panic!("rule {id} has no sample"));
            let rule = builtin.rules.iter().find(|r| r.id == id).expect("rule");
            assert!(rule.regex.is_match(text), "{id} does not match its sample");
            let own =
                prefilter::Prefilter::new(words.iter().map(String::as_str)).expect("keywords");
            assert!(
                own.may_match(text),
                "{id}: its sample holds none of {words:?}"
            );
            let out = builtin.redact(text);
            assert!(!out.contains(secret), "{id}: {out}");
            assert_eq!(out, all.redact(text), "{id}");
        }
    }

    /// A rule that still matches its sample written in upper or lower case is still reached
    /// through the keywords: a case-insensitive rule's keyword written with a capital would
    /// be searched for as written, and `BEARER …` or `bearer …` would go unredacted.
    #[test]
    fn every_rule_is_reached_in_whatever_case_it_matches() {
        let (builtin, all) = (Redactor::builtin(), unfiltered());
        let mut checked = 0;
        for (id, words) in keywords() {
            let rule = builtin.rules.iter().find(|r| r.id == id).expect("rule");
            let (_, text, _) = SAMPLES
                .iter()
                .find(|(s, _, _)| *s == id)
                .unwrap_or_else(|| panic!("rule {id} has no sample"));
            // The rule's own keywords: another rule's may hide a miss in the whole set.
            let own =
                prefilter::Prefilter::new(words.iter().map(String::as_str)).expect("keywords");
            for variant in [text.to_uppercase(), text.to_lowercase()] {
                if rule.regex.is_match(&variant) {
                    assert!(own.may_match(&variant), "{id}: {variant}");
                    assert_eq!(builtin.redact(&variant), all.redact(&variant), "{id}");
                    checked += 1;
                }
            }
        }
        // The case-insensitive rules match both ways.
        assert!(checked > 30, "{checked}");
    }

    /// Text without a keyword is returned as it is, unscanned; a case-insensitive rule's
    /// keyword is found in any case, and written with a character that folds onto ASCII.
    #[test]
    fn the_prefilter_passes_what_the_rules_could_match() {
        let r = Redactor::builtin();
        let plain = "2026-11-24T08:00:00.000Z INFO request id=379644681 path=/api/v1/items/33371 status=200 duration_ms=588";
        assert!(!r.prefilter.as_ref().expect("keyed").may_match(plain));
        assert!(matches!(r.redact(plain), Cow::Borrowed(_)));
        for text in [
            "DB_PassWord=hunter2hunter2",
            "x-auth-TOKEN: abcdefgh12345678",
            // KELVIN SIGN and LONG S fold onto k and s in a case-insensitive regex.
            "api_\u{212A}ey=abcdefgh12345678",
            "client_\u{17F}ecret=abcdefgh12345678",
        ] {
            let out = r.redact(text);
            assert!(out.contains("[REDACTED:"), "{text} → {out}");
            assert_eq!(out, unfiltered().redact(text));
        }
    }

    /// A team's own patterns name no keywords: they run on every text, whatever the
    /// built-in keywords say.
    #[test]
    fn a_teams_patterns_run_without_keywords() {
        let team = Redactor::from_rules("team-token\ttt_[A-Za-z0-9]{10}\n").expect("rules");
        assert!(team.prefilter.is_none());
        let text = "deploying build tt_ABCDEFGHIJ";
        assert!(
            !Redactor::builtin()
                .prefilter
                .as_ref()
                .expect("keyed")
                .may_match(text)
        );
        assert_eq!(team.redact(text), "deploying build [REDACTED:team-token]");
    }

    /// On the real captures' logs, events and objects, the pre-filter changes nothing.
    #[test]
    fn real_text_is_redacted_the_same_with_and_without_keywords() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
        let (r, all) = (Redactor::builtin(), unfiltered());
        let (mut chunks, mut redacted) = (0, 0);
        for file in crate::fswalk::files(&root, &|_| true).expect("walk") {
            let Ok(text) = std::fs::read_to_string(&file) else {
                continue; // not text
            };
            let lines: Vec<&str> = text.lines().collect();
            for chunk in lines.chunks(20) {
                let chunk = chunk.join("\n");
                let out = r.redact(&chunk);
                assert_eq!(out, all.redact(&chunk), "{}", file.display());
                chunks += 1;
                redacted += usize::from(matches!(out, Cow::Owned(_)));
            }
        }
        // The test reads real text, some of which holds credentials.
        assert!(
            chunks > 10_000 && redacted > 10,
            "{chunks} chunks, {redacted} redacted"
        );
    }
}
