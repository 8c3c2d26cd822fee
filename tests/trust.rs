//! Trust that travels (issue 16, items 1 and 2): the built-in history has one chain and one
//! head on every machine at every time, stated in the README and extending every released head;
//! an independent verifier (`tools/verify_chain.py`, Python's standard library only) agrees
//! with the binary and names the seq of a tampered event.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use rusqlite::Connection;

fn cmd(db: &Path) -> Command {
    let mut c = Command::cargo_bin("iofs-ledger").unwrap();
    c.env_remove("IOFS_LEDGER_DB")
        .env_remove("IOFS_LEDGER_CLOCK")
        .arg("--db")
        .arg(db);
    c
}

fn stdout(c: &mut Command) -> String {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn init(dir: &Path, name: &str) -> PathBuf {
    let db = dir.join(name);
    cmd(&db).arg("init").assert().success();
    db
}

fn builtin_head() -> String {
    let dir = tempfile::tempdir().unwrap();
    stdout(cmd(&dir.path().join("missing.db")).arg("head"))
        .trim()
        .to_string()
}

/// Two `init`s, at different moments and places, and the answers given with no ledger file, all
/// have the same chain (it used to take `recorded_at` from the moment of each `init`).
#[test]
fn every_init_and_every_answer_without_a_file_have_one_built_in_chain() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let (x, y) = (init(a.path(), "a.db"), init(b.path(), "b.db"));
    let missing = a.path().join("missing.db");
    assert_eq!(stdout(cmd(&x).arg("head")), stdout(cmd(&y).arg("head")));
    assert_eq!(
        stdout(cmd(&x).arg("head")),
        stdout(cmd(&missing).arg("head"))
    );
    assert_eq!(
        stdout(cmd(&x).args(["log", "--json"])),
        stdout(cmd(&missing).args(["log", "--json"]))
    );
    assert_eq!(
        stdout(cmd(&x).args(["log", "--json"])),
        stdout(cmd(&y).args(["log", "--json"]))
    );
    let head = builtin_head();
    cmd(&missing)
        .args(["verify", "--builtin"])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!("head {head}")));
}

/// The README states the built-in head the binary has.
#[test]
fn the_readme_states_the_binarys_built_in_head() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let section = readme
        .split("## The built-in head")
        .nth(1)
        .expect("README has a section `## The built-in head`");
    let stated = section
        .split(|c: char| c.is_whitespace() || c == '`')
        .find(|w| {
            w.split_once(':').is_some_and(|(s, h)| {
                !s.is_empty()
                    && s.bytes().all(|b| b.is_ascii_digit())
                    && h.len() == 64
                    && h.bytes().all(|b| b.is_ascii_hexdigit())
            })
        })
        .expect("the section states a head SEQ:HASH");
    assert_eq!(stated, builtin_head());
}

/// The built-in history only grows: the current chain holds every released head.
#[test]
fn the_current_built_in_chain_extends_every_released_head() {
    let releases = iofs_ledger::history::releases();
    assert!(!releases.is_empty(), "events/releases.txt lists no head");
    let dir = tempfile::tempdir().unwrap();
    for (version, seq, hash) in releases {
        cmd(&dir.path().join("missing.db"))
            .args([
                "verify",
                "--builtin",
                "--since-head",
                &format!("{seq}:{hash}"),
            ])
            .assert()
            .success()
            .stdout(predicate::str::starts_with("ok:"));
        assert!(!version.is_empty());
    }
}

/// Along the built-in lines the instants of recording never decrease.
#[test]
fn the_built_in_instants_of_recording_never_decrease() {
    let batches = iofs_ledger::history::builtin_batches().unwrap();
    for w in batches.windows(2) {
        assert!(w[0].recorded_at < w[1].recorded_at);
    }
}

fn python() -> Option<&'static str> {
    let found = std::process::Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found && std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("python3 is needed for the independent verifier's test (CI=true)");
    }
    found.then_some("python3")
}

fn verify_py(py: &str, arg: &Path, stdin: Option<String>) -> std::process::Output {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/verify_chain.py");
    let mut c = std::process::Command::new(py);
    c.arg(script).arg(arg);
    match stdin {
        Some(s) => {
            use std::io::Write;
            let mut child = c
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
            child.wait_with_output().unwrap()
        }
        None => c.output().unwrap(),
    }
}

/// The Python verifier and the binary agree on the head of a ledger file and of its `log
/// --json`, and the verifier fails naming the seq of an event changed behind the tool's back.
#[test]
fn the_independent_python_verifier_agrees_with_the_binary_and_names_a_tampered_seq() {
    let Some(py) = python() else {
        eprintln!("skipped: python3 not found");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = init(dir.path(), "l.db");
    cmd(&db)
        .arg("append")
        .write_stdin("{\"type\":\"statute_signed\",\"party\":\"BRN\",\"date\":\"2020-01-01\",\"source\":{\"document\":\"t.txt\",\"quote\":\"Brunei \\u001b[2J signed \\\"here\\\" \\\\ — «ok» \\u00e9\\t/\\u007f.\"}}")
        .assert()
        .success();
    let head = stdout(cmd(&db).arg("head"));
    let from_db = verify_py(py, &db, None);
    assert!(
        from_db.status.success(),
        "{}",
        String::from_utf8_lossy(&from_db.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&from_db.stdout), head);
    let from_log = verify_py(
        py,
        Path::new("-"),
        Some(stdout(cmd(&db).args(["log", "--json"]))),
    );
    assert!(
        from_log.status.success(),
        "{}",
        String::from_utf8_lossy(&from_log.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&from_log.stdout), head);

    let copy = dir.path().join("tampered.db");
    std::fs::copy(&db, &copy).unwrap();
    Connection::open(&copy)
        .unwrap()
        .execute_batch(
            "DROP TRIGGER events_append_only_update;
             UPDATE events SET body = replace(body, 'Kazakhstan', 'Kazakstan') WHERE seq = (SELECT MIN(seq) FROM events WHERE body LIKE '%Kazakhstan%');",
        )
        .unwrap();
    let seq: i64 = Connection::open(&copy)
        .unwrap()
        .query_row(
            "SELECT MIN(seq) FROM events WHERE body LIKE '%Kazakstan%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let bad = verify_py(py, &copy, None);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains(&format!("FAILED at seq {seq}")),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
}
