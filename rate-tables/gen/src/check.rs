//! The checks of `rate-book.md`, run on a book's finished Arrow arrays before it is written.
//!
//! The engine checks every book it loads; these checks are the generator's own assertion that
//! it never writes a book the engine would refuse. They read the same arrays that go to disk,
//! so a bug anywhere upstream (a duplicated key, a band out of order, a missing exchange rate)
//! shows up here. A few checks are stricter than the spec because they are invariants of this
//! generator rather than rules for every book: the bands of one (service, zone) are contiguous
//! in `rates`, and every zone of a service's chart has bands for that service.
//!
//! Price rows need no separate tie check: a quote's score is a sum of distinct powers of two
//! (customer 4, service 2, country 1), so two rows that tie for one quote have the same
//! `*` pattern and the same concrete values, which is a duplicate key.

use std::collections::{HashMap, HashSet};
use std::fmt;

use arrow_array::{Array, Date32Array, Decimal128Array, Int32Array, RecordBatch, StringArray};

use crate::book::Book;
use crate::tables::all_schemas;

/// The largest mantissa a `Decimal128(18, _)` column can hold.
const DECIMAL18_MANTISSA_MAX: i128 = 999_999_999_999_999_999;

/// One thing wrong with a book, located by table, row and column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Problem {
    pub table: &'static str,
    pub row: Option<usize>,
    pub column: &'static str,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.row {
            Some(row) => write!(
                f,
                "{} row {row}, {}: {}",
                self.table, self.column, self.message
            ),
            None => write!(f, "{}, {}: {}", self.table, self.column, self.message),
        }
    }
}

/// Every problem of the book; empty when it passes.
pub(crate) fn check(book: &Book) -> Vec<Problem> {
    let mut report = Report::default();
    let schemas_ok = check_schemas(book, &mut report);
    if !schemas_ok {
        // The remaining checks read columns by name and type; they would only add noise.
        return report.problems;
    }
    let services = ServiceIndex::build(book, &mut report);
    let charts = check_zones(book, &mut report);
    let fx = check_fx(book, &mut report);
    check_services(book, &charts, &fx, &mut report);
    check_rates(book, &services, &charts, &mut report);
    check_surcharges(book, &services, &mut report);
    check_restrictions(book, &services, &mut report);
    check_prices(book, &services, &fx, &mut report);
    check_customs(book, &fx, &mut report);
    check_duty_rates(book, &mut report);
    check_segments(book, &services, &mut report);
    report.problems
}

#[derive(Default)]
struct Report {
    problems: Vec<Problem>,
}

impl Report {
    fn at(
        &mut self,
        table: &'static str,
        row: usize,
        column: &'static str,
        message: impl Into<String>,
    ) {
        self.problems.push(Problem {
            table,
            row: Some(row),
            column,
            message: message.into(),
        });
    }

    fn table(&mut self, table: &'static str, column: &'static str, message: impl Into<String>) {
        self.problems.push(Problem {
            table,
            row: None,
            column,
            message: message.into(),
        });
    }
}

fn check_schemas(book: &Book, report: &mut Report) -> bool {
    let before = report.problems.len();
    for ((name, batch), (expected_name, expected)) in book.tables().into_iter().zip(all_schemas()) {
        debug_assert_eq!(name, expected_name);
        let actual = batch.schema();
        for field in expected.fields() {
            match actual.field_with_name(field.name()) {
                Err(_) => report.table(name, "*", format!("missing column {}", field.name())),
                Ok(found) if found.data_type() != field.data_type() => report.table(
                    name,
                    "*",
                    format!(
                        "column {} is {}, expected {}",
                        field.name(),
                        found.data_type(),
                        field.data_type()
                    ),
                ),
                Ok(found) if found.is_nullable() && !field.is_nullable() => {
                    report.table(
                        name,
                        "*",
                        format!("column {} must not be nullable", field.name()),
                    );
                }
                Ok(_) => {}
            }
        }
    }
    report.problems.len() == before
}

// Typed column access. The schema check has passed, so a failed downcast is a bug in this
// module, not in the book.

fn text<'a>(batch: &'a RecordBatch, column: &str) -> &'a StringArray {
    typed(batch, column)
}

fn int<'a>(batch: &'a RecordBatch, column: &str) -> &'a Int32Array {
    typed(batch, column)
}

fn decimal<'a>(batch: &'a RecordBatch, column: &str) -> &'a Decimal128Array {
    typed(batch, column)
}

fn date<'a>(batch: &'a RecordBatch, column: &str) -> &'a Date32Array {
    typed(batch, column)
}

fn typed<'a, A: Array + 'static>(batch: &'a RecordBatch, column: &str) -> &'a A {
    batch
        .column_by_name(column)
        .and_then(|array| array.as_any().downcast_ref::<A>())
        .unwrap_or_else(|| panic!("column {column} passed the schema check but has another type"))
}

fn opt_text(array: &StringArray, row: usize) -> Option<&str> {
    array.is_valid(row).then(|| array.value(row))
}

fn opt_int(array: &Int32Array, row: usize) -> Option<i32> {
    array.is_valid(row).then(|| array.value(row))
}

fn opt_date(array: &Date32Array, row: usize) -> Option<i32> {
    array.is_valid(row).then(|| array.value(row))
}

/// Non-null text cells must not be empty; codes must be upper-case.
fn check_code(
    report: &mut Report,
    table: &'static str,
    row: usize,
    column: &'static str,
    value: &str,
) {
    let upper = value.chars().all(|c| !c.is_ascii_lowercase());
    if value.is_empty() || !upper {
        report.at(
            table,
            row,
            column,
            format!("{value:?} is not an upper-case code"),
        );
    }
}

fn check_country(
    report: &mut Report,
    table: &'static str,
    row: usize,
    column: &'static str,
    value: &str,
) {
    let is_alpha2 = value.len() == 2 && value.bytes().all(|b| b.is_ascii_uppercase());
    if !is_alpha2 && value != "*" {
        report.at(
            table,
            row,
            column,
            format!("{value:?} is not an ISO 3166-1 alpha-2 code or \"*\""),
        );
    }
}

fn check_one_of(
    report: &mut Report,
    table: &'static str,
    row: usize,
    column: &'static str,
    value: &str,
    allowed: &[&str],
) {
    if !allowed.contains(&value) {
        report.at(
            table,
            row,
            column,
            format!("{value:?} is not one of {allowed:?}"),
        );
    }
}

/// Every non-null cell of a decimal column is non-negative and fits `Decimal128(18, _)`.
fn check_amounts(
    report: &mut Report,
    table: &'static str,
    batch: &RecordBatch,
    columns: &[&'static str],
) {
    for &column in columns {
        let array = decimal(batch, column);
        for row in 0..array.len() {
            if array.is_null(row) {
                continue;
            }
            let mantissa = array.value(row);
            if mantissa < 0 {
                report.at(table, row, column, "amount is negative");
            } else if mantissa > DECIMAL18_MANTISSA_MAX {
                report.at(table, row, column, "amount is out of decimal range");
            }
        }
    }
}

/// `[from, to)` must be non-empty when both ends are set.
fn check_validity(report: &mut Report, table: &'static str, batch: &RecordBatch) {
    let from = date(batch, "valid_from");
    let to = date(batch, "valid_to");
    for row in 0..batch.num_rows() {
        if let (Some(from), Some(to)) = (opt_date(from, row), opt_date(to, row))
            && from >= to
        {
            report.at(
                table,
                row,
                "valid_to",
                "validity interval is empty (valid_to <= valid_from)",
            );
        }
    }
}

/// Service code → zone chart, and the services' unique-key check.
struct ServiceIndex<'a> {
    chart_of: HashMap<&'a str, &'a str>,
}

impl<'a> ServiceIndex<'a> {
    fn build(book: &'a Book, report: &mut Report) -> Self {
        let codes = text(&book.services, "service_code");
        let charts = text(&book.services, "zone_chart");
        let mut chart_of = HashMap::with_capacity(codes.len());
        for row in 0..codes.len() {
            let code = codes.value(row);
            check_code(report, "services", row, "service_code", code);
            if code == "*" {
                report.at(
                    "services",
                    row,
                    "service_code",
                    "\"*\" is not a service code",
                );
            }
            if chart_of.insert(code, charts.value(row)).is_some() {
                report.at(
                    "services",
                    row,
                    "service_code",
                    format!("duplicate service code {code}"),
                );
            }
        }
        Self { chart_of }
    }

    fn knows(&self, code: &str) -> bool {
        self.chart_of.contains_key(code)
    }

    fn check_reference(
        &self,
        report: &mut Report,
        table: &'static str,
        row: usize,
        code: &str,
        star_allowed: bool,
    ) {
        let ok = self.knows(code) || (star_allowed && code == "*");
        if !ok {
            report.at(
                table,
                row,
                "service_code",
                format!("unknown service {code}"),
            );
        }
    }
}

/// Zone chart → its zones (the set of zone names).
type Charts<'a> = HashMap<&'a str, HashSet<&'a str>>;

fn check_zones<'a>(book: &'a Book, report: &mut Report) -> Charts<'a> {
    let batch = &book.zones;
    let chart = text(batch, "zone_chart");
    let country = text(batch, "dest_country");
    let prefix = text(batch, "postcode_prefix");
    let zone = text(batch, "zone");
    let days_min = int(batch, "transit_days_min");
    let days_max = int(batch, "transit_days_max");
    let mut keys = HashSet::with_capacity(batch.num_rows());
    let mut charts: Charts<'a> = HashMap::new();
    for row in 0..batch.num_rows() {
        check_country(report, "zones", row, "dest_country", country.value(row));
        if country.value(row) == "*" {
            report.at(
                "zones",
                row,
                "dest_country",
                "zones name a country, not \"*\"",
            );
        }
        // Null and empty both mean the whole country.
        let prefix_value = opt_text(prefix, row).unwrap_or("");
        if prefix_value
            .chars()
            .any(|c| c.is_ascii_lowercase() || c == ' ' || c == '-')
        {
            report.at(
                "zones",
                row,
                "postcode_prefix",
                "prefix is not normalised (upper-case, no spaces or dashes)",
            );
        }
        if !keys.insert((chart.value(row), country.value(row), prefix_value)) {
            report.at(
                "zones",
                row,
                "postcode_prefix",
                "duplicate (zone_chart, dest_country, postcode_prefix)",
            );
        }
        if days_min.value(row) < 0 || days_min.value(row) > days_max.value(row) {
            report.at(
                "zones",
                row,
                "transit_days_max",
                "transit days must satisfy 0 <= min <= max",
            );
        }
        charts
            .entry(chart.value(row))
            .or_default()
            .insert(zone.value(row));
    }
    charts
}

fn check_fx<'a>(book: &'a Book, report: &mut Report) -> HashSet<&'a str> {
    let batch = &book.fx;
    let currency = text(batch, "currency");
    let per_base = decimal(batch, "per_base");
    let mut currencies = HashSet::new();
    for row in 0..batch.num_rows() {
        let code = currency.value(row);
        if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
            report.at(
                "fx",
                row,
                "currency",
                format!("{code:?} is not an ISO 4217 code"),
            );
        }
        if !currencies.insert(code) {
            report.at("fx", row, "currency", format!("duplicate currency {code}"));
        }
        if per_base.value(row) <= 0 {
            report.at("fx", row, "per_base", "rate must be above 0");
        }
        if code == book.header.base_currency && per_base.value(row) != 10_i128.pow(8) {
            report.at(
                "fx",
                row,
                "per_base",
                "the base currency must have per_base 1",
            );
        }
    }
    if !currencies.contains(book.header.base_currency.as_str()) {
        report.table(
            "fx",
            "currency",
            format!("no row for the base currency {}", book.header.base_currency),
        );
    }
    currencies
}

fn check_currency(
    report: &mut Report,
    fx: &HashSet<&str>,
    table: &'static str,
    row: usize,
    code: &str,
) {
    if !fx.contains(code) {
        report.at(
            table,
            row,
            "currency",
            format!("currency {code} has no fx row"),
        );
    }
}

fn check_services(book: &Book, charts: &Charts<'_>, fx: &HashSet<&str>, report: &mut Report) {
    let batch = &book.services;
    let chart = text(batch, "zone_chart");
    let currency = text(batch, "currency");
    let origin = text(batch, "origin_country");
    let max_weight = int(batch, "max_weight_g");
    for row in 0..batch.num_rows() {
        if !charts.contains_key(chart.value(row)) {
            report.at(
                "services",
                row,
                "zone_chart",
                format!("zone chart {} has no zones", chart.value(row)),
            );
        }
        check_currency(report, fx, "services", row, currency.value(row));
        check_country(report, "services", row, "origin_country", origin.value(row));
        if max_weight.value(row) <= 0 {
            report.at("services", row, "max_weight_g", "must be above 0");
        }
        for column in [
            "max_length_mm",
            "max_girth_mm",
            "volumetric_divisor",
            "volumetric_min_side_mm",
            "min_chargeable_g",
            "weight_step_g",
        ] {
            if opt_int(int(batch, column), row).is_some_and(|v| v <= 0) {
                report.at("services", row, column, "must be above 0 when set");
            }
        }
    }
    check_amounts(report, "services", batch, &["max_value"]);
    check_validity(report, "services", batch);
}

/// Bands: each (service, zone) is one contiguous run of strictly increasing `max_weight_g`,
/// appearing once; its service exists and its zone is in that service's chart; and every zone
/// of every service's chart has a run.
fn check_rates(book: &Book, services: &ServiceIndex<'_>, charts: &Charts<'_>, report: &mut Report) {
    let batch = &book.rates;
    let service = text(batch, "service_code");
    let zone = text(batch, "zone");
    let max_weight = int(batch, "max_weight_g");
    let mut runs: HashSet<(&str, &str)> = HashSet::new();
    let mut current: Option<(&str, &str)> = None;
    for row in 0..batch.num_rows() {
        let key = (service.value(row), zone.value(row));
        if current == Some(key) {
            if max_weight.value(row) <= max_weight.value(row - 1) {
                report.at(
                    "rates",
                    row,
                    "max_weight_g",
                    format!(
                        "bands of {} zone {} are not strictly increasing ({} after {})",
                        key.0,
                        key.1,
                        max_weight.value(row),
                        max_weight.value(row - 1)
                    ),
                );
            }
            continue;
        }
        current = Some(key);
        if !runs.insert(key) {
            report.at("rates", row, "zone", format!(
                "bands of {} zone {} are split or repeated: write each (service, zone) once, in increasing order",
                key.0, key.1
            ));
        }
        if max_weight.value(row) <= 0 {
            report.at("rates", row, "max_weight_g", "must be above 0");
        }
        match services.chart_of.get(key.0) {
            None => report.at(
                "rates",
                row,
                "service_code",
                format!("unknown service {}", key.0),
            ),
            Some(chart) if !charts.get(chart).is_some_and(|zones| zones.contains(key.1)) => {
                report.at(
                    "rates",
                    row,
                    "zone",
                    format!("zone {} is not in chart {chart} of {}", key.1, key.0),
                );
            }
            Some(_) => {}
        }
    }
    check_amounts(report, "rates", batch, &["fixed", "per_kg"]);
    let mut missing: Vec<String> = Vec::new();
    for (code, chart) in &services.chart_of {
        for zone in charts.get(chart).into_iter().flatten() {
            if !runs.contains(&(*code, *zone)) {
                missing.push(format!(
                    "{code} has no bands for zone {zone} of its chart {chart}"
                ));
            }
        }
    }
    missing.sort();
    for message in missing {
        report.table("rates", "zone", message);
    }
}

fn check_surcharges(book: &Book, services: &ServiceIndex<'_>, report: &mut Report) {
    let batch = &book.surcharges;
    let service = text(batch, "service_code");
    let code = text(batch, "code");
    let kind = text(batch, "kind");
    let country = text(batch, "dest_country");
    let incoterm = text(batch, "incoterm");
    for row in 0..batch.num_rows() {
        services.check_reference(report, "surcharges", row, service.value(row), true);
        check_code(report, "surcharges", row, "code", code.value(row));
        check_one_of(
            report,
            "surcharges",
            row,
            "kind",
            kind.value(row),
            &["fixed", "per_kg", "percent_of_base"],
        );
        if let Some(country) = opt_text(country, row) {
            check_country(report, "surcharges", row, "dest_country", country);
        }
        if let Some(incoterm) = opt_text(incoterm, row) {
            check_one_of(
                report,
                "surcharges",
                row,
                "incoterm",
                incoterm,
                &["DDP", "DDU"],
            );
        }
    }
    check_amounts(report, "surcharges", batch, &["amount", "minimum"]);
    check_validity(report, "surcharges", batch);
}

fn check_restrictions(book: &Book, services: &ServiceIndex<'_>, report: &mut Report) {
    let batch = &book.restrictions;
    let service = text(batch, "service_code");
    let country = text(batch, "dest_country");
    let category = text(batch, "category");
    let action = text(batch, "action");
    let mut keys = HashSet::with_capacity(batch.num_rows());
    for row in 0..batch.num_rows() {
        services.check_reference(report, "restrictions", row, service.value(row), true);
        check_country(
            report,
            "restrictions",
            row,
            "dest_country",
            country.value(row),
        );
        check_one_of(
            report,
            "restrictions",
            row,
            "action",
            action.value(row),
            &["allow", "deny"],
        );
        if !keys.insert((service.value(row), country.value(row), category.value(row))) {
            report.at(
                "restrictions",
                row,
                "category",
                "duplicate (service_code, dest_country, category)",
            );
        }
    }
}

fn check_prices(book: &Book, services: &ServiceIndex<'_>, fx: &HashSet<&str>, report: &mut Report) {
    let batch = &book.prices;
    let customer = text(batch, "customer");
    let service = text(batch, "service_code");
    let country = text(batch, "dest_country");
    let currency = text(batch, "currency");
    let markup_fixed = decimal(batch, "markup_fixed");
    let mut keys = HashSet::with_capacity(batch.num_rows());
    for row in 0..batch.num_rows() {
        services.check_reference(report, "prices", row, service.value(row), true);
        check_country(report, "prices", row, "dest_country", country.value(row));
        if !keys.insert((customer.value(row), service.value(row), country.value(row))) {
            report.at(
                "prices",
                row,
                "customer",
                "duplicate (customer, service_code, dest_country)",
            );
        }
        match opt_text(currency, row) {
            Some(code) => check_currency(report, fx, "prices", row, code),
            None if markup_fixed.value(row) != 0 => {
                report.at(
                    "prices",
                    row,
                    "currency",
                    "markup_fixed is set but its currency is not",
                );
            }
            None => {}
        }
    }
    check_amounts(report, "prices", batch, &["markup_percent", "markup_fixed"]);
}

fn check_customs(book: &Book, fx: &HashSet<&str>, report: &mut Report) {
    let batch = &book.customs;
    let country = text(batch, "dest_country");
    let currency = text(batch, "currency");
    let basis = text(batch, "duty_basis");
    let from = date(batch, "valid_from");
    let to = date(batch, "valid_to");
    let mut intervals: HashMap<&str, Vec<(usize, i32, i32)>> = HashMap::new();
    for row in 0..batch.num_rows() {
        check_country(report, "customs", row, "dest_country", country.value(row));
        check_currency(report, fx, "customs", row, currency.value(row));
        check_one_of(
            report,
            "customs",
            row,
            "duty_basis",
            basis.value(row),
            &["FOB", "CIF"],
        );
        let start = opt_date(from, row).unwrap_or(i32::MIN);
        let end = opt_date(to, row).unwrap_or(i32::MAX);
        intervals
            .entry(country.value(row))
            .or_default()
            .push((row, start, end));
    }
    let mut overlapping: Vec<usize> = Vec::new();
    for rows in intervals.values_mut() {
        rows.sort_by_key(|&(row, start, _)| (start, row));
        for pair in rows.windows(2) {
            let (_, _, end) = pair[0];
            let (row, start, _) = pair[1];
            if start < end {
                overlapping.push(row);
            }
        }
    }
    overlapping.sort_unstable();
    for row in overlapping {
        report.at(
            "customs",
            row,
            "valid_from",
            format!(
                "validity overlaps another customs row of {}",
                country.value(row)
            ),
        );
    }
    check_amounts(
        report,
        "customs",
        batch,
        &[
            "duty_free_upto",
            "tax_free_upto",
            "tax_at_sale_upto",
            "vat_percent",
            "duty_percent",
            "flat_duty_per_hs6",
        ],
    );
    check_validity(report, "customs", batch);
}

fn check_duty_rates(book: &Book, report: &mut Report) {
    let batch = &book.duty_rates;
    let country = text(batch, "dest_country");
    let prefix = text(batch, "hs_prefix");
    let mut keys = HashSet::with_capacity(batch.num_rows());
    for row in 0..batch.num_rows() {
        check_country(
            report,
            "duty_rates",
            row,
            "dest_country",
            country.value(row),
        );
        let hs = prefix.value(row);
        if hs.is_empty() || hs.len() > 10 || !hs.bytes().all(|b| b.is_ascii_digit()) {
            report.at(
                "duty_rates",
                row,
                "hs_prefix",
                format!("{hs:?} is not an HS code prefix"),
            );
        }
        if !keys.insert((country.value(row), hs)) {
            report.at(
                "duty_rates",
                row,
                "hs_prefix",
                "duplicate (dest_country, hs_prefix)",
            );
        }
    }
    check_amounts(report, "duty_rates", batch, &["duty_percent"]);
}

fn check_segments(book: &Book, services: &ServiceIndex<'_>, report: &mut Report) {
    let batch = &book.segments;
    let service = text(batch, "service_code");
    let seq = int(batch, "seq");
    let kind = text(batch, "kind");
    let mut keys = HashSet::with_capacity(batch.num_rows());
    for row in 0..batch.num_rows() {
        services.check_reference(report, "segments", row, service.value(row), false);
        check_one_of(
            report,
            "segments",
            row,
            "kind",
            kind.value(row),
            &["first_mile", "hub", "line_haul", "customs", "last_mile"],
        );
        if !keys.insert((service.value(row), seq.value(row))) {
            report.at("segments", row, "seq", "duplicate (service_code, seq)");
        }
    }
}
