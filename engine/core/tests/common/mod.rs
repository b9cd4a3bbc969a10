//! A small rate book for pricing tests, built row by row, and a one-line rendering of quotes
//! so that expected answers read like the spec's arithmetic.
#![allow(dead_code)]

use crossdock_engine::source::*;
use crossdock_engine::*;
use std::str::FromStr;

pub fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

pub fn date(s: &str) -> Date {
    Date::parse(s).unwrap()
}

pub fn svc(
    code: &str,
    carrier: &str,
    origin: &str,
    currency: &str,
    chart: &str,
    max_weight_g: i64,
) -> ServiceRow {
    ServiceRow {
        service_code: code.into(),
        carrier: carrier.into(),
        name: code.into(),
        origin_country: origin.into(),
        currency: currency.into(),
        zone_chart: chart.into(),
        tracked: true,
        ddp: true,
        max_weight_g,
        ..ServiceRow::default()
    }
}

pub fn zone(
    chart: &str,
    country: &str,
    prefix: Option<&str>,
    zone: &str,
    tmin: i64,
    tmax: i64,
) -> ZoneRow {
    ZoneRow {
        zone_chart: chart.into(),
        dest_country: country.into(),
        postcode_prefix: prefix.map(Into::into),
        zone: zone.into(),
        transit_days_min: tmin,
        transit_days_max: tmax,
        ..ZoneRow::default()
    }
}

pub fn rate(service: &str, zone: &str, max_weight_g: i64, fixed: &str, per_kg: &str) -> RateRow {
    RateRow {
        service_code: service.into(),
        zone: zone.into(),
        max_weight_g,
        fixed: d(fixed),
        per_kg: d(per_kg),
        ..RateRow::default()
    }
}

pub fn sur(service: &str, code: &str, kind: &str, amount: &str) -> SurchargeRow {
    SurchargeRow {
        service_code: service.into(),
        code: code.into(),
        kind: kind.into(),
        amount: d(amount),
        ..SurchargeRow::default()
    }
}

pub fn restrict(service: &str, country: &str, category: &str, action: &str) -> RestrictionRow {
    RestrictionRow {
        service_code: service.into(),
        dest_country: country.into(),
        category: category.into(),
        action: action.into(),
        ..RestrictionRow::default()
    }
}

pub fn price(
    customer: &str,
    service: &str,
    country: &str,
    percent: &str,
    fixed: &str,
    currency: Option<&str>,
) -> PriceRow {
    PriceRow {
        customer: customer.into(),
        service_code: service.into(),
        dest_country: country.into(),
        markup_percent: d(percent),
        markup_fixed: d(fixed),
        currency: currency.map(Into::into),
        ..PriceRow::default()
    }
}

pub fn fx(currency: &str, per_base: &str) -> FxRow {
    FxRow {
        currency: currency.into(),
        per_base: d(per_base),
        ..FxRow::default()
    }
}

pub fn customs(country: &str, currency: &str, vat: &str, duty: &str) -> CustomsRow {
    CustomsRow {
        dest_country: country.into(),
        currency: currency.into(),
        vat_percent: d(vat),
        duty_percent: d(duty),
        duty_basis: "FOB".into(),
        tax_includes_freight: true,
        ..CustomsRow::default()
    }
}

pub fn duty_rate(country: &str, prefix: &str, percent: &str) -> DutyRateRow {
    DutyRateRow {
        dest_country: country.into(),
        hs_prefix: prefix.into(),
        duty_percent: d(percent),
        ..DutyRateRow::default()
    }
}

/// The test book: USD base; services
/// - A-ECO (Alpha, CN, USD, chart CA): untracked, no DDP, ≤ 2 kg, ≤ 600 mm, girth ≤ 900 mm,
///   value ≤ USD 100, 10 g steps;
/// - A-TRK (Alpha, CN, USD, chart CA): tracked, DDP, ≤ 30 kg, volumetric ÷5000, 500 g steps;
/// - B-JPY (Beta, CN, JPY, chart CB): tracked, no DDP, ≤ 5 kg;
/// - K-KWD (Kappa, HK, KWD, chart CA): tracked, DDP, ≤ 5 kg.
///
/// Zones: CA: DE whole Z1 (5–8 days), DE "1…" Z2 (4–6), GB whole Z3 (6–9), FR whole Z3 (6–9);
/// CB: DE whole J1 (7–10).
pub fn base_book() -> SourceBook {
    let mut eco = svc("A-ECO", "Alpha", "CN", "USD", "CA", 2000);
    eco.tracked = false;
    eco.ddp = false;
    eco.max_length_mm = Some(600);
    eco.max_girth_mm = Some(900);
    eco.max_value = Some(d("100"));
    eco.weight_step_g = Some(10);
    let mut trk = svc("A-TRK", "Alpha", "CN", "USD", "CA", 30000);
    trk.volumetric_divisor = Some(5000);
    trk.weight_step_g = Some(500);
    let mut jpy = svc("B-JPY", "Beta", "CN", "JPY", "CB", 5000);
    jpy.ddp = false;
    let kwd = svc("K-KWD", "Kappa", "HK", "KWD", "CA", 5000);
    SourceBook {
        name: "test".into(),
        base_currency: "USD".into(),
        content_hash: "0123456789abcdef".into(),
        services: vec![eco, trk, jpy, kwd],
        zones: vec![
            zone("CA", "DE", None, "Z1", 5, 8),
            zone("CA", "DE", Some("1"), "Z2", 4, 6),
            zone("CA", "GB", None, "Z3", 6, 9),
            zone("CA", "FR", None, "Z3", 6, 9),
            zone("CB", "DE", None, "J1", 7, 10),
        ],
        rates: vec![
            rate("A-ECO", "Z1", 500, "1.00", "8.00"),
            rate("A-ECO", "Z1", 2000, "1.50", "7.50"),
            rate("A-ECO", "Z2", 2000, "2.00", "9.00"),
            rate("A-ECO", "Z3", 2000, "1.20", "6.00"),
            rate("A-TRK", "Z1", 1000, "10.00", "0"),
            rate("A-TRK", "Z1", 5000, "12.00", "4.00"),
            rate("A-TRK", "Z1", 30000, "20.00", "3.50"),
            rate("A-TRK", "Z2", 30000, "15.00", "4.00"),
            rate("A-TRK", "Z3", 30000, "18.00", "5.00"),
            rate("B-JPY", "J1", 5000, "300", "1234.5"),
            rate("K-KWD", "Z1", 5000, "1.234", "2.345"),
        ],
        fx: vec![
            fx("USD", "1"),
            fx("EUR", "0.9"),
            fx("GBP", "0.8"),
            fx("JPY", "150"),
            fx("KWD", "0.3"),
            fx("CNY", "7.2"),
        ],
        ..SourceBook::default()
    }
}

/// Numbers every row of every table 1, 2, 3… as a loader would.
pub fn numbered(mut src: SourceBook) -> SourceBook {
    macro_rules! number {
        ($($t:ident),*) => {$(for (i, r) in src.$t.iter_mut().enumerate() { r.row = i as u32 + 1; })*};
    }
    number!(
        services,
        zones,
        rates,
        surcharges,
        restrictions,
        prices,
        fx,
        customs,
        duty_rates,
        segments
    );
    src
}

pub fn build(src: SourceBook) -> Book {
    match compile(&numbered(src)) {
        Ok((book, _)) => book,
        Err(report) => panic!(
            "test book refused:\n{}",
            report
                .problems
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        ),
    }
}

/// CN → DE, 700 g, quoted in USD on 2026-11-24.
pub fn req() -> Request {
    Request::new(
        Country::parse("CN").unwrap(),
        Country::parse("DE").unwrap(),
        700,
        Currency::from_code("USD").unwrap(),
        date("2026-11-24"),
    )
}

pub fn cur(code: &str) -> Currency {
    Currency::from_code(code).unwrap()
}

pub fn country(code: &str) -> Country {
    Country::parse(code).unwrap()
}

/// Quotes on both paths, asserts they agree, and renders the answer one item per line:
/// `1 A-ECO sell=7.43 cost=6.75 cg=700 t=5-8 [BASE=6.75]` / `x K-KWD ORIGIN_MISMATCH` /
/// `issues HS6_REQUIRED`.
pub fn quote(book: &Book, request: &Request) -> String {
    let fast = book.quote(request).unwrap();
    let exact = book.quote_exact(request).unwrap();
    assert_eq!(
        fast, exact,
        "the fast path disagrees with the exact definition"
    );
    render(book, &fast)
}

pub fn render(book: &Book, q: &Quote) -> String {
    let c = q.currency;
    let mut out = Vec::new();
    for o in &q.options {
        let s = book.service(o.service);
        let lines: Vec<String> = q
            .option_lines(o)
            .iter()
            .map(|l| format!("{}={}", book.line_code(l.code), c.format_minor(l.amount)))
            .collect();
        let mut text = format!(
            "{} {} sell={} cost={} cg={} t={}-{} [{}]",
            o.rank,
            s.code,
            c.format_minor(o.sell),
            c.format_minor(o.cost),
            o.chargeable_weight_g,
            o.transit_days_min,
            o.transit_days_max,
            lines.join(" ")
        );
        assert_eq!(o.margin, o.sell - o.cost);
        assert_eq!(
            q.option_lines(o).iter().map(|l| l.amount).sum::<i64>(),
            o.cost,
            "lines must add up to cost"
        );
        if let Some(l) = &o.landed_cost {
            text.push_str(&format!(
                " landed=duty:{} tax:{} {} import:{}",
                c.format_minor(l.duty),
                c.format_minor(l.tax),
                l.scheme.code(),
                c.format_minor(l.import_charges)
            ));
        }
        out.push(text);
    }
    for x in &q.excluded {
        let reasons: Vec<&str> = x.reasons.iter().map(|r| r.code()).collect();
        out.push(format!(
            "x {} {}",
            book.service(x.service).code,
            reasons.join(",")
        ));
    }
    let issues: Vec<&str> = q.customs_issues.iter().map(|i| i.code()).collect();
    if !issues.is_empty() {
        out.push(format!("issues {}", issues.join(",")));
    }
    out.join("\n")
}

/// Compares a rendered quote with the expected text, ignoring indentation.
#[track_caller]
pub fn check(actual: String, expected: &str) {
    let expected: Vec<&str> = expected
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let actual_lines: Vec<&str> = actual.lines().collect();
    assert_eq!(actual_lines, expected, "\nactual:\n{actual}\n");
}
