//! Names that point at nothing, judged from specs (plain manifests, or workloads whose pods are
//! not in the capture), and hygiene for pods whose controller is not in the capture.

mod common;

use common::analyze_yaml;
use sextant::findings::{Category, Finding, Severity};

fn titles(f: &[Finding]) -> Vec<String> {
    f.iter()
        .map(|f| format!("{} {} {}", f.severity, f.category, f.title))
        .collect()
}

const DEPLOY: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: shop, namespace: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: shop}}
  template:
    metadata: {labels: {app: shop}}
    spec:
      containers:
      - name: app
        image: shop:1.4
        env:
        - name: MODE
          valueFrom: {configMapKeyRef: {name: shop-confg, key: mode}}
        - name: OPTIONAL
          valueFrom: {configMapKeyRef: {name: nowhere, key: x, optional: true}}
        envFrom:
        - secretRef: {name: shop-db}
      volumes:
      - name: certs
        projected:
          sources:
          - configMap: {name: kube-root-ca.crt}
          - secret: {name: shop-tls}
      - name: tls
        secret: {secretName: shop-certs}
      - name: assets
        configMap: {name: shop-assets}
      - name: kube-api-access-x7k2p
        projected:
          sources:
          - serviceAccountToken: {expirationSeconds: 3607, path: token}
          - configMap: {name: kube-root-ca.crt, items: [{key: ca.crt, path: ca.crt}]}
          - downwardAPI: {items: [{path: namespace, fieldRef: {fieldPath: metadata.namespace}}]}
      - name: scratch
        emptyDir: {}
"#;

const NAMESPACE_CONTENTS: &str = r#"
---
apiVersion: v1
kind: ConfigMap
metadata: {name: shop-config, namespace: web}
data: {mode: prod}
---
apiVersion: v1
kind: Secret
metadata: {name: shop-db, namespace: web}
data: {password: c2VjcmV0}
"#;

#[test]
fn config_and_secret_references_that_name_nothing() {
    let f = analyze_yaml(&format!("{DEPLOY}{NAMESPACE_CONTENTS}"));
    let refs: Vec<&Finding> = f
        .iter()
        .filter(|f| f.category == Category::CreateContainerConfigError)
        .collect();
    assert_eq!(refs.len(), 1, "one finding per workload: {:#?}", titles(&f));
    let r = refs[0];
    assert_eq!(r.severity, Severity::Critical);
    assert!(
        r.title.contains("ConfigMap shop-confg and Secret shop-tls"),
        "{}",
        r.title
    );
    assert!(
        r.explanation
            .contains("Did you mean ConfigMap shop-config?"),
        "{}",
        r.explanation
    );
    // Plain ConfigMap and Secret volumes are references too.
    assert!(
        r.title
            .contains("Secret shop-certs and ConfigMap shop-assets"),
        "{}",
        r.title
    );
    for place in ["projected volume certs", "volume tls", "volume assets"] {
        assert!(
            r.evidence.iter().any(|e| e.text.contains(place)),
            "{place}: {:#?}",
            r.evidence
        );
    }
    // Optional references, built-in ConfigMaps and existing Secrets are fine.
    assert!(!f.iter().any(|f| f.title.contains("nowhere")
        || f.title.contains("kube-root-ca")
        || f.title.contains("Secret shop-db,")));
}

#[test]
fn nothing_listed_proves_nothing() {
    // No ConfigMap and no Secret of the namespace in the capture: absence is not evidence.
    let f = analyze_yaml(DEPLOY);
    assert!(
        !f.iter()
            .any(|f| f.category == Category::CreateContainerConfigError),
        "{:#?}",
        titles(&f)
    );
}

#[test]
fn storage_classes_that_do_not_exist() {
    let f = analyze_yaml(
        r#"
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: standard}
provisioner: kubernetes.io/no-provisioner
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: db}
spec: {storageClassName: standrad, accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: pg, namespace: db}
spec:
  serviceName: pg
  replicas: 1
  selector: {matchLabels: {app: pg}}
  template:
    metadata: {labels: {app: pg}}
    spec: {containers: [{name: pg, image: "postgres:16.4"}]}
  volumeClaimTemplates:
  - metadata: {name: data}
    spec: {storageClassName: fast-ssd, accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
"#,
    );
    let pvc: Vec<&Finding> = f
        .iter()
        .filter(|f| f.category == Category::PVCPending)
        .collect();
    assert_eq!(pvc.len(), 2, "{:#?}", titles(&f));
    let claim = pvc
        .iter()
        .find(|f| f.object.kind == "PersistentVolumeClaim")
        .expect("claim");
    assert!(
        claim.explanation.contains("Did you mean standard?"),
        "{}",
        claim.explanation
    );
    assert!(
        pvc.iter()
            .any(|f| f.object.kind == "StatefulSet" && f.title.contains("fast-ssd"))
    );
}

#[test]
fn placement_no_node_satisfies() {
    let nodes = r#"
---
apiVersion: v1
kind: Node
metadata: {name: n1, labels: {kubernetes.io/hostname: n1, disktype: hdd}}
status: {conditions: [{type: Ready, status: "True"}]}
---
apiVersion: v1
kind: Node
metadata: {name: n2, labels: {kubernetes.io/hostname: n2}}
spec: {taints: [{key: dedicated, value: gpu, effect: NoSchedule}]}
status: {conditions: [{type: Ready, status: "True"}]}
"#;
    let deploy = |selector: &str, tolerations: &str| {
        format!(
            r#"
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, namespace: shop}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      nodeSelector: {selector}
      tolerations: {tolerations}
      containers: [{{name: web, image: "nginx:1.27"}}]
{nodes}"#
        )
    };
    let f = analyze_yaml(&deploy("{disktype: ssd}", "[]"));
    let u = f
        .iter()
        .find(|f| f.category == Category::Unschedulable)
        .unwrap_or_else(|| panic!("{:#?}", titles(&f)));
    assert!(u.title.contains("disktype=ssd"), "{}", u.title);
    // n2 has no disktype label and a taint: a selector n1 satisfies is fine.
    let f = analyze_yaml(&deploy("{disktype: hdd}", "[]"));
    assert!(
        !f.iter().any(|f| f.category == Category::Unschedulable),
        "{:#?}",
        titles(&f)
    );
    // Only n2 carries the hostname; its taint is tolerated: fine.
    let f = analyze_yaml(&deploy(
        "{kubernetes.io/hostname: n2}",
        "[{key: dedicated, operator: Equal, value: gpu, effect: NoSchedule}]",
    ));
    assert!(
        !f.iter().any(|f| f.category == Category::Unschedulable),
        "{:#?}",
        titles(&f)
    );
    // Not tolerated: refused.
    let f = analyze_yaml(&deploy("{kubernetes.io/hostname: n2}", "[]"));
    assert!(
        f.iter().any(|f| f.category == Category::Unschedulable),
        "{:#?}",
        titles(&f)
    );
}

#[test]
fn pods_whose_controller_is_not_in_the_capture_get_hygiene() {
    // Two replicas of a Deployment whose ReplicaSet and Deployment are not in the capture.
    let pod = |name: &str, node: &str| {
        format!(
            r#"
---
apiVersion: v1
kind: Pod
metadata:
  name: {name}
  namespace: tools
  labels: {{app: agent, pod-template-hash: 6d9f7c5b8}}
  ownerReferences: [{{apiVersion: apps/v1, kind: ReplicaSet, name: agent-6d9f7c5b8, uid: u1, controller: true}}]
spec:
  nodeName: {node}
  containers: [{{name: agent, image: "agent:2", securityContext: {{privileged: true}}}}]
  volumes:
  - {{name: logs, hostPath: {{path: /var/log}}}}
status:
  phase: Running
  conditions: [{{type: Ready, status: "True"}}]
  containerStatuses: [{{name: agent, ready: true, restartCount: 0, image: "agent:2", imageID: "", state: {{running: {{startedAt: "2024-05-01T10:00:00Z"}}}}}}]
"#
        )
    };
    let f =
        analyze_yaml(&(pod("agent-6d9f7c5b8-x2k4q", "n1") + &pod("agent-6d9f7c5b8-p9z8y", "n2")));
    let p: Vec<&Finding> = f
        .iter()
        .filter(|f| f.category == Category::Privileged)
        .collect();
    assert_eq!(p.len(), 1, "once per controller: {:#?}", titles(&f));
    assert_eq!(p[0].object.kind, "Deployment");
    assert_eq!(p[0].object.name, "agent");
    assert_eq!(p[0].severity, Severity::Warning);
    // Its pods' volumes are read from the pod that stands for it (in a state read for
    // `analyze`, from where they were moved: `analyze_yaml` compares both).
    let host = f
        .iter()
        .find(|f| f.category == Category::HostPath)
        .expect("hostPath");
    assert_eq!(host.object.name, "agent");
    assert!(
        host.evidence.iter().any(|e| e.text.contains("/var/log")),
        "{host:#?}"
    );
}

#[test]
fn hpa_on_cpu_for_a_target_without_requests() {
    let hpa = |resources: &str| {
        format!(
            r#"
apiVersion: apps/v1
kind: Deployment
metadata: {{name: api, namespace: shop}}
spec:
  replicas: 2
  selector: {{matchLabels: {{app: api}}}}
  template:
    metadata: {{labels: {{app: api}}}}
    spec:
      containers: [{{name: api, image: "api:3", resources: {resources}}}]
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {{name: api, namespace: shop}}
spec:
  scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: api}}
  minReplicas: 2
  maxReplicas: 10
  metrics:
  - type: Resource
    resource: {{name: cpu, target: {{type: Utilization, averageUtilization: 70}}}}
"#
        )
    };
    let f = analyze_yaml(&hpa("{limits: {memory: 256Mi}}"));
    let h = f
        .iter()
        .find(|f| f.category == Category::HPAUnhealthy)
        .unwrap_or_else(|| panic!("{:#?}", titles(&f)));
    assert!(
        h.explanation.contains("no requests.cpu"),
        "{}",
        h.explanation
    );
    // A CPU limit sets the request: measurable.
    let f = analyze_yaml(&hpa("{limits: {cpu: 500m}}"));
    assert!(
        !f.iter().any(|f| f.category == Category::HPAUnhealthy),
        "{:#?}",
        titles(&f)
    );
}

const WEB: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: "web:2", ports: [{containerPort: 8080}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}
"#;

#[test]
fn default_deny_egress_without_dns() {
    let deny = r#"
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: egress-db-only, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Egress]
  egress:
  - to: [{podSelector: {matchLabels: {app: db}}}]
    ports: [{port: 5432}]
"#;
    let f = analyze_yaml(&format!("{WEB}{deny}"));
    let b = f
        .iter()
        .find(|f| f.category == Category::NetworkPolicyBlocking)
        .unwrap_or_else(|| panic!("{:#?}", titles(&f)));
    assert_eq!(b.severity, Severity::Warning);
    assert!(b.title.contains("cannot resolve names"), "{}", b.title);
    // With a DNS rule: fine.
    let dns_rule = format!(
        "{deny}  - to: [{{namespaceSelector: {{matchLabels: {{kubernetes.io/metadata.name: kube-system}}}}}}]\n    ports: [{{port: 53, protocol: UDP}}]\n"
    );
    let f = analyze_yaml(&format!("{WEB}{dns_rule}"));
    assert!(
        !f.iter()
            .any(|f| f.category == Category::NetworkPolicyBlocking),
        "{:#?}",
        titles(&f)
    );
}

#[test]
fn deny_all_ingress_behind_an_ingress() {
    let rest = r#"
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all, namespace: shop}
spec: {podSelector: {}, policyTypes: [Ingress]}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: shop, namespace: shop}
spec:
  rules:
  - host: shop.example.com
    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}
"#;
    let f = analyze_yaml(&format!("{WEB}{rest}"));
    let b = f
        .iter()
        .find(|f| f.category == Category::NetworkPolicyBlocking)
        .unwrap_or_else(|| panic!("{:#?}", titles(&f)));
    assert!(b.title.contains("receives no traffic"), "{}", b.title);
    // Without the Ingress, a deny-all is a choice, not a problem.
    let policy_only = rest
        .split("---\napiVersion: networking.k8s.io/v1\nkind: Ingress")
        .next()
        .unwrap_or("");
    let f = analyze_yaml(&format!("{WEB}{policy_only}"));
    assert!(
        !f.iter()
            .any(|f| f.category == Category::NetworkPolicyBlocking),
        "{:#?}",
        titles(&f)
    );
}

#[test]
fn quota_refusals_say_which_quota_is_used_up() {
    let f = analyze_yaml(&format!(
        "{}{}",
        refused_deployment(
            2,
            r#"{requests: {cpu: "1"}, limits: {cpu: "1", memory: 256Mi}}"#
        ),
        r#"apiVersion: v1
kind: ResourceQuota
metadata: {name: compute, namespace: shop}
spec: {hard: {requests.cpu: "4", pods: "10"}}
status:
  hard: {requests.cpu: "4", pods: "10"}
  used: {requests.cpu: "4", pods: "4"}
---
apiVersion: v1
kind: Event
metadata: {name: e1, namespace: shop}
involvedObject: {kind: ReplicaSet, name: api-5d8f7, namespace: shop, uid: r1}
reason: FailedCreate
type: Warning
message: 'Error creating: pods "api-5d8f7-x" is forbidden: exceeded quota: compute, requested: requests.cpu=1, used: requests.cpu=4, limited: requests.cpu=4'
lastTimestamp: "2024-05-01T10:00:00Z"
"#
    ));
    let r = f
        .iter()
        .find(|f| f.category == Category::ReplicasUnavailable)
        .unwrap_or_else(|| panic!("{:#?}", titles(&f)));
    assert!(
        r.explanation
            .contains("ResourceQuota compute requests.cpu 4/4"),
        "{}",
        r.explanation
    );
    assert!(!r.explanation.contains("pods 4/10"), "{}", r.explanation);
}

#[test]
fn rbac_denials_in_controller_events_name_the_missing_permission() {
    let f = analyze_yaml(&format!(
        "{}{}",
        refused_deployment(1, "{}"),
        r#"apiVersion: v1
kind: Event
metadata: {name: e1, namespace: shop}
involvedObject: {kind: ReplicaSet, name: api-5d8f7, namespace: shop, uid: r1}
reason: FailedCreate
type: Warning
message: 'Error creating: pods "api-5d8f7-" is forbidden: User "system:serviceaccount:kube-system:replicaset-controller" cannot create resource "pods" in API group "" in the namespace "shop"'
lastTimestamp: "2024-05-01T10:00:00Z"
"#
    ));
    let r = f
        .iter()
        .find(|f| f.category == Category::ReplicasUnavailable)
        .unwrap_or_else(|| panic!("{:#?}", titles(&f)));
    assert!(
        r.explanation.contains(
            "ServiceAccount kube-system/replicaset-controller may not create pods in namespace shop"
        ),
        "{}",
        r.explanation
    );
    assert!(
        r.remediation
            .contains("--serviceaccount=kube-system:replicaset-controller"),
        "{}",
        r.remediation
    );
}

#[test]
fn required_anti_affinity_needs_a_node_per_replica() {
    let yaml = |replicas: u32| {
        format!(
            r#"
apiVersion: apps/v1
kind: Deployment
metadata: {{name: kv, namespace: data}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: kv}}}}
  template:
    metadata: {{labels: {{app: kv}}}}
    spec:
      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
          - topologyKey: kubernetes.io/hostname
            labelSelector: {{matchLabels: {{app: kv}}}}
      containers: [{{name: kv, image: "kv:1"}}]
---
apiVersion: v1
kind: Node
metadata: {{name: n1}}
status: {{conditions: [{{type: Ready, status: "True"}}]}}
---
apiVersion: v1
kind: Node
metadata: {{name: n2}}
status: {{conditions: [{{type: Ready, status: "True"}}]}}
"#
        )
    };
    let f = analyze_yaml(&yaml(3));
    let u = f
        .iter()
        .find(|f| f.category == Category::Unschedulable)
        .unwrap_or_else(|| panic!("{:#?}", titles(&f)));
    assert!(
        u.title.contains("1 of 3 replicas cannot be placed"),
        "{}",
        u.title
    );
    let f = analyze_yaml(&yaml(2));
    assert!(
        !f.iter().any(|f| f.category == Category::Unschedulable),
        "{:#?}",
        titles(&f)
    );
}

#[test]
fn ingress_rules_that_leave_out_a_caller() {
    let rest = r#"
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-from-frontend, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress]
  ingress:
  - from: [{podSelector: {matchLabels: {app: frontend}}}]
    ports: [{port: 8080}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: frontend, namespace: shop}
spec:
  replicas: 1
  selector: {matchLabels: {app: frontend}}
  template:
    metadata: {labels: {app: frontend}}
    spec: {containers: [{name: fe, image: "fe:1", env: [{name: BACKEND, value: "http://web:80"}]}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: checkout, namespace: pay}
spec:
  replicas: 1
  selector: {matchLabels: {app: checkout}}
  template:
    metadata: {labels: {app: checkout}}
    spec: {containers: [{name: co, image: "co:1", env: [{name: CATALOG_URL, value: "http://web.shop.svc.cluster.local:80/api"}]}]}
"#;
    let f = analyze_yaml(&format!("{WEB}{rest}"));
    let b: Vec<&Finding> = f
        .iter()
        .filter(|f| f.category == Category::NetworkPolicyBlocking)
        .collect();
    assert_eq!(b.len(), 1, "{:#?}", titles(&f));
    assert!(
        b[0].title.contains("deployment pay/checkout"),
        "{}",
        b[0].title
    );
    assert!(!b[0].title.contains("shop/frontend"), "{}", b[0].title);
}

/// A Deployment of `replicas` with none available, and its ReplicaSet (uids d1, r1).
fn refused_deployment(replicas: u32, resources: &str) -> String {
    format!(
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {{name: api, namespace: shop, uid: d1}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: api}}}}
  template:
    metadata: {{labels: {{app: api}}}}
    spec: {{containers: [{{name: api, image: "api:3", resources: {resources}}}]}}
status: {{replicas: 0, availableReplicas: 0, unavailableReplicas: {replicas}}}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: api-5d8f7
  namespace: shop
  uid: r1
  ownerReferences: [{{apiVersion: apps/v1, kind: Deployment, name: api, uid: d1, controller: true}}]
spec: {{replicas: {replicas}, selector: {{matchLabels: {{app: api}}}}}}
status: {{replicas: 0}}
---
"#
    )
}
