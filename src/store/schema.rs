//! Schema and migrations.
//!
//! Migrations are an ordered list applied in one exclusive transaction and recorded in
//! `PRAGMA user_version`. **Never remove or reorder a migration**: a ledger file carries its
//! version, and every later version must be reachable from it. A file whose version is newer than
//! [`SCHEMA_VERSION`] is refused untouched.
//!
//! Only the `events` table is the record. Every other table is a read model that
//! `rebuild` derives from `events` and `verify` checks against a fresh replay.

/// `PRAGMA application_id` of an iofs-ledger file ("IOFS").
pub const APPLICATION_ID: i64 = 0x494F_4653;

/// The ordered migrations; migration `i` takes the schema from version `i` to `i + 1`.
pub const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE events (
    seq         INTEGER PRIMARY KEY,
    recorded_at TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    hash        TEXT    NOT NULL
);
CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'iofs-ledger: events are append-only; append a correction instead'); END;
CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'iofs-ledger: events are append-only; append a retraction instead'); END;
CREATE TRIGGER events_in_sequence BEFORE INSERT ON events
WHEN NEW.seq IS NOT (SELECT IFNULL(MAX(seq), 0) + 1 FROM events)
BEGIN SELECT RAISE(ABORT, 'iofs-ledger: events are appended in seq order, without gaps'); END;

-- Read models: derived from events, rebuilt by `rebuild`, checked by `verify`.
CREATE TABLE replay_order (
    day INTEGER NOT NULL,
    ord INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (day, ord, seq)
) WITHOUT ROWID;
CREATE TABLE overrides (
    target INTEGER NOT NULL,
    by_seq INTEGER NOT NULL,
    kind   TEXT    NOT NULL,
    PRIMARY KEY (target, by_seq)
) WITHOUT ROWID;
CREATE TABLE timeline (
    key  TEXT    NOT NULL,
    day  INTEGER NOT NULL,
    ord  INTEGER NOT NULL,
    fact TEXT    NOT NULL,
    PRIMARY KEY (key, day, ord)
) WITHOUT ROWID;
CREATE INDEX timeline_by_position ON timeline (day, ord);
CREATE TABLE windows (
    day   INTEGER NOT NULL,
    ord   INTEGER NOT NULL,
    start INTEGER NOT NULL,
    seq   INTEGER NOT NULL,
    PRIMARY KEY (day, ord)
) WITHOUT ROWID;
CREATE INDEX windows_by_start ON windows (start);
CREATE TABLE parties (party TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE party_events (
    party TEXT    NOT NULL,
    seq   INTEGER NOT NULL,
    PRIMARY KEY (party, seq)
) WITHOUT ROWID;
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
"#,
    // 2: state snapshots, facts readable in position order, pending events stored ready to show.
    // A file migrated from 1 has its read models rebuilt in the same transaction (`Ledger::migrate`).
    r#"
-- A rowid table, not WITHOUT ROWID: there the B-tree's interior cells would copy whole rows,
-- and every seek would read snapshots tens of kilobytes long to compare positions.
CREATE TABLE state_snapshots (
    day   INTEGER NOT NULL,
    ord   INTEGER NOT NULL,
    rows  INTEGER NOT NULL,
    keys  INTEGER NOT NULL,
    facts TEXT    NOT NULL,
    UNIQUE (day, ord)
);
DROP INDEX timeline_by_position;
CREATE INDEX timeline_by_position ON timeline (day, ord, key, fact);
DROP TABLE windows;
CREATE TABLE windows (
    day   INTEGER NOT NULL,
    ord   INTEGER NOT NULL,
    start INTEGER NOT NULL,
    seq   INTEGER NOT NULL,
    type  TEXT    NOT NULL,
    party TEXT,
    date  TEXT    NOT NULL,
    PRIMARY KEY (day, ord)
) WITHOUT ROWID;
CREATE INDEX windows_by_start ON windows (start, day, ord, seq, type, party, date);
"#,
    // Version 3: the read models gain `milestone:first_signature` (the rules that no signature
    // precedes the Statute's adoption or the organisation's establishment consult it). No table
    // changes; the migration rebuilds the read models.
    r#"
SELECT 1;
"#,
];

/// The fewest `timeline` rows between two state snapshots (see `store::snapshots`). Part of the
/// read models' definition: changing it changes what `rebuild` derives.
pub const SNAPSHOT_MIN_ROWS: i64 = 512;

/// The schema version this build writes and reads.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// The names of the append-only triggers `verify` requires.
pub const REQUIRED_TRIGGERS: [&str; 3] = [
    "events_append_only_update",
    "events_append_only_delete",
    "events_in_sequence",
];

/// The read-model tables (cleared by `rebuild`).
pub const READ_MODEL_TABLES: [&str; 7] = [
    "replay_order",
    "state_snapshots",
    "overrides",
    "timeline",
    "windows",
    "parties",
    "party_events",
];
