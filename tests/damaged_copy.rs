//! A read model that SQLite stores twice (a table and its covering index) damaged in the file's
//! bytes, in one copy only: `verify` compares one copy with the log and the two copies with
//! each other, so it fails and names the table, where the queries would answer from either.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use assert_cmd::Command;

fn cmd(db: &Path) -> Command {
    let mut c = Command::cargo_bin("iofs-ledger").unwrap();
    c.env_remove("IOFS_LEDGER_DB").arg("--db").arg(db);
    c
}

/// Rewrites, inside the page that holds the whole `timeline` table (a small ledger: its root
/// is its only leaf), the digit after the first `"value":`: a row of the table changes, its
/// copy in `timeline_by_position` does not, and the page stays well formed.
fn damage_the_timeline_table(db: &Path) {
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

#[test]
fn a_timeline_damaged_in_one_of_its_two_copies_fails_verify_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("l.db");
    cmd(&db).args(["init", "--empty"]).assert().success();
    let src = r#""source":{"document":"d","quote":"q"}"#;
    let lines: String = ["KAZ", "TUR", "SAU", "PAK"]
        .iter()
        .enumerate()
        .map(|(i, p)| {
            format!(
                "{{\"type\":\"statute_signed\",\"party\":\"{p}\",\"date\":\"2013-12-{:02}\",{src}}}\n",
                i + 10
            )
        })
        .collect();
    cmd(&db)
        .args(["append", "-"])
        .write_stdin(lines)
        .assert()
        .success();
    cmd(&db).arg("verify").assert().success();
    // The CLI checkpoints on close: the pages damaged below are the database file's own.
    assert!(
        !dir.path().join("l.db-wal").exists()
            || std::fs::metadata(dir.path().join("l.db-wal"))
                .unwrap()
                .len()
                == 0
    );

    damage_the_timeline_table(&db);
    let check: String = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_ne!(
        check, "ok",
        "the damage is real: SQLite's own check sees it"
    );

    let out = cmd(&db)
        .arg("verify")
        .assert()
        .failure()
        .get_output()
        .clone();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("read model `timeline`: its two stored copies hold different rows"),
        "{text}"
    );

    // `rebuild` rewrites both copies; verify passes again.
    cmd(&db).arg("rebuild").assert().success();
    cmd(&db).arg("verify").assert().success();
}
