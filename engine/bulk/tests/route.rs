//! Bulk jobs on the demo book: every row out once and in order, routed rows equal to the
//! engine's own first option, reasons for unroutable rows, problems for invalid ones, the
//! same rows whatever the formats, and failed jobs that leave nothing behind.

use arrow_array::builder::{
    BooleanBuilder, Date32Builder, Decimal128Builder, Float64Builder, Int16Builder, Int64Builder, StringBuilder, StringDictionaryBuilder, UInt8Builder,
};
use arrow_array::cast::AsArray;
use arrow_array::types::{Int32Type, Int64Type};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use crossdock_bulk::{BulkError, RouteOptions, Status, route_csv_record, route_file, route_ndjson_line};
use crossdock_engine::{Battery, Book, Country, Currency, Date, Decimal, Incoterm, Money, Postcode, Quote, Request, Scratch};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::file::properties::WriterProperties;
use std::collections::BTreeSet;
use std::fs::File;
use std::path::Path;
use std::str::FromStr;
use std::sync::{Arc, OnceLock};

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

/// One input row as text, by column name; absent columns are empty.
#[derive(Clone, Debug, Default)]
struct Row(Vec<(&'static str, String)>);

impl Row {
    fn get(&self, column: &str) -> Option<&str> {
        self.0.iter().find(|(c, _)| *c == column).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
    }

    fn set(mut self, column: &'static str, value: &str) -> Row {
        self.0.retain(|(c, _)| *c != column);
        self.0.push((column, value.to_string()));
        self
    }
}

/// What a row should come out as.
#[derive(Clone, Debug)]
enum Expect {
    /// Valid: routed or unroutable, as the engine says.
    Valid,
    /// Invalid, with these fragments in `problems`.
    Invalid(Vec<&'static str>),
}

fn today() -> Date {
    Date::parse("2026-11-24").unwrap()
}

fn opts() -> RouteOptions {
    // Small batches, so that a few hundred rows cross several batch boundaries.
    RouteOptions { batch_rows: 64, threads: Some(2), ..RouteOptions::new(today()) }
}

/// The committed demo book, or the generator's (which writes the same files) when the
/// directory has not been written yet.
fn book() -> &'static Book {
    static BOOK: OnceLock<(Book, Option<tempfile::TempDir>)> = OnceLock::new();
    &BOOK
        .get_or_init(|| {
            let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rate-tables/demo");
            let (dir, temp) = if committed.join("book.toml").exists() {
                (committed, None)
            } else {
                let temp = tempfile::tempdir().unwrap();
                crossdock_bookgen::write_demo(temp.path()).unwrap();
                (temp.path().to_path_buf(), Some(temp))
            };
            let loaded = crossdock_tables::load_dir(&dir, &crossdock_tables::Limits::default()).unwrap_or_else(|r| panic!("{r:?}"));
            (loaded.book, temp)
        })
        .0
}

/// Demo sample parcels with varied extras, plus crafted unroutable and invalid rows.
fn rows() -> Vec<(Row, Expect)> {
    let mut out = Vec::new();
    for (i, p) in crossdock_bookgen::demo_sample_parcels(400, 11).into_iter().enumerate() {
        let mut row = Row::default()
            .set("id", &format!("s{i}"))
            .set("origin_country", &p.origin_country)
            .set("dest_country", &p.dest_country)
            .set("weight_g", &p.weight_g.to_string());
        if let Some(pc) = &p.dest_postcode {
            row = row.set("dest_postcode", pc);
        }
        if let Some([l, w, h]) = p.dims_mm {
            row = row.set("length_mm", &l.to_string()).set("width_mm", &w.to_string()).set("height_mm", &h.to_string());
        }
        if let Some((amount, currency)) = &p.declared_value {
            row = row.set("value_amount", amount).set("value_currency", currency);
            if i % 3 == 0 {
                row = row.set("currency", currency);
            }
        }
        if let Some(b) = &p.battery {
            row = row.set("battery", b);
        }
        if !p.goods.is_empty() {
            row = row.set("goods", &p.goods.join(","));
        }
        row = match i % 7 {
            0 => row.set("customer", "acme"),
            1 => row.set("customer", "globex").set("incoterm", "DDP"),
            2 => row.set("tracked_required", "true").set("ship_date", "2026-12-01"),
            3 => row.set("max_transit_days", "9").set("currency", "JPY"),
            4 => row.set("ship_date", "2026-05-01").set("tracked_required", "false"),
            _ => row,
        };
        out.push((row, Expect::Valid));
        // Every 25th sample is followed by a crafted row.
        if i % 25 == 24 {
            out.push(crafted(i / 25, &out.last().unwrap().0));
        }
    }
    out
}

/// The crafted rows: variations of a valid row `base`.
fn crafted(which: usize, base: &Row) -> (Row, Expect) {
    let id = format!("c{which}");
    let row = base.clone().set("id", &id);
    match which {
        0 => (row.set("weight_g", ""), Expect::Invalid(vec!["weight_g: is required"])),
        1 => (row.set("dest_country", "de"), Expect::Invalid(vec!["dest_country: \"de\" is not an upper-case ISO 3166-1 alpha-2 country code"])),
        2 => (
            row.set("value_amount", "-5.00").set("value_currency", "USD"),
            Expect::Invalid(vec!["value_amount: \"-5.00\" is not a non-negative decimal string such as \"12.50\""]),
        ),
        3 => (
            row.set("value_amount", "5.00").set("value_currency", "XYZ"),
            Expect::Invalid(vec!["value_currency: \"XYZ\" is not an upper-case ISO 4217 currency code"]),
        ),
        4 => (row.set("currency", "CHF"), Expect::Invalid(vec!["currency: CHF is not a currency of rate book"])),
        5 => (row.set("battery", "PI999"), Expect::Invalid(vec!["battery: \"PI999\" is not none or one of PI965"])),
        6 => (row.set("incoterm", "FOB"), Expect::Invalid(vec!["incoterm: must be DDU or DDP"])),
        7 => (row.set("dest_postcode", "10115#"), Expect::Invalid(vec!["dest_postcode: \"10115#\" may hold only letters, digits, spaces and dashes"])),
        8 => (
            row.set("weight_g", "0").set("origin_country", "cn").set("length_mm", "0").set("width_mm", "10").set("height_mm", "10"),
            Expect::Invalid(vec![
                "origin_country: \"cn\" is not an upper-case ISO 3166-1 alpha-2 country code",
                "weight_g: must be a whole number of grams above 0",
                "length_mm: must be a whole number of millimetres above 0",
            ]),
        ),
        9 => (row.set("value_amount", "12.00").set("value_currency", ""), Expect::Invalid(vec!["value_currency: is required"])),
        // Unroutable: too heavy for every service, a destination no chart serves, too slow.
        10 => (row.set("weight_g", "500000"), Expect::Valid),
        11 => (row.set("dest_country", "AQ").set("dest_postcode", ""), Expect::Valid),
        12 => (row.set("max_transit_days", "0"), Expect::Valid),
        13 => (row.set("id", ""), Expect::Invalid(vec!["id: is required"])),
        _ => (row.set("ship_date", "2026-11-24").set("goods", "magnet,liquid"), Expect::Valid),
    }
}

fn write_csv(path: &Path, rows: &[(Row, Expect)], columns: &[&str]) {
    let mut w = csv::Writer::from_path(path).unwrap();
    w.write_record(columns).unwrap();
    for (row, _) in rows {
        w.write_record(columns.iter().map(|c| row.get(c).unwrap_or(""))).unwrap();
    }
    w.flush().unwrap();
}

/// The rows as an analyst's Parquet file might type them: strings, integers of several
/// widths, DECIMAL money, a boolean flag, and an extra column the job ignores.
fn write_parquet(path: &Path, rows: &[(Row, Expect)], row_group_rows: usize) {
    let text = |column: &str| -> ArrayRef {
        let mut b = StringBuilder::new();
        for (row, _) in rows {
            b.append_option(row.get(column));
        }
        Arc::new(b.finish())
    };
    let mut weight = Int64Builder::new();
    let mut length = Int16Builder::new();
    let mut width = Int64Builder::new();
    let mut height = Float64Builder::new();
    let mut value = Decimal128Builder::new().with_precision_and_scale(12, 2).unwrap();
    let mut tracked = BooleanBuilder::new();
    let mut transit = UInt8Builder::new();
    let mut customer = StringDictionaryBuilder::<Int32Type>::new();
    for (row, _) in rows {
        let int = |c: &str| row.get(c).map(|v| v.parse::<i64>().unwrap());
        weight.append_option(int("weight_g"));
        length.append_option(int("length_mm").map(|v| v as i16));
        width.append_option(int("width_mm"));
        height.append_option(int("height_mm").map(|v| v as f64));
        value.append_option(row.get("value_amount").map(|v| (Decimal::from_str(v).unwrap() * Decimal::from(100)).try_into().unwrap()));
        tracked.append_option(row.get("tracked_required").map(|v| v == "true"));
        transit.append_option(int("max_transit_days").map(|v| v as u8));
        customer.append_option(row.get("customer"));
    }
    let mut fields = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    let mut push = |name: &str, array: ArrayRef| {
        fields.push(Field::new(name, array.data_type().clone(), true));
        columns.push(array);
    };
    push("note", text("id"));
    for name in COLUMNS {
        let array: ArrayRef = match name {
            "weight_g" => Arc::new(weight.finish()),
            "length_mm" => Arc::new(length.finish()),
            "width_mm" => Arc::new(width.finish()),
            "height_mm" => Arc::new(height.finish()),
            "value_amount" => Arc::new(value.finish()),
            "tracked_required" => Arc::new(tracked.finish()),
            "max_transit_days" => Arc::new(transit.finish()),
            "customer" => Arc::new(customer.finish()),
            _ => text(name),
        };
        push(name, array);
    }
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap();
    let props = WriterProperties::builder().set_max_row_group_row_count(Some(row_group_rows)).build();
    let mut writer = ArrowWriter::try_new(File::create(path).unwrap(), batch.schema(), Some(props)).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
}

/// An output row: the 13 output columns as text (empty for null).
type OutRow = Vec<String>;

fn read_output(path: &Path) -> Vec<OutRow> {
    if path.extension().unwrap() == "csv" {
        let mut r = csv::Reader::from_path(path).unwrap();
        assert_eq!(r.headers().unwrap().iter().collect::<Vec<_>>(), crossdock_bulk::csv_header_line().trim_end().split(',').collect::<Vec<_>>());
        return r.records().map(|rec| rec.unwrap().iter().map(str::to_string).collect()).collect();
    }
    let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap()).unwrap().build().unwrap();
    let mut out = Vec::new();
    for batch in reader {
        let batch = batch.unwrap();
        for row in 0..batch.num_rows() {
            let cells = batch
                .columns()
                .iter()
                .map(|col| {
                    if col.is_null(row) {
                        return String::new();
                    }
                    match col.data_type() {
                        DataType::Utf8 => col.as_string::<i32>().value(row).to_string(),
                        DataType::Int64 => col.as_primitive::<Int64Type>().value(row).to_string(),
                        DataType::Int32 => col.as_primitive::<Int32Type>().value(row).to_string(),
                        other => panic!("unexpected output type {other}"),
                    }
                })
                .collect();
            out.push(cells);
        }
    }
    out
}

/// The request a valid row stands for, built directly (not through the crate's parser).
fn request(row: &Row) -> Request {
    let country = |c: &str| Country::parse(row.get(c).unwrap()).unwrap();
    let currency = row.get("currency").map_or(book().base_currency(), |c| Currency::from_code(c).unwrap());
    let ship_date = row.get("ship_date").map_or(today(), |d| Date::parse(d).unwrap());
    let weight: u32 = row.get("weight_g").unwrap().parse().unwrap();
    let mut req = Request::new(country("origin_country"), country("dest_country"), weight, currency, ship_date);
    req.customer = row.get("customer").map(str::to_string);
    req.dest_postcode = row.get("dest_postcode").and_then(|p| Postcode::normalise(p).unwrap());
    req.dims_mm = ["length_mm", "width_mm", "height_mm"].map(|c| row.get(c).map(|v| v.parse().unwrap()));
    req.declared_value = row
        .get("value_amount")
        .map(|a| Money { amount: Decimal::from_str(a).unwrap(), currency: Currency::from_code(row.get("value_currency").unwrap()).unwrap() });
    req.battery = row.get("battery").map(|b| Battery::parse(b).unwrap());
    req.goods = row.get("goods").map(|g| g.split(',').map(str::to_string).collect()).unwrap_or_default();
    req.incoterm = row.get("incoterm").map_or(Incoterm::Ddu, |i| Incoterm::parse(i).unwrap());
    req.require_tracked = row.get("tracked_required") == Some("true");
    req.max_transit_days = row.get("max_transit_days").map(|d| d.parse().unwrap());
    req
}

/// Checks every output row against the engine; returns how many rows had each status.
fn check_against_engine(rows: &[(Row, Expect)], out: &[OutRow]) -> [usize; 3] {
    let book = book();
    assert_eq!(out.len(), rows.len(), "one output row per input row");
    let mut counts = [0; 3];
    for ((row, expect), got) in rows.iter().zip(out) {
        assert_eq!(got.len(), 13);
        let id = row.get("id").unwrap_or("");
        assert_eq!(got[0], id, "rows stay in input order");
        match expect {
            Expect::Invalid(fragments) => {
                counts[2] += 1;
                assert_eq!(got[1], "invalid", "{id}: {got:?}");
                assert!(got[2..12].iter().all(String::is_empty), "{id}: {got:?}");
                for fragment in fragments {
                    assert!(got[12].contains(fragment), "{id}: {:?} lacks {fragment:?}", got[12]);
                }
                assert_eq!(got[12].split("; ").count(), fragments.len(), "{id}: {}", got[12]);
            }
            Expect::Valid => {
                let mut req = request(row);
                req.explain = false;
                let quote = book.quote(&req).unwrap();
                match quote.options.first() {
                    Some(best) => {
                        counts[0] += 1;
                        let service = book.service(best.service);
                        let c = quote.currency;
                        let want = [
                            id.to_string(),
                            "routed".into(),
                            service.code.to_string(),
                            service.carrier.to_string(),
                            c.code().to_string(),
                            c.format_minor(best.sell),
                            c.format_minor(best.cost),
                            c.format_minor(best.margin),
                            best.chargeable_weight_g.to_string(),
                            best.transit_days_min.to_string(),
                            best.transit_days_max.to_string(),
                            String::new(),
                            String::new(),
                        ];
                        assert_eq!(got, &want.to_vec(), "{id}");
                    }
                    None => {
                        counts[1] += 1;
                        assert_eq!(got[1], "unroutable", "{id}: {got:?}");
                        assert_eq!(got[4], quote.currency.code());
                        assert!(got[2].is_empty() && got[5].is_empty() && got[12].is_empty());
                        req.explain = true;
                        let explained = book.quote(&req).unwrap();
                        let want: Vec<String> = explained
                            .excluded
                            .iter()
                            .flat_map(|e| e.reasons.iter().map(move |r| format!("{}:{}", book.service(e.service).code, r.code())))
                            .collect();
                        assert_eq!(got[11], want.join(";"), "{id}");
                        let services: BTreeSet<&str> = got[11].split(';').map(|p| p.split(':').next().unwrap()).collect();
                        assert_eq!(services.len(), book.services().len(), "{id}: every service has its reasons");
                    }
                }
            }
        }
    }
    counts
}

fn route(input: &Path, output: &Path) -> crossdock_bulk::RouteSummary {
    let mut calls = Vec::new();
    let summary = route_file(book(), input, output, &opts(), &mut |p| calls.push(p)).unwrap_or_else(|e| panic!("{e}"));
    let last = calls.last().unwrap();
    assert_eq!(last.rows_total, Some(summary.rows));
    assert_eq!(last.rows_done, summary.rows);
    assert!(calls.windows(2).all(|w| w[0].rows_done <= w[1].rows_done));
    summary
}

#[test]
fn csv_and_parquet_jobs_route_every_row_like_the_engine() {
    let rows = rows();
    let dir = tempfile::tempdir().unwrap();
    let (csv_in, parquet_in) = (dir.path().join("parcels.csv"), dir.path().join("parcels.parquet"));
    write_csv(&csv_in, &rows, &COLUMNS);
    write_parquet(&parquet_in, &rows, 100);

    let mut outputs = Vec::new();
    for (input, output) in [(&csv_in, "a.csv"), (&csv_in, "b.parquet"), (&parquet_in, "c.csv"), (&parquet_in, "d.parquet")] {
        let output = dir.path().join(output);
        let summary = route(input, &output);
        let out = read_output(&output);
        let counts = check_against_engine(&rows, &out);
        assert_eq!([summary.routed, summary.unroutable, summary.invalid], counts.map(|c| c as u64));
        assert_eq!(summary.rows, rows.len() as u64);
        assert!(counts[0] > 300 && counts[1] >= 3 && counts[2] >= 10, "{counts:?}");
        outputs.push(out);
    }
    // CSV→Parquet and Parquet→CSV (and the rest) give the same rows.
    for other in &outputs[1..] {
        assert_eq!(other, &outputs[0]);
    }
    // Nothing but the outputs is left in the directory.
    let names: BTreeSet<String> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["a.csv", "b.parquet", "c.csv", "d.parquet", "parcels.csv", "parcels.parquet"].map(String::from).into());
}

#[test]
fn the_http_row_functions_give_the_file_s_rows() {
    let rows = rows();
    let dir = tempfile::tempdir().unwrap();
    let (input, output) = (dir.path().join("in.csv"), dir.path().join("out.csv"));
    write_csv(&input, &rows, &COLUMNS);
    route(&input, &output);
    let file_lines: Vec<String> = std::fs::read_to_string(&output).unwrap().lines().skip(1).map(|l| format!("{l}\n")).collect();

    let headers = csv::StringRecord::from(COLUMNS.to_vec());
    let (mut scratch, mut quote) = (Scratch::default(), Quote::new(book().base_currency()));
    for ((row, _), file_line) in rows.iter().zip(&file_lines) {
        let record = csv::StringRecord::from(COLUMNS.iter().map(|c| row.get(c).unwrap_or("")).collect::<Vec<_>>());
        let from_csv = route_csv_record(book(), &headers, &record, &opts(), &mut scratch, &mut quote);
        assert_eq!(&from_csv.to_csv_line(), file_line);

        // The same row as NDJSON: whole numbers as numbers, the rest as strings.
        let mut object = serde_json::Map::new();
        for c in COLUMNS {
            let Some(v) = row.get(c) else { continue };
            let numeric = ["weight_g", "length_mm", "width_mm", "height_mm", "max_transit_days"].contains(&c);
            let value = match (numeric, v.parse::<u64>()) {
                (true, Ok(n)) => serde_json::Value::from(n),
                _ if c == "tracked_required" => serde_json::Value::Bool(v == "true"),
                _ => serde_json::Value::from(v),
            };
            object.insert(c.to_string(), value);
        }
        let line = serde_json::Value::Object(object).to_string();
        let from_json = route_ndjson_line(book(), &line, &opts(), &mut scratch, &mut quote);
        assert_eq!(from_json.outcome, from_csv.outcome, "{line}");
        assert_eq!(from_json.id, from_csv.id);
        let rendered: serde_json::Value = serde_json::from_str(&from_json.to_json_line()).unwrap();
        assert_eq!(rendered["status"], from_json.status().code());
    }

    let garbage = route_ndjson_line(book(), "{\"id\": ", &opts(), &mut scratch, &mut quote);
    assert_eq!(garbage.status(), Status::Invalid);
    let array = route_ndjson_line(book(), "[1]", &opts(), &mut scratch, &mut quote);
    assert!(array.to_csv_line().contains("must be a JSON object, not an array"), "{}", array.to_csv_line());
    assert!(crossdock_bulk::check_csv_header(&csv::StringRecord::from(vec!["id", "origin_country", "dest_country"])).unwrap_err().contains("weight_g"));
    assert!(crossdock_bulk::check_csv_header(&headers).is_ok());
}

/// The bulk rules are crossdock-api's: the same bad value gets the same message, under the
/// flattened field name.
#[test]
fn problems_read_like_the_json_api_s() {
    let defaults = crossdock_api::Defaults { today: today(), customer: None, explain: false };
    let base = serde_json::json!({
        "origin": {"country": "CN"}, "destination": {"country": "DE", "postcode": "10115"},
        "parcel": {"weight_g": 700, "length_mm": 300, "width_mm": 200, "height_mm": 100},
        "declared_value": {"amount": "45.00", "currency": "USD"}, "currency": "EUR",
    });
    let flat = serde_json::json!({
        "id": "x", "origin_country": "CN", "dest_country": "DE", "dest_postcode": "10115", "weight_g": 700,
        "length_mm": 300, "width_mm": 200, "height_mm": 100, "value_amount": "45.00", "value_currency": "USD", "currency": "EUR",
    });
    // (API pointer, API value, bulk column, bulk value)
    let cases: Vec<(&str, serde_json::Value, &str, serde_json::Value)> = vec![
        ("/parcel/weight_g", 0.into(), "weight_g", 0.into()),
        ("/parcel/weight_g", 2_000_000_000u64.into(), "weight_g", 2_000_000_000u64.into()),
        ("/parcel/weight_g", 7.5.into(), "weight_g", 7.5.into()),
        ("/parcel/length_mm", 0.into(), "length_mm", 0.into()),
        ("/parcel/height_mm", 2_000_000.into(), "height_mm", 2_000_000.into()),
        ("/destination/country", "de".into(), "dest_country", "de".into()),
        ("/origin/country", "XX".into(), "origin_country", "XX".into()),
        ("/destination/postcode", "10115#".into(), "dest_postcode", "10115#".into()),
        ("/declared_value/amount", "-5.00".into(), "value_amount", "-5.00".into()),
        ("/declared_value/amount", "1e3".into(), "value_amount", "1e3".into()),
        ("/declared_value/amount", 45.into(), "value_amount", 45.into()),
        ("/declared_value/currency", "usd".into(), "value_currency", "usd".into()),
        ("/currency", "XYZ".into(), "currency", "XYZ".into()),
        ("/battery", "PI999".into(), "battery", "PI999".into()),
        ("/incoterm", "FOB".into(), "incoterm", "FOB".into()),
        ("/ship_date", "2026-02-30".into(), "ship_date", "2026-02-30".into()),
        ("/customer", "c".repeat(600).into(), "customer", "c".repeat(600).into()),
        ("/require/tracked", 1.into(), "tracked_required", 1.into()),
        ("/require/max_transit_days", (-1).into(), "max_transit_days", (-1).into()),
    ];
    let (mut scratch, mut quote) = (Scratch::default(), Quote::new(book().base_currency()));
    for (pointer, api_value, column, bulk_value) in cases {
        let mut api = base.clone();
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        let target = match parent.strip_prefix('/') {
            None => &mut api,
            Some(object) => api.as_object_mut().unwrap().entry(object).or_insert_with(|| serde_json::json!({})),
        };
        target[key] = api_value;
        let api_problems = crossdock_api::parse_request(&api, &defaults).expect_err(pointer);
        assert_eq!(api_problems.len(), 1, "{pointer}: {api_problems:?}");

        let mut bulk = flat.clone();
        bulk[column] = bulk_value;
        let row = route_ndjson_line(book(), &bulk.to_string(), &opts(), &mut scratch, &mut quote);
        let crossdock_bulk::Outcome::Invalid { problems } = &row.outcome else { panic!("{column}: {row:?}") };
        assert_eq!(problems, &format!("{column}: {}", api_problems[0].problem), "{pointer}");
    }

    // A quote currency the book has no rate for: the API's message from the book's check.
    let mut api = base.clone();
    api["currency"] = "CHF".into();
    let answer = crossdock_api::answer_line(book(), &api.to_string(), &defaults, &mut scratch, &mut quote);
    let body: serde_json::Value = serde_json::from_str(answer.body()).unwrap();
    let mut bulk = flat.clone();
    bulk["currency"] = "CHF".into();
    let row = route_ndjson_line(book(), &bulk.to_string(), &opts(), &mut scratch, &mut quote);
    let crossdock_bulk::Outcome::Invalid { problems } = &row.outcome else { panic!("{row:?}") };
    assert_eq!(problems, &format!("currency: {}", body["problems"][0]["problem"].as_str().unwrap()));
}

#[test]
fn rows_only_csv_can_spell_are_flagged_not_fatal() {
    let good = Row::default().set("origin_country", "CN").set("dest_country", "DE").set("weight_g", "700");
    let rows = vec![
        (good.clone().set("id", "a").set("weight_g", "abc"), Expect::Invalid(vec!["weight_g: must be a whole number of grams above 0"])),
        (good.clone().set("id", "b").set("ship_date", "2026-02-30"), Expect::Invalid(vec!["ship_date: must be a date written YYYY-MM-DD"])),
        (good.clone().set("id", "c").set("tracked_required", "yes"), Expect::Invalid(vec!["tracked_required: must be true or false, not \"yes\""])),
        (good.clone().set("id", "d").set("goods", "magnet,,liquid"), Expect::Invalid(vec!["goods[1]: must be a category name of 1 to 64 characters"])),
        (good.clone().set("id", "e").set("tracked_required", "TRUE").set("goods", "magnet, liquid"), Expect::Valid),
        (good.clone().set("id", "f").set("weight_g", "+700"), Expect::Invalid(vec!["weight_g: must be a whole number of grams above 0"])),
    ];
    let dir = tempfile::tempdir().unwrap();
    let (input, output) = (dir.path().join("in.csv"), dir.path().join("out.csv"));
    write_csv(&input, &rows, &COLUMNS);
    // A row with bytes that are not UTF-8, and a short row.
    let mut bytes = std::fs::read(&input).unwrap();
    bytes.extend_from_slice(b"g,,,CN,,DE,,7\xff0\nh,,,CN\n");
    std::fs::write(&input, bytes).unwrap();
    route(&input, &output);
    let out = read_output(&output);
    assert_eq!(out.len(), rows.len() + 2);
    for ((row, expect), got) in rows.iter().zip(&out) {
        match expect {
            Expect::Invalid(fragments) => assert_eq!(&got[12], fragments[0], "{}", row.get("id").unwrap()),
            Expect::Valid => assert_ne!(got[1], "invalid", "{got:?}"),
        }
    }
    assert_eq!(out[6][12], "weight_g: is not valid UTF-8");
    assert_eq!(out[7][12], "dest_country: is required; weight_g: is required");
}

#[test]
fn parquet_columns_are_read_leniently() {
    // The same parcels typed otherwise: dates as DATE, ids as integers, money as strings.
    let rows: Vec<(Row, Expect)> = rows().into_iter().filter(|(_, e)| matches!(e, Expect::Valid)).take(120).collect();
    let n = rows.len();
    let mut id = Int64Builder::new();
    let mut date = Date32Builder::new();
    let mut weight = Float64Builder::new();
    let mut value = StringBuilder::new();
    let mut tracked = StringBuilder::new();
    for (i, (row, _)) in rows.iter().enumerate() {
        id.append_value(i as i64 * 1_000_000_007);
        date.append_value(row.get("ship_date").map_or(today(), |d| Date::parse(d).unwrap()).days_since_epoch());
        weight.append_value(row.get("weight_g").unwrap().parse().unwrap());
        value.append_option(row.get("value_amount"));
        tracked.append_option(row.get("tracked_required").map(str::to_ascii_uppercase));
    }
    let text = |column: &str| -> ArrayRef { Arc::new(rows.iter().map(|(r, _)| r.get(column)).collect::<arrow_array::StringArray>()) };
    let ints = |column: &str| -> ArrayRef {
        Arc::new(rows.iter().map(|(r, _)| r.get(column).map(|v| v.parse::<i32>().unwrap())).collect::<arrow_array::Int32Array>())
    };
    let columns: Vec<(&str, ArrayRef)> = vec![
        ("id", Arc::new(id.finish())),
        ("ship_date", Arc::new(date.finish())),
        ("weight_g", Arc::new(weight.finish())),
        ("value_amount", Arc::new(value.finish())),
        ("tracked_required", Arc::new(tracked.finish())),
        ("length_mm", ints("length_mm")),
        ("width_mm", ints("width_mm")),
        ("height_mm", ints("height_mm")),
        ("max_transit_days", ints("max_transit_days")),
        ("origin_postcode", Arc::new(arrow_array::NullArray::new(n))),
    ];
    let mut fields: Vec<Field> = columns.iter().map(|(name, a)| Field::new(*name, a.data_type().clone(), true)).collect();
    let mut arrays: Vec<ArrayRef> = columns.into_iter().map(|(_, a)| a).collect();
    for name in ["customer", "origin_country", "dest_country", "dest_postcode", "value_currency", "battery", "goods", "incoterm", "currency"] {
        fields.push(Field::new(name, DataType::Utf8, true));
        arrays.push(text(name));
    }
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("typed.parquet");
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).unwrap();
    let mut w = ArrowWriter::try_new(File::create(&input).unwrap(), batch.schema(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();

    let output = dir.path().join("typed.csv");
    route(&input, &output);
    let out = read_output(&output);
    let renamed: Vec<(Row, Expect)> =
        rows.iter().enumerate().map(|(i, (r, e))| (r.clone().set("id", &(i as i64 * 1_000_000_007).to_string()), e.clone())).collect();
    check_against_engine(&renamed, &out);
}

fn failing_job(input: &Path, output: &Path) -> BulkError {
    failing_job_after(input, output).0
}

/// Runs a job that must fail; returns its error and how many rows it had priced by then.
fn failing_job_after(input: &Path, output: &Path) -> (BulkError, u64) {
    let mut done = 0;
    let err = route_file(book(), input, output, &opts(), &mut |p| done = p.rows_done).expect_err("the job should fail");
    assert!(!output.exists(), "a failed job leaves no output: {err}");
    let dir = output.parent().unwrap();
    let leftovers: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name()).filter(|n| n.to_string_lossy().ends_with(".tmp")).collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    (err, done)
}

#[test]
fn a_missing_required_column_fails_the_job_by_name() {
    let rows = rows();
    let dir = tempfile::tempdir().unwrap();
    let without_weight: Vec<&str> = COLUMNS.iter().copied().filter(|c| *c != "weight_g").collect();
    let csv_in = dir.path().join("no_weight.csv");
    write_csv(&csv_in, &rows, &without_weight);
    let err = failing_job(&csv_in, &dir.path().join("out.parquet"));
    assert!(matches!(err, BulkError::MissingColumn { column: "weight_g", .. }), "{err:?}");
    assert!(err.to_string().contains("no_weight.csv: has no column weight_g"), "{err}");

    // An existing output is left as it was.
    let output = dir.path().join("kept.csv");
    std::fs::write(&output, "old").unwrap();
    assert!(route_file(book(), &csv_in, &output, &opts(), &mut |_| {}).is_err());
    assert_eq!(std::fs::read_to_string(&output).unwrap(), "old");

    let err = failing_job(&csv_in, &dir.path().join("out.json"));
    assert!(err.to_string().contains("out.json: unknown file format"), "{err}");
}

#[test]
fn unusable_parquet_columns_and_corrupt_files_fail_the_job() {
    let dir = tempfile::tempdir().unwrap();
    let float_money = dir.path().join("float_money.parquet");
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Utf8, false),
        Field::new("origin_country", DataType::Utf8, false),
        Field::new("dest_country", DataType::Utf8, false),
        Field::new("weight_g", DataType::Int32, false),
        Field::new("value_amount", DataType::Float64, true),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(arrow_array::StringArray::from(vec!["a"])),
            Arc::new(arrow_array::StringArray::from(vec!["CN"])),
            Arc::new(arrow_array::StringArray::from(vec!["DE"])),
            Arc::new(arrow_array::Int32Array::from(vec![700])),
            Arc::new(arrow_array::Float64Array::from(vec![12.5])),
        ],
    )
    .unwrap();
    let mut w = ArrowWriter::try_new(File::create(&float_money).unwrap(), schema, None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    let err = failing_job(&float_money, &dir.path().join("out.csv"));
    assert!(err.to_string().contains("column value_amount is floating point"), "{err}");

    // A file that breaks after its first batches: the job fails and leaves nothing.
    let rows = rows();
    let good = dir.path().join("good.parquet");
    write_parquet(&good, &rows, 64);
    let metadata = ParquetRecordBatchReaderBuilder::try_new(File::open(&good).unwrap()).unwrap().metadata().clone();
    assert!(metadata.num_row_groups() > 4);
    // Spoil the page headers of the fourth row group's columns.
    let mut bytes = std::fs::read(&good).unwrap();
    for column in metadata.row_group(3).columns() {
        let (start, _) = column.byte_range();
        for b in &mut bytes[start as usize..start as usize + 4] {
            *b = !*b;
        }
    }
    let broken = dir.path().join("broken.parquet");
    std::fs::write(&broken, bytes).unwrap();
    let (err, rows_before) = failing_job_after(&broken, &dir.path().join("out.parquet"));
    assert!(matches!(err, BulkError::Arrow { .. } | BulkError::Parquet { .. } | BulkError::Corrupt { .. }), "{err:?}");
    assert!(rows_before >= 64, "the job failed after writing batches: {rows_before} {err}");

    let truncated = dir.path().join("truncated.parquet");
    std::fs::write(&truncated, &std::fs::read(&good).unwrap()[..100]).unwrap();
    failing_job(&truncated, &dir.path().join("out2.parquet"));
    failing_job(&dir.path().join("absent.csv"), &dir.path().join("out3.csv"));
}

#[test]
fn make_parcels_writes_routable_files_with_the_invalid_rows_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let mut outputs = Vec::new();
    for name in ["made.csv", "made.parquet"] {
        let input = dir.path().join(name);
        let status = std::process::Command::new(env!("CARGO_BIN_EXE_make_parcels"))
            .arg(&input)
            .args(["--n", "500", "--book", "demo", "--seed", "3", "--invalid-every", "10"])
            .output()
            .unwrap();
        assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
        let output = dir.path().join(format!("routed-{name}"));
        let summary = route(&input, &output);
        assert_eq!((summary.rows, summary.invalid), (500, 50), "{summary:?}");
        assert!(summary.routed > 350, "{summary:?}");
        let rows = read_output(&output);
        for (i, row) in rows.iter().enumerate() {
            assert_eq!(row[0], format!("P{i:010}"));
            assert_eq!(row[1] == "invalid", (i + 1) % 10 == 0, "{row:?}");
        }
        // The ten defects each name their column.
        let problems: BTreeSet<&str> = rows.iter().filter(|r| r[1] == "invalid").map(|r| r[12].split(':').next().unwrap()).collect();
        let want =
            ["weight_g", "dest_country", "value_amount", "value_currency", "currency", "battery", "incoterm", "dest_postcode", "length_mm", "origin_country"];
        assert_eq!(problems, want.into_iter().collect());
        outputs.push(rows);
    }
    assert_eq!(outputs[0], outputs[1], "the CSV and Parquet files hold the same parcels");
}
