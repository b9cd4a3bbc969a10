//! rate-book.md **rates**: the weight bands of each (service, zone), checked strictly
//! increasing, held flat in hot (fast-path) and cold (exact) arrays.

use super::compile::Compiler;
use super::hash::FastMap;
use super::services::Service;
use super::zones::Chart;
use crate::money::pow10_i128;
use crate::source::{RateRow, SourceBook};
use rust_decimal::Decimal;
use std::collections::HashMap;

/// The exact scale (decimals) up to which bands are held as pre-scaled integers.
pub(super) const FAST_SCALE_MAX: u32 = 18;

/// Where a (service, zone)'s bands are, and the heaviest chargeable weight they cover: a
/// parcel above it has `NO_RATE` without a search.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct ZoneBands {
    pub start: u32,
    pub len: u32,
    pub max_weight_g: u64,
}

/// A weight band as the fast path finds and prices it: `fixed` and `per_g` are exact
/// integers at the book's `rate_scale`: base = (fixed + per_g × chargeable_g) / 10^rate_scale.
///
/// The search reads the weights in order and stops at the band, whose amounts are then
/// already in the cache line just read: weights in an array of their own left the priced
/// band's amounts one more cache miss away. Packed to 20 bytes (alignment 4), so the
/// weights and amounts together take no more room than they did apart.
#[derive(Clone, Copy, Debug)]
#[repr(C, packed(4))]
pub(crate) struct BandFast {
    /// Saturated at `u32::MAX`; the true weight of a saturated band is in
    /// `Book::heavy_band_weights`. Exact for every chargeable weight that fits 32 bits.
    pub max_weight_g: u32,
    pub fixed_scaled: i64,
    pub per_g_scaled: i64,
}

const _: () = assert!(std::mem::size_of::<BandFast>() == 20);

/// A weight band's amounts as written, for the exact path.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Band {
    pub fixed: Decimal,
    pub per_kg: Decimal,
}

/// What `Compiler::rates` builds: the book's band tables (see the fields of [`Book`]).
pub(super) struct Rates {
    pub(super) zone_bands: Vec<ZoneBands>,
    pub(super) bands_fast: Vec<BandFast>,
    pub(super) bands: Vec<Band>,
    pub(super) heavy_band_weights: FastMap<u32, u64>,
    pub(super) rate_scale: u32,
    pub(super) exact_only: bool,
}

impl Compiler {
    /// Groups bands by (service, zone), checks them, and pre-scales them to one exact scale.
    pub(super) fn rates(
        &mut self,
        src: &SourceBook,
        services: &mut [Service],
        charts: &[Chart],
    ) -> Rates {
        let t = "rates";
        let mut zone_count = 0u32;
        for s in services.iter_mut() {
            s.zone_bands_at = zone_count;
            zone_count += charts[s.chart as usize].zones.len() as u32;
        }
        let mut zone_bands = vec![ZoneBands::default(); zone_count as usize];
        let by_code: HashMap<&str, usize> = services
            .iter()
            .enumerate()
            .map(|(i, s)| (&*s.code, i))
            .collect();
        let zone_index: Vec<HashMap<&str, u32>> = charts
            .iter()
            .map(|c| {
                c.zones
                    .iter()
                    .enumerate()
                    .map(|(i, z)| (&**z, i as u32))
                    .collect()
            })
            .collect();
        // (service, zone, max_weight_g, index into src.rates) of every usable row.
        let mut keyed: Vec<(u32, u32, u64, u32)> = Vec::with_capacity(src.rates.len());
        // The previous row's (service_code, zone) and what they resolved to.
        type LastKey<'a> = Option<(&'a str, &'a str, Option<(usize, u32)>)>;
        let mut last: LastKey<'_> = None;
        for (i, r) in src.rates.iter().enumerate() {
            // Rows of one (service, zone) usually follow each other: skip the lookups then.
            let resolved = match last {
                Some((code, zone, resolved)) if *code == *r.service_code && *zone == *r.zone => {
                    resolved
                }
                _ => {
                    let resolved =
                        self.resolve_rate_key(r, &by_code, services, charts, &zone_index);
                    last = Some((&r.service_code, &r.zone, resolved));
                    resolved
                }
            };
            let weight = self.whole(t, r.row, "max_weight_g", r.max_weight_g, 1);
            let ok =
                self.amount(t, r.row, "fixed", r.fixed) & self.amount(t, r.row, "per_kg", r.per_kg);
            if let (Some((si, zone)), Some(weight), true) = (resolved, weight, ok) {
                keyed.push((si as u32, zone, weight, i as u32));
            }
        }
        keyed.sort_unstable();
        // One scale S for every band: base × 10^S = fixed × 10^(S − sf) + per_kg × g × 10^(S − sk − 3).
        let scale_fixed = src.rates.iter().map(|r| r.fixed.scale()).max().unwrap_or(0);
        let scale_per_kg = src
            .rates
            .iter()
            .map(|r| r.per_kg.scale())
            .max()
            .unwrap_or(0);
        let rate_scale = scale_fixed.max(scale_per_kg + 3);
        let mut exact_only = rate_scale > FAST_SCALE_MAX;
        let mut bands = Vec::with_capacity(keyed.len());
        let mut bands_fast = Vec::with_capacity(keyed.len());
        let mut heavy_band_weights = FastMap::default();
        for group in keyed.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)) {
            let (si, zone) = (group[0].0 as usize, group[0].1);
            let start = bands.len() as u32;
            let mut in_order = true;
            for pair in group.windows(2) {
                let (a, b) = (
                    &src.rates[pair[0].3 as usize],
                    &src.rates[pair[1].3 as usize],
                );
                if pair[0].2 == pair[1].2 {
                    self.err(
                        t,
                        b.row,
                        "max_weight_g",
                        format!(
                            "{} duplicates row {} (same service_code, zone and max_weight_g)",
                            b.max_weight_g, a.row
                        ),
                    );
                }
                in_order &= a.row < b.row;
            }
            if !in_order {
                let first = group
                    .iter()
                    .map(|k| src.rates[k.3 as usize].row)
                    .min()
                    .unwrap_or(0);
                let chart = &charts[services[si].chart as usize];
                self.report.warning(
                    t,
                    Some(first),
                    Some("max_weight_g"),
                    format!(
                        "bands of service {} zone {} are not in increasing max_weight_g order; they are used sorted by max_weight_g",
                        services[si].code, chart.zones[zone as usize]
                    ),
                );
            }
            for k in group {
                let r = &src.rates[k.3 as usize];
                let scaled =
                    scale_to_i64(r.fixed, rate_scale).zip(scale_to_i64(r.per_kg, rate_scale - 3));
                let (fixed_scaled, per_g_scaled) = scaled.unwrap_or_else(|| {
                    exact_only = true;
                    (0, 0)
                });
                let weight = u32::try_from(k.2).unwrap_or(u32::MAX);
                if weight == u32::MAX {
                    heavy_band_weights.insert(bands.len() as u32, k.2);
                }
                bands_fast.push(BandFast {
                    max_weight_g: weight,
                    fixed_scaled,
                    per_g_scaled,
                });
                bands.push(Band {
                    fixed: r.fixed,
                    per_kg: r.per_kg,
                });
            }
            zone_bands[(services[si].zone_bands_at + zone) as usize] = ZoneBands {
                start,
                len: bands.len() as u32 - start,
                max_weight_g: group.last().map_or(0, |k| k.2),
            };
        }
        Rates {
            zone_bands,
            bands_fast,
            bands,
            heavy_band_weights,
            rate_scale,
            exact_only,
        }
    }

    pub(super) fn resolve_rate_key(
        &mut self,
        r: &RateRow,
        by_code: &HashMap<&str, usize>,
        services: &[Service],
        charts: &[Chart],
        zone_index: &[HashMap<&str, u32>],
    ) -> Option<(usize, u32)> {
        let Some(&si) = by_code.get(&*r.service_code) else {
            self.unknown_service("rates", r.row, &r.service_code, "");
            return None;
        };
        let chart = services[si].chart as usize;
        match zone_index[chart].get(&*r.zone) {
            Some(&zone) => Some((si, zone)),
            None => {
                self.err(
                    "rates",
                    r.row,
                    "zone",
                    format!(
                        "{:?} is not a zone of chart {:?} (service {})",
                        r.zone, charts[chart].name, r.service_code
                    ),
                );
                None
            }
        }
    }
}

/// `x` as an integer at `scale` decimals, when exact and within 64 bits.
pub(super) fn scale_to_i64(x: Decimal, scale: u32) -> Option<i64> {
    let up = scale.checked_sub(x.scale())?;
    i64::try_from(x.mantissa().checked_mul(pow10_i128(up)?)?).ok()
}
