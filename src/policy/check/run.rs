//! Running a check: the objects split in chunks over every core, each thread evaluating
//! every policy over the objects of the chunks it takes.

use super::*;

/// Objects `0..n` by `get`.
pub(super) type Get<'g> = dyn Fn(usize) -> Option<std::borrow::Cow<'g, Value>> + Sync + 'g;

/// Objects a worker takes at a time. Small enough that the cores finish together (a fixed
/// split of the objects left one core idle for a tenth of the check: controllers and pods do
/// not cost the same), large enough that a controller's pods, which are adjacent, mostly
/// fall in one chunk and share their verdicts.
const CHUNK: usize = 128;

pub(super) fn run(
    set: &PolicySet,
    n: usize,
    get: &Get<'_>,
    namespaces: &[(String, Value)],
) -> Report {
    let chunks = n.div_ceil(CHUNK);
    let threads = crate::runtime::cores().min(chunks).max(1);
    let next = std::sync::atomic::AtomicUsize::new(0);
    // Reversed, so a name listed twice keeps its first labels, as a search would.
    let namespaces: Namespaces = namespaces
        .iter()
        .rev()
        .map(|(n, l)| (n.as_str(), cel::namespace_json(n, l)))
        .collect();
    let namespaces = &namespaces;
    // Each worker takes the next chunk until none is left; chunks are joined in their order,
    // so the report does not depend on the number of threads or on which took what.
    let mut parts: Vec<(usize, Vec<Denial>, Vec<String>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let next = &next;
                s.spawn(move || {
                    let mut worker = Worker::new(set, t, namespaces);
                    let mut out = Vec::new();
                    loop {
                        let c = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if c >= chunks {
                            break out;
                        }
                        let objs = (c * CHUNK..((c + 1) * CHUNK).min(n)).filter_map(get);
                        let (d, e) = worker.check(objs);
                        out.push((c, d, e));
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    parts.sort_unstable_by_key(|(c, _, _)| *c);
    let mut r = Report {
        policies: set.policies.len(),
        objects: n,
        skipped: set.skipped.clone(),
        ..Report::default()
    };
    for (_, d, e) in parts {
        r.denials.extend(d);
        r.errors.extend(e);
    }
    r.denials = fold(std::mem::take(&mut r.denials));
    r.errors = fold_errors(std::mem::take(&mut r.errors));
    // Grouped by policy, objects in state order (a stable sort keeps it).
    r.denials
        .sort_by(|a, b| (&a.policy, &a.via).cmp(&(&b.policy, &b.via)));
    r
}

/// One thread's evaluation of the chunks it takes.
///
/// Pods of one controller are near-identical, and a 10,000-pod cluster is mostly replicas: for
/// a [`sibling_invariant`] policy, the verdict on one pod stands for its siblings with the same
/// [`sibling_key`]. The second sibling is still evaluated and compared, and a policy whose
/// verdicts differ between siblings anyway is evaluated pod by pod from then on.
struct Worker<'s> {
    set: &'s PolicySet,
    /// This thread's copies of the Rego engines (an engine evaluates one input at a time);
    /// the first thread uses the set's own.
    own_templates: Vec<Option<gatekeeper::Template>>,
    namespaces: &'s Namespaces<'s>,
    safe: Vec<bool>,
    /// Verdicts by (sibling key, policy) within the current chunk: a controller's pods are
    /// adjacent, so this stays small (kept for the whole check it reached a million entries).
    memo: foldhash::HashMap<(u64, usize), Sibling>,
    /// Messages and errors as [`shown`]: policies repeat a few messages over thousands of
    /// objects.
    shown: foldhash::HashMap<String, String>,
}

/// Each namespace by name, as `namespaceObject` (looked up for every object).
type Namespaces<'s> = foldhash::HashMap<&'s str, Value>;

struct Sibling {
    denials: Vec<Denial>,
    errors: Vec<String>,
    /// A second sibling got the same verdict.
    verified: bool,
}

impl<'s> Worker<'s> {
    fn new(set: &'s PolicySet, thread: usize, namespaces: &'s Namespaces<'s>) -> Self {
        let own_templates = set
            .policies
            .iter()
            .map(|(_, p)| match p {
                Loaded::Gatekeeper { template, .. } if thread > 0 => {
                    Some(template.as_ref().clone())
                }
                _ => None,
            })
            .collect();
        let mut safe = set.sibling_safe.clone();
        safe.resize(set.policies.len(), false);
        Worker {
            set,
            own_templates,
            namespaces,
            safe,
            memo: Default::default(),
            shown: Default::default(),
        }
    }

    /// `message` (a denial's or an error) as shown, redacted and neutralised once per
    /// distinct text.
    fn shown(&mut self, message: String) -> String {
        if let Some(s) = self.shown.get(&message) {
            return s.clone();
        }
        let s = shown(&message);
        // Bounded: messages that quote each object's own values are all distinct.
        if self.shown.len() < 4096 {
            self.shown.insert(message, s.clone());
        }
        s
    }

    /// Denials and errors of `objects`, in object order.
    fn check<'g>(
        &mut self,
        objects: impl Iterator<Item = std::borrow::Cow<'g, Value>>,
    ) -> (Vec<Denial>, Vec<String>) {
        let set = self.set;
        let (mut denials, mut errors) = (Vec::new(), Vec::new());
        self.memo.clear();
        // Borrowed for the worker's lifetime, not through `self` (updated in the loop).
        let namespaces: &'s Namespaces<'s> = self.namespaces;
        for o in objects {
            let o: &Value = &o;
            let subject = std::cell::OnceCell::new();
            let review = std::cell::OnceCell::new();
            let key = if self.safe.iter().any(|s| *s) {
                sibling_key(o)
            } else {
                None
            };
            let namespace = str_at(o, "/metadata/namespace").and_then(|ns| namespaces.get(ns));
            for (i, (policy, _)) in set.policies.iter().enumerate() {
                let memo_key = key.filter(|_| self.safe[i]).map(|k| (k, i));
                if let Some(m) = memo_key
                    .and_then(|k| self.memo.get(&k))
                    .filter(|m| m.verified)
                {
                    denials.extend(m.denials.iter().cloned());
                    errors.extend(m.errors.iter().cloned());
                    continue;
                }
                let (mut d, mut e) =
                    evaluate(set, &self.own_templates, i, o, &subject, &review, namespace);
                // An error quotes the object as readily as a message does (the key a lookup
                // did not find): both are shown only redacted and neutralised.
                for x in d.iter_mut().map(|d| &mut d.message).chain(e.iter_mut()) {
                    *x = self.shown(std::mem::take(x));
                }
                if let Some(k) = memo_key {
                    match self.memo.entry(k) {
                        std::collections::hash_map::Entry::Vacant(v) => {
                            v.insert(Sibling {
                                denials: d.clone(),
                                errors: e.clone(),
                                verified: false,
                            });
                        }
                        std::collections::hash_map::Entry::Occupied(mut m) => {
                            if m.get().denials == d && m.get().errors == e {
                                m.get_mut().verified = true;
                            } else {
                                tracing::debug!(
                                    policy = %policy,
                                    "verdicts differ between sibling pods: evaluating pod by pod"
                                );
                                self.safe[i] = false;
                            }
                        }
                    }
                }
                denials.extend(d);
                errors.extend(e);
            }
        }
        (denials, errors)
    }
}
