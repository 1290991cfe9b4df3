//! What the analyzers read of a container's requests and limits ([`PodResources`]), which a
//! state read for `analyze` keeps beside the objects (`state/beside.rs`).
//!
//! Why: k8s-openapi holds requests and limits each in a `BTreeMap`, and a B-tree's first node
//! has room for eleven entries whatever it holds: a container that asks for CPU and memory
//! holds two nodes of 544 bytes for four short pairs. On the realistic dump of
//! `benches/analyze.rs` (one or two containers a pod and a template) they were 18.5 MB of a
//! 236 MB heap; as two sorted lists they are a tenth of that.

use k8s_openapi::api::core::v1::ResourceRequirements;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use std::collections::BTreeMap;

/// A container's requests and limits: each a list of (resource, quantity as written), in the
/// order of the resource's name (as the B-tree they were read from iterates). A container
/// without a section has it empty: no analyzer tells an empty section from a missing one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodResources {
    pub requests: Vec<(String, String)>,
    pub limits: Vec<(String, String)>,
}

/// A container that asks for nothing.
pub(super) static NONE: PodResources = PodResources {
    requests: Vec::new(),
    limits: Vec::new(),
};

impl PodResources {
    /// The quantity requested of `resource`, as written.
    pub fn request(&self, resource: &str) -> Option<&str> {
        find(&self.requests, resource)
    }

    /// The quantity `resource` is limited to, as written.
    pub fn limit(&self, resource: &str) -> Option<&str> {
        find(&self.limits, resource)
    }

    pub fn is_empty(&self) -> bool {
        self.requests.is_empty() && self.limits.is_empty()
    }
}

fn find<'a>(list: &'a [(String, String)], resource: &str) -> Option<&'a str> {
    list.iter()
        .find(|(r, _)| r == resource)
        .map(|(_, q)| q.as_str())
}

impl From<&ResourceRequirements> for PodResources {
    fn from(r: &ResourceRequirements) -> Self {
        PodResources {
            requests: pairs(r.requests.as_ref()),
            limits: pairs(r.limits.as_ref()),
        }
    }
}

fn pairs(m: Option<&BTreeMap<String, Quantity>>) -> Vec<(String, String)> {
    // Collected from the map's own iterator, which knows its length: no room to spare.
    m.map(|m| {
        m.iter()
            .map(|(resource, q)| (resource.clone(), q.0.clone()))
            .collect()
    })
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_as_the_maps_did() {
        let r: ResourceRequirements = serde_json::from_value(serde_json::json!({
            "requests": {"memory": "128Mi", "cpu": "100m"},
            "limits": {"memory": "256Mi"}
        }))
        .expect("resources");
        let slim = PodResources::from(&r);
        assert_eq!(slim.request("cpu"), Some("100m"));
        assert_eq!(slim.limit("memory"), Some("256Mi"));
        assert_eq!(slim.limit("cpu"), None);
        // In the B-tree's order: cpu before memory.
        let names: Vec<_> = slim.requests.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["cpu", "memory"]);
        assert!(PodResources::from(&ResourceRequirements::default()).is_empty());
    }
}
