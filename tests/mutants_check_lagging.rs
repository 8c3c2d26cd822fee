//! `verify` of a file whose projections lag behind its log after a bulk append (see
//! `store::DEFER_THRESHOLD`; lowered here to three events for the whole process): the file is
//! checked as it is, against the read models a bulk append leaves, and nothing is written.
//! Written where mutations of `src/store/check.rs` survived the other tests (see
//! `docs/testing.md`, "Module by module"), which verify lagging files only through the CLI.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use iofs_ledger::audit::{self, Verification};
use iofs_ledger::store::Ledger;
use serde_json::{json, Value};

use support::*;

/// `v` with a source.
fn ev(mut v: Value) -> Value {
    v["source"] = source();
    v
}

/// Two events projected as they were appended, then a bulk batch of four (a ratification, a
/// signature, a correction of the second event and a retraction of the first) whose
/// projections are deferred: `meta.projected_through` is 2.
fn lagging_ledger() -> Ledger {
    iofs_ledger::store::set_defer_threshold_for_tests(3);
    let mut l = fresh_ledger();
    append_values(
        &mut l,
        &[
            ev(json!({"type": "statute_signed", "party": "KAZ", "date": "2010-05-05"})),
            ev(json!({"type": "statute_signed", "party": "TUR", "date": "2011"})),
        ],
        now_of(0),
    )
    .unwrap();
    append_values(
        &mut l,
        &[
            ev(json!({"type": "statute_ratified", "party": "KAZ", "date": "2013-01-01"})),
            ev(json!({"type": "statute_signed", "party": "SAU", "date": "2012-07"})),
            ev(json!({"type": "correction", "corrects": 2, "reason": "the month is known",
                "replacement": ev(json!({"type": "statute_signed", "party": "TUR", "date": "2011-03"}))})),
            ev(json!({"type": "retraction", "retracts": 1, "reason": "misread"})),
        ],
        now_of(1),
    )
    .unwrap();
    assert_eq!(
        projected_through(&l).as_deref(),
        Some("2"),
        "the batch was deferred"
    );
    l
}

/// `meta.projected_through`, read straight from the file.
fn projected_through(l: &Ledger) -> Option<String> {
    l.connection()
        .query_row(
            "SELECT value FROM meta WHERE key = 'projected_through'",
            [],
            |r| r.get(0),
        )
        .ok()
}

fn verify(l: &mut Ledger) -> Verification {
    audit::verify(l, None).unwrap()
}

/// A lagging file verifies as it is: its `replay_order`, `overrides` and `max_window` are of
/// the whole log (appends always write those), its other read models of the events projected
/// (parties and their events, the timeline of events 1 and 2 only); and verify writes nothing,
/// even on a ledger opened for writing — the projections still lag after it.
#[test]
fn a_lagging_file_verifies_as_it_is_and_is_left_lagging() {
    let mut l = lagging_ledger();
    let before = dump(&l);
    let v = verify(&mut l);
    assert!(v.ok, "{:?}", v.problems);
    assert_eq!(v.events, 6);
    assert_eq!(projected_through(&l).as_deref(), Some("2"));
    assert_eq!(dump(&l), before, "verify wrote to the file");
    l.catch_up().unwrap();
    assert_eq!(projected_through(&l), None);
    assert!(verify(&mut l).ok);
}

/// The read models of a lagging file are compared with what a bulk append leaves, not with
/// those of the whole log: a party index brought up to date behind the tool's back (part of a
/// catch-up) is a difference in `party_events`; `meta.projected_through` dropped (the other
/// part) makes the lagging read models differ from the whole log's, from `timeline` on.
#[test]
fn a_lagging_file_whose_read_models_are_partly_caught_up_differs() {
    for (table, sql) in [
        (
            "party_events",
            "INSERT INTO party_events (party, seq) VALUES ('SAU', 4)",
        ),
        (
            "timeline",
            "DELETE FROM meta WHERE key = 'projected_through'",
        ),
    ] {
        let mut l = lagging_ledger();
        l.connection().execute_batch(sql).unwrap();
        let v = verify(&mut l);
        assert!(!v.ok, "{table}");
        assert!(
            v.problems
                .iter()
                .any(|p| p.what.starts_with(&format!("read model `{table}` differs"))),
            "{table}: {:?}",
            v.problems
        );
    }
}
