//! The quote request and answer as OpenAPI schemas (quote-api.md). They document; the
//! parsing and rendering are `crossdock-api`'s, which names every field at fault. Held to
//! the real answers by `openapi_quote_schemas_name_every_field_of_an_answer` (cli tests).

#![allow(dead_code)] // types that exist for their schema only

use utoipa::ToSchema;

/// Money: a decimal string at the currency's ISO 4217 minor units.
#[derive(ToSchema)]
pub struct Money {
    #[schema(example = "45.00")]
    amount: String,
    #[schema(example = "USD")]
    currency: String,
}

#[derive(ToSchema)]
pub struct Place {
    /// ISO 3166-1 alpha-2, capitals.
    #[schema(example = "DE")]
    country: String,
    #[schema(example = "10115")]
    postcode: Option<String>,
}

#[derive(ToSchema)]
pub struct Parcel {
    /// Whole grams, above 0.
    weight_g: u64,
    length_mm: Option<u64>,
    width_mm: Option<u64>,
    height_mm: Option<u64>,
}

#[derive(ToSchema)]
pub struct ContentLine {
    description: String,
    /// 6 to 10 digits.
    hs_code: Option<String>,
    quantity: Option<u64>,
    /// The line's total in `declared_value.currency`, a decimal string.
    value: Option<String>,
    origin_country: Option<String>,
}

#[derive(ToSchema)]
pub struct Require {
    tracked: Option<bool>,
    max_transit_days: Option<u32>,
    services: Option<Vec<String>>,
    carriers: Option<Vec<String>>,
}

/// A quote request (quote-api.md, "Request"). Required: `origin.country`,
/// `destination.country`, `parcel.weight_g`, `currency`. Unknown fields are refused.
#[derive(ToSchema)]
pub struct QuoteRequest {
    /// Defaults to the key's own customer; a customer key may not quote as another.
    customer: Option<String>,
    /// YYYY-MM-DD; default today (UTC).
    ship_date: Option<String>,
    origin: Place,
    destination: Place,
    parcel: Parcel,
    declared_value: Option<Money>,
    contents: Option<Vec<ContentLine>>,
    /// none, PI965 … PI970.
    battery: Option<String>,
    goods: Option<Vec<String>>,
    /// DDU (default) or DDP.
    incoterm: Option<String>,
    require: Option<Require>,
    /// cheapest (default), fastest or best_value.
    strategy: Option<String>,
    /// For best_value: a decimal string, the worth of one day.
    value_per_day: Option<String>,
    /// ISO 4217: the currency of every amount of the answer.
    currency: String,
    landed_cost: Option<bool>,
    /// Include excluded services and their reasons (default true).
    explain: Option<bool>,
}

#[derive(ToSchema)]
pub struct TransitDays {
    min: u32,
    max: u32,
}

#[derive(ToSchema)]
pub struct CostLine {
    /// BASE, FUEL, REMOTE, …
    code: String,
    amount: String,
}

#[derive(ToSchema)]
pub struct LandedCost {
    currency: String,
    duty: String,
    tax: String,
    scheme: String,
    import_charges: String,
}

/// A service that can carry the parcel, priced; `lines` add up to `cost` exactly.
#[derive(ToSchema)]
pub struct QuoteOption {
    rank: u32,
    service: String,
    carrier: String,
    sell: String,
    cost: String,
    margin: String,
    chargeable_weight_g: u64,
    transit_days: TransitDays,
    lines: Vec<CostLine>,
    landed_cost: Option<LandedCost>,
}

/// A service that cannot carry the parcel, with every reason (quote-api.md's codes).
#[derive(ToSchema)]
pub struct Excluded {
    service: String,
    carrier: String,
    reasons: Vec<String>,
}

#[derive(ToSchema)]
pub struct Customs {
    /// HS6_REQUIRED, GENERIC_DESCRIPTION, VALUE_MISMATCH, …
    issues: Vec<String>,
}

/// A quote (quote-api.md, "Answer"): `options` best first (empty when nothing can carry the
/// parcel: still a 200), the book that priced it, excluded services, customs issues.
#[derive(ToSchema)]
pub struct QuoteAnswer {
    /// `name@hash` of the book that priced this quote.
    #[schema(example = "demo-2026-11@7f3a9c2e")]
    rate_book: String,
    currency: String,
    options: Vec<QuoteOption>,
    excluded: Option<Vec<Excluded>>,
    customs: Option<Customs>,
}
