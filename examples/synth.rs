//! Writes a valid synthetic history of N events as JSON Lines to stdout:
//! `cargo run --release --example synth -- 100000 > synth.jsonl`.
use std::io::{self, BufWriter, Write};

fn main() -> io::Result<()> {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.replace('_', "").parse().ok())
        .unwrap_or(1000);
    let seed: u64 = std::env::args()
        .nth(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1);
    let mut out = BufWriter::new(io::stdout().lock());
    iofs_ledger::synth::write_jsonl(&mut out, n, seed)?;
    out.flush()
}
