//! rate-book.md **customs** and **duty_rates**: per-destination customs rules (valid on the
//! ship date, exact country before `*`) and duty rates by longest HS prefix.

use super::Book;
use super::compile::Compiler;
use super::fx::Fx;
use super::hash::FastMap;
use crate::codes::{Country, Date, Validity};
use crate::money::Currency;
use crate::source::{RowNo, SourceBook};
use rust_decimal::Decimal;
use std::collections::HashMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DutyBasis {
    Fob,
    Cif,
}

#[derive(Debug)]
pub(crate) struct CustomsRule {
    pub currency: Currency,
    pub fx_id: u16,
    pub duty_free_upto: Option<Decimal>,
    pub tax_free_upto: Option<Decimal>,
    pub tax_at_sale_upto: Option<Decimal>,
    pub vat_percent: Decimal,
    pub duty_percent: Decimal,
    pub flat_duty_per_hs6: Option<Decimal>,
    pub duty_basis: DutyBasis,
    pub tax_includes_freight: bool,
    pub requires_hs6: bool,
    pub validity: Validity,
}

impl Book {
    pub(crate) fn customs_rule(&self, country: Country, date: Date) -> Option<&CustomsRule> {
        let pick = |rules: &'_ [CustomsRule]| -> Option<usize> {
            rules.iter().position(|r| r.validity.contains(date))
        };
        if let Some(rules) = self.customs.get(&country)
            && let Some(i) = pick(rules)
        {
            return Some(&rules[i]);
        }
        pick(&self.customs_any_country).map(|i| &self.customs_any_country[i])
    }

    /// The duty rate of an HS code: the longest matching prefix of `duty_rates`, exact
    /// country before `*`.
    pub(crate) fn duty_rate(&self, country: Country, hs: &str) -> Option<Decimal> {
        let longest = |rows: &[(Box<str>, Decimal)]| {
            (1..=hs.len()).rev().find_map(|len| {
                let key = &hs[..len];
                rows.binary_search_by(|(p, _)| (**p).cmp(key))
                    .ok()
                    .map(|i| rows[i].1)
            })
        };
        self.duty_rates
            .get(&country)
            .and_then(|rows| longest(rows))
            .or_else(|| longest(&self.duty_rates_any_country))
    }
}

impl Compiler {
    #[allow(clippy::type_complexity)]
    pub(super) fn customs(
        &mut self,
        src: &SourceBook,
        fx: &Fx,
    ) -> (FastMap<Country, Vec<CustomsRule>>, Vec<CustomsRule>) {
        let t = "customs";
        let mut by_country: HashMap<Option<Country>, Vec<(RowNo, CustomsRule)>> = HashMap::new();
        for r in &src.customs {
            let country = self.country_or_any(t, r.row, "dest_country", &r.dest_country);
            let currency = self.currency(fx, t, r.row, "currency", &r.currency);
            let amounts = [
                ("duty_free_upto", r.duty_free_upto),
                ("tax_free_upto", r.tax_free_upto),
                ("tax_at_sale_upto", r.tax_at_sale_upto),
                ("vat_percent", Some(r.vat_percent)),
                ("duty_percent", Some(r.duty_percent)),
                ("flat_duty_per_hs6", r.flat_duty_per_hs6),
            ];
            let mut ok = true;
            for (column, value) in amounts {
                ok &= self.opt_amount(t, r.row, column, value);
            }
            let basis = match r.duty_basis.as_str() {
                "FOB" => Some(DutyBasis::Fob),
                "CIF" => Some(DutyBasis::Cif),
                other => {
                    self.err(
                        t,
                        r.row,
                        "duty_basis",
                        format!("{other:?} is not FOB or CIF"),
                    );
                    None
                }
            };
            let window = self.window(t, r.row, r.valid_from, r.valid_to);
            let (Some(country), Some((currency, fx_id)), true, Some(duty_basis)) =
                (country, currency, ok, basis)
            else {
                continue;
            };
            let rule = CustomsRule {
                currency,
                fx_id,
                duty_free_upto: r.duty_free_upto,
                tax_free_upto: r.tax_free_upto,
                tax_at_sale_upto: r.tax_at_sale_upto,
                vat_percent: r.vat_percent,
                duty_percent: r.duty_percent,
                flat_duty_per_hs6: r.flat_duty_per_hs6,
                duty_basis,
                tax_includes_freight: r.tax_includes_freight,
                requires_hs6: r.requires_hs6,
                validity: window,
            };
            let rules = by_country.entry(country).or_default();
            if let Some((first, _)) = rules
                .iter()
                .find(|(_, other)| other.validity.overlaps(&window))
            {
                self.err(
                    t,
                    r.row,
                    "valid_from",
                    format!("validity overlaps row {first} of the same dest_country"),
                );
                continue;
            }
            rules.push((r.row, rule));
        }
        let mut out = FastMap::default();
        let mut any = Vec::new();
        for (country, rules) in by_country {
            let rules: Vec<CustomsRule> = rules.into_iter().map(|(_, r)| r).collect();
            match country {
                Some(c) => {
                    out.insert(c, rules);
                }
                None => any = rules,
            }
        }
        (out, any)
    }

    #[allow(clippy::type_complexity)]
    pub(super) fn duty_rates(
        &mut self,
        src: &SourceBook,
    ) -> (
        FastMap<Country, Vec<(Box<str>, Decimal)>>,
        Vec<(Box<str>, Decimal)>,
    ) {
        let t = "duty_rates";
        let mut by_country: HashMap<Option<Country>, Vec<(Box<str>, Decimal, RowNo)>> =
            HashMap::new();
        for r in &src.duty_rates {
            let country = self.country_or_any(t, r.row, "dest_country", &r.dest_country);
            let prefix: String = r
                .hs_prefix
                .chars()
                .filter(|c| *c != '.' && *c != ' ')
                .collect();
            let ok_prefix = !prefix.is_empty()
                && prefix.len() <= 10
                && prefix.bytes().all(|b| b.is_ascii_digit());
            if !ok_prefix {
                self.err(
                    t,
                    r.row,
                    "hs_prefix",
                    format!("{:?} is not 1 to 10 HS digits", r.hs_prefix),
                );
            }
            let ok_rate = self.amount(t, r.row, "duty_percent", r.duty_percent);
            let (Some(country), true, true) = (country, ok_prefix, ok_rate) else {
                continue;
            };
            let rows = by_country.entry(country).or_default();
            if let Some((_, _, first)) = rows.iter().find(|(p, _, _)| **p == *prefix) {
                self.err(
                    t,
                    r.row,
                    "hs_prefix",
                    format!("duplicates row {first} (same dest_country and hs_prefix)"),
                );
                continue;
            }
            rows.push((prefix.into(), r.duty_percent, r.row));
        }
        let mut out = FastMap::default();
        let mut any = Vec::new();
        for (country, rows) in by_country {
            let mut rows: Vec<(Box<str>, Decimal)> =
                rows.into_iter().map(|(p, d, _)| (p, d)).collect();
            rows.sort_by(|a, b| a.0.cmp(&b.0));
            match country {
                Some(c) => {
                    out.insert(c, rows);
                }
                None => any = rows,
            }
        }
        (out, any)
    }
}
