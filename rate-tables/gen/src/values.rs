//! The value types of generated cells: fixed-scale decimals and calendar dates.
//!
//! Money never passes through floating point: amounts are integer mantissas at a fixed scale,
//! written as Parquet DECIMAL, and literals are parsed from decimal strings.

use std::fmt;

/// A non-negative decimal with 4 places, held as its mantissa: `Dec4(125_000)` is 12.5.
/// Written as `Decimal128(18, 4)`: money and percentages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Dec4(pub i128);

/// A non-negative decimal with 8 places, held as its mantissa. Written as `Decimal128(20, 8)`:
/// exchange rates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Dec8(pub i128);

impl Dec4 {
    pub(crate) const SCALE: u32 = 4;
    pub(crate) const ZERO: Dec4 = Dec4(0);

    /// Parses a literal such as `"12.50"`. A malformed literal is a bug in the generator's own
    /// data; it panics, at compile time when used in a `const`.
    pub(crate) const fn lit(text: &str) -> Dec4 {
        Dec4(parse_scaled(text, Self::SCALE))
    }

    /// Whole units: `Dec4::units(3)` is 3.0000.
    pub(crate) const fn units(units: i64) -> Dec4 {
        Dec4(units as i128 * 10_000)
    }

    /// Rounds up to a multiple of `10^-decimals` (the currency's minor unit).
    pub(crate) fn ceil_to(self, decimals: u32) -> Dec4 {
        let step = 10_i128.pow(Self::SCALE - decimals.min(Self::SCALE));
        Dec4((self.0 + step - 1).div_euclid(step) * step)
    }

    /// Rounds half up (all our values are non-negative) to `decimals` places.
    pub(crate) fn round_to(self, decimals: u32) -> Dec4 {
        let step = 10_i128.pow(Self::SCALE - decimals.min(Self::SCALE));
        Dec4((self.0 + step / 2).div_euclid(step) * step)
    }

    /// `self × numerator / denominator`, rounded up at 4 places (all operands non-negative).
    pub(crate) fn mul_div_ceil(self, numerator: i128, denominator: i128) -> Dec4 {
        Dec4((self.0 * numerator + denominator - 1).div_euclid(denominator))
    }

    /// The value with exactly `decimals` places (truncating; round first), e.g. `"12.50"`.
    pub(crate) fn to_fixed(self, decimals: u32) -> String {
        let decimals = decimals.min(Self::SCALE);
        let whole = self.0.div_euclid(10_000);
        let fraction = self.0.rem_euclid(10_000) / 10_i128.pow(Self::SCALE - decimals);
        if decimals == 0 {
            format!("{whole}")
        } else {
            format!("{whole}.{fraction:0width$}", width = decimals as usize)
        }
    }
}

impl std::ops::Add for Dec4 {
    type Output = Dec4;
    fn add(self, other: Dec4) -> Dec4 {
        Dec4(self.0 + other.0)
    }
}

impl Dec8 {
    pub(crate) const SCALE: u32 = 8;

    pub(crate) const fn lit(text: &str) -> Dec8 {
        Dec8(parse_scaled(text, Self::SCALE))
    }
}

/// The mantissa of a non-negative decimal literal at `scale` places.
const fn parse_scaled(text: &str, scale: u32) -> i128 {
    let bytes = text.as_bytes();
    assert!(!bytes.is_empty(), "empty decimal literal");
    let mut mantissa: i128 = 0;
    let mut decimals: u32 = 0;
    let mut seen_point = false;
    let mut i = 0;
    while i < bytes.len() {
        let byte = bytes[i];
        if byte == b'.' && !seen_point {
            seen_point = true;
        } else if byte.is_ascii_digit() {
            mantissa = mantissa * 10 + (byte - b'0') as i128;
            if seen_point {
                decimals += 1;
            }
        } else {
            panic!("malformed decimal literal");
        }
        i += 1;
    }
    assert!(decimals <= scale, "decimal literal has too many places");
    while decimals < scale {
        mantissa *= 10;
        decimals += 1;
    }
    mantissa
}

/// A calendar date as days since 1970-01-01, the Parquet DATE / Arrow `Date32` encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Date(pub i32);

impl Date {
    /// The proleptic Gregorian date `year-month-day` (H. Hinnant's `days_from_civil`).
    /// Out-of-range months or days are a bug in the generator's data.
    pub(crate) const fn ymd(year: i32, month: u32, day: u32) -> Date {
        assert!(
            month >= 1 && month <= 12 && day >= 1 && day <= 31,
            "invalid date literal"
        );
        let year = if month <= 2 { year - 1 } else { year };
        let era = if year >= 0 { year } else { year - 399 } / 400;
        let year_of_era = (year - era * 400) as u32;
        let month_from_march = if month > 2 { month - 3 } else { month + 9 };
        let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
        let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
        Date(era * 146_097 + day_of_era as i32 - 719_468)
    }

    pub(crate) const fn plus_days(self, days: i32) -> Date {
        Date(self.0 + days)
    }
}

impl fmt::Display for Date {
    /// ISO 8601 (`civil_from_days`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let z = self.0 + 719_468;
        let era = z.div_euclid(146_097);
        let day_of_era = z.rem_euclid(146_097);
        let year_of_era =
            (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
        let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
        let month_from_march = (5 * day_of_year + 2) / 153;
        let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
        let month = if month_from_march < 10 {
            month_from_march + 3
        } else {
            month_from_march - 9
        };
        let year = year_of_era + era * 400 + i32::from(month <= 2);
        write!(f, "{year:04}-{month:02}-{day:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::{Date, Dec4, Dec8};

    #[test]
    fn decimal_literals_parse_at_their_scale() {
        assert_eq!(Dec4::lit("12.5"), Dec4(125_000));
        assert_eq!(Dec4::lit("0.0001"), Dec4(1));
        assert_eq!(Dec4::lit("150"), Dec4::units(150));
        assert_eq!(Dec8::lit("7.15"), Dec8(715_000_000));
    }

    #[test]
    fn decimal_rounding_and_formatting() {
        assert_eq!(Dec4::lit("1.2301").ceil_to(2), Dec4::lit("1.24"));
        assert_eq!(Dec4::lit("1.2300").ceil_to(2), Dec4::lit("1.23"));
        assert_eq!(Dec4::lit("417.5").ceil_to(0), Dec4::lit("418"));
        assert_eq!(Dec4::lit("1.235").round_to(2), Dec4::lit("1.24"));
        assert_eq!(Dec4::lit("12.5").to_fixed(2), "12.50");
        assert_eq!(Dec4::lit("1240").to_fixed(0), "1240");
    }

    #[test]
    fn dates_round_trip_through_days() {
        assert_eq!(Date::ymd(1970, 1, 1), Date(0));
        assert_eq!(Date::ymd(2000, 3, 1), Date(11_017));
        for (y, m, d) in [(2026, 7, 1), (2027, 1, 31), (2024, 2, 29), (1999, 12, 31)] {
            assert_eq!(
                Date::ymd(y, m, d).to_string(),
                format!("{y:04}-{m:02}-{d:02}")
            );
        }
        assert_eq!(Date::ymd(2026, 12, 28).plus_days(7), Date::ymd(2027, 1, 4));
    }
}
