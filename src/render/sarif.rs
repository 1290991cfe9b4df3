//! SARIF 2.1.0 (`analyze -o sarif`), for code-scanning dashboards.
//!
//! Meant for manifests checked in CI (`sextant analyze --snapshot k8s/ -o sarif`): each
//! result points at the file and line of the object's `metadata.name`, so GitHub code scanning
//! and similar tools annotate the manifest itself. Objects read from a live cluster or a
//! `kubectl get -o json` list carry only a logical location (namespace/Kind/name). One run per
//! cluster; rules are the finding categories present.

use crate::findings::{CategoryGroup, Finding, Severity};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;

/// One cluster's findings and where its objects came from.
pub struct SarifRun<'a> {
    /// The cluster's name in a fleet (becomes the run's automation id), or `None`.
    pub cluster: Option<&'a str>,
    pub findings: &'a [Finding],
    /// (kind, namespace, name) → file, from [`crate::state::ClusterState::origins`].
    pub origins: &'a BTreeMap<(String, String, String), String>,
}

/// The SARIF log for the runs, pretty-printed.
pub fn sarif_report(runs: &[SarifRun]) -> String {
    let mut cache = Files::default();
    let runs: Vec<Value> = runs.iter().map(|r| run(r, &mut cache)).collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": runs,
    });
    serde_json::to_string_pretty(&doc).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

fn run(r: &SarifRun, files: &mut Files) -> Value {
    // Rules: one per category, in order of first appearance.
    let mut rules: Vec<&Finding> = Vec::new();
    for f in r.findings {
        if !rules.iter().any(|x| x.category == f.category) {
            rules.push(f);
        }
    }
    let rule_index = |f: &Finding| rules.iter().position(|x| x.category == f.category);
    let results: Vec<Value> = r
        .findings
        .iter()
        .map(|f| {
            let mut location = json!({
                "logicalLocations": [{
                    "fullyQualifiedName": logical_name(f),
                    "kind": "resource",
                }]
            });
            let key = (
                f.object.kind.clone(),
                f.object.namespace.clone().unwrap_or_default(),
                f.object.name.clone(),
            );
            // A manifest without a namespace is read into `default`.
            let file = r.origins.get(&key).or_else(|| {
                (key.1 == "default")
                    .then(|| r.origins.get(&(key.0.clone(), String::new(), key.2.clone())))
                    .flatten()
            });
            if let Some(file) = file {
                let line = files.line_of(file, &f.object.kind, &f.object.name);
                location["physicalLocation"] = json!({
                    "artifactLocation": artifact(file),
                    "region": {"startLine": line},
                });
            }
            let mut message = f.title.clone();
            if !f.remediation.is_empty() {
                message.push_str(". Fix: ");
                message.push_str(&f.remediation);
            }
            json!({
                "ruleId": f.category.as_str(),
                "ruleIndex": rule_index(f),
                "level": level(f.severity),
                "message": {"text": message},
                "locations": [location],
                "partialFingerprints": {"sextantFindingId/v1": f.id},
                "properties": {
                    "findingId": f.id,
                    "severity": f.severity.as_str(),
                    "evidence": f.evidence.iter().take(3).map(|e| e.text.clone()).collect::<Vec<_>>(),
                    "guidance": f.guidance.iter().map(|g| format!("{} > {}", g.file, g.heading)).collect::<Vec<_>>(),
                },
            })
        })
        .collect();
    let rules: Vec<Value> = rules.iter().map(|f| rule(f)).collect();
    let mut run = json!({
        "tool": {"driver": {
            "name": "sextant",
            "semanticVersion": env!("CARGO_PKG_VERSION"),
            "informationUri": env!("CARGO_PKG_HOMEPAGE"),
            "rules": rules,
        }},
        "columnKind": "unicodeCodePoints",
        "results": results,
    });
    if let Some(c) = r.cluster {
        run["automationDetails"] = json!({"id": format!("sextant/{c}/")});
    }
    run
}

/// A rule from the first finding of its category.
fn rule(f: &Finding) -> Value {
    let c = f.category;
    let phrase = crate::analyzers::trends::phrase(c);
    let mut help = f.remediation.clone();
    if let Some(g) = f.guidance.first() {
        help.push_str(&format!(
            "\n\nCNCF Cloud Native Maturity Model, Level 4: {} ({})",
            g.heading, g.file
        ));
    }
    if crate::policy::catalog::rule_for(c).is_some() {
        help.push_str(&format!(
            "\n\nDraft a tested policy that prevents it: sextant policy draft {}",
            c.as_str()
        ));
    }
    let mut tags = vec![format!("{:?}", c.group()).to_lowercase()];
    let mut properties = json!({});
    if c.group() == CategoryGroup::Security {
        tags.push("security".into());
        // GitHub's scale: 9.0+ critical, 7.0+ high, 4.0+ medium, below low.
        properties["security-severity"] = json!(match f.severity {
            Severity::Critical => "9.0",
            Severity::Warning => "6.0",
            Severity::Info => "3.0",
        });
    }
    properties["tags"] = json!(tags);
    json!({
        "id": c.as_str(),
        "name": c.as_str(),
        "shortDescription": {"text": format!("{}: workloads {phrase}", c.as_str())},
        "fullDescription": {"text": format!("Kubernetes objects that {phrase}.")},
        "help": {"text": help},
        "defaultConfiguration": {"level": level(f.severity)},
        "properties": properties,
    })
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

fn logical_name(f: &Finding) -> String {
    match &f.object.namespace {
        Some(ns) => format!("{ns}/{}/{}", f.object.kind, f.object.name),
        None => format!("{}/{}", f.object.kind, f.object.name),
    }
}

/// A relative path stays relative to the checkout (`%SRCROOT%`), as code scanning expects;
/// an absolute one inside the working directory is made relative; others become file URIs.
fn artifact(file: &str) -> Value {
    let p = Path::new(file);
    let rel = if p.is_absolute() {
        std::env::current_dir()
            .ok()
            .and_then(|cwd| p.strip_prefix(cwd).ok().map(Path::to_path_buf))
    } else {
        Some(p.strip_prefix("./").unwrap_or(p).to_path_buf())
    };
    match rel {
        Some(r) => json!({
            "uri": r.to_string_lossy().replace('\\', "/"),
            "uriBaseId": "%SRCROOT%",
        }),
        None => json!({"uri": format!("file://{}", p.display())}),
    }
}

/// Manifest texts, read once each.
#[derive(Default)]
struct Files {
    texts: BTreeMap<String, Option<String>>,
}

impl Files {
    fn line_of(&mut self, file: &str, kind: &str, name: &str) -> usize {
        let text = self
            .texts
            .entry(file.to_string())
            .or_insert_with(|| std::fs::read_to_string(file).ok());
        text.as_deref()
            .and_then(|t| locate(t, kind, name))
            .unwrap_or(1)
    }
}

/// The 1-based line of `metadata.name: NAME` in the YAML document of kind `kind` (or of
/// `"name": "NAME"` in JSON); `None` when it cannot be told.
pub fn locate(text: &str, kind: &str, name: &str) -> Option<usize> {
    let unquote = |v: &str| {
        v.trim()
            .trim_end_matches(',')
            .trim_matches(|c| c == '"' || c == '\'')
            .to_string()
    };
    if text.trim_start().starts_with('{') {
        return text
            .lines()
            .position(|l| {
                l.trim_start()
                    .strip_prefix("\"name\":")
                    .is_some_and(|v| unquote(v) == name)
            })
            .map(|i| i + 1);
    }
    let lines: Vec<&str> = text.lines().collect();
    let mut start = 0;
    while start < lines.len() {
        let end = (start + 1..lines.len())
            .find(|&i| lines[i].starts_with("---"))
            .unwrap_or(lines.len());
        let doc = &lines[start..end];
        let is_kind = doc
            .iter()
            .any(|l| l.strip_prefix("kind:").is_some_and(|v| unquote(v) == kind));
        if is_kind {
            // `name:` directly under the top-level `metadata:` (at the indentation of its
            // first field, so a label called `name` does not count).
            let mut in_meta = false;
            let mut indent = None;
            for (i, l) in doc.iter().enumerate() {
                if l.trim().is_empty() || l.trim_start().starts_with('#') {
                    continue;
                }
                if !l.starts_with(' ') {
                    in_meta = l.trim_end() == "metadata:";
                    indent = None;
                    continue;
                }
                let here = l.len() - l.trim_start().len();
                let field = *indent.get_or_insert(here);
                if in_meta
                    && here == field
                    && l.trim_start()
                        .strip_prefix("name:")
                        .is_some_and(|v| unquote(v) == name)
                {
                    return Some(start + i + 1);
                }
            }
        }
        start = end;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_metadata_name_in_the_right_document() {
        let text = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  labels:\n    name: other\n  name: \"web\"\nspec:\n  template:\n    metadata:\n      name: web\n";
        assert_eq!(locate(text, "Service", "web"), Some(4));
        assert_eq!(locate(text, "Deployment", "web"), Some(11));
        assert_eq!(locate(text, "Deployment", "nope"), None);
        let json = "{\n  \"kind\": \"Pod\",\n  \"metadata\": {\n    \"name\": \"api\",\n";
        assert_eq!(locate(json, "Pod", "api"), Some(4));
        let label = "kind: Pod\nmetadata:\n  labels:\n    name: api\n  name: api\n";
        assert_eq!(locate(label, "Pod", "api"), Some(5));
    }
}
