//! rate-book.md **surcharges**: conditional extra lines, per service split into "any
//! country" and "this country" lists in table order, and indexed by ship date (`dated.rs`).

use super::compile::{Compiler, wildcard};
use super::services::Service;
use crate::codes::{Country, Postcode, Validity};
use crate::dated::{DatedBuilder, DatedSurcharges};
use crate::request::Incoterm;
use crate::source::SourceBook;
use rust_decimal::Decimal;
use std::collections::HashMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SurchargeKind {
    Fixed,
    PerKg,
    PercentOfBase,
}

#[derive(Debug)]
pub(crate) struct Surcharge {
    pub line: u32,
    pub kind: SurchargeKind,
    pub amount: Decimal,
    pub minimum: Option<Decimal>,
    pub postcode_prefix: Option<Postcode>,
    pub battery: Option<bool>,
    pub incoterm: Option<Incoterm>,
    pub min_chargeable_g: Option<u64>,
    pub min_length_mm: Option<u64>,
    pub validity: Validity,
}

impl Compiler {
    pub(super) fn surcharges(
        &mut self,
        src: &SourceBook,
        services: &mut [Service],
        by_code: &HashMap<Box<str>, u32>,
    ) -> (Vec<Surcharge>, Vec<Box<str>>) {
        let t = "surcharges";
        let mut out = Vec::new();
        let mut line_codes: Vec<Box<str>> = vec!["BASE".into()];
        for r in &src.surcharges {
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
            let ok_code = self.text(t, r.row, "code", &r.code);
            if ok_code && r.code == "BASE" {
                self.err(
                    t,
                    r.row,
                    "code",
                    "BASE is the base freight's line; a surcharge needs another code",
                );
            }
            let kind = match r.kind.as_str() {
                "fixed" => Some(SurchargeKind::Fixed),
                "per_kg" => Some(SurchargeKind::PerKg),
                "percent_of_base" => Some(SurchargeKind::PercentOfBase),
                other => {
                    self.err(
                        t,
                        r.row,
                        "kind",
                        format!("{other:?} is not one of fixed, per_kg, percent_of_base"),
                    );
                    None
                }
            };
            let ok_amounts = self.amount(t, r.row, "amount", r.amount)
                & self.opt_amount(t, r.row, "minimum", r.minimum);
            let country = match r.dest_country.as_deref() {
                None | Some("") => Some(None),
                Some(c) => self.country_or_any(t, r.row, "dest_country", c),
            };
            let prefix = self.prefix(t, r.row, r.postcode_prefix.as_deref());
            let incoterm = match r.incoterm.as_deref() {
                None | Some("") | Some("*") => Some(None),
                Some(text) => match Incoterm::parse(text) {
                    Some(i) => Some(Some(i)),
                    None => {
                        self.err(t, r.row, "incoterm", format!("{text:?} is not DDP or DDU"));
                        None
                    }
                },
            };
            let min_cg = self.opt_whole(t, r.row, "min_chargeable_g", r.min_chargeable_g, 0);
            let min_len = self.opt_whole(t, r.row, "min_length_mm", r.min_length_mm, 0);
            let window = self.window(t, r.row, r.valid_from, r.valid_to);
            let (
                Some(service),
                true,
                Some(kind),
                true,
                Some(country),
                Ok(prefix),
                Some(incoterm),
                Ok(min_cg),
                Ok(min_len),
            ) = (
                service, ok_code, kind, ok_amounts, country, prefix, incoterm, min_cg, min_len,
            )
            else {
                continue;
            };
            if r.code == "BASE" {
                continue;
            }
            let line = match line_codes.iter().position(|c| **c == *r.code) {
                Some(i) => i as u32,
                None => {
                    line_codes.push(r.code.as_str().into());
                    (line_codes.len() - 1) as u32
                }
            };
            let index = out.len() as u32;
            out.push(Surcharge {
                line,
                kind,
                amount: r.amount,
                minimum: r.minimum,
                postcode_prefix: prefix,
                battery: r.battery,
                incoterm,
                min_chargeable_g: min_cg,
                min_length_mm: min_len,
                validity: window,
            });
            let targets: Vec<usize> = match service {
                Some(i) => vec![i as usize],
                None => (0..services.len()).collect(),
            };
            for si in targets {
                let s = &mut services[si];
                match country {
                    None => s.surcharges_any_country.push(index),
                    Some(c) => s.surcharges_by_country.entry(c).or_default().push(index),
                }
            }
        }
        (out, line_codes)
    }
}

/// Indexes every service's surcharge lists by ship date (see `dated.rs`).
pub(super) fn dated_surcharges(
    surcharges: &[Surcharge],
    services: &mut [Service],
) -> DatedSurcharges {
    let mut index = DatedBuilder::new(surcharges);
    for s in services {
        s.dated_any_country = index.add(&s.surcharges_any_country);
        let mut by_country: Vec<(Country, &Vec<u32>)> = s
            .surcharges_by_country
            .iter()
            .map(|(c, rows)| (*c, rows))
            .collect();
        by_country.sort_unstable_by_key(|(c, _)| *c);
        s.dated_by_country = by_country.iter().map(|(_, rows)| index.add(rows)).collect();
        s.dated_countries = by_country.iter().map(|(c, _)| *c).collect();
    }
    index.finish()
}
