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
//!
//! ## Where each rule of rate-book.md lives
//!
//! | rate-book.md | file | function |
//! | --- | --- | --- |
//! | Layout: the tables as typed rows; an unreadable table | `source.rs` | [`SourceBook`], [`SourceBook::unreadable_tables`] |
//! | Layout: codes upper-case, ISO countries and currencies, `"*"` is any | `codes.rs`, `money.rs`, `book/compile.rs` | [`Country::parse`], [`Currency::from_code`], `Compiler::country`, `Compiler::currency`, `wildcard` |
//! | Tables: **services** | `book/services.rs` | [`Service`], `Compiler::services` |
//! | Tables: **zones** (postcodes normalised, longest prefix wins) | `book/zones.rs`, `codes.rs` | `Compiler::zones`, `CountryZones::lookup`, [`Postcode::normalise`] |
//! | Tables: **rates** (bands of a (service, zone)) | `book/rates.rs` | `Compiler::rates`, `ZoneBands`, `BandFast`, `Band` |
//! | Tables: **surcharges** (conditions, table order) | `book/surcharges.rs`, `dated.rs`, `price.rs` | `Compiler::surcharges`, `DatedSurcharges`, `surcharge_applies` |
//! | Tables: **restrictions** (most specific row decides) | `book/restrictions.rs` | `Compiler::restrictions`, `CategoryRules::decide` |
//! | Tables: **prices** (customer 4, service 2, country 1; ties refused) | `book/prices.rs`, `price.rs` | `Compiler::prices`, `PriceTable::best`, `Book::price_row` |
//! | Tables: **fx** | `book/fx.rs` | `Compiler::fx`, `Fx::convert` |
//! | Tables: **customs**, **duty_rates** | `book/customs.rs` | `Compiler::customs`, `Compiler::duty_rates`, `Book::customs_rule`, `Book::duty_rate` |
//! | Tables: **segments** | `book/segments.rs` | [`Segment`], `Compiler::segments` |
//! | Pricing step 1, eligibility (every reason) | `price.rs` | `Book::eligibility`, `Book::over_max_value` |
//! | Step 2, chargeable weight | `price.rs` | `chargeable_weight_g` |
//! | Steps 3–6, base, surcharges, currency, sell: fast path | `price.rs` | `Book::price_fast`, `surcharge_fast` |
//! | Steps 3–6: exact definition | `exact.rs` | `Book::price_exact` |
//! | Step 7, landed cost (flat duty per HS6, duty, tax, scheme) | `customs.rs`, `exact.rs` | `Book::landed_fast`, `Book::landed_exact`, `distinct_hs6`, `line_rate` |
//! | Customs issues (quote-api.md) | `customs.rs` | `issues`, [`customs::is_generic_description`] |
//! | Ranking (strategies, ties on `service_code`) | `price.rs` | `Book::rank` |
//! | Checks before a book can be used (every problem, by table, row and column) | `book/compile.rs`, `report.rs` | [`compile`], [`Report`] |
//! | Checks: warnings (zones without a band, unreachable services) | `book/services.rs` | `Compiler::warn_unreachable` |
//! | Rounding half away from zero at ISO 4217 minor units; answers' decimals | `money.rs` | [`Currency::round`], `div_round_half_away`, [`Currency::write_minor`] |
//!
//! The compiled [`Book`]'s invariants are written beside its fields and asserted at the end
//! of [`compile`] in debug and test builds (`book/invariants.rs`).

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
