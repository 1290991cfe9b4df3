//! Prompts: the files of `prompts/` compiled in as defaults, overridable by a directory
//! (`--prompts DIR` / config). Each file starts with `<!-- sextant-prompt: NAME vN -->`; the
//! versions together form [`Prompts::version`], which is part of any answer cache key.

use std::path::Path;

/// The prompt set in use.
#[derive(Debug, Clone)]
pub struct Prompts {
    pub system: String,
    pub answer: String,
    pub explain_finding: String,
    pub draft_policy: String,
}

const FILES: [(&str, &str); 4] = [
    ("system.md", include_str!("../../prompts/system.md")),
    ("answer.md", include_str!("../../prompts/answer.md")),
    (
        "explain-finding.md",
        include_str!("../../prompts/explain-finding.md"),
    ),
    (
        "draft-policy.md",
        include_str!("../../prompts/draft-policy.md"),
    ),
];

impl Default for Prompts {
    fn default() -> Prompts {
        Prompts {
            system: FILES[0].1.to_string(),
            answer: FILES[1].1.to_string(),
            explain_finding: FILES[2].1.to_string(),
            draft_policy: FILES[3].1.to_string(),
        }
    }
}

impl Prompts {
    /// The compiled-in prompts, with any file of `dir` replacing its default. A file that
    /// exists but cannot be read, or lacks the version header, is an error naming it.
    pub fn load(dir: Option<&Path>) -> crate::Result<Prompts> {
        let mut p = Prompts::default();
        let Some(dir) = dir else {
            return Ok(p);
        };
        if !dir.is_dir() {
            return Err(crate::Error::Usage(format!(
                "--prompts {}: not a directory",
                dir.display()
            )));
        }
        for (name, _) in FILES {
            let path = dir.join(name);
            if !path.exists() {
                continue;
            }
            let text = std::fs::read_to_string(&path)
                .map_err(|e| crate::Error::Usage(format!("--prompts {}: {e}", path.display())))?;
            if header(&text).is_none() {
                return Err(crate::Error::Usage(format!(
                    "--prompts {}: the first line must be `<!-- sextant-prompt: NAME vN -->`",
                    path.display()
                )));
            }
            let slot = match name {
                "system.md" => &mut p.system,
                "answer.md" => &mut p.answer,
                "explain-finding.md" => &mut p.explain_finding,
                _ => &mut p.draft_policy,
            };
            *slot = text;
        }
        Ok(p)
    }

    /// `system:v1,answer:v1,…` — changes whenever any prompt's version does.
    pub fn version(&self) -> String {
        [
            &self.system,
            &self.answer,
            &self.explain_finding,
            &self.draft_policy,
        ]
        .iter()
        .filter_map(|t| header(t))
        .map(|(n, v)| format!("{n}:{v}"))
        .collect::<Vec<_>>()
        .join(",")
    }
}

/// (name, version) of a prompt's header line.
fn header(text: &str) -> Option<(String, String)> {
    let first = text.lines().next()?.trim();
    let inner = first
        .strip_prefix("<!--")?
        .strip_suffix("-->")?
        .trim()
        .strip_prefix("sextant-prompt:")?
        .trim();
    let (name, version) = inner.split_once(char::is_whitespace)?;
    Some((name.to_string(), version.trim().to_string()))
}

/// Fill `{{name}}` placeholders; the header line is not sent.
pub fn render(template: &str, vars: &[(&str, &str)]) -> String {
    let body = match template.split_once('\n') {
        Some((first, rest)) if first.trim_start().starts_with("<!--") => rest,
        _ => template,
    };
    let mut out = body.to_string();
    for (k, v) in vars {
        out = out.replace(&format!("{{{{{k}}}}}"), v);
    }
    out.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_versioned_and_overridable() {
        let p = Prompts::default();
        assert_eq!(
            p.version(),
            "system:v1,answer:v1,explain-finding:v1,draft-policy:v2"
        );
        let dir = tempfile::tempdir().expect("tmp");
        std::fs::write(
            dir.path().join("answer.md"),
            "<!-- sextant-prompt: answer v7 -->\nQ: {{question}}",
        )
        .expect("write");
        let p = Prompts::load(Some(dir.path())).expect("load");
        assert!(p.version().contains("answer:v7"));
        assert_eq!(render(&p.answer, &[("question", "why?")]), "Q: why?");
        std::fs::write(dir.path().join("system.md"), "no header").expect("write");
        let e = Prompts::load(Some(dir.path())).expect_err("no header");
        assert!(e.to_string().contains("system.md"), "{e}");
    }
}
