//! The report's pages: pure functions from [`Answers`] to HTML. maud escapes every text and
//! attribute value it is given, so a quote holding `<script>` shows as text; nothing here
//! writes markup from strings (`PreEscaped` is used only for the stylesheet shipped in the
//! binary). The pages carry no script and load nothing: styles are inline, the chart is inline
//! SVG, and a Content-Security-Policy forbids scripts as a second line of defence.

use std::collections::BTreeMap;

use maud::{html, Markup, PreEscaped, DOCTYPE};

use super::chart::{Marker, Series, StepChart};
use super::{party_file, Answers, PartyHistory};
use crate::audit::Report;
use crate::date::{Day, EventDate, Precision};
use crate::event::{ClaimAbout, Event, Kind, Role, Source};
use crate::query::{PartyEntry, Uncertain};
use crate::store::{Overrides, StoredEvent};

const STYLE: &str = include_str!("style.css");

/// The most General Assemblies the chart marks; beyond it, none are marked (and the legend
/// says so).
const MOST_MARKERS: usize = 60;

/// A page of the report, for links between pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page<'a> {
    /// The status page.
    Index,
    /// A party's page (its code).
    Party(&'a str),
    /// Meetings (all of them, or when there are many, a list of years).
    Meetings,
    /// The meetings of one year (when there are too many for one page).
    MeetingsYear(i32),
    /// The audit.
    Audit,
}

/// Links between the files of the static report (`index.html`, `party-KAZ.html`…).
pub fn static_link(p: Page<'_>) -> String {
    match p {
        Page::Index => "index.html".into(),
        Page::Party(code) => party_file(code),
        Page::Meetings => "meetings.html".into(),
        Page::MeetingsYear(y) => format!("meetings-{y}.html"),
        Page::Audit => "audit.html".into(),
    }
}

/// How pages are put together where they are served: how they link to each other, and what
/// goes at the top of each (a live server's date form; nothing in the static report).
pub struct PageContext {
    /// The address of a page.
    pub link: Box<dyn Fn(Page<'_>) -> String + Send + Sync>,
    /// Markup put at the top of every page's main content.
    pub form: Option<Markup>,
}

impl Default for PageContext {
    fn default() -> Self {
        PageContext {
            link: Box::new(static_link),
            form: None,
        }
    }
}

fn precision_word(p: Precision) -> Option<(&'static str, &'static str)> {
    match p {
        Precision::Day => None,
        Precision::Month => Some(("month", "only the month is known")),
        Precision::Year => Some(("year", "only the year is known")),
        Precision::Bounded => Some(("bounds", "only bounds are known")),
    }
}

/// A date as written, with its precision marked when it is not a day.
fn date(d: &EventDate) -> Markup {
    html! {
        span.d {
            span.date { (d.text()) }
            @if let Some((word, why)) = precision_word(d.precision()) {
                " "
                abbr.prec title={(why) "; counted from " (d.effective_day().text())} { (word) }
            }
        }
    }
}

fn entry_date(e: &PartyEntry) -> Markup {
    date(&e.since)
}

fn layout(a: &Answers, ctx: &PageContext, title: &str, body: Markup) -> Markup {
    let link = &ctx.link;
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:";
                meta name="generator" content={"iofs-ledger " (env!("CARGO_PKG_VERSION"))};
                title { (title) " · IOFS ledger, " (a.as_of.text()) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header.site {
                    p.org { "Islamic Organisation for Food Security (IOFS) · from its event ledger" }
                    h1 { (title) }
                    nav aria-label="Report pages" {
                        ul {
                            li { a href=(link(Page::Index)) { "Status" } }
                            li { a href=(link(Page::Meetings)) { "Meetings" } }
                            li { a href=(link(Page::Audit)) { "Audit" } }
                        }
                    }
                }
                main id="main" {
                    @if let Some(f) = &ctx.form {
                        div.form-slot { (f) }
                    }
                    p.lead {
                        "As of " time id="as-of" datetime=(a.as_of.text()) { (a.as_of.text()) }
                        @if let Some(k) = &a.known_at {
                            ", as the ledger knew it at " time id="known-at" datetime=(k) { (k) }
                        }
                        "."
                    }
                    (body)
                }
                (footer(a))
            }
        }
    }
}

fn footer(a: &Answers) -> Markup {
    let as_of = a.as_of.text();
    let known = a
        .known_at
        .as_deref()
        .map(|k| format!(" --known-at {k}"))
        .unwrap_or_default();
    html! {
        footer.site {
            p {
                "Made by iofs-ledger " (env!("CARGO_PKG_VERSION")) " from the ledger at head "
                code.hash id="head" { (a.head) }
                " (last seq and its hash), as of " (as_of)
                @if let Some(k) = &a.known_at { ", as known at " (k) }
                ". Every event is a past-tense fact with its source; nothing here is computed apart from the ledger's own answers."
            }
            p { "To check this report against a copy of the ledger:" }
            pre {
                "iofs-ledger verify --since-head " (a.head) "\n"
                "iofs-ledger state --as-of " (as_of) (known) " --json\n"
                "iofs-ledger report --out DIR --as-of " (as_of) (known)
            }
            p { "The first proves the log only grew since this report was made (its hash chain holds and the head above is in it); the second prints the numbers this report shows; the third makes the same report again." }
        }
    }
}

fn party_link(ctx: &PageContext, code: &str, name: &str) -> Markup {
    html! { a href=((ctx.link)(Page::Party(code))) { (name) } }
}

/// One row of the status table.
#[derive(Default)]
struct StatusRow<'a> {
    name: String,
    signature: Option<Markup>,
    ratification: Option<Markup>,
    observer: Option<Markup>,
    withdrawal: Option<Markup>,
    pending: Vec<&'a Uncertain>,
}

fn status_rows(a: &Answers) -> BTreeMap<(String, String), StatusRow<'_>> {
    let s = &a.state;
    let mut rows: BTreeMap<String, StatusRow<'_>> = BTreeMap::new();
    for m in &s.members.parties {
        let r = rows.entry(m.code.clone()).or_default();
        r.name = m.name.clone();
        r.signature = Some(date(&m.since));
    }
    for (list, which) in [
        (&s.ratifications.parties, 0),
        (&s.observers.parties, 1),
        (&s.withdrawn, 2),
    ] {
        for e in list {
            let r = rows.entry(e.code.clone()).or_default();
            r.name = e.name.clone();
            let d = Some(entry_date(e));
            match which {
                0 => r.ratification = d,
                1 => r.observer = d,
                _ => r.withdrawal = d,
            }
        }
    }
    for u in &s.uncertain {
        if let Some(p) = &u.party {
            let r = rows.entry(p.clone()).or_default();
            if r.name.is_empty() {
                r.name = crate::party::Party::parse(p)
                    .map(|p| p.display_name())
                    .unwrap_or_else(|_| p.clone());
            }
            r.pending.push(u);
        }
    }
    // Sorted by name, as the UN Treaty Collection lists participants.
    rows.into_iter()
        .map(|(c, r)| ((r.name.clone(), c), r))
        .collect()
}

fn kind_words(kind: &str) -> &str {
    match kind {
        "statute_signed" => "signature",
        "statute_ratified" => "ratification",
        "observer_admitted" => "observer admission",
        "membership_withdrawn" => "withdrawal",
        "officer_appointed" => "appointment",
        "office_vacated" => "vacancy",
        "board_elected" => "board election",
        "statute_entered_into_force" => "entry into force",
        other => other,
    }
}

fn chart(a: &Answers) -> StepChart {
    let rows = &a.timeline.rows;
    let mut members = Vec::new();
    let mut ratifications = Vec::new();
    let (mut m, mut r) = (None, None);
    for row in rows {
        let Some(d) = Day::parse(&row.date).ok() else {
            continue;
        };
        if m != Some(row.members) {
            members.push((d, row.members));
            m = Some(row.members);
        }
        if r != Some(row.ratifications) {
            ratifications.push((d, row.ratifications));
            r = Some(row.ratifications);
        }
    }
    let mut markers: Vec<Marker> = a
        .assemblies
        .iter()
        .filter_map(|e| {
            let w = e.event.world_event()?;
            let day = w.date?.effective_day();
            let label = match &w.kind {
                Kind::MeetingHeld {
                    session: Some(s),
                    extraordinary,
                    ..
                } => format!("GA{s}{}", if *extraordinary { " (extr.)" } else { "" }),
                _ => "GA".to_string(),
            };
            Some(Marker {
                day,
                label,
                strong: false,
            })
        })
        .collect();
    if let Some(d) = a.state.statute.since.as_ref().map(|d| d.effective_day()) {
        markers.push(Marker {
            day: d,
            label: "Statute in force".into(),
            strong: true,
        });
    }
    if markers.len() > MOST_MARKERS {
        // Too many to tell apart: the chart keeps only the entry into force; the caption says so.
        markers.retain(|m| m.strong);
    }
    markers.sort_by_key(|m| m.day);
    let from = rows
        .first()
        .and_then(|r| Day::parse(&r.date).ok())
        .unwrap_or(a.as_of);
    StepChart {
        title: format!("Members and ratifications of the IOFS Statute, {} to {}", from.text(), a.as_of.text()),
        description: format!(
            "A step chart: members rise from 0 to {} and ratifications to {} by {}; dotted lines mark the General Assemblies, the solid line the Statute's entry into force. The table below the chart gives the same figures.",
            a.state.members.count, a.state.ratifications.count, a.as_of.text()
        ),
        from,
        to: a.as_of,
        series: vec![
            Series {
                label: "Members".into(),
                colour: "#0b5f73",
                dash: "",
                steps: members,
            },
            Series {
                label: "Ratifications".into(),
                colour: "#b3541e",
                dash: "7 4",
                steps: ratifications,
            },
        ],
        markers,
    }
}

/// The status page.
pub fn index(a: &Answers, ctx: &PageContext) -> Markup {
    let s = &a.state;
    let c = chart(a);
    let changes: Vec<&crate::timeline::TimelineRow> = {
        let mut last = None;
        a.timeline
            .rows
            .iter()
            .filter(|r| {
                let k = (r.members, r.ratifications);
                let changed = last != Some(k);
                last = Some(k);
                changed
            })
            .collect()
    };
    let rows = status_rows(a);
    let dg = &s.director_general;
    let body = html! {
        ul.figures aria-label="Headline figures" {
            li { span.n id="members-count" { (s.members.count) } span.what { "members (signatories that have not withdrawn)" } }
            li { span.n id="ratifications-count" { (s.ratifications.count) } span.what { "ratifications of the Statute" } }
            li { span.n id="observers-count" { (s.observers.count) } span.what { "observers" } }
            li {
                @match &s.statute.since {
                    Some(since) => { span.n.word id="in-force" data-in-force="true" { "In force" } span.what { "Statute in force since " (since) } }
                    None => { span.n.word id="in-force" data-in-force="false" { "Not in force" } span.what { "the Statute" } }
                }
            }
            li { span.n id="signatures-count" { (s.statute.signatures) } span.what { "signatures ever made" } }
            li { span.n id="uncertain-count" { (s.uncertain.len()) } span.what { "events that may have happened by this day but are not counted yet" } }
        }
        section aria-labelledby="h-chart" {
            h2 id="h-chart" { "Members and ratifications over time" }
            figure.chart {
                (c.svg("membership-chart"))
                figcaption {
                    ul.legend {
                        li { span.swatch style="background:#0b5f73" {} "Members" }
                        li { span.swatch style="background:repeating-linear-gradient(90deg,#b3541e 0 7px,transparent 7px 11px)" {} "Ratifications" }
                        @if a.assemblies.len() <= MOST_MARKERS { li { "┆ General Assembly" } }
                        @else { li { (a.assemblies.len()) " General Assemblies: too many to mark" } }
                        li { "│ Statute in force" }
                    }
                    "Each line steps up on the day an event counts from (the last day of its date when only a month or year is known)."
                }
            }
            details {
                summary { "The chart's figures as a table (" (changes.len()) " changes)" }
                div.scroll {
                    table id="chart-data" {
                        caption { "Members and ratifications from each day they changed" }
                        thead { tr { th scope="col" { "From" } th.num scope="col" { "Members" } th.num scope="col" { "Ratifications" } } }
                        tbody {
                            @for r in &changes {
                                tr { td.date { (r.date) } td.num { (r.members) } td.num { (r.ratifications) } }
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="h-status" {
            h2 id="h-status" { "Status of the Statute" }
            p { "One row per participant, in the manner of the UN Treaty Collection's status tables. A date is shown as its source gives it; "
                abbr.prec title="only the year is known" { "year" } ", " abbr.prec title="only the month is known" { "month" } " and "
                abbr.prec title="only bounds are known" { "bounds" }
                " mark dates not known to the day, each counted from the last day it allows. "
                span.uncertain { "Pending" } " marks an event that may have happened by this day but is not counted yet." }
            div.scroll {
                table id="status" {
                    caption { (rows.len()) " participants as of " (a.as_of.text()) }
                    thead {
                        tr {
                            th scope="col" { "Participant" }
                            th scope="col" { "Code" }
                            th scope="col" { "Signature" }
                            th scope="col" { "Ratification" }
                            th scope="col" { "Observer since" }
                            th scope="col" { "Withdrawal" }
                        }
                    }
                    tbody {
                        @for ((_, code), r) in &rows {
                            tr data-party=(code) {
                                th scope="row" { (party_link(ctx, code, &r.name)) }
                                td { @if !code.starts_with("unidentified:") { code { (code) } } }
                                td { @if let Some(d) = &r.signature { (d) } }
                                td { @if let Some(d) = &r.ratification { (d) } }
                                td { @if let Some(d) = &r.observer { (d) } }
                                td { @if let Some(d) = &r.withdrawal { (d) } }
                            }
                            @for u in &r.pending {
                                tr.uncertain data-pending=(code) {
                                    td {}
                                    td colspan="5" { span.uncertain { "Pending " (kind_words(&u.kind)) " (seq " (u.seq) "): " } (u.why) }
                                }
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="h-dg" {
            h2 id="h-dg" { "Director General" }
            p id="director-general" {
                @match (&dg.holder, &dg.since) {
                    (Some(h), Some(since)) => {
                        strong { (h) } ", since " (since)
                        @if let (Some(y), Some(e)) = (dg.term_years, &dg.term_ends) { "; " (y) "-year term, ending " (e) }
                        "."
                    }
                    (None, Some(since)) => {
                        @if let Some(t) = &dg.term_ended {
                            "Not known: the term of " (t.person) " ended on " (t.ended) ", and no source says who has held the office since."
                        } @else { "Vacant since " (since) "." }
                    }
                    _ => { "None recorded." }
                }
            }
            @if !a.officers.is_empty() {
                div.scroll {
                    table {
                        caption { "Everyone who has held the office, as recorded" }
                        thead { tr { th scope="col" { "Director General" } th scope="col" { "From" } th scope="col" { "Term" } th scope="col" { "Until" } } }
                        tbody {
                            @for t in &a.officers {
                                tr {
                                    th scope="row" { (t.person) }
                                    td.date { (t.from) }
                                    td { @if let Some(y) = t.term_years { (y) " years" } }
                                    td {
                                        @match (&t.until, &t.ended_by) {
                                            (Some(u), Some(why)) => { span.date { (u) } " (" (why) ")" }
                                            _ => { "in office" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="h-eb" {
            h2 id="h-eb" { "Executive Board" }
            @match &s.executive_board.since {
                Some(since) => {
                    div.scroll {
                        table id="executive-board" {
                            caption { "Elected " (since) }
                            thead { tr { th scope="col" { "Seat" } th scope="col" { "Role" } } }
                            tbody {
                                @for m in &s.executive_board.members {
                                    tr {
                                        th scope="row" {
                                            @if crate::party::Party::parse(&m.holder).is_ok() {
                                                (party_link(ctx, &m.holder, &m.name))
                                            } @else { (m.name) }
                                        }
                                        td { (match m.role { Role::Chair => "chair", Role::Member => "member", Role::PermanentMember => "permanent member", Role::HonoraryChair => "honorary chair" }) }
                                    }
                                }
                            }
                        }
                    }
                }
                None => { p { "None recorded." } }
            }
        }
        @if !s.uncertain.is_empty() {
            section aria-labelledby="h-uncertain" {
                h2 id="h-uncertain" { "Not yet certain on this day" }
                ul {
                    @for u in &s.uncertain {
                        li { "seq " (u.seq) ", " (kind_words(&u.kind))
                            @if let Some(p) = &u.party { " of " (party_link(ctx, p, p)) }
                            ": " (u.why) }
                    }
                }
            }
        }
        @let others: Vec<&crate::party::Party> = a.parties.iter().filter(|p| !rows.keys().any(|(_, c)| c == p.code())).collect();
        @if !others.is_empty() {
            section aria-labelledby="h-others" {
                h2 id="h-others" { "Other parties named in the record" }
                ul {
                    @for p in others {
                        li { (party_link(ctx, p.code(), &p.display_name())) }
                    }
                }
            }
        }
    };
    layout(a, ctx, "Membership and governance of IOFS", body)
}

fn describe(e: &Event) -> String {
    let name = |p: &crate::party::Party| p.display_name();
    match &e.kind {
        Kind::OrganisationEstablished {} => "The organisation was established".into(),
        Kind::StatuteAdopted {} => "The Statute was adopted".into(),
        Kind::StatuteSigned { party } => format!("{} signed the Statute", name(party)),
        Kind::StatuteRatified { party } => format!("{} ratified the Statute", name(party)),
        Kind::StatuteEnteredIntoForce {} => "The Statute entered into force".into(),
        Kind::ObserverAdmitted { party } => format!("{} was admitted as an observer", name(party)),
        Kind::MembershipWithdrawn { party } => format!("{} withdrew", name(party)),
        Kind::SecretariatOperational {} => "The secretariat became operational".into(),
        Kind::ProposalMade {
            description,
            proposer,
        } => match proposer {
            Some(p) => format!("{} proposed: {description}", name(p)),
            None => format!("Proposal: {description}"),
        },
        Kind::MeetingHeld {
            organ,
            session,
            extraordinary,
            place,
            host,
            online,
            theme,
        } => {
            let mut s = format!(
                "{}{}{} met",
                if *extraordinary { "Extraordinary " } else { "" },
                organ.title(),
                session
                    .map(|n| format!(" (session {n})"))
                    .unwrap_or_default()
            );
            if let Some(p) = place {
                s.push_str(&format!(" in {p}"));
            }
            if *online {
                s.push_str(" online");
            }
            if let Some(h) = host {
                s.push_str(&format!(", hosted by {}", name(h)));
            }
            if let Some(t) = theme {
                s.push_str(&format!(": {t}"));
            }
            s
        }
        Kind::OfficerAppointed {
            person,
            takes_office,
            term_years,
            ..
        } => format!(
            "{person} was appointed Director General{}{}",
            takes_office
                .map(|t| format!(", taking office {t}"))
                .unwrap_or_default(),
            term_years
                .map(|y| format!(" for {y} years"))
                .unwrap_or_default()
        ),
        Kind::OfficeVacated { person, reason, .. } => {
            format!("{person} left the office of Director General ({reason})")
        }
        Kind::BoardElected { organ, seats } => {
            let names: Vec<String> = seats
                .iter()
                .map(|s| {
                    let who = match (&s.party, &s.office) {
                        (Some(p), _) => name(p),
                        (None, Some(_)) => "the Director General".into(),
                        _ => "?".into(),
                    };
                    match s.role {
                        Role::Chair => format!("{who} (chair)"),
                        Role::HonoraryChair => format!("{who} (honorary chair)"),
                        Role::PermanentMember => format!("{who} (permanent)"),
                        Role::Member => who,
                    }
                })
                .collect();
            format!("The {} was elected: {}", organ.title(), names.join(", "))
        }
        Kind::DocumentAdopted { title, organ, .. } => match organ {
            Some(o) => format!("The {} adopted {title}", o.title()),
            None => format!("Adopted: {title}"),
        },
        Kind::ProgrammeEstablished { name: n, .. } => format!("Programme established: {n}"),
        Kind::AgreementSigned {
            title,
            counterparty,
        } => format!("Agreement signed with {counterparty}: {title}"),
        Kind::Claim {
            about,
            value,
            party,
            topic,
        } => {
            let about = match about {
                ClaimAbout::MemberCount => "the number of members",
                ClaimAbout::RatificationCount => "the number of ratifications",
                ClaimAbout::SignatoryOrdinal => "the place in signature order",
                ClaimAbout::StatuteInForce => "whether the Statute was in force",
                ClaimAbout::DirectorGeneral => "the Director General",
                ClaimAbout::BoardChair => "the Executive Board chair",
                ClaimAbout::Statement => "a statement",
            };
            format!(
                "A source states {about}{}: {value}{}",
                party
                    .as_ref()
                    .map(|p| format!(" of {}", name(p)))
                    .unwrap_or_default(),
                topic
                    .as_ref()
                    .map(|t| format!(" (topic {t})"))
                    .unwrap_or_default()
            )
        }
        Kind::Retraction {
            retracts, reason, ..
        } => format!("Seq {retracts} is retracted: {reason}"),
        Kind::Correction {
            corrects,
            reason,
            replacement,
            ..
        } => format!(
            "Seq {corrects} is corrected to: {} ({reason})",
            describe(replacement)
        ),
    }
}

/// A source: its document or URL (a link only for http and https addresses) and its quote.
fn source(label: &str, s: &Source) -> Markup {
    html! {
        blockquote { (s.quote) }
        p.source {
            (label) ": "
            @if let Some(d) = &s.document { cite { (d) } }
            @if let Some(u) = &s.url {
                @if s.document.is_some() { " · " }
                @if u.starts_with("https://") || u.starts_with("http://") {
                    a href=(u) rel="nofollow noreferrer" { (u) }
                } @else { (u) }
            }
        }
    }
}

fn event_item(e: &StoredEvent, o: &Overrides, as_of: Day) -> Markup {
    let w = e.event.world_event().unwrap_or(&e.event);
    let retracted = o.retracted_by(e.seq);
    let corrected = o.corrected_by(e.seq);
    let after = e.event.effective_day().is_some_and(|d| d > as_of);
    html! {
        li id={"seq-" (e.seq)} {
            p {
                span.when {
                    @match w.date {
                        Some(d) => { (date(&d)) }
                        None => { "undated" }
                    }
                    @if let Some(end) = w.end_date { " to " span.date { (end.text()) } }
                }
                " · "
                @if retracted.is_some() || !corrected.is_empty() { del { (describe(&e.event)) } } @else { (describe(&e.event)) }
                " "
                @if let Some(r) = retracted { span.tag.retracted { "retracted by seq " (r) } " " }
                @if !corrected.is_empty() {
                    span.tag.corrected { "corrected by seq " (corrected.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")) } " "
                }
                @if e.event.kind.is_record_event() { span.tag.correction { "amends the record" } " " }
                @if after { span.tag.corrected { "after " (as_of.text()) } }
            }
            (source("Source", &e.event.source))
            @if let Some(ds) = &e.event.date_source { (source("Source of the date", ds)) }
            @if let Some(i) = &w.inferred { p.source { "Date inferred: " (i) } }
            p.source { "seq " (e.seq) " · recorded " (e.recorded_at) " · hash " code.hash { (e.hash.get(..16).unwrap_or(&e.hash)) "…" } }
        }
    }
}

/// A party's page: its status on the report's day and its whole timeline with sources.
pub fn party(a: &Answers, p: &PartyHistory, ctx: &PageContext) -> Markup {
    let code = p.party.code();
    let s = &a.state;
    let member = s.members.parties.iter().find(|m| m.code == code);
    let find = |l: &[PartyEntry]| l.iter().find(|e| e.code == code).cloned();
    let ratified = find(&s.ratifications.parties);
    let observer = find(&s.observers.parties);
    let withdrawn = find(&s.withdrawn);
    let body = html! {
        section aria-labelledby="h-now" {
            h2 id="h-now" { "On " (a.as_of.text()) }
            ul id="party-status" {
                @if let Some(m) = member { li { "Member since " (date(&m.since)) " (signatory no. " (m.ordinal) ")" } }
                @if let Some(r) = &ratified { li { "Ratified " (entry_date(r)) } }
                @if let Some(o) = &observer { li { "Observer since " (entry_date(o)) } }
                @if let Some(w) = &withdrawn { li { "Withdrew " (entry_date(w)) } }
                @if member.is_none() && ratified.is_none() && observer.is_none() && withdrawn.is_none() { li { "Neither member nor observer." } }
                @for u in s.uncertain.iter().filter(|u| u.party.as_deref() == Some(code)) {
                    li.uncertain { "Pending " (kind_words(&u.kind)) ": " (u.why) }
                }
            }
            @if p.party.is_placeholder() {
                p { "This party is a placeholder: a source counts it but does not name it." }
            }
        }
        section aria-labelledby="h-events" {
            h2 id="h-events" { "Its record (" (p.events.len()) " events)" }
            p { "Every event that names it, in the order recorded, with the sentence it rests on. Retracted events and events replaced by a correction stay in the record, struck through and marked." }
            ol.events { @for e in &p.events { (event_item(e, &a.overrides, a.as_of)) } }
        }
    };
    layout(
        a,
        ctx,
        &format!("{} ({code})", p.party.display_name()),
        body,
    )
}

/// The meetings page.
pub fn meetings(a: &Answers, ctx: &PageContext) -> Markup {
    let years = meeting_years(a);
    let body = html! {
        section aria-labelledby="h-meetings" {
            h2 id="h-meetings" { (a.meetings.len()) " meetings up to " (a.as_of.text()) }
            @if a.meetings.len() <= MEETINGS_ON_ONE_PAGE {
                ol.events { @for e in &a.meetings { (event_item(e, &a.overrides, a.as_of)) } }
            } @else {
                p { "Too many for one page: one page per year." }
                ul id="meeting-years" {
                    @for (y, n) in &years {
                        li { a href=((ctx.link)(Page::MeetingsYear(*y))) { (y) } " (" (n) ")" }
                    }
                }
            }
        }
    };
    layout(a, ctx, "Meetings", body)
}

/// The most meetings listed on one page; beyond it, one page per year.
pub const MEETINGS_ON_ONE_PAGE: usize = 1_000;

fn meeting_year(e: &StoredEvent) -> i32 {
    use chrono::Datelike;
    e.event.effective_day().map_or(0, |d| d.to_naive().year())
}

/// The years meetings were held in (by the day each counts from), with how many, in order.
pub fn meeting_years(a: &Answers) -> Vec<(i32, usize)> {
    let mut out: Vec<(i32, usize)> = Vec::new();
    for e in &a.meetings {
        let y = meeting_year(e);
        match out.last_mut() {
            Some((last, n)) if *last == y => *n += 1,
            _ => out.push((y, 1)),
        }
    }
    out
}

/// The meetings of one year.
pub fn meetings_in_year(a: &Answers, year: i32, ctx: &PageContext) -> Markup {
    let list: Vec<&StoredEvent> = a
        .meetings
        .iter()
        .filter(|e| meeting_year(e) == year)
        .collect();
    let body = html! {
        section aria-labelledby="h-meetings" {
            h2 id="h-meetings" { (list.len()) " meetings in " (year) }
            p { a href=((ctx.link)(Page::Meetings)) { "All years" } }
            ol.events { @for e in list { (event_item(e, &a.overrides, a.as_of)) } }
        }
    };
    layout(a, ctx, &format!("Meetings in {year}"), body)
}

fn verdict(h: Option<bool>) -> Markup {
    match h {
        Some(true) => html! { span.tag.holds { "holds" } },
        Some(false) => html! { span.tag.differs { "differs" } },
        None => html! { span.tag { "not checkable" } },
    }
}

/// The audit page.
pub fn audit(a: &Answers, ctx: &PageContext) -> Markup {
    let r: &Report = &a.audit;
    let differ = r.claims.iter().filter(|c| c.holds == Some(false)).count();
    let body = html! {
        p { (r.events) " events in the log; head " code.hash { (r.head) } "." }
        section aria-labelledby="h-force" {
            h2 id="h-force" { "Entry into force" }
            p { (r.entry_into_force.finding) }
        }
        section aria-labelledby="h-claims" {
            h2 id="h-claims" { "Claims checked against the ledger (" (r.claims.len()) ", " (differ) " differ)" }
            div.scroll {
                table id="claims" {
                    caption { "What a source asserts, against what replaying the log gives at the same day" }
                    thead { tr { th scope="col" { "Seq" } th scope="col" { "Verdict" } th scope="col" { "Date" } th scope="col" { "About" } th scope="col" { "Claimed" } th scope="col" { "Ledger" } th scope="col" { "Source" } } }
                    tbody {
                        @for c in &r.claims {
                            tr {
                                th scope="row" { (c.seq) }
                                td { (verdict(c.holds)) }
                                td.date { (c.date) }
                                td { (serde_json::to_value(c.about).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default())
                                     @if let Some(p) = &c.party { " " (party_link(ctx, p, p)) }
                                     @if let Some(t) = &c.topic { " (" (t) ")" } }
                                td { (c.claimed.to_string()) }
                                td { (c.replay.to_string()) }
                                td { cite { (c.source.citation()) } ": “" (c.source.quote) "”" }
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="h-contra" {
            h2 id="h-contra" { "Contradictions (" (r.contradictions.len()) ")" }
            @if r.contradictions.is_empty() { p { "None." } }
            ul { @for c in &r.contradictions {
                li { "Topic " strong { (c.topic) } ": claims " (c.claims.iter().map(u64::to_string).collect::<Vec<_>>().join(", "))
                     @if c.any_fails { " (some differ from the ledger)" } }
            } }
        }
        section aria-labelledby="h-dates" {
            h2 id="h-dates" { "Dates not stated to the day, or inferred (" (r.dates.len()) ")" }
            div.scroll {
                table {
                    thead { tr { th scope="col" { "Seq" } th scope="col" { "Event" } th scope="col" { "Date" } th scope="col" { "Why" } } }
                    tbody { @for d in &r.dates {
                        tr { th scope="row" { (d.seq) } td { (kind_words(&d.kind)) } td { (date(&d.date)) }
                             td { @match &d.inferred { Some(i) => { "inferred: " (i) } None => { "precision as written by the source" } } } }
                    } }
                }
            }
        }
        section aria-labelledby="h-placeholders" {
            h2 id="h-placeholders" { "Unidentified parties (" (r.placeholders.len()) ")" }
            ul { @for p in &r.placeholders {
                li { (party_link(ctx, &p.party, &p.party)) ": seqs " (p.seqs.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")) }
            } }
        }
        section aria-labelledby="h-amend" {
            h2 id="h-amend" { "Retractions and corrections (" (r.amendments.len()) ")" }
            ul { @for m in &r.amendments {
                li { "seq " (m.seq) ", " (m.kind) " of seq " (m.target) ", recorded " (m.recorded_at) ": " (m.reason) }
            } }
        }
    };
    layout(a, ctx, "Audit", body)
}
