//! Input files read as batches of rows, and a batch seen as rows of cells.

use crate::cell::{Cell, RowCells, from_csv};
use crate::columns::{COLUMNS, Col, ColumnMap};
use crate::parquet_in::{ColumnView, ParquetSource, header_error};
use crate::{BulkError, Format};
use arrow_array::RecordBatch;
use csv::ByteRecord;
use std::fs::File;
use std::path::{Path, PathBuf};

/// An open input file.
pub(crate) enum Source {
    Parquet(ParquetSource),
    Csv(CsvSource),
}

/// Up to `batch_rows` input rows.
pub(crate) enum InBatch {
    Parquet { batch: RecordBatch, map: ColumnMap },
    Csv { records: Vec<ByteRecord>, map: ColumnMap },
}

impl Source {
    pub(crate) fn open(path: &Path, format: Format, batch_rows: usize) -> Result<Source, BulkError> {
        match format {
            Format::Parquet => Ok(Source::Parquet(ParquetSource::open(path, batch_rows)?)),
            Format::Csv => Ok(Source::Csv(CsvSource::open(path, batch_rows)?)),
        }
    }

    /// Known from a Parquet footer; a CSV file's is known only at its end.
    pub(crate) fn rows_total(&self) -> Option<u64> {
        match self {
            Source::Parquet(p) => Some(p.rows_total()),
            Source::Csv(_) => None,
        }
    }

    pub(crate) fn next_batch(&mut self) -> Result<Option<InBatch>, BulkError> {
        match self {
            Source::Parquet(p) => Ok(p.next_batch()?.map(|(batch, map)| InBatch::Parquet { batch, map })),
            Source::Csv(c) => Ok(c.next_batch()?.map(|records| InBatch::Csv { records, map: c.map })),
        }
    }
}

pub(crate) struct CsvSource {
    path: PathBuf,
    reader: csv::Reader<File>,
    map: ColumnMap,
    batch_rows: usize,
}

impl CsvSource {
    fn open(path: &Path, batch_rows: usize) -> Result<CsvSource, BulkError> {
        let csv_error = |source| BulkError::Csv { path: path.to_owned(), source };
        // Flexible: a short row reads its missing cells as empty (and is then flagged by what
        // it lacks) rather than failing the job.
        let mut reader = csv::ReaderBuilder::new().flexible(true).buffer_capacity(1 << 16).from_path(path).map_err(csv_error)?;
        let headers = reader.byte_headers().map_err(csv_error)?.clone();
        let names: Vec<String> = headers.iter().map(|h| String::from_utf8_lossy(h).into_owned()).collect();
        let map = ColumnMap::from_names(names.iter().map(String::as_str), true).map_err(|problem| header_error(path, problem))?;
        Ok(CsvSource { path: path.to_owned(), reader, map, batch_rows })
    }

    fn next_batch(&mut self) -> Result<Option<Vec<ByteRecord>>, BulkError> {
        let mut records = Vec::with_capacity(self.batch_rows.min(1 << 16));
        while records.len() < self.batch_rows {
            let mut record = ByteRecord::new();
            match self.reader.read_byte_record(&mut record) {
                Ok(true) => records.push(record),
                Ok(false) => break,
                Err(source) => return Err(BulkError::Csv { path: self.path.clone(), source }),
            }
        }
        Ok((!records.is_empty()).then_some(records))
    }
}

impl InBatch {
    pub(crate) fn len(&self) -> usize {
        match self {
            InBatch::Parquet { batch, .. } => batch.num_rows(),
            InBatch::Csv { records, .. } => records.len(),
        }
    }

    /// The batch as rows of cells; `only` limits the view to one column (the others read as
    /// null), for the writer, which needs only the ids.
    pub(crate) fn view(&self, only: Option<Col>) -> BatchView<'_> {
        match self {
            InBatch::Parquet { batch, map } => {
                let views = Col::ALL.map(|col| match map.get(col) {
                    Some(position) if only.is_none_or(|o| o == col) => ColumnView::of(batch.column(position), col.kind()),
                    _ => ColumnView::Absent,
                });
                BatchView::Parquet(views)
            }
            InBatch::Csv { records, map } => {
                let mut map = *map;
                if let Some(only) = only {
                    for col in Col::ALL.into_iter().filter(|c| *c != only) {
                        map.0[col as usize] = None;
                    }
                }
                BatchView::Csv { records, map }
            }
        }
    }
}

// One per batch: the size of the variants does not matter.
#[allow(clippy::large_enum_variant)]
pub(crate) enum BatchView<'a> {
    Parquet([ColumnView<'a>; COLUMNS]),
    Csv { records: &'a [ByteRecord], map: ColumnMap },
}

impl<'a> BatchView<'a> {
    #[inline]
    pub(crate) fn cell(&self, row: usize, col: Col) -> Cell<'a> {
        match self {
            BatchView::Parquet(views) => views[col as usize].get(row),
            BatchView::Csv { records, map } => match map.get(col).and_then(|p| records[row].get(p)) {
                Some(field) => from_csv(field),
                None => Cell::Null,
            },
        }
    }

    pub(crate) fn cells(&self, row: usize) -> RowCells<'a> {
        Col::ALL.map(|col| self.cell(row, col))
    }
}
