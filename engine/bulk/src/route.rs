//! One row: parse, quote, keep the first option, or say why there is none.

use crate::RouteOptions;
use crate::cell::RowCells;
use crate::parse::{Problem, parse_row, render_problems};
use crossdock_engine::{Book, Currency, Quote, QuoteError, Scratch};

/// What became of one parcel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome<'b> {
    /// The best option by the job's strategy.
    Routed(Routed<'b>),
    /// No service can carry the parcel. `reasons` holds every service's reasons as
    /// `SERVICE:CODE` joined by `;`, services in code order, codes in the quote API's order.
    Unroutable { currency: Currency, reasons: String },
    /// The row is not a valid request. `problems` holds `field: problem` joined by `; `.
    Invalid { problems: String },
}

/// The option a routed parcel takes. Amounts are minor units of `currency`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Routed<'b> {
    pub service: &'b str,
    pub carrier: &'b str,
    pub currency: Currency,
    pub sell: i64,
    pub cost: i64,
    pub margin: i64,
    pub chargeable_weight_g: u64,
    pub transit_days_min: u32,
    pub transit_days_max: u32,
}

/// The `status` column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    Routed,
    Unroutable,
    Invalid,
}

impl Status {
    pub fn code(&self) -> &'static str {
        match self {
            Status::Routed => "routed",
            Status::Unroutable => "unroutable",
            Status::Invalid => "invalid",
        }
    }
}

impl Outcome<'_> {
    pub fn status(&self) -> Status {
        match self {
            Outcome::Routed(_) => Status::Routed,
            Outcome::Unroutable { .. } => Status::Unroutable,
            Outcome::Invalid { .. } => Status::Invalid,
        }
    }
}

/// Routes one row. Quotes without explanations (the common case, and the cheaper one) and
/// quotes again with them only when nothing can carry the parcel, since the reasons are
/// written only then.
pub(crate) fn route_cells<'b>(book: &'b Book, cells: &RowCells<'_>, opts: &RouteOptions, scratch: &mut Scratch, quote: &mut Quote) -> Outcome<'b> {
    let mut request = match parse_row(cells, book, opts) {
        Ok(request) => request,
        Err(problems) => return Outcome::Invalid { problems: render_problems(&problems) },
    };
    if let Err(e) = book.quote_into(&request, scratch, quote) {
        return quote_failed(&e);
    }
    if let Some(option) = quote.options.first() {
        let service = book.service(option.service);
        return Outcome::Routed(Routed {
            service: &service.code,
            carrier: &service.carrier,
            currency: quote.currency,
            sell: option.sell,
            cost: option.cost,
            margin: option.margin,
            chargeable_weight_g: option.chargeable_weight_g,
            transit_days_min: option.transit_days_min,
            transit_days_max: option.transit_days_max,
        });
    }
    request.explain = true;
    if let Err(e) = book.quote_into(&request, scratch, quote) {
        return quote_failed(&e);
    }
    let mut reasons = String::with_capacity(32 * quote.excluded.len());
    for excluded in &quote.excluded {
        let code = &book.service(excluded.service).code;
        for reason in excluded.reasons.iter() {
            if !reasons.is_empty() {
                reasons.push(';');
            }
            reasons.push_str(code);
            reasons.push(':');
            reasons.push_str(reason.code());
        }
    }
    Outcome::Unroutable { currency: quote.currency, reasons }
}

/// A request the engine cannot price at all is a bad row, not a failed job.
fn quote_failed(e: &QuoteError) -> Outcome<'static> {
    let problem = match e {
        QuoteError::UnknownCurrency { field, currency } => {
            let field = if *field == "declared_value.currency" { "value_currency" } else { "currency" };
            Problem { field: field.into(), problem: format!("the rate book has no exchange rate for {currency}") }
        }
        QuoteError::TooManyGoods => Problem { field: "goods".into(), problem: format!("at most {} categories", crossdock_engine::price::GOODS_MAX) },
        QuoteError::OutOfRange => Problem { field: "".into(), problem: e.to_string() },
    };
    Outcome::Invalid { problems: render_problems(&[problem]) }
}
