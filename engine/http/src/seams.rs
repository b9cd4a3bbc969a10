//! What one component offers another in the same process, as traits the runtime wires
//! (components.md: "others learn through events or through the owner's API"). A component
//! names the trait here, never the other component's crate, so no sidecar depends on
//! another and `tests/layering.rs` can keep it so.

use crate::{Problem, TenantId};

/// The rating component's pricing, for components that turn a quote into something else
/// (an order into a shipment). It prices exactly as `POST /v1/quotes` does: the same
/// request JSON, the same answer text, from the tenant's book in force.
pub trait Pricing: Send + Sync + 'static {
    fn price(&self, ask: &PriceAsk<'_>) -> Priced;

    /// [`Pricing::price`] by the tenant's book labelled `book` (`name@hash`, a quote's
    /// `rate_book`) instead of the one in force, for re-pricing a shipment by the book that
    /// priced it. [`Priced::NoBook`] when that book is not loaded in this process (the one in
    /// force always is, as are the few most recently used).
    fn price_on_book(&self, ask: &PriceAsk<'_>, book: &str) -> Priced;
}

/// A quote request for a tenant and (optionally) one of its customers.
#[derive(Clone, Debug)]
pub struct PriceAsk<'a> {
    pub tenant: TenantId,
    pub customer: Option<&'a str>,
    /// The request as `POST /v1/quotes` takes it; without `currency`, the book's base.
    pub request: &'a serde_json::Value,
    /// US dollars per SDR, for the declared value in SDR when the book has no `XDR` rate.
    pub usd_per_sdr: &'a str,
}

/// The answer to a [`PriceAsk`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Priced {
    /// The tenant has no book in force.
    NoBook,
    /// The request breaks quote-api.md's rules (what `POST /v1/quotes` answers with 400).
    Invalid(Vec<Problem>),
    Quoted {
        /// The answer's JSON, exactly as `POST /v1/quotes` gives it.
        answer: String,
        /// What the book says beyond the quote about its first option; `None` when no
        /// service can carry the parcel.
        first: Option<FirstOption>,
        /// The declared value in SDR (unrounded decimal text), when it can be converted.
        declared_value_sdr: Option<String>,
    },
}

/// The book's facts about the first option of a quote: where it sorts and how it travels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FirstOption {
    /// The zone chart's zone for the destination (the label's sort code).
    pub zone: String,
    /// The service's transport segments, by `seq`; never empty (a service without rows in
    /// `segments.parquet` has one `last_mile` segment of its own carrier).
    pub segments: Vec<SegmentPlan>,
}

/// One transport segment of a service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentPlan {
    pub seq: u32,
    /// `first_mile`, `hub`, `line_haul`, `customs` or `last_mile`.
    pub kind: String,
    pub carrier: String,
    /// The label format that segment's carrier needs (`UPU-S10`, `XB-ZPL-100x150`, …).
    pub label_format: String,
}
