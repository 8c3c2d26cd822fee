//! The command-line layer: the only place that reads arguments and prints.

mod args;
mod examples;
mod fit;
mod input;
mod opts;
mod progress;
mod record;
mod render;
mod replica;
mod report;
mod serve;
mod table;

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{CommandFactory, Parser};

use iofs_ledger::answer::{self, AnswerError, Question};
use iofs_ledger::date::Day;
use iofs_ledger::event::Kind;
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
    /// The output is the product (`export`, `log --json`/`--csv`) and was cut short: what was
    /// written is incomplete (exit 1, even for a broken pipe).
    #[error("the output was cut short ({0}): what was written is incomplete, do not use it")]
    Truncated(io::Error),
    /// Standard output is closed: the output would be lost (exit 1, before anything is done).
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
    /// Nothing usable at the path (exit 1).
    #[error("{0}")]
    Failed(String),
    /// An event from `record` was refused (exit 1); the message names the flags at fault.
    #[error("{0}")]
    Refused(String),
    /// The service could not start or stopped on an error (exit 1).
    #[error(transparent)]
    Serve(#[from] iofs_ledger::serve::ServeError),
    /// The built-in history does not load (a build defect).
    #[error("the built-in history does not load: {0}")]
    Builtin(String),
    /// The report could not be written (exit 1); nothing was put in place.
    #[error(transparent)]
    Report(#[from] iofs_ledger::report::ReportError),
}

impl From<AnswerError> for CliError {
    fn from(e: AnswerError) -> CliError {
        match e {
            AnswerError::BadQuestion(m) => CliError::Usage(m),
            AnswerError::Store(e) => CliError::Store(e),
            AnswerError::Output(e) => CliError::Output(e),
        }
    }
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
/// The exit code after printing help, a version or a usage error: `code`, unless the text
/// could not be written (a full disk, a closed file; a closed pipe is the reader's choice),
/// which is exit 1 with the reason on stderr.
fn printed(r: io::Result<()>, code: u8) -> ExitCode {
    match r {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
            #[allow(clippy::print_stderr)]
            {
                eprintln!("iofs-ledger: error: cannot write output: {e}");
            }
            ExitCode::from(1)
        }
        _ => ExitCode::from(code),
    }
}

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
            return printed(write!(out, "{text}").and_then(|()| out.flush()), 0);
        }
        Err(e) => return printed(e.print(), if e.use_stderr() { 2 } else { 0 }),
    };
    if output_is_the_product(&cli.command) && stdout_is_closed() {
        #[allow(clippy::print_stderr)]
        {
            eprintln!("iofs-ledger: error: {}", CliError::StdoutClosed);
        }
        return ExitCode::from(1);
    }
    let stdout = io::stdout();
    let buffered = io::BufWriter::new(stdout.lock());
    // Text answers are wrapped to fit a terminal; pipes and files get whole lines.
    let out: Box<dyn Write> = match fit::init_width(cli.command.prints_text()) {
        Some(width) => Box::new(fit::Fit::new(buffered, width)),
        None => Box::new(buffered),
    };
    // Text for people shows control characters escaped; JSON, CSV and exports keep them as data.
    let mut out: Box<dyn Write> = if cli.command.prints_text() {
        Box::new(render::Escaping::new(out))
    } else {
        out
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

/// Whether a command's output is the product itself (`export`, `log` as JSON or CSV): lost,
/// the command has failed.
fn output_is_the_product(c: &Command) -> bool {
    match c {
        Command::Export { .. } => true,
        Command::Log { format, .. } => format.get() != OutputFormat::Text,
        _ => false,
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

/// Loads the built-in history into a ledger, each batch at its recorded instant (so the chain
/// and head are the same everywhere).
fn load_builtin(l: &mut Ledger) -> Result<(), CliError> {
    let batches =
        iofs_ledger::history::builtin_batches().map_err(|e| CliError::Builtin(e.to_string()))?;
    for b in batches {
        l.append(
            b.events.into_iter().map(Ok),
            AppendOptions {
                expect_head: None,
                now: Some(b.recorded_at),
            },
        )
        .map_err(|e| CliError::Builtin(e.to_string()))?;
    }
    Ok(())
}

/// Opens the ledger for reading; a missing file means the built-in history (said on stderr).
fn open_for_reading(path: &Path, lock_timeout: Duration) -> Result<Ledger, CliError> {
    match Ledger::open(path, Access::ReadOnly) {
        Ok(mut l) => {
            // Projections a bulk append deferred are brought up to date before any answer
            // (waiting up to `--lock-timeout` for a writer).
            l.set_busy_timeout(lock_timeout)?;
            l.catch_up()?;
            Ok(l)
        }
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
    Ok(answer::known_at(s.as_deref())?)
}

/// Writes the JSON answer to `q`: the one function the service's API answers with too.
fn answer_json(l: &Ledger, q: &Question, out: &mut dyn Write) -> Result<(), CliError> {
    Ok(answer::write(l, q, out)?)
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

/// [`output_error`] where the output is the product (`export`, `log --json`): cut short, even
/// by a broken pipe, it is an error.
fn product_error(e: StoreError) -> CliError {
    match e {
        StoreError::Io { source, .. } => CliError::Truncated(source),
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
    // Readers wait this long too, when a bulk append left read models for them to bring up to
    // date (that takes the write lock).
    let read_timeout = lock_timeout(top_lock, &Lock { lock_timeout: None })?;
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
            let report = if format.json() {
                render::json(out, &Receipt::of_log(&head, head.seq))
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
                )
            };
            // The ledger exists: a report that cannot be written is exit 3, never 1.
            report
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
            format,
            lock,
        } => {
            let timeout = lock_timeout(top_lock, &lock)?;
            let reading_stdin = file.as_deref().is_none_or(|p| p == Path::new("-"));
            if reading_stdin && !quiet && io::stdin().is_terminal() {
                note("reading events from standard input (JSON Lines or a JSON array); end with Ctrl-D on a line of its own (Ctrl-Z then Enter on Windows), or Ctrl-C to append nothing");
            }
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
            l.set_busy_timeout(timeout)?;
            input::check_shapes(&mut input, &name)?;
            let progress = Progress::bytes(quiet, input.len(), "appending");
            let outcome = input::append(&mut l, input, &name, expect_head, dry_run, |r| {
                progress.wrap(r)
            });
            progress.finish();
            let appended = match outcome? {
                input::Outcome::Appended(a) => a,
                input::Outcome::DryRun(e) => return record::dry_run(out, &e, format.json()),
            };
            let report = if format.json() {
                render::json(out, &Receipt::of_append(&appended))
            } else if appended.count() == 0 {
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
            format,
        } => {
            let d = as_of.unwrap_or_else(opts::today);
            let k = known_at(&k)?;
            let l = open_for_reading(&path, read_timeout)?;
            if format.json() {
                let q = Question::State {
                    as_of: d,
                    known_at: k,
                };
                answer_json(&l, &q, out)?;
            } else {
                render::state(out, &query::state(&l, d, k.as_deref())?)?;
            }
        }
        Command::Members {
            as_of,
            known_at: k,
            format,
        } => {
            let d = as_of.unwrap_or_else(opts::today);
            let k = known_at(&k)?;
            let l = open_for_reading(&path, read_timeout)?;
            if format.get() == OutputFormat::Json {
                let q = Question::Members {
                    as_of: d,
                    known_at: k,
                };
                return answer_json(&l, &q, out);
            }
            let mut s = query::members(&l, d, k.as_deref())?;
            // Only what the membership answer depends on.
            s.uncertain
                .retain(|u| matches!(u.kind.as_str(), "statute_signed" | "membership_withdrawn"));
            match format.get() {
                OutputFormat::Csv => render::members_csv(out, &s)?,
                _ => render::members(out, &s)?,
            }
        }
        Command::Log {
            after,
            known_at: k,
            format,
        } => {
            let k = known_at(&k)?;
            let l = open_for_reading(&path, read_timeout)?;
            if format.get() == OutputFormat::Json {
                // A product: cut short, it is reported as truncated.
                let q = Question::Log { after, known_at: k };
                return match answer::write(&l, &q, out) {
                    Err(AnswerError::Output(e)) => Err(CliError::Truncated(e)),
                    r => r.map_err(CliError::from),
                }
                .and_then(|()| out.flush().map_err(CliError::Truncated));
            }
            let max = k.as_deref().map(|t| l.seq_known_at(t)).transpose()?;
            let overrides = l.overrides(max)?;
            match format.get() {
                OutputFormat::Csv => {
                    let mut csv = render::LogCsv::new(&mut *out);
                    csv.header().map_err(CliError::Truncated)?;
                    l.for_each_event(after, max, |e| csv.row(&e, &overrides).map_err(to_store))
                        .map_err(product_error)?;
                    csv.finish().map_err(CliError::Truncated)?;
                    out.flush().map_err(CliError::Truncated)?;
                }
                _ => {
                    let table = render::log_table();
                    l.for_each_event(after, max, |e| {
                        render::log_line(out, &table, &e, &overrides).map_err(to_store)
                    })
                    .map_err(output_error)?
                }
            }
        }
        Command::History {
            party,
            known_at: k,
            format,
        } => {
            let p = opts::party_arg(&party)?;
            let k = known_at(&k)?;
            let l = open_for_reading(&path, read_timeout)?;
            if format.get() == OutputFormat::Json {
                let q = Question::History {
                    party: p,
                    known_at: k,
                };
                return answer_json(&l, &q, out);
            }
            let max = k.as_deref().map(|t| l.seq_known_at(t)).transpose()?;
            let overrides = l.overrides(max)?;
            let max = max.unwrap_or(u64::MAX);
            if format.get() == OutputFormat::Csv {
                let mut w = render::HistoryCsv::start(out, &p)?;
                l.for_each_party_event(&p, max, |e| w.event(&e, &overrides).map_err(to_stdout))
                    .map_err(from_stdout)?;
                w.finish()?;
                return Ok(());
            }
            // One read transaction: the count in the heading and the events that follow agree.
            l.snapshot(|| {
                let count = l.party_event_count(&p, max)?;
                let mut w = render::History::start(out, &p, count).map_err(to_stdout)?;
                l.for_each_party_event(&p, max, |e| w.event(out, &e, &overrides).map_err(to_stdout))
            })
            .map_err(from_stdout)?;
        }
        Command::Verify {
            since_head,
            format,
            builtin,
        } => {
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
            // Verification writes nothing and reads one snapshot: it opens the file read-only
            // (never upgrading an older schema: it checks what the file holds) and derives the
            // read models it compares outside it.
            let mut l = if builtin {
                let mut l = Ledger::in_memory()?;
                load_builtin(&mut l)?;
                l
            } else {
                match Ledger::open(&path, Access::ReadOnly) {
                    Ok(l) => l,
                    Err(StoreError::NotFound(_)) => {
                        return Err(CliError::Failed(format!(
                            "no ledger at {}: there is nothing to verify there (check the path; `iofs-ledger verify --builtin` verifies the built-in history)",
                            path.display()
                        )))
                    }
                    Err(e) => return Err(e.into()),
                }
            };
            let now = replica::clock()?.unwrap_or_else(chrono::Utc::now);
            let progress = Progress::spinner(quiet, "verifying");
            let v = audit::verify_at(&mut l, since.as_ref().map(|(s, h)| (*s, h.as_str())), now);
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
            let l = open_for_reading(&path, read_timeout)?;
            if format.json() {
                answer_json(&l, &Question::Head { known_at: k }, out)?;
            } else {
                let h = answer::head(&l, k.as_deref())?;
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
            let head = l.head()?;
            // The read models are rebuilt: a report that cannot be written is exit 3, never 1.
            let report = if format.json() {
                let mut r = Receipt::of_log(&head, n);
                // A rebuild records nothing.
                r.recorded_at = None;
                render::json(out, &r)
            } else {
                writeln!(out, "rebuilt the read models from {n} events")
            };
            report
                .and_then(|()| out.flush())
                .map_err(|source| CliError::DoneButUnreported {
                    done: format!("rebuilt the read models from {n} events"),
                    head: format!("{}:{}", head.seq, head.hash),
                    source,
                })?;
        }
        Command::Export { known_at: k } => {
            let k = known_at(&k)?;
            let l = open_for_reading(&path, read_timeout)?;
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
                writeln!(out, "{}", e.event.canonical_json()).map_err(to_store)
            })
            .map_err(product_error)?;
            // The export is the product: an export cut short is an error, not a success.
            out.flush().map_err(CliError::Truncated)?;
        }
        Command::Diff {
            from,
            to,
            known_at: k,
            format,
        } => {
            check_range(Some(from), Some(to))?;
            let k = known_at(&k)?;
            let l = open_for_reading(&path, read_timeout)?;
            if format.get() == OutputFormat::Json {
                let q = Question::Diff {
                    from,
                    to,
                    known_at: k,
                };
                return answer_json(&l, &q, out);
            }
            let d = audit::diff(&l, from, to, k.as_deref())?;
            match format.get() {
                OutputFormat::Csv => render::diff_csv(out, &d)?,
                _ => render::diff(out, &d)?,
            }
        }
        Command::Audit {
            known_at: k,
            summary,
            format,
        } => {
            let k = known_at(&k)?;
            let l = open_for_reading(&path, read_timeout)?;
            if format.json() && !summary {
                return answer_json(&l, &Question::Audit { known_at: k }, out);
            }
            let progress = Progress::spinner(quiet, "auditing");
            let r = audit::report(&l, k.as_deref());
            progress.finish();
            let r = r?;
            match (summary, format.json()) {
                (true, true) => render::json(out, &r.summary())?,
                (true, false) => render::audit_summary(out, &r.summary())?,
                (false, _) => render::audit(out, &r)?,
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
            let l = open_for_reading(&path, read_timeout)?;
            if format.get() == OutputFormat::Json {
                let q = Question::Meetings {
                    from: a,
                    to: b,
                    known_at: k,
                };
                return answer_json(&l, &q, out);
            }
            let max = k.as_deref().map(|t| l.seq_known_at(t)).transpose()?;
            if format.get() == OutputFormat::Csv {
                let mut w = render::MeetingsCsv::start(out)?;
                l.for_each_event_between(max, a, b, &["meeting_held"], |e| {
                    w.event(&e).map_err(to_stdout)
                })
                .map_err(from_stdout)?;
                w.finish()?;
                return Ok(());
            }
            let table = render::meetings_table();
            l.for_each_event_between(max, a, b, &["meeting_held"], |e| {
                render::meeting(out, &table, &e).map_err(to_stdout)
            })
            .map_err(from_stdout)?;
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
            let l = open_for_reading(&path, read_timeout)?;
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
            let l = open_for_reading(&path, read_timeout)?;
            let k = known_at(&k)?;
            if format.get() == OutputFormat::Json {
                return answer_json(&l, &Question::Officers { known_at: k }, out);
            }
            let t = query::officers(
                &l,
                iofs_ledger::event::Office::DirectorGeneral,
                k.as_deref(),
            )?;
            match format.get() {
                OutputFormat::Csv => render::officers_csv(out, &t)?,
                _ => render::officers(out, &t)?,
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
            let l = open_for_reading(&path, read_timeout)?;
            if format.get() == OutputFormat::Json {
                let every = every.parse().map_err(CliError::from)?;
                let q = Question::Timeline {
                    from,
                    to,
                    every,
                    known_at: k,
                };
                return answer_json(&l, &q, out);
            }
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
            let l = open_for_reading(&path, read_timeout)?;
            report::report(out, &l, &dir, d, k.as_deref(), force)?;
        }
        Command::Completions { shell } => {
            // Written to memory first: clap_complete panics when its writer fails.
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "iofs-ledger", &mut script);
            out.write_all(&script)?;
            out.flush()?;
        }
        Command::Man => {
            clap_mangen::Man::new(Cli::command()).render(out)?;
        }
        Command::Record { ty, flags } => {
            let timeout = lock_timeout(top_lock, &Lock { lock_timeout: None })?;
            record::record(path, timeout, ty, flags, out)?
        }
        Command::Import {
            file,
            json,
            allow_empty,
            lock,
        } => {
            let timeout = lock_timeout(top_lock, &lock)?;
            replica::import(&path, file.as_deref(), json, allow_empty, timeout, out)?
        }
        Command::Backup { path: dest } => replica::backup(&path, &dest, out)?,
        Command::Template { ty, line } => record::template(ty, line, out)?,
        Command::Serve {
            bind,
            write_token_file,
        } => {
            let timeout = lock_timeout(top_lock, &Lock { lock_timeout: None })?;
            serve::serve(path, timeout, &bind, write_token_file.as_deref(), out)?
        }
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
