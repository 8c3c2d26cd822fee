//! Appending a batch, and re-folding read models from a replay position.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, Duration as ChronoDuration, NaiveDateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};

use super::{Ctx, Ledger, Refusal, StoreError};
use crate::chain::{event_hash, GENESIS};
use crate::date::Day;
use crate::event::{Event, IntoPrepared, Kind, Location};
use crate::projection::{
    affects_state, canonical_type_never_affects_state, Fact, Key, Pending, Projection, Rule,
};
use crate::store::read::load_overrides;

/// How far the clock may read behind the head's `recorded_at` before an append is refused
/// (within it, the append is stamped just after the head).
pub const CLOCK_TOLERANCE: ChronoDuration = ChronoDuration::seconds(2);

/// How many problems a refused batch reports before it stops checking.
pub const MAX_REFUSALS: usize = 100;

/// A batch of at least this many events is a bulk append: it writes the log, its replay order
/// and its overrides, and leaves the projections (`timeline`, `windows`, `state_snapshots`,
/// `party_events`, `parties`) to be brought up to date by the first reader
/// ([`Ledger::catch_up`]); `meta.projected_through` records the last seq they reflect.
/// Smaller batches project as they append, as before (unless their first events already hold
/// [`DEFER_HOLD_BYTES`] of canonical JSON).
pub const DEFER_THRESHOLD: usize = 5_000;

/// A batch whose first events hold this much canonical JSON before [`DEFER_THRESHOLD`] of
/// them have arrived is a bulk append too (the events held to decide stay few megabytes).
pub const DEFER_HOLD_BYTES: usize = 8 << 20;

/// When non-zero, replaces [`DEFER_THRESHOLD`] (tests only: see
/// [`set_defer_threshold_for_tests`]).
static TEST_DEFER_THRESHOLD: AtomicUsize = AtomicUsize::new(0);

/// Makes batches of at least `events` events defer their projections in this process (0
/// restores [`DEFER_THRESHOLD`]), so that tests with small batches exercise both sides of the
/// threshold. Not for production use: the binary never calls it.
#[doc(hidden)]
pub fn set_defer_threshold_for_tests(events: usize) {
    TEST_DEFER_THRESHOLD.store(events, Ordering::SeqCst);
}

fn defer_threshold() -> usize {
    match TEST_DEFER_THRESHOLD.load(Ordering::SeqCst) {
        0 => DEFER_THRESHOLD,
        n => n,
    }
}

/// The `meta` key that records the last seq the projections reflect, present only while they
/// lag behind the log (after a bulk append, until the next catch-up).
pub(crate) const PROJECTED_THROUGH: &str = "projected_through";

/// The last seq the projections reflect when they lag behind the log; `None` when they are up
/// to date with it.
pub(crate) fn projected_through(conn: &Connection) -> Result<Option<u64>, StoreError> {
    let v: Option<String> = conn
        .prepare_cached("SELECT value FROM meta WHERE key = 'projected_through'")
        .ctx("reading meta")?
        .query_row([], |r| r.get(0))
        .optional()
        .ctx("reading meta")?;
    v.map(|v| {
        v.parse::<u64>().map_err(|_| StoreError::Damaged {
            what: format!("its metadata (`meta.{PROJECTED_THROUGH}`)"),
            why: format!("`{v}` is not a seq"),
        })
    })
    .transpose()
}

/// Brings lagging projections up to the log's head inside the write transaction `tx` (a no-op
/// when they are up to date); returns whether there was anything to do.
///
/// Every event after `projected_through` has its replay order and overrides already stored
/// (appends always write those), so this refolds from the earliest replay position an
/// unprojected event occupies or overrides, indexes the parties those events name, brings the
/// snapshots up to date and drops the key.
pub(crate) fn catch_up_in(tx: &Connection) -> Result<bool, StoreError> {
    let Some(through) = projected_through(tx)? else {
        return Ok(false);
    };
    let mut from: Option<Pos> = None;
    let mut min = |p: Pos| from = Some(from.map_or(p, |f: Pos| f.min(p)));
    {
        let mut st = tx
            .prepare_cached(
                "SELECT day, ord FROM replay_order WHERE seq > ?1 ORDER BY day, ord LIMIT 1",
            )
            .ctx("reading the replay order")?;
        if let Some(p) = st
            .query_row([through as i64], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
            .ctx("reading the replay order")?
        {
            min(p);
        }
        // The positions of every event an unprojected override acts on, and of that event's
        // corrections (what `refold_positions` gives for one target), found in one pass.
        if let Some(p) = tx
            .prepare_cached(
                "SELECT day, ord FROM replay_order WHERE seq IN (SELECT target FROM overrides WHERE by_seq > ?1) OR seq IN (SELECT by_seq FROM overrides WHERE kind = 'correction' AND target IN (SELECT target FROM overrides WHERE by_seq > ?1)) ORDER BY day, ord LIMIT 1",
            )
            .ctx("reading overrides")?
            .query_row([through as i64], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
            .ctx("reading overrides")?
        {
            min(p);
        }
    }
    {
        let mut st = tx
            .prepare("SELECT seq, body FROM events WHERE seq > ?1 ORDER BY seq")
            .ctx("reading the log")?;
        let mut rows = st.query([through as i64]).ctx("reading the log")?;
        let mut insert_party = tx
            .prepare_cached("INSERT OR IGNORE INTO party_events (party, seq) VALUES (?1, ?2)")
            .ctx("preparing the insert")?;
        let mut insert_known = tx
            .prepare_cached("INSERT OR IGNORE INTO parties (party) VALUES (?1)")
            .ctx("preparing the insert")?;
        let mut known: HashSet<String> = HashSet::new();
        while let Some(r) = rows.next().ctx("reading the log")? {
            let seq = r.get::<_, i64>(0).ctx("reading the log")? as u64;
            let body: String = r.get(1).ctx("reading the log")?;
            let ev = Event::from_json(&body).map_err(|why| StoreError::Corrupt { seq, why })?;
            for p in event_parties(tx, &ev)? {
                insert_party
                    .execute(params![p, seq as i64])
                    .ctx("indexing parties")?;
                if !known.contains(&p) {
                    insert_known.execute([&p]).ctx("indexing parties")?;
                    known.insert(p);
                }
            }
        }
    }
    if let Some(from) = from {
        refold_all(tx, from)?;
    }
    super::snapshots::update(tx)?;
    tx.execute("DELETE FROM meta WHERE key = 'projected_through'", [])
        .ctx("updating meta")?;
    Ok(true)
}

/// The parties an event is indexed under: its own, and for a retraction or correction those of
/// its target (and of the replacement).
fn event_parties(tx: &Connection, ev: &Event) -> Result<Vec<String>, StoreError> {
    let mut parties: Vec<String> = ev
        .kind
        .parties()
        .iter()
        .map(|p| p.code().to_string())
        .collect();
    if let Kind::Retraction { retracts: t, .. } | Kind::Correction { corrects: t, .. } = &ev.kind {
        let target: Option<String> = tx
            .prepare_cached("SELECT body FROM events WHERE seq = ?1")
            .ctx("reading a target")?
            .query_row([*t as i64], |r| r.get(0))
            .optional()
            .ctx("reading a target")?;
        if let Some(target) = target {
            let tev =
                Event::from_json(&target).map_err(|why| StoreError::Corrupt { seq: *t, why })?;
            parties.extend(tev.kind.parties().iter().map(|p| p.code().to_string()));
        }
    }
    Ok(parties)
}

/// Options of an append.
#[derive(Debug, Clone, Copy, Default)]
pub struct AppendOptions {
    /// Refuse unless the log's last seq is this (0 for an empty log).
    pub expect_head: Option<u64>,
    /// Use this instant as `recorded_at` instead of the clock (tests, imports of known times).
    pub now: Option<DateTime<Utc>>,
}

/// What an append stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    /// First seq appended (`last + 1` when the batch was empty).
    pub first: u64,
    /// Last seq appended (the head).
    pub last: u64,
    /// The batch's `recorded_at`.
    pub recorded_at: String,
    /// The head's hash after the append.
    pub head_hash: String,
}

impl Appended {
    /// How many events were appended.
    pub fn count(&self) -> u64 {
        self.last + 1 - self.first
    }
}

/// The format of `recorded_at`: UTC, microseconds, fixed width (so text order is time order).
pub const RECORDED_AT_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.6fZ";

/// Formats an instant as `recorded_at`.
pub fn format_instant(t: DateTime<Utc>) -> String {
    t.format(RECORDED_AT_FORMAT).to_string()
}

/// Parses a stored `recorded_at`.
pub fn parse_instant(s: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(s, RECORDED_AT_FORMAT)
        .ok()
        .map(|n| n.and_utc())
}

/// A replay position: (effective day, ord). Ord is the event's seq, or for a correction the
/// corrected event's seq, so a replacement takes the place of the event it corrects.
pub(crate) type Pos = (i64, i64);

/// The replay position(s) a new override of `target` (a retraction, or a correction whose
/// replacement is `replacement`) makes the fold revisit: those of the target's versions so far,
/// its own and its corrections'. Found from the events themselves, without scanning
/// `replay_order` (it has no index on `seq`): every position of a target has the target's seq as
/// its ord, and its day is the effective day of the target or of one of its corrections (read by
/// the overrides' key).
///
/// None at all when no version, old or new, can change the state (`projection::affects_state`:
/// a meeting corrected into another meeting, a document retracted): the fold applies such events
/// as nothing, and they have no timeline, window or snapshot rows, so there is nothing to refold.
fn refold_positions(
    tx: &Connection,
    target: u64,
    target_event: &Event,
    replacement: Option<&Event>,
) -> Result<Vec<Pos>, StoreError> {
    let mut stateful =
        affects_state(&target_event.kind) || replacement.is_some_and(|r| affects_state(&r.kind));
    let mut out: Vec<Pos> = target_event
        .effective_day()
        .map(|d| (d.0 as i64, target as i64))
        .into_iter()
        .collect();
    let bodies: Vec<(i64, String)> = tx
        .prepare_cached("SELECT e.seq, e.body FROM overrides o JOIN events e ON e.seq = o.by_seq WHERE o.target = ?1 AND o.kind = 'correction'")
        .ctx("reading corrections")?
        .query_map([target as i64], |r| Ok((r.get(0)?, r.get(1)?)))
        .ctx("reading corrections")?
        .collect::<Result<_, _>>()
        .ctx("reading corrections")?;
    for (seq, body) in bodies {
        let ev = Event::from_json(&body).map_err(|why| StoreError::Corrupt {
            seq: seq as u64,
            why,
        })?;
        if let Some(d) = ev.effective_day() {
            out.push((d.0 as i64, target as i64));
        }
        stateful |= ev.world_event().is_some_and(|w| affects_state(&w.kind));
    }
    if !stateful {
        out.clear();
    }
    Ok(out)
}

impl Ledger {
    /// Appends a batch: all events or none. Parse errors in the input, broken rules and a
    /// stale `expect_head` refuse the whole batch with every problem found
    /// ([`StoreError::Refused`]).
    pub fn append<I>(&mut self, input: I, opts: AppendOptions) -> Result<Appended, StoreError>
    where
        I: IntoIterator,
        I::Item: IntoPrepared,
    {
        self.append_then(input, opts, None)
    }

    /// [`Ledger::append`]; with `dry`, the batch is written inside a savepoint that `dry` reads
    /// (see [`Ledger::dry_run`]) and then rolled back with the whole transaction.
    pub(crate) fn append_then<I>(
        &mut self,
        input: I,
        opts: AppendOptions,
        dry: Option<super::dry_run::Inspect<'_>>,
    ) -> Result<Appended, StoreError>
    where
        I: IntoIterator,
        I::Item: IntoPrepared,
    {
        // Unchecked: the connection stays shared, so that a dry run's reads can use `self`
        // inside the transaction; it is rolled back when dropped uncommitted.
        let tx = rusqlite::Transaction::new_unchecked(
            &self.conn,
            rusqlite::TransactionBehavior::Immediate,
        )
        .ctx("taking the write lock")?;
        super::inspect::check_events_table(&tx)?;
        // Lagging projections (left by a bulk append) are brought up to date first: the batch
        // is judged against, and folded onto, the whole log (a dry run reads them with and
        // without the batch, so this comes before its savepoint).
        catch_up_in(&tx)?;
        if dry.is_some() {
            tx.execute_batch("SAVEPOINT dry_run")
                .ctx("starting a dry run")?;
        }
        let head = read_head(&tx)?;
        if let Some(expected) = opts.expect_head {
            if expected != head.seq {
                return Err(StoreError::Refused(vec![Refusal {
                    location: None,
                    seq: None,
                    rule: Some(Rule::ExpectedHead),
                    field: None,
                    message: if expected < head.seq {
                        format!(
                            "the log's last seq is {}, not {expected}: someone appended since you read it; read again (`iofs-ledger log --after {expected}`) and decide anew",
                            head.seq
                        )
                    } else {
                        format!(
                            "the log's last seq is {}, not {expected}: the log has never reached seq {expected}; check the number (`iofs-ledger head` prints the last seq)",
                            head.seq
                        )
                    },
                }]));
            }
        }
        // The real clock decides the day of recording (the future-date rule). `recorded_at`
        // never decreases along seq: a clock a little behind the head (within
        // CLOCK_TOLERANCE) stamps the head's instant + 1 µs; one further behind is refused,
        // so one wrong reading cannot drag every later stamp with it.
        let now = opts.now.unwrap_or_else(Utc::now);
        let mut stamp = now;
        if let Some(last) = head.recorded_at.as_deref().and_then(parse_instant) {
            if now + CLOCK_TOLERANCE < last {
                return Err(StoreError::ClockBehind {
                    now: format_instant(now),
                    head_seq: head.seq,
                    head_recorded_at: format_instant(last),
                });
            }
            if stamp <= last {
                stamp = last + ChronoDuration::microseconds(1);
            }
        }
        if !(1..=9999).contains(&chrono::Datelike::year(&stamp)) {
            // `recorded_at` is fixed width (text order is time order): a year outside
            // 0001-9999 would break it, and the chain's format with it.
            return Err(StoreError::Refused(vec![Refusal {
                location: None,
                seq: None,
                rule: None,
                field: Some("recorded_at".into()),
                message: format!(
                    "the stamp would be {}, outside the years 0001-9999 that recorded_at can hold: check the clock (or IOFS_LEDGER_CLOCK)",
                    stamp.to_rfc3339()
                ),
            }]));
        }
        let recorded_at = format_instant(stamp);
        let today = Day::from_naive(now.date_naive());
        // A dry run reads the projections with the batch: it never defers them.
        let appended = append_in(&tx, &head, input, &recorded_at, today, dry.is_none())?;
        if let Some(inspect) = dry {
            super::dry_run::inspect(self, &tx, &appended, inspect)?;
            tx.rollback().ctx("rolling back a dry run")?;
            return Ok(appended);
        }
        tx.commit().ctx("committing the append")?;
        Ok(appended)
    }
}

/// The head as `append` needs it.
pub(crate) struct TxHead {
    pub(crate) seq: u64,
    pub(crate) hash: String,
    pub(crate) recorded_at: Option<String>,
}

pub(crate) fn read_head(tx: &Connection) -> Result<TxHead, StoreError> {
    Ok(tx
        .query_row(
            "SELECT seq, hash, recorded_at FROM events ORDER BY seq DESC LIMIT 1",
            [],
            |r| {
                Ok(TxHead {
                    seq: r.get::<_, i64>(0)? as u64,
                    hash: r.get(1)?,
                    recorded_at: Some(r.get(2)?),
                })
            },
        )
        .optional()
        .ctx("reading the head")?
        .unwrap_or(TxHead {
            seq: 0,
            hash: GENESIS.to_string(),
            recorded_at: None,
        }))
}

/// Appends a batch inside `tx` after `head`, every event stamped `recorded_at` and its dates
/// judged against `today`; stores nothing on refusal (the caller drops the transaction).
///
/// With `may_defer`, a batch of at least [`DEFER_THRESHOLD`] events is judged by the same
/// checks and the same fold, but the fold is kept in memory: only `events`, `replay_order`,
/// `overrides` and `meta` are written, and `meta.projected_through` records the head before
/// the batch (the projections must be up to date when this is called: see [`catch_up_in`]).
pub(crate) fn append_in<I>(
    tx: &Connection,
    head: &TxHead,
    input: I,
    recorded_at: &str,
    today: Day,
    may_defer: bool,
) -> Result<Appended, StoreError>
where
    I: IntoIterator,
    I::Item: IntoPrepared,
{
    // Whether the batch is a bulk one is known once `threshold` items (or `DEFER_HOLD_BYTES`
    // of canonical JSON, so that memory stays bounded whatever the events' size) have arrived:
    // they are held (the parsing thread running ahead) before the first is stored.
    let mut input = input.into_iter().map(IntoPrepared::into_prepared);
    let threshold = defer_threshold();
    let mut held = Vec::new();
    let mut held_bytes = 0usize;
    if may_defer {
        while held.len() < threshold && held_bytes < DEFER_HOLD_BYTES {
            let Some(item) = input.next() else { break };
            held_bytes += item.as_ref().map_or(0, |p| p.body().len());
            held.push(item);
        }
    }
    let defer = may_defer && (held.len() >= threshold || held_bytes >= DEFER_HOLD_BYTES);
    let input = held.into_iter().chain(input);
    let head_seq = head.seq;
    let mut prev_hash = head.hash.clone();
    let recorded_at = recorded_at.to_string();
    let mut refusals: Vec<Refusal> = Vec::new();
    let mut locations: Vec<Location> = Vec::new();
    let mut from: Option<Pos> = None;
    // Events that arrive in replay order after the log's tail are folded as they come
    // (the common case); the first one that does not switches to a re-fold at the end.
    let mut stream_pos: Pos = tail(tx)?;
    let mut stream: Option<Folder> = None;
    let mut max_window: i64 = read_max_window(tx)?;
    // The earliest replay position the batch occupies (a deferred refold starts there at the
    // latest: the projections before it hold only earlier events).
    let mut batch_from: Option<Pos> = None;
    let mut seq = head_seq;
    // Parties already put in `parties` by this batch: a party named again needs no insert.
    let mut known_parties: HashSet<String> = HashSet::new();
    {
        let mut insert_event = tx
            .prepare_cached(
                "INSERT INTO events (seq, recorded_at, body, hash) VALUES (?1, ?2, ?3, ?4)",
            )
            .ctx("preparing the insert")?;
        let mut insert_order = tx
            .prepare_cached("INSERT INTO replay_order (day, ord, seq) VALUES (?1, ?2, ?3)")
            .ctx("preparing the insert")?;
        let mut insert_party = tx
            .prepare_cached("INSERT OR IGNORE INTO party_events (party, seq) VALUES (?1, ?2)")
            .ctx("preparing the insert")?;
        let mut insert_known = tx
            .prepare_cached("INSERT OR IGNORE INTO parties (party) VALUES (?1)")
            .ctx("preparing the insert")?;
        for item in input {
            if refusals.len() >= MAX_REFUSALS {
                refusals.push(Refusal {
                    location: None,
                    seq: None,
                    rule: None,
                    field: None,
                    message: format!("stopped checking after {MAX_REFUSALS} problems"),
                });
                break;
            }
            let (loc, ev, body) = match item.into_prepared() {
                Ok(x) => x.into_parts(),
                Err(e) => {
                    refusals.push(Refusal {
                        location: Some(e.location),
                        seq: None,
                        rule: None,
                        field: e.field,
                        message: e.message,
                    });
                    continue;
                }
            };
            seq += 1;
            locations.push(loc);
            let refuse = |rule: Option<Rule>, field: &str, message: String| Refusal {
                location: Some(loc),
                seq: Some(seq),
                rule,
                field: Some(field.to_string()),
                message,
            };
            if let Some(r) = future_date(&ev, today) {
                refusals.push(refuse(Some(Rule::NoFutureDates), r.0, r.1));
                continue;
            }
            if !refusals.is_empty() {
                // Keep checking input for more problems, but store nothing more.
                continue;
            }
            let hash = event_hash(&prev_hash, seq, &recorded_at, &body);
            let mut mark_party = |p: &str| {
                if defer {
                    return Ok(());
                }
                insert_party
                    .execute(params![p, seq as i64])
                    .ctx("indexing parties")?;
                if !known_parties.contains(p) {
                    insert_known.execute([p]).ctx("indexing parties")?;
                    known_parties.insert(p.to_string());
                }
                Ok::<(), StoreError>(())
            };
            match &ev.kind {
                Kind::Retraction {
                    retracts: target, ..
                }
                | Kind::Correction {
                    corrects: target, ..
                } => {
                    let field = if matches!(ev.kind, Kind::Retraction { .. }) {
                        "retracts"
                    } else {
                        "corrects"
                    };
                    let sha = match &ev.kind {
                        Kind::Retraction { target_sha256, .. }
                        | Kind::Correction { target_sha256, .. } => target_sha256.as_deref(),
                        _ => None,
                    };
                    // Whether this override can change what the fold gives.
                    let moves_fold = match check_target(tx, *target, seq, sha)? {
                        Err(why) => {
                            refusals.push(refuse(Some(Rule::TargetMustBeLive), field, why));
                            continue;
                        }
                        Ok(target_event) => {
                            for p in target_event.kind.parties() {
                                mark_party(p.code())?;
                            }
                            let moved =
                                refold_positions(tx, *target, &target_event, ev.world_event())?;
                            let moves = !moved.is_empty();
                            for p in moved {
                                from = Some(from.map_or(p, |f| f.min(p)));
                            }
                            moves
                        }
                    };
                    tx.execute(
                        "INSERT INTO overrides (target, by_seq, kind) VALUES (?1, ?2, ?3)",
                        params![*target as i64, seq as i64, ev.kind.type_name()],
                    )
                    .ctx("recording an override")?;
                    if let Kind::Correction { replacement, .. } = &ev.kind {
                        if let Some(d) = ev.effective_day() {
                            let p = (d.0 as i64, *target as i64);
                            insert_order
                                .execute(params![p.0, p.1, seq as i64])
                                .ctx("ordering replay")?;
                            if moves_fold {
                                from = Some(from.map_or(p, |f| f.min(p)));
                            }
                            batch_from = Some(batch_from.map_or(p, |f| f.min(p)));
                        }
                        for p in replacement.kind.parties() {
                            mark_party(p.code())?;
                        }
                    }
                }
                _ => {
                    if let Some(d) = ev.effective_day() {
                        let p = (d.0 as i64, seq as i64);
                        insert_order
                            .execute(params![p.0, p.1, seq as i64])
                            .ctx("ordering replay")?;
                        batch_from = Some(batch_from.map_or(p, |f| f.min(p)));
                        if from.is_none() && p > stream_pos {
                            // In replay order after everything so far: fold it now.
                            if stream.is_none() {
                                stream = Some(Folder::at(p).writing(!defer));
                            }
                            if let Some(f) = stream.as_mut() {
                                match f.fold(tx, p, seq, &ev) {
                                    Ok(()) => stream_pos = p,
                                    Err(RefoldError::Store(e)) => return Err(e),
                                    Err(RefoldError::Violation { .. }) => {
                                        // A later line of this batch (a retraction or a
                                        // correction) may make it valid: leave the verdict
                                        // to the refold at the end of the batch.
                                        from = Some(p);
                                    }
                                }
                            }
                        } else {
                            from = Some(from.map_or(p, |f| f.min(p)));
                        }
                    }
                    for p in ev.kind.parties() {
                        mark_party(p.code())?;
                    }
                }
            }
            if let Some((s, e)) = ev.effect_window() {
                max_window = max_window.max((e.0 - s.0) as i64);
            }
            insert_event
                .execute(params![seq as i64, recorded_at, body, hash])
                .ctx("storing an event")?;
            prev_hash = hash;
        }
    }
    if !refusals.is_empty() {
        return Err(StoreError::Refused(refusals));
    }
    if let Some(from) = from {
        // Deferred, nothing of the batch was projected: judge it by a fold in memory from the
        // batch's first position (the stored projections before it are the whole story).
        let judged = if defer {
            let start = batch_from.map_or(from, |b| b.min(from));
            fold_in_memory(tx, start)
        } else {
            refold(tx, from)
        };
        match judged {
            Ok(()) => {}
            Err(RefoldError::Store(e)) => return Err(e),
            Err(RefoldError::Violation {
                seq: bad,
                violation,
            }) => {
                let line_of = |s: u64| {
                    s.checked_sub(head_seq + 1)
                        .and_then(|i| locations.get(i as usize).copied())
                };
                // When the rule names the event that caused the break (a signature dated before
                // an establishment or adoption it meets) and that event is in this batch, the
                // refusal points at its line: it is the one to fix, whether the event that
                // broke is already recorded or in the batch too.
                let (at, location) = match (
                    violation.blame.and_then(|b| line_of(b).map(|l| (b, l))),
                    line_of(bad),
                ) {
                    (Some((b, l)), _) => (b, Some(l)),
                    (None, Some(l)) => (bad, Some(l)),
                    (None, None) => (bad, None),
                };
                let message = if line_of(bad).is_some() {
                    violation.detail
                } else {
                    format!(
                        "{} (this batch would make the already recorded event seq {bad} break the rule)",
                        violation.detail
                    )
                };
                return Err(StoreError::Refused(vec![Refusal {
                    location,
                    seq: Some(at),
                    rule: Some(violation.rule),
                    field: Some(violation.field.to_string()),
                    message,
                }]));
            }
        }
    }
    if defer {
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('projected_through', ?1)",
            [head_seq.to_string()],
        )
        .ctx("updating meta")?;
    } else {
        super::snapshots::update(tx)?;
    }
    // `max_window` is kept once the log holds events (as `rebuild` derives it).
    if seq > head_seq {
        tx.execute(
                "INSERT INTO meta (key, value) VALUES ('max_window', ?1) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                [max_window.to_string()],
            )
            .ctx("updating meta")?;
    }
    Ok(Appended {
        first: head_seq + 1,
        last: seq,
        recorded_at,
        head_hash: prev_hash,
    })
}

impl Ledger {
    /// Rebuilds every read model from the log.
    pub fn rebuild(&mut self) -> Result<u64, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .ctx("taking the write lock")?;
        super::inspect::check_events_table(&tx)?;
        // Read models that name events the log no longer holds are the evidence that events
        // were removed: rebuilding would erase it.
        let head = read_head(&tx)?.seq;
        if let Some(named) = super::inspect::beyond_head(&tx, head)? {
            return Err(StoreError::LostEvents { head, named });
        }
        let n = rebuild_in(&tx)?;
        tx.commit().ctx("committing the rebuild")?;
        Ok(n)
    }
}

/// Clears and re-derives every read model inside `tx`; returns the number of events read.
pub(crate) fn rebuild_in(tx: &Connection) -> Result<u64, StoreError> {
    for t in super::schema::READ_MODEL_TABLES {
        tx.execute(&format!("DELETE FROM {t}"), [])
            .ctx("clearing a read model")?;
    }
    tx.execute(
        "DELETE FROM meta WHERE key IN ('max_window', 'projected_through')",
        [],
    )
    .ctx("clearing meta")?;
    let mut n = 0u64;
    let mut max_window = 0i64;
    let mut from: Option<Pos> = None;
    {
        let mut st = tx
            .prepare("SELECT seq, body FROM events ORDER BY seq")
            .ctx("reading the log")?;
        let mut rows = st.query([]).ctx("reading the log")?;
        let mut insert_order = tx
            .prepare_cached("INSERT INTO replay_order (day, ord, seq) VALUES (?1, ?2, ?3)")
            .ctx("preparing the insert")?;
        let mut insert_party = tx
            .prepare_cached("INSERT OR IGNORE INTO party_events (party, seq) VALUES (?1, ?2)")
            .ctx("preparing the insert")?;
        let mut insert_override = tx
            .prepare_cached("INSERT INTO overrides (target, by_seq, kind) VALUES (?1, ?2, ?3)")
            .ctx("preparing the insert")?;
        let mut insert_known = tx
            .prepare_cached("INSERT OR IGNORE INTO parties (party) VALUES (?1)")
            .ctx("preparing the insert")?;
        let mut read_target = tx
            .prepare_cached("SELECT body FROM events WHERE seq = ?1")
            .ctx("preparing a read")?;
        let mut stream = Folder::at((i64::MIN, i64::MIN));
        let mut stream_pos: Pos = (i64::MIN, i64::MIN);
        while let Some(r) = rows.next().ctx("reading the log")? {
            let seq = r.get::<_, i64>(0).ctx("reading the log")? as u64;
            let body: String = r.get(1).ctx("reading the log")?;
            let ev = Event::from_json(&body).map_err(|why| StoreError::Corrupt { seq, why })?;
            n += 1;
            let mut parties: Vec<String> = ev
                .kind
                .parties()
                .iter()
                .map(|p| p.code().to_string())
                .collect();
            match &ev.kind {
                Kind::Retraction { retracts: t, .. } | Kind::Correction { corrects: t, .. } => {
                    insert_override
                        .execute(params![*t as i64, seq as i64, ev.kind.type_name()])
                        .ctx("recording an override")?;
                    let mut moves_fold = false;
                    // The target's parties: corrections and retractions are rare, so read
                    // the target back rather than keep every event's parties in memory.
                    let target: Option<String> = read_target
                        .query_row([*t as i64], |r| r.get(0))
                        .optional()
                        .ctx("reading the log")?;
                    if let Some(target) = target {
                        let tev = Event::from_json(&target)
                            .map_err(|why| StoreError::Corrupt { seq: *t, why })?;
                        parties.extend(tev.kind.parties().iter().map(|p| p.code().to_string()));
                        // The target (and its earlier corrections) were folded as they came:
                        // replay again from the first of their positions.
                        let moved = refold_positions(tx, *t, &tev, ev.world_event())?;
                        moves_fold = !moved.is_empty();
                        for p in moved {
                            from = Some(from.map_or(p, |f| f.min(p)));
                        }
                    }
                    if let (Kind::Correction { .. }, Some(d)) = (&ev.kind, ev.effective_day()) {
                        let p = (d.0 as i64, *t as i64);
                        insert_order
                            .execute(params![p.0, p.1, seq as i64])
                            .ctx("ordering replay")?;
                        if moves_fold {
                            from = Some(from.map_or(p, |f| f.min(p)));
                        }
                    }
                }
                _ => {
                    if let Some(d) = ev.effective_day() {
                        let p = (d.0 as i64, seq as i64);
                        insert_order
                            .execute(params![p.0, p.1, seq as i64])
                            .ctx("ordering replay")?;
                        // A log mostly in replay order is folded in this one pass; from the
                        // first event out of order (or broken rule, or override) on, the
                        // refold below replays in order.
                        if from.is_none() && p > stream_pos {
                            match stream.fold(tx, p, seq, &ev) {
                                Ok(()) => stream_pos = p,
                                Err(RefoldError::Store(e)) => return Err(e),
                                Err(RefoldError::Violation { .. }) => from = Some(p),
                            }
                        } else {
                            from = Some(from.map_or(p, |f| f.min(p)));
                        }
                    }
                }
            }
            for p in &parties {
                insert_party
                    .execute(params![p, seq as i64])
                    .ctx("indexing parties")?;
                insert_known.execute([p]).ctx("indexing parties")?;
            }
            if let Some((s, e)) = ev.effect_window() {
                max_window = max_window.max((e.0 - s.0) as i64);
            }
        }
    }
    // As an append writes it: an empty log has no `max_window`.
    if n > 0 {
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('max_window', ?1)",
            [max_window.to_string()],
        )
        .ctx("updating meta")?;
    }
    if let Some(from) = from {
        refold_all(tx, from)?;
    }
    super::snapshots::update(tx)?;
    Ok(n)
}

/// Refolds from `from` during a rebuild or a catch-up, where a broken rule means the stored log
/// is corrupt.
fn refold_all(tx: &Connection, from: Pos) -> Result<(), StoreError> {
    match refold(tx, from) {
        Ok(()) => Ok(()),
        Err(RefoldError::Store(e)) => Err(e),
        Err(RefoldError::Violation { seq, violation }) => Err(StoreError::Corrupt {
            seq,
            why: format!(
                "breaks the rule \"{}\": {}",
                violation.rule.text(),
                violation.detail
            ),
        }),
    }
}

fn read_max_window(tx: &Connection) -> Result<i64, StoreError> {
    Ok(tx
        .query_row("SELECT value FROM meta WHERE key = 'max_window'", [], |r| {
            r.get::<_, String>(0)
        })
        .optional()
        .ctx("reading meta")?
        .and_then(|s| s.parse().ok())
        .unwrap_or(0))
}

/// A date after the day of recording (appointments may name a future `takes_office`).
fn future_date(ev: &Event, today: Day) -> Option<(&'static str, String)> {
    let check = |field: &'static str, e: &Event| -> Option<(&'static str, String)> {
        for (f, d) in [(field, e.date), ("end_date", e.end_date)] {
            if let Some(d) = d {
                if d.window().0 > today {
                    return Some((f, format!("`{d}` is after the day of recording ({today})")));
                }
            }
        }
        None
    };
    match &ev.kind {
        Kind::Correction { replacement, .. } => {
            check("date", ev).or_else(|| check("replacement.date", replacement))
        }
        _ => check("date", ev),
    }
}

/// Checks a retraction's or correction's target: it exists before `seq`, is a world event and
/// is not retracted. Returns the target event, or why it cannot be the target.
fn check_target(
    tx: &Connection,
    target: u64,
    seq: u64,
    target_sha256: Option<&str>,
) -> Result<Result<Event, String>, StoreError> {
    if target >= seq {
        return Ok(Err(format!(
            "seq {target} does not exist yet (this event would be seq {seq})"
        )));
    }
    let body: Option<String> = tx
        .query_row(
            "SELECT body FROM events WHERE seq = ?1",
            [target as i64],
            |r| r.get(0),
        )
        .optional()
        .ctx("reading a target")?;
    let Some(body) = body else {
        return Ok(Err(format!("seq {target} does not exist")));
    };
    if let Some(want) = target_sha256 {
        let found = crate::chain::body_sha256(&body);
        if found != want {
            return Ok(Err(format!(
                "seq {target} is not the event this was written for (its canonical JSON has SHA-256 {found}, not target_sha256 {want}): appended to a ledger other than the one it was exported from, it would act on another event; append an export only to an empty ledger (`init --empty`)"
            )));
        }
    }
    let ev = Event::from_json(&body).map_err(|why| StoreError::Corrupt { seq: target, why })?;
    if ev.kind.is_record_event() {
        return Ok(Err(format!(
            "seq {target} is a {}; target the world event itself (to undo a correction, append another correction)",
            ev.kind.type_name()
        )));
    }
    let retracted: Option<i64> = tx
        .query_row(
            "SELECT by_seq FROM overrides WHERE target = ?1 AND kind = 'retraction'",
            [target as i64],
            |r| r.get(0),
        )
        .optional()
        .ctx("reading overrides")?;
    if let Some(by) = retracted {
        return Ok(Err(format!(
            "seq {target} was already retracted by seq {by}"
        )));
    }
    Ok(Ok(ev))
}

pub(crate) enum RefoldError {
    Store(StoreError),
    Violation {
        seq: u64,
        violation: crate::projection::Violation,
    },
}

impl From<StoreError> for RefoldError {
    fn from(e: StoreError) -> Self {
        RefoldError::Store(e)
    }
}

/// Every key the projection may hold: per-party keys for every known party, and the rest.
/// The fact `key` held just before replay position `before`, from the read models.
fn fact_before(tx: &Connection, key: &Key, before: Pos) -> Result<Option<Fact>, StoreError> {
    let f: Option<String> = tx
        .prepare_cached("SELECT fact FROM timeline WHERE key = ?1 AND (day, ord) < (?2, ?3) ORDER BY day DESC, ord DESC LIMIT 1")
        .ctx("loading state")?
        .query_row(params![key.encode(), before.0, before.1], |r| r.get(0))
        .optional()
        .ctx("loading state")?;
    f.map(|f| {
        serde_json::from_str(&f).map_err(|e| StoreError::Damaged {
            what: format!("the timeline row for {key}"),
            why: e.to_string(),
        })
    })
    .transpose()
}

/// Folds live events in replay order into the projection and stores what changes.
///
/// A fold that starts mid-log (an append at the tail, a refold) does not load the whole state:
/// before each event it loads, from the read models, only the keys that event's rules consult
/// ([`Projection::reads`]) and the fold has not yet seen, as they stood just before the start.
/// (A key the fold has changed is already in the projection, and its stored rows after the start
/// are the fold's own.)
pub(crate) struct Folder {
    proj: Projection,
    /// The replay position the fold started at (`None`: from the empty state).
    start: Option<Pos>,
    /// Keys already looked up in the read models.
    looked_up: HashSet<Key>,
    /// Whether the facts and windows are stored (else the fold only judges the events).
    write: bool,
}

impl Folder {
    /// Starts from the state just before `from`.
    pub(crate) fn at(from: Pos) -> Folder {
        Folder {
            proj: Projection::new(),
            start: (from.0 != i64::MIN).then_some(from),
            looked_up: HashSet::new(),
            write: true,
        }
    }

    /// This fold, storing its facts and windows or (`false`) only judging the events.
    pub(crate) fn writing(mut self, write: bool) -> Folder {
        self.write = write;
        self
    }

    /// Applies `ev` (its own seq `seq`, replay position `pos`) and stores its facts and window.
    pub(crate) fn fold(
        &mut self,
        tx: &Connection,
        pos: Pos,
        seq: u64,
        ev: &Event,
    ) -> Result<(), RefoldError> {
        let Some(world) = ev.world_event() else {
            return Ok(());
        };
        if let Some(start) = self.start {
            for k in Projection::reads(&world.kind) {
                if self.proj.get(&k).is_none() && !self.looked_up.contains(&k) {
                    if let Some(f) = fact_before(tx, &k, start)? {
                        self.proj.seed(k.clone(), f);
                    }
                    self.looked_up.insert(k);
                }
            }
        }
        let changes = self
            .proj
            .apply(seq, world)
            .map_err(|violation| RefoldError::Violation { seq, violation })?;
        if !self.write {
            return Ok(());
        }
        if !changes.is_empty() {
            let mut insert_fact = tx
                .prepare_cached(
                    "INSERT INTO timeline (key, day, ord, fact) VALUES (?1, ?2, ?3, ?4)",
                )
                .ctx("preparing the insert")?;
            for (k, f) in changes {
                let json = serde_json::to_string(&f).map_err(|e| StoreError::Corrupt {
                    seq,
                    why: e.to_string(),
                })?;
                insert_fact
                    .execute(params![k.encode(), pos.0, pos.1, json])
                    .ctx("storing a fact")?;
            }
        }
        if let (Some(p), Some((s, e))) = (Pending::of(seq, ev), ev.effect_window()) {
            if s < e {
                let date = serde_json::to_string(&p.date).map_err(|e| StoreError::Corrupt {
                    seq,
                    why: e.to_string(),
                })?;
                tx.prepare_cached(
                    "INSERT INTO windows (day, ord, start, seq, type, party, date) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )
                .ctx("preparing the insert")?
                .execute(params![
                    pos.0,
                    pos.1,
                    s.0 as i64,
                    seq as i64,
                    p.kind,
                    p.party.as_ref().map(|p| p.code()),
                    date
                ])
                .ctx("storing a window")?;
            }
        }
        Ok(())
    }
}

/// The last replay position in the log (or the smallest position when empty).
fn tail(tx: &Connection) -> Result<Pos, StoreError> {
    Ok(tx
        .query_row(
            "SELECT day, ord FROM replay_order ORDER BY day DESC, ord DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .ctx("reading the replay tail")?
        .unwrap_or((i64::MIN, i64::MIN)))
}

pub(crate) fn refold(tx: &Connection, from: Pos) -> Result<(), RefoldError> {
    refold_with(tx, from, true)
}

/// Folds the log in replay order from `from` in memory, storing nothing: judges a deferred
/// batch by the rules exactly as [`refold`] would.
fn fold_in_memory(tx: &Connection, from: Pos) -> Result<(), RefoldError> {
    refold_with(tx, from, false)
}

fn refold_with(tx: &Connection, from: Pos, write: bool) -> Result<(), RefoldError> {
    let mut folder = Folder::at(from).writing(write);
    if write {
        super::snapshots::invalidate(tx, from)?;
        tx.execute(
            "DELETE FROM timeline WHERE (day, ord) >= (?1, ?2)",
            params![from.0, from.1],
        )
        .ctx("clearing derived rows")?;
        tx.execute(
            "DELETE FROM windows WHERE (day, ord) >= (?1, ?2)",
            params![from.0, from.1],
        )
        .ctx("clearing derived rows")?;
    }
    let overrides = load_overrides(tx, None)?;
    let mut st = tx
        .prepare_cached("SELECT r.day, r.ord, r.seq, e.body FROM replay_order r JOIN events e ON e.seq = r.seq WHERE (r.day, r.ord) >= (?1, ?2) ORDER BY r.day, r.ord, r.seq")
        .ctx("reading the log in replay order")?;
    let mut rows = st
        .query(params![from.0, from.1])
        .ctx("reading the log in replay order")?;
    while let Some(r) = rows.next().ctx("reading the log")? {
        let day: i64 = r.get(0).ctx("reading the log")?;
        let ord: i64 = r.get(1).ctx("reading the log")?;
        let seq = r.get::<_, i64>(2).ctx("reading the log")? as u64;
        if !overrides.is_active(ord as u64, seq) {
            continue;
        }
        let body =
            r.get_ref(3)
                .ctx("reading the log")?
                .as_str()
                .map_err(|e| StoreError::Corrupt {
                    seq,
                    why: format!("body is not text: {e}"),
                })?;
        // A meeting, claim, document, proposal, programme or agreement changes nothing the fold
        // holds or writes (`Folder::fold` applies it as nothing): not parsed.
        if canonical_type_never_affects_state(body) {
            continue;
        }
        let ev = Event::from_json(body).map_err(|why| StoreError::Corrupt { seq, why })?;
        folder.fold(tx, (day, ord), seq, &ev)?;
    }
    Ok(())
}
