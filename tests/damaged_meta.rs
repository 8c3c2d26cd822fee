//! Damage outside the log — a read model's text that is not UTF-8, a `meta` value that is not
//! a number — is told as damage to that part of the file: `verify` reports it as a difference
//! in the table (exit 1, advising `rebuild`), the queries refuse naming what is damaged (never
//! "stored event seq 0", never a silent default), and `rebuild` mends it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn cmd(db: &Path) -> Command {
    let mut c = Command::cargo_bin("iofs-ledger").unwrap();
    c.env_remove("IOFS_LEDGER_DB").arg("--db").arg(db);
    c
}

/// A ledger holding the built-in history.
fn builtin(dir: &tempfile::TempDir) -> PathBuf {
    let db = dir.path().join("l.db");
    cmd(&db).arg("init").assert().success();
    db
}

fn sql(db: &Path, statement: &str) {
    let conn = rusqlite::Connection::open(db).unwrap();
    assert!(conn.execute(statement, []).unwrap() >= 1, "{statement}");
}

fn out(o: &std::process::Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// verify fails (exit 1) with one problem naming the table and advising rebuild; `rebuild` then
/// makes the file verify again.
fn verify_names_then_rebuild_mends(db: &Path, table: &str) {
    let o = cmd(db).arg("verify").output().unwrap();
    let (stdout, stderr) = out(&o);
    assert_eq!(o.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stdout.contains(&format!("read model `{table}` differs")),
        "{stdout}"
    );
    assert!(stdout.contains("run `iofs-ledger rebuild`"), "{stdout}");
    assert!(!stderr.contains("database error"), "{stderr}");
    cmd(db).arg("rebuild").assert().success();
    cmd(db).arg("verify").assert().success();
}

/// A query on a damaged file fails, saying which part of the file is damaged and what to do,
/// and not as a stored event that cannot be read.
fn query_refuses_naming(db: &Path, args: &[&str], what: &str) {
    let o = cmd(db).args(args).output().unwrap();
    let (stdout, stderr) = out(&o);
    assert!(!o.status.success(), "{args:?} answered: {stdout}");
    assert!(
        stderr.contains(&format!("the ledger file is damaged in {what}")),
        "{stderr}"
    );
    assert!(stderr.contains("iofs-ledger rebuild"), "{stderr}");
    assert!(!stderr.contains("seq 0"), "{stderr}");
}

/// A timeline fact whose bytes are not UTF-8 is a difference in `timeline`, not an SQLite
/// error; `state` refuses naming the read models as damaged.
#[test]
fn a_timeline_fact_that_is_not_utf8_is_a_difference_in_the_timeline() {
    let dir = tempfile::tempdir().unwrap();
    let db = builtin(&dir);
    sql(
        &db,
        "UPDATE timeline SET fact = CAST(x'ff7b' AS TEXT) WHERE key = 'count:members' \
         AND day = (SELECT min(day) FROM timeline WHERE key = 'count:members')",
    );
    query_refuses_naming(&db, &["state"], "its read models");
    verify_names_then_rebuild_mends(&db, "timeline");
    cmd(&db).arg("state").assert().success();
}

/// `meta.projected_through` that is not a seq: the queries refuse naming it; verify shows it
/// as a difference in `meta` instead of stopping.
#[test]
fn a_projected_through_that_is_not_a_seq_is_named_and_shown_as_a_difference() {
    let dir = tempfile::tempdir().unwrap();
    let db = builtin(&dir);
    sql(
        &db,
        "INSERT INTO meta (key, value) VALUES ('projected_through', 'x1')",
    );
    query_refuses_naming(&db, &["state"], "its metadata (`meta.projected_through`)");
    query_refuses_naming(
        &db,
        &[
            "timeline",
            "--from",
            "2013-01-01",
            "--to",
            "2024-01-01",
            "--every",
            "year",
        ],
        "its metadata (`meta.projected_through`)",
    );
    verify_names_then_rebuild_mends(&db, "meta");
}

/// `meta.max_window` that is not a number of days is refused rather than read as 0 (which
/// would count no pending event); verify shows it as a difference in `meta`.
#[test]
fn a_max_window_that_is_not_a_number_is_refused_not_read_as_zero() {
    let dir = tempfile::tempdir().unwrap();
    let db = builtin(&dir);
    for bad in ["abc", "-3"] {
        sql(
            &db,
            &format!("UPDATE meta SET value = '{bad}' WHERE key = 'max_window'"),
        );
        query_refuses_naming(&db, &["state"], "its metadata (`meta.max_window`)");
        verify_names_then_rebuild_mends(&db, "meta");
    }
}

/// A row of `overrides` whose kind is not text, or neither kind, is told as damage to that read
/// model by what reads it (`log`, which marks retracted and corrected events), not as a database
/// error and not read as a correction; verify names the table and `rebuild` mends it.
#[test]
fn an_override_of_no_known_kind_is_damage_to_the_overrides() {
    for kind in ["CAST(x'ff' AS TEXT)", "'erasure'"] {
        let dir = tempfile::tempdir().unwrap();
        let db = builtin(&dir);
        sql(
            &db,
            &format!("INSERT INTO overrides (target, by_seq, kind) VALUES (5, 7, {kind})"),
        );
        query_refuses_naming(&db, &["log"], "the read model `overrides`");
        verify_names_then_rebuild_mends(&db, "overrides");
    }
}

/// A `windows` row with a date that is no date is damage to that read model, not an event that
/// cannot be read.
#[test]
fn a_pending_window_with_a_bad_date_is_damage_to_the_windows() {
    let dir = tempfile::tempdir().unwrap();
    let db = builtin(&dir);
    sql(&db, "UPDATE windows SET date = 'xx'");
    let o = cmd(&db)
        .args(["state", "--as-of", "2020-01-01"])
        .output()
        .unwrap();
    let (_, stderr) = out(&o);
    assert!(!o.status.success());
    assert!(
        stderr.contains("the ledger file is damaged in the read model `windows`"),
        "{stderr}"
    );
    assert!(!stderr.contains("stored event"), "{stderr}");
    verify_names_then_rebuild_mends(&db, "windows");
}

/// A read-model row naming seq 0 (no event has it) is a difference in its table, but verify
/// does not say it failed "at seq 0".
#[test]
fn a_read_model_row_naming_seq_0_is_not_reported_at_seq_0() {
    let dir = tempfile::tempdir().unwrap();
    let db = builtin(&dir);
    sql(&db, "UPDATE replay_order SET seq = 0 WHERE seq = 5");
    let o = cmd(&db).arg("verify").output().unwrap();
    let (stdout, stderr) = out(&o);
    assert_eq!(o.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stdout.contains("read model `replay_order` differs"),
        "{stdout}"
    );
    assert!(
        !format!("{stdout}{stderr}").contains("seq 0"),
        "{stdout}{stderr}"
    );
}

/// Bytes of a read model's page overwritten: SQLite finds the page malformed. Queries that read
/// it refuse saying the file's pages are damaged and how to find and restore them, never a bare
/// database error.
#[test]
fn a_malformed_page_is_told_as_damaged_pages() {
    let dir = tempfile::tempdir().unwrap();
    let db = builtin(&dir);
    let (root, size): (i64, i64) = {
        let conn = rusqlite::Connection::open(&db).unwrap();
        (
            conn.query_row(
                "SELECT rootpage FROM sqlite_master WHERE name = 'timeline'",
                [],
                |r| r.get(0),
            )
            .unwrap(),
            conn.query_row("PRAGMA page_size", [], |r| r.get(0))
                .unwrap(),
        )
    };
    let mut bytes = std::fs::read(&db).unwrap();
    let at = ((root - 1) * size + 8) as usize;
    for b in &mut bytes[at..at + 200] {
        *b = 0xff;
    }
    std::fs::write(&db, &bytes).unwrap();
    let o = cmd(&db)
        .args([
            "timeline",
            "--from",
            "2015-01-01",
            "--to",
            "2016-01-01",
            "--every",
            "year",
        ])
        .output()
        .unwrap();
    let (_, stderr) = out(&o);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("the ledger file's pages are damaged"),
        "{stderr}"
    );
    assert!(stderr.contains("integrity_check"), "{stderr}");
    assert!(!stderr.contains("database error"), "{stderr}");
}
