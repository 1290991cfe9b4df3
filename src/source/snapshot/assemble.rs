//! The per-file states of a snapshot assembled into one: files read in parallel, joined in
//! file order, the same object read twice kept once, nameless objects reported.

use super::{Buffers, parse_file};
use crate::state::ClusterState;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use std::path::{Path, PathBuf};

/// Parse object files on all cores; each worker fills its own state, merged at the end.
pub(super) fn parse_files(root: &Path, files: &[PathBuf], empty: &ClusterState) -> ClusterState {
    parse_files_with(root, files, empty, parse_file)
}

/// [`parse_files`] with the per-file reader given (a test gives one that fails).
fn parse_files_with(
    root: &Path,
    files: &[PathBuf],
    empty: &ClusterState,
    parse: impl Fn(&Path, &Path, &mut ClusterState, &mut Buffers) + Sync,
) -> ClusterState {
    let no = |_: &str| false;
    let shared = Shared {
        tasks: files.iter().cloned().map(Task::File).collect(),
        object_files: files.to_vec(),
        ..Shared::default()
    };
    // No folder is listed, so nothing can fail to be.
    match run(root, shared, &no, &no, &no, empty, parse) {
        Ok(walked) => walked.state,
        Err(_) => empty.fresh(),
    }
}

/// What [`walk_and_parse`] found: the state of every object file, and the files.
pub(super) struct Walked {
    pub state: ClusterState,
    /// The object files, sorted.
    pub object_files: Vec<PathBuf>,
    /// The log files, sorted.
    pub log_files: Vec<PathBuf>,
}

/// One task of the walk: a folder to list, or an object file to read.
enum Task {
    Dir(PathBuf),
    File(PathBuf),
}

/// What the walking threads share.
#[derive(Default)]
struct Shared {
    tasks: Vec<Task>,
    /// Tasks taken and not yet done: the walk is over when none is queued and none is busy.
    busy: usize,
    error: Option<std::io::Error>,
    object_files: Vec<PathBuf>,
    log_files: Vec<PathBuf>,
}

/// Walk `root` (as [`crate::fswalk::files`] does: sorted in the end, symlinks and special
/// files never followed, only folders `enter` accepts) and parse its object files on all
/// cores while it is walked. Why: listing thousands of pod folders is tens of milliseconds of
/// system calls; done first, on one thread, it was a tenth of `analyze`'s time on a large dump.
/// The result is what walking first and then [`parse_files`] gives: the states are joined in
/// file order.
pub(super) fn walk_and_parse(
    root: &Path,
    enter: &(dyn Fn(&str) -> bool + Sync),
    is_object: &(dyn Fn(&str) -> bool + Sync),
    is_log: &(dyn Fn(&str) -> bool + Sync),
    empty: &ClusterState,
) -> std::io::Result<Walked> {
    run(
        root,
        walk_from(root),
        enter,
        is_object,
        is_log,
        empty,
        parse_file,
    )
}

/// The one task a walk starts with: listing `root`.
fn walk_from(root: &Path) -> Shared {
    Shared {
        tasks: vec![Task::Dir(root.to_path_buf())],
        ..Shared::default()
    }
}

/// Run the tasks `shared` starts with, and those they add, on all cores; each object file is
/// read into its own state, and the states are joined in file order (the objects come out in
/// the same order whichever thread read which file).
fn run(
    root: &Path,
    shared: Shared,
    enter: &(dyn Fn(&str) -> bool + Sync),
    is_object: &(dyn Fn(&str) -> bool + Sync),
    is_log: &(dyn Fn(&str) -> bool + Sync),
    empty: &ClusterState,
    parse: impl Fn(&Path, &Path, &mut ClusterState, &mut Buffers) + Sync,
) -> std::io::Result<Walked> {
    use std::sync::{Condvar, Mutex, PoisonError};
    // A folder may hold any number of files; given files, no more threads than files.
    let lists = shared.tasks.iter().any(|t| matches!(t, Task::Dir(_)));
    let workers = crate::runtime::cores().min(8).min(if lists {
        usize::MAX
    } else {
        shared.tasks.len().max(1)
    });
    let shared = Mutex::new(shared);
    let wake = Condvar::new();
    let parts: Vec<(PathBuf, ClusterState)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                s.spawn(|| {
                    let mut done = Vec::new();
                    let mut buffers = Buffers::default();
                    while let Some(task) = next_task(&shared, &wake) {
                        // Marks the task done however it ends: a reader that panics (a bug)
                        // must not leave the others waiting for it forever.
                        let _done = TaskDone(&shared, &wake);
                        match task {
                            Task::Dir(dir) => list(&dir, enter, is_object, is_log, &shared, &wake),
                            Task::File(file) => {
                                let mut st = empty.fresh();
                                parse(root, &file, &mut st, &mut buffers);
                                done.push((file, st));
                            }
                        }
                    }
                    done
                })
            })
            .collect();
        // A thread that failed (a bug, never the input's fault) loses what it read: those
        // files are reported as not read below, not silently left out.
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    });
    let shared = shared.into_inner().unwrap_or_else(PoisonError::into_inner);
    if let Some(e) = shared.error {
        return Err(e);
    }
    let (mut object_files, mut log_files) = (shared.object_files, shared.log_files);
    object_files.sort();
    log_files.sort();
    let mut parts = parts;
    parts.sort_by(|a, b| a.0.cmp(&b.0));
    let mut read = parts.iter().map(|(f, _)| f).peekable();
    let not_read: Vec<(String, String)> = object_files
        .iter()
        .filter(|f| {
            if read.peek() == Some(f) {
                read.next();
                false
            } else {
                true
            }
        })
        .map(|file| (super::display(root, file), NOT_READ.into()))
        .collect();
    let mut state = join(parts.into_iter().map(|(_, st)| st).collect(), empty.fresh());
    state.report.skipped_files.extend(not_read);
    state.report.skipped_files.sort();
    state.report.skipped_objects.sort();
    Ok(Walked {
        state,
        object_files,
        log_files,
    })
}

const NOT_READ: &str = "not read: the thread reading it failed (a Sextant bug; please report it)";

/// The next task, waiting while others may still add some; `None` when the walk is over (or
/// failed).
fn next_task(shared: &std::sync::Mutex<Shared>, wake: &std::sync::Condvar) -> Option<Task> {
    let mut sh = shared
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    loop {
        if sh.error.is_some() {
            return None;
        }
        if let Some(t) = sh.tasks.pop() {
            sh.busy += 1;
            return Some(t);
        }
        if sh.busy == 0 {
            wake.notify_all();
            return None;
        }
        sh = wake
            .wait(sh)
            .unwrap_or_else(std::sync::PoisonError::into_inner);
    }
}

/// A taken task, done when dropped (also when its reader panics).
struct TaskDone<'a>(&'a std::sync::Mutex<Shared>, &'a std::sync::Condvar);

impl Drop for TaskDone<'_> {
    fn drop(&mut self) {
        let mut sh = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        sh.busy = sh.busy.saturating_sub(1);
        if sh.busy == 0 || !sh.tasks.is_empty() {
            self.1.notify_all();
        }
    }
}

/// List one folder: its folders and object files become tasks, its logs are noted.
fn list(
    dir: &Path,
    enter: &dyn Fn(&str) -> bool,
    is_object: &dyn Fn(&str) -> bool,
    is_log: &dyn Fn(&str) -> bool,
    shared: &std::sync::Mutex<Shared>,
    wake: &std::sync::Condvar,
) {
    let (mut tasks, mut objects, mut logs) = (Vec::new(), Vec::new(), Vec::new());
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            let mut sh = shared
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            sh.error.get_or_insert(e);
            wake.notify_all();
            return;
        }
    };
    for entry in entries.flatten() {
        let Ok(ft) = entry.file_type() else { continue };
        if ft.is_symlink() {
            continue;
        }
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if ft.is_dir() {
            if enter(&name) {
                tasks.push(Task::Dir(entry.path()));
            }
        } else if ft.is_file() {
            // FIFOs, sockets and devices are never read: one could block forever.
            let lower = name.to_ascii_lowercase();
            if is_object(&lower) {
                objects.push(entry.path());
            } else if is_log(&lower) {
                logs.push(entry.path());
            }
        }
    }
    let mut sh = shared
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    sh.tasks.extend(objects.iter().cloned().map(Task::File));
    sh.tasks.extend(tasks);
    sh.object_files.extend(objects);
    sh.log_files.extend(logs);
    wake.notify_all();
}

/// The per-file states as one, each list allocated once at its final size — or, when one
/// file holds all of a kind, that file's list taken as it is (no copy).
///
/// One kind at a time, every part's list of it freed as soon as it is copied: at the peak the
/// per-file lists and the joined one coexist for one kind only, not for all of them (on a
/// dump of 9,600 pods, joining every kind at once held ~50 MB twice). The freed parts are
/// given back to the operating system after each large kind ([`crate::allocator::purge_freed_now`]):
/// left to the allocator's delay, they were still resident while the next kind was copied.
fn join(mut parts: Vec<ClusterState>, mut into: ClusterState) -> ClusterState {
    // Below this a kind's parts are too small for their pages to matter to the peak, and a
    // purge (a sweep of every arena) would be work a small dump gains nothing from.
    const PURGE_AFTER_BYTES: usize = 4 << 20;
    macro_rules! join {
        ($($f:ident),*) => { $(
            if parts.iter().filter(|p| !p.$f.is_empty()).count() > 1 {
                into.$f.reserve_exact(parts.iter().map(|p| p.$f.len()).sum());
                for p in &mut parts {
                    // Taken, not appended from: the part's allocation goes now.
                    into.$f.append(&mut std::mem::take(&mut p.$f));
                }
                if std::mem::size_of_val(into.$f.as_slice()) >= PURGE_AFTER_BYTES {
                    crate::allocator::purge_freed_now();
                }
            } else if let Some(p) = parts.iter_mut().find(|p| !p.$f.is_empty()) {
                into.$f = std::mem::take(&mut p.$f);
            }
        )* };
    }
    crate::state::object_lists!(join);
    join!(conditioned, workload_json);
    for from in parts {
        merge_rest(&mut into, from);
    }
    into
}

/// What is not a list of objects: Secret names, origins, moved spec parts, the load report.
fn merge_rest(into: &mut ClusterState, from: ClusterState) {
    into.secret_names.extend(from.secret_names);
    into.origins.extend(from.origins);
    into.spec_parts.merge(from.spec_parts);
    into.secret_names_known |= from.secret_names_known;
    let r = &mut into.report;
    r.skipped_files.extend(from.report.skipped_files);
    r.skipped_objects.extend(from.report.skipped_objects);
    r.secrets_skipped += from.report.secrets_skipped;
    for (k, v) in from.report.other_kinds {
        *r.other_kinds.entry(k).or_default() += v;
    }
}

/// The same object read twice (must-gather writes each pod in its namespace's list and again
/// beside its logs) is one object, of every kind. Objects without a name are never folded
/// together (nothing says they are the same object).
pub(super) fn dedupe(st: &mut ClusterState) {
    fn once<T: k8s_openapi::Metadata<Ty = ObjectMeta>>(items: &mut Vec<T>) {
        // The names are borrowed, not copied into the set (40,000 objects on a large dump);
        // the list is rewritten only when something repeats.
        let mut seen = std::collections::HashSet::with_capacity(items.len());
        let again: Vec<bool> = items
            .iter()
            .map(|i| {
                let m = i.metadata();
                m.name.is_some() && !seen.insert((m.namespace.as_deref(), m.name.as_deref()))
            })
            .collect();
        if again.contains(&true) {
            let mut again = again.into_iter();
            items.retain(|_| !again.next().unwrap_or(false));
        }
    }
    macro_rules! dedupe {
        ($($field:ident),*) => { $( once(&mut st.$field); )* };
    }
    crate::state::object_lists!(dedupe);
    let mut seen = std::collections::HashSet::new();
    st.workload_json
        .retain(|o| seen.insert((o.kind, o.namespace.clone(), o.name.clone())));
    let mut seen = std::collections::HashSet::new();
    st.conditioned
        .retain(|o| seen.insert((o.kind.clone(), o.namespace.clone(), o.name.clone())));
}

/// Objects read without a name mean the reader misunderstood the file's shape: every
/// finding about them would be about nothing. Said loudly, per kind, and the objects dropped.
pub(super) fn nameless_warnings(st: &mut ClusterState) {
    fn drop_nameless<T: k8s_openapi::Metadata<Ty = ObjectMeta>>(
        kind: &str,
        items: &mut Vec<T>,
        out: &mut Vec<String>,
    ) {
        let before = items.len();
        items.retain(|i| i.metadata().name.as_deref().is_some_and(|n| !n.is_empty()));
        let gone = before - items.len();
        if gone > 0 {
            out.push(format!(
                "{gone} {kind} object(s) were read without a name (a capture layout Sextant does not understand); they were left out of the analysis"
            ));
        }
    }
    let mut w = Vec::new();
    drop_nameless("Pod", &mut st.pods, &mut w);
    drop_nameless("Deployment", &mut st.deployments, &mut w);
    drop_nameless("ReplicaSet", &mut st.replica_sets, &mut w);
    drop_nameless("StatefulSet", &mut st.stateful_sets, &mut w);
    drop_nameless("DaemonSet", &mut st.daemon_sets, &mut w);
    drop_nameless("Job", &mut st.jobs, &mut w);
    drop_nameless("Service", &mut st.services, &mut w);
    drop_nameless("Node", &mut st.nodes, &mut w);
    drop_nameless("PersistentVolumeClaim", &mut st.pvcs, &mut w);
    // Events have generated names; an event without one is still about its object.
    st.report.warnings.extend(w);
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{Event, Pod};

    /// A reader that reads each file as a pod named by its path, and panics on `name`.
    fn failing_on(name: &str) -> impl Fn(&Path, &Path, &mut ClusterState, &mut Buffers) + Sync {
        move |_, f, st, _| {
            if f.ends_with(name) {
                panic!("a reader bug");
            }
            st.pods.push(pod(&f.display().to_string()));
        }
    }

    fn skipped(st: &ClusterState) -> Vec<&str> {
        st.report
            .skipped_files
            .iter()
            .map(|(f, _)| f.as_str())
            .collect()
    }

    fn pod(name: &str) -> Pod {
        Pod {
            metadata: ObjectMeta {
                name: Some(name.into()),
                ..ObjectMeta::default()
            },
            ..Pod::default()
        }
    }

    #[test]
    fn parts_join_in_file_order_and_a_kind_held_by_one_part_is_moved() {
        let mut first = ClusterState::default();
        first.pods = vec![pod("a"), pod("b")];
        first.report.secrets_skipped = 1;
        let mut second = ClusterState::default();
        second.events = vec![Event::default()];
        let events_at = second.events.as_ptr();
        let mut third = ClusterState::default();
        third.pods = vec![pod("c")];
        third.report.secrets_skipped = 2;
        let st = join(vec![first, second, third], ClusterState::default());
        let names: Vec<_> = st
            .pods
            .iter()
            .filter_map(|p| p.metadata.name.as_deref())
            .collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!(st.pods.capacity(), 3, "allocated once at its final size");
        assert_eq!(
            st.events.as_ptr(),
            events_at,
            "the only list of a kind is moved"
        );
        assert_eq!(st.report.secrets_skipped, 3);
    }

    #[test]
    fn files_a_failed_reading_thread_held_are_reported_not_dropped() {
        let dir = tempfile::tempdir().expect("tmp");
        let files: Vec<PathBuf> = (0..6)
            .map(|i| dir.path().join(format!("f{i}.json")))
            .collect();
        let st = parse_files_with(
            dir.path(),
            &files,
            &ClusterState::default(),
            failing_on("f3.json"),
        );
        let not_read = skipped(&st);
        // The failed thread lost f3 and whatever else it had read; every file is either read
        // or reported.
        assert!(
            not_read.iter().any(|f| f.ends_with("f3.json")),
            "{not_read:?}"
        );
        assert_eq!(st.pods.len() + not_read.len(), files.len());
        assert!(
            st.report
                .skipped_files
                .iter()
                .all(|(_, why)| why.contains("thread"))
        );
    }

    /// The walk that parses as it lists finds what walking first finds, in the same order,
    /// and a reader that panics on one file neither hangs the others nor hides the file.
    #[test]
    fn walking_while_parsing_reads_every_file_in_order_and_reports_a_failed_one() {
        let dir = tempfile::tempdir().expect("tmp");
        for (i, d) in ["a", "a/b", "c", ".hidden", "c/d/e"].iter().enumerate() {
            std::fs::create_dir_all(dir.path().join(d)).expect("mkdir");
            for f in ["x.json", "y.YAML", "logs.txt", "z.log", "note.md"] {
                std::fs::write(dir.path().join(d).join(format!("{i}{f}")), "").expect("w");
            }
        }
        let enter = |n: &str| !n.starts_with('.');
        let is_object = |n: &str| n.ends_with(".json") || n.ends_with(".yaml");
        let is_log = |n: &str| n.ends_with("logs.txt") || n.ends_with(".log");
        let expected: Vec<PathBuf> = crate::fswalk::files(dir.path(), &enter).expect("walk");
        let of = |keep: &dyn Fn(&str) -> bool| -> Vec<PathBuf> {
            expected
                .iter()
                .filter(|p| keep(&p.to_string_lossy().to_ascii_lowercase()))
                .cloned()
                .collect()
        };
        let walked = run(
            dir.path(),
            walk_from(dir.path()),
            &enter,
            &is_object,
            &is_log,
            &ClusterState::default(),
            failing_on("2y.YAML"),
        )
        .expect("walk");
        assert_eq!(walked.object_files, of(&is_object));
        assert_eq!(walked.log_files, of(&is_log));
        assert_eq!(walked.object_files.len(), 8);
        let names: Vec<&str> = walked
            .state
            .pods
            .iter()
            .filter_map(|p| p.metadata.name.as_deref())
            .collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted, "joined in file order");
        let not_read = skipped(&walked.state);
        assert!(
            not_read.iter().any(|f| f.ends_with("2y.YAML")),
            "{not_read:?}"
        );
        assert_eq!(names.len() + not_read.len(), 8);
        let missing = walk_and_parse(
            &dir.path().join("gone"),
            &enter,
            &is_object,
            &is_log,
            &ClusterState::default(),
        );
        assert!(missing.is_err());
    }

    #[test]
    fn an_object_read_twice_is_kept_once_in_its_first_place() {
        let at = |name: Option<&str>, ns: &str| Pod {
            metadata: ObjectMeta {
                name: name.map(str::to_string),
                namespace: Some(ns.into()),
                ..ObjectMeta::default()
            },
            ..Pod::default()
        };
        let mut st = ClusterState::default();
        st.pods = vec![
            at(Some("a"), "x"),
            at(Some("b"), "x"),
            at(Some("a"), "x"),
            at(None, "x"),
            at(None, "x"),
            at(Some("a"), "y"),
        ];
        dedupe(&mut st);
        let kept: Vec<(Option<&str>, Option<&str>)> = st
            .pods
            .iter()
            .map(|p| (p.metadata.namespace.as_deref(), p.metadata.name.as_deref()))
            .collect();
        assert_eq!(
            kept,
            [
                (Some("x"), Some("a")),
                (Some("x"), Some("b")),
                (Some("x"), None),
                (Some("x"), None),
                (Some("y"), Some("a"))
            ]
        );
    }
}
