//! Time in questions: "since 9:00", "in the last 30 minutes", "seit 8:50 Uhr", "过去10分钟",
//! "today" — and the cluster's events inside that window.
//!
//! Times are measured from the moment the state describes (a snapshot's newest timestamp,
//! or now for a live cluster), so "the last 10 minutes" of an old dump means the 10 minutes
//! before it was taken. Clock times are UTC, as Kubernetes writes them, and the answer says
//! so. A question without time words has no window and nothing changes.

use crate::state::ClusterState;
use jiff::{SignedDuration, Timestamp};
use regex::Regex;
use std::sync::LazyLock;

/// A time window a question names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    pub since: Timestamp,
    /// How the answer states it ("since 08:50 UTC", "in the 10 min before 09:00 UTC").
    pub phrase: String,
}

static RELATIVE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)
        (?:last|past|letzten?|vergangenen?|过去|最近|近)\s*
        (?P<n>\d+|an?|one|eine[nr]?|half\s+an|一|两|半)?\s*
        (?P<unit>minutes?|mins?|m\b|hours?|hrs?|h\b|days?|d\b|minuten?|stunden?|tage?n?|分钟|小时|天)",
    )
    .expect("relative time pattern")
});

static CLOCK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)
        (?:
          (?:since|from|after|seit|ab|nach|自|从)\s*
          (?P<h>\d{1,2})(?:[:：点](?P<m>\d{2})?)?\s*(?P<ampm>am|pm|a\.m\.|p\.m\.|uhr)?
        |
          (?P<h2>\d{1,2})[:：点](?P<m2>\d{2})?\s*(?:以来|之后|后|起)
        )",
    )
    .expect("clock time pattern")
});

static TODAY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\btoday\b|\bheute\b|今天").expect("today pattern"));

fn hhmm(t: Timestamp) -> String {
    t.strftime("%H:%M UTC").to_string()
}

/// The window `question` names, measured back from `now`.
pub fn window(question: &str, now: Timestamp) -> Option<Window> {
    if let Some(c) = RELATIVE.captures(question) {
        let n = match c.name("n").map(|m| m.as_str().to_lowercase()) {
            None => 1.0,
            Some(s) if s.starts_with("half") || s == "半" => 0.5,
            Some(s) if s == "两" => 2.0,
            Some(s) => s.parse::<f64>().unwrap_or(1.0),
        };
        let unit = c["unit"].to_lowercase();
        let secs = if unit.starts_with('m') || unit == "分钟" {
            60.0
        } else if unit.starts_with('h') || unit.starts_with("st") || unit == "小时" {
            3600.0
        } else {
            86400.0
        };
        let span = SignedDuration::try_from_secs_f64(n * secs).ok()?;
        let minutes = span.as_secs() / 60;
        let since = now.checked_sub(span).ok()?;
        return Some(Window {
            since,
            phrase: format!("in the {minutes} min before {}", hhmm(now)),
        });
    }
    if let Some(w) = CLOCK.captures(question).and_then(|c| clock(&c, now)) {
        return Some(w);
    }
    if TODAY.is_match(question) {
        let date = now.to_zoned(jiff::tz::TimeZone::UTC).date();
        let since = date.to_zoned(jiff::tz::TimeZone::UTC).ok()?.timestamp();
        return Some(Window {
            since,
            phrase: format!("today (since {})", hhmm(since)),
        });
    }
    None
}

/// A clock time ("since 8:50", "seit 9 Uhr", "8:30以来"): the last such moment before `now`.
fn clock(c: &regex::Captures, now: Timestamp) -> Option<Window> {
    {
        let h: i8 = c.name("h").or(c.name("h2"))?.as_str().parse().ok()?;
        if h > 23 {
            return None;
        }
        let m: i8 = c
            .name("m")
            .or(c.name("m2"))
            .map_or(Some(0), |m| m.as_str().parse().ok())?;
        let ampm = c.name("ampm").map(|m| m.as_str().to_lowercase());
        // "since 3" alone is too often a count ("since 3 restarts"): a clock time needs
        // minutes, am/pm, Uhr, or the Chinese forms.
        if c.name("h").is_some() && c.name("m").is_none() && ampm.is_none() {
            return None;
        }
        let h = match ampm.as_deref() {
            Some(p) if p.starts_with('p') && h < 12 => h + 12,
            Some(a) if a.starts_with('a') && h == 12 => 0,
            _ => h,
        };
        let date = now.to_zoned(jiff::tz::TimeZone::UTC).date();
        let at = date
            .at(h, m, 0, 0)
            .to_zoned(jiff::tz::TimeZone::UTC)
            .ok()?
            .timestamp();
        // A clock time later than now means yesterday's.
        let since = if at > now {
            at.checked_sub(SignedDuration::from_hours(24)).ok()?
        } else {
            at
        };
        Some(Window {
            since,
            phrase: format!("since {}", hhmm(since)),
        })
    }
}

/// One event with its time, as a timeline shows it.
#[derive(Debug, Clone)]
pub struct TimedEvent {
    pub at: Timestamp,
    pub namespace: String,
    pub kind: String,
    pub name: String,
    pub warning: bool,
    pub reason: String,
    /// Redacted.
    pub message: String,
    pub count: i32,
}

impl TimedEvent {
    /// `08:59 Warning BackOff Pod payments/ledger-…: message (×12)`
    pub fn line(&self) -> String {
        format!(
            "{} {} {} {} {}/{}: {}{}",
            self.at.strftime("%H:%M"),
            if self.warning { "Warning" } else { "Normal" },
            self.reason,
            self.kind,
            self.namespace,
            self.name,
            self.message,
            if self.count > 1 {
                format!(" (×{})", self.count)
            } else {
                String::new()
            }
        )
    }
}

/// The state's events in time order, and the moment the state describes.
#[derive(Debug, Clone)]
pub struct Timeline {
    pub now: Timestamp,
    pub events: Vec<TimedEvent>,
    /// The state's logs (read lazily, only for what a question names).
    pub logs: crate::logs::LogStore,
}

impl Timeline {
    pub fn of(state: &ClusterState) -> Timeline {
        let mut events: Vec<TimedEvent> = state
            .events
            .iter()
            .filter_map(|e| {
                let at = crate::state::event_time(e)?;
                Some(TimedEvent {
                    at,
                    namespace: e
                        .involved_object
                        .namespace
                        .clone()
                        .or_else(|| e.metadata.namespace.clone())
                        .unwrap_or_default(),
                    kind: e.involved_object.kind.clone().unwrap_or_default(),
                    name: e.involved_object.name.clone().unwrap_or_default(),
                    warning: e.type_.as_deref() == Some("Warning"),
                    reason: e.reason.clone().unwrap_or_default(),
                    message: crate::redact::redact(e.message.as_deref().unwrap_or("").trim())
                        .into_owned(),
                    count: e.count.unwrap_or(1),
                })
            })
            .collect();
        events.sort_by_key(|e| e.at);
        let now = state
            .observed_at
            .or_else(|| events.last().map(|e| e.at))
            .unwrap_or_else(Timestamp::now);
        Timeline {
            now,
            events,
            logs: state.logs.clone(),
        }
    }

    /// The events at or after `w.since` that `keep` accepts (namespace, name).
    pub fn within<'t>(
        &'t self,
        w: &Window,
        keep: impl Fn(&str, &str) -> bool,
    ) -> Vec<&'t TimedEvent> {
        self.events
            .iter()
            .filter(|e| e.at >= w.since && keep(&e.namespace, &e.name))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    #[test]
    fn relative_and_clock_windows_in_three_languages() {
        let now = at("2026-11-24T09:00:00Z");
        let since = |q: &str| window(q, now).map(|w| w.since.to_string());
        assert_eq!(
            since("what broke in the last 30 minutes?").as_deref(),
            Some("2026-11-24T08:30:00Z")
        );
        assert_eq!(
            since("errors in the past hour").as_deref(),
            Some("2026-11-24T08:00:00Z")
        );
        assert_eq!(
            since("last 2h in payments").as_deref(),
            Some("2026-11-24T07:00:00Z")
        );
        assert_eq!(
            since("why is checkout down since 8:50?").as_deref(),
            Some("2026-11-24T08:50:00Z")
        );
        assert_eq!(since("since 6am").as_deref(), Some("2026-11-24T06:00:00Z"));
        // Later than now: yesterday's.
        assert_eq!(
            since("since 22:15").as_deref(),
            Some("2026-11-23T22:15:00Z")
        );
        assert_eq!(
            since("Was ist seit 8:55 Uhr passiert?").as_deref(),
            Some("2026-11-24T08:55:00Z")
        );
        assert_eq!(
            since("in den letzten 10 Minuten").as_deref(),
            Some("2026-11-24T08:50:00Z")
        );
        assert_eq!(
            since("过去10分钟发生了什么？").as_deref(),
            Some("2026-11-24T08:50:00Z")
        );
        assert_eq!(
            since("8:30以来 ledger 为什么崩溃？").as_deref(),
            Some("2026-11-24T08:30:00Z")
        );
        assert_eq!(
            since("what happened today?").as_deref(),
            Some("2026-11-24T00:00:00Z")
        );
        // No time words, or a number that is a count: no window.
        assert_eq!(since("why is ledger crashing?"), None);
        assert_eq!(since("restarted 3 times since 2 deploys"), None);
        assert_eq!(
            window("since 8:50", now).map(|w| w.phrase),
            Some("since 08:50 UTC".into())
        );
    }
}
