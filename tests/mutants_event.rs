//! Event parsing checked where mutation testing of `src/event/` looked (see
//! `docs/testing.md`, "Mutation testing").
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use iofs_ledger::event::{parse_line, Event, Location};

/// A claim's value with a duplicate key inside it (an object, or an array holding one) is
/// refused, whether `type` comes first (the shape the fast path reads) or not. (No claim takes
/// an object or array value today, so the shape rules refuse these too; this holds the
/// refusal if one ever does.)
#[test]
fn a_duplicate_key_inside_a_claims_value_is_refused_on_every_path() {
    let src = r#""source":{"document":"t.txt","quote":"A sentence."}"#;
    for value in [r#"{"a":1,"a":2}"#, r#"[{"a":1,"a":2}]"#] {
        let first = format!(
            r#"{{"type":"claim","date":"2015","about":"statement","value":{value},{src}}}"#
        );
        let later = format!(
            r#"{{"about":"statement","type":"claim","date":"2015","value":{value},{src}}}"#
        );
        for text in [&first, &later] {
            assert!(parse_line(Location::Line(1), text).is_err(), "{text}");
            assert!(Event::from_json(text).is_err(), "{text}");
        }
    }
}

/// A reader that yields `text` and then fails.
struct FailingAfter(std::io::Cursor<Vec<u8>>);

impl std::io::Read for FailingAfter {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self.0.read(buf)? {
            0 => Err(std::io::Error::other("the disk went away")),
            n => Ok(n),
        }
    }
}

/// An array input cut short by a read error is reported as that read error (so the command
/// says the input could not be read), not as malformed JSON, and no element is invented.
#[test]
fn a_read_error_inside_an_array_is_a_read_error_not_malformed_json() {
    let mut seen = Vec::new();
    let failed = iofs_ledger::event::lines::for_each_array_item(
        FailingAfter(std::io::Cursor::new(b"[".to_vec())),
        &mut |item| {
            seen.push(item.is_ok());
            true
        },
    );
    let e = failed.expect("the read error is returned");
    assert!(e.to_string().contains("the disk went away"), "{e}");
    assert!(seen.is_empty(), "{seen:?}");
}

/// Input that is JSON but not an array is refused as one error saying an array of events was
/// expected.
#[test]
fn an_object_where_an_array_belongs_is_refused_saying_an_array_is_expected() {
    let mut errors = Vec::new();
    let failed =
        iofs_ledger::event::lines::for_each_array_item(&b"{\"type\":\"claim\"}"[..], &mut |item| {
            if let Err(e) = item {
                errors.push(e.message);
            }
            true
        });
    assert!(failed.is_none());
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].contains("expected a JSON array of events"),
        "{errors:?}"
    );
}
