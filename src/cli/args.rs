//! Command-line arguments (clap derive; the doc comments are the help text).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use iofs_ledger::date::Day;

use super::opts::{first_day, last_day, DocFormat, TableFormat};

/// The heading of the options every command takes.
const GLOBAL: &str = "Global options";

/// An event-sourced membership and governance ledger for the Islamic Organisation for Food
/// Security (IOFS).
///
/// Exit codes: 0 success, 1 refused input (nothing appended), failed verification, unusable
/// ledger file or output that could not be written, 2 usage error, 3 appended (or created) but
/// the report could not be written (the new head is on stderr; do not append again).
///
/// IOFS_LEDGER_CLOCK=INSTANT sets the clock of append, import and verify (for tests).
#[derive(Debug, Parser)]
#[command(
    name = "iofs-ledger",
    version,
    max_term_width = 100,
    after_long_help = super::examples::TOP
)]
pub struct Cli {
    /// The ledger file [default: $IOFS_LEDGER_DB, else ./iofs-ledger.db]
    #[arg(long, global = true, value_name = "PATH", help_heading = GLOBAL)]
    pub db: Option<PathBuf>,

    /// How long a writing command waits for another writer's lock, in seconds [default: 30]
    /// (also accepted after `append`, `rebuild` and `init`).
    #[arg(long, value_name = "SECS", help_heading = GLOBAL)]
    pub lock_timeout: Option<f64>,

    /// No progress bars or notes on stderr (errors are still printed).
    #[arg(long, short, global = true, help_heading = GLOBAL)]
    pub quiet: bool,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the ledger and load the built-in history (never overwrites a file).
    #[command(after_long_help = super::examples::INIT)]
    Init {
        /// Create an empty ledger instead.
        #[arg(long)]
        empty: bool,
        /// `--json`: print a receipt (first_seq, last_seq, count, recorded_at, head).
        #[command(flatten)]
        format: DocFormat,
    },
    /// Append events (JSON Lines, or one JSON array) from FILE or standard input; all or none.
    #[command(after_long_help = super::examples::APPEND)]
    Append {
        /// The input file; `-` or nothing for standard input.
        #[arg(value_name = "FILE")]
        file: Option<PathBuf>,
        /// Refuse unless the log's last seq is still SEQ (0 for an empty log).
        #[arg(long, value_name = "SEQ", value_parser = seq_arg)]
        expect_head: Option<u64>,
        /// Accept an input with no events (by default an empty input is refused: a pipeline
        /// that produced nothing is almost always a mistake upstream).
        #[arg(long)]
        allow_empty: bool,
        /// Check the input against the ledger as it is and show the seqs the events would
        /// get and the answers that would change; append nothing (exit 0 if it would be
        /// accepted, 1 if refused).
        #[arg(long)]
        dry_run: bool,
        /// `--json`: print a receipt (first_seq, last_seq, count, recorded_at, head), or with
        /// --dry-run what would change, as JSON.
        #[command(flatten)]
        format: DocFormat,
        #[command(flatten)]
        lock: Lock,
    },
    /// The state as of a day: members, ratifications, observers, Statute, Director General,
    /// Executive Board, and what is uncertain.
    #[command(after_long_help = super::examples::STATE)]
    State {
        /// The day, inclusive: YYYY, YYYY-MM or YYYY-MM-DD (a year or month means its last
        /// day) [default: today, UTC].
        #[arg(long, value_name = "DATE", value_parser = last_day)]
        as_of: Option<Day>,
        /// Answer from the events recorded at or before this instant (RFC 3339, or a day
        /// meaning its end, UTC).
        #[arg(long, value_name = "TIMESTAMP")]
        known_at: Option<String>,
        #[command(flatten)]
        format: DocFormat,
    },
    /// The members as of a day.
    #[command(after_long_help = super::examples::MEMBERS)]
    Members {
        /// The day, inclusive: YYYY, YYYY-MM or YYYY-MM-DD (a year or month means its last
        /// day) [default: today, UTC].
        #[arg(long, value_name = "DATE", value_parser = last_day)]
        as_of: Option<Day>,
        /// Answer as known at this instant.
        #[arg(long, value_name = "TIMESTAMP")]
        known_at: Option<String>,
        #[command(flatten)]
        format: TableFormat,
    },
    #[command(after_long_help = super::examples::LOG)]
    /// Every event with its seq, recorded_at and hash, in seq order.
    Log {
        /// Only events after this seq (to catch up from the last seq seen).
        #[arg(long, value_name = "SEQ", default_value_t = 0, value_parser = seq_arg)]
        after: u64,
        /// Only events recorded at or before this instant.
        #[arg(long, value_name = "TIMESTAMP")]
        known_at: Option<String>,
        /// `--format json` prints one JSON object per line.
        #[command(flatten)]
        format: TableFormat,
    },
    /// A party's whole timeline, with sources.
    #[command(after_long_help = super::examples::HISTORY)]
    History {
        /// The party: a code in any case (KAZ, nga), an English name ("Saudi Arabia",
        /// "Cote d'Ivoire", Turkey) or a placeholder (unidentified:label).
        party: String,
        /// Only events recorded at or before this instant.
        #[arg(long, value_name = "TIMESTAMP")]
        known_at: Option<String>,
        #[command(flatten)]
        format: TableFormat,
    },
    /// Check the whole schema, the hash chain, every rule and the read models (derived outside
    /// the file); reads one snapshot, never blocks writers, and names the head it checked.
    #[command(after_long_help = super::examples::VERIFY)]
    Verify {
        /// Verify the built-in history instead of a ledger file.
        #[arg(long)]
        builtin: bool,
        /// Also prove the log only grew since this head was noted (from `head`).
        #[arg(long, value_name = "SEQ:HASH")]
        since_head: Option<String>,
        #[command(flatten)]
        format: DocFormat,
    },
    /// Print the last seq and its hash.
    #[command(after_long_help = super::examples::HEAD)]
    Head {
        /// The head as it was at this instant.
        #[arg(long, value_name = "TIMESTAMP")]
        known_at: Option<String>,
        #[command(flatten)]
        format: DocFormat,
    },
    /// Rebuild every read model from the log.
    #[command(after_long_help = super::examples::REBUILD)]
    Rebuild {
        /// `--json`: print a receipt (first_seq, last_seq, count, recorded_at, head).
        #[command(flatten)]
        format: DocFormat,
        #[command(flatten)]
        lock: Lock,
    },
    /// Print the log as JSON Lines that `init --empty` plus `append` turn back into a ledger.
    #[command(after_long_help = super::examples::EXPORT)]
    Export {
        /// Only events recorded at or before this instant.
        #[arg(long, value_name = "TIMESTAMP")]
        known_at: Option<String>,
    },
    /// What changed between two days: joins, ratifications, withdrawals, offices, board.
    #[command(after_long_help = super::examples::DIFF)]
    Diff {
        /// The first day: YYYY, YYYY-MM or YYYY-MM-DD (a year or month means its first day).
        #[arg(long, value_name = "DATE", value_parser = first_day)]
        from: Day,
        /// The second day: YYYY, YYYY-MM or YYYY-MM-DD (a year or month means its last day).
        #[arg(long, value_name = "DATE", value_parser = last_day)]
        to: Day,
        /// Answer as known at this instant.
        #[arg(long, value_name = "TIMESTAMP")]
        known_at: Option<String>,
        #[command(flatten)]
        format: TableFormat,
    },
    /// Report what deserves an auditor's eye: claims against replay, contradictions, inferred
    /// and bounded dates, placeholders, corrections and retractions, entry into force.
    #[command(after_long_help = super::examples::AUDIT)]
    Audit {
        /// Report as known at this instant.
        #[arg(long, value_name = "TIMESTAMP")]
        known_at: Option<String>,
        /// Only the counts of each kind of finding (for large ledgers).
        #[arg(long)]
        summary: bool,
        #[command(flatten)]
        format: DocFormat,
    },
    /// Meetings held between two days (inclusive).
    #[command(after_long_help = super::examples::MEETINGS)]
    Meetings {
        /// Only events recorded at or before this instant.
        #[arg(long, value_name = "TIMESTAMP")]
        known_at: Option<String>,
        /// From this day: YYYY, YYYY-MM or YYYY-MM-DD (a year or month means its first day).
        #[arg(long, value_name = "DATE", value_parser = first_day)]
        from: Option<Day>,
        /// Up to this day: YYYY, YYYY-MM or YYYY-MM-DD (a year or month means its last day).
        #[arg(long, value_name = "DATE", value_parser = last_day)]
        to: Option<Day>,
        #[command(flatten)]
        format: TableFormat,
    },
    /// The state at the end of each year: members, ratifications, Statute, Director General,
    /// Executive Board chair.
    #[command(after_long_help = super::examples::YEARS)]
    Years {
        /// The first year: YYYY (or YYYY-MM, YYYY-MM-DD: the year it falls in).
        #[arg(long, value_name = "DATE", value_parser = first_day)]
        from: Day,
        /// The last year: YYYY (or YYYY-MM, YYYY-MM-DD: the year it falls in).
        #[arg(long, value_name = "DATE", value_parser = last_day)]
        to: Day,
        /// Answer as known at this instant.
        #[arg(long, value_name = "TIMESTAMP")]
        known_at: Option<String>,
        #[command(flatten)]
        format: TableFormat,
    },
    /// Everyone who held the office of Director General, with their terms.
    #[command(after_long_help = super::examples::OFFICERS)]
    Officers {
        /// Answer as known at this instant.
        #[arg(long, value_name = "TIMESTAMP")]
        known_at: Option<String>,
        #[command(flatten)]
        format: TableFormat,
    },
    /// Import another ledger's `log --json` (FILE or standard input), keeping each event's
    /// seq, recorded_at and hash; events already held, identical, are skipped; all or none.
    Import {
        /// The input file; `-` or nothing for standard input.
        #[arg(value_name = "FILE")]
        file: Option<PathBuf>,
        /// Print the receipt as JSON.
        #[arg(long)]
        json: bool,
        /// Accept an input with no events (imports nothing) instead of refusing it.
        #[arg(long)]
        allow_empty: bool,
        #[command(flatten)]
        lock: Lock,
    },
    /// Write a consistent copy of the ledger to PATH while writers go on (never overwrites).
    Backup {
        /// The new file.
        #[arg(value_name = "PATH")]
        path: PathBuf,
    },
    /// Record one event from flags: `record TYPE --FIELD VALUE …` (`record TYPE --help` lists
    /// the type's fields; `record` alone lists the types). Add --dry-run to see what it would
    /// change, --print to print its JSON instead.
    #[command(disable_help_flag = true)]
    Record {
        /// The event type (e.g. statute_ratified).
        #[arg(value_name = "TYPE", allow_hyphen_values = true)]
        ty: Option<String>,
        /// The event's fields as flags (see `record TYPE --help`).
        #[arg(
            value_name = "FLAGS",
            trailing_var_arg = true,
            allow_hyphen_values = true
        )]
        flags: Vec<String>,
    },
    /// Print a complete JSON event of TYPE with every field (placeholders to replace; `append`
    /// refuses any left), as a JSON array of one; without TYPE, list the types.
    Template {
        /// The event type.
        #[arg(value_name = "TYPE")]
        ty: Option<String>,
        /// Print one JSON line (JSON Lines) instead of an indented array of one.
        #[arg(long)]
        line: bool,
    },
    /// Serve the ledger over HTTP: pages with a date form, the JSON API (the same answers as
    /// `--json`), and appends by the holder of a token. Prints `listening on http://ADDR`
    /// first; stops on SIGINT/SIGTERM after finishing the requests under way.
    Serve {
        /// The address to listen on (port 0: any free port).
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
        bind: String,
        /// Take appends (`POST /api/events`) from requests that present the token held in
        /// this file (`Authorization: Bearer TOKEN`); without it the service is read-only.
        #[arg(long, value_name = "FILE")]
        write_token_file: Option<PathBuf>,
    },
    /// The party codes the ledger accepts (the 57 OIC member states).
    #[command(after_long_help = super::examples::PARTIES)]
    Parties {
        #[command(flatten)]
        format: TableFormat,
    },
    /// A series over valid time: members, ratifications, observers, Statute, Director General,
    /// Executive Board chair and uncertain events at each step from one day to another.
    #[command(after_long_help = super::examples::TIMELINE)]
    Timeline {
        /// The first day: YYYY, YYYY-MM or YYYY-MM-DD (a year or month: its first day).
        #[arg(long, value_name = "DATE", value_parser = first_day)]
        from: Day,
        /// The last day: YYYY, YYYY-MM or YYYY-MM-DD (a year or month: its last day); the last
        /// step is on or before it.
        #[arg(long, value_name = "DATE", value_parser = last_day)]
        to: Day,
        /// The interval between steps: day, week, month or year.
        #[arg(long, value_name = "INTERVAL", default_value = "month")]
        every: String,
        /// Answer as known at this instant.
        #[arg(long, value_name = "TIMESTAMP")]
        known_at: Option<String>,
        #[command(flatten)]
        format: TableFormat,
    },
    /// Write a static report (HTML, no script, nothing from the network): status, chart,
    /// officers, board, one page per party, meetings, audit.
    #[command(after_long_help = super::examples::REPORT)]
    Report {
        /// The directory to write (created; must be empty or absent unless --force).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// The report's day: YYYY, YYYY-MM or YYYY-MM-DD (a year or month: its last day)
        /// [default: today, UTC].
        #[arg(long, value_name = "DATE", value_parser = last_day)]
        as_of: Option<Day>,
        /// Report as known at this instant.
        #[arg(long, value_name = "TIMESTAMP")]
        known_at: Option<String>,
        /// Replace the contents of a non-empty DIR.
        #[arg(long)]
        force: bool,
    },
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) to stdout.
    #[command(after_long_help = super::examples::COMPLETIONS)]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) to stdout.
    #[command(after_long_help = super::examples::MAN)]
    Man,
}

impl Command {
    /// Whether the answer is text for people (which may be wrapped to fit a terminal), not
    /// JSON, CSV, an export, a completion script or a manual page.
    pub fn prints_text(&self) -> bool {
        use super::opts::OutputFormat;
        match self {
            Command::State { format, .. }
            | Command::Verify { format, .. }
            | Command::Head { format, .. }
            | Command::Audit { format, .. }
            | Command::Init { format, .. }
            | Command::Append { format, .. }
            | Command::Rebuild { format, .. } => !format.json(),
            Command::Members { format, .. }
            | Command::Log { format, .. }
            | Command::History { format, .. }
            | Command::Diff { format, .. }
            | Command::Meetings { format, .. }
            | Command::Years { format, .. }
            | Command::Officers { format, .. }
            | Command::Parties { format }
            | Command::Timeline { format, .. } => format.get() == OutputFormat::Text,
            Command::Report { .. } => true,
            Command::Import { json, .. } => !json,
            Command::Backup { .. } => true,
            Command::Export { .. }
            | Command::Record { .. }
            | Command::Template { .. }
            | Command::Completions { .. }
            | Command::Man
            | Command::Serve { .. } => false,
        }
    }
}

/// `--lock-timeout`, where a command writes (flatten it into a writing command).
#[derive(Debug, Clone, Args)]
pub struct Lock {
    /// How long to wait for another writer's lock, in seconds [default: 30].
    #[arg(long = "lock-timeout", value_name = "SECS")]
    pub lock_timeout: Option<f64>,
}

/// A seq on the command line: a whole number a log can reach (0 to 2^63 - 1); anything larger
/// is a usage error, never wrapped.
fn seq_arg(s: &str) -> Result<u64, String> {
    let n: u64 = s
        .parse()
        .map_err(|_| format!("`{s}` is not a seq (a whole number from 0)"))?;
    if n > i64::MAX as u64 {
        return Err(format!(
            "`{s}` is larger than any seq a ledger can hold (at most {})",
            i64::MAX
        ));
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_argument_definitions_are_consistent() {
        Cli::command().debug_assert();
    }
}
