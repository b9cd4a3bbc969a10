//! When each call is due: a pure function of its number, never of earlier responses.

use std::time::{Duration, Instant};

/// The open-loop schedule of one run: call `i` is due at `start + i × period`.
///
/// Calls due before `start + warmup` warm the server and the connections and are not
/// measured; the run offers `calls_total` calls in all, the last one due before `end`.
#[derive(Clone, Copy, Debug)]
pub struct Schedule {
    pub start: Instant,
    /// Nanoseconds between due times; fractional so that any rate is kept on average.
    period_ns: f64,
    pub calls_total: u64,
    /// The first measured call: the first due at or after `measure_start`.
    pub measured_from: u64,
    pub measure_start: Instant,
    pub end: Instant,
}

impl Schedule {
    /// `calls_per_s` must be positive and finite (the CLI checks it).
    pub fn new(start: Instant, calls_per_s: f64, warmup: Duration, duration: Duration) -> Self {
        assert!(
            calls_per_s.is_finite() && calls_per_s > 0.0,
            "a schedule needs a positive rate"
        );
        let period_ns = 1e9 / calls_per_s;
        // Calls due in [0, t) are those with i × period < t: ceil(t × rate) of them. The
        // millionth of a call taken off keeps float noise (6.000000000000001) from adding one.
        let calls_before =
            |t: Duration| (t.as_secs_f64() * calls_per_s - 1e-6).ceil().max(0.0) as u64;
        Self {
            start,
            period_ns,
            calls_total: calls_before(warmup + duration),
            measured_from: calls_before(warmup),
            measure_start: start + warmup,
            end: start + warmup + duration,
        }
    }

    pub fn due(&self, call: u64) -> Instant {
        self.start + Duration::from_nanos((call as f64 * self.period_ns) as u64)
    }

    pub fn is_measured(&self, call: u64) -> bool {
        call >= self.measured_from
    }

    pub fn measured_calls(&self) -> u64 {
        self.calls_total - self.measured_from
    }
}

/// Waits until `at`. tokio's timer has a resolution of one millisecond, which would add up
/// to a millisecond to every latency; so the last `spin` of the wait is spent yielding to the
/// other tasks instead of sleeping (zero: sleep all the way, coarse but cheaper).
pub async fn wait_until(at: Instant, spin: Duration) {
    let now = Instant::now();
    if at <= now {
        return;
    }
    if spin.is_zero() {
        tokio::time::sleep_until(at.into()).await;
        return;
    }
    if at - now > spin {
        tokio::time::sleep_until((at - spin).into()).await;
    }
    while Instant::now() < at {
        tokio::task::yield_now().await;
    }
}

#[cfg(test)]
mod tests {
    use super::Schedule;
    use std::time::{Duration, Instant};

    #[test]
    fn counts_and_due_times() {
        let start = Instant::now();
        let cases = [
            // (calls/s, warmup ms, duration ms, total, measured_from)
            (1000.0, 0, 2000, 2000, 0),
            (1000.0, 500, 1000, 1500, 500),
            (3.0, 1000, 1000, 6, 3),
            (0.5, 0, 3000, 2, 0),
            (10_000.0 / 7.0, 0, 7000, 10_000, 0),
        ];
        for (rate, warmup_ms, duration_ms, total, from) in cases {
            let s = Schedule::new(
                start,
                rate,
                Duration::from_millis(warmup_ms),
                Duration::from_millis(duration_ms),
            );
            assert_eq!(
                (s.calls_total, s.measured_from),
                (total, from),
                "rate {rate}"
            );
            assert!(
                s.due(s.calls_total - 1) < s.end,
                "last call due inside the run"
            );
            assert!(s.due(s.calls_total) >= s.end, "no call left out");
            if from > 0 {
                assert!(s.due(from - 1) < s.measure_start && s.due(from) >= s.measure_start);
            }
        }
    }

    #[test]
    fn due_times_are_evenly_spaced() {
        let start = Instant::now();
        let s = Schedule::new(start, 3.0, Duration::ZERO, Duration::from_secs(10));
        assert_eq!(s.due(0), start);
        assert_eq!(s.due(3) - start, Duration::from_secs(1));
        let gap_ns = (s.due(2) - s.due(1)).as_nanos();
        assert!((333_333_332..=333_333_334).contains(&gap_ns), "{gap_ns}");
    }
}
