//! End-to-end tests of `serve`: the real binary on port 0 (the port read from its first line),
//! asked over loopback HTTP. The API's answers are the CLI's `--json` byte for byte; appends
//! need the token and change nothing when refused; concurrent appends all land; pages show the
//! state for a date picked in their form, in headless Chromium, and run nothing from a quote.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command as Process, Stdio};

use assert_cmd::cargo::CommandCargoExt;
use assert_cmd::Command;
use serde_json::Value;

const TOKEN: &str = "test-token-0123456789abcdef";

struct Tmp {
    dir: tempfile::TempDir,
    db: PathBuf,
}

fn tmp() -> Tmp {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ledger.db");
    Tmp { dir, db }
}

fn cli(db: &Path, args: &[&str]) -> std::process::Output {
    Command::cargo_bin("iofs-ledger")
        .unwrap()
        .env_remove("IOFS_LEDGER_DB")
        .arg("--db")
        .arg(db)
        .args(args)
        .output()
        .unwrap()
}

fn cli_ok(db: &Path, args: &[&str]) -> String {
    let out = cli(db, args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A ledger with the built-in history.
fn builtin() -> Tmp {
    let t = tmp();
    cli_ok(&t.db, &["init"]);
    t
}

/// An empty ledger.
fn empty() -> Tmp {
    let t = tmp();
    cli_ok(&t.db, &["init", "--empty"]);
    t
}

fn signed(party: &str, date: &str, quote: &str) -> String {
    serde_json::json!({
        "type": "statute_signed",
        "party": party,
        "date": date,
        "source": {"document": "test.txt", "quote": quote},
    })
    .to_string()
        + "\n"
}

/// The running service; stopped (SIGTERM) when dropped.
struct Service {
    child: Option<Child>,
    url: String,
}

impl Service {
    fn start(t: &Tmp, writable: bool) -> Service {
        let mut cmd = Process::cargo_bin("iofs-ledger").unwrap();
        cmd.env_remove("IOFS_LEDGER_DB")
            .arg("--db")
            .arg(&t.db)
            .args(["serve", "--bind", "127.0.0.1:0"]);
        if writable {
            let f = t.dir.path().join("token");
            std::fs::write(&f, format!("{TOKEN}\n")).unwrap();
            cmd.arg("--write-token-file").arg(f);
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut first)
            .unwrap();
        let url = first
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("first line: {first:?}"))
            .to_string();
        assert!(url.starts_with("http://127.0.0.1:"), "{url}");
        Service {
            child: Some(child),
            url,
        }
    }

    fn get(&self, path: &str) -> Reply {
        self.request(ureq::get(&format!("{}{path}", self.url)), None)
    }

    fn get_with(&self, path: &str, header: (&str, &str)) -> Reply {
        self.request(
            ureq::get(&format!("{}{path}", self.url)).set(header.0, header.1),
            None,
        )
    }

    fn post(&self, body: &str, headers: &[(&str, &str)]) -> Reply {
        let mut r = ureq::post(&format!("{}/api/events", self.url));
        for (k, v) in headers {
            r = r.set(k, v);
        }
        self.request(r, Some(body))
    }

    fn request(&self, r: ureq::Request, body: Option<&str>) -> Reply {
        let res = match body {
            Some(b) => r.send_string(b),
            None => r.call(),
        };
        let resp = match res {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{e}"),
        };
        let status = resp.status();
        let headers = resp
            .headers_names()
            .into_iter()
            .map(|n| {
                let v = resp.header(&n).unwrap_or("").to_string();
                (n.to_ascii_lowercase(), v)
            })
            .collect();
        let body = resp.into_string().unwrap();
        Reply {
            status,
            headers,
            body,
        }
    }

    /// Sends SIGTERM and waits for the process to end.
    fn stop(mut self) -> std::process::Output {
        let child = self.child.take().unwrap();
        let pid = child.id().to_string();
        let sent = Process::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(sent.success());
        child.wait_with_output().unwrap()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

/// Every GET of the API answers the bytes the CLI prints with `--json` for the same question.
#[test]
fn api_answers_are_the_cli_json_byte_for_byte() {
    let t = builtin();
    let s = Service::start(&t, false);
    let cases: &[(&str, &[&str])] = &[
        (
            "/api/state?as_of=2020-01-01",
            &["state", "--as-of", "2020-01-01", "--json"],
        ),
        (
            "/api/state?as_of=2016-06-01&known_at=2030-01-01",
            &[
                "state",
                "--as-of",
                "2016-06-01",
                "--known-at",
                "2030-01-01",
                "--json",
            ],
        ),
        (
            "/api/members?as_of=2019-12-31",
            &["members", "--as-of", "2019-12-31", "--json"],
        ),
        ("/api/history/KAZ", &["history", "KAZ", "--json"]),
        (
            "/api/diff?from=2015-01-01&to=2020-01-01",
            &[
                "diff",
                "--from",
                "2015-01-01",
                "--to",
                "2020-01-01",
                "--json",
            ],
        ),
        ("/api/meetings", &["meetings", "--json"]),
        (
            "/api/meetings?from=2018-01-01&to=2020-12-31",
            &[
                "meetings",
                "--from",
                "2018-01-01",
                "--to",
                "2020-12-31",
                "--json",
            ],
        ),
        ("/api/officers", &["officers", "--json"]),
        ("/api/audit", &["audit", "--json"]),
        ("/api/head", &["head", "--json"]),
        ("/api/log?after=100", &["log", "--after", "100", "--json"]),
        (
            "/api/timeline?from=2013&to=2020&every=year",
            &[
                "timeline", "--from", "2013", "--to", "2020", "--every", "year", "--json",
            ],
        ),
        ("/api/log", &["log", "--json"]),
    ];
    for (path, args) in cases {
        let r = s.get(path);
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        assert_eq!(r.body, cli_ok(&t.db, args), "{path}");
        assert!(r.header("etag").is_some(), "{path}");
    }
    assert_eq!(
        s.get("/api/log").header("content-type"),
        Some("application/jsonl")
    );
}

/// A bad parameter is a 400 whose message is the CLI's, as JSON.
#[test]
fn bad_parameters_get_400_with_the_cli_message() {
    let t = builtin();
    let s = Service::start(&t, false);
    let cases: &[(&str, &[&str])] = &[
        (
            "/api/state?as_of=2020-13-01",
            &["state", "--as-of", "2020-13-01"],
        ),
        (
            "/api/state?as_of=2020-01-01&known_at=yesterday",
            &["state", "--as-of", "2020-01-01", "--known-at", "yesterday"],
        ),
        ("/api/history/XXQ", &["history", "XXQ"]),
        (
            "/api/diff?from=2020-01-01&to=soon",
            &["diff", "--from", "2020-01-01", "--to", "soon"],
        ),
    ];
    for (path, args) in cases {
        let r = s.get(path);
        assert_eq!(r.status, 400, "{path}: {}", r.body);
        let out = cli(&t.db, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        // The message without the flag's name, which the CLI frames its own way for dates.
        let said = r.json()["error"].as_str().unwrap().to_string();
        let msg = said
            .split_once(": ")
            .filter(|(f, _)| f.starts_with("--"))
            .map_or(said.as_str(), |(_, m)| m);
        assert!(stderr.contains(msg), "{path}: {msg:?} not in {stderr:?}");
    }
    let r = s.get("/api/diff?from=2020-01-01");
    assert_eq!(r.status, 400);
    assert!(r.json()["error"].as_str().unwrap().contains("`to`"));
    let r = s.get("/api/diff?from=2021-01-01&to=2020-01-01");
    assert_eq!(r.status, 400);
    let out = cli(
        &t.db,
        &["diff", "--from", "2021-01-01", "--to", "2020-01-01"],
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains(r.json()["error"].as_str().unwrap()));
    let r = s.get("/api/state?as_of=2020-01-01&asof=2");
    assert_eq!(r.status, 400);
    assert!(r.json()["error"].as_str().unwrap().contains("asof"));
}

/// Every path the OpenAPI description lists is served (none is a 404).
#[test]
fn every_path_the_openapi_description_lists_is_served() {
    let t = builtin();
    let s = Service::start(&t, false);
    let doc = s.get("/api/openapi.json").json();
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 11);
    for (path, ops) in paths {
        let url = format!(
            "{}?as_of=2020-01-01&from=2019-01-01&to=2020-01-01",
            path.replace("{party}", "KAZ")
        );
        let url = if path == "/api/timeline" {
            "/api/timeline?from=2014&to=2020&every=month".to_string()
        } else if path == "/api/state" || path == "/api/members" {
            url.replace("&from=2019-01-01&to=2020-01-01", "")
        } else if path == "/api/diff" {
            url.replace("as_of=2020-01-01&", "")
        } else {
            path.replace("{party}", "KAZ")
        };
        if ops.get("get").is_some() {
            let r = s.get(&url);
            assert_eq!(r.status, 200, "{url}: {}", r.body);
        }
        if ops.get("post").is_some() {
            assert_ne!(s.post("", &[]).status, 404, "{path}");
        }
    }
    assert_eq!(s.get("/api/nothing").status, 404);
}

/// Without --write-token-file the service refuses appends (405, saying it is read-only);
/// with it, a request without the token or with a wrong one gets 401 and a challenge; none
/// of them changes the log.
#[test]
fn unauthorised_and_read_only_appends_are_refused_and_change_nothing() {
    let t = builtin();
    let before = cli_ok(&t.db, &["log", "--json"]);
    let event = signed("KAZ", "2024-01-01", "A sentence.");
    {
        let s = Service::start(&t, false);
        let r = s.post(&event, &[("Authorization", &format!("Bearer {TOKEN}"))]);
        assert_eq!(r.status, 405, "{}", r.body);
        assert!(r.json()["error"].as_str().unwrap().contains("read-only"));
    }
    let s = Service::start(&t, true);
    let r = s.post(&event, &[]);
    assert_eq!(r.status, 401);
    assert_eq!(
        r.header("www-authenticate"),
        Some("Bearer realm=\"iofs-ledger\"")
    );
    for wrong in [
        format!("Bearer {TOKEN}x"),
        format!("Bearer {}", &TOKEN[1..]),
        format!("Basic {TOKEN}"),
        "Bearer ".to_string(),
    ] {
        let r = s.post(&event, &[("Authorization", &wrong)]);
        assert_eq!(r.status, 401, "{wrong}");
    }
    assert_eq!(cli_ok(&t.db, &["log", "--json"]), before);
    assert_eq!(s.get("/api/log").body, before);
}

/// Eight appends sent at once with the token all land (seqs 1..=8, each once), and the
/// ledger verifies; each receipt names the head its append made.
#[test]
fn eight_concurrent_authorised_appends_all_land_and_verify() {
    let t = empty();
    let s = Service::start(&t, true);
    let parties = ["KAZ", "TUR", "PAK", "SAU", "EGY", "QAT", "SEN", "MAR"];
    let receipts: Vec<Value> = std::thread::scope(|sc| {
        let handles: Vec<_> = parties
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let s = &s;
                sc.spawn(move || {
                    let body = signed(p, &format!("2014-01-0{}", i + 1), "Signed.");
                    let r = s.post(&body, &[("Authorization", &format!("Bearer {TOKEN}"))]);
                    assert_eq!(r.status, 200, "{}", r.body);
                    r.json()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut seqs: Vec<u64> = receipts
        .iter()
        .map(|r| {
            assert_eq!(r["count"], 1);
            assert_eq!(r["first_seq"], r["last_seq"]);
            r["last_seq"].as_u64().unwrap()
        })
        .collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=8).collect::<Vec<_>>());
    let head = cli_ok(&t.db, &["head"]);
    let last = receipts.iter().find(|r| r["last_seq"] == 8).unwrap();
    assert_eq!(last["head"].as_str().unwrap(), head.trim());
    cli_ok(&t.db, &["verify"]);
    let state = s.get("/api/state?as_of=2014-12-31").json();
    assert_eq!(state["members"]["count"], 8);
}

/// Another SQLite client may open and close the file between the service's requests: the
/// service never drops its own locks on it (on POSIX, closing any descriptor of a file drops
/// every lock the process holds on it), so that client never takes itself for the last one,
/// checkpointing and deleting the WAL under the service's connections. A bulk append over HTTP
/// (which leaves the read models to the next request) then such a client, then reads: every
/// answer is right and the file stays sound.
#[test]
fn another_sqlite_client_between_requests_never_corrupts_the_file() {
    let t = empty();
    let all = iofs_ledger::synth::jsonl(20_000, 1);
    let (first, rest) = all.split_at(all.match_indices('\n').nth(999).unwrap().0 + 1);
    let f = t.dir.path().join("first.jsonl");
    std::fs::write(&f, first).unwrap();
    cli_ok(&t.db, &["append", f.to_str().unwrap()]);
    let s = Service::start(&t, true);
    let auth = format!("Bearer {TOKEN}");
    let r = s.post(rest, &[("Authorization", &auth)]);
    assert_eq!(r.status, 200, "{}", r.body);
    // An ordinary read-write client comes and goes (it checkpoints on close, deleting the WAL,
    // when it believes it is the last connection).
    let c = rusqlite::Connection::open(&t.db).unwrap();
    let n: i64 = c
        .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 20_000);
    drop(c);
    for as_of in ["2020", "2000", "2024-06-30"] {
        let r = s.get(&format!("/api/state?as_of={as_of}"));
        assert_eq!(r.status, 200, "{as_of}: {}", r.body);
    }
    drop(s);
    let c = rusqlite::Connection::open(&t.db).unwrap();
    let ok: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
    drop(c);
    cli_ok(&t.db, &["verify"]);
}

/// `If-Match: SEQ` is `--expect-head`: a stale seq gets 412 and appends nothing; the current
/// one appends.
#[test]
fn an_if_match_conflict_gets_412_and_appends_nothing() {
    let t = empty();
    let s = Service::start(&t, true);
    let auth = format!("Bearer {TOKEN}");
    let r = s.post(
        &signed("KAZ", "2014-01-01", "One."),
        &[("Authorization", &auth), ("If-Match", "0")],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let before = s.get("/api/log").body;
    let r = s.post(
        &signed("TUR", "2014-01-02", "Two."),
        &[("Authorization", &auth), ("If-Match", "0")],
    );
    assert_eq!(r.status, 412, "{}", r.body);
    assert!(r.json()["error"]
        .as_str()
        .unwrap()
        .contains("last seq is 1, not 0"));
    assert_eq!(s.get("/api/log").body, before);
    let r = s.post(
        &signed("TUR", "2014-01-02", "Two."),
        &[("Authorization", &auth), ("If-Match", "\"1\"")],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.json()["head"].as_str().unwrap(),
        cli_ok(&t.db, &["head"]).trim()
    );
    // A refused event (a second signature) is 422 with the CLI's message; nothing appended.
    let r = s.post(
        &signed("TUR", "2014-02-02", "Again."),
        &[("Authorization", &auth)],
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.json()["error"]
        .as_str()
        .unwrap()
        .contains("nothing was appended"));
    assert_eq!(cli_ok(&t.db, &["head"]).split(':').next(), Some("2"));
    // An empty body is refused, as `append` refuses an empty input.
    let r = s.post("\n", &[("Authorization", &auth)]);
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.json()["error"].as_str().unwrap().contains("no events"));
}

/// An answer's ETag is fixed by the head and the question: asked again with
/// `If-None-Match` it is 304; after an append it is answered anew with another tag.
#[test]
fn if_none_match_gets_304_until_the_head_moves() {
    let t = empty();
    let s = Service::start(&t, true);
    let path = "/api/state?as_of=2014-12-31";
    let first = s.get(path);
    let tag = first.header("etag").unwrap().to_string();
    let again = s.get_with(path, ("If-None-Match", &tag));
    assert_eq!(again.status, 304);
    assert_eq!(again.body, "");
    let other = s.get_with("/api/state?as_of=2015-12-31", ("If-None-Match", &tag));
    assert_eq!(other.status, 200);
    let r = s.post(
        &signed("KAZ", "2014-01-01", "One."),
        &[("Authorization", &format!("Bearer {TOKEN}"))],
    );
    assert_eq!(r.status, 200);
    let after = s.get_with(path, ("If-None-Match", &tag));
    assert_eq!(after.status, 200);
    assert_ne!(after.header("etag").unwrap(), tag);
    assert_eq!(after.json()["members"]["count"], 1);
}

/// Every response carries the security headers; a body over the cap is 413; SIGTERM stops
/// the service cleanly (exit 0).
#[test]
fn limits_headers_and_a_clean_stop() {
    let t = empty();
    let s = Service::start(&t, true);
    for path in ["/", "/api/head", "/api/nothing"] {
        let r = s.get(path);
        let csp = r.header("content-security-policy").unwrap();
        assert!(csp.contains("default-src 'none'"), "{path}");
        assert!(!csp.contains("script-src"), "{path}");
        assert_eq!(
            r.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
    }
    // A body announced over the cap is refused before it is read.
    let addr = s.url.strip_prefix("http://").unwrap();
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    write!(
        conn,
        "POST /api/events HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {TOKEN}\r\nContent-Length: {}\r\n\r\n",
        17 << 20
    )
    .unwrap();
    let mut status = String::new();
    BufReader::new(&conn).read_line(&mut status).unwrap();
    assert!(status.starts_with("HTTP/1.1 413"), "{status}");
    assert_eq!(cli_ok(&t.db, &["head"]).split(':').next(), Some("0"));
    let out = s.stop();
    assert!(out.status.success(), "{:?}", out.status);
    assert!(String::from_utf8_lossy(&out.stdout).contains("stopped"));
}

fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            let ok = Process::new(name)
                .arg("--version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
            ok.then(|| PathBuf::from(name))
        })
}

fn dump_dom(browser: &Path, url: &str) -> String {
    let profile = tempfile::tempdir().unwrap();
    let out = Process::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--dump-dom")
        .arg(url)
        .stderr(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "chromium failed on {url}");
    String::from_utf8(out.stdout).unwrap()
}

/// In headless Chromium, the page shows the member count `state --json` gives for the date
/// picked in its form (the form's GET URL loaded), and a quote carrying HTML shows as text
/// and runs nothing.
#[test]
fn a_page_in_chromium_shows_the_count_for_a_date_and_runs_nothing_from_a_quote() {
    let Some(browser) = chromium() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "Chromium is required in CI (apt-get install -y chromium)"
        );
        eprintln!("skipped: no chromium");
        return;
    };
    let t = empty();
    let evil = r#"Signed <script>document.title="pwned"</script><img src=x onerror="document.body.dataset.pwned=1">."#;
    let input = signed("KAZ", "2013-12-10", evil)
        + &signed("TUR", "2014-05-01", "Signed.")
        + &signed("PAK", "2015-01-01", "Signed.");
    let out = Command::cargo_bin("iofs-ledger")
        .unwrap()
        .arg("--db")
        .arg(&t.db)
        .arg("append")
        .write_stdin(input)
        .output()
        .unwrap();
    assert!(out.status.success());
    let s = Service::start(&t, false);
    // The form on the page: a GET form to / with an as_of date field.
    let page = s.get("/").body;
    assert!(page.contains(r#"<form class="dates" method="get" action="/">"#));
    assert!(page.contains(r#"name="as_of""#));
    for day in ["2013-12-31", "2014-06-01", "2015-06-01"] {
        let dom = dump_dom(&browser, &format!("{}/?as_of={day}", s.url));
        let want =
            serde_json::from_str::<Value>(&cli_ok(&t.db, &["state", "--as-of", day, "--json"]))
                .unwrap()["members"]["count"]
                .clone();
        let shown = dom
            .split(r#"id="members-count">"#)
            .nth(1)
            .and_then(|r| r.split('<').next())
            .unwrap_or_else(|| panic!("no count on the page for {day}"));
        assert_eq!(shown, want.to_string(), "{day}");
    }
    // The report's status page, served live: its status table and chart are there.
    let dom = dump_dom(&browser, &format!("{}/?as_of=2015-06-01", s.url));
    assert!(dom.contains(r#"id="status""#), "{dom}");
    assert!(dom.contains("<svg"), "{dom}");
    let dom = dump_dom(&browser, &format!("{}/party/KAZ", s.url));
    assert!(
        dom.contains("&lt;script&gt;document.title=\"pwned\"&lt;/script&gt;"),
        "{dom}"
    );
    assert!(!dom.contains("pwned</title>"));
    assert!(!dom.contains("data-pwned"));
    assert!(!dom.contains("<img"));
}
