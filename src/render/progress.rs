//! Progress feedback for work that may take a while (loading a snapshot, reading a cluster,
//! building an index, waiting for a model): a spinner on stderr, drawn only when stderr is a
//! terminal and the user did not ask for quiet, and only once the work has taken 300 ms — so
//! quick work, pipes, CI logs and tests see nothing at all.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Off with `-q` (set once by the CLI).
static ENABLED: AtomicBool = AtomicBool::new(true);

/// How long work runs before a spinner appears.
const DELAY: Duration = Duration::from_millis(300);

pub fn set_enabled(on: bool) {
    ENABLED.store(on, Ordering::Relaxed);
}

/// Whether spinners can be drawn at all here.
fn drawable() -> bool {
    ENABLED.load(Ordering::Relaxed) && std::io::stderr().is_terminal()
}

/// What long work has done so far — items and bytes — counted by the worker, shown by the
/// spinner with the rate (`indexing: 12,400 documents, 38 MB (21 MB/s)`).
#[derive(Debug, Default)]
pub struct Counter {
    items: AtomicU64,
    bytes: AtomicU64,
}

impl Counter {
    pub fn add(&self, items: u64, bytes: u64) {
        self.items.fetch_add(items, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    fn line(&self, unit: &str, elapsed: Duration) -> String {
        let items = self.items.load(Ordering::Relaxed);
        let mb = self.bytes.load(Ordering::Relaxed) as f64 / 1e6;
        let rate = mb / elapsed.as_secs_f64().max(0.001);
        format!("{items} {unit}, {mb:.1} MB ({rate:.1} MB/s)")
    }
}

/// The spinner drawn now, if any: log lines are written around it, never over it.
static ACTIVE: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// stderr for the log (tracing): a line written while a spinner is drawn suspends it, so the
/// two never overwrite each other.
pub struct LogWriter;

impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let bar = ACTIVE.lock().ok().and_then(|b| b.clone());
        match bar {
            Some(bar) => bar.suspend(|| std::io::stderr().write(buf)),
            None => std::io::stderr().write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// A spinner for the lifetime of this value: `let _busy = Busy::start("reading the cluster");`.
/// Dropping it (the work is done) removes the spinner, leaving the terminal as it was.
pub struct Busy {
    done: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Busy {
    pub fn start(message: impl Into<String>) -> Busy {
        Busy::spawn(message.into(), None)
    }

    /// A spinner that also shows `counter`'s items (called `unit`), megabytes and rate.
    pub fn counting(message: impl Into<String>, counter: Arc<Counter>, unit: &'static str) -> Busy {
        Busy::with_status(message, move |elapsed| counter.line(unit, elapsed))
    }

    /// A spinner that shows `status(elapsed)` after the message, refreshed as it turns.
    pub fn with_status(
        message: impl Into<String>,
        status: impl Fn(Duration) -> String + Send + 'static,
    ) -> Busy {
        Busy::spawn(message.into(), Some(Box::new(status)))
    }

    fn spawn(message: String, status: Option<Status>) -> Busy {
        let done = Arc::new(AtomicBool::new(false));
        if !drawable() {
            return Busy { done, thread: None };
        }
        let flag = done.clone();
        let thread = std::thread::Builder::new()
            .name("sextant-spinner".into())
            .spawn(move || spin(&flag, message, status))
            .ok();
        Busy { done, thread }
    }

    /// Stop now (as dropping does), e.g. before printing the first line of an answer.
    pub fn stop(&mut self) {
        self.done.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.stop();
    }
}

/// What a spinner shows after its message, from the time it has run.
type Status = Box<dyn Fn(Duration) -> String + Send>;

fn spin(done: &AtomicBool, message: String, status: Option<Status>) {
    let start = Instant::now();
    while start.elapsed() < DELAY {
        if done.load(Ordering::Acquire) {
            return;
        }
        std::thread::park_timeout(DELAY.saturating_sub(start.elapsed()));
    }
    if done.load(Ordering::Acquire) {
        return;
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::term_like(Box::new(Stderr)));
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
        bar.set_style(style.tick_chars("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏ "));
    }
    bar.set_message(message.clone());
    bar.enable_steady_tick(Duration::from_millis(100));
    if let Ok(mut a) = ACTIVE.lock() {
        *a = Some(bar.clone());
    }
    while !done.load(Ordering::Acquire) {
        if let Some(status) = &status {
            bar.set_message(format!("{message}: {}", status(start.elapsed())));
        }
        std::thread::park_timeout(Duration::from_millis(200));
    }
    if let Ok(mut a) = ACTIVE.lock() {
        *a = None;
    }
    bar.finish_and_clear();
}

/// stderr as indicatif's terminal, a few columns narrower than it is: a line padded to the
/// full width leaves the cursor in the last column, and the `^C` the terminal echoes when the
/// user cancels would then wrap onto a new line — leaving the spinner behind on the old one.
#[derive(Debug)]
struct Stderr;

impl Stderr {
    fn put(&self, s: &str) -> std::io::Result<()> {
        use std::io::Write;
        std::io::stderr().lock().write_all(s.as_bytes())
    }
}

impl indicatif::TermLike for Stderr {
    fn width(&self) -> u16 {
        termimad::crossterm::terminal::size()
            .map_or(80, |(w, _)| w)
            .saturating_sub(4)
            .max(20)
    }
    fn move_cursor_up(&self, n: usize) -> std::io::Result<()> {
        if n == 0 {
            Ok(())
        } else {
            self.put(&format!("\x1b[{n}A"))
        }
    }
    fn move_cursor_down(&self, n: usize) -> std::io::Result<()> {
        if n == 0 {
            Ok(())
        } else {
            self.put(&format!("\x1b[{n}B"))
        }
    }
    fn move_cursor_right(&self, n: usize) -> std::io::Result<()> {
        if n == 0 {
            Ok(())
        } else {
            self.put(&format!("\x1b[{n}C"))
        }
    }
    fn move_cursor_left(&self, n: usize) -> std::io::Result<()> {
        if n == 0 {
            Ok(())
        } else {
            self.put(&format!("\x1b[{n}D"))
        }
    }
    fn write_line(&self, s: &str) -> std::io::Result<()> {
        self.put(&format!("{s}\n"))
    }
    fn write_str(&self, s: &str) -> std::io::Result<()> {
        self.put(s)
    }
    fn clear_line(&self) -> std::io::Result<()> {
        self.put("\r\x1b[2K")
    }
    fn flush(&self) -> std::io::Result<()> {
        use std::io::Write;
        std::io::stderr().flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quick_work_and_non_terminals_draw_nothing_and_stop_promptly() {
        // Under `cargo test` stderr is captured or piped: no thread is even started.
        let mut b = Busy::start("work");
        if !std::io::stderr().is_terminal() {
            assert!(b.thread.is_none());
        }
        let t = Instant::now();
        b.stop();
        assert!(
            t.elapsed() < Duration::from_millis(250),
            "{:?}",
            t.elapsed()
        );
        set_enabled(false);
        assert!(Busy::start("quiet").thread.is_none());
        set_enabled(true);
    }

    #[test]
    fn counts_and_rate_are_said() {
        let c = Counter::default();
        c.add(1200, 3_000_000);
        c.add(34, 500_000);
        assert_eq!(
            c.line("documents", Duration::from_secs(2)),
            "1234 documents, 3.5 MB (1.8 MB/s)"
        );
    }
}
