//! The derived texts of model.rs and its checks, table-driven.

mod common;

use crossdock_labels::model::{
    InvalidLabel, LabelData, category_text, datamatrix_content, sanitize, segment_text, weight_text,
};

#[test]
fn weight_text_is_kilograms_with_three_decimals() {
    let cases = [
        (0, "0.000 kg"),
        (1, "0.001 kg"),
        (70, "0.070 kg"),
        (700, "0.700 kg"),
        (999, "0.999 kg"),
        (1000, "1.000 kg"),
        (12_345, "12.345 kg"),
        (u32::MAX, "4294967.295 kg"),
    ];
    for (grams, text) in cases {
        assert_eq!(weight_text(grams).as_str(), text, "{grams} g");
        assert_eq!(weight_text(grams).to_string(), text, "{grams} g");
    }
}

#[test]
fn segment_text_is_seq_slash_count_and_kind_in_words() {
    let cases = [
        (2, 5, "hub", "2/5 hub"),
        (1, 5, "first_mile", "1/5 first mile"),
        (3, 5, "line_haul", "3/5 line haul"),
        (4, 5, "customs", "4/5 customs"),
        (5, 5, "last_mile", "5/5 last mile"),
        (1, 1, "rail_feeder", "1/1 rail_feeder"),
        (10, 12, "hub", "10/12 hub"),
    ];
    for (seq, count, kind, text) in cases {
        assert_eq!(segment_text(seq, count, kind).to_string(), text);
    }
}

#[test]
fn category_text_names_the_cn22_boxes() {
    let cases = [
        ("sale_of_goods", "Sale of goods"),
        ("gift", "Gift"),
        ("documents", "Documents"),
        ("commercial_sample", "Commercial sample"),
        ("returned_goods", "Returned goods"),
        ("other", "Other"),
        ("mystery", "mystery"),
    ];
    for (category, text) in cases {
        assert_eq!(category_text(category), text);
    }
}

#[test]
fn datamatrix_content_is_exactly_the_spec_format() {
    let label = common::sample();
    assert_eq!(
        datamatrix_content(&label),
        "CD1|CD00000000018|shp_01JDX8Q4K7M2N5P8R3T6V9W2YZ|2|DE|10115|EU-A|XB-EU-TRK|700"
    );
    let mut no_postcode = label.clone();
    no_postcode.recipient.postcode = None;
    assert_eq!(
        datamatrix_content(&no_postcode),
        "CD1|CD00000000018|shp_01JDX8Q4K7M2N5P8R3T6V9W2YZ|2|DE||EU-A|XB-EU-TRK|700"
    );
}

#[test]
fn sanitize_turns_carets_tildes_and_controls_into_spaces() {
    let cases = [
        ("Anna Schmidt", "Anna Schmidt"),
        ("^XZ", " XZ"),
        ("~JA", " JA"),
        ("a\nb\rc\td", "a b c d"),
        ("nul\0del\u{7f}", "nul del "),
        ("c1\u{85}\u{9f}", "c1  "),
        ("Zoë Müller 李伟 €", "Zoë Müller 李伟 €"),
        ("^FS^XA~DG", " FS XA DG"),
    ];
    for (text, clean) in cases {
        assert_eq!(sanitize(text), clean, "{text:?}");
        assert_eq!(sanitize(text).chars().count(), text.chars().count());
    }
    assert!(matches!(sanitize("plain"), std::borrow::Cow::Borrowed(_)));
}

/// Every change that `check` refuses, and the fields it names.
#[test]
fn check_names_every_problem() {
    type Change = fn(&mut LabelData);
    let cases: [(&str, Change, &[&str]); 14] = [
        ("valid", |_| {}, &[]),
        (
            "empty number",
            |l| l.tracking_number.clear(),
            &["tracking_number"],
        ),
        (
            "number with a space",
            |l| l.tracking_number = "CD 0001".into(),
            &["tracking_number"],
        ),
        (
            "number with a caret",
            |l| l.tracking_number = "CD^FS".into(),
            &["tracking_number"],
        ),
        (
            "number too long",
            |l| l.tracking_number = "A".repeat(31),
            &["tracking_number"],
        ),
        (
            "non-ASCII number",
            |l| l.tracking_number = "CDÖ1".into(),
            &["tracking_number"],
        ),
        ("pipe in the zone", |l| l.zone = "EU|A".into(), &["zone"]),
        (
            "tilde in the postcode",
            |l| l.recipient.postcode = Some("101~5".into()),
            &["recipient.postcode"],
        ),
        ("empty service", |l| l.service.clear(), &["service"]),
        (
            "lower-case country",
            |l| l.recipient.country = "de".into(),
            &["recipient.country"],
        ),
        (
            "content too long",
            |l| l.shipment_id = "s".repeat(160),
            &["datamatrix_content"],
        ),
        ("segment 0", |l| l.segment_seq = 0, &["segment_seq"]),
        (
            "segment past the count",
            |l| l.segment_seq = 6,
            &["segment_seq"],
        ),
        (
            "everything at once",
            |l| {
                l.tracking_number.clear();
                l.shipment_id = "shp|1".into();
                l.ship_date = "1 Dec 2026".into();
            },
            &["tracking_number", "shipment_id", "ship_date"],
        ),
    ];
    for (name, change, fields) in cases {
        let mut label = common::sample();
        change(&mut label);
        let found: Vec<&str> = match label.check() {
            Ok(()) => Vec::new(),
            Err(InvalidLabel { problems }) => problems.iter().map(|p| p.field).collect(),
        };
        assert_eq!(found, fields, "{name}");
    }
}

#[test]
fn the_refusal_reads_as_a_sentence() {
    let mut label = common::sample();
    label.tracking_number.clear();
    label.segment_seq = 0;
    let error = label.check().expect_err("refused");
    assert_eq!(
        error.to_string(),
        "label cannot be rendered: tracking_number: must have 1 to 30 characters; \
         segment_seq: must be between 1 and segment_count"
    );
}
