//! Tracking numbers (orders-labels.md, "Tracking numbers"): UPU S10 item numbers and
//! crossdock's internal numbers, formatted from a serial and checked when presented.
//!
//! The two shapes never overlap: an S10 number ends in its country's two capitals, an
//! internal one in a digit.

use std::sync::LazyLock;

use crate::check_digit::{luhn_check_digit, s10_check_digit};
use crate::tsv;

const FILE: &str = "data/s10-countries.tsv";
const TEXT: &str = include_str!("../data/s10-countries.tsv");

/// The largest S10 serial: 8 digits.
pub const S10_SERIAL_MAX: u32 = 99_999_999;

/// The largest internal serial: 10 digits.
pub const INTERNAL_SERIAL_MAX: u64 = 9_999_999_999;

/// The prefix of the installation-wide sequence that carriers without a range share
/// (`CD00000000018`). Reserved: no number range may take it (orders-labels.md), which the
/// range's owner checks; [`format_internal`] formats it like any prefix.
pub const INSTALLATION_PREFIX: &str = "CD";

/// A country whose postal operator issues S10 numbers (s10.json's `Courier` lookup).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct S10Country {
    /// ISO 3166-1 alpha-2 (`GB`).
    pub code: &'static str,
    /// The country's English name as the source writes it (`Great Britain` for `GB`).
    pub name: &'static str,
    /// The postal operator (`Royal Mail Group plc`).
    pub operator: &'static str,
}

/// Every country with a UPU operator in s10.json, sorted by code (191).
pub fn s10_countries() -> &'static [S10Country] {
    static COUNTRIES: LazyLock<Vec<S10Country>> = LazyLock::new(|| {
        let all: Vec<S10Country> = tsv::records::<3>(FILE, TEXT)
            .map(|(line, [code, name, operator])| {
                assert!(two_capitals(code), "{FILE}:{line}: code {code:?}");
                assert!(!operator.is_empty(), "{FILE}:{line}: no operator");
                S10Country {
                    code,
                    name,
                    operator,
                }
            })
            .collect();
        assert!(
            all.windows(2).all(|w| w[0].code < w[1].code),
            "{FILE}: codes sorted and unique"
        );
        all
    });
    &COUNTRIES
}

/// The S10 operator of a country by its code (`"GB"`), if it has one.
pub fn s10_country(code: &str) -> Option<&'static S10Country> {
    let all = s10_countries();
    all.binary_search_by(|c| c.code.cmp(code))
        .ok()
        .map(|i| &all[i])
}

/// Whether `code` is a country with a UPU operator, so S10 numbers may end in it.
pub fn s10_country_ok(code: &str) -> bool {
    s10_country(code).is_some()
}

/// What is wrong with an S10 number, or with the parts of one to be formatted.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum S10Error {
    /// Not 2 capitals, 8 digits, a digit and 2 capitals (13 ASCII characters).
    Format,
    /// The check digit is not the serial's.
    CheckDigit,
    /// The last two letters are no country with a UPU operator.
    UnknownCountry,
    /// Formatting: the service indicator is not 2 capitals or starts with `J` or `K`.
    ServiceIndicator,
    /// Formatting: the serial has more than 8 digits.
    Serial,
}

/// A checked S10 number's parts, borrowed from the text.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct S10Number<'a> {
    /// The service indicator (`RB`).
    pub service_indicator: &'a str,
    /// The 8-digit serial as a number (`12345678`).
    pub serial: u32,
    /// The check digit (`5`).
    pub check_digit: u8,
    /// The issuing country (`GB`).
    pub country: &'a str,
}

/// Checks a presented S10 number as s10.json does: 2 capitals, 8 serial digits, the
/// serial's check digit, and a country with a UPU operator. `"RB123456785GB"` is one.
///
/// The text must be exactly the 13 characters: spaces, which s10.json's pattern allows
/// between characters, are the caller's to remove (numbers are stored without). Any 2
/// capitals are a service indicator here, `J?` and `K?` too, as in s10.json; only issuing
/// refuses those ([`s10_indicator_issuable`]).
pub fn s10_check(number: &str) -> Result<S10Number<'_>, S10Error> {
    let b = number.as_bytes();
    let shape = b.len() == 13
        && b[..2].iter().all(u8::is_ascii_uppercase)
        && b[2..11].iter().all(u8::is_ascii_digit)
        && b[11..].iter().all(u8::is_ascii_uppercase);
    if !shape {
        return Err(S10Error::Format);
    }
    // All ASCII, so every index is a character boundary.
    let (service_indicator, serial, check, country) =
        (&number[..2], &number[2..10], b[10] - b'0', &number[11..]);
    if s10_check_digit(serial) != Some(check) {
        return Err(S10Error::CheckDigit);
    }
    if !s10_country_ok(country) {
        return Err(S10Error::UnknownCountry);
    }
    Ok(S10Number {
        service_indicator,
        serial: serial.parse().map_err(|_| S10Error::Format)?,
        check_digit: check,
        country,
    })
}

/// Whether `number` is a valid S10 number ([`s10_check`] is `Ok`).
pub fn s10_valid(number: &str) -> bool {
    s10_check(number).is_ok()
}

/// Whether a range may issue numbers with this service indicator: 2 capitals, not `J?`
/// or `K?` (orders-labels.md).
pub fn s10_indicator_issuable(indicator: &str) -> bool {
    two_capitals(indicator) && !matches!(indicator.as_bytes()[0], b'J' | b'K')
}

/// Formats an S10 number: indicator, the serial zero-padded to 8 digits, its check digit,
/// country. `("RB", 12345678, "GB")` → `RB123456785GB`. Every `Ok` passes [`s10_check`].
///
/// Errors: [`S10Error::ServiceIndicator`] unless [`s10_indicator_issuable`],
/// [`S10Error::Serial`] over [`S10_SERIAL_MAX`], [`S10Error::UnknownCountry`] unless
/// [`s10_country_ok`].
pub fn format_s10(indicator: &str, serial: u32, country: &str) -> Result<String, S10Error> {
    if !s10_indicator_issuable(indicator) {
        return Err(S10Error::ServiceIndicator);
    }
    if serial > S10_SERIAL_MAX {
        return Err(S10Error::Serial);
    }
    if !s10_country_ok(country) {
        return Err(S10Error::UnknownCountry);
    }
    let serial = format!("{serial:08}");
    let check = s10_check_digit(&serial).ok_or(S10Error::Serial)?;
    let number = format!("{indicator}{serial}{check}{country}");
    debug_assert_eq!(s10_check(&number).map(|n| n.check_digit), Ok(check));
    Ok(number)
}

/// What is wrong with an internal number, or with the parts of one to be formatted.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum InternalError {
    /// The prefix is not 2–4 capitals.
    Prefix,
    /// Not a prefix followed by exactly 11 digits (10 serial, 1 check).
    Format,
    /// The check digit is not the serial's Luhn digit.
    CheckDigit,
    /// Formatting: the serial has more than 10 digits.
    Serial,
}

/// A checked internal number's parts, borrowed from the text.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct InternalNumber<'a> {
    /// 2–4 capitals (`CD`, `XBL`).
    pub prefix: &'a str,
    /// The 10-digit serial as a number (`1`).
    pub serial: u64,
    /// The Luhn digit of the 10 serial digits (`8`).
    pub check_digit: u8,
}

/// Whether `prefix` has the shape of an internal prefix: 2–4 ASCII capitals. `CD` has it;
/// that it is reserved ([`INSTALLATION_PREFIX`]) is for the range's owner to check.
pub fn internal_prefix_valid(prefix: &str) -> bool {
    (2..=4).contains(&prefix.len()) && prefix.bytes().all(|b| b.is_ascii_uppercase())
}

/// Formats an internal number: prefix, the serial zero-padded to 10 digits, the Luhn digit
/// of those 10 digits. `("CD", 1)` → `CD00000000018`, `("CD", 2)` → `CD00000000026`.
/// Every `Ok` passes [`internal_check`].
///
/// Errors: [`InternalError::Prefix`] unless [`internal_prefix_valid`],
/// [`InternalError::Serial`] over [`INTERNAL_SERIAL_MAX`].
pub fn format_internal(prefix: &str, serial: u64) -> Result<String, InternalError> {
    if !internal_prefix_valid(prefix) {
        return Err(InternalError::Prefix);
    }
    if serial > INTERNAL_SERIAL_MAX {
        return Err(InternalError::Serial);
    }
    let serial = format!("{serial:010}");
    let check = luhn_check_digit(&serial).ok_or(InternalError::Serial)?;
    let number = format!("{prefix}{serial}{check}");
    debug_assert_eq!(internal_check(&number).map(|n| n.check_digit), Ok(check));
    Ok(number)
}

/// Checks a presented internal number: 2–4 capitals, 10 serial digits, their Luhn digit.
/// `"CD00000000018"` is one; any valid prefix is accepted, `CD` included.
pub fn internal_check(number: &str) -> Result<InternalNumber<'_>, InternalError> {
    let letters = number.bytes().take_while(u8::is_ascii_uppercase).count();
    let (prefix, digits) = number.split_at(letters);
    if !internal_prefix_valid(prefix) {
        return Err(InternalError::Prefix);
    }
    if digits.len() != 11 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(InternalError::Format);
    }
    let (serial, check) = digits.split_at(10);
    let check = check.as_bytes()[0] - b'0';
    if luhn_check_digit(serial) != Some(check) {
        return Err(InternalError::CheckDigit);
    }
    Ok(InternalNumber {
        prefix,
        serial: serial.parse().map_err(|_| InternalError::Format)?,
        check_digit: check,
    })
}

fn two_capitals(s: &str) -> bool {
    s.len() == 2 && s.bytes().all(|b| b.is_ascii_uppercase())
}
