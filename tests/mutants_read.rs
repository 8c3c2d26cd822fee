//! Reads of `store::read` that the reference-model properties and the answers' tests do not
//! pin, written where a mutation of `src/store/read.rs` survived them (see `docs/testing.md`,
//! "Mutation testing"). Everything goes through the public `Ledger` API, on small ledgers
//! whose every answer is worked out by hand in the test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use iofs_ledger::event::parse_batch;
use iofs_ledger::store::{Access, AppendOptions, Ledger};
use serde_json::{json, Value};

fn src() -> Value {
    json!({"document": "test.txt", "quote": "A sentence."})
}

fn signed(party: &str, date: &str) -> Value {
    json!({"type": "statute_signed", "date": date, "party": party, "source": src()})
}

fn retraction(target: u64) -> Value {
    json!({"type": "retraction", "retracts": target, "reason": "misread", "source": src()})
}

fn correction(target: u64, replacement: Value) -> Value {
    json!({"type": "correction", "corrects": target, "reason": "misread",
           "replacement": replacement, "source": src()})
}

fn append(l: &mut Ledger, lines: &[Value]) {
    let text: String = lines.iter().map(|v| format!("{v}\n")).collect();
    let events = parse_batch(&text).unwrap();
    l.append(events.into_iter().map(Ok), AppendOptions::default())
        .unwrap();
}

fn ledger_of(lines: &[Value]) -> Ledger {
    let mut l = Ledger::in_memory().unwrap();
    append(&mut l, lines);
    l
}

fn file_ledger(path: &Path, lines: &[Value]) {
    let lines = lines.to_vec();
    Ledger::create(path, move |l| {
        append(l, &lines);
        Ok(())
    })
    .unwrap();
}

/// `Overrides::targets` names each event that a retraction or correction acts on, once,
/// however many act on it, and no other event.
#[test]
fn the_overrides_name_every_target_once_and_nothing_else() {
    let l = ledger_of(&[
        signed("KAZ", "2014-05-01"),
        signed("LBY", "2014-05-02"),
        signed("TUR", "2014-05-03"),
        retraction(1),
        correction(2, signed("LBY", "2014-06-02")),
        correction(2, signed("LBY", "2014-07-02")),
    ]);
    let mut targets: Vec<u64> = l.overrides(None).unwrap().targets().collect();
    targets.sort_unstable();
    assert_eq!(targets, [1, 2]);
    // As known up to seq 4: only the retraction.
    let targets: Vec<u64> = l.overrides(Some(4)).unwrap().targets().collect();
    assert_eq!(targets, [1]);
    assert_eq!(l.overrides(Some(3)).unwrap().targets().count(), 0);
}

/// Every read inside one `snapshot` sees the file as it was when the first of them ran: an
/// append committed meanwhile by another connection is not seen until the snapshot ends.
#[test]
fn a_read_snapshot_sees_one_state_of_the_file_however_many_reads_it_makes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l.db");
    file_ledger(&path, &[signed("KAZ", "2014-05-01")]);
    let reader = Ledger::open(&path, Access::ReadWrite).unwrap();
    let mut writer = Ledger::open(&path, Access::ReadWrite).unwrap();
    let (before, during) = reader
        .snapshot(|| {
            let before = reader.head()?;
            append(&mut writer, &[signed("LBY", "2014-05-02")]);
            Ok((before, reader.head()?))
        })
        .unwrap();
    assert_eq!(before.seq, 1);
    assert_eq!(
        during, before,
        "a read inside the snapshot saw a later append"
    );
    assert_eq!(
        reader.head().unwrap().seq,
        2,
        "after the snapshot, it is seen"
    );
}

/// Sets one column of a stored row to the SQL expression `value` behind the append-only
/// trigger's back, and puts the trigger back: a file altered outside the tool.
fn alter(l: &Ledger, seq: u64, column: &str, value: &str) {
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
        &format!("UPDATE events SET {column} = {value} WHERE seq = ?1"),
        [seq as i64],
    )
    .unwrap();
    c.execute_batch(&trigger).unwrap();
}

/// `for_each_raw` hands over every stored row in seq order exactly as stored (the same
/// strings `event` reads back, unparsed) and says which column is not UTF-8 text: a BLOB is
/// read as its (lossy) text and named as a BLOB, text that is not UTF-8 is read lossily and
/// named so; a readable row has no note.
#[test]
fn the_raw_rows_are_the_stored_columns_with_a_note_for_each_that_is_not_text() {
    let l = ledger_of(&[
        signed("KAZ", "2014-05-01"),
        signed("LBY", "2014-05-02"),
        signed("TUR", "2014-05-03"),
        signed("SEN", "2014-05-04"),
    ]);
    let stored: Vec<_> = (1..=4).map(|s| l.event(s).unwrap().unwrap()).collect();
    let bodies: Vec<String> = (1..=4)
        .map(|s| {
            l.connection()
                .query_row("SELECT body FROM events WHERE seq = ?1", [s], |r| r.get(0))
                .unwrap()
        })
        .collect();
    alter(&l, 2, "body", "CAST(body AS BLOB)");
    alter(&l, 3, "recorded_at", "CAST(X'61FF62' AS TEXT)");
    alter(&l, 4, "hash", "X'61FF62'");
    let mut rows = Vec::new();
    l.for_each_raw(|r| {
        rows.push(r);
        Ok(())
    })
    .unwrap();
    assert_eq!(rows.iter().map(|r| r.seq).collect::<Vec<_>>(), [1, 2, 3, 4]);
    let r = &rows[0];
    assert_eq!(
        (&r.recorded_at, &r.body, &r.hash),
        (&stored[0].recorded_at, &bodies[0], &stored[0].hash)
    );
    assert_eq!(r.unreadable, None);
    let r = &rows[1];
    assert_eq!(r.body, bodies[1], "a BLOB body is read as its text");
    assert_eq!(r.hash, stored[1].hash);
    assert_eq!(r.unreadable.as_deref(), Some("body as a BLOB, not text"));
    let r = &rows[2];
    assert_eq!(r.recorded_at, "a\u{fffd}b");
    assert_eq!((&r.body, &r.hash), (&bodies[2], &stored[2].hash));
    assert!(
        r.unreadable
            .as_deref()
            .is_some_and(|u| u.starts_with("recorded_at is not valid UTF-8")),
        "{r:?}"
    );
    let r = &rows[3];
    assert_eq!(r.hash, "a\u{fffd}b");
    assert_eq!(
        r.unreadable.as_deref(),
        Some("hash as a BLOB, not text"),
        "the first thing wrong with a column is what is said"
    );
}

/// `fact_at` answers from the read models the fact a key holds at a day: none before the
/// first event that sets it, that event's fact from its day on, and the next event's fact
/// from the next event's day on.
#[test]
fn fact_at_is_the_fact_the_key_holds_at_the_day() {
    use iofs_ledger::date::Day;
    use iofs_ledger::party::Party;
    use iofs_ledger::projection::{Fact, Key};
    let l = ledger_of(&[
        signed("KAZ", "2014-05-01"),
        signed("LBY", "2014-05-02"),
        json!({"type": "membership_withdrawn", "date": "2016-01-01", "party": "KAZ",
               "source": src()}),
    ]);
    let kaz = Key::Member(Party::parse("KAZ").unwrap());
    let at = |d: &str| l.fact_at(&kaz, Day::parse(d).unwrap()).unwrap();
    assert_eq!(at("2014-04-30"), None);
    for d in ["2014-05-01", "2015-12-31"] {
        assert!(
            matches!(
                at(d),
                Some(Fact::Member {
                    seq: 1,
                    ordinal: 1,
                    ..
                })
            ),
            "{d}: {:?}",
            at(d)
        );
    }
    assert!(
        matches!(at("2016-01-01"), Some(Fact::Withdrawn { seq: 3, .. })),
        "{:?}",
        at("2016-01-01")
    );
    let lby = Key::Member(Party::parse("LBY").unwrap());
    assert!(matches!(
        l.fact_at(&lby, Day::parse("2030-01-01").unwrap()).unwrap(),
        Some(Fact::Member {
            seq: 2,
            ordinal: 2,
            ..
        })
    ));
}

/// A party's events are those naming it and the retractions and corrections of them (whose own
/// fields name no party), in seq order; `party_event_count` and `for_each_party_event` agree
/// with them, and with a `max_seq` both stop at it.
#[test]
fn a_partys_events_are_those_naming_it_and_the_overrides_of_them_in_seq_order() {
    use iofs_ledger::party::Party;
    let l = ledger_of(&[
        signed("KAZ", "2014-05-01"),
        signed("LBY", "2014-05-02"),
        retraction(1),
        correction(2, signed("LBY", "2014-06-02")),
        signed("TUR", "2014-05-03"),
        signed("KAZ", "2015-01-01"),
    ]);
    let seqs_of = |code: &str, max: u64| {
        let p = Party::parse(code).unwrap();
        let mut each = Vec::new();
        l.for_each_party_event(&p, max, |e| {
            each.push(e.seq);
            Ok(())
        })
        .unwrap();
        assert_eq!(
            l.party_event_count(&p, max).unwrap(),
            each.len() as u64,
            "{code} up to {max}"
        );
        if max == u64::MAX {
            let all = l.party_events(&p).unwrap();
            assert_eq!(all.iter().map(|e| e.seq).collect::<Vec<_>>(), each);
            for e in &all {
                assert_eq!(Some(e), l.event(e.seq).unwrap().as_ref());
            }
        }
        each
    };
    assert_eq!(seqs_of("KAZ", u64::MAX), [1, 3, 6]);
    assert_eq!(seqs_of("LBY", u64::MAX), [2, 4]);
    assert_eq!(seqs_of("TUR", u64::MAX), [5]);
    assert_eq!(seqs_of("SEN", u64::MAX), Vec::<u64>::new());
    assert_eq!(seqs_of("KAZ", 5), [1, 3]);
    assert_eq!(seqs_of("KAZ", 2), [1]);
    assert_eq!(seqs_of("LBY", 3), [2]);
    assert_eq!(seqs_of("KAZ", 0), Vec::<u64>::new());
}

fn meeting(organ: &str, date: &str) -> Value {
    json!({"type": "meeting_held", "date": date, "organ": organ, "source": src()})
}

/// `events_between` gives the live world events of the types asked (any type when none is
/// named) whose day lies in the range, bounds included, in replay order: a retracted event is
/// left out, a corrected one appears as its latest correction on the replacement's day; with
/// `max_seq`, as known then (an override recorded later does not count, a later event does
/// not appear). `for_each_event_between` hands over the same events.
#[test]
fn events_between_are_the_live_events_of_the_types_in_the_range_in_replay_order() {
    use iofs_ledger::date::Day;
    let l = ledger_of(&[
        meeting("general_assembly", "2014-03-01"),
        meeting("executive_board", "2014-04-01"),
        signed("KAZ", "2014-03-15"),
        meeting("general_assembly", "2014-02-01"),
        retraction(2),
        meeting("general_assembly", "2014-05-01"),
        correction(1, meeting("general_assembly", "2014-06-01")),
    ]);
    let d = |s: &str| Day::parse(s).unwrap();
    let between = |max: Option<u64>, from: &str, to: &str, types: &[&str]| {
        let seqs: Vec<u64> = l
            .events_between(max, d(from), d(to), types)
            .unwrap()
            .iter()
            .map(|e| e.seq)
            .collect();
        let mut each = Vec::new();
        l.for_each_event_between(max, d(from), d(to), types, |e| {
            assert_eq!(Some(&e), l.event(e.seq).unwrap().as_ref());
            each.push(e.seq);
            Ok(())
        })
        .unwrap();
        assert_eq!(seqs, each);
        seqs
    };
    let year = ("2014-01-01", "2014-12-31");
    let meetings = &["meeting_held"][..];
    assert_eq!(between(None, year.0, year.1, meetings), [4, 6, 7]);
    assert_eq!(between(Some(7), year.0, year.1, meetings), [4, 6, 7]);
    assert_eq!(between(Some(6), year.0, year.1, meetings), [4, 1, 6]);
    assert_eq!(between(Some(4), year.0, year.1, meetings), [4, 1, 2]);
    assert_eq!(
        between(Some(0), year.0, year.1, meetings),
        Vec::<u64>::new()
    );
    assert_eq!(between(None, year.0, year.1, &[]), [4, 3, 6, 7]);
    assert_eq!(between(None, year.0, year.1, &["statute_signed"]), [3]);
    assert_eq!(between(Some(6), "2014-03-01", "2014-05-01", &[]), [1, 3, 6]);
    assert_eq!(between(None, "2014-03-16", "2014-05-31", &[]), [6]);
}
