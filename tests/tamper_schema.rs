//! verify cannot be fooled from inside the file: each attack here was made with plain SQL on
//! the file, as anyone holding it could, and each once passed `verify` (issue 16, item 4).
//! verify compares the whole schema with the one the migrations make and derives the read
//! models outside the file; append refuses to write through a tampered `events` table.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use rusqlite::Connection;

const GENESIS_HEAD: &str = "0:0000000000000000000000000000000000000000000000000000000000000000";

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

fn sql(db: &Path, statements: &str) {
    let c = Connection::open(db).unwrap();
    c.execute_batch(statements).unwrap();
}

fn count(db: &Path, q: &str) -> i64 {
    Connection::open(db)
        .unwrap()
        .query_row(q, [], |r| r.get(0))
        .unwrap()
}

fn verify_fails(db: &Path) -> String {
    let out = cmd(db).arg("verify").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(1), "verify passed:\n{text}");
    text
}

const BRUNEI: &str = r#"{"type":"statute_signed","party":"BRN","date":"2020-01-01","source":{"document":"t.txt","quote":"Brunei signed."}}"#;

/// A trigger planted on a read model fires while the read models are re-derived; it used to
/// fire inside verify's own re-derivation too, so the damage matched itself.
#[test]
fn a_trigger_planted_on_a_read_model_does_not_take_part_in_its_own_check() {
    let (_d, db) = ledger();
    sql(
        &db,
        "CREATE TRIGGER hide_kaz AFTER INSERT ON timeline WHEN NEW.key = 'member:KAZ'
         BEGIN DELETE FROM timeline WHERE key = 'member:KAZ'; END;",
    );
    cmd(&db).arg("rebuild").assert().success();
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM timeline WHERE key = 'member:KAZ'"
        ),
        0
    );
    let out = verify_fails(&db);
    assert!(out.contains("trigger `hide_kaz`"), "{out}");
    assert!(out.contains("read model `timeline` differs"), "{out}");
}

/// `meta` is a read model too: changing or deleting `max_window` changes answers.
#[test]
fn changing_or_deleting_meta_is_caught() {
    for attack in [
        "UPDATE meta SET value = '0' WHERE key = 'max_window'",
        "DELETE FROM meta",
    ] {
        let (_d, db) = ledger();
        sql(&db, attack);
        let out = verify_fails(&db);
        assert!(out.contains("read model `meta` differs"), "{attack}: {out}");
    }
}

/// The append-only triggers replaced by no-ops with the same names.
#[test]
fn append_only_triggers_replaced_by_no_ops_of_the_same_names_are_caught() {
    let (_d, db) = ledger();
    sql(
        &db,
        "DROP TRIGGER events_append_only_update;
         CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events BEGIN SELECT 1; END;
         DROP TRIGGER events_append_only_delete;
         CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events BEGIN SELECT 1; END;
         DROP TRIGGER events_in_sequence;
         CREATE TRIGGER events_in_sequence BEFORE INSERT ON events BEGIN SELECT 1; END;",
    );
    let events = count(&db, "SELECT COUNT(*) FROM events");
    let out = verify_fails(&db);
    for t in [
        "events_append_only_update",
        "events_append_only_delete",
        "events_in_sequence",
    ] {
        assert!(
            out.contains(&format!("trigger `{t}` is not the one iofs-ledger made")),
            "{out}"
        );
    }
    // And nothing is appended through them.
    cmd(&db)
        .arg("append")
        .write_stdin(BRUNEI)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("is not as iofs-ledger made it"));
    assert_eq!(count(&db, "SELECT COUNT(*) FROM events"), events);
}

/// `events` renamed and replaced by a view of the same name whose INSTEAD OF triggers carry the
/// expected names: an append used to print "appended seq N" and exit 0, storing nothing.
#[test]
fn events_replaced_by_a_view_is_caught_and_append_never_reports_success_for_nothing_stored() {
    let (_d, db) = ledger();
    sql(
        &db,
        "DROP TRIGGER events_append_only_update;
         DROP TRIGGER events_append_only_delete;
         DROP TRIGGER events_in_sequence;
         ALTER TABLE events RENAME TO events_kept;
         CREATE VIEW events AS SELECT * FROM events_kept;
         CREATE TRIGGER events_append_only_update INSTEAD OF UPDATE ON events BEGIN SELECT 1; END;
         CREATE TRIGGER events_append_only_delete INSTEAD OF DELETE ON events BEGIN SELECT 1; END;
         CREATE TRIGGER events_in_sequence INSTEAD OF INSERT ON events BEGIN SELECT 1; END;",
    );
    let out = verify_fails(&db);
    assert!(out.contains("`events` is a view, not a table"), "{out}");
    cmd(&db)
        .arg("append")
        .write_stdin(BRUNEI)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("appended").not())
        .stderr(predicate::str::contains("`events` is a view, not a table"));
}

/// The last event deleted behind the triggers, which are then put back as they were: the read
/// models still name it. verify used to call this drift and advise `rebuild`, which would erase
/// the evidence; now it is tampering, and `rebuild` refuses.
#[test]
fn an_event_removed_from_the_end_is_reported_as_tampering_and_rebuild_refuses_to_erase_it() {
    let (_d, db) = ledger();
    let trigger: String = Connection::open(&db)
        .unwrap()
        .query_row(
            "SELECT sql FROM sqlite_master WHERE name = 'events_append_only_delete'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let last = count(&db, "SELECT MAX(seq) FROM events");
    sql(
        &db,
        &format!(
            "DROP TRIGGER events_append_only_delete; DELETE FROM events WHERE seq = {last}; {trigger};"
        ),
    );
    let out = verify_fails(&db);
    assert!(out.contains("events were removed from the log"), "{out}");
    assert!(
        out.contains(&format!("read models name seq {last}")),
        "{out}"
    );
    assert!(!out.contains("run `iofs-ledger rebuild`"), "{out}");
    cmd(&db)
        .arg("rebuild")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("events were removed"));
    // The evidence is still there.
    assert_eq!(
        count(
            &db,
            &format!("SELECT MAX(seq) FROM replay_order WHERE seq = {last}")
        ),
        last
    );
}

/// Anything added to the schema, even an index, is reported.
#[test]
fn an_object_added_to_the_schema_is_reported() {
    let (_d, db) = ledger();
    sql(&db, "CREATE VIEW members AS SELECT * FROM parties;");
    let out = verify_fails(&db);
    assert!(out.contains("unexpected view `members`"), "{out}");
}

/// The empty log's head is a head like any other.
#[test]
fn since_head_accepts_the_empty_ledgers_head() {
    let (_d, db) = ledger();
    cmd(&db)
        .args(["verify", "--since-head", GENESIS_HEAD])
        .assert()
        .success();
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("e.db");
    cmd(&empty).args(["init", "--empty"]).assert().success();
    cmd(&empty)
        .args(["verify", "--since-head", GENESIS_HEAD])
        .assert()
        .success();
    cmd(&db)
        .args([
            "verify",
            "--since-head",
            "0:1111111111111111111111111111111111111111111111111111111111111111",
        ])
        .assert()
        .code(1);
}
