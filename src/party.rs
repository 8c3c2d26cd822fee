//! Parties: the 57 member states of the Organisation of Islamic Cooperation by ISO 3166-1
//! alpha-3 code, and explicit placeholders for a party a source counts but does not name.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The OIC member states: ISO 3166-1 alpha-3 code and English short name.
pub const OIC_MEMBER_STATES: [(&str, &str); 57] = [
    ("AFG", "Afghanistan"),
    ("ALB", "Albania"),
    ("DZA", "Algeria"),
    ("AZE", "Azerbaijan"),
    ("BHR", "Bahrain"),
    ("BGD", "Bangladesh"),
    ("BEN", "Benin"),
    ("BRN", "Brunei Darussalam"),
    ("BFA", "Burkina Faso"),
    ("CMR", "Cameroon"),
    ("TCD", "Chad"),
    ("COM", "Comoros"),
    ("CIV", "Côte d'Ivoire"),
    ("DJI", "Djibouti"),
    ("EGY", "Egypt"),
    ("GAB", "Gabon"),
    ("GMB", "Gambia"),
    ("GIN", "Guinea"),
    ("GNB", "Guinea-Bissau"),
    ("GUY", "Guyana"),
    ("IDN", "Indonesia"),
    ("IRN", "Iran"),
    ("IRQ", "Iraq"),
    ("JOR", "Jordan"),
    ("KAZ", "Kazakhstan"),
    ("KWT", "Kuwait"),
    ("KGZ", "Kyrgyzstan"),
    ("LBN", "Lebanon"),
    ("LBY", "Libya"),
    ("MYS", "Malaysia"),
    ("MDV", "Maldives"),
    ("MLI", "Mali"),
    ("MRT", "Mauritania"),
    ("MAR", "Morocco"),
    ("MOZ", "Mozambique"),
    ("NER", "Niger"),
    ("NGA", "Nigeria"),
    ("OMN", "Oman"),
    ("PAK", "Pakistan"),
    ("PSE", "Palestine"),
    ("QAT", "Qatar"),
    ("SAU", "Saudi Arabia"),
    ("SEN", "Senegal"),
    ("SLE", "Sierra Leone"),
    ("SOM", "Somalia"),
    ("SDN", "Sudan"),
    ("SUR", "Suriname"),
    ("SYR", "Syria"),
    ("TJK", "Tajikistan"),
    ("TGO", "Togo"),
    ("TUN", "Tunisia"),
    ("TUR", "Türkiye"),
    ("TKM", "Turkmenistan"),
    ("UGA", "Uganda"),
    ("ARE", "United Arab Emirates"),
    ("UZB", "Uzbekistan"),
    ("YEM", "Yemen"),
];

/// Prefix of a placeholder party: `unidentified:<label>`.
pub const PLACEHOLDER_PREFIX: &str = "unidentified:";

/// What is wrong with a party code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PartyError {
    /// Neither an OIC member state's code nor a well-formed placeholder.
    #[error("unknown party `{0}`: use the ISO 3166-1 alpha-3 code of an OIC member state (e.g. KAZ; `iofs-ledger parties` lists them) or `unidentified:<label>` for a party the source does not name")]
    Unknown(String),
    /// A placeholder whose label is empty or has characters other than `a-z`, `0-9`, `-`.
    #[error("bad placeholder `{0}`: the label after `unidentified:` must be 1-64 characters of a-z, 0-9 and -")]
    BadPlaceholder(String),
    /// A name or code typed by a person ([`resolve`]) that matches no party; `suggestion` is
    /// the nearest one, as `NGA (Nigeria)`, when one is near enough.
    #[error("no party matches `{input}`.{} Give an ISO 3166-1 alpha-3 code (any case) or an English name of an OIC member state (`iofs-ledger parties` lists them), or `unidentified:<label>`", suggestion.as_deref().map(|s| format!(" Did you mean {s}?")).unwrap_or_default())]
    NoMatch {
        /// What was typed.
        input: String,
        /// The nearest party, as `CODE (Name)`.
        suggestion: Option<String>,
    },
}

/// A party to the Statute: an OIC member state or an unidentified placeholder.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Party(String);

/// The English name of the member state `code`: a binary search over the table sorted by code
/// (answers look up hundreds of parties).
fn state_name_of(code: &str) -> Option<&'static str> {
    static BY_CODE: std::sync::OnceLock<Vec<(&str, &str)>> = std::sync::OnceLock::new();
    let table = BY_CODE.get_or_init(|| {
        let mut t = OIC_MEMBER_STATES.to_vec();
        t.sort_unstable();
        t
    });
    table
        .binary_search_by(|(c, _)| (*c).cmp(code))
        .ok()
        .map(|i| table[i].1)
}

impl Party {
    /// Parses a code, accepting only OIC member states' codes (upper case) and placeholders.
    pub fn parse(s: &str) -> Result<Party, PartyError> {
        if let Some(label) = s.strip_prefix(PLACEHOLDER_PREFIX) {
            let ok = !label.is_empty()
                && label.len() <= 64
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            return if ok {
                Ok(Party(s.to_string()))
            } else {
                Err(PartyError::BadPlaceholder(s.to_string()))
            };
        }
        if state_name_of(s).is_some() {
            Ok(Party(s.to_string()))
        } else {
            Err(PartyError::Unknown(s.to_string()))
        }
    }

    /// The code as written (`KAZ`, `unidentified:signatory-30`).
    pub fn code(&self) -> &str {
        &self.0
    }

    /// Whether this party is a placeholder for an unnamed party.
    pub fn is_placeholder(&self) -> bool {
        self.0.starts_with(PLACEHOLDER_PREFIX)
    }

    /// The English name of a member state, or `None` for a placeholder.
    pub fn state_name(&self) -> Option<&'static str> {
        if self.is_placeholder() {
            return None;
        }
        state_name_of(&self.0)
    }

    /// A name for display: the state's name, or `unidentified (<label>)`.
    pub fn display_name(&self) -> String {
        match self.state_name() {
            Some(n) => n.to_string(),
            None => {
                let label = self.0.strip_prefix(PLACEHOLDER_PREFIX).unwrap_or(&self.0);
                let mut name = String::with_capacity(label.len() + 15);
                name.push_str("unidentified (");
                name.push_str(label);
                name.push(')');
                name
            }
        }
    }
}

impl fmt::Display for Party {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Party {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Party {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Party::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Other names people use for member states (folded as [`fold`] folds input): former and
/// formal names, short forms and well-known abbreviations. The table's own names and codes
/// need no entry.
const ALIASES: &[(&str, &str)] = &[
    ("ivory coast", "CIV"),
    ("turkey", "TUR"),
    ("republic of turkiye", "TUR"),
    ("uae", "ARE"),
    ("emirates", "ARE"),
    ("the emirates", "ARE"),
    ("saudi", "SAU"),
    ("ksa", "SAU"),
    ("kingdom of saudi arabia", "SAU"),
    ("brunei", "BRN"),
    ("the gambia", "GMB"),
    ("republic of the gambia", "GMB"),
    ("islamic republic of iran", "IRN"),
    ("syrian arab republic", "SYR"),
    ("state of palestine", "PSE"),
    ("kyrgyz republic", "KGZ"),
    ("kirghizia", "KGZ"),
    ("union of the comoros", "COM"),
    ("arab republic of egypt", "EGY"),
    ("republic of iraq", "IRQ"),
    ("hashemite kingdom of jordan", "JOR"),
    ("jordan hashemite kingdom", "JOR"),
    ("republic of kazakhstan", "KAZ"),
    ("islamic republic of pakistan", "PAK"),
    ("islamic republic of mauritania", "MRT"),
    ("islamic republic of afghanistan", "AFG"),
    ("kingdom of morocco", "MAR"),
    ("kingdom of bahrain", "BHR"),
    ("state of qatar", "QAT"),
    ("state of kuwait", "KWT"),
    ("sultanate of oman", "OMN"),
    ("republic of yemen", "YEM"),
    ("libyan arab jamahiriya", "LBY"),
    ("state of libya", "LBY"),
    ("upper volta", "BFA"),
    ("dahomey", "BEN"),
    ("republic of guinea", "GIN"),
    ("guinea conakry", "GIN"),
    ("surinam", "SUR"),
    ("maldive islands", "MDV"),
    ("federal republic of nigeria", "NGA"),
    ("republic of senegal", "SEN"),
    ("republic of uzbekistan", "UZB"),
    ("republic of tajikistan", "TJK"),
    ("republic of azerbaijan", "AZE"),
    ("people's republic of bangladesh", "BGD"),
    ("republic of indonesia", "IDN"),
];

/// Folds a typed name for comparison: lower case, common Latin diacritics dropped (`ô` → `o`,
/// `ü` → `u`), apostrophes removed, hyphens, dots, commas and underscores read as spaces,
/// runs of spaces collapsed.
fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = true; // drops leading spaces
    for c in s.chars().flat_map(char::to_lowercase) {
        let c = match c {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' => 'a',
            'ç' | 'ć' | 'č' => 'c',
            'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ė' => 'e',
            'ì' | 'í' | 'î' | 'ï' | 'ī' | 'ı' => 'i',
            'ñ' | 'ń' => 'n',
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' => 'o',
            'ù' | 'ú' | 'û' | 'ü' | 'ū' => 'u',
            'ý' | 'ÿ' => 'y',
            'ş' | 'š' | 'ś' => 's',
            'ğ' => 'g',
            'ž' | 'ź' | 'ż' => 'z',
            '\'' | '’' | '‘' | '`' | '´' => continue,
            '-' | '‐' | '–' | '—' | '.' | ',' | '_' | '/' => ' ',
            c if c.is_whitespace() => ' ',
            c => c,
        };
        if c == ' ' {
            if space {
                continue;
            }
            space = true;
        } else {
            space = false;
        }
        out.push(c);
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

/// Every folded spelling a person may type, with the code it means: codes, the table's names,
/// the aliases. Built once.
fn spellings() -> &'static [(String, &'static str)] {
    static ALL: std::sync::OnceLock<Vec<(String, &'static str)>> = std::sync::OnceLock::new();
    ALL.get_or_init(|| {
        let mut all = Vec::with_capacity(OIC_MEMBER_STATES.len() * 2 + ALIASES.len());
        for (code, name) in OIC_MEMBER_STATES {
            all.push((code.to_ascii_lowercase(), code));
            all.push((fold(name), code));
        }
        for (alias, code) in ALIASES {
            all.push((fold(alias), *code));
        }
        all
    })
}

/// Resolves what a person typed to a party: an ISO 3166-1 alpha-3 code in any case (`nga`),
/// an English name or a common alias in any case, with or without accents and a leading
/// "the" (`Nigeria`, `saudi arabia`, `Cote d'Ivoire`, `Ivory Coast`, `Turkey`), or a
/// placeholder `unidentified:<label>`. The party returned is canonical (`NGA`).
///
/// A near miss is refused with the nearest party named ([`PartyError::NoMatch`]:
/// "did you mean NGA (Nigeria)?"). Input files are not read through this: the event format
/// takes canonical codes only ([`Party::parse`]).
///
/// ```
/// use iofs_ledger::party::{resolve, PartyError};
/// assert_eq!(resolve("Côte d'Ivoire")?.code(), "CIV");
/// assert_eq!(resolve("nga")?.code(), "NGA");
/// let e = resolve("Nigera").unwrap_err();
/// assert!(e.to_string().contains("Did you mean NGA (Nigeria)?"));
/// # Ok::<(), PartyError>(())
/// ```
pub fn resolve(input: &str) -> Result<Party, PartyError> {
    let trimmed = input.trim();
    if trimmed.len() >= PLACEHOLDER_PREFIX.len()
        && trimmed.is_char_boundary(PLACEHOLDER_PREFIX.len())
        && trimmed[..PLACEHOLDER_PREFIX.len()].eq_ignore_ascii_case(PLACEHOLDER_PREFIX)
    {
        let label = &trimmed[PLACEHOLDER_PREFIX.len()..];
        return Party::parse(&format!("{PLACEHOLDER_PREFIX}{label}"));
    }
    let folded = fold(trimmed);
    let key = folded.strip_prefix("the ").unwrap_or(&folded);
    let all = spellings();
    if let Some((_, code)) = all.iter().find(|(s, _)| s == key || *s == folded) {
        return Party::parse(code);
    }
    // The nearest spelling, if it is near: at most a third of the letters differ (one for a
    // three-letter code).
    // Ranked by similarity (edits over the longer length), so `nigera` is nearer `nigeria`
    // than `niger`.
    let nearest = all
        .iter()
        .filter(|(s, _)| {
            let d = strsim::damerau_levenshtein(key, s);
            d > 0 && d * 3 <= s.chars().count().max(key.chars().count())
        })
        .map(|(s, code)| (strsim::normalized_damerau_levenshtein(key, s), *code))
        .max_by(|a, b| a.0.total_cmp(&b.0));
    Err(PartyError::NoMatch {
        input: input.to_string(),
        suggestion: nearest
            .and_then(|(_, code)| state_name_of(code).map(|name| format!("{code} ({name})"))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every way the issue lists of typing a party reaches the canonical code.
    #[test]
    fn names_codes_and_aliases_in_any_case_and_with_or_without_accents_resolve() {
        for (typed, code) in [
            ("Nigeria", "NGA"),
            ("nga", "NGA"),
            ("NGA", "NGA"),
            ("Nga", "NGA"),
            ("saudi arabia", "SAU"),
            ("SAUDI ARABIA", "SAU"),
            ("  Saudi   Arabia ", "SAU"),
            ("Cote d'Ivoire", "CIV"),
            ("Côte d'Ivoire", "CIV"),
            ("Côte d’Ivoire", "CIV"),
            ("cote divoire", "CIV"),
            ("Ivory Coast", "CIV"),
            ("Turkey", "TUR"),
            ("Türkiye", "TUR"),
            ("turkiye", "TUR"),
            ("UAE", "ARE"),
            ("United Arab Emirates", "ARE"),
            ("The Gambia", "GMB"),
            ("gambia", "GMB"),
            ("Guinea Bissau", "GNB"),
            ("guinea-bissau", "GNB"),
            ("Guinea", "GIN"),
            ("Niger", "NER"),
            ("Brunei", "BRN"),
            ("Kyrgyz Republic", "KGZ"),
            ("unidentified:signatory-30", "unidentified:signatory-30"),
            ("Unidentified:signatory-30", "unidentified:signatory-30"),
        ] {
            assert_eq!(
                resolve(typed).map(|p| p.code().to_string()),
                Ok(code.to_string()),
                "{typed}"
            );
        }
    }

    #[test]
    fn a_near_miss_is_refused_naming_the_nearest_party() {
        for (typed, want) in [
            ("Nigera", "NGA (Nigeria)"),
            ("nigeriaa", "NGA (Nigeria)"),
            ("Kazakstan", "KAZ (Kazakhstan)"),
            ("saudi arabya", "SAU (Saudi Arabia)"),
            ("Cote d Ivoir", "CIV (Côte d'Ivoire)"),
        ] {
            match resolve(typed) {
                Err(e @ PartyError::NoMatch { .. }) => {
                    assert!(
                        e.to_string().contains(&format!("Did you mean {want}?")),
                        "{typed}: {e}"
                    );
                }
                other => panic!("{typed}: {other:?}"),
            }
        }
    }

    #[test]
    fn far_misses_suggest_nothing_and_say_what_is_accepted() {
        for typed in ["France", "", "zzzzzz", "United States of America"] {
            match resolve(typed) {
                Err(PartyError::NoMatch { suggestion, .. }) => {
                    assert_eq!(suggestion, None, "{typed}")
                }
                other => panic!("{typed}: {other:?}"),
            }
        }
        let msg = resolve("France").unwrap_err().to_string();
        assert!(msg.contains("alpha-3 code") && msg.contains("iofs-ledger parties"));
        assert!(matches!(
            resolve("unidentified:A b"),
            Err(PartyError::BadPlaceholder(_))
        ));
    }

    #[test]
    fn every_name_and_alias_in_the_tables_resolves_to_its_own_code() {
        for (code, name) in OIC_MEMBER_STATES {
            assert_eq!(resolve(name).map(|p| p.code().to_string()), Ok(code.into()));
        }
        for (alias, code) in ALIASES {
            assert_eq!(
                resolve(alias).map(|p| p.code().to_string()),
                Ok((*code).into())
            );
        }
    }

    #[test]
    fn the_table_has_57_distinct_three_letter_codes() {
        let mut codes: Vec<&str> = OIC_MEMBER_STATES.iter().map(|(c, _)| *c).collect();
        assert!(codes
            .iter()
            .all(|c| c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase())));
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), 57);
    }

    #[test]
    fn known_codes_and_placeholders_parse_others_are_refused() {
        assert_eq!(
            Party::parse("KAZ").unwrap().state_name(),
            Some("Kazakhstan")
        );
        let p = Party::parse("unidentified:signatory-30").unwrap();
        assert!(p.is_placeholder());
        assert_eq!(p.display_name(), "unidentified (signatory-30)");
        assert!(matches!(Party::parse("kaz"), Err(PartyError::Unknown(_))));
        assert!(matches!(Party::parse("USA"), Err(PartyError::Unknown(_))));
        assert!(matches!(
            Party::parse("unidentified:"),
            Err(PartyError::BadPlaceholder(_))
        ));
        assert!(matches!(
            Party::parse("unidentified:A b"),
            Err(PartyError::BadPlaceholder(_))
        ));
    }

    /// Any whitespace between words counts as one space: a tab, a no-break space (as pasted
    /// from a document), a newline, or several of them.
    #[test]
    fn any_whitespace_between_words_counts_as_one_space() {
        for typed in [
            "Saudi\tArabia",
            "Saudi\u{a0}Arabia",
            "Saudi\nArabia",
            "Saudi \t Arabia",
        ] {
            assert_eq!(
                resolve(typed).map(|p| p.code().to_string()),
                Ok("SAU".to_string()),
                "{typed:?}"
            );
        }
    }
}
