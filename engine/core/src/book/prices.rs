//! rate-book.md **prices**: customer markups (cost → sell), indexed by customer, then
//! service, then country; tied rows refuse the book.

use super::compile::{Compiler, wildcard};
use super::fx::Fx;
use super::hash::FastMap;
use crate::codes::Country;
use crate::source::{RowNo, SourceBook};
use rust_decimal::Decimal;
use std::collections::HashMap;

#[derive(Debug)]
pub(crate) struct Price {
    pub markup_percent: Decimal,
    pub markup_fixed: Decimal,
    /// The fx index of `markup_fixed`'s currency; `None` only when `markup_fixed` is zero.
    pub fx_id: Option<u16>,
}

/// The price rows of one customer (or of `*`).
#[derive(Debug, Default)]
pub(crate) struct PriceTable {
    pub by_service: FastMap<u32, Vec<(Option<Country>, u32)>>,
    pub any_service: Vec<(Option<Country>, u32)>,
}

impl PriceTable {
    /// The most specific row of this customer: service before `*`, then country before `*`.
    pub fn best(&self, service: u32, country: Country) -> Option<u32> {
        let pick = |rows: &[(Option<Country>, u32)]| {
            rows.iter()
                .find(|(c, _)| *c == Some(country))
                .or_else(|| rows.iter().find(|(c, _)| c.is_none()))
                .map(|(_, p)| *p)
        };
        self.by_service
            .get(&service)
            .and_then(|rows| pick(rows))
            .or_else(|| pick(&self.any_service))
    }
}

impl Compiler {
    #[allow(clippy::type_complexity)]
    pub(super) fn prices(
        &mut self,
        src: &SourceBook,
        fx: &Fx,
        by_code: &HashMap<Box<str>, u32>,
    ) -> (Vec<Price>, HashMap<Box<str>, PriceTable>, PriceTable) {
        let t = "prices";
        let mut prices = Vec::new();
        let mut tables: HashMap<Box<str>, PriceTable> = HashMap::new();
        let mut any_customer = PriceTable::default();
        let mut seen: HashMap<(&str, &str, &str), RowNo> = HashMap::new();
        for r in &src.prices {
            let ok_customer = self.text(t, r.row, "customer", &r.customer);
            let service = match wildcard(&r.service_code) {
                None => Some(None),
                Some(code) => match by_code.get(code) {
                    Some(&i) => Some(Some(i)),
                    None => {
                        self.unknown_service(t, r.row, code, " (use \"*\" for every service)");
                        None
                    }
                },
            };
            let country = self.country_or_any(t, r.row, "dest_country", &r.dest_country);
            let ok_amounts = self.amount(t, r.row, "markup_percent", r.markup_percent)
                & self.amount(t, r.row, "markup_fixed", r.markup_fixed);
            let currency = match r.currency.as_deref().filter(|c| !c.is_empty()) {
                Some(code) => self
                    .currency(fx, t, r.row, "currency", code)
                    .map(|(_, id)| Some(id)),
                None if r.markup_fixed.is_zero() => Some(None),
                None => {
                    self.err(
                        t,
                        r.row,
                        "currency",
                        "must name the currency of a non-zero markup_fixed",
                    );
                    None
                }
            };
            if let Some(first) = seen.insert((&r.customer, &r.service_code, &r.dest_country), r.row)
            {
                self.err(
                    t,
                    r.row,
                    "customer",
                    format!("ties with row {first}: same customer, service_code and dest_country, so neither is more specific"),
                );
                continue;
            }
            let (true, Some(service), Some(country), true, Some(fx_id)) =
                (ok_customer, service, country, ok_amounts, currency)
            else {
                continue;
            };
            let index = prices.len() as u32;
            prices.push(Price {
                markup_percent: r.markup_percent,
                markup_fixed: r.markup_fixed,
                fx_id,
            });
            let table = match wildcard(&r.customer) {
                None => &mut any_customer,
                Some(customer) => tables.entry(customer.into()).or_default(),
            };
            match service {
                Some(s) => table
                    .by_service
                    .entry(s)
                    .or_default()
                    .push((country, index)),
                None => table.any_service.push((country, index)),
            }
        }
        (prices, tables, any_customer)
    }
}
