//! A series over valid time: the state's headline figures at each step from one day to another
//! (`timeline --every day|week|month|year`), computed in one ordered pass over the read models
//! (or, with `--known-at`, over one in-memory fold of the log), never one state query per step.
//!
//! Each figure is read from the same facts, by the same functions, as [`query::state`]'s, so a
//! row equals what `state --as-of` says about its day (a test holds them equal on the built-in
//! history and on synthetic histories).

use std::fmt;
use std::str::FromStr;

use chrono::Months;
use serde::Serialize;

use crate::date::Day;
use crate::event::{Office, Organ};
use crate::projection::{Counter, Fact, Key, Milestone};
use crate::query;
use crate::store::{Ledger, SeriesInput, StoreError};

/// The most steps one series may have (a daily series over about 2,700 years).
pub const MAX_STEPS: usize = 1_000_000;

/// The interval between two steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Every {
    /// Every day.
    Day,
    /// Every seven days.
    Week,
    /// The same day of every month (the month's last day where it is shorter).
    Month,
    /// The same day of every year (28 February for 29 February in other years).
    Year,
}

impl FromStr for Every {
    type Err = TimelineError;
    fn from_str(s: &str) -> Result<Every, TimelineError> {
        match s {
            "day" => Ok(Every::Day),
            "week" => Ok(Every::Week),
            "month" => Ok(Every::Month),
            "year" => Ok(Every::Year),
            _ => Err(TimelineError::Every(s.to_string())),
        }
    }
}

impl fmt::Display for Every {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Every::Day => "day",
            Every::Week => "week",
            Every::Month => "month",
            Every::Year => "year",
        })
    }
}

/// Why a series cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum TimelineError {
    /// An unknown interval.
    #[error("--every: `{0}` is not an interval: write day, week, month or year")]
    Every(String),
    /// `to` before `from`.
    #[error("--to ({to}) is before --from ({from}): the series runs forwards")]
    Backwards {
        /// The first day.
        from: String,
        /// The last day.
        to: String,
    },
    /// Too many steps.
    #[error("the series would have more than {MAX_STEPS} steps: choose a longer interval (--every) or a shorter span")]
    TooLong,
    /// Reading the ledger failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One step of the series: the headline figures of `state --as-of DATE`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TimelineRow {
    /// The day (YYYY-MM-DD).
    pub date: String,
    /// Members at the day.
    pub members: u64,
    /// Ratifications at the day.
    pub ratifications: u64,
    /// Observers at the day.
    pub observers: u64,
    /// Whether the Statute was in force.
    pub in_force: bool,
    /// The Director General (null: vacant or never filled).
    pub director_general: Option<String>,
    /// The Executive Board chair's party code (null: none).
    pub board_chair: Option<String>,
    /// How many events may have happened by the day but are not counted yet (the length of
    /// `state`'s `uncertain` list).
    pub uncertain: u64,
}

/// A series: what was asked and one row per step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Timeline {
    /// The first day.
    pub from: String,
    /// The last day asked for (the last step is on or before it).
    pub to: String,
    /// The interval.
    pub every: Every,
    /// The instant the answer is known at (null: everything recorded).
    pub known_at: Option<String>,
    /// One row per step, in date order.
    pub rows: Vec<TimelineRow>,
}

/// The days of the series: `from`, then `from` plus one interval, two…, up to `to`. Months and
/// years are added to `from` itself (31 January, 28/29 February, 31 March…), so no step drifts.
pub fn steps(from: Day, to: Day, every: Every) -> Result<Vec<Day>, TimelineError> {
    if to < from {
        return Err(TimelineError::Backwards {
            from: from.text(),
            to: to.text(),
        });
    }
    let mut out = Vec::new();
    let start = from.to_naive();
    for k in 0u32.. {
        let d = match every {
            Every::Day => Some(Day(from.0.saturating_add(k as i32))),
            Every::Week => Some(Day(from.0.saturating_add((k as i32).saturating_mul(7)))),
            Every::Month => start
                .checked_add_months(Months::new(k))
                .map(Day::from_naive),
            Every::Year => start
                .checked_add_months(Months::new(k.saturating_mul(12)))
                .map(Day::from_naive),
        };
        match d {
            Some(d) if d <= to => {
                if out.len() == MAX_STEPS {
                    return Err(TimelineError::TooLong);
                }
                out.push(d);
            }
            _ => break,
        }
    }
    Ok(out)
}

/// The keys a row reads, in the order [`SeriesInput`] indexes them.
fn keys() -> [Key; 6] {
    [
        Key::Count(Counter::Members),
        Key::Count(Counter::Ratifications),
        Key::Count(Counter::Observers),
        Key::Milestone(Milestone::StatuteInForce),
        Key::Office(Office::DirectorGeneral),
        Key::Board(Organ::ExecutiveBoard),
    ]
}

/// The series from `from` to `to`; with `known_at` (an instant in `recorded_at` format), as the
/// ledger knew it then.
pub fn timeline(
    ledger: &Ledger,
    from: Day,
    to: Day,
    every: Every,
    known_at: Option<&str>,
) -> Result<Timeline, TimelineError> {
    let days = steps(from, to, every)?;
    let keys = keys();
    let input = match known_at {
        None => ledger.series_input(&keys, from, to)?,
        Some(t) => {
            let max_seq = ledger.seq_known_at(t)?;
            ledger.series_input_until(&keys, from, to, max_seq)?
        }
    };
    Ok(Timeline {
        from: from.text(),
        to: to.text(),
        every,
        known_at: known_at.map(str::to_string),
        rows: rows(input, &days),
    })
}

/// The rows at the given days (in increasing order, each once: the days of a set of claims,
/// say), in one pass like [`timeline`]; `known_at` as there.
pub fn at_days(
    ledger: &Ledger,
    days: &[Day],
    known_at: Option<&str>,
) -> Result<Vec<TimelineRow>, StoreError> {
    let (Some(&from), Some(&to)) = (days.first(), days.last()) else {
        return Ok(Vec::new());
    };
    debug_assert!(
        days.windows(2).all(|w| w[0] < w[1]),
        "days in increasing order"
    );
    let keys = keys();
    let input = match known_at {
        None => ledger.series_input(&keys, from, to)?,
        Some(t) => {
            let max_seq = ledger.seq_known_at(t)?;
            ledger.series_input_until(&keys, from, to, max_seq)?
        }
    };
    Ok(rows(input, days))
}

/// Walks the steps and the input once, in day order.
fn rows(input: SeriesInput, days: &[Day]) -> Vec<TimelineRow> {
    let SeriesInput {
        initial,
        changes,
        windows,
    } = input;
    let mut facts: Vec<Option<Fact>> = initial;
    facts.resize(keys().len(), None);
    let mut starts: Vec<Day> = windows.iter().map(|w| w.0).collect();
    let mut ends: Vec<Day> = windows.iter().map(|w| w.1).collect();
    starts.sort_unstable();
    ends.sort_unstable();
    let (mut c, mut s, mut e) = (0, 0, 0);
    let mut out = Vec::with_capacity(days.len());
    for &d in days {
        while let Some((day, i, fact)) = changes.get(c) {
            if *day > d {
                break;
            }
            if let Some(slot) = facts.get_mut(*i) {
                *slot = Some(fact.clone());
            }
            c += 1;
        }
        while starts.get(s).is_some_and(|x| *x <= d) {
            s += 1;
        }
        while ends.get(e).is_some_and(|x| *x <= d) {
            e += 1;
        }
        let f = |i: usize| facts.get(i).and_then(Option::as_ref);
        let (director_general, past_term) = query::holder_at(f(4), d);
        out.push(TimelineRow {
            date: d.text(),
            members: query::count_of(f(0)),
            ratifications: query::count_of(f(1)),
            observers: query::count_of(f(2)),
            in_force: query::reached(f(3)),
            director_general,
            board_chair: query::chair_of(f(5)),
            // Each window starts before it ends, so those open at d are the started less the
            // ended; a holder past their term is listed as uncertain too.
            uncertain: (s - e.min(s)) as u64 + u64::from(past_term),
        });
    }
    out
}
