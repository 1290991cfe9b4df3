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

pub fn new() -> Result<tokio::runtime::Runtime, RuntimeError> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}
