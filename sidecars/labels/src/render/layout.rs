//! The one layout of the 4 × 6 in label, in dots at 203 dpi from the top-left corner.
//!
//! ```text
//!  y    ┌────────────────────────────────────────────────────┐
//!  16   │ FROM  sender (name, company, lines, locality, ISO) │ carrier
//!  190  ├────────────────────────────────────────────────────┤
//!  200  │ TO    recipient name (large)                       │
//!       │       company, line 1, line 2, locality            │
//!       │       COUNTRY NAME (own field, last line)          │
//!  496  ├────────────────────────────────────────────────────┤
//!  510  │ ZONE (sort code, 150 dots)       │ service, segment│
//!       │                                  │ weight, date    │
//!  676  ├────────────────────────────────────────────────────┤
//!  690  │        ||||| Code 128 of the number |||||          │
//!       │                 number                             │
//!  866  ├────────────────────────────────────────────────────┤
//!  880  │ CN 22 block (or CN 23 attached)   │  DataMatrix    │
//! 1184  │ Shipment shp_…                                     │
//! 1218  └────────────────────────────────────────────────────┘
//! ```

use super::{
    CODE128_TEXT_DOTS, Canvas, Code128, DataMatrix, LABEL_WIDTH_DOTS, PARTS_MAX, Parts, fit,
};
use crate::model::{
    Address, CN22_LINES_PRINTED_MAX, CustomsForm, LabelData, U32Text, category_text, segment_text,
    weight_text,
};

/// Left and right margin.
const MARGIN: u32 = 24;
const RIGHT: u32 = LABEL_WIDTH_DOTS - MARGIN;
const RULE_DOTS: u32 = 3;

/// The DataMatrix box: its right edge at [`RIGHT`], top at `DATAMATRIX_Y`, this wide and
/// high; modules are at most `DATAMATRIX_MODULE_MAX` dots (0.75 mm).
const DATAMATRIX_BOX: u32 = 192;
const DATAMATRIX_Y: u32 = 884;
const DATAMATRIX_MODULE_MAX: u32 = 6;
/// The Code 128's module is 3 dots (0.375 mm), or 2 (0.25 mm) for a long number: a
/// checked number (at most 30 characters) always fits at 2 with its quiet zones.
const CODE128_MODULE_MAX: u32 = 3;
/// Quiet zone each side of a Code 128, in modules.
const CODE128_QUIET_MODULES: u32 = 10;

fn one(text: &str) -> Parts<'_> {
    let mut parts = [""; PARTS_MAX];
    parts[0] = text;
    parts
}

/// Draws `parts` at (x, y), `size` dots high, fitted into `width` dots.
fn text<C: Canvas>(
    canvas: &mut C,
    x: u32,
    y: u32,
    size: u32,
    bold: bool,
    width: u32,
    parts: Parts<'_>,
) {
    let mut t = fit(parts, size, bold, width);
    t.x = x;
    t.y = y;
    canvas.text(&t);
}

fn rule<C: Canvas>(canvas: &mut C, y: u32) {
    canvas.rule(MARGIN, y, RIGHT - MARGIN, RULE_DOTS);
}

/// Draws the whole label. The caller has checked `label` ([`LabelData::check`]).
pub(crate) fn draw<C: Canvas>(label: &LabelData, canvas: &mut C) {
    sender(label, canvas);
    rule(canvas, 190);
    recipient(label, canvas);
    rule(canvas, 496);
    routing(label, canvas);
    rule(canvas, 676);
    code128(label, canvas);
    rule(canvas, 866);
    customs(label, canvas);
    datamatrix(label, canvas);
    footer(label, canvas);
}

/// The address lines that are present, in print order (country excluded).
fn address_lines(a: &Address) -> [Option<Parts<'_>>; 5] {
    let locality = a.locality_parts();
    let locality = if locality.iter().all(|p| p.is_empty()) {
        None
    } else {
        Some(locality)
    };
    [
        Some(one(&a.name)),
        present(&a.company),
        Some(one(&a.line1)),
        present(&a.line2),
        locality,
    ]
}

/// An optional line, if present and not empty.
fn present(line: &Option<String>) -> Option<Parts<'_>> {
    line.as_deref().filter(|s| !s.is_empty()).map(one)
}

fn sender<C: Canvas>(label: &LabelData, canvas: &mut C) {
    let width = 520;
    text(canvas, MARGIN, 16, 20, true, width, one("FROM"));
    let mut y = 40;
    let lines = address_lines(&label.sender);
    for parts in lines.into_iter().flatten() {
        text(canvas, MARGIN, y, 22, false, width, parts);
        y += 24;
    }
    text(
        canvas,
        MARGIN,
        y,
        22,
        false,
        width,
        one(&label.sender.country),
    );

    text(canvas, 560, 16, 30, true, RIGHT - 560, one(&label.carrier));
}

fn recipient<C: Canvas>(label: &LabelData, canvas: &mut C) {
    let width = RIGHT - MARGIN;
    text(canvas, MARGIN, 200, 20, true, width, one("TO"));
    let [name, company, line1, line2, locality] = address_lines(&label.recipient);
    let mut y = 226;
    if let Some(name) = name {
        text(canvas, MARGIN, y, 40, true, width, name);
        y += 46;
    }
    for parts in [company, line1, line2].into_iter().flatten() {
        text(canvas, MARGIN, y, 32, false, width, parts);
        y += 38;
    }
    if let Some(locality) = locality {
        text(canvas, MARGIN, y, 34, true, width, locality);
        y += 40;
    }
    // The last line, alone in its own field.
    text(
        canvas,
        MARGIN,
        y + 4,
        44,
        true,
        width,
        one(&label.recipient_country_name),
    );
}

fn routing<C: Canvas>(label: &LabelData, canvas: &mut C) {
    // The sort code: the zone, as large as the block allows.
    text(canvas, MARGIN, 510, 150, true, 470, one(&label.zone));

    let (x, width) = (520, RIGHT - 520);
    text(canvas, x, 512, 34, true, width, one(&label.service));
    let segment = segment_text(label.segment_seq, label.segment_count, &label.segment_kind);
    text(canvas, x, 554, 30, true, width, segment.parts());
    let weight = weight_text(label.weight_g);
    text(canvas, x, 594, 26, false, width, one(weight.as_str()));
    text(canvas, x, 628, 26, false, width, one(&label.ship_date));
}

fn code128<C: Canvas>(label: &LabelData, canvas: &mut C) {
    let data = label.tracking_number.as_str();
    let modules = super::code128_modules(data);
    // The quiet zones may reach the label's edges.
    let room = LABEL_WIDTH_DOTS;
    let module = (1..=CODE128_MODULE_MAX)
        .rev()
        .find(|m| (modules + 2 * CODE128_QUIET_MODULES) * m <= room)
        .unwrap_or(1);
    let width = modules * module;
    let height = 866 - 14 - 690 - CODE128_TEXT_DOTS;
    canvas.code128(&Code128 {
        x: (LABEL_WIDTH_DOTS.saturating_sub(width)) / 2,
        y: 690,
        height,
        module,
        data,
    });
}

fn customs<C: Canvas>(label: &LabelData, canvas: &mut C) {
    let customs = &label.customs;
    let category = category_text(&customs.category);
    match customs.form {
        CustomsForm::Cn23 => {
            text(canvas, MARGIN, 900, 44, true, 548, one("CN 23 attached"));
            text(canvas, MARGIN, 956, 24, false, 548, one(category));
        }
        CustomsForm::Cn22 => {
            text(canvas, MARGIN, 884, 30, true, 110, one("CN 22"));
            text(canvas, 150, 888, 24, true, 422, one(category));

            let header = 926;
            let columns: [(u32, u32, &str); 5] = [
                (MARGIN, 40, "Qty"),
                (70, 210, "Description"),
                (288, 130, "Value"),
                (426, 84, "HS code"),
                (518, 54, "Origin"),
            ];
            for (x, width, title) in columns {
                text(canvas, x, header, 18, true, width, one(title));
            }
            let mut y = 952;
            for line in customs.lines.iter().take(CN22_LINES_PRINTED_MAX) {
                let quantity = U32Text::new(line.quantity);
                let cells: [Parts<'_>; 5] = [
                    one(quantity.as_str()),
                    one(&line.description),
                    [line.value.as_str(), " ", line.currency.as_str(), "", ""],
                    one(line.hs_code.as_deref().unwrap_or("")),
                    one(line.origin_country.as_deref().unwrap_or("")),
                ];
                for ((x, width, _), parts) in columns.iter().zip(cells) {
                    text(canvas, *x, y, 24, false, *width, parts);
                }
                y += 32;
            }
            let total = [
                "Total ",
                customs.total.as_str(),
                " ",
                customs.currency.as_str(),
                "",
            ];
            text(canvas, MARGIN, 1060, 28, true, 300, total);
            let more = customs.lines.len().saturating_sub(CN22_LINES_PRINTED_MAX);
            if more > 0 {
                let more = U32Text::new(u32::try_from(more).unwrap_or(u32::MAX));
                let parts = ["+", more.as_str(), " more lines", "", ""];
                text(canvas, 340, 1064, 22, false, 232, parts);
            }
        }
    }
}

/// The shipment id along the bottom edge, whole (it is in the DataMatrix too).
fn footer<C: Canvas>(label: &LabelData, canvas: &mut C) {
    let parts = ["Shipment ", label.shipment_id.as_str(), "", "", ""];
    text(canvas, MARGIN, 1184, 22, false, RIGHT - MARGIN, parts);
}

fn datamatrix<C: Canvas>(label: &LabelData, canvas: &mut C) {
    // Sized from the content's length alone: the ZPL printer encodes the symbol itself.
    let side = super::datamatrix_side_max(&content_bytes(label));
    let module = (DATAMATRIX_BOX / side).clamp(1, DATAMATRIX_MODULE_MAX);
    canvas.datamatrix(
        &DataMatrix {
            x: RIGHT - side * module,
            y: DATAMATRIX_Y,
            module,
            side_max: side,
        },
        label,
    );
}

/// The DataMatrix content on the stack when it fits (it always does after `check`).
fn content_bytes(label: &LabelData) -> ContentBuf {
    let mut buf = ContentBuf {
        bytes: [0; crate::model::DATAMATRIX_CONTENT_BYTES_MAX],
        len: 0,
    };
    let _ = crate::model::write_datamatrix_content(label, &mut buf);
    buf
}

struct ContentBuf {
    bytes: [u8; crate::model::DATAMATRIX_CONTENT_BYTES_MAX],
    len: usize,
}

impl std::ops::Deref for ContentBuf {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

impl std::fmt::Write for ContentBuf {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        let slot = self.bytes.get_mut(self.len..end).ok_or(std::fmt::Error)?;
        slot.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}
