//! Shell-safe command text: every name written into a suggested command or `patch.sh` is a
//! valid Kubernetes name and quoted, so a hostile name can never run anything.

/// A DNS-1123 subdomain (what object and namespace names are): lower-case alphanumerics, '-'
/// and '.', starting and ending alphanumeric, at most 253 characters.
pub fn is_k8s_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && s.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        && s.bytes().last().is_some_and(|b| b.is_ascii_alphanumeric())
}

/// `s` as one POSIX shell word: bare when it holds only safe characters, else single-quoted
/// with every `'` written as `'\''`.
pub fn quote(s: &str) -> String {
    let safe = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@,+".contains(&b));
    if safe {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_quoting() {
        assert!(is_k8s_name("web-1.shop"));
        assert!(!is_k8s_name("web$(touch x)"));
        assert!(!is_k8s_name("shop;true"));
        assert!(!is_k8s_name("-web"));
        assert_eq!(quote("web-1"), "web-1");
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("it's"), "'it'\\''s'");
        assert_eq!(quote("$(x)"), "'$(x)'");
        assert_eq!(quote(r#"{"a":"b"}"#), r#"'{"a":"b"}'"#);
    }
}
