//! Tests through the crate's own seams: the books in memory, the files on disk, and the checks
//! shown to fail on broken tables.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{Array, Decimal128Array, Int32Array, RecordBatch, StringArray};
use arrow_schema::DataType;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::file::reader::{FileReader, SerializedFileReader};

use crate::book::Book;
use crate::check::check;
use crate::tables::{
    Customs, CustomsRow, Fx, FxRow, RateRow, Rates, ServiceRow, Services, ZoneRow, Zones,
};
use crate::values::{Date, Dec4, Dec8};
use crate::{SyntheticSpec, demo, synthetic};

/// A scratch directory removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let path =
            std::env::temp_dir().join(format!("crossdock-bookgen-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        Self(path)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn files_of(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = fs::read_dir(dir)
        .expect("read dir")
        .map(|entry| {
            let path = entry.expect("entry").path();
            let name = path
                .file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned();
            (name, fs::read(&path).expect("read file"))
        })
        .collect();
    files.sort();
    files
}

fn small_spec() -> SyntheticSpec {
    SyntheticSpec {
        services: 10,
        destinations: 12,
        bands_per_zone: 3,
        prefixes_per_country: 4,
        seed: 7,
    }
}

// ---------------------------------------------------------------------------------------------
// The demo book

#[test]
fn demo_passes_every_check() {
    let book = demo::book().expect("demo builds");
    let problems = check(&book);
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn demo_written_twice_is_byte_identical() {
    let (a, b) = (Scratch::new("demo-a"), Scratch::new("demo-b"));
    crate::write_demo(&a.0).expect("first write");
    crate::write_demo(&b.0).expect("second write");
    let (first, second) = (files_of(&a.0), files_of(&b.0));
    let names: Vec<&str> = first.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        names,
        [
            "book.toml",
            "customs.parquet",
            "duty_rates.parquet",
            "fx.parquet",
            "prices.parquet",
            "rates.parquet",
            "restrictions.parquet",
            "segments.parquet",
            "services.parquet",
            "surcharges.parquet",
            "zones.parquet"
        ]
    );
    assert!(first == second, "the two demo writes differ");
    let header = String::from_utf8(first[0].1.clone()).expect("utf-8");
    assert!(
        header.starts_with("name = \"demo-2026-11\"\nbase_currency = \"USD\"\nnotes = \""),
        "{header}"
    );
}

#[test]
fn committed_demo_is_what_the_generator_writes() {
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../demo");
    let fresh = Scratch::new("demo-fresh");
    crate::write_demo(&fresh.0).expect("write");
    assert!(
        files_of(&committed) == files_of(&fresh.0),
        "rate-tables/demo is stale: run `cargo run -p crossdock-bookgen -- demo rate-tables/demo`"
    );
}

/// The contract of the brief, written out independently of `tables.rs`.
fn expected_columns(table: &str) -> Vec<(&'static str, DataType, bool)> {
    let text = DataType::Utf8;
    let int = DataType::Int32;
    let flag = DataType::Boolean;
    let money = DataType::Decimal128(18, 4);
    let date = DataType::Date32;
    match table {
        "services" => vec![
            ("service_code", text.clone(), false),
            ("carrier", text.clone(), false),
            ("name", text.clone(), false),
            ("origin_country", text.clone(), false),
            ("currency", text.clone(), false),
            ("zone_chart", text, false),
            ("tracked", flag.clone(), false),
            ("ddp", flag, false),
            ("max_weight_g", int.clone(), false),
            ("max_length_mm", int.clone(), true),
            ("max_girth_mm", int.clone(), true),
            ("max_value", money, true),
            ("volumetric_divisor", int.clone(), true),
            ("volumetric_min_side_mm", int.clone(), true),
            ("min_chargeable_g", int.clone(), true),
            ("weight_step_g", int, true),
            ("valid_from", date.clone(), true),
            ("valid_to", date, true),
        ],
        "zones" => vec![
            ("zone_chart", text.clone(), false),
            ("dest_country", text.clone(), false),
            ("postcode_prefix", text.clone(), true),
            ("zone", text, false),
            ("transit_days_min", int.clone(), false),
            ("transit_days_max", int, false),
        ],
        "rates" => vec![
            ("service_code", text.clone(), false),
            ("zone", text, false),
            ("max_weight_g", int, false),
            ("fixed", money.clone(), false),
            ("per_kg", money, false),
        ],
        "surcharges" => vec![
            ("service_code", text.clone(), false),
            ("code", text.clone(), false),
            ("kind", text.clone(), false),
            ("amount", money.clone(), false),
            ("minimum", money, true),
            ("dest_country", text.clone(), true),
            ("postcode_prefix", text.clone(), true),
            ("battery", flag, true),
            ("incoterm", text, true),
            ("min_chargeable_g", int.clone(), true),
            ("min_length_mm", int, true),
            ("valid_from", date.clone(), true),
            ("valid_to", date, true),
        ],
        "restrictions" => vec![
            ("service_code", text.clone(), false),
            ("dest_country", text.clone(), false),
            ("category", text.clone(), false),
            ("action", text, false),
        ],
        "prices" => vec![
            ("customer", text.clone(), false),
            ("service_code", text.clone(), false),
            ("dest_country", text.clone(), false),
            ("markup_percent", money.clone(), false),
            ("markup_fixed", money, false),
            ("currency", text, true),
        ],
        "fx" => vec![
            ("currency", text, false),
            ("per_base", DataType::Decimal128(20, 8), false),
        ],
        "customs" => vec![
            ("dest_country", text.clone(), false),
            ("currency", text.clone(), false),
            ("duty_free_upto", money.clone(), true),
            ("tax_free_upto", money.clone(), true),
            ("tax_at_sale_upto", money.clone(), true),
            ("vat_percent", money.clone(), false),
            ("duty_percent", money.clone(), false),
            ("flat_duty_per_hs6", money, true),
            ("duty_basis", text, false),
            ("tax_includes_freight", flag.clone(), false),
            ("requires_hs6", flag, false),
            ("valid_from", date.clone(), true),
            ("valid_to", date, true),
        ],
        "duty_rates" => vec![
            ("dest_country", text.clone(), false),
            ("hs_prefix", text, false),
            ("duty_percent", money, false),
        ],
        "segments" => vec![
            ("service_code", text.clone(), false),
            ("seq", int, false),
            ("kind", text.clone(), false),
            ("carrier", text.clone(), false),
            ("label", text, false),
        ],
        other => panic!("unexpected table {other}"),
    }
}

const TABLES: [&str; 10] = [
    "services",
    "zones",
    "rates",
    "surcharges",
    "restrictions",
    "prices",
    "fx",
    "customs",
    "duty_rates",
    "segments",
];

/// A whole table in one batch (the demo's tables are far below the batch size).
fn read_table(dir: &Path, table: &str) -> RecordBatch {
    let file = fs::File::open(dir.join(format!("{table}.parquet"))).expect("open");
    let mut reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .expect("parquet")
        .with_batch_size(1 << 20)
        .build()
        .expect("reader");
    let batch = reader.next().expect("one batch").expect("readable");
    assert!(
        reader.next().is_none(),
        "{table} came back in more than one batch"
    );
    batch
}

#[test]
fn demo_tables_read_back_with_the_contract_columns_and_types() {
    let dir = Scratch::new("demo-schema");
    crate::write_demo(&dir.0).expect("write");
    for table in TABLES {
        let batch = read_table(&dir.0, table);
        let actual: Vec<(String, DataType, bool)> = batch
            .schema()
            .fields()
            .iter()
            .map(|f| (f.name().clone(), f.data_type().clone(), f.is_nullable()))
            .collect();
        let expected: Vec<(String, DataType, bool)> = expected_columns(table)
            .into_iter()
            .map(|(n, t, null)| (n.to_owned(), t, null))
            .collect();
        assert_eq!(actual, expected, "table {table}");
        assert!(batch.num_rows() > 0, "table {table} is empty");
    }
}

#[test]
fn demo_read_back_equals_the_book_in_memory_and_passes_checks() {
    let dir = Scratch::new("demo-roundtrip");
    crate::write_demo(&dir.0).expect("write");
    let book = demo::book().expect("demo");
    for (table, batch) in book.tables() {
        assert_eq!(
            &read_table(&dir.0, table),
            batch,
            "table {table} changed on disk"
        );
    }
}

#[test]
fn demo_has_the_shape_the_readme_describes() {
    let book = demo::book().expect("demo");
    let services = book.services.num_rows();
    assert!(services >= 12, "{services} services");
    let countries: HashSet<&str> = strings(&book.zones, "dest_country").into_iter().collect();
    assert!(countries.len() >= 40, "{} destinations", countries.len());
    let origins: HashSet<&str> = strings(&book.services, "origin_country")
        .into_iter()
        .collect();
    assert_eq!(origins, HashSet::from(["CN", "HK"]));
    let currencies: HashSet<&str> = strings(&book.services, "currency").into_iter().collect();
    for currency in ["USD", "CNY", "HKD", "EUR", "GBP", "JPY", "AUD", "CAD"] {
        assert!(
            currencies.contains(currency),
            "no service priced in {currency}"
        );
    }
    // Fuel covers every day of 2026-10-01 .. 2027-01-31 exactly once.
    let codes = strings(&book.surcharges, "code");
    let from = dates(&book.surcharges, "valid_from");
    let to = dates(&book.surcharges, "valid_to");
    for day in Date::ymd(2026, 10, 1).0..Date::ymd(2027, 2, 1).0 {
        let covering = (0..codes.len())
            .filter(|&i| {
                codes[i] == "FUEL"
                    && from[i].is_some_and(|f| f <= day)
                    && to[i].is_some_and(|t| day < t)
            })
            .count();
        assert_eq!(covering, 1, "FUEL rows covering day {day}");
    }
    // The battery line accepts exactly PI967 and PI970.
    let service = strings(&book.restrictions, "service_code");
    let category = strings(&book.restrictions, "category");
    let action = strings(&book.restrictions, "action");
    let battery_allows: Vec<&str> = (0..service.len())
        .filter(|&i| {
            service[i] == "SW-BATT-TRK"
                && action[i] == "allow"
                && category[i].starts_with("battery:")
        })
        .map(|i| category[i])
        .collect();
    assert_eq!(battery_allows, ["battery:PI967", "battery:PI970"]);
}

// ---------------------------------------------------------------------------------------------
// Band prices never drop with weight

fn strings<'a>(batch: &'a RecordBatch, column: &str) -> Vec<&'a str> {
    let array = batch
        .column_by_name(column)
        .expect("column")
        .as_any()
        .downcast_ref::<StringArray>()
        .expect("utf8");
    (0..array.len()).map(|i| array.value(i)).collect()
}

fn ints(batch: &RecordBatch, column: &str) -> Vec<i32> {
    let array = batch
        .column_by_name(column)
        .expect("column")
        .as_any()
        .downcast_ref::<Int32Array>()
        .expect("int32");
    array.values().to_vec()
}

fn mantissas(batch: &RecordBatch, column: &str) -> Vec<i128> {
    let array = batch
        .column_by_name(column)
        .expect("column")
        .as_any()
        .downcast_ref::<Decimal128Array>()
        .expect("decimal");
    array.values().to_vec()
}

fn dates(batch: &RecordBatch, column: &str) -> Vec<Option<i32>> {
    let array = batch
        .column_by_name(column)
        .expect("column")
        .as_any()
        .downcast_ref::<arrow_array::Date32Array>()
        .expect("date32");
    (0..array.len())
        .map(|i| array.is_valid(i).then(|| array.value(i)))
        .collect()
}

/// Just above each band's limit, the next band's price is at least the limit's price.
fn assert_bands_never_get_cheaper(rates: &RecordBatch) {
    let service = strings(rates, "service_code");
    let zone = strings(rates, "zone");
    let max_g = ints(rates, "max_weight_g");
    let fixed = mantissas(rates, "fixed");
    let per_kg = mantissas(rates, "per_kg");
    // Base price ×1000 (mantissa at 4 places times grams).
    let price = |row: usize, grams: i32| fixed[row] * 1_000 + per_kg[row] * i128::from(grams);
    for row in 1..service.len() {
        if service[row] == service[row - 1] && zone[row] == zone[row - 1] {
            let limit = max_g[row - 1];
            assert!(
                price(row, limit + 1) >= price(row - 1, limit),
                "{} zone {} gets cheaper above {limit} g",
                service[row],
                zone[row]
            );
        }
    }
}

#[test]
fn heavier_parcels_never_cost_less_in_demo_and_synthetic_bands() {
    assert_bands_never_get_cheaper(&demo::book().expect("demo").rates);
    assert_bands_never_get_cheaper(&synthetic::book(&small_spec()).expect("synthetic").rates);
}

// ---------------------------------------------------------------------------------------------
// The checks fail on broken tables

fn service(code: &'static str, chart: &'static str, currency: &'static str) -> ServiceRow<'static> {
    ServiceRow {
        service_code: code,
        carrier: "Test",
        name: "Test",
        origin_country: "CN",
        currency,
        zone_chart: chart,
        tracked: true,
        ddp: false,
        max_weight_g: 2_000,
        max_length_mm: None,
        max_girth_mm: None,
        max_value: None,
        volumetric_divisor: None,
        volumetric_min_side_mm: None,
        min_chargeable_g: None,
        weight_step_g: None,
        valid_from: None,
        valid_to: None,
    }
}

fn zone(
    chart: &'static str,
    country: &'static str,
    prefix: Option<&'static str>,
    zone: &'static str,
) -> ZoneRow<'static> {
    ZoneRow {
        zone_chart: chart,
        dest_country: country,
        postcode_prefix: prefix,
        zone,
        transit_days_min: 3,
        transit_days_max: 6,
    }
}

fn band(code: &'static str, zone: &'static str, max_weight_g: i32) -> RateRow<'static> {
    RateRow {
        service_code: code,
        zone,
        max_weight_g,
        fixed: Dec4::lit("1.00"),
        per_kg: Dec4::lit("5.00"),
    }
}

/// The demo book with some tables replaced.
fn demo_with(edit: impl FnOnce(&mut Book)) -> Book {
    let mut book = demo::book().expect("demo");
    edit(&mut book);
    book
}

fn services_table(rows: &[ServiceRow<'static>]) -> RecordBatch {
    let mut table = Services::with_capacity(rows.len());
    rows.iter().for_each(|row| table.push(*row));
    table.finish().expect("services")
}

fn zones_table(rows: &[ZoneRow<'static>]) -> RecordBatch {
    let mut table = Zones::with_capacity(rows.len());
    rows.iter().for_each(|row| table.push(*row));
    table.finish().expect("zones")
}

fn rates_table(rows: &[RateRow<'static>]) -> RecordBatch {
    let mut table = Rates::with_capacity(rows.len());
    rows.iter().for_each(|row| table.push(*row));
    table.finish().expect("rates")
}

/// A minimal valid core: one service, one chart of two zones, two bands per zone.
fn tiny(edit_rates: &[RateRow<'static>]) -> Book {
    demo_with(|book| {
        book.services = services_table(&[service("T-1", "C", "USD")]);
        book.zones = zones_table(&[
            zone("C", "DE", None, "Z1"),
            zone("C", "DE", Some("1"), "Z2"),
        ]);
        book.rates = rates_table(edit_rates);
        book.surcharges = book.surcharges.slice(0, 0);
        book.restrictions = book.restrictions.slice(0, 0);
        book.prices = book.prices.slice(0, 0);
        book.segments = book.segments.slice(0, 0);
    })
}

fn messages(book: &Book) -> Vec<String> {
    check(book).iter().map(ToString::to_string).collect()
}

fn assert_fails(book: &Book, needle: &str) {
    let messages = messages(book);
    assert!(
        messages.iter().any(|m| m.contains(needle)),
        "expected a problem containing {needle:?}, got {messages:#?}"
    );
}

#[test]
fn a_minimal_valid_book_passes() {
    let book = tiny(&[
        band("T-1", "Z1", 500),
        band("T-1", "Z1", 2_000),
        band("T-1", "Z2", 500),
        band("T-1", "Z2", 2_000),
    ]);
    assert_eq!(messages(&book), Vec::<String>::new());
}

#[test]
fn bands_out_of_order_fail() {
    let book = tiny(&[
        band("T-1", "Z1", 2_000),
        band("T-1", "Z1", 500),
        band("T-1", "Z2", 500),
    ]);
    assert_fails(
        &book,
        "rates row 1, max_weight_g: bands of T-1 zone Z1 are not strictly increasing",
    );
}

#[test]
fn duplicate_bands_fail() {
    let book = tiny(&[
        band("T-1", "Z1", 500),
        band("T-1", "Z1", 500),
        band("T-1", "Z2", 500),
    ]);
    assert_fails(&book, "not strictly increasing (500 after 500)");
}

#[test]
fn split_band_runs_fail() {
    let book = tiny(&[
        band("T-1", "Z1", 500),
        band("T-1", "Z2", 500),
        band("T-1", "Z1", 2_000),
    ]);
    assert_fails(
        &book,
        "rates row 2, zone: bands of T-1 zone Z1 are split or repeated",
    );
}

#[test]
fn rates_for_unknown_zones_services_and_missing_zones_fail() {
    let book = tiny(&[
        band("T-1", "Z1", 500),
        band("T-1", "Z9", 500),
        band("T-2", "Z1", 500),
    ]);
    assert_fails(&book, "rates row 1, zone: zone Z9 is not in chart C of T-1");
    assert_fails(&book, "rates row 2, service_code: unknown service T-2");
    assert_fails(&book, "T-1 has no bands for zone Z2 of its chart C");
}

#[test]
fn negative_amounts_fail() {
    let book = tiny(&[
        band("T-1", "Z1", 500),
        RateRow {
            per_kg: Dec4(-1),
            ..band("T-1", "Z2", 500)
        },
    ]);
    assert_fails(&book, "rates row 1, per_kg: amount is negative");
}

#[test]
fn duplicate_keys_fail() {
    let rates = [band("T-1", "Z1", 500), band("T-1", "Z2", 500)];
    let duplicate_service = demo_with(|book| {
        *book = tiny(&rates);
        book.services = services_table(&[service("T-1", "C", "USD"), service("T-1", "C", "USD")]);
    });
    assert_fails(
        &duplicate_service,
        "services row 1, service_code: duplicate service code T-1",
    );

    let duplicate_zone = demo_with(|book| {
        *book = tiny(&rates);
        book.zones = zones_table(&[
            zone("C", "DE", None, "Z1"),
            zone("C", "DE", Some("1"), "Z2"),
            zone("C", "DE", Some(""), "Z2"),
        ]);
    });
    assert_fails(
        &duplicate_zone,
        "zones row 2, postcode_prefix: duplicate (zone_chart, dest_country, postcode_prefix)",
    );

    let duplicate_restriction = demo_with(|book| {
        let first = book.restrictions.slice(0, 1);
        book.restrictions = concat(&[&book.restrictions, &first]);
    });
    assert_fails(
        &duplicate_restriction,
        "duplicate (service_code, dest_country, category)",
    );

    let duplicate_price = demo_with(|book| {
        let first = book.prices.slice(0, 1);
        book.prices = concat(&[&book.prices, &first]);
    });
    assert_fails(
        &duplicate_price,
        "duplicate (customer, service_code, dest_country)",
    );
}

/// Concatenates batches of one schema (enough of arrow-select for tests).
fn concat(batches: &[&RecordBatch]) -> RecordBatch {
    let schema = batches[0].schema();
    let columns = (0..schema.fields().len())
        .map(|c| {
            let arrays: Vec<&dyn Array> = batches.iter().map(|b| b.column(c).as_ref()).collect();
            concat_arrays(&arrays)
        })
        .collect();
    RecordBatch::try_new(schema, columns).expect("concat")
}

fn concat_arrays(arrays: &[&dyn Array]) -> arrow_array::ArrayRef {
    let data: Vec<arrow_array::ArrayRef> = arrays
        .iter()
        .map(|a| arrow_array::make_array(a.to_data()))
        .collect();
    // Only Utf8 and Decimal128 columns occur in the tables concatenated here.
    match data[0].data_type() {
        DataType::Utf8 => {
            let values: Vec<Option<&str>> = data
                .iter()
                .flat_map(|a| {
                    let s = a.as_any().downcast_ref::<StringArray>().expect("utf8");
                    (0..s.len()).map(move |i| s.is_valid(i).then(|| s.value(i)))
                })
                .collect();
            Arc::new(StringArray::from(values))
        }
        DataType::Decimal128(p, s) => {
            let values: Vec<Option<i128>> = data
                .iter()
                .flat_map(|a| {
                    let d = a
                        .as_any()
                        .downcast_ref::<Decimal128Array>()
                        .expect("decimal");
                    (0..d.len()).map(move |i| d.is_valid(i).then(|| d.value(i)))
                })
                .collect();
            Arc::new(
                Decimal128Array::from(values)
                    .with_precision_and_scale(*p, *s)
                    .expect("precision"),
            )
        }
        other => panic!("concat of {other} not needed"),
    }
}

#[test]
fn missing_fx_rows_fail() {
    let book = demo_with(|book| {
        let mut fx = Fx::with_capacity(2);
        fx.push(FxRow {
            currency: "USD",
            per_base: Dec8::lit("1"),
        });
        fx.push(FxRow {
            currency: "EUR",
            per_base: Dec8::lit("0.92"),
        });
        book.fx = fx.finish().expect("fx");
    });
    assert_fails(
        &book,
        "services row 0, currency: currency CNY has no fx row",
    );
    assert_fails(&book, "customs row 0, currency: currency JPY has no fx row");
}

#[test]
fn overlapping_customs_validity_fails() {
    let row = |from: Option<Date>, to: Option<Date>| CustomsRow {
        dest_country: "DE",
        currency: "EUR",
        duty_free_upto: Some(Dec4::lit("150")),
        tax_free_upto: None,
        tax_at_sale_upto: Some(Dec4::lit("150")),
        vat_percent: Dec4::lit("19"),
        duty_percent: Dec4::lit("4"),
        flat_duty_per_hs6: None,
        duty_basis: "CIF",
        tax_includes_freight: true,
        requires_hs6: true,
        valid_from: from,
        valid_to: to,
    };
    let with_customs = |rows: &[CustomsRow<'static>]| {
        demo_with(|book| {
            let mut customs = Customs::with_capacity(rows.len());
            rows.iter().for_each(|row| customs.push(*row));
            book.customs = customs.finish().expect("customs");
        })
    };
    let july = Some(Date::ymd(2026, 7, 1));
    assert_eq!(
        messages(&with_customs(&[row(None, july), row(july, None)])),
        Vec::<String>::new()
    );
    assert_fails(
        &with_customs(&[row(None, july), row(Some(Date::ymd(2026, 6, 30)), None)]),
        "customs row 1, valid_from: validity overlaps another customs row of DE",
    );
    assert_fails(
        &with_customs(&[row(None, None), row(july, None)]),
        "validity overlaps",
    );
}

#[test]
fn wrong_column_types_fail_the_schema_check() {
    let book = demo_with(|book| {
        // `fx` in place of `rates`: every rates column is missing.
        book.rates = book.fx.clone();
    });
    assert_fails(&book, "rates, *: missing column max_weight_g");
}

// ---------------------------------------------------------------------------------------------
// Synthetic books

#[test]
fn small_synthetic_book_has_the_expected_row_counts() {
    let spec = small_spec();
    let dir = Scratch::new("synthetic-small");
    let summary = crate::write_synthetic(&dir.0, &spec).expect("write");
    let rows: HashMap<&str, usize> = summary.rows_per_table.iter().copied().collect();
    // CN has 6 of the 10 services and HK 4; with fewer than 30 per origin, every service
    // serves all 12 destinations, each with a whole-country zone and 4 prefix zones.
    assert_eq!(rows["services"], 10);
    assert_eq!(rows["zones"], 10 * 12 * 5);
    assert_eq!(rows["rates"], 10 * 12 * 5 * 3);
    assert_eq!(summary.rate_rows, 1_800);
    assert_eq!(rows["fx"], 8);
    // 12 destinations, 6 of them in the EU with two rows each.
    assert_eq!(rows["customs"], 12 + 6);
    assert_eq!(rows["duty_rates"], 12 * 5);
    // Kinds of services 0..10: POST ECO ECO DDP EXP ECO POST DDP POST ECO.
    assert_eq!(rows["segments"], 3 + 4 + 4 + 5 + 3 + 4 + 3 + 5 + 3 + 4);
    assert_eq!(rows["prices"], 1 + 1 + 50 * 7);
    assert!(
        rows["surcharges"] > 104 && rows["restrictions"] > 9,
        "{rows:?}"
    );
    assert_eq!(summary.total_rows, rows.values().sum::<usize>());
    let names: Vec<&str> = summary
        .rows_per_table
        .iter()
        .map(|(name, _)| *name)
        .collect();
    assert_eq!(names, TABLES);
    for table in TABLES {
        assert_eq!(
            read_table_rows(&dir.0, table),
            rows[table],
            "{table} on disk"
        );
    }
}

fn read_table_rows(dir: &Path, table: &str) -> usize {
    let file = fs::File::open(dir.join(format!("{table}.parquet"))).expect("open");
    let reader = SerializedFileReader::new(file).expect("parquet");
    reader.metadata().file_metadata().num_rows() as usize
}

#[test]
fn synthetic_books_are_deterministic_and_pass_checks() {
    let spec = SyntheticSpec {
        services: 40,
        destinations: 60,
        bands_per_zone: 5,
        prefixes_per_country: 2,
        seed: 11,
    };
    let book = synthetic::book(&spec).expect("book");
    assert_eq!(check(&book), Vec::new());
    let (a, b) = (Scratch::new("synthetic-a"), Scratch::new("synthetic-b"));
    crate::write_synthetic(&a.0, &spec).expect("first");
    crate::write_synthetic(&b.0, &spec).expect("second");
    assert!(files_of(&a.0) == files_of(&b.0), "synthetic writes differ");
    let other =
        crate::write_synthetic(&b.0, &SyntheticSpec { seed: 12, ..spec }).expect("other seed");
    assert!(files_of(&a.0) != files_of(&b.0), "the seed changes nothing");
    assert!(other.total_rows > 0);
}

#[test]
fn default_spec_lanes_have_about_thirty_candidates() {
    let lanes = synthetic::candidates_per_lane(&SyntheticSpec::default());
    // 240 destinations × 2 origins, every lane served.
    assert_eq!(lanes.len(), 480);
    let (low, high) = (lanes.values().min().copied(), lanes.values().max().copied());
    assert!(
        low >= Some(29) && high <= Some(31),
        "candidates per lane range {low:?} ..= {high:?}"
    );
}

#[test]
fn sample_parcels_are_deterministic_and_on_served_lanes() {
    let spec = SyntheticSpec {
        services: 60,
        destinations: 80,
        ..SyntheticSpec::default()
    };
    let lanes = synthetic::candidates_per_lane(&spec);
    let parcels = crate::sample_parcels(&spec, 2_000, 5);
    assert_eq!(parcels, crate::sample_parcels(&spec, 2_000, 5));
    assert_ne!(parcels, crate::sample_parcels(&spec, 2_000, 6));
    for parcel in &parcels {
        let lane = (parcel.origin_country.as_str(), parcel.dest_country.as_str());
        assert!(
            lanes.get(&lane).is_some_and(|&n| n >= 1),
            "{lane:?} is not served"
        );
    }
    let with_postcode = parcels.iter().filter(|p| p.dest_postcode.is_some()).count();
    assert!(
        with_postcode > parcels.len() / 2,
        "{with_postcode} postcodes"
    );
}

#[test]
fn demo_sample_parcels_are_on_demo_lanes() {
    let book = demo::book().expect("demo");
    let codes = strings(&book.services, "service_code");
    let origins = strings(&book.services, "origin_country");
    let charts = strings(&book.services, "zone_chart");
    let zone_charts = strings(&book.zones, "zone_chart");
    let zone_countries = strings(&book.zones, "dest_country");
    let mut lanes: HashSet<(&str, &str)> = HashSet::new();
    for s in 0..codes.len() {
        for z in 0..zone_charts.len() {
            if zone_charts[z] == charts[s] {
                lanes.insert((origins[s], zone_countries[z]));
            }
        }
    }
    let parcels = crate::demo_sample_parcels(1_000, 1);
    assert_eq!(parcels, crate::demo_sample_parcels(1_000, 1));
    for parcel in &parcels {
        assert!(
            lanes.contains(&(parcel.origin_country.as_str(), parcel.dest_country.as_str())),
            "{parcel:?}"
        );
    }
    assert!(parcels.iter().any(|p| p.battery.is_some()));
    assert!(parcels.iter().any(|p| !p.goods.is_empty()));
    assert!(parcels.iter().any(|p| {
        p.dest_postcode
            .as_deref()
            .is_some_and(|c| c.starts_with("BT") || c.starts_with("99"))
    }));
}

#[test]
fn invalid_specs_are_errors_not_books() {
    let dir = Scratch::new("invalid");
    for spec in [
        SyntheticSpec {
            services: 0,
            ..small_spec()
        },
        SyntheticSpec {
            destinations: 10_000,
            ..small_spec()
        },
        SyntheticSpec {
            bands_per_zone: 0,
            ..small_spec()
        },
        SyntheticSpec {
            prefixes_per_country: 101,
            ..small_spec()
        },
    ] {
        let error = crate::write_synthetic(&dir.0, &spec).expect_err("invalid spec");
        assert!(
            error.to_string().starts_with("invalid synthetic spec"),
            "{error}"
        );
    }
    assert!(!dir.0.exists(), "nothing is written for an invalid spec");
}
