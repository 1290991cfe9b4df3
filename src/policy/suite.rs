//! Policy tests in the upstream formats, run in-process: Kyverno CLI `Test`
//! (`kyverno-test.yaml`), gator `Suite` (`suite.yaml`), and for ValidatingAdmissionPolicies
//! Sextant's `sextant-vap-test.yaml` (Kubernetes has no test format for them). The same
//! runner checks drafted bundles (`sextant policy test DIR`) and the upstream libraries
//! (the conformance tests).

use super::{PolicyError, gatekeeper, kyverno, parse_documents, str_at, vap};
use serde::Serialize;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// One assertion's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct CaseResult {
    /// The test file.
    pub file: String,
    /// `policy/rule kind/name` or the gator test/case name.
    pub case: String,
    pub expected: String,
    pub got: String,
    pub passed: bool,
    /// Why the case could not be run (then it counts as skipped, not passed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
}

/// All results of a folder.
#[derive(Debug, Clone, Serialize, Default)]
pub struct SuiteReport {
    pub results: Vec<CaseResult>,
}

impl SuiteReport {
    pub fn passed(&self) -> usize {
        self.results.iter().filter(|r| r.passed).count()
    }
    pub fn failed(&self) -> usize {
        self.results
            .iter()
            .filter(|r| !r.passed && r.skipped.is_none())
            .count()
    }
    pub fn skipped(&self) -> usize {
        self.results.iter().filter(|r| r.skipped.is_some()).count()
    }
}

/// Find and run every test file under `dir`.
pub fn run_dir(dir: &Path) -> Result<SuiteReport, PolicyError> {
    if !dir.exists() {
        return Err(PolicyError::Io {
            path: dir.to_path_buf(),
            reason: "no such directory".into(),
        });
    }
    let files: Vec<PathBuf> = crate::fswalk::files(dir, &|_| true)
        .map_err(|e| PolicyError::Io {
            path: dir.to_path_buf(),
            reason: e.to_string(),
        })?
        .into_iter()
        .filter(|p| {
            matches!(
                p.file_name().and_then(|n| n.to_str()),
                Some("kyverno-test.yaml" | "suite.yaml" | "sextant-vap-test.yaml")
            )
        })
        .collect();
    let mut report = SuiteReport::default();
    for f in files {
        let name = f.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let results = match name {
            "kyverno-test.yaml" => run_kyverno(&f),
            "suite.yaml" => run_gator(&f),
            _ => run_vap(&f),
        };
        match results {
            Ok(r) => report.results.extend(r),
            Err(e) => report.results.push(CaseResult {
                file: f.display().to_string(),
                case: "(the whole file)".into(),
                expected: "a runnable test".into(),
                got: e.to_string(),
                passed: false,
                skipped: None,
            }),
        }
    }
    Ok(report)
}

fn list<'a>(v: &'a Value, key: &str) -> Vec<&'a str> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn load_all(base: &Path, files: &[&str]) -> Result<Vec<Value>, PolicyError> {
    let mut out = Vec::new();
    for f in files {
        out.extend(parse_documents(&base.join(f))?);
    }
    Ok(out)
}

/// A Kyverno CLI `Test`.
pub fn run_kyverno(file: &Path) -> Result<Vec<CaseResult>, PolicyError> {
    let base = file.parent().unwrap_or(Path::new("."));
    let test = parse_documents(file)?
        .into_iter()
        .next()
        .unwrap_or(Value::Null);
    // Policies are read one by one: one that cannot be read (a kind Sextant does not
    // evaluate, a field it does not know) makes its own cases skipped — counted one by one,
    // never hidden in one row for the file — and the others still run.
    let mut unread: Vec<(String, String)> = Vec::new();
    let mut policies: Vec<kyverno::Policy> = Vec::new();
    let docs = load_all(base, &list(&test, "policies"));
    let read_error = docs.as_ref().err().map(ToString::to_string);
    for d in docs.unwrap_or_default() {
        let Some(kind) = str_at(&d, "/kind").filter(|k| k.ends_with("Policy")) else {
            continue;
        };
        match kyverno::Policy::from_object(&d) {
            Ok(p) => policies.push(p),
            Err(e) => unread.push((
                str_at(&d, "/metadata/name").unwrap_or("").to_string(),
                format!("{kind} not evaluated: {e}"),
            )),
        }
    }
    let values = match str_at(&test, "/variables") {
        Some(f) => load_all(base, &[f])
            .ok()
            .and_then(|d| d.into_iter().next())
            .map(|v| Values::read(&v))
            .unwrap_or_default(),
        None => Values::read(test.get("values").unwrap_or(&Value::Null)),
    };
    let resources = load_all(base, &list(&test, "resources"));
    let resources_error = resources.as_ref().err().map(ToString::to_string);
    let resources = resources.unwrap_or_default();
    let mut out = Vec::new();
    for r in test
        .get("results")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let pname = str_at(r, "/policy").unwrap_or("");
        let pname = pname.rsplit('/').next().unwrap_or(pname);
        let rule = str_at(r, "/rule").unwrap_or("");
        let kind = str_at(r, "/kind").unwrap_or("");
        let expected = str_at(r, "/result").unwrap_or("pass");
        let mut names = list(r, "resources");
        if let Some(n) = str_at(r, "/resource") {
            names.push(n);
        }
        for name in names {
            let base_rule = rule
                .strip_prefix("autogen-cronjob-")
                .or_else(|| rule.strip_prefix("autogen-"))
                .unwrap_or(rule);
            let case = if rule.is_empty() {
                format!("{pname} {kind}/{name}")
            } else {
                format!("{pname}/{rule} {kind}/{name}")
            };
            let policy = policies.iter().find(|p| p.name == pname);
            // `namespace/name` or `name` (a resource without a namespace is in `default`).
            let (ns, bare) = match name.split_once('/') {
                Some((ns, n)) => (Some(ns), n),
                None => (None, name),
            };
            let object = resources.iter().find(|o| {
                str_at(o, "/metadata/name") == Some(bare)
                    && (kind.is_empty() || str_at(o, "/kind") == Some(kind))
                    && ns.is_none_or(|ns| {
                        str_at(o, "/metadata/namespace").unwrap_or("default") == ns
                    })
            });
            let why_unread = unread
                .iter()
                .find(|(n, _)| n == pname)
                .map(|(_, why)| why.clone())
                .or_else(|| read_error.clone())
                .or_else(|| resources_error.clone().filter(|_| object.is_none()));
            let (got, skipped) = match (policy, object) {
                (None, _) | (_, None) if why_unread.is_some() => (String::new(), why_unread),
                (None, _) => (String::new(), Some(format!("policy {pname} not loaded"))),
                (_, None) if kind == "Secret" => (
                    String::new(),
                    Some(format!(
                        "resource Secret/{name}: Secret manifests are never read, by design"
                    )),
                ),
                (_, None) => (
                    String::new(),
                    Some(format!("resource {kind}/{name} not found")),
                ),
                // `autogen-…` names the generated version of a Pod rule.
                (Some(p), Some(o)) => match p.evaluate_named(
                    rule,
                    o,
                    values.namespace_of(o, &resources).as_ref(),
                    &values.for_case(pname, rule, name),
                ) {
                    None if let Some((_, why)) = p
                        .unsupported
                        .iter()
                        .find(|(u, _)| u == base_rule || u.is_empty()) =>
                    {
                        (
                            String::new(),
                            Some(if rule.is_empty() {
                                format!("{pname}: {why}")
                            } else {
                                format!("rule {rule}: {why}")
                            }),
                        )
                    }
                    None => match p.not_validating.iter().find(|(n, _)| n == base_rule) {
                        Some((_, what)) if rule.is_empty() || what.ends_with("Policy") => (
                            String::new(),
                            Some(format!(
                                "{pname} is a {what}: it denies nothing, not evaluated"
                            )),
                        ),
                        Some((_, what)) => (
                            String::new(),
                            Some(format!(
                                "rule {rule} is a {what} rule, which Sextant does not evaluate"
                            )),
                        ),
                        None if rule.is_empty() => (
                            String::new(),
                            Some(format!("the case names no rule and {pname} has several")),
                        ),
                        None => (String::new(), Some(format!("rule {rule} not found"))),
                    },
                    Some(kyverno::Outcome::Error(e)) => (format!("error: {e}"), None),
                    Some(kyverno::Outcome::NotEvaluated(why)) => {
                        (String::new(), Some(format!("rule {rule}: {why}")))
                    }
                    Some(o) => (o.word().to_string(), None),
                },
            };
            out.push(CaseResult {
                file: file.display().to_string(),
                passed: skipped.is_none() && got == expected,
                case,
                expected: expected.to_string(),
                got,
                skipped,
            });
        }
    }
    Ok(out)
}

/// A `kyverno test` values file: values by policy rule and by resource (dotted names →
/// values), and namespace labels for `namespaceSelector`s.
#[derive(Default)]
struct Values {
    global: serde_json::Map<String, Value>,
    /// (policy, rule or resource name, values)
    rules: Vec<(String, String, serde_json::Map<String, Value>)>,
    resources: Vec<(String, String, serde_json::Map<String, Value>)>,
    namespace_labels: Vec<(String, Value)>,
}

impl Values {
    fn read(v: &Value) -> Values {
        let map = |v: Option<&Value>| v.and_then(Value::as_object).cloned().unwrap_or_default();
        let mut out = Values {
            global: map(v.get("globalValues")),
            ..Values::default()
        };
        for p in list_values(v, "policies") {
            let pname = str_at(p, "/name").unwrap_or("").to_string();
            for (key, into) in [("rules", &mut out.rules), ("resources", &mut out.resources)] {
                for r in list_values(p, key) {
                    into.push((
                        pname.clone(),
                        str_at(r, "/name").unwrap_or("").to_string(),
                        map(r.get("values")),
                    ));
                }
            }
        }
        for n in list_values(v, "namespaceSelector") {
            if let Some(name) = str_at(n, "/name") {
                out.namespace_labels.push((
                    name.to_string(),
                    n.get("labels")
                        .cloned()
                        .unwrap_or_else(|| serde_json::json!({})),
                ));
            }
        }
        out
    }

    /// The values of one case: global, then the rule's, then the resource's.
    fn for_case(&self, policy: &str, rule: &str, resource: &str) -> serde_json::Map<String, Value> {
        let resource = resource.rsplit('/').next().unwrap_or(resource);
        let mut out = self.global.clone();
        for (p, r, v) in &self.rules {
            if p == policy && r == rule {
                out.extend(v.clone());
            }
        }
        for (p, r, v) in &self.resources {
            if p == policy && r == resource {
                out.extend(v.clone());
            }
        }
        out
    }

    /// The Namespace `o` lives in: from the test's resources, else from the values' labels.
    fn namespace_of(&self, o: &Value, resources: &[Value]) -> Option<Value> {
        let ns = str_at(o, "/metadata/namespace")?;
        resources
            .iter()
            .find(|r| {
                str_at(r, "/kind") == Some("Namespace") && str_at(r, "/metadata/name") == Some(ns)
            })
            .cloned()
            .or_else(|| {
                let (_, labels) = self.namespace_labels.iter().find(|(n, _)| n == ns)?;
                Some(serde_json::json!({"apiVersion": "v1", "kind": "Namespace",
                    "metadata": {"name": ns, "labels": labels}}))
            })
    }
}

fn list_values<'a>(v: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    v.get(key).and_then(Value::as_array).into_iter().flatten()
}

/// A gator `Suite`.
pub fn run_gator(file: &Path) -> Result<Vec<CaseResult>, PolicyError> {
    let base = file.parent().unwrap_or(Path::new("."));
    let suite = parse_documents(file)?
        .into_iter()
        .next()
        .unwrap_or(Value::Null);
    let mut out = Vec::new();
    for t in suite
        .get("tests")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let tname = str_at(t, "/name").unwrap_or("");
        let template = load_all(base, &[str_at(t, "/template").unwrap_or("")]).and_then(|d| {
            d.first()
                .map(gatekeeper::Template::from_object)
                .unwrap_or_else(|| {
                    Err(PolicyError::Invalid {
                        what: tname.into(),
                        why: "empty template file".into(),
                    })
                })
        });
        let constraint = load_all(base, &[str_at(t, "/constraint").unwrap_or("")]).and_then(|d| {
            d.first()
                .map(gatekeeper::Constraint::from_object)
                .unwrap_or_else(|| {
                    Err(PolicyError::Invalid {
                        what: tname.into(),
                        why: "empty constraint file".into(),
                    })
                })
        });
        for c in t
            .get("cases")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let case = format!("{tname}/{}", str_at(c, "/name").unwrap_or(""));
            let mut result = CaseResult {
                file: file.display().to_string(),
                case,
                expected: String::new(),
                got: String::new(),
                passed: false,
                skipped: None,
            };
            let (tpl, con) = match (&template, &constraint) {
                (Ok(t), Ok(c)) => (t, c),
                (Err(e), _) | (_, Err(e)) => {
                    result.got = format!("error: {e}");
                    result.expected = "a loadable template and constraint".into();
                    out.push(result);
                    continue;
                }
            };
            match gator_case(base, tpl, con, c) {
                Ok(outcomes) => {
                    for (suffix, (expected, got, passed)) in outcomes {
                        let mut r = result.clone();
                        r.case.push_str(&suffix);
                        r.expected = expected;
                        r.got = got;
                        r.passed = passed;
                        out.push(r);
                    }
                }
                Err(Skip(why)) => {
                    result.skipped = Some(why);
                    out.push(result);
                }
            }
        }
    }
    Ok(out)
}

struct Skip(String);

/// One gator case: the Rego verdict, and the CEL one (case name suffixed ` [cel]`) when the
/// template has a K8sNativeValidation source.
type CaseOutcome = (String, (String, String, bool));

fn gator_case(
    base: &Path,
    template: &gatekeeper::Template,
    constraint: &gatekeeper::Constraint,
    c: &Value,
) -> Result<Vec<CaseOutcome>, Skip> {
    let object_file = str_at(c, "/object").ok_or_else(|| Skip("case has no object".into()))?;
    let docs = parse_documents(&base.join(object_file)).map_err(|e| Skip(e.to_string()))?;
    let object = docs.first().cloned().unwrap_or(Value::Null);
    let mut tpl = template.clone();
    let inventory: Vec<Value> = list(c, "inventory")
        .iter()
        .filter_map(|f| parse_documents(&base.join(f)).ok())
        .flatten()
        .collect();
    tpl.set_inventory(&inventory)
        .map_err(|e| Skip(e.to_string()))?;
    // An AdmissionReview object carries the review itself (UPDATE, DELETE, oldObject).
    let (review, subject) = if str_at(&object, "/kind") == Some("AdmissionReview") {
        let req = object.get("request").cloned().unwrap_or(Value::Null);
        let subject = req
            .get("object")
            .filter(|o| !o.is_null())
            .or_else(|| req.get("oldObject"))
            .cloned()
            .unwrap_or(Value::Null);
        (req, subject)
    } else {
        (gatekeeper::review(&object, "CREATE", None), object.clone())
    };
    let matched = constraint.matches(&subject);
    let violations = if matched {
        tpl.review(&review, &constraint.parameters)
            .map_err(|e| Skip(e.to_string()))?
    } else {
        Vec::new()
    };
    let mut out = vec![(String::new(), assert_violations(c, &violations))];
    // The template's CEL source, when it has one, must agree with the same assertions.
    if let Some(cel) = tpl.cel_violations(&review, &subject, &constraint.parameters) {
        let r = match (matched, cel) {
            (false, _) => assert_violations(c, &[]),
            (true, Ok(v)) => assert_violations(c, &v),
            (true, Err(e)) => {
                let (expected, _, _) = assert_violations(c, &[]);
                (expected, format!("error: {e}"), false)
            }
        };
        out.push((" [cel]".to_string(), r));
    }
    Ok(out)
}

/// Check a gator case's assertions against violations: (expected, got, passed).
fn assert_violations(c: &Value, violations: &[gatekeeper::Violation]) -> (String, String, bool) {
    let mut expected = Vec::new();
    let mut ok = true;
    for a in c
        .get("assertions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let filter = str_at(a, "/message");
        let n = violations
            .iter()
            .filter(|v| filter.is_none_or(|m| v.msg.contains(m)))
            .count();
        let want = a.get("violations").cloned().unwrap_or(Value::from("yes"));
        let pass = match (&want, want.as_str(), want.as_u64()) {
            (_, Some("yes"), _) => n > 0,
            (_, Some("no"), _) => n == 0,
            (_, _, Some(k)) => n as u64 == k,
            (Value::Bool(true), _, _) => n > 0,
            (Value::Bool(false), _, _) => n == 0,
            _ => false,
        };
        ok &= pass;
        expected.push(format!(
            "violations: {}{}",
            match &want {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            },
            filter.map(|m| format!(" ~ {m:?}")).unwrap_or_default()
        ));
    }
    let msgs: Vec<&str> = violations.iter().map(|v| v.msg.as_str()).collect();
    let got = if msgs.is_empty() {
        "0 violations".to_string()
    } else {
        format!("{} violation(s): {}", msgs.len(), msgs.join("; "))
    };
    (expected.join(", "), got, ok)
}

/// Sextant's VAP test: `policies` (policy, binding and param files) and `cases`
/// (`object` file, `expect: deny|admit`, optional `message` substring).
pub fn run_vap(file: &Path) -> Result<Vec<CaseResult>, PolicyError> {
    let base = file.parent().unwrap_or(Path::new("."));
    let test = parse_documents(file)?
        .into_iter()
        .next()
        .unwrap_or(Value::Null);
    let docs = load_all(base, &list(&test, "policies"))?;
    let mut policies = Vec::new();
    let mut bindings = Vec::new();
    let mut params = Vec::new();
    for d in &docs {
        match str_at(d, "/kind").unwrap_or("") {
            "ValidatingAdmissionPolicy" => policies.push(vap::Policy::from_object(d)?),
            "ValidatingAdmissionPolicyBinding" => bindings.push(vap::Binding::from_object(d)?),
            _ => params.push(d.clone()),
        }
    }
    let mut out = Vec::new();
    for c in test
        .get("cases")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let object_file = str_at(c, "/object").unwrap_or("");
        let expected = str_at(c, "/expect").unwrap_or("deny").to_string();
        let objects = parse_documents(&base.join(object_file))?;
        let object = objects.first().cloned().unwrap_or(Value::Null);
        let mut denied: Option<String> = None;
        let mut error = None;
        for p in &policies {
            for b in bindings.iter().filter(|b| b.policy == p.name) {
                let param = p.param_kind.as_deref().and_then(|k| b.params(k, &params));
                match p.evaluate(&object, Some(b), param) {
                    vap::Verdict::Deny(m) => denied = denied.or(Some(m)),
                    vap::Verdict::Error(e) => error = Some(e),
                    _ => {}
                }
            }
        }
        let got = match (&error, &denied) {
            (Some(e), _) => format!("error: {e}"),
            (None, Some(_)) => "deny".to_string(),
            (None, None) => "admit".to_string(),
        };
        let message_ok = match (str_at(c, "/message"), &denied) {
            (Some(m), Some(d)) => d.contains(m),
            (Some(_), None) => false,
            (None, _) => true,
        };
        out.push(CaseResult {
            file: file.display().to_string(),
            case: format!("{object_file} {}", str_at(c, "/name").unwrap_or("")),
            passed: got == expected && (expected != "deny" || message_ok),
            expected,
            got: match &denied {
                Some(m) if error.is_none() => format!("deny: {m}"),
                _ => got,
            },
            skipped: None,
        });
    }
    Ok(out)
}

/// Write a draft's bundle under `dir/<policy>/<engine>/` (`dir/<policy>/<finding id>/<engine>/`
/// for a finding's draft, so two findings of one category never overwrite each other):
/// policies, the offending and fixed objects, and the test file of that engine; plus
/// `fix.diff` and `patch.sh`.
pub fn write_bundle(dir: &Path, d: &super::draft::Draft) -> Result<Vec<PathBuf>, PolicyError> {
    use super::draft::Scope;
    use super::{Engine, to_yaml};
    let root = match &d.finding {
        Some(id) => dir.join(&d.policy).join(id),
        None => dir.join(&d.policy),
    };
    let mut written = Vec::new();
    let mut write = |path: PathBuf, text: &str| -> Result<(), PolicyError> {
        if let Some(p) = path.parent() {
            std::fs::create_dir_all(p).map_err(|e| PolicyError::Io {
                path: p.to_path_buf(),
                reason: e.to_string(),
            })?;
        }
        std::fs::write(&path, text).map_err(|e| PolicyError::Io {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        written.push(path);
        Ok(())
    };
    let kind = str_at(&d.offending, "/kind").unwrap_or("Pod").to_string();
    let name = str_at(&d.offending, "/metadata/name")
        .unwrap_or("x")
        .to_string();
    let mut fixed = d.fixed.clone();
    let fixed_name = format!("{name}-fixed");
    fixed["metadata"]["name"] = Value::from(fixed_name.clone());
    write(root.join("fix.diff"), &d.diff)?;
    write(
        root.join("patch.sh"),
        &format!(
            "#!/bin/sh\n# Suggested by Sextant; review before running. Never applied by Sextant.\n{}\n",
            d.patch
        ),
    )?;
    for e in d.drafts.iter().filter(|e| e.proof.passed()) {
        let sub = root.join(e.engine.as_str());
        let scoped = |f: &str| match &e.scope {
            Scope::Cluster => f.to_string(),
            Scope::Namespace(ns) => f.replace(".yaml", &format!(".namespace-{ns}.yaml")),
        };
        for (f, text) in &e.files {
            // The template (and the VAP itself) is the same at every scope: only the
            // constraint or binding differs.
            if (f == "template.yaml" || (e.engine == Engine::Vap && f == "policy.yaml"))
                && e.scope != Scope::Cluster
            {
                continue;
            }
            write(sub.join(scoped(f)), text)?;
        }
        if e.scope != Scope::Cluster {
            continue;
        }
        match e.engine {
            Engine::Kyverno | Engine::KyvernoClusterPolicy => {
                let resources = format!("{}---\n{}", to_yaml(&d.offending), to_yaml(&fixed));
                write(sub.join("resources.yaml"), &resources)?;
                let result = |resource: &str, result: &str| {
                    let mut r = serde_json::json!({"policy": d.policy, "kind": kind,
                        "resources": [resource], "result": result});
                    if e.engine == Engine::Kyverno {
                        r["isValidatingPolicy"] = true.into();
                    } else {
                        r["rule"] = d.policy.trim_start_matches("sextant-").into();
                    }
                    r
                };
                let test = serde_json::json!({
                    "apiVersion": "cli.kyverno.io/v1alpha1",
                    "kind": "Test",
                    "metadata": {"name": d.policy},
                    "policies": ["policy.yaml"],
                    "resources": ["resources.yaml"],
                    "results": [result(&name, "fail"), result(&fixed_name, "pass")],
                });
                write(sub.join("kyverno-test.yaml"), &to_yaml(&test))?;
            }
            Engine::Gatekeeper => {
                write(
                    sub.join("samples/example_disallowed.yaml"),
                    &to_yaml(&d.offending),
                )?;
                write(sub.join("samples/example_allowed.yaml"), &to_yaml(&fixed))?;
                let suite = serde_json::json!({
                    "apiVersion": "test.gatekeeper.sh/v1alpha1",
                    "kind": "Suite",
                    "metadata": {"name": d.policy},
                    "tests": [{"name": d.policy, "template": "template.yaml", "constraint": "constraint.yaml",
                        "cases": [
                            {"name": "offending", "object": "samples/example_disallowed.yaml", "assertions": [{"violations": "yes"}]},
                            {"name": "fixed", "object": "samples/example_allowed.yaml", "assertions": [{"violations": "no"}]},
                        ]}],
                });
                write(sub.join("suite.yaml"), &to_yaml(&suite))?;
            }
            Engine::Vap => {
                write(sub.join("objects/offending.yaml"), &to_yaml(&d.offending))?;
                write(sub.join("objects/fixed.yaml"), &to_yaml(&fixed))?;
                let denied = e.proof.denied.as_deref().unwrap_or("");
                let test = serde_json::json!({
                    "apiVersion": "sextant.dev/v1alpha1",
                    "kind": "VapTest",
                    "policies": ["policy.yaml", "binding.yaml"],
                    "cases": [
                        {"name": "offending", "object": "objects/offending.yaml", "expect": "deny", "message": denied.split(':').next().unwrap_or("")},
                        {"name": "fixed", "object": "objects/fixed.yaml", "expect": "admit"},
                    ],
                });
                write(sub.join("sextant-vap-test.yaml"), &to_yaml(&test))?;
            }
        }
    }
    Ok(written)
}
