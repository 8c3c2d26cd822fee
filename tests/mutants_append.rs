//! What an append does, pinned where a mutation of `src/store/append.rs` survived the
//! reference-model properties and the bulk-append tests (see `docs/testing.md`, "Mutation
//! testing"). Through the public `Ledger` API only, with the clock given to each append.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{DateTime, Duration, Utc};
use iofs_ledger::event::parse_batch;
use iofs_ledger::projection::Rule;
use iofs_ledger::store::{format_instant, AppendOptions, Appended, Ledger, StoreError};
use serde_json::{json, Value};

fn signed(party: &str, date: &str) -> Value {
    json!({"type": "statute_signed", "date": date, "party": party,
           "source": {"document": "test.txt", "quote": "A sentence."}})
}

fn append(l: &mut Ledger, lines: &[Value], opts: AppendOptions) -> Result<Appended, StoreError> {
    let text: String = lines.iter().map(|v| format!("{v}\n")).collect();
    let events = parse_batch(&text).unwrap();
    l.append(events.into_iter().map(Ok), opts)
}

fn at(t: DateTime<Utc>) -> AppendOptions {
    AppendOptions {
        now: Some(t),
        ..AppendOptions::default()
    }
}

fn instant(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// `expect_head` refuses the batch, storing nothing, exactly when the log's last seq is not
/// the one expected (behind it or beyond it), with the rule that says so; the expected head
/// appends.
#[test]
fn an_append_expecting_another_head_is_refused_and_the_expected_one_appends() {
    let mut l = Ledger::in_memory().unwrap();
    append(
        &mut l,
        &[signed("KAZ", "2014-05-01")],
        AppendOptions::default(),
    )
    .unwrap();
    for wrong in [0, 2, 7] {
        let opts = AppendOptions {
            expect_head: Some(wrong),
            ..AppendOptions::default()
        };
        match append(&mut l, &[signed("LBY", "2014-05-02")], opts) {
            Err(StoreError::Refused(r)) => {
                assert_eq!(r.len(), 1, "{r:?}");
                assert_eq!(r[0].rule, Some(Rule::ExpectedHead), "{r:?}");
                assert!(r[0].message.contains("last seq is 1"), "{r:?}");
            }
            other => panic!("expecting head {wrong}: {other:?}"),
        }
        assert_eq!(l.head().unwrap().seq, 1, "nothing stored");
    }
    let opts = AppendOptions {
        expect_head: Some(1),
        ..AppendOptions::default()
    };
    let a = append(&mut l, &[signed("LBY", "2014-05-02")], opts).unwrap();
    assert_eq!((a.first, a.last), (2, 2));
}

/// A clock behind the head's `recorded_at` by at most `CLOCK_TOLERANCE` (2 s) stamps the
/// head's instant plus one microsecond, 2 s behind included; one further behind, by as little
/// as a microsecond more, is refused and stores nothing. A clock ahead stamps its own reading.
#[test]
fn a_clock_behind_the_head_within_the_tolerance_stamps_just_after_it_and_beyond_it_is_refused() {
    let t = instant("2026-03-01T12:00:00Z");
    let mut l = Ledger::in_memory().unwrap();
    let a = append(&mut l, &[signed("KAZ", "2014-05-01")], at(t)).unwrap();
    assert_eq!(a.recorded_at, "2026-03-01T12:00:00.000000Z");
    for late in [
        Duration::seconds(2) + Duration::microseconds(1),
        Duration::seconds(3),
        Duration::days(1),
    ] {
        let e = append(&mut l, &[signed("LBY", "2014-05-02")], at(t - late)).unwrap_err();
        assert!(
            matches!(&e, StoreError::ClockBehind { head_seq: 1, head_recorded_at, .. }
                if head_recorded_at == "2026-03-01T12:00:00.000000Z"),
            "{late}: {e:?}"
        );
        assert_eq!(l.head().unwrap().seq, 1, "nothing stored");
    }
    let a = append(
        &mut l,
        &[signed("LBY", "2014-05-02")],
        at(t - Duration::seconds(2)),
    )
    .unwrap();
    assert_eq!(a.recorded_at, "2026-03-01T12:00:00.000001Z");
    let a = append(&mut l, &[signed("TUR", "2014-05-03")], at(t)).unwrap();
    assert_eq!(
        a.recorded_at, "2026-03-01T12:00:00.000002Z",
        "the head's instant itself"
    );
    let later = t + Duration::seconds(5);
    let a = append(&mut l, &[signed("SEN", "2014-05-04")], at(later)).unwrap();
    assert_eq!(a.recorded_at, format_instant(later));
}

/// A retraction or correction that names its target's `target_sha256` acts only on an event
/// whose canonical JSON has that hash: a wrong hash refuses it (the target rule, on the field
/// that names the target), storing nothing; the right one is accepted. Without the field, the
/// seq alone decides.
#[test]
fn a_target_sha256_that_is_not_the_targets_refuses_the_override() {
    let mut l = Ledger::in_memory().unwrap();
    append(
        &mut l,
        &[signed("KAZ", "2014-05-01"), signed("LBY", "2014-05-02")],
        AppendOptions::default(),
    )
    .unwrap();
    let body = |seq: i64| -> String {
        l.connection()
            .query_row("SELECT body FROM events WHERE seq = ?1", [seq], |r| {
                r.get(0)
            })
            .unwrap()
    };
    let (sha1, sha2) = (
        iofs_ledger::chain::body_sha256(&body(1)),
        iofs_ledger::chain::body_sha256(&body(2)),
    );
    let src = json!({"document": "test.txt", "quote": "A sentence."});
    let retract = |t: u64, sha: &str| {
        json!({"type": "retraction", "retracts": t, "target_sha256": sha, "reason": "misread",
               "source": src})
    };
    let correct = |t: u64, sha: &str| {
        json!({"type": "correction", "corrects": t, "target_sha256": sha, "reason": "misread",
               "replacement": signed("LBY", "2014-06-02"), "source": src})
    };
    for (line, field) in [
        (retract(1, &sha2), "retracts"),
        (correct(2, &sha1), "corrects"),
    ] {
        match append(&mut l, &[line], AppendOptions::default()) {
            Err(StoreError::Refused(r)) => {
                assert_eq!(r.len(), 1, "{r:?}");
                assert_eq!(r[0].rule, Some(Rule::TargetMustBeLive), "{r:?}");
                assert_eq!(r[0].field.as_deref(), Some(field), "{r:?}");
                assert!(r[0].message.contains("target_sha256"), "{r:?}");
            }
            other => panic!("{field}: {other:?}"),
        }
        assert_eq!(l.head().unwrap().seq, 2, "nothing stored");
    }
    let a = append(
        &mut l,
        &[retract(1, &sha1), correct(2, &sha2)],
        AppendOptions::default(),
    )
    .unwrap();
    assert_eq!((a.first, a.last), (3, 4));
    let o = l.overrides(None).unwrap();
    assert_eq!(o.retracted_by(1), Some(3));
    assert_eq!(o.corrected_by(2), [4]);
}

fn withdrawn(party: &str, date: &str) -> Value {
    json!({"type": "membership_withdrawn", "date": date, "party": party,
           "source": {"document": "test.txt", "quote": "A sentence."}})
}

fn refusal(r: Result<Appended, StoreError>) -> iofs_ledger::store::Refusal {
    match r {
        Err(StoreError::Refused(mut r)) if r.len() == 1 => r.remove(0),
        other => panic!("not one refusal: {other:?}"),
    }
}

/// A batch refused by a world rule points at the line and seq of the event of the batch that
/// breaks it, after events already in the log; when the batch makes an event already recorded
/// break a rule, the refusal names that seq, no line of the batch, and says so.
#[test]
fn a_rule_broken_by_a_batch_is_reported_at_its_line_or_at_the_recorded_event_it_breaks() {
    use iofs_ledger::event::Location;
    let mut l = Ledger::in_memory().unwrap();
    let d = AppendOptions::default;
    append(
        &mut l,
        &[signed("KAZ", "2014-05-01"), withdrawn("KAZ", "2016-01-01")],
        d(),
    )
    .unwrap();
    let r = refusal(append(
        &mut l,
        &[
            signed("LBY", "2014-05-02"),
            withdrawn("TUR", "2016-01-01"),
            signed("SEN", "2014-05-04"),
        ],
        d(),
    ));
    assert_eq!(r.location, Some(Location::Line(2)), "{r:?}");
    assert_eq!(r.seq, Some(4), "{r:?}");
    assert!(r.rule.is_some(), "{r:?}");
    assert!(!r.message.contains("already recorded"), "{r:?}");
    // Retracting the signature leaves the recorded withdrawal (seq 2) without a member.
    let r = refusal(append(
        &mut l,
        &[
            signed("LBY", "2014-05-02"),
            json!({"type": "retraction", "retracts": 1, "reason": "misread",
                   "source": {"document": "test.txt", "quote": "A sentence."}}),
        ],
        d(),
    ));
    assert_eq!((r.location, r.seq), (None, Some(2)), "{r:?}");
    assert!(r.message.contains("already recorded event seq 2"), "{r:?}");
    assert_eq!(l.head().unwrap().seq, 2, "nothing stored");
}

/// `meta.projected_through`, read straight from the file (reading it never catches up).
fn projected_through(l: &Ledger) -> Option<u64> {
    l.connection()
        .query_row(
            "SELECT value FROM meta WHERE key = 'projected_through'",
            [],
            |r| r.get::<_, String>(0),
        )
        .ok()
        .map(|v| v.parse().unwrap())
}

/// A batch far short of `DEFER_THRESHOLD` events is still a bulk append (its projections left
/// to the first reader, `projected_through` recording the head before it) once its events hold
/// `DEFER_HOLD_BYTES` of canonical JSON; a smaller batch of the same events projects as it
/// appends. Either way every event is stored and answers come out the same.
#[test]
fn a_batch_holding_the_byte_limit_of_json_defers_its_projections_a_smaller_one_does_not() {
    use iofs_ledger::store::{DEFER_HOLD_BYTES, DEFER_THRESHOLD};
    let big = |party: &str, date: &str| {
        let mut v = signed(party, date);
        v["note"] = json!("n".repeat(DEFER_HOLD_BYTES / 4));
        v
    };
    let mut l = Ledger::in_memory().unwrap();
    append(
        &mut l,
        &[signed("KAZ", "2014-05-01")],
        AppendOptions::default(),
    )
    .unwrap();
    let small = [big("LBY", "2014-05-02"), big("TUR", "2014-05-03")];
    append(&mut l, &small, AppendOptions::default()).unwrap();
    assert_eq!(projected_through(&l), None, "under the limit: projected");
    let batch = [
        big("SEN", "2014-05-04"),
        big("NGA", "2014-05-05"),
        big("EGY", "2014-05-06"),
        big("PAK", "2014-05-07"),
    ];
    assert!(batch.len() < DEFER_THRESHOLD);
    let a = append(&mut l, &batch, AppendOptions::default()).unwrap();
    assert_eq!((a.first, a.last), (4, 7));
    assert_eq!(projected_through(&l), Some(3), "at the limit: deferred");
}

/// `rebuild` derives the read models again from the log, whatever they hold, and says how many
/// events it read: after the timeline was emptied behind the ledger's back (so `state` answers
/// wrong), the answers are again those of before.
#[test]
fn rebuild_derives_the_read_models_again_and_counts_the_events_it_read() {
    use iofs_ledger::date::Day;
    use iofs_ledger::query;
    let mut l = Ledger::in_memory().unwrap();
    append(
        &mut l,
        &[
            signed("KAZ", "2014-05-01"),
            signed("LBY", "2014-05-02"),
            withdrawn("KAZ", "2016-01-01"),
        ],
        AppendOptions::default(),
    )
    .unwrap();
    let day = Day::parse("2015-06-01").unwrap();
    let state = |l: &Ledger| serde_json::to_value(query::state(l, day, None).unwrap()).unwrap();
    let before = state(&l);
    assert_eq!(before["members"]["count"], 2, "{before}");
    l.connection().execute("DELETE FROM timeline", []).unwrap();
    assert_ne!(state(&l), before, "the damage shows");
    assert_eq!(l.rebuild().unwrap(), 3);
    assert_eq!(state(&l), before);
}

/// `Appended::count` is how many events the append stored: every event of a batch, one for
/// one, none for an empty batch (whose `first` is the next seq, after `last`).
#[test]
fn an_append_counts_the_events_it_stored() {
    let mut l = Ledger::in_memory().unwrap();
    let d = AppendOptions::default;
    let a = append(
        &mut l,
        &[
            signed("KAZ", "2014-05-01"),
            signed("LBY", "2014-05-02"),
            signed("TUR", "2014-05-03"),
        ],
        d(),
    )
    .unwrap();
    assert_eq!((a.first, a.last, a.count()), (1, 3, 3));
    let a = append(&mut l, &[], d()).unwrap();
    assert_eq!((a.first, a.last, a.count()), (4, 3, 0));
    let a = append(&mut l, &[signed("SEN", "2014-05-04")], d()).unwrap();
    assert_eq!((a.first, a.last, a.count()), (4, 4, 1));
    let a = append(
        &mut l,
        &[signed("NGA", "2014-05-05"), signed("EGY", "2014-05-06")],
        d(),
    )
    .unwrap();
    assert_eq!((a.first, a.last, a.count()), (5, 6, 2));
}
