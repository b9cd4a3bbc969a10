//! # crossdock-bulk: pre-routing files of parcels
//!
//! A merchant or an analyst has a file of parcels (Parquet or CSV, one row per parcel, the
//! quote request flattened as quote-api.md "Bulk files" says) and wants, for each, the
//! service that should carry it, what it costs and sells for, or why nothing can. This crate
//! answers with a file of the same rows in the same order.
//!
//! - [`route_file`] is the whole job for the CLI (`crossdock route`): one call, input and
//!   output formats chosen by extension, independently.
//! - [`route_ndjson_line`] and [`route_csv_record`] route one row for the HTTP bulk endpoint,
//!   which streams; [`OutRow`] renders as a CSV line or a JSON line.
//! - [`diff_file`] is the what-if before activating a book (`crossdock book diff`, and
//!   `GET /v1/rate-books/{id}/diff`): the same file re-priced with two books, the changes
//!   grouped by service and destination ([`diff`]).
//!
//! How a job runs: a reader thread decodes the input a batch at a time
//! ([`RouteOptions::batch_rows`] rows), the batch is priced in parallel on a rayon pool with
//! one `Scratch` and `Quote` per worker, and a writer thread encodes the batch's output rows
//! in input order while the next batch is priced. At most a few batches are in flight
//! (bounded channels), so memory is bounded by the batch size, not the file size. The output
//! is written to a temporary file beside it and renamed into place at the end.
//!
//! Invariants:
//! - Exactly one output row per input row, in input order.
//! - A bad row (a missing weight, a lower-case country, an unknown currency…) becomes an
//!   `invalid` row naming every problem, with crossdock-api's rules and messages; it never
//!   fails the job. `Err` means the *job* failed: an unreadable file, a missing required
//!   column, a column whose type cannot hold its values, a full disk.
//! - A failed job leaves no output file.
//! - Pricing is the engine's: a routed row is the first option of `Book::quote` on the same
//!   request. The engine is asked for explanations only for parcels nothing can carry.
//!
//! What it is not: it holds no pricing or ranking logic and knows nothing of HTTP.
//!
//! Two binaries come with it: `make_parcels` writes bulk input files of realistic parcels
//! (for tests and benchmarks, optionally with invalid rows), and `bulk_route` is a thin shell
//! over [`route_file`] for benchmarks until `crossdock route` ships
//! (`benches/peers/run.sh` compares it with the same job in DuckDB).

mod cell;
mod columns;
pub mod diff;
mod out;
mod parquet_in;
mod parse;
mod progress;
mod route;
mod sink;
mod source;

pub use diff::{DiffReport, diff_file};
pub use out::{OutRow, csv_header_line};
pub use progress::terminal_progress;
pub use route::{Outcome, Routed, Status};

use crate::cell::{Cell, RowCells, from_json};
use crate::columns::{COLUMNS, Col, ColumnMap, HeaderProblem};
use crate::route::route_cells;
use crate::sink::{Sink, id_text};
use crate::source::{InBatch, Source};
use crossdock_engine::{Book, Date, Quote, Scratch, Strategy};
use rayon::prelude::*;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::mpsc::sync_channel;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// The largest accepted [`RouteOptions::batch_rows`]: a few batches are in memory at once.
pub const BATCH_ROWS_MAX: usize = 1 << 20;

/// How to run a bulk job.
#[derive(Clone, Debug)]
pub struct RouteOptions {
    /// How options are ranked; the first is written. `cheapest` by default.
    pub strategy: Strategy,
    /// The ship date of rows without one.
    pub today: Date,
    /// Pricing threads; `None` for one per core.
    pub threads: Option<usize>,
    /// Rows read, priced and written at a time, 1 to [`BATCH_ROWS_MAX`]; 65 536 by default.
    pub batch_rows: usize,
}

impl RouteOptions {
    /// The defaults, with rows without a ship date shipping on `today`.
    pub fn new(today: Date) -> RouteOptions {
        RouteOptions { strategy: Strategy::Cheapest, today, threads: None, batch_rows: 1 << 16 }
    }
}

impl Default for RouteOptions {
    /// The defaults with today's date in UTC, read from the system clock.
    fn default() -> RouteOptions {
        let days = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() / 86_400).unwrap_or(0);
        RouteOptions::new(Date::from_days_since_epoch(i32::try_from(days).unwrap_or(0)))
    }
}

/// How far a job is. The last call of a job has `rows_total == Some(rows_done)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    pub rows_done: u64,
    /// Known up front for Parquet (from the footer), not for CSV.
    pub rows_total: Option<u64>,
}

/// What a finished job did.
#[derive(Clone, Debug, PartialEq)]
pub struct RouteSummary {
    pub rows: u64,
    pub routed: u64,
    pub unroutable: u64,
    pub invalid: u64,
    /// Wall-clock time of the whole job, opening to rename.
    pub seconds: f64,
}

/// A file format, from a path's extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Parquet,
    Csv,
}

impl Format {
    /// `.parquet` or `.csv`, in any case.
    pub fn of(path: &Path) -> Result<Format, BulkError> {
        let ext = path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase());
        match ext.as_deref() {
            Some("parquet") => Ok(Format::Parquet),
            Some("csv") => Ok(Format::Csv),
            _ => Err(BulkError::UnknownFormat { path: path.to_owned() }),
        }
    }
}

/// Why a job failed. Bad rows are not errors: they are `invalid` output rows.
#[derive(Debug)]
pub enum BulkError {
    UnknownFormat {
        path: PathBuf,
    },
    MissingColumn {
        path: PathBuf,
        column: &'static str,
    },
    DuplicateColumn {
        path: PathBuf,
        column: &'static str,
    },
    ColumnType {
        path: PathBuf,
        column: &'static str,
        problem: String,
    },
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    Parquet {
        path: PathBuf,
        source: parquet::errors::ParquetError,
    },
    Arrow {
        path: PathBuf,
        source: arrow_schema::ArrowError,
    },
    Csv {
        path: PathBuf,
        source: csv::Error,
    },
    /// The Parquet decoder panicked: the file is corrupt.
    Corrupt {
        path: PathBuf,
    },
    Options(String),
    /// A pricing or writing thread could not be started or stopped unexpectedly.
    Internal(String),
}

impl fmt::Display for BulkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BulkError::UnknownFormat { path } => write!(f, "{}: unknown file format; the name must end in .parquet or .csv", path.display()),
            BulkError::MissingColumn { path, column } => {
                write!(f, "{}: has no column {column}; a bulk file needs the columns id, origin_country, dest_country and weight_g", path.display())
            }
            BulkError::DuplicateColumn { path, column } => write!(f, "{}: has the column {column} more than once", path.display()),
            BulkError::ColumnType { path, column, problem } => write!(f, "{}: column {column} {problem}", path.display()),
            BulkError::Io { path, source } => write!(f, "{}: {source}", path.display()),
            BulkError::Parquet { path, source } => write!(f, "{}: {source}", path.display()),
            BulkError::Arrow { path, source } => write!(f, "{}: {source}", path.display()),
            BulkError::Csv { path, source } => write!(f, "{}: {source}", path.display()),
            BulkError::Corrupt { path } => write!(f, "{}: the Parquet file is corrupt (its decoder failed)", path.display()),
            BulkError::Options(message) | BulkError::Internal(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for BulkError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BulkError::Io { source, .. } => Some(source),
            BulkError::Parquet { source, .. } => Some(source),
            BulkError::Arrow { source, .. } => Some(source),
            BulkError::Csv { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Routes every parcel of `input` into `output` (see the crate documentation), calling
/// `progress` after each batch.
pub fn route_file(book: &Book, input: &Path, output: &Path, opts: &RouteOptions, progress: &mut dyn FnMut(Progress)) -> Result<RouteSummary, BulkError> {
    let started = Instant::now();
    if !(1..=BATCH_ROWS_MAX).contains(&opts.batch_rows) {
        return Err(BulkError::Options(format!("batch_rows must be 1 to {BATCH_ROWS_MAX}, not {}", opts.batch_rows)));
    }
    let (in_format, out_format) = (Format::of(input)?, Format::of(output)?);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads.unwrap_or(0))
        .thread_name(|i| format!("crossdock-route-{i}"))
        .build()
        .map_err(|e| BulkError::Internal(format!("starting the pricing threads: {e}")))?;
    let source = Source::open(input, in_format, opts.batch_rows)?;
    let rows_total = source.rows_total();
    let sink = Sink::create(output, out_format, opts.batch_rows)?;
    let mut summary = RouteSummary { rows: 0, routed: 0, unroutable: 0, invalid: 0, seconds: 0.0 };
    let sink = run(book, source, sink, opts, &pool, |outcomes| {
        summary.rows += outcomes.len() as u64;
        for outcome in outcomes {
            match outcome.status() {
                Status::Routed => summary.routed += 1,
                Status::Unroutable => summary.unroutable += 1,
                Status::Invalid => summary.invalid += 1,
            }
        }
        progress(Progress { rows_done: summary.rows, rows_total });
    })?;
    sink.commit()?;
    progress(Progress { rows_done: summary.rows, rows_total: Some(summary.rows) });
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}

/// The pipeline: reader thread → pricing on `pool` → writer thread, each hand-over through a
/// channel of one batch, so at most about five batches exist at once. Returns the sink with
/// every row written.
fn run<'b>(
    book: &'b Book,
    mut source: Source,
    mut sink: Sink,
    opts: &RouteOptions,
    pool: &rayon::ThreadPool,
    mut priced: impl FnMut(&[Outcome<'b>]),
) -> Result<Sink, BulkError> {
    std::thread::scope(|scope| {
        let (batch_tx, batch_rx) = sync_channel::<Result<InBatch, BulkError>>(1);
        let (out_tx, out_rx) = sync_channel::<(InBatch, Vec<Outcome<'b>>)>(1);
        let reader = scope.spawn(move || {
            loop {
                let next = source.next_batch().transpose();
                let Some(next) = next else { break };
                let failed = next.is_err();
                // A closed channel means the job stopped; the reader just stops too.
                if batch_tx.send(next).is_err() || failed {
                    break;
                }
            }
        });
        let writer = scope.spawn(move || -> Result<Sink, BulkError> {
            for (batch, outcomes) in out_rx {
                sink.write(&batch.view(Some(Col::Id)), &outcomes)?;
            }
            Ok(sink)
        });
        let mut failure = None;
        for next in batch_rx {
            let batch = match next {
                Ok(batch) => batch,
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            };
            let outcomes = pool.install(|| price_batch(book, &batch, opts));
            priced(&outcomes);
            // The writer stopped: its own error is reported below.
            if out_tx.send((batch, outcomes)).is_err() {
                break;
            }
        }
        drop(out_tx);
        let written = writer.join().map_err(|_| BulkError::Internal("the writing thread panicked".into()))?;
        // The reader ends once its channel is dropped or the file ends.
        reader.join().map_err(|_| BulkError::Internal("the reading thread panicked".into()))?;
        match failure {
            Some(e) => Err(e),
            None => written,
        }
    })
}

/// Prices one batch in parallel; outcomes in row order.
fn price_batch<'b>(book: &'b Book, batch: &InBatch, opts: &RouteOptions) -> Vec<Outcome<'b>> {
    let view = batch.view(None);
    let mut outcomes = Vec::with_capacity(batch.len());
    (0..batch.len())
        .into_par_iter()
        .with_min_len(256)
        .map_init(|| (Scratch::default(), Quote::new(book.base_currency())), |(scratch, quote), row| route_cells(book, &view.cells(row), opts, scratch, quote))
        .collect_into_vec(&mut outcomes);
    outcomes
}

/// Routes one NDJSON line of the HTTP bulk endpoint: a JSON object whose keys are the bulk
/// columns (`{"id": "p1", "origin_country": "CN", "weight_g": 700, …}`; unknown keys are
/// ignored). Amounts are decimal strings, as in the JSON API. A line that is not a JSON
/// object is an `invalid` row.
pub fn route_ndjson_line<'b>(book: &'b Book, line: &str, opts: &RouteOptions, scratch: &mut Scratch, quote: &mut Quote) -> OutRow<'b> {
    let value: serde_json::Value = match serde_json::from_str(line) {
        Ok(value) => value,
        Err(e) => return invalid_row(format!("not valid JSON: {e}")),
    };
    let serde_json::Value::Object(map) = &value else {
        return invalid_row(format!("must be a JSON object, not {}", from_json(&value).kind()));
    };
    let mut cells: RowCells<'_> = [Cell::Null; COLUMNS];
    for col in Col::ALL {
        if let Some(v) = map.get(col.name()) {
            cells[col as usize] = from_json(v);
        }
    }
    route_row(book, &cells, opts, scratch, quote)
}

/// Routes one CSV record of the HTTP bulk endpoint, with its file's header. A column the
/// header lacks reads as empty; see [`check_csv_header`] to refuse such a file up front.
pub fn route_csv_record<'b>(
    book: &'b Book,
    headers: &csv::StringRecord,
    record: &csv::StringRecord,
    opts: &RouteOptions,
    scratch: &mut Scratch,
    quote: &mut Quote,
) -> OutRow<'b> {
    // Not strict: cannot fail.
    let map = ColumnMap::from_names(headers.iter(), false).unwrap_or(ColumnMap([None; COLUMNS]));
    let cells = Col::ALL.map(|col| match map.get(col).and_then(|p| record.get(p)) {
        Some(field) => cell::from_csv(field.as_bytes()),
        None => Cell::Null,
    });
    route_row(book, &cells, opts, scratch, quote)
}

/// `Err` says why a CSV header cannot be a bulk file's: a required column missing, or a
/// known column named twice. The same check [`route_file`] makes.
pub fn check_csv_header(headers: &csv::StringRecord) -> Result<(), String> {
    match ColumnMap::from_names(headers.iter(), true) {
        Ok(_) => Ok(()),
        Err(HeaderProblem::Missing(column)) => {
            Err(format!("has no column {column}; a bulk file needs the columns id, origin_country, dest_country and weight_g"))
        }
        Err(HeaderProblem::Duplicate(column)) => Err(format!("has the column {column} more than once")),
    }
}

fn route_row<'b>(book: &'b Book, cells: &RowCells<'_>, opts: &RouteOptions, scratch: &mut Scratch, quote: &mut Quote) -> OutRow<'b> {
    let mut buffer = String::new();
    let id = id_text(cells[Col::Id as usize], &mut buffer).to_string();
    OutRow { id, outcome: route_cells(book, cells, opts, scratch, quote) }
}

fn invalid_row(problems: String) -> OutRow<'static> {
    OutRow { id: String::new(), outcome: Outcome::Invalid { problems } }
}
