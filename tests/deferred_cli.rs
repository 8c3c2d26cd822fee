//! Bulk appends through the real binary: the projections a bulk append defers
//! (`meta.projected_through`) are caught up by the first read, `verify` passes on a lagging file
//! without changing it and still catches tampering there, and `kill -9` during a catch-up or
//! between a bulk append's commit and its catch-up leaves answers equal to a rebuilt copy's.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use iofs_ledger::store::{Access, Ledger, DEFER_THRESHOLD};

const BIN: &str = env!("CARGO_BIN_EXE_iofs-ledger");

/// Events in the bulk batches: just over the threshold, so the batch defers.
const BULK: usize = DEFER_THRESHOLD + 1_000;

fn cmd(db: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.env_remove("IOFS_LEDGER_DB").arg("--db").arg(db);
    c
}

fn run(db: &Path, args: &[&str]) -> Output {
    cmd(db)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run iofs-ledger")
}

fn ok(db: &Path, args: &[&str]) -> String {
    let out = run(db, args);
    assert!(
        out.status.success(),
        "`{}` failed ({:?}): {}",
        args.join(" "),
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `meta.projected_through`, read without catching up.
fn projected_through(db: &Path) -> Option<u64> {
    let l = Ledger::open(db, Access::ReadOnly).unwrap();
    l.connection()
        .query_row(
            "SELECT value FROM meta WHERE key = 'projected_through'",
            [],
            |r| r.get::<_, String>(0),
        )
        .ok()
        .map(|v| v.parse().unwrap())
}

fn sql(db: &Path, statement: &str) {
    let l = Ledger::open(db, Access::ReadWrite).unwrap();
    l.connection().execute_batch(statement).unwrap();
}

/// A synthetic history of `n` events (every append rule holds) as JSON Lines.
fn synth_file(dir: &Path, n: usize) -> PathBuf {
    let mut buf = Vec::new();
    iofs_ledger::synth::write_jsonl(&mut buf, n, 7).unwrap();
    let p = dir.join(format!("synth-{n}.jsonl"));
    std::fs::write(&p, buf).unwrap();
    p
}

/// An empty ledger with `file` appended in one batch.
fn ledger_with(dir: &Path, name: &str, file: &Path) -> PathBuf {
    let db = dir.join(name);
    ok(&db, &["init", "--empty"]);
    ok(&db, &["append", file.to_str().unwrap()]);
    db
}

fn copy(db: &Path, name: &str) -> PathBuf {
    let p = db.with_file_name(name);
    std::fs::copy(db, &p).unwrap();
    p
}

const DAYS: [&str; 4] = ["1990-06-30", "2012-01-01", "2020-12-31", "2026-01-01"];

/// The answers compared with a rebuilt copy: the state at a few days, members, and the
/// timeline of members by year.
fn answers(db: &Path) -> Vec<String> {
    let mut out: Vec<String> = DAYS
        .iter()
        .map(|d| ok(db, &["state", "--as-of", d, "--json"]))
        .collect();
    out.push(ok(db, &["members", "--as-of", "2026-01-01", "--json"]));
    out
}

/// What a fresh rebuild of the same log answers.
fn rebuilt_answers(db: &Path, name: &str) -> Vec<String> {
    let r = copy(db, name);
    ok(&r, &["rebuild"]);
    answers(&r)
}

#[test]
fn a_bulk_append_defers_the_projections_and_the_first_read_answers_as_a_rebuilt_copy() {
    let dir = tempfile::tempdir().unwrap();
    let file = synth_file(dir.path(), BULK);
    let db = ledger_with(dir.path(), "a.db", &file);
    assert_eq!(
        projected_through(&db),
        Some(0),
        "the bulk append did not defer"
    );
    // `verify` passes on the lagging file and leaves it as it is.
    ok(&db, &["verify"]);
    assert_eq!(projected_through(&db), Some(0), "verify wrote to the file");
    let want = rebuilt_answers(&db, "rebuilt.db");
    assert_eq!(answers(&db), want);
    assert_eq!(projected_through(&db), None, "a read did not catch up");
    ok(&db, &["verify"]);
}

#[test]
fn verify_catches_tampering_of_a_lagging_file_in_its_projected_part_and_in_meta() {
    let dir = tempfile::tempdir().unwrap();
    // One synthetic history in two batches: the first 300 events projected, the rest (a bulk
    // batch) lagging.
    let mut all = Vec::new();
    iofs_ledger::synth::write_jsonl(&mut all, BULK + 300, 7).unwrap();
    let text = String::from_utf8(all).unwrap();
    let part = |name: &str, lines: Vec<&str>| {
        let p = dir.path().join(name);
        std::fs::write(
            &p,
            lines.iter().map(|l| format!("{l}\n")).collect::<String>(),
        )
        .unwrap();
        p
    };
    let first = part("first.jsonl", text.lines().take(300).collect());
    let rest = part("rest.jsonl", text.lines().skip(300).collect());
    let db = ledger_with(dir.path(), "a.db", &first);
    ok(&db, &["append", rest.to_str().unwrap()]);
    assert_eq!(projected_through(&db), Some(300));
    ok(&db, &["verify"]);
    let tampered = |name: &str, statement: &str| {
        let t = copy(&db, name);
        sql(&t, statement);
        let out = run(&t, &["verify"]);
        assert!(
            !out.status.success(),
            "verify passed after `{statement}`: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    };
    tampered(
        "t1.db",
        "DELETE FROM timeline WHERE (key, day, ord) IN (SELECT key, day, ord FROM timeline LIMIT 1)",
    );
    // Lowered to just before the last projected event that has a projected row (a lower value
    // that only drops events with no projected effect describes the same read models, and a
    // catch-up from it gives the same answers).
    tampered(
        "t2.db",
        "UPDATE meta SET value = (SELECT CAST(max(seq) - 1 AS TEXT) FROM party_events) WHERE key = 'projected_through'",
    );
    tampered(
        "t3.db",
        "UPDATE meta SET value = (SELECT CAST(max(seq) AS TEXT) FROM events) WHERE key = 'projected_through'",
    );
    tampered("t4.db", "DELETE FROM meta WHERE key = 'projected_through'");
    // Past the head: no append leaves that (the key is there only while the read models lag).
    tampered(
        "t5.db",
        "UPDATE meta SET value = '999999' WHERE key = 'projected_through'",
    );
}

/// Runs `args` and kills it (SIGKILL) after `delay` unless it finished; whether it finished.
fn run_and_kill(db: &Path, args: &[&str], delay: Duration) -> bool {
    let mut child = cmd(db)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while start.elapsed() < delay {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "`{}` failed by itself", args.join(" "));
            return true;
        }
        thread::sleep(Duration::from_millis(1));
    }
    child.kill().unwrap();
    child.wait().unwrap().success()
}

/// Kill -9 during the first read's catch-up, at fractions of the time an uninterrupted one
/// took: the projections are caught up whole or not at all (`projected_through` still names
/// the head before the batch), `verify` passes, and the answers equal a rebuilt copy's.
#[test]
fn kill_9_during_a_catch_up_leaves_it_whole_or_not_begun_and_answers_exact() {
    let dir = tempfile::tempdir().unwrap();
    let file = synth_file(dir.path(), BULK);
    let base = ledger_with(dir.path(), "base.db", &file);
    let want = rebuilt_answers(&base, "rebuilt.db");
    let timed = copy(&base, "timed.db");
    let t = Instant::now();
    ok(&timed, &["state", "--as-of", "2020-01-01"]);
    let full = t.elapsed();
    let mut interrupted = 0;
    for (i, f) in [0.1, 0.3, 0.5, 0.7, 0.9, 1.2].iter().enumerate() {
        let db = copy(&base, &format!("k{i}.db"));
        let finished = run_and_kill(&db, &["state", "--as-of", "2020-01-01"], full.mul_f64(*f));
        let lag = projected_through(&db);
        assert!(lag.is_none() || lag == Some(0), "{f}: {lag:?}");
        if finished {
            assert_eq!(lag, None);
        } else if lag.is_some() {
            interrupted += 1;
        }
        ok(&db, &["verify"]);
        assert_eq!(answers(&db), want, "killed at {f} x {full:?}");
    }
    eprintln!("catch-ups interrupted: {interrupted} of 6 (uninterrupted took {full:?})");
}

/// Kill -9 around a bulk append's commit (before it, between it and any catch-up): the batch
/// is whole or absent, `verify` passes, and every answer equals a rebuilt copy's (the last run is
/// left to finish, so at least one batch lands, lagging).
#[test]
fn kill_9_between_a_bulk_appends_commit_and_its_catch_up_answers_exact() {
    let dir = tempfile::tempdir().unwrap();
    let file = synth_file(dir.path(), BULK);
    let empty = dir.path().join("empty.db");
    ok(&empty, &["init", "--empty"]);
    let timed = copy(&empty, "timed.db");
    let t = Instant::now();
    ok(&timed, &["append", file.to_str().unwrap()]);
    let full = t.elapsed();
    let want = rebuilt_answers(&timed, "rebuilt.db");
    let want_empty = answers(&empty);
    let mut landed_lagging = 0;
    for (i, f) in [0.3, 0.6, 0.8, 0.9, 1.0, 1.1, 1.5, 1000.0]
        .iter()
        .enumerate()
    {
        let db = copy(&empty, &format!("k{i}.db"));
        let file = file.to_str().unwrap();
        let finished = run_and_kill(&db, &["append", file], full.mul_f64(*f));
        // Read before any command: every read command catches up first.
        let lag = projected_through(&db);
        let head: serde_json::Value = serde_json::from_str(&ok(&db, &["head", "--json"])).unwrap();
        let head = head["seq"].as_u64().unwrap();
        assert!(head == 0 || head == BULK as u64, "{f}: head {head}");
        if finished {
            assert_eq!(head, BULK as u64);
        }
        if head > 0 {
            // Landed: the projections lag until the first read.
            assert_eq!(lag, Some(0));
            landed_lagging += 1;
            ok(&db, &["verify"]);
            assert_eq!(answers(&db), want, "killed at {f} x {full:?}");
        } else {
            assert_eq!(lag, None);
            ok(&db, &["verify"]);
            assert_eq!(answers(&db), want_empty, "killed at {f} x {full:?}");
        }
    }
    assert!(landed_lagging > 0, "no bulk append landed");
}

/// Runs the binary as an unprivileged user (`nobody`) when the tests run as root, who can
/// write anywhere; as the user itself otherwise.
fn as_reader(db: &Path, args: &[&str]) -> Output {
    use std::os::unix::process::CommandExt;
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let mut c = cmd(db);
    if root {
        c.uid(65534).gid(65534);
    }
    c.args(args).stdin(Stdio::null()).output().unwrap()
}

/// A lagging file that the reader cannot write (read-only file in a read-only directory): what
/// needs the projections is refused naming the lag and what to run, never answered stale;
/// what reads the log alone (`head`, `log`, `export`, `verify`) answers; the file is left as
/// it was.
#[test]
fn a_lagging_file_the_reader_cannot_write_is_refused_clearly_not_answered_stale() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let file = synth_file(dir.path(), BULK);
    let db = ledger_with(dir.path(), "a.db", &file);
    assert_eq!(projected_through(&db), Some(0));
    for suffix in ["-wal", "-shm"] {
        let mut p = db.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
    let before = std::fs::read(&db).unwrap();
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o444)).unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o555)).unwrap();
    let out = as_reader(&db, &["state", "--as-of", "2020-01-01"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!(
            "reflect the log up to seq 0 but the log reaches seq {BULK}"
        )),
        "{err}"
    );
    assert!(err.contains("rebuild"), "{err}");
    for args in [&["head"][..], &["log"], &["export"], &["verify"]] {
        let out = as_reader(&db, args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(std::fs::read(&db).unwrap(), before, "the file changed");
}

/// A read that must bring a lagging file up to date while another process holds the write lock
/// waits only as long as `--lock-timeout` says, then is refused naming the lock, and answers
/// once the lock is free. (The bound below is a hang check, far above the timeout given and far
/// below the 30 s default the read used to wait regardless.)
#[test]
fn a_read_of_a_lagging_file_honours_lock_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let file = synth_file(dir.path(), BULK);
    let db = ledger_with(dir.path(), "a.db", &file);
    assert_eq!(projected_through(&db), Some(0));
    let holder = rusqlite::Connection::open(&db).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    let mut child = cmd(&db)
        .args(["--lock-timeout", "0.2", "state"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "the read ignored --lock-timeout 0.2"
        );
        thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("locked"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    holder.execute_batch("ROLLBACK").unwrap();
    drop(holder);
    ok(&db, &["--lock-timeout", "0.2", "state"]);
    assert_eq!(projected_through(&db), None);
}
