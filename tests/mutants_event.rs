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
