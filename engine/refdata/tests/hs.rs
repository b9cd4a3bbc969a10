//! HS 2022 codes against the real nomenclature (data/harmonized-system.csv). The source's
//! own counts (97 / 1,229 / 5,613, with Comtrade's `99`) are checked by the unit tests of
//! `src/hs.rs`, which see the file as shipped.

use crossdock_refdata::{HsCheck, HsLevel, hs_codes, hs_description, hs_known, hs_normalise};

#[test]
fn codes_are_checked_at_their_level() {
    use HsCheck::{Known, Malformed, Unknown};
    let cases = [
        // 6 digits and more: the first 6 must be a subheading.
        ("392690", Known),
        ("3926.90", Known),
        ("3926 90", Known),
        ("3926.90.00.00", Known),
        ("3926900000", Known),
        ("39269099", Known),
        ("851713", Known),   // smartphones: new in HS 2022
        ("851712", Unknown), // mobile phones of HS 2017, gone in 2022
        ("392699", Unknown),
        ("3926990000", Unknown),
        ("010121", Known),
        ("970610", Known),   // antiques over 250 years: new in HS 2022
        ("970600", Unknown), // antiques of HS 2017, split in 2022
        // Shorter codes: a chapter or a heading.
        ("39", Known),
        ("3926", Known),
        ("01", Known),
        ("97", Known),
        ("00", Unknown),
        ("77", Unknown), // reserved for future use
        ("7700", Unknown),
        ("98", Unknown),
        ("3999", Unknown),
        // 3 and 5 digits name no level: no chapter or heading.
        ("392", Unknown),
        ("39269", Unknown),
        // Comtrade's "not specified according to kind" is no HS 2022 code.
        ("99", Unknown),
        ("9999", Unknown),
        ("999999", Unknown),
        // Not 2–10 digits once dots and spaces are gone.
        ("", Malformed),
        ("3", Malformed),
        (". .", Malformed),
        ("39269000001", Malformed),
        ("39a690", Malformed),
        ("3926-90", Malformed),
        ("3926\t90", Malformed),
        ("３９２６９０", Malformed),
        ("+392690", Malformed),
    ];
    for (code, expected) in cases {
        assert_eq!(hs_known(code), expected, "{code:?}");
    }
}

#[test]
fn normalising_keeps_the_digits() {
    let cases = [
        ("3926.90", Some("392690")),
        (" 3926 . 90 00 ", Some("39269000")),
        ("39", Some("39")),
        ("3", None),
        ("39x", None),
        ("12345678901", None),
    ];
    for (code, expected) in cases {
        assert_eq!(hs_normalise(code).as_deref(), expected, "{code:?}");
    }
}

#[test]
fn descriptions_are_the_sources() {
    let cases = [
        (
            "392690",
            Some("Plastics; other articles n.e.c. in chapter 39"),
        ),
        (
            "3926.90.10",
            Some("Plastics; other articles n.e.c. in chapter 39"),
        ),
        (
            "3926",
            Some(
                "Articles of plastics and articles of other materials of heading no. 3901 to 3914, n.e.c. in chapter 39",
            ),
        ),
        ("39", Some("Plastics and articles thereof")),
        ("01", Some("Animals; live")),
        ("392", None),
        ("999999", None),
        ("x", None),
    ];
    for (code, expected) in cases {
        assert_eq!(hs_description(code), expected, "{code:?}");
    }
}

#[test]
fn every_code_of_the_table_is_known_and_its_parents_too() {
    let chapters: Vec<&str> = hs_codes(HsLevel::Chapter).collect();
    let headings: Vec<&str> = hs_codes(HsLevel::Heading).collect();
    let subheadings: Vec<&str> = hs_codes(HsLevel::Subheading).collect();
    assert_eq!(
        (chapters.len(), headings.len(), subheadings.len()),
        (96, 1_228, 5_612),
        "the WCO's counts of HS 2022"
    );
    assert_eq!(chapters.first(), Some(&"01"));
    assert_eq!(chapters.last(), Some(&"97"));
    for code in chapters.iter().chain(&headings).chain(&subheadings) {
        assert_eq!(hs_known(code), HsCheck::Known, "{code}");
        assert!(
            hs_description(code).is_some_and(|d| !d.is_empty()),
            "{code}"
        );
    }
    for code in &subheadings {
        assert!(headings.binary_search(&&code[..4]).is_ok(), "{code}");
    }
    for code in &headings {
        assert!(chapters.binary_search(&&code[..2]).is_ok(), "{code}");
    }
}
