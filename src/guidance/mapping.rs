//! Which guidance applies to a finding: a curated query per category family, answered by
//! retrieval over the corpus (no hard-coded section ids, so a new revision of the model or a
//! replaced corpus still gets cited).

use crate::findings::Category;

/// The question a reviewer would ask of the maturity model about a finding of `c`.
pub fn query_for(c: Category) -> &'static str {
    use Category::*;
    match c {
        Privileged
        | PrivilegeEscalation
        | HostNamespace
        | HostPath
        | RunAsRoot
        | DangerousCapabilities => {
            "security policy production enforce tune policies insecure workarounds"
        }
        NoResourceLimits | NoResourceRequests => {
            "cost efficiency resource usage sustainability optimize"
        }
        CrashLoopBackOff | OOMKilled | ContainerExitError | ProbeFailure | RunContainerError
        | CreateContainerError | Evicted | JobFailed | CronJobFailing | ConditionFailing => {
            "testing issue detection remediation failures aggregate data trends"
        }
        CreateContainerConfigError => {
            "testing issue detection secret management environments remediation"
        }
        ImagePullBackOff | LatestTag => {
            "application release operations release pipeline artifacts security policy"
        }
        RolloutStuck | ReplicasUnavailable | PDBBlocking => {
            "application release operations gitops deployment rollout"
        }
        NoProbes => "testing issue detection observability health",
        ServiceNoEndpoints
        | IngressBackendMissing
        | IngressTLSSecretMissing
        | IngressClassMissing
        | NetworkPolicyNoMatch
        | NetworkPolicyBlocking => {
            "platforms infrastructure load balancing traffic networking policy"
        }
        PVCPending | PVCLost | NodeNotReady | NodePressure | Unschedulable | HPAUnhealthy => {
            "platforms infrastructure capacity placement resource allocation"
        }
    }
}
