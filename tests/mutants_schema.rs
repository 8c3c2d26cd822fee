//! The event schema `record` and `template` are built from, held to `docs/event-format.md`
//! where mutation testing of `src/event/schema.rs` looked (see `docs/testing.md`, "Module by
//! module").
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use iofs_ledger::event::schema::{filled, kind, kinds, placeholder_note, Field, Shape};
use iofs_ledger::event::Event;
use serde_json::{json, Value};

/// A shape in words: `text`, `party`, `date`, `bool`, `number`, `one of a|b`, `list of S`,
/// `{field: S, optional?: S}`, `json`, `event`.
fn shape(s: &Shape) -> String {
    match s {
        Shape::Text => "text".into(),
        Shape::Party => "party".into(),
        Shape::Date => "date".into(),
        Shape::Bool => "bool".into(),
        Shape::Number => "number".into(),
        Shape::Choice(names) => format!("one of {}", names.join("|")),
        Shape::List(inner) => format!("list of {}", shape(inner)),
        Shape::Record(fields) => format!("{{{}}}", fields_in_words(fields)),
        Shape::Json => "json".into(),
        Shape::Event => "event".into(),
    }
}

/// Fields in words: `name: shape` when required, `name?: shape` when not.
fn fields_in_words(fields: &[Field]) -> String {
    fields
        .iter()
        .map(|f| {
            format!(
                "{}{}: {}",
                f.name,
                if f.required { "" } else { "?" },
                shape(&f.shape)
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

const SOURCE: &str = "{document?: text, url?: text, quote: text}";
const ORGAN: &str = "one of general_assembly|executive_board|council_of_foreign_ministers|ministerial_conference|intergovernmental_experts_meeting|world_islamic_economic_forum|un_oic_general_meeting";

/// Every event type, in the order of the format's table, with its fields in canonical order
/// and exactly what `docs/event-format.md` says of each: its shape (a party, a date in any
/// form, one of the listed names, a list of seat records, any JSON value for a claim's value,
/// a complete event for a replacement) and whether it is required (`date` on every type but
/// the two record events, `source` always, `quote` in a source but neither `document` nor
/// `url` alone, a seat's `role`).
#[test]
fn every_type_has_the_fields_the_format_documents() {
    let common_before =
        |date: bool| format!("date{}: date, end_date?: date", if date { "" } else { "?" });
    let common_after =
        format!("source: {SOURCE}, date_source?: {SOURCE}, inferred?: text, note?: text");
    let world = |own: &str| {
        let own = if own.is_empty() {
            String::new()
        } else {
            format!("{own}, ")
        };
        format!("{}, {own}{common_after}", common_before(true))
    };
    let record = |own: &str| format!("{}, {own}, {common_after}", common_before(false));
    let expected: Vec<(&str, String)> = vec![
        ("organisation_established", world("")),
        ("statute_adopted", world("")),
        ("statute_signed", world("party: party")),
        ("statute_ratified", world("party: party")),
        ("statute_entered_into_force", world("")),
        ("observer_admitted", world("party: party")),
        ("membership_withdrawn", world("party: party")),
        ("secretariat_operational", world("")),
        (
            "proposal_made",
            world("description: text, proposer?: party"),
        ),
        (
            "meeting_held",
            world(&format!(
                "organ: {ORGAN}, session?: number, extraordinary?: bool, place?: text, host?: party, online?: bool, theme?: text"
            )),
        ),
        (
            "officer_appointed",
            world("office: one of director_general, person: text, takes_office?: date, term_years?: number"),
        ),
        (
            "office_vacated",
            world("office: one of director_general, person: text, reason: text"),
        ),
        (
            "board_elected",
            world(&format!(
                "organ: {ORGAN}, seats: list of {{party?: party, office?: one of director_general, role: one of chair|member|permanent_member|honorary_chair}}"
            )),
        ),
        (
            "document_adopted",
            world(&format!("title: text, organ?: {ORGAN}, session?: number")),
        ),
        (
            "programme_established",
            world(&format!("name: text, organ?: {ORGAN}")),
        ),
        ("agreement_signed", world("title: text, counterparty: text")),
        (
            "claim",
            world("about: one of member_count|ratification_count|signatory_ordinal|statute_in_force|director_general|board_chair|statement, value: json, party?: party, topic?: text"),
        ),
        (
            "retraction",
            record("retracts: number, reason: text, target_sha256?: text"),
        ),
        (
            "correction",
            record("corrects: number, replacement: event, reason: text, target_sha256?: text"),
        ),
    ];
    let got: Vec<(&str, String)> = kinds()
        .iter()
        .map(|k| (k.name, fields_in_words(&k.fields)))
        .collect();
    for ((name, want), (got_name, got_fields)) in expected.iter().zip(&got) {
        assert_eq!(got_name, name);
        assert_eq!(got_fields, want, "{name}");
    }
    assert_eq!(got.len(), expected.len(), "{got:?}");
}

/// A placeholder source, as templates write it.
fn source() -> Value {
    json!({"document": "<document>", "url": "<url>", "quote": "<quote>"})
}

/// Every template is a complete event of its type made of the documented placeholders (texts
/// `<field>`, parties `unidentified:edit-me`, dates 2000-01-01, numbers 1, choices the first
/// allowed name, flags false, a `target_sha256` of 64 zeros), with the first value that makes
/// it an event where a rule spans fields: a board's seat names a party and no office, a
/// claim's value is the count its first `about` takes, and a correction's replacement is the
/// first world type's template without its `end_date`.
#[test]
fn every_template_is_a_complete_event_of_the_documented_placeholders() {
    let common = |own: Value| -> Value {
        let mut t = json!({"type": "?", "date": "2000-01-01", "end_date": "2000-01-01"});
        let m = t.as_object_mut().unwrap();
        m.extend(own.as_object().unwrap().clone());
        m.insert("source".into(), source());
        m.insert("date_source".into(), source());
        m.insert("inferred".into(), json!("<inferred>"));
        m.insert("note".into(), json!("<note>"));
        t
    };
    let mut established = common(json!({"type": "organisation_established"}));
    established
        .as_object_mut()
        .unwrap()
        .shift_remove("end_date");
    let expected = [
        (
            "statute_signed",
            json!({"type": "statute_signed", "party": "unidentified:edit-me"}),
        ),
        (
            "meeting_held",
            json!({"type": "meeting_held", "organ": "general_assembly", "session": 1,
                   "extraordinary": false, "place": "<place>", "host": "unidentified:edit-me",
                   "online": false, "theme": "<theme>"}),
        ),
        (
            "board_elected",
            json!({"type": "board_elected", "organ": "general_assembly",
                   "seats": [{"party": "unidentified:edit-me", "role": "chair"}]}),
        ),
        (
            "claim",
            json!({"type": "claim", "about": "member_count", "value": 1,
                   "party": "unidentified:edit-me", "topic": "<topic>"}),
        ),
        (
            "retraction",
            json!({"type": "retraction", "retracts": 1, "reason": "<reason>",
                   "target_sha256": "0".repeat(64)}),
        ),
        (
            "correction",
            json!({"type": "correction", "corrects": 1, "replacement": established,
                   "reason": "<reason>", "target_sha256": "0".repeat(64)}),
        ),
    ];
    for (name, own) in expected {
        let spec = kind(name).unwrap_or_else(|| panic!("{name}"));
        let got = Value::Object(spec.template.clone());
        let want = common(own);
        assert_eq!(got, want, "{name}");
        let keys: Vec<&String> = spec.template.keys().collect();
        let want_keys: Vec<&String> = want.as_object().unwrap().keys().collect();
        assert_eq!(keys, want_keys, "{name}: canonical order");
    }
    for spec in kinds() {
        let ev = Event::from_object(filled(spec.template.clone()))
            .unwrap_or_else(|e| panic!("{}: {e:?}", spec.name));
        assert_eq!(ev.kind.type_name(), spec.name);
    }
}

/// `kind` finds a type by its name, and nothing for a name that is no type.
#[test]
fn a_type_is_found_by_its_name_and_only_by_it() {
    for spec in kinds() {
        assert_eq!(kind(spec.name).map(|k| k.name), Some(spec.name));
    }
    for name in ["", "statute", "Statute_signed", "xyzzy"] {
        assert!(kind(name).is_none(), "{name}");
    }
}

/// The note printed with a template names every placeholder templates use.
#[test]
fn the_placeholder_note_names_every_placeholder() {
    let note = placeholder_note();
    for said in [
        "<field>",
        "unidentified:edit-me",
        "2000-01-01",
        "numbers 1",
        "first allowed name",
        "flags false",
        "64 zeros",
    ] {
        assert!(note.contains(said), "{said}: {note}");
    }
}

/// `filled` replaces every placeholder at any depth (in objects and arrays): a `<name>` text by
/// `name`, the placeholder party by `unidentified:sample`; every other value is left alone.
#[test]
fn filled_replaces_each_placeholder_at_any_depth_and_nothing_else() {
    let template = json!({
        "type": "board_elected",
        "note": "<note>",
        "party": "unidentified:edit-me",
        "seats": [{"party": "unidentified:edit-me", "role": "<role>"}, "<x>"],
        "source": {"document": "<document>", "quote": "A <b>bold</b> sentence."},
        "count": 1,
        "flag": false,
        "other": "unidentified:someone",
        "angled": "<Not_a_placeholder>",
    });
    let got = Value::Object(filled(template.as_object().unwrap().clone()));
    assert_eq!(
        got,
        json!({
            "type": "board_elected",
            "note": "note",
            "party": "unidentified:sample",
            "seats": [{"party": "unidentified:sample", "role": "role"}, "x"],
            "source": {"document": "document", "quote": "A <b>bold</b> sentence."},
            "count": 1,
            "flag": false,
            "other": "unidentified:someone",
            "angled": "<Not_a_placeholder>",
        })
    );
}
