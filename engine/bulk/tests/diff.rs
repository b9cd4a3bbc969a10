//! The what-if on the demo book and the demo book a month on (`XB-EU-TRK` 15 % dearer,
//! `SW-ECO-TRK` limited to 2 kg): every group checked against two independent `route_file`
//! runs, and the changes the new book makes — and only those — reported.

use crossdock_bulk::diff::{DIFF_COLUMNS, DiffGroup, groups_csv, render_table, report_json, write_groups};
use crossdock_bulk::{BulkError, RouteOptions, diff_file, route_file};
use crossdock_engine::{Book, Currency, Date, Decimal};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

fn temp_dir(name: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    let dir = std::env::temp_dir().join(format!("crossdock-diff-{name}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn books() -> (Book, Book) {
    let dir = temp_dir("books");
    let (old_dir, new_dir) = (dir.join("demo"), dir.join("next"));
    crossdock_bookgen::write_demo(&old_dir).unwrap();
    crossdock_bookgen::write_demo_next(&new_dir).unwrap();
    let load = |d: &Path| crossdock_tables::load_dir(d, &Default::default()).unwrap_or_else(|r| panic!("{r:?}")).book;
    (load(&old_dir), load(&new_dir))
}

fn opts() -> RouteOptions {
    RouteOptions { batch_rows: 100, threads: Some(2), ..RouteOptions::new(Date::parse("2026-11-24").unwrap()) }
}

/// Sample parcels as a bulk CSV file, plus two invalid rows; returns each row's
/// (destination, weight).
fn write_replay(path: &Path, n: usize) -> Vec<(String, u32)> {
    let mut out =
        String::from("id,origin_country,dest_country,dest_postcode,weight_g,length_mm,width_mm,height_mm,value_amount,value_currency,battery,goods,currency\n");
    let mut rows = Vec::new();
    for (i, p) in crossdock_bookgen::demo_sample_parcels(n, 23).into_iter().enumerate() {
        let [l, w, h] = p.dims_mm.map_or([String::new(), String::new(), String::new()], |d| d.map(|x| x.to_string()));
        let (amount, currency) = p.declared_value.clone().unwrap_or_default();
        out.push_str(&format!(
            "p{i},{},{},{},{},{l},{w},{h},{amount},{currency},{},\"{}\",EUR\n",
            p.origin_country,
            p.dest_country,
            p.dest_postcode.clone().unwrap_or_default(),
            p.weight_g,
            p.battery.clone().unwrap_or_default(),
            p.goods.join(",")
        ));
        rows.push((p.dest_country.clone(), p.weight_g));
    }
    out.push_str("bad1,CN,de,,700,,,,,,,,EUR\n");
    out.push_str("bad2,CN,DE,,,,,,,,,,EUR\n");
    rows.push(("de".into(), 700));
    rows.push(("DE".into(), 0));
    std::fs::write(path, out).unwrap();
    rows
}

/// One output row of `crossdock route`, read back: status, service, currency, cost, sell.
type Routed = (String, Option<String>, Option<String>, Option<Decimal>, Option<Decimal>);

fn route_rows(book: &Book, replay: &Path, out: &Path) -> Vec<Routed> {
    route_file(book, replay, out, &opts(), &mut |_| {}).unwrap();
    let mut reader = csv::Reader::from_path(out).unwrap();
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (status, service, currency, cost, sell) = (col("status"), col("service"), col("currency"), col("cost"), col("sell"));
    let some = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (
                r[status].to_owned(),
                some(&r[service]),
                some(&r[currency]),
                some(&r[cost]).map(|d| Decimal::from_str(&d).unwrap()),
                some(&r[sell]).map(|d| Decimal::from_str(&d).unwrap()),
            )
        })
        .collect()
}

/// What a group must hold, computed from the two route outputs.
#[derive(Debug, Default, PartialEq)]
struct Expected {
    parcels: u64,
    changed: u64,
    newly_unroutable: u64,
    newly_routable: u64,
    moved_to: BTreeMap<String, u64>,
    priced_both: u64,
    cost_sum: Decimal,
    sell_sum: Decimal,
    cost_largest: Decimal,
    sell_largest: Decimal,
}

fn minor(d: Decimal, currency: Currency) -> Decimal {
    d * Decimal::from(10i64.pow(currency.minor_digits()))
}

fn bigger(current: Decimal, candidate: Decimal) -> Decimal {
    if candidate.abs() > current.abs() || (candidate.abs() == current.abs() && candidate > current) { candidate } else { current }
}

#[test]
fn the_what_if_reports_exactly_what_two_route_runs_differ_by() {
    let (old, new) = books();
    let dir = temp_dir("replay");
    let replay = dir.join("parcels.csv");
    let inputs = write_replay(&replay, 3000);
    let old_rows = route_rows(&old, &replay, &dir.join("old.csv"));
    let new_rows = route_rows(&new, &replay, &dir.join("new.csv"));
    assert_eq!((old_rows.len(), new_rows.len()), (inputs.len(), inputs.len()));

    let mut expected: BTreeMap<(Option<String>, String, String), Expected> = BTreeMap::new();
    let mut invalid = 0;
    for ((a, b), (dest, _)) in old_rows.iter().zip(&new_rows).zip(&inputs) {
        if a.0 == "invalid" || b.0 == "invalid" {
            assert_eq!(a.0, b.0, "both books read a row alike");
            invalid += 1;
            continue;
        }
        let e = expected.entry((a.1.clone(), dest.clone(), a.2.clone().unwrap())).or_default();
        e.parcels += 1;
        if a.1 != b.1 {
            e.changed += 1;
            *e.moved_to.entry(b.1.clone().unwrap_or("unroutable".into())).or_default() += 1;
            e.newly_unroutable += u64::from(b.1.is_none());
            e.newly_routable += u64::from(a.1.is_none());
        }
        if let (Some(cost_a), Some(cost_b)) = (a.3, b.3) {
            let c = Currency::from_code(a.2.as_deref().unwrap()).unwrap();
            let (dc, ds) = (minor(cost_b - cost_a, c), minor(b.4.unwrap() - a.4.unwrap(), c));
            e.priced_both += 1;
            e.cost_sum += dc;
            e.sell_sum += ds;
            e.cost_largest = bigger(e.cost_largest, dc);
            e.sell_largest = bigger(e.sell_largest, ds);
        }
    }

    let mut progress_calls = 0;
    let report = diff_file(&old, &new, &replay, &opts(), &mut |_| progress_calls += 1).unwrap();
    assert!(progress_calls >= 3, "progress after each of the batches");
    assert_eq!(report.rows, inputs.len() as u64);
    assert_eq!((report.invalid, report.invalid_new_only, report.invalid_old_only), (invalid, 0, 0));
    assert_eq!(report.old_book, old.label());
    assert_eq!(report.new_book, new.label());
    let got: BTreeMap<(Option<String>, String, String), Expected> = report
        .groups
        .iter()
        .map(|g: &DiffGroup| {
            let key = (g.service.clone(), g.dest_country.to_string(), g.currency.code().to_owned());
            let e = Expected {
                parcels: g.parcels,
                changed: g.changed,
                newly_unroutable: g.newly_unroutable,
                newly_routable: g.newly_routable,
                moved_to: g.moved_to.iter().map(|(s, n)| (s.clone().unwrap_or("unroutable".into()), *n)).collect(),
                priced_both: g.cost.count,
                cost_sum: Decimal::from(g.cost.sum as i64),
                sell_sum: Decimal::from(g.sell.sum as i64),
                cost_largest: Decimal::from(g.cost.largest),
                sell_largest: Decimal::from(g.sell.largest),
            };
            (key, e)
        })
        .collect();
    assert_eq!(got.len(), expected.len(), "one group per (service, destination, currency)");
    for (key, want) in &expected {
        assert_eq!(got.get(key), Some(want), "group {key:?}");
    }
    assert_eq!(report.parcels, expected.values().map(|e| e.parcels).sum::<u64>());
    assert_eq!(report.changed, expected.values().map(|e| e.changed).sum::<u64>());

    // The new book changes two services and nothing else: parcels the old book sent by any
    // other service stay there at the same price, and nothing becomes routable.
    let (dearer, limited) = ("XB-EU-TRK", "SW-ECO-TRK");
    for g in &report.groups {
        match g.service.as_deref() {
            Some(s) if s == dearer => {
                assert!(g.cost.sum > 0 && g.cost.largest > 0, "{dearer} costs more: {g:?}");
            }
            Some(s) if s == limited => {}
            _ => {
                assert_eq!((g.changed, g.cost.sum, g.sell.sum, g.cost.largest, g.sell.largest), (0, 0, 0, 0, 0), "{g:?}");
                assert_eq!(g.newly_routable, 0);
            }
        }
    }
    // Every parcel SW-ECO-TRK carried above 2 kg moves; none at or below it does.
    let mut heavy = 0;
    for ((a, b), (_, weight)) in old_rows.iter().zip(&new_rows).zip(&inputs) {
        if a.1.as_deref() == Some(limited) {
            assert_eq!(b.1.as_deref() != Some(limited), *weight > 2_000, "a {weight} g parcel on {limited}");
            heavy += u64::from(*weight > 2_000);
        }
    }
    assert!(heavy > 0, "the sample has parcels above 2 kg on {limited}");
    let limited_changed: u64 = report.groups.iter().filter(|g| g.service.as_deref() == Some(limited)).map(|g| g.changed).sum();
    assert_eq!(limited_changed, heavy);
    assert!(report.groups.iter().any(|g| g.service.as_deref() == Some(dearer) && g.cost.count > 0));

    // The renderings carry the same groups.
    let csv_text = groups_csv(&report);
    assert_eq!(csv_text.lines().count(), report.groups.len() + 1);
    assert_eq!(csv_text.lines().next().unwrap(), DIFF_COLUMNS.join(","));
    let table = render_table(&report, 5);
    assert!(table.contains(limited) && table.contains(&format!("{} changed service", report.changed)), "{table}");
    let json = report_json(&report);
    assert_eq!(json["groups"].as_array().unwrap().len(), report.groups.len());
    assert_eq!(json["changed"], report.changed);
}

#[test]
fn a_book_against_itself_changes_nothing() {
    let (old, _) = books();
    let dir = temp_dir("same");
    let replay = dir.join("parcels.csv");
    write_replay(&replay, 500);
    let report = diff_file(&old, &old, &replay, &opts(), &mut |_| {}).unwrap();
    assert_eq!((report.changed, report.newly_unroutable, report.newly_routable), (0, 0, 0));
    assert!(report.parcels >= 490);
    assert!(report.groups.iter().all(|g| g.cost.sum == 0 && g.sell.sum == 0 && g.cost.largest == 0));
    assert!(render_table(&report, 10).contains("no parcel changes service, cost or sell"));
}

#[test]
fn groups_are_written_as_csv_and_parquet_or_not_at_all() {
    let (old, new) = books();
    let dir = temp_dir("write");
    let replay = dir.join("parcels.csv");
    write_replay(&replay, 300);
    let report = diff_file(&old, &new, &replay, &opts(), &mut |_| {}).unwrap();

    let csv_path = dir.join("groups.csv");
    write_groups(&report, &csv_path).unwrap();
    assert_eq!(std::fs::read_to_string(&csv_path).unwrap(), groups_csv(&report));

    let parquet_path = dir.join("groups.parquet");
    write_groups(&report, &parquet_path).unwrap();
    let file = std::fs::File::open(&parquet_path).unwrap();
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file).unwrap().build().unwrap();
    let mut rows = 0;
    for batch in reader {
        let batch = batch.unwrap();
        let names: Vec<String> = batch.schema().fields().iter().map(|f| f.name().clone()).collect();
        assert_eq!(names, DIFF_COLUMNS);
        rows += batch.num_rows();
    }
    assert_eq!(rows, report.groups.len());

    // A wrong extension or a missing directory is refused, and no file is left behind.
    assert!(matches!(write_groups(&report, &dir.join("groups.txt")), Err(BulkError::UnknownFormat { .. })));
    assert!(!dir.join("groups.txt").exists());
    assert!(write_groups(&report, &dir.join("no/such/dir/groups.csv")).is_err());
    // A replay file that is not a parcel file fails the job with the reason.
    let bad = dir.join("bad.csv");
    std::fs::write(&bad, "id,weight_g\n1,2\n").unwrap();
    let err = diff_file(&old, &new, &bad, &opts(), &mut |_| {}).unwrap_err();
    assert!(err.to_string().contains("origin_country"), "{err}");
}
