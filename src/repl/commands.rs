//! The command table: one row per slash command. Help, completion and hints are all driven by
//! it, so a command cannot exist without its help text and argument completion (a test walks
//! the table).

/// What a command's first argument is, for completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arg {
    None,
    /// A finding id of the loaded state.
    Finding,
    /// A finding id or a policy category.
    FindingOrCategory,
    Namespace,
    Pod,
    /// An object name (events are filtered by it).
    Object,
    OnOff,
    /// A command name (for /help).
    Command,
    /// Free text (a query, a file name, a context or model name).
    Text,
}

impl Arg {
    /// The kinds whose candidates come from the loaded state (completion refreshes these).
    pub const COMPLETED: [Arg; 7] = [
        Arg::Finding,
        Arg::FindingOrCategory,
        Arg::Namespace,
        Arg::Pod,
        Arg::Object,
        Arg::OnOff,
        Arg::Command,
    ];
}

/// One slash command.
#[derive(Debug)]
pub struct Command {
    pub name: &'static str,
    /// Argument synopsis shown in help and as the hint.
    pub args: &'static str,
    pub help: &'static str,
    pub arg: Arg,
}

impl Command {
    /// The flags its synopsis names (`--category`, `-c`, `--previous`), for completion.
    pub fn flags(&self) -> Vec<&'static str> {
        self.args
            .split(|c: char| c.is_whitespace() || c == '[' || c == ']')
            .filter(|t| t.len() > 1 && t.starts_with('-'))
            .collect()
    }
}

/// The values a flag takes, for completion (none for free-form ones).
pub fn flag_values(flag: &str) -> Vec<String> {
    match flag {
        "--category" => crate::findings::Category::ALL
            .iter()
            .map(|c| c.as_str().to_string())
            .collect(),
        "--min-severity" => ["critical", "warning", "info"].map(String::from).to_vec(),
        "--engine" => [
            "kyverno",
            "kyverno-clusterpolicy",
            "gatekeeper",
            "vap",
            "all",
        ]
        .map(String::from)
        .to_vec(),
        _ => Vec::new(),
    }
}

const fn c(name: &'static str, args: &'static str, arg: Arg, help: &'static str) -> Command {
    Command {
        name,
        args,
        help,
        arg,
    }
}

pub const COMMANDS: &[Command] = &[
    c(
        "/analyze",
        "[--category C,...] [--min-severity S]",
        Arg::Text,
        "findings of the loaded state, ranked (filters as `sextant analyze`)",
    ),
    c(
        "/trends",
        "",
        Arg::None,
        "findings of the loaded state aggregated by category across namespaces and applications, with the one policy that covers each",
    ),
    c(
        "/explain",
        "ID|NAME",
        Arg::Finding,
        "one finding in depth: evidence, cause, fix, guidance",
    ),
    c(
        "/policy",
        "ID|NAME|CATEGORY|REQUEST [--engine kyverno|gatekeeper|vap|all] [--out DIR]",
        Arg::FindingOrCategory,
        "draft policy-as-code for a finding or category, or (with a model) for a request in plain words; proven in-process, shown only if proven",
    ),
    c(
        "/events",
        "[OBJECT]",
        Arg::Object,
        "recent events, or those about OBJECT (messages redacted)",
    ),
    c(
        "/logs",
        "POD [-c CONTAINER] [--previous]",
        Arg::Pod,
        "the last lines of a pod's log (redacted)",
    ),
    c(
        "/search",
        "QUERY",
        Arg::Text,
        "search findings, events and logs of the loaded state",
    ),
    c(
        "/guidance",
        "QUERY",
        Arg::Text,
        "search the Level 4 guidance",
    ),
    c(
        "/ns",
        "NAMESPACE|-",
        Arg::Namespace,
        "focus on one namespace (`-` for all)",
    ),
    c(
        "/context",
        "NAME",
        Arg::Text,
        "switch to another kubeconfig context (live clusters) and reload",
    ),
    c(
        "/model",
        "NAME",
        Arg::Text,
        "the model to use when one is configured",
    ),
    c(
        "/offline",
        "on|off",
        Arg::OnOff,
        "never call a model (on), or allow it (off)",
    ),
    c(
        "/sources",
        "",
        Arg::None,
        "what the last answer drew on: its findings, and each citation ([E…] evidence, [G…] guidance) with its text",
    ),
    c(
        "/save",
        "FILE",
        Arg::Text,
        "write the session transcript as markdown (for the incident ticket)",
    ),
    c(
        "/edit",
        "[TEXT]",
        Arg::Text,
        "write the question in $VISUAL/$EDITOR (starting from TEXT or the last question), then ask it; Ctrl-X Ctrl-E does the same with the line being typed",
    ),
    c("/clear", "", Arg::None, "forget the conversation so far"),
    c(
        "/help",
        "[COMMAND]",
        Arg::Command,
        "this list, or one command's help",
    ),
    c("/exit", "", Arg::None, "leave (Ctrl-D works too)"),
];

/// The command `name` (with or without the slash), or a unique prefix of one.
pub fn find(name: &str) -> Option<&'static Command> {
    let name = if name.starts_with('/') {
        name.to_string()
    } else {
        format!("/{name}")
    };
    if let Some(c) = COMMANDS.iter().find(|c| c.name == name) {
        return Some(c);
    }
    let mut it = COMMANDS.iter().filter(|c| c.name.starts_with(&name));
    match (it.next(), it.next()) {
        (Some(c), None) => Some(c),
        _ => None,
    }
}

/// The help text: every command, or one.
pub fn help(cmd: Option<&str>) -> String {
    match cmd.map(find) {
        Some(Some(c)) => format!("{} {}\n  {}\n", c.name, c.args, c.help),
        Some(None) => format!(
            "no command {}; commands: {}\n",
            cmd.unwrap_or(""),
            COMMANDS
                .iter()
                .map(|c| c.name)
                .collect::<Vec<_>>()
                .join(" ")
        ),
        None => {
            let mut s =
                String::from("Ask a question in plain words, or use a command (Tab completes):\n");
            for c in COMMANDS {
                let synopsis = format!("{} {}", c.name, c.args);
                s.push_str(&format!("  {synopsis:<58} {}\n", c.help));
            }
            s.push_str("Multi-line input: end a line with `\\`, or wrap it in `\"\"\"`. Ctrl-C cancels, Ctrl-D exits.\n");
            s
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_has_help_and_is_found() {
        for c in COMMANDS {
            assert!(c.name.starts_with('/'), "{}", c.name);
            assert!(!c.help.is_empty(), "{} has no help", c.name);
            assert_eq!(find(c.name).map(|f| f.name), Some(c.name));
            assert!(help(Some(c.name)).contains(c.help));
            assert!(help(None).contains(c.name));
        }
        assert_eq!(find("/exi").map(|c| c.name), Some("/exit"));
        assert_eq!(find("ns").map(|c| c.name), Some("/ns"));
        assert_eq!(find("/e").map(|c| c.name), None, "ambiguous");
        assert!(help(Some("/nope")).starts_with("no command"));
    }
}
