//! # crossdock-api: the quote request and answer as JSON
//!
//! The one translation between quote-api.md's JSON and the engine's types, used by
//! `crossdock quote` and by the HTTP server alike, so that both price and answer
//! identically. Parsing collects *every* problem of a request (not the first) with the
//! field's path (`parcel.weight_g`, `contents[2].value`); rendering writes amounts with
//! exactly their currency's decimals.
//!
//! This crate holds no state and does no I/O.

mod render;
mod request;

pub use render::{json_string, render_error, render_quote};
pub use request::{Defaults, FieldProblem, parse_request, parse_request_str};

use crossdock_engine::{Book, Quote, Request, Scratch};

/// Parses one JSON request, validates it against the book, quotes it and renders the answer
/// or the error object. The whole of `crossdock quote` for one line.
pub fn answer_line(
    book: &Book,
    line: &str,
    defaults: &Defaults,
    scratch: &mut Scratch,
    quote: &mut Quote,
) -> Answer {
    match parse_request_str(line, defaults) {
        Ok(request) => answer_request(book, &request, scratch, quote),
        Err(problems) => Answer::Invalid(render_error("invalid_request", &problems)),
    }
}

/// Validates a parsed request against the book, quotes it and renders the answer.
pub fn answer_request(
    book: &Book,
    request: &Request,
    scratch: &mut Scratch,
    quote: &mut Quote,
) -> Answer {
    let problems: Vec<FieldProblem> = book
        .request_problems(request)
        .into_iter()
        .map(|(field, problem)| FieldProblem::new(field, problem))
        .collect();
    if !problems.is_empty() {
        return Answer::Invalid(render_error("invalid_request", &problems));
    }
    match book.quote_into(request, scratch, quote) {
        Ok(()) => Answer::Quoted(render_quote(book, request, quote)),
        Err(e) => Answer::Invalid(render_error(
            "invalid_request",
            &[FieldProblem::new("", e.to_string())],
        )),
    }
}

/// A rendered answer: a quote, or an error object (HTTP 400).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    Quoted(String),
    Invalid(String),
}

impl Answer {
    pub fn body(&self) -> &str {
        match self {
            Answer::Quoted(s) | Answer::Invalid(s) => s,
        }
    }
}
