//! Writes a valid synthetic history of N events as JSON Lines to stdout:
//! `cargo run --release --example synth -- 100000 > synth.jsonl`.
use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use clap::Parser;

/// Writes a valid synthetic history (every append rule holds) of N events as JSON Lines to
/// standard output, for benchmarks and load tests: signatures, withdrawals, ratifications,
/// observers, appointments, boards, meetings and claims, with dates of every precision, and
/// about one event in a hundred a correction or retraction of a recent event (seqs count from
/// 1: append it to an empty ledger).
///
/// Example: `cargo run --release --example synth -- 100000 > synth.jsonl`, then
/// `iofs-ledger --db synth.db init --empty && iofs-ledger --db synth.db append synth.jsonl`.
#[derive(Parser)]
#[command(name = "synth")]
struct Args {
    /// How many events (underscores allowed: 1_000_000).
    #[arg(default_value = "1000", value_parser = count)]
    events: usize,
    /// The seed: the same seed and count give the same history.
    #[arg(default_value_t = 1)]
    seed: u64,
}

fn count(s: &str) -> Result<usize, String> {
    s.replace('_', "")
        .parse()
        .map_err(|_| format!("`{s}` is not a number of events"))
}

fn main() -> ExitCode {
    let args = Args::parse();
    let mut out = BufWriter::new(io::stdout().lock());
    match iofs_ledger::synth::write_jsonl(&mut out, args.events, args.seed)
        .and_then(|_| out.flush())
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            #[allow(clippy::print_stderr)]
            {
                eprintln!("synth: cannot write: {e}");
            }
            ExitCode::FAILURE
        }
    }
}
