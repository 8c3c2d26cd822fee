//! State snapshots against a timeline changed behind the ledger's back, pinned where a mutation
//! of `src/store/snapshots.rs` survived the reference-model properties (see `docs/testing.md`,
//! "Mutation testing").
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use iofs_ledger::event::parse_batch;
use iofs_ledger::store::{set_snapshot_threshold_for_tests, AppendOptions, Ledger};

fn signatures(codes: &[&str]) -> String {
    codes
        .iter()
        .map(|c| {
            format!(
                r#"{{"type":"statute_signed","party":"{c}","date":"2014-05-01","source":{{"document":"t.txt","quote":"A sentence."}}}}"#
            ) + "\n"
        })
        .collect()
}

/// A snapshot stores one `key TAB fact` line per key, so a timeline row whose key holds a tab,
/// or whose fact holds a newline, would be read back as other keys. The append that would take
/// a snapshot over such a row is refused, naming the cause, and leaves no snapshot behind:
/// each of the two conditions is enough on its own.
#[test]
fn a_snapshot_over_a_key_with_a_tab_or_a_fact_with_a_newline_is_refused() {
    set_snapshot_threshold_for_tests(8);
    for (key, fact) in [("member:K\tAZ", "{}"), ("member:ZZZ", "{\n}")] {
        let mut l = Ledger::in_memory().unwrap();
        let first = parse_batch(&signatures(&["KAZ"])).unwrap();
        l.append(first.into_iter().map(Ok), AppendOptions::default())
            .unwrap();
        l.connection()
            .execute(
                "INSERT INTO timeline (key, day, ord, fact) VALUES (?1, 1, 1, ?2)",
                [key, fact],
            )
            .unwrap();
        let more = parse_batch(&signatures(&["TUR", "SEN", "NGA", "TCD"])).unwrap();
        let err = l
            .append(more.into_iter().map(Ok), AppendOptions::default())
            .expect_err(key)
            .to_string();
        assert!(err.contains("tab or newline"), "{key:?}: {err}");
        let snapshots: i64 = l
            .connection()
            .query_row("SELECT COUNT(*) FROM state_snapshots", [], |r| r.get(0))
            .unwrap();
        assert_eq!(snapshots, 0, "{key:?}");
    }
}
