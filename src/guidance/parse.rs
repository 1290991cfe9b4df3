//! Markdown and plain-text documents → sections.

use super::{Revision, Section, normalise};
use crate::lang;
use regex::Regex;
use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("static regex"))
}

/// `<i class="fas fa-users"></i>` and any other inline HTML tag.
fn strip_tags(s: &str) -> String {
    static TAG: OnceLock<Regex> = OnceLock::new();
    re(&TAG, r"<[^>]*>").replace_all(s, "").to_string()
}

/// Inline markdown → text: links keep their text, emphasis markers go.
fn inline(s: &str) -> String {
    static LINK: OnceLock<Regex> = OnceLock::new();
    let s = strip_tags(s);
    let s = re(&LINK, r"\[([^\]]*)\]\([^)]*\)").replace_all(&s, "$1");
    s.replace("**", "").replace("__", "").trim().to_string()
}

/// The id prefix of a file: markdown drops its extension (`level-4.en.v1.md` →
/// `level-4.en.v1`), other files keep it so a `.txt` rendering of the same page gets ids of
/// its own.
fn stem(file: &str) -> &str {
    file.strip_suffix(".md").unwrap_or(file)
}

/// `level-4.en.v1.md` is an earlier revision; so is any `.vN` file.
fn revision_of(file: &str) -> Revision {
    static V: OnceLock<Regex> = OnceLock::new();
    if re(&V, r"\.v\d+\.").is_match(file) {
        Revision::Earlier
    } else {
        Revision::Current
    }
}

fn level_of(file: &str, title: &str) -> u8 {
    static L: OnceLock<Regex> = OnceLock::new();
    let r = re(&L, r"(?i)level[- ](\d+)");
    r.captures(title)
        .or_else(|| r.captures(file))
        .and_then(|c| c[1].parse().ok())
        .unwrap_or(0)
}

fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

/// Collects sections of one document, giving each a unique id.
struct Builder<'a> {
    file: &'a str,
    level: u8,
    revision: Revision,
    out: Vec<Section>,
    ids: HashMap<String, usize>,
}

impl<'a> Builder<'a> {
    fn new(file: &'a str, level: u8) -> Self {
        Builder {
            file,
            level,
            revision: revision_of(file),
            out: Vec::new(),
            ids: HashMap::new(),
        }
    }

    fn push(&mut self, path: &[String], paragraphs: Vec<String>, lines: (usize, usize)) {
        // Repeated paragraphs (a copy-paste in the source) are kept once.
        let mut seen = HashSet::new();
        let paragraphs: Vec<String> = paragraphs
            .into_iter()
            .filter(|p| !p.trim().is_empty() && seen.insert(normalise(p)))
            .collect();
        if paragraphs.is_empty() || path.is_empty() {
            return;
        }
        let text = paragraphs.join("\n\n");
        let base = format!(
            "{}/{}",
            stem(self.file),
            path.iter().map(|p| slug(p)).collect::<Vec<_>>().join("/")
        );
        let n = self.ids.entry(base.clone()).or_insert(0);
        *n += 1;
        let id = if *n == 1 { base } else { format!("{base}-{n}") };
        // Mixed files (zh with untranslated English parts): each section its own language.
        let lang = lang::detect(&text);
        self.out.push(Section {
            id,
            file: self.file.to_string(),
            lang,
            level: self.level,
            heading: path.join(" > "),
            text,
            lines,
            revision: self.revision,
            aliases: Vec::new(),
        });
    }
}

/// Split body lines into paragraphs; list items stay one per line, marked "•".
fn paragraphs(lines: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur: Vec<String> = Vec::new();
    let flush = |cur: &mut Vec<String>, out: &mut Vec<String>| {
        if !cur.is_empty() {
            out.push(cur.join("\n"));
            cur.clear();
        }
    };
    for l in lines {
        let t = l.trim();
        if t.is_empty() {
            flush(&mut cur, &mut out);
            continue;
        }
        let bullet = t
            .strip_prefix("- ")
            .or_else(|| t.strip_prefix("* "))
            .or_else(|| t.strip_prefix("• "));
        match bullet {
            Some(b) => cur.push(format!("• {}", inline(b))),
            None => {
                let text = inline(t);
                match cur.last_mut() {
                    Some(last) if !last.starts_with('•') => {
                        last.push(' ');
                        last.push_str(&text);
                    }
                    _ => cur.push(text),
                }
            }
        }
    }
    flush(&mut cur, &mut out);
    out
}

/// Front matter (`---` … `---`): title and description.
fn front_matter(content: &str) -> (Option<String>, Option<String>, usize) {
    let mut lines = content.lines();
    if lines.next().map(str::trim) != Some("---") {
        return (None, None, 0);
    }
    let mut body = String::new();
    let mut n = 1;
    for l in lines {
        n += 1;
        if l.trim() == "---" {
            let map: HashMap<String, serde_json::Value> =
                serde_saphyr::from_str(&body).unwrap_or_default();
            let get = |k: &str| map.get(k).and_then(|v| v.as_str()).map(str::to_string);
            return (get("title"), get("description"), n);
        }
        body.push_str(l);
        body.push('\n');
    }
    (None, None, 0)
}

/// A Hugo/markdown document.
pub fn parse_markdown(file: &str, content: &str) -> Vec<Section> {
    static HEADING: OnceLock<Regex> = OnceLock::new();
    let heading = re(&HEADING, r"^(#{1,6})\s+(.*?)\s*#*\s*$");
    let (title, description, body_start) = front_matter(content);
    let mut b = Builder::new(file, level_of(file, title.as_deref().unwrap_or("")));
    if let (Some(t), Some(d)) = (&title, &description) {
        b.push(&[inline(t)], vec![inline(d)], (1, body_start.max(1)));
    }
    let lines: Vec<&str> = content.lines().collect();
    let mut stack: Vec<(usize, String)> = Vec::new();
    let mut body: Vec<&str> = Vec::new();
    let mut start = body_start + 1;
    let flush = |b: &mut Builder, stack: &[(usize, String)], body: &mut Vec<&str>, start, end| {
        let path: Vec<String> = stack.iter().map(|(_, h)| h.clone()).collect();
        b.push(&path, paragraphs(body), (start, end));
        body.clear();
    };
    let mut in_code = false;
    for (i, line) in lines.iter().enumerate().skip(body_start) {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
        }
        let caps = if in_code {
            None
        } else {
            heading.captures(line)
        };
        match caps {
            Some(c) => {
                flush(&mut b, &stack, &mut body, start, i);
                let depth = c[1].len();
                let text = inline(&c[2]);
                stack.retain(|(d, _)| *d < depth);
                stack.push((depth, text));
                start = i + 1;
            }
            None => body.push(line),
        }
    }
    flush(&mut b, &stack, &mut body, start, lines.len());
    b.out
}

/// A bare line that reads as a heading: short, no sentence punctuation, blank lines around.
fn looks_like_heading(lines: &[&str], i: usize) -> bool {
    let t = lines[i].trim();
    let blank =
        |j: Option<usize>| j.is_none_or(|j| lines.get(j).is_none_or(|l| l.trim().is_empty()));
    !t.is_empty()
        && t.chars().count() <= 70
        && t.split_whitespace().count() <= 8
        && !t.ends_with(['.', ':', ',', ';', '!', '?', '。', '：'])
        && !t.starts_with('•')
        && t.chars()
            .next()
            .is_some_and(|c| c.is_uppercase() || c.is_numeric() || !c.is_ascii())
        && blank(i.checked_sub(1))
        && blank(Some(i + 1))
        && lines[i + 1..].iter().any(|l| !l.trim().is_empty())
}

/// The plain-text rendering: title line, description paragraph, bare-line headings, "•"
/// bullets, a "Last modified" footer. `top_level` names the parts (from the markdown
/// siblings); a heading directly followed by another heading also opens a part.
pub fn parse_text(file: &str, content: &str, top_level: &HashSet<String>) -> Vec<Section> {
    static FOOTER: OnceLock<Regex> = OnceLock::new();
    let footer = re(&FOOTER, r"^Last modified \w+ \d{1,2}, \d{4}");
    let lines: Vec<&str> = content
        .lines()
        .map(|l| if footer.is_match(l.trim()) { "" } else { l })
        .collect();
    let Some(first) = lines.iter().position(|l| !l.trim().is_empty()) else {
        return Vec::new();
    };
    let title = lines[first].trim();
    let mut b = Builder::new(file, level_of(file, title));
    let mut i = first + 1;
    // The description: the paragraph after the title, when the title names a level.
    if b.level > 0 {
        while i < lines.len() && lines[i].trim().is_empty() {
            i += 1;
        }
        let d0 = i;
        while i < lines.len() && !lines[i].trim().is_empty() {
            i += 1;
        }
        b.push(
            &[title.to_string()],
            paragraphs(&lines[d0..i]),
            (first + 1, i),
        );
    }
    let mut path: Vec<String> = Vec::new();
    let mut body: Vec<&str> = Vec::new();
    let mut start = i + 1;
    while i < lines.len() {
        if looks_like_heading(&lines, i) {
            b.push(&path, paragraphs(&body), (start, i));
            body.clear();
            let h = lines[i].trim().to_string();
            let next = (i + 1..lines.len()).find(|&j| !lines[j].trim().is_empty());
            let opens_part =
                top_level.contains(&h) || next.is_some_and(|j| looks_like_heading(&lines, j));
            if opens_part {
                path = vec![h];
            } else {
                path.truncate(1);
                path.push(h);
            }
            start = i + 1;
        } else {
            body.push(lines[i]);
        }
        i += 1;
    }
    b.push(&path, paragraphs(&body), (start, lines.len()));
    b.out
}
