//! Answers as JSON: one function per question, shared by the CLI's `--json` and the web service
//! (`serve`), so that both give the same bytes for the same question.
//!
//! A [`Question`] is parsed from the same text the CLI's flags and the service's query
//! parameters carry ([`Question::state`], …), with the CLI's messages for bad values; then
//! [`write`] writes the answer to any writer. Long answers (history, meetings, log) are written
//! as they are read, never held whole.

use std::io::{self, Write};
use std::path::PathBuf;

use serde::Serialize;
use serde_json::{json, Value};

use crate::date::{Day, PartialDate};
use crate::event::Office;
use crate::party::Party;
use crate::store::{Appended, Head, Ledger, Overrides, StoreError, StoredEvent};
use crate::{audit, query};

/// Why a question got no answer.
#[derive(Debug, thiserror::Error)]
pub enum AnswerError {
    /// A parameter is malformed; the message names the flag (`--as-of: …`) as the CLI does.
    #[error("{0}")]
    BadQuestion(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Writing the answer failed (a closed pipe or connection).
    #[error("cannot write the answer: {0}")]
    Output(#[source] io::Error),
}

/// A question the ledger answers, with its parameters checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Question {
    /// `state --as-of D [--known-at T]`.
    State {
        /// The day.
        as_of: Day,
        /// As known at this instant (`recorded_at` format).
        known_at: Option<String>,
    },
    /// `members --as-of D [--known-at T]`.
    Members {
        /// The day.
        as_of: Day,
        /// As known at this instant.
        known_at: Option<String>,
    },
    /// `history PARTY [--known-at T]`.
    History {
        /// The party.
        party: Party,
        /// As known at this instant.
        known_at: Option<String>,
    },
    /// `diff --from D --to D [--known-at T]`.
    Diff {
        /// The first day.
        from: Day,
        /// The second day.
        to: Day,
        /// As known at this instant.
        known_at: Option<String>,
    },
    /// `meetings [--from D] [--to D] [--known-at T]`.
    Meetings {
        /// From this day (inclusive).
        from: Day,
        /// Up to this day (inclusive).
        to: Day,
        /// As known at this instant.
        known_at: Option<String>,
    },
    /// `officers [--known-at T]`.
    Officers {
        /// As known at this instant.
        known_at: Option<String>,
    },
    /// `audit [--known-at T]`.
    Audit {
        /// As known at this instant.
        known_at: Option<String>,
    },
    /// `head [--known-at T]`.
    Head {
        /// As it was at this instant.
        known_at: Option<String>,
    },
    /// `timeline --from D --to D --every E [--known-at T]`.
    Timeline {
        /// The first step.
        from: Day,
        /// The last day.
        to: Day,
        /// The interval.
        every: crate::timeline::Every,
        /// As known at this instant.
        known_at: Option<String>,
    },
    /// `log --after SEQ [--known-at T]`: JSON Lines.
    Log {
        /// Only events after this seq.
        after: u64,
        /// Only events recorded at or before this instant.
        known_at: Option<String>,
    },
}

/// What a date on the command line (or in a query parameter) may be: the one text every date
/// flag's help and error use.
pub const DATE_FORMS: &str = "YYYY, YYYY-MM or YYYY-MM-DD (a real date, years 0001-9999); a year or month means its last day for --as-of and --to, its first day for --from";

fn partial(s: &str) -> Result<PartialDate, String> {
    PartialDate::parse(s.trim()).map_err(|_| format!("`{s}` is not a date: give {DATE_FORMS}"))
}

/// The parser of `--as-of` and `--to`: a year or month means its last day.
pub fn last_day(s: &str) -> Result<Day, String> {
    partial(s).map(|p| p.last_day())
}

/// The parser of `--from`: a year or month means its first day.
pub fn first_day(s: &str) -> Result<Day, String> {
    partial(s).map(|p| p.first_day())
}

/// Today in UTC: what `state` and `members` answer for without `--as-of`.
pub fn today() -> Day {
    Day::from_naive(chrono::Utc::now().date_naive())
}

/// Refuses a reversed range the same way for every question.
pub fn check_range(from: Option<Day>, to: Option<Day>) -> Result<(), AnswerError> {
    match (from, to) {
        (Some(a), Some(b)) if a > b => Err(AnswerError::BadQuestion(format!(
            "--from {a} is after --to {b}: give the earlier day to --from"
        ))),
        _ => Ok(()),
    }
}

/// A date given as `flag` (`--as-of`, `--to`: its last day; `--from`: its first), with the
/// flag named in the message.
pub fn day(s: &str, flag: &str) -> Result<Day, AnswerError> {
    let parsed = if flag == "--from" {
        first_day(s)
    } else {
        last_day(s)
    };
    parsed.map_err(|e| AnswerError::BadQuestion(format!("{flag}: {e}")))
}

/// Parses an optional `--known-at` into `recorded_at` format.
pub fn known_at(s: Option<&str>) -> Result<Option<String>, AnswerError> {
    s.map(|s| {
        query::parse_known_at(s).map_err(|e| AnswerError::BadQuestion(format!("--known-at: {e}")))
    })
    .transpose()
}

/// A party as a person types it: a code in any case, an English name or alias, or a
/// placeholder ([`crate::party::resolve`]); a near miss names the nearest party.
pub fn party(s: &str) -> Result<Party, AnswerError> {
    crate::party::resolve(s).map_err(|e| AnswerError::BadQuestion(e.to_string()))
}

/// Parses a seq given as `flag`.
pub fn seq(s: &str, flag: &str) -> Result<u64, AnswerError> {
    s.parse::<u64>().map_err(|_| {
        AnswerError::BadQuestion(format!(
            "{flag}: `{s}` is not a seq (a whole number, 0 or more)"
        ))
    })
}

impl Question {
    /// `state` (today without `as_of`).
    pub fn state(as_of: Option<&str>, k: Option<&str>) -> Result<Question, AnswerError> {
        Ok(Question::State {
            as_of: as_of
                .map(|s| day(s, "--as-of"))
                .transpose()?
                .unwrap_or_else(today),
            known_at: known_at(k)?,
        })
    }

    /// `members` (today without `as_of`).
    pub fn members(as_of: Option<&str>, k: Option<&str>) -> Result<Question, AnswerError> {
        Ok(Question::Members {
            as_of: as_of
                .map(|s| day(s, "--as-of"))
                .transpose()?
                .unwrap_or_else(today),
            known_at: known_at(k)?,
        })
    }

    /// `history`.
    pub fn history(p: &str, k: Option<&str>) -> Result<Question, AnswerError> {
        Ok(Question::History {
            party: party(p)?,
            known_at: known_at(k)?,
        })
    }

    /// `diff`.
    pub fn diff(from: &str, to: &str, k: Option<&str>) -> Result<Question, AnswerError> {
        let (from, to) = (day(from, "--from")?, day(to, "--to")?);
        check_range(Some(from), Some(to))?;
        Ok(Question::Diff {
            from,
            to,
            known_at: known_at(k)?,
        })
    }

    /// `meetings` (without `from`, from the first day; without `to`, to the last).
    pub fn meetings(
        from: Option<&str>,
        to: Option<&str>,
        k: Option<&str>,
    ) -> Result<Question, AnswerError> {
        let from = from.map(|s| day(s, "--from")).transpose()?;
        let to = to.map(|s| day(s, "--to")).transpose()?;
        check_range(from, to)?;
        Ok(Question::Meetings {
            from: from.unwrap_or(Day(1)),
            to: to.unwrap_or(Day(i32::MAX / 2)),
            known_at: known_at(k)?,
        })
    }

    /// `officers`.
    pub fn officers(k: Option<&str>) -> Result<Question, AnswerError> {
        Ok(Question::Officers {
            known_at: known_at(k)?,
        })
    }

    /// `audit`.
    pub fn audit(k: Option<&str>) -> Result<Question, AnswerError> {
        Ok(Question::Audit {
            known_at: known_at(k)?,
        })
    }

    /// `head`.
    pub fn head(k: Option<&str>) -> Result<Question, AnswerError> {
        Ok(Question::Head {
            known_at: known_at(k)?,
        })
    }

    /// `timeline` (`every`: day, week, month or year).
    pub fn timeline(
        from: &str,
        to: &str,
        every: &str,
        k: Option<&str>,
    ) -> Result<Question, AnswerError> {
        let (from, to) = (day(from, "--from")?, day(to, "--to")?);
        check_range(Some(from), Some(to))?;
        let every = every
            .parse()
            .map_err(|e: crate::timeline::TimelineError| AnswerError::BadQuestion(e.to_string()))?;
        Ok(Question::Timeline {
            from,
            to,
            every,
            known_at: known_at(k)?,
        })
    }

    /// `log`.
    pub fn log(after: u64, k: Option<&str>) -> Result<Question, AnswerError> {
        Ok(Question::Log {
            after,
            known_at: known_at(k)?,
        })
    }

    /// Whether the answer is JSON Lines (one object per line) rather than one JSON document.
    pub fn is_json_lines(&self) -> bool {
        matches!(self, Question::Log { .. })
    }
}

/// Pretty JSON and a newline.
pub fn json<T: Serialize>(out: &mut dyn Write, v: &T) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, v)?;
    writeln!(out)
}

/// A pretty JSON array written element by element: byte for byte what [`json`] writes for the
/// whole array at that depth (each element is formatted alone and indented to its depth), so
/// an answer of any length is written as it is produced and never held whole.
pub struct JsonArray {
    depth: usize,
    first: bool,
}

impl JsonArray {
    /// Writes the opening bracket of an array nested `depth` levels deep (0: the document).
    pub fn open(out: &mut dyn Write, depth: usize) -> io::Result<JsonArray> {
        out.write_all(b"[")?;
        Ok(JsonArray { depth, first: true })
    }

    /// Writes one element.
    pub fn push<T: Serialize>(&mut self, out: &mut dyn Write, v: &T) -> io::Result<()> {
        let text = serde_json::to_string_pretty(v)?;
        out.write_all(if self.first { b"\n" } else { b",\n" })?;
        self.first = false;
        let pad = "  ".repeat(self.depth + 1);
        for (i, line) in text.split('\n').enumerate() {
            if i > 0 {
                out.write_all(b"\n")?;
            }
            out.write_all(pad.as_bytes())?;
            out.write_all(line.as_bytes())?;
        }
        Ok(())
    }

    /// Writes the closing bracket.
    pub fn close(self, out: &mut dyn Write) -> io::Result<()> {
        if !self.first {
            out.write_all(b"\n")?;
            out.write_all("  ".repeat(self.depth).as_bytes())?;
        }
        out.write_all(b"]")
    }
}

/// A stored event as JSON: seq, recorded_at, the event's fields, hash, and what retracted or
/// corrected it.
pub fn stored_json(e: &StoredEvent, o: &Overrides) -> Value {
    let mut m = serde_json::Map::new();
    m.insert("seq".into(), json!(e.seq));
    m.insert("recorded_at".into(), json!(e.recorded_at));
    if let Value::Object(ev) = e.event.to_value() {
        m.extend(ev);
    }
    m.insert("hash".into(), json!(e.hash));
    if let Some(r) = o.retracted_by(e.seq) {
        m.insert("retracted_by".into(), json!(r));
    }
    let c = o.corrected_by(e.seq);
    if !c.is_empty() {
        m.insert("corrected_by".into(), json!(c));
    }
    Value::Object(m)
}

/// A stored event as in `history`: [`stored_json`] and the precision of its world date.
pub fn history_json(e: &StoredEvent, o: &Overrides) -> Value {
    let mut v = stored_json(e, o);
    if let (Value::Object(m), Some(d)) = (&mut v, e.event.world_event().and_then(|w| w.date)) {
        m.insert("precision".into(), json!(d.precision()));
    }
    v
}

/// The head as of `known_at` (the current head without it).
pub fn head(l: &Ledger, known_at: Option<&str>) -> Result<Head, StoreError> {
    match known_at {
        None => l.head(),
        Some(t) => {
            let seq = l.seq_known_at(t)?;
            Ok(match l.event(seq)? {
                Some(e) => Head {
                    seq,
                    hash: e.hash,
                    recorded_at: Some(e.recorded_at),
                },
                None => Head {
                    seq: 0,
                    hash: crate::chain::GENESIS.into(),
                    recorded_at: None,
                },
            })
        }
    }
}

/// A receipt of a writing command (`init`, `append`, `rebuild`, and an append over HTTP):
/// what it wrote and the head after it, `head` exactly as `iofs-ledger head` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Receipt {
    /// The first seq written (null when nothing was).
    pub first_seq: Option<u64>,
    /// The last seq written (null when nothing was).
    pub last_seq: Option<u64>,
    /// How many events were written (for `rebuild`: how many were replayed).
    pub count: u64,
    /// The `recorded_at` of what was written (null when nothing was recorded).
    pub recorded_at: Option<String>,
    /// `SEQ:HASH` after the command.
    pub head: String,
}

impl Receipt {
    /// The receipt of an append.
    pub fn of_append(a: &Appended) -> Receipt {
        let wrote = a.count() > 0;
        Receipt {
            first_seq: wrote.then_some(a.first),
            last_seq: wrote.then_some(a.last),
            count: a.count(),
            recorded_at: wrote.then(|| a.recorded_at.clone()),
            head: format!("{}:{}", a.last, a.head_hash),
        }
    }

    /// The receipt of a command that covers the whole log up to `head` (`init`, `rebuild`).
    pub fn of_log(head: &Head, count: u64) -> Receipt {
        let any = head.seq > 0;
        Receipt {
            first_seq: any.then_some(1),
            last_seq: any.then_some(head.seq),
            count,
            recorded_at: head.recorded_at.clone(),
            head: format!("{}:{}", head.seq, head.hash),
        }
    }
}

/// The marker path of an output error carried through a store callback.
const OUTPUT: &str = "<answer output>";

fn to_output(source: io::Error) -> StoreError {
    StoreError::Io {
        path: PathBuf::from(OUTPUT),
        source,
    }
}

fn from_store(e: StoreError) -> AnswerError {
    match e {
        StoreError::Io { path, source } if path.as_os_str() == OUTPUT => {
            AnswerError::Output(source)
        }
        e => AnswerError::Store(e),
    }
}

/// Writes the JSON answer to `q`: exactly what the CLI prints with `--json`.
pub fn write(l: &Ledger, q: &Question, out: &mut dyn Write) -> Result<(), AnswerError> {
    let out_err = AnswerError::Output;
    match q {
        Question::State { as_of, known_at } => {
            let s = query::state(l, *as_of, known_at.as_deref())?;
            json(out, &s).map_err(out_err)
        }
        Question::Members { as_of, known_at } => {
            let mut s = query::members(l, *as_of, known_at.as_deref())?;
            // Only what the membership answer depends on.
            s.uncertain
                .retain(|u| matches!(u.kind.as_str(), "statute_signed" | "membership_withdrawn"));
            json(
                out,
                &json!({
                    "as_of": s.as_of,
                    "known_at": s.known_at,
                    "count": s.members.count,
                    "parties": s.members.parties,
                    "uncertain": s.uncertain,
                }),
            )
            .map_err(out_err)
        }
        Question::History { party, known_at } => {
            let max = known_at.as_deref().map(|t| l.seq_known_at(t)).transpose()?;
            let overrides = l.overrides(max)?;
            let max = max.unwrap_or(u64::MAX);
            // One read transaction: every event of the answer from the same snapshot.
            l.snapshot(|| {
                let start = |out: &mut dyn Write| -> io::Result<JsonArray> {
                    writeln!(out, "{{")?;
                    writeln!(
                        out,
                        "  \"party\": {},",
                        serde_json::to_string(party.code())?
                    )?;
                    writeln!(
                        out,
                        "  \"name\": {},",
                        serde_json::to_string(&party.display_name())?
                    )?;
                    writeln!(out, "  \"unidentified\": {},", party.is_placeholder())?;
                    write!(out, "  \"events\": ")?;
                    JsonArray::open(out, 1)
                };
                let mut arr = start(out).map_err(to_output)?;
                l.for_each_party_event(party, max, |e| {
                    arr.push(out, &history_json(&e, &overrides))
                        .map_err(to_output)
                })?;
                arr.close(out).map_err(to_output)?;
                writeln!(out, "\n}}").map_err(to_output)
            })
            .map_err(from_store)
        }
        Question::Diff { from, to, known_at } => {
            let d = audit::diff(l, *from, *to, known_at.as_deref())?;
            json(out, &d).map_err(out_err)
        }
        Question::Meetings { from, to, known_at } => {
            let max = known_at.as_deref().map(|t| l.seq_known_at(t)).transpose()?;
            let mut arr = JsonArray::open(out, 0).map_err(out_err)?;
            l.for_each_event_between(max, *from, *to, &["meeting_held"], |e| {
                arr.push(out, &stored_json(&e, &Overrides::default()))
                    .map_err(to_output)
            })
            .map_err(from_store)?;
            arr.close(out).map_err(out_err)?;
            writeln!(out).map_err(out_err)
        }
        Question::Officers { known_at } => {
            let t = query::officers(l, Office::DirectorGeneral, known_at.as_deref())?;
            json(out, &t).map_err(out_err)
        }
        Question::Audit { known_at } => {
            let r = audit::report(l, known_at.as_deref())?;
            json(out, &r).map_err(out_err)
        }
        Question::Head { known_at } => {
            let h = head(l, known_at.as_deref())?;
            json(
                out,
                &json!({"seq": h.seq, "hash": h.hash, "recorded_at": h.recorded_at}),
            )
            .map_err(out_err)
        }
        Question::Timeline {
            from,
            to,
            every,
            known_at,
        } => {
            let t = crate::timeline::timeline(l, *from, *to, *every, known_at.as_deref()).map_err(
                |e| match e {
                    crate::timeline::TimelineError::Store(s) => AnswerError::Store(s),
                    e => AnswerError::BadQuestion(e.to_string()),
                },
            )?;
            json(out, &t).map_err(out_err)
        }
        Question::Log { after, known_at } => {
            let max = known_at.as_deref().map(|t| l.seq_known_at(t)).transpose()?;
            let overrides = l.overrides(max)?;
            l.for_each_event(*after, max, |e| {
                serde_json::to_writer(&mut *out, &stored_json(&e, &overrides))
                    .map_err(io::Error::from)
                    .and_then(|()| writeln!(out))
                    .map_err(to_output)
            })
            .map_err(from_store)
        }
    }
}
