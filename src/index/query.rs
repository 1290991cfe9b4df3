//! Searching the index: a query built from the user's words (never parsed as query syntax),
//! analysed in its language with English as the fallback, filtered by kind, source and time;
//! and the passage of a guidance section that answers it.

use super::*;

impl SearchIndex {
    /// Search. Results are best first; guidance of the current revision is preferred when
    /// two sections answer alike.
    pub fn search(&self, q: &SearchQuery) -> Result<Vec<Hit>> {
        let lang = q.lang.unwrap_or_else(|| lang::detect(q.text));
        let mut hits = self.search_in(q, lang)?;
        if hits.is_empty() && lang != Lang::En {
            hits = self.search_in(q, Lang::En)?;
        }
        Ok(hits)
    }

    fn search_in(&self, q: &SearchQuery, lang: Lang) -> Result<Vec<Hit>> {
        let f = &self.f;
        let words = terms(lang, q.text);
        if words.is_empty() || q.limit == 0 {
            return Ok(Vec::new());
        }
        let slot = lang_slot(lang);
        let mut should: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for w in &words {
            let body = TermQuery::new(
                Term::from_field_text(f.body[slot], w),
                IndexRecordOption::WithFreqs,
            );
            let head = TermQuery::new(
                Term::from_field_text(f.head[slot], w),
                IndexRecordOption::WithFreqs,
            );
            should.push((Occur::Should, Box::new(body)));
            should.push((
                Occur::Should,
                Box::new(BoostQuery::new(Box::new(head), 1.5)),
            ));
        }
        let mut must: Vec<(Occur, Box<dyn Query>)> =
            vec![(Occur::Must, Box::new(BooleanQuery::new(should)))];
        if !q.kinds.is_empty() {
            let kinds: Vec<(Occur, Box<dyn Query>)> = q
                .kinds
                .iter()
                .map(|k| {
                    let t: Box<dyn Query> = Box::new(TermQuery::new(
                        Term::from_field_text(f.kind, k.as_str()),
                        IndexRecordOption::Basic,
                    ));
                    (Occur::Should, t)
                })
                .collect();
            must.push((Occur::Must, Box::new(BooleanQuery::new(kinds))));
        }
        if let Some(ns) = q.namespace {
            must.push((
                Occur::Must,
                Box::new(TermQuery::new(
                    Term::from_field_text(f.namespace, ns),
                    IndexRecordOption::Basic,
                )),
            ));
        }
        if let Some(since) = q.since {
            must.push((
                Occur::Must,
                Box::new(RangeQuery::new(
                    std::ops::Bound::Included(Term::from_field_date_for_search(
                        f.time,
                        to_date(since),
                    )),
                    std::ops::Bound::Unbounded,
                )),
            ));
        }
        let query = BooleanQuery::new(must);
        let searcher = self.reader.searcher();
        let top = searcher.search(
            &query,
            &TopDocs::with_limit(q.limit * 3 + 5).order_by_score(),
        )?;
        let mut hits = Vec::new();
        for (score, addr) in top {
            let doc: TantivyDocument = searcher.doc(addr)?;
            let get = |field: Field| {
                doc.get_first(field)
                    .and_then(|v| v.as_str())
                    .unwrap_or("")
                    .to_string()
            };
            let opt = |field: Field| {
                doc.get_first(field)
                    .and_then(|v| v.as_str())
                    .map(str::to_string)
            };
            let kind = get(f.kind).parse().unwrap_or(DocKind::Guidance);
            let current = get(f.revision) == "current";
            // A document stores its text and title in its language's fields only.
            let first = |fields: &[Field; 3]| {
                fields
                    .iter()
                    .find_map(|&field| doc.get_first(field).and_then(|v| v.as_str()))
                    .unwrap_or("")
                    .to_string()
            };
            let text = first(&f.body);
            let text = if kind == DocKind::Guidance {
                best_passage(&text, lang, &words)
            } else {
                text
            };
            hits.push(Hit {
                id: get(f.id),
                kind,
                file: get(f.file),
                heading: first(&f.head),
                lang: get(f.lang),
                // The current revision wins a near tie with the earlier one.
                score: if current { score * 1.25 } else { score },
                text,
                namespace: opt(f.namespace),
                object: opt(f.object),
                time: doc
                    .get_first(f.time)
                    .and_then(|v| v.as_datetime())
                    .and_then(|d| jiff::Timestamp::from_second(d.into_timestamp_secs()).ok())
                    .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()),
                lines: get(f.lines),
            });
        }
        hits.sort_by(|a, b| b.score.total_cmp(&a.score));
        hits.truncate(q.limit);
        Ok(hits)
    }
}

/// The paragraphs of a guidance section that carry the query terms (in order, up to ~700
/// characters); the first paragraph when none does.
pub fn best_passage(text: &str, lang: Lang, words: &[String]) -> String {
    let paras: Vec<&str> = text
        .split("\n\n")
        .filter(|p| !p.trim().is_empty())
        .collect();
    if paras.len() <= 1 {
        return text.to_string();
    }
    let wanted: HashSet<&str> = words.iter().map(String::as_str).collect();
    let scored: Vec<(usize, usize)> = paras
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let hits = terms(lang, p)
                .iter()
                .filter(|t| wanted.contains(&***t))
                .count();
            (i, hits)
        })
        .collect();
    let mut order: Vec<(usize, usize)> = scored.into_iter().filter(|(_, h)| *h > 0).collect();
    order.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut chosen: Vec<usize> = Vec::new();
    let mut len = 0;
    for (i, _) in order {
        if len > 0 && len + paras[i].len() > 700 {
            break;
        }
        len += paras[i].len();
        chosen.push(i);
    }
    if chosen.is_empty() {
        return paras[0].to_string();
    }
    chosen.sort_unstable();
    chosen
        .iter()
        .map(|&i| paras[i])
        .collect::<Vec<_>>()
        .join("\n\n")
}
