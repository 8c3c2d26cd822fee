//! The fast path of parsing: an event deserialized straight from its JSON text, without
//! building a `serde_json::Value` first.
//!
//! It handles the shape every stored body has (canonical JSON: `type` is the first key) and
//! gives up (`None`) on anything else, leaving the caller to run the full parser, which accepts
//! `type` anywhere and explains every refusal with its field. It refuses what the full parser
//! refuses — unknown and duplicate fields (serde's derived visitors and [`Common`] check them),
//! store fields, a missing `source`, the shape rules of [`Event::check_shape`] — so that it
//! never accepts an event the full parser would refuse; a property test holds it to that.

use std::fmt;

use serde::de::value::BorrowedStrDeserializer;
use serde::de::{self, DeserializeSeed, EnumAccess, MapAccess, VariantAccess, Visitor};
use serde::{Deserialize, Deserializer as _};

use super::{Event, Kind, Source};
use crate::date::EventDate;

/// Parses `text` when `type` is its first key; `None` when it is not, or when anything is
/// wrong (the full parser then says what).
pub(super) fn parse(text: &str) -> Option<Event> {
    let mut de = serde_json::Deserializer::from_str(text);
    let ev = (&mut de).deserialize_map(EventVisitor).ok()?;
    de.end().ok()?;
    if let Kind::Claim { value, .. } = &ev.kind {
        // A claim's value is free JSON, read here without the duplicate-key check.
        if value.is_object() || value.is_array() {
            return None;
        }
    }
    ev.check_shape().ok()?;
    Some(ev)
}

struct EventVisitor;

impl<'de> Visitor<'de> for EventVisitor {
    type Value = Event;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an event object whose first key is `type`")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Event, A::Error> {
        if map.next_key::<&'de str>()? != Some("type") {
            return Err(de::Error::custom("`type` is not the first key"));
        }
        let ty: &'de str = map.next_value()?;
        let mut common = Common::default();
        let kind = Kind::deserialize(Tagged {
            ty,
            rest: Rest {
                map: &mut map,
                common: &mut common,
            },
        })?;
        let Some(source) = common.source else {
            return Err(de::Error::missing_field("source"));
        };
        Ok(Event {
            kind,
            date: common.date,
            end_date: common.end_date,
            source,
            date_source: common.date_source,
            inferred: common.inferred,
            note: common.note,
        })
    }
}

/// The fields every event type has, set aside while the kind's own fields are read.
#[derive(Default)]
struct Common {
    date: Option<EventDate>,
    end_date: Option<EventDate>,
    source: Option<Source>,
    date_source: Option<Source>,
    inferred: Option<String>,
    note: Option<String>,
}

/// The rest of the event's map after `type`: the kind's own fields pass through, the common
/// ones are taken into [`Common`].
struct Rest<'a, A> {
    map: &'a mut A,
    common: &'a mut Common,
}

fn once<'de, T: de::Deserialize<'de>, A: MapAccess<'de>>(
    slot: &mut Option<T>,
    map: &mut A,
    name: &'static str,
) -> Result<(), A::Error> {
    if slot.is_some() {
        return Err(de::Error::duplicate_field(name));
    }
    match map.next_value::<Option<T>>()? {
        Some(v) => {
            *slot = Some(v);
            Ok(())
        }
        // The full parser reads a null as absent; leave such rare input to it.
        None => Err(de::Error::custom(format!("`{name}` is null"))),
    }
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Rest<'_, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        loop {
            let Some(key) = self.map.next_key::<&'de str>()? else {
                return Ok(None);
            };
            let c = &mut *self.common;
            match key {
                "date" => once(&mut c.date, self.map, "date")?,
                "end_date" => once(&mut c.end_date, self.map, "end_date")?,
                "source" => once(&mut c.source, self.map, "source")?,
                "date_source" => once(&mut c.date_source, self.map, "date_source")?,
                "inferred" => once(&mut c.inferred, self.map, "inferred")?,
                "note" => once(&mut c.note, self.map, "note")?,
                "type" => return Err(de::Error::duplicate_field("type")),
                _ => {
                    return seed
                        .deserialize(BorrowedStrDeserializer::<A::Error>::new(key))
                        .map(Some)
                }
            }
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        self.map.next_value_seed(seed)
    }
}

/// A deserializer that presents `{type, ...rest}` as the externally tagged enum `Kind`.
struct Tagged<'de, 'a, A> {
    ty: &'de str,
    rest: Rest<'a, A>,
}

impl<'de, A: MapAccess<'de>> de::Deserializer<'de> for Tagged<'de, '_, A> {
    type Error = A::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, A::Error> {
        Err(de::Error::custom("an event kind is an enum"))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        visitor.visit_enum(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct identifier
        ignored_any
    }
}

impl<'de, 'a, A: MapAccess<'de>> EnumAccess<'de> for Tagged<'de, 'a, A> {
    type Error = A::Error;
    type Variant = Rest<'a, A>;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Rest<'a, A>), A::Error> {
        let v = seed.deserialize(BorrowedStrDeserializer::<A::Error>::new(self.ty))?;
        Ok((v, self.rest))
    }
}

impl<'de, A: MapAccess<'de>> VariantAccess<'de> for Rest<'_, A> {
    type Error = A::Error;

    fn unit_variant(self) -> Result<(), A::Error> {
        Err(de::Error::custom("every event kind has fields"))
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, _: T) -> Result<T::Value, A::Error> {
        Err(de::Error::custom("every event kind has fields"))
    }

    fn tuple_variant<V: Visitor<'de>>(self, _: usize, _: V) -> Result<V::Value, A::Error> {
        Err(de::Error::custom("every event kind has fields"))
    }

    fn struct_variant<V: Visitor<'de>>(
        mut self,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        visitor.visit_map(&mut self)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::{parse_strict, Event};

    /// The full parser's verdict on `text`.
    fn full(text: &str) -> Option<Event> {
        match parse_strict(text) {
            Ok(serde_json::Value::Object(m)) => Event::from_object(m).ok(),
            _ => None,
        }
    }

    #[test]
    fn every_synthetic_event_takes_the_fast_path_unchanged() {
        for ev in crate::synth::events(3000, 11) {
            let text = ev.canonical_json();
            assert_eq!(super::parse(&text).as_ref(), Some(&ev), "{text}");
        }
    }

    #[test]
    fn the_fast_path_gives_up_where_the_full_parser_explains() {
        let src = r#""source":{"document":"d","quote":"q"}"#;
        for text in [
            // `type` not first: the full parser accepts it, the fast path leaves it.
            format!(r#"{{"party":"KAZ","type":"statute_signed","date":"2013",{src}}}"#),
            // Refused by both.
            format!(r#"{{"type":"statute_signed","party":"KAZ","date":"2013","seq":4,{src}}}"#),
            format!(
                r#"{{"type":"statute_signed","party":"KAZ","party":"SAU","date":"2013",{src}}}"#
            ),
            format!(
                r#"{{"type":"statute_signed","party":"KAZ","date":"2013","date":"2014",{src}}}"#
            ),
            format!(r#"{{"type":"statute_signed","party":"KAZ","date":"2013-02-29",{src}}}"#),
            format!(
                r#"{{"type":"meeting_held","organ":"general_assembly","session":0,"date":"2013",{src}}}"#
            ),
            r#"{"type":"statute_signed","party":"KAZ","date":"2013"}"#.to_string(),
            format!(r#"{{"type":"statute_signed","party":"KAZ",{src}}}"#),
            format!(r#"{{"type":"statute_signed","party":"KAZ","date":"2013",{src}}} x"#),
            format!(
                r#"{{"type":"claim","about":"member_count","value":{{"a":1,"a":2}},"date":"2013",{src}}}"#
            ),
        ] {
            assert_eq!(super::parse(&text), None, "{text}");
        }
    }

    fn canonical() -> impl Strategy<Value = String> {
        (0usize..400, any::<u64>()).prop_map(|(i, seed)| {
            crate::synth::events(i + 1, seed)
                .last()
                .map(|e| e.canonical_json())
                .unwrap_or_default()
        })
    }

    proptest! {
        /// The fast path never accepts what the full parser refuses, and never reads an event
        /// differently: for canonical events with any one byte replaced, removed or doubled,
        /// whenever the fast path gives an event, the full parser gives the same one.
        #[test]
        fn the_fast_path_accepts_nothing_the_full_parser_refuses(
            text in canonical(),
            at in any::<prop::sample::Index>(),
            byte in any::<u8>(),
            how in 0u8..3,
        ) {
            let mut bytes = text.into_bytes();
            let i = at.index(bytes.len().max(1)).min(bytes.len().saturating_sub(1));
            match how {
                0 => bytes[i] = byte,
                1 => { bytes.remove(i); }
                _ => bytes.insert(i, bytes[i]),
            }
            let Ok(text) = String::from_utf8(bytes) else { return Ok(()) };
            if let Some(fast) = super::parse(&text) {
                prop_assert_eq!(Some(fast), full(&text), "{}", text);
            }
        }
    }
}
