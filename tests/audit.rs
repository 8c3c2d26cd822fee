//! Tamper evidence: `verify` catches every edit made behind the tool's back, names the first
//! bad seq and exits 1; `--since-head` proves the log only grew; `--known-at` answers survive
//! retractions and corrections.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use iofs_ledger::chain::event_hash;
use predicates::prelude::*;
use rusqlite::Connection;
use serde_json::Value;

fn ledger() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("l.db");
    cmd(&db).arg("init").assert().success();
    (dir, db)
}

fn cmd(db: &Path) -> Command {
    let mut c = Command::cargo_bin("iofs-ledger").unwrap();
    c.env_remove("IOFS_LEDGER_DB").arg("--db").arg(db);
    c
}

fn sql(db: &Path, statements: &str) {
    let c = Connection::open(db).unwrap();
    c.execute_batch(statements).unwrap();
}

fn verify_fails_at(db: &Path, seq: u64) -> String {
    let out = cmd(db).args(["verify", "--json"]).assert().code(1);
    let v: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["first_bad_seq"], seq, "{v}");
    v["problems"].to_string()
}

const DROP_TRIGGERS: &str = "DROP TRIGGER events_append_only_update; DROP TRIGGER events_append_only_delete; DROP TRIGGER events_in_sequence;";

#[test]
fn verify_passes_on_the_builtin_history() {
    let (_d, db) = ledger();
    cmd(&db)
        .arg("verify")
        .assert()
        .success()
        .stdout(predicate::str::starts_with("ok: 142 events"));
}

#[test]
fn the_triggers_refuse_plain_sql_rewrites() {
    let (_d, db) = ledger();
    let c = Connection::open(&db).unwrap();
    // Each refusal is the trigger's own, not just any SQLite error.
    for (sql, message) in [
        (
            "UPDATE events SET body = '{}' WHERE seq = 3",
            "events are append-only; append a correction instead",
        ),
        (
            "DELETE FROM events WHERE seq = 3",
            "events are append-only; append a retraction instead",
        ),
        (
            "INSERT INTO events VALUES (999, 'x', '{}', 'h')",
            "events are appended in seq order, without gaps",
        ),
    ] {
        let e = c.execute(sql, []).unwrap_err().to_string();
        assert!(e.contains(message), "`{sql}`: {e}");
    }
}

#[test]
fn editing_one_byte_of_a_stored_event_is_caught_at_its_seq() {
    let (_d, db) = ledger();
    sql(&db, DROP_TRIGGERS);
    // Change one character of seq 40's body: Kazakhstan's ratification date.
    sql(
        &db,
        "UPDATE events SET body = replace(body, '2014-11-21', '2014-11-22') WHERE seq = 40",
    );
    let p = verify_fails_at(&db, 40);
    assert!(p.contains("hash does not match"), "{p}");
}

#[test]
fn editing_recorded_at_or_the_hash_is_caught() {
    let (_d, db) = ledger();
    sql(&db, DROP_TRIGGERS);
    sql(
        &db,
        "UPDATE events SET recorded_at = '2000-01-01T00:00:00.000000Z' WHERE seq = 7",
    );
    verify_fails_at(&db, 7);
    let (_d2, db2) = ledger();
    sql(&db2, DROP_TRIGGERS);
    sql(
        &db2,
        "UPDATE events SET hash = (CASE WHEN substr(hash, 1, 1) = '0' THEN '1' ELSE '0' END) || substr(hash, 2) WHERE seq = 12",
    );
    verify_fails_at(&db2, 12);
    // The last digit too: a comparison of a prefix would miss it.
    let (_d3, db3) = ledger();
    sql(&db3, DROP_TRIGGERS);
    sql(
        &db3,
        "UPDATE events SET hash = substr(hash, 1, 63) || (CASE WHEN substr(hash, 64, 1) = '0' THEN '1' ELSE '0' END) WHERE seq = 12",
    );
    verify_fails_at(&db3, 12);
}

#[test]
fn deleting_an_event_is_caught_at_the_gap() {
    let (_d, db) = ledger();
    sql(&db, DROP_TRIGGERS);
    sql(&db, "DELETE FROM events WHERE seq = 50");
    let p = verify_fails_at(&db, 51);
    assert!(p.contains("missing"), "{p}");
    // Deleting the last event leaves a valid chain; a noted head shows the log shrank.
    let (_d2, db2) = ledger();
    let head = String::from_utf8(
        cmd(&db2)
            .arg("head")
            .assert()
            .success()
            .get_output()
            .stdout
            .clone(),
    )
    .unwrap();
    sql(&db2, DROP_TRIGGERS);
    sql(&db2, "DELETE FROM events WHERE seq = 142");
    cmd(&db2)
        .args(["verify", "--since-head", head.trim()])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("no longer in the log"));
}

#[test]
fn a_row_inserted_out_of_chain_is_caught() {
    let (_d, db) = ledger();
    sql(&db, DROP_TRIGGERS);
    sql(
        &db,
        r#"INSERT INTO events VALUES (143, '2030-01-01T00:00:00.000000Z', '{"type":"statute_signed","date":"2020","party":"OMN","source":{"document":"x","quote":"y"}}', '0000')"#,
    );
    verify_fails_at(&db, 143);
}

#[test]
fn missing_triggers_fail_verification() {
    let (_d, db) = ledger();
    sql(&db, "DROP TRIGGER events_append_only_delete;");
    cmd(&db)
        .arg("verify")
        .assert()
        .code(1)
        .stdout(predicate::str::contains("events_append_only_delete"));
}

#[test]
fn a_tampered_read_model_is_caught_and_rebuild_mends_it() {
    let (_d, db) = ledger();
    sql(
        &db,
        "DELETE FROM timeline WHERE key = 'count:members' AND ord = 120",
    );
    cmd(&db)
        .arg("verify")
        .assert()
        .code(1)
        .stdout(predicate::str::contains("timeline"));
    cmd(&db).arg("rebuild").assert().success();
    cmd(&db).arg("verify").assert().success();
}

#[test]
fn a_consistently_rewritten_chain_is_caught_by_the_noted_head() {
    let (_d, db) = ledger();
    let head = String::from_utf8(
        cmd(&db)
            .arg("head")
            .assert()
            .success()
            .get_output()
            .stdout
            .clone(),
    )
    .unwrap();
    // Rewrite seq 40 and recompute every later hash, as a careful forger would (who also puts
    // the triggers back as they were, since nothing is written through altered ones).
    let triggers: Vec<String> = Connection::open(&db)
        .unwrap()
        .prepare("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'events'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    sql(&db, DROP_TRIGGERS);
    let c = Connection::open(&db).unwrap();
    c.execute(
        "UPDATE events SET body = replace(body, '2014-11-21', '2014-11-20') WHERE seq = 40",
        [],
    )
    .unwrap();
    let rows: Vec<(i64, String, String)> = c
        .prepare("SELECT seq, recorded_at, body FROM events ORDER BY seq")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut prev = iofs_ledger::chain::GENESIS.to_string();
    for (seq, at, body) in rows {
        let h = event_hash(&prev, seq as u64, &at, &body);
        c.execute(
            "UPDATE events SET hash = ?1 WHERE seq = ?2",
            rusqlite::params![h, seq],
        )
        .unwrap();
        prev = h;
    }
    for t in triggers {
        c.execute_batch(&t).unwrap();
    }
    drop(c);
    cmd(&db).arg("rebuild").assert().success();
    // The chain is self-consistent again, but it no longer contains the noted head.
    cmd(&db)
        .args(["verify", "--since-head", head.trim()])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("rewritten"));
}

#[test]
fn a_log_that_only_grew_proves_its_noted_head() {
    let (_d, db) = ledger();
    let head = String::from_utf8(
        cmd(&db)
            .arg("head")
            .assert()
            .success()
            .get_output()
            .stdout
            .clone(),
    )
    .unwrap();
    cmd(&db)
        .arg("append")
        .write_stdin(r#"{"type":"statute_signed","party":"BRN","date":"2025-01-10","source":{"document":"note.txt","quote":"Brunei Darussalam signed the Statute on 10 January 2025."}}"#)
        .assert()
        .success();
    cmd(&db)
        .args(["verify", "--since-head", head.trim()])
        .assert()
        .success();
}

fn state(db: &Path, as_of: &str, known_at: Option<&str>) -> Value {
    let mut c = cmd(db);
    c.args(["state", "--json", "--as-of", as_of]);
    if let Some(k) = known_at {
        c.args(["--known-at", k]);
    }
    serde_json::from_slice(&c.assert().success().get_output().stdout).unwrap()
}

fn last_recorded_at(db: &Path) -> String {
    let out = cmd(db)
        .args(["head", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: Value = serde_json::from_slice(&out).unwrap();
    v["recorded_at"].as_str().unwrap().to_string()
}

#[test]
fn known_at_answers_are_unchanged_by_later_retractions_and_corrections() {
    let (_d, db) = ledger();
    let t0 = last_recorded_at(&db);
    let before = state(&db, "2019-01-01", None);
    assert_eq!(before["members"]["count"], 33);
    std::thread::sleep(std::time::Duration::from_millis(3));
    // Retract Senegal's signature (find its seq), then correct Kazakhstan's ratification date.
    let h: Value = serde_json::from_slice(
        &cmd(&db)
            .args(["history", "SEN", "--json"])
            .assert()
            .success()
            .get_output()
            .stdout,
    )
    .unwrap();
    let sen = h["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "statute_signed")
        .unwrap()["seq"]
        .as_u64()
        .unwrap();
    cmd(&db)
        .arg("append")
        .write_stdin(format!(r#"{{"type":"retraction","retracts":{sen},"reason":"test","source":{{"document":"audit.txt","quote":"Test."}}}}"#))
        .assert()
        .success();
    let t1 = last_recorded_at(&db);
    std::thread::sleep(std::time::Duration::from_millis(3));
    cmd(&db)
        .arg("append")
        .write_stdin(r#"{"type":"correction","corrects":40,"reason":"test","replacement":{"type":"statute_ratified","party":"KAZ","date":"2019-06-01","source":{"document":"audit.txt","quote":"Test."}},"source":{"document":"audit.txt","quote":"Test."}}"#)
        .assert()
        .success();
    let now = state(&db, "2019-01-01", None);
    assert_eq!(now["members"]["count"], 32);
    assert_eq!(now["ratifications"]["count"], 9);
    let at_t0 = state(&db, "2019-01-01", Some(&t0));
    assert_eq!(at_t0["members"], before["members"]);
    assert_eq!(at_t0["ratifications"], before["ratifications"]);
    let at_t1 = state(&db, "2019-01-01", Some(&t1));
    assert_eq!(at_t1["members"]["count"], 32);
    assert_eq!(
        at_t1["ratifications"]["count"], 10,
        "the correction came after t1"
    );
    cmd(&db).arg("verify").assert().success();
    // The retracted and corrected events stay in the log, marked.
    let log = String::from_utf8(
        cmd(&db)
            .args(["log", "--json"])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone(),
    )
    .unwrap();
    assert!(
        log.contains(&format!(r#""retracted_by":{}"#, 143)),
        "seq {sen} should be marked"
    );
    assert!(log.contains(r#""corrected_by":[144]"#));
}

#[test]
fn the_audit_report_checks_claims_and_entry_into_force() {
    let (_d, db) = ledger();
    let out = cmd(&db)
        .arg("audit")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("DIFFERS"), "{text}");
    assert!(
        text.contains("Entry into force: asserted 2018-02-19"),
        "{text}"
    );
    assert!(text.contains("unidentified:ratifier-1"), "{text}");
    let v: Value = serde_json::from_slice(
        &cmd(&db)
            .args(["audit", "--json"])
            .assert()
            .success()
            .get_output()
            .stdout,
    )
    .unwrap();
    let senegal = v["claims"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["party"] == "SEN")
        .unwrap();
    assert_eq!(senegal["claimed"], 33);
    assert_eq!(senegal["holds"], true);
    assert!(v["dates"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["precision"] == "bounded"));
}

#[test]
fn head_export_audit_and_meetings_answer_as_known_at_an_earlier_instant() {
    let (_d, db) = ledger();
    let t0 = last_recorded_at(&db);
    let head0 = String::from_utf8(
        cmd(&db)
            .arg("head")
            .assert()
            .success()
            .get_output()
            .stdout
            .clone(),
    )
    .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(3));
    cmd(&db)
        .arg("append")
        .write_stdin(r#"{"type":"retraction","retracts":121,"reason":"test","source":{"document":"audit.txt","quote":"Test."}}"#)
        .assert()
        .success();
    let head_then = String::from_utf8(
        cmd(&db)
            .args(["head", "--known-at", &t0])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone(),
    )
    .unwrap();
    assert_eq!(head_then, head0);
    let export_then = String::from_utf8(
        cmd(&db)
            .args(["export", "--known-at", &t0])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone(),
    )
    .unwrap();
    assert_eq!(export_then.lines().count(), 142);
    let a: Value = serde_json::from_slice(
        &cmd(&db)
            .args(["audit", "--json", "--known-at", &t0])
            .assert()
            .success()
            .get_output()
            .stdout,
    )
    .unwrap();
    assert!(a["amendments"].as_array().unwrap().is_empty());
    let a: Value = serde_json::from_slice(
        &cmd(&db)
            .args(["audit", "--json"])
            .assert()
            .success()
            .get_output()
            .stdout,
    )
    .unwrap();
    assert_eq!(a["amendments"].as_array().unwrap().len(), 1);
    let m_then = String::from_utf8(
        cmd(&db)
            .args([
                "meetings",
                "--known-at",
                &t0,
                "--from",
                "2023-10-01",
                "--to",
                "2023-10-31",
            ])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone(),
    )
    .unwrap();
    let m_now = String::from_utf8(
        cmd(&db)
            .args(["meetings", "--from", "2023-10-01", "--to", "2023-10-31"])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone(),
    )
    .unwrap();
    assert!(
        m_then.contains("(seq 121)") && !m_now.contains("(seq 121)"),
        "{m_then}\n{m_now}"
    );
}

#[test]
fn officers_answer_as_known_at_an_earlier_instant() {
    let (_d, db) = ledger();
    let t0 = last_recorded_at(&db);
    let officers = |known_at: Option<&str>| -> Value {
        let mut c = cmd(&db);
        c.args(["officers", "--json"]);
        if let Some(k) = known_at {
            c.args(["--known-at", k]);
        }
        serde_json::from_slice(&c.assert().success().get_output().stdout).unwrap()
    };
    let before = officers(None);
    assert_eq!(before.as_array().unwrap().len(), 3, "{before}");
    std::thread::sleep(std::time::Duration::from_millis(3));
    // Retracting Askar Mussinov's appointment (seq 122) would leave his vacancy of February
    // 2024 without its holder: refused, nothing changes.
    cmd(&db)
        .arg("append")
        .write_stdin(r#"{"type":"retraction","retracts":122,"reason":"test","source":{"document":"audit.txt","quote":"Test."}}"#)
        .assert()
        .failure();
    cmd(&db)
        .arg("append")
        .write_stdin(r#"{"type":"officer_appointed","office":"director_general","person":"A. N. Other","date":"2025-01-01","source":{"document":"audit.txt","quote":"Test."}}"#)
        .assert()
        .success();
    let now = officers(None);
    let then = officers(Some(&t0));
    assert_eq!(now.as_array().unwrap().len(), 4, "{now}");
    assert_eq!(
        then, before,
        "officers known at {t0} changed after a later append"
    );
    assert_eq!(now[3]["person"], "A. N. Other");
    assert_eq!(now[2]["ended_by"], "succeeded by A. N. Other");
}

#[test]
fn verify_works_on_a_ledger_opened_read_only_and_changes_nothing() {
    use iofs_ledger::store::{Access, Ledger};
    let (_d, db) = ledger();
    let before = std::fs::read(&db).unwrap();
    let mut l = Ledger::open(&db, Access::ReadOnly).unwrap();
    let v = iofs_ledger::audit::verify(&mut l, None).unwrap();
    assert!(v.ok, "{:?}", v.problems);
    drop(l);
    assert_eq!(std::fs::read(&db).unwrap(), before);
}

/// A ledger file holding `n` synthetic events (seed `seed`), appended through the CLI.
fn synthetic_ledger(n: usize, seed: u64) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("l.db");
    cmd(&db).args(["init", "--empty"]).assert().success();
    cmd(&db)
        .arg("append")
        .write_stdin(iofs_ledger::synth::jsonl(n, seed))
        .assert()
        .success();
    (dir, db)
}

/// A `--known-at` answer replays the log on two threads (one reads rows, one parses and folds
/// them, a chunk at a time). A damaged body in the middle of a long log must stop both with an
/// error naming its seq, never hang or answer from half the log; the same answer without the
/// damage must equal the read models' answer.
#[test]
fn a_known_at_replay_over_several_chunks_agrees_with_the_read_models_and_stops_at_a_damaged_body() {
    let (_dir, db) = synthetic_ledger(3000, 7);
    let now = last_recorded_at(&db);
    for day in ["1950-06-30", iofs_ledger::synth::LAST_DAY] {
        let mut from_models = state(&db, day, None);
        let mut replayed = state(&db, day, Some(&now));
        from_models["known_at"] = Value::Null;
        replayed["known_at"] = Value::Null;
        assert_eq!(from_models, replayed, "as of {day}");
    }
    sql(&db, DROP_TRIGGERS);
    sql(&db, "UPDATE events SET body = 'not json' WHERE seq = 2100");
    let out = cmd(&db)
        .args([
            "state",
            "--as-of",
            iofs_ledger::synth::LAST_DAY,
            "--known-at",
        ])
        .arg(&now)
        .assert()
        .code(1);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains("2100"), "{err}");
}

/// A state snapshot is a read model like the others: one edited behind the ledger's back is
/// caught by `verify` (naming the table), a mangled one makes `state` fail clearly rather than
/// answer wrongly, and `rebuild` mends both.
#[test]
fn a_tampered_state_snapshot_is_caught_and_rebuild_mends_it() {
    let (_dir, db) = synthetic_ledger(3000, 11);
    let day = iofs_ledger::synth::LAST_DAY;
    let before = state(&db, day, None);
    // Swap one party's membership for a withdrawal in the last snapshot.
    sql(
        &db,
        "UPDATE state_snapshots SET facts = replace(facts, '{\"fact\":\"member\"', '{\"fact\":\"withdrawn\",\"x\":0') \
         WHERE (day, ord) = (SELECT day, ord FROM state_snapshots ORDER BY day DESC, ord DESC LIMIT 1)",
    );
    cmd(&db)
        .arg("verify")
        .assert()
        .code(1)
        .stdout(predicate::str::contains("state_snapshots"));
    // A line without its key.
    sql(
        &db,
        "UPDATE state_snapshots SET facts = 'garbage' || char(10) || facts",
    );
    cmd(&db)
        .args(["state", "--as-of", day])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("rebuild"));
    cmd(&db).arg("rebuild").assert().success();
    cmd(&db).arg("verify").assert().success();
    assert_eq!(state(&db, day, None), before);
}
