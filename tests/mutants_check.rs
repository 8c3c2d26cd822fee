//! `verify`'s pass over the file (`src/store/check.rs`) where the other tests do not pin it,
//! written where a mutation of that module survived them (see `docs/testing.md`, "Module by
//! module"): what a broken hash is reported with, the log's rows past a broken one, the read
//! models derived from the log, and the merge's report of a difference.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use iofs_ledger::audit::{self, Verification};
use iofs_ledger::chain::event_hash;
use iofs_ledger::store::Ledger;
use serde_json::{json, Value};

use support::*;

/// `v` with a source.
fn ev(mut v: Value) -> Value {
    v["source"] = source();
    v
}

/// A ledger of five events in three batches, each batch an hour after the previous one.
fn small_ledger() -> Ledger {
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

fn verify(l: &mut Ledger) -> Verification {
    audit::verify(l, None).unwrap()
}

/// Runs `sql` with the log's append-only triggers dropped, then puts them back, so that a
/// missing trigger is not what verify finds.
fn behind_the_triggers(l: &Ledger, sql: &str) {
    let c = l.connection();
    let triggers: Vec<String> = c
        .prepare("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'events'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let names: Vec<String> = c
        .prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'events'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for n in &names {
        c.execute_batch(&format!("DROP TRIGGER \"{n}\"")).unwrap();
    }
    c.execute_batch(sql).unwrap();
    for t in &triggers {
        c.execute_batch(t).unwrap();
    }
}

fn column(l: &Ledger, seq: u64, column: &str) -> String {
    l.connection()
        .query_row(
            &format!("SELECT {column} FROM events WHERE seq = ?1"),
            [seq as i64],
            |r| r.get(0),
        )
        .unwrap()
}

/// A stored hash that does not match is reported with the hash the row's contents and its
/// predecessor's stored hash give (computed here from the chain's documented input), so the
/// reader can see which of the two is wrong.
#[test]
fn a_hash_that_does_not_match_is_reported_with_the_one_the_contents_give() {
    let mut l = small_ledger();
    let seq = 3;
    let right = column(&l, seq, "hash");
    let computed = event_hash(
        &column(&l, seq - 1, "hash"),
        seq,
        &column(&l, seq, "recorded_at"),
        &column(&l, seq, "body"),
    );
    assert_eq!(computed, right, "the chain's input as documented");
    let wrong = "0".repeat(64);
    behind_the_triggers(
        &l,
        &format!("UPDATE events SET hash = '{wrong}' WHERE seq = {seq}"),
    );
    let v = verify(&mut l);
    assert!(!v.ok);
    assert_eq!(v.first_bad_seq, Some(seq));
    let what = &v.problems[0].what;
    assert!(
        what.contains(&format!("stored {wrong}, computed {right}")),
        "{what}"
    );
}

/// The walk stops checking at the first unsound row, but counts every row of the log: verify
/// reports the number of events the file holds, also those after a broken hash.
#[test]
fn verify_counts_every_row_of_the_log_also_those_after_the_first_broken_one() {
    let mut l = small_ledger();
    assert_eq!(verify(&mut l).events, 5);
    behind_the_triggers(
        &l,
        &format!(
            "UPDATE events SET hash = '{}' WHERE seq = 2",
            "f".repeat(64)
        ),
    );
    let v = verify(&mut l);
    assert!(!v.ok);
    assert_eq!(v.first_bad_seq, Some(2));
    assert_eq!(v.events, 5, "{:?}", v.problems);
}

/// Rewrites the body of `seq` to `body` and every stored hash from `seq` on to the chain's
/// (behind the triggers): the log's hash chain stays valid, so only a check of the body itself
/// can find what changed.
fn rewrite_body_keeping_the_chain(l: &Ledger, seq: u64, body: &str) {
    let head = l.head().unwrap().seq;
    let mut sql = format!(
        "UPDATE events SET body = '{}' WHERE seq = {seq};",
        body.replace('\'', "''")
    );
    let mut prev = column(l, seq - 1, "hash");
    for s in seq..=head {
        let b = if s == seq {
            body.to_string()
        } else {
            column(l, s, "body")
        };
        let h = event_hash(&prev, s, &column(l, s, "recorded_at"), &b);
        sql.push_str(&format!("UPDATE events SET hash = '{h}' WHERE seq = {s};"));
        prev = h;
    }
    behind_the_triggers(l, &sql);
}

/// A stored body that is a valid event but not in its canonical form (its keys in another
/// order, spaces between them), under a hash chain recomputed to match, is reported as such at
/// its seq: the log holds each event in one form only.
#[test]
fn a_body_not_in_canonical_form_is_reported_even_under_a_valid_chain() {
    let mut l = small_ledger();
    let seq = 4;
    let body = column(&l, seq, "body");
    let v: serde_json::Map<String, Value> = serde_json::from_str(&body).unwrap();
    let reordered: serde_json::Map<String, Value> = v.into_iter().rev().collect();
    let text = serde_json::to_string_pretty(&Value::Object(reordered)).unwrap();
    assert_ne!(text, body);
    rewrite_body_keeping_the_chain(&l, seq, &text);
    let v = verify(&mut l);
    assert!(!v.ok);
    assert_eq!(v.first_bad_seq, Some(seq), "{:?}", v.problems);
    assert!(
        v.problems
            .iter()
            .any(|p| p.what == format!("seq {seq}: body is not in canonical form")),
        "{:?}",
        v.problems
    );
    // The canonical body back, with its chain: sound again.
    rewrite_body_keeping_the_chain(&l, seq, &body);
    assert!(verify(&mut l).ok);
}

/// An empty ledger verifies: the log derives no `meta` row (not even `max_window`), and the
/// file holds none.
#[test]
fn an_empty_ledger_verifies() {
    let mut l = fresh_ledger();
    let v = verify(&mut l);
    assert!(v.ok, "{:?}", v.problems);
    assert_eq!((v.events, v.head_seq), (0, 0));
}

/// The walk reads ahead of its check (at most 4 chunks of 512 rows per worker, up to four
/// workers: 8,192 rows); rows it had not read when the check stopped at a broken one are still
/// counted: a log of 10,000 events whose second hash is broken is reported as 10,000 events.
#[test]
fn rows_beyond_those_read_ahead_of_a_broken_one_are_counted_too() {
    let mut l = fresh_ledger();
    let meetings: Vec<Value> = (0..10_000)
        .map(|i| {
            ev(json!({
                "type": "meeting_held",
                "organ": "general_assembly",
                "date": format!("{}", 1900 + i % 100),
            }))
        })
        .collect();
    append_values(&mut l, &meetings, now_of(0)).unwrap();
    assert_eq!(verify(&mut l).events, 10_000);
    behind_the_triggers(
        &l,
        &format!(
            "UPDATE events SET hash = '{}' WHERE seq = 2",
            "f".repeat(64)
        ),
    );
    let v = verify(&mut l);
    assert_eq!(v.first_bad_seq, Some(2));
    assert_eq!(v.events, 10_000, "{:?}", v.problems);
}

/// `meta.projected_through` is expected only while the read models lag behind the log: a
/// file whose key names the head itself (no state an append leaves) differs in `meta`, and
/// the difference names the key. (Before `verify` read the file as it is, a ledger opened for
/// writing was first caught up, which dropped the key unseen.)
#[test]
fn a_projected_through_at_the_head_is_a_difference_in_meta() {
    let mut l = small_ledger();
    l.connection()
        .execute_batch("INSERT OR REPLACE INTO meta (key, value) VALUES ('projected_through', '5')")
        .unwrap();
    let v = verify(&mut l);
    assert!(!v.ok);
    assert_eq!(v.problems.len(), 1, "{:?}", v.problems);
    let what = &v.problems[0].what;
    assert!(what.starts_with("read model `meta` differs"), "{what}");
    assert!(what.contains("key = 'projected_through'"), "{what}");
}

/// When several read models differ, they are reported in one fixed order (the fold's tables
/// first, then `replay_order`, `overrides`, `windows`, `state_snapshots`, `parties`,
/// `party_events`, `meta`), not in the order the comparison reaches them.
#[test]
fn differing_read_models_are_reported_in_their_fixed_order() {
    let mut l = small_ledger();
    l.connection()
        .execute_batch(
            "DELETE FROM meta WHERE key = 'max_window';
             DELETE FROM party_events WHERE party = 'TUR';
             DELETE FROM timeline WHERE (day, ord, key) = (SELECT day, ord, key FROM timeline LIMIT 1);
             DELETE FROM replay_order WHERE seq = 3;",
        )
        .unwrap();
    let v = verify(&mut l);
    let tables: Vec<&str> = v
        .problems
        .iter()
        .map(|p| {
            p.what
                .strip_prefix("read model `")
                .and_then(|w| w.split('`').next())
                .unwrap_or(&p.what)
        })
        .collect();
    assert_eq!(
        tables,
        ["timeline", "replay_order", "party_events", "meta"],
        "{:?}",
        v.problems
    );
}

/// Rewrites, inside the page that holds the whole `timeline` table (a small ledger: its root
/// is its only leaf), the digit after the first `"value":`: a row of the table changes, its
/// copy in `timeline_by_position` does not, and the page stays well formed.
fn damage_the_timeline_table(db: &std::path::Path) {
    let conn = rusqlite::Connection::open(db).unwrap();
    let root: i64 = conn
        .query_row(
            "SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name = 'timeline'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let size: i64 = conn
        .query_row("PRAGMA page_size", [], |r| r.get(0))
        .unwrap();
    drop(conn);
    let mut bytes = std::fs::read(db).unwrap();
    let page = ((root - 1) * size) as usize..(root * size) as usize;
    let at = bytes[page.clone()]
        .windows(8)
        .position(|w| w == b"\"value\":")
        .map(|i| page.start + i + 8)
        .expect("a count fact in the timeline's page");
    assert!(bytes[at].is_ascii_digit());
    bytes[at] = if bytes[at] == b'7' { b'8' } else { b'7' };
    std::fs::write(db, bytes).unwrap();
}

/// A read model damaged in one of its two stored copies is reported with the number of rows
/// each copy holds (here the same: a value changed, no row lost), so the message says how far
/// the copies disagree.
#[test]
fn a_damaged_copy_is_reported_with_the_rows_each_copy_holds() {
    let cmd = |db: &std::path::Path| {
        let mut c = assert_cmd::Command::cargo_bin("iofs-ledger").unwrap();
        c.env_remove("IOFS_LEDGER_DB").arg("--db").arg(db);
        c
    };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("l.db");
    cmd(&db).args(["init", "--empty"]).assert().success();
    let lines: String = ["KAZ", "TUR", "SAU", "PAK"]
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let date = format!("2013-12-{:02}", i + 10);
            format!(
                "{}\n",
                ev(json!({"type": "statute_signed", "party": p, "date": date}))
            )
        })
        .collect();
    cmd(&db)
        .args(["append", "-"])
        .write_stdin(lines)
        .assert()
        .success();
    let rows: i64 = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row("SELECT count(*) FROM timeline", [], |r| r.get(0))
        .unwrap();
    assert!(rows > 1);
    damage_the_timeline_table(&db);
    let out = cmd(&db)
        .arg("verify")
        .assert()
        .failure()
        .get_output()
        .clone();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains(&format!(
            "(`timeline INDEXED BY timeline_by_position`: {rows} rows; `timeline INDEXED BY sqlite_autoindex_timeline_1`: {rows} rows)"
        )),
        "{text}"
    );
}
