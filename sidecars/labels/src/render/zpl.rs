//! ZPL II for 203 dpi printers: `^XA`, `^CI28` (UTF-8 field data), `^PW812`, `^LL1218`,
//! one field per line, `^XZ`.
//!
//! Text uses the resident scalable font 0 (`^A0N,h,w`, the width squeezed as the layout
//! fitted it). The printer encodes both barcodes: `^BC` in automatic mode with the
//! interpretation line below, whose `^FD` is exactly the tracking number, and `^BX` at
//! quality 200 (ECC 200), whose `^FD` is exactly the DataMatrix content. Every text is
//! sanitized as it is written ([`crate::model::sanitize_char`]), so no data can end a field
//! or start a command; the barcode fields need no sanitizing, as `check` admits only
//! characters that are safe there.
//!
//! Budget: ≥ 100 000 labels/s per core, i.e. ≤ 10 µs a label. The whole label is written
//! into one `Vec` sized for a typical label up front, numbers without `format!`, so a label
//! costs one allocation (none with [`zpl_into`] and a reused buffer).

use super::{Canvas, Code128, DataMatrix, Text, layout};
use crate::model::{InvalidLabel, LabelData, U32Text, sanitize_char, write_datamatrix_content};

/// Bytes reserved for a label: a typical one is about 2 KiB.
pub const ZPL_CAPACITY_BYTES: usize = 4096;

/// The label as ZPL II; refused with every problem if `label` fails
/// [`LabelData::check`].
pub fn zpl(label: &LabelData) -> Result<Vec<u8>, InvalidLabel> {
    let mut out = Vec::with_capacity(ZPL_CAPACITY_BYTES);
    zpl_into(label, &mut out)?;
    Ok(out)
}

/// [`zpl()`] appended to `out` (nothing is written if the label is refused).
pub fn zpl_into(label: &LabelData, out: &mut Vec<u8>) -> Result<(), InvalidLabel> {
    label.check()?;
    out.extend_from_slice(b"^XA\n^CI28\n^PW812\n^LL1218\n^LH0,0\n");
    layout::draw(label, &mut Zpl { out });
    out.extend_from_slice(b"^XZ\n");
    Ok(())
}

struct Zpl<'a> {
    out: &'a mut Vec<u8>,
}

impl Zpl<'_> {
    fn num(&mut self, n: u32) {
        self.out.extend_from_slice(U32Text::new(n).as_bytes());
    }

    fn origin(&mut self, x: u32, y: u32) {
        self.out.extend_from_slice(b"^FO");
        self.num(x);
        self.out.push(b',');
        self.num(y);
    }

    /// Field data, sanitized: ASCII without `^`, `~` or controls is copied as is; anything
    /// else goes character by character.
    fn data(&mut self, text: &str) {
        let plain = text.bytes().all(|b| matches!(b, b' '..=b'}') && b != b'^');
        if plain {
            self.out.extend_from_slice(text.as_bytes());
        } else {
            let mut utf8 = [0u8; 4];
            for c in text.chars() {
                let c = sanitize_char(c);
                self.out
                    .extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
            }
        }
    }
}

impl Canvas for Zpl<'_> {
    fn text(&mut self, text: &Text<'_>) {
        if text.parts.iter().all(|p| p.is_empty()) {
            return;
        }
        self.origin(text.x, text.y);
        self.out.extend_from_slice(b"^A0N,");
        self.num(text.size);
        self.out.push(b',');
        self.num(text.size * text.squeeze_pct / 100);
        self.out.extend_from_slice(b"^FD");
        for part in text.parts {
            self.data(part);
        }
        self.out.extend_from_slice(b"^FS\n");
    }

    fn rule(&mut self, x: u32, y: u32, width: u32, height: u32) {
        self.origin(x, y);
        self.out.extend_from_slice(b"^GB");
        self.num(width);
        self.out.push(b',');
        self.num(height);
        self.out.push(b',');
        self.num(width.min(height));
        self.out.extend_from_slice(b"^FS\n");
    }

    fn code128(&mut self, code: &Code128<'_>) {
        self.out.extend_from_slice(b"^BY");
        self.num(code.module);
        self.out.push(b'\n');
        self.origin(code.x, code.y);
        self.out.extend_from_slice(b"^BCN,");
        self.num(code.height);
        // Interpretation line printed, below; no mode-103 check digit; automatic subsets.
        self.out.extend_from_slice(b",Y,N,N,A^FD");
        self.data(code.data);
        self.out.extend_from_slice(b"^FS\n");
    }

    fn datamatrix(&mut self, symbol: &DataMatrix, label: &LabelData) {
        self.origin(symbol.x, symbol.y);
        self.out.extend_from_slice(b"^BXN,");
        self.num(symbol.module);
        self.out.extend_from_slice(b",200^FD");
        // `check` admitted only printable ASCII without `^` or `~` in the content.
        let _ = write_datamatrix_content(label, &mut Bytes(&mut *self.out));
        self.out.extend_from_slice(b"^FS\n");
    }
}

/// `fmt::Write` into the output bytes.
struct Bytes<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for Bytes<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}
