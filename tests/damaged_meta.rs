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
