//! The answer to a quote request: ranked options, excluded services with reasons, customs issues.
//!
//! Amounts are integer minor units of the quote currency; rendering them (`"12.40"`) is the
//! edge's job, with [`crate::Currency::format_minor`].

use crate::money::Currency;
use std::ops::Range;

/// Why a service cannot carry a parcel, in the order the quote API lists them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Reason {
    Inactive,
    OriginMismatch,
    DestinationNotServed,
    OverMaxWeight,
    OverMaxLength,
    OverMaxGirth,
    OverMaxValue,
    BatteryNotAccepted,
    GoodsNotAccepted,
    DdpNotSupported,
    NotTracked,
    TooSlow,
    NotRequested,
    NoRate,
}

impl Reason {
    pub const ALL: [Reason; 14] = [
        Reason::Inactive,
        Reason::OriginMismatch,
        Reason::DestinationNotServed,
        Reason::OverMaxWeight,
        Reason::OverMaxLength,
        Reason::OverMaxGirth,
        Reason::OverMaxValue,
        Reason::BatteryNotAccepted,
        Reason::GoodsNotAccepted,
        Reason::DdpNotSupported,
        Reason::NotTracked,
        Reason::TooSlow,
        Reason::NotRequested,
        Reason::NoRate,
    ];

    pub fn code(&self) -> &'static str {
        match self {
            Reason::Inactive => "INACTIVE",
            Reason::OriginMismatch => "ORIGIN_MISMATCH",
            Reason::DestinationNotServed => "DESTINATION_NOT_SERVED",
            Reason::OverMaxWeight => "OVER_MAX_WEIGHT",
            Reason::OverMaxLength => "OVER_MAX_LENGTH",
            Reason::OverMaxGirth => "OVER_MAX_GIRTH",
            Reason::OverMaxValue => "OVER_MAX_VALUE",
            Reason::BatteryNotAccepted => "BATTERY_NOT_ACCEPTED",
            Reason::GoodsNotAccepted => "GOODS_NOT_ACCEPTED",
            Reason::DdpNotSupported => "DDP_NOT_SUPPORTED",
            Reason::NotTracked => "NOT_TRACKED",
            Reason::TooSlow => "TOO_SLOW",
            Reason::NotRequested => "NOT_REQUESTED",
            Reason::NoRate => "NO_RATE",
        }
    }
}

/// A set of reasons; iterating yields them in the quote API's order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Reasons(u16);

impl Reasons {
    pub fn insert(&mut self, reason: Reason) {
        self.0 |= 1 << reason as u8;
    }

    pub fn contains(&self, reason: Reason) -> bool {
        self.0 & (1 << reason as u8) != 0
    }

    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }

    pub fn iter(&self) -> impl Iterator<Item = Reason> + '_ {
        Reason::ALL.into_iter().filter(|r| self.contains(*r))
    }
}

/// Customs issues of a request; they never exclude a service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CustomsIssue {
    Hs6Required,
    GenericDescription,
    ValueMismatch,
}

impl CustomsIssue {
    pub const ALL: [CustomsIssue; 3] = [
        CustomsIssue::Hs6Required,
        CustomsIssue::GenericDescription,
        CustomsIssue::ValueMismatch,
    ];

    pub fn code(&self) -> &'static str {
        match self {
            CustomsIssue::Hs6Required => "HS6_REQUIRED",
            CustomsIssue::GenericDescription => "GENERIC_DESCRIPTION",
            CustomsIssue::ValueMismatch => "VALUE_MISMATCH",
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CustomsIssues(u8);

impl CustomsIssues {
    pub fn insert(&mut self, issue: CustomsIssue) {
        self.0 |= 1 << issue as u8;
    }

    pub fn contains(&self, issue: CustomsIssue) -> bool {
        self.0 & (1 << issue as u8) != 0
    }

    pub fn iter(&self) -> impl Iterator<Item = CustomsIssue> + '_ {
        CustomsIssue::ALL.into_iter().filter(|i| self.contains(*i))
    }
}

/// How import tax is collected on a parcel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaxScheme {
    /// Below the tax-free threshold: no tax.
    Exempt,
    /// Collected by the seller at checkout (EU IOSS, UK £135, AU GST): not payable at import.
    CollectedAtSale,
    /// Payable at import.
    AtImport,
}

impl TaxScheme {
    pub fn code(&self) -> &'static str {
        match self {
            TaxScheme::Exempt => "exempt",
            TaxScheme::CollectedAtSale => "collected_at_sale",
            TaxScheme::AtImport => "at_import",
        }
    }
}

/// Duty and tax of one option, in minor units of the quote currency.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LandedCost {
    pub duty: i64,
    pub tax: i64,
    pub scheme: TaxScheme,
    pub import_charges: i64,
}

/// One line of an option's cost: `BASE` or a surcharge's code, by index into
/// [`crate::Book::line_code`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Line {
    pub code: u32,
    pub amount: i64,
}

/// A service that can carry the parcel, priced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuoteOption {
    /// 1 for the best option by the request's strategy.
    pub rank: u32,
    /// Index into [`crate::Book::services`].
    pub service: u32,
    pub sell: i64,
    pub cost: i64,
    pub margin: i64,
    pub chargeable_weight_g: u64,
    pub transit_days_min: u32,
    pub transit_days_max: u32,
    /// This option's cost lines in [`Quote::lines`]; they add up to `cost`.
    pub lines: Range<u32>,
    pub landed_cost: Option<LandedCost>,
}

/// A service that cannot carry the parcel, with every reason that applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Excluded {
    /// Index into [`crate::Book::services`].
    pub service: u32,
    pub reasons: Reasons,
}

/// The answer to one request. The buffers can be reused across quotes
/// ([`crate::Book::quote_into`]) so a steady stream of quotes allocates nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quote {
    pub currency: Currency,
    /// Ranked, best first.
    pub options: Vec<QuoteOption>,
    pub lines: Vec<Line>,
    /// By service code; empty unless the request asked to explain.
    pub excluded: Vec<Excluded>,
    pub customs_issues: CustomsIssues,
}

impl Quote {
    pub fn new(currency: Currency) -> Quote {
        Quote {
            currency,
            options: Vec::new(),
            lines: Vec::new(),
            excluded: Vec::new(),
            customs_issues: CustomsIssues::default(),
        }
    }

    pub fn clear(&mut self, currency: Currency) {
        self.currency = currency;
        self.options.clear();
        self.lines.clear();
        self.excluded.clear();
        self.customs_issues = CustomsIssues::default();
    }

    pub fn option_lines(&self, option: &QuoteOption) -> &[Line] {
        &self.lines[option.lines.start as usize..option.lines.end as usize]
    }
}
