//! Reading one column of an Arrow batch as the type the rate book declares.
//!
//! The rate book's columns have five kinds. Each kind accepts the Arrow types an analyst's
//! tools actually write, and refuses the rest with a message naming the type:
//! - text: any string array (also dictionary-encoded or views), and whole numbers (a zone
//!   written as `1`);
//! - money: DECIMAL of any width, decimal strings, and whole numbers; never floating point;
//! - whole: integers of any width, DECIMAL with no fraction, and floating point holding
//!   whole numbers (pandas writes nullable integers that way); never text: rate-book.md
//!   makes text in a count, gram, millimetre or day column a type error;
//! - bool: BOOLEAN, `true`/`false` strings, 0/1;
//! - date: DATE32/DATE64, TIMESTAMP (its UTC date), `YYYY-MM-DD` strings.

use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{Array, ArrayRef};
use arrow_schema::DataType;
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

impl Kind {
    pub fn describe(&self) -> &'static str {
        match self {
            Kind::Text => "text (UTF-8)",
            Kind::Money => "an exact decimal (DECIMAL or a decimal string)",
            Kind::Whole => "a whole number (INT)",
            Kind::Bool => "a boolean",
            Kind::Date => "a date (DATE or YYYY-MM-DD)",
        }
    }

    /// `Err` names why a column of `data_type` cannot hold this kind.
    pub fn accepts(&self, data_type: &DataType) -> Result<(), String> {
        let dt = match data_type {
            DataType::Dictionary(_, value) => value.as_ref(),
            other => other,
        };
        let stringy = matches!(
            dt,
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
        );
        let integer = dt.is_integer();
        let decimal = matches!(
            dt,
            DataType::Decimal32(..)
                | DataType::Decimal64(..)
                | DataType::Decimal128(..)
                | DataType::Decimal256(..)
        );
        let float = dt.is_floating();
        let ok = match self {
            Kind::Text => stringy || integer,
            Kind::Money => stringy || integer || decimal,
            // Text is refused even when it holds digits (rate-book.md, "Layout").
            Kind::Whole => integer || decimal || float,
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
            Err(format!("has type {dt}; expected {}", self.describe()))
        }
    }
}

/// One cell: `Ok(None)` for null, `Err` with what is wrong with the value.
pub type Cell<T> = Result<Option<T>, String>;

/// Reads the column as text.
pub fn text(array: &ArrayRef) -> Vec<Cell<String>> {
    if let Some(strings) = strings(array) {
        return strings
            .into_iter()
            .map(|s| Ok(s.map(str::to_string)))
            .collect();
    }
    integers(array)
        .into_iter()
        .map(|c| c.map(|v| v.map(|i| i.to_string())))
        .collect()
}

/// Reads the column as exact decimals.
pub fn money(array: &ArrayRef) -> Vec<Cell<Decimal>> {
    let dt = array.data_type();
    match dt {
        DataType::Decimal32(_, scale) => decimals(
            array
                .as_primitive::<Decimal32Type>()
                .iter()
                .map(|v| v.map(i128::from)),
            *scale,
        ),
        DataType::Decimal64(_, scale) => decimals(
            array
                .as_primitive::<Decimal64Type>()
                .iter()
                .map(|v| v.map(i128::from)),
            *scale,
        ),
        DataType::Decimal128(_, scale) => {
            decimals(array.as_primitive::<Decimal128Type>().iter(), *scale)
        }
        DataType::Decimal256(_, scale) => {
            let a = array.as_primitive::<Decimal256Type>();
            let scale = *scale;
            a.iter()
                .map(|v| match v {
                    None => Ok(None),
                    Some(v) => match v.to_i128() {
                        Some(m) => decimal(m, scale).map(Some),
                        None => Err("is out of decimal range".to_string()),
                    },
                })
                .collect()
        }
        _ => match strings(array) {
            Some(strings) => strings
                .into_iter()
                .map(|s| s.map(parse_decimal).transpose())
                .collect(),
            None => integers(array)
                .into_iter()
                .map(|c| c.map(|v| v.map(Decimal::from)))
                .collect(),
        },
    }
}

fn decimals(values: impl Iterator<Item = Option<i128>>, scale: i8) -> Vec<Cell<Decimal>> {
    values
        .map(|v| v.map(|m| decimal(m, scale)).transpose())
        .collect()
}

fn decimal(mantissa: i128, scale: i8) -> Result<Decimal, String> {
    let out_of_range = || "is out of decimal range (at most 28 significant digits)".to_string();
    if scale >= 0 {
        Decimal::try_from_i128_with_scale(mantissa, scale as u32).map_err(|_| out_of_range())
    } else {
        let factor = 10i128
            .checked_pow(u32::from(scale.unsigned_abs()))
            .ok_or_else(out_of_range)?;
        let m = mantissa.checked_mul(factor).ok_or_else(out_of_range)?;
        Decimal::try_from_i128_with_scale(m, 0).map_err(|_| out_of_range())
    }
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

/// Reads the column as whole numbers.
pub fn whole(array: &ArrayRef) -> Vec<Cell<i64>> {
    let dt = array.data_type();
    if dt.is_integer() {
        return integers(array);
    }
    if dt.is_floating() {
        let floats: Vec<Option<f64>> = match dt {
            DataType::Float16 => array
                .as_primitive::<Float16Type>()
                .iter()
                .map(|v| v.map(f64::from))
                .collect(),
            DataType::Float32 => array
                .as_primitive::<Float32Type>()
                .iter()
                .map(|v| v.map(f64::from))
                .collect(),
            _ => array.as_primitive::<Float64Type>().iter().collect(),
        };
        return floats
            .into_iter()
            .map(|v| match v {
                None => Ok(None),
                Some(f) if f.is_nan() => Ok(None),
                Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(Some(f as i64)),
                Some(f) => Err(format!("{f} is not a whole number")),
            })
            .collect();
    }
    if let Some(strings) = strings(array) {
        return strings
            .into_iter()
            .map(|s| {
                s.map(|t| {
                    t.parse::<i64>()
                        .map_err(|_| format!("{t:?} is not a whole number"))
                })
                .transpose()
            })
            .collect();
    }
    money(array)
        .into_iter()
        .map(|c| {
            c.and_then(|v| {
                v.map(|d| {
                    if d.fract().is_zero() {
                        i64::try_from(d.trunc()).map_err(|_| format!("{d} is out of range"))
                    } else {
                        Err(format!("{d} is not a whole number"))
                    }
                })
                .transpose()
            })
        })
        .collect()
}

/// Reads the column as booleans.
pub fn boolean(array: &ArrayRef) -> Vec<Cell<bool>> {
    if let DataType::Boolean = array.data_type() {
        return array.as_boolean().iter().map(Ok).collect();
    }
    if let Some(strings) = strings(array) {
        return strings
            .into_iter()
            .map(|s| {
                s.map(|t| match t.to_ascii_lowercase().as_str() {
                    "true" => Ok(true),
                    "false" => Ok(false),
                    _ => Err(format!("{t:?} is not true or false")),
                })
                .transpose()
            })
            .collect();
    }
    integers(array)
        .into_iter()
        .map(|c| {
            c.and_then(|v| {
                v.map(|i| match i {
                    0 => Ok(false),
                    1 => Ok(true),
                    other => Err(format!("{other} is not a boolean (0 or 1)")),
                })
                .transpose()
            })
        })
        .collect()
}

/// Reads the column as calendar dates.
pub fn date(array: &ArrayRef) -> Vec<Cell<Date>> {
    const MS_PER_DAY: i64 = 86_400_000;
    let from_days = |d: i64| -> Result<Date, String> {
        let date = i32::try_from(d).ok().map(Date::from_days_since_epoch);
        match date {
            Some(date) if (1900..=2200).contains(&date.ymd().0) => Ok(date),
            _ => Err("is outside the years 1900 to 2200".to_string()),
        }
    };
    match array.data_type() {
        DataType::Date32 => array
            .as_primitive::<Date32Type>()
            .iter()
            .map(|v| v.map(|d| from_days(i64::from(d))).transpose())
            .collect(),
        DataType::Date64 => array
            .as_primitive::<Date64Type>()
            .iter()
            .map(|v| v.map(|ms| from_days(ms.div_euclid(MS_PER_DAY))).transpose())
            .collect(),
        DataType::Timestamp(unit, _) => {
            use arrow_schema::TimeUnit::*;
            let per_day: i64 = match unit {
                Second => 86_400,
                Millisecond => MS_PER_DAY,
                Microsecond => MS_PER_DAY * 1000,
                Nanosecond => MS_PER_DAY * 1_000_000,
            };
            let values: Vec<Option<i64>> = match unit {
                Second => array.as_primitive::<TimestampSecondType>().iter().collect(),
                Millisecond => array
                    .as_primitive::<TimestampMillisecondType>()
                    .iter()
                    .collect(),
                Microsecond => array
                    .as_primitive::<TimestampMicrosecondType>()
                    .iter()
                    .collect(),
                Nanosecond => array
                    .as_primitive::<TimestampNanosecondType>()
                    .iter()
                    .collect(),
            };
            values
                .into_iter()
                .map(|v| v.map(|t| from_days(t.div_euclid(per_day))).transpose())
                .collect()
        }
        _ => match strings(array) {
            Some(strings) => strings
                .into_iter()
                .map(|s| {
                    s.map(|t| {
                        Date::parse(t).ok_or_else(|| format!("{t:?} is not a date (YYYY-MM-DD)"))
                    })
                    .transpose()
                })
                .collect(),
            None => vec![Err("is not a date".to_string()); array.len()],
        },
    }
}

/// The values of a string-like array (plain, large, view or dictionary-encoded).
fn strings(array: &ArrayRef) -> Option<Vec<Option<&str>>> {
    Some(match array.data_type() {
        DataType::Utf8 => array.as_string::<i32>().iter().collect(),
        DataType::LargeUtf8 => array.as_string::<i64>().iter().collect(),
        DataType::Utf8View => array.as_string_view().iter().collect(),
        DataType::Dictionary(key, value)
            if matches!(
                value.as_ref(),
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
            ) =>
        {
            macro_rules! dict {
                ($k:ty) => {{
                    let d = array.as_dictionary::<$k>();
                    let values = d.values();
                    let inner: Vec<Option<&str>> = match values.data_type() {
                        DataType::Utf8 => values.as_string::<i32>().iter().collect(),
                        DataType::LargeUtf8 => values.as_string::<i64>().iter().collect(),
                        _ => values.as_string_view().iter().collect(),
                    };
                    d.keys()
                        .iter()
                        .map(|k| k.and_then(|k| inner.get(k as usize).copied().flatten()))
                        .collect()
                }};
            }
            match key.as_ref() {
                DataType::Int8 => dict!(Int8Type),
                DataType::Int16 => dict!(Int16Type),
                DataType::Int32 => dict!(Int32Type),
                DataType::Int64 => dict!(Int64Type),
                DataType::UInt8 => dict!(UInt8Type),
                DataType::UInt16 => dict!(UInt16Type),
                DataType::UInt32 => dict!(UInt32Type),
                DataType::UInt64 => dict!(UInt64Type),
                _ => return None,
            }
        }
        _ => return None,
    })
}

/// The values of an integer array of any width.
fn integers(array: &ArrayRef) -> Vec<Cell<i64>> {
    macro_rules! ints {
        ($t:ty) => {
            array
                .as_primitive::<$t>()
                .iter()
                .map(|v| Ok(v.map(i64::from)))
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
        DataType::UInt64 => array
            .as_primitive::<UInt64Type>()
            .iter()
            .map(|v| {
                v.map(|u| i64::try_from(u).map_err(|_| format!("{u} is out of range")))
                    .transpose()
            })
            .collect(),
        other => vec![Err(format!("has type {other}")); array.len()],
    }
}
