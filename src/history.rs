//! The built-in history: `events/history.jsonl`, compiled into the binary, with the instants at
//! which its lines were recorded.
//!
//! Every line is recorded at a fixed instant, so the built-in chain and its head are the same
//! on every machine at every time: a line may carry its own `recorded_at`; a line without one
//! takes the single instant in `events/recorded_at.txt`. Along the lines the instants never
//! decrease. Lines with the same instant are appended as one batch.

use chrono::{DateTime, Utc};

use crate::event::{parse_line, parse_strict, Event, Location};
use crate::store::{format_instant, parse_instant};

/// The JSON Lines text of the built-in history.
pub const BUILTIN_HISTORY: &str = include_str!("../events/history.jsonl");

/// The instant at which every built-in line without its own `recorded_at` was recorded.
pub const BUILTIN_RECORDED_AT: &str = include_str!("../events/recorded_at.txt");

/// The heads of released built-in histories, one `VERSION SEQ:HASH` a line: each release's
/// chain extends the previous one's (a test holds the current chain to every head).
pub const RELEASES: &str = include_str!("../events/releases.txt");

/// Why the built-in history does not load (a defect of the build's data).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("events/history.jsonl line {line}: {why}")]
pub struct HistoryError {
    /// The line (1-based; 0 for `events/recorded_at.txt`).
    pub line: usize,
    /// What is wrong.
    pub why: String,
}

/// One batch of the built-in history: consecutive lines recorded at the same instant.
#[derive(Debug, Clone)]
pub struct Batch {
    /// When these lines were recorded.
    pub recorded_at: DateTime<Utc>,
    /// The events, with their lines.
    pub events: Vec<(Location, Event)>,
}

fn instant(text: &str, line: usize) -> Result<DateTime<Utc>, HistoryError> {
    parse_instant(text)
        .filter(|t| format_instant(*t) == text)
        .ok_or_else(|| HistoryError {
            line,
            why: format!(
                "recorded_at `{text}` is not an instant of the form 2026-01-31T12:00:00.000000Z"
            ),
        })
}

/// The built-in history as batches, each with its instant of recording.
pub fn builtin_batches() -> Result<Vec<Batch>, HistoryError> {
    let default = instant(BUILTIN_RECORDED_AT.trim(), 0)?;
    let mut batches: Vec<Batch> = Vec::new();
    for (i, text) in BUILTIN_HISTORY.lines().enumerate() {
        let line = i + 1;
        if text.trim().is_empty() {
            continue;
        }
        let err = |why: String| HistoryError { line, why };
        let (at, parsed) = if text.contains("\"recorded_at\"") {
            let mut obj = match parse_strict(text) {
                Ok(serde_json::Value::Object(m)) => m,
                Ok(_) => return Err(err("not a JSON object".into())),
                Err(e) => return Err(err(format!("malformed JSON: {e}"))),
            };
            let at = match obj.shift_remove("recorded_at") {
                Some(serde_json::Value::String(s)) => instant(&s, line)?,
                None => default,
                Some(_) => return Err(err("`recorded_at` must be a string".into())),
            };
            let ev = Event::from_object(obj).map_err(|(_, why)| err(why))?;
            (at, (Location::Line(line), ev))
        } else {
            let p = parse_line(Location::Line(line), text).map_err(|e| err(e.message))?;
            (default, p)
        };
        match batches.last_mut() {
            Some(b) if b.recorded_at == at => b.events.push(parsed),
            Some(b) if b.recorded_at > at => {
                return Err(err(format!(
                    "recorded_at {} is earlier than the previous line's {}",
                    format_instant(at),
                    format_instant(b.recorded_at)
                )))
            }
            _ => batches.push(Batch {
                recorded_at: at,
                events: vec![parsed],
            }),
        }
    }
    Ok(batches)
}

/// The released heads `(version, seq, hash)` listed in `events/releases.txt`.
pub fn releases() -> Vec<(String, u64, String)> {
    RELEASES
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let (version, head) = l.split_once(char::is_whitespace)?;
            let (seq, hash) = head.trim().split_once(':')?;
            Some((version.to_string(), seq.parse().ok()?, hash.to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_history_loads_with_instants_that_never_decrease() {
        let batches = builtin_batches().unwrap();
        assert!(!batches.is_empty());
        for w in batches.windows(2) {
            assert!(w[0].recorded_at < w[1].recorded_at);
        }
        let lines: usize = batches.iter().map(|b| b.events.len()).sum();
        assert_eq!(
            lines,
            BUILTIN_HISTORY
                .lines()
                .filter(|l| !l.trim().is_empty())
                .count()
        );
    }
}
