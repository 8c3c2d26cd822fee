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
    // 3: views for SQL users (sqlite3, Datasette): ISO dates and plain columns instead of day
    // numbers and JSON. Views only: nothing is stored, and `rebuild`/`verify` do not touch
    // them. A day number `d` (days from 0001-01-01, which is day 1) is `date(d + 1721424.5)`.
    // `IF NOT EXISTS`: a file whose version was set back by hand may still hold them.
    r#"
-- Every event: its type, its date as ISO 8601 (a day, a month, a year, or an interval
-- `first/last` for bounds), the first and last day it may denote, its precision, its party
-- (for the types that have one), its source, and whether a later event retracted or corrected it.
CREATE VIEW IF NOT EXISTS event_rows AS
WITH d AS (
    SELECT seq, recorded_at, body, hash,
           json_type(body, '$.date') AS shape,
           CASE json_type(body, '$.date')
               WHEN 'text' THEN json_extract(body, '$.date')
               WHEN 'object' THEN json_extract(body, '$.date.not_before') END AS lo,
           CASE json_type(body, '$.date')
               WHEN 'text' THEN json_extract(body, '$.date')
               WHEN 'object' THEN json_extract(body, '$.date.not_after') END AS hi
    FROM events
)
SELECT seq,
       recorded_at,
       json_extract(body, '$.type') AS type,
       CASE WHEN shape = 'object' THEN lo || '/' || hi ELSE lo END AS date,
       CASE length(lo) WHEN 4 THEN lo || '-01-01' WHEN 7 THEN lo || '-01' ELSE lo END AS first_day,
       CASE length(hi) WHEN 4 THEN hi || '-12-31'
                       WHEN 7 THEN date(hi || '-01', '+1 month', '-1 day') ELSE hi END AS last_day,
       CASE WHEN lo IS NULL THEN NULL WHEN shape = 'object' THEN 'bounded'
            WHEN length(lo) = 4 THEN 'year' WHEN length(lo) = 7 THEN 'month' ELSE 'day' END
           AS precision,
       json_extract(body, '$.party') AS party,
       COALESCE(json_extract(body, '$.source.document'), json_extract(body, '$.source.url'))
           AS source,
       json_extract(body, '$.source.quote') AS quote,
       (SELECT MAX(by_seq) FROM overrides o WHERE o.target = d.seq AND o.kind = 'retraction')
           AS retracted_by,
       (SELECT MAX(by_seq) FROM overrides o WHERE o.target = d.seq AND o.kind = 'correction')
           AS corrected_by,
       hash,
       body
FROM d;

-- Each period a party was a member: from the day its signature counts from, until the day
-- the next change of its membership counts from (a withdrawal; NULL while still a member).
-- The members on a day D: WHERE from_day <= D AND (until_day IS NULL OR until_day > D).
CREATE VIEW IF NOT EXISTS member_periods AS
SELECT party, ordinal, from_day, until_day, seq
FROM (
    SELECT substr(key, 8) AS party,
           json_extract(fact, '$.fact') AS status,
           json_extract(fact, '$.ordinal') AS ordinal,
           date(day + 1721424.5) AS from_day,
           date(LEAD(day) OVER (PARTITION BY key ORDER BY day, ord) + 1721424.5) AS until_day,
           json_extract(fact, '$.seq') AS seq
    FROM timeline
    WHERE key >= 'member:' AND key < 'member;'
)
WHERE status = 'member';

-- The member count as of each day it changed (the count at the end of that day).
CREATE VIEW IF NOT EXISTS member_counts AS
SELECT date(day + 1721424.5) AS day, json_extract(fact, '$.value') AS members
FROM timeline t
WHERE key = 'count:members'
  AND ord = (SELECT MAX(ord) FROM timeline u WHERE u.key = t.key AND u.day = t.day);
"#,
    // 4: the read models gain `milestone:first_signature` (the rules that no signature
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
