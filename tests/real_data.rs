//! Real data written by others (see each folder's PROVENANCE.md): the OpenShift Insights
//! sample archive, a layout Sextant was not built around, and HolmesGPT's evaluation cases
//! that ship plain manifests (no status), as a Git repository would hold them.

mod common;

use common::{data, load};
use sextant::analyzers::analyze;
use sextant::findings::{Category, Finding, Severity};

fn holmes(case: &str) -> Vec<Finding> {
    let state = load(&data("holmes-evals/test_ask_holmes").join(case));
    assert!(
        state.report.manifests_only,
        "{case}: plain manifests are recognised as such"
    );
    analyze(&state)
}

fn has(findings: &[Finding], c: Category, name: &str) -> bool {
    findings
        .iter()
        .any(|f| f.category == c && (f.object.name == name || f.title.contains(name)))
}

fn listing(findings: &[Finding]) -> Vec<String> {
    findings
        .iter()
        .map(|f| format!("{} {} {}", f.category, f.object.name, f.title))
        .collect()
}

#[test]
fn openshift_sample_reads_what_parses_and_reports_the_rest() {
    let state = load(&data("openshift-insights-archive-sample"));
    assert!(state.pods.len() > 30, "pods: {}", state.pods.len());
    assert!(!state.events.is_empty());
    // ClusterOperators parse but have no analyzer: said, not hidden.
    assert_eq!(
        state.report.other_kinds.get("ClusterOperator").copied(),
        Some(31),
        "{:?}",
        state.report
    );
    assert!(!state.report.manifests_only);
}

#[test]
fn openshift_sample_finds_restarting_operators_and_failed_jobs() {
    let findings = analyze(&load(&data("openshift-insights-archive-sample")));
    let l = listing(&findings);
    // Operators that restart with exit 255 (lost leader election) are reported on the pod,
    // grouped under their Deployment.
    for op in [
        "console-operator",
        "etcd-operator",
        "kube-apiserver-operator",
        "authentication-operator",
    ] {
        let f = findings
            .iter()
            .find(|f| {
                f.category == Category::ContainerExitError
                    && f.owner.as_ref().is_some_and(|o| o.name == op)
            })
            .unwrap_or_else(|| panic!("no restart finding for {op}: {l:#?}"));
        assert_eq!(
            f.owner.as_ref().map(|o| o.kind.as_str()),
            Some("Deployment")
        );
        assert!(f.explanation.contains("255"), "{}", f.explanation);
    }
    // Failed pods of the di-288312 jobs are critical.
    let job_failures: Vec<&Finding> = findings
        .iter()
        .filter(|f| {
            f.object.namespace.as_deref() == Some("di-288312")
                && f.category == Category::ContainerExitError
        })
        .collect();
    assert!(job_failures.len() >= 2, "{l:#?}");
    assert!(
        job_failures
            .iter()
            .all(|f| f.severity == Severity::Critical)
    );
    assert!(has(
        &findings,
        Category::CrashLoopBackOff,
        "vsystem-hana-init"
    ));
    assert!(
        findings
            .iter()
            .any(|f| f.category == Category::Unschedulable
                && f.object.namespace.as_deref() == Some("openshift-ingress")),
        "{l:#?}"
    );
}

#[test]
fn holmes_15_readiness_probe_that_always_fails() {
    let f = holmes("15_failed_readiness_probe");
    assert!(
        has(&f, Category::ProbeFailure, "search-engine"),
        "{:#?}",
        listing(&f)
    );
}

#[test]
fn holmes_76_service_selector_matches_nothing() {
    let f = holmes("76_service_discovery_issue");
    let svc = f
        .iter()
        .find(|f| f.category == Category::ServiceNoEndpoints)
        .unwrap_or_else(|| panic!("{:#?}", listing(&f)));
    assert_eq!(svc.object.name, "backend-service");
    assert_eq!(svc.severity, Severity::Critical);
}

#[test]
fn holmes_77_liveness_probe_on_the_wrong_port() {
    let f = holmes("77_liveness_probe_misconfiguration");
    let p = f
        .iter()
        .find(|f| f.category == Category::ProbeFailure)
        .unwrap_or_else(|| panic!("{:#?}", listing(&f)));
    assert!(p.title.contains("8080"), "{}", p.title);
}

#[test]
fn holmes_78a_quota_requires_limits_the_deployment_lacks() {
    let f = holmes("78a_missing_cpu_limits");
    let l = f
        .iter()
        .find(|f| f.category == Category::NoResourceLimits)
        .unwrap_or_else(|| panic!("{:#?}", listing(&f)));
    assert_eq!(l.severity, Severity::Critical, "a quota makes it a failure");
    assert!(l.title.contains("ResourceQuota"), "{}", l.title);
}

#[test]
fn holmes_83_secret_reference_that_does_not_exist() {
    let f = holmes("83_secret_not_found");
    assert!(
        has(&f, Category::CreateContainerConfigError, "database-secret"),
        "{:#?}",
        listing(&f)
    );
}

#[test]
fn holmes_manifests_without_status_make_no_status_findings() {
    // Case 17's OOM only shows at run time; from the manifest alone Sextant must not claim it.
    let f = holmes("17_oom_kill");
    assert!(
        !f.iter().any(|f| matches!(
            f.category,
            Category::OOMKilled | Category::CrashLoopBackOff | Category::ContainerExitError
        )),
        "{:#?}",
        listing(&f)
    );
}
