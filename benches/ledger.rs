//! Benchmarks of the ledger against floors measured in the same run (see `docs/performance.md`).
//!
//! Each group measures one operation of the ledger next to the floor that bounds it: raw
//! rusqlite doing the least the operation must do on the same data. Histories come from
//! [`iofs_ledger::synth`] (deterministic) at 1k, 100k and 1M events; generated ledgers are
//! cached under `target/bench-cache/` between runs (delete it, or set `IOFS_BENCH_FRESH=1`, to
//! rebuild them).
//!
//! * `append_bulk/{ledger,floor,floor_same_rows}/N`: N events appended into an empty file
//!   ledger in one append (JSON Lines text in memory → `parse_line` → `Ledger::append`),
//!   against one raw transaction inserting the same lines with a prepared statement into an
//!   events table with a day index, same pragmas (WAL, `synchronous = FULL`, 32 MiB cache);
//!   and against one raw transaction inserting every row the ledger ends up storing (the log
//!   and its read models, same schema and triggers): the I/O floor of the ledger's own layout.
//!   `ledger_then_catch_up` adds what the first read after a bulk append does first (a batch of
//!   `store::DEFER_THRESHOLD` events or more defers the projections to it).
//! * `append_durable/{ledger,floor,cli}/N`: one event per transaction on a ledger of N events
//!   (`Ledger::append` of one event; a raw one-row `BEGIN IMMEDIATE … COMMIT` in WAL with
//!   `synchronous = FULL`; and the whole CLI call `iofs-ledger --db F append one.jsonl`).
//! * `replay/{rebuild,verify,fold,floor}/N`: `Ledger::rebuild` and `audit::verify` of the whole
//!   log, and the in-memory fold of the log (`query::state_by_replay`, what `--known-at` runs;
//!   it reads every row and parses those that can change the state), against a raw scan of
//!   every body parsed by `serde_json`.
//! * `state/{query,floor,cli}/N`: `query::state` at days spread over the history, against one
//!   raw index seek in `timeline`, and the CLI call `iofs-ledger --db F state --as-of D`.
//! * `timeline/{daily_10k,floor}/N`: `timeline::timeline` of 10,000 daily steps (1998-08-01
//!   to 2025-12-16) over the read models, against one raw range scan of the same span of
//!   `timeline` rows of `count:members` (decoding nothing).
//! * `verify/{verify,floor_read_hash}/N`: `audit::verify` of the whole ledger against reading
//!   seq, recorded_at and body of every row and hashing them with SHA-256 in one stream (what
//!   `sqlite3 X "select seq||recorded_at||body from events" | sha256sum` does).
//! * `process/cli_version`: spawning `iofs-ledger --version` (the floor of any CLI call).
//! * Memory (full runs only, not criterion): peak RSS and wall time of the CLI appending,
//!   rebuilding, verifying and querying N events, and of every read command on them (state as
//!   known at, audit, meetings, history, export, log, officers, diff, members, years, head),
//!   printed and written to `target/bench-cache/memory.txt`.
//!
//! At the end the run prints, for every operation and size it measured, its ratio to its floor
//! from this run's own estimates (`ratio <group>/<operation> : <group>/<floor> at <size> = R`,
//! R being the floor's time over the operation's, i.e. the operation's rate over the floor's:
//! 1.0 is the floor, lower is slower). The README and `docs/performance.md` quote these lines.
//!
//! `IOFS_BENCH_QUICK=1` keeps only the 1k cases with tiny sample counts, for CI:
//! `IOFS_BENCH_QUICK=1 cargo bench --bench ledger -- --test`. `IOFS_BENCH_SIZES=1000,100000`
//! chooses sizes; `IOFS_BENCH_MEMORY=0|1` forces the memory step off or on.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::hash::Hasher;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use criterion::{BatchSize, BenchmarkId, Criterion, SamplingMode, Throughput};
use iofs_ledger::audit;
use iofs_ledger::date::Day;
use iofs_ledger::event::lines::with_parsed_lines;
use iofs_ledger::event::{parse_line, Event, Location};
use iofs_ledger::query;
use iofs_ledger::store::{schema, Access, AppendOptions, Ledger};
use iofs_ledger::synth;
use iofs_ledger::timeline::{self, Every};
use rusqlite::{params, Connection, OpenFlags};

const SEED: u64 = 2024;
const RECORDED_AT: &str = "2026-01-01T00:00:00.000000Z";
const HASH: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
/// The event every durable append adds (a meeting: no rule can refuse it, and it falls after
/// every synthetic event, so it is folded as it comes).
const ONE_EVENT: &str = r#"{"type":"meeting_held","date":"2025-12-31","organ":"executive_board","place":"Jeddah","source":{"document":"bench.txt","quote":"The Executive Board met in Jeddah on 31 December 2025."}}"#;
/// Days the point-in-time queries cycle through, spread over the history.
const AS_OF: [&str; 12] = [
    "1905-06-30",
    "1915-03-01",
    "1926-12-31",
    "1937-07-15",
    "1948-01-01",
    "1959-09-09",
    "1970-05-20",
    "1981-11-11",
    "1992-02-29",
    "2003-08-31",
    "2014-04-15",
    "2025-12-31",
];

fn quick() -> bool {
    std::env::var("IOFS_BENCH_QUICK").is_ok_and(|v| v == "1")
}

fn test_mode() -> bool {
    std::env::args().any(|a| a == "--test")
}

fn sizes() -> Vec<usize> {
    if let Ok(s) = std::env::var("IOFS_BENCH_SIZES") {
        return s
            .split(',')
            .filter_map(|x| x.trim().replace('_', "").parse().ok())
            .collect();
    }
    if quick() {
        vec![1_000]
    } else {
        vec![1_000, 100_000, 1_000_000]
    }
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
}

fn cache_dir() -> PathBuf {
    let d = target_dir().join("bench-cache");
    fs::create_dir_all(d.join("tmp")).unwrap();
    d
}

/// A scratch directory on the same file system as the cache (so fsync is real).
fn scratch() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("run-")
        .tempdir_in(cache_dir().join("tmp"))
        .unwrap()
}

/// The CLI binary: the one Cargo built for this bench, else `target/release/iofs-ledger`.
fn cli() -> Option<PathBuf> {
    let built = option_env!("CARGO_BIN_EXE_iofs-ledger").map(PathBuf::from);
    let fallback = target_dir().join("release").join("iofs-ledger");
    built
        .filter(|p| p.exists())
        .or_else(|| fallback.exists().then_some(fallback))
}

fn label(n: usize) -> String {
    match n {
        n if n >= 1_000_000 && n % 1_000_000 == 0 => format!("{}M", n / 1_000_000),
        n if n >= 1_000 && n % 1_000 == 0 => format!("{}k", n / 1_000),
        n => n.to_string(),
    }
}

/// A fingerprint of what a cached file depends on: the schema and the generator's output.
fn fingerprint(n: usize) -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for m in schema::MIGRATIONS {
        h.write(m.as_bytes());
    }
    h.write_i64(schema::SNAPSHOT_MIN_ROWS);
    h.write_usize(n);
    h.write_u64(SEED);
    for line in synth::lines(n, SEED).take(200) {
        h.write(line.as_bytes());
    }
    format!("{:016x}", h.finish())
}

/// The rows of one table and the statement that inserts one.
struct TableRows {
    insert: String,
    rows: Vec<Vec<rusqlite::types::Value>>,
}

/// The history of one size: its lines in memory (loaded on demand) and its cached files.
struct Fixture {
    n: usize,
    key: String,
    lines: Option<Vec<(String, i64)>>,
    rows: Option<Vec<TableRows>>,
    ledger: Option<PathBuf>,
    work: Option<(tempfile::TempDir, PathBuf)>,
}

impl Fixture {
    fn new(n: usize) -> Fixture {
        Fixture {
            n,
            key: fingerprint(n),
            lines: None,
            rows: None,
            ledger: None,
            work: None,
        }
    }

    /// Every event as canonical JSON with its effective day (the floor's index column).
    fn lines(&mut self) -> &[(String, i64)] {
        let n = self.n;
        self.lines.get_or_insert_with(|| {
            let t = Instant::now();
            let v: Vec<(String, i64)> = synth::events(n, SEED)
                .map(|e| {
                    let d = e.effective_day().map_or(0, |d| i64::from(d.0));
                    (e.canonical_json(), d)
                })
                .collect();
            eprintln!("generated {} events in {:.1?}", v.len(), t.elapsed());
            v
        })
    }

    /// Every row the ledger stores for this history, table by table (from the cached ledger).
    fn rows(&mut self) -> &[TableRows] {
        if self.rows.is_none() {
            let conn = Connection::open_with_flags(self.ledger(), OpenFlags::SQLITE_OPEN_READ_ONLY)
                .unwrap();
            let tables = std::iter::once("events")
                .chain(schema::READ_MODEL_TABLES)
                .chain(std::iter::once("meta"));
            let mut all = Vec::new();
            for t in tables {
                let mut st = conn.prepare(&format!("SELECT * FROM {t}")).unwrap();
                let cols = st.column_count();
                let rows: Vec<Vec<rusqlite::types::Value>> = st
                    .query_map([], |r| (0..cols).map(|i| r.get(i)).collect())
                    .unwrap()
                    .collect::<Result<_, _>>()
                    .unwrap();
                all.push(TableRows {
                    insert: format!("INSERT INTO {t} VALUES ({})", vec!["?"; cols].join(", ")),
                    rows,
                });
            }
            self.rows = Some(all);
        }
        self.rows.as_deref().unwrap()
    }

    /// The history as a JSON Lines file (cached).
    fn jsonl(&self) -> PathBuf {
        let p = cache_dir().join(format!("synth-{}-{}.jsonl", label(self.n), self.key));
        if !p.exists() || fresh() {
            let tmp = p.with_extension("jsonl.tmp");
            let mut w = BufWriter::new(fs::File::create(&tmp).unwrap());
            synth::write_jsonl(&mut w, self.n, SEED).unwrap();
            w.flush().unwrap();
            drop(w);
            fs::rename(&tmp, &p).unwrap();
        }
        p
    }

    /// A ledger holding the whole history (cached; open it read-only or copy it).
    fn ledger(&mut self) -> PathBuf {
        let n = self.n;
        let key = self.key.clone();
        self.ledger
            .get_or_insert_with(|| {
                let p = cache_dir().join(format!("ledger-{}-{key}.db", label(n)));
                let valid = !fresh()
                    && Ledger::open(&p, Access::ReadOnly)
                        .and_then(|l| l.head())
                        .is_ok_and(|h| h.seq == n as u64);
                if !valid {
                    let _ = fs::remove_file(&p);
                    let t = Instant::now();
                    Ledger::create(&p, |l| {
                        let input = synth::events(n, SEED)
                            .enumerate()
                            .map(|(i, e)| Ok((Location::Index(i), e)));
                        l.append(input, AppendOptions::default())?;
                        // A bulk append defers the projections: bring them up to date, so
                        // the cached file is as every reader finds it.
                        l.catch_up()
                    })
                    .unwrap();
                    eprintln!("built {} in {:.1?}", p.display(), t.elapsed());
                }
                p
            })
            .clone()
    }

    /// A writable copy of the cached ledger, kept for this run.
    fn work(&mut self) -> PathBuf {
        if self.work.is_none() {
            let src = self.ledger();
            let dir = scratch();
            let p = dir.path().join(format!("work-{}.db", label(self.n)));
            fs::copy(&src, &p).unwrap();
            self.work = Some((dir, p));
        }
        self.work.as_ref().map(|(_, p)| p.clone()).unwrap()
    }
}

fn fresh() -> bool {
    std::env::var("IOFS_BENCH_FRESH").is_ok_and(|v| v == "1")
}

/// Sample counts and times of a group (`slow`: iterations of seconds).
fn configure(g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>, slow: bool) {
    if quick() {
        g.sample_size(10)
            .warm_up_time(Duration::from_millis(50))
            .measurement_time(Duration::from_millis(200));
    } else if slow {
        g.sample_size(10)
            .sampling_mode(SamplingMode::Flat)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(20));
    } else {
        g.sample_size(50)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(5));
    }
}

const FLOOR_SCHEMA: &str = "
PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA cache_size = -32768;
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY, recorded_at TEXT NOT NULL, body TEXT NOT NULL,
    hash TEXT NOT NULL, day INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS events_by_day ON events (day, seq);";

fn floor_db(path: &Path) -> Connection {
    let c = Connection::open(path).unwrap();
    c.execute_batch(FLOOR_SCHEMA).unwrap();
    c
}

/// An empty ledger in a fresh scratch directory (kept alive with it).
fn empty_ledger() -> (tempfile::TempDir, Ledger) {
    let dir = scratch();
    let p = dir.path().join("bulk.db");
    Ledger::create(&p, |_| Ok(())).unwrap();
    let l = Ledger::open(&p, Access::ReadWrite).unwrap();
    (dir, l)
}

fn bench_bulk(c: &mut Criterion, fx: &mut [Fixture]) {
    for f in fx.iter_mut() {
        let n = f.n;
        let mut g = c.benchmark_group("append_bulk");
        configure(&mut g, n >= 100_000);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(BenchmarkId::new("ledger", label(n)), |b| {
            // As the CLI does it: lines parsed on a second thread while the append writes.
            let text: String = f.lines().iter().map(|(l, _)| format!("{l}\n")).collect();
            b.iter_batched(
                empty_ledger,
                |(dir, mut l)| {
                    let (a, failed) = with_parsed_lines(text.as_bytes(), |events| {
                        l.append(events, AppendOptions::default())
                    });
                    assert!(failed.is_none());
                    assert_eq!(a.unwrap().count(), n as u64);
                    (dir, l)
                },
                BatchSize::PerIteration,
            );
        });
        g.bench_function(BenchmarkId::new("ledger_then_catch_up", label(n)), |b| {
            // The append, then what the first read after it does first: the projections a
            // bulk append defers, brought up to date (the cost moved, not removed).
            let text: String = f.lines().iter().map(|(l, _)| format!("{l}\n")).collect();
            b.iter_batched(
                empty_ledger,
                |(dir, mut l)| {
                    let (a, failed) = with_parsed_lines(text.as_bytes(), |events| {
                        l.append(events, AppendOptions::default())
                    });
                    assert!(failed.is_none());
                    assert_eq!(a.unwrap().count(), n as u64);
                    l.catch_up().unwrap();
                    (dir, l)
                },
                BatchSize::PerIteration,
            );
        });
        g.bench_function(BenchmarkId::new("ledger_one_thread", label(n)), |b| {
            let lines = f.lines();
            b.iter_batched(
                empty_ledger,
                |(dir, mut l)| {
                    let input = lines
                        .iter()
                        .enumerate()
                        .map(|(i, (line, _))| parse_line(Location::Line(i + 1), line));
                    let a = l.append(input, AppendOptions::default()).unwrap();
                    assert_eq!(a.count(), n as u64);
                    (dir, l)
                },
                BatchSize::PerIteration,
            );
        });
        g.bench_function(BenchmarkId::new("floor", label(n)), |b| {
            let lines = f.lines();
            b.iter_batched(
                || {
                    let dir = scratch();
                    let conn = floor_db(&dir.path().join("floor.db"));
                    (dir, conn)
                },
                |(dir, mut conn)| {
                    let tx = conn
                        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                        .unwrap();
                    {
                        let mut st = tx
                            .prepare("INSERT INTO events (seq, recorded_at, body, hash, day) VALUES (?1, ?2, ?3, ?4, ?5)")
                            .unwrap();
                        for (i, (line, day)) in lines.iter().enumerate() {
                            st.execute(params![i as i64 + 1, RECORDED_AT, line, HASH, day])
                                .unwrap();
                        }
                    }
                    tx.commit().unwrap();
                    (dir, conn)
                },
                BatchSize::PerIteration,
            );
        });
        g.bench_function(BenchmarkId::new("floor_same_rows", label(n)), |b| {
            let tables = f.rows();
            b.iter_batched(
                || {
                    let dir = scratch();
                    let conn = Connection::open(dir.path().join("rows.db")).unwrap();
                    conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA cache_size = -32768;")
                        .unwrap();
                    for m in schema::MIGRATIONS {
                        conn.execute_batch(m).unwrap();
                    }
                    (dir, conn)
                },
                |(dir, mut conn)| {
                    let tx = conn
                        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                        .unwrap();
                    for t in tables {
                        let mut st = tx.prepare(&t.insert).unwrap();
                        for r in &t.rows {
                            st.execute(rusqlite::params_from_iter(r.iter())).unwrap();
                        }
                    }
                    tx.commit().unwrap();
                    (dir, conn)
                },
                BatchSize::PerIteration,
            );
        });
        g.finish();
        // The lines and rows are not needed again: free them before the next size.
        f.rows = None;
        f.lines = None;
    }
}

fn bench_replay(c: &mut Criterion, fx: &mut [Fixture]) {
    for f in fx.iter_mut() {
        let n = f.n;
        let mut g = c.benchmark_group("replay");
        configure(&mut g, n >= 100_000);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(BenchmarkId::new("rebuild", label(n)), |b| {
            let mut l = Ledger::open(&f.work(), Access::ReadWrite).unwrap();
            b.iter(|| assert!(l.rebuild().unwrap() >= n as u64));
        });
        g.bench_function(BenchmarkId::new("verify", label(n)), |b| {
            let mut l = Ledger::open(&f.work(), Access::ReadWrite).unwrap();
            b.iter(|| {
                let v = audit::verify(&mut l, None).unwrap();
                assert!(v.ok, "{:?}", v.problems);
            });
        });
        g.bench_function(BenchmarkId::new("fold", label(n)), |b| {
            let l = Ledger::open(&f.work(), Access::ReadOnly).unwrap();
            let last = Day::parse(synth::LAST_DAY).unwrap();
            b.iter(|| query::state_by_replay(&l, last).unwrap());
        });
        g.bench_function(BenchmarkId::new("floor", label(n)), |b| {
            let conn =
                Connection::open_with_flags(f.work(), OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
            b.iter(|| {
                let mut st = conn
                    .prepare_cached("SELECT body FROM events ORDER BY seq")
                    .unwrap();
                let mut rows = st.query([]).unwrap();
                let mut k = 0u64;
                while let Some(r) = rows.next().unwrap() {
                    let body = r.get_ref(0).unwrap().as_str().unwrap();
                    let v: serde_json::Value = serde_json::from_str(body).unwrap();
                    k += u64::from(v.is_object());
                }
                assert!(k >= n as u64);
            });
        });
        g.finish();
    }
}

/// `verify` against its floor: reading seq, recorded_at and body of every row and hashing them.
fn bench_verify(c: &mut Criterion, fx: &mut [Fixture]) {
    use sha2::{Digest, Sha256};
    for f in fx.iter_mut() {
        let n = f.n;
        let mut g = c.benchmark_group("verify");
        configure(&mut g, n >= 100_000);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(BenchmarkId::new("verify", label(n)), |b| {
            let mut l = Ledger::open(&f.work(), Access::ReadOnly).unwrap();
            b.iter(|| {
                let v = audit::verify(&mut l, None).unwrap();
                assert!(v.ok, "{:?}", v.problems);
            });
        });
        g.bench_function(BenchmarkId::new("floor_read_hash", label(n)), |b| {
            let conn =
                Connection::open_with_flags(f.work(), OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
            b.iter(|| {
                let mut st = conn
                    .prepare_cached("SELECT seq, recorded_at, body FROM events ORDER BY seq")
                    .unwrap();
                let mut rows = st.query([]).unwrap();
                let mut h = Sha256::new();
                while let Some(r) = rows.next().unwrap() {
                    h.update(r.get::<_, i64>(0).unwrap().to_string().as_bytes());
                    h.update(r.get_ref(1).unwrap().as_bytes().unwrap());
                    h.update(r.get_ref(2).unwrap().as_bytes().unwrap());
                    h.update(b"\n");
                }
                h.finalize()
            });
        });
        g.finish();
    }
}

fn bench_state(c: &mut Criterion, fx: &mut [Fixture], bin: Option<&Path>) {
    let days: Vec<Day> = AS_OF.iter().map(|d| Day::parse(d).unwrap()).collect();
    for f in fx.iter_mut() {
        let n = f.n;
        let mut g = c.benchmark_group("state");
        configure(&mut g, false);
        g.bench_function(BenchmarkId::new("query", label(n)), |b| {
            let l = Ledger::open(&f.ledger(), Access::ReadOnly).unwrap();
            let mut i = 0usize;
            b.iter(|| {
                i += 1;
                query::state(&l, days[i % days.len()], None).unwrap()
            });
        });
        g.bench_function(BenchmarkId::new("floor", label(n)), |b| {
            let conn = Connection::open_with_flags(f.ledger(), OpenFlags::SQLITE_OPEN_READ_ONLY)
                .unwrap();
            let mut st = conn
                .prepare("SELECT fact FROM timeline WHERE key = ?1 AND day <= ?2 ORDER BY day DESC, ord DESC LIMIT 1")
                .unwrap();
            let mut i = 0usize;
            b.iter(|| {
                i += 1;
                let d = i64::from(days[i % days.len()].0);
                let mut rows = st.query(params!["count:members", d]).unwrap();
                rows.next().unwrap().map(|r| r.get::<_, String>(0).unwrap())
            });
        });
        if let Some(bin) = bin {
            g.bench_function(BenchmarkId::new("cli", label(n)), |b| {
                let path = f.ledger();
                let mut i = 0usize;
                b.iter(|| {
                    i += 1;
                    let st = Command::new(bin)
                        .arg("--db")
                        .arg(&path)
                        .args(["state", "--as-of", AS_OF[i % AS_OF.len()]])
                        .stdout(Stdio::null())
                        .status()
                        .unwrap();
                    assert!(st.success());
                });
            });
        }
        g.finish();
    }
}

fn bench_timeline(c: &mut Criterion, fx: &mut [Fixture]) {
    let from = Day::parse("1998-08-01").unwrap();
    let to = Day(from.0 + 9_999);
    for f in fx.iter_mut() {
        let n = f.n;
        let mut g = c.benchmark_group("timeline");
        configure(&mut g, false);
        g.throughput(Throughput::Elements(10_000));
        g.bench_function(BenchmarkId::new("daily_10k", label(n)), |b| {
            let l = Ledger::open(&f.ledger(), Access::ReadOnly).unwrap();
            b.iter(|| {
                let t = timeline::timeline(&l, from, to, Every::Day, None).unwrap();
                assert_eq!(t.rows.len(), 10_000);
                t
            });
        });
        g.bench_function(BenchmarkId::new("floor", label(n)), |b| {
            let conn = Connection::open_with_flags(f.ledger(), OpenFlags::SQLITE_OPEN_READ_ONLY)
                .unwrap();
            let mut st = conn
                .prepare("SELECT day, fact FROM timeline WHERE key = 'count:members' AND day > ?1 AND day <= ?2 ORDER BY day, ord")
                .unwrap();
            b.iter(|| {
                let mut rows = st
                    .query(params![i64::from(from.0), i64::from(to.0)])
                    .unwrap();
                let mut k = 0usize;
                while let Some(r) = rows.next().unwrap() {
                    k += r.get_ref(1).unwrap().as_str().unwrap().len();
                }
                k
            });
        });
        g.finish();
    }
}

fn bench_durable(c: &mut Criterion, fx: &mut [Fixture], bin: Option<&Path>) {
    let one: Event = parse_line(Location::Line(1), ONE_EVENT).unwrap().1;
    let one_file = cache_dir().join("one-event.jsonl");
    fs::write(&one_file, format!("{ONE_EVENT}\n")).unwrap();
    for f in fx.iter_mut() {
        let n = f.n;
        let mut g = c.benchmark_group("append_durable");
        configure(&mut g, false);
        g.bench_function(BenchmarkId::new("ledger", label(n)), |b| {
            let mut l = Ledger::open(&f.work(), Access::ReadWrite).unwrap();
            b.iter(|| {
                let input = std::iter::once(Ok((Location::Line(1), one.clone())));
                assert_eq!(
                    l.append(input, AppendOptions::default()).unwrap().count(),
                    1
                );
            });
        });
        g.bench_function(BenchmarkId::new("floor", label(n)), |b| {
            let dir = scratch();
            let conn = floor_db(&dir.path().join("floor.db"));
            let mut seq = 0i64;
            b.iter(|| {
                seq += 1;
                conn.execute_batch("BEGIN IMMEDIATE").unwrap();
                conn.prepare_cached(
                    "INSERT INTO events (seq, recorded_at, body, hash, day) VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .unwrap()
                .execute(params![seq, RECORDED_AT, ONE_EVENT, HASH, 739_615])
                .unwrap();
                conn.execute_batch("COMMIT").unwrap();
            });
        });
        if let Some(bin) = bin {
            g.bench_function(BenchmarkId::new("cli", label(n)), |b| {
                let work = f.work();
                b.iter(|| {
                    let st = Command::new(bin)
                        .arg("--db")
                        .arg(&work)
                        .arg("append")
                        .arg(&one_file)
                        .stdout(Stdio::null())
                        .status()
                        .unwrap();
                    assert!(st.success());
                });
            });
        }
        g.finish();
    }
}

fn bench_process(c: &mut Criterion, bin: Option<&Path>) {
    let Some(bin) = bin else { return };
    let mut g = c.benchmark_group("process");
    configure(&mut g, false);
    g.bench_function("cli_version", |b| {
        b.iter(|| {
            let st = Command::new(bin)
                .arg("--version")
                .stdout(Stdio::null())
                .status()
                .unwrap();
            assert!(st.success());
        });
    });
    g.finish();
}

/// Peak RSS (KiB) and wall time of a CLI call.
fn measure(bin: &Path, args: &[&std::ffi::OsStr]) -> (u64, Duration) {
    let time = Path::new("/usr/bin/time");
    let t = Instant::now();
    if time.exists() {
        let out = Command::new(time)
            .arg("-v")
            .arg(bin)
            .args(args)
            .stdout(Stdio::null())
            .output()
            .unwrap();
        let elapsed = t.elapsed();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{bin:?} {args:?} failed: {err}");
        let kib = err
            .lines()
            .find_map(|l| l.trim().strip_prefix("Maximum resident set size (kbytes):"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        return (kib, elapsed);
    }
    // No /usr/bin/time: poll the child's high-water mark until it exits.
    let mut child = Command::new(bin)
        .args(args)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let status_path = format!("/proc/{}/status", child.id());
    let mut kib = 0;
    loop {
        if let Ok(s) = fs::read_to_string(&status_path) {
            if let Some(v) = s
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            {
                kib = v;
            }
        }
        if let Some(st) = child.try_wait().unwrap() {
            assert!(st.success());
            return (kib, t.elapsed());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn memory(fx: &mut [Fixture], bin: &Path) {
    let mut report = String::from("operation\tevents\tpeak RSS (MiB)\twall (s)\tevents/s\n");
    for f in fx.iter_mut() {
        let n = f.n;
        let jsonl = f.jsonl();
        let dir = scratch();
        let db = dir.path().join("memory.db");
        let os = |s: &str| std::ffi::OsString::from(s);
        let run = |name: &str, args: Vec<std::ffi::OsString>, report: &mut String| {
            let a: Vec<&std::ffi::OsStr> = args.iter().map(|s| s.as_os_str()).collect();
            let (kib, t) = measure(bin, &a);
            let line = format!(
                "{name}\t{n}\t{:.1}\t{:.3}\t{:.0}\n",
                kib as f64 / 1024.0,
                t.as_secs_f64(),
                n as f64 / t.as_secs_f64()
            );
            eprint!("memory: {line}");
            report.push_str(&line);
        };
        let st = Command::new(bin)
            .arg("--db")
            .arg(&db)
            .args(["init", "--empty"])
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(st.success());
        let db_args = |rest: &[&str]| -> Vec<std::ffi::OsString> {
            let mut v = vec![os("--db"), db.clone().into_os_string()];
            v.extend(rest.iter().map(|s| os(s)));
            v
        };
        let mut append = db_args(&["append"]);
        append.push(jsonl.clone().into_os_string());
        run("cli append (bulk, from file)", append, &mut report);
        run("cli rebuild", db_args(&["rebuild"]), &mut report);
        run("cli verify", db_args(&["verify"]), &mut report);
        run(
            "cli state --as-of 2025-12-31",
            db_args(&["state", "--as-of", "2025-12-31"]),
            &mut report,
        );
        // Every read command, at the same size: its time and, above all, that its peak memory
        // does not grow with the ledger (answers stream).
        let mid = "2000-06-30";
        for (name, args) in [
            (
                "cli state --known-at (full replay)",
                vec!["state", "--as-of", "2025-12-31", "--known-at", "2999-01-01"],
            ),
            ("cli audit --json", vec!["audit", "--json"]),
            ("cli meetings --json", vec!["meetings", "--json"]),
            ("cli history AFG --json", vec!["history", "AFG", "--json"]),
            ("cli export", vec!["export"]),
            (
                "cli log --after 0 --json",
                vec!["log", "--after", "0", "--json"],
            ),
            ("cli officers --json", vec!["officers", "--json"]),
            (
                "cli diff",
                vec!["diff", "--from", "1950-01-01", "--to", mid],
            ),
            ("cli members --as-of", vec!["members", "--as-of", mid]),
            (
                "cli years (200)",
                vec!["years", "--from", "1826", "--to", "2025"],
            ),
            ("cli head", vec!["head"]),
        ] {
            run(name, db_args(&args), &mut report);
        }
        let one_file = cache_dir().join("one-event.jsonl");
        fs::write(&one_file, format!("{ONE_EVENT}\n")).unwrap();
        let mut one = db_args(&["append"]);
        one.push(one_file.into_os_string());
        run("cli append (one event)", one, &mut report);
    }
    let out = cache_dir().join("memory.txt");
    fs::write(&out, &report).unwrap();
    eprintln!("memory: written to {}", out.display());
}

fn main() {
    let started = std::time::SystemTime::now();
    let mut c = Criterion::default().configure_from_args();
    let bin = cli();
    if bin.is_none() {
        eprintln!(
            "iofs-ledger binary not found (looked for {}): CLI benchmarks skipped; run `cargo build --release` first",
            target_dir().join("release").join("iofs-ledger").display()
        );
    }
    let mut fx: Vec<Fixture> = sizes().into_iter().map(Fixture::new).collect();
    bench_bulk(&mut c, &mut fx);
    bench_replay(&mut c, &mut fx);
    bench_verify(&mut c, &mut fx);
    bench_state(&mut c, &mut fx, bin.as_deref());
    bench_timeline(&mut c, &mut fx);
    bench_durable(&mut c, &mut fx, bin.as_deref());
    bench_process(&mut c, bin.as_deref());
    let mem = match std::env::var("IOFS_BENCH_MEMORY").as_deref() {
        Ok("1") => true,
        Ok("0") => false,
        _ => !quick() && !test_mode(),
    };
    if let (true, Some(bin)) = (mem, bin.as_deref()) {
        memory(&mut fx, bin);
    }
    c.final_summary();
    print_ratios(started);
}

/// Each operation and the floor it is held to, within one group.
const RATIOS: [(&str, &str, &str); 14] = [
    ("append_bulk", "ledger", "floor"),
    ("append_bulk", "ledger_then_catch_up", "floor"),
    ("append_bulk", "ledger_one_thread", "floor"),
    ("append_bulk", "ledger", "floor_same_rows"),
    ("append_bulk", "floor_same_rows", "floor"),
    ("append_durable", "ledger", "floor"),
    ("append_durable", "cli", "floor"),
    ("replay", "fold", "floor"),
    ("replay", "rebuild", "floor"),
    ("replay", "verify", "floor"),
    ("verify", "verify", "floor_read_hash"),
    ("state", "query", "floor"),
    ("state", "cli", "floor"),
    ("timeline", "daily_10k", "floor"),
];

/// Where criterion writes its estimates.
fn criterion_dir() -> PathBuf {
    std::env::var_os("CRITERION_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| target_dir().join("criterion"))
}

/// The time (ns) criterion estimated for `group/id/size`, if it was written by this run
/// (at or after `since`): an estimate left by an earlier run is never paired with a new one.
fn mean_ns(group: &str, id: &str, size: &str, since: std::time::SystemTime) -> Option<f64> {
    let p = criterion_dir()
        .join(group)
        .join(id)
        .join(size)
        .join("new")
        .join("estimates.json");
    let fresh = fs::metadata(&p).ok()?.modified().ok()? >= since;
    let v: serde_json::Value = serde_json::from_slice(&fs::read(&p).ok()?).ok()?;
    // The estimate criterion prints: the slope where it fits one, else the mean.
    let typical = v["slope"]["point_estimate"]
        .as_f64()
        .or_else(|| v["mean"]["point_estimate"].as_f64());
    fresh.then_some(typical)?
}

fn human(ns: f64) -> String {
    match ns {
        n if n >= 1e9 => format!("{:.2} s", n / 1e9),
        n if n >= 1e6 => format!("{:.2} ms", n / 1e6),
        n => format!("{:.1} µs", n / 1e3),
    }
}

/// Prints every ratio this run measured both sides of.
fn print_ratios(started: std::time::SystemTime) {
    let mut lines = Vec::new();
    for (group, op, floor) in RATIOS {
        for n in sizes() {
            let size = label(n);
            if let (Some(t), Some(f)) = (
                mean_ns(group, op, &size, started),
                mean_ns(group, floor, &size, started),
            ) {
                lines.push(format!(
                    "ratio {group}/{op} : {group}/{floor} at {size} = {:.2} ({} vs {})",
                    f / t,
                    human(t),
                    human(f)
                ));
            }
        }
    }
    if lines.is_empty() {
        println!("ratios to the floor: none measured in this run (`--test` measures nothing)");
    } else {
        println!("ratios to the floor (floor time / operation time; 1.0 = the floor):");
        for l in lines {
            println!("{l}");
        }
    }
}
