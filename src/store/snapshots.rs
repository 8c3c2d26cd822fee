//! State snapshots: every key's fact at regular replay positions, so that the state at any day
//! is one seek to the snapshot before it plus a short scan of the facts changed since, instead
//! of one seek per key.
//!
//! A snapshot is taken at the end of a replay position once the `timeline` rows since the
//! previous snapshot (or since the start) number at least `max(SNAPSHOT_MIN_ROWS, keys)`, where
//! `keys` is how many keys the previous snapshot held. The rule depends on the timeline alone, so
//! snapshots kept up to date by appends equal those `rebuild` derives (`verify` compares them),
//! the snapshots together hold about as many facts as the timeline itself, and a query reads at
//! most about `max(SNAPSHOT_MIN_ROWS, keys)` rows after its snapshot.
//!
//! `facts` is one line `key\tfact\n` per key, in key order, `fact` being the timeline's own text.

use std::collections::BTreeMap;

use rusqlite::{params, Connection, OptionalExtension};

use super::schema::SNAPSHOT_MIN_ROWS;
use super::{Ctx, StoreError};
use crate::date::Day;
use crate::party::Party;
use crate::projection::{Fact, Key, PartyFacts, StateFacts};

/// A replay position (day, ord).
type Pos = (i64, i64);

fn corrupt(why: String) -> StoreError {
    StoreError::Corrupt {
        seq: 0,
        why: format!("{why}; run `iofs-ledger rebuild`"),
    }
}

/// The lines of a snapshot's `facts`, as (key, fact) texts.
fn lines(facts: &str) -> impl Iterator<Item = Result<(&str, &str), StoreError>> {
    facts.lines().map(|l| {
        l.split_once('\t')
            .ok_or_else(|| corrupt(format!("a state snapshot has a malformed line `{l}`")))
    })
}

/// Brings the snapshots up to date with `timeline` inside the write transaction `tx`: resumes
/// from the last snapshot (those at or after a refolded position were deleted by the refold).
/// Cheap when no snapshot is due: one seek and a count of the rows since the last one.
pub(crate) fn update(tx: &Connection) -> Result<(), StoreError> {
    let last: Option<(Pos, i64, i64)> = tx
        .prepare_cached(
            "SELECT day, ord, rows, keys FROM state_snapshots ORDER BY day DESC, ord DESC LIMIT 1",
        )
        .ctx("reading state snapshots")?
        .query_row([], |r| Ok(((r.get(0)?, r.get(1)?), r.get(2)?, r.get(3)?)))
        .optional()
        .ctx("reading state snapshots")?;
    let (from, mut rows_before, keys) = last.unwrap_or(((i64::MIN, i64::MIN), 0, 0));
    let mut threshold = SNAPSHOT_MIN_ROWS.max(keys);
    let since: i64 = tx
        .prepare_cached(
            "SELECT COUNT(*) FROM (SELECT 1 FROM timeline WHERE (day, ord) > (?1, ?2) LIMIT ?3)",
        )
        .ctx("reading state snapshots")?
        .query_row(params![from.0, from.1, threshold], |r| r.get(0))
        .ctx("reading state snapshots")?;
    if since < threshold {
        return Ok(());
    }
    // Every key's fact text at `from`.
    let mut state: BTreeMap<String, String> = BTreeMap::new();
    if last.is_some() {
        let facts: String = tx
            .query_row(
                "SELECT facts FROM state_snapshots WHERE day = ?1 AND ord = ?2",
                params![from.0, from.1],
                |r| r.get(0),
            )
            .ctx("reading state snapshots")?;
        for l in lines(&facts) {
            let (k, f) = l?;
            state.insert(k.to_string(), f.to_string());
        }
    }
    let mut insert = tx
        .prepare_cached(
            "INSERT INTO state_snapshots (day, ord, rows, keys, facts) VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .ctx("storing a state snapshot")?;
    let mut st = tx
        .prepare_cached(
            "SELECT day, ord, key, fact FROM timeline WHERE (day, ord) > (?1, ?2) ORDER BY day, ord, key",
        )
        .ctx("reading the timeline")?;
    let mut rows = st
        .query(params![from.0, from.1])
        .ctx("reading the timeline")?;
    let mut pending = 0i64;
    let mut at: Option<Pos> = None;
    let mut take = |pos: Pos,
                    pending: &mut i64,
                    rows_before: &mut i64,
                    state: &BTreeMap<String, String>,
                    threshold: &mut i64|
     -> Result<(), StoreError> {
        if *pending < *threshold {
            return Ok(());
        }
        *rows_before += *pending;
        *pending = 0;
        let mut facts = String::with_capacity(state.len() * 96);
        for (k, f) in state {
            facts.push_str(k);
            facts.push('\t');
            facts.push_str(f);
            facts.push('\n');
        }
        let keys = state.len() as i64;
        insert
            .execute(params![pos.0, pos.1, *rows_before, keys, facts])
            .ctx("storing a state snapshot")?;
        *threshold = SNAPSHOT_MIN_ROWS.max(keys);
        Ok(())
    };
    while let Some(r) = rows.next().ctx("reading the timeline")? {
        let pos: Pos = (
            r.get(0).ctx("reading the timeline")?,
            r.get(1).ctx("reading the timeline")?,
        );
        if let Some(prev) = at.filter(|p| *p != pos) {
            take(prev, &mut pending, &mut rows_before, &state, &mut threshold)?;
        }
        at = Some(pos);
        let key: String = r.get(2).ctx("reading the timeline")?;
        let fact: String = r.get(3).ctx("reading the timeline")?;
        if key.contains(['\t', '\n']) || fact.contains('\n') {
            return Err(corrupt(format!(
                "the timeline holds a key or fact with a tab or newline (`{key}`)"
            )));
        }
        state.insert(key, fact);
        pending += 1;
    }
    if let Some(prev) = at {
        take(prev, &mut pending, &mut rows_before, &state, &mut threshold)?;
    }
    Ok(())
}

/// Deletes the snapshots at or after `from` (their positions are about to be refolded).
pub(crate) fn invalidate(tx: &Connection, from: Pos) -> Result<(), StoreError> {
    tx.prepare_cached("DELETE FROM state_snapshots WHERE (day, ord) >= (?1, ?2)")
        .ctx("clearing state snapshots")?
        .execute(params![from.0, from.1])
        .ctx("clearing state snapshots")?;
    Ok(())
}

/// Where a stored key's fact goes in a [`StateFacts`].
enum Slot<'a> {
    Member(&'a str),
    Ratified(&'a str),
    Observer(&'a str),
    Other(Key),
}

fn slot(k: &str) -> Result<Slot<'_>, StoreError> {
    let unknown = || corrupt(format!("the read models hold an unknown key `{k}`"));
    let (kind, rest) = k.split_once(':').ok_or_else(unknown)?;
    Ok(match kind {
        "member" => Slot::Member(rest),
        "ratified" => Slot::Ratified(rest),
        "observer" => Slot::Observer(rest),
        _ => Slot::Other(Key::decode(k).ok_or_else(unknown)?),
    })
}

/// Every key's fact at `day` from the read models: the last snapshot at or before `day`, and the
/// facts changed after it up to `day` (newest first, so each key keeps its latest), merged
/// in key order so that each key's fact is decoded once.
pub(crate) fn facts_at(conn: &Connection, day: Day) -> Result<StateFacts, StoreError> {
    let d = day.0 as i64;
    let snap: Option<(Pos, String)> = conn
        .prepare_cached(
            "SELECT day, ord, facts FROM state_snapshots WHERE day <= ?1 ORDER BY day DESC, ord DESC LIMIT 1",
        )
        .ctx("reading state snapshots")?
        .query_row([d], |r| Ok(((r.get(0)?, r.get(1)?), r.get(2)?)))
        .optional()
        .ctx("reading state snapshots")?;
    let from = snap.as_ref().map_or((i64::MIN, i64::MIN), |(p, _)| *p);
    // The facts changed since the snapshot, each key's latest.
    let mut changed: BTreeMap<String, String> = BTreeMap::new();
    {
        let mut st = conn
            .prepare_cached(
                "SELECT key, fact FROM timeline INDEXED BY timeline_by_position WHERE (day, ord) > (?1, ?2) AND day <= ?3 ORDER BY day DESC, ord DESC",
            )
            .ctx("reading the timeline")?;
        let mut rows = st
            .query(params![from.0, from.1, d])
            .ctx("reading the timeline")?;
        while let Some(r) = rows.next().ctx("reading the timeline")? {
            let k = r.get_ref(0).ctx("reading the timeline")?;
            let f = r.get_ref(1).ctx("reading the timeline")?;
            let (Ok(k), Ok(f)) = (k.as_str(), f.as_str()) else {
                return Err(corrupt("a timeline row is not text".into()));
            };
            if !changed.contains_key(k) {
                changed.insert(k.to_string(), f.to_string());
            }
        }
    }
    let mut parties: BTreeMap<&str, [Option<Fact>; 3]> = BTreeMap::new();
    let mut others = std::collections::HashMap::new();
    let text = snap.as_ref().map_or("", |(_, t)| t.as_str());
    // Merge the snapshot's lines (in key order) with the changed keys (in key order).
    let mut changes = changed.iter().peekable();
    let mut entries: Vec<(&str, &str)> = Vec::with_capacity(changed.len() + 1024);
    for l in lines(text) {
        let (k, f) = l?;
        while let Some((ck, cf)) = changes.next_if(|(ck, _)| ck.as_str() < k) {
            entries.push((ck, cf));
        }
        match changes.next_if(|(ck, _)| ck.as_str() == k) {
            Some((ck, cf)) => entries.push((ck, cf)),
            None => entries.push((k, f)),
        }
    }
    entries.extend(changes.map(|(k, f)| (k.as_str(), f.as_str())));
    for (k, f) in entries {
        let fact = super::read::decode_fact(f, || k.to_string())?;
        let (code, i) = match slot(k)? {
            Slot::Member(c) => (c, 0),
            Slot::Ratified(c) => (c, 1),
            Slot::Observer(c) => (c, 2),
            Slot::Other(key) => {
                others.insert(key, fact);
                continue;
            }
        };
        parties.entry(code).or_default()[i] = Some(fact);
    }
    let parties = parties
        .into_iter()
        .map(|(code, [member, ratified, observer])| {
            let party = Party::parse(code).map_err(|e| {
                corrupt(format!(
                    "the read models hold a key of a bad party `{code}`: {e}"
                ))
            })?;
            Ok(PartyFacts {
                party,
                member,
                ratified,
                observer,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(StateFacts { parties, others })
}
