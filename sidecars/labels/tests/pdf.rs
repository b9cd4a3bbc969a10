//! The PDF form, checked from outside: the page and fonts as written, the barcodes
//! decoded back from pixels, the text extracted back, the bytes pinned by a snapshot.
//!
//! Rasterising and text extraction use poppler's `pdftoppm` and `pdftotext` (Debian
//! package `poppler-utils`, installed by `.ci/run`); decoding uses rxing, a port of ZXing
//! that shares no code with the encoders the renderer uses. Without poppler these tests
//! fail and say so: a label nobody has scanned is not a tested label.

mod common;

use crossdock_labels::model::{LabelData, datamatrix_content};
use crossdock_labels::render::pdf;
use rxing::BarcodeFormat;
use std::path::Path;
use std::process::Command;

fn render(label: &LabelData) -> Vec<u8> {
    pdf(label).expect("renders")
}

/// Runs a poppler tool, failing the test with a clear message when it is missing.
fn poppler(tool: &str, args: &[&str]) {
    let status = Command::new(tool).args(args).status().unwrap_or_else(|e| {
        panic!(
            "{tool} could not be run ({e}): install Debian's poppler-utils \
             (apt-get install poppler-utils), which .ci/run does"
        )
    });
    assert!(status.success(), "{tool} {args:?}: {status}");
}

/// A greyscale raster of the page at `dpi`: (pixels, width, height).
fn rasterise(pdf: &[u8], dpi: u32) -> (Vec<u8>, u32, u32) {
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("label.pdf");
    std::fs::write(&input, pdf).expect("write PDF");
    let stem = dir.path().join("page");
    // `-gray` writes a binary PGM, read below without an image crate.
    poppler(
        "pdftoppm",
        &[
            "-r",
            &dpi.to_string(),
            "-gray",
            "-singlefile",
            path(&input),
            path(&stem),
        ],
    );
    read_pgm(&dir.path().join("page.pgm"))
}

fn path(p: &Path) -> &str {
    p.to_str().expect("UTF-8 temp path")
}

/// Reads a binary PGM (P5, 8 bits).
fn read_pgm(file: &Path) -> (Vec<u8>, u32, u32) {
    let bytes = std::fs::read(file).expect("read PGM");
    let mut header = Vec::new();
    let mut at = 0;
    // Magic, width, height, maxval: four whitespace-separated tokens, `#` comments.
    while header.len() < 4 {
        while bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        if bytes[at] == b'#' {
            while bytes[at] != b'\n' {
                at += 1;
            }
            continue;
        }
        let start = at;
        while !bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        header.push(String::from_utf8_lossy(&bytes[start..at]).into_owned());
    }
    assert_eq!(header[0], "P5", "binary PGM");
    assert_eq!(header[3], "255", "8-bit PGM");
    let width: u32 = header[1].parse().expect("width");
    let height: u32 = header[2].parse().expect("height");
    let pixels = bytes[at + 1..].to_vec();
    assert_eq!(pixels.len(), (width * height) as usize, "PGM size");
    (pixels, width, height)
}

fn decode(pixels: &[u8], width: u32, height: u32, format: BarcodeFormat) -> String {
    let result = rxing::helpers::detect_in_luma(pixels.to_vec(), width, height, Some(format))
        .unwrap_or_else(|e| panic!("no {format:?} found on the page: {e:?}"));
    result.getText().to_owned()
}

fn text_of(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("label.pdf");
    let output = dir.path().join("label.txt");
    std::fs::write(&input, pdf).expect("write PDF");
    poppler("pdftotext", &["-enc", "UTF-8", path(&input), path(&output)]);
    std::fs::read_to_string(&output).expect("read text")
}

fn labels() -> Vec<(&'static str, LabelData)> {
    let mut longest_number = common::sample();
    longest_number.tracking_number = "XBL".repeat(9) + "421";
    let mut long_content = common::sample();
    long_content.shipment_id = format!("shp_{}", "0123456789ABCDEFGHJKMNPQRSTVWXYZ".repeat(4));
    let mut digits = common::sample();
    digits.tracking_number = "123456789012345678".into();
    vec![
        ("CN 22", common::sample()),
        ("CN 23, S10 number", common::cn23()),
        ("busy", common::busy()),
        ("30-character number", longest_number),
        ("long DataMatrix content", long_content),
        ("all-digit number", digits),
    ]
}

#[test]
fn both_barcodes_decode_back_to_the_number_and_the_content() {
    for (name, label) in labels() {
        let (pixels, width, height) = rasterise(&render(&label), 300);
        assert_eq!((width, height), (1200, 1800), "{name}: 4 × 6 in at 300 dpi");
        assert_eq!(
            decode(&pixels, width, height, BarcodeFormat::CODE_128),
            label.tracking_number,
            "{name}: Code 128"
        );
        assert_eq!(
            decode(&pixels, width, height, BarcodeFormat::DATA_MATRIX),
            datamatrix_content(&label),
            "{name}: DataMatrix"
        );
    }
}

#[test]
fn one_page_of_4_by_6_inches_in_standard_fonts() {
    let bytes = render(&common::sample());
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.starts_with("%PDF-"), "a PDF");
    assert!(text.contains("/MediaBox [0 0 288 432]"), "MediaBox");
    assert_eq!(
        text.matches("/Type /Page\n").count() + text.matches("/Type /Page ").count(),
        1
    );
    assert!(text.contains("/Count 1"));
    assert!(text.contains("/BaseFont /Helvetica\n") || text.contains("/BaseFont /Helvetica "));
    assert!(text.contains("/BaseFont /Helvetica-Bold"));
    assert!(text.contains("/Encoding /WinAnsiEncoding"));
    for unwanted in [
        "/FontFile",
        "/CreationDate",
        "/ModDate",
        "/ID",
        "/Info",
        "/Image",
    ] {
        assert!(!text.contains(unwanted), "{unwanted}");
    }
}

#[test]
fn the_text_reads_back_as_the_label_says() {
    let text = text_of(&render(&common::busy()));
    for expected in [
        "FROM",
        "?? (Li Wei)",
        "TO",
        "Zoë Müller-Lüdenscheidt",
        "Größenwahn & Söhne GmbH — Einkauf",
        "Berlin 10115",
        "GERMANY",
        "EU-A",
        "XB-EU-TRK",
        "XB Line",
        "2/5 hub",
        "0.700 kg",
        "2026-12-01",
        "CD00000000018",
        "CN 22",
        "Sale of goods",
        "Item 1",
        "Item 3",
        "+2 more lines",
        "Total 17.50 EUR",
        "Shipment shp_01JDX8Q4K7M2N5P8R3T6V9W2YZ",
    ] {
        assert!(text.contains(expected), "{expected:?} in:\n{text}");
    }
    assert!(!text.contains("Item 4"), "three lines at most");

    let text = text_of(&render(&common::cn23()));
    assert!(text.contains("CN 23 attached"), "{text}");
    assert!(!text.contains("CN 22"), "{text}");
}

/// The PDF's bytes are pinned like the ZPL's: a reprint after a restart, on another
/// replica or after a dependency update must be the same file (regenerate deliberately with
/// `CROSSDOCK_UPDATE_SNAPSHOTS=1 cargo test -p crossdock-labels --test pdf`).
#[test]
fn snapshot_byte_for_byte() {
    common::snapshot("cn22.pdf", &render(&common::sample()));
}

#[test]
fn rendering_is_deterministic() {
    for (name, label) in labels() {
        assert_eq!(render(&label), render(&label.clone()), "{name}");
    }
}

#[test]
fn invalid_data_is_refused() {
    let mut label = common::sample();
    label.zone = "EU|A".into();
    let error = pdf(&label).expect_err("refused");
    assert_eq!(error.problems.len(), 1);
    assert_eq!(error.problems[0].field, "zone");
}

/// Writes the sample PDFs for a person to look at (not a check):
/// `CROSSDOCK_LABELS_DUMP=DIR cargo test -p crossdock-labels --test pdf -- --ignored`.
#[test]
#[ignore = "writes the sample PDFs to $CROSSDOCK_LABELS_DUMP for viewing"]
fn dump_for_viewing() {
    let dir = std::env::var_os("CROSSDOCK_LABELS_DUMP").expect("CROSSDOCK_LABELS_DUMP=DIR");
    for (i, (_, label)) in labels().into_iter().enumerate() {
        std::fs::write(
            Path::new(&dir).join(format!("label{i}.pdf")),
            render(&label),
        )
        .expect("write");
    }
}
