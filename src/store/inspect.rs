//! What `verify` and every writer check about the file itself: its whole schema against the
//! one the migrations make (its read models are compared with what the log derives in
//! `store::check`).
//!
//! Nothing stored in the file under check takes part in deriving what it is compared with:
//! the expected schema comes from applying the migrations to a fresh in-memory database. So a
//! trigger, view or index planted in the file cannot take part in its own check.

use std::sync::OnceLock;

use rusqlite::{Connection, OptionalExtension};

use super::{schema, Ctx, Ledger, StoreError};

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
}
