//! The command-line layer: the only place that reads arguments and prints.

mod args;
mod examples;
mod fit;
mod opts;
mod progress;
mod record;
mod render;
mod report;

use std::io::{self, BufRead, BufReader, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{CommandFactory, Parser};

use iofs_ledger::date::Day;
use iofs_ledger::event::lines::with_parsed_lines;
use iofs_ledger::event::{parse_batch, Prepared};
use iofs_ledger::history::BUILTIN_HISTORY;
use iofs_ledger::store::{Access, AppendOptions, Ledger, StoreError};
use iofs_ledger::{audit, query};

use args::{Cli, Command, Lock};
use opts::{check_range, OutputFormat};
use progress::Progress;
use render::Receipt;

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
    /// An event from `record` was refused (exit 1); the message names the flags at fault.
    #[error("{0}")]
    Refused(String),
    /// The built-in history does not load (a build defect).
    #[error("the built-in history does not load: {0}")]
    Builtin(String),
    /// The report could not be written (exit 1); nothing was put in place.
    #[error(transparent)]
    Report(#[from] iofs_ledger::report::ReportError),
}

impl CliError {
    fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => 2,
            _ => 1,
        }
    }
}

/// Runs the command line and returns the exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) if e.kind() == clap::error::ErrorKind::DisplayVersion => {
            // `--version` names the SQLite library and the built-in history's head too;
            // `-V` stays the one short line.
            let long = std::env::args_os().any(|a| a == "--version");
            let text = if long {
                long_version()
            } else {
                e.render().to_string()
            };
            let mut out = io::stdout().lock();
            let _ = write!(out, "{text}").and_then(|()| out.flush());
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let stdout = io::stdout();
    let buffered = io::BufWriter::new(stdout.lock());
    // Text answers are wrapped to fit a terminal; pipes and files get whole lines.
    let mut out: Box<dyn Write> = match fit::terminal_width().filter(|_| cli.command.prints_text())
    {
        Some(width) => Box::new(fit::Fit::new(buffered, width)),
        None => Box::new(buffered),
    };
    let result = run(cli, &mut out).and_then(|()| out.flush().map_err(CliError::Output));
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

/// What `--version` prints: the version, the SQLite library compiled in, and the head of the
/// built-in history (what `init` creates).
pub fn long_version() -> String {
    let head = Ledger::in_memory()
        .map_err(CliError::from)
        .and_then(|mut l| {
            load_builtin(&mut l)?;
            Ok(l.head()?)
        })
        .map(|h| format!("{}:{}", h.seq, h.hash))
        .unwrap_or_else(|e| format!("unavailable ({e})"));
    format!(
        "iofs-ledger {}\nSQLite {}\nbuilt-in history head {}\n",
        env!("CARGO_PKG_VERSION"),
        iofs_ledger::store::sqlite_version(),
        head
    )
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

/// Set by `--quiet`: notes on stderr are left out (errors never are).
static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn note(msg: &str) {
    if QUIET.load(std::sync::atomic::Ordering::Relaxed) {
        return;
    }
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

fn known_at(s: &Option<String>) -> Result<Option<String>, CliError> {
    s.as_deref()
        .map(|s| query::parse_known_at(s).map_err(|e| CliError::Usage(format!("--known-at: {e}"))))
        .transpose()
}

/// The lock timeout: the command's own `--lock-timeout`, else the one before the command.
fn lock_timeout(top: Option<f64>, lock: &Lock) -> Result<Duration, CliError> {
    let secs = lock.lock_timeout.or(top).unwrap_or(30.0);
    if !(secs.is_finite() && (0.0..1e6).contains(&secs)) {
        return Err(CliError::Usage(
            "--lock-timeout must be a number of seconds between 0 and 1000000".into(),
        ));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Maps a store error raised by an output callback back to the output error it carries.
fn output_error(e: StoreError) -> CliError {
    match e {
        StoreError::Io { source, .. } => CliError::Output(source),
        e => e.into(),
    }
}

fn to_store(io: io::Error) -> StoreError {
    StoreError::Io {
        path: PathBuf::from("<stdout>"),
        source: io,
    }
}

fn run(cli: Cli, out: &mut dyn Write) -> Result<(), CliError> {
    let path = db_path(&cli);
    let quiet = cli.quiet;
    QUIET.store(quiet, std::sync::atomic::Ordering::Relaxed);
    let top_lock = cli.lock_timeout;
    lock_timeout(top_lock, &Lock { lock_timeout: None })?;
    match cli.command {
        Command::Init { empty, format } => {
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
            if format.json() {
                render::json(out, &Receipt::of_log(&head, head.seq))?;
            } else {
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
                )?;
            }
        }
        Command::Append {
            file,
            expect_head,
            dry_run,
            format,
            lock,
        } => {
            let timeout = lock_timeout(top_lock, &lock)?;
            // A dry run never upgrades nor writes the file (see `store::dry_run`).
            let access = if dry_run {
                Access::Inspect
            } else {
                Access::ReadWrite
            };
            let mut l = Ledger::open(&path, access)?;
            l.set_busy_timeout(timeout)?;
            let stdin = |quiet: bool| -> (String, Box<dyn Read + Send>, Option<u64>) {
                if !quiet && io::stdin().is_terminal() {
                    note("reading events from standard input (JSON Lines or a JSON array); end with Ctrl-D on a line of its own (Ctrl-Z then Enter on Windows), or Ctrl-C to append nothing");
                }
                ("standard input".into(), Box::new(io::stdin()), None)
            };
            let (name, reader, len): (String, Box<dyn Read + Send>, Option<u64>) =
                match file.as_deref() {
                    None => stdin(quiet),
                    Some(p) if p == Path::new("-") => stdin(quiet),
                    Some(p) => {
                        let f = std::fs::File::open(p)
                            .map_err(|e| CliError::Input(p.display().to_string(), e))?;
                        let len = f.metadata().ok().map(|m| m.len());
                        (p.display().to_string(), Box::new(f), len)
                    }
                };
            let progress = Progress::bytes(quiet, len, "appending");
            let reader = progress.wrap(reader);
            let outcome = append_from(&mut l, reader, &name, expect_head, dry_run);
            progress.finish();
            let appended = match outcome? {
                Outcome::Appended(a) => a,
                Outcome::DryRun(e) => return record::dry_run(out, &e, format.json()),
            };
            if format.json() {
                render::json(out, &Receipt::of_append(&appended))?;
            } else if appended.count() == 0 {
                writeln!(
                    out,
                    "appended nothing (empty input); head {}",
                    appended.last
                )?;
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
                )?;
            }
        }
        Command::State {
            as_of,
            known_at: k,
            format,
        } => {
            let d = as_of.unwrap_or_else(opts::today);
            let k = known_at(&k)?;
            let l = open_for_reading(&path)?;
            let s = query::state(&l, d, k.as_deref())?;
            if format.json() {
                render::json(out, &s)?;
            } else {
                render::state(out, &s)?;
            }
        }
        Command::Members {
            as_of,
            known_at: k,
            format,
        } => {
            let d = as_of.unwrap_or_else(opts::today);
            let k = known_at(&k)?;
            let l = open_for_reading(&path)?;
            let mut s = query::members(&l, d, k.as_deref())?;
            // Only what the membership answer depends on.
            s.uncertain
                .retain(|u| matches!(u.kind.as_str(), "statute_signed" | "membership_withdrawn"));
            match format.get() {
                OutputFormat::Json => render::json(
                    out,
                    &serde_json::json!({
                        "as_of": s.as_of,
                        "known_at": s.known_at,
                        "count": s.members.count,
                        "parties": s.members.parties,
                        "uncertain": s.uncertain,
                    }),
                )?,
                OutputFormat::Csv => render::members_csv(out, &s)?,
                OutputFormat::Text => render::members(out, &s)?,
            }
        }
        Command::Log {
            after,
            known_at: k,
            format,
        } => {
            let k = known_at(&k)?;
            let l = open_for_reading(&path)?;
            let max = k.as_deref().map(|t| l.seq_known_at(t)).transpose()?;
            let overrides = l.overrides(max)?;
            match format.get() {
                OutputFormat::Csv => {
                    let mut csv = render::LogCsv::new(&mut *out);
                    csv.header()?;
                    l.for_each_event(after, max, |e| csv.row(&e, &overrides).map_err(to_store))
                        .map_err(output_error)?;
                    csv.finish()?;
                }
                fmt => l
                    .for_each_event(after, max, |e| {
                        if fmt == OutputFormat::Json {
                            render::log_json(out, &e, &overrides)
                        } else {
                            render::log_line(out, &e, &overrides)
                        }
                        .map_err(to_store)
                    })
                    .map_err(output_error)?,
            }
        }
        Command::History {
            party,
            known_at: k,
            format,
        } => {
            let p = opts::party_arg(&party)?;
            let k = known_at(&k)?;
            let l = open_for_reading(&path)?;
            let max = k.as_deref().map(|t| l.seq_known_at(t)).transpose()?;
            let overrides = l.overrides(max)?;
            if format.get() == OutputFormat::Csv {
                let events: Vec<_> = l
                    .party_events(&p)?
                    .into_iter()
                    .filter(|e| max.is_none_or(|m| e.seq <= m))
                    .collect();
                render::history_csv(out, &p, &events, &overrides)?;
                return Ok(());
            }
            let max = max.unwrap_or(u64::MAX);
            // One read transaction: the count in the heading and the events that follow agree.
            l.snapshot(|| {
                let count = l.party_event_count(&p, max)?;
                let mut w =
                    render::History::start(out, &p, count, format.get() == OutputFormat::Json)
                        .map_err(to_stdout)?;
                l.for_each_party_event(&p, max, |e| {
                    w.event(out, &e, &overrides).map_err(to_stdout)
                })?;
                w.finish(out).map_err(to_stdout)
            })
            .map_err(from_stdout)?;
        }
        Command::Verify { since_head, format } => {
            let since = since_head
                .as_deref()
                .map(|s| {
                    let (a, b) = s.split_once(':').ok_or_else(|| {
                        CliError::Usage("--since-head takes SEQ:HASH (as printed by `head`)".into())
                    })?;
                    let seq = a.parse::<u64>().map_err(|_| {
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
                StoreError::NotALedger { .. } | StoreError::Sqlite { .. } => {
                    Ledger::open(&path, Access::ReadOnly)
                }
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
            let progress = Progress::spinner(quiet, "verifying");
            let v = audit::verify(&mut l, since.as_ref().map(|(s, h)| (*s, h.as_str())));
            progress.finish();
            let v = v?;
            if format.json() {
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
        Command::Head {
            known_at: k,
            format,
        } => {
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
            if format.json() {
                render::json(
                    out,
                    &serde_json::json!({"seq": h.seq, "hash": h.hash, "recorded_at": h.recorded_at}),
                )?;
            } else {
                writeln!(out, "{}:{}", h.seq, h.hash)?;
            }
        }
        Command::Rebuild { format, lock } => {
            let timeout = lock_timeout(top_lock, &lock)?;
            let mut l = Ledger::open(&path, Access::ReadWrite)?;
            l.set_busy_timeout(timeout)?;
            let progress = Progress::spinner(quiet, "rebuilding the read models");
            let n = l.rebuild();
            progress.finish();
            let n = n?;
            if format.json() {
                let head = l.head()?;
                let mut r = Receipt::of_log(&head, n);
                // A rebuild records nothing.
                r.recorded_at = None;
                render::json(out, &r)?;
            } else {
                writeln!(out, "rebuilt the read models from {n} events")?;
            }
        }
        Command::Export { known_at: k } => {
            let k = known_at(&k)?;
            let l = open_for_reading(&path)?;
            let max = k.as_deref().map(|t| l.seq_known_at(t)).transpose()?;
            l.for_each_event(0, max, |e| {
                writeln!(out, "{}", e.event.canonical_json()).map_err(to_store)
            })
            .map_err(output_error)?;
        }
        Command::Diff {
            from,
            to,
            known_at: k,
            format,
        } => {
            check_range(Some(from), Some(to))?;
            let k = known_at(&k)?;
            let l = open_for_reading(&path)?;
            let d = audit::diff(&l, from, to, k.as_deref())?;
            match format.get() {
                OutputFormat::Json => render::json(out, &d)?,
                OutputFormat::Csv => render::diff_csv(out, &d)?,
                OutputFormat::Text => render::diff(out, &d)?,
            }
        }
        Command::Audit {
            known_at: k,
            summary,
            format,
        } => {
            let k = known_at(&k)?;
            let l = open_for_reading(&path)?;
            let progress = Progress::spinner(quiet, "auditing");
            let r = audit::report(&l, k.as_deref());
            progress.finish();
            let r = r?;
            match (summary, format.json()) {
                (true, true) => render::json(out, &r.summary())?,
                (true, false) => render::audit_summary(out, &r.summary())?,
                (false, true) => render::json(out, &r)?,
                (false, false) => render::audit(out, &r)?,
            }
        }
        Command::Meetings {
            known_at: k,
            from,
            to,
            format,
        } => {
            check_range(from, to)?;
            let k = known_at(&k)?;
            let a = from.unwrap_or(Day(1));
            let b = to.unwrap_or(Day(i32::MAX / 2));
            let l = open_for_reading(&path)?;
            let max = k.as_deref().map(|t| l.seq_known_at(t)).transpose()?;
            if format.get() == OutputFormat::Csv {
                let events = l.events_between(max, a, b, &["meeting_held"])?;
                render::meetings_csv(out, &events)?;
                return Ok(());
            }
            let mut w = render::Meetings::start(out, format.get() == OutputFormat::Json)?;
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
            format,
        } => {
            check_range(Some(from), Some(to))?;
            let (from, to) = (from.year(), to.year());
            if to - from > 1000 {
                return Err(CliError::Usage(
                    "--from and --to are at most 1000 years apart".into(),
                ));
            }
            let k = known_at(&k)?;
            let l = open_for_reading(&path)?;
            let years = query::year_ends(&l, from, to, k.as_deref())?;
            match format.get() {
                OutputFormat::Json => render::json(out, &years)?,
                OutputFormat::Csv => render::years_csv(out, &years)?,
                OutputFormat::Text => render::years(out, &years)?,
            }
        }
        Command::Officers {
            known_at: k,
            format,
        } => {
            let l = open_for_reading(&path)?;
            let k = known_at(&k)?;
            let t = query::officers(
                &l,
                iofs_ledger::event::Office::DirectorGeneral,
                k.as_deref(),
            )?;
            match format.get() {
                OutputFormat::Json => render::json(out, &t)?,
                OutputFormat::Csv => render::officers_csv(out, &t)?,
                OutputFormat::Text => render::officers(out, &t)?,
            }
        }
        Command::Parties { format } => render::parties(out, format.get())?,
        Command::Timeline {
            from,
            to,
            every,
            known_at: k,
            format,
        } => {
            check_range(Some(from), Some(to))?;
            let k = known_at(&k)?;
            let l = open_for_reading(&path)?;
            report::timeline(out, &l, from, to, &every, k.as_deref(), format.get())?;
        }
        Command::Report {
            out: dir,
            as_of,
            known_at: k,
            force,
        } => {
            let d = as_of.unwrap_or_else(opts::today);
            let k = known_at(&k)?;
            let l = open_for_reading(&path)?;
            report::report(out, &l, &dir, d, k.as_deref(), force)?;
        }
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "iofs-ledger", out);
        }
        Command::Man => {
            clap_mangen::Man::new(Cli::command()).render(out)?;
        }
        Command::Record { ty, flags } => {
            let timeout = lock_timeout(top_lock, &Lock { lock_timeout: None })?;
            record::record(path, timeout, ty, flags, out)?
        }
        Command::Template { ty, line } => record::template(ty, line, out)?,
    }
    Ok(())
}

/// What `append` did: appended, or (`--dry-run`) found what it would change.
enum Outcome {
    Appended(iofs_ledger::store::Appended),
    DryRun(iofs_ledger::effect::Effect),
}

/// Appends, or with `dry_run` appends and rolls back ([`iofs_ledger::effect::dry_run`]).
fn apply<I>(
    l: &mut Ledger,
    items: I,
    opts: AppendOptions,
    dry_run: bool,
) -> Result<Outcome, StoreError>
where
    I: IntoIterator,
    I::Item: iofs_ledger::event::IntoPrepared,
{
    if dry_run {
        iofs_ledger::effect::dry_run(l, items, opts).map(Outcome::DryRun)
    } else {
        l.append(items, opts).map(Outcome::Appended)
    }
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

/// Streams an input into one append: JSON Lines line by line (memory stays flat), or a JSON
/// array as a whole.
fn append_from(
    l: &mut Ledger,
    reader: Box<dyn Read + Send>,
    name: &str,
    expect_head: Option<u64>,
    dry_run: bool,
) -> Result<Outcome, CliError> {
    let mut reader = BufReader::with_capacity(1 << 16, reader);
    let peek = loop {
        let buf = reader
            .fill_buf()
            .map_err(|e| CliError::Input(name.into(), e))?;
        match buf.iter().position(|b| !b.is_ascii_whitespace()) {
            Some(i) => break Some(buf[i]),
            None if buf.is_empty() => break None,
            None => {
                let n = buf.len();
                reader.consume(n);
            }
        }
    };
    let opts = AppendOptions {
        expect_head,
        now: None,
    };
    if peek == Some(b'[') {
        let mut text = String::new();
        reader
            .read_to_string(&mut text)
            .map_err(|e| match e.kind() {
                io::ErrorKind::InvalidData => {
                    CliError::Store(StoreError::Refused(vec![iofs_ledger::store::Refusal {
                        location: None,
                        seq: None,
                        rule: None,
                        field: None,
                        message: format!("{name} is not valid UTF-8"),
                    }]))
                }
                _ => CliError::Input(name.into(), e),
            })?;
        return match parse_batch(&text) {
            Ok(events) => Ok(apply(l, events.into_iter().map(Ok), opts, dry_run)?),
            Err(errors) => Ok(apply(
                l,
                errors.into_iter().map(Err::<Prepared, _>),
                opts,
                dry_run,
            )?),
        };
    }
    // Lines are parsed on a second thread while this one validates and writes.
    let (result, failed) = with_parsed_lines(reader, |events| apply(l, events, opts, dry_run));
    if let Some(e) = failed {
        return Err(CliError::Input(name.into(), e));
    }
    Ok(result?)
}
