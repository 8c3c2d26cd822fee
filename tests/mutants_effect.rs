//! The dry run's comparison (`src/effect.rs`), where mutations survived `record.rs` and
//! `deferred.rs` (see `docs/testing.md`, "Mutation testing"): a correction's original day, and
//! `compare` on lists whose count does not change.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use iofs_ledger::date::Day;
use iofs_ledger::effect::{compare, dry_run};
use iofs_ledger::event::parse_batch;
use iofs_ledger::query;
use iofs_ledger::store::{AppendOptions, Ledger};
use serde_json::{json, Value};

fn src() -> Value {
    json!({"document": "test.txt", "quote": "A sentence."})
}

fn signed(party: &str, date: &str) -> Value {
    json!({"type": "statute_signed", "date": date, "party": party, "source": src()})
}

fn text(lines: &[Value]) -> String {
    lines.iter().map(|v| format!("{v}\n")).collect()
}

fn ledger_of(lines: &[Value]) -> Ledger {
    let mut l = Ledger::in_memory().unwrap();
    l.append(
        parse_batch(&text(lines)).unwrap().into_iter().map(Ok),
        AppendOptions::default(),
    )
    .unwrap();
    l
}

fn day(s: &str) -> Day {
    Day::parse(s).unwrap()
}

/// A dry run of a correction that moves a signature to a later day compares the answers on the
/// day the signature counted from until now as well as on its new day: the member count falls
/// on the old day and the party leaves the list there.
#[test]
fn a_dry_run_of_a_correction_compares_the_corrected_events_own_day() {
    let mut l = ledger_of(&[signed("KAZ", "2014-05-01"), signed("TUR", "2014-06-01")]);
    let correction = json!({"type": "correction", "corrects": 1, "reason": "misread",
        "replacement": signed("KAZ", "2016-01-01"), "source": src()});
    let effect = dry_run(
        &mut l,
        parse_batch(&text(&[correction]))
            .unwrap()
            .into_iter()
            .map(Ok),
        AppendOptions::default(),
    )
    .unwrap();
    assert!(
        effect.days.contains(&"2014-05-01".to_string()),
        "{:?}",
        effect.days
    );
    let on_old_day: Vec<_> = effect
        .changes
        .iter()
        .filter(|c| c.day == "2014-05-01" && c.answer == "members")
        .collect();
    assert_eq!(on_old_day.len(), 1, "{:#?}", effect.changes);
    assert_eq!(on_old_day[0].before, json!(1));
    assert_eq!(on_old_day[0].after, json!(0));
    assert_eq!(on_old_day[0].removed, vec!["KAZ".to_string()]);
    assert_eq!(l.head().unwrap().seq, 2, "the dry run appended");
}

/// `compare` reports an answer whose list changes even when its count does not (one party
/// leaves as another joins), one that only grows (added, none removed), an answer without a
/// list whose value changes, and nothing for two equal states.
#[test]
fn compare_reports_list_changes_with_or_without_a_change_of_count() {
    let on = day("2015-01-01");
    let state = |lines: &[Value]| query::state(&ledger_of(lines), on, None).unwrap();
    let kaz = state(&[signed("KAZ", "2014-05-01")]);
    let tur = state(&[signed("TUR", "2014-05-01")]);
    let both = state(&[signed("KAZ", "2014-05-01"), signed("TUR", "2014-06-01")]);

    assert!(compare(&kaz, &kaz).is_empty());

    let swap: Vec<_> = compare(&kaz, &tur)
        .into_iter()
        .filter(|c| c.answer == "members")
        .collect();
    assert_eq!(swap.len(), 1, "{swap:?}");
    assert_eq!(
        (swap[0].before.clone(), swap[0].after.clone()),
        (json!(1), json!(1))
    );
    assert_eq!(swap[0].added, vec!["TUR".to_string()]);
    assert_eq!(swap[0].removed, vec!["KAZ".to_string()]);

    let grow: Vec<_> = compare(&kaz, &both)
        .into_iter()
        .filter(|c| c.answer == "members")
        .collect();
    assert_eq!(grow.len(), 1, "{grow:?}");
    assert_eq!(grow[0].added, vec!["TUR".to_string()]);
    assert!(grow[0].removed.is_empty());

    // An answer without a list (the Director General) changes by its value alone.
    let established =
        json!({"type": "organisation_established", "date": "2000-01-01", "source": src()});
    let appointed = json!({"type": "officer_appointed", "date": "2014-04-04",
        "office": "director_general", "person": "Bob", "source": src()});
    let before = state(std::slice::from_ref(&established));
    let after = state(&[established, appointed]);
    let dg: Vec<_> = compare(&before, &after)
        .into_iter()
        .filter(|c| c.answer == "director_general")
        .collect();
    assert_eq!(dg.len(), 1, "{dg:?}");
    assert_eq!(
        (dg[0].before.clone(), dg[0].after.clone()),
        (Value::Null, json!("Bob"))
    );
}
