//! Reading Arrow columns as the kinds of value crossdock's files hold: the one owner of
//! every Arrow → value conversion (rate books here, bulk parcel files in crossdock-bulk).
//!
//! A column has one of five kinds. Each kind accepts the Arrow types an analyst's tools
//! actually write, and refuses the rest with a message naming the type:
//! - text: any string array (also dictionary-encoded or views), and whole numbers (a zone
//!   written as `1`);
//! - money: DECIMAL of any width, decimal strings, and whole numbers; never floating point;
//! - whole: integers of any width, DECIMAL with no fraction, and floating point holding
//!   whole numbers (pandas writes nullable integers that way). A rate book's whole-number
//!   column never holds text (rate-book.md makes text in a count, gram, millimetre or day
//!   column a type error); a parcel file's may hold digit strings, as its CSV twin does;
//! - bool: BOOLEAN, `true`/`false` strings, 0/1;
//! - date: DATE32/DATE64, TIMESTAMP (its UTC date), `YYYY-MM-DD` strings.
//!
//! Two layers: [`Texts`] reads string columns in place, and [`scalars`] reads every other
//! column once into [`Scalar`]s. The typed readers below ([`text`], [`money`], [`whole`],
//! [`boolean`], [`date`]) build a rate book's cells from those two; crossdock-bulk builds its
//! row cells from the same two.

use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{Array, ArrayRef, LargeStringArray, StringArray, StringViewArray};
use arrow_schema::{DataType, TimeUnit};
use crossdock_engine::{Date, Decimal};
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Text,
    Money,
    Whole,
    Bool,
    Date,
}

/// Which contract a file's columns follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// A rate book table (rate-book.md): whole numbers only as numbers.
    RateBook,
    /// A bulk file of parcels (quote-api.md, "Bulk files"): read like its CSV twin, so
    /// whole numbers may be digit strings, and a column of Arrow type Null is empty.
    Parcels,
}

impl Kind {
    /// What a column of this kind must be, for messages.
    pub fn describe(&self, file: FileKind) -> &'static str {
        match (self, file) {
            (Kind::Text, FileKind::RateBook) => "text (UTF-8)",
            (Kind::Text, FileKind::Parcels) => "text (UTF-8) or a whole number",
            (Kind::Money, _) => "an exact decimal (DECIMAL or a decimal string)",
            (Kind::Whole, FileKind::RateBook) => "a whole number (INT)",
            (Kind::Whole, FileKind::Parcels) => "a whole number (INT, DECIMAL or digits)",
            (Kind::Bool, FileKind::RateBook) => "a boolean",
            (Kind::Bool, FileKind::Parcels) => "a boolean (BOOLEAN or true/false)",
            (Kind::Date, _) => "a date (DATE or YYYY-MM-DD)",
        }
    }

    /// `Err` names why a column of `data_type` cannot hold this kind in a `file`.
    pub fn accepts(&self, data_type: &DataType, file: FileKind) -> Result<(), String> {
        let dt = match data_type {
            DataType::Dictionary(_, value) => value.as_ref(),
            other => other,
        };
        let stringy = is_string(dt);
        let integer = dt.is_integer();
        let decimal = matches!(
            dt,
            DataType::Decimal32(..)
                | DataType::Decimal64(..)
                | DataType::Decimal128(..)
                | DataType::Decimal256(..)
        );
        let float = dt.is_floating();
        let parcels = file == FileKind::Parcels;
        let ok = (parcels && matches!(dt, DataType::Null))
            || match self {
                Kind::Text => stringy || integer,
                Kind::Money => stringy || integer || decimal,
                // A rate book refuses text even when it holds digits (rate-book.md, "Layout").
                Kind::Whole => (parcels && stringy) || integer || decimal || float,
                Kind::Bool => matches!(dt, DataType::Boolean) || stringy || integer,
                Kind::Date => {
                    matches!(
                        dt,
                        DataType::Date32 | DataType::Date64 | DataType::Timestamp(..)
                    ) || stringy
                }
            };
        if ok {
            Ok(())
        } else if *self == Kind::Money && float {
            Err(format!(
                "is floating point ({dt}); money must be DECIMAL or a decimal string, never float"
            ))
        } else {
            Err(format!("has type {dt}; expected {}", self.describe(file)))
        }
    }
}

fn is_string(dt: &DataType) -> bool {
    matches!(
        dt,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
    )
}

/// The values of a string column, read in place (plain, large, view or dictionary-encoded).
#[derive(Debug)]
pub enum Texts<'a> {
    Utf8(&'a StringArray),
    LargeUtf8(&'a LargeStringArray),
    Utf8View(&'a StringViewArray),
    Dict {
        array: &'a dyn Array,
        keys: Vec<usize>,
        values: Box<Texts<'a>>,
    },
}

impl<'a> Texts<'a> {
    /// `None` when `array` is not a string column.
    pub fn of(array: &'a ArrayRef) -> Option<Texts<'a>> {
        Texts::of_dyn(array.as_ref())
    }

    fn of_dyn(array: &'a dyn Array) -> Option<Texts<'a>> {
        Some(match array.data_type() {
            DataType::Utf8 => Texts::Utf8(array.as_string::<i32>()),
            DataType::LargeUtf8 => Texts::LargeUtf8(array.as_string::<i64>()),
            DataType::Utf8View => Texts::Utf8View(array.as_string_view()),
            DataType::Dictionary(_, value) if is_string(value) => {
                let dict = array.as_any_dictionary_opt()?;
                Texts::Dict {
                    array,
                    keys: dict.normalized_keys(),
                    values: Box::new(Texts::of_dyn(dict.values().as_ref())?),
                }
            }
            _ => return None,
        })
    }

    #[inline]
    pub fn len(&self) -> usize {
        match self {
            Texts::Utf8(a) => a.len(),
            Texts::LargeUtf8(a) => a.len(),
            Texts::Utf8View(a) => a.len(),
            Texts::Dict { array, .. } => array.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Row `row`'s text; `None` for null, and for a dictionary key past its values.
    #[inline]
    pub fn get(&self, row: usize) -> Option<&'a str> {
        match self {
            Texts::Utf8(a) => (!a.is_null(row)).then(|| a.value(row)),
            Texts::LargeUtf8(a) => (!a.is_null(row)).then(|| a.value(row)),
            Texts::Utf8View(a) => (!a.is_null(row)).then(|| a.value(row)),
            Texts::Dict {
                array,
                keys,
                values,
            } => {
                if array.is_null(row) {
                    return None;
                }
                let key = *keys.get(row)?;
                if key < values.len() {
                    values.get(key)
                } else {
                    None
                }
            }
        }
    }
}

/// One value of a column that is not text, as read from Arrow.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scalar {
    /// An integer of any width, or a floating-point value holding a whole number.
    Int(i128),
    /// A floating-point value that is not a whole number (or too large to be one exactly).
    Float(f64),
    Decimal(Decimal),
    Bool(bool),
    /// DATE, or a TIMESTAMP's UTC day.
    Date(Date),
}

/// One scalar cell: `Ok(None)` for null (and NaN), `Err` with what is wrong with the value.
pub type ScalarCell = Result<Option<Scalar>, &'static str>;

pub const OUT_OF_DECIMAL_RANGE: &str = "is out of decimal range (at most 28 significant digits)";
const OUTSIDE_YEARS: &str = "is outside the years 1900 to 2200";
const NOT_ACCEPTED: &str = "has a type this column does not accept";
const MS_PER_DAY: i64 = 86_400_000;

/// Reads a column that is not text: integers, floats, decimals, booleans, dates and
/// timestamps, also dictionary-encoded. Any other type gives an `Err` cell per row.
pub fn scalars(array: &ArrayRef) -> Vec<ScalarCell> {
    scalars_dyn(array.as_ref())
}

fn scalars_dyn(array: &dyn Array) -> Vec<ScalarCell> {
    let dt = array.data_type();
    if dt.is_integer() {
        return integers(array)
            .into_iter()
            .map(|v| Ok(v.map(Scalar::Int)))
            .collect();
    }
    match dt {
        DataType::Boolean => array
            .as_boolean()
            .iter()
            .map(|v| Ok(v.map(Scalar::Bool)))
            .collect(),
        DataType::Float16 => floats(
            array
                .as_primitive::<Float16Type>()
                .iter()
                .map(|v| v.map(f64::from)),
        ),
        DataType::Float32 => floats(
            array
                .as_primitive::<Float32Type>()
                .iter()
                .map(|v| v.map(f64::from)),
        ),
        DataType::Float64 => floats(array.as_primitive::<Float64Type>().iter()),
        DataType::Decimal32(_, s) => decimals(
            array
                .as_primitive::<Decimal32Type>()
                .iter()
                .map(|v| v.map(i128::from)),
            *s,
        ),
        DataType::Decimal64(_, s) => decimals(
            array
                .as_primitive::<Decimal64Type>()
                .iter()
                .map(|v| v.map(i128::from)),
            *s,
        ),
        DataType::Decimal128(_, s) => decimals(array.as_primitive::<Decimal128Type>().iter(), *s),
        DataType::Decimal256(_, s) => {
            let scale = *s;
            array
                .as_primitive::<Decimal256Type>()
                .iter()
                .map(|v| match v {
                    None => Ok(None),
                    Some(v) => match v.to_i128() {
                        Some(m) => decimal(m, scale).map(Some),
                        None => Err(OUT_OF_DECIMAL_RANGE),
                    },
                })
                .collect()
        }
        DataType::Date32 => days(
            array
                .as_primitive::<Date32Type>()
                .iter()
                .map(|v| v.map(i64::from)),
        ),
        DataType::Date64 => days(
            array
                .as_primitive::<Date64Type>()
                .iter()
                .map(|v| v.map(|ms| ms.div_euclid(MS_PER_DAY))),
        ),
        DataType::Timestamp(unit, _) => {
            let per_day: i64 = match unit {
                TimeUnit::Second => 86_400,
                TimeUnit::Millisecond => MS_PER_DAY,
                TimeUnit::Microsecond => MS_PER_DAY * 1_000,
                TimeUnit::Nanosecond => MS_PER_DAY * 1_000_000,
            };
            let values: Vec<Option<i64>> = match unit {
                TimeUnit::Second => array.as_primitive::<TimestampSecondType>().iter().collect(),
                TimeUnit::Millisecond => array
                    .as_primitive::<TimestampMillisecondType>()
                    .iter()
                    .collect(),
                TimeUnit::Microsecond => array
                    .as_primitive::<TimestampMicrosecondType>()
                    .iter()
                    .collect(),
                TimeUnit::Nanosecond => array
                    .as_primitive::<TimestampNanosecondType>()
                    .iter()
                    .collect(),
            };
            days(values.into_iter().map(|v| v.map(|t| t.div_euclid(per_day))))
        }
        DataType::Dictionary(..) => match array.as_any_dictionary_opt() {
            Some(dict) => {
                let values = scalars_dyn(dict.values().as_ref());
                dict.normalized_keys()
                    .into_iter()
                    .enumerate()
                    .map(|(row, key)| {
                        if array.is_null(row) {
                            Ok(None)
                        } else {
                            values.get(key).copied().unwrap_or(Ok(None))
                        }
                    })
                    .collect()
            }
            None => vec![Err(NOT_ACCEPTED); array.len()],
        },
        _ => vec![Err(NOT_ACCEPTED); array.len()],
    }
}

/// A whole float is an integer and NaN is null (pandas writes nullable integers that way);
/// anything else stays a float, for the reader to refuse with its value.
fn floats(values: impl Iterator<Item = Option<f64>>) -> Vec<ScalarCell> {
    values
        .map(|v| {
            Ok(match v {
                None => None,
                Some(f) if f.is_nan() => None,
                Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(Scalar::Int(f as i128)),
                Some(f) => Some(Scalar::Float(f)),
            })
        })
        .collect()
}

fn decimals(values: impl Iterator<Item = Option<i128>>, scale: i8) -> Vec<ScalarCell> {
    values
        .map(|v| v.map(|m| decimal(m, scale)).transpose())
        .collect()
}

fn decimal(mantissa: i128, scale: i8) -> Result<Scalar, &'static str> {
    let exact = if scale >= 0 {
        Decimal::try_from_i128_with_scale(mantissa, scale.unsigned_abs().into()).ok()
    } else {
        10i128
            .checked_pow(u32::from(scale.unsigned_abs()))
            .and_then(|factor| mantissa.checked_mul(factor))
            .and_then(|m| Decimal::try_from_i128_with_scale(m, 0).ok())
    };
    exact.map(Scalar::Decimal).ok_or(OUT_OF_DECIMAL_RANGE)
}

fn days(values: impl Iterator<Item = Option<i64>>) -> Vec<ScalarCell> {
    values
        .map(|v| {
            v.map(
                |d| match i32::try_from(d).ok().map(Date::from_days_since_epoch) {
                    Some(date) if (1900..=2200).contains(&date.ymd().0) => Ok(Scalar::Date(date)),
                    _ => Err(OUTSIDE_YEARS),
                },
            )
            .transpose()
        })
        .collect()
}

/// The values of an integer array of any width.
fn integers(array: &dyn Array) -> Vec<Option<i128>> {
    macro_rules! ints {
        ($t:ty) => {
            array
                .as_primitive::<$t>()
                .iter()
                .map(|v| v.map(i128::from))
                .collect()
        };
    }
    match array.data_type() {
        DataType::Int8 => ints!(Int8Type),
        DataType::Int16 => ints!(Int16Type),
        DataType::Int32 => ints!(Int32Type),
        DataType::Int64 => ints!(Int64Type),
        DataType::UInt8 => ints!(UInt8Type),
        DataType::UInt16 => ints!(UInt16Type),
        DataType::UInt32 => ints!(UInt32Type),
        DataType::UInt64 => ints!(UInt64Type),
        _ => vec![None; array.len()],
    }
}

// ---------------------------------------------------------------------------------------
// A rate book's cells.

/// One cell: `Ok(None)` for null, `Err` with what is wrong with the value.
pub type Cell<T> = Result<Option<T>, String>;

/// A rate book column's cells: text through `from_text`, everything else through
/// `from_scalar`.
fn cells<T>(
    array: &ArrayRef,
    from_text: impl Fn(&str) -> Result<T, String>,
    from_scalar: impl Fn(Scalar) -> Result<T, String>,
) -> Vec<Cell<T>> {
    match Texts::of(array) {
        Some(texts) => (0..texts.len())
            .map(|row| texts.get(row).map(&from_text).transpose())
            .collect(),
        None => scalars(array)
            .into_iter()
            .map(|cell| match cell {
                Ok(value) => value.map(&from_scalar).transpose(),
                Err(why) => Err(why.to_string()),
            })
            .collect(),
    }
}

fn not_accepted<T>(_: Scalar) -> Result<T, String> {
    Err(NOT_ACCEPTED.to_string())
}

/// Reads the column as text.
pub fn text(array: &ArrayRef) -> Vec<Cell<String>> {
    cells(
        array,
        |s| Ok(s.to_string()),
        |v| match v {
            Scalar::Int(i) => Ok(i.to_string()),
            other => not_accepted(other),
        },
    )
}

/// Reads the column as exact decimals.
pub fn money(array: &ArrayRef) -> Vec<Cell<Decimal>> {
    cells(array, parse_decimal, |v| match v {
        Scalar::Decimal(d) => Ok(d),
        Scalar::Int(i) => {
            Decimal::try_from_i128_with_scale(i, 0).map_err(|_| OUT_OF_DECIMAL_RANGE.to_string())
        }
        other => not_accepted(other),
    })
}

/// A decimal string as analysts write them: `12.5`, `-3`, `0.125`; no exponent, no spaces.
pub fn parse_decimal(text: &str) -> Result<Decimal, String> {
    let body = text.strip_prefix('-').unwrap_or(text);
    let mut parts = body.splitn(2, '.');
    let int = parts.next().unwrap_or("");
    let frac = parts.next();
    let digits_ok = !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()));
    if !digits_ok {
        return Err(format!("{text:?} is not a decimal number"));
    }
    Decimal::from_str(text)
        .map_err(|_| format!("{text:?} is out of decimal range (at most 28 significant digits)"))
}

/// Reads the column as whole numbers. Text never is one in a rate book (the column's type
/// is refused before its cells are read).
pub fn whole(array: &ArrayRef) -> Vec<Cell<i64>> {
    cells(
        array,
        |t| Err(format!("{t:?} is text, not a whole number")),
        |v| match v {
            Scalar::Int(i) => i64::try_from(i).map_err(|_| format!("{i} is out of range")),
            Scalar::Float(f) => Err(format!("{f} is not a whole number")),
            Scalar::Decimal(d) if d.fract().is_zero() => {
                i64::try_from(d.trunc()).map_err(|_| format!("{d} is out of range"))
            }
            Scalar::Decimal(d) => Err(format!("{d} is not a whole number")),
            other => not_accepted(other),
        },
    )
}

/// Reads the column as booleans.
pub fn boolean(array: &ArrayRef) -> Vec<Cell<bool>> {
    cells(
        array,
        |t| match t.to_ascii_lowercase().as_str() {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(format!("{t:?} is not true or false")),
        },
        |v| match v {
            Scalar::Bool(b) => Ok(b),
            Scalar::Int(0) => Ok(false),
            Scalar::Int(1) => Ok(true),
            Scalar::Int(other) => Err(format!("{other} is not a boolean (0 or 1)")),
            other => not_accepted(other),
        },
    )
}

/// Reads the column as calendar dates.
pub fn date(array: &ArrayRef) -> Vec<Cell<Date>> {
    cells(
        array,
        |t| Date::parse(t).ok_or_else(|| format!("{t:?} is not a date (YYYY-MM-DD)")),
        |v| match v {
            Scalar::Date(d) => Ok(d),
            _ => Err("is not a date".to_string()),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{DictionaryArray, Float64Array, Int32Array};
    use std::sync::Arc;

    #[test]
    fn a_rate_book_refuses_text_in_a_whole_number_column_and_a_parcel_file_does_not() {
        let utf8 = DataType::Utf8;
        let refused = Kind::Whole.accepts(&utf8, FileKind::RateBook);
        assert_eq!(
            refused,
            Err("has type Utf8; expected a whole number (INT)".to_string())
        );
        assert_eq!(Kind::Whole.accepts(&utf8, FileKind::Parcels), Ok(()));
        assert!(
            Kind::Whole
                .accepts(&DataType::Int32, FileKind::RateBook)
                .is_ok()
        );
        assert!(
            Kind::Whole
                .accepts(&DataType::Null, FileKind::RateBook)
                .is_err()
        );
        assert!(
            Kind::Whole
                .accepts(&DataType::Null, FileKind::Parcels)
                .is_ok()
        );
    }

    #[test]
    fn cells_convert_once_for_every_reader() {
        let floats: ArrayRef = Arc::new(Float64Array::from(vec![
            Some(2.0),
            Some(2.5),
            Some(f64::NAN),
            None,
        ]));
        assert_eq!(
            whole(&floats),
            vec![
                Ok(Some(2)),
                Err("2.5 is not a whole number".to_string()),
                Ok(None),
                Ok(None)
            ]
        );
        let keys = Int32Array::from(vec![Some(1), None, Some(0)]);
        let values: ArrayRef = Arc::new(StringArray::from(vec!["A", "B"]));
        let dict: ArrayRef = Arc::new(DictionaryArray::try_new(keys, values).unwrap());
        assert_eq!(
            text(&dict),
            vec![
                Ok(Some("B".to_string())),
                Ok(None),
                Ok(Some("A".to_string()))
            ]
        );
        let ints: ArrayRef = Arc::new(Int32Array::from(vec![Some(7), None]));
        assert_eq!(money(&ints), vec![Ok(Some(Decimal::from(7))), Ok(None)]);
        assert_eq!(text(&ints), vec![Ok(Some("7".to_string())), Ok(None)]);
        assert_eq!(
            boolean(&ints),
            vec![Err("7 is not a boolean (0 or 1)".to_string()), Ok(None)]
        );
    }
}
