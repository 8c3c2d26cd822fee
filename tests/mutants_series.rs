//! `store::series`: the input of a time series, from the read models (`series_input`) and as
//! known at an instant (`series_input_until`), and the two first-of lookups the report uses.
//! Written where mutations of `src/store/series.rs` survived the timeline's properties (see
//! `docs/testing.md`, "Mutation testing"): those compare only the rows built from the input, and
//! the rows forgive a change or window outside the span.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use iofs_ledger::date::Day;
use iofs_ledger::event::{parse_batch, Event, Location, Office, Organ};
use iofs_ledger::party::Party;
use iofs_ledger::projection::{Counter, Fact, Key, Milestone};
use iofs_ledger::store::{AppendOptions, Ledger, SeriesInput};
use serde_json::{json, Value};

fn keys() -> Vec<Key> {
    vec![
        Key::Count(Counter::Members),
        Key::Count(Counter::Ratifications),
        Key::Count(Counter::Observers),
        Key::Milestone(Milestone::StatuteInForce),
        Key::Office(Office::DirectorGeneral),
        Key::Board(Organ::ExecutiveBoard),
    ]
}

fn day(s: &str) -> Day {
    Day::parse(s).unwrap()
}

fn src() -> Value {
    json!({"document": "test.txt", "quote": "A sentence."})
}

fn ledger_of(lines: &[Value]) -> Ledger {
    let text: String = lines.iter().map(|v| format!("{v}\n")).collect();
    let mut l = Ledger::in_memory().unwrap();
    l.append(
        parse_batch(&text).unwrap().into_iter().map(Ok),
        AppendOptions::default(),
    )
    .unwrap();
    l
}

/// The changes with each key's changes in their own order, the keys in index order within a
/// day: both paths list a key's changes in replay order, but may interleave keys differently
/// within one position.
fn by_day_and_key(mut changes: Vec<(Day, usize, Fact)>) -> Vec<(Day, usize, Fact)> {
    changes.sort_by_key(|c| (c.0, c.1));
    changes
}

fn sorted_windows(mut w: Vec<(Day, Day)>) -> Vec<(Day, Day)> {
    w.sort();
    w
}

/// What `SeriesInput` promises for `[from, to]`, checked on one input: every change counts from
/// a day in `(from, to]`, every window starts by `to`, ends after `from`, and starts before it
/// ends.
fn keeps_to_its_span(input: &SeriesInput, from: Day, to: Day, what: &str) {
    for (d, i, _) in &input.changes {
        assert!(
            from < *d && *d <= to,
            "{what}: a change of key {i} on {d} outside ({from}, {to}]"
        );
    }
    for (s, e) in &input.windows {
        assert!(
            *s <= to && *e > from && s < e,
            "{what}: window [{s}, {e}] outside [{from}, {to}] or not wider than a day"
        );
    }
}

/// At the head, the input folded from the log (`series_input_until`) is the input read from the
/// read models (`series_input`): the same fact of each key at `from`, the same changes, the same
/// windows; and each keeps to its span: changes in `(from, to]`, windows that start by `to` and
/// end after `from`. On synthetic histories with uncertain dates and a late retraction, over
/// spans that begin and end on days where something changes and on days where nothing does.
#[test]
fn the_input_known_at_the_head_is_the_read_models_input_and_keeps_to_its_span() {
    for seed in [3u64, 17, 101] {
        let events: Vec<Event> = iofs_ledger::synth::events(1500, seed).collect();
        let mut l = Ledger::in_memory().unwrap();
        let input = events
            .into_iter()
            .enumerate()
            .map(|(i, e)| Ok((Location::Index(i), e)));
        l.append(input, AppendOptions::default()).unwrap();
        // A late retraction that the rules allow (the first one, from seq 7 on), which refolds.
        let retracted = (7u64..400).find(|t| {
            let retraction = json!({"type": "retraction", "retracts": t, "reason": "test",
                "source": src()})
            .to_string();
            l.append(
                parse_batch(&retraction).unwrap().into_iter().map(Ok),
                AppendOptions::default(),
            )
            .is_ok()
        });
        assert!(
            retracted.is_some(),
            "seed {seed}: no retraction was accepted"
        );
        let head = l.head().unwrap().seq;
        let all = l.series_input(&keys(), Day(1), day("9999-12-31")).unwrap();
        assert!(
            !all.windows.is_empty(),
            "seed {seed}: the history has no uncertain date"
        );
        // Spans ending exactly on a change's day, starting exactly on one, and a few others.
        let change_days: Vec<Day> = all.changes.iter().map(|c| c.0).collect();
        let mut spans = Vec::new();
        for k in (0..change_days.len()).step_by(change_days.len() / 12 + 1) {
            let d = change_days[k];
            spans.push((Day(d.0 - 400), d));
            spans.push((d, Day(d.0 + 400)));
            spans.push((Day(d.0 - 1), d));
        }
        spans.push((day("1900-01-01"), day("2100-01-01")));
        for (from, to) in spans {
            let read = l.series_input(&keys(), from, to).unwrap();
            let known = l.series_input_until(&keys(), from, to, head).unwrap();
            let what = format!("seed {seed}, [{from}, {to}]");
            keeps_to_its_span(&read, from, to, &format!("{what}, read models"));
            keeps_to_its_span(&known, from, to, &format!("{what}, known at the head"));
            assert_eq!(read.initial, known.initial, "{what}: facts at from");
            assert_eq!(
                by_day_and_key(read.changes.clone()),
                by_day_and_key(known.changes.clone()),
                "{what}: changes"
            );
            assert_eq!(
                sorted_windows(read.windows),
                sorted_windows(known.windows),
                "{what}: windows"
            );
        }
    }
}

fn signed(party: &str, date: &str) -> Value {
    json!({"type": "statute_signed", "date": date, "party": party, "source": src()})
}

fn member_count(f: &Option<Fact>) -> Option<u64> {
    match f {
        Some(Fact::Count { value }) => Some(*value),
        None => None,
        other => panic!("not a count: {other:?}"),
    }
}

/// A ledger whose every date is a single day has no pending windows (its widest window is 0
/// days): both inputs still read every change, the one at `to` included, and none after it.
#[test]
fn a_ledger_without_uncertain_dates_gives_every_change_in_the_span() {
    let l = ledger_of(&[
        signed("KAZ", "2014-05-01"),
        signed("TUR", "2014-06-01"),
        signed("SAU", "2014-07-01"),
        signed("EGY", "2014-08-01"),
    ]);
    assert_eq!(l.max_window().unwrap(), 0);
    let (from, to) = (day("2014-05-15"), day("2014-07-01"));
    let head = l.head().unwrap().seq;
    for (input, what) in [
        (l.series_input(&keys(), from, to).unwrap(), "read models"),
        (
            l.series_input_until(&keys(), from, to, head).unwrap(),
            "known at the head",
        ),
    ] {
        assert_eq!(member_count(&input.initial[0]), Some(1), "{what}");
        let members: Vec<(Day, Option<u64>)> = input
            .changes
            .iter()
            .filter(|c| c.1 == 0)
            .map(|c| (c.0, member_count(&Some(c.2.clone()))))
            .collect();
        assert_eq!(
            members,
            vec![(day("2014-06-01"), Some(2)), (day("2014-07-01"), Some(3))],
            "{what}"
        );
        assert!(input.windows.is_empty(), "{what}");
    }
}

/// `first_change` is the first day a key has a fact in the read models, and `None` for a key
/// that never had one; `party_first_seq` is the seq of the first event naming a party, and
/// `None` for a party no event names.
#[test]
fn the_first_change_of_a_key_and_the_first_event_of_a_party() {
    let l = ledger_of(&[
        signed("KAZ", "2014-05-01"),
        signed("TUR", "2013-06-01"),
        signed("SAU", "2014-07-01"),
    ]);
    assert_eq!(
        l.first_change(&Key::Count(Counter::Members)).unwrap(),
        Some(day("2013-06-01"))
    );
    assert_eq!(
        l.first_change(&Key::Member(Party::parse("SAU").unwrap()))
            .unwrap(),
        Some(day("2014-07-01"))
    );
    assert_eq!(
        l.first_change(&Key::Count(Counter::Observers)).unwrap(),
        None
    );
    assert_eq!(
        l.party_first_seq(&Party::parse("TUR").unwrap()).unwrap(),
        Some(2)
    );
    assert_eq!(
        l.party_first_seq(&Party::parse("SAU").unwrap()).unwrap(),
        Some(3)
    );
    assert_eq!(
        l.party_first_seq(&Party::parse("EGY").unwrap()).unwrap(),
        None
    );
}
