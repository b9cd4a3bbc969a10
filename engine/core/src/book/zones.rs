//! rate-book.md **zones**: zone charts, destination (country, postcode prefix) → zone and
//! transit days; the longest matching prefix wins.

use super::compile::Compiler;
use super::hash::FastMap;
use crate::codes::{Country, POSTCODE_LEN_MAX, Postcode};
use crate::source::RowNo;
use crate::source::SourceBook;
use std::collections::HashMap;
use std::collections::hash_map::Entry;

#[derive(Debug, Default)]
pub(crate) struct Chart {
    pub name: Box<str>,
    pub zones: Vec<Box<str>>,
    pub by_country: HashMap<Country, CountryZones>,
    pub any_country: Option<CountryZones>,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct CountryZones {
    pub whole: Option<ZoneHit>,
    /// Sorted by prefix for binary search; prefixes are held inline (zero-padded, see
    /// [`pack_prefix`]) so a search reads one contiguous array and chases no pointers.
    pub prefixes: Vec<(u128, ZoneHit)>,
    pub prefix_len_max: usize,
}

/// A normalised postcode prefix as a fixed-size key. Postcodes hold only letters and digits,
/// so zero padding never makes two different prefixes equal. Held as one big-endian integer
/// (it orders like the bytes), so each probe of the search is one compare, not a `memcmp`.
pub(crate) fn pack_prefix(prefix: &str) -> u128 {
    const _: () = assert!(POSTCODE_LEN_MAX <= 16, "a postcode fits the 16-byte key");
    let mut key = [0u8; 16];
    let n = prefix.len().min(POSTCODE_LEN_MAX);
    key[..n].copy_from_slice(&prefix.as_bytes()[..n]);
    u128::from_be_bytes(key)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ZoneHit {
    pub zone: u32,
    pub transit_days_min: u32,
    pub transit_days_max: u32,
}

impl CountryZones {
    pub(crate) fn lookup(&self, postcode: Option<&Postcode>) -> Option<ZoneHit> {
        if let Some(pc) = postcode {
            let pc = pc.as_str();
            for len in (1..=self.prefix_len_max.min(pc.len())).rev() {
                let key = pack_prefix(&pc[..len]);
                if let Ok(i) = self.prefixes.binary_search_by(|(p, _)| p.cmp(&key)) {
                    return Some(self.prefixes[i].1);
                }
            }
        }
        self.whole
    }
}

impl Compiler {
    pub(super) fn zones(&mut self, src: &SourceBook) -> Vec<Chart> {
        let mut charts: Vec<Chart> = Vec::new();
        let mut chart_index: HashMap<&str, usize> = HashMap::new();
        let mut seen: HashMap<(&str, Option<Country>, Option<Postcode>), RowNo> = HashMap::new();
        let mut zone_ids: HashMap<(usize, &str), u32> = HashMap::new();
        for r in &src.zones {
            let t = "zones";
            let ok_chart = self.text(t, r.row, "zone_chart", &r.zone_chart);
            let ok_zone = self.text(t, r.row, "zone", &r.zone);
            let country = self.country_or_any(t, r.row, "dest_country", &r.dest_country);
            let prefix = self.prefix(t, r.row, r.postcode_prefix.as_deref());
            let tmin = self.whole(t, r.row, "transit_days_min", r.transit_days_min, 0);
            let tmax = self.whole(t, r.row, "transit_days_max", r.transit_days_max, 0);
            if let (Some(a), Some(b)) = (tmin, tmax)
                && a > b
            {
                self.err(
                    t,
                    r.row,
                    "transit_days_max",
                    format!("{b} is below transit_days_min {a}"),
                );
            }
            let (true, true, Some(country), Ok(prefix), Some(tmin), Some(tmax)) =
                (ok_chart, ok_zone, country, prefix, tmin, tmax)
            else {
                continue;
            };
            match seen.entry((r.zone_chart.as_str(), country, prefix.clone())) {
                Entry::Occupied(first) => {
                    self.err(
                        t,
                        r.row,
                        "postcode_prefix",
                        format!(
                            "duplicates row {} (same zone_chart, dest_country and postcode_prefix)",
                            first.get()
                        ),
                    );
                    continue;
                }
                Entry::Vacant(v) => {
                    v.insert(r.row);
                }
            }
            let ci = *chart_index.entry(r.zone_chart.as_str()).or_insert_with(|| {
                charts.push(Chart {
                    name: r.zone_chart.as_str().into(),
                    ..Chart::default()
                });
                charts.len() - 1
            });
            let chart = &mut charts[ci];
            let zone = *zone_ids.entry((ci, r.zone.as_str())).or_insert_with(|| {
                chart.zones.push(r.zone.as_str().into());
                (chart.zones.len() - 1) as u32
            });
            let hit = ZoneHit {
                zone,
                transit_days_min: tmin.min(u64::from(u32::MAX)) as u32,
                transit_days_max: tmax.min(u64::from(u32::MAX)) as u32,
            };
            let cz = match country {
                Some(c) => chart.by_country.entry(c).or_default(),
                None => chart.any_country.get_or_insert_with(CountryZones::default),
            };
            match prefix {
                None => cz.whole = Some(hit),
                Some(p) => {
                    cz.prefix_len_max = cz.prefix_len_max.max(p.as_str().len());
                    cz.prefixes.push((pack_prefix(p.as_str()), hit));
                }
            }
        }
        for chart in &mut charts {
            for cz in chart
                .by_country
                .values_mut()
                .chain(chart.any_country.as_mut())
            {
                cz.prefixes.sort_by_key(|a| a.0);
            }
        }
        charts
    }
}

/// The charts' country rows, indexed by country first.
pub(super) fn zones_by_country(charts: &[Chart]) -> FastMap<Country, Vec<(u32, CountryZones)>> {
    let mut out: FastMap<Country, Vec<(u32, CountryZones)>> = FastMap::default();
    for (i, chart) in charts.iter().enumerate() {
        for (country, cz) in &chart.by_country {
            out.entry(*country)
                .or_default()
                .push((i as u32, cz.clone()));
        }
    }
    out
}
