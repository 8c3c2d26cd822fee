//! # iofs-ledger
//!
//! An event-sourced membership and governance ledger for the Islamic Organisation for Food
//! Security (IOFS). Every signature, ratification, admission, withdrawal, appointment, vacancy,
//! board election and meeting is an immutable event in an append-only log kept in SQLite;
//! projections replay the log to answer point-in-time questions, and an audit layer proves the
//! log was never rewritten.
//!
//! ```
//! use iofs_ledger::{date::Day, query, store::{AppendOptions, Ledger}, event::parse_batch};
//!
//! let mut ledger = Ledger::in_memory()?;
//! let input = r#"{"type":"statute_signed","party":"KAZ","date":"2013-12-10","source":{"document":"doc.txt","quote":"Kazakhstan signed."}}"#;
//! let events = parse_batch(input).map_err(|e| e[0].to_string())?;
//! ledger.append(events.into_iter().map(Ok), AppendOptions::default())?;
//! let state = query::state(&ledger, Day::parse("2014-01-01")?, None)?;
//! assert_eq!(state.members.count, 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Modules, from the inside out: [`date`] and [`party`] (values), [`event`] (the format),
//! [`projection`] (the pure fold and the append rules), [`chain`] (hashes), [`store`] (SQLite,
//! the only I/O), [`query`] (answers), [`audit`] (verification and reports), [`history`] (the
//! built-in history). The binary in `src/main.rs` and `src/cli/` only parses arguments and prints.
#![deny(missing_docs)]
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod answer;
pub mod audit;
pub mod chain;
pub mod date;
pub mod effect;
pub mod event;
pub mod history;
pub mod party;
pub mod projection;
pub mod query;
pub mod report;
pub mod serve;
pub mod store;
/// Deterministic synthetic histories (valid under every append rule) for benchmarks and load
/// tests.
pub mod synth;
pub mod timeline;
