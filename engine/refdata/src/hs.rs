//! The Harmonized System 2022 nomenclature (`data/harmonized-system.csv`, the source file
//! unchanged).
//!
//! The source is UN Comtrade's list: 97 chapters, 1,229 headings and 5,613 subheadings,
//! which includes Comtrade's reporting code `99`/`9999`/`999999` "Commodities not
//! specified according to kind" (section `TOTAL`). That code is no part of HS 2022 — the
//! WCO's nomenclature has 96 chapters (01–97 without the reserved 77), 1,228 headings and
//! 5,612 subheadings — and no customs office accepts it, so it is left out here: `999999`
//! is [`HsCheck::Unknown`].

use std::borrow::Cow;
use std::sync::LazyLock;

const FILE: &str = "data/harmonized-system.csv";
const TEXT: &str = include_str!("../data/harmonized-system.csv");

/// The longest HS code accepted, in digits (national tariff lines go to 10).
const DIGITS_MAX: usize = 10;

/// How an HS code given on an order stands against HS 2022 (orders-labels.md, `HS_UNKNOWN`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum HsCheck {
    /// 2–10 digits (dots and spaces ignored) naming HS 2022: a chapter (2 digits), a
    /// heading (4), or 6 or more digits whose first 6 are a subheading.
    Known,
    /// Well-formed but not in HS 2022: a chapter, heading or subheading that does not
    /// exist (`7700`, `851712`), or 3 or 5 digits, which name no level of the
    /// nomenclature (no chapter or heading, as the spec says of shorter codes).
    Unknown,
    /// Not 2–10 digits once dots and spaces are removed (other characters, too short, too
    /// long, empty): not an HS code at all.
    Malformed,
}

/// A level of the nomenclature, by the number of digits of its codes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum HsLevel {
    /// 2 digits (`39`).
    Chapter,
    /// 4 digits (`3926`).
    Heading,
    /// 6 digits (`392690`).
    Subheading,
}

impl HsLevel {
    fn digits(self) -> usize {
        match self {
            HsLevel::Chapter => 2,
            HsLevel::Heading => 4,
            HsLevel::Subheading => 6,
        }
    }
}

/// The digits of an HS code as written on an order: dots and (ASCII) spaces removed,
/// `None` unless 2–10 ASCII digits remain. `"3926.90 00"` → `"39269000"`; the same
/// normalisation as `crossdock_engine::codes::HsCode::parse`.
pub fn hs_normalise(code: &str) -> Option<String> {
    let digits = Digits::parse(code)?;
    Some(digits.as_str().to_owned())
}

/// Whether `code` names HS 2022 (orders-labels.md: "2–10 digits, dots and spaces ignored:
/// its first 6 digits are no 6-digit subheading of HS 2022, or a shorter code no chapter
/// or heading" is `HS_UNKNOWN`). See [`HsCheck`] for each answer.
///
/// The first call of any `hs_` function parses the table, a few milliseconds.
pub fn hs_known(code: &str) -> HsCheck {
    match Digits::parse(code) {
        None => HsCheck::Malformed,
        Some(digits) if lookup(digits.level_code()).is_some() => HsCheck::Known,
        Some(_) => HsCheck::Unknown,
    }
}

/// The description of what `code` names: its subheading's for 6 or more digits (national
/// digits beyond 6 ignored), its heading's or chapter's for 4 or 2; `None` when
/// [`hs_known`] is not [`HsCheck::Known`]. `"3926.90"` → `Plastics; other articles n.e.c.
/// in chapter 39`.
pub fn hs_description(code: &str) -> Option<&'static str> {
    let digits = Digits::parse(code)?;
    lookup(digits.level_code()).map(|entry| &*entry.description)
}

/// Every code of one level of HS 2022, ascending (96 chapters, 1,228 headings, 5,612
/// subheadings).
pub fn hs_codes(level: HsLevel) -> impl Iterator<Item = &'static str> {
    table()
        .iter()
        .map(|entry| entry.code)
        .filter(move |code| code.len() == level.digits())
}

/// An HS code's digits on the stack: `len` in 2..=10, all ASCII digits.
struct Digits {
    bytes: [u8; DIGITS_MAX],
    len: usize,
}

impl Digits {
    fn parse(code: &str) -> Option<Digits> {
        let mut bytes = [0; DIGITS_MAX];
        let mut len = 0;
        for b in code.bytes().filter(|b| *b != b'.' && *b != b' ') {
            if !b.is_ascii_digit() || len == DIGITS_MAX {
                return None;
            }
            bytes[len] = b;
            len += 1;
        }
        (len >= 2).then_some(Digits { bytes, len })
    }

    fn as_str(&self) -> &str {
        // Only ASCII digits were stored.
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or_default()
    }

    /// The code of the level these digits are checked at: the first 6 of 6 or more, else
    /// all of them (3 and 5 digits then match no entry).
    fn level_code(&self) -> &str {
        let s = self.as_str();
        s.get(..6).unwrap_or(s)
    }
}

struct Entry {
    code: &'static str,
    description: Cow<'static, str>,
}

fn lookup(code: &str) -> Option<&'static Entry> {
    let all = table();
    all.binary_search_by(|e| e.code.cmp(code))
        .ok()
        .map(|i| &all[i])
}

/// HS 2022 without Comtrade's `TOTAL` section, sorted by code.
fn table() -> &'static [Entry] {
    static TABLE: LazyLock<Vec<Entry>> = LazyLock::new(load);
    &TABLE
}

/// The section Comtrade gives its own total and "not specified" codes.
const COMTRADE_SECTION: &str = "TOTAL";

fn load() -> Vec<Entry> {
    let mut entries: Vec<Entry> = rows()
        .filter(|(_, row)| row.section != COMTRADE_SECTION)
        .map(|(line, row)| {
            let len = row.code.len();
            assert!(
                matches!(len, 2 | 4 | 6) && row.code.bytes().all(|b| b.is_ascii_digit()),
                "{FILE}:{line}: code {:?}",
                row.code
            );
            assert_eq!(row.level, len.to_string(), "{FILE}:{line}: level");
            let parent_ok = if len == 2 {
                row.parent == COMTRADE_SECTION
            } else {
                row.parent == &row.code[..len - 2]
            };
            assert!(parent_ok, "{FILE}:{line}: parent {:?}", row.parent);
            Entry {
                code: row.code,
                description: row.description,
            }
        })
        .collect();
    entries.sort_by(|a, b| a.code.cmp(b.code));
    assert!(
        entries.windows(2).all(|w| w[0].code < w[1].code),
        "{FILE}: codes unique"
    );
    // Every heading's chapter and every subheading's heading is there.
    assert!(
        entries.iter().filter(|e| e.code.len() > 2).all(|e| entries
            .binary_search_by(|p| p.code.cmp(&e.code[..e.code.len() - 2]))
            .is_ok()),
        "{FILE}: every parent present"
    );
    entries
}

struct Row {
    section: &'static str,
    code: &'static str,
    description: Cow<'static, str>,
    parent: &'static str,
    level: &'static str,
}

/// The data rows of the CSV file (`section,hscode,description,parent,level`), with their
/// 1-based line numbers.
fn rows() -> impl Iterator<Item = (usize, Row)> {
    let mut lines = TEXT.lines().enumerate();
    let header = lines.next().map(|(_, l)| l);
    assert_eq!(
        header,
        Some("section,hscode,description,parent,level"),
        "{FILE}: header"
    );
    lines.filter(|(_, l)| !l.is_empty()).map(|(i, l)| {
        let mut fields = csv_fields(l.strip_suffix('\r').unwrap_or(l));
        let line = i + 1;
        let mut next = || {
            fields
                .next()
                .unwrap_or_else(|| panic!("{FILE}:{line}: fewer than 5 fields"))
                .unwrap_or_else(|e| panic!("{FILE}:{line}: {e}"))
        };
        let section = plain(next(), line);
        let code = plain(next(), line);
        let description = next();
        let parent = plain(next(), line);
        let level = plain(next(), line);
        assert!(fields.next().is_none(), "{FILE}:{line}: more than 5 fields");
        let row = Row {
            section,
            code,
            description,
            parent,
            level,
        };
        (line, row)
    })
}

fn plain(field: Cow<'static, str>, line: usize) -> &'static str {
    match field {
        Cow::Borrowed(s) => s,
        Cow::Owned(s) => panic!("{FILE}:{line}: unexpected escaped field {s:?}"),
    }
}

/// The fields of one CSV line (RFC 4180; quoted fields hold no line breaks in this file):
/// borrowed from the line unless a quoted field has `""` escapes.
fn csv_fields(line: &'static str) -> impl Iterator<Item = Result<Cow<'static, str>, &'static str>> {
    let mut rest = Some(line);
    std::iter::from_fn(move || {
        let text = rest?;
        let Some(quoted) = text.strip_prefix('"') else {
            let (field, after) = match text.split_once(',') {
                Some((field, after)) => (field, Some(after)),
                None => (text, None),
            };
            rest = after;
            return Some(Ok(Cow::Borrowed(field)));
        };
        // A quoted field ends at a quote not followed by another one.
        let mut value = String::new();
        let mut from = 0;
        loop {
            let Some(at) = quoted[from..].find('"').map(|i| from + i) else {
                rest = None;
                return Some(Err("unterminated quoted field"));
            };
            if quoted[at + 1..].starts_with('"') {
                value.push_str(&quoted[from..=at]);
                from = at + 2;
                continue;
            }
            let after = &quoted[at + 1..];
            rest = match after.strip_prefix(',') {
                Some(next) => Some(next),
                None if after.is_empty() => None,
                None => return Some(Err("text after a quoted field")),
            };
            let field = if value.is_empty() {
                Cow::Borrowed(&quoted[..at])
            } else {
                value.push_str(&quoted[from..at]);
                Cow::Owned(value)
            };
            return Some(Ok(field));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// data/README.md's counts hold for the file as shipped (the source's).
    #[test]
    fn the_source_has_97_chapters_1229_headings_5613_subheadings() {
        let count = |level: &str| rows().filter(|(_, r)| r.level == level).count();
        assert_eq!(
            (count("2"), count("4"), count("6")),
            (97, 1_229, 5_613),
            "chapters, headings, subheadings of the source"
        );
        let total: Vec<&str> = rows()
            .filter(|(_, r)| r.section == COMTRADE_SECTION)
            .map(|(_, r)| r.code)
            .collect();
        assert_eq!(total, ["99", "9999", "999999", "TOTAL"]);
    }

    #[test]
    fn the_table_is_hs_2022_without_comtrade_codes() {
        let count = |level| hs_codes(level).count();
        assert_eq!(
            (
                count(HsLevel::Chapter),
                count(HsLevel::Heading),
                count(HsLevel::Subheading)
            ),
            (96, 1_228, 5_612)
        );
        assert!(hs_codes(HsLevel::Chapter).all(|c| c != "77" && c != "99"));
    }

    #[test]
    fn csv_fields_unquote_and_unescape() {
        let got: Vec<_> = csv_fields(r#"a,"b, c","say ""hi""",,"#)
            .map(|f| f.expect("field"))
            .collect();
        assert_eq!(got, ["a", "b, c", r#"say "hi""#, "", ""]);
        assert!(matches!(&got[1], Cow::Borrowed(_)));
        assert!(csv_fields(r#""open"#).any(|f| f.is_err()));
        assert!(csv_fields(r#""a"b"#).any(|f| f.is_err()));
    }
}
