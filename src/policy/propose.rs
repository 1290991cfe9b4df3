//! Policies a model proposes for a free-text request ("require a team label on every
//! namespace"): the model answers with the policy and two example objects — one the policy
//! must deny, one it must admit — and the answer goes through the same in-process proof as
//! Sextant's own drafts. A failure (unparsable YAML, a missing document, the wrong verdict)
//! is sent back to the model with the exact reason, at most [`MAX_ATTEMPTS`] times in all;
//! then the request is refused. Nothing unproven is returned.
//!
//! The model is a closure (messages in, text out), so the loop is tested without HTTP.

use super::Engine;
use super::draft::{Proof, prove};
use crate::jsonptr::Pointer as _;
use serde_json::Value;
use std::collections::BTreeMap;

/// Answers the model may give for one request, the first included.
pub const MAX_ATTEMPTS: usize = 3;

/// A proven proposal.
#[derive(Debug, Clone)]
pub struct Proposal {
    pub request: String,
    pub engine: Engine,
    /// File name (as Sextant's drafts name them) → YAML.
    pub files: BTreeMap<String, String>,
    pub offending: Value,
    pub fixed: Value,
    pub proof: Proof,
    /// How many answers it took.
    pub attempts: usize,
}

/// Why nothing is shown.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Refusal {
    #[error("the model's policy failed its proof {attempts} time(s); last: {last}")]
    Unproven { attempts: usize, last: String },
    #[error("the model did not answer: {0}")]
    Model(String),
}

/// Run the proposal loop. `messages` are the system prompt and the rendered request; `ask`
/// sends a conversation and returns the model's text.
pub fn propose(
    request: &str,
    engine: Engine,
    messages: Vec<(&'static str, String)>,
    mut ask: impl FnMut(&[(&'static str, String)]) -> Result<String, String>,
) -> Result<Proposal, Refusal> {
    let mut messages = messages;
    let mut last = String::new();
    for attempt in 1..=MAX_ATTEMPTS {
        let answer = ask(&messages).map_err(Refusal::Model)?;
        match check(engine, &answer) {
            Ok((files, offending, fixed, proof)) => {
                return Ok(Proposal {
                    request: request.to_string(),
                    engine,
                    files,
                    offending,
                    fixed,
                    proof,
                    attempts: attempt,
                });
            }
            Err(why) => {
                tracing::info!(attempt, why = %why, "proposed policy rejected");
                last = why.clone();
                messages.push(("assistant", answer));
                messages.push((
                    "user",
                    format!(
                        "Your answer was evaluated and rejected: {why}\nReply again with the three fenced blocks (```yaml policy, ```yaml offending, ```yaml fixed), corrected."
                    ),
                ));
            }
        }
    }
    Err(Refusal::Unproven {
        attempts: MAX_ATTEMPTS,
        last,
    })
}

/// What the prompt says each engine's answer must look like (the evaluators read these).
pub fn engine_rules(engine: Engine) -> &'static str {
    match engine {
        Engine::Kyverno => {
            "A policies.kyverno.io/v1 ValidatingPolicy on Pods (`matchConstraints.resourceRules` for `pods`, CEL `validations` each with a `messageExpression`, optional `variables`, `validationActions: [Audit]`); Kyverno generates it for pod controllers itself."
        }
        Engine::KyvernoClusterPolicy => {
            "A kyverno.io/v1 ClusterPolicy whose rules validate with `validate.cel` (CEL `expressions`, each with a `messageExpression`; no pattern, anyPattern or deny rules), `failureAction: Audit` in each rule's `validate`, `background: true`."
        }
        Engine::Gatekeeper => {
            "A templates.gatekeeper.sh/v1 ConstraintTemplate (target admission.k8s.gatekeeper.sh, Rego v0 syntax, rules `violation[{\"msg\": msg}]` over `input.review.object` and `input.parameters`) and one Constraint of the template's kind with `enforcementAction: dryrun` and `match.kinds`."
        }
        Engine::Vap => {
            "An admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy (`matchConstraints.resourceRules`, CEL `validations` each with a `messageExpression`) and a ValidatingAdmissionPolicyBinding for it with `validationActions: [Warn, Audit]`."
        }
    }
}

type Checked = (BTreeMap<String, String>, Value, Value, Proof);

/// Parse an answer into files and objects, and prove it.
pub fn check(engine: Engine, answer: &str) -> Result<Checked, String> {
    let blocks = fenced_blocks(answer);
    let block = |label: &str| {
        blocks
            .iter()
            .find(|(info, _)| info.split_whitespace().any(|w| w == label))
            .map(|(_, body)| body.as_str())
            .ok_or_else(|| format!("no ```yaml {label} block"))
    };
    let docs = parse_docs(block("policy")?).map_err(|e| format!("policy YAML: {e}"))?;
    let object = |label: &str| -> Result<Value, String> {
        let mut v = parse_docs(block(label)?).map_err(|e| format!("{label} YAML: {e}"))?;
        match v.len() {
            1 => Ok(v.remove(0)),
            n => Err(format!("the {label} block must hold one object, not {n}")),
        }
    };
    let (offending, fixed) = (object("offending")?, object("fixed")?);
    for (label, o) in [("offending", &offending), ("fixed", &fixed)] {
        if o.get("kind").and_then(Value::as_str).is_none()
            || o.at("/metadata/name").and_then(Value::as_str).is_none()
        {
            return Err(format!("the {label} object needs a kind and metadata.name"));
        }
    }
    let files = files_for(engine, &docs)?;
    let proof = prove(engine, &files, &offending, &fixed);
    if !proof.passed() {
        let mut why = Vec::new();
        if let Err(e) = &proof.denied {
            why.push(format!("the offending object was not denied ({e})"));
        }
        if let Err(e) = &proof.admitted {
            why.push(format!("the fixed object was not admitted ({e})"));
        }
        return Err(why.join("; "));
    }
    Ok((files, offending, fixed, proof))
}

/// The documents of an engine under the file names the evaluators read.
fn files_for(engine: Engine, docs: &[Value]) -> Result<BTreeMap<String, String>, String> {
    let kind_of = |d: &Value| {
        d.get("kind")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let mut files = BTreeMap::new();
    let mut put = |name: &str, d: &Value| {
        files.insert(name.to_string(), super::to_yaml(d));
    };
    let find = |pred: &dyn Fn(&str) -> bool| docs.iter().find(|d| pred(&kind_of(d)));
    match engine {
        Engine::Kyverno => {
            let p = find(&|k| k == "ValidatingPolicy")
                .ok_or("no Kyverno ValidatingPolicy in the policy block")?;
            put("policy.yaml", p);
        }
        Engine::KyvernoClusterPolicy => {
            let p = find(&|k| k == "ClusterPolicy" || k == "Policy")
                .ok_or("no Kyverno ClusterPolicy in the policy block")?;
            put("policy.yaml", p);
        }
        Engine::Gatekeeper => {
            let t = find(&|k| k == "ConstraintTemplate")
                .ok_or("no ConstraintTemplate in the policy block")?;
            let c = find(&|k| !k.is_empty() && k != "ConstraintTemplate")
                .ok_or("no Constraint (of the template's kind) in the policy block")?;
            put("template.yaml", t);
            put("constraint.yaml", c);
        }
        Engine::Vap => {
            let p = find(&|k| k == "ValidatingAdmissionPolicy")
                .ok_or("no ValidatingAdmissionPolicy in the policy block")?;
            let b = find(&|k| k == "ValidatingAdmissionPolicyBinding")
                .ok_or("no ValidatingAdmissionPolicyBinding in the policy block")?;
            put("policy.yaml", p);
            put("binding.yaml", b);
        }
    }
    Ok(files)
}

/// Every YAML document of a block (empty ones skipped), parsed as every untrusted YAML in
/// Sextant is (the snapshot reader's budgeted parser).
fn parse_docs(text: &str) -> Result<Vec<Value>, String> {
    Ok(crate::source::snapshot::parse_text(text, false)?
        .into_iter()
        .filter(|v| !v.is_null())
        .collect())
}

/// (info string, body) of every fenced block.
fn fenced_blocks(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut open: Option<(String, String)> = None;
    for line in text.lines() {
        let t = line.trim_start();
        match (&mut open, t.strip_prefix("```")) {
            (None, Some(info)) => open = Some((info.trim().to_lowercase(), String::new())),
            (Some(_), Some(_)) => out.extend(open.take()),
            (Some((_, body)), None) => {
                body.push_str(line);
                body.push('\n');
            }
            (None, None) => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const VAP_OK: &str = r#"Here it is.
```yaml policy
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: require-team-label
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
    - apiGroups: [""]
      apiVersions: ["v1"]
      operations: ["CREATE", "UPDATE"]
      resources: ["namespaces"]
  validations:
  - expression: "has(object.metadata.labels) && 'team' in object.metadata.labels"
    messageExpression: "'namespace ' + object.metadata.name + ' needs a team label'"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: require-team-label
spec:
  policyName: require-team-label
  validationActions: [Warn, Audit]
```
```yaml offending
apiVersion: v1
kind: Namespace
metadata:
  name: scratch
```
```yaml fixed
apiVersion: v1
kind: Namespace
metadata:
  name: scratch
  labels:
    team: payments
```
"#;

    fn vap_request() -> Vec<(&'static str, String)> {
        vec![
            ("system", "sys".to_string()),
            ("user", "require a team label".to_string()),
        ]
    }

    #[test]
    fn a_proven_answer_is_accepted_first_time() {
        let mut calls = 0;
        let p = propose("require a team label", Engine::Vap, vap_request(), |_| {
            calls += 1;
            Ok(VAP_OK.to_string())
        })
        .expect("proposal");
        assert_eq!((p.attempts, calls), (1, 1));
        assert_eq!(
            p.proof.denied.as_deref(),
            Ok("namespace scratch needs a team label")
        );
        assert!(p.files.contains_key("binding.yaml"));
    }

    #[test]
    fn a_failure_is_fed_back_and_the_retry_accepted() {
        // First answer: the condition inverted (denies the fixed namespace).
        let broken = VAP_OK.replace(
            "has(object.metadata.labels) && 'team' in object.metadata.labels",
            "!(has(object.metadata.labels) && 'team' in object.metadata.labels)",
        );
        let mut seen: Vec<Vec<(&'static str, String)>> = Vec::new();
        let p = propose("require a team label", Engine::Vap, vap_request(), |m| {
            seen.push(m.to_vec());
            Ok(if seen.len() == 1 {
                broken.clone()
            } else {
                VAP_OK.to_string()
            })
        })
        .expect("proposal");
        assert_eq!(p.attempts, 2);
        let second = &seen[1];
        assert_eq!(
            second.len(),
            4,
            "system, request, the broken answer, the feedback"
        );
        assert_eq!(second[2].0, "assistant");
        assert!(
            second[3].1.contains("the offending object was not denied")
                && second[3].1.contains("the fixed object was not admitted"),
            "{}",
            second[3].1
        );
    }

    #[test]
    fn bounded_then_refused() {
        let mut calls = 0;
        let r = propose("x", Engine::Vap, vap_request(), |_| {
            calls += 1;
            Ok("I cannot write YAML today.".to_string())
        })
        .expect_err("refused");
        assert_eq!(calls, MAX_ATTEMPTS);
        assert!(r.to_string().contains("no ```yaml policy block"), "{r}");
        // The wrong engine's documents are named as missing.
        let e = check(Engine::Gatekeeper, VAP_OK).expect_err("not gatekeeper");
        assert!(e.contains("no ConstraintTemplate"), "{e}");
        // A model error ends the loop at once.
        let r = propose("x", Engine::Vap, vap_request(), |_| Err("HTTP 401".into()))
            .expect_err("model");
        assert!(matches!(r, Refusal::Model(_)));
    }
}
