//! The store: the only module that touches SQLite.
//!
//! # Layout
//! `events` is the record: one row per event in `seq` order, its canonical JSON as appended, its
//! `recorded_at`, and a SHA-256 hash chained to the previous row. Triggers refuse `UPDATE` and
//! `DELETE` on it and any `INSERT` out of sequence. Every other table is a read model
//! (see [`schema`]) derived from `events` by the same fold ([`crate::projection`]).
//!
//! # Locking and durability
//! The file is in WAL mode with `synchronous = FULL`: readers never block the writer and a
//! committed append survives a crash or power loss. An append is one `BEGIN IMMEDIATE`
//! transaction: it takes the write lock first (waiting up to the busy timeout, then failing with
//! [`StoreError::Busy`]), so two writers never interleave and a refused or interrupted batch
//! leaves nothing behind.
//!
//! # Compatibility
//! A file is recognised by `PRAGMA application_id` and versioned by `PRAGMA user_version`. Foreign
//! files, empty files and newer schemas are refused before anything is written.
//!
//! # Performance
//! The state of any key at any day is one index seek in `timeline`. An append whose events all
//! fall after the last replay position folds only its own events; a back-dated event, retraction
//! or correction re-folds the log from the earliest position it touches.

mod append;
mod dry_run;
mod read;
pub mod schema;
mod series;
mod snapshots;

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

pub use append::{format_instant, parse_instant, AppendOptions, Appended, RECORDED_AT_FORMAT};
pub use dry_run::Phase;
pub use read::{Head, Overrides, RawEvent, StoredEvent};
pub use series::SeriesInput;

use crate::event::Location;
use crate::projection::Rule;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No file at the path.
    #[error("no ledger at {0}: run `iofs-ledger --db {0} init` first")]
    NotFound(PathBuf),
    /// `init` on an existing path.
    #[error("{0} already exists: init never overwrites a file (choose another --db path or remove it yourself)")]
    AlreadyExists(PathBuf),
    /// The file is not an iofs-ledger database.
    #[error("{path} is not an iofs-ledger database ({why}); it was left untouched")]
    NotALedger {
        /// The file.
        path: PathBuf,
        /// What it is instead.
        why: String,
    },
    /// The file was written by a newer version.
    #[error("{path} has schema version {found}, newer than this build's {supported}; upgrade iofs-ledger (the file was left untouched)")]
    NewerSchema {
        /// The file.
        path: PathBuf,
        /// Its version.
        found: i64,
        /// Ours.
        supported: i64,
    },
    /// The file was written by an older version and was not opened for writing, so it has not
    /// been upgraded; what needs the newer read models is refused.
    #[error("{path} has schema version {found}, older than this build's {supported}; upgrade it in place with `iofs-ledger --db {path} rebuild` (the log is kept as it is, the read models are rebuilt), then ask again (the file was left untouched)", path = path.display())]
    OlderSchema {
        /// The file.
        path: PathBuf,
        /// Its version.
        found: i64,
        /// Ours.
        supported: i64,
    },
    /// Another writer held the lock longer than the lock timeout.
    #[error("the ledger is locked by another writer and the lock timeout (--lock-timeout) ran out; nothing was written, try again")]
    Busy,
    /// The batch was refused; nothing was appended.
    #[error("{}", refusal_text(.0))]
    Refused(Vec<Refusal>),
    /// A stored event cannot be read back: the file was altered outside the tool.
    #[error("stored event seq {seq} is unreadable ({why}); run `iofs-ledger verify`")]
    Corrupt {
        /// The event.
        seq: u64,
        /// Why.
        why: String,
    },
    /// A file-system error.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// An SQLite error, with what was being done.
    #[error("database error while {context}: {source}")]
    Sqlite {
        /// What was being done.
        context: &'static str,
        /// The error.
        source: rusqlite::Error,
    },
}

/// One reason a batch was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Where in the input.
    pub location: Option<Location>,
    /// The seq the event would have had.
    pub seq: Option<u64>,
    /// The rule broken, if any (else the input was malformed).
    pub rule: Option<Rule>,
    /// The field at fault.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.location {
            Some(l) => write!(f, "{l}")?,
            None => write!(f, "input")?,
        }
        if let Some(field) = &self.field {
            write!(f, ", field `{field}`")?;
        }
        if let Some(r) = self.rule {
            write!(f, ": rule \"{}\" broken", r.text())?;
        }
        write!(f, ": {}", self.message)
    }
}

fn refusal_text(r: &[Refusal]) -> String {
    let mut s = format!(
        "append refused ({} problem{}); nothing was appended:",
        r.len(),
        if r.len() == 1 { "" } else { "s" }
    );
    for x in r {
        s.push_str("\n  ");
        s.push_str(&x.to_string());
    }
    s
}

pub(crate) trait Ctx<T> {
    fn ctx(self, context: &'static str) -> Result<T, StoreError>;
}

impl<T> Ctx<T> for Result<T, rusqlite::Error> {
    fn ctx(self, context: &'static str) -> Result<T, StoreError> {
        self.map_err(|e| match e {
            rusqlite::Error::SqliteFailure(f, _)
                if f.code == rusqlite::ErrorCode::DatabaseBusy
                    || f.code == rusqlite::ErrorCode::DatabaseLocked =>
            {
                StoreError::Busy
            }
            source => StoreError::Sqlite { context, source },
        })
    }
}

/// How long a writer waits for the lock by default.
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// How a ledger is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Queries only.
    ReadOnly,
    /// Appends too (a file of an older schema is upgraded on opening).
    ReadWrite,
    /// Read-write for a transaction that is rolled back (verification), never upgrading an
    /// older schema: what an old file holds is checked as it is.
    Inspect,
}

/// An open ledger.
pub struct Ledger {
    conn: Connection,
    busy_timeout: Duration,
    /// The file's schema version (older ones answer what their tables can; see
    /// [`Ledger::require_current`]).
    version: i64,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger").finish_non_exhaustive()
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Checks, without opening it as a database (so without writing anything, not even a foreign
/// file's hot journal rollback), that `path` is an SQLite file whose header carries
/// iofs-ledger's `application_id`. Its schema version is read once it is open
/// ([`Ledger::open`]), from the connection: a version committed but not yet checkpointed is
/// only in the WAL, not in the file's header.
fn inspect(path: &Path) -> Result<(), StoreError> {
    let meta = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(StoreError::NotFound(path.to_path_buf()))
        }
        Err(e) => return Err(io(path)(e)),
    };
    let not = |why: &str| StoreError::NotALedger {
        path: path.to_path_buf(),
        why: why.to_string(),
    };
    if meta.is_dir() {
        return Err(not("it is a directory"));
    }
    if meta.len() == 0 {
        return Err(not("the file is empty"));
    }
    // The database header: the magic string, and `PRAGMA application_id` at offset 68.
    let mut header = [0u8; 100];
    let mut f = fs::File::open(path).map_err(io(path))?;
    let mut n = 0;
    while n < header.len() {
        match f.read(&mut header[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io(path)(e)),
        }
    }
    if n < 16 || &header[..16] != b"SQLite format 3\0" {
        return Err(not("not an SQLite database"));
    }
    if n < header.len() {
        return Err(not("its SQLite header is cut short"));
    }
    let app = i64::from(i32::from_be_bytes([
        header[68], header[69], header[70], header[71],
    ]));
    if app != schema::APPLICATION_ID {
        return Err(not(&format!(
            "an SQLite database with application_id {app:#x}, not iofs-ledger's {:#x}",
            schema::APPLICATION_ID
        )));
    }
    Ok(())
}

/// Removes the temporary files of `init`s of this ledger that were killed before they finished
/// (`.NAME.init-PID.tmp*` whose process no longer runs). Only where `/proc` tells which
/// processes run; elsewhere they are left for the user (they are safe to delete).
fn remove_stale_builds(path: &Path, name: &str, cleanup: &dyn Fn(&Path)) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let Ok(entries) = fs::read_dir(&dir) else {
        return;
    };
    let prefix = format!(".{name}.init-");
    for e in entries.flatten() {
        let file = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = file
            .strip_prefix(&prefix)
            .and_then(|rest| rest.strip_suffix(".tmp"))
        else {
            continue;
        };
        if pid.parse::<u32>().is_ok() && !Path::new("/proc").join(pid).exists() {
            cleanup(&e.path());
        }
    }
}

impl Ledger {
    /// Opens an existing ledger file, refusing anything that is not one (left untouched).
    pub fn open(path: &Path, access: Access) -> Result<Ledger, StoreError> {
        inspect(path)?;
        let flags = match access {
            Access::ReadOnly => OpenFlags::SQLITE_OPEN_READ_ONLY,
            Access::ReadWrite | Access::Inspect => OpenFlags::SQLITE_OPEN_READ_WRITE,
        } | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn =
            Connection::open_with_flags(path, flags).map_err(|e| StoreError::NotALedger {
                path: path.to_path_buf(),
                why: format!("SQLite cannot open it for {access:?}: {e}"),
            })?;
        let not = |why: String| StoreError::NotALedger {
            path: path.to_path_buf(),
            why,
        };
        let _ = conn.busy_timeout(DEFAULT_BUSY_TIMEOUT);
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| not(format!("unreadable: {e}")))?;
        if version > schema::SCHEMA_VERSION {
            // Leave it exactly as found: not even a checkpoint of its WAL when this closes.
            let _ = conn.set_db_config(
                rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
                true,
            );
            return Err(StoreError::NewerSchema {
                path: path.to_path_buf(),
                found: version,
                supported: schema::SCHEMA_VERSION,
            });
        }
        let mut l = Ledger {
            conn,
            busy_timeout: DEFAULT_BUSY_TIMEOUT,
            version,
        };
        l.configure()?;
        if access == Access::ReadWrite {
            l.migrate()?;
            l.version = schema::SCHEMA_VERSION;
        }
        Ok(l)
    }

    /// Refuses, naming the upgrade, what needs read models newer than the file's schema (an
    /// older file still gives its log, head, history and verification of its chain).
    pub(crate) fn require_current(&self) -> Result<(), StoreError> {
        if self.version >= schema::SCHEMA_VERSION {
            return Ok(());
        }
        Err(StoreError::OlderSchema {
            path: self.conn.path().map(PathBuf::from).unwrap_or_default(),
            found: self.version,
            supported: schema::SCHEMA_VERSION,
        })
    }

    /// A new ledger in memory (for answers from the built-in history and for tests).
    pub fn in_memory() -> Result<Ledger, StoreError> {
        let conn = Connection::open_in_memory().ctx("opening an in-memory database")?;
        let mut l = Ledger {
            conn,
            busy_timeout: DEFAULT_BUSY_TIMEOUT,
            version: schema::SCHEMA_VERSION,
        };
        l.conn
            .execute_batch(&format!(
                "PRAGMA application_id = {};",
                schema::APPLICATION_ID
            ))
            .ctx("setting the application id")?;
        l.migrate()?;
        Ok(l)
    }

    /// Creates a ledger at `path`, lets `fill` load it, and only then makes it appear at `path`
    /// (built under a temporary name and linked into place), so a failed or interrupted `init`
    /// leaves no file and an existing file is never overwritten.
    pub fn create(
        path: &Path,
        fill: impl FnOnce(&mut Ledger) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "ledger".into());
        let tmp = path.with_file_name(format!(".{name}.init-{}.tmp", std::process::id()));
        let cleanup = |tmp: &Path| {
            for suffix in ["", "-wal", "-shm", "-journal"] {
                let mut p = tmp.as_os_str().to_owned();
                p.push(suffix);
                let _ = fs::remove_file(PathBuf::from(p));
            }
        };
        remove_stale_builds(path, &name, &cleanup);
        if fs::symlink_metadata(path).is_ok() {
            return Err(StoreError::AlreadyExists(path.to_path_buf()));
        }
        cleanup(&tmp);
        let result = (|| {
            let conn = Connection::open(&tmp).map_err(|e| StoreError::Sqlite {
                context: "creating the ledger file",
                source: e,
            })?;
            let mut l = Ledger {
                conn,
                busy_timeout: DEFAULT_BUSY_TIMEOUT,
                version: schema::SCHEMA_VERSION,
            };
            l.conn
                .execute_batch(&format!(
                    "PRAGMA application_id = {}; PRAGMA journal_mode = WAL;",
                    schema::APPLICATION_ID
                ))
                .ctx("setting up the ledger file")?;
            l.configure()?;
            l.migrate()?;
            fill(&mut l)?;
            l.conn
                .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
                .ctx("checkpointing the new ledger")?;
            drop(l);
            match fs::hard_link(&tmp, path) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    Err(StoreError::AlreadyExists(path.to_path_buf()))
                }
                Err(e) => Err(io(path)(e)),
            }
        })();
        cleanup(&tmp);
        result
    }

    /// Sets how long a writer waits for another writer's lock.
    pub fn set_busy_timeout(&mut self, d: Duration) -> Result<(), StoreError> {
        self.busy_timeout = d;
        self.conn.busy_timeout(d).ctx("setting the busy timeout")
    }

    fn configure(&mut self) -> Result<(), StoreError> {
        self.conn
            .busy_timeout(self.busy_timeout)
            .ctx("setting the busy timeout")?;
        self.conn
            .execute_batch(
                &format!("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA cache_size = -{CACHE_KIB};"),
            )
            .ctx("configuring the connection")?;
        // Plan each statement once: without this, SQLite re-prepares a cached statement whenever
        // a bound value changes, which was a third of a point-in-time query's time.
        self.conn
            .set_db_config(
                rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
                true,
            )
            .ctx("configuring the connection")?;
        Ok(())
    }

    /// Brings the schema up to date in one exclusive transaction. A file that already held a
    /// log (version 1 or later) gets its read models rebuilt in the same transaction, since a
    /// migration may add or reshape them; a crash midway leaves the old version whole.
    fn migrate(&mut self) -> Result<(), StoreError> {
        let version = |c: &Connection| -> Result<i64, StoreError> {
            c.query_row("PRAGMA user_version", [], |r| r.get(0))
                .ctx("reading the schema version")
        };
        if version(&self.conn)? >= schema::SCHEMA_VERSION {
            return Ok(());
        }
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Exclusive)
            .ctx("starting a migration")?;
        // Read again under the lock: another process may have migrated meanwhile.
        let found = version(&tx)?;
        for (i, m) in schema::MIGRATIONS.iter().enumerate().skip(found as usize) {
            tx.execute_batch(m).ctx("applying a migration")?;
            tx.execute_batch(&format!("PRAGMA user_version = {};", i + 1))
                .ctx("recording the schema version")?;
        }
        if (1..schema::SCHEMA_VERSION).contains(&found) {
            append::rebuild_in(&tx)?;
        }
        tx.commit().ctx("committing a migration")
    }

    /// The raw connection, for verification and tests that attack the file.
    #[doc(hidden)]
    pub fn connection(&self) -> &Connection {
        &self.conn
    }
}

/// The version of the SQLite library compiled in (e.g. `3.49.1`), for `--version`.
pub fn sqlite_version() -> &'static str {
    rusqlite::version()
}

/// What comparing the stored read models with a fresh replay found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadModelCheck {
    /// The log cannot be replayed: the event `seq` breaks a rule or cannot be read.
    Unreplayable {
        /// The first bad event.
        seq: u64,
        /// Why.
        why: String,
    },
    /// Tables that differ: (table, first seq concerned, rows that differ). Empty when sound.
    Differences(Vec<(&'static str, Option<u64>, u64)>),
}

/// The page cache of a connection, in KiB.
const CACHE_KIB: u32 = 32 * 1024;

/// The read-model tables, the columns compared, and the column that names a seq.
const COMPARED: [(&str, &str, &str); 7] = [
    ("timeline", "key, day, ord, fact", "ord"),
    ("replay_order", "day, ord, seq", "seq"),
    ("overrides", "target, by_seq, kind", "by_seq"),
    ("windows", "day, ord, start, seq, type, party, date", "seq"),
    ("state_snapshots", "day, ord, rows, keys, facts", "ord"),
    ("parties", "party", "NULL"),
    ("party_events", "party, seq", "seq"),
];

fn compare_on(conn: &Connection) -> Result<ReadModelCheck, StoreError> {
    // The copies of the stored read models go to temporary files, not memory, and the page
    // cache is halved while the temporary tables and sorters hold theirs: peak memory stays
    // under 100 MB at a million events.
    conn.execute_batch(&format!(
        "PRAGMA temp_store = FILE; PRAGMA cache_size = -{}; BEGIN IMMEDIATE",
        CACHE_KIB / 2
    ))
    .ctx("starting verification")?;
    let result = (|| {
        for (t, cols, _) in COMPARED {
            conn.execute_batch(&format!(
                "DROP TABLE IF EXISTS temp.stored_{t}; CREATE TEMP TABLE stored_{t} AS SELECT {cols} FROM main.{t};"
            ))
            .ctx("copying read models")?;
        }
        match append::rebuild_in(conn) {
            Ok(_) => {}
            Err(StoreError::Corrupt { seq, why }) => {
                return Ok(ReadModelCheck::Unreplayable { seq, why })
            }
            Err(e) => return Err(e),
        }
        let mut diffs = Vec::new();
        for (t, cols, seqcol) in COMPARED {
            let q = format!(
                "SELECT MIN({seqcol}), COUNT(*) FROM (SELECT * FROM (SELECT {cols} FROM main.{t} EXCEPT SELECT {cols} FROM temp.stored_{t}) UNION ALL SELECT * FROM (SELECT {cols} FROM temp.stored_{t} EXCEPT SELECT {cols} FROM main.{t}))"
            );
            let (min, n): (Option<i64>, i64) = conn
                .query_row(&q, [], |r| Ok((r.get(0)?, r.get(1)?)))
                .ctx("comparing read models")?;
            if n > 0 {
                diffs.push((t, min.map(|m| m as u64), n as u64));
            }
        }
        Ok(ReadModelCheck::Differences(diffs))
    })();
    let _ = conn.execute_batch(&format!(
        "ROLLBACK; PRAGMA temp_store = DEFAULT; PRAGMA cache_size = -{CACHE_KIB}"
    ));
    result
}

impl Ledger {
    /// The names of the triggers on `events`.
    pub fn trigger_names(&self) -> Result<Vec<String>, StoreError> {
        let mut st = self
            .conn
            .prepare(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'events'",
            )
            .ctx("reading triggers")?;
        let rows = st.query_map([], |r| r.get(0)).ctx("reading triggers")?;
        rows.collect::<Result<Vec<String>, _>>()
            .ctx("reading triggers")
    }

    /// Re-derives every read model from the log inside a transaction that is rolled back, and
    /// compares the result with what is stored. On a read-only file the comparison runs on a
    /// scratch copy in the temporary directory. Changes nothing.
    pub fn compare_read_models(&mut self) -> Result<ReadModelCheck, StoreError> {
        self.require_current()?;
        if self
            .conn
            .is_readonly(rusqlite::MAIN_DB)
            .ctx("checking access")?
        {
            // Work on a scratch copy on disk: memory stays bounded whatever the log's size.
            let scratch = tempfile::NamedTempFile::new().map_err(|source| StoreError::Io {
                path: std::env::temp_dir(),
                source,
            })?;
            let mut copy = Connection::open(scratch.path()).ctx("opening a scratch copy")?;
            rusqlite::backup::Backup::new(&self.conn, &mut copy)
                .ctx("copying the ledger to a scratch file")?
                .run_to_completion(4096, Duration::ZERO, None)
                .ctx("copying the ledger to a scratch file")?;
            copy.execute_batch(
                &format!("PRAGMA synchronous = OFF; PRAGMA journal_mode = OFF; PRAGMA cache_size = -{CACHE_KIB};"),
            )
            .ctx("opening a scratch copy")?;
            return compare_on(&copy);
        }
        compare_on(&self.conn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrating_twice_is_harmless() {
        let mut l = Ledger::in_memory().unwrap();
        l.migrate().unwrap();
        let v: i64 = l
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, schema::SCHEMA_VERSION);
    }

    #[test]
    fn the_events_table_refuses_update_delete_and_gaps() {
        let l = Ledger::in_memory().unwrap();
        l.conn
            .execute("INSERT INTO events VALUES (1, 't', '{}', 'h')", [])
            .unwrap();
        assert!(l.conn.execute("UPDATE events SET body = 'x'", []).is_err());
        assert!(l.conn.execute("DELETE FROM events", []).is_err());
        assert!(l
            .conn
            .execute("INSERT INTO events VALUES (3, 't', '{}', 'h')", [])
            .is_err());
        assert!(l
            .conn
            .execute("INSERT INTO events VALUES (2, 't', '{}', 'h')", [])
            .is_ok());
    }
}
