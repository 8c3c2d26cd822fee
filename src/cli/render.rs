//! Rendering answers for people (aligned text) and for scripts (JSON, and CSV for tables).
//!
//! JSON dates have the event format's own shapes (`"YYYY"`, `"YYYY-MM"`, `"YYYY-MM-DD"` or
//! `{"not_before", "not_after"}`): the answer types hold `EventDate`s, never prose. CSV is
//! written by the `csv` crate, a header row first; a date column holds the date as written and
//! its first and last days as `YYYY-MM-DD` columns where a spreadsheet needs to sort.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::json;

use iofs_ledger::audit::{Diff, Report, Summary, Verification};
use iofs_ledger::date::EventDate;
use iofs_ledger::event::{Event, Kind, Role};
use iofs_ledger::party::{Party, OIC_MEMBER_STATES};
use iofs_ledger::query::{MemberEntry, State, Tenure, YearEnd};
use iofs_ledger::store::{Overrides, StoredEvent};

use super::fit;
use super::opts::OutputFormat;
use super::table::{Col, Table};

type Out<'a> = &'a mut dyn Write;

/// Whether a character would act on a terminal instead of showing: a control character (C0,
/// DEL, C1) or a bidirectional override or isolate (which reorders what follows it).
fn acts_on_terminal(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// A text from an event as shown to people: every character that would act on a terminal
/// (newlines included: a source cannot draw a line of its own) is written as `\u{..}`, so what
/// is printed is what is stored, visibly. JSON output keeps the text as data.
pub fn shown(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(acts_on_terminal) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if acts_on_terminal(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// The writer of human output: whatever reaches it, a control character other than the
/// newline that ends a line (or a bidirectional control) is written escaped, as [`shown`] does,
/// so no text from the ledger can move the cursor, clear the screen or overwrite a line.
pub struct Escaping<W: Write> {
    inner: W,
}

impl<W: Write> Escaping<W> {
    /// Wraps a writer.
    pub fn new(inner: W) -> Escaping<W> {
        Escaping { inner }
    }
}

impl<W: Write> Write for Escaping<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        if !text.chars().any(|c| c != '\n' && acts_on_terminal(c)) {
            self.inner.write_all(buf)?;
            return Ok(buf.len());
        }
        let mut out = String::with_capacity(text.len() + 8);
        for c in text.chars() {
            if c != '\n' && acts_on_terminal(c) {
                out.push_str(&format!("\\u{{{:x}}}", c as u32));
            } else {
                out.push(c);
            }
        }
        self.inner.write_all(out.as_bytes())?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Pretty JSON and a newline (the library's, which every JSON answer uses).
pub fn json<T: Serialize>(out: Out, v: &T) -> io::Result<()> {
    iofs_ledger::answer::json(out, v)
}

fn role(r: Role) -> &'static str {
    match r {
        Role::Chair => "chair",
        Role::Member => "member",
        Role::PermanentMember => "permanent member",
        Role::HonoraryChair => "honorary chair",
    }
}

/// `1st`, `2nd`, `3rd`, `4th`, `11th`, `21st`, …
fn nth(n: u64) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// The member list, numbered in replay order (which no source states); where a source states
/// a party's ordinal (`members` reads them), that ordinal follows with its source.
fn member_lines(out: Out, parties: &[MemberEntry]) -> io::Result<()> {
    const COLS: [Col; 4] = [
        Col::right("", 4, 4),
        Col::left(" ", 28, 6),
        Col::left(" ", 44, 10),
        Col::left(" ", 0, 16),
    ];
    let mut rows = Vec::with_capacity(parties.len());
    for m in parties {
        let sourced: Vec<String> = m
            .sourced_ordinals
            .iter()
            .map(|o| {
                format!(
                    "; {} signatory per {} (seq {})",
                    nth(o.value),
                    o.source,
                    o.seq
                )
            })
            .collect();
        rows.push(vec![
            format!("{}.", m.replay_order),
            m.code.clone(),
            m.name.clone(),
            format!(
                "since {}{}{}",
                m.since,
                if m.ratified { ", ratified" } else { "" },
                sourced.concat()
            ),
        ]);
    }
    Table::fitted("  ", &COLS, fit::width(), &rows).rows(out, &rows)
}

/// Parties with a name and a date (`state`'s observers and withdrawals, `diff`'s changes).
fn party_lines<'a>(
    out: Out,
    list: impl IntoIterator<Item = (&'a str, &'a str, String)>,
) -> io::Result<()> {
    const COLS: [Col; 3] = [
        Col::left("", 28, 6),
        Col::left(" ", 44, 10),
        Col::left(" ", 0, 16),
    ];
    let rows: Vec<Vec<String>> = list
        .into_iter()
        .map(|(code, name, when)| vec![code.to_string(), name.to_string(), when])
        .collect();
    Table::fitted("  ", &COLS, fit::width(), &rows).rows(out, &rows)
}

fn members_heading(out: Out, s: &State) -> io::Result<()> {
    writeln!(
        out,
        "Members: {} (numbered in replay order: by the last day each signature may have happened, then as recorded; not an ordinal any source states)",
        s.members.count
    )
}

fn header(out: Out, s: &State) -> io::Result<()> {
    match &s.known_at {
        Some(k) => writeln!(out, "As of {} (as known at {k})", s.as_of),
        None => writeln!(out, "As of {}", s.as_of),
    }
}

fn uncertain(out: Out, s: &State) -> io::Result<()> {
    if s.uncertain.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "Uncertain ({}): may have happened by {}, not counted yet",
        s.uncertain.len(),
        s.as_of
    )?;
    const COLS: [Col; 4] = [
        Col::left("", 9, 9),
        Col::left(" ", 22, 10),
        Col::left(" ", 28, 10),
        Col::left(" ", 0, 16),
    ];
    let rows: Vec<Vec<String>> = s
        .uncertain
        .iter()
        .map(|u| {
            vec![
                format!("seq {}", u.seq),
                u.kind.clone(),
                u.party
                    .as_deref()
                    .or(u.person.as_deref())
                    .unwrap_or("-")
                    .to_string(),
                u.why.clone(),
            ]
        })
        .collect();
    Table::fitted("  ", &COLS, fit::width(), &rows).rows(out, &rows)
}

/// `state`.
pub fn state(out: Out, s: &State) -> io::Result<()> {
    header(out, s)?;
    members_heading(out, s)?;
    member_lines(out, &s.members.parties)?;
    writeln!(out, "Ratifications: {}", s.ratifications.count)?;
    writeln!(out, "Observers: {}", s.observers.count)?;
    party_lines(
        out,
        s.observers.parties.iter().map(|o| {
            (
                o.code.as_str(),
                o.name.as_str(),
                format!("since {}", o.since),
            )
        }),
    )?;
    if !s.withdrawn.is_empty() {
        writeln!(out, "Withdrawn: {}", s.withdrawn.len())?;
        party_lines(
            out,
            s.withdrawn.iter().map(|o| {
                (
                    o.code.as_str(),
                    o.name.as_str(),
                    format!("since {}", o.since),
                )
            }),
        )?;
    }
    let adopted = s
        .statute
        .adopted
        .as_ref()
        .map(|a| format!("adopted {a}"))
        .unwrap_or_else(|| "not adopted".into());
    match &s.statute.since {
        Some(since) => writeln!(
            out,
            "Statute: in force since {since} ({adopted}; {} signatures)",
            s.statute.signatures
        )?,
        None => writeln!(
            out,
            "Statute: not in force ({adopted}; {} signatures)",
            s.statute.signatures
        )?,
    }
    let dg = &s.director_general;
    match (&dg.holder, &dg.since) {
        (Some(h), Some(since)) => {
            let term = match (dg.term_years, &dg.term_ends) {
                (Some(y), Some(e)) => format!("; {y}-year term, ends {e}"),
                (Some(y), None) => format!("; {y}-year term"),
                _ => String::new(),
            };
            writeln!(out, "Director General: {h} (since {since}{term})")?;
        }
        (None, Some(since)) if dg.term_ended.is_some() => {
            if let Some(t) = &dg.term_ended {
                writeln!(
                    out,
                    "Director General: not known ({}, appointed {since}, {}-year term ended {}; no source says who held the office after it: see uncertain)",
                    t.person,
                    dg.term_years.unwrap_or_default(),
                    t.ended
                )?;
            }
        }
        (None, Some(since)) => {
            let v = dg.vacated.as_ref();
            writeln!(
                out,
                "Director General: vacant since {since}{}",
                v.and_then(|v| v.previous.as_ref().map(|p| format!(
                    " ({}: {})",
                    shown(p),
                    shown(v.reason.as_deref().unwrap_or("left office"))
                )))
                .unwrap_or_default()
            )?;
        }
        _ => writeln!(out, "Director General: none recorded")?,
    }
    let eb = &s.executive_board;
    match &eb.since {
        Some(since) => {
            let chair = eb
                .members
                .iter()
                .find(|m| m.role == Role::Chair)
                .map(|m| format!("chair {} {}", m.holder, m.name))
                .unwrap_or_else(|| "no chair recorded".into());
            writeln!(out, "Executive Board: {chair} (elected {since})")?;
            const COLS: [Col; 3] = [
                Col::left("", 16, 8),
                Col::left(" ", 28, 6),
                Col::left(" ", 0, 16),
            ];
            let rows: Vec<Vec<String>> = eb
                .members
                .iter()
                .map(|m| vec![role(m.role).to_string(), m.holder.clone(), m.name.clone()])
                .collect();
            Table::fitted("  ", &COLS, fit::width(), &rows).rows(out, &rows)?;
        }
        None => writeln!(out, "Executive Board: none recorded")?,
    }
    let org = &s.organisation;
    writeln!(
        out,
        "Organisation: {}; secretariat {}",
        org.established
            .as_ref()
            .map(|e| format!("established {e}"))
            .unwrap_or_else(|| "not established".into()),
        org.secretariat_operational
            .as_ref()
            .map(|e| format!("operational since {e}"))
            .unwrap_or_else(|| "not operational".into()),
    )?;
    uncertain(out, s)
}

/// `members`.
pub fn members(out: Out, s: &State) -> io::Result<()> {
    header(out, s)?;
    members_heading(out, s)?;
    writeln!(
        out,
        "  (\"Nth signatory per …\": the ordinal a source states, with the claim's seq)"
    )?;
    member_lines(out, &s.members.parties)?;
    uncertain(out, s)
}

fn status(e: &StoredEvent, o: &Overrides) -> Option<String> {
    if let Some(r) = o.retracted_by(e.seq) {
        return Some(format!("retracted by seq {r}"));
    }
    let c = o.corrected_by(e.seq);
    (!c.is_empty()).then(|| {
        format!(
            "corrected by seq {}",
            c.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")
        )
    })
}

fn summary(ev: &Event) -> String {
    let parties: Vec<String> = ev
        .kind
        .parties()
        .iter()
        .map(|p| p.code().to_string())
        .collect();
    let extra = match &ev.kind {
        Kind::MeetingHeld {
            organ,
            session,
            extraordinary,
            place,
            online,
            ..
        } => format!(
            "{}{}{}{}{}",
            organ.title(),
            session.map(|s| format!(" #{s}")).unwrap_or_default(),
            if *extraordinary {
                " (extraordinary)"
            } else {
                ""
            },
            place
                .as_deref()
                .map(|p| format!(", {p}"))
                .unwrap_or_default(),
            if *online { ", online" } else { "" }
        ),
        Kind::OfficerAppointed {
            person,
            takes_office,
            ..
        } => format!(
            "{person}{}",
            takes_office
                .map(|t| format!(", takes office {t}"))
                .unwrap_or_default()
        ),
        Kind::OfficeVacated { person, reason, .. } => format!("{person} ({reason})"),
        Kind::BoardElected { organ, seats } => {
            format!("{} of {} seats", organ.title(), seats.len())
        }
        Kind::Claim { about, value, .. } => format!(
            "{} = {value}",
            serde_json::to_value(about)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default()
        ),
        Kind::DocumentAdopted { title, .. } => title.clone(),
        Kind::ProgrammeEstablished { name, .. } => name.clone(),
        Kind::AgreementSigned {
            title,
            counterparty,
        } => format!("{title} with {counterparty}"),
        Kind::ProposalMade { description, .. } => description.clone(),
        Kind::Retraction {
            retracts, reason, ..
        } => format!("seq {retracts}: {reason}"),
        Kind::Correction {
            corrects,
            replacement,
            reason,
            ..
        } => {
            format!(
                "seq {corrects} -> {} {}: {reason}",
                replacement.kind.type_name(),
                replacement.date.map(|d| d.to_string()).unwrap_or_default()
            )
        }
        _ => String::new(),
    };
    let mut s = parties.join(" ");
    if !extra.is_empty() {
        if !s.is_empty() {
            s.push(' ');
        }
        s.push_str(&extra);
    }
    shown(&s).into_owned()
}

/// The columns of `log`'s first line per event.
pub fn log_table() -> Table {
    const COLS: [Col; 5] = [
        Col::right("", 6, 6),
        Col::left("  ", 0, 27),
        Col::left("  ", 24, 12),
        Col::left(" ", 26, 10),
        Col::left(" ", 0, 16),
    ];
    Table::streaming("", &COLS, fit::width())
}

/// One `log` event: its line in [`log_table`]'s columns, then its hash and source.
pub fn log_line(out: Out, t: &Table, e: &StoredEvent, o: &Overrides) -> io::Result<()> {
    t.row(
        out,
        &[
            e.seq.to_string(),
            e.recorded_at.clone(),
            e.event.kind.type_name().to_string(),
            e.event
                .date
                .map(|d| d.to_string())
                .unwrap_or_else(|| "-".into()),
            format!(
                "{}{}",
                summary(&e.event),
                status(e, o).map(|s| format!("  [{s}]")).unwrap_or_default()
            ),
        ],
    )?;
    writeln!(
        out,
        "        hash {}  source {}",
        e.hash,
        shown(e.event.source.citation())
    )
}

/// `history PARTY` as text, written as its events arrive: [`History::start`] with the number
/// of events, then [`History::event`] for each in seq order (the JSON is `answer::write`'s).
pub struct History(Table);

impl History {
    /// Writes the heading.
    pub fn start(out: Out, p: &Party, count: u64) -> io::Result<History> {
        writeln!(
            out,
            "{} {} ({} event{})",
            p.code(),
            p.display_name(),
            count,
            if count == 1 { "" } else { "s" }
        )?;
        const COLS: [Col; 5] = [
            Col::left("", 26, 10),
            Col::left(" ", 8, 7),
            Col::left(" ", 9, 9),
            Col::left(" ", 22, 10),
            Col::left(" ", 0, 16),
        ];
        Ok(History(Table::streaming("  ", &COLS, fit::width())))
    }

    /// Writes one event.
    pub fn event(&mut self, out: Out, e: &StoredEvent, o: &Overrides) -> io::Result<()> {
        let w = e.event.world_event().unwrap_or(&e.event);
        let precision = w
            .date
            .map(|d| {
                serde_json::to_value(d.precision())
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default()
            })
            .unwrap_or_else(|| "-".into());
        self.0.row(
            out,
            &[
                w.date.map(|d| d.to_string()).unwrap_or_else(|| "-".into()),
                precision,
                format!("seq {}", e.seq),
                e.event.kind.type_name().to_string(),
                format!(
                    "{}{}",
                    summary(&e.event),
                    status(e, o).map(|s| format!("  [{s}]")).unwrap_or_default()
                ),
            ],
        )?;
        writeln!(
            out,
            "      recorded {}  source {}: \"{}\"",
            e.recorded_at,
            shown(e.event.source.citation()),
            shown(&e.event.source.quote)
        )
    }
}

/// `verify`.
pub fn verification(out: Out, v: &Verification) -> io::Result<()> {
    if v.ok {
        writeln!(
            out,
            "ok: {} events; schema, hash chain, rules and read models verified; head {}:{}",
            v.events, v.head_seq, v.head_hash
        )
    } else {
        writeln!(
            out,
            "FAILED{}: {} problem{}",
            v.first_bad_seq
                .map(|s| format!(" at seq {s}"))
                .unwrap_or_default(),
            v.problems.len(),
            if v.problems.len() == 1 { "" } else { "s" }
        )?;
        for p in &v.problems {
            writeln!(out, "  {}", p.what)?;
        }
        Ok(())
    }
}

/// `diff`.
pub fn diff(out: Out, d: &Diff) -> io::Result<()> {
    writeln!(
        out,
        "From {} to {}{}",
        d.from,
        d.to,
        d.known_at
            .as_deref()
            .map(|k| format!(" (as known at {k})"))
            .unwrap_or_default()
    )?;
    writeln!(out, "Members: {} -> {}", d.member_count.0, d.member_count.1)?;
    for (label, list) in [("Joined", &d.joined), ("Left", &d.left)] {
        if !list.is_empty() {
            writeln!(out, "{label}: {}", list.len())?;
            party_lines(
                out,
                list.iter()
                    .map(|m| (m.code.as_str(), m.name.as_str(), m.since.to_string())),
            )?;
        }
    }
    for (label, list) in [
        ("Ratified", &d.ratified),
        ("Observers admitted", &d.observers_admitted),
        ("Observers ended", &d.observers_ended),
    ] {
        if !list.is_empty() {
            writeln!(out, "{label}: {}", list.len())?;
            party_lines(
                out,
                list.iter()
                    .map(|m| (m.code.as_str(), m.name.as_str(), m.since.to_string())),
            )?;
        }
    }
    if let Some((a, b)) = d.statute_in_force {
        writeln!(out, "Statute in force: {a} -> {b}")?;
    }
    if let Some((a, b)) = &d.director_general {
        let (ta, tb) = &d.director_general_term_ended;
        let show = |h: &Option<String>, ended: &Option<String>, none: &str| match (h, ended) {
            (Some(h), _) => h.clone(),
            (None, Some(p)) => format!("not known ({p}'s term ended)"),
            (None, None) => none.to_string(),
        };
        writeln!(
            out,
            "Director General: {} -> {}",
            show(a, ta, "none"),
            show(b, tb, "vacant")
        )?;
    }
    if let Some((a, b)) = &d.executive_board {
        let chair = |c: &Option<String>| c.clone().unwrap_or_else(|| "no chair".into());
        writeln!(
            out,
            "Executive Board: {} seats (chair {}) -> {} seats (chair {}), elected {}",
            a.members.len(),
            chair(&a.chair),
            b.members.len(),
            chair(&b.chair),
            b.since.map(|d| d.text()).unwrap_or_else(|| "-".into())
        )?;
    }
    Ok(())
}

/// `audit`.
pub fn audit(out: Out, r: &Report) -> io::Result<()> {
    writeln!(out, "Audit of {} events, head {}", r.events, r.head)?;
    let failing = r.claims.iter().filter(|c| c.holds == Some(false)).count();
    writeln!(
        out,
        "\nClaims checked against replay: {} ({} disagree)",
        r.claims.len(),
        failing
    )?;
    for c in &r.claims {
        let verdict = match c.holds {
            Some(true) => "holds   ",
            Some(false) => "DIFFERS ",
            None => "text    ",
        };
        let about = serde_json::to_value(c.about)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default();
        writeln!(
            out,
            "  {verdict} seq {:<5} {:<20} {}{} claimed {} at {}; replay {}  [{}]",
            c.seq,
            about,
            c.party
                .as_deref()
                .map(|p| format!("{p} "))
                .unwrap_or_default(),
            c.topic
                .as_deref()
                .map(|t| format!("({})", shown(t)))
                .unwrap_or_default(),
            shown(&c.claimed.to_string()),
            c.date,
            shown(&c.replay.to_string()),
            shown(c.source.citation())
        )?;
    }
    writeln!(
        out,
        "\nContradictions (claims sharing a topic): {}",
        r.contradictions.len()
    )?;
    for c in &r.contradictions {
        writeln!(
            out,
            "  {}: seqs {}{}",
            shown(&c.topic),
            c.claims
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            if c.any_fails {
                " (some disagree with replay)"
            } else {
                ""
            }
        )?;
    }
    let ef = &r.entry_into_force;
    writeln!(out, "\nEntry into force: {}", ef.finding)?;
    writeln!(
        out,
        "\nDates not stated as a day, or inferred: {}",
        r.dates.len()
    )?;
    for d in &r.dates {
        writeln!(
            out,
            "  seq {:<5} {:<26} {:<26} {}",
            d.seq,
            d.kind,
            d.date.text(),
            d.inferred
                .as_deref()
                .map(|i| format!("inferred: {}", shown(i)))
                .unwrap_or_else(|| "precision as written".into())
        )?;
    }
    writeln!(
        out,
        "\nUnidentified placeholder parties: {}",
        r.placeholders.len()
    )?;
    for p in &r.placeholders {
        writeln!(
            out,
            "  {:<32} seqs {}",
            p.party,
            p.seqs
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )?;
    }
    writeln!(
        out,
        "\nIncomplete records (ratified, no signature recorded): {}",
        r.incomplete.len()
    )?;
    for i in &r.incomplete {
        writeln!(out, "  seq {:<5} {:<28} {}", i.seq, i.party, i.finding)?;
    }
    writeln!(out, "\nRetractions and corrections: {}", r.amendments.len())?;
    for a in &r.amendments {
        writeln!(
            out,
            "  seq {:<5} {} of seq {} recorded {}: {}",
            a.seq,
            a.kind,
            a.target,
            a.recorded_at,
            shown(&a.reason)
        )?;
    }
    Ok(())
}

/// The columns of `meetings`.
pub fn meetings_table() -> Table {
    const COLS: [Col; 2] = [Col::left("", 26, 10), Col::left(" ", 0, 16)];
    Table::streaming("", &COLS, fit::width())
}

/// One meeting of `meetings` as text, in [`meetings_table`]'s columns (the JSON is
/// `answer::write`'s).
pub fn meeting(out: Out, t: &Table, e: &StoredEvent) -> io::Result<()> {
    let w = e.event.world_event().unwrap_or(&e.event);
    let when = match (w.date, w.end_date) {
        (Some(d), Some(end)) => format!("{d} to {end}"),
        (Some(d), None) => d.to_string(),
        _ => "-".into(),
    };
    t.row(out, &[when, format!("{}  (seq {})", summary(w), e.seq)])
}

/// `years`.
pub fn years(out: Out, years: &[YearEnd]) -> io::Result<()> {
    let mut rows = vec![series_header("as of")];
    for y in years {
        rows.push(vec![
            y.as_of.clone(),
            y.members.to_string(),
            y.ratifications.to_string(),
            y.observers.to_string(),
            if y.in_force { "in force" } else { "-" }.to_string(),
            match (&y.director_general, &y.director_general_term_ended) {
                (Some(d), _) => d.clone(),
                (None, Some(_)) => "? (term ended)".to_string(),
                (None, None) => "-".to_string(),
            },
            y.board_chair.as_deref().unwrap_or("-").to_string(),
            y.uncertain.to_string(),
        ]);
    }
    series_table(out, &rows, 20)
}

/// The header row of `years` and `timeline`, the first column named `first`.
pub fn series_header(first: &str) -> Vec<String> {
    [
        first,
        "members",
        "ratifications",
        "observers",
        "statute",
        "director general",
        "EB chair",
        "uncertain",
    ]
    .map(String::from)
    .to_vec()
}

/// The table of `years` and `timeline` (the director general's column padded to `dg`).
pub fn series_table(out: Out, rows: &[Vec<String>], dg: usize) -> io::Result<()> {
    // Numbers never wrap (each column is at least as wide as its heading); names do.
    let cols = [
        Col::left("", 11, 10),
        Col::right(" ", 7, 7),
        Col::right(" ", 13, 13),
        Col::right(" ", 9, 9),
        Col::left(" ", 9, 5),
        Col::left(" ", dg, 8),
        Col::left(" ", 8, 5),
        Col::right(" ", 9, 9),
    ];
    Table::fitted("", &cols, fit::width(), rows).rows(out, rows)
}

/// `officers`.
pub fn officers(out: Out, t: &[Tenure]) -> io::Result<()> {
    const COLS: [Col; 2] = [Col::left("", 20, 10), Col::left(" ", 0, 16)];
    let mut rows = Vec::with_capacity(t.len());
    for x in t {
        rows.push(vec![
            shown(&x.person).into_owned(),
            format!(
                "from {}{}{} (seq {})",
                x.from,
                x.term_years
                    .map(|y| format!(", {y}-year term"))
                    .unwrap_or_default(),
                match (&x.until, &x.ended_by, &x.after_term) {
                    (Some(u), Some(why), Some(a)) => format!(", until {u} ({why}); {a}"),
                    (Some(u), Some(why), None) => format!(", until {u} ({why})"),
                    (_, _, Some(a)) => format!(", in office as last recorded; {a}"),
                    _ => ", in office".to_string(),
                },
                x.seq
            ),
        ]);
    }
    Table::fitted("", &COLS, fit::width(), &rows).rows(out, &rows)
}

/// `parties`.
pub fn parties(out: Out, format: OutputFormat) -> io::Result<()> {
    if format == OutputFormat::Csv {
        let mut w = csv_writer(out);
        w.write_record(["code", "name"])?;
        for (c, n) in OIC_MEMBER_STATES {
            w.write_record([c, n])?;
        }
        return w.flush();
    }
    if format == OutputFormat::Json {
        return json(
            out,
            &OIC_MEMBER_STATES
                .iter()
                .map(|(c, n)| json!({"code": c, "name": n}))
                .collect::<Vec<_>>(),
        );
    }
    for (c, n) in OIC_MEMBER_STATES {
        writeln!(out, "{c}  {n}")?;
    }
    writeln!(
        out,
        "unidentified:<label>  a party a source counts but does not name"
    )
}

pub use iofs_ledger::answer::Receipt;

pub fn csv_writer(out: &mut dyn Write) -> csv::Writer<&'_ mut dyn Write> {
    csv::WriterBuilder::new().from_writer(out)
}

/// The first and last day of a date, as `YYYY-MM-DD`.
fn window(d: &EventDate) -> (String, String) {
    let (a, b) = d.window();
    (a.text(), b.text())
}

/// `members --format csv`.
pub fn members_csv(out: Out, s: &State) -> io::Result<()> {
    let mut w = csv_writer(out);
    w.write_record([
        "ordinal",
        "code",
        "name",
        "unidentified",
        "since",
        "since_first_day",
        "counted_from",
        "precision",
        "ratified",
        "seq",
    ])?;
    for m in &s.members.parties {
        w.write_record([
            m.ordinal.to_string(),
            m.code.clone(),
            m.name.clone(),
            m.unidentified.to_string(),
            m.since.text(),
            window(&m.since).0,
            m.counted_from.clone(),
            precision_text(m.precision),
            m.ratified.to_string(),
            m.seq.to_string(),
        ])?;
    }
    w.flush()
}

fn precision_text(p: iofs_ledger::date::Precision) -> String {
    serde_json::to_value(p)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default()
}

/// `log --format csv`: written row by row as the log streams.
pub struct LogCsv<'a>(csv::Writer<&'a mut dyn Write>);

impl<'a> LogCsv<'a> {
    /// A writer over `out`.
    pub fn new(out: &'a mut dyn Write) -> LogCsv<'a> {
        LogCsv(csv_writer(out))
    }

    /// The header row.
    pub fn header(&mut self) -> io::Result<()> {
        self.0.write_record([
            "seq",
            "recorded_at",
            "type",
            "date",
            "date_first_day",
            "date_last_day",
            "summary",
            "source",
            "hash",
            "status",
        ])?;
        Ok(())
    }

    /// One event.
    pub fn row(&mut self, e: &StoredEvent, o: &Overrides) -> io::Result<()> {
        let (first, last) = e.event.date.as_ref().map(window).unwrap_or_default();
        self.0.write_record([
            e.seq.to_string(),
            e.recorded_at.clone(),
            e.event.kind.type_name().to_string(),
            e.event.date.map(|d| d.text()).unwrap_or_default(),
            first,
            last,
            summary(&e.event),
            e.event.source.citation().to_string(),
            e.hash.clone(),
            status(e, o).unwrap_or_default(),
        ])?;
        Ok(())
    }

    /// Flushes what is buffered.
    pub fn finish(mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// `history PARTY --format csv`, written as its events arrive: [`HistoryCsv::start`] writes
/// the header, [`HistoryCsv::event`] one row per event in seq order, [`HistoryCsv::finish`]
/// flushes.
pub struct HistoryCsv<'a> {
    w: csv::Writer<&'a mut dyn Write>,
    code: String,
}

impl<'a> HistoryCsv<'a> {
    /// Writes the header row.
    pub fn start(out: &'a mut dyn Write, p: &Party) -> io::Result<HistoryCsv<'a>> {
        let mut w = csv_writer(out);
        w.write_record([
            "party",
            "seq",
            "recorded_at",
            "type",
            "date",
            "date_first_day",
            "date_last_day",
            "precision",
            "summary",
            "source",
            "quote",
            "status",
        ])?;
        Ok(HistoryCsv {
            w,
            code: p.code().to_string(),
        })
    }

    /// Writes one event's row.
    pub fn event(&mut self, e: &StoredEvent, o: &Overrides) -> io::Result<()> {
        let wd = e.event.world_event().unwrap_or(&e.event).date;
        let (first, last) = wd.as_ref().map(window).unwrap_or_default();
        self.w.write_record([
            self.code.clone(),
            e.seq.to_string(),
            e.recorded_at.clone(),
            e.event.kind.type_name().to_string(),
            wd.map(|d| d.text()).unwrap_or_default(),
            first,
            last,
            wd.map(|d| precision_text(d.precision()))
                .unwrap_or_default(),
            summary(&e.event),
            e.event.source.citation().to_string(),
            e.event.source.quote.clone(),
            status(e, o).unwrap_or_default(),
        ])?;
        Ok(())
    }

    /// Ends the answer.
    pub fn finish(mut self) -> io::Result<()> {
        self.w.flush()
    }
}

/// `diff --format csv`: one row per change; parties joined, left, ratified, admitted as or
/// ceasing to be observers, then the Statute, the Director General and the Executive Board
/// when they changed (`before -> after` in `name`).
pub fn diff_csv(out: Out, d: &Diff) -> io::Result<()> {
    let mut w = csv_writer(out);
    w.write_record(["change", "code", "name", "since", "seq"])?;
    for (change, list) in [("joined", &d.joined), ("left", &d.left)] {
        for m in list {
            w.write_record([
                change.to_string(),
                m.code.clone(),
                m.name.clone(),
                m.since.text(),
                m.seq.to_string(),
            ])?;
        }
    }
    for (change, list) in [
        ("ratified", &d.ratified),
        ("observer_admitted", &d.observers_admitted),
        ("observer_ended", &d.observers_ended),
    ] {
        for m in list {
            w.write_record([
                change.to_string(),
                m.code.clone(),
                m.name.clone(),
                m.since.text(),
                m.seq.to_string(),
            ])?;
        }
    }
    let mut other =
        |change: &str, name: String| w.write_record([change, "", name.as_str(), "", ""]);
    if let Some((a, b)) = d.statute_in_force {
        other("statute_in_force", format!("{a} -> {b}"))?;
    }
    if let Some((a, b)) = &d.director_general {
        other(
            "director_general",
            format!(
                "{} -> {}",
                a.as_deref().unwrap_or("none"),
                b.as_deref().unwrap_or("vacant")
            ),
        )?;
    }
    if let Some((a, b)) = &d.executive_board {
        other(
            "executive_board_chair",
            format!(
                "{} -> {}",
                a.chair.as_deref().unwrap_or("none"),
                b.chair.as_deref().unwrap_or("none")
            ),
        )?;
    }
    w.flush()
}

/// `meetings --format csv`, written as the meetings arrive: [`MeetingsCsv::start`] writes the
/// header, [`MeetingsCsv::event`] one row per meeting in replay order, [`MeetingsCsv::finish`]
/// flushes.
pub struct MeetingsCsv<'a> {
    w: csv::Writer<&'a mut dyn Write>,
}

impl<'a> MeetingsCsv<'a> {
    /// Writes the header row.
    pub fn start(out: &'a mut dyn Write) -> io::Result<MeetingsCsv<'a>> {
        let mut w = csv_writer(out);
        w.write_record([
            "seq",
            "date",
            "end_date",
            "first_day",
            "last_day",
            "meeting",
            "source",
        ])?;
        Ok(MeetingsCsv { w })
    }

    /// Writes one meeting's row.
    pub fn event(&mut self, e: &StoredEvent) -> io::Result<()> {
        let m = e.event.world_event().unwrap_or(&e.event);
        let first = m.date.map(|d| d.window().0.text()).unwrap_or_default();
        let last = m
            .end_date
            .or(m.date)
            .map(|d| d.window().1.text())
            .unwrap_or_default();
        self.w.write_record([
            e.seq.to_string(),
            m.date.map(|d| d.text()).unwrap_or_default(),
            m.end_date.map(|d| d.text()).unwrap_or_default(),
            first,
            last,
            summary(m),
            m.source.citation().to_string(),
        ])?;
        Ok(())
    }

    /// Ends the answer.
    pub fn finish(mut self) -> io::Result<()> {
        self.w.flush()
    }
}

/// `years --format csv`.
pub fn years_csv(out: Out, years: &[YearEnd]) -> io::Result<()> {
    let mut w = csv_writer(out);
    w.write_record([
        "as_of",
        "members",
        "ratifications",
        "observers",
        "in_force",
        "director_general",
        "board_chair",
        "uncertain",
    ])?;
    for y in years {
        w.write_record([
            y.as_of.clone(),
            y.members.to_string(),
            y.ratifications.to_string(),
            y.observers.to_string(),
            y.in_force.to_string(),
            y.director_general.clone().unwrap_or_default(),
            y.board_chair.clone().unwrap_or_default(),
            y.uncertain.to_string(),
        ])?;
    }
    w.flush()
}

/// `officers --format csv`.
pub fn officers_csv(out: Out, t: &[Tenure]) -> io::Result<()> {
    let mut w = csv_writer(out);
    w.write_record([
        "person",
        "from",
        "counted_from",
        "term_years",
        "until",
        "ended_by",
        "seq",
    ])?;
    for x in t {
        w.write_record([
            x.person.clone(),
            x.from.text(),
            x.counted_from.clone(),
            x.term_years.map(|y| y.to_string()).unwrap_or_default(),
            x.until.map(|d| d.text()).unwrap_or_default(),
            x.ended_by.clone().unwrap_or_default(),
            x.seq.to_string(),
        ])?;
    }
    w.flush()
}

/// `audit --summary`.
pub fn audit_summary(out: Out, s: &Summary) -> io::Result<()> {
    writeln!(out, "Audit of {} events, head {}", s.events, s.head)?;
    writeln!(
        out,
        "  claims checked against replay  {:>6}  ({} disagree, {} statements not checkable)",
        s.claims, s.claims_disagreeing, s.claims_unchecked
    )?;
    writeln!(
        out,
        "  contradicting topics           {:>6}",
        s.contradictions
    )?;
    writeln!(
        out,
        "  dates not stated as a day      {:>6}  ({} inferred)",
        s.dates_not_exact, s.dates_inferred
    )?;
    writeln!(
        out,
        "  unidentified placeholders      {:>6}",
        s.placeholders
    )?;
    writeln!(out, "  retractions and corrections    {:>6}", s.amendments)?;
    writeln!(
        out,
        "  entry into force by Art. 21(1) {:>6}",
        match s.entry_into_force_agrees {
            Some(true) => "agrees",
            Some(false) => "DIFFERS",
            None => "-",
        }
    )?;
    writeln!(out, "Run `iofs-ledger audit` for every finding.")
}
