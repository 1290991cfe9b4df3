//! `sextant guidance search` and `sextant index build|search|stats`.

use super::{Global, write_out};
use crate::analyzers;
use crate::config::Config;
use crate::error::Error;
use crate::guidance::{ATTRIBUTION, Corpus};
use crate::index::guidance::GuidanceIndex;
use crate::index::{DocKind, Hit, SearchIndex, SearchQuery, docs};
use crate::lang::Lang;
use crate::render::{Format, Style, text::wrap};
use anyhow::Context as _;
use std::fmt::Write as _;
use std::path::PathBuf;

/// The corpus the flags and config name: embedded Level 4, plus `--guidance` dirs.
pub fn corpus(g: &Global, cfg: &Config) -> anyhow::Result<Corpus> {
    let mut dirs = cfg.guidance.dirs.clone();
    dirs.extend(g.guidance.iter().cloned());
    let replace = cfg.guidance.replace || g.replace_guidance;
    if replace && dirs.is_empty() {
        return Err(
            Error::Usage("--replace-guidance: needs at least one --guidance DIR".into()).into(),
        );
    }
    Ok(Corpus::load(&dirs, replace)?)
}

pub fn guidance_index(g: &Global, cfg: &Config) -> anyhow::Result<GuidanceIndex> {
    GuidanceIndex::new(corpus(g, cfg)?).context("building the guidance index")
}

pub(super) fn index_dir(g: &Global, cfg: &Config) -> PathBuf {
    g.index_dir
        .clone()
        .or_else(|| cfg.index.dir.clone())
        .unwrap_or_else(crate::dirs::index_dir)
}

fn parse_lang(v: Option<&str>) -> anyhow::Result<Option<Lang>> {
    v.map(|s| {
        Lang::from_code(s).ok_or_else(|| {
            Error::Usage(format!(
                "--lang: unknown language '{s}' (expected en, de or zh)"
            ))
        })
    })
    .transpose()
    .map_err(Into::into)
}

fn hits_text(hits: &[Hit], style: Style) -> String {
    let mut out = String::new();
    if hits.is_empty() {
        out.push_str("no results\n");
        return out;
    }
    for (i, h) in hits.iter().enumerate() {
        let head = match h.kind {
            DocKind::Guidance => format!(
                "{}. {}  ({}:{}, {})",
                i + 1,
                style.bold(&h.heading),
                h.file,
                h.lines,
                h.lang
            ),
            _ => format!(
                "{}. [{}] {}{}",
                i + 1,
                h.kind.as_str(),
                style.bold(&h.heading),
                h.time
                    .as_deref()
                    .map(|t| format!("  {t}"))
                    .unwrap_or_default()
            ),
        };
        let _ = writeln!(out, "{head}");
        let _ = writeln!(out, "   id: {}   score: {:.2}", h.id, h.score);
        if h.kind == DocKind::Log {
            // Log lines keep their breaks: a reader matches them against `kubectl logs`.
            for line in h.text.lines() {
                let _ = writeln!(out, "   {line}");
            }
        } else {
            for para in h.text.split("\n\n") {
                out.push_str(&wrap(para, "   ", 96));
            }
        }
        out.push('\n');
    }
    out
}

/// `{"hits": [{"id","file","heading","lang","score","text"}, ...]}` (the contract), plus
/// the optional fields of cluster documents.
fn hits_json(hits: &[Hit]) -> String {
    serde_json::json!({ "hits": hits }).to_string() + "\n"
}

pub fn guidance_search(
    g: &Global,
    cfg: &Config,
    query: &str,
    limit: usize,
    lang: Option<&str>,
) -> anyhow::Result<i32> {
    if query.trim().is_empty() {
        return Err(Error::Usage(
            "guidance search: give a query, e.g. `sextant guidance search \"policy enforcement\"`"
                .into(),
        )
        .into());
    }
    let lang = parse_lang(lang)?;
    let gi = guidance_index(g, cfg)?;
    let hits = gi.search(query, limit, lang)?;
    let text = match g.output.unwrap_or(Format::Text) {
        Format::Json => hits_json(&hits),
        Format::Markdown => {
            let mut s = format!("# Guidance for “{query}”\n\n");
            for h in &hits {
                let _ = writeln!(
                    s,
                    "## {}\n\n`{}` · {}:{} · {}\n\n{}\n",
                    h.heading, h.id, h.file, h.lines, h.lang, h.text
                );
            }
            let _ = writeln!(s, "_Source: {ATTRIBUTION}_");
            s
        }
        Format::Text | Format::Sarif => {
            let mut s = hits_text(&hits, Style::detect());
            let _ = writeln!(s, "Source: {ATTRIBUTION}");
            s
        }
    };
    write_out(&text)?;
    Ok(0)
}

fn open_index(g: &Global, cfg: &Config) -> anyhow::Result<SearchIndex> {
    let dir = index_dir(g, cfg);
    let (index, note) = SearchIndex::open(&dir)?;
    if let Some(n) = note {
        eprintln!("note: {n}");
    }
    Ok(index)
}

pub fn index_build(g: &Global, cfg: &Config) -> anyhow::Result<i32> {
    // Exclusive from the first write: taken before the index is created or read.
    let _lock = SearchIndex::lock_for_build(&index_dir(g, cfg))?;
    let mut index = open_index(g, cfg)?;
    let corpus = corpus(g, cfg)?;
    let gdocs = docs::guidance(&corpus);
    let gs = index.update("guidance", &gdocs)?;
    let mut report = format!(
        "guidance: {} sections ({} added, {} updated, {} removed, {} unchanged)\n",
        gdocs.len(),
        gs.added,
        gs.updated,
        gs.removed,
        gs.unchanged
    );
    // The cluster's text too: a dump, or the live cluster when one is configured (no cluster
    // is not an error here: the guidance alone is still worth indexing).
    // Read as `analyze` reads it: what is indexed is the events, the logs and the findings,
    // none of which reads an owned ReplicaSet's template.
    let loaded = match super::load_for(g, cfg, |src, scope| src.load_for_analysis(scope)) {
        Ok(l) => Ok(l),
        // A context named on the command line must be reached (exit 2 when it is not).
        Err(e)
            if g.snapshot().is_none()
                && g.context.is_none()
                && matches!(e.downcast_ref::<Error>(), Some(Error::Cluster(_))) =>
        {
            Err(super::one_line(&e))
        }
        Err(e) => return Err(e),
    };
    if let Ok((info, state)) = loaded {
        let source = match info.kind {
            crate::state::SourceKind::Snapshot => format!(
                "snapshot:{}",
                std::fs::canonicalize(&info.path_or_context)
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|_| info.path_or_context.clone())
            ),
            crate::state::SourceKind::Live => format!("context:{}", info.path_or_context),
        };
        let mut findings = analyzers::analyze(&state);
        if let Ok(gi) = GuidanceIndex::new(corpus) {
            gi.attach(&mut findings);
        }
        let counter = std::sync::Arc::new(crate::render::progress::Counter::default());
        let c = counter.clone();
        index.on_progress(move |n, bytes| c.add(n, bytes));
        let busy = crate::render::progress::Busy::counting(
            format!("indexing {source}"),
            counter,
            "documents",
        );
        let (cs, ne, nl, nf) = index.update_cluster(&source, &state, &findings)?;
        drop(busy);
        super::leave_to_exit(state);
        let _ = writeln!(
            report,
            "{source}: {ne} events, {nl} log windows, {nf} findings ({} added, {} updated, {} removed, {} unchanged)",
            cs.added, cs.updated, cs.removed, cs.unchanged
        );
    } else if let Err(why) = loaded {
        let _ = writeln!(report, "cluster content: none indexed (no cluster: {why})");
    }
    let st = index.stats()?;
    let _ = writeln!(
        report,
        "index: {} documents in {}",
        st.documents,
        st.dir.as_deref().unwrap_or("(memory)")
    );
    match g.output.unwrap_or(Format::Text) {
        Format::Json => write_out(&(serde_json::to_string(&st)? + "\n"))?,
        _ => write_out(&report)?,
    }
    Ok(0)
}

/// `--since`: an RFC 3339 time, or a duration (`30m`, `2h`, `7d`) back from the newest
/// indexed observation (or now).
fn parse_since(v: &str, now: jiff::Timestamp) -> anyhow::Result<jiff::Timestamp> {
    if let Ok(t) = v.parse::<jiff::Timestamp>() {
        return Ok(t);
    }
    let bad = || {
        Error::Usage(format!(
            "--since: '{v}' is neither a time (2026-11-24T08:00:00Z) nor a duration (30m, 2h, 7d)"
        ))
    };
    let (num, unit) = v.trim().split_at(v.trim().len().saturating_sub(1));
    let n: i64 = num.parse().map_err(|_| bad())?;
    let secs = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86400,
        _ => return Err(bad().into()),
    };
    Ok(now - jiff::SignedDuration::from_secs(secs))
}

pub struct IndexSearchArgs<'a> {
    pub query: &'a str,
    pub kinds: &'a [String],
    pub since: Option<&'a str>,
    pub limit: usize,
}

pub fn index_search(g: &Global, cfg: &Config, a: IndexSearchArgs) -> anyhow::Result<i32> {
    if a.query.trim().is_empty() {
        return Err(Error::Usage("index search: give a query".into()).into());
    }
    let kinds = a
        .kinds
        .iter()
        .filter(|k| !k.trim().is_empty())
        .map(|k| {
            k.parse::<DocKind>()
                .map_err(|e| Error::Usage(format!("--kind: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut index = open_index(g, cfg)?;
    if index.is_empty() {
        eprintln!(
            "note: the index at {} was empty; indexed the guidance (run `sextant index build --snapshot PATH` to add cluster content)",
            index_dir(g, cfg).display()
        );
        index.update("guidance", &docs::guidance(&corpus(g, cfg)?))?;
    }
    let now = index.newest_observed().unwrap_or_else(jiff::Timestamp::now);
    let since = a.since.map(|s| parse_since(s, now)).transpose()?;
    let mut q = SearchQuery::new(a.query);
    q.kinds = kinds;
    q.namespace = g.namespace.as_deref();
    q.since = since;
    q.limit = a.limit;
    let hits = index.search(&q)?;
    let text = match g.output.unwrap_or(Format::Text) {
        Format::Json => hits_json(&hits),
        _ => hits_text(&hits, Style::detect()),
    };
    write_out(&text)?;
    Ok(0)
}

pub fn index_stats(g: &Global, cfg: &Config) -> anyhow::Result<i32> {
    let index = open_index(g, cfg)?;
    let st = index.stats()?;
    let text = match g.output.unwrap_or(Format::Text) {
        Format::Json => serde_json::to_string(&st)? + "\n",
        _ => {
            let mut s = String::new();
            let _ = writeln!(s, "index: {}", st.dir.as_deref().unwrap_or("(memory)"));
            let _ = writeln!(
                s,
                "documents: {} in {} segments, {:.1} MB on disk (schema v{})",
                st.documents,
                st.segments,
                st.bytes_on_disk as f64 / 1e6,
                st.schema_version
            );
            let kinds: Vec<String> = st.by_kind.iter().map(|(k, n)| format!("{k} {n}")).collect();
            let _ = writeln!(s, "by kind: {}", kinds.join(", "));
            let langs: Vec<String> = st.by_lang.iter().map(|(k, n)| format!("{k} {n}")).collect();
            let _ = writeln!(s, "by language: {}", langs.join(", "));
            for (src, n) in &st.sources {
                let _ = writeln!(s, "source {src}: {n} documents");
            }
            s
        }
    };
    write_out(&text)?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_accepts_times_and_durations() {
        let now: jiff::Timestamp = "2026-11-24T10:00:00Z".parse().expect("ts");
        assert_eq!(
            parse_since("2h", now).expect("2h").to_string(),
            "2026-11-24T08:00:00Z"
        );
        assert_eq!(
            parse_since("2026-11-01T00:00:00Z", now)
                .expect("abs")
                .to_string(),
            "2026-11-01T00:00:00Z"
        );
        assert!(parse_since("soon", now).is_err());
        assert!(parse_since("5y", now).is_err());
    }
}
