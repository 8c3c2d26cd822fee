//! The command-line layer: the only place that reads arguments and prints.

mod args;
mod input;
mod record;
mod render;

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

use iofs_ledger::date::Day;
use iofs_ledger::event::{parse_batch, Kind};
use iofs_ledger::history::BUILTIN_HISTORY;
use iofs_ledger::party::Party;
use iofs_ledger::store::{Access, AppendOptions, Ledger, StoreError};
use iofs_ledger::{audit, query};

use args::{Cli, Command};

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad arguments (exit 2).
    #[error("{0}")]
    Usage(String),
    /// The store refused or failed (exit 1).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Verification failed (exit 1); the report was printed.
    #[error("verification failed")]
    VerifyFailed,
    /// Reading input failed (exit 1).
    #[error("cannot read {0}: {1}")]
    Input(String, io::Error),
    /// Writing output failed.
    #[error("cannot write output: {0}")]
    Output(#[from] io::Error),
    /// The output is the product (`export`, `log --json`) and was cut short: what was written
    /// is incomplete (exit 1, even for a broken pipe).
    #[error("the output was cut short ({0}): what was written is incomplete, do not use it")]
    Truncated(io::Error),
    /// Standard output is closed: an answer would be lost (exit 1, before anything is done).
    #[error("standard output is closed (or is /dev/null opened for reading and writing, as a closed one is reopened): the output would be lost, so nothing was done; redirect it to a file, or `> /dev/null` to discard it")]
    StdoutClosed,
    /// The input holds no events and `--allow-empty` was not given (exit 1).
    #[error("{0} holds no events: nothing was appended (an empty input is almost always a mistake upstream; pass --allow-empty if it is expected)")]
    EmptyInput(String),
    /// The ledger was changed (appended to, or created) but the report saying so could not be
    /// written (exit 3): the change stands, so a script must not retry it.
    #[error(
        "{done}; head {head}, but the report could not be written ({source}); do not run it again"
    )]
    DoneButUnreported {
        /// What was done.
        done: String,
        /// The new head (`SEQ:HASH`).
        head: String,
        /// Why the report was not written.
        source: io::Error,
    },
    /// An event from `record` was refused (exit 1); the message names the flags at fault.
    #[error("{0}")]
    Refused(String),
    /// The built-in history does not load (a build defect).
    #[error("the built-in history does not load: {0}")]
    Builtin(String),
}

impl CliError {
    fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => 2,
            CliError::DoneButUnreported { .. } => 3,
            _ => 1,
        }
    }
}

/// Runs the command line and returns the exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    if output_is_the_product(&cli.command) && stdout_is_closed() {
        #[allow(clippy::print_stderr)]
        {
            eprintln!("iofs-ledger: error: {}", CliError::StdoutClosed);
        }
        return ExitCode::from(1);
    }
    let stdout = io::stdout();
    let mut buffered = io::BufWriter::new(stdout.lock());
    // Output for people shows control characters escaped; JSON and exports keep them as data.
    let mut escaping;
    let out: &mut dyn Write = if machine_output(&cli.command) {
        &mut buffered
    } else {
        escaping = render::Escaping::new(&mut buffered);
        &mut escaping
    };
    let result = run(cli, out).and_then(|()| out.flush().map_err(CliError::Output));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError::Output(e)) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(CliError::VerifyFailed) => ExitCode::from(1),
        Err(e) => {
            #[allow(clippy::print_stderr)]
            {
                eprintln!("iofs-ledger: error: {e}");
            }
            ExitCode::from(e.exit_code())
        }
    }
}

/// Whether standard output was closed when the program started (`>&-`). The Rust runtime
/// reopens a closed standard descriptor on `/dev/null` for reading and writing, so every write
/// would succeed and be lost: on Linux that reopened descriptor is told apart from a shell's
/// `> /dev/null` (opened for writing only) by its access mode. A parent that hands over
/// `/dev/null` opened for reading and writing (Python's `subprocess.DEVNULL`) looks the same, so
/// this is asked only where the output is the product, which such a parent discards anyway.
fn stdout_is_closed() -> bool {
    let Ok(target) = std::fs::read_link("/proc/self/fd/1") else {
        return false;
    };
    if target != Path::new("/dev/null") {
        return false;
    }
    let Ok(info) = std::fs::read_to_string("/proc/self/fdinfo/1") else {
        return false;
    };
    info.lines()
        .find_map(|l| l.strip_prefix("flags:"))
        .and_then(|f| u32::from_str_radix(f.trim(), 8).ok())
        .is_some_and(|flags| flags & 0o3 == 0o2)
}

/// Whether a command's output is the product itself (`export`, `log --json`): lost, the command
/// has failed.
fn output_is_the_product(c: &Command) -> bool {
    matches!(c, Command::Export { .. } | Command::Log { json: true, .. })
}

/// Whether a command's output is for programs (JSON, an export, a head), written as it is.
fn machine_output(c: &Command) -> bool {
    match c {
        Command::Export { .. } | Command::Head { .. } => true,
        Command::State { json, .. }
        | Command::Members { json, .. }
        | Command::Log { json, .. }
        | Command::History { json, .. }
        | Command::Verify { json, .. }
        | Command::Diff { json, .. }
        | Command::Audit { json, .. }
        | Command::Meetings { json, .. }
        | Command::Years { json, .. }
        | Command::Officers { json, .. }
        | Command::Parties { json } => *json,
        Command::Append { json, .. } => *json,
        Command::Template { .. } => true,
        Command::Record { flags, .. } => flags.iter().any(|f| f == "--print" || f == "--json"),
        Command::Init { .. } | Command::Rebuild => false,
    }
}

fn db_path(cli: &Cli) -> PathBuf {
    cli.db
        .clone()
        .or_else(|| {
            std::env::var_os("IOFS_LEDGER_DB")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        })
        .unwrap_or_else(|| PathBuf::from("iofs-ledger.db"))
}

fn note(msg: &str) {
    #[allow(clippy::print_stderr)]
    {
        eprintln!("iofs-ledger: {msg}");
    }
}

/// Loads the built-in history into a ledger.
fn load_builtin(l: &mut Ledger) -> Result<(), CliError> {
    let events = parse_batch(BUILTIN_HISTORY).map_err(|e| {
        CliError::Builtin(
            e.iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join("; "),
        )
    })?;
    l.append(events.into_iter().map(Ok), AppendOptions::default())
        .map_err(|e| CliError::Builtin(e.to_string()))?;
    Ok(())
}

/// Opens the ledger for reading; a missing file means the built-in history (said on stderr).
fn open_for_reading(path: &Path) -> Result<Ledger, CliError> {
    match Ledger::open(path, Access::ReadOnly) {
        Ok(l) => Ok(l),
        Err(StoreError::NotFound(_)) => {
            note(&format!(
                "no ledger at {}: answering from the built-in history (run `iofs-ledger init` to create one)",
                path.display()
            ));
            let mut l = Ledger::in_memory()?;
            load_builtin(&mut l)?;
            Ok(l)
        }
        Err(e) => Err(e.into()),
    }
}

fn day(s: &str, flag: &str) -> Result<Day, CliError> {
    Day::parse(s).map_err(|e| CliError::Usage(format!("{flag}: {e}")))
}

fn known_at(s: &Option<String>) -> Result<Option<String>, CliError> {
    s.as_deref()
        .map(|s| query::parse_known_at(s).map_err(|e| CliError::Usage(format!("--known-at: {e}"))))
        .transpose()
}

fn run(cli: Cli, out: &mut dyn Write) -> Result<(), CliError> {
    let path = db_path(&cli);
    if !(cli.lock_timeout.is_finite() && cli.lock_timeout >= 0.0 && cli.lock_timeout < 1e6) {
        return Err(CliError::Usage(
            "--lock-timeout must be a number of seconds between 0 and 1000000".into(),
        ));
    }
    let lock_timeout = Duration::from_secs_f64(cli.lock_timeout);
    match cli.command {
        Command::Init { empty } => {
            Ledger::create(&path, |l| {
                if empty {
                    Ok(())
                } else {
                    load_builtin(l).map_err(|e| {
                        StoreError::Refused(vec![iofs_ledger::store::Refusal {
                            location: None,
                            seq: None,
                            rule: None,
                            field: None,
                            message: e.to_string(),
                        }])
                    })
                }
            })?;
            let l = Ledger::open(&path, Access::ReadOnly)?;
            let head = l.head()?;
            writeln!(
                out,
                "created {} with {} event{}{}; head {}:{}",
                path.display(),
                head.seq,
                if head.seq == 1 { "" } else { "s" },
                if empty {
                    ""
                } else {
                    " of the built-in history"
                },
                head.seq,
                head.hash
            )
            .and_then(|()| out.flush())
            .map_err(|source| CliError::DoneButUnreported {
                done: format!("created {}", path.display()),
                head: format!("{}:{}", head.seq, head.hash),
                source,
            })?;
        }
        Command::Append {
            file,
            expect_head,
            allow_empty,
            dry_run,
            json,
        } => {
            // The whole input is read (spooled) before the ledger is opened and its write lock
            // taken: a slow or stalled producer never holds other writers up.
            let (name, mut input) = input::read_whole(file.as_deref())?;
            if input.is_empty() && !allow_empty {
                return Err(CliError::EmptyInput(name));
            }
            // A dry run never upgrades nor writes the file (see `store::dry_run`).
            let access = if dry_run {
                Access::Inspect
            } else {
                Access::ReadWrite
            };
            let mut l = Ledger::open(&path, access)?;
            l.set_busy_timeout(lock_timeout)?;
            input::check_shapes(&mut input, &name)?;
            let appended = match input::append(&mut l, input, &name, expect_head, dry_run)? {
                input::Outcome::Appended(a) => a,
                input::Outcome::DryRun(e) => return record::dry_run(out, &e, json),
            };
            let report = if appended.count() == 0 {
                writeln!(
                    out,
                    "appended nothing (empty input); head {}",
                    appended.last
                )
            } else {
                writeln!(
                    out,
                    "appended seq {}..{} ({} event{}) recorded_at {}; head {}:{}",
                    appended.first,
                    appended.last,
                    appended.count(),
                    if appended.count() == 1 { "" } else { "s" },
                    appended.recorded_at,
                    appended.last,
                    appended.head_hash
                )
            };
            // The events are committed: a report that cannot be written is exit 3, never 1
            // (which means nothing was appended), and the new head goes to stderr.
            report
                .and_then(|()| out.flush())
                .map_err(|source| CliError::DoneButUnreported {
                    done: if appended.count() == 0 {
                        "appended nothing".to_string()
                    } else {
                        format!("appended seq {}..{}", appended.first, appended.last)
                    },
                    head: format!("{}:{}", appended.last, appended.head_hash),
                    source,
                })?;
        }
        Command::State {
            as_of,
            known_at: k,
            json,
        } => {
            let d = day(&as_of, "--as-of")?;
            let k = known_at(&k)?;
            let l = open_for_reading(&path)?;
            let s = query::state(&l, d, k.as_deref())?;
            if json {
                render::json(out, &s)?;
            } else {
                render::state(out, &s)?;
            }
        }
        Command::Members {
            as_of,
            known_at: k,
            json,
        } => {
            let d = day(&as_of, "--as-of")?;
            let k = known_at(&k)?;
            let l = open_for_reading(&path)?;
            let mut s = query::members(&l, d, k.as_deref())?;
            // Only what the membership answer depends on.
            s.uncertain
                .retain(|u| matches!(u.kind.as_str(), "statute_signed" | "membership_withdrawn"));
            if json {
                render::json(
                    out,
                    &serde_json::json!({
                        "as_of": s.as_of,
                        "known_at": s.known_at,
                        "count": s.members.count,
                        "parties": s.members.parties,
                        "uncertain": s.uncertain,
                    }),
                )?;
            } else {
                render::members(out, &s)?;
            }
        }
        Command::Log {
            after,
            known_at: k,
            json,
        } => {
            let k = known_at(&k)?;
            let l = open_for_reading(&path)?;
            let max = k.as_deref().map(|t| l.seq_known_at(t)).transpose()?;
            let overrides = l.overrides(max)?;
            l.for_each_event(after, max, |e| {
                let r = if json {
                    render::log_json(out, &e, &overrides)
                } else {
                    render::log_line(out, &e, &overrides)
                };
                r.map_err(|io| StoreError::Io {
                    path: PathBuf::from("<stdout>"),
                    source: io,
                })
            })
            .map_err(|e| match e {
                // `log --json` is a product scripts consume: cut short, it is an error.
                StoreError::Io { source, .. } if json => CliError::Truncated(source),
                StoreError::Io { source, .. } => CliError::Output(source),
                e => e.into(),
            })?;
            if json {
                out.flush().map_err(CliError::Truncated)?;
            }
        }
        Command::History {
            party,
            known_at: k,
            json,
        } => {
            let p = Party::parse(&party).map_err(|e| CliError::Usage(e.to_string()))?;
            let k = known_at(&k)?;
            let l = open_for_reading(&path)?;
            let max = k.as_deref().map(|t| l.seq_known_at(t)).transpose()?;
            let overrides = l.overrides(max)?;
            let max = max.unwrap_or(u64::MAX);
            // One read transaction: the count in the heading and the events that follow agree.
            l.snapshot(|| {
                let count = l.party_event_count(&p, max)?;
                let mut w = render::History::start(out, &p, count, json).map_err(to_stdout)?;
                l.for_each_party_event(&p, max, |e| {
                    w.event(out, &e, &overrides).map_err(to_stdout)
                })?;
                w.finish(out).map_err(to_stdout)
            })
            .map_err(from_stdout)?;
        }
        Command::Verify { since_head, json } => {
            let since = since_head
                .as_deref()
                .map(|s| {
                    let (a, b) = s.split_once(':').ok_or_else(|| {
                        CliError::Usage("--since-head takes SEQ:HASH (as printed by `head`)".into())
                    })?;
                    let seq = a
                        .parse::<u64>()
                        .ok()
                        .filter(|s| *s <= i64::MAX as u64)
                        .ok_or_else(|| {
                            CliError::Usage(format!("--since-head: `{a}` is not a seq"))
                        })?;
                    if b.len() != 64 || !b.bytes().all(|c| c.is_ascii_hexdigit()) {
                        return Err(CliError::Usage(
                            "--since-head: the hash is 64 hex digits".into(),
                        ));
                    }
                    Ok((seq, b.to_ascii_lowercase()))
                })
                .transpose()?;
            // Verification writes nothing; it opens read-write only to re-derive the read
            // models in a transaction it rolls back (a read-only file is checked on a copy),
            // and never upgrades a file of an older schema: it checks what the file holds.
            let opened = Ledger::open(&path, Access::Inspect).or_else(|e| match e {
                StoreError::NotALedger { .. }
                | StoreError::Sqlite { .. }
                | StoreError::CannotOpen { .. } => Ledger::open(&path, Access::ReadOnly),
                e => Err(e),
            });
            let mut l = match opened {
                Ok(l) => l,
                Err(StoreError::NotFound(_)) => {
                    note(&format!(
                        "no ledger at {}: verifying the built-in history",
                        path.display()
                    ));
                    let mut l = Ledger::in_memory()?;
                    load_builtin(&mut l)?;
                    l
                }
                Err(e) => return Err(e.into()),
            };
            let v = audit::verify(&mut l, since.as_ref().map(|(s, h)| (*s, h.as_str())))?;
            if json {
                render::json(out, &v)?;
            } else {
                render::verification(out, &v)?;
            }
            if !v.ok {
                out.flush()?;
                #[allow(clippy::print_stderr)]
                {
                    eprintln!(
                        "iofs-ledger: verification failed{}",
                        v.first_bad_seq
                            .map(|s| format!(" at seq {s}"))
                            .unwrap_or_default()
                    );
                }
                return Err(CliError::VerifyFailed);
            }
        }
        Command::Head { known_at: k, json } => {
            let k = known_at(&k)?;
            let l = open_for_reading(&path)?;
            let h = match k.as_deref() {
                None => l.head()?,
                Some(t) => {
                    let seq = l.seq_known_at(t)?;
                    match l.event(seq)? {
                        Some(e) => iofs_ledger::store::Head {
                            seq,
                            hash: e.hash,
                            recorded_at: Some(e.recorded_at),
                        },
                        None => iofs_ledger::store::Head {
                            seq: 0,
                            hash: iofs_ledger::chain::GENESIS.into(),
                            recorded_at: None,
                        },
                    }
                }
            };
            if json {
                render::json(
                    out,
                    &serde_json::json!({"seq": h.seq, "hash": h.hash, "recorded_at": h.recorded_at}),
                )?;
            } else {
                writeln!(out, "{}:{}", h.seq, h.hash)?;
            }
        }
        Command::Rebuild => {
            let mut l = Ledger::open(&path, Access::ReadWrite)?;
            l.set_busy_timeout(lock_timeout)?;
            let n = l.rebuild()?;
            writeln!(out, "rebuilt the read models from {n} events")?;
        }
        Command::Export { known_at: k } => {
            let k = known_at(&k)?;
            let l = open_for_reading(&path)?;
            let max = k.as_deref().map(|t| l.seq_known_at(t)).transpose()?;
            l.for_each_event(0, max, |mut e| {
                // Each retraction and correction names its target by seq and by the SHA-256 of
                // its canonical JSON, so appended anywhere but to an empty ledger it is refused
                // instead of acting on whatever that ledger holds at the same seq.
                if let Kind::Retraction {
                    retracts: t,
                    target_sha256,
                    ..
                }
                | Kind::Correction {
                    corrects: t,
                    target_sha256,
                    ..
                } = &mut e.event.kind
                {
                    if target_sha256.is_none() {
                        if let Some(target) = l.event(*t)? {
                            *target_sha256 = Some(iofs_ledger::chain::body_sha256(
                                &target.event.canonical_json(),
                            ));
                        }
                    }
                }
                writeln!(out, "{}", e.event.canonical_json()).map_err(|io| StoreError::Io {
                    path: PathBuf::from("<stdout>"),
                    source: io,
                })
            })
            .map_err(|e| match e {
                // The export is the product: an export cut short is an error, not a success.
                StoreError::Io { source, .. } => CliError::Truncated(source),
                e => e.into(),
            })?;
            out.flush().map_err(CliError::Truncated)?;
        }
        Command::Diff {
            from,
            to,
            known_at: k,
            json,
        } => {
            let (a, b) = (day(&from, "--from")?, day(&to, "--to")?);
            let k = known_at(&k)?;
            let l = open_for_reading(&path)?;
            let d = audit::diff(&l, a, b, k.as_deref())?;
            if json {
                render::json(out, &d)?;
            } else {
                render::diff(out, &d)?;
            }
        }
        Command::Audit { known_at: k, json } => {
            let k = known_at(&k)?;
            let l = open_for_reading(&path)?;
            let r = audit::report(&l, k.as_deref())?;
            if json {
                render::json(out, &r)?;
            } else {
                render::audit(out, &r)?;
            }
        }
        Command::Meetings {
            known_at: k,
            from,
            to,
            json,
        } => {
            let k = known_at(&k)?;
            let a = from
                .as_deref()
                .map(|s| day(s, "--from"))
                .transpose()?
                .unwrap_or(Day(1));
            let b = to
                .as_deref()
                .map(|s| day(s, "--to"))
                .transpose()?
                .unwrap_or(Day(i32::MAX / 2));
            let l = open_for_reading(&path)?;
            let max = k.as_deref().map(|t| l.seq_known_at(t)).transpose()?;
            let mut w = render::Meetings::start(out, json)?;
            l.for_each_event_between(max, a, b, &["meeting_held"], |e| {
                w.event(out, &e).map_err(to_stdout)
            })
            .map_err(from_stdout)?;
            w.finish(out)?;
        }
        Command::Years {
            from,
            to,
            known_at: k,
            json,
        } => {
            if !(1..=9999).contains(&from)
                || !(1..=9999).contains(&to)
                || from > to
                || to - from > 1000
            {
                return Err(CliError::Usage(
                    "--from and --to are years 0001-9999, from <= to, at most 1000 apart".into(),
                ));
            }
            let k = known_at(&k)?;
            let l = open_for_reading(&path)?;
            let years = query::year_ends(&l, from, to, k.as_deref())?;
            if json {
                render::json(out, &years)?;
            } else {
                render::years(out, &years)?;
            }
        }
        Command::Officers { known_at: k, json } => {
            let l = open_for_reading(&path)?;
            let k = known_at(&k)?;
            let t = query::officers(
                &l,
                iofs_ledger::event::Office::DirectorGeneral,
                k.as_deref(),
            )?;
            if json {
                render::json(out, &t)?;
            } else {
                render::officers(out, &t)?;
            }
        }
        Command::Parties { json } => render::parties(out, json)?,
        Command::Record { ty, flags } => record::record(path, lock_timeout, ty, flags, out)?,
        Command::Template { ty, line } => record::template(ty, line, out)?,
    }
    Ok(())
}

/// An error writing the answer, carried through a store callback (see [`from_stdout`]).
fn to_stdout(source: std::io::Error) -> StoreError {
    StoreError::Io {
        path: PathBuf::from("<stdout>"),
        source,
    }
}

/// Turns an error carried by [`to_stdout`] back into an output error.
fn from_stdout(e: StoreError) -> CliError {
    match e {
        StoreError::Io { path, source } if path.as_os_str() == "<stdout>" => {
            CliError::Output(source)
        }
        e => e.into(),
    }
}
