//! `timeline`: a series over valid time made in one pass must say, at every step, exactly what
//! `state --as-of` says about that day (the state query is the independent oracle: it reads
//! snapshots, or folds the log, per day), from the read models and as known at an instant.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use assert_cmd::Command;
use chrono::{TimeZone, Utc};
use proptest::prelude::*;
use serde_json::{json, Value};

use iofs_ledger::date::Day;
use iofs_ledger::event::{parse_batch, Event, Location};
use iofs_ledger::history::BUILTIN_HISTORY;
use iofs_ledger::query;
use iofs_ledger::store::{format_instant, AppendOptions, Ledger};
use iofs_ledger::timeline::{self, steps, Every, TimelineError, TimelineRow};

fn day(s: &str) -> Day {
    Day::parse(s).unwrap()
}

fn builtin() -> Ledger {
    let mut l = Ledger::in_memory().unwrap();
    let events = parse_batch(BUILTIN_HISTORY).unwrap();
    l.append(events.into_iter().map(Ok), AppendOptions::default())
        .unwrap();
    l
}

/// What `state` says about a day, as a timeline row.
fn row_of_state(l: &Ledger, d: Day, known_at: Option<&str>) -> TimelineRow {
    let s = query::state(l, d, known_at).unwrap();
    TimelineRow {
        date: s.as_of,
        members: s.members.count,
        ratifications: s.ratifications.count,
        observers: s.observers.count,
        in_force: s.statute.in_force,
        director_general: s.director_general.holder,
        board_chair: s.executive_board.chair,
        uncertain: s.uncertain.len() as u64,
    }
}

fn assert_rows_equal_state(l: &Ledger, from: &str, to: &str, every: Every, known_at: Option<&str>) {
    let t = timeline::timeline(l, day(from), day(to), every, known_at).unwrap();
    let days = steps(day(from), day(to), every).unwrap();
    assert_eq!(t.rows.len(), days.len());
    for (row, d) in t.rows.iter().zip(days) {
        assert_eq!(row, &row_of_state(l, d, known_at), "at {d}");
    }
}

/// On the built-in history, weekly over its whole span and daily over its busiest months
/// (signatures dated by bounds and months, so pending counts change day by day), every row is
/// the state of its day.
#[test]
fn every_row_of_the_builtin_history_is_the_state_of_its_day() {
    let l = builtin();
    assert_rows_equal_state(&l, "2011-01-03", "2026-11-30", Every::Week, None);
    assert_rows_equal_state(&l, "2013-11-15", "2014-02-15", Every::Day, None);
    assert_rows_equal_state(&l, "2016-03-01", "2018-03-31", Every::Day, None);
    assert_rows_equal_state(&l, "2010-01-31", "2026-01-31", Every::Month, None);
    // Something happens in the span (the test is not vacuous).
    let t =
        timeline::timeline(&l, day("2013-01-01"), day("2025-01-01"), Every::Year, None).unwrap();
    assert!(t.rows.first().unwrap().members < t.rows.last().unwrap().members);
    assert!(t.rows.iter().any(|r| r.uncertain > 0) && t.rows.iter().any(|r| r.in_force));
}

/// Steps add months and years to the first day itself (31 January, 29 February, 31 March…),
/// end on or before the last day, and a backwards or endless series is refused.
#[test]
fn steps_add_calendar_intervals_to_the_first_day_and_refuse_bad_spans() {
    let texts = |v: Vec<Day>| v.into_iter().map(|d| d.text()).collect::<Vec<_>>();
    assert_eq!(
        texts(steps(day("2024-01-31"), day("2024-05-01"), Every::Month).unwrap()),
        ["2024-01-31", "2024-02-29", "2024-03-31", "2024-04-30"]
    );
    assert_eq!(
        texts(steps(day("2024-02-29"), day("2028-03-01"), Every::Year).unwrap()),
        [
            "2024-02-29",
            "2025-02-28",
            "2026-02-28",
            "2027-02-28",
            "2028-02-29"
        ]
    );
    assert_eq!(
        texts(steps(day("2024-01-01"), day("2024-01-15"), Every::Week).unwrap()),
        ["2024-01-01", "2024-01-08", "2024-01-15"]
    );
    assert_eq!(
        steps(day("2024-01-01"), day("2024-01-01"), Every::Day)
            .unwrap()
            .len(),
        1
    );
    assert!(matches!(
        steps(day("2024-01-02"), day("2024-01-01"), Every::Day),
        Err(TimelineError::Backwards { .. })
    ));
    assert!(matches!(
        steps(day("0001-01-01"), day("9999-12-31"), Every::Day),
        Err(TimelineError::TooLong)
    ));
    assert!(matches!(
        "fortnight".parse::<Every>(),
        Err(TimelineError::Every(_))
    ));
}

fn append_at(l: &mut Ledger, events: &[Event], at: usize, secs: i64) {
    let input = events
        .iter()
        .enumerate()
        .map(|(i, e)| Ok((Location::Index(at + i), e.clone())));
    let now = Utc.timestamp_opt(1_767_500_000 + secs, 0).unwrap();
    l.append(
        input,
        AppendOptions {
            expect_head: None,
            now: Some(now),
        },
    )
    .unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("IOFS_PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(6),
        ..ProptestConfig::default()
    })]

    /// On synthetic histories appended in batches at distinct instants, with a retraction
    /// (which refolds the read models), a series over any span at any interval equals the state
    /// of each of its days, from the read models and as known at the instant of an earlier batch.
    #[test]
    fn a_series_equals_the_state_of_each_of_its_days_now_and_as_known_at_an_earlier_instant(
        seed in 0u64..1000,
        cut in 200usize..1800,
        start in 0i32..44_000,
        span in 0i32..6_000,
        every in prop::sample::select(vec![Every::Day, Every::Week, Every::Month, Every::Year]),
        retract in 1u64..2000,
    ) {
        let events: Vec<Event> = iofs_ledger::synth::events(2000, seed).collect();
        let mut l = Ledger::in_memory().unwrap();
        append_at(&mut l, &events[..cut], 0, 0);
        append_at(&mut l, &events[cut..], cut, 100);
        let retraction = json!({"type": "retraction", "retracts": retract, "reason": "test",
            "source": {"document": "t.txt", "quote": "q"}}).to_string();
        let _ = l.append(parse_batch(&retraction).unwrap().into_iter().map(Ok), AppendOptions {
            expect_head: None, now: Some(Utc.timestamp_opt(1_767_500_200, 0).unwrap()) });
        let from = Day(day("1900-01-01").0 + start);
        let to = Day(from.0 + if every == Every::Day { span / 4 } else { span });
        let first_instant = format_instant(Utc.timestamp_opt(1_767_500_050, 0).unwrap());
        for k in [None, Some(first_instant.as_str())] {
            let t = timeline::timeline(&l, from, to, every, k).unwrap();
            let days = steps(from, to, every).unwrap();
            prop_assert_eq!(t.rows.len(), days.len());
            for (row, d) in t.rows.iter().zip(days) {
                prop_assert_eq!(row, &row_of_state(&l, d, k), "at {} known at {:?}", d, k);
            }
        }
    }
}

fn bin() -> Command {
    Command::cargo_bin("iofs-ledger").unwrap()
}

/// The command prints the same rows as JSON and as text, refuses bad arguments with exit 2, and
/// answers from the built-in history when there is no ledger.
#[test]
fn the_timeline_command_prints_rows_and_refuses_bad_arguments() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("l.db");
    bin().arg("--db").arg(&db).arg("init").assert().success();
    let out = bin()
        .arg("--db")
        .arg(&db)
        .args([
            "timeline",
            "--from",
            "2013-12-31",
            "--to",
            "2019-12-31",
            "--every",
            "year",
            "--json",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["every"], "year");
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 7);
    for r in rows {
        let s: Value = serde_json::from_slice(
            &bin()
                .arg("--db")
                .arg(&db)
                .args(["state", "--json", "--as-of", r["date"].as_str().unwrap()])
                .assert()
                .success()
                .get_output()
                .stdout,
        )
        .unwrap();
        assert_eq!(r["members"], s["members"]["count"]);
        assert_eq!(r["ratifications"], s["ratifications"]["count"]);
        assert_eq!(r["in_force"], s["statute"]["in_force"]);
        assert_eq!(r["director_general"], s["director_general"]["holder"]);
        assert_eq!(
            r["uncertain"],
            json!(s["uncertain"].as_array().unwrap().len())
        );
    }
    let text = bin()
        .arg("--db")
        .arg(&db)
        .args(["timeline", "--from", "2018-12-31", "--to", "2018-12-31"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(text).unwrap();
    assert!(
        text.lines()
            .any(|l| l.starts_with("2018-12-31") && l.contains("in force")),
        "{text}"
    );
    for args in [
        [
            "--from",
            "2019-01-01",
            "--to",
            "2018-01-01",
            "--every",
            "day",
        ],
        [
            "--from",
            "2019-01-01",
            "--to",
            "2020-01-01",
            "--every",
            "hour",
        ],
        [
            "--from",
            "0001-01-01",
            "--to",
            "9999-12-31",
            "--every",
            "day",
        ],
        [
            "--from",
            "2019-13-01",
            "--to",
            "2020-01-01",
            "--every",
            "day",
        ],
    ] {
        bin()
            .arg("--db")
            .arg(&db)
            .arg("timeline")
            .args(args)
            .assert()
            .code(2);
    }
}

/// The audit checks claims against rows of one pass (`timeline::at_days`): on a synthetic
/// history with thousands of claims, as now and as known at an earlier instant, every claim's
/// replay value is what `state` says at its day, and `at_days` at scattered days equals `state`.
#[test]
fn claims_are_checked_against_what_state_says_at_their_day() {
    use iofs_ledger::audit;
    use iofs_ledger::event::ClaimAbout;
    let events: Vec<Event> = iofs_ledger::synth::events(6000, 11).collect();
    let mut l = Ledger::in_memory().unwrap();
    append_at(&mut l, &events[..3000], 0, 0);
    append_at(&mut l, &events[3000..], 3000, 100);
    let first_instant = format_instant(Utc.timestamp_opt(1_767_500_050, 0).unwrap());
    for k in [None, Some(first_instant.as_str())] {
        let r = audit::report(&l, k).unwrap();
        let checked = r
            .claims
            .iter()
            .filter(|c| c.about != ClaimAbout::Statement && c.about != ClaimAbout::SignatoryOrdinal)
            .count();
        assert!(checked > 100, "{checked} claims checked");
        for c in &r.claims {
            let s = query::state(&l, day(&c.checked_at), k).unwrap();
            let want = match c.about {
                ClaimAbout::MemberCount => json!(s.members.count),
                ClaimAbout::RatificationCount => json!(s.ratifications.count),
                ClaimAbout::StatuteInForce => json!(s.statute.in_force),
                ClaimAbout::DirectorGeneral => json!(s.director_general.holder),
                ClaimAbout::BoardChair => json!(s.executive_board.chair),
                _ => continue,
            };
            assert_eq!(c.replay, want, "claim seq {} known at {k:?}", c.seq);
        }
        let days: Vec<Day> = (0..40)
            .map(|i| Day(day("1900-03-01").0 + i * 1_151))
            .collect();
        let rows = timeline::at_days(&l, &days, k).unwrap();
        for (row, d) in rows.iter().zip(&days) {
            assert_eq!(row, &row_of_state(&l, *d, k), "at {d}");
        }
    }
}
