//! `--find-max`: the highest offered rate the server sustains within a p99 budget.
//!
//! Short runs at rising rates, doubling from the start rate until one fails, then bisecting
//! between the highest pass and the lowest failure until they are within 5 % of each other.
//! A run passes when it has no 5xx, transport errors, unsent calls or 429s, achieves at least
//! 95 % of its rate, and its p99 is within the budget.

use crate::Error;
use crate::load::{LoadConfig, run};
use crate::stats::{Output, RunReport, ms, round1};
use serde_json::json;
use std::time::Duration;

/// Runs in one search at most; doubling from 1 000 to 1 000 000 and bisecting to 5 % takes
/// about fifteen.
pub const STEPS_MAX: usize = 24;
/// Below this the search stops halving: the server fails even a trickle.
pub const RATE_MIN: f64 = 10.0;
/// The search stops when the highest pass is within this fraction of the lowest failure.
pub const RESOLUTION: f64 = 0.05;

/// The search's budget and bounds.
#[derive(Clone, Debug)]
pub struct FindMaxOptions {
    pub p99_max: Duration,
    pub start_rate: f64,
    pub max_rate: f64,
    /// Rest between runs, so one overloaded run's backlog does not leak into the next.
    pub pause: Duration,
}

/// Why a run at some rate does not count as sustained.
pub fn step_failures(report: &RunReport, p99_max: Duration) -> Vec<String> {
    let mut failures = report.failures(false);
    if report.counts.rate_limited > 0 {
        failures.push(format!(
            "{} answers 429 (the key's rate limit)",
            report.counts.rate_limited
        ));
    }
    let p99_max_us = crate::stats::micros(p99_max);
    if report.latency.count == 0 {
        failures.push("no 2xx answers".to_owned());
    } else if report.latency.p99_us > p99_max_us {
        failures.push(format!(
            "p99 {} above {}",
            ms(report.latency.p99_us),
            ms(p99_max_us)
        ));
    }
    failures
}

/// The next rate to try, given the highest that passed and the lowest that failed so far;
/// `None` when the search is over.
pub fn next_rate(passed: Option<f64>, failed: Option<f64>, max_rate: f64) -> Option<f64> {
    match (passed, failed) {
        (Some(pass), None) => (pass < max_rate).then(|| (pass * 2.0).min(max_rate)),
        (None, Some(fail)) => (fail / 2.0 >= RATE_MIN).then(|| round_rate(fail / 2.0)),
        (Some(pass), Some(fail)) => {
            (fail - pass > pass * RESOLUTION).then(|| round_rate((pass + fail) / 2.0))
        }
        (None, None) => None,
    }
}

/// Rates above 1 000/s to the nearest 100, so that reports read easily.
fn round_rate(rate: f64) -> f64 {
    if rate >= 1000.0 {
        (rate / 100.0).round() * 100.0
    } else {
        rate.round().max(1.0)
    }
}

/// Runs the search and prints each step and the result. `Ok(true)` when some rate passed.
pub fn search(config: &LoadConfig, options: &FindMaxOptions, out: &Output) -> Result<bool, Error> {
    let (mut passed, mut failed): (Option<f64>, Option<f64>) = (None, None);
    let mut best: Option<RunReport> = None;
    let mut rate = options.start_rate.min(options.max_rate);
    let mut steps = 0;
    while steps < STEPS_MAX {
        steps += 1;
        let mut step = config.clone();
        step.rate_quotes_per_s = rate;
        let report = run(&step)?;
        let failures = step_failures(&report, options.p99_max);
        out.text(&format!(
            "step {steps:>2}  {rate:>9} quotes/s → achieved {:>9.1}, p99 {}, max {}, generator {}: {}\n",
            report.achieved_quotes_per_s(),
            ms(report.latency.p99_us),
            ms(report.latency.max_us),
            report.generator_cpu_pct.map_or("?".to_owned(), |cpu| format!("{cpu:.0} %")),
            if failures.is_empty() { "pass".to_owned() } else { format!("FAIL ({})", failures.join("; ")) }
        ));
        out.json_line(&json!({ "kind": "find_max_step", "step": steps, "rate": rate, "pass": failures.is_empty(), "failures": failures, "run": report.to_json(true) }));
        if failures.is_empty() {
            passed = Some(rate);
            best = Some(report);
        } else {
            failed = Some(failed.map_or(rate, |f: f64| f.min(rate)));
        }
        match next_rate(passed, failed, options.max_rate) {
            Some(next) => rate = next,
            None => break,
        }
        std::thread::sleep(options.pause);
    }
    let budget = ms(crate::stats::micros(options.p99_max));
    match (&best, passed) {
        (Some(report), Some(rate)) => out.text(&format!(
            "find-max   highest rate with p99 ≤ {budget} and no errors: {rate} quotes/s (achieved {:.1}, p99 {}){}\n",
            report.achieved_quotes_per_s(),
            ms(report.latency.p99_us),
            failed.map_or(format!("; the search stopped at --max-rate {}", options.max_rate), |f| format!("; {f} quotes/s failed"))
        )),
        _ => out.text(&format!("find-max   no rate down to {} quotes/s kept p99 ≤ {budget} without errors\n", failed.unwrap_or(rate))),
    }
    out.json_line(&json!({
        "kind": "find_max",
        "p99_max_us": crate::stats::micros(options.p99_max),
        "max_passing_quotes_per_s": passed,
        "min_failing_quotes_per_s": failed,
        "p99_us_at_max": best.as_ref().map(|r| r.latency.p99_us),
        "achieved_quotes_per_s_at_max": best.as_ref().map(|r| round1(r.achieved_quotes_per_s())),
        "steps": steps,
    }));
    Ok(passed.is_some())
}

#[cfg(test)]
mod tests {
    use super::{RESOLUTION, next_rate};

    /// Drives the search against a server that sustains exactly `capacity` quotes/s.
    fn search(capacity: f64, start: f64, max: f64) -> (Option<f64>, usize) {
        let (mut passed, mut failed) = (None, None);
        let mut rate = start;
        for step in 1..=super::STEPS_MAX {
            if rate <= capacity {
                passed = Some(rate);
            } else {
                failed = Some(rate);
            }
            match next_rate(passed, failed, max) {
                Some(next) => rate = next,
                None => return (passed, step),
            }
        }
        (passed, super::STEPS_MAX)
    }

    #[test]
    fn finds_the_capacity_within_the_resolution() {
        for (capacity, start, max) in [
            (55_000.0, 10_000.0, 1e6),
            (7_300.0, 10_000.0, 1e6),
            (10_000.0, 10_000.0, 1e6),
            (123_456.0, 1000.0, 1e6),
        ] {
            let (found, steps) = search(capacity, start, max);
            let found = found.unwrap_or_else(|| panic!("capacity {capacity}: nothing passed"));
            assert!(
                found <= capacity && found >= capacity * (1.0 - 2.0 * RESOLUTION),
                "capacity {capacity}: found {found}"
            );
            assert!(steps <= 15, "capacity {capacity}: {steps} steps");
        }
    }

    #[test]
    fn stops_at_the_bounds() {
        assert_eq!(
            search(1e9, 10_000.0, 40_000.0),
            (Some(40_000.0), 3),
            "10k, 20k, 40k then the cap"
        );
        assert_eq!(
            search(1.0, 100.0, 1e6).0,
            None,
            "nothing passes, halving stops at the floor"
        );
    }
}
