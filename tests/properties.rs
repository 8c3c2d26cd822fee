//! Property tests of the ledger's invariants (proptest).
//!
//! Histories are generated valid: candidate events (signatures, withdrawals, re-signings,
//! ratifications, observer admissions, appointments with and without `takes_office`, vacancies,
//! board elections, meetings, claims, proposals, documents, programmes, agreements, retractions
//! and corrections, dated `YYYY`, `YYYY-MM`, `YYYY-MM-DD` or `{"not_before", "not_after"}`) are
//! kept only when the reference model (`tests/support/reference.rs`, the rules written again
//! without the library's fold) says the log keeps every rule. Each history is appended in
//! batches, each recorded at its own instant (`AppendOptions::now`), into ledgers that take a
//! state snapshot every few timeline rows (`support::SNAPSHOT_ROWS`), so every property reaches
//! snapshots. Mutations then make batches invalid in every way the append rules name.
//! `tests/model.rs` compares whole answers with the reference model, with dates near the day of
//! recording.
//!
//! # Case counts
//! Each property runs a small number of cases by default so that `cargo test` stays well under
//! two minutes on two cores in a debug build. Set `IOFS_PROPTEST_CASES=N` to run every property
//! `N` times instead, e.g. `IOFS_PROPTEST_CASES=2000 cargo test --release --test properties`.
//!
//! # Regressions
//! Failing cases are saved to `proptest-regressions/properties.txt` (commit it) and replayed
//! first on every run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::{BTreeSet, HashMap};

use chrono::{Duration, NaiveDate};
use iofs_ledger::audit;
use iofs_ledger::event::{parse_batch, parse_line, Event, Location, ParseError, Prepared};
use iofs_ledger::projection::STATELESS_TYPES;
use iofs_ledger::query::{self, State};
use iofs_ledger::store::{AppendOptions, Ledger, StoreError};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use serde_json::{json, Value};

use support::*;

const REGRESSIONS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/proptest-regressions/properties.txt"
);

/// The configuration of a property: `default_cases` cases unless `IOFS_PROPTEST_CASES` says
/// otherwise; failures persisted under `proptest-regressions/`.
fn config(default_cases: u32) -> ProptestConfig {
    let cases = std::env::var("IOFS_PROPTEST_CASES")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(default_cases);
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(REGRESSIONS))),
        max_shrink_iters: 2048,
        ..ProptestConfig::default()
    }
}

fn verify_ok(l: &mut Ledger) -> Result<(), TestCaseError> {
    let v = audit::verify(l, None).map_err(|e| TestCaseError::fail(format!("verify: {e}")))?;
    prop_assert!(v.ok, "verify failed: {:?}", v.problems);
    Ok(())
}

fn day_before(d: NaiveDate) -> NaiveDate {
    d - Duration::days(1)
}

// ---------------------------------------------------------------------------------------------
// Replay is deterministic
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(96))]

    /// The same log gives the same state at every day whichever way it is computed: from the
    /// stored read models, from a fresh in-memory replay of the log, and after `rebuild`
    /// (which also leaves every table as it was); and two ledgers built from the same log are
    /// identical table for table.
    #[test]
    fn replay_is_deterministic_from_read_models_fresh_replay_and_rebuild(h in history(6, 10)) {
        let (mut l, _) = ledger(&h);
        let probes = h.model.probe_days(16);
        let mut answers = Vec::new();
        for d in &probes {
            let stored = state(&l, *d, None);
            let replayed = query::state_by_replay(&l, day(*d)).unwrap();
            prop_assert_eq!(&stored, &replayed, "at {}", d);
            answers.push(stored);
        }
        let before = dump(&l);
        prop_assert_eq!(l.rebuild().unwrap(), h.model.len());
        prop_assert_eq!(&dump(&l), &before, "rebuild changed a table");
        for (d, a) in probes.iter().zip(&answers) {
            prop_assert_eq!(&state(&l, *d, None), a, "after rebuild, at {}", d);
        }
        let (l2, _) = ledger(&h);
        prop_assert_eq!(&dump(&l2), &before, "the same log built a different ledger");
    }
}

// ---------------------------------------------------------------------------------------------
// Point in time
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(128))]

    /// The state at day D equals the state of a ledger holding only the live events (after
    /// retractions and corrections) whose effective day — the last day of their date window —
    /// is on or before D. (Uncertain lists differ by construction and are left out; seqs are
    /// mapped from the small ledger to the full one.)
    #[test]
    fn state_at_a_day_equals_the_state_of_the_events_effective_by_then(h in history(6, 10)) {
        let (l, _) = ledger(&h);
        let rows = h.model.rows();
        for d in h.model.probe_days(8) {
            // In replay order (rows are sorted so), so the small ledger's seqs keep the order.
            let kept: Vec<_> = rows.iter().filter(|r| r.last <= d).collect();
            let mut small = fresh_ledger();
            append_events(&mut small, kept.iter().map(|r| r.event.clone()).collect(), now_of(99))
                .unwrap_or_else(|e| panic!("the events effective by {d} were refused: {e}"));
            let map: HashMap<u64, u64> =
                kept.iter().enumerate().map(|(i, r)| (i as u64 + 1, r.seq)).collect();
            prop_assert_eq!(
                norm(&state(&l, d, None), None, false),
                norm(&state(&small, d, None), Some(&map), false),
                "at {}", d
            );
        }
    }

    /// Appending a world event changes no answer for any day before the first day of its date
    /// window (whether the append is accepted or refused), and it is accepted exactly when the
    /// model of the log still replays.
    #[test]
    fn appending_an_event_changes_no_answer_before_its_window(
        h in history(4, 8),
        extra in proptest::collection::vec(world_cand(), 1..5),
    ) {
        let (mut l, _) = ledger(&h);
        let mut model = h.model.clone();
        for (i, c) in extra.iter().enumerate() {
            let (v, win) = cand_value(c, &model, Targets::Live).unwrap();
            let win = win.unwrap();
            let mut probes: Vec<NaiveDate> =
                model.probe_days(10).into_iter().filter(|d| *d < win.0).collect();
            probes.push(day_before(win.0));
            let before: Vec<State> = probes.iter().map(|d| state(&l, *d, None)).collect();
            let mut with = model.clone();
            with.push(v.clone(), Some(win));
            let accepted = append_values(&mut l, std::slice::from_ref(&v), now_of(h.batches.len() + i)).is_ok();
            prop_assert_eq!(accepted, with.valid(), "{}", v);
            if accepted {
                model = with;
            }
            for (d, b) in probes.iter().zip(&before) {
                prop_assert_eq!(&state(&l, *d, None), b, "{} changed the answer at {}", v, d);
            }
        }
    }
}

/// Regression: a batch was judged line by line as it streamed, not in replay order. Withdrawing KAZ
/// (2009) and, on the next line, KAZ's signature (2008) form a valid log — in replay order the
/// signature comes first — but the batch was refused: "only a member can withdraw".
#[test]
fn a_batch_is_judged_in_replay_order_not_line_order() {
    let mut l = fresh_ledger();
    let text = [
        r#"{"type":"membership_withdrawn","party":"KAZ","date":"2009","source":{"document":"d","quote":"q"}}"#,
        r#"{"type":"statute_signed","party":"KAZ","date":"2008","source":{"document":"d","quote":"q"}}"#,
    ]
    .join("\n");
    let events = parse_batch(&text).unwrap();
    l.append(events.into_iter().map(Ok), AppendOptions::default())
        .unwrap_or_else(|e| panic!("{e}"));
    let s = query::state(
        &l,
        iofs_ledger::date::Day::parse("2008-12-31").unwrap(),
        None,
    )
    .unwrap();
    assert_eq!(s.members.count, 1);
}

/// Regression (same cause): a line retracted by a later line of the same batch was judged as it
/// streamed. Withdrawing KAZ, which is no member, and retracting that withdrawal on the next line
/// leaves a valid log (the withdrawal never counts), but the batch was refused.
#[test]
fn a_line_retracted_later_in_the_same_batch_is_not_judged() {
    let mut l = fresh_ledger();
    let text = [
        r#"{"type":"membership_withdrawn","party":"KAZ","date":"2008","source":{"document":"d","quote":"q"}}"#,
        r#"{"type":"retraction","retracts":1,"reason":"misread","source":{"document":"d","quote":"q"}}"#,
    ]
    .join("\n");
    let events = parse_batch(&text).unwrap();
    l.append(events.into_iter().map(Ok), AppendOptions::default())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(l.head().unwrap().seq, 2);
}

// ---------------------------------------------------------------------------------------------
// Known at
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(48))]

    /// The state known at instant T (`--known-at`) equals the state of a ledger holding only
    /// the batches recorded by T — at each batch's own instant (inclusive) and one microsecond
    /// before it (exclusive) — for every probed day, uncertain events included.
    #[test]
    fn state_known_at_an_instant_equals_the_state_of_the_events_recorded_by_then(
        h in history(6, 10),
    ) {
        let (l, recorded) = ledger(&h);
        let probes = h.model.probe_days(8);
        let mut instants: Vec<(String, usize)> =
            vec![(format_now(now_of(0) - Duration::seconds(1)), 0)];
        for (k, r) in recorded.iter().enumerate() {
            let t = iofs_ledger::store::parse_instant(r).unwrap();
            instants.push((format_now(t - Duration::microseconds(1)), k));
            instants.push((r.clone(), k + 1));
        }
        for (t, n) in instants {
            let (small, _) = ledger_of(&h, n);
            for d in &probes {
                prop_assert_eq!(
                    norm(&state(&l, *d, Some(&t)), None, true),
                    norm(&state(&small, *d, None), None, true),
                    "known at {} ({} batches), as of {}", t, n, d
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Counting
// ---------------------------------------------------------------------------------------------

fn codes<'a>(it: impl Iterator<Item = &'a String>) -> BTreeSet<String> {
    it.cloned().collect()
}

fn check_against_oracle(s: &State, o: &Oracle) -> Result<(), TestCaseError> {
    let members: std::collections::BTreeMap<String, u64> = s
        .members
        .parties
        .iter()
        .map(|m| (m.code.clone(), m.ordinal))
        .collect();
    prop_assert_eq!(s.members.count as usize, s.members.parties.len());
    prop_assert_eq!(
        members.len(),
        s.members.parties.len(),
        "a member listed twice"
    );
    prop_assert_eq!(&members, &o.members);
    prop_assert!(o.signatures >= o.withdrawals);
    prop_assert_eq!(s.members.count, o.signatures - o.withdrawals);
    prop_assert_eq!(s.statute.signatures, o.signatures);
    prop_assert!(
        s.members
            .parties
            .windows(2)
            .all(|w| w[0].ordinal < w[1].ordinal),
        "members not in signature order"
    );
    let ratified = codes(s.ratifications.parties.iter().map(|p| &p.code));
    prop_assert_eq!(
        s.ratifications.count as usize,
        s.ratifications.parties.len()
    );
    prop_assert_eq!(&ratified, &o.ratified);
    let observers = codes(s.observers.parties.iter().map(|p| &p.code));
    prop_assert_eq!(s.observers.count as usize, s.observers.parties.len());
    prop_assert_eq!(&observers, &o.observers);
    let withdrawn = codes(s.withdrawn.iter().map(|p| &p.code));
    prop_assert_eq!(&withdrawn, &o.withdrawn);
    for m in &s.members.parties {
        prop_assert!(
            !observers.contains(&m.code),
            "{} is member and observer",
            m.code
        );
        prop_assert!(
            !withdrawn.contains(&m.code),
            "{} is member and withdrawn",
            m.code
        );
        prop_assert_eq!(m.ratified, o.ratified.contains(&m.code));
    }
    prop_assert_eq!(s.statute.in_force, o.in_force);
    prop_assert_eq!(s.statute.adopted.is_some(), o.adopted);
    prop_assert_eq!(s.organisation.established.is_some(), o.established);
    prop_assert_eq!(
        s.organisation.secretariat_operational.is_some(),
        o.secretariat
    );
    prop_assert_eq!(&s.director_general.holder, &o.dg);
    prop_assert_eq!(
        s.director_general.term_ended.as_ref().map(|t| &t.person),
        o.dg_term_ended.as_ref()
    );
    prop_assert_eq!(
        s.director_general.vacated.is_some(),
        s.director_general.seq.is_some() && o.dg.is_none() && o.dg_term_ended.is_none()
    );
    prop_assert_eq!(&s.executive_board.chair, &o.chair);
    let board: Vec<String> = s
        .executive_board
        .members
        .iter()
        .map(|m| m.holder.clone())
        .collect();
    prop_assert_eq!(&board, &o.board);
    let uncertain: Vec<u64> = s.uncertain.iter().map(|u| u.seq).collect();
    prop_assert_eq!(&uncertain, &o.uncertain);
    Ok(())
}

proptest! {
    #![proptest_config(config(128))]

    /// At every day: the member count equals the number of listed members and equals the
    /// signatures minus the withdrawals counted by then (never negative); no party is listed
    /// both as a member and as an observer or as withdrawn; there is at most one Director
    /// General; and every list (members with their ordinals, ratifications, observers,
    /// withdrawals, milestones, Director General, Executive Board, uncertain events) equals what
    /// an independent fold of the live events computes — from the read models and from the
    /// known-at path alike.
    #[test]
    fn counts_agree_with_the_lists_and_with_an_independent_fold(h in history(8, 12)) {
        let (l, recorded) = ledger(&h);
        let last = recorded.last().cloned().unwrap_or_else(|| format_now(now_of(0)));
        for d in h.model.probe_days(16) {
            let o = oracle(&h.model, d);
            prop_assert!(o.dg.iter().count() <= 1);
            check_against_oracle(&state(&l, d, None), &o)
                .map_err(|e| TestCaseError::fail(format!("as of {d}: {e}")))?;
            check_against_oracle(&state(&l, d, Some(&last)), &o)
                .map_err(|e| TestCaseError::fail(format!("as of {d}, known at {last}: {e}")))?;
        }
        // The Director General's tenures never overlap: one per appointment, in order, each
        // closed by the next change, at most the last one open — held by the final holder.
        let tenures = query::officers(&l, iofs_ledger::event::Office::DirectorGeneral, None).unwrap();
        let appointments = h
            .model
            .rows()
            .iter()
            .filter(|r| r.event.kind.type_name() == "officer_appointed")
            .count();
        prop_assert_eq!(tenures.len(), appointments);
        prop_assert!(tenures.windows(2).all(|w| w[0].counted_from <= w[1].counted_from));
        prop_assert!(tenures.iter().rev().skip(1).all(|t| t.until.is_some()));
        let open: Vec<&str> = tenures
            .iter()
            .filter(|t| t.until.is_none())
            .map(|t| t.person.as_str())
            .collect();
        let end = oracle(&h.model, NaiveDate::MAX);
        // (At the far end every term has run out: the open tenure is the last one appointed.)
        let last_holder = end.dg.as_deref().or(end.dg_term_ended.as_deref());
        prop_assert_eq!(open, last_holder.into_iter().collect::<Vec<_>>());
    }
}

// ---------------------------------------------------------------------------------------------
// Refusal is total
// ---------------------------------------------------------------------------------------------

/// A way to make a batch invalid.
#[derive(Clone, Debug)]
enum Mutation {
    SignTwice(GenDate, GenDate),
    WithdrawNonMember(GenDate),
    RatifyTwice(GenDate, GenDate),
    VacateByStranger(GenDate),
    ObserverTwice(GenDate, GenDate),
    ObserverWhileMember(GenDate),
    EntersIntoForceTwice(GenDate, GenDate),
    BackdatedWithdrawal(usize),
    BackdatedVacancy(usize),
    RetractMissing(u64),
    RetractRecordEvent,
    RetractTwice,
    CorrectMissing(u64),
    CorrectRetracted,
    CorrectionBreaksARule,
    FutureDate(World),
    Malformed(u8),
    WrongExpectHead(u64),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (gen_date(), gen_date()).prop_map(|(a, b)| Mutation::SignTwice(a, b)),
        gen_date().prop_map(Mutation::WithdrawNonMember),
        (gen_date(), gen_date()).prop_map(|(a, b)| Mutation::RatifyTwice(a, b)),
        gen_date().prop_map(Mutation::VacateByStranger),
        (gen_date(), gen_date()).prop_map(|(a, b)| Mutation::ObserverTwice(a, b)),
        gen_date().prop_map(Mutation::ObserverWhileMember),
        (gen_date(), gen_date()).prop_map(|(a, b)| Mutation::EntersIntoForceTwice(a, b)),
        (0..PARTIES.len()).prop_map(Mutation::BackdatedWithdrawal),
        (0..PERSONS.len()).prop_map(Mutation::BackdatedVacancy),
        (0u64..1000).prop_map(Mutation::RetractMissing),
        Just(Mutation::RetractRecordEvent),
        Just(Mutation::RetractTwice),
        (0u64..1000).prop_map(Mutation::CorrectMissing),
        Just(Mutation::CorrectRetracted),
        Just(Mutation::CorrectionBreaksARule),
        world().prop_map(Mutation::FutureDate),
        (0u8..6).prop_map(Mutation::Malformed),
        (1u64..5).prop_map(Mutation::WrongExpectHead),
    ]
}

fn ev(ty: &str, date: GenDate, fields: Value) -> String {
    let mut v = json!({"type": ty, "date": date.json(), "source": source()});
    if let (Value::Object(m), Value::Object(f)) = (&mut v, fields) {
        m.extend(f);
    }
    v.to_string()
}

fn claim(date: GenDate) -> String {
    ev(
        "claim",
        date,
        json!({"about": "statement", "value": "a claim to amend"}),
    )
}

fn record(ty: &str, target: u64, replacement: Option<String>) -> String {
    let mut v = json!({"type": ty, "reason": "mutation", "source": source()});
    if let Value::Object(m) = &mut v {
        if ty == "retraction" {
            m.insert("retracts".into(), json!(target));
        } else {
            m.insert("corrects".into(), json!(target));
            let r = replacement.unwrap_or_else(|| claim(GenDate::Point(Point::Year(2010))));
            m.insert("replacement".into(), serde_json::from_str(&r).unwrap());
        }
    }
    v.to_string()
}

/// The lines of the invalid block, given the seq its first line would get and the seq after
/// the whole batch.
fn block(m: &Mutation, base: u64, end: u64) -> Vec<String> {
    let fresh = json!({ "party": FRESH_PARTY });
    let y2001 = GenDate::Point(Point::Year(2001));
    let d2010 = GenDate::Point(Point::Day(2010, 5, 5));
    match m {
        Mutation::SignTwice(a, b) => vec![
            ev("statute_signed", *a, fresh.clone()),
            ev("statute_signed", *b, fresh),
        ],
        Mutation::WithdrawNonMember(a) => vec![ev("membership_withdrawn", *a, fresh)],
        Mutation::RatifyTwice(a, b) => vec![
            ev("statute_ratified", *a, fresh.clone()),
            ev("statute_ratified", *b, fresh),
        ],
        Mutation::VacateByStranger(a) => vec![ev(
            "office_vacated",
            *a,
            json!({"office": "director_general", "person": STRANGER, "reason": "r"}),
        )],
        Mutation::ObserverTwice(a, b) => vec![
            ev("observer_admitted", *a, fresh.clone()),
            ev("observer_admitted", *b, fresh),
        ],
        Mutation::ObserverWhileMember(a) => vec![
            ev("statute_signed", *a, fresh.clone()),
            ev("observer_admitted", *a, fresh),
        ],
        Mutation::EntersIntoForceTwice(a, b) => vec![
            ev("statute_entered_into_force", *a, json!({})),
            ev("statute_entered_into_force", *b, json!({})),
        ],
        Mutation::BackdatedWithdrawal(p) => vec![ev(
            "membership_withdrawn",
            y2001,
            json!({ "party": PARTIES[*p] }),
        )],
        Mutation::BackdatedVacancy(p) => vec![ev(
            "office_vacated",
            y2001,
            json!({"office": "director_general", "person": PERSONS[*p], "reason": "r"}),
        )],
        Mutation::RetractMissing(k) => vec![record("retraction", end + 1 + k, None)],
        Mutation::CorrectMissing(k) => vec![record("correction", end + 1 + k, None)],
        Mutation::RetractRecordEvent => vec![
            claim(d2010),
            record("retraction", base, None),
            record("retraction", base + 1, None),
        ],
        Mutation::RetractTwice => vec![
            claim(d2010),
            record("retraction", base, None),
            record("retraction", base, None),
        ],
        Mutation::CorrectRetracted => vec![
            claim(d2010),
            record("retraction", base, None),
            record("correction", base, None),
        ],
        Mutation::CorrectionBreaksARule => vec![
            claim(d2010),
            record(
                "correction",
                base,
                Some(ev("membership_withdrawn", d2010, fresh)),
            ),
        ],
        Mutation::FutureDate(w) => {
            let x = Extras::none();
            let (v, _) = world_value(
                w,
                GenDate::Point(Point::Day(2026, 1, 1)),
                x,
                &Model::default(),
            );
            vec![v.to_string()]
        }
        Mutation::Malformed(k) => vec![match k {
            0 => r#"{"type":"statute_signed","party":"KAZ""#.to_string(),
            1 => ev("statute_signed", d2010, json!({"party": "XXX"})),
            2 => ev("statute_signed", d2010, json!({"party": "KAZ", "seq": 3})),
            3 => r#"{"type":"statute_signed","party":"KAZ","date":"2023-02-29","source":{"document":"d","quote":"q"}}"#.to_string(),
            4 => ev("meeting_held", d2010, json!({"organ": "general_assembly", "colour": "red"})),
            _ => "[1, 2, 3]".to_string(),
        }],
        Mutation::WrongExpectHead(_) => vec![],
    }
}

/// A signature, withdrawal, ratification or observer admission of one of two parties, dated
/// after everything so far (so that a shuffle puts lines out of replay order).
fn membership_cand() -> impl Strategy<Value = Cand> {
    (0u8..4, 0usize..2, 0u16..200, gen_date()).prop_map(|(k, p, late, d)| {
        let w = match k {
            0 => World::Sign(p),
            1 => World::Withdraw(PARTIES.len() + p),
            2 => World::Ratify(p),
            _ => World::Observer(p),
        };
        let x = Extras {
            late: Some(late),
            ..Extras::none()
        };
        Cand::World(w, d, x)
    })
}

proptest! {
    #![proptest_config(config(320))]

    /// A batch with any invalid event in it — a rule broken (member signs again, non-member
    /// withdraws, second ratification, vacancy by a non-holder, observer twice or while a
    /// member, second entry into force, a back-dated event breaking the replay), a bad
    /// retraction or correction target, a future date, malformed input, a stale
    /// `expect_head` — is refused whole: every table (events, hashes, timeline, replay order,
    /// overrides, windows, parties, party index, meta, schema) is exactly as before, the
    /// refusal names a line of the invalid block, and the ledger still accepts the valid part.
    #[test]
    fn a_refused_batch_leaves_every_table_exactly_as_before(
        h in history(4, 8),
        before in proptest::collection::vec(cand(), 0..5),
        after in proptest::collection::vec(world_cand(), 0..4),
        m in mutation(),
    ) {
        let (mut l, _) = ledger(&h);
        let mut model = h.model.clone();
        // Valid events before the invalid block (retractions and corrections among them aim at
        // seqs that the block does not shift) and world events after it.
        let mut good = filter_into(&mut model, &before);
        let pos = good.len();
        good.extend(filter_into(&mut model, &after));
        let head = h.model.len();
        let end = head + good.len() as u64 + 8;
        let bad = block(&m, head + pos as u64 + 1, end);
        let mut lines: Vec<String> = good.iter().map(Value::to_string).collect();
        let bad_lines: Vec<Location> =
            (0..bad.len()).map(|i| Location::Line(pos + i + 1)).collect();
        for (i, b) in bad.into_iter().enumerate() {
            lines.insert(pos + i, b);
        }
        let items: Vec<Result<(Location, Event), ParseError>> = lines
            .iter()
            .enumerate()
            .map(|(i, t)| parse_line(Location::Line(i + 1), t))
            .collect();
        let expect_head = match m {
            Mutation::WrongExpectHead(k) => Some(head + k),
            _ => None,
        };
        let before = dump(&l);
        let r = l.append(
            items,
            AppendOptions { expect_head, now: Some(now_of(h.batches.len())) },
        );
        let refusals = match r {
            Err(StoreError::Refused(r)) => r,
            other => return Err(TestCaseError::fail(format!("not refused: {other:?}\n{lines:#?}"))),
        };
        prop_assert_eq!(&dump(&l), &before, "a refused batch changed a table");
        if !matches!(m, Mutation::WrongExpectHead(_) | Mutation::EntersIntoForceTwice(..)) {
            prop_assert!(
                refusals.iter().any(|r| r.location.is_some_and(|x| bad_lines.contains(&x))),
                "no refusal names the invalid lines {:?}: {:?}", bad_lines, refusals
            );
        }
        append_values(&mut l, &good, now_of(h.batches.len() + 1))
            .map_err(|e| TestCaseError::fail(format!("the valid part was refused: {e}")))?;
        verify_ok(&mut l)?;
    }

    /// Whatever batch is offered — events breaking rules or not, retractions and corrections
    /// aimed at any seq — the ledger accepts it exactly when the model of the log (record
    /// rules, then a replay in replay order) accepts it; a refused batch changes no table, an
    /// accepted one verifies and answers like a fresh replay.
    #[test]
    fn the_ledger_accepts_a_batch_exactly_when_the_model_replays_it(
        h in history(4, 8),
        raw in proptest::collection::vec(cand(), 1..6),
    ) {
        let (mut l, _) = ledger(&h);
        let mut model = h.model.clone();
        let mut values = Vec::new();
        for c in &raw {
            if let Some((v, w)) = cand_value(c, &model, Targets::Any) {
                model.push(v.clone(), w);
                values.push(v);
            }
        }
        let expected = model.valid();
        let before = dump(&l);
        let r = append_values(&mut l, &values, now_of(h.batches.len()));
        prop_assert_eq!(r.is_ok(), expected, "ledger {:?}, model {}\n{:#?}", r, expected, values);
        if expected {
            verify_ok(&mut l)?;
            for d in model.probe_days(8) {
                prop_assert_eq!(
                    state(&l, d, None),
                    query::state_by_replay(&l, day(d)).unwrap()
                );
            }
        } else {
            prop_assert_eq!(&dump(&l), &before);
        }
    }

    /// The order of the lines of a batch matters only through replay order: world events that
    /// form a valid extension of the log, offered in any line order, are accepted exactly when
    /// the model replays them in that order (seqs break ties between events counted from the
    /// same day), and then answer like a fresh replay.
    #[test]
    fn a_batch_is_judged_by_replay_order_whatever_its_line_order(
        h in history(4, 8),
        extra in proptest::collection::vec(prop_oneof![world_cand(), membership_cand()], 2..8),
        keys in proptest::collection::vec(any::<u32>(), 8),
    ) {
        let (mut l, _) = ledger(&h);
        let mut tmp = h.model.clone();
        filter_into(&mut tmp, &extra);
        let mut recs = tmp.recs.split_off(h.model.recs.len());
        let mut order: Vec<usize> = (0..recs.len()).collect();
        order.sort_by_key(|i| keys[*i]);
        recs = order.into_iter().map(|i| recs[i].clone()).collect();
        let mut model = h.model.clone();
        let values: Vec<Value> = recs.iter().map(|r| r.value.clone()).collect();
        for r in recs {
            model.push(r.value, r.window);
        }
        let expected = model.valid();
        let before = dump(&l);
        let r = append_values(&mut l, &values, now_of(h.batches.len()));
        prop_assert_eq!(r.is_ok(), expected, "ledger {:?}, model {}\n{:#?}", r, expected, values);
        if expected {
            for d in model.probe_days(8) {
                let o = oracle(&model, d);
                check_against_oracle(&state(&l, d, None), &o)
                    .map_err(|e| TestCaseError::fail(format!("as of {d}: {e}")))?;
            }
        } else {
            prop_assert_eq!(&dump(&l), &before);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The hash chain
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
enum Column {
    Body,
    RecordedAt,
    Hash,
    Seq,
}

fn column() -> impl Strategy<Value = Column> {
    prop_oneof![
        3 => Just(Column::Body),
        1 => Just(Column::RecordedAt),
        1 => Just(Column::Hash),
        1 => Just(Column::Seq),
    ]
}

/// Changes one byte of one stored value of event `seq` behind the tool's back (after dropping
/// the update trigger). With `utf8`, the text stays valid UTF-8 (an ASCII byte replaced by
/// another). Returns the seqs `verify` may name — up to a bound, or exactly another one — or
/// `None` when the change is impossible (a seq that would collide or not be a number).
fn tamper(
    l: &Ledger,
    seq: u64,
    col: Column,
    pos: usize,
    delta: u8,
    utf8: bool,
) -> Option<(u64, Option<u64>)> {
    let c = l.connection();
    c.execute_batch("DROP TRIGGER IF EXISTS events_append_only_update")
        .unwrap();
    let name = match col {
        Column::Body => "body",
        Column::RecordedAt => "recorded_at",
        Column::Hash => "hash",
        Column::Seq => {
            let text = seq.to_string().into_bytes();
            let i = pos % text.len();
            let alphabet = b"0123456789-";
            let old = alphabet.iter().position(|b| *b == text[i]).unwrap();
            let mut new = text.clone();
            new[i] = alphabet[(old + 1 + delta as usize % 10) % alphabet.len()];
            let n: i64 = String::from_utf8(new).ok()?.parse().ok()?;
            let exists: bool = c
                .query_row(
                    "SELECT EXISTS(SELECT 1 FROM events WHERE seq = ?1)",
                    [n],
                    |r| r.get(0),
                )
                .unwrap();
            if exists {
                return None;
            }
            c.execute("UPDATE events SET seq = ?1 WHERE seq = ?2", [n, seq as i64])
                .unwrap();
            // A renumbered event leaves a gap, which verify names at the row after it (or, when
            // the gap is at the end, at the renumbered row itself).
            return Some((seq + 1, u64::try_from(n).ok()));
        }
    };
    let mut bytes: Vec<u8> = c
        .query_row(
            &format!("SELECT CAST({name} AS BLOB) FROM events WHERE seq = ?1"),
            [seq as i64],
            |r| r.get(0),
        )
        .unwrap();
    if utf8 {
        let ascii: Vec<usize> = (0..bytes.len()).filter(|i| bytes[*i] < 0x80).collect();
        let i = ascii[pos % ascii.len()];
        bytes[i] = (bytes[i] + 1 + delta % 127) % 128;
    } else {
        let i = pos % bytes.len();
        bytes[i] = bytes[i].wrapping_add(delta.max(1));
    }
    c.execute(
        &format!("UPDATE events SET {name} = CAST(?1 AS TEXT) WHERE seq = ?2"),
        rusqlite::params![bytes, seq as i64],
    )
    .unwrap();
    Some((seq, None))
}

fn check_tamper(
    h: &History,
    pick: prop::sample::Index,
    col: Column,
    pos: usize,
    delta: u8,
    utf8: bool,
) -> Result<(), TestCaseError> {
    let (mut l, _) = ledger(h);
    verify_ok(&mut l)?;
    let n = h.model.len();
    prop_assume!(n > 0);
    let seq = 1 + pick.index(n as usize) as u64;
    let Some((bound, renumbered)) = tamper(&l, seq, col, pos, delta, utf8) else {
        return Ok(());
    };
    match audit::verify(&mut l, None) {
        Ok(v) => {
            prop_assert!(
                !v.ok,
                "verify passed after changing {:?} of seq {}",
                col,
                seq
            );
            prop_assert!(
                v.first_bad_seq
                    .is_some_and(|b| b <= bound || Some(b) == renumbered),
                "changed {:?} of seq {}, verify names {:?}: {:?}",
                col,
                seq,
                v.first_bad_seq,
                v.problems
            );
        }
        Err(e) => {
            return Err(TestCaseError::fail(format!(
                "verify errored instead of naming seq {seq} after changing its {col:?}: {e}"
            )))
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(128))]

    /// Every valid history verifies: hash chain, triggers, rules by full replay, read models
    /// equal to a fresh replay; the head is the last seq.
    #[test]
    fn every_valid_history_verifies(h in history(8, 12)) {
        let (mut l, _) = ledger(&h);
        let v = audit::verify(&mut l, None).unwrap();
        prop_assert!(v.ok, "{:?}", v.problems);
        prop_assert_eq!(v.head_seq, h.model.len());
        prop_assert_eq!(v.events, h.model.len());
        prop_assert_eq!(v.head_hash, l.head().unwrap().hash);
    }

    /// Changing any one byte of a stored event's body, `recorded_at` or hash (the text staying
    /// UTF-8), or one digit of its seq, makes `verify` fail naming that seq or an earlier one
    /// (for a renumbered seq, the row after the gap it leaves).
    #[test]
    fn any_single_byte_change_that_keeps_utf8_fails_verification_at_or_before_its_seq(
        h in history(3, 8),
        pick in any::<prop::sample::Index>(),
        col in column(),
        pos in any::<usize>(),
        delta in any::<u8>(),
    ) {
        check_tamper(&h, pick, col, pos, delta, true)?;
    }

    /// Same as above for any byte value, including bytes that leave the stored text invalid
    /// UTF-8.
    #[test]
    fn any_single_byte_change_fails_verification_at_or_before_its_seq(
        h in history(3, 8),
        pick in any::<prop::sample::Index>(),
        col in column(),
        pos in any::<usize>(),
        delta in 1u8..,
    ) {
        check_tamper(&h, pick, col, pos, delta, false)?;
    }
}

/// Regression: a stored body edited to invalid UTF-8 used to make `verify` return an SQLite
/// conversion error instead of a failed verification naming the seq.
#[test]
fn verify_names_the_seq_of_a_stored_event_made_invalid_utf8() {
    let mut l = fresh_ledger();
    let line = r#"{"type":"statute_signed","party":"KAZ","date":"2013-12-10","source":{"document":"d","quote":"q"}}"#;
    let events = parse_batch(line).unwrap();
    l.append(events.into_iter().map(Ok), AppendOptions::default())
        .unwrap();
    // Replace the first byte of seq 1's body (`{`) by 0xFF.
    l.connection()
        .execute_batch(
            "DROP TRIGGER events_append_only_update;
             UPDATE events SET body = CAST(X'FF' || substr(CAST(body AS BLOB), 2) AS TEXT) WHERE seq = 1;",
        )
        .unwrap();
    match audit::verify(&mut l, None) {
        Ok(v) => {
            assert!(!v.ok);
            assert_eq!(v.first_bad_seq, Some(1), "{:?}", v.problems);
        }
        Err(e) => panic!("verify errored instead of naming seq 1: {e}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Round trip
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(96))]

    /// Exporting every event's canonical JSON in seq order and importing it into a fresh ledger
    /// (one batch, through the parser) gives the same state at every probed day — seqs and
    /// uncertain events included — and the same read models.
    #[test]
    fn export_then_import_gives_the_same_state(h in history(6, 10)) {
        let (l, _) = ledger(&h);
        let mut lines = Vec::new();
        l.for_each_event(0, None, |e| {
            lines.push(e.event.canonical_json());
            Ok(())
        })
        .unwrap();
        prop_assert_eq!(lines.len() as u64, h.model.len());
        let events = parse_batch(&lines.join("\n")).unwrap();
        let mut copy = fresh_ledger();
        copy.append(
            events.into_iter().map(Ok),
            AppendOptions { expect_head: Some(0), now: Some(now_of(h.batches.len())) },
        )
        .unwrap();
        for d in h.model.probe_days(16) {
            prop_assert_eq!(state(&l, d, None), state(&copy, d, None), "at {}", d);
        }
        let strip = |d: Vec<(String, Vec<String>)>| -> Vec<(String, Vec<String>)> {
            d.into_iter().filter(|(t, _)| t != "events").collect()
        };
        prop_assert_eq!(strip(dump(&l)), strip(dump(&copy)));
        let mut copy = copy;
        verify_ok(&mut copy)?;
    }
}

// ---------------------------------------------------------------------------------------------
// The event format
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(512))]

    /// Every generated event's canonical JSON parses back to the same event and is a fixed
    /// point; its effect window (the date's, or `takes_office`'s for an appointment, or the
    /// replacement's for a correction) is what the calendar says.
    #[test]
    fn canonical_json_round_trips_and_windows_match_the_calendar(h in history(3, 10)) {
        for r in &h.model.recs {
            let c = r.event.canonical_json();
            let back = Event::from_json(&c).unwrap();
            prop_assert_eq!(&back, &r.event);
            prop_assert_eq!(back.canonical_json(), c.clone());
            let lib = r.event.effect_window();
            let ours = r.window.map(|(a, b)| (day(a), day(b)));
            prop_assert_eq!(lib, ours, "{}", c);
            prop_assert_eq!(r.event.effective_day(), ours.map(|w| w.1));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing never panics
// ---------------------------------------------------------------------------------------------

const FIELDS: [&str; 32] = [
    "type",
    "date",
    "end_date",
    "source",
    "date_source",
    "inferred",
    "note",
    "party",
    "proposer",
    "description",
    "organ",
    "session",
    "extraordinary",
    "place",
    "host",
    "online",
    "theme",
    "office",
    "person",
    "takes_office",
    "term_years",
    "reason",
    "seats",
    "title",
    "name",
    "counterparty",
    "about",
    "value",
    "topic",
    "retracts",
    "corrects",
    "replacement",
];

const TYPES: [&str; 20] = [
    "organisation_established",
    "statute_adopted",
    "statute_signed",
    "statute_ratified",
    "statute_entered_into_force",
    "observer_admitted",
    "membership_withdrawn",
    "secretariat_operational",
    "proposal_made",
    "meeting_held",
    "officer_appointed",
    "office_vacated",
    "board_elected",
    "document_adopted",
    "programme_established",
    "agreement_signed",
    "claim",
    "retraction",
    "correction",
    "statute_stolen",
];

const WORDS: [&str; 24] = [
    "2013",
    "2013-12",
    "2013-12-10",
    "2023-02-29",
    "0000-01-01",
    "9999-12-31",
    "2013-1-1",
    "KAZ",
    "XXX",
    "unidentified:x-1",
    "unidentified:",
    "director_general",
    "executive_board",
    "chair",
    "member",
    "member_count",
    "statement",
    "board_chair",
    "signatory_ordinal",
    "",
    " ",
    "é\u{0}\u{7f}",
    "not_before",
    "seq",
];

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (0u64..20).prop_map(|n| json!(n)),
        prop_oneof![
            Just(json!(u64::MAX)),
            Just(json!(i64::MIN)),
            Just(json!(-1)),
            Just(json!(1.5)),
            Just(json!(1e300)),
            Just(json!(0))
        ],
        prop::sample::select(&WORDS[..]).prop_map(|s| json!(s)),
        prop::sample::select(&TYPES[..]).prop_map(|s| json!(s)),
        ".{0,12}".prop_map(Value::String),
    ]
}

fn any_json() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            proptest::collection::vec(
                (
                    prop_oneof![
                        3 => prop::sample::select(&FIELDS[..]).prop_map(String::from),
                        1 => prop::sample::select(&WORDS[..]).prop_map(String::from)
                    ],
                    inner
                ),
                0..6
            )
            .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// An object that looks like an event: a type, often a date and a source, and fields with
/// values of any shape.
fn eventish() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(&TYPES[..]),
        proptest::option::weighted(
            0.8,
            prop_oneof![gen_date().prop_map(GenDate::json), scalar()],
        ),
        proptest::option::weighted(0.8, prop_oneof![Just(source()), any_json()]),
        proptest::collection::vec((prop::sample::select(&FIELDS[..]), any_json()), 0..5),
    )
        .prop_map(|(ty, date, src, fields)| {
            let mut m = serde_json::Map::new();
            m.insert("type".into(), json!(ty));
            if let Some(d) = date {
                m.insert("date".into(), d);
            }
            if let Some(s) = src {
                m.insert("source".into(), s);
            }
            for (k, v) in fields {
                m.insert(k.to_string(), v);
            }
            Value::Object(m)
        })
}

/// Feeds text to every parser entry point and whatever parses to `append`; nothing may panic,
/// and an accepted batch must verify.
fn feed(text: &str) -> Result<(), TestCaseError> {
    let _ = Event::from_json(text);
    for (i, line) in text.lines().enumerate() {
        let _ = parse_line(Location::Line(i + 1), line);
    }
    let mut l = fresh_ledger();
    match parse_batch(text) {
        Ok(events) => {
            for (_, e) in &events {
                let c = e.canonical_json();
                prop_assert_eq!(Event::from_json(&c), Ok(e.clone()));
            }
            if l.append(events.into_iter().map(Ok), AppendOptions::default())
                .is_ok()
            {
                verify_ok(&mut l)?;
            }
        }
        Err(errors) => {
            prop_assert!(!errors.is_empty());
            let r = l.append(
                errors.into_iter().map(Err::<Prepared, _>),
                AppendOptions::default(),
            );
            prop_assert!(matches!(r, Err(StoreError::Refused(_))), "{:?}", r);
            prop_assert_eq!(l.head().unwrap().seq, 0);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(768))]

    /// Arbitrary bytes (read as UTF-8 lossily, as lines or as an array) never make the parser
    /// or `append` panic: each input gives errors or accepted events.
    #[test]
    fn arbitrary_bytes_never_panic_the_parser_or_append(
        bytes in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..300),
            "[\\[\\]{}\":,0-9a-z_\\- \n.\\\\]{0,200}".prop_map(String::into_bytes),
        ],
    ) {
        let text = String::from_utf8_lossy(&bytes);
        feed(&text)?;
        feed(&format!("[{text}]"))?;
    }

    /// Arbitrary JSON — objects with the format's field names and values of every shape, and
    /// event-like objects — given to `Event::from_object`, to the parser (as a line, as an
    /// array, as a correction's replacement) and to `append`, gives an error or an accepted
    /// event, never a panic; an accepted event's canonical JSON parses back to it.
    #[test]
    fn arbitrary_json_never_panics_the_parser_or_append(
        v in prop_oneof![any_json(), eventish()],
    ) {
        if let Value::Object(m) = &v {
            if let Ok(e) = Event::from_object(m.clone()) {
                prop_assert_eq!(Event::from_json(&e.canonical_json()), Ok(e));
            }
        }
        let line = v.to_string();
        feed(&line)?;
        feed(&format!("[{line}]"))?;
        let correction = json!({
            "type": "correction", "corrects": 1, "reason": "r", "source": source(), "replacement": v,
        });
        feed(&correction.to_string())?;
    }
}

/// A way to damage a valid event.
#[derive(Clone, Debug)]
enum Damage {
    Remove(prop::sample::Index),
    Replace(prop::sample::Index, Value),
    Add(String, Value),
    Retype(&'static str),
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        any::<prop::sample::Index>().prop_map(Damage::Remove),
        (any::<prop::sample::Index>(), any_json()).prop_map(|(i, v)| Damage::Replace(i, v)),
        (
            prop_oneof![
                prop::sample::select(&FIELDS[..]).prop_map(String::from),
                "[a-z_]{1,8}"
            ],
            any_json()
        )
            .prop_map(|(k, v)| Damage::Add(k, v)),
        prop::sample::select(&TYPES[..]).prop_map(Damage::Retype),
    ]
}

fn apply_damage(v: &mut Value, d: &Damage) {
    let Value::Object(m) = v else { return };
    let keys: Vec<String> = m.keys().cloned().collect();
    match d {
        Damage::Remove(i) if !keys.is_empty() => {
            m.remove(&keys[i.index(keys.len())]);
        }
        Damage::Replace(i, x) if !keys.is_empty() => {
            m.insert(keys[i.index(keys.len())].clone(), x.clone());
        }
        Damage::Add(k, x) => {
            m.insert(k.clone(), x.clone());
        }
        Damage::Retype(t) => {
            m.insert("type".into(), json!(t));
        }
        _ => {}
    }
}

proptest! {
    #![proptest_config(config(256))]

    /// Valid events damaged in one to three ways (a field removed, replaced by any JSON, added,
    /// the type changed) and appended to a valid history never panic the parser or `append`;
    /// what is accepted round-trips through its canonical JSON and leaves a ledger that
    /// verifies; what is refused changes no table.
    #[test]
    fn damaged_valid_events_never_panic_and_what_is_accepted_verifies(
        h in history(3, 6),
        pick in any::<prop::sample::Index>(),
        extra in world_cand(),
        damages in proptest::collection::vec(damage(), 1..4),
    ) {
        let (mut l, _) = ledger(&h);
        let mut v = if h.model.is_empty() {
            cand_value(&extra, &h.model, Targets::Live).unwrap().0
        } else {
            h.model.recs[pick.index(h.model.recs.len())].value.clone()
        };
        for d in &damages {
            apply_damage(&mut v, d);
        }
        let line = v.to_string();
        let before = dump(&l);
        match parse_batch(&line) {
            Ok(events) => {
                for (_, e) in &events {
                    prop_assert_eq!(Event::from_json(&e.canonical_json()), Ok(e.clone()));
                }
                let r = l.append(
                    events.into_iter().map(Ok),
                    AppendOptions { expect_head: None, now: Some(now_of(h.batches.len())) },
                );
                match r {
                    Ok(_) => verify_ok(&mut l)?,
                    Err(_) => prop_assert_eq!(&dump(&l), &before),
                }
            }
            Err(errors) => {
                let r = l.append(errors.into_iter().map(Err::<Prepared, _>), AppendOptions::default());
                prop_assert!(matches!(r, Err(StoreError::Refused(_))));
                prop_assert_eq!(&dump(&l), &before);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// State snapshots and the fast fact reader.

/// A stored fact's text: a known or unknown tag first, then fields of any kind in any order.
fn fact_text() -> impl Strategy<Value = String> {
    let tag = prop_oneof![
        Just("member"),
        Just("withdrawn"),
        Just("since"),
        Just("ended"),
        Just("holder"),
        Just("count"),
        Just("board"),
        Just("mayor"),
    ];
    let name = prop_oneof![
        Just("since"),
        Just("seq"),
        Just("ordinal"),
        Just("value"),
        Just("person"),
        Just("term_years"),
        Just("vacated_reason"),
        Just("previous"),
        Just("seats"),
        Just("other"),
    ];
    let value = prop_oneof![
        (0u64..5000).prop_map(|n| json!(n)),
        Just(json!(u64::MAX)),
        Just(json!(4_294_967_296u64)),
        Just(json!(-1)),
        Just(json!(1.5)),
        Just(Value::Null),
        prop_oneof![
            Just("2013"),
            Just("2013-12"),
            Just("2013-12-10"),
            Just("2013-02-30"),
            Just("13"),
        ]
        .prop_map(|s| json!(s)),
        "[a-zA-Z \"\\\\\t\u{e9}\u{0}]{0,8}".prop_map(|s| json!(s)),
        Just(json!({"not_before": "2013", "not_after": "2014-02"})),
        Just(json!({"not_before": "2015", "not_after": "2014-02"})),
        Just(json!({"not_before": "2013-02-30", "not_after": "2014"})),
        Just(json!({"not_before": "2013", "not_after": "2014", "x": 1})),
        Just(json!({"not_before": "2013"})),
        Just(json!([{"party": "KAZ", "role": "chair"}])),
    ];
    (tag, prop::collection::vec((name, value), 0..6)).prop_map(|(tag, fields)| {
        let mut text = format!(r#"{{"fact":"{tag}""#);
        for (n, v) in fields {
            text.push_str(&format!(r#","{n}":{v}"#));
        }
        text.push('}');
        text
    })
}

proptest! {
    #![proptest_config(config(2000))]

    /// The direct scan that reads flat facts agrees with the JSON reader on every text, and
    /// never accepts one the JSON reader refuses, whole or with a byte cut out.
    #[test]
    fn the_fast_fact_reader_agrees_with_the_json_reader_and_never_accepts_what_it_refuses(
        text in fact_text(),
        cut in any::<prop::sample::Index>(),
    ) {
        use iofs_ledger::projection::Fact;
        let mut cut_text = text.clone().into_bytes();
        cut_text.remove(cut.index(cut_text.len()));
        for t in [text.clone(), String::from_utf8_lossy(&cut_text).into_owned()] {
            match (Fact::decode(&t), serde_json::from_str::<Fact>(&t)) {
                (Ok(a), Ok(b)) => prop_assert_eq!(a, b, "{}", t),
                (Err(_), Err(_)) => {}
                (a, b) => prop_assert!(false, "{t}: fast {a:?}, JSON {b:?}"),
            }
        }
    }
}

proptest! {
    #![proptest_config(config(6))]

    /// However a long history is appended (in batches of any size, then a retraction of an
    /// early event, a back-dated signature and a correction turning a meeting or claim into a
    /// signature, each refolding the log from an early position and so dropping and retaking
    /// the snapshots after it), the state the read models give at
    /// any day (a snapshot plus the facts changed since) equals a full replay's, and `verify`
    /// finds the snapshots equal to those a rebuild derives.
    #[test]
    fn state_from_snapshots_equals_a_full_replay_at_any_day_however_the_log_was_appended(
        seed in 0u64..1000,
        batches in prop::collection::vec(1usize..700, 1..8),
        days in prop::collection::vec(0i64..46_000, 6),
        retract in 1u64..2500,
        correct in 0usize..2000,
    ) {
        let events: Vec<Event> = iofs_ledger::synth::events(2500, seed).collect();
        let mut l = fresh_ledger();
        let mut at = 0;
        for b in batches.iter().cycle() {
            if at >= events.len() {
                break;
            }
            let end = (at + b).min(events.len());
            let input = events[at..end]
                .iter()
                .enumerate()
                .map(|(i, e)| Ok((Location::Index(at + i), e.clone())));
            l.append(input, AppendOptions::default()).unwrap();
            at = end;
        }
        let snapshots: i64 = l
            .connection()
            .query_row("SELECT COUNT(*) FROM state_snapshots", [], |r| r.get(0))
            .unwrap();
        prop_assert!(snapshots >= 1, "a 2500-event history has snapshots");
        // Refolds from early positions: a retraction (refused if it would break a rule: then
        // nothing changes) and a signature dated near the start.
        let retraction = json!({"type": "retraction", "retracts": retract, "reason": "test",
            "source": source()}).to_string();
        let _ = l.append(parse_batch(&retraction).unwrap().into_iter().map(Ok), AppendOptions::default());
        let late = json!({"type": "statute_signed", "party": "unidentified:late-signer",
            "date": "1900-02", "source": source()}).to_string();
        l.append(parse_batch(&late).unwrap().into_iter().map(Ok), AppendOptions::default()).unwrap();
        // A correction that turns a meeting, claim or the like (which a state fold passes over
        // unread) into a signature: the fold must read the correction.
        // (Not one the synthetic history itself retracts: that correction would be refused.)
        let retracted: std::collections::HashSet<u64> = events
            .iter()
            .filter_map(|e| match &e.kind {
                iofs_ledger::event::Kind::Retraction { retracts, .. } => Some(*retracts),
                _ => None,
            })
            .collect();
        let stateless = events
            .iter()
            .enumerate()
            .skip(correct)
            .find(|(i, e)| {
                STATELESS_TYPES.contains(&e.kind.type_name())
                    && *i as u64 + 1 != retract
                    && !retracted.contains(&(*i as u64 + 1))
            });
        prop_assert!(stateless.is_some(), "a 2500-event history has meetings and claims");
        if let Some((i, e)) = stateless {
            let correction = json!({"type": "correction", "corrects": i + 1, "reason": "test",
                "replacement": {"type": "statute_signed", "party": "unidentified:corrected-signer",
                    "date": serde_json::to_value(e.date).unwrap(), "source": source()},
                "source": source()}).to_string();
            l.append(parse_batch(&correction).unwrap().into_iter().map(Ok), AppendOptions::default()).unwrap();
        }
        let first = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap();
        for d in days {
            let day = iofs_ledger::date::Day::from_naive(first + Duration::days(d));
            let fast = query::state(&l, day, None).unwrap();
            let slow = query::state_by_replay(&l, day).unwrap();
            prop_assert_eq!(fast, slow, "at {}", day);
        }
        verify_ok(&mut l)?;
    }
}
