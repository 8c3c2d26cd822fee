//! The service's pages: the state for a date chosen in a form (a GET form, no script), every
//! text from events escaped by maud.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup, DOCTYPE};

use super::{html as html_response, App};
use crate::answer;
use crate::query::{self, State as Answer};

/// The date form at the top of every page: as of a day, as known at an instant.
pub fn date_form(as_of: &str, known_at: &str) -> Markup {
    html! {
        form.dates method="get" action="/" {
            label { "As of " input type="date" name="as_of" value=(as_of) required; }
            " "
            label { "known at " input type="text" name="known_at" value=(known_at)
                placeholder="now (or 2024-03-01, or 2024-03-01T12:00:00Z)"; }
            " "
            button type="submit" { "Show" }
        }
    }
}

fn layout(title: &str, form: Markup, body: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                style { (maud::PreEscaped(STYLE)) }
            }
            body {
                header { h1 { "IOFS ledger" } (form) }
                main { (body) }
                footer { p { "Answers as JSON: " a href="/api/openapi.json" { "/api/openapi.json" } } }
            }
        }
    }
    .into_string()
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:60rem;margin:1rem auto;padding:0 1rem;line-height:1.4}\
table{border-collapse:collapse}td,th{padding:.2rem .6rem;border-bottom:1px solid #ccc;text-align:left}\
.dates{margin:.5rem 0 1rem}.count{font-size:2rem;font-weight:bold}";

fn state_body(s: &Answer) -> Markup {
    html! {
        h2 { "As of " (s.as_of) @if let Some(k) = &s.known_at { ", as known at " (k) } }
        p { span.count #members-count { (s.members.count) } " members; "
            span #ratifications-count { (s.ratifications.count) } " ratifications; "
            span #observers-count { (s.observers.count) } " observers." }
        h3 { "Members" }
        table {
            thead { tr { th scope="col" { "Party" } th scope="col" { "Name" } th scope="col" { "Signed" } th scope="col" { "Ratified" } } }
            tbody {
                @for m in &s.members.parties {
                    tr { td { a href=(format!("/party/{}", m.code)) { (m.code) } } td { (m.name) } td { (m.since) } td { @if m.ratified { "yes" } @else { "no" } } }
                }
            }
        }
        @if !s.uncertain.is_empty() {
            h3 { "Uncertain at this date" }
            ul {
                @for u in &s.uncertain {
                    li { (u.kind) " " (u.party.as_deref().unwrap_or("")) " " (u.person.as_deref().unwrap_or("")) " (" (u.date) "): " (u.why) }
                }
            }
        }
    }
}

/// `GET /?as_of=D&known_at=T`: the state as of the day (today without one).
pub(super) async fn index(
    State(app): State<Arc<App>>,
    Query(p): Query<BTreeMap<String, String>>,
) -> Response {
    let as_of = p
        .get("as_of")
        .filter(|s| !s.is_empty())
        .cloned()
        .unwrap_or_else(|| chrono::Utc::now().date_naive().to_string());
    let known = p.get("known_at").cloned().unwrap_or_default();
    let form = date_form(&as_of, &known);
    let parsed = answer::day(&as_of, "--as-of").and_then(|d| {
        let k = answer::known_at(Some(known.as_str()).filter(|s| !s.is_empty()))?;
        Ok((d, k))
    });
    let (d, k) = match parsed {
        Ok(x) => x,
        Err(e) => {
            let msg = e.to_string();
            return html_response(
                StatusCode::BAD_REQUEST,
                layout("Bad date", form, html! { p.error { (msg) } }),
            );
        }
    };
    let answer = app.read(move |l| query::state(l, d, k.as_deref())).await;
    match answer {
        Ok(Ok(s)) => html_response(
            StatusCode::OK,
            layout(&format!("IOFS as of {}", s.as_of), form, state_body(&s)),
        ),
        Ok(Err(e)) => html_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            layout("Error", form, html! { p.error { (e.to_string()) } }),
        ),
        Err(f) => html_response(
            f.status,
            layout("Error", form, html! { p.error { (f.message) } }),
        ),
    }
}

/// `GET /party/{code}?known_at=T`: the party's events with their sources.
pub(super) async fn party(
    State(app): State<Arc<App>>,
    axum::extract::Path(code): axum::extract::Path<String>,
    Query(p): Query<BTreeMap<String, String>>,
) -> Response {
    let known = p.get("known_at").cloned().unwrap_or_default();
    let as_of = p.get("as_of").cloned().unwrap_or_default();
    let form = date_form(&as_of, &known);
    let parsed = answer::party(&code).and_then(|party| {
        let k = answer::known_at(Some(known.as_str()).filter(|s| !s.is_empty()))?;
        Ok((party, k))
    });
    let (party, k) = match parsed {
        Ok(x) => x,
        Err(e) => {
            let msg = e.to_string();
            return html_response(
                StatusCode::BAD_REQUEST,
                layout("Bad request", form, html! { p.error { (msg) } }),
            );
        }
    };
    let title = format!("{} {}", party.code(), party.display_name());
    let events = app
        .read(move |l| -> Result<_, crate::store::StoreError> {
            let max = k.as_deref().map(|t| l.seq_known_at(t)).transpose()?;
            let overrides = l.overrides(max)?;
            let events: Vec<_> = l
                .party_events(&party)?
                .into_iter()
                .filter(|e| max.is_none_or(|m| e.seq <= m))
                .collect();
            Ok((events, overrides))
        })
        .await;
    let (events, overrides) = match events {
        Ok(Ok(x)) => x,
        Ok(Err(e)) => {
            return html_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                layout("Error", form, html! { p.error { (e.to_string()) } }),
            )
        }
        Err(f) => {
            return html_response(
                f.status,
                layout("Error", form, html! { p.error { (f.message) } }),
            )
        }
    };
    let body = html! {
        h2 { (title) }
        table {
            thead { tr { th scope="col" { "Seq" } th scope="col" { "Type" } th scope="col" { "Date" } th scope="col" { "Source" } th scope="col" { "Quote" } th scope="col" { "Status" } } }
            tbody {
                @for e in &events {
                    tr {
                        td { (e.seq) }
                        td { (e.event.kind.type_name()) }
                        td { (e.event.date.map(|d| d.to_string()).unwrap_or_default()) }
                        td { (e.event.source.citation()) }
                        td { q { (e.event.source.quote) } }
                        td {
                            @if let Some(r) = overrides.retracted_by(e.seq) { "retracted by " (r) }
                            @for c in overrides.corrected_by(e.seq) { "corrected by " (c) " " }
                        }
                    }
                }
            }
        }
    };
    html_response(StatusCode::OK, layout(&title, form, body))
}
