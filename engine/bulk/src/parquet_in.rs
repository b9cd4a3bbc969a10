//! Reading a Parquet file of parcels in batches, leniently typed like an analyst's file.
//!
//! Each known column's Arrow type is checked once against its [`Kind`] when the file is
//! opened (a float money column, say, refuses the file before a row is read). Per batch, each
//! column becomes a [`ColumnView`]: strings are read in place, everything else is read once into
//! cells of the kind the column needs (an integer `value_amount` becomes a decimal, a
//! whole float `weight_g` an integer, a TIMESTAMP `ship_date` its UTC day).

use crate::BulkError;
use crate::cell::Cell;
use crate::columns::{COLUMNS, Col, ColumnMap, HeaderProblem, Kind};
use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, TimeUnit};
use crossdock_engine::{Date, Decimal};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use std::fs::File;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

pub(crate) struct ParquetSource {
    path: PathBuf,
    reader: ParquetRecordBatchReader,
    map: ColumnMap,
    rows_total: u64,
}

impl ParquetSource {
    /// Opens `path`, checks its columns, and prepares to read only the known ones.
    pub(crate) fn open(path: &Path, batch_rows: usize) -> Result<ParquetSource, BulkError> {
        let file = File::open(path).map_err(|source| BulkError::Io { path: path.to_owned(), source })?;
        let parquet_error = |source| BulkError::Parquet { path: path.to_owned(), source };
        let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(parquet_error)?;
        let schema = builder.schema().clone();
        let names = schema.fields().iter().map(|f| f.name().as_str());
        let full = ColumnMap::from_names(names, true).map_err(|problem| header_error(path, problem))?;
        let mut roots = Vec::new();
        for col in Col::ALL {
            let Some(position) = full.get(col) else { continue };
            check_type(col, schema.field(position).data_type()).map_err(|problem| BulkError::ColumnType {
                path: path.to_owned(),
                column: col.name(),
                problem,
            })?;
            roots.push(position);
        }
        roots.sort_unstable();
        // Top-level Arrow fields are the Parquet schema's roots, in the same order.
        let mask = ProjectionMask::roots(builder.parquet_schema(), roots.iter().copied());
        let rows_total = u64::try_from(builder.metadata().file_metadata().num_rows()).unwrap_or(0);
        let reader = builder.with_batch_size(batch_rows).with_projection(mask).build().map_err(parquet_error)?;
        // Projected batches keep the kept columns in file order.
        let mut map = [None; COLUMNS];
        for col in Col::ALL {
            if let Some(position) = full.get(col) {
                map[col as usize] = roots.iter().position(|&r| r == position);
            }
        }
        Ok(ParquetSource { path: path.to_owned(), reader, map: ColumnMap(map), rows_total })
    }

    pub(crate) fn rows_total(&self) -> u64 {
        self.rows_total
    }

    /// The next batch, `None` at the end. A panic inside the Parquet decoder (a corrupt file)
    /// is reported as an error for this file, not a crash.
    pub(crate) fn next_batch(&mut self) -> Result<Option<(RecordBatch, ColumnMap)>, BulkError> {
        let next = catch_unwind(AssertUnwindSafe(|| self.reader.next()));
        match next {
            Ok(None) => Ok(None),
            Ok(Some(Ok(batch))) => Ok(Some((batch, self.map))),
            Ok(Some(Err(source))) => Err(BulkError::Arrow { path: self.path.clone(), source }),
            Err(_) => Err(BulkError::Corrupt { path: self.path.clone() }),
        }
    }
}

pub(crate) fn header_error(path: &Path, problem: HeaderProblem) -> BulkError {
    match problem {
        HeaderProblem::Missing(column) => BulkError::MissingColumn { path: path.to_owned(), column },
        HeaderProblem::Duplicate(column) => BulkError::DuplicateColumn { path: path.to_owned(), column },
    }
}

/// Whether a column of `data_type` can hold `col`'s kind; `Err` says why not.
fn check_type(col: Col, data_type: &DataType) -> Result<(), String> {
    let dt = match data_type {
        DataType::Dictionary(_, value) => value.as_ref(),
        other => other,
    };
    let kind = col.kind();
    let stringy = matches!(dt, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View);
    let integer = dt.is_integer();
    let decimal = matches!(dt, DataType::Decimal32(..) | DataType::Decimal64(..) | DataType::Decimal128(..) | DataType::Decimal256(..));
    let float = dt.is_floating();
    let ok = matches!(dt, DataType::Null)
        || match kind {
            Kind::Text => stringy || integer,
            Kind::Whole => stringy || integer || decimal || float,
            Kind::Money => stringy || integer || decimal,
            Kind::Bool => matches!(dt, DataType::Boolean) || stringy || integer,
            Kind::Date => matches!(dt, DataType::Date32 | DataType::Date64 | DataType::Timestamp(..)) || stringy,
        };
    if ok {
        Ok(())
    } else if kind == Kind::Money && float {
        Err(format!("is floating point ({dt}); money must be DECIMAL or a decimal string, never float"))
    } else {
        Err(format!("has type {dt}; expected {}", kind.describe()))
    }
}

/// One column of one batch, ready to give cells by row.
pub(crate) enum ColumnView<'a> {
    Absent,
    Utf8(&'a arrow_array::StringArray),
    LargeUtf8(&'a arrow_array::LargeStringArray),
    Utf8View(&'a arrow_array::StringViewArray),
    Dict { array: &'a dyn Array, keys: Vec<usize>, values: Box<ColumnView<'a>> },
    Cells(Vec<Cell<'static>>),
}

impl<'a> ColumnView<'a> {
    /// A view of `array` as `kind` (its type already passed [`check_type`]).
    pub(crate) fn of(array: &'a ArrayRef, kind: Kind) -> ColumnView<'a> {
        match array.data_type() {
            DataType::Null => ColumnView::Absent,
            DataType::Utf8 => ColumnView::Utf8(array.as_string::<i32>()),
            DataType::LargeUtf8 => ColumnView::LargeUtf8(array.as_string::<i64>()),
            DataType::Utf8View => ColumnView::Utf8View(array.as_string_view()),
            DataType::Dictionary(..) => match array.as_any_dictionary_opt() {
                // An all-null dictionary may have no values at all.
                Some(dict) if !dict.values().is_empty() => {
                    ColumnView::Dict { array: array.as_ref(), keys: dict.normalized_keys(), values: Box::new(ColumnView::of(dict.values(), kind)) }
                }
                _ => ColumnView::Absent,
            },
            _ => ColumnView::Cells(cells(array, kind)),
        }
    }

    #[inline]
    pub(crate) fn get(&self, row: usize) -> Cell<'a> {
        match self {
            ColumnView::Absent => Cell::Null,
            ColumnView::Utf8(a) => {
                if a.is_null(row) {
                    Cell::Null
                } else {
                    Cell::Text(a.value(row))
                }
            }
            ColumnView::LargeUtf8(a) => {
                if a.is_null(row) {
                    Cell::Null
                } else {
                    Cell::Text(a.value(row))
                }
            }
            ColumnView::Utf8View(a) => {
                if a.is_null(row) {
                    Cell::Null
                } else {
                    Cell::Text(a.value(row))
                }
            }
            ColumnView::Dict { array, keys, values } => {
                if array.is_null(row) {
                    Cell::Null
                } else {
                    values.get(keys[row])
                }
            }
            ColumnView::Cells(cells) => cells[row],
        }
    }
}

/// Reads a non-string column into cells of `kind`.
fn cells(array: &ArrayRef, kind: Kind) -> Vec<Cell<'static>> {
    let dt = array.data_type();
    if dt.is_integer() {
        return integers(array).into_iter().map(|v| v.map_or(Cell::Null, |i| integer_cell(i, kind))).collect();
    }
    match dt {
        DataType::Boolean => array.as_boolean().iter().map(|v| v.map_or(Cell::Null, Cell::Bool)).collect(),
        DataType::Float16 => array.as_primitive::<Float16Type>().iter().map(|v| float_cell(v.map(f64::from))).collect(),
        DataType::Float32 => array.as_primitive::<Float32Type>().iter().map(|v| float_cell(v.map(f64::from))).collect(),
        DataType::Float64 => array.as_primitive::<Float64Type>().iter().map(float_cell).collect(),
        DataType::Decimal32(_, s) => decimals(array.as_primitive::<Decimal32Type>().iter().map(|v| v.map(i128::from)), *s),
        DataType::Decimal64(_, s) => decimals(array.as_primitive::<Decimal64Type>().iter().map(|v| v.map(i128::from)), *s),
        DataType::Decimal128(_, s) => decimals(array.as_primitive::<Decimal128Type>().iter(), *s),
        DataType::Decimal256(_, s) => {
            let scale = *s;
            array
                .as_primitive::<Decimal256Type>()
                .iter()
                .map(|v| match v {
                    None => Cell::Null,
                    Some(v) => v.to_i128().map_or(Cell::Bad(OUT_OF_DECIMAL_RANGE), |m| decimal_cell(m, scale)),
                })
                .collect()
        }
        DataType::Date32 => array.as_primitive::<Date32Type>().iter().map(|v| v.map_or(Cell::Null, |d| date_cell(i64::from(d)))).collect(),
        DataType::Date64 => array.as_primitive::<Date64Type>().iter().map(|v| v.map_or(Cell::Null, |ms| date_cell(ms.div_euclid(MS_PER_DAY)))).collect(),
        DataType::Timestamp(unit, _) => {
            let per_day: i64 = match unit {
                TimeUnit::Second => 86_400,
                TimeUnit::Millisecond => MS_PER_DAY,
                TimeUnit::Microsecond => MS_PER_DAY * 1_000,
                TimeUnit::Nanosecond => MS_PER_DAY * 1_000_000,
            };
            let values: Vec<Option<i64>> = match unit {
                TimeUnit::Second => array.as_primitive::<TimestampSecondType>().iter().collect(),
                TimeUnit::Millisecond => array.as_primitive::<TimestampMillisecondType>().iter().collect(),
                TimeUnit::Microsecond => array.as_primitive::<TimestampMicrosecondType>().iter().collect(),
                TimeUnit::Nanosecond => array.as_primitive::<TimestampNanosecondType>().iter().collect(),
            };
            values.into_iter().map(|v| v.map_or(Cell::Null, |t| date_cell(t.div_euclid(per_day)))).collect()
        }
        // check_type lets nothing else through.
        _ => vec![Cell::Bad("has a type this column does not accept"); array.len()],
    }
}

const MS_PER_DAY: i64 = 86_400_000;
const OUT_OF_DECIMAL_RANGE: &str = "is out of decimal range (at most 28 significant digits)";

/// An integer as `kind` needs it: money as an exact decimal, 0 and 1 as booleans.
fn integer_cell(i: i128, kind: Kind) -> Cell<'static> {
    match kind {
        Kind::Money => Decimal::try_from_i128_with_scale(i, 0).map_or(Cell::Bad(OUT_OF_DECIMAL_RANGE), Cell::Decimal),
        Kind::Bool if i == 0 || i == 1 => Cell::Bool(i == 1),
        _ => Cell::Int(i),
    }
}

/// Floats reach only whole-number columns: a whole value is an integer, NaN is null.
fn float_cell(v: Option<f64>) -> Cell<'static> {
    match v {
        None => Cell::Null,
        Some(f) if f.is_nan() => Cell::Null,
        Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Cell::Int(f as i128),
        Some(f) => Cell::Float(f),
    }
}

fn decimals(values: impl Iterator<Item = Option<i128>>, scale: i8) -> Vec<Cell<'static>> {
    values.map(|v| v.map_or(Cell::Null, |m| decimal_cell(m, scale))).collect()
}

fn decimal_cell(mantissa: i128, scale: i8) -> Cell<'static> {
    let decimal = if scale >= 0 {
        Decimal::try_from_i128_with_scale(mantissa, scale.unsigned_abs().into()).ok()
    } else {
        10i128
            .checked_pow(u32::from(scale.unsigned_abs()))
            .and_then(|factor| mantissa.checked_mul(factor))
            .and_then(|m| Decimal::try_from_i128_with_scale(m, 0).ok())
    };
    decimal.map_or(Cell::Bad(OUT_OF_DECIMAL_RANGE), Cell::Decimal)
}

fn date_cell(days: i64) -> Cell<'static> {
    match i32::try_from(days).ok().map(Date::from_days_since_epoch) {
        Some(date) if (1900..=2200).contains(&date.ymd().0) => Cell::Date(date),
        _ => Cell::Bad("is outside the years 1900 to 2200"),
    }
}

/// The values of an integer array of any width.
fn integers(array: &ArrayRef) -> Vec<Option<i128>> {
    macro_rules! ints {
        ($t:ty) => {
            array.as_primitive::<$t>().iter().map(|v| v.map(i128::from)).collect()
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
