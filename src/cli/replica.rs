//! `import`, `backup` and the clock the commands read.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};

use iofs_ledger::store::{parse_instant, Access, ImportItem, Ledger, StoreError};

use super::{render, CliError};

/// The environment variable that sets the clock for `append`, `import` and `verify`: an
/// instant `2026-01-31T12:00:00.000000Z` (RFC 3339 accepted). For tests of the clock rules;
/// unset, the system clock is read.
pub const CLOCK_VAR: &str = "IOFS_LEDGER_CLOCK";

/// The clock as set by [`CLOCK_VAR`], if it is set.
pub fn clock() -> Result<Option<DateTime<Utc>>, CliError> {
    let Some(v) = std::env::var_os(CLOCK_VAR).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let s = v.to_string_lossy();
    parse_instant(&s)
        .or_else(|| {
            DateTime::parse_from_rfc3339(&s)
                .ok()
                .map(|t| t.with_timezone(&Utc))
        })
        .map(Some)
        .ok_or_else(|| CliError::Usage(format!("{CLOCK_VAR}: `{s}` is not an RFC 3339 instant")))
}

/// `import [FILE|-]`.
pub fn import(
    path: &Path,
    file: Option<&Path>,
    json: bool,
    lock_timeout: Duration,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let (name, reader): (String, Box<dyn Read>) = match file {
        None => ("standard input".into(), Box::new(io::stdin())),
        Some(p) if p == Path::new("-") => ("standard input".into(), Box::new(io::stdin())),
        Some(p) => (
            p.display().to_string(),
            Box::new(
                std::fs::File::open(p).map_err(|e| CliError::Input(p.display().to_string(), e))?,
            ),
        ),
    };
    // Read and check the whole input before taking the write lock.
    let mut items = Vec::new();
    for (i, line) in BufReader::new(reader).lines().enumerate() {
        let line = line.map_err(|e| CliError::Input(name.clone(), e))?;
        if line.trim().is_empty() {
            continue;
        }
        let item = ImportItem::parse(i + 1, &line).map_err(|why| {
            CliError::Store(StoreError::ImportRefused {
                seq: 0,
                line: Some(i + 1),
                why,
            })
        })?;
        items.push(item);
    }
    let now = clock()?.unwrap_or_else(Utc::now);
    let mut l = Ledger::open(path, Access::ReadWrite)?;
    l.set_busy_timeout(lock_timeout)?;
    let r = l.import(items, now)?;
    if json {
        render::json(
            out,
            &serde_json::json!({
                "read": r.read,
                "skipped": r.skipped,
                "imported": r.range.map_or(0, |(a, b)| b + 1 - a),
                "first": r.range.map(|x| x.0),
                "last": r.range.map(|x| x.1),
                "recorded_at": r.recorded_at,
                "head": format!("{}:{}", r.head_seq, r.head_hash),
            }),
        )?;
    } else {
        match r.range {
            Some((a, b)) => writeln!(
                out,
                "imported seq {a}..{b} ({} event{}, {} already held) recorded_at up to {}; head {}:{}",
                b + 1 - a,
                if a == b { "" } else { "s" },
                r.skipped,
                r.recorded_at.as_deref().unwrap_or("-"),
                r.head_seq,
                r.head_hash
            )?,
            None => writeln!(
                out,
                "imported nothing ({} event{} read, all already held); head {}:{}",
                r.read,
                if r.read == 1 { "" } else { "s" },
                r.head_seq,
                r.head_hash
            )?,
        }
    }
    Ok(())
}

/// `backup PATH`.
pub fn backup(path: &Path, dest: &Path, out: &mut dyn Write) -> Result<(), CliError> {
    let l = Ledger::open(path, Access::ReadOnly)?;
    l.backup(dest)?;
    let b = Ledger::open(dest, Access::ReadOnly)?;
    let h = b.head()?;
    writeln!(
        out,
        "backed up {} to {}; head {}:{}",
        path.display(),
        dest.display(),
        h.seq,
        h.hash
    )?;
    Ok(())
}
