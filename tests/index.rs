//! The on-disk index: what goes in (redacted), incremental updates, filters, recovery from a
//! corrupt or foreign index, and a second writer.

mod common;

use common::*;
use sextant::analyzers::analyze;
use sextant::index::{DocKind, IndexDoc, SearchIndex, SearchQuery, docs};

/// Secrets of 32 kinds as they show up in real logs: (the secret value that must not survive,
/// the log line carrying it).
const SECRETS: &[(&str, &str)] = &[
    (
        "AKIAIOSFODNN7EXAMPLE",
        "aws: using access key AKIAIOSFODNN7EXAMPLE for s3",
    ),
    (
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    ),
    (
        "ghp_0123456789abcdefghijABCDEFGHIJklmnop",
        "git clone with token ghp_0123456789abcdefghijABCDEFGHIJklmnop",
    ),
    (
        "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefgh",
        "GH github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefgh",
    ),
    (
        "glpat-AbCdEfGhIjKlMnOpQrSt",
        "gitlab token glpat-AbCdEfGhIjKlMnOpQrSt rejected",
    ),
    (
        "xoxb-123456789012-abcdefghijkl",
        "slack client init xoxb-123456789012-abcdefghijkl",
    ),
    (
        "T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
        "posting to https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
    ),
    (
        "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
        "stripe: sk_live_4eC39HqLyjWDarjtT1zdp7dc declined",
    ),
    (
        "sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz012345",
        "openai key sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz012345 invalid",
    ),
    (
        "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUv",
        "anthropic sk-ant-api03-AbCdEfGhIjKlMnOpQrStUv",
    ),
    (
        "AIzaSyA1234567890abcdefghijklmnopqrstuv",
        "maps key=AIzaSyA1234567890abcdefghijklmnopqrstuv",
    ),
    (
        "0123456789abcdef0123456789abcdef01234567",
        "{\"type\": \"service_account\", \"private_key_id\": \"0123456789abcdef0123456789abcdef01234567\"}",
    ),
    (
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq",
        "DefaultEndpointsProtocol=https;AccountName=x;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq;",
    ),
    (
        "sv2020sigXyZ0123456789abcdefAB%3D",
        "GET https://x.blob.core.windows.net/c?sv=2020&sig=sv2020sigXyZ0123456789abcdefAB%3D 403",
    ),
    (
        "npm_abcdefghijklmnopqrstuvwxyz0123456789",
        "npm publish with npm_abcdefghijklmnopqrstuvwxyz0123456789",
    ),
    (
        "SG.abcdefghijklmnopqrstuv.abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
        "sendgrid SG.abcdefghijklmnopqrstuv.abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
    ),
    (
        "SK0123456789abcdef0123456789abcdef",
        "twilio SK0123456789abcdef0123456789abcdef",
    ),
    (
        "key-0123456789abcdefghijklmnopqrstuv",
        "mailgun key-0123456789abcdefghijklmnopqrstuv",
    ),
    (
        "0123456789abcdef0123456789abcdef",
        "DD_API_KEY=0123456789abcdef0123456789abcdef",
    ),
    (
        "01234567-89ab-cdef-0123-456789abcdef",
        "HEROKU_API_KEY=01234567-89ab-cdef-0123-456789abcdef",
    ),
    (
        "dop_v1_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "doctl dop_v1_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    ),
    (
        "hvs.CAESIAbCdEfGhIjKlMnOpQrStUvWx",
        "vault login hvs.CAESIAbCdEfGhIjKlMnOpQrStUvWx",
    ),
    (
        "dXNlcjpwYXNzd29yZDEyMzQ=",
        "{\"auths\": {\"registry.example.com\": {\"auth\": \"dXNlcjpwYXNzd29yZDEyMzQ=\"}}}",
    ),
    (
        "kubeTokenAbCdEfGhIjKlMnOp0123",
        "kube_token: kubeTokenAbCdEfGhIjKlMnOp0123",
    ),
    (
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U expired",
    ),
    (
        "abcDEF123456ghiJKL",
        "GET /api Authorization: Bearer abcDEF123456ghiJKL",
    ),
    (
        "YWRtaW46c2VjcmV0cGFzcw==",
        "Authorization: Basic YWRtaW46c2VjcmV0cGFzcw==",
    ),
    (
        "S3cretUrlPw",
        "connecting to postgres://app:S3cretUrlPw@db.data.svc:5432/orders",
    ),
    (
        "Hunter2ConnPw",
        "Server=sql;Database=x;User Id=app;Password=Hunter2ConnPw;",
    ),
    (
        "Sup3rS3cretPassw0rd!",
        "connecting with password=Sup3rS3cretPassw0rd!",
    ),
    (
        "cl1entS3cretValue99",
        "oauth client_secret: \"cl1entS3cretValue99\"",
    ),
    (
        "MIIEowIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7MhgHcTz6sE2I2yPB",
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7MhgHcTz6sE2I2yPB\naFDrBz9vFqU4yfp0bDBA2QmJtC6N/2iKX1k6/0FStXbcvZ8NYyPjW8Fo+QbAgMB\n-----END RSA PRIVATE KEY-----",
    ),
];

/// Ordinary text that looks random but is not secret: it must read the same after.
const NOT_SECRET: &[&str] = &[
    "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "0000000c-5e7a-4c1d-9b2e-7e31db92709a",
    "cart-6d9f7c5b8-m8qzt",
    "commit e6bfa76 deployed",
    "request_id=7f3a9c1e2b4d",
];

fn secret_snapshot() -> tempfile::TempDir {
    let mut log = String::from("==== START logs for container c of pod ns/p ====\n");
    for (_, line) in SECRETS {
        log.push_str(line);
        log.push('\n');
    }
    for l in NOT_SECRET {
        log.push_str(&format!("INFO pulled image {l}\n"));
    }
    log.push_str("FATAL cannot start\n==== END logs for container c of pod ns/p ====\n");
    let event = event(
        "ns",
        "Pod",
        "p",
        "Failed",
        "pull with Authorization: Bearer abcDEF123456ghiJKL failed",
        "Warning",
        2,
        "2026-01-01T10:00:00Z",
    );
    let pod = crashing_pod_ns_p();
    write_tree(&[
        ("ns/pods.yaml", pod.as_str()),
        ("ns/events.yaml", event.as_str()),
        ("ns/p/logs.txt", log.as_str()),
    ])
}

fn cluster_docs(dir: &std::path::Path, source: &str) -> Vec<IndexDoc> {
    let state = load(dir);
    let findings = analyze(&state);
    let mut all = docs::events(&state, source);
    all.extend(docs::logs(&state, source));
    all.extend(docs::findings(&findings, source));
    all
}

#[test]
fn there_are_at_least_30_planted_secrets_of_distinct_kinds() {
    assert!(SECRETS.len() >= 30);
    let redacted: Vec<String> = SECRETS
        .iter()
        .map(|(_, l)| sextant::redact::redact(l).into_owned())
        .collect();
    let kinds: std::collections::HashSet<String> = redacted
        .iter()
        .flat_map(|r| {
            r.split("[REDACTED:")
                .skip(1)
                .filter_map(|s| s.split(']').next())
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(kinds.len() >= 25, "{kinds:?}");
}

#[test]
fn no_secret_enters_the_index_or_its_results() {
    let snap = secret_snapshot();
    let docs = cluster_docs(snap.path(), "snapshot:test");
    assert!(docs.iter().any(|d| d.kind == Some(DocKind::Log)));
    assert!(docs.iter().any(|d| d.kind == Some(DocKind::Event)));
    for d in &docs {
        for (secret, _) in SECRETS {
            assert!(
                !d.text.contains(secret),
                "{secret} entered the index in {}: {}",
                d.id,
                d.text
            );
            assert!(!d.title.contains(secret));
        }
    }
    // Not over-redacted: digests, uids and pod names read as they were.
    let all_text: String = docs
        .iter()
        .map(|d| d.text.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    for ok in NOT_SECRET {
        assert!(all_text.contains(ok), "{ok} was redacted:\n{all_text}");
    }
    let dir = tempfile::tempdir().expect("tmp");
    let (mut index, _) = SearchIndex::open(dir.path()).expect("open");
    index.update("snapshot:test", &docs).expect("update");
    for (secret, line) in SECRETS {
        for query in [*secret, *line] {
            for h in index.search(&SearchQuery::new(query)).expect("search") {
                assert!(
                    !h.text.contains(secret),
                    "{secret} found by search: {}",
                    h.text
                );
            }
        }
    }
    // The JSON of a search over the same index, through the CLI.
    let out = sextant()
        .args([
            "index",
            "search",
            "password token key authorization bearer secret",
            "-o",
            "json",
            "--limit",
            "50",
            "--index-dir",
        ])
        .arg(dir.path())
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json = String::from_utf8_lossy(&out.stdout);
    assert!(
        json.contains("REDACTED"),
        "the search reaches the redacted lines: {json}"
    );
    for (secret, _) in SECRETS {
        assert!(!json.contains(secret), "{secret} in JSON output");
    }
}

#[test]
fn reindexing_the_same_snapshot_changes_nothing_and_changes_update_only_themselves() {
    let dir = tempfile::tempdir().expect("tmp");
    let (mut index, note) = SearchIndex::open(dir.path()).expect("open");
    assert!(note.is_none(), "a new index is not a rebuild");
    let docs = cluster_docs(&demo(), "snapshot:demo");
    let first = index.update("snapshot:demo", &docs).expect("first");
    assert_eq!(first.added, docs.len());
    let meta = std::fs::metadata(dir.path().join("meta.json"))
        .expect("meta")
        .modified()
        .expect("mtime");

    // Reopen (another process, later) and index the same snapshot again: nothing is written.
    drop(index);
    let (mut index, _) = SearchIndex::open(dir.path()).expect("reopen");
    let again = index.update("snapshot:demo", &docs).expect("again");
    assert!(!again.changed(), "{again:?}");
    assert_eq!(again.unchanged, docs.len());
    let meta2 = std::fs::metadata(dir.path().join("meta.json"))
        .expect("meta")
        .modified()
        .expect("mtime");
    assert_eq!(meta, meta2, "no commit happened");

    // One event changes, one disappears.
    let mut changed = docs.clone();
    let i = changed
        .iter()
        .position(|d| d.kind == Some(DocKind::Event))
        .expect("an event");
    changed[i].text.push_str(" (again)");
    let gone = changed
        .iter()
        .rposition(|d| d.kind == Some(DocKind::Event))
        .expect("another event");
    assert_ne!(i, gone);
    changed.remove(gone);
    let third = index.update("snapshot:demo", &changed).expect("third");
    assert_eq!(
        (third.added, third.updated, third.removed),
        (0, 1, 1),
        "{third:?}"
    );
    assert_eq!(index.stats().expect("stats").documents, docs.len() - 1);

    // Another source's documents are left alone.
    let other = index.update("guidance", &[]).expect("empty guidance");
    assert_eq!(other.removed, 0);
}

#[test]
fn filters_by_kind_namespace_and_time() {
    let dir = tempfile::tempdir().expect("tmp");
    let (mut index, _) = SearchIndex::open(dir.path()).expect("open");
    let state = load(&demo());
    let mut all = docs::events(&state, "snapshot:demo");
    all.extend(docs::logs(&state, "snapshot:demo"));
    all.extend(docs::findings(&analyze(&state), "snapshot:demo"));
    index
        .update_observed("snapshot:demo", &all, state.observed_at)
        .expect("update");

    let mut q = SearchQuery::new("REDIS_URL environment variable");
    q.kinds = vec![DocKind::Log];
    let logs = index.search(&q).expect("logs");
    assert!(!logs.is_empty());
    assert!(logs.iter().all(|h| h.kind == DocKind::Log));
    assert!(logs[0].text.contains("REDIS_URL"), "{}", logs[0].text);
    assert_eq!(logs[0].namespace.as_deref(), Some("shop"));

    let mut q = SearchQuery::new("back-off restarting failed container");
    q.kinds = vec![DocKind::Event];
    q.namespace = Some("payments");
    let evs = index.search(&q).expect("events");
    assert!(!evs.is_empty());
    assert!(
        evs.iter()
            .all(|h| h.namespace.as_deref() == Some("payments"))
    );

    // Since: only documents at or after the time (events carry their last timestamp).
    let mut q = SearchQuery::new("back-off restarting failed container");
    q.kinds = vec![DocKind::Event];
    q.limit = 100;
    let every = index.search(&q).expect("all");
    let newest = index.newest_observed().expect("observed");
    q.since = Some(newest + jiff::SignedDuration::from_hours(1));
    assert!(index.search(&q).expect("future").is_empty());
    let since = newest - jiff::SignedDuration::from_hours(2);
    q.since = Some(since);
    let recent = index.search(&q).expect("recent");
    assert!(!recent.is_empty() && recent.len() <= every.len());
    for h in &recent {
        let t: jiff::Timestamp = h.time.as_deref().expect("time").parse().expect("ts");
        assert!(t >= since, "{t} before {since}");
    }
    // Older events exist in the demo and are filtered out.
    assert!(every.iter().any(|h| {
        h.time
            .as_deref()
            .and_then(|t| t.parse::<jiff::Timestamp>().ok())
            .is_some_and(|t| t < since)
    }));

    let mut q = SearchQuery::new("CrashLoopBackOff cart");
    q.kinds = vec![DocKind::Finding];
    let f = index.search(&q).expect("findings");
    assert!(
        f[0].heading.contains("CrashLoopBackOff"),
        "{}",
        f[0].heading
    );
}

#[test]
fn a_corrupt_or_foreign_index_is_rebuilt_with_a_message() {
    let dir = tempfile::tempdir().expect("tmp");
    {
        let (mut index, _) = SearchIndex::open(dir.path()).expect("open");
        index
            .update("snapshot:demo", &cluster_docs(&demo(), "snapshot:demo"))
            .expect("update");
    }
    std::fs::write(dir.path().join("meta.json"), b"{not json").expect("corrupt");
    let (index, note) = SearchIndex::open(dir.path()).expect("reopen");
    assert!(
        note.as_deref().unwrap_or("").contains("rebuilt"),
        "{note:?}"
    );
    assert!(index.is_empty());

    // A manifest from another schema version.
    let (mut index, _) = SearchIndex::open(dir.path()).expect("open");
    index
        .update("snapshot:demo", &cluster_docs(&demo(), "snapshot:demo"))
        .expect("update");
    drop(index);
    let m = dir.path().join("sextant-manifest.json");
    let text = std::fs::read_to_string(&m).expect("manifest");
    let ours = format!("\"schema\":{}", sextant::index::SCHEMA_VERSION);
    assert!(text.contains(&ours), "{text:.200}");
    std::fs::write(&m, text.replacen(&ours, "\"schema\":999", 1)).expect("edit");
    let (_, note) = SearchIndex::open(dir.path()).expect("reopen");
    assert!(
        note.as_deref().unwrap_or("").contains("another version"),
        "{note:?}"
    );
}

#[test]
fn a_second_writer_gets_a_clear_error_and_readers_still_read() {
    let dir = tempfile::tempdir().expect("tmp");
    let (mut index, _) = SearchIndex::open(dir.path()).expect("open");
    index
        .update("snapshot:demo", &cluster_docs(&demo(), "snapshot:demo"))
        .expect("update");
    // Another process holds the writer lock.
    let raw = tantivy::Index::open_in_dir(dir.path()).expect("raw open");
    let _held: tantivy::IndexWriter = raw.writer(15_000_000).expect("first writer");
    let (mut second, _) = SearchIndex::open(dir.path()).expect("readers open fine");
    assert!(
        !second
            .search(&SearchQuery::new("REDIS_URL"))
            .expect("read")
            .is_empty()
    );
    let mut docs = cluster_docs(&demo(), "snapshot:demo");
    docs[0].text.push_str(" changed");
    let err = second.update("snapshot:demo", &docs).expect_err("busy");
    assert!(err.to_string().contains("another sextant process"), "{err}");
}

#[test]
fn the_guidance_index_is_cached_and_a_damaged_cache_is_rebuilt() {
    let cache = tempfile::tempdir().expect("cache");
    let run = |cache_home: &std::path::Path| {
        stdout_ok(
            sextant_no_cluster()
                .env("XDG_CACHE_HOME", cache_home)
                .args(["-q", "ask", "--snapshot"])
                .arg(demo())
                .arg("why is ledger crashing?"),
        )
    };
    let entries = || -> Vec<std::path::PathBuf> {
        std::fs::read_dir(cache.path().join("sextant/guidance"))
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default()
    };
    let first = run(cache.path());
    let built = entries();
    assert_eq!(built.len(), 1, "one cached index, no leftovers: {built:?}");
    assert!(built[0].join("meta.json").is_file());
    // Found, not rebuilt: the same answer, the same entry.
    assert_eq!(run(cache.path()), first);
    assert_eq!(entries(), built);
    // Damaged (its manifest gone): the answer is the same and the entry is whole again.
    let manifest = built[0].join("sextant-manifest.json");
    std::fs::remove_file(&manifest).expect("damage");
    assert_eq!(run(cache.path()), first);
    assert!(manifest.is_file(), "rebuilt");
    assert_eq!(entries(), built);
    // An unusable cache location (a file): built in memory, same answer.
    let file = cache.path().join("not-a-dir");
    std::fs::write(&file, "x").expect("file");
    assert_eq!(run(&file), first);
}

/// A second `index build` on the same directory reports busy at once (exit 2) while the
/// first holds the build lock, instead of adding every document again.
#[test]
fn index_builds_are_exclusive_from_the_first_write() {
    let dir = tempfile::tempdir().expect("tmp");
    let idx = dir.path().join("fresh-index");
    let build = || {
        assert_cmd::Command::cargo_bin("sextant")
            .expect("bin")
            .args(["index", "build", "--offline", "--index-dir"])
            .arg(&idx)
            .arg("--snapshot")
            .arg(common::demo())
            .env("XDG_CONFIG_HOME", dir.path())
            .output()
            .expect("run")
    };
    let lock = sextant::index::SearchIndex::lock_for_build(&idx).expect("first lock");
    let out = build();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("another sextant process is writing this index"),
        "{err}"
    );
    assert!(
        !idx.join("meta.json").exists(),
        "nothing created by the second build"
    );
    drop(lock);
    let out = build();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
