//! `record TYPE --FIELD VALUE …` (one event from flags), `template TYPE` (a complete JSON event
//! to edit) and the rendering of dry runs (`record --dry-run`, `append --dry-run`).
//!
//! The flags of each type are generated from [`schema::kinds`], which reads the event types
//! from the serde types that parse the JSON format: a new type or field appears here with no
//! change to this file. Flags build the same JSON object `append` would read, and the parser
//! ([`Event::from_object`]) judges it; a refusal is mapped back from the field it names to the
//! flag that set it.

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use clap::{Arg, ArgAction, ArgMatches};
use serde_json::{Map, Value};

use iofs_ledger::effect::{self, Effect};
use iofs_ledger::event::schema::{self, Field, KindSpec, Shape};
use iofs_ledger::event::{Event, Location};
use iofs_ledger::store::{Access, AppendOptions, Ledger, Refusal, StoreError};

use super::{render, CliError};

/// Every party flag goes through here, and only here: a code in any case, a name or common
/// English name (accents and case ignored), or an `unidentified:` placeholder, as
/// [`party::resolve`] reads them everywhere a party is an argument; the code is what is stored.
fn party(input: &str) -> Result<String, String> {
    iofs_ledger::party::resolve(input)
        .map(|p| p.code().to_string())
        .map_err(|e| e.to_string())
}

/// How one flag puts its value into the event.
#[derive(Debug, Clone)]
enum Put {
    /// The value at this path (field, or record field), read as `shape`.
    Value(Vec<&'static str>, Shape),
    /// A bound of a date field: (field, `not_before` or `not_after`).
    Bound(&'static str, &'static str),
    /// One element of a list field, read as the element's shape.
    Item(&'static str, Shape),
}

impl Put {
    /// The field path in the format this flag sets (`source.quote`, `date`, `seats`).
    fn path(&self) -> String {
        match self {
            Put::Value(p, _) => p.join("."),
            Put::Bound(f, _) | Put::Item(f, _) => (*f).to_string(),
        }
    }
}

/// A flag of `record TYPE`: its long name and what it sets.
#[derive(Debug, Clone)]
struct Flag {
    long: String,
    put: Put,
}

fn kebab(s: &str) -> String {
    s.replace('_', "-")
}

/// A list field's flag names one element: `seats` → `--seat`.
fn singular(s: &str) -> String {
    s.strip_suffix('s').unwrap_or(s).to_string()
}

fn describe(shape: &Shape) -> String {
    match shape {
        Shape::Text => "text".into(),
        Shape::Party => "a party: OIC member state code (KAZ) or unidentified:LABEL".into(),
        Shape::Date => "a date: YYYY, YYYY-MM or YYYY-MM-DD".into(),
        Shape::Bool => "a flag".into(),
        Shape::Number => "a whole number".into(),
        Shape::Choice(names) => format!("one of {}", names.join(", ")),
        Shape::List(inner) => format!("repeatable; each {}", describe(inner)),
        Shape::Record(fields) => format!(
            "KEY=VALUE,… or a JSON object, keys: {}",
            fields
                .iter()
                .map(|f| {
                    format!(
                        "{}{} ({})",
                        f.name,
                        if f.required { "" } else { "?" },
                        describe(&f.shape)
                    )
                })
                .collect::<Vec<_>>()
                .join("; ")
        ),
        Shape::Json => {
            "a JSON value (42, true, null, \"text\"); plain text is taken as text".into()
        }
        Shape::Event => {
            "a complete event as a JSON object (see `iofs-ledger template TYPE`)".into()
        }
    }
}

/// The flags of a type, in the order of its fields.
fn flags(spec: &KindSpec) -> Vec<(Flag, String, bool)> {
    let mut out = Vec::new();
    for f in &spec.fields {
        let req = if f.required { " [required]" } else { "" };
        match &f.shape {
            Shape::Date => {
                let (nb, na) = if f.name == "date" {
                    ("not-before".to_string(), "not-after".to_string())
                } else {
                    (
                        format!("{}-not-before", kebab(f.name)),
                        format!("{}-not-after", kebab(f.name)),
                    )
                };
                out.push((
                    Flag {
                        long: kebab(f.name),
                        put: Put::Value(vec![f.name], Shape::Date),
                    },
                    format!(
                        "`{}`: {}; or give --{nb} and --{na}{req}",
                        f.name,
                        describe(&f.shape)
                    ),
                    f.required,
                ));
                for (long, which) in [(nb, "not_before"), (na, "not_after")] {
                    out.push((
                        Flag {
                            long,
                            put: Put::Bound(f.name, which),
                        },
                        format!("`{}` known only within bounds: the {which} bound", f.name),
                        false,
                    ));
                }
            }
            Shape::Record(subs) => {
                for s in subs {
                    // The event's own source is given with bare flags (--document, --quote);
                    // any other record's fields are prefixed with its name.
                    let long = if f.name == "source" {
                        kebab(s.name)
                    } else {
                        format!("{}-{}", kebab(f.name), kebab(s.name))
                    };
                    let sreq = f.required && s.required;
                    out.push((
                        Flag {
                            long,
                            put: Put::Value(vec![f.name, s.name], s.shape.clone()),
                        },
                        format!(
                            "`{}.{}`: {}{}",
                            f.name,
                            s.name,
                            describe(&s.shape),
                            if sreq { " [required]" } else { "" }
                        ),
                        sreq,
                    ));
                }
            }
            Shape::List(inner) => out.push((
                Flag {
                    long: kebab(&singular(f.name)),
                    put: Put::Item(f.name, (**inner).clone()),
                },
                format!(
                    "one element of `{}` (repeat the flag for each): {}{req}",
                    f.name,
                    describe(inner)
                ),
                f.required,
            )),
            shape => out.push((
                Flag {
                    long: kebab(f.name),
                    put: Put::Value(vec![f.name], shape.clone()),
                },
                format!("`{}`: {}{req}", f.name, describe(shape)),
                f.required,
            )),
        }
    }
    out
}

/// `iofs-ledger record TYPE --a x …` as an example, from the type's template.
fn example(spec: &KindSpec) -> String {
    let mut s = format!("iofs-ledger record {}", spec.name);
    let mut records_shown: Vec<&str> = Vec::new();
    for (flag, _, required) in flags(spec) {
        // Required flags, and the first field of a required record (a source needs a
        // document or a url, neither of which is required alone).
        let first_of_record = match &flag.put {
            Put::Value(p, _) if p.len() == 2 && !records_shown.contains(&p[0]) => {
                records_shown.push(p[0]);
                spec.fields.iter().any(|f| f.name == p[0] && f.required)
            }
            _ => false,
        };
        if !required && !first_of_record {
            continue;
        }
        let v = match &flag.put {
            Put::Value(path, _) => path
                .iter()
                .try_fold(&Value::Object(spec.template.clone()), |v, k| v.get(*k))
                .cloned(),
            Put::Item(f, _) => spec.template.get(*f).and_then(|v| v.get(0)).cloned(),
            Put::Bound(..) => None,
        };
        let text = match v {
            Some(Value::String(t)) => t,
            Some(Value::Object(m)) => m
                .iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().map_or(v.to_string(), String::from)))
                .collect::<Vec<_>>()
                .join(","),
            Some(v) => v.to_string(),
            None => continue,
        };
        s.push_str(&format!(" --{} {}", flag.long, shell_quote(&text)));
    }
    s
}

fn shell_quote(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_:.,=/".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The command line of `record TYPE`.
fn command(spec: &KindSpec) -> clap::Command {
    let mut cmd = clap::Command::new(format!("iofs-ledger record {}", spec.name))
        .no_binary_name(true)
        .about(format!(
            "Record one `{}` event from flags (the same event `append` would read as JSON).",
            spec.name
        ))
        .after_help(format!(
            "Fields marked [required] must be given. Dates and parties are checked as in the JSON \
             format (docs/event-format.md).\n\nExample (placeholders to replace):\n  {}\n\n\
             The same event as JSON: `iofs-ledger template {}`.",
            example(spec),
            spec.name
        ))
        .max_term_width(100);
    let all = flags(spec);
    for (flag, help, required) in &all {
        let mut arg = Arg::new(flag.long.clone())
            .long(flag.long.clone())
            .help(help.clone());
        arg = match &flag.put {
            Put::Value(_, Shape::Bool) => arg.action(ArgAction::SetTrue),
            Put::Item(..) => arg.action(ArgAction::Append).value_name("VALUE"),
            Put::Value(_, Shape::Choice(names)) => arg
                .value_parser(clap::builder::PossibleValuesParser::new(
                    names.iter().copied(),
                ))
                .value_name("NAME"),
            Put::Value(_, Shape::Number) => {
                arg.value_parser(clap::value_parser!(u64)).value_name("N")
            }
            Put::Value(_, Shape::Date) => arg.value_name("DATE"),
            Put::Bound(..) => arg.value_name("DATE"),
            Put::Value(_, Shape::Party) => arg.value_name("PARTY"),
            _ => arg.value_name("VALUE"),
        };
        if *required {
            // A date may be given as bounds instead.
            let bounds: Vec<String> = match &flag.put {
                Put::Value(p, Shape::Date) if p.len() == 1 => all
                    .iter()
                    .filter(|(g, _, _)| matches!(&g.put, Put::Bound(h, _) if *h == p[0]))
                    .map(|(g, _, _)| g.long.clone())
                    .collect(),
                _ => Vec::new(),
            };
            arg = if bounds.is_empty() {
                arg.required(true)
            } else {
                arg.required_unless_present_any(bounds)
            };
        }
        if let Put::Bound(f, which) = &flag.put {
            let other = all
                .iter()
                .find(|(g, _, _)| matches!(&g.put, Put::Bound(h, w) if h == f && w != which));
            let whole = all.iter().find(|(g, _, _)| {
                matches!(&g.put, Put::Value(p, Shape::Date) if p.len() == 1 && p[0] == *f)
            });
            if let Some((o, _, _)) = other {
                arg = arg.requires(o.long.clone());
            }
            if let Some((w, _, _)) = whole {
                arg = arg.conflicts_with(w.long.clone());
            }
        }
        cmd = cmd.arg(arg);
    }
    cmd.arg(
        Arg::new("dry-run")
            .long("dry-run")
            .action(ArgAction::SetTrue)
            .help(
                "Check the event against the ledger and show what it would change; append nothing",
            )
            .help_heading("Recording"),
    )
    .arg(
        Arg::new("print")
            .long("print")
            .action(ArgAction::SetTrue)
            .conflicts_with("dry-run")
            .help("Print the event as JSON (one line, as `append` reads it); open no ledger")
            .help_heading("Recording"),
    )
    .arg(
        Arg::new("expect-head")
            .long("expect-head")
            .value_name("SEQ")
            .value_parser(clap::value_parser!(u64))
            .help("Refuse unless the log's last seq is still SEQ")
            .help_heading("Recording"),
    )
    .arg(
        Arg::new("json")
            .long("json")
            .action(ArgAction::SetTrue)
            .help("Print JSON (with --dry-run)")
            .help_heading("Recording"),
    )
}

/// Why flags did not make an event: the flags at fault and what is wrong.
#[derive(Debug)]
struct FlagError {
    flags: Vec<String>,
    message: String,
}

impl std::fmt::Display for FlagError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<String> = self.flags.iter().map(|l| format!("--{l}")).collect();
        if names.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", names.join(" / "), self.message)
        }
    }
}

/// The flags that set `field` (a path the parser or a rule names): the one whose field the
/// message names (`source.quote`); for something missing, those not given; else those given.
fn flags_for(
    all: &[(Flag, String, bool)],
    given: &[String],
    field: &str,
    message: &str,
) -> Vec<String> {
    let hits: Vec<&Flag> = all
        .iter()
        .map(|(f, _, _)| f)
        .filter(|f| {
            let p = f.put.path();
            p == field || p.starts_with(&format!("{field}.")) || field.starts_with(&format!("{p}."))
        })
        .collect();
    let named: Vec<String> = hits
        .iter()
        .filter(|f| f.put.path() != field && message.contains(&format!("`{}`", f.put.path())))
        .map(|f| f.long.clone())
        .collect();
    if !named.is_empty() {
        return named;
    }
    let (given_hits, not_given): (Vec<&&Flag>, Vec<&&Flag>) =
        hits.iter().partition(|f| given.contains(&f.long));
    if (message.contains("missing") || message.contains("needs")) && !not_given.is_empty() {
        return not_given.iter().map(|f| f.long.clone()).collect();
    }
    let given_hits: Vec<String> = given_hits.iter().map(|f| f.long.clone()).collect();
    if given_hits.is_empty() {
        hits.iter().map(|f| f.long.clone()).collect()
    } else {
        given_hits
    }
}

/// Reads a value of `shape` from a flag's text.
fn value(shape: &Shape, text: &str) -> Result<Value, String> {
    match shape {
        Shape::Party => party(text).map(Value::String),
        Shape::Number => text
            .parse::<u64>()
            .map(Value::from)
            .map_err(|_| format!("`{text}` is not a whole number")),
        Shape::Bool => match text {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(format!("`{text}` is not true or false")),
        },
        Shape::Json => {
            Ok(serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.into())))
        }
        Shape::Event => {
            iofs_ledger::event::parse_strict(text).map_err(|e| format!("not a JSON object: {e}"))
        }
        Shape::Record(fields) => {
            if text.trim_start().starts_with('{') {
                let v = iofs_ledger::event::parse_strict(text)
                    .map_err(|e| format!("not a JSON object: {e}"))?;
                // Parties inside go through the same resolution as every party flag.
                let mut m = match v {
                    Value::Object(m) => m,
                    _ => return Err("not a JSON object".into()),
                };
                for f in fields {
                    if let (Shape::Party, Some(Value::String(s))) = (&f.shape, m.get(f.name)) {
                        let code = party(s).map_err(|e| format!("`{}`: {e}", f.name))?;
                        m.insert(f.name.to_string(), Value::String(code));
                    }
                }
                return Ok(Value::Object(m));
            }
            let mut m = Map::new();
            for pair in text.split(',').filter(|p| !p.trim().is_empty()) {
                let (k, v) = pair
                    .split_once('=')
                    .ok_or_else(|| format!("`{pair}` is not KEY=VALUE"))?;
                let k = k.trim();
                let f: &Field = fields.iter().find(|f| f.name == k).ok_or_else(|| {
                    format!(
                        "unknown key `{k}` (keys: {})",
                        fields.iter().map(|f| f.name).collect::<Vec<_>>().join(", ")
                    )
                })?;
                m.insert(
                    k.to_string(),
                    value(&f.shape, v.trim()).map_err(|e| format!("`{k}`: {e}"))?,
                );
            }
            Ok(Value::Object(m))
        }
        Shape::List(inner) => Ok(Value::Array(vec![value(inner, text)?])),
        Shape::Text | Shape::Date | Shape::Choice(_) => Ok(Value::String(text.to_string())),
    }
}

/// The JSON object the flags describe, in the type's field order.
fn build(
    spec: &KindSpec,
    all: &[(Flag, String, bool)],
    m: &ArgMatches,
) -> Result<Map<String, Value>, FlagError> {
    let mut obj = Map::new();
    obj.insert("type".into(), Value::String(spec.name.into()));
    let fail = |flag: &Flag, message: String| FlagError {
        flags: vec![flag.long.clone()],
        message,
    };
    for (flag, _, _) in all {
        let id = flag.long.as_str();
        match &flag.put {
            Put::Value(path, Shape::Bool) => {
                if m.get_flag(id) {
                    insert(&mut obj, path, Value::Bool(true));
                }
            }
            Put::Value(path, Shape::Number) => {
                if let Some(n) = m.get_one::<u64>(id) {
                    insert(&mut obj, path, Value::from(*n));
                }
            }
            Put::Value(path, shape) => {
                if let Some(t) = m.get_one::<String>(id) {
                    insert(&mut obj, path, value(shape, t).map_err(|e| fail(flag, e))?);
                }
            }
            Put::Bound(field, which) => {
                if let Some(t) = m.get_one::<String>(id) {
                    let entry = obj
                        .entry((*field).to_string())
                        .or_insert_with(|| Value::Object(Map::new()));
                    if let Value::Object(b) = entry {
                        b.insert((*which).to_string(), Value::String(t.clone()));
                    }
                }
            }
            Put::Item(field, shape) => {
                if let Some(items) = m.get_many::<String>(id) {
                    let mut list = Vec::new();
                    for t in items {
                        list.push(value(shape, t).map_err(|e| fail(flag, e))?);
                    }
                    obj.insert((*field).to_string(), Value::Array(list));
                }
            }
        }
    }
    // Field order as the type lists them (canonical order), whatever order flags came in.
    let mut ordered = Map::new();
    ordered.insert("type".into(), Value::String(spec.name.into()));
    for f in &spec.fields {
        if let Some(v) = obj.remove(f.name) {
            ordered.insert(f.name.to_string(), v);
        }
    }
    Ok(ordered)
}

fn insert(obj: &mut Map<String, Value>, path: &[&'static str], v: Value) {
    match path {
        [f] => {
            obj.insert((*f).to_string(), v);
        }
        [f, rest @ ..] => {
            let entry = obj
                .entry((*f).to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(m) = entry {
                insert(m, rest, v);
            }
        }
        [] => {}
    }
}

fn types_help() -> String {
    let mut s = String::from(
        "Record one event from flags: iofs-ledger record TYPE [--FIELD VALUE …] [--dry-run] [--print]\n\
         `iofs-ledger record TYPE --help` lists a type's fields, which are required, and an example.\n\nTypes:\n",
    );
    for k in schema::kinds() {
        let own: Vec<&str> = k
            .fields
            .iter()
            .filter(|f| !schema::COMMON.iter().any(|(c, _)| *c == f.name))
            .map(|f| f.name)
            .collect();
        s.push_str(&format!(
            "  {:<28} {}\n",
            k.name,
            if own.is_empty() {
                "—".to_string()
            } else {
                own.join(", ")
            }
        ));
    }
    s.push_str("\nEvery type also takes --date (or --not-before/--not-after), --document or --url, --quote, and optional --end-date, --date-source-*, --inferred, --note.\n");
    s
}

fn unknown_type(ty: &str) -> CliError {
    let names: Vec<&str> = schema::kinds().iter().map(|k| k.name).collect();
    CliError::Usage(format!(
        "unknown event type `{ty}`; the types are: {}",
        names.join(", ")
    ))
}

/// Runs `record`.
pub(super) fn record(
    db: PathBuf,
    lock_timeout: Duration,
    ty: Option<String>,
    args: Vec<String>,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let ty = match ty.as_deref() {
        None | Some("-h" | "--help" | "help") => {
            write!(out, "{}", types_help())?;
            return Ok(());
        }
        Some(t) => t,
    };
    let spec = schema::kind(ty).ok_or_else(|| unknown_type(ty))?;
    let all = flags(spec);
    let matches = match command(spec).try_get_matches_from(&args) {
        Ok(m) => m,
        Err(e) => {
            if e.use_stderr() {
                let text = e.render().to_string();
                let text = text.strip_prefix("error: ").unwrap_or(&text);
                return Err(CliError::Usage(text.trim_end().to_string()));
            }
            write!(out, "{}", e.render())?;
            return Ok(());
        }
    };
    let given: Vec<String> = all
        .iter()
        .filter(|(f, _, _)| {
            matches.value_source(&f.long) == Some(clap::parser::ValueSource::CommandLine)
        })
        .map(|(f, _, _)| f.long.clone())
        .collect();
    let refused =
        |e: FlagError| CliError::Refused(format!("record refused; nothing was appended: {e}"));
    let obj = build(spec, &all, &matches).map_err(refused)?;
    let event = Event::from_object(obj).map_err(|(field, message)| {
        refused(FlagError {
            flags: field
                .as_deref()
                .map(|f| flags_for(&all, &given, f, &message))
                .unwrap_or_default(),
            message,
        })
    })?;
    if matches.get_flag("print") {
        writeln!(out, "{}", event.canonical_json())?;
        return Ok(());
    }
    let opts = AppendOptions {
        expect_head: matches.get_one::<u64>("expect-head").copied(),
        now: None,
    };
    let item = [Ok::<_, iofs_ledger::event::ParseError>((
        Location::Line(1),
        event,
    ))];
    let name_flags = |e: StoreError| match e {
        StoreError::Refused(rs) => CliError::Refused(format!(
            "record refused; nothing was appended:{}",
            rs.iter()
                .map(|r| format!("\n  {}", refusal_text(&all, &given, r)))
                .collect::<String>()
        )),
        e => e.into(),
    };
    if matches.get_flag("dry-run") {
        let mut l = Ledger::open(&db, Access::Inspect)?;
        l.set_busy_timeout(lock_timeout)?;
        let effect = effect::dry_run(&mut l, item, opts).map_err(name_flags)?;
        return dry_run(out, &effect, matches.get_flag("json"));
    }
    let mut l = Ledger::open(&db, Access::ReadWrite)?;
    l.set_busy_timeout(lock_timeout)?;
    let a = l.append(item, opts).map_err(name_flags)?;
    // Recorded: a report that cannot be written is exit 3 (see `CliError::DoneButUnreported`).
    writeln!(
        out,
        "recorded seq {} ({}) recorded_at {}; head {}:{}",
        a.last, spec.name, a.recorded_at, a.last, a.head_hash
    )
    .and_then(|()| out.flush())
    .map_err(|source| CliError::DoneButUnreported {
        done: format!("recorded seq {}", a.last),
        head: format!("{}:{}", a.last, a.head_hash),
        source,
    })?;
    Ok(())
}

/// A refusal with the flags at fault in place of the field.
fn refusal_text(all: &[(Flag, String, bool)], given: &[String], r: &Refusal) -> String {
    let flags = r
        .field
        .as_deref()
        .map(|f| flags_for(all, given, f, &r.message))
        .unwrap_or_default();
    let mut s = flags
        .iter()
        .map(|l| format!("--{l}"))
        .collect::<Vec<_>>()
        .join(" / ");
    if s.is_empty() {
        s.push_str("input");
    }
    if let Some(seq) = r.seq {
        s.push_str(&format!(" (seq {seq})"));
    }
    if let Some(rule) = r.rule {
        s.push_str(&format!(": rule \"{}\" broken", rule.text()));
    }
    format!("{s}: {}", r.message)
}

/// Runs `template`.
pub(super) fn template(
    ty: Option<String>,
    line: bool,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let Some(ty) = ty else {
        for k in schema::kinds() {
            writeln!(out, "{}", k.name)?;
        }
        return Ok(());
    };
    let spec = schema::kind(&ty).ok_or_else(|| unknown_type(&ty))?;
    let event = Value::Object(spec.template.clone());
    if line {
        serde_json::to_writer(&mut *out, &event)
    } else {
        // An array of one: indented for editing, and still read by `append` as it is.
        serde_json::to_writer_pretty(&mut *out, &[event])
    }
    .map_err(io::Error::from)?;
    writeln!(out)?;
    if io::stdout().is_terminal() {
        #[allow(clippy::print_stderr)]
        {
            eprintln!("iofs-ledger: {}", schema::placeholder_note());
        }
    }
    Ok(())
}

/// Prints what a dry run found.
pub(super) fn dry_run(out: &mut dyn Write, e: &Effect, json: bool) -> Result<(), CliError> {
    if json {
        render::json(
            out,
            &serde_json::json!({"dry_run": true, "accepted": true, "head": e.head,
                "events": e.events, "days": e.days, "changes": e.changes}),
        )?;
        return Ok(());
    }
    writeln!(
        out,
        "dry run: the append would be accepted; nothing was appended (head stays {})",
        e.head
    )?;
    for w in &e.events {
        let parties: Vec<String> = w
            .event
            .as_object()
            .map(|o| {
                ["party", "proposer", "host"]
                    .iter()
                    .filter_map(|k| o.get(*k).and_then(Value::as_str).map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        writeln!(
            out,
            "  seq {:<5} {:<28} {:<12} {}",
            w.seq,
            w.kind,
            w.date.as_deref().unwrap_or("-"),
            parties.join(" ")
        )?;
    }
    if e.changes.is_empty() {
        writeln!(
            out,
            "no answer would change on {}",
            if e.days.is_empty() {
                "any day".to_string()
            } else {
                e.days.join(", ")
            }
        )?;
        return Ok(());
    }
    writeln!(out, "would change:")?;
    let show = |v: &Value| match v {
        Value::Null => "-".to_string(),
        Value::String(s) => s.clone(),
        v => v.to_string(),
    };
    for c in &e.changes {
        let mut line = format!(
            "  {} on {}: {} → {}",
            c.answer.replace('_', " "),
            c.day,
            show(&c.before),
            show(&c.after)
        );
        let mut lists: Vec<String> = c.added.iter().map(|p| format!("+{p}")).collect();
        lists.extend(c.removed.iter().map(|p| format!("-{p}")));
        if !lists.is_empty() {
            line.push_str(&format!(" ({})", lists.join(" ")));
        }
        writeln!(out, "{line}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every type's command is well formed (no two flags share a name) and every field of
    /// every type is set by some flag.
    #[test]
    fn every_type_and_every_field_is_reachable_by_a_flag() {
        for k in schema::kinds() {
            command(k).debug_assert();
            let all = flags(k);
            for f in &k.fields {
                let paths: Vec<String> = all.iter().map(|(g, _, _)| g.put.path()).collect();
                let reached = paths
                    .iter()
                    .any(|p| p == f.name || p.starts_with(&format!("{}.", f.name)));
                assert!(
                    reached,
                    "{}: field {} has no flag ({paths:?})",
                    k.name, f.name
                );
                if let Shape::Record(subs) = &f.shape {
                    for s in subs {
                        let p = format!("{}.{}", f.name, s.name);
                        assert!(paths.contains(&p), "{}: {p} has no flag", k.name);
                    }
                }
            }
        }
    }

    /// Flags filled from a type's template give back the template's event.
    #[test]
    fn flags_from_every_template_make_the_templates_event() {
        for k in schema::kinds() {
            let mut args: Vec<String> = Vec::new();
            for (flag, _, _) in flags(k) {
                let v = match &flag.put {
                    Put::Value(path, _) => path
                        .iter()
                        .try_fold(
                            &Value::Object(schema::filled(k.template.clone())),
                            |v, p| v.get(*p),
                        )
                        .cloned(),
                    Put::Item(f, _) => schema::filled(k.template.clone())
                        .get(*f)
                        .and_then(|v| v.get(0))
                        .cloned(),
                    Put::Bound(..) => None,
                };
                match v {
                    Some(Value::Bool(true)) => args.push(format!("--{}", flag.long)),
                    Some(Value::Bool(false)) | None => {}
                    Some(Value::String(s)) => {
                        args.push(format!("--{}", flag.long));
                        args.push(s);
                    }
                    Some(v) => {
                        args.push(format!("--{}", flag.long));
                        args.push(v.to_string());
                    }
                }
            }
            let m = command(k)
                .try_get_matches_from(&args)
                .unwrap_or_else(|e| panic!("{}: {e} {args:?}", k.name));
            let obj = build(k, &flags(k), &m).unwrap();
            let from_flags = Event::from_object(obj).unwrap().canonical_json();
            let from_json = Event::from_object(schema::filled(k.template.clone()))
                .unwrap()
                .canonical_json();
            assert_eq!(from_flags, from_json, "{}", k.name);
        }
    }
}
