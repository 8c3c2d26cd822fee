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

#[cfg(test)]
mod tests {
    use super::*;

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
}
