//! The label as a one-page PDF, 288 × 432 pt (4 × 6 in), for printers without ZPL.
//!
//! Text is set in the standard fonts Helvetica and Helvetica-Bold (nothing embedded) with
//! WinAnsiEncoding; a character those fonts cannot show prints as `?` (CJK names print in
//! ZPL on a printer with the font, not here). Both barcodes are vector rectangles, each
//! symbol one path filled once (so no seams between abutting modules): the Code 128's
//! modules come from `barcoders`, the DataMatrix ECC 200's from `datamatrix`.
//!
//! Deterministic: no creation date, no document id, no info dictionary; the same data
//! gives the same bytes, so a reprint is identical.
//!
//! Budget: ≥ 5 000 labels/s per core, ≤ 200 µs a label; the content stream is left
//! uncompressed (about 10 KiB), which costs less than deflating it.

use super::{CODE128_TEXT_DOTS, Canvas, Code128, CodeSet, DataMatrix, Text, layout, metrics};
use crate::model::{InvalidLabel, LabelData, Problem, datamatrix_content, sanitize_char};
use pdf_writer::{Content, Name, Pdf, Rect, Ref, Str};

/// Page size in points: 4 × 6 in.
pub const PAGE_WIDTH_PT: f32 = 288.0;
pub const PAGE_HEIGHT_PT: f32 = 432.0;

/// Points per printer dot (the layout's unit, 203 dpi).
const PT_PER_DOT: f32 = 72.0 / 203.0;
/// A text's baseline below its top, as a share of its size (Helvetica's ascender is
/// 0.718 em; the rest is the line's internal leading, as ZPL's font cell has).
const BASELINE_PER_SIZE: f32 = 0.78;

const FONT_REGULAR: Name<'static> = Name(b"F1");
const FONT_BOLD: Name<'static> = Name(b"F2");

/// The label as PDF bytes; refused with every problem if `label` fails
/// [`LabelData::check`].
pub fn pdf(label: &LabelData) -> Result<Vec<u8>, InvalidLabel> {
    label.check()?;
    let mut canvas = PdfCanvas {
        content: Content::with_capacity(16 * 1024),
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

fn pt(dots: u32) -> f32 {
    dots as f32 * PT_PER_DOT
}

/// The page's y of a layout y (which runs downwards from the top).
fn page_y(dots: f32) -> f32 {
    PAGE_HEIGHT_PT - dots * PT_PER_DOT
}

impl PdfCanvas {
    fn show(&mut self, x: f32, top_dots: u32, size: u32, bold: bool, squeeze_pct: u32) {
        let font = if bold { FONT_BOLD } else { FONT_REGULAR };
        let size_pt = pt(size);
        let baseline = page_y(top_dots as f32 + size as f32 * BASELINE_PER_SIZE);
        self.content.begin_text();
        self.content.set_font(font, size_pt);
        if squeeze_pct != self.squeeze_pct {
            self.content.set_horizontal_scaling(squeeze_pct as f32);
            self.squeeze_pct = squeeze_pct;
        }
        self.content.next_line(x, baseline);
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
}

impl Canvas for PdfCanvas {
    fn text(&mut self, text: &Text<'_>) {
        if text.parts.iter().all(|p| p.is_empty()) {
            return;
        }
        self.encode(text.parts);
        self.show(pt(text.x), text.y, text.size, text.bold, text.squeeze_pct);
    }

    fn rule(&mut self, x: u32, y: u32, width: u32, height: u32) {
        self.content
            .rect(pt(x), page_y((y + height) as f32), pt(width), pt(height));
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
        debug_assert_eq!(modules.len() as u32, super::code128_modules(code.data));

        // Each bar (a run of dark modules) one rectangle, the whole symbol one fill.
        let module = pt(code.module);
        let bottom = page_y((code.y + code.height) as f32);
        let height = pt(code.height);
        let x0 = pt(code.x);
        let mut i = 0;
        while i < modules.len() {
            if modules[i] == 0 {
                i += 1;
                continue;
            }
            let run = modules[i..].iter().take_while(|m| **m == 1).count();
            self.content
                .rect(x0 + i as f32 * module, bottom, run as f32 * module, height);
            i += run;
        }
        self.content.fill_nonzero();

        // The number below, centred under the bars, as ZPL's interpretation line.
        let size = CODE128_TEXT_DOTS - 4;
        let width_milli: u32 = code
            .data
            .chars()
            .map(|c| u32::from(metrics::width_per_mille(c, false)))
            .sum();
        let text_width = pt(width_milli * size / 1000);
        let centre = x0 + modules.len() as f32 * module / 2.0;
        self.encode([code.data]);
        self.show(
            centre - text_width / 2.0,
            code.y + code.height + 4,
            size,
            false,
            100,
        );
    }

    fn datamatrix(&mut self, symbol: &DataMatrix, label: &LabelData) {
        let content = datamatrix_content(label);
        let list = datamatrix::SymbolList::default().enforce_square();
        let bitmap = match datamatrix::DataMatrix::encode(content.as_bytes(), list) {
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
        let mut dark = vec![false; width * height];
        for (x, y) in bitmap.pixels() {
            if let Some(cell) = dark.get_mut(y * width + x) {
                *cell = true;
            }
        }
        // Horizontal runs of dark modules, one rectangle each, one fill for the symbol.
        let module = pt(symbol.module);
        let x0 = pt(symbol.x);
        for (y, row) in dark.chunks(width.max(1)).enumerate() {
            let bottom = page_y((symbol.y + (y as u32 + 1) * symbol.module) as f32);
            let mut x = 0;
            while x < row.len() {
                if !row[x] {
                    x += 1;
                    continue;
                }
                let run = row[x..].iter().take_while(|d| **d).count();
                self.content
                    .rect(x0 + x as f32 * module, bottom, run as f32 * module, module);
                x += run;
            }
        }
        self.content.fill_nonzero();
    }
}
