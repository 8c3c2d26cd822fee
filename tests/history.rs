//! The built-in history answers what the documents state or imply. Each case cites the sentence
//! it checks; a failure means the data in `events/history.jsonl` or the replay is wrong.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use iofs_ledger::audit;
use iofs_ledger::date::Day;
use iofs_ledger::event::parse_batch;
use iofs_ledger::history::BUILTIN_HISTORY;
use iofs_ledger::query::{self, State};
use iofs_ledger::store::{AppendOptions, Ledger};

fn builtin() -> Ledger {
    let mut l = Ledger::in_memory().unwrap();
    let events = parse_batch(BUILTIN_HISTORY).unwrap();
    l.append(events.into_iter().map(Ok), AppendOptions::default())
        .unwrap();
    l
}

fn at(l: &Ledger, day: &str) -> State {
    query::state(l, Day::parse(day).unwrap(), None).unwrap()
}

/// One expected answer: as-of day, members, ratifications, in force, Director General
/// (`Some(None)` = vacant, `None` = not checked), Executive Board chair, and the sentence.
struct Case {
    as_of: &'static str,
    members: u64,
    ratifications: u64,
    in_force: bool,
    dg: Option<Option<&'static str>>,
    chair: Option<Option<&'static str>>,
    cites: &'static str,
}

const CASES: &[Case] = &[
    Case { as_of: "2012-11-17", members: 0, ratifications: 0, in_force: false, dg: Some(None), chair: Some(None), cites: "000: established on 17 November 2012 by adopting a resolution in the 39th session" },
    Case { as_of: "2013-12-08", members: 0, ratifications: 0, in_force: false, dg: Some(None), chair: Some(None), cites: "001: signed by 19 countries during the 40th session ... Conakry, Guinea from December 9-10" },
    Case { as_of: "2013-12-11", members: 19, ratifications: 0, in_force: false, dg: Some(None), chair: Some(None), cites: "001: This IOFS Statute received approval and was formally signed by 19 countries" },
    Case { as_of: "2014-11-21", members: 19, ratifications: 1, in_force: false, dg: Some(None), chair: Some(None), cites: "research [KZL]: Kazakhstan ratified by law of 21 November 2014" },
    Case { as_of: "2015-04-15", members: 20, ratifications: 1, in_force: false, dg: Some(None), chair: Some(None), cites: "001: Libya became the twentieth country to officially sign the Statute" },
    Case { as_of: "2016-01-12", members: 21, ratifications: 1, in_force: false, dg: Some(None), chair: Some(None), cites: "001: On January 12 ... the State of the United Arab Emirates ... signing the Statue" },
    Case { as_of: "2016-03-15", members: 22, ratifications: 1, in_force: false, dg: Some(None), chair: Some(None), cites: "001: ... and March 15, respectively, ... the Kingdom of Saudi Arabia officially joined" },
    Case { as_of: "2016-04-28", members: 29, ratifications: 1, in_force: false, dg: Some(None), chair: Some(Some("SAU")), cites: "001: New member countries, including Bangladesh, Cameroon, Cote d'Ivoire, Egypt, Mozambique, Tajikistan, and Qatar, joined" },
    Case { as_of: "2017-07-11", members: 33, ratifications: 1, in_force: false, dg: Some(None), chair: Some(Some("SAU")), cites: "001: the Republic of Senegal became the 33rd member" },
    Case { as_of: "2018-02-18", members: 33, ratifications: 1, in_force: false, dg: Some(None), chair: Some(Some("SAU")), cites: "001: On February 19, the IOFS Statute came into force (not yet the day before)" },
    Case { as_of: "2018-02-19", members: 33, ratifications: 10, in_force: true, dg: Some(None), chair: Some(Some("SAU")), cites: "001: it completed the required number of 10 ratifications for the Statute to be effective" },
    Case { as_of: "2019-07-03", members: 33, ratifications: 10, in_force: true, dg: Some(None), chair: Some(Some("SAU")), cites: "001: representatives from Saudi Arabia (Chairman), Bangladesh, Burkina Faso, Niger, Sudan, Turkey, and Kazakhstan" },
    Case { as_of: "2019-08-29", members: 34, ratifications: 10, in_force: true, dg: Some(Some("Yerlan Baidaulet")), chair: None, cites: "001: Nigeria joined IOFS as the 34th member ... Mr. Yerlan Baidaulet was appointed as the Director General" },
    Case { as_of: "2021-03-14", members: 36, ratifications: 11, in_force: true, dg: Some(Some("Yerlan Baidaulet")), chair: None, cites: "001: the Kingdom of Morocco and the Republic of Tunisia signed the IOFS Statute" },
    Case { as_of: "2022-07-27", members: 37, ratifications: 11, in_force: true, dg: Some(Some("Yerlan Baidaulet")), chair: None, cites: "001: the Republic of Chad signed the Statute of the IOFS, became the 37th member country" },
    Case { as_of: "2022-10-11", members: 37, ratifications: 11, in_force: true, dg: Some(Some("Yerlan Baidaulet")), chair: Some(Some("QAT")), cites: "001: new members were elected to the IOFS Executive Board, with Qatar as the Chair" },
    Case { as_of: "2023-10-01", members: 37, ratifications: 11, in_force: true, dg: Some(Some("Yerlan Baidaulet")), chair: Some(Some("QAT")), cites: "001: On October 2 ... four new Member States ... signed (not yet the day before)" },
    Case { as_of: "2023-10-02", members: 41, ratifications: 11, in_force: true, dg: Some(Some("Yerlan Baidaulet")), chair: Some(Some("QAT")), cites: "001: Jordan, Yemen, Gabon, and Iraq, signed the Statute of the Islamic Organization for Food Security" },
    Case { as_of: "2023-12-31", members: 41, ratifications: 11, in_force: true, dg: Some(Some("Yerlan Baidaulet")), chair: Some(Some("QAT")), cites: "000: Askar Mussinov was elected as Director General of IOFS, as of 1 January 2024 (not before)" },
    Case { as_of: "2024-01-01", members: 41, ratifications: 11, in_force: true, dg: Some(Some("Askar Mussinov")), chair: Some(Some("QAT")), cites: "000: Askar Mussinov was elected as Director General of IOFS, as of 1 January 2024" },
    Case { as_of: "2024-02-07", members: 41, ratifications: 11, in_force: true, dg: Some(Some("Askar Mussinov")), chair: Some(Some("QAT")), cites: "004: IOFS is a 41-member international organization" },
    Case { as_of: "2024-03-01", members: 41, ratifications: 11, in_force: true, dg: Some(None), chair: Some(Some("QAT")), cites: "000: After the passing of Ambassador Askar Mussinov in February 2024" },
    Case { as_of: "2024-04-22", members: 41, ratifications: 11, in_force: true, dg: Some(Some("Berik Aryn")), chair: Some(Some("QAT")), cites: "001: the First Extraordinary General Assembly ... elects ... Berik Aryn as the new Director General" },
    Case { as_of: "2024-12-31", members: 41, ratifications: 11, in_force: true, dg: Some(Some("Berik Aryn")), chair: Some(Some("QAT")), cites: "000: Its charter is formally signed by 41 member states out of 57 as of 2024" },
];

#[test]
fn the_builtin_history_answers_what_the_documents_state() {
    let l = builtin();
    let mut failures = Vec::new();
    for c in CASES {
        let s = at(&l, c.as_of);
        let got = (
            s.members.count,
            s.ratifications.count,
            s.statute.in_force,
            s.director_general.holder.as_deref(),
            s.executive_board.chair.as_deref(),
        );
        let ok = got.0 == c.members
            && got.1 == c.ratifications
            && got.2 == c.in_force
            && c.dg.is_none_or(|dg| dg == got.3)
            && c.chair.is_none_or(|ch| ch == got.4);
        if !ok {
            failures.push(format!(
                "{}: got members {}, ratifications {}, in force {}, DG {:?}, chair {:?}; checks «{}»",
                c.as_of, got.0, got.1, got.2, got.3, got.4, c.cites
            ));
        }
        assert_eq!(
            s.members.count as usize,
            s.members.parties.len(),
            "{}",
            c.as_of
        );
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn ordinals_in_the_documents_match_the_replayed_signature_order() {
    let l = builtin();
    let s = at(&l, "2024-12-31");
    let ordinal = |code: &str| {
        s.members
            .parties
            .iter()
            .find(|m| m.code == code)
            .map(|m| m.ordinal)
    };
    // 001: "Libya became the twentieth country"; "Senegal became the 33rd member";
    // "Nigeria joined IOFS as the 34th member"; "Chad ... became the 37th member country".
    assert_eq!(ordinal("LBY"), Some(20));
    assert_eq!(ordinal("SEN"), Some(33));
    assert_eq!(ordinal("NGA"), Some(34));
    assert_eq!(ordinal("TCD"), Some(37));
}

#[test]
fn a_signature_whose_year_is_open_is_uncertain_inside_its_bounds() {
    let l = builtin();
    // 001: "On April 15, the Ambassador of Libya ... signed": the year is 2014 or 2015.
    let s = at(&l, "2014-12-31");
    assert_eq!(s.members.count, 19);
    assert!(
        s.uncertain
            .iter()
            .any(|u| u.party.as_deref() == Some("LBY")),
        "{:?}",
        s.uncertain
    );
    let s = at(&l, "2015-04-15");
    assert!(!s
        .uncertain
        .iter()
        .any(|u| u.party.as_deref() == Some("LBY")));
}

#[test]
fn the_vacancy_after_the_death_of_the_director_general_names_him_and_the_reason() {
    let l = builtin();
    let s = at(&l, "2024-03-01");
    let v = s.director_general.vacated.expect("vacant");
    assert_eq!(v.previous.as_deref(), Some("Askar Mussinov"));
    assert!(v.reason.unwrap_or_default().contains("death"));
}

#[test]
fn unnamed_parties_are_unidentified_never_countries() {
    let l = builtin();
    let s = at(&l, "2024-12-31");
    let unnamed: Vec<_> = s
        .members
        .parties
        .iter()
        .filter(|m| m.unidentified)
        .collect();
    assert_eq!(
        unnamed.len(),
        3,
        "Senegal is 33rd but only 29 earlier signatories are named"
    );
    assert!(unnamed.iter().all(|m| m.name.starts_with("unidentified")));
    assert_eq!(
        s.observers.count, 1,
        "000's member list marks #39 '(observer)' without a name"
    );
    assert!(s.observers.parties[0].unidentified);
}

#[test]
fn the_builtin_history_verifies_and_its_audit_shows_the_contradictions() {
    let mut l = builtin();
    let v = audit::verify(&mut l, None).unwrap();
    assert!(v.ok, "{:?}", v.problems);
    let r = audit::report(&l, None).unwrap();
    let differs: Vec<_> = r
        .claims
        .iter()
        .filter(|c| c.holds == Some(false))
        .map(|c| c.claimed.clone())
        .collect();
    // 000: "It came into force on 19 February 2008"; [KZb] 31 members; 000's infobox "42 member states".
    assert!(differs.contains(&serde_json::json!(true)), "{differs:?}");
    assert!(differs.contains(&serde_json::json!(42)), "{differs:?}");
    let topics: Vec<_> = r.contradictions.iter().map(|c| c.topic.as_str()).collect();
    for t in [
        "entry into force",
        "founding date",
        "member count",
        "Conakry dates",
        "39th CFM place",
        "chairmanship 2024",
    ] {
        assert!(topics.contains(&t), "missing contradiction {t}: {topics:?}");
    }
    assert_eq!(
        r.entry_into_force.asserted.map(|d| d.text()).as_deref(),
        Some("2018-02-19")
    );
    assert_eq!(r.entry_into_force.derived.as_deref(), Some("2018-03-21"));
    assert_eq!(r.entry_into_force.agrees, Some(false));
}

#[test]
fn every_builtin_event_cites_a_source_and_a_sentence() {
    for (loc, ev) in parse_batch(BUILTIN_HISTORY).unwrap() {
        assert!(!ev.source.citation().is_empty(), "{loc}");
        assert!(ev.source.quote.len() > 3, "{loc}");
    }
}
