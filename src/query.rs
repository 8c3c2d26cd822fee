//! Answers: the state as of a day (optionally as known at an instant), members, a party's
//! history. Built from the read models (index seeks) or, for `--known-at`, from an in-memory
//! fold of the events recorded by then; both paths assemble the answer with the same code.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::date::{Day, EventDate, Precision};
use crate::event::{Office, Organ, Role, Seat};
use crate::party::Party;
use crate::projection::{Counter, Fact, Key, Milestone, PartyFacts, Pending, StateFacts};
use crate::store::{Ledger, StoreError};

/// A member in the answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MemberEntry {
    /// Party code.
    pub code: String,
    /// English name, or `unidentified (<label>)`.
    pub name: String,
    /// Whether the source does not name this party.
    pub unidentified: bool,
    /// Date of its signature, in the event format's shape (`"YYYY"`, `"YYYY-MM"`,
    /// `"YYYY-MM-DD"` or `{"not_before", "not_after"}`).
    pub since: EventDate,
    /// The day the signature counts from (the last day of its date).
    pub counted_from: String,
    /// How precisely the signature's date is known.
    pub precision: Precision,
    /// Place in replay order (by the last day each signature may have happened, then by
    /// record): the ledger's own order, **not** an ordinal any source states. Kept under this
    /// name for compatibility; `replay_order` is the same number under a name that says so.
    pub ordinal: u64,
    /// The same as `ordinal`: the place in replay order.
    pub replay_order: u64,
    /// The ordinals sources state for this party's signature (`signatory_ordinal` claims), with
    /// their sources. Filled by [`members`]; [`state`] does not read claims and leaves it empty.
    pub sourced_ordinals: Vec<SourcedOrdinal>,
    /// Whether it had ratified by the as-of day.
    pub ratified: bool,
    /// The signature's seq.
    pub seq: u64,
}

/// An ordinal a source states for a signatory ("Libya became the twentieth country to …").
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourcedOrdinal {
    /// The ordinal the source states.
    pub value: u64,
    /// The claim's seq.
    pub seq: u64,
    /// The cited document or URL.
    pub source: String,
    /// The quoted sentence.
    pub quote: String,
}

/// A party with a date (ratifications, observers, withdrawals).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartyEntry {
    /// Party code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Whether unidentified.
    pub unidentified: bool,
    /// Since when, in the event format's shape.
    pub since: EventDate,
    /// The day it counts from (the last day of its date).
    pub counted_from: String,
    /// How precisely its date is known.
    pub precision: Precision,
    /// The event's seq.
    pub seq: u64,
}

/// Members at the day.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Members {
    /// How many.
    pub count: u64,
    /// Which, in signature order.
    pub parties: Vec<MemberEntry>,
}

/// A counted list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Counted {
    /// How many.
    pub count: u64,
    /// Which.
    pub parties: Vec<PartyEntry>,
}

/// The Statute's status.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Statute {
    /// When adopted (in the event format's shape), if by the day.
    pub adopted: Option<EventDate>,
    /// Whether in force at the day.
    pub in_force: bool,
    /// Since when (in the event format's shape).
    pub since: Option<EventDate>,
    /// Signatures made so far (including by parties that later withdrew).
    pub signatures: u64,
}

/// An office's holder.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OfficeState {
    /// The holder, or null when vacant or never filled.
    pub holder: Option<String>,
    /// Since when (in the event format's shape).
    pub since: Option<EventDate>,
    /// Term in years, when given.
    pub term_years: Option<u32>,
    /// The day the term ends, when a term is given: `term_years` after the day the
    /// appointment counts from (the last day of its date).
    pub term_ends: Option<String>,
    /// When vacant: who held it last and why it fell vacant.
    pub vacated: Option<Vacancy>,
    /// The event's seq.
    pub seq: Option<u64>,
    /// When the last holder's term ended by the day and no later event names a successor or
    /// a vacancy: who held it and when the term ended. `holder` is then null (no source says
    /// who held the office after the term), and the holder is listed under `uncertain`.
    pub term_ended: Option<TermEnded>,
}

/// An office whose holder's term ran out with no source for a holdover.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TermEnded {
    /// The last holder appointed.
    pub person: String,
    /// The day the term ended (`term_years` after the day the appointment counts from).
    pub ended: String,
}

/// Why an office is vacant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Vacancy {
    /// The last holder.
    pub previous: Option<String>,
    /// The reason.
    pub reason: Option<String>,
}

/// A seat on a board.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeatEntry {
    /// Party code, or the office holding the seat ex officio.
    pub holder: String,
    /// Name.
    pub name: String,
    /// Role.
    pub role: Role,
}

/// A board's composition.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BoardState {
    /// The chair's party code, or null.
    pub chair: Option<String>,
    /// All seats.
    pub members: Vec<SeatEntry>,
    /// Elected when (in the event format's shape).
    pub since: Option<EventDate>,
    /// The election's seq.
    pub seq: Option<u64>,
}

/// An event the answer may depend on but that is not certain at the day.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Uncertain {
    /// The event's seq.
    pub seq: u64,
    /// Its type.
    #[serde(rename = "type")]
    pub kind: String,
    /// Its party, if any.
    pub party: Option<String>,
    /// For an office whose term has ended: the last holder, not asserted after the term.
    pub person: Option<String>,
    /// Its date, in the event format's shape.
    pub date: EventDate,
    /// The date's precision.
    pub precision: Precision,
    /// Why it is uncertain.
    pub why: String,
}

/// Milestones reached by the day.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Organisation {
    /// When established (in the event format's shape), if by the day.
    pub established: Option<EventDate>,
    /// When the secretariat became operational, if by the day.
    pub secretariat_operational: Option<EventDate>,
}

/// The state as of a day.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct State {
    /// The day asked about.
    pub as_of: String,
    /// The instant the answer is known at (null: everything recorded).
    pub known_at: Option<String>,
    /// Members.
    pub members: Members,
    /// Ratifications.
    pub ratifications: Counted,
    /// Observers.
    pub observers: Counted,
    /// Parties that signed and withdrew, and have not signed again.
    pub withdrawn: Vec<PartyEntry>,
    /// The Statute.
    pub statute: Statute,
    /// The organisation's milestones.
    pub organisation: Organisation,
    /// The Director General.
    pub director_general: OfficeState,
    /// The Executive Board.
    pub executive_board: BoardState,
    /// What the answer may depend on but is not certain at the day.
    pub uncertain: Vec<Uncertain>,
}

fn count(f: Option<Fact>) -> u64 {
    count_of(f.as_ref())
}

/// A counter's value (0 when it has no fact): what `state` and `timeline` both count.
pub(crate) fn count_of(f: Option<&Fact>) -> u64 {
    match f {
        Some(Fact::Count { value }) => *value,
        _ => 0,
    }
}

/// Whether a milestone was reached (it has a `since` fact).
pub(crate) fn reached(f: Option<&Fact>) -> bool {
    matches!(f, Some(Fact::Since { .. }))
}

/// An office's holder at `as_of` (`None`: vacant, never filled, or the holder's term has run
/// out with no later appointment or vacancy), and whether that term ran out: the rule `state`
/// applies (see `assemble`), which then lists the appointment under `uncertain`.
pub(crate) fn holder_at(f: Option<&Fact>, as_of: Day) -> (Option<String>, bool) {
    match f {
        Some(Fact::Holder {
            person: Some(p),
            since,
            term_years,
            ..
        }) => match term_years.and_then(|y| add_years(since.effective_day().to_naive(), y)) {
            Some(end) if as_of.to_naive() >= end => (None, true),
            _ => (Some(p.clone()), false),
        },
        Some(Fact::Holder { person: None, .. }) | None => (None, false),
        Some(_) => (None, false),
    }
}

/// A board's chair: the party code of its seat with the chair's role.
pub(crate) fn chair_of(f: Option<&Fact>) -> Option<String> {
    match f {
        Some(Fact::Board { seats, .. }) => seats
            .iter()
            .find(|s| s.role == Role::Chair)
            .and_then(|s| s.party.as_ref().map(|p| p.code().to_string())),
        _ => None,
    }
}

fn entry(p: &Party, since: &EventDate, seq: u64) -> PartyEntry {
    PartyEntry {
        code: p.code().to_string(),
        name: p.display_name(),
        unidentified: p.is_placeholder(),
        since: *since,
        counted_from: since.effective_day().text(),
        precision: since.precision(),
        seq,
    }
}

fn add_years(d: NaiveDate, years: u32) -> Option<NaiveDate> {
    d.checked_add_months(chrono::Months::new(years.saturating_mul(12)))
}

/// The last day of a holder's term: `term_years` after the day the appointment counts from.
fn term_end(person: Option<&str>, since: &EventDate, term_years: Option<u32>) -> Option<NaiveDate> {
    match (person, term_years) {
        (Some(_), Some(y)) => add_years(since.effective_day().to_naive(), y),
        _ => None,
    }
}

/// The holder an answer at `as_of` asserts from an office's fact: the person in office, unless
/// their term has run out by then with no later appointment or vacancy (the `holder` that
/// [`state`] gives, without assembling the rest of the answer).
pub(crate) fn asserted_holder(fact: Option<&Fact>, as_of: Day) -> Option<String> {
    match fact {
        Some(Fact::Holder {
            person,
            since,
            term_years,
            ..
        }) => match term_end(person.as_deref(), since, *term_years) {
            Some(end) if as_of.to_naive() >= end => None,
            _ => person.clone(),
        },
        _ => None,
    }
}

fn assemble(
    mut src: StateFacts,
    as_of: Day,
    known_at: Option<String>,
    uncertain: Vec<Pending>,
) -> Result<State, StoreError> {
    let mut members = Vec::new();
    let mut ratified = Vec::new();
    let mut observers = Vec::new();
    let mut withdrawn = Vec::new();
    for PartyFacts {
        party,
        member,
        ratified: ratification,
        observer,
    } in std::mem::take(&mut src.parties)
    {
        let p = &party;
        let is_ratified = match ratification {
            Some(Fact::Since { since, seq }) => {
                ratified.push(entry(p, &since, seq));
                true
            }
            _ => false,
        };
        match member {
            Some(Fact::Member {
                since,
                seq,
                ordinal,
            }) => members.push(MemberEntry {
                code: p.code().to_string(),
                name: p.display_name(),
                unidentified: p.is_placeholder(),
                since,
                counted_from: since.effective_day().text(),
                precision: since.precision(),
                ordinal,
                replay_order: ordinal,
                sourced_ordinals: Vec::new(),
                ratified: is_ratified,
                seq,
            }),
            Some(Fact::Withdrawn { since, seq }) => withdrawn.push(entry(p, &since, seq)),
            _ => {}
        }
        if let Some(Fact::Since { since, seq }) = observer {
            observers.push(entry(p, &since, seq));
        }
    }
    members.sort_by_key(|m| m.ordinal);
    let since_of = |m: Milestone| -> Result<Option<EventDate>, StoreError> {
        Ok(match src.get(&Key::Milestone(m)).cloned() {
            Some(Fact::Since { since, .. }) => Some(since),
            _ => None,
        })
    };
    let in_force_since = since_of(Milestone::StatuteInForce)?;
    debug_assert_eq!(
        in_force_since.is_some(),
        reached(src.get(&Key::Milestone(Milestone::StatuteInForce)))
    );
    let mut past_term = None;
    let director_general = match src.get(&Key::Office(Office::DirectorGeneral)).cloned() {
        Some(Fact::Holder {
            person,
            since,
            seq,
            term_years,
            vacated_reason,
            previous,
        }) => {
            let term_end = term_end(person.as_deref(), &since, term_years);
            let term_ends = term_end.map(|d| d.format("%Y-%m-%d").to_string());
            // A term that has run out by the day, with no later appointment or vacancy: no
            // source says who held the office since, so the holder is not asserted.
            let term_ended = match (&person, &term_ends, term_end) {
                (Some(p), Some(e), Some(end)) if as_of.to_naive() >= end => Some(TermEnded {
                    person: p.clone(),
                    ended: e.clone(),
                }),
                _ => None,
            };
            if let Some(t) = &term_ended {
                past_term = Some(Uncertain {
                    seq,
                    kind: "officer_appointed".into(),
                    party: None,
                    person: Some(t.person.clone()),
                    date: since,
                    precision: since.precision(),
                    why: format!(
                        "the {}-year term of {} as Director General ended on {}; no source says who held the office after it, so no holder is asserted",
                        term_years.unwrap_or_default(),
                        t.person,
                        t.ended
                    ),
                });
            }
            OfficeState {
                vacated: person.is_none().then_some(Vacancy {
                    previous,
                    reason: vacated_reason,
                }),
                holder: if term_ended.is_some() { None } else { person },
                since: Some(since),
                term_years,
                term_ends,
                seq: Some(seq),
                term_ended,
            }
        }
        _ => OfficeState {
            holder: None,
            since: None,
            term_years: None,
            term_ends: None,
            vacated: None,
            seq: None,
            term_ended: None,
        },
    };
    let executive_board = match src.get(&Key::Board(Organ::ExecutiveBoard)).cloned() {
        Some(Fact::Board { seats, since, seq }) => BoardState {
            chair: chair_of(src.get(&Key::Board(Organ::ExecutiveBoard))),
            members: seats.iter().map(seat_entry).collect(),
            since: Some(since),
            seq: Some(seq),
        },
        _ => BoardState {
            chair: None,
            members: vec![],
            since: None,
            seq: None,
        },
    };
    Ok(State {
        as_of: as_of.to_string(),
        known_at,
        members: Members {
            count: count(src.get(&Key::Count(Counter::Members)).cloned()),
            parties: members,
        },
        ratifications: Counted {
            count: count(src.get(&Key::Count(Counter::Ratifications)).cloned()),
            parties: ratified,
        },
        observers: Counted {
            count: count(src.get(&Key::Count(Counter::Observers)).cloned()),
            parties: observers,
        },
        withdrawn,
        statute: Statute {
            adopted: since_of(Milestone::StatuteAdopted)?,
            in_force: in_force_since.is_some(),
            since: in_force_since,
            signatures: count(src.get(&Key::Count(Counter::Signatures)).cloned()),
        },
        organisation: Organisation {
            established: since_of(Milestone::Established)?,
            secretariat_operational: since_of(Milestone::SecretariatOperational)?,
        },
        director_general,
        executive_board,
        uncertain: uncertain
            .iter()
            .map(|p| uncertain_entry(p, as_of))
            .chain(past_term)
            .collect(),
    })
}

fn seat_entry(s: &Seat) -> SeatEntry {
    match (&s.party, &s.office) {
        (Some(p), _) => SeatEntry {
            holder: p.code().into(),
            name: p.display_name(),
            role: s.role,
        },
        (None, Some(o)) => SeatEntry {
            holder: o.as_str().into(),
            name: "the Director General (ex officio)".into(),
            role: s.role,
        },
        _ => SeatEntry {
            holder: String::new(),
            name: String::new(),
            role: s.role,
        },
    }
}

fn uncertain_entry(p: &Pending, as_of: Day) -> Uncertain {
    let date = p.date;
    let precision = date.precision();
    let (start, end) = date.window();
    let (written, end) = (date.text(), end.text());
    let date_shape = date;
    let what = match precision {
        Precision::Year => "only the year is known",
        Precision::Month => "only the month is known",
        Precision::Bounded => "only bounds are known",
        Precision::Day => "the day is known",
    };
    Uncertain {
        seq: p.seq,
        kind: p.kind.clone(),
        party: p.party.as_ref().map(|p| p.code().to_string()),
        person: None,
        date: date_shape,
        precision,
        why: [
            what,
            " (",
            &written,
            "): it may have happened by ",
            &as_of.text(),
            " (window ",
            &start.text(),
            " to ",
            &end,
            "); it is counted from ",
            &end,
        ]
        .concat(),
    }
}

/// Parses a `--known-at` value: an RFC 3339 timestamp, or a day `YYYY-MM-DD` meaning the end of
/// that day (UTC). Returns it in `recorded_at` format.
pub fn parse_known_at(s: &str) -> Result<String, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        let t = t.with_timezone(&Utc);
        // An offset can carry 9999-12-31 past the last year a ledger can hold: that instant is
        // out of range (it is never wrapped or answered as year 10000).
        if !(1..=9999).contains(&chrono::Datelike::year(&t)) {
            return Err(format!(
                "`{s}` is {t}, outside the years 0001-9999 a ledger can hold"
            ));
        }
        return Ok(crate::store::format_instant(t));
    }
    match Day::parse(s) {
        Ok(d) => {
            let t = d.to_naive().and_hms_micro_opt(23, 59, 59, 999_999).map(|n| n.and_utc());
            t.map(crate::store::format_instant).ok_or_else(|| format!("`{s}` is out of range"))
        }
        Err(_) => Err(format!(
            "`{s}` is not an instant: write an RFC 3339 timestamp (2024-03-01T12:00:00Z) or a day (2024-03-01, meaning its end, UTC)"
        )),
    }
}

/// The state as of `as_of`; with `known_at` (an instant in `recorded_at` format), as the ledger
/// knew it then.
pub fn state(ledger: &Ledger, as_of: Day, known_at: Option<&str>) -> Result<State, StoreError> {
    ledger.snapshot(|| state_in(ledger, as_of, known_at))
}

fn state_in(ledger: &Ledger, as_of: Day, known_at: Option<&str>) -> Result<State, StoreError> {
    match known_at {
        None => {
            let (facts, uncertain) = ledger.state_at(as_of)?;
            assemble(facts, as_of, None, uncertain)
        }
        Some(t) => {
            let max_seq = ledger.seq_known_at(t)?;
            let (proj, uncertain) = ledger.fold_until(max_seq, as_of)?;
            assemble(StateFacts::of(&proj), as_of, Some(t.to_string()), uncertain)
        }
    }
}

/// The state as of `as_of` (as [`state`]) with each member's sourced ordinals: the
/// `signatory_ordinal` claims about it that stand (not retracted; a corrected claim counts in
/// its latest replacement), recorded by `known_at`. Finds them with a scan of the log inside
/// SQLite for bodies naming `signatory_ordinal`, which `state` does not make.
pub fn members(ledger: &Ledger, as_of: Day, known_at: Option<&str>) -> Result<State, StoreError> {
    ledger.snapshot(|| {
        let mut s = state_in(ledger, as_of, known_at)?;
        let max_seq = known_at.map(|t| ledger.seq_known_at(t)).transpose()?;
        let overrides = ledger.overrides(max_seq)?;
        let mut by_party: std::collections::BTreeMap<String, Vec<SourcedOrdinal>> =
            std::collections::BTreeMap::new();
        // Only a body that names `signatory_ordinal` (a claim, or a correction whose
        // replacement is one) can hold a sourced ordinal: SQLite passes over the rest.
        ledger.for_each_event_containing("\"signatory_ordinal\"", max_seq, |e| {
            let active = match &e.event.kind {
                crate::event::Kind::Correction { corrects, .. } => {
                    overrides.is_active(*corrects, e.seq)
                }
                crate::event::Kind::Retraction { .. } => false,
                _ => {
                    overrides.retracted_by(e.seq).is_none()
                        && overrides.corrected_by(e.seq).is_empty()
                }
            };
            let Some(w) = e.event.world_event().filter(|_| active) else {
                return Ok(());
            };
            if let crate::event::Kind::Claim {
                about: crate::event::ClaimAbout::SignatoryOrdinal,
                value,
                party: Some(p),
                ..
            } = &w.kind
            {
                if let Some(v) = value.as_u64() {
                    by_party
                        .entry(p.code().to_string())
                        .or_default()
                        .push(SourcedOrdinal {
                            value: v,
                            seq: e.seq,
                            source: w.source.citation().to_string(),
                            quote: w.source.quote.clone(),
                        });
                }
            }
            Ok(())
        })?;
        for m in &mut s.members.parties {
            if let Some(v) = by_party.remove(&m.code) {
                m.sourced_ordinals = v;
            }
        }
        Ok(s)
    })
}

/// The state from a full in-memory fold of every live event (ignores the read models; used by
/// `verify` and tests to check the read models).
pub fn state_by_replay(ledger: &Ledger, as_of: Day) -> Result<State, StoreError> {
    let head = ledger.head()?.seq;
    let (proj, uncertain) = ledger.fold_until(head, as_of)?;
    assemble(StateFacts::of(&proj), as_of, None, uncertain)
}

/// One holder of an office, with when the tenure began and ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tenure {
    /// The holder.
    pub person: String,
    /// When the tenure began, in the event format's shape.
    pub from: EventDate,
    /// The day it counts from.
    pub counted_from: String,
    /// Term in years, when given.
    pub term_years: Option<u32>,
    /// When it ended, in the event format's shape (null: still in office).
    pub until: Option<EventDate>,
    /// Why it ended: the reason given, or `succeeded by <name>`.
    pub ended_by: Option<String>,
    /// The day the term ends, when a term is given (`term_years` after `counted_from`).
    pub term_ends: Option<String>,
    /// When the term ran out before the next appointment or vacancy (or none is recorded):
    /// what no source says. The holder is not asserted after `term_ends` (`state` lists them
    /// under `uncertain`).
    pub after_term: Option<String>,
    /// The appointment's seq.
    pub seq: u64,
}

/// Everyone who held `office`, in order: from the read models, or with `known_at` (an instant
/// in `recorded_at` format) from a fold of the events recorded by then.
pub fn officers(
    ledger: &Ledger,
    office: Office,
    known_at: Option<&str>,
) -> Result<Vec<Tenure>, StoreError> {
    let key = Key::Office(office);
    let history = ledger.snapshot(|| match known_at {
        None => ledger.key_history(&key),
        Some(t) => ledger.key_history_until(&key, ledger.seq_known_at(t)?),
    })?;
    let mut out: Vec<Tenure> = Vec::new();
    // The day each tenure's term ends, alongside `out`.
    let mut ends: Vec<Option<NaiveDate>> = Vec::new();
    for (day, fact) in history {
        let Fact::Holder {
            person,
            since,
            seq,
            term_years,
            vacated_reason,
            ..
        } = fact
        else {
            continue;
        };
        if let (Some(last), Some(end)) = (out.last_mut(), ends.last()) {
            if last.until.is_none() {
                last.until = Some(since);
                last.ended_by = Some(match (&person, vacated_reason) {
                    (None, Some(r)) => r,
                    (Some(p), _) => format!("succeeded by {p}"),
                    (None, None) => "vacated".into(),
                });
                last.after_term = None;
                if let (Some(end), Some(e)) = (end, &last.term_ends) {
                    if day.to_naive() > *end {
                        last.after_term = Some(format!(
                            "the term ended on {e}; no source says who held the office from then until {day}"
                        ));
                    }
                }
            }
        }
        if let Some(person) = person {
            let end = term_years.and_then(|y| add_years(day.to_naive(), y));
            let term_ends = end.map(|d| d.format("%Y-%m-%d").to_string());
            out.push(Tenure {
                person,
                from: since,
                counted_from: day.to_string(),
                term_years,
                until: None,
                ended_by: None,
                after_term: term_ends.as_ref().map(|e| {
                    format!("the term ends on {e}; no source records the office after it")
                }),
                term_ends,
                seq,
            });
            ends.push(end);
        }
    }
    Ok(out)
}

/// The year-end summary of one year.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct YearEnd {
    /// The day (31 December).
    pub as_of: String,
    /// Members.
    pub members: u64,
    /// Ratifications.
    pub ratifications: u64,
    /// Observers.
    pub observers: u64,
    /// Whether the Statute was in force.
    pub in_force: bool,
    /// The Director General.
    pub director_general: Option<String>,
    /// The last Director General whose term had ended by then, with no source for a
    /// holdover (then `director_general` is null).
    pub director_general_term_ended: Option<String>,
    /// The Executive Board chair.
    pub board_chair: Option<String>,
    /// How many events may have happened by then but are not counted.
    pub uncertain: usize,
}

/// The state at the end of each year from `from` to `to`.
pub fn year_ends(
    ledger: &Ledger,
    from: i32,
    to: i32,
    known_at: Option<&str>,
) -> Result<Vec<YearEnd>, StoreError> {
    let mut out = Vec::new();
    for y in from..=to {
        let Some(d) = NaiveDate::from_ymd_opt(y, 12, 31) else {
            continue;
        };
        let s = state(ledger, Day::from_naive(d), known_at)?;
        out.push(YearEnd {
            as_of: s.as_of,
            members: s.members.count,
            ratifications: s.ratifications.count,
            observers: s.observers.count,
            in_force: s.statute.in_force,
            director_general: s.director_general.holder,
            director_general_term_ended: s.director_general.term_ended.map(|t| t.person),
            board_chair: s.executive_board.chair,
            uncertain: s.uncertain.len(),
        });
    }
    Ok(out)
}
