//! What `verify` and every writer check about the file itself: its whole schema against the
//! one the migrations make, and its read models against ones derived outside it.
//!
//! Nothing stored in the file under check takes part in deriving what it is compared with:
//! the expected schema comes from applying the migrations to a fresh in-memory database, and
//! the expected read models (`meta` included) from replaying a copy of the file's events in a
//! scratch database that holds nothing else. So a trigger, view or row planted in the file
//! cannot take part in its own check.

use std::cmp::Ordering;
use std::sync::OnceLock;
use std::time::Duration;

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension};

use super::{schema, Ctx, Ledger, ReadModelCheck, StoreError, CACHE_KIB};

/// One entry of `sqlite_master`: type, name, table, SQL.
pub type SchemaObject = (String, String, String, Option<String>);

/// The schema objects of `conn`'s main database, ordered (SQLite's own statistics tables,
/// which `ANALYZE` makes and which change no answer, are left out).
fn schema_of(conn: &Connection) -> Result<Vec<SchemaObject>, StoreError> {
    let mut st = conn
        .prepare_cached(
            "SELECT type, name, tbl_name, sql FROM main.sqlite_master WHERE name NOT LIKE 'sqlite\\_stat%' ESCAPE '\\' ORDER BY type, name",
        )
        .ctx("reading the schema")?;
    let rows = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .ctx("reading the schema")?;
    rows.collect::<Result<Vec<_>, _>>()
        .ctx("reading the schema")
}

/// The schema the first `version` migrations make, from a fresh in-memory database.
pub fn expected_schema(version: i64) -> Result<Vec<SchemaObject>, StoreError> {
    let conn = Connection::open_in_memory().ctx("opening an in-memory database")?;
    for m in schema::MIGRATIONS.iter().take(version.max(0) as usize) {
        conn.execute_batch(m).ctx("applying a migration")?;
    }
    schema_of(&conn)
}

/// The objects on `events` (the table, its triggers and indexes) in the current schema.
fn expected_events_objects() -> Result<&'static [SchemaObject], StoreError> {
    static EXPECTED: OnceLock<Vec<SchemaObject>> = OnceLock::new();
    if let Some(e) = EXPECTED.get() {
        return Ok(e);
    }
    let all = expected_schema(schema::SCHEMA_VERSION)?;
    let events: Vec<SchemaObject> = all.into_iter().filter(|o| o.2 == "events").collect();
    Ok(EXPECTED.get_or_init(|| events))
}

/// Refuses to write unless `events` is the table iofs-ledger made, with exactly the triggers
/// and indexes it made (a view of that name, or no-op triggers of the expected names, would
/// let an append report success for nothing stored, or the log be rewritten).
pub(crate) fn check_events_table(conn: &Connection) -> Result<(), StoreError> {
    let expected = expected_events_objects()?;
    let found: Vec<SchemaObject> = schema_of(conn)?
        .into_iter()
        .filter(|o| o.1 == "events" || o.2 == "events")
        .collect();
    if found.as_slice() == expected {
        return Ok(());
    }
    let why = describe(expected, &found)
        .into_iter()
        .next()
        .unwrap_or_else(|| "its definition differs".into());
    Err(StoreError::Tampered(format!(
        "the `events` table is not as iofs-ledger made it: {why}"
    )))
}

/// What differs between an expected and a found schema, one sentence an object.
fn describe(expected: &[SchemaObject], found: &[SchemaObject]) -> Vec<String> {
    let mut out = Vec::new();
    for e in expected {
        match found.iter().find(|f| f.0 == e.0 && f.1 == e.1) {
            None => match found.iter().find(|f| f.1 == e.1) {
                Some(f) => out.push(format!("`{}` is a {}, not a {}", e.1, f.0, e.0)),
                None => out.push(format!("the {} `{}` is missing", e.0, e.1)),
            },
            Some(f) if f != e => out.push(format!(
                "the {} `{}` is not the one iofs-ledger made (its definition differs)",
                e.0, e.1
            )),
            Some(_) => {}
        }
    }
    for f in found {
        if !expected.iter().any(|e| e.1 == f.1) {
            out.push(format!(
                "an unexpected {} `{}` (on `{}`) was added",
                f.0, f.1, f.2
            ));
        }
    }
    out
}

/// The largest seq the read models of `conn` name when it is beyond `head` (events the log
/// no longer holds), else `None`.
pub(crate) fn beyond_head(conn: &Connection, head: u64) -> Result<Option<u64>, StoreError> {
    let max: Option<i64> = conn
        .query_row(
            "SELECT MAX(m) FROM (
                SELECT MAX(seq) AS m FROM replay_order UNION ALL SELECT MAX(ord) FROM replay_order
                UNION ALL SELECT MAX(by_seq) FROM overrides UNION ALL SELECT MAX(target) FROM overrides
                UNION ALL SELECT MAX(seq) FROM party_events UNION ALL SELECT MAX(seq) FROM windows
                UNION ALL SELECT MAX(ord) FROM timeline)",
            [],
            |r| r.get(0),
        )
        .optional()
        .ctx("reading the read models")?
        .flatten();
    Ok(max.filter(|m| *m > head as i64).map(|m| m as u64))
}

/// The read models compared, their columns (ordered as compared) and the column naming a seq.
const COMPARED: [(&str, &str, &str); 8] = [
    ("timeline", "key, day, ord, fact", "ord"),
    ("replay_order", "day, ord, seq", "seq"),
    ("overrides", "target, by_seq, kind", "by_seq"),
    ("windows", "day, ord, start, seq, type, party, date", "seq"),
    ("state_snapshots", "day, ord, rows, keys, facts", "ord"),
    ("parties", "party", ""),
    ("party_events", "party, seq", "seq"),
    ("meta", "key, value", ""),
];

/// SQLite's order of values (`ORDER BY`, BINARY collation): NULL, numbers, text, blobs.
fn cmp_value(a: &Value, b: &Value) -> Ordering {
    fn class(v: &Value) -> u8 {
        match v {
            Value::Null => 0,
            Value::Integer(_) | Value::Real(_) => 1,
            Value::Text(_) => 2,
            Value::Blob(_) => 3,
        }
    }
    match (a, b) {
        (Value::Integer(x), Value::Integer(y)) => x.cmp(y),
        (Value::Integer(x), Value::Real(y)) => (*x as f64).total_cmp(y),
        (Value::Real(x), Value::Integer(y)) => x.total_cmp(&(*y as f64)),
        (Value::Real(x), Value::Real(y)) => x.total_cmp(y),
        (Value::Text(x), Value::Text(y)) => x.as_bytes().cmp(y.as_bytes()),
        (Value::Blob(x), Value::Blob(y)) => x.cmp(y),
        _ => class(a).cmp(&class(b)),
    }
}

fn cmp_row(a: &[Value], b: &[Value]) -> Ordering {
    a.iter()
        .zip(b)
        .map(|(x, y)| cmp_value(x, y))
        .find(|o| *o != Ordering::Equal)
        .unwrap_or(a.len().cmp(&b.len()))
}

/// Compares a table whole between two connections, streaming both in the same order: the
/// number of rows that differ and the smallest seq among them.
fn compare_table(
    stored: &Connection,
    derived: &Connection,
    table: &str,
    cols: &str,
    seqcol: &str,
) -> Result<(u64, Option<u64>), StoreError> {
    let q = format!("SELECT {cols} FROM main.{table} ORDER BY {cols}");
    let n = cols.split(',').count();
    let seq_at = cols.split(',').position(|c| c.trim() == seqcol);
    let mut a = stored.prepare(&q).ctx("reading a read model")?;
    let mut b = derived.prepare(&q).ctx("reading a derived read model")?;
    let mut ra = a.query([]).ctx("reading a read model")?;
    let mut rb = b.query([]).ctx("reading a derived read model")?;
    let row = |r: &rusqlite::Row<'_>| -> Result<Vec<Value>, StoreError> {
        (0..n)
            .map(|i| r.get::<_, Value>(i))
            .collect::<Result<Vec<_>, _>>()
            .ctx("reading a read model")
    };
    let mut next_a = ra
        .next()
        .ctx("reading a read model")?
        .map(row)
        .transpose()?;
    let mut next_b = rb
        .next()
        .ctx("reading a derived read model")?
        .map(row)
        .transpose()?;
    let (mut diffs, mut min_seq) = (0u64, None::<u64>);
    let mut note = |r: &[Value]| {
        diffs += 1;
        if let Some(Value::Integer(s)) = seq_at.and_then(|i| r.get(i)) {
            let s = (*s).max(0) as u64;
            min_seq = Some(min_seq.map_or(s, |m| m.min(s)));
        }
    };
    loop {
        let order = match (&next_a, &next_b) {
            (None, None) => break,
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some(x), Some(y)) => cmp_row(x, y),
        };
        if order != Ordering::Greater {
            if order == Ordering::Less {
                if let Some(x) = &next_a {
                    note(x);
                }
            }
            next_a = ra
                .next()
                .ctx("reading a read model")?
                .map(row)
                .transpose()?;
        }
        if order != Ordering::Less {
            if order == Ordering::Greater {
                if let Some(y) = &next_b {
                    note(y);
                }
            }
            next_b = rb
                .next()
                .ctx("reading a derived read model")?
                .map(row)
                .transpose()?;
        }
    }
    Ok((diffs, min_seq))
}

impl Ledger {
    /// How the file's whole schema (every table, index, trigger and view, by its SQL) differs
    /// from the one the migrations make for its version; empty when it is the same.
    pub fn schema_problems(&self) -> Result<Vec<String>, StoreError> {
        let expected = expected_schema(self.version)?;
        let found = schema_of(&self.conn)?;
        Ok(describe(&expected, &found))
    }

    /// The largest seq the stored read models name beyond the log's head `head`: events the
    /// log no longer holds.
    pub fn read_models_beyond(&self, head: u64) -> Result<Option<u64>, StoreError> {
        beyond_head(&self.conn, head)
    }

    /// Derives every read model (`meta` included) outside the file, by replaying a copy of
    /// its events in a scratch database on disk that holds nothing else, and compares each
    /// table whole with what the file stores. Writes nothing to the file; inside a
    /// [`Ledger::snapshot`] every read sees one state of it.
    pub fn compare_read_models(&self) -> Result<ReadModelCheck, StoreError> {
        self.require_current()?;
        let scratch = tempfile::NamedTempFile::new().map_err(|source| StoreError::Io {
            path: std::env::temp_dir(),
            source,
        })?;
        let conn = Connection::open(scratch.path()).ctx("opening a scratch database")?;
        conn.execute_batch(&format!(
            "PRAGMA synchronous = OFF; PRAGMA journal_mode = OFF; PRAGMA temp_store = FILE; PRAGMA cache_size = -{};",
            CACHE_KIB / 2
        ))
        .ctx("opening a scratch database")?;
        let mut derived = Ledger {
            conn,
            busy_timeout: Duration::ZERO,
            version: 0,
        };
        derived.migrate()?;
        {
            let tx = derived
                .conn
                .transaction()
                .ctx("copying the log to a scratch database")?;
            {
                let mut insert = tx
                    .prepare(
                        "INSERT INTO events (seq, recorded_at, body, hash) VALUES (?1, ?2, ?3, ?4)",
                    )
                    .ctx("copying the log to a scratch database")?;
                let mut st = self
                    .conn
                    .prepare("SELECT seq, recorded_at, body, hash FROM events ORDER BY seq")
                    .ctx("reading the log")?;
                let mut rows = st.query([]).ctx("reading the log")?;
                while let Some(r) = rows.next().ctx("reading the log")? {
                    let v = (0..4)
                        .map(|i| r.get::<_, Value>(i))
                        .collect::<Result<Vec<_>, _>>()
                        .ctx("reading the log")?;
                    insert
                        .execute(rusqlite::params_from_iter(v))
                        .ctx("copying the log to a scratch database")?;
                }
            }
            // A file whose projections lag (after a bulk append) is compared with read models
            // derived as far as its `meta.projected_through` says.
            let through = super::append::projected_through(&self.conn)?;
            match super::append::rebuild_as_projected(&tx, through) {
                Ok(_) => {}
                Err(StoreError::Corrupt { seq, why }) => {
                    return Ok(ReadModelCheck::Unreplayable { seq, why })
                }
                Err(e) => return Err(e),
            }
            tx.commit().ctx("deriving the read models")?;
        }
        let mut diffs = Vec::new();
        for (t, cols, seqcol) in COMPARED {
            let (n, min) = compare_table(&self.conn, &derived.conn, t, cols, seqcol)?;
            if n > 0 {
                diffs.push((t, min, n));
            }
        }
        Ok(ReadModelCheck::Differences(diffs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_ledger_has_exactly_the_expected_schema() {
        let l = Ledger::in_memory().unwrap();
        assert_eq!(l.schema_problems().unwrap(), Vec::<String>::new());
        check_events_table(&l.conn).unwrap();
    }

    #[test]
    fn values_order_as_sqlite_orders_them() {
        let v = [
            Value::Null,
            Value::Integer(-1),
            Value::Real(0.5),
            Value::Integer(1),
            Value::Text("A".into()),
            Value::Text("a".into()),
            Value::Blob(vec![0]),
        ];
        for w in v.windows(2) {
            assert_eq!(cmp_value(&w[0], &w[1]), Ordering::Less, "{w:?}");
        }
    }
}
