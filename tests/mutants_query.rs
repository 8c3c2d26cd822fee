//! Answers of `query` that the reference-model properties do not reach, pinned where a
//! mutation of `src/query.rs` survived them (see `docs/testing.md`, "Mutation testing"): the
//! `--known-at` parser, the end of a term against the day the next holder counts from, and the
//! year-end summary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use iofs_ledger::date::Day;
use iofs_ledger::event::{parse_batch, Office};
use iofs_ledger::history::BUILTIN_HISTORY;
use iofs_ledger::query;
use iofs_ledger::store::{AppendOptions, Ledger};
use serde_json::json;

fn ledger_of(lines: &[serde_json::Value]) -> Ledger {
    let text: String = lines.iter().map(|v| format!("{v}\n")).collect();
    let mut l = Ledger::in_memory().unwrap();
    let events = parse_batch(&text).unwrap();
    l.append(events.into_iter().map(Ok), AppendOptions::default())
        .unwrap();
    l
}

fn appointed(person: &str, date: &str, term: Option<u32>) -> serde_json::Value {
    let mut v = json!({
        "type": "officer_appointed",
        "date": date,
        "office": "director_general",
        "person": person,
        "source": {"document": "test.txt", "quote": "A sentence."},
    });
    if let Some(t) = term {
        v["term_years"] = json!(t);
    }
    v
}

/// `--known-at` takes an RFC 3339 instant (any offset, answered in UTC) or a day meaning its
/// last microsecond (UTC), and refuses anything else and any instant outside the years
/// 0001-9999, whatever the offset.
#[test]
fn known_at_reads_an_instant_or_the_end_of_a_day_and_refuses_the_rest() {
    assert_eq!(
        query::parse_known_at("2024-03-01T12:00:00Z").as_deref(),
        Ok("2024-03-01T12:00:00.000000Z")
    );
    assert_eq!(
        query::parse_known_at("2024-03-01T12:00:00+02:00").as_deref(),
        Ok("2024-03-01T10:00:00.000000Z")
    );
    assert_eq!(
        query::parse_known_at("2024-03-01").as_deref(),
        Ok("2024-03-01T23:59:59.999999Z")
    );
    assert_eq!(
        query::parse_known_at("9999-12-31T23:00:00+01:00").as_deref(),
        Ok("9999-12-31T22:00:00.000000Z")
    );
    for bad in [
        "9999-12-31T23:00:00-05:00",
        "0001-01-01T00:30:00+01:00",
        "2024-03",
        "yesterday",
        "",
    ] {
        assert!(query::parse_known_at(bad).is_err(), "{bad}");
    }
}

/// A holder whose term ends on the very day the next holder counts from hands over without a
/// gap: `officers` says nothing about an unknown holder after the term, and `state` on that day
/// names the successor. One day later, the gap is said.
#[test]
fn a_successor_counted_from_the_day_the_term_ends_leaves_no_gap() {
    let l = ledger_of(&[
        appointed("First Holder", "2019-08-29", Some(4)),
        appointed("Second Holder", "2023-08-29", None),
    ]);
    let t = query::officers(&l, Office::DirectorGeneral, None).unwrap();
    assert_eq!(t.len(), 2, "{t:?}");
    assert_eq!(t[0].term_ends.as_deref(), Some("2023-08-29"));
    assert_eq!(t[0].ended_by.as_deref(), Some("succeeded by Second Holder"));
    assert_eq!(t[0].after_term, None, "{t:?}");
    let s = query::state(&l, Day::parse("2023-08-29").unwrap(), None).unwrap();
    assert_eq!(s.director_general.holder.as_deref(), Some("Second Holder"));

    let l = ledger_of(&[
        appointed("First Holder", "2019-08-29", Some(4)),
        appointed("Second Holder", "2023-08-30", None),
    ]);
    let t = query::officers(&l, Office::DirectorGeneral, None).unwrap();
    assert!(
        t[0].after_term
            .as_deref()
            .is_some_and(|a| a.contains("2023-08-29") && a.contains("2023-08-30")),
        "{t:?}"
    );
    let s = query::state(&l, Day::parse("2023-08-29").unwrap(), None).unwrap();
    assert_eq!(s.director_general.holder, None);
    assert_eq!(
        s.director_general.term_ended.map(|t| t.person).as_deref(),
        Some("First Holder")
    );
}

/// The year-end summary has one row per year asked, each the `state` answer at 31 December of
/// that year (here over the built-in history, from before the first event to after the last).
#[test]
fn year_ends_are_the_state_at_each_thirty_first_of_december() {
    let mut l = Ledger::in_memory().unwrap();
    let events = parse_batch(BUILTIN_HISTORY).unwrap();
    l.append(events.into_iter().map(Ok), AppendOptions::default())
        .unwrap();
    let rows = query::year_ends(&l, 2011, 2025, None).unwrap();
    assert_eq!(rows.len(), 15);
    for (y, row) in (2011..=2025).zip(&rows) {
        let s = query::state(&l, Day::parse(&format!("{y}-12-31")).unwrap(), None).unwrap();
        assert_eq!(row.as_of, format!("{y}-12-31"));
        assert_eq!(row.members, s.members.count, "{y}");
        assert_eq!(row.ratifications, s.ratifications.count, "{y}");
        assert_eq!(row.observers, s.observers.count, "{y}");
        assert_eq!(row.in_force, s.statute.in_force, "{y}");
        assert_eq!(row.director_general, s.director_general.holder, "{y}");
        assert_eq!(
            row.director_general_term_ended,
            s.director_general.term_ended.map(|t| t.person),
            "{y}"
        );
        assert_eq!(row.board_chair, s.executive_board.chair, "{y}");
        assert_eq!(row.uncertain, s.uncertain.len(), "{y}");
    }
    assert_eq!(rows[0].members, 0);
    assert_eq!(rows[13].members, 41, "2024");
    assert!(rows[13].in_force);
}

fn signed(party: &str) -> serde_json::Value {
    json!({
        "type": "statute_signed",
        "date": "2014-05-01",
        "party": party,
        "source": {"document": "test.txt", "quote": "A sentence."},
    })
}

fn ordinal_claim(party: &str, value: u64) -> serde_json::Value {
    json!({
        "type": "claim",
        "date": "2015",
        "party": party,
        "about": "signatory_ordinal",
        "value": value,
        "source": {"document": "test.txt", "quote": format!("{party} was number {value}.")},
    })
}

/// `members` lists a sourced ordinal only from a claim that stands: a retracted claim gives
/// none, a corrected claim gives only its latest replacement's value (not its own, not an
/// earlier replacement's), a claim left alone gives its own.
#[test]
fn members_lists_only_the_sourced_ordinals_that_stand() {
    let l = ledger_of(&[
        signed("KAZ"),
        signed("LBY"),
        signed("TUR"),
        ordinal_claim("KAZ", 1),
        ordinal_claim("LBY", 7),
        ordinal_claim("TUR", 8),
        json!({"type": "retraction", "retracts": 5, "reason": "misread",
               "source": {"document": "test.txt", "quote": "A sentence."}}),
        json!({"type": "correction", "corrects": 6, "reason": "misread",
               "replacement": ordinal_claim("TUR", 2),
               "source": {"document": "test.txt", "quote": "A sentence."}}),
        json!({"type": "correction", "corrects": 6, "reason": "misread again",
               "replacement": ordinal_claim("TUR", 3),
               "source": {"document": "test.txt", "quote": "A sentence."}}),
    ]);
    let s = query::members(&l, Day::parse("2020-01-01").unwrap(), None).unwrap();
    let of = |code: &str| {
        s.members
            .parties
            .iter()
            .find(|m| m.code == code)
            .map(|m| {
                m.sourced_ordinals
                    .iter()
                    .map(|o| (o.value, o.seq))
                    .collect::<Vec<_>>()
            })
            .unwrap()
    };
    assert_eq!(of("KAZ"), [(1, 4)]);
    assert_eq!(of("LBY"), []);
    assert_eq!(of("TUR"), [(3, 9)]);
}
