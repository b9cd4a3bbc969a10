//! A quote request, already parsed: every field valid on its own.
//!
//! What can only be checked against a rate book (is the quote currency in its fx table?)
//! is checked by [`crate::Book::request_problems`].

use crate::codes::{Country, Date, HsCode, Postcode};
use crate::money::Currency;
use rust_decimal::Decimal;

/// Dimensions above this are refused at the boundary: no parcel is a kilometre long, and the
/// bound keeps `length × width × height` inside 64 bits.
pub const DIMENSION_MM_MAX: u32 = 1_000_000;

#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    /// The customer whose price list applies; `None` applies only `*` price rows.
    pub customer: Option<String>,
    pub ship_date: Date,
    pub origin_country: Country,
    pub origin_postcode: Option<Postcode>,
    pub dest_country: Country,
    pub dest_postcode: Option<Postcode>,
    pub weight_g: u32,
    /// Length, width and height; each may be unknown.
    pub dims_mm: [Option<u32>; 3],
    pub declared_value: Option<Money>,
    pub contents: Vec<ContentLine>,
    pub battery: Option<Battery>,
    /// Declared goods categories (`liquid`, `magnet`, …), without duplicates.
    pub goods: Vec<String>,
    pub incoterm: Incoterm,
    pub require_tracked: bool,
    pub max_transit_days: Option<u32>,
    /// When either list is non-empty, only the services named, or of the carriers named.
    pub services: Vec<String>,
    pub carriers: Vec<String>,
    pub strategy: Strategy,
    /// Value of a day of transit in the quote currency, for `best_value`.
    pub value_per_day: Decimal,
    pub currency: Currency,
    pub landed_cost: bool,
    pub explain: bool,
}

impl Request {
    /// A minimal request: the four required fields, everything else at its default.
    pub fn new(
        origin: Country,
        destination: Country,
        weight_g: u32,
        currency: Currency,
        ship_date: Date,
    ) -> Request {
        Request {
            customer: None,
            ship_date,
            origin_country: origin,
            origin_postcode: None,
            dest_country: destination,
            dest_postcode: None,
            weight_g,
            dims_mm: [None; 3],
            declared_value: None,
            contents: Vec::new(),
            battery: None,
            goods: Vec::new(),
            incoterm: Incoterm::Ddu,
            require_tracked: false,
            max_transit_days: None,
            services: Vec::new(),
            carriers: Vec::new(),
            strategy: Strategy::Cheapest,
            value_per_day: Decimal::ZERO,
            currency,
            landed_cost: false,
            explain: true,
        }
    }

    /// The longest known side; with only some dimensions known, the longest of those
    /// (the true longest side can only be longer).
    pub fn longest_side_mm(&self) -> Option<u64> {
        self.dims_mm.iter().flatten().map(|&d| u64::from(d)).max()
    }

    /// All three dimensions, when all are known.
    pub fn all_dims_mm(&self) -> Option<[u64; 3]> {
        match self.dims_mm {
            [Some(l), Some(w), Some(h)] => Some([u64::from(l), u64::from(w), u64::from(h)]),
            _ => None,
        }
    }

    /// Longest side + 2 × the other two, when all three dimensions are known.
    pub fn girth_mm(&self) -> Option<u64> {
        let dims = self.all_dims_mm()?;
        let longest = dims.iter().copied().max().unwrap_or(0);
        let sum: u64 = dims.iter().sum();
        Some(longest + 2 * (sum - longest))
    }
}

/// An exact amount with its currency, as declared by a shipper.
#[derive(Clone, Debug, PartialEq)]
pub struct Money {
    pub amount: Decimal,
    pub currency: Currency,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ContentLine {
    pub description: Option<String>,
    pub hs_code: Option<HsCode>,
    pub quantity: u32,
    /// The line's total, in the declared value's currency.
    pub value: Decimal,
    pub origin_country: Option<Country>,
}

/// A lithium battery's packing instruction (IATA PI 965–970).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Battery {
    Pi965,
    Pi966,
    Pi967,
    Pi968,
    Pi969,
    Pi970,
}

impl Battery {
    pub fn parse(text: &str) -> Option<Battery> {
        Some(match text {
            "PI965" => Battery::Pi965,
            "PI966" => Battery::Pi966,
            "PI967" => Battery::Pi967,
            "PI968" => Battery::Pi968,
            "PI969" => Battery::Pi969,
            "PI970" => Battery::Pi970,
            _ => return None,
        })
    }

    /// The restriction category this battery is declared as: `battery:PI967`.
    pub fn category(&self) -> &'static str {
        match self {
            Battery::Pi965 => "battery:PI965",
            Battery::Pi966 => "battery:PI966",
            Battery::Pi967 => "battery:PI967",
            Battery::Pi968 => "battery:PI968",
            Battery::Pi969 => "battery:PI969",
            Battery::Pi970 => "battery:PI970",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Incoterm {
    /// Delivered duty unpaid: the receiver pays import charges.
    Ddu,
    /// Delivered duty paid: the shipper pays them.
    Ddp,
}

impl Incoterm {
    pub fn parse(text: &str) -> Option<Incoterm> {
        match text {
            "DDU" => Some(Incoterm::Ddu),
            "DDP" => Some(Incoterm::Ddp),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    Cheapest,
    Fastest,
    BestValue,
}

impl Strategy {
    pub fn parse(text: &str) -> Option<Strategy> {
        match text {
            "cheapest" => Some(Strategy::Cheapest),
            "fastest" => Some(Strategy::Fastest),
            "best_value" => Some(Strategy::BestValue),
            _ => None,
        }
    }
}
