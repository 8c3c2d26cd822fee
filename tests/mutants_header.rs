//! The header descriptor (`src/store/header.rs`): opening a ledger reads the file's header
//! through one descriptor per file, shared by every ledger this process has open on it and
//! closed only when the last of them closes (on POSIX, closing any descriptor of a file drops
//! every lock the process holds on it). Written where mutations survived the suite (see
//! `docs/testing.md`, "Mutation testing"); the descriptors are counted in `/proc/self/fd`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg(target_os = "linux")]

use std::path::{Path, PathBuf};

use iofs_ledger::store::{Access, Ledger, StoreError};

fn new_ledger(dir: &Path, name: &str) -> PathBuf {
    let db = dir.join(name);
    Ledger::create(&db, |_| Ok(())).unwrap();
    db
}

/// How many read-only descriptors this process has open on `path`. Ledgers opened
/// read-write have SQLite's connections open read-write, so these are the header's (counting
/// all would count SQLite's too, which it keeps open past a connection's close while another
/// connection of the process holds a lock on the file).
fn header_descriptors_on(path: &Path) -> usize {
    let target = std::fs::canonicalize(path).unwrap();
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .flatten()
        .filter(|e| std::fs::read_link(e.path()).is_ok_and(|t| t == target))
        .filter(|e| {
            let info = std::fs::read_to_string(format!(
                "/proc/self/fdinfo/{}",
                e.file_name().to_string_lossy()
            ))
            .unwrap_or_default();
            let flags = info
                .lines()
                .find_map(|l| l.strip_prefix("flags:"))
                .map(|f| u32::from_str_radix(f.trim(), 8).unwrap())
                .unwrap_or(u32::MAX);
            flags & 0o3 == 0
        })
        .count()
}

/// The first ledger opened on a file opens the header descriptor, the others share it, and it
/// stays open until the last of them closes; then none is left, and opening the file again
/// opens one again.
#[test]
fn the_header_descriptor_is_shared_and_closed_with_the_last_ledger_on_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = new_ledger(dir.path(), "l.db");
    let count = || header_descriptors_on(&db);
    assert_eq!(count(), 0, "create left a descriptor open");
    let a = Ledger::open(&db, Access::ReadWrite).unwrap();
    assert_eq!(count(), 1);
    let b = Ledger::open(&db, Access::ReadWrite).unwrap();
    assert_eq!(
        count(),
        1,
        "a second ledger opened a second header descriptor"
    );
    drop(a);
    assert_eq!(
        count(),
        1,
        "closing one of two ledgers closed the shared descriptor"
    );
    let c = Ledger::open(&db, Access::ReadWrite).unwrap();
    assert_eq!(count(), 1);
    drop(b);
    assert_eq!(
        count(),
        1,
        "closing one of two ledgers closed the shared descriptor"
    );
    drop(c);
    assert_eq!(
        count(),
        0,
        "the descriptor outlived every ledger on the file"
    );
    let d = Ledger::open(&db, Access::ReadWrite).unwrap();
    assert_eq!(count(), 1);
    drop(d);
    assert_eq!(count(), 0);
}

/// The shared descriptor is per file: with a ledger open on one file, opening another file
/// reads that file's own header, so a foreign SQLite file is still refused and a second ledger
/// still opens.
#[test]
fn each_file_is_judged_by_its_own_header_while_another_is_open() {
    let dir = tempfile::tempdir().unwrap();
    let ours = new_ledger(dir.path(), "ours.db");
    let foreign = dir.path().join("foreign.db");
    rusqlite::Connection::open(&foreign)
        .unwrap()
        .execute_batch("PRAGMA application_id = 1234; CREATE TABLE t (x);")
        .unwrap();
    let other = new_ledger(dir.path(), "other.db");
    let _open = Ledger::open(&ours, Access::ReadOnly).unwrap();
    let err = Ledger::open(&foreign, Access::ReadOnly).unwrap_err();
    assert!(
        matches!(&err, StoreError::NotALedger { why, .. } if why.contains("application_id 0x4d2")),
        "{err:?}"
    );
    let again = Ledger::open(&other, Access::ReadWrite).unwrap();
    assert_eq!(again.head().unwrap().seq, 0);
    assert_eq!(
        header_descriptors_on(&foreign),
        0,
        "the refused file's descriptor was kept"
    );
}
