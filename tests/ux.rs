//! End-to-end tests of what people type and scripts read: party names, dates, JSON date
//! shapes, CSV, receipts, `audit --summary`, help, `--version`, completions and the man page.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

struct Tmp {
    _dir: tempfile::TempDir,
    db: PathBuf,
}

/// A ledger with the built-in history.
fn ledger() -> Tmp {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ledger.db");
    cmd(&db).arg("init").assert().success();
    Tmp { _dir: dir, db }
}

fn cmd(db: &Path) -> Command {
    let mut c = Command::cargo_bin("iofs-ledger").unwrap();
    c.env_remove("IOFS_LEDGER_DB").arg("--db").arg(db);
    c
}

fn out(db: &Path, args: &[&str]) -> String {
    let o = cmd(db)
        .args(args)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    String::from_utf8(o).unwrap()
}

fn json(db: &Path, args: &[&str]) -> Value {
    serde_json::from_str(&out(db, args)).unwrap()
}

fn csv_rows(text: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect()
}

// --- Parties by name -------------------------------------------------------------------------

#[test]
fn history_takes_a_party_by_code_in_any_case_or_by_name_and_prints_the_canonical_code() {
    let t = ledger();
    let canonical = out(&t.db, &["history", "NGA"]);
    assert!(canonical.starts_with("NGA Nigeria"), "{canonical}");
    for typed in ["nga", "Nigeria", "NIGERIA"] {
        assert_eq!(out(&t.db, &["history", typed]), canonical, "{typed}");
    }
    for typed in ["saudi arabia", "SAU", "Saudi"] {
        assert!(out(&t.db, &["history", typed]).starts_with("SAU Saudi Arabia"));
    }
    for typed in ["Cote d'Ivoire", "Côte d'Ivoire", "ivory coast", "civ"] {
        let h = json(&t.db, &["history", typed, "--json"]);
        assert_eq!(h["party"], "CIV", "{typed}");
    }
}

#[test]
fn a_near_miss_names_the_nearest_party_and_exits_2() {
    let t = ledger();
    cmd(&t.db)
        .args(["history", "Nigera"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("Did you mean NGA (Nigeria)?"));
    cmd(&t.db)
        .args(["history", "France"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no party matches `France`"))
        .stderr(predicate::str::contains("Did you mean").not());
}

// --- Dates -----------------------------------------------------------------------------------

#[test]
fn a_year_or_month_means_its_last_day_for_as_of_and_to_and_its_first_for_from() {
    let t = ledger();
    let day = |args: &[&str]| json(&t.db, args);
    assert_eq!(
        day(&["state", "--as-of", "2019", "--json"]),
        day(&["state", "--as-of", "2019-12-31", "--json"])
    );
    assert_eq!(
        day(&["members", "--as-of", "2016-04", "--json"]),
        day(&["members", "--as-of", "2016-04-30", "--json"])
    );
    let d = day(&["diff", "--from", "2023", "--to", "2024-01", "--json"]);
    assert_eq!(
        (d["from"].as_str(), d["to"].as_str()),
        (Some("2023-01-01"), Some("2024-01-31"))
    );
    assert_eq!(
        out(&t.db, &["meetings", "--from", "2023", "--to", "2023"]),
        out(
            &t.db,
            &["meetings", "--from", "2023-01-01", "--to", "2023-12-31"]
        )
    );
    assert_eq!(
        out(&t.db, &["years", "--from", "2013", "--to", "2014"]),
        out(&t.db, &["years", "--from", "2013-06", "--to", "2014-02-01"])
    );
}

#[test]
fn state_and_members_without_as_of_answer_for_today_in_utc() {
    let t = ledger();
    let today = chrono::Utc::now()
        .date_naive()
        .format("%Y-%m-%d")
        .to_string();
    let s = json(&t.db, &["state", "--json"]);
    let m = json(&t.db, &["members", "--json"]);
    // The day may turn between the two runs; either answer names a day the run saw.
    let after = chrono::Utc::now()
        .date_naive()
        .format("%Y-%m-%d")
        .to_string();
    for v in [&s, &m] {
        let as_of = v["as_of"].as_str().unwrap();
        assert!(as_of == today || as_of == after, "{as_of}");
    }
}

#[test]
fn every_date_flag_refuses_a_bad_date_with_the_same_text_saying_what_is_accepted() {
    let t = ledger();
    let accepted = "is not a date: give YYYY, YYYY-MM or YYYY-MM-DD (a real date, years 0001-9999); a year or month means its last day for --as-of and --to, its first day for --from";
    for args in [
        &["state", "--as-of", "2019-13"][..],
        &["members", "--as-of", "19"],
        &["diff", "--from", "2023-02-29", "--to", "2024"],
        &["diff", "--from", "2023", "--to", "2024/01"],
        &["meetings", "--from", "yesterday"],
        &["meetings", "--to", "0000"],
        &["years", "--from", "2013", "--to", "20x4"],
    ] {
        cmd(&t.db)
            .args(args)
            .assert()
            .code(2)
            .stdout("")
            .stderr(predicate::str::contains(accepted));
    }
}

#[test]
fn a_reversed_range_is_refused_the_same_way_by_every_command() {
    let t = ledger();
    for args in [
        &["diff", "--from", "2024", "--to", "2023"][..],
        &["meetings", "--from", "2024", "--to", "2023"],
        &["years", "--from", "2024", "--to", "2023"],
    ] {
        cmd(&t.db)
            .args(args)
            .assert()
            .code(2)
            .stdout("")
            .stderr(predicate::str::contains(
                "--from 2024-01-01 is after --to 2023-12-31: give the earlier day to --from",
            ));
    }
}

// --- JSON date shapes ------------------------------------------------------------------------

/// Every date in an answer is a string `YYYY`, `YYYY-MM` or `YYYY-MM-DD`, or an object of
/// exactly `not_before` and `not_after` (never prose such as "between A and B").
fn assert_dates_have_event_shapes(v: &Value, path: &str, seen: &mut usize) {
    let is_partial = |s: &str| {
        let b = s.as_bytes();
        let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
        match b.len() {
            4 => digits(0..4),
            7 => digits(0..4) && b[4] == b'-' && digits(5..7),
            10 => digits(0..4) && b[4] == b'-' && digits(5..7) && b[7] == b'-' && digits(8..10),
            _ => false,
        }
    };
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let p = format!("{path}.{k}");
                let date_key = matches!(
                    k.as_str(),
                    "since"
                        | "date"
                        | "from"
                        | "until"
                        | "adopted"
                        | "established"
                        | "secretariat_operational"
                        | "asserted"
                );
                if date_key && !x.is_null() {
                    *seen += 1;
                    match x {
                        Value::String(s) => assert!(is_partial(s), "{p} = {s:?}"),
                        Value::Object(b) => {
                            let keys: Vec<&str> = b.keys().map(String::as_str).collect();
                            assert_eq!(keys, ["not_before", "not_after"], "{p}");
                            for d in b.values() {
                                assert!(is_partial(d.as_str().unwrap()), "{p} = {d}");
                            }
                        }
                        other => panic!("{p} = {other}"),
                    }
                } else {
                    assert_dates_have_event_shapes(x, &p, seen);
                }
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                assert_dates_have_event_shapes(x, &format!("{path}[{i}]"), seen);
            }
        }
        _ => {}
    }
}

#[test]
fn dates_in_json_answers_have_the_event_formats_own_shapes() {
    let t = ledger();
    for args in [
        &["state", "--as-of", "2019-06-01", "--json"][..],
        &["state", "--as-of", "2024-03-01", "--json"],
        &["members", "--as-of", "2016", "--json"],
        &["officers", "--json"],
        &["diff", "--from", "2013", "--to", "2024", "--json"],
        &["audit", "--json"],
        &["history", "LBY", "--json"],
        &["meetings", "--json"],
    ] {
        let mut seen = 0;
        assert_dates_have_event_shapes(&json(&t.db, args), "", &mut seen);
        assert!(seen > 0, "{args:?} has no dates");
    }
    let s = json(&t.db, &["state", "--as-of", "2019-12-31", "--json"]);
    let nga = s["members"]["parties"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["code"] == "NGA")
        .unwrap();
    assert_eq!(
        nga["since"],
        serde_json::json!({"not_before": "2019-08-27", "not_after": "2019-08-29"})
    );
    assert_eq!(
        s["director_general"]["since"],
        serde_json::json!({"not_before": "2019-08-27", "not_after": "2019-08-29"})
    );
}

// --- CSV and --format ------------------------------------------------------------------------

#[test]
fn every_tabular_answer_prints_csv_with_a_header_row_first() {
    let t = ledger();
    for (args, header, min_rows) in [
        (&["members", "--as-of", "2020"][..], "ordinal,code,name,unidentified,since,since_first_day,counted_from,precision,ratified,seq", 34),
        (&["years", "--from", "2013", "--to", "2024"], "as_of,members,ratifications,observers,in_force,director_general,board_chair,uncertain", 12),
        (&["officers"], "person,from,counted_from,term_years,until,ended_by,seq", 3),
        (&["meetings"], "seq,date,end_date,first_day,last_day,meeting,source", 5),
        (&["diff", "--from", "2023", "--to", "2024"], "change,code,name,since,seq", 5),
        (&["history", "LBY"], "party,seq,recorded_at,type,date,date_first_day,date_last_day,precision,summary,source,quote,status", 2),
        (&["log"], "seq,recorded_at,type,date,date_first_day,date_last_day,summary,source,hash,status", 134),
        (&["parties"], "code,name", 57),
    ] {
        let mut a = args.to_vec();
        a.extend(["--format", "csv"]);
        let text = out(&t.db, &a);
        assert_eq!(text.lines().next(), Some(header), "{args:?}");
        let rows = csv_rows(&text);
        let width = rows[0].len();
        assert!(rows.iter().all(|r| r.len() == width), "{args:?}");
        assert!(rows.len() > min_rows, "{args:?}: {} rows", rows.len());
    }
    // A quote with commas and double quotes survives the round trip.
    let rows = csv_rows(&out(&t.db, &["history", "LBY", "--format", "csv"]));
    let h = json(&t.db, &["history", "LBY", "--json"]);
    assert_eq!(
        rows[1][10],
        h["events"][0]["source"]["quote"].as_str().unwrap()
    );
    // Members as CSV are the members as JSON.
    let rows = csv_rows(&out(
        &t.db,
        &["members", "--as-of", "2020", "--format", "csv"],
    ));
    let m = json(&t.db, &["members", "--as-of", "2020", "--json"]);
    let codes: Vec<&str> = rows[1..].iter().map(|r| r[1].as_str()).collect();
    let want: Vec<&str> = m["parties"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, want);
}

#[test]
fn json_is_an_alias_of_format_json_and_the_two_cannot_disagree() {
    let t = ledger();
    for args in [
        &["state", "--as-of", "2020"][..],
        &["members", "--as-of", "2020"],
        &["officers"],
        &["head"],
        &["audit", "--summary"],
    ] {
        let mut a = args.to_vec();
        a.push("--json");
        let mut b = args.to_vec();
        b.extend(["--format", "json"]);
        assert_eq!(out(&t.db, &a), out(&t.db, &b), "{args:?}");
    }
    cmd(&t.db)
        .args(["officers", "--json", "--format", "csv"])
        .assert()
        .code(2);
    // A document answer has no CSV form.
    cmd(&t.db)
        .args(["state", "--format", "csv"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("possible values: text, json"));
}

// --- Receipts --------------------------------------------------------------------------------

fn head(db: &Path) -> String {
    out(db, &["head"]).trim().to_string()
}

#[test]
fn writing_commands_print_a_json_receipt_whose_head_is_what_head_prints() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("r.db");
    let r = json(&db, &["init", "--json"]);
    assert_eq!(r["first_seq"], 1);
    let n = r["count"].as_u64().unwrap();
    assert!(n >= 134, "{r}");
    assert_eq!(r["last_seq"], n);
    assert!(r["recorded_at"].is_string());
    assert_eq!(r["head"], head(&db));

    let line = r#"{"type":"statute_signed","party":"BRN","date":"2025-01-10","source":{"document":"note","quote":"Brunei signed."}}"#;
    let o = cmd(&db)
        .args(["append", "--json"])
        .write_stdin(format!("{line}\n"))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let a: Value = serde_json::from_slice(&o).unwrap();
    assert_eq!(
        (
            a["first_seq"].clone(),
            a["last_seq"].clone(),
            a["count"].clone()
        ),
        ((n + 1).into(), (n + 1).into(), 1.into())
    );
    assert!(a["recorded_at"].as_str().unwrap() > r["recorded_at"].as_str().unwrap());
    assert_eq!(a["head"], head(&db));
    let keys: Vec<&str> = a.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        ["first_seq", "last_seq", "count", "recorded_at", "head"]
    );

    // An empty input is refused unless it is expected (`--allow-empty`).
    cmd(&db)
        .args(["append", "--json"])
        .write_stdin("")
        .assert()
        .code(1);
    let o = cmd(&db)
        .args(["append", "--json", "--allow-empty"])
        .write_stdin("")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let e: Value = serde_json::from_slice(&o).unwrap();
    assert_eq!(e["count"], 0);
    assert_eq!(e["first_seq"], Value::Null);
    assert_eq!(e["head"], head(&db));

    let b = json(&db, &["rebuild", "--json"]);
    assert_eq!(b["count"], n + 1);
    assert_eq!(b["last_seq"], n + 1);
    assert_eq!(b["recorded_at"], Value::Null);
    assert_eq!(b["head"], head(&db));

    let dir2 = tempfile::tempdir().unwrap();
    let empty = json(&dir2.path().join("e.db"), &["init", "--empty", "--json"]);
    assert_eq!(empty["count"], 0);
    assert_eq!(empty["first_seq"], Value::Null);
    assert!(empty["head"].as_str().unwrap().starts_with("0:"));
}

// --- audit --summary, progress, help, version, completions, man -------------------------------

#[test]
fn audit_summary_counts_each_kind_of_finding_of_the_full_report() {
    let t = ledger();
    let full = json(&t.db, &["audit", "--json"]);
    let s = json(&t.db, &["audit", "--summary", "--json"]);
    let len = |k: &str| full[k].as_array().unwrap().len();
    assert_eq!(s["claims"], len("claims"));
    let disagree = full["claims"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["holds"] == false)
        .count();
    assert_eq!(s["claims_disagreeing"], disagree);
    assert!(disagree > 0);
    assert_eq!(s["contradictions"], len("contradictions"));
    assert_eq!(s["dates_not_exact"], len("dates"));
    assert_eq!(s["placeholders"], len("placeholders"));
    assert_eq!(s["amendments"], len("amendments"));
    assert_eq!(
        s["entry_into_force_agrees"],
        full["entry_into_force"]["agrees"]
    );
    let text = out(&t.db, &["audit", "--summary"]);
    assert!(text.lines().count() < 12, "{text}");
    assert!(text.contains(&format!("{disagree} disagree")), "{text}");
}

#[test]
fn nothing_but_the_answer_reaches_a_pipe_progress_and_notes_stay_off_non_terminals() {
    let t = ledger();
    for args in [&["verify"][..], &["audit"], &["rebuild"]] {
        cmd(&t.db).args(args).assert().success().stderr("");
    }
    let line = r#"{"type":"statute_signed","party":"BRN","date":"2025-01-10","source":{"document":"note","quote":"Brunei signed."}}"#;
    cmd(&t.db)
        .arg("append")
        .write_stdin(format!("{line}\n"))
        .assert()
        .success()
        .stderr("");
    // --quiet is accepted everywhere.
    cmd(&t.db)
        .args(["--quiet", "verify"])
        .assert()
        .success()
        .stderr("");
    cmd(&t.db)
        .args(["verify", "-q"])
        .assert()
        .success()
        .stderr("");
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.db");
    cmd(&missing)
        .args(["head"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "answering from the built-in history",
        ));
    cmd(&missing)
        .args(["head", "--quiet"])
        .assert()
        .success()
        .stderr("");
}

#[test]
fn help_puts_global_options_under_their_own_heading_and_ends_with_examples() {
    let t = ledger();
    for command in [
        "init",
        "append",
        "state",
        "members",
        "log",
        "history",
        "verify",
        "head",
        "rebuild",
        "export",
        "diff",
        "audit",
        "meetings",
        "years",
        "officers",
        "parties",
        "completions",
        "man",
    ] {
        let help = out(&t.db, &[command, "--help"]);
        let tail = help.rsplit("Examples:\n").next().unwrap();
        assert!(help.contains("Examples:\n"), "{command}");
        assert!(
            tail.lines()
                .filter(|l| l.trim_start().starts_with("iofs-ledger "))
                .count()
                >= 2,
            "{command}: {tail}"
        );
        assert!(
            help.contains("Global options:\n      --db <PATH>"),
            "{command}: {help}"
        );
        let writes = matches!(command, "append" | "rebuild");
        assert_eq!(help.contains("--lock-timeout"), writes, "{command}");
    }
    let top = out(&t.db, &["--help"]);
    assert!(top.contains("Global options:"));
    assert!(top.contains("--lock-timeout"));
}

#[test]
fn lock_timeout_is_taken_before_or_after_a_writing_command() {
    let t = ledger();
    cmd(&t.db)
        .args(["--lock-timeout", "5", "rebuild"])
        .assert()
        .success();
    cmd(&t.db)
        .args(["rebuild", "--lock-timeout", "5"])
        .assert()
        .success();
    cmd(&t.db)
        .args(["rebuild", "--lock-timeout", "-1"])
        .assert()
        .code(2);
    cmd(&t.db)
        .args(["state", "--lock-timeout", "5"])
        .assert()
        .code(2);
}

#[test]
fn version_names_the_sqlite_library_and_the_built_in_historys_head() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("v.db");
    let v = out(&db, &["--version"]);
    let lines: Vec<&str> = v.lines().collect();
    assert_eq!(
        lines[0],
        format!("iofs-ledger {}", env!("CARGO_PKG_VERSION"))
    );
    assert!(lines[1].starts_with("SQLite 3."), "{v}");
    let head = lines[2].strip_prefix("built-in history head ").unwrap();
    let (seq, hash) = head.split_once(':').unwrap();
    let dir2 = tempfile::tempdir().unwrap();
    let init = json(&dir2.path().join("i.db"), &["init", "--json"]);
    assert_eq!(seq, init["count"].to_string());
    assert_eq!(hash.len(), 64);
    assert!(!db.exists(), "--version must not create a ledger");
    assert_eq!(out(&db, &["-V"]).trim(), lines[0]);
}

#[test]
fn completions_and_the_man_page_cover_every_command() {
    let t = ledger();
    let bash = out(&t.db, &["completions", "bash"]);
    assert!(
        bash.contains("complete -F") && bash.contains("iofs-ledger"),
        "{bash}"
    );
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let text = out(&t.db, &["completions", shell]);
        assert!(
            text.contains("history") && text.contains("as-of"),
            "{shell}"
        );
    }
    cmd(&t.db).args(["completions", "tcsh"]).assert().code(2);
    let man = out(&t.db, &["man"]);
    assert!(
        man.starts_with(".ie") || man.contains(".TH iofs-ledger"),
        "{}",
        &man[..200]
    );
    for command in ["init", "append", "state", "history", "audit", "completions"] {
        assert!(man.contains(command), "{command}");
    }
}

/// `examples/synth` as `cargo test` builds it (next to this test's own directory).
fn synth_example() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?.parent()?.join("examples");
    let p = dir.join(format!("synth{}", std::env::consts::EXE_SUFFIX));
    p.exists().then_some(p)
}

#[test]
fn synth_help_prints_help_instead_of_writing_events() {
    let Some(synth) = synth_example() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "examples/synth was not built (run the whole `cargo test`)"
        );
        eprintln!("skipped: examples/synth not built (`cargo test --test ux` alone does not build examples)");
        return;
    };
    let help = std::process::Command::new(&synth)
        .arg("--help")
        .output()
        .unwrap();
    assert!(help.status.success());
    let text = String::from_utf8(help.stdout).unwrap();
    assert!(text.contains("Usage: synth [EVENTS] [SEED]"), "{text}");
    assert!(!text.contains("\"type\""), "{text}");
    let three = std::process::Command::new(&synth)
        .args(["3", "7"])
        .output()
        .unwrap();
    assert!(three.status.success());
    assert_eq!(String::from_utf8(three.stdout).unwrap().lines().count(), 3);
    let bad = std::process::Command::new(&synth)
        .arg("many")
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
}

/// `import --json` prints the receipt every writing command prints (`first_seq`, `last_seq`,
/// `count`, `recorded_at`, `head` as `head` prints it), besides its own counts.
#[test]
fn import_prints_the_same_receipt_as_the_other_writing_commands() {
    let t = ledger();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.jsonl");
    std::fs::write(&log, out(&t.db, &["log", "--json"])).unwrap();
    let replica = dir.path().join("replica.db");
    cmd(&replica).args(["init", "--empty"]).assert().success();
    let r = json(&replica, &["import", log.to_str().unwrap(), "--json"]);
    assert_eq!(r["first_seq"], 1, "{r}");
    assert_eq!(r["last_seq"], 142, "{r}");
    assert_eq!(r["count"], 142, "{r}");
    assert!(r["recorded_at"].is_string(), "{r}");
    assert_eq!(r["head"].as_str().unwrap(), head(&replica).trim(), "{r}");
    assert_eq!(head(&replica), head(&t.db));
}
