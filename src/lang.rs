//! Language of a section or a query: English, German or Chinese — the languages the guidance
//! corpus ships in. Detection is `whatlang` restricted to those three, with a fast path for
//! Chinese script (a query of two CJK characters is too short for trigram statistics) and a
//! short-text fallback on German function words and umlauts.

use serde::Serialize;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    En,
    De,
    Zh,
}

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::En, Lang::De, Lang::Zh];

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::De => "de",
            Lang::Zh => "zh",
        }
    }

    pub fn from_code(s: &str) -> Option<Lang> {
        match s.to_ascii_lowercase().as_str() {
            "en" => Some(Lang::En),
            "de" => Some(Lang::De),
            "zh" | "cn" | "zh-cn" => Some(Lang::Zh),
            _ => None,
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0xF900..=0xFAFF | 0x3000..=0x303F | 0xFF00..=0xFFEF)
}

/// German words that do not occur in English text (short queries carry few letters).
const DE_MARKERS: &[&str] = &[
    "der",
    "die",
    "das",
    "und",
    "ist",
    "nicht",
    "mit",
    "für",
    "sie",
    "ein",
    "eine",
    "einen",
    "wie",
    "werden",
    "wird",
    "auf",
    "von",
    "zu",
    "im",
    "bei",
    "oder",
    "welche",
    "was",
    "warum",
    "sollte",
    "soll",
    "können",
    "kann",
    "unsere",
    "unser",
    "ihre",
    "ich",
    "wir",
    "es",
    "den",
    "dem",
    "des",
    "sind",
    "gibt",
    "durch",
    "über",
    "nach",
    "richtlinien",
    "sicherheit",
];
const EN_MARKERS: &[&str] = &[
    "the", "and", "is", "are", "of", "to", "with", "for", "you", "your", "what", "how", "why",
    "should", "can", "our", "we", "in", "on", "does", "do", "a", "an", "it", "this", "that",
];

/// Detect the language of `text`.
pub fn detect(text: &str) -> Lang {
    let letters = text.chars().filter(|c| c.is_alphabetic()).count();
    if letters == 0 {
        return Lang::En;
    }
    let cjk = text.chars().filter(|&c| is_cjk(c)).count();
    // Chinese characters carry a word each; a few of them outweigh many Latin letters.
    if cjk * 4 >= letters {
        return Lang::Zh;
    }
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    if words.len() <= 12 {
        let de = words.iter().filter(|w| DE_MARKERS.contains(w)).count()
            + usize::from(lower.contains(['ä', 'ö', 'ü', 'ß']));
        let en = words.iter().filter(|w| EN_MARKERS.contains(w)).count();
        if de > en {
            return Lang::De;
        }
        if en > de {
            return Lang::En;
        }
    }
    let detector = whatlang::Detector::with_allowlist(vec![
        whatlang::Lang::Eng,
        whatlang::Lang::Deu,
        whatlang::Lang::Cmn,
    ]);
    // A short text without marker words ("audit logs") is not evidence of German: only a
    // detection whatlang itself calls reliable moves away from English, the corpus's first
    // language (the other languages stay reachable as fallbacks).
    match detector.detect(text) {
        Some(info) if info.is_reliable() && info.lang() == whatlang::Lang::Deu => Lang::De,
        Some(info) if info.is_reliable() && info.lang() == whatlang::Lang::Cmn => Lang::Zh,
        _ => Lang::En,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_the_three_languages_even_when_short() {
        assert_eq!(detect("如何加强安全"), Lang::Zh);
        assert_eq!(detect("安全"), Lang::Zh);
        assert_eq!(detect("Wie setze ich Richtlinien durch?"), Lang::De);
        assert_eq!(detect("Sicherheit und Richtlinien"), Lang::De);
        assert_eq!(detect("how do we enforce policy in production"), Lang::En);
        assert_eq!(detect("cost optimization"), Lang::En);
        assert_eq!(detect("audit logs"), Lang::En);
        assert_eq!(
            detect(
                "Sie verbessern Sicherheit, Richtlinien und Governance in Ihrer gesamten Umgebung."
            ),
            Lang::De
        );
        assert_eq!(
            detect("Organizations may wish to consider the CKS around level 4."),
            Lang::En
        );
    }
}
