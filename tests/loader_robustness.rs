//! Loader robustness: `crossdock_tables::load_dir` on the demo book, on damaged copies of it
//! and on books broken on purpose (rate-book.md, "Checks before a book can be used").
//!
//! - The demo book loads with no errors.
//! - Every Parquet table of the demo, truncated at many lengths or with single bits flipped
//!   (anywhere, in the footer metadata and in the last 8 bytes), never makes the loader panic.
//!   A truncated table is always refused, naming the table. A flipped bit may leave a readable
//!   file whose book still compiles; when the book is refused, the report names the damaged
//!   table, or — when the file still reads and only its values changed — the tables whose
//!   checks those values fail.
//! - Limits on file size and on rows refuse the demo, naming the files and tables.
//! - Books broken on purpose (a missing column, money as floating point, a duplicate service,
//!   a rate in an unknown zone, a currency without an fx row, a negative amount, tied price
//!   rows, a missing file, a garbage `book.toml`) are refused, and the report lists every
//!   planted problem by table, row and column, also when several are planted at once.
//!
//! Damage is deterministic (splitmix64 with fixed seeds): a failure names the file, the
//! length or the byte and bit, and reproduces.

use arrow_array::cast::AsArray;
use arrow_array::types::Decimal128Type;
use arrow_array::{ArrayRef, Decimal128Array, Float64Array, RecordBatch, StringArray};
use arrow_schema::{Field, Schema};
use crossdock_engine::{Report, SourceBook};
use crossdock_tables::{BOOK_FILES, Limits, Loaded, load_dir, read_dir};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReaderBuilder, RowSelection, RowSelector};
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::fs::File;
use std::ops::Range;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::{Arc, Once, OnceLock};
use tempfile::TempDir;

// ---------------------------------------------------------------------------------------
// The demo book, written once by crossdock-bookgen and kept in memory.

struct DemoFile {
    name: String,
    bytes: Vec<u8>,
}

fn demo() -> &'static [DemoFile] {
    static DEMO: OnceLock<Vec<DemoFile>> = OnceLock::new();
    // Every test starts here, before any load: see `install_recording_hook`.
    install_recording_hook();
    DEMO.get_or_init(|| {
        let tmp = TempDir::new().expect("a temp dir");
        crossdock_bookgen::write_demo(tmp.path())
            .unwrap_or_else(|e| panic!("write_demo failed: {e}"));
        let mut files: Vec<DemoFile> = std::fs::read_dir(tmp.path())
            .expect("the demo dir lists")
            .map(|entry| {
                let entry = entry.expect("a directory entry");
                let name = entry.file_name().into_string().expect("a UTF-8 file name");
                DemoFile {
                    name,
                    bytes: std::fs::read(entry.path()).expect("a demo file reads"),
                }
            })
            .collect();
        files.sort_by(|a, b| a.name.cmp(&b.name));
        files
    })
}

fn demo_tables() -> impl Iterator<Item = &'static DemoFile> {
    demo().iter().filter(|f| f.name.ends_with(".parquet"))
}

/// A fresh copy of the demo book in its own temp dir.
fn demo_copy() -> TempDir {
    let dir = TempDir::new().expect("a temp dir");
    for file in demo() {
        std::fs::write(dir.path().join(&file.name), &file.bytes).expect("a demo file writes");
    }
    dir
}

/// The intact demo's rows, to pick what to break.
fn demo_source() -> &'static SourceBook {
    static SOURCE: OnceLock<SourceBook> = OnceLock::new();
    SOURCE.get_or_init(|| {
        let dir = demo_copy();
        let (source, report) = read_dir(dir.path(), &Limits::default());
        assert!(
            !report.has_errors(),
            "the demo book does not read:\n{}",
            listing(&report)
        );
        source
    })
}

/// A source book's rows as text, table by table: equal texts say the same thing.
fn rows_text(source: &SourceBook) -> Vec<(&'static str, Vec<String>)> {
    fn text<R: std::fmt::Debug>(rows: &[R]) -> Vec<String> {
        rows.iter().map(|r| format!("{r:?}")).collect()
    }
    vec![
        ("services", text(&source.services)),
        ("zones", text(&source.zones)),
        ("rates", text(&source.rates)),
        ("surcharges", text(&source.surcharges)),
        ("restrictions", text(&source.restrictions)),
        ("prices", text(&source.prices)),
        ("fx", text(&source.fx)),
        ("customs", text(&source.customs)),
        ("duty_rates", text(&source.duty_rates)),
        ("segments", text(&source.segments)),
    ]
}

/// The first difference between two books' rows, e.g. `customs row 3: vat_percent: 20 → 52`,
/// or `None` when they hold the same rows.
fn first_difference(
    intact: &[(&str, Vec<String>)],
    damaged: &[(&str, Vec<String>)],
) -> Option<String> {
    for ((table, a), (_, b)) in intact.iter().zip(damaged) {
        if a.len() != b.len() {
            return Some(format!("{table}: {} rows instead of {}", b.len(), a.len()));
        }
        for (i, (a, b)) in a.iter().zip(b).enumerate() {
            if a != b {
                // The fields that differ: Debug prints `Row { field: value, … }`.
                let changed: Vec<String> = a
                    .split(", ")
                    .zip(b.split(", "))
                    .filter(|(x, y)| x != y)
                    .map(|(x, y)| format!("{x} → {}", y.split_once(": ").map_or(y, |(_, v)| v)))
                    .collect();
                return Some(format!("{table} row {}: {}", i + 1, changed.join(", ")));
            }
        }
    }
    None
}

/// The table a file's problems are reported under: `rates` for `rates.parquet`.
fn stem(file: &str) -> &str {
    file.strip_suffix(".parquet").unwrap_or(file)
}

fn known_table(table: &str) -> bool {
    table == "book" || BOOK_FILES.iter().any(|f| stem(f) == table)
}

// ---------------------------------------------------------------------------------------
// Loading and looking at reports.

thread_local! {
    /// While set, panics on this thread are recorded here instead of printed: every panic
    /// that would have reached stderr while loading. The loader's guard keeps the Parquet
    /// decoder's panics from reaching this hook (it wraps it: see [`demo`]), so a recorded
    /// panic is one a user would have seen.
    static RECORDED_PANICS: RefCell<Option<Vec<String>>> = const { RefCell::new(None) };
}

/// A panic hook that records panics on threads that asked for it (see [`RECORDED_PANICS`])
/// and prints all others as usual. Installed before the first load, so the loader's quiet
/// hook (installed at its first decode) wraps this one, as it wraps the default hook that
/// prints to stderr in the `crossdock` binary.
fn install_recording_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let print = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let recorded =
                RECORDED_PANICS.with(|cell| match cell.try_borrow_mut().as_deref_mut() {
                    Ok(Some(panics)) => {
                        panics.push(info.to_string().replace('\n', " "));
                        true
                    }
                    _ => false,
                });
            if !recorded {
                print(info);
            }
        }));
    });
}

/// `load_dir`, failing the test with `what` when it panics instead of returning. Also returns
/// the panics that would have been printed on the way (none, when the loader's guard keeps
/// the decoder's panics quiet).
fn load_recording(
    dir: &Path,
    limits: &Limits,
    what: &str,
) -> (Result<Loaded, Report>, Vec<String>) {
    install_recording_hook();
    RECORDED_PANICS.with(|cell| *cell.borrow_mut() = Some(Vec::new()));
    let outcome = catch_unwind(AssertUnwindSafe(|| load_dir(dir, limits)));
    let panics = RECORDED_PANICS
        .with(|cell| cell.borrow_mut().take())
        .unwrap_or_default();
    match outcome {
        Ok(outcome) => (outcome, panics),
        Err(_) => panic!(
            "load_dir panicked on {what}: {}",
            panics.last().map_or("", String::as_str)
        ),
    }
}

/// `load_dir`, failing the test with `what` when it panics instead of returning.
fn load(dir: &Path, limits: &Limits, what: &str) -> Result<Loaded, Report> {
    load_recording(dir, limits, what).0
}

/// The report of a book that must be refused.
fn refused(dir: &Path, limits: &Limits, what: &str) -> Report {
    match load(dir, limits, what) {
        Ok(loaded) => panic!(
            "{what}: the book was accepted; its report:\n{}",
            listing(&loaded.report)
        ),
        Err(report) => {
            assert!(
                report.has_errors(),
                "{what}: refused without an error:\n{}",
                listing(&report)
            );
            report
        }
    }
}

fn listing(report: &Report) -> String {
    report.problems.iter().map(|p| format!("  {p}\n")).collect()
}

/// Asserts `report` has an error in `table` — in `column` and at `row` when given — whose
/// message contains every one of `needles`.
fn expect_error(
    report: &Report,
    table: &str,
    column: Option<&str>,
    row: Option<u32>,
    needles: &[&str],
) {
    let found = report.errors().any(|p| {
        p.table == table
            && column.is_none_or(|c| p.column.as_deref() == Some(c))
            && row.is_none_or(|r| p.row == Some(r))
            && needles.iter().all(|n| p.message.contains(n))
    });
    assert!(
        found,
        "expected an error in table {table:?}, column {column:?}, row {row:?}, mentioning {needles:?}; the report:\n{}",
        listing(report)
    );
}

// ---------------------------------------------------------------------------------------
// Deterministic damage.

/// splitmix64: a tiny, well-mixed generator; fixed seeds make every damaged input reproducible.
struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator for one file: the same seed and name always give the same sequence.
    fn for_file(seed: u64, name: &str) -> SplitMix64 {
        // FNV-1a of the name, so each file gets its own sequence.
        let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        SplitMix64(seed ^ hash)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform enough in `range` (which must not be empty) for picking offsets.
    fn in_range(&mut self, range: Range<usize>) -> usize {
        range.start + (self.next() % (range.end - range.start) as u64) as usize
    }
}

/// A damaged copy of a file: what was done to it, and its bytes.
type Damaged = (String, Vec<u8>);

const TRUNCATION_SEED: u64 = 0x7472_756e_6361_7465;
const FLIP_SEED: u64 = 0x666c_6970_6269_7473;
const RANDOM_TRUNCATIONS: usize = 50;
const FLIPS_PER_FILE: usize = 200;

/// Where a Parquet file's footer metadata starts: the 4-byte length before the trailing
/// `PAR1` says how long it is.
fn metadata_range(bytes: &[u8]) -> Range<usize> {
    let len = bytes.len();
    assert!(len > 12 && bytes.ends_with(b"PAR1"), "not a Parquet file");
    let meta_len =
        u32::from_le_bytes(bytes[len - 8..len - 4].try_into().expect("4 bytes")) as usize;
    assert!(
        meta_len > 0 && meta_len + 12 <= len,
        "footer length out of range"
    );
    len - 8 - meta_len..len - 8
}

/// Truncated copies: the short and boundary lengths, then pseudo-random ones.
fn truncations(file: &DemoFile) -> Vec<Damaged> {
    let len = file.bytes.len();
    let meta = metadata_range(&file.bytes);
    let mut lengths: BTreeSet<usize> = [
        0,
        1,
        4,
        8,
        len / 2,
        len - 1,
        len - 8,
        meta.start,
        meta.start + meta.len() / 2,
        meta.start - 1,
    ]
    .into_iter()
    .collect();
    let mut rng = SplitMix64::for_file(TRUNCATION_SEED, &file.name);
    for _ in 0..RANDOM_TRUNCATIONS {
        lengths.insert(rng.in_range(0..len));
    }
    lengths
        .into_iter()
        .map(|l| {
            (
                format!("truncated to {l} of {len} bytes"),
                file.bytes[..l].to_vec(),
            )
        })
        .collect()
}

/// Copies with one bit flipped: a tenth in the last 8 bytes (metadata length and magic), 45 %
/// in the footer metadata, 45 % anywhere.
fn flips(file: &DemoFile) -> Vec<(bool, Damaged)> {
    let len = file.bytes.len();
    let meta = metadata_range(&file.bytes);
    let mut rng = SplitMix64::for_file(FLIP_SEED, &file.name);
    (0..FLIPS_PER_FILE)
        .map(|i| {
            let (region, range) = match i % 20 {
                0 | 1 => ("trailer", len - 8..len),
                2..=10 => ("footer metadata", meta.clone()),
                _ => ("file", 0..len),
            };
            let offset = rng.in_range(range);
            let bit = rng.in_range(0..8);
            let mut bytes = file.bytes.clone();
            bytes[offset] ^= 1 << bit;
            let what = format!(
                "bit {bit} of byte {offset} flipped ({region}; {len} bytes, metadata at {}..{})",
                meta.start, meta.end
            );
            (region != "file", (what, bytes))
        })
        .collect()
}

/// The flips aimed at the footer: the last 8 bytes and the metadata before them.
fn footer_flips(file: &DemoFile) -> Vec<Damaged> {
    flips(file)
        .into_iter()
        .filter(|(footer, _)| *footer)
        .map(|(_, d)| d)
        .collect()
}

/// The flips anywhere in the file (data pages, mostly).
fn anywhere_flips(file: &DemoFile) -> Vec<Damaged> {
    flips(file)
        .into_iter()
        .filter(|(footer, _)| !*footer)
        .map(|(_, d)| d)
        .collect()
}

/// What damaged tables did to the loader.
#[derive(Default)]
struct Tally {
    loads: usize,
    /// Refused, with a problem in the damaged table.
    refused_naming_table: usize,
    /// Refused as corrupt: the loader caught a panic in the Parquet decoder.
    decoder_panics_caught: Vec<String>,
    /// Panics that reached the panic hook (and so stderr): the damaged input, and the panic.
    panics_printed: Vec<String>,
    /// Accepted, reading exactly what the intact file says (the bit was in unused metadata).
    accepted_unchanged: usize,
    /// Accepted, but the book now says something else: undetected data corruption.
    accepted_changed: Vec<String>,
    /// Refused for consequences in other tables: the file still read, with other values.
    refused_elsewhere: Vec<String>,
}

impl Tally {
    fn print(&self, kind: &str) {
        eprintln!(
            "{kind}: {} loads; refused naming the damaged table {} (after a caught decoder panic {}); refused in other tables {}; accepted unchanged {}; accepted with changed values {}",
            self.loads,
            self.refused_naming_table,
            self.decoder_panics_caught.len(),
            self.refused_elsewhere.len(),
            self.accepted_unchanged,
            self.accepted_changed.len()
        );
        for case in &self.decoder_panics_caught {
            eprintln!("  decoder panic caught: {case}");
        }
        for case in &self.panics_printed {
            eprintln!("  panic printed: {case}");
        }
        for case in self.refused_elsewhere.iter().take(5) {
            eprintln!("  refused elsewhere: {case}");
        }
        let mut by_file: std::collections::BTreeMap<&str, usize> = Default::default();
        for case in &self.accepted_changed {
            *by_file
                .entry(case.split(',').next().unwrap_or_default())
                .or_default() += 1;
        }
        if !by_file.is_empty() {
            eprintln!("  accepted with changed values, by file: {by_file:?}");
        }
        for case in self.accepted_changed.iter().take(8) {
            eprintln!("  accepted changed: {case}");
        }
    }
}

/// How the loader reports a file the Parquet decoder panicked on.
const CORRUPT: &str = "is corrupt (the Parquet decoder failed on it)";

/// Loads the demo with each damaged copy of each table in place of the intact one.
/// `must_refuse`: every damaged copy must be refused naming its table.
fn damage_every_table(damages: fn(&DemoFile) -> Vec<Damaged>, must_refuse: bool) -> Tally {
    let dir = demo_copy();
    let intact = rows_text(demo_source());
    let limits = Limits::default();
    let mut tally = Tally::default();
    for file in demo_tables() {
        let table = stem(&file.name);
        let path = dir.path().join(&file.name);
        for (damage, bytes) in damages(file) {
            let what = format!("{}, {damage}", file.name);
            std::fs::write(&path, &bytes).expect("the damaged file writes");
            tally.loads += 1;
            let (outcome, panics) = load_recording(dir.path(), &limits, &what);
            if !panics.is_empty() {
                tally
                    .panics_printed
                    .push(format!("{what}: {}", panics.join("; ")));
            }
            if let Err(report) = &outcome
                && let Some(corrupt) = report.errors().find(|p| p.message.contains(CORRUPT))
            {
                tally
                    .decoder_panics_caught
                    .push(format!("{what}: {corrupt}"));
            }
            match outcome {
                Ok(loaded) => {
                    assert!(
                        panics.is_empty(),
                        "{what}: accepted after a panic in the decoder: {panics:?}"
                    );
                    assert!(
                        !must_refuse,
                        "{what}: accepted; its report:\n{}",
                        listing(&loaded.report)
                    );
                    assert!(
                        !loaded.report.has_errors(),
                        "{what}: accepted with errors:\n{}",
                        listing(&loaded.report)
                    );
                    let (source, _) = read_dir(dir.path(), &limits);
                    match first_difference(&intact, &rows_text(&source)) {
                        None => tally.accepted_unchanged += 1,
                        Some(difference) => {
                            tally.accepted_changed.push(format!("{what}: {difference}"))
                        }
                    }
                }
                Err(report) => {
                    assert!(
                        report.has_errors(),
                        "{what}: refused without an error:\n{}",
                        listing(&report)
                    );
                    let strangers: Vec<String> = report
                        .errors()
                        .filter(|p| !known_table(&p.table))
                        .map(|p| p.to_string())
                        .collect();
                    assert!(
                        strangers.is_empty(),
                        "{what}: errors name no table of the book: {strangers:?}"
                    );
                    let named: Vec<_> = report.errors().filter(|p| p.table == table).collect();
                    if !named.is_empty() {
                        tally.refused_naming_table += 1;
                    } else {
                        assert!(
                            !must_refuse,
                            "{what}: refused, but no error names table {table:?}:\n{}",
                            listing(&report)
                        );
                        // Not naming the damaged table is right only when it still reads: its
                        // values changed, and other tables' checks fail on them.
                        let (_, reading) = read_dir(dir.path(), &limits);
                        assert!(
                            !reading.has_errors(),
                            "{what}: reading the book finds problems, none in the damaged table {table:?}:\n{}",
                            listing(&reading)
                        );
                        let first = report
                            .errors()
                            .next()
                            .map(|p| p.to_string())
                            .unwrap_or_default();
                        tally.refused_elsewhere.push(format!("{what}: {first}"));
                    }
                }
            }
        }
        std::fs::write(&path, &file.bytes).expect("the intact file is restored");
    }
    tally
}

// ---------------------------------------------------------------------------------------
// Arrow helpers: read a demo table, change it, write it back.

/// Reads `table` of the book in `dir` as one batch, without the rows (0-based) in `skip`.
fn read_table(dir: &Path, table: &str, skip: &[usize]) -> RecordBatch {
    let file = File::open(dir.join(format!("{table}.parquet"))).expect("the table opens");
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).expect("the table reads");
    let rows = usize::try_from(builder.metadata().file_metadata().num_rows()).expect("a row count");
    let schema = builder.schema().clone();
    let mut builder = builder.with_batch_size(rows.max(1));
    if !skip.is_empty() {
        let mut selectors = Vec::new();
        let mut next = 0;
        for &row in skip {
            assert!(
                row >= next && row < rows,
                "rows to skip must be ascending and in the table"
            );
            if row > next {
                selectors.push(RowSelector::select(row - next));
            }
            selectors.push(RowSelector::skip(1));
            next = row + 1;
        }
        if next < rows {
            selectors.push(RowSelector::select(rows - next));
        }
        builder = builder.with_row_selection(RowSelection::from(selectors));
    }
    let mut batches: Vec<RecordBatch> = builder
        .build()
        .expect("a reader")
        .collect::<Result<_, _>>()
        .expect("the rows read");
    match batches.len() {
        0 => RecordBatch::new_empty(schema),
        1 => batches.remove(0),
        n => panic!("{table}: {n} batches, expected one"),
    }
}

/// Writes `batches` (one after another) as `table` of the book in `dir`.
fn write_table(dir: &Path, table: &str, batches: &[RecordBatch]) {
    let file = File::create(dir.join(format!("{table}.parquet"))).expect("the table file creates");
    let mut writer = ArrowWriter::try_new(file, batches[0].schema(), None).expect("a writer");
    for batch in batches {
        writer.write(batch).expect("the batch writes");
    }
    writer.close().expect("the table file closes");
}

/// `batch` with column `name` replaced by `array` (of any type).
fn replace_column(batch: &RecordBatch, name: &str, array: ArrayRef) -> RecordBatch {
    let schema = batch.schema();
    let i = schema.index_of(name).expect("the column exists");
    let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
    fields[i] = Field::new(name, array.data_type().clone(), fields[i].is_nullable());
    let mut columns = batch.columns().to_vec();
    columns[i] = array;
    RecordBatch::try_new(
        Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone())),
        columns,
    )
    .expect("a batch")
}

fn strings(batch: &RecordBatch, name: &str) -> Vec<Option<String>> {
    batch
        .column_by_name(name)
        .expect("the column exists")
        .as_string::<i32>()
        .iter()
        .map(|v| v.map(str::to_string))
        .collect()
}

fn set_strings(batch: &RecordBatch, name: &str, values: Vec<Option<String>>) -> RecordBatch {
    replace_column(batch, name, Arc::new(StringArray::from(values)))
}

fn decimals(batch: &RecordBatch, name: &str) -> Decimal128Array {
    batch
        .column_by_name(name)
        .expect("the column exists")
        .as_primitive::<Decimal128Type>()
        .clone()
}

/// `batch` with the money column `name` as Float64, the way a careless export writes it.
fn money_as_float(batch: &RecordBatch, name: &str) -> RecordBatch {
    let money = decimals(batch, name);
    let unit = 10f64.powi(i32::from(money.scale()));
    let floats: Float64Array = money.iter().map(|v| v.map(|m| m as f64 / unit)).collect();
    replace_column(batch, name, Arc::new(floats))
}

/// `batch` with row `row` (0-based) of the money column `name` negated.
fn negate_money(batch: &RecordBatch, name: &str, row: usize) -> RecordBatch {
    let money = decimals(batch, name);
    let values: Vec<Option<i128>> = money
        .iter()
        .enumerate()
        .map(|(i, v)| if i == row { v.map(|m| -m) } else { v })
        .collect();
    let negated = Decimal128Array::from(values)
        .with_precision_and_scale(money.precision(), money.scale())
        .expect("the column's precision");
    replace_column(batch, name, Arc::new(negated))
}

// Plantings: each breaks the book in `dir` one way and returns what the report must say.

/// An error the report must hold: table, column, row (1-based), words of the message.
struct Planted {
    table: &'static str,
    column: Option<&'static str>,
    row: Option<u32>,
    needles: Vec<String>,
}

impl Planted {
    fn check(&self, report: &Report) {
        let needles: Vec<&str> = self.needles.iter().map(String::as_str).collect();
        expect_error(report, self.table, self.column, self.row, &needles);
    }
}

/// Appends a copy of the first service: its code is then used twice.
fn plant_duplicate_service(dir: &Path) -> Planted {
    let services = read_table(dir, "services", &[]);
    let n = services.num_rows();
    write_table(dir, "services", &[services.clone(), services.slice(0, 1)]);
    Planted {
        table: "services",
        column: Some("service_code"),
        row: Some(n as u32 + 1),
        needles: vec!["duplicates row 1".into()],
    }
}

/// Moves the first rate row to a zone no chart has.
fn plant_unknown_zone(dir: &Path) -> Planted {
    let rates = read_table(dir, "rates", &[]);
    let mut zones = strings(&rates, "zone");
    zones[0] = Some("NOWHERE9".to_string());
    write_table(dir, "rates", &[set_strings(&rates, "zone", zones)]);
    Planted {
        table: "rates",
        column: Some("zone"),
        row: Some(1),
        needles: vec!["NOWHERE9".into()],
    }
}

/// Makes the first positive surcharge amount negative.
fn plant_negative_surcharge(dir: &Path) -> Planted {
    let surcharges = read_table(dir, "surcharges", &[]);
    let row = decimals(&surcharges, "amount")
        .iter()
        .position(|v| v.is_some_and(|m| m > 0))
        .expect("a positive surcharge");
    write_table(
        dir,
        "surcharges",
        &[negate_money(&surcharges, "amount", row)],
    );
    Planted {
        table: "surcharges",
        column: Some("amount"),
        row: Some(row as u32 + 1),
        needles: vec!["negative".into()],
    }
}

/// Writes `customs.vat_percent` as Float64: a column type problem, found while reading.
fn plant_float_vat(dir: &Path) -> Planted {
    let customs = read_table(dir, "customs", &[]);
    write_table(dir, "customs", &[money_as_float(&customs, "vat_percent")]);
    Planted {
        table: "customs",
        column: Some("vat_percent"),
        row: None,
        needles: vec!["floating point".into()],
    }
}

// ---------------------------------------------------------------------------------------
// The demo book.

#[test]
fn demo_book_loads_without_errors() {
    let names: BTreeSet<&str> = demo().iter().map(|f| f.name.as_str()).collect();
    for file in BOOK_FILES {
        assert!(
            names.contains(file),
            "the demo book has no {file}, so the damage tests do not cover it"
        );
    }
    let dir = demo_copy();
    match load(dir.path(), &Limits::default(), "the demo book") {
        Ok(loaded) => assert!(
            !loaded.report.has_errors(),
            "the demo loads with errors:\n{}",
            listing(&loaded.report)
        ),
        Err(report) => panic!("the demo book is refused:\n{}", listing(&report)),
    }
}

// ---------------------------------------------------------------------------------------
// Damaged files.

#[test]
fn truncated_tables_are_refused_naming_the_table() {
    let tally = damage_every_table(truncations, true);
    tally.print("truncations");
    assert!(
        tally.panics_printed.is_empty(),
        "decoder panics reached stderr: {:?}",
        tally.panics_printed
    );
    assert_eq!(tally.refused_naming_table, tally.loads);
}

// The flips run as two tests, so the harness spreads them over two threads.

#[test]
fn footer_bit_flips_never_panic_and_refusals_name_a_table() {
    let tally = damage_every_table(footer_flips, false);
    tally.print("bit flips in the footer");
    assert!(
        tally.panics_printed.is_empty(),
        "decoder panics reached stderr: {:?}",
        tally.panics_printed
    );
    assert_eq!(
        tally.loads,
        FLIPS_PER_FILE * 11 / 20 * demo_tables().count()
    );
}

#[test]
fn bit_flips_anywhere_never_panic_and_refusals_name_a_table() {
    let tally = damage_every_table(anywhere_flips, false);
    tally.print("bit flips anywhere");
    assert!(
        tally.panics_printed.is_empty(),
        "decoder panics reached stderr: {:?}",
        tally.panics_printed
    );
    assert_eq!(tally.loads, FLIPS_PER_FILE * 9 / 20 * demo_tables().count());
}

#[test]
fn an_unreadable_table_is_reported_alone() {
    // A table that cannot be read is one problem, not one per zone or service that needs it
    // (a damaged rates.parquet of the demo used to add 120 warnings to `book check`).
    let intact = match load(demo_copy().path(), &Limits::default(), "the demo book") {
        Ok(loaded) => loaded.report,
        Err(report) => panic!("the demo book is refused:\n{}", listing(&report)),
    };
    for file in demo_tables() {
        let table = stem(&file.name);
        let dir = demo_copy();
        let half = &file.bytes[..file.bytes.len() / 2];
        std::fs::write(dir.path().join(&file.name), half).expect("the damaged file writes");
        let what = format!("{} truncated to half", file.name);
        let report = refused(dir.path(), &Limits::default(), &what);
        expect_error(&report, table, None, None, &[&file.name]);
        let consequences: Vec<String> = report
            .problems
            .iter()
            .filter(|p| p.table != table && !intact.problems.contains(p))
            .map(|p| p.to_string())
            .collect();
        assert!(
            consequences.is_empty(),
            "{what}: the report also lists what depends on it:\n{}",
            listing(&report)
        );
    }
}

// ---------------------------------------------------------------------------------------
// Limits.

#[test]
fn file_size_limit_refuses_the_demo_naming_each_file_and_size() {
    let dir = demo_copy();
    let limit = 100;
    let report = refused(
        dir.path(),
        &Limits {
            file_bytes_max: limit,
            ..Limits::default()
        },
        "the demo with file_bytes_max 100",
    );
    let mut oversized = 0;
    for file in demo().iter().filter(|f| f.bytes.len() as u64 > limit) {
        oversized += 1;
        let size = file.bytes.len().to_string();
        expect_error(
            &report,
            stem(&file.name),
            None,
            None,
            &[&file.name, &size, "100"],
        );
    }
    assert!(oversized > 0, "every demo file fits in {limit} bytes");
}

#[test]
fn row_limit_refuses_the_demo_naming_each_table_and_count() {
    let dir = demo_copy();
    let limit = 3;
    let report = refused(
        dir.path(),
        &Limits {
            table_rows_max: limit,
            ..Limits::default()
        },
        "the demo with table_rows_max 3",
    );
    let mut too_long = 0;
    for file in demo_tables() {
        let rows = ParquetRecordBatchReaderBuilder::try_new(
            File::open(dir.path().join(&file.name)).expect("opens"),
        )
        .expect("reads")
        .metadata()
        .file_metadata()
        .num_rows();
        if rows as u64 > limit {
            too_long += 1;
            let count = format!("{rows} rows");
            expect_error(
                &report,
                stem(&file.name),
                None,
                None,
                &[&count, "limit of 3"],
            );
        } else {
            assert!(
                !report
                    .errors()
                    .any(|p| p.table == stem(&file.name) && p.message.contains("rows, more than")),
                "{}: {rows} rows are within the limit of 3, but reported:\n{}",
                file.name,
                listing(&report)
            );
        }
    }
    assert!(too_long > 0, "no demo table has more than {limit} rows");
}

// ---------------------------------------------------------------------------------------
// Books broken on purpose.

#[test]
fn missing_required_column_is_named() {
    let dir = demo_copy();
    let mut rates = read_table(dir.path(), "rates", &[]);
    let i = rates.schema().index_of("per_kg").expect("rates has per_kg");
    rates.remove_column(i);
    write_table(dir.path(), "rates", &[rates]);
    let report = refused(dir.path(), &Limits::default(), "rates without per_kg");
    expect_error(&report, "rates", Some("per_kg"), None, &["missing"]);
}

#[test]
fn money_as_floating_point_is_refused() {
    let dir = demo_copy();
    let rates = read_table(dir.path(), "rates", &[]);
    write_table(dir.path(), "rates", &[money_as_float(&rates, "fixed")]);
    let report = refused(dir.path(), &Limits::default(), "rates.fixed as Float64");
    expect_error(&report, "rates", Some("fixed"), None, &["floating point"]);
}

/// `batch` with the integer column `name` as UTF-8 digit strings ("2000").
fn integers_as_text(batch: &RecordBatch, name: &str) -> RecordBatch {
    use arrow_array::types::{Int32Type, Int64Type};
    let column = batch.column_by_name(name).expect("the column exists");
    let text: StringArray = match column.data_type() {
        arrow_schema::DataType::Int32 => column
            .as_primitive::<Int32Type>()
            .iter()
            .map(|v| v.map(|v| v.to_string()))
            .collect(),
        arrow_schema::DataType::Int64 => column
            .as_primitive::<Int64Type>()
            .iter()
            .map(|v| v.map(|v| v.to_string()))
            .collect(),
        other => panic!("{name} is not an integer column: {other}"),
    };
    replace_column(batch, name, Arc::new(text))
}

#[test]
fn whole_number_as_text_is_refused_naming_table_and_column() {
    // rate-book.md, "Layout": text in a count, gram, millimetre or day column refuses the
    // book, even when every value is digits.
    for (table, column) in [("rates", "max_weight_g"), ("zones", "transit_days_max")] {
        let dir = demo_copy();
        let batch = read_table(dir.path(), table, &[]);
        write_table(dir.path(), table, &[integers_as_text(&batch, column)]);
        let report = refused(
            dir.path(),
            &Limits::default(),
            &format!("{table}.{column} as digit strings"),
        );
        expect_error(
            &report,
            table,
            Some(column),
            None,
            &["Utf8", "whole number"],
        );
    }
}

#[test]
fn duplicate_service_code_is_named_with_its_row() {
    let dir = demo_copy();
    let planted = plant_duplicate_service(dir.path());
    planted.check(&refused(
        dir.path(),
        &Limits::default(),
        "a duplicate service",
    ));
}

#[test]
fn rate_in_an_unknown_zone_is_named() {
    let dir = demo_copy();
    let planted = plant_unknown_zone(dir.path());
    planted.check(&refused(
        dir.path(),
        &Limits::default(),
        "a rate in an unknown zone",
    ));
}

#[test]
fn currency_without_fx_row_is_named_where_used() {
    let source = demo_source();
    // Every table with a currency column, and the currencies its rows use.
    let users: [(&str, Vec<&str>); 3] = [
        (
            "services",
            source
                .services
                .iter()
                .map(|r| r.currency.as_str())
                .collect(),
        ),
        (
            "customs",
            source.customs.iter().map(|r| r.currency.as_str()).collect(),
        ),
        (
            "prices",
            source
                .prices
                .iter()
                .filter_map(|r| r.currency.as_deref())
                .collect(),
        ),
    ];
    // A currency of a service that is not the base currency (which needs no row).
    let currency = users[0]
        .1
        .iter()
        .copied()
        .filter(|c| *c != source.base_currency)
        .min()
        .expect("a service priced in a foreign currency");
    let fx_row = source
        .fx
        .iter()
        .find(|r| r.currency == currency)
        .expect("the demo has its fx row")
        .row;
    let dir = demo_copy();
    let fx = read_table(dir.path(), "fx", &[fx_row as usize - 1]);
    write_table(dir.path(), "fx", &[fx]);
    let report = refused(
        dir.path(),
        &Limits::default(),
        &format!("fx without {currency}"),
    );
    let needle = format!("{currency} has no row in fx");
    for (table, currencies) in &users {
        if let Some(i) = currencies.iter().position(|c| *c == currency) {
            // Rows of `prices` without a currency are skipped above, so name no row there.
            let row = (*table != "prices").then_some(i as u32 + 1);
            expect_error(&report, table, Some("currency"), row, &[&needle]);
        }
    }
}

#[test]
fn negative_amount_is_named() {
    let dir = demo_copy();
    let planted = plant_negative_surcharge(dir.path());
    planted.check(&refused(
        dir.path(),
        &Limits::default(),
        "a negative surcharge",
    ));
}

#[test]
fn tied_price_rows_are_refused() {
    let dir = demo_copy();
    let prices = read_table(dir.path(), "prices", &[]);
    let n = prices.num_rows();
    assert!(n > 0, "the demo has no price rows");
    write_table(dir.path(), "prices", &[prices.clone(), prices.slice(0, 1)]);
    let report = refused(
        dir.path(),
        &Limits::default(),
        "two price rows for the same key",
    );
    expect_error(&report, "prices", None, Some(n as u32 + 1), &["row 1"]);
}

#[test]
fn missing_table_file_is_named() {
    let dir = demo_copy();
    std::fs::remove_file(dir.path().join("zones.parquet")).expect("zones.parquet removes");
    let report = refused(
        dir.path(),
        &Limits::default(),
        "a book without zones.parquet",
    );
    expect_error(&report, "zones", None, None, &["zones.parquet", "missing"]);
}

#[test]
fn garbage_book_toml_is_named() {
    let garbage: [(&str, &[u8]); 3] = [
        (
            "not TOML",
            b"name = \"demo\"\nbase_currency = [[[ this is not toml\n",
        ),
        ("not UTF-8", b"name = \"\xff\xfe\x00demo\"\n"),
        ("empty", b""),
    ];
    for (what, bytes) in garbage {
        let dir = demo_copy();
        std::fs::write(dir.path().join("book.toml"), bytes).expect("book.toml writes");
        let report = refused(dir.path(), &Limits::default(), &format!("book.toml {what}"));
        expect_error(&report, "book.toml", None, None, &[]);
    }
}

#[test]
fn every_planted_problem_is_reported() {
    let dir = demo_copy();
    // Four tables, two phases: a column type found while reading, three row checks.
    let planted = [
        plant_duplicate_service(dir.path()),
        plant_unknown_zone(dir.path()),
        plant_negative_surcharge(dir.path()),
        plant_float_vat(dir.path()),
    ];
    let report = refused(
        dir.path(),
        &Limits::default(),
        "four problems in four tables",
    );
    for p in &planted {
        p.check(&report);
    }
}

// ---------------------------------------------------------------------------------------
// Searching for damage the decoder panics on.

/// Decodes every row of `bytes` with the Parquet crate alone; `Err` with the panic message
/// when the decoder panics (errors it returns are fine: the file is refused cleanly).
fn decoder_panic(bytes: &[u8]) -> Result<(), String> {
    install_recording_hook();
    RECORDED_PANICS.with(|cell| *cell.borrow_mut() = Some(Vec::new()));
    let bytes = bytes::Bytes::copy_from_slice(bytes);
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let Ok(builder) = ParquetRecordBatchReaderBuilder::try_new(bytes) else {
            return;
        };
        let Ok(reader) = builder.build() else { return };
        for batch in reader {
            if batch.is_err() {
                return;
            }
        }
    }));
    let panics = RECORDED_PANICS
        .with(|cell| cell.borrow_mut().take())
        .unwrap_or_default();
    match outcome {
        Ok(()) => Ok(()),
        Err(_) => Err(panics.join("; ")),
    }
}

/// Single-bit flips of demo tables that make parquet 60.1.0's decoder panic, one per place
/// it panics (found by [`search_single_bit_flips_for_decoder_panics`], smallest file first):
/// file, byte, bit, and where the decoder panics. The demo book is byte-identical on every
/// run, so each recipe reproduces.
const DECODER_PANICS: [(&str, usize, u8, &str); 8] = [
    // A dictionary index past the end of its page (DECIMAL as FIXED_LEN_BYTE_ARRAY).
    ("fx.parquet", 190, 2, "fixed_len_byte_array.rs:432"),
    ("fx.parquet", 471, 7, "fixed_len_byte_array.rs:423"),
    ("fx.parquet", 12, 4, "byte_array.rs:391"),
    ("fx.parquet", 382, 0, "metadata/mod.rs:1043"),
    (
        "duty_rates.parquet",
        415,
        1,
        "byte_stream_split_decoder.rs:67",
    ),
    ("duty_rates.parquet", 877, 7, "decoder.rs:374"),
    ("prices.parquet", 546, 0, "bit_chunk_iterator.rs:235"),
    ("surcharges.parquet", 1061, 7, "bit_util.rs:392"),
];

#[test]
fn decoder_panics_are_silent_and_refuse_the_file_as_corrupt() {
    for (name, byte, bit, place) in DECODER_PANICS {
        let file = demo()
            .iter()
            .find(|f| f.name == name)
            .expect("a demo table");
        let mut bytes = file.bytes.clone();
        bytes[byte] ^= 1 << bit;
        let what = format!("{name} with bit {bit} of byte {byte} flipped");
        // The recipe still reaches the decoder's panic (else: refresh DECODER_PANICS).
        match decoder_panic(&bytes) {
            Err(panic) => assert!(panic.contains(place), "{what}: panics elsewhere: {panic}"),
            Ok(()) => panic!("{what}: the decoder no longer panics; refresh DECODER_PANICS"),
        }
        let dir = demo_copy();
        std::fs::write(dir.path().join(name), &bytes).expect("the damaged file writes");
        let (outcome, printed) = load_recording(dir.path(), &Limits::default(), &what);
        assert!(
            printed.is_empty(),
            "{what}: the panic reached stderr: {printed:?}"
        );
        match outcome {
            Ok(_) => panic!("{what}: accepted"),
            Err(report) => expect_error(&report, stem(name), None, None, &[name, CORRUPT]),
        }
    }
}

/// Flips every bit of every `stride`-th byte of every demo table, one at a time, and checks
/// that each copy the Parquet decoder panics on panics at one of the places
/// [`DECODER_PANICS`] knows (a new place means parquet changed: refresh the list). CI runs
/// a sample (every 97th byte, about 3,400 decodes); the exhaustive search (about 340,000
/// decodes, used to build the list) is the same test with
/// `CROSSDOCK_BITFLIP_STRIDE=1 cargo test -p crossdock-e2e --release --test loader_robustness -- --nocapture search_`.
#[test]
fn search_single_bit_flips_for_decoder_panics() {
    let stride: usize = std::env::var("CROSSDOCK_BITFLIP_STRIDE")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(97);
    let (mut decoded, mut found) = (0, 0);
    for file in demo_tables() {
        for offset in (0..file.bytes.len()).step_by(stride) {
            for bit in 0..8 {
                let mut bytes = file.bytes.clone();
                bytes[offset] ^= 1 << bit;
                decoded += 1;
                if let Err(panic) = decoder_panic(&bytes) {
                    found += 1;
                    eprintln!("{} byte {offset} bit {bit}: {panic}", file.name);
                    assert!(
                        DECODER_PANICS
                            .iter()
                            .any(|(_, _, _, place)| panic.contains(place)),
                        "{} byte {offset} bit {bit} panics at a place DECODER_PANICS does not list: {panic}",
                        file.name
                    );
                }
            }
        }
    }
    assert!(decoded > 1000, "the sample decoded only {decoded} copies");
    eprintln!("{found} of {decoded} single-bit flips make the decoder panic");
}
