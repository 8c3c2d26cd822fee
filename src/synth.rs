//! Synthetic histories for benchmarks and load tests.
//!
//! [`events`] streams `n` events that a ledger accepts in one append (every append rule holds),
//! generated from a seed: the same `(n, seed)` always gives the same events. Nothing is held in
//! memory but the generator's small state, so a history of a million events can be streamed
//! into [`crate::store::Ledger::append`] or written out as JSON Lines ([`write_jsonl`]).
//!
//! # Shape of a history
//! * Dates run from [`FIRST_DAY`] to [`LAST_DAY`], spread evenly over the `n` events, and the
//!   day each event takes effect (the last day of its date window, see `docs/event-format.md`)
//!   never decreases along the history: a generated batch is in replay order, so an append
//!   folds it as it comes and never re-folds.
//! * Most dates are exact days; some are a month or a year (chosen when the cursor is close to
//!   the end of that month or year, so the window ends there), some are bounds (`not_before` up
//!   to a year earlier, `not_after` the cursor's day). Meetings often have an `end_date`.
//! * The mix, by weight: meetings ≈ 28 %, claims ≈ 14 %, adopted documents ≈ 12 %,
//!   signatures ≈ 9 %, board elections ≈ 6 %, withdrawals ≈ 5 %, ratifications (each party at
//!   most once, so at most one per party), proposals, appointments and vacancies of the Director
//!   General, observer admissions, agreements, programmes, and once each the establishment, the
//!   adoption of the Statute, its entry into force (after the tenth ratification) and the
//!   secretariat becoming operational. An event whose rule cannot be met (no member left to
//!   withdraw, every party ratified…) is replaced by a meeting or a claim.
//! * Parties: the 57 OIC member states and at most [`PLACEHOLDERS`] placeholders
//!   `unidentified:signatory-<k>`, so point-in-time queries (which cost O(parties)) stay bounded
//!   whatever `n` is.
//!
//! * Corrections and retractions, about one event in a hundred ([`OVERRIDES_PER_MILLE`]): each
//!   targets one of the last [`RECENT`] world events that never change the state (a meeting, an
//!   adopted document, a proposal, a programme, an agreement), never the same target twice, and
//!   names it by seq and by `target_sha256`. Seqs count from 1, so a history is valid appended
//!   to an empty ledger (`init --empty`), in one batch or in several, in order; appended to a
//!   ledger that already holds events, its first correction or retraction is refused (its
//!   `target_sha256` does not match) instead of acting on another event. A retraction has no
//!   date; a correction's replacement is its target with a corrected place or note and the
//!   same date, so it takes effect on its target's day, before the events around it: an append
//!   re-folds the log from that position, and benchmarks measure refolds too.
//!   [`Synth::without_overrides`] gives a history of world events only, in replay order.

use std::collections::VecDeque;
use std::io::{self, Write};

use chrono::{Datelike, NaiveDate};

use crate::date::{Day, EventDate, PartialDate};
use crate::event::{ClaimAbout, Event, Kind, Office, Organ, Role, Seat, Source};
use crate::party::{Party, OIC_MEMBER_STATES};

/// The first day of a synthetic history.
pub const FIRST_DAY: &str = "1900-01-01";
/// The last day of a synthetic history.
pub const LAST_DAY: &str = "2025-12-31";
/// The most placeholder parties a history names (besides the 57 member states).
pub const PLACEHOLDERS: usize = 200;
/// How many events in a thousand are corrections or retractions (by default; see
/// [`Synth::without_overrides`]).
pub const OVERRIDES_PER_MILLE: u64 = 10;
/// How far back (in world events that never change the state) a correction or retraction
/// reaches: its refold starts at most about this many events back.
pub const RECENT: usize = 32;

/// The events of a synthetic history of `n` events generated from `seed`, streamed.
///
/// ```
/// use iofs_ledger::{event::Location, store::{AppendOptions, Ledger}, synth};
///
/// let mut ledger = Ledger::in_memory()?;
/// let input = synth::events(500, 7).enumerate().map(|(i, e)| Ok((Location::Index(i), e)));
/// assert_eq!(ledger.append(input, AppendOptions::default())?.count(), 500);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn events(n: usize, seed: u64) -> Synth {
    Synth::new(n, seed)
}

/// The canonical JSON lines (no trailing newline) of [`events`]`(n, seed)`, streamed.
pub fn lines(n: usize, seed: u64) -> impl Iterator<Item = String> {
    events(n, seed).map(|e| e.canonical_json())
}

/// The history as JSON Lines text, one event a line (for small `n`: it is all in memory).
pub fn jsonl(n: usize, seed: u64) -> String {
    let mut s = String::new();
    for line in lines(n, seed) {
        s.push_str(&line);
        s.push('\n');
    }
    s
}

/// Writes the history as JSON Lines to `out`, streaming; returns the bytes written.
pub fn write_jsonl(out: &mut impl Write, n: usize, seed: u64) -> io::Result<u64> {
    let mut bytes = 0u64;
    for line in lines(n, seed) {
        out.write_all(line.as_bytes())?;
        out.write_all(b"\n")?;
        bytes += line.len() as u64 + 1;
    }
    Ok(bytes)
}

/// SplitMix64: a small, fast, well-mixed generator (enough for synthetic data).
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n` > 0).
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n.max(1))) >> 64) as u64
    }

    /// True with probability `percent` / 100.
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// What the generator knows about a party.
#[derive(Debug, Clone, Default)]
struct PartyState {
    member: bool,
    ratified: bool,
    observer: bool,
    /// The ordinal of its latest signature.
    ordinal: u64,
}

/// What the generator chose to emit next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pick {
    Meeting,
    Claim,
    Document,
    Proposal,
    Programme,
    Agreement,
    Board,
    Appoint,
    Vacate,
    Sign,
    Withdraw,
    Ratify,
    Observer,
}

const MIX: [(Pick, u64); 13] = [
    (Pick::Meeting, 28),
    (Pick::Claim, 14),
    (Pick::Document, 12),
    (Pick::Proposal, 4),
    (Pick::Programme, 2),
    (Pick::Agreement, 3),
    (Pick::Board, 6),
    (Pick::Appoint, 3),
    (Pick::Vacate, 2),
    (Pick::Sign, 9),
    (Pick::Withdraw, 5),
    (Pick::Ratify, 4),
    (Pick::Observer, 3),
];

const ORGANS: [Organ; 7] = [
    Organ::GeneralAssembly,
    Organ::ExecutiveBoard,
    Organ::CouncilOfForeignMinisters,
    Organ::MinisterialConference,
    Organ::IntergovernmentalExpertsMeeting,
    Organ::WorldIslamicEconomicForum,
    Organ::UnOicGeneralMeeting,
];

const PLACES: [&str; 16] = [
    "Astana",
    "Jeddah",
    "Ankara",
    "Doha",
    "Conakry",
    "Cairo",
    "Dakar",
    "Tashkent",
    "Baku",
    "Kuala Lumpur",
    "Islamabad",
    "Rabat",
    "Abuja",
    "Tunis",
    "Dushanbe",
    "Abu Dhabi",
];

const THEMES: [&str; 6] = [
    "Food security and sustainable agriculture in the OIC region",
    "Water management for arid lands",
    "Strategic food reserves",
    "Halal food standards and trade",
    "Smallholder farmers and rural development",
    "Digital agriculture and innovation",
];

const DOCUMENTS: [&str; 8] = [
    "Rules of Procedure",
    "Financial Regulations",
    "Annual Report",
    "Programme and Budget",
    "Resolution on Food Security Reserves",
    "Strategic Framework",
    "Audit Report",
    "Declaration",
];

const COUNTERPARTIES: [&str; 6] = [
    "Food and Agriculture Organization of the United Nations",
    "Islamic Development Bank",
    "World Food Programme",
    "International Fund for Agricultural Development",
    "Arab Organization for Agricultural Development",
    "Statistical, Economic and Social Research and Training Centre for Islamic Countries",
];

const RETRACTION_REASONS: [&str; 3] = [
    "the source reported a rumour",
    "the dispatch was about another organisation",
    "recorded twice",
];

const CORRECTION_REASONS: [&str; 3] = [
    "the dispatch misread the venue",
    "a later report gives the details",
    "transcription error",
];

const REASONS: [&str; 4] = [
    "term ended",
    "resigned",
    "appointed to another post",
    "died in office",
];

/// The generator: an iterator of valid events (see the module documentation).
#[derive(Debug, Clone)]
pub struct Synth {
    rng: Rng,
    n: usize,
    emitted: usize,
    first: i64,
    span: i64,
    last: i32,
    /// The last effective day emitted: no event may take effect before it.
    cursor: i32,
    /// How far (days) an imprecise date may push the cursor ahead of its even spread.
    slack: i32,
    parties: Vec<Party>,
    state: Vec<PartyState>,
    members: u64,
    ratifications: u64,
    signatures: u64,
    observers: u64,
    dg: Option<String>,
    persons: u64,
    chair: Option<usize>,
    in_force: bool,
    established: bool,
    adopted: bool,
    secretariat: bool,
    sessions: [u32; 7],
    docs: u64,
    /// Corrections and retractions per thousand events.
    overrides: u64,
    /// The last world events that never change the state and are not yet corrected or
    /// retracted: (seq, event), candidates for a correction or retraction.
    recent: VecDeque<(u64, Event)>,
}

fn day_of(s: &str) -> i32 {
    Day::parse(s).map_or(0, |d| d.0)
}

fn naive(d: i32) -> NaiveDate {
    Day(d).to_naive()
}

fn ymd(d: i32) -> String {
    Day(d).to_string()
}

fn point(s: &str) -> Option<EventDate> {
    EventDate::parse(s).ok()
}

impl Synth {
    /// A generator of `n` events from `seed`.
    pub fn new(n: usize, seed: u64) -> Synth {
        let first = day_of(FIRST_DAY);
        let last = day_of(LAST_DAY);
        let parties: Vec<Party> = OIC_MEMBER_STATES
            .iter()
            .map(|(c, _)| (*c).to_string())
            .chain((1..=PLACEHOLDERS).map(|k| format!("unidentified:signatory-{k}")))
            .filter_map(|c| Party::parse(&c).ok())
            .collect();
        let span = i64::from(last - first);
        let spacing = span / (n.max(1) as i64);
        Synth {
            rng: Rng(seed ^ 0x1055_F00D_5EED_0001),
            n,
            emitted: 0,
            first: i64::from(first),
            span,
            last,
            cursor: first,
            slack: (spacing * 4).clamp(2, 400) as i32,
            state: vec![PartyState::default(); parties.len()],
            parties,
            members: 0,
            ratifications: 0,
            signatures: 0,
            observers: 0,
            dg: None,
            persons: 0,
            chair: None,
            in_force: false,
            established: false,
            adopted: false,
            secretariat: false,
            sessions: [0; 7],
            docs: 0,
            overrides: OVERRIDES_PER_MILLE,
            recent: VecDeque::with_capacity(RECENT),
        }
    }

    /// The same generator without corrections and retractions: world events only, each taking
    /// effect on or after the one before (an append folds them as they come, never re-folds).
    pub fn without_overrides(mut self) -> Synth {
        self.overrides = 0;
        self
    }

    /// Now and then (see [`OVERRIDES_PER_MILLE`]) a correction or retraction of a recent
    /// stateless world event; `None` otherwise.
    fn maybe_override(&mut self) -> Option<Event> {
        if self.overrides == 0 || self.recent.is_empty() || self.rng.below(1000) >= self.overrides {
            return None;
        }
        let i = self.rng.below(self.recent.len() as u64) as usize;
        let (seq, target) = self.recent.remove(i)?;
        let sha = crate::chain::body_sha256(&target.canonical_json());
        let retract = self.rng.chance(40);
        let reason = if retract {
            self.rng.pick(&RETRACTION_REASONS).to_string()
        } else {
            self.rng.pick(&CORRECTION_REASONS).to_string()
        };
        let quote = format!(
            "The report of event {seq} is {}: {reason}.",
            if retract { "withdrawn" } else { "corrected" }
        );
        let source = self.source(quote);
        let kind = if retract {
            Kind::Retraction {
                retracts: seq,
                reason,
                target_sha256: Some(sha),
            }
        } else {
            let mut replacement = target;
            match &mut replacement.kind {
                Kind::MeetingHeld { place, .. } => {
                    // Another venue than the recorded one.
                    let k = 1 + self.rng.below(PLACES.len() as u64 - 1) as usize;
                    let at = PLACES
                        .iter()
                        .position(|p| Some(*p) == place.as_deref())
                        .unwrap_or(0);
                    *place = Some(PLACES[(at + k) % PLACES.len()].to_string());
                }
                _ => replacement.note = Some(format!("corrected: {reason}")),
            }
            Kind::Correction {
                corrects: seq,
                replacement: Box::new(replacement),
                reason,
                target_sha256: Some(sha),
            }
        };
        Some(Event {
            kind,
            date: None,
            end_date: None,
            source,
            date_source: None,
            inferred: None,
            note: None,
        })
    }

    /// A party index: mostly a member state, sometimes a placeholder.
    fn any_party(&mut self) -> usize {
        let states = OIC_MEMBER_STATES.len().min(self.parties.len());
        if self.parties.len() > states && self.rng.chance(25) {
            states + self.rng.below((self.parties.len() - states) as u64) as usize
        } else {
            self.rng.below(states.max(1) as u64) as usize
        }
    }

    /// A party index satisfying `ok`, after a few tries.
    fn party_where(&mut self, ok: impl Fn(&PartyState) -> bool) -> Option<usize> {
        for _ in 0..12 {
            let i = self.any_party();
            if ok(&self.state[i]) {
                return Some(i);
            }
        }
        // Fall back to a scan from a random start, so a rare state is still found.
        let len = self.parties.len();
        let start = self.rng.below(len.max(1) as u64) as usize;
        (0..len)
            .map(|k| (start + k) % len)
            .find(|&i| ok(&self.state[i]))
    }

    fn source(&mut self, quote: String) -> Source {
        let k = self.rng.below(5_000);
        if self.rng.chance(60) {
            Source {
                document: Some(format!("synthetic/{k:04}_{:016x}.txt", self.rng.next())),
                url: None,
                quote,
            }
        } else {
            Source {
                document: None,
                url: Some(format!("https://example.org/iofs/news/{k}")),
                quote,
            }
        }
    }

    /// The next event's date: (date, its text for quotes). Advances the cursor to the date's
    /// last day. `None` only if a formatted date failed to parse (never).
    fn date(&mut self) -> Option<(EventDate, String)> {
        let base = self.first + self.span * self.emitted as i64 / self.n.max(1) as i64;
        let d = self.cursor.max(base as i32).min(self.last);
        let nd = naive(d);
        let month_end = {
            let (y, m) = if nd.month() == 12 {
                (nd.year() + 1, 1)
            } else {
                (nd.year(), nd.month() + 1)
            };
            NaiveDate::from_ymd_opt(y, m, 1).map_or(d, |x| Day::from_naive(x).0 - 1)
        };
        let year_end =
            NaiveDate::from_ymd_opt(nd.year(), 12, 31).map_or(d, |x| Day::from_naive(x).0);
        let roll = self.rng.below(100);
        let (date, end) = if roll < 80 {
            (point(&ymd(d))?, d)
        } else if roll < 88 && month_end - d <= self.slack && month_end <= self.last {
            (
                point(&format!("{:04}-{:02}", nd.year(), nd.month()))?,
                month_end,
            )
        } else if roll < 91 && year_end - d <= self.slack && year_end <= self.last {
            (point(&format!("{:04}", nd.year()))?, year_end)
        } else if roll >= 91 {
            let back = 1 + self.rng.below(365) as i32;
            let nb = PartialDate::parse(&ymd(d - back)).ok()?;
            let na = PartialDate::parse(&ymd(d)).ok()?;
            (EventDate::bounded(nb, na).ok()?, d)
        } else {
            (point(&ymd(d))?, d)
        };
        self.cursor = end;
        let text = date.to_string();
        Some((date, text))
    }

    fn organ(&mut self) -> (usize, Organ) {
        let i = self.rng.below(ORGANS.len() as u64) as usize;
        (i, ORGANS[i])
    }

    fn pick(&mut self) -> Pick {
        let total: u64 = MIX.iter().map(|(_, w)| w).sum();
        let mut r = self.rng.below(total);
        for (p, w) in MIX {
            if r < w {
                return p;
            }
            r -= w;
        }
        Pick::Meeting
    }

    fn build(&mut self) -> Option<Event> {
        // Milestones, once each, near the start; entry into force after the tenth ratification.
        let milestone = if !self.established {
            self.established = true;
            Some(Kind::OrganisationEstablished {})
        } else if !self.adopted {
            self.adopted = true;
            Some(Kind::StatuteAdopted {})
        } else if !self.in_force && self.ratifications >= 10 && self.rng.chance(20) {
            self.in_force = true;
            Some(Kind::StatuteEnteredIntoForce {})
        } else if !self.secretariat && self.emitted * 20 >= self.n && self.rng.chance(10) {
            self.secretariat = true;
            Some(Kind::SecretariatOperational {})
        } else {
            None
        };
        let pick = self.pick();
        // Decide the date first (the only fallible step), then change the state.
        let (date, when) = self.date()?;
        let mut end_date = None;
        let mut takes_office = None;
        let (kind, quote) = match milestone {
            Some(k) => {
                let q = format!(
                    "The Islamic Organisation for Food Security: {} ({when}).",
                    k.type_name().replace('_', " ")
                );
                (k, q)
            }
            None => self.kind(pick, &when, &mut end_date, &mut takes_office)?,
        };
        let source = self.source(quote);
        let precise = date.is_exact();
        if !precise {
            end_date = None;
        }
        let (date_source, inferred) = if !precise && self.rng.chance(40) {
            let ds = self.source(format!("The event is reported in a dispatch dated {when}."));
            (
                Some(ds),
                Some(format!(
                    "the cited sentence gives no day; {when} is the window the sources allow"
                )),
            )
        } else {
            (None, None)
        };
        let note = self
            .rng
            .chance(5)
            .then(|| format!("synthetic event {} of {}", self.emitted + 1, self.n));
        if let Kind::OfficerAppointed {
            takes_office: Some(t),
            ..
        } = &kind
        {
            self.cursor = self.cursor.max(t.effective_day().0);
        }
        Some(Event {
            kind,
            date: Some(date),
            end_date,
            source,
            date_source,
            inferred,
            note,
        })
    }

    fn meeting(&mut self, when: &str, end_date: &mut Option<EventDate>) -> (Kind, String) {
        let (i, organ) = self.organ();
        self.sessions[i] += 1;
        let session = self.sessions[i];
        let place = self.rng.pick(&PLACES).to_string();
        let host = self
            .rng
            .chance(60)
            .then(|| self.parties[self.rng.below(OIC_MEMBER_STATES.len() as u64) as usize].clone());
        let online = self.rng.chance(5);
        let theme = self
            .rng
            .chance(30)
            .then(|| self.rng.pick(&THEMES).to_string());
        if self.rng.chance(50) {
            let last = self.cursor + 1 + self.rng.below(3) as i32;
            *end_date = point(&ymd(last.min(self.last)));
        }
        let q = format!(
            "The {} held its {session}th session in {place} ({when}), attended by delegations of the member states.",
            organ.title()
        );
        (
            Kind::MeetingHeld {
                organ,
                session: Some(session),
                extraordinary: self.rng.chance(5),
                place: Some(place),
                host,
                online,
                theme,
            },
            q,
        )
    }

    fn claim(&mut self, when: &str) -> (Kind, String) {
        let r = self.rng.below(100);
        let (about, value, party, topic) = if r < 30 {
            (
                ClaimAbout::MemberCount,
                serde_json::Value::from(self.members),
                None,
                "member count",
            )
        } else if r < 45 {
            (
                ClaimAbout::RatificationCount,
                serde_json::Value::from(self.ratifications),
                None,
                "ratifications",
            )
        } else if r < 55 {
            (
                ClaimAbout::StatuteInForce,
                serde_json::Value::from(self.in_force),
                None,
                "entry into force",
            )
        } else if r < 65 {
            (
                ClaimAbout::DirectorGeneral,
                self.dg
                    .clone()
                    .map_or(serde_json::Value::Null, serde_json::Value::from),
                None,
                "director general",
            )
        } else if let Some(c) = self.chair.filter(|_| r < 72) {
            (
                ClaimAbout::BoardChair,
                serde_json::Value::from(self.parties[c].code()),
                None,
                "board chair",
            )
        } else if let Some(p) = (r < 80).then(|| self.party_where(|s| s.member)).flatten() {
            (
                ClaimAbout::SignatoryOrdinal,
                serde_json::Value::from(self.state[p].ordinal.max(1)),
                Some(self.parties[p].clone()),
                "signatories",
            )
        } else {
            (
                ClaimAbout::Statement,
                serde_json::Value::from(format!(
                    "{} member states took part in the programmes reported on {when}",
                    self.members
                )),
                None,
                "activities",
            )
        };
        let q = format!(
            "According to the report of {when}, the organisation counted {} members and {} ratifications.",
            self.members, self.ratifications
        );
        (
            Kind::Claim {
                about,
                value,
                party,
                topic: self.rng.chance(80).then(|| topic.to_string()),
            },
            q,
        )
    }

    fn kind(
        &mut self,
        pick: Pick,
        when: &str,
        end_date: &mut Option<EventDate>,
        takes_office: &mut Option<EventDate>,
    ) -> Option<(Kind, String)> {
        let pick = match pick {
            Pick::Vacate if self.dg.is_none() => Pick::Appoint,
            p => p,
        };
        Some(match pick {
            Pick::Meeting => self.meeting(when, end_date),
            Pick::Claim => self.claim(when),
            Pick::Document => {
                self.docs += 1;
                let (i, organ) = self.organ();
                let title = format!("{} {}", self.rng.pick(&DOCUMENTS), self.docs);
                let q = format!("The {} adopted the {title} ({when}).", organ.title());
                (
                    Kind::DocumentAdopted {
                        title,
                        organ: Some(organ),
                        session: (self.sessions[i] > 0).then_some(self.sessions[i]),
                    },
                    q,
                )
            }
            Pick::Proposal => {
                let proposer = self
                    .rng
                    .chance(70)
                    .then(|| self.any_party())
                    .map(|p| self.parties[p].clone());
                let description = format!(
                    "a proposal to establish a regional {} (number {})",
                    self.rng.pick(&THEMES).to_lowercase(),
                    self.rng.below(1_000)
                );
                let q = format!("On {when} a delegation proposed {description}.");
                (
                    Kind::ProposalMade {
                        description,
                        proposer,
                    },
                    q,
                )
            }
            Pick::Programme => {
                let name = format!(
                    "Programme on {} {}",
                    self.rng.pick(&THEMES).to_lowercase(),
                    self.rng.below(10_000)
                );
                let q = format!("The organisation launched the {name} on {when}.");
                let organ = self.rng.chance(50).then_some(Organ::GeneralAssembly);
                (Kind::ProgrammeEstablished { name, organ }, q)
            }
            Pick::Agreement => {
                let counterparty = self.rng.pick(&COUNTERPARTIES).to_string();
                let title = format!(
                    "Memorandum of Understanding no. {}",
                    self.rng.below(100_000)
                );
                let q =
                    format!("On {when} the organisation and the {counterparty} signed a {title}.");
                (
                    Kind::AgreementSigned {
                        title,
                        counterparty,
                    },
                    q,
                )
            }
            Pick::Board => {
                let want = 3 + self.rng.below(7) as usize;
                let mut chosen: Vec<usize> = Vec::with_capacity(want);
                for _ in 0..want * 3 {
                    if chosen.len() == want {
                        break;
                    }
                    let p = self
                        .party_where(|s| s.member)
                        .unwrap_or_else(|| self.any_party());
                    if !chosen.contains(&p) {
                        chosen.push(p);
                    }
                }
                let mut seats: Vec<Seat> = chosen
                    .iter()
                    .enumerate()
                    .map(|(i, &p)| Seat {
                        party: Some(self.parties[p].clone()),
                        office: None,
                        role: if i == 0 { Role::Chair } else { Role::Member },
                    })
                    .collect();
                if self.rng.chance(50) {
                    seats.push(Seat {
                        party: None,
                        office: Some(Office::DirectorGeneral),
                        role: Role::PermanentMember,
                    });
                }
                let organ = if self.rng.chance(85) {
                    Organ::ExecutiveBoard
                } else {
                    Organ::GeneralAssembly
                };
                if organ == Organ::ExecutiveBoard {
                    self.chair = chosen.first().copied();
                }
                let q = format!(
                    "The General Assembly elected the new {} on {when}, chaired by {}.",
                    organ.title(),
                    chosen
                        .first()
                        .map_or("no one".into(), |&p| self.parties[p].display_name())
                );
                (Kind::BoardElected { organ, seats }, q)
            }
            Pick::Appoint => {
                self.persons += 1;
                let person = format!("Director General No. {}", self.persons);
                if self.rng.chance(30) {
                    let later =
                        (self.cursor + 1 + self.rng.below(self.slack as u64) as i32).min(self.last);
                    *takes_office = point(&ymd(later));
                }
                let term_years = self.rng.chance(70).then(|| 3 + self.rng.below(3) as u32);
                self.dg = Some(person.clone());
                let q = format!(
                    "On {when} the General Assembly appointed {person} as Director General."
                );
                (
                    Kind::OfficerAppointed {
                        office: Office::DirectorGeneral,
                        person,
                        takes_office: *takes_office,
                        term_years,
                    },
                    q,
                )
            }
            Pick::Vacate => {
                let person = self.dg.take().unwrap_or_default();
                let reason = self.rng.pick(&REASONS).to_string();
                let q =
                    format!("{person} left the office of Director General on {when} ({reason}).");
                (
                    Kind::OfficeVacated {
                        office: Office::DirectorGeneral,
                        person,
                        reason,
                    },
                    q,
                )
            }
            Pick::Sign => match self.party_where(|s| !s.member) {
                Some(p) => self.sign(p, when),
                None => self.meeting(when, end_date),
            },
            Pick::Withdraw => match self.party_where(|s| s.member) {
                Some(p) => {
                    self.state[p].member = false;
                    self.members -= 1;
                    let party = self.parties[p].clone();
                    let q = format!(
                        "{} notified its withdrawal from the Statute on {when}.",
                        party.display_name()
                    );
                    (Kind::MembershipWithdrawn { party }, q)
                }
                None => self.claim(when),
            },
            Pick::Ratify => match self.party_where(|s| s.member && !s.ratified) {
                Some(p) => {
                    self.state[p].ratified = true;
                    self.ratifications += 1;
                    let party = self.parties[p].clone();
                    let q = format!(
                        "{} deposited its instrument of ratification on {when}.",
                        party.display_name()
                    );
                    (Kind::StatuteRatified { party }, q)
                }
                None => self.claim(when),
            },
            Pick::Observer => match self.party_where(|s| !s.member && !s.observer) {
                Some(p) => {
                    self.state[p].observer = true;
                    self.observers += 1;
                    let party = self.parties[p].clone();
                    let q = format!(
                        "{} was admitted as an observer on {when}.",
                        party.display_name()
                    );
                    (Kind::ObserverAdmitted { party }, q)
                }
                None => self.meeting(when, end_date),
            },
        })
    }

    fn sign(&mut self, p: usize, when: &str) -> (Kind, String) {
        self.signatures += 1;
        self.members += 1;
        let s = &mut self.state[p];
        s.member = true;
        s.ordinal = self.signatures;
        if s.observer {
            s.observer = false;
            self.observers -= 1;
        }
        let party = self.parties[p].clone();
        let q = format!(
            "{} signed the Statute of the Islamic Organisation for Food Security on {when}, becoming its {}th signatory.",
            party.display_name(),
            self.signatures
        );
        (Kind::StatuteSigned { party }, q)
    }
}

/// World events that never change the state: correcting or retracting one cannot break a rule.
fn never_changes_state(kind: &Kind) -> bool {
    matches!(
        kind,
        Kind::MeetingHeld { .. }
            | Kind::DocumentAdopted { .. }
            | Kind::ProposalMade { .. }
            | Kind::ProgrammeEstablished { .. }
            | Kind::AgreementSigned { .. }
    )
}

impl Iterator for Synth {
    type Item = Event;

    fn next(&mut self) -> Option<Event> {
        while self.emitted < self.n {
            if let Some(ev) = self.maybe_override() {
                self.emitted += 1;
                return Some(ev);
            }
            // `build` fails only if a date it formatted did not parse; try again if so.
            if let Some(ev) = self.build() {
                self.emitted += 1;
                if self.overrides > 0 && never_changes_state(&ev.kind) {
                    if self.recent.len() == RECENT {
                        self.recent.pop_front();
                    }
                    self.recent.push_back((self.emitted as u64, ev.clone()));
                }
                return Some(ev);
            }
        }
        None
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.n - self.emitted;
        (left, Some(left))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;
    use crate::event::{parse_batch, Location};
    use crate::store::{AppendOptions, Ledger};

    #[test]
    fn five_thousand_events_append_and_verify() {
        let mut l = Ledger::in_memory().unwrap();
        let input = events(5_000, 42)
            .enumerate()
            .map(|(i, e)| Ok((Location::Index(i), e)));
        let a = l.append(input, AppendOptions::default()).unwrap();
        assert_eq!(a.count(), 5_000);
        let v = crate::audit::verify(&mut l, None).unwrap();
        assert!(v.ok, "{:?}", v.problems);
        assert_eq!(v.events, 5_000);
        let s = crate::query::state(&l, Day::parse(LAST_DAY).unwrap(), None).unwrap();
        assert!(s.statute.in_force);
        assert!(s.members.count > 0);
    }

    #[test]
    fn appended_in_small_batches_too() {
        let mut l = Ledger::in_memory().unwrap();
        let all: Vec<Event> = events(1_200, 3).collect();
        for chunk in all.chunks(97) {
            let input = chunk
                .iter()
                .cloned()
                .enumerate()
                .map(|(i, e)| Ok((Location::Index(i), e)));
            l.append(input, AppendOptions::default()).unwrap();
        }
        assert!(crate::audit::verify(&mut l, None).unwrap().ok);
    }

    #[test]
    fn the_same_seed_gives_the_same_history() {
        assert_eq!(jsonl(300, 9), jsonl(300, 9));
        assert_ne!(jsonl(300, 9), jsonl(300, 10));
        let mut out = Vec::new();
        let bytes = write_jsonl(&mut out, 300, 9).unwrap();
        assert_eq!(bytes as usize, out.len());
        assert_eq!(String::from_utf8(out).unwrap(), jsonl(300, 9));
    }

    #[test]
    fn jsonl_parses_back_into_the_same_events() {
        let text = jsonl(2_000, 5);
        let parsed = parse_batch(&text).unwrap();
        let generated: Vec<Event> = events(2_000, 5).collect();
        assert_eq!(parsed.len(), 2_000);
        for ((_, p), g) in parsed.iter().zip(&generated) {
            assert_eq!(p, g);
        }
    }

    /// World events take effect in order (each on or after the one before) within the
    /// history's range; a correction takes effect on its target's day, a retraction on none.
    #[test]
    fn effective_days_never_decrease_and_stay_in_range() {
        for n in [1_000, 20_000] {
            let first = Day::parse(FIRST_DAY).unwrap();
            let last = Day::parse(LAST_DAY).unwrap();
            let mut prev = first;
            let all: Vec<Event> = events(n, 1).collect();
            for e in &all {
                match &e.kind {
                    Kind::Retraction { .. } => assert_eq!(e.effective_day(), None),
                    Kind::Correction { corrects, .. } => {
                        let target = &all[*corrects as usize - 1];
                        assert_eq!(e.effective_day(), target.effective_day());
                    }
                    _ => {
                        let d = e.effective_day().unwrap();
                        assert!(d >= prev, "{d} before {prev}");
                        assert!(e.date.unwrap().window().0 <= last);
                        prev = d;
                    }
                }
            }
            assert!(prev > Day::parse("2020-01-01").unwrap(), "{prev}");
        }
    }

    /// Without overrides, every event (no retraction, no correction) takes effect on or after
    /// the one before: an append folds the batch as it comes.
    #[test]
    fn without_overrides_the_history_is_in_replay_order() {
        let mut prev = Day::parse(FIRST_DAY).unwrap();
        for e in Synth::new(20_000, 1).without_overrides() {
            assert!(!e.kind.is_record_event(), "{}", e.canonical_json());
            let d = e.effective_day().unwrap();
            assert!(d >= prev, "{d} before {prev}");
            prev = d;
        }
    }

    /// Every correction and retraction names, by seq (counted from 1) and by SHA-256, an
    /// earlier world event that never changes the state, at most one override per target, and
    /// reaches back a bounded distance; a correction keeps its target's type and date.
    #[test]
    fn overrides_target_earlier_stateless_events_once_each() {
        let all: Vec<Event> = events(30_000, 4).collect();
        let mut targets = BTreeSet::new();
        let (mut retractions, mut corrections) = (0, 0);
        for (i, e) in all.iter().enumerate() {
            let seq = i as u64 + 1;
            let (target, sha) = match &e.kind {
                Kind::Retraction {
                    retracts,
                    target_sha256,
                    ..
                } => {
                    retractions += 1;
                    (*retracts, target_sha256)
                }
                Kind::Correction {
                    corrects,
                    target_sha256,
                    replacement,
                    ..
                } => {
                    corrections += 1;
                    let t = &all[*corrects as usize - 1];
                    assert_eq!(replacement.kind.type_name(), t.kind.type_name());
                    assert_eq!(replacement.date, t.date);
                    assert_ne!(**replacement, *t, "a correction changes something");
                    (*corrects, target_sha256)
                }
                _ => continue,
            };
            assert!(
                target < seq && seq - target < 40 * RECENT as u64,
                "{seq} -> {target}"
            );
            let t = &all[target as usize - 1];
            assert!(never_changes_state(&t.kind), "{}", t.canonical_json());
            assert_eq!(
                sha.as_deref(),
                Some(crate::chain::body_sha256(&t.canonical_json()).as_str())
            );
            assert!(targets.insert(target), "seq {target} overridden twice");
        }
        // About one in a hundred, both kinds.
        let total = retractions + corrections;
        assert!((150..=450).contains(&total), "{total}");
        assert!(
            retractions > 50 && corrections > 50,
            "{retractions} {corrections}"
        );
    }

    /// A history is written for an empty ledger: appended after other events, its first
    /// correction or retraction is refused (its target's SHA-256 does not match) and nothing
    /// of the batch is stored.
    #[test]
    fn appended_to_a_ledger_that_is_not_empty_the_first_override_is_refused() {
        let mut l = Ledger::in_memory().unwrap();
        let head = |l: &Ledger| l.head().unwrap().seq;
        let first = events(3, 99)
            .enumerate()
            .map(|(i, e)| Ok((Location::Index(i), e)));
        l.append(first, AppendOptions::default()).unwrap();
        let before = head(&l);
        let input = events(2_000, 5)
            .enumerate()
            .map(|(i, e)| Ok((Location::Index(i), e)));
        let err = l.append(input, AppendOptions::default()).unwrap_err();
        assert!(err.to_string().contains("target_sha256"), "{err}");
        assert_eq!(head(&l), before);
    }

    #[test]
    fn the_mix_is_realistic_and_parties_are_bounded() {
        let mut types: BTreeMap<&str, usize> = BTreeMap::new();
        let mut precisions: BTreeMap<String, usize> = BTreeMap::new();
        let mut parties = BTreeSet::new();
        for e in events(50_000, 11) {
            *types.entry(e.kind.type_name()).or_default() += 1;
            if let Some(d) = e.date {
                *precisions
                    .entry(format!("{:?}", d.precision()))
                    .or_default() += 1;
            }
            parties.extend(e.kind.parties().into_iter().cloned());
        }
        assert!(parties.len() <= OIC_MEMBER_STATES.len() + PLACEHOLDERS);
        for t in [
            "organisation_established",
            "statute_adopted",
            "statute_entered_into_force",
            "secretariat_operational",
            "meeting_held",
            "claim",
            "document_adopted",
            "board_elected",
            "officer_appointed",
            "office_vacated",
            "statute_signed",
            "membership_withdrawn",
            "statute_ratified",
            "observer_admitted",
            "proposal_made",
            "programme_established",
            "agreement_signed",
            "retraction",
            "correction",
        ] {
            assert!(types.get(t).is_some_and(|&c| c > 0), "no {t}: {types:?}");
        }
        assert_eq!(types["statute_entered_into_force"], 1);
        assert!(types["meeting_held"] > types["statute_signed"]);
        for p in ["Day", "Month", "Year", "Bounded"] {
            assert!(precisions.get(p).is_some_and(|&c| c > 0), "{precisions:?}");
        }
        assert!(precisions["Day"] > 40_000 / 2, "{precisions:?}");
    }
}
