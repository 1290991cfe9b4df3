//! The REPL's views and actions over the loaded state: `/analyze`, `/trends`, `/explain`,
//! `/policy` (a finding, a category or a request in plain words), `/events`, `/logs`,
//! `/search`, `/guidance`, `/ns`, `/context`, `/sources`, `/save`.

use super::*;

impl Session {
    pub(super) fn need_state(&self) -> Result<&ClusterState, String> {
        self.state.as_ref().ok_or_else(|| {
            format!(
                "no cluster state loaded ({}): give --snapshot PATH or a kubeconfig\n",
                self.no_state.as_deref().unwrap_or("none")
            )
        })
    }

    pub(super) fn analyze(&mut self, args: &str) -> String {
        let st = match self.need_state() {
            Ok(s) => s,
            Err(e) => return e,
        };
        let mut cats = Vec::new();
        let mut min = Severity::Info;
        let mut it = args.split_whitespace();
        while let Some(a) = it.next() {
            match a {
                "--category" => {
                    for c in it.next().unwrap_or("").split(',').filter(|c| !c.is_empty()) {
                        match Category::from_str(c) {
                            Ok(c) => cats.push(c),
                            Err(e) => return format!("--category: {e}\n"),
                        }
                    }
                }
                "--min-severity" => match it.next().unwrap_or("").parse::<Severity>() {
                    Ok(s) => min = s,
                    Err(e) => return format!("--min-severity: {e}\n"),
                },
                other => return format!("/analyze: unknown argument {other}\n"),
            }
        }
        let all = self.in_focus();
        let total = all.len();
        let shown = analyzers::filter(all, &cats, min);
        let Some(info) = &self.info else {
            return String::new();
        };
        let header = Header::of(info, st, total - shown.len());
        render::text_report(&header, &shown, self.style)
    }

    /// `/trends`: what `analyze --trends` prints, for the state in focus.
    pub(super) fn trends(&self) -> String {
        if let Err(e) = self.need_state() {
            return e;
        }
        let Some(info) = &self.info else {
            return String::new();
        };
        let findings = self.in_focus();
        let line = render::ClusterLine {
            name: info.path_or_context.clone(),
            source: info.clone(),
            error: None,
        };
        let trends = analyzers::trends::trends(&[analyzers::trends::ClusterFindings {
            cluster: &line.name,
            findings: &findings,
        }]);
        render::text_trends(std::slice::from_ref(&line), &trends, self.style)
    }

    pub(super) fn explain(&self, id: &str) -> String {
        match analyzers::find(&self.findings, id) {
            Ok(f) => render::text_explain(f, self.style),
            Err(e) => format!("{e}\n"),
        }
    }

    pub(super) fn policy(&self, args: &str) -> String {
        let mut words: Vec<&str> = Vec::new();
        let mut engines = vec![Engine::Kyverno, Engine::Gatekeeper, Engine::Vap];
        let mut out: Option<std::path::PathBuf> = None;
        let mut it = args.split_whitespace();
        while let Some(a) = it.next() {
            if let Some(dir) = a.strip_prefix("--out=") {
                out = Some(dir.into());
            } else if a == "--out" {
                match it.next() {
                    Some(dir) => out = Some(dir.into()),
                    None => return "--out: give the directory to write the policies to\n".into(),
                }
            } else if a == "--engine" {
                engines = match it.next().unwrap_or("") {
                    "all" => engines,
                    name => match Engine::parse(name) {
                        Some(e) => vec![e],
                        None => {
                            return format!(
                                "--engine: '{name}' is not kyverno, kyverno-clusterpolicy, gatekeeper, vap or all\n"
                            );
                        }
                    },
                };
            } else {
                words.push(a);
            }
        }
        let target = match words.as_slice() {
            [] => {
                return "/policy ID|NAME|CATEGORY|REQUEST [--engine kyverno|gatekeeper|vap|all] [--out DIR]\n"
                    .into();
            }
            [one] => *one,
            // Several words: a request in plain language, for the model to propose.
            _ => return self.propose(&words.join(" "), &engines),
        };
        // A category with a finding in focus drafts from that finding, as `policy draft` does.
        let by_category = Category::from_str(target)
            .ok()
            .and_then(|c| self.in_focus().into_iter().find(|f| f.category == c));
        let found = match by_category {
            Some(f) => Ok(f),
            None => analyzers::find(&self.findings, target).cloned(),
        };
        let d = match (Category::from_str(target), found.as_ref(), &self.state) {
            (_, Ok(f), Some(st)) => draft::request_for_finding(f, st, engines)
                .and_then(|r| draft::draft(&r, f.guidance.clone())),
            (Ok(c), _, _) => draft::request_for_category(c, engines)
                .and_then(|r| draft::draft(&r, self.gi.for_category(c))),
            (Err(_), Err(e), _) => return format!("{e}\n"),
            (Err(_), Ok(_), None) => return "no cluster state loaded\n".into(),
        };
        match d {
            Ok(d) if d.proven() => {
                // With --out: the policies and their test bundles on disk, as `policy draft --out`.
                let written = match &out {
                    Some(dir) => match crate::policy::suite::write_bundle(dir, &d) {
                        Ok(w) => w,
                        Err(e) => return format!("--out {}: {e}\n", dir.display()),
                    },
                    None => Vec::new(),
                };
                crate::render::policy::draft_text(&d, &written, self.style, out.is_none())
            }
            Ok(d) => format!(
                "the draft for {} failed its proof and is not shown\n",
                d.policy
            ),
            Err(e) => format!("{e}\n"),
        }
    }

    /// `/policy require a team label on every namespace`: the model proposes, Sextant proves
    /// (bounded retries, as `policy draft --request`); Ctrl-C drops the request.
    pub(super) fn propose(&self, request: &str, engines: &[Engine]) -> String {
        use crate::policy::propose;
        let model = match (&self.llm, self.offline) {
            (Some(m), false) => m,
            _ => {
                return "a policy from a request in plain words needs a model (/offline off, and [llm] configured); offline, /policy takes a finding id or a category\n".into();
            }
        };
        crate::audit::record(
            "policy_request",
            serde_json::json!({"text": crate::redact::redact(request), "command": "/policy"}),
        );
        let mut out = String::new();
        for &engine in engines {
            let mut busy = None;
            let result = model.propose_policy(
                request,
                engine,
                &self.prompts,
                "repl",
                true,
                &mut |attempt| {
                    busy = Some(crate::render::progress::Busy::start(
                        crate::render::policy::asking(model.name(), engine, attempt),
                    ));
                },
            );
            drop(busy);
            match result {
                Ok(p) => out.push_str(&crate::render::policy::proposal_text(&p, self.style)),
                Err(propose::Refusal::Model(e)) if e == crate::assistant::model::CANCELLED => {
                    out.push_str("[cancelled]\n");
                    break;
                }
                Err(e) => out.push_str(&format!(
                    "model-proposed policy ({}): refused — {e}; nothing is shown that was not proven\n",
                    engine.as_str()
                )),
            }
        }
        out
    }

    pub(super) fn events(&self, object: &str) -> String {
        let st = match self.need_state() {
            Ok(s) => s,
            Err(e) => return e,
        };
        let mut evs: Vec<_> = st
            .events
            .iter()
            .filter(|e| {
                let io = &e.involved_object;
                (object.is_empty() || io.name.as_deref().is_some_and(|n| n.contains(object)))
                    && self
                        .namespace
                        .as_ref()
                        .is_none_or(|ns| io.namespace.as_ref() == Some(ns))
            })
            .collect();
        evs.sort_by_key(|e| std::cmp::Reverse(crate::state::event_time(e)));
        if evs.is_empty() {
            return "no events match\n".into();
        }
        let mut s = String::new();
        for e in evs.iter().take(30) {
            let io = &e.involved_object;
            let _ = writeln!(
                s,
                "{}  {:<8} {:<22} {}/{}/{}: {}{}",
                crate::state::event_time(e)
                    .map(|t| t.strftime("%m-%d %H:%M").to_string())
                    .unwrap_or_default(),
                e.type_.as_deref().unwrap_or(""),
                e.reason.as_deref().unwrap_or(""),
                io.kind.as_deref().unwrap_or("?"),
                io.namespace.as_deref().unwrap_or("-"),
                io.name.as_deref().unwrap_or("?"),
                crate::redact::redact(e.message.as_deref().unwrap_or("").trim()),
                e.count
                    .filter(|c| *c > 1)
                    .map(|c| format!(" (×{c})"))
                    .unwrap_or_default()
            );
        }
        if evs.len() > 30 {
            let _ = writeln!(s, "… {} more", evs.len() - 30);
        }
        s
    }

    pub(super) fn logs(&self, args: &str) -> String {
        let st = match self.need_state() {
            Ok(s) => s,
            Err(e) => return e,
        };
        let mut it = args.split_whitespace();
        let Some(pod) = it.next() else {
            return "/logs POD [-c CONTAINER] [--previous]\n".into();
        };
        let (mut container, mut previous) = (None, false);
        while let Some(a) = it.next() {
            match a {
                "-c" | "--container" => container = it.next().map(str::to_string),
                "--previous" | "-p" => previous = true,
                other => return format!("/logs: unknown argument {other}\n"),
            }
        }
        let Some(p) = st
            .pods
            .iter()
            .find(|p| p.metadata.name.as_deref() == Some(pod))
        else {
            return format!("no pod {pod} in the loaded state\n");
        };
        let ns = p.metadata.namespace.clone().unwrap_or_default();
        let mut lines: Vec<String> = Vec::new();
        st.logs
            .for_each_line(&ns, pod, |c: &str, prev: bool, _: usize, line: &str| {
                if container.as_deref().is_none_or(|want| c == want) && prev == previous {
                    lines.push(format!(
                        "[{c}{}] {}",
                        if prev { " previous" } else { "" },
                        crate::redact::redact(line)
                    ));
                }
            });
        if lines.is_empty() {
            return format!(
                "no {}log for {ns}/{pod}\n",
                if previous { "previous " } else { "" }
            );
        }
        let skip = lines.len().saturating_sub(40);
        let mut s = if skip > 0 {
            format!("… {skip} earlier lines\n")
        } else {
            String::new()
        };
        for l in &lines[skip..] {
            s.push_str(l);
            s.push('\n');
        }
        s
    }

    pub(super) fn search(&mut self, q: &str) -> String {
        if q.is_empty() {
            return "/search QUERY\n".into();
        }
        if self.search.is_none() {
            let Some(st) = &self.state else {
                return self.need_state().err().unwrap_or_default();
            };
            let busy = crate::render::progress::Busy::start("indexing the loaded state");
            let built = SearchIndex::in_memory().and_then(|mut i| {
                i.update_cluster("session", st, &self.findings)?;
                Ok(i)
            });
            drop(busy);
            match built {
                Ok(i) => self.search = Some(i),
                Err(e) => return format!("search index: {e}\n"),
            }
        }
        let mut query = SearchQuery::new(q);
        query.kinds = vec![DocKind::Event, DocKind::Log, DocKind::Finding];
        query.limit = 10;
        match self.search.as_ref().map(|i| i.search(&query)) {
            Some(Ok(hits)) if !hits.is_empty() => hits
                .iter()
                .map(|h| {
                    format!(
                        "[{}] {} {}: {}\n",
                        h.kind.as_str(),
                        h.namespace.as_deref().unwrap_or("-"),
                        h.object.as_deref().unwrap_or(&h.heading),
                        h.text
                            .split_whitespace()
                            .collect::<Vec<_>>()
                            .join(" ")
                            .chars()
                            .take(200)
                            .collect::<String>()
                    )
                })
                .collect(),
            Some(Ok(_)) => "no match\n".into(),
            Some(Err(e)) => format!("search: {e}\n"),
            None => String::new(),
        }
    }

    pub(super) fn guidance(&self, q: &str) -> String {
        if q.is_empty() {
            return "/guidance QUERY\n".into();
        }
        match self.gi.search(q, 5, None) {
            Ok(hits) if !hits.is_empty() => hits
                .iter()
                .map(|h| {
                    format!(
                        "{} ({}, {})\n  {}\n",
                        h.heading,
                        h.file,
                        h.id,
                        h.text
                            .split_whitespace()
                            .collect::<Vec<_>>()
                            .join(" ")
                            .chars()
                            .take(300)
                            .collect::<String>()
                    )
                })
                .collect(),
            Ok(_) => "no section matches\n".into(),
            Err(e) => format!("guidance: {e}\n"),
        }
    }

    pub(super) fn set_ns(&mut self, ns: &str) -> String {
        match ns {
            "" => format!(
                "namespace: {}\n",
                self.namespace.as_deref().unwrap_or("all")
            ),
            "-" => {
                self.namespace = None;
                "all namespaces\n".into()
            }
            ns => {
                let Some(st) = self.state.as_ref() else {
                    return "no cluster state loaded\n".into();
                };
                // The CLI's check and wording: "no namespace `Shop` … (did you mean `shop`?)".
                if let Err(e) = crate::source::check_namespace_in(st, ns, "in the loaded state") {
                    let e = e.to_string();
                    let why = e.split_once(": ").map_or(e.as_str(), |(_, w)| w);
                    return format!("{why}\n");
                }
                self.namespace = Some(ns.to_string());
                format!("namespace {ns}\n")
            }
        }
    }

    pub(super) fn set_context(&mut self, name: &str) -> String {
        if name.is_empty() {
            return format!(
                "source: {}\n",
                self.info
                    .as_ref()
                    .map(|i| i.path_or_context.as_str())
                    .unwrap_or("none")
            );
        }
        if self
            .info
            .as_ref()
            .is_some_and(|i| i.kind == crate::state::SourceKind::Snapshot)
        {
            return "a snapshot has no contexts: restart without --snapshot to read a live cluster\n".into();
        }
        let previous = self.context.replace(name.to_string());
        match self.reload() {
            Ok(()) => format!("context {name}: {} findings\n", self.findings.len()),
            Err(e) if e == "cancelled" => {
                self.context = previous;
                format!("[cancelled] still on {}\n", self.source_name())
            }
            Err(e) => format!("context {name}: {e}\n"),
        }
    }

    /// What the last answer drew on: its findings, and each citation with its text (the
    /// model's `[E1]`/`[G2]` under their own ids).
    pub(super) fn sources(&self) -> String {
        let Some(a) = &self.last else {
            return "no answer yet\n".into();
        };
        let mut s = format!("mode: {:?}\n", a.mode).to_lowercase();
        if !a.findings.is_empty() {
            let _ = writeln!(s, "findings: {}", a.findings.join(", "));
        }
        if a.mode == crate::assistant::Mode::Llm && !self.last_cited.is_empty() {
            // The model's `[E…]` and `[G…]`, looked up: what each points at and its text.
            for (id, what, text) in &self.last_cited {
                let _ = writeln!(s, "[{id}] {what}");
                if !text.is_empty() {
                    let _ = writeln!(s, "     “{}”", crate::render::text::cut(text.trim(), 200));
                }
            }
            return s;
        }
        for (i, c) in a.citations.iter().enumerate() {
            let _ = writeln!(s, "[{}] {} ({}, {})", i + 1, c.heading, c.file, c.id);
            let _ = writeln!(
                s,
                "     “{}”",
                crate::render::text::cut(c.quote.trim(), 200)
            );
        }
        s
    }

    pub(super) fn save(&self, file: &str) -> String {
        if file.is_empty() {
            return "/save FILE\n".into();
        }
        let mut md = format!(
            "# Sextant session\n\nsource: {}\n\n",
            self.info
                .as_ref()
                .map(|i| i.path_or_context.as_str())
                .unwrap_or("none")
        );
        for (q, a) in &self.transcript {
            let a = crate::render::terminal::plain_text(a);
            let _ = write!(
                md,
                "## {q}\n\n```text\n{}```\n\n",
                crate::redact::redact(&a)
            );
        }
        match std::fs::write(file, md) {
            Ok(()) => format!("saved {} turns to {file}\n", self.transcript.len()),
            Err(e) => format!("/save {file}: {e}\n"),
        }
    }
}
