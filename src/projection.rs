//! The projection: a pure fold of world events, in replay order, into facts keyed by subject.
//!
//! Each event changes a few keys (`member:KAZ`, `count:members`, `office:director_general`…).
//! The store keeps every change as a row `(key, day, ord, fact)`, so the value of any key at any
//! day is one index seek; in memory the fold keeps only the current value of each key.
//!
//! **Architecture invariant:** the append rules are checked here, in [`Projection::apply`], and
//! nowhere else, so appends, `rebuild` and `verify` hold the log to exactly the same rules. The
//! fold does no I/O.

use std::collections::{BTreeSet, HashMap};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::date::{Day, EventDate, PartialDate};
use crate::event::{Event, Kind, Office, Organ, Seat};
use crate::party::Party;

/// A counter kept as a time series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Counter {
    /// Current members.
    Members,
    /// Parties that have ratified.
    Ratifications,
    /// Current observers.
    Observers,
    /// Signatures ever made (gives each signatory its ordinal).
    Signatures,
}

/// A one-off milestone of the organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Milestone {
    /// `organisation_established`.
    Established,
    /// `statute_adopted`.
    StatuteAdopted,
    /// `statute_entered_into_force`.
    StatuteInForce,
    /// `secretariat_operational`.
    SecretariatOperational,
    /// The first `statute_signed` in replay order: the signature whose window ends first (the
    /// rules on signatures before adoption or establishment consult it).
    FirstSignature,
}

/// The subject of a time series of facts.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Key {
    /// A party's membership.
    Member(Party),
    /// A party's ratification.
    Ratified(Party),
    /// A party's observer status.
    Observer(Party),
    /// Who holds an office.
    Office(Office),
    /// A board's composition.
    Board(Organ),
    /// A milestone.
    Milestone(Milestone),
    /// A counter.
    Count(Counter),
}

impl Key {
    /// The key as stored.
    pub fn encode(&self) -> String {
        match self {
            Key::Member(p) => format!("member:{p}"),
            Key::Ratified(p) => format!("ratified:{p}"),
            Key::Observer(p) => format!("observer:{p}"),
            Key::Office(o) => format!("office:{}", o.as_str()),
            Key::Board(o) => format!("board:{}", o.as_str()),
            Key::Milestone(m) => format!(
                "milestone:{}",
                match m {
                    Milestone::Established => "established",
                    Milestone::StatuteAdopted => "statute_adopted",
                    Milestone::StatuteInForce => "statute_in_force",
                    Milestone::SecretariatOperational => "secretariat_operational",
                    Milestone::FirstSignature => "first_signature",
                }
            ),
            Key::Count(c) => format!(
                "count:{}",
                match c {
                    Counter::Members => "members",
                    Counter::Ratifications => "ratifications",
                    Counter::Observers => "observers",
                    Counter::Signatures => "signatures",
                }
            ),
        }
    }
}

impl Key {
    /// The key from its stored form (what [`Key::encode`] writes); `None` for anything else.
    pub fn decode(s: &str) -> Option<Key> {
        use serde::de::{value::Error, IntoDeserializer};
        let (kind, name) = s.split_once(':')?;
        let named = |n: &str| -> Option<Organ> {
            Organ::deserialize(IntoDeserializer::<Error>::into_deserializer(n)).ok()
        };
        Some(match kind {
            "member" => Key::Member(Party::parse(name).ok()?),
            "ratified" => Key::Ratified(Party::parse(name).ok()?),
            "observer" => Key::Observer(Party::parse(name).ok()?),
            "office" => Key::Office(
                Office::deserialize(IntoDeserializer::<Error>::into_deserializer(name)).ok()?,
            ),
            "board" => Key::Board(named(name)?),
            "milestone" => Key::Milestone(match name {
                "established" => Milestone::Established,
                "statute_adopted" => Milestone::StatuteAdopted,
                "statute_in_force" => Milestone::StatuteInForce,
                "secretariat_operational" => Milestone::SecretariatOperational,
                "first_signature" => Milestone::FirstSignature,
                _ => return None,
            }),
            "count" => Key::Count(match name {
                "members" => Counter::Members,
                "ratifications" => Counter::Ratifications,
                "observers" => Counter::Observers,
                "signatures" => Counter::Signatures,
                _ => return None,
            }),
            _ => return None,
        })
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.encode())
    }
}

/// The value of a key from some day on.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "fact", rename_all = "snake_case")]
pub enum Fact {
    /// A member since the signature `seq`, the `ordinal`-th signature.
    Member {
        /// Date of the signature as written.
        since: EventDate,
        /// The signature's seq.
        seq: u64,
        /// Place in signature order.
        ordinal: u64,
    },
    /// No longer a member.
    Withdrawn {
        /// Date of the withdrawal.
        since: EventDate,
        /// The withdrawal's seq.
        seq: u64,
    },
    /// Ratified, or an observer, or a milestone reached.
    Since {
        /// Date as written.
        since: EventDate,
        /// The event's seq.
        seq: u64,
    },
    /// Observer status ended (the observer became a member).
    Ended {
        /// When.
        since: EventDate,
        /// The event's seq.
        seq: u64,
    },
    /// Holder of an office (`person` null when vacant).
    Holder {
        /// The holder, or null when vacant.
        person: Option<String>,
        /// Since when.
        since: EventDate,
        /// The event's seq.
        seq: u64,
        /// Term in years, when the appointment gives one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        term_years: Option<u32>,
        /// The reason the office fell vacant.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        vacated_reason: Option<String>,
        /// Who held it before it fell vacant.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        previous: Option<String>,
    },
    /// A board's composition.
    Board {
        /// Its seats.
        seats: Vec<Seat>,
        /// Elected when.
        since: EventDate,
        /// The election's seq.
        seq: u64,
    },
    /// A counter's value.
    Count {
        /// The value.
        value: u64,
    },
}

/// A fact as stored, every variant's fields side by side: one pass over the JSON, where serde's
/// internally tagged enums buffer the whole object first (a state query decodes hundreds).
#[derive(Deserialize)]
struct FactRepr<'a> {
    #[serde(borrow)]
    fact: std::borrow::Cow<'a, str>,
    since: Option<EventDate>,
    seq: Option<u64>,
    ordinal: Option<u64>,
    person: Option<String>,
    term_years: Option<u32>,
    vacated_reason: Option<String>,
    previous: Option<String>,
    seats: Option<Vec<Seat>>,
    value: Option<u64>,
}

impl<'de> Deserialize<'de> for Fact {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let r = FactRepr::deserialize(d)?;
        fn need<T, E: Error>(v: Option<T>, field: &'static str) -> Result<T, E> {
            v.ok_or_else(|| E::missing_field(field))
        }
        Ok(match r.fact.as_ref() {
            "member" => Fact::Member {
                since: need(r.since, "since")?,
                seq: need(r.seq, "seq")?,
                ordinal: need(r.ordinal, "ordinal")?,
            },
            "withdrawn" => Fact::Withdrawn {
                since: need(r.since, "since")?,
                seq: need(r.seq, "seq")?,
            },
            "since" => Fact::Since {
                since: need(r.since, "since")?,
                seq: need(r.seq, "seq")?,
            },
            "ended" => Fact::Ended {
                since: need(r.since, "since")?,
                seq: need(r.seq, "seq")?,
            },
            "holder" => Fact::Holder {
                person: r.person,
                since: need(r.since, "since")?,
                seq: need(r.seq, "seq")?,
                term_years: r.term_years,
                vacated_reason: r.vacated_reason,
                previous: r.previous,
            },
            "board" => Fact::Board {
                seats: need(r.seats, "seats")?,
                since: need(r.since, "since")?,
                seq: need(r.seq, "seq")?,
            },
            "count" => Fact::Count {
                value: need(r.value, "value")?,
            },
            other => {
                return Err(D::Error::unknown_variant(
                    other,
                    &[
                        "member",
                        "withdrawn",
                        "since",
                        "ended",
                        "holder",
                        "board",
                        "count",
                    ],
                ))
            }
        })
    }
}

impl Fact {
    /// Reads a fact as the read models store it. The flat facts (every value a plain string or
    /// an unsigned integer, as [`Fact`]'s serializer writes them) are read by a direct scan; a
    /// state query reads hundreds. Anything else, and anything the scan is unsure of, goes to
    /// the JSON reader, so the scan never accepts what the reader refuses (a test holds them
    /// equal on every variant and on damaged rows).
    pub fn decode(text: &str) -> Result<Fact, serde_json::Error> {
        match Fact::decode_flat(text) {
            Some(f) => Ok(f),
            None => serde_json::from_str(text),
        }
    }

    fn decode_flat(text: &str) -> Option<Fact> {
        enum V<'a> {
            S(&'a str),
            N(u64),
            Bounds(&'a str, &'a str),
        }
        let rest = text.strip_prefix("{\"fact\":\"")?;
        let (tag, mut rest) = cut(rest, b'"')?;
        let (mut since, mut seq, mut ordinal, mut value) = (None, None, None, None);
        let (mut person, mut term_years, mut vacated_reason, mut previous) =
            (None, None, None, None);
        fn once<T>(slot: &mut Option<T>, v: T) -> Option<()> {
            match slot {
                Some(_) => None,
                None => {
                    *slot = Some(v);
                    Some(())
                }
            }
        }
        while rest != "}" {
            let (name, r) = cut(rest.strip_prefix(",\"")?, b'"')?;
            let r = r.strip_prefix(':')?;
            let v = if let Some(r) = r.strip_prefix("{\"not_before\":\"") {
                // Bounds, exactly as the serializer writes them.
                let (a, r) = cut(r, b'"')?;
                let (b, r) = cut(r.strip_prefix(",\"not_after\":\"")?, b'"')?;
                rest = r.strip_prefix('}')?;
                V::Bounds(a, b)
            } else if let Some(r) = r.strip_prefix('"') {
                let (s, r) = cut(r, b'"')?;
                if s.bytes().any(|b| b == b'\\' || b < 0x20) {
                    return None;
                }
                rest = r;
                V::S(s)
            } else {
                let end = r.bytes().position(|c| !c.is_ascii_digit())?;
                let digits = &r[..end];
                if digits.is_empty() || (digits.len() > 1 && digits.starts_with('0')) {
                    return None;
                }
                rest = &r[end..];
                V::N(digits.parse().ok()?)
            };
            match (name, v) {
                ("since", V::S(s)) => once(&mut since, EventDate::parse(s).ok()?)?,
                ("since", V::Bounds(a, b)) => {
                    let (a, b) = (PartialDate::parse(a).ok()?, PartialDate::parse(b).ok()?);
                    once(&mut since, EventDate::bounded(a, b).ok()?)?
                }
                ("seq", V::N(n)) => once(&mut seq, n)?,
                ("ordinal", V::N(n)) => once(&mut ordinal, n)?,
                ("value", V::N(n)) => once(&mut value, n)?,
                ("term_years", V::N(n)) => once(&mut term_years, u32::try_from(n).ok()?)?,
                ("person", V::S(s)) => once(&mut person, s.to_string())?,
                ("vacated_reason", V::S(s)) => once(&mut vacated_reason, s.to_string())?,
                ("previous", V::S(s)) => once(&mut previous, s.to_string())?,
                _ => return None,
            }
        }
        let no_office = person.is_none()
            && term_years.is_none()
            && vacated_reason.is_none()
            && previous.is_none();
        let plain = no_office && ordinal.is_none() && value.is_none();
        Some(match tag {
            "member" if no_office && value.is_none() => Fact::Member {
                since: since?,
                seq: seq?,
                ordinal: ordinal?,
            },
            "withdrawn" if plain => Fact::Withdrawn {
                since: since?,
                seq: seq?,
            },
            "since" if plain => Fact::Since {
                since: since?,
                seq: seq?,
            },
            "ended" if plain => Fact::Ended {
                since: since?,
                seq: seq?,
            },
            "holder" if ordinal.is_none() && value.is_none() => Fact::Holder {
                person,
                since: since?,
                seq: seq?,
                term_years,
                vacated_reason,
                previous,
            },
            "count" if since.is_none() && seq.is_none() && no_office && ordinal.is_none() => {
                Fact::Count { value: value? }
            }
            _ => return None,
        })
    }
}

/// `s` split around the first byte `b` (an ASCII byte), if any. A plain loop: the pieces a
/// fact is read in are short, where `memchr`'s setup costs more than it saves.
pub(crate) fn cut(s: &str, b: u8) -> Option<(&str, &str)> {
    let i = s.bytes().position(|c| c == b)?;
    Some((s.get(..i)?, s.get(i + 1..)?))
}

/// An append rule (see `ARCHITECTURE.md`, "Invariants").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// A member cannot sign again.
    MemberCannotSignAgain,
    /// Only a member can withdraw.
    OnlyAMemberCanWithdraw,
    /// A party ratifies at most once.
    RatifiesAtMostOnce,
    /// An office can be vacated only by its holder.
    OnlyTheHolderCanVacate,
    /// A member is not also an observer; an observer is not admitted twice.
    ObserverIsNotAMember,
    /// The Statute enters into force once.
    EntersIntoForceOnce,
    /// Retraction and correction targets exist, are world events, and are not retracted.
    TargetMustBeLive,
    /// Dates are not after the day of recording.
    NoFutureDates,
    /// `--expect-head` must match the log's last seq.
    ExpectedHead,
    /// The Statute is adopted once.
    StatuteAdoptedOnce,
    /// No signature before the Statute's adoption.
    NoSignatureBeforeAdoption,
    /// No signature before the organisation's establishment.
    NoSignatureBeforeEstablishment,
    /// The organisation is established once.
    EstablishedOnce,
    /// The Secretariat becomes operational once.
    OperationalOnce,
}

impl Rule {
    /// The rule in words.
    pub fn text(self) -> &'static str {
        match self {
            Rule::MemberCannotSignAgain => "a member cannot sign again",
            Rule::OnlyAMemberCanWithdraw => "only a member can withdraw",
            Rule::RatifiesAtMostOnce => "a party ratifies at most once",
            Rule::OnlyTheHolderCanVacate => "an office can be vacated only by its holder",
            Rule::ObserverIsNotAMember => {
                "a member is never also an observer, and an observer is admitted once"
            }
            Rule::EntersIntoForceOnce => "the Statute enters into force once",
            Rule::TargetMustBeLive => {
                "a retraction or correction must target an existing, unretracted world event"
            }
            Rule::NoFutureDates => "a date may not be after the day of recording",
            Rule::ExpectedHead => "--expect-head must equal the log's last seq",
            Rule::StatuteAdoptedOnce => "the Statute is adopted once",
            Rule::NoSignatureBeforeAdoption => "the Statute cannot be signed before it was adopted",
            Rule::NoSignatureBeforeEstablishment => {
                "the Statute cannot be signed before the organisation was established"
            }
            Rule::EstablishedOnce => "the organisation is established once",
            Rule::OperationalOnce => "the Secretariat becomes operational once",
        }
    }
}

/// An event that breaks a rule, at replay position `day`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Which rule.
    pub rule: Rule,
    /// The offending field.
    pub field: &'static str,
    /// What exactly.
    pub detail: String,
    /// The seq of the other event the rule holds this one against, when that one is the likelier
    /// culprit (a milestone refused because of a signature dated before it names the signature).
    pub blame: Option<u64>,
}

/// The fold's state: the current fact of every key.
#[derive(Debug, Default, Clone)]
pub struct Projection {
    current: HashMap<Key, Fact>,
}

/// One change the fold made: `key` holds `fact` from this event on.
pub type Change = (Key, Fact);

impl Projection {
    /// An empty projection (the state before any event).
    pub fn new() -> Projection {
        Projection::default()
    }

    /// A projection seeded with known facts (the state at some point of the replay).
    pub fn from_facts(facts: impl IntoIterator<Item = (Key, Fact)>) -> Projection {
        Projection {
            current: facts.into_iter().collect(),
        }
    }

    /// The current fact of a key.
    pub fn get(&self, key: &Key) -> Option<&Fact> {
        self.current.get(key)
    }

    /// All current facts.
    pub fn facts(&self) -> impl Iterator<Item = (&Key, &Fact)> {
        self.current.iter()
    }

    fn count(&self, c: Counter) -> u64 {
        match self.current.get(&Key::Count(c)) {
            Some(Fact::Count { value }) => *value,
            _ => 0,
        }
    }

    fn is_member(&self, p: &Party) -> bool {
        matches!(
            self.current.get(&Key::Member(p.clone())),
            Some(Fact::Member { .. })
        )
    }

    fn is_observer(&self, p: &Party) -> bool {
        matches!(
            self.current.get(&Key::Observer(p.clone())),
            Some(Fact::Since { .. })
        )
    }

    /// Seeds a key's fact loaded from the read models, unless the fold already holds one.
    pub fn seed(&mut self, key: Key, fact: Fact) {
        self.current.entry(key).or_insert(fact);
    }

    /// Every key [`Projection::apply`] may consult for an event of this kind: a fold that starts
    /// mid-log loads only these keys from the read models, not the whole state. **Keep in step
    /// with `apply`**: a key read there and missing here would be judged as absent (the property
    /// tests that append in many batches and compare with a rebuild catch it).
    pub fn reads(kind: &Kind) -> Vec<Key> {
        match kind {
            Kind::StatuteSigned { party } => vec![
                Key::Member(party.clone()),
                Key::Observer(party.clone()),
                Key::Count(Counter::Signatures),
                Key::Count(Counter::Members),
                Key::Count(Counter::Observers),
                Key::Milestone(Milestone::FirstSignature),
                Key::Milestone(Milestone::StatuteAdopted),
                Key::Milestone(Milestone::Established),
            ],
            Kind::MembershipWithdrawn { party } => {
                vec![Key::Member(party.clone()), Key::Count(Counter::Members)]
            }
            Kind::StatuteRatified { party } => vec![
                Key::Ratified(party.clone()),
                Key::Count(Counter::Ratifications),
            ],
            Kind::ObserverAdmitted { party } => vec![
                Key::Member(party.clone()),
                Key::Observer(party.clone()),
                Key::Count(Counter::Observers),
            ],
            Kind::StatuteEnteredIntoForce {} => vec![Key::Milestone(Milestone::StatuteInForce)],
            Kind::OrganisationEstablished {} => vec![
                Key::Milestone(Milestone::Established),
                Key::Milestone(Milestone::FirstSignature),
            ],
            Kind::StatuteAdopted {} => vec![
                Key::Milestone(Milestone::StatuteAdopted),
                Key::Milestone(Milestone::FirstSignature),
            ],
            Kind::SecretariatOperational {} => {
                vec![Key::Milestone(Milestone::SecretariatOperational)]
            }
            Kind::OfficeVacated { office, .. } => vec![Key::Office(*office)],
            Kind::OfficerAppointed { .. }
            | Kind::BoardElected { .. }
            | Kind::ProposalMade { .. }
            | Kind::MeetingHeld { .. }
            | Kind::DocumentAdopted { .. }
            | Kind::ProgrammeEstablished { .. }
            | Kind::AgreementSigned { .. }
            | Kind::Claim { .. }
            | Kind::Retraction { .. }
            | Kind::Correction { .. } => vec![],
        }
    }

    /// Applies one world event (`seq` is the seq that reports it: the event's own, or the
    /// correction's). Checks the rules first; on a violation nothing changes.
    pub fn apply(&mut self, seq: u64, ev: &Event) -> Result<Vec<Change>, Violation> {
        let mut ch: Vec<Change> = Vec::new();
        let since = match &ev.kind {
            Kind::OfficerAppointed {
                takes_office: Some(t),
                ..
            } => *t,
            _ => match ev.date {
                Some(d) => d,
                None => return Ok(ch),
            },
        };
        let violation = |rule, field, detail: String| {
            Err(Violation {
                rule,
                field,
                detail,
                blame: None,
            })
        };
        match &ev.kind {
            Kind::StatuteSigned { party } => {
                // Definitely before: the signature's window ends before the milestone's begins.
                // (In replay order a milestone already folded ends no later than this signature,
                // so this fires only for a fold seeded out of order; the milestone's own event
                // checks the signatures folded before it.)
                for (m, rule, what) in [
                    (
                        Milestone::StatuteAdopted,
                        Rule::NoSignatureBeforeAdoption,
                        "the Statute was adopted",
                    ),
                    (
                        Milestone::Established,
                        Rule::NoSignatureBeforeEstablishment,
                        "the organisation was established",
                    ),
                ] {
                    if let Some(Fact::Since { since: s, seq: sq }) =
                        self.current.get(&Key::Milestone(m))
                    {
                        if since.window().1 < s.window().0 {
                            return violation(
                                rule,
                                "date",
                                format!("{party} signed {since}, before {what} ({s}, seq {sq})"),
                            );
                        }
                    }
                }
                if let Some(Fact::Member {
                    since: s, seq: sq, ..
                }) = self.current.get(&Key::Member(party.clone()))
                {
                    return violation(
                        Rule::MemberCannotSignAgain,
                        "party",
                        format!("{party} is already a member (signed {s}, seq {sq})"),
                    );
                }
                let ordinal = self.count(Counter::Signatures) + 1;
                ch.push((
                    Key::Member(party.clone()),
                    Fact::Member {
                        since,
                        seq,
                        ordinal,
                    },
                ));
                ch.push((
                    Key::Count(Counter::Signatures),
                    Fact::Count { value: ordinal },
                ));
                self.first(&mut ch, Milestone::FirstSignature, since, seq);
                ch.push((
                    Key::Count(Counter::Members),
                    Fact::Count {
                        value: self.count(Counter::Members) + 1,
                    },
                ));
                if self.is_observer(party) {
                    ch.push((Key::Observer(party.clone()), Fact::Ended { since, seq }));
                    ch.push((
                        Key::Count(Counter::Observers),
                        Fact::Count {
                            value: self.count(Counter::Observers).saturating_sub(1),
                        },
                    ));
                }
            }
            Kind::MembershipWithdrawn { party } => {
                if !self.is_member(party) {
                    return violation(
                        Rule::OnlyAMemberCanWithdraw,
                        "party",
                        format!("{party} is not a member at {since}"),
                    );
                }
                ch.push((Key::Member(party.clone()), Fact::Withdrawn { since, seq }));
                ch.push((
                    Key::Count(Counter::Members),
                    Fact::Count {
                        value: self.count(Counter::Members).saturating_sub(1),
                    },
                ));
            }
            Kind::StatuteRatified { party } => {
                if let Some(Fact::Since { since: s, seq: sq }) =
                    self.current.get(&Key::Ratified(party.clone()))
                {
                    return violation(
                        Rule::RatifiesAtMostOnce,
                        "party",
                        format!("{party} already ratified ({s}, seq {sq})"),
                    );
                }
                ch.push((Key::Ratified(party.clone()), Fact::Since { since, seq }));
                ch.push((
                    Key::Count(Counter::Ratifications),
                    Fact::Count {
                        value: self.count(Counter::Ratifications) + 1,
                    },
                ));
            }
            Kind::ObserverAdmitted { party } => {
                if self.is_member(party) {
                    return violation(
                        Rule::ObserverIsNotAMember,
                        "party",
                        format!("{party} is a member at {since}, so it cannot be admitted as an observer"),
                    );
                }
                if self.is_observer(party) {
                    return violation(
                        Rule::ObserverIsNotAMember,
                        "party",
                        format!("{party} is already an observer at {since}"),
                    );
                }
                ch.push((Key::Observer(party.clone()), Fact::Since { since, seq }));
                ch.push((
                    Key::Count(Counter::Observers),
                    Fact::Count {
                        value: self.count(Counter::Observers) + 1,
                    },
                ));
            }
            Kind::StatuteEnteredIntoForce {} => {
                let key = Key::Milestone(Milestone::StatuteInForce);
                if let Some(Fact::Since { since: s, seq: sq }) = self.current.get(&key) {
                    return violation(
                        Rule::EntersIntoForceOnce,
                        "type",
                        format!("the Statute is already in force since {s} (seq {sq}); record another source's date as a claim"),
                    );
                }
                ch.push((key, Fact::Since { since, seq }));
            }
            Kind::OrganisationEstablished {} => {
                if let Some(Fact::Since { since: s, seq: sq }) =
                    self.current.get(&Key::Milestone(Milestone::Established))
                {
                    return violation(
                        Rule::EstablishedOnce,
                        "type",
                        format!("the organisation was already established {s} (seq {sq}); record another source's date as a claim, or correct that event"),
                    );
                }
                self.no_signature_before(since, Rule::NoSignatureBeforeEstablishment)?;
                self.first(&mut ch, Milestone::Established, since, seq)
            }
            Kind::StatuteAdopted {} => {
                if let Some(Fact::Since { since: s, seq: sq }) =
                    self.current.get(&Key::Milestone(Milestone::StatuteAdopted))
                {
                    return violation(
                        Rule::StatuteAdoptedOnce,
                        "type",
                        format!("the Statute was already adopted {s} (seq {sq}); record another source's date as a claim, or correct that event"),
                    );
                }
                self.no_signature_before(since, Rule::NoSignatureBeforeAdoption)?;
                self.first(&mut ch, Milestone::StatuteAdopted, since, seq)
            }
            Kind::SecretariatOperational {} => {
                if let Some(Fact::Since { since: s, seq: sq }) = self
                    .current
                    .get(&Key::Milestone(Milestone::SecretariatOperational))
                {
                    return violation(
                        Rule::OperationalOnce,
                        "type",
                        format!("the Secretariat was already operational {s} (seq {sq}); record another source's date as a claim, or correct that event"),
                    );
                }
                self.first(&mut ch, Milestone::SecretariatOperational, since, seq)
            }
            Kind::OfficerAppointed {
                office,
                person,
                term_years,
                ..
            } => {
                ch.push((
                    Key::Office(*office),
                    Fact::Holder {
                        person: Some(person.clone()),
                        since,
                        seq,
                        term_years: *term_years,
                        vacated_reason: None,
                        previous: None,
                    },
                ));
            }
            Kind::OfficeVacated {
                office,
                person,
                reason,
            } => {
                let holder = match self.current.get(&Key::Office(*office)) {
                    Some(Fact::Holder {
                        person: Some(h), ..
                    }) => Some(h.clone()),
                    _ => None,
                };
                if holder.as_deref() != Some(person.as_str()) {
                    return violation(
                        Rule::OnlyTheHolderCanVacate,
                        "person",
                        match holder {
                            Some(h) => format!(
                                "{person} does not hold {} at {since}; {h} does",
                                office.as_str()
                            ),
                            None => format!("{} is vacant at {since}", office.as_str()),
                        },
                    );
                }
                ch.push((
                    Key::Office(*office),
                    Fact::Holder {
                        person: None,
                        since,
                        seq,
                        term_years: None,
                        vacated_reason: Some(reason.clone()),
                        previous: holder,
                    },
                ));
            }
            Kind::BoardElected { organ, seats } => {
                ch.push((
                    Key::Board(*organ),
                    Fact::Board {
                        seats: seats.clone(),
                        since,
                        seq,
                    },
                ));
            }
            Kind::ProposalMade { .. }
            | Kind::MeetingHeld { .. }
            | Kind::DocumentAdopted { .. }
            | Kind::ProgrammeEstablished { .. }
            | Kind::AgreementSigned { .. }
            | Kind::Claim { .. }
            | Kind::Retraction { .. }
            | Kind::Correction { .. } => {}
        }
        for (k, f) in &ch {
            self.current.insert(k.clone(), f.clone());
        }
        Ok(ch)
    }

    /// Refuses a milestone (adoption, establishment) dated after a signature already folded:
    /// the first signature in replay order ends first, so it is the one to check.
    fn no_signature_before(&self, since: EventDate, rule: Rule) -> Result<(), Violation> {
        if let Some(Fact::Since { since: s, seq: sq }) =
            self.current.get(&Key::Milestone(Milestone::FirstSignature))
        {
            if s.window().1 < since.window().0 {
                return Err(Violation {
                    rule,
                    field: "date",
                    detail: format!(
                        "the signature seq {sq} is dated {s}, before this event's date {since}"
                    ),
                    blame: Some(*sq),
                });
            }
        }
        Ok(())
    }

    fn first(&self, ch: &mut Vec<Change>, m: Milestone, since: EventDate, seq: u64) {
        if !self.current.contains_key(&Key::Milestone(m)) {
            ch.push((Key::Milestone(m), Fact::Since { since, seq }));
        }
    }
}

/// The `type` of every event kind that never changes the state: [`affects_state`] is false for
/// it, and it is not a retraction or a correction (which can undo or replace one that does).
/// A fold that answers only the state passes over their bodies unparsed
/// ([`canonical_type_never_affects_state`]); a unit test holds this list to [`affects_state`].
pub const STATELESS_TYPES: [&str; 6] = [
    "meeting_held",
    "claim",
    "document_adopted",
    "proposal_made",
    "programme_established",
    "agreement_signed",
];

/// Whether a stored body is of a type in [`STATELESS_TYPES`], judged by its opening alone: a
/// canonical body (what the store holds) starts `{"type":"<type>",`. False for anything that
/// does not start so; such a body is parsed in full, as every body was before.
pub fn canonical_type_never_affects_state(body: &str) -> bool {
    let Some(rest) = body.strip_prefix(r#"{"type":""#) else {
        return false;
    };
    STATELESS_TYPES.iter().any(|t| {
        rest.strip_prefix(t)
            .is_some_and(|after| after.starts_with("\",") || after.starts_with("\"}"))
    })
}

/// Whether an event changes the state answered by `state` (and so can make it uncertain).
pub fn affects_state(kind: &Kind) -> bool {
    matches!(
        kind,
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

/// A state-changing event whose date window contains a day but ends after it: it may have
/// happened by that day, but is counted only from the window's end.
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    /// The event's seq.
    pub seq: u64,
    /// The world event's type.
    pub kind: String,
    /// Its first party, if any.
    pub party: Option<Party>,
    /// The date its effect counts from, as written (an appointment's `takes_office`, else its
    /// date).
    pub date: EventDate,
}

impl Pending {
    /// What `event` (seq `seq`; for a correction, its replacement) would be while pending, if
    /// it changes the state at all.
    pub fn of(seq: u64, event: &Event) -> Option<Pending> {
        let world = event.world_event()?;
        if !affects_state(&world.kind) {
            return None;
        }
        let date = match &world.kind {
            Kind::OfficerAppointed {
                takes_office: Some(t),
                ..
            } => *t,
            _ => world.date?,
        };
        Some(Pending {
            seq,
            kind: world.kind.type_name().to_string(),
            party: world.kind.parties().first().map(|p| (*p).clone()),
            date,
        })
    }
}

/// The parties a key mentions (for the store's party index).
pub fn key_party(key: &Key) -> Option<&Party> {
    match key {
        Key::Member(p) | Key::Ratified(p) | Key::Observer(p) => Some(p),
        _ => None,
    }
}

/// Replays events given in replay order and returns the final projection (for tests and
/// in-memory answers). Stops at the first violation.
pub fn replay<'a>(
    events: impl IntoIterator<Item = (u64, &'a Event)>,
) -> Result<Projection, (u64, Violation)> {
    let mut p = Projection::new();
    for (seq, ev) in events {
        p.apply(seq, ev).map_err(|v| (seq, v))?;
    }
    Ok(p)
}

/// Sort key of a world event in replay: its effective day, then `ord` (its seq, or for a
/// correction the corrected event's seq).
pub type ReplayPos = (Day, u64);

/// A party's membership, ratification and observer facts at one day (what a state answer
/// lists for each party).
#[derive(Debug, Clone, PartialEq)]
pub struct PartyFacts {
    /// The party.
    pub party: Party,
    /// Its `member:` fact.
    pub member: Option<Fact>,
    /// Its `ratified:` fact.
    pub ratified: Option<Fact>,
    /// Its `observer:` fact.
    pub observer: Option<Fact>,
}

/// Every key's fact at one point, arranged the way a state answer reads them: the read models
/// (`Ledger::state_at`) and an in-memory fold ([`StateFacts::of`]) both give one.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StateFacts {
    /// Each party with any `member:`, `ratified:` or `observer:` fact, in party order.
    pub parties: Vec<PartyFacts>,
    /// The facts of every other key (offices, boards, milestones, counters).
    pub others: HashMap<Key, Fact>,
}

impl StateFacts {
    /// The facts a projection holds.
    pub fn of(proj: &Projection) -> StateFacts {
        let mut others = HashMap::new();
        for (k, f) in proj.facts() {
            if key_party(k).is_none() {
                others.insert(k.clone(), f.clone());
            }
        }
        let parties = parties_of(proj.facts().map(|(k, _)| k))
            .into_iter()
            .map(|p| PartyFacts {
                member: proj.get(&Key::Member(p.clone())).cloned(),
                ratified: proj.get(&Key::Ratified(p.clone())).cloned(),
                observer: proj.get(&Key::Observer(p.clone())).cloned(),
                party: p,
            })
            .collect();
        StateFacts { parties, others }
    }

    /// The fact of a key that is not a party's.
    pub fn get(&self, key: &Key) -> Option<&Fact> {
        self.others.get(key)
    }
}

/// The parties of a set of keys.
pub fn parties_of<'a>(keys: impl Iterator<Item = &'a Key>) -> BTreeSet<Party> {
    keys.filter_map(key_party).cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{parse_batch, Role};

    fn events(lines: &[&str]) -> Vec<Event> {
        let text: Vec<String> = lines
            .iter()
            .map(|l| format!(r#"{{{l},"source":{{"document":"t","quote":"q"}}}}"#))
            .collect();
        parse_batch(&text.join("\n"))
            .unwrap()
            .into_iter()
            .map(|(_, e)| e)
            .collect()
    }

    fn count(p: &Projection, c: Counter) -> u64 {
        p.count(c)
    }

    #[test]
    fn the_stateless_types_are_exactly_the_world_events_that_never_change_the_state() {
        let mut seen = std::collections::BTreeSet::new();
        let mut all: Vec<Event> = crate::synth::events(4000, 5).collect();
        all.extend(events(&[
            r#""type":"retraction","retracts":1,"reason":"misread""#,
            r#""type":"correction","corrects":1,"replacement":{"type":"meeting_held","organ":"general_assembly","date":"2013","source":{"document":"t","quote":"q"}},"reason":"misread""#,
        ]));
        for ev in &all {
            let stateless = !affects_state(&ev.kind) && !ev.kind.is_record_event();
            let body = ev.canonical_json();
            assert_eq!(
                canonical_type_never_affects_state(&body),
                stateless,
                "{body}"
            );
            assert_eq!(
                STATELESS_TYPES.contains(&ev.kind.type_name()),
                stateless,
                "{body}"
            );
            seen.insert(ev.kind.type_name());
        }
        for t in STATELESS_TYPES {
            assert!(seen.contains(t), "no `{t}` event was checked");
        }
        assert!(seen.contains("retraction") && seen.contains("correction"));
        // Only a canonical opening counts; anything else is parsed in full.
        for body in [
            r#"{"date":"2013","type":"meeting_held"}"#,
            r#"{"type":"meeting_helds","date":"2013"}"#,
            r#"{"type": "claim","date":"2013"}"#,
            r#"{"type":"claim"#,
            "",
        ] {
            assert!(!canonical_type_never_affects_state(body), "{body}");
        }
    }

    #[test]
    fn every_fact_reads_back_as_written_and_a_damaged_one_is_refused() {
        let d = |s: &str| serde_json::from_str::<EventDate>(&format!("\"{s}\"")).unwrap();
        let party = |s: &str| Party::parse(s).unwrap();
        let facts = [
            Fact::Member {
                since: d("2013-12-10"),
                seq: 1,
                ordinal: 7,
            },
            Fact::Withdrawn {
                since: d("2020"),
                seq: 2,
            },
            Fact::Since {
                since: d("2016-03"),
                seq: 3,
            },
            Fact::Ended {
                since: d("2017-01-02"),
                seq: 4,
            },
            Fact::Holder {
                person: Some("Yerlan \"A\" Baidaulet".into()),
                since: d("2017"),
                seq: 5,
                term_years: Some(4),
                vacated_reason: None,
                previous: None,
            },
            Fact::Holder {
                person: None,
                since: d("2021-01-01"),
                seq: 6,
                term_years: None,
                vacated_reason: Some("term ended".into()),
                previous: Some("Yerlan Baidaulet".into()),
            },
            Fact::Board {
                seats: vec![
                    Seat {
                        party: Some(party("KAZ")),
                        office: None,
                        role: Role::Chair,
                    },
                    Seat {
                        party: None,
                        office: Some(Office::DirectorGeneral),
                        role: Role::PermanentMember,
                    },
                ],
                since: d("2018-05"),
                seq: 7,
            },
            Fact::Count { value: 57 },
        ];
        for f in facts {
            let text = serde_json::to_string(&f).unwrap();
            assert_eq!(serde_json::from_str::<Fact>(&text).unwrap(), f, "{text}");
            assert_eq!(Fact::decode(&text).unwrap(), f, "{text}");
            let owned: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(serde_json::from_value::<Fact>(owned).unwrap(), f, "{text}");
        }
        for bad in [
            r#"{"fact":"member","since":"2013","seq":1}"#,
            r#"{"fact":"mayor","since":"2013","seq":1}"#,
            r#"{"fact":"count","value":"57"}"#,
            r#"{"since":"2013","seq":1}"#,
            r#"{"fact":"member","since":"2013","seq":1,"ordinal":2,"seq":3}"#,
            r#"{"fact":"member","since":"2013","seq":01,"ordinal":2}"#,
            r#"{"fact":"member","since":"2013-02-30","seq":1,"ordinal":2}"#,
            r#"{"fact":"count","value":18446744073709551616}"#,
            r#"{"fact":"holder","person":"A	B","since":"2013","seq":1}"#,
            r#"{"fact":"since","since":"2013","seq":1}x"#,
            r#"{"fact":"since","since":"2013","seq":1"#,
        ] {
            assert!(serde_json::from_str::<Fact>(bad).is_err(), "{bad}");
            assert!(Fact::decode(bad).is_err(), "{bad}");
        }
    }

    /// The flat facts (every value a plain string or an unsigned integer) are read by the
    /// direct scan, as the JSON reader reads them: the scan is what a state query reads its
    /// hundreds of facts with. A string with an escape, and a null, are left to the JSON
    /// reader.
    #[test]
    fn the_scan_reads_every_flat_fact_as_the_json_reader_does() {
        let d = |s: &str| serde_json::from_str::<EventDate>(s).unwrap();
        let flat = [
            Fact::Member {
                since: d(r#""2013-12-10""#),
                seq: 1,
                ordinal: 7,
            },
            Fact::Member {
                since: d(r#"{"not_before":"2013-12-09","not_after":"2014-01"}"#),
                seq: 10,
                ordinal: 0,
            },
            Fact::Withdrawn {
                since: d(r#""2020""#),
                seq: 2,
            },
            Fact::Since {
                since: d(r#""2016-03""#),
                seq: 3,
            },
            Fact::Ended {
                since: d(r#""2017-01-02""#),
                seq: 4,
            },
            Fact::Holder {
                person: Some("Yerlan Baidaulet".into()),
                since: d(r#""2017""#),
                seq: 5,
                term_years: Some(4),
                vacated_reason: None,
                previous: None,
            },
            // Every field a holder may have, each a plain value (the fold writes `previous` and
            // `vacated_reason` with a null `person`, which the scan leaves to the reader).
            Fact::Holder {
                person: Some("Ismail Abdelhafid".into()),
                since: d(r#""2021-01-01""#),
                seq: 6,
                term_years: Some(2),
                vacated_reason: Some("term ended".into()),
                previous: Some("Yerlan Baidaulet".into()),
            },
            Fact::Count { value: 57 },
            Fact::Count { value: 0 },
        ];
        for f in flat {
            let text = serde_json::to_string(&f).unwrap();
            assert_eq!(Fact::decode_flat(&text), Some(f), "{text}");
        }
        for f in [
            Fact::Holder {
                person: Some("Yerlan \"A\" Baidaulet".into()),
                since: d(r#""2017""#),
                seq: 5,
                term_years: None,
                vacated_reason: None,
                previous: None,
            },
            Fact::Holder {
                person: None,
                since: d(r#""2021-01-01""#),
                seq: 6,
                term_years: None,
                vacated_reason: Some("term ended".into()),
                previous: Some("Yerlan Baidaulet".into()),
            },
        ] {
            let text = serde_json::to_string(&f).unwrap();
            assert_eq!(Fact::decode_flat(&text), None, "{text}");
            assert_eq!(Fact::decode(&text).unwrap(), f);
        }
    }

    #[test]
    fn signing_counts_members_in_order_and_withdrawal_removes_them() {
        let evs = events(&[
            r#""type":"statute_signed","party":"KAZ","date":"2013-12-10""#,
            r#""type":"statute_signed","party":"SAU","date":"2016-03-15""#,
            r#""type":"membership_withdrawn","party":"KAZ","date":"2020""#,
        ]);
        let p = replay(evs.iter().enumerate().map(|(i, e)| (i as u64 + 1, e))).unwrap();
        assert_eq!(count(&p, Counter::Members), 1);
        assert_eq!(count(&p, Counter::Signatures), 2);
        assert!(matches!(
            p.get(&Key::Member(Party::parse("SAU").unwrap())),
            Some(Fact::Member { ordinal: 2, .. })
        ));
    }

    /// Only a signature that certainly came first breaks the rules on signatures before
    /// adoption or establishment: one whose window may overlap the milestone's is accepted,
    /// and so is one folded after the milestone in replay order.
    #[test]
    fn a_signature_that_may_follow_the_adoption_or_establishment_is_accepted() {
        for lines in [
            &[
                r#""type":"statute_signed","party":"KAZ","date":"2013-06-01""#,
                r#""type":"statute_adopted","date":"2013""#,
                r#""type":"organisation_established","date":{"not_before":"2013-05-01","not_after":"2013-12-31"}"#,
            ][..],
            &[
                r#""type":"organisation_established","date":"2012-11-17""#,
                r#""type":"statute_adopted","date":"2013-12-10""#,
                r#""type":"statute_signed","party":"COM","date":{"not_before":"2013-12-09","not_after":"2013-12-11"}"#,
                r#""type":"statute_signed","party":"KAZ","date":"2014""#,
            ][..],
        ] {
            let evs = events(lines);
            let r = replay(evs.iter().enumerate().map(|(i, e)| (i as u64 + 1, e)));
            assert!(r.is_ok(), "{lines:?}: {:?}", r.err());
        }
    }

    #[test]
    fn each_rule_refuses_its_violation() {
        let cases: [(&[&str], Rule); 11] = [
            (
                &[
                    r#""type":"organisation_established","date":"2012-11-17""#,
                    r#""type":"organisation_established","date":"2013""#,
                ],
                Rule::EstablishedOnce,
            ),
            (
                &[
                    r#""type":"secretariat_operational","date":"2018-03-01""#,
                    r#""type":"secretariat_operational","date":"2018-03-01""#,
                ],
                Rule::OperationalOnce,
            ),
            (
                &[
                    r#""type":"statute_adopted","date":"2013-12-10""#,
                    r#""type":"statute_adopted","date":"2014""#,
                ],
                Rule::StatuteAdoptedOnce,
            ),
            (
                &[
                    r#""type":"statute_signed","party":"KAZ","date":"2012""#,
                    r#""type":"statute_adopted","date":"2013-12-10""#,
                ],
                Rule::NoSignatureBeforeAdoption,
            ),
            (
                &[
                    r#""type":"statute_signed","party":"KAZ","date":"2011-05""#,
                    r#""type":"organisation_established","date":"2012-11-17""#,
                ],
                Rule::NoSignatureBeforeEstablishment,
            ),
            (
                &[
                    r#""type":"statute_signed","party":"KAZ","date":"2013""#,
                    r#""type":"statute_signed","party":"KAZ","date":"2014""#,
                ],
                Rule::MemberCannotSignAgain,
            ),
            (
                &[r#""type":"membership_withdrawn","party":"KAZ","date":"2014""#],
                Rule::OnlyAMemberCanWithdraw,
            ),
            (
                &[
                    r#""type":"statute_ratified","party":"KAZ","date":"2013""#,
                    r#""type":"statute_ratified","party":"KAZ","date":"2014""#,
                ],
                Rule::RatifiesAtMostOnce,
            ),
            (
                &[
                    r#""type":"officer_appointed","office":"director_general","person":"A","date":"2013""#,
                    r#""type":"office_vacated","office":"director_general","person":"B","reason":"x","date":"2014""#,
                ],
                Rule::OnlyTheHolderCanVacate,
            ),
            (
                &[
                    r#""type":"statute_signed","party":"KAZ","date":"2013""#,
                    r#""type":"observer_admitted","party":"KAZ","date":"2014""#,
                ],
                Rule::ObserverIsNotAMember,
            ),
            (
                &[
                    r#""type":"statute_entered_into_force","date":"2013""#,
                    r#""type":"statute_entered_into_force","date":"2014""#,
                ],
                Rule::EntersIntoForceOnce,
            ),
        ];
        for (lines, rule) in cases {
            let evs = events(lines);
            let r = replay(evs.iter().enumerate().map(|(i, e)| (i as u64 + 1, e)));
            assert_eq!(
                r.map(|_| ()).map_err(|(s, v)| (s, v.rule)),
                Err((lines.len() as u64, rule))
            );
        }
    }

    /// A second establishment or start of operations dated before the first is refused as
    /// well, so the milestone's date never moves by a second event (a correction moves it).
    #[test]
    fn an_earlier_second_milestone_is_refused_not_taken_as_the_date() {
        for (lines, rule) in [
            (
                [
                    r#""type":"organisation_established","date":"2012-11-17""#,
                    r#""type":"organisation_established","date":"2012-05""#,
                ],
                Rule::EstablishedOnce,
            ),
            (
                [
                    r#""type":"secretariat_operational","date":"2018-03-01""#,
                    r#""type":"secretariat_operational","date":"2016""#,
                ],
                Rule::OperationalOnce,
            ),
        ] {
            let evs = events(&lines);
            let r = replay(evs.iter().enumerate().map(|(i, e)| (i as u64 + 1, e)));
            assert_eq!(r.map(|_| ()).map_err(|(_, v)| v.rule), Err(rule));
        }
    }

    #[test]
    fn an_observer_who_signs_stops_being_an_observer() {
        let evs = events(&[
            r#""type":"observer_admitted","party":"unidentified:observer-1","date":"2015""#,
            r#""type":"statute_signed","party":"unidentified:observer-1","date":"2016""#,
        ]);
        let p = replay(evs.iter().enumerate().map(|(i, e)| (i as u64 + 1, e))).unwrap();
        assert_eq!(count(&p, Counter::Observers), 0);
        assert_eq!(count(&p, Counter::Members), 1);
    }
}
