//! Opening, locking and catching up (`src/store/mod.rs`), where a mutation survived the suite
//! (see `docs/testing.md`, "Mutation testing"): what the CLI tests see only through a message
//! that any wording with "lock" in it satisfies, or not at all.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use iofs_ledger::event::parse_batch;
use iofs_ledger::store::{Access, AppendOptions, Ledger, StoreError};
use serde_json::json;

fn claim_line() -> String {
    json!({"type": "claim", "date": "2024-01-01", "about": "statement", "value": "v",
        "source": {"document": "d.txt", "quote": "q"}})
    .to_string()
}

fn new_ledger(dir: &Path) -> PathBuf {
    let db = dir.join("l.db");
    Ledger::create(&db, |_| Ok(())).unwrap();
    db
}

fn append_claim(l: &mut Ledger) -> Result<(), StoreError> {
    let events = parse_batch(&claim_line()).unwrap();
    l.append(events.into_iter().map(Ok), AppendOptions::default())
        .map(|_| ())
}

/// A writer that cannot take the lock within its timeout gets `StoreError::Busy` (the message
/// that says another writer holds the lock and nothing was written), not a database error; once
/// the lock is free the same append goes through.
#[test]
fn a_writer_kept_from_the_lock_is_told_busy_and_appends_once_it_is_free() {
    let dir = tempfile::tempdir().unwrap();
    let db = new_ledger(dir.path());
    let holder = rusqlite::Connection::open(&db).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    let mut l = Ledger::open(&db, Access::ReadWrite).unwrap();
    l.set_busy_timeout(Duration::from_millis(50)).unwrap();
    let err = append_claim(&mut l).unwrap_err();
    assert!(matches!(err, StoreError::Busy), "{err:?}");
    assert!(
        err.to_string().contains("locked by another writer"),
        "{err}"
    );
    assert_eq!(l.head().unwrap().seq, 0);
    holder.execute_batch("ROLLBACK").unwrap();
    append_claim(&mut l).unwrap();
    assert_eq!(l.head().unwrap().seq, 1);
}

/// An SQLite error that is not about the lock (here: a read of a table dropped behind the
/// ledger's back) is a database error naming what was being done, never `Busy` (which would
/// tell the user to try again).
#[test]
fn an_sqlite_error_other_than_the_lock_is_not_told_busy() {
    let dir = tempfile::tempdir().unwrap();
    let db = new_ledger(dir.path());
    let l = Ledger::open(&db, Access::ReadWrite).unwrap();
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch("DROP TABLE timeline")
        .unwrap();
    let err = l
        .state_at(iofs_ledger::date::Day::parse("2024-01-01").unwrap())
        .unwrap_err();
    assert!(matches!(err, StoreError::Sqlite { .. }), "{err:?}");
    assert!(!err.to_string().contains("locked"), "{err}");
}
