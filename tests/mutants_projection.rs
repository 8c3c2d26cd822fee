//! The projection's pieces that the reference-model properties reach only through the read
//! models, pinned where a mutation of `src/projection.rs` survived the library's unit tests (see
//! `docs/testing.md`, "Mutation testing"): keys read back from their stored form, a refusal
//! names its rule in words, a signature on the day of the adoption or establishment stands,
//! and a projection seeded with facts holds them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use iofs_ledger::date::Day;
use iofs_ledger::event::{parse_batch, Office, Organ};
use iofs_ledger::party::Party;
use iofs_ledger::projection::{Counter, Fact, Key, Milestone, Projection};
use iofs_ledger::query;
use iofs_ledger::store::{AppendOptions, Ledger, StoreError};
use serde_json::{json, Value};

/// Every key reads back from its stored form (which `Display` writes too), and no other
/// text reads as a key.
#[test]
fn every_key_reads_back_from_its_stored_form_and_nothing_else_does() {
    let party = |s: &str| Party::parse(s).unwrap();
    let mut keys = vec![
        Key::Member(party("KAZ")),
        Key::Ratified(party("TUR")),
        Key::Observer(party("unidentified:observer-1")),
        Key::Office(Office::DirectorGeneral),
        Key::Board(Organ::ExecutiveBoard),
        Key::Board(Organ::GeneralAssembly),
    ];
    keys.extend(
        [
            Milestone::Established,
            Milestone::StatuteAdopted,
            Milestone::StatuteInForce,
            Milestone::SecretariatOperational,
            Milestone::FirstSignature,
        ]
        .map(Key::Milestone),
    );
    keys.extend(
        [
            Counter::Members,
            Counter::Ratifications,
            Counter::Observers,
            Counter::Signatures,
        ]
        .map(Key::Count),
    );
    let texts: Vec<String> = keys.iter().map(Key::encode).collect();
    assert_eq!(
        texts,
        [
            "member:KAZ",
            "ratified:TUR",
            "observer:unidentified:observer-1",
            "office:director_general",
            "board:executive_board",
            "board:general_assembly",
            "milestone:established",
            "milestone:statute_adopted",
            "milestone:statute_in_force",
            "milestone:secretariat_operational",
            "milestone:first_signature",
            "count:members",
            "count:ratifications",
            "count:observers",
            "count:signatures",
        ]
    );
    for (k, text) in keys.iter().zip(&texts) {
        assert_eq!(k.to_string(), *text);
        assert_eq!(Key::decode(text).as_ref(), Some(k), "{text}");
    }
    for bad in [
        "",
        "KAZ",
        "member:",
        "mayor:KAZ",
        "office:chair",
        "board:senate",
        "milestone:founded",
        "count:votes",
    ] {
        assert_eq!(Key::decode(bad), None, "{bad}");
    }
}

fn ledger_of(lines: &[Value]) -> Result<Ledger, StoreError> {
    let text: String = lines.iter().map(|v| format!("{v}\n")).collect();
    let mut l = Ledger::in_memory().unwrap();
    let events = parse_batch(&text).unwrap();
    l.append(events.into_iter().map(Ok), AppendOptions::default())?;
    Ok(l)
}

fn ev(mut v: Value) -> Value {
    v["source"] = json!({"document": "test.txt", "quote": "A sentence."});
    v
}

/// A refused append names the rule it breaks in the rule's own words.
#[test]
fn a_refusal_names_the_broken_rule_in_words() {
    for (events, words) in [
        (
            vec![ev(
                json!({"type": "membership_withdrawn", "party": "KAZ", "date": "2014"}),
            )],
            "rule \"only a member can withdraw\" broken",
        ),
        (
            vec![
                ev(json!({"type": "statute_signed", "party": "KAZ", "date": "2013-12-10"})),
                ev(json!({"type": "statute_adopted", "date": "2014"})),
            ],
            "rule \"the Statute cannot be signed before it was adopted\" broken",
        ),
    ] {
        match ledger_of(&events) {
            Err(StoreError::Refused(r)) => {
                assert_eq!(r.len(), 1, "{r:?}");
                let text = r[0].to_string();
                assert!(text.contains(words), "{text}");
            }
            other => panic!("not refused: {:?}", other.map(|_| ())),
        }
    }
}

/// A signature dated the very day the Statute was adopted or the organisation established
/// (recorded before them, so folded first) does not come before them: both are accepted, and
/// the member counts from that day.
#[test]
fn a_signature_on_the_day_of_adoption_or_establishment_is_accepted() {
    for milestone in ["statute_adopted", "organisation_established"] {
        let l = ledger_of(&[
            ev(json!({"type": "statute_signed", "party": "KAZ", "date": "2013-12-10"})),
            ev(json!({"type": milestone, "date": "2013-12-10"})),
        ])
        .unwrap_or_else(|e| panic!("{milestone}: {e}"));
        let s = query::state(&l, Day::parse("2013-12-10").unwrap(), None).unwrap();
        assert_eq!(s.members.count, 1, "{milestone}");
    }
}

/// A projection seeded with facts holds exactly those facts.
#[test]
fn a_projection_from_facts_holds_exactly_those_facts() {
    let kaz = Key::Member(Party::parse("KAZ").unwrap());
    let count = Key::Count(Counter::Members);
    let member =
        Fact::decode(r#"{"fact":"member","since":"2013-12-10","seq":1,"ordinal":1}"#).unwrap();
    let one = Fact::Count { value: 1 };
    let p = Projection::from_facts([(kaz.clone(), member.clone()), (count.clone(), one.clone())]);
    assert_eq!(p.get(&kaz), Some(&member));
    assert_eq!(p.get(&count), Some(&one));
    assert_eq!(p.get(&Key::Count(Counter::Signatures)), None);
    assert_eq!(p.facts().count(), 2);
}
