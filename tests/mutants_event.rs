//! Event parsing checked where mutation testing of `src/event/` looked (see
//! `docs/testing.md`, "Mutation testing").
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use iofs_ledger::date::Day;
use iofs_ledger::event::{
    is_blank, is_invisible, parse_batch, parse_line, Event, Location, Organ, ParseError, Source,
    MAX_COUNT, MAX_SEQ, MAX_SESSION,
};

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

/// The source of every event below: a document and a sentence.
const SRC: &str = r#""source":{"document":"d.txt","quote":"A sentence."}"#;

/// An input line: `fields` and [`SRC`].
fn line(fields: &str) -> String {
    format!("{{{fields},{SRC}}}")
}

/// The event `text` parses to, on both paths (a line, and an array element, which skips the
/// fast path).
fn accepted(text: &str) -> Event {
    let ev = parse_line(Location::Line(1), text)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .1;
    let batch = parse_batch(&format!("[{text}]")).unwrap_or_else(|e| panic!("{text}: {e:?}"));
    assert_eq!(batch.len(), 1, "{text}");
    assert_eq!(batch[0].1, ev, "{text}");
    ev
}

/// `text` is refused on both paths, naming `field`; the error of the line path.
fn refused_naming(text: &str, field: &str) -> ParseError {
    let e = match parse_line(Location::Line(1), text) {
        Ok((_, ev)) => panic!("accepted as {ev:?}: {text}"),
        Err(e) => e,
    };
    assert_eq!(e.field.as_deref(), Some(field), "{text}: {}", e.message);
    let errors = parse_batch(&format!("[{text}]")).expect_err(text);
    assert_eq!(errors.len(), 1, "{text}");
    assert_eq!(
        errors[0].field.as_deref(),
        Some(field),
        "{text}: {errors:?}"
    );
    e
}

/// A source is cited by its document when it names one, else by its URL (what `history`, the
/// report and the audit print as the source).
#[test]
fn a_source_is_cited_by_its_document_or_else_its_url() {
    let both = Source {
        document: Some("statute.pdf".into()),
        url: Some("https://example.org/statute".into()),
        quote: "A sentence.".into(),
    };
    assert_eq!(both.citation(), "statute.pdf");
    let url = Source {
        document: None,
        ..both.clone()
    };
    assert_eq!(url.citation(), "https://example.org/statute");
    let document = Source {
        url: None,
        ..both.clone()
    };
    assert_eq!(document.citation(), "statute.pdf");
}

/// Each organ has its own human name (what the report and the CLI print), distinct from its
/// snake_case name in the format.
#[test]
fn each_organ_has_its_human_name() {
    for (organ, title) in [
        (Organ::GeneralAssembly, "General Assembly"),
        (Organ::ExecutiveBoard, "Executive Board"),
        (
            Organ::CouncilOfForeignMinisters,
            "Council of Foreign Ministers",
        ),
        (Organ::MinisterialConference, "Ministerial Conference"),
        (
            Organ::IntergovernmentalExpertsMeeting,
            "Intergovernmental Experts Meeting",
        ),
        (
            Organ::WorldIslamicEconomicForum,
            "World Islamic Economic Forum",
        ),
        (Organ::UnOicGeneralMeeting, "UN-OIC General Meeting"),
    ] {
        assert_eq!(organ.title(), title);
    }
}

/// The parties an event names (what `history PARTY` finds it by): a proposal's proposer, the
/// parties holding a board's seats (not an office), a claim's party, a correction's
/// replacement's parties; none when the optional party is absent.
#[test]
fn an_event_names_the_parties_its_fields_name() {
    let parties = |text: &str| -> Vec<String> {
        accepted(text)
            .kind
            .parties()
            .into_iter()
            .map(|p| p.code().to_string())
            .collect()
    };
    assert_eq!(
        parties(&line(
            r#""type":"proposal_made","date":"2005","description":"A food security organ.","proposer":"KAZ""#
        )),
        ["KAZ"]
    );
    assert!(parties(&line(
        r#""type":"proposal_made","date":"2005","description":"A food security organ.""#
    ))
    .is_empty());
    assert_eq!(
        parties(&line(
            r#""type":"meeting_held","date":"2018","organ":"general_assembly","host":"KAZ""#
        )),
        ["KAZ"]
    );
    assert_eq!(
        parties(&line(
            r#""type":"board_elected","date":"2018","organ":"executive_board","seats":[{"party":"KAZ","role":"chair"},{"office":"director_general","role":"member"},{"party":"SAU","role":"member"}]"#
        )),
        ["KAZ", "SAU"]
    );
    assert_eq!(
        parties(&line(
            r#""type":"claim","date":"2018","about":"signatory_ordinal","value":3,"party":"SAU""#
        )),
        ["SAU"]
    );
    assert!(parties(&line(
        r#""type":"claim","date":"2018","about":"member_count","value":3"#
    ))
    .is_empty());
    assert_eq!(
        parties(&line(&format!(
            r#""type":"correction","corrects":2,"reason":"The party was misread.","replacement":{}"#,
            line(r#""type":"statute_signed","date":"2014","party":"TUR""#)
        ))),
        ["TUR"]
    );
}

/// `template`'s placeholder party is refused wherever a party goes, naming the field it is in:
/// `proposer`, `host`, `seats`, a claim's `party`.
#[test]
fn the_placeholder_party_is_refused_naming_the_field_it_is_in() {
    for (fields, field) in [
        (
            r#""type":"proposal_made","date":"2005","description":"A food security organ.","proposer":"unidentified:edit-me""#,
            "proposer",
        ),
        (
            r#""type":"meeting_held","date":"2018","organ":"general_assembly","host":"unidentified:edit-me""#,
            "host",
        ),
        (
            r#""type":"board_elected","date":"2018","organ":"executive_board","seats":[{"party":"KAZ","role":"chair"},{"party":"unidentified:edit-me","role":"member"}]"#,
            "seats",
        ),
        (
            r#""type":"claim","date":"2018","about":"signatory_ordinal","value":3,"party":"unidentified:edit-me""#,
            "party",
        ),
    ] {
        let e = refused_naming(&line(fields), field);
        assert!(e.message.contains("placeholder"), "{}", e.message);
    }
}

/// A kind's missing required field is refused naming that field (serde's message names it in
/// backquotes, and the field is read from there).
#[test]
fn a_missing_field_of_a_kind_is_refused_naming_it() {
    for (fields, field) in [
        (r#""type":"statute_signed","date":"2013""#, "party"),
        (r#""type":"meeting_held","date":"2013""#, "organ"),
        (
            r#""type":"officer_appointed","date":"2013","office":"director_general""#,
            "person",
        ),
        (r#""type":"retraction","retracts":2"#, "reason"),
    ] {
        let e = refused_naming(&line(fields), field);
        assert!(e.message.contains("missing field"), "{}", e.message);
    }
}

/// A text that shows nothing is blank: only spaces, only control characters, only format or
/// filler characters (zero-width space, byte order mark, Hangul filler), or a mix; one visible
/// character makes it not blank. Such a text is refused wherever a text goes.
#[test]
fn a_text_of_spaces_controls_or_invisible_characters_is_blank_and_refused() {
    for blank in [
        "",
        "   ",
        "\t\n",
        "\u{0001}\u{007f}",
        "\u{200B}\u{200B}",
        "\u{FEFF}",
        "\u{3164}",
        " \u{0001}\u{200B}",
    ] {
        assert!(is_blank(blank), "{blank:?}");
        let quoted = serde_json::to_string(blank).unwrap();
        refused_naming(
            &line(&format!(
                r#""type":"proposal_made","date":"2005","description":{quoted}"#
            )),
            "description",
        );
    }
    for c in [' ', '\u{0001}', '\u{200B}', '\u{FEFF}'] {
        assert!(is_invisible(c), "{c:?}");
    }
    for shown in ["a", " a ", "\u{200B}a", "\u{0001}."] {
        assert!(!is_blank(shown), "{shown:?}");
    }
    assert!(!is_invisible('a'));
}

/// `target_sha256`, when given, is exactly 64 lowercase hex digits, on a retraction and on a
/// correction: 63 or 65 digits, an upper-case digit or a non-hex letter are refused naming it.
#[test]
fn target_sha256_is_sixty_four_lowercase_hex_digits() {
    let good = "0123456789abcdef".repeat(4);
    let correction = |sha: &str| {
        line(&format!(
            r#""type":"correction","corrects":2,"reason":"Misread.","target_sha256":"{sha}","replacement":{}"#,
            line(r#""type":"statute_signed","date":"2014","party":"TUR""#)
        ))
    };
    let retraction = |sha: &str| {
        line(&format!(
            r#""type":"retraction","retracts":2,"reason":"Misread.","target_sha256":"{sha}""#
        ))
    };
    for make in [&correction as &dyn Fn(&str) -> String, &retraction] {
        accepted(&make(&good));
        for bad in [
            good[..63].to_string(),
            format!("{good}0"),
            good.replacen('a', "A", 1),
            good.replacen('a', "g", 1),
        ] {
            refused_naming(&make(&bad), "target_sha256");
        }
    }
}

/// A source needs a `document` or a `url` (`source` and `date_source` alike), and a quote that
/// says something; each text of it is held to the text rule under its own name.
#[test]
fn a_source_needs_a_document_or_url_and_a_quote() {
    let base = r#""type":"statute_adopted","date":"2013""#;
    for (source, field) in [
        (r#"{"quote":"A sentence."}"#, "source"),
        (
            r#"{"document":" ","quote":"A sentence."}"#,
            "source.document",
        ),
        (r#"{"url":"<url>","quote":"A sentence."}"#, "source.url"),
        (r#"{"document":"d.txt","quote":" "}"#, "source"),
        (r#"{"document":"d.txt","quote":"<quote>"}"#, "source.quote"),
    ] {
        refused_naming(&format!(r#"{{{base},"source":{source}}}"#), field);
    }
    for source in [
        r#"{"url":"https://example.org","quote":"A sentence."}"#,
        r#"{"document":"d.txt","url":"https://example.org","quote":"A sentence."}"#,
    ] {
        accepted(&format!(r#"{{{base},"source":{source}}}"#));
    }
    refused_naming(
        &line(&format!(r#"{base},"date_source":{{"quote":"In 2013."}}"#)),
        "date_source",
    );
    accepted(&line(&format!(
        r#"{base},"date_source":{{"url":"https://example.org","quote":"In 2013."}}"#
    )));
}

/// An event lasting several days ends on or after its date: an `end_date` of the same day, or
/// one whose window reaches the date, is accepted; one wholly before it is refused naming
/// `end_date`, and so is an `end_date` without a `date` (only a retraction or correction may
/// omit the date).
#[test]
fn an_end_date_is_not_before_the_date_and_needs_one() {
    let meeting = |date: &str, end: &str| {
        line(&format!(
            r#""type":"meeting_held","organ":"general_assembly","date":"{date}","end_date":"{end}""#
        ))
    };
    accepted(&meeting("2013-05-10", "2013-05-10"));
    accepted(&meeting("2013-05-10", "2013-05-12"));
    accepted(&meeting("2013-05-10", "2013-05"));
    refused_naming(&meeting("2013-05-10", "2013-05-09"), "end_date");
    refused_naming(&meeting("2013-05-10", "2013-04"), "end_date");
    let retraction = r#""type":"retraction","retracts":2,"reason":"Misread.""#;
    accepted(&line(retraction));
    accepted(&line(&format!(r#"{retraction},"date":"2020""#)));
    refused_naming(
        &line(&format!(r#"{retraction},"end_date":"2020""#)),
        "end_date",
    );
    refused_naming(
        &line(r#""type":"statute_adopted","end_date":"2013""#),
        "date",
    );
}

/// Session numbers run from 1 to `MAX_SESSION`, on meetings and adopted documents.
#[test]
fn a_session_runs_from_one_to_max_session() {
    for kind in [
        r#""type":"meeting_held","organ":"general_assembly""#,
        r#""type":"document_adopted","title":"Rules of Procedure""#,
    ] {
        let with = |n: u64| line(&format!(r#"{kind},"date":"2013","session":{n}"#));
        accepted(&with(1));
        accepted(&with(u64::from(MAX_SESSION)));
        refused_naming(&with(0), "session");
        refused_naming(&with(u64::from(MAX_SESSION) + 1), "session");
    }
}

/// Every text field of every kind is held to the text rule, naming the field: a proposal's
/// `description`, a meeting's `place` and `theme`, an appointee's `person`, a vacancy's
/// `person` and `reason`, a document's and an agreement's `title`, a programme's `name`, an
/// agreement's `counterparty`, a claim's `topic`, `inferred` and `note`.
#[test]
fn every_text_field_of_every_kind_must_say_something() {
    let cases: [(&str, &str); 13] = [
        (
            r#""type":"proposal_made","date":"2005","description":"@""#,
            "description",
        ),
        (
            r#""type":"meeting_held","date":"2013","organ":"general_assembly","place":"@""#,
            "place",
        ),
        (
            r#""type":"meeting_held","date":"2013","organ":"general_assembly","theme":"@""#,
            "theme",
        ),
        (
            r#""type":"officer_appointed","date":"2013","office":"director_general","person":"@""#,
            "person",
        ),
        (
            r#""type":"office_vacated","date":"2013","office":"director_general","person":"@","reason":"Term ended.""#,
            "person",
        ),
        (
            r#""type":"office_vacated","date":"2013","office":"director_general","person":"A. Name","reason":"@""#,
            "reason",
        ),
        (
            r#""type":"document_adopted","date":"2013","title":"@""#,
            "title",
        ),
        (
            r#""type":"programme_established","date":"2013","name":"@""#,
            "name",
        ),
        (
            r#""type":"agreement_signed","date":"2013","title":"@","counterparty":"FAO""#,
            "title",
        ),
        (
            r#""type":"agreement_signed","date":"2013","title":"MoU","counterparty":"@""#,
            "counterparty",
        ),
        (
            r#""type":"claim","date":"2013","about":"member_count","value":3,"topic":"@""#,
            "topic",
        ),
        (
            r#""type":"statute_adopted","date":"2013","inferred":"@""#,
            "inferred",
        ),
        (
            r#""type":"statute_adopted","date":"2013","note":"@""#,
            "note",
        ),
    ];
    for (fields, field) in cases {
        accepted(&line(&fields.replace('@', "Something said.")));
        for bad in [" ", "\u{200B}", &format!("<{field}>")] {
            refused_naming(&line(&fields.replace('@', bad)), field);
        }
    }
}

/// An appointment takes office on or after its date (the same day, or a window reaching it,
/// is accepted; wholly before it is refused naming `takes_office`), for a term of 1 to 20
/// years (`term_years`).
#[test]
fn an_appointment_takes_office_from_its_date_for_one_to_twenty_years() {
    let appointed = |extra: &str| {
        line(&format!(
            r#""type":"officer_appointed","date":"2013-05-10","office":"director_general","person":"A. Name"{extra}"#
        ))
    };
    accepted(&appointed(""));
    accepted(&appointed(r#","takes_office":"2013-05-10""#));
    accepted(&appointed(r#","takes_office":"2013-06-01""#));
    accepted(&appointed(r#","takes_office":"2013-05""#));
    refused_naming(
        &appointed(r#","takes_office":"2013-05-09""#),
        "takes_office",
    );
    refused_naming(&appointed(r#","takes_office":"2012""#), "takes_office");
    for years in [1, 4, 20] {
        accepted(&appointed(&format!(r#","term_years":{years}"#)));
    }
    for years in [0, 21] {
        refused_naming(
            &appointed(&format!(r#","term_years":{years}"#)),
            "term_years",
        );
    }
}

/// A board has at least one seat; each seat names exactly one of a party or an office; no
/// holder has two seats; at most one seat is the chair (none, or one chair among several
/// members, is accepted).
#[test]
fn a_board_has_seats_each_with_one_holder_once_and_at_most_one_chair() {
    let board = |seats: &str| {
        line(&format!(
            r#""type":"board_elected","date":"2018","organ":"executive_board","seats":[{seats}]"#
        ))
    };
    accepted(&board(r#"{"party":"KAZ","role":"member"}"#));
    accepted(&board(
        r#"{"party":"KAZ","role":"member"},{"party":"SAU","role":"member"},{"office":"director_general","role":"permanent_member"}"#,
    ));
    accepted(&board(
        r#"{"party":"KAZ","role":"chair"},{"party":"SAU","role":"member"},{"party":"TUR","role":"member"}"#,
    ));
    for seats in [
        "",
        r#"{"role":"member"}"#,
        r#"{"party":"KAZ","office":"director_general","role":"member"}"#,
        r#"{"party":"KAZ","role":"member"},{"party":"KAZ","role":"chair"}"#,
        r#"{"office":"director_general","role":"member"},{"office":"director_general","role":"member"}"#,
        r#"{"party":"KAZ","role":"chair"},{"party":"SAU","role":"chair"}"#,
    ] {
        refused_naming(&board(seats), "seats");
    }
}

/// Each claim's value has its own shape: a count 0 to `MAX_COUNT`; an ordinal 1 to
/// `MAX_COUNT` with a `party`; true or false; a name or null; a known party code; a statement
/// that is not blank. Anything else is refused naming `value`.
#[test]
fn each_claim_takes_a_value_of_its_own_shape() {
    let claim = |about: &str, value: &str, extra: &str| {
        line(&format!(
            r#""type":"claim","date":"2018","about":"{about}","value":{value}{extra}"#
        ))
    };
    let max = MAX_COUNT;
    let over = MAX_COUNT + 1;
    for (about, good, bad) in [
        (
            "member_count",
            vec!["0", "57", &*max.to_string()],
            vec![&*over.to_string(), "-1", "\"57\"", "true"],
        ),
        (
            "ratification_count",
            vec!["0", "10"],
            vec![&*over.to_string(), "null"],
        ),
        (
            "statute_in_force",
            vec!["true", "false"],
            vec!["1", "\"true\"", "null"],
        ),
        (
            "director_general",
            vec!["null", "\"A. Name\""],
            vec!["\" \"", "3", "false"],
        ),
        ("board_chair", vec!["\"KAZ\""], vec!["\"XXX\"", "null", "1"]),
        (
            "statement",
            vec!["\"The Statute was signed.\""],
            vec!["\" \"", "\"\"", "3", "null"],
        ),
    ] {
        for v in good {
            accepted(&claim(about, v, ""));
        }
        for v in bad {
            refused_naming(&claim(about, v, ""), "value");
        }
    }
    let party = r#","party":"KAZ""#;
    accepted(&claim("signatory_ordinal", "1", party));
    accepted(&claim("signatory_ordinal", &max.to_string(), party));
    refused_naming(&claim("signatory_ordinal", "3", ""), "value");
    refused_naming(&claim("signatory_ordinal", "0", party), "value");
    refused_naming(
        &claim("signatory_ordinal", &over.to_string(), party),
        "value",
    );
}

/// A retraction or correction names a seq from 1 to `MAX_SEQ` (`retracts`, `corrects`), and a
/// correction's replacement is a world event, not another retraction or correction.
#[test]
fn an_override_names_a_seq_from_one_to_max_seq_and_replaces_with_a_world_event() {
    let signed = line(r#""type":"statute_signed","date":"2014","party":"TUR""#);
    let retraction = |seq: u64| {
        line(&format!(
            r#""type":"retraction","retracts":{seq},"reason":"Misread.""#
        ))
    };
    let correction = |seq: u64| {
        line(&format!(
            r#""type":"correction","corrects":{seq},"reason":"Misread.","replacement":{signed}"#
        ))
    };
    for seq in [1, 2, MAX_SEQ] {
        accepted(&retraction(seq));
        accepted(&correction(seq));
    }
    for seq in [0, MAX_SEQ + 1] {
        refused_naming(&retraction(seq), "retracts");
        refused_naming(&correction(seq), "corrects");
    }
    let nested = line(&format!(
        r#""type":"correction","corrects":3,"reason":"Misread.","replacement":{}"#,
        retraction(2)
    ));
    refused_naming(&nested, "replacement");
}

/// An unknown value of a field that names one of a fixed set (`organ`, `office`, `about`, a
/// seat's `role`) is refused naming that field, not as an unknown event type; an unknown
/// `type` is refused naming `type`.
#[test]
fn an_unknown_name_in_a_field_is_that_fields_error_not_an_unknown_type() {
    for (fields, field) in [
        (
            r#""type":"meeting_held","date":"2013","organ":"parliament""#,
            "organ",
        ),
        (
            r#""type":"officer_appointed","date":"2013","office":"king","person":"A. Name""#,
            "office",
        ),
        (
            r#""type":"claim","date":"2013","about":"weather","value":"fine""#,
            "about",
        ),
        (
            r#""type":"board_elected","date":"2013","organ":"executive_board","seats":[{"party":"KAZ","role":"boss"}]"#,
            "seats[0].role",
        ),
    ] {
        let e = refused_naming(&line(fields), field);
        assert!(e.message.contains("unknown variant"), "{}", e.message);
        assert!(!e.message.contains("unknown event type"), "{}", e.message);
    }
    let e = refused_naming(&line(r#""type":"statute_stolen","date":"2013""#), "type");
    assert!(
        e.message.contains("unknown event type `statute_stolen`"),
        "{}",
        e.message
    );
}

/// A number of the wrong kind is refused naming its field, never read as if the field were
/// absent: a negative or fractional `session`, `term_years` or `retracts`, and a number
/// where a date goes (`date`, `end_date`, `takes_office`).
#[test]
fn a_negative_or_fractional_number_is_refused_not_taken_as_absent() {
    for (fields, field) in [
        (
            r#""type":"meeting_held","date":"2013","organ":"general_assembly","session":-1"#,
            "session",
        ),
        (
            r#""type":"meeting_held","date":"2013","organ":"general_assembly","session":1.5"#,
            "session",
        ),
        (
            r#""type":"officer_appointed","date":"2013","office":"director_general","person":"A. Name","term_years":-4"#,
            "term_years",
        ),
        (
            r#""type":"officer_appointed","date":"2013","office":"director_general","person":"A. Name","term_years":4.5"#,
            "term_years",
        ),
        (
            r#""type":"officer_appointed","date":"2013","office":"director_general","person":"A. Name","takes_office":2014.5"#,
            "takes_office",
        ),
        (
            r#""type":"retraction","retracts":-2,"reason":"Misread.""#,
            "retracts",
        ),
        (
            r#""type":"statute_adopted","date":"2013","end_date":2013.5"#,
            "end_date",
        ),
        (r#""type":"statute_adopted","date":-2013"#, "date"),
    ] {
        refused_naming(&line(fields), field);
    }
}

/// The world event of an event is itself, a correction's replacement, or none for a
/// retraction (dated or not); it takes effect on the last day of its window, or for an
/// appointment with `takes_office`, of that window; a retraction takes effect nowhere.
#[test]
fn an_event_takes_effect_in_its_world_events_window_and_an_appointment_when_it_takes_office() {
    let day = |s: &str| Day::parse(s).unwrap();
    let appointed = |extra: &str| {
        accepted(&line(&format!(
            r#""type":"officer_appointed","date":"2013-05-10","office":"director_general","person":"A. Name"{extra}"#
        )))
    };
    let plain = appointed("");
    assert_eq!(plain.world_event(), Some(&plain));
    assert_eq!(plain.effective_day(), Some(day("2013-05-10")));
    assert_eq!(
        plain.effect_window(),
        Some((day("2013-05-10"), day("2013-05-10")))
    );
    let later = appointed(r#","takes_office":"2013-07""#);
    assert_eq!(later.effective_day(), Some(day("2013-07-31")));
    assert_eq!(
        later.effect_window(),
        Some((day("2013-07-01"), day("2013-07-31")))
    );
    let signed = accepted(&line(
        r#""type":"statute_signed","date":"2014","party":"TUR""#,
    ));
    assert_eq!(
        signed.effect_window(),
        Some((day("2014-01-01"), day("2014-12-31")))
    );
    let correction = accepted(&line(&format!(
        r#""type":"correction","corrects":2,"date":"2020","reason":"Misread.","replacement":{}"#,
        line(
            r#""type":"officer_appointed","date":"2013-05-10","office":"director_general","person":"A. Name","takes_office":"2013-07""#
        )
    )));
    assert_eq!(
        correction.world_event().map(|w| w.kind.type_name()),
        Some("officer_appointed")
    );
    assert_eq!(correction.effective_day(), Some(day("2013-07-31")));
    assert_eq!(
        correction.effect_window(),
        Some((day("2013-07-01"), day("2013-07-31")))
    );
    for extra in ["", r#","date":"2020""#] {
        let retraction = accepted(&line(&format!(
            r#""type":"retraction","retracts":2,"reason":"Misread."{extra}"#
        )));
        assert_eq!(retraction.world_event(), None);
        assert_eq!(retraction.effective_day(), None);
        assert_eq!(retraction.effect_window(), None);
    }
}
