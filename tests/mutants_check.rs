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
