//! Markdown for a terminal, a line at a time: a model's answer streams in lines, and each is
//! shown as it arrives — headings, lists, emphasis and inline code through termimad, fenced
//! code blocks with YAML highlighted (keys, values, comments), fences replaced by a thin rule.
//!
//! With colour off (stdout not a terminal, or `NO_COLOR`) every line passes through untouched:
//! termimad itself would emit escape codes regardless, so it is never called then.

use super::Style;
use termimad::MadSkin;
use termimad::crossterm::style::Color;

/// ANSI pieces for code blocks.
const DIM: &str = "\x1b[2m";
const KEY: &str = "\x1b[36m";
const STRING: &str = "\x1b[32m";
const LITERAL: &str = "\x1b[35m";
const RESET: &str = "\x1b[0m";

/// Renders markdown lines for the terminal as they come.
pub struct MarkdownStream {
    skin: Option<MadSkin>,
    /// Inside a fenced block: its language.
    code: Option<String>,
}

impl MarkdownStream {
    pub fn new(style: Style) -> MarkdownStream {
        let skin = style.color.then(|| {
            let mut s = MadSkin::default();
            for h in s.headers.iter_mut() {
                h.align = termimad::Alignment::Left;
            }
            s.set_headers_fg(Color::Cyan);
            s.bold.set_fg(Color::White);
            s
        });
        MarkdownStream { skin, code: None }
    }

    /// One line (with or without its newline): what to print, ending in a newline.
    pub fn line(&mut self, line: &str) -> String {
        let line = line.strip_suffix('\n').unwrap_or(line);
        let Some(skin) = &self.skin else {
            return format!("{line}\n");
        };
        let fence = line.trim_start().strip_prefix("```");
        match (&self.code, fence) {
            (None, Some(lang)) => {
                let lang = lang.trim().to_lowercase();
                let label = if lang.is_empty() { "code" } else { &lang };
                let out = format!("{DIM}── {label} ──{RESET}\n");
                self.code = Some(lang);
                out
            }
            (Some(_), Some(_)) => {
                self.code = None;
                format!("{DIM}──{RESET}\n")
            }
            (Some(lang), None) => {
                if matches!(lang.as_str(), "yaml" | "yml" | "") {
                    format!("{}\n", yaml_line(line))
                } else {
                    format!("{line}\n")
                }
            }
            (None, None) => {
                if line.trim().is_empty() {
                    return "\n".into();
                }
                let text = skin.term_text(line).to_string();
                format!("{}\n", text.trim_end_matches('\n'))
            }
        }
    }

    /// Close what is open at the end of the answer (an unterminated code block).
    pub fn finish(&mut self) -> String {
        match (self.code.take(), &self.skin) {
            (Some(_), Some(_)) => format!("{DIM}──{RESET}\n"),
            _ => String::new(),
        }
    }

    /// Every line of `text`, then [`finish`](Self::finish).
    pub fn render(style: Style, text: &str) -> String {
        let mut m = MarkdownStream::new(style);
        let mut out: String = text.lines().map(|l| m.line(l)).collect();
        out.push_str(&m.finish());
        out
    }
}

/// One YAML line coloured: comments dim, keys cyan, quoted strings green, numbers and
/// booleans magenta; indentation and every character kept (the text can still be copied).
pub fn yaml_line(line: &str) -> String {
    let indent = line.len() - line.trim_start().len();
    let (lead, rest) = line.split_at(indent);
    if rest.starts_with('#') {
        return format!("{lead}{DIM}{rest}{RESET}");
    }
    let (dash, rest) = match rest.strip_prefix("- ") {
        Some(r) => ("- ", r),
        None => ("", rest),
    };
    let (body, comment) = split_comment(rest);
    let coloured = match key_split(body) {
        Some((key, value)) => format!("{KEY}{key}{RESET}:{}", value_colour(value)),
        None => value_colour(body),
    };
    let comment = if comment.is_empty() {
        String::new()
    } else {
        format!("{DIM}{comment}{RESET}")
    };
    format!("{lead}{dash}{coloured}{comment}")
}

/// `key: value` → ("key", " value"); a key has no spaces unless quoted.
fn key_split(s: &str) -> Option<(&str, &str)> {
    let i = s.find(':')?;
    let (key, after) = (&s[..i], &s[i + 1..]);
    let quoted = (key.starts_with('"') && key.ends_with('"'))
        || (key.starts_with('\'') && key.ends_with('\''));
    let plain = !key.is_empty() && !key.contains(char::is_whitespace);
    ((quoted || plain) && (after.is_empty() || after.starts_with(' '))).then_some((key, after))
}

/// Split off a ` # comment` that is not inside quotes.
fn split_comment(s: &str) -> (&str, &str) {
    let mut quote: Option<char> = None;
    let mut prev = ' ';
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (None, '"' | '\'') => quote = Some(c),
            (None, '#') if prev == ' ' => return (&s[..i], &s[i..]),
            _ => {}
        }
        prev = c;
    }
    (s, "")
}

fn value_colour(v: &str) -> String {
    let t = v.trim();
    if t.is_empty() {
        return v.to_string();
    }
    let lead = &v[..v.len() - v.trim_start().len()];
    let trail = &v[v.trim_end().len()..];
    let colour = if t.starts_with('"') || t.starts_with('\'') {
        STRING
    } else if t.parse::<f64>().is_ok()
        || matches!(t, "true" | "false" | "null" | "~" | "True" | "False")
    {
        LITERAL
    } else {
        return v.to_string();
    };
    format!("{lead}{colour}{t}{RESET}{trail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strip(s: &str) -> String {
        let re = regex::Regex::new("\x1b\\[[0-9;]*m").expect("re");
        re.replace_all(s, "").into_owned()
    }

    #[test]
    fn plain_style_passes_every_line_through() {
        let text = "# Cause\n- ledger **OOMKilled** [E1]\n```yaml\nkind: Pod\n```\n";
        let out = MarkdownStream::render(Style::plain(), text);
        assert_eq!(out, text);
        assert!(!out.contains('\x1b'));
    }

    #[test]
    fn colour_renders_markdown_and_highlights_yaml_keeping_the_text() {
        let text = "# Cause\nledger was **OOMKilled** [E1]\n```yaml\nspec:\n  - name: \"web\" # the app\n    replicas: 3\n```\nafter\n";
        let out = MarkdownStream::render(Style { color: true }, text);
        assert!(out.contains('\x1b'), "{out:?}");
        let plain = strip(&out);
        assert!(
            plain.contains("Cause") && !plain.contains("# Cause"),
            "{plain}"
        );
        assert!(plain.contains("ledger was OOMKilled [E1]"), "{plain}");
        assert!(!plain.contains("**") && !plain.contains("```"), "{plain}");
        assert!(plain.contains("── yaml ──"), "{plain}");
        // The YAML is intact once the colour is gone: it can be copied as it is.
        assert!(
            plain.contains("spec:\n  - name: \"web\" # the app\n    replicas: 3\n"),
            "{plain}"
        );
        assert!(out.contains(&format!("{KEY}replicas{RESET}")), "{out:?}");
        assert!(out.contains(&format!("{STRING}\"web\"{RESET}")), "{out:?}");
        assert!(out.contains(&format!("{DIM}# the app{RESET}")), "{out:?}");
        assert!(plain.ends_with("──\nafter\n"), "{plain}");
    }

    #[test]
    fn an_unclosed_block_is_closed_at_the_end() {
        let out = MarkdownStream::render(Style { color: true }, "```yaml\na: 1");
        assert!(strip(&out).ends_with("a: 1\n──\n"), "{out:?}");
    }

    #[test]
    fn yaml_edge_cases() {
        assert_eq!(
            strip(&yaml_line("url: http://x:80/a # c")),
            "url: http://x:80/a # c"
        );
        assert!(yaml_line("url: http://x:80/a").starts_with(&format!("{KEY}url{RESET}:")));
        assert_eq!(yaml_line("just text"), "just text");
        assert_eq!(
            yaml_line("msg: \"a # b\""),
            format!("{KEY}msg{RESET}: {STRING}\"a # b\"{RESET}")
        );
    }
}

/// An offline answer for a terminal: severities in their colours, `Why:` / `Fix:` / `Level 4:`
/// labels bold, quoted evidence dim, section headings cyan. Every character of the plain text
/// is kept (only escapes are added), and nothing is added without colour.
pub fn offline_answer(text: &str, style: Style) -> String {
    const BOLD: &str = "\x1b[1m";
    const RED: &str = "\x1b[1;31m";
    const YELLOW: &str = "\x1b[1;33m";
    if !style.color {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 64);
    for line in text.split_inclusive('\n') {
        let (body, nl) = match line.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (line, ""),
        };
        let indent = body.len() - body.trim_start().len();
        let (lead, rest) = body.split_at(indent);
        let painted = if let Some(r) = rest.strip_prefix("CRITICAL") {
            format!("{lead}{RED}CRITICAL{RESET}{r}")
        } else if let Some(r) = rest.strip_prefix("WARNING") {
            format!("{lead}{YELLOW}WARNING{RESET}{r}")
        } else if let Some(r) = rest.strip_prefix("INFO") {
            format!("{lead}{KEY}INFO{RESET}{r}")
        } else if rest.starts_with("> ") {
            format!("{lead}{DIM}{rest}{RESET}")
        } else if let Some((label, r)) = ["Why:", "Fix:", "Level 4:", "Cause:", "Evidence:"]
            .iter()
            .find_map(|l| rest.strip_prefix(l).map(|r| (*l, r)))
        {
            format!("{lead}{BOLD}{label}{RESET}{r}")
        } else if indent == 0 && rest.ends_with(':') && !rest.is_empty() {
            format!("{KEY}{rest}{RESET}")
        } else {
            body.to_string()
        };
        out.push_str(&painted);
        out.push_str(nl);
    }
    out
}

/// `text` without terminal colour escapes (what goes into files: `/save`).
pub fn plain_text(text: &str) -> std::borrow::Cow<'_, str> {
    static ESC: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    match ESC.get_or_init(|| regex::Regex::new("\x1b\\[[0-9;]*m").ok()) {
        Some(re) => re.replace_all(text, ""),
        None => std::borrow::Cow::Borrowed(text),
    }
}

#[cfg(test)]
mod offline_tests {
    use super::*;

    #[test]
    fn offline_answers_keep_every_character() {
        let text = "1 finding(s), 1 critical:\n\nCRITICAL Pod/p/x — down [F-1]\n  Why: it broke\n  > [log] panic: x\n  Fix: fix it\n";
        assert_eq!(offline_answer(text, Style::plain()), text);
        let coloured = offline_answer(text, Style { color: true });
        assert!(coloured.contains("\x1b[1;31mCRITICAL\x1b[0m"));
        assert_eq!(plain_text(&coloured), text);
    }
}
