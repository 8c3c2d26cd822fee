//! The ledger held to the reference model (`tests/support/reference.rs`): a naive model written
//! again from the event format and the rules, which never calls the library's fold, query or
//! store. Each property compares whole answers (every field of `state`, the audit's Article
//! 21(1) derivation) and whole acceptance decisions.
//!
//! The histories are generated without the library as judge (the reference model filters
//! them), include dates near the day of recording by the real clock (today, yesterday,
//! tomorrow, this and next month and year, bounds ending after today) and are appended with the
//! real clock; every ledger takes a state snapshot every `SNAPSHOT_ROWS` timeline rows, so
//! answers come from snapshots, late corrections and retractions refold across them and
//! `--known-at` folds cross them.
//!
//! Case counts: `IOFS_PROPTEST_CASES=N` runs every property `N` times. A date near midnight
//! (UTC) can change "today" between generating a case and appending it; a case that sees the
//! day change is not judged (the test knows it from the clock readings around the append).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use iofs_ledger::audit;
use iofs_ledger::event::parse_batch;
use iofs_ledger::store::{AppendOptions, Appended, Ledger, StoreError};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use serde_json::{json, Value};

use support::reference;
use support::*;

const REGRESSIONS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/proptest-regressions/model.txt"
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

/// Appends JSON events as one batch recorded by the real clock.
fn append_now(l: &mut Ledger, values: &[Value]) -> Result<Appended, StoreError> {
    let text = values
        .iter()
        .map(Value::to_string)
        .collect::<Vec<_>>()
        .join("\n");
    let events = parse_batch(&text).unwrap_or_else(|e| panic!("generated batch: {e:?}"));
    l.append(events.into_iter().map(Ok), AppendOptions::default())
}

/// A ledger holding `h`, each batch appended by the real clock; the batches' `recorded_at`.
fn ledger_now(h: &History) -> (Ledger, Vec<String>) {
    let mut l = fresh_ledger();
    let mut recorded = Vec::new();
    for (i, b) in h.batches.iter().enumerate() {
        let a = append_now(&mut l, b)
            .unwrap_or_else(|e| panic!("a valid batch {i} was refused: {e}\n{h:?}"));
        recorded.push(a.recorded_at);
    }
    (l, recorded)
}

/// The days worth asking about: the model's window edges, and today, yesterday and tomorrow.
fn probes(model: &Model, max: usize) -> Vec<NaiveDate> {
    let mut days = model.probe_days(max);
    let t = today();
    days.extend([t - Duration::days(1), t, t + Duration::days(1)]);
    days.sort();
    days.dedup();
    days
}

/// The JSON of the first `n` events of every batch up to `batches`.
fn values_of(h: &History, batches: usize) -> Vec<Value> {
    h.batches.iter().take(batches).flatten().cloned().collect()
}

fn instant(s: &str) -> DateTime<Utc> {
    iofs_ledger::store::parse_instant(s).unwrap()
}

proptest! {
    #![proptest_config(config(64))]

    /// Every field of the state — members with their dates as written, the day each counts
    /// from, precision, ordinal, ratified flag and seq; ratifications, observers, withdrawals;
    /// the Statute, the organisation's milestones; the Director General with term end and
    /// vacancy; the Executive Board's seats; the uncertain events with their explanations — at
    /// every probed day equals the reference model's, from the read models (snapshots plus the
    /// rows since), from a full replay, after `rebuild`, and as known at every batch's instant
    /// (and one microsecond before it, which must not see that batch).
    #[test]
    fn every_field_of_the_state_at_every_day_and_known_at_every_instant_equals_the_reference(
        h in history_near_today(8, 12),
    ) {
        let (mut l, recorded) = ledger_now(&h);
        let log = h.model.values();
        let days = probes(&h.model, 12);
        for d in &days {
            let want = reference::state(&log, *d, None);
            prop_assert_eq!(&state(&l, *d, None), &want, "as of {}", d);
            prop_assert_eq!(
                &iofs_ledger::query::state_by_replay(&l, day(*d)).unwrap(), &want,
                "full replay as of {}", d
            );
        }
        for (k, r) in recorded.iter().enumerate() {
            let before = format_now(instant(r) - Duration::microseconds(1));
            let (upto, upto_before) = (values_of(&h, k + 1), values_of(&h, k));
            for d in days.iter().step_by(3) {
                prop_assert_eq!(
                    &state(&l, *d, Some(r)), &reference::state(&upto, *d, Some(r)),
                    "as of {}, known at {} (batch {})", d, r, k
                );
                prop_assert_eq!(
                    &state(&l, *d, Some(&before)),
                    &reference::state(&upto_before, *d, Some(&before)),
                    "as of {}, known at {} (before batch {})", d, before, k
                );
            }
        }
        let snapshots = snapshot_count(&l);
        l.rebuild().unwrap();
        prop_assert_eq!(snapshot_count(&l), snapshots, "rebuild took other snapshots");
        for d in days.iter().step_by(2) {
            prop_assert_eq!(&state(&l, *d, None), &reference::state(&log, *d, None), "after rebuild, as of {}", d);
        }
        let v = audit::verify(&mut l, None).unwrap();
        prop_assert!(v.ok, "verify: {:?}", v.problems);
    }

    /// Whatever batch is offered on top of a valid history — events breaking world rules or
    /// not, retractions and corrections aimed at any seq, dates up to and after today — the
    /// ledger accepts it exactly when the reference model does (no date beginning after today,
    /// the record rules, the world rules in replay order); a refused batch changes no table
    /// (snapshots included); an accepted one answers every field as the reference does.
    #[test]
    fn the_ledger_accepts_a_batch_exactly_when_the_reference_model_does(
        h in history_near_today(4, 8),
        raw in proptest::collection::vec(cand_in(any_date()), 1..6),
    ) {
        let (mut l, _) = ledger_now(&h);
        let mut model = h.model.clone();
        let mut values = Vec::new();
        for c in &raw {
            if let Some((v, w)) = cand_value(c, &model, Targets::Any) {
                model.push(v.clone(), w);
                values.push(v);
            }
        }
        let log = h.model.values();
        let before = dump(&l);
        let day_before = today();
        let r = append_now(&mut l, &values);
        let day_after = today();
        // The day changed during the append: which day it judged by is unknown.
        prop_assume!(day_before == day_after);
        let expected = reference::accepts(&log, &values, day_before);
        prop_assert_eq!(r.is_ok(), expected, "ledger {:?}, reference {}\n{:#?}", r, expected, values);
        if expected {
            let all = model.values();
            for d in probes(&model, 8) {
                prop_assert_eq!(&state(&l, d, None), &reference::state(&all, d, None), "as of {}", d);
            }
        } else {
            prop_assert_eq!(&dump(&l), &before, "a refused batch changed a table");
        }
    }
}

proptest! {
    #![proptest_config(config(12))]

    /// Long histories (up to 12 batches of 40 candidates, hundreds of timeline rows, dozens of
    /// snapshots, late corrections and retractions refolding across them): every field of the
    /// state at every probed day, and as known at a few instants, equals the reference model's.
    #[test]
    fn long_histories_answer_every_field_as_the_reference_does(h in history_near_today(12, 40)) {
        let (l, recorded) = ledger_now(&h);
        let log = h.model.values();
        let rows: i64 = l.connection()
            .query_row("SELECT COUNT(*) FROM timeline", [], |r| r.get(0)).unwrap();
        prop_assert!(
            snapshot_count(&l) >= rows / SNAPSHOT_ROWS / 2,
            "{} timeline rows but {} snapshots", rows, snapshot_count(&l)
        );
        for d in probes(&h.model, 24) {
            prop_assert_eq!(&state(&l, d, None), &reference::state(&log, d, None), "as of {}", d);
        }
        for k in (0..recorded.len()).step_by(4) {
            let upto = values_of(&h, k + 1);
            for d in probes(&h.model, 6) {
                prop_assert_eq!(
                    &state(&l, d, Some(&recorded[k])),
                    &reference::state(&upto, d, Some(&recorded[k])),
                    "as of {}, known at batch {}", d, k
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Snapshots are reached
// ---------------------------------------------------------------------------------------------

/// The generators reach snapshots: across a few histories of the size the properties use,
/// most ledgers hold snapshots, and a late correction dated before them drops and retakes them
/// (the answers stay the reference's).
#[test]
fn generated_histories_reach_snapshots_and_late_corrections_refold_across_them() {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let mut with_snapshots = 0;
    for _ in 0..16 {
        let h = history_near_today(8, 12)
            .new_tree(&mut runner)
            .unwrap()
            .current();
        let (mut l, _) = ledger_now(&h);
        if snapshot_count(&l) == 0 {
            continue;
        }
        with_snapshots += 1;
        // A correction of the first live world event, dated before everything: a refold from
        // the start, past every snapshot.
        let Some(target) = h.model.live_targets().first().copied() else {
            continue;
        };
        let mut replacement = h.model.live_value(target).unwrap();
        replacement["date"] = json!("2001");
        if let Some(m) = replacement.as_object_mut() {
            m.remove("takes_office");
            m.remove("end_date");
        }
        let correction = json!({"type": "correction", "corrects": target, "replacement": replacement,
            "reason": "an earlier source", "source": source()});
        let mut log = h.model.values();
        let accepted = append_now(&mut l, std::slice::from_ref(&correction)).is_ok();
        assert_eq!(
            accepted,
            reference::accepts(&log, std::slice::from_ref(&correction), today())
        );
        if accepted {
            log.push(correction);
        }
        for d in probes(&h.model, 12) {
            assert_eq!(
                state(&l, d, None),
                reference::state(&log, d, None),
                "as of {d}"
            );
        }
        let v = audit::verify(&mut l, None).unwrap();
        assert!(v.ok, "verify: {:?}", v.problems);
    }
    assert!(
        with_snapshots >= 8,
        "only {with_snapshots} of 16 generated histories reached a snapshot"
    );
}

// ---------------------------------------------------------------------------------------------
// The day of recording
// ---------------------------------------------------------------------------------------------

/// A signature of a fresh party dated `date`, offered alone to an empty ledger by the real
/// clock: whether it was accepted, and whether the day stayed the same around the append.
fn offer(date: Value) -> (bool, bool) {
    let mut l = fresh_ledger();
    let ev = json!({"type": "statute_signed", "party": "KAZ", "date": date, "source": source()});
    let t0 = today();
    let ok = append_now(&mut l, &[ev]).is_ok();
    (ok, today() == t0)
}

/// The future-date rule, by the real clock: an event may be dated on the day of recording or
/// before, and a date of lower precision counts from the first day it may denote — today,
/// this month and this year are accepted, tomorrow, next month and next year refused, bounds
/// are accepted when they begin by today whenever they end.
#[test]
fn a_date_is_refused_exactly_when_it_begins_after_the_day_of_recording() {
    for _attempt in 0..3 {
        let t = today();
        let d = |d: NaiveDate| json!(reference::iso(d));
        let next_month = t
            .with_day(1)
            .and_then(|d| d.checked_add_months(chrono::Months::new(1)))
            .unwrap();
        let cases: Vec<(Value, bool)> = vec![
            (d(t), true),
            (d(t - Duration::days(1)), true),
            (d(t + Duration::days(1)), false),
            (json!(t.format("%Y-%m").to_string()), true),
            (json!(next_month.format("%Y-%m").to_string()), false),
            (json!(t.format("%Y").to_string()), true),
            (
                json!((t + Duration::days(366)).format("%Y").to_string()),
                false,
            ),
            (
                json!({"not_before": reference::iso(t - Duration::days(3)), "not_after": reference::iso(t + Duration::days(30))}),
                true,
            ),
            (
                json!({"not_before": reference::iso(t), "not_after": (t + Duration::days(400)).format("%Y").to_string()}),
                true,
            ),
            (
                json!({"not_before": reference::iso(t + Duration::days(1)), "not_after": reference::iso(t + Duration::days(2))}),
                false,
            ),
        ];
        let mut same_day = true;
        for (date, want) in cases {
            let (ok, same) = offer(date.clone());
            same_day &= same;
            if same {
                assert_eq!(ok, want, "{date} recorded on {t}");
            }
        }
        if same_day {
            return;
        }
    }
    panic!("the day changed during every attempt");
}

/// A meeting's `end_date` and a correction's replacement date are held to the same rule: on
/// the day of recording they are accepted, the day after refused.
#[test]
fn end_dates_and_replacement_dates_may_be_today_but_not_tomorrow() {
    for _attempt in 0..3 {
        let t0 = today();
        let iso = reference::iso;
        let meeting = |end: NaiveDate| {
            json!({"type": "meeting_held", "organ": "general_assembly", "date": iso(t0 - Duration::days(2)),
                "end_date": iso(end), "source": source()})
        };
        let mut results = Vec::new();
        for (end, want) in [(t0, true), (t0 + Duration::days(1), false)] {
            let mut l = fresh_ledger();
            results.push((
                append_now(&mut l, &[meeting(end)]).is_ok(),
                want,
                "end_date",
            ));
        }
        for (date, want) in [(t0, true), (t0 + Duration::days(1), false)] {
            let mut l = fresh_ledger();
            append_now(
                &mut l,
                &[json!({"type": "claim", "about": "statement", "value": "v", "date": "2010", "source": source()})],
            )
            .unwrap();
            let c = json!({"type": "correction", "corrects": 1, "reason": "r", "source": source(),
                "replacement": {"type": "claim", "about": "statement", "value": "v", "date": iso(date), "source": source()}});
            results.push((append_now(&mut l, &[c]).is_ok(), want, "replacement.date"));
        }
        if today() != t0 {
            continue;
        }
        for (got, want, what) in results {
            assert_eq!(got, want, "{what} recorded on {t0}");
        }
        return;
    }
    panic!("the day changed during every attempt");
}

// ---------------------------------------------------------------------------------------------
// Article 21(1)
// ---------------------------------------------------------------------------------------------

/// OIC member states to ratify (the generated histories name only seven parties).
const RATIFIERS: [&str; 14] = [
    "AFG", "ALB", "DZA", "AZE", "BHR", "BGD", "BEN", "BRN", "BFA", "CMR", "TCD", "COM", "DJI",
    "EGY",
];

fn ratification(p: &str, date: Value) -> Value {
    json!({"type": "statute_ratified", "party": p, "date": date, "source": source()})
}

fn force_of(l: &Ledger) -> reference::Force {
    let e = audit::report(l, None).unwrap().entry_into_force;
    // The finding says in words what `agrees` says.
    match e.agrees {
        Some(true) => assert!(
            e.finding.contains(" is the thirtieth day after the tenth"),
            "{}",
            e.finding
        ),
        Some(false) => assert!(e.finding.contains(", but "), "{}", e.finding),
        None => assert!(
            !e.finding.contains(" is the thirtieth day after the tenth"),
            "{}",
            e.finding
        ),
    }
    reference::Force {
        asserted: e.asserted.map(|a| a.to_string()).zip(e.asserted_seq),
        tenth: e.tenth_ratification.map(|t| (t.code, t.seq)),
        derived: e.derived,
        derived_window: e.derived_window,
        agrees: e.agrees,
    }
}

/// Regression: the derivation must take the tenth ratification, not the ninth. With the ninth
/// on 5 January 2010 and the tenth on 10 February, the Statute enters into force on 12 March
/// 2010 (thirty days after the tenth), which the asserted date then agrees with.
#[test]
fn the_tenth_ratification_not_the_ninth_fixes_entry_into_force() {
    let mut l = fresh_ledger();
    let mut batch: Vec<Value> = RATIFIERS[..8]
        .iter()
        .enumerate()
        .map(|(i, p)| ratification(p, json!(format!("2009-0{}-01", i + 1))))
        .collect();
    batch.push(ratification(RATIFIERS[8], json!("2010-01-05")));
    batch.push(ratification(RATIFIERS[9], json!("2010-02-10")));
    batch.push(ratification(RATIFIERS[10], json!("2010-06-01")));
    batch.push(
        json!({"type": "statute_entered_into_force", "date": "2010-03-12", "source": source()}),
    );
    append_now(&mut l, &batch).unwrap();
    let e = audit::report(&l, None).unwrap().entry_into_force;
    assert_eq!(
        e.tenth_ratification.as_ref().map(|t| t.code.as_str()),
        Some("CMR")
    );
    assert_eq!(e.derived.as_deref(), Some("2010-03-12"));
    assert_eq!(e.agrees, Some(true));
    assert_eq!(force_of(&l), reference::entry_into_force(&batch));
}

/// A ratification: party index into [`RATIFIERS`] and date.
fn ratifications() -> impl Strategy<Value = Vec<(usize, GenDate)>> {
    proptest::collection::vec((0..RATIFIERS.len(), gen_date()), 6..16)
}

proptest! {
    #![proptest_config(config(96))]

    /// The audit's Article 21(1) derivation equals the reference model's for any set of
    /// ratifications (dated at any precision, ties and all), some retracted or corrected to
    /// another date, with or without an asserted entry into force (sometimes exactly the
    /// derived day): the tenth ratification by the day it counts from (then by seq), the
    /// thirtieth day after it, the window when its day is not known, and whether the asserted
    /// date agrees.
    #[test]
    fn audit_derives_entry_into_force_from_the_tenth_ratification_as_the_reference_does(
        rats in ratifications(),
        amend in proptest::collection::vec((any::<usize>(), any::<bool>(), gen_date()), 0..4),
        assert in proptest::option::of((any::<bool>(), gen_date())),
    ) {
        let mut l = fresh_ledger();
        let mut log: Vec<Value> = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for (p, d) in rats {
            if seen.insert(p) {
                log.push(ratification(RATIFIERS[p], d.json()));
            }
        }
        let n = log.len();
        for (sel, retract, d) in amend {
            let t = 1 + sel % n;
            log.push(if retract {
                json!({"type": "retraction", "retracts": t, "reason": "r", "source": source()})
            } else {
                let mut r = log[t - 1].clone();
                r["date"] = d.json();
                json!({"type": "correction", "corrects": t, "replacement": r, "reason": "r", "source": source()})
            });
        }
        if let Some((exact, d)) = assert {
            let derived = reference::entry_into_force(&log).derived;
            let date = match (exact, derived) {
                (true, Some(x)) => json!(x),
                _ => d.json(),
            };
            log.push(json!({"type": "statute_entered_into_force", "date": date, "source": source()}));
        }
        let ok = reference::valid(&log);
        let r = append_now(&mut l, &log);
        prop_assert_eq!(r.is_ok(), ok, "{:?}", r);
        if ok {
            prop_assert_eq!(force_of(&l), reference::entry_into_force(&log));
        }
    }
}
