//! Prometheus metrics with bounded labels: quotes by outcome (a fixed set), a latency
//! histogram with fixed buckets, and the active books by label (as many as books in force).

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
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

/// Upper bounds of the latency buckets, in microseconds.
const BUCKETS_US: [u64; 12] = [
    25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 100_000, 1_000_000,
];

#[derive(Debug, Default)]
pub struct Metrics {
    quotes: [AtomicU64; 7],
    buckets: [AtomicU64; 12],
    latency_count: AtomicU64,
    latency_sum_us: AtomicU64,
    pub activations: AtomicU64,
    pub uploads_accepted: AtomicU64,
    pub uploads_refused: AtomicU64,
}

impl Metrics {
    pub fn quote(&self, outcome: Outcome, elapsed: Duration, quotes: u64) {
        let i = OUTCOMES
            .iter()
            .position(|(o, _)| *o == outcome)
            .unwrap_or(0);
        self.quotes[i].fetch_add(quotes, Relaxed);
        let us = elapsed.as_micros().min(u128::from(u64::MAX)) as u64;
        if let Some(b) = BUCKETS_US.iter().position(|&bound| us <= bound) {
            self.buckets[b].fetch_add(1, Relaxed);
        }
        self.latency_count.fetch_add(1, Relaxed);
        self.latency_sum_us.fetch_add(us, Relaxed);
    }

    /// The Prometheus text exposition; `books` is (label, tenants using it).
    pub fn render(&self, books: &[(String, usize)]) -> String {
        let mut out = String::with_capacity(2048);
        out.push_str("# HELP crossdock_quotes_total Quotes answered, by outcome.\n# TYPE crossdock_quotes_total counter\n");
        for (i, (_, name)) in OUTCOMES.iter().enumerate() {
            let _ = writeln!(
                out,
                "crossdock_quotes_total{{outcome=\"{name}\"}} {}",
                self.quotes[i].load(Relaxed)
            );
        }
        out.push_str("# HELP crossdock_quote_request_seconds Time to answer a quote request.\n# TYPE crossdock_quote_request_seconds histogram\n");
        let mut cumulative = 0;
        for (i, bound) in BUCKETS_US.iter().enumerate() {
            cumulative += self.buckets[i].load(Relaxed);
            let _ = writeln!(
                out,
                "crossdock_quote_request_seconds_bucket{{le=\"{}\"}} {cumulative}",
                *bound as f64 / 1e6
            );
        }
        let count = self.latency_count.load(Relaxed);
        let _ = writeln!(
            out,
            "crossdock_quote_request_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let _ = writeln!(
            out,
            "crossdock_quote_request_seconds_sum {}",
            self.latency_sum_us.load(Relaxed) as f64 / 1e6
        );
        let _ = writeln!(out, "crossdock_quote_request_seconds_count {count}");
        out.push_str("# HELP crossdock_active_book Rate books in force, by label; the value is how many tenants use it.\n# TYPE crossdock_active_book gauge\n");
        for (label, tenants) in books {
            let label = label
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n");
            let _ = writeln!(out, "crossdock_active_book{{book=\"{label}\"}} {tenants}");
        }
        let counters = [
            (
                "crossdock_book_activations_total",
                "Rate book activations and rollbacks.",
                &self.activations,
            ),
            (
                "crossdock_book_uploads_accepted_total",
                "Rate book uploads that passed the check.",
                &self.uploads_accepted,
            ),
            (
                "crossdock_book_uploads_refused_total",
                "Rate book uploads refused.",
                &self.uploads_refused,
            ),
        ];
        for (name, help, value) in counters {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                value.load(Relaxed)
            );
        }
        out
    }
}
