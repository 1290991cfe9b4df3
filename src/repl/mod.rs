//! The REPL: rustyline line editing over a [`Session`]. Completion and hints come from the
//! command table and the loaded state (no API call per keystroke); history is persisted in
//! the data dir with secrets redacted before they are written. When stdin is not a terminal,
//! lines are read and answered one by one with no prompt and no escape codes.

pub mod commands;
pub mod session;

pub use session::{Loader, Outcome, Session};

use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::DefaultHistory;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Context, Editor, Helper};
use std::io::{BufRead, IsTerminal, Write};
use std::sync::{Arc, Mutex};

/// What completion may offer, refreshed after every command from the session.
#[derive(Default)]
struct Completions {
    /// (value, what it is: a finding's severity and title, or nothing).
    by_arg: Vec<(commands::Arg, Vec<(String, String)>)>,
}

struct SextantHelper {
    data: Arc<Mutex<Completions>>,
}

impl Completer for SextantHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let before = &line[..pos];
        let pair = |s: &str| Pair {
            display: s.to_string(),
            replacement: s.to_string(),
        };
        // The command itself.
        if before.starts_with('/') && !before.contains(char::is_whitespace) {
            let out = commands::COMMANDS
                .iter()
                .filter(|c| c.name.starts_with(before))
                .map(|c| Pair {
                    display: c.name.to_string(),
                    replacement: format!("{} ", c.name),
                })
                .collect();
            return Ok((0, out));
        }
        // Its first argument.
        let Some((name, _)) = before.split_once(char::is_whitespace) else {
            return Ok((pos, Vec::new()));
        };
        let Some(cmd) = commands::find(name) else {
            return Ok((pos, Vec::new()));
        };
        let start = before.rfind(char::is_whitespace).map_or(0, |i| i + 1);
        let word = &before[start..];
        // A flag of this command, or a value of the flag before the cursor.
        if word.starts_with('-') {
            let out = cmd
                .flags()
                .into_iter()
                .filter(|f| f.starts_with(word))
                .map(|f| Pair {
                    display: f.to_string(),
                    replacement: format!("{f} "),
                })
                .collect();
            return Ok((start, out));
        }
        let previous = before[..start].split_whitespace().last().unwrap_or("");
        if previous.starts_with('-') {
            let values = commands::flag_values(previous);
            if !values.is_empty() {
                // `--category A,B,Cr…`: complete the part after the last comma.
                let from = word.rfind(',').map_or(0, |i| i + 1);
                let out = values
                    .iter()
                    .filter(|v| v.starts_with(&word[from..]))
                    .map(|v| pair(v))
                    .collect();
                return Ok((start + from, out));
            }
        }
        let data = self
            .data
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut out: Vec<Pair> = data
            .by_arg
            .iter()
            .filter(|(a, _)| *a == cmd.arg)
            .flat_map(|(_, v)| v.iter())
            .filter(|(c, _)| c.starts_with(word))
            // Finding ids are shown with their title: 33 bare ids tell nothing.
            .map(|(c, note)| Pair {
                display: if note.is_empty() {
                    c.clone()
                } else {
                    crate::render::text::cut(&format!("{c:<10} {note}"), 72)
                },
                replacement: c.clone(),
            })
            .collect();
        out.dedup_by(|a, b| a.replacement == b.replacement);
        Ok((start, out))
    }
}

impl Hinter for SextantHelper {
    type Hint = String;

    fn hint(&self, line: &str, pos: usize, _ctx: &Context<'_>) -> Option<String> {
        if pos < line.len() || !line.starts_with('/') || line.contains(char::is_whitespace) {
            return None;
        }
        let c = commands::COMMANDS.iter().find(|c| c.name == line)?;
        (!c.args.is_empty()).then(|| format!(" {}", c.args))
    }
}

impl Highlighter for SextantHelper {}

impl Validator for SextantHelper {
    /// Multi-line input: a trailing `\` continues the line; an open `"""` block continues
    /// until it is closed.
    fn validate(&self, ctx: &mut ValidationContext<'_>) -> rustyline::Result<ValidationResult> {
        let input = ctx.input();
        if input.ends_with('\\') || input.matches("\"\"\"").count() % 2 == 1 {
            Ok(ValidationResult::Incomplete)
        } else {
            Ok(ValidationResult::Valid(None))
        }
    }
}

impl Helper for SextantHelper {}

/// Ctrl-X Ctrl-E (as in bash): the line typed so far is taken and the line accepted; the loop
/// then opens it in the editor instead of answering it.
struct EditInEditor {
    taken: Arc<Mutex<Option<String>>>,
}

impl rustyline::ConditionalEventHandler for EditInEditor {
    fn handle(
        &self,
        _evt: &rustyline::Event,
        _n: rustyline::RepeatCount,
        _positive: bool,
        ctx: &rustyline::EventContext,
    ) -> Option<rustyline::Cmd> {
        if let Ok(mut t) = self.taken.lock() {
            *t = Some(ctx.line().to_string());
        }
        Some(rustyline::Cmd::AcceptLine)
    }
}

/// Join continuation lines and strip `"""` fences.
pub fn normalize_input(raw: &str) -> String {
    raw.replace("\\\n", " ")
        .replace("\"\"\"", "")
        .trim()
        .to_string()
}

fn refresh(data: &Arc<Mutex<Completions>>, s: &Session) {
    let by_arg = commands::Arg::COMPLETED
        .into_iter()
        .map(|a| (a, s.candidates(a)))
        .collect();
    if let Ok(mut d) = data.lock() {
        d.by_arg = by_arg;
    }
}

/// Run the session: interactively on a terminal, else over piped lines.
pub fn run(mut session: Session) -> crate::Result<()> {
    if !std::io::stdin().is_terminal() {
        return run_piped(&mut session);
    }
    if let Some(why) = &session.no_state {
        eprintln!("note: no cluster state ({why}); questions are answered from the guidance");
    }
    let io = |e: ReadlineError| crate::Error::Io {
        context: "terminal".into(),
        source: std::io::Error::other(e.to_string()),
    };
    let config = rustyline::Config::builder()
        .auto_add_history(false)
        .max_history_size(2000)
        .map_err(io)?
        .completion_type(rustyline::CompletionType::List)
        .build();
    let mut rl: Editor<SextantHelper, DefaultHistory> = Editor::with_config(config).map_err(io)?;
    let data = Arc::new(Mutex::new(Completions::default()));
    rl.set_helper(Some(SextantHelper { data: data.clone() }));
    let taken = Arc::new(Mutex::new(None));
    rl.bind_sequence(
        rustyline::Event::KeySeq(vec![
            rustyline::KeyEvent::ctrl('X'),
            rustyline::KeyEvent::ctrl('E'),
        ]),
        rustyline::EventHandler::Conditional(Box::new(EditInEditor {
            taken: taken.clone(),
        })),
    );
    let hist = crate::dirs::history_file();
    let _ = rl.load_history(&hist);
    println!("Sextant — ask in plain words, /help for commands, Ctrl-D to leave.");
    let mut interrupted = false;
    loop {
        refresh(&data, &session);
        match rl.readline(&session.prompt()) {
            Ok(raw) => {
                interrupted = false;
                let to_edit = taken.lock().ok().and_then(|mut t| t.take());
                let outcome = if let Some(start) = to_edit {
                    session.edit(start.trim())
                } else {
                    let line = normalize_input(&raw);
                    if line.is_empty() {
                        continue;
                    }
                    // Secrets typed or pasted never reach the history file.
                    let _ = rl.add_history_entry(crate::redact::redact(&line).into_owned());
                    session.handle(&line)
                };
                // A question written in the editor is history too (redacted as well).
                if let Some(text) = session.edited.take() {
                    let _ = rl.add_history_entry(crate::redact::redact(&text).into_owned());
                }
                match outcome {
                    Outcome::Exit => break,
                    Outcome::Print(out) => {
                        print!("{out}");
                        let _ = std::io::stdout().flush();
                    }
                }
            }
            Err(ReadlineError::Interrupted) => {
                // Ctrl-C clears the line and never leaves (as in a shell: a second Ctrl-C
                // meant to clear a line must not end the session); Ctrl-D or /exit leave.
                if interrupted {
                    println!("(Ctrl-D or /exit to leave)");
                }
                interrupted = true;
            }
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(io(e)),
        }
    }
    if let Some(p) = hist.parent() {
        let _ = std::fs::create_dir_all(p);
    }
    let _ = rl.save_history(&hist);
    Ok(())
}

/// Piped stdin: every line (or `\`-continued / `"""` block) is answered in turn.
fn run_piped(session: &mut Session) -> crate::Result<()> {
    if let Some(why) = &session.no_state {
        eprintln!("note: no cluster state ({why}); questions are answered from the guidance");
    }
    let stdin = std::io::stdin();
    let mut out = std::io::stdout().lock();
    let mut pending = String::new();
    for line in stdin.lock().lines() {
        let line = line.map_err(|e| crate::Error::Io {
            context: "stdin".into(),
            source: e,
        })?;
        pending.push_str(&line);
        if line.ends_with('\\') || pending.matches("\"\"\"").count() % 2 == 1 {
            pending.push('\n');
            continue;
        }
        let input = normalize_input(&pending);
        pending.clear();
        if input.is_empty() {
            continue;
        }
        match session.handle(&input) {
            Outcome::Exit => break,
            Outcome::Print(text) => {
                if out.write_all(text.as_bytes()).is_err() {
                    break;
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complete(line: &str) -> Vec<String> {
        let h = SextantHelper {
            data: Arc::new(Mutex::new(Completions::default())),
        };
        let history = DefaultHistory::new();
        let ctx = Context::new(&history);
        let (_, pairs) = h.complete(line, line.len(), &ctx).expect("complete");
        pairs.into_iter().map(|p| p.replacement).collect()
    }

    #[test]
    fn flags_and_their_values_complete() {
        assert_eq!(complete("/analyze --c"), ["--category "]);
        assert_eq!(complete("/analyze --min-severity cr"), ["critical"]);
        assert_eq!(
            complete("/analyze --category Privileged,Lat"),
            ["LatestTag"]
        );
        assert_eq!(complete("/policy F-1 --engine g"), ["gatekeeper"]);
        assert_eq!(complete("/logs web -"), ["-c ", "--previous "]);
        assert!(complete("/search --x").is_empty());
    }

    #[test]
    fn multi_line_input_is_joined() {
        assert_eq!(
            normalize_input("why is\\\ncheckout down?"),
            "why is checkout down?"
        );
        assert_eq!(
            normalize_input("\"\"\"\nline one\nline two\n\"\"\""),
            "line one\nline two"
        );
    }
}
