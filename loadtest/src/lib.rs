//! The HTTP load generator: quote traffic at a fixed arrival rate against a crossdock server.
//!
//! It answers one question: *at a given offered load, how long does a caller wait for a
//! quote?* — and, with `--find-max`, the highest load at which the answer stays within a
//! latency budget, and, with `--swap-books`, whether swapping rate books under load stalls
//! callers or prices a quote with a book that was not in force.
//!
//! **Open loop.** Call `i` is due at `t0 + i / rate`, whatever happened to the calls before
//! it. Each of the `--connections` tasks takes the next call number from one shared atomic
//! counter, waits for its due time, sends, and records the latency from the *due* time to the
//! end of the response. When the server stalls, every connection is busy, later calls wait for
//! one, and that wait is in their latency: a stall shows as the hundreds of slow calls a real
//! caller would have seen, not as one (no coordinated omission).
//!
//! **One core.** Everything — the connections, hyper's connection drivers, the timers — runs
//! on one current-thread tokio runtime, so the generator takes about one core and leaves the
//! other to the server on a two-core machine. Its own CPU use is measured and reported, so a
//! saturated generator is visible rather than mistaken for a slow server.
//!
//! What it is not: it does not price or parse quotes (it finds `"rate_book"` in an answer by
//! a byte search, nothing more), speaks plain HTTP/1.1 only (no TLS), and never retries: a
//! 429 or an error is counted, not resent, because a resend would change the offered load.
//!
//! Invariants:
//! - The offered load never depends on responses: due times are a pure function of the
//!   call number ([`schedule::Schedule`]).
//! - Every count and histogram covers exactly the measured window's calls (due after the
//!   warm-up); the swap classifier covers every call, warm-up included.
//! - Memory is bounded: per-call records (kept only for swap runs) are limited to
//!   [`load::CALL_RECORDS_MAX`], answers to [`client::RESPONSE_BYTES_MAX`].
//!
//! Code map: [`cli`] (flags), [`target`] (URL), [`workload`] (request bodies),
//! [`schedule`] (due times, waiting), [`client`] (one HTTP/1.1 connection), [`load`] (a run),
//! [`stats`] (counts, histograms, reports), [`answer`] (the `rate_book` search), [`swap`]
//! (book upload, activation timeline, classification), [`find_max`] (the rate search).

pub mod answer;
pub mod cli;
pub mod client;
pub mod find_max;
pub mod load;
pub mod schedule;
pub mod stats;
pub mod swap;
pub mod target;
pub mod workload;

use std::fmt;

pub use cli::{Mode, Options};
pub use load::{LoadConfig, run};
pub use stats::RunReport;
pub use swap::run_swap;

/// Why a run could not start or finish (setup, connection, a refused book). Bad answers
/// under load are not errors: they are counted in the report.
#[derive(Debug)]
pub struct Error(pub String);

impl Error {
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

/// The runtime every run uses: one thread, so the generator costs about one core.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::new(format!("cannot start the runtime: {e}")))
}

/// Runs what `options` ask, printing reports (human text to stdout, or to stderr with one
/// JSON line per run on stdout under `--json`). `Ok(true)` when every run passed.
pub fn execute(options: &Options) -> Result<bool, Error> {
    let config = LoadConfig::from_options(options)?;
    let out = stats::Output { json: options.json };
    match &options.mode {
        Mode::Fixed => {
            let report = run(&config)?;
            out.run(&report, options.allow_errors);
            let failures = report.failures(options.allow_errors);
            out.verdict(&failures);
            Ok(failures.is_empty())
        }
        Mode::FindMax(search) => find_max::search(&config, search, &out),
        Mode::Swap(swap) => swap::execute(&config, swap, options.allow_errors, &out),
    }
}
