//! A large synthetic cluster dump in the `kubectl cluster-info dump --output-directory`
//! layout, for benchmarks: namespaces of Deployments → ReplicaSets → Pods, Services, a few
//! thousand failing pods of the usual kinds, events about them, and a log file per pod.
//!
//! Deterministic (a fixed LCG, no clock), so two runs measure the same bytes.

use serde_json::{Value, json};
use std::fmt::Write as _;
use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::Path;

/// Where the 10,000-pod dump lives (shared by the benches that read it):
/// `SEXTANT_BENCH_DIR`, else under the target dir.
#[allow(dead_code)]
pub fn large_dump_dir() -> std::path::PathBuf {
    std::env::var_os("SEXTANT_BENCH_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("synthetic-dump")
        })
}

/// Where the realistic dump lives (few replicas per controller, many namespaces):
/// `SEXTANT_BENCH_REALISTIC_DIR`, else under the target dir.
#[allow(dead_code)]
pub fn realistic_dump_dir() -> std::path::PathBuf {
    std::env::var_os("SEXTANT_BENCH_REALISTIC_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("realistic-dump")
        })
}

/// Generate a dump of `size` into `dir` unless a complete one is there already.
pub fn ensure(dir: &Path, size: &Size) {
    let marker = dir.join(".complete");
    if marker.exists() {
        return;
    }
    let _ = fs::remove_dir_all(dir);
    fs::create_dir_all(dir).expect("mkdir");
    let t = std::time::Instant::now();
    generate(dir, size).expect("generate");
    fs::write(&marker, "").expect("marker");
    eprintln!(
        "generated {} in {:.1}s",
        dir.display(),
        t.elapsed().as_secs_f64()
    );
}

pub struct Size {
    pub namespaces: usize,
    pub pods: usize,
    pub events: usize,
    pub log_bytes: usize,
    /// Replicas per controller: `(min, max)`, chosen per controller.
    pub replicas: (u64, u64),
    /// Per mille of pods with a log file.
    pub logs_per_mille: u64,
}

impl Size {
    /// The size the triage target is set for (the index bench uses its own size).
    #[allow(dead_code)]
    pub const LARGE: Size = Size {
        namespaces: 50,
        pods: 10_000,
        events: 100_000,
        log_bytes: 200 * 1024 * 1024,
        replicas: (10, 10),
        logs_per_mille: 1000,
    };

    /// Shaped like a real large cluster (the performance issue's measurement: 9,600 pods,
    /// 16,400 events, ~1.7 pods per controller, logs for ~54% of pods, ~250 MB): many
    /// namespaces of small Deployments, so every controller and pod is its own work.
    #[allow(dead_code)]
    pub const REALISTIC: Size = Size {
        namespaces: 160,
        pods: 9_600,
        events: 16_400,
        log_bytes: 200 * 1024 * 1024,
        replicas: (1, 3),
        logs_per_mille: 540,
    };
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn list(kind: &str, items: Vec<Value>) -> Value {
    json!({"kind": format!("{kind}List"), "apiVersion": "v1", "metadata": {}, "items": items})
}

fn write_json(path: &Path, v: &Value) -> io::Result<()> {
    let f = BufWriter::new(fs::File::create(path)?);
    serde_json::to_writer(f, v).map_err(io::Error::other)
}

/// What a pod is doing, chosen per pod.
#[derive(Clone, Copy)]
enum Fate {
    Healthy,
    Crash,
    Pull,
    Pending,
    Oom,
}

fn container_status(fate: Fate, name: &str, image: &str) -> Value {
    match fate {
        Fate::Healthy => json!({"name": name, "image": image, "ready": true, "restartCount": 0,
            "state": {"running": {"startedAt": "2026-11-24T08:00:00Z"}}}),
        Fate::Crash => json!({"name": name, "image": image, "ready": false, "restartCount": 12,
            "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s restarting failed container"}},
            "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": "2026-11-24T08:55:00Z"}}}),
        Fate::Oom => json!({"name": name, "image": image, "ready": false, "restartCount": 7,
            "state": {"waiting": {"reason": "CrashLoopBackOff"}},
            "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled", "finishedAt": "2026-11-24T08:55:00Z"}}}),
        Fate::Pull => json!({"name": name, "image": image, "ready": false, "restartCount": 0,
            "state": {"waiting": {"reason": "ImagePullBackOff", "message": format!("Back-off pulling image \"{image}\"")}}}),
        Fate::Pending => json!({"name": name, "image": image, "ready": false, "restartCount": 0,
            "state": {"waiting": {"reason": "ContainerCreating"}}}),
    }
}

/// Write the dump under `dir` (which must exist and be empty).
pub fn generate(dir: &Path, size: &Size) -> io::Result<()> {
    let mut rng = Rng(0x5e7a47);
    let nodes: Vec<Value> = (0..40)
        .map(|i| {
            json!({"metadata": {"name": format!("node-{i}"), "uid": format!("node-uid-{i}")},
                "status": {"conditions": [
                    {"type": "Ready", "status": if i == 7 { "False" } else { "True" }, "reason": "KubeletReady"},
                    {"type": "MemoryPressure", "status": "False"}]}})
        })
        .collect();
    write_json(&dir.join("nodes.json"), &list("Node", nodes))?;

    let pods_per_ns = size.pods / size.namespaces;
    let events_per_ns = size.events / size.namespaces;
    let log_per_pod = size.log_bytes * 1000 / (size.pods * size.logs_per_mille as usize).max(1);
    let mut line = String::new();
    for n in 0..size.namespaces {
        let ns = format!("team-{n:02}");
        let nsdir = dir.join(&ns);
        fs::create_dir_all(&nsdir)?;
        let (mut pods, mut deps, mut rss, mut svcs) = (vec![], vec![], vec![], vec![]);
        let mut pod_names = Vec::with_capacity(pods_per_ns);
        let mut a = 0;
        while pod_names.len() < pods_per_ns {
            let replicas = size.replicas.0 + rng.below(size.replicas.1 - size.replicas.0 + 1);
            let replicas = replicas.min((pods_per_ns - pod_names.len()) as u64);
            a += 1;
            let app = format!("app-{a:03}");
            let image = format!("registry.example.com/{ns}/{app}:1.{a}.0");
            let fate = match rng.below(100) {
                0..=3 => Fate::Crash,
                4..=5 => Fate::Pull,
                6 => Fate::Pending,
                7 => Fate::Oom,
                _ => Fate::Healthy,
            };
            let rs = format!("{app}-5d8f9c");
            deps.push(json!({"metadata": {"name": app, "namespace": ns, "uid": format!("{ns}-{app}"), "generation": 1},
                "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": app}},
                    "template": {"metadata": {"labels": {"app": app}}, "spec": {"containers": [
                        {"name": app, "image": image,
                         "resources": {"limits": {"memory": "256Mi"}, "requests": {"cpu": "50m"}}}]}}},
                "status": {"observedGeneration": 1, "replicas": replicas, "updatedReplicas": replicas,
                    "readyReplicas": if matches!(fate, Fate::Healthy) { replicas } else { 0 },
                    "availableReplicas": if matches!(fate, Fate::Healthy) { replicas } else { 0 }}}));
            rss.push(json!({"metadata": {"name": rs, "namespace": ns, "uid": format!("{ns}-{rs}"),
                "ownerReferences": [{"kind": "Deployment", "name": app, "uid": format!("{ns}-{app}"), "controller": true, "apiVersion": "apps/v1"}]},
                "spec": {"selector": {"matchLabels": {"app": app}}}}));
            svcs.push(json!({"metadata": {"name": app, "namespace": ns},
                "spec": {"selector": {"app": app}, "ports": [{"port": 80, "targetPort": 8080}]}}));
            for r in 0..replicas {
                let pod = format!("{rs}-{r:05}");
                let phase = if matches!(fate, Fate::Pending) {
                    "Pending"
                } else {
                    "Running"
                };
                pods.push(json!({"metadata": {"name": pod, "namespace": ns, "uid": format!("{ns}-{pod}"),
                    "labels": {"app": app},
                    "ownerReferences": [{"kind": "ReplicaSet", "name": rs, "uid": format!("{ns}-{rs}"), "controller": true, "apiVersion": "apps/v1"}]},
                    "spec": {"nodeName": format!("node-{}", rng.below(40)), "containers": [
                        {"name": app, "image": image, "resources": {"limits": {"memory": "256Mi"}}}]},
                    "status": {"phase": phase,
                        "conditions": [{"type": "Ready", "status": if matches!(fate, Fate::Healthy) { "True" } else { "False" }}],
                        "containerStatuses": [container_status(fate, &app, &image)]}}));
                pod_names.push((pod.clone(), app.clone(), fate));
                // Crashing pods always have logs; others as often as the shape says.
                if !matches!(fate, Fate::Crash) && rng.below(1000) >= size.logs_per_mille {
                    continue;
                }
                // The log: mostly INFO noise, a stack trace for crashing pods.
                let pdir = nsdir.join(&pod);
                fs::create_dir_all(&pdir)?;
                let mut w = BufWriter::new(fs::File::create(pdir.join("logs.txt"))?);
                writeln!(
                    w,
                    "==== START logs for container {app} of pod {ns}/{pod} ===="
                )?;
                let mut written = 0;
                let mut i = 0u64;
                while written < log_per_pod {
                    line.clear();
                    let _ = write!(
                        line,
                        "2026-11-24T08:{:02}:{:02}.{:03}Z INFO  request id={} path=/api/v1/items/{} status=200 duration_ms={}",
                        (i / 60) % 60,
                        i % 60,
                        i % 1000,
                        rng.next(),
                        rng.below(100_000),
                        rng.below(900)
                    );
                    if i.is_multiple_of(997) {
                        line.push_str(" WARN slow upstream, retrying");
                    }
                    writeln!(w, "{line}")?;
                    written += line.len() + 1;
                    i += 1;
                }
                if matches!(fate, Fate::Crash) {
                    writeln!(
                        w,
                        "2026-11-24T08:55:00Z ERROR failed to connect to db.{ns}.svc:5432: connection refused"
                    )?;
                    writeln!(
                        w,
                        "panic: runtime error: invalid memory address or nil pointer dereference"
                    )?;
                    writeln!(
                        w,
                        "goroutine 1 [running]:\nmain.main()\n\t/src/main.go:42 +0x1d"
                    )?;
                }
                writeln!(
                    w,
                    "==== END logs for container {app} of pod {ns}/{pod} ===="
                )?;
                w.flush()?;
            }
        }
        let mut events = Vec::with_capacity(events_per_ns);
        for e in 0..events_per_ns {
            let (pod, _app, fate) = &pod_names[e % pod_names.len()];
            let (type_, reason, message) = match fate {
                Fate::Healthy => (
                    "Normal",
                    "Pulled",
                    "Container image already present on machine".to_string(),
                ),
                Fate::Crash | Fate::Oom => (
                    "Warning",
                    "BackOff",
                    "Back-off restarting failed container".to_string(),
                ),
                Fate::Pull => (
                    "Warning",
                    "Failed",
                    "Failed to pull image: manifest unknown".to_string(),
                ),
                Fate::Pending => (
                    "Warning",
                    "FailedScheduling",
                    "0/40 nodes are available: 40 Insufficient cpu.".to_string(),
                ),
            };
            events.push(json!({"metadata": {"name": format!("{pod}.{e:x}"), "namespace": ns},
                "involvedObject": {"kind": "Pod", "name": pod, "namespace": ns, "uid": format!("{ns}-{pod}")},
                "type": type_, "reason": reason, "message": message, "count": 1 + (e % 30),
                "firstTimestamp": "2026-11-24T07:00:00Z", "lastTimestamp": format!("2026-11-24T08:{:02}:00Z", e % 60)}));
        }
        write_json(&nsdir.join("pods.json"), &list("Pod", pods))?;
        write_json(&nsdir.join("deployments.json"), &list("Deployment", deps))?;
        write_json(&nsdir.join("replicasets.json"), &list("ReplicaSet", rss))?;
        write_json(&nsdir.join("services.json"), &list("Service", svcs))?;
        write_json(&nsdir.join("events.json"), &list("Event", events))?;
    }
    Ok(())
}
