//! The SQL views (`event_rows`, `member_periods`, `member_counts`) give with plain columns
//! and ISO dates the same answers as the ledger's own commands, so `sqlite3` and Datasette
//! users can read the file without decoding day numbers or JSON.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::Path;

use assert_cmd::Command;
use rusqlite::Connection;
use serde_json::Value;

fn cmd(db: &Path) -> Command {
    let mut c = Command::cargo_bin("iofs-ledger").unwrap();
    c.env_remove("IOFS_LEDGER_DB").arg("--db").arg(db);
    c
}

fn out_head(db: &Path) -> i64 {
    json(db, &["head", "--json"])["seq"].as_i64().unwrap()
}

fn json(db: &Path, args: &[&str]) -> Value {
    let o = cmd(db)
        .args(args)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    serde_json::from_slice(&o).unwrap()
}

/// A built-in ledger in which Libya withdrew on 2020-05-01 (so a period ends).
fn ledger(dir: &Path) -> std::path::PathBuf {
    let db = dir.join("views.db");
    cmd(&db).arg("init").assert().success();
    cmd(&db)
        .arg("append")
        .write_stdin(
            r#"{"type":"membership_withdrawn","party":"LBY","date":"2020-05","source":{"document":"test","quote":"A test withdrawal."}}
"#,
        )
        .assert()
        .success();
    db
}

/// type, date, first_day, last_day, precision, party, source
type Row = (
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
);

fn open(db: &Path) -> Connection {
    Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap()
}

#[test]
fn event_rows_show_type_iso_dates_precision_party_and_source() {
    let dir = tempfile::tempdir().unwrap();
    let db = ledger(dir.path());
    let c = open(&db);
    let n: i64 = c
        .query_row("SELECT COUNT(*) FROM event_rows", [], |r| r.get(0))
        .unwrap();
    let head: i64 = out_head(&db);
    assert_eq!(n, head);
    let seq_of = |ty: &str, party: &str| -> i64 {
        c.query_row(
            "SELECT seq FROM event_rows WHERE type = ?1 AND party = ?2 ORDER BY seq LIMIT 1",
            [ty, party],
            |r| r.get(0),
        )
        .unwrap()
    };
    let row = |seq: i64| -> Row {
        c.query_row(
            "SELECT type, date, first_day, last_day, precision, party, source FROM event_rows WHERE seq = ?1",
            [seq],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)),
        )
        .unwrap()
    };
    // Nigeria's signature: bounds, written as an ISO 8601 interval.
    let (ty, date, first, last, precision, party, source) = row(seq_of("statute_signed", "NGA"));
    assert_eq!(ty, "statute_signed");
    assert_eq!(date.as_deref(), Some("2019-08-27/2019-08-29"));
    assert_eq!(
        (first.as_deref(), last.as_deref()),
        (Some("2019-08-27"), Some("2019-08-29"))
    );
    assert_eq!(precision.as_deref(), Some("bounded"));
    assert_eq!(party.as_deref(), Some("NGA"));
    assert!(source.ends_with(".txt"), "{source}");
    // A month: its first and last day (2020 is a leap year, May has 31 days).
    let (_, date, first, last, precision, party, _) = row(head);
    assert_eq!(date.as_deref(), Some("2020-05"));
    assert_eq!(
        (first.as_deref(), last.as_deref()),
        (Some("2020-05-01"), Some("2020-05-31"))
    );
    assert_eq!(precision.as_deref(), Some("month"));
    assert_eq!(party.as_deref(), Some("LBY"));
    // Every dated row's days agree with what `log --json` says the date is.
    let log = cmd(&db)
        .args(["log", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    for line in String::from_utf8(log).unwrap().lines() {
        let e: Value = serde_json::from_str(line).unwrap();
        let seq = e["seq"].as_i64().unwrap();
        let (_, date, first, last, _, _, _) = row(seq);
        match &e["date"] {
            Value::Null => assert_eq!(date, None),
            Value::String(s) => {
                assert_eq!(date.as_deref(), Some(s.as_str()));
                assert!(
                    first.unwrap().starts_with(s.as_str()) && last.unwrap().starts_with(s.as_str())
                );
            }
            Value::Object(b) => {
                let (lo, hi) = (
                    b["not_before"].as_str().unwrap(),
                    b["not_after"].as_str().unwrap(),
                );
                assert_eq!(date, Some(format!("{lo}/{hi}")));
                assert!(first.unwrap().starts_with(lo) && last.unwrap().starts_with(hi));
            }
            other => panic!("{other}"),
        }
    }
}

#[test]
fn member_periods_and_counts_agree_with_members_on_every_day_asked() {
    let dir = tempfile::tempdir().unwrap();
    let db = ledger(dir.path());
    let c = open(&db);
    for day in [
        "2013-12-10",
        "2013-12-11",
        "2014-12-31",
        "2016-04-28",
        "2019-08-29",
        "2020-04-30",
        "2020-05-31",
        "2023-10-02",
        "2026-01-01",
    ] {
        let m = json(&db, &["members", "--as-of", day, "--json"]);
        let want: BTreeSet<String> = m["parties"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["code"].as_str().unwrap().to_string())
            .collect();
        let mut stmt = c
            .prepare(
                "SELECT party FROM member_periods
                 WHERE from_day <= ?1 AND (until_day IS NULL OR until_day > ?1)",
            )
            .unwrap();
        let got: BTreeSet<String> = stmt
            .query_map([day], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(got, want, "{day}");
        let count: Option<i64> = c
            .query_row(
                "SELECT members FROM member_counts WHERE day <= ?1 ORDER BY day DESC LIMIT 1",
                [day],
                |r| r.get(0),
            )
            .unwrap_or(None);
        assert_eq!(count.unwrap_or(0), m["count"].as_i64().unwrap(), "{day}");
    }
    let (until, seq): (String, i64) = c
        .query_row(
            "SELECT until_day, seq FROM member_periods WHERE party = 'LBY'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let signed = json(&db, &["history", "LBY", "--json"])["events"][0]["seq"].clone();
    assert_eq!((until.as_str(), Value::from(seq)), ("2020-05-31", signed));
}
