//! The demo book: the sample users see first, so every table is realistic and consistent.
//!
//! Seventeen fictional services, modelled on real cross-border products from South China and
//! Hong Kong, to 46 destinations (the EU-27, the UK, North America, Oceania, East Asia, the
//! Gulf, Latin America and South Africa). Carriers and prices are invented; structures are not:
//! a postal small packet with a per-item registration fee, economy lines tracked and
//! untracked, a battery line, dedicated duties-paid lines to the EU, the UK and the US, express
//! with volumetric weight, and national lines to Japan, Australia and Canada. Customs follow the
//! 2026 rules (EU IOSS and the July 2026 flat duty, the UK's £135 rule, no US de minimis,
//! Australia's low-value GST, Canada's two thresholds). `rate-tables/README.md` gives the tour.

use crate::Error;
use crate::book::{Book, Header};
use crate::countries::COUNTRIES;
use crate::parcels::{SampleParcel, draw_parcel, postcode_from_template};
use crate::rng::Rng;
use crate::tables::{
    Customs, CustomsRow, DutyRateRow, DutyRates, Fx, FxRow, PriceRow, Prices, RateRow, Rates,
    RestrictionRow, Restrictions, SegmentRow, Segments, ServiceRow, Services, SurchargeRow,
    Surcharges, ZoneRow, Zones,
};
use crate::values::{Date, Dec4, Dec8};

pub(crate) const NAME: &str = "demo-2026-11";
const BASE_CURRENCY: &str = "USD";
const NOTES: &str = "Demo rate book for crossdock: 17 fictional cross-border services from \
China and Hong Kong to 46 destinations, with customs rules as of 2026. Carriers and prices are \
invented for illustration; regenerate with `cargo run -p crossdock-bookgen -- demo rate-tables/demo`.";
/// The name of the demo book a month on ([`next_book`]).
const NEXT_NAME: &str = "demo-next-2026-12";
/// Seeds the weekly fuel percentages; the rest of the book is written out by hand.
const FUEL_SEED: u64 = 202_611;

// ---------------------------------------------------------------------------------------------
// Destinations

/// Where a destination lies as seen from South China: drives distance pricing and transit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Region {
    AsiaNear,
    Oceania,
    NorthAmerica,
    EuropeWest,
    EuropeRest,
    MiddleEast,
    LatinAmerica,
    Africa,
}

use Region::{
    Africa, AsiaNear, EuropeRest, EuropeWest, LatinAmerica, MiddleEast, NorthAmerica, Oceania,
};

/// The 46 destinations of the demo book.
#[rustfmt::skip]
const DESTINATIONS: [(&str, Region); 46] = [
    ("JP", AsiaNear), ("KR", AsiaNear), ("SG", AsiaNear), ("MY", AsiaNear), ("TH", AsiaNear),
    ("AU", Oceania), ("NZ", Oceania),
    ("US", NorthAmerica), ("CA", NorthAmerica),
    ("GB", EuropeWest), ("DE", EuropeWest), ("FR", EuropeWest), ("NL", EuropeWest),
    ("BE", EuropeWest), ("LU", EuropeWest), ("AT", EuropeWest), ("DK", EuropeWest),
    ("IE", EuropeWest), ("IT", EuropeWest), ("ES", EuropeWest),
    ("CZ", EuropeRest), ("PL", EuropeRest), ("HU", EuropeRest), ("SK", EuropeRest),
    ("SI", EuropeRest), ("HR", EuropeRest), ("PT", EuropeRest), ("SE", EuropeRest),
    ("FI", EuropeRest), ("EE", EuropeRest), ("LV", EuropeRest), ("LT", EuropeRest),
    ("GR", EuropeRest), ("CY", EuropeRest), ("MT", EuropeRest), ("RO", EuropeRest),
    ("BG", EuropeRest), ("CH", EuropeRest), ("NO", EuropeRest),
    ("IL", MiddleEast), ("AE", MiddleEast), ("SA", MiddleEast),
    ("BR", LatinAmerica), ("MX", LatinAmerica), ("CL", LatinAmerica),
    ("ZA", Africa),
];

/// EU member states with their standard VAT rate in 2026 (percent).
#[rustfmt::skip]
pub(crate) const EU_VAT: [(&str, Dec4); 27] = [
    ("AT", Dec4::lit("20")), ("BE", Dec4::lit("21")), ("BG", Dec4::lit("20")),
    ("CY", Dec4::lit("19")), ("CZ", Dec4::lit("21")), ("DE", Dec4::lit("19")),
    ("DK", Dec4::lit("25")), ("EE", Dec4::lit("24")), ("ES", Dec4::lit("21")),
    ("FI", Dec4::lit("25.5")), ("FR", Dec4::lit("20")), ("GR", Dec4::lit("24")),
    ("HR", Dec4::lit("25")), ("HU", Dec4::lit("27")), ("IE", Dec4::lit("23")),
    ("IT", Dec4::lit("22")), ("LT", Dec4::lit("21")), ("LU", Dec4::lit("17")),
    ("LV", Dec4::lit("21")), ("MT", Dec4::lit("18")), ("NL", Dec4::lit("21")),
    ("PL", Dec4::lit("23")), ("PT", Dec4::lit("23")), ("RO", Dec4::lit("21")),
    ("SE", Dec4::lit("25")), ("SI", Dec4::lit("22")), ("SK", Dec4::lit("23")),
];

/// How fast a family of services is; each zone chart belongs to one.
#[derive(Clone, Copy, Debug)]
enum Speed {
    Postal,
    Economy,
    Line,
    Express,
}

impl Region {
    /// Per-kg price relative to the nearest region, in percent.
    fn distance_percent(self) -> i128 {
        match self {
            AsiaNear => 100,
            Oceania => 130,
            NorthAmerica => 145,
            EuropeWest => 135,
            EuropeRest => 145,
            MiddleEast => 150,
            LatinAmerica => 200,
            Africa => 180,
        }
    }

    fn transit_days(self, speed: Speed) -> (i32, i32) {
        let index = self as usize;
        match speed {
            Speed::Postal => [
                (5, 10),
                (7, 15),
                (8, 16),
                (8, 15),
                (10, 18),
                (10, 20),
                (15, 30),
                (12, 25),
            ][index],
            Speed::Economy => [
                (4, 8),
                (6, 12),
                (6, 12),
                (6, 10),
                (7, 13),
                (8, 14),
                (10, 20),
                (10, 18),
            ][index],
            Speed::Line => [
                (3, 5),
                (5, 8),
                (5, 9),
                (5, 8),
                (6, 10),
                (6, 10),
                (8, 14),
                (8, 14),
            ][index],
            Speed::Express => [
                (1, 3),
                (2, 4),
                (2, 4),
                (2, 4),
                (3, 5),
                (3, 5),
                (3, 6),
                (3, 6),
            ][index],
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Zone charts

/// A zone of a chart: its prices follow its region, adjusted by `price_percent`; remote zones
/// take `extra_days` longer.
#[derive(Clone, Copy, Debug)]
struct ZoneDef {
    name: &'static str,
    region: Region,
    price_percent: i128,
    extra_days: i32,
}

/// A zone chart: its zones and the (country, postcode prefix) rows that map to them.
#[derive(Debug)]
struct Chart {
    name: &'static str,
    speed: Speed,
    zones: Vec<ZoneDef>,
    rows: Vec<(&'static str, Option<&'static str>, &'static str)>,
}

impl Chart {
    fn new(name: &'static str, speed: Speed) -> Self {
        Self {
            name,
            speed,
            zones: Vec::new(),
            rows: Vec::new(),
        }
    }

    fn zone(
        &mut self,
        name: &'static str,
        region: Region,
        price_percent: i128,
        extra_days: i32,
    ) -> &mut Self {
        self.zones.push(ZoneDef {
            name,
            region,
            price_percent,
            extra_days,
        });
        self
    }

    /// Maps a whole country (`prefix` `None`) or a postcode prefix of it to `zone`.
    fn row(
        &mut self,
        country: &'static str,
        prefix: Option<&'static str>,
        zone: &'static str,
    ) -> &mut Self {
        self.rows.push((country, prefix, zone));
        self
    }

    fn prefixes(
        &mut self,
        country: &'static str,
        prefixes: &[&'static str],
        zone: &'static str,
    ) -> &mut Self {
        for prefix in prefixes {
            self.row(country, Some(prefix), zone);
        }
        self
    }

    fn zone_def(&self, name: &str) -> &ZoneDef {
        self.zones
            .iter()
            .find(|zone| zone.name == name)
            .unwrap_or_else(|| panic!("chart {} has no zone {name}", self.name))
    }

    fn countries(&self) -> Vec<&'static str> {
        let mut countries: Vec<&'static str> = Vec::new();
        for (country, _, _) in &self.rows {
            if !countries.contains(country) {
                countries.push(country);
            }
        }
        countries
    }
}

const US_EAST: [&str; 3] = ["0", "1", "2"];
const US_CENTRAL: [&str; 5] = ["3", "4", "5", "6", "7"];
const US_WEST: [&str; 2] = ["8", "9"];
/// Hawaii (967, 968) and Alaska (995 – 999): non-contiguous states.
const US_NONCONTIGUOUS: [&str; 7] = ["967", "968", "995", "996", "997", "998", "999"];
/// Northern Ireland.
const GB_NI: [&str; 1] = ["BT"];
/// Highlands and Islands: Outer Hebrides, Shetland, Kirkwall (Orkney and Caithness), Inverness.
const GB_HIGHLANDS: [&str; 4] = ["HS", "ZE", "KW", "IV"];
/// Canadian postcodes by first letter: Atlantic, Quebec, Ontario, Prairies, BC, the North.
const CA_ATLANTIC: [&str; 4] = ["A", "B", "C", "E"];
const CA_QUEBEC: [&str; 3] = ["G", "H", "J"];
const CA_ONTARIO: [&str; 5] = ["K", "L", "M", "N", "P"];
const CA_PRAIRIES: [&str; 3] = ["R", "S", "T"];
const CA_BC: [&str; 1] = ["V"];
const CA_NORTH: [&str; 2] = ["X", "Y"];

/// Postal small packets: one zone per region, whole countries only.
fn postal_chart() -> Chart {
    let mut chart = Chart::new("POSTAL", Speed::Postal);
    let zones = [
        ("P1", AsiaNear),
        ("P2", Oceania),
        ("P3", NorthAmerica),
        ("P4", EuropeWest),
        ("P5", EuropeRest),
        ("P6", MiddleEast),
        ("P7", LatinAmerica),
        ("P8", Africa),
    ];
    for (name, region) in zones {
        chart.zone(name, region, 100, 0);
    }
    for (country, region) in DESTINATIONS {
        let zone = zones
            .iter()
            .find(|(_, r)| *r == region)
            .map(|(name, _)| *name)
            .unwrap_or("P8");
        chart.row(country, None, zone);
    }
    chart
}

fn add_us_zones(chart: &mut Chart) {
    chart
        .zone("US-E", NorthAmerica, 105, 0)
        .zone("US-C", NorthAmerica, 100, 0)
        .zone("US-W", NorthAmerica, 92, 0)
        .zone("US-AKHI", NorthAmerica, 150, 3)
        .row("US", None, "US-C")
        .prefixes("US", &US_EAST, "US-E")
        .prefixes("US", &US_CENTRAL, "US-C")
        .prefixes("US", &US_WEST, "US-W")
        .prefixes("US", &US_NONCONTIGUOUS, "US-AKHI");
}

fn add_gb_zones(chart: &mut Chart, main: &'static str) {
    chart
        .zone(main, EuropeWest, 100, 0)
        .zone("GB-NI", EuropeWest, 110, 1)
        .zone("GB-HI", EuropeWest, 135, 2)
        .row("GB", None, main)
        .prefixes("GB", &GB_NI, "GB-NI")
        .prefixes("GB", &GB_HIGHLANDS, "GB-HI");
}

fn add_ca_zones(chart: &mut Chart) {
    chart
        .zone("CA-E", NorthAmerica, 108, 1)
        .zone("CA-Q", NorthAmerica, 102, 0)
        .zone("CA-O", NorthAmerica, 100, 0)
        .zone("CA-P", NorthAmerica, 104, 1)
        .zone("CA-W", NorthAmerica, 98, 0)
        .zone("CA-N", NorthAmerica, 160, 4)
        .row("CA", None, "CA-O")
        .prefixes("CA", &CA_ATLANTIC, "CA-E")
        .prefixes("CA", &CA_QUEBEC, "CA-Q")
        .prefixes("CA", &CA_ONTARIO, "CA-O")
        .prefixes("CA", &CA_PRAIRIES, "CA-P")
        .prefixes("CA", &CA_BC, "CA-W")
        .prefixes("CA", &CA_NORTH, "CA-N");
}

/// Silkway's economy chart: a zone per country, with postcode zones for the US, Canada,
/// Australia and the UK's remote areas.
fn silkway_chart() -> Chart {
    let mut chart = Chart::new("SILKWAY", Speed::Economy);
    for (country, region) in DESTINATIONS {
        match country {
            "US" => add_us_zones(&mut chart),
            "CA" => add_ca_zones(&mut chart),
            "GB" => add_gb_zones(&mut chart, "GB"),
            "AU" => {
                chart
                    .zone("AU-M", Oceania, 100, 0)
                    .zone("AU-N", Oceania, 125, 2)
                    .zone("AU-Q", Oceania, 104, 1)
                    .zone("AU-W", Oceania, 110, 1)
                    .zone("AU-T", Oceania, 108, 1)
                    .row("AU", None, "AU-M")
                    .prefixes("AU", &["0"], "AU-N")
                    .prefixes("AU", &["2", "3", "5", "8"], "AU-M")
                    .prefixes("AU", &["4", "9"], "AU-Q")
                    .prefixes("AU", &["6"], "AU-W")
                    .prefixes("AU", &["7"], "AU-T");
            }
            _ => {
                chart
                    .zone(country, region, 100, 0)
                    .row(country, None, country);
            }
        }
    }
    chart
}

/// XB Line's EU chart: three zones by distance from its Liège hub.
fn xb_eu_chart() -> Chart {
    let mut chart = Chart::new("XB-EU", Speed::Line);
    chart
        .zone("EU-A", EuropeWest, 100, 0)
        .zone("EU-B", EuropeWest, 108, 1)
        .zone("EU-C", EuropeRest, 104, 2);
    for (country, _) in EU_VAT {
        let zone = match country {
            "DE" | "NL" | "BE" | "LU" | "FR" | "AT" => "EU-A",
            "DK" | "IE" | "IT" | "ES" | "PL" | "CZ" | "SK" | "SI" | "HU" | "PT" | "SE" | "FI" => {
                "EU-B"
            }
            _ => "EU-C",
        };
        chart.row(country, None, zone);
    }
    chart
}

fn xb_gb_chart() -> Chart {
    let mut chart = Chart::new("XB-GB", Speed::Line);
    add_gb_zones(&mut chart, "GB-MAIN");
    chart
}

fn xb_us_chart() -> Chart {
    let mut chart = Chart::new("XB-US", Speed::Line);
    add_us_zones(&mut chart);
    chart
}

/// Express zones are numbered, one per region, as express carriers publish them.
fn express_chart() -> Chart {
    let mut chart = Chart::new("EXPRESS", Speed::Express);
    let zones = [
        ("1", AsiaNear),
        ("2", Oceania),
        ("3", NorthAmerica),
        ("4", EuropeWest),
        ("5", EuropeRest),
        ("6", MiddleEast),
        ("7", LatinAmerica),
        ("8", Africa),
    ];
    for (name, region) in zones {
        chart.zone(name, region, 100, 0);
    }
    for (country, region) in DESTINATIONS {
        let zone = zones
            .iter()
            .find(|(_, r)| *r == region)
            .map(|(name, _)| *name)
            .unwrap_or("8");
        chart.row(country, None, zone);
    }
    chart
}

/// Japan: Hokkaido (040 – 099) and Okinawa (900 – 907) cost more and take longer.
fn sakura_jp_chart() -> Chart {
    let mut chart = Chart::new("SAKURA-JP", Speed::Line);
    chart
        .zone("JP-MAIN", AsiaNear, 100, 0)
        .zone("JP-HKD", AsiaNear, 115, 1)
        .zone("JP-OKI", AsiaNear, 140, 2)
        .row("JP", None, "JP-MAIN")
        .prefixes("JP", &["04", "05", "06", "07", "08", "09"], "JP-HKD")
        .prefixes("JP", &["90"], "JP-OKI");
    chart
}

/// Australia by the first postcode digit, and New Zealand.
fn austral_chart() -> Chart {
    let mut chart = Chart::new("AUSTRAL", Speed::Line);
    chart
        .zone("AU-METRO", Oceania, 100, 0)
        .zone("AU-QLD", Oceania, 105, 1)
        .zone("AU-SA", Oceania, 104, 1)
        .zone("AU-WA", Oceania, 112, 2)
        .zone("AU-TAS", Oceania, 110, 1)
        .zone("NZ", Oceania, 115, 1)
        .row("AU", None, "AU-METRO")
        .prefixes("AU", &["0", "1", "2", "3", "8"], "AU-METRO")
        .prefixes("AU", &["4", "9"], "AU-QLD")
        .prefixes("AU", &["5"], "AU-SA")
        .prefixes("AU", &["6"], "AU-WA")
        .prefixes("AU", &["7"], "AU-TAS")
        .row("NZ", None, "NZ");
    chart
}

fn maple_ca_chart() -> Chart {
    let mut chart = Chart::new("MAPLE-CA", Speed::Line);
    add_ca_zones(&mut chart);
    chart
}

fn charts() -> Vec<Chart> {
    vec![
        postal_chart(),
        silkway_chart(),
        xb_eu_chart(),
        xb_gb_chart(),
        xb_us_chart(),
        express_chart(),
        sakura_jp_chart(),
        austral_chart(),
        maple_ca_chart(),
    ]
}

// ---------------------------------------------------------------------------------------------
// Services and their tariffs

/// How a service's bands are priced, in its currency, for the nearest region; other zones scale
/// by `Region::distance_percent` and the zone's `price_percent`.
#[derive(Clone, Copy, Debug)]
enum Tariff {
    /// A per-parcel fee (`fixed`, e.g. a registration fee) plus a per-kg price, in bands of
    /// `(max_weight_g, per_kg as a percent of the first band's)`: heavier bands are cheaper per
    /// kg and carry a higher fee, so a heavier parcel never costs less.
    Tiered {
        fixed: Dec4,
        per_kg: Dec4,
        bands: &'static [(i32, i128)],
    },
    /// Flat prices per half kilo up to 20 kg (`first_half_kg`, then `each_half_kg` more per
    /// step), then a per-kg price up to 30 kg.
    Express {
        first_half_kg: Dec4,
        each_half_kg: Dec4,
        per_kg_over_20_kg: Dec4,
    },
}

/// A demo service: its `services` row, tariff and transport segments.
#[derive(Clone, Copy, Debug)]
struct DemoService {
    row: ServiceRow<'static>,
    tariff: Tariff,
    segments: &'static [(&'static str, &'static str, &'static str)],
}

/// Defaults for the fields most services leave open.
const OPEN: ServiceRow<'static> = ServiceRow {
    service_code: "",
    carrier: "",
    name: "",
    origin_country: "CN",
    currency: "CNY",
    zone_chart: "",
    tracked: true,
    ddp: false,
    max_weight_g: 2_000,
    max_length_mm: None,
    max_girth_mm: None,
    max_value: None,
    volumetric_divisor: None,
    volumetric_min_side_mm: None,
    min_chargeable_g: None,
    weight_step_g: None,
    valid_from: None,
    valid_to: None,
};

const SMALL_PACKET: ServiceRow<'static> = ServiceRow {
    max_weight_g: 2_000,
    max_length_mm: Some(600),
    max_girth_mm: Some(1_500),
    weight_step_g: Some(10),
    zone_chart: "POSTAL",
    ..OPEN
};

/// Dedicated lines: fine bands for light parcels, coarse ones for heavy boxes, to 30 kg.
const LINE_BANDS: &[(i32, i128)] = &[
    (250, 100),
    (500, 98),
    (1_000, 96),
    (2_000, 94),
    (5_000, 90),
    (10_000, 88),
    (20_000, 86),
    (30_000, 85),
];
const LINE_BANDS_TO_10_KG: &[(i32, i128)] = &[
    (250, 100),
    (500, 98),
    (1_000, 96),
    (2_000, 94),
    (5_000, 90),
    (10_000, 88),
];
const LINE_BANDS_TO_20_KG: &[(i32, i128)] = &[
    (250, 100),
    (500, 98),
    (1_000, 96),
    (2_000, 94),
    (5_000, 90),
    (10_000, 88),
    (20_000, 86),
];
const ECONOMY_BANDS: &[(i32, i128)] = &[(300, 100), (2_000, 95), (10_000, 88), (30_000, 82)];
const POSTAL_BANDS: &[(i32, i128)] = &[(2_000, 100)];

const POSTAL_SEGMENTS: &[(&str, &str, &str)] = &[
    ("first_mile", "Pearl Post", "PP-CN22-A6"),
    ("line_haul", "Pearl Post", "UPU-S10"),
    ("last_mile", "Destination post", "UPU-S10"),
];

const SERVICES: [DemoService; 17] = [
    DemoService {
        row: ServiceRow {
            service_code: "PP-SMALL-REG",
            carrier: "Pearl Post",
            name: "Pearl Post Registered Small Packet",
            min_chargeable_g: Some(50),
            ..SMALL_PACKET
        },
        tariff: Tariff::Tiered {
            fixed: Dec4::lit("16.00"),
            per_kg: Dec4::lit("62.00"),
            bands: POSTAL_BANDS,
        },
        segments: POSTAL_SEGMENTS,
    },
    DemoService {
        row: ServiceRow {
            service_code: "PP-SMALL-UNTRK",
            carrier: "Pearl Post",
            name: "Pearl Post Ordinary Small Packet (withdrawn 2026-06-01)",
            tracked: false,
            min_chargeable_g: Some(50),
            valid_to: Some(Date::ymd(2026, 6, 1)),
            ..SMALL_PACKET
        },
        tariff: Tariff::Tiered {
            fixed: Dec4::lit("5.00"),
            per_kg: Dec4::lit("60.00"),
            bands: POSTAL_BANDS,
        },
        segments: POSTAL_SEGMENTS,
    },
    DemoService {
        row: ServiceRow {
            service_code: "HP-AIR-REG",
            carrier: "Harbour Post",
            name: "Harbour Post Registered Air Packet",
            origin_country: "HK",
            currency: "HKD",
            ..SMALL_PACKET
        },
        tariff: Tariff::Tiered {
            fixed: Dec4::lit("17.00"),
            per_kg: Dec4::lit("80.00"),
            bands: POSTAL_BANDS,
        },
        segments: &[
            ("first_mile", "Harbour Post", "HP-CN22-A6"),
            ("line_haul", "Harbour Post", "UPU-S10"),
            ("last_mile", "Destination post", "UPU-S10"),
        ],
    },
    DemoService {
        row: ServiceRow {
            service_code: "SW-ECO-UNTRK",
            carrier: "Silkway",
            name: "Silkway Economy (untracked)",
            zone_chart: "SILKWAY",
            tracked: false,
            max_length_mm: Some(600),
            max_girth_mm: Some(1_500),
            max_value: Some(Dec4::lit("1400")),
            weight_step_g: Some(10),
            ..OPEN
        },
        tariff: Tariff::Tiered {
            fixed: Dec4::lit("6.00"),
            per_kg: Dec4::lit("55.00"),
            bands: &[(300, 100), (2_000, 92)],
        },
        segments: &[
            ("first_mile", "Silkway", "SW-ZPL-100x100"),
            ("hub", "Silkway", "SW-ZPL-100x100"),
            ("line_haul", "Silkway", "SW-MAWB"),
            ("last_mile", "Destination post", "UPU-S10"),
        ],
    },
    DemoService {
        row: ServiceRow {
            service_code: "SW-ECO-TRK",
            carrier: "Silkway",
            name: "Silkway Economy Tracked",
            zone_chart: "SILKWAY",
            max_weight_g: 30_000,
            max_length_mm: Some(1_200),
            max_girth_mm: Some(2_700),
            max_value: Some(Dec4::lit("5000")),
            volumetric_divisor: Some(8_000),
            volumetric_min_side_mm: Some(600),
            min_chargeable_g: Some(50),
            weight_step_g: Some(10),
            ..OPEN
        },
        tariff: Tariff::Tiered {
            fixed: Dec4::lit("15.00"),
            per_kg: Dec4::lit("58.00"),
            bands: ECONOMY_BANDS,
        },
        segments: &[
            ("first_mile", "Silkway", "SW-ZPL-100x150"),
            ("hub", "Silkway", "SW-ZPL-100x150"),
            ("line_haul", "Silkway", "SW-MAWB"),
            ("last_mile", "Local partner", "PARTNER-ZPL-100x150"),
        ],
    },
    DemoService {
        row: ServiceRow {
            service_code: "SW-BATT-TRK",
            carrier: "Silkway",
            name: "Silkway Battery Line (PI967/PI970)",
            zone_chart: "SILKWAY",
            max_weight_g: 5_000,
            max_length_mm: Some(800),
            max_girth_mm: Some(2_000),
            max_value: Some(Dec4::lit("3000")),
            min_chargeable_g: Some(50),
            weight_step_g: Some(10),
            ..OPEN
        },
        tariff: Tariff::Tiered {
            fixed: Dec4::lit("18.00"),
            per_kg: Dec4::lit("66.00"),
            bands: &[(300, 100), (2_000, 95), (5_000, 90)],
        },
        segments: &[
            ("first_mile", "Silkway", "SW-ZPL-100x150-UN3481"),
            ("hub", "Silkway", "SW-ZPL-100x150-UN3481"),
            ("line_haul", "Silkway", "SW-MAWB-DG"),
            ("last_mile", "Local partner", "PARTNER-ZPL-100x150"),
        ],
    },
    DemoService {
        row: ServiceRow {
            service_code: "SW-ECO-PLUS",
            carrier: "Silkway",
            name: "Silkway Economy Plus (from 2027-01-01)",
            currency: "USD",
            zone_chart: "SILKWAY",
            max_weight_g: 30_000,
            max_length_mm: Some(1_200),
            max_girth_mm: Some(2_700),
            max_value: Some(Dec4::lit("800")),
            volumetric_divisor: Some(8_000),
            volumetric_min_side_mm: Some(600),
            weight_step_g: Some(10),
            valid_from: Some(Date::ymd(2027, 1, 1)),
            ..OPEN
        },
        tariff: Tariff::Tiered {
            fixed: Dec4::lit("2.60"),
            per_kg: Dec4::lit("8.90"),
            bands: ECONOMY_BANDS,
        },
        segments: &[
            ("first_mile", "Silkway", "SW-ZPL-100x150"),
            ("hub", "Silkway", "SW-ZPL-100x150"),
            ("line_haul", "Silkway", "SW-MAWB"),
            ("last_mile", "Local partner", "PARTNER-ZPL-100x150"),
        ],
    },
    DemoService {
        row: ServiceRow {
            service_code: "XB-EU-ECO",
            carrier: "XB Line",
            name: "XB Line EU Economy (untracked)",
            currency: "EUR",
            zone_chart: "XB-EU",
            tracked: false,
            max_length_mm: Some(600),
            max_girth_mm: Some(1_500),
            max_value: Some(Dec4::lit("150")),
            weight_step_g: Some(10),
            ..OPEN
        },
        tariff: Tariff::Tiered {
            fixed: Dec4::lit("0.90"),
            per_kg: Dec4::lit("7.20"),
            bands: &[(250, 100), (500, 98), (1_000, 96), (2_000, 94)],
        },
        segments: &[
            ("first_mile", "XB Line", "XB-ZPL-100x100"),
            ("line_haul", "XB Line", "XB-MAWB-SZX-LGG"),
            ("customs", "XB Line Brokerage", "EU-H7"),
            ("last_mile", "PostNL", "POSTNL-ZPL-100x150"),
        ],
    },
    DemoService {
        row: ServiceRow {
            service_code: "XB-EU-TRK",
            carrier: "XB Line",
            name: "XB Line EU Tracked",
            currency: "EUR",
            zone_chart: "XB-EU",
            max_weight_g: 30_000,
            max_length_mm: Some(1_000),
            max_girth_mm: Some(2_700),
            volumetric_divisor: Some(6_000),
            volumetric_min_side_mm: Some(600),
            weight_step_g: Some(10),
            ..OPEN
        },
        tariff: Tariff::Tiered {
            fixed: Dec4::lit("2.30"),
            per_kg: Dec4::lit("7.60"),
            bands: LINE_BANDS,
        },
        segments: &[
            ("first_mile", "XB Line", "XB-ZPL-100x150"),
            ("hub", "XB Line", "XB-ZPL-100x150"),
            ("line_haul", "XB Line", "XB-MAWB-SZX-LGG"),
            ("customs", "XB Line Brokerage", "EU-H7"),
            ("last_mile", "DPD", "DPD-ZPL-100x150"),
        ],
    },
    DemoService {
        row: ServiceRow {
            service_code: "XB-EU-DDP",
            carrier: "XB Line",
            name: "XB Line EU Duties Paid (IOSS)",
            currency: "EUR",
            zone_chart: "XB-EU",
            ddp: true,
            max_weight_g: 10_000,
            max_length_mm: Some(1_000),
            max_girth_mm: Some(2_700),
            max_value: Some(Dec4::lit("150")),
            volumetric_divisor: Some(6_000),
            volumetric_min_side_mm: Some(600),
            weight_step_g: Some(10),
            ..OPEN
        },
        tariff: Tariff::Tiered {
            fixed: Dec4::lit("2.90"),
            per_kg: Dec4::lit("8.20"),
            bands: LINE_BANDS_TO_10_KG,
        },
        segments: &[
            ("first_mile", "XB Line", "XB-ZPL-100x150"),
            ("hub", "XB Line", "XB-ZPL-100x150"),
            ("line_haul", "XB Line", "XB-MAWB-SZX-LGG"),
            ("customs", "XB Line Brokerage", "EU-H7-IOSS"),
            ("last_mile", "DPD", "DPD-ZPL-100x150"),
        ],
    },
    DemoService {
        row: ServiceRow {
            service_code: "XB-GB-DDP",
            carrier: "XB Line",
            name: "XB Line UK Duties Paid",
            currency: "GBP",
            zone_chart: "XB-GB",
            ddp: true,
            max_weight_g: 20_000,
            max_length_mm: Some(1_000),
            max_girth_mm: Some(2_700),
            max_value: Some(Dec4::lit("135")),
            volumetric_divisor: Some(6_000),
            volumetric_min_side_mm: Some(600),
            weight_step_g: Some(10),
            ..OPEN
        },
        tariff: Tariff::Tiered {
            fixed: Dec4::lit("2.40"),
            per_kg: Dec4::lit("6.90"),
            bands: LINE_BANDS_TO_20_KG,
        },
        segments: &[
            ("first_mile", "XB Line", "XB-ZPL-100x150"),
            ("line_haul", "XB Line", "XB-MAWB-SZX-LHR"),
            ("customs", "XB Line Brokerage", "UK-CDS"),
            ("last_mile", "Yodel", "YODEL-ZPL-100x150"),
        ],
    },
    DemoService {
        row: ServiceRow {
            service_code: "XB-US-DDP",
            carrier: "XB Line",
            name: "XB Line US Duties Paid",
            currency: "USD",
            zone_chart: "XB-US",
            ddp: true,
            max_weight_g: 20_000,
            max_length_mm: Some(1_000),
            max_girth_mm: Some(2_700),
            max_value: Some(Dec4::lit("2500")),
            volumetric_divisor: Some(6_000),
            volumetric_min_side_mm: Some(600),
            weight_step_g: Some(10),
            ..OPEN
        },
        tariff: Tariff::Tiered {
            fixed: Dec4::lit("3.10"),
            per_kg: Dec4::lit("8.00"),
            bands: LINE_BANDS_TO_20_KG,
        },
        segments: &[
            ("first_mile", "XB Line", "XB-ZPL-100x150"),
            ("hub", "XB Line", "XB-ZPL-100x150"),
            ("line_haul", "XB Line", "XB-MAWB-SZX-LAX"),
            ("customs", "XB Line Brokerage", "US-ENTRY-T11"),
            ("last_mile", "USPS", "USPS-IMPB-4x6"),
        ],
    },
    DemoService {
        row: ServiceRow {
            service_code: "SK-EXP-HK",
            carrier: "Skyline Express",
            name: "Skyline Express Worldwide (from Hong Kong)",
            origin_country: "HK",
            currency: "USD",
            zone_chart: "EXPRESS",
            ddp: true,
            max_weight_g: 30_000,
            max_length_mm: Some(1_200),
            max_girth_mm: Some(3_000),
            volumetric_divisor: Some(5_000),
            weight_step_g: Some(500),
            ..OPEN
        },
        tariff: Tariff::Express {
            first_half_kg: Dec4::lit("22.00"),
            each_half_kg: Dec4::lit("4.50"),
            per_kg_over_20_kg: Dec4::lit("9.00"),
        },
        segments: &[
            ("first_mile", "Skyline Express", "SKY-AWB-4x6"),
            ("hub", "Skyline Express", "SKY-AWB-4x6"),
            ("line_haul", "Skyline Express", "SKY-AWB-4x6"),
            ("customs", "Skyline Express", "SKY-COMMERCIAL-INVOICE"),
            ("last_mile", "Skyline Express", "SKY-AWB-4x6"),
        ],
    },
    DemoService {
        row: ServiceRow {
            service_code: "SK-EXP-CN",
            carrier: "Skyline Express",
            name: "Skyline Express Worldwide (from mainland China)",
            currency: "CNY",
            zone_chart: "EXPRESS",
            ddp: true,
            max_weight_g: 30_000,
            max_length_mm: Some(1_200),
            max_girth_mm: Some(3_000),
            volumetric_divisor: Some(5_000),
            weight_step_g: Some(500),
            ..OPEN
        },
        tariff: Tariff::Express {
            first_half_kg: Dec4::lit("150.00"),
            each_half_kg: Dec4::lit("32.00"),
            per_kg_over_20_kg: Dec4::lit("64.00"),
        },
        segments: &[
            ("first_mile", "Skyline Express", "SKY-AWB-4x6"),
            ("hub", "Skyline Express", "SKY-AWB-4x6"),
            ("line_haul", "Skyline Express", "SKY-AWB-4x6"),
            ("customs", "Skyline Express", "SKY-COMMERCIAL-INVOICE"),
            ("last_mile", "Skyline Express", "SKY-AWB-4x6"),
        ],
    },
    DemoService {
        row: ServiceRow {
            service_code: "SL-JP-TRK",
            carrier: "Sakura Link",
            name: "Sakura Link Japan Tracked",
            currency: "JPY",
            zone_chart: "SAKURA-JP",
            max_weight_g: 20_000,
            max_length_mm: Some(1_000),
            max_girth_mm: Some(2_600),
            volumetric_divisor: Some(6_000),
            volumetric_min_side_mm: Some(500),
            weight_step_g: Some(100),
            ..OPEN
        },
        tariff: Tariff::Tiered {
            fixed: Dec4::lit("380"),
            per_kg: Dec4::lit("1450"),
            bands: &[
                (500, 100),
                (1_000, 97),
                (2_000, 95),
                (5_000, 92),
                (10_000, 90),
                (20_000, 88),
            ],
        },
        segments: &[
            ("first_mile", "Sakura Link", "SL-ZPL-100x150"),
            ("line_haul", "Sakura Link", "SL-MAWB-SZX-NRT"),
            ("customs", "Sakura Link", "JP-NACCS-MIC"),
            ("last_mile", "Japan Post", "JP-YUPACK-LABEL"),
        ],
    },
    DemoService {
        row: ServiceRow {
            service_code: "AL-AU-TRK",
            carrier: "Austral Link",
            name: "Austral Link Australia & New Zealand Tracked",
            origin_country: "HK",
            currency: "AUD",
            zone_chart: "AUSTRAL",
            max_weight_g: 22_000,
            max_length_mm: Some(1_050),
            max_girth_mm: Some(2_800),
            volumetric_divisor: Some(5_000),
            volumetric_min_side_mm: Some(500),
            weight_step_g: Some(10),
            ..OPEN
        },
        tariff: Tariff::Tiered {
            fixed: Dec4::lit("3.20"),
            per_kg: Dec4::lit("9.50"),
            bands: &[
                (250, 100),
                (500, 98),
                (1_000, 96),
                (2_000, 94),
                (5_000, 92),
                (10_000, 90),
                (22_000, 88),
            ],
        },
        segments: &[
            ("first_mile", "Austral Link", "AL-ZPL-100x150"),
            ("line_haul", "Austral Link", "AL-MAWB-HKG-SYD"),
            ("customs", "Austral Link", "AU-ICS-SAC"),
            ("last_mile", "Australia Post", "AUPOST-ZPL-100x150"),
        ],
    },
    DemoService {
        row: ServiceRow {
            service_code: "ML-CA-TRK",
            carrier: "Maple Line",
            name: "Maple Line Canada Tracked",
            origin_country: "HK",
            currency: "CAD",
            zone_chart: "MAPLE-CA",
            max_weight_g: 30_000,
            max_length_mm: Some(1_000),
            max_girth_mm: Some(2_700),
            volumetric_divisor: Some(6_000),
            volumetric_min_side_mm: Some(500),
            weight_step_g: Some(10),
            ..OPEN
        },
        tariff: Tariff::Tiered {
            fixed: Dec4::lit("3.50"),
            per_kg: Dec4::lit("9.00"),
            bands: LINE_BANDS,
        },
        segments: &[
            ("first_mile", "Maple Line", "ML-ZPL-100x150"),
            ("line_haul", "Maple Line", "ML-MAWB-HKG-YVR"),
            ("customs", "Maple Line", "CA-CARM-CLVS"),
            ("last_mile", "Canada Post", "CANADAPOST-4x6"),
        ],
    },
];

/// Minor units of a demo currency (ISO 4217).
fn currency_decimals(currency: &str) -> u32 {
    if currency == "JPY" { 0 } else { 2 }
}

/// Express prices half kilos flat up to 20 kg.
const HALF_KG_BANDS: i32 = 40;

/// The bands of one service in one zone, in increasing weight.
fn bands(tariff: &Tariff, zone: &ZoneDef, currency: &str) -> Vec<(i32, Dec4, Dec4)> {
    let decimals = currency_decimals(currency);
    let distance = zone.region.distance_percent();
    // Per-parcel fees carry half the distance premium: handling costs less than flying.
    let fee_percent = 100 + (distance - 100) / 2;
    let per_kg_scale = distance * zone.price_percent;
    let fee_scale = fee_percent * zone.price_percent;
    match *tariff {
        Tariff::Tiered {
            fixed,
            per_kg,
            bands,
        } => {
            let fixed = fixed.mul_div_ceil(fee_scale, 10_000).ceil_to(decimals);
            let per_kg = per_kg.mul_div_ceil(per_kg_scale, 10_000).ceil_to(decimals);
            let mut rows: Vec<(i32, Dec4, Dec4)> = Vec::with_capacity(bands.len());
            for &(max_weight_g, percent) in bands {
                let band_per_kg = per_kg.mul_div_ceil(percent, 100).ceil_to(decimals);
                let band_fixed = match rows.last() {
                    None => fixed,
                    // Continuity: just above the previous band the price must not drop.
                    Some(&(previous_max_g, previous_fixed, previous_per_kg)) => {
                        let saved = Dec4((previous_per_kg.0 - band_per_kg.0).max(0))
                            .mul_div_ceil(i128::from(previous_max_g), 1_000);
                        (previous_fixed + saved).ceil_to(decimals)
                    }
                };
                rows.push((max_weight_g, band_fixed, band_per_kg));
            }
            rows
        }
        Tariff::Express {
            first_half_kg,
            each_half_kg,
            per_kg_over_20_kg,
        } => {
            let first = first_half_kg
                .mul_div_ceil(per_kg_scale, 10_000)
                .ceil_to(decimals);
            let each = each_half_kg
                .mul_div_ceil(per_kg_scale, 10_000)
                .ceil_to(decimals);
            let mut rows: Vec<(i32, Dec4, Dec4)> = (0..HALF_KG_BANDS)
                .map(|step: i32| {
                    (
                        500 * (step + 1),
                        first + Dec4(each.0 * i128::from(step)),
                        Dec4::ZERO,
                    )
                })
                .collect();
            let price_at_20_kg = first + Dec4(each.0 * i128::from(HALF_KG_BANDS - 1));
            let over = per_kg_over_20_kg
                .mul_div_ceil(per_kg_scale, 10_000)
                .max(price_at_20_kg.mul_div_ceil(1, 20))
                .ceil_to(decimals);
            rows.push((30_000, Dec4::ZERO, over));
            rows
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Surcharges

/// Remote areas that carriers without postcode zones surcharge.
#[rustfmt::skip]
const REMOTE_PREFIXES: [(&str, &str); 15] = [
    ("GB", "BT"), ("GB", "HS"), ("GB", "ZE"), ("GB", "KW"), ("GB", "IV"),
    ("US", "967"), ("US", "968"), ("US", "995"), ("US", "996"), ("US", "997"), ("US", "998"), ("US", "999"),
    ("FR", "20"), ("ES", "35"), ("ES", "38"),
];
/// Corsica and the Canary Islands: surcharged by the EU lines and Silkway.
const ISLAND_PREFIXES: [(&str, &str); 3] = [("FR", "20"), ("ES", "35"), ("ES", "38")];

/// A surcharge row with every condition open.
const fn surcharge(
    service_code: &'static str,
    code: &'static str,
    kind: &'static str,
    amount: Dec4,
) -> SurchargeRow<'static> {
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

/// First Monday of the weekly fuel table, and how many weeks it runs (to 2027-04-05).
const FUEL_FIRST_MONDAY: Date = Date::ymd(2026, 6, 29);
const FUEL_WEEKS: i32 = 40;

/// The weekly fuel surcharge on every service: a random walk between 9.50 % and 14.50 %.
fn fuel_rows() -> Vec<SurchargeRow<'static>> {
    let mut rng = Rng::new(FUEL_SEED);
    let mut percent = Dec4::lit("11.50");
    let step = Dec4::lit("0.25");
    (0..FUEL_WEEKS)
        .map(|week| {
            let from = FUEL_FIRST_MONDAY.plus_days(7 * week);
            match rng.below(3) {
                0 if percent > Dec4::lit("9.50") => percent = Dec4(percent.0 - step.0),
                2 if percent < Dec4::lit("14.50") => percent = percent + step,
                _ => {}
            }
            SurchargeRow {
                valid_from: Some(from),
                valid_to: Some(from.plus_days(7)),
                ..surcharge("*", "FUEL", "percent_of_base", percent)
            }
        })
        .collect()
}

fn remote_rows(
    rows: &mut Vec<SurchargeRow<'static>>,
    base: SurchargeRow<'static>,
    prefixes: &[(&'static str, &'static str)],
) {
    for &(country, prefix) in prefixes {
        rows.push(SurchargeRow {
            dest_country: Some(country),
            postcode_prefix: Some(prefix),
            ..base
        });
    }
}

fn surcharge_rows() -> Vec<SurchargeRow<'static>> {
    let mut rows = fuel_rows();
    let peak_from = Some(Date::ymd(2026, 11, 16));
    let peak_to = Some(Date::ymd(2027, 1, 11));
    let ddp = Some("DDP");

    for service in ["SW-ECO-UNTRK", "SW-ECO-TRK", "SW-BATT-TRK"] {
        remote_rows(
            &mut rows,
            surcharge(service, "REMOTE", "fixed", Dec4::lit("18.00")),
            &ISLAND_PREFIXES,
        );
    }
    remote_rows(
        &mut rows,
        surcharge("SW-ECO-PLUS", "REMOTE", "fixed", Dec4::lit("2.50")),
        &ISLAND_PREFIXES,
    );
    for service in ["SW-ECO-TRK", "SW-BATT-TRK"] {
        rows.push(SurchargeRow {
            minimum: Some(Dec4::lit("1.00")),
            valid_from: peak_from,
            valid_to: peak_to,
            ..surcharge(service, "PEAK", "per_kg", Dec4::lit("1.50"))
        });
    }
    rows.push(SurchargeRow {
        min_length_mm: Some(600),
        ..surcharge("SW-ECO-TRK", "OVERSIZE", "fixed", Dec4::lit("45.00"))
    });
    rows.push(SurchargeRow {
        min_chargeable_g: Some(20_000),
        ..surcharge("SW-ECO-TRK", "HEAVY", "fixed", Dec4::lit("20.00"))
    });
    rows.push(SurchargeRow {
        battery: Some(true),
        ..surcharge("SW-BATT-TRK", "BATTERY", "fixed", Dec4::lit("8.00"))
    });
    rows.push(SurchargeRow {
        min_length_mm: Some(600),
        ..surcharge("SW-ECO-PLUS", "OVERSIZE", "fixed", Dec4::lit("6.50"))
    });

    for service in ["XB-EU-ECO", "XB-EU-TRK", "XB-EU-DDP"] {
        remote_rows(
            &mut rows,
            surcharge(service, "REMOTE", "fixed", Dec4::lit("2.50")),
            &ISLAND_PREFIXES[..1],
        );
        remote_rows(
            &mut rows,
            surcharge(service, "REMOTE", "fixed", Dec4::lit("4.00")),
            &ISLAND_PREFIXES[1..],
        );
    }
    rows.push(SurchargeRow {
        min_length_mm: Some(600),
        ..surcharge("XB-EU-TRK", "OVERSIZE", "fixed", Dec4::lit("4.00"))
    });
    rows.push(SurchargeRow {
        incoterm: ddp,
        ..surcharge("XB-EU-DDP", "DDP", "fixed", Dec4::lit("1.20"))
    });
    rows.push(SurchargeRow {
        incoterm: ddp,
        ..surcharge("XB-GB-DDP", "DDP", "fixed", Dec4::lit("0.95"))
    });
    rows.push(SurchargeRow {
        incoterm: ddp,
        minimum: Some(Dec4::lit("1.50")),
        ..surcharge("XB-US-DDP", "DDP", "percent_of_base", Dec4::lit("4.00"))
    });

    let express = [
        ("SK-EXP-HK", ["0.80", "28.00", "6.00", "30.00", "15.00"]),
        ("SK-EXP-CN", ["5.70", "200.00", "43.00", "215.00", "108.00"]),
    ];
    for (service, [remote_per_kg, remote_minimum, battery, oversize, ddp_fee]) in express {
        let remote = SurchargeRow {
            minimum: Some(Dec4::lit(remote_minimum)),
            ..surcharge(service, "REMOTE", "per_kg", Dec4::lit(remote_per_kg))
        };
        remote_rows(&mut rows, remote, &REMOTE_PREFIXES);
        remote_rows(&mut rows, remote, &[("AU", "08")]);
        rows.push(SurchargeRow {
            battery: Some(true),
            ..surcharge(service, "BATTERY", "fixed", Dec4::lit(battery))
        });
        rows.push(SurchargeRow {
            min_length_mm: Some(1_000),
            ..surcharge(service, "OVERSIZE", "fixed", Dec4::lit(oversize))
        });
        rows.push(SurchargeRow {
            incoterm: ddp,
            ..surcharge(service, "DDP", "fixed", Dec4::lit(ddp_fee))
        });
    }

    // Sakura Link and Maple Line price their remote areas through zones (JP-OKI, CA-N) instead;
    // Austral Link zones by state and surcharges the Northern Territory outback.
    remote_rows(
        &mut rows,
        surcharge("AL-AU-TRK", "REMOTE", "fixed", Dec4::lit("3.50")),
        &[("AU", "08")],
    );
    rows
}

// ---------------------------------------------------------------------------------------------
// Restrictions, prices, fx, customs

const fn rule(
    service_code: &'static str,
    dest_country: &'static str,
    category: &'static str,
    action: &'static str,
) -> RestrictionRow<'static> {
    RestrictionRow {
        service_code,
        dest_country,
        category,
        action,
    }
}

/// The defaults for every service and destination. A category without an `allow` is refused
/// anyway; the `deny` rows say so explicitly for the categories carriers most often ask about.
pub(crate) const DEFAULT_RESTRICTIONS: [RestrictionRow<'static>; 9] = [
    rule("*", "*", "brand", "allow"),
    rule("*", "*", "cosmetic", "allow"),
    rule("*", "*", "liquid", "deny"),
    rule("*", "*", "powder", "deny"),
    rule("*", "*", "magnet", "deny"),
    rule("*", "*", "food", "deny"),
    rule("*", "*", "medicine", "deny"),
    // Loose lithium cells and batteries shipped alone are not carried by anyone here.
    rule("*", "*", "battery:PI965", "deny"),
    rule("*", "*", "battery:PI968", "deny"),
];

/// Per-country rules, then each service's own, after the defaults; the most specific row
/// decides, whatever the order.
const RESTRICTIONS: &[RestrictionRow<'static>] = &[
    rule("*", "BR", "cosmetic", "deny"),
    rule("*", "SA", "cosmetic", "deny"),
    rule("*", "AE", "brand", "deny"),
    rule("HP-AIR-REG", "*", "battery:PI967", "allow"),
    rule("SW-ECO-UNTRK", "*", "magnet", "allow"),
    rule("SW-ECO-TRK", "*", "liquid", "allow"),
    rule("SW-ECO-TRK", "*", "powder", "allow"),
    rule("SW-ECO-TRK", "*", "magnet", "allow"),
    rule("SW-ECO-TRK", "*", "food", "allow"),
    rule("SW-ECO-TRK", "AU", "food", "deny"),
    rule("SW-ECO-TRK", "NZ", "food", "deny"),
    rule("SW-ECO-TRK", "AE", "liquid", "deny"),
    rule("SW-ECO-TRK", "SA", "liquid", "deny"),
    rule("SW-BATT-TRK", "*", "battery:PI967", "allow"),
    rule("SW-BATT-TRK", "*", "battery:PI970", "allow"),
    rule("SW-BATT-TRK", "*", "battery:PI966", "deny"),
    rule("SW-BATT-TRK", "*", "battery:PI969", "deny"),
    rule("SW-BATT-TRK", "*", "magnet", "allow"),
    rule("SW-ECO-PLUS", "*", "liquid", "allow"),
    rule("SW-ECO-PLUS", "*", "powder", "allow"),
    rule("SW-ECO-PLUS", "*", "magnet", "allow"),
    rule("SW-ECO-PLUS", "*", "battery:PI967", "allow"),
    rule("XB-EU-ECO", "*", "magnet", "allow"),
    rule("XB-EU-TRK", "*", "magnet", "allow"),
    rule("XB-EU-TRK", "*", "liquid", "allow"),
    rule("XB-EU-TRK", "*", "battery:PI967", "allow"),
    rule("XB-EU-DDP", "*", "magnet", "allow"),
    rule("XB-EU-DDP", "*", "battery:PI967", "allow"),
    // Duties-paid lines clear in their own name and refuse branded goods (IP seizures).
    rule("XB-EU-DDP", "*", "brand", "deny"),
    rule("XB-GB-DDP", "*", "battery:PI967", "allow"),
    rule("XB-GB-DDP", "*", "brand", "deny"),
    rule("XB-US-DDP", "*", "battery:PI967", "allow"),
    rule("XB-US-DDP", "*", "magnet", "allow"),
    rule("XB-US-DDP", "*", "brand", "deny"),
    rule("SK-EXP-HK", "*", "battery:PI966", "allow"),
    rule("SK-EXP-HK", "*", "battery:PI967", "allow"),
    rule("SK-EXP-HK", "*", "battery:PI969", "allow"),
    rule("SK-EXP-HK", "*", "battery:PI970", "allow"),
    rule("SK-EXP-HK", "*", "liquid", "allow"),
    rule("SK-EXP-HK", "*", "powder", "allow"),
    rule("SK-EXP-HK", "*", "magnet", "allow"),
    rule("SK-EXP-HK", "*", "food", "allow"),
    rule("SK-EXP-HK", "*", "medicine", "allow"),
    rule("SK-EXP-HK", "AU", "food", "deny"),
    rule("SK-EXP-HK", "NZ", "food", "deny"),
    rule("SK-EXP-HK", "US", "medicine", "deny"),
    rule("SK-EXP-HK", "AE", "medicine", "deny"),
    rule("SK-EXP-CN", "*", "battery:PI966", "allow"),
    rule("SK-EXP-CN", "*", "battery:PI967", "allow"),
    rule("SK-EXP-CN", "*", "battery:PI969", "allow"),
    rule("SK-EXP-CN", "*", "battery:PI970", "allow"),
    rule("SK-EXP-CN", "*", "liquid", "allow"),
    rule("SK-EXP-CN", "*", "powder", "allow"),
    rule("SK-EXP-CN", "*", "magnet", "allow"),
    rule("SK-EXP-CN", "*", "food", "allow"),
    rule("SK-EXP-CN", "AU", "food", "deny"),
    rule("SK-EXP-CN", "NZ", "food", "deny"),
    rule("SL-JP-TRK", "*", "battery:PI967", "allow"),
    rule("SL-JP-TRK", "*", "magnet", "allow"),
    rule("SL-JP-TRK", "*", "food", "allow"),
    rule("AL-AU-TRK", "*", "battery:PI967", "allow"),
    rule("AL-AU-TRK", "*", "magnet", "allow"),
    rule("ML-CA-TRK", "*", "battery:PI967", "allow"),
    rule("ML-CA-TRK", "*", "magnet", "allow"),
    rule("ML-CA-TRK", "*", "liquid", "allow"),
];

const fn price(
    customer: &'static str,
    service_code: &'static str,
    dest_country: &'static str,
    markup_percent: &str,
    markup_fixed: &str,
    currency: Option<&'static str>,
) -> PriceRow<'static> {
    PriceRow {
        customer,
        service_code,
        dest_country,
        markup_percent: Dec4::lit(markup_percent),
        markup_fixed: Dec4::lit(markup_fixed),
        currency,
    }
}

const PRICES: &[PriceRow<'static>] = &[
    price("*", "*", "*", "18.00", "0", None),
    price("*", "SK-EXP-HK", "*", "12.00", "0", None),
    price("*", "SK-EXP-CN", "*", "12.00", "0", None),
    price("*", "PP-SMALL-REG", "*", "22.00", "0", None),
    price("acme", "*", "*", "12.00", "0.50", Some("USD")),
    price("acme", "*", "US", "10.00", "0.40", Some("USD")),
    price("acme", "XB-EU-DDP", "*", "8.00", "0.30", Some("EUR")),
    price("acme", "XB-US-DDP", "US", "6.00", "0.25", Some("USD")),
    price("globex", "*", "*", "15.00", "0", None),
    price("globex", "*", "GB", "10.00", "0.80", Some("GBP")),
    price("globex", "SW-ECO-TRK", "*", "9.00", "3.00", Some("CNY")),
    price("globex", "SK-EXP-HK", "*", "7.50", "2.00", Some("EUR")),
    price("initech", "*", "*", "20.00", "5.00", Some("HKD")),
    price("initech", "HP-AIR-REG", "*", "14.00", "0", None),
];

/// Units per US dollar, late 2026 (illustrative).
pub(crate) const FX: [(&str, Dec8); 8] = [
    ("USD", Dec8::lit("1")),
    ("CNY", Dec8::lit("7.15")),
    ("HKD", Dec8::lit("7.78")),
    ("EUR", Dec8::lit("0.92")),
    ("GBP", Dec8::lit("0.79")),
    ("JPY", Dec8::lit("152")),
    ("AUD", Dec8::lit("1.53")),
    ("CAD", Dec8::lit("1.39")),
];

/// The EU's Import One-Stop Shop began on 2021-07-01; the flat duty per HS6 line on low-value
/// parcels applies from 2026-07-01.
const IOSS_START: Date = Date::ymd(2021, 7, 1);
const EU_FLAT_DUTY_START: Date = Date::ymd(2026, 7, 1);

/// Customs rows of the demo destinations that have them, in destination order.
pub(crate) fn customs_rows() -> Vec<CustomsRow<'static>> {
    let mut rows = Vec::new();
    for (country, _) in DESTINATIONS {
        rows.extend(customs_rows_for(country));
    }
    rows
}

/// The customs rows of one country, if the demo models it: the EU-27, GB, US, AU, CA and JP.
pub(crate) fn customs_rows_for(country: &'static str) -> Vec<CustomsRow<'static>> {
    let open = CustomsRow {
        dest_country: country,
        currency: "USD",
        duty_free_upto: None,
        tax_free_upto: None,
        tax_at_sale_upto: None,
        vat_percent: Dec4::ZERO,
        duty_percent: Dec4::ZERO,
        flat_duty_per_hs6: None,
        duty_basis: "FOB",
        tax_includes_freight: false,
        requires_hs6: false,
        valid_from: None,
        valid_to: None,
    };
    if let Some((_, vat)) = EU_VAT.iter().find(|(code, _)| *code == country) {
        let ioss = CustomsRow {
            currency: "EUR",
            duty_free_upto: Some(Dec4::lit("150")),
            tax_at_sale_upto: Some(Dec4::lit("150")),
            vat_percent: *vat,
            duty_percent: Dec4::lit("4.00"),
            duty_basis: "CIF",
            tax_includes_freight: true,
            requires_hs6: true,
            valid_from: Some(IOSS_START),
            valid_to: Some(EU_FLAT_DUTY_START),
            ..open
        };
        let flat_duty = CustomsRow {
            flat_duty_per_hs6: Some(Dec4::lit("3.00")),
            valid_from: Some(EU_FLAT_DUTY_START),
            valid_to: None,
            ..ioss
        };
        return vec![ioss, flat_duty];
    }
    let row = match country {
        "GB" => CustomsRow {
            currency: "GBP",
            duty_free_upto: Some(Dec4::lit("135")),
            tax_at_sale_upto: Some(Dec4::lit("135")),
            vat_percent: Dec4::lit("20"),
            duty_percent: Dec4::lit("4.00"),
            duty_basis: "CIF",
            tax_includes_freight: true,
            ..open
        },
        // No de minimis since 2025-08-29: every parcel pays duty, and there is no federal VAT.
        "US" => CustomsRow {
            duty_percent: Dec4::lit("10.00"),
            requires_hs6: true,
            valid_from: Some(Date::ymd(2025, 8, 29)),
            ..open
        },
        "AU" => CustomsRow {
            currency: "AUD",
            duty_free_upto: Some(Dec4::lit("1000")),
            tax_at_sale_upto: Some(Dec4::lit("1000")),
            vat_percent: Dec4::lit("10"),
            duty_percent: Dec4::lit("5.00"),
            tax_includes_freight: true,
            ..open
        },
        "CA" => CustomsRow {
            currency: "CAD",
            duty_free_upto: Some(Dec4::lit("150")),
            tax_free_upto: Some(Dec4::lit("40")),
            vat_percent: Dec4::lit("5"),
            duty_percent: Dec4::lit("6.00"),
            ..open
        },
        "JP" => CustomsRow {
            currency: "JPY",
            duty_free_upto: Some(Dec4::lit("10000")),
            tax_free_upto: Some(Dec4::lit("10000")),
            vat_percent: Dec4::lit("10"),
            duty_percent: Dec4::lit("5.00"),
            duty_basis: "CIF",
            tax_includes_freight: true,
            ..open
        },
        _ => return Vec::new(),
    };
    vec![row]
}

/// T-shirts (6109), leather footwear (6403), phones and network gear (8517), bags and cases
/// (4202); the US row for other leather footwear (640399) shows a longer prefix winning.
fn duty_rate_rows() -> Vec<DutyRateRow<'static>> {
    let eu = [
        ("6109", "12.00"),
        ("6403", "8.00"),
        ("8517", "0.00"),
        ("4202", "3.00"),
    ];
    let us = [
        ("6109", "16.50"),
        ("6403", "8.50"),
        ("640399", "10.00"),
        ("8517", "0.00"),
        ("4202", "17.60"),
    ];
    let gb = [
        ("6109", "12.00"),
        ("6403", "8.00"),
        ("8517", "0.00"),
        ("4202", "4.00"),
    ];
    let mut rows = Vec::new();
    let mut push = |country: &'static str, rates: &[(&'static str, &'static str)]| {
        for &(hs_prefix, percent) in rates {
            rows.push(DutyRateRow {
                dest_country: country,
                hs_prefix,
                duty_percent: Dec4::lit(percent),
            });
        }
    };
    for (country, _) in EU_VAT {
        push(country, &eu);
    }
    push("GB", &gb);
    push("US", &us);
    rows
}

// ---------------------------------------------------------------------------------------------
// Assembly

pub(crate) fn book() -> Result<Book, Error> {
    book_of(Variant::Demo)
}

/// The demo book a month on, for what-if examples and tests (`crossdock book diff`): the
/// same book but for two changes an analyst would want to see before activating it.
pub(crate) fn next_book() -> Result<Book, Error> {
    book_of(Variant::Next)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Variant {
    Demo,
    /// `XB-EU-TRK` 15 % dearer (fees and per-kg prices) and `SW-ECO-TRK` limited to 2 kg.
    Next,
}

/// The service [`Variant::Next`] makes dearer, and by how many percent.
const NEXT_DEARER: (&str, i128) = ("XB-EU-TRK", 115);
/// The service [`Variant::Next`] limits, and its new maximum weight.
const NEXT_LIMITED: (&str, i32) = ("SW-ECO-TRK", 2_000);

fn book_of(variant: Variant) -> Result<Book, Error> {
    let next = variant == Variant::Next;
    let charts = charts();
    let chart_of = |name: &str| -> &Chart {
        charts
            .iter()
            .find(|chart| chart.name == name)
            .unwrap_or_else(|| panic!("no chart {name}"))
    };

    let mut services = Services::with_capacity(SERVICES.len());
    let mut rates = Rates::with_capacity(4_096);
    let mut segments = Segments::with_capacity(SERVICES.len() * 5);
    for service in &SERVICES {
        let mut row = service.row;
        if next && row.service_code == NEXT_LIMITED.0 {
            row.max_weight_g = NEXT_LIMITED.1;
        }
        services.push(row);
        let chart = chart_of(service.row.zone_chart);
        let decimals = currency_decimals(service.row.currency);
        for zone in &chart.zones {
            for (max_weight_g, mut fixed, mut per_kg) in
                bands(&service.tariff, zone, service.row.currency)
            {
                if next && service.row.service_code == NEXT_DEARER.0 {
                    // Both parts scale, so a heavier parcel still never costs less.
                    fixed = fixed.mul_div_ceil(NEXT_DEARER.1, 100).ceil_to(decimals);
                    per_kg = per_kg.mul_div_ceil(NEXT_DEARER.1, 100).ceil_to(decimals);
                }
                rates.push(RateRow {
                    service_code: service.row.service_code,
                    zone: zone.name,
                    max_weight_g,
                    fixed,
                    per_kg,
                });
            }
        }
        for (seq, &(kind, carrier, label)) in (1..).zip(service.segments) {
            segments.push(SegmentRow {
                service_code: service.row.service_code,
                seq,
                kind,
                carrier,
                label,
            });
        }
    }

    let mut zones = Zones::with_capacity(512);
    for chart in &charts {
        for &(dest_country, postcode_prefix, zone) in &chart.rows {
            let def = chart.zone_def(zone);
            let (days_min, days_max) = def.region.transit_days(chart.speed);
            zones.push(ZoneRow {
                zone_chart: chart.name,
                dest_country,
                postcode_prefix,
                zone,
                transit_days_min: days_min + def.extra_days,
                transit_days_max: days_max + def.extra_days,
            });
        }
    }

    let mut surcharges = Surcharges::with_capacity(128);
    for row in surcharge_rows() {
        surcharges.push(row);
    }
    let mut restrictions =
        Restrictions::with_capacity(DEFAULT_RESTRICTIONS.len() + RESTRICTIONS.len());
    for row in DEFAULT_RESTRICTIONS.iter().chain(RESTRICTIONS) {
        restrictions.push(*row);
    }
    let mut prices = Prices::with_capacity(PRICES.len());
    for row in PRICES {
        prices.push(*row);
    }
    let mut fx = Fx::with_capacity(FX.len());
    for (currency, per_base) in FX {
        fx.push(FxRow { currency, per_base });
    }
    let mut customs = Customs::with_capacity(64);
    for row in customs_rows() {
        customs.push(row);
    }
    let mut duty_rates = DutyRates::with_capacity(128);
    for row in duty_rate_rows() {
        duty_rates.push(row);
    }

    Ok(Book {
        header: Header {
            name: if next { NEXT_NAME } else { NAME }.to_owned(),
            base_currency: BASE_CURRENCY.to_owned(),
            notes: NOTES.to_owned(),
        },
        services: services.finish()?,
        zones: zones.finish()?,
        rates: rates.finish()?,
        surcharges: surcharges.finish()?,
        restrictions: restrictions.finish()?,
        prices: prices.finish()?,
        fx: fx.finish()?,
        customs: customs.finish()?,
        duty_rates: duty_rates.finish()?,
        segments: segments.finish()?,
    })
}

// ---------------------------------------------------------------------------------------------
// Sample parcels

/// Real postcodes in the remote areas the demo prices differently, so samples reach them.
const REMOTE_POSTCODES: &[(&str, &[&str])] = &[
    (
        "GB",
        &["BT1 5GS", "HS1 2BN", "ZE1 0LL", "KW15 1NX", "IV2 3AX"],
    ),
    ("US", &["99501", "99701", "96813", "96720"]),
    ("FR", &["20000", "20200"]),
    ("ES", &["35001", "38001"]),
    ("AU", &["0800", "0870"]),
    ("JP", &["900-0014", "060-0001"]),
    ("CA", &["X1A 2N4", "Y1A 1A1"]),
];

/// A postcode for `country`: sometimes a remote one, otherwise a random code of the country's
/// shape when its postcodes are all digits, else one of its real examples.
pub(crate) fn demo_postcode(rng: &mut Rng, country: &str) -> Option<String> {
    let examples = COUNTRIES
        .iter()
        .find(|c| c.code == country)
        .map(|c| c.postcode_examples)
        .unwrap_or(&[]);
    let remote = REMOTE_POSTCODES
        .iter()
        .find(|(code, _)| *code == country)
        .map(|(_, codes)| *codes);
    if let Some(remote) = remote
        && rng.chance(200)
    {
        return Some((*rng.pick(remote)).to_owned());
    }
    let template = examples.first()?;
    if template
        .chars()
        .all(|c| c.is_ascii_digit() || c == '-' || c == ' ')
    {
        Some(postcode_from_template(rng, template, ""))
    } else {
        Some((*rng.pick(examples)).to_owned())
    }
}

pub(crate) fn sample_parcels(n: usize, seed: u64) -> Vec<SampleParcel> {
    let charts = charts();
    let lanes: Vec<(&str, Vec<&str>)> = SERVICES
        .iter()
        .map(|service| {
            let chart = charts
                .iter()
                .find(|chart| chart.name == service.row.zone_chart);
            (
                service.row.origin_country,
                chart.map(Chart::countries).unwrap_or_default(),
            )
        })
        .filter(|(_, countries)| !countries.is_empty())
        .collect();
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|_| {
            let (origin, countries) = rng.pick(&lanes);
            let dest = *rng.pick(countries);
            let postcode = if rng.chance(920) {
                demo_postcode(&mut rng, dest)
            } else {
                None
            };
            draw_parcel(&mut rng, origin, dest, postcode)
        })
        .collect()
}
