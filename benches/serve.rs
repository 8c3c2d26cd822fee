//! Load benchmark of `serve` on loopback, run by hand:
//!
//! ```text
//! cargo bench --bench serve                      # built-in ledger (+ IOFS_SERVE_BENCH_DB)
//! IOFS_SERVE_BENCH_DB=path/to/1M.db cargo bench --bench serve
//! IOFS_SERVE_BENCH_BIN=target/release/iofs-ledger cargo test --bench serve   # a given binary
//! ```
//!
//! Starts the release binary on port 0 and drives it from 16 client threads, each on its own
//! keep-alive connection, for a bounded number of requests and a bounded time per phase.
//! Reports requests/s and p50/p99 latency of `GET /api/state?as_of=…` against a floor measured
//! in the same run (`GET /api/health`: the same server answering a constant from memory),
//! and again while appends stream in (one every 20 ms, with the token). A failed request is
//! counted and reported, never hidden. `IOFS_BENCH_QUICK=1` (or `--test`, as `.ci/run` does)
//! runs a few requests only, to keep it compiling and sane; nothing here asserts timings.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

const CLIENTS: usize = 16;
const TOKEN: &str = "bench-token-0123456789abcdef";

fn quick() -> bool {
    std::env::var_os("IOFS_BENCH_QUICK").is_some() || std::env::args().any(|a| a == "--test")
}

/// The binary under test: `IOFS_SERVE_BENCH_BIN` (e.g. `target/release/iofs-ledger`), else
/// the one Cargo built with this bench.
fn binary() -> PathBuf {
    std::env::var_os("IOFS_SERVE_BENCH_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_iofs-ledger")))
}

struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(db: &Path, token: Option<&Path>) -> Server {
        let mut cmd = Command::new(binary());
        cmd.arg("--db")
            .arg(db)
            .args(["serve", "--bind", "127.0.0.1:0"]);
        if let Some(t) = token {
            cmd.arg("--write-token-file").arg(t);
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap()
            .to_string();
        Server { child, url }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Figures {
    requests: usize,
    failed: u64,
    per_second: f64,
    p50: Duration,
    p99: Duration,
}

/// `CLIENTS` threads GET `path` until each has made `per_client` requests or `limit` passed.
fn load(url: &str, path: &str, per_client: usize, limit: Duration) -> Figures {
    let failed = AtomicU64::new(0);
    let start = Instant::now();
    let mut all: Vec<Duration> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..CLIENTS)
            .map(|_| {
                let failed = &failed;
                s.spawn(move || {
                    let agent = ureq::AgentBuilder::new().max_idle_connections(1).build();
                    let mut times = Vec::with_capacity(per_client);
                    while times.len() < per_client && start.elapsed() < limit {
                        let t = Instant::now();
                        let ok = agent
                            .get(&format!("{url}{path}"))
                            .call()
                            .ok()
                            .and_then(|r| r.into_string().ok())
                            .is_some();
                        if !ok {
                            failed.fetch_add(1, Ordering::Relaxed);
                        }
                        times.push(t.elapsed());
                    }
                    times
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let wall = start.elapsed();
    all.sort_unstable();
    let at = |q: f64| all[((all.len() as f64 * q) as usize).min(all.len() - 1)];
    Figures {
        requests: all.len(),
        failed: failed.load(Ordering::Relaxed),
        per_second: all.len() as f64 / wall.as_secs_f64(),
        p50: at(0.50),
        p99: at(0.99),
    }
}

fn show(name: &str, f: &Figures) {
    println!(
        "{name:<44} {:>9.0} req/s  p50 {:>8.2?}  p99 {:>8.2?}  ({} requests, {} failed)",
        f.per_second, f.p50, f.p99, f.requests, f.failed
    );
}

fn bench(label: &str, db: &Path, as_of: &str, dir: &Path) {
    let (per_client, limit) = if quick() {
        (20, Duration::from_secs(5))
    } else {
        (5_000, Duration::from_secs(20))
    };
    let token = dir.join("token");
    std::fs::write(&token, TOKEN).unwrap();
    let server = Server::start(db, Some(&token));
    let state = format!("/api/state?as_of={as_of}");
    // Warm the connections and the page cache.
    load(&server.url, &state, 5, limit);
    let floor = load(&server.url, "/api/health", per_client, limit);
    show(&format!("{label}: floor (/api/health)"), &floor);
    let answer = load(&server.url, &state, per_client, limit);
    show(&format!("{label}: /api/state"), &answer);
    println!(
        "{label}: /api/state at {:.0}% of the floor's requests/s",
        100.0 * answer.per_second / floor.per_second
    );
    // Appends streaming in while the same load runs.
    let stop = AtomicBool::new(false);
    let appended = AtomicU64::new(0);
    let streaming = std::thread::scope(|s| {
        s.spawn(|| {
            // Dated today: after every event of the history, so each append folds at the
            // tail (an earlier date would refold the log from it).
            let today = chrono::Utc::now().date_naive();
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                i += 1;
                let body = format!(
                    r#"{{"type":"agreement_signed","title":"Load test agreement {i}","counterparty":"Load test","date":"{today}","source":{{"document":"bench.txt","quote":"A load test."}}}}"#
                );
                let ok = ureq::post(&format!("{}/api/events", server.url))
                    .set("Authorization", &format!("Bearer {TOKEN}"))
                    .send_string(&body)
                    .is_ok();
                if ok {
                    appended.fetch_add(1, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        let f = load(&server.url, &state, per_client, limit);
        stop.store(true, Ordering::Relaxed);
        f
    });
    show(&format!("{label}: /api/state while appending"), &streaming);
    println!(
        "{label}: {} appends landed meanwhile",
        appended.load(Ordering::Relaxed)
    );
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("builtin.db");
    let ok = Command::new(binary())
        .arg("--db")
        .arg(&db)
        .arg("init")
        .stdout(Stdio::null())
        .status()
        .unwrap()
        .success();
    assert!(ok, "init failed");
    println!("{CLIENTS} clients on loopback, keep-alive connections");
    bench("built-in", &db, "2025-12-31", dir.path());
    if let Some(big) = std::env::var_os("IOFS_SERVE_BENCH_DB") {
        // A copy: the appends must not change the caller's file.
        let copy = dir.path().join("big.db");
        std::fs::copy(&big, &copy).unwrap();
        // An empty append opens it for writing, which brings an older schema up to date.
        let ok = Command::new(binary())
            .arg("--db")
            .arg(&copy)
            .args(["append", "--allow-empty"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .status()
            .unwrap()
            .success();
        assert!(ok, "cannot open {} for writing", copy.display());
        bench("given ledger", &copy, "2025-12-31", dir.path());
    }
}
