//! # crossdock-engine: the rate and rule engine
//!
//! Given a rate book and a parcel, which services can carry it, what each costs and sells
//! for, and why every other service cannot. This crate is the pure core of crossdock:
//! it reads no files, opens no sockets, has no clock, spawns no threads and knows nothing
//! of JSON, Parquet or HTTP. Data and time come in as arguments; answers go out as values.
//!
//! - [`SourceBook`] is a rate book as its tables hold it (typed rows, unchecked);
//!   adapters such as `crossdock-tables` fill it.
//! - [`compile`] checks it against every rule of rate-book.md and builds an immutable,
//!   indexed [`Book`], or refuses it whole with a [`Report`] of every problem.
//! - [`Book::quote`] answers a [`Request`] with a [`Quote`]: ranked options with cost lines
//!   in the quote currency, excluded services with all their [`Reason`]s, customs issues and
//!   landed cost. [`Book::quote_exact`] is the same in exact decimals at every step: the
//!   definition the fast path is tested against and falls back to.
//!
//! Money: amounts as written are `rust_decimal::Decimal`; amounts the engine rounded are
//! integer minor units of a [`Currency`]. Every rounding is half away from zero.

pub mod book;
pub mod codes;
pub mod customs;
mod dated;
mod exact;
pub mod money;
pub mod price;
pub mod quote;
pub mod report;
pub mod request;
pub mod source;

pub use book::{AMOUNT_MAX, Book, Segment, Service, compile};
pub use codes::{Country, Date, HsCode, Postcode, Validity};
pub use money::Currency;
pub use price::{QuoteError, Scratch};
pub use quote::{
    CustomsIssue, CustomsIssues, Excluded, LandedCost, Line, Quote, QuoteOption, Reason, Reasons,
    TaxScheme,
};
pub use report::{Problem, Report, Severity};
pub use request::{Battery, ContentLine, Incoterm, Money, Request, Strategy};
pub use rust_decimal::Decimal;
pub use source::SourceBook;
