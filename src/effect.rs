//! What an append would change, found by doing it and rolling it back ([`Ledger::dry_run`]):
//! the events with the seqs they would get, and the answers that would differ at each day the
//! batch touches ("members on 2025-03-01: 41 → 42").
//!
//! The answers compared are those of [`query::state`] (counts, lists, the Statute, the
//! organisation's milestones, the Director General, the Executive Board), read with and
//! without the batch inside one write transaction, so nobody can append in between. No I/O of
//! its own; the store does the rolling back.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::Value;

use crate::date::Day;
use crate::event::{IntoPrepared, Kind};
use crate::query::{self, State};
use crate::store::{AppendOptions, Ledger, Phase, StoreError};

/// An event as the append would store it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WouldAppend {
    /// The seq it would get.
    pub seq: u64,
    /// Its type.
    #[serde(rename = "type")]
    pub kind: String,
    /// Its date, as written (null on a retraction or correction without one).
    pub date: Option<String>,
    /// The day it would count from (null for a retraction).
    pub counts_from: Option<String>,
    /// The event as it would be stored (its canonical JSON).
    pub event: Value,
}

/// One answer that would differ.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// The day the answer is asked for (YYYY-MM-DD).
    pub day: String,
    /// Which answer: `members`, `ratifications`, `observers`, `withdrawn`, `signatures`,
    /// `statute_in_force`, `statute_adopted`, `organisation_established`,
    /// `secretariat_operational`, `director_general`, `executive_board_chair`,
    /// `executive_board_seats`.
    pub answer: &'static str,
    /// The answer now.
    pub before: Value,
    /// The answer after the append.
    pub after: Value,
    /// Parties that would enter the answer's list.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub added: Vec<String>,
    /// Parties that would leave it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub removed: Vec<String>,
}

/// What a dry run found: the batch would be accepted, with these seqs and these changes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Effect {
    /// The log's last seq now.
    pub head: u64,
    /// The events, in seq order.
    pub events: Vec<WouldAppend>,
    /// The days compared (each day a new event counts from, and the days of the events a
    /// retraction or correction acts on), in order.
    pub days: Vec<String>,
    /// The answers that would differ, by day.
    pub changes: Vec<Change>,
}

/// Appends `input` in a dry run and reports what it would change; a batch the append would
/// refuse is refused the same way ([`StoreError::Refused`]). Nothing is written.
pub fn dry_run<I>(ledger: &mut Ledger, input: I, opts: AppendOptions) -> Result<Effect, StoreError>
where
    I: IntoIterator,
    I::Item: IntoPrepared,
{
    let mut events = Vec::new();
    let mut days: BTreeSet<Day> = BTreeSet::new();
    let mut after: Vec<State> = Vec::new();
    let mut before: Vec<State> = Vec::new();
    let mut read = |l: &Ledger, phase: Phase, a: &crate::store::Appended| {
        if phase == Phase::With {
            // The overrides the log held before the batch: where a corrected target counts now.
            let prior = l.overrides(Some(a.first - 1))?;
            l.for_each_event(a.first - 1, Some(a.last), |e| {
                if let Some(d) = e.event.effective_day() {
                    days.insert(d);
                }
                let target = match &e.event.kind {
                    Kind::Retraction { retracts: t, .. } => Some(*t),
                    Kind::Correction { corrects: t, .. } => Some(*t),
                    _ => None,
                };
                events.push(e);
                if let Some(t) = target {
                    // Where the corrected or retracted event counted until now: its own day,
                    // or, once corrected, the days of its corrections' replacements.
                    for s in std::iter::once(t).chain(prior.corrected_by(t)) {
                        if let Some(d) = l.event(s)?.and_then(|s| s.event.effective_day()) {
                            days.insert(d);
                        }
                    }
                }
                Ok(())
            })?;
        }
        let out = if phase == Phase::With {
            &mut after
        } else {
            &mut before
        };
        for d in &days {
            out.push(query::state(l, *d, None)?);
        }
        Ok(())
    };
    let appended = ledger.dry_run(input, opts, &mut read)?;
    let changes = before
        .iter()
        .zip(&after)
        .flat_map(|(b, a)| compare(b, a))
        .collect();
    Ok(Effect {
        head: appended.first - 1,
        events: events
            .into_iter()
            .map(|e| WouldAppend {
                seq: e.seq,
                kind: e.event.kind.type_name().to_string(),
                date: e.event.date.map(|d| d.to_string()),
                counts_from: e.event.effective_day().map(|d| d.to_string()),
                event: serde_json::from_str(&e.event.canonical_json()).unwrap_or(Value::Null),
            })
            .collect(),
        days: days.iter().map(|d| d.to_string()).collect(),
        changes,
    })
}

/// The answers that differ between two states of the same day.
pub fn compare(before: &State, after: &State) -> Vec<Change> {
    let day = &after.as_of;
    let mut out = Vec::new();
    let mut push =
        |answer: &'static str, b: Value, a: Value, lists: Option<(Vec<String>, Vec<String>)>| {
            let (bl, al) = lists.unwrap_or_default();
            let added: Vec<String> = al.iter().filter(|x| !bl.contains(x)).cloned().collect();
            let removed: Vec<String> = bl.iter().filter(|x| !al.contains(x)).cloned().collect();
            if b != a || !added.is_empty() || !removed.is_empty() {
                out.push(Change {
                    day: day.clone(),
                    answer,
                    before: b,
                    after: a,
                    added,
                    removed,
                });
            }
        };
    let codes_m = |s: &State| s.members.parties.iter().map(|p| p.code.clone()).collect();
    push(
        "members",
        before.members.count.into(),
        after.members.count.into(),
        Some((codes_m(before), codes_m(after))),
    );
    let codes = |v: &[query::PartyEntry]| v.iter().map(|p| p.code.clone()).collect::<Vec<_>>();
    push(
        "ratifications",
        before.ratifications.count.into(),
        after.ratifications.count.into(),
        Some((
            codes(&before.ratifications.parties),
            codes(&after.ratifications.parties),
        )),
    );
    push(
        "observers",
        before.observers.count.into(),
        after.observers.count.into(),
        Some((
            codes(&before.observers.parties),
            codes(&after.observers.parties),
        )),
    );
    push(
        "withdrawn",
        (before.withdrawn.len() as u64).into(),
        (after.withdrawn.len() as u64).into(),
        Some((codes(&before.withdrawn), codes(&after.withdrawn))),
    );
    push(
        "signatures",
        before.statute.signatures.into(),
        after.statute.signatures.into(),
        None,
    );
    push(
        "statute_in_force",
        before.statute.in_force.into(),
        after.statute.in_force.into(),
        None,
    );
    push(
        "statute_adopted",
        serde_json::json!(before.statute.adopted),
        serde_json::json!(after.statute.adopted),
        None,
    );
    push(
        "organisation_established",
        serde_json::json!(before.organisation.established),
        serde_json::json!(after.organisation.established),
        None,
    );
    push(
        "secretariat_operational",
        serde_json::json!(before.organisation.secretariat_operational),
        serde_json::json!(after.organisation.secretariat_operational),
        None,
    );
    push(
        "director_general",
        before.director_general.holder.clone().into(),
        after.director_general.holder.clone().into(),
        None,
    );
    push(
        "executive_board_chair",
        before.executive_board.chair.clone().into(),
        after.executive_board.chair.clone().into(),
        None,
    );
    let seats = |s: &State| {
        s.executive_board
            .members
            .iter()
            .map(|m| m.holder.clone())
            .collect::<Vec<_>>()
    };
    push(
        "executive_board_seats",
        (before.executive_board.members.len() as u64).into(),
        (after.executive_board.members.len() as u64).into(),
        Some((seats(before), seats(after))),
    );
    out
}
