//! Text that came from a cluster, a log or a model is data: before any of it reaches a
//! terminal, a markdown report or a saved answer, control characters are shown escaped, never
//! interpreted — ESC and every CSI/OSC sequence it starts (clipboard writes, screen clears,
//! hidden links), C1 controls, carriage returns that overwrite a line, backspaces, and the
//! bidirectional overrides that make text read differently than it is. Newlines and tabs stay.
//!
//! One function, [`neutralise`], used by the analyzers on every finding they emit, by the
//! assistant on every answer (offline and streamed from a model) and by the renderers.

use std::borrow::Cow;

/// Whether `c` must not reach a terminal as itself.
fn dangerous(c: char) -> bool {
    let u = c as u32;
    (u < 0x20 && c != '\n' && c != '\t')
        || u == 0x7f
        || (0x80..=0x9f).contains(&u)
        || (0x202a..=0x202e).contains(&u)
        || (0x2066..=0x2069).contains(&u)
        || u == 0x200e
        || u == 0x200f
}

/// `text` with every dangerous character written as a visible escape (`\x1b`, `\u{202e}`).
pub fn neutralise(text: &str) -> Cow<'_, str> {
    if !text.chars().any(dangerous) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if dangerous(c) {
            let u = c as u32;
            if u <= 0xff {
                out.push_str(&format!("\\x{u:02x}"));
            } else {
                out.push_str(&format!("\\u{{{u:x}}}"));
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_are_shown_not_interpreted() {
        for (hostile, shown) in [
            ("\x1b]52;c;ZXZpbA==\x07", "\\x1b]52;c;ZXZpbA==\\x07"),
            ("\x1b[2J", "\\x1b[2J"),
            ("\u{9b}31m", "\\x9b31m"),
            ("ok\rFAKE", "ok\\x0dFAKE"),
            ("abc\u{202e}gnp.exe", "abc\\u{202e}gnp.exe"),
        ] {
            assert_eq!(neutralise(hostile), shown);
        }
        assert!(matches!(neutralise("plain\ttext\n"), Cow::Borrowed(_)));
    }
}
