//! End-to-end tests of `record`, `template` and the dry runs (`record --dry-run`,
//! `append --dry-run`), driving the real binary.
//!
//! The flags each test passes are derived from the event's JSON by [`flags_of`], a small model
//! of the flag naming written here independently of `src/cli/record.rs` (field `x_y` is
//! `--x-y`; the source's fields are `--document`, `--url`, `--quote`; another record's are
//! prefixed with its name; bounds are `--not-before`/`--not-after`; a list's elements are one
//! repeated flag each, a nested object is given as JSON).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

struct Tmp {
    dir: tempfile::TempDir,
    db: PathBuf,
}

fn tmp() -> Tmp {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ledger.db");
    Tmp { dir, db }
}

fn cmd(db: &Path) -> Command {
    let mut c = Command::cargo_bin("iofs-ledger").unwrap();
    c.env_remove("IOFS_LEDGER_DB").arg("--db").arg(db);
    c
}

fn ok(db: &Path, args: &[&str]) -> String {
    let out = cmd(db).args(args).assert().success().get_output().clone();
    String::from_utf8(out.stdout).unwrap()
}

fn init(db: &Path, empty: bool) {
    let mut c = cmd(db);
    c.arg("init");
    if empty {
        c.arg("--empty");
    }
    c.assert().success();
}

fn kebab(s: &str) -> String {
    s.replace('_', "-")
}

/// The `record` flags for an event given as JSON (see the module doc).
fn flags_of(ev: &Value) -> (String, Vec<String>) {
    let obj = ev.as_object().unwrap();
    let ty = obj["type"].as_str().unwrap().to_string();
    let mut args = Vec::new();
    for (k, v) in obj {
        match (k.as_str(), v) {
            ("type", _) => {}
            (_, Value::Bool(true)) => args.push(format!("--{}", kebab(k))),
            (_, Value::Bool(false)) => {}
            ("source" | "date_source", Value::Object(m)) => {
                for (sk, sv) in m {
                    let flag = if k == "source" {
                        sk.clone()
                    } else {
                        format!("{}-{sk}", kebab(k))
                    };
                    args.push(format!("--{flag}"));
                    args.push(sv.as_str().unwrap().to_string());
                }
            }
            (_, Value::Object(m)) if m.contains_key("not_before") => {
                let prefix = if k == "date" {
                    String::new()
                } else {
                    format!("{}-", kebab(k))
                };
                for b in ["not_before", "not_after"] {
                    args.push(format!("--{prefix}{}", kebab(b)));
                    args.push(m[b].as_str().unwrap().to_string());
                }
            }
            (_, Value::Array(items)) => {
                for item in items {
                    args.push(format!("--{}", kebab(k.strip_suffix('s').unwrap())));
                    args.push(item.to_string());
                }
            }
            (_, Value::String(s)) if k != "value" => {
                args.push(format!("--{}", kebab(k)));
                args.push(s.clone());
            }
            (_, v) => {
                args.push(format!("--{}", kebab(k)));
                args.push(v.to_string());
            }
        }
    }
    (ty, args)
}

fn src(q: &str) -> Value {
    json!({"document": "minutes.pdf", "quote": q})
}

/// One valid event of every type, in an order an empty ledger accepts, each field used
/// somewhere (bounds, end dates, date sources, inferred, notes, every optional field).
fn every_type() -> Vec<Value> {
    vec![
        json!({"type":"organisation_established","date":"2013","source":{"url":"https://example.org/iofs","quote":"IOFS was established."},"inferred":"the year of the founding conference","note":"a note"}),
        json!({"type":"statute_adopted","date":"2011-11","source":src("The Statute was adopted."),"date_source":{"document":"report.pdf","url":"https://example.org/r","quote":"In November 2011."}}),
        json!({"type":"statute_signed","date":{"not_before":"2013-12-09","not_after":"2013-12-11"},"party":"KAZ","source":src("Kazakhstan signed the Statute.")}),
        json!({"type":"statute_signed","date":"2014-01-05","party":"TUR","source":src("Türkiye signed the Statute.")}),
        json!({"type":"statute_ratified","date":"2014-11-21","party":"KAZ","source":src("Kazakhstan ratified.")}),
        json!({"type":"statute_entered_into_force","date":"2018-02-19","source":src("The Statute entered into force.")}),
        json!({"type":"observer_admitted","date":"2019-03","party":"unidentified:observer-1","source":src("An observer was admitted.")}),
        json!({"type":"membership_withdrawn","date":"2020-06-01","party":"TUR","source":src("Türkiye withdrew.")}),
        json!({"type":"secretariat_operational","date":"2016","source":src("The secretariat began work.")}),
        json!({"type":"proposal_made","date":"2012-05","description":"Establish IOFS in Astana","proposer":"KAZ","source":src("Kazakhstan proposed it.")}),
        json!({"type":"meeting_held","date":"2017-05-09","end_date":{"not_before":"2017-05-10","not_after":"2017-05-11"},"organ":"general_assembly","session":1,"extraordinary":true,"place":"Astana","host":"KAZ","online":true,"theme":"Food security","source":src("The first General Assembly met.")}),
        json!({"type":"officer_appointed","date":"2019-08-27","office":"director_general","person":"Yerlan Baidaulet","takes_office":{"not_before":"2019-08-27","not_after":"2019-08-29"},"term_years":4,"source":src("He was appointed.")}),
        json!({"type":"office_vacated","date":"2023-08","office":"director_general","person":"Yerlan Baidaulet","reason":"end of term","source":src("His term ended.")}),
        json!({"type":"board_elected","date":"2022-09","organ":"executive_board","seats":[{"party":"KAZ","role":"chair"},{"office":"director_general","role":"permanent_member"},{"party":"unidentified:seat-2","role":"member"}],"source":src("The Board was elected.")}),
        json!({"type":"document_adopted","date":"2018","title":"Rules of procedure","organ":"general_assembly","session":2,"source":src("The rules were adopted.")}),
        json!({"type":"programme_established","date":"2019","name":"Wheat programme","organ":"executive_board","source":src("A programme was set up.")}),
        json!({"type":"agreement_signed","date":"2021-04-02","title":"Memorandum","counterparty":"FAO","source":src("A memorandum was signed.")}),
        json!({"type":"claim","date":"2021","about":"member_count","value":1,"topic":"members","source":src("IOFS has one member.")}),
        json!({"type":"claim","date":"2021","about":"director_general","value":null,"source":src("No Director General.")}),
        json!({"type":"claim","date":"2021","about":"statement","value":"41","party":"KAZ","topic":"t","source":src("A statement.")}),
        json!({"type":"retraction","retracts":17,"reason":"entered twice","source":src("A retraction.")}),
        json!({"type":"correction","date":"2024-01-02","corrects":16,"replacement":{"type":"programme_established","date":"2019-06","name":"Wheat programme","source":src("A programme was set up in June.")},"reason":"the month is known","source":src("A correction.")}),
    ]
}

fn export(db: &Path) -> Vec<Value> {
    ok(db, &["export"])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Recording each event through `record` flags stores the same event (the same canonical
/// body) as appending its JSON, for one event of every type the binary knows.
#[test]
fn every_type_recorded_through_flags_is_stored_as_its_json_through_append() {
    let (a, b) = (tmp(), tmp());
    init(&a.db, true);
    init(&b.db, true);
    let events = every_type();
    // Every type the binary lists is covered.
    let listed: Vec<String> = ok(&a.db, &["template"]).lines().map(String::from).collect();
    let mut covered: Vec<String> = events
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect();
    covered.sort();
    covered.dedup();
    let mut want = listed.clone();
    want.sort();
    assert_eq!(covered, want);
    assert_eq!(listed.len(), 19);
    for (i, ev) in events.iter().enumerate() {
        cmd(&a.db)
            .arg("append")
            .write_stdin(format!("{ev}\n"))
            .assert()
            .success();
        let (ty, args) = flags_of(ev);
        let out = cmd(&b.db)
            .arg("record")
            .arg(&ty)
            .args(&args)
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        let out = String::from_utf8(out).unwrap();
        assert!(
            out.starts_with(&format!("recorded seq {} ({ty})", i + 1)),
            "{out}"
        );
    }
    assert_eq!(export(&a.db), export(&b.db));
    assert_eq!(export(&b.db).len(), events.len());
}

/// `record --print` writes the JSON that `append` reads, equal to the event's canonical form.
#[test]
fn record_print_gives_the_canonical_json_without_opening_a_ledger() {
    let t = tmp();
    let ev = &every_type()[10];
    let (ty, args) = flags_of(ev);
    let out = ok(
        &t.db,
        &[
            &["record", &ty, "--print"][..],
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
        ]
        .concat(),
    );
    let printed: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(printed["end_date"], ev["end_date"]);
    assert_eq!(printed["online"], json!(true));
    assert!(!t.db.exists(), "--print opened a ledger");
}

/// Every file of the ledger (the database and, when present, its WAL) with the SHA-256 of
/// its bytes.
fn files(dir: &Path) -> BTreeMap<String, String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| !e.file_name().to_string_lossy().ends_with("-shm"))
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                hex::encode(Sha256::digest(std::fs::read(e.path()).unwrap())),
            )
        })
        .collect()
}

fn state(db: &Path, day: &str) -> Value {
    serde_json::from_str(&ok(db, &["state", "--as-of", day, "--json"])).unwrap()
}

/// The answer a dry run names, read from `state --json`.
fn answer(s: &Value, name: &str) -> Value {
    let len = |p: &str| json!(s.pointer(p).unwrap().as_array().unwrap().len());
    match name {
        "members" => s["members"]["count"].clone(),
        "ratifications" => s["ratifications"]["count"].clone(),
        "observers" => s["observers"]["count"].clone(),
        "withdrawn" => len("/withdrawn"),
        "signatures" => s["statute"]["signatures"].clone(),
        "statute_in_force" => s["statute"]["in_force"].clone(),
        "statute_adopted" => s["statute"]["adopted"].clone(),
        "organisation_established" => s["organisation"]["established"].clone(),
        "secretariat_operational" => s["organisation"]["secretariat_operational"].clone(),
        "director_general" => s["director_general"]["holder"].clone(),
        "executive_board_chair" => s["executive_board"]["chair"].clone(),
        "executive_board_seats" => len("/executive_board/members"),
        other => panic!("unknown answer {other}"),
    }
}

const ANSWERS: [&str; 12] = [
    "members",
    "ratifications",
    "observers",
    "withdrawn",
    "signatures",
    "statute_in_force",
    "statute_adopted",
    "organisation_established",
    "secretariat_operational",
    "director_general",
    "executive_board_chair",
    "executive_board_seats",
];

/// Checks a dry run against the real append that follows: the dry run changes no byte of the
/// ledger's files; it predicts the seqs; each answer it says would change goes from its
/// `before` to its `after`, and every other answer on its days stays as it was.
fn dry_run_predicts(db: &Path, dry: &[&str], real: &[&str], stdin: &str) {
    let dir = db.parent().unwrap();
    let head_before: Value = serde_json::from_str(&ok(db, &["head", "--json"])).unwrap();
    let bytes = files(dir);
    let out = cmd(db)
        .args(dry)
        .write_stdin(stdin)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(files(dir), bytes, "a dry run changed the ledger's files");
    let effect: Value = serde_json::from_str(&String::from_utf8(out).unwrap()).unwrap();
    assert_eq!(effect["head"], head_before["seq"]);
    let days: Vec<String> = effect["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap().to_string())
        .collect();
    assert!(!days.is_empty());
    let before: Vec<Value> = days.iter().map(|d| state(db, d)).collect();
    cmd(db).args(real).write_stdin(stdin).assert().success();
    let after: Vec<Value> = days.iter().map(|d| state(db, d)).collect();
    let seqs: Vec<u64> = effect["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_u64().unwrap())
        .collect();
    let stored = export(db);
    let head = head_before["seq"].as_u64().unwrap();
    assert_eq!(
        seqs,
        (head + 1..=stored.len() as u64).collect::<Vec<_>>(),
        "the seqs the dry run announced"
    );
    for (i, e) in effect["events"].as_array().unwrap().iter().enumerate() {
        assert_eq!(e["event"], stored[head as usize + i], "the event as stored");
    }
    let changes = effect["changes"].as_array().unwrap();
    assert!(!changes.is_empty());
    for (i, day) in days.iter().enumerate() {
        for name in ANSWERS {
            let predicted = changes
                .iter()
                .find(|c| c["day"] == json!(day) && c["answer"] == json!(name));
            let (b, a) = (answer(&before[i], name), answer(&after[i], name));
            match predicted {
                Some(c) => {
                    assert_eq!(c["before"], b, "{name} on {day} before");
                    assert_eq!(c["after"], a, "{name} on {day} after");
                }
                None => assert_eq!(b, a, "{name} on {day} changed unannounced"),
            }
        }
    }
}

#[test]
fn a_dry_run_of_record_changes_no_byte_and_predicts_the_real_record() {
    let t = tmp();
    init(&t.db, false);
    let flags = [
        "statute_signed",
        "--party",
        "BRN",
        "--date",
        "2025-03-01",
        "--document",
        "Note verbale 2025/17",
        "--quote",
        "Brunei Darussalam signed the Statute on 1 March 2025.",
    ];
    let dry: Vec<&str> = [&["record"][..], &flags, &["--dry-run", "--json"]].concat();
    let real: Vec<&str> = [&["record"][..], &flags].concat();
    dry_run_predicts(&t.db, &dry, &real, "");
}

#[test]
fn a_dry_run_of_append_changes_no_byte_and_predicts_the_real_append() {
    let t = tmp();
    init(&t.db, false);
    // A signature, a back-dated withdrawal, a ratification and a board, in one batch.
    let batch = [
        json!({"type":"statute_signed","date":"2025-03-01","party":"BRN","source":src("Brunei signed.")}),
        json!({"type":"membership_withdrawn","date":"2024-06","party":"KAZ","source":src("Kazakhstan withdrew.")}),
        json!({"type":"statute_ratified","date":"2025-03-05","party":"BRN","source":src("Brunei ratified.")}),
        json!({"type":"board_elected","date":"2025-01-15","organ":"executive_board","seats":[{"party":"SAU","role":"chair"}],"source":src("A board was elected.")}),
    ]
    .iter()
    .map(|e| format!("{e}\n"))
    .collect::<String>();
    dry_run_predicts(
        &t.db,
        &["append", "--dry-run", "--json"],
        &["append"],
        &batch,
    );
    // The same as a JSON array, on an empty ledger: the text names the seqs.
    let e = tmp();
    init(&e.db, true);
    let out = cmd(&e.db)
        .args(["append", "--dry-run"])
        .write_stdin(
            json!([{"type":"statute_signed","date":"2025-03-01","party":"BRN","source":src("Brunei signed.")}])
                .to_string(),
        )
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let out = String::from_utf8(out).unwrap();
    assert!(out.contains("seq 1 "), "{out}");
    assert!(out.contains("members on 2025-03-01: 0 → 1 (+BRN)"), "{out}");
    let head: Value = serde_json::from_str(&ok(&e.db, &["head", "--json"])).unwrap();
    assert_eq!(head["seq"], json!(0), "the dry run appended");
}

/// A dry run of a batch the append would refuse exits 1 like the append, says why, and
/// changes nothing either.
#[test]
fn a_refused_dry_run_exits_as_the_append_would_and_changes_nothing() {
    let t = tmp();
    init(&t.db, false);
    let dir = t.db.parent().unwrap().to_path_buf();
    let bytes = files(&dir);
    let bad = format!(
        "{}\n",
        json!({"type":"statute_ratified","date":"2025-03-01","party":"KAZ","source":src("again")})
    );
    let dry = cmd(&t.db)
        .args(["append", "--dry-run"])
        .write_stdin(bad.clone())
        .assert()
        .code(1)
        .get_output()
        .stderr
        .clone();
    let real = cmd(&t.db)
        .arg("append")
        .write_stdin(bad)
        .assert()
        .code(1)
        .get_output()
        .stderr
        .clone();
    assert_eq!(
        String::from_utf8_lossy(&dry),
        String::from_utf8_lossy(&real)
    );
    cmd(&t.db)
        .args([
            "record",
            "statute_ratified",
            "--party",
            "KAZ",
            "--date",
            "2025-03-01",
        ])
        .args(["--document", "d", "--quote", "again", "--dry-run"])
        .assert()
        .code(1);
    assert_eq!(files(&dir), bytes);
    let _ = &t.dir;
}

/// A refused `record` names the flag at fault (not the JSON field), exits non-zero and
/// appends nothing.
#[test]
fn a_refused_record_names_the_flag_at_fault() {
    let t = tmp();
    init(&t.db, false);
    let head = ok(&t.db, &["head"]);
    // The seq a refused record would have had: the built-in history's length + 1.
    let next: u64 = head
        .split(':')
        .next()
        .unwrap()
        .trim()
        .parse::<u64>()
        .unwrap()
        + 1;
    let party_rule = format!("--party (seq {next}): rule");
    let date_rule = format!("--date (seq {next}): rule");
    let retracts_rule = format!("--retracts (seq {next}): rule");
    let base = |ty: &str| -> Vec<String> {
        [ty, "--document", "d", "--quote", "q"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    };
    let cases: Vec<(Vec<&str>, i32, &str)> = vec![
        // A party the ledger does not know.
        (
            vec!["statute_signed", "--party", "XXX", "--date", "2025-01-01"],
            1,
            "--party:",
        ),
        // An impossible date.
        (
            vec!["statute_signed", "--party", "BRN", "--date", "2025-02-30"],
            1,
            "--date:",
        ),
        // Bounds the wrong way round.
        (
            vec![
                "statute_signed",
                "--party",
                "BRN",
                "--not-before",
                "2025-02",
                "--not-after",
                "2024",
            ],
            1,
            "--not-before / --not-after:",
        ),
        // A world rule: Kazakhstan ratified already.
        (
            vec!["statute_ratified", "--party", "KAZ", "--date", "2025-01-01"],
            1,
            &party_rule,
        ),
        // A record rule: a date after the day of recording.
        (
            vec!["statute_signed", "--party", "BRN", "--date", "9999"],
            1,
            &date_rule,
        ),
        // A seat with neither party nor office.
        (
            vec![
                "board_elected",
                "--date",
                "2025",
                "--organ",
                "executive_board",
                "--seat",
                "role=chair",
            ],
            1,
            "--seat:",
        ),
        // A seat key that does not exist.
        (
            vec![
                "board_elected",
                "--date",
                "2025",
                "--organ",
                "executive_board",
                "--seat",
                "colour=red",
            ],
            1,
            "--seat:",
        ),
        // A claim whose value does not fit what it is about.
        (
            vec![
                "claim",
                "--date",
                "2025",
                "--about",
                "member_count",
                "--value",
                "many",
            ],
            1,
            "--value:",
        ),
        // A retraction of an event that does not exist.
        (
            vec!["retraction", "--retracts", "999", "--reason", "r"],
            1,
            &retracts_rule,
        ),
        // A replacement that is not an event.
        (
            vec![
                "correction",
                "--corrects",
                "3",
                "--reason",
                "r",
                "--replacement",
                "{}",
            ],
            1,
            "--replacement:",
        ),
        // Usage errors found by the flag parser itself (exit 2): a missing required flag,
        // an organ that does not exist, a number that is not one.
        (vec!["statute_signed", "--date", "2025"], 2, "--party"),
        (
            vec!["meeting_held", "--date", "2025", "--organ", "senate"],
            2,
            "--organ",
        ),
        (
            vec![
                "meeting_held",
                "--date",
                "2025",
                "--organ",
                "general_assembly",
                "--session",
                "two",
            ],
            2,
            "--session",
        ),
    ];
    for (args, code, want) in cases {
        let mut full = base(args[0]);
        full.extend(args[1..].iter().map(|s| s.to_string()));
        let err = cmd(&t.db)
            .arg("record")
            .args(&full)
            .assert()
            .code(code)
            .get_output()
            .stderr
            .clone();
        let err = String::from_utf8(err).unwrap();
        // The seq the event would have had: the one after the built-in history's last.
        let next = head
            .split(':')
            .next()
            .unwrap()
            .trim()
            .parse::<u64>()
            .unwrap()
            + 1;
        let want = want.replace("(seq 135)", &format!("(seq {next})"));
        assert!(err.contains(&want), "{args:?}: want {want:?} in\n{err}");
    }
    // The source's own flags: missing document and url; an empty quote.
    let err = cmd(&t.db)
        .args([
            "record",
            "statute_signed",
            "--party",
            "BRN",
            "--date",
            "2025",
            "--quote",
            "q",
        ])
        .assert()
        .code(1)
        .get_output()
        .stderr
        .clone();
    assert!(String::from_utf8(err)
        .unwrap()
        .contains("--document / --url:"));
    let err = cmd(&t.db)
        .args([
            "record",
            "statute_signed",
            "--party",
            "BRN",
            "--date",
            "2025",
        ])
        .args(["--document", "d", "--quote", " "])
        .assert()
        .code(1)
        .get_output()
        .stderr
        .clone();
    assert!(String::from_utf8(err).unwrap().contains("--quote:"));
    assert_eq!(
        ok(&t.db, &["head"]),
        head,
        "a refused record appended something"
    );
}

/// `record TYPE --help` lists the type's fields, says which are required and gives an
/// example; `record` alone lists every type.
#[test]
fn record_help_lists_fields_required_ones_and_an_example() {
    let t = tmp();
    let help = ok(&t.db, &["record", "statute_ratified", "--help"]);
    assert!(help.contains("--party <PARTY>"), "{help}");
    assert!(
        help.contains("`party`: a party") && help.contains("[required]"),
        "{help}"
    );
    assert!(help.contains("--not-before <DATE>"), "{help}");
    assert!(help.contains("Example"), "{help}");
    assert!(
        help.contains("iofs-ledger record statute_ratified --date"),
        "{help}"
    );
    let help = ok(&t.db, &["record", "board_elected", "--help"]);
    assert!(
        help.contains("--seat <VALUE>") && help.contains("role (one of chair"),
        "{help}"
    );
    let list = ok(&t.db, &["record"]);
    for ty in ok(&t.db, &["template"]).lines() {
        assert!(list.contains(ty), "{ty} missing from `record`");
    }
    cmd(&t.db)
        .args(["record", "statute_stolen"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "unknown event type `statute_stolen`",
        ));
}

/// Every template is a complete event in the shape `append` reads (a JSON array of one, or
/// with `--line` one JSON line), and until its placeholders are replaced `append` refuses it,
/// naming the placeholder: an unedited template never reaches the log. With every placeholder
/// text and party replaced, the parser accepts it (a dry run on an empty ledger is accepted or
/// refused only by a rule about other events, never as malformed).
#[test]
fn every_template_is_an_event_append_reads() {
    let t = tmp();
    init(&t.db, true);
    for ty in ok(&t.db, &["template"]).lines() {
        let text = ok(&t.db, &["template", ty]);
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v[0]["type"], json!(ty));
        let line = ok(&t.db, &["template", ty, "--line"]);
        assert_eq!(line.lines().count(), 1);
        assert_eq!(serde_json::from_str::<Value>(&line).unwrap(), v[0]);
        for input in [text, line.clone()] {
            let out = cmd(&t.db)
                .args(["append", "--dry-run"])
                .write_stdin(input)
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{ty}: {err}");
            assert!(
                err.contains("still the template's placeholder"),
                "{ty}: {err}"
            );
        }
        let edited = line
            .replace("unidentified:edit-me", "unidentified:someone")
            .replace("\"<", "\"real ")
            .replace(">\"", "\"");
        let out = cmd(&t.db)
            .args(["append", "--dry-run"])
            .write_stdin(edited)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() || err.contains(": rule \""),
            "{ty}: {err}"
        );
    }
}

/// A dry run checkpoints nothing: events another writer committed to the WAL stay in the WAL
/// (a dry run that is the last connection to close would otherwise copy them into the
/// database file).
#[test]
fn a_dry_run_does_not_checkpoint_what_others_committed() {
    let t = tmp();
    init(&t.db, false);
    // A reader that keeps the file open, so the append's close is not the last and leaves its
    // frames in the WAL; it closes without checkpointing either.
    let keep = rusqlite::Connection::open(&t.db).unwrap();
    keep.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
        true,
    )
    .unwrap();
    let _: i64 = keep
        .query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0))
        .unwrap();
    cmd(&t.db)
        .arg("append")
        .write_stdin(format!(
            "{}\n",
            json!({"type":"statute_signed","date":"2025-03-01","party":"BRN","source":src("Brunei signed.")})
        ))
        .assert()
        .success();
    drop(keep);
    let dir = t.db.parent().unwrap().to_path_buf();
    let wal = std::fs::metadata(dir.join("ledger.db-wal")).map_or(0, |m| m.len());
    assert!(wal > 0, "the setup left no frames in the WAL");
    let bytes = files(&dir);
    cmd(&t.db)
        .args([
            "record",
            "statute_ratified",
            "--party",
            "BRN",
            "--date",
            "2025-03-05",
        ])
        .args([
            "--document",
            "d",
            "--quote",
            "Brunei ratified.",
            "--dry-run",
        ])
        .assert()
        .success()
        .stdout(predicates::str::contains(
            "ratifications on 2025-03-05: 11 → 12",
        ));
    assert_eq!(
        files(&dir),
        bytes,
        "the dry run wrote to the ledger's files"
    );
}

/// A party flag takes a name as people write it (case and accents aside) and stores the code;
/// a near miss is refused with a suggestion, naming the flag.
#[test]
fn a_party_flag_takes_a_name_and_stores_the_code() {
    let t = tmp();
    let base = [
        "record",
        "statute_ratified",
        "--print",
        "--date",
        "2025-03-01",
        "--document",
        "Note verbale 2025/17",
        "--quote",
        "Brunei Darussalam deposited its instrument of ratification on 1 March 2025.",
    ];
    for name in ["Brunei", "brunei darussalam", "BRN", "brn"] {
        let out = ok(&t.db, &[&base[..], &["--party", name]].concat());
        let printed: Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(printed["party"], json!("BRN"), "{name}");
    }
    let out = cmd(&t.db)
        .args([&base[..], &["--party", "Nigerai"]].concat())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--party") && err.contains("NGA"), "{err}");
}

/// A dry run of a retraction or correction of an event already corrected looks where the event
/// counts now (its latest correction's day), not only at its original day: retracting a meeting
/// that a correction turned into an appointment of a Director General shows the office falling
/// vacant on the appointment's day, as the real append then does.
#[test]
fn a_dry_run_on_an_already_corrected_event_shows_the_change_at_its_correction_s_day() {
    let t = tmp();
    init(&t.db, true);
    let src = r#""source":{"document":"d","quote":"q"}"#;
    let base = format!(
        "{{\"type\":\"organisation_established\",\"date\":\"2000-01-01\",{src}}}\n{{\"type\":\"meeting_held\",\"date\":\"2012-01-01\",\"organ\":\"general_assembly\",{src}}}\n"
    );
    cmd(&t.db)
        .args(["append", "-"])
        .write_stdin(base)
        .assert()
        .success();
    let correction = format!(
        "{{\"type\":\"correction\",\"corrects\":2,\"reason\":\"r\",\"replacement\":{{\"type\":\"officer_appointed\",\"date\":\"2012-04-04\",\"office\":\"director_general\",\"person\":\"Bob\",{src}}},{src}}}\n"
    );
    cmd(&t.db)
        .args(["append", "-"])
        .write_stdin(correction)
        .assert()
        .success();
    assert_eq!(
        answer(&state(&t.db, "2012-04-04"), "director_general"),
        json!("Bob")
    );

    let retract = [
        "record",
        "retraction",
        "--retracts",
        "2",
        "--reason",
        "r",
        "--document",
        "d",
        "--quote",
        "q",
    ];
    let dry: Vec<&str> = [&retract[..], &["--dry-run", "--json"]].concat();
    let effect: Value = serde_json::from_str(&ok(&t.db, &dry)).unwrap();
    let days: Vec<&str> = effect["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    assert!(days.contains(&"2012-04-04"), "days {days:?}");
    let dg: Vec<&Value> = effect["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["answer"] == "director_general" && c["day"] == "2012-04-04")
        .collect();
    assert_eq!(dg.len(), 1, "{effect:#}");
    assert_eq!(dg[0]["before"], json!("Bob"));
    assert_eq!(dg[0]["after"], Value::Null);

    ok(&t.db, &retract);
    assert_eq!(
        answer(&state(&t.db, "2012-04-04"), "director_general"),
        Value::Null
    );
}
