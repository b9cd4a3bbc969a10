//! Output files: written to a temporary file beside the output, renamed into place only when
//! the whole job succeeded, so a failed job never leaves a half-written output.

use crate::cell::Cell;
use crate::columns::{Col, OUTPUT_COLUMNS};
use crate::out::{csv_header_line, write_csv_row};
use crate::route::Outcome;
use crate::source::BatchView;
use crate::{BulkError, Format};
use arrow_array::builder::{Int32Builder, Int64Builder, StringBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub(crate) struct Sink {
    path: PathBuf,
    temp: TempFile,
    /// A second handle on the temporary file, to sync it once the writer is done.
    sync: File,
    writer: Writer,
}

enum Writer {
    // Boxed: the Parquet writer is large beside a buffered file.
    Parquet { writer: Box<ArrowWriter<File>>, schema: SchemaRef },
    Csv { writer: BufWriter<File>, line: String },
}

/// Removes the temporary file unless the job got as far as renaming it.
struct TempFile {
    path: PathBuf,
    armed: bool,
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if self.armed {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

impl Sink {
    pub(crate) fn create(path: &Path, format: Format, batch_rows: usize) -> Result<Sink, BulkError> {
        let temp = TempFile { path: temp_path(path), armed: true };
        let io = |source| BulkError::Io { path: path.to_owned(), source };
        let file = File::create(&temp.path).map_err(io)?;
        let sync = file.try_clone().map_err(io)?;
        let writer = match format {
            Format::Parquet => {
                let schema = output_schema();
                // One row group per batch keeps the writer's memory bounded by the batch size.
                let props = WriterProperties::builder().set_compression(Compression::SNAPPY).set_max_row_group_row_count(Some(batch_rows.max(1))).build();
                let writer = ArrowWriter::try_new(file, schema.clone(), Some(props)).map_err(|source| BulkError::Parquet { path: path.to_owned(), source })?;
                Writer::Parquet { writer: Box::new(writer), schema }
            }
            Format::Csv => {
                let mut writer = BufWriter::with_capacity(1 << 16, file);
                writer.write_all(csv_header_line().as_bytes()).map_err(io)?;
                Writer::Csv { writer, line: String::with_capacity(256) }
            }
        };
        Ok(Sink { path: path.to_owned(), temp, sync, writer })
    }

    /// Appends one batch's output rows; `ids` is the input batch, `outcomes` its rows in order.
    pub(crate) fn write(&mut self, ids: &BatchView<'_>, outcomes: &[Outcome<'_>]) -> Result<(), BulkError> {
        let path = &self.path;
        match &mut self.writer {
            Writer::Parquet { writer, schema } => {
                let batch = output_batch(schema, ids, outcomes).map_err(|source| BulkError::Arrow { path: path.clone(), source })?;
                writer.write(&batch).map_err(|source| BulkError::Parquet { path: path.clone(), source })
            }
            Writer::Csv { writer, line } => {
                let mut id = String::new();
                for (row, outcome) in outcomes.iter().enumerate() {
                    line.clear();
                    write_csv_row(line, id_text(ids.cell(row, Col::Id), &mut id), outcome);
                    writer.write_all(line.as_bytes()).map_err(|source| BulkError::Io { path: path.clone(), source })?;
                }
                Ok(())
            }
        }
    }

    /// Finishes the file, syncs it and renames it into place.
    pub(crate) fn commit(mut self) -> Result<(), BulkError> {
        let path = self.path.clone();
        let io = |source| BulkError::Io { path: path.clone(), source };
        match self.writer {
            Writer::Parquet { writer, .. } => {
                writer.close().map_err(|source| BulkError::Parquet { path: path.clone(), source })?;
            }
            Writer::Csv { mut writer, .. } => writer.flush().map_err(io)?,
        }
        self.sync.sync_all().map_err(io)?;
        std::fs::rename(&self.temp.path, &path).map_err(io)?;
        self.temp.armed = false;
        Ok(())
    }
}

/// `.NAME.PID.tmp` beside `path`, so the final rename stays on one file system.
fn temp_path(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.{}.tmp", std::process::id()))
}

/// The id as written out: text as it is, a number in decimal, anything else empty.
pub(crate) fn id_text<'a>(cell: Cell<'a>, buffer: &'a mut String) -> &'a str {
    match cell {
        Cell::Text(s) => s,
        Cell::Int(i) => {
            *buffer = i.to_string();
            buffer
        }
        _ => "",
    }
}

pub(crate) fn output_schema() -> SchemaRef {
    let fields: Vec<Field> = OUTPUT_COLUMNS
        .iter()
        .map(|&name| match name {
            "id" | "status" => Field::new(name, DataType::Utf8, false),
            "chargeable_weight_g" => Field::new(name, DataType::Int64, true),
            "transit_days_min" | "transit_days_max" => Field::new(name, DataType::Int32, true),
            _ => Field::new(name, DataType::Utf8, true),
        })
        .collect();
    Arc::new(Schema::new(fields))
}

fn output_batch(schema: &SchemaRef, ids: &BatchView<'_>, outcomes: &[Outcome<'_>]) -> Result<RecordBatch, arrow_schema::ArrowError> {
    let n = outcomes.len();
    let text = |bytes_per_row: usize| StringBuilder::with_capacity(n, n * bytes_per_row);
    let (mut id, mut status, mut service, mut carrier, mut currency) = (text(12), text(8), text(12), text(12), text(3));
    let (mut sell, mut cost, mut margin, mut reasons, mut problems) = (text(6), text(6), text(6), text(0), text(0));
    let mut weight = Int64Builder::with_capacity(n);
    let (mut days_min, mut days_max) = (Int32Builder::with_capacity(n), Int32Builder::with_capacity(n));
    let (mut id_buffer, mut amount) = (String::new(), String::with_capacity(24));
    for (row, outcome) in outcomes.iter().enumerate() {
        id.append_value(id_text(ids.cell(row, Col::Id), &mut id_buffer));
        status.append_value(outcome.status().code());
        match outcome {
            Outcome::Routed(r) => {
                service.append_value(r.service);
                carrier.append_value(r.carrier);
                currency.append_value(r.currency.code());
                for (builder, minor) in [(&mut sell, r.sell), (&mut cost, r.cost), (&mut margin, r.margin)] {
                    amount.clear();
                    r.currency.write_minor(minor, &mut amount);
                    builder.append_value(&amount);
                }
                weight.append_value(i64::try_from(r.chargeable_weight_g).unwrap_or(i64::MAX));
                days_min.append_value(i32::try_from(r.transit_days_min).unwrap_or(i32::MAX));
                days_max.append_value(i32::try_from(r.transit_days_max).unwrap_or(i32::MAX));
                reasons.append_null();
                problems.append_null();
            }
            Outcome::Unroutable { currency: c, reasons: why } => {
                service.append_null();
                carrier.append_null();
                currency.append_value(c.code());
                for builder in [&mut sell, &mut cost, &mut margin] {
                    builder.append_null();
                }
                weight.append_null();
                days_min.append_null();
                days_max.append_null();
                reasons.append_value(why);
                problems.append_null();
            }
            Outcome::Invalid { problems: what } => {
                for builder in [&mut service, &mut carrier, &mut currency, &mut sell, &mut cost, &mut margin, &mut reasons] {
                    builder.append_null();
                }
                weight.append_null();
                days_min.append_null();
                days_max.append_null();
                problems.append_value(what);
            }
        }
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(id.finish()),
        Arc::new(status.finish()),
        Arc::new(service.finish()),
        Arc::new(carrier.finish()),
        Arc::new(currency.finish()),
        Arc::new(sell.finish()),
        Arc::new(cost.finish()),
        Arc::new(margin.finish()),
        Arc::new(weight.finish()),
        Arc::new(days_min.finish()),
        Arc::new(days_max.finish()),
        Arc::new(reasons.finish()),
        Arc::new(problems.finish()),
    ];
    RecordBatch::try_new(schema.clone(), columns)
}
