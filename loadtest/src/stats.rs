//! What a run measured: answers counted by kind, latency histograms, and the report printed
//! as text and as one JSON line.

use crate::swap::SwapReport;
use hdrhistogram::Histogram;
use hyper::StatusCode;
use serde_json::{Value, json};
use std::io::Write;
use std::time::Duration;

/// The highest latency a histogram holds exactly; `--timeout` may not exceed it, so only a
/// timed-out call (counted as an error, not a latency) could be larger.
pub const LATENCY_US_MAX: u64 = 600_000_000;

/// An empty histogram of microseconds, 1 µs to [`LATENCY_US_MAX`], three significant digits.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, LATENCY_US_MAX, 3).expect("constant bounds are valid")
}

pub fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

/// Calls by outcome, measured window only. Every scheduled measured call is in exactly one of
/// `ok`, `bad_request`, `rate_limited`, `other_4xx`, `server_error`, `other_status`,
/// `transport` or `unsent`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// 2xx answers.
    pub ok: u64,
    /// 400: the request was refused as invalid.
    pub bad_request: u64,
    /// 429: rate-limited (never resent: a resend would change the offered load).
    pub rate_limited: u64,
    /// 401, 403, 404, 413, 422 …
    pub other_4xx: u64,
    pub server_error: u64,
    /// 1xx and 3xx.
    pub other_status: u64,
    /// No HTTP answer: connect, protocol or I/O failure, or `--timeout` (counted in both).
    pub transport: u64,
    pub timeouts: u64,
    /// Due but never sent: still waiting for a connection at the drain deadline (the end of
    /// the schedule plus `--timeout`).
    pub unsent: u64,
    /// Lines of 2xx batch answers without a `rate_book` (the line's own error object).
    pub batch_lines_refused: u64,
    /// Requests of 2xx batch calls with no answer line at all.
    pub batch_lines_missing: u64,
}

impl Counts {
    pub fn status(&mut self, status: StatusCode) {
        let slot = match status.as_u16() {
            200..=299 => &mut self.ok,
            400 => &mut self.bad_request,
            429 => &mut self.rate_limited,
            401..=499 => &mut self.other_4xx,
            500..=599 => &mut self.server_error,
            _ => &mut self.other_status,
        };
        *slot += 1;
    }

    pub fn add(&mut self, other: &Counts) {
        self.ok += other.ok;
        self.bad_request += other.bad_request;
        self.rate_limited += other.rate_limited;
        self.other_4xx += other.other_4xx;
        self.server_error += other.server_error;
        self.other_status += other.other_status;
        self.transport += other.transport;
        self.timeouts += other.timeouts;
        self.unsent += other.unsent;
        self.batch_lines_refused += other.batch_lines_refused;
        self.batch_lines_missing += other.batch_lines_missing;
    }

    /// Every call counted, whatever its outcome.
    pub fn calls(&self) -> u64 {
        self.ok
            + self.bad_request
            + self.rate_limited
            + self.other_4xx
            + self.server_error
            + self.other_status
            + self.transport
            + self.unsent
    }

    fn to_json(&self) -> Value {
        json!({
            "2xx": self.ok, "400": self.bad_request, "429": self.rate_limited, "other_4xx": self.other_4xx,
            "5xx": self.server_error, "other_status": self.other_status, "transport_errors": self.transport,
            "timeouts": self.timeouts, "unsent": self.unsent,
            "batch_lines_refused": self.batch_lines_refused, "batch_lines_missing": self.batch_lines_missing,
        })
    }
}

/// Percentiles of a histogram of microseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LatencySummary {
    pub count: u64,
    pub p50_us: u64,
    pub p90_us: u64,
    pub p99_us: u64,
    pub p999_us: u64,
    pub max_us: u64,
}

impl LatencySummary {
    pub fn of(histogram: &Histogram<u64>) -> Self {
        if histogram.is_empty() {
            return Self::default();
        }
        Self {
            count: histogram.len(),
            p50_us: histogram.value_at_quantile(0.50),
            p90_us: histogram.value_at_quantile(0.90),
            p99_us: histogram.value_at_quantile(0.99),
            p999_us: histogram.value_at_quantile(0.999),
            max_us: histogram.max(),
        }
    }

    pub fn to_json(self) -> Value {
        json!({ "count": self.count, "p50": self.p50_us, "p90": self.p90_us, "p99": self.p99_us, "p99.9": self.p999_us, "max": self.max_us })
    }

    pub fn render(self) -> String {
        if self.count == 0 {
            return "no answers".to_owned();
        }
        format!(
            "p50 {} · p90 {} · p99 {} · p99.9 {} · max {}",
            ms(self.p50_us),
            ms(self.p90_us),
            ms(self.p99_us),
            ms(self.p999_us),
            ms(self.max_us)
        )
    }
}

/// A configured duration as written: `250 ms`, `5 s`, `1.5 s`.
pub fn human(duration: Duration) -> String {
    if duration < Duration::from_secs(1) {
        format!("{} ms", duration.as_secs_f64() * 1e3)
    } else {
        format!("{} s", duration.as_secs_f64())
    }
}

pub fn ms(us: u64) -> String {
    format!("{}.{:03} ms", us / 1000, us % 1000)
}

/// One run's results.
#[derive(Clone, Debug)]
pub struct RunReport {
    pub url: String,
    pub offered_quotes_per_s: f64,
    pub batch: usize,
    pub connections: usize,
    pub warmup: Duration,
    pub duration: Duration,
    /// Calls due in the measured window.
    pub calls_scheduled: u64,
    pub counts: Counts,
    /// Quotes answered: 2xx single calls, or answer lines naming a book in 2xx batch calls.
    pub quotes_ok: u64,
    /// From the start of the measured window to its last answer; never less than the window.
    pub elapsed: Duration,
    /// 2xx calls, from each call's due time to the end of its answer.
    pub latency: LatencySummary,
    pub latency_histogram: Histogram<u64>,
    /// Every sent measured call: actual send time minus due time. It grows when all
    /// connections are busy (the server is behind) or when the generator is out of CPU.
    pub send_lag: LatencySummary,
    /// The generator thread's CPU time over the run's wall time, when Linux tells it.
    pub generator_cpu_pct: Option<f64>,
    /// The first example of each kind of error answer or transport failure, warm-up included.
    pub error_samples: Vec<String>,
    pub swap: Option<SwapReport>,
}

impl RunReport {
    pub fn achieved_quotes_per_s(&self) -> f64 {
        self.quotes_ok as f64 / self.elapsed.as_secs_f64()
    }

    pub fn achieved_calls_per_s(&self) -> f64 {
        self.counts.ok as f64 / self.elapsed.as_secs_f64()
    }

    /// Why this run fails its exit criteria; empty when it passes.
    pub fn failures(&self, allow_errors: bool) -> Vec<String> {
        /// How far below the offered rate the achieved rate may fall.
        const SHORTFALL_ALLOWED: f64 = 0.05;
        let mut failures = Vec::new();
        let achieved = self.achieved_quotes_per_s();
        if achieved < self.offered_quotes_per_s * (1.0 - SHORTFALL_ALLOWED) {
            failures.push(format!(
                "achieved {achieved:.1} quotes/s, {:.1} % of the {} offered (more than 5 % short)",
                100.0 * achieved / self.offered_quotes_per_s,
                self.offered_quotes_per_s
            ));
        }
        if !allow_errors {
            let c = &self.counts;
            for (count, what) in [
                (c.server_error, "5xx answers"),
                (c.transport, "transport errors"),
                (c.unsent, "calls never sent"),
            ] {
                if count > 0 {
                    failures.push(format!("{count} {what}"));
                }
            }
        }
        if let Some(swap) = &self.swap {
            failures.extend(swap.failures(allow_errors));
        }
        failures
    }

    pub fn to_json(&self, allow_errors: bool) -> Value {
        let failures = self.failures(allow_errors);
        json!({
            "kind": "run",
            "url": self.url,
            "offered_quotes_per_s": self.offered_quotes_per_s,
            "batch": self.batch,
            "connections": self.connections,
            "warmup_s": self.warmup.as_secs_f64(),
            "duration_s": self.duration.as_secs_f64(),
            "calls_scheduled": self.calls_scheduled,
            "elapsed_s": self.elapsed.as_secs_f64(),
            "achieved_quotes_per_s": round1(self.achieved_quotes_per_s()),
            "achieved_calls_per_s": round1(self.achieved_calls_per_s()),
            "quotes_ok": self.quotes_ok,
            "counts": self.counts.to_json(),
            "latency_us": self.latency.to_json(),
            "send_lag_us": self.send_lag.to_json(),
            "generator_cpu_pct": self.generator_cpu_pct.map(round1),
            "error_samples": self.error_samples,
            "swap": self.swap.as_ref().map(SwapReport::to_json),
            "pass": failures.is_empty(),
            "failures": failures,
        })
    }

    pub fn render(&self) -> String {
        let c = &self.counts;
        let calls = if self.batch > 1 {
            format!("batches of {}", self.batch)
        } else {
            "single quotes".to_owned()
        };
        let mut text = format!(
            "run        {}  {} quotes/s offered ({calls}), {} connections, {} measured after {} warm-up\n",
            self.url,
            self.offered_quotes_per_s,
            self.connections,
            human(self.duration),
            human(self.warmup)
        );
        text += &format!(
            "achieved   {:.1} quotes/s, {:.1} calls/s ({:.2} % of the offered rate) over {:.3} s\n",
            self.achieved_quotes_per_s(),
            self.achieved_calls_per_s(),
            100.0 * self.achieved_quotes_per_s() / self.offered_quotes_per_s,
            self.elapsed.as_secs_f64()
        );
        text += &format!(
            "answers    {} calls: 2xx {} · 400 {} · 429 {} · other 4xx {} · 5xx {} · other {} · transport errors {} (timeouts {}) · unsent {}\n",
            self.calls_scheduled,
            c.ok,
            c.bad_request,
            c.rate_limited,
            c.other_4xx,
            c.server_error,
            c.other_status,
            c.transport,
            c.timeouts,
            c.unsent
        );
        if self.batch > 1 {
            text += &format!(
                "batch      {} quotes answered · {} lines refused · {} lines missing\n",
                self.quotes_ok, c.batch_lines_refused, c.batch_lines_missing
            );
        }
        text += &format!(
            "latency    {}  (2xx calls, due time → answer)\n",
            self.latency.render()
        );
        text += &format!(
            "send lag   {}  (actual send − due time)\n",
            self.send_lag.render()
        );
        if let Some(cpu) = self.generator_cpu_pct {
            let note = if cpu >= 90.0 {
                "  — the generator may be the bottleneck (time spent in --spin counts as busy; --spin 0 tells them apart)"
            } else {
                ""
            };
            text += &format!("generator  {cpu:.0} % of one core{note}\n");
        }
        for sample in &self.error_samples {
            text += &format!("example    {sample}\n");
        }
        if let Some(swap) = &self.swap {
            text += &swap.render();
        }
        text
    }
}

pub fn round1(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

/// Where reports go: text to stdout, or with `--json` text to stderr and one JSON line per
/// result to stdout (so `--json | jq` sees only JSON).
#[derive(Clone, Copy, Debug)]
pub struct Output {
    pub json: bool,
}

impl Output {
    pub fn text(&self, text: &str) {
        if self.json {
            let _ = std::io::stderr().write_all(text.as_bytes());
        } else {
            let _ = std::io::stdout().write_all(text.as_bytes());
        }
    }

    pub fn json_line(&self, value: &Value) {
        if self.json {
            println!("{value}");
        }
    }

    pub fn run(&self, report: &RunReport, allow_errors: bool) {
        self.text(&report.render());
        self.json_line(&report.to_json(allow_errors));
    }

    pub fn verdict(&self, failures: &[String]) {
        if failures.is_empty() {
            self.text("verdict    PASS\n");
        } else {
            self.text(&format!("verdict    FAIL: {}\n", failures.join("; ")));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Counts, LatencySummary, histogram, human, ms};
    use hyper::StatusCode;
    use std::time::Duration;

    #[test]
    fn statuses_land_in_one_bucket_each() {
        let mut counts = Counts::default();
        for status in [200, 201, 204, 400, 429, 401, 404, 422, 500, 503, 302, 101] {
            counts.status(StatusCode::from_u16(status).expect("valid"));
        }
        let expected = Counts {
            ok: 3,
            bad_request: 1,
            rate_limited: 1,
            other_4xx: 3,
            server_error: 2,
            other_status: 2,
            ..Counts::default()
        };
        assert_eq!(counts, expected);
        assert_eq!(counts.calls(), 12);
    }

    #[test]
    fn percentiles_and_formatting() {
        let mut h = histogram();
        for us in 1..=1000 {
            h.record(us).expect("in range");
        }
        let s = LatencySummary::of(&h);
        assert_eq!(
            (s.count, s.p50_us, s.p99_us, s.max_us),
            (1000, 500, 990, 1000)
        );
        assert_eq!(ms(1_234_567), "1234.567 ms");
        assert_eq!(
            [
                Duration::from_millis(250),
                Duration::from_secs(5),
                Duration::from_millis(1500),
                Duration::ZERO
            ]
            .map(human),
            ["250 ms", "5 s", "1.5 s", "0 ms"]
        );
        assert_eq!(LatencySummary::of(&histogram()).render(), "no answers");
    }
}
