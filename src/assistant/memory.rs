//! Conversation memory for the REPL: the earlier turns a model is shown with a new question,
//! newest first until a token budget is spent, so a follow-up ("and the other pods?") has its
//! context and a long session never grows the prompt without bound. Text is redacted on the
//! way in; `/clear` empties it.

use std::collections::VecDeque;

/// Kept at most (older turns could never fit a sane budget anyway).
const MAX_TURNS: usize = 32;

/// The default budget, in estimated tokens (4 characters each).
pub const DEFAULT_TOKENS: usize = 1500;

#[derive(Debug, Clone)]
pub struct Memory {
    turns: VecDeque<(String, String)>,
    /// Estimated tokens the remembered turns may take in one prompt.
    pub budget: usize,
}

impl Default for Memory {
    fn default() -> Memory {
        Memory::new(DEFAULT_TOKENS)
    }
}

fn tokens(s: &str) -> usize {
    s.len().div_ceil(4)
}

impl Memory {
    pub fn new(budget: usize) -> Memory {
        Memory {
            turns: VecDeque::new(),
            budget,
        }
    }

    /// Remember a question and the answer shown.
    pub fn push(&mut self, question: &str, answer: &str) {
        self.turns.push_back((
            crate::redact::redact(question).into_owned(),
            crate::redact::redact(answer.trim()).into_owned(),
        ));
        while self.turns.len() > MAX_TURNS {
            self.turns.pop_front();
        }
    }

    pub fn clear(&mut self) {
        self.turns.clear();
    }

    pub fn len(&self) -> usize {
        self.turns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.turns.is_empty()
    }

    /// The turns that fit the budget, oldest first, as (role, text) messages; and how many
    /// older turns were left out. A turn is kept whole or not at all.
    pub fn messages(&self) -> (Vec<(&'static str, String)>, usize) {
        let mut spent = 0;
        let mut kept: Vec<&(String, String)> = Vec::new();
        for t in self.turns.iter().rev() {
            let cost = tokens(&t.0) + tokens(&t.1);
            if spent + cost > self.budget {
                break;
            }
            spent += cost;
            kept.push(t);
        }
        let left_out = self.turns.len() - kept.len();
        let msgs = kept
            .into_iter()
            .rev()
            .flat_map(|(q, a)| [("user", q.clone()), ("assistant", a.clone())])
            .collect();
        (msgs, left_out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newest_turns_fit_the_budget_whole() {
        let mut m = Memory::new(30);
        m.push("why is ledger crashing?", "ledger was OOMKilled at 512Mi."); // 6 + 8
        m.push("and cart?", "cart needs REDIS_URL."); // 3 + 6
        m.push(
            "what about checkout?",
            "the Secret checkout-stripe is missing.",
        ); // 5 + 10
        let (msgs, left_out) = m.messages();
        // 15 + 9 fit in 30; the oldest (14) does not.
        assert_eq!(left_out, 1);
        assert_eq!(
            msgs.iter().map(|(r, _)| *r).collect::<Vec<_>>(),
            ["user", "assistant", "user", "assistant"]
        );
        assert_eq!(msgs[0].1, "and cart?");
        assert_eq!(msgs[3].1, "the Secret checkout-stripe is missing.");
        m.clear();
        assert_eq!(m.messages(), (Vec::new(), 0));
    }

    #[test]
    fn secrets_are_not_remembered() {
        let mut m = Memory::default();
        m.push(
            "my token is ghp_abcdefghijklmnopqrstuvwxyz0123456789",
            "password=hunter2 was in the log",
        );
        let text = format!("{:?}", m.messages().0);
        assert!(
            !text.contains("ghp_abcdefghijklmnopqrstuvwxyz0123456789"),
            "{text}"
        );
        assert!(!text.contains("hunter2"), "{text}");
    }
}
