//! The event model: what can happen, as plain past-tense data; strict parsing of the input
//! format (`docs/event-format.md`); the canonical JSON that is stored and hashed.
//!
//! No SQL and no clock here: parsing checks shape (types, fields, dates, party codes);
//! the rules that depend on other events live in [`crate::projection`].

use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::date::EventDate;
use crate::party::Party;

mod canonical;
mod fast;
pub mod json_schema;
pub mod lines;
pub mod schema;

/// Where a fact comes from: a document or a URL, and the sentence it rests on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// A document's name (for the built-in history, the seed file's name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<String>,
    /// A public URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The sentence the event rests on.
    pub quote: String,
}

impl Source {
    /// `document` or `url`, whichever is given (document first).
    pub fn citation(&self) -> &str {
        self.document
            .as_deref()
            .or(self.url.as_deref())
            .unwrap_or("")
    }
}

/// An organ or forum that meets.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Organ {
    /// The IOFS General Assembly.
    GeneralAssembly,
    /// The IOFS Executive Board.
    ExecutiveBoard,
    /// The OIC Council of Foreign Ministers.
    CouncilOfForeignMinisters,
    /// The OIC Ministerial Conference on Food Security and Agricultural Development.
    MinisterialConference,
    /// The Intergovernmental Experts Meeting that drafted the Statute.
    IntergovernmentalExpertsMeeting,
    /// The World Islamic Economic Forum.
    WorldIslamicEconomicForum,
    /// The UN-OIC General Meeting on Cooperation.
    UnOicGeneralMeeting,
}

impl Organ {
    /// The snake_case name used in the format.
    pub fn as_str(self) -> &'static str {
        match self {
            Organ::GeneralAssembly => "general_assembly",
            Organ::ExecutiveBoard => "executive_board",
            Organ::CouncilOfForeignMinisters => "council_of_foreign_ministers",
            Organ::MinisterialConference => "ministerial_conference",
            Organ::IntergovernmentalExpertsMeeting => "intergovernmental_experts_meeting",
            Organ::WorldIslamicEconomicForum => "world_islamic_economic_forum",
            Organ::UnOicGeneralMeeting => "un_oic_general_meeting",
        }
    }

    /// A human name.
    pub fn title(self) -> &'static str {
        match self {
            Organ::GeneralAssembly => "General Assembly",
            Organ::ExecutiveBoard => "Executive Board",
            Organ::CouncilOfForeignMinisters => "Council of Foreign Ministers",
            Organ::MinisterialConference => "Ministerial Conference",
            Organ::IntergovernmentalExpertsMeeting => "Intergovernmental Experts Meeting",
            Organ::WorldIslamicEconomicForum => "World Islamic Economic Forum",
            Organ::UnOicGeneralMeeting => "UN-OIC General Meeting",
        }
    }
}

/// An office held by one person at a time.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Office {
    /// The Director General of IOFS.
    DirectorGeneral,
}

impl Office {
    /// The snake_case name used in the format.
    pub fn as_str(self) -> &'static str {
        match self {
            Office::DirectorGeneral => "director_general",
        }
    }
}

/// A seat's role on a board.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Chairs the board.
    Chair,
    /// An elected member.
    Member,
    /// A permanent member.
    PermanentMember,
    /// An honorary chair.
    HonoraryChair,
}

/// One seat of a board: a party, or an office held ex officio.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Seat {
    /// The party holding the seat.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub party: Option<Party>,
    /// An office holding the seat ex officio.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub office: Option<Office>,
    /// Its role.
    pub role: Role,
}

/// What a claim is about (see `docs/event-format.md`, "Claims").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClaimAbout {
    /// Number of members at the date; `value` is an integer.
    MemberCount,
    /// Number of ratifications at the date; `value` is an integer.
    RatificationCount,
    /// The `party`'s place in signature order; `value` is an integer.
    SignatoryOrdinal,
    /// Whether the Statute was in force at the date; `value` is a bool.
    StatuteInForce,
    /// The Director General at the date; `value` is a name or null.
    DirectorGeneral,
    /// The Executive Board chair at the date; `value` is a party code.
    BoardChair,
    /// A statement that replay cannot check; `value` is a string.
    Statement,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// The kind of an event and its own fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
/// Serialized externally tagged (`{"statute_signed": {...}}`); [`Event::to_value`] and
/// [`Event::from_object`] turn that into the flat `type` field of the format.
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[allow(missing_docs)]
pub enum Kind {
    /// The organisation was established.
    OrganisationEstablished {},
    /// The Statute was adopted.
    StatuteAdopted {},
    /// A party signed the Statute and so became a member.
    StatuteSigned { party: Party },
    /// A party ratified the Statute.
    StatuteRatified { party: Party },
    /// The Statute entered into force.
    StatuteEnteredIntoForce {},
    /// A party was admitted as an observer.
    ObserverAdmitted { party: Party },
    /// A member withdrew.
    MembershipWithdrawn { party: Party },
    /// The secretariat became operational.
    SecretariatOperational {},
    /// A proposal was made.
    ProposalMade {
        description: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        proposer: Option<Party>,
    },
    /// An organ met.
    MeetingHeld {
        organ: Organ,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        session: Option<u32>,
        #[serde(default, skip_serializing_if = "is_false")]
        extraordinary: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        place: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        host: Option<Party>,
        #[serde(default, skip_serializing_if = "is_false")]
        online: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        theme: Option<String>,
    },
    /// Someone was appointed to an office.
    OfficerAppointed {
        office: Office,
        person: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        takes_office: Option<EventDate>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        term_years: Option<u32>,
    },
    /// The holder left an office.
    OfficeVacated {
        office: Office,
        person: String,
        reason: String,
    },
    /// A board was elected (replaces the previous composition).
    BoardElected { organ: Organ, seats: Vec<Seat> },
    /// A document was adopted.
    DocumentAdopted {
        title: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        organ: Option<Organ>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        session: Option<u32>,
    },
    /// A programme was established.
    ProgrammeEstablished {
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        organ: Option<Organ>,
    },
    /// An agreement was signed.
    AgreementSigned { title: String, counterparty: String },
    /// A source asserts something that replay can check.
    Claim {
        about: ClaimAbout,
        value: Value,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        party: Option<Party>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        topic: Option<String>,
    },
    /// An earlier event is withdrawn from the record. `target_sha256`, when given (`export`
    /// always gives it), is the SHA-256 of the target's canonical JSON: the retraction then acts
    /// only on that event, so appended to another ledger it cannot retract whatever that
    /// ledger holds at the same seq.
    Retraction {
        retracts: u64,
        reason: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        target_sha256: Option<String>,
    },
    /// An earlier event is replaced by a corrected one (`target_sha256` as for a retraction).
    Correction {
        corrects: u64,
        replacement: Box<Event>,
        reason: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        target_sha256: Option<String>,
    },
}

impl Kind {
    /// The `type` string.
    pub fn type_name(&self) -> &'static str {
        match self {
            Kind::OrganisationEstablished {} => "organisation_established",
            Kind::StatuteAdopted {} => "statute_adopted",
            Kind::StatuteSigned { .. } => "statute_signed",
            Kind::StatuteRatified { .. } => "statute_ratified",
            Kind::StatuteEnteredIntoForce {} => "statute_entered_into_force",
            Kind::ObserverAdmitted { .. } => "observer_admitted",
            Kind::MembershipWithdrawn { .. } => "membership_withdrawn",
            Kind::SecretariatOperational {} => "secretariat_operational",
            Kind::ProposalMade { .. } => "proposal_made",
            Kind::MeetingHeld { .. } => "meeting_held",
            Kind::OfficerAppointed { .. } => "officer_appointed",
            Kind::OfficeVacated { .. } => "office_vacated",
            Kind::BoardElected { .. } => "board_elected",
            Kind::DocumentAdopted { .. } => "document_adopted",
            Kind::ProgrammeEstablished { .. } => "programme_established",
            Kind::AgreementSigned { .. } => "agreement_signed",
            Kind::Claim { .. } => "claim",
            Kind::Retraction { .. } => "retraction",
            Kind::Correction { .. } => "correction",
        }
    }

    /// Retractions and corrections act on the record, not in the world.
    pub fn is_record_event(&self) -> bool {
        matches!(self, Kind::Retraction { .. } | Kind::Correction { .. })
    }

    /// Whether the `type` string names a record event (`retraction`, `correction`).
    pub fn is_record_type(type_name: &str) -> bool {
        matches!(type_name, "retraction" | "correction")
    }

    /// Every party this event names (for `history PARTY`).
    pub fn parties(&self) -> Vec<&Party> {
        match self {
            Kind::StatuteSigned { party }
            | Kind::StatuteRatified { party }
            | Kind::ObserverAdmitted { party }
            | Kind::MembershipWithdrawn { party } => vec![party],
            Kind::ProposalMade { proposer, .. } => proposer.iter().collect(),
            Kind::MeetingHeld { host, .. } => host.iter().collect(),
            Kind::BoardElected { seats, .. } => {
                seats.iter().filter_map(|s| s.party.as_ref()).collect()
            }
            Kind::Claim {
                party,
                value,
                about,
                ..
            } => {
                let _ = (value, about);
                party.iter().collect()
            }
            Kind::Correction { replacement, .. } => replacement.kind.parties(),
            _ => vec![],
        }
    }
}

/// One event: its kind, when it happened and where the record of it comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// What happened.
    pub kind: Kind,
    /// When it happened (absent only on retractions and corrections).
    pub date: Option<EventDate>,
    /// Last day of a multi-day event.
    pub end_date: Option<EventDate>,
    /// The source and sentence the event rests on.
    pub source: Source,
    /// A second source for the date, when `source` does not state it.
    pub date_source: Option<Source>,
    /// Why the date is what it is, when the quoted sentence does not state it.
    pub inferred: Option<String>,
    /// Free text.
    pub note: Option<String>,
}

/// Where in the input an event came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// 1-based line of a JSON Lines input.
    Line(usize),
    /// 0-based index in a JSON array input.
    Index(usize),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Line(n) => write!(f, "line {n}"),
            Location::Index(n) => write!(f, "array index {n}"),
        }
    }
}

/// Why an input event was refused before any rule was checked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {message}")]
pub struct ParseError {
    /// Where.
    pub location: Location,
    /// The field, when one is to blame.
    pub field: Option<String>,
    /// What is wrong and what to do.
    pub message: String,
}

const STORE_FIELDS: [&str; 4] = ["seq", "recorded_at", "hash", "prev_hash"];

/// The fields every event type shares (the JSON Schema's common properties are generated from
/// this struct: `json_schema`).
#[derive(schemars::JsonSchema)]
struct CommonRepr {
    /// When it happened: `YYYY`, `YYYY-MM`, `YYYY-MM-DD`, or bounds `{"not_before",
    /// "not_after"}` (required on every type but `retraction` and `correction`).
    date: Option<EventDate>,
    /// The last day of an event lasting several days.
    end_date: Option<EventDate>,
    /// The document or URL the event rests on, and the sentence it rests on (required).
    source: Option<Source>,
    /// A second source for the date, when `source` does not state it.
    date_source: Option<Source>,
    /// Why the date is what it is, when the quoted sentence does not state it.
    inferred: Option<String>,
    /// Free text.
    note: Option<String>,
}

/// Pulls the field name out of a serde message such as "unknown field `x`, expected ...".
fn field_in(msg: &str) -> Option<String> {
    let start = msg.find('`')? + 1;
    let len = msg[start..].find('`')?;
    Some(msg[start..start + len].to_string())
}

/// The years a term of office may run (`term_years`).
pub const TERM_YEARS: std::ops::RangeInclusive<u32> = 1..=20;
/// The highest session number (generous: synthetic histories of a million events number
/// their sessions that far).
pub const MAX_SESSION: u32 = 1_000_000;
/// The highest count or ordinal a claim may state.
pub const MAX_COUNT: u64 = 1_000_000;
/// The highest seq a retraction or correction may name (what SQLite's integers hold).
pub const MAX_SEQ: u64 = i64::MAX as u64;

/// Whether a character shows nothing: whitespace, a control character, or a format or filler
/// character (zero-width spaces and joiners, direction marks, the byte order mark, soft hyphen,
/// variation selectors, tags, Hangul and Braille blanks).
pub fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || matches!(c,
            '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
            | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}' | '\u{2800}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}' | '\u{FFA0}' | '\u{FFF9}'..='\u{FFFB}' | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}')
}

/// Whether a text is blank: empty, or nothing but invisible characters ([`is_invisible`]).
pub fn is_blank(s: &str) -> bool {
    s.chars().all(is_invisible)
}

/// `target_sha256` is 64 lowercase hex digits.
fn check_sha256(h: &Option<String>) -> Result<(), (Option<String>, String)> {
    match h {
        Some(h) if h.len() != 64 || !h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) => {
            Err((
                Some("target_sha256".into()),
                "`target_sha256` is the SHA-256 of the target's canonical JSON: 64 lowercase hex digits".into(),
            ))
        }
        _ => Ok(()),
    }
}

/// The one rule for every text field of an event: it must show something, and something other
/// than `template`'s placeholder.
fn text(field: &str, s: &str) -> Result<(), (Option<String>, String)> {
    if is_blank(s) {
        Err((
            Some(field.to_string()),
            format!(
                "`{field}` must not be empty or blank (only spaces, invisible or control characters)"
            ),
        ))
    } else if is_placeholder(s) {
        Err((
            Some(field.to_string()),
            format!("`{field}` is still the template's placeholder {s}: replace it with the real value, or remove the field if it is optional"),
        ))
    } else {
        Ok(())
    }
}

/// The party `template` puts where a party goes.
pub const PLACEHOLDER_PARTY: &str = "unidentified:edit-me";

/// Whether a text is `template`'s placeholder for a text field: `<name>`, a field's name in
/// angle brackets and nothing else.
pub fn is_placeholder(s: &str) -> bool {
    s.strip_prefix('<')
        .and_then(|r| r.strip_suffix('>'))
        .is_some_and(|name| {
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
        })
}

impl Event {
    /// Parses one event from a JSON object, checking every field (see `docs/event-format.md`).
    /// Errors name the field; the caller adds the location.
    pub fn from_object(mut obj: Map<String, Value>) -> Result<Event, (Option<String>, String)> {
        for f in STORE_FIELDS {
            if obj.contains_key(f) {
                return Err((
                    Some(f.to_string()),
                    format!("field `{f}` is set by the store, not by input: remove it"),
                ));
            }
        }
        let ty = match obj.get("type") {
            Some(Value::String(t)) => t.clone(),
            Some(_) => return Err((Some("type".into()), "`type` must be a string".into())),
            None => return Err((Some("type".into()), "missing field `type`".into())),
        };
        fn take<T: serde::de::DeserializeOwned>(
            obj: &mut Map<String, Value>,
            field: &str,
        ) -> Result<Option<T>, (Option<String>, String)> {
            match obj.remove(field) {
                None | Some(Value::Null) => Ok(None),
                Some(v) => serde_json::from_value(v)
                    .map(Some)
                    .map_err(|e| (Some(field.to_string()), format!("`{field}`: {e}"))),
            }
        }
        let c = CommonRepr {
            date: take(&mut obj, "date")?,
            end_date: take(&mut obj, "end_date")?,
            source: take(&mut obj, "source")?,
            date_source: take(&mut obj, "date_source")?,
            inferred: take(&mut obj, "inferred")?,
            note: take(&mut obj, "note")?,
        };
        obj.remove("type");
        let mut tagged = Map::new();
        tagged.insert(ty.clone(), Value::Object(obj));
        let kind: Kind = serde_path_to_error::deserialize(Value::Object(tagged)).map_err(|e| {
            let path = e.path().to_string();
            let m = e.into_inner().to_string();
            // Only an unknown variant at the top is an unknown type; one deeper (an `about`,
            // `organ`, `office` or `role`) is a bad value of that field.
            if m.contains("unknown variant") && (path.is_empty() || path == "?" || path == ".") {
                (
                    Some("type".to_string()),
                    format!("unknown event type `{ty}` ({m})"),
                )
            } else {
                // The first path segment is the variant (the type); the rest is the field.
                let field = path
                    .split_once('.')
                    .map(|(_, rest)| rest.to_string())
                    .filter(|f| !f.is_empty() && f != "?")
                    .or_else(|| field_in(&m));
                (field, format!("{m} (in a `{ty}` event)"))
            }
        })?;
        let source = c.source.ok_or_else(|| {
            (
                Some("source".to_string()),
                "missing field `source`: give {\"document\" or \"url\", \"quote\"}".to_string(),
            )
        })?;
        let ev = Event {
            kind,
            date: c.date,
            end_date: c.end_date,
            source,
            date_source: c.date_source,
            inferred: c.inferred,
            note: c.note,
        };
        ev.check_shape()?;
        Ok(ev)
    }

    /// Checks what the types alone cannot: required dates, texts that say something, numbers
    /// in range, claim values.
    fn check_shape(&self) -> Result<(), (Option<String>, String)> {
        let err = |f: &str, m: String| Err((Some(f.to_string()), m));
        for (name, s) in [("source", &self.source)]
            .into_iter()
            .chain(self.date_source.iter().map(|s| ("date_source", s)))
        {
            if s.document.is_none() && s.url.is_none() {
                return err(name, format!("`{name}` needs a `document` or a `url`"));
            }
            for (f, v) in [("document", &s.document), ("url", &s.url)] {
                if let Some(v) = v {
                    text(&format!("{name}.{f}"), v)?;
                }
            }
            if is_blank(&s.quote) {
                return err(
                    name,
                    format!(
                        "`{name}.quote` must be the sentence the event rests on, not empty or blank"
                    ),
                );
            }
            text(&format!("{name}.quote"), &s.quote)?;
        }
        if let Some(p) = self
            .kind
            .parties()
            .into_iter()
            .find(|p| p.code() == PLACEHOLDER_PARTY)
        {
            let field = match &self.kind {
                Kind::ProposalMade { .. } => "proposer",
                Kind::MeetingHeld { .. } => "host",
                Kind::BoardElected { .. } => "seats",
                _ => "party",
            };
            return err(
                field,
                format!("`{}` is still the template's placeholder party: give the party's code or name, or an `unidentified:` label of your own", p.code()),
            );
        }
        for (f, v) in [("inferred", &self.inferred), ("note", &self.note)] {
            if let Some(v) = v {
                text(f, v)?;
            }
        }
        if self.kind.is_record_event() {
            // date is optional (the day the error was found).
        } else if self.date.is_none() {
            return err(
                "date",
                format!(
                    "missing field `date` (required on `{}`)",
                    self.kind.type_name()
                ),
            );
        }
        if let (Some(d), Some(e)) = (self.date, self.end_date) {
            if e.window().1 < d.window().0 {
                return err("end_date", format!("end_date `{e}` is before date `{d}`"));
            }
        }
        if self.end_date.is_some() && self.date.is_none() {
            return err("end_date", "end_date without date".into());
        }
        let nonempty = text;
        match &self.kind {
            Kind::MeetingHeld {
                session: Some(0), ..
            }
            | Kind::DocumentAdopted {
                session: Some(0), ..
            } => {
                return err(
                    "session",
                    "session numbers start at 1 (the 1st session); omit `session` when unknown"
                        .into(),
                )
            }
            Kind::MeetingHeld {
                session: Some(n), ..
            }
            | Kind::DocumentAdopted {
                session: Some(n), ..
            } if *n > MAX_SESSION => {
                return err(
                    "session",
                    format!("session {n} is out of range (at most {MAX_SESSION})"),
                )
            }
            Kind::ProposalMade { description, .. } => nonempty("description", description)?,
            Kind::MeetingHeld { place, theme, .. } => {
                for (f, v) in [("place", place), ("theme", theme)] {
                    if let Some(v) = v {
                        text(f, v)?;
                    }
                }
            }
            Kind::OfficerAppointed {
                person,
                takes_office,
                term_years,
                ..
            } => {
                nonempty("person", person)?;
                if let (Some(t), Some(d)) = (takes_office, self.date) {
                    if t.window().1 < d.window().0 {
                        return err(
                            "takes_office",
                            format!("takes_office `{t}` is before the appointment's date `{d}`"),
                        );
                    }
                }
                if let Some(t) = term_years {
                    if !TERM_YEARS.contains(t) {
                        return err(
                            "term_years",
                            format!(
                                "term_years {t} is out of range: a term is {} to {} years",
                                TERM_YEARS.start(),
                                TERM_YEARS.end()
                            ),
                        );
                    }
                }
            }
            Kind::OfficeVacated { person, reason, .. } => {
                nonempty("person", person)?;
                nonempty("reason", reason)?;
            }
            Kind::BoardElected { seats, .. } => {
                if seats.is_empty() {
                    return err("seats", "a board needs at least one seat".into());
                }
                let mut seen = Vec::new();
                for (i, s) in seats.iter().enumerate() {
                    match (&s.party, &s.office) {
                        (Some(_), None) | (None, Some(_)) => {}
                        _ => {
                            return err(
                                "seats",
                                format!("seat {i}: give exactly one of `party` or `office`"),
                            )
                        }
                    }
                    let who = (s.party.clone(), s.office);
                    if seen.contains(&who) {
                        return err("seats", format!("seat {i}: the same holder has two seats"));
                    }
                    seen.push(who);
                }
                if seats.iter().filter(|s| s.role == Role::Chair).count() > 1 {
                    return err("seats", "a board has at most one chair".into());
                }
            }
            Kind::DocumentAdopted { title, .. } => nonempty("title", title)?,
            Kind::ProgrammeEstablished { name, .. } => nonempty("name", name)?,
            Kind::AgreementSigned {
                title,
                counterparty,
            } => {
                nonempty("title", title)?;
                nonempty("counterparty", counterparty)?;
            }
            Kind::Claim {
                about,
                value,
                party,
                topic,
            } => {
                if let Some(t) = topic {
                    text("topic", t)?;
                }
                let ok = match about {
                    ClaimAbout::MemberCount | ClaimAbout::RatificationCount => {
                        value.as_u64().is_some_and(|v| v <= MAX_COUNT)
                    }
                    ClaimAbout::SignatoryOrdinal => {
                        value.as_u64().is_some_and(|v| (1..=MAX_COUNT).contains(&v))
                            && party.is_some()
                    }
                    ClaimAbout::StatuteInForce => value.is_boolean(),
                    ClaimAbout::DirectorGeneral => {
                        value.is_null() || value.as_str().is_some_and(|s| !is_blank(s))
                    }
                    ClaimAbout::BoardChair => {
                        value.as_str().is_some_and(|s| Party::parse(s).is_ok())
                    }
                    ClaimAbout::Statement => value.as_str().is_some_and(|s| !is_blank(s)),
                };
                if !ok {
                    let want = match about {
                        ClaimAbout::MemberCount | ClaimAbout::RatificationCount => {
                            "an integer from 0 to 1000000"
                        }
                        ClaimAbout::SignatoryOrdinal => {
                            "an integer from 1 to 1000000, with `party`"
                        }
                        ClaimAbout::StatuteInForce => "true or false",
                        ClaimAbout::DirectorGeneral => "a person's name or null",
                        ClaimAbout::BoardChair => "a known party code",
                        ClaimAbout::Statement => "a string that is not blank",
                    };
                    return err(
                        "value",
                        format!(
                            "a `{}` claim's value must be {want}",
                            serde_json::to_value(about)
                                .ok()
                                .and_then(|v| v.as_str().map(String::from))
                                .unwrap_or_default()
                        ),
                    );
                }
            }
            Kind::Retraction {
                retracts,
                reason,
                target_sha256,
            } => {
                nonempty("reason", reason)?;
                check_sha256(target_sha256)?;
                if *retracts == 0 || *retracts > MAX_SEQ {
                    return err("retracts", format!("seq numbers run from 1 to {MAX_SEQ}"));
                }
            }
            Kind::Correction {
                corrects,
                replacement,
                reason,
                target_sha256,
            } => {
                nonempty("reason", reason)?;
                check_sha256(target_sha256)?;
                if *corrects == 0 || *corrects > MAX_SEQ {
                    return err("corrects", format!("seq numbers run from 1 to {MAX_SEQ}"));
                }
                if replacement.kind.is_record_event() {
                    return err(
                        "replacement",
                        "a replacement must be a world event, not a retraction or correction"
                            .into(),
                    );
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The canonical JSON object: `type`, `date`, `end_date`, the kind's fields, `source`,
    /// `date_source`, `inferred`, `note`, in that order, absent fields omitted.
    pub fn to_value(&self) -> Value {
        let mut out = Map::new();
        out.insert("type".into(), Value::String(self.kind.type_name().into()));
        if let Some(d) = &self.date {
            out.insert(
                "date".into(),
                serde_json::to_value(d).unwrap_or(Value::Null),
            );
        }
        if let Some(d) = &self.end_date {
            out.insert(
                "end_date".into(),
                serde_json::to_value(d).unwrap_or(Value::Null),
            );
        }
        if let Ok(Value::Object(tagged)) = serde_json::to_value(&self.kind) {
            for (_, fields) in tagged {
                if let Value::Object(fields) = fields {
                    out.extend(fields);
                }
            }
        }
        out.insert(
            "source".into(),
            serde_json::to_value(&self.source).unwrap_or(Value::Null),
        );
        if let Some(s) = &self.date_source {
            out.insert(
                "date_source".into(),
                serde_json::to_value(s).unwrap_or(Value::Null),
            );
        }
        if let Some(s) = &self.inferred {
            out.insert("inferred".into(), Value::String(s.clone()));
        }
        if let Some(s) = &self.note {
            out.insert("note".into(), Value::String(s.clone()));
        }
        Value::Object(out)
    }

    /// The canonical JSON text, as stored and hashed.
    pub fn canonical_json(&self) -> String {
        let mut out = Vec::with_capacity(384);
        let mut ser = serde_json::Serializer::new(&mut out);
        match canonical::serialize(self, &mut ser) {
            // serde_json writes only UTF-8.
            Ok(()) => String::from_utf8(out).unwrap_or_else(|_| self.to_value().to_string()),
            // Unreachable (every kind is a struct variant); the Value route says the same.
            Err(_) => self.to_value().to_string(),
        }
    }

    /// Whether `text` is exactly this event's canonical JSON: what `canonical_json() == text`
    /// says, without building the string (the serializer's output is compared as it comes).
    pub fn is_canonical_json(&self, text: &str) -> bool {
        /// Compares what is written with the bytes still expected; refuses at the first
        /// difference (the serializer then stops with an error).
        struct Expect<'a>(&'a [u8]);
        impl std::io::Write for Expect<'_> {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                match self.0.strip_prefix(buf) {
                    Some(rest) => {
                        self.0 = rest;
                        Ok(buf.len())
                    }
                    None => Err(std::io::ErrorKind::InvalidData.into()),
                }
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let mut expect = Expect(text.as_bytes());
        let mut ser = serde_json::Serializer::new(&mut expect);
        canonical::serialize(self, &mut ser).is_ok() && expect.0.is_empty()
    }

    /// Parses a stored canonical JSON text.
    pub fn from_json(text: &str) -> Result<Event, String> {
        if let Some(ev) = fast::parse(text) {
            return Ok(ev);
        }
        match parse_strict(text) {
            Ok(Value::Object(m)) => Event::from_object(m).map_err(|(_, m)| m),
            Ok(_) => Err("not a JSON object".into()),
            Err(e) => Err(e.to_string()),
        }
    }

    /// The world event this event puts in the replay: itself, or a correction's replacement;
    /// `None` for a retraction.
    pub fn world_event(&self) -> Option<&Event> {
        match &self.kind {
            Kind::Retraction { .. } => None,
            Kind::Correction { replacement, .. } => Some(replacement),
            _ => Some(self),
        }
    }

    /// The day the event takes effect in replay (the last day of its date window; for an
    /// appointment, of `takes_office` when given).
    pub fn effective_day(&self) -> Option<crate::date::Day> {
        let w = self.world_event()?;
        match &w.kind {
            Kind::OfficerAppointed {
                takes_office: Some(t),
                ..
            } => Some(t.effective_day()),
            _ => w.date.map(|d| d.effective_day()),
        }
    }

    /// The window of days this event may have taken effect in.
    pub fn effect_window(&self) -> Option<(crate::date::Day, crate::date::Day)> {
        let w = self.world_event()?;
        match &w.kind {
            Kind::OfficerAppointed {
                takes_office: Some(t),
                ..
            } => Some(t.window()),
            _ => w.date.map(|d| d.window()),
        }
    }
}

impl Serialize for Event {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        canonical::serialize(self, s)
    }
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = StrictValue.deserialize(d)?;
        match v {
            Value::Object(m) => Event::from_object(m).map_err(|(f, m)| match f {
                Some(f) => de::Error::custom(format!("replacement.{f}: {m}")),
                None => de::Error::custom(m),
            }),
            _ => Err(de::Error::custom("an event must be a JSON object")),
        }
    }
}

/// A JSON value seed that refuses duplicate keys at any depth.
struct StrictValue;

impl<'de> DeserializeSeed<'de> for StrictValue {
    type Value = Value;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictValue {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(StrictValue)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut v = Vec::new();
        while let Some(x) = seq.next_element_seed(StrictValue)? {
            v.push(x);
        }
        Ok(Value::Array(v))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut m = Map::new();
        while let Some(k) = map.next_key::<String>()? {
            if m.contains_key(&k) {
                return Err(de::Error::custom(format!("duplicate key `{k}`")));
            }
            let v = map.next_value_seed(StrictValue)?;
            m.insert(k, v);
        }
        Ok(Value::Object(m))
    }
}

/// A parsed event with its canonical JSON (what the store hashes and keeps), serialized once
/// by [`Prepared::new`], on whichever thread made it: an append that reads its input on a second
/// thread ([`lines::with_parsed_lines`]) has it serialized there. The body can only come from
/// the event itself, so it always matches it.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    /// Where the event came from.
    pub location: Location,
    event: Event,
    body: String,
}

impl Prepared {
    /// `event`, from `location`, with its canonical JSON.
    pub fn new(location: Location, event: Event) -> Prepared {
        let body = event.canonical_json();
        Prepared {
            location,
            event,
            body,
        }
    }

    /// The event.
    pub fn event(&self) -> &Event {
        &self.event
    }

    /// The event's canonical JSON ([`Event::canonical_json`]).
    pub fn body(&self) -> &str {
        &self.body
    }

    /// The location, event and body, taken apart.
    pub fn into_parts(self) -> (Location, Event, String) {
        (self.location, self.event, self.body)
    }
}

/// What an append takes for each input item: a parsed event (serialized on the way in) or an
/// already [`Prepared`] one, or the error that made an input item no event.
pub trait IntoPrepared {
    /// The item as a prepared event, or its parse error.
    fn into_prepared(self) -> Result<Prepared, ParseError>;
}

impl IntoPrepared for Result<(Location, Event), ParseError> {
    fn into_prepared(self) -> Result<Prepared, ParseError> {
        self.map(|(location, event)| Prepared::new(location, event))
    }
}

impl IntoPrepared for Result<Prepared, ParseError> {
    fn into_prepared(self) -> Result<Prepared, ParseError> {
        self
    }
}

/// Parses JSON text refusing duplicate keys at any depth and trailing characters.
pub fn parse_strict(text: &str) -> Result<Value, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let v = StrictValue.deserialize(&mut de)?;
    de.end()?;
    Ok(v)
}

/// Parses one line of JSON Lines input (one JSON object).
pub fn parse_line(location: Location, line: &str) -> Result<(Location, Event), ParseError> {
    let err = |field, message| ParseError {
        location,
        field,
        message,
    };
    let line = line.trim_end_matches(['\n', '\r']);
    if let Some(ev) = fast::parse(line) {
        return Ok((location, ev));
    }
    match parse_strict(line) {
        Ok(Value::Object(m)) => Event::from_object(m)
            .map(|ev| (location, ev))
            .map_err(|(field, message)| err(field, message)),
        Ok(_) => Err(err(
            None,
            match location {
                Location::Line(_) => "each line must be one JSON object",
                Location::Index(_) => "each event must be a JSON object",
            }
            .into(),
        )),
        Err(e) => Err(err(None, format!("malformed JSON: {e}"))),
    }
}

/// Parses an input batch: JSON Lines (one object per line; blank lines skipped), or one JSON
/// array of objects (when the first non-blank character is `[`).
/// Every error is returned with its location; the caller refuses the batch if there is any.
pub fn parse_batch(text: &str) -> Result<Vec<(Location, Event)>, Vec<ParseError>> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let one = |loc: Location,
               v: Value,
               out: &mut Vec<(Location, Event)>,
               errors: &mut Vec<ParseError>| match v {
        Value::Object(m) => match Event::from_object(m) {
            Ok(ev) => out.push((loc, ev)),
            Err((field, message)) => errors.push(ParseError {
                location: loc,
                field,
                message,
            }),
        },
        _ => errors.push(ParseError {
            location: loc,
            field: None,
            message: "each event must be a JSON object".into(),
        }),
    };
    if text.trim_start().starts_with('[') {
        match parse_strict(text) {
            Ok(Value::Array(items)) => {
                for (i, v) in items.into_iter().enumerate() {
                    one(Location::Index(i), v, &mut out, &mut errors);
                }
            }
            Ok(_) => {}
            Err(e) => errors.push(ParseError {
                location: Location::Line(e.line()),
                field: None,
                message: format!("malformed JSON array: {e}"),
            }),
        }
    } else {
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            match parse_line(Location::Line(i + 1), line) {
                Ok(x) => out.push(x),
                Err(e) => errors.push(e),
            }
            if errors.len() >= 100 {
                break;
            }
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = r#""source":{"document":"d.txt","quote":"q"}"#;

    /// `is_canonical_json` says exactly what comparing with `canonical_json` says: true for an
    /// event's own canonical text, false for any text that differs from it by a byte, a
    /// missing tail or an extra one.
    #[test]
    fn is_canonical_json_agrees_with_comparing_the_canonical_text() {
        for ev in crate::synth::events(300, 7) {
            let text = ev.canonical_json();
            assert!(ev.is_canonical_json(&text), "{text}");
            let cut = &text[..text.len() - 1];
            assert!(!ev.is_canonical_json(cut), "{cut}");
            assert!(!ev.is_canonical_json(""));
            assert!(!ev.is_canonical_json(&format!("{text} ")));
            assert!(!ev.is_canonical_json(&format!("{text}{text}")));
            let spaced = text.replacen(':', ": ", 1);
            assert!(!ev.is_canonical_json(&spaced), "{spaced}");
            let mut changed = text.clone().into_bytes();
            let mid = changed.len() / 2;
            changed[mid] = if changed[mid] == b'x' { b'y' } else { b'x' };
            let changed = String::from_utf8_lossy(&changed).into_owned();
            assert_eq!(
                ev.is_canonical_json(&changed),
                ev.canonical_json() == changed
            );
            assert!(!ev.is_canonical_json(&changed));
        }
    }

    fn parse(line: &str) -> Result<Event, ParseError> {
        parse_batch(line)
            .map(|mut v| v.remove(0).1)
            .map_err(|mut e| e.remove(0))
    }

    /// `template`'s placeholders (`<field>` texts, the party `unidentified:edit-me`) are
    /// refused naming the field, so an unedited template never reaches the log; texts that
    /// merely contain angle brackets are not placeholders.
    #[test]
    fn template_placeholders_are_refused_naming_the_field() {
        for (line, field) in [
            (
                r#"{"type":"statute_signed","date":"2013","party":"KAZ","source":{"document":"<document>","quote":"q"}}"#,
                "source.document",
            ),
            (
                r#"{"type":"statute_signed","date":"2013","party":"KAZ","source":{"document":"d.txt","quote":"<quote>"}}"#,
                "source.quote",
            ),
            (
                r#"{"type":"statute_signed","date":"2013","party":"KAZ","source":{"document":"d.txt","quote":"q"},"note":"<note>"}"#,
                "note",
            ),
            (
                r#"{"type":"statute_signed","date":"2013","party":"unidentified:edit-me","source":{"document":"d.txt","quote":"q"}}"#,
                "party",
            ),
            (
                r#"{"type":"meeting_held","date":"2013","organ":"general_assembly","host":"unidentified:edit-me","source":{"document":"d.txt","quote":"q"}}"#,
                "host",
            ),
        ] {
            let e = parse(line).unwrap_err();
            assert_eq!(e.field.as_deref(), Some(field), "{line}: {}", e.message);
            assert!(e.message.contains("placeholder"), "{}", e.message);
        }
        for text in ["<b>bold</b>", "a <note>", "<Note>", "<>", "<note"] {
            assert!(!is_placeholder(text), "{text}");
        }
        assert!(is_placeholder("<date_source>"));
        let ok = r#"{"type":"statute_signed","date":"2013","party":"unidentified:signatory-3","source":{"document":"d.txt","quote":"<b>bold</b>"}}"#;
        assert!(parse(ok).is_ok());
    }

    #[test]
    fn a_valid_event_round_trips_through_canonical_json() {
        let line = format!(
            r#"{{"note":"n","party":"KAZ","date":"2013-12","type":"statute_signed",{SRC}}}"#
        );
        let ev = parse(&line).unwrap();
        let canon = ev.canonical_json();
        assert_eq!(
            canon,
            r#"{"type":"statute_signed","date":"2013-12","party":"KAZ","source":{"document":"d.txt","quote":"q"},"note":"n"}"#
        );
        assert_eq!(Event::from_json(&canon).unwrap(), ev);
    }

    #[test]
    fn unknown_types_fields_and_store_fields_are_refused_naming_the_field() {
        let e = parse(&format!(
            r#"{{"type":"statute_stolen","date":"2013",{SRC}}}"#
        ))
        .unwrap_err();
        assert_eq!(e.field.as_deref(), Some("type"));
        let e = parse(&format!(
            r#"{{"type":"statute_signed","party":"KAZ","colour":"red","date":"2013",{SRC}}}"#
        ))
        .unwrap_err();
        assert_eq!(e.field.as_deref(), Some("colour"));
        let e = parse(&format!(
            r#"{{"type":"statute_signed","party":"KAZ","seq":4,"date":"2013",{SRC}}}"#
        ))
        .unwrap_err();
        assert_eq!(e.field.as_deref(), Some("seq"));
        let e = parse(&format!(
            r#"{{"type":"statute_signed","party":"XXX","date":"2013",{SRC}}}"#
        ))
        .unwrap_err();
        assert!(e.message.contains("unknown party"), "{}", e.message);
        let e = parse(&format!(
            r#"{{"type":"statute_signed","party":"KAZ","date":"2023-02-29",{SRC}}}"#
        ))
        .unwrap_err();
        assert_eq!(e.field.as_deref(), Some("date"), "{}", e.message);
        let e = parse(r#"{"type":"statute_signed","party":"KAZ","date":"2013"}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("source"));
    }

    #[test]
    fn session_zero_is_refused_naming_the_field() {
        // Regression (property suite): `session: 0` used to be accepted.
        for ty in [
            r#""type":"meeting_held","organ":"general_assembly""#,
            r#""type":"document_adopted","title":"t""#,
        ] {
            let e = parse(&format!(r#"{{{ty},"session":0,"date":"2013",{SRC}}}"#)).unwrap_err();
            assert_eq!(e.field.as_deref(), Some("session"), "{ty}");
            assert!(parse(&format!(r#"{{{ty},"session":1,"date":"2013",{SRC}}}"#)).is_ok());
        }
    }

    #[test]
    fn duplicate_keys_are_refused_at_any_depth() {
        assert!(parse(&format!(
            r#"{{"type":"statute_signed","party":"KAZ","party":"SAU","date":"2013",{SRC}}}"#
        ))
        .is_err());
        assert!(parse(r#"{"type":"statute_adopted","date":"2013","source":{"document":"a","document":"b","quote":"q"}}"#).is_err());
    }

    #[test]
    fn arrays_report_the_index_and_lines_the_line() {
        let e = parse_batch(&format!(
            "[{{\"type\":\"statute_adopted\",\"date\":\"2013\",{SRC}}}, 5]"
        ))
        .unwrap_err();
        assert_eq!(e[0].location, Location::Index(1));
        let e = parse_batch(&format!(
            "\n{{\"type\":\"statute_adopted\",\"date\":\"2013\",{SRC}}}\n{{oops"
        ))
        .unwrap_err();
        assert_eq!(e[0].location, Location::Line(3));
    }

    #[test]
    fn corrections_carry_a_complete_replacement() {
        let line = format!(
            r#"{{"type":"correction","corrects":3,"reason":"r","replacement":{{"type":"statute_signed","party":"KAZ","date":"2014",{SRC}}},{SRC}}}"#
        );
        let ev = parse(&line).unwrap();
        assert_eq!(
            ev.world_event().map(|w| w.kind.type_name()),
            Some("statute_signed")
        );
        let bad = format!(
            r#"{{"type":"correction","corrects":3,"reason":"r","replacement":{{"type":"statute_signed","date":"2014",{SRC}}},{SRC}}}"#
        );
        let e = parse(&bad).unwrap_err();
        assert!(e.message.contains("party"), "{}", e.message);
    }
}
