//! Reading a Parquet file of parcels in batches, leniently typed like an analyst's file.
//!
//! Each known column's Arrow type is checked once against its [`Kind`] when the file is
//! opened (a float money column, say, refuses the file before a row is read). Per batch, each
//! column becomes a [`ColumnView`]: strings are read in place, everything else is read once into
//! cells of the kind the column needs (an integer `value_amount` becomes a decimal, a
//! whole float `weight_g` an integer, a TIMESTAMP `ship_date` its UTC day). The Arrow
//! conversions themselves are crossdock-tables' (`columns`: [`Texts`] and [`scalars`]), shared
//! with the rate book's reader.

use crate::BulkError;
use crate::cell::Cell;
use crate::columns::{COLUMNS, Col, ColumnMap, HeaderProblem};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::DataType;
use crossdock_engine::Decimal;
use crossdock_tables::columns::{FileKind, Kind, OUT_OF_DECIMAL_RANGE, Scalar, Texts, scalars};
use crossdock_tables::guard::decoding;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use std::fs::File;
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
        let corrupt = |_| BulkError::Corrupt { path: path.to_owned() };
        let builder = decoding(|| ParquetRecordBatchReaderBuilder::try_new(file)).map_err(corrupt)?.map_err(parquet_error)?;
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
        let rows_total = u64::try_from(builder.metadata().file_metadata().num_rows()).unwrap_or(0);
        let reader = decoding(|| {
            // Top-level Arrow fields are the Parquet schema's roots, in the same order.
            let mask = ProjectionMask::roots(builder.parquet_schema(), roots.iter().copied());
            builder.with_batch_size(batch_rows).with_projection(mask).build()
        })
        .map_err(corrupt)?
        .map_err(parquet_error)?;
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
    /// is reported as an error for this file, silently (crossdock-tables' guard), not a crash.
    pub(crate) fn next_batch(&mut self) -> Result<Option<(RecordBatch, ColumnMap)>, BulkError> {
        match decoding(|| self.reader.next()) {
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
    col.kind().accepts(data_type, FileKind::Parcels)
}

/// One column of one batch, ready to give cells by row.
pub(crate) enum ColumnView<'a> {
    Absent,
    /// Strings, read in place.
    Text(Texts<'a>),
    /// Every other type, read once into cells of the column's kind.
    Cells(Vec<Cell<'static>>),
}

impl<'a> ColumnView<'a> {
    /// A view of `array` as `kind` (its type already passed [`check_type`]).
    pub(crate) fn of(array: &'a ArrayRef, kind: Kind) -> ColumnView<'a> {
        if let DataType::Null = array.data_type() {
            return ColumnView::Absent;
        }
        match Texts::of(array) {
            Some(texts) => ColumnView::Text(texts),
            None => ColumnView::Cells(cells(array, kind)),
        }
    }

    #[inline]
    pub(crate) fn get(&self, row: usize) -> Cell<'a> {
        match self {
            ColumnView::Absent => Cell::Null,
            ColumnView::Text(texts) => texts.get(row).map_or(Cell::Null, Cell::Text),
            ColumnView::Cells(cells) => cells[row],
        }
    }
}

/// Reads a non-string column into cells of `kind`: an integer money value becomes a
/// decimal, an integer 0 or 1 in a boolean column a boolean.
fn cells(array: &ArrayRef, kind: Kind) -> Vec<Cell<'static>> {
    scalars(array)
        .into_iter()
        .map(|cell| match cell {
            Ok(None) => Cell::Null,
            Ok(Some(Scalar::Int(i))) => integer_cell(i, kind),
            Ok(Some(Scalar::Float(f))) => Cell::Float(f),
            Ok(Some(Scalar::Decimal(d))) => Cell::Decimal(d),
            Ok(Some(Scalar::Bool(b))) => Cell::Bool(b),
            Ok(Some(Scalar::Date(d))) => Cell::Date(d),
            Err(why) => Cell::Bad(why),
        })
        .collect()
}

/// An integer as `kind` needs it: money as an exact decimal, 0 and 1 as booleans.
fn integer_cell(i: i128, kind: Kind) -> Cell<'static> {
    match kind {
        Kind::Money => Decimal::try_from_i128_with_scale(i, 0).map_or(Cell::Bad(OUT_OF_DECIMAL_RANGE), Cell::Decimal),
        Kind::Bool if i == 0 || i == 1 => Cell::Bool(i == 1),
        _ => Cell::Int(i),
    }
}
