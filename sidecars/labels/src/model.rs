//! What a label prints, and the texts derived from it that more than one renderer needs.
//! Pure: no I/O, clock, async, SQL or serialisation; plain owned data in, text out.
//!
//! Every derived text has one owner here (the DataMatrix content, the weight, the segment,
//! the customs category, the text sanitizer), so the ZPL and PDF renderers cannot drift
//! apart. [`LabelData::check`] states what a renderer needs of the data; the renderers
//! refuse data that fails it rather than print a barcode that says something else.

use std::borrow::Cow;
use std::fmt;

/// Longest tracking number, in characters. S10 numbers have 13, internal ones at most 15,
/// UPS's 18. The Code 128 of 30 letters (32 symbols and the stop, 365 modules, with 10
/// modules of quiet zone each side) still has modules of 2 dots (0.25 mm) across the
/// label's 812 dots; a longer one would need modules too thin to scan reliably.
pub const TRACKING_NUMBER_CHARS_MAX: usize = 30;

/// Longest DataMatrix content, in bytes. 200 ASCII characters need at most a 52 × 52
/// symbol, which keeps modules of 3 dots (0.375 mm) inside the label's DataMatrix square;
/// a realistic content is 70–100 bytes (a 32 × 32 or 36 × 36 symbol).
pub const DATAMATRIX_CONTENT_BYTES_MAX: usize = 200;

/// Content lines printed in a CN 22 block (the spec's "≤ 3 lines"); further lines are
/// counted in the block's title and included in the total the caller passes.
pub const CN22_LINES_PRINTED_MAX: usize = 3;

/// The version tag that opens the DataMatrix content; a scanner reading another tag
/// knows the fields after it may differ.
pub const DATAMATRIX_CONTENT_TAG: &str = "CD1";

/// A postal address as printed. Optional parts absent are `None` (an empty string prints
/// nothing too). Text is printed as given after [`sanitize`]; the caller has already
/// trimmed and upper-cased postcodes (orders-labels.md).
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Address {
    pub name: String,
    pub company: Option<String>,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub region: Option<String>,
    pub postcode: Option<String>,
    /// ISO 3166-1 alpha-2, e.g. `DE`.
    pub country: String,
}

impl Address {
    /// The locality line: city, region and postcode in that order, separated by single
    /// spaces, absent parts left out (`Berlin 10115`, `Shenzhen Guangdong 518000`).
    /// Written as parts so a renderer can print it without building a string.
    pub fn locality_parts(&self) -> [&str; 5] {
        let region = self.region.as_deref().unwrap_or("");
        let postcode = self.postcode.as_deref().unwrap_or("");
        let gap_region = if !self.city.is_empty() && !region.is_empty() {
            " "
        } else {
            ""
        };
        let gap_postcode = if (!self.city.is_empty() || !region.is_empty()) && !postcode.is_empty()
        {
            " "
        } else {
            ""
        };
        [
            self.city.as_str(),
            gap_region,
            region,
            gap_postcode,
            postcode,
        ]
    }

    /// [`Address::locality_parts`] joined.
    pub fn locality(&self) -> String {
        self.locality_parts().concat()
    }
}

/// Which customs declaration travels with the parcel (orders-labels.md, "Customs": CN 22
/// under 300 SDR, else CN 23). The caller decides; the label prints what it is given.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum CustomsForm {
    /// A CN 22 block on the label itself.
    Cn22,
    /// The label says `CN 23 attached`; the form is a separate document.
    Cn23,
}

/// One line of the parcel's contents as declared.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct ContentLine {
    pub description: String,
    pub quantity: u32,
    /// A decimal amount as the order stated it, e.g. `45.00`; printed as given.
    pub value: String,
    /// ISO 4217, e.g. `EUR`.
    pub currency: String,
    pub hs_code: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub origin_country: Option<String>,
}

/// The customs part of a label.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Customs {
    pub form: CustomsForm,
    /// orders-labels.md's `customs_category`: `sale_of_goods`, `gift`, `documents`,
    /// `commercial_sample`, `returned_goods`, `other` (see [`category_text`]).
    pub category: String,
    /// Every declared line; a CN 22 prints the first [`CN22_LINES_PRINTED_MAX`].
    pub lines: Vec<ContentLine>,
    /// The declared total, a decimal as stored (`45.00`).
    pub total: String,
    /// ISO 4217 currency of `total`.
    pub currency: String,
}

/// Everything one segment's label prints: plain owned data, read from stored state by the
/// component, so every fetch of the same label gives the same bytes.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct LabelData {
    pub sender: Address,
    pub recipient: Address,
    /// The countryinfo `name` of `recipient.country` in capitals (`GERMANY`): the
    /// recipient block's last line, alone in its own field. The caller looks it up.
    pub recipient_country_name: String,
    /// The service code, e.g. `XB-EU-TRK`.
    pub service: String,
    /// The segment's carrier, e.g. `XB Line`.
    pub carrier: String,
    /// 1-based; `1 ≤ segment_seq ≤ segment_count`.
    pub segment_seq: u32,
    pub segment_count: u32,
    /// `first_mile`, `hub`, `line_haul`, `customs`, `last_mile`, or another word the
    /// book uses (see [`segment_kind_text`]).
    pub segment_kind: String,
    /// The destination's zone in the service's chart: the label's sort code.
    pub zone: String,
    /// The chargeable weight in grams.
    pub weight_g: u32,
    /// `YYYY-MM-DD`.
    pub ship_date: String,
    /// The segment's tracking number: ASCII letters and digits (checked).
    pub tracking_number: String,
    /// `shp_…`.
    pub shipment_id: String,
    pub customs: Customs,
}

/// One reason the renderers refuse a label: the field (a path into [`LabelData`], or
/// `datamatrix_content` for the content built from several) and what is wrong with it.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Problem {
    pub field: &'static str,
    pub problem: &'static str,
}

/// The renderers' only error: the data cannot be printed faithfully. Every problem is
/// listed, not the first.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct InvalidLabel {
    pub problems: Vec<Problem>,
}

impl fmt::Display for InvalidLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("label cannot be rendered:")?;
        for (i, p) in self.problems.iter().enumerate() {
            let sep = if i == 0 { " " } else { "; " };
            write!(f, "{sep}{}: {}", p.field, p.problem)?;
        }
        Ok(())
    }
}

impl std::error::Error for InvalidLabel {}

impl LabelData {
    /// What the renderers need: barcode fields that a scanner reads back exactly as
    /// stored, and a DataMatrix that fits the label. Text fields have no limits: the
    /// renderers fit or cut them to their boxes.
    ///
    /// - `tracking_number`: 1–[`TRACKING_NUMBER_CHARS_MAX`] ASCII letters and digits (the
    ///   Code 128 carries it unchanged and ZPL needs no escaping);
    /// - `shipment_id`, `recipient.postcode`, `zone`, `service`: printable ASCII without
    ///   `|`, `^` or `~` (they are DataMatrix fields; `|` separates them), and all but the
    ///   postcode non-empty;
    /// - `recipient.country`: two ASCII capitals;
    /// - the DataMatrix content at most [`DATAMATRIX_CONTENT_BYTES_MAX`] bytes;
    /// - `1 ≤ segment_seq ≤ segment_count`; `ship_date` shaped `YYYY-MM-DD`.
    pub fn check(&self) -> Result<(), InvalidLabel> {
        let mut problems = Vec::new();
        let mut report = |field, problem| problems.push(Problem { field, problem });

        let number = &self.tracking_number;
        if number.is_empty() || number.len() > TRACKING_NUMBER_CHARS_MAX {
            report("tracking_number", "must have 1 to 30 characters");
        }
        if !number.bytes().all(|b| b.is_ascii_alphanumeric()) {
            report("tracking_number", "must be ASCII letters and digits");
        }
        let fields = [
            ("shipment_id", self.shipment_id.as_str(), true),
            (
                "recipient.postcode",
                self.recipient.postcode.as_deref().unwrap_or(""),
                false,
            ),
            ("zone", self.zone.as_str(), true),
            ("service", self.service.as_str(), true),
        ];
        for (field, value, required) in fields {
            if required && value.is_empty() {
                report(field, "must not be empty");
            }
            if !value.bytes().all(is_datamatrix_field_byte) {
                report(field, "must be printable ASCII without |, ^ or ~");
            }
        }
        let country = self.recipient.country.as_bytes();
        if country.len() != 2 || !country.iter().all(u8::is_ascii_uppercase) {
            report("recipient.country", "must be two ASCII capitals");
        }
        if datamatrix_content_len(self) > DATAMATRIX_CONTENT_BYTES_MAX {
            report("datamatrix_content", "must not exceed 200 bytes");
        }
        if self.segment_seq == 0 || self.segment_seq > self.segment_count {
            report("segment_seq", "must be between 1 and segment_count");
        }
        if !is_iso_date_shaped(&self.ship_date) {
            report("ship_date", "must be YYYY-MM-DD");
        }

        if problems.is_empty() {
            Ok(())
        } else {
            Err(InvalidLabel { problems })
        }
    }
}

/// A byte allowed in a DataMatrix field: printable ASCII except the separator and ZPL's
/// two command prefixes.
fn is_datamatrix_field_byte(b: u8) -> bool {
    matches!(b, b' '..=b'~') && !matches!(b, b'|' | b'^' | b'~')
}

fn is_iso_date_shaped(date: &str) -> bool {
    let b = date.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            _ => c.is_ascii_digit(),
        })
}

/// Writes the DataMatrix content, exactly
/// `CD1|{number}|{shipment id}|{seq}|{recipient country}|{recipient postcode}|{zone}|{service}|{weight_g}`
/// (an absent postcode is empty). The one owner of this format: [`datamatrix_content`]
/// and the ZPL renderer both call it.
pub fn write_datamatrix_content<W: fmt::Write>(label: &LabelData, out: &mut W) -> fmt::Result {
    out.write_str(DATAMATRIX_CONTENT_TAG)?;
    out.write_char('|')?;
    out.write_str(&label.tracking_number)?;
    out.write_char('|')?;
    out.write_str(&label.shipment_id)?;
    out.write_char('|')?;
    out.write_str(U32Text::new(label.segment_seq).as_str())?;
    out.write_char('|')?;
    out.write_str(&label.recipient.country)?;
    out.write_char('|')?;
    out.write_str(label.recipient.postcode.as_deref().unwrap_or(""))?;
    out.write_char('|')?;
    out.write_str(&label.zone)?;
    out.write_char('|')?;
    out.write_str(&label.service)?;
    out.write_char('|')?;
    out.write_str(U32Text::new(label.weight_g).as_str())
}

/// The DataMatrix content as a string (see [`write_datamatrix_content`]).
pub fn datamatrix_content(label: &LabelData) -> String {
    let mut content = String::with_capacity(datamatrix_content_len(label));
    // Writing to a String cannot fail.
    let _ = write_datamatrix_content(label, &mut content);
    content
}

/// The content's length in bytes, without building it.
pub fn datamatrix_content_len(label: &LabelData) -> usize {
    struct Count(usize);
    impl fmt::Write for Count {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            self.0 += s.len();
            Ok(())
        }
    }
    let mut count = Count(0);
    let _ = write_datamatrix_content(label, &mut count);
    count.0
}

/// A `u32` in decimal on the stack, so renderers print numbers without allocating.
#[derive(Clone, Copy, Debug)]
pub struct U32Text {
    digits: [u8; 10],
    start: usize,
}

impl U32Text {
    pub fn new(mut n: u32) -> Self {
        let mut digits = [b'0'; 10];
        let mut start = digits.len();
        loop {
            start -= 1;
            digits[start] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        U32Text { digits, start }
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII digits were written.
        std::str::from_utf8(self.as_bytes()).unwrap_or("0")
    }

    /// The ASCII digits, for writers of bytes (no UTF-8 check).
    pub fn as_bytes(&self) -> &[u8] {
        &self.digits[self.start..]
    }
}

/// The weight as printed: kilograms with exactly three decimals, `0.700 kg` for 700 g,
/// from integer arithmetic alone (grams are the unit; no float is ever involved).
#[derive(Clone, Copy, Debug)]
pub struct WeightText {
    // "4294967.295 kg" is the longest: 14 bytes.
    bytes: [u8; 16],
    len: usize,
}

impl WeightText {
    pub fn as_str(&self) -> &str {
        // Only ASCII was written.
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or("")
    }
}

impl fmt::Display for WeightText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `weight_text(700)` is `0.700 kg`, `weight_text(12_345)` is `12.345 kg`.
pub fn weight_text(weight_g: u32) -> WeightText {
    let kg = U32Text::new(weight_g / 1000);
    let grams = weight_g % 1000;
    let mut bytes = [0u8; 16];
    let kg = kg.as_bytes();
    bytes[..kg.len()].copy_from_slice(kg);
    let mut len = kg.len();
    let tail = [
        b'.',
        b'0' + (grams / 100) as u8,
        b'0' + (grams / 10 % 10) as u8,
        b'0' + (grams % 10) as u8,
        b' ',
        b'k',
        b'g',
    ];
    bytes[len..len + tail.len()].copy_from_slice(&tail);
    len += tail.len();
    WeightText { bytes, len }
}

/// The segment as printed, `2/5 hub`: sequence, count and the kind in words.
#[derive(Clone, Copy, Debug)]
pub struct SegmentText<'a> {
    seq: U32Text,
    count: U32Text,
    kind: &'a str,
}

impl SegmentText<'_> {
    /// The text as parts to print one after the other.
    pub fn parts(&self) -> [&str; 5] {
        [self.seq.as_str(), "/", self.count.as_str(), " ", self.kind]
    }
}

impl fmt::Display for SegmentText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.parts().iter().try_for_each(|p| f.write_str(p))
    }
}

/// `segment_text(2, 5, "hub")` prints `2/5 hub`; `first_mile` prints as `first mile`.
pub fn segment_text(seq: u32, count: u32, kind: &str) -> SegmentText<'_> {
    SegmentText {
        seq: U32Text::new(seq),
        count: U32Text::new(count),
        kind: segment_kind_text(kind),
    }
}

/// A segment kind in words: the kinds of segments.parquet with spaces for underscores;
/// any other kind as given.
pub fn segment_kind_text(kind: &str) -> &str {
    match kind {
        "first_mile" => "first mile",
        "line_haul" => "line haul",
        "last_mile" => "last mile",
        other => other,
    }
}

/// A customs category as the CN 22 names it (`sale_of_goods` → `Sale of goods`); any
/// other category as given.
pub fn category_text(category: &str) -> &str {
    match category {
        "sale_of_goods" => "Sale of goods",
        "gift" => "Gift",
        "documents" => "Documents",
        "commercial_sample" => "Commercial sample",
        "returned_goods" => "Returned goods",
        "other" => "Other",
        other => other,
    }
}

/// Whether the sanitizer replaces `c`: ZPL's two command prefixes `^` and `~`, and every
/// control character (C0, DEL, C1). The spec asks this of all label text, so both
/// renderers apply it, ZPL and PDF alike.
pub fn is_replaced(c: char) -> bool {
    c == '^' || c == '~' || c.is_control()
}

/// `c`, or a space if [`is_replaced`].
pub fn sanitize_char(c: char) -> char {
    if is_replaced(c) { ' ' } else { c }
}

/// `text` with every [`is_replaced`] character turned into a space; borrowed when there
/// is none.
pub fn sanitize(text: &str) -> Cow<'_, str> {
    if text.chars().any(is_replaced) {
        Cow::Owned(text.chars().map(sanitize_char).collect())
    } else {
        Cow::Borrowed(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn u32_text() {
        for (n, text) in [(0, "0"), (7, "7"), (10, "10"), (u32::MAX, "4294967295")] {
            assert_eq!(U32Text::new(n).as_str(), text);
        }
    }

    #[test]
    fn locality_parts_skip_absent_parts() {
        let mut a = Address {
            city: "Berlin".into(),
            postcode: Some("10115".into()),
            ..Address::default()
        };
        assert_eq!(a.locality(), "Berlin 10115");
        a.region = Some("BE".into());
        assert_eq!(a.locality(), "Berlin BE 10115");
        a.city.clear();
        assert_eq!(a.locality(), "BE 10115");
        a.region = None;
        assert_eq!(a.locality(), "10115");
        a.postcode = None;
        assert_eq!(a.locality(), "");
    }
}
