//! `verify`, `diff` and the audit report where the other tests do not pin them, written where a
//! mutation of `src/audit.rs` survived them (see `docs/testing.md`, "Mutation testing"): a
//! noted head checked exactly, the clock's tolerance, the day each batch is held to, events
//! lost from the end of the log, every field of a `diff`, and the report's amendments, dates,
//! placeholders, live claims, contradictions and summary counts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use iofs_ledger::audit::{self, Verification};
use iofs_ledger::chain::GENESIS;
use iofs_ledger::date::Day;
use iofs_ledger::event::parse_batch;
use iofs_ledger::store::{format_instant, AppendOptions, Ledger, CLOCK_TOLERANCE};
use serde_json::{json, Value};

fn src() -> Value {
    json!({"document": "test.txt", "quote": "A sentence."})
}

/// `v` with a source.
fn ev(mut v: Value) -> Value {
    v["source"] = src();
    v
}

fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0).single().unwrap()
}

fn append(l: &mut Ledger, values: &[Value], now: DateTime<Utc>) {
    let text: String = values.iter().map(|v| format!("{v}\n")).collect();
    let events = parse_batch(&text).unwrap();
    l.append(
        events.into_iter().map(Ok),
        AppendOptions {
            expect_head: None,
            now: Some(now),
        },
    )
    .unwrap();
}

fn day(s: &str) -> Day {
    Day::parse(s).unwrap()
}

fn hash_of(l: &Ledger, seq: u64) -> String {
    l.connection()
        .query_row(
            "SELECT hash FROM events WHERE seq = ?1",
            [seq as i64],
            |r| r.get(0),
        )
        .unwrap()
}

/// Five events in three batches, the last recorded 2025-01-01T02:00Z.
fn small_ledger() -> Ledger {
    let mut l = Ledger::in_memory().unwrap();
    append(
        &mut l,
        &[
            ev(json!({"type": "statute_signed", "party": "KAZ", "date": "2010-05-05"})),
            ev(json!({"type": "statute_signed", "party": "TUR", "date": "2011"})),
        ],
        at(2025, 1, 1, 0),
    );
    append(
        &mut l,
        &[ev(
            json!({"type": "claim", "about": "statement", "value": "v", "date": "2012-02"}),
        )],
        at(2025, 1, 1, 1),
    );
    append(
        &mut l,
        &[
            ev(json!({"type": "statute_ratified", "party": "KAZ", "date": "2013-01-01"})),
            ev(json!({"type": "meeting_held", "organ": "general_assembly", "date": "2014"})),
        ],
        at(2025, 1, 1, 2),
    );
    l
}

fn verify(l: &mut Ledger, since: Option<(u64, &str)>) -> Verification {
    audit::verify_at(l, since, at(2025, 6, 1, 0)).unwrap()
}

fn problem_at<'a>(v: &'a Verification, seq: Option<u64>, words: &str) -> &'a str {
    &v.problems
        .iter()
        .find(|p| p.seq == seq && p.what.contains(words))
        .unwrap_or_else(|| panic!("no problem at {seq:?} saying {words:?}: {:?}", v.problems))
        .what
}

/// A sound log verifies with its head (seq and hash) and its number of events.
#[test]
fn verify_reports_the_head_and_the_number_of_events() {
    let mut l = small_ledger();
    let v = verify(&mut l, None);
    assert!(v.ok, "{:?}", v.problems);
    assert_eq!(
        (v.events, v.head_seq, v.head_hash.as_str(), v.first_bad_seq),
        (5, 5, hash_of(&l, 5).as_str(), None)
    );
}

/// `--since-head`: the empty log's head and any head the log still holds (its own hash) pass;
/// the seq 0 with another hash than the genesis hash, a seq with another hash, and a seq
/// beyond the head are each reported, at the seq concerned.
#[test]
fn a_noted_head_passes_exactly_when_the_log_still_holds_it() {
    let mut l = small_ledger();
    for (seq, hash) in [
        (0, GENESIS.to_string()),
        (3, hash_of(&l, 3)),
        (5, hash_of(&l, 5)),
    ] {
        let v = verify(&mut l, Some((seq, &hash)));
        assert!(v.ok, "noted {seq}:{hash}: {:?}", v.problems);
    }
    let v = verify(&mut l, Some((0, "00ab")));
    assert!(!v.ok);
    problem_at(&v, None, "is not the empty log's head");
    assert_eq!(v.problems.len(), 1, "{:?}", v.problems);

    let h4 = hash_of(&l, 4);
    let v = verify(&mut l, Some((3, &h4)));
    assert!(!v.ok);
    assert_eq!(v.first_bad_seq, Some(3));
    problem_at(
        &v,
        Some(3),
        "the log was rewritten since that head was noted",
    );
    assert_eq!(v.problems.len(), 1, "{:?}", v.problems);

    let v = verify(&mut l, Some((9, &h4)));
    assert!(!v.ok);
    assert_eq!(v.first_bad_seq, Some(9));
    problem_at(&v, Some(9), "is no longer in the log: it shrank");
    assert_eq!(v.problems.len(), 1, "{:?}", v.problems);
}

/// A `recorded_at` up to the clock tolerance after the verifying clock's `now` is not in the
/// future; one microsecond more is, at the first seq so recorded.
#[test]
fn recorded_at_is_in_the_future_only_past_the_clock_tolerance() {
    let mut l = small_ledger();
    let last = at(2025, 1, 1, 2);
    for now in [last, last - CLOCK_TOLERANCE, last + Duration::days(1)] {
        let v = audit::verify_at(&mut l, None, now).unwrap();
        assert!(v.ok, "now {}: {:?}", format_instant(now), v.problems);
    }
    let now = last - CLOCK_TOLERANCE - Duration::microseconds(1);
    let v = audit::verify_at(&mut l, None, now).unwrap();
    assert!(!v.ok);
    assert_eq!(v.first_bad_seq, Some(4), "{:?}", v.problems);
    problem_at(&v, Some(4), "is later than now");
    problem_at(&v, Some(5), "is later than now");
    assert_eq!(v.problems.len(), 2, "{:?}", v.problems);
}

/// Each batch's dates are held to the day of its own `recorded_at`, not to an earlier batch's:
/// an event dated after the first batch's day but by its own is sound.
#[test]
fn each_batch_is_held_to_its_own_day_of_recording() {
    let mut l = small_ledger();
    append(
        &mut l,
        &[ev(
            json!({"type": "claim", "about": "statement", "value": "w", "date": "2025-02-15"}),
        )],
        at(2025, 3, 1, 0),
    );
    append(
        &mut l,
        &[ev(
            json!({"type": "meeting_held", "organ": "general_assembly", "date": "2025-03-01"}),
        )],
        at(2025, 3, 1, 5),
    );
    let v = verify(&mut l, None);
    assert!(v.ok, "{:?}", v.problems);
    assert_eq!(v.events, 7);
}

fn without_trigger(l: &Ledger, trigger: &str, statement: &str) {
    let c = l.connection();
    let sql: String = c
        .query_row(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?1",
            [trigger],
            |r| r.get(0),
        )
        .unwrap();
    c.execute_batch(&format!("DROP TRIGGER {trigger}; {statement}"))
        .unwrap();
    c.execute_batch(&sql).unwrap();
}

/// The last event deleted behind the tool's back leaves a sound chain, but the read models
/// still name it: that is reported at the seq after the new head as events removed, with no
/// advice to `rebuild` (which would erase the evidence). A read model changed while the log is
/// whole is a difference that `rebuild` mends, and no loss of events.
#[test]
fn events_lost_from_the_end_are_told_from_a_read_model_that_differs() {
    let mut l = small_ledger();
    without_trigger(
        &l,
        "events_append_only_delete",
        "DELETE FROM events WHERE seq = 5",
    );
    let v = verify(&mut l, None);
    assert!(!v.ok);
    assert_eq!(v.head_seq, 4);
    assert_eq!(v.first_bad_seq, Some(5), "{:?}", v.problems);
    problem_at(
        &v,
        Some(5),
        "the read models name seq 5 but the log ends at seq 4: events were removed",
    );
    assert!(
        v.problems
            .iter()
            .all(|p| !p.what.contains("run `iofs-ledger rebuild`")),
        "{:?}",
        v.problems
    );

    let mut l = small_ledger();
    l.connection()
        .execute_batch("DELETE FROM timeline WHERE key = 'count:members'")
        .unwrap();
    let v = verify(&mut l, None);
    assert!(!v.ok);
    assert_eq!(v.head_seq, 5);
    let what = problem_at(
        &v,
        Some(1),
        "read model `timeline` differs from a fresh replay",
    );
    assert!(what.ends_with("; run `iofs-ledger rebuild`"), "{what}");
    assert!(
        v.problems.iter().all(|p| !p.what.contains("removed")),
        "{:?}",
        v.problems
    );
}

/// A file whose read-model table was dropped is reported (the schema altered, the read models
/// not compared), not an error: `verify` still answers for the rest of the file.
#[test]
fn a_dropped_read_model_table_is_reported_not_an_error() {
    let mut l = small_ledger();
    l.connection().execute_batch("DROP TABLE windows").unwrap();
    let v = audit::verify_at(&mut l, None, at(2025, 6, 1, 0))
        .unwrap_or_else(|e| panic!("verify failed instead of reporting: {e}"));
    assert!(!v.ok);
    assert_eq!(v.head_seq, 5);
    problem_at(&v, None, "the file was altered outside iofs-ledger");
    problem_at(&v, None, "read models not compared");
}

/// A ledger in which, between the end of 2010 and the end of 2011, KAZ withdraws and signs
/// again (a new membership, same party), TUR ratifies, OMN (an observer) signs, withdraws and
/// is admitted again, the Statute enters into force, the Director General is appointed again
/// (the same person) and a new Executive Board is elected.
fn changing_ledger() -> Ledger {
    let mut l = Ledger::in_memory().unwrap();
    let board = |chair: &str, member: &str, date: &str| {
        ev(
            json!({"type": "board_elected", "organ": "executive_board", "date": date,
            "seats": [{"party": chair, "role": "chair"}, {"party": member, "role": "member"}]}),
        )
    };
    let dg = |date: &str| {
        ev(
            json!({"type": "officer_appointed", "office": "director_general", "person": "A B",
            "term_years": 4, "date": date}),
        )
    };
    let party = |t: &str, p: &str, date: &str| ev(json!({"type": t, "party": p, "date": date}));
    append(
        &mut l,
        &[
            party("statute_signed", "KAZ", "2010-01-01"),
            party("statute_signed", "TUR", "2010-02-01"),
            party("statute_ratified", "KAZ", "2010-03-01"),
            party("observer_admitted", "OMN", "2010-03-02"),
            dg("2010-04-01"),
            board("KAZ", "TUR", "2010-05-01"),
        ],
        at(2024, 1, 1, 0),
    );
    append(
        &mut l,
        &[
            party("membership_withdrawn", "KAZ", "2011-01-01"),
            party("statute_ratified", "TUR", "2011-02-01"),
            party("statute_signed", "OMN", "2011-03-01"),
            party("membership_withdrawn", "OMN", "2011-04-01"),
            party("observer_admitted", "OMN", "2011-05-01"),
            party("statute_signed", "KAZ", "2011-06-01"),
            ev(json!({"type": "statute_entered_into_force", "date": "2011-07-01"})),
            dg("2011-08-01"),
            board("TUR", "KAZ", "2011-09-01"),
        ],
        at(2024, 1, 2, 0),
    );
    l
}

/// `diff` lists a party that left and signed again both as left (its old membership) and as
/// joined (its new one), and one member through both days in neither; likewise observers and
/// ratifications; the Statute's status, the Director General (a reappointment of the same
/// person counts) and the board when they changed, and none of them when nothing did.
#[test]
fn diff_names_each_change_between_two_days_and_nothing_else() {
    let l = changing_ledger();
    let d = audit::diff(&l, day("2010-12-31"), day("2011-12-31"), None).unwrap();
    let codes_seqs = |v: Vec<(String, u64)>| v;
    assert_eq!(
        (d.from.as_str(), d.to.as_str()),
        ("2010-12-31", "2011-12-31")
    );
    assert_eq!(d.member_count, (2, 2));
    assert_eq!(
        codes_seqs(d.joined.iter().map(|m| (m.code.clone(), m.seq)).collect()),
        [("KAZ".to_string(), 12)]
    );
    assert_eq!(
        codes_seqs(d.left.iter().map(|m| (m.code.clone(), m.seq)).collect()),
        [("KAZ".to_string(), 1)]
    );
    assert_eq!(
        codes_seqs(d.ratified.iter().map(|m| (m.code.clone(), m.seq)).collect()),
        [("TUR".to_string(), 8)]
    );
    assert_eq!(
        codes_seqs(
            d.observers_admitted
                .iter()
                .map(|m| (m.code.clone(), m.seq))
                .collect()
        ),
        [("OMN".to_string(), 11)]
    );
    assert_eq!(
        codes_seqs(
            d.observers_ended
                .iter()
                .map(|m| (m.code.clone(), m.seq))
                .collect()
        ),
        [("OMN".to_string(), 4)]
    );
    assert_eq!(d.statute_in_force, Some((false, true)));
    assert_eq!(
        d.director_general,
        Some((Some("A B".to_string()), Some("A B".to_string())))
    );
    assert_eq!(d.director_general_term_ended, (None, None));
    let (a, b) = d.executive_board.expect("the board changed");
    assert_eq!(
        (a.seq, a.chair.as_deref(), b.seq, b.chair.as_deref()),
        (Some(6), Some("KAZ"), Some(15), Some("TUR"))
    );
    assert_eq!(d.known_at, None);

    let d = audit::diff(
        &l,
        day("2011-10-01"),
        day("2011-12-31"),
        Some("2024-01-02T00:00:00.000000Z"),
    )
    .unwrap();
    assert_eq!(d.member_count, (2, 2));
    assert!(
        d.joined.is_empty()
            && d.left.is_empty()
            && d.ratified.is_empty()
            && d.observers_admitted.is_empty()
            && d.observers_ended.is_empty(),
        "{d:?}"
    );
    assert_eq!(
        (d.statute_in_force, d.director_general, d.executive_board),
        (None, None, None)
    );
    assert_eq!(d.known_at.as_deref(), Some("2024-01-02T00:00:00.000000Z"));
}

/// A ledger whose report exercises every list: claims that hold, fail or are statements,
/// alone or sharing a topic; an inexact date, an inferred one; a placeholder party; a claim
/// retracted, one corrected twice.
fn reported_ledger() -> Ledger {
    let mut l = Ledger::in_memory().unwrap();
    let claim = |about: &str, value: Value, topic: &str| {
        ev(
            json!({"type": "claim", "about": about, "value": value, "date": "2010-06-01", "topic": topic}),
        )
    };
    let statement = |value: &str, topic: &str| claim("statement", json!(value), topic);
    append(
        &mut l,
        &[
            ev(json!({"type": "statute_signed", "party": "KAZ", "date": "2010-01-01"})),
            claim("member_count", json!(1), "one"),
            claim("member_count", json!(5), "two"),
            statement("x", "three"),
            statement("y", "four"),
            statement("z", "four"),
            claim("member_count", json!(1), "five"),
            claim("member_count", json!(1), "five"),
            ev(
                json!({"type": "statute_signed", "party": "unidentified:someone", "date": "2010-08"}),
            ),
            ev(
                json!({"type": "organisation_established", "date": "2009-05-01", "inferred": "the year of a report"}),
            ),
            statement("to be retracted", "gone"),
            statement("to be corrected", "fixed"),
        ],
        at(2024, 1, 1, 0),
    );
    let correction = |value: &str| {
        ev(
            json!({"type": "correction", "corrects": 12, "reason": format!("now {value}"),
            "replacement": statement(value, "fixed")}),
        )
    };
    append(
        &mut l,
        &[
            ev(json!({"type": "retraction", "retracts": 11, "reason": "misread"})),
            correction("first fix"),
            correction("second fix"),
        ],
        at(2024, 1, 2, 0),
    );
    l
}

/// The report counts every event; lists each retraction and correction; checks only the claims
/// that stand (not a retracted one, not a correction since replaced); lists the dates that are
/// not a day or are inferred, and the placeholder parties; reports a topic when a claim on it
/// fails, or when more than one claim shares it and one cannot be checked; and its summary
/// counts what the lists hold.
#[test]
fn the_report_lists_what_stands_and_its_summary_counts_it() {
    let l = reported_ledger();
    let r = audit::report(&l, None).unwrap();
    assert_eq!(r.events, 15);
    assert_eq!(r.head, format!("15:{}", hash_of(&l, 15)));
    let amendments: Vec<_> = r
        .amendments
        .iter()
        .map(|a| (a.seq, a.kind.as_str(), a.target, a.reason.as_str()))
        .collect();
    assert_eq!(
        amendments,
        [
            (13, "retraction", 11, "misread"),
            (14, "correction", 12, "now first fix"),
            (15, "correction", 12, "now second fix"),
        ]
    );
    assert!(r
        .amendments
        .iter()
        .all(|a| a.recorded_at == "2024-01-02T00:00:00.000000Z"));
    let claims: Vec<_> = r
        .claims
        .iter()
        .map(|c| (c.seq, c.claimed.clone(), c.replay.clone(), c.holds))
        .collect();
    let v = |x: Value| x;
    assert_eq!(
        claims,
        [
            (2, v(json!(1)), v(json!(1)), Some(true)),
            (3, v(json!(5)), v(json!(1)), Some(false)),
            (4, v(json!("x")), Value::Null, None),
            (5, v(json!("y")), Value::Null, None),
            (6, v(json!("z")), Value::Null, None),
            (7, v(json!(1)), v(json!(1)), Some(true)),
            (8, v(json!(1)), v(json!(1)), Some(true)),
            (15, v(json!("second fix")), Value::Null, None),
        ]
    );
    let contradictions: Vec<_> = r
        .contradictions
        .iter()
        .map(|c| (c.topic.as_str(), c.claims.clone(), c.any_fails))
        .collect();
    assert_eq!(
        contradictions,
        [("four", vec![5, 6], false), ("two", vec![3], true)]
    );
    let dates: Vec<_> = r
        .dates
        .iter()
        .map(|d| (d.seq, d.kind.as_str(), d.inferred.as_deref()))
        .collect();
    assert_eq!(
        dates,
        [
            (9, "statute_signed", None),
            (10, "organisation_established", Some("the year of a report")),
        ]
    );
    let placeholders: Vec<_> = r
        .placeholders
        .iter()
        .map(|p| (p.party.as_str(), p.seqs.clone()))
        .collect();
    assert_eq!(placeholders, [("unidentified:someone", vec![9])]);

    let s = r.summary();
    assert_eq!(
        (
            s.events,
            s.head == r.head,
            s.claims,
            s.claims_disagreeing,
            s.claims_unchecked,
            s.contradictions,
        ),
        (15, true, 8, 1, 4, 2)
    );
    assert_eq!(
        (
            s.dates_not_exact,
            s.dates_inferred,
            s.placeholders,
            s.amendments,
            s.entry_into_force_agrees,
        ),
        (2, 1, 1, 3, None)
    );
}

/// `small_ledger`'s events in a file whose schema version was set back to the previous one (its
/// read models are then not this build's, so `verify` does not compare them), optionally with
/// the last event deleted behind the tool's back (triggers restored).
fn older_file(dir: &std::path::Path, lose_last: bool) -> std::path::PathBuf {
    let db = dir.join("l.db");
    let small = small_ledger();
    let lines: Vec<String> = (1..=5)
        .map(|s| {
            small
                .connection()
                .query_row("SELECT body FROM events WHERE seq = ?1", [s], |r| r.get(0))
                .unwrap()
        })
        .collect();
    Ledger::create(&db, |l| {
        for (i, line) in lines.iter().enumerate() {
            let now = at(2025, 1, 1, i as u32);
            l.append(
                parse_batch(line).unwrap().into_iter().map(Ok),
                AppendOptions {
                    expect_head: None,
                    now: Some(now),
                },
            )?;
        }
        Ok(())
    })
    .unwrap();
    let l = iofs_ledger::store::Ledger::open(&db, iofs_ledger::store::Access::ReadWrite).unwrap();
    if lose_last {
        without_trigger(
            &l,
            "events_append_only_delete",
            "DELETE FROM events WHERE seq = 5",
        );
    }
    l.connection()
        .execute_batch(&format!(
            "PRAGMA user_version = {};",
            iofs_ledger::store::schema::SCHEMA_VERSION - 1
        ))
        .unwrap();
    db
}

/// On a file of the previous schema version, whose read models `verify` does not compare, it
/// still asks them whether they name events past the log's head: the last event deleted is
/// reported as events removed (seq 5 named, the log ending at 4); the whole file has no such
/// problem.
#[test]
fn events_lost_from_an_older_file_are_told_without_comparing_its_read_models() {
    for lose_last in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let db = older_file(dir.path(), lose_last);
        let mut l =
            iofs_ledger::store::Ledger::open(&db, iofs_ledger::store::Access::Inspect).unwrap();
        let v = verify(&mut l, None);
        let removed: Vec<&str> = v
            .problems
            .iter()
            .filter(|p| p.what.contains("events were removed"))
            .map(|p| p.what.as_str())
            .collect();
        if lose_last {
            assert_eq!(v.head_seq, 4);
            problem_at(
                &v,
                Some(5),
                "the read models name seq 5 but the log ends at seq 4: events were removed",
            );
        } else {
            assert!(removed.is_empty(), "{removed:?}");
        }
    }
}
