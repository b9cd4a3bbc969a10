//! The rating component's metrics, through the `metrics` facade (the Prometheus exporter
//! is the runtime's): quotes by outcome (a fixed set of label values), quote latency, book
//! activations and uploads, and the books in force by label (as many as books in force).
//! Handles are registered once, so the quote path only increments atomics.

use metrics::{Counter, Histogram};
use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::Duration;

/// Every outcome a quote request can have; the only values of the `outcome` label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Invalid,
    Unauthorized,
    Forbidden,
    RateLimited,
    TooLarge,
    Unavailable,
}

const OUTCOMES: [(Outcome, &str); 7] = [
    (Outcome::Ok, "ok"),
    (Outcome::Invalid, "invalid"),
    (Outcome::Unauthorized, "unauthorized"),
    (Outcome::Forbidden, "forbidden"),
    (Outcome::RateLimited, "rate_limited"),
    (Outcome::TooLarge, "too_large"),
    (Outcome::Unavailable, "unavailable"),
];

pub struct Metrics {
    quotes: Vec<Counter>,
    latency: Histogram,
    pub activations: Counter,
    pub uploads_accepted: Counter,
    pub uploads_refused: Counter,
    /// Labels given a value in `crossdock_books_in_force`, so one that leaves is set to 0.
    shown: Mutex<BTreeSet<String>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

impl Metrics {
    /// Registers the handles; call after the exporter is installed.
    pub fn new() -> Metrics {
        Metrics {
            quotes: OUTCOMES
                .iter()
                .map(|(_, name)| metrics::counter!("crossdock_quotes_total", "outcome" => *name))
                .collect(),
            latency: metrics::histogram!("crossdock_quote_request_seconds"),
            activations: metrics::counter!("crossdock_book_activations_total"),
            uploads_accepted: metrics::counter!("crossdock_book_uploads_accepted_total"),
            uploads_refused: metrics::counter!("crossdock_book_uploads_refused_total"),
            shown: Mutex::new(BTreeSet::new()),
        }
    }

    pub fn quote(&self, outcome: Outcome, elapsed: Duration, quotes: u64) {
        let i = OUTCOMES
            .iter()
            .position(|(o, _)| *o == outcome)
            .unwrap_or(0);
        if let Some(counter) = self.quotes.get(i) {
            counter.increment(quotes);
        }
        self.latency.record(elapsed.as_secs_f64());
    }

    /// Sets `crossdock_books_in_force{book}` to the number of tenants using each book.
    pub fn books_in_force(&self, books: &[(String, usize)]) {
        let Ok(mut shown) = self.shown.lock() else {
            return;
        };
        for label in shown.iter() {
            if !books.iter().any(|(l, _)| l == label) {
                metrics::gauge!("crossdock_books_in_force", "book" => label.clone()).set(0.0);
            }
        }
        for (label, tenants) in books {
            metrics::gauge!("crossdock_books_in_force", "book" => label.clone())
                .set(*tenants as f64);
            shown.insert(label.clone());
        }
    }
}
