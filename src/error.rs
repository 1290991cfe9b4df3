//! Library errors. Each names the file, flag or object at fault so the CLI can print it as one
//! line and exit 2.

use std::path::PathBuf;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum Error {
    #[error("--snapshot {0}: no such file or directory")]
    SnapshotNotFound(PathBuf),

    #[error(
        "--snapshot {0}: no Kubernetes objects found (expected a cluster-info dump, or .json/.yaml files holding objects or lists)"
    )]
    SnapshotEmpty(PathBuf),

    #[error("--snapshot {path}: {reason}")]
    SnapshotUnreadable { path: PathBuf, reason: String },

    #[error(
        "finding '{0}' not found: no finding id or object name matches (run `sextant analyze` to list them)"
    )]
    FindingNotFound(String),

    #[error("finding id '{0}' is ambiguous: it is the prefix of {1}")]
    FindingAmbiguous(String, String),

    #[error("{0}")]
    Usage(String),

    #[error("{0}: not yet available in this version of sextant")]
    NotYetAvailable(String),

    /// The cluster could not be read (the source's own error, with its causes). Boxed so this
    /// crate-wide error does not depend on the cluster module; `cluster` converts into it.
    #[error(transparent)]
    Cluster(Box<dyn std::error::Error + Send + Sync + 'static>),

    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// Whether the error is the user's input (exit 2) rather than an internal failure.
    pub fn is_bad_input(&self) -> bool {
        !matches!(self, Error::Io { .. })
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
