//! `timeline` and `report`: the series over valid time, and the static site.

use std::io::Write;
use std::path::Path;

use iofs_ledger::date::Day;
use iofs_ledger::report;
use iofs_ledger::store::Ledger;
use iofs_ledger::timeline::{self, Every, Timeline, TimelineError};

use super::opts::OutputFormat;
use super::{render, CliError};

impl From<TimelineError> for CliError {
    fn from(e: TimelineError) -> CliError {
        match e {
            TimelineError::Store(s) => CliError::Store(s),
            e => CliError::Usage(e.to_string()),
        }
    }
}

/// `timeline`.
pub fn timeline(
    out: &mut dyn Write,
    l: &Ledger,
    from: Day,
    to: Day,
    every: &str,
    known_at: Option<&str>,
    format: OutputFormat,
) -> Result<(), CliError> {
    let every: Every = every.parse()?;
    let t = timeline::timeline(l, from, to, every, known_at)?;
    match format {
        OutputFormat::Json => render::json(out, &t)?,
        OutputFormat::Csv => csv(out, &t)?,
        OutputFormat::Text => text(out, &t)?,
    }
    Ok(())
}

/// `timeline --format csv`: one row per step, the JSON rows' fields as columns.
fn csv(out: &mut dyn Write, t: &Timeline) -> std::io::Result<()> {
    let mut w = render::csv_writer(out);
    w.write_record([
        "date",
        "members",
        "ratifications",
        "observers",
        "in_force",
        "director_general",
        "board_chair",
        "uncertain",
    ])?;
    for r in &t.rows {
        w.write_record([
            r.date.clone(),
            r.members.to_string(),
            r.ratifications.to_string(),
            r.observers.to_string(),
            r.in_force.to_string(),
            r.director_general.clone().unwrap_or_default(),
            r.board_chair.clone().unwrap_or_default(),
            r.uncertain.to_string(),
        ])?;
    }
    w.flush()
}

fn text(out: &mut dyn Write, t: &Timeline) -> std::io::Result<()> {
    match &t.known_at {
        Some(k) => writeln!(
            out,
            "From {} to {}, every {} (as known at {k})",
            t.from, t.to, t.every
        )?,
        None => writeln!(out, "From {} to {}, every {}", t.from, t.to, t.every)?,
    }
    let mut rows = vec![render::series_header("date")];
    for r in &t.rows {
        rows.push(vec![
            r.date.clone(),
            r.members.to_string(),
            r.ratifications.to_string(),
            r.observers.to_string(),
            if r.in_force { "in force" } else { "-" }.to_string(),
            r.director_general.as_deref().unwrap_or("-").to_string(),
            r.board_chair.as_deref().unwrap_or("-").to_string(),
            r.uncertain.to_string(),
        ]);
    }
    render::series_table(out, &rows, 24)
}

/// `report`.
pub fn report(
    out: &mut dyn Write,
    l: &Ledger,
    dir: &Path,
    as_of: Day,
    known_at: Option<&str>,
    force: bool,
) -> Result<(), CliError> {
    let quiet = super::QUIET.load(std::sync::atomic::Ordering::Relaxed);
    let progress = super::progress::Progress::spinner(quiet, "writing the report");
    let w = report::gather(l, as_of, known_at)
        .map_err(CliError::from)
        .and_then(|answers| {
            let w = report::write_site(dir, report::site(l, &answers), force)?;
            Ok((answers, w))
        });
    progress.finish();
    let (answers, w) = w?;
    writeln!(
        out,
        "wrote {} files ({} bytes) to {}, as of {}, from head {}; open {}",
        w.files,
        w.bytes,
        w.dir.display(),
        as_of,
        answers.head,
        w.dir.join("index.html").display()
    )?;
    Ok(())
}
