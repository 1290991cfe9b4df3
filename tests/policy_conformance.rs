//! Policy engines against upstream: every Gatekeeper library suite and every upstream Kyverno
//! and Gatekeeper test bundle (copied under tests/data/policy/ with their PROVENANCE), run by
//! `sextant policy test`'s own code, with the results upstream expects.

mod common;

use sextant::policy::suite;
use std::path::PathBuf;

/// The upstream suites copied for these tests.
fn data(p: &str) -> PathBuf {
    common::data("policy").join(p)
}

#[test]
fn gatekeeper_library_suites_pass_in_process() {
    let r = suite::run_dir(&data("gatekeeper-library")).expect("run");
    let (cel, rego): (Vec<_>, Vec<_>) = r.results.iter().partition(|c| c.case.ends_with(" [cel]"));
    let failed: Vec<&str> = rego
        .iter()
        .filter(|c| !c.passed)
        .map(|c| c.case.as_str())
        .collect();
    // regorus evaluates `not f(x, undefined)` as true where OPA first binds the argument and
    // fails the body (RunAsAny has no `ranges`): the one known difference.
    assert_eq!(failed, vec!["users-and-groups-together/example-allowed"]);
    assert_eq!(r.skipped(), 0);
    assert!(rego.iter().filter(|c| c.passed).count() >= 138);
    // The templates' CEL (K8sNativeValidation) sources, against the same assertions. The
    // seccomp template's CEL selects `spec.securityContext.seccompProfile.type` inside has()
    // on pods without a securityContext: an error in CEL, reported as such.
    // Variables are lazy, as in the API server: the seccomp template's variable that selects
    // `spec.securityContext.seccompProfile.type` on pods without a securityContext is never
    // read by the validations that pass, so every CEL case matches.
    let failed: Vec<String> = cel
        .iter()
        .filter(|c| !c.passed)
        .map(|c| format!("{} {}", c.case, c.got))
        .collect();
    assert!(cel.len() >= 82 && failed.is_empty(), "{failed:#?}");
}

/// Every upstream test bundle of kyverno/policies beyond the folders above (454 suites,
/// 3,724 cases: ClusterPolicy patterns, deny, foreach and CEL; ValidatingPolicy; mutating and
/// generating policies), held to upstream's expected results.
#[test]
fn upstream_conformance_kyverno() {
    let r = suite::run_dir(&data("conformance/kyverno")).expect("run");
    assert!(r.results.len() >= 3700, "{}", r.results.len());
    // No silent wrong verdict: every case Sextant evaluates gives upstream's result.
    let wrong: Vec<String> = r
        .results
        .iter()
        .filter(|c| !c.passed && c.skipped.is_none())
        .map(|c| {
            format!(
                "{} {}: expected {} got {}",
                c.file, c.case, c.expected, c.got
            )
        })
        .collect();
    assert!(wrong.is_empty(), "{wrong:#?}");
    // Mutating and generating policies deny nothing: not evaluated, said per case.
    let not_validating = |why: &str| {
        [
            "mutate rule",
            "generate rule",
            "MutatingPolicy",
            "GeneratingPolicy",
        ]
        .iter()
        .any(|w| why.contains(w))
    };
    let (other, validating): (Vec<_>, Vec<_>) = r
        .results
        .iter()
        .partition(|c| c.skipped.as_deref().is_some_and(not_validating));
    assert!(other.len() >= 170, "{}", other.len());
    let passed = validating.iter().filter(|c| c.passed).count();
    // ≥ 95% of validating policies' cases match upstream (3,447 of 3,544 when this was
    // written); the
    // rest are skipped with their reason (cluster lookups, podSecurity, Secrets never read).
    assert!(
        passed * 100 >= validating.len() * 95,
        "{passed} of {}",
        validating.len()
    );
    for c in validating.iter().filter(|c| !c.passed) {
        let why = c.skipped.as_deref().unwrap_or_default();
        assert!(
            [
                "needs a live cluster",
                "CEL library",
                "podSecurity",
                "never read",
                "foreach `context`",
                "not found",
                "anchor",
            ]
            .iter()
            .any(|k| why.contains(k)),
            "{} {}: {why}",
            c.file,
            c.case
        );
    }
}

/// The Gatekeeper library's test suites beyond the folders above (24 templates, Rego and the
/// CEL sources of 5), as `gator verify` checks them.
#[test]
fn upstream_conformance_gatekeeper() {
    let r = suite::run_dir(&data("conformance/gatekeeper")).expect("run");
    let total = r.results.len();
    let passed = r.results.iter().filter(|c| c.passed).count();
    assert!(
        total >= 180 && passed * 100 >= total * 98,
        "{passed} of {total}"
    );
    // The one difference: regorus refuses `sprintf` with fewer arguments than verbs, where
    // OPA prints `%!v(MISSING)`; the case is skipped with regorus's reason.
    let other: Vec<String> = r
        .results
        .iter()
        .filter(|c| !c.passed)
        .map(|c| format!("{} {:?}", c.case, c.skipped))
        .collect();
    assert_eq!(other.len(), 1, "{other:#?}");
    assert!(
        other[0].starts_with("horizontal-pod-autoscaler/example-disallowed-hpa-replicas")
            && other[0].contains("no argument specified for format verb"),
        "{other:#?}"
    );
}

#[test]
fn kyverno_cel_policies_give_the_expected_results() {
    let mut r = suite::run_dir(&data("kyverno-policies/pod-security-cel")).expect("run");
    r.results.extend(
        suite::run_dir(&data("kyverno-policies/best-practices-cel"))
            .expect("run")
            .results,
    );
    let failed: Vec<String> = r
        .results
        .iter()
        .filter(|c| !c.passed)
        .map(|c| format!("{} {}: {} vs {}", c.file, c.case, c.expected, c.got))
        .collect();
    assert!(failed.is_empty(), "{failed:#?}");
    assert!(r.passed() >= 100, "{}", r.passed());
}

/// Kyverno's pattern and JMESPath policies (`pattern`, `anyPattern`, `deny`, `preconditions`,
/// `foreach`) against their upstream `kyverno-test.yaml`: every evaluated case gives the
/// expected result; rules Sextant does not evaluate are skipped and counted.
#[test]
fn kyverno_pattern_policies_give_the_expected_results() {
    let mut results = Vec::new();
    for group in ["best-practices", "pod-security"] {
        results.extend(
            suite::run_dir(&data(&format!("kyverno-policies/{group}")))
                .expect("run")
                .results,
        );
    }
    let evaluated: Vec<_> = results.iter().filter(|c| c.skipped.is_none()).collect();
    let wrong: Vec<String> = evaluated
        .iter()
        .filter(|c| !c.passed)
        .map(|c| {
            format!(
                "{} {}: expected {} got {}",
                c.file, c.case, c.expected, c.got
            )
        })
        .collect();
    let skipped = results.len() - evaluated.len();
    // Both verdicts are exercised: bad resources fail, good ones pass.
    let count = |want: &str| evaluated.iter().filter(|c| c.expected == want).count();
    eprintln!(
        "  expected pass {}, fail {}, skip {}",
        count("pass"),
        count("fail"),
        count("skip")
    );
    assert!(
        count("pass") >= 100 && count("fail") >= 100,
        "both verdicts exercised"
    );
    eprintln!(
        "kyverno patterns and JMESPath: {} of {} evaluated cases pass; {skipped} skipped",
        evaluated.len() - wrong.len(),
        evaluated.len()
    );
    assert!(wrong.is_empty(), "{wrong:#?}");
    assert!(evaluated.len() >= 1000, "{}", evaluated.len());
}
