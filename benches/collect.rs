//! `cargo bench --bench collect`: live collection from the fake API server of the tests
//! (tests/fake_kube, real HTTP on 127.0.0.1) serving a synthetic cluster of 1,000 and
//! 10,000 pods (every 50th crash-looping, with logs).
//!
//! Printed per size: requests (lists vs log fetches), wall time, and the same run's baseline:
//! fetching the pod pages alone as raw text through the same guarded client (the transfer
//! any collector pays). The list request count must not grow with pods except by pages;
//! log fetches grow with failing containers up to the cap.

#[path = "../tests/fake_kube/mod.rs"]
mod fake_kube;
mod support;

use std::time::Instant;

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let rt = sextant::runtime::new().expect("runtime");
    for pods in [1_000usize, 10_000] {
        let server = fake_kube::FakeKube::start(fake_kube::Faults::default());
        let failing = fake_kube::synthetic(&server, pods);
        let tmp = tempfile::tempdir().expect("tmp");
        let kc = server.kubeconfig(tmp.path());
        let target = sextant::cluster::Target {
            kubeconfig: Some(kc),
            ..Default::default()
        };
        let opts = sextant::cluster::collect::Options::default();
        let (base, secs, c) = rt.block_on(async {
            let cluster = sextant::cluster::Cluster::connect(&target)
                .await
                .expect("connect");
            // Baseline: the pod pages as raw text.
            let t = Instant::now();
            let client = cluster.client();
            let mut cont = String::new();
            loop {
                let q = format!("/api/v1/pods?limit={}{cont}", opts.page_size);
                let text = client
                    .request_text(http::Request::get(q).body(Vec::new()).expect("req"))
                    .await
                    .expect("page");
                let next = text
                    .split("\"continue\":\"")
                    .nth(1)
                    .and_then(|r| r.split('"').next())
                    .map(str::to_string);
                match next {
                    Some(n) => cont = format!("&continue={n}"),
                    None => break,
                }
            }
            let base = t.elapsed().as_secs_f64();
            server.clear_requests();
            let t = Instant::now();
            let c = cluster.collect(&opts).await.expect("collect");
            (base, t.elapsed().as_secs_f64(), c)
        });
        let t = Instant::now();
        let state = sextant::source::live::into_state(c);
        let typed = t.elapsed().as_secs_f64();
        let reqs = server.requests();
        let logs = reqs.iter().filter(|r| r.path.ends_with("/log")).count();
        println!(
            "{pods:>6} pods ({failing} failing): {} requests ({} lists/pages + {logs} log fetches), collect {secs:.3} s + typing {typed:.3} s; baseline raw pod pages {base:.3} s; ratio {:.1}x; {} objects; peak RSS {:.0} MB (includes the fake server)",
            reqs.len(),
            reqs.len() - logs,
            secs / base,
            state.object_count(),
            support::peak_rss_mb()
        );
    }
}
