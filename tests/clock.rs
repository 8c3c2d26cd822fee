//! `recorded_at` is the real time of recording (issue 16, item 5). The clock is set for a
//! command with `IOFS_LEDGER_CLOCK` (an RFC 3339 instant; unset, the system clock is read).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

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

fn at(db: &Path, clock: &str) -> Command {
    let mut c = cmd(db);
    c.env("IOFS_LEDGER_CLOCK", clock);
    c
}

fn signed(party: &str, date: &str) -> String {
    format!(
        r#"{{"type":"statute_signed","party":"{party}","date":"{date}","source":{{"document":"t.txt","quote":"It signed."}}}}"#
    )
}

fn head_json(db: &Path) -> Value {
    let out = cmd(db).args(["head", "--json"]).output().unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

/// One append made while the clock read 2099 used to drag every later `recorded_at` to 2099
/// for good, and let the future-date rule judge by that day (an event dated 2090 was accepted
/// in 2026). Now the next append with a clock far behind the head is refused, saying why, and
/// stores nothing.
#[test]
fn a_clock_far_behind_the_head_is_refused_not_clamped_forever() {
    let (_d, db) = ledger();
    at(&db, "2099-01-01T00:00:00Z")
        .arg("append")
        .write_stdin(signed("BRN", "2020-01-01"))
        .assert()
        .success();
    let before = head_json(&db);
    at(&db, "2026-12-01T00:00:00Z")
        .arg("append")
        .write_stdin(signed("BHR", "2090-01-01"))
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("the clock reads 2026-12-01T00:00:00.000000Z")
                .and(predicate::str::contains("2099-01-01T00:00:00.000000Z"))
                .and(predicate::str::contains("nothing was appended")),
        );
    assert_eq!(head_json(&db), before);
}

/// The future-date rule reads the real clock, not a stamp moved forward to follow the head.
#[test]
fn the_future_date_rule_uses_the_real_clock() {
    let (_d, db) = ledger();
    at(&db, "2030-06-01T00:00:01Z")
        .arg("append")
        .write_stdin(signed("BRN", "2020-01-01"))
        .assert()
        .success();
    // One second behind the head: within the tolerance, stamped just after it...
    at(&db, "2030-06-01T00:00:00Z")
        .arg("append")
        .write_stdin(signed("BHR", "2030-06-01"))
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "recorded_at 2030-06-01T00:00:01.000001Z",
        ));
    // ...but the day of recording is the clock's day: 2030-06-02 is still the future.
    at(&db, "2030-06-01T23:59:59Z")
        .arg("append")
        .write_stdin(signed("MDV", "2030-06-02"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("after the day of recording"));
}

/// verify reports an event recorded later than the moment it runs.
#[test]
fn verify_reports_a_recorded_at_later_than_now() {
    let (_d, db) = ledger();
    at(&db, "2099-01-01T00:00:00Z")
        .arg("append")
        .write_stdin(signed("BRN", "2020-01-01"))
        .assert()
        .success();
    let seq = head_json(&db)["seq"].as_u64().unwrap();
    at(&db, "2099-01-02T00:00:00Z")
        .arg("verify")
        .assert()
        .success();
    at(&db, "2026-12-01T00:00:00Z")
        .arg("verify")
        .assert()
        .code(1)
        .stdout(predicate::str::contains(format!(
            "seq {seq}: recorded_at 2099-01-01T00:00:00.000000Z is later than now"
        )));
}

/// A clock that cannot be read is a usage error, not a silent fallback.
#[test]
fn a_malformed_clock_setting_is_a_usage_error() {
    let (_d, db) = ledger();
    at(&db, "tomorrow")
        .arg("append")
        .write_stdin(signed("BRN", "2020-01-01"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("IOFS_LEDGER_CLOCK"));
}

/// The same rule through the library, whose clock is `AppendOptions::now`.
#[test]
fn the_library_refuses_an_append_whose_clock_is_far_behind_the_head() {
    use chrono::{TimeZone, Utc};
    use iofs_ledger::event::{parse_batch, Location};
    use iofs_ledger::store::{AppendOptions, Ledger, StoreError};
    let mut l = Ledger::in_memory().unwrap();
    let batch = |text: &str| -> Vec<Result<(Location, iofs_ledger::event::Event), _>> {
        parse_batch(text).unwrap().into_iter().map(Ok).collect()
    };
    let at = |y| AppendOptions {
        expect_head: None,
        now: Some(Utc.with_ymd_and_hms(y, 1, 1, 0, 0, 0).unwrap()),
    };
    l.append(batch(&signed("BRN", "2020-01-01")), at(2099))
        .unwrap();
    let e = l
        .append(batch(&signed("BHR", "2090-01-01")), at(2026))
        .unwrap_err();
    assert!(
        matches!(e, StoreError::ClockBehind { head_seq: 1, .. }),
        "{e}"
    );
    assert_eq!(l.head().unwrap().seq, 1);
}
