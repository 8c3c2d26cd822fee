//! Reading the log and the read models.

use std::collections::HashMap;

use rusqlite::types::ValueRef;
use rusqlite::{params, Connection, OptionalExtension};

use super::{Ctx, Ledger, StoreError};
use crate::date::Day;
use crate::event::Event;
use crate::party::Party;
use crate::projection::{canonical_type_never_affects_state, Fact, Key, Pending, Projection};

/// An event as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    /// Its place in the log.
    pub seq: u64,
    /// When it was appended (UTC).
    pub recorded_at: String,
    /// Its chained hash.
    pub hash: String,
    /// The event.
    pub event: Event,
}

#[derive(Debug, Clone, Default)]
struct Ov {
    retracted_by: Option<u64>,
    corrections: Vec<u64>,
}

/// Which events retractions and corrections have superseded.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    by_target: HashMap<u64, Ov>,
}

impl Overrides {
    /// Whether the replay row `(ord, seq)` is live: a world event (`seq == ord`) that is neither
    /// retracted nor corrected, or the latest correction of an unretracted event.
    pub fn is_active(&self, ord: u64, seq: u64) -> bool {
        match self.by_target.get(&ord) {
            None => seq == ord,
            Some(o) if o.retracted_by.is_some() => false,
            Some(o) => match o.corrections.iter().max() {
                Some(latest) => *latest == seq,
                None => seq == ord,
            },
        }
    }

    /// The retraction of `seq`, if any.
    pub fn retracted_by(&self, seq: u64) -> Option<u64> {
        self.by_target.get(&seq).and_then(|o| o.retracted_by)
    }

    /// The corrections of `seq`, oldest first.
    pub fn corrected_by(&self, seq: u64) -> Vec<u64> {
        let mut v = self
            .by_target
            .get(&seq)
            .map(|o| o.corrections.clone())
            .unwrap_or_default();
        v.sort_unstable();
        v
    }

    /// Every target with its overrides.
    pub fn targets(&self) -> impl Iterator<Item = u64> + '_ {
        self.by_target.keys().copied()
    }
}

pub(crate) fn load_overrides(
    conn: &Connection,
    max_seq: Option<u64>,
) -> Result<Overrides, StoreError> {
    let mut st = conn
        .prepare_cached("SELECT target, by_seq, kind FROM overrides WHERE by_seq <= ?1")
        .ctx("reading overrides")?;
    let max = max_seq.map_or(i64::MAX, |m| m as i64);
    let mut rows = st.query([max]).ctx("reading overrides")?;
    let mut out = Overrides::default();
    while let Some(r) = rows.next().ctx("reading overrides")? {
        let target = r.get::<_, i64>(0).ctx("reading overrides")? as u64;
        let by = r.get::<_, i64>(1).ctx("reading overrides")? as u64;
        let o = out.by_target.entry(target).or_default();
        match r.get_ref(2).ctx("reading overrides")?.as_bytes().ok() {
            Some(b"retraction") => o.retracted_by = Some(by),
            Some(b"correction") => o.corrections.push(by),
            _ => {
                return Err(StoreError::Damaged {
                    what: format!("the read model `overrides` (its row for seq {by})"),
                    why: "its kind is neither `retraction` nor `correction`".into(),
                })
            }
        }
    }
    Ok(out)
}

pub(crate) fn parties(conn: &Connection) -> Result<Vec<Party>, StoreError> {
    let mut st = conn
        .prepare_cached("SELECT party FROM parties ORDER BY party")
        .ctx("reading parties")?;
    let rows = st
        .query_map([], |r| r.get::<_, String>(0))
        .ctx("reading parties")?;
    let mut out = Vec::new();
    for r in rows {
        let code = r.ctx("reading parties")?;
        let p = Party::parse(&code).map_err(|e| StoreError::Damaged {
            what: "the read model `parties`".into(),
            why: e.to_string(),
        })?;
        out.push(p);
    }
    Ok(out)
}

/// A stored row `(seq, recorded_at, body, hash)`; a column that is not text (the file was
/// altered outside the tool) is kept as why, so that the error names its seq.
type StoredRow = (i64, Result<(String, String, String), String>);

fn stored(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredRow> {
    stored_at(r, 0)
}

/// [`stored`] for the four columns starting at `first`.
fn stored_at(r: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<StoredRow> {
    let seq: i64 = r.get(first)?;
    let text = |i: usize, name: &str| -> rusqlite::Result<Result<String, String>> {
        Ok(match r.get_ref(first + i)? {
            rusqlite::types::ValueRef::Text(b) => std::str::from_utf8(b)
                .map(str::to_string)
                .map_err(|e| format!("its {name} is not valid UTF-8 ({e})")),
            v => Err(format!(
                "its {name} is stored as {}, not text",
                v.data_type()
            )),
        })
    };
    let cols = (|| -> rusqlite::Result<Result<(String, String, String), String>> {
        Ok(
            match (text(1, "recorded_at")?, text(2, "body")?, text(3, "hash")?) {
                (Ok(a), Ok(b), Ok(c)) => Ok((a, b, c)),
                (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => Err(e),
            },
        )
    })()?;
    Ok((seq, cols))
}

fn to_stored((seq, cols): StoredRow) -> Result<StoredEvent, StoreError> {
    let seq = seq as u64;
    let (recorded_at, body, hash) = cols.map_err(|why| StoreError::Corrupt { seq, why })?;
    let event = Event::from_json(&body).map_err(|why| StoreError::Corrupt { seq, why })?;
    Ok(StoredEvent {
        seq,
        recorded_at,
        hash,
        event,
    })
}

/// One stored row as it is, for verification.
#[derive(Debug, Clone)]
pub struct RawEvent {
    /// Its seq.
    pub seq: i64,
    /// Its `recorded_at` column.
    pub recorded_at: String,
    /// Its canonical JSON body.
    pub body: String,
    /// Its stored hash.
    pub hash: String,
    /// Set when a column is not UTF-8 text (the strings above are then lossy).
    pub unreadable: Option<String>,
}

/// The head of the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// Last seq (0 when empty).
    pub seq: u64,
    /// Its hash (the genesis hash when empty).
    pub hash: String,
    /// Its `recorded_at`.
    pub recorded_at: Option<String>,
}

impl Ledger {
    /// Runs `f` inside one read transaction, so every read it makes sees the same snapshot of
    /// the file (a concurrent append lands wholly before or wholly after it) and the shared lock
    /// is taken once instead of once per statement. Inside a transaction already, runs `f` as is.
    ///
    /// On a connection that can write, lagging projections are first brought up to date
    /// ([`Ledger::catch_up`]); a ledger opened read-only is read as it is (the CLI and the
    /// service catch up explicitly; `verify` checks the file as it is, through
    /// [`Ledger::snapshot_as_is`]).
    pub fn snapshot<T>(&self, f: impl FnOnce() -> Result<T, StoreError>) -> Result<T, StoreError> {
        if !self.conn.is_autocommit() {
            return f();
        }
        if !self
            .conn
            .is_readonly(rusqlite::MAIN_DB)
            .ctx("checking access")?
        {
            self.catch_up()?;
        }
        self.snapshot_as_is(f)
    }

    /// [`Ledger::snapshot`] without bringing lagging projections up to date first, whatever the
    /// access: the file is read as it is and nothing is written (what `verify` needs).
    pub fn snapshot_as_is<T>(
        &self,
        f: impl FnOnce() -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        if !self.conn.is_autocommit() {
            return f();
        }
        self.conn
            .execute_batch("BEGIN DEFERRED")
            .ctx("starting a read")?;
        let out = f();
        // A read transaction has nothing to commit; ending it only releases the snapshot.
        let end = self.conn.execute_batch("COMMIT").ctx("ending a read");
        let out = out?;
        end?;
        Ok(out)
    }

    /// The head of the log.
    pub fn head(&self) -> Result<Head, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT seq, hash, recorded_at FROM events ORDER BY seq DESC LIMIT 1",
                [],
                |r| {
                    Ok(Head {
                        seq: r.get::<_, i64>(0)? as u64,
                        hash: r.get(1)?,
                        recorded_at: Some(r.get(2)?),
                    })
                },
            )
            .optional()
            .ctx("reading the head")?
            .unwrap_or(Head {
                seq: 0,
                hash: crate::chain::GENESIS.into(),
                recorded_at: None,
            }))
    }

    /// One event by seq.
    pub fn event(&self, seq: u64) -> Result<Option<StoredEvent>, StoreError> {
        self.conn
            .query_row(
                "SELECT seq, recorded_at, body, hash FROM events WHERE seq = ?1",
                [seq as i64],
                stored,
            )
            .optional()
            .ctx("reading an event")?
            .map(to_stored)
            .transpose()
    }

    /// Like [`Ledger::for_each_event`] from the start, but only for the events whose stored body
    /// contains `needle`: SQLite passes over the other rows without handing them out or having
    /// them parsed, so an answer that needs one rare kind of event out of a long log reads it at
    /// the speed of a table scan. `f` still judges each event it gets (a quote may contain the
    /// needle too).
    pub fn for_each_event_containing(
        &self,
        needle: &str,
        max_seq: Option<u64>,
        mut f: impl FnMut(StoredEvent) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut st = self
            .conn
            .prepare_cached("SELECT seq, recorded_at, body, hash FROM events WHERE seq <= ?1 AND instr(body, ?2) > 0 ORDER BY seq")
            .ctx("reading the log")?;
        let max = max_seq.map_or(i64::MAX, |m| m.min(i64::MAX as u64) as i64);
        let mut rows = st.query(params![max, needle]).ctx("reading the log")?;
        while let Some(r) = rows.next().ctx("reading the log")? {
            f(to_stored(stored(r).ctx("reading the log")?)?)?;
        }
        Ok(())
    }

    /// Calls `f` for each event with seq > `after` (and ≤ `max_seq`), in seq order.
    pub fn for_each_event(
        &self,
        after: u64,
        max_seq: Option<u64>,
        mut f: impl FnMut(StoredEvent) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut st = self
            .conn
            .prepare("SELECT seq, recorded_at, body, hash FROM events WHERE seq > ?1 AND seq <= ?2 ORDER BY seq")
            .ctx("reading the log")?;
        let max = max_seq.map_or(i64::MAX, |m| m as i64);
        let mut rows = st
            .query(params![after as i64, max])
            .ctx("reading the log")?;
        while let Some(r) = rows.next().ctx("reading the log")? {
            f(to_stored(stored(r).ctx("reading the log")?)?)?;
        }
        Ok(())
    }

    /// Calls `f` with each raw row `(seq, recorded_at, body, hash)` in seq order, unparsed
    /// (for the hash chain check, which must not trust the body).
    pub fn for_each_raw(
        &self,
        mut f: impl FnMut(RawEvent) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut st = self
            .conn
            .prepare("SELECT seq, recorded_at, body, hash FROM events ORDER BY seq")
            .ctx("reading the log")?;
        let mut rows = st.query([]).ctx("reading the log")?;
        while let Some(r) = rows.next().ctx("reading the log")? {
            let seq: i64 = r.get(0).ctx("reading the log")?;
            let mut unreadable = None;
            let mut text = |i: usize, name: &'static str| -> Result<String, StoreError> {
                let v = r.get_ref(i).ctx("reading the log")?;
                let bytes = match v {
                    ValueRef::Text(b) => b,
                    ValueRef::Blob(b) => {
                        unreadable.get_or_insert(format!("{name} as a BLOB, not text"));
                        b
                    }
                    _ => {
                        unreadable.get_or_insert(format!("{name} is not text"));
                        return Ok(String::new());
                    }
                };
                match std::str::from_utf8(bytes) {
                    Ok(s) => Ok(s.to_string()),
                    Err(e) => {
                        unreadable.get_or_insert(format!("{name} is not valid UTF-8 ({e})"));
                        Ok(String::from_utf8_lossy(bytes).into_owned())
                    }
                }
            };
            let recorded_at = text(1, "recorded_at")?;
            let body = text(2, "body")?;
            let hash = text(3, "hash")?;
            f(RawEvent {
                seq,
                recorded_at,
                body,
                hash,
                unreadable,
            })?;
        }
        Ok(())
    }

    /// The overrides recorded up to `max_seq` (all when `None`).
    pub fn overrides(&self, max_seq: Option<u64>) -> Result<Overrides, StoreError> {
        load_overrides(&self.conn, max_seq)
    }

    /// Every party the read models know.
    pub fn parties(&self) -> Result<Vec<Party>, StoreError> {
        self.require_projected()?;
        parties(&self.conn)
    }

    /// The fact of `key` at `day` from the read models (one index seek).
    pub fn fact_at(&self, key: &Key, day: Day) -> Result<Option<Fact>, StoreError> {
        self.require_projected()?;
        let f: Option<String> = self
            .conn
            .prepare_cached("SELECT fact FROM timeline WHERE key = ?1 AND day <= ?2 ORDER BY day DESC, ord DESC LIMIT 1")
            .ctx("reading a fact")?
            .query_row(params![key.encode(), day.0 as i64], |r| r.get(0))
            .optional()
            .ctx("reading a fact")?;
        f.map(|f| decode_fact(&f, || key.encode())).transpose()
    }

    /// Every key's fact at `day` and the pending events ([`Ledger::uncertain_at`]), from the
    /// read models: the last state snapshot at or before `day` and the facts changed since (see
    /// `store::snapshots`), so the cost is one seek plus at most a snapshot interval of rows,
    /// whatever the log's length. The snapshot is decoded on a second thread while this one
    /// reads the rest.
    pub fn state_at(
        &self,
        day: Day,
    ) -> Result<(crate::projection::StateFacts, Vec<Pending>), StoreError> {
        self.require_projected()?;
        self.require_current()?;
        super::snapshots::facts_at(&self.conn, day, || self.uncertain_at(day))
    }

    /// The largest window (in days) of any event's date (0 when no date is a window). A value
    /// that is not a number of days is damage, not 0: read as 0 it would hide pending events.
    pub fn max_window(&self) -> Result<i64, StoreError> {
        let v: Option<String> = self
            .conn
            .prepare_cached("SELECT value FROM meta WHERE key = 'max_window'")
            .ctx("reading meta")?
            .query_row([], |r| r.get(0))
            .optional()
            .ctx("reading meta")?;
        match v {
            None => Ok(0),
            Some(s) => match s.parse::<i64>() {
                Ok(n) if n >= 0 => Ok(n),
                _ => Err(StoreError::Damaged {
                    what: "its metadata (`meta.max_window`)".into(),
                    why: format!("`{s}` is not a number of days"),
                }),
            },
        }
    }

    /// The live state-changing events whose date window contains `day` but ends after it:
    /// they may have happened by `day`, but are not counted yet. In replay order.
    pub fn uncertain_at(&self, day: Day) -> Result<Vec<Pending>, StoreError> {
        self.require_projected()?;
        self.require_current()?;
        let d = day.0 as i64;
        let lo = d - self.max_window()?;
        let mut st = self
            .conn
            .prepare_cached("SELECT seq, type, party, date FROM windows INDEXED BY windows_by_start WHERE start <= ?1 AND start >= ?2 AND day > ?1 ORDER BY day, ord")
            .ctx("reading uncertain events")?;
        let mut rows = st.query(params![d, lo]).ctx("reading uncertain events")?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().ctx("reading uncertain events")? {
            let seq = r.get::<_, i64>(0).ctx("reading uncertain events")? as u64;
            let bad = |why: String| StoreError::Damaged {
                what: format!("the read model `windows` (its row for seq {seq})"),
                why,
            };
            let kind: String = r.get(1).ctx("reading uncertain events")?;
            let party = match r
                .get::<_, Option<String>>(2)
                .ctx("reading uncertain events")?
            {
                Some(p) => Some(Party::parse(&p).map_err(|e| bad(e.to_string()))?),
                None => None,
            };
            let date: String = r.get(3).ctx("reading uncertain events")?;
            let date = serde_json::from_str(&date).map_err(|e| bad(format!("a bad date: {e}")))?;
            out.push(Pending {
                seq,
                kind,
                party,
                date,
            });
        }
        Ok(out)
    }

    /// The last seq recorded at or before `instant` (a `recorded_at`-formatted string).
    /// `recorded_at` never decreases along seq, so this is a binary search over the primary
    /// key: O(log n) seeks, no index on `recorded_at`.
    pub fn seq_known_at(&self, instant: &str) -> Result<u64, StoreError> {
        let mut st = self
            .conn
            .prepare_cached("SELECT recorded_at FROM events WHERE seq = ?1")
            .ctx("reading the log")?;
        let (mut lo, mut hi) = (0u64, self.head()?.seq);
        // Invariant: seq lo is known at `instant` (0 always is); seqs above hi are not.
        while lo < hi {
            let mid = lo + (hi - lo).div_ceil(2);
            let at: String = st
                .query_row([mid as i64], |r| r.get(0))
                .ctx("reading the log")?;
            if at.as_str() <= instant {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        Ok(lo)
    }

    /// Calls `f(day, seq, event)` for each live event (not retracted, not superseded by a
    /// correction) recorded up to `max_seq` whose replay day is at most `horizon`, in replay
    /// order, that can change the state: a body of a type in
    /// [`STATELESS_TYPES`](crate::projection::STATELESS_TYPES) (a meeting, claim, document...)
    /// is passed over unparsed, judged by its canonical opening. Both callers fold the state,
    /// which such events never change; three quarters of a synthetic log are of them. A damaged
    /// body that still opens so is not noticed here; `verify` checks every body's hash.
    ///
    /// This thread reads the rows (SQLite's connection stays on it) and hands their bodies, a
    /// chunk of [`PARSE_CHUNK`] in one buffer at a time, to a second thread that parses them
    /// and runs `f`: parsing is most of a replay's work, and an event is then allocated and
    /// freed on the same thread. At most [`PARSE_AHEAD`] chunks wait, so memory stays bounded;
    /// an error from `f` or from a body stops both threads.
    pub(super) fn for_each_live_state_event(
        &self,
        max_seq: u64,
        horizon: i64,
        mut f: impl FnMut(i64, u64, Event) -> Result<(), StoreError> + Send,
    ) -> Result<(), StoreError> {
        /// Bodies end to end, and each row's replay day, seq and end offset in `text`.
        struct Chunk {
            text: String,
            rows: Vec<(i64, u64, usize)>,
        }
        let overrides = load_overrides(&self.conn, Some(max_seq))?;
        let mut st = self
            .conn
            .prepare("SELECT r.day, r.ord, e.seq, e.body FROM replay_order r JOIN events e ON e.seq = r.seq WHERE r.day <= ?1 AND r.seq <= ?2 ORDER BY r.day, r.ord, r.seq")
            .ctx("reading the log in replay order")?;
        let mut rows = st
            .query(params![horizon, max_seq as i64])
            .ctx("reading the log")?;
        // Parses a chunk's bodies and runs `f` on each event.
        let f = std::sync::Mutex::new(&mut f);
        let fold = |chunk: Chunk| -> Result<(), StoreError> {
            let mut f = f
                .lock()
                .map_err(|_| StoreError::Internal("the replay stopped on an earlier failure"))?;
            let mut start = 0;
            for &(rday, seq, end) in &chunk.rows {
                let body = chunk.text.get(start..end).unwrap_or_default();
                start = end;
                let event =
                    Event::from_json(body).map_err(|why| StoreError::Corrupt { seq, why })?;
                (*f)(rday, seq, event)?;
            }
            Ok(())
        };
        let new_chunk = || Chunk {
            text: String::with_capacity(PARSE_CHUNK * 512),
            rows: Vec::with_capacity(PARSE_CHUNK),
        };
        // Reads the rows into chunks and hands each full one to `send`, which says whether to go
        // on (a worker that stopped on an error hangs up; `join` returns its error).
        let mut read = |send: &mut dyn FnMut(Chunk) -> Result<bool, StoreError>| {
            let mut chunk = new_chunk();
            while let Some(r) = rows.next().ctx("reading the log")? {
                let rday: i64 = r.get(0).ctx("reading the log")?;
                let ord = r.get::<_, i64>(1).ctx("reading the log")? as u64;
                let seq = r.get::<_, i64>(2).ctx("reading the log")? as u64;
                if !overrides.is_active(ord, seq) {
                    continue;
                }
                let body = r.get_ref(3).ctx("reading the log")?;
                let body = body.as_str().map_err(|e| StoreError::Corrupt {
                    seq,
                    why: format!("the stored body is not UTF-8 text: {e}"),
                })?;
                if canonical_type_never_affects_state(body) {
                    // A meeting, claim, document...: nothing `f` folds (see the doc above).
                    continue;
                }
                chunk.text.push_str(body);
                chunk.rows.push((rday, seq, chunk.text.len()));
                if chunk.rows.len() == PARSE_CHUNK
                    && !send(std::mem::replace(&mut chunk, new_chunk()))?
                {
                    return Ok(());
                }
            }
            if !chunk.rows.is_empty() {
                send(chunk)?;
            }
            Ok::<(), StoreError>(())
        };
        std::thread::scope(|scope| {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Chunk>(PARSE_AHEAD);
            let worker = std::thread::Builder::new()
                .name("iofs-replay".into())
                .spawn_scoped(scope, || -> Result<(), StoreError> {
                    for chunk in rx {
                        fold(chunk)?;
                    }
                    Ok(())
                });
            let Ok(worker) = worker else {
                // No second thread to be had: parse and fold on this one.
                return read(&mut |chunk| fold(chunk).map(|()| true));
            };
            let read = read(&mut |chunk| Ok(tx.send(chunk).is_ok()));
            drop(tx);
            let parsed = worker.join().unwrap_or_else(|_| {
                Err(StoreError::Internal(
                    "the thread replaying the log stopped early",
                ))
            });
            read.and(parsed)
        })
    }

    /// Folds, in memory, the live events with seq ≤ `max_seq` whose effective day is ≤ `day`,
    /// and collects those whose window contains `day` but ends after it. This answers
    /// "as known at" questions; it reads the log up to `day` (plus the widest window).
    pub fn fold_until(
        &self,
        max_seq: u64,
        day: Day,
    ) -> Result<(Projection, Vec<Pending>), StoreError> {
        let horizon = day.0 as i64 + self.max_window()?;
        let mut proj = Projection::new();
        let mut uncertain = Vec::new();
        self.for_each_live_state_event(max_seq, horizon, |rday, seq, event| {
            let Some(world) = event.world_event() else {
                return Ok(());
            };
            if rday <= day.0 as i64 {
                proj.apply(seq, world).map_err(|v| broken(seq, &v))?;
            } else if event.effect_window().is_some_and(|(s, _)| s <= day) {
                // After the day but possibly by it: pending, if it changes the state at all.
                uncertain.extend(Pending::of(seq, &event));
            }
            Ok(())
        })?;
        Ok((proj, uncertain))
    }

    /// Folds the live events with seq ≤ `max_seq` in replay order, once, and calls `at` with the
    /// projection as it stands at the end of each day in `days` (ascending, no repeats): the
    /// fold of the events effective by that day, exactly what [`Ledger::fold_until`] folds for
    /// it. One pass over the log whatever the number of days; `at` runs on the thread that
    /// folds, so it must be `Send`. Events pending at a day are not gathered.
    pub fn fold_at_days(
        &self,
        max_seq: u64,
        days: &[Day],
        mut at: impl FnMut(Day, &Projection) -> Result<(), StoreError> + Send,
    ) -> Result<(), StoreError> {
        debug_assert!(days.windows(2).all(|w| w[0] < w[1]), "days must ascend");
        let mut proj = Projection::new();
        let mut next = 0;
        self.for_each_live_state_event(max_seq, i64::MAX, |rday, seq, event| {
            while let Some(&d) = days.get(next).filter(|d| i64::from(d.0) < rday) {
                at(d, &proj)?;
                next += 1;
            }
            if let Some(world) = event.world_event() {
                proj.apply(seq, world).map_err(|v| broken(seq, &v))?;
            }
            Ok(())
        })?;
        for &d in days.get(next..).unwrap_or_default() {
            at(d, &proj)?;
        }
        Ok(())
    }

    /// Every fact `key` held, in replay order, by a fold of the live events recorded up to
    /// `max_seq` (what [`Ledger::key_history`] reads from the read models, as known then).
    pub fn key_history_until(
        &self,
        key: &Key,
        max_seq: u64,
    ) -> Result<Vec<(Day, Fact)>, StoreError> {
        let mut proj = Projection::new();
        let mut out = Vec::new();
        self.for_each_live_state_event(max_seq, i64::MAX, |rday, seq, event| {
            let Some(world) = event.world_event() else {
                return Ok(());
            };
            for (k, fact) in proj.apply(seq, world).map_err(|v| broken(seq, &v))? {
                if &k == key {
                    out.push((Day(rday as i32), fact));
                }
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// Events naming `party` (including retractions and corrections of them), in seq order.
    pub fn party_events(&self, party: &Party) -> Result<Vec<StoredEvent>, StoreError> {
        let mut out = Vec::new();
        self.for_each_party_event(party, u64::MAX, |e| {
            out.push(e);
            Ok(())
        })?;
        Ok(out)
    }

    /// How many events with seq ≤ `max_seq` name `party` (what [`Ledger::for_each_party_event`]
    /// will hand over).
    pub fn party_event_count(&self, party: &Party, max_seq: u64) -> Result<u64, StoreError> {
        self.require_projected()?;
        let n: i64 = self
            .conn
            .prepare_cached("SELECT count(*) FROM party_events WHERE party = ?1 AND seq <= ?2")
            .and_then(|mut st| {
                st.query_row(
                    params![party.code(), max_seq.min(i64::MAX as u64) as i64],
                    |r| r.get(0),
                )
            })
            .ctx("counting a party's events")?;
        Ok(n as u64)
    }

    /// Hands each event with seq ≤ `max_seq` naming `party` (retractions and corrections of
    /// them included) to `f`, in seq order, one at a time: memory stays flat however many there are.
    pub fn for_each_party_event(
        &self,
        party: &Party,
        max_seq: u64,
        mut f: impl FnMut(StoredEvent) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.require_projected()?;
        let mut st = self
            .conn
            .prepare_cached("SELECT e.seq, e.recorded_at, e.body, e.hash FROM party_events p JOIN events e ON e.seq = p.seq WHERE p.party = ?1 AND p.seq <= ?2 ORDER BY e.seq")
            .ctx("reading a party's events")?;
        let rows = st
            .query_map(
                params![party.code(), max_seq.min(i64::MAX as u64) as i64],
                stored,
            )
            .ctx("reading a party's events")?;
        for r in rows {
            f(to_stored(r.ctx("reading a party's events")?)?)?;
        }
        Ok(())
    }

    /// Live events of the given types whose effective day lies in `[from, to]`, in replay order,
    /// among those with seq ≤ `max_seq` (all when `None`).
    pub fn events_between(
        &self,
        max_seq: Option<u64>,
        from: Day,
        to: Day,
        types: &[&str],
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let mut out = Vec::new();
        self.for_each_event_between(max_seq, from, to, types, |e| {
            out.push(e);
            Ok(())
        })?;
        Ok(out)
    }

    /// Hands each event [`Ledger::events_between`] would return to `f`, in the same order, one
    /// at a time: memory stays flat however many there are.
    pub fn for_each_event_between(
        &self,
        max_seq: Option<u64>,
        from: Day,
        to: Day,
        types: &[&str],
        mut f: impl FnMut(StoredEvent) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let overrides = load_overrides(&self.conn, max_seq)?;
        let mut st = self
            .conn
            .prepare("SELECT r.ord, e.seq, e.recorded_at, e.body, e.hash FROM replay_order r JOIN events e ON e.seq = r.seq WHERE r.day >= ?1 AND r.day <= ?2 ORDER BY r.day, r.ord, r.seq")
            .ctx("reading the log in replay order")?;
        let mut rows = st
            .query(params![from.0 as i64, to.0 as i64])
            .ctx("reading the log")?;
        while let Some(r) = rows.next().ctx("reading the log")? {
            let ord = r.get::<_, i64>(0).ctx("reading the log")? as u64;
            let seq = r.get::<_, i64>(1).ctx("reading the log")? as u64;
            if max_seq.is_some_and(|m| seq > m) || !overrides.is_active(ord, seq) {
                continue;
            }
            let se = to_stored(stored_at(r, 1).ctx("reading the log")?)?;
            if se
                .event
                .world_event()
                .is_some_and(|w| types.is_empty() || types.contains(&w.kind.type_name()))
            {
                f(se)?;
            }
        }
        Ok(())
    }
}

impl Ledger {
    /// Every change of one key, in replay order: (day it counts from, fact).
    pub fn key_history(&self, key: &Key) -> Result<Vec<(Day, Fact)>, StoreError> {
        self.require_projected()?;
        let mut st = self
            .conn
            .prepare_cached("SELECT day, fact FROM timeline WHERE key = ?1 ORDER BY day, ord")
            .ctx("reading a key's history")?;
        let rows = st
            .query_map([key.encode()], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
            })
            .ctx("reading a key's history")?;
        let mut out = Vec::new();
        for r in rows {
            let (day, f) = r.ctx("reading a key's history")?;
            let fact = serde_json::from_str(&f).map_err(|e| StoreError::Damaged {
                what: format!("the timeline row for {key}"),
                why: e.to_string(),
            })?;
            out.push((Day(day as i32), fact));
        }
        Ok(out)
    }
}

/// A stored event that breaks a rule on replay: the log was written by something other than
/// `append`, or the rules changed since.
/// Rows a replay hands to its parsing thread at a time.
const PARSE_CHUNK: usize = 256;
/// Chunks a replay lets wait for its parsing thread.
const PARSE_AHEAD: usize = 4;

/// A fact as stored in `timeline`, or the error that names its key (`key` is only spelled out
/// on failure: a state query decodes hundreds of facts).
pub(super) fn decode_fact(text: &str, key: impl FnOnce() -> String) -> Result<Fact, StoreError> {
    Fact::decode(text).map_err(|e| StoreError::Damaged {
        what: format!("the timeline row for {}", key()),
        why: e.to_string(),
    })
}

pub(super) fn broken(seq: u64, v: &crate::projection::Violation) -> StoreError {
    StoreError::Corrupt {
        seq,
        why: format!(
            "breaks the rule \"{}\": {}; run `iofs-ledger verify`",
            v.rule.text(),
            v.detail
        ),
    }
}
