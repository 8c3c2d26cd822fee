//! Bulk appends that defer the projections (`store::DEFER_THRESHOLD`), held to the reference
//! model (`tests/support/reference.rs`), to `rebuild` and to the append that projects as it
//! goes.
//!
//! This binary lowers the threshold to [`THRESHOLD`] events for the whole process (before any
//! ledger is built, never changed again), so generated batches fall on both sides of it.
//! `Ledger::dry_run` never defers: it is the non-deferred append, judged in the same
//! transaction, that refusals are compared with.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use iofs_ledger::audit;
use iofs_ledger::event::parse_batch;
use iofs_ledger::store::{AppendOptions, Appended, Ledger, StoreError};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use serde_json::Value;

use support::reference;
use support::*;

/// The deferral threshold in this test process.
const THRESHOLD: usize = 3;

const REGRESSIONS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/proptest-regressions/deferred.txt"
);

fn config(default_cases: u32) -> ProptestConfig {
    let cases = std::env::var("IOFS_PROPTEST_CASES")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(default_cases);
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(REGRESSIONS))),
        max_shrink_iters: 1024,
        ..ProptestConfig::default()
    }
}

/// An empty in-memory ledger, with the lowered snapshot and deferral thresholds.
fn fresh() -> Ledger {
    iofs_ledger::store::set_defer_threshold_for_tests(THRESHOLD);
    fresh_ledger()
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

fn head(l: &Ledger) -> u64 {
    l.head().unwrap().seq
}

/// The batch as the append takes it.
fn parsed(values: &[Value]) -> Vec<(iofs_ledger::event::Location, iofs_ledger::event::Event)> {
    let text = values
        .iter()
        .map(Value::to_string)
        .collect::<Vec<_>>()
        .join("\n");
    parse_batch(&text).unwrap_or_else(|e| panic!("generated batch: {e:?}"))
}

fn opts(i: usize) -> AppendOptions {
    AppendOptions {
        expect_head: None,
        now: Some(now_of(i)),
    }
}

/// What an append answered, comparable: the receipt, or the refusals' text.
fn outcome(r: &Result<Appended, StoreError>) -> Result<Appended, String> {
    match r {
        Ok(a) => Ok(a.clone()),
        Err(StoreError::Refused(v)) => Err(v
            .iter()
            .map(|x| format!("{:?} {:?} {x}", x.seq, x.rule))
            .collect::<Vec<_>>()
            .join("\n")),
        Err(e) => panic!("the append failed: {e}"),
    }
}

proptest! {
    #![proptest_config(config(48))]

    /// Random valid histories appended in random batches, some of at least the threshold
    /// (deferred: `meta.projected_through` then names the head before the batch, and nothing
    /// else), some smaller (projected as they append), with queries (which catch up) after
    /// some batches and not others: every field of the state at every probed day, and as known
    /// at every batch's instant, equals the reference model's; the read models caught up equal
    /// those `rebuild` derives, table by table; and `verify` passes.
    #[test]
    fn deferred_bulk_appends_answer_as_the_reference_and_catch_up_to_what_rebuild_derives(
        h in history(8, 12),
        ask in proptest::collection::vec(any::<bool>(), 8),
    ) {
        let mut l = fresh();
        let mut recorded = Vec::new();
        for (i, b) in h.batches.iter().enumerate() {
            let before = head(&l);
            let a = l.append(parsed(b).into_iter().map(Ok), opts(i))
                .unwrap_or_else(|e| panic!("a valid batch {i} was refused: {e}\n{h:?}"));
            recorded.push(a.recorded_at);
            let want = (b.len() >= THRESHOLD).then_some(before);
            prop_assert_eq!(projected_through(&l), want, "batch {} of {} events", i, b.len());
            if ask[i % ask.len()] {
                let log: Vec<Value> = h.batches.iter().take(i + 1).flatten().cloned().collect();
                let d = today();
                prop_assert_eq!(&state(&l, d, None), &reference::state(&log, d, None), "after batch {}", i);
                prop_assert_eq!(projected_through(&l), None, "a query left the projections behind");
            }
        }
        let log = h.model.values();
        for d in h.model.probe_days(12) {
            prop_assert_eq!(&state(&l, d, None), &reference::state(&log, d, None), "as of {}", d);
        }
        for (k, r) in recorded.iter().enumerate() {
            let upto: Vec<Value> = h.batches.iter().take(k + 1).flatten().cloned().collect();
            for d in h.model.probe_days(4) {
                prop_assert_eq!(
                    &state(&l, d, Some(r)), &reference::state(&upto, d, Some(r)),
                    "as of {}, known at batch {}", d, k
                );
            }
        }
        l.catch_up().unwrap();
        let caught_up = dump(&l);
        l.rebuild().unwrap();
        prop_assert_eq!(&dump(&l), &caught_up, "caught-up read models differ from rebuilt ones");
        let v = audit::verify(&mut l, None).unwrap();
        prop_assert!(v.ok, "verify: {:?}", v.problems);
    }

    /// Whatever batch is offered on top of a valid history (events breaking world rules or not,
    /// retractions and corrections aimed at any seq, out of replay order or not), on a ledger
    /// whose projections may lag: the append accepts it exactly when the reference model does,
    /// with the same receipt or the same refusals (seq, rule, line, field, message) as the
    /// append that projects as it goes (`dry_run`); a refused batch changes no table.
    #[test]
    fn a_deferred_append_refuses_exactly_what_the_projecting_append_refuses(
        h in history(4, 8),
        lag in any::<bool>(),
        raw in proptest::collection::vec(cand(), 1..8),
    ) {
        let mut l = fresh();
        let n = h.batches.len();
        for (i, b) in h.batches.iter().enumerate() {
            l.append(parsed(b).into_iter().map(Ok), opts(i)).unwrap();
        }
        if !lag {
            l.catch_up().unwrap();
        }
        let mut model = h.model.clone();
        let mut values = Vec::new();
        for c in &raw {
            if let Some((v, w)) = cand_value(c, &model, Targets::Any) {
                model.push(v.clone(), w);
                values.push(v);
            }
        }
        prop_assume!(!values.is_empty());
        let expected = reference::accepts(&h.model.values(), &values, now_of(n).date_naive());
        let projecting = l.dry_run(parsed(&values).into_iter().map(Ok), opts(n), &mut |_, _, _| Ok(()));
        let before = dump(&l);
        let r = l.append(parsed(&values).into_iter().map(Ok), opts(n));
        prop_assert_eq!(outcome(&r), outcome(&projecting), "{:#?}", values);
        prop_assert_eq!(r.is_ok(), expected, "ledger {:?}, reference {}\n{:#?}", r, expected, values);
        if expected {
            let all = model.values();
            for d in model.probe_days(8) {
                prop_assert_eq!(&state(&l, d, None), &reference::state(&all, d, None), "as of {}", d);
            }
            let caught_up = dump(&l);
            l.rebuild().unwrap();
            prop_assert_eq!(&dump(&l), &caught_up);
        } else {
            prop_assert_eq!(&dump(&l), &before, "a refused batch changed a table");
        }
    }
}

/// The threshold, both sides: a batch of `THRESHOLD - 1` events projects as it appends (no
/// `projected_through`, the timeline holds its facts); one of `THRESHOLD` defers (the key names
/// the head before it, the timeline is as it was) until the next query brings them up to date.
#[test]
fn a_batch_defers_its_projections_exactly_from_the_threshold_on() {
    let mut l = fresh();
    let sig = |p: &str, y: u32| serde_json::json!({"type": "statute_signed", "party": p, "date": format!("{y}"), "source": source()});
    let rows = |l: &Ledger| -> i64 {
        l.connection()
            .query_row("SELECT COUNT(*) FROM timeline", [], |r| r.get(0))
            .unwrap()
    };
    let small: Vec<Value> = ["KAZ", "TUR"]
        .iter()
        .take(THRESHOLD - 1)
        .map(|p| sig(p, 2014))
        .collect();
    l.append(parsed(&small).into_iter().map(Ok), opts(0))
        .unwrap();
    assert_eq!(projected_through(&l), None);
    let projected = rows(&l);
    assert!(projected > 0, "a small batch did not project");
    let bulk: Vec<Value> = ["SEN", "PAK", "EGY"]
        .iter()
        .take(THRESHOLD)
        .map(|p| sig(p, 2015))
        .collect();
    l.append(parsed(&bulk).into_iter().map(Ok), opts(1))
        .unwrap();
    assert_eq!(projected_through(&l), Some(THRESHOLD as u64 - 1));
    assert_eq!(rows(&l), projected, "a bulk batch wrote timeline rows");
    // Reading the state catches up first.
    let s = state(&l, today(), None);
    assert_eq!(projected_through(&l), None);
    assert!(rows(&l) > projected);
    let log: Vec<Value> = small.iter().chain(&bulk).cloned().collect();
    assert_eq!(s, reference::state(&log, today(), None));
}

/// Stale projections are never answered from: inside a read transaction (where catching up is
/// impossible) a query on a lagging ledger is refused naming the lag, and outside one it
/// catches up and answers.
#[test]
fn a_lagging_ledger_refuses_rather_than_answers_stale_inside_a_transaction() {
    let mut l = fresh();
    let bulk: Vec<Value> = ["SEN", "PAK", "EGY", "KAZ"]
        .iter()
        .map(|p| serde_json::json!({"type": "statute_signed", "party": p, "date": "2015", "source": source()}))
        .collect();
    l.append(parsed(&bulk).into_iter().map(Ok), opts(0))
        .unwrap();
    assert_eq!(projected_through(&l), Some(0));
    l.connection().execute_batch("BEGIN").unwrap();
    let e = iofs_ledger::query::state(&l, day(today()), None).unwrap_err();
    assert!(
        matches!(
            e,
            StoreError::Lagging {
                through: 0,
                head: 4,
                ..
            }
        ),
        "{e}"
    );
    l.connection().execute_batch("COMMIT").unwrap();
    assert_eq!(
        state(&l, today(), None),
        reference::state(&bulk, today(), None)
    );
}

/// A deferred batch whose later event is back-dated among its own earlier ones (a withdrawal
/// dated between the member's signature and another signature of the same batch) is judged by
/// a fold that includes those earlier events: accepted, as the reference model and the
/// projecting append accept it, and answered as the reference answers.
#[test]
fn a_back_dated_event_in_a_deferred_batch_sees_the_batch_events_before_it() {
    let mut l = fresh();
    let ev = |t: &str, p: &str, y: u32| serde_json::json!({"type": t, "party": p, "date": format!("{y}"), "source": source()});
    let first = vec![ev("statute_signed", "SEN", 2010)];
    l.append(parsed(&first).into_iter().map(Ok), opts(0))
        .unwrap();
    let bulk = vec![
        ev("statute_signed", "KAZ", 2020),
        ev("statute_signed", "TUR", 2022),
        ev("membership_withdrawn", "KAZ", 2021),
    ];
    assert!(bulk.len() >= THRESHOLD);
    let projecting = l.dry_run(
        parsed(&bulk).into_iter().map(Ok),
        opts(1),
        &mut |_, _, _| Ok(()),
    );
    let r = l.append(parsed(&bulk).into_iter().map(Ok), opts(1));
    assert_eq!(outcome(&r), outcome(&projecting));
    let log: Vec<Value> = first.iter().chain(&bulk).cloned().collect();
    assert!(reference::accepts(&first, &bulk, now_of(1).date_naive()));
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(projected_through(&l), Some(1));
    for y in [2019, 2020, 2021, 2022, 2023] {
        let d = chrono::NaiveDate::from_ymd_opt(y, 12, 31).unwrap();
        assert_eq!(state(&l, d, None), reference::state(&log, d, None), "{y}");
    }
}
