//! Table-driven pricing cases: every reason code, surcharge kind and condition, rounding in
//! 0-, 2- and 3-decimal currencies, FX, markups, ranking, landed cost and customs issues.
//! Each expected amount is worked out by hand from rate-book.md in the comment beside it,
//! and every quote is also priced on the exact-decimal path, which must agree.

mod common;

use common::*;
use crossdock_engine::source::*;
use crossdock_engine::*;

#[test]
fn base_freight_is_fixed_plus_per_kg_and_converted_line_by_line() {
    // A-ECO: 1.50 + 7.50 × 0.7 = 6.75. A-TRK: 700 g → 500 g steps → 1000 g → 10.00.
    // B-JPY: 300 + 1234.5 × 0.7 = 1164.15 → ¥1164 → USD 1164 / 150 = 7.76.
    check(
        quote(&build(base_book()), &req()),
        "1 A-ECO sell=6.75 cost=6.75 cg=700 t=5-8 [BASE=6.75]
         2 B-JPY sell=7.76 cost=7.76 cg=700 t=7-10 [BASE=7.76]
         3 A-TRK sell=10.00 cost=10.00 cg=1000 t=5-8 [BASE=10.00]
         x K-KWD ORIGIN_MISMATCH",
    );
}

#[test]
fn rounding_is_half_away_from_zero_in_0_2_and_3_decimal_currencies() {
    let book = build(base_book());
    // JPY: 6.75 × 150 = 1012.5 → 1013.
    let mut r = req();
    r.currency = cur("JPY");
    check(
        quote(&book, &r),
        "1 A-ECO sell=1013 cost=1013 cg=700 t=5-8 [BASE=1013]
         2 B-JPY sell=1164 cost=1164 cg=700 t=7-10 [BASE=1164]
         3 A-TRK sell=1500 cost=1500 cg=1000 t=5-8 [BASE=1500]
         x K-KWD ORIGIN_MISMATCH",
    );
    // K-KWD from HK: 1.234 + 2.345 × 0.7 = 2.8755 → KWD 2.876 (3 decimals, half away).
    let mut r = req();
    r.origin_country = country("HK");
    r.services = vec!["K-KWD".into()];
    let cases = [
        ("KWD", "2.876"),
        ("USD", "9.59"), // 2.876 / 0.3 = 9.5866…
        ("EUR", "8.63"), // 2.876 × 0.9 / 0.3 = 8.628
        ("JPY", "1438"), // 2.876 × 150 / 0.3 = 1438
    ];
    for (code, amount) in cases {
        r.currency = cur(code);
        let text = quote(&book, &r);
        let first = text.lines().next().unwrap_or("");
        assert_eq!(
            first,
            format!("1 K-KWD sell={amount} cost={amount} cg=700 t=5-8 [BASE={amount}]"),
            "{code}"
        );
    }
}

/// The reasons one service is excluded for, or "" when it is an option.
fn reasons_of(book: &Book, r: &Request, code: &str) -> String {
    let q = book.quote(r).unwrap();
    assert_eq!(q, book.quote_exact(r).unwrap());
    let index = book.service_index(code).unwrap();
    q.excluded
        .iter()
        .find(|x| x.service == index)
        .map(|x| {
            x.reasons
                .iter()
                .map(|r| r.code())
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default()
}

#[test]
fn every_reason_code_is_reported_when_it_applies() {
    let base = build(base_book());
    let with = |f: &dyn Fn(&mut SourceBook)| {
        let mut src = base_book();
        f(&mut src);
        build(src)
    };
    let inactive_ended = with(&|b| b.services[1].valid_to = Some(date("2026-06-01")));
    let inactive_later = with(&|b| b.services[1].valid_from = Some(date("2026-11-25")));
    let starts_today = with(&|b| b.services[1].valid_from = Some(date("2026-11-24")));
    let battery_ok = with(&|b| {
        b.restrictions
            .push(restrict("A-TRK", "*", "battery:PI967", "allow"))
    });
    let liquids = with(&|b| {
        b.restrictions.push(restrict("*", "*", "liquid", "deny"));
        b.restrictions
            .push(restrict("A-TRK", "*", "liquid", "allow"));
        b.restrictions
            .push(restrict("A-TRK", "GB", "liquid", "deny"));
    });
    let magnets = with(&|b| {
        b.restrictions.push(restrict("*", "DE", "magnet", "deny"));
        b.restrictions
            .push(restrict("A-ECO", "*", "magnet", "allow"));
    });
    type Edit = Box<dyn Fn(&mut Request)>;
    let cases: Vec<(&Book, &str, Edit, &str)> = vec![
        (&inactive_ended, "A-TRK", Box::new(|_| {}), "INACTIVE"),
        (&inactive_later, "A-TRK", Box::new(|_| {}), "INACTIVE"),
        (&starts_today, "A-TRK", Box::new(|_| {}), ""),
        (&base, "K-KWD", Box::new(|_| {}), "ORIGIN_MISMATCH"),
        (
            &base,
            "A-ECO",
            Box::new(|r| r.dest_country = country("US")),
            "DESTINATION_NOT_SERVED",
        ),
        (
            &base,
            "K-KWD",
            Box::new(|r| r.dest_country = country("US")),
            "ORIGIN_MISMATCH,DESTINATION_NOT_SERVED",
        ),
        // 2500 g: over A-ECO's 2 kg limit and above its last band.
        (
            &base,
            "A-ECO",
            Box::new(|r| r.weight_g = 2500),
            "OVER_MAX_WEIGHT,NO_RATE",
        ),
        (&base, "A-ECO", Box::new(|r| r.weight_g = 2000), ""),
        // 700 mm > 600; girth 700 + 2 × 200 = 1100 > 900.
        (
            &base,
            "A-ECO",
            Box::new(|r| r.dims_mm = [Some(100), Some(700), Some(100)]),
            "OVER_MAX_LENGTH,OVER_MAX_GIRTH",
        ),
        // Girth 600 + 2 × 150 = 900: at the limit passes.
        (
            &base,
            "A-ECO",
            Box::new(|r| r.dims_mm = [Some(600), Some(100), Some(50)]),
            "",
        ),
        // Only one side known: it is too long; the girth is unknown and passes.
        (
            &base,
            "A-ECO",
            Box::new(|r| r.dims_mm = [Some(700), None, None]),
            "OVER_MAX_LENGTH",
        ),
        (
            &base,
            "A-ECO",
            Box::new(|r| {
                r.declared_value = Some(Money {
                    amount: d("100.01"),
                    currency: cur("USD"),
                })
            }),
            "OVER_MAX_VALUE",
        ),
        (
            &base,
            "A-ECO",
            Box::new(|r| {
                r.declared_value = Some(Money {
                    amount: d("100.00"),
                    currency: cur("USD"),
                })
            }),
            "",
        ),
        // EUR 90.00 is exactly USD 100 (0.9 per USD): not above. EUR 90.01 is.
        (
            &base,
            "A-ECO",
            Box::new(|r| {
                r.declared_value = Some(Money {
                    amount: d("90.00"),
                    currency: cur("EUR"),
                })
            }),
            "",
        ),
        (
            &base,
            "A-ECO",
            Box::new(|r| {
                r.declared_value = Some(Money {
                    amount: d("90.01"),
                    currency: cur("EUR"),
                })
            }),
            "OVER_MAX_VALUE",
        ),
        // No restriction row allows a battery: refused everywhere.
        (
            &base,
            "A-TRK",
            Box::new(|r| r.battery = Battery::parse("PI967")),
            "BATTERY_NOT_ACCEPTED",
        ),
        (
            &battery_ok,
            "A-TRK",
            Box::new(|r| r.battery = Battery::parse("PI967")),
            "",
        ),
        (
            &battery_ok,
            "A-TRK",
            Box::new(|r| r.battery = Battery::parse("PI966")),
            "BATTERY_NOT_ACCEPTED",
        ),
        (
            &base,
            "A-TRK",
            Box::new(|r| r.goods = vec!["liquid".into()]),
            "GOODS_NOT_ACCEPTED",
        ),
        (
            &liquids,
            "A-TRK",
            Box::new(|r| r.goods = vec!["liquid".into()]),
            "",
        ),
        (
            &liquids,
            "A-ECO",
            Box::new(|r| r.goods = vec!["liquid".into()]),
            "GOODS_NOT_ACCEPTED",
        ),
        (
            &liquids,
            "A-TRK",
            Box::new(|r| {
                r.goods = vec!["liquid".into()];
                r.dest_country = country("GB");
            }),
            "GOODS_NOT_ACCEPTED",
        ),
        // An exact service beats an exact country.
        (
            &magnets,
            "A-ECO",
            Box::new(|r| r.goods = vec!["magnet".into()]),
            "",
        ),
        (
            &magnets,
            "A-TRK",
            Box::new(|r| r.goods = vec!["magnet".into()]),
            "GOODS_NOT_ACCEPTED",
        ),
        (
            &base,
            "A-ECO",
            Box::new(|r| r.incoterm = Incoterm::Ddp),
            "DDP_NOT_SUPPORTED",
        ),
        (&base, "A-TRK", Box::new(|r| r.incoterm = Incoterm::Ddp), ""),
        (
            &base,
            "A-ECO",
            Box::new(|r| r.require_tracked = true),
            "NOT_TRACKED",
        ),
        (
            &base,
            "A-ECO",
            Box::new(|r| r.max_transit_days = Some(7)),
            "TOO_SLOW",
        ),
        (
            &base,
            "A-ECO",
            Box::new(|r| r.max_transit_days = Some(8)),
            "",
        ),
        // Postcode 10115 falls in DE "1…" (zone Z2, 4–6 days).
        (
            &base,
            "A-ECO",
            Box::new(|r| {
                r.max_transit_days = Some(7);
                r.dest_postcode = Postcode::normalise("10115").unwrap();
            }),
            "",
        ),
        (
            &base,
            "K-KWD",
            Box::new(|r| r.max_transit_days = Some(7)),
            "ORIGIN_MISMATCH,TOO_SLOW",
        ),
        (
            &base,
            "A-ECO",
            Box::new(|r| r.services = vec!["A-TRK".into()]),
            "NOT_REQUESTED",
        ),
        (
            &base,
            "A-TRK",
            Box::new(|r| r.services = vec!["A-TRK".into()]),
            "",
        ),
        (
            &base,
            "A-TRK",
            Box::new(|r| r.carriers = vec!["Beta".into()]),
            "NOT_REQUESTED",
        ),
        (
            &base,
            "B-JPY",
            Box::new(|r| r.carriers = vec!["Beta".into()]),
            "",
        ),
        (
            &base,
            "B-JPY",
            Box::new(|r| {
                r.services = vec!["A-TRK".into()];
                r.carriers = vec!["Beta".into()];
            }),
            "",
        ),
        // A-TRK's bands end at 30 kg; volumetric 1000 × 1000 × 200 / 5000 = 40 kg.
        (
            &base,
            "A-TRK",
            Box::new(|r| r.dims_mm = [Some(1000), Some(1000), Some(200)]),
            "NO_RATE",
        ),
    ];
    for (i, (book, service, edit, want)) in cases.iter().enumerate() {
        let mut r = req();
        edit(&mut r);
        assert_eq!(reasons_of(book, &r, service), *want, "case {i}: {service}");
    }
}

#[test]
fn all_applicable_reasons_are_listed_in_the_api_order() {
    let mut src = base_book();
    src.services[0].valid_from = Some(date("2027-01-01"));
    let book = build(src);
    let mut r = req();
    r.origin_country = country("HK");
    r.weight_g = 2500;
    r.dims_mm = [Some(700), Some(100), Some(100)];
    r.declared_value = Some(Money {
        amount: d("500"),
        currency: cur("USD"),
    });
    r.battery = Battery::parse("PI970");
    r.goods = vec!["powder".into()];
    r.incoterm = Incoterm::Ddp;
    r.require_tracked = true;
    r.max_transit_days = Some(1);
    r.services = vec!["B-JPY".into()];
    assert_eq!(
        reasons_of(&book, &r, "A-ECO"),
        "INACTIVE,ORIGIN_MISMATCH,OVER_MAX_WEIGHT,OVER_MAX_LENGTH,OVER_MAX_GIRTH,OVER_MAX_VALUE,BATTERY_NOT_ACCEPTED,\
         GOODS_NOT_ACCEPTED,DDP_NOT_SUPPORTED,NOT_TRACKED,TOO_SLOW,NOT_REQUESTED,NO_RATE"
    );
}

#[test]
fn volumetric_weight_needs_all_dimensions_and_the_minimum_side() {
    let book = build(base_book());
    // 400 × 300 × 200 / 5000 = 4800 g → 500 g steps → 5000 g: 12 + 4 × 5 = 32.00.
    let mut r = req();
    r.services = vec!["A-TRK".into()];
    r.dims_mm = [Some(400), Some(300), Some(200)];
    assert_eq!(
        quote(&book, &r).lines().next().unwrap(),
        "1 A-TRK sell=32.00 cost=32.00 cg=5000 t=5-8 [BASE=32.00]"
    );
    // ceil: 401 × 300 × 200 / 5000 = 4812 g → 5000 g.
    r.dims_mm = [Some(101), Some(100), Some(100)]; // 1,010,000 / 5000 = 202 g → 1000 g step band.
    assert_eq!(
        quote(&book, &r).lines().next().unwrap(),
        "1 A-TRK sell=10.00 cost=10.00 cg=1000 t=5-8 [BASE=10.00]"
    );
    // Two dimensions known: no volumetric weight.
    r.dims_mm = [Some(400), Some(300), None];
    assert_eq!(
        quote(&book, &r).lines().next().unwrap(),
        "1 A-TRK sell=10.00 cost=10.00 cg=1000 t=5-8 [BASE=10.00]"
    );
    // A minimum side of 450 mm: the 400 mm box is not volumetric; a 450 mm one is.
    let mut src = base_book();
    src.services[1].volumetric_min_side_mm = Some(450);
    src.services[1].min_chargeable_g = Some(1200);
    let book = build(src);
    r.dims_mm = [Some(400), Some(300), Some(200)];
    // min chargeable 1200 g → 1500 g: 12 + 4 × 1.5 = 18.00.
    assert_eq!(
        quote(&book, &r).lines().next().unwrap(),
        "1 A-TRK sell=18.00 cost=18.00 cg=1500 t=5-8 [BASE=18.00]"
    );
    r.dims_mm = [Some(450), Some(300), Some(200)]; // 5400 g → 5500 g: 20 + 3.5 × 5.5 = 39.25.
    assert_eq!(
        quote(&book, &r).lines().next().unwrap(),
        "1 A-TRK sell=39.25 cost=39.25 cg=5500 t=5-8 [BASE=39.25]"
    );
}

/// The cost lines of A-TRK for a 3000 g parcel to DE (BASE 12 + 4 × 3 = 24.00) with one
/// surcharge row added.
fn trk_lines(rows: Vec<SurchargeRow>, edit: &dyn Fn(&mut Request)) -> String {
    let mut src = base_book();
    src.surcharges = rows;
    src.restrictions
        .push(restrict("A-TRK", "*", "battery:PI967", "allow"));
    let book = build(src);
    let mut r = req();
    r.weight_g = 3000;
    r.services = vec!["A-TRK".into()];
    edit(&mut r);
    let text = quote(&book, &r);
    let first = text.lines().next().unwrap_or("");
    first[first.find('[').unwrap()..].to_string()
}

#[test]
fn every_surcharge_kind_and_condition() {
    let with = |f: &dyn Fn(&mut SurchargeRow)| {
        let mut row = sur("A-TRK", "S", "fixed", "2.50");
        f(&mut row);
        row
    };
    type Edit = Box<dyn Fn(&mut Request)>;
    let none: fn() -> Edit = || Box::new(|_| {});
    let cases: Vec<(SurchargeRow, Edit, &str)> = vec![
        (
            sur("A-TRK", "S", "fixed", "2.50"),
            none(),
            "[BASE=24.00 S=2.50]",
        ),
        // 0.333 × 3 kg = 0.999 → 1.00.
        (
            sur("A-TRK", "S", "per_kg", "0.333"),
            none(),
            "[BASE=24.00 S=1.00]",
        ),
        // 24.00 × 12.5 % = 3.00.
        (
            sur("A-TRK", "S", "percent_of_base", "12.5"),
            none(),
            "[BASE=24.00 S=3.00]",
        ),
        // Floored at the minimum: 3.00 → 5.00; 0.30 → 0.50.
        (
            with(&|s| {
                s.kind = "percent_of_base".into();
                s.amount = d("12.5");
                s.minimum = Some(d("5"));
            }),
            none(),
            "[BASE=24.00 S=5.00]",
        ),
        (
            with(&|s| {
                s.kind = "per_kg".into();
                s.amount = d("0.10");
                s.minimum = Some(d("0.50"));
            }),
            none(),
            "[BASE=24.00 S=0.50]",
        ),
        (
            with(&|s| s.dest_country = Some("GB".into())),
            none(),
            "[BASE=24.00]",
        ),
        (
            with(&|s| s.dest_country = Some("DE".into())),
            none(),
            "[BASE=24.00 S=2.50]",
        ),
        // Postcode prefixes compare normalised postcodes; 10115 is zone Z2: 15 + 4 × 3 = 27.00.
        (
            with(&|s| s.postcode_prefix = Some("10 1".into())),
            Box::new(|r| r.dest_postcode = Postcode::normalise("10115").unwrap()),
            "[BASE=27.00 S=2.50]",
        ),
        (
            with(&|s| s.postcode_prefix = Some("10".into())),
            Box::new(|r| r.dest_postcode = Postcode::normalise("20095").unwrap()),
            "[BASE=24.00]",
        ),
        (
            with(&|s| s.postcode_prefix = Some("10".into())),
            none(),
            "[BASE=24.00]",
        ),
        (
            with(&|s| s.battery = Some(true)),
            Box::new(|r| r.battery = Battery::parse("PI967")),
            "[BASE=24.00 S=2.50]",
        ),
        (with(&|s| s.battery = Some(true)), none(), "[BASE=24.00]"),
        (
            with(&|s| s.battery = Some(false)),
            none(),
            "[BASE=24.00 S=2.50]",
        ),
        (
            with(&|s| s.battery = Some(false)),
            Box::new(|r| r.battery = Battery::parse("PI967")),
            "[BASE=24.00]",
        ),
        (
            with(&|s| s.incoterm = Some("DDP".into())),
            Box::new(|r| r.incoterm = Incoterm::Ddp),
            "[BASE=24.00 S=2.50]",
        ),
        (
            with(&|s| s.incoterm = Some("DDP".into())),
            none(),
            "[BASE=24.00]",
        ),
        (
            with(&|s| s.min_chargeable_g = Some(3000)),
            none(),
            "[BASE=24.00 S=2.50]",
        ),
        // 2500 g: 12 + 4 × 2.5 = 22.00, below the 3000 g condition.
        (
            with(&|s| s.min_chargeable_g = Some(3000)),
            Box::new(|r| r.weight_g = 2500),
            "[BASE=22.00]",
        ),
        (
            with(&|s| s.min_length_mm = Some(500)),
            Box::new(|r| r.dims_mm = [Some(100), Some(500), Some(100)]),
            "[BASE=24.00 S=2.50]",
        ),
        (
            with(&|s| s.min_length_mm = Some(500)),
            Box::new(|r| r.dims_mm = [Some(100), Some(499), Some(100)]),
            "[BASE=24.00]",
        ),
        (
            with(&|s| s.min_length_mm = Some(500)),
            none(),
            "[BASE=24.00]",
        ),
        // Validity is [from, to): ending on the ship date means not applied.
        (
            with(&|s| s.valid_to = Some(date("2026-11-24"))),
            none(),
            "[BASE=24.00]",
        ),
        (
            with(&|s| s.valid_from = Some(date("2026-11-24"))),
            none(),
            "[BASE=24.00 S=2.50]",
        ),
        (
            with(&|s| s.service_code = "*".into()),
            none(),
            "[BASE=24.00 S=2.50]",
        ),
        (
            with(&|s| s.service_code = "A-ECO".into()),
            none(),
            "[BASE=24.00]",
        ),
    ];
    for (i, (row, edit, want)) in cases.into_iter().enumerate() {
        assert_eq!(trk_lines(vec![row], edit.as_ref()), want, "case {i}");
    }
}

#[test]
fn surcharges_apply_in_table_order_each_with_its_own_line() {
    let mut remote = sur("A-TRK", "REMOTE", "fixed", "3");
    remote.dest_country = Some("DE".into());
    let mut first_de = sur("A-TRK", "R1", "fixed", "1");
    first_de.dest_country = Some("DE".into());
    let rows = vec![
        first_de,
        sur("*", "FUEL", "percent_of_base", "10"),
        remote,
        sur("A-TRK", "FUEL", "fixed", "0.10"),
    ];
    assert_eq!(
        trk_lines(rows, &|_| {}),
        "[BASE=24.00 R1=1.00 FUEL=2.40 REMOTE=3.00 FUEL=0.10]"
    );
}

#[test]
fn percent_of_base_is_taken_on_the_rounded_base() {
    // B-JPY at 1000 g: 300 + 1234.5 = 1534.5 → ¥1535; 10 % of 1535 = 153.5 → 154
    // (10 % of the unrounded 1534.5 would be 153.45 → 153).
    let mut src = base_book();
    src.surcharges = vec![sur("*", "FUEL", "percent_of_base", "10")];
    let book = build(src);
    let mut r = req();
    r.weight_g = 1000;
    r.currency = cur("JPY");
    r.services = vec!["B-JPY".into()];
    assert_eq!(
        quote(&book, &r).lines().next().unwrap(),
        "1 B-JPY sell=1689 cost=1689 cg=1000 t=7-10 [BASE=1535 FUEL=154]"
    );
}

#[test]
fn each_line_is_converted_and_rounded_so_lines_add_up() {
    // USD 24.00 + 0.05 + 0.05 in EUR at 0.9: 21.60 + 0.045→0.05 + 0.05 = 21.70
    // (converting the USD 24.10 total would give 21.69).
    let mut src = base_book();
    src.surcharges = vec![
        sur("A-TRK", "A", "fixed", "0.05"),
        sur("A-TRK", "B", "fixed", "0.05"),
    ];
    let book = build(src);
    let mut r = req();
    r.weight_g = 3000;
    r.currency = cur("EUR");
    r.services = vec!["A-TRK".into()];
    assert_eq!(
        quote(&book, &r).lines().next().unwrap(),
        "1 A-TRK sell=21.70 cost=21.70 cg=3000 t=5-8 [BASE=21.60 A=0.05 B=0.05]"
    );
}

fn priced_book() -> Book {
    let mut src = base_book();
    src.prices = vec![
        price("*", "*", "*", "10", "0", None),
        price("acme", "*", "*", "5", "1.00", Some("EUR")),
        price("acme", "A-TRK", "*", "3", "0", None),
        price("acme", "*", "DE", "4", "0", None),
        price("*", "A-TRK", "DE", "20", "0", None),
    ];
    build(src)
}

#[test]
fn the_most_specific_price_row_sets_the_sell() {
    let book = priced_book();
    // No customer: A-ECO by (*,*,*) 10 %: 6.75 + 0.675→0.68 = 7.43; A-TRK by (*,A-TRK,DE)
    // 20 %: 12.00; B-JPY 7.76 + 0.776→0.78 = 8.54.
    check(
        quote(&book, &req()),
        "1 A-ECO sell=7.43 cost=6.75 cg=700 t=5-8 [BASE=6.75]
         2 B-JPY sell=8.54 cost=7.76 cg=700 t=7-10 [BASE=7.76]
         3 A-TRK sell=12.00 cost=10.00 cg=1000 t=5-8 [BASE=10.00]
         x K-KWD ORIGIN_MISMATCH",
    );
    // acme: (acme,*,DE) scores 5 over (acme,*,*) 4: A-ECO 4 % = 0.27 → 7.02; A-TRK by
    // (acme,A-TRK,*) 6 over 5: 3 % → 10.30; B-JPY 4 % of 7.76 = 0.3104 → 8.07.
    let mut r = req();
    r.customer = Some("acme".into());
    check(
        quote(&book, &r),
        "1 A-ECO sell=7.02 cost=6.75 cg=700 t=5-8 [BASE=6.75]
         2 B-JPY sell=8.07 cost=7.76 cg=700 t=7-10 [BASE=7.76]
         3 A-TRK sell=10.30 cost=10.00 cg=1000 t=5-8 [BASE=10.00]
         x K-KWD ORIGIN_MISMATCH",
    );
    // acme to GB: A-ECO 1.20 + 6 × 0.7 = 5.40, (acme,*,*) 5 % = 0.27 + EUR 1.00 → USD 1.11
    // → 6.78; A-TRK 18 + 5 × 1 = 23.00 + 3 % 0.69 = 23.69.
    r.dest_country = country("GB");
    check(
        quote(&book, &r),
        "1 A-ECO sell=6.78 cost=5.40 cg=700 t=6-9 [BASE=5.40]
         2 A-TRK sell=23.69 cost=23.00 cg=1000 t=6-9 [BASE=23.00]
         x B-JPY DESTINATION_NOT_SERVED
         x K-KWD ORIGIN_MISMATCH,NO_RATE",
    );
    // In EUR: 5.40 × 0.9 = 4.86; 5 % = 0.243 → 0.24; + 1.00 = 6.10.
    r.currency = cur("EUR");
    assert_eq!(
        quote(&book, &r).lines().next().unwrap(),
        "1 A-ECO sell=6.10 cost=4.86 cg=700 t=6-9 [BASE=4.86]"
    );
}

#[test]
fn price_rows_that_tie_make_the_book_invalid() {
    let mut src = base_book();
    src.prices = vec![
        price("acme", "*", "*", "5", "0", None),
        price("*", "*", "*", "1", "0", None),
        price("acme", "*", "*", "6", "0", None),
    ];
    let report = compile(&numbered(src)).expect_err("a tie must refuse the book");
    assert!(
        report
            .errors()
            .any(|p| p.table == "prices" && p.row == Some(3) && p.message.contains("row 1")),
        "{report:?}"
    );
}

#[test]
fn ranking_strategies_and_ties() {
    let book = build(base_book());
    let order = |r: &Request| -> Vec<String> {
        let q = book.quote(r).unwrap();
        assert_eq!(q, book.quote_exact(r).unwrap());
        q.options
            .iter()
            .map(|o| book.service(o.service).code.to_string())
            .collect()
    };
    let mut r = req();
    assert_eq!(order(&r), ["A-ECO", "B-JPY", "A-TRK"]);
    // Fastest: max days 8, 8, 10; A-ECO and A-TRK tie on days (5–8) and split on sell.
    r.strategy = Strategy::Fastest;
    assert_eq!(order(&r), ["A-ECO", "A-TRK", "B-JPY"]);
    // Best value at 1.00 a day: 6.75 + 8 = 14.75, 7.76 + 10 = 17.76, 10 + 8 = 18.
    r.strategy = Strategy::BestValue;
    r.value_per_day = d("1.00");
    assert_eq!(order(&r), ["A-ECO", "B-JPY", "A-TRK"]);
    // At 2.00 a day: 22.75, 27.76, 26.00.
    r.value_per_day = d("2.00");
    assert_eq!(order(&r), ["A-ECO", "A-TRK", "B-JPY"]);
    // Two services alike in every way rank by service code.
    let mut src = base_book();
    let mut twin = src.services[0].clone();
    twin.service_code = "A-DUP".into();
    src.services.push(twin);
    src.rates.push(rate("A-DUP", "Z1", 500, "1.00", "8.00"));
    src.rates.push(rate("A-DUP", "Z1", 2000, "1.50", "7.50"));
    let book = build(src);
    let q = book.quote(&req()).unwrap();
    let codes: Vec<&str> = q
        .options
        .iter()
        .map(|o| &*book.service(o.service).code)
        .collect();
    assert_eq!(codes, ["A-DUP", "A-ECO", "B-JPY", "A-TRK"]);
}

/// The base book with customs rows, and without A-ECO's value cap (so landed-cost cases with
/// large declared values still have an option to price).
fn customs_book() -> Book {
    let mut src = base_book();
    src.services[0].max_value = None;
    let mut de_ioss = customs("DE", "EUR", "19", "5");
    de_ioss.duty_free_upto = Some(d("150"));
    de_ioss.tax_at_sale_upto = Some(d("150"));
    de_ioss.requires_hs6 = true;
    de_ioss.valid_to = Some(date("2026-07-01"));
    let mut de_flat = customs("DE", "EUR", "19", "5");
    de_flat.duty_free_upto = Some(d("150"));
    de_flat.tax_at_sale_upto = Some(d("150"));
    de_flat.flat_duty_per_hs6 = Some(d("3.00"));
    de_flat.requires_hs6 = true;
    de_flat.valid_from = Some(date("2026-07-01"));
    let mut gb = customs("GB", "GBP", "20", "4");
    gb.duty_free_upto = Some(d("135"));
    gb.tax_at_sale_upto = Some(d("135"));
    gb.tax_free_upto = Some(d("10"));
    gb.duty_basis = "CIF".into();
    src.customs = vec![de_ioss, de_flat, gb];
    src.duty_rates = vec![
        duty_rate("DE", "6109", "12"),
        duty_rate("DE", "61", "8"),
        duty_rate("GB", "8517", "0"),
    ];
    build(src)
}

fn line(hs: Option<&str>, value: &str, description: &str) -> ContentLine {
    ContentLine {
        description: Some(description.into()),
        hs_code: hs.map(|h| HsCode::parse(h).unwrap()),
        quantity: 1,
        value: d(value),
        origin_country: None,
    }
}

/// The first option's landed cost text for an A-ECO parcel.
fn landed(book: &Book, edit: &dyn Fn(&mut Request)) -> String {
    let mut r = req();
    r.services = vec!["A-ECO".into()];
    r.landed_cost = true;
    r.currency = cur("EUR");
    edit(&mut r);
    let text = quote(book, &r);
    let first = text.lines().next().unwrap_or("");
    let issues = text
        .lines()
        .find(|l| l.starts_with("issues"))
        .unwrap_or("no issues");
    format!(
        "{} | {issues}",
        first.split(" landed=").nth(1).unwrap_or("null")
    )
}

#[test]
fn landed_cost_follows_each_customs_rule() {
    let book = customs_book();
    let value = |amount: &str, code: &str| {
        Some(Money {
            amount: d(amount),
            currency: cur(code),
        })
    };
    type Edit = Box<dyn Fn(&mut Request)>;
    let cases: Vec<(Edit, &str)> = vec![
        // F = 6.75 USD → 6.075 → EUR 6.08. V = 100 ≤ 150: duty-free, so the flat EUR 3 per
        // HS6; no lines count as one line without a code (rate-book.md step 7): 3.00. Tax
        // collected at sale: 19 % × (100 + 3 + 6.08) = 20.7252 → 20.73.
        (
            Box::new(move |r| r.declared_value = value("100.00", "EUR")),
            "duty:3.00 tax:20.73 collected_at_sale import:3.00 | issues HS6_REQUIRED",
        ),
        // From 2026-07-01 a flat EUR 3 per distinct HS6: two subheadings → 6.00, payable at
        // import. Tax 19 % × (100 + 6 + 6.08) = 21.2952 → 21.30.
        (
            Box::new(move |r| {
                r.declared_value = value("100.00", "EUR");
                r.contents = vec![
                    line(Some("610910"), "60.00", "T-shirt"),
                    line(Some("610990"), "40.00", "Tank top"),
                ];
            }),
            "duty:6.00 tax:21.30 collected_at_sale import:6.00 | no issues",
        ),
        // Before 2026-07-01 the row without a flat duty applies: tax 19 % × 106.08 = 20.16.
        (
            Box::new(move |r| {
                r.ship_date = date("2026-06-30");
                r.declared_value = value("100.00", "EUR");
                r.contents = vec![
                    line(Some("610910"), "60.00", "T-shirt"),
                    line(Some("610990"), "40.00", "Tank top"),
                ];
            }),
            "duty:0.00 tax:20.16 collected_at_sale import:0.00 | no issues",
        ),
        // One subheading twice, and a line without a code counting as its own: 2 × 3 = 6.00.
        (
            Box::new(move |r| {
                r.declared_value = value("100.00", "EUR");
                r.contents = vec![
                    line(Some("610910"), "50.00", "T-shirt"),
                    line(Some("61091000"), "30.00", "T-shirt"),
                    line(None, "20.00", "Socks"),
                ];
            }),
            "duty:6.00 tax:21.30 collected_at_sale import:6.00 | issues HS6_REQUIRED",
        ),
        // V = 200 > 150: duty per line by the longest HS prefix: 6109… 12 % × 150 = 18.00;
        // 8517 has no DE rate: 5 % × 50 = 2.50. Tax at import 19 % × (200 + 20.50 + 6.08)
        // = 43.0502 → 43.05; import 20.50 + 43.05 = 63.55.
        (
            Box::new(move |r| {
                r.declared_value = value("200.00", "EUR");
                r.contents = vec![
                    line(Some("6109100010"), "150.00", "T-shirt"),
                    line(Some("8517"), "50.00", "Phone"),
                ];
            }),
            "duty:20.50 tax:43.05 at_import import:63.55 | issues HS6_REQUIRED",
        ),
        // The goods value converted first: USD 100 → EUR 90.00 ≤ 150, one flat duty (no
        // lines); tax 19 % × (90 + 3 + 6.08) = 18.8252 → 18.83.
        (
            Box::new(move |r| r.declared_value = value("100.00", "USD")),
            "duty:3.00 tax:18.83 collected_at_sale import:3.00 | issues HS6_REQUIRED",
        ),
        // Lines that do not add up to the declared value; a generic description. One HS6 →
        // flat 3.00; tax 19 % × (50 + 3 + 6.08) = 11.2252 → 11.23.
        (
            Box::new(move |r| {
                r.declared_value = value("50.00", "EUR");
                r.contents = vec![line(Some("950300"), "45.00", "Gift")];
            }),
            "duty:3.00 tax:11.23 collected_at_sale import:3.00 | issues GENERIC_DESCRIPTION,VALUE_MISMATCH",
        ),
        // No declared value, or no customs row for the destination: no landed cost.
        (Box::new(|_| {}), "null | issues HS6_REQUIRED"),
        (
            Box::new(move |r| {
                r.dest_country = country("FR");
                r.declared_value = value("100.00", "EUR");
            }),
            "null | no issues",
        ),
    ];
    for (i, (edit, want)) in cases.into_iter().enumerate() {
        assert_eq!(landed(&book, edit.as_ref()), want, "case {i}");
    }
}

#[test]
fn cif_duty_shares_the_freight_and_tax_can_exclude_it() {
    let book = customs_book();
    // GB in GBP: A-ECO 5.40 USD → 4.32 GBP = F. V = 200 > 135. 8517… has 0 %; the other line
    // 4 % × (50 + 4.32 × 50 / 200) = 4 % × 51.08 = 2.0432 → 2.04. Tax at import
    // 20 % × (200 + 2.04 + 4.32) = 41.272 → 41.27; import 43.31.
    let gb = |r: &mut Request| {
        r.dest_country = country("GB");
        r.currency = cur("GBP");
        r.declared_value = Some(Money {
            amount: d("200.00"),
            currency: cur("GBP"),
        });
        r.contents = vec![
            line(Some("851712"), "150.00", "Phone"),
            line(Some("420222"), "50.00", "Handbag"),
        ];
    };
    assert_eq!(
        landed(&book, &gb),
        "duty:2.04 tax:41.27 at_import import:43.31 | no issues"
    );
    // Up to GBP 10 the tax is exempt; duty-free below 135 without a flat duty.
    let small = |r: &mut Request| {
        r.dest_country = country("GB");
        r.currency = cur("GBP");
        r.declared_value = Some(Money {
            amount: d("5.00"),
            currency: cur("GBP"),
        });
    };
    assert_eq!(
        landed(&book, &small),
        "duty:0.00 tax:0.00 exempt import:0.00 | no issues"
    );
    // Without freight in the tax base: 20 % × 202.04 = 40.408 → 40.41; import 42.45.
    let mut src = base_book();
    src.services[0].max_value = None;
    let mut gb_row = customs("GB", "GBP", "20", "4");
    gb_row.duty_free_upto = Some(d("135"));
    gb_row.tax_at_sale_upto = Some(d("135"));
    gb_row.duty_basis = "CIF".into();
    gb_row.tax_includes_freight = false;
    src.customs = vec![gb_row];
    src.duty_rates = vec![duty_rate("GB", "8517", "0")];
    assert_eq!(
        landed(&build(src), &gb),
        "duty:2.04 tax:40.41 at_import import:42.45 | no issues"
    );
}

#[test]
fn ddp_always_reports_landed_cost_in_the_quote_currency() {
    let book = customs_book();
    // A-TRK 10.00 USD → F = EUR 9.00; V = 100 EUR, duty-free: one flat EUR 3 (no lines)
    // → USD 3 / 0.9 = 3.33; tax at sale 19 % × (100 + 3 + 9) = EUR 21.28 → USD 23.6444 → 23.64.
    let mut r = req();
    r.incoterm = Incoterm::Ddp;
    r.declared_value = Some(Money {
        amount: d("100.00"),
        currency: cur("EUR"),
    });
    check(
        quote(&book, &r),
        "1 A-TRK sell=10.00 cost=10.00 cg=1000 t=5-8 [BASE=10.00] landed=duty:3.33 tax:23.64 collected_at_sale import:3.33
         x A-ECO DDP_NOT_SUPPORTED
         x B-JPY DDP_NOT_SUPPORTED
         x K-KWD ORIGIN_MISMATCH
         issues HS6_REQUIRED",
    );
}

#[test]
fn bands_out_of_order_are_sorted_with_a_warning() {
    let mut src = base_book();
    src.rates.swap(0, 1);
    let (book, warnings) = compile(&numbered(src)).unwrap();
    assert!(
        warnings
            .warnings()
            .any(|p| p.table == "rates" && p.message.contains("not in increasing")),
        "{warnings:?}"
    );
    assert!(quote(&book, &req()).starts_with("1 A-ECO sell=6.75 cost=6.75 cg=700"));
}

#[test]
fn bands_heavier_than_32_bits_of_grams_are_found_by_their_full_weight() {
    // Weights above u32::MAX grams (4,295 t) do not fit the compact weights the band search
    // scans; both bands here saturate them, so only the full weights tell them apart.
    let mut src = base_book();
    src.services[1].max_weight_g = 10_000_000_000;
    src.services[1].weight_step_g = None;
    src.rates
        .retain(|r| &*r.service_code != "A-TRK" || &*r.zone != "Z1");
    src.rates.extend([
        rate("A-TRK", "Z1", 1000, "10.00", "0"),
        rate("A-TRK", "Z1", 5_000_000_000, "1.00", "0.001"),
        rate("A-TRK", "Z1", 8_000_000_000, "2.00", "0.002"),
    ]);
    let mut r = req();
    r.services = vec!["A-TRK".into()];
    let price = |min_chargeable_g: u64| {
        let mut src = src.clone();
        src.services[1].min_chargeable_g = Some(min_chargeable_g as i64);
        let text = quote(&build(src), &r);
        text.lines().next().unwrap_or("").to_string()
    };
    // 4,999,999,999 g: the first heavy band, 1 + 0.001 × 4,999,999.999 = 5,001.00.
    assert_eq!(
        price(4_999_999_999),
        "1 A-TRK sell=5001.00 cost=5001.00 cg=4999999999 t=5-8 [BASE=5001.00]"
    );
    // 5,000,000,001 g: the second, 2 + 0.002 × 5,000,000.001 = 10,002.00.
    assert_eq!(
        price(5_000_000_001),
        "1 A-TRK sell=10002.00 cost=10002.00 cg=5000000001 t=5-8 [BASE=10002.00]"
    );
    // 3,000,000,000 g fits 32 bits; the saturated weights still cover it.
    assert_eq!(
        price(3_000_000_000),
        "1 A-TRK sell=3001.00 cost=3001.00 cg=3000000000 t=5-8 [BASE=3001.00]"
    );
    // Above the last band: NO_RATE.
    src.services[1].min_chargeable_g = Some(8_000_000_001);
    assert_eq!(reasons_of(&build(src), &r, "A-TRK"), "NO_RATE");
}
