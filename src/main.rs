//! The `iofs-ledger` command: parses arguments, runs one command, maps errors to exit codes.
//! All work is in the library; all printing is in `cli`.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::main()
}
