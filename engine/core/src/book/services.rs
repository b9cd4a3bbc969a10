//! rate-book.md **services**: one row per carrier service, with its limits, currency, chart
//! and validity; and the warnings of "Checks before a book can be used" about zones and
//! services no band reaches.

use super::compile::Compiler;
use super::fx::Fx;
use super::hash::FastMap;
use super::rates::ZoneBands;
use super::zones::Chart;
use crate::codes::{Country, Validity};
use crate::dated::DatedList;
use crate::money::Currency;
use crate::source::{RowNo, SourceBook};
use rust_decimal::Decimal;
use std::collections::HashMap;

#[derive(Debug)]
pub struct Service {
    pub code: Box<str>,
    pub carrier: Box<str>,
    /// Index into the book's carrier names, for matching `require.carriers`.
    pub(crate) carrier_id: u32,
    pub name: Box<str>,
    pub origin: Country,
    pub currency: Currency,
    pub(crate) fx_id: u16,
    pub(crate) chart: u32,
    pub tracked: bool,
    pub ddp: bool,
    pub max_weight_g: u64,
    pub max_length_mm: Option<u64>,
    pub max_girth_mm: Option<u64>,
    pub max_value: Option<Decimal>,
    pub volumetric_divisor: Option<u64>,
    pub volumetric_min_side_mm: Option<u64>,
    pub min_chargeable_g: Option<u64>,
    /// At least 1.
    pub weight_step_g: u64,
    pub validity: Validity,
    /// Where this service's zones start in `Book::zone_bands`; its chart's zones follow in
    /// order.
    pub(crate) zone_bands_at: u32,
    /// Surcharges applying to this service with no country condition, in table order.
    pub(crate) surcharges_any_country: Vec<u32>,
    /// Surcharges applying to this service for one country, in table order.
    pub(crate) surcharges_by_country: FastMap<Country, Vec<u32>>,
    /// `surcharges_any_country` in `Book::dated_surcharges`.
    pub(crate) dated_any_country: DatedList,
    /// The countries of `surcharges_by_country`, sorted for a binary search, and their lists
    /// in `Book::dated_surcharges` at the same positions.
    pub(crate) dated_countries: Box<[Country]>,
    pub(crate) dated_by_country: Box<[DatedList]>,
}

impl Compiler {
    #[allow(clippy::type_complexity)]
    pub(super) fn services(
        &mut self,
        src: &SourceBook,
        fx: &Fx,
        charts: &[Chart],
    ) -> (Vec<Service>, HashMap<Box<str>, u32>, Vec<Box<str>>) {
        let t = "services";
        let mut seen: HashMap<&str, RowNo> = HashMap::new();
        let mut out: Vec<Service> = Vec::new();
        let mut carriers: Vec<Box<str>> = Vec::new();
        for r in &src.services {
            let ok_code = self.text(t, r.row, "service_code", &r.service_code);
            if ok_code && let Some(first) = seen.insert(&r.service_code, r.row) {
                self.err(
                    t,
                    r.row,
                    "service_code",
                    format!("{:?} duplicates row {first}", r.service_code),
                );
                continue;
            }
            let ok_carrier = self.text(t, r.row, "carrier", &r.carrier);
            let origin = self.country(t, r.row, "origin_country", &r.origin_country);
            let currency = self.currency(fx, t, r.row, "currency", &r.currency);
            let chart = charts.iter().position(|c| *c.name == *r.zone_chart);
            if chart.is_none() && !self.unreadable.zones {
                self.err(
                    t,
                    r.row,
                    "zone_chart",
                    format!("{:?} has no rows in zones", r.zone_chart),
                );
            }
            let max_weight_g = self.whole(t, r.row, "max_weight_g", r.max_weight_g, 1);
            let dims = (
                self.opt_whole(t, r.row, "max_length_mm", r.max_length_mm, 1),
                self.opt_whole(t, r.row, "max_girth_mm", r.max_girth_mm, 1),
                self.opt_whole(t, r.row, "volumetric_divisor", r.volumetric_divisor, 1),
                self.opt_whole(
                    t,
                    r.row,
                    "volumetric_min_side_mm",
                    r.volumetric_min_side_mm,
                    0,
                ),
                self.opt_whole(t, r.row, "min_chargeable_g", r.min_chargeable_g, 0),
                self.opt_whole(t, r.row, "weight_step_g", r.weight_step_g, 1),
            );
            let ok_value = self.opt_amount(t, r.row, "max_value", r.max_value);
            let window = self.window(t, r.row, r.valid_from, r.valid_to);
            let (
                true,
                true,
                Some(origin),
                Some((currency, fx_id)),
                Some(chart),
                Some(max_weight_g),
                true,
            ) = (
                ok_code,
                ok_carrier,
                origin,
                currency,
                chart,
                max_weight_g,
                ok_value,
            )
            else {
                self.refused_services.insert(r.service_code.clone());
                continue;
            };
            let (
                Ok(max_length_mm),
                Ok(max_girth_mm),
                Ok(volumetric_divisor),
                Ok(volumetric_min_side_mm),
                Ok(min_chargeable_g),
                Ok(weight_step_g),
            ) = dims
            else {
                self.refused_services.insert(r.service_code.clone());
                continue;
            };
            let carrier_id = match carriers.iter().position(|c| **c == *r.carrier) {
                Some(i) => i as u32,
                None => {
                    carriers.push(r.carrier.as_str().into());
                    (carriers.len() - 1) as u32
                }
            };
            out.push(Service {
                code: r.service_code.as_str().into(),
                carrier: r.carrier.as_str().into(),
                carrier_id,
                name: r.name.as_str().into(),
                origin,
                currency,
                fx_id,
                chart: chart as u32,
                tracked: r.tracked,
                ddp: r.ddp,
                max_weight_g,
                max_length_mm,
                max_girth_mm,
                max_value: r.max_value,
                volumetric_divisor,
                volumetric_min_side_mm,
                min_chargeable_g,
                weight_step_g: weight_step_g.unwrap_or(1),
                validity: window,
                zone_bands_at: 0,
                surcharges_any_country: Vec::new(),
                surcharges_by_country: FastMap::default(),
                dated_any_country: DatedList::default(),
                dated_countries: Box::default(),
                dated_by_country: Box::default(),
            });
        }
        out.sort_by(|a, b| a.code.cmp(&b.code));
        let by_code = out
            .iter()
            .enumerate()
            .map(|(i, s)| (s.code.clone(), i as u32))
            .collect();
        (out, by_code, carriers)
    }

    pub(super) fn warn_unreachable(
        &mut self,
        services: &[Service],
        charts: &[Chart],
        zb: &[ZoneBands],
    ) {
        // Without these tables every zone and service (or those of the services refused
        // for a currency without its fx row) would be listed, saying only that a table is
        // missing, which the reader already said.
        let u = self.unreadable;
        if u.services || u.zones || u.rates || u.fx {
            return;
        }
        let zone_bands = |s: &Service| {
            let at = s.zone_bands_at as usize;
            &zb[at..at + charts[s.chart as usize].zones.len()]
        };
        let mut priced: Vec<Vec<bool>> =
            charts.iter().map(|c| vec![false; c.zones.len()]).collect();
        for s in services {
            for (zi, zb) in zone_bands(s).iter().enumerate() {
                priced[s.chart as usize][zi] |= zb.len > 0;
            }
        }
        for (ci, chart) in charts.iter().enumerate() {
            for (zi, zone) in chart.zones.iter().enumerate() {
                if !priced[ci][zi] {
                    self.report.warning(
                        "zones",
                        None,
                        Some("zone"),
                        format!(
                            "zone {zone:?} of chart {:?} has no band in rates for any service",
                            chart.name
                        ),
                    );
                }
            }
        }
        for s in services {
            if zone_bands(s).iter().all(|zb| zb.len == 0) {
                self.report.warning(
                    "services",
                    None,
                    Some("service_code"),
                    format!(
                        "service {} has no band in rates: no destination can reach it",
                        s.code
                    ),
                );
            }
        }
    }
}
