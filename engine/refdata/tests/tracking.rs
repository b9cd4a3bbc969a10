//! Tracking numbers and check digits against the test numbers of
//! jkeen/tracking_number_data (copied to tests/data, MIT: tests/data/LICENSE):
//!
//! - `s10.json` (checksum `s10`): every valid and invalid test number;
//! - `old_dominion.json` and `purolator.json`, the only formats whose checksum is `luhn`
//!   (the library's Luhn over the `SerialNumber` group, check digit in `CheckDigit`),
//!   which is exactly [`luhn_check_digit`]. The `mod10` formats (UPS, USPS, FedEx, Canada
//!   Post, OnTrac) are not Luhn: they weight odd and even positions without summing the
//!   digits of products, so they are not used;
//! - `dhl.json`'s "DHL Express" (checksum `mod7`: the serial as a number modulo 7), for
//!   [`mod7_check_digit`].
//!
//! A carrier's invalid number may be invalid for its format rather than its check digit;
//! each is matched against the format's own pattern first and its reason checked.

use crossdock_refdata::{
    INSTALLATION_PREFIX, InternalError, InternalNumber, S10_WEIGHTS, S10Error, S10Number,
    format_internal, format_s10, internal_check, internal_prefix_valid, luhn_check_digit,
    luhn_valid, mod7_check_digit, s10_check, s10_check_digit, s10_countries, s10_country,
    s10_country_ok, s10_indicator_issuable, s10_valid,
};
use regex::{Regex, RegexBuilder};
use serde_json::Value;

/// One format of a carrier file.
struct Format {
    name: String,
    /// `^(?:pattern)$`, as the library anchors it; compiled only for the formats used
    /// (some others use look-around, which the `regex` crate does not have).
    pattern: String,
    checksum: Option<String>,
    valid: Vec<String>,
    invalid: Vec<String>,
}

fn formats(json: &str) -> Vec<Format> {
    let file: Value = serde_json::from_str(json).expect("JSON");
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .expect("array")
            .iter()
            .map(|s| s.as_str().expect("string").to_owned())
            .collect()
    };
    file["tracking_numbers"]
        .as_array()
        .expect("tracking_numbers")
        .iter()
        .map(|f| {
            let pattern = match &f["regex"] {
                Value::String(s) => s.clone(),
                parts => strings(parts).concat(),
            };
            Format {
                name: f["name"].as_str().expect("name").to_owned(),
                pattern: format!("^(?:{pattern})$"),
                checksum: f["validation"]["checksum"]["name"]
                    .as_str()
                    .map(str::to_owned),
                valid: strings(&f["test_numbers"]["valid"]),
                invalid: strings(&f["test_numbers"]["invalid"]),
            }
        })
        .collect()
}

impl Format {
    fn regex(&self) -> Regex {
        RegexBuilder::new(&self.pattern)
            .unicode(false)
            .build()
            .unwrap_or_else(|e| panic!("{}: {e}", self.name))
    }
}

fn without_spaces(s: &str) -> String {
    s.chars().filter(|c| !c.is_ascii_whitespace()).collect()
}

/// Why a carrier's number is valid or not: `None` valid, else `"format"` (its pattern
/// does not match) or `"check digit"` (`check` refuses the serial and digit).
fn verdict(regex: &Regex, number: &str, check: fn(&str, u8) -> bool) -> Option<&'static str> {
    let Some(groups) = regex.captures(number) else {
        return Some("format");
    };
    let serial = without_spaces(&groups["SerialNumber"]);
    let digit = without_spaces(&groups["CheckDigit"]);
    let digit = digit.parse::<u8>().expect("one digit");
    (!check(&serial, digit)).then_some("check digit")
}

/// Runs every test number of the formats with `checksum` through `check`; answers
/// `(format, number, reason)` for every invalid one.
fn carrier_numbers(
    json: &str,
    checksum: &str,
    check: fn(&str, u8) -> bool,
) -> Vec<(String, String, &'static str)> {
    let mut reasons = Vec::new();
    let chosen: Vec<Format> = formats(json)
        .into_iter()
        .filter(|f| f.checksum.as_deref() == Some(checksum))
        .collect();
    assert!(!chosen.is_empty(), "no {checksum} format");
    for format in &chosen {
        let regex = format.regex();
        for number in &format.valid {
            assert_eq!(
                verdict(&regex, number, check),
                None,
                "{} {number:?}",
                format.name
            );
        }
        for number in &format.invalid {
            let reason = verdict(&regex, number, check)
                .unwrap_or_else(|| panic!("{} {number:?}: invalid, but passes", format.name));
            reasons.push((format.name.clone(), number.clone(), reason));
        }
    }
    reasons
}

fn owned(rows: &[(&str, &str, &'static str)]) -> Vec<(String, String, &'static str)> {
    rows.iter()
        .map(|(f, n, r)| ((*f).to_owned(), (*n).to_owned(), *r))
        .collect()
}

#[test]
fn luhn_agrees_with_every_luhn_test_number_of_the_carriers() {
    let luhn = |serial: &str, digit: u8| luhn_check_digit(serial) == Some(digit);
    let mut reasons = carrier_numbers(include_str!("data/old_dominion.json"), "luhn", luhn);
    reasons.extend(carrier_numbers(
        include_str!("data/purolator.json"),
        "luhn",
        luhn,
    ));
    assert_eq!(
        reasons,
        owned(&[
            ("Old Dominion", "07209562773", "check digit"),
            // A textbook Luhn number with another carrier's prefix.
            ("Old Dominion", "79927398713", "format"),
            ("Old Dominion", "10000000000", "format"),
            (
                "Old Dominion Guaranteed Shipment",
                "80003280389",
                "check digit"
            ),
            ("Old Dominion Guaranteed Shipment", "10000000000", "format"),
            ("Purolator (12)", "320595463939", "check digit"),
            ("Purolator (12)", "287809468875", "check digit"),
        ])
    );
    assert!(luhn_valid("79927398713"));
    // These numbers are all digits, so the whole-number check says the same.
    for number in ["07209562763", "80993847369", "320595463938", "331434972567"] {
        assert!(luhn_valid(number), "{number}");
    }
    for number in ["07209562773", "80003280389", "320595463939", "287809468875"] {
        assert!(!luhn_valid(number), "{number}");
    }
}

#[test]
fn mod7_agrees_with_dhl_express() {
    let mod7 = |serial: &str, digit: u8| mod7_check_digit(serial) == Some(digit);
    let reasons = carrier_numbers(include_str!("data/dhl.json"), "mod7", mod7);
    assert_eq!(
        reasons,
        owned(&[
            ("DHL Express", "3318810010", "check digit"),
            ("DHL Express", "3318810034", "check digit"),
            ("DHL Express", "3318810011", "check digit"),
        ])
    );
}

fn s10_format() -> Format {
    let mut all = formats(include_str!("data/s10.json"));
    assert_eq!(all.len(), 1);
    all.remove(0)
}

#[test]
fn s10_agrees_with_every_s10_test_number() {
    let format = s10_format();
    assert_eq!(format.checksum.as_deref(), Some("s10"));
    assert!(!format.valid.is_empty());
    let regex = format.regex();
    for number in &format.valid {
        assert!(regex.is_match(number), "{number}");
        assert!(s10_valid(number), "{number}");
    }
    // The data gives no reasons; these are why (the first changes the check digit, the
    // second names no country).
    let reasons: Vec<(&str, Result<S10Number<'_>, S10Error>)> = format
        .invalid
        .iter()
        .map(|n| (n.as_str(), s10_check(n)))
        .collect();
    assert_eq!(
        reasons,
        [
            ("RB123456786US", Err(S10Error::CheckDigit)),
            ("RB123456785XX", Err(S10Error::UnknownCountry)),
        ]
    );
}

#[test]
fn s10_parts_and_the_spec_example() {
    assert_eq!(
        s10_check("RB123456785GB"),
        Ok(S10Number {
            service_indicator: "RB",
            serial: 12_345_678,
            check_digit: 5,
            country: "GB",
        })
    );
    assert_eq!(s10_check_digit("12345678"), Some(5));
    // The data's weights and modulus are ours.
    let file: Value = serde_json::from_str(include_str!("data/s10.json")).expect("JSON");
    let checksum = &file["tracking_numbers"][0]["validation"]["checksum"];
    let weights: Vec<u64> = checksum["weightings"]
        .as_array()
        .expect("weightings")
        .iter()
        .map(|w| w.as_u64().expect("weight"))
        .collect();
    assert_eq!(weights, S10_WEIGHTS.map(u64::from));
    assert_eq!(checksum["modulo"], 11);
}

#[test]
fn s10_refuses_every_other_shape() {
    // (number, reason, does s10.json's own pattern match it?)
    let cases = [
        ("RB12345678GB", S10Error::Format, false),   // 7 + 1 digits
        ("RB1234567855GB", S10Error::Format, false), // 10 digits
        ("rb123456785GB", S10Error::Format, false),
        ("RB123456785gb", S10Error::Format, false),
        ("R1123456785GB", S10Error::Format, false),
        ("RB123456785G", S10Error::Format, false),
        ("", S10Error::Format, false),
        ("RB１23456785GB", S10Error::Format, false),
        // Spaces: the data's pattern allows them; stored numbers have none.
        ("RB 1234 5678 5 GB", S10Error::Format, true),
        ("RB123456784GB", S10Error::CheckDigit, true),
        ("RB123456785ZZ", S10Error::UnknownCountry, true),
        ("RB123456785AW", S10Error::UnknownCountry, true), // not in s10.json's list
    ];
    let regex = s10_format().regex();
    for (number, reason, pattern_matches) in cases {
        assert_eq!(s10_check(number), Err(reason), "{number:?}");
        assert_eq!(regex.is_match(number), pattern_matches, "{number:?}");
    }
    // The data's pattern admits J? and K? indicators when presented; so do we.
    assert!(s10_valid("JA123456785GB"));
}

#[test]
fn formatting_s10_round_trips_and_refuses_what_may_not_be_issued() {
    let number = format_s10("RR", 10_000_000, "CN").expect("formats");
    assert_eq!(number, "RR100000003CN");
    assert!(s10_valid(&number));
    assert_eq!(
        format_s10("RB", 12_345_678, "GB").as_deref(),
        Ok("RB123456785GB")
    );
    assert_eq!(format_s10("EE", 0, "DE").as_deref(), Ok("EE000000005DE"));
    assert_eq!(
        format_s10("CP", 99_999_999, "US").map(|n| s10_valid(&n)),
        Ok(true)
    );
    let refusals = [
        ("JA", 1, "CN", S10Error::ServiceIndicator),
        ("KZ", 1, "CN", S10Error::ServiceIndicator),
        ("R", 1, "CN", S10Error::ServiceIndicator),
        ("RRR", 1, "CN", S10Error::ServiceIndicator),
        ("rr", 1, "CN", S10Error::ServiceIndicator),
        ("R1", 1, "CN", S10Error::ServiceIndicator),
        ("RR", 100_000_000, "CN", S10Error::Serial),
        ("RR", u32::MAX, "CN", S10Error::Serial),
        ("RR", 1, "XX", S10Error::UnknownCountry),
        ("RR", 1, "cn", S10Error::UnknownCountry),
    ];
    for (indicator, serial, country, reason) in refusals {
        assert_eq!(
            format_s10(indicator, serial, country),
            Err(reason),
            "{indicator} {serial} {country}"
        );
    }
    assert!(s10_indicator_issuable("RR"));
    assert!(s10_indicator_issuable("IZ"));
    assert!(s10_indicator_issuable("LZ"));
    assert!(!s10_indicator_issuable("JJ"));
}

#[test]
fn the_s10_countries_are_the_upu_operators_of_s10_json() {
    assert_eq!(s10_countries().len(), 191);
    for code in ["CN", "DE", "GB", "US", "HK", "CV", "CF"] {
        assert!(s10_country_ok(code), "{code}");
    }
    for code in ["XX", "ZZ", "gb", "", "GBR", "AW", "PR"] {
        assert!(!s10_country_ok(code), "{code:?}");
    }
    let gb = s10_country("GB").expect("GB");
    assert_eq!(
        (gb.name, gb.operator),
        ("Great Britain", "Royal Mail Group plc")
    );
}

#[test]
fn internal_numbers_are_prefix_serial_and_luhn_of_the_serial() {
    assert_eq!(INSTALLATION_PREFIX, "CD");
    // orders-labels.md: the installation-wide sequence from 1.
    assert_eq!(format_internal("CD", 1).as_deref(), Ok("CD00000000018"));
    assert_eq!(format_internal("CD", 2).as_deref(), Ok("CD00000000026"));
    assert_eq!(format_internal("XBL", 1).as_deref(), Ok("XBL00000000018"));
    assert_eq!(
        format_internal("ABCD", 9_999_999_999).as_deref(),
        Ok("ABCD99999999990")
    );
    assert_eq!(format_internal("CD", 0).as_deref(), Ok("CD00000000000"));
    for (prefix, serial, reason) in [
        ("C", 1, InternalError::Prefix),
        ("ABCDE", 1, InternalError::Prefix),
        ("cd", 1, InternalError::Prefix),
        ("C1", 1, InternalError::Prefix),
        ("", 1, InternalError::Prefix),
        ("CD", 10_000_000_000, InternalError::Serial),
        ("CD", u64::MAX, InternalError::Serial),
    ] {
        assert_eq!(
            format_internal(prefix, serial),
            Err(reason),
            "{prefix} {serial}"
        );
    }
    assert_eq!(
        internal_check("CD00000000018"),
        Ok(InternalNumber {
            prefix: "CD",
            serial: 1,
            check_digit: 8,
        })
    );
    for serial in [1, 2, 3, 10, 99, 1_234_567_890, 9_999_999_999] {
        let number = format_internal("XBL", serial).expect("formats");
        assert_eq!(
            internal_check(&number).map(|n| n.serial),
            Ok(serial),
            "{number}"
        );
    }
    let refusals = [
        ("CD00000000019", InternalError::CheckDigit),
        ("CD00000000081", InternalError::CheckDigit), // a transposition
        ("CD0000000001", InternalError::Format),
        ("CD000000000188", InternalError::Format),
        ("CD0000000001 8", InternalError::Format),
        ("C00000000018", InternalError::Prefix),
        ("ABCDE00000000018", InternalError::Prefix),
        ("00000000018", InternalError::Prefix),
        ("cd00000000018", InternalError::Prefix),
        ("RB123456785GB", InternalError::Format), // an S10 number is no internal one
        ("", InternalError::Prefix),
    ];
    for (number, reason) in refusals {
        assert_eq!(internal_check(number), Err(reason), "{number:?}");
    }
    assert!(internal_prefix_valid("CD"));
    assert!(!internal_prefix_valid("CDXYZ"));
}
