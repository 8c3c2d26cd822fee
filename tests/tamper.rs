//! `verify` against logs changed behind the tool's back, each change chosen so that only the
//! check under test can catch it: every hex digit of a stored hash, `recorded_at` moved a
//! microsecond forward and back (staying in order), and records that break a record rule but
//! carry a valid hash chain and read models rebuilt to match (so neither the chain nor the
//! read-model comparison can be what fails).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use chrono::Duration;
use iofs_ledger::audit::{self, Verification};
use iofs_ledger::chain::event_hash;
use iofs_ledger::event::Event;
use iofs_ledger::projection::Rule;
use iofs_ledger::store::{format_instant, parse_instant, Ledger};
use serde_json::{json, Value};

use support::*;

/// A ledger of five events in three batches, each batch an hour after the previous one.
fn small_ledger() -> Ledger {
    let mut l = fresh_ledger();
    let ev = |v: Value| {
        let mut v = v;
        v["source"] = source();
        v
    };
    let batches = [
        vec![
            ev(json!({"type": "statute_signed", "party": "KAZ", "date": "2010-05-05"})),
            ev(json!({"type": "statute_signed", "party": "TUR", "date": "2011"})),
        ],
        vec![ev(
            json!({"type": "claim", "about": "statement", "value": "v", "date": "2012-02"}),
        )],
        vec![
            ev(json!({"type": "statute_ratified", "party": "KAZ", "date": "2013-01-01"})),
            ev(json!({"type": "meeting_held", "organ": "general_assembly", "date": "2014"})),
        ],
    ];
    for (i, b) in batches.iter().enumerate() {
        append_values(&mut l, b, now_of(i)).unwrap();
    }
    l
}

fn verify(l: &mut Ledger) -> Verification {
    audit::verify(l, None).unwrap()
}

fn set(l: &Ledger, seq: u64, column: &str, value: &str) {
    // Drop the update trigger for the change and put it back, so that a missing trigger is
    // not what verify finds.
    let c = l.connection();
    let trigger: String = c
        .query_row(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'events_append_only_update'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    c.execute_batch("DROP TRIGGER events_append_only_update")
        .unwrap();
    c.execute(
        &format!("UPDATE events SET {column} = ?1 WHERE seq = ?2"),
        rusqlite::params![value, seq as i64],
    )
    .unwrap();
    c.execute_batch(&trigger).unwrap();
}

fn get(l: &Ledger, seq: u64, column: &str) -> String {
    l.connection()
        .query_row(
            &format!("SELECT {column} FROM events WHERE seq = ?1"),
            [seq as i64],
            |r| r.get(0),
        )
        .unwrap()
}

fn fails_at(v: &Verification, seq: u64, what: &str) {
    assert!(!v.ok, "{what}: verify passed");
    assert_eq!(v.first_bad_seq, Some(seq), "{what}: {:?}", v.problems);
}

/// Changing any one hex digit of a stored hash — the first, the last, every one between — to
/// any other digit is caught at that seq (a verify comparing only a prefix would miss most).
#[test]
fn changing_any_hex_digit_of_a_stored_hash_is_caught_at_its_seq() {
    let mut l = small_ledger();
    assert!(verify(&mut l).ok);
    let seq = 3;
    let hash = get(&l, seq, "hash");
    assert_eq!(hash.len(), 64);
    for pos in 0..hash.len() {
        for step in [1, 8] {
            let mut digits: Vec<char> = hash.chars().collect();
            let d = digits[pos].to_digit(16).unwrap();
            digits[pos] = std::char::from_digit((d + step) % 16, 16).unwrap();
            set(&l, seq, "hash", &digits.iter().collect::<String>());
            fails_at(&verify(&mut l), seq, &format!("hex digit {pos} + {step}"));
        }
    }
    set(&l, seq, "hash", &hash);
    assert!(verify(&mut l).ok, "the original hash restored");
}

/// Moving an event's `recorded_at` one microsecond later or earlier, or a whole day (still
/// after its predecessor and before its successor, so the order check cannot be what fails),
/// is caught at its seq: the instant is part of the hash.
#[test]
fn moving_recorded_at_forward_or_back_is_caught_at_its_seq() {
    let mut l = small_ledger();
    let seq = 3;
    let at = get(&l, seq, "recorded_at");
    let t = parse_instant(&at).unwrap();
    let (prev, next) = (
        parse_instant(&get(&l, seq - 1, "recorded_at")).unwrap(),
        parse_instant(&get(&l, seq + 1, "recorded_at")).unwrap(),
    );
    for delta in [
        Duration::microseconds(1),
        Duration::microseconds(-1),
        Duration::minutes(20),
        Duration::minutes(-20),
    ] {
        let moved = t + delta;
        assert!(prev < moved && moved < next, "{delta} keeps the order");
        set(&l, seq, "recorded_at", &format_instant(moved));
        let v = verify(&mut l);
        fails_at(&v, seq, &format!("recorded_at moved by {delta}"));
        assert!(
            v.problems
                .iter()
                .any(|p| p.seq == Some(seq) && p.what.contains("hash")),
            "moved by {delta}: {:?}",
            v.problems
        );
    }
    set(&l, seq, "recorded_at", &at);
    assert!(verify(&mut l).ok);
}

/// Appends `body` as the next seq with a valid chain hash, behind `append`'s back (so no
/// record rule is checked), recorded `recorded_at`; then rebuilds the read models so that they
/// match the log.
fn smuggle(l: &mut Ledger, body: Value, recorded_at: &str) -> u64 {
    let head = l.head().unwrap();
    let seq = head.seq + 1;
    let canonical = Event::from_json(&body.to_string())
        .unwrap_or_else(|e| panic!("{body}: {e}"))
        .canonical_json();
    let hash = event_hash(&head.hash, seq, recorded_at, &canonical);
    l.connection()
        .execute(
            "INSERT INTO events (seq, recorded_at, body, hash) VALUES (?1, ?2, ?3, ?4)",
            rusqlite::params![seq as i64, recorded_at, canonical, hash],
        )
        .unwrap();
    let _ = l.rebuild();
    seq
}

/// A log with a valid chain and matching read models that breaks a record rule fails
/// `verify` at the offending seq, naming the rule: a second retraction of the same event, a
/// retraction of a retraction, a correction of a retracted event, a target after the event
/// itself, and dates (own, end, a replacement's) after the day of recording.
#[test]
fn verify_holds_every_record_rule_in_a_log_whose_chain_is_valid() {
    let retraction =
        |t: u64| json!({"type": "retraction", "retracts": t, "reason": "r", "source": source()});
    let claim = |date: &str| json!({"type": "claim", "about": "statement", "value": "v", "date": date, "source": source()});
    let later = format_instant(now_of(10));
    let target_rule = Rule::TargetMustBeLive.text();
    let date_rule = Rule::NoFutureDates.text();
    let cases: Vec<(&str, Vec<Value>, &str)> = vec![
        (
            "a second retraction of seq 3",
            vec![retraction(3), retraction(3)],
            target_rule,
        ),
        (
            "a retraction of a retraction",
            vec![retraction(3), retraction(6)],
            target_rule,
        ),
        (
            "a correction of a retracted event",
            vec![
                retraction(3),
                json!({"type": "correction", "corrects": 3, "replacement": claim("2012"), "reason": "r", "source": source()}),
            ],
            target_rule,
        ),
        ("a target after the event", vec![retraction(9)], target_rule),
        (
            "a date after the day of recording",
            vec![claim("2025-01-02")],
            date_rule,
        ),
        (
            "an end date after the day of recording",
            vec![
                json!({"type": "meeting_held", "organ": "general_assembly", "date": "2024-12-30",
                "end_date": "2025-01-02", "source": source()}),
            ],
            date_rule,
        ),
        (
            "a replacement dated after the day of recording",
            vec![
                json!({"type": "correction", "corrects": 3, "replacement": claim("2025-02"), "reason": "r", "source": source()}),
            ],
            date_rule,
        ),
    ];
    for (what, events, rule) in cases {
        let mut l = small_ledger();
        let mut bad = 0;
        for e in events {
            bad = smuggle(&mut l, e, &later);
        }
        let v = verify(&mut l);
        fails_at(&v, bad, what);
        assert!(
            v.problems
                .iter()
                .any(|p| p.seq == Some(bad) && p.what.contains(rule)),
            "{what}: no problem names rule {rule:?} at seq {bad}: {:?}",
            v.problems
        );
    }
}
