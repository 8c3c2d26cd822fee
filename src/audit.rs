//! Audit: verification of the log (hash chain, append-only triggers, rules by full replay, read
//! models against a fresh replay) and the auditor's report.

use serde::Serialize;

use crate::chain::GENESIS;
use crate::event::Event;
use crate::store::{Body, Ledger, RawEvent, ReadModelCheck, StoreError};

/// One thing `verify` found wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The first seq concerned, when one is.
    pub seq: Option<u64>,
    /// What is wrong.
    pub what: String,
}

/// The outcome of `verify`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verification {
    /// Whether the log is sound.
    pub ok: bool,
    /// Events checked.
    pub events: u64,
    /// The head: last seq and its hash.
    pub head_seq: u64,
    /// The head's hash.
    pub head_hash: String,
    /// The first bad seq, if any.
    pub first_bad_seq: Option<u64>,
    /// Everything found, in the order of the checks.
    pub problems: Vec<Problem>,
}

/// Checks the whole schema (every table, index, trigger and view against the migrations'), the
/// hash chain, every append rule (by a full replay) and that the stored read models, `meta`
/// included, equal ones derived outside the file. With `since_head = Some((seq, hash))`, also
/// checks that the log still holds that head (so it has only grown since it was noted; `0` and
/// the genesis hash name the empty log). Reads one snapshot of the file and writes nothing, so
/// writers are never blocked; the head in the answer is the head of that snapshot.
pub fn verify(
    ledger: &mut Ledger,
    since_head: Option<(u64, &str)>,
) -> Result<Verification, StoreError> {
    verify_at(ledger, since_head, chrono::Utc::now())
}

/// [`verify`] with the clock reading `now` (a `recorded_at` later than it is reported).
pub fn verify_at(
    ledger: &mut Ledger,
    since_head: Option<(u64, &str)>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Verification, StoreError> {
    let ledger: &Ledger = ledger;
    ledger
        .snapshot_as_is(|| ledger.with_streaming_cache(|| verify_snapshot(ledger, since_head, now)))
}

fn verify_snapshot(
    ledger: &Ledger,
    since_head: Option<(u64, &str)>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Verification, StoreError> {
    let mut problems = Vec::new();
    // 1. The whole schema, against the one the migrations make.
    for what in ledger.schema_problems()? {
        problems.push(Problem {
            seq: None,
            what: format!("schema: {what}: the file was altered outside iofs-ledger"),
        });
    }
    let latest = crate::store::format_instant(now + crate::store::CLOCK_TOLERANCE);
    // 2. Hash chain and canonical bodies.
    let mut expected = 1u64;
    let mut last_recorded = String::new();
    let mut head_hash = GENESIS.to_string();
    let mut chain_broken = false;
    let mut since_found = match since_head {
        None => true,
        Some((0, h)) => {
            if h != GENESIS {
                problems.push(Problem {
                    seq: None,
                    what: format!("the noted head 0:{h} is not the empty log's head 0:{GENESIS}"),
                });
            }
            true
        }
        Some(_) => false,
    };
    let mut kinds = RecordState::default();
    // The last `recorded_at` found well formed, and its day.
    let mut instant: Option<(String, crate::date::Day)> = None;
    // One pass: this thread reads the rows and checks each in seq order; worker threads hash
    // and parse them meanwhile (`Ledger::walk_log`).
    let walked = ledger.walk_log(|row| {
        let crate::store::WalkedRow {
            raw:
                RawEvent {
                    seq,
                    recorded_at,
                    hash,
                    unreadable,
                    ..
                },
            body,
            ..
        } = row;
        let s = (*seq).max(0) as u64;
        let mut fail = |what: String| {
            problems.push(Problem { seq: Some(s), what });
            chain_broken = true;
        };
        if s != expected {
            fail(format!("seq {s} follows seq {}: an event is missing or out of order", expected - 1));
            return false;
        }
        if let Some(why) = unreadable {
            fail(format!("seq {s}: stored {why}: the event was altered behind the tool's back"));
            return false;
        }
        if !row.hash_matches() {
            let want = row.computed_hash();
            fail(format!("seq {s}: hash does not match its contents or its predecessor (stored {hash}, computed {want}): the event was altered, inserted or removed"));
            return false;
        }
        // A batch shares one instant: its form and day are worked out once.
        let day = match &instant {
            Some((at, day)) if at == recorded_at => *day,
            _ => match crate::store::parse_instant(recorded_at)
                .filter(|t| crate::store::format_instant(*t) == *recorded_at)
            {
                Some(t) => {
                    let day = crate::date::Day::from_naive(t.date_naive());
                    instant = Some((recorded_at.clone(), day));
                    day
                }
                None => {
                    fail(format!("seq {s}: recorded_at `{recorded_at}` is not of the form 2026-01-31T12:00:00.000000Z (UTC, microseconds)"));
                    return false;
                }
            },
        };
        match body {
            Body::Canonical(ev) => {
                if let Some(what) = record_rules(ev, s, day, &mut kinds) {
                    fail(what);
                }
            }
            Body::NotCanonical => fail(format!("seq {s}: body is not in canonical form")),
            Body::Invalid(e) => fail(format!("seq {s}: body is not a valid event: {e}")),
        }
        if *recorded_at < last_recorded {
            fail(format!("seq {s}: recorded_at {recorded_at} is before its predecessor's {last_recorded}"));
        }
        if *recorded_at > latest {
            problems.push(Problem {
                seq: Some(s),
                what: format!("seq {s}: recorded_at {recorded_at} is later than now ({}): recorded with a clock in the future, or this clock is wrong", crate::store::format_instant(now)),
            });
        }
        if let Some((hs, hh)) = since_head {
            if hs == s {
                since_found = true;
                if hh != hash {
                    problems.push(Problem {
                        seq: Some(s),
                        what: format!("seq {s} has hash {hash}, not the noted {hh}: the log was rewritten since that head was noted"),
                    });
                }
            }
        }
        last_recorded.clone_from(recorded_at);
        head_hash.clone_from(hash);
        expected += 1;
        !chain_broken
    })?;
    let events = walked.rows;
    if !since_found {
        if let Some((hs, _)) = since_head {
            problems.push(Problem {
                seq: Some(hs),
                what: format!("the noted head seq {hs} is no longer in the log: it shrank"),
            });
        }
    }
    let head_seq = expected - 1;
    // 3. The read models, against what the log derives: compared by an ordered merge (only over
    // a sound chain: otherwise the log itself is in doubt). Read models that name events beyond
    // the log's head mean the log lost events.
    if let (false, Some(derived)) = (chain_broken, walked.derived) {
        let check = ledger.compare_read_models(derived);
        let lost = match &check {
            Ok(ReadModelCheck::Differences { names_up_to, .. }) => {
                names_up_to.filter(|n| *n > head_seq)
            }
            // Not compared to the end (or not this build's read models): ask the file.
            _ => match ledger.read_models_beyond(head_seq) {
                Ok(x) => x,
                Err(_) if !problems.is_empty() => None,
                Err(e) => return Err(e),
            },
        };
        if let Some(named) = lost {
            problems.push(Problem {
                seq: Some(head_seq + 1),
                what: format!("the read models name seq {named} but the log ends at seq {head_seq}: events were removed from the log (tampering). Do not run `rebuild`, which would erase this evidence: keep this file as it is and restore the ledger from a backup or a replica"),
            });
        }
        match read_model_problems(check, lost.is_some()) {
            Ok(p) => problems.extend(p),
            // A schema already reported altered may not even have the tables to compare.
            Err(e) if !problems.is_empty() => problems.push(Problem {
                seq: None,
                what: format!("read models not compared: {e}"),
            }),
            Err(e) => return Err(e),
        }
    }
    let first_bad_seq = problems.iter().filter_map(|p| p.seq).min();
    Ok(Verification {
        ok: problems.is_empty(),
        events,
        head_seq,
        head_hash,
        first_bad_seq,
        problems,
    })
}

/// What the record rules need to remember about earlier events.
#[derive(Default)]
struct RecordState {
    /// Bit `seq` set: seq is a world event (one bit an event: 125 KB for a million).
    world: SeqBits,
    /// Bit `seq` set: seq was retracted.
    retracted: SeqBits,
}

/// A set of seqs as a bit vector.
#[derive(Default)]
struct SeqBits(Vec<u64>);

impl SeqBits {
    fn contains(&self, seq: &u64) -> bool {
        let (w, b) = ((*seq / 64) as usize, seq % 64);
        self.0.get(w).is_some_and(|x| x & (1 << b) != 0)
    }

    fn insert(&mut self, seq: u64) {
        let (w, b) = ((seq / 64) as usize, seq % 64);
        if self.0.len() <= w {
            self.0.resize(w + 1, 0);
        }
        self.0[w] |= 1 << b;
    }
}

/// The append rules that concern the record rather than the world: no date after the day of
/// recording; retraction and correction targets exist, are world events and are not retracted.
/// `day` is the day of `recorded_at`.
fn record_rules(
    ev: &Event,
    seq: u64,
    day: crate::date::Day,
    st: &mut RecordState,
) -> Option<String> {
    use crate::event::Kind;
    let dates = [ev.date, ev.end_date]
        .into_iter()
        .chain(
            ev.world_event()
                .filter(|w| !std::ptr::eq(*w, ev))
                .map(|w| w.date),
        )
        .flatten();
    for d in dates {
        if d.window().0 > day {
            return Some(format!(
                "seq {seq}: date {d} is after its day of recording ({day}): rule \"{}\"",
                crate::projection::Rule::NoFutureDates.text()
            ));
        }
    }
    match &ev.kind {
        Kind::Retraction { retracts: t, .. } | Kind::Correction { corrects: t, .. } => {
            if !st.world.contains(t) || st.retracted.contains(t) {
                return Some(format!(
                    "seq {seq}: targets seq {t}, which is not an earlier unretracted world event: rule \"{}\"",
                    crate::projection::Rule::TargetMustBeLive.text()
                ));
            }
            if matches!(ev.kind, Kind::Retraction { .. }) {
                st.retracted.insert(*t);
            }
        }
        _ => {
            st.world.insert(seq);
        }
    }
    None
}

fn read_model_problems(
    check: Result<ReadModelCheck, StoreError>,
    lost: bool,
) -> Result<Vec<Problem>, StoreError> {
    let check = match check {
        // A file of an older schema: its log is checked above, its read models are not this
        // build's to compare.
        Err(e @ StoreError::OlderSchema { .. }) => {
            return Ok(vec![Problem {
                seq: None,
                what: format!("read models not checked: {e}"),
            }])
        }
        other => other?,
    };
    Ok(match check {
        ReadModelCheck::Unreplayable { seq, why } => vec![Problem {
            seq: Some(seq),
            what: format!("seq {seq}: {why}"),
        }],
        ReadModelCheck::Differences { tables, .. } => tables
            .into_iter()
            .map(|d| Problem {
                seq: d.first_seq,
                what: if d.damaged_copy {
                    format!(
                        "read model `{}`: {}{}",
                        d.table,
                        d.first,
                        if lost {
                            ""
                        } else {
                            "; keep a copy of this file, then run `iofs-ledger rebuild`, which rewrites both copies"
                        }
                    )
                } else { format!(
                    "read model `{}` differs from a fresh replay in {} row(s), the first at {}{}",
                    d.table,
                    d.rows,
                    d.first,
                    if lost {
                        ""
                    } else {
                        "; run `iofs-ledger rebuild`"
                    }
                ) },
            })
            .collect(),
    })
}

/// What changed between two days.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diff {
    /// The first day.
    pub from: String,
    /// The second day.
    pub to: String,
    /// As known at (null: everything recorded).
    pub known_at: Option<String>,
    /// Member count at each day.
    pub member_count: (u64, u64),
    /// Parties that became members.
    pub joined: Vec<query::MemberEntry>,
    /// Parties that stopped being members.
    pub left: Vec<query::MemberEntry>,
    /// Parties that ratified.
    pub ratified: Vec<query::PartyEntry>,
    /// Parties admitted as observers.
    pub observers_admitted: Vec<query::PartyEntry>,
    /// Observers that are observers no more.
    pub observers_ended: Vec<query::PartyEntry>,
    /// The Statute's status at each day, when it changed.
    pub statute_in_force: Option<(bool, bool)>,
    /// The Director General at each day, when it changed.
    pub director_general: Option<(Option<String>, Option<String>)>,
    /// At each day, the last Director General whose term had ended with no source for a
    /// holdover (then the holder above is null: not known, rather than vacant).
    pub director_general_term_ended: (Option<String>, Option<String>),
    /// The Executive Board at each day, when it changed.
    pub executive_board: Option<(query::BoardState, query::BoardState)>,
}

use crate::query;

/// Compares the state at two days.
pub fn diff(
    ledger: &Ledger,
    from: crate::date::Day,
    to: crate::date::Day,
    known_at: Option<&str>,
) -> Result<Diff, StoreError> {
    let a = query::state(ledger, from, known_at)?;
    let b = query::state(ledger, to, known_at)?;
    let not_in = |x: &[query::MemberEntry], y: &[query::MemberEntry]| -> Vec<query::MemberEntry> {
        x.iter()
            .filter(|m| !y.iter().any(|n| n.code == m.code && n.seq == m.seq))
            .cloned()
            .collect()
    };
    let not_in_p = |x: &[query::PartyEntry], y: &[query::PartyEntry]| -> Vec<query::PartyEntry> {
        x.iter()
            .filter(|m| !y.iter().any(|n| n.code == m.code && n.seq == m.seq))
            .cloned()
            .collect()
    };
    Ok(Diff {
        from: a.as_of.clone(),
        to: b.as_of.clone(),
        known_at: known_at.map(String::from),
        member_count: (a.members.count, b.members.count),
        joined: not_in(&b.members.parties, &a.members.parties),
        left: not_in(&a.members.parties, &b.members.parties),
        ratified: not_in_p(&b.ratifications.parties, &a.ratifications.parties),
        observers_admitted: not_in_p(&b.observers.parties, &a.observers.parties),
        observers_ended: not_in_p(&a.observers.parties, &b.observers.parties),
        statute_in_force: (a.statute.in_force != b.statute.in_force)
            .then_some((a.statute.in_force, b.statute.in_force)),
        director_general: (a.director_general.seq != b.director_general.seq
            || a.director_general.holder != b.director_general.holder)
            .then(|| {
                (
                    a.director_general.holder.clone(),
                    b.director_general.holder.clone(),
                )
            }),
        director_general_term_ended: (
            a.director_general
                .term_ended
                .as_ref()
                .map(|t| t.person.clone()),
            b.director_general
                .term_ended
                .as_ref()
                .map(|t| t.person.clone()),
        ),
        executive_board: (a.executive_board.seq != b.executive_board.seq)
            .then(|| (a.executive_board.clone(), b.executive_board.clone())),
    })
}

/// A claim checked against replay.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClaimCheck {
    /// The claim's seq.
    pub seq: u64,
    /// What it is about.
    pub about: crate::event::ClaimAbout,
    /// Its party, if any.
    pub party: Option<String>,
    /// Its topic, if any.
    pub topic: Option<String>,
    /// The date it speaks of, in the event format's shape.
    pub date: crate::date::EventDate,
    /// The day it was checked at (the last day of its date).
    pub checked_at: String,
    /// What the source asserts.
    pub claimed: serde_json::Value,
    /// What replay gives (null for statements).
    pub replay: serde_json::Value,
    /// Whether they agree (null when replay cannot check it).
    pub holds: Option<bool>,
    /// The source.
    pub source: crate::event::Source,
}

/// Claims that share a topic and do not all agree with replay: sources to read side by side.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Contradiction {
    /// The topic.
    pub topic: String,
    /// The claims' seqs.
    pub claims: Vec<u64>,
    /// Whether any of them disagrees with replay.
    pub any_fails: bool,
}

/// An event whose date is not stated as a day by its source.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DateIssue {
    /// The event's seq.
    pub seq: u64,
    /// Its type.
    #[serde(rename = "type")]
    pub kind: String,
    /// Its date, in the event format's shape.
    pub date: crate::date::EventDate,
    /// Its precision.
    pub precision: crate::date::Precision,
    /// Why the date is what it is, when inferred.
    pub inferred: Option<String>,
}

/// A placeholder party and the events naming it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlaceholderUse {
    /// The placeholder.
    pub party: String,
    /// Events naming it.
    pub seqs: Vec<u64>,
}

/// Something the record lacks that it implies: a ratifier with no recorded signature (a state
/// ratifies what it signed, so its signature is missing from the record).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Incompleteness {
    /// The event that implies what is missing (the ratification's seq).
    pub seq: u64,
    /// The party.
    pub party: String,
    /// What is missing, in words.
    pub finding: String,
}

/// A retraction or correction.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Amendment {
    /// Its seq.
    pub seq: u64,
    /// `retraction` or `correction`.
    pub kind: String,
    /// The event it acts on.
    pub target: u64,
    /// Why.
    pub reason: String,
    /// When it was recorded.
    pub recorded_at: String,
}

/// The Statute's entry into force: as asserted, and as derived from Article 21(1).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EntryIntoForce {
    /// The asserted date (from `statute_entered_into_force`), in the event format's shape.
    pub asserted: Option<crate::date::EventDate>,
    /// The asserting event's seq.
    pub asserted_seq: Option<u64>,
    /// The tenth ratification: party, date as written, seq.
    pub tenth_ratification: Option<query::PartyEntry>,
    /// The thirtieth day after the day the tenth ratification counts from (Article 21(1), as
    /// the research note reports it): the latest day the rule allows.
    pub derived: Option<String>,
    /// When the tenth ratification's day is not known: the window the rule gives.
    pub derived_window: Option<(String, String)>,
    /// Whether the asserted date equals the derived one.
    pub agrees: Option<bool>,
    /// In words.
    pub finding: String,
}

/// Everything that deserves an auditor's eye.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Events in the log.
    pub events: u64,
    /// The head.
    pub head: String,
    /// Every live claim checked against replay.
    pub claims: Vec<ClaimCheck>,
    /// Claims grouped by topic.
    pub contradictions: Vec<Contradiction>,
    /// Events whose date is inferred, imprecise or bounded.
    pub dates: Vec<DateIssue>,
    /// Placeholder parties.
    pub placeholders: Vec<PlaceholderUse>,
    /// What the record implies but lacks (ratifiers without a recorded signature).
    pub incomplete: Vec<Incompleteness>,
    /// Retractions and corrections.
    pub amendments: Vec<Amendment>,
    /// Entry into force, asserted against derived.
    pub entry_into_force: EntryIntoForce,
}

/// The counts of each kind of finding (`audit --summary`): what a large ledger's report holds,
/// at a glance.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Events in the log.
    pub events: u64,
    /// The head.
    pub head: String,
    /// Claims checked against replay.
    pub claims: usize,
    /// Claims that disagree with replay.
    pub claims_disagreeing: usize,
    /// Claims replay cannot check (statements).
    pub claims_unchecked: usize,
    /// Topics on which claims contradict each other.
    pub contradictions: usize,
    /// Events whose date is not stated as a day, or inferred.
    pub dates_not_exact: usize,
    /// Of those, events whose date is inferred.
    pub dates_inferred: usize,
    /// Placeholder parties.
    pub placeholders: usize,
    /// Retractions and corrections.
    pub amendments: usize,
    /// Whether the asserted entry into force agrees with Article 21(1) (null: cannot tell).
    pub entry_into_force_agrees: Option<bool>,
}

impl Report {
    /// The counts of each kind of finding.
    pub fn summary(&self) -> Summary {
        Summary {
            events: self.events,
            head: self.head.clone(),
            claims: self.claims.len(),
            claims_disagreeing: self
                .claims
                .iter()
                .filter(|c| c.holds == Some(false))
                .count(),
            claims_unchecked: self.claims.iter().filter(|c| c.holds.is_none()).count(),
            contradictions: self.contradictions.len(),
            dates_not_exact: self.dates.len(),
            dates_inferred: self.dates.iter().filter(|d| d.inferred.is_some()).count(),
            placeholders: self.placeholders.len(),
            amendments: self.amendments.len(),
            entry_into_force_agrees: self.entry_into_force.agrees,
        }
    }
}

/// What replay gives for a claim, read from the fold at the claim's day: the same fields a
/// [`query::State`] shows (`members.count`, a member's `ordinal`, `statute.in_force`,
/// `director_general.holder`, `executive_board.chair`), taken from the facts they are built
/// from (a test holds the two equal), so checking a claim costs a lookup, not a whole answer.
fn replay_value_of(
    proj: &crate::projection::Projection,
    day: crate::date::Day,
    about: crate::event::ClaimAbout,
    party: Option<&crate::party::Party>,
) -> serde_json::Value {
    use crate::event::{ClaimAbout as A, Office, Organ, Role};
    use crate::projection::{Counter, Fact, Key, Milestone};
    use serde_json::{json, Value};
    let count = |c: Counter| match proj.get(&Key::Count(c)) {
        Some(Fact::Count { value }) => *value,
        _ => 0,
    };
    match about {
        A::MemberCount => json!(count(Counter::Members)),
        A::RatificationCount => json!(count(Counter::Ratifications)),
        A::SignatoryOrdinal => match party.and_then(|p| proj.get(&Key::Member(p.clone()))) {
            Some(Fact::Member { ordinal, .. }) => json!(ordinal),
            _ => Value::Null,
        },
        A::StatuteInForce => json!(matches!(
            proj.get(&Key::Milestone(Milestone::StatuteInForce)),
            Some(Fact::Since { .. })
        )),
        A::DirectorGeneral => json!(query::asserted_holder(
            proj.get(&Key::Office(Office::DirectorGeneral)),
            day
        )),
        A::BoardChair => match proj.get(&Key::Board(Organ::ExecutiveBoard)) {
            Some(Fact::Board { seats, .. }) => json!(seats
                .iter()
                .find(|s| s.role == Role::Chair)
                .and_then(|s| s.party.as_ref().map(|p| p.code().to_string()))),
            _ => Value::Null,
        },
        A::Statement => Value::Null,
    }
}

/// Builds the audit report from the whole log, in one read transaction: one pass over the log
/// for its events, one ordered fold that answers every checkable claim at its day, and one
/// state query for the entry into force.
pub fn report(ledger: &Ledger, known_at: Option<&str>) -> Result<Report, StoreError> {
    ledger.snapshot(|| report_in(ledger, known_at))
}

fn report_in(ledger: &Ledger, known_at: Option<&str>) -> Result<Report, StoreError> {
    use crate::event::Kind;
    use std::collections::BTreeMap;
    let max_seq = known_at.map(|t| ledger.seq_known_at(t)).transpose()?;
    let head = match max_seq {
        Some(m) => match ledger.event(m)? {
            Some(e) => crate::store::Head {
                seq: m,
                hash: e.hash,
                recorded_at: Some(e.recorded_at),
            },
            None => crate::store::Head {
                seq: 0,
                hash: crate::chain::GENESIS.into(),
                recorded_at: None,
            },
        },
        None => ledger.head()?,
    };
    let overrides = ledger.overrides(max_seq)?;
    let mut claims = Vec::new();
    let mut dates = Vec::new();
    let mut placeholders: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    let mut amendments = Vec::new();
    let mut asserted: Option<(crate::date::EventDate, u64)> = None;
    let mut events = 0u64;
    // The day each claim is checked at, beside `claims`.
    let mut claim_days = Vec::new();
    ledger.for_each_event(0, max_seq, |e| {
        events += 1;
        let live =
            overrides.retracted_by(e.seq).is_none() && overrides.corrected_by(e.seq).is_empty();
        match &e.event.kind {
            Kind::Retraction {
                retracts, reason, ..
            } => amendments.push(Amendment {
                seq: e.seq,
                kind: "retraction".into(),
                target: *retracts,
                reason: reason.clone(),
                recorded_at: e.recorded_at.clone(),
            }),
            Kind::Correction {
                corrects, reason, ..
            } => amendments.push(Amendment {
                seq: e.seq,
                kind: "correction".into(),
                target: *corrects,
                reason: reason.clone(),
                recorded_at: e.recorded_at.clone(),
            }),
            _ => {}
        }
        let active = match &e.event.kind {
            Kind::Retraction { .. } => false,
            Kind::Correction { corrects, .. } => overrides.is_active(*corrects, e.seq),
            _ => live,
        };
        if !active {
            return Ok(());
        }
        let Some(w) = e.event.world_event() else {
            return Ok(());
        };
        for p in w.kind.parties() {
            if p.is_placeholder() {
                placeholders
                    .entry(p.code().to_string())
                    .or_default()
                    .push(e.seq);
            }
        }
        if let Some(d) = w.date {
            if w.inferred.is_some() || !d.is_exact() {
                dates.push(DateIssue {
                    seq: e.seq,
                    kind: w.kind.type_name().into(),
                    date: d,
                    precision: d.precision(),
                    inferred: w.inferred.clone(),
                });
            }
            if let Kind::StatuteEnteredIntoForce {} = w.kind {
                asserted = Some((d, e.seq));
            }
            if let Kind::Claim { .. } = w.kind {
                if let Kind::Claim {
                    about,
                    value,
                    party,
                    topic,
                } = &w.kind
                {
                    let at = d.effective_day();
                    claims.push(ClaimCheck {
                        seq: e.seq,
                        about: *about,
                        party: party.as_ref().map(|p| p.code().to_string()),
                        topic: topic.clone(),
                        date: d,
                        checked_at: at.to_string(),
                        claimed: value.clone(),
                        replay: serde_json::Value::Null,
                        holds: None,
                        source: w.source.clone(),
                    });
                    claim_days.push(at);
                }
            }
        }
        Ok(())
    })?;
    // Claims that replay can check are answered from one ordered fold, at each distinct day
    // they are checked at; a statement is not replayed at all.
    use crate::event::ClaimAbout;
    let mut by_day: BTreeMap<crate::date::Day, Vec<usize>> = BTreeMap::new();
    for (i, c) in claims.iter().enumerate() {
        if c.about != ClaimAbout::Statement {
            by_day.entry(claim_days[i]).or_default().push(i);
        }
    }
    drop(claim_days);
    let days: Vec<crate::date::Day> = by_day.keys().copied().collect();
    let max_seq = match max_seq {
        Some(m) => m,
        None => head.seq,
    };
    let claims_mut = &mut claims;
    ledger.fold_at_days(max_seq, &days, |day, proj| {
        for &i in by_day.get(&day).map(Vec::as_slice).unwrap_or_default() {
            let c = &mut claims_mut[i];
            let party = c
                .party
                .as_deref()
                .map(crate::party::Party::parse)
                .transpose()
                .map_err(|e| StoreError::Corrupt {
                    seq: c.seq,
                    why: e.to_string(),
                })?;
            c.replay = replay_value_of(proj, day, c.about, party.as_ref());
            c.holds = Some(c.replay == c.claimed);
        }
        Ok(())
    })?;
    let mut topics: BTreeMap<String, Vec<&ClaimCheck>> = BTreeMap::new();
    for c in &claims {
        if let Some(t) = &c.topic {
            topics.entry(t.clone()).or_default().push(c);
        }
    }
    let contradictions = topics
        .into_iter()
        .filter(|(_, cs)| {
            cs.iter().any(|c| c.holds == Some(false))
                || (cs.len() > 1 && cs.iter().any(|c| c.holds.is_none()))
        })
        .map(|(topic, cs)| Contradiction {
            topic,
            any_fails: cs.iter().any(|c| c.holds == Some(false)),
            claims: cs.iter().map(|c| c.seq).collect(),
        })
        .collect();
    let entry_into_force = entry_into_force(ledger, asserted, known_at)?;
    let incomplete = incompleteness(ledger, known_at)?;
    Ok(Report {
        events,
        head: format!("{}:{}", head.seq, head.hash),
        claims,
        contradictions,
        dates,
        placeholders: placeholders
            .into_iter()
            .map(|(party, seqs)| PlaceholderUse { party, seqs })
            .collect(),
        incomplete,
        amendments,
        entry_into_force,
    })
}

/// Every ratifier that has no recorded signature (it is neither a member nor withdrawn once
/// every event counts): its signature is missing from the record. An unidentified ratifier is
/// listed too: its signature cannot be told apart from the others'.
fn incompleteness(
    ledger: &Ledger,
    known_at: Option<&str>,
) -> Result<Vec<Incompleteness>, StoreError> {
    let far = crate::date::Day::parse("9999-12-31")
        .map_err(|_| StoreError::Internal("the last day a date may have is not a date"))?;
    let s = query::state(ledger, far, known_at)?;
    let signed: std::collections::BTreeSet<&str> = s
        .members
        .parties
        .iter()
        .map(|m| m.code.as_str())
        .chain(s.withdrawn.iter().map(|w| w.code.as_str()))
        .collect();
    Ok(s.ratifications
        .parties
        .iter()
        .filter(|r| !signed.contains(r.code.as_str()))
        .map(|r| Incompleteness {
            seq: r.seq,
            party: r.code.clone(),
            finding: if r.unidentified {
                format!(
                    "{} ratified (dated {}) but no signature of it is recorded: it is unidentified, so its signature cannot be told apart from the others'",
                    r.name, r.since
                )
            } else {
                format!(
                    "{} ratified (dated {}) but no signature of it is recorded: a state ratifies what it signed, so its signature is missing from the record",
                    r.name, r.since
                )
            },
        })
        .collect())
}

/// Ratifications needed for entry into force (Article 21(1), as the research note reports it).
pub const RATIFICATIONS_FOR_FORCE: usize = 10;
/// Days after the tenth ratification on which the Statute enters into force.
pub const DAYS_AFTER_TENTH: i64 = 30;

fn entry_into_force(
    ledger: &Ledger,
    asserted: Option<(crate::date::EventDate, u64)>,
    known_at: Option<&str>,
) -> Result<EntryIntoForce, StoreError> {
    let far = crate::date::Day::parse("9999-12-31")
        .map_err(|_| StoreError::Internal("the last day a date may have is not a date"))?;
    let s = query::state(ledger, far, known_at)?;
    let mut rats = s.ratifications.parties.clone();
    rats.sort_by(|a, b| (&a.counted_from, a.seq).cmp(&(&b.counted_from, b.seq)));
    let tenth = rats.get(RATIFICATIONS_FOR_FORCE - 1).cloned();
    let tenth_date = match &tenth {
        Some(t) => ledger
            .event(t.seq)?
            .and_then(|e| e.event.world_event().and_then(|w| w.date)),
        None => None,
    };
    let plus = |d: crate::date::Day| {
        (d.to_naive() + chrono::Duration::days(DAYS_AFTER_TENTH))
            .format("%Y-%m-%d")
            .to_string()
    };
    let derived = tenth_date.map(|d| plus(d.effective_day()));
    let derived_window = tenth_date.filter(|d| !d.is_exact()).map(|d| {
        let (a, b) = d.window();
        (plus(a), plus(b))
    });
    let agrees = match (&asserted, &derived) {
        (Some((a, _)), Some(d)) => Some(a.text() == *d),
        _ => None,
    };
    let finding = match (&asserted, &tenth, &derived) {
        (_, None, _) => format!("fewer than {RATIFICATIONS_FOR_FORCE} ratifications are recorded"),
        (None, Some(t), _) => format!("no entry into force is recorded; the tenth ratification is {} ({})", t.name, t.since),
        (Some((a, _)), Some(t), Some(d)) if a.text() == *d => format!("asserted {a} is the thirtieth day after the tenth ratification ({} on {})", t.name, t.since),
        (Some((a, _)), Some(t), Some(d)) => match &derived_window {
            None => format!(
                "asserted {a}, but the thirtieth day after the tenth ratification ({} on {}) is {d}",
                t.name, t.since
            ),
            Some((lo, hi)) => format!(
                "asserted {a}, but the tenth ratification ({}, dated {}) counts from {}, so Article 21(1) puts entry into force at the latest on {d} (between {lo} and {hi})",
                t.name, t.since, t.counted_from
            ),
        },
        (Some((a, _)), Some(t), None) => format!(
            "asserted {a}; the tenth ratification ({}) is dated {} only, so the rule cannot fix a day",
            t.name, t.since
        ),
    };
    Ok(EntryIntoForce {
        asserted: asserted.as_ref().map(|a| a.0),
        asserted_seq: asserted.map(|a| a.1),
        tenth_ratification: tenth,
        derived,
        derived_window,
        agrees,
        finding,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{ClaimAbout, Location};
    use crate::store::AppendOptions;

    /// The oracle: a claim's replay value read off the whole state answer at its day, as the
    /// audit read it before it checked claims in one ordered fold.
    fn value_from_state(
        s: &query::State,
        about: ClaimAbout,
        party: Option<&str>,
    ) -> serde_json::Value {
        use serde_json::json;
        match about {
            ClaimAbout::MemberCount => json!(s.members.count),
            ClaimAbout::RatificationCount => json!(s.ratifications.count),
            ClaimAbout::SignatoryOrdinal => party
                .and_then(|p| s.members.parties.iter().find(|m| m.code == p))
                .map_or(serde_json::Value::Null, |m| json!(m.ordinal)),
            ClaimAbout::StatuteInForce => json!(s.statute.in_force),
            ClaimAbout::DirectorGeneral => json!(s.director_general.holder),
            ClaimAbout::BoardChair => json!(s.executive_board.chair),
            ClaimAbout::Statement => serde_json::Value::Null,
        }
    }

    fn ledger_of(events: impl Iterator<Item = crate::event::Event>) -> Ledger {
        let mut l = Ledger::in_memory().unwrap();
        let input = events.enumerate().map(|(i, e)| Ok((Location::Index(i), e)));
        l.append(input, AppendOptions::default()).unwrap();
        l
    }

    /// Every claim's replay value from the one-pass fold equals the value the full state answer
    /// at the claim's day gives, for every kind of claim, and a statement is never replayed.
    #[test]
    fn each_claim_is_checked_against_the_state_answer_at_its_day() {
        let l = ledger_of(crate::synth::events(6_000, 11));
        let r = report(&l, None).unwrap();
        let kinds: std::collections::BTreeSet<String> =
            r.claims.iter().map(|c| format!("{:?}", c.about)).collect();
        assert!(
            kinds.len() >= 5,
            "the synthetic log should hold most claim kinds: {kinds:?}"
        );
        let mut checked = 0;
        for c in &r.claims {
            let day = crate::date::Day::parse(&c.checked_at).unwrap();
            let s = query::state(&l, day, None).unwrap();
            assert_eq!(
                c.replay,
                value_from_state(&s, c.about, c.party.as_deref()),
                "claim seq {} ({:?}) at {}",
                c.seq,
                c.about,
                c.checked_at
            );
            assert_eq!(c.holds.is_none(), c.about == ClaimAbout::Statement);
            checked += 1;
        }
        assert!(checked > 100, "only {checked} claims");
    }

    /// A Director General claim dated after the holder's term ran out (no successor yet) is
    /// checked against the answer's holder at that day, which asserts none.
    #[test]
    fn a_director_general_claim_past_the_term_is_checked_as_the_state_answers_it() {
        let text = r#"[
{"type": "officer_appointed", "date": "2010-05-01", "office": "director_general", "person": "A B", "term_years": 2, "source": {"document": "d", "quote": "q"}},
{"type": "claim", "date": "2011-05-01", "about": "director_general", "value": "A B", "source": {"document": "d", "quote": "q"}},
{"type": "claim", "date": "2013-05-01", "about": "director_general", "value": "A B", "source": {"document": "d", "quote": "q"}}
]"#;
        let events: Vec<_> = crate::event::parse_batch(text)
            .unwrap()
            .into_iter()
            .map(|(_, e)| e)
            .collect();
        let l = ledger_of(events.into_iter());
        let r = report(&l, None).unwrap();
        let holds: Vec<_> = r.claims.iter().map(|c| c.holds).collect();
        assert_eq!(holds, [Some(true), Some(false)]);
        for c in &r.claims {
            let day = crate::date::Day::parse(&c.checked_at).unwrap();
            let s = query::state(&l, day, None).unwrap();
            assert_eq!(c.replay, value_from_state(&s, c.about, c.party.as_deref()));
        }
    }

    /// The same holds for the built-in history, and for an answer as known at an earlier
    /// instant (claims recorded later are left out, the rest answered from that fold).
    #[test]
    fn built_in_claims_and_known_at_claims_match_the_state_answers() {
        let history: Vec<_> = crate::event::parse_batch(crate::history::BUILTIN_HISTORY)
            .unwrap()
            .into_iter()
            .map(|(_, e)| e)
            .collect();
        let l = ledger_of(history.into_iter());
        let r = report(&l, None).unwrap();
        assert!(
            r.claims.iter().any(|c| c.holds == Some(false)),
            "the history has failing claims"
        );
        for c in &r.claims {
            let day = crate::date::Day::parse(&c.checked_at).unwrap();
            let s = query::state(&l, day, None).unwrap();
            assert_eq!(
                c.replay,
                value_from_state(&s, c.about, c.party.as_deref()),
                "seq {}",
                c.seq
            );
        }
    }
}
