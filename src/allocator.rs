//! The binary's allocator, and when it gives freed memory back to the operating system.
//!
//! mimalloc 3 (see Cargo.toml for why it is the allocator) keeps freed pages for a second
//! before it returns them (its `options.c`; the header's "=10" is out of date), which is most of
//! an `analyze` run. Reading a large dump frees tens of megabytes in a few milliseconds (the
//! per-file lists joined into one, lists shrunk to their length): still resident while the
//! next lists are faulted in, they were counted twice in the peak. Measured on the realistic
//! dump of `benches/analyze.rs`, six alternating runs of `analyze -A -o json` per delay:
//!
//! | delay | peak RSS | CPU (median) |
//! |---|---|---|
//! | 1,000 ms (mimalloc's) | 412–430 MB | 2.28 s |
//! | 10 ms (this) | 372–386 MB | 2.25 s |
//! | 0 (at once) | 363–367 MB | 2.64 s (a system call per freed page run) |
//!
//! `index build` on the index bench's dump, three alternating runs: 543–551 → 506–521 MB, wall
//! time within the noise (5.95–7.32 s against 6.96–7.66 s), 0.2–0.4 s more system time.
//!
//! It is built without transparent huge pages (mimalloc's `no_thp` feature, Cargo.toml).
//! mimalloc reserves its arena (1 GiB) before `main` runs, commits it at once on a kernel that
//! overcommits, and advises huge pages on it: where the kernel grants them on advice (THP
//! `madvise`, Debian's and Ubuntu's default), each first touch faulted in 2 MiB, so the pages
//! of half-used size classes and of the per-thread heaps of the reading threads counted whole
//! in the peak, and a purge split them back. Setting mimalloc's options from `main` came too
//! late (the arena was already mapped; measured: no change). A kernel set to THP `always` (the
//! RHEL family's default) still grants huge pages unasked; there `MIMALLOC_ALLOW_THP=0` in the
//! environment turns them off for the process (docs/performance.md). Measured with the allocator built each way, the same
//! day, on the realistic dump (three alternating runs of `analyze -A -o json`) and the demo:
//!
//! | | realistic dump, peak RSS | wall | demo, peak RSS |
//! |---|---|---|---|
//! | huge pages advised (before) | 369–388 MB | 0.80–1.60 s | 62 MB |
//! | `no_thp` (this) | 358–359 MB | 0.92–0.98 s | 46 MB |

pub use mimalloc::MiMalloc as Allocator;

/// mimalloc 3's `mi_option_purge_delay`: libmimalloc-sys names no constant for it, so the
/// number is written here and a test pins it by the option's default.
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// How long freed pages stay before they go back to the operating system (see above).
const PURGE_DELAY_MS: std::ffi::c_long = 10;

/// Return freed pages to the operating system after 10 ms. Called first thing by the binary
/// and the benches (so that their figures are the binary's).
pub fn return_freed_memory_soon() {
    // SAFETY: sets one of mimalloc's process-wide integer options, which it reads atomically;
    // any delay in milliseconds is a valid value of this option.
    unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, PURGE_DELAY_MS) }
}

/// Give every page freed so far back to the operating system now, not after the delay. Why:
/// joining a large dump's per-file lists frees one kind's parts while the next kind's joined
/// list is faulted in, and within the delay both are resident. Measured on the realistic dump
/// (four alternating runs of `analyze -A -o json`): peak at the join 242–260 → 237–238 MB,
/// the run's peak 245–259 → 245–246 MB, no slower. Process-wide (mimalloc purges every arena,
/// whichever thread freed into it). Under another global allocator (the library's tests) it
/// sweeps only mimalloc's own, unused heap.
pub fn purge_freed_now() {
    // SAFETY: `mi_collect` takes no pointers and may be called from any thread at any time.
    unsafe { libmimalloc_sys::mi_collect(true) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The option numbered `PURGE_DELAY` is the purge delay: before it is set, it and a
    /// neighbour have their defaults in mimalloc's `options.c` (1,000 ms; `os_tag`, three
    /// further on, 100), and setting it reads back. A mimalloc that renumbered its options
    /// fails here.
    #[test]
    fn the_option_set_is_the_purge_delay() {
        let get = |o| unsafe { libmimalloc_sys::mi_option_get(o) };
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
            assert_eq!(get(PURGE_DELAY), 1000);
        }
        if std::env::var_os("MIMALLOC_OS_TAG").is_none() {
            assert_eq!(get(PURGE_DELAY + 3), 100);
        }
        return_freed_memory_soon();
        assert_eq!(get(PURGE_DELAY), PURGE_DELAY_MS);
    }
}
