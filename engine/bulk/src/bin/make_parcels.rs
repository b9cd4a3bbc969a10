//! `make_parcels`: writes a bulk input file of realistic parcels, for benchmarks and tests.
//!
//! ```text
//! make_parcels OUT.(parquet|csv) --n N [--book synthetic|demo] [--seed S] [--invalid-every K]
//! ```
//!
//! The parcels are `crossdock_bookgen::sample_parcels` (default synthetic spec) or
//! `demo_sample_parcels`, drawn in chunks of [`CHUNK_ROWS`] so that ten million rows never
//! sit in memory at once. Each row also gets, from a hash of the seed and its position, what
//! the samples do not draw: an id (`P0000000001`…), a customer on about half the rows (the
//! book's own customers and one it does not know), a ship date in the two weeks from
//! 2026-11-16, DDP on about one row in ten, tracking required on about one in seven, a
//! transit limit on about one in twenty, and a quote currency equal to the declared value's
//! on about half the rows that have one (the book's base currency otherwise).
//!
//! `--invalid-every K` spoils every K-th row (rows K, 2K, …), cycling through ten defects:
//! no weight, a lower-case destination, a negative value, an unknown value currency, a
//! quote currency the book has no rate for, an unknown battery class, an unknown incoterm,
//! a postcode with a `#`, a zero length, and a zero weight together with a lower-case origin.
//!
//! Deterministic: the same arguments give the same rows (and byte-identical files).

use arrow_array::builder::{BooleanBuilder, Date32Builder, Decimal128Builder, Int32Builder, StringBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use crossdock_bookgen::{SampleParcel, SyntheticSpec, demo_sample_parcels, sample_parcels};
use crossdock_engine::Date;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

const USAGE: &str = "usage: make_parcels OUT.(parquet|csv) --n N [--book synthetic|demo] [--seed S] [--invalid-every K]";

/// Rows drawn and written at a time.
const CHUNK_ROWS: usize = 1 << 16;
/// Scale of the `value_amount` DECIMAL column.
const VALUE_SCALE: u32 = 2;

const COLUMNS: [&str; 19] = [
    "id",
    "customer",
    "ship_date",
    "origin_country",
    "origin_postcode",
    "dest_country",
    "dest_postcode",
    "weight_g",
    "length_mm",
    "width_mm",
    "height_mm",
    "value_amount",
    "value_currency",
    "battery",
    "goods",
    "incoterm",
    "tracked_required",
    "max_transit_days",
    "currency",
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum BookKind {
    Synthetic,
    Demo,
}

struct Args {
    out: PathBuf,
    n: u64,
    book: BookKind,
    seed: u64,
    invalid_every: Option<u64>,
}

/// One output row, as text (CSV) and typed (Parquet) writers both need.
struct Row {
    id: String,
    customer: Option<String>,
    ship_date: Option<Date>,
    origin_country: String,
    origin_postcode: Option<String>,
    dest_country: String,
    dest_postcode: Option<String>,
    weight_g: Option<i32>,
    dims_mm: [Option<i32>; 3],
    /// Value in units of 10^-VALUE_SCALE, with its text as the sample wrote it.
    value: Option<(i128, String)>,
    value_currency: Option<String>,
    battery: Option<String>,
    goods: Option<String>,
    incoterm: Option<String>,
    tracked_required: Option<bool>,
    max_transit_days: Option<i32>,
    currency: Option<String>,
}

fn parse(args: &[String]) -> Result<Args, String> {
    let mut it = args.iter();
    let out = PathBuf::from(it.next().ok_or("OUT is required")?);
    let mut parsed = Args { out, n: 0, book: BookKind::Synthetic, seed: 1, invalid_every: None };
    let mut n = None;
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number = || value.parse::<u64>().map_err(|_| format!("{flag} {value:?} is not a whole number"));
        match flag.as_str() {
            "--n" => n = Some(number()?),
            "--seed" => parsed.seed = number()?,
            "--invalid-every" => parsed.invalid_every = Some(number()?).filter(|k| *k > 0),
            "--book" => {
                parsed.book = match value.as_str() {
                    "synthetic" => BookKind::Synthetic,
                    "demo" => BookKind::Demo,
                    other => return Err(format!("--book {other:?} is not synthetic or demo")),
                }
            }
            other => return Err(format!("unknown option {other}")),
        }
    }
    parsed.n = n.ok_or("--n is required")?;
    Ok(parsed)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args = match parse(&args) {
        Ok(args) => args,
        Err(problem) => {
            eprintln!("make_parcels: {problem}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match write(&args) {
        Ok(()) => {
            println!("wrote {} parcels to {}", args.n, args.out.display());
            ExitCode::SUCCESS
        }
        Err(problem) => {
            eprintln!("make_parcels: {}: {problem}", args.out.display());
            ExitCode::FAILURE
        }
    }
}

fn write(args: &Args) -> Result<(), String> {
    let ext = args.out.extension().map(|e| e.to_string_lossy().to_ascii_lowercase());
    let mut sink = match ext.as_deref() {
        Some("parquet") => Sink::parquet(&args.out)?,
        Some("csv") => Sink::csv(&args.out)?,
        _ => return Err("the name must end in .parquet or .csv".into()),
    };
    let spec = SyntheticSpec::default();
    let mut start = 0u64;
    let mut chunk_index = 0u64;
    while start < args.n {
        let len = (args.n - start).min(CHUNK_ROWS as u64) as usize;
        // Each chunk draws from its own stream, so chunks do not depend on each other.
        let chunk_seed = mix(args.seed ^ chunk_index.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let parcels = match args.book {
            BookKind::Synthetic => sample_parcels(&spec, len, chunk_seed),
            BookKind::Demo => demo_sample_parcels(len, chunk_seed),
        };
        let rows: Vec<Row> = parcels.into_iter().enumerate().map(|(i, p)| row(args, start + i as u64, p)).collect();
        sink.write(&rows)?;
        start += len as u64;
        chunk_index += 1;
    }
    sink.finish()
}

/// splitmix64's finaliser: a well-mixed 64-bit hash.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn row(args: &Args, index: u64, p: SampleParcel) -> Row {
    let h = mix(args.seed.wrapping_mul(31).wrapping_add(index));
    // Independent draws from slices of the hash.
    let draw = |shift: u32, modulo: u64| (h >> shift) % modulo;
    let customer = match (args.book, draw(0, 100)) {
        (_, 0..50) => None,
        (BookKind::Synthetic, 50..98) => Some(format!("cust-{:04}", 1 + draw(8, 50))),
        (BookKind::Demo, 50..70) => Some("acme".to_string()),
        (BookKind::Demo, 70..98) => Some("globex".to_string()),
        _ => Some("initech".to_string()),
    };
    let first_day = Date::from_ymd(2026, 11, 16).map_or(0, |d| d.days_since_epoch());
    let ship_date = Some(Date::from_days_since_epoch(first_day + draw(16, 14) as i32));
    let value = p.declared_value.as_ref().map(|(amount, _)| (scaled(amount), amount.clone()));
    let value_currency = p.declared_value.map(|(_, currency)| currency);
    let currency = value_currency.clone().filter(|_| draw(24, 2) == 0);
    let dims = p.dims_mm.map_or([None; 3], |d| d.map(|mm| i32::try_from(mm).ok()));
    let mut row = Row {
        id: format!("P{index:010}"),
        customer,
        ship_date,
        origin_country: p.origin_country,
        origin_postcode: None,
        dest_country: p.dest_country,
        dest_postcode: p.dest_postcode,
        weight_g: i32::try_from(p.weight_g).ok(),
        dims_mm: dims,
        value,
        value_currency,
        battery: p.battery,
        goods: (!p.goods.is_empty()).then(|| p.goods.join(",")),
        incoterm: match draw(32, 100) {
            0..10 => Some("DDP".to_string()),
            10..15 => Some("DDU".to_string()),
            _ => None,
        },
        tracked_required: match draw(40, 100) {
            0..14 => Some(true),
            14..20 => Some(false),
            _ => None,
        },
        max_transit_days: (draw(48, 20) == 0).then(|| 8 + draw(52, 13) as i32),
        currency,
    };
    if let Some(k) = args.invalid_every
        && (index + 1).is_multiple_of(k)
    {
        spoil(&mut row, (index + 1) / k);
    }
    row
}

/// Gives the row one of ten defects, by `which`.
fn spoil(row: &mut Row, which: u64) {
    match which % 10 {
        0 => row.weight_g = None,
        1 => row.dest_country = row.dest_country.to_ascii_lowercase(),
        2 => {
            row.value = Some((-500, "-5.00".into()));
            row.value_currency = Some("USD".into());
        }
        3 => {
            row.value = Some((4_500, "45.00".into()));
            row.value_currency = Some("XYZ".into());
        }
        4 => row.currency = Some("CHF".into()),
        5 => row.battery = Some("PI999".into()),
        6 => row.incoterm = Some("FOB".into()),
        7 => row.dest_postcode = Some("10115#".into()),
        8 => row.dims_mm = [Some(0), Some(100), Some(100)],
        _ => {
            row.weight_g = Some(0);
            row.origin_country = row.origin_country.to_ascii_lowercase();
        }
    }
}

/// A sample's decimal string ("45.00", "1240") in units of 10^-VALUE_SCALE, without floats.
fn scaled(amount: &str) -> i128 {
    let (int, frac) = amount.split_once('.').unwrap_or((amount, ""));
    let mut units: i128 = int.parse().unwrap_or(0);
    let mut digits = frac.chars();
    for _ in 0..VALUE_SCALE {
        let d = digits.next().and_then(|c| c.to_digit(10)).unwrap_or(0);
        units = units * 10 + i128::from(d);
    }
    units
}

enum Sink {
    Parquet { writer: ArrowWriter<File>, schema: SchemaRef },
    Csv(csv::Writer<BufWriter<File>>),
}

impl Sink {
    fn parquet(path: &PathBuf) -> Result<Sink, String> {
        let text = |name: &str, nullable: bool| Field::new(name, DataType::Utf8, nullable);
        let int = |name: &str| Field::new(name, DataType::Int32, true);
        let schema = Arc::new(Schema::new(vec![
            text("id", false),
            text("customer", true),
            Field::new("ship_date", DataType::Date32, true),
            text("origin_country", false),
            text("origin_postcode", true),
            text("dest_country", false),
            text("dest_postcode", true),
            int("weight_g"),
            int("length_mm"),
            int("width_mm"),
            int("height_mm"),
            Field::new("value_amount", DataType::Decimal128(18, VALUE_SCALE as i8), true),
            text("value_currency", true),
            text("battery", true),
            text("goods", true),
            text("incoterm", true),
            Field::new("tracked_required", DataType::Boolean, true),
            int("max_transit_days"),
            text("currency", true),
        ]));
        let file = File::create(path).map_err(|e| e.to_string())?;
        let props = WriterProperties::builder().set_compression(Compression::SNAPPY).build();
        let writer = ArrowWriter::try_new(file, schema.clone(), Some(props)).map_err(|e| e.to_string())?;
        Ok(Sink::Parquet { writer, schema })
    }

    fn csv(path: &PathBuf) -> Result<Sink, String> {
        let file = File::create(path).map_err(|e| e.to_string())?;
        let mut writer = csv::Writer::from_writer(BufWriter::with_capacity(1 << 16, file));
        writer.write_record(COLUMNS).map_err(|e| e.to_string())?;
        Ok(Sink::Csv(writer))
    }

    fn write(&mut self, rows: &[Row]) -> Result<(), String> {
        match self {
            Sink::Parquet { writer, schema } => {
                let batch = batch(schema, rows).map_err(|e| e.to_string())?;
                writer.write(&batch).map_err(|e| e.to_string())
            }
            Sink::Csv(writer) => {
                for r in rows {
                    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
                    let num = |v: Option<i32>| v.map(|x| x.to_string()).unwrap_or_default();
                    let record = [
                        r.id.clone(),
                        opt(&r.customer),
                        r.ship_date.map(|d| d.to_string()).unwrap_or_default(),
                        r.origin_country.clone(),
                        opt(&r.origin_postcode),
                        r.dest_country.clone(),
                        opt(&r.dest_postcode),
                        num(r.weight_g),
                        num(r.dims_mm[0]),
                        num(r.dims_mm[1]),
                        num(r.dims_mm[2]),
                        r.value.as_ref().map(|(_, text)| text.clone()).unwrap_or_default(),
                        opt(&r.value_currency),
                        opt(&r.battery),
                        opt(&r.goods),
                        opt(&r.incoterm),
                        r.tracked_required.map(|b| b.to_string()).unwrap_or_default(),
                        num(r.max_transit_days),
                        opt(&r.currency),
                    ];
                    writer.write_record(&record).map_err(|e| e.to_string())?;
                }
                Ok(())
            }
        }
    }

    fn finish(self) -> Result<(), String> {
        match self {
            Sink::Parquet { writer, .. } => writer.close().map(|_| ()).map_err(|e| e.to_string()),
            Sink::Csv(mut writer) => writer.flush().map_err(|e| e.to_string()),
        }
    }
}

fn batch(schema: &SchemaRef, rows: &[Row]) -> Result<RecordBatch, arrow_schema::ArrowError> {
    let n = rows.len();
    let strings = |get: &dyn Fn(&Row) -> Option<&str>| -> ArrayRef {
        let mut b = StringBuilder::with_capacity(n, n * 8);
        for r in rows {
            b.append_option(get(r));
        }
        Arc::new(b.finish())
    };
    let ints = |get: &dyn Fn(&Row) -> Option<i32>| -> ArrayRef {
        let mut b = Int32Builder::with_capacity(n);
        for r in rows {
            b.append_option(get(r));
        }
        Arc::new(b.finish())
    };
    let mut dates = Date32Builder::with_capacity(n);
    let mut values = Decimal128Builder::with_capacity(n).with_precision_and_scale(18, VALUE_SCALE as i8)?;
    let mut tracked = BooleanBuilder::with_capacity(n);
    for r in rows {
        dates.append_option(r.ship_date.map(|d| d.days_since_epoch()));
        values.append_option(r.value.as_ref().map(|(units, _)| *units));
        tracked.append_option(r.tracked_required);
    }
    let columns: Vec<ArrayRef> = vec![
        strings(&|r| Some(&r.id)),
        strings(&|r| r.customer.as_deref()),
        Arc::new(dates.finish()),
        strings(&|r| Some(&r.origin_country)),
        strings(&|r| r.origin_postcode.as_deref()),
        strings(&|r| Some(&r.dest_country)),
        strings(&|r| r.dest_postcode.as_deref()),
        ints(&|r| r.weight_g),
        ints(&|r| r.dims_mm[0]),
        ints(&|r| r.dims_mm[1]),
        ints(&|r| r.dims_mm[2]),
        Arc::new(values.finish()),
        strings(&|r| r.value_currency.as_deref()),
        strings(&|r| r.battery.as_deref()),
        strings(&|r| r.goods.as_deref()),
        strings(&|r| r.incoterm.as_deref()),
        Arc::new(tracked.finish()),
        ints(&|r| r.max_transit_days),
        strings(&|r| r.currency.as_deref()),
    ];
    RecordBatch::try_new(schema.clone(), columns)
}
