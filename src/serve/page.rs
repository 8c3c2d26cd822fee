//! The service's pages: the report's pages (`report::pages`, the same templates as the static
//! report, every text from events escaped by maud) rendered live for the day and instant asked,
//! with a date form (a GET form, no script) on each; the layout here only frames errors.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup, DOCTYPE};

use super::{html as html_response, App};
use crate::answer;
use crate::report::{
    self,
    pages::{self as rpages, Page, PageContext},
};

/// The date form at the top of every page: as of a day, as known at an instant; it asks the
/// page at `action` again (a GET form: no script).
pub fn date_form(action: &str, as_of: &str, known_at: &str) -> Markup {
    html! {
        form.dates method="get" action=(action) {
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

/// Percent-encodes a query value (anything but unreserved characters).
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// `?as_of=…&known_at=…` as the page was asked (empty when neither was given).
fn query_of(as_of: &str, known: &str) -> String {
    let mut q = Vec::new();
    if !as_of.is_empty() {
        q.push(format!("as_of={}", enc(as_of)));
    }
    if !known.is_empty() {
        q.push(format!("known_at={}", enc(known)));
    }
    if q.is_empty() {
        String::new()
    } else {
        format!("?{}", q.join("&"))
    }
}

/// How the report's pages link and what they carry on top when served live: links to the
/// service's routes keeping the date asked, and the date form.
fn context(path: &str, as_of: &str, known: &str) -> PageContext {
    let q = query_of(as_of, known);
    PageContext {
        link: Box::new(move |p| match p {
            Page::Index => format!("/{q}"),
            Page::Party(code) => format!("/party/{}{q}", enc(code)),
            Page::Meetings => format!("/meetings{q}"),
            Page::MeetingsYear(y) => format!("/meetings/{y}{q}"),
            Page::Audit => format!("/audit{q}"),
        }),
        form: Some(date_form(path, as_of, known)),
    }
}

/// Which of the report's pages.
pub(super) enum Which {
    Index,
    Party(String),
    Meetings,
    MeetingsYear(i32),
    Audit,
}

/// Renders one of the report's pages live, as of the day and instant asked.
async fn report_page(
    app: Arc<App>,
    which: Which,
    path: String,
    p: BTreeMap<String, String>,
) -> Response {
    let as_of = p.get("as_of").cloned().unwrap_or_default();
    let known = p.get("known_at").cloned().unwrap_or_default();
    let form = date_form(&path, &as_of, &known);
    let bad = |msg: String, form: Markup| {
        html_response(
            StatusCode::BAD_REQUEST,
            layout("Bad request", form, html! { p.error { (msg) } }),
        )
    };
    let d = if as_of.is_empty() {
        Ok(answer::today())
    } else {
        answer::day(&as_of, "--as-of")
    };
    let parsed = d.and_then(|d| {
        let k = answer::known_at(Some(known.as_str()).filter(|s| !s.is_empty()))?;
        let party = match &which {
            Which::Party(code) => Some(answer::party(code)?),
            _ => None,
        };
        Ok((d, k, party))
    });
    let (d, k, party) = match parsed {
        Ok(x) => x,
        Err(e) => return bad(e.to_string(), form),
    };
    let page = app
        .read(move |l| -> Result<String, String> {
            let a = report::gather(l, d, k.as_deref()).map_err(|e| e.to_string())?;
            let ctx = context(&path, &as_of, &known);
            let markup = match (which, party) {
                (Which::Party(_), Some(p)) => {
                    let h = report::party_history(l, &a, &p).map_err(|e| e.to_string())?;
                    rpages::party(&a, &h, &ctx)
                }
                (Which::Meetings, _) => rpages::meetings(&a, &ctx),
                (Which::MeetingsYear(y), _) => rpages::meetings_in_year(&a, y, &ctx),
                (Which::Audit, _) => rpages::audit(&a, &ctx),
                _ => rpages::index(&a, &ctx),
            };
            Ok(markup.into_string())
        })
        .await;
    match page {
        Ok(Ok(html)) => html_response(StatusCode::OK, html),
        Ok(Err(e)) => html_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            layout("Error", form, html! { p.error { (e) } }),
        ),
        Err(f) => html_response(
            f.status,
            layout("Error", form, html! { p.error { (f.message) } }),
        ),
    }
}

/// `GET /?as_of=D&known_at=T`: the report's status page.
pub(super) async fn index(
    State(app): State<Arc<App>>,
    Query(p): Query<BTreeMap<String, String>>,
) -> Response {
    report_page(app, Which::Index, "/".into(), p).await
}

/// `GET /party/{code}`: a party's page.
pub(super) async fn party(
    State(app): State<Arc<App>>,
    axum::extract::Path(code): axum::extract::Path<String>,
    Query(p): Query<BTreeMap<String, String>>,
) -> Response {
    let path = format!("/party/{}", enc(&code));
    report_page(app, Which::Party(code), path, p).await
}

/// `GET /meetings`.
pub(super) async fn meetings(
    State(app): State<Arc<App>>,
    Query(p): Query<BTreeMap<String, String>>,
) -> Response {
    report_page(app, Which::Meetings, "/meetings".into(), p).await
}

/// `GET /meetings/{year}`.
pub(super) async fn meetings_year(
    State(app): State<Arc<App>>,
    axum::extract::Path(year): axum::extract::Path<i32>,
    Query(p): Query<BTreeMap<String, String>>,
) -> Response {
    report_page(
        app,
        Which::MeetingsYear(year),
        format!("/meetings/{year}"),
        p,
    )
    .await
}

/// `GET /audit`.
pub(super) async fn audit(
    State(app): State<Arc<App>>,
    Query(p): Query<BTreeMap<String, String>>,
) -> Response {
    report_page(app, Which::Audit, "/audit".into(), p).await
}
