//! Orders, shipments and tracking numbers as plain data, and the rules of
//! orders-labels.md that need nothing but the data: validation on the reference data,
//! the status machines, number formats. No I/O, clock, async, SQL or serde here.

use crossdock_refdata as refdata;
use rust_decimal::Decimal;

/// Where an order came from (`source`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Api,
    Batch,
    Upload,
    Inbox,
    Webhook,
}

impl Source {
    pub const ALL: [Source; 5] = [
        Source::Api,
        Source::Batch,
        Source::Upload,
        Source::Inbox,
        Source::Webhook,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Source::Api => "api",
            Source::Batch => "batch",
            Source::Upload => "upload",
            Source::Inbox => "inbox",
            Source::Webhook => "webhook",
        }
    }

    pub fn parse(text: &str) -> Option<Source> {
        Source::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// `held` → `ready` → `shipped`; voiding the shipment makes it `ready` again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderStatus {
    Held,
    Ready,
    Shipped,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 3] = [OrderStatus::Held, OrderStatus::Ready, OrderStatus::Shipped];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Held => "held",
            OrderStatus::Ready => "ready",
            OrderStatus::Shipped => "shipped",
        }
    }

    pub fn parse(text: &str) -> Option<OrderStatus> {
        OrderStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// A postal address as given; postcodes trimmed and upper-cased at parse time.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Address {
    pub name: Option<String>,
    pub company: Option<String>,
    pub line1: Option<String>,
    pub line2: Option<String>,
    pub city: Option<String>,
    pub region: Option<String>,
    pub postcode: Option<String>,
    /// ISO 3166-1 alpha-2, checked at parse time.
    pub country: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

/// Whole grams and millimetres.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Parcel {
    pub weight_g: Option<u32>,
    pub length_mm: Option<u32>,
    pub width_mm: Option<u32>,
    pub height_mm: Option<u32>,
}

/// An exact amount in an ISO 4217 currency.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Money {
    pub amount: Decimal,
    pub currency: String,
}

/// One line of the contents.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContentLine {
    pub description: Option<String>,
    /// As given (2–10 digits once dots and spaces are dropped; checked at parse time).
    pub hs_code: Option<String>,
    pub quantity: Option<u32>,
    /// The line's total in the declared value's currency.
    pub value: Option<Decimal>,
    pub origin_country: Option<String>,
}

/// How to choose the service.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Routing {
    /// `cheapest`, `fastest`, `best_value` (quote-api.md); `None`: the quote's default.
    pub strategy: Option<String>,
    pub tracked: Option<bool>,
    pub max_transit_days: Option<u32>,
    /// A service code: the quote is asked with `require.services: [service]`.
    pub service: Option<String>,
    pub currency: Option<String>,
    pub value_per_day: Option<Decimal>,
}

/// An order as submitted (and as corrected by `PATCH`): what two submissions compare by.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OrderInput {
    /// 1–64 printable characters, unique per customer.
    pub reference: String,
    pub shipper: Address,
    pub recipient: Address,
    pub parcel: Parcel,
    pub declared_value: Option<Money>,
    pub contents: Vec<ContentLine>,
    /// `none` or `PI965`…`PI970`.
    pub battery: Option<String>,
    pub goods: Vec<String>,
    /// `DDU` or `DDP`.
    pub incoterm: Option<String>,
    pub customs_category: Option<String>,
    pub routing: Routing,
}

/// Why an order is held: `{"field", "code", "problem"}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub field: String,
    pub code: &'static str,
    pub problem: String,
}

impl Problem {
    pub fn new(
        field: impl Into<String>,
        code: &'static str,
        problem: impl Into<String>,
    ) -> Problem {
        Problem {
            field: field.into(),
            code,
            problem: problem.into(),
        }
    }
}

/// The customs categories of a CN 22 / CN 23.
pub const CUSTOMS_CATEGORIES: [&str; 6] = [
    "sale_of_goods",
    "gift",
    "documents",
    "commercial_sample",
    "returned_goods",
    "other",
];

/// Battery classes an order may declare.
pub const BATTERIES: [&str; 7] = ["none", "PI965", "PI966", "PI967", "PI968", "PI969", "PI970"];

/// Longest reference, in characters.
pub const REFERENCE_CHARS_MAX: usize = 64;

/// Whether `reference` is 1–64 printable characters (no control characters, not blank).
pub fn reference_ok(reference: &str) -> bool {
    let chars = reference.chars().count();
    (1..=REFERENCE_CHARS_MAX).contains(&chars)
        && !reference.trim().is_empty()
        && reference.chars().all(|c| !c.is_control())
}

/// Every problem that keeps the order `held`, from the reference data alone (the customs
/// issues of the active book are added by the caller, which has the book).
pub fn validate(order: &OrderInput) -> Vec<Problem> {
    let mut problems = Vec::new();
    address_problems("shipper", &order.shipper, &mut problems);
    address_problems("recipient", &order.recipient, &mut problems);
    if order.parcel.weight_g.is_none() {
        problems.push(Problem::new(
            "parcel.weight_g",
            "REQUIRED",
            "the parcel's weight in grams is required",
        ));
    }
    if order.declared_value.is_none() {
        problems.push(Problem::new(
            "declared_value",
            "REQUIRED",
            "the declared value is required",
        ));
    }
    if order.contents.is_empty() {
        problems.push(Problem::new(
            "contents",
            "REQUIRED",
            "at least one content line is required",
        ));
    }
    for (i, line) in order.contents.iter().enumerate() {
        if blank(&line.description) {
            problems.push(Problem::new(
                format!("contents[{i}].description"),
                "REQUIRED",
                "each content line needs a description",
            ));
        }
        if line.value.is_none() {
            problems.push(Problem::new(
                format!("contents[{i}].value"),
                "REQUIRED",
                "each content line needs its value",
            ));
        }
        if let Some(code) = &line.hs_code
            && refdata::hs_known(code) != refdata::HsCheck::Known
        {
            problems.push(Problem::new(
                format!("contents[{i}].hs_code"),
                "HS_UNKNOWN",
                format!("{code} is not a chapter, heading or subheading of HS 2022"),
            ));
        }
    }
    problems
}

fn blank(field: &Option<String>) -> bool {
    field.as_deref().is_none_or(|v| v.trim().is_empty())
}

fn address_problems(prefix: &str, address: &Address, problems: &mut Vec<Problem>) {
    let required = |problems: &mut Vec<Problem>, field: &str, what: &str| {
        problems.push(Problem::new(
            format!("{prefix}.{field}"),
            "REQUIRED",
            what.to_owned(),
        ));
    };
    if blank(&address.name) {
        required(problems, "name", "the name is required");
    }
    let Some(code) = address.country.as_deref() else {
        required(problems, "country", "the country is required");
        return;
    };
    let Some(country) = refdata::country(code) else {
        // Unknown codes are refused at parse time; nothing more to check here.
        return;
    };
    if country.requires_line1() && blank(&address.line1) {
        required(
            problems,
            "line1",
            &format!("the street address is required in {code}"),
        );
    }
    if country.requires_city() && blank(&address.city) {
        required(problems, "city", &format!("the city is required in {code}"));
    }
    if country.requires_region() && blank(&address.region) {
        required(
            problems,
            "region",
            &format!("the region is required in {code}"),
        );
    }
    match address.postcode.as_deref().filter(|p| !p.is_empty()) {
        None if country.requires_postcode() => {
            required(
                problems,
                "postcode",
                &format!("the postcode is required in {code}"),
            );
        }
        Some(postcode) if !country.postcode_matches(postcode) => {
            problems.push(Problem::new(
                format!("{prefix}.postcode"),
                "POSTCODE_FORMAT",
                country.postcode_problem(),
            ));
        }
        _ => {}
    }
}

/// Shipment statuses: `labelled` → `handed_over` → `in_transit`, `delivered`, `returned`;
/// `voided` from `labelled` only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShipmentStatus {
    Labelled,
    HandedOver,
    InTransit,
    Delivered,
    Returned,
    Voided,
}

impl ShipmentStatus {
    pub const ALL: [ShipmentStatus; 6] = [
        ShipmentStatus::Labelled,
        ShipmentStatus::HandedOver,
        ShipmentStatus::InTransit,
        ShipmentStatus::Delivered,
        ShipmentStatus::Returned,
        ShipmentStatus::Voided,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ShipmentStatus::Labelled => "labelled",
            ShipmentStatus::HandedOver => "handed_over",
            ShipmentStatus::InTransit => "in_transit",
            ShipmentStatus::Delivered => "delivered",
            ShipmentStatus::Returned => "returned",
            ShipmentStatus::Voided => "voided",
        }
    }

    pub fn parse(text: &str) -> Option<ShipmentStatus> {
        ShipmentStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// A number range's format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RangeFormat {
    /// UPU S10: service indicator (2 capitals, not `J?`/`K?`), 8-digit serial, check digit,
    /// country.
    S10 {
        service_indicator: String,
        country: String,
    },
    /// Prefix (2–4 capitals, `CD` reserved), 10-digit serial, Luhn digit over the serial.
    Internal { prefix: String },
}

/// The installation-wide sequence for carriers without ranges.
pub const DEFAULT_PREFIX: &str = "CD";
/// Serials of internal numbers have 10 digits.
pub const INTERNAL_SERIAL_MAX: i64 = 9_999_999_999;
/// Serials of S10 numbers have 8 digits.
pub const S10_SERIAL_MAX: i64 = 99_999_999;

impl RangeFormat {
    /// The number for `serial`; `None` if the range's fields cannot make one (refused
    /// when the range was created, so never for a stored range).
    pub fn number(&self, serial: i64) -> Option<String> {
        match self {
            RangeFormat::S10 {
                service_indicator,
                country,
            } => refdata::format_s10(service_indicator, u32::try_from(serial).ok()?, country).ok(),
            RangeFormat::Internal { prefix } => {
                refdata::format_internal(prefix, u64::try_from(serial).ok()?).ok()
            }
        }
    }

    pub fn serial_max(&self) -> i64 {
        match self {
            RangeFormat::S10 { .. } => S10_SERIAL_MAX,
            RangeFormat::Internal { .. } => INTERNAL_SERIAL_MAX,
        }
    }
}

/// Problems of a new range's fields (field, problem), all of them.
pub fn range_problems(format: &RangeFormat, first: i64, last: i64) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    match format {
        RangeFormat::S10 {
            service_indicator,
            country,
        } => {
            let b = service_indicator.as_bytes();
            if b.len() != 2 || !b.iter().all(u8::is_ascii_uppercase) {
                problems.push((
                    "service_indicator".into(),
                    "two capital letters, e.g. RR".into(),
                ));
            } else if b[0] == b'J' || b[0] == b'K' {
                problems.push((
                    "service_indicator".into(),
                    "J? and K? indicators are reserved by the UPU for bilateral use".into(),
                ));
            }
            if !refdata::s10_country_ok(country) {
                problems.push((
                    "country".into(),
                    format!("{country} is not a country with a UPU designated operator"),
                ));
            }
        }
        RangeFormat::Internal { prefix } => {
            let b = prefix.as_bytes();
            if !(2..=4).contains(&b.len()) || !b.iter().all(u8::is_ascii_uppercase) {
                problems.push(("prefix".into(), "2 to 4 capital letters".into()));
            } else if prefix == DEFAULT_PREFIX {
                problems.push((
                    "prefix".into(),
                    "CD is reserved for crossdock's own sequence".into(),
                ));
            }
        }
    }
    let max = format.serial_max();
    if !(0..=max).contains(&first) {
        problems.push(("first".into(), format!("a serial from 0 to {max}")));
    }
    if !(0..=max).contains(&last) {
        problems.push(("last".into(), format!("a serial from 0 to {max}")));
    } else if last < first {
        problems.push(("last".into(), "must not be below first".into()));
    }
    problems
}

/// Whether two serial ranges share a serial.
pub fn overlaps(a: (i64, i64), b: (i64, i64)) -> bool {
    a.0 <= b.1 && b.0 <= a.1
}

/// The customs form by the declared value in SDR: under 300 SDR, unrounded, a CN 22.
pub fn customs_form(value_sdr: Decimal) -> &'static str {
    if value_sdr < Decimal::from(300) {
        "CN22"
    } else {
        "CN23"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_printable_and_bounded() {
        for (reference, ok) in [
            ("SO-10023", true),
            ("", false),
            ("   ", false),
            ("a\u{7}b", false),
            (&"x".repeat(64), true),
            (&"x".repeat(65), false),
            ("日本-1", true),
        ] {
            assert_eq!(reference_ok(reference), ok, "{reference:?}");
        }
    }

    #[test]
    fn overlap_is_symmetric_and_inclusive() {
        assert!(overlaps((1, 10), (10, 20)));
        assert!(overlaps((10, 20), (1, 10)));
        assert!(!overlaps((1, 9), (10, 20)));
        assert!(overlaps((5, 6), (1, 100)));
    }

    #[test]
    fn the_form_changes_at_300_sdr_unrounded() {
        assert_eq!(customs_form(Decimal::new(29_999, 2)), "CN22");
        assert_eq!(customs_form(Decimal::new(299_999_999, 6)), "CN22");
        assert_eq!(customs_form(Decimal::from(300)), "CN23");
    }
}
