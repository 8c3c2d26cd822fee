//! The ledger as a web service (`serve`): the JSON API (the same bytes as the CLI's `--json`,
//! from [`crate::answer`]), appends by the holder of a token, and pages with a date form.
//!
//! axum on tokio. Every SQLite call runs on a blocking thread (`spawn_blocking`): reads on a
//! small pool of read-only connections (WAL: a reader never waits for the writer), appends on
//! the one read-write connection behind a mutex, so concurrent appends are serialised and all
//! land. tower and tower-http bound the request body, the time a request may take and the
//! requests in flight, set the security headers and log each request (tracing).
//!
//! The library does not print: [`Server::bind`] returns the address it listens on for the
//! caller to announce, and [`Server::run`] serves until the shutdown future completes, then
//! finishes the requests under way.

mod page;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path as UrlPath, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};

use crate::answer::{self, AnswerError, Question, Receipt};
use crate::event::lines::with_parsed_lines;
use crate::event::{parse_batch, Prepared};
use crate::projection::Rule;
use crate::store::{Access, AppendOptions, Ledger, StoreError};

/// The OpenAPI description served at `/api/openapi.json` (a test holds it to the routes).
pub const OPENAPI: &str = include_str!("openapi.json");

/// The `Content-Security-Policy` of every response: nothing from elsewhere, no script at all
/// (inline or not), styles only from the page itself.
pub const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; \
                       form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// How the service runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// The ledger file (it must exist: `init` creates it).
    pub db: PathBuf,
    /// The token an append must present (`Authorization: Bearer …`); `None`: read-only.
    pub write_token: Option<String>,
    /// How long an append waits for another process's write lock.
    pub lock_timeout: Duration,
    /// The largest request body accepted, in bytes.
    pub max_body: usize,
    /// How long a request may take before it is answered 408.
    pub request_timeout: Duration,
    /// How many requests are served at once (more wait their turn).
    pub max_concurrent: usize,
}

impl Config {
    /// The defaults for a ledger file: read-only, 16 MiB bodies, 60 s per request, 64
    /// requests at once.
    pub fn new(db: PathBuf) -> Config {
        Config {
            db,
            write_token: None,
            lock_timeout: Duration::from_secs(30),
            max_body: 16 << 20,
            request_timeout: Duration::from_secs(60),
            max_concurrent: 64,
        }
    }
}

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The ledger cannot be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The address cannot be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: String,
        /// Why.
        source: std::io::Error,
    },
    /// The token file is unusable.
    #[error("the token file {path}: {why}")]
    Token {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        why: String,
    },
    /// Serving failed.
    #[error("the service stopped: {0}")]
    Io(#[from] std::io::Error),
}

/// Reads a write token from a file: its text without surrounding whitespace, at least 16
/// characters.
pub fn read_token(path: &Path) -> Result<String, ServeError> {
    let text = std::fs::read_to_string(path).map_err(|e| ServeError::Token {
        path: path.to_path_buf(),
        why: e.to_string(),
    })?;
    let token = text.trim();
    if token.len() < 16 || token.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(ServeError::Token {
            path: path.to_path_buf(),
            why: "a token is one line of at least 16 visible characters (e.g. `openssl rand -hex 32 > FILE`)".into(),
        });
    }
    Ok(token.to_string())
}

/// The service's shared state.
struct App {
    db: PathBuf,
    /// Idle read-only connections (at most [`App::IDLE`]).
    readers: Mutex<Vec<Ledger>>,
    /// The one read-write connection, opened at the first append.
    writer: Mutex<Option<Ledger>>,
    /// SHA-256 of the write token (compared in constant time with the presented one's).
    token: Option<[u8; 32]>,
    lock_timeout: Duration,
    /// Recent answers by entity tag (an answer is fixed by the head and the question, so a
    /// tag names its bytes for good): at most [`App::CACHED`] answers of at most
    /// [`App::CACHED_BYTES`] each.
    cache: Mutex<HashMap<String, Bytes>>,
}

impl App {
    const IDLE: usize = 32;
    const CACHED: usize = 256;
    const CACHED_BYTES: usize = 1 << 20;

    fn cached(&self, tag: &str) -> Option<Bytes> {
        self.cache.lock().ok().and_then(|c| c.get(tag).cloned())
    }

    fn remember(&self, tag: String, body: Bytes) {
        if body.len() > App::CACHED_BYTES {
            return;
        }
        if let Ok(mut c) = self.cache.lock() {
            if c.len() >= App::CACHED {
                c.clear();
            }
            c.insert(tag, body);
        }
    }

    /// Runs `f` with a read connection, on a blocking thread.
    async fn read<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&Ledger) -> T + Send + 'static,
    ) -> Result<T, Failure> {
        let app = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let idle = app.readers.lock().ok().and_then(|mut v| v.pop());
            let l = match idle {
                Some(l) => l,
                None => Ledger::open(&app.db, Access::ReadOnly).map_err(Failure::store)?,
            };
            // Another process's bulk append may have deferred the projections.
            l.catch_up().map_err(Failure::store)?;
            let out = f(&l);
            if let Ok(mut v) = app.readers.lock() {
                if v.len() < App::IDLE {
                    v.push(l);
                }
            }
            Ok(out)
        })
        .await
        .map_err(|e| Failure::internal(format!("a read stopped: {e}")))?
    }
}

/// An error answer: a status and `{"error": message}`.
#[derive(Debug)]
struct Failure {
    status: StatusCode,
    message: String,
}

impl Failure {
    fn new(status: StatusCode, message: impl Into<String>) -> Failure {
        Failure {
            status,
            message: message.into(),
        }
    }

    fn internal(message: String) -> Failure {
        Failure::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }

    fn store(e: StoreError) -> Failure {
        let status = match &e {
            StoreError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            StoreError::Refused(r) if r.iter().any(|x| x.rule == Some(Rule::ExpectedHead)) => {
                StatusCode::PRECONDITION_FAILED
            }
            StoreError::Refused(_) => StatusCode::UNPROCESSABLE_ENTITY,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        Failure::new(status, e.to_string())
    }

    fn answer(e: AnswerError) -> Failure {
        match e {
            AnswerError::BadQuestion(m) => Failure::new(StatusCode::BAD_REQUEST, m),
            AnswerError::Store(e) => Failure::store(e),
            AnswerError::Output(e) => Failure::internal(e.to_string()),
        }
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let body = json_text(&json!({ "error": self.message }));
        (
            self.status,
            [(header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response()
    }
}

fn json_text<T: serde::Serialize>(v: &T) -> String {
    let mut out = Vec::new();
    // Writing to memory cannot fail.
    let _ = answer::json(&mut out, v);
    String::from_utf8_lossy(&out).into_owned()
}

/// A bound service, ready to run.
pub struct Server {
    listener: tokio::net::TcpListener,
    router: Router,
}

impl Server {
    /// Checks the ledger opens and binds `addr` (port 0: a free port). Must be called inside
    /// a tokio runtime.
    pub async fn bind(addr: &str, config: Config) -> Result<Server, ServeError> {
        // Refuse at once a missing or foreign file, rather than at the first request.
        let first = Ledger::open(&config.db, Access::ReadOnly)?;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| ServeError::Bind {
                addr: addr.to_string(),
                source,
            })?;
        let app = Arc::new(App {
            db: config.db.clone(),
            readers: Mutex::new(vec![first]),
            writer: Mutex::new(None),
            token: config
                .write_token
                .as_deref()
                .map(|t| Sha256::digest(t.as_bytes()).into()),
            lock_timeout: config.lock_timeout,
            cache: Mutex::new(HashMap::new()),
        });
        Ok(Server {
            listener,
            router: router(app, &config),
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> Result<SocketAddr, ServeError> {
        Ok(self.listener.local_addr()?)
    }

    /// Serves until `shutdown` completes, then finishes the requests under way.
    pub async fn run(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown)
            .await?;
        Ok(())
    }
}

/// Completes on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

fn router(app: Arc<App>, config: &Config) -> Router {
    Router::new()
        .route("/", get(page::index))
        .route("/party/{code}", get(page::party))
        .route("/meetings", get(page::meetings))
        .route("/meetings/{year}", get(page::meetings_year))
        .route("/audit", get(page::audit))
        .route("/api/openapi.json", get(openapi))
        .route("/api/health", get(health))
        .route("/api/state", get(api_state))
        .route("/api/members", get(api_members))
        .route("/api/history/{party}", get(api_history))
        .route("/api/diff", get(api_diff))
        .route("/api/meetings", get(api_meetings))
        .route("/api/officers", get(api_officers))
        .route("/api/audit", get(api_audit))
        .route("/api/head", get(api_head))
        .route("/api/timeline", get(api_timeline))
        .route("/api/log", get(api_log))
        .route("/api/events", axum::routing::post(api_append))
        .fallback(not_found)
        .with_state(app)
        .layer(DefaultBodyLimit::max(config.max_body))
        .layer(RequestBodyLimitLayer::new(config.max_body))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            config.request_timeout,
        ))
        .layer(tower::limit::GlobalConcurrencyLimitLayer::new(
            config.max_concurrent,
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(tracing::Level::INFO))
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
}

async fn not_found(uri: Uri) -> Failure {
    Failure::new(
        StatusCode::NOT_FOUND,
        format!(
            "nothing at {}: see /api/openapi.json for the API, / for the pages",
            uri.path()
        ),
    )
}

/// A constant from memory (no SQLite): for load balancers, and the benchmark's floor.
async fn health() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        "{\"status\": \"ok\"}\n",
    )
        .into_response()
}

async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        OPENAPI.to_string(),
    )
        .into_response()
}

/// Query parameters, refusing any the question does not take.
type Params = BTreeMap<String, String>;

fn only(params: &Params, allowed: &[&str]) -> Result<(), Failure> {
    for k in params.keys() {
        if !allowed.contains(&k.as_str()) {
            return Err(Failure::new(
                StatusCode::BAD_REQUEST,
                format!(
                    "unknown parameter `{k}`: this question takes {}",
                    if allowed.is_empty() {
                        "none".to_string()
                    } else {
                        allowed.join(", ")
                    }
                ),
            ));
        }
    }
    Ok(())
}

fn required<'a>(params: &'a Params, name: &str, flag: &str) -> Result<&'a str, Failure> {
    params.get(name).map(String::as_str).ok_or_else(|| {
        Failure::new(
            StatusCode::BAD_REQUEST,
            format!("the parameter `{name}` is required (as the CLI's {flag})"),
        )
    })
}

fn opt<'a>(params: &'a Params, name: &str) -> Option<&'a str> {
    params.get(name).map(String::as_str)
}

/// The entity tag of an answer: the head it was read at and the question (path and query).
fn etag(head_seq: u64, head_hash: &str, uri: &Uri) -> String {
    let mut h = Sha256::new();
    h.update(format!("{head_seq}:{head_hash}\n").as_bytes());
    h.update(
        uri.path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("")
            .as_bytes(),
    );
    format!("\"{}-{}\"", head_seq, hex::encode(&h.finalize()[..12]))
}

fn matches_etag(headers: &HeaderMap, tag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|v| v.trim().trim_start_matches("W/"))
        .any(|v| v == tag || v == "*")
}

/// Answers a question: 304 when `If-None-Match` names the current tag, else the answer with
/// its `ETag`. The head is read before the answer, so an answer is never older than its tag.
async fn respond(
    app: Arc<App>,
    headers: HeaderMap,
    uri: Uri,
    q: Result<Question, AnswerError>,
) -> Response {
    let q = match q {
        Ok(q) => q,
        Err(e) => return Failure::answer(e).into_response(),
    };
    let lines = q.is_json_lines();
    let known = headers.clone();
    let shared = Arc::clone(&app);
    let result = app
        .read(move |l| -> Result<(String, Option<Bytes>), Failure> {
            let h = l.head().map_err(Failure::store)?;
            let tag = etag(h.seq, &h.hash, &uri);
            if matches_etag(&known, &tag) {
                return Ok((tag, None));
            }
            if let Some(body) = shared.cached(&tag) {
                return Ok((tag, Some(body)));
            }
            let mut body = Vec::new();
            answer::write(l, &q, &mut body).map_err(Failure::answer)?;
            let body = Bytes::from(body);
            shared.remember(tag.clone(), body.clone());
            Ok((tag, Some(body)))
        })
        .await;
    match result.and_then(|r| r) {
        Err(f) => f.into_response(),
        Ok((tag, None)) => (StatusCode::NOT_MODIFIED, [(header::ETAG, tag)]).into_response(),
        Ok((tag, Some(body))) => (
            [
                (
                    header::CONTENT_TYPE,
                    if lines {
                        "application/jsonl".to_string()
                    } else {
                        "application/json".to_string()
                    },
                ),
                (header::ETAG, tag),
                (header::CACHE_CONTROL, "no-cache".to_string()),
            ],
            body,
        )
            .into_response(),
    }
}

type Ctx = (State<Arc<App>>, HeaderMap, Uri, Query<Params>);

async fn api_state((State(app), headers, uri, Query(p)): Ctx) -> Response {
    let q = only(&p, &["as_of", "known_at"])
        .map(|()| Question::state(opt(&p, "as_of"), opt(&p, "known_at")));
    match q {
        Ok(q) => respond(app, headers, uri, q).await,
        Err(f) => f.into_response(),
    }
}

async fn api_members((State(app), headers, uri, Query(p)): Ctx) -> Response {
    let q = only(&p, &["as_of", "known_at"])
        .map(|()| Question::members(opt(&p, "as_of"), opt(&p, "known_at")));
    match q {
        Ok(q) => respond(app, headers, uri, q).await,
        Err(f) => f.into_response(),
    }
}

async fn api_history(
    UrlPath(party): UrlPath<String>,
    (State(app), headers, uri, Query(p)): Ctx,
) -> Response {
    match only(&p, &["known_at"]) {
        Ok(()) => {
            let q = Question::history(&party, opt(&p, "known_at"));
            respond(app, headers, uri, q).await
        }
        Err(f) => f.into_response(),
    }
}

async fn api_diff((State(app), headers, uri, Query(p)): Ctx) -> Response {
    let q = only(&p, &["from", "to", "known_at"]).and_then(|()| {
        Ok(Question::diff(
            required(&p, "from", "--from")?,
            required(&p, "to", "--to")?,
            opt(&p, "known_at"),
        ))
    });
    match q {
        Ok(q) => respond(app, headers, uri, q).await,
        Err(f) => f.into_response(),
    }
}

async fn api_meetings((State(app), headers, uri, Query(p)): Ctx) -> Response {
    match only(&p, &["from", "to", "known_at"]) {
        Ok(()) => {
            let q = Question::meetings(opt(&p, "from"), opt(&p, "to"), opt(&p, "known_at"));
            respond(app, headers, uri, q).await
        }
        Err(f) => f.into_response(),
    }
}

async fn api_officers((State(app), headers, uri, Query(p)): Ctx) -> Response {
    match only(&p, &["known_at"]) {
        Ok(()) => {
            let q = Question::officers(opt(&p, "known_at"));
            respond(app, headers, uri, q).await
        }
        Err(f) => f.into_response(),
    }
}

async fn api_audit((State(app), headers, uri, Query(p)): Ctx) -> Response {
    match only(&p, &["known_at"]) {
        Ok(()) => {
            let q = Question::audit(opt(&p, "known_at"));
            respond(app, headers, uri, q).await
        }
        Err(f) => f.into_response(),
    }
}

async fn api_head((State(app), headers, uri, Query(p)): Ctx) -> Response {
    match only(&p, &["known_at"]) {
        Ok(()) => {
            let q = Question::head(opt(&p, "known_at"));
            respond(app, headers, uri, q).await
        }
        Err(f) => f.into_response(),
    }
}

async fn api_timeline((State(app), headers, uri, Query(p)): Ctx) -> Response {
    let q = only(&p, &["from", "to", "every", "known_at"]).and_then(|()| {
        Ok(Question::timeline(
            required(&p, "from", "--from")?,
            required(&p, "to", "--to")?,
            required(&p, "every", "--every")?,
            opt(&p, "known_at"),
        ))
    });
    match q {
        Ok(q) => respond(app, headers, uri, q).await,
        Err(f) => f.into_response(),
    }
}

async fn api_log((State(app), headers, uri, Query(p)): Ctx) -> Response {
    let q = only(&p, &["after", "known_at"]).and_then(|()| {
        let after = match opt(&p, "after") {
            None => 0,
            Some(s) => answer::seq(s, "--after").map_err(Failure::answer)?,
        };
        Ok(Question::log(after, opt(&p, "known_at")))
    });
    match q {
        Ok(q) => respond(app, headers, uri, q).await,
        Err(f) => f.into_response(),
    }
}

/// Whether `headers` carry `Authorization: Bearer <token>` with the token whose SHA-256 is
/// `want`; the digests are compared in constant time (so neither the token's content nor its
/// length shows in the time taken).
fn authorised(headers: &HeaderMap, want: &[u8; 32]) -> bool {
    let Some(given) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    let got: [u8; 32] = Sha256::digest(given.trim().as_bytes()).into();
    bool::from(got.ct_eq(want))
}

/// `If-Match: SEQ` (or `"SEQ"`, or `*` for any head).
fn if_match(headers: &HeaderMap) -> Result<Option<u64>, Failure> {
    let Some(v) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let text = v.to_str().unwrap_or("").trim();
    if text == "*" {
        return Ok(None);
    }
    text.trim_matches('"').parse::<u64>().map(Some).map_err(|_| {
        Failure::new(
            StatusCode::BAD_REQUEST,
            format!("If-Match: `{text}` is not a seq: send the log's last seq as you read it (as the CLI's --expect-head)"),
        )
    })
}

async fn api_append(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(want) = app.token else {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(header::ALLOW, "")],
            Failure::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "this service is read-only: it was started without --write-token-file, so it takes no appends",
            ),
        )
            .into_response();
    };
    if !authorised(&headers, &want) {
        return (
            StatusCode::UNAUTHORIZED,
            [(
                header::WWW_AUTHENTICATE,
                "Bearer realm=\"iofs-ledger\"",
            )],
            Failure::new(
                StatusCode::UNAUTHORIZED,
                "an append needs `Authorization: Bearer <token>` with the token of the service's --write-token-file",
            ),
        )
            .into_response();
    }
    let expect_head = match if_match(&headers) {
        Ok(e) => e,
        Err(f) => return f.into_response(),
    };
    let app2 = Arc::clone(&app);
    let done = tokio::task::spawn_blocking(move || -> Result<Receipt, Failure> {
        let mut guard = app2.writer.lock().map_err(|_| {
            Failure::internal("the writer failed earlier; restart the service".into())
        })?;
        if guard.is_none() {
            let mut l = Ledger::open(&app2.db, Access::ReadWrite).map_err(Failure::store)?;
            l.set_busy_timeout(app2.lock_timeout)
                .map_err(Failure::store)?;
            *guard = Some(l);
        }
        let Some(l) = guard.as_mut() else {
            return Err(Failure::internal("no writer".into()));
        };
        append_body(l, &body, expect_head).map(|a| Receipt::of_append(&a))
    })
    .await;
    match done {
        Ok(Ok(r)) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            json_text(&r),
        )
            .into_response(),
        Ok(Err(f)) => f.into_response(),
        Err(e) => Failure::internal(format!("the append stopped: {e}")).into_response(),
    }
}

/// One append of a request body: a JSON array, or JSON Lines, as `append` reads them.
fn append_body(
    l: &mut Ledger,
    body: &[u8],
    expect_head: Option<u64>,
) -> Result<crate::store::Appended, Failure> {
    let opts = AppendOptions {
        expect_head,
        now: None,
    };
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    // As `append` without --allow-empty: an empty input is almost always a mistake upstream.
    if first.is_none() {
        return Err(Failure::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "the request body holds no events: nothing was appended",
        ));
    }
    if first == Some(&b'[') {
        let text = std::str::from_utf8(body).map_err(|_| {
            Failure::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "the request body is not valid UTF-8; nothing was appended",
            )
        })?;
        return match parse_batch(text) {
            Ok(events) => l.append(events.into_iter().map(Ok), opts),
            Err(errors) => l.append(errors.into_iter().map(Err::<Prepared, _>), opts),
        }
        .map_err(Failure::store);
    }
    let (result, failed) =
        with_parsed_lines(std::io::Cursor::new(body), |events| l.append(events, opts));
    if let Some(e) = failed {
        return Err(Failure::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("the request body cannot be read: {e}; nothing was appended"),
        ));
    }
    result.map_err(Failure::store)
}

/// A response of HTML.
fn html(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        Body::from(body),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every route the router registers under /api/ is described in the OpenAPI document,
    /// and every path it describes is registered (read from this file's `.route` calls).
    #[test]
    fn the_openapi_description_lists_exactly_the_routes() {
        let src = include_str!("mod.rs");
        let mut routed: Vec<String> = src
            .lines()
            .filter_map(|l| l.trim().strip_prefix(".route(\""))
            .filter_map(|l| l.split('"').next())
            .filter(|p| p.starts_with("/api/"))
            .map(String::from)
            .collect();
        routed.sort();
        let doc: serde_json::Value = serde_json::from_str(OPENAPI).unwrap_or_default();
        let mut described: Vec<String> = doc["paths"]
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        described.sort();
        assert!(!routed.is_empty());
        assert_eq!(routed, described);
    }

    #[test]
    fn only_the_token_is_authorised() {
        let want: [u8; 32] = Sha256::digest(b"0123456789abcdef-secret").into();
        let mut h = HeaderMap::new();
        assert!(!authorised(&h, &want));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer 0123456789abcdef-secreT"),
        );
        assert!(!authorised(&h, &want));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic 0123456789abcdef-secret"),
        );
        assert!(!authorised(&h, &want));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer 0123456789abcdef-secret"),
        );
        assert!(authorised(&h, &want));
    }

    #[test]
    fn an_etag_changes_with_the_head_and_the_question() {
        let a: Uri = "/api/state?as_of=2020-01-01".parse().unwrap_or_default();
        let b: Uri = "/api/state?as_of=2020-01-02".parse().unwrap_or_default();
        assert_ne!(etag(1, "aa", &a), etag(2, "bb", &a));
        assert_ne!(etag(1, "aa", &a), etag(1, "aa", &b));
        assert_eq!(etag(1, "aa", &a), etag(1, "aa", &a));
    }
}
