//! The ZPL form: a byte-for-byte snapshot, the barcode fields, the recipient's last line,
//! sanitizing, the customs block by form, determinism and refusals.
//!
//! Snapshots live in `tests/snapshots/*.zpl`. After a deliberate change to the label,
//! regenerate them with
//! `CROSSDOCK_UPDATE_SNAPSHOTS=1 cargo test -p crossdock-labels --test zpl`
//! and review the diff like code.

mod common;

use crossdock_labels::model::{LabelData, datamatrix_content};
use crossdock_labels::render::{zpl, zpl_into};

fn render(label: &LabelData) -> String {
    let bytes = zpl(label).expect("renders");
    String::from_utf8(bytes).expect("ZPL is UTF-8 (^CI28)")
}

/// One ZPL field: the commands before `^FD` and the data up to `^FS`.
#[derive(Debug)]
struct Field {
    commands: String,
    data: String,
}

/// The fields of a label, in order. Commands outside fields (`^XA`, `^BY` …) are kept
/// with the field that follows them.
fn fields(zpl: &str) -> Vec<Field> {
    zpl.split("^FS")
        .filter_map(|chunk| {
            let (commands, data) = chunk.split_once("^FD")?;
            Some(Field {
                commands: commands.trim().to_owned(),
                data: data.to_owned(),
            })
        })
        .collect()
}

fn data_of<'a>(fields: &'a [Field], command: &str) -> Vec<&'a str> {
    fields
        .iter()
        .filter(|f| f.commands.contains(command))
        .map(|f| f.data.as_str())
        .collect()
}

#[test]
fn snapshots_byte_for_byte() {
    let cases = [
        ("cn22.zpl", common::sample()),
        ("cn23.zpl", common::cn23()),
        ("busy.zpl", common::busy()),
    ];
    for (name, label) in cases {
        common::snapshot(name, &zpl(&label).expect("renders"));
    }
}

#[test]
fn frame_and_page_commands() {
    let text = render(&common::sample());
    assert!(text.starts_with("^XA\n"), "{text}");
    assert!(text.ends_with("^XZ\n"), "{text}");
    assert_eq!(text.matches("^XA").count(), 1);
    assert_eq!(text.matches("^XZ").count(), 1);
    for command in ["^CI28", "^PW812", "^LL1218"] {
        assert_eq!(text.matches(command).count(), 1, "{command}");
    }
    // Every field is data or a box.
    assert_eq!(
        text.matches("^FD").count() + text.matches("^GB").count(),
        text.matches("^FS").count()
    );
}

#[test]
fn barcode_fields_hold_exactly_the_number_and_the_content() {
    for label in [common::sample(), common::cn23(), common::busy()] {
        let text = render(&label);
        let fields = fields(&text);
        assert_eq!(
            data_of(&fields, "^BC"),
            [label.tracking_number.as_str()],
            "one Code 128 of the number"
        );
        let code128 = fields
            .iter()
            .find(|f| f.commands.contains("^BC"))
            .expect("^BC");
        // Interpretation line printed, below; automatic subsets.
        assert!(
            code128.commands.ends_with(",Y,N,N,A"),
            "{}",
            code128.commands
        );

        assert_eq!(
            data_of(&fields, "^BX"),
            [datamatrix_content(&label).as_str()],
            "one DataMatrix of the content"
        );
        let matrix = fields
            .iter()
            .find(|f| f.commands.contains("^BX"))
            .expect("^BX");
        assert!(
            matrix.commands.ends_with(",200"),
            "ECC 200: {}",
            matrix.commands
        );
    }
}

#[test]
fn the_recipients_last_line_is_the_country_name_alone() {
    let label = common::sample();
    let text = render(&label);
    let fields = fields(&text);
    let data: Vec<&str> = fields.iter().map(|f| f.data.as_str()).collect();
    let at = data
        .iter()
        .position(|d| *d == "GERMANY")
        .expect("a field GERMANY");
    assert_eq!(data[at - 1], "Berlin 10115", "after the locality line");
    assert_eq!(
        data[at - 3..at],
        ["Anna Schmidt", "Invalidenstr. 116", "Berlin 10115"]
    );
}

#[test]
fn the_label_prints_what_the_spec_lists() {
    let text = render(&common::sample());
    let fields = fields(&text);
    let data: Vec<&str> = fields.iter().map(|f| f.data.as_str()).collect();
    for expected in [
        "Li Wei",
        "Shenzhen Gadgets Co.",
        "18 Keji Rd",
        "Shenzhen Guangdong 518000",
        "CN",
        "XB-EU-TRK",
        "XB Line",
        "2/5 hub",
        "EU-A",
        "0.700 kg",
        "2026-12-01",
        "Shipment shp_01JDX8Q4K7M2N5P8R3T6V9W2YZ",
    ] {
        assert!(data.contains(&expected), "{expected:?} in {data:?}");
    }
    // The sort code is the largest text on the label.
    let zone = fields.iter().find(|f| f.data == "EU-A").expect("zone");
    assert!(zone.commands.contains("^A0N,150,"), "{}", zone.commands);
}

#[test]
fn customs_block_follows_the_form() {
    struct Case {
        name: &'static str,
        label: LabelData,
        present: &'static [&'static str],
        absent: &'static [&'static str],
    }
    let mut cn22_five = common::sample();
    cn22_five.customs.lines = common::lines(5);
    let mut cn23_five = cn22_five.clone();
    cn23_five.customs.form = crossdock_labels::model::CustomsForm::Cn23;
    let cases = [
        Case {
            name: "CN 22, one line",
            label: common::sample(),
            present: &[
                "CN 22",
                "Sale of goods",
                "Phone case",
                "2",
                "45.00 EUR",
                "392690",
                "Total 45.00 EUR",
            ],
            absent: &["CN 23 attached"],
        },
        Case {
            name: "CN 22, five lines: three printed",
            label: cn22_five,
            present: &["CN 22", "Item 1", "Item 2", "Item 3", "+2 more lines"],
            absent: &["Item 4", "Item 5", "CN 23 attached"],
        },
        Case {
            name: "CN 23",
            label: common::cn23(),
            present: &["CN 23 attached", "Commercial sample"],
            absent: &["CN 22", "Laptop computer", "Total 1450.00 EUR"],
        },
        Case {
            name: "CN 23, five lines",
            label: cn23_five,
            present: &["CN 23 attached"],
            absent: &["CN 22", "Item 1", "+2 more lines"],
        },
    ];
    for case in cases {
        let text = render(&case.label);
        let fields = fields(&text);
        let data: Vec<&str> = fields.iter().map(|f| f.data.as_str()).collect();
        for want in case.present {
            assert!(data.contains(want), "{}: {want:?} in {data:?}", case.name);
        }
        for unwanted in case.absent {
            assert!(
                !data.contains(unwanted),
                "{}: {unwanted:?} in {data:?}",
                case.name
            );
        }
    }
}

#[test]
fn text_cannot_end_a_field_or_start_a_command() {
    let mut label = common::sample();
    label.recipient.name = "Anna^FS^XZ~JA\r\nSchmidt".into();
    label.sender.company = Some("~DGR:EVIL.GRF,1,1,FF".into());
    label.customs.lines[0].description = "Phone\tcase^FO0,0".into();
    label.carrier = "XB\u{85}Line\u{7f}".into();
    let clean = render(&common::sample());
    let text = render(&label);
    // The same commands as the clean label: nothing was injected.
    let commands = |t: &str| t.matches('^').count() + t.matches('~').count();
    assert_eq!(commands(&text), commands(&clean));
    let fields = fields(&text);
    let data: Vec<&str> = fields.iter().map(|f| f.data.as_str()).collect();
    for expected in [
        "Anna FS XZ JA  Schmidt",
        " DGR:EVIL.GRF,1,1,FF",
        "Phone case FO0,0",
        "XB Line ",
    ] {
        assert!(data.contains(&expected), "{expected:?} in {data:?}");
    }
    for d in &data {
        assert!(!d.chars().any(|c| c.is_control()), "{d:?}");
    }
}

#[test]
fn long_text_is_squeezed_then_cut_to_its_box() {
    let mut label = common::sample();
    label.recipient.line1 = "Invalidenstraße ".repeat(12);
    let text = render(&label);
    let fields = fields(&text);
    let line1 = fields
        .iter()
        .find(|f| f.data.starts_with("Invalidenstraße Invalidenstraße"))
        .expect("line 1");
    // 32 dots high, squeezed to 75 %: 24 dots wide.
    assert!(line1.commands.ends_with("^A0N,32,24"), "{}", line1.commands);
    assert!(line1.data.len() < label.recipient.line1.len(), "cut");
    assert!(label.recipient.line1.starts_with(&line1.data));
}

#[test]
fn rendering_is_deterministic() {
    for label in [common::sample(), common::cn23(), common::busy()] {
        let first = zpl(&label).expect("renders");
        assert_eq!(first, zpl(&label.clone()).expect("renders"));
        let mut reused = b"earlier label".to_vec();
        reused.clear();
        zpl_into(&label, &mut reused).expect("renders");
        assert_eq!(first, reused);
    }
}

#[test]
fn invalid_data_is_refused_and_writes_nothing() {
    let mut label = common::sample();
    label.tracking_number = "CD 00000000018".into();
    let error = zpl(&label).expect_err("refused");
    assert_eq!(error.problems.len(), 1);
    assert_eq!(error.problems[0].field, "tracking_number");
    let mut out = Vec::new();
    assert!(zpl_into(&label, &mut out).is_err());
    assert!(out.is_empty());
}
