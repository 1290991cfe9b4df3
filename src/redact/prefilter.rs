//! The keyword pre-filter in front of the rule set: text that holds none of the rules'
//! keywords cannot match any rule, and skips the regexes.
//!
//! Why: most cluster text (a million log lines of request ids and durations) holds no secret,
//! and the rule set, with its case-insensitive `\b[a-z0-9_.-]{0,24}(?:password|…)` rules, has
//! no literal the regex engine could search for first: it ran its automaton over every byte,
//! a seventh of making the documents of an index. Two keyword searches (Teddy, SIMD over the
//! text) answer "any keyword?" first.

use aho_corasick::{AhoCorasick, MatchKind, packed};

/// One keyword search: Teddy (SIMD) where the CPU has it, else an Aho-Corasick automaton.
enum Finder {
    Teddy(packed::Searcher),
    Automaton(AhoCorasick),
}

impl Finder {
    fn new(words: &[&str]) -> Result<Finder, String> {
        // Why not `AhoCorasick` alone: past 16 keywords it leaves its SIMD searcher for a
        // byte-at-a-time automaton, slower than the regexes this filter spares. Teddy takes up
        // to 64 keywords; there are fewer than that.
        let teddy = (words.len() <= 64)
            .then(|| {
                packed::Config::new()
                    .heuristic_pattern_limits(false)
                    .builder()
                    .extend(words)
                    .build()
            })
            .flatten();
        match teddy {
            Some(t) => Ok(Finder::Teddy(t)),
            None => AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostFirst)
                .build(words)
                .map(Finder::Automaton)
                .map_err(|e| format!("rule keywords: {e}")),
        }
    }

    fn is_match(&self, text: &str) -> bool {
        match self {
            Finder::Teddy(t) => t.find(text).is_some(),
            Finder::Automaton(a) => a.is_match(text),
        }
    }
}

/// Characters outside ASCII that Unicode simple case folding maps onto an ASCII letter: KELVIN
/// SIGN (k) and LATIN SMALL LETTER LONG S (s). A case-insensitive rule matches `ſecret` or
/// `toKen` written with them, and an ASCII keyword search would not see those words; text
/// holding either character goes to the regexes.
const FOLDS_TO_ASCII: [&str; 2] = ["\u{212A}", "\u{17F}"];

/// Whether text may hold a match of some rule.
pub(super) struct Prefilter {
    /// Keywords with an upper-case letter, matched as written (`AKIA`, `SK`, `eyJ`).
    exact: Finder,
    /// All-lower-case keywords (`password`, `token`), searched for in the text lower-cased:
    /// an ASCII-case-insensitive search has no SIMD searcher, where lower-casing a copy and
    /// searching it with Teddy costs a small part of the regexes' scan.
    any_case: Finder,
}

thread_local! {
    /// The lower-cased copy of the text being checked (one buffer a thread, reused).
    static LOWER: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

impl Prefilter {
    /// The pre-filter for these keywords (every rule's, together).
    pub(super) fn new<'a>(keywords: impl IntoIterator<Item = &'a str>) -> Result<Self, String> {
        let (mut exact, mut any_case): (Vec<&str>, Vec<&str>) = (FOLDS_TO_ASCII.to_vec(), vec![]);
        for k in keywords {
            if k.bytes().any(|b| b.is_ascii_uppercase()) {
                exact.push(k);
            } else {
                any_case.push(k);
            }
        }
        for words in [&mut exact, &mut any_case] {
            words.sort_unstable();
            words.dedup();
        }
        Ok(Prefilter {
            exact: Finder::new(&exact)?,
            any_case: Finder::new(&any_case)?,
        })
    }

    /// Whether `text` holds a keyword (or a character that folds onto one).
    pub(super) fn may_match(&self, text: &str) -> bool {
        self.exact.is_match(text)
            || LOWER.with_borrow_mut(|lower| {
                lower.clear();
                lower.push_str(text);
                lower.make_ascii_lowercase();
                let found = self.any_case.is_match(lower.as_str());
                if lower.capacity() > 1 << 20 {
                    *lower = String::new(); // one huge text does not pin its copy
                }
                found
            })
    }
}
