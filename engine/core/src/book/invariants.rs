//! The compiled book's invariants, asserted once it is built.
//!
//! Each invariant is written beside the field of [`Book`] it constrains, named in brackets
//! (`services sorted`, `zone bands`, `hot and cold`…); [`Book::check_invariants`] asserts
//! every one of them. `compile` calls it on every book it returns, in builds with debug
//! assertions (debug and test); a release build compiles the checks away, since the quote
//! path relies on them without checking.

use super::rates::{FAST_SCALE_MAX, scale_to_i64};
use super::{AMOUNT_MAX, Book, Service};
use rust_decimal::Decimal;

impl Book {
    /// Panics, in builds with debug assertions, when the book breaks an invariant its fields
    /// promise: a bug in `compile`, never a problem of the book's rows.
    pub(crate) fn check_invariants(&self) {
        if !cfg!(debug_assertions) {
            return;
        }
        self.check_services();
        self.check_zones();
        self.check_bands();
        self.check_surcharges();
        self.check_restrictions_and_prices();
        self.check_fx_customs_and_segments();
    }

    fn check_services(&self) {
        // services sorted
        debug_assert!(
            self.services.windows(2).all(|w| w[0].code < w[1].code),
            "services are not sorted strictly by code"
        );
        // service index
        debug_assert_eq!(self.service_by_code.len(), self.services.len());
        for (i, s) in self.services.iter().enumerate() {
            debug_assert_eq!(self.service_index(&s.code), Some(i as u32), "{}", s.code);
            // service refs
            debug_assert!((s.chart as usize) < self.charts.len(), "{}: chart", s.code);
            debug_assert_eq!(
                self.carriers.get(s.carrier_id as usize).map(|c| &**c),
                Some(&*s.carrier),
                "{}: carrier",
                s.code
            );
            debug_assert_eq!(
                self.fx.rates.get(usize::from(s.fx_id)).map(|r| r.0),
                Some(s.currency),
                "{}: fx id",
                s.code
            );
            debug_assert!(s.weight_step_g >= 1, "{}: weight step", s.code);
        }
    }

    fn check_zones(&self) {
        // charts
        for chart in &self.charts {
            for cz in chart.by_country.values().chain(&chart.any_country) {
                let hits = cz
                    .whole
                    .iter()
                    .chain(cz.prefixes.iter().map(|(_, hit)| hit));
                for hit in hits {
                    debug_assert!((hit.zone as usize) < chart.zones.len(), "{}", chart.name);
                    debug_assert!(hit.transit_days_min <= hit.transit_days_max);
                }
                debug_assert!(
                    cz.prefixes.windows(2).all(|w| w[0].0 < w[1].0),
                    "chart {}: prefixes are not sorted strictly",
                    chart.name
                );
            }
        }
        // zones by country
        for (country, rows) in &self.zones_by_country {
            for (chart, cz) in rows {
                let own = self
                    .charts
                    .get(*chart as usize)
                    .and_then(|c| c.by_country.get(country));
                debug_assert_eq!(own.map(|o| o.prefixes.len()), Some(cz.prefixes.len()));
                debug_assert_eq!(own.map(|o| o.whole), Some(cz.whole));
            }
        }
    }

    /// The zones of `s`'s chart, as entries of `zone_bands`.
    fn zone_range(&self, s: &Service) -> std::ops::Range<usize> {
        let start = s.zone_bands_at as usize;
        let zones = self
            .charts
            .get(s.chart as usize)
            .map_or(0, |c| c.zones.len());
        start..start + zones
    }

    fn check_bands(&self) {
        // zone bands: the services' ranges tile `zone_bands` in service order.
        let mut next = 0;
        for s in &self.services {
            let range = self.zone_range(s);
            debug_assert_eq!(range.start, next, "{}: zone bands do not follow on", s.code);
            next = range.end;
        }
        debug_assert_eq!(
            next,
            self.zone_bands.len(),
            "zone bands past the last service"
        );
        // hot and cold
        debug_assert_eq!(self.bands_fast.len(), self.bands.len());
        debug_assert!(self.exact_only || self.rate_scale <= FAST_SCALE_MAX);
        for zb in &self.zone_bands {
            let range = zb.start as usize..(zb.start + zb.len) as usize;
            debug_assert!(
                range.end <= self.bands.len(),
                "a zone's bands out of bounds"
            );
            let weights: Vec<u64> = range.clone().map(|i| self.band_weight(i)).collect();
            debug_assert!(
                weights.windows(2).all(|w| w[0] < w[1]),
                "a zone's bands are not strictly increasing in weight: {weights:?}"
            );
            debug_assert_eq!(zb.max_weight_g, weights.last().copied().unwrap_or(0));
        }
        for (i, (fast, band)) in self.bands_fast.iter().zip(&self.bands).enumerate() {
            // amounts
            for amount in [band.fixed, band.per_kg] {
                debug_assert!(!amount.is_sign_negative() || amount.is_zero(), "band {i}");
                debug_assert!(amount < AMOUNT_MAX, "band {i}");
            }
            if !self.exact_only {
                let (fixed, per_g) = (fast.fixed_scaled, fast.per_g_scaled);
                debug_assert_eq!(scale_to_i64(band.fixed, self.rate_scale), Some(fixed));
                debug_assert_eq!(scale_to_i64(band.per_kg, self.rate_scale - 3), Some(per_g));
            }
            // heavy bands
            let saturated = { fast.max_weight_g } == u32::MAX;
            let heavy = self.heavy_band_weights.get(&(i as u32));
            debug_assert_eq!(saturated, heavy.is_some(), "band {i}");
            debug_assert!(heavy.is_none_or(|w| *w >= u64::from(u32::MAX)), "band {i}");
        }
    }

    fn check_surcharges(&self) {
        // line codes
        debug_assert_eq!(self.line_codes.first().map(|c| &**c), Some("BASE"));
        for (i, code) in self.line_codes.iter().enumerate() {
            debug_assert!(
                !self.line_codes[..i].contains(code),
                "line code {code} twice"
            );
        }
        for (i, sur) in self.surcharges.iter().enumerate() {
            debug_assert!((sur.line as usize) < self.line_codes.len(), "surcharge {i}");
            debug_assert!(sur.line > 0, "surcharge {i} is on the BASE line");
            for amount in [Some(sur.amount), sur.minimum].into_iter().flatten() {
                debug_assert!(
                    !amount.is_sign_negative() || amount.is_zero(),
                    "surcharge {i}"
                );
                debug_assert!(amount < AMOUNT_MAX, "surcharge {i}");
            }
        }
        // surcharge refs, dated index
        let in_table_order = |rows: &[u32]| {
            rows.windows(2).all(|w| w[0] < w[1])
                && rows.iter().all(|&r| (r as usize) < self.surcharges.len())
        };
        for s in &self.services {
            debug_assert!(in_table_order(&s.surcharges_any_country), "{}", s.code);
            self.dated_surcharges.check_list(
                s.dated_any_country,
                &s.surcharges_any_country,
                &self.surcharges,
            );
            debug_assert!(
                s.dated_countries.windows(2).all(|w| w[0] < w[1]),
                "{}: dated countries are not sorted strictly",
                s.code
            );
            debug_assert_eq!(s.dated_countries.len(), s.surcharges_by_country.len());
            debug_assert_eq!(s.dated_by_country.len(), s.surcharges_by_country.len());
            for (country, list) in s.dated_countries.iter().zip(&s.dated_by_country) {
                let rows = s.surcharges_by_country.get(country);
                debug_assert!(rows.is_some(), "{}: {country:?}", s.code);
                let rows = rows.map_or(&[][..], |r| &r[..]);
                debug_assert!(in_table_order(rows), "{}: {country:?}", s.code);
                self.dated_surcharges
                    .check_list(*list, rows, &self.surcharges);
            }
        }
    }

    fn check_restrictions_and_prices(&self) {
        let services = self.services.len();
        // restrictions
        for (category, rules) in &self.restrictions {
            debug_assert!(
                rules.by_service.is_empty() || rules.by_service.len() == services,
                "restrictions of {category}"
            );
        }
        // prices
        for (i, price) in self.prices.iter().enumerate() {
            match price.fx_id {
                Some(id) => debug_assert!(usize::from(id) < self.fx.rates.len(), "price {i}"),
                None => debug_assert!(price.markup_fixed.is_zero(), "price {i}"),
            }
        }
        // price tables
        let tables = self.price_tables.values().chain([&self.price_any_customer]);
        for table in tables {
            let rows = table
                .by_service
                .values()
                .flatten()
                .chain(&table.any_service);
            for (_, row) in rows {
                debug_assert!((*row as usize) < self.prices.len());
            }
            debug_assert!(table.by_service.keys().all(|s| (*s as usize) < services));
        }
    }

    fn check_fx_customs_and_segments(&self) {
        // fx
        let n = self.fx.rates.len();
        debug_assert_eq!(self.fx.pairs.len(), n * n);
        debug_assert!(self.fx.rates.iter().all(|(_, r)| *r > Decimal::ZERO));
        debug_assert_eq!(
            self.fx.id(self.base).map(|id| self.fx.per_base(id)),
            Some(Decimal::ONE)
        );
        // customs
        let all_rules = self.customs.values().chain([&self.customs_any_country]);
        for rules in all_rules {
            for (i, rule) in rules.iter().enumerate() {
                debug_assert_eq!(
                    self.fx.rates.get(usize::from(rule.fx_id)).map(|r| r.0),
                    Some(rule.currency)
                );
                debug_assert!(
                    rules[..i]
                        .iter()
                        .all(|r| !r.validity.overlaps(&rule.validity)),
                    "customs rules of one country overlap"
                );
            }
        }
        // duty rates
        let all_rates = self
            .duty_rates
            .values()
            .chain([&self.duty_rates_any_country]);
        for rows in all_rates {
            debug_assert!(rows.windows(2).all(|w| w[0].0 < w[1].0));
        }
        // segments
        debug_assert!(
            self.segments
                .windows(2)
                .all(|w| (w[0].service, w[0].seq) <= (w[1].service, w[1].seq))
        );
        debug_assert!(
            self.segments
                .iter()
                .all(|s| (s.service as usize) < self.services.len())
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::book::Segment;
    use crate::codes::Date;
    use crate::source::*;
    use std::panic::{AssertUnwindSafe, catch_unwind};
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    /// Two services on one chart, bands in two zones, dated and undated surcharges, customs
    /// and duty rates: a little of every index.
    fn small_book() -> Book {
        let service = |code: &str, currency: &str| ServiceRow {
            service_code: code.into(),
            carrier: "Alpha".into(),
            name: code.into(),
            origin_country: "CN".into(),
            currency: currency.into(),
            zone_chart: "C".into(),
            max_weight_g: 30_000,
            ..ServiceRow::default()
        };
        let zone = |country: &str, prefix: Option<&str>, zone: &str| ZoneRow {
            zone_chart: "C".into(),
            dest_country: country.into(),
            postcode_prefix: prefix.map(Into::into),
            zone: zone.into(),
            transit_days_min: 3,
            transit_days_max: 6,
            ..ZoneRow::default()
        };
        let rate = |code: &str, zone: &str, g: i64, fixed: &str| RateRow {
            service_code: code.into(),
            zone: zone.into(),
            max_weight_g: g,
            fixed: d(fixed),
            per_kg: d("1.5"),
            ..RateRow::default()
        };
        let fuel = |from: &str, to: &str| SurchargeRow {
            service_code: "*".into(),
            code: "FUEL".into(),
            kind: "percent_of_base".into(),
            amount: d("10"),
            valid_from: Date::parse(from),
            valid_to: Date::parse(to),
            ..SurchargeRow::default()
        };
        let src = SourceBook {
            name: "small".into(),
            base_currency: "USD".into(),
            content_hash: "00".into(),
            services: vec![service("B", "EUR"), service("A", "USD")],
            zones: vec![zone("DE", None, "Z1"), zone("DE", Some("1"), "Z2")],
            rates: vec![
                rate("A", "Z1", 2000, "2"),
                rate("A", "Z1", 500, "1"),
                rate("B", "Z2", 1000, "3"),
            ],
            surcharges: vec![
                fuel("2026-01-05", "2026-01-12"),
                fuel("2026-01-12", "2026-01-19"),
                SurchargeRow {
                    service_code: "A".into(),
                    code: "REMOTE".into(),
                    kind: "fixed".into(),
                    amount: d("2"),
                    dest_country: Some("DE".into()),
                    ..SurchargeRow::default()
                },
            ],
            fx: vec![FxRow {
                currency: "EUR".into(),
                per_base: d("0.9"),
                ..FxRow::default()
            }],
            customs: vec![CustomsRow {
                dest_country: "DE".into(),
                currency: "EUR".into(),
                vat_percent: d("19"),
                duty_percent: d("4"),
                duty_basis: "CIF".into(),
                ..CustomsRow::default()
            }],
            ..SourceBook::default()
        };
        match crate::compile(&src) {
            Ok((book, _)) => book,
            Err(report) => panic!("{report:?}"),
        }
    }

    fn breaks(what: &str, edit: impl FnOnce(&mut Book)) {
        let mut book = small_book();
        edit(&mut book);
        let caught = catch_unwind(AssertUnwindSafe(|| book.check_invariants()));
        assert!(
            caught.is_err(),
            "{what}: the broken book passed its invariants"
        );
    }

    #[test]
    #[cfg_attr(not(debug_assertions), ignore = "asserted only with debug assertions")]
    fn a_compiled_book_passes_and_each_broken_invariant_is_caught() {
        small_book().check_invariants();
        breaks("services sorted", |b| b.services.swap(0, 1));
        breaks("zone bands", |b| b.bands.swap(0, 1));
        breaks("hot and cold", |b| {
            b.bands.pop();
        });
        breaks("dated index", |b| {
            b.services[0].surcharges_any_country.reverse()
        });
        breaks("line codes", |b| b.line_codes.swap(0, 1));
        breaks("fx", |b| {
            b.fx.pairs.pop();
        });
        breaks("segments", |b| {
            b.segments.push(Segment {
                service: 9,
                seq: 0,
                kind: "hub".into(),
                carrier: "X".into(),
                label: "X".into(),
            })
        });
    }
}
