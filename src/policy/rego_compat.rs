//! Rego v0 that OPA accepts and regorus (0.14) reads differently, rewritten before it is
//! loaded so templates behave as Gatekeeper runs them. Each rewrite keeps line numbers, so
//! regorus's error locations still point at the template's own lines.
//!
//! - **Several bodies on one rule** (`f(x) = y { A } { B }`): OPA reads each body as another
//!   definition of the rule; regorus rejects it for set rules ("else cannot be used with set
//!   rules"). Each extra body gets the head repeated: `f(x) = y { A } f(x) = y { B }`.
//! - **A body line starting with `(`**: OPA ends an expression at the newline; regorus reads
//!   `a.b` + newline + `(c - d) >= e` as the call `a.b(c - d)`. A `;` (Rego's own literal
//!   separator) is put at the end of the line before.

/// The rewritten source (the same text when nothing needed rewriting).
pub fn normalize(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = String::with_capacity(src.len() + 64);
    // Open brackets: `(`, `[`, `{`.
    let mut stack: Vec<u8> = Vec::new();
    // Where the current top-level rule starts in `src`, and its head once the first body
    // opens (the text before that body's `{`).
    let mut rule_start: Option<usize> = None;
    let mut head: Option<String> = None;
    // The top-level `{` being read opens a body (not an object/set value).
    let mut body_open = false;
    // The last significant byte written outside strings and comments.
    let mut last_sig: u8 = b'\n';
    let mut line_start = true;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let at_line_start = line_start;
        if !matches!(c, b' ' | b'\t' | b'\r' | b'\n') {
            line_start = false;
        }
        match c {
            b'#' => {
                let end = src[i..].find('\n').map_or(b.len(), |n| i + n);
                out.push_str(&src[i..end]);
                i = end;
                continue;
            }
            b'"' | b'`' => {
                let end = string_end(b, i);
                out.push_str(&src[i..end]);
                last_sig = c;
                i = end;
                continue;
            }
            b'\n' => {
                // A body line that starts with `(` after a complete expression.
                let next = src[i + 1..].trim_start_matches([' ', '\t']);
                if stack.last() == Some(&b'{')
                    && next.starts_with('(')
                    && (last_sig.is_ascii_alphanumeric()
                        || matches!(last_sig, b'_' | b')' | b']' | b'}' | b'"' | b'`'))
                {
                    out.push(';');
                }
                out.push('\n');
                line_start = true;
                i += 1;
                continue;
            }
            b'(' | b'[' | b'{' => {
                if stack.is_empty() {
                    let start = *rule_start.get_or_insert(i);
                    if c == b'{' {
                        let before = src[start..i].trim_end();
                        // `x := {…}` / `x = {…}` is a value; the body opens after it.
                        body_open = !(before.ends_with('=') || before.is_empty());
                        if body_open && head.is_none() {
                            head = Some(before.to_string());
                        }
                    }
                }
                stack.push(c);
            }
            b')' | b']' | b'}' => {
                stack.pop();
                if stack.is_empty() && c == b'}' && body_open {
                    out.push('}');
                    i += 1;
                    // Another body follows directly: repeat the head before it.
                    let rest = &src[i..];
                    let gap = rest.len() - rest.trim_start_matches([' ', '\t']).len();
                    if rest[gap..].starts_with('{')
                        && let Some(h) = &head
                        && !h.contains('\n')
                    {
                        out.push(' ');
                        out.push_str(h);
                        out.push(' ');
                        i += gap;
                    } else {
                        body_open = false;
                    }
                    last_sig = b'}';
                    continue;
                }
            }
            b' ' | b'\t' | b'\r' => {}
            _ => {
                // A top-level statement starts at the beginning of a line (`else` continues
                // the rule before it).
                if stack.is_empty() && !body_open && at_line_start && !src[i..].starts_with("else")
                {
                    rule_start = Some(i);
                    head = None;
                }
            }
        }
        if !c.is_ascii_whitespace() {
            last_sig = c;
        }
        let len = src[i..].chars().next().map_or(1, char::len_utf8);
        out.push_str(&src[i..i + len]);
        i += len;
    }
    out
}

/// The index just past the string starting at `i` (`"…"` with escapes, or a raw `` `…` ``).
fn string_end(b: &[u8], i: usize) -> usize {
    let q = b[i];
    let mut j = i + 1;
    while j < b.len() {
        if q == b'"' && b[j] == b'\\' {
            j += 2;
            continue;
        }
        if b[j] == q {
            return j + 1;
        }
        j += 1;
    }
    b.len()
}

#[cfg(test)]
mod tests {
    use super::normalize;

    fn eval(src: &str, input: serde_json::Value, rule: &str) -> String {
        let mut e = regorus::Engine::new();
        e.set_rego_v0(true);
        e.add_policy("t.rego".into(), normalize(src))
            .unwrap_or_else(|err| panic!("{err}\n{}", normalize(src)));
        e.set_input(regorus::Value::from(input));
        e.eval_rule(rule.into())
            .map(|v| v.to_json_str().unwrap_or_default())
            .unwrap_or_else(|err| format!("error: {err}"))
    }

    #[test]
    fn several_bodies_become_several_definitions() {
        let src = r#"package t

kind_of(obj) = spec {
  obj.kind == "Pod"
  spec := obj.spec.a
} {
  obj.kind == "Job"   # a comment with { and "
  spec := obj.spec.template.a
}

violation[{"msg": msg}] {
  input.op == "UPDATE"
  kind_of(input.old) != kind_of(input.new)
  msg := "changed"
} {
  input.op == "UPDATE"
  not kind_of(input.new)
  msg := "missing"
}
"#;
        let out = normalize(src);
        assert_eq!(out.lines().count(), src.lines().count(), "{out}");
        assert!(out.contains(r#"} violation[{"msg": msg}] {"#), "{out}");
        assert!(out.contains("} kind_of(obj) = spec {"), "{out}");
        let v = eval(
            src,
            serde_json::json!({"op": "UPDATE", "old": {"kind": "Pod", "spec": {"a": 1}},
                "new": {"kind": "Job", "spec": {"template": {"a": 2}}}}),
            "data.t.violation",
        );
        assert!(v.contains("changed"), "{v}");
        let v = eval(
            src,
            serde_json::json!({"op": "UPDATE", "old": {"kind": "Pod", "spec": {"a": 1}},
                "new": {"kind": "Service"}}),
            "data.t.violation",
        );
        assert!(v.contains("missing"), "{v}");
    }

    #[test]
    fn a_line_starting_with_a_parenthesis_is_a_new_expression() {
        let src = "package t\n\nspread(h) {\n  input.min\n  (h.max - h.low) >= input.min\n}\n\nok { spread(input.h) }\n";
        let out = normalize(src);
        assert!(out.contains("input.min;\n"), "{out}");
        assert_eq!(
            eval(
                src,
                serde_json::json!({"min": 2, "h": {"max": 5, "low": 1}}),
                "data.t.ok"
            ),
            "true"
        );
    }

    #[test]
    fn values_strings_and_else_are_left_alone() {
        for src in [
            "package t\n\nallowed := {\"a\", \"b\"}\n\nx = {\"k\": 1} { true }\n",
            "package t\n\nf(x) = 1 { x == 1 } else = 2 { true }\n",
            "package t\n\ns := \"} {\"\n\ny { s == \"} {\" }\n",
            "package t\n\nz := f(\n  (1 + 2))\nf(x) = x { true }\n",
        ] {
            assert_eq!(normalize(src), src);
        }
    }
}
