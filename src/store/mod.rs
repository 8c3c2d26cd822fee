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
//! A bulk append (at least [`DEFER_THRESHOLD`] events) writes the log, its replay order and
//! overrides only; the first reader brings the other read models up to date
//! ([`Ledger::catch_up`]), and what reads them never answers from lagging ones
//! ([`StoreError::Lagging`]).

mod append;
mod check;
mod dry_run;
mod header;
mod inspect;
mod read;
mod replica;
pub mod schema;
mod series;
mod snapshots;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

#[doc(hidden)]
pub use append::set_defer_threshold_for_tests;
pub use append::{
    format_instant, parse_instant, AppendOptions, Appended, CLOCK_TOLERANCE, DEFER_HOLD_BYTES,
    DEFER_THRESHOLD, MAX_REFUSALS, RECORDED_AT_FORMAT,
};
pub use check::{Body, Derivation, ReadModelCheck, TableDifference, Walked, WalkedRow};
pub use dry_run::Phase;
pub use inspect::{expected_schema, SchemaObject};
pub use read::{Head, Overrides, RawEvent, StoredEvent};
pub use replica::{ImportItem, Imported};
pub use series::SeriesInput;
#[doc(hidden)]
pub use snapshots::set_snapshot_threshold_for_tests;

use crate::event::Location;
use crate::projection::Rule;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No file at the path.
    #[error("no ledger at {0}: run `iofs-ledger --db {0} init` first")]
    NotFound(PathBuf),
    /// `init` or `backup` on an existing path.
    #[error("{0} already exists: `init` and `backup` never overwrite a file (choose another path or remove it yourself)")]
    AlreadyExists(PathBuf),
    /// `init` or `backup` beside a journal file that is not the new ledger's own.
    #[error("{journal} lies beside {path}, left by a ledger that was there before (or by a process still using one): a new ledger created there would be read through it and be corrupt; nothing was created. If no process uses it, move it away (with any other {name}-wal/-shm/-journal file) and run the command again", journal = journal.display(), path = path.display(), name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default())]
    LeftoverJournal {
        /// The ledger path.
        path: PathBuf,
        /// The journal file found beside it.
        journal: PathBuf,
    },
    /// The file is not an iofs-ledger database.
    #[error("{path} is not an iofs-ledger database ({why}); it was left untouched")]
    NotALedger {
        /// The file.
        path: PathBuf,
        /// What it is instead.
        why: String,
    },
    /// The file could not be opened or read, for a reason that is not its content (permissions,
    /// a read-only directory, an I/O error).
    #[error("cannot open {path}: {why}", path = path.display())]
    CannotOpen {
        /// The file.
        path: PathBuf,
        /// The real cause.
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
    /// The projections lag behind the log (a bulk append was not yet followed by a reader that
    /// could write the file) and could not be brought up to date here; nothing stale is
    /// answered.
    #[error("{path}'s read models reflect the log up to seq {through} but the log reaches seq {head} (a bulk append defers them to the next reader), and they cannot be brought up to date here: the file or its directory is read-only for this user. Run `iofs-ledger --db {path} state` once as a user who can write the file and its directory (every read command brings them up to date), or `iofs-ledger --db {path} rebuild`; the log itself is whole (`log`, `head`, `export` and `verify` work as they are)", path = path.display())]
    Lagging {
        /// The file.
        path: PathBuf,
        /// The last seq the projections reflect.
        through: u64,
        /// The log's last seq.
        head: u64,
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
    /// A part of the file other than the log (a read model, a state snapshot, the file's
    /// metadata) cannot be read: the file was altered outside the tool. The log may be whole.
    #[error("the ledger file is damaged in {what} ({why}); run `iofs-ledger verify`, then `iofs-ledger rebuild` if the log itself is sound (the read models are derived from it)")]
    Damaged {
        /// What cannot be read.
        what: String,
        /// Why.
        why: String,
    },
    /// SQLite found the file's pages malformed (damage to its bytes, below what `verify`'s
    /// comparisons see): nothing was written.
    #[error("the ledger file's pages are damaged: SQLite found them malformed while {context}; nothing was written. `sqlite3 FILE 'PRAGMA integrity_check'` names the damaged pages; restore the ledger from a backup or a replica (`iofs-ledger backup`, `import`)")]
    Malformed {
        /// What was being done.
        context: &'static str,
    },
    /// A worker thread stopped without an answer: a defect of iofs-ledger, not of the file.
    #[error(
        "internal error: {0}; nothing was written. Please report it with the command that failed"
    )]
    Internal(&'static str),
    /// The file's `events` table, or its triggers, are not as iofs-ledger made them: nothing
    /// was written.
    #[error("{0}; nothing was written: run `iofs-ledger verify` and restore the ledger from a backup or a replica")]
    Tampered(String),
    /// The read models name events that the log no longer holds: events were removed.
    #[error("the read models name seq {named} but the log ends at seq {head}: events were removed from the log; nothing was written (rebuilding would erase this evidence): restore the ledger from a backup or a replica")]
    LostEvents {
        /// The log's last seq.
        head: u64,
        /// The largest seq the read models name.
        named: u64,
    },
    /// The clock reads earlier than the head's `recorded_at` by more than the tolerance.
    #[error("the clock reads {now}, earlier than {head_recorded_at}, when the log's head (seq {head_seq}) was recorded: either this machine's clock is wrong (set it right and try again) or that event was recorded with a clock in the future (check `iofs-ledger log --after {prev}`); nothing was appended", prev = head_seq.saturating_sub(1))]
    ClockBehind {
        /// The clock's reading.
        now: String,
        /// The head.
        head_seq: u64,
        /// The head's `recorded_at`.
        head_recorded_at: String,
    },
    /// An import was refused; nothing was imported.
    #[error("import refused at {}: {why}; nothing was imported", import_place(*.seq, *.line))]
    ImportRefused {
        /// The seq concerned (0 when the input line is not an event).
        seq: u64,
        /// The input line.
        line: Option<usize>,
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

fn import_place(seq: u64, line: Option<usize>) -> String {
    match (seq, line) {
        (0, Some(l)) => format!("input line {l}"),
        (s, Some(l)) => format!("seq {s} (input line {l})"),
        (s, None) => format!("seq {s}"),
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
            rusqlite::Error::SqliteFailure(f, _)
                if f.code == rusqlite::ErrorCode::DatabaseCorrupt
                    || f.code == rusqlite::ErrorCode::NotADatabase =>
            {
                StoreError::Malformed { context }
            }
            // Without the statement's text: a migration's SQL would fill the screen.
            rusqlite::Error::SqlInputError { error, msg, .. } => StoreError::Sqlite {
                context,
                source: rusqlite::Error::SqliteFailure(error, Some(msg)),
            },
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
    /// Keeps the descriptor the header was read through open until `conn` has closed (fields
    /// drop in order: this one last), see [`header`].
    _header: Option<header::Guard>,
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
fn inspect(path: &Path) -> Result<header::Guard, StoreError> {
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
    // The database header: the magic string, and `PRAGMA application_id` at offset 68. Read
    // through a descriptor that stays open while this process has the file open (see `header`).
    let (header, n, guard) = header::read(path, &meta).map_err(io(path))?;
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
    Ok(guard)
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

/// Opens `path` read-only as an immutable file (SQLite takes no locks and needs no `-shm`), for
/// a reader who cannot write beside it. Refused, naming the cause, when a `-wal` beside it holds
/// changes not yet in the file: they would be missed.
fn open_immutable(path: &Path) -> Result<Connection, StoreError> {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    let wal = PathBuf::from(wal);
    if fs::metadata(&wal).is_ok_and(|m| m.len() > 0) {
        return Err(StoreError::CannotOpen {
            path: path.to_path_buf(),
            why: format!(
                "it cannot be opened for writing (read-only file or directory), and {} holds changes not yet in the file that cannot be read without writing an index beside it; ask for write access to its directory, or have a writer run `iofs-ledger rebuild` or an append there first",
                wal.display()
            ),
        });
    }
    let abs = fs::canonicalize(path).map_err(io(path))?;
    let mut uri = String::from("file:");
    for b in abs.as_os_str().as_encoded_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => {
                uri.push(*b as char)
            }
            _ => uri.push_str(&format!("%{b:02X}")),
        }
    }
    uri.push_str("?immutable=1");
    Connection::open_with_flags(
        &uri,
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| StoreError::CannotOpen {
        path: path.to_path_buf(),
        why: e.to_string(),
    })
}

/// Refuses to create a ledger at `path` while a `-wal`, `-shm` or `-journal` file lies beside
/// it: left by a ledger that was there before (moved or deleted while a process had it open),
/// it would be taken for the new file's own journal, and SQLite would apply its pages to the
/// new file. Whether such a file is stale cannot be proved from here (a process may still have
/// the old file open), so it is never removed, only named.
pub(crate) fn refuse_leftover_journals(path: &Path) -> Result<(), StoreError> {
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let p = PathBuf::from(p);
        if fs::symlink_metadata(&p).is_ok() {
            return Err(StoreError::LeftoverJournal {
                path: path.to_path_buf(),
                journal: p,
            });
        }
    }
    Ok(())
}

impl Ledger {
    /// Opens an existing ledger file, refusing anything that is not one (left untouched).
    pub fn open(path: &Path, access: Access) -> Result<Ledger, StoreError> {
        let guard = inspect(path)?;
        let flags = match access {
            Access::ReadOnly => OpenFlags::SQLITE_OPEN_READ_ONLY,
            Access::ReadWrite | Access::Inspect => OpenFlags::SQLITE_OPEN_READ_WRITE,
        } | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let cannot = |e: rusqlite::Error| {
            StoreError::CannotOpen {
            path: path.to_path_buf(),
            why: match e.sqlite_error_code() {
                Some(rusqlite::ErrorCode::ReadOnly) | Some(rusqlite::ErrorCode::CannotOpen) => format!(
                    "{e}: the file or its directory is read-only for this user (a writer needs to write both; read commands do not)"
                ),
                _ => e.to_string(),
            },
        }
        };
        let read_version = |conn: &Connection| -> Result<i64, StoreError> {
            let _ = conn.busy_timeout(DEFAULT_BUSY_TIMEOUT);
            conn.query_row("PRAGMA user_version", [], |r| r.get(0))
                .map_err(|e| match e.sqlite_error_code() {
                    Some(rusqlite::ErrorCode::NotADatabase)
                    | Some(rusqlite::ErrorCode::DatabaseCorrupt) => StoreError::NotALedger {
                        path: path.to_path_buf(),
                        why: format!("unreadable: {e}"),
                    },
                    _ => cannot(e),
                })
        };
        let mut conn = Connection::open_with_flags(path, flags).map_err(cannot)?;
        let version = match read_version(&conn) {
            Ok(v) => v,
            // A reader without write access to the file's directory (or to the file): SQLite
            // cannot create the `-shm` index a WAL file needs. With no committed changes waiting
            // in a `-wal`, the file alone is the whole ledger: read it as immutable.
            Err(StoreError::CannotOpen { .. }) if access == Access::ReadOnly => {
                drop(conn);
                conn = open_immutable(path)?;
                read_version(&conn)?
            }
            Err(e) => return Err(e),
        };
        if access == Access::ReadWrite
            && conn.is_readonly(rusqlite::MAIN_DB).ctx("checking access")?
        {
            // SQLite quietly opens a file it cannot write read-only: say so before any write.
            return Err(StoreError::CannotOpen {
                path: path.to_path_buf(),
                why: "it is read-only for this user (a writer needs to write the file and its directory; read commands do not)".into(),
            });
        }
        if version == 0 {
            // application_id alone is four bytes anyone may set: a file is ours only when its
            // schema version says so too. Never migrate or append to it.
            return Err(StoreError::NotALedger {
                path: path.to_path_buf(),
                why: "it carries iofs-ledger's application_id but schema version 0: no iofs-ledger schema was ever applied to it".into(),
            });
        }
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
            _header: Some(guard),
        };
        // Its first pages are read here: a file with our header whose pages SQLite cannot
        // read is refused as `read_version` refuses one whose header it cannot.
        l.configure().map_err(|e| match e {
            StoreError::Malformed { .. } => StoreError::NotALedger {
                path: path.to_path_buf(),
                why: "unreadable: database disk image is malformed".into(),
            },
            e => e,
        })?;
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

    /// Brings the projections up to the log's head if a bulk append left them behind (see
    /// [`DEFER_THRESHOLD`]): one write transaction that takes the write lock (waiting up to the
    /// busy timeout), checks again under it (another process may have done it meanwhile) and
    /// refolds from the first unprojected event. A no-op when they are up to date (one read of
    /// `meta`). Inside a transaction, or when the file cannot be written here, it does nothing:
    /// what then needs the projections is refused ([`StoreError::Lagging`]), never answered
    /// stale. A ledger opened [`Access::ReadOnly`] does this through a second, read-write
    /// connection; `verify` never calls it (it checks the file as it is).
    ///
    /// The CLI calls it before every read command; the service before every request.
    pub fn catch_up(&self) -> Result<(), StoreError> {
        if self.version < schema::SCHEMA_VERSION || !self.conn.is_autocommit() {
            return Ok(());
        }
        if append::projected_through(&self.conn)?.is_none() {
            return Ok(());
        }
        let writable = !self
            .conn
            .is_readonly(rusqlite::MAIN_DB)
            .ctx("checking access")?;
        if writable {
            return catch_up_on(&self.conn);
        }
        let Some(path) = self.conn.path().filter(|p| !p.is_empty()) else {
            return Ok(());
        };
        let Ok(conn) = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        ) else {
            return Ok(());
        };
        if conn.is_readonly(rusqlite::MAIN_DB).unwrap_or(true) {
            return Ok(());
        }
        let caught_up = conn
            .busy_timeout(self.busy_timeout)
            .ctx("setting the busy timeout")
            .and_then(|()| {
                conn.execute_batch(&format!(
                    "PRAGMA synchronous = FULL; PRAGMA cache_size = -{CACHE_KIB};"
                ))
                .ctx("configuring the connection")
            })
            .and_then(|()| catch_up_on(&conn));
        match caught_up {
            // The directory may refuse the `-shm`/`-wal` files a write needs (as soon as the
            // connection first reads the file).
            Err(StoreError::Sqlite { source, .. })
                if matches!(
                    source.sqlite_error_code(),
                    Some(rusqlite::ErrorCode::ReadOnly) | Some(rusqlite::ErrorCode::CannotOpen)
                ) =>
            {
                Ok(())
            }
            r => r,
        }
    }

    /// Refuses, naming the reason, what needs the projections while they lag behind the log;
    /// outside a transaction, on a connection that can write, it first brings them up to date.
    pub(crate) fn require_projected(&self) -> Result<(), StoreError> {
        let Some(through) = append::projected_through(&self.conn)? else {
            return Ok(());
        };
        // An older file is not caught up here (`catch_up` leaves it to the upgrade): say so,
        // rather than that the file cannot be written.
        self.require_current()?;
        if self.conn.is_autocommit() {
            self.catch_up()?;
            if append::projected_through(&self.conn)?.is_none() {
                return Ok(());
            }
        }
        Err(StoreError::Lagging {
            path: self.conn.path().map(PathBuf::from).unwrap_or_default(),
            through,
            head: append::read_head(&self.conn)?.seq,
        })
    }

    /// A new ledger in memory (for answers from the built-in history and for tests).
    pub fn in_memory() -> Result<Ledger, StoreError> {
        let conn = Connection::open_in_memory().ctx("opening an in-memory database")?;
        let mut l = Ledger {
            conn,
            busy_timeout: DEFAULT_BUSY_TIMEOUT,
            version: schema::SCHEMA_VERSION,
            _header: None,
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
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        match fs::metadata(&dir) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return Err(StoreError::Io {
                    path: dir,
                    source: std::io::Error::other(
                        "not a directory: the ledger's directory must be one",
                    ),
                })
            }
            Err(e) => {
                return Err(StoreError::Io {
                    path: dir,
                    source: std::io::Error::new(
                        e.kind(),
                        format!("the ledger's directory cannot be used ({e}); create it first"),
                    ),
                })
            }
        }
        remove_stale_builds(path, &name, &cleanup);
        if fs::symlink_metadata(path).is_ok() {
            return Err(StoreError::AlreadyExists(path.to_path_buf()));
        }
        refuse_leftover_journals(path)?;
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
                _header: None,
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
            // Checked again just before the new file appears: SQLite would read a journal left
            // beside the path as the new file's own and corrupt it.
            refuse_leftover_journals(path)?;
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

/// [`Ledger::catch_up`] on a connection that can write.
fn catch_up_on(conn: &Connection) -> Result<(), StoreError> {
    let tx = rusqlite::Transaction::new_unchecked(conn, rusqlite::TransactionBehavior::Immediate)
        .ctx("taking the write lock")?;
    inspect::check_events_table(&tx)?;
    // Under the lock: another process may have caught up meanwhile (then this is a no-op).
    if append::catch_up_in(&tx)? {
        tx.commit().ctx("committing the catch-up")?;
    }
    Ok(())
}

/// The version of the SQLite library compiled in (e.g. `3.49.1`), for `--version`.
pub fn sqlite_version() -> &'static str {
    rusqlite::version()
}

/// The page cache of a connection, in KiB.
const CACHE_KIB: u32 = 32 * 1024;

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
        // Each refusal is the trigger's own, not just any SQLite error.
        let refused = |sql: &str, message: &str| {
            let e = l.conn.execute(sql, []).unwrap_err().to_string();
            assert!(e.contains(message), "`{sql}`: {e}");
        };
        refused(
            "UPDATE events SET body = 'x'",
            "events are append-only; append a correction instead",
        );
        refused(
            "DELETE FROM events",
            "events are append-only; append a retraction instead",
        );
        refused(
            "INSERT INTO events VALUES (3, 't', '{}', 'h')",
            "events are appended in seq order, without gaps",
        );
        assert!(l
            .conn
            .execute("INSERT INTO events VALUES (2, 't', '{}', 'h')", [])
            .is_ok());
    }
}
