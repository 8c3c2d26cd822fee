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

/// Snapshots sit exactly where the rule puts them: walking the timeline in replay order, a
/// snapshot ends the first position at which the rows since the previous one reach the
/// threshold (here lowered to a fixed 8 rows; the library's `max(512, keys)` is pinned by a
/// unit test in `store::snapshots`), and it records the rows and keys up to there. Checked against the timeline
/// table with that rule written again here, after appends in several batches, some dated
/// before what was already recorded (so snapshots are invalidated and taken again).
#[test]
fn snapshots_are_taken_exactly_where_the_rows_since_the_last_reach_the_threshold() {
    set_snapshot_threshold_for_tests(8);
    let codes = [
        "KAZ", "TUR", "SEN", "NGA", "TCD", "LBY", "ARE", "SAU", "BGD", "CMR", "CIV", "EGY", "MOZ",
        "TJK", "QAT", "MAR", "TUN", "JOR", "YEM", "GAB", "IRQ", "AFG", "UGA", "IRN",
    ];
    let mut l = Ledger::in_memory().unwrap();
    // Four batches; the later ones reach back before days already recorded.
    for (batch, year) in [(0, 2016), (1, 2014), (2, 2018), (3, 2015)] {
        let mut text = String::new();
        for (i, c) in codes.iter().enumerate().filter(|(i, _)| i % 4 == batch) {
            // Pairs share a day, so some positions hold one signature and others more rows.
            let day = 1 + (i / 2) as u32;
            text += &format!(
                r#"{{"type":"statute_signed","party":"{c}","date":"{year}-03-{day:02}","source":{{"document":"t.txt","quote":"A sentence."}}}}"#
            );
            text.push('\n');
        }
        let events = parse_batch(&text).unwrap();
        l.append(events.into_iter().map(Ok), AppendOptions::default())
            .unwrap();
    }
    // Ratifications (two rows each, against a signature's three) so that some snapshot falls
    // where the rows since the last one are exactly the threshold, not one more.
    let mut text = String::new();
    for (i, c) in codes.iter().take(9).enumerate() {
        text += &format!(
            r#"{{"type":"statute_ratified","party":"{c}","date":"2019-0{}-01","source":{{"document":"t.txt","quote":"A sentence."}}}}"#,
            1 + i
        );
        text.push('\n');
    }
    let events = parse_batch(&text).unwrap();
    l.append(events.into_iter().map(Ok), AppendOptions::default())
        .unwrap();
    let c = l.connection();
    let mut st = c
        .prepare("SELECT day, ord, key FROM timeline ORDER BY day, ord, key")
        .unwrap();
    let rows: Vec<(i64, i64, String)> = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut expected = Vec::new();
    let (mut keys, mut before, mut pending) = (std::collections::BTreeSet::new(), 0i64, 0i64);
    for (i, (day, ord, key)) in rows.iter().enumerate() {
        keys.insert(key.clone());
        pending += 1;
        let ends_position = rows.get(i + 1).is_none_or(|(d, o, _)| (d, o) != (day, ord));
        if ends_position && pending >= 8 {
            before += pending;
            pending = 0;
            expected.push((*day, *ord, before, keys.len() as i64));
        }
    }
    let mut st = c
        .prepare("SELECT day, ord, rows, keys FROM state_snapshots ORDER BY day, ord")
        .unwrap();
    let actual: Vec<(i64, i64, i64, i64)> = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(expected.len() >= 3, "{expected:?}");
    assert!(
        expected.windows(2).any(|w| w[1].2 - w[0].2 == 8),
        "no snapshot falls exactly at the threshold: {expected:?}"
    );
    assert_eq!(actual, expected);
}
