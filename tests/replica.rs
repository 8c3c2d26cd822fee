//! Exact replicas (issue 16, item 3): `import` reads another ledger's `log --json` and keeps
//! each event's seq, recorded_at and hash, so a replica has the same head and answers every
//! question, `--known-at` included, the same; re-running a catch-up is harmless; a gap, a fork
//! or a hash that does not chain is refused naming the seq, writing nothing. `backup` copies a
//! ledger while writers go on.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Stdio;

use assert_cmd::Command;
use predicates::prelude::*;

fn cmd(db: &Path) -> Command {
    let mut c = Command::cargo_bin("iofs-ledger").unwrap();
    c.env_remove("IOFS_LEDGER_DB")
        .env_remove("IOFS_LEDGER_CLOCK")
        .arg("--db")
        .arg(db);
    c
}

fn empty(dir: &Path, name: &str) -> PathBuf {
    let db = dir.join(name);
    cmd(&db).args(["init", "--empty"]).assert().success();
    db
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

/// `n` lines of a valid synthetic history, split at `at`.
fn synth(n: usize, at: usize) -> (String, String) {
    let mut buf = Vec::new();
    iofs_ledger::synth::write_jsonl(&mut buf, n, 7).unwrap();
    let text = String::from_utf8(buf).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    (lines[..at].join("\n"), lines[at..].join("\n"))
}

fn log_after(db: &Path, after: u64) -> String {
    stdout(cmd(db).args(["log", "--json", "--after", &after.to_string()]))
}

fn head(db: &Path) -> String {
    stdout(cmd(db).arg("head")).trim().to_string()
}

fn import(db: &Path, input: &str) -> assert_cmd::assert::Assert {
    cmd(db).args(["import", "-"]).write_stdin(input).assert()
}

/// Every answer the two ledgers give, side by side.
fn answers(db: &Path, known_at: &str) -> Vec<String> {
    let mut out = vec![log_after(db, 0), head(db)];
    for day in ["1990-01-01", "2015-06-30", "2030-01-01"] {
        out.push(stdout(cmd(db).args(["state", "--json", "--as-of", day])));
        out.push(stdout(cmd(db).args([
            "state",
            "--json",
            "--as-of",
            day,
            "--known-at",
            known_at,
        ])));
    }
    out.push(stdout(cmd(db).args(["head", "--known-at", known_at])));
    out.push(stdout(cmd(db).args(["audit", "--json"])));
    out
}

#[test]
fn a_replica_caught_up_twice_has_the_same_head_and_answers_and_rerunning_is_harmless() {
    let dir = tempfile::tempdir().unwrap();
    let source = empty(dir.path(), "source.db");
    let replica = empty(dir.path(), "replica.db");
    let (first, second) = synth(400, 250);
    cmd(&source)
        .arg("append")
        .write_stdin(first)
        .assert()
        .success();
    let first_recorded: serde_json::Value =
        serde_json::from_str(&stdout(cmd(&source).args(["head", "--json"]))).unwrap();
    let t0 = first_recorded["recorded_at"].as_str().unwrap().to_string();

    import(&replica, &log_after(&source, 0))
        .success()
        .stdout(predicate::str::contains(
            "imported seq 1..250 (250 events, 0 already held)",
        ));
    assert_eq!(head(&replica), head(&source));

    // The source grows; the replica catches up from its own head, then runs the same catch-up
    // again (and a full re-import): nothing changes.
    cmd(&source)
        .arg("append")
        .write_stdin(second)
        .assert()
        .success();
    import(&replica, &log_after(&source, 250))
        .success()
        .stdout(predicate::str::contains("imported seq 251..400"));
    import(&replica, &log_after(&source, 250))
        .success()
        .stdout(predicate::str::contains("imported nothing"));
    import(&replica, &log_after(&source, 0)).success();
    assert_eq!(answers(&replica, &t0), answers(&source, &t0));
    cmd(&replica).arg("verify").assert().success();

    // The receipt as JSON.
    let r: serde_json::Value = serde_json::from_str(&stdout(
        cmd(&replica)
            .args(["import", "--json", "-"])
            .write_stdin(log_after(&source, 390)),
    ))
    .unwrap();
    assert_eq!(r["imported"], 0);
    assert_eq!(r["skipped"], 10);
    assert_eq!(r["head"].as_str().unwrap(), head(&source));
}

#[test]
fn a_forked_log_a_gap_and_a_hash_that_does_not_chain_are_refused_naming_the_seq() {
    let dir = tempfile::tempdir().unwrap();
    let source = empty(dir.path(), "source.db");
    let (first, _) = synth(60, 60);
    cmd(&source)
        .arg("append")
        .write_stdin(first)
        .assert()
        .success();
    let log = log_after(&source, 0);
    let lines: Vec<&str> = log.lines().collect();

    // A gap: the replica is empty, the input starts at seq 11.
    let replica = empty(dir.path(), "gap.db");
    import(&replica, &lines[10..].join("\n")).code(1).stderr(
        predicate::str::contains("import refused at seq 11")
            .and(predicate::str::contains("the next event must be seq 1")),
    );
    assert_eq!(head(&replica), head(&empty(dir.path(), "fresh.db")));

    // A fork: the replica holds the first 30, then a different seq 31.
    let fork = empty(dir.path(), "fork.db");
    import(&fork, &lines[..30].join("\n")).success();
    cmd(&fork)
        .arg("append")
        .write_stdin(r#"{"type":"statute_signed","party":"BRN","date":"2000-01-01","source":{"document":"t.txt","quote":"Brunei signed."}}"#)
        .assert()
        .success();
    let before = head(&fork);
    import(&fork, &log).code(1).stderr(
        predicate::str::contains("import refused at seq 31")
            .and(predicate::str::contains("forked")),
    );
    assert_eq!(head(&fork), before);

    // A hash that does not chain, and an event changed in transit.
    for (i, damage) in [("hash", "0"), ("quote", "A changed sentence.")]
        .iter()
        .enumerate()
    {
        let target = empty(dir.path(), &format!("damaged{i}.db"));
        let mut v: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        let mut obj: serde_json::Value = serde_json::from_str(&v[40]).unwrap();
        match damage.0 {
            "hash" => obj["hash"] = serde_json::json!("0".repeat(64)),
            _ => obj["source"]["quote"] = serde_json::json!(damage.1),
        }
        v[40] = obj.to_string();
        import(&target, &v.join("\n")).code(1).stderr(
            predicate::str::contains("import refused at seq 41")
                .and(predicate::str::contains("does not chain")),
        );
        assert!(stdout(cmd(&target).arg("head")).starts_with("0:"));
    }
}

#[test]
fn backup_copies_a_consistent_ledger_while_an_append_runs_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let source = empty(dir.path(), "source.db");
    let (first, second) = synth(6000, 1000);
    cmd(&source)
        .arg("append")
        .write_stdin(first)
        .assert()
        .success();
    let input = dir.path().join("second.jsonl");
    std::fs::write(&input, second).unwrap();
    let bin = assert_cmd::cargo::cargo_bin("iofs-ledger");
    let mut writer = std::process::Command::new(&bin)
        .env_remove("IOFS_LEDGER_CLOCK")
        .arg("--db")
        .arg(&source)
        .arg("append")
        .arg(&input)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let copy = dir.path().join("copy.db");
    cmd(&source)
        .arg("backup")
        .arg(&copy)
        .assert()
        .success()
        .stdout(predicate::str::contains("backed up"));
    assert!(writer.wait().unwrap().success());
    // The copy is whole: either before the append or after it, and it verifies.
    let h = stdout(cmd(&copy).arg("head"));
    assert!(h.starts_with("1000:") || h.starts_with("6000:"), "{h}");
    cmd(&copy).arg("verify").assert().success();
    // Never overwrites.
    let before = std::fs::read(&copy).unwrap();
    cmd(&source)
        .arg("backup")
        .arg(&copy)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("already exists"));
    assert_eq!(std::fs::read(&copy).unwrap(), before);
}

/// One append of more events than an import appends in one go (4096) arrives whole and
/// identical; a malformed line anywhere in the input writes nothing and names the line.
#[test]
fn a_batch_longer_than_an_import_chunk_arrives_whole_and_a_malformed_line_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let source = empty(dir.path(), "source.db");
    let (all, _) = synth(5000, 5000);
    cmd(&source)
        .arg("append")
        .write_stdin(all)
        .assert()
        .success();
    let log = log_after(&source, 0);

    let bad = empty(dir.path(), "bad.db");
    let mut lines: Vec<&str> = log.lines().collect();
    lines[4500] = "{not json";
    import(&bad, &lines.join("\n"))
        .code(1)
        .stderr(predicate::str::contains(
            "import refused at input line 4501",
        ));
    assert!(head(&bad).starts_with("0:"));

    let replica = empty(dir.path(), "replica.db");
    import(&replica, &log)
        .success()
        .stdout(predicate::str::contains("imported seq 1..5000"));
    assert_eq!(log_after(&replica, 0), log);
    cmd(&replica).arg("verify").assert().success();
}
