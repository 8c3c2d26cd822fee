//! verify compares the read models with what the log derives by an ordered merge (one pass over
//! the log, the fold on a worker thread, each table read in its key order): a row changed,
//! removed or added anywhere in any table is found and named by its table and key, and a valid
//! ledger, whatever its history (out of replay order, with retractions and corrections), passes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use iofs_ledger::audit::{self, Verification};
use iofs_ledger::event::{Event, Location};
use iofs_ledger::store::{AppendOptions, Ledger};
use proptest::prelude::*;
use rusqlite::types::Value;
use serde_json::json;

/// Snapshots every few timeline rows in this test process, so that small ledgers have many.
fn small_snapshots() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| iofs_ledger::store::set_snapshot_threshold_for_tests(16));
}

fn instant(hour: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc)
        + chrono::Duration::hours(hour)
}

/// A ledger of `n` synthetic events (seed `seed`) appended in `batches` batches, then
/// `extra` retractions and corrections of earlier world events (each a batch of its own,
/// kept only when the ledger accepts it): corrections take their target's place in replay
/// order, so the log is no longer in replay order.
fn ledger(n: usize, seed: u64, batches: usize, extra: &[(bool, usize)]) -> Ledger {
    small_snapshots();
    let mut l = Ledger::in_memory().unwrap();
    let events: Vec<Event> = iofs_ledger::synth::events(n, seed).collect();
    let per = n.div_ceil(batches.max(1)).max(1);
    let mut hour = 0;
    for chunk in events.chunks(per) {
        let input = chunk
            .iter()
            .cloned()
            .enumerate()
            .map(|(i, e)| Ok((Location::Index(i), e)));
        l.append(
            input,
            AppendOptions {
                now: Some(instant(hour)),
                ..Default::default()
            },
        )
        .unwrap();
        hour += 1;
    }
    for &(retract, pick) in extra {
        let head = l.head().unwrap().seq;
        let target = 1 + (pick as u64 % head.max(1));
        let Some(stored) = l.event(target).unwrap() else {
            continue;
        };
        let source = json!({"document": "t.txt", "quote": "A later finding."});
        let value = if retract {
            json!({"type": "retraction", "retracts": target, "reason": "r", "source": source})
        } else {
            let replacement: serde_json::Value =
                serde_json::from_str(&stored.event.canonical_json()).unwrap();
            json!({"type": "correction", "corrects": target, "replacement": replacement, "reason": "r", "source": source})
        };
        let Ok(ev) = Event::from_json(&value.to_string()) else {
            continue;
        };
        hour += 1;
        let _ = l.append(
            [Ok((Location::Index(0), ev))],
            AppendOptions {
                now: Some(instant(hour)),
                ..Default::default()
            },
        );
    }
    l
}

fn verify(l: &mut Ledger) -> Verification {
    audit::verify_at(l, None, instant(10_000)).unwrap()
}

/// Runs `sql` against the ledger's file as an attacker would.
fn sql(l: &Ledger, statements: &str) {
    l.connection().execute_batch(statements).unwrap();
}

fn count(l: &Ledger, table: &str) -> i64 {
    l.connection()
        .query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

/// The key columns of each read model, as verify names a row, and its other columns.
const TABLES: [(&str, &[&str], &[&str]); 8] = [
    ("timeline", &["day", "ord", "key"], &["fact"]),
    ("replay_order", &["day", "ord", "seq"], &[]),
    ("overrides", &["target", "by_seq"], &["kind"]),
    (
        "windows",
        &["day", "ord"],
        &["start", "seq", "type", "party", "date"],
    ),
    (
        "state_snapshots",
        &["day", "ord"],
        &["rows", "keys", "facts"],
    ),
    ("parties", &["party"], &[]),
    ("party_events", &["party", "seq"], &[]),
    ("meta", &["key"], &["value"]),
];

fn shown(v: &Value) -> String {
    match v {
        Value::Integer(i) => i.to_string(),
        Value::Text(t) => format!("'{}'", t.replace('\'', "''")),
        other => format!("{other:?}"),
    }
}

/// The key columns of the row at `offset` in the table's key order, as verify writes them.
fn key_of(l: &Ledger, table: &str, keys: &[&str], offset: i64) -> String {
    let cols = keys.join(", ");
    let row: Vec<Value> = l
        .connection()
        .query_row(
            &format!("SELECT {cols} FROM {table} ORDER BY {cols} LIMIT 1 OFFSET {offset}"),
            [],
            |r| (0..keys.len()).map(|i| r.get::<_, Value>(i)).collect(),
        )
        .unwrap();
    keys.iter()
        .zip(&row)
        .map(|(c, v)| format!("{c} = {}", shown(v)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The problem that names `table`, if any.
fn names_table<'v>(v: &'v Verification, table: &str) -> Option<&'v str> {
    let needle = format!("read model `{table}` differs");
    v.problems
        .iter()
        .map(|p| p.what.as_str())
        .find(|w| w.contains(&needle))
}

/// A row changed in the middle of each read model of a 20,000-event ledger is found by the
/// merge and named by its table and key (the first row that differs, in the table's key order).
#[test]
fn a_row_changed_in_the_middle_of_any_read_model_of_a_large_ledger_is_named_by_table_and_key() {
    let mut l = ledger(20_000, 5, 4, &[(true, 7_001), (false, 12_345), (false, 3)]);
    let v = verify(&mut l);
    assert!(v.ok, "{:?}", v.problems);
    for (table, keys, others) in TABLES {
        let rows = count(&l, table);
        assert!(rows > 0, "{table} is empty");
        let mid = rows / 2;
        let key = key_of(&l, table, keys, mid);
        let cols = keys.join(", ");
        let edit = match others.first() {
            // Change a column outside the key, so the row keeps its place.
            Some(col) => format!(
                "UPDATE {table} SET {col} = {col} || 'x' WHERE ({cols}) = (SELECT {cols} FROM {table} ORDER BY {cols} LIMIT 1 OFFSET {mid})"
            ),
            None => format!(
                "DELETE FROM {table} WHERE ({cols}) = (SELECT {cols} FROM {table} ORDER BY {cols} LIMIT 1 OFFSET {mid})"
            ),
        };
        sql(&l, &format!("SAVEPOINT t; {edit};"));
        let v = verify(&mut l);
        sql(&l, "ROLLBACK TO t; RELEASE t;");
        assert!(!v.ok, "{table}: verify passed after `{edit}`");
        let what = names_table(&v, table)
            .unwrap_or_else(|| panic!("{table}: not named: {:?}", v.problems));
        assert!(
            what.contains(&format!("the first at {key}")),
            "{table}: expected the first difference at {key}: {what}"
        );
        assert_eq!(
            v.problems.len(),
            1,
            "{table}: only the edited table differs: {:?}",
            v.problems
        );
    }
    assert!(verify(&mut l).ok, "every edit was rolled back");
}

/// A row added to a read model beyond the log's head is reported as events removed from the
/// log, not as drift to rebuild away.
#[test]
fn a_row_naming_a_seq_beyond_the_head_is_reported_as_removed_events() {
    let mut l = ledger(2_000, 9, 1, &[]);
    let head = l.head().unwrap().seq;
    sql(
        &l,
        &format!(
            "INSERT INTO party_events (party, seq) VALUES ('KAZ', {})",
            head + 5
        ),
    );
    let v = verify(&mut l);
    assert!(!v.ok);
    let all = format!("{:?}", v.problems);
    assert!(
        all.contains(&format!("read models name seq {}", head + 5)),
        "{all}"
    );
    assert!(!all.contains("run `iofs-ledger rebuild`"), "{all}");
    assert_eq!(v.first_bad_seq, Some(head + 1), "{all}");
}

/// The edits a property applies to one row of a table.
#[derive(Debug, Clone, Copy)]
enum Edit {
    /// Remove the row.
    Delete,
    /// Change one column (text gains a character, a number grows by one).
    Change(usize),
    /// Add a copy of the row with one column changed.
    Copy(usize),
}

fn edit_strategy() -> impl Strategy<Value = Edit> {
    prop_oneof![
        Just(Edit::Delete),
        (0usize..8).prop_map(Edit::Change),
        (0usize..8).prop_map(Edit::Copy),
    ]
}

/// All the columns of each table (the events table too).
fn columns(table: &str) -> Vec<&'static str> {
    match table {
        "events" => vec!["seq", "recorded_at", "body", "hash"],
        _ => {
            let (_, keys, others) = TABLES.iter().find(|t| t.0 == table).unwrap();
            keys.iter().chain(others.iter()).copied().collect()
        }
    }
}

/// Applies `edit` to the row at `offset` (in the order of all its columns) of `table`; false
/// when the edit changes
/// nothing (e.g. it would duplicate a key).
fn apply(l: &Ledger, table: &str, offset: i64, edit: Edit) -> bool {
    let cols = columns(table);
    let c = l.connection();
    let all = cols.join(", ");
    let row: Vec<Value> = c
        .query_row(
            &format!("SELECT {all} FROM {table} ORDER BY {all} LIMIT 1 OFFSET {offset}"),
            [],
            |r| (0..cols.len()).map(|i| r.get::<_, Value>(i)).collect(),
        )
        .unwrap();
    let cond = cols
        .iter()
        .map(|c| format!("{c} IS ?"))
        .collect::<Vec<_>>()
        .join(" AND ");
    let changed = |v: &Value| match v {
        Value::Integer(i) => Value::Integer(i + 1),
        Value::Text(t) => Value::Text(format!("{t}x")),
        Value::Null => Value::Text("x".into()),
        other => other.clone(),
    };
    let params = rusqlite::params_from_iter(row.iter());
    let done = match edit {
        Edit::Delete => c.execute(&format!("DELETE FROM {table} WHERE {cond}"), params),
        Edit::Change(i) => {
            let i = i % cols.len();
            let mut p = vec![changed(&row[i])];
            p.extend(row.iter().cloned());
            c.execute(
                &format!("UPDATE OR IGNORE {table} SET {} = ? WHERE {cond}", cols[i]),
                rusqlite::params_from_iter(p),
            )
        }
        Edit::Copy(i) => {
            let i = i % cols.len();
            let mut p = row.clone();
            p[i] = changed(&row[i]);
            let marks = vec!["?"; cols.len()].join(", ");
            c.execute(
                &format!("INSERT OR IGNORE INTO {table} ({all}) VALUES ({marks})"),
                rusqlite::params_from_iter(p),
            )
        }
    };
    done.unwrap() > 0
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("IOFS_PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(24),
        ..ProptestConfig::default()
    })]

    /// Verify passes on any valid generated ledger (appended in several batches, with
    /// retractions and corrections that put the log out of replay order), and fails on any
    /// single-row edit of any table: a row removed, a column changed, or a row added.
    #[test]
    fn verify_passes_on_any_valid_ledger_and_fails_on_any_single_row_edit_of_any_table(
        n in 30usize..400,
        seed in any::<u64>(),
        batches in 1usize..4,
        extra in proptest::collection::vec((any::<bool>(), any::<usize>()), 0..4),
        table in 0usize..9,
        at in any::<u64>(),
        edit in edit_strategy(),
    ) {
        let mut l = ledger(n, seed, batches, &extra);
        let v = verify(&mut l);
        prop_assert!(v.ok, "a valid ledger failed: {:?}", v.problems);
        let table = if table == 8 { "events" } else { TABLES[table].0 };
        let rows = count(&l, table);
        prop_assume!(rows > 0);
        let offset = (at % rows as u64) as i64;
        if table == "events" {
            // Behind the append-only triggers, which are put back as they were.
            let triggers: Vec<String> = l
                .connection()
                .prepare("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'events'")
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            sql(&l, "DROP TRIGGER events_append_only_update; DROP TRIGGER events_append_only_delete; DROP TRIGGER events_in_sequence;");
            let changed = apply(&l, table, offset, edit);
            for t in triggers {
                sql(&l, &t);
            }
            prop_assume!(changed);
        } else {
            prop_assume!(apply(&l, table, offset, edit));
        }
        let v = verify(&mut l);
        prop_assert!(!v.ok, "verify passed after {edit:?} of row {offset} of {table}");
    }
}
