//! `verify`'s pass over the file: the log walked once in seq order, and the read models derived
//! from it compared with the file's by an ordered merge.
//!
//! **The walk** ([`Ledger::walk_log`]): this thread reads the rows of `events` in seq order, a
//! chunk of [`CHUNK`] at a time, and hands the chunks round-robin to worker threads that compute
//! each row's chain hash (over the previous row's stored hash) and parse its body; the results
//! come back in seq order to the caller's check (the chain rules live in `audit`), and every row
//! that passes feeds the derivation of the read models that follow from the log in seq order:
//! `replay_order`, `overrides`, `party_events`, `parties` and `meta`.
//!
//! **The comparison** ([`Ledger::compare_read_models`]): those derived rows, sorted in memory
//! (about 24 bytes an event), are merged with the file's tables read in their key order. The
//! fold then runs on a worker thread over the live, state-changing events in the derived replay
//! order (their bodies read back by seq on this thread), and its `timeline`, `windows` and
//! `state_snapshots` rows, produced in replay position order, are merged with the file's rows
//! read in the same order (`timeline` through its covering position index). Nothing is written
//! anywhere: no scratch database, no temporary table. Nothing the file holds beyond its log takes
//! part in deriving what it is compared with, so a trigger, view or row planted in the file
//! cannot check itself. A difference is named by its table, the number of rows that differ and
//! the first of them (its key columns).
//!
//! Memory is bounded by the derived rows that must be sorted (replay positions, party index) and
//! a few chunks in flight; the fold's own state is one fact per key.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};
use std::sync::mpsc::{channel, sync_channel, Receiver, Sender};

use rusqlite::types::{Value, ValueRef};

use super::{Ctx, Ledger, RawEvent, StoreError};
use crate::chain::{event_digest, GENESIS};
use crate::event::{Event, Kind};
use crate::projection::{affects_state, Pending, Projection};

/// Rows handed to a worker at a time.
const CHUNK: usize = 512;
/// Chunks waiting for or coming back from each worker, at most.
const AHEAD: usize = 4;

/// How a stored body parsed.
#[derive(Debug)]
pub enum Body {
    /// A valid event whose canonical JSON is the stored body.
    Canonical(Box<Event>),
    /// A valid event, but not written in its canonical form.
    NotCanonical,
    /// Not a valid event: why.
    Invalid(String),
}

/// A row of the log as the walk hands it to its check, in seq order.
#[derive(Debug)]
pub struct WalkedRow {
    /// The row as stored (its `body` is left empty: `body` below is what it says).
    pub raw: RawEvent,
    /// The chain hash of this row over the previous row's stored hash (the genesis hash for
    /// the first row): what `raw.hash` must be the hex of.
    pub computed: [u8; 32],
    /// The body, parsed.
    pub body: Body,
}

impl WalkedRow {
    /// Whether the stored hash is the computed one.
    pub fn hash_matches(&self) -> bool {
        crate::chain::is_hex_of(&self.raw.hash, &self.computed)
    }

    /// The computed hash, in hex.
    pub fn computed_hash(&self) -> String {
        hex::encode(self.computed)
    }
}

/// What the walk derived from the rows its check accepted (all of them, when it never stopped).
#[derive(Debug, Default)]
pub struct Derivation {
    /// Events read.
    events: u64,
    /// `replay_order` rows: (day, ord, seq).
    replay: Vec<(i64, i64, i64)>,
    /// Seqs whose world event can change the state (the fold passes over the others).
    stateful: SeqSet,
    /// `overrides` rows: (target, by_seq, kind).
    overrides: Vec<(i64, i64, &'static str)>,
    /// `party_events`: each party's seqs.
    party_events: BTreeMap<String, Vec<i64>>,
    /// The widest date window, in days.
    max_window: i64,
}

/// A set of seqs as a bit vector (one bit an event).
#[derive(Debug, Default)]
struct SeqSet(Vec<u64>);

impl SeqSet {
    fn contains(&self, seq: i64) -> bool {
        let Ok(s) = u64::try_from(seq) else {
            return false;
        };
        self.0
            .get((s / 64) as usize)
            .is_some_and(|w| w & (1 << (s % 64)) != 0)
    }

    fn insert(&mut self, seq: u64) {
        let w = (seq / 64) as usize;
        if self.0.len() <= w {
            self.0.resize(w + 1, 0);
        }
        self.0[w] |= 1 << (seq % 64);
    }
}

impl Derivation {
    /// Takes in an accepted event, as `rebuild` does.
    fn add(&mut self, seq: u64, ev: &Event) {
        self.events += 1;
        let s = seq as i64;
        match &ev.kind {
            Kind::Retraction { retracts: t, .. } | Kind::Correction { corrects: t, .. } => {
                self.overrides.push((*t as i64, s, ev.kind.type_name()));
                if let (Kind::Correction { .. }, Some(d)) = (&ev.kind, ev.effective_day()) {
                    self.replay.push((i64::from(d.0), *t as i64, s));
                }
            }
            _ => {
                if let Some(d) = ev.effective_day() {
                    self.replay.push((i64::from(d.0), s, s));
                }
            }
        }
        if ev.world_event().is_some_and(|w| affects_state(&w.kind)) {
            self.stateful.insert(seq);
        }
        for p in ev.kind.parties() {
            match self.party_events.get_mut(p.code()) {
                Some(seqs) => seqs.push(s),
                None => {
                    self.party_events.insert(p.code().to_string(), vec![s]);
                }
            }
        }
        if let Some((a, b)) = ev.effect_window() {
            self.max_window = self.max_window.max(i64::from(b.0 - a.0));
        }
    }

    /// The `meta` rows the log derives, in key order. (A new meta key is derived here.)
    fn meta(&self) -> Vec<[Value; 2]> {
        let mut rows = Vec::new();
        if self.events > 0 {
            rows.push([
                Value::Text("max_window".into()),
                Value::Text(self.max_window.to_string()),
            ]);
        }
        rows
    }
}

/// A chunk of stored rows for a worker, with the stored hash of the row before the first: the
/// bodies end to end in one buffer, each row's ending at its offset.
struct RawChunk {
    prev: String,
    text: String,
    rows: Vec<(RawEvent, usize)>,
}

/// Hashes and parses a chunk (on a worker thread).
fn walk_chunk(chunk: RawChunk) -> Vec<WalkedRow> {
    let mut prev = chunk.prev;
    let mut start = 0;
    chunk
        .rows
        .into_iter()
        .map(|(raw, end)| {
            let body = chunk.text.get(start..end).unwrap_or_default();
            start = end;
            let computed = event_digest(&prev, raw.seq.max(0) as u64, &raw.recorded_at, body);
            prev.clone_from(&raw.hash);
            let body = match Event::from_json(body) {
                Ok(ev) if ev.is_canonical_json(body) => Body::Canonical(Box::new(ev)),
                Ok(_) => Body::NotCanonical,
                Err(e) => Body::Invalid(e.to_string()),
            };
            WalkedRow {
                raw,
                computed,
                body,
            }
        })
        .collect()
}

/// What a worker is handed: work, or a result the consumer is done with, to be freed on the
/// thread that allocated it (where glibc's allocator frees without taking another thread's
/// arena lock: freeing a worker's parsed events on the reading thread serialised the two).
enum Job<I, O> {
    Work(I),
    Free(O),
}

/// A worker's two channels: jobs to it, results from it.
type Lane<I, O> = (Sender<Job<I, O>>, Receiver<O>);

/// Runs `produce` → a worker → `consume` with the workers `make` builds, each on its own thread,
/// chunks handed out round-robin and their results consumed in the order produced, then handed
/// back to their worker to be freed. At most [`AHEAD`] chunks of work are outstanding per
/// worker, so neither side ever blocks the other for good and memory stays bounded. `consume`
/// returns `false` to stop early. Where the OS gives no thread, the work runs on this thread.
fn pipeline<I: Send, O: Send, W: FnMut(I) -> O + Send>(
    workers: usize,
    make: impl Fn() -> W,
    mut produce: impl FnMut() -> Result<Option<I>, StoreError>,
    mut consume: impl FnMut(&mut O) -> Result<bool, StoreError>,
) -> Result<(), StoreError> {
    std::thread::scope(|scope| {
        let mut lanes: Vec<Lane<I, O>> = Vec::new();
        let mut handles = Vec::new();
        for _ in 0..workers.max(1) {
            // Unbounded, but never long: at most AHEAD chunks of work, and the results handed
            // back, which the worker frees as it comes to them.
            let (itx, irx) = channel::<Job<I, O>>();
            let (otx, orx) = sync_channel::<O>(AHEAD);
            let mut work = make();
            let spawned = std::thread::Builder::new()
                .name("iofs-verify".into())
                .spawn_scoped(scope, move || {
                    for job in irx {
                        match job {
                            Job::Work(i) => {
                                if otx.send(work(i)).is_err() {
                                    break;
                                }
                            }
                            Job::Free(o) => drop(o),
                        }
                    }
                });
            match spawned {
                Ok(h) => {
                    handles.push(h);
                    lanes.push((itx, orx));
                }
                Err(_) => break,
            }
        }
        let result = if lanes.is_empty() {
            // No thread to be had: do the work here.
            let mut work = make();
            loop {
                let Some(i) = produce()? else { break Ok(()) };
                if !consume(&mut work(i))? {
                    break Ok(());
                }
            }
        } else {
            let n = lanes.len();
            let (mut sent, mut got, mut done) = (0usize, 0usize, false);
            let lost = || StoreError::Internal("a verifying thread stopped early");
            loop {
                while !done && sent - got < AHEAD * n {
                    match produce()? {
                        Some(i) => {
                            lanes[sent % n].0.send(Job::Work(i)).map_err(|_| lost())?;
                            sent += 1;
                        }
                        None => done = true,
                    }
                }
                if got == sent {
                    break Ok(());
                }
                let lane = &lanes[got % n];
                let mut o = lane.1.recv().map_err(|_| lost())?;
                got += 1;
                let more = consume(&mut o)?;
                // A worker that has stopped frees nothing more: drop it here then.
                let _ = lane.0.send(Job::Free(o));
                if !more {
                    break Ok(());
                }
            }
        };
        drop(lanes);
        let mut joined = Ok(());
        for h in handles {
            if h.join().is_err() {
                joined = Err(StoreError::Internal("a verifying thread failed"));
            }
        }
        result.and(joined)
    })
}

/// Worker threads for the walk: one per core, at least one. The reading thread is lighter
/// than a worker (stepping rows, the chain rules, the derivation); with one worker fewer, a
/// two-core machine kept a core about half idle while the worker hashed and parsed.
fn walk_workers() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 4)
}

/// Reads a stored row as it is, its body onto the end of `text` (the returned row's `body` is
/// left empty); a column that is not UTF-8 text is noted in `unreadable`.
fn raw_row(r: &rusqlite::Row<'_>, text: &mut String) -> Result<RawEvent, StoreError> {
    let seq: i64 = r.get(0).ctx("reading the log")?;
    let mut unreadable = None;
    let mut column = |i: usize, name: &'static str, out: &mut String| -> Result<(), StoreError> {
        let v = r.get_ref(i).ctx("reading the log")?;
        let bytes = match v {
            ValueRef::Text(b) => b,
            ValueRef::Blob(b) => {
                unreadable.get_or_insert(format!("{name} as a BLOB, not text"));
                b
            }
            _ => {
                unreadable.get_or_insert(format!("{name} is not text"));
                return Ok(());
            }
        };
        match std::str::from_utf8(bytes) {
            Ok(s) => out.push_str(s),
            Err(e) => {
                unreadable.get_or_insert(format!("{name} is not valid UTF-8 ({e})"));
                out.push_str(&String::from_utf8_lossy(bytes));
            }
        }
        Ok(())
    };
    let (mut recorded_at, mut hash) = (String::new(), String::new());
    column(1, "recorded_at", &mut recorded_at)?;
    column(2, "body", text)?;
    column(3, "hash", &mut hash)?;
    Ok(RawEvent {
        seq,
        recorded_at,
        body: String::new(),
        hash,
        unreadable,
    })
}

/// What [`Ledger::walk_log`] found.
#[derive(Debug)]
pub struct Walked {
    /// Rows in the log (all of them, also those after the check stopped).
    pub rows: u64,
    /// The derivation, when the check accepted every row.
    pub derived: Option<Derivation>,
}

/// The page cache while `verify` streams the file (KiB). Its rows are read once, in key order,
/// so a cache as large as the usual one only holds pages that are not read again; what it must
/// hold is the interior pages of `events` for the fold's lookups by seq (about 4 MiB at a
/// million events). Smaller keeps verify's peak memory under 100 MB at a million events.
const STREAMING_CACHE_KIB: u32 = 8 * 1024;

impl Ledger {
    /// Runs `f` with the page cache sized for one streaming pass over the file
    /// ([`STREAMING_CACHE_KIB`]), then puts the usual size back.
    pub fn with_streaming_cache<T>(
        &self,
        f: impl FnOnce() -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let size = |kib: u32| {
            self.conn
                .execute_batch(&format!("PRAGMA cache_size = -{kib}"))
                .ctx("sizing the page cache")
        };
        size(STREAMING_CACHE_KIB)?;
        let out = f();
        let back = size(super::CACHE_KIB);
        let out = out?;
        back?;
        Ok(out)
    }

    /// Walks the log once in seq order: `check` gets every row with its computed chain hash and
    /// parsed body, in order, on this thread, and returns whether the row is sound; the first
    /// unsound row stops the walk (the rest are only counted). The hashing and parsing run on
    /// worker threads while this one reads. The sound rows are derived into the read models
    /// that follow from the log in seq order, for [`Ledger::compare_read_models`].
    pub fn walk_log(
        &self,
        mut check: impl FnMut(&WalkedRow) -> bool,
    ) -> Result<Walked, StoreError> {
        let mut st = self
            .conn
            .prepare("SELECT seq, recorded_at, body, hash FROM events ORDER BY seq")
            .ctx("reading the log")?;
        let mut rows = st.query([]).ctx("reading the log")?;
        let mut read = 0u64;
        let mut prev = GENESIS.to_string();
        let mut derived = Derivation::default();
        let mut sound = true;
        pipeline(
            walk_workers(),
            || walk_chunk,
            || {
                let mut chunk = RawChunk {
                    prev: prev.clone(),
                    text: String::with_capacity(CHUNK * 512),
                    rows: Vec::with_capacity(CHUNK),
                };
                while chunk.rows.len() < CHUNK {
                    let Some(r) = rows.next().ctx("reading the log")? else {
                        break;
                    };
                    let raw = raw_row(r, &mut chunk.text)?;
                    read += 1;
                    prev.clone_from(&raw.hash);
                    chunk.rows.push((raw, chunk.text.len()));
                }
                Ok((!chunk.rows.is_empty()).then_some(chunk))
            },
            |walked: &mut Vec<WalkedRow>| {
                for row in walked.iter() {
                    if !check(row) {
                        sound = false;
                        return Ok(false);
                    }
                    if let Body::Canonical(ev) = &row.body {
                        derived.add(row.raw.seq.max(0) as u64, ev);
                    }
                }
                Ok(true)
            },
        )?;
        while rows.next().ctx("reading the log")?.is_some() {
            read += 1;
        }
        Ok(Walked {
            rows: read,
            derived: sound.then_some(derived),
        })
    }

    /// Compares every read model (`meta` included) with the rows that `derived` (from
    /// [`Ledger::walk_log`]) and a fold of the log give, by an ordered merge with the file's
    /// tables, each read in its key order; writes nothing. Inside a [`Ledger::snapshot`] every
    /// read sees one state of the file.
    pub fn compare_read_models(&self, derived: Derivation) -> Result<ReadModelCheck, StoreError> {
        self.require_current()?;
        let mut meta = derived.meta();
        // A file whose projections lag after a bulk append (`meta.projected_through` = N) is
        // compared with them as the bulk append leaves them: `replay_order`, `overrides` and
        // `max_window` of the whole log, the other read models of events 1..N only.
        // The key is there only while they lag: a value at or past the head is no state an
        // append leaves, so it is not expected, and the file's key shows as a difference.
        let head = super::append::read_head(&self.conn)?.seq as i64;
        // A value that is not a seq is no state an append leaves either: not expected, shown.
        let through = match super::append::projected_through(&self.conn) {
            Err(StoreError::Damaged { .. }) => None,
            r => r?,
        }
        .map(|n| n as i64)
        .filter(|&n| n < head);
        if let Some(n) = through {
            meta.push([
                Value::Text("projected_through".into()),
                Value::Text(n.to_string()),
            ]);
        }
        let Derivation {
            mut replay,
            stateful,
            mut overrides,
            mut party_events,
            ..
        } = derived;
        // A retraction or correction is indexed under its target's parties too (read back:
        // they are few).
        {
            let mut body_of = self
                .conn
                .prepare_cached("SELECT body FROM events WHERE seq = ?1")
                .ctx("reading the log")?;
            for &(target, by, _) in &overrides {
                let mut rows = body_of.query([target]).ctx("reading the log")?;
                let Some(r) = rows.next().ctx("reading the log")? else {
                    continue;
                };
                let body: String = r.get(0).ctx("reading the log")?;
                match Event::from_json(&body) {
                    Ok(ev) => {
                        for p in ev.kind.parties() {
                            party_events
                                .entry(p.code().to_string())
                                .or_default()
                                .push(by);
                        }
                    }
                    Err(why) => {
                        return Ok(ReadModelCheck::Unreplayable {
                            seq: target.max(0) as u64,
                            why: why.to_string(),
                        })
                    }
                }
            }
        }
        replay.sort_unstable();
        overrides.sort_unstable();
        for seqs in party_events.values_mut() {
            seqs.sort_unstable();
            seqs.dedup();
            if let Some(n) = through {
                seqs.retain(|s| *s <= n);
            }
        }
        party_events.retain(|_, seqs| !seqs.is_empty());
        let mut found = Found::default();
        let int = Value::Integer;
        let text = |s: &str| Value::Text(s.to_string());
        merge(
            &self.conn,
            &REPLAY_ORDER,
            replay.iter().map(|&(d, o, s)| vec![int(d), int(o), int(s)]),
            &mut found,
        )?;
        merge(
            &self.conn,
            &OVERRIDES,
            overrides
                .iter()
                .map(|&(t, b, k)| vec![int(t), int(b), text(k)]),
            &mut found,
        )?;
        merge(
            &self.conn,
            &PARTIES,
            party_events.keys().map(|p| vec![text(p)]),
            &mut found,
        )?;
        merge(
            &self.conn,
            &PARTY_EVENTS,
            party_events
                .iter()
                .flat_map(|(p, seqs)| seqs.iter().map(move |s| vec![text(p), int(*s)])),
            &mut found,
        )?;
        merge(
            &self.conn,
            &META,
            meta.into_iter().map(Vec::from),
            &mut found,
        )?;
        // The fold covers the events the read models were projected through.
        if let Some(n) = through {
            replay.retain(|r| r.2 <= n);
            overrides.retain(|o| o.1 <= n);
        }
        if let Some((seq, why)) =
            self.fold_and_compare(&replay, &stateful, &overrides, &mut found)?
        {
            return Ok(ReadModelCheck::Unreplayable { seq, why });
        }
        for copies in &SECOND_COPIES {
            if let Some(d) = second_copy_differs(&self.conn, copies) {
                found.tables.push(d);
            }
        }
        found
            .tables
            .sort_by_key(|d| ORDER.iter().position(|t| *t == d.table));
        Ok(ReadModelCheck::Differences {
            tables: found.tables,
            names_up_to: (found.named > 0).then_some(found.named as u64),
        })
    }

    /// Folds the live, state-changing events in replay order on a worker thread and merges the
    /// `timeline`, `windows` and `state_snapshots` rows it gives with the file's, in position
    /// order. `Some((seq, why))` when the log breaks a world rule at `seq`.
    fn fold_and_compare(
        &self,
        replay: &[(i64, i64, i64)],
        stateful: &SeqSet,
        overrides: &[(i64, i64, &'static str)],
        found: &mut Found,
    ) -> Result<Option<(u64, String)>, StoreError> {
        // target → (retracted, latest correction)
        let mut over: HashMap<i64, (bool, Option<i64>)> = HashMap::new();
        for &(t, by, kind) in overrides {
            let o = over.entry(t).or_default();
            if kind == "retraction" {
                o.0 = true;
            } else {
                o.1 = Some(o.1.map_or(by, |l| l.max(by)));
            }
        }
        let live = |ord: i64, seq: i64| match over.get(&ord) {
            None => seq == ord,
            Some((true, _)) => false,
            Some((false, Some(latest))) => seq == *latest,
            Some((false, None)) => seq == ord,
        };
        let mut todo = replay
            .iter()
            .filter(|(_, o, s)| stateful.contains(*s) && live(*o, *s));
        let mut body_of = self
            .conn
            .prepare("SELECT body FROM events WHERE seq = ?1")
            .ctx("reading the log")?;
        let mut st_timeline = prepare(&self.conn, &TIMELINE)?;
        let mut st_windows = prepare(&self.conn, &WINDOWS)?;
        let mut st_snapshots = prepare(&self.conn, &SNAPSHOTS)?;
        let mut timeline = Merge::new(&TIMELINE, &mut st_timeline)?;
        let mut windows = Merge::new(&WINDOWS, &mut st_windows)?;
        let mut snapshots = Merge::new(&SNAPSHOTS, &mut st_snapshots)?;
        let mut walk = SnapshotWalk::default();
        let mut broken: Option<(u64, String)> = None;
        pipeline(
            1,
            fold_worker,
            || {
                let mut chunk = Vec::with_capacity(CHUNK);
                for &(day, ord, seq) in todo.by_ref() {
                    let mut rows = body_of.query([seq]).ctx("reading the log")?;
                    if let Some(r) = rows.next().ctx("reading the log")? {
                        chunk.push((day, ord, seq, r.get::<_, String>(0).ctx("reading the log")?));
                    }
                    if chunk.len() == CHUNK {
                        break;
                    }
                }
                Ok((!chunk.is_empty()).then_some(chunk))
            },
            |folded: &mut Result<Vec<Folded>, (u64, String)>| {
                let folded = match folded {
                    Ok(f) => f,
                    Err(b) => {
                        broken = Some(std::mem::take(b));
                        return Ok(false);
                    }
                };
                for f in folded.iter_mut() {
                    for (key, fact) in &f.facts {
                        timeline.push(vec![
                            Value::Integer(f.day),
                            Value::Integer(f.ord),
                            Value::Text(key.clone()),
                            Value::Text(fact.clone()),
                        ])?;
                    }
                    if !f.facts.is_empty() {
                        if let Some(row) = walk.after((f.day, f.ord), std::mem::take(&mut f.facts))
                        {
                            snapshots.push(row)?;
                        }
                    }
                    if let Some(w) = f.window.take() {
                        windows.push(w)?;
                    }
                }
                Ok(true)
            },
        )?;
        if broken.is_some() {
            return Ok(broken);
        }
        timeline.finish(found)?;
        windows.finish(found)?;
        snapshots.finish(found)?;
        Ok(None)
    }
}

/// What the fold gives at one replay position.
struct Folded {
    day: i64,
    ord: i64,
    /// Each changed key and its fact's stored text, in key order.
    facts: Vec<(String, String)>,
    /// The `windows` row of a pending event.
    window: Option<Vec<Value>>,
}

/// A fold from the empty state, fed chunks of (day, ord, seq, body) in replay order: what
/// `rebuild` stores for each (see `append::Folder::fold`).
#[allow(clippy::type_complexity)]
fn fold_worker() -> impl FnMut(Vec<(i64, i64, i64, String)>) -> Result<Vec<Folded>, (u64, String)> {
    let mut proj = Projection::new();
    move |chunk| {
        let mut out = Vec::with_capacity(chunk.len());
        for (day, ord, seq, body) in chunk {
            let s = seq.max(0) as u64;
            let ev = Event::from_json(&body).map_err(|e| (s, e.to_string()))?;
            let Some(world) = ev.world_event() else {
                continue;
            };
            let changes = proj.apply(s, world).map_err(|v| {
                (
                    s,
                    format!("breaks the rule \"{}\": {}", v.rule.text(), v.detail),
                )
            })?;
            let mut facts = Vec::with_capacity(changes.len());
            for (k, f) in changes {
                let json = serde_json::to_string(&f).map_err(|e| (s, e.to_string()))?;
                facts.push((k.encode(), json));
            }
            facts.sort_unstable();
            let window = match (Pending::of(s, &ev), ev.effect_window()) {
                (Some(p), Some((a, b))) if a < b => {
                    let date = serde_json::to_string(&p.date).map_err(|e| (s, e.to_string()))?;
                    Some(vec![
                        Value::Integer(day),
                        Value::Integer(ord),
                        Value::Integer(i64::from(a.0)),
                        Value::Integer(seq),
                        Value::Text(p.kind),
                        p.party
                            .map_or(Value::Null, |p| Value::Text(p.code().to_string())),
                        Value::Text(date),
                    ])
                }
                _ => None,
            };
            out.push(Folded {
                day,
                ord,
                facts,
                window,
            });
        }
        Ok(out)
    }
}

/// The state snapshots `rebuild` takes, from the timeline rows in position order (the rule of
/// `store::snapshots::update`, from the empty state).
#[derive(Default)]
struct SnapshotWalk {
    state: BTreeMap<String, String>,
    rows_before: i64,
    pending: i64,
    threshold: Option<i64>,
}

impl SnapshotWalk {
    /// Takes in the rows of the position `pos`; the snapshot row due at its end, if one is.
    fn after(&mut self, pos: (i64, i64), facts: Vec<(String, String)>) -> Option<Vec<Value>> {
        let threshold = *self
            .threshold
            .get_or_insert_with(|| super::snapshots::threshold(0));
        self.pending += facts.len() as i64;
        self.state.extend(facts);
        if self.pending < threshold {
            return None;
        }
        self.rows_before += self.pending;
        self.pending = 0;
        let mut text = String::with_capacity(self.state.len() * 96);
        for (k, f) in &self.state {
            text.push_str(k);
            text.push('\t');
            text.push_str(f);
            text.push('\n');
        }
        let keys = self.state.len() as i64;
        self.threshold = Some(super::snapshots::threshold(keys));
        Some(vec![
            Value::Integer(pos.0),
            Value::Integer(pos.1),
            Value::Integer(self.rows_before),
            Value::Integer(keys),
            Value::Text(text),
        ])
    }
}

/// A read model as compared: its columns in the order compared (its key first), how it is read
/// in that order, how many leading columns name a row, the column whose smallest differing value
/// is reported as the first seq concerned, and the columns naming seqs (read models naming a seq
/// beyond the log's head mean the log lost events).
struct Table {
    name: &'static str,
    cols: &'static str,
    from: &'static str,
    key_cols: usize,
    seq_col: Option<usize>,
    names: &'static [usize],
}

const TIMELINE: Table = Table {
    name: "timeline",
    cols: "day, ord, key, fact",
    from: "timeline INDEXED BY timeline_by_position",
    key_cols: 3,
    seq_col: Some(1),
    names: &[1],
};
const REPLAY_ORDER: Table = Table {
    name: "replay_order",
    cols: "day, ord, seq",
    from: "replay_order",
    key_cols: 3,
    seq_col: Some(2),
    names: &[1, 2],
};
const OVERRIDES: Table = Table {
    name: "overrides",
    cols: "target, by_seq, kind",
    from: "overrides",
    key_cols: 2,
    seq_col: Some(1),
    names: &[0, 1],
};
const WINDOWS: Table = Table {
    name: "windows",
    cols: "day, ord, start, seq, type, party, date",
    from: "windows",
    key_cols: 2,
    seq_col: Some(3),
    names: &[3],
};
const SNAPSHOTS: Table = Table {
    name: "state_snapshots",
    cols: "day, ord, rows, keys, facts",
    from: "state_snapshots",
    key_cols: 2,
    seq_col: Some(1),
    names: &[],
};
const PARTIES: Table = Table {
    name: "parties",
    cols: "party",
    from: "parties",
    key_cols: 1,
    seq_col: None,
    names: &[],
};
const PARTY_EVENTS: Table = Table {
    name: "party_events",
    cols: "party, seq",
    from: "party_events",
    key_cols: 2,
    seq_col: Some(1),
    names: &[1],
};
const META: Table = Table {
    name: "meta",
    cols: "key, value",
    from: "meta",
    key_cols: 1,
    seq_col: None,
    names: &[],
};

/// The order the differences are reported in.
const ORDER: [&str; 8] = [
    "timeline",
    "replay_order",
    "overrides",
    "windows",
    "state_snapshots",
    "parties",
    "party_events",
    "meta",
];

/// A read model that differs from what the log derives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableDifference {
    /// The table.
    pub table: &'static str,
    /// The smallest seq among the rows that differ, where the table names one.
    pub first_seq: Option<u64>,
    /// Rows that differ (a changed row counts twice: the file's, and the one derived).
    pub rows: u64,
    /// The first row that differs, in the table's key order, by its key columns
    /// (e.g. `day = 735000, ord = 120, key = 'member:KAZ'`); for a damaged copy, what differs.
    pub first: String,
    /// The file's two stored copies of the table (the table and its covering index) differ
    /// from each other, or one cannot be read: its bytes are damaged.
    pub damaged_copy: bool,
}

/// What comparing the stored read models with what the log derives found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadModelCheck {
    /// The log cannot be replayed: the event `seq` breaks a rule or cannot be read.
    Unreplayable {
        /// The first bad event.
        seq: u64,
        /// Why.
        why: String,
    },
    /// The tables that differ (none when sound), and the largest seq the file's read models
    /// name (beyond the log's head: the log lost events).
    Differences {
        /// Each table that differs.
        tables: Vec<TableDifference>,
        /// The largest seq named, if any.
        names_up_to: Option<u64>,
    },
}

#[derive(Default)]
struct Found {
    tables: Vec<TableDifference>,
    named: i64,
}

fn prepare<'c>(
    conn: &'c rusqlite::Connection,
    t: &Table,
) -> Result<rusqlite::Statement<'c>, StoreError> {
    conn.prepare(&format!(
        "SELECT {} FROM main.{} ORDER BY {}",
        t.cols, t.from, t.cols
    ))
    .ctx("reading a read model")
}

/// Merges the derived rows `rows` (in the table's order) with the file's table `t`.
fn merge(
    conn: &rusqlite::Connection,
    t: &'static Table,
    rows: impl Iterator<Item = Vec<Value>>,
    found: &mut Found,
) -> Result<(), StoreError> {
    let mut st = prepare(conn, t)?;
    let mut m = Merge::new(t, &mut st)?;
    for r in rows {
        m.push(r)?;
    }
    m.finish(found)
}

/// A read model SQLite stores twice, as its table and as a covering index: (table, columns,
/// one copy, the other). A `WITHOUT ROWID` table is read as stored through its primary key's
/// name (`sqlite_autoindex_<table>_1`): `NOT INDEXED` still lets SQLite read a covering index.
type Copies = (&'static str, &'static str, &'static str, &'static str);

/// The read models held twice. The merge compares one copy with the log's derivation; an edit
/// through SQL changes both, but damage to the file's bytes can change one only, and queries
/// read through either (`PRAGMA integrity_check` finds it too, at several times the cost).
const SECOND_COPIES: [Copies; 3] = [
    (
        TIMELINE.name,
        TIMELINE.cols,
        TIMELINE.from,
        "timeline INDEXED BY sqlite_autoindex_timeline_1",
    ),
    (
        WINDOWS.name,
        WINDOWS.cols,
        "windows INDEXED BY sqlite_autoindex_windows_1",
        "windows INDEXED BY windows_by_start",
    ),
    (
        "state_snapshots",
        "day, ord",
        "state_snapshots NOT INDEXED",
        "state_snapshots INDEXED BY sqlite_autoindex_state_snapshots_1",
    ),
];

/// How many rows a scan of `from` gives, and an order-independent digest of them (the sum of
/// each row's hash).
fn rows_digest(
    conn: &rusqlite::Connection,
    cols: &str,
    from: &str,
) -> Result<(u64, u64), rusqlite::Error> {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let mut st = conn.prepare(&format!("SELECT {cols} FROM main.{from}"))?;
    let n = st.column_count();
    let mut rows = st.query([])?;
    let (mut count, mut sum) = (0u64, 0u64);
    while let Some(r) = rows.next()? {
        let mut h = DefaultHasher::new();
        for i in 0..n {
            match r.get_ref(i)? {
                ValueRef::Null => 0u8.hash(&mut h),
                ValueRef::Integer(v) => (1u8, v).hash(&mut h),
                ValueRef::Real(v) => (2u8, v.to_bits()).hash(&mut h),
                ValueRef::Text(b) => (3u8, b).hash(&mut h),
                ValueRef::Blob(b) => (4u8, b).hash(&mut h),
            }
        }
        count += 1;
        sum = sum.wrapping_add(h.finish());
    }
    Ok((count, sum))
}

/// Whether the two copies of a read model hold different rows (or one cannot be read): the
/// difference to report.
fn second_copy_differs(
    conn: &rusqlite::Connection,
    &(table, cols, merged, other): &Copies,
) -> Option<TableDifference> {
    let damaged = |first: String| TableDifference {
        table,
        first_seq: None,
        rows: 0,
        first,
        damaged_copy: true,
    };
    match (rows_digest(conn, cols, merged), rows_digest(conn, cols, other)) {
        (Ok(a), Ok(b)) if a == b => None,
        (Ok((na, _)), Ok((nb, _))) => Some(damaged(format!(
            "its two stored copies hold different rows (`{merged}`: {na} rows; `{other}`: {nb} rows): the file's bytes are damaged (`sqlite3 FILE 'PRAGMA integrity_check'` names the rows)"
        ))),
        (Err(e), _) | (_, Err(e)) => Some(damaged(format!(
            "a stored copy cannot be read ({e}): the file's bytes are damaged"
        ))),
    }
}

/// An ordered merge of the derived rows of one table with the file's, read in the same order.
struct Merge<'s> {
    table: &'static Table,
    n: usize,
    rows: rusqlite::Rows<'s>,
    next: Option<Vec<Value>>,
    diffs: u64,
    min_seq: Option<u64>,
    first: Option<Vec<Value>>,
    named: i64,
}

impl<'s> Merge<'s> {
    fn new(
        table: &'static Table,
        st: &'s mut rusqlite::Statement<'_>,
    ) -> Result<Merge<'s>, StoreError> {
        let rows = st.query([]).ctx("reading a read model")?;
        let mut m = Merge {
            table,
            n: table.cols.split(',').count(),
            rows,
            next: None,
            diffs: 0,
            min_seq: None,
            first: None,
            named: 0,
        };
        m.advance()?;
        Ok(m)
    }

    fn advance(&mut self) -> Result<(), StoreError> {
        self.next = match self.rows.next().ctx("reading a read model")? {
            None => None,
            Some(r) => {
                let v = (0..self.n)
                    .map(|i| r.get_ref(i).map(owned))
                    .collect::<Result<Vec<_>, _>>()
                    .ctx("reading a read model")?;
                for &c in self.table.names {
                    if let Some(Value::Integer(s)) = v.get(c) {
                        self.named = self.named.max(*s);
                    }
                }
                Some(v)
            }
        };
        Ok(())
    }

    fn note(&mut self, row: &[Value]) {
        self.diffs += 1;
        // A row naming no event the log can hold (seq 0 or less) has no seq to report.
        if let Some(Value::Integer(s)) = self.table.seq_col.and_then(|i| row.get(i)) {
            if *s >= 1 {
                let s = *s as u64;
                self.min_seq = Some(self.min_seq.map_or(s, |m| m.min(s)));
            }
        }
        if self.first.is_none() {
            self.first = Some(row.to_vec());
        }
    }

    /// The next derived row.
    fn push(&mut self, derived: Vec<Value>) -> Result<(), StoreError> {
        loop {
            let order = match &self.next {
                None => Ordering::Greater,
                Some(f) => cmp_row(f, &derived),
            };
            match order {
                Ordering::Less => {
                    if let Some(f) = self.next.take() {
                        self.note(&f);
                    }
                    self.advance()?;
                }
                Ordering::Equal => return self.advance(),
                Ordering::Greater => {
                    self.note(&derived);
                    return Ok(());
                }
            }
        }
    }

    /// The file's rows left over differ too.
    fn finish(mut self, found: &mut Found) -> Result<(), StoreError> {
        while let Some(f) = self.next.take() {
            self.note(&f);
            self.advance()?;
        }
        found.named = found.named.max(self.named);
        if self.diffs > 0 {
            let first = self.first.as_deref().map_or(String::new(), |row| {
                self.table
                    .cols
                    .split(", ")
                    .zip(row)
                    .take(self.table.key_cols)
                    .map(|(c, v)| format!("{c} = {}", shown(v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            });
            found.tables.push(TableDifference {
                table: self.table.name,
                first_seq: self.min_seq,
                rows: self.diffs,
                first,
                damaged_copy: false,
            });
        }
        Ok(())
    }
}

/// A stored value as read; text that is not UTF-8 (damaged bytes) is kept as the bytes it is,
/// so it differs from every derived row and is reported as a difference in its table.
fn owned(v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Text(b) => match std::str::from_utf8(b) {
            Ok(s) => Value::Text(s.to_owned()),
            Err(_) => Value::Blob(b.to_vec()),
        },
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Integer(i),
        ValueRef::Real(f) => Value::Real(f),
        ValueRef::Blob(b) => Value::Blob(b.to_vec()),
    }
}

/// A value as SQL would write it.
fn shown(v: &Value) -> String {
    match v {
        Value::Null => "NULL".into(),
        Value::Integer(i) => i.to_string(),
        Value::Real(r) => r.to_string(),
        Value::Text(t) => format!("'{}'", t.replace('\'', "''")),
        Value::Blob(b) => format!("X'{}'", hex::encode(b)),
    }
}

/// SQLite's order of values (`ORDER BY`, BINARY collation): NULL, numbers, text, blobs.
pub(super) fn cmp_value(a: &Value, b: &Value) -> Ordering {
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

#[cfg(test)]
mod tests {
    use super::*;

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

    /// Two reals order by value and two blobs byte by byte (a shorter prefix first), as SQLite
    /// orders them; neither is equal to another of its kind.
    #[test]
    fn reals_and_blobs_order_among_themselves() {
        let v = [
            Value::Real(-0.5),
            Value::Real(0.25),
            Value::Real(0.5),
            Value::Blob(vec![0]),
            Value::Blob(vec![0, 0]),
            Value::Blob(vec![1]),
        ];
        for w in v.windows(2) {
            assert_eq!(cmp_value(&w[0], &w[1]), Ordering::Less, "{w:?}");
            assert_eq!(cmp_value(&w[1], &w[0]), Ordering::Greater, "{w:?}");
        }
    }
}
