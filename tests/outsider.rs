//! Findings of an outside attack on the replica commands and the completions, one test each,
//! driving the real binary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs::{File, OpenOptions};
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_iofs-ledger"))
}

fn run(db: &Path, args: &[&str]) -> Output {
    bin().arg("--db").arg(db).args(args).output().unwrap()
}

/// Runs with standard output on `/dev/full`: every write fails with "no space left".
fn run_full(db: &Path, args: &[&str], stdin: Option<&Path>) -> Output {
    let full = OpenOptions::new().write(true).open("/dev/full").unwrap();
    let mut c = bin();
    c.arg("--db").arg(db).args(args).stdout(Stdio::from(full));
    if let Some(p) = stdin {
        c.stdin(Stdio::from(File::open(p).unwrap()));
    }
    c.output().unwrap()
}

fn head(db: &Path) -> String {
    String::from_utf8(run(db, &["head"]).stdout).unwrap()
}

/// `backup` never builds its copy beside a `-wal` or `-shm` left by an earlier file of the
/// same name (it would be read through the copy): refused, naming it, nothing created.
#[test]
fn backup_beside_a_leftover_wal_is_refused_and_creates_nothing() {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("l.db");
    assert!(run(&db, &["init"]).status.success());
    let dest = t.path().join("copy.db");
    for junk in ["copy.db-wal", "copy.db-shm"] {
        std::fs::write(t.path().join(junk), b"left behind").unwrap();
        let out = run(&db, &["backup", dest.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(junk), "{err}");
        assert!(!dest.exists(), "a copy was made beside {junk}");
        std::fs::remove_file(t.path().join(junk)).unwrap();
    }
    assert!(run(&db, &["backup", dest.to_str().unwrap()])
        .status
        .success());
    assert_eq!(head(&dest), head(&db));
}

/// A change that stands but whose report cannot be written is exit 3 with the head on
/// stderr, never 1 ("nothing was changed"), for `import`, `backup` and `rebuild` as for `append`.
#[test]
fn import_backup_and_rebuild_that_cannot_report_exit_3_naming_the_head() {
    let t = tempfile::tempdir().unwrap();
    let src = t.path().join("src.db");
    assert!(run(&src, &["init"]).status.success());
    let log = t.path().join("log.jsonl");
    std::fs::write(&log, run(&src, &["log", "--json"]).stdout).unwrap();

    let replica = t.path().join("replica.db");
    assert!(run(&replica, &["init", "--empty"]).status.success());
    let out = run_full(&replica, &["import", "-"], Some(&log));
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let h = head(&src);
    assert_eq!(head(&replica), h, "the import stands");
    assert!(String::from_utf8_lossy(&out.stderr).contains(h.trim()));

    let dest = t.path().join("b.db");
    let out = run_full(&src, &["backup", dest.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(3));
    assert!(dest.exists());
    assert!(String::from_utf8_lossy(&out.stderr).contains(h.trim()));

    let out = run_full(&src, &["rebuild"], None);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains(h.trim()));
}

/// `completions` to an output that cannot be written fails cleanly (exit 1), never panics.
#[test]
fn completions_to_a_full_output_fail_without_a_panic() {
    let t = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish"] {
        let out = run_full(&t.path().join("x.db"), &["completions", shell], None);
        assert_eq!(out.status.code(), Some(1), "{shell}");
        assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
    }
}

/// `import` of an input with no events is refused as `append`'s is (exit 1, nothing changed,
/// `--allow-empty` to accept it), and takes `--lock-timeout` after the subcommand as `append`
/// does.
#[test]
fn import_refuses_an_empty_input_and_takes_lock_timeout_after_the_command() {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("l.db");
    assert!(run(&db, &["init"]).status.success());
    let before = head(&db);
    let empty = t.path().join("empty.jsonl");
    std::fs::write(&empty, "\n  \n").unwrap();
    let e = empty.to_str().unwrap();
    let out = run(&db, &["import", e]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("holds no events") && err.contains("--allow-empty"),
        "{err}"
    );
    assert_eq!(head(&db), before);
    let out = run(&db, &["import", "--allow-empty", "--lock-timeout", "2", e]);
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("imported nothing"));
    assert_eq!(head(&db), before);
}

/// `--version` and `--help` that cannot be written (standard output on a full disk) fail with
/// exit 1 and the reason, instead of exit 0 with nothing printed.
#[test]
fn version_and_help_to_a_full_output_exit_1() {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("l.db");
    for args in [
        &["--version"][..],
        &["-V"],
        &["--help"],
        &["state", "--help"],
    ] {
        let out = run_full(&db, args, None);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {out:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("cannot write output"),
            "{args:?}: {out:?}"
        );
    }
    assert!(run(&db, &["--version"]).status.success());
}

/// A clock at the end of year 9999 cannot push `recorded_at` past its fixed width: the append
/// that would stamp year 10000 is refused, naming the field, and the log is unchanged.
#[test]
fn an_append_that_would_stamp_year_10000_is_refused() {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("l.db");
    assert!(run(&db, &["init", "--empty"]).status.success());
    let one = t.path().join("one.jsonl");
    let line = |p: &str| {
        format!(
            r#"{{"type":"statute_signed","date":"2020","party":"unidentified:{p}","source":{{"document":"d","quote":"q"}}}}"#
        )
    };
    let append = |p: &str| {
        std::fs::write(&one, line(p)).unwrap();
        bin()
            .arg("--db")
            .arg(&db)
            .args(["append", one.to_str().unwrap()])
            .env("IOFS_LEDGER_CLOCK", "9999-12-31T23:59:59.999999Z")
            .output()
            .unwrap()
    };
    assert!(append("a").status.success());
    let before = head(&db);
    let out = append("b");
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("recorded_at") && err.contains("9999"), "{err}");
    assert_eq!(head(&db), before);
}
