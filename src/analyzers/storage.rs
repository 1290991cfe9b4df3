//! PersistentVolumeClaims that do not bind (Pending) or lost their volume (Lost).

use super::{Context, Draft, evidence};
use crate::findings::{Category, ObjectRef, Severity};

pub fn analyze(ctx: &Context, out: &mut Vec<Draft>) {
    let st = ctx.state;
    for pvc in &st.pvcs {
        let Some(phase) = pvc.status.as_ref().and_then(|s| s.phase.as_deref()) else {
            continue;
        };
        if phase != "Pending" && phase != "Lost" {
            continue;
        }
        let ns = pvc.metadata.namespace.as_deref().unwrap_or("default");
        let name = pvc.metadata.name.as_deref().unwrap_or("");
        let class = pvc.spec.as_ref().and_then(|s| s.storage_class_name.clone());
        let events = st.events_for("PersistentVolumeClaim", &pvc.metadata);
        // A claim whose class binds on first use waits, by design, until a pod uses it: that
        // is not a failure while no pod does (the controller says so with a Normal event).
        let waits_for_consumer = phase == "Pending"
            && (events
                .iter()
                .max_by_key(|e| crate::state::event_time(e))
                .is_some_and(|e| e.reason.as_deref() == Some("WaitForFirstConsumer"))
                || class.as_ref().is_some_and(|c| {
                    st.storage_classes.iter().any(|sc| {
                        sc.metadata.name.as_deref() == Some(c.as_str())
                            && sc.volume_binding_mode.as_deref() == Some("WaitForFirstConsumer")
                    })
                }));
        let users: Vec<&str> = st
            .pods
            .iter()
            .filter(|p| p.metadata.namespace.as_deref() == Some(ns))
            .filter(|p| {
                p.spec.as_ref().is_some_and(|s| {
                    st.volumes_of("Pod", &p.metadata, s)
                        .iter()
                        .any(|v| v.claim.as_deref() == Some(name))
                })
            })
            .filter_map(|p| p.metadata.name.as_deref())
            .collect();
        if waits_for_consumer && users.is_empty() {
            continue;
        }
        let mut d = Draft {
            severity: if phase == "Lost" || !users.is_empty() {
                Severity::Critical
            } else {
                Severity::Warning
            },
            category: if phase == "Lost" {
                Category::PVCLost
            } else {
                Category::PVCPending
            },
            object: ObjectRef::new("PersistentVolumeClaim", Some(ns), name),
            owner: None,
            title: String::new(),
            explanation: String::new(),
            evidence: Vec::new(),
            remediation: String::new(),
            score: 1 + users.len() as u64,
        };
        let blocked = if users.is_empty() {
            String::new()
        } else {
            format!(" Pods waiting for it: {}.", users.join(", "))
        };
        if phase == "Lost" {
            let pv = pvc
                .spec
                .as_ref()
                .and_then(|s| s.volume_name.clone())
                .unwrap_or_default();
            d.title = format!("PersistentVolumeClaim {name} lost its volume {pv}");
            d.explanation = format!(
                "Claim {name} was bound to PersistentVolume {pv}, which no longer exists; its data is unreachable.{blocked}"
            );
            d.remediation = format!(
                "Restore PersistentVolume {pv} from backup (or re-create it pointing at the same disk), or delete and re-create the claim if the data is expendable."
            );
        } else {
            let provisioning = events
                .iter()
                .rev()
                .find(|e| {
                    matches!(
                        e.reason.as_deref(),
                        Some("ProvisioningFailed")
                            | Some("FailedBinding")
                            | Some("ExternalProvisioning")
                    )
                })
                .and_then(|e| e.message.clone());
            let class_missing = class.as_ref().filter(|c| {
                (!st.storage_classes.is_empty()
                    && !st
                        .storage_classes
                        .iter()
                        .any(|sc| sc.metadata.name.as_deref() == Some(c.as_str())))
                    || provisioning
                        .as_deref()
                        .is_some_and(|m| m.contains("not found") && m.contains(c.as_str()))
            });
            d.title = match &class_missing {
                Some(c) => format!(
                    "PersistentVolumeClaim {name} is Pending: StorageClass {c} does not exist"
                ),
                None => format!("PersistentVolumeClaim {name} is Pending"),
            };
            d.explanation = match (&class_missing, &provisioning) {
                (Some(c), _) => format!(
                    "Claim {name} asks for StorageClass {c}, which does not exist, so no volume is provisioned and it stays Pending.{blocked}"
                ),
                (None, Some(m)) => format!("Claim {name} cannot be provisioned: \"{m}\".{blocked}"),
                (None, None) => format!(
                    "Claim {name} is not bound: no PersistentVolume matches it and no provisioner created one (StorageClass {}).{blocked}",
                    class.as_deref().unwrap_or("<default>")
                ),
            };
            let classes: Vec<&str> = st
                .storage_classes
                .iter()
                .filter_map(|s| s.metadata.name.as_deref())
                .collect();
            d.remediation = match &class_missing {
                Some(c) => format!(
                    "Use an existing StorageClass{} — storageClassName is immutable, so re-create the claim: `kubectl -n {ns} get pvc {name} -o yaml > pvc.yaml`, change storageClassName from {c}, delete and apply.",
                    if classes.is_empty() { String::new() } else { format!(" ({})", classes.join(", ")) }
                ),
                None => "Check the StorageClass's provisioner is running and the requested size/access mode is possible (`kubectl describe storageclass`).".into(),
            };
        }
        d.evidence.push(evidence::status(
            format!(
                "status.phase={phase} storageClassName={}",
                class.as_deref().unwrap_or("<default>")
            ),
            "PersistentVolumeClaim",
            ns,
            name,
        ));
        d.evidence.extend(evidence::events(
            &events,
            false,
            "PersistentVolumeClaim",
            ns,
            name,
        ));
        out.push(d);
    }
}
