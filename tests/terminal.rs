//! What a person at a terminal sees, against what a script reading a pipe gets:
//! - tables laid out to the terminal's width, every cell still whole (wrapped within its
//!   column), while piped output keeps one record per line, never cut;
//! - progress on stderr only when stderr is a terminal *and* the work is long;
//! - `append` reading a terminal says so, and how to end.
//!
//! A terminal is made with `script` (util-linux), which runs the binary on a pseudo-terminal.
//! Without `script` those tests say so loudly and pass, except under `CI=true`, where they
//! fail. `IOFS_LEDGER_COLUMNS` lays output out to a width without a terminal;
//! `IOFS_LEDGER_PROGRESS_DELAY_MS` sets how long work must last before progress is drawn
//! (`0`: at once), so "long" and "short" are chosen, never timed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command as Std, Stdio};

use assert_cmd::Command;

fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("iofs-ledger")
}

struct Tmp {
    dir: tempfile::TempDir,
    db: PathBuf,
}

/// A ledger with the built-in history.
fn ledger() -> Tmp {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ledger.db");
    cmd(&db, &[]).arg("init").assert().success();
    Tmp { dir, db }
}

fn cmd(db: &Path, env: &[(&str, &str)]) -> Command {
    let mut c = Command::new(bin());
    c.env_remove("IOFS_LEDGER_DB")
        .env_remove("IOFS_LEDGER_COLUMNS")
        .env_remove("IOFS_LEDGER_PROGRESS_DELAY_MS")
        .env_remove("COLUMNS")
        .envs(env.iter().copied())
        .arg("--db")
        .arg(db);
    c
}

/// Stdout of a successful run, piped.
fn piped(db: &Path, env: &[(&str, &str)], args: &[&str]) -> String {
    let o = cmd(db, env)
        .args(args)
        .assert()
        .success()
        .get_output()
        .clone();
    String::from_utf8(o.stdout).unwrap()
}

/// `script`, or `None` (said on stderr) when it is missing; under `CI=true` a missing `script`
/// fails the test.
fn script() -> Option<PathBuf> {
    let found = Std::new("script")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if found {
        return Some(PathBuf::from("script"));
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("`script` (util-linux) is needed to run this test on a terminal, and CI=true");
    }
    eprintln!("SKIPPED: `script` (util-linux) is not installed: this test needs a terminal");
    None
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Runs the binary on a pseudo-terminal (stdin, stdout and stderr all the terminal), feeding
/// `input` as typed, and returns what the terminal showed (`\r` removed).
fn on_terminal(
    script: &Path,
    db: &Path,
    env: &[(&str, &str)],
    args: &[&str],
    input: &[u8],
) -> String {
    let line = std::iter::once(bin().display().to_string())
        .chain(["--db".into(), db.display().to_string()])
        .chain(args.iter().map(|a| a.to_string()))
        .map(|a| quote(&a))
        .collect::<Vec<_>>()
        .join(" ");
    let mut child = Std::new(script)
        .args(["-qfec", &line, "/dev/null"])
        .env_remove("IOFS_LEDGER_DB")
        .env_remove("IOFS_LEDGER_COLUMNS")
        .env_remove("IOFS_LEDGER_PROGRESS_DELAY_MS")
        .env_remove("COLUMNS")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(
        o.status.success(),
        "{args:?}: {}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).replace('\r', "")
}

/// The characters other than whitespace, sorted: laying out may move, wrap and indent text,
/// but must neither drop nor add any.
fn ink(s: &str) -> Vec<char> {
    let mut v: Vec<char> = s.chars().filter(|c| !c.is_whitespace()).collect();
    v.sort_unstable();
    v
}

fn widest(s: &str) -> usize {
    s.lines().map(|l| l.chars().count()).max().unwrap_or(0)
}

const TABLES: &[&[&str]] = &[
    &["state", "--as-of", "2024-03-01"],
    &["members", "--as-of", "2024-06-30"],
    &["history", "LBY"],
    &["history", "KAZ"],
    &["log"],
    &["meetings"],
    &["diff", "--from", "2013", "--to", "2025"],
    &["years", "--from", "2012", "--to", "2025"],
    &["officers"],
    &[
        "timeline", "--from", "2013", "--to", "2024", "--every", "year",
    ],
    &["audit"],
];

/// Laid out to a width, no line of any text answer is wider than it, and not one character of
/// the answer is dropped or added (only whitespace moves); a member code stays whole.
#[test]
fn every_text_answer_laid_out_to_a_width_fits_it_and_keeps_every_character() {
    let t = ledger();
    for args in TABLES {
        let whole = piped(&t.db, &[], args);
        for width in [80usize, 60] {
            let w = width.to_string();
            let laid = piped(&t.db, &[("IOFS_LEDGER_COLUMNS", &w)], args);
            assert!(
                laid.lines().all(|l| l.chars().count() <= width),
                "{args:?} at {width}: a line is wider ({}):\n{laid}",
                widest(&laid)
            );
            assert_eq!(ink(&whole), ink(&laid), "{args:?} at {width}:\n{laid}");
        }
    }
    let state = piped(
        &t.db,
        &[("IOFS_LEDGER_COLUMNS", "80")],
        &["state", "--as-of", "2024-03-01"],
    );
    let words: Vec<&str> = state.split_whitespace().collect();
    for code in ["COM", "LBY", "ARE", "KAZ", "QAT", "SAU", "director_general"] {
        assert!(words.contains(&code), "{code} is not whole:\n{state}");
    }
}

/// Piped, an answer is whole lines whatever `COLUMNS` says: the `state` member list and the
/// `history` lines run past 80 characters, one record per line, the same bytes every run.
#[test]
fn piped_output_is_whole_lines_whatever_columns_says() {
    let t = ledger();
    for args in [&["state", "--as-of", "2024-03-01"][..], &["history", "LBY"]] {
        let plain = piped(&t.db, &[], args);
        let with_columns = piped(&t.db, &[("COLUMNS", "40")], args);
        assert_eq!(plain, with_columns, "{args:?}");
        assert!(widest(&plain) > 100, "{args:?}:\n{plain}");
    }
    let plain = piped(&t.db, &[], &["state", "--as-of", "2024-03-01"]);
    assert!(
        plain.contains("    1. COM                          Comoros"),
        "{plain}"
    );
}

/// On a terminal `COLUMNS=80` is the width: `state` and `history` fit in 80 columns and are
/// exactly what `IOFS_LEDGER_COLUMNS=80` lays out without a terminal; `IOFS_LEDGER_COLUMNS=0`
/// gives the piped lines instead.
#[test]
fn on_a_terminal_answers_fit_its_width() {
    let Some(script) = script() else { return };
    let t = ledger();
    for args in [&["state", "--as-of", "2024-03-01"][..], &["history", "LBY"]] {
        let shown = on_terminal(&script, &t.db, &[("COLUMNS", "80")], args, b"");
        assert!(widest(&shown) <= 80, "{args:?}:\n{shown}");
        let laid = piped(&t.db, &[("IOFS_LEDGER_COLUMNS", "80")], args);
        assert_eq!(shown, laid, "{args:?}");
        // `IOFS_LEDGER_COLUMNS=0` turns the layout off, even on a terminal.
        let off = on_terminal(
            &script,
            &t.db,
            &[("COLUMNS", "80"), ("IOFS_LEDGER_COLUMNS", "0")],
            args,
            b"",
        );
        assert_eq!(off, piped(&t.db, &[], args), "{args:?}");
    }
}

/// Every command that can work for long draws its progress on a terminal when the work is
/// long (the delay set to 0), and nothing when it is short (a delay no test reaches), when
/// `--quiet` is given, or when stderr is a pipe.
#[test]
fn progress_is_drawn_on_a_terminal_only_for_long_work() {
    let t = ledger();
    let file = t.dir.path().join("one.jsonl");
    std::fs::write(
        &file,
        r#"{"type":"statute_signed","party":"BRN","date":"2025-01-10","source":{"document":"Secretariat note 2025/01","quote":"Brunei Darussalam signed the Statute on 10 January 2025."}}
"#,
    )
    .unwrap();
    let log = t.dir.path().join("log.jsonl");
    let site = t.dir.path().join("site");
    let file_s = file.display().to_string();
    let site_s = site.display().to_string();
    // (arguments, the progress message), in an order that leaves each command work to do.
    let jobs: Vec<(Vec<&str>, &str)> = vec![
        (vec!["verify"], "verifying"),
        (vec!["audit", "--summary"], "auditing"),
        (vec!["rebuild"], "rebuilding the read models"),
        (
            vec!["report", "--out", &site_s, "--force"],
            "writing the report",
        ),
        (vec!["append", &file_s, "--dry-run"], "appending"),
    ];
    let long = [("IOFS_LEDGER_PROGRESS_DELAY_MS", "0")];
    let short = [("IOFS_LEDGER_PROGRESS_DELAY_MS", "600000")];
    // Piped: never, even when long.
    for (args, msg) in &jobs {
        let o = cmd(&t.db, &long)
            .args(args)
            .assert()
            .success()
            .get_output()
            .clone();
        let err = String::from_utf8(o.stderr).unwrap();
        assert!(!err.contains(msg), "{args:?} piped: {err}");
        assert!(err.is_empty(), "{args:?} piped: {err}");
    }
    // Import, from a replica's log.
    let log_json = piped(&t.db, &[], &["log", "--json"]);
    std::fs::write(&log, log_json).unwrap();
    let replica = t.dir.path().join("replica.db");
    cmd(&replica, &[])
        .args(["init", "--empty"])
        .assert()
        .success();
    let Some(script) = script() else { return };
    for (args, msg) in &jobs {
        let shown = on_terminal(&script, &t.db, &long, args, b"");
        assert!(shown.contains(msg), "{args:?} long: {shown}");
        let shown = on_terminal(&script, &t.db, &short, args, b"");
        assert!(!shown.contains(msg), "{args:?} short: {shown}");
        let mut quiet = vec!["--quiet"];
        quiet.extend(args.iter().copied());
        let shown = on_terminal(&script, &t.db, &long, &quiet, b"");
        assert!(!shown.contains(msg), "{args:?} --quiet: {shown}");
    }
    let log_s = log.display().to_string();
    let shown = on_terminal(&script, &replica, &short, &["import", &log_s], b"");
    assert!(!shown.contains("importing"), "{shown}");
    assert!(shown.contains("imported seq 1..142"), "{shown}");
    let shown = on_terminal(&script, &replica, &long, &["import", &log_s], b"");
    assert!(shown.contains("importing"), "{shown}");
}

/// `append` with no file, on a terminal, says on the terminal that it reads events from
/// standard input and how to end (Ctrl-D); the events typed, ended with Ctrl-D, are appended.
#[test]
fn append_reading_a_terminal_says_so_and_appends_what_is_typed() {
    let Some(script) = script() else { return };
    let t = ledger();
    let mut typed = br#"{"type":"statute_signed","party":"BRN","date":"2025-01-10","source":{"document":"Secretariat note 2025/01","quote":"Brunei Darussalam signed the Statute on 10 January 2025."}}"#.to_vec();
    typed.extend_from_slice(b"\n\x04");
    let shown = on_terminal(&script, &t.db, &[], &["append"], &typed);
    assert!(
        shown.contains("iofs-ledger: reading events from standard input")
            && shown.contains("end with Ctrl-D"),
        "{shown}"
    );
    assert!(shown.contains("appended seq 143..143 (1 event)"), "{shown}");
    let head = piped(&t.db, &[], &["head"]);
    assert!(head.starts_with("143:"), "{head}");
    let history = piped(&t.db, &[], &["history", "BRN"]);
    assert!(history.contains("statute_signed"), "{history}");
}

/// The column (in characters) where `needle` starts in `line`.
fn column_of(line: &str, needle: &str) -> Option<usize> {
    line.find(needle).map(|b| line[..b].chars().count())
}

/// On a width, a long cell wraps inside its own column (not under the line's start): in
/// `members`, each member's "since …" starts at one column, and every continuation line of
/// the list starts at a column's start, the cells before it left blank.
#[test]
fn a_long_cell_wraps_within_its_own_column() {
    let t = ledger();
    let laid = piped(
        &t.db,
        &[("IOFS_LEDGER_COLUMNS", "80")],
        &["members", "--as-of", "2024-06-30"],
    );
    let list: Vec<&str> = laid
        .lines()
        .skip_while(|l| !l.contains("1. COM"))
        .take_while(|l| l.starts_with("  "))
        .collect();
    let col = column_of(list[0], "since").unwrap();
    let starts = [
        column_of(list[0], "COM").unwrap(),
        column_of(list[0], "Comoros").unwrap(),
        col,
    ];
    let mut continued = 0;
    for l in &list {
        let numbered = l
            .trim_start()
            .split_once(". ")
            .is_some_and(|(n, _)| n.chars().all(|c| c.is_ascii_digit()));
        if numbered {
            assert_eq!(column_of(l, "since"), Some(col), "{l}\n{laid}");
        } else {
            continued += 1;
            // A continuation starts in a column (the code's, the name's or the date's).
            let indent = l.len() - l.trim_start().len();
            assert!(starts.contains(&indent), "{l}\n{laid}");
        }
    }
    assert!(continued > 0, "{laid}");
}
