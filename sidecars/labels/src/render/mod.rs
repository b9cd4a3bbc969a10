//! The label's two printable forms, ZPL II ([`zpl()`]) and PDF ([`pdf()`]), drawn from one
//! layout.
//!
//! [`layout::draw`] places every element of the 4 × 6 in label once, in printer dots at
//! 203 dpi (812 × 1218), on a [`Canvas`]; the ZPL and PDF canvases turn those elements
//! into their own bytes. So both forms carry the same content at the same places, and a
//! change to the label is made once. Text is fitted to its box here too ([`fit`]): squeezed
//! down to [`SQUEEZE_PCT_MIN`] of its width, then cut, so a long address never runs into
//! the next block.
//!
//! Both renderers are deterministic (same data, same bytes: no clock, no random ids, no
//! hash-map order) and refuse, with every problem, data that [`LabelData::check`] refuses.

mod layout;
pub(crate) mod metrics;
pub mod pdf;
pub mod zpl;

pub use pdf::pdf;
pub use zpl::{zpl, zpl_into};

use crate::model::{LabelData, sanitize_char};

/// The label's width and height in dots at 203 dpi: 4 × 6 in.
pub const LABEL_WIDTH_DOTS: u32 = 812;
pub const LABEL_HEIGHT_DOTS: u32 = 1218;
/// Printer resolution, dots per inch.
pub const DOTS_PER_INCH: u32 = 203;

/// The narrowest a text is squeezed (percent of its natural width) before it is cut.
pub const SQUEEZE_PCT_MIN: u32 = 75;

/// Parts of one text element, printed one after another (`["2", "/", "5", " ", "hub"]`),
/// so the layout composes texts without allocating.
pub(crate) const PARTS_MAX: usize = 5;
pub(crate) type Parts<'a> = [&'a str; PARTS_MAX];

/// One line of text, its top-left corner at (`x`, `y`) dots, `size` dots high (the em),
/// already fitted: `squeeze_pct` of its natural width, parts cut to what fits. Canvases
/// sanitize the characters as they write them.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Text<'a> {
    pub x: u32,
    pub y: u32,
    pub size: u32,
    pub bold: bool,
    pub squeeze_pct: u32,
    pub parts: Parts<'a>,
}

/// A Code 128 symbol: its top-left corner (the quiet zones are outside it), bar height
/// and module width in dots, and the data (printed below the bars by the canvas).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Code128<'a> {
    pub x: u32,
    pub y: u32,
    pub height: u32,
    pub module: u32,
    pub data: &'a str,
}

/// A square DataMatrix ECC 200 symbol of [`crate::model::datamatrix_content`]: its
/// top-left corner and module size in dots, and the most modules per side the layout
/// reserved room for ([`datamatrix_side_max`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct DataMatrix {
    pub x: u32,
    pub y: u32,
    pub module: u32,
    pub side_max: u32,
}

/// What a renderer draws on. Coordinates are dots from the label's top-left corner.
pub(crate) trait Canvas {
    fn text(&mut self, text: &Text<'_>);
    /// A filled black rectangle (rules between blocks).
    fn rule(&mut self, x: u32, y: u32, width: u32, height: u32);
    /// The Code 128 with its data printed centred below it, `CODE128_TEXT_DOTS` high.
    fn code128(&mut self, code: &Code128<'_>);
    fn datamatrix(&mut self, symbol: &DataMatrix, label: &LabelData);
}

/// Height of the line printed under a Code 128 (ZPL's interpretation line), in dots.
pub(crate) const CODE128_TEXT_DOTS: u32 = 30;

/// Fits `parts` at `size` dots into `width_max` dots: unchanged if they fit, else
/// squeezed horizontally to the percentage that fits, but not below [`SQUEEZE_PCT_MIN`];
/// text that does not fit even then is cut after the last character that does. Widths
/// are the Helvetica AFM widths ([`metrics`]), exact for the PDF and an upper bound for
/// ZPL's condensed font 0. Integer arithmetic only, so both renderers cut at the same
/// character.
pub(crate) fn fit<'a>(parts: Parts<'a>, size: u32, bold: bool, width_max: u32) -> Text<'a> {
    // A text fits at `pct` percent when width_em_milli × size × pct ≤ width_max × 1000 × 100.
    let budget = u64::from(width_max) * 100_000;
    let size = u64::from(size.max(1));
    let width_milli: u64 = parts.iter().map(|p| width_milli(p, bold)).sum();
    let text = |squeeze_pct, parts| Text {
        x: 0,
        y: 0,
        size: size as u32,
        bold,
        squeeze_pct,
        parts,
    };
    if width_milli * size * 100 <= budget {
        return text(100, parts);
    }
    let pct = budget / (width_milli * size);
    if pct >= u64::from(SQUEEZE_PCT_MIN) {
        return text(pct as u32, parts);
    }
    // Cut: keep whole characters while the squeezed width stays within the budget.
    let min = u64::from(SQUEEZE_PCT_MIN);
    let mut used = 0u64;
    let mut kept: Parts<'a> = [""; PARTS_MAX];
    'parts: for (i, part) in parts.into_iter().enumerate() {
        for (at, c) in part.char_indices() {
            let w = u64::from(metrics::width_per_mille(sanitize_char(c), bold));
            if (used + w) * size * min > budget {
                kept[i] = &part[..at];
                break 'parts;
            }
            used += w;
        }
        kept[i] = part;
    }
    text(SQUEEZE_PCT_MIN, kept)
}

/// The width of `text` as printed (sanitized) in thousandths of an em; ASCII by table
/// lookup, the rest character by character.
fn width_milli(text: &str, bold: bool) -> u64 {
    if text.is_ascii() {
        let table = if bold {
            &metrics::HELVETICA_BOLD
        } else {
            &metrics::HELVETICA
        };
        let space = u64::from(table[usize::from(b' ')]);
        text.bytes()
            .map(|b| match b {
                b' '..=b'}' if b != b'^' => u64::from(table[usize::from(b)]),
                _ => space,
            })
            .sum()
    } else {
        text.chars()
            .map(|c| u64::from(metrics::width_per_mille(sanitize_char(c), bold)))
            .sum()
    }
}

/// The code sets a Code 128 symbol switches between.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum CodeSet {
    /// Printable ASCII, one character per symbol.
    B,
    /// Digit pairs, two digits per symbol.
    C,
}

/// Splits `data` (ASCII letters and digits, as [`LabelData::check`] ensures) into runs of
/// code set B and C: runs of 4 or more digits (or an all-digit even-length datum) use C,
/// an odd run giving its first digit to B. The usual near-optimal rule; the printer's own
/// automatic mode may choose differently, which changes the width, never the data.
pub(crate) fn code128_runs(data: &str) -> Vec<(CodeSet, &str)> {
    let bytes = data.as_bytes();
    if !bytes.is_empty() && bytes.len().is_multiple_of(2) && bytes.iter().all(u8::is_ascii_digit) {
        return vec![(CodeSet::C, data)];
    }
    // Runs as (set, start, end) byte offsets, adjacent runs of one set merged.
    let mut runs: Vec<(CodeSet, usize, usize)> = Vec::new();
    let mut push = |set: CodeSet, start: usize, end: usize| match runs.last_mut() {
        Some((last, _, run_end)) if *last == set => *run_end = end,
        _ => runs.push((set, start, end)),
    };
    let mut i = 0;
    while i < bytes.len() {
        let digits = bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
        if digits >= 4 {
            let odd = digits % 2;
            if odd == 1 {
                push(CodeSet::B, i, i + 1);
            }
            push(CodeSet::C, i + odd, i + digits);
            i += digits;
        } else {
            // A short digit run, or one character (of any width: never split one).
            let len = match digits {
                0 => data[i..].chars().next().map_or(1, char::len_utf8),
                _ => digits,
            };
            let end = i + len;
            push(CodeSet::B, i, end);
            i = end;
        }
    }
    runs.into_iter()
        .map(|(set, start, end)| (set, &data[start..end]))
        .collect()
}

/// Modules of the Code 128 of `data` per [`code128_runs`], quiet zones excluded: 11 per
/// symbol (start, data, set switches, check) and 13 for the stop pattern.
pub(crate) fn code128_modules(data: &str) -> u32 {
    let runs = code128_runs(data);
    let data_symbols: usize = runs
        .iter()
        .map(|(set, run)| match set {
            CodeSet::B => run.len(),
            CodeSet::C => run.len() / 2,
        })
        .sum();
    let switches = runs.len().saturating_sub(1);
    let symbols = 1 + data_symbols + switches + 1;
    (symbols * 11 + 13) as u32
}

/// Square DataMatrix ECC 200 sizes and their data codewords.
const DATAMATRIX_SQUARES: [(u32, u32); 24] = [
    (10, 3),
    (12, 5),
    (14, 8),
    (16, 12),
    (18, 18),
    (20, 22),
    (22, 30),
    (24, 36),
    (26, 44),
    (32, 62),
    (36, 86),
    (40, 114),
    (44, 144),
    (48, 174),
    (52, 204),
    (64, 280),
    (72, 368),
    (80, 456),
    (88, 576),
    (96, 696),
    (104, 816),
    (120, 1050),
    (132, 1304),
    (144, 1558),
];

/// An upper bound of the modules per side of the square DataMatrix of `content`: its
/// ASCII-mode codewords (a digit pair is one, any other byte one) in the smallest square
/// that holds them. Encoders that compact further only make the symbol smaller, so the
/// layout sizes the symbol's module from this and both renderers' symbols fit its box.
pub(crate) fn datamatrix_side_max(content: &[u8]) -> u32 {
    let mut codewords = 0u32;
    let mut i = 0;
    while i < content.len() {
        let pair =
            i + 1 < content.len() && content[i].is_ascii_digit() && content[i + 1].is_ascii_digit();
        i += if pair { 2 } else { 1 };
        codewords += if content[i - 1] > 127 { 2 } else { 1 };
    }
    DATAMATRIX_SQUARES
        .iter()
        .find(|(_, capacity)| *capacity >= codewords)
        .map_or(144, |(side, _)| *side)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_keeps_squeezes_then_cuts() {
        // "AAAA" in Helvetica Bold is 4 × 722 = 2888 thousandths of an em.
        let parts = ["AAAA", "", "", "", ""];
        // At 100 dots: 288.8 dots wide.
        let t = fit(parts, 100, true, 289);
        assert_eq!((t.squeeze_pct, t.parts), (100, parts));
        let t = fit(parts, 100, true, 250);
        assert_eq!((t.squeeze_pct, t.parts), (86, parts));
        // 75 % of 3 × 72.2 = 162.45 dots; of 4 × 72.2 = 216.6.
        let t = fit(parts, 100, true, 200);
        assert_eq!((t.squeeze_pct, t.parts[0]), (75, "AAA"));
        // A cut falls into a later part too.
        let t = fit(["AA", "AA", "", "", ""], 100, true, 200);
        assert_eq!(t.parts, ["AA", "A", "", "", ""]);
    }

    #[test]
    fn the_ascii_width_path_equals_the_general_one() {
        for bold in [false, true] {
            for b in 0u8..128 {
                let c = char::from(b);
                let general = u64::from(metrics::width_per_mille(sanitize_char(c), bold));
                assert_eq!(width_milli(&c.to_string(), bold), general, "{b:#x}");
            }
        }
    }

    #[test]
    fn code128_runs_choose_c_for_long_digit_runs() {
        use CodeSet::{B, C};
        let cases: [(&str, &[(CodeSet, &str)]); 6] = [
            ("CD00000000018", &[(B, "CD0"), (C, "0000000018")][..]),
            (
                "RB123456785GB",
                &[(B, "RB1"), (C, "23456785"), (B, "GB")][..],
            ),
            ("1234", &[(C, "1234")][..]),
            ("12345", &[(B, "1"), (C, "2345")][..]),
            ("A12B", &[(B, "A12B")][..]),
            ("XBL0000000017", &[(B, "XBL"), (C, "0000000017")][..]),
        ];
        for (data, runs) in cases {
            assert_eq!(code128_runs(data), runs, "{data}");
        }
        // Start, B: C D, switch, C: 6 pairs, check → 11 symbols.
        assert_eq!(code128_modules("CD000000000018"), 11 * 11 + 13);
    }

    #[test]
    fn datamatrix_side_bound() {
        assert_eq!(datamatrix_side_max(b"123456"), 10);
        assert_eq!(datamatrix_side_max(b"ABCD"), 12);
        assert_eq!(datamatrix_side_max(&[b'A'; 200]), 52);
    }
}
