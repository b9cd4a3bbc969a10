//! # crossdock-tables: rate books from Parquet directories
//!
//! Reads a rate book directory (rate-book.md, "Layout") into the engine's [`SourceBook`],
//! then hands it to [`crossdock_engine::compile`]. This crate knows files and Parquet; it
//! knows nothing of pricing. What it guarantees:
//!
//! - **Every problem, not the first.** Missing files and columns, wrong column types and
//!   unreadable cells are listed by table, row and column, together with every problem
//!   the engine's checks find in the rows that could be read.
//! - **Hostile files are errors.** Sizes are checked against [`Limits`] before reading,
//!   row counts from the Parquet footer before decoding, and a panic inside the Parquet
//!   decoder is caught, kept off stderr and reported as a broken file ([`guard`]); a panic
//!   in crossdock's own code around the decoder stays a panic.
//! - **Identity.** A book's content hash is SHA-256 over its files' names and bytes, in
//!   the fixed layout order; the same files give the same hash on every machine.

pub mod columns;
pub mod guard;

pub use columns::{FileKind, Kind, parse_decimal};

use arrow_array::{ArrayRef, RecordBatch};
use bytes::Bytes;
use columns::Cell;
use crossdock_engine::source::*;
use crossdock_engine::{Book, Date, Decimal, Report, SourceBook, compile};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// Bounds on what a book may be, checked before anything large is read.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Largest accepted file, in bytes.
    pub file_bytes_max: u64,
    /// Most rows in any one table.
    pub table_rows_max: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            file_bytes_max: 1 << 30,
            table_rows_max: 50_000_000,
        }
    }
}

/// A usable book and the warnings its check found.
#[derive(Debug)]
pub struct Loaded {
    pub book: Book,
    pub report: Report,
}

/// Reads, checks and compiles the book in `dir`. `Err` is the full report of a refused book.
pub fn load_dir(dir: &Path, limits: &Limits) -> Result<Loaded, Report> {
    let (source, mut report) = read_dir(dir, limits);
    match compile(&source) {
        Ok((book, warnings)) if !report.has_errors() => {
            report.merge(warnings);
            Ok(Loaded { book, report })
        }
        Ok((_, warnings)) => {
            report.merge(warnings);
            Err(report)
        }
        Err(problems) => {
            report.merge(problems);
            Err(report)
        }
    }
}

/// The columns of one table: name, kind, whether null is allowed.
struct TableSpec {
    name: &'static str,
    file: &'static str,
    required: bool,
    columns: &'static [(&'static str, Kind, bool)],
}

use Kind::{Bool as B, Date as D, Money as M, Text as T, Whole as W};

const SERVICES: TableSpec = TableSpec {
    name: "services",
    file: "services.parquet",
    required: true,
    columns: &[
        ("service_code", T, false),
        ("carrier", T, false),
        ("name", T, false),
        ("origin_country", T, false),
        ("currency", T, false),
        ("zone_chart", T, false),
        ("tracked", B, false),
        ("ddp", B, false),
        ("max_weight_g", W, false),
        ("max_length_mm", W, true),
        ("max_girth_mm", W, true),
        ("max_value", M, true),
        ("volumetric_divisor", W, true),
        ("volumetric_min_side_mm", W, true),
        ("min_chargeable_g", W, true),
        ("weight_step_g", W, true),
        ("valid_from", D, true),
        ("valid_to", D, true),
    ],
};

const ZONES: TableSpec = TableSpec {
    name: "zones",
    file: "zones.parquet",
    required: true,
    columns: &[
        ("zone_chart", T, false),
        ("dest_country", T, false),
        ("postcode_prefix", T, true),
        ("zone", T, false),
        ("transit_days_min", W, false),
        ("transit_days_max", W, false),
    ],
};

const RATES: TableSpec = TableSpec {
    name: "rates",
    file: "rates.parquet",
    required: true,
    columns: &[
        ("service_code", T, false),
        ("zone", T, false),
        ("max_weight_g", W, false),
        ("fixed", M, false),
        ("per_kg", M, false),
    ],
};

const SURCHARGES: TableSpec = TableSpec {
    name: "surcharges",
    file: "surcharges.parquet",
    required: true,
    columns: &[
        ("service_code", T, false),
        ("code", T, false),
        ("kind", T, false),
        ("amount", M, false),
        ("minimum", M, true),
        ("dest_country", T, true),
        ("postcode_prefix", T, true),
        ("battery", B, true),
        ("incoterm", T, true),
        ("min_chargeable_g", W, true),
        ("min_length_mm", W, true),
        ("valid_from", D, true),
        ("valid_to", D, true),
    ],
};

const RESTRICTIONS: TableSpec = TableSpec {
    name: "restrictions",
    file: "restrictions.parquet",
    required: true,
    columns: &[
        ("service_code", T, false),
        ("dest_country", T, false),
        ("category", T, false),
        ("action", T, false),
    ],
};

const PRICES: TableSpec = TableSpec {
    name: "prices",
    file: "prices.parquet",
    required: true,
    columns: &[
        ("customer", T, false),
        ("service_code", T, false),
        ("dest_country", T, false),
        ("markup_percent", M, false),
        ("markup_fixed", M, false),
        ("currency", T, true),
    ],
};

const FX: TableSpec = TableSpec {
    name: "fx",
    file: "fx.parquet",
    required: true,
    columns: &[("currency", T, false), ("per_base", M, false)],
};

const CUSTOMS: TableSpec = TableSpec {
    name: "customs",
    file: "customs.parquet",
    required: true,
    columns: &[
        ("dest_country", T, false),
        ("currency", T, false),
        ("duty_free_upto", M, true),
        ("tax_free_upto", M, true),
        ("tax_at_sale_upto", M, true),
        ("vat_percent", M, false),
        ("duty_percent", M, false),
        ("flat_duty_per_hs6", M, true),
        ("duty_basis", T, false),
        ("tax_includes_freight", B, false),
        ("requires_hs6", B, false),
        ("valid_from", D, true),
        ("valid_to", D, true),
    ],
};

const DUTY_RATES: TableSpec = TableSpec {
    name: "duty_rates",
    file: "duty_rates.parquet",
    required: false,
    columns: &[
        ("dest_country", T, false),
        ("hs_prefix", T, false),
        ("duty_percent", M, false),
    ],
};

const SEGMENTS: TableSpec = TableSpec {
    name: "segments",
    file: "segments.parquet",
    required: false,
    columns: &[
        ("service_code", T, false),
        ("seq", W, false),
        ("kind", T, false),
        ("carrier", T, false),
        ("label", T, false),
    ],
};

/// The files of a book in the order their bytes enter the content hash.
pub const BOOK_FILES: [&str; 11] = [
    "book.toml",
    "services.parquet",
    "zones.parquet",
    "rates.parquet",
    "surcharges.parquet",
    "restrictions.parquet",
    "prices.parquet",
    "fx.parquet",
    "customs.parquet",
    "duty_rates.parquet",
    "segments.parquet",
];

/// Reads every table of the book in `dir` into a source book, with the problems found while
/// reading (the engine's checks are not run here).
pub fn read_dir(dir: &Path, limits: &Limits) -> (SourceBook, Report) {
    let mut report = Report::default();
    let mut src = SourceBook::default();
    let mut hasher = Sha256::new();
    if !dir.is_dir() {
        report.error(
            "book",
            None,
            None,
            format!("{} is not a directory", dir.display()),
        );
        return (src, report);
    }
    if let FileRead::Bytes(bytes) = read_file(dir, "book.toml", true, limits, &mut report) {
        hash_file(&mut hasher, "book.toml", &bytes);
        read_header(&bytes, &mut src, &mut report);
    }
    let mut tables = Tables {
        dir,
        limits,
        report: &mut report,
        hasher: &mut hasher,
        unreadable: Vec::new(),
    };
    src.services = tables.read(&SERVICES, service_row);
    src.zones = tables.read(&ZONES, zone_row);
    src.rates = tables.read_rates();
    src.surcharges = tables.read(&SURCHARGES, surcharge_row);
    src.restrictions = tables.read(&RESTRICTIONS, restriction_row);
    src.prices = tables.read(&PRICES, price_row);
    src.fx = tables.read(&FX, fx_row);
    src.customs = tables.read(&CUSTOMS, customs_row);
    src.duty_rates = tables.read(&DUTY_RATES, duty_rate_row);
    src.segments = tables.read(&SEGMENTS, segment_row);
    src.unreadable_tables = tables.unreadable;
    src.content_hash = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    (src, report)
}

fn hash_file(hasher: &mut Sha256, name: &str, bytes: &[u8]) {
    hasher.update(name.as_bytes());
    hasher.update([0]);
    hasher.update((bytes.len() as u64).to_le_bytes());
    hasher.update(bytes);
}

/// What reading one file of the book gave.
enum FileRead {
    Bytes(Vec<u8>),
    /// An optional file that is not there: its table is empty.
    Absent,
    /// Missing, too large or unreadable: reported.
    Failed,
}

fn read_file(
    dir: &Path,
    file: &str,
    required: bool,
    limits: &Limits,
    report: &mut Report,
) -> FileRead {
    let table = file.strip_suffix(".parquet").unwrap_or(file);
    let path = dir.join(file);
    let meta = match std::fs::metadata(&path) {
        Ok(meta) => meta,
        Err(_) if !required => return FileRead::Absent,
        Err(_) => {
            report.error(table, None, None, format!("{file} is missing"));
            return FileRead::Failed;
        }
    };
    if !meta.is_file() {
        report.error(table, None, None, format!("{file} is not a regular file"));
        return FileRead::Failed;
    }
    if meta.len() > limits.file_bytes_max {
        report.error(
            table,
            None,
            None,
            format!(
                "{file} has {} bytes, more than the limit of {}",
                meta.len(),
                limits.file_bytes_max
            ),
        );
        return FileRead::Failed;
    }
    match std::fs::read(&path) {
        Ok(bytes) => FileRead::Bytes(bytes),
        Err(e) => {
            report.error(table, None, None, format!("{file} cannot be read: {e}"));
            FileRead::Failed
        }
    }
}

fn read_header(bytes: &[u8], src: &mut SourceBook, report: &mut Report) {
    let t = "book.toml";
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(_) => {
            report.error(t, None, None, "is not UTF-8 text");
            return;
        }
    };
    let table: toml::Table = match toml::from_str(text) {
        Ok(table) => table,
        Err(e) => {
            report.error(t, None, None, format!("is not valid TOML: {}", e.message()));
            return;
        }
    };
    for (key, value) in &table {
        match (key.as_str(), value) {
            ("name", toml::Value::String(s)) => src.name = s.clone(),
            ("base_currency", toml::Value::String(s)) => src.base_currency = s.clone(),
            ("notes", toml::Value::String(s)) => src.notes = Some(s.clone()),
            ("name" | "base_currency" | "notes", _) => {
                report.error(t, None, Some(key), "must be a string")
            }
            _ => report.warning(t, None, Some(key), "is not a known key; ignored"),
        }
    }
    for key in ["name", "base_currency"] {
        if !table.contains_key(key) {
            report.error(t, None, Some(key), "is missing");
        }
    }
}

struct Tables<'a> {
    dir: &'a Path,
    limits: &'a Limits,
    report: &'a mut Report,
    hasher: &'a mut Sha256,
    /// Tables whose file could not be read at all (see `SourceBook::unreadable_tables`).
    unreadable: Vec<String>,
}

impl Tables<'_> {
    /// Reads one table, building a row with `build` for every row whose cells all read.
    fn read<R>(
        &mut self,
        spec: &TableSpec,
        mut build: impl FnMut(&mut RowReader<'_>) -> R,
    ) -> Vec<R> {
        let mut rows = Vec::new();
        self.decode(spec, &mut |reader| {
            for i in 0..reader.len {
                reader.start(i);
                let row = build(reader);
                if reader.ok {
                    rows.push(row);
                }
            }
        });
        rows
    }

    /// `rates`, with its keys interned so a million rows share a few thousand strings.
    fn read_rates(&mut self) -> Vec<RateRow> {
        let mut interned: HashMap<String, Arc<str>> = HashMap::new();
        let mut intern = |s: String| -> Arc<str> {
            interned
                .entry(s)
                .or_insert_with_key(|k| Arc::from(k.as_str()))
                .clone()
        };
        self.read(&RATES, |r| RateRow {
            row: r.row(),
            service_code: intern(r.text("service_code")),
            zone: intern(r.text("zone")),
            max_weight_g: r.whole("max_weight_g"),
            fixed: r.money("fixed"),
            per_kg: r.money("per_kg"),
        })
    }

    fn decode(&mut self, spec: &TableSpec, on_batch: &mut dyn FnMut(&mut RowReader<'_>)) {
        let bytes = match read_file(self.dir, spec.file, spec.required, self.limits, self.report) {
            FileRead::Bytes(bytes) => bytes,
            FileRead::Absent => return,
            FileRead::Failed => {
                self.unreadable.push(spec.name.to_string());
                return;
            }
        };
        hash_file(self.hasher, spec.file, &bytes);
        let limits = self.limits.clone();
        let Err(why) = decode_parquet(spec, Bytes::from(bytes), &limits, self.report, on_batch)
        else {
            return;
        };
        self.unreadable.push(spec.name.to_string());
        let message = match why {
            Unreadable::Reported => return,
            Unreadable::Error(message) => {
                format!("{} is not a readable Parquet file: {message}", spec.file)
            }
            Unreadable::DecoderPanic => format!(
                "{} is corrupt (the Parquet decoder failed on it)",
                spec.file
            ),
        };
        self.report.error(spec.name, None, None, message);
    }
}

/// Why a table's file could not be decoded.
enum Unreadable {
    /// Its problems (row limit, missing columns or column types) are in the report already.
    Reported,
    /// The decoder refused it, saying why.
    Error(String),
    /// The decoder panicked on it (caught by [`guard::decoding`]).
    DecoderPanic,
}

impl From<guard::DecoderPanic> for Unreadable {
    fn from(_: guard::DecoderPanic) -> Unreadable {
        Unreadable::DecoderPanic
    }
}

/// Runs one call into the Parquet decoder under the panic guard, its error as text.
fn decoder<T, E: std::fmt::Display>(call: impl FnOnce() -> Result<T, E>) -> Result<T, Unreadable> {
    guard::decoding(call)?.map_err(|e| Unreadable::Error(e.to_string()))
}

/// Rows per decoded batch: large enough to amortise per-batch work, small enough that a
/// batch of the widest table stays a few megabytes.
const BATCH_ROWS: usize = 64 * 1024;

/// Decodes `bytes` as `spec`'s table, a batch at a time. Only the decoder's own calls run
/// under the panic guard; the column checks here and `on_batch` (our cell conversions and
/// row builders) run outside it, so a panic of ours is not mistaken for a damaged file.
fn decode_parquet(
    spec: &TableSpec,
    bytes: Bytes,
    limits: &Limits,
    report: &mut Report,
    on_batch: &mut dyn FnMut(&mut RowReader<'_>),
) -> Result<(), Unreadable> {
    let builder = decoder(|| ParquetRecordBatchReaderBuilder::try_new(bytes))?;
    let meta = builder.metadata().clone();
    let rows = meta.file_metadata().num_rows();
    if rows < 0 || rows as u64 > limits.table_rows_max {
        report.error(
            spec.name,
            None,
            None,
            format!(
                "{} has {rows} rows, more than the limit of {}",
                spec.file, limits.table_rows_max
            ),
        );
        return Err(Unreadable::Reported);
    }
    let group_rows: i64 = meta.row_groups().iter().map(|g| g.num_rows()).sum();
    if group_rows != rows {
        return Err(Unreadable::Error(format!(
            "its footer says {rows} rows but its row groups hold {group_rows}"
        )));
    }
    let Some(indices) = column_indices(spec, builder.schema(), report) else {
        return Err(Unreadable::Reported);
    };
    let mut reader = decoder(|| {
        let mask = ProjectionMask::roots(builder.parquet_schema(), indices.iter().copied());
        builder
            .with_projection(mask)
            .with_batch_size(BATCH_ROWS)
            .build()
    })?;
    let mut first_row: u32 = 1;
    while let Some(batch) = guard::decoding(|| reader.next())? {
        let batch: RecordBatch = batch.map_err(|e| Unreadable::Error(e.to_string()))?;
        let mut row_reader = RowReader::new(spec, &batch, first_row, report);
        on_batch(&mut row_reader);
        first_row = first_row.saturating_add(batch.num_rows() as u32);
    }
    Ok(())
}

/// Where each column of the spec is in the file, when every one is there once with a type
/// that fits; otherwise `None`, with each problem reported.
fn column_indices(
    spec: &TableSpec,
    schema: &arrow_schema::SchemaRef,
    report: &mut Report,
) -> Option<Vec<usize>> {
    let mut indices = Vec::new();
    let mut missing = false;
    for &(name, kind, _) in spec.columns {
        let found: Vec<usize> = schema
            .fields()
            .iter()
            .enumerate()
            .filter(|(_, f)| f.name() == name)
            .map(|(i, _)| i)
            .collect();
        match found.as_slice() {
            [] => {
                report.error(spec.name, None, Some(name), "column is missing");
                missing = true;
            }
            [i] => match kind.accepts(schema.field(*i).data_type(), FileKind::RateBook) {
                Ok(()) => indices.push(*i),
                Err(why) => {
                    report.error(spec.name, None, Some(name), format!("column {why}"));
                    missing = true;
                }
            },
            _ => {
                report.error(spec.name, None, Some(name), "column appears more than once");
                missing = true;
            }
        }
    }
    (!missing).then_some(indices)
}

enum Converted {
    Text(Vec<Cell<String>>),
    Money(Vec<Cell<Decimal>>),
    Whole(Vec<Cell<i64>>),
    Bool(Vec<Cell<bool>>),
    Date(Vec<Cell<Date>>),
}

/// The cells of one batch, read row by row. A cell that cannot be read is reported and
/// marks its row unusable; the row's other cells are still read so every problem shows.
struct RowReader<'a> {
    table: &'static str,
    columns: Vec<(&'static str, bool, Converted)>,
    len: usize,
    first_row: u32,
    i: usize,
    ok: bool,
    report: &'a mut Report,
}

impl<'a> RowReader<'a> {
    fn new(
        spec: &TableSpec,
        batch: &RecordBatch,
        first_row: u32,
        report: &'a mut Report,
    ) -> RowReader<'a> {
        let columns = spec
            .columns
            .iter()
            .map(|&(name, kind, nullable)| {
                let array: &ArrayRef = batch
                    .column_by_name(name)
                    .unwrap_or_else(|| batch.column(0));
                let converted = match kind {
                    Kind::Text => Converted::Text(columns::text(array)),
                    Kind::Money => Converted::Money(columns::money(array)),
                    Kind::Whole => Converted::Whole(columns::whole(array)),
                    Kind::Bool => Converted::Bool(columns::boolean(array)),
                    Kind::Date => Converted::Date(columns::date(array)),
                };
                (name, nullable, converted)
            })
            .collect();
        RowReader {
            table: spec.name,
            columns,
            len: batch.num_rows(),
            first_row,
            i: 0,
            ok: true,
            report,
        }
    }

    fn start(&mut self, i: usize) {
        self.i = i;
        self.ok = true;
    }

    fn row(&self) -> RowNo {
        self.first_row.saturating_add(self.i as u32)
    }

    fn column(&mut self, name: &str) -> (&'static str, bool, &mut Converted) {
        let (n, nullable, converted) = self
            .columns
            .iter_mut()
            .find(|(n, _, _)| *n == name)
            .expect("every column read is in its table's spec");
        (n, *nullable, converted)
    }

    /// Takes the cell out of its column; reports a bad value or a null in a required column.
    fn take<T>(
        &mut self,
        name: &str,
        pick: impl FnOnce(&mut Converted) -> Option<&mut Vec<Cell<T>>>,
    ) -> Option<T> {
        let i = self.i;
        let row = self.row();
        let (column, nullable, converted) = self.column(name);
        let cell = pick(converted)
            .and_then(|cells| cells.get_mut(i))
            .map(|c| std::mem::replace(c, Ok(None)));
        match cell {
            Some(Ok(Some(value))) => Some(value),
            Some(Ok(None)) | None => {
                if !nullable {
                    self.report
                        .error(self.table, Some(row), Some(column), "must not be empty");
                    self.ok = false;
                }
                None
            }
            Some(Err(why)) => {
                self.report.error(self.table, Some(row), Some(column), why);
                self.ok = false;
                None
            }
        }
    }

    fn opt_text(&mut self, name: &str) -> Option<String> {
        self.take(name, |c| {
            if let Converted::Text(v) = c {
                Some(v)
            } else {
                None
            }
        })
        .filter(|s| !s.is_empty())
    }

    fn text(&mut self, name: &str) -> String {
        self.take(name, |c| {
            if let Converted::Text(v) = c {
                Some(v)
            } else {
                None
            }
        })
        .unwrap_or_default()
    }

    fn opt_money(&mut self, name: &str) -> Option<Decimal> {
        self.take(name, |c| {
            if let Converted::Money(v) = c {
                Some(v)
            } else {
                None
            }
        })
    }

    fn money(&mut self, name: &str) -> Decimal {
        self.opt_money(name).unwrap_or_default()
    }

    fn opt_whole(&mut self, name: &str) -> Option<i64> {
        self.take(name, |c| {
            if let Converted::Whole(v) = c {
                Some(v)
            } else {
                None
            }
        })
    }

    fn whole(&mut self, name: &str) -> i64 {
        self.opt_whole(name).unwrap_or_default()
    }

    fn opt_bool(&mut self, name: &str) -> Option<bool> {
        self.take(name, |c| {
            if let Converted::Bool(v) = c {
                Some(v)
            } else {
                None
            }
        })
    }

    fn boolean(&mut self, name: &str) -> bool {
        self.opt_bool(name).unwrap_or_default()
    }

    fn date(&mut self, name: &str) -> Option<Date> {
        self.take(name, |c| {
            if let Converted::Date(v) = c {
                Some(v)
            } else {
                None
            }
        })
    }
}

fn service_row(r: &mut RowReader<'_>) -> ServiceRow {
    ServiceRow {
        row: r.row(),
        service_code: r.text("service_code"),
        carrier: r.text("carrier"),
        name: r.text("name"),
        origin_country: r.text("origin_country"),
        currency: r.text("currency"),
        zone_chart: r.text("zone_chart"),
        tracked: r.boolean("tracked"),
        ddp: r.boolean("ddp"),
        max_weight_g: r.whole("max_weight_g"),
        max_length_mm: r.opt_whole("max_length_mm"),
        max_girth_mm: r.opt_whole("max_girth_mm"),
        max_value: r.opt_money("max_value"),
        volumetric_divisor: r.opt_whole("volumetric_divisor"),
        volumetric_min_side_mm: r.opt_whole("volumetric_min_side_mm"),
        min_chargeable_g: r.opt_whole("min_chargeable_g"),
        weight_step_g: r.opt_whole("weight_step_g"),
        valid_from: r.date("valid_from"),
        valid_to: r.date("valid_to"),
    }
}

fn zone_row(r: &mut RowReader<'_>) -> ZoneRow {
    ZoneRow {
        row: r.row(),
        zone_chart: r.text("zone_chart"),
        dest_country: r.text("dest_country"),
        postcode_prefix: r.opt_text("postcode_prefix"),
        zone: r.text("zone"),
        transit_days_min: r.whole("transit_days_min"),
        transit_days_max: r.whole("transit_days_max"),
    }
}

fn surcharge_row(r: &mut RowReader<'_>) -> SurchargeRow {
    SurchargeRow {
        row: r.row(),
        service_code: r.text("service_code"),
        code: r.text("code"),
        kind: r.text("kind"),
        amount: r.money("amount"),
        minimum: r.opt_money("minimum"),
        dest_country: r.opt_text("dest_country"),
        postcode_prefix: r.opt_text("postcode_prefix"),
        battery: r.opt_bool("battery"),
        incoterm: r.opt_text("incoterm"),
        min_chargeable_g: r.opt_whole("min_chargeable_g"),
        min_length_mm: r.opt_whole("min_length_mm"),
        valid_from: r.date("valid_from"),
        valid_to: r.date("valid_to"),
    }
}

fn restriction_row(r: &mut RowReader<'_>) -> RestrictionRow {
    RestrictionRow {
        row: r.row(),
        service_code: r.text("service_code"),
        dest_country: r.text("dest_country"),
        category: r.text("category"),
        action: r.text("action"),
    }
}

fn price_row(r: &mut RowReader<'_>) -> PriceRow {
    PriceRow {
        row: r.row(),
        customer: r.text("customer"),
        service_code: r.text("service_code"),
        dest_country: r.text("dest_country"),
        markup_percent: r.money("markup_percent"),
        markup_fixed: r.money("markup_fixed"),
        currency: r.opt_text("currency"),
    }
}

fn fx_row(r: &mut RowReader<'_>) -> FxRow {
    FxRow {
        row: r.row(),
        currency: r.text("currency"),
        per_base: r.money("per_base"),
    }
}

fn customs_row(r: &mut RowReader<'_>) -> CustomsRow {
    CustomsRow {
        row: r.row(),
        dest_country: r.text("dest_country"),
        currency: r.text("currency"),
        duty_free_upto: r.opt_money("duty_free_upto"),
        tax_free_upto: r.opt_money("tax_free_upto"),
        tax_at_sale_upto: r.opt_money("tax_at_sale_upto"),
        vat_percent: r.money("vat_percent"),
        duty_percent: r.money("duty_percent"),
        flat_duty_per_hs6: r.opt_money("flat_duty_per_hs6"),
        duty_basis: r.text("duty_basis"),
        tax_includes_freight: r.boolean("tax_includes_freight"),
        requires_hs6: r.boolean("requires_hs6"),
        valid_from: r.date("valid_from"),
        valid_to: r.date("valid_to"),
    }
}

fn duty_rate_row(r: &mut RowReader<'_>) -> DutyRateRow {
    DutyRateRow {
        row: r.row(),
        dest_country: r.text("dest_country"),
        hs_prefix: r.text("hs_prefix"),
        duty_percent: r.money("duty_percent"),
    }
}

fn segment_row(r: &mut RowReader<'_>) -> SegmentRow {
    SegmentRow {
        row: r.row(),
        service_code: r.text("service_code"),
        seq: r.whole("seq"),
        kind: r.text("kind"),
        carrier: r.text("carrier"),
        label: r.text("label"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::panic::{AssertUnwindSafe, catch_unwind};

    /// A panic in crossdock's own code around the decoder (here, the row builder) is a bug:
    /// it must stay a panic, not become a report that the file is corrupt.
    #[test]
    fn a_panic_in_our_row_builder_is_not_reported_as_a_corrupt_file() {
        let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rate-tables/demo");
        let mut report = Report::default();
        let mut hasher = Sha256::new();
        let mut tables = Tables {
            dir: &demo,
            limits: &Limits::default(),
            report: &mut report,
            hasher: &mut hasher,
            unreadable: Vec::new(),
        };
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            tables.decode(&FX, &mut |_| panic!("a bug in a row builder"))
        }));
        assert!(outcome.is_err(), "the row builder's panic was swallowed");
        assert!(
            !report.has_errors(),
            "reported as the file's fault: {report:?}"
        );
    }

    /// The file of the upstream report in README.md still panics the decoder, and the guard
    /// turns that into `DecoderPanic` (silently: see `guard`).
    #[test]
    fn the_upstream_reproduction_panics_the_decoder_inside_the_guard() {
        let bytes = Bytes::from_static(include_bytes!(
            "../testdata/fx-dictionary-index-past-end.parquet"
        ));
        let outcome = guard::decoding(|| {
            let builder = ParquetRecordBatchReaderBuilder::try_new(bytes).ok()?;
            for batch in builder.build().ok()? {
                batch.ok()?;
            }
            Some(())
        });
        assert_eq!(outcome, Err(guard::DecoderPanic));
    }
}
