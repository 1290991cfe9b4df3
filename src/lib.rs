//! Sextant: a read-only, grounded assistant for Kubernetes operations.
//!
//! Data flows one way: a [`source`] produces a [`state::ClusterState`]; the [`analyzers`]
//! turn it into [`findings`]; [`render`] prints them. Everything that leaves the process
//! (printed, indexed or sent) passes through [`redact`] first.

pub mod allocator;
pub mod analyzers;
pub mod assistant;
pub mod audit;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod dirs;
pub mod error;
pub mod findings;
pub mod fleet;
pub mod fswalk;
pub mod guidance;
pub mod index;
pub mod jsonptr;
pub mod lang;
pub mod llm;
pub mod logs;
pub mod mcp;
pub mod policy;
pub mod redact;
pub mod render;
pub mod repl;
pub mod runtime;
pub mod shell;
pub mod source;
pub mod state;
pub mod untrusted;

pub use error::{Error, Result};

/// rustls needs one process-wide crypto provider, and both HTTP stacks (kube's and the model
/// client's reqwest) use rustls without picking one: install ring once (see
/// docs/dependencies.md). Installing twice is harmless.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
