//! The compiled rate book: immutable, indexed for pricing, built only from a checked source.
//!
//! Invariants every method of the engine relies on (established by [`compile`]):
//! - services are sorted by `service_code`, so a service's index orders like its code;
//! - every service's chart exists; every band belongs to a zone of its service's chart;
//! - the bands of a (service, zone) are sorted by strictly increasing `max_weight_g`;
//! - every currency named anywhere has an fx rate, and every rate is positive;
//! - every amount is non-negative and below [`AMOUNT_MAX`];
//! - no two price rows share (customer, service, country), so the best row is unique.

use crate::codes::{Country, Date, POSTCODE_LEN_MAX, Postcode, Validity};
use crate::dated::{DatedBuilder, DatedList, DatedSurcharges};
use crate::money::{Currency, div_round_half_away, mul_exact, pow10_i128};
use crate::report::Report;
use crate::request::Incoterm;
use crate::source::*;
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::{BuildHasherDefault, Hasher};

/// Amounts, percentages and rates of a book must stay below this (10^15): large enough for
/// any tariff in any currency, small enough that exact integer arithmetic never overflows.
pub const AMOUNT_MAX: Decimal = Decimal::from_parts(2_764_472_320, 232_830, 0, false, 0);

/// Whole numbers of a book (grams, millimetres, days) must stay below this.
pub const WHOLE_MAX: i64 = 1_000_000_000_000;

/// The exact scale (decimals) up to which bands are held as pre-scaled integers.
const FAST_SCALE_MAX: u32 = 18;

/// A hash map for the small keys the quote path probes (service indices, country codes).
pub(crate) type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

/// The multiply-rotate hash of rustc's `FxHasher`: a few cycles per key where SipHash takes
/// tens of nanoseconds. It does not resist chosen collisions, which is fine here: every key
/// in these maps comes from the checked book, and a request's key only probes.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct FastHasher {
    hash: u64,
}

impl FastHasher {
    const K: u64 = 0xf135_7aea_2e62_a9c5;

    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = self.hash.wrapping_add(word).wrapping_mul(Self::K);
    }
}

impl Hasher for FastHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u16(&mut self, i: u16) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    /// The product's high bits are its best mixed; the table takes its bucket from the low
    /// bits, so rotate them down.
    #[inline]
    fn finish(&self) -> u64 {
        self.hash.rotate_left(26)
    }
}

/// The compiled, immutable rate book.
#[derive(Debug)]
pub struct Book {
    pub(crate) name: String,
    pub(crate) content_hash: String,
    pub(crate) label: String,
    pub(crate) notes: Option<String>,
    pub(crate) base: Currency,
    pub(crate) services: Vec<Service>,
    pub(crate) service_by_code: HashMap<Box<str>, u32>,
    pub(crate) carriers: Vec<Box<str>>,
    pub(crate) charts: Vec<Chart>,
    /// For each destination country, every chart with rows for it: one lookup per quote finds
    /// the zones of all charts, in one contiguous list.
    pub(crate) zones_by_country: FastMap<Country, Vec<(u32, CountryZones)>>,
    /// For each service and zone of its chart (from `Service::zone_bands_at`): where its
    /// bands are. One array for every service, so eligibility reads neighbouring entries
    /// instead of a heap vector per service.
    pub(crate) zone_bands: Vec<ZoneBands>,
    /// The bands, split by who reads them. A large book holds millions, so a quote misses
    /// cache on each band it reads: what the fast path reads (see [`BandFast`]) is kept
    /// apart from the exact path's decimals, so the search and the priced band touch as few
    /// lines as possible.
    pub(crate) bands_fast: Vec<BandFast>,
    /// The exact path's decimals of each band.
    pub(crate) bands: Vec<Band>,
    /// `max_weight_g` of the bands whose weight does not fit `BandFast::max_weight_g`.
    pub(crate) heavy_band_weights: FastMap<u32, u64>,
    /// Decimals of every band's pre-scaled `fixed` and `per_g`.
    pub(crate) rate_scale: u32,
    pub(crate) surcharges: Vec<Surcharge>,
    /// Each service's surcharge lists split by ship date, for the fast path.
    pub(crate) dated_surcharges: DatedSurcharges,
    /// Line codes by index: 0 is `BASE`, then the surcharge codes in order of appearance.
    pub(crate) line_codes: Vec<Box<str>>,
    pub(crate) restrictions: HashMap<Box<str>, CategoryRules>,
    pub(crate) prices: Vec<Price>,
    pub(crate) price_tables: HashMap<Box<str>, PriceTable>,
    pub(crate) price_any_customer: PriceTable,
    pub(crate) fx: Fx,
    pub(crate) customs: FastMap<Country, Vec<CustomsRule>>,
    pub(crate) customs_any_country: Vec<CustomsRule>,
    pub(crate) duty_rates: FastMap<Country, Vec<(Box<str>, Decimal)>>,
    pub(crate) duty_rates_any_country: Vec<(Box<str>, Decimal)>,
    pub(crate) segments: Vec<Segment>,
    /// Set when some amount cannot be held as a 64-bit fixed-point integer: every quote then
    /// takes the exact-decimal path.
    pub(crate) exact_only: bool,
    pub(crate) rows: usize,
}

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

/// The restriction rows of one category.
#[derive(Debug, Default)]
pub(crate) struct CategoryRules {
    /// Rows naming a service, indexed by service: (country or `*`, allow). Dense, because
    /// eligibility asks once per service and declared category on every quote.
    pub by_service: Vec<Vec<(Option<Country>, bool)>>,
    /// Rows for service `*`.
    pub any_service: Vec<(Option<Country>, bool)>,
}

impl CategoryRules {
    /// The deciding row's action: exact service before `*`, then exact country before `*`.
    /// `None` when no row decides, which refuses the category.
    pub fn decide(&self, service: u32, country: Country) -> Option<bool> {
        let pick = |rows: &[(Option<Country>, bool)]| {
            rows.iter()
                .find(|(c, _)| *c == Some(country))
                .or_else(|| rows.iter().find(|(c, _)| c.is_none()))
                .map(|(_, allow)| *allow)
        };
        self.by_service
            .get(service as usize)
            .and_then(|rows| pick(rows))
            .or_else(|| pick(&self.any_service))
    }
}

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

/// Exchange rates: units of each currency per unit of the base currency.
#[derive(Debug)]
pub(crate) struct Fx {
    pub rates: Vec<(Currency, Decimal)>,
    /// `pairs[from * n + to]`: the exact ratio to multiply an amount of `from` by.
    pub pairs: Vec<Ratio>,
}

/// An exact positive ratio `num / den`, reduced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Ratio {
    pub num: i128,
    pub den: i128,
}

impl Fx {
    pub fn id(&self, currency: Currency) -> Option<u16> {
        self.rates
            .iter()
            .position(|(c, _)| *c == currency)
            .map(|i| i as u16)
    }

    pub fn currency(&self, id: u16) -> Currency {
        self.rates[usize::from(id)].0
    }

    pub fn per_base(&self, id: u16) -> Decimal {
        self.rates[usize::from(id)].1
    }

    pub fn ratio(&self, from: u16, to: u16) -> Ratio {
        self.pairs[usize::from(from) * self.rates.len() + usize::from(to)]
    }

    /// Converts `x / 10^scale` of currency `from` into minor units of `to`, rounded half away
    /// from zero. `None` on overflow (the caller falls back to the decimal path).
    #[inline]
    pub fn convert(&self, x: i128, scale: u32, from: u16, to: u16) -> Option<i128> {
        let digits = self.currency(to).minor_digits();
        if from == to {
            return crate::money::rescale_round(x, scale, digits);
        }
        let r = self.ratio(from, to);
        let (mut n, mut d) = (mul_exact(x, r.num)?, r.den);
        if digits > scale {
            n = mul_exact(n, pow10_i128(digits - scale)?)?;
        } else if digits < scale {
            d = mul_exact(d, pow10_i128(scale - digits)?)?;
        }
        Some(div_round_half_away(n, d))
    }
}

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

/// One transport segment of a service (for labels and tracking; no effect on price).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    pub service: u32,
    pub seq: u32,
    pub kind: Box<str>,
    pub carrier: Box<str>,
    pub label: Box<str>,
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

// ---------------------------------------------------------------------------------------
// Compilation: check every row, then index.

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
            Ok((book, c.report))
        }
        _ => Err(c.report),
    }
}

/// Which tables other tables look rows up in could not be read: lookups into them are not
/// reported as failing, since every one would (the reader reported the cause once).
#[derive(Clone, Copy, Debug, Default)]
struct Unreadable {
    services: bool,
    zones: bool,
    rates: bool,
    fx: bool,
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

/// What `Compiler::rates` builds: the book's band tables (see the fields of [`Book`]).
struct Rates {
    zone_bands: Vec<ZoneBands>,
    bands_fast: Vec<BandFast>,
    bands: Vec<Band>,
    heavy_band_weights: FastMap<u32, u64>,
    rate_scale: u32,
    exact_only: bool,
}

struct Compiler {
    report: Report,
    /// Set when an fx ratio does not fit the fast path's integers.
    exact_only: bool,
    /// Codes of services that exist but were refused for their own problems: rows that name
    /// them are not reported again as naming no service (the cause is already listed).
    refused_services: std::collections::HashSet<String>,
    unreadable: Unreadable,
}

/// A key column's value: a specific code, or `*` for any.
fn wildcard(value: &str) -> Option<&str> {
    (value != "*").then_some(value)
}

fn validity(from: Option<Date>, to: Option<Date>) -> Validity {
    Validity { from, to }
}

impl Compiler {
    fn err(&mut self, table: &str, row: RowNo, column: &str, message: impl Into<String>) {
        self.report.error(table, Some(row), Some(column), message);
    }

    fn text(&mut self, table: &str, row: RowNo, column: &str, value: &str) -> bool {
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

    fn country(&mut self, table: &str, row: RowNo, column: &str, value: &str) -> Option<Country> {
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
    fn country_or_any(
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

    fn currency(
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

    fn amount(&mut self, table: &str, row: RowNo, column: &str, value: Decimal) -> bool {
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

    fn opt_amount(
        &mut self,
        table: &str,
        row: RowNo,
        column: &str,
        value: Option<Decimal>,
    ) -> bool {
        value.is_none_or(|v| self.amount(table, row, column, v))
    }

    /// A whole number within `min..WHOLE_MAX`.
    fn whole(
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

    fn opt_whole(
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

    fn window(
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
    fn unknown_service(&mut self, table: &str, row: RowNo, code: &str, hint: &str) {
        if !self.unreadable.services && !self.refused_services.contains(code) {
            self.err(
                table,
                row,
                "service_code",
                format!("{code:?} is not a service{hint}"),
            );
        }
    }

    fn prefix(
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

    fn build(&mut self, src: &SourceBook) -> Option<Book> {
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

    fn fx(&mut self, src: &SourceBook, base: Option<Currency>) -> Fx {
        let mut rates: Vec<(Currency, Decimal)> = Vec::new();
        for r in &src.fx {
            let Some(currency) = Currency::from_code(&r.currency) else {
                self.err(
                    "fx",
                    r.row,
                    "currency",
                    format!(
                        "{:?} is not an upper-case ISO 4217 currency code",
                        r.currency
                    ),
                );
                continue;
            };
            if rates.iter().any(|(c, _)| *c == currency) {
                self.err(
                    "fx",
                    r.row,
                    "currency",
                    format!("{currency} appears more than once"),
                );
                continue;
            }
            if r.per_base <= Decimal::ZERO {
                self.err(
                    "fx",
                    r.row,
                    "per_base",
                    format!("{} must be above 0", r.per_base),
                );
                continue;
            }
            if !self.amount("fx", r.row, "per_base", r.per_base) {
                continue;
            }
            if Some(currency) == base && r.per_base != Decimal::ONE {
                self.err(
                    "fx",
                    r.row,
                    "per_base",
                    format!(
                        "the base currency {currency} must have per_base 1, not {}",
                        r.per_base
                    ),
                );
                continue;
            }
            rates.push((currency, r.per_base.normalize()));
        }
        // The base currency is worth one of itself even without a row.
        if let Some(base) = base
            && !rates.iter().any(|(c, _)| *c == base)
        {
            rates.push((base, Decimal::ONE));
        }
        let n = rates.len();
        let mut pairs = Vec::with_capacity(n * n);
        for (_, from) in &rates {
            for (_, to) in &rates {
                let exact = ratio(*to, *from);
                self.exact_only |= exact.is_none();
                pairs.push(exact.unwrap_or(Ratio { num: 0, den: 1 }));
            }
        }
        Fx { rates, pairs }
    }

    fn zones(&mut self, src: &SourceBook) -> Vec<Chart> {
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

    #[allow(clippy::type_complexity)]
    fn services(
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

    /// Groups bands by (service, zone), checks them, and pre-scales them to one exact scale.
    fn rates(&mut self, src: &SourceBook, services: &mut [Service], charts: &[Chart]) -> Rates {
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

    fn resolve_rate_key(
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

    fn surcharges(
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

    fn restrictions(
        &mut self,
        src: &SourceBook,
        by_code: &HashMap<Box<str>, u32>,
    ) -> HashMap<Box<str>, CategoryRules> {
        let t = "restrictions";
        let mut out: HashMap<Box<str>, CategoryRules> = HashMap::new();
        let mut seen: HashMap<(&str, &str, &str), RowNo> = HashMap::new();
        for r in &src.restrictions {
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
            let ok_category = self.text(t, r.row, "category", &r.category);
            let allow = match r.action.as_str() {
                "allow" => Some(true),
                "deny" => Some(false),
                other => {
                    self.err(
                        t,
                        r.row,
                        "action",
                        format!("{other:?} is not allow or deny"),
                    );
                    None
                }
            };
            if let Some(first) = seen.insert((&r.service_code, &r.dest_country, &r.category), r.row)
            {
                self.err(
                    t,
                    r.row,
                    "category",
                    format!(
                        "duplicates row {first} (same service_code, dest_country and category)"
                    ),
                );
                continue;
            }
            let (Some(service), Some(country), true, Some(allow)) =
                (service, country, ok_category, allow)
            else {
                continue;
            };
            let rules = out.entry(r.category.as_str().into()).or_default();
            match service {
                Some(s) => {
                    if rules.by_service.is_empty() {
                        rules.by_service = vec![Vec::new(); by_code.len()];
                    }
                    if let Some(rows) = rules.by_service.get_mut(s as usize) {
                        rows.push((country, allow));
                    }
                }
                None => rules.any_service.push((country, allow)),
            }
        }
        out
    }

    #[allow(clippy::type_complexity)]
    fn prices(
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

    #[allow(clippy::type_complexity)]
    fn customs(
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
    fn duty_rates(
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

    fn segments(&mut self, src: &SourceBook, by_code: &HashMap<Box<str>, u32>) -> Vec<Segment> {
        let t = "segments";
        let mut out: Vec<Segment> = Vec::new();
        let mut seen: HashMap<(&str, i64), RowNo> = HashMap::new();
        for r in &src.segments {
            let service = by_code.get(r.service_code.as_str()).copied();
            if service.is_none() {
                self.unknown_service(t, r.row, &r.service_code, "");
            }
            let seq = self.whole(t, r.row, "seq", r.seq, 0);
            if !matches!(
                r.kind.as_str(),
                "first_mile" | "hub" | "line_haul" | "customs" | "last_mile"
            ) {
                self.err(
                    t,
                    r.row,
                    "kind",
                    format!(
                        "{:?} is not one of first_mile, hub, line_haul, customs, last_mile",
                        r.kind
                    ),
                );
            }
            let ok =
                self.text(t, r.row, "carrier", &r.carrier) & self.text(t, r.row, "label", &r.label);
            if let Some(first) = seen.insert((&r.service_code, r.seq), r.row) {
                self.err(
                    t,
                    r.row,
                    "seq",
                    format!("duplicates row {first} (same service_code and seq)"),
                );
                continue;
            }
            if let (Some(service), Some(seq), true) = (service, seq, ok) {
                out.push(Segment {
                    service,
                    seq: seq as u32,
                    kind: r.kind.as_str().into(),
                    carrier: r.carrier.as_str().into(),
                    label: r.label.as_str().into(),
                });
            }
        }
        out.sort_by_key(|s| (s.service, s.seq));
        out
    }

    fn warn_unreachable(&mut self, services: &[Service], charts: &[Chart], zb: &[ZoneBands]) {
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

/// Indexes every service's surcharge lists by ship date (see `dated.rs`).
fn dated_surcharges(surcharges: &[Surcharge], services: &mut [Service]) -> DatedSurcharges {
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

/// The charts' country rows, indexed by country first.
fn zones_by_country(charts: &[Chart]) -> FastMap<Country, Vec<(u32, CountryZones)>> {
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

/// `x` as an integer at `scale` decimals, when exact and within 64 bits.
fn scale_to_i64(x: Decimal, scale: u32) -> Option<i64> {
    let up = scale.checked_sub(x.scale())?;
    i64::try_from(x.mantissa().checked_mul(pow10_i128(up)?)?).ok()
}

/// The exact ratio `to_per_base / from_per_base`, reduced, for converting `from` into `to`.
fn ratio(to: Decimal, from: Decimal) -> Option<Ratio> {
    // to = T / 10^st, from = F / 10^sf: to / from = T × 10^sf / (F × 10^st).
    let num = to.mantissa().checked_mul(pow10_i128(from.scale())?)?;
    let den = from.mantissa().checked_mul(pow10_i128(to.scale())?)?;
    let g = gcd(num, den);
    (g > 0).then(|| Ratio {
        num: num / g,
        den: den / g,
    })
}

fn gcd(mut a: i128, mut b: i128) -> i128 {
    a = a.abs();
    b = b.abs();
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}
