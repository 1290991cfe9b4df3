//! The `sextant` binary: parse the command line, run, map errors to exit codes. All logic is
//! in the library.

/// See Cargo.toml (indexing is allocation-heavy) and `sextant::allocator`.
#[global_allocator]
static GLOBAL: sextant::allocator::Allocator = sextant::allocator::Allocator;

fn main() {
    sextant::allocator::return_freed_memory_soon();
    std::process::exit(sextant::cli::main());
}
