//! The `sextant` binary: parse the command line, run, map errors to exit codes. All logic is
//! in the library.

fn main() {
    std::process::exit(sextant::cli::main());
}
