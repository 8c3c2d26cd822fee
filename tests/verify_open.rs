//! How verify opens a ledger (issue 17, items 5, 8 and 15): it reads one snapshot without the
//! write lock and names the head it checked; a missing file is a failure, not the built-in
//! history; `recorded_at` must be UTC text with microseconds; a file is ours only when all its
//! markers say so.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use iofs_ledger::chain::event_hash;
use predicates::prelude::*;
use rusqlite::Connection;

fn ledger() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("l.db");
    cmd(&db).arg("init").assert().success();
    (dir, db)
}

fn cmd(db: &Path) -> Command {
    let mut c = Command::cargo_bin("iofs-ledger").unwrap();
    c.env_remove("IOFS_LEDGER_DB")
        .env_remove("IOFS_LEDGER_CLOCK")
        .arg("--db")
        .arg(db);
    c
}

fn head(db: &Path) -> String {
    let out = cmd(db).arg("head").output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// Item 5: verify takes no write lock: it runs while another connection holds it (it used to
/// wait for it with `BEGIN IMMEDIATE` and fail after the lock timeout), and it names the head
/// of the snapshot it checked.
#[test]
fn verify_runs_while_a_writer_holds_the_lock_and_names_the_head_it_checked() {
    let (_d, db) = ledger();
    let h = head(&db);
    let writer = Connection::open(&db).unwrap();
    writer.execute_batch("BEGIN IMMEDIATE").unwrap();
    cmd(&db)
        .args(["--lock-timeout", "0", "verify"])
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .success()
        .stdout(predicate::str::contains(format!("head {h}")));
    writer.execute_batch("ROLLBACK").unwrap();
}

/// Item 8: a mistyped path does not reassure.
#[test]
fn verify_on_a_missing_file_fails_saying_there_is_no_ledger_there() {
    let dir = tempfile::tempdir().unwrap();
    let typo = dir.path().join("typo.db");
    cmd(&typo)
        .arg("verify")
        .assert()
        .code(1)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains("no ledger at").and(predicate::str::contains("typo.db")));
    assert!(!typo.exists());
    // Read commands still answer from the built-in history, saying so.
    cmd(&typo)
        .arg("head")
        .assert()
        .success()
        .stderr(predicate::str::contains("built-in history"));
    // And the built-in history can be verified by asking for it.
    cmd(&typo).args(["verify", "--builtin"]).assert().success();
}

/// Rewrites the last event's `recorded_at` (with SQL `expr` over the old value) and, as an
/// attacker would, its hash, so that only the stored form is wrong.
fn rewrite_last_recorded_at(db: &Path, expr: &str) {
    let c = Connection::open(db).unwrap();
    let (prev, seq, body): (String, i64, String) = c
        .query_row(
            "SELECT (SELECT hash FROM events WHERE seq = e.seq - 1), seq, body FROM events e ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    let new: String = c
        .query_row(
            &format!("SELECT CAST({expr} AS TEXT) FROM events WHERE seq = ?1"),
            [seq],
            |r| r.get(0),
        )
        .unwrap();
    let hash = event_hash(&prev, seq as u64, &new, &body);
    c.execute_batch(&format!(
        "DROP TRIGGER events_append_only_update;
         UPDATE events SET recorded_at = {expr}, hash = '{hash}' WHERE seq = {seq};"
    ))
    .unwrap();
}

fn last_seq(db: &Path) -> i64 {
    Connection::open(db)
        .unwrap()
        .query_row("SELECT MAX(seq) FROM events", [], |r| r.get(0))
        .unwrap()
}

/// Item 15: `recorded_at` without microseconds is not the stored form.
#[test]
fn verify_refuses_recorded_at_without_microseconds() {
    let (_d, db) = ledger();
    let last = last_seq(&db);
    rewrite_last_recorded_at(&db, "substr(recorded_at, 1, 19) || 'Z'");
    let out = cmd(&db).arg("verify").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains(&format!("seq {last}: recorded_at `2026-")),
        "{text}"
    );
    assert!(text.contains("microseconds"), "{text}");
}

/// Item 15: `recorded_at` stored as a BLOB (same bytes, so the same hash) is not the stored form.
#[test]
fn verify_refuses_recorded_at_stored_as_a_blob() {
    let (_d, db) = ledger();
    let last = last_seq(&db);
    rewrite_last_recorded_at(&db, "CAST(recorded_at AS BLOB)");
    let kind: String = Connection::open(&db)
        .unwrap()
        .query_row(
            "SELECT typeof(recorded_at) FROM events WHERE seq = ?1",
            [last],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(kind, "blob");
    let out = cmd(&db).arg("verify").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains(&format!("seq {last}")) && text.contains("BLOB"),
        "{text}"
    );
}

/// Item 15: an SQLite file that carries iofs-ledger's application_id but schema version 0 is not
/// ours: it is neither migrated nor appended to, and left byte for byte as it was.
#[test]
fn a_foreign_file_with_our_application_id_but_no_schema_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("foreign.db");
    Connection::open(&db)
        .unwrap()
        .execute_batch(
            "PRAGMA application_id = 1229932115; CREATE TABLE notes (x TEXT); INSERT INTO notes VALUES ('mine');",
        )
        .unwrap();
    let before = std::fs::read(&db).unwrap();
    for args in [
        &["append"][..],
        &["verify"][..],
        &["state", "--as-of", "2020-01-01"][..],
    ] {
        cmd(&db)
            .args(args)
            .write_stdin(r#"{"type":"statute_signed","party":"BRN","date":"2020-01-01","source":{"document":"t.txt","quote":"Brunei signed."}}"#)
            .assert()
            .code(1)
            .stderr(predicate::str::contains("is not an iofs-ledger database"));
    }
    assert_eq!(std::fs::read(&db).unwrap(), before);
    assert!(!dir.path().join("foreign.db-wal").exists());
}
