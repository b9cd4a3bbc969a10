//! The swap scenario: two rate books uploaded, then activated alternately under load, and
//! every answer checked against what was in force while it was in flight.
//!
//! The generator cannot see the instant a server switches books; it sees when it asked
//! (`requested`) and when the server said done (`answered`). So the classifier is lenient
//! where it cannot know and strict where it can: a book *may* have been in force from the
//! moment its activation was requested until the moment the next activation was answered.
//! An answer is **expected** when it names one of the two books and that book may have been in
//! force at some instant between the call's actual send and the end of its answer; otherwise
//! it is **unexpected** — a book that was certainly not in force, a label that is neither, or
//! a 2xx quote answer naming no book at all. Unexpected answers are server bugs: they fail the
//! run whatever `--allow-errors` says.

use crate::client::{self, Endpoint, Slot};
use crate::load::{self, CallRecord, LoadConfig, RunData};
use crate::schedule::Schedule;
use crate::stats::{self, LatencySummary, Output, RunReport, micros};
use crate::{Error, runtime};
use bytes::Bytes;
use hyper::{Method, StatusCode};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Latency is reported separately for calls in flight during this long after each swap.
pub const AFTER_SWAP_WINDOW: Duration = Duration::from_secs(1);
/// Swapping more often than this measures the activation endpoint, not a quote server.
pub const SWAP_EVERY_MIN: Duration = Duration::from_millis(100);
/// A book upload is a few files; anything bigger is the wrong directory.
pub const ARCHIVE_BYTES_MAX: u64 = 2 << 30;

/// What the swap scenario was asked to do.
#[derive(Clone, Debug)]
pub struct SwapOptions {
    pub books: [PathBuf; 2],
    pub every: Duration,
    /// Run without swaps first, then with, and compare their p99.
    pub compare_no_swap: bool,
}

/// Which book an answer names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seen {
    A = 0,
    B = 1,
    /// A label that is neither book's.
    Other = 2,
    /// No `rate_book` in a 2xx quote answer.
    Missing = 3,
}

/// The labels (`name@hash8`) the server gave the two uploaded books.
#[derive(Clone, Debug)]
pub struct BookLabels(pub [Bytes; 2]);

impl BookLabels {
    pub fn which(&self, label: Option<&[u8]>) -> Seen {
        match label {
            None => Seen::Missing,
            Some(label) if label == self.0[0] => Seen::A,
            Some(label) if label == self.0[1] => Seen::B,
            Some(_) => Seen::Other,
        }
    }
}

/// The two books as stored by the server, and whether (and how often) to swap them.
#[derive(Clone, Debug)]
pub struct SwapPlan {
    pub ids: [i64; 2],
    pub labels: BookLabels,
    /// `None`: keep book A in force for the whole run (the comparison run).
    pub every: Option<Duration>,
    /// The origin of every nanosecond timestamp of the scenario.
    pub epoch: Instant,
}

/// One activation as the generator saw it: asked at `requested_ns`, answered at
/// `answered_ns` (nanoseconds since the epoch). A failed one may still have taken effect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Activation {
    /// 0 for book A, 1 for book B.
    pub book: usize,
    pub requested_ns: u64,
    pub answered_ns: u64,
    /// `None` when the server answered 200 naming the book asked for.
    pub error: Option<String>,
}

/// The activations of a run in order, the first one made before the load started.
#[derive(Clone, Debug)]
pub struct Timeline {
    activations: Vec<Activation>,
    /// For each activation, the latest instant its book may have stayed in force: the answer
    /// to the next successful activation (`u64::MAX` for none). Nondecreasing.
    in_force_until_ns: Vec<u64>,
}

/// What an answer's book says about the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Expected,
    /// Neither of the two books.
    UnknownBook,
    /// One of the books, but certainly not in force at any instant of the call's flight.
    NotInForce,
    /// A 2xx quote answer naming no book.
    NoBook,
}

impl Timeline {
    /// `activations` in the order they were requested (their `requested_ns` nondecreasing).
    pub fn new(activations: Vec<Activation>) -> Self {
        let mut in_force_until_ns = vec![u64::MAX; activations.len()];
        let mut next_ok_answer = u64::MAX;
        for (i, activation) in activations.iter().enumerate().rev() {
            in_force_until_ns[i] = next_ok_answer;
            if activation.error.is_none() {
                next_ok_answer = activation.answered_ns;
            }
        }
        Self {
            activations,
            in_force_until_ns,
        }
    }

    /// Whether `book` may have been in force at some instant of `[from_ns, to_ns]`.
    pub fn may_be_in_force(&self, book: usize, from_ns: u64, to_ns: u64) -> bool {
        // Activation i covers [requested_i, in_force_until_i]; both ends are nondecreasing in
        // i, so the activations overlapping the flight are one contiguous run.
        let first = self
            .in_force_until_ns
            .partition_point(|&until| until < from_ns);
        let past_last = self
            .activations
            .partition_point(|a| a.requested_ns <= to_ns);
        self.activations
            .get(first..past_last)
            .is_some_and(|overlapping| overlapping.iter().any(|a| a.book == book))
    }

    /// The verdict on an answer naming `seen`, for a call sent at `sent_ns` and answered at
    /// `done_ns`.
    pub fn classify(&self, seen: Seen, sent_ns: u64, done_ns: u64) -> Verdict {
        match seen {
            Seen::Other => Verdict::UnknownBook,
            Seen::Missing => Verdict::NoBook,
            Seen::A | Seen::B if self.may_be_in_force(seen as usize, sent_ns, done_ns) => {
                Verdict::Expected
            }
            Seen::A | Seen::B => Verdict::NotInForce,
        }
    }

    /// Whether a call in flight over `[from_ns, to_ns]` overlaps the window after a swap
    /// (any activation but the first, which was made before the load).
    pub fn near_swap(&self, from_ns: u64, to_ns: u64) -> bool {
        let window_ns = u64::try_from(AFTER_SWAP_WINDOW.as_nanos()).unwrap_or(u64::MAX);
        let swaps = self.activations.get(1..).unwrap_or(&[]);
        let first_open =
            swaps.partition_point(|a| a.requested_ns.saturating_add(window_ns) <= from_ns);
        swaps
            .get(first_open)
            .is_some_and(|a| a.requested_ns <= to_ns)
    }
}

/// What the swap scenario saw in one run.
#[derive(Clone, Debug, Default)]
pub struct SwapReport {
    pub labels: [String; 2],
    pub every: Option<Duration>,
    /// Activations made during the run (the one before it not included).
    pub swaps: u64,
    pub swap_failures: u64,
    pub swap_errors: Vec<String>,
    /// The slowest activation call, from request to answer.
    pub swap_latency_max_us: u64,
    /// Quote answers by the book they name (batch lines counted one by one), warm-up included.
    pub answers_by_book: [u64; 4],
    pub unexpected_unknown_book: u64,
    pub unexpected_not_in_force: u64,
    pub unexpected_no_book: u64,
    pub other_labels: Vec<String>,
    /// Measured 2xx calls in flight during the second after a swap, and the others.
    pub after_swap: LatencySummary,
    pub rest: LatencySummary,
}

impl SwapReport {
    pub fn unexpected(&self) -> u64 {
        self.unexpected_unknown_book + self.unexpected_not_in_force + self.unexpected_no_book
    }

    pub fn failures(&self, allow_errors: bool) -> Vec<String> {
        let mut failures = Vec::new();
        if self.unexpected() > 0 {
            failures.push(format!(
                "{} answers priced by a book not in force ({} not in force during the call, {} unknown, {} naming none)",
                self.unexpected(),
                self.unexpected_not_in_force,
                self.unexpected_unknown_book,
                self.unexpected_no_book
            ));
        }
        if self.swap_failures > 0 && !allow_errors {
            failures.push(format!(
                "{} of {} activations failed",
                self.swap_failures, self.swaps
            ));
        }
        failures
    }

    pub fn to_json(&self) -> Value {
        json!({
            "labels": self.labels,
            "every_s": self.every.map(|d| d.as_secs_f64()),
            "swaps": self.swaps,
            "swap_failures": self.swap_failures,
            "swap_errors": self.swap_errors,
            "swap_latency_max_us": self.swap_latency_max_us,
            "answers": { "a": self.answers_by_book[0], "b": self.answers_by_book[1], "other": self.answers_by_book[2], "missing": self.answers_by_book[3] },
            "unexpected": {
                "total": self.unexpected(), "not_in_force": self.unexpected_not_in_force,
                "unknown_book": self.unexpected_unknown_book, "no_book": self.unexpected_no_book,
            },
            "other_labels": self.other_labels,
            "latency_after_swap_us": self.after_swap.to_json(),
            "latency_rest_us": self.rest.to_json(),
        })
    }

    pub fn render(&self) -> String {
        let [a, b, other, missing] = self.answers_by_book;
        let swaps = match self.every {
            None => "A in force throughout, no swaps".to_owned(),
            Some(every) => format!(
                "every {}: {} swaps, {} failed, slowest activation {}",
                stats::human(every),
                self.swaps,
                self.swap_failures,
                stats::ms(self.swap_latency_max_us)
            ),
        };
        let mut text = format!(
            "books      A {} · B {} ({swaps})\n",
            self.labels[0], self.labels[1]
        );
        text +=
            &format!("answers    by A {a} · by B {b} · other book {other} · no book {missing}\n");
        text += &format!(
            "unexpected {} (not in force during the call {} · unknown book {} · no book {})\n",
            self.unexpected(),
            self.unexpected_not_in_force,
            self.unexpected_unknown_book,
            self.unexpected_no_book
        );
        if !self.other_labels.is_empty() {
            text += &format!("other      labels seen: {}\n", self.other_labels.join(", "));
        }
        for error in &self.swap_errors {
            text += &format!("activation {error}\n");
        }
        if self.every.is_some() {
            text += &format!(
                "after swap {}  ({} calls in flight within 1 s of a swap)\n",
                self.after_swap.render(),
                self.after_swap.count
            );
            text += &format!(
                "the rest   {}  ({} calls)\n",
                self.rest.render(),
                self.rest.count
            );
        }
        text
    }
}

/// Builds the swap report of a run from its call records and activations.
pub(crate) fn report(plan: &SwapPlan, initial: &Activation, data: &RunData) -> SwapReport {
    let mut activations = vec![initial.clone()];
    activations.extend(data.activations.iter().cloned());
    let timeline = Timeline::new(activations);
    let mut report = SwapReport {
        labels: plan
            .labels
            .0
            .clone()
            .map(|label| String::from_utf8_lossy(&label).into_owned()),
        every: plan.every,
        swaps: data.activations.len() as u64,
        swap_failures: data
            .activations
            .iter()
            .filter(|a| a.error.is_some())
            .count() as u64,
        swap_errors: data
            .activations
            .iter()
            .filter_map(|a| a.error.clone())
            .take(5)
            .collect(),
        swap_latency_max_us: data
            .activations
            .iter()
            .map(|a| a.answered_ns.saturating_sub(a.requested_ns) / 1000)
            .max()
            .unwrap_or(0),
        other_labels: data.other_labels.clone(),
        ..SwapReport::default()
    };
    let (mut after_swap, mut rest) = (stats::histogram(), stats::histogram());
    for record in &data.records {
        tally(&timeline, record, &mut report);
        if record.measured {
            let latency_us = micros(Duration::from_nanos(
                record.done_ns.saturating_sub(record.due_ns),
            ));
            let histogram = if timeline.near_swap(record.due_ns, record.done_ns) {
                &mut after_swap
            } else {
                &mut rest
            };
            histogram.saturating_record(latency_us);
        }
    }
    report.after_swap = LatencySummary::of(&after_swap);
    report.rest = LatencySummary::of(&rest);
    report
}

fn tally(timeline: &Timeline, record: &CallRecord, report: &mut SwapReport) {
    for (seen, &count) in [Seen::A, Seen::B, Seen::Other, Seen::Missing]
        .into_iter()
        .zip(&record.books)
    {
        if count == 0 {
            continue;
        }
        let count = u64::from(count);
        report.answers_by_book[seen as usize] += count;
        match timeline.classify(seen, record.sent_ns, record.done_ns) {
            Verdict::Expected => {}
            Verdict::UnknownBook => report.unexpected_unknown_book += count,
            Verdict::NotInForce => report.unexpected_not_in_force += count,
            Verdict::NoBook => report.unexpected_no_book += count,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Talking to the server

/// A tar archive of the book in `dir`: `book.toml` and the `*.parquet` files at the archive
/// root, sorted by name, with fixed owner, mode and time so the same book gives the same bytes.
pub fn tar_book(dir: &Path) -> Result<Vec<u8>, Error> {
    let shown = dir.display();
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| Error::new(format!("--swap-books {shown}: {e}")))?
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|name| name == "book.toml" || name.ends_with(".parquet"))
        .collect();
    names.sort();
    if !names.iter().any(|name| name == "book.toml") {
        return Err(Error::new(format!(
            "--swap-books {shown}: no book.toml (not a rate book directory)"
        )));
    }
    let mut archive = tar::Builder::new(Vec::new());
    let mut total_bytes = 0_u64;
    for name in &names {
        let path = dir.join(name);
        let data =
            std::fs::read(&path).map_err(|e| Error::new(format!("{}: {e}", path.display())))?;
        total_bytes += data.len() as u64;
        if total_bytes > ARCHIVE_BYTES_MAX {
            return Err(Error::new(format!(
                "--swap-books {shown}: more than {ARCHIVE_BYTES_MAX} bytes"
            )));
        }
        let mut header = tar::Header::new_ustar();
        header
            .set_path(name)
            .map_err(|e| Error::new(format!("{}: {e}", path.display())))?;
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_entry_type(tar::EntryType::Regular);
        header.set_cksum();
        archive
            .append(&header, data.as_slice())
            .map_err(|e| Error::new(format!("{}: {e}", path.display())))?;
    }
    archive
        .into_inner()
        .map_err(|e| Error::new(format!("--swap-books {shown}: {e}")))
}

/// A book as the server stored it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredBook {
    pub id: i64,
    pub label: String,
}

/// `POST /v1/rate-books` with the directory as a tar archive.
pub async fn upload(endpoint: &Endpoint, slot: &mut Slot, dir: &Path) -> Result<StoredBook, Error> {
    /// The server checks an upload before answering; a big book takes a while.
    const UPLOAD_TIME_MAX: Duration = Duration::from_secs(600);
    let archive = tar_book(dir)?;
    let uri = endpoint.uri("/v1/rate-books")?;
    let call = slot.call(endpoint.request(Method::POST, &uri, &client::TAR, Bytes::from(archive)));
    let answer = tokio::time::timeout(UPLOAD_TIME_MAX, call)
        .await
        .map_err(|_| {
            Error::new(format!(
                "uploading {}: no answer in {} s",
                dir.display(),
                UPLOAD_TIME_MAX.as_secs()
            ))
        })?
        .map_err(|e| Error::new(format!("uploading {}: {e}", dir.display())))?;
    let body = String::from_utf8_lossy(&answer.body);
    if answer.status != StatusCode::CREATED && answer.status != StatusCode::OK {
        return Err(Error::new(format!(
            "uploading {}: HTTP {}: {}",
            dir.display(),
            answer.status.as_u16(),
            body.trim()
        )));
    }
    let doc: Value = serde_json::from_str(&body).map_err(|e| {
        Error::new(format!(
            "uploading {}: the answer is not JSON: {e}",
            dir.display()
        ))
    })?;
    match (doc["id"].as_i64(), doc["label"].as_str()) {
        (Some(id), Some(label)) => Ok(StoredBook {
            id,
            label: label.to_owned(),
        }),
        _ => Err(Error::new(format!(
            "uploading {}: the answer lacks id or label: {}",
            dir.display(),
            body.trim()
        ))),
    }
}

/// `POST /v1/rate-books/{id}/activate`; the label the server says is now in force.
pub async fn activate(endpoint: &Endpoint, slot: &mut Slot, id: i64) -> Result<String, Error> {
    let uri = endpoint.uri(&format!("/v1/rate-books/{id}/activate"))?;
    let answer = slot
        .call(endpoint.request(Method::POST, &uri, &client::JSON, Bytes::new()))
        .await
        .map_err(|e| Error::new(format!("activating book {id}: {e}")))?;
    let body = String::from_utf8_lossy(&answer.body);
    if answer.status != StatusCode::OK {
        return Err(Error::new(format!(
            "activating book {id}: HTTP {}: {}",
            answer.status.as_u16(),
            body.trim()
        )));
    }
    let doc: Value = serde_json::from_str(&body)
        .map_err(|e| Error::new(format!("activating book {id}: the answer is not JSON: {e}")))?;
    doc["active"]["label"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| {
            Error::new(format!(
                "activating book {id}: no active.label in {}",
                body.trim()
            ))
        })
}

/// Activates `plan`'s book `book` and times it.
async fn activate_timed(
    endpoint: &Endpoint,
    slot: &mut Slot,
    plan: &SwapPlan,
    book: usize,
    timeout: Duration,
) -> Activation {
    let requested = Instant::now();
    let result = tokio::time::timeout(timeout, activate(endpoint, slot, plan.ids[book])).await;
    let answered = Instant::now();
    let error = match result {
        Err(_) => {
            slot.reset();
            Some(format!("activating book {}: timeout", plan.ids[book]))
        }
        Ok(Err(e)) => Some(e.0),
        Ok(Ok(label)) if label.as_bytes() != plan.labels.0[book] => Some(format!(
            "activating book {} answered {label}, not {}",
            plan.ids[book],
            String::from_utf8_lossy(&plan.labels.0[book])
        )),
        Ok(Ok(_)) => None,
    };
    let ns = |t: Instant| {
        u64::try_from(t.saturating_duration_since(plan.epoch).as_nanos()).unwrap_or(u64::MAX)
    };
    Activation {
        book,
        requested_ns: ns(requested),
        answered_ns: ns(answered),
        error,
    }
}

/// Activates B, A, B, … every `every` from the start of the schedule until its end, on a
/// connection of its own.
pub(crate) async fn activator(
    endpoint: Endpoint,
    plan: SwapPlan,
    every: Duration,
    schedule: Schedule,
    timeout: Duration,
) -> Vec<Activation> {
    let mut slot = Slot::new(endpoint.target.addr);
    let mut activations = Vec::new();
    for k in 1_u32.. {
        let at = schedule.start + every * k;
        if at >= schedule.end {
            break;
        }
        tokio::time::sleep_until(at.into()).await;
        activations
            .push(activate_timed(&endpoint, &mut slot, &plan, (k % 2) as usize, timeout).await);
    }
    activations
}

/// The runs of a swap scenario: the comparison run without swaps when asked, then the run
/// with swaps.
#[derive(Debug)]
pub struct SwapOutcome {
    pub no_swap: Option<RunReport>,
    pub swap: RunReport,
}

impl SwapOutcome {
    /// p99 with swaps over p99 without, when both ran and answered.
    pub fn p99_ratio(&self) -> Option<f64> {
        let without = self.no_swap.as_ref()?.latency.p99_us;
        (without > 0).then(|| self.swap.latency.p99_us as f64 / without as f64)
    }
}

/// Uploads both books, then runs the scenario.
pub fn run_swap(config: &LoadConfig, options: &SwapOptions) -> Result<SwapOutcome, Error> {
    if options.every < SWAP_EVERY_MIN {
        return Err(Error::new(format!(
            "--swap-every must be at least {} ms",
            SWAP_EVERY_MIN.as_millis()
        )));
    }
    runtime()?.block_on(async {
        let endpoint = &config.endpoint;
        let mut slot = Slot::new(endpoint.target.addr);
        let epoch = Instant::now();
        let a = upload(endpoint, &mut slot, &options.books[0]).await?;
        let b = upload(endpoint, &mut slot, &options.books[1]).await?;
        if a.label == b.label {
            return Err(Error::new(format!(
                "both directories hold the same book ({}): a swap would change nothing",
                a.label
            )));
        }
        let labels = BookLabels([Bytes::from(a.label), Bytes::from(b.label)]);
        let mut plan = SwapPlan {
            ids: [a.id, b.id],
            labels,
            every: None,
            epoch,
        };
        let no_swap = if options.compare_no_swap {
            Some(swap_run(config, &plan, &mut slot).await?)
        } else {
            None
        };
        plan.every = Some(options.every);
        let swap = swap_run(config, &plan, &mut slot).await?;
        Ok(SwapOutcome { no_swap, swap })
    })
}

/// Puts book A in force, then runs the load under `plan`.
async fn swap_run(
    config: &LoadConfig,
    plan: &SwapPlan,
    slot: &mut Slot,
) -> Result<RunReport, Error> {
    let initial = activate_timed(&config.endpoint, slot, plan, 0, config.timeout).await;
    if let Some(error) = &initial.error {
        return Err(Error::new(format!(
            "putting book A in force before the run: {error}"
        )));
    }
    let data = load::load(config, Some(plan)).await?;
    let swap = report(plan, &initial, &data);
    let mut run = data.report;
    run.swap = Some(swap);
    Ok(run)
}

/// `--swap-books`: runs the scenario and prints it. `Ok(true)` when every run passed.
pub fn execute(
    config: &LoadConfig,
    options: &SwapOptions,
    allow_errors: bool,
    out: &Output,
) -> Result<bool, Error> {
    let outcome = run_swap(config, options)?;
    let mut failures = Vec::new();
    if let Some(no_swap) = &outcome.no_swap {
        out.text("── without swaps\n");
        out.run(no_swap, allow_errors);
        failures.extend(
            no_swap
                .failures(allow_errors)
                .into_iter()
                .map(|f| format!("without swaps: {f}")),
        );
        out.text("── with swaps\n");
    }
    out.run(&outcome.swap, allow_errors);
    failures.extend(outcome.swap.failures(allow_errors));
    if let Some(no_swap) = &outcome.no_swap {
        let ratio = outcome.p99_ratio();
        out.text(&format!(
            "compare    p99 with swaps {} vs without {}: ×{}\n",
            stats::ms(outcome.swap.latency.p99_us),
            stats::ms(no_swap.latency.p99_us),
            ratio.map_or("n/a".to_owned(), |r| format!("{r:.2}"))
        ));
        out.json_line(&json!({
            "kind": "swap_compare",
            "p99_us_without_swaps": no_swap.latency.p99_us,
            "p99_us_with_swaps": outcome.swap.latency.p99_us,
            "p99_ratio": ratio.map(|r| (r * 100.0).round() / 100.0),
        }));
    }
    out.verdict(&failures);
    Ok(failures.is_empty())
}

#[cfg(test)]
mod tests {
    use super::{Activation, BookLabels, Seen, Timeline, Verdict};
    use bytes::Bytes;

    const MS: u64 = 1_000_000;

    fn activation(book: usize, requested_ms: u64, answered_ms: u64, ok: bool) -> Activation {
        Activation {
            book,
            requested_ns: requested_ms * MS,
            answered_ns: answered_ms * MS,
            error: (!ok).then(|| "failed".to_owned()),
        }
    }

    /// A in force from 0 (answered at 1 ms); B asked at 100 ms, answered at 110 ms; A asked
    /// at 200 ms, answered at 205 ms.
    fn timeline() -> Timeline {
        Timeline::new(vec![
            activation(0, 0, 1, true),
            activation(1, 100, 110, true),
            activation(0, 200, 205, true),
        ])
    }

    #[test]
    fn classifies_answers_against_the_books_in_force_during_the_flight() {
        let t = timeline();
        let cases = [
            // (answer names, sent ms, done ms, verdict, why)
            (Seen::A, 10, 20, Verdict::Expected, "A alone in force"),
            (Seen::B, 10, 20, Verdict::NotInForce, "B not yet asked for"),
            (
                Seen::B,
                102,
                104,
                Verdict::Expected,
                "during B's activation: either may be in force",
            ),
            (
                Seen::A,
                102,
                104,
                Verdict::Expected,
                "during B's activation: either may be in force",
            ),
            (
                Seen::A,
                105,
                115,
                Verdict::Expected,
                "flight overlaps B's activation call",
            ),
            (
                Seen::A,
                111,
                120,
                Verdict::NotInForce,
                "A deactivated (answered 110) before the send",
            ),
            (Seen::B, 111, 120, Verdict::Expected, "B in force"),
            (
                Seen::B,
                150,
                260,
                Verdict::Expected,
                "B in force at the start of the flight",
            ),
            (
                Seen::A,
                150,
                260,
                Verdict::Expected,
                "A back in force by the end of the flight",
            ),
            (
                Seen::B,
                206,
                210,
                Verdict::NotInForce,
                "B deactivated (answered 205) before the send",
            ),
            (Seen::A, 206, 210, Verdict::Expected, "A in force again"),
            (Seen::Other, 10, 20, Verdict::UnknownBook, "neither label"),
            (Seen::Missing, 10, 20, Verdict::NoBook, "no label"),
        ];
        for (seen, sent_ms, done_ms, verdict, why) in cases {
            assert_eq!(
                t.classify(seen, sent_ms * MS, done_ms * MS),
                verdict,
                "{seen:?} {sent_ms}–{done_ms} ms: {why}"
            );
        }
    }

    #[test]
    fn a_failed_activation_may_or_may_not_have_taken_effect() {
        // B asked at 100 ms and failed at 150 ms; A asked again at 200 ms, answered at 205 ms.
        let t = Timeline::new(vec![
            activation(0, 0, 1, true),
            activation(1, 100, 150, false),
            activation(0, 200, 205, true),
        ]);
        assert_eq!(
            t.classify(Seen::A, 160 * MS, 170 * MS),
            Verdict::Expected,
            "A may still be in force"
        );
        assert_eq!(
            t.classify(Seen::B, 160 * MS, 170 * MS),
            Verdict::Expected,
            "B may have been activated"
        );
        assert_eq!(
            t.classify(Seen::B, 206 * MS, 210 * MS),
            Verdict::NotInForce,
            "A's activation answered since"
        );
    }

    #[test]
    fn swap_windows_cover_a_second_after_each_swap_but_not_the_first_activation() {
        let t = timeline();
        assert!(
            !t.near_swap(10 * MS, 20 * MS),
            "the initial activation is not a swap"
        );
        assert!(
            t.near_swap(90 * MS, 101 * MS),
            "in flight when B was asked for"
        );
        assert!(
            t.near_swap(1_099 * MS, 1_150 * MS),
            "due inside the window of B or A"
        );
        assert!(
            t.near_swap(1_150 * MS, 1_160 * MS),
            "inside A's window (200 ms + 1 s)"
        );
        assert!(!t.near_swap(1_300 * MS, 1_310 * MS), "after every window");
    }

    #[test]
    fn labels_are_matched_exactly() {
        let labels = BookLabels([
            Bytes::from_static(b"a@11111111"),
            Bytes::from_static(b"b@22222222"),
        ]);
        assert_eq!(labels.which(Some(b"a@11111111")), Seen::A);
        assert_eq!(labels.which(Some(b"b@22222222")), Seen::B);
        assert_eq!(labels.which(Some(b"a@1111111")), Seen::Other);
        assert_eq!(labels.which(None), Seen::Missing);
    }

    #[test]
    fn archives_hold_the_book_files_at_the_root_deterministically() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("book.toml"), "name = \"x\"\n").expect("write");
        std::fs::write(dir.path().join("services.parquet"), [1_u8, 2, 3]).expect("write");
        std::fs::write(dir.path().join("notes.txt"), "not part of a book").expect("write");
        std::fs::create_dir(dir.path().join("sub")).expect("mkdir");
        let archive = super::tar_book(dir.path()).expect("archive");
        assert_eq!(
            archive,
            super::tar_book(dir.path()).expect("again"),
            "deterministic"
        );
        let mut reader = tar::Archive::new(archive.as_slice());
        let names: Vec<String> = reader
            .entries()
            .expect("entries")
            .map(|e| {
                e.expect("entry")
                    .path()
                    .expect("path")
                    .display()
                    .to_string()
            })
            .collect();
        assert_eq!(names, ["book.toml", "services.parquet"]);
        assert!(
            super::tar_book(&dir.path().join("sub")).is_err(),
            "no book.toml"
        );
    }
}
