//! Corrections and retractions that change which versions of an event are live, where some of
//! the versions change the state and some do not (a meeting corrected into a signature and back,
//! a signature corrected into a meeting and then into another signature). An append refolds
//! only from overrides where some version, old or new, can change the state
//! (`append::refold_positions`); these cases hold that the skip never misses one: after each
//! step, in an append that projects as it goes and in a bulk append that defers its
//! projections, the state at every probed day equals the reference model's
//! (`tests/support/reference.rs`), the read models equal what `rebuild` derives, and `verify`
//! passes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use chrono::NaiveDate;
use iofs_ledger::audit;
use iofs_ledger::store::Ledger;
use serde_json::{json, Value};

use support::reference;
use support::*;

/// Batches of this many events or more defer their projections in this test process.
const THRESHOLD: usize = 2;

fn src() -> Value {
    json!({"document": "refold.txt", "quote": "A test event."})
}

fn signed(party: &str, date: &str) -> Value {
    json!({"type": "statute_signed", "party": party, "date": date, "source": src()})
}

fn meeting(date: &str) -> Value {
    json!({"type": "meeting_held", "organ": "general_assembly", "date": date, "source": src()})
}

fn correct(target: u64, replacement: Value) -> Value {
    json!({"type": "correction", "corrects": target, "reason": "test", "replacement": replacement, "source": src()})
}

fn retract(target: u64) -> Value {
    json!({"type": "retraction", "retracts": target, "reason": "test", "source": src()})
}

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// A filler event that changes nothing (dated late, so it never moves the replay order of the
/// events under test), to make a step a batch of at least [`THRESHOLD`].
fn filler(i: usize) -> Value {
    meeting(&format!("2020-01-{:02}", 1 + i % 28))
}

/// Appends `steps` one after another, each alone (`deferred == false`: projected as it goes)
/// or with a filler (a bulk append that defers); after each, the state at every probed day
/// equals the reference model's. At the end the read models equal `rebuild`'s and `verify`
/// passes.
fn holds(steps: &[Value], deferred: bool) {
    iofs_ledger::store::set_defer_threshold_for_tests(THRESHOLD);
    let mut l: Ledger = fresh_ledger();
    let mut log: Vec<Value> = Vec::new();
    let days = [
        "2013-01-01",
        "2013-12-09",
        "2013-12-10",
        "2014-06-01",
        "2015-01-01",
        "2019-12-31",
        "2024-12-31",
    ];
    for (i, step) in steps.iter().enumerate() {
        let mut batch = vec![step.clone()];
        if deferred {
            batch.push(filler(i));
        }
        append_values(&mut l, &batch, now_of(i))
            .unwrap_or_else(|e| panic!("step {i} {step} was refused: {e}"));
        log.extend(batch);
        for day in days {
            assert_eq!(
                state(&l, d(day), None),
                reference::state(&log, d(day), None),
                "after step {i} ({step}), as of {day}, deferred {deferred}"
            );
        }
    }
    l.catch_up().unwrap();
    let caught_up = dump(&l);
    l.rebuild().unwrap();
    assert_eq!(dump(&l), caught_up, "read models differ from rebuilt ones");
    let v = audit::verify(&mut l, None).unwrap();
    assert!(v.ok, "verify: {:?}", v.problems);
}

/// The seq a step gets: one event per step, or two (with its filler) when deferred.
fn seq(step: u64, deferred: bool) -> u64 {
    if deferred {
        2 * step + 1
    } else {
        step + 1
    }
}

fn both(make: impl Fn(bool) -> Vec<Value>) {
    for deferred in [false, true] {
        holds(&make(deferred), deferred);
    }
}

/// A meeting corrected into a signature makes a signatory; corrected again into a meeting, the
/// signatory is gone, though neither the target nor the new version changes the state (the
/// earlier correction's version did).
#[test]
fn a_meeting_corrected_into_a_signature_and_back_counts_the_signatory_only_meanwhile() {
    both(|df| {
        let m = seq(0, df);
        vec![
            meeting("2013-12-09"),
            signed("TUR", "2014-01-10"),
            correct(m, signed("KAZ", "2013-12-09")),
            correct(m, meeting("2013-12-09")),
            correct(m, meeting("2013-12-10")),
        ]
    });
}

/// A signature corrected into a meeting is no longer counted; corrected again into another
/// signature, the new party is; retracted, neither is.
#[test]
fn a_signature_corrected_into_a_meeting_then_into_another_signature_then_retracted() {
    both(|df| {
        let s = seq(0, df);
        vec![
            signed("KAZ", "2013-12-09"),
            meeting("2014-03-01"),
            correct(s, meeting("2013-12-09")),
            correct(s, signed("TUR", "2014-06-01")),
            retract(s),
        ]
    });
}

/// Overrides among meetings alone (one corrected twice, one retracted) leave the signatures'
/// state as it was, before and after them in replay order.
#[test]
fn overrides_among_meetings_leave_the_signatures_as_they_were() {
    both(|df| {
        let m1 = seq(1, df);
        let m2 = seq(2, df);
        vec![
            signed("KAZ", "2013-12-09"),
            meeting("2013-11-01"),
            meeting("2014-02-01"),
            signed("TUR", "2014-06-01"),
            correct(m1, meeting("2015-01-01")),
            correct(m1, meeting("2012-05-05")),
            retract(m2),
        ]
    });
}
