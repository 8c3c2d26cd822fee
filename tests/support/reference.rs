//! The reference model: the ledger written again, naively, from the event format and the rules
//! as `docs/event-format.md` and ARCHITECTURE.md state them, so that the tests hold the library
//! to something other than itself.
//!
//! It works on the JSON of the events (a `Vec` of values, seq = index + 1) and answers every
//! question by a linear scan from the start: which events are live, their replay order, whether
//! a log keeps the rules, the whole `state` at a day, the audit's Article 21(1) derivation. It
//! parses dates itself with `chrono` and never calls `iofs_ledger`'s projection, query, store or
//! date code. From the library it takes only plain data: the answer's structs (`State` and its
//! parts, so that every field is compared), the `Precision` and `Role` enums, and party names
//! from the party table (`Party::display_name`, a lookup, not a rule).
//!
//! Slow on purpose: quadratic scans over a few hundred events cost nothing in a test.
#![allow(dead_code)]

use chrono::{Duration, Months, NaiveDate};
use iofs_ledger::date::{EventDate, Precision};
use iofs_ledger::event::Role;
use iofs_ledger::party::Party;
use iofs_ledger::query::{
    BoardState, Counted, MemberEntry, Members, OfficeState, Organisation, PartyEntry, SeatEntry,
    State, Statute, TermEnded, Uncertain, Vacancy,
};
use serde_json::Value;

// ---------------------------------------------------------------------------------------------
// Dates, by the calendar
// ---------------------------------------------------------------------------------------------

/// The days a point date (`YYYY`, `YYYY-MM`, `YYYY-MM-DD`) may denote.
pub fn point_window(s: &str) -> Option<(NaiveDate, NaiveDate)> {
    let parts: Vec<&str> = s.split('-').collect();
    let num = |t: &str| t.parse::<u32>().ok();
    match parts.as_slice() {
        [y] if y.len() == 4 => {
            let y = num(y)? as i32;
            Some((
                NaiveDate::from_ymd_opt(y, 1, 1)?,
                NaiveDate::from_ymd_opt(y, 12, 31)?,
            ))
        }
        [y, m] if y.len() == 4 && m.len() == 2 => {
            let first = NaiveDate::from_ymd_opt(num(y)? as i32, num(m)?, 1)?;
            Some((
                first,
                first.checked_add_months(Months::new(1))? - Duration::days(1),
            ))
        }
        [y, m, d] if y.len() == 4 && m.len() == 2 && d.len() == 2 => {
            let day = NaiveDate::from_ymd_opt(num(y)? as i32, num(m)?, num(d)?)?;
            Some((day, day))
        }
        _ => None,
    }
}

/// The window of a `date` field: a point, or `{"not_before", "not_after"}`.
pub fn date_window(v: &Value) -> Option<(NaiveDate, NaiveDate)> {
    match v {
        Value::String(s) => point_window(s),
        Value::Object(m) => Some((
            point_window(m.get("not_before")?.as_str()?)?.0,
            point_window(m.get("not_after")?.as_str()?)?.1,
        )),
        _ => None,
    }
}

/// A date as the answers write it: the point as given, bounds as `between A and B`.
pub fn date_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Object(m) => format!(
            "between {} and {}",
            m["not_before"].as_str().unwrap_or_default(),
            m["not_after"].as_str().unwrap_or_default()
        ),
        other => panic!("not a date: {other}"),
    }
}

/// The date as the answers carry it: the library's date type, read from the event's JSON by
/// its own deserializer (plain data, as the answers' structs are; the windows, text and
/// precision the model uses are its own).
pub fn event_date(v: &Value) -> EventDate {
    serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("a date {v}: {e}"))
}

/// How precise a date is.
pub fn precision(v: &Value) -> Precision {
    match v {
        Value::String(s) => match s.len() {
            4 => Precision::Year,
            7 => Precision::Month,
            _ => Precision::Day,
        },
        _ => Precision::Bounded,
    }
}

/// `YYYY-MM-DD`.
pub fn iso(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

// ---------------------------------------------------------------------------------------------
// The log
// ---------------------------------------------------------------------------------------------

fn ty(v: &Value) -> &str {
    v["type"].as_str().unwrap_or_default()
}

/// Whether an event is a retraction or a correction (a record event).
pub fn is_record(v: &Value) -> bool {
    matches!(ty(v), "retraction" | "correction")
}

/// The target seq of a retraction or correction.
fn target(v: &Value) -> Option<u64> {
    match ty(v) {
        "retraction" => v["retracts"].as_u64(),
        "correction" => v["corrects"].as_u64(),
        _ => None,
    }
}

/// The date an event counts from: `takes_office` for an appointment that gives one, else `date`.
pub fn effective_date(v: &Value) -> &Value {
    if ty(v) == "officer_appointed" && !v["takes_office"].is_null() {
        &v["takes_office"]
    } else {
        &v["date"]
    }
}

/// A live world event in replay order.
#[derive(Clone, Debug)]
pub struct Live {
    /// The seq of the world event as first recorded (the replay tie-break).
    pub ord: u64,
    /// The seq that reports it: the latest correction's, or `ord`.
    pub seq: u64,
    /// The version in effect (the latest correction's replacement, or the event).
    pub event: Value,
    /// First and last day of its effective date.
    pub window: (NaiveDate, NaiveDate),
}

/// The live world events of `log` (retracted ones left out, corrected ones replaced by their
/// latest correction), ordered by the last day of their effective date, then by `ord`.
pub fn live(log: &[Value]) -> Vec<Live> {
    let mut out = Vec::new();
    for (i, v) in log.iter().enumerate() {
        let s = i as u64 + 1;
        if is_record(v) {
            continue;
        }
        let retracted = log
            .iter()
            .any(|r| ty(r) == "retraction" && r["retracts"].as_u64() == Some(s));
        if retracted {
            continue;
        }
        let mut seq = s;
        let mut event = v.clone();
        for (j, c) in log.iter().enumerate() {
            if ty(c) == "correction" && c["corrects"].as_u64() == Some(s) {
                seq = j as u64 + 1;
                event = c["replacement"].clone();
            }
        }
        let window = date_window(effective_date(&event)).expect("a generated date");
        out.push(Live {
            ord: s,
            seq,
            event,
            window,
        });
    }
    out.sort_by_key(|l| (l.window.1, l.ord));
    out
}

/// Whether every retraction and correction in `log` targets an earlier world event that no
/// earlier retraction retracted.
pub fn record_rules_hold(log: &[Value]) -> bool {
    log.iter().enumerate().all(|(i, v)| match target(v) {
        None => true,
        Some(t) => {
            let seq = i as u64 + 1;
            t >= 1
                && t < seq
                && !is_record(&log[t as usize - 1])
                && !log[..i]
                    .iter()
                    .any(|r| ty(r) == "retraction" && r["retracts"].as_u64() == Some(t))
        }
    })
}

/// Whether no date of `v` (its `date`, `end_date`, and a correction's replacement's) may begin
/// after `today`. (`takes_office` may lie ahead: an appointment can be announced.)
pub fn dates_not_after(v: &Value, today: NaiveDate) -> bool {
    let ok = |e: &Value| {
        ["date", "end_date"].iter().all(|f| match &e[*f] {
            Value::Null => true,
            d => date_window(d).is_some_and(|(first, _)| first <= today),
        })
    };
    ok(v) && (ty(v) != "correction" || ok(&v["replacement"]))
}

fn party(v: &Value) -> String {
    v["party"].as_str().unwrap_or_default().to_string()
}

/// Whether the live events of `log`, replayed in replay order, keep the world rules: a member
/// does not sign again, only a member withdraws, a party ratifies once, an observer is neither
/// a member nor admitted twice, the Statute enters into force once and is adopted once, the
/// organisation is established once and its Secretariat becomes operational once, no signature
/// is certainly before the adoption or the establishment, only the holder vacates the office.
pub fn world_rules_hold(log: &[Value]) -> bool {
    let rows = live(log);
    for (i, r) in rows.iter().enumerate() {
        let before = &rows[..i];
        let p = party(&r.event);
        let ok = match ty(&r.event) {
            "statute_signed" => !member_after(before, &p),
            "membership_withdrawn" => member_after(before, &p),
            "statute_ratified" => !before
                .iter()
                .any(|b| ty(&b.event) == "statute_ratified" && party(&b.event) == p),
            "observer_admitted" => !member_after(before, &p) && !observer_after(before, &p),
            "statute_entered_into_force" => !before
                .iter()
                .any(|b| ty(&b.event) == "statute_entered_into_force"),
            // Adopted once, and no signature certainly before it (the signature's window ends
            // before the adoption's begins).
            "statute_adopted" => {
                !before.iter().any(|b| ty(&b.event) == "statute_adopted")
                    && !signed_before(&rows, r.window.0)
            }
            // Established once, and no signature certainly before it.
            "organisation_established" => {
                !before
                    .iter()
                    .any(|b| ty(&b.event) == "organisation_established")
                    && !signed_before(&rows, r.window.0)
            }
            // Operational once.
            "secretariat_operational" => !before
                .iter()
                .any(|b| ty(&b.event) == "secretariat_operational"),
            "office_vacated" => {
                holder_after(before).as_deref() == r.event["person"].as_str()
                    && holder_after(before).is_some()
            }
            _ => true,
        };
        if !ok {
            return false;
        }
    }
    true
}

/// Whether a live signature's window ends before `day`.
fn signed_before(rows: &[Live], day: NaiveDate) -> bool {
    rows.iter()
        .any(|s| ty(&s.event) == "statute_signed" && s.window.1 < day)
}

/// Whether the log keeps the record rules and the world rules.
pub fn valid(log: &[Value]) -> bool {
    record_rules_hold(log) && world_rules_hold(log)
}

/// Whether the ledger holding `log` accepts `batch` recorded on `today`.
pub fn accepts(log: &[Value], batch: &[Value], today: NaiveDate) -> bool {
    let mut all = log.to_vec();
    all.extend_from_slice(batch);
    batch.iter().all(|v| dates_not_after(v, today)) && valid(&all)
}

/// The last event of `rows` (in order) about party `p` of one of `types`.
fn last_of<'a>(rows: &'a [Live], p: &str, types: &[&str]) -> Option<&'a Live> {
    rows.iter()
        .rev()
        .find(|r| types.contains(&ty(&r.event)) && party(&r.event) == p)
}

/// Whether `p` is a member after `rows`: its last signature or withdrawal is a signature.
fn member_after(rows: &[Live], p: &str) -> bool {
    last_of(rows, p, &["statute_signed", "membership_withdrawn"])
        .is_some_and(|r| ty(&r.event) == "statute_signed")
}

/// Whether `p` is an observer after `rows`: admitted, and not signed since.
fn observer_after(rows: &[Live], p: &str) -> bool {
    last_of(rows, p, &["observer_admitted", "statute_signed"])
        .is_some_and(|r| ty(&r.event) == "observer_admitted")
}

/// The Director General after `rows`.
fn holder_after(rows: &[Live]) -> Option<String> {
    rows.iter()
        .rev()
        .find(|r| matches!(ty(&r.event), "officer_appointed" | "office_vacated"))
        .and_then(|r| r.event["person"].as_str().map(str::to_string))
        .filter(|_| {
            rows.iter()
                .rev()
                .find(|r| matches!(ty(&r.event), "officer_appointed" | "office_vacated"))
                .is_some_and(|r| ty(&r.event) == "officer_appointed")
        })
}

// ---------------------------------------------------------------------------------------------
// The state at a day
// ---------------------------------------------------------------------------------------------

fn name(code: &str) -> String {
    Party::parse(code)
        .unwrap_or_else(|e| panic!("{code}: {e}"))
        .display_name()
}

fn party_entry(r: &Live) -> PartyEntry {
    let p = party(&r.event);
    let d = effective_date(&r.event);
    PartyEntry {
        unidentified: p.starts_with("unidentified:"),
        name: name(&p),
        code: p,
        since: event_date(d),
        counted_from: iso(r.window.1),
        precision: precision(d),
        seq: r.seq,
    }
}

/// Whether a type changes the state.
pub fn affects_state(t: &str) -> bool {
    matches!(
        t,
        "statute_signed"
            | "statute_ratified"
            | "observer_admitted"
            | "membership_withdrawn"
            | "statute_entered_into_force"
            | "organisation_established"
            | "statute_adopted"
            | "secretariat_operational"
            | "officer_appointed"
            | "office_vacated"
            | "board_elected"
    )
}

/// The first party an event names (for a board, its first seat held by a party).
fn first_party(v: &Value) -> Option<String> {
    match ty(v) {
        "board_elected" => v["seats"]
            .as_array()?
            .iter()
            .find_map(|s| s["party"].as_str().map(str::to_string)),
        _ => v["party"].as_str().map(str::to_string),
    }
}

fn role(s: &str) -> Role {
    match s {
        "chair" => Role::Chair,
        "member" => Role::Member,
        "permanent_member" => Role::PermanentMember,
        "honorary_chair" => Role::HonoraryChair,
        other => panic!("role {other}"),
    }
}

/// The state at day `d` of the ledger holding `log`; `known_at` is copied into the answer.
pub fn state(log: &[Value], d: NaiveDate, known_at: Option<&str>) -> State {
    let all = live(log);
    let rows: Vec<Live> = all.iter().filter(|r| r.window.1 <= d).cloned().collect();

    // Every party the counted events name, in code order.
    let mut parties: Vec<String> = rows
        .iter()
        .filter(|r| {
            matches!(
                ty(&r.event),
                "statute_signed"
                    | "membership_withdrawn"
                    | "statute_ratified"
                    | "observer_admitted"
            )
        })
        .map(|r| party(&r.event))
        .collect();
    parties.sort();
    parties.dedup();

    let mut members = Vec::new();
    let mut withdrawn = Vec::new();
    let mut ratified = Vec::new();
    let mut observers = Vec::new();
    for p in &parties {
        let rat = last_of(&rows, p, &["statute_ratified"]);
        if let Some(r) = rat {
            ratified.push(party_entry(r));
        }
        match last_of(&rows, p, &["statute_signed", "membership_withdrawn"]) {
            Some(r) if ty(&r.event) == "statute_signed" => {
                // Its ordinal: the signatures counted up to and including it.
                let pos = rows.iter().position(|x| x.ord == r.ord).unwrap_or(0);
                let ordinal = rows[..=pos]
                    .iter()
                    .filter(|x| ty(&x.event) == "statute_signed")
                    .count() as u64;
                let e = party_entry(r);
                members.push(MemberEntry {
                    code: e.code,
                    name: e.name,
                    unidentified: e.unidentified,
                    since: e.since,
                    counted_from: e.counted_from,
                    precision: e.precision,
                    ordinal,
                    replay_order: ordinal,
                    sourced_ordinals: Vec::new(),
                    ratified: rat.is_some(),
                    seq: e.seq,
                });
            }
            Some(r) => withdrawn.push(party_entry(r)),
            None => {}
        }
        if let Some(r) = last_of(&rows, p, &["observer_admitted", "statute_signed"]) {
            if ty(&r.event) == "observer_admitted" {
                observers.push(party_entry(r));
            }
        }
    }
    members.sort_by_key(|m| m.ordinal);

    let first = |t: &str| -> Option<EventDate> {
        rows.iter()
            .find(|r| ty(&r.event) == t)
            .map(|r| event_date(&r.event["date"]))
    };

    let office = rows
        .iter()
        .rev()
        .find(|r| matches!(ty(&r.event), "officer_appointed" | "office_vacated"));
    // The term rule: once an appointment's term has run out by the day, with no later
    // appointment or vacancy, no holder is asserted; the last holder is listed as uncertain.
    let mut past_term: Option<Uncertain> = None;
    let director_general = match office {
        None => OfficeState {
            holder: None,
            since: None,
            term_years: None,
            term_ends: None,
            vacated: None,
            seq: None,
            term_ended: None,
        },
        Some(r) if ty(&r.event) == "officer_appointed" => {
            let term = r.event["term_years"].as_u64().map(|t| t as u32);
            let end = term.and_then(|t| r.window.1.checked_add_months(Months::new(12 * t)));
            let person = r.event["person"].as_str().map(str::to_string);
            let ended = end.filter(|e| d >= *e).zip(person.clone());
            if let Some((e, p)) = &ended {
                let date = effective_date(&r.event);
                past_term = Some(Uncertain {
                    seq: r.seq,
                    kind: "officer_appointed".into(),
                    party: None,
                    person: Some(p.clone()),
                    date: event_date(date),
                    precision: precision(date),
                    why: format!(
                        "the {}-year term of {p} as Director General ended on {}; no source says who held the office after it, so no holder is asserted",
                        term.unwrap_or_default(),
                        iso(*e)
                    ),
                });
            }
            OfficeState {
                holder: if ended.is_some() { None } else { person },
                since: Some(event_date(effective_date(&r.event))),
                term_years: term,
                term_ends: end.map(iso),
                vacated: None,
                seq: Some(r.seq),
                term_ended: ended.map(|(e, p)| TermEnded {
                    person: p,
                    ended: iso(e),
                }),
            }
        }
        Some(r) => {
            let pos = rows.iter().position(|x| x.ord == r.ord).unwrap_or(0);
            OfficeState {
                holder: None,
                since: Some(event_date(&r.event["date"])),
                term_years: None,
                term_ends: None,
                vacated: Some(Vacancy {
                    previous: holder_after(&rows[..pos]),
                    reason: r.event["reason"].as_str().map(str::to_string),
                }),
                seq: Some(r.seq),
                term_ended: None,
            }
        }
    };

    let board = rows.iter().rev().find(|r| {
        ty(&r.event) == "board_elected" && r.event["organ"].as_str() == Some("executive_board")
    });
    let executive_board = match board {
        None => BoardState {
            chair: None,
            members: vec![],
            since: None,
            seq: None,
        },
        Some(r) => {
            let seats = r.event["seats"].as_array().cloned().unwrap_or_default();
            BoardState {
                chair: seats
                    .iter()
                    .find(|s| s["role"] == "chair")
                    .and_then(|s| s["party"].as_str().map(str::to_string)),
                members: seats
                    .iter()
                    .map(|s| match (s["party"].as_str(), s["office"].as_str()) {
                        (Some(p), _) => SeatEntry {
                            holder: p.to_string(),
                            name: name(p),
                            role: role(s["role"].as_str().unwrap_or_default()),
                        },
                        (None, Some(o)) => SeatEntry {
                            holder: o.to_string(),
                            name: "the Director General (ex officio)".into(),
                            role: role(s["role"].as_str().unwrap_or_default()),
                        },
                        _ => panic!("a seat without holder"),
                    })
                    .collect(),
                since: Some(event_date(&r.event["date"])),
                seq: Some(r.seq),
            }
        }
    };

    // Pending: live state-changing events whose window holds `d` but ends after it.
    let uncertain: Vec<Uncertain> = all
        .iter()
        .filter(|r| r.window.0 <= d && d < r.window.1 && affects_state(ty(&r.event)))
        .map(|r| {
            let date = effective_date(&r.event);
            let written = date_text(date);
            let what = match precision(date) {
                Precision::Year => "only the year is known",
                Precision::Month => "only the month is known",
                Precision::Bounded => "only bounds are known",
                Precision::Day => "the day is known",
            };
            Uncertain {
                seq: r.seq,
                kind: ty(&r.event).to_string(),
                party: first_party(&r.event),
                person: None,
                date: event_date(date),
                precision: precision(date),
                why: format!(
                    "{what} ({written}): it may have happened by {} (window {} to {}); it is counted from {}",
                    iso(d),
                    iso(r.window.0),
                    iso(r.window.1),
                    iso(r.window.1)
                ),
            }
        })
        .chain(past_term)
        .collect();

    let in_force = first("statute_entered_into_force");
    let signatures = rows
        .iter()
        .filter(|r| ty(&r.event) == "statute_signed")
        .count() as u64;
    State {
        as_of: iso(d),
        known_at: known_at.map(str::to_string),
        members: Members {
            count: members.len() as u64,
            parties: members,
        },
        ratifications: Counted {
            count: ratified.len() as u64,
            parties: ratified,
        },
        observers: Counted {
            count: observers.len() as u64,
            parties: observers,
        },
        withdrawn,
        statute: Statute {
            adopted: first("statute_adopted"),
            in_force: in_force.is_some(),
            since: in_force,
            signatures,
        },
        organisation: Organisation {
            established: first("organisation_established"),
            secretariat_operational: first("secretariat_operational"),
        },
        director_general,
        executive_board,
        uncertain,
    }
}

// ---------------------------------------------------------------------------------------------
// Article 21(1)
// ---------------------------------------------------------------------------------------------

/// What the audit derives about the Statute's entry into force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Force {
    /// The live `statute_entered_into_force`'s date as written, and the seq reporting it.
    pub asserted: Option<(String, u64)>,
    /// The tenth ratification by the day it counts from (ties: by the seq first recording it):
    /// party code and reporting seq.
    pub tenth: Option<(String, u64)>,
    /// Thirty days after the day the tenth ratification counts from.
    pub derived: Option<String>,
    /// When that ratification's day is not known: thirty days after each end of its window.
    pub derived_window: Option<(String, String)>,
    /// Whether the asserted date is the derived one.
    pub agrees: Option<bool>,
}

/// The audit's Article 21(1) finding for `log`: ten ratifications bring the Statute into force
/// on the thirtieth day after the tenth.
pub fn entry_into_force(log: &[Value]) -> Force {
    let rows = live(log);
    let asserted = rows
        .iter()
        .find(|r| ty(&r.event) == "statute_entered_into_force")
        .map(|r| (date_text(&r.event["date"]), r.seq));
    // Ratifications sorted by the day they count from, then by the reporting seq.
    let mut rats: Vec<&Live> = rows
        .iter()
        .filter(|r| ty(&r.event) == "statute_ratified")
        .collect();
    rats.sort_by_key(|r| (r.window.1, r.seq));
    let tenth = rats.get(9);
    let plus30 = |d: NaiveDate| iso(d + Duration::days(30));
    let derived = tenth.map(|r| plus30(r.window.1));
    let derived_window = tenth
        .filter(|r| precision(&r.event["date"]) != Precision::Day)
        .map(|r| (plus30(r.window.0), plus30(r.window.1)));
    Force {
        agrees: match (&asserted, &derived) {
            (Some((a, _)), Some(d)) => Some(a == d),
            _ => None,
        },
        asserted,
        tenth: tenth.map(|r| (party(&r.event), r.seq)),
        derived,
        derived_window,
    }
}
