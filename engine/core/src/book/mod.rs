//! The compiled rate book: immutable, indexed for pricing, built only from a checked source.
//!
//! One module per table of rate-book.md, each holding that table's compiled form, its
//! checks and its index: `services`, `zones`, `rates` (the bands), `surcharges`,
//! `restrictions`, `prices`, `fx`, `customs` (customs and duty_rates) and `segments`;
//! `compile` walks them in order, and `invariants` asserts what they promise once the book
//! is built. The crate documentation maps each rule of rate-book.md to its function.
//!
//! Invariants every method of the engine relies on (established by [`compile`], asserted
//! in debug and test builds by `Book::check_invariants`):
//! - services are sorted by `service_code`, so a service's index orders like its code;
//! - every service's chart exists; every band belongs to a zone of its service's chart;
//! - the bands of a (service, zone) are sorted by strictly increasing `max_weight_g`;
//! - every currency named anywhere has an fx rate, and every rate is positive;
//! - every amount is non-negative and below [`AMOUNT_MAX`];
//! - no two price rows share (customer, service, country), so the best row is unique.

mod compile;
mod customs;
mod fx;
mod hash;
mod invariants;
mod prices;
mod rates;
mod restrictions;
mod segments;
mod services;
mod surcharges;
mod zones;

pub use compile::compile;
pub(crate) use customs::{CustomsRule, DutyBasis};
pub(crate) use prices::{Price, PriceTable};
pub(crate) use restrictions::CategoryRules;
pub use segments::Segment;
pub use services::Service;
pub(crate) use surcharges::{Surcharge, SurchargeKind};
pub(crate) use zones::ZoneHit;

use crate::codes::Country;
use crate::dated::DatedSurcharges;
use crate::money::Currency;
use fx::Fx;
use hash::FastMap;
use rates::{Band, BandFast, ZoneBands};
use rust_decimal::Decimal;
use std::collections::HashMap;
use zones::{Chart, CountryZones};

/// Amounts, percentages and rates of a book must stay below this (10^15): large enough for
/// any tariff in any currency, small enough that exact integer arithmetic never overflows.
pub const AMOUNT_MAX: Decimal = Decimal::from_parts(2_764_472_320, 232_830, 0, false, 0);

/// Whole numbers of a book (grams, millimetres, days) must stay below this.
pub const WHOLE_MAX: i64 = 1_000_000_000_000;

/// The compiled, immutable rate book.
#[derive(Debug)]
pub struct Book {
    pub(crate) name: String,
    pub(crate) content_hash: String,
    /// `name@hash8`.
    pub(crate) label: String,
    pub(crate) notes: Option<String>,
    /// Invariant (`fx`): has an fx rate of exactly 1.
    pub(crate) base: Currency,
    /// Invariant (`services sorted`): strictly increasing by `code`, so a service's index
    /// orders like its code. Invariant (`service refs`): each service's chart, carrier and fx
    /// id are in bounds and name its own chart, carrier and currency.
    pub(crate) services: Vec<Service>,
    /// Invariant (`service index`): maps each service's code to its index, and nothing else.
    pub(crate) service_by_code: HashMap<Box<str>, u32>,
    pub(crate) carriers: Vec<Box<str>>,
    /// Invariant (`charts`): every zone hit names a zone of its chart; prefixes are sorted
    /// strictly for the binary search.
    pub(crate) charts: Vec<Chart>,
    /// For each destination country, every chart with rows for it: one lookup per quote finds
    /// the zones of all charts, in one contiguous list.
    /// Invariant (`zones by country`): chart indices in bounds, the charts' own rows.
    pub(crate) zones_by_country: FastMap<Country, Vec<(u32, CountryZones)>>,
    /// For each service and zone of its chart (from `Service::zone_bands_at`): where its
    /// bands are. One array for every service, so eligibility reads neighbouring entries
    /// instead of a heap vector per service.
    /// Invariant (`zone bands`): the services' ranges tile it in service order; each entry's
    /// bands are in bounds, strictly increasing in weight, and `max_weight_g` is the last's.
    pub(crate) zone_bands: Vec<ZoneBands>,
    /// The bands, split by who reads them. A large book holds millions, so a quote misses
    /// cache on each band it reads: what the fast path reads (see [`BandFast`]) is kept
    /// apart from the exact path's decimals, so the search and the priced band touch as few
    /// lines as possible.
    /// Invariant (`hot and cold`): as long as `bands`, band `i` of one is band `i` of the
    /// other: unless `exact_only`, its scaled amounts are exactly `bands[i]`'s at `rate_scale`.
    pub(crate) bands_fast: Vec<BandFast>,
    /// The exact path's decimals of each band.
    /// Invariant (`amounts`): non-negative and below [`AMOUNT_MAX`].
    pub(crate) bands: Vec<Band>,
    /// `max_weight_g` of the bands whose weight does not fit `BandFast::max_weight_g`.
    /// Invariant (`heavy bands`): exactly the bands saturated at `u32::MAX`.
    pub(crate) heavy_band_weights: FastMap<u32, u64>,
    /// Decimals of every band's pre-scaled `fixed` and `per_g`.
    /// Invariant (`hot and cold`): at most 18 unless `exact_only`.
    pub(crate) rate_scale: u32,
    /// Invariant (`surcharge refs`): every service's lists index into this in table order
    /// (strictly increasing), and each row's line is in `line_codes`.
    pub(crate) surcharges: Vec<Surcharge>,
    /// Each service's surcharge lists split by ship date, for the fast path.
    /// Invariant (`dated index`): each service's dated lists hold exactly its plain lists'
    /// rows (undated rows once, dated rows in segments, table order), one per country.
    pub(crate) dated_surcharges: DatedSurcharges,
    /// Line codes by index: 0 is `BASE`, then the surcharge codes in order of appearance.
    /// Invariant (`line codes`): starts with `BASE`, no code twice.
    pub(crate) line_codes: Vec<Box<str>>,
    /// Invariant (`restrictions`): each category's `by_service` is empty or one per service.
    pub(crate) restrictions: HashMap<Box<str>, CategoryRules>,
    /// Invariant (`prices`): each row's fx id is in bounds, and absent only for a zero
    /// `markup_fixed`.
    pub(crate) prices: Vec<Price>,
    /// Invariant (`price tables`): services and rows in bounds.
    pub(crate) price_tables: HashMap<Box<str>, PriceTable>,
    pub(crate) price_any_customer: PriceTable,
    /// Invariant (`fx`): rates positive, one ratio per ordered pair.
    pub(crate) fx: Fx,
    /// Invariant (`customs`): a country's rules do not overlap in validity; fx ids in
    /// bounds, naming the rule's currency.
    pub(crate) customs: FastMap<Country, Vec<CustomsRule>>,
    pub(crate) customs_any_country: Vec<CustomsRule>,
    /// Invariant (`duty rates`): each country's rows sorted strictly by HS prefix, for the
    /// binary search.
    pub(crate) duty_rates: FastMap<Country, Vec<(Box<str>, Decimal)>>,
    pub(crate) duty_rates_any_country: Vec<(Box<str>, Decimal)>,
    /// Invariant (`segments`): sorted by (service, seq), services in bounds.
    pub(crate) segments: Vec<Segment>,
    /// Set when some amount cannot be held as a 64-bit fixed-point integer: every quote then
    /// takes the exact-decimal path.
    pub(crate) exact_only: bool,
    pub(crate) rows: usize,
}

impl Book {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The hex content hash of the book's files.
    pub fn content_hash(&self) -> &str {
        &self.content_hash
    }

    /// `name@hash8`: how every quote names the book that priced it.
    pub fn label(&self) -> &str {
        &self.label
    }

    pub fn notes(&self) -> Option<&str> {
        self.notes.as_deref()
    }

    pub fn base_currency(&self) -> Currency {
        self.base
    }

    pub fn services(&self) -> &[Service] {
        &self.services
    }

    pub fn service(&self, index: u32) -> &Service {
        &self.services[index as usize]
    }

    pub fn service_index(&self, code: &str) -> Option<u32> {
        self.service_by_code.get(code).copied()
    }

    pub fn line_code(&self, code: u32) -> &str {
        &self.line_codes[code as usize]
    }

    /// The currencies quotes can be asked in: those with an fx rate.
    pub fn currencies(&self) -> impl Iterator<Item = Currency> + '_ {
        self.fx.rates.iter().map(|(c, _)| *c)
    }

    pub fn has_currency(&self, currency: Currency) -> bool {
        self.fx.id(currency).is_some()
    }

    /// The zone of `service`'s chart for the request's destination (the longest matching
    /// postcode prefix, else the country, else the chart's `*` rows), as pricing finds it.
    pub fn zone_of(&self, service: u32, req: &crate::Request) -> Option<&str> {
        let chart = &self.charts[self.services.get(service as usize)?.chart as usize];
        let pc = req.dest_postcode.as_ref();
        let hit = chart
            .by_country
            .get(&req.dest_country)
            .and_then(|cz| cz.lookup(pc))
            .or_else(|| chart.any_country.as_ref().and_then(|a| a.lookup(pc)))?;
        chart.zones.get(hit.zone as usize).map(|z| &**z)
    }

    /// `amount` of `from` in `to` at the book's fx rates, unrounded (for thresholds such as
    /// the CN 22's 300 SDR, compared before any rounding). `None` when either currency has
    /// no rate.
    pub fn convert_unrounded(
        &self,
        amount: Decimal,
        from: Currency,
        to: Currency,
    ) -> Option<Decimal> {
        let from = self.fx.per_base(self.fx.id(from)?);
        let to = self.fx.per_base(self.fx.id(to)?);
        amount.checked_mul(to)?.checked_div(from)
    }

    pub fn segments(&self, service: u32) -> impl Iterator<Item = &Segment> {
        self.segments.iter().filter(move |s| s.service == service)
    }

    /// Rows read from the book's tables.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Rate rows (weight bands).
    pub fn band_count(&self) -> usize {
        self.bands.len()
    }

    /// Band `i`'s `max_weight_g`.
    pub(crate) fn band_weight(&self, i: usize) -> u64 {
        match self.bands_fast[i].max_weight_g {
            u32::MAX => self
                .heavy_band_weights
                .get(&(i as u32))
                .copied()
                .unwrap_or(u64::from(u32::MAX)),
            w => u64::from(w),
        }
    }

    /// Whether quotes on this book always take the exact-decimal path.
    pub fn is_exact_only(&self) -> bool {
        self.exact_only
    }
}
