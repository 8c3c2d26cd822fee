//! Exact replicas: `import` of another ledger's `log --json` (each event keeps its seq,
//! `recorded_at` and hash) and `backup` (SQLite's online backup into a new file).

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension};

use super::append::{append_in, format_instant, parse_instant, read_head, CLOCK_TOLERANCE};
use super::{inspect, Ctx, Ledger, StoreError};
use crate::chain::event_hash;
use crate::date::Day;
use crate::event::{parse_strict, Event, Location};

/// One event of a `log --json` stream, as `import` takes it.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportItem {
    /// The input line (1-based).
    pub line: usize,
    /// Its seq in the ledger it comes from.
    pub seq: u64,
    /// When that ledger recorded it.
    pub recorded_at: String,
    /// Its hash there.
    pub hash: String,
    /// The event.
    pub event: Event,
}

/// The fields of a `log --json` line that are the store's or derived, not the event's.
const LOG_FIELDS: [&str; 5] = ["seq", "recorded_at", "hash", "retracted_by", "corrected_by"];

impl ImportItem {
    /// Parses one line of `log --json` output; `Err` says which field is wrong.
    pub fn parse(line: usize, text: &str) -> Result<ImportItem, String> {
        let mut obj = match parse_strict(text.trim_end_matches(['\n', '\r'])) {
            Ok(serde_json::Value::Object(m)) => m,
            Ok(_) => {
                return Err("each line must be one JSON object (a line of `log --json`)".into())
            }
            Err(e) => return Err(format!("malformed JSON: {e}")),
        };
        let mut taken = LOG_FIELDS.map(|f| obj.shift_remove(f));
        let seq = match taken[0].take() {
            Some(serde_json::Value::Number(n)) => n.as_u64().filter(|s| *s > 0),
            _ => None,
        }
        .ok_or("field `seq` must be a positive integer (import reads `log --json`)")?;
        let text_field = |v: Option<serde_json::Value>, name: &str| match v {
            Some(serde_json::Value::String(s)) => Ok(s),
            _ => Err(format!(
                "field `{name}` must be a string (import reads `log --json`)"
            )),
        };
        let recorded_at = text_field(taken[1].take(), "recorded_at")?;
        let hash = text_field(taken[2].take(), "hash")?;
        let event = Event::from_object(obj).map_err(|(field, why)| match field {
            Some(f) => format!("field `{f}`: {why}"),
            None => why,
        })?;
        Ok(ImportItem {
            line,
            seq,
            recorded_at,
            hash,
            event,
        })
    }
}

/// The most events an import appends in one go (events recorded at one instant beyond it are
/// appended in several chunks, with the same result).
const IMPORT_CHUNK: usize = 4096;

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    /// Events read from the input.
    pub read: u64,
    /// Events already held, identical, and skipped.
    pub skipped: u64,
    /// The first and last seq imported (`None` when nothing was new).
    pub range: Option<(u64, u64)>,
    /// The last imported event's `recorded_at`.
    pub recorded_at: Option<String>,
    /// The head after the import.
    pub head_seq: u64,
    /// Its hash.
    pub head_hash: String,
}

impl Ledger {
    /// Imports events from another ledger's log, keeping each one's seq, `recorded_at` and
    /// hash: each must chain onto this ledger's head (the hash is recomputed and compared) and
    /// pass every append rule, its dates judged against its own day of recording, which may
    /// not be later than `now` (+ [`CLOCK_TOLERANCE`]) nor earlier than the head's. Events this
    /// ledger already holds, identical, are skipped; a gap, a different event at a held seq (a
    /// fork), a hash that does not chain or an input error (an `Err` item) refuses the whole
    /// import naming the seq, and nothing is written. The input is consumed as it comes, a
    /// bounded chunk at a time, so memory stays bounded whatever its length.
    pub fn import<I>(&mut self, items: I, now: DateTime<Utc>) -> Result<Imported, StoreError>
    where
        I: IntoIterator<Item = Result<ImportItem, StoreError>>,
    {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .ctx("taking the write lock")?;
        inspect::check_events_table(&tx)?;
        // Lagging projections first: each chunk is appended onto an up-to-date fold.
        super::append::catch_up_in(&tx)?;
        let mut head = read_head(&tx)?;
        let refuse = |it: &ImportItem, why: String| StoreError::ImportRefused {
            seq: it.seq,
            line: Some(it.line),
            why,
        };
        let mut items = items.into_iter();
        let mut read = 0u64;
        let mut next = || -> Result<Option<ImportItem>, StoreError> {
            let it = items.next().transpose()?;
            read += u64::from(it.is_some());
            Ok(it)
        };
        // Events already held: each must be identical, in sequence.
        let mut skipped = 0u64;
        let mut prev_seq: Option<u64> = None;
        let mut pending: Option<ImportItem> = None;
        while let Some(it) = next()? {
            if let Some(p) = prev_seq {
                if it.seq != p + 1 {
                    return Err(refuse(
                        &it,
                        format!("the input goes from seq {p} to seq {}: events are missing or out of order", it.seq),
                    ));
                }
            }
            if it.seq > head.seq {
                if it.seq != head.seq + 1 {
                    return Err(refuse(
                        &it,
                        format!(
                            "this ledger's head is seq {}, so the next event must be seq {}, not {}: import the missing events first (`iofs-ledger log --after {} --json` on the source)",
                            head.seq,
                            head.seq + 1,
                            it.seq,
                            head.seq
                        ),
                    ));
                }
                pending = Some(it);
                break;
            }
            let held: Option<(String, String, String)> = tx
                .query_row(
                    "SELECT recorded_at, body, hash FROM events WHERE seq = ?1",
                    [it.seq as i64],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()
                .ctx("reading a held event")?;
            let body = it.event.canonical_json();
            match held {
                Some((r, b, h)) if r == it.recorded_at && b == body && h == it.hash => {
                    skipped += 1;
                }
                Some((_, _, h)) => {
                    return Err(refuse(
                        &it,
                        format!("this ledger holds a different event at seq {} (hash {h}, the input's {}): the two logs have forked; nothing after the fork can be imported", it.seq, it.hash),
                    ))
                }
                None => return Err(refuse(&it, "the held event cannot be read".into())),
            }
            prev_seq = Some(it.seq);
        }
        // New events: consecutive ones recorded at the same instant are appended together, a
        // bounded chunk at a time.
        let mut range: Option<(u64, u64)> = None;
        let mut last_recorded: Option<String> = None;
        loop {
            let first = match pending.take() {
                Some(it) => it,
                None => match next()? {
                    Some(it) => it,
                    None => break,
                },
            };
            let at = first.recorded_at.clone();
            let instant = parse_instant(&at)
                .filter(|t| format_instant(*t) == at)
                .ok_or_else(|| {
                    refuse(
                        &first,
                        format!("recorded_at `{at}` is not of the form 2026-01-31T12:00:00.000000Z (UTC, microseconds)"),
                    )
                })?;
            if let Some(h) = head.recorded_at.as_deref() {
                if at.as_str() < h {
                    return Err(refuse(
                        &first,
                        format!("recorded_at {at} is earlier than its predecessor's ({h}): recorded_at never decreases along seq"),
                    ));
                }
            }
            if instant > now + CLOCK_TOLERANCE {
                return Err(refuse(
                    &first,
                    format!(
                        "recorded_at {at} is later than this machine's clock ({}): a record from the future (or this clock is wrong)",
                        format_instant(now)
                    ),
                ));
            }
            let mut chunk = vec![first];
            while chunk.len() < IMPORT_CHUNK {
                match next()? {
                    Some(it) if it.recorded_at == at => chunk.push(it),
                    Some(it) => {
                        pending = Some(it);
                        break;
                    }
                    None => break,
                }
            }
            // Recompute each hash before storing anything of the chunk.
            let mut prev = head.hash.clone();
            for (k, it) in chunk.iter().enumerate() {
                let seq = head.seq + 1 + k as u64;
                if it.seq != seq {
                    return Err(refuse(
                        it,
                        format!("the input goes from seq {} to seq {}: events are missing or out of order", seq - 1, it.seq),
                    ));
                }
                let want = event_hash(&prev, seq, &at, &it.event.canonical_json());
                if want != it.hash {
                    return Err(refuse(
                        it,
                        format!("its hash {} does not chain onto seq {} (computed {want}): the event, its recorded_at or an earlier event differs from what was hashed", it.hash, seq - 1),
                    ));
                }
                prev = want;
            }
            let first_seq = chunk[0].seq;
            let events = chunk
                .into_iter()
                .map(|it| Ok((Location::Line(it.line), it.event)));
            let a = append_in(
                &tx,
                &head,
                events,
                &at,
                Day::from_naive(instant.date_naive()),
                false,
            )
            .map_err(|e| match e {
                StoreError::Refused(r) => StoreError::ImportRefused {
                    seq: r.iter().find_map(|x| x.seq).unwrap_or(first_seq),
                    line: None,
                    why: r
                        .iter()
                        .map(|x| x.to_string())
                        .collect::<Vec<_>>()
                        .join("; "),
                },
                e => e,
            })?;
            if a.head_hash != prev {
                return Err(StoreError::ImportRefused {
                    seq: first_seq,
                    line: None,
                    why: "the stored hashes differ from the input's".into(),
                });
            }
            range = Some((range.map_or(a.first, |r| r.0), a.last));
            last_recorded = Some(at.clone());
            head.seq = a.last;
            head.hash = a.head_hash;
            head.recorded_at = Some(at);
        }
        tx.commit().ctx("committing the import")?;
        Ok(Imported {
            read,
            skipped,
            range,
            recorded_at: last_recorded,
            head_seq: head.seq,
            head_hash: head.hash,
        })
    }

    /// Writes a consistent copy of the ledger to `dest` with SQLite's online backup (one read
    /// snapshot; writers go on meanwhile), built under a temporary name and linked into place:
    /// never overwrites a file, never leaves half a copy.
    pub fn backup(&self, dest: &Path) -> Result<(), StoreError> {
        if fs::symlink_metadata(dest).is_ok() {
            return Err(StoreError::AlreadyExists(dest.to_path_buf()));
        }
        // A `-wal` or `-shm` left beside the destination by an earlier file of that name would
        // be read through the copy and corrupt it: refuse, as `init` does.
        super::refuse_leftover_journals(dest)?;
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "backup".into());
        let tmp = dest.with_file_name(format!(".{name}.backup-{}.tmp", std::process::id()));
        let cleanup = |p: &Path| {
            for suffix in ["", "-wal", "-shm", "-journal"] {
                let mut s = p.as_os_str().to_owned();
                s.push(suffix);
                let _ = fs::remove_file(PathBuf::from(s));
            }
        };
        cleanup(&tmp);
        let result = (|| {
            let mut copy = Connection::open(&tmp).map_err(|e| StoreError::Sqlite {
                context: "creating the backup file",
                source: e,
            })?;
            {
                let b = rusqlite::backup::Backup::new(&self.conn, &mut copy)
                    .ctx("starting the backup")?;
                // All pages in one step: one read snapshot of the source (in WAL mode writers
                // go on meanwhile). Busy only while another connection changes the journal
                // mode or checkpoints with truncation: wait, up to the busy timeout.
                step_until_done(|| b.step(-1).ctx("copying the ledger"), self.busy_timeout)?;
            }
            copy.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
                .ctx("finishing the backup")?;
            drop(copy);
            super::refuse_leftover_journals(dest)?;
            match fs::hard_link(&tmp, dest) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    Err(StoreError::AlreadyExists(dest.to_path_buf()))
                }
                Err(e) => Err(StoreError::Io {
                    path: dest.to_path_buf(),
                    source: e,
                }),
            }
        })();
        cleanup(&tmp);
        result
    }
}

/// Calls `step` until it reports the copy done, waiting 10 ms between tries while it reports
/// the source busy, and gives up with [`StoreError::Busy`] once `timeout` has passed.
fn step_until_done(
    mut step: impl FnMut() -> Result<rusqlite::backup::StepResult, StoreError>,
    timeout: Duration,
) -> Result<(), StoreError> {
    let started = std::time::Instant::now();
    loop {
        match step()? {
            rusqlite::backup::StepResult::Done => return Ok(()),
            _ if started.elapsed() > timeout => return Err(StoreError::Busy),
            _ => std::thread::sleep(Duration::from_millis(10)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::backup::StepResult;

    /// A step that reports the source busy `busy` times, then done; counts its calls.
    fn busy_then_done(busy: usize, calls: &mut usize) -> Result<StepResult, StoreError> {
        *calls += 1;
        Ok(if *calls > busy {
            StepResult::Done
        } else {
            StepResult::Busy
        })
    }

    /// A backup waits while the source is busy and completes once it is free, within the busy
    /// timeout; a copy done at once needs no wait, even with no time to wait.
    #[test]
    fn a_backup_step_waits_for_a_busy_source_within_the_timeout() {
        let mut calls = 0;
        step_until_done(|| busy_then_done(3, &mut calls), Duration::from_secs(20)).unwrap();
        assert_eq!(calls, 4);
        let mut calls = 0;
        step_until_done(|| busy_then_done(0, &mut calls), Duration::ZERO).unwrap();
        assert_eq!(calls, 1);
    }

    /// A source that stays busy makes the backup give up as `Busy` once the timeout has passed,
    /// having tried again meanwhile; an error of the step is that error.
    #[test]
    fn a_backup_step_gives_up_as_busy_after_the_timeout_and_passes_errors_on() {
        let mut calls = 0;
        let err = step_until_done(
            || busy_then_done(usize::MAX, &mut calls),
            Duration::from_millis(30),
        )
        .unwrap_err();
        assert!(matches!(err, StoreError::Busy), "{err:?}");
        assert!(calls >= 2, "{calls}");
        let err = step_until_done(
            || Err(StoreError::Internal("a failing step")),
            Duration::from_secs(20),
        )
        .unwrap_err();
        assert!(matches!(err, StoreError::Internal(_)), "{err:?}");
    }
}
