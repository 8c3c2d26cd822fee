//! The cqrs-es + sqlite-es peer of iofs-ledger's performance table (see `benches/peers/README.md`).
//!
//! `iofs-peer-cqrs append DB FILE [SNAPSHOT]`: every JSON line of FILE becomes one command on a
//! single `Ledger` aggregate (the ledger's rules span all parties, so one aggregate is what a
//! user of the library would model), handled by `CqrsFramework::execute` and stored by
//! sqlite-es. cqrs-es loads the aggregate for every command: its plain event store re-reads the
//! whole stream each time (quadratic), so the aggregate is given the library's snapshot store
//! (a snapshot every SNAPSHOT events, default 100), its documented remedy for long streams.
//!
//! `iofs-peer-cqrs replay DB`: a plain event store loads the aggregate from all its events (the
//! full replay, no snapshot) and folds the member count.
//!
//! Each prints one JSON line: `{"op": ..., "events": N, "members": M, "seconds": S}`, the time
//! measured around the operation (opening the pool and creating tables excluded).
use std::collections::BTreeSet;
use std::time::Instant;

use async_trait::async_trait;
use cqrs_es::persist::PersistedEventStore;
use cqrs_es::{Aggregate, CqrsFramework, DomainEvent, EventStore};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlite_es::SqliteEventRepository;

const ID: &str = "iofs";

/// The ledger as a cqrs-es aggregate: the member set (signatures add, withdrawals remove).
#[derive(Debug, Default, Serialize, Deserialize)]
struct Ledger {
    members: BTreeSet<String>,
    events: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum LedgerEvent {
    Recorded { kind: String, event: Value },
}

impl DomainEvent for LedgerEvent {
    fn event_type(&self) -> String {
        match self {
            LedgerEvent::Recorded { kind, .. } => kind.clone(),
        }
    }
    fn event_version(&self) -> String {
        "1".into()
    }
}

#[derive(Debug)]
struct Refused(String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

fn party(event: &Value) -> Option<String> {
    event
        .get("party")
        .and_then(Value::as_str)
        .map(str::to_string)
}

#[async_trait]
impl Aggregate for Ledger {
    type Command = Value;
    type Event = LedgerEvent;
    type Error = Refused;
    type Services = ();

    fn aggregate_type() -> String {
        "ledger".into()
    }

    async fn handle(&self, event: Value, _: &()) -> Result<Vec<LedgerEvent>, Refused> {
        let kind = event
            .get("type")
            .and_then(Value::as_str)
            .ok_or_else(|| Refused("an event without a type".into()))?
            .to_string();
        match (kind.as_str(), party(&event)) {
            ("statute_signed", Some(p)) if self.members.contains(&p) => {
                return Err(Refused(format!("{p} is already a member")))
            }
            ("membership_withdrawn", Some(p)) if !self.members.contains(&p) => {
                return Err(Refused(format!("{p} is not a member")))
            }
            _ => {}
        }
        Ok(vec![LedgerEvent::Recorded { kind, event }])
    }

    fn apply(&mut self, e: LedgerEvent) {
        let LedgerEvent::Recorded { kind, event } = e;
        match (kind.as_str(), party(&event)) {
            ("statute_signed", Some(p)) => {
                self.members.insert(p);
            }
            ("membership_withdrawn", Some(p)) => {
                self.members.remove(&p);
            }
            _ => {}
        }
        self.events += 1;
    }
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS events (
  aggregate_type text NOT NULL, aggregate_id text NOT NULL,
  sequence integer CHECK (sequence >= 0) NOT NULL,
  event_type text NOT NULL, event_version text NOT NULL,
  payload text NOT NULL, metadata text NOT NULL,
  PRIMARY KEY (aggregate_type, aggregate_id, sequence)) STRICT;
CREATE TABLE IF NOT EXISTS snapshots (
  aggregate_type text NOT NULL, aggregate_id text NOT NULL,
  last_sequence integer CHECK (last_sequence >= 0) NOT NULL,
  current_snapshot integer CHECK (current_snapshot >= 0) NOT NULL,
  payload text NOT NULL,
  PRIMARY KEY (aggregate_type, aggregate_id, last_sequence)) STRICT;";

type Fallible<T> = Result<T, Box<dyn std::error::Error>>;

async fn pool(db: &str) -> Fallible<sqlx::Pool<sqlx::Sqlite>> {
    let pool = sqlite_es::default_sqlite_pool(&format!("sqlite://{db}")).await;
    sqlx::raw_sql(SCHEMA).execute(&pool).await?;
    Ok(pool)
}

async fn append(db: &str, file: &str, snapshot: usize) -> Fallible<()> {
    let pool = pool(db).await?;
    let store: PersistedEventStore<_, Ledger> =
        PersistedEventStore::new_snapshot_store(SqliteEventRepository::new(pool), snapshot);
    let cqrs = CqrsFramework::new(store, vec![], ());
    let start = Instant::now();
    let text = std::fs::read_to_string(file)?;
    let mut n = 0u64;
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let event: Value =
            serde_json::from_str(line).map_err(|e| format!("{file}:{}: {e}", i + 1))?;
        cqrs.execute(ID, event)
            .await
            .map_err(|e| format!("{file}:{}: {e}", i + 1))?;
        n += 1;
    }
    let seconds = start.elapsed().as_secs_f64();
    println!(r#"{{"op": "append", "events": {n}, "snapshot": {snapshot}, "seconds": {seconds}}}"#);
    Ok(())
}

async fn replay(db: &str) -> Fallible<()> {
    let pool = pool(db).await?;
    let store: PersistedEventStore<_, Ledger> =
        PersistedEventStore::new_event_store(SqliteEventRepository::new(pool));
    let start = Instant::now();
    let context = store.load_aggregate(ID).await?;
    let seconds = start.elapsed().as_secs_f64();
    let ledger = &context.aggregate;
    println!(
        r#"{{"op": "replay", "events": {}, "members": {}, "seconds": {seconds}}}"#,
        ledger.events,
        ledger.members.len()
    );
    Ok(())
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["append", db, file] => append(db, file, 100).await,
        ["append", db, file, n] => match n.parse() {
            Ok(n) if n > 0 => append(db, file, n).await,
            _ => Err(format!("SNAPSHOT must be a positive number, not `{n}`").into()),
        },
        ["replay", db] => replay(db).await,
        _ => Err("usage: iofs-peer-cqrs append DB FILE [SNAPSHOT] | replay DB".into()),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("iofs-peer-cqrs: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
