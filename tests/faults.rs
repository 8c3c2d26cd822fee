//! Faults and load, against the real binary: `kill -9` in the middle of an append, several
//! processes appending at once while others read, a writer that cannot get the lock, unusable
//! ledger files, and malformed input of every kind.
//!
//! `IOFS_FAULTS_LINES` sets the size of the batch killed mid-append (default 200000 lines).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use iofs_ledger::chain::{event_hash, GENESIS};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_iofs-ledger");

const SRC: &str = r#""source":{"document":"faults.txt","quote":"A sentence."}"#;

fn cmd(db: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.env_remove("IOFS_LEDGER_DB").arg("--db").arg(db);
    c
}

/// Runs the binary with `args` and `stdin`.
fn run(db: &Path, args: &[&str], stdin: &[u8]) -> Output {
    let mut child = cmd(db)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn iofs-ledger");
    let mut input = child.stdin.take().expect("stdin");
    let data = stdin.to_vec();
    // Write from another thread: a refusing process may stop reading early.
    let writer = thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().expect("wait for iofs-ledger");
    let _ = writer.join();
    out
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Runs and requires exit 0; returns stdout.
fn ok(db: &Path, args: &[&str], stdin: &[u8]) -> String {
    let out = run(db, args, stdin);
    assert!(
        out.status.success(),
        "`{}` failed ({:?}): {}",
        args.join(" "),
        out.status.code(),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// Runs and requires exit 1 with a message on stderr; returns stderr.
fn fails(db: &Path, args: &[&str], stdin: &[u8]) -> String {
    let out = run(db, args, stdin);
    let err = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "`{}` should exit 1; stdout {} stderr {}",
        args.join(" "),
        text(&out.stdout),
        err
    );
    assert!(
        err.starts_with("iofs-ledger: error: ") && err.trim().len() > 30,
        "`{}`: no clear message on stderr: {err:?}",
        args.join(" ")
    );
    err
}

fn init(dir: &Path, name: &str, empty: bool) -> PathBuf {
    let db = dir.join(name);
    let mut args = vec!["init"];
    if empty {
        args.push("--empty");
    }
    ok(&db, &args, b"");
    db
}

fn head(db: &Path) -> u64 {
    let v: Value = serde_json::from_str(&ok(db, &["head", "--json"], b"")).unwrap();
    v["seq"].as_u64().unwrap()
}

/// The log with hashes, and the head: what a refused append must leave as it was.
fn snapshot(db: &Path) -> (String, String) {
    (ok(db, &["log", "--json"], b""), ok(db, &["head"], b""))
}

fn claim(label: &str, date: &str) -> String {
    format!(r#"{{"type":"claim","date":"{date}","about":"statement","value":"{label}",{SRC}}}"#)
}

/// Every event of `log --json`, checked to form one chain: seqs 1..n without gaps, each hash
/// recomputed from its predecessor, seq, `recorded_at` and canonical body, `recorded_at` never
/// decreasing.
fn chain(db: &Path) -> Vec<Value> {
    let log = ok(db, &["log", "--json"], b"");
    let mut prev = GENESIS.to_string();
    let mut last_at = String::new();
    let mut out = Vec::new();
    for (i, line) in log.lines().enumerate() {
        let v: Value = serde_json::from_str(line).unwrap();
        let seq = v["seq"].as_u64().unwrap();
        assert_eq!(seq, i as u64 + 1, "seqs have a gap or repeat");
        let at = v["recorded_at"].as_str().unwrap().to_string();
        assert!(at >= last_at, "recorded_at went back at seq {seq}");
        // The event's own fields, in their order, are its canonical body.
        let body: serde_json::Map<String, Value> = v
            .as_object()
            .unwrap()
            .iter()
            .filter(|(k, _)| {
                !["seq", "recorded_at", "hash", "retracted_by", "corrected_by"]
                    .contains(&k.as_str())
            })
            .map(|(k, x)| (k.clone(), x.clone()))
            .collect();
        let hash = event_hash(&prev, seq, &at, &Value::Object(body).to_string());
        assert_eq!(
            v["hash"].as_str().unwrap(),
            hash,
            "the chain forks at seq {seq}"
        );
        prev = hash;
        last_at = at;
        out.push(v);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// kill -9
// ---------------------------------------------------------------------------------------------

/// `n` lines of valid meetings (no rules), dated over many years so the batch lands both after
/// and before the existing log in replay order.
fn meetings(n: usize, tag: &str) -> String {
    let mut s = String::with_capacity(n * 160);
    for i in 0..n {
        let (y, m, d) = (2000 + i % 24, 1 + i % 12, 1 + i % 28);
        s.push_str(&format!(
            r#"{{"type":"meeting_held","date":"{y:04}-{m:02}-{d:02}","organ":"executive_board","place":"{tag}-{i}",{SRC}}}"#
        ));
        s.push('\n');
    }
    s
}

/// Starts `append FILE` (a batch of `n` events), kills it with SIGKILL after `delay` unless it
/// has finished; returns whether it finished by itself (and succeeded). With `readers` (the
/// head before the append), checks half-way that readers answer and see the batch whole or not
/// at all: the head is `readers` or `readers + n`, never between. (Whether the reader runs
/// before or after the commit is not known to the test, so it is not asserted: a commit may
/// land before the child exits.)
fn append_and_kill(db: &Path, file: &Path, n: u64, delay: Duration, readers: Option<u64>) -> bool {
    let mut child: Child = cmd(db)
        .arg("append")
        .arg(file)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let mut probed = readers.is_none();
    while start.elapsed() < delay {
        if !probed && start.elapsed() >= delay / 2 {
            probed = true;
            if let Some(before) = readers {
                ok(db, &["state", "--as-of", "2020-01-01"], b"");
                let h = head(db);
                assert!(
                    h == before || h == before + n,
                    "a reader saw part of a batch: head {h}, expected {before} or {}",
                    before + n
                );
            }
        }
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "append failed by itself: {status:?}");
            return true;
        }
        thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap(); // SIGKILL on Unix
    let status = child.wait().unwrap();
    status.success()
}

/// After a crash: readers answer, `verify` passes, and the head moved by all or nothing.
fn check_all_or_nothing(db: &Path, before: u64, n: u64, what: &str) -> u64 {
    ok(db, &["state", "--as-of", "2020-01-01"], b"");
    ok(db, &["verify"], b"");
    let after = head(db);
    assert!(
        after == before || after == before + n,
        "{what}: head {after}, expected {before} (none) or {} (all)",
        before + n
    );
    after
}

#[test]
fn kill_9_during_a_large_append_leaves_the_whole_batch_or_none_of_it() {
    let n: usize = std::env::var("IOFS_FAULTS_LINES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200_000);
    let dir = tempfile::tempdir().unwrap();
    let db = init(dir.path(), "l.db", false);
    let big = dir.path().join("big.jsonl");
    std::fs::write(&big, meetings(n, "big")).unwrap();
    let mut before = head(&db);
    for ms in [10, 80, 300, 1000, 2500] {
        let finished =
            append_and_kill(&db, &big, n as u64, Duration::from_millis(ms), Some(before));
        let after = check_all_or_nothing(&db, before, n as u64, &format!("killed after {ms} ms"));
        if finished {
            assert_eq!(after, before + n as u64);
        }
        before = after;
    }
}

/// Kills fresh copies of a ledger at fractions of the time an uninterrupted append of the same
/// batch took, so that kills land before, around and after its commit. What the test knows
/// about each run — killed or finished by itself, batch whole or absent — is checked, not the
/// timing: every run leaves all or nothing; a run that finished by itself left all; and the
/// sweep must include a kill that interrupted the append (nothing landed) and a run where the
/// batch landed, or it is extended (shorter and longer delays) until it does, so the runs
/// bracket the commit.
#[test]
fn kill_9_around_the_commit_of_an_append_leaves_the_whole_batch_or_none_of_it() {
    let n = 4000usize;
    let dir = tempfile::tempdir().unwrap();
    let base = init(dir.path(), "base.db", false);
    let before = head(&base);
    let batch = dir.path().join("batch.jsonl");
    std::fs::write(&batch, meetings(n, "commit")).unwrap();
    let mut copies = 0;
    let mut copy = || {
        copies += 1;
        let p = dir.path().join(format!("c{copies}.db"));
        std::fs::copy(&base, &p).unwrap();
        p
    };
    let db = copy();
    let t = Instant::now();
    assert!(append_and_kill(
        &db,
        &batch,
        n as u64,
        Duration::from_secs(600),
        None
    ));
    let full = t.elapsed();
    check_all_or_nothing(&db, before, n as u64, "uninterrupted");
    // (fraction of `full`, finished by itself, batch landed)
    let mut outcomes: Vec<(f64, bool, bool)> = Vec::new();
    let mut fractions = vec![0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1];
    for round in 0..4 {
        for f in &fractions {
            let db = copy();
            let finished = append_and_kill(&db, &batch, n as u64, full.mul_f64(*f), None);
            let after =
                check_all_or_nothing(&db, before, n as u64, &format!("killed at {f} x {full:?}"));
            let landed = after > before;
            if finished {
                assert!(landed, "an append that finished by itself left nothing");
            }
            outcomes.push((*f, finished, landed));
        }
        let interrupted = outcomes.iter().any(|(_, fin, landed)| !fin && !landed);
        let whole = outcomes.iter().any(|(_, _, landed)| *landed);
        if interrupted && whole {
            break;
        }
        assert!(
            round < 3,
            "no run both interrupted an append and saw one land: {outcomes:?}"
        );
        fractions = if interrupted {
            vec![1.5, 2.0, 3.0]
        } else {
            vec![0.05, 0.1, 0.2]
        };
    }
    eprintln!(
        "kill around commit (batch took {full:?}): (fraction, finished, landed) = {outcomes:?}"
    );
}

#[test]
fn kill_9_during_init_leaves_no_ledger_or_a_whole_one() {
    let dir = tempfile::tempdir().unwrap();
    for (i, us) in [0u64, 2_000, 8_000, 20_000, 60_000].iter().enumerate() {
        let db = dir.path().join(format!("i{i}.db"));
        let mut child = cmd(&db)
            .arg("init")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        thread::sleep(Duration::from_micros(*us));
        let _ = child.kill();
        let _ = child.wait();
        if db.exists() {
            ok(&db, &["verify"], b"");
            assert_eq!(head(&db), 142, "a ledger appeared with part of the history");
        }
    }
    // A killed init may leave its temporary file; the next init of that path removes it
    // (and still refuses to overwrite a ledger that did appear).
    for i in 0..5 {
        let db = dir.path().join(format!("i{i}.db"));
        let existed = db.exists();
        let out = run(&db, &["init"], b"");
        assert_eq!(out.status.success(), !existed, "{}", text(&out.stderr));
        ok(&db, &["verify"], b"");
    }
    let litter: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".init-"))
        .collect();
    assert!(
        litter.is_empty(),
        "temporary files of killed inits remain: {litter:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Concurrency
// ---------------------------------------------------------------------------------------------

#[test]
fn concurrent_writers_land_every_event_exactly_once_and_readers_keep_answering() {
    const WRITERS: usize = 8;
    const EVENTS: usize = 200;
    let dir = tempfile::tempdir().unwrap();
    let db = init(dir.path(), "l.db", false);
    let base = head(&db);
    // The writers append claims, which change no state: every answer a reader gets while they
    // run must be exactly this one, and the head only grows, within the events appended.
    let expected = ok(&db, &["state", "--as-of", "2024-06-01", "--json"], b"");
    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let (db, done) = (db.clone(), done.clone());
        thread::spawn(move || {
            let mut answers = 0;
            let mut last = base;
            while !done.load(Ordering::SeqCst) || answers == 0 {
                let s = ok(&db, &["state", "--as-of", "2024-06-01", "--json"], b"");
                assert_eq!(
                    s, expected,
                    "a reader's answer changed while claims were appended"
                );
                let h = head(&db);
                assert!(
                    h >= last && h <= base + (WRITERS * EVENTS) as u64,
                    "the head went from {last} to {h}"
                );
                last = h;
                answers += 1;
            }
            answers
        })
    };
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let db = db.clone();
            thread::spawn(move || {
                // Half the writers run one process per event, half one per batch of ten.
                let per = if w % 2 == 0 { 1 } else { 10 };
                for start in (0..EVENTS).step_by(per) {
                    let mut input = String::new();
                    for i in start..(start + per).min(EVENTS) {
                        input.push_str(&claim(&format!("writer-{w}-event-{i}"), "2024-01-01"));
                        input.push('\n');
                    }
                    ok(&db, &["append"], input.as_bytes());
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    done.store(true, Ordering::SeqCst);
    let answers = reader.join().unwrap();
    assert!(answers > 0);
    let events = chain(&db);
    assert_eq!(events.len(), base as usize + WRITERS * EVENTS);
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for e in &events {
        if let Some(v) = e["value"].as_str().filter(|v| v.starts_with("writer-")) {
            *seen.entry(v.to_string()).or_default() += 1;
        }
    }
    assert_eq!(seen.len(), WRITERS * EVENTS);
    assert!(seen.values().all(|n| *n == 1), "an event landed twice");
    let hashes: HashSet<&str> = events.iter().map(|e| e["hash"].as_str().unwrap()).collect();
    assert_eq!(hashes.len(), events.len());
    ok(&db, &["verify"], b"");
    eprintln!("readers answered {answers} times during the appends");
}

#[test]
fn a_writer_that_cannot_get_the_lock_in_time_fails_clearly_and_appends_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = init(dir.path(), "l.db", false);
    let before = snapshot(&db);
    let holder = rusqlite::Connection::open(&db).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    let input = claim("blocked", "2024-01-01");
    for (timeout, min) in [("0", 0.0), ("1", 0.9)] {
        let t = Instant::now();
        let err = fails(
            &db,
            &["--lock-timeout", timeout, "append"],
            input.as_bytes(),
        );
        let took = t.elapsed().as_secs_f64();
        assert!(err.contains("lock"), "{err}");
        assert!(took >= min && took < min + 10.0, "took {took} s");
    }
    // Readers are not blocked by the writer's lock.
    ok(&db, &["state", "--as-of", "2020-01-01"], b"");
    // A writer with time to wait gets the lock once it is released.
    let waiting = {
        let db = db.clone();
        let input = input.clone();
        thread::spawn(move || run(&db, &["--lock-timeout", "20", "append"], input.as_bytes()))
    };
    thread::sleep(Duration::from_millis(700));
    holder.execute_batch("ROLLBACK").unwrap();
    drop(holder);
    let out = waiting.join().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let after = snapshot(&db);
    assert_eq!(
        after.0.lines().count(),
        before.0.lines().count() + 1,
        "the timed-out writers appended something"
    );
    assert!(after.0.starts_with(&before.0));
    ok(&db, &["verify"], b"");
}

// ---------------------------------------------------------------------------------------------
// Unusable files
// ---------------------------------------------------------------------------------------------

/// `append`, `state` and `verify` on `db` each exit 1 with a message containing one of
/// `expect`, and leave the file's bytes (or the directory's listing) unchanged.
fn refused_untouched(db: &Path, expect: &[&str]) {
    let snap = |p: &Path| -> Vec<u8> {
        if p.is_dir() {
            let mut names: Vec<String> = std::fs::read_dir(p)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            names.join("\n").into_bytes()
        } else {
            std::fs::read(p).unwrap()
        }
    };
    let before = snap(db);
    let input = claim("x", "2020");
    for args in [
        &["append"][..],
        &["state", "--as-of", "2020-01-01"][..],
        &["verify"][..],
    ] {
        let err = fails(db, args, input.as_bytes());
        assert!(
            expect.iter().any(|e| err.contains(e)),
            "{}: `{}` said {err:?}, expected one of {expect:?}",
            db.display(),
            args[0]
        );
        assert!(
            snap(db) == before,
            "{}: `{}` changed the file",
            db.display(),
            args[0]
        );
    }
}

#[test]
fn a_directory_in_place_of_the_ledger_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("l.db");
    std::fs::create_dir(&db).unwrap();
    refused_untouched(&db, &["directory"]);
}

#[test]
fn an_empty_file_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("l.db");
    std::fs::write(&db, b"").unwrap();
    refused_untouched(&db, &["empty"]);
}

#[test]
fn a_random_bytes_file_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("l.db");
    let bytes: Vec<u8> = (0..100_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&db, bytes).unwrap();
    refused_untouched(
        &db,
        &["not an SQLite database", "not an iofs-ledger database"],
    );
}

#[test]
fn a_foreign_sqlite_file_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("l.db");
    let c = rusqlite::Connection::open(&db).unwrap();
    c.execute_batch("CREATE TABLE events (seq INTEGER PRIMARY KEY, body TEXT); INSERT INTO events VALUES (1, 'x');")
        .unwrap();
    drop(c);
    refused_untouched(&db, &["not an iofs-ledger database"]);
}

#[test]
fn a_ledger_with_a_newer_schema_version_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let db = init(dir.path(), "l.db", false);
    let c = rusqlite::Connection::open(&db).unwrap();
    c.execute_batch("PRAGMA user_version = 99;").unwrap();
    drop(c);
    refused_untouched(&db, &["newer", "schema version"]);
}

/// The schema version is read from the open database, not from the file's header: a newer
/// version committed to the WAL but not yet checkpointed into the file is refused too, and the
/// refusal does not checkpoint it either.
#[test]
fn a_newer_schema_version_still_only_in_the_wal_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let db = init(dir.path(), "l.db", false);
    let c = rusqlite::Connection::open(&db).unwrap();
    c.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
        true,
    )
    .unwrap();
    c.execute_batch("PRAGMA wal_autocheckpoint = 0; PRAGMA user_version = 99;")
        .unwrap();
    drop(c);
    let bytes = std::fs::read(&db).unwrap();
    let in_header = i32::from_be_bytes([bytes[60], bytes[61], bytes[62], bytes[63]]);
    assert!(in_header < 99, "the file's header already says {in_header}");
    assert!(dir.path().join("l.db-wal").exists());
    refused_untouched(&db, &["newer", "schema version"]);
}

/// Turns a current ledger file back into schema version 1 (before state snapshots): the
/// tables and indexes that version had, its version number, and no snapshots.
fn downgrade_to_version_1(db: &Path) {
    let c = rusqlite::Connection::open(db).unwrap();
    c.execute_batch(
        "DROP TABLE state_snapshots;
         DROP INDEX timeline_by_position;
         CREATE INDEX timeline_by_position ON timeline (day, ord);
         DROP TABLE windows;
         CREATE TABLE windows (day INTEGER NOT NULL, ord INTEGER NOT NULL, start INTEGER NOT NULL,
             seq INTEGER NOT NULL, PRIMARY KEY (day, ord)) WITHOUT ROWID;
         CREATE INDEX windows_by_start ON windows (start);
         PRAGMA user_version = 1;",
    )
    .unwrap();
}

fn user_version(db: &Path) -> i64 {
    let c = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap();
    c.query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn a_ledger_of_an_older_schema_refuses_state_until_a_writer_upgrades_it_whole() {
    let dir = tempfile::tempdir().unwrap();
    let db = init(dir.path(), "l.db", false);
    let days = ["2016-06-30", "2019-01-01", "2024-12-31"];
    let before: Vec<String> = days
        .iter()
        .map(|d| ok(&db, &["state", "--as-of", d, "--json"], b""))
        .collect();
    downgrade_to_version_1(&db);
    // A read-only command cannot upgrade it: it says so and what to run, and writes nothing.
    let bytes = std::fs::read(&db).unwrap();
    let err = fails(&db, &["state", "--as-of", "2020-01-01"], b"");
    assert!(
        err.contains("older") && err.contains("rebuild"),
        "no upgrade advice: {err}"
    );
    assert_eq!(
        std::fs::read(&db).unwrap(),
        bytes,
        "a refused read changed the file"
    );
    // Its log stays readable, and `verify` checks the chain as it is, says the read models are
    // not this version's to compare, and does not upgrade the file behind the user's back.
    let log = ok(&db, &["log", "--json"], b"");
    assert!(
        log.lines().count() > 100,
        "the log of an older file is readable"
    );
    ok(&db, &["export"], b"");
    let v = run(&db, &["verify"], b"");
    let said = format!("{}{}", text(&v.stdout), text(&v.stderr));
    assert_eq!(v.status.code(), Some(1), "{said}");
    assert!(
        said.contains("not checked") && said.contains("older") && !said.contains("hash"),
        "{said}"
    );
    assert_eq!(
        std::fs::read(&db).unwrap(),
        bytes,
        "verify changed an older file"
    );
    assert_eq!(user_version(&db), 1);
    // `rebuild` upgrades it; every answer is as before and the file verifies.
    ok(&db, &["rebuild"], b"");
    assert!(user_version(&db) >= 2);
    for (d, b) in days.iter().zip(&before) {
        assert_eq!(
            &ok(&db, &["state", "--as-of", d, "--json"], b""),
            b,
            "at {d}"
        );
    }
    ok(&db, &["verify"], b"");
    // An append upgrades it too, in the same way.
    downgrade_to_version_1(&db);
    ok(&db, &["append"], claim("upgrade", "2020").as_bytes());
    assert!(user_version(&db) >= 2);
    for (d, b) in days.iter().zip(&before) {
        let now: Value =
            serde_json::from_str(&ok(&db, &["state", "--as-of", d, "--json"], b"")).unwrap();
        let was: Value = serde_json::from_str(b).unwrap();
        assert_eq!(now["members"], was["members"], "at {d}");
    }
    ok(&db, &["verify"], b"");
}

/// An older file whose log no longer replays (a damaged body) cannot be upgraded; it must still
/// open, and `verify` must name the damaged seq rather than send the user in a circle.
#[test]
fn an_older_file_whose_log_does_not_replay_still_opens_and_verify_names_the_seq() {
    let dir = tempfile::tempdir().unwrap();
    let db = init(dir.path(), "l.db", false);
    downgrade_to_version_1(&db);
    let c = rusqlite::Connection::open(&db).unwrap();
    c.execute_batch(
        "DROP TRIGGER events_append_only_update;
         UPDATE events SET body = '{garbage' WHERE seq = 5;",
    )
    .unwrap();
    drop(c);
    let err = fails(&db, &["rebuild"], b"");
    assert!(err.contains('5'), "{err}");
    assert_eq!(
        user_version(&db),
        1,
        "a failed upgrade left the old version whole"
    );
    let v = run(&db, &["verify"], b"");
    let said = format!("{}{}", text(&v.stdout), text(&v.stderr));
    assert_eq!(v.status.code(), Some(1), "{said}");
    assert!(
        said.contains("seq 5"),
        "verify does not name the damaged seq: {said}"
    );
    ok(&db, &["head"], b"");
}

#[test]
fn a_truncated_ledger_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let db = init(dir.path(), "whole.db", false);
    let bytes = std::fs::read(&db).unwrap();
    for cut in [10, 100, 4096, bytes.len() / 2, bytes.len() - 4096] {
        let t = dir.path().join(format!("cut{cut}.db"));
        std::fs::write(&t, &bytes[..cut]).unwrap();
        refused_untouched(
            &t,
            &[
                "not an iofs-ledger database",
                "malformed",
                "corrupt",
                "unreadable",
            ],
        );
    }
}

/// Gives up on a case the environment cannot run: a note on stderr locally, a failure under
/// CI (`CI=true`), where a skipped case would pass unseen.
fn skip(why: &str) {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("cannot run under CI: {why}");
    }
    eprintln!("SKIPPED: {why}");
}

fn running_as_root(dir: &Path) -> bool {
    let probe = dir.join("probe");
    std::fs::write(&probe, b"x").unwrap();
    let mut p = std::fs::metadata(&probe).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut p, 0o444);
    std::fs::set_permissions(&probe, p).unwrap();
    std::fs::OpenOptions::new().write(true).open(&probe).is_ok()
}

#[test]
fn a_read_only_ledger_refuses_appends_clearly_and_is_left_untouched() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let db = init(dir.path(), "l.db", false);
    for side in ["l.db-wal", "l.db-shm"] {
        let _ = std::fs::remove_file(dir.path().join(side));
    }
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o444)).unwrap();
    let before = std::fs::read(&db).unwrap();
    // As root, chmod does not stop writes: run the binary as `nobody` instead, if we can.
    let root = running_as_root(dir.path());
    let run_as = |args: &[&str], stdin: &[u8]| -> Option<Output> {
        let mut c = cmd(&db);
        c.args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if root {
            c.uid(65534).gid(65534);
        }
        let mut child = match c.spawn() {
            Ok(c) => c,
            Err(e) => {
                skip(&format!(
                    "read-only case: cannot run as an unprivileged user ({e})"
                ));
                return None;
            }
        };
        let _ = child.stdin.take().unwrap().write_all(stdin);
        Some(child.wait_with_output().unwrap())
    };
    let Some(out) = run_as(&["append"], claim("ro", "2020").as_bytes()) else {
        return;
    };
    let err = text(&out.stderr);
    if root && out.status.code() == Some(0) {
        skip("read-only case: the unprivileged child could still write");
        return;
    }
    assert_eq!(
        out.status.code(),
        Some(1),
        "append to a read-only ledger: {err}"
    );
    assert!(
        err.starts_with("iofs-ledger: error: ")
            && (err.contains("read-only") || err.contains("readonly")),
        "append to a read-only ledger should say it is read-only: {err}"
    );
    // Reading needs no write access: `state` answers and `verify` checks the whole ledger (its
    // read models on a scratch copy), both exiting 0.
    let out = run_as(&["state", "--as-of", "2020-01-01", "--json"], b"").unwrap();
    assert_eq!(out.status.code(), Some(0), "state: {}", text(&out.stderr));
    let s: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s["as_of"], "2020-01-01");
    assert!(s["members"]["count"].as_u64().is_some_and(|n| n > 0), "{s}");
    let out = run_as(&["verify"], b"").unwrap();
    assert_eq!(out.status.code(), Some(0), "verify: {}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with("ok: "),
        "verify: {}",
        text(&out.stdout)
    );
    assert!(
        std::fs::read(&db).unwrap() == before,
        "the read-only file changed"
    );
}

// ---------------------------------------------------------------------------------------------
// Malformed input
// ---------------------------------------------------------------------------------------------

fn line(body: &str) -> String {
    format!("{{{body},{SRC}}}")
}

/// One bad input: appended after a valid first line (so the bad one is line 2) unless it is a
/// whole array; must be refused naming `place` and `field`, leaving the ledger unchanged.
struct Bad {
    name: &'static str,
    input: Vec<u8>,
    place: &'static str,
    field: Option<&'static str>,
    says: &'static str,
}

fn bad_line(
    name: &'static str,
    bad: &[u8],
    field: Option<&'static str>,
    says: &'static str,
) -> Bad {
    let mut input = claim("valid first line", "2020").into_bytes();
    input.push(b'\n');
    input.extend_from_slice(bad);
    input.push(b'\n');
    input.extend_from_slice(claim("valid last line", "2020").as_bytes());
    input.push(b'\n');
    Bad {
        name,
        input,
        place: "line 2",
        field,
        says,
    }
}

fn malformed_inputs() -> Vec<Bad> {
    let ten_mb = "x".repeat(10 << 20);
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    vec![
        bad_line(
            "bad UTF-8",
            &[b"{\"type\":\"claim\",\"date\":\"2020\",\"about\":\"statement\",\"value\":\"".as_slice(), b"\xff\xfe", b"\",", SRC.as_bytes(), b"}"].concat(),
            None,
            "UTF-8",
        ),
        bad_line(
            "a 10 MB line with an unknown field",
            line(&format!(r#""type":"claim","date":"2020","about":"statement","value":"v","note":"{ten_mb}","colour":1"#)).as_bytes(),
            Some("colour"),
            "unknown field",
        ),
        bad_line("a 10 MB line of garbage", ten_mb.as_bytes(), None, "malformed JSON"),
        bad_line(
            "JSON nested 100000 levels deep",
            line(&format!(r#""type":"claim","date":"2020","about":"statement","value":{deep}"#)).as_bytes(),
            None,
            "recursion limit",
        ),
        Bad {
            name: "an array nested 100000 levels deep",
            input: deep.clone().into_bytes(),
            place: "line 1",
            field: None,
            says: "recursion limit",
        },
        bad_line(
            "duplicate keys",
            line(r#""type":"statute_signed","party":"KAZ","party":"SAU","date":"2013""#).as_bytes(),
            None,
            "duplicate key `party`",
        ),
        bad_line(
            "duplicate keys in the source",
            br#"{"type":"statute_adopted","date":"2013","source":{"document":"a","document":"b","quote":"q"}}"#,
            None,
            "duplicate key `document`",
        ),
        bad_line("a number for a party", line(r#""type":"statute_signed","party":5,"date":"2013""#).as_bytes(), Some("party"), "party"),
        bad_line("a number for a date", line(r#""type":"statute_signed","party":"KAZ","date":2013"#).as_bytes(), Some("date"), "date"),
        bad_line("a string for a session", line(r#""type":"meeting_held","organ":"general_assembly","session":"one","date":"2013""#).as_bytes(), Some("session"), "session"),
        bad_line("a string for a flag", line(r#""type":"meeting_held","organ":"general_assembly","online":"yes","date":"2013""#).as_bytes(), Some("online"), "online"),
        bad_line("a string for a count", line(r#""type":"claim","about":"member_count","value":"ten","date":"2013""#).as_bytes(), Some("value"), "value"),
        bad_line("an object for seats", line(r#""type":"board_elected","organ":"executive_board","seats":{},"date":"2013""#).as_bytes(), Some("seats"), "seats"),
        bad_line("a string for a source", br#"{"type":"statute_adopted","date":"2013","source":"doc.txt"}"#, Some("source"), "source"),
        bad_line("an empty quote", br#"{"type":"statute_adopted","date":"2013","source":{"document":"d","quote":" "}}"#, Some("source"), "quote"),
        bad_line("29 February 2023", line(r#""type":"statute_signed","party":"KAZ","date":"2023-02-29""#).as_bytes(), Some("date"), "2023-02-29"),
        bad_line("year 0000", line(r#""type":"statute_signed","party":"KAZ","date":"0000-01-01""#).as_bytes(), Some("date"), "0000-01-01"),
        bad_line("a date in the future", line(r#""type":"statute_signed","party":"KAZ","date":"2999-01-01""#).as_bytes(), Some("date"), "after the day of recording"),
        bad_line("an end date in the future", line(r#""type":"meeting_held","organ":"general_assembly","date":"2020","end_date":"2999-01-01""#).as_bytes(), Some("end_date"), "after the day of recording"),
        bad_line("bounds in the future", line(r#""type":"statute_signed","party":"KAZ","date":{"not_before":"2998","not_after":"2999"}"#).as_bytes(), Some("date"), "after the day of recording"),
        bad_line("reversed bounds", line(r#""type":"statute_signed","party":"KAZ","date":{"not_before":"2015","not_after":"2014"}"#).as_bytes(), Some("date"), "out of order"),
        bad_line("an unknown type", line(r#""type":"statute_stolen","date":"2013""#).as_bytes(), Some("type"), "statute_stolen"),
        bad_line("an unknown field", line(r#""type":"statute_signed","party":"KAZ","date":"2013","colour":"red""#).as_bytes(), Some("colour"), "colour"),
        bad_line("seq set in input", line(r#""type":"statute_signed","party":"KAZ","date":"2013","seq":7"#).as_bytes(), Some("seq"), "set by the store"),
        bad_line("recorded_at set in input", line(r#""type":"statute_signed","party":"KAZ","date":"2013","recorded_at":"2020-01-01T00:00:00.000000Z""#).as_bytes(), Some("recorded_at"), "set by the store"),
        bad_line("hash set in input", line(r#""type":"statute_signed","party":"KAZ","date":"2013","hash":"00""#).as_bytes(), Some("hash"), "set by the store"),
        bad_line("an unknown party", line(r#""type":"statute_signed","party":"USA","date":"2013""#).as_bytes(), Some("party"), "unknown party"),
        bad_line("a line that is not an object", b"[1, 2]", None, "JSON object"),
        bad_line("a NUL byte", b"\0", None, "malformed JSON"),
        Bad {
            name: "an array with a bad element",
            input: format!("[{}, {}]", claim("ok", "2020"), line(r#""type":"statute_signed","party":7,"date":"2013""#)).into_bytes(),
            place: "array index 1",
            field: Some("party"),
            says: "party",
        },
        Bad {
            name: "an array with bad UTF-8",
            input: [format!("[{}, \"", claim("ok", "2020")).as_bytes(), b"\xff", b"\"]"].concat(),
            place: "",
            field: None,
            says: "UTF-8",
        },
    ]
}

#[test]
fn malformed_input_of_every_kind_is_refused_naming_line_and_field_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = init(dir.path(), "l.db", false);
    let before = snapshot(&db);
    let bytes = std::fs::read(&db).unwrap();
    let mut problems = Vec::new();
    for b in malformed_inputs() {
        let out = run(&db, &["append"], &b.input);
        let err = text(&out.stderr);
        let mut wrong = Vec::new();
        if out.status.code() != Some(1) {
            wrong.push(format!("exit {:?}", out.status.code()));
        }
        if !err.starts_with("iofs-ledger: error: ") {
            wrong.push("no error message".into());
        }
        if !err.contains(b.place) {
            wrong.push(format!("does not name {}", b.place));
        }
        if let Some(f) = b.field {
            if !err.contains(&format!("field `{f}`")) {
                wrong.push(format!("does not name field `{f}`"));
            }
        }
        if !err.contains(b.says) {
            wrong.push(format!("does not say {:?}", b.says));
        }
        if !wrong.is_empty() {
            let shown: String = err.chars().take(400).collect();
            problems.push(format!(
                "{}: {} — stderr: {shown}",
                b.name,
                wrong.join(", ")
            ));
        }
        assert_eq!(snapshot(&db), before, "{}: the ledger changed", b.name);
        assert!(
            std::fs::read(&db).unwrap() == bytes,
            "{}: the file changed",
            b.name
        );
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
    ok(&db, &["verify"], b"");
}

/// Regression (format contract): `docs/event-format.md` says a `session` is a positive integer; a
/// session of 0 used to be accepted (on `meeting_held` and `document_adopted`).
#[test]
fn a_session_of_zero_is_refused_as_the_format_says() {
    let dir = tempfile::tempdir().unwrap();
    let db = init(dir.path(), "l.db", true);
    for body in [
        r#""type":"meeting_held","organ":"general_assembly","session":0,"date":"2020""#,
        r#""type":"document_adopted","title":"t","organ":"general_assembly","session":0,"date":"2020""#,
    ] {
        let err = fails(&db, &["append"], line(body).as_bytes());
        assert!(err.contains("field `session`"), "{err}");
    }
    assert_eq!(head(&db), 0);
}
