//! Dates as the sources write them: a year, a month or a day, or bounds when only a range is
//! known. The precision is kept, never padded into a fake day.
//!
//! Every date denotes a window of days ([`EventDate::window`]). The ledger counts an event once
//! an as-of day reaches the **last** day of its window and lists it as uncertain while the as-of
//! day is inside the window (see `ARCHITECTURE.md`, "When an event takes effect").

use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A calendar day, counted from 0001-01-01 (day 1). Cheap to compare and to store as an integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(pub i32);

impl Day {
    /// The day of a calendar date.
    pub fn from_naive(d: NaiveDate) -> Day {
        Day(d.num_days_from_ce())
    }

    /// Parses a full `YYYY-MM-DD` date (the form of `--as-of`).
    pub fn parse(s: &str) -> Result<Day, DateError> {
        match PartialDate::parse(s)? {
            p @ PartialDate {
                month: Some(_),
                day: Some(_),
                ..
            } => Ok(p.first_day()),
            _ => Err(DateError::NotADay(s.to_string())),
        }
    }

    /// The calendar date of this day.
    pub fn to_naive(self) -> NaiveDate {
        NaiveDate::from_num_days_from_ce_opt(self.0).unwrap_or(NaiveDate::MIN)
    }

    /// The year this day falls in.
    pub fn year(self) -> i32 {
        self.to_naive().year()
    }
}

impl Day {
    /// `YYYY-MM-DD`, written by hand: chrono's strftime parses its pattern on every call, and
    /// answers print hundreds of days.
    fn digits(self) -> [u8; 10] {
        let d = self.to_naive();
        let mut buf = [0u8; 10];
        put_digits(&mut buf[0..4], d.year().clamp(0, 9999) as u32);
        buf[4] = b'-';
        put_digits(&mut buf[5..7], d.month());
        buf[7] = b'-';
        put_digits(&mut buf[8..10], d.day());
        buf
    }

    /// The day as `YYYY-MM-DD` (what `Display` writes, without the formatter).
    pub fn text(self) -> String {
        let digits = self.digits();
        let mut out = String::with_capacity(digits.len());
        // Always ASCII: `put_digits` writes only '0'..='9'.
        out.push_str(std::str::from_utf8(&digits).unwrap_or_default());
        out
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(std::str::from_utf8(&self.digits()).map_err(|_| fmt::Error)?)
    }
}

/// Writes `v` as decimal digits filling `out`, zero-padded on the left (the leading digits are
/// dropped if `v` does not fit).
fn put_digits(out: &mut [u8], mut v: u32) {
    for b in out.iter_mut().rev() {
        *b = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

/// What is wrong with a date string.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    /// Not of the form `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    #[error("`{0}` is not a date: write YYYY, YYYY-MM or YYYY-MM-DD")]
    Malformed(String),
    /// Well formed, but no such day or month exists.
    #[error("`{0}` is not a real date (no such month or day; years run from 0001 to 9999)")]
    Impossible(String),
    /// A full day was required.
    #[error("`{0}` is not a full day: write YYYY-MM-DD")]
    NotADay(String),
    /// Bounds in the wrong order.
    #[error("bounds out of order: not_before `{0}` is after not_after `{1}`")]
    BoundsReversed(String, String),
}

/// How precisely a date is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Precision {
    /// Only the year.
    Year,
    /// The year and month.
    Month,
    /// The exact day.
    Day,
    /// Only bounds are known.
    Bounded,
}

/// A date with the precision its source gives: `2013`, `2013-12` or `2013-12-10`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PartialDate {
    year: i32,
    month: Option<u32>,
    day: Option<u32>,
}

impl PartialDate {
    /// Parses `YYYY`, `YYYY-MM` or `YYYY-MM-DD` strictly (four-digit year 0001–9999, two-digit
    /// month and day, a real calendar date).
    pub fn parse(s: &str) -> Result<PartialDate, DateError> {
        let malformed = || DateError::Malformed(s.to_string());
        // `YYYY`, `YYYY-MM` or `YYYY-MM-DD`, read byte by byte (answers read hundreds).
        let b = s.as_bytes();
        let parts = match b.len() {
            4 => 1,
            7 if b[4] == b'-' => 2,
            10 if b[4] == b'-' && b[7] == b'-' => 3,
            _ => return Err(malformed()),
        };
        let num = |from: usize, to: usize| -> Result<u32, DateError> {
            b[from..to].iter().try_fold(0u32, |n, &c| {
                if c.is_ascii_digit() {
                    Ok(n * 10 + u32::from(c - b'0'))
                } else {
                    Err(malformed())
                }
            })
        };
        let nums = [
            num(0, 4)?,
            if parts > 1 { num(5, 7)? } else { 0 },
            if parts > 2 { num(8, 10)? } else { 0 },
        ];
        let impossible = || DateError::Impossible(s.to_string());
        let year = nums[0] as i32;
        if year < 1 {
            return Err(impossible());
        }
        let month = (parts > 1).then_some(nums[1]);
        let day = (parts > 2).then_some(nums[2]);
        if let Some(m) = month {
            if !(1..=12).contains(&m) {
                return Err(impossible());
            }
        }
        if let (Some(m), Some(d)) = (month, day) {
            NaiveDate::from_ymd_opt(year, m, d).ok_or_else(impossible)?;
        }
        Ok(PartialDate { year, month, day })
    }

    /// The precision of this date.
    pub fn precision(&self) -> Precision {
        match (self.month, self.day) {
            (Some(_), Some(_)) => Precision::Day,
            (Some(_), None) => Precision::Month,
            _ => Precision::Year,
        }
    }

    /// The first day this date may denote.
    pub fn first_day(&self) -> Day {
        let m = self.month.unwrap_or(1);
        let d = self.day.unwrap_or(1);
        Day::from_naive(NaiveDate::from_ymd_opt(self.year, m, d).unwrap_or(NaiveDate::MIN))
    }

    /// The last day this date may denote.
    pub fn last_day(&self) -> Day {
        match (self.month, self.day) {
            (Some(m), Some(d)) => {
                Day::from_naive(NaiveDate::from_ymd_opt(self.year, m, d).unwrap_or(NaiveDate::MIN))
            }
            (Some(m), None) => {
                let (y, nm) = if m == 12 {
                    (self.year + 1, 1)
                } else {
                    (self.year, m + 1)
                };
                let next = NaiveDate::from_ymd_opt(y, nm, 1).unwrap_or(NaiveDate::MAX);
                Day(Day::from_naive(next).0 - 1)
            }
            _ => Day::from_naive(
                NaiveDate::from_ymd_opt(self.year, 12, 31).unwrap_or(NaiveDate::MIN),
            ),
        }
    }
}

impl PartialDate {
    /// The date as written (`YYYY`, `YYYY-MM`, `YYYY-MM-DD`), in a buffer.
    fn digits(&self) -> ([u8; 10], usize) {
        let mut buf = [0u8; 10];
        put_digits(&mut buf[0..4], self.year.clamp(0, 9999) as u32);
        let mut len = 4;
        if let Some(m) = self.month {
            buf[4] = b'-';
            put_digits(&mut buf[5..7], m);
            len = 7;
            if let Some(d) = self.day {
                buf[7] = b'-';
                put_digits(&mut buf[8..10], d);
                len = 10;
            }
        }
        (buf, len)
    }

    /// Appends the date as written to `out` (what `Display` writes, without the formatter).
    pub fn push_to(&self, out: &mut String) {
        let (buf, len) = self.digits();
        out.extend(buf[..len].iter().map(|&b| char::from(b)));
    }
}

impl fmt::Display for PartialDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (buf, len) = self.digits();
        f.write_str(std::str::from_utf8(&buf[..len]).map_err(|_| fmt::Error)?)
    }
}

impl Serialize for PartialDate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PartialDate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = PartialDate;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a date string YYYY, YYYY-MM or YYYY-MM-DD")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<PartialDate, E> {
                PartialDate::parse(s).map_err(E::custom)
            }
        }
        d.deserialize_str(V)
    }
}

/// When an event happened: a date of some precision, or bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventDate {
    /// `"YYYY"`, `"YYYY-MM"` or `"YYYY-MM-DD"`.
    Point(PartialDate),
    /// `{"not_before": D, "not_after": D}`: only bounds are known.
    Bounded {
        /// Earliest possible date.
        not_before: PartialDate,
        /// Latest possible date.
        not_after: PartialDate,
    },
}

impl EventDate {
    /// Parses the string form (a point date).
    pub fn parse(s: &str) -> Result<EventDate, DateError> {
        PartialDate::parse(s).map(EventDate::Point)
    }

    /// Builds bounds, checking their order.
    pub fn bounded(
        not_before: PartialDate,
        not_after: PartialDate,
    ) -> Result<EventDate, DateError> {
        if not_before.first_day() > not_after.last_day() {
            return Err(DateError::BoundsReversed(
                not_before.to_string(),
                not_after.to_string(),
            ));
        }
        Ok(EventDate::Bounded {
            not_before,
            not_after,
        })
    }

    /// The first and last day this date may denote (equal for an exact day).
    pub fn window(&self) -> (Day, Day) {
        match self {
            EventDate::Point(p) => (p.first_day(), p.last_day()),
            EventDate::Bounded {
                not_before,
                not_after,
            } => (not_before.first_day(), not_after.last_day()),
        }
    }

    /// The day from which the event counts: the last day of its window.
    pub fn effective_day(&self) -> Day {
        self.window().1
    }

    /// How precisely the date is known.
    pub fn precision(&self) -> Precision {
        match self {
            EventDate::Point(p) => p.precision(),
            EventDate::Bounded { .. } => Precision::Bounded,
        }
    }

    /// Whether the date is an exact day.
    pub fn is_exact(&self) -> bool {
        self.precision() == Precision::Day
    }
}

impl EventDate {
    /// The date as written (what `Display` writes), built directly: answers print hundreds.
    pub fn text(&self) -> String {
        let mut out = String::with_capacity(32);
        match self {
            EventDate::Point(p) => p.push_to(&mut out),
            EventDate::Bounded {
                not_before,
                not_after,
            } => {
                out.push_str("between ");
                not_before.push_to(&mut out);
                out.push_str(" and ");
                not_after.push_to(&mut out);
            }
        }
        out
    }
}

impl fmt::Display for EventDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EventDate::Point(p) => write!(f, "{p}"),
            EventDate::Bounded {
                not_before,
                not_after,
            } => {
                write!(f, "between {not_before} and {not_after}")
            }
        }
    }
}

#[derive(Serialize)]
struct BoundsRepr {
    not_before: PartialDate,
    not_after: PartialDate,
}

impl Serialize for EventDate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            EventDate::Point(p) => p.serialize(s),
            EventDate::Bounded {
                not_before,
                not_after,
            } => BoundsRepr {
                not_before: *not_before,
                not_after: *not_after,
            }
            .serialize(s),
        }
    }
}

/// What a date may be, for error messages.
const DATE_SHAPE: &str =
    "a date: a string YYYY, YYYY-MM or YYYY-MM-DD, or {\"not_before\": .., \"not_after\": ..}";

/// Reads a date in one pass: a string, or a map of exactly `not_before` and `not_after` (an
/// untagged enum would buffer every date first; a state query and a replay read many).
struct EventDateVisitor;

impl<'de> serde::de::Visitor<'de> for EventDateVisitor {
    type Value = EventDate;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(DATE_SHAPE)
    }

    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<EventDate, E> {
        EventDate::parse(s).map_err(E::custom)
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<EventDate, A::Error> {
        use serde::de::Error;
        const FIELDS: &[&str] = &["not_before", "not_after"];
        let (mut not_before, mut not_after) = (None, None);
        while let Some(k) = map.next_key::<BoundField>()? {
            let (slot, name) = match k {
                BoundField::NotBefore => (&mut not_before, FIELDS[0]),
                BoundField::NotAfter => (&mut not_after, FIELDS[1]),
            };
            if slot.is_some() {
                return Err(A::Error::duplicate_field(name));
            }
            *slot = Some(map.next_value::<PartialDate>()?);
        }
        let not_before = not_before.ok_or_else(|| A::Error::missing_field("not_before"))?;
        let not_after = not_after.ok_or_else(|| A::Error::missing_field("not_after"))?;
        EventDate::bounded(not_before, not_after).map_err(A::Error::custom)
    }
}

/// A key of a bounds map (anything else is refused as an unknown field).
enum BoundField {
    NotBefore,
    NotAfter,
}

impl<'de> Deserialize<'de> for BoundField {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = BoundField;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("`not_before` or `not_after`")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<BoundField, E> {
                match s {
                    "not_before" => Ok(BoundField::NotBefore),
                    "not_after" => Ok(BoundField::NotAfter),
                    other => Err(E::unknown_field(other, &["not_before", "not_after"])),
                }
            }
        }
        d.deserialize_identifier(V)
    }
}

impl<'de> Deserialize<'de> for EventDate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(EventDateVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> Day {
        Day::parse(s).unwrap()
    }

    #[test]
    fn precision_is_kept_and_windows_cover_the_whole_period() {
        let y = EventDate::parse("2013").unwrap();
        assert_eq!(y.to_string(), "2013");
        assert_eq!(y.window(), (day("2013-01-01"), day("2013-12-31")));
        let m = EventDate::parse("2024-02").ok();
        assert_eq!(
            m.map(|m| m.window()),
            Some((day("2024-02-01"), day("2024-02-29")))
        );
        let m = EventDate::parse("2023-12").ok();
        assert_eq!(
            m.map(|m| m.window()),
            Some((day("2023-12-01"), day("2023-12-31")))
        );
        let d = EventDate::parse("2016-04-28").ok();
        assert_eq!(
            d.map(|d| d.window()),
            Some((day("2016-04-28"), day("2016-04-28")))
        );
    }

    #[test]
    fn impossible_and_malformed_dates_are_refused() {
        for bad in [
            "2023-02-29",
            "0000-01-01",
            "2023-13",
            "2023-00-10",
            "2023-04-31",
        ] {
            assert!(
                matches!(PartialDate::parse(bad), Err(DateError::Impossible(_))),
                "{bad}"
            );
        }
        for bad in [
            "",
            "23",
            "2023-1-01",
            "2023/01/01",
            "2023-01-01T00:00",
            "+2023",
            "２０２３",
        ] {
            assert!(
                matches!(PartialDate::parse(bad), Err(DateError::Malformed(_))),
                "{bad}"
            );
        }
        assert!(PartialDate::parse("2024-02-29").is_ok());
    }

    #[test]
    fn bounds_parse_from_json_and_must_be_ordered() {
        let d: Result<EventDate, _> =
            serde_json::from_str(r#"{"not_before":"2014-04-15","not_after":"2015-04-15"}"#);
        let d = d.ok();
        assert_eq!(
            d.map(|d| d.window()),
            Some((day("2014-04-15"), day("2015-04-15")))
        );
        assert_eq!(
            d.map(|d| d.to_string()).as_deref(),
            Some("between 2014-04-15 and 2015-04-15")
        );
        let r: Result<EventDate, _> =
            serde_json::from_str(r#"{"not_before":"2016","not_after":"2015"}"#);
        assert!(r.is_err());
        let r: Result<EventDate, _> =
            serde_json::from_str(r#"{"not_before":"2016","not_after":"2017","x":1}"#);
        assert!(r.is_err());
    }

    #[test]
    fn day_parse_requires_a_full_day() {
        assert!(matches!(Day::parse("2019"), Err(DateError::NotADay(_))));
        assert_eq!(day("2019-06-01").to_string(), "2019-06-01");
    }

    /// Every shape of date reports the precision its text has: a day is exact, a month or a
    /// year is not, bounds are bounds.
    #[test]
    fn each_shape_reports_its_own_precision_and_only_a_day_is_exact() {
        let cases = [
            ("2016-04-28", Precision::Day, true),
            ("2016-04", Precision::Month, false),
            ("2016", Precision::Year, false),
        ];
        for (text, precision, exact) in cases {
            let d = EventDate::parse(text).unwrap();
            assert_eq!(d.precision(), precision, "{text}");
            assert_eq!(d.is_exact(), exact, "{text}");
        }
        let b: EventDate =
            serde_json::from_str(r#"{"not_before":"2016-04-28","not_after":"2016-04-28"}"#)
                .unwrap();
        assert_eq!(b.precision(), Precision::Bounded);
        assert!(!b.is_exact(), "bounds are never exact, even a single day");
    }

    /// The hand-written `text` forms say exactly what `Display` says, for every shape of date
    /// and for days (answers print `text`, errors print `Display`).
    #[test]
    fn text_writes_what_display_writes() {
        for text in ["2016-04-28", "2016-04", "2016", "0001-01-01", "9999-12-31"] {
            let d = EventDate::parse(text).unwrap();
            assert_eq!(d.text(), text);
            assert_eq!(d.to_string(), text);
        }
        let b: EventDate =
            serde_json::from_str(r#"{"not_before":"2014-04","not_after":"2015"}"#).unwrap();
        assert_eq!(b.text(), "between 2014-04 and 2015");
        assert_eq!(b.text(), b.to_string());
        for text in ["2019-06-01", "0001-01-01", "9999-12-31", "2024-02-29"] {
            assert_eq!(day(text).text(), text);
        }
    }

    /// A day knows its year, at both ends of the range a ledger can hold and on the last day
    /// of a year.
    #[test]
    fn a_day_knows_its_year() {
        assert_eq!(day("2019-06-01").year(), 2019);
        assert_eq!(day("2019-12-31").year(), 2019);
        assert_eq!(day("0001-01-01").year(), 1);
        assert_eq!(day("9999-12-31").year(), 9999);
    }

    /// Year 0001 is the first year a date may have; year 0000 is impossible.
    #[test]
    fn year_one_is_the_first_year_a_date_may_have() {
        assert_eq!(day("0001-01-01").to_string(), "0001-01-01");
        assert!(PartialDate::parse("0001").is_ok());
        assert!(matches!(
            PartialDate::parse("0000"),
            Err(DateError::Impossible(_))
        ));
    }

    /// A separator other than `-` at either place is malformed, whatever the other one is.
    #[test]
    fn each_separator_must_be_a_hyphen() {
        for bad in ["2023/01", "2023-01/01", "2023/01-01", "2023.01"] {
            assert!(
                matches!(PartialDate::parse(bad), Err(DateError::Malformed(_))),
                "{bad}"
            );
        }
    }

    /// Bounds may name the same day twice (a window of one day); only bounds whose first day
    /// comes after the last are refused.
    #[test]
    fn bounds_of_one_and_the_same_day_are_in_order() {
        let one = PartialDate::parse("2014-04-15").unwrap();
        let d = EventDate::bounded(one, one).unwrap();
        assert_eq!(d.window(), (day("2014-04-15"), day("2014-04-15")));
        let next = PartialDate::parse("2014-04-16").unwrap();
        assert!(EventDate::bounded(one, next).is_ok());
        assert!(matches!(
            EventDate::bounded(next, one),
            Err(DateError::BoundsReversed(_, _))
        ));
    }

    /// A value of the wrong type where a date belongs is refused with a message that says what
    /// a date may be (the messages reach the user through append's errors).
    #[test]
    fn a_date_of_the_wrong_type_is_refused_saying_what_a_date_may_be() {
        let e = serde_json::from_str::<EventDate>("5")
            .unwrap_err()
            .to_string();
        assert!(e.contains("YYYY-MM-DD") && e.contains("not_before"), "{e}");
        let e = serde_json::from_str::<EventDate>(r#"{"not_before":5,"not_after":"2015"}"#)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("a date string YYYY, YYYY-MM or YYYY-MM-DD"),
            "{e}"
        );
        let e = serde_json::from_str::<EventDate>(
            r#"{"not_before":"2014","not_after":"2015","on":"2014"}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("unknown field `on`"), "{e}");
    }
}
