//! The `sextant` binary: parse the command line, run, map errors to exit codes. All logic is
//! in the library.

/// See Cargo.toml: indexing is allocation-heavy.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(sextant::cli::main());
}
