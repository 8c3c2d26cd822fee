//! Conventions every command shares, so that a new command adopts them by flattening a struct
//! or naming a parser: the output format (`--format text|json|csv`, `--json`), dates on the
//! command line (`--as-of`, `--from`, `--to`), date ranges, and party arguments.

use clap::{Args, ValueEnum};

use iofs_ledger::date::{Day, PartialDate};
use iofs_ledger::party::{self, Party};

use super::CliError;

/// How an answer is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum OutputFormat {
    /// Aligned text for people.
    #[default]
    Text,
    /// JSON for scripts.
    Json,
    /// CSV (RFC 4180, a header row first) for spreadsheets and scripts.
    Csv,
}

/// `--format text|json|csv` and `--json` (an alias of `--format json`), for a command whose
/// answer is a table. Flatten it into the command: `#[command(flatten)] format: TableFormat`.
#[derive(Debug, Clone, Args)]
pub struct TableFormat {
    /// How to print the answer.
    #[arg(long, value_enum, default_value_t, value_name = "FORMAT")]
    format: OutputFormat,
    /// Print JSON (the same as `--format json`).
    #[arg(long, conflicts_with = "format")]
    json: bool,
}

impl TableFormat {
    /// The format asked for.
    pub fn get(&self) -> OutputFormat {
        if self.json {
            OutputFormat::Json
        } else {
            self.format
        }
    }
}

/// A format for an answer that is a document, not a table (`state`, `verify`, `audit`, `head`,
/// receipts): `--format text|json` and `--json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum DocumentFormat {
    /// Text for people.
    #[default]
    Text,
    /// JSON for scripts.
    Json,
}

/// `--format text|json` and `--json`, for a command whose answer is not a table.
#[derive(Debug, Clone, Args)]
pub struct DocFormat {
    /// How to print the answer.
    #[arg(long, value_enum, default_value_t, value_name = "FORMAT")]
    format: DocumentFormat,
    /// Print JSON (the same as `--format json`).
    #[arg(long, conflicts_with = "format")]
    json: bool,
}

impl DocFormat {
    /// Whether JSON was asked for.
    pub fn json(&self) -> bool {
        self.json || self.format == DocumentFormat::Json
    }
}

/// What a date on the command line may be: the one text every date flag's help and error use.
pub const DATE_FORMS: &str = "YYYY, YYYY-MM or YYYY-MM-DD (a real date, years 0001-9999); a year or month means its last day for --as-of and --to, its first day for --from";

fn partial(s: &str) -> Result<PartialDate, String> {
    PartialDate::parse(s.trim()).map_err(|_| format!("`{s}` is not a date: give {DATE_FORMS}"))
}

/// The value parser of `--as-of` and `--to`: a year or month means its last day.
pub fn last_day(s: &str) -> Result<Day, String> {
    partial(s).map(|p| p.last_day())
}

/// The value parser of `--from`: a year or month means its first day.
pub fn first_day(s: &str) -> Result<Day, String> {
    partial(s).map(|p| p.first_day())
}

/// Today in UTC: what `state` and `members` answer for without `--as-of`.
pub fn today() -> Day {
    Day::from_naive(chrono::Utc::now().date_naive())
}

/// Refuses a reversed range the same way for every command (exit 2).
pub fn check_range(from: Option<Day>, to: Option<Day>) -> Result<(), CliError> {
    match (from, to) {
        (Some(a), Some(b)) if a > b => Err(CliError::Usage(format!(
            "--from {a} is after --to {b}: give the earlier day to --from"
        ))),
        _ => Ok(()),
    }
}

/// A party typed by a person: a code in any case, an English name or alias, or a placeholder
/// ([`party::resolve`]). A near miss names the nearest party (exit 2).
pub fn party_arg(s: &str) -> Result<Party, CliError> {
    party::resolve(s).map_err(|e| CliError::Usage(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_year_or_month_means_its_last_day_for_as_of_and_to_and_its_first_for_from() {
        let d =
            |s: &str| Day::from_naive(chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap());
        assert_eq!(last_day("2024"), Ok(d("2024-12-31")));
        assert_eq!(last_day("2024-02"), Ok(d("2024-02-29")));
        assert_eq!(last_day("2023-02-14"), Ok(d("2023-02-14")));
        assert_eq!(first_day("2024"), Ok(d("2024-01-01")));
        assert_eq!(first_day("2024-02"), Ok(d("2024-02-01")));
        assert_eq!(first_day("2023-02-14"), Ok(d("2023-02-14")));
    }

    #[test]
    fn every_bad_date_gets_the_same_text_saying_what_is_accepted() {
        for bad in [
            "2024-13",
            "2023-02-29",
            "0000",
            "24",
            "2024/01/01",
            "yesterday",
            "",
        ] {
            let e = last_day(bad).unwrap_err();
            assert_eq!(e, format!("`{bad}` is not a date: give {DATE_FORMS}"));
            assert_eq!(first_day(bad).unwrap_err(), e);
        }
    }

    #[test]
    fn a_reversed_range_is_refused_and_an_open_or_equal_one_is_not() {
        let (a, b) = (first_day("2020").unwrap(), last_day("2019").unwrap());
        assert!(matches!(
            check_range(Some(a), Some(b)),
            Err(CliError::Usage(_))
        ));
        assert!(check_range(Some(b), Some(a)).is_ok());
        assert!(check_range(Some(a), Some(a)).is_ok());
        assert!(check_range(None, Some(a)).is_ok());
    }
}
