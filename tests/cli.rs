//! End-to-end tests of the `iofs-ledger` binary: the command-line contract that scripts rely on.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

struct Tmp {
    _dir: tempfile::TempDir,
    db: PathBuf,
}

fn tmp() -> Tmp {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ledger.db");
    Tmp { _dir: dir, db }
}

fn cmd(db: &Path) -> Command {
    let mut c = Command::cargo_bin("iofs-ledger").unwrap();
    c.env_remove("IOFS_LEDGER_DB").arg("--db").arg(db);
    c
}

fn run(db: &Path, args: &[&str]) -> String {
    let out = cmd(db)
        .args(args)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    String::from_utf8(out).unwrap()
}

fn append(db: &Path, input: &str) -> assert_cmd::assert::Assert {
    cmd(db)
        .arg("append")
        .write_stdin(input.to_string())
        .assert()
}

fn json(db: &Path, args: &[&str]) -> Value {
    serde_json::from_str(&run(db, args)).unwrap()
}

/// Everything a refused append must leave as it was: the log with hashes, and the head.
fn snapshot(db: &Path) -> (String, String) {
    (run(db, &["log", "--json"]), run(db, &["head"]))
}

const SRC: &str = r#""source":{"document":"test.txt","quote":"A sentence."}"#;

fn ev(body: &str) -> String {
    format!("{{{body},{SRC}}}\n")
}

fn empty_ledger() -> Tmp {
    let t = tmp();
    cmd(&t.db).args(["init", "--empty"]).assert().success();
    t
}

#[test]
fn init_loads_the_builtin_history_and_never_overwrites() {
    let t = tmp();
    cmd(&t.db)
        .arg("init")
        .assert()
        .success()
        .stdout(predicate::str::contains("of the built-in history"));
    let head = run(&t.db, &["head"]);
    cmd(&t.db)
        .arg("init")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("already exists"));
    cmd(&t.db).args(["init", "--empty"]).assert().code(1);
    assert_eq!(run(&t.db, &["head"]), head);
    cmd(&t.db)
        .arg("verify")
        .assert()
        .success()
        .stdout(predicate::str::starts_with("ok:"));
}

#[test]
fn init_refuses_to_overwrite_a_foreign_file() {
    let t = tmp();
    std::fs::write(&t.db, b"precious").unwrap();
    cmd(&t.db).arg("init").assert().code(1);
    assert_eq!(std::fs::read(&t.db).unwrap(), b"precious");
}

#[test]
fn append_prints_the_seq_range_and_queries_answer_from_it() {
    let t = empty_ledger();
    let input = [
        ev(r#""type":"statute_signed","party":"KAZ","date":"2013-12-10""#),
        ev(r#""type":"statute_signed","party":"BRN","date":"2025-01-10""#),
        ev(r#""type":"statute_ratified","party":"KAZ","date":"2014-11-21""#),
        ev(r#""type":"statute_entered_into_force","date":"2018-02-19""#),
        ev(r#""type":"officer_appointed","office":"director_general","person":"A. Person","date":"2019-08-29","term_years":4"#),
        ev(r#""type":"board_elected","organ":"executive_board","date":"2016-04-28","seats":[{"party":"SAU","role":"chair"},{"party":"KAZ","role":"permanent_member"},{"office":"director_general","role":"member"}]"#),
    ]
    .concat();
    append(&t.db, &input)
        .success()
        .stdout(predicate::str::contains("appended seq 1..6 (6 events)"));

    let s = json(&t.db, &["state", "--as-of", "2020-01-01", "--json"]);
    assert_eq!(s["as_of"], "2020-01-01");
    assert_eq!(s["known_at"], Value::Null);
    assert_eq!(s["members"]["count"], 1);
    assert_eq!(s["members"]["parties"][0]["code"], "KAZ");
    assert_eq!(s["members"]["parties"][0]["name"], "Kazakhstan");
    assert_eq!(s["members"]["parties"][0]["since"], "2013-12-10");
    assert_eq!(s["members"]["parties"][0]["ratified"], true);
    assert_eq!(s["ratifications"]["count"], 1);
    assert_eq!(s["observers"]["count"], 0);
    assert_eq!(s["statute"]["in_force"], true);
    assert_eq!(s["statute"]["since"], "2018-02-19");
    assert_eq!(s["director_general"]["holder"], "A. Person");
    assert_eq!(s["director_general"]["since"], "2019-08-29");
    assert_eq!(s["director_general"]["term_ends"], "2023-08-29");
    assert_eq!(s["executive_board"]["chair"], "SAU");
    assert_eq!(s["executive_board"]["members"].as_array().unwrap().len(), 3);
    assert!(s["uncertain"].as_array().unwrap().is_empty());

    let s = json(&t.db, &["state", "--as-of", "2018-02-18", "--json"]);
    assert_eq!(s["statute"]["in_force"], false);
    assert_eq!(s["director_general"]["holder"], Value::Null);

    let human = run(&t.db, &["state", "--as-of", "2025-01-10"]);
    assert!(human.contains("Members: 2"), "{human}");
    assert!(human.contains("Brunei Darussalam"), "{human}");
    // The four-year term from 2019-08-29 ended on 2023-08-29 and nothing says who followed.
    assert!(
        human.contains("Director General: not known (A. Person"),
        "{human}"
    );

    let m = json(&t.db, &["members", "--as-of", "2025-01-10", "--json"]);
    assert_eq!(m["count"], 2);
    assert_eq!(m["parties"][1]["code"], "BRN");
    assert_eq!(m["parties"][1]["ordinal"], 2);
    assert_eq!(m["parties"][1]["replay_order"], 2);
    assert_eq!(m["parties"][1]["sourced_ordinals"], serde_json::json!([]));
}

#[test]
fn the_date_is_inclusive_and_precision_is_kept() {
    let t = empty_ledger();
    append(
        &t.db,
        &ev(r#""type":"statute_signed","party":"KAZ","date":"2013-12""#),
    )
    .success();
    let s = json(&t.db, &["state", "--as-of", "2013-12-15", "--json"]);
    assert_eq!(
        s["members"]["count"], 0,
        "a month-precise signature counts from the month's last day"
    );
    assert_eq!(s["uncertain"][0]["party"], "KAZ");
    assert_eq!(s["uncertain"][0]["precision"], "month");
    let s = json(&t.db, &["state", "--as-of", "2013-12-31", "--json"]);
    assert_eq!(s["members"]["count"], 1);
    assert_eq!(
        s["members"]["parties"][0]["since"], "2013-12",
        "never padded into a fake day"
    );
    assert!(s["uncertain"].as_array().unwrap().is_empty());
}

#[test]
fn a_json_array_is_accepted() {
    let t = empty_ledger();
    let input = format!(
        "[{}, {}]",
        ev(r#""type":"statute_signed","party":"KAZ","date":"2013""#).trim(),
        ev(r#""type":"statute_signed","party":"SAU","date":"2016""#).trim()
    );
    append(&t.db, &input)
        .success()
        .stdout(predicate::str::contains("seq 1..2"));
    // Both elements landed, in array order, as the events they describe.
    let s = json(&t.db, &["state", "--as-of", "2016-12-31", "--json"]);
    let members: Vec<(String, u64, u64)> = s["members"]["parties"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["code"].as_str().unwrap().to_string(),
                m["seq"].as_u64().unwrap(),
                m["ordinal"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        members,
        [("KAZ".to_string(), 1, 1), ("SAU".to_string(), 2, 2)]
    );
}

#[test]
fn append_reads_a_file_argument() {
    let t = empty_ledger();
    let f = t.db.with_file_name("in.jsonl");
    std::fs::write(
        &f,
        ev(r#""type":"statute_signed","party":"KAZ","date":"2013""#),
    )
    .unwrap();
    cmd(&t.db)
        .arg("append")
        .arg(&f)
        .assert()
        .success()
        .stdout(predicate::str::contains("seq 1..1"));
    cmd(&t.db)
        .arg("append")
        .arg(t.db.with_file_name("missing.jsonl"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("missing.jsonl"));
}

/// Each refusal: exit 1, a message naming the line and the field (and the rule), ledger unchanged.
#[test]
fn every_refusal_names_line_field_and_rule_and_changes_nothing() {
    let t = empty_ledger();
    append(
        &t.db,
        &[
            ev(r#""type":"statute_signed","party":"KAZ","date":"2013-12-10""#),
            ev(r#""type":"statute_ratified","party":"KAZ","date":"2014-11-21""#),
            ev(r#""type":"officer_appointed","office":"director_general","person":"A","date":"2019""#),
        ]
        .concat(),
    )
    .success();
    let before = snapshot(&t.db);
    let ok_line = ev(r#""type":"statute_signed","party":"SAU","date":"2016-03-15""#);
    let cases: &[(&str, &[&str])] = &[
        (
            r#""type":"statute_signed","party":"KAZ","date":"2015""#,
            &["line 2", "`party`", "a member cannot sign again"],
        ),
        (
            r#""type":"membership_withdrawn","party":"QAT","date":"2020""#,
            &["line 2", "`party`", "only a member can withdraw"],
        ),
        (
            r#""type":"statute_ratified","party":"KAZ","date":"2020""#,
            &["line 2", "`party`", "ratifies at most once"],
        ),
        (
            r#""type":"office_vacated","office":"director_general","person":"B","reason":"x","date":"2020""#,
            &["line 2", "`person`", "only by its holder"],
        ),
        (
            r#""type":"retraction","retracts":99,"reason":"x""#,
            &["line 2", "`retracts`", "does not exist"],
        ),
        (
            r#""type":"statute_signed","party":"XYZ","date":"2015""#,
            &["line 2", "`party`", "unknown party"],
        ),
        (
            r#""type":"statute_signed","party":"QAT","date":"2023-02-29""#,
            &["line 2", "`date`", "not a real date"],
        ),
        (
            r#""type":"statute_signed","party":"QAT","date":"0000-01-01""#,
            &["line 2", "`date`"],
        ),
        (
            r#""type":"statute_signed","party":"QAT","date":"2999-01-01""#,
            &["line 2", "`date`", "after the day of recording"],
        ),
        (
            r#""type":"statute_signed","party":"QAT","date":"2015","colour":"red""#,
            &["line 2", "`colour`", "unknown field"],
        ),
        (
            r#""type":"statute_stolen","date":"2015""#,
            &["line 2", "`type`", "unknown event type"],
        ),
        (
            r#""type":"statute_signed","party":"QAT","date":"2015","seq":5"#,
            &["line 2", "`seq`", "set by the store"],
        ),
        (
            r#""type":"statute_signed","party":"QAT""#,
            &["line 2", "`date`", "missing"],
        ),
    ];
    for (bad, needles) in cases {
        let input = format!("{ok_line}{}", ev(bad));
        let out = append(&t.db, &input).code(1);
        let err = String::from_utf8(out.get_output().stderr.clone()).unwrap();
        for n in *needles {
            assert!(err.contains(n), "for {bad}: expected {n:?} in {err}");
        }
        assert!(err.contains("nothing was appended"), "{err}");
        assert_eq!(
            snapshot(&t.db),
            before,
            "refused batch changed the ledger: {bad}"
        );
    }
    // Malformed JSON, a missing source, bad UTF-8.
    for (input, needle) in [
        (format!("{ok_line}{{not json\n").into_bytes(), "line 2"),
        (
            format!("{ok_line}{{\"type\":\"statute_adopted\",\"date\":\"2013\"}}\n").into_bytes(),
            "`source`",
        ),
        ([ok_line.as_bytes(), b"\xff\xfe\n"].concat(), "UTF-8"),
    ] {
        cmd(&t.db)
            .arg("append")
            .write_stdin(input)
            .assert()
            .code(1)
            .stderr(predicate::str::contains(needle));
        assert_eq!(snapshot(&t.db), before);
    }
}

#[test]
fn a_backdated_event_that_would_break_a_later_one_is_refused() {
    let t = empty_ledger();
    append(
        &t.db,
        &[
            ev(r#""type":"statute_signed","party":"KAZ","date":"2013""#),
            ev(r#""type":"membership_withdrawn","party":"KAZ","date":"2020-01-01""#),
        ]
        .concat(),
    )
    .success();
    let before = snapshot(&t.db);
    // A withdrawal in 2015 makes the recorded 2020 withdrawal (seq 2) a withdrawal by a non-member.
    append(
        &t.db,
        &ev(r#""type":"membership_withdrawn","party":"KAZ","date":"2015-06-01""#),
    )
    .code(1)
    .stderr(
        predicate::str::contains("seq 2")
            .and(predicate::str::contains("only a member can withdraw")),
    );
    assert_eq!(snapshot(&t.db), before);
    // Retracting the signature would do the same.
    append(
        &t.db,
        &ev(r#""type":"retraction","retracts":1,"reason":"x""#),
    )
    .code(1);
    assert_eq!(snapshot(&t.db), before);
}

#[test]
fn expect_head_refuses_when_the_log_moved() {
    let t = empty_ledger();
    append(
        &t.db,
        &ev(r#""type":"statute_signed","party":"KAZ","date":"2013""#),
    )
    .success();
    let before = snapshot(&t.db);
    cmd(&t.db)
        .args(["append", "--expect-head", "0"])
        .write_stdin(ev(r#""type":"statute_signed","party":"SAU","date":"2016""#))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("last seq is 1, not 0"));
    assert_eq!(snapshot(&t.db), before);
    cmd(&t.db)
        .args(["append", "--expect-head", "1"])
        .write_stdin(ev(r#""type":"statute_signed","party":"SAU","date":"2016""#))
        .assert()
        .success()
        .stdout(predicate::str::contains("seq 2..2"));
}

#[test]
fn log_shows_seq_recorded_at_hash_and_after_catches_up() {
    let t = empty_ledger();
    append(
        &t.db,
        &[
            ev(r#""type":"statute_signed","party":"KAZ","date":"2013""#),
            ev(r#""type":"statute_signed","party":"SAU","date":"2016""#),
            ev(r#""type":"statute_signed","party":"QAT","date":"2016""#),
        ]
        .concat(),
    )
    .success();
    let lines: Vec<Value> = run(&t.db, &["log", "--json", "--after", "1"])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["seq"], 2);
    assert_eq!(lines[0]["party"], "SAU");
    assert!(lines[0]["recorded_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(lines[0]["hash"].as_str().unwrap().len(), 64);
    let human = run(&t.db, &["log"]);
    assert!(human.contains("statute_signed"), "{human}");
    let head = run(&t.db, &["head"]);
    assert!(head.starts_with("3:"), "{head}");
    assert_eq!(head.trim().split(':').nth(1), lines[1]["hash"].as_str());
}

#[test]
fn retraction_and_correction_act_on_the_record_and_stay_visible() {
    let t = empty_ledger();
    append(
        &t.db,
        &[
            ev(r#""type":"statute_signed","party":"KAZ","date":"2013-12-10""#),
            ev(r#""type":"statute_signed","party":"LBY","date":"2014-04-15""#),
        ]
        .concat(),
    )
    .success();
    append(
        &t.db,
        &ev(r#""type":"retraction","retracts":2,"reason":"wrong party""#),
    )
    .success();
    append(
        &t.db,
        &ev(r#""type":"correction","corrects":1,"reason":"wrong day","replacement":{"type":"statute_signed","party":"KAZ","date":"2013-12-09","source":{"document":"law.txt","quote":"Signed on 9 December."}}"#),
    )
    .success();
    let s = json(&t.db, &["state", "--as-of", "2013-12-09", "--json"]);
    assert_eq!(s["members"]["count"], 1);
    assert_eq!(s["members"]["parties"][0]["since"], "2013-12-09");
    let s = json(&t.db, &["state", "--as-of", "2020-01-01", "--json"]);
    assert_eq!(
        s["members"]["count"], 1,
        "a retracted signature counts for no date"
    );
    let log: Vec<Value> = run(&t.db, &["log", "--json"])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(log.len(), 4);
    assert_eq!(log[1]["retracted_by"], 3);
    assert_eq!(log[0]["corrected_by"], serde_json::json!([4]));
    let h = run(&t.db, &["history", "LBY"]);
    assert!(h.contains("retracted by seq 3"), "{h}");
    // A retracted event cannot be retracted or corrected again.
    append(
        &t.db,
        &ev(r#""type":"retraction","retracts":2,"reason":"again""#),
    )
    .code(1)
    .stderr(predicate::str::contains("already retracted"));
    cmd(&t.db).arg("verify").assert().success();
}

#[test]
fn known_at_answers_as_the_ledger_knew_then() {
    let t = empty_ledger();
    append(
        &t.db,
        &ev(r#""type":"statute_signed","party":"KAZ","date":"2013""#),
    )
    .success();
    let first: Value =
        serde_json::from_str(run(&t.db, &["log", "--json"]).lines().next().unwrap()).unwrap();
    let t1 = first["recorded_at"].as_str().unwrap().to_string();
    std::thread::sleep(std::time::Duration::from_millis(5));
    append(
        &t.db,
        &ev(r#""type":"retraction","retracts":1,"reason":"not yet signed""#),
    )
    .success();
    let now = json(&t.db, &["state", "--as-of", "2020-01-01", "--json"]);
    assert_eq!(now["members"]["count"], 0);
    let then = json(
        &t.db,
        &[
            "state",
            "--as-of",
            "2020-01-01",
            "--known-at",
            &t1,
            "--json",
        ],
    );
    assert_eq!(then["members"]["count"], 1);
    assert_eq!(then["known_at"], t1.as_str());
    let before_anything = json(
        &t.db,
        &[
            "state",
            "--as-of",
            "2020-01-01",
            "--known-at",
            "2000-01-01",
            "--json",
        ],
    );
    assert_eq!(before_anything["members"]["count"], 0);
    let log = run(&t.db, &["log", "--json", "--known-at", &t1]);
    assert_eq!(log.lines().count(), 1);
    cmd(&t.db)
        .args(["state", "--as-of", "2020-01-01", "--known-at", "yesterday"])
        .assert()
        .code(2);
}

#[test]
fn history_lists_a_partys_timeline_with_sources() {
    let t = tmp();
    cmd(&t.db).arg("init").assert().success();
    let h = json(&t.db, &["history", "SAU", "--json"]);
    assert_eq!(h["party"], "SAU");
    let events = h["events"].as_array().unwrap();
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert!(types.contains(&"statute_signed"), "{types:?}");
    assert!(types.contains(&"board_elected"), "{types:?}");
    assert!(events.iter().all(|e| e["source"]["quote"].is_string()
        && e["recorded_at"].is_string()
        && e["precision"].is_string()));
    cmd(&t.db)
        .args(["history", "ATLANTIS"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no party matches `ATLANTIS`"));
}

#[test]
fn export_then_import_gives_the_same_answers() {
    let t = tmp();
    cmd(&t.db).arg("init").assert().success();
    append(
        &t.db,
        &ev(r#""type":"retraction","retracts":5,"reason":"test""#),
    )
    .success();
    let exported = run(&t.db, &["export"]);
    let u = tmp();
    cmd(&u.db).args(["init", "--empty"]).assert().success();
    append(&u.db, &exported).success();
    for d in [
        "2013-12-11",
        "2015-01-01",
        "2018-02-19",
        "2019-08-29",
        "2024-02-15",
        "2024-12-31",
    ] {
        assert_eq!(
            json(&t.db, &["state", "--as-of", d, "--json"]),
            json(&u.db, &["state", "--as-of", d, "--json"]),
            "{d}"
        );
    }
}

#[test]
fn reads_without_a_ledger_answer_from_the_builtin_history_and_say_so() {
    let t = tmp();
    cmd(&t.db)
        .args(["state", "--as-of", "2024-12-31", "--json"])
        .assert()
        .success()
        .stderr(predicate::str::contains("built-in history"))
        .stdout(predicate::str::contains("\"count\": 41"));
    assert!(!t.db.exists(), "a read must not create the file");
    cmd(&t.db)
        .arg("append")
        .write_stdin(ev(r#""type":"statute_signed","party":"KAZ","date":"2013""#))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("init"));
    assert!(!t.db.exists());
}

#[test]
fn the_db_path_comes_from_the_environment_when_not_given() {
    let t = tmp();
    let mut c = Command::cargo_bin("iofs-ledger").unwrap();
    c.env("IOFS_LEDGER_DB", &t.db)
        .args(["init", "--empty"])
        .assert()
        .success();
    assert!(t.db.exists());
}

#[test]
fn usage_errors_exit_2() {
    let t = tmp();
    cmd(&t.db)
        .args(["state", "--as-of", "2019-13-01"])
        .assert()
        .code(2);
    cmd(&t.db)
        .args(["state", "--as-of", "2019-13-01"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("YYYY, YYYY-MM or YYYY-MM-DD"));
    cmd(&t.db).args(["frobnicate"]).assert().code(2);
    cmd(&t.db)
        .args(["verify", "--since-head", "nonsense"])
        .assert()
        .code(2);
}

#[test]
fn verify_head_diff_audit_meetings_and_parties_answer() {
    let t = tmp();
    cmd(&t.db).arg("init").assert().success();
    let head = run(&t.db, &["head"]);
    let v = json(&t.db, &["verify", "--json", "--since-head", head.trim()]);
    assert_eq!(v["ok"], true);
    let d = json(
        &t.db,
        &[
            "diff",
            "--from",
            "2023-01-01",
            "--to",
            "2024-12-31",
            "--json",
        ],
    );
    let joined: Vec<&str> = d["joined"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["code"].as_str().unwrap())
        .collect();
    assert_eq!(joined, ["JOR", "YEM", "GAB", "IRQ"]);
    assert_eq!(d["director_general"][1], "Berik Aryn");
    let a = json(&t.db, &["audit", "--json"]);
    assert!(a["claims"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["holds"] == false));
    let m = run(
        &t.db,
        &["meetings", "--from", "2023-01-01", "--to", "2023-12-31"],
    );
    assert!(m.contains("General Assembly #6"), "{m}");
    let p = run(&t.db, &["parties"]);
    assert_eq!(
        p.lines()
            .filter(|l| l.len() > 3 && l.as_bytes()[3] == b' ')
            .count(),
        57
    );
}

#[test]
fn years_and_officers_summarise_the_builtin_history() {
    let t = tmp();
    cmd(&t.db).arg("init").assert().success();
    let y = json(
        &t.db,
        &["years", "--from", "2013", "--to", "2024", "--json"],
    );
    let counts: Vec<u64> = y
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["members"].as_u64().unwrap())
        .collect();
    assert_eq!(counts, [19, 19, 20, 29, 33, 33, 34, 34, 36, 37, 41, 41]);
    let o = json(&t.db, &["officers", "--json"]);
    let names: Vec<&str> = o
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["person"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Yerlan Baidaulet", "Askar Mussinov", "Berik Aryn"]);
    assert_eq!(o[1]["until"], "2024-02-10");
    assert_eq!(o[1]["ended_by"], "death");
    assert_eq!(o[2]["until"], Value::Null);
    cmd(&t.db)
        .args(["years", "--from", "2024", "--to", "2013"])
        .assert()
        .code(2);
}

#[test]
fn members_lists_only_the_uncertainty_membership_depends_on() {
    let t = tmp();
    cmd(&t.db).arg("init").assert().success();
    let m = json(&t.db, &["members", "--as-of", "2014-06-01", "--json"]);
    assert_eq!(m["count"], 19);
    let kinds: Vec<&str> = m["uncertain"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["type"].as_str().unwrap())
        .collect();
    // Libya's signature and the three between Libya and Senegal (Kuwait, Pakistan, one
    // unnamed), not the ratifications.
    assert!(kinds.iter().all(|k| *k == "statute_signed"), "{kinds:?}");
    let parties: Vec<&str> = m["uncertain"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["party"].as_str().unwrap())
        .collect();
    assert_eq!(
        parties,
        ["LBY", "KWT", "PAK", "unidentified:signatory-x"],
        "{parties:?}"
    );
}
