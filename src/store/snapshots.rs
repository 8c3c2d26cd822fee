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
use std::sync::atomic::{AtomicI64, Ordering};

use rusqlite::{params, Connection, OptionalExtension};

use super::schema::SNAPSHOT_MIN_ROWS;
use super::{Ctx, StoreError};
use crate::date::Day;
use crate::party::Party;
use crate::projection::{cut, Fact, Key, PartyFacts, StateFacts};

/// When non-zero, the rows that make a snapshot due, in place of `max(SNAPSHOT_MIN_ROWS, keys)`
/// (tests only: see [`set_snapshot_threshold_for_tests`]).
static TEST_THRESHOLD: AtomicI64 = AtomicI64::new(0);

/// Makes a snapshot due every `rows` timeline rows in this process (0 restores the rule
/// `max(SNAPSHOT_MIN_ROWS, keys)`), so that tests with small logs exercise snapshots, refolds
/// that drop them and `--known-at` across them. Process-wide, not per ledger: `rebuild`, the
/// schema upgrade and `verify`'s re-derivation all take snapshots on a bare connection, and
/// every one of them must use the same rule for appended snapshots to equal rebuilt ones. A
/// test binary that lowers it must do so before it opens its first ledger and never change it
/// again. Not for production use: the binary never calls it.
#[doc(hidden)]
pub fn set_snapshot_threshold_for_tests(rows: i64) {
    TEST_THRESHOLD.store(rows.max(0), Ordering::SeqCst);
}

/// The rows since the last snapshot that make the next one due, given the keys it held.
pub(super) fn threshold(keys: i64) -> i64 {
    match TEST_THRESHOLD.load(Ordering::SeqCst) {
        0 => SNAPSHOT_MIN_ROWS.max(keys),
        n => n,
    }
}

/// A replay position (day, ord).
type Pos = (i64, i64);

fn corrupt(why: String) -> StoreError {
    StoreError::Damaged {
        what: "its read models".into(),
        why,
    }
}

/// The lines of a snapshot's `facts`, as (key, fact) texts.
fn lines(facts: &str) -> impl Iterator<Item = Result<(&str, &str), StoreError>> {
    let mut rest = facts;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let line = match cut(rest, b'\n') {
            Some((line, r)) => {
                rest = r;
                line
            }
            None => std::mem::take(&mut rest),
        };
        Some(
            cut(line, b'\t')
                .ok_or_else(|| corrupt(format!("a state snapshot has a malformed line `{line}`"))),
        )
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
    let (from, rows_before, keys) = last.unwrap_or(((i64::MIN, i64::MIN), 0, 0));
    let threshold = threshold(keys);
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
    let mut walk = Walk {
        insert: tx
            .prepare_cached(
                "INSERT INTO state_snapshots (day, ord, rows, keys, facts) VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .ctx("storing a state snapshot")?,
        state,
        rows_before,
        pending: 0,
        threshold,
    };
    let mut st = tx
        .prepare_cached(
            "SELECT day, ord, key, fact FROM timeline WHERE (day, ord) > (?1, ?2) ORDER BY day, ord, key",
        )
        .ctx("reading the timeline")?;
    let mut rows = st
        .query(params![from.0, from.1])
        .ctx("reading the timeline")?;
    let mut at: Option<Pos> = None;
    while let Some(r) = rows.next().ctx("reading the timeline")? {
        let pos: Pos = (
            r.get(0).ctx("reading the timeline")?,
            r.get(1).ctx("reading the timeline")?,
        );
        if let Some(prev) = at.filter(|p| *p != pos) {
            walk.end_of(prev)?;
        }
        at = Some(pos);
        let key: String = r.get(2).ctx("reading the timeline")?;
        let fact: String = r.get(3).ctx("reading the timeline")?;
        if key.contains(['\t', '\n']) || fact.contains('\n') {
            return Err(corrupt(format!(
                "the timeline holds a key or fact with a tab or newline (`{key}`)"
            )));
        }
        walk.state.insert(key, fact);
        walk.pending += 1;
    }
    if let Some(prev) = at {
        walk.end_of(prev)?;
    }
    Ok(())
}

/// A walk over the timeline in replay order that takes the snapshots that are due.
struct Walk<'c> {
    insert: rusqlite::CachedStatement<'c>,
    /// Every key's fact text so far.
    state: BTreeMap<String, String>,
    /// Timeline rows up to the last snapshot.
    rows_before: i64,
    /// Timeline rows since it.
    pending: i64,
    /// How many rows make a snapshot due.
    threshold: i64,
}

impl Walk<'_> {
    /// At the end of the replay position `pos`: stores a snapshot there if one is due.
    fn end_of(&mut self, pos: Pos) -> Result<(), StoreError> {
        if self.pending < self.threshold {
            return Ok(());
        }
        self.rows_before += self.pending;
        self.pending = 0;
        let mut facts = String::with_capacity(self.state.len() * 96);
        for (k, f) in &self.state {
            facts.push_str(k);
            facts.push('\t');
            facts.push_str(f);
            facts.push('\n');
        }
        let keys = self.state.len() as i64;
        self.insert
            .execute(params![pos.0, pos.1, self.rows_before, keys, facts])
            .ctx("storing a state snapshot")?;
        self.threshold = threshold(keys);
        Ok(())
    }
}

/// Deletes the snapshots at or after `from` (their positions are about to be refolded).
pub(crate) fn invalidate(tx: &Connection, from: Pos) -> Result<(), StoreError> {
    tx.prepare_cached("DELETE FROM state_snapshots WHERE (day, ord) >= (?1, ?2)")
        .ctx("clearing state snapshots")?
        .execute(params![from.0, from.1])
        .ctx("clearing state snapshots")?;
    Ok(())
}

/// Every key's fact at `day` from the read models: the last snapshot at or before `day`, and the
/// facts changed after it up to `day` (each key keeps its latest), each put in place of the
/// snapshot's. The cost is one seek, at most a snapshot interval of rows, and about one decode
/// per key, whatever the log's length.
///
/// The snapshot is decoded on a helper thread while this thread reads the changed facts and runs
/// `meanwhile` (the rest of a query's reads); without a helper thread it is decoded here.
pub(crate) fn facts_at<T>(
    conn: &Connection,
    day: Day,
    meanwhile: impl FnOnce() -> Result<T, StoreError>,
) -> Result<(StateFacts, T), StoreError> {
    let d = day.0 as i64;
    let snap: Option<(Pos, String)> = conn
        .prepare_cached(
            "SELECT day, ord, facts FROM state_snapshots WHERE day <= ?1 ORDER BY day DESC, ord DESC LIMIT 1",
        )
        .ctx("reading state snapshots")?
        .query_row([d], |r| Ok(((r.get(0)?, r.get(1)?), r.get(2)?)))
        .optional()
        .ctx("reading state snapshots")?;
    let (from, text) = snap.unwrap_or(((i64::MIN, i64::MIN), String::new()));
    let read = || -> Result<(Changed, T), StoreError> {
        Ok((Changed::read(conn, from, d)?, meanwhile()?))
    };
    // The helper decodes the first part of the snapshot; this thread, once its reads are done,
    // the rest (a fixed share that about balances the two on a 2-core machine).
    let share = text.len() * HELPER_SHARE / 100;
    let split = text
        .get(share..)
        .and_then(|t| t.find('\n'))
        .map_or(text.len(), |i| share + i + 1);
    let (first, rest) = text.split_at(split);
    let (base, changed, other) = std::thread::scope(|s| {
        let helper = std::thread::Builder::new()
            .name("iofs-snapshot".into())
            .spawn_scoped(s, || Arranged::of(first));
        let (base, read) = match helper {
            Ok(h) => {
                let read = read();
                let rest = Arranged::of(rest);
                let base = h
                    .join()
                    .unwrap_or_else(|_| Err(corrupt("decoding a state snapshot failed".into())));
                let mut base = base?;
                base.extend(rest?);
                (base, read)
            }
            Err(_) => (Arranged::of(&text)?, read()),
        };
        let (changed, other) = read?;
        Ok::<_, StoreError>((base, changed, other))
    })?;
    let mut facts = base.finish()?;
    for (k, f) in changed.latest() {
        put_changed(&mut facts, k, f)?;
    }
    Ok((facts, other))
}

/// Where a stored key's fact goes: a party's list (0 member, 1 ratified, 2 observer), or the
/// other keys.
enum Route<'k> {
    Party(usize, &'k str),
    Other(Key),
}

fn route(k: &str) -> Result<Route<'_>, StoreError> {
    let unknown = || corrupt(format!("the read models hold an unknown key `{k}`"));
    let (kind, code) = cut(k, b':').ok_or_else(unknown)?;
    Ok(match kind {
        "member" => Route::Party(0, code),
        "ratified" => Route::Party(1, code),
        "observer" => Route::Party(2, code),
        _ => Route::Other(Key::decode(k).ok_or_else(unknown)?),
    })
}

/// Puts the fact `f` of the key `k` into `facts` (its parties in code order).
fn put_changed(facts: &mut StateFacts, k: &str, f: &str) -> Result<(), StoreError> {
    let fact = super::read::decode_fact(f, || k.to_string())?;
    let (i, code) = match route(k)? {
        Route::Party(i, code) => (i, code),
        Route::Other(key) => {
            facts.others.insert(key, fact);
            return Ok(());
        }
    };
    let at = match facts.parties.binary_search_by(|p| p.party.code().cmp(code)) {
        Ok(at) => at,
        Err(at) => {
            facts.parties.insert(
                at,
                PartyFacts {
                    party: party(code)?,
                    member: None,
                    ratified: None,
                    observer: None,
                },
            );
            at
        }
    };
    if let Some(p) = facts.parties.get_mut(at) {
        *[&mut p.member, &mut p.ratified, &mut p.observer][i] = Some(fact);
    }
    Ok(())
}

fn party(code: &str) -> Result<Party, StoreError> {
    Party::parse(code).map_err(|e| {
        corrupt(format!(
            "the read models hold a key of a bad party `{code}`: {e}"
        ))
    })
}

/// The timeline rows after a snapshot, newest first, in one buffer.
struct Changed {
    text: String,
    /// Each row's key and fact, as ranges of `text`.
    rows: Vec<(std::ops::Range<usize>, std::ops::Range<usize>)>,
}

impl Changed {
    fn read(conn: &Connection, after: Pos, day: i64) -> Result<Changed, StoreError> {
        let mut st = conn
            .prepare_cached(
                "SELECT key, fact FROM timeline INDEXED BY timeline_by_position WHERE (day, ord) > (?1, ?2) AND day <= ?3 ORDER BY day DESC, ord DESC",
            )
            .ctx("reading the timeline")?;
        let mut rows = st
            .query(params![after.0, after.1, day])
            .ctx("reading the timeline")?;
        let mut out = Changed {
            text: String::new(),
            rows: Vec::new(),
        };
        while let Some(r) = rows.next().ctx("reading the timeline")? {
            let k = r.get_ref(0).ctx("reading the timeline")?;
            let f = r.get_ref(1).ctx("reading the timeline")?;
            let (Ok(k), Ok(f)) = (k.as_str(), f.as_str()) else {
                return Err(corrupt("a timeline row is not text".into()));
            };
            let start = out.text.len();
            out.text.push_str(k);
            out.text.push_str(f);
            let mid = start + k.len();
            out.rows.push((start..mid, mid..out.text.len()));
        }
        Ok(out)
    }

    /// Each changed key with its latest fact, in key order.
    fn latest(&self) -> Vec<(&str, &str)> {
        let mut seen = std::collections::HashSet::new();
        let mut rows: Vec<(&str, &str)> = self
            .rows
            .iter()
            .map(|(k, f)| (&self.text[k.clone()], &self.text[f.clone()]))
            .filter(|(k, _)| seen.insert(*k))
            .collect();
        rows.sort_unstable_by(|a, b| a.0.cmp(b.0));
        rows
    }
}

/// Facts gathered in key order and arranged per party.
#[derive(Default)]
struct Arranged<'a> {
    /// Member, ratified and observer facts, each list in party code order.
    lists: [Vec<(&'a str, Fact)>; 3],
    others: std::collections::HashMap<Key, Fact>,
}

/// The share of a snapshot's text (in percent) the helper thread decodes.
const HELPER_SHARE: usize = 65;

impl<'a> Arranged<'a> {
    /// Appends `later`, whose keys all come after these.
    fn extend(&mut self, later: Arranged<'a>) {
        for (list, more) in self.lists.iter_mut().zip(later.lists) {
            list.extend(more);
        }
        self.others.extend(later.others);
    }

    /// The facts of a snapshot's lines.
    fn of(text: &'a str) -> Result<Arranged<'a>, StoreError> {
        let mut a = Arranged::default();
        for l in lines(text) {
            let (k, f) = l?;
            a.put(k, f)?;
        }
        Ok(a)
    }

    fn put(&mut self, k: &'a str, f: &str) -> Result<(), StoreError> {
        let fact = super::read::decode_fact(f, || k.to_string())?;
        match route(k)? {
            Route::Party(i, code) => self.lists[i].push((code, fact)),
            Route::Other(key) => {
                self.others.insert(key, fact);
            }
        }
        Ok(())
    }

    /// Joins the three per-party lists (each in code order) into one entry per party.
    fn finish(self) -> Result<StateFacts, StoreError> {
        let mut parties = Vec::with_capacity(self.lists[0].len().max(self.lists[1].len()));
        let mut lists = self.lists.map(|l| l.into_iter().peekable());
        loop {
            let next = lists
                .iter_mut()
                .filter_map(|l| l.peek().map(|(c, _)| *c))
                .min();
            let Some(code) = next else { break };
            let party = party(code)?;
            let [member, ratified, observer] = lists
                .each_mut()
                .map(|l| l.next_if(|(c, _)| *c == code).map(|(_, f)| f));
            parties.push(PartyFacts {
                party,
                member,
                ratified,
                observer,
            });
        }
        Ok(StateFacts {
            parties,
            others: self.others,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rule is part of the read models' definition (`verify` compares stored snapshots with
    /// those a rebuild derives, so a file written under another rule would fail it): a snapshot
    /// every `max(SNAPSHOT_MIN_ROWS, keys)` rows unless a test process lowered it. No unit test
    /// lowers it.
    #[test]
    fn a_snapshot_is_due_every_max_of_the_minimum_and_the_keys_rows() {
        assert_eq!(threshold(0), SNAPSHOT_MIN_ROWS);
        assert_eq!(threshold(SNAPSHOT_MIN_ROWS - 1), SNAPSHOT_MIN_ROWS);
        assert_eq!(threshold(5000), 5000);
    }
}
