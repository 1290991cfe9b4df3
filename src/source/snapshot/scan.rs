//! One pass over a JSON List that finds its items and writes each one compact: whitespace
//! between tokens and every `managedFields` member left out.
//!
//! Why not `serde_json` alone: a List as `kubectl get -o json` writes it is two-thirds
//! indentation, and `managedFields` is the largest part of a real object, never read. Found as
//! `RawValue`s, the items were scanned once by `serde_json` (byte by byte through the
//! indentation), searched and copied again to cut `managedFields`, and parsed a third time,
//! indentation and all. Here the envelope is scanned once, runs of spaces eight bytes at a
//! time, and the typed parse reads a third of the bytes. No crate splits a List's items and
//! drops a member in the same pass.
//!
//! The scan checks the structure it relies on (brackets that match, strings that end, no two
//! scalars side by side, nothing after the List); the parse of each compact item checks the
//! rest, as it would have on the original text.

use std::ops::Range;

/// A JSON List as [`scan_list`] found it.
pub(super) struct Scanned {
    /// The List's `kind`, wherever it stands among the members.
    pub kind: Option<String>,
    /// Each item: where it stands in the text, and where its compact form stands in `out`.
    pub items: Vec<(Range<usize>, Range<usize>)>,
}

/// Scan `text`, a JSON object with an `items` array, writing each item compact into `out`.
/// `None` when `text` is not such an object (no `items`, `items` or `kind` of another type or
/// given twice, invalid structure, anything after the object): the caller reads it the general
/// way, which says what is wrong.
pub(super) fn scan_list(text: &str, out: &mut String) -> Option<Scanned> {
    let b = text.as_bytes();
    out.clear();
    let mut junk = String::new();
    let mut stack = Vec::new();
    let mut kind: Option<Option<String>> = None;
    let mut items: Option<Vec<(Range<usize>, Range<usize>)>> = None;
    let mut i = expect(b, skip_ws(b, 0), b'{')?;
    i = skip_ws(b, i);
    if b.get(i) == Some(&b'}') {
        return None;
    }
    loop {
        let key_end = string_end(b, expect(b, i, b'"')? - 1)?;
        let key = member_name(text.get(i..key_end)?)?;
        i = skip_ws(b, expect(b, skip_ws(b, key_end), b':')?);
        match key.as_str() {
            "items" if items.is_none() => {
                if b[i..].starts_with(b"null") {
                    // `items: null` is no List (as serde reads an `Option`).
                    return None;
                }
                let mut list = Vec::new();
                i = skip_ws(b, expect(b, i, b'[')?);
                if b.get(i) == Some(&b']') {
                    i += 1;
                } else {
                    loop {
                        let from = out.len();
                        let end = compact(text, i, out, &mut stack)?;
                        list.push((i..end, from..out.len()));
                        i = skip_ws(b, end);
                        match b.get(i)? {
                            b',' => i = skip_ws(b, i + 1),
                            b']' => {
                                i += 1;
                                break;
                            }
                            _ => return None,
                        }
                    }
                }
                items = Some(list);
            }
            "kind" if kind.is_none() => {
                junk.clear();
                let end = compact(text, i, &mut junk, &mut stack)?;
                kind = Some(serde_json::from_str::<Option<String>>(&junk).ok()?);
                i = end;
            }
            "items" | "kind" => return None,
            _ => {
                // Another member (apiVersion, metadata): checked whole, as serde would.
                junk.clear();
                i = compact(text, i, &mut junk, &mut stack)?;
                serde_json::from_str::<serde::de::IgnoredAny>(&junk).ok()?;
            }
        }
        i = skip_ws(b, i);
        match b.get(i)? {
            b',' => i = skip_ws(b, i + 1),
            b'}' => break,
            _ => return None,
        }
    }
    if skip_ws(b, i + 1) != b.len() {
        return None;
    }
    Some(Scanned {
        kind: kind.flatten(),
        items: items?,
    })
}

/// A member name as serde reads it: escapes decoded (rare; a plain name is taken as it is).
fn member_name(quoted: &str) -> Option<String> {
    let inner = quoted.get(1..quoted.len().checked_sub(1)?)?;
    if inner.contains('\\') {
        serde_json::from_str(quoted).ok()
    } else {
        Some(inner.to_string())
    }
}

/// `i + 1` when the byte at `i` is `want`.
fn expect(b: &[u8], i: usize, want: u8) -> Option<usize> {
    (b.get(i) == Some(&want)).then_some(i + 1)
}

/// Copy the JSON value at `i` into `out` without whitespace between tokens and without any
/// `managedFields` member (at any depth; one comma beside it goes too). Returns where the
/// value ends. `stack` is scratch for the open brackets.
fn compact(text: &str, i: usize, out: &mut String, stack: &mut Vec<u8>) -> Option<usize> {
    stack.clear();
    value(text, i, out, stack, true)
}

/// [`compact`] with the brackets already open left on `stack`; members named `managedFields`
/// cut when `write` (a cut value is scanned and checked the same way but written nowhere, and
/// never cut inside: no recursion however deep the input nests).
fn value(
    text: &str,
    mut i: usize,
    out: &mut String,
    stack: &mut Vec<u8>,
    write: bool,
) -> Option<usize> {
    const CUT: &[u8] = b"\"managedFields\"";
    let b = text.as_bytes();
    let base = stack.len();
    loop {
        i = skip_ws(b, i);
        match *b.get(i)? {
            b'"' => {
                let end = string_end(b, i)?;
                let after = skip_ws(b, end);
                if write && &b[i..end] == CUT && b.get(after) == Some(&b':') {
                    // A member name (only a name is followed by a colon): the member goes.
                    let value_end = value(text, after + 1, out, stack, false)?;
                    let next = skip_ws(b, value_end);
                    if b.get(next) == Some(&b',') {
                        i = next + 1;
                    } else {
                        if out.ends_with(',') {
                            out.pop();
                        }
                        i = next;
                    }
                    continue;
                }
                if write {
                    out.push_str(text.get(i..end)?);
                }
                if !matches!(b.get(after), Some(b':' | b',' | b'}' | b']') | None) {
                    return None;
                }
                i = end;
            }
            c @ (b'{' | b'[') => {
                stack.push(c);
                if write {
                    out.push(char::from(c));
                }
                i += 1;
                continue;
            }
            c @ (b'}' | b']') => {
                if stack.len() <= base {
                    return None;
                }
                let open = stack.pop()?;
                if (open, c) != (b'{', b'}') && (open, c) != (b'[', b']') {
                    return None;
                }
                if write {
                    out.push(char::from(c));
                }
                i += 1;
            }
            c @ (b',' | b':') => {
                if stack.len() <= base {
                    return None;
                }
                if write {
                    out.push(char::from(c));
                }
                i += 1;
                continue;
            }
            _ => {
                // A number, `true`, `false` or `null`: up to the next delimiter, which must
                // not be another scalar (`1 2` would otherwise read as `12`).
                let end = scalar_end(b, i);
                if end == i {
                    return None;
                }
                if write {
                    out.push_str(text.get(i..end)?);
                }
                if !matches!(b.get(skip_ws(b, end)), Some(b',' | b'}' | b']') | None) {
                    return None;
                }
                i = end;
            }
        }
        if stack.len() == base {
            return Some(i);
        }
    }
}

/// Past JSON whitespace from `i`. Why eight bytes at a time: indentation is most of a
/// `kubectl -o json` List, and a byte-by-byte loop here was the scan's hottest branch; the
/// count of leading spaces in a word skips a partial run without a loop.
fn skip_ws(b: &[u8], mut i: usize) -> usize {
    const SPACES: u64 = u64::from_le_bytes([b' '; 8]);
    loop {
        if let Some(chunk) = b.get(i..i + 8) {
            let mut eight = [0u8; 8];
            eight.copy_from_slice(chunk);
            let other = u64::from_le_bytes(eight) ^ SPACES;
            if other == 0 {
                i += 8;
                continue;
            }
            // Little-endian: the lowest nonzero byte of `other` is the first non-space.
            i += (other.trailing_zeros() / 8) as usize;
        }
        match b.get(i) {
            Some(b' ' | b'\n' | b'\r' | b'\t') => i += 1,
            _ => return i,
        }
    }
}

/// The end (past the closing quote) of the string whose opening quote is at `i`.
fn string_end(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    loop {
        j += memchr::memchr2(b'"', b'\\', b.get(j..)?)?;
        if b[j] == b'"' {
            return Some(j + 1);
        }
        // An escape: the next byte is never the string's end.
        j += 2;
    }
}

/// The end of a scalar token starting at `i`: the next delimiter or whitespace.
fn scalar_end(b: &[u8], i: usize) -> usize {
    let mut j = i;
    while let Some(c) = b.get(j) {
        if matches!(
            c,
            b',' | b'}' | b']' | b':' | b'"' | b'{' | b'[' | b' ' | b'\n' | b'\r' | b'\t'
        ) {
            break;
        }
        j += 1;
    }
    j
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(text: &str) -> Option<(Option<String>, Vec<String>, Vec<String>)> {
        let mut out = String::new();
        let s = scan_list(text, &mut out)?;
        let raw = s.items.iter().map(|(r, _)| text[r.clone()].to_string());
        let compact = s.items.iter().map(|(_, c)| out[c.clone()].to_string());
        Some((s.kind, raw.collect(), compact.collect()))
    }

    #[test]
    fn items_are_found_and_written_compact_without_managed_fields() {
        let text = "{\n    \"apiVersion\": \"v1\",\n    \"items\": [\n        {\n            \"metadata\": {\n                \"managedFields\": [ {\"f\": {\"k:{\\\"a\\\":\\\"}\\\"}\": {}}} ],\n                \"name\": \"a b\",\n                \"uid\": \"u\"\n            },\n            \"x\": \"\\\"managedFields\\\": 1\", \"n\": -1.5e3, \"t\": true\n        },\n        [1, null, {\"managedFields\": 2}]\n    ],\n    \"kind\": \"PodList\",\n    \"metadata\": {\"resourceVersion\": \"1\"}\n}\n";
        let (kind, raw, compact) = items(text).expect("a List");
        assert_eq!(kind.as_deref(), Some("PodList"), "kind after the items");
        assert_eq!(
            compact,
            [
                r#"{"metadata":{"name":"a b","uid":"u"},"x":"\"managedFields\": 1","n":-1.5e3,"t":true}"#,
                "[1,null,{}]"
            ]
        );
        assert!(
            raw[0].starts_with('{') && raw[0].ends_with('}') && raw[0].contains("managedFields")
        );
        assert_eq!(raw[1], r#"[1, null, {"managedFields": 2}]"#);
        for (r, c) in raw.iter().zip(&compact) {
            let mut r: serde_json::Value = serde_json::from_str(r).expect("raw");
            if let Some(m) = r.pointer_mut("/metadata").and_then(|m| m.as_object_mut()) {
                m.remove("managedFields");
            }
            if let Some(m) = r.pointer_mut("/2").and_then(|m| m.as_object_mut()) {
                m.remove("managedFields");
            }
            let c: serde_json::Value = serde_json::from_str(c).expect("compact");
            assert_eq!(r, c);
        }
        let last = r#"{"items": [{"a": 1, "managedFields": null}]}"#;
        assert_eq!(items(last).expect("list").2, [r#"{"a":1}"#]);
        assert_eq!(items(r#"{"items": []}"#).expect("empty").1.len(), 0);
        assert_eq!(
            items(r#"{"k\u0069nd": "X", "items": []}"#)
                .expect("esc")
                .0
                .as_deref(),
            Some("X")
        );
    }

    #[test]
    fn what_is_not_a_valid_list_is_left_to_the_general_reader() {
        for bad in [
            "",
            "[]",
            "{}",
            r#"{"kind": "PodList"}"#,
            r#"{"items": null}"#,
            r#"{"items": {}}"#,
            r#"{"items": [1,]}"#,
            r#"{"items": [{"a": 1 2}]}"#,
            r#"{"items": [{"a": [1}]}"#,
            r#"{"items": [{"a": "b}]}"#,
            r#"{"items": [{"a": tr ue}]}"#,
            r#"{"items": [], "items": []}"#,
            r#"{"items": [], "kind": 1}"#,
            r#"{"items": [], "kind": "A", "kind": "B"}"#,
            r#"{"items": [], "metadata": {"a" 1}}"#,
            r#"{"items": []} x"#,
            r#"{"items": [{}]"#,
        ] {
            assert!(items(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn whitespace_is_skipped_to_the_first_other_byte_however_it_is_made() {
        for spaces in 0..20 {
            for text in [
                format!("{}x", " ".repeat(spaces)),
                format!(
                    "\n{}\t\r\n{} x  ",
                    " ".repeat(spaces),
                    " ".repeat(spaces % 9)
                ),
                " ".repeat(spaces),
            ] {
                let want = text
                    .bytes()
                    .position(|c| !matches!(c, b' ' | b'\n' | b'\r' | b'\t'))
                    .unwrap_or(text.len());
                assert_eq!(skip_ws(text.as_bytes(), 0), want, "{text:?}");
            }
        }
    }

    #[test]
    fn deep_nesting_is_scanned_without_recursion() {
        let n = 200_000;
        let text = format!(
            r#"{{"items": [{}1{}, {}2{}]}}"#,
            r#"{"managedFields": "#.repeat(n),
            "}".repeat(n),
            "[".repeat(n),
            "]".repeat(n)
        );
        let (_, _, compact) = items(&text).expect("balanced");
        assert_eq!(compact[0], "{}");
        assert_eq!(compact[1].len(), 2 * n + 1);
    }
}
