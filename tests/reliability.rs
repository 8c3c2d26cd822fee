//! What broke when the tool was attacked from outside (issue 17), one test per finding, driving
//! the real binary; and a standing fuzz-style property of the append path.
//!
//! Each test states the behaviour that now holds; each failed against the build before the fix.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command as Std, Stdio};

use assert_cmd::Command;
use proptest::prelude::*;
use serde_json::Value;

const SRC: &str = r#""source":{"document":"test.txt","quote":"A sentence."}"#;

fn ev(body: &str) -> String {
    format!("{{{body},{SRC}}}\n")
}

fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("iofs-ledger")
}

fn cmd(db: &Path) -> Command {
    let mut c = Command::new(bin());
    c.env_remove("IOFS_LEDGER_DB").arg("--db").arg(db);
    c
}

fn run(db: &Path, args: &[&str]) -> String {
    let out = cmd(db).args(args).assert().success().get_output().clone();
    String::from_utf8(out.stdout).unwrap()
}

/// Runs the binary with `stdin` as input and standard output sent to `stdout`.
fn to(db: &Path, args: &[&str], stdin: &str, stdout: impl Into<Stdio>) -> std::process::Output {
    let mut c = Std::new(bin())
        .env_remove("IOFS_LEDGER_DB")
        .arg("--db")
        .arg(db)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(stdout)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = c.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).unwrap();
    drop(input);
    c.wait_with_output().unwrap()
}

fn dev_full() -> std::fs::File {
    std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap()
}

fn stderr_of(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stderr).into_owned()
}

/// The log with hashes, and the head: what a refused append must leave as it was.
fn snapshot(db: &Path) -> (String, String) {
    (run(db, &["log", "--json"]), run(db, &["head"]))
}

/// How many events the built-in history holds (what `init` loads).
fn builtin() -> u64 {
    include_str!("../events/history.jsonl")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count() as u64
}

fn head_seq(db: &Path) -> u64 {
    let v: Value = serde_json::from_str(&run(db, &["head", "--json"])).unwrap();
    v["seq"].as_u64().unwrap()
}

struct Tmp {
    dir: tempfile::TempDir,
    db: PathBuf,
}

fn tmp() -> Tmp {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ledger.db");
    Tmp { dir, db }
}

fn ledger(empty: bool) -> Tmp {
    let t = tmp();
    let mut c = cmd(&t.db);
    c.arg("init");
    if empty {
        c.arg("--empty");
    }
    c.assert().success();
    t
}

/// Item 1: `init` never links a new ledger into place beside a `-wal`, `-shm` or `-journal`
/// that is not its own (SQLite would read it as the new file's journal); it refuses, names the
/// file and what to do, creates nothing and leaves the leftover as it was.
#[test]
fn init_refuses_beside_a_leftover_journal_and_creates_nothing() {
    for suffix in ["-wal", "-shm", "-journal"] {
        let t = tmp();
        let mut leftover = t.db.as_os_str().to_owned();
        leftover.push(suffix);
        let leftover = PathBuf::from(leftover);
        std::fs::write(&leftover, b"pages of a ledger that was here before").unwrap();
        let a = cmd(&t.db).arg("init").assert().code(1);
        let err = stderr_of(&a);
        assert!(err.contains(&format!("ledger.db{suffix}")), "{err}");
        assert!(err.contains("move it away"), "{err}");
        assert!(!t.db.exists(), "{suffix}: a ledger was created");
        assert_eq!(
            std::fs::read(&leftover).unwrap(),
            b"pages of a ledger that was here before"
        );
        std::fs::remove_file(&leftover).unwrap();
        cmd(&t.db).arg("init").assert().success();
    }
}

/// Item 1, as reported: a ledger moved away while its WAL still held committed frames (a reader
/// kept it from being checkpointed); `init` at the same path must not build a corrupt ledger.
#[test]
fn init_where_a_ledger_was_moved_away_from_its_wal_creates_nothing() {
    let t = ledger(false);
    // A reader inside a transaction keeps the appends in the WAL.
    let reader = rusqlite::Connection::open(&t.db).unwrap();
    reader
        .execute_batch("BEGIN; SELECT count(*) FROM events;")
        .unwrap();
    cmd(&t.db)
        .arg("append")
        .write_stdin(ev(
            r#""type":"statute_signed","party":"BRN","date":"2020-01-01""#,
        ))
        .assert()
        .success();
    std::fs::rename(&t.db, t.dir.path().join("moved.db")).unwrap();
    // The reader dies without cleaning up: its connection is leaked, its -wal stays.
    std::mem::forget(reader);
    let mut wal = t.db.as_os_str().to_owned();
    wal.push("-wal");
    assert!(Path::new(&wal).exists());
    cmd(&t.db).arg("init").assert().code(1);
    assert!(!t.db.exists());
}

/// Item 2: exit 1 means nothing was appended. An append that committed but could not write its
/// report exits 3 and names the new head on stderr; a script that retries on 1 appends once.
#[test]
fn an_append_whose_report_cannot_be_written_exits_3_and_names_the_head() {
    let t = ledger(false);
    let line = ev(r#""type":"statute_signed","party":"BRN","date":"2020-01-01""#);
    let out = to(&t.db, &["append"], &line, dev_full());
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(head_seq(&t.db), builtin() + 1, "the event is stored");
    let head = run(&t.db, &["head"]);
    assert!(err.contains(head.trim()), "stderr names the head: {err}");
    assert!(err.contains("do not run it again"), "{err}");
    // A refused append to the same place is still 1: nothing appended.
    let out = to(&t.db, &["append"], &line, dev_full());
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(head_seq(&t.db), builtin() + 1);
    // init too: the ledger exists, so the code is 3.
    let u = tmp();
    let out = to(&u.db, &["init"], "", dev_full());
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(head_seq(&u.db), builtin());
}

/// Item 3: numbers and instants out of range are usage errors (exit 2), never wrapped.
#[test]
fn out_of_range_seqs_and_instants_are_usage_errors() {
    let t = ledger(false);
    let hash = "0".repeat(64);
    let since = format!("9223372036854775808:{hash}");
    for args in [
        &["log", "--after", "9223372036854775808"][..],
        &["log", "--after", "18446744073709551615"],
        &["append", "--expect-head", "9223372036854775808"],
        &["verify", "--since-head", &since],
        &[
            "state",
            "--as-of",
            "2020-01-01",
            "--known-at",
            "9999-12-31T23:59:59-01:00",
        ],
        &["log", "--known-at", "0001-01-01T00:00:00+01:00"],
    ] {
        let a = cmd(&t.db).args(args).write_stdin("").assert().code(2);
        assert!(stdout_empty(&a), "{args:?} printed an answer");
    }
    // The largest seq is a valid question with an empty answer.
    assert_eq!(run(&t.db, &["log", "--after", "9223372036854775807"]), "");
    // The latest instant that is still in year 9999 answers as everything recorded.
    let all = run(&t.db, &["state", "--as-of", "2020-01-01"]);
    let late = run(
        &t.db,
        &[
            "state",
            "--as-of",
            "2020-01-01",
            "--known-at",
            "9999-12-31T23:59:59+01:00",
        ],
    );
    assert_eq!(all.lines().nth(1), late.lines().nth(1));
}

fn stdout_empty(a: &assert_cmd::assert::Assert) -> bool {
    a.get_output().stdout.is_empty()
}

/// Item 4: ESC, CR, NUL and newlines inside a source are shown escaped to people (no byte of
/// them reaches the terminal, the quote stays on its line); JSON keeps them as data.
#[test]
fn control_characters_from_a_source_are_escaped_for_people_and_kept_in_json() {
    let t = ledger(false);
    let line = r#"{"type":"statute_signed","party":"BRN","date":"2020-01-01","source":{"document":"doc\u001b[2J\r","quote":"one\u0000two\n   135  fake line\u001b[31m\u009b"}}"#;
    cmd(&t.db)
        .arg("append")
        .write_stdin(format!("{line}\n"))
        .assert()
        .success();
    let after = builtin().to_string();
    for args in [&["history", "BRN"][..], &["log", "--after", &after]] {
        let out = run(&t.db, args);
        for bad in ['\u{1b}', '\r', '\0', '\u{9b}'] {
            assert!(!out.contains(bad), "{args:?} printed {bad:?} raw: {out:?}");
        }
        assert!(out.contains("\\u{1b}"), "{args:?}: {out}");
        assert!(
            !out.lines().any(|l| l.trim_start().starts_with("135  fake")),
            "{args:?}: a source drew its own line: {out}"
        );
    }
    let json: Value =
        serde_json::from_str(&run(&t.db, &["log", "--after", &after, "--json"])).unwrap();
    assert_eq!(json["source"]["document"], "doc\u{1b}[2J\r");
    assert_eq!(
        json["source"]["quote"],
        "one\u{0}two\n   135  fake line\u{1b}[31m\u{9b}"
    );
}

/// Item 6: the input is read whole before the write lock is taken: a producer that stalls
/// between two events holds no other writer up (the other writer gives up at once if locked).
#[test]
fn a_stalled_producer_does_not_hold_the_write_lock() {
    let t = ledger(false);
    let mut slow = Std::new(bin())
        .env_remove("IOFS_LEDGER_DB")
        .arg("--db")
        .arg(&t.db)
        .arg("append")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = slow.stdin.take().unwrap();
    stdin
        .write_all(ev(r#""type":"statute_signed","party":"BRN","date":"2020-01-01""#).as_bytes())
        .unwrap();
    stdin.flush().unwrap();
    // Give the slow producer's consumer every chance to take the lock if it would.
    std::thread::sleep(std::time::Duration::from_millis(700));
    cmd(&t.db)
        .args(["--lock-timeout", "0", "append"])
        .write_stdin(ev(
            r#""type":"statute_signed","party":"ALB","date":"2020-01-01""#,
        ))
        .assert()
        .success();
    stdin
        .write_all(ev(r#""type":"statute_signed","party":"MDV","date":"2020-01-01""#).as_bytes())
        .unwrap();
    drop(stdin);
    let out = slow.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(head_seq(&t.db), builtin() + 3);
    run(&t.db, &["verify"]);
}

/// Item 6: the whole input is validated before the write lock is taken: malformed input is
/// refused, naming its line and field, even while another writer holds the lock.
#[test]
fn malformed_input_is_refused_without_waiting_for_the_write_lock() {
    let t = ledger(false);
    let holder = rusqlite::Connection::open(&t.db).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE;").unwrap();
    let input = format!(
        "{}{}",
        ev(r#""type":"statute_signed","party":"BRN","date":"2020-01-01""#),
        ev(r#""type":"statute_signed","party":"NOPE","date":"2020-01-01""#)
    );
    let a = cmd(&t.db)
        .args(["--lock-timeout", "0", "append"])
        .write_stdin(input)
        .assert()
        .code(1);
    let err = stderr_of(&a);
    assert!(err.contains("line 2, field `party`"), "{err}");
    assert!(!err.contains("locked"), "{err}");
    holder.execute_batch("ROLLBACK;").unwrap();
    drop(holder);
    assert_eq!(head_seq(&t.db), builtin());
}

/// Item 7: a JSON array is read element by element. A large array appends whole with a peak
/// resident memory well below what holding the whole array takes.
#[test]
fn a_large_json_array_is_streamed_not_held_in_memory() {
    let t = ledger(true);
    let input = t.dir.path().join("big.json");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&input).unwrap());
    let filler = "x".repeat(20_000);
    writeln!(f, "[").unwrap();
    let n = 6000;
    for i in 0..n {
        let sep = if i + 1 < n { "," } else { "" };
        writeln!(
            f,
            r#"{{"type":"claim","date":"2020","about":"statement","value":"claim {i}","note":"{filler}",{SRC}}}{sep}"#
        )
        .unwrap();
    }
    writeln!(f, "]").unwrap();
    drop(f);
    // 120 MB of input: holding it whole (the text, then a tree of values) needs more than
    // 250 MB; streamed, the append's peak resident memory stays near 80 MB. The peak is read
    // from /proc (VmHWM) while the process runs. (An address-space cap, `ulimit -v`, measured
    // this once; the binary's allocator, mimalloc, reserves address space ahead of use, so the
    // cap no longer tells memory held from memory reserved.)
    let mut child = Std::new(bin())
        .arg("--db")
        .arg(&t.db)
        .arg("append")
        .arg(&input)
        .env_remove("IOFS_LEDGER_DB")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let status = format!("/proc/{}/status", child.id());
    let mut peak_kib = 0u64;
    let exit = loop {
        if let Ok(text) = std::fs::read_to_string(&status) {
            if let Some(kib) = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            {
                peak_kib = peak_kib.max(kib);
            }
        }
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(exit.success(), "{err}");
    assert!(peak_kib > 0, "the peak was read from {status}");
    assert!(
        peak_kib < 150 * 1024,
        "peak resident memory {peak_kib} KiB: the array was held, not streamed"
    );
    assert_eq!(head_seq(&t.db), n);
}

/// Runs the binary as an unprivileged user (`nobody`) when the tests run as root, who can
/// write anywhere; as the user itself otherwise.
fn as_reader(db: &Path, args: &[&str]) -> std::process::Output {
    use std::os::unix::process::CommandExt;
    let root = Std::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let mut c = Std::new(bin());
    if root {
        c.uid(65534).gid(65534);
    }
    c.env_remove("IOFS_LEDGER_DB")
        .arg("--db")
        .arg(db)
        .args(args)
        .stdin(Stdio::null());
    c.output().unwrap()
}

/// Item 9: from a directory the user cannot write (and a file they cannot write), every read
/// command answers, `verify` included; a writer is refused naming the real cause.
#[test]
fn reading_works_from_a_directory_the_user_cannot_write() {
    use std::os::unix::fs::PermissionsExt;
    let t = ledger(false);
    let open = || std::fs::Permissions::from_mode(0o755);
    std::fs::set_permissions(t.dir.path(), open()).unwrap();
    // The ledger as a user leaves it: checkpointed, no -wal or -shm.
    for suffix in ["-wal", "-shm"] {
        let mut p = t.db.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
    std::fs::set_permissions(&t.db, std::fs::Permissions::from_mode(0o444)).unwrap();
    std::fs::set_permissions(t.dir.path(), std::fs::Permissions::from_mode(0o555)).unwrap();
    let expected_state = run(&t.db, &["state", "--as-of", "2020-01-01"]);
    let out = as_reader(&t.db, &["state", "--as-of", "2020-01-01"]);
    assert!(
        out.status.success(),
        "state: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), expected_state);
    for args in [
        &["verify"][..],
        &["log"],
        &["head"],
        &["history", "KAZ"],
        &["audit"],
        &["export"],
        &["officers"],
    ] {
        let out = as_reader(&t.db, args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = as_reader(&t.db, &["rebuild"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(err.contains("read-only for this user"), "{err}");
    assert!(!err.contains("is not an iofs-ledger database"), "{err}");
    std::fs::set_permissions(t.dir.path(), open()).unwrap();
}

/// Item 10: the world rules that were missing refuse at append, naming the rule, and change
/// nothing: a second adoption of the Statute, a signature before the adoption, a signature
/// before the organisation's establishment. The built-in history still verifies.
#[test]
fn a_second_adoption_and_signatures_before_adoption_or_establishment_are_refused() {
    let t = ledger(false);
    run(&t.db, &["verify"]);
    let before = snapshot(&t.db);
    for (line, rule) in [
        (
            ev(r#""type":"statute_adopted","date":"1950-01-01""#),
            "the Statute is adopted once",
        ),
        (
            ev(r#""type":"statute_signed","party":"BRN","date":"2013-06-01""#),
            "the Statute cannot be signed before it was adopted",
        ),
        (
            ev(r#""type":"statute_signed","party":"BRN","date":"2012-01-01""#),
            "the Statute cannot be signed before the organisation was established",
        ),
    ] {
        let a = cmd(&t.db).arg("append").write_stdin(line).assert().code(1);
        let err = stderr_of(&a);
        assert!(err.contains(rule), "{err}");
        assert_eq!(snapshot(&t.db), before);
    }
    let state = run(&t.db, &["state", "--as-of", "2020-01-01"]);
    assert!(state.contains("adopted 2013-12-10"), "{state}");
}

/// Item 11: one text rule for every text field (nothing blank or invisible-only) and numbers
/// within documented bounds.
#[test]
fn blank_texts_and_numbers_out_of_range_are_refused_naming_the_field() {
    let t = ledger(false);
    let before = snapshot(&t.db);
    let cases = [
        (
            r#"{"type":"statute_adopted","date":"2013","source":{"document":" ","quote":"q"}}"#,
            "source.document",
        ),
        (
            r#"{"type":"statute_adopted","date":"2013","source":{"document":"d","quote":"\u200b"}}"#,
            "source",
        ),
        (
            r#"{"type":"statute_adopted","date":"2013","source":{"url":"\u0007","quote":"q"}}"#,
            "source.url",
        ),
        (
            r#"{"type":"statute_adopted","date":"2013","inferred":"","source":{"document":"d","quote":"q"}}"#,
            "inferred",
        ),
        (
            r#"{"type":"statute_adopted","date":"2013","note":"\u2060\ufeff","source":{"document":"d","quote":"q"}}"#,
            "note",
        ),
        (
            r#"{"type":"claim","date":"2013","about":"statement","value":"x","topic":"","source":{"document":"d","quote":"q"}}"#,
            "topic",
        ),
        (
            r#"{"type":"claim","date":"2013","about":"statement","value":"\u200c","source":{"document":"d","quote":"q"}}"#,
            "value",
        ),
        (
            r#"{"type":"meeting_held","organ":"general_assembly","date":"2013","place":"","source":{"document":"d","quote":"q"}}"#,
            "place",
        ),
        (
            r#"{"type":"meeting_held","organ":"general_assembly","date":"2013","session":4000000000,"source":{"document":"d","quote":"q"}}"#,
            "session",
        ),
        (
            r#"{"type":"officer_appointed","office":"director_general","person":"A B","date":"2013","term_years":10000,"source":{"document":"d","quote":"q"}}"#,
            "term_years",
        ),
        (
            r#"{"type":"officer_appointed","office":"director_general","person":"A B","date":"2013","term_years":21,"source":{"document":"d","quote":"q"}}"#,
            "term_years",
        ),
        (
            r#"{"type":"officer_appointed","office":"director_general","person":"\u00a0","date":"2013","source":{"document":"d","quote":"q"}}"#,
            "person",
        ),
        (
            r#"{"type":"retraction","retracts":9223372036854775808,"reason":"r","source":{"document":"d","quote":"q"}}"#,
            "retracts",
        ),
    ];
    for (line, field) in cases {
        let a = cmd(&t.db)
            .arg("append")
            .write_stdin(format!("{line}\n"))
            .assert()
            .code(1);
        let err = stderr_of(&a);
        assert!(err.contains(&format!("field `{field}`")), "{line}: {err}");
        assert_eq!(snapshot(&t.db), before);
    }
    // The bounds themselves are accepted.
    cmd(&t.db)
        .arg("append")
        .write_stdin(ev(
            r#""type":"officer_appointed","office":"director_general","person":"A B","date":"2024-05","term_years":20"#,
        ))
        .assert()
        .success();
}

/// Item 12: messages name the real cause.
#[test]
fn messages_name_the_real_cause() {
    let t = ledger(false);
    let refused = |line: String| -> String {
        let a = cmd(&t.db).arg("append").write_stdin(line).assert().code(1);
        stderr_of(&a)
    };
    // A bad value of a nested enum names its field, not "unknown event type".
    for (body, field) in [
        (
            r#""type":"claim","date":"2020","about":"nonsense","value":1"#,
            "about",
        ),
        (
            r#""type":"meeting_held","date":"2020","organ":"bogus""#,
            "organ",
        ),
        (
            r#""type":"office_vacated","date":"2020","office":"bogus","person":"A","reason":"r""#,
            "office",
        ),
        (
            r#""type":"board_elected","date":"2020","organ":"executive_board","seats":[{"party":"KAZ","role":"boss"}]"#,
            "seats[0].role",
        ),
    ] {
        let err = refused(ev(body));
        assert!(!err.contains("unknown event type"), "{err}");
        assert!(err.contains(&format!("field `{field}`")), "{err}");
    }
    // --expect-head beyond the head does not claim someone appended.
    let a = cmd(&t.db)
        .args(["append", "--expect-head", &(builtin() + 1).to_string()])
        .write_stdin(ev(
            r#""type":"statute_signed","party":"BRN","date":"2020-01-01""#,
        ))
        .assert()
        .code(1);
    let err = stderr_of(&a);
    assert!(!err.contains("someone appended"), "{err}");
    assert!(
        err.contains(&format!("never reached seq {}", builtin() + 1)),
        "{err}"
    );
    // A leading UTF-8 byte order mark is accepted, in JSON Lines and in an array.
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend(ev(r#""type":"statute_signed","party":"BRN","date":"2020-01-01""#).as_bytes());
    cmd(&t.db).arg("append").write_stdin(bom).assert().success();
    let mut bom = b"\xEF\xBB\xBF[".to_vec();
    bom.extend(
        ev(r#""type":"statute_signed","party":"ALB","date":"2020-01-01""#)
            .trim()
            .as_bytes(),
    );
    bom.extend(b"]");
    cmd(&t.db).arg("append").write_stdin(bom).assert().success();
    // init in a missing directory names the directory, not a temporary file.
    let missing = t.dir.path().join("missing/dir/x.db");
    let a = cmd(&missing).arg("init").assert().code(1);
    let err = stderr_of(&a);
    assert!(err.contains("missing/dir"), "{err}");
    assert!(!err.contains(".init-"), "{err}");
    // A body stored as a BLOB names its seq.
    let conn = rusqlite::Connection::open(&t.db).unwrap();
    conn.execute_batch(
        "DROP TRIGGER events_append_only_update; UPDATE events SET body = CAST(body AS BLOB) WHERE seq = 5;",
    )
    .unwrap();
    drop(conn);
    let a = cmd(&t.db).arg("log").assert().code(1);
    let err = stderr_of(&a);
    assert!(err.contains("seq 5"), "{err}");
    assert!(err.to_lowercase().contains("blob"), "{err}");
}

/// Item 12: a schema mismatch is one line, not the migration's SQL.
#[test]
fn a_schema_mismatch_does_not_dump_sql() {
    let t = ledger(true);
    let conn = rusqlite::Connection::open(&t.db).unwrap();
    conn.execute_batch("PRAGMA user_version = 0;").unwrap();
    drop(conn);
    let a = cmd(&t.db)
        .arg("append")
        .write_stdin(ev(r#""type":"statute_adopted","date":"2013""#))
        .assert()
        .code(1);
    let err = stderr_of(&a);
    assert!(!err.contains("CREATE"), "{err}");
    assert!(err.lines().count() <= 3, "{err}");
}

/// Item 13: a command whose output is the product fails when the output cannot be written in
/// full: closed standard output, a full disk.
#[test]
fn export_and_log_json_fail_when_their_output_is_lost() {
    let t = ledger(false);
    for args in [&["export"][..], &["log", "--json"]] {
        let out = Std::new("sh")
            .arg("-c")
            .arg("b=\"$0\"; db=\"$1\"; shift; exec \"$b\" --db \"$db\" \"$@\" >&-")
            .arg(bin())
            .arg(&t.db)
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?} with stdout closed");
        assert!(String::from_utf8_lossy(&out.stderr).contains("standard output is closed"));
        assert_eq!(to(&t.db, args, "", dev_full()).status.code(), Some(1));
        // To /dev/null by choice is fine.
        assert!(to(&t.db, args, "", Stdio::null()).status.success());
    }
}

/// Item 14: an export's retractions and corrections name their target by seq and by the
/// SHA-256 of its canonical JSON, so appended to a non-empty ledger the export is refused
/// whole; appended to an empty one it rebuilds the same log.
#[test]
fn an_export_cannot_retarget_retractions_and_corrections() {
    let src = ledger(true);
    let lines = [
        ev(r#""type":"statute_adopted","date":"2013-12-10""#),
        ev(r#""type":"statute_signed","party":"KAZ","date":"2014""#),
        ev(r#""type":"retraction","retracts":2,"reason":"wrong party""#),
        ev(r#""type":"correction","corrects":1,"reason":"the day","replacement":{"type":"statute_adopted","date":"2013-12-09","source":{"document":"d","quote":"q"}}"#),
    ]
    .concat();
    cmd(&src.db)
        .arg("append")
        .write_stdin(lines)
        .assert()
        .success();
    let export = run(&src.db, &["export"]);
    assert!(export.contains("target_sha256"), "{export}");
    let target = ledger(false);
    let before = snapshot(&target.db);
    let a = cmd(&target.db)
        .arg("append")
        .write_stdin(export.clone())
        .assert()
        .code(1);
    assert!(stderr_of(&a).contains("not the event this was written for"));
    assert_eq!(
        snapshot(&target.db),
        before,
        "seq 1 of the target was not retracted"
    );
    let copy = ledger(true);
    cmd(&copy.db)
        .arg("append")
        .write_stdin(export.clone())
        .assert()
        .success();
    assert_eq!(run(&copy.db, &["export"]), export);
    run(&copy.db, &["verify"]);
    for d in ["2013-12-09", "2015-01-01"] {
        assert_eq!(
            run(&copy.db, &["state", "--as-of", d]),
            run(&src.db, &["state", "--as-of", d])
        );
    }
}

/// Item 16: an input with no events (nothing, blank lines, an empty array) is refused with exit
/// 1 unless `--allow-empty` says it is expected.
#[test]
fn an_empty_input_is_refused_unless_allowed() {
    let t = ledger(false);
    for input in ["", "\n\n  \n", "[]", " [ \n ] "] {
        let a = cmd(&t.db).arg("append").write_stdin(input).assert().code(1);
        assert!(stderr_of(&a).contains("--allow-empty"));
        cmd(&t.db)
            .args(["append", "--allow-empty"])
            .write_stdin(input)
            .assert()
            .success();
    }
    assert_eq!(head_seq(&t.db), builtin());
}

/// A valid event to mutate, by index.
fn valid_event(i: usize) -> String {
    let all = [
        ev(r#""type":"statute_signed","party":"BRN","date":"2020-01-01""#),
        ev(
            r#""type":"meeting_held","organ":"general_assembly","session":7,"place":"Astana","date":"2021-03""#,
        ),
        ev(r#""type":"claim","about":"member_count","value":41,"date":"2023""#),
        ev(
            r#""type":"officer_appointed","office":"director_general","person":"A B","date":"2025-01-01","term_years":4"#,
        ),
        ev(r#""type":"retraction","retracts":5,"reason":"wrong""#),
        ev(
            r#""type":"statute_ratified","party":"BRN","date":{"not_before":"2020-02-01","not_after":"2020-06-30"}"#,
        ),
    ];
    all[i % all.len()].clone()
}

/// The bytes of the ledger's files (the database and its WAL, checkpointed or not).
fn files(db: &Path) -> Vec<(String, Vec<u8>)> {
    ["", "-wal"]
        .iter()
        .map(|s| {
            let mut p = db.as_os_str().to_owned();
            p.push(s);
            (
                s.to_string(),
                std::fs::read(PathBuf::from(p)).unwrap_or_default(),
            )
        })
        .collect()
}

fn input_strategy() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        // Arbitrary bytes.
        proptest::collection::vec(any::<u8>(), 0..300),
        // A valid event with bytes overwritten, inserted or removed.
        (
            0usize..6,
            proptest::collection::vec((any::<usize>(), any::<u8>(), 0u8..3), 1..4)
        )
            .prop_map(|(i, edits)| {
                let mut b = valid_event(i).into_bytes();
                for (at, byte, op) in edits {
                    let at = at % (b.len() + 1);
                    match op {
                        0 if at < b.len() => b[at] = byte,
                        1 => b.insert(at, byte),
                        _ if at < b.len() => {
                            b.remove(at);
                        }
                        _ => b.push(byte),
                    }
                }
                b
            }),
        // Valid events, some of them, as lines or as an array, maybe with a BOM.
        (
            proptest::collection::vec(0usize..6, 1..4),
            any::<bool>(),
            any::<bool>()
        )
            .prop_map(|(ix, array, bom)| {
                let evs: Vec<String> = ix
                    .iter()
                    .map(|i| valid_event(*i).trim().to_string())
                    .collect();
                let mut out = if bom {
                    b"\xEF\xBB\xBF".to_vec()
                } else {
                    vec![]
                };
                if array {
                    out.extend(format!("[{}]", evs.join(",")).into_bytes());
                } else {
                    out.extend(evs.join("\n").into_bytes());
                }
                out
            }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("IOFS_PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(48),
        ..ProptestConfig::default()
    })]

    /// The append path, fed arbitrary bytes and mutated valid events through the real binary,
    /// never panics (exit 0 or 1, a message, never a crash); a refusal leaves the ledger's
    /// files byte for byte as they were; an acceptance always verifies.
    #[test]
    fn any_input_is_accepted_and_verifies_or_refused_leaving_the_files_unchanged(
        inputs in proptest::collection::vec(input_strategy(), 1..4)
    ) {
        let t = ledger(false);
        for input in inputs {
            let before = files(&t.db);
            let out = cmd(&t.db).arg("append").write_stdin(input.clone()).output().unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            prop_assert!(!err.contains("panicked"), "panic: {err}");
            match out.status.code() {
                Some(0) => {
                    cmd(&t.db).arg("verify").assert().success();
                }
                Some(1) => {
                    prop_assert!(err.starts_with("iofs-ledger: error: "), "{err}");
                    prop_assert!(files(&t.db) == before, "a refusal changed the files: {err}");
                }
                c => prop_assert!(false, "exit {c:?} for {:?}: {err}", String::from_utf8_lossy(&input)),
            }
        }
    }
}

mod world_rules {
    //! Property tests of the world rules added for item 10, against an independent model: the
    //! windows of the dates, computed here from the calendar.
    use chrono::{Datelike, NaiveDate};
    use iofs_ledger::event::parse_batch;
    use iofs_ledger::projection::Rule;
    use iofs_ledger::store::{AppendOptions, Ledger, StoreError};
    use proptest::prelude::*;

    /// A date as the format writes it, with its window (first and last day) worked out here.
    #[derive(Debug, Clone)]
    struct D {
        json: String,
        first: NaiveDate,
        last: NaiveDate,
    }

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn last_of_month(y: i32, m: u32) -> NaiveDate {
        let next = if m == 12 {
            ymd(y + 1, 1, 1)
        } else {
            ymd(y, m + 1, 1)
        };
        next.pred_opt().unwrap()
    }

    fn date() -> impl Strategy<Value = D> {
        let day = (2008i32..2016, 0u32..365)
            .prop_map(|(y, n)| ymd(y, 1, 1) + chrono::Days::new(n as u64));
        prop_oneof![
            day.clone().prop_map(|d| D {
                json: format!("\"{d}\""),
                first: d,
                last: d
            }),
            day.clone().prop_map(|d| D {
                json: format!("\"{:04}-{:02}\"", d.year(), d.month()),
                first: ymd(d.year(), d.month(), 1),
                last: last_of_month(d.year(), d.month()),
            }),
            day.clone().prop_map(|d| D {
                json: format!("\"{:04}\"", d.year()),
                first: ymd(d.year(), 1, 1),
                last: ymd(d.year(), 12, 31),
            }),
            (day.clone(), 0u64..400).prop_map(|(a, n)| {
                let b = a + chrono::Days::new(n);
                D {
                    json: format!("{{\"not_before\":\"{a}\",\"not_after\":\"{b}\"}}"),
                    first: a,
                    last: b,
                }
            }),
        ]
    }

    const SRC: &str = r#""source":{"document":"d","quote":"q"}"#;

    fn line(ty: &str, extra: &str, d: &D) -> String {
        format!("{{\"type\":\"{ty}\",\"date\":{}{extra},{SRC}}}", d.json)
    }

    /// Appends one batch to a fresh ledger: `Ok` or the rules broken.
    fn append(lines: &[String]) -> Result<(), Vec<Option<Rule>>> {
        let mut l = Ledger::in_memory().unwrap();
        let events = parse_batch(&lines.join("\n")).unwrap();
        match l.append(events.into_iter().map(Ok), AppendOptions::default()) {
            Ok(_) => Ok(()),
            Err(StoreError::Refused(r)) => Err(r.into_iter().map(|x| x.rule).collect()),
            Err(e) => panic!("{e}"),
        }
    }

    /// Appends two events of milestone type `ty` dated `a` and `b`, in one batch or two, and
    /// returns the rules of the refusal (if any).
    fn second_milestone(ty: &str, a: &D, b: &D, split: bool) -> Result<(), Vec<Option<Rule>>> {
        let first = line(ty, "", a);
        let second = line(ty, "", b);
        if split {
            let mut l = Ledger::in_memory().unwrap();
            l.append(
                parse_batch(&first).unwrap().into_iter().map(Ok),
                AppendOptions::default(),
            )
            .unwrap();
            match l.append(
                parse_batch(&second).unwrap().into_iter().map(Ok),
                AppendOptions::default(),
            ) {
                Ok(_) => Ok(()),
                Err(StoreError::Refused(r)) => Err(r.into_iter().map(|x| x.rule).collect()),
                Err(e) => panic!("{e}"),
            }
        } else {
            append(&[first, second])
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: std::env::var("IOFS_PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(64),
            ..ProptestConfig::default()
        })]

        /// The Statute is adopted once: a second `statute_adopted`, whatever the two dates and
        /// in whichever order they are appended, is refused naming the rule.
        #[test]
        fn a_second_adoption_of_the_statute_is_always_refused(a in date(), b in date(), split in any::<bool>()) {
            prop_assert_eq!(second_milestone("statute_adopted", &a, &b, split), Err(vec![Some(Rule::StatuteAdoptedOnce)]));
        }

        /// The organisation is established once and its Secretariat becomes operational once:
        /// a second such event, whatever the two dates (an earlier one included) and in
        /// whichever order they are appended, is refused naming the rule; the first date stands.
        #[test]
        fn a_second_establishment_or_start_of_operations_is_always_refused(a in date(), b in date(), split in any::<bool>()) {
            prop_assert_eq!(second_milestone("organisation_established", &a, &b, split), Err(vec![Some(Rule::EstablishedOnce)]));
            prop_assert_eq!(second_milestone("secretariat_operational", &a, &b, split), Err(vec![Some(Rule::OperationalOnce)]));
        }

        /// A signature is accepted exactly when it may have come after the Statute's adoption
        /// (its window ends on or after the adoption's window begins); otherwise the batch is
        /// refused naming "the Statute cannot be signed before it was adopted".
        #[test]
        fn a_signature_is_accepted_exactly_when_it_may_follow_the_adoption(
            adopted in date(), signed in date(), signature_first in any::<bool>()
        ) {
            let mut lines = vec![
                line("statute_adopted", "", &adopted),
                line("statute_signed", ",\"party\":\"KAZ\"", &signed),
            ];
            if signature_first {
                lines.reverse();
            }
            let expected = if signed.last < adopted.first {
                Err(vec![Some(Rule::NoSignatureBeforeAdoption)])
            } else {
                Ok(())
            };
            prop_assert_eq!(append(&lines), expected);
        }

        /// A signature is accepted exactly when it may have come after the organisation's
        /// establishment; otherwise the batch is refused naming "the Statute cannot be signed
        /// before the organisation was established".
        #[test]
        fn a_signature_is_accepted_exactly_when_it_may_follow_the_establishment(
            established in date(), signed in date(), signature_first in any::<bool>()
        ) {
            let mut lines = vec![
                line("organisation_established", "", &established),
                line("statute_signed", ",\"party\":\"KAZ\"", &signed),
            ];
            if signature_first {
                lines.reverse();
            }
            let expected = if signed.last < established.first {
                Err(vec![Some(Rule::NoSignatureBeforeEstablishment)])
            } else {
                Ok(())
            };
            prop_assert_eq!(append(&lines), expected);
        }
    }
}
