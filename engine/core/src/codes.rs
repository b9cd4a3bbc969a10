//! Codes and calendar dates: countries, postcodes, HS codes, ship dates.
//!
//! Each type here can only hold a valid value; parsing is the one way in.

use std::fmt;

/// An ISO 3166-1 alpha-2 country code (upper case).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Country([u8; 2]);

impl Country {
    /// Parses an upper-case ISO 3166-1 alpha-2 code. Lower case is refused, not guessed.
    pub fn parse(code: &str) -> Option<Country> {
        let bytes: [u8; 2] = code.as_bytes().try_into().ok()?;
        if !bytes.iter().all(u8::is_ascii_uppercase) {
            return None;
        }
        let known = ISO_3166_ALPHA2
            .as_bytes()
            .chunks(3)
            .any(|c| c[..2] == bytes);
        known.then_some(Country(bytes))
    }

    pub fn code(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
}

impl fmt::Debug for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Display for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The 249 officially assigned ISO 3166-1 alpha-2 codes, plus XK (Kosovo), which postal
/// operators and carriers use. Derived from the region list of libaddressinput's
/// `countryinfo.txt` (shared/data/postal) without AC, TA (exceptionally reserved) and ZZ.
const ISO_3166_ALPHA2: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ \
CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR \
GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP \
KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT \
MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW \
SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG \
UM US UY UZ VA VC VE VG VI VN VU WF WS XK YE YT ZA ZM ZW ";

/// A normalised postcode or postcode prefix: upper case, spaces and dashes removed.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Default)]
pub struct Postcode(Box<str>);

/// Longest postcode we accept, after normalisation (the longest real ones have 10 characters).
pub const POSTCODE_LEN_MAX: usize = 16;

impl Postcode {
    /// Normalises a postcode as the rate book does: upper case, spaces and dashes removed.
    /// `Ok(None)` for an empty postcode; `Err` names what is wrong with a malformed one.
    pub fn normalise(raw: &str) -> Result<Option<Postcode>, &'static str> {
        let mut out = String::with_capacity(raw.len());
        for c in raw.chars() {
            match c {
                ' ' | '-' => {}
                c if c.is_ascii_alphanumeric() => out.push(c.to_ascii_uppercase()),
                _ => return Err("may hold only letters, digits, spaces and dashes"),
            }
        }
        if out.len() > POSTCODE_LEN_MAX {
            return Err("is longer than 16 characters");
        }
        Ok((!out.is_empty()).then(|| Postcode(out.into_boxed_str())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A calendar date as days since 1970-01-01 (proleptic Gregorian), so that comparisons and
/// validity windows are integer comparisons.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(i32);

impl Date {
    /// Years outside 1900..=2200 are refused: no rate book or parcel lives there.
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Option<Date> {
        if !(1900..=2200).contains(&year)
            || !(1..=12).contains(&month)
            || day == 0
            || day > days_in_month(year, month)
        {
            return None;
        }
        Some(Date(days_from_civil(year, month, day)))
    }

    /// Parses exactly `YYYY-MM-DD`.
    pub fn parse(text: &str) -> Option<Date> {
        let b = text.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let digits = |r: std::ops::Range<usize>| -> Option<u32> {
            b[r].iter().try_fold(0u32, |acc, &c| {
                c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
            })
        };
        let year = i32::try_from(digits(0..4)?).ok()?;
        Date::from_ymd(year, digits(5..7)?, digits(8..10)?)
    }

    pub fn from_days_since_epoch(days: i32) -> Date {
        Date(days)
    }

    pub fn days_since_epoch(&self) -> i32 {
        self.0
    }

    pub fn ymd(&self) -> (i32, u32, u32) {
        civil_from_days(self.0)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

impl fmt::Debug for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A half-open validity window `[from, to)`; an open end is `None`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Validity {
    pub from: Option<Date>,
    pub to: Option<Date>,
}

impl Validity {
    pub fn contains(&self, date: Date) -> bool {
        self.from.is_none_or(|from| date >= from) && self.to.is_none_or(|to| date < to)
    }

    /// Whether two windows share at least one day.
    pub fn overlaps(&self, other: &Validity) -> bool {
        let starts_before_other_ends = match (self.from, other.to) {
            (Some(from), Some(to)) => from < to,
            _ => true,
        };
        let other_starts_before_this_ends = match (other.from, self.to) {
            (Some(from), Some(to)) => from < to,
            _ => true,
        };
        starts_before_other_ends && other_starts_before_this_ends
    }
}

fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

// Howard Hinnant's days_from_civil / civil_from_days algorithms.
fn days_from_civil(year: i32, month: u32, day: u32) -> i32 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = month as i32;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i32 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i32) -> (i32, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i32::from(month <= 2);
    (year, month, day)
}

/// An HS (Harmonized System) code: 2 to 10 digits, dots and spaces removed.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct HsCode(Box<str>);

impl HsCode {
    pub fn parse(raw: &str) -> Option<HsCode> {
        let digits: String = raw.chars().filter(|c| *c != '.' && *c != ' ').collect();
        let ok = (2..=10).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit());
        ok.then(|| HsCode(digits.into_boxed_str()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The 6-digit subheading, when the code has at least 6 digits.
    pub fn hs6(&self) -> Option<&str> {
        self.0.get(..6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_region_of_the_postal_reference_data_is_a_country_but_the_reserved_ones() {
        // shared/data/postal/countryinfo.txt lists about 250 regions as `data/XX=`.
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/data/postal/countryinfo.txt"
        );
        let Ok(text) = std::fs::read_to_string(path) else {
            panic!("reference data missing at {path}");
        };
        let mut seen = 0;
        for line in text.lines() {
            let Some(rest) = line.strip_prefix("data/") else {
                continue;
            };
            let code = &rest[..2];
            if rest.as_bytes().get(2) != Some(&b'=') {
                continue;
            }
            seen += 1;
            let expect_known = !matches!(code, "AC" | "TA" | "ZZ");
            assert_eq!(Country::parse(code).is_some(), expect_known, "{code}");
        }
        assert!(seen > 240, "only {seen} regions read");
        assert_eq!(ISO_3166_ALPHA2.split_whitespace().count(), 250);
        for bad in ["de", "D", "DEU", "", "ZZ", "AA", "1A"] {
            assert!(Country::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn dates_round_trip_and_refuse_impossible_days() {
        for text in [
            "1970-01-01",
            "2026-11-24",
            "2024-02-29",
            "2000-02-29",
            "2199-12-31",
        ] {
            assert_eq!(Date::parse(text).unwrap().to_string(), text);
        }
        assert_eq!(Date::parse("1970-01-02").unwrap().days_since_epoch(), 1);
        for bad in [
            "2026-02-29",
            "2100-02-29",
            "2026-13-01",
            "2026-00-10",
            "2026-1-1",
            "26-11-24",
            "2026/11/24",
            "",
            "2026-11-24T00:00",
        ] {
            assert!(Date::parse(bad).is_none(), "{bad}");
        }
        for d in -1000..100_000 {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
    }

    #[test]
    fn validity_is_half_open() {
        let v = Validity {
            from: Date::parse("2026-07-01"),
            to: Date::parse("2026-08-01"),
        };
        assert!(!v.contains(Date::parse("2026-06-30").unwrap()));
        assert!(v.contains(Date::parse("2026-07-01").unwrap()));
        assert!(v.contains(Date::parse("2026-07-31").unwrap()));
        assert!(!v.contains(Date::parse("2026-08-01").unwrap()));
        let next = Validity {
            from: Date::parse("2026-08-01"),
            to: None,
        };
        assert!(!v.overlaps(&next));
        let open = Validity::default();
        assert!(open.overlaps(&v) && v.overlaps(&open));
    }

    #[test]
    fn postcodes_normalise_like_the_rate_book() {
        let cases = [
            ("sw1a 1aa", Some("SW1A1AA")),
            ("10115", Some("10115")),
            ("123-4567", Some("1234567")),
            (" ", None),
            ("", None),
        ];
        for (raw, want) in cases {
            assert_eq!(
                Postcode::normalise(raw)
                    .unwrap()
                    .as_ref()
                    .map(Postcode::as_str),
                want,
                "{raw}"
            );
        }
        assert!(Postcode::normalise("10115;DROP").is_err());
        assert!(Postcode::normalise(&"9".repeat(17)).is_err());
    }

    #[test]
    fn hs_codes_keep_their_digits() {
        assert_eq!(HsCode::parse("3926.90").unwrap().hs6(), Some("392690"));
        assert_eq!(HsCode::parse("39").unwrap().hs6(), None);
        assert!(HsCode::parse("39a690").is_none());
        assert!(HsCode::parse("1").is_none());
        assert!(HsCode::parse("12345678901").is_none());
    }
}
