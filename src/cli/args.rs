//! Command-line arguments (clap derive; the doc comments are the help text).

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// An event-sourced membership and governance ledger for the Islamic Organisation for Food
/// Security (IOFS).
///
/// Exit codes: 0 success, 1 refused input, failed verification or unusable ledger file,
/// 2 usage error.
#[derive(Debug, Parser)]
#[command(name = "iofs-ledger", version, max_term_width = 100)]
pub struct Cli {
    /// The ledger file [default: $IOFS_LEDGER_DB, else ./iofs-ledger.db]
    #[arg(long, global = true, value_name = "PATH")]
    pub db: Option<PathBuf>,

    /// How long an append waits for another writer's lock, in seconds.
    #[arg(long, global = true, value_name = "SECS", default_value_t = 30.0)]
    pub lock_timeout: f64,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the ledger and load the built-in history (never overwrites a file).
    Init {
        /// Create an empty ledger instead.
        #[arg(long)]
        empty: bool,
    },
    /// Append events (JSON Lines, or one JSON array) from FILE or standard input; all or none.
    Append {
        /// The input file; `-` or nothing for standard input.
        #[arg(value_name = "FILE")]
        file: Option<PathBuf>,
        /// Refuse unless the log's last seq is still SEQ (0 for an empty log).
        #[arg(long, value_name = "SEQ")]
        expect_head: Option<u64>,
        /// Check the input against the ledger as it is and show the seqs the events would
        /// get and the answers that would change; append nothing (exit 0 if it would be
        /// accepted, 1 if refused).
        #[arg(long)]
        dry_run: bool,
        /// With --dry-run, print JSON.
        #[arg(long, requires = "dry_run")]
        json: bool,
    },
    /// The state as of a day: members, ratifications, observers, Statute, Director General,
    /// Executive Board, and what is uncertain.
    State {
        /// The day (YYYY-MM-DD), inclusive.
        #[arg(long, value_name = "DATE")]
        as_of: String,
        /// Answer from the events recorded at or before this instant (RFC 3339, or a day
        /// meaning its end, UTC).
        #[arg(long, value_name = "TIMESTAMP")]
        known_at: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// The members as of a day.
    Members {
        /// The day (YYYY-MM-DD), inclusive.
        #[arg(long, value_name = "DATE")]
        as_of: String,
        /// Answer as known at this instant.
        #[arg(long, value_name = "TIMESTAMP")]
        known_at: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Every event with its seq, recorded_at and hash, in seq order.
    Log {
        /// Only events after this seq (to catch up from the last seq seen).
        #[arg(long, value_name = "SEQ", default_value_t = 0)]
        after: u64,
        /// Only events recorded at or before this instant.
        #[arg(long, value_name = "TIMESTAMP")]
        known_at: Option<String>,
        /// Print one JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// A party's whole timeline, with sources.
    History {
        /// Party code (e.g. KAZ) or placeholder (unidentified:label).
        party: String,
        /// Only events recorded at or before this instant.
        #[arg(long, value_name = "TIMESTAMP")]
        known_at: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Check the hash chain, the append-only triggers, every rule and the read models.
    Verify {
        /// Also prove the log only grew since this head was noted (from `head`).
        #[arg(long, value_name = "SEQ:HASH")]
        since_head: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print the last seq and its hash.
    Head {
        /// The head as it was at this instant.
        #[arg(long, value_name = "TIMESTAMP")]
        known_at: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Rebuild every read model from the log.
    Rebuild,
    /// Print the log as JSON Lines that `init --empty` plus `append` turn back into a ledger.
    Export {
        /// Only events recorded at or before this instant.
        #[arg(long, value_name = "TIMESTAMP")]
        known_at: Option<String>,
    },
    /// What changed between two days: joins, ratifications, withdrawals, offices, board.
    Diff {
        /// The first day.
        #[arg(long, value_name = "DATE")]
        from: String,
        /// The second day.
        #[arg(long, value_name = "DATE")]
        to: String,
        /// Answer as known at this instant.
        #[arg(long, value_name = "TIMESTAMP")]
        known_at: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Report what deserves an auditor's eye: claims against replay, contradictions, inferred
    /// and bounded dates, placeholders, corrections and retractions, entry into force.
    Audit {
        /// Report as known at this instant.
        #[arg(long, value_name = "TIMESTAMP")]
        known_at: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Meetings held between two days (inclusive).
    Meetings {
        /// Only events recorded at or before this instant.
        #[arg(long, value_name = "TIMESTAMP")]
        known_at: Option<String>,
        /// From this day.
        #[arg(long, value_name = "DATE")]
        from: Option<String>,
        /// Up to this day.
        #[arg(long, value_name = "DATE")]
        to: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// The state at the end of each year: members, ratifications, Statute, Director General,
    /// Executive Board chair.
    Years {
        /// The first year.
        #[arg(long, value_name = "YEAR")]
        from: i32,
        /// The last year.
        #[arg(long, value_name = "YEAR")]
        to: i32,
        /// Answer as known at this instant.
        #[arg(long, value_name = "TIMESTAMP")]
        known_at: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Everyone who held the office of Director General, with their terms.
    Officers {
        /// Answer as known at this instant.
        #[arg(long, value_name = "TIMESTAMP")]
        known_at: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
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
    /// Print a complete JSON event of TYPE with every field (placeholders to replace), as a
    /// JSON array of one that `append` reads as it is; without TYPE, list the types.
    Template {
        /// The event type.
        #[arg(value_name = "TYPE")]
        ty: Option<String>,
        /// Print one JSON line (JSON Lines) instead of an indented array of one.
        #[arg(long)]
        line: bool,
    },
    /// The party codes the ledger accepts (the 57 OIC member states).
    Parties {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// A series over valid time: members, ratifications, observers, Statute, Director General,
    /// Executive Board chair and uncertain events at each step from one day to another.
    Timeline {
        /// The first day (YYYY-MM-DD).
        #[arg(long, value_name = "DATE")]
        from: String,
        /// The last day (YYYY-MM-DD); the last step is on or before it.
        #[arg(long, value_name = "DATE")]
        to: String,
        /// The interval between steps: day, week, month or year.
        #[arg(long, value_name = "INTERVAL", default_value = "month")]
        every: String,
        /// Answer as known at this instant.
        #[arg(long, value_name = "TIMESTAMP")]
        known_at: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write a static report (HTML, no script, nothing from the network): status, chart,
    /// officers, board, one page per party, meetings, audit.
    Report {
        /// The directory to write (created; must be empty or absent unless --force).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// The report's day [default: today, UTC].
        #[arg(long, value_name = "DATE")]
        as_of: Option<String>,
        /// Report as known at this instant.
        #[arg(long, value_name = "TIMESTAMP")]
        known_at: Option<String>,
        /// Replace the contents of a non-empty DIR.
        #[arg(long)]
        force: bool,
    },
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
