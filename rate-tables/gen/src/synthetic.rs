//! Synthetic books: large, deterministic and shaped like production, for benchmarks.
//!
//! Shape (default spec): 200 services from CN (3 in 5) and HK (2 in 5) in seven currencies;
//! 240 destinations (real ISO codes, biggest markets first); each service has its own zone
//! chart serving a window of destinations with a whole-country zone plus
//! `prefixes_per_country` postcode-prefix zones each, and `bands_per_zone` bands per zone.
//! The windows are laid out so that every (origin, destination) lane is served by about
//! [`CANDIDATES_PER_LANE`] services of that origin; every other service is excluded by origin
//! or destination. With the defaults that is 72 000 zone rows and 4.32 million rate rows.
//!
//! Everything derives from `spec.seed` through independent generators, one per purpose, so
//! changing one table's recipe does not reshuffle the others.

use crate::Error;
use crate::book::{Book, Header};
use crate::countries::COUNTRIES;
use crate::demo;
use crate::parcels::{SampleParcel, draw_parcel, postcode_from_template};
use crate::rng::Rng;
use crate::tables::{
    Customs, CustomsRow, DutyRateRow, DutyRates, Fx, FxRow, PriceRow, Prices, RateRow, Rates,
    RestrictionRow, Restrictions, SegmentRow, Segments, ServiceRow, Services, SurchargeRow,
    Surcharges, ZoneRow, Zones,
};
use crate::values::{Date, Dec4, Dec8};

/// How many services of a lane's origin serve its destination (fewer when the origin has
/// fewer services).
pub(crate) const CANDIDATES_PER_LANE: usize = 30;

/// Limits on a spec, so a typo cannot ask for a book that fills the disk.
const SERVICES_MAX: usize = 10_000;
const BANDS_PER_ZONE_MAX: usize = 1_000;
const PREFIXES_PER_COUNTRY_MAX: usize = 100;
const RATE_ROWS_MAX: usize = 50_000_000;

/// Customers with their own price lists.
const CUSTOMERS: usize = 50;

/// Origins and their share of services (out of 5).
const ORIGINS: [(&str, usize); 2] = [("CN", 3), ("HK", 2)];

/// Destinations in this order first (the demo's markets, biggest first), then every other ISO
/// code alphabetically. Origins are never destinations.
#[rustfmt::skip]
const MARKETS_FIRST: [&str; 46] = [
    "US", "GB", "DE", "FR", "AU", "CA", "JP", "KR", "IT", "ES", "NL", "PL", "SE", "BE", "AT", "IE",
    "CH", "NO", "DK", "FI", "PT", "CZ", "GR", "HU", "RO", "SK", "SI", "HR", "BG", "LT", "LV", "EE",
    "LU", "MT", "CY", "NZ", "SG", "MY", "TH", "IL", "AE", "SA", "BR", "MX", "CL", "ZA",
];

/// The shape of a synthetic book.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntheticSpec {
    pub services: usize,
    pub destinations: usize,
    pub bands_per_zone: usize,
    /// Postcode-prefix zones per destination, besides its whole-country zone.
    pub prefixes_per_country: usize,
    pub seed: u64,
}

impl Default for SyntheticSpec {
    fn default() -> Self {
        Self {
            services: 200,
            destinations: 240,
            bands_per_zone: 60,
            prefixes_per_country: 4,
            seed: 2026_1124,
        }
    }
}

/// Row counts of a written book, in `rate-book.md` table order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntheticSummary {
    pub rows_per_table: Vec<(&'static str, usize)>,
    pub total_rows: usize,
    pub rate_rows: usize,
}

impl SyntheticSummary {
    pub(crate) fn of(book: &Book) -> Self {
        let rows_per_table: Vec<(&'static str, usize)> = book
            .tables()
            .into_iter()
            .map(|(name, batch)| (name, batch.num_rows()))
            .collect();
        Self {
            total_rows: rows_per_table.iter().map(|(_, rows)| rows).sum(),
            rate_rows: book.rates.num_rows(),
            rows_per_table,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Layout: who serves what, derived from the spec alone

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Postal small packet: 2 kg, 10 g steps, registration-style fee.
    Post,
    /// Economy line, tracked or not, to 30 kg.
    Economy,
    /// Duties-paid line to 20 kg.
    Ddp,
    /// Express: volumetric 5000, 500 g steps.
    Express,
}

impl Kind {
    /// The service mix repeats every eight services.
    const CYCLE: [Kind; 8] = [
        Kind::Post,
        Kind::Economy,
        Kind::Economy,
        Kind::Ddp,
        Kind::Express,
        Kind::Economy,
        Kind::Post,
        Kind::Ddp,
    ];

    fn tag(self) -> &'static str {
        match self {
            Kind::Post => "POST",
            Kind::Economy => "ECO",
            Kind::Ddp => "DDP",
            Kind::Express => "EXP",
        }
    }

    /// (heaviest parcel in grams, weight step in grams).
    fn weight_g_max_and_step(self) -> (i32, i32) {
        match self {
            Kind::Post => (2_000, 10),
            Kind::Economy => (30_000, 10),
            Kind::Ddp => (20_000, 10),
            Kind::Express => (30_000, 500),
        }
    }

    /// (per-parcel fee, per kg) in US dollars for a destination at 100 % distance.
    fn usd_prices(self, tracked: bool) -> (Dec4, Dec4) {
        match (self, tracked) {
            (Kind::Post, _) => (Dec4::lit("2.20"), Dec4::lit("8.50")),
            (Kind::Economy, true) => (Dec4::lit("2.80"), Dec4::lit("7.80")),
            (Kind::Economy, false) => (Dec4::lit("0.90"), Dec4::lit("7.20")),
            (Kind::Ddp, _) => (Dec4::lit("3.50"), Dec4::lit("9.20")),
            (Kind::Express, _) => (Dec4::lit("20.00"), Dec4::lit("11.00")),
        }
    }
}

const CARRIERS: [&str; 25] = [
    "Aster", "Boreal", "Cobalt", "Delta", "Ember", "Fjord", "Granite", "Harbor", "Indigo", "Jade",
    "Kestrel", "Lumen", "Meridian", "Nimbus", "Orchid", "Pioneer", "Quartz", "Regal", "Summit",
    "Tidal", "Umber", "Vertex", "Willow", "Xenon", "Zephyr",
];

const DDP_CURRENCIES: [&str; 6] = ["EUR", "GBP", "USD", "JPY", "AUD", "CAD"];

#[derive(Debug)]
struct Destination {
    code: &'static str,
    /// The shape of the country's postcodes (its first real example); `None`: no postcodes.
    template: Option<&'static str>,
    prefixes: Vec<String>,
    /// Zone names: the whole country first, then one per prefix.
    zone_names: Vec<String>,
    distance_percent: i128,
    transit_days: (i32, i32),
}

#[derive(Debug)]
struct Service {
    code: String,
    carrier: &'static str,
    name: String,
    origin: &'static str,
    kind: Kind,
    tracked: bool,
    currency: &'static str,
    chart: String,
    price_percent: i128,
    /// Destination indices, ascending.
    served: Vec<usize>,
}

#[derive(Debug)]
struct Layout {
    destinations: Vec<Destination>,
    services: Vec<Service>,
}

/// Purposes of the independent generators drawn from `spec.seed`.
mod purpose {
    pub const DESTINATIONS: u64 = 1;
    pub const SERVICES: u64 = 2;
    pub const FUEL: u64 = 3;
    pub const PRICES: u64 = 4;
    pub const CUSTOMS: u64 = 5;
}

fn validate(spec: &SyntheticSpec) -> Result<(), Error> {
    let available = destination_order().len();
    if spec.services == 0 || spec.services > SERVICES_MAX {
        return Err(Error::invalid_spec(format!(
            "services must be 1 ..= {SERVICES_MAX}"
        )));
    }
    if spec.destinations == 0 || spec.destinations > available {
        return Err(Error::invalid_spec(format!(
            "destinations must be 1 ..= {available} (real ISO codes)"
        )));
    }
    if spec.bands_per_zone == 0 || spec.bands_per_zone > BANDS_PER_ZONE_MAX {
        return Err(Error::invalid_spec(format!(
            "bands per zone must be 1 ..= {BANDS_PER_ZONE_MAX}"
        )));
    }
    if spec.prefixes_per_country > PREFIXES_PER_COUNTRY_MAX {
        return Err(Error::invalid_spec(format!(
            "prefixes per country must be 0 ..= {PREFIXES_PER_COUNTRY_MAX}"
        )));
    }
    Ok(())
}

/// Every usable destination: the markets first, then the other ISO codes, never an origin.
fn destination_order() -> Vec<&'static str> {
    let is_origin = |code: &str| ORIGINS.iter().any(|(origin, _)| *origin == code);
    let mut order: Vec<&'static str> = MARKETS_FIRST.to_vec();
    for country in COUNTRIES {
        if !is_origin(country.code) && !MARKETS_FIRST.contains(&country.code) {
            order.push(country.code);
        }
    }
    order
}

impl Layout {
    fn new(spec: &SyntheticSpec) -> Result<Self, Error> {
        validate(spec)?;
        let destinations = destinations(spec);
        let services = services(spec, destinations.len());
        let layout = Self {
            destinations,
            services,
        };
        let rate_rows: usize = layout
            .services
            .iter()
            .map(|s| s.served.len())
            .sum::<usize>()
            * (1 + spec.prefixes_per_country)
            * spec.bands_per_zone;
        if rate_rows > RATE_ROWS_MAX {
            return Err(Error::invalid_spec(format!(
                "{rate_rows} rate rows exceed the limit of {RATE_ROWS_MAX}"
            )));
        }
        Ok(layout)
    }
}

fn destinations(spec: &SyntheticSpec) -> Vec<Destination> {
    let mut rng = Rng::derive(spec.seed, purpose::DESTINATIONS);
    destination_order()
        .into_iter()
        .take(spec.destinations)
        .map(|code| {
            let template = COUNTRIES
                .iter()
                .find(|c| c.code == code)
                .and_then(|c| c.postcode_examples.first().copied());
            let prefixes = prefixes(&mut rng, template, spec.prefixes_per_country);
            let mut zone_names = vec![code.to_owned()];
            zone_names.extend(prefixes.iter().map(|prefix| format!("{code}-{prefix}")));
            let days_min = rng.between(3, 12) as i32;
            Destination {
                code,
                template,
                prefixes,
                zone_names,
                distance_percent: rng.between(80, 220) as i128,
                transit_days: (days_min, days_min + rng.between(2, 8) as i32),
            }
        })
        .collect()
}

/// `count` distinct prefixes shaped like the country's postcodes: one character while ten
/// choices suffice, else two. Countries without postcodes get digit prefixes (never matched).
fn prefixes(rng: &mut Rng, template: Option<&str>, count: usize) -> Vec<String> {
    let classes: Vec<char> = template
        .unwrap_or("00000")
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    let alphabet = |class: Option<&char>| -> Vec<char> {
        match class {
            Some(c) if c.is_ascii_alphabetic() => ('A'..='Z').collect(),
            _ => ('0'..='9').collect(),
        }
    };
    let first = alphabet(classes.first());
    let mut candidates: Vec<String> = if count <= first.len() {
        first.iter().map(char::to_string).collect()
    } else {
        let second = alphabet(classes.get(1));
        first
            .iter()
            .flat_map(|a| second.iter().map(move |b| format!("{a}{b}")))
            .collect()
    };
    rng.shuffle(&mut candidates);
    candidates.truncate(count);
    candidates.sort();
    candidates
}

fn services(spec: &SyntheticSpec, destination_count: usize) -> Vec<Service> {
    let mut rng = Rng::derive(spec.seed, purpose::SERVICES);
    // Which position each destination takes on the ring that service windows cover.
    let mut ring: Vec<usize> = (0..destination_count).collect();
    rng.shuffle(&mut ring);

    let origin_of = |i: usize| {
        if i % 5 < ORIGINS[0].1 {
            ORIGINS[0].0
        } else {
            ORIGINS[1].0
        }
    };
    let per_origin: Vec<usize> = ORIGINS
        .iter()
        .map(|(origin, _)| {
            (0..spec.services)
                .filter(|&i| origin_of(i) == *origin)
                .count()
        })
        .collect();
    let mut seen = [0_usize; ORIGINS.len()];

    (0..spec.services)
        .map(|i| {
            let origin = origin_of(i);
            let o = ORIGINS
                .iter()
                .position(|(code, _)| *code == origin)
                .unwrap_or(0);
            let (k, n) = (seen[o], per_origin[o]);
            seen[o] += 1;
            // Windows of width w starting at k·D/n cover each ring position about c times.
            let c = CANDIDATES_PER_LANE.min(n);
            let d = destination_count;
            let width = (d * c).div_ceil(n).clamp(1, d);
            let start = k * d / n;
            let mut served: Vec<usize> = (0..width).map(|j| ring[(start + j) % d]).collect();
            served.sort_unstable();

            let kind = Kind::CYCLE[i % Kind::CYCLE.len()];
            let round = i / Kind::CYCLE.len();
            let tracked = match kind {
                Kind::Post => round.is_multiple_of(2),
                Kind::Economy => i % Kind::CYCLE.len() != 2,
                Kind::Ddp | Kind::Express => true,
            };
            let local = if origin == "CN" { "CNY" } else { "HKD" };
            let currency = match kind {
                Kind::Post => local,
                Kind::Economy if round.is_multiple_of(2) => local,
                Kind::Economy => "USD",
                Kind::Ddp => DDP_CURRENCIES[round % DDP_CURRENCIES.len()],
                Kind::Express => "USD",
            };
            let carrier = CARRIERS[i % CARRIERS.len()];
            let code = format!("SYN{i:04}-{origin}-{}", kind.tag());
            Service {
                name: format!(
                    "{carrier} {} {}",
                    kind.tag(),
                    if tracked { "Tracked" } else { "Untracked" }
                ),
                chart: format!("CHART-{i:04}"),
                code,
                carrier,
                origin,
                kind,
                tracked,
                currency,
                price_percent: rng.between(85, 120) as i128,
                served,
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Money

fn fx_per_usd(currency: &str) -> Dec8 {
    demo::FX
        .iter()
        .find(|(code, _)| *code == currency)
        .map(|(_, rate)| *rate)
        .unwrap_or(Dec8::lit("1"))
}

fn currency_decimals(currency: &str) -> u32 {
    if currency == "JPY" { 0 } else { 2 }
}

/// A US-dollar amount in `currency`, rounded up to its minor unit.
fn from_usd(usd: Dec4, currency: &str) -> Dec4 {
    usd.mul_div_ceil(fx_per_usd(currency).0, 10_i128.pow(Dec8::SCALE))
        .ceil_to(currency_decimals(currency))
}

// ---------------------------------------------------------------------------------------------
// Tables

pub(crate) fn book(spec: &SyntheticSpec) -> Result<Book, Error> {
    let layout = Layout::new(spec)?;
    Ok(Book {
        header: Header {
            name: format!(
                "synthetic-{}s-{}d-{}b-{}p-{}",
                spec.services, spec.destinations, spec.bands_per_zone, spec.prefixes_per_country, spec.seed
            ),
            base_currency: "USD".to_owned(),
            notes: "Synthetic benchmark book written by crossdock-bookgen; prices are generated, not real.".to_owned(),
        },
        services: services_table(&layout, spec)?,
        zones: zones_table(&layout)?,
        rates: rates_table(&layout, spec)?,
        surcharges: surcharges_table(&layout, spec)?,
        restrictions: restrictions_table(&layout)?,
        prices: prices_table(&layout, spec)?,
        fx: fx_table()?,
        customs: customs_table(&layout, spec)?,
        duty_rates: duty_rates_table(&layout, spec)?,
        segments: segments_table(&layout)?,
    })
}

/// Band width: the weight range split evenly, rounded up to whole steps.
fn band_width_g(kind: Kind, bands: usize) -> i32 {
    let (weight_max, step) = kind.weight_g_max_and_step();
    let per_band = (weight_max as usize).div_ceil(bands);
    (per_band.div_ceil(step as usize).max(1) * step as usize) as i32
}

fn services_table(
    layout: &Layout,
    spec: &SyntheticSpec,
) -> Result<arrow_array::RecordBatch, Error> {
    let mut table = Services::with_capacity(layout.services.len());
    for service in &layout.services {
        let (weight_max, step) = service.kind.weight_g_max_and_step();
        let bands_cover = band_width_g(service.kind, spec.bands_per_zone)
            .saturating_mul(spec.bands_per_zone as i32);
        let row = ServiceRow {
            service_code: &service.code,
            carrier: service.carrier,
            name: &service.name,
            origin_country: service.origin,
            currency: service.currency,
            zone_chart: &service.chart,
            tracked: service.tracked,
            ddp: matches!(service.kind, Kind::Ddp | Kind::Express),
            max_weight_g: weight_max.min(bands_cover),
            max_length_mm: None,
            max_girth_mm: None,
            max_value: None,
            volumetric_divisor: None,
            volumetric_min_side_mm: None,
            min_chargeable_g: None,
            weight_step_g: Some(step),
            valid_from: Some(Date::ymd(2026, 1, 1)),
            valid_to: None,
        };
        let row = match service.kind {
            Kind::Post => ServiceRow {
                max_length_mm: Some(600),
                max_girth_mm: Some(1_500),
                min_chargeable_g: Some(50),
                ..row
            },
            Kind::Economy => ServiceRow {
                max_length_mm: Some(1_200),
                max_girth_mm: Some(2_700),
                volumetric_divisor: Some(8_000),
                volumetric_min_side_mm: Some(600),
                ..row
            },
            Kind::Ddp => ServiceRow {
                max_length_mm: Some(1_000),
                max_girth_mm: Some(2_700),
                max_value: Some(from_usd(Dec4::units(800), service.currency)),
                volumetric_divisor: Some(6_000),
                volumetric_min_side_mm: Some(600),
                ..row
            },
            Kind::Express => ServiceRow {
                max_length_mm: Some(1_200),
                max_girth_mm: Some(3_000),
                volumetric_divisor: Some(5_000),
                ..row
            },
        };
        table.push(row);
    }
    Ok(table.finish()?)
}

fn zones_table(layout: &Layout) -> Result<arrow_array::RecordBatch, Error> {
    let rows = layout
        .services
        .iter()
        .map(|s| s.served.len())
        .sum::<usize>()
        * layout
            .destinations
            .first()
            .map_or(1, |d| d.zone_names.len());
    let mut table = Zones::with_capacity(rows);
    for service in &layout.services {
        let (days_extra, express) = match service.kind {
            Kind::Post => (4, false),
            Kind::Economy => (1, false),
            Kind::Ddp => (0, false),
            Kind::Express => (0, true),
        };
        for &d in &service.served {
            let dest = &layout.destinations[d];
            let (days_min, days_max) = if express {
                (1 + dest.transit_days.0 / 4, 2 + dest.transit_days.1 / 3)
            } else {
                (
                    dest.transit_days.0 + days_extra,
                    dest.transit_days.1 + days_extra,
                )
            };
            for (z, zone) in dest.zone_names.iter().enumerate() {
                // Prefix zones lie further out: each takes a day longer than the one before.
                let extra = z as i32;
                table.push(ZoneRow {
                    zone_chart: &service.chart,
                    dest_country: dest.code,
                    postcode_prefix: z.checked_sub(1).map(|p| dest.prefixes[p].as_str()),
                    zone,
                    transit_days_min: days_min + extra / 2,
                    transit_days_max: days_max + extra,
                });
            }
        }
    }
    Ok(table.finish()?)
}

/// Zone price factor: the whole country at 100 %, prefix zones progressively remoter.
fn zone_percent(zone_index: usize) -> i128 {
    100 + 12 * zone_index as i128
}

fn rates_table(layout: &Layout, spec: &SyntheticSpec) -> Result<arrow_array::RecordBatch, Error> {
    let rows = layout
        .services
        .iter()
        .map(|s| s.served.len())
        .sum::<usize>()
        * (1 + spec.prefixes_per_country)
        * spec.bands_per_zone;
    let mut table = Rates::with_capacity(rows);
    for service in &layout.services {
        let (usd_fixed, usd_per_kg) = service.kind.usd_prices(service.tracked);
        let width = band_width_g(service.kind, spec.bands_per_zone);
        for &d in &service.served {
            let dest = &layout.destinations[d];
            for (z, zone) in dest.zone_names.iter().enumerate() {
                let percent = service.price_percent * dest.distance_percent * zone_percent(z);
                let fixed = from_usd(usd_fixed.mul_div_ceil(percent, 1_000_000), service.currency);
                let per_kg = from_usd(
                    usd_per_kg.mul_div_ceil(percent, 1_000_000),
                    service.currency,
                );
                // Each band's fee steps up a little: a heavier parcel never costs less.
                let bump = from_usd(
                    usd_fixed.mul_div_ceil(percent, 50_000_000),
                    service.currency,
                );
                for band in 0..spec.bands_per_zone {
                    table.push(RateRow {
                        service_code: &service.code,
                        zone,
                        max_weight_g: width * (band as i32 + 1),
                        fixed: Dec4(fixed.0 + bump.0 * band as i128),
                        per_kg,
                    });
                }
            }
        }
    }
    Ok(table.finish()?)
}

fn surcharge<'a>(
    service_code: &'a str,
    code: &'a str,
    kind: &'a str,
    amount: Dec4,
) -> SurchargeRow<'a> {
    SurchargeRow {
        service_code,
        code,
        kind,
        amount,
        minimum: None,
        dest_country: None,
        postcode_prefix: None,
        battery: None,
        incoterm: None,
        min_chargeable_g: None,
        min_length_mm: None,
        valid_from: None,
        valid_to: None,
    }
}

/// Whether a service of this kind accepts batteries inside equipment (and so charges for them).
fn carries_batteries(service: &Service) -> bool {
    match service.kind {
        Kind::Post => service.origin == "HK",
        Kind::Economy => service.tracked,
        Kind::Ddp | Kind::Express => true,
    }
}

fn surcharges_table(
    layout: &Layout,
    spec: &SyntheticSpec,
) -> Result<arrow_array::RecordBatch, Error> {
    /// Two years of weekly fuel rows from the first Monday of 2026.
    const FUEL_WEEKS: i32 = 104;
    let mut table = Surcharges::with_capacity(FUEL_WEEKS as usize + layout.services.len() * 24);
    let mut rng = Rng::derive(spec.seed, purpose::FUEL);
    let first_monday = Date::ymd(2026, 1, 5);
    let mut percent = Dec4::lit("12.00");
    for week in 0..FUEL_WEEKS {
        let from = first_monday.plus_days(7 * week);
        percent = match rng.below(3) {
            0 if percent > Dec4::lit("8.00") => Dec4(percent.0 - Dec4::lit("0.25").0),
            2 if percent < Dec4::lit("16.00") => percent + Dec4::lit("0.25"),
            _ => percent,
        };
        table.push(SurchargeRow {
            valid_from: Some(from),
            valid_to: Some(from.plus_days(7)),
            ..surcharge("*", "FUEL", "percent_of_base", percent)
        });
    }
    for service in &layout.services {
        let money = |usd: &str| from_usd(Dec4::lit(usd), service.currency);
        let remote = SurchargeRow {
            minimum: Some(money("2.00")),
            ..surcharge(&service.code, "REMOTE", "per_kg", money("0.60"))
        };
        for (n, &d) in service.served.iter().enumerate() {
            let dest = &layout.destinations[d];
            if n % 4 == 0
                && let Some(prefix) = dest.prefixes.last()
            {
                table.push(SurchargeRow {
                    dest_country: Some(dest.code),
                    postcode_prefix: Some(prefix),
                    ..remote
                });
            }
        }
        if carries_batteries(service) {
            table.push(SurchargeRow {
                battery: Some(true),
                ..surcharge(&service.code, "BATTERY", "fixed", money("1.20"))
            });
        }
        match service.kind {
            Kind::Post => {}
            Kind::Economy => {
                table.push(SurchargeRow {
                    minimum: Some(money("0.15")),
                    valid_from: Some(Date::ymd(2026, 11, 16)),
                    valid_to: Some(Date::ymd(2027, 1, 11)),
                    ..surcharge(&service.code, "PEAK", "per_kg", money("0.20"))
                });
                table.push(SurchargeRow {
                    min_length_mm: Some(600),
                    ..surcharge(&service.code, "OVERSIZE", "fixed", money("6.00"))
                });
            }
            Kind::Ddp => {
                table.push(SurchargeRow {
                    incoterm: Some("DDP"),
                    ..surcharge(&service.code, "DDP", "fixed", money("1.50"))
                });
            }
            Kind::Express => {
                table.push(SurchargeRow {
                    min_length_mm: Some(1_000),
                    ..surcharge(&service.code, "OVERSIZE", "fixed", money("30.00"))
                });
                table.push(SurchargeRow {
                    incoterm: Some("DDP"),
                    ..surcharge(&service.code, "DDP", "fixed", money("12.00"))
                });
            }
        }
    }
    Ok(table.finish()?)
}

/// The categories a service allows beyond the defaults.
fn allowed_categories(service: &Service, index: usize) -> &'static [&'static str] {
    match service.kind {
        Kind::Post if service.origin == "HK" => &["battery:PI967"],
        Kind::Post => &[],
        Kind::Economy if !service.tracked => &["magnet"],
        Kind::Economy if index.is_multiple_of(3) => &["magnet", "battery:PI967", "liquid"],
        Kind::Economy => &["magnet", "battery:PI967"],
        Kind::Ddp => &["magnet", "battery:PI967"],
        Kind::Express => &[
            "battery:PI966",
            "battery:PI967",
            "battery:PI969",
            "battery:PI970",
            "liquid",
            "powder",
            "magnet",
            "food",
        ],
    }
}

fn restrictions_table(layout: &Layout) -> Result<arrow_array::RecordBatch, Error> {
    let mut table =
        Restrictions::with_capacity(demo::DEFAULT_RESTRICTIONS.len() + layout.services.len() * 16);
    for row in demo::DEFAULT_RESTRICTIONS {
        table.push(row);
    }
    for (index, service) in layout.services.iter().enumerate() {
        let allowed = allowed_categories(service, index);
        for &category in allowed {
            table.push(RestrictionRow {
                service_code: &service.code,
                dest_country: "*",
                category,
                action: "allow",
            });
        }
        if matches!(service.kind, Kind::Ddp) {
            table.push(RestrictionRow {
                service_code: &service.code,
                dest_country: "*",
                category: "brand",
                action: "deny",
            });
        }
        // A few destinations refuse what the service otherwise carries.
        if let Some(&category) = allowed.first() {
            for (n, &d) in service.served.iter().enumerate() {
                if n % 10 == 3 {
                    table.push(RestrictionRow {
                        service_code: &service.code,
                        dest_country: layout.destinations[d].code,
                        category,
                        action: "deny",
                    });
                }
            }
        }
    }
    Ok(table.finish()?)
}

/// `count` distinct indices below `bound`, in draw order.
fn distinct(rng: &mut Rng, bound: usize, count: usize) -> Vec<usize> {
    let mut picked: Vec<usize> = Vec::with_capacity(count.min(bound));
    while picked.len() < count.min(bound) {
        let candidate = rng.below(bound as u64) as usize;
        if !picked.contains(&candidate) {
            picked.push(candidate);
        }
    }
    picked
}

fn prices_table(layout: &Layout, spec: &SyntheticSpec) -> Result<arrow_array::RecordBatch, Error> {
    let mut rng = Rng::derive(spec.seed, purpose::PRICES);
    let customers: Vec<String> = (1..=CUSTOMERS).map(|n| format!("cust-{n:04}")).collect();
    let mut table = Prices::with_capacity(1 + layout.services.len() + CUSTOMERS * 7);
    let percent = |rng: &mut Rng, low: u64, high: u64| {
        Dec4(i128::from(rng.between(low * 4, high * 4)) * 2_500)
    };
    table.push(PriceRow {
        customer: "*",
        service_code: "*",
        dest_country: "*",
        markup_percent: Dec4::units(15),
        markup_fixed: Dec4::ZERO,
        currency: None,
    });
    for service in layout.services.iter().filter(|s| s.kind == Kind::Express) {
        table.push(PriceRow {
            customer: "*",
            service_code: &service.code,
            dest_country: "*",
            markup_percent: Dec4::units(10),
            markup_fixed: Dec4::ZERO,
            currency: None,
        });
    }
    for (c, customer) in customers.iter().enumerate() {
        let base = PriceRow {
            customer,
            service_code: "*",
            dest_country: "*",
            markup_percent: percent(&mut rng, 5, 25),
            markup_fixed: Dec4(i128::from(rng.between(0, 8)) * 2_500),
            currency: Some(if c % 3 == 0 { "EUR" } else { "USD" }),
        };
        table.push(base);
        for s in distinct(&mut rng, layout.services.len(), 3) {
            let service = &layout.services[s];
            table.push(PriceRow {
                service_code: &service.code,
                markup_percent: percent(&mut rng, 3, 20),
                currency: Some(service.currency),
                ..base
            });
        }
        for d in distinct(&mut rng, layout.destinations.len(), 2) {
            table.push(PriceRow {
                dest_country: layout.destinations[d].code,
                markup_percent: percent(&mut rng, 3, 20),
                ..base
            });
        }
        let service = &layout.services[rng.below(layout.services.len() as u64) as usize];
        let dest = layout.destinations[*rng.pick(&service.served)].code;
        table.push(PriceRow {
            service_code: &service.code,
            dest_country: dest,
            markup_percent: percent(&mut rng, 2, 12),
            markup_fixed: Dec4::ZERO,
            currency: None,
            ..base
        });
    }
    Ok(table.finish()?)
}

fn fx_table() -> Result<arrow_array::RecordBatch, Error> {
    let mut table = Fx::with_capacity(demo::FX.len());
    for (currency, per_base) in demo::FX {
        table.push(FxRow { currency, per_base });
    }
    Ok(table.finish()?)
}

/// The demo's customs rows where it has them (EU, GB, US, AU, CA, JP); elsewhere a plausible
/// national rule in US dollars.
fn customs_table(layout: &Layout, spec: &SyntheticSpec) -> Result<arrow_array::RecordBatch, Error> {
    const THRESHOLDS: [Option<&str>; 7] = [
        None,
        Some("10"),
        Some("20"),
        Some("50"),
        Some("100"),
        Some("200"),
        Some("800"),
    ];
    const VAT: [&str; 8] = ["0", "5", "7.5", "10", "15", "16", "18", "20"];
    const DUTY: [&str; 7] = ["0", "2.5", "5", "8", "10", "12", "15"];
    let mut rng = Rng::derive(spec.seed, purpose::CUSTOMS);
    let mut table = Customs::with_capacity(layout.destinations.len() + 27);
    for dest in &layout.destinations {
        let modelled = demo::customs_rows_for(dest.code);
        if !modelled.is_empty() {
            for row in modelled {
                table.push(row);
            }
            continue;
        }
        let duty_free = rng.pick(&THRESHOLDS).map(Dec4::lit);
        let cif = rng.chance(600);
        let vat_percent = *rng.pick(&VAT);
        let duty_percent = *rng.pick(&DUTY);
        table.push(CustomsRow {
            dest_country: dest.code,
            currency: "USD",
            duty_free_upto: duty_free,
            tax_free_upto: if rng.chance(500) { duty_free } else { None },
            tax_at_sale_upto: None,
            vat_percent: Dec4::lit(vat_percent),
            duty_percent: Dec4::lit(duty_percent),
            flat_duty_per_hs6: None,
            duty_basis: if cif { "CIF" } else { "FOB" },
            tax_includes_freight: cif,
            requires_hs6: rng.chance(100),
            valid_from: None,
            valid_to: None,
        });
    }
    Ok(table.finish()?)
}

fn duty_rates_table(
    layout: &Layout,
    spec: &SyntheticSpec,
) -> Result<arrow_array::RecordBatch, Error> {
    const HS_PREFIXES: [&str; 5] = ["6109", "6403", "640399", "8517", "4202"];
    let mut rng = Rng::derive(spec.seed, purpose::CUSTOMS ^ 0xD0);
    let mut table = DutyRates::with_capacity(layout.destinations.len() * HS_PREFIXES.len());
    for dest in &layout.destinations {
        for hs_prefix in HS_PREFIXES {
            let duty_percent = Dec4(i128::from(rng.between(0, 80)) * 2_500);
            table.push(DutyRateRow {
                dest_country: dest.code,
                hs_prefix,
                duty_percent,
            });
        }
    }
    Ok(table.finish()?)
}

fn segments_table(layout: &Layout) -> Result<arrow_array::RecordBatch, Error> {
    let mut table = Segments::with_capacity(layout.services.len() * 5);
    for service in &layout.services {
        let legs: &[(&str, &str)] = match service.kind {
            Kind::Post => &[
                ("first_mile", "CN22-A6"),
                ("line_haul", "UPU-S10"),
                ("last_mile", "UPU-S10"),
            ],
            Kind::Economy => &[
                ("first_mile", "ZPL-100x100"),
                ("hub", "ZPL-100x100"),
                ("line_haul", "MAWB"),
                ("last_mile", "PARTNER-ZPL-100x150"),
            ],
            Kind::Ddp => &[
                ("first_mile", "ZPL-100x150"),
                ("hub", "ZPL-100x150"),
                ("line_haul", "MAWB"),
                ("customs", "ENTRY"),
                ("last_mile", "PARTNER-ZPL-100x150"),
            ],
            Kind::Express => &[
                ("first_mile", "AWB-4x6"),
                ("line_haul", "AWB-4x6"),
                ("last_mile", "AWB-4x6"),
            ],
        };
        for (seq, &(kind, label)) in (1..).zip(legs) {
            let carrier = if kind == "last_mile" && service.kind != Kind::Express {
                "Local partner"
            } else {
                service.carrier
            };
            table.push(SegmentRow {
                service_code: &service.code,
                seq,
                kind,
                carrier,
                label,
            });
        }
    }
    Ok(table.finish()?)
}

// ---------------------------------------------------------------------------------------------
// Sample parcels

pub(crate) fn sample_parcels(spec: &SyntheticSpec, n: usize, seed: u64) -> Vec<SampleParcel> {
    let layout = match Layout::new(spec) {
        Ok(layout) => layout,
        Err(error) => panic!("sample_parcels needs a valid spec: {error}"),
    };
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|_| {
            let service = rng.pick(&layout.services);
            let dest = &layout.destinations[*rng.pick(&service.served)];
            let postcode = match dest.template {
                Some(template) if rng.chance(900) => {
                    // Half the time aim at a prefix zone; otherwise any postcode of the shape.
                    let prefix = if rng.chance(500) && !dest.prefixes.is_empty() {
                        rng.pick(&dest.prefixes).as_str()
                    } else {
                        ""
                    };
                    Some(postcode_from_template(&mut rng, template, prefix))
                }
                _ => None,
            };
            draw_parcel(&mut rng, service.origin, dest.code, postcode)
        })
        .collect()
}

/// The candidate count of every lane: (origin, destination) → services whose origin matches
/// and whose chart serves the destination. For tests and benchmarks' sanity checks.
#[cfg(test)]
pub(crate) fn candidates_per_lane(
    spec: &SyntheticSpec,
) -> std::collections::HashMap<(&'static str, &'static str), usize> {
    let layout = Layout::new(spec).unwrap_or_else(|e| panic!("{e}"));
    let mut lanes = std::collections::HashMap::new();
    for service in &layout.services {
        for &d in &service.served {
            *lanes
                .entry((service.origin, layout.destinations[d].code))
                .or_insert(0) += 1;
        }
    }
    lanes
}
