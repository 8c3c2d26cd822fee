//! Append input: read whole before the ledger is touched, then streamed into one append.
//!
//! Standard input (and any input that is not a regular file, such as a pipe) is spooled to an
//! anonymous temporary file first, so the write lock is taken only once the producer has
//! finished, and memory stays bounded whatever the input's size. A regular file is read in
//! place. A leading UTF-8 byte order mark is skipped, as most JSON tools do. Every event's
//! shape is then checked by a full parse ([`check_shapes`]), so malformed input is refused
//! without ever taking the write lock; the append parses again as it writes (memory stays flat:
//! nothing parsed is kept between the two passes).

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use iofs_ledger::event::lines::{
    for_each_array_item, with_parsed_array, with_parsed_lines, JsonLines,
};
use iofs_ledger::event::ParseError;
use iofs_ledger::store::{AppendOptions, Appended, Ledger, Refusal, StoreError, MAX_REFUSALS};

use super::CliError;

/// A whole input, ready to be appended.
pub struct Input {
    file: File,
    /// Where the content starts (past a byte order mark).
    start: u64,
    /// The first two bytes that are not ASCII whitespace, if any.
    opening: [Option<u8>; 2],
}

impl Input {
    /// Whether the input holds no events: nothing but whitespace, or an empty JSON array.
    pub fn is_empty(&self) -> bool {
        matches!(self.opening, [None, _] | [Some(b'['), Some(b']')])
    }

    /// The input's size in bytes, if known (for the progress bar).
    pub fn len(&self) -> Option<u64> {
        self.file
            .metadata()
            .ok()
            .map(|m| m.len().saturating_sub(self.start))
    }

    fn is_array(&self) -> bool {
        self.opening[0] == Some(b'[')
    }
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Reads the input named on the command line (`None` or `-` for standard input) whole: returns
/// its name for messages and the input.
pub fn read_whole(path: Option<&Path>) -> Result<(String, Input), CliError> {
    let stdin = path.is_none_or(|p| p == Path::new("-"));
    let name = match path {
        Some(p) if !stdin => p.display().to_string(),
        _ => "standard input".to_string(),
    };
    let fail = |e: io::Error| CliError::Input(name.clone(), e);
    let mut file = if stdin {
        spool(&mut io::stdin().lock()).map_err(fail)?
    } else {
        let p = path.unwrap_or(Path::new("-"));
        let f = File::open(p).map_err(fail)?;
        if f.metadata().map_err(fail)?.is_file() {
            f
        } else {
            // A pipe, a FIFO, a device: read it whole first, as standard input.
            spool(&mut BufReader::new(f)).map_err(fail)?
        }
    };
    let (start, opening) = scan(&mut file).map_err(fail)?;
    file.seek(SeekFrom::Start(start)).map_err(fail)?;
    Ok((
        name,
        Input {
            file,
            start,
            opening,
        },
    ))
}

/// Checks every event's shape (parses the whole input, storing nothing): malformed input is
/// refused here, before the write lock is taken. The rules that depend on the log are checked
/// under the lock, by the append.
pub fn check_shapes(input: &mut Input, name: &str) -> Result<(), CliError> {
    let fail = |e: io::Error| CliError::Input(name.to_string(), e);
    input
        .file
        .seek(SeekFrom::Start(input.start))
        .map_err(fail)?;
    let problems = shape_problems(input).map_err(fail)?;
    input
        .file
        .seek(SeekFrom::Start(input.start))
        .map_err(fail)?;
    if problems.is_empty() {
        Ok(())
    } else {
        Err(CliError::Store(StoreError::Refused(problems)))
    }
}

/// Parses every event of the input (without storing anything) and returns the problems found,
/// at most [`MAX_REFUSALS`] and a note that checking stopped.
fn shape_problems(input: &mut Input) -> io::Result<Vec<Refusal>> {
    let mut problems = Vec::new();
    let note = |e: ParseError, problems: &mut Vec<Refusal>| -> bool {
        if problems.len() >= MAX_REFUSALS {
            problems.push(Refusal {
                location: None,
                seq: None,
                rule: None,
                field: None,
                message: format!("stopped checking after {MAX_REFUSALS} problems"),
            });
            return false;
        }
        problems.push(Refusal {
            location: Some(e.location),
            seq: None,
            rule: None,
            field: e.field,
            message: e.message,
        });
        true
    };
    let is_array = input.is_array();
    let reader = BufReader::with_capacity(1 << 16, &mut input.file);
    if is_array {
        let failed = for_each_array_item(reader, &mut |item| match item {
            Ok(_) => true,
            Err(e) => note(e, &mut problems),
        });
        if let Some(e) = failed {
            return Err(e);
        }
    } else {
        let mut lines = JsonLines::new(reader);
        for e in lines.by_ref().filter_map(Result::err) {
            if !note(e, &mut problems) {
                break;
            }
        }
        if let Some(e) = lines.failed() {
            return Err(e);
        }
    }
    Ok(problems)
}

/// Copies a reader into an anonymous temporary file (removed when closed).
fn spool(r: &mut dyn Read) -> io::Result<File> {
    let mut f = tempfile::tempfile()?;
    io::copy(r, &mut f)?;
    Ok(f)
}

/// Finds where the content starts (past a byte order mark) and its first two non-whitespace
/// bytes.
fn scan(file: &mut File) -> io::Result<(u64, [Option<u8>; 2])> {
    file.seek(SeekFrom::Start(0))?;
    let mut r = BufReader::with_capacity(1 << 16, &mut *file);
    let mut start = 0;
    if r.fill_buf()?.starts_with(BOM) {
        r.consume(BOM.len());
        start = BOM.len() as u64;
    }
    let mut opening = [None, None];
    let mut found = 0;
    while found < 2 {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            break;
        }
        let n = buf.len();
        for &b in buf {
            if !b.is_ascii_whitespace() {
                opening[found] = Some(b);
                found += 1;
                if found == 2 {
                    break;
                }
            }
        }
        r.consume(n);
    }
    Ok((start, opening))
}

/// What `append` did: appended, or (`--dry-run`) found what it would change.
pub enum Outcome {
    /// The batch was appended.
    Appended(Appended),
    /// The batch was appended and rolled back: what it would change.
    DryRun(iofs_ledger::effect::Effect),
}

/// Appends, or with `dry_run` appends and rolls back ([`iofs_ledger::effect::dry_run`]).
fn apply<I>(
    l: &mut Ledger,
    items: I,
    opts: AppendOptions,
    dry_run: bool,
) -> Result<Outcome, StoreError>
where
    I: IntoIterator,
    I::Item: iofs_ledger::event::IntoPrepared,
{
    if dry_run {
        iofs_ledger::effect::dry_run(l, items, opts).map(Outcome::DryRun)
    } else {
        l.append(items, opts).map(Outcome::Appended)
    }
}

/// Appends a whole input in one batch (or, with `dry_run`, finds what it would change): JSON
/// Lines line by line, a JSON array element by element, each parsed on a second thread while
/// this one writes (memory stays flat either way).
pub fn append(
    l: &mut Ledger,
    input: Input,
    name: &str,
    expect_head: Option<u64>,
    dry_run: bool,
    wrap: impl FnOnce(Box<dyn Read + Send>) -> Box<dyn Read + Send>,
) -> Result<Outcome, CliError> {
    let opts = AppendOptions {
        expect_head,
        now: super::replica::clock()?,
    };
    let array = input.is_array();
    let reader = BufReader::with_capacity(1 << 16, wrap(Box::new(input.file)));
    let (result, failed) = if array {
        with_parsed_array(reader, |events| apply(l, events, opts, dry_run))
    } else {
        with_parsed_lines(reader, |events| apply(l, events, opts, dry_run))
    };
    if let Some(e) = failed {
        return Err(CliError::Input(name.into(), e));
    }
    Ok(result?)
}
