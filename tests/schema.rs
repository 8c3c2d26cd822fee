//! The JSON Schema of the event format: the checked-in `docs/event.schema.json` is what the
//! Rust types generate, every event of `events/` validates against it, and what the parser
//! refuses for its shape (unknown fields and types, malformed dates, store fields, missing
//! sources) the schema refuses too.
//!
//! After changing the format, rewrite the file with
//! `IOFS_UPDATE_SCHEMA=1 cargo test --test schema`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use iofs_ledger::event::{json_schema as schema, parse_line, Location};
use serde_json::{json, Value};

const CHECKED_IN: &str = "docs/event.schema.json";

fn validator() -> jsonschema::Validator {
    jsonschema::validator_for(&schema::event_schema()).unwrap()
}

#[test]
fn the_checked_in_schema_is_the_one_the_types_generate() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(CHECKED_IN);
    let generated = schema::event_schema_text();
    if std::env::var_os("IOFS_UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == generated,
        "{CHECKED_IN} is not what the event types generate; run `IOFS_UPDATE_SCHEMA=1 cargo test --test schema` and commit it"
    );
    // It is itself a valid draft 2020-12 schema.
    let v: Value = serde_json::from_str(&on_disk).unwrap();
    assert_eq!(v["$schema"], "https://json-schema.org/draft/2020-12/schema");
    assert!(jsonschema::meta::is_valid(&v));
}

#[test]
fn every_line_of_the_built_in_history_validates() {
    let v = validator();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("events");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("jsonl") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let event: Value = serde_json::from_str(line).unwrap();
            let errors: Vec<String> = v.iter_errors(&event).map(|e| e.to_string()).collect();
            assert!(
                errors.is_empty(),
                "{}:{}: {errors:?}",
                path.display(),
                i + 1
            );
            checked += 1;
        }
    }
    assert!(checked >= 134, "{checked}");
}

fn signed() -> Value {
    json!({
        "type": "statute_signed",
        "party": "KAZ",
        "date": "2013-12-10",
        "source": {"document": "doc.txt", "quote": "Kazakhstan signed."}
    })
}

/// Applies `change` to a valid event.
fn with(change: impl FnOnce(&mut serde_json::Map<String, Value>)) -> Value {
    let mut v = signed();
    change(v.as_object_mut().unwrap());
    v
}

#[test]
fn the_schema_refuses_what_the_parser_refuses_for_its_shape_and_accepts_what_it_accepts() {
    let v = validator();
    let accepted = [
        signed(),
        with(|m| {
            m.insert("date".into(), json!("2013"));
        }),
        with(|m| {
            m.insert(
                "date".into(),
                json!({"not_before": "2013-12", "not_after": "2014"}),
            );
        }),
        with(|m| {
            m.insert("party".into(), json!("unidentified:signatory-3"));
        }),
        json!({"type": "retraction", "retracts": 3, "reason": "duplicate",
               "source": {"url": "https://example.org/x", "quote": "Entered twice."}}),
        json!({"type": "correction", "corrects": 3, "reason": "wrong day",
               "replacement": signed(),
               "source": {"document": "d", "quote": "q"}}),
    ];
    for e in &accepted {
        assert!(
            parse_line(Location::Line(1), &e.to_string()).is_ok(),
            "parser refuses {e}"
        );
        assert!(v.is_valid(e), "schema refuses {e}");
    }
    let refused = [
        (
            "unknown field",
            with(|m| {
                m.insert("colour".into(), json!("green"));
            }),
        ),
        (
            "unknown type",
            with(|m| {
                m.insert("type".into(), json!("statute_burned"));
            }),
        ),
        (
            "malformed date",
            with(|m| {
                m.insert("date".into(), json!("2013-13-01"));
            }),
        ),
        (
            "malformed date",
            with(|m| {
                m.insert("date".into(), json!("10/12/2013"));
            }),
        ),
        (
            "year 0000",
            with(|m| {
                m.insert("date".into(), json!("0000"));
            }),
        ),
        (
            "bounds with an unknown key",
            with(|m| {
                m.insert(
                    "date".into(),
                    json!({"not_before": "2013", "until": "2014"}),
                );
            }),
        ),
        (
            "missing date",
            with(|m| {
                m.remove("date");
            }),
        ),
        (
            "null date",
            with(|m| {
                m.insert("date".into(), Value::Null);
            }),
        ),
        (
            "missing source",
            with(|m| {
                m.remove("source");
            }),
        ),
        (
            "unknown source field",
            with(|m| {
                m.insert(
                    "source".into(),
                    json!({"document": "d", "quote": "q", "page": 3}),
                );
            }),
        ),
        (
            "store field",
            with(|m| {
                m.insert("seq".into(), json!(1));
            }),
        ),
        (
            "unknown party",
            with(|m| {
                m.insert("party".into(), json!("USA"));
            }),
        ),
        (
            "lower-case code",
            with(|m| {
                m.insert("party".into(), json!("kaz"));
            }),
        ),
        (
            "a field of another type",
            with(|m| {
                m.insert("organ".into(), json!("general_assembly"));
            }),
        ),
        (
            "a replacement with an unknown field",
            json!({"type": "correction", "corrects": 3, "reason": "r",
            "replacement": with(|m| { m.insert("colour".into(), json!(1)); }),
            "source": {"document": "d", "quote": "q"}}),
        ),
    ];
    for (why, e) in &refused {
        assert!(
            parse_line(Location::Line(1), &e.to_string()).is_err(),
            "parser accepts {why}: {e}"
        );
        assert!(!v.is_valid(e), "schema accepts {why}: {e}");
    }
}
