//! The async runtime the synchronous front ends block on (the CLI, the REPL, a source's
//! `load`): one place builds it, small (two workers: the work is I/O bound); and how many
//! threads CPU-bound work may use ([`cores`]).

/// The runtime could not start (out of threads or file descriptors).
#[derive(Debug, thiserror::Error)]
#[error("cannot start the async runtime: {0}")]
pub struct RuntimeError(#[from] std::io::Error);

/// The threads CPU-bound work may use (reading a dump, the pod analyzer, `policy check`): the
/// cores this process may run on, 1 when that cannot be known. Each caller caps it to its work.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

/// `here()` on this thread and `beside()` on another at the same time, both results returned;
/// one after the other where there is one core (a thread would only add its start). A panic
/// in either is passed on, as one thread would have (a panic is a bug, not the input's fault).
pub fn beside<A, B: Send>(here: impl FnOnce() -> A, beside: impl FnOnce() -> B + Send) -> (A, B) {
    if cores() == 1 {
        let a = here();
        return (a, beside());
    }
    std::thread::scope(|s| {
        let b = s.spawn(beside);
        let a = here();
        (a, b.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
    })
}

pub fn new() -> Result<tokio::runtime::Runtime, RuntimeError> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beside_returns_both_results_and_passes_a_panic_on() {
        let v = [1, 2, 3];
        assert_eq!(beside(|| v.len(), || v.iter().sum::<i32>()), (3, 6));
        let caught = std::panic::catch_unwind(|| beside(|| 1, || -> i32 { panic!("a bug") }));
        let payload = caught.expect_err("the panic is passed on");
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"a bug"));
    }
}
