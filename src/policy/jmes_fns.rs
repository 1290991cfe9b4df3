//! Kyverno's own JMESPath functions (the ones its library policies use), registered beside
//! the standard ones. Semantics follow Kyverno's documentation; a function Kyverno has and
//! Sextant does not is an evaluation error, reported, never guessed.
//!
//! `keys` and `values` are re-registered null-safe: JMESPath's sub-expression `a.keys(@)`
//! yields null when `a` is null (go-jmespath, which Kyverno uses, never calls the function);
//! the Rust crate calls it and fails on the null.

use jmespath::{Context, JmespathError, Rcvar, Runtime, Variable};
use std::collections::HashMap;

type Args<'a> = &'a [Rcvar];

fn string(args: Args, i: usize, f: &str) -> Result<String, JmespathError> {
    match args.get(i).map(|a| &**a) {
        Some(Variable::String(s)) => Ok(s.clone()),
        // Kyverno converts numbers (`regex_match('^[0-9]+$', `12`)`) to their text.
        Some(Variable::Number(n)) => Ok(n.to_string()),
        Some(Variable::Bool(b)) => Ok(b.to_string()),
        other => Err(error(format!(
            "{f}: argument {i} must be a string, got {}",
            other.map_or("nothing".to_string(), |v| v.get_type().to_string())
        ))),
    }
}

fn error(msg: String) -> JmespathError {
    JmespathError::new("", 0, jmespath::ErrorReason::Parse(msg.replace('\n', " ")))
}

fn ok(v: Variable) -> Result<Rcvar, JmespathError> {
    Ok(Rcvar::new(v))
}

/// Patterns come from policies: compiled once per pattern, per thread.
fn regex(pattern: &str) -> Result<regex::Regex, JmespathError> {
    thread_local! {
        static CACHE: std::cell::RefCell<HashMap<String, regex::Regex>> =
            std::cell::RefCell::new(HashMap::new());
    }
    CACHE.with(|c| {
        if let Some(re) = c.borrow().get(pattern) {
            return Ok(re.clone());
        }
        let re = regex::Regex::new(pattern)
            .map_err(|e| error(format!("'{pattern}' is not a valid regex: {e}")))?;
        let mut cache = c.borrow_mut();
        if cache.len() >= 512 {
            cache.clear();
        }
        cache.insert(pattern.to_string(), re.clone());
        Ok(re)
    })
}

/// Go's `$1` / `${name}` replacement syntax is the regex crate's too.
fn regex_replace_all(args: Args, literal: bool) -> Result<Rcvar, JmespathError> {
    let f = "regex_replace_all";
    let re = regex(&string(args, 0, f)?)?;
    let src = string(args, 1, f)?;
    let with = string(args, 2, f)?;
    let out = if literal {
        re.replace_all(&src, regex::NoExpand(&with)).into_owned()
    } else {
        re.replace_all(&src, with.as_str()).into_owned()
    };
    ok(Variable::String(out))
}

/// A number, or the text of a number, duration or quantity, in base units (seconds, bytes,
/// cores) with which kind it was (`'n'`, `'d'`, `'q'`).
fn amount(args: Args, i: usize, f: &str) -> Result<(f64, char), JmespathError> {
    match args.get(i).map(|a| &**a) {
        Some(Variable::Number(n)) => n
            .as_f64()
            .map(|x| (x, 'n'))
            .ok_or_else(|| error(format!("{f}: argument {i} is not a finite number"))),
        Some(Variable::String(s)) => {
            if let Ok(x) = s.trim().parse::<f64>() {
                Ok((x, 'n'))
            } else if let Some(x) = super::jmes::duration(s.trim()) {
                Ok((x, 'd'))
            } else if let Some(x) = crate::analyzers::quantity(s) {
                Ok((x, 'q'))
            } else {
                Err(error(format!(
                    "{f}: argument {i} ({s:?}) is not a number, duration or quantity"
                )))
            }
        }
        other => Err(error(format!(
            "{f}: argument {i} must be a number, got {}",
            other.map_or("nothing".to_string(), |v| v.get_type().to_string())
        ))),
    }
}

fn number(x: f64) -> Result<Rcvar, JmespathError> {
    serde_json::Number::from_f64(x)
        .map(|n| Rcvar::new(Variable::Number(n)))
        .ok_or_else(|| error("the result is not a finite number".into()))
}

type Function = fn(Args) -> Result<Rcvar, JmespathError>;

const FUNCTIONS: &[(&str, Function)] = &[
    ("regex_match", |a| {
        let re = regex(&string(a, 0, "regex_match")?)?;
        ok(Variable::Bool(re.is_match(&string(a, 1, "regex_match")?)))
    }),
    ("regex_replace_all", |a| regex_replace_all(a, false)),
    ("regex_replace_all_literal", |a| regex_replace_all(a, true)),
    ("split", |a| {
        let s = string(a, 0, "split")?;
        let sep = string(a, 1, "split")?;
        ok(Variable::Array(
            s.split(sep.as_str())
                .map(|p| Rcvar::new(Variable::String(p.to_string())))
                .collect(),
        ))
    }),
    ("trim", |a| {
        let s = string(a, 0, "trim")?;
        let cut = string(a, 1, "trim")?;
        ok(Variable::String(
            s.trim_matches(|c| cut.contains(c)).to_string(),
        ))
    }),
    ("trim_prefix", |a| {
        let s = string(a, 0, "trim_prefix")?;
        let p = string(a, 1, "trim_prefix")?;
        ok(Variable::String(
            s.strip_prefix(p.as_str()).unwrap_or(&s).to_string(),
        ))
    }),
    ("replace_all", |a| {
        let s = string(a, 0, "replace_all")?;
        ok(Variable::String(s.replace(
            &string(a, 1, "replace_all")?,
            &string(a, 2, "replace_all")?,
        )))
    }),
    ("replace", |a| {
        // replace(str, old, new, n): n < 0 replaces all.
        let s = string(a, 0, "replace")?;
        let (old, new) = (string(a, 1, "replace")?, string(a, 2, "replace")?);
        let n = a.get(3).and_then(|v| v.as_number()).unwrap_or(-1.0);
        let out = if n < 0.0 {
            s.replace(&old, &new)
        } else {
            // `n` is a small count from a policy; saturating to usize is its meaning.
            s.replacen(&old, &new, n as usize)
        };
        ok(Variable::String(out))
    }),
    ("truncate", |a| {
        let s = string(a, 0, "truncate")?;
        let n = a.get(1).and_then(|v| v.as_number()).unwrap_or(0.0).max(0.0) as usize;
        ok(Variable::String(s.chars().take(n).collect()))
    }),
    ("equal_fold", |a| {
        ok(Variable::Bool(
            string(a, 0, "equal_fold")?.to_lowercase()
                == string(a, 1, "equal_fold")?.to_lowercase(),
        ))
    }),
    ("compare", |a| {
        let (x, y) = (string(a, 0, "compare")?, string(a, 1, "compare")?);
        ok(Variable::Number(
            match x.cmp(&y) {
                std::cmp::Ordering::Less => -1,
                std::cmp::Ordering::Equal => 0,
                std::cmp::Ordering::Greater => 1,
            }
            .into(),
        ))
    }),
    ("pattern_match", |a| {
        let p = string(a, 0, "pattern_match")?;
        ok(Variable::Bool(super::pattern::wildcard(
            &p,
            &string(a, 1, "pattern_match")?,
        )))
    }),
    ("label_match", |a| {
        // Every label of the first map is in the second with the same value.
        let (Some(Variable::Object(want)), Some(Variable::Object(have))) =
            (a.first().map(|v| &**v), a.get(1).map(|v| &**v))
        else {
            return ok(Variable::Bool(false));
        };
        ok(Variable::Bool(
            want.iter()
                .all(|(k, v)| have.get(k).is_some_and(|h| h == v)),
        ))
    }),
    // Kyverno's arithmetic: two quantities or two durations divide into a plain ratio
    // (`divide('300Mi', '100Mi')` is 3); numbers are numbers.
    ("divide", |a| {
        let ((x, _), (y, _)) = (amount(a, 0, "divide")?, amount(a, 1, "divide")?);
        if y == 0.0 {
            return Err(error("divide: division by zero".into()));
        }
        number(x / y)
    }),
    ("multiply", |a| {
        let ((x, kx), (y, ky)) = (amount(a, 0, "multiply")?, amount(a, 1, "multiply")?);
        if kx != 'n' && ky != 'n' {
            return Err(error(
                "multiply: at most one argument may have a unit".into(),
            ));
        }
        number(x * y)
    }),
    ("keys", |a| match a.first().map(|v| &**v) {
        Some(Variable::Object(o)) => ok(Variable::Array(
            o.keys()
                .map(|k| Rcvar::new(Variable::String(k.clone())))
                .collect(),
        )),
        Some(Variable::Null) | None => ok(Variable::Null),
        Some(other) => Err(error(format!(
            "keys: argument must be an object, got {}",
            other.get_type()
        ))),
    }),
    ("values", |a| match a.first().map(|v| &**v) {
        Some(Variable::Object(o)) => ok(Variable::Array(o.values().cloned().collect())),
        Some(Variable::Null) | None => ok(Variable::Null),
        Some(other) => Err(error(format!(
            "values: argument must be an object, got {}",
            other.get_type()
        ))),
    }),
];

/// Register Kyverno's functions on `rt` (after the standard ones: `keys`/`values` replace
/// theirs).
pub fn register(rt: &mut Runtime) {
    for (name, f) in FUNCTIONS {
        let f = *f;
        rt.register_function(
            name,
            Box::new(
                move |args: &[Rcvar], _: &mut Context<'_>| -> Result<Rcvar, JmespathError> {
                    f(args)
                },
            ),
        );
    }
}
