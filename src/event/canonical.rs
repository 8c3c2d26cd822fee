//! The canonical form of an event, serialized straight to text.
//!
//! One flat JSON object, keys in this order: `type`, `date`, `end_date`, the kind's own fields
//! (in their declaration order, absent options left out), `source`, `date_source`, `inferred`,
//! `note`. Stored bodies and their hashes depend on these bytes: never change the order or the
//! formatting (a test pins them against the built-in history's stored form).
//!
//! The kind's fields are spliced into the outer object by [`FieldsOf`], a serializer that accepts
//! only a struct variant and forwards each of its fields as an entry of the outer map.

use serde::ser::{self, Impossible, Serialize, SerializeMap, SerializeStructVariant, Serializer};

use super::Event;

/// Serializes `ev` as its canonical flat object.
pub(super) fn serialize<S: Serializer>(ev: &Event, s: S) -> Result<S::Ok, S::Error> {
    let mut m = s.serialize_map(None)?;
    m.serialize_entry("type", ev.kind.type_name())?;
    if let Some(d) = &ev.date {
        m.serialize_entry("date", d)?;
    }
    if let Some(d) = &ev.end_date {
        m.serialize_entry("end_date", d)?;
    }
    ev.kind.serialize(FieldsOf(&mut m))?;
    m.serialize_entry("source", &ev.source)?;
    if let Some(d) = &ev.date_source {
        m.serialize_entry("date_source", d)?;
    }
    if let Some(d) = &ev.inferred {
        m.serialize_entry("inferred", d)?;
    }
    if let Some(d) = &ev.note {
        m.serialize_entry("note", d)?;
    }
    m.end()
}

/// Forwards the fields of a struct variant to the map `M`.
struct FieldsOf<'a, M>(&'a mut M);

fn only_struct_variants<E: ser::Error>() -> E {
    E::custom("an event kind serializes as a struct variant")
}

impl<M: SerializeMap> SerializeStructVariant for FieldsOf<'_, M> {
    type Ok = ();
    type Error = M::Error;

    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), M::Error> {
        self.0.serialize_entry(key, value)
    }

    fn end(self) -> Result<(), M::Error> {
        Ok(())
    }
}

impl<'a, M: SerializeMap> Serializer for FieldsOf<'a, M> {
    type Ok = ();
    type Error = M::Error;
    type SerializeSeq = Impossible<(), M::Error>;
    type SerializeTuple = Impossible<(), M::Error>;
    type SerializeTupleStruct = Impossible<(), M::Error>;
    type SerializeTupleVariant = Impossible<(), M::Error>;
    type SerializeMap = Impossible<(), M::Error>;
    type SerializeStruct = Impossible<(), M::Error>;
    type SerializeStructVariant = Self;

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self, M::Error> {
        Ok(self)
    }

    fn serialize_bool(self, _: bool) -> Result<(), M::Error> {
        Err(only_struct_variants())
    }
    fn serialize_i8(self, _: i8) -> Result<(), M::Error> {
        Err(only_struct_variants())
    }
    fn serialize_i16(self, _: i16) -> Result<(), M::Error> {
        Err(only_struct_variants())
    }
    fn serialize_i32(self, _: i32) -> Result<(), M::Error> {
        Err(only_struct_variants())
    }
    fn serialize_i64(self, _: i64) -> Result<(), M::Error> {
        Err(only_struct_variants())
    }
    fn serialize_u8(self, _: u8) -> Result<(), M::Error> {
        Err(only_struct_variants())
    }
    fn serialize_u16(self, _: u16) -> Result<(), M::Error> {
        Err(only_struct_variants())
    }
    fn serialize_u32(self, _: u32) -> Result<(), M::Error> {
        Err(only_struct_variants())
    }
    fn serialize_u64(self, _: u64) -> Result<(), M::Error> {
        Err(only_struct_variants())
    }
    fn serialize_f32(self, _: f32) -> Result<(), M::Error> {
        Err(only_struct_variants())
    }
    fn serialize_f64(self, _: f64) -> Result<(), M::Error> {
        Err(only_struct_variants())
    }
    fn serialize_char(self, _: char) -> Result<(), M::Error> {
        Err(only_struct_variants())
    }
    fn serialize_str(self, _: &str) -> Result<(), M::Error> {
        Err(only_struct_variants())
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<(), M::Error> {
        Err(only_struct_variants())
    }
    fn serialize_none(self) -> Result<(), M::Error> {
        Err(only_struct_variants())
    }
    fn serialize_some<T: ?Sized + Serialize>(self, _: &T) -> Result<(), M::Error> {
        Err(only_struct_variants())
    }
    fn serialize_unit(self) -> Result<(), M::Error> {
        Err(only_struct_variants())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), M::Error> {
        Err(only_struct_variants())
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
    ) -> Result<(), M::Error> {
        Err(only_struct_variants())
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: &T,
    ) -> Result<(), M::Error> {
        Err(only_struct_variants())
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), M::Error> {
        Err(only_struct_variants())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, M::Error> {
        Err(only_struct_variants())
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, M::Error> {
        Err(only_struct_variants())
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, M::Error> {
        Err(only_struct_variants())
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, M::Error> {
        Err(only_struct_variants())
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, M::Error> {
        Err(only_struct_variants())
    }
    fn serialize_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStruct, M::Error> {
        Err(only_struct_variants())
    }
}

#[cfg(test)]
mod tests {
    use super::super::Event;

    /// The canonical text through the `serde_json::Value` route the format was defined by.
    fn via_value(ev: &Event) -> String {
        ev.to_value().to_string()
    }

    #[test]
    fn direct_serialization_gives_the_same_bytes_as_the_value_route() {
        let builtin = crate::event::parse_batch(crate::history::BUILTIN_HISTORY)
            .unwrap_or_else(|e| panic!("{e:?}"));
        for (_, ev) in builtin {
            assert_eq!(ev.canonical_json(), via_value(&ev));
        }
        for ev in crate::synth::events(3000, 5) {
            assert_eq!(ev.canonical_json(), via_value(&ev));
        }
    }
}
