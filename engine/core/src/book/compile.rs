//! Compilation: rate-book.md "Checks before a book can be used". Every row of every table is
//! checked once, every problem reported (table, row, column), and the indexes are built as
//! it goes; each table's checks live in the module named after it.

use super::fx::Fx;
use super::surcharges::dated_surcharges;
use super::zones::zones_by_country;
use super::{AMOUNT_MAX, Book, WHOLE_MAX};
use crate::codes::{Country, Date, Postcode, Validity};
use crate::money::Currency;
use crate::report::Report;
use crate::source::{RowNo, SourceBook};
use rust_decimal::Decimal;

/// Checks a source book and compiles it. `Ok` carries the warnings; `Err` lists every
/// problem found (errors and warnings), by table, row and column.
///
/// A book with unreadable tables ([`SourceBook::unreadable_tables`]) is always refused; its
/// report holds only what the readable rows show, not the consequences of the missing ones
/// (every service without a chart, every zone without a band…).
pub fn compile(src: &SourceBook) -> Result<(Book, Report), Report> {
    let mut c = Compiler {
        report: Report::default(),
        exact_only: false,
        refused_services: Default::default(),
        unreadable: Unreadable::of(src),
    };
    let book = c.build(src);
    match book {
        Some(book) if !c.report.has_errors() && src.unreadable_tables.is_empty() => {
            book.check_invariants();
            Ok((book, c.report))
        }
        _ => Err(c.report),
    }
}

/// Which tables other tables look rows up in could not be read: lookups into them are not
/// reported as failing, since every one would (the reader reported the cause once).
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Unreadable {
    pub(super) services: bool,
    pub(super) zones: bool,
    pub(super) rates: bool,
    pub(super) fx: bool,
}

impl Unreadable {
    fn of(src: &SourceBook) -> Unreadable {
        Unreadable {
            services: src.is_unreadable("services"),
            zones: src.is_unreadable("zones"),
            rates: src.is_unreadable("rates"),
            fx: src.is_unreadable("fx"),
        }
    }
}

pub(super) struct Compiler {
    pub(super) report: Report,
    /// Set when an fx ratio does not fit the fast path's integers.
    pub(super) exact_only: bool,
    /// Codes of services that exist but were refused for their own problems: rows that name
    /// them are not reported again as naming no service (the cause is already listed).
    pub(super) refused_services: std::collections::HashSet<String>,
    pub(super) unreadable: Unreadable,
}

/// A key column's value: a specific code, or `*` for any.
pub(super) fn wildcard(value: &str) -> Option<&str> {
    (value != "*").then_some(value)
}

pub(super) fn validity(from: Option<Date>, to: Option<Date>) -> Validity {
    Validity { from, to }
}

impl Compiler {
    pub(super) fn err(
        &mut self,
        table: &str,
        row: RowNo,
        column: &str,
        message: impl Into<String>,
    ) {
        self.report.error(table, Some(row), Some(column), message);
    }

    pub(super) fn text(&mut self, table: &str, row: RowNo, column: &str, value: &str) -> bool {
        if value.is_empty() {
            self.err(table, row, column, "must not be empty");
            false
        } else if value.trim() != value {
            self.err(
                table,
                row,
                column,
                format!("{value:?} has leading or trailing spaces"),
            );
            false
        } else {
            true
        }
    }

    pub(super) fn country(
        &mut self,
        table: &str,
        row: RowNo,
        column: &str,
        value: &str,
    ) -> Option<Country> {
        let parsed = Country::parse(value);
        if parsed.is_none() {
            self.err(
                table,
                row,
                column,
                format!("{value:?} is not an upper-case ISO 3166-1 alpha-2 country code"),
            );
        }
        parsed
    }

    /// A country or `*`: `Some(None)` for `*`, `None` when invalid.
    pub(super) fn country_or_any(
        &mut self,
        table: &str,
        row: RowNo,
        column: &str,
        value: &str,
    ) -> Option<Option<Country>> {
        match wildcard(value) {
            None => Some(None),
            Some(code) => self.country(table, row, column, code).map(Some),
        }
    }

    pub(super) fn currency(
        &mut self,
        fx: &Fx,
        table: &str,
        row: RowNo,
        column: &str,
        value: &str,
    ) -> Option<(Currency, u16)> {
        let Some(currency) = Currency::from_code(value) else {
            self.err(
                table,
                row,
                column,
                format!("{value:?} is not an upper-case ISO 4217 currency code"),
            );
            return None;
        };
        match fx.id(currency) {
            Some(id) => Some((currency, id)),
            None => {
                if !self.unreadable.fx {
                    self.err(table, row, column, format!("{value} has no row in fx"));
                }
                None
            }
        }
    }

    pub(super) fn amount(&mut self, table: &str, row: RowNo, column: &str, value: Decimal) -> bool {
        if value.is_sign_negative() && !value.is_zero() {
            self.err(table, row, column, format!("{value} is negative"));
            false
        } else if value >= AMOUNT_MAX {
            self.err(
                table,
                row,
                column,
                format!("{value} is out of range (must be below 10^15)"),
            );
            false
        } else {
            true
        }
    }

    pub(super) fn opt_amount(
        &mut self,
        table: &str,
        row: RowNo,
        column: &str,
        value: Option<Decimal>,
    ) -> bool {
        value.is_none_or(|v| self.amount(table, row, column, v))
    }

    /// A whole number within `min..WHOLE_MAX`.
    pub(super) fn whole(
        &mut self,
        table: &str,
        row: RowNo,
        column: &str,
        value: i64,
        min: i64,
    ) -> Option<u64> {
        if value < min {
            let what = if min == 0 {
                "must not be negative"
            } else {
                "must be at least 1"
            };
            self.err(table, row, column, format!("{value} {what}"));
            None
        } else if value >= WHOLE_MAX {
            self.err(table, row, column, format!("{value} is out of range"));
            None
        } else {
            Some(value as u64)
        }
    }

    pub(super) fn opt_whole(
        &mut self,
        table: &str,
        row: RowNo,
        column: &str,
        value: Option<i64>,
        min: i64,
    ) -> Result<Option<u64>, ()> {
        match value {
            None => Ok(None),
            Some(v) => self.whole(table, row, column, v, min).map(Some).ok_or(()),
        }
    }

    pub(super) fn window(
        &mut self,
        table: &str,
        row: RowNo,
        from: Option<Date>,
        to: Option<Date>,
    ) -> Validity {
        if let (Some(f), Some(t)) = (from, to)
            && t <= f
        {
            self.err(
                table,
                row,
                "valid_to",
                format!("{t} is not after valid_from {f}"),
            );
        }
        validity(from, to)
    }

    /// Reports a row naming a service that does not exist, unless the service exists but was
    /// refused for its own problems (already reported in `services`).
    pub(super) fn unknown_service(&mut self, table: &str, row: RowNo, code: &str, hint: &str) {
        if !self.unreadable.services && !self.refused_services.contains(code) {
            self.err(
                table,
                row,
                "service_code",
                format!("{code:?} is not a service{hint}"),
            );
        }
    }

    pub(super) fn prefix(
        &mut self,
        table: &str,
        row: RowNo,
        value: Option<&str>,
    ) -> Result<Option<Postcode>, ()> {
        let Some(raw) = value.filter(|v| *v != "*") else {
            return Ok(None);
        };
        Postcode::normalise(raw)
            .map_err(|why| self.err(table, row, "postcode_prefix", format!("{raw:?} {why}")))
    }

    pub(super) fn build(&mut self, src: &SourceBook) -> Option<Book> {
        let base = Currency::from_code(&src.base_currency);
        if base.is_none() {
            self.report.error(
                "book.toml",
                None,
                Some("base_currency"),
                format!("{:?} is not an ISO 4217 currency code", src.base_currency),
            );
        }
        if src.name.trim().is_empty() {
            self.report
                .error("book.toml", None, Some("name"), "must not be empty");
        }
        let fx = self.fx(src, base);
        let charts = self.zones(src);
        let (mut services, service_by_code, carriers) = self.services(src, &fx, &charts);
        let rates = self.rates(src, &mut services, &charts);
        let (surcharges, line_codes) = self.surcharges(src, &mut services, &service_by_code);
        let dated_surcharges = dated_surcharges(&surcharges, &mut services);
        let restrictions = self.restrictions(src, &service_by_code);
        let (prices, price_tables, price_any_customer) = self.prices(src, &fx, &service_by_code);
        let (customs, customs_any_country) = self.customs(src, &fx);
        let (duty_rates, duty_rates_any_country) = self.duty_rates(src);
        let segments = self.segments(src, &service_by_code);
        self.warn_unreachable(&services, &charts, &rates.zone_bands);
        let base = base?;
        let zones_by_country = zones_by_country(&charts);
        let hash8: String = src.content_hash.chars().take(8).collect();
        let rows = src.services.len()
            + src.zones.len()
            + src.rates.len()
            + src.surcharges.len()
            + src.restrictions.len()
            + src.prices.len()
            + src.fx.len()
            + src.customs.len()
            + src.duty_rates.len()
            + src.segments.len();
        Some(Book {
            name: src.name.clone(),
            label: format!("{}@{hash8}", src.name),
            content_hash: src.content_hash.clone(),
            notes: src.notes.clone(),
            base,
            services,
            service_by_code,
            carriers,
            charts,
            zones_by_country,
            zone_bands: rates.zone_bands,
            bands_fast: rates.bands_fast,
            bands: rates.bands,
            heavy_band_weights: rates.heavy_band_weights,
            rate_scale: rates.rate_scale,
            surcharges,
            dated_surcharges,
            line_codes,
            restrictions,
            prices,
            price_tables,
            price_any_customer,
            fx,
            customs,
            customs_any_country,
            duty_rates,
            duty_rates_any_country,
            segments,
            exact_only: rates.exact_only || self.exact_only,
            rows,
        })
    }
}
