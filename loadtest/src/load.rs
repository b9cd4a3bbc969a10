//! One run: connections as tasks pulling due calls from a shared counter, answers counted,
//! latencies recorded from due times.

use crate::Error;
use crate::answer;
use crate::cli::{Options, Source};
use crate::client::{self, CallError, Endpoint, Slot};
use crate::schedule::{Schedule, wait_until};
use crate::stats::{self, Counts, LatencySummary, RunReport, micros};
use crate::swap::{self, Activation, BookLabels, Seen, SwapPlan};
use crate::target::Target;
use crate::workload::Workload;
use bytes::Bytes;
use hdrhistogram::Histogram;
use hyper::header::HeaderValue;
use hyper::{Method, Uri};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Per-call records are kept for swap runs only, 48 bytes each: at most this many calls.
pub const CALL_RECORDS_MAX: u64 = 5_000_000;
/// More connections than this is a misconfiguration, not a load test of one server.
pub const CONNECTIONS_MAX: usize = 4096;
/// A batch call carries at most this many quotes.
pub const BATCH_MAX: usize = 10_000;
/// Distinct labels other than the two swapped books kept as examples for the report.
const OTHER_LABELS_KEPT_MAX: usize = 5;
/// Example error messages kept for the report.
const SAMPLE_BYTES_MAX: usize = 300;

/// What one run offers: where, what, how fast, for how long, over how many connections.
#[derive(Clone, Debug)]
pub struct LoadConfig {
    pub endpoint: Endpoint,
    pub workload: Arc<Workload>,
    /// Quotes per second (a batch call carries `batch` quotes, so calls/s = rate / batch).
    pub rate_quotes_per_s: f64,
    pub warmup: Duration,
    pub duration: Duration,
    /// 1: `POST /v1/quotes`; more: `POST /v1/quotes/batch` with this many requests a call.
    pub batch: usize,
    pub connections: usize,
    /// The longest a call may take before it counts as a transport error (a timeout).
    pub timeout: Duration,
    /// The last part of each wait spent yielding rather than sleeping (see `wait_until`).
    pub spin: Duration,
}

impl LoadConfig {
    /// A configuration with the CLI's defaults for everything but where and what.
    pub fn new(target: Target, key: &str, workload: Workload) -> Result<Self, Error> {
        Ok(Self {
            endpoint: Endpoint::new(target, key)?,
            workload: Arc::new(workload),
            rate_quotes_per_s: 1000.0,
            warmup: Duration::from_secs(3),
            duration: Duration::from_secs(30),
            batch: 1,
            connections: 64,
            timeout: Duration::from_secs(10),
            spin: Duration::from_millis(1),
        })
    }

    pub fn from_options(options: &Options) -> Result<Self, Error> {
        let workload = match &options.source {
            Source::File(path) => Workload::from_file(path)?,
            Source::Generate(generate) => Workload::generate(generate)?,
        };
        let mut config = Self::new(Target::parse(&options.url)?, &options.key, workload)?;
        config.rate_quotes_per_s = options.rate_quotes_per_s;
        config.batch = options.batch;
        config.connections = options.connections;
        config.timeout = options.timeout;
        config.spin = options.spin;
        let (warmup, duration) = options.mode.default_timing();
        config.warmup = options.warmup.unwrap_or(warmup);
        config.duration = options.duration.unwrap_or(duration);
        Ok(config)
    }

    pub fn calls_per_s(&self) -> f64 {
        self.rate_quotes_per_s / self.batch as f64
    }

    fn check(&self) -> Result<(), Error> {
        if !(self.rate_quotes_per_s.is_finite() && self.rate_quotes_per_s > 0.0) {
            return Err(Error::new(
                "the rate must be a positive number of quotes per second",
            ));
        }
        if !(1..=BATCH_MAX).contains(&self.batch) {
            return Err(Error::new(format!(
                "--batch must be between 1 and {BATCH_MAX}"
            )));
        }
        if !(1..=CONNECTIONS_MAX).contains(&self.connections) {
            return Err(Error::new(format!(
                "--connections must be between 1 and {CONNECTIONS_MAX}"
            )));
        }
        if self.duration.is_zero() {
            return Err(Error::new("--duration must be above zero"));
        }
        if self.timeout.is_zero() || stats::micros(self.timeout) > stats::LATENCY_US_MAX {
            return Err(Error::new("--timeout must be above zero and at most 600 s"));
        }
        Ok(())
    }
}

/// Runs one load as configured and reports it.
pub fn run(config: &LoadConfig) -> Result<RunReport, Error> {
    crate::runtime()?.block_on(async { Ok(load(config, None).await?.report) })
}

/// What the swap classifier needs of each 2xx call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CallRecord {
    /// Nanoseconds since the swap run's epoch.
    pub due_ns: u64,
    pub sent_ns: u64,
    pub done_ns: u64,
    pub measured: bool,
    /// Answers by book: indexed by [`Seen`].
    pub books: [u32; 4],
}

/// A run's report and, for swap runs, the raw material of the swap report.
pub(crate) struct RunData {
    pub report: RunReport,
    pub records: Vec<CallRecord>,
    pub activations: Vec<Activation>,
    pub other_labels: Vec<String>,
}

/// Everything the connection tasks share; read-only but for the call counter.
struct Shared {
    endpoint: Endpoint,
    uri: Uri,
    content_type: HeaderValue,
    bodies: Vec<Bytes>,
    schedule: Schedule,
    /// The next call to send: each task takes one, waits for its due time, sends it.
    next_call: AtomicU64,
    /// Calls still unsent at this instant are counted as unsent, not sent late.
    deadline: Instant,
    timeout: Duration,
    spin: Duration,
    batch: usize,
    labels: Option<BookLabels>,
    epoch: Instant,
}

/// One task's tallies, merged when the run ends (no shared mutable state while it runs).
struct TaskStats {
    counts: Counts,
    latency_us: Histogram<u64>,
    send_lag_us: Histogram<u64>,
    quotes_ok: u64,
    last_done: Option<Instant>,
    records: Vec<CallRecord>,
    other_labels: Vec<String>,
    error_samples: Vec<String>,
}

impl TaskStats {
    fn new() -> Self {
        Self {
            counts: Counts::default(),
            latency_us: stats::histogram(),
            send_lag_us: stats::histogram(),
            quotes_ok: 0,
            last_done: None,
            records: Vec::new(),
            other_labels: Vec::new(),
            error_samples: Vec::new(),
        }
    }

    fn merge(&mut self, other: TaskStats) {
        self.counts.add(&other.counts);
        self.latency_us
            .add(&other.latency_us)
            .expect("histograms share their bounds");
        self.send_lag_us
            .add(&other.send_lag_us)
            .expect("histograms share their bounds");
        self.quotes_ok += other.quotes_ok;
        self.last_done = self.last_done.max(other.last_done);
        self.records.extend(other.records);
        for label in other.other_labels {
            self.keep_other_label(label);
        }
        for sample in other.error_samples {
            self.keep_error_sample(sample);
        }
    }

    fn keep_other_label(&mut self, label: String) {
        if self.other_labels.len() < OTHER_LABELS_KEPT_MAX && !self.other_labels.contains(&label) {
            self.other_labels.push(label);
        }
    }

    /// Keeps the first example of each kind of error (by its first two `:` fields, e.g.
    /// `transport: connect`) so a run of thousands of "connection refused" shows one line.
    fn keep_error_sample(&mut self, sample: String) {
        let kind = |s: &str| s.splitn(3, ':').take(2).collect::<Vec<_>>().join(":");
        if self.error_samples.len() < 8
            && !self.error_samples.iter().any(|s| kind(s) == kind(&sample))
        {
            self.error_samples.push(sample);
        }
    }

    fn record(
        &mut self,
        shared: &Shared,
        call: u64,
        times: [Instant; 3],
        outcome: Result<client::Answer, CallError>,
    ) {
        let [due, sent, done] = times;
        let measured = shared.schedule.is_measured(call);
        if measured {
            self.send_lag_us
                .saturating_record(micros(sent.saturating_duration_since(due)));
        }
        let answer = match outcome {
            Ok(answer) => answer,
            Err(error) => {
                if measured {
                    self.counts.transport += 1;
                    self.counts.timeouts += u64::from(matches!(error, CallError::Timeout));
                }
                self.keep_error_sample(format!("transport: {error}"));
                return;
            }
        };
        if measured {
            self.counts.status(answer.status);
        }
        if !answer.status.is_success() {
            if answer.status.as_u16() != 429 {
                let body = String::from_utf8_lossy(
                    &answer.body[..answer.body.len().min(SAMPLE_BYTES_MAX)],
                )
                .into_owned();
                self.keep_error_sample(format!("{}: {}", answer.status.as_u16(), body.trim()));
            }
            return;
        }
        let mut books = [0_u32; 4];
        let quotes = if shared.batch > 1 {
            let (mut lines, mut named) = (0_u64, 0_u64);
            for line in answer::lines(&answer.body) {
                lines += 1;
                if let Some(label) = answer::rate_book(line) {
                    named += 1;
                    if let Some(labels) = &shared.labels {
                        self.tally_book(labels, Some(label), &mut books);
                    }
                }
            }
            if measured {
                self.counts.batch_lines_refused += lines - named;
                self.counts.batch_lines_missing += (shared.batch as u64).saturating_sub(lines);
            }
            named
        } else {
            if let Some(labels) = &shared.labels {
                self.tally_book(labels, answer::rate_book(&answer.body), &mut books);
            }
            1
        };
        if measured {
            self.quotes_ok += quotes;
            self.latency_us.saturating_record(micros(done - due));
            self.last_done = self.last_done.max(Some(done));
        }
        if shared.labels.is_some() {
            let ns = |t: Instant| {
                u64::try_from(t.saturating_duration_since(shared.epoch).as_nanos())
                    .unwrap_or(u64::MAX)
            };
            self.records.push(CallRecord {
                due_ns: ns(due),
                sent_ns: ns(sent),
                done_ns: ns(done),
                measured,
                books,
            });
        }
    }

    fn tally_book(&mut self, labels: &BookLabels, label: Option<&[u8]>, books: &mut [u32; 4]) {
        let seen = labels.which(label);
        books[seen as usize] += 1;
        if let (Seen::Other, Some(label)) = (seen, label) {
            self.keep_other_label(String::from_utf8_lossy(label).into_owned());
        }
    }
}

async fn connection_task(shared: Arc<Shared>, mut slot: Slot) -> TaskStats {
    let mut stats = TaskStats::new();
    loop {
        let call = shared.next_call.fetch_add(1, Ordering::Relaxed);
        if call >= shared.schedule.calls_total {
            break;
        }
        if Instant::now() > shared.deadline {
            stats.counts.unsent += u64::from(shared.schedule.is_measured(call));
            continue;
        }
        let due = shared.schedule.due(call);
        wait_until(due, shared.spin).await;
        let body = shared.bodies[(call % shared.bodies.len() as u64) as usize].clone();
        let request =
            shared
                .endpoint
                .request(Method::POST, &shared.uri, &shared.content_type, body);
        let sent = Instant::now();
        let outcome = match tokio::time::timeout(shared.timeout, slot.call(request)).await {
            Ok(outcome) => outcome,
            Err(_) => {
                // The answer may still arrive on this connection: never read it as the next's.
                slot.reset();
                Err(CallError::Timeout)
            }
        };
        stats.record(&shared, call, [due, sent, Instant::now()], outcome);
    }
    stats
}

/// Runs one load; with a swap plan, also classifies answers by book and, when the plan says
/// so, activates the two books alternately while it runs.
pub(crate) async fn load(config: &LoadConfig, swap: Option<&SwapPlan>) -> Result<RunData, Error> {
    config.check()?;
    let calls_per_s = config.calls_per_s();
    let planned = Schedule::new(Instant::now(), calls_per_s, config.warmup, config.duration);
    if swap.is_some() && planned.calls_total > CALL_RECORDS_MAX {
        return Err(Error::new(format!(
            "a swap run keeps a record per call: {} calls is above the {CALL_RECORDS_MAX} allowed; shorten it or use --batch",
            planned.calls_total
        )));
    }
    let target = &config.endpoint.target;
    // Every connection is opened before the clock starts, so the first calls do not queue
    // behind connects.
    let mut slots = Vec::with_capacity(config.connections);
    for _ in 0..config.connections {
        let mut slot = Slot::new(target.addr);
        slot.connect().await.map_err(|e| {
            Error::new(format!(
                "cannot connect to {} ({}): {e}",
                target.url, target.addr
            ))
        })?;
        slots.push(slot);
    }
    let (route, content_type) = if config.batch > 1 {
        ("/v1/quotes/batch", &client::NDJSON)
    } else {
        ("/v1/quotes", &client::JSON)
    };
    let schedule = Schedule::new(Instant::now(), calls_per_s, config.warmup, config.duration);
    let shared = Arc::new(Shared {
        endpoint: config.endpoint.clone(),
        uri: config.endpoint.uri(route)?,
        content_type: content_type.clone(),
        bodies: config.workload.call_bodies(config.batch),
        schedule,
        next_call: AtomicU64::new(0),
        deadline: schedule.end + config.timeout,
        timeout: config.timeout,
        spin: config.spin,
        batch: config.batch,
        labels: swap.map(|plan| plan.labels.clone()),
        epoch: swap.map_or(schedule.start, |plan| plan.epoch),
    });
    let cpu_before_ns = thread_cpu_ns();
    let activator = swap.and_then(|plan| {
        plan.every.map(|every| {
            tokio::spawn(swap::activator(
                config.endpoint.clone(),
                plan.clone(),
                every,
                schedule,
                config.timeout,
            ))
        })
    });
    let tasks: Vec<_> = slots
        .into_iter()
        .map(|slot| tokio::spawn(connection_task(Arc::clone(&shared), slot)))
        .collect();
    let mut total = TaskStats::new();
    for task in tasks {
        total.merge(
            task.await
                .map_err(|e| Error::new(format!("a connection task failed: {e}")))?,
        );
    }
    let activations = match activator {
        Some(task) => task
            .await
            .map_err(|e| Error::new(format!("the activator failed: {e}")))?,
        None => Vec::new(),
    };
    let wall = schedule.start.elapsed();
    let generator_cpu_pct = cpu_before_ns.zip(thread_cpu_ns()).map(|(before, after)| {
        100.0 * after.saturating_sub(before) as f64 / wall.as_nanos() as f64
    });
    let elapsed = total.last_done.map_or(config.duration, |last| {
        last.saturating_duration_since(schedule.measure_start)
            .max(config.duration)
    });
    let report = RunReport {
        url: target.url.clone(),
        offered_quotes_per_s: config.rate_quotes_per_s,
        batch: config.batch,
        connections: config.connections,
        warmup: config.warmup,
        duration: config.duration,
        calls_scheduled: schedule.measured_calls(),
        counts: total.counts,
        quotes_ok: total.quotes_ok,
        elapsed,
        latency: LatencySummary::of(&total.latency_us),
        latency_histogram: total.latency_us,
        send_lag: LatencySummary::of(&total.send_lag_us),
        generator_cpu_pct,
        error_samples: total.error_samples,
        swap: None,
    };
    Ok(RunData {
        report,
        records: total.records,
        activations,
        other_labels: total.other_labels,
    })
}

/// CPU time of the calling thread in nanoseconds (Linux: `/proc/thread-self/schedstat`). The
/// runtime is single-threaded, so this is the generator's whole cost.
fn thread_cpu_ns() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok()
}
