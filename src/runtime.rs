//! The async runtime the synchronous front ends block on (the CLI, the REPL, a source's
//! `load`): one place builds it, small (two workers: the work is I/O bound).

/// The runtime could not start (out of threads or file descriptors).
#[derive(Debug, thiserror::Error)]
#[error("cannot start the async runtime: {0}")]
pub struct RuntimeError(#[from] std::io::Error);

pub fn new() -> Result<tokio::runtime::Runtime, RuntimeError> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}
