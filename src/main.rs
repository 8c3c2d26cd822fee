//! The `iofs-ledger` command: parses arguments, runs one command, maps errors to exit codes.
//! All work is in the library; all printing is in `cli`.

mod cli;

use std::process::ExitCode;

/// mimalloc rather than the system allocator: `verify`, `append` and replay allocate an event on
/// one thread and free it on another, where glibc's malloc serialises on its arena locks
/// (docs/performance.md, "verify against its floor").
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    cli::main()
}
