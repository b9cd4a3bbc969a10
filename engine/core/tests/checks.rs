//! Book checks: each broken book is refused with the table, row and column at fault, and
//! every problem is listed, not only the first.

mod common;

use common::*;
use crossdock_engine::source::SourceBook;
use crossdock_engine::*;

type Edit = fn(&mut SourceBook);

/// (what breaks the book, table, row, column) — the problem that must be reported.
const CASES: &[(Edit, &str, Option<u32>, &str)] = &[
    (
        |b| b.services.push(b.services[0].clone()),
        "services",
        Some(5),
        "service_code",
    ),
    (
        |b| b.services[0].zone_chart = "NOPE".into(),
        "services",
        Some(1),
        "zone_chart",
    ),
    (
        |b| b.services[0].currency = "CHF".into(),
        "services",
        Some(1),
        "currency",
    ),
    (
        |b| b.services[0].currency = "usd".into(),
        "services",
        Some(1),
        "currency",
    ),
    (
        |b| b.services[0].origin_country = "XX".into(),
        "services",
        Some(1),
        "origin_country",
    ),
    (
        |b| b.services[0].max_weight_g = 0,
        "services",
        Some(1),
        "max_weight_g",
    ),
    (
        |b| b.services[0].weight_step_g = Some(0),
        "services",
        Some(1),
        "weight_step_g",
    ),
    (
        |b| b.services[0].max_value = Some(d("-1")),
        "services",
        Some(1),
        "max_value",
    ),
    (
        |b| {
            b.services[0].valid_from = Some(date("2026-12-01"));
            b.services[0].valid_to = Some(date("2026-11-01"));
        },
        "services",
        Some(1),
        "valid_to",
    ),
    (
        |b| b.services[0].service_code = " A-ECO".into(),
        "services",
        Some(1),
        "service_code",
    ),
    (
        |b| b.zones.push(zone("CA", "DE", None, "Z9", 1, 2)),
        "zones",
        Some(6),
        "postcode_prefix",
    ),
    (
        |b| b.zones[0].dest_country = "de".into(),
        "zones",
        Some(1),
        "dest_country",
    ),
    (
        |b| b.zones[0].transit_days_max = 2,
        "zones",
        Some(1),
        "transit_days_max",
    ),
    (
        |b| b.zones[1].postcode_prefix = Some("1;".into()),
        "zones",
        Some(2),
        "postcode_prefix",
    ),
    (|b| b.rates[0].zone = "Z9".into(), "rates", Some(1), "zone"),
    (
        |b| b.rates[0].service_code = "NOPE".into(),
        "rates",
        Some(1),
        "service_code",
    ),
    (
        |b| b.rates.push(rate("A-ECO", "Z1", 500, "1", "1")),
        "rates",
        Some(12),
        "max_weight_g",
    ),
    (|b| b.rates[0].fixed = d("-0.01"), "rates", Some(1), "fixed"),
    (
        |b| b.rates[0].per_kg = d("1000000000000000"),
        "rates",
        Some(1),
        "per_kg",
    ),
    (
        |b| b.surcharges.push(sur("*", "X", "weird", "1")),
        "surcharges",
        Some(1),
        "kind",
    ),
    (
        |b| b.surcharges.push(sur("NOPE", "X", "fixed", "1")),
        "surcharges",
        Some(1),
        "service_code",
    ),
    (
        |b| b.surcharges.push(sur("*", "BASE", "fixed", "1")),
        "surcharges",
        Some(1),
        "code",
    ),
    (
        |b| b.restrictions.push(restrict("*", "*", "liquid", "maybe")),
        "restrictions",
        Some(1),
        "action",
    ),
    (
        |b| {
            b.restrictions.push(restrict("*", "*", "liquid", "allow"));
            b.restrictions.push(restrict("*", "*", "liquid", "deny"));
        },
        "restrictions",
        Some(2),
        "category",
    ),
    (
        |b| {
            b.prices.push(price("acme", "*", "DE", "1", "0", None));
            b.prices.push(price("acme", "*", "DE", "2", "0", None));
        },
        "prices",
        Some(2),
        "customer",
    ),
    (
        |b| b.prices.push(price("*", "*", "*", "1", "2", None)),
        "prices",
        Some(1),
        "currency",
    ),
    (
        |b| b.prices.push(price("*", "*", "*", "1", "2", Some("CHF"))),
        "prices",
        Some(1),
        "currency",
    ),
    (|b| b.fx[1].per_base = d("0"), "fx", Some(2), "per_base"),
    (|b| b.fx[0].per_base = d("2"), "fx", Some(1), "per_base"),
    (|b| b.fx.push(fx("EUR", "0.91")), "fx", Some(7), "currency"),
    (
        |b| {
            b.customs.push(customs("DE", "EUR", "19", "0"));
            b.customs.push(customs("DE", "EUR", "19", "0"));
        },
        "customs",
        Some(2),
        "valid_from",
    ),
    (
        |b| {
            let mut row = customs("DE", "EUR", "19", "0");
            row.duty_basis = "DAP".into();
            b.customs.push(row);
        },
        "customs",
        Some(1),
        "duty_basis",
    ),
    (
        |b| b.duty_rates.push(duty_rate("DE", "61a", "5")),
        "duty_rates",
        Some(1),
        "hs_prefix",
    ),
];

#[test]
fn each_broken_book_is_refused_naming_table_row_and_column() {
    for (i, (edit, table, row, column)) in CASES.iter().enumerate() {
        let mut src = base_book();
        edit(&mut src);
        let Err(report) = compile(&numbered(src)) else {
            panic!("case {i}: a book broken in {table}.{column} was accepted");
        };
        let found = report
            .errors()
            .any(|p| p.table == *table && p.row == *row && p.column.as_deref() == Some(column));
        assert!(
            found,
            "case {i}: no error at {table} row {row:?} column {column}: {:#?}",
            report.problems
        );
    }
}

#[test]
fn every_problem_is_listed_not_only_the_first() {
    let mut src = base_book();
    src.services[0].currency = "CHF".into();
    src.rates[3].fixed = d("-1");
    src.zones[0].dest_country = "de".into();
    src.base_currency = "XYZ".into();
    let report = compile(&numbered(src)).expect_err("broken book");
    let at = |table: &str, column: &str| {
        report
            .errors()
            .any(|p| p.table == table && p.column.as_deref() == Some(column))
    };
    assert!(at("services", "currency"), "{report:#?}");
    assert!(at("rates", "fixed"), "{report:#?}");
    assert!(at("zones", "dest_country"), "{report:#?}");
    assert!(at("book.toml", "base_currency"), "{report:#?}");
}

#[test]
fn unreachable_zones_and_services_are_warnings_not_errors() {
    let mut src = base_book();
    src.zones.push(zone("CA", "IT", None, "Z9", 3, 4));
    let mut lonely = svc("Z-NONE", "Zed", "CN", "USD", "CA", 1000);
    lonely.service_code = "Z-NONE".into();
    src.services.push(lonely);
    let (book, report) = compile(&numbered(src)).expect("warnings do not refuse a book");
    assert!(
        report
            .warnings()
            .any(|p| p.table == "zones" && p.message.contains("Z9")),
        "{report:#?}"
    );
    assert!(
        report
            .warnings()
            .any(|p| p.table == "services" && p.message.contains("Z-NONE")),
        "{report:#?}"
    );
    assert!(!report.has_errors());
    assert_eq!(book.services().len(), 5);
}

#[test]
fn the_book_label_names_it_by_name_and_hash() {
    let book = build(base_book());
    assert_eq!(book.label(), "test@01234567");
}

#[test]
fn an_unreadable_table_refuses_the_book_without_listing_what_depends_on_it() {
    // Each table as its reader leaves it when its file cannot be read: no rows, and named in
    // `unreadable_tables`. The reader reported why; compile adds none of the consequences.
    type Drop = fn(&mut SourceBook);
    let cases: [(&str, Drop); 4] = [
        ("rates", |b| b.rates.clear()),
        ("zones", |b| b.zones.clear()),
        ("services", |b| b.services.clear()),
        ("fx", |b| b.fx.clear()),
    ];
    for (table, drop_rows) in cases {
        let mut src = base_book();
        // Rows elsewhere that name services and currencies, so each case has dependents.
        src.surcharges
            .push(sur("A-ECO", "FUEL", "percent_of_base", "10"));
        drop_rows(&mut src);
        src.unreadable_tables.push(table.to_string());
        let report = compile(&numbered(src)).expect_err("a book with an unreadable table");
        assert!(
            report.problems.is_empty(),
            "{table} unreadable: the report lists its consequences: {:#?}",
            report.problems
        );
    }
    // The same books without the mark list the consequences, so the cases are not vacuous.
    let mut src = base_book();
    src.rates.clear();
    let report = match compile(&numbered(src)) {
        Ok((_, report)) | Err(report) => report,
    };
    assert!(report.warnings().count() >= 4, "{report:#?}");
}
