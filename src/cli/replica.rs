//! `import`, `backup` and the clock the commands read.

use std::io::{self, BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
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
    allow_empty: bool,
    lock_timeout: Duration,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    // Standard input is spooled to a temporary file first, so a slow producer never holds the
    // write lock; the input is then read a line at a time (memory stays bounded).
    let (name, input): (String, std::fs::File) = match file {
        Some(p) if p != Path::new("-") => (
            p.display().to_string(),
            std::fs::File::open(p).map_err(|e| CliError::Input(p.display().to_string(), e))?,
        ),
        _ => {
            let name = "standard input".to_string();
            let spool = |e| CliError::Input(name.clone(), e);
            let mut f = tempfile::tempfile().map_err(spool)?;
            io::copy(&mut io::stdin().lock(), &mut f).map_err(spool)?;
            f.seek(SeekFrom::Start(0)).map_err(spool)?;
            (name, f)
        }
    };
    let now = clock()?.unwrap_or_else(Utc::now);
    let mut l = Ledger::open(path, Access::ReadWrite)?;
    l.set_busy_timeout(lock_timeout)?;
    // A read error is an `Err` item: the import refuses it and writes nothing.
    let quiet = super::QUIET.load(std::sync::atomic::Ordering::Relaxed);
    let size = input.metadata().ok().map(|m| m.len());
    let progress = super::progress::Progress::bytes(quiet, size, "importing");
    let input = progress.wrap(Box::new(input));
    let items = BufReader::with_capacity(1 << 16, input)
        .lines()
        .enumerate()
        .filter_map(|(i, line)| match line {
            Ok(line) if line.trim().is_empty() => None,
            Ok(line) => {
                Some(
                    ImportItem::parse(i + 1, &line).map_err(|why| StoreError::ImportRefused {
                        seq: 0,
                        line: Some(i + 1),
                        why,
                    }),
                )
            }
            Err(e) => Some(Err(StoreError::Io {
                path: PathBuf::from(&name),
                source: e,
            })),
        });
    let r = l.import(items, now);
    progress.finish();
    let r = r?;
    if r.read == 0 && !allow_empty {
        // Nothing was read, so nothing changed: refused as `append` refuses an empty input.
        return Err(CliError::EmptyInput(name));
    }
    // The events are committed: a report that cannot be written is exit 3, never 1.
    let head = format!("{}:{}", r.head_seq, r.head_hash);
    let done = match r.range {
        Some((a, b)) => format!("imported seq {a}..{b}"),
        None => "imported nothing".to_string(),
    };
    let report = (|| -> std::io::Result<()> {
        if json {
            render::json(
                out,
                // The receipt every writing command prints (`first_seq`, `last_seq`,
                // `count`, `recorded_at`, `head`), and what only an import knows.
                &serde_json::json!({
                    "first_seq": r.range.map(|x| x.0),
                    "last_seq": r.range.map(|x| x.1),
                    "count": r.range.map_or(0, |(a, b)| b + 1 - a),
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
        out.flush()
    })();
    report.map_err(|source| CliError::DoneButUnreported { done, head, source })
}

/// `backup PATH`.
pub fn backup(path: &Path, dest: &Path, out: &mut dyn Write) -> Result<(), CliError> {
    let l = Ledger::open(path, Access::ReadOnly)?;
    l.backup(dest)?;
    let b = Ledger::open(dest, Access::ReadOnly)?;
    let h = b.head()?;
    // The copy exists: a report that cannot be written is exit 3, never 1.
    writeln!(
        out,
        "backed up {} to {}; head {}:{}",
        path.display(),
        dest.display(),
        h.seq,
        h.hash
    )
    .and_then(|()| out.flush())
    .map_err(|source| CliError::DoneButUnreported {
        done: format!("backed up {} to {}", path.display(), dest.display()),
        head: format!("{}:{}", h.seq, h.hash),
        source,
    })
}
