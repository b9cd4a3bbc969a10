//! The label as a one-page PDF, 288 × 432 pt (4 × 6 in), for printers without ZPL.
//!
//! Text is set in the standard fonts Helvetica and Helvetica-Bold (nothing embedded) with
//! WinAnsiEncoding; a character those fonts cannot show prints as `?` (CJK names print in
//! ZPL on a printer with the font, not here). Both barcodes are vector rectangles, each
//! symbol one path filled once (so no seams between abutting modules): the Code 128's
//! modules come from `barcoders`, the DataMatrix ECC 200's from `datamatrix` (ASCII
//! encodation, square symbols).
//!
//! Deterministic: no creation date, no document id, no info dictionary; the same data
//! gives the same bytes, so a reprint is identical.
//!
//! The content stream is scaled to printer dots once, so every coordinate in it is a whole
//! number of dots (y upwards), written as a short integer.
//!
//! Budget: ≥ 5 000 labels/s per core, ≤ 200 µs a label; the content stream is left
//! uncompressed (about 10 KiB), which costs less than deflating it.

use super::{
    CODE128_TEXT_DOTS, Canvas, Code128, CodeSet, DataMatrix, LABEL_HEIGHT_DOTS, Text, layout,
    metrics,
};
use crate::model::{InvalidLabel, LabelData, Problem, datamatrix_content, sanitize_char};
use pdf_writer::{Content, Name, Pdf, Rect, Ref, Str};

/// Page size in points: 4 × 6 in.
pub const PAGE_WIDTH_PT: f32 = 288.0;
pub const PAGE_HEIGHT_PT: f32 = 432.0;

/// Points per printer dot (the layout's unit, 203 dpi): the content stream's one scale.
const PT_PER_DOT: f32 = 72.0 / 203.0;
/// A text's baseline below its top, in hundredths of its size (Helvetica's ascender is
/// 0.718 em; the rest is the line's internal leading, as in ZPL's font cell).
const BASELINE_PCT: u32 = 78;

const FONT_REGULAR: Name<'static> = Name(b"F1");
const FONT_BOLD: Name<'static> = Name(b"F2");

/// The label as PDF bytes; refused with every problem if `label` fails
/// [`LabelData::check`].
pub fn pdf(label: &LabelData) -> Result<Vec<u8>, InvalidLabel> {
    label.check()?;
    let mut content = Content::with_capacity(16 * 1024);
    content.transform([PT_PER_DOT, 0.0, 0.0, PT_PER_DOT, 0.0, 0.0]);
    let mut canvas = PdfCanvas {
        content,
        text: Vec::with_capacity(128),
        squeeze_pct: 100,
        problems: Vec::new(),
    };
    layout::draw(label, &mut canvas);
    if !canvas.problems.is_empty() {
        return Err(InvalidLabel {
            problems: canvas.problems,
        });
    }
    let content = canvas.content.finish();

    let catalog = Ref::new(1);
    let pages = Ref::new(2);
    let page = Ref::new(3);
    let contents = Ref::new(4);
    let regular = Ref::new(5);
    let bold = Ref::new(6);

    let mut pdf = Pdf::with_capacity(content.len() + 1024);
    pdf.catalog(catalog).pages(pages);
    pdf.pages(pages).kids([page]).count(1);
    let mut p = pdf.page(page);
    p.media_box(Rect::new(0.0, 0.0, PAGE_WIDTH_PT, PAGE_HEIGHT_PT));
    p.parent(pages);
    p.contents(contents);
    {
        let mut resources = p.resources();
        let mut fonts = resources.fonts();
        fonts.pair(FONT_REGULAR, regular);
        fonts.pair(FONT_BOLD, bold);
    }
    drop(p);
    for (id, base) in [(regular, "Helvetica"), (bold, "Helvetica-Bold")] {
        pdf.type1_font(id)
            .base_font(Name(base.as_bytes()))
            .encoding_predefined(Name(b"WinAnsiEncoding"));
    }
    pdf.stream(contents, &content);
    Ok(pdf.finish())
}

struct PdfCanvas {
    content: Content,
    /// Scratch for one text's WinAnsi bytes.
    text: Vec<u8>,
    /// The horizontal scaling in force (text state outlives BT/ET).
    squeeze_pct: u32,
    /// Barcodes the encoders refused (cannot happen after `check`; reported, not panicked).
    problems: Vec<Problem>,
}

/// Dots as written: a whole `f32` (exact below 2^24), which pdf-writer writes as an integer.
fn d(dots: u32) -> f32 {
    dots as f32
}

/// The content's y (upwards from the bottom) of a layout y (downwards from the top).
fn up(y: u32) -> f32 {
    d(LABEL_HEIGHT_DOTS.saturating_sub(y))
}

impl PdfCanvas {
    fn show(&mut self, x: u32, top: u32, size: u32, bold: bool, squeeze_pct: u32) {
        let font = if bold { FONT_BOLD } else { FONT_REGULAR };
        self.content.begin_text();
        self.content.set_font(font, d(size));
        if squeeze_pct != self.squeeze_pct {
            self.content.set_horizontal_scaling(d(squeeze_pct));
            self.squeeze_pct = squeeze_pct;
        }
        self.content
            .next_line(d(x), up(top + size * BASELINE_PCT / 100));
        self.content.show(Str(&self.text));
        self.content.end_text();
    }

    /// Encodes `parts` into the scratch as WinAnsi, sanitized; `?` for what the standard
    /// fonts lack.
    fn encode<'a>(&mut self, parts: impl IntoIterator<Item = &'a str>) {
        self.text.clear();
        for part in parts {
            for c in part.chars() {
                let c = sanitize_char(c);
                self.text.push(metrics::winansi(c).unwrap_or(b'?'));
            }
        }
    }

    /// One rectangle per run of dark modules in `row`, `module` dots each, the row's top
    /// at `top`; the caller fills them all at once.
    fn runs(
        &mut self,
        row: impl Iterator<Item = bool>,
        x: u32,
        top: u32,
        module: u32,
        height: u32,
    ) {
        let mut start = None;
        for (i, dark) in row.chain(std::iter::once(false)).enumerate() {
            let i = i as u32;
            match (dark, start) {
                (true, None) => start = Some(i),
                (false, Some(from)) => {
                    let (at, width) = (x + from * module, (i - from) * module);
                    self.content
                        .rect(d(at), up(top + height), d(width), d(height));
                    start = None;
                }
                _ => {}
            }
        }
    }
}

impl Canvas for PdfCanvas {
    fn text(&mut self, text: &Text<'_>) {
        if text.parts.iter().all(|p| p.is_empty()) {
            return;
        }
        self.encode(text.parts);
        self.show(text.x, text.y, text.size, text.bold, text.squeeze_pct);
    }

    fn rule(&mut self, x: u32, y: u32, width: u32, height: u32) {
        self.content.rect(d(x), up(y + height), d(width), d(height));
        self.content.fill_nonzero();
    }

    fn code128(&mut self, code: &Code128<'_>) {
        let mut input = String::with_capacity(code.data.len() + 8);
        for (set, run) in super::code128_runs(code.data) {
            input.push(match set {
                CodeSet::B => 'Ɓ',
                CodeSet::C => 'Ć',
            });
            input.push_str(run);
        }
        let modules = match barcoders::sym::code128::Code128::new(&input) {
            Ok(symbol) => symbol.encode(),
            Err(_) => {
                self.problems.push(Problem {
                    field: "tracking_number",
                    problem: "the Code 128 encoder refused it",
                });
                return;
            }
        };
        let width = modules.len() as u32;
        debug_assert_eq!(width, super::code128_modules(code.data));

        // Each bar one rectangle, the whole symbol one fill.
        let bars = modules.iter().map(|m| *m == 1);
        self.runs(bars, code.x, code.y, code.module, code.height);
        self.content.fill_nonzero();

        // The number below, centred under the bars, as ZPL's interpretation line.
        let size = CODE128_TEXT_DOTS - 4;
        let width_milli: u32 = code
            .data
            .chars()
            .map(|c| u32::from(metrics::width_per_mille(c, false)))
            .sum();
        let centre = code.x + width * code.module / 2;
        let x = centre.saturating_sub(width_milli * size / 1000 / 2);
        self.encode([code.data]);
        self.show(x, code.y + code.height + 4, size, false, 100);
    }

    fn datamatrix(&mut self, symbol: &DataMatrix, label: &LabelData) {
        let content = datamatrix_content(label);
        // ASCII encodation only: the optimising planner's smaller symbol (often one size
        // down) costs ten times the time (≈ 400 µs against 40 µs a label), and ASCII's
        // size is the one the layout reserved room for (`datamatrix_side_max`).
        let encoder = datamatrix::DataMatrixBuilder::new()
            .with_encodation_types(datamatrix::EncodationType::Ascii)
            .with_symbol_list(datamatrix::SymbolList::default().enforce_square());
        let bitmap = match encoder.encode(content.as_bytes()) {
            Ok(code) => code.bitmap(),
            Err(_) => {
                self.problems.push(Problem {
                    field: "datamatrix_content",
                    problem: "the DataMatrix encoder refused it",
                });
                return;
            }
        };
        let (width, height) = (bitmap.width(), bitmap.height());
        debug_assert!(
            width as u32 <= symbol.side_max,
            "the layout's room suffices"
        );
        let mut dark = vec![false; width * height];
        for (x, y) in bitmap.pixels() {
            if let Some(cell) = dark.get_mut(y * width + x) {
                *cell = true;
            }
        }
        // Each row's runs of dark modules one rectangle each, the whole symbol one fill.
        let module = symbol.module;
        for (y, row) in dark.chunks(width.max(1)).enumerate() {
            let top = symbol.y + y as u32 * module;
            self.runs(row.iter().copied(), symbol.x, top, module, module);
        }
        self.content.fill_nonzero();
    }
}
