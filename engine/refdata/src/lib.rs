//! # crossdock-refdata: reference data and the standard algorithms around it
//!
//! The facts about the world that orders, labels, tracking and manifests check against,
//! none of which crossdock made up: how each region writes its postcodes and which address
//! fields it requires, which codes the Harmonized System 2022 has, which countries' postal
//! operators issue UPU S10 numbers, and how S10, Luhn and mod-7 check digits are computed.
//!
//! - [`country()`]: the address rules of 252 regions (libaddressinput): name in capitals,
//!   required fields, the postcode pattern (matched whole) with its examples, and the
//!   sentence a problem shows when a postcode does not match.
//! - [`hs_known`], [`hs_description`], [`hs_normalise`]: HS 2022 chapters, headings and
//!   6-digit subheadings, for orders-labels.md's `HS_UNKNOWN`.
//! - [`s10_check`], [`format_s10`], [`s10_country_ok`]: UPU S10 item numbers
//!   (`RB123456785GB`); [`internal_check`], [`format_internal`]: crossdock's own numbers
//!   (`CD00000000018`), orders-labels.md's "Tracking numbers".
//! - [`luhn_check_digit`], [`s10_check_digit`], [`mod7_check_digit`], [`mawb_valid`]: the
//!   check digits themselves.
//!
//! ## What it is not
//!
//! It is pure: it reads no files, opens no sockets, has no clock, threads or async, and
//! knows nothing of JSON, SQL or HTTP. The data is compiled into the crate
//! (`include_str!` of the files under `data/`, whose sources, derivations and licences
//! `data/README.md` states) and parsed once, on first use, behind a `LazyLock`. It does not
//! decide what a problem *is* — whether a missing postcode is `REQUIRED` or a postcode
//! check is skipped — only what the data says; the components own their rules and codes.
//! It issues no numbers either: keeping a sequence is storage's business; this crate only
//! formats and checks the number a sequence gave.
//!
//! ## Inputs and panics
//!
//! Functions take what callers hold (`&str`) and answer values: `bool`, an enum, an
//! `Option`, or a `Result` whose error says which part is wrong. None panics on any input.
//! Parsing the embedded data panics on the first use if a file is malformed; that is a
//! bug of this crate that its tests rule out (every file is parsed and checked by them).

mod check_digit;
mod country;
mod hs;
mod tracking;
mod tsv;

pub use check_digit::{
    S10_WEIGHTS, luhn_check_digit, luhn_valid, mawb_valid, mod7_check_digit, s10_check_digit,
};
pub use country::{Country, countries, country};
pub use hs::{HsCheck, HsLevel, hs_codes, hs_description, hs_known, hs_normalise};
pub use tracking::{
    INSTALLATION_PREFIX, INTERNAL_SERIAL_MAX, InternalError, InternalNumber, S10_SERIAL_MAX,
    S10Country, S10Error, S10Number, format_internal, format_s10, internal_check,
    internal_prefix_valid, s10_check, s10_countries, s10_country, s10_country_ok,
    s10_indicator_issuable, s10_valid,
};
