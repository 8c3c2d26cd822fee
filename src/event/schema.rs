//! The fields of every event type, read from the serde types that parse the format, so that
//! `record`, `template` and their help can never drift from the parser: there is no second
//! list to keep.
//!
//! - The `type` names are the variants [`Kind`]'s derived `Deserialize` declares, and each
//!   type's own fields are the fields it declares for that variant.
//! - A field's [`Shape`] is what its `Deserialize` asks of a probing deserializer (a string, a
//!   number, one of some names, a list, a record, any JSON value) and which sample strings it
//!   accepts (any text; a party code; a date).
//! - Whether a field is required is decided by the real parser ([`Event::from_object`]): a
//!   field is required when a complete sample event without it is refused for it.
//! - The fields every event shares (`date`, `source`, …) are parsed by [`Event::from_object`]
//!   by hand; [`COMMON`] lists them, and a destructuring of [`Event`] in this file fails to
//!   compile when the struct gains or loses a field.

use std::cell::RefCell;
use std::fmt;
use std::sync::OnceLock;

use serde::de::{self, DeserializeOwned, IntoDeserializer, Visitor};
use serde_json::{Map, Value};

use super::{Event, Kind, Source};
use crate::date::EventDate;

/// What a field holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// Free text.
    Text,
    /// A party: an OIC member state's code or an `unidentified:` placeholder.
    Party,
    /// A date: `YYYY`, `YYYY-MM`, `YYYY-MM-DD`, or bounds `{"not_before", "not_after"}`.
    Date,
    /// `true` or `false`.
    Bool,
    /// A non-negative integer.
    Number,
    /// One of these names.
    Choice(&'static [&'static str]),
    /// A list of values of a shape.
    List(Box<Shape>),
    /// A JSON object with these fields.
    Record(Vec<Field>),
    /// Any JSON value (a claim's `value`).
    Json,
    /// A complete event, as a JSON object (a correction's `replacement`).
    Event,
}

/// One field of an event or of a record inside one.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// Its name in the format.
    pub name: &'static str,
    /// What it holds.
    pub shape: Shape,
    /// Whether an event without it is refused.
    pub required: bool,
}

/// One event type and its fields, in canonical order: `date`, `end_date`, the type's own
/// fields, `source`, `date_source`, `inferred`, `note`.
#[derive(Debug, Clone, PartialEq)]
pub struct KindSpec {
    /// The `type` name.
    pub name: &'static str,
    /// Its fields (without `type`).
    pub fields: Vec<Field>,
    /// A complete event of this type: every field, each a placeholder
    /// ([`placeholder_note`] says which), that the parser accepts.
    pub template: Map<String, Value>,
}

/// The fields every event has, as [`Event::from_object`] reads them; `true` for those written
/// before the type's own fields in canonical order.
pub const COMMON: [(&str, bool); 6] = [
    ("date", true),
    ("end_date", true),
    ("source", false),
    ("date_source", false),
    ("inferred", false),
    ("note", false),
];

/// The Rust type of each common field: a change to [`Event`]'s fields fails to compile here,
/// which is where [`COMMON`] and [`common_shape`] must change with it.
#[allow(dead_code)]
fn common_fields_are_events_fields(e: Event) {
    let Event {
        kind: _,
        date,
        end_date,
        source,
        date_source,
        inferred,
        note,
    } = e;
    let _: Option<EventDate> = date;
    let _: Option<EventDate> = end_date;
    let _: Source = source;
    let _: Option<Source> = date_source;
    let _: Option<String> = inferred;
    let _: Option<String> = note;
}

fn common_shape(name: &str) -> Shape {
    match name {
        "date" | "end_date" => shape_of::<EventDate>(&[]),
        "source" | "date_source" => shape_of::<Source>(&[]),
        _ => shape_of::<String>(&[]),
    }
}

/// What the placeholders in a template are.
pub fn placeholder_note() -> &'static str {
    "every value is a placeholder to replace: texts read <field>, parties unidentified:edit-me, \
     dates 2000-01-01, numbers 1, choices the first allowed name, flags false, a target_sha256 \
     64 zeros"
}

/// Every event type, in the order `Kind` declares them.
pub fn kinds() -> &'static [KindSpec] {
    static KINDS: OnceLock<Vec<KindSpec>> = OnceLock::new();
    KINDS.get_or_init(build)
}

/// The type named `name`.
pub fn kind(name: &str) -> Option<&'static KindSpec> {
    kinds().iter().find(|k| k.name == name)
}

// ---------------------------------------------------------------------------------------
// Building the specs.

fn build() -> Vec<KindSpec> {
    let names = variants();
    // A correction's replacement is a complete event: the first world type's template.
    let mut specs: Vec<KindSpec> = Vec::new();
    let mut event_sample: Option<Value> = None;
    for name in names {
        let own: Vec<(&'static str, Shape)> = variant_fields(name)
            .into_iter()
            .map(|f| (f, shape_of::<Kind>(&[Step::Variant(name), Step::Field(f)])))
            .collect();
        let mut fields: Vec<(&'static str, Shape)> = Vec::new();
        for (c, before) in COMMON {
            if before {
                fields.push((c, common_shape(c)));
            }
        }
        fields.extend(own);
        for (c, before) in COMMON {
            if !before {
                fields.push((c, common_shape(c)));
            }
        }
        let template = template_for(name, &fields, event_sample.as_ref());
        let fields = fields
            .into_iter()
            .map(|(f, shape)| {
                let required = is_required(&template, f);
                let shape = nested_required(&template, f, shape);
                Field {
                    name: f,
                    shape,
                    required,
                }
            })
            .collect();
        let spec = KindSpec {
            name,
            fields,
            template,
        };
        if event_sample.is_none() && parses(&spec.template) {
            let mut t = spec.template.clone();
            t.shift_remove("end_date");
            event_sample = Some(Value::Object(t));
        }
        specs.push(spec);
    }
    specs
}

fn parses(obj: &Map<String, Value>) -> bool {
    parse_filled(obj.clone()).is_ok()
}

/// Parses a template with its placeholders filled in (the parser refuses placeholders, so an
/// unedited template never reaches the log; the shapes are what is derived here).
fn parse_filled(obj: Map<String, Value>) -> Result<Event, (Option<String>, String)> {
    Event::from_object(filled(obj))
}

/// A template with every placeholder replaced by a value the parser takes (`<name>` by `name`,
/// the placeholder party by `unidentified:sample`): a sample event of the type.
pub fn filled(obj: Map<String, Value>) -> Map<String, Value> {
    fn fill(v: &mut Value) {
        match v {
            Value::String(s) if s == crate::event::PLACEHOLDER_PARTY => {
                *s = "unidentified:sample".into();
            }
            Value::String(s) if crate::event::is_placeholder(s) => {
                *s = s.trim_matches(['<', '>']).to_string();
            }
            Value::Array(a) => a.iter_mut().for_each(fill),
            Value::Object(m) => m.values_mut().for_each(fill),
            _ => {}
        }
    }
    let mut v = Value::Object(obj);
    fill(&mut v);
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// A field is required when the template without it is refused for it.
fn is_required(template: &Map<String, Value>, field: &str) -> bool {
    let mut t = template.clone();
    t.remove(field);
    match parse_filled(t) {
        Ok(_) => false,
        Err((f, m)) => f.as_deref() == Some(field) || m.contains(&format!("field `{field}`")),
    }
}

/// Marks which fields of a record (or of a list's records) are required: a record without
/// the field is refused naming it as missing.
fn nested_required(template: &Map<String, Value>, field: &str, shape: Shape) -> Shape {
    let mark = |fields: Vec<Field>,
                take: &dyn Fn(&mut Value) -> Option<&mut Map<String, Value>>| {
        fields
            .into_iter()
            .map(|mut sub| {
                let mut t = Value::Object(template.clone());
                let missing = match take(&mut t) {
                    Some(rec) => {
                        // Keep the record complete but for this field, then check the serde
                        // error for it (other rules, such as "one of", may refuse too).
                        fill_record(rec, &sub);
                        rec.remove(sub.name);
                        match &t {
                            Value::Object(m) => match parse_filled(m.clone()) {
                                Ok(_) => false,
                                Err((_, msg)) => {
                                    msg.contains(&format!("missing field `{}`", sub.name))
                                }
                            },
                            _ => false,
                        }
                    }
                    None => false,
                };
                sub.required = missing;
                sub
            })
            .collect::<Vec<_>>()
    };
    match shape {
        Shape::Record(fields) => Shape::Record(mark(fields, &|t: &mut Value| {
            t.get_mut(field).and_then(Value::as_object_mut)
        })),
        Shape::List(inner) => match *inner {
            Shape::Record(fields) => {
                Shape::List(Box::new(Shape::Record(mark(fields, &|t: &mut Value| {
                    t.get_mut(field)
                        .and_then(|v| v.get_mut(0))
                        .and_then(Value::as_object_mut)
                }))))
            }
            other => Shape::List(Box::new(other)),
        },
        other => other,
    }
}

fn fill_record(rec: &mut Map<String, Value>, sub: &Field) {
    if !rec.contains_key(sub.name) {
        rec.insert(sub.name.to_string(), sample(sub.name, &sub.shape, None));
    }
}

/// A placeholder value of a shape (see [`placeholder_note`]).
fn sample(name: &str, shape: &Shape, event: Option<&Value>) -> Value {
    match shape {
        // A hash is checked for its form: the placeholder is one of the right form.
        Shape::Text if name == "target_sha256" => Value::String("0".repeat(64)),
        Shape::Text => Value::String(format!("<{name}>")),
        Shape::Party => Value::String("unidentified:edit-me".into()),
        Shape::Date => Value::String("2000-01-01".into()),
        Shape::Bool => Value::Bool(false),
        Shape::Number => Value::from(1u64),
        Shape::Choice(names) => names
            .first()
            .map_or(Value::Null, |n| Value::String((*n).into())),
        Shape::List(inner) => Value::Array(vec![sample(name, inner, event)]),
        Shape::Record(fields) => Value::Object(
            fields
                .iter()
                .map(|f| (f.name.to_string(), sample(f.name, &f.shape, event)))
                .collect(),
        ),
        Shape::Json => Value::Null,
        Shape::Event => event.cloned().unwrap_or(Value::Null),
    }
}

/// Values to try, in order, where a complete sample is refused by a rule across fields
/// (one of two fields; a claim's value that depends on `about`).
fn alternatives(name: &str, shape: &Shape, event: Option<&Value>) -> Vec<Value> {
    match shape {
        Shape::Json => vec![
            Value::from(1u64),
            Value::Bool(false),
            Value::String(format!("<{name}>")),
            Value::Null,
        ],
        Shape::List(inner) => match inner.as_ref() {
            Shape::Record(fields) => {
                // The complete record, then without one field at a time (last first), for
                // records that take one of two fields.
                let full = sample(name, inner, event);
                let mut out = vec![Value::Array(vec![full.clone()])];
                for drop in fields.iter().rev() {
                    let mut rec = full.as_object().cloned().unwrap_or_default();
                    rec.remove(drop.name);
                    out.push(Value::Array(vec![Value::Object(rec)]));
                }
                out
            }
            _ => vec![sample(name, shape, event)],
        },
        _ => vec![sample(name, shape, event)],
    }
}

fn template_for(
    name: &'static str,
    fields: &[(&'static str, Shape)],
    event: Option<&Value>,
) -> Map<String, Value> {
    let mut t = Map::new();
    t.insert("type".into(), Value::String(name.into()));
    for (f, shape) in fields {
        t.insert((*f).to_string(), sample(f, shape, event));
    }
    // Where a rule across fields refuses the plain samples, try each field's alternatives.
    for (f, shape) in fields {
        if parses(&t) {
            break;
        }
        let alts = alternatives(f, shape, event);
        if alts.len() < 2 {
            continue;
        }
        for v in alts {
            t.insert((*f).to_string(), v);
            if parses(&t) {
                break;
            }
        }
    }
    t
}

// ---------------------------------------------------------------------------------------
// The probing deserializer.

#[derive(Debug, Clone, Copy)]
enum Step {
    /// Select this variant of an enum (the root `Kind`).
    Variant(&'static str),
    /// Go into this field of a struct or struct variant.
    Field(&'static str),
    /// Go into the element of a sequence.
    Elem,
}

/// What a deserializer was asked for at the end of a path.
#[derive(Debug, Clone, PartialEq)]
enum Asked {
    Nothing,
    Bool,
    Number,
    Str,
    Any,
    Seq,
    Struct(&'static [&'static str]),
    Enum(&'static [&'static str]),
    Map,
}

#[derive(Debug, Default)]
struct Log {
    variant_fields: Vec<&'static str>,
    asked: Option<AskedAt>,
    /// Whether the value at the end of the path was accepted.
    accepted: Option<bool>,
}

#[derive(Debug)]
struct AskedAt(Asked);

#[derive(Debug)]
struct ProbeError(String);

impl fmt::Display for ProbeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ProbeError {}

impl de::Error for ProbeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        ProbeError(msg.to_string())
    }
}

fn stop() -> ProbeError {
    ProbeError("probe".into())
}

#[derive(Clone, Copy)]
struct Probe<'a> {
    path: &'a [Step],
    sample: &'a str,
    log: &'a RefCell<Log>,
}

impl Probe<'_> {
    fn ask(&self, a: Asked) {
        if self.path.is_empty() {
            let mut log = self.log.borrow_mut();
            if log.asked.is_none() {
                log.asked = Some(AskedAt(a));
            }
        }
    }
    fn at_end(&self) -> bool {
        self.path.is_empty()
    }
}

impl<'de> de::Deserializer<'de> for Probe<'_> {
    type Error = ProbeError;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ProbeError> {
        self.ask(Asked::Any);
        if self.at_end() {
            v.visit_str(self.sample)
        } else {
            Err(stop())
        }
    }
    fn deserialize_bool<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ProbeError> {
        self.ask(Asked::Bool);
        v.visit_bool(false)
    }
    fn deserialize_u8<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ProbeError> {
        self.deserialize_u64(v)
    }
    fn deserialize_u16<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ProbeError> {
        self.deserialize_u64(v)
    }
    fn deserialize_u32<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ProbeError> {
        self.deserialize_u64(v)
    }
    fn deserialize_u64<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ProbeError> {
        self.ask(Asked::Number);
        v.visit_u64(1)
    }
    fn deserialize_i8<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ProbeError> {
        self.deserialize_u64(v)
    }
    fn deserialize_i16<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ProbeError> {
        self.deserialize_u64(v)
    }
    fn deserialize_i32<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ProbeError> {
        self.deserialize_u64(v)
    }
    fn deserialize_i64<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ProbeError> {
        self.deserialize_u64(v)
    }
    fn deserialize_str<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ProbeError> {
        self.ask(Asked::Str);
        v.visit_str(self.sample)
    }
    fn deserialize_string<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ProbeError> {
        self.deserialize_str(v)
    }
    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ProbeError> {
        v.visit_some(self)
    }
    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        v: V,
    ) -> Result<V::Value, ProbeError> {
        v.visit_newtype_struct(self)
    }
    fn deserialize_seq<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ProbeError> {
        self.ask(Asked::Seq);
        match self.path.split_first() {
            Some((Step::Elem, rest)) => v.visit_seq(One {
                probe: Probe { path: rest, ..self },
                key: None,
                done: false,
            }),
            _ => Err(stop()),
        }
    }
    fn deserialize_map<V: Visitor<'de>>(self, _v: V) -> Result<V::Value, ProbeError> {
        self.ask(Asked::Map);
        Err(stop())
    }
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, ProbeError> {
        self.ask(Asked::Struct(fields));
        match self.path.split_first() {
            Some((Step::Field(f), rest)) => v.visit_map(One {
                probe: Probe { path: rest, ..self },
                key: Some(f),
                done: false,
            }),
            _ => Err(stop()),
        }
    }
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, ProbeError> {
        self.ask(Asked::Enum(variants));
        match self.path.split_first() {
            Some((Step::Variant(name), rest)) => v.visit_enum(Variant {
                name,
                probe: Probe { path: rest, ..self },
            }),
            Some(_) => Err(stop()),
            // A choice at the end of the path: its first name.
            None => match variants.first() {
                Some(first) => v.visit_enum((*first).into_deserializer()),
                None => Err(stop()),
            },
        }
    }

    serde::forward_to_deserialize_any! {
        f32 f64 char bytes byte_buf unit unit_struct tuple tuple_struct identifier ignored_any
        i128 u128
    }
}

/// A map or sequence of one entry whose value is probed further.
struct One<'a> {
    probe: Probe<'a>,
    key: Option<&'a &'static str>,
    done: bool,
}

impl One<'_> {
    fn value<'de, T: de::DeserializeSeed<'de>>(&self, seed: T) -> Result<T::Value, ProbeError> {
        let r = seed.deserialize(self.probe);
        if self.probe.at_end() {
            let mut log = self.probe.log.borrow_mut();
            if log.accepted.is_none() {
                log.accepted = Some(r.is_ok());
            }
        }
        r
    }
}

impl<'de> de::MapAccess<'de> for One<'_> {
    type Error = ProbeError;
    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, ProbeError> {
        if self.done {
            return Ok(None);
        }
        self.done = true;
        let key: &str = self.key.map_or("", |k| k);
        seed.deserialize(key.into_deserializer()).map(Some)
    }
    fn next_value_seed<T: de::DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<T::Value, ProbeError> {
        self.value(seed)
    }
}

impl<'de> de::SeqAccess<'de> for One<'_> {
    type Error = ProbeError;
    fn next_element_seed<T: de::DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, ProbeError> {
        if self.done {
            return Ok(None);
        }
        self.done = true;
        self.value(seed).map(Some)
    }
}

struct Variant<'a> {
    name: &'a &'static str,
    probe: Probe<'a>,
}

impl<'de, 'a> de::EnumAccess<'de> for Variant<'a> {
    type Error = ProbeError;
    type Variant = Variant<'a>;
    fn variant_seed<V: de::DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Variant<'a>), ProbeError> {
        let name: &str = self.name;
        let v = seed.deserialize(name.into_deserializer())?;
        Ok((v, self))
    }
}

impl<'de> de::VariantAccess<'de> for Variant<'_> {
    type Error = ProbeError;
    fn unit_variant(self) -> Result<(), ProbeError> {
        Err(stop())
    }
    fn newtype_variant_seed<T: de::DeserializeSeed<'de>>(
        self,
        _seed: T,
    ) -> Result<T::Value, ProbeError> {
        Err(stop())
    }
    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, _v: V) -> Result<V::Value, ProbeError> {
        Err(stop())
    }
    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, ProbeError> {
        self.probe.log.borrow_mut().variant_fields = fields.to_vec();
        match self.probe.path.split_first() {
            Some((Step::Field(f), rest)) => v.visit_map(One {
                probe: Probe {
                    path: rest,
                    ..self.probe
                },
                key: Some(f),
                done: false,
            }),
            _ => Err(stop()),
        }
    }
}

fn run<T: DeserializeOwned>(path: &[Step], sample: &str) -> Log {
    let log = RefCell::new(Log::default());
    let _ = T::deserialize(Probe {
        path,
        sample,
        log: &log,
    });
    log.into_inner()
}

/// The `type` names, from `Kind`'s `Deserialize`.
fn variants() -> Vec<&'static str> {
    match run::<Kind>(&[], "").asked {
        Some(AskedAt(Asked::Enum(names))) => names.to_vec(),
        _ => Vec::new(),
    }
}

/// A variant's own fields, from `Kind`'s `Deserialize`.
fn variant_fields(name: &'static str) -> Vec<&'static str> {
    run::<Kind>(&[Step::Variant(name)], "").variant_fields
}

/// Junk that no validated string accepts.
const JUNK: &str = "\u{1}";

/// The shape of the value at `path` inside `T`.
fn shape_of<T: DeserializeOwned>(path: &[Step]) -> Shape {
    let asked = |sample: &str| {
        let log = run::<T>(path, sample);
        (
            log.asked.map_or(Asked::Nothing, |a| a.0),
            // At the root (no field or element around the value) acceptance is the whole
            // parse's outcome.
            log.accepted,
        )
    };
    let accepts = |sample: &str| {
        if path.is_empty() {
            root_accepts::<T>(sample)
        } else {
            asked(sample).1 == Some(true)
        }
    };
    let (a, _) = asked(JUNK);
    let deeper = |step: Step| {
        let mut p = path.to_vec();
        p.push(step);
        p
    };
    match a {
        Asked::Bool => Shape::Bool,
        Asked::Number => Shape::Number,
        Asked::Enum(names) => Shape::Choice(names),
        Asked::Seq => Shape::List(Box::new(shape_of::<T>(&deeper(Step::Elem)))),
        Asked::Struct(fields) => Shape::Record(
            fields
                .iter()
                .map(|f| Field {
                    name: f,
                    shape: shape_of::<T>(&deeper(Step::Field(f))),
                    required: false,
                })
                .collect(),
        ),
        Asked::Str => {
            if accepts(JUNK) {
                Shape::Text
            } else if accepts("KAZ") {
                Shape::Party
            } else {
                Shape::Text
            }
        }
        Asked::Any => {
            if accepts(JUNK) {
                Shape::Json
            } else if accepts("2020-01-02") {
                Shape::Date
            } else {
                Shape::Event
            }
        }
        Asked::Map | Asked::Nothing => Shape::Json,
    }
}

fn root_accepts<T: DeserializeOwned>(sample: &str) -> bool {
    let log = RefCell::new(Log::default());
    T::deserialize(Probe {
        path: &[],
        sample,
        log: &log,
    })
    .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_traced_with_its_own_fields() {
        let names: Vec<_> = kinds().iter().map(|k| k.name).collect();
        assert_eq!(names.len(), 19, "{names:?}");
        let spec = kind("board_elected").unwrap();
        let seats = spec.fields.iter().find(|f| f.name == "seats").unwrap();
        match &seats.shape {
            Shape::List(inner) => match inner.as_ref() {
                Shape::Record(fields) => {
                    let role = fields.iter().find(|f| f.name == "role").unwrap();
                    assert!(role.required);
                    assert!(matches!(role.shape, Shape::Choice(_)));
                    let party = fields.iter().find(|f| f.name == "party").unwrap();
                    assert_eq!(party.shape, Shape::Party);
                    assert!(!party.required);
                }
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        }
        let signed = kind("statute_signed").unwrap();
        let f = |n: &str| signed.fields.iter().find(|f| f.name == n).unwrap();
        assert_eq!(f("party").shape, Shape::Party);
        assert!(f("party").required);
        assert_eq!(f("date").shape, Shape::Date);
        assert!(f("date").required);
        assert!(f("source").required);
        assert!(!f("note").required);
        let claim = kind("claim").unwrap();
        let value = claim.fields.iter().find(|f| f.name == "value").unwrap();
        assert_eq!(value.shape, Shape::Json);
        let c = kind("correction").unwrap();
        let r = c.fields.iter().find(|f| f.name == "replacement").unwrap();
        assert_eq!(r.shape, Shape::Event);
        assert!(!c.fields.iter().find(|f| f.name == "date").unwrap().required);
        let m = kind("meeting_held").unwrap();
        let ex = m.fields.iter().find(|f| f.name == "extraordinary").unwrap();
        assert_eq!(ex.shape, Shape::Bool);
        assert!(!ex.required);
        let s = m.fields.iter().find(|f| f.name == "session").unwrap();
        assert_eq!(s.shape, Shape::Number);
    }

    /// Every template, its placeholders filled in, parses, and its canonical JSON holds every
    /// field it lists (so the specs name exactly the fields the parser and the canonical writer
    /// know); left unfilled, it is refused as a template (so it never reaches the log).
    #[test]
    fn every_template_parses_and_names_every_field_the_canonical_writer_writes() {
        for k in kinds() {
            let refused = Event::from_object(k.template.clone()).unwrap_err();
            assert!(refused.1.contains("placeholder"), "{}: {refused:?}", k.name);
            let ev = parse_filled(k.template.clone())
                .unwrap_or_else(|e| panic!("{}: {e:?} {:?}", k.name, k.template));
            let canon: Value = serde_json::from_str(&ev.canonical_json()).unwrap();
            let written: Vec<&str> = canon
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .filter(|k| *k != "type")
                .collect();
            let listed: Vec<&str> = k.fields.iter().map(|f| f.name).collect();
            // Flags default to false and are not written; everything else is.
            let listed_written: Vec<&str> = k
                .fields
                .iter()
                .filter(|f| f.shape != Shape::Bool)
                .map(|f| f.name)
                .collect();
            assert_eq!(written, listed_written, "{}: listed {listed:?}", k.name);
        }
    }

    #[test]
    fn a_field_the_specs_do_not_list_is_refused_by_the_parser() {
        for k in kinds() {
            let mut t = k.template.clone();
            t.insert("not_a_field".into(), Value::from(1));
            assert!(Event::from_object(t).is_err(), "{}", k.name);
        }
    }
}
