//! `import` (`src/store/replica.rs`) where the other tests do not pin it, written where a
//! mutation of that module survived them (see `docs/testing.md`, "Module by module"): what an
//! import reports, a batch continued across two imports, the clock's tolerance, and a held
//! event that differs from the input's in any one of its stored columns.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use chrono::{DateTime, Duration, Utc};
use iofs_ledger::store::{ImportItem, Imported, Ledger, StoreError, CLOCK_TOLERANCE};
use serde_json::{json, Value};

use support::*;

/// `v` with a source.
fn ev(mut v: Value) -> Value {
    v["source"] = source();
    v
}

/// A ledger of five events in three batches, recorded at `now_of(0)`, `now_of(1)`, `now_of(2)`.
fn source_ledger() -> Ledger {
    let mut l = fresh_ledger();
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

/// The log of `l`, as `import` takes it (what `log --json` carries).
fn log_items(l: &Ledger) -> Vec<ImportItem> {
    let mut out = Vec::new();
    l.for_each_event(0, None, |e| {
        out.push(ImportItem {
            line: out.len() + 1,
            seq: e.seq,
            recorded_at: e.recorded_at,
            hash: e.hash,
            event: e.event,
        });
        Ok(())
    })
    .unwrap();
    out
}

fn import(
    l: &mut Ledger,
    items: &[ImportItem],
    now: DateTime<Utc>,
) -> Result<Imported, StoreError> {
    l.import(items.iter().cloned().map(Ok), now)
}

fn later() -> DateTime<Utc> {
    now_of(100)
}

/// What the import says: events read, those already held (skipped), the seqs appended, the
/// last one's `recorded_at`, and the head after it — for an import into an empty ledger, one
/// that continues it, and one that brings nothing new.
#[test]
fn an_import_reports_what_it_read_skipped_and_appended() {
    let source = source_ledger();
    let items = log_items(&source);
    let head = source.head().unwrap();
    let mut r = fresh_ledger();
    let first = import(&mut r, &items[..2], later()).unwrap();
    assert_eq!(first.read, 2);
    assert_eq!(first.skipped, 0);
    assert_eq!(first.range, Some((1, 2)));
    assert_eq!(
        first.recorded_at.as_deref(),
        Some(format_now(now_of(0)).as_str())
    );
    assert_eq!(first.head_seq, 2);
    assert_eq!(first.head_hash, items[1].hash);

    let rest = import(&mut r, &items, later()).unwrap();
    assert_eq!(rest.read, 5);
    assert_eq!(rest.skipped, 2);
    assert_eq!(rest.range, Some((3, 5)));
    assert_eq!(
        rest.recorded_at.as_deref(),
        Some(format_now(now_of(2)).as_str())
    );
    assert_eq!(
        (rest.head_seq, rest.head_hash.as_str()),
        (head.seq, head.hash.as_str())
    );

    let again = import(&mut r, &items[1..], later()).unwrap();
    assert_eq!(again.read, 4);
    assert_eq!(again.skipped, 4);
    assert_eq!(again.range, None);
    assert_eq!(again.recorded_at, None);
    assert_eq!(again.head_seq, 5);
}

/// A batch's events share one `recorded_at`; an import may stop inside a batch and the next
/// one continue it: the first new event is then recorded at the head's own instant, which is
/// not earlier than it, so it is accepted (and the replica is the source, table for table).
#[test]
fn an_import_may_continue_a_batch_whose_first_events_are_held() {
    let source = source_ledger();
    let items = log_items(&source);
    let mut r = fresh_ledger();
    import(&mut r, &items[..1], later()).unwrap();
    let rest = import(&mut r, &items[1..], later()).unwrap();
    assert_eq!(rest.range, Some((2, 5)));
    assert_eq!(dump(&r), dump(&source));
}

/// A new event recorded before the head's `recorded_at` is refused for that reason, at its
/// seq, and nothing is written.
#[test]
fn a_new_event_recorded_before_the_head_is_refused_saying_so() {
    let source = source_ledger();
    let items = log_items(&source);
    let mut r = fresh_ledger();
    import(&mut r, &items[..3], later()).unwrap();
    let before = dump(&r);
    let mut early = items[3].clone();
    early.recorded_at = format_now(now_of(1) - Duration::microseconds(1));
    let e = import(&mut r, &[early], later()).unwrap_err().to_string();
    assert!(e.contains("seq 4"), "{e}");
    assert!(e.contains("recorded_at never decreases"), "{e}");
    assert_eq!(dump(&r), before);
}

/// An event may be recorded up to the clock tolerance after this machine's clock, not a
/// microsecond more: the refusal names the seq and says the record is from the future.
#[test]
fn an_event_recorded_after_the_clock_is_refused_only_past_the_tolerance() {
    let source = source_ledger();
    let items = log_items(&source);
    let last = now_of(2);
    let mut r = fresh_ledger();
    import(&mut r, &items[..3], later()).unwrap();
    let before = dump(&r);
    let e = import(
        &mut r,
        &items,
        last - CLOCK_TOLERANCE - Duration::microseconds(1),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("seq 4"), "{e}");
    assert!(e.contains("later than this machine's clock"), "{e}");
    assert_eq!(dump(&r), before);
    let ok = import(&mut r, &items, last - CLOCK_TOLERANCE).unwrap();
    assert_eq!(ok.range, Some((4, 5)));
}

/// An input event at a held seq that differs from the held one in its `recorded_at`, its
/// body or its hash alone is a fork, refused at that seq with nothing written; identical, it
/// is skipped.
#[test]
fn a_held_event_differing_in_any_one_column_is_a_fork() {
    let source = source_ledger();
    let items = log_items(&source);
    let mut r = fresh_ledger();
    import(&mut r, &items, later()).unwrap();
    let before = dump(&r);
    let other = log_items(&{
        let mut o = fresh_ledger();
        append_values(
            &mut o,
            &[
                ev(json!({"type": "statute_signed", "party": "KAZ", "date": "2010-05-05"})),
                ev(json!({"type": "statute_signed", "party": "SAU", "date": "2011"})),
            ],
            now_of(0),
        )
        .unwrap();
        o
    });
    let mut changed = Vec::new();
    let mut at = items[1].clone();
    at.recorded_at = format_now(now_of(0) + Duration::microseconds(1));
    changed.push(("recorded_at", at));
    let mut body = items[1].clone();
    body.event = other[1].event.clone();
    changed.push(("body", body));
    let mut hash = items[1].clone();
    hash.hash = "0".repeat(64);
    changed.push(("hash", hash));
    for (what, it) in changed {
        let input = [items[0].clone(), it];
        let e = import(&mut r, &input, later()).unwrap_err().to_string();
        assert!(e.contains("seq 2"), "{what}: {e}");
        assert!(e.contains("forked"), "{what}: {e}");
        assert_eq!(dump(&r), before, "{what}");
    }
    let same = import(&mut r, &items[..2], later()).unwrap();
    assert_eq!(same.skipped, 2);
}

/// A `log --json` line's `seq` must be a positive integer: 0, a negative number, a fraction or
/// text is refused naming the field; 1 is read.
#[test]
fn an_input_seq_must_be_a_positive_integer() {
    let source = source_ledger();
    let items = log_items(&source);
    let line = |seq: &str| {
        let mut v: Value = serde_json::from_str(&items[0].event.canonical_json()).unwrap();
        let o = v.as_object_mut().unwrap();
        o.insert("seq".into(), serde_json::from_str(seq).unwrap());
        o.insert("recorded_at".into(), json!(items[0].recorded_at));
        o.insert("hash".into(), json!(items[0].hash));
        v.to_string()
    };
    for bad in ["0", "-1", "1.5", "\"1\""] {
        let e = ImportItem::parse(1, &line(bad)).unwrap_err();
        assert!(
            e.contains("field `seq` must be a positive integer"),
            "{bad}: {e}"
        );
    }
    let ok = ImportItem::parse(7, &line("1")).unwrap();
    assert_eq!((ok.line, ok.seq), (7, 1));
    assert_eq!(ok.event, items[0].event);
    assert_eq!(ok.hash, items[0].hash);
}

/// `backup` copies every page in one step of SQLite's online backup (one read snapshot), so
/// even a ledger of many pages is copied under a busy timeout far shorter than a page-by-page
/// copy would take; the copy holds the same log.
#[test]
fn a_backup_copies_every_page_in_one_step() {
    let mut l = fresh_ledger();
    let meetings: Vec<Value> = (0..2_000)
        .map(|i| {
            ev(json!({
                "type": "meeting_held",
                "organ": "general_assembly",
                "date": format!("{}", 1900 + i % 100),
            }))
        })
        .collect();
    append_values(&mut l, &meetings, now_of(0)).unwrap();
    let pages: i64 = l
        .connection()
        .query_row("PRAGMA page_count", [], |r| r.get(0))
        .unwrap();
    assert!(pages > 100, "{pages} pages");
    l.set_busy_timeout(std::time::Duration::from_millis(50))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("copy.db");
    l.backup(&dest).unwrap();
    let copy = Ledger::open(&dest, iofs_ledger::store::Access::ReadOnly).unwrap();
    assert_eq!(copy.head().unwrap(), l.head().unwrap());
}
