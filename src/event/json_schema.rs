//! The JSON Schema of the event format (`docs/event.schema.json`), generated from the types
//! that parse events, so the two cannot drift: `Kind`'s variants and their fields, `Source`,
//! `Seat`, the enums, and `CommonRepr` (the fields every type shares) derive
//! `schemars::JsonSchema`; dates and parties get their schemas here, from the same rules their
//! parsers apply. [`event_schema`] turns the externally tagged `Kind` into the format's flat
//! objects with a `type` field.
//!
//! What a schema cannot say is checked by the parser alone: duplicate keys, real calendar days
//! (`2023-02-29`), bounds in order, claim values of the right type.
//!
//! `tests/schema.rs` holds the checked-in file equal to this function's output (run it with
//! `IOFS_UPDATE_SCHEMA=1` to rewrite the file after changing the format).

use std::borrow::Cow;

use schemars::generate::SchemaSettings;
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde_json::{json, Map, Value};

use super::{CommonRepr, Event, Kind};
use crate::date::{EventDate, PartialDate};
use crate::party::{Party, OIC_MEMBER_STATES, PLACEHOLDER_PREFIX};

/// `YYYY`, `YYYY-MM` or `YYYY-MM-DD`, years 0001-9999, months 01-12, days 01-31 (whether the
/// day exists in its month is checked by the parser).
pub const PARTIAL_DATE_PATTERN: &str =
    "^(?!0000)[0-9]{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?)?$";

impl JsonSchema for PartialDate {
    fn schema_name() -> Cow<'static, str> {
        "PartialDate".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A date with the precision its source gives: YYYY, YYYY-MM or YYYY-MM-DD (a real calendar date, years 0001-9999).",
            "type": "string",
            "pattern": PARTIAL_DATE_PATTERN,
        })
    }
}

impl JsonSchema for EventDate {
    fn schema_name() -> Cow<'static, str> {
        "EventDate".into()
    }

    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        let partial = g.subschema_for::<PartialDate>();
        json_schema!({
            "description": "When an event happened: a date of some precision, or bounds when only a range is known (not_before no later than not_after).",
            "oneOf": [
                partial,
                {
                    "type": "object",
                    "properties": { "not_before": partial, "not_after": partial },
                    "required": ["not_before", "not_after"],
                    "additionalProperties": false,
                }
            ]
        })
    }
}

impl JsonSchema for Party {
    fn schema_name() -> Cow<'static, str> {
        "Party".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let codes: Vec<&str> = OIC_MEMBER_STATES.iter().map(|(c, _)| *c).collect();
        json_schema!({
            "description": "An OIC member state's ISO 3166-1 alpha-3 code, or `unidentified:<label>` for a party a source counts but does not name.",
            "type": "string",
            "anyOf": [
                { "enum": codes },
                { "pattern": format!("^{PLACEHOLDER_PREFIX}[a-z0-9-]{{1,64}}$") }
            ]
        })
    }
}

impl JsonSchema for Event {
    fn schema_name() -> Cow<'static, str> {
        "Event".into()
    }

    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        let common = CommonRepr::json_schema(g);
        let kinds = Kind::json_schema(g);
        let mut common_props = common
            .get("properties")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        // `source` is required and may not be null.
        common_props.insert(
            "source".into(),
            g.subschema_for::<super::Source>().to_value(),
        );
        let variants = kinds
            .get("oneOf")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let flat: Vec<Value> = variants
            .iter()
            .filter_map(|v| flatten_variant(v, &common_props))
            .collect();
        json_schema!({
            "description": "One event of the iofs-ledger format (docs/event-format.md): its type and that type's fields, when it happened and the source it rests on. Input may not set the store's fields (seq, recorded_at, hash).",
            "oneOf": flat,
        })
    }
}

/// `{"statute_signed": {"type": "object", "properties": {"party": …}}}` → the flat object of
/// the format: `type`, the common fields and the variant's own.
fn flatten_variant(v: &Value, common: &Map<String, Value>) -> Option<Value> {
    let (name, inner) = v.get("properties")?.as_object()?.iter().next()?;
    let mut props = Map::new();
    props.insert("type".into(), json!({ "const": name }));
    props.extend(common.clone());
    if let Some(own) = inner.get("properties").and_then(Value::as_object) {
        props.extend(own.clone());
    }
    let record = Kind::is_record_type(name);
    let mut required: Vec<Value> = vec![json!("type"), json!("source")];
    if !record {
        required.push(json!("date"));
        // Required, so not null either (the parser reads a null as absent).
        if let Some(d) = props.get_mut("date") {
            *d = non_null(d.clone());
        }
    }
    if let Some(own) = inner.get("required").and_then(Value::as_array) {
        required.extend(own.iter().cloned());
    }
    let description = v
        .get("description")
        .or_else(|| inner.get("description"))
        .cloned()
        .unwrap_or(Value::Null);
    let mut out = Map::new();
    out.insert("title".into(), json!(name));
    if !description.is_null() {
        out.insert("description".into(), description);
    }
    out.insert("type".into(), json!("object"));
    out.insert("properties".into(), Value::Object(props));
    out.insert("required".into(), Value::Array(required));
    out.insert("additionalProperties".into(), json!(false));
    Some(Value::Object(out))
}

/// `{"anyOf": [X, {"type": "null"}], …}` → X with the rest of the keys (schemars writes an
/// `Option` so).
fn non_null(v: Value) -> Value {
    let Value::Object(mut m) = v else { return v };
    let Some(Value::Array(alts)) = m.remove("anyOf") else {
        return Value::Object(m);
    };
    let mut rest: Vec<Value> = alts
        .into_iter()
        .filter(|a| a.get("type") != Some(&json!("null")))
        .collect();
    match (rest.len(), rest.pop()) {
        (1, Some(Value::Object(only))) => {
            m.extend(only);
        }
        (_, Some(last)) => {
            rest.push(last);
            m.insert("anyOf".into(), Value::Array(rest));
        }
        _ => {}
    }
    Value::Object(m)
}

/// The JSON Schema (draft 2020-12) of one input event, as checked in at
/// `docs/event.schema.json`.
pub fn event_schema() -> Value {
    let mut g = SchemaSettings::draft2020_12()
        .for_deserialize()
        .into_generator();
    let mut root = g.root_schema_for::<Event>().to_value();
    if let Value::Object(m) = &mut root {
        m.insert("title".into(), json!("iofs-ledger event"));
        // A correction's replacement is an event: point it at the root instead of a copy.
        if let Some(Value::Object(defs)) = m.get_mut("$defs") {
            defs.remove("Event");
        }
    }
    retarget(&mut root, "#/$defs/Event", "#");
    root
}

fn retarget(v: &mut Value, from: &str, to: &str) {
    match v {
        Value::Object(m) => {
            if m.get("$ref").and_then(Value::as_str) == Some(from) {
                m.insert("$ref".into(), json!(to));
            }
            m.values_mut().for_each(|x| retarget(x, from, to));
        }
        Value::Array(a) => a.iter_mut().for_each(|x| retarget(x, from, to)),
        _ => {}
    }
}

/// The schema as the checked-in file holds it: pretty JSON and a newline.
pub fn event_schema_text() -> String {
    let mut s = serde_json::to_string_pretty(&event_schema()).unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_is_in_the_schema_once_with_its_own_fields() {
        let s = event_schema();
        let titles: Vec<&str> = s["oneOf"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["title"].as_str().unwrap())
            .collect();
        assert_eq!(titles.len(), 19, "{titles:?}");
        assert!(titles.contains(&"statute_signed") && titles.contains(&"correction"));
        let signed = s["oneOf"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["title"] == "statute_signed")
            .unwrap();
        assert_eq!(
            signed["required"],
            json!(["type", "source", "date", "party"])
        );
        assert_eq!(signed["additionalProperties"], json!(false));
    }

    /// A required field drops only the `null` alternative of its optional schema: one
    /// remaining alternative takes the field's place (its keys joined to the rest), several
    /// stay an `anyOf` in their order, and a schema without `anyOf` is left as it is.
    #[test]
    fn non_null_drops_only_the_null_alternative() {
        let a = json!({"$ref": "#/$defs/A"});
        let b = json!({"type": "string", "pattern": "^x$"});
        let none = json!({"type": "null"});
        assert_eq!(
            non_null(json!({"description": "d", "anyOf": [a.clone(), none.clone()]})),
            json!({"description": "d", "$ref": "#/$defs/A"})
        );
        assert_eq!(
            non_null(json!({"description": "d", "anyOf": [a.clone(), none, b.clone()]})),
            json!({"description": "d", "anyOf": [a, b.clone()]})
        );
        assert_eq!(non_null(b.clone()), b);
    }

    /// `retarget` points every `$ref` to `from`, at any depth in objects and arrays, at `to`,
    /// and leaves every other reference and value alone.
    #[test]
    fn retarget_rewrites_every_reference_to_the_one_target_and_nothing_else() {
        let mut v = json!({
            "$ref": "#/$defs/Event",
            "oneOf": [
                {"properties": {"replacement": {"$ref": "#/$defs/Event"}}},
                {"$ref": "#/$defs/Source"},
                [{"$ref": "#/$defs/Event"}]
            ],
            "title": "#/$defs/Event"
        });
        retarget(&mut v, "#/$defs/Event", "#");
        assert_eq!(
            v,
            json!({
                "$ref": "#",
                "oneOf": [
                    {"properties": {"replacement": {"$ref": "#"}}},
                    {"$ref": "#/$defs/Source"},
                    [{"$ref": "#"}]
                ],
                "title": "#/$defs/Event"
            })
        );
    }
}
