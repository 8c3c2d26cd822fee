//! Opening, locking and catching up (`src/store/mod.rs`), where a mutation survived the suite
//! (see `docs/testing.md`, "Mutation testing"): what the CLI tests see only through a message
//! that any wording with "lock" in it satisfies, or not at all.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use iofs_ledger::event::parse_batch;
use iofs_ledger::store::{Access, AppendOptions, Ledger, StoreError};
use serde_json::json;

fn claim_line() -> String {
    json!({"type": "claim", "date": "2024-01-01", "about": "statement", "value": "v",
        "source": {"document": "d.txt", "quote": "q"}})
    .to_string()
}

fn new_ledger(dir: &Path) -> PathBuf {
    let db = dir.join("l.db");
    Ledger::create(&db, |_| Ok(())).unwrap();
    db
}

fn append_claim(l: &mut Ledger) -> Result<(), StoreError> {
    let events = parse_batch(&claim_line()).unwrap();
    l.append(events.into_iter().map(Ok), AppendOptions::default())
        .map(|_| ())
}

/// A writer that cannot take the lock within its timeout gets `StoreError::Busy` (the message
/// that says another writer holds the lock and nothing was written), not a database error; once
/// the lock is free the same append goes through.
#[test]
fn a_writer_kept_from_the_lock_is_told_busy_and_appends_once_it_is_free() {
    let dir = tempfile::tempdir().unwrap();
    let db = new_ledger(dir.path());
    let holder = rusqlite::Connection::open(&db).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    let mut l = Ledger::open(&db, Access::ReadWrite).unwrap();
    l.set_busy_timeout(Duration::from_millis(50)).unwrap();
    let started = std::time::Instant::now();
    let err = append_claim(&mut l).unwrap_err();
    // Told to wait 50 ms, it does not wait the default 30 s (a bound, not a speed).
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert!(matches!(err, StoreError::Busy), "{err:?}");
    assert!(
        err.to_string().contains("locked by another writer"),
        "{err}"
    );
    assert_eq!(l.head().unwrap().seq, 0);
    holder.execute_batch("ROLLBACK").unwrap();
    append_claim(&mut l).unwrap();
    assert_eq!(l.head().unwrap().seq, 1);
}

/// An SQLite error that is not about the lock (here: a read of a table dropped behind the
/// ledger's back) is a database error naming what was being done, never `Busy` (which would
/// tell the user to try again).
#[test]
fn an_sqlite_error_other_than_the_lock_is_not_told_busy() {
    let dir = tempfile::tempdir().unwrap();
    let db = new_ledger(dir.path());
    let l = Ledger::open(&db, Access::ReadWrite).unwrap();
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch("DROP TABLE timeline")
        .unwrap();
    let err = l
        .state_at(iofs_ledger::date::Day::parse("2024-01-01").unwrap())
        .unwrap_err();
    assert!(matches!(err, StoreError::Sqlite { .. }), "{err:?}");
    assert!(!err.to_string().contains("locked"), "{err}");
}

/// A ledger's `Debug` says what it is without dumping its connection.
#[test]
fn a_ledger_debugs_as_a_ledger() {
    let l = Ledger::in_memory().unwrap();
    assert_eq!(format!("{l:?}"), "Ledger { .. }");
}

fn not_a_ledger_why(path: &Path) -> String {
    match Ledger::open(path, Access::ReadOnly) {
        Err(StoreError::NotALedger { why, .. }) => why,
        other => panic!("{}: {other:?}", path.display()),
    }
}

/// What a file that is no ledger is told, by its first hundred bytes: shorter than SQLite's
/// magic or not starting with it, "not an SQLite database"; the magic and then cut short
/// (exactly the magic, or fifty bytes), "cut short"; a whole header with another
/// `application_id`, that id. Nothing is written to any of them.
#[test]
fn a_file_that_is_no_ledger_is_told_what_its_header_shows() {
    let dir = tempfile::tempdir().unwrap();
    let magic = b"SQLite format 3\0";
    let mut sqlite_other_app = vec![0u8; 100];
    sqlite_other_app[..16].copy_from_slice(magic);
    sqlite_other_app[68..72].copy_from_slice(&0x0102_0304i32.to_be_bytes());
    let mut fifty = magic.to_vec();
    fifty.resize(50, 0);
    let cases: [(&str, Vec<u8>, &str); 5] = [
        ("short.txt", b"hello".to_vec(), "not an SQLite database"),
        ("text.txt", vec![b'x'; 200], "not an SQLite database"),
        (
            "magic-only",
            magic.to_vec(),
            "its SQLite header is cut short",
        ),
        ("fifty", fifty, "its SQLite header is cut short"),
        (
            "other-app",
            sqlite_other_app,
            "an SQLite database with application_id 0x1020304",
        ),
    ];
    for (name, bytes, why) in cases {
        let p = dir.path().join(name);
        std::fs::write(&p, &bytes).unwrap();
        let got = not_a_ledger_why(&p);
        assert!(got.starts_with(why), "{name}: {got}");
        assert_eq!(std::fs::read(&p).unwrap(), bytes, "{name} was changed");
    }
}

/// A path that cannot be looked up for another reason than its absence (here: through a file
/// as if it were a directory) is that I/O error, not "no ledger here, run init".
#[test]
fn a_path_that_cannot_be_looked_up_is_an_io_error_not_a_missing_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plain");
    std::fs::write(&file, b"x").unwrap();
    let err = Ledger::open(&file.join("l.db"), Access::ReadOnly).unwrap_err();
    assert!(matches!(err, StoreError::Io { .. }), "{err:?}");
    let missing = Ledger::open(&dir.path().join("absent.db"), Access::ReadOnly).unwrap_err();
    assert!(matches!(missing, StoreError::NotFound(_)), "{missing:?}");
}

/// The temporary files of `init`s of the same ledger that were killed (`.NAME.init-PID.tmp`,
/// with its `-wal`/`-shm`, whose process no longer runs) are removed by the next create; those
/// of a running process, of another ledger's name, or whose PID is no number are left.
fn stale_builds_are_removed_by_create(dir: &Path, db: &Path, create: impl FnOnce()) {
    let dead = 4_194_305u32; // above Linux's largest PID
    let me = std::process::id();
    let stale = [
        format!(".l.db.init-{dead}.tmp"),
        format!(".l.db.init-{dead}.tmp-wal"),
    ];
    let kept = [
        format!(".l.db.init-{me}.tmp-x"),
        format!(".other.db.init-{dead}.tmp"),
        ".l.db.init-abc.tmp".to_string(),
        format!(".l.db.init-{dead}.tmpx"),
    ];
    for f in stale.iter().chain(&kept) {
        std::fs::write(dir.join(f), b"x").unwrap();
    }
    create();
    assert!(db.exists());
    for f in &stale {
        assert!(!dir.join(f).exists(), "a dead init's {f} was left");
    }
    for f in &kept {
        assert!(dir.join(f).exists(), "{f} was removed");
    }
}

/// From an absolute path, through the library.
#[test]
fn create_removes_the_temporary_files_of_killed_inits_of_the_same_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("l.db");
    stale_builds_are_removed_by_create(dir.path(), &db, || {
        Ledger::create(&db, |_| Ok(())).unwrap();
    });
}

/// The same from a relative path in the current directory (the binary, run there).
#[test]
fn create_from_a_relative_path_removes_them_in_the_current_directory() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("l.db");
    stale_builds_are_removed_by_create(dir.path(), &db, || {
        assert_cmd::Command::cargo_bin("iofs-ledger")
            .unwrap()
            .current_dir(dir.path())
            .env_remove("IOFS_LEDGER_DB")
            .args(["--db", "l.db", "init", "--empty"])
            .assert()
            .success();
    });
}

/// Runs the binary as an unprivileged user (`nobody`) when the tests run as root (who can
/// write anywhere), as the user itself otherwise.
fn as_reader(db: &Path, args: &[&str]) -> std::process::Output {
    use std::os::unix::process::CommandExt;
    let root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("iofs-ledger"));
    if root {
        c.uid(65534).gid(65534);
    }
    c.env_remove("IOFS_LEDGER_DB")
        .arg("--db")
        .arg(db)
        .args(args)
        .stdin(std::process::Stdio::null());
    c.output().unwrap()
}

/// A reader who cannot write the ledger's directory reads the file alone (SQLite's immutable
/// mode) when no `-wal` beside it holds changes, an empty `-wal` included; when one does, it is
/// refused naming the `-wal` (the file alone would miss those changes), not answered stale.
#[test]
fn a_reader_who_cannot_write_reads_the_file_alone_only_when_no_wal_holds_changes() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let db = new_ledger(dir.path());
    let wal = dir.path().join("l.db-wal");
    let shm = dir.path().join("l.db-shm");
    let mode =
        |p: &Path, m: u32| std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
    mode(dir.path(), 0o755);
    // An empty `-wal`: nothing is missed.
    let _ = std::fs::remove_file(&shm);
    std::fs::write(&wal, b"").unwrap();
    mode(&db, 0o444);
    mode(dir.path(), 0o555);
    let out = as_reader(&db, &["head"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("0:{}", "0".repeat(64))
    );
    // A `-wal` holding a committed append the file does not have yet.
    mode(dir.path(), 0o755);
    mode(&db, 0o644);
    {
        let mut l = Ledger::open(&db, Access::ReadWrite).unwrap();
        l.connection()
            .set_db_config(
                rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
                true,
            )
            .unwrap();
        append_claim(&mut l).unwrap();
    }
    assert!(
        std::fs::metadata(&wal).unwrap().len() > 0,
        "the append was checkpointed"
    );
    let _ = std::fs::remove_file(&shm);
    mode(&db, 0o444);
    mode(dir.path(), 0o555);
    let out = as_reader(&db, &["head"]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    mode(dir.path(), 0o755);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("holds changes not yet in the file"), "{err}");
    assert!(err.contains("l.db-wal"), "{err}");
}

/// A ledger with one event whose schema version was set back to the one before this build's
/// (the last migration changes no table, so the file is otherwise whole).
fn older_ledger(dir: &Path) -> PathBuf {
    let db = new_ledger(dir);
    let mut l = Ledger::open(&db, Access::ReadWrite).unwrap();
    append_claim(&mut l).unwrap();
    drop(l);
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(&format!(
        "PRAGMA user_version = {};",
        iofs_ledger::store::schema::SCHEMA_VERSION - 1
    ))
    .unwrap();
    db
}

fn user_version(db: &Path) -> i64 {
    rusqlite::Connection::open(db)
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap()
}

/// A file of the previous schema version opened to read is left as it is: its log answers,
/// catching up is a no-op, and what needs the newer read models is refused with `OlderSchema`
/// (naming `rebuild`), never answered from the old ones nor refused as newer.
#[test]
fn an_older_file_opened_to_read_gives_its_log_and_refuses_what_needs_newer_read_models() {
    let dir = tempfile::tempdir().unwrap();
    let db = older_ledger(dir.path());
    let older = iofs_ledger::store::schema::SCHEMA_VERSION - 1;
    let l = Ledger::open(&db, Access::ReadOnly).unwrap();
    assert_eq!(l.head().unwrap().seq, 1);
    l.catch_up().unwrap();
    let err = l
        .state_at(iofs_ledger::date::Day::parse("2024-01-01").unwrap())
        .unwrap_err();
    assert!(
        matches!(err, StoreError::OlderSchema { found, .. } if found == older),
        "{err:?}"
    );
    assert!(err.to_string().contains("rebuild"), "{err}");
    drop(l);
    assert_eq!(user_version(&db), older, "reading upgraded the file");
    // The binary says the same.
    let out = assert_cmd::Command::cargo_bin("iofs-ledger")
        .unwrap()
        .env_remove("IOFS_LEDGER_DB")
        .arg("--db")
        .arg(&db)
        .arg("state")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("older than this build"), "{err}");
    assert_eq!(user_version(&db), older);
}

/// Opened to write, a file of the previous version is migrated to this build's, and answers.
#[test]
fn an_older_file_opened_to_write_is_migrated_and_answers() {
    let dir = tempfile::tempdir().unwrap();
    let db = older_ledger(dir.path());
    let l = Ledger::open(&db, Access::ReadWrite).unwrap();
    assert_eq!(
        user_version(&db),
        iofs_ledger::store::schema::SCHEMA_VERSION
    );
    l.state_at(iofs_ledger::date::Day::parse("2024-01-01").unwrap())
        .unwrap();
    assert_eq!(l.head().unwrap().seq, 1);
}

/// A file with iofs-ledger's header that SQLite cannot read as a database is "not an
/// iofs-ledger database (unreadable: …)", not a database error, and is left as it was: an
/// impossible page size in the header (SQLite refuses it at the first read), or the first
/// page's b-tree overwritten (refused when the connection is configured).
#[test]
fn a_file_with_our_header_but_unreadable_pages_is_not_a_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let db = new_ledger(dir.path());
    let whole = std::fs::read(&db).unwrap();
    let mut bad_page_size = whole.clone();
    bad_page_size[16..18].copy_from_slice(&3u16.to_be_bytes());
    let mut bad_btree = whole;
    for b in &mut bad_btree[100..4096] {
        *b = 0xA5;
    }
    for (what, bytes) in [("page size", bad_page_size), ("b-tree", bad_btree)] {
        std::fs::write(&db, &bytes).unwrap();
        for access in [Access::ReadOnly, Access::ReadWrite] {
            let why = match Ledger::open(&db, access) {
                Err(StoreError::NotALedger { why, .. }) => why,
                other => panic!("{what}, {access:?}: {other:?}"),
            };
            assert!(why.starts_with("unreadable: "), "{what}: {why}");
        }
        assert_eq!(
            std::fs::read(&db).unwrap(),
            bytes,
            "{what}: the file was changed"
        );
    }
}

/// `create` refuses a path whose directory does not exist, or is a file, naming the directory
/// (an `Io` error on it, saying to create it first or that it is no directory); nothing is
/// created.
#[test]
fn create_refuses_a_missing_directory_or_a_file_as_the_directory_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing");
    let file = dir.path().join("file");
    std::fs::write(&file, b"x").unwrap();
    for (parent, says) in [(&missing, "create it first"), (&file, "not a directory")] {
        let err = Ledger::create(&parent.join("l.db"), |_| Ok(())).unwrap_err();
        match &err {
            StoreError::Io { path, source } => {
                assert_eq!(path, parent, "{err}");
                assert!(source.to_string().contains(says), "{err}");
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(!missing.exists());
    assert_eq!(std::fs::read(&file).unwrap(), b"x");
}

/// A file that appears at the path while the new ledger is being built (another `init`, a
/// user) is never overwritten: `create` fails with `AlreadyExists` and leaves that file and no
/// temporary file behind.
#[test]
fn a_file_that_appears_at_the_path_during_create_is_kept_and_create_fails() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("l.db");
    let err = Ledger::create(&db, |_| {
        std::fs::write(&db, b"someone else's").unwrap();
        Ok(())
    })
    .unwrap_err();
    assert!(
        matches!(err, StoreError::AlreadyExists(ref p) if *p == db),
        "{err:?}"
    );
    assert_eq!(std::fs::read(&db).unwrap(), b"someone else's");
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(left, vec![std::ffi::OsString::from("l.db")]);
}

/// A ledger opened from a file writes durably (`synchronous = FULL`) and enforces foreign
/// keys, whatever SQLite's defaults.
#[test]
fn an_opened_ledger_is_configured_to_write_durably() {
    let dir = tempfile::tempdir().unwrap();
    let db = new_ledger(dir.path());
    for access in [Access::ReadOnly, Access::ReadWrite] {
        let l = Ledger::open(&db, access).unwrap();
        let pragma = |name: &str| -> i64 {
            l.connection()
                .query_row(&format!("PRAGMA {name}"), [], |r| r.get(0))
                .unwrap()
        };
        assert_eq!(pragma("synchronous"), 2, "{access:?}");
        assert_eq!(pragma("foreign_keys"), 1, "{access:?}");
    }
}

/// A file of the previous schema version whose projections lag behind its log (a bulk append
/// deferred them) is not caught up by a reader: catching up an older file is left to the
/// upgrade (`rebuild`), and reading never writes it.
#[test]
fn an_older_lagging_file_is_not_caught_up_by_a_reader() {
    iofs_ledger::store::set_defer_threshold_for_tests(2);
    let dir = tempfile::tempdir().unwrap();
    let db = new_ledger(dir.path());
    let mut l = Ledger::open(&db, Access::ReadWrite).unwrap();
    let lines = [claim_line(), claim_line(), claim_line()].join("\n");
    l.append(
        parse_batch(&lines).unwrap().into_iter().map(Ok),
        AppendOptions::default(),
    )
    .unwrap();
    drop(l);
    let lagging = |db: &Path| -> Option<String> {
        use rusqlite::OptionalExtension;
        rusqlite::Connection::open(db)
            .unwrap()
            .query_row(
                "SELECT value FROM meta WHERE key = 'projected_through'",
                [],
                |r| r.get(0),
            )
            .optional()
            .unwrap()
    };
    assert_eq!(
        lagging(&db).as_deref(),
        Some("0"),
        "the bulk append did not defer"
    );
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch(&format!(
            "PRAGMA user_version = {};",
            iofs_ledger::store::schema::SCHEMA_VERSION - 1
        ))
        .unwrap();
    let l = Ledger::open(&db, Access::ReadOnly).unwrap();
    l.catch_up().unwrap();
    // What needs the projections says the file is older, not that it cannot be written.
    let err = l
        .state_at(iofs_ledger::date::Day::parse("2024-01-01").unwrap())
        .unwrap_err();
    assert!(matches!(err, StoreError::OlderSchema { .. }), "{err:?}");
    drop(l);
    assert_eq!(
        lagging(&db).as_deref(),
        Some("0"),
        "a reader caught up an older file"
    );
}

/// A writer kept from creating the files a write needs beside the ledger (a writable file in a
/// directory it cannot write) is refused naming SQLite's cause and that the file or its
/// directory is read-only for this user; nothing is appended.
#[test]
fn a_writer_in_a_directory_it_cannot_write_is_told_the_real_cause() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let db = new_ledger(dir.path());
    let mode =
        |p: &Path, m: u32| std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(dir.path().join(format!("l.db{suffix}")));
    }
    mode(&db, 0o666);
    mode(dir.path(), 0o555);
    let input = dir.path().join("in.jsonl");
    mode(dir.path(), 0o755);
    std::fs::write(&input, claim_line()).unwrap();
    mode(&input, 0o644);
    mode(dir.path(), 0o555);
    let out = as_reader(&db, &["append", input.to_str().unwrap()]);
    mode(dir.path(), 0o755);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("attempt to write a readonly database"),
        "{err}"
    );
    assert!(err.contains("read-only for this user"), "{err}");
    assert_eq!(
        Ledger::open(&db, Access::ReadOnly)
            .unwrap()
            .head()
            .unwrap()
            .seq,
        0
    );
}

/// A ledger whose projections lag behind its log: two claims appended in bulk.
fn lagging_ledger(dir: &Path) -> PathBuf {
    iofs_ledger::store::set_defer_threshold_for_tests(2);
    let db = new_ledger(dir);
    let mut l = Ledger::open(&db, Access::ReadWrite).unwrap();
    let lines = [claim_line(), claim_line()].join("\n");
    l.append(
        parse_batch(&lines).unwrap().into_iter().map(Ok),
        AppendOptions::default(),
    )
    .unwrap();
    db
}

/// A ledger opened to read catches a lagging file up through a connection of its own that
/// writes; when another writer holds the lock past the timeout, that is `Busy` (try again), not
/// a success that leaves the projections lagging.
#[test]
fn catching_up_from_a_reader_while_another_writer_holds_the_lock_is_busy() {
    let dir = tempfile::tempdir().unwrap();
    let db = lagging_ledger(dir.path());
    let holder = rusqlite::Connection::open(&db).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    let mut l = Ledger::open(&db, Access::ReadOnly).unwrap();
    l.set_busy_timeout(Duration::from_millis(50)).unwrap();
    let err = l.catch_up().unwrap_err();
    assert!(matches!(err, StoreError::Busy), "{err:?}");
    holder.execute_batch("ROLLBACK").unwrap();
    l.catch_up().unwrap();
    l.state_at(iofs_ledger::date::Day::parse("2024-01-01").unwrap())
        .unwrap();
}

/// A reader who can write the file but not its directory cannot catch a lagging file up (the
/// write needs files beside it): the answer is refused as lagging, naming what to do, rather
/// than failing with SQLite's error or answering stale.
#[test]
fn a_reader_who_cannot_write_the_directory_is_told_the_file_lags() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let db = lagging_ledger(dir.path());
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(dir.path().join(format!("l.db{suffix}")));
    }
    let mode =
        |p: &Path, m: u32| std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
    mode(&db, 0o666);
    mode(dir.path(), 0o555);
    let out = as_reader(&db, &["state", "--as-of", "2024-01-01"]);
    mode(dir.path(), 0o755);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("cannot be brought up to date here"), "{err}");
}

/// A catch-up from a reader that fails for another reason than a read-only file or directory
/// (here: a read model dropped behind the ledger's back) is that database error, not passed
/// over as if the file could not be written here.
#[test]
fn a_catch_up_that_fails_otherwise_is_that_error() {
    let dir = tempfile::tempdir().unwrap();
    let db = lagging_ledger(dir.path());
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch("DROP TABLE party_events")
        .unwrap();
    let l = Ledger::open(&db, Access::ReadOnly).unwrap();
    let err = l.catch_up().unwrap_err();
    assert!(matches!(err, StoreError::Sqlite { .. }), "{err:?}");
}
