//! Property tests of `import` (issue 16, item 3), over generated valid histories (every event
//! type, corrections and retractions, several batches each recorded at its own instant; see
//! `tests/support/mod.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use chrono::{TimeZone, Utc};
use iofs_ledger::audit;
use iofs_ledger::store::{ImportItem, Ledger};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use support::*;

const REGRESSIONS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/proptest-regressions/replica_props.txt"
);

fn config(default_cases: u32) -> ProptestConfig {
    let cases = std::env::var("IOFS_PROPTEST_CASES")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(default_cases);
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(REGRESSIONS))),
        ..ProptestConfig::default()
    }
}

/// The log of `l` after `after`, as `import` takes it (what `log --json` carries).
fn log_items(l: &Ledger, after: u64) -> Vec<ImportItem> {
    let mut out = Vec::new();
    l.for_each_event(after, None, |e| {
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

fn later() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap()
}

proptest! {
    #![proptest_config(config(16))]

    /// A replica imported from a ledger's log, in one go or caught up batch by batch (each
    /// catch-up run twice), is the same ledger: every table equal row for row (the read models
    /// derived by the replica's own appends), the same head, and it verifies.
    #[test]
    fn a_replica_made_by_import_is_the_same_ledger_table_for_table(h in history(3, 5), cut in 0usize..4) {
        let (source, _) = ledger(&h);
        let mut whole = Ledger::in_memory().unwrap();
        whole.import(log_items(&source, 0).into_iter().map(Ok), later()).unwrap();
        prop_assert_eq!(dump(&whole), dump(&source));

        let mut stepped = Ledger::in_memory().unwrap();
        let head = source.head().unwrap().seq;
        let first = (cut as u64 * head / 3).min(head);
        let items = log_items(&source, 0);
        stepped.import(items[..first as usize].iter().cloned().map(Ok), later()).unwrap();
        for _ in 0..2 {
            let r = stepped.import(log_items(&source, stepped.head().unwrap().seq.min(first)).into_iter().map(Ok), later()).unwrap();
            prop_assert_eq!(r.head_seq, head);
        }
        prop_assert_eq!(dump(&stepped), dump(&source));
        prop_assert!(audit::verify(&mut stepped, None).unwrap().ok);
    }

    /// An import whose input differs from the chain anywhere (one event's hash) writes nothing.
    #[test]
    fn an_import_with_one_bad_hash_writes_nothing(h in history(2, 5), at in any::<prop::sample::Index>()) {
        let (source, _) = ledger(&h);
        let mut items = log_items(&source, 0);
        prop_assume!(!items.is_empty());
        let i = at.index(items.len());
        items[i].hash = "0".repeat(64);
        let mut replica = Ledger::in_memory().unwrap();
        let before = dump(&replica);
        let e = replica.import(items.into_iter().map(Ok), later()).unwrap_err();
        prop_assert!(e.to_string().contains(&format!("seq {}", i + 1)), "{}", e);
        prop_assert_eq!(dump(&replica), before);
    }
}
