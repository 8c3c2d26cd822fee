//! Helpers for the property tests (`tests/properties.rs`, `tests/model.rs`; `tests/faults.rs`
//! drives the binary and needs none of this): generators of valid histories (candidates kept
//! only when the reference model, [`reference`], says the log keeps every rule — the library's
//! own fold is never the judge), an independent fold used as an oracle, and utilities to build
//! ledgers, dump their tables and compare answers.
//!
//! Every ledger these helpers build takes a state snapshot every [`SNAPSHOT_ROWS`] timeline rows
//! (see [`lower_snapshots`]), so that small generated histories reach snapshots.
//!
//! A test crate that includes this module may not use every helper.
#![allow(dead_code)]

pub mod reference;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use iofs_ledger::date::Day;
use iofs_ledger::event::{parse_batch, Event, Kind, Location, Role};
use iofs_ledger::query::{self, State};
use iofs_ledger::store::{AppendOptions, Appended, Ledger, StoreError};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

// ---------------------------------------------------------------------------------------------
// Vocabulary
// ---------------------------------------------------------------------------------------------

/// The parties histories are drawn from (small, so rules are often exercised).
pub const PARTIES: [&str; 7] = [
    "KAZ",
    "SAU",
    "TUR",
    "PSE",
    "CIV",
    "unidentified:signatory-1",
    "unidentified:observer-x",
];

/// A party no generated history ever names (mutations use it).
pub const FRESH_PARTY: &str = "unidentified:mutant";

/// The people appointments and vacancies are drawn from.
pub const PERSONS: [&str; 3] = ["Yerlan Baidaulet", "Ismail Abdelhafid", "Zhanna Ö'Connor"];

/// A person no generated history ever appoints.
pub const STRANGER: &str = "Nobody Ever";

const ORGANS: [&str; 7] = [
    "general_assembly",
    "executive_board",
    "council_of_foreign_ministers",
    "ministerial_conference",
    "intergovernmental_experts_meeting",
    "world_islamic_economic_forum",
    "un_oic_general_meeting",
];

const TEXTS: [&str; 6] = [
    "plain",
    "Côte d'Ivoire — «quoted»",
    "a \"quote\" and a \\ backslash",
    "line\nbreak\ttab",
    "Астана 2013",
    "مدينة",
];

/// The source every generated event cites.
pub fn source() -> Value {
    json!({"document": "gen.txt", "quote": "A generated sentence."})
}

// ---------------------------------------------------------------------------------------------
// Dates
// ---------------------------------------------------------------------------------------------

/// A point date of some precision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Point {
    /// `YYYY`.
    Year(i32),
    /// `YYYY-MM`.
    Month(i32, u32),
    /// `YYYY-MM-DD`.
    Day(i32, u32, u32),
}

/// A generated date: a point or bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GenDate {
    /// A string date.
    Point(Point),
    /// `{"not_before", "not_after"}`.
    Bounded(Point, Point),
}

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("generated dates are real")
}

/// Days in a month, by the calendar (independent of the library).
pub fn days_in_month(y: i32, m: u32) -> u32 {
    let next = if m == 12 {
        ymd(y + 1, 1, 1)
    } else {
        ymd(y, m + 1, 1)
    };
    (next - ymd(y, m, 1)).num_days() as u32
}

impl Point {
    /// First day it may denote.
    pub fn first(self) -> NaiveDate {
        match self {
            Point::Year(y) => ymd(y, 1, 1),
            Point::Month(y, m) => ymd(y, m, 1),
            Point::Day(y, m, d) => ymd(y, m, d),
        }
    }
    /// Last day it may denote.
    pub fn last(self) -> NaiveDate {
        match self {
            Point::Year(y) => ymd(y, 12, 31),
            Point::Month(y, m) => ymd(y, m, days_in_month(y, m)),
            Point::Day(y, m, d) => ymd(y, m, d),
        }
    }
    /// The string form.
    pub fn text(self) -> String {
        match self {
            Point::Year(y) => format!("{y:04}"),
            Point::Month(y, m) => format!("{y:04}-{m:02}"),
            Point::Day(y, m, d) => format!("{y:04}-{m:02}-{d:02}"),
        }
    }
}

impl GenDate {
    /// The window of days `(first, last)`.
    pub fn window(self) -> (NaiveDate, NaiveDate) {
        match self {
            GenDate::Point(p) => (p.first(), p.last()),
            GenDate::Bounded(a, b) => (a.first(), b.last()),
        }
    }
    /// The JSON form.
    pub fn json(self) -> Value {
        match self {
            GenDate::Point(p) => json!(p.text()),
            GenDate::Bounded(a, b) => json!({"not_before": a.text(), "not_after": b.text()}),
        }
    }
}

/// A point date of any precision in `years`.
pub fn point_in(years: std::ops::RangeInclusive<i32>) -> impl Strategy<Value = Point> {
    (years, 0u8..3, 1u32..=12, 1u32..=31).prop_map(|(y, p, m, d)| match p {
        0 => Point::Year(y),
        1 => Point::Month(y, m),
        _ => Point::Day(y, m, 1 + (d - 1) % days_in_month(y, m)),
    })
}

/// A date of any precision, or bounds, between 2008 and 2023.
pub fn gen_date() -> impl Strategy<Value = GenDate> {
    prop_oneof![
        3 => point_in(2008..=2023).prop_map(GenDate::Point),
        1 => (point_in(2008..=2023), point_in(2008..=2023)).prop_map(|(a, b)| {
            if a.first() > b.last() {
                GenDate::Bounded(b, a)
            } else {
                GenDate::Bounded(a, b)
            }
        }),
    ]
}

/// The library's day of a calendar date.
pub fn day(d: NaiveDate) -> Day {
    Day::from_naive(d)
}

// ---------------------------------------------------------------------------------------------
// Candidate events
// ---------------------------------------------------------------------------------------------

/// A candidate world event, before it is checked against the history.
#[derive(Clone, Debug)]
pub enum World {
    /// `statute_signed`.
    Sign(usize),
    /// `membership_withdrawn` of `PARTIES[i]`, or for `i >= PARTIES.len()` of a member at the
    /// end of the replay so far.
    Withdraw(usize),
    /// `statute_ratified`.
    Ratify(usize),
    /// `observer_admitted`.
    Observer(usize),
    /// `statute_entered_into_force`.
    InForce,
    /// `organisation_established` (0), `statute_adopted` (1), `secretariat_operational` (2).
    Milestone(u8),
    /// `officer_appointed`.
    Appoint {
        /// Index into [`PERSONS`].
        person: usize,
        /// `takes_office`.
        takes: Option<GenDate>,
        /// `term_years`.
        term: Option<u32>,
    },
    /// `office_vacated`: by the current holder (if `holder`) or by `PERSONS[person]`.
    Vacate {
        /// Use the holder at the end of the replay.
        holder: bool,
        /// Else this person.
        person: usize,
    },
    /// `board_elected`.
    Board {
        /// Index into the organs (0..7; executive board when `exec`).
        organ: usize,
        /// Whether it is the Executive Board.
        exec: bool,
        /// Seats: party index (7 = the Director General's office) and role (0 chair..3).
        seats: Vec<(usize, u8)>,
    },
    /// `meeting_held`.
    Meeting {
        /// Organ index.
        organ: usize,
        /// Session.
        session: Option<u32>,
        /// Flags: extraordinary, online.
        flags: (bool, bool),
        /// Host party.
        host: Option<usize>,
        /// Place/theme text.
        text: Option<usize>,
        /// `end_date` this many days after the last day of the date.
        end_days: Option<u8>,
    },
    /// `claim` about what (0..7) with values drawn from these.
    Claim {
        /// What the claim is about.
        about: u8,
        /// An integer.
        int: u64,
        /// A bool.
        flag: bool,
        /// A party.
        party: usize,
        /// A person (None: null).
        person: Option<usize>,
        /// A topic.
        topic: Option<usize>,
    },
    /// `proposal_made` (0), `document_adopted` (1), `programme_established` (2),
    /// `agreement_signed` (3).
    Misc {
        /// Which.
        kind: u8,
        /// Text index.
        text: usize,
        /// Optional organ.
        organ: Option<usize>,
        /// Optional party (proposer).
        party: Option<usize>,
    },
}

/// Optional common fields.
#[derive(Clone, Copy, Debug)]
pub struct Extras {
    /// `note`.
    pub note: bool,
    /// `inferred`.
    pub inferred: bool,
    /// `date_source`.
    pub date_source: bool,
    /// Date the event this many days after the last effective day of the history so far
    /// (an exact day, at the latest 2024-12-20), so that withdrawals, re-signings and vacancies often
    /// come after what they depend on.
    pub late: Option<u16>,
}

impl Extras {
    /// No optional field, the generated date.
    pub fn none() -> Extras {
        Extras {
            note: false,
            inferred: false,
            date_source: false,
            late: None,
        }
    }
}

/// A candidate event.
#[derive(Clone, Debug)]
pub enum Cand {
    /// A world event with its date.
    World(World, GenDate, Extras),
    /// A retraction of the `sel`-th eligible target.
    Retract(usize),
    /// A correction of the `sel`-th eligible target; with `same` the replacement is the
    /// target with the new date, else the given world event.
    Correct {
        /// Target selector.
        sel: usize,
        /// Keep the target's kind and fields, change only the date.
        same: bool,
        /// The replacement.
        world: World,
        /// Its date.
        date: GenDate,
        /// Give the correction its own date (the day the error was found).
        own_date: Option<GenDate>,
    },
}

fn extras() -> impl Strategy<Value = Extras> {
    (
        0u8..10,
        0u8..10,
        0u8..10,
        proptest::option::weighted(0.3, 0u16..400),
    )
        .prop_map(|(a, b, c, late)| Extras {
            note: a == 0,
            inferred: b == 0,
            date_source: c == 0,
            late,
        })
}

fn party_ix() -> impl Strategy<Value = usize> {
    0..PARTIES.len()
}

/// A candidate world event (no date).
pub fn world() -> impl Strategy<Value = World> {
    prop_oneof![
        10 => party_ix().prop_map(World::Sign),
        5 => (0..2 * PARTIES.len()).prop_map(World::Withdraw),
        6 => party_ix().prop_map(World::Ratify),
        4 => party_ix().prop_map(World::Observer),
        2 => Just(World::InForce),
        2 => (0u8..3).prop_map(World::Milestone),
        4 => (
                0..PERSONS.len(),
                // takes_office may lie after the day of recording (2025-01-01).
                proptest::option::weighted(0.3, prop_oneof![
                    3 => gen_date(),
                    1 => point_in(2024..=2030).prop_map(GenDate::Point),
                ]),
                proptest::option::weighted(0.4, 1u32..8),
            )
            .prop_map(|(person, takes, term)| World::Appoint { person, takes, term }),
        3 => (any::<bool>(), 0..PERSONS.len()).prop_map(|(holder, person)| World::Vacate { holder, person }),
        3 => (0..ORGANS.len(), 0u8..4, proptest::collection::vec((0usize..8, 0u8..4), 1..5))
            .prop_map(|(organ, e, seats)| World::Board { organ, exec: e != 0, seats }),
        2 => (0..ORGANS.len(), proptest::option::of(1u32..60), (any::<bool>(), any::<bool>()),
              proptest::option::of(party_ix()), proptest::option::of(0..TEXTS.len()),
              proptest::option::weighted(0.2, 0u8..6))
            .prop_map(|(organ, session, flags, host, text, end_days)| World::Meeting { organ, session, flags, host, text, end_days }),
        3 => (0u8..7, 0u64..12, any::<bool>(), party_ix(), proptest::option::of(0..PERSONS.len()), proptest::option::of(0usize..3))
            .prop_map(|(about, int, flag, party, person, topic)| World::Claim { about, int, flag, party, person, topic }),
        2 => (0u8..4, 0..TEXTS.len(), proptest::option::of(0..ORGANS.len()), proptest::option::of(party_ix()))
            .prop_map(|(kind, text, organ, party)| World::Misc { kind, text, organ, party }),
    ]
}

/// A candidate world event with its date.
pub fn world_cand() -> impl Strategy<Value = Cand> {
    world_cand_in(gen_date())
}

/// A candidate world event dated by `dates`.
pub fn world_cand_in(dates: impl Strategy<Value = GenDate>) -> impl Strategy<Value = Cand> {
    (world(), dates, extras()).prop_map(|(w, d, x)| Cand::World(w, d, x))
}

/// A candidate event: mostly world events, some retractions and corrections.
pub fn cand() -> impl Strategy<Value = Cand> {
    cand_in(gen_date().boxed())
}

/// A candidate event dated by `dates`: mostly world events, some retractions and corrections.
pub fn cand_in(dates: BoxedStrategy<GenDate>) -> impl Strategy<Value = Cand> {
    prop_oneof![
        12 => world_cand_in(dates.clone()),
        1 => any::<usize>().prop_map(Cand::Retract),
        2 => (any::<usize>(), any::<bool>(), world(), dates.clone(), proptest::option::weighted(0.3, dates))
            .prop_map(|(sel, same, world, date, own_date)| Cand::Correct { sel, same, world, date, own_date }),
    ]
}

/// Today by the real clock (UTC), the day `append` checks dates against when no instant is
/// given.
pub fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// A date near the day of recording, relative to the real clock at generation: today,
/// yesterday, tomorrow, this and next month, this and next year, bounds ending after today,
/// bounds starting tomorrow. About half of them may not be recorded today (they begin after
/// it); the generators of valid histories drop those, the acceptance properties keep them.
pub fn near_today() -> impl Strategy<Value = GenDate> {
    (0u8..10, 0i64..40).prop_map(|(k, n)| {
        let t = today();
        let day = |d: NaiveDate| Point::Day(d.year(), d.month(), d.day());
        let next_month = t
            .with_day(1)
            .and_then(|d| d.checked_add_months(chrono::Months::new(1)))
            .expect("a next month");
        match k {
            0 => GenDate::Point(day(t)),
            1 => GenDate::Point(day(t - Duration::days(1 + n % 3))),
            2 => GenDate::Point(day(t + Duration::days(1 + n % 3))),
            3 => GenDate::Point(Point::Month(t.year(), t.month())),
            4 => GenDate::Point(Point::Month(next_month.year(), next_month.month())),
            5 => GenDate::Point(Point::Year(t.year())),
            6 => GenDate::Point(Point::Year(t.year() + 1)),
            7 => GenDate::Bounded(day(t - Duration::days(n)), day(t + Duration::days(1 + n))),
            8 => GenDate::Bounded(day(t), Point::Year(t.year() + 1)),
            _ => GenDate::Bounded(day(t + Duration::days(1)), day(t + Duration::days(2 + n))),
        }
    })
}

/// A date of any precision from 2008 to 2023, or (one in three) near the day of recording.
pub fn any_date() -> BoxedStrategy<GenDate> {
    prop_oneof![2 => gen_date(), 1 => near_today()].boxed()
}

// ---------------------------------------------------------------------------------------------
// The model of a log
// ---------------------------------------------------------------------------------------------

/// One event of the model log (its seq is its index + 1).
#[derive(Clone, Debug)]
pub struct Rec {
    /// The input JSON.
    pub value: Value,
    /// The parsed event.
    pub event: Event,
    /// The window of its world version (a correction: its replacement's), by the calendar.
    pub window: Option<(NaiveDate, NaiveDate)>,
}

/// A live world version in replay order.
#[derive(Clone, Debug)]
pub struct Row {
    /// First day of its window.
    pub first: NaiveDate,
    /// Last day of its window: the day it counts from.
    pub last: NaiveDate,
    /// Replay tie-break: the original event's seq.
    pub ord: u64,
    /// The seq that reports it (the original's, or the latest correction's).
    pub seq: u64,
    /// The world event in effect.
    pub event: Event,
}

/// A model of the log: the events in seq order.
#[derive(Clone, Debug, Default)]
pub struct Model {
    /// The events.
    pub recs: Vec<Rec>,
}

/// The target seq of a retraction or correction.
pub fn target_of(e: &Event) -> Option<u64> {
    match &e.kind {
        Kind::Retraction { retracts, .. } => Some(*retracts),
        Kind::Correction { corrects, .. } => Some(*corrects),
        _ => None,
    }
}

impl Model {
    /// Number of events.
    pub fn len(&self) -> u64 {
        self.recs.len() as u64
    }

    /// Whether the log is empty.
    pub fn is_empty(&self) -> bool {
        self.recs.is_empty()
    }

    fn rec(&self, seq: u64) -> Option<&Rec> {
        seq.checked_sub(1).and_then(|i| self.recs.get(i as usize))
    }

    /// Seqs retracted.
    pub fn retracted(&self) -> HashSet<u64> {
        self.recs
            .iter()
            .filter_map(|r| match r.event.kind {
                Kind::Retraction { retracts, .. } => Some(retracts),
                _ => None,
            })
            .collect()
    }

    /// World events that are not retracted (valid targets of a retraction or correction).
    pub fn live_targets(&self) -> Vec<u64> {
        let retracted = self.retracted();
        (1..=self.len())
            .filter(|s| {
                !retracted.contains(s)
                    && self
                        .rec(*s)
                        .is_some_and(|r| !r.event.kind.is_record_event())
            })
            .collect()
    }

    /// Whether the record rules hold for every event: a retraction or correction targets an
    /// earlier world event that no earlier event retracted.
    pub fn record_rules_hold(&self) -> bool {
        let mut retracted = HashSet::new();
        for (i, r) in self.recs.iter().enumerate() {
            let seq = i as u64 + 1;
            if let Some(t) = target_of(&r.event) {
                let ok = t >= 1
                    && t < seq
                    && self.rec(t).is_some_and(|x| !x.event.kind.is_record_event())
                    && !retracted.contains(&t);
                if !ok {
                    return false;
                }
                if matches!(r.event.kind, Kind::Retraction { .. }) {
                    retracted.insert(t);
                }
            }
        }
        true
    }

    /// The live world versions in replay order (assumes the record rules hold).
    pub fn rows(&self) -> Vec<Row> {
        let retracted = self.retracted();
        let mut latest: HashMap<u64, u64> = HashMap::new();
        for (i, r) in self.recs.iter().enumerate() {
            if let Kind::Correction { corrects, .. } = r.event.kind {
                latest.insert(corrects, i as u64 + 1);
            }
        }
        let mut rows = Vec::new();
        for (i, r) in self.recs.iter().enumerate() {
            let s = i as u64 + 1;
            if r.event.kind.is_record_event() || retracted.contains(&s) {
                continue;
            }
            let (seq, rec) = match latest.get(&s) {
                Some(c) => (*c, self.rec(*c).unwrap_or(r)),
                None => (s, r),
            };
            let event = match &rec.event.kind {
                Kind::Correction { replacement, .. } => (**replacement).clone(),
                _ => rec.event.clone(),
            };
            let (first, last) = rec.window.unwrap_or((NaiveDate::MIN, NaiveDate::MIN));
            rows.push(Row {
                first,
                last,
                ord: s,
                seq,
                event,
            });
        }
        rows.sort_by_key(|r| (r.last, r.ord));
        rows
    }

    /// Whether the whole log passes the append rules, by the reference model (record rules,
    /// then the world rules over the live events in replay order, written again in
    /// [`reference`]; the library's fold is not consulted).
    pub fn valid(&self) -> bool {
        reference::valid(&self.values())
    }

    /// The JSON of every event, in seq order.
    pub fn values(&self) -> Vec<Value> {
        self.recs.iter().map(|r| r.value.clone()).collect()
    }

    /// Appends an event.
    pub fn push(&mut self, value: Value, window: Option<(NaiveDate, NaiveDate)>) {
        let event = event_of(&value);
        self.recs.push(Rec {
            value,
            event,
            window,
        });
    }

    /// The JSON of the world version currently in effect for `seq`.
    pub fn live_value(&self, seq: u64) -> Option<Value> {
        let mut v = self.rec(seq)?.value.clone();
        for r in &self.recs {
            if let Kind::Correction { corrects, .. } = r.event.kind {
                if corrects == seq {
                    v = r.value["replacement"].clone();
                }
            }
        }
        Some(v)
    }

    /// Every interesting as-of day: around the edges of every window, and far before/after.
    pub fn probe_days(&self, max: usize) -> Vec<NaiveDate> {
        let mut days = BTreeSet::new();
        days.insert(ymd(2007, 12, 31));
        days.insert(ymd(2031, 1, 1));
        for r in &self.recs {
            if let Some((a, b)) = r.window {
                for d in [a - Duration::days(1), a, b - Duration::days(1), b] {
                    days.insert(d);
                }
            }
        }
        let all: Vec<NaiveDate> = days.into_iter().collect();
        if all.len() <= max {
            return all;
        }
        let step = all.len().div_ceil(max);
        all.into_iter().step_by(step).collect()
    }
}

/// Parses a generated JSON event (the generators only make well-formed ones).
pub fn event_of(v: &Value) -> Event {
    match v {
        Value::Object(m) => Event::from_object(m.clone())
            .unwrap_or_else(|e| panic!("generated event does not parse: {e:?}\n{v}")),
        _ => panic!("not an object: {v}"),
    }
}

fn with_common(mut m: Map<String, Value>, x: Extras) -> Value {
    m.insert("source".into(), source());
    if x.date_source {
        m.insert(
            "date_source".into(),
            json!({"url": "https://example.org/x", "quote": "The date."}),
        );
    }
    if x.inferred {
        m.insert("inferred".into(), json!("the year is from another source"));
    }
    if x.note {
        m.insert("note".into(), json!(TEXTS[1]));
    }
    Value::Object(m)
}

/// The holder of the office at the end of the replay of `model`, by the oracle.
fn final_holder(model: &Model) -> Option<String> {
    oracle(model, NaiveDate::MAX).dg
}

/// Turns a world candidate into JSON and its effect window, given the history so far.
pub fn world_value(
    w: &World,
    date: GenDate,
    x: Extras,
    model: &Model,
) -> (Value, (NaiveDate, NaiveDate)) {
    let date = match (x.late, model.rows().last()) {
        (Some(n), Some(tail)) => {
            let d = tail.last + Duration::days(i64::from(n));
            if d <= ymd(2024, 12, 20) {
                GenDate::Point(Point::Day(d.year(), d.month(), d.day()))
            } else {
                date
            }
        }
        _ => date,
    };
    let mut m = Map::new();
    let mut window = date.window();
    let mut put = |k: &str, v: Value| {
        m.insert(k.to_string(), v);
    };
    match w {
        World::Sign(p) => {
            put("type", json!("statute_signed"));
            put("party", json!(PARTIES[*p]));
        }
        World::Withdraw(p) => {
            let members: Vec<String> = oracle(model, NaiveDate::MAX).members.into_keys().collect();
            let who = if *p >= PARTIES.len() && !members.is_empty() {
                members[*p % members.len()].clone()
            } else {
                PARTIES[*p % PARTIES.len()].to_string()
            };
            put("type", json!("membership_withdrawn"));
            put("party", json!(who));
        }
        World::Ratify(p) => {
            put("type", json!("statute_ratified"));
            put("party", json!(PARTIES[*p]));
        }
        World::Observer(p) => {
            put("type", json!("observer_admitted"));
            put("party", json!(PARTIES[*p]));
        }
        World::InForce => put("type", json!("statute_entered_into_force")),
        World::Milestone(k) => put(
            "type",
            json!(
                [
                    "organisation_established",
                    "statute_adopted",
                    "secretariat_operational"
                ][*k as usize % 3]
            ),
        ),
        World::Appoint {
            person,
            takes,
            term,
        } => {
            put("type", json!("officer_appointed"));
            put("office", json!("director_general"));
            put("person", json!(PERSONS[*person]));
            if let Some(t) = takes {
                // takes_office may not end before the appointment's date begins.
                if t.window().1 >= date.window().0 {
                    put("takes_office", t.json());
                    window = t.window();
                }
            }
            if let Some(t) = term {
                put("term_years", json!(t));
            }
        }
        World::Vacate { holder, person } => {
            let who = if *holder {
                final_holder(model).unwrap_or_else(|| PERSONS[*person].to_string())
            } else {
                PERSONS[*person].to_string()
            };
            put("type", json!("office_vacated"));
            put("office", json!("director_general"));
            put("person", json!(who));
            put("reason", json!("term ended"));
        }
        World::Board { organ, exec, seats } => {
            put("type", json!("board_elected"));
            put(
                "organ",
                json!(if *exec {
                    "executive_board"
                } else {
                    ORGANS[*organ]
                }),
            );
            let mut seen = BTreeSet::new();
            let mut chair = false;
            let mut out = Vec::new();
            for (who, role) in seats {
                if !seen.insert(*who) {
                    continue;
                }
                let mut role =
                    ["chair", "member", "permanent_member", "honorary_chair"][*role as usize % 4];
                if role == "chair" {
                    if chair {
                        role = "member";
                    }
                    chair = true;
                }
                if *who >= PARTIES.len() {
                    out.push(json!({"office": "director_general", "role": role}));
                } else {
                    out.push(json!({"party": PARTIES[*who], "role": role}));
                }
            }
            put("seats", Value::Array(out));
        }
        World::Meeting {
            organ,
            session,
            flags,
            host,
            text,
            end_days,
        } => {
            put("type", json!("meeting_held"));
            put("organ", json!(ORGANS[*organ]));
            if let Some(s) = session {
                put("session", json!(s));
            }
            if flags.0 {
                put("extraordinary", json!(true));
            }
            if flags.1 {
                put("online", json!(true));
            }
            if let Some(h) = host {
                put("host", json!(PARTIES[*h]));
            }
            if let Some(t) = text {
                put("place", json!(TEXTS[*t]));
                put("theme", json!(TEXTS[(*t + 1) % TEXTS.len()]));
            }
            if let Some(n) = end_days {
                let e = date.window().1 + Duration::days(i64::from(*n));
                put(
                    "end_date",
                    json!(format!("{:04}-{:02}-{:02}", e.year(), e.month(), e.day())),
                );
            }
        }
        World::Claim {
            about,
            int,
            flag,
            party,
            person,
            topic,
        } => {
            put("type", json!("claim"));
            let (a, v) = match about % 7 {
                0 => ("member_count", json!(int)),
                1 => ("ratification_count", json!(int)),
                2 => ("signatory_ordinal", json!(int + 1)),
                3 => ("statute_in_force", json!(flag)),
                4 => (
                    "director_general",
                    person.map_or(Value::Null, |p| json!(PERSONS[p])),
                ),
                5 => ("board_chair", json!(PARTIES[*party])),
                _ => ("statement", json!(TEXTS[*party % TEXTS.len()])),
            };
            put("about", json!(a));
            put("value", v);
            if a == "signatory_ordinal" || *flag {
                put("party", json!(PARTIES[*party]));
            }
            if let Some(t) = topic {
                put(
                    "topic",
                    json!(["entry into force", "members", "dg"][*t % 3]),
                );
            }
        }
        World::Misc {
            kind,
            text,
            organ,
            party,
        } => {
            let t = TEXTS[*text];
            match kind % 4 {
                0 => {
                    put("type", json!("proposal_made"));
                    put("description", json!(t));
                    if let Some(p) = party {
                        put("proposer", json!(PARTIES[*p]));
                    }
                }
                1 => {
                    put("type", json!("document_adopted"));
                    put("title", json!(t));
                    if let Some(o) = organ {
                        put("organ", json!(ORGANS[*o]));
                        put("session", json!(o + 1));
                    }
                }
                2 => {
                    put("type", json!("programme_established"));
                    put("name", json!(t));
                    if let Some(o) = organ {
                        put("organ", json!(ORGANS[*o]));
                    }
                }
                _ => {
                    put("type", json!("agreement_signed"));
                    put("title", json!(t));
                    put("counterparty", json!("FAO"));
                }
            }
        }
    }
    m.insert("date".into(), date.json());
    (with_common(m, x), window)
}

/// How retraction and correction targets are chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Targets {
    /// Among live world events (valid targets).
    Live,
    /// Among every seq from 1 to the event's own seq + 1 (often invalid).
    Any,
}

/// Turns a candidate into JSON and its window, given the history so far; `None` when a
/// retraction or correction has no target to choose from.
pub fn cand_value(
    c: &Cand,
    model: &Model,
    targets: Targets,
) -> Option<(Value, Option<(NaiveDate, NaiveDate)>)> {
    let pick = |sel: usize| -> Option<u64> {
        match targets {
            Targets::Live => {
                let t = model.live_targets();
                (!t.is_empty()).then(|| t[sel % t.len()])
            }
            Targets::Any => Some(1 + (sel as u64) % (model.len() + 2)),
        }
    };
    match c {
        Cand::World(w, d, x) => {
            let (v, win) = world_value(w, *d, *x, model);
            Some((v, Some(win)))
        }
        Cand::Retract(sel) => {
            let t = pick(*sel)?;
            Some((
                json!({"type": "retraction", "retracts": t, "reason": "the source was misread", "source": source()}),
                None,
            ))
        }
        Cand::Correct {
            sel,
            same,
            world,
            date,
            own_date,
        } => {
            let t = pick(*sel)?;
            let live = model
                .live_value(t)
                .filter(|v| !matches!(v["type"].as_str(), Some("retraction" | "correction")));
            let (replacement, window) = match (same, live) {
                (true, Some(mut v)) => {
                    if let Value::Object(m) = &mut v {
                        m.insert("date".into(), date.json());
                        m.remove("end_date");
                        m.remove("takes_office");
                    }
                    (v, date.window())
                }
                _ => world_value(world, *date, Extras::none(), model),
            };
            let mut m = Map::new();
            m.insert("type".into(), json!("correction"));
            if let Some(d) = own_date {
                m.insert("date".into(), d.json());
            }
            m.insert("corrects".into(), json!(t));
            m.insert("replacement".into(), replacement);
            m.insert("reason".into(), json!("another source gives the date"));
            m.insert("source".into(), source());
            Some((Value::Object(m), Some(window)))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Histories
// ---------------------------------------------------------------------------------------------

/// A valid history: batches of events (JSON), each appended at its own instant, and the model
/// of the resulting log.
#[derive(Clone)]
pub struct History {
    /// The batches, in order.
    pub batches: Vec<Vec<Value>>,
    /// The whole log.
    pub model: Model,
}

impl fmt::Debug for History {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "History ({} events):", self.model.len())?;
        let mut seq = 0;
        for (i, b) in self.batches.iter().enumerate() {
            writeln!(f, "  batch {i} (recorded {}):", format_now(now_of(i)))?;
            for v in b {
                seq += 1;
                writeln!(f, "    {seq}: {v}")?;
            }
        }
        Ok(())
    }
}

/// Keeps the candidates that keep the log valid, in order (each prefix of the result is valid).
pub fn filter_into(model: &mut Model, cands: &[Cand]) -> Vec<Value> {
    let mut out = Vec::new();
    for c in cands {
        let Some((v, w)) = cand_value(c, model, Targets::Live) else {
            continue;
        };
        if !reference::dates_not_after(&v, today()) {
            continue;
        }
        model.push(v.clone(), w);
        if model.valid() {
            out.push(v);
        } else {
            model.recs.pop();
        }
    }
    out
}

/// Builds a valid history from batches of candidates.
pub fn history_from(cands: Vec<Vec<Cand>>) -> History {
    let mut model = Model::default();
    let batches = cands.iter().map(|b| filter_into(&mut model, b)).collect();
    History { batches, model }
}

/// Valid histories of up to `batches` batches of up to `per_batch` candidates.
pub fn history(batches: usize, per_batch: usize) -> impl Strategy<Value = History> {
    proptest::collection::vec(
        proptest::collection::vec(cand(), 0..=per_batch),
        1..=batches,
    )
    .prop_map(history_from)
}

/// Valid histories of up to `batches` batches of up to `per_batch` candidates, some dated near
/// the day of recording by the real clock (append them with the real clock: `now: None`).
pub fn history_near_today(batches: usize, per_batch: usize) -> impl Strategy<Value = History> {
    proptest::collection::vec(
        proptest::collection::vec(cand_in(any_date()), 0..=per_batch),
        1..=batches,
    )
    .prop_map(history_from)
}

// ---------------------------------------------------------------------------------------------
// Ledgers
// ---------------------------------------------------------------------------------------------

/// The instant batch `i` is recorded at: 2025-01-01T00:00:00Z plus `i` hours.
pub fn now_of(i: usize) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0)
        .single()
        .expect("a valid instant")
        + Duration::hours(i as i64)
}

/// An instant in `recorded_at` form.
pub fn format_now(t: DateTime<Utc>) -> String {
    iofs_ledger::store::format_instant(t)
}

/// Appends JSON events as one JSON Lines batch (through the parser) recorded at `now`.
pub fn append_values(
    l: &mut Ledger,
    values: &[Value],
    now: DateTime<Utc>,
) -> Result<Appended, StoreError> {
    let text = values
        .iter()
        .map(Value::to_string)
        .collect::<Vec<_>>()
        .join("\n");
    let events = parse_batch(&text).unwrap_or_else(|e| panic!("generated batch: {e:?}"));
    l.append(
        events.into_iter().map(Ok),
        AppendOptions {
            expect_head: None,
            now: Some(now),
        },
    )
}

/// Appends parsed events as one batch recorded at `now`.
pub fn append_events(
    l: &mut Ledger,
    events: Vec<Event>,
    now: DateTime<Utc>,
) -> Result<Appended, StoreError> {
    l.append(
        events
            .into_iter()
            .enumerate()
            .map(|(i, e)| Ok((Location::Line(i + 1), e))),
        AppendOptions {
            expect_head: None,
            now: Some(now),
        },
    )
}

/// The timeline rows between two state snapshots in the ledgers these tests build (the
/// library's rule is `max(512, keys)`, which generated histories never reach).
pub const SNAPSHOT_ROWS: i64 = 8;

/// Lowers the snapshot threshold to [`SNAPSHOT_ROWS`] for this test process, once, before any
/// ledger is built ([`fresh_ledger`] and [`ledger_of`] call it; a test binary using these
/// helpers must build every ledger through them, so that appends, `rebuild` and `verify` all
/// follow the same rule).
pub fn lower_snapshots() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| iofs_ledger::store::set_snapshot_threshold_for_tests(SNAPSHOT_ROWS));
}

/// An empty in-memory ledger (with the lowered snapshot threshold).
pub fn fresh_ledger() -> Ledger {
    lower_snapshots();
    Ledger::in_memory().expect("in-memory ledger")
}

/// The number of state snapshots a ledger holds.
pub fn snapshot_count(l: &Ledger) -> i64 {
    l.connection()
        .query_row("SELECT COUNT(*) FROM state_snapshots", [], |r| r.get(0))
        .expect("count snapshots")
}

/// An in-memory ledger holding the first `n` batches of `h`; returns each batch's
/// `recorded_at`.
pub fn ledger_of(h: &History, n: usize) -> (Ledger, Vec<String>) {
    let mut l = fresh_ledger();
    let mut recorded = Vec::new();
    for (i, b) in h.batches.iter().take(n).enumerate() {
        let a = append_values(&mut l, b, now_of(i))
            .unwrap_or_else(|e| panic!("a valid batch {i} was refused: {e}\n{h:?}"));
        recorded.push(a.recorded_at);
    }
    (l, recorded)
}

/// An in-memory ledger holding all of `h`.
pub fn ledger(h: &History) -> (Ledger, Vec<String>) {
    ledger_of(h, h.batches.len())
}

/// The tables a refused append must leave byte-identical.
pub const TABLES: [&str; 9] = [
    "events",
    "state_snapshots",
    "timeline",
    "replay_order",
    "overrides",
    "windows",
    "parties",
    "party_events",
    "meta",
];

/// Every row of every table (sorted), the schema and the user version.
pub fn dump(l: &Ledger) -> Vec<(String, Vec<String>)> {
    let c = l.connection();
    let mut out = Vec::new();
    let rows = |sql: &str| -> Vec<String> {
        let mut st = c.prepare(sql).expect("prepare a dump");
        let n = st.column_count();
        let mut rows: Vec<String> = st
            .query_map([], |r| {
                let mut cols = Vec::with_capacity(n);
                for i in 0..n {
                    cols.push(format!("{:?}", r.get::<_, rusqlite::types::Value>(i)?));
                }
                Ok(cols.join("|"))
            })
            .expect("query a dump")
            .collect::<Result<_, _>>()
            .expect("read a dump");
        rows.sort();
        rows
    };
    for t in TABLES {
        out.push((t.to_string(), rows(&format!("SELECT * FROM {t}"))));
    }
    out.push((
        "schema".into(),
        rows("SELECT type, name, tbl_name, sql FROM sqlite_master"),
    ));
    out.push(("user_version".into(), rows("PRAGMA user_version")));
    out
}

/// The state as a JSON value without `known_at` (and without `uncertain` unless kept), with
/// every `seq` mapped through `map` when given.
pub fn norm(s: &State, map: Option<&HashMap<u64, u64>>, keep_uncertain: bool) -> Value {
    let mut v = serde_json::to_value(s).expect("a state serializes");
    if let Value::Object(m) = &mut v {
        m.remove("known_at");
        if !keep_uncertain {
            m.remove("uncertain");
        }
    }
    if let Some(map) = map {
        remap(&mut v, map);
    }
    v
}

fn remap(v: &mut Value, map: &HashMap<u64, u64>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                if k == "seq" {
                    if let Some(n) = x.as_u64() {
                        *x = json!(map.get(&n).unwrap_or_else(|| panic!("seq {n} not mapped")));
                    }
                } else {
                    remap(x, map);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| remap(x, map)),
        _ => {}
    }
}

/// `query::state` or a panic naming the day.
pub fn state(l: &Ledger, d: NaiveDate, known_at: Option<&str>) -> State {
    query::state(l, day(d), known_at).unwrap_or_else(|e| panic!("state at {d}: {e}"))
}

// ---------------------------------------------------------------------------------------------
// The oracle: an independent fold
// ---------------------------------------------------------------------------------------------

/// What the state at a day must be, by a fold written independently of the library.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Oracle {
    /// Members and their ordinal.
    pub members: BTreeMap<String, u64>,
    /// Parties that withdrew and have not signed again.
    pub withdrawn: BTreeSet<String>,
    /// Parties that ratified.
    pub ratified: BTreeSet<String>,
    /// Current observers.
    pub observers: BTreeSet<String>,
    /// Signatures counted.
    pub signatures: u64,
    /// Withdrawals counted.
    pub withdrawals: u64,
    /// Statute in force.
    pub in_force: bool,
    /// Statute adopted.
    pub adopted: bool,
    /// Organisation established.
    pub established: bool,
    /// Secretariat operational.
    pub secretariat: bool,
    /// The Director General.
    pub dg: Option<String>,
    /// The last Director General appointed, when their term had ended by the day and nothing
    /// later names a successor or a vacancy (then `dg` is null: no holder is asserted).
    pub dg_term_ended: Option<String>,
    /// The Executive Board chair (a party).
    pub chair: Option<String>,
    /// The Executive Board's seat holders.
    pub board: Vec<String>,
    /// Seqs of live state-changing events whose window contains the day but ends after it.
    pub uncertain: Vec<u64>,
}

fn party_of(e: &Event) -> String {
    e.kind
        .parties()
        .first()
        .map(|p| p.code().to_string())
        .unwrap_or_default()
}

fn affects_state(k: &Kind) -> bool {
    matches!(
        k,
        Kind::StatuteSigned { .. }
            | Kind::StatuteRatified { .. }
            | Kind::ObserverAdmitted { .. }
            | Kind::MembershipWithdrawn { .. }
            | Kind::StatuteEnteredIntoForce {}
            | Kind::OrganisationEstablished {}
            | Kind::StatuteAdopted {}
            | Kind::SecretariatOperational {}
            | Kind::OfficerAppointed { .. }
            | Kind::OfficeVacated { .. }
            | Kind::BoardElected { .. }
    )
}

/// The oracle's state of `model` at `d`.
pub fn oracle(model: &Model, d: NaiveDate) -> Oracle {
    let mut o = Oracle::default();
    // The current appointment's seq and the first day after its term, if it has one.
    let mut term: Option<(u64, NaiveDate)> = None;
    for r in model.rows() {
        if r.last > d {
            if r.first <= d && affects_state(&r.event.kind) {
                o.uncertain.push(r.seq);
            }
            continue;
        }
        let p = party_of(&r.event);
        match &r.event.kind {
            Kind::StatuteSigned { .. } => {
                o.signatures += 1;
                o.members.insert(p.clone(), o.signatures);
                o.withdrawn.remove(&p);
                o.observers.remove(&p);
            }
            Kind::MembershipWithdrawn { .. } => {
                o.withdrawals += 1;
                o.members.remove(&p);
                o.withdrawn.insert(p);
            }
            Kind::StatuteRatified { .. } => {
                o.ratified.insert(p);
            }
            Kind::ObserverAdmitted { .. } => {
                o.observers.insert(p);
            }
            Kind::StatuteEnteredIntoForce {} => o.in_force = true,
            Kind::StatuteAdopted {} => o.adopted = true,
            Kind::OrganisationEstablished {} => o.established = true,
            Kind::SecretariatOperational {} => o.secretariat = true,
            Kind::OfficerAppointed {
                person, term_years, ..
            } => {
                o.dg = Some(person.clone());
                term = term_years.and_then(|y| {
                    r.last
                        .checked_add_months(chrono::Months::new(y * 12))
                        .map(|end| (r.seq, end))
                });
            }
            Kind::OfficeVacated { .. } => {
                o.dg = None;
                term = None;
            }
            Kind::BoardElected { organ, seats } if organ.as_str() == "executive_board" => {
                o.chair = seats
                    .iter()
                    .find(|s| s.role == Role::Chair)
                    .and_then(|s| s.party.as_ref().map(|p| p.code().to_string()));
                o.board = seats
                    .iter()
                    .map(|s| match (&s.party, &s.office) {
                        (Some(p), _) => p.code().to_string(),
                        (None, Some(o)) => o.as_str().to_string(),
                        _ => String::new(),
                    })
                    .collect();
            }
            _ => {}
        }
    }
    // A term that has run out by the day: the holder is not asserted but listed as uncertain,
    // after the events pending at the day.
    if let (Some(p), Some((seq, end))) = (&o.dg, term) {
        if d >= end {
            o.dg_term_ended = Some(p.clone());
            o.dg = None;
            o.uncertain.push(seq);
        }
    }
    o
}
