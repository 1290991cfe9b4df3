//! Credentials the patterns cannot recognise by their shape — `DB_PASSWORD=Xk7q…` is just a
//! word — are recognised by where they stand: an env entry named like a credential, the value
//! after `--password`, `--token=VALUE`, `mysql -pVALUE`, an annotation or ConfigMap key named
//! like one. Every object is read through [`learn_object`] as it enters Sextant (snapshot,
//! live list, pasted evidence, `snapshot save`); from then on [`super::redact`] replaces each
//! learned value wherever it appears — a policy message that prints it, a log line that echoes
//! it, an event that quotes it.

use aho_corasick::AhoCorasick;
use serde_json::Value;
use std::collections::BTreeSet;
use std::sync::RwLock;

/// Values shorter than this are not learned: "admin", "true" and ports would redact half the
/// cluster's text.
const MIN_LEN: usize = 6;
/// A bound on what is remembered (a hostile capture cannot grow it without limit).
const MAX_VALUES: usize = 100_000;

struct Learned {
    values: BTreeSet<String>,
    matcher: Option<AhoCorasick>,
    dirty: bool,
}

static LEARNED: RwLock<Learned> = RwLock::new(Learned {
    values: BTreeSet::new(),
    matcher: None,
    dirty: false,
});

/// Whether a name (env var, flag) may hold a credential — the broad test the scrubber blanks a
/// saved or shown value by, where a false positive costs only that value. Learning (which
/// redacts a value everywhere) uses the narrower [`sensitive_key`].
pub fn may_hold_credential(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    ["pass", "secret", "token", "key", "cred", "auth"]
        .iter()
        .any(|w| n.contains(w))
}

/// Whether a flag (`--db-password`, `-token`) takes a credential as its value.
pub fn sensitive_flag(flag: &str) -> bool {
    flag.starts_with('-') && sensitive_key(flag)
}

/// Whether an env var, a flag, an annotation or a ConfigMap key names a credential. Narrower
/// than the scrubber's blanking (which only costs a value on save): a learned value is
/// redacted everywhere, so `KEYCLOAK_REALM`, `auth-secret-name` and `tokenFile` — names of
/// other things — are not credentials.
pub fn sensitive_key(key: &str) -> bool {
    let k = key.rsplit('/').next().unwrap_or(key).to_ascii_lowercase();
    let k: String = k.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    let reference = [
        "name", "ref", "file", "path", "dir", "id", "url", "mode", "type",
    ]
    .iter()
    .any(|s| k.ends_with(s));
    let named = [
        "password",
        "passwd",
        "token",
        "secret",
        "apikey",
        "accesskey",
        "privatekey",
        "credential",
    ]
    .iter()
    .any(|w| k.contains(w))
        || k.ends_with("pwd")
        || k.ends_with("pass")
        || (k.ends_with("key") && !k.ends_with("publickey"));
    named && !reference
}

/// Whether `v` can be a credential worth remembering: long enough, one word, not a path, a
/// URL (the URL rule handles its password), a number or a reference.
fn worth_learning(v: &str) -> bool {
    let v = v.trim();
    v.chars().count() >= MIN_LEN
        && v.len() <= 4096
        && !v.chars().any(char::is_whitespace)
        && !v.starts_with('/')
        && !v.starts_with('$')
        && !v.contains("://")
        && !v.starts_with("[REDACTED")
        && !v.chars().all(|c| c.is_ascii_digit() || c == '.')
}

/// Remember one credential value.
pub fn learn(value: &str) {
    let v = value.trim();
    if !worth_learning(v) {
        return;
    }
    if LEARNED
        .read()
        .is_ok_and(|l| l.values.contains(v) || l.values.len() >= MAX_VALUES)
    {
        return;
    }
    if let Ok(mut l) = LEARNED.write() {
        l.dirty |= l.values.insert(v.to_string());
    }
}

/// Learn the credentials an object carries: env values named like credentials, values of
/// credential flags in every form, annotations and ConfigMap data keyed like credentials.
pub fn learn_object(kind: &str, obj: &Value) {
    object_candidates(kind, obj, &mut |v| learn(v));
}

/// What [`learn_object`] would learn, given to `out` (before [`learn`]'s own filter).
fn object_candidates(kind: &str, obj: &Value, out: &mut dyn FnMut(&str)) {
    // Events (most objects of a capture) carry no env, flags or credential keys: not walked.
    if kind == "Event" {
        return;
    }
    if let Some(Value::Object(a)) = obj.pointer("/metadata/annotations") {
        for (k, v) in a {
            if let Some(s) = v.as_str()
                && sensitive_key(k)
            {
                out(s);
            }
        }
    }
    if kind == "ConfigMap"
        && let Some(Value::Object(d)) = obj.get("data")
    {
        for (k, v) in d {
            if let Some(s) = v.as_str()
                && sensitive_key(k)
            {
                out(s);
            }
        }
    }
    walk(obj, 0, out);
}

fn walk(v: &Value, depth: usize, out: &mut dyn FnMut(&str)) {
    if depth > 64 {
        return;
    }
    match v {
        Value::Object(m) => {
            if let (Some(name), Some(Value::String(val))) =
                (m.get("name").and_then(Value::as_str), m.get("value"))
                && sensitive_key(name)
            {
                out(val);
            }
            // A container: its argv as one, so `mysql … -pVALUE` is recognised.
            if m.contains_key("image") {
                container_args(m, out);
            }
            for x in m.values() {
                walk(x, depth + 1, out);
            }
        }
        Value::Array(a) => {
            for x in a {
                walk(x, depth + 1, out);
            }
        }
        _ => {}
    }
}

fn container_args(c: &serde_json::Map<String, Value>, out: &mut dyn FnMut(&str)) {
    let argv: Vec<&str> = ["command", "args"]
        .iter()
        .filter_map(|f| c.get(*f).and_then(Value::as_array))
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    argv_credentials(&argv, c.get("image").and_then(Value::as_str), out);
}

/// The credentials in one container's argv (command then args).
fn argv_credentials(argv: &[&str], image: Option<&str>, out: &mut dyn FnMut(&str)) {
    let mysql = argv
        .iter()
        .any(|a| a.contains("mysql") || a.contains("mariadb"))
        || image.is_some_and(|i| i.contains("mysql") || i.contains("mariadb"));
    let mut next = false;
    for a in argv {
        if next {
            out(a);
            next = false;
            continue;
        }
        match a.split_once('=') {
            Some((flag, value)) if sensitive_flag(flag) => out(value),
            Some(_) => {}
            None => next = sensitive_flag(a),
        }
        // `-pVALUE` is mysql's password flag (elsewhere `-p8080` is a port).
        if mysql
            && let Some(p) = a.strip_prefix("-p")
            && !a.starts_with("--")
        {
            out(p);
        }
    }
}

/// [`learn_object`] for an object already typed (the loader's fast path): the annotations and,
/// for a pod or a workload, its pod spec — every `name`/`value` pair a pod spec can hold (env,
/// probe and lifecycle headers, DNS options, sysctls) and each container's argv. What the
/// generic walk finds in these kinds, this finds (a test holds the two to each other).
pub fn learn_typed(
    annotations: Option<&std::collections::BTreeMap<String, String>>,
    spec: Option<&k8s_openapi::api::core::v1::PodSpec>,
) {
    typed_candidates(annotations, spec, &mut |v| learn(v));
}

/// What [`learn_typed`] would learn, given to `out`.
fn typed_candidates(
    annotations: Option<&std::collections::BTreeMap<String, String>>,
    spec: Option<&k8s_openapi::api::core::v1::PodSpec>,
    out: &mut dyn FnMut(&str),
) {
    for (k, v) in annotations.into_iter().flatten() {
        if sensitive_key(k) {
            out(v);
        }
    }
    let Some(spec) = spec else { return };
    // Containers and ephemeral containers are two types with the same fields.
    macro_rules! container {
        ($c:expr) => {{
            let c = $c;
            for e in c.env.iter().flatten() {
                pair(&e.name, e.value.as_deref(), out);
            }
            let argv: Vec<&str> = c
                .command
                .iter()
                .chain(c.args.iter())
                .flatten()
                .map(String::as_str)
                .collect();
            argv_credentials(&argv, c.image.as_deref(), out);
            for p in [&c.liveness_probe, &c.readiness_probe, &c.startup_probe]
                .into_iter()
                .flatten()
            {
                headers(p.http_get.as_ref(), out);
            }
            for h in c
                .lifecycle
                .iter()
                .flat_map(|l| [&l.post_start, &l.pre_stop])
                .flatten()
            {
                headers(h.http_get.as_ref(), out);
            }
        }};
    }
    for c in spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
    {
        container!(c);
    }
    for c in spec.ephemeral_containers.iter().flatten() {
        container!(c);
    }
    for o in spec
        .dns_config
        .iter()
        .flat_map(|d| d.options.iter().flatten())
    {
        if let Some(n) = &o.name {
            pair(n, o.value.as_deref(), out);
        }
    }
    for s in spec
        .security_context
        .iter()
        .flat_map(|s| s.sysctls.iter().flatten())
    {
        pair(&s.name, Some(&s.value), out);
    }
}

/// A `name`/`value` pair whose name says it holds a credential.
fn pair(name: &str, value: Option<&str>, out: &mut dyn FnMut(&str)) {
    if let Some(v) = value
        && sensitive_key(name)
    {
        out(v);
    }
}

fn headers(h: Option<&k8s_openapi::api::core::v1::HTTPGetAction>, out: &mut dyn FnMut(&str)) {
    for x in h
        .and_then(|h| h.http_headers.as_ref())
        .into_iter()
        .flatten()
    {
        pair(&x.name, Some(&x.value), out);
    }
}

/// `text` with every learned value replaced, or `None` when it holds none.
pub(super) fn replace(text: &str) -> Option<String> {
    {
        let l = LEARNED.read().ok()?;
        if l.values.is_empty() {
            return None;
        }
        if !l.dirty {
            return find(&l, text);
        }
    }
    let mut l = LEARNED.write().ok()?;
    if l.dirty {
        l.matcher = AhoCorasick::builder()
            .match_kind(aho_corasick::MatchKind::LeftmostLongest)
            .build(l.values.iter())
            .ok();
        l.dirty = false;
    }
    find(&l, text)
}

fn find(l: &Learned, text: &str) -> Option<String> {
    let m = l.matcher.as_ref()?;
    if !m.is_match(text) {
        return None;
    }
    Some(m.replace_all(text, &vec!["[REDACTED:known-credential]"; l.values.len()]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_learned_from_where_they_stand_are_redacted_anywhere() {
        let pod = json!({"metadata": {"name": "p", "annotations": {"example.com/api-token": "Qx7-annot-001"}},
            "spec": {"containers": [{"name": "db", "image": "mysql:8",
                "command": ["mysql", "-u", "root", "-pQx7-mysql-002"],
                "args": ["--password", "Qx7-sep-003", "--token=Qx7-eq-004", "--port", "3306"],
                "env": [{"name": "DB_PASSWORD", "value": "Qx7-env-005"}, {"name": "MODE", "value": "verbose-mode"}]}]}});
        learn_object("Pod", &pod);
        let cm = json!({"metadata": {"name": "c"}, "data": {"DB_PASSWORD": "Qx7-cm-006", "secretName": "my-secret-name"}});
        learn_object("ConfigMap", &cm);
        let text = "policy says Qx7-annot-001 Qx7-mysql-002 Qx7-sep-003 Qx7-eq-004 Qx7-env-005 Qx7-cm-006; mode verbose-mode; my-secret-name; port 3306";
        let out = crate::redact::redact(text);
        for s in ["001", "002", "003", "004", "005", "006"] {
            assert!(!out.contains(&format!("-{s}")), "{out}");
        }
        assert!(
            out.contains("verbose-mode") && out.contains("my-secret-name") && out.contains("3306"),
            "{out}"
        );
    }

    /// The fast loader's typed learning finds what the generic walk finds in a pod.
    #[test]
    fn typed_objects_teach_the_same_values() {
        let pod = json!({"metadata": {"name": "p", "annotations": {"example.com/api-token": "Zt9-annot-011"}},
            "spec": {"containers": [{"name": "db", "image": "mariadb:11",
                "command": ["sh", "-c"], "args": ["--db-password=Zt9-eq-012", "-pZt9-mysql-013"],
                "env": [{"name": "API_KEY", "value": "Zt9-env-014"}, {"name": "MODE", "value": "Zt9-plain-015"}],
                "readinessProbe": {"httpGet": {"port": 80, "httpHeaders": [{"name": "X-Api-Key", "value": "Zt9-hdr-016"}]}}}],
                "ephemeralContainers": [{"name": "debug", "image": "busybox",
                    "env": [{"name": "SESSION_TOKEN", "value": "Zt9-eph-017"}]}],
                "dnsConfig": {"options": [{"name": "secret", "value": "Zt9-dns-018"}]}}});
        let typed: k8s_openapi::api::core::v1::Pod = serde_json::from_value(pod).expect("pod");
        learn_typed(typed.metadata.annotations.as_ref(), typed.spec.as_ref());
        let text = "Zt9-annot-011 Zt9-eq-012 Zt9-mysql-013 Zt9-env-014 Zt9-plain-015 Zt9-hdr-016 Zt9-eph-017 Zt9-dns-018";
        let out = crate::redact::redact(text);
        for s in ["011", "012", "013", "014", "016", "017", "018"] {
            assert!(!out.contains(&format!("-{s}")), "{s}: {out}");
        }
        assert!(out.contains("Zt9-plain-015"), "{out}");
    }

    /// The typed walk finds exactly what the generic walk finds, on every pod and workload of
    /// the real captures and on a pod holding a credential in every place a pod spec can.
    #[test]
    fn typed_and_generic_walks_find_the_same_candidates() {
        use k8s_openapi::api::{apps::v1 as apps, batch::v1 as batch, core::v1 as core};
        use std::collections::BTreeSet;
        fn generic(kind: &str, v: &Value) -> BTreeSet<String> {
            let mut out = BTreeSet::new();
            object_candidates(kind, v, &mut |c| {
                out.insert(c.to_string());
            });
            out
        }
        fn typed(
            annotations: Option<&std::collections::BTreeMap<String, String>>,
            spec: Option<&core::PodSpec>,
        ) -> BTreeSet<String> {
            let mut out = BTreeSet::new();
            typed_candidates(annotations, spec, &mut |c| {
                out.insert(c.to_string());
            });
            out
        }
        let mut objects = vec![(
            "Pod".to_string(),
            json!({"metadata": {"name": "p", "annotations": {"example.com/api-token": "Zt9-annot-021"}},
            "spec": {"containers": [{"name": "db", "image": "mariadb:11", "command": ["mysqld"], "args": ["--db-password", "Zt9-sep-022", "-pZt9-023"],
                "env": [{"name": "API_KEY", "value": "Zt9-env-024"}],
                "livenessProbe": {"httpGet": {"port": 80, "httpHeaders": [{"name": "X-Auth-Token", "value": "Zt9-hdr-025"}]}},
                "lifecycle": {"preStop": {"httpGet": {"port": 80, "httpHeaders": [{"name": "X-Api-Key", "value": "Zt9-hdr-026"}]}}}}],
                "initContainers": [{"name": "init", "image": "busybox", "env": [{"name": "DB_PASS", "value": "Zt9-init-027"}]}],
                "ephemeralContainers": [{"name": "debug", "image": "busybox", "env": [{"name": "SESSION_TOKEN", "value": "Zt9-eph-028"}]}],
                "dnsConfig": {"options": [{"name": "secret", "value": "Zt9-dns-029"}]},
                "securityContext": {"sysctls": [{"name": "net.token", "value": "Zt9-sys-030"}]}}}),
        )];
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/real-dumps");
        for file in crate::fswalk::files(&root, &|_| true).expect("walk") {
            let Ok(doc) =
                serde_json::from_str::<Value>(&std::fs::read_to_string(&file).unwrap_or_default())
            else {
                continue;
            };
            for item in doc
                .get("items")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let kind = item.get("kind").and_then(Value::as_str).unwrap_or("");
                objects.push((kind.to_string(), item.clone()));
            }
        }
        let mut compared = 0;
        for (kind, v) in &objects {
            let mut v = v.clone();
            if let Some(m) = v.as_object_mut() {
                m.remove("apiVersion");
                m.remove("kind");
            }
            let from_typed = match kind.as_str() {
                "Pod" => serde_json::from_value::<core::Pod>(v.clone())
                    .map(|o| typed(o.metadata.annotations.as_ref(), o.spec.as_ref())),
                "Deployment" => serde_json::from_value::<apps::Deployment>(v.clone()).map(|o| {
                    typed(
                        o.metadata.annotations.as_ref(),
                        o.spec.as_ref().and_then(|s| s.template.spec.as_ref()),
                    )
                }),
                "DaemonSet" => serde_json::from_value::<apps::DaemonSet>(v.clone()).map(|o| {
                    typed(
                        o.metadata.annotations.as_ref(),
                        o.spec.as_ref().and_then(|s| s.template.spec.as_ref()),
                    )
                }),
                "ReplicaSet" => serde_json::from_value::<apps::ReplicaSet>(v.clone()).map(|o| {
                    typed(
                        o.metadata.annotations.as_ref(),
                        o.spec
                            .as_ref()
                            .and_then(|s| s.template.as_ref())
                            .and_then(|t| t.spec.as_ref()),
                    )
                }),
                "Job" => serde_json::from_value::<batch::Job>(v.clone()).map(|o| {
                    typed(
                        o.metadata.annotations.as_ref(),
                        o.spec.as_ref().and_then(|s| s.template.spec.as_ref()),
                    )
                }),
                _ => continue,
            }
            .expect("typed");
            assert_eq!(
                from_typed,
                generic(kind, &v),
                "{kind} {}",
                v["metadata"]["name"]
            );
            compared += 1;
        }
        assert!(compared > 50, "{compared} objects compared");
        // Every place of the crafted pod was found (so the equality above is not of nothing).
        assert_eq!(generic("Pod", &objects[0].1).len(), 10);
    }

    #[test]
    fn references_and_paths_are_not_credentials() {
        assert!(!sensitive_key(
            "nginx.ingress.kubernetes.io/auth-secret-name"
        ));
        assert!(!sensitive_key("tokenFile"));
        assert!(sensitive_key("example.com/api-token"));
        assert!(sensitive_key("STRIPE_KEY") && sensitive_key("AWS_SECRET_ACCESS_KEY"));
        assert!(!sensitive_key("KEYCLOAK_REALM") && !sensitive_key("AWS_ACCESS_KEY_ID"));
        assert!(!worth_learning("/etc/secrets/key"));
        assert!(!worth_learning("https://auth.example.com"));
        assert!(!worth_learning("12345678"));
    }
}
