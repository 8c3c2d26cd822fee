//! The published report: a static site (no JavaScript, nothing from the network) of the
//! answers as of a day, and the pieces a live server reuses.
//!
//! * [`gather`] asks the ledger every question the pages show, through the same functions the
//!   CLI calls ([`query::state`], [`timeline::timeline`], [`query::officers`],
//!   [`audit::report`], the party histories and meetings), into [`Answers`]. Nothing on a page
//!   is counted or dated anywhere else.
//! * [`pages`] renders them (and [`site`] walks every page of the static report): pure functions from answers to HTML (maud templates, which escape
//!   every text by default), with a [`PageContext`] saying how pages link to each other and an
//!   optional form to put at the top of each page (a live server's date form).
//! * [`write_site`] writes the pages into a directory atomically: into a temporary directory
//!   beside it, each file written in full and synced, then renamed into place.

pub mod chart;
pub mod pages;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::audit::{self, Report};
use crate::date::{Day, EventDate};
use crate::event::{Kind, Office, Organ};
use crate::party::Party;
use crate::query::{self, State, Tenure};
use crate::store::{Ledger, Overrides, StoreError, StoredEvent};
use crate::timeline::{self, Every, Timeline, TimelineError};

pub use pages::{static_link, Page, PageContext};

/// Why a report cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Reading the ledger failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The chart's series failed.
    #[error(transparent)]
    Timeline(#[from] TimelineError),
    /// The output directory holds files and `--force` was not given.
    #[error("{0} is not empty: choose an empty or new directory, or pass --force to replace its contents")]
    NotEmpty(PathBuf),
    /// The output path is not a directory.
    #[error("{0} exists and is not a directory: choose a directory path")]
    NotADirectory(PathBuf),
    /// A file or directory could not be written (the report was not put in place).
    #[error("cannot write {path}: {source}; no report was put in place")]
    Write {
        /// What could not be written.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

fn write_err(path: &Path) -> impl FnOnce(std::io::Error) -> ReportError + '_ {
    move |source| ReportError::Write {
        path: path.to_path_buf(),
        source,
    }
}

/// One party's page: its events (with retractions and corrections of them), in seq order.
#[derive(Debug, Clone)]
pub struct PartyHistory {
    /// The party.
    pub party: Party,
    /// Its events, as known at the report's instant.
    pub events: Vec<StoredEvent>,
}

/// Everything the pages show, each answer from the function the CLI uses for it.
#[derive(Debug, Clone)]
pub struct Answers {
    /// The report's day.
    pub as_of: Day,
    /// The instant it is known at (`recorded_at` format), if not everything recorded.
    pub known_at: Option<String>,
    /// `state --as-of`.
    pub state: State,
    /// `timeline` from the first signature's year to the report's day (daily up to 20,000
    /// days, weekly beyond), for the chart.
    pub timeline: Timeline,
    /// General Assemblies up to the report's day (`meetings`), for the chart's markers.
    pub assemblies: Vec<StoredEvent>,
    /// `officers` (Director General).
    pub officers: Vec<Tenure>,
    /// Every party the record names (as known at the instant), in code order; each one's
    /// page reads its history when it is rendered ([`party_history`]), one at a time.
    pub parties: Vec<Party>,
    /// The last seq the report covers (`None`: the whole log).
    pub max_seq: Option<u64>,
    /// Meetings up to the report's day (`meetings --to`).
    pub meetings: Vec<StoredEvent>,
    /// `audit`.
    pub audit: Report,
    /// Retractions and corrections known at the instant (to mark events).
    pub overrides: Overrides,
    /// The head the report was made from, `SEQ:HASH` (`head`, or as known at the instant).
    pub head: String,
}

/// The longest chart series drawn day by day; longer spans are drawn week by week.
const DAILY_CHART_DAYS: i32 = 20_000;

/// Asks the ledger everything the report shows, as of `as_of`, as known at `known_at` (an
/// instant in `recorded_at` format) when given.
pub fn gather(ledger: &Ledger, as_of: Day, known_at: Option<&str>) -> Result<Answers, ReportError> {
    let state = query::state(ledger, as_of, known_at)?;
    let max_seq = known_at.map(|t| ledger.seq_known_at(t)).transpose()?;
    let first = ledger
        .first_change(&crate::projection::Key::Count(
            crate::projection::Counter::Signatures,
        ))?
        .unwrap_or(as_of);
    // From 1 January of the first signature's year (or a year before the day, for an empty
    // ledger), never after the day itself.
    let start = chrono::NaiveDate::from_ymd_opt(chrono::Datelike::year(&first.to_naive()), 1, 1)
        .map(Day::from_naive)
        .unwrap_or(first)
        .min(Day(as_of.0 - 365))
        .max(Day(1));
    let every = if as_of.0 - start.0 > DAILY_CHART_DAYS {
        Every::Week
    } else {
        Every::Day
    };
    let timeline = timeline::timeline(ledger, start, as_of, every, known_at)?;
    let meetings = ledger.events_between(max_seq, Day(1), as_of, &["meeting_held"])?;
    let assemblies = meetings
        .iter()
        .filter(|e| {
            matches!(
                e.event.world_event().map(|w| &w.kind),
                Some(Kind::MeetingHeld {
                    organ: Organ::GeneralAssembly,
                    ..
                })
            )
        })
        .cloned()
        .collect();
    let officers = query::officers(ledger, Office::DirectorGeneral, known_at)?;
    let overrides = ledger.overrides(max_seq)?;
    let mut parties = Vec::new();
    for p in ledger.parties()? {
        if ledger
            .party_first_seq(&p)?
            .is_some_and(|first| max_seq.is_none_or(|m| first <= m))
        {
            parties.push(p);
        }
    }
    let audit = audit::report(ledger, known_at)?;
    let head = audit.head.clone();
    Ok(Answers {
        as_of,
        known_at: known_at.map(str::to_string),
        state,
        timeline,
        assemblies,
        officers,
        parties,
        max_seq,
        meetings,
        audit,
        overrides,
        head,
    })
}

/// The day an event's date counts from, for a date written as text (`2016`, `2016-05`,
/// `2016-05-04`, bounds).
pub fn counted_day(written: &str) -> Option<Day> {
    EventDate::parse(written).ok().map(|d| d.effective_day())
}

/// The file a party's page is written to: `party-KAZ.html`, `party-unidentified-label.html`.
pub fn party_file(code: &str) -> String {
    let slug: String = code
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("party-{slug}.html")
}

/// What [`write_site`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The directory.
    pub dir: PathBuf,
    /// How many files.
    pub files: usize,
    /// How many bytes in all.
    pub bytes: u64,
}

/// Writes `files` (name, contents) into `dir`, atomically: all of them go into a temporary
/// directory beside `dir`, each written in full and synced, and that directory is then renamed
/// to `dir`. A `dir` holding anything is refused unless `force`, in which case the old contents
/// are moved aside, the new report renamed in, and the old removed. On any failure the
/// temporary directory is removed and `dir` is left as it was.
pub fn write_site(
    dir: &Path,
    files: impl IntoIterator<Item = Result<(String, String), ReportError>>,
    force: bool,
) -> Result<Written, ReportError> {
    let existing = match fs::metadata(dir) {
        Ok(m) if !m.is_dir() => return Err(ReportError::NotADirectory(dir.to_path_buf())),
        Ok(_) => {
            let mut entries = fs::read_dir(dir).map_err(write_err(dir))?;
            if entries.next().is_some() && !force {
                return Err(ReportError::NotEmpty(dir.to_path_buf()));
            }
            true
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => return Err(write_err(dir)(e)),
    };
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "report".into());
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}.tmp-"))
        .tempdir_in(&parent)
        .map_err(write_err(&parent))?;
    let (mut bytes, mut count) = (0u64, 0usize);
    for file in files {
        let (file, text) = file?;
        count += 1;
        let path = tmp.path().join(file);
        let mut f = fs::File::create(&path).map_err(write_err(&path))?;
        f.write_all(text.as_bytes()).map_err(write_err(&path))?;
        f.sync_all().map_err(write_err(&path))?;
        bytes += text.len() as u64;
    }
    // Readable by a web server serving the directory as it is.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o755))
            .map_err(write_err(tmp.path()))?;
    }
    let old = if existing {
        let aside = tempfile::Builder::new()
            .prefix(&format!(".{name}.old-"))
            .tempdir_in(&parent)
            .map_err(write_err(&parent))?
            .keep();
        // `aside` is an empty directory: renaming a directory over it replaces it.
        if let Err(e) = fs::rename(dir, &aside) {
            let _ = fs::remove_dir(&aside);
            return Err(write_err(dir)(e));
        }
        Some(aside)
    } else {
        None
    };
    let tmp_path = tmp.keep();
    if let Err(e) = fs::rename(&tmp_path, dir) {
        // Put the old report back, and leave nothing behind.
        if let Some(old) = &old {
            let _ = fs::rename(old, dir);
        }
        let _ = fs::remove_dir_all(&tmp_path);
        return Err(write_err(dir)(e));
    }
    if let Some(old) = old {
        fs::remove_dir_all(&old).map_err(write_err(&old))?;
    }
    if let Ok(d) = fs::File::open(&parent) {
        let _ = d.sync_all();
    }
    Ok(Written {
        dir: dir.to_path_buf(),
        files: count,
        bytes,
    })
}

/// `history PARTY` as known at the report's instant: the party's events up to `a.max_seq`.
pub fn party_history(
    ledger: &Ledger,
    a: &Answers,
    party: &Party,
) -> Result<PartyHistory, ReportError> {
    let events = ledger
        .party_events(party)?
        .into_iter()
        .filter(|e| a.max_seq.is_none_or(|m| e.seq <= m))
        .collect();
    Ok(PartyHistory {
        party: party.clone(),
        events,
    })
}

/// Every page of the static report, rendered one at a time as the iterator is consumed (so
/// only one party's history is in memory at once): `index.html`, `meetings.html`,
/// `audit.html`, then one `party-CODE.html` per party.
pub fn site<'a>(
    ledger: &'a Ledger,
    a: &'a Answers,
) -> impl Iterator<Item = Result<(String, String), ReportError>> + 'a {
    let ctx = PageContext::default();
    let fixed = [
        (
            "index.html".to_string(),
            pages::index(a, &ctx).into_string(),
        ),
        (
            "meetings.html".to_string(),
            pages::meetings(a, &ctx).into_string(),
        ),
        (
            "audit.html".to_string(),
            pages::audit(a, &ctx).into_string(),
        ),
    ];
    // One page per year of meetings when there are too many for one page.
    let years = if a.meetings.len() > pages::MEETINGS_ON_ONE_PAGE {
        pages::meeting_years(a)
    } else {
        Vec::new()
    };
    fixed
        .into_iter()
        .map(Ok)
        .chain(years.into_iter().map(move |(y, _)| {
            Ok((
                static_link(Page::MeetingsYear(y)),
                pages::meetings_in_year(a, y, &PageContext::default()).into_string(),
            ))
        }))
        .chain(a.parties.iter().map(move |p| {
            let h = party_history(ledger, a, p)?;
            Ok((
                party_file(p.code()),
                pages::party(a, &h, &PageContext::default()).into_string(),
            ))
        }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::event::parse_batch;
    use crate::store::AppendOptions;
    use maud::html;

    fn answers() -> (Ledger, Answers) {
        let mut l = Ledger::in_memory().unwrap();
        let events = parse_batch(crate::history::BUILTIN_HISTORY).unwrap();
        l.append(events.into_iter().map(Ok), AppendOptions::default())
            .unwrap();
        let a = gather(&l, Day::parse("2024-06-30").unwrap(), None).unwrap();
        (l, a)
    }

    /// A server can serve the same pages: links come from its context, its form is put on
    /// every page, and the figures are those of the answers (the state's, not recounted).
    #[test]
    fn pages_take_their_links_and_form_from_the_context() {
        let (l, a) = answers();
        let ctx = PageContext {
            link: Box::new(|p| match p {
                Page::Index => "/".into(),
                Page::Party(c) => format!("/parties/{c}"),
                Page::Meetings => "/meetings".into(),
                Page::MeetingsYear(y) => format!("/meetings/{y}"),
                Page::Audit => "/audit".into(),
            }),
            form: Some(html! { form id="date-form" method="get" { input name="as_of"; } }),
        };
        for page in [
            pages::index(&a, &ctx).into_string(),
            pages::meetings(&a, &ctx).into_string(),
            pages::audit(&a, &ctx).into_string(),
            pages::party(&a, &party_history(&l, &a, &a.parties[0]).unwrap(), &ctx).into_string(),
        ] {
            assert!(page.contains(r#"<form id="date-form""#));
            assert!(page.contains(r#"href="/meetings""#) && !page.contains("index.html"));
        }
        let index = pages::index(&a, &ctx).into_string();
        assert!(index.contains(r#"href="/parties/KAZ""#));
        assert!(index.contains(&format!(r#"id="members-count">{}<"#, a.state.members.count)));
        let files: Vec<(String, String)> = site(&l, &a).map(Result::unwrap).collect();
        assert!(files.iter().any(|(n, _)| n == "party-KAZ.html"));
        assert!(files.iter().all(|(_, h)| !h.contains("<form")));
    }

    /// A synthetic history with thousands of meetings gets one meetings page per year, which
    /// together list every meeting once; the chart then marks no General Assembly but says why.
    #[test]
    fn many_meetings_are_split_by_year_and_each_is_listed_once() {
        let mut l = Ledger::in_memory().unwrap();
        let input = crate::synth::events(8000, 3)
            .enumerate()
            .map(|(i, e)| Ok((crate::event::Location::Index(i), e)));
        l.append(input, AppendOptions::default()).unwrap();
        let a = gather(&l, Day::parse("2025-12-31").unwrap(), None).unwrap();
        assert!(
            a.meetings.len() > pages::MEETINGS_ON_ONE_PAGE,
            "{}",
            a.meetings.len()
        );
        let files: Vec<(String, String)> = site(&l, &a).map(Result::unwrap).collect();
        let meetings = &files.iter().find(|f| f.0 == "meetings.html").unwrap().1;
        assert!(meetings.contains(r#"id="meeting-years""#));
        let listed: usize = files
            .iter()
            .filter(|f| f.0.starts_with("meetings-"))
            .map(|f| f.1.matches(r#"<li id="seq-"#).count())
            .sum();
        assert_eq!(listed, a.meetings.len());
        let index = &files.iter().find(|f| f.0 == "index.html").unwrap().1;
        if a.assemblies.len() > 60 {
            assert!(index.contains("too many to mark"));
        }
    }

    #[test]
    fn party_files_are_safe_names() {
        assert_eq!(party_file("KAZ"), "party-KAZ.html");
        assert_eq!(
            party_file("unidentified:signatory-30"),
            "party-unidentified-signatory-30.html"
        );
    }
}
