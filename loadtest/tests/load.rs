//! The generator against the in-crate stub server on 127.0.0.1: rate, latency from due times
//! (the coordinated-omission check), answers counted by status, batches, the swap scenario
//! and the binary's JSON line.
//!
//! Timing tests share two cores with whatever else runs, so they hold one lock (no two runs
//! at once) and their tolerances are wide where the scheduler, not the generator, decides.

mod stub;

use loadtest::swap::SwapOptions;
use loadtest::target::Target;
use loadtest::workload::Workload;
use loadtest::{LoadConfig, RunReport, run, run_swap};
use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;
use stub::{Stub, StubConfig};

static ONE_RUN_AT_A_TIME: Mutex<()> = Mutex::new(());

fn one_at_a_time() -> MutexGuard<'static, ()> {
    ONE_RUN_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

const KEY: &str = "test-key";

fn stub() -> Stub {
    Stub::start(StubConfig {
        key: KEY.to_owned(),
        ..StubConfig::default()
    })
}

fn requests(customers: &[&str]) -> Workload {
    let text: String = customers
        .iter()
        .map(|c| format!(r#"{{"customer":"{c}","origin":{{"country":"CN"}},"destination":{{"country":"DE"}},"parcel":{{"weight_g":700}},"currency":"EUR"}}"#) + "\n")
        .collect();
    Workload::from_ndjson(&text).expect("requests")
}

fn config(
    stub: &Stub,
    workload: Workload,
    rate: f64,
    duration_ms: u64,
    connections: usize,
) -> LoadConfig {
    let mut config = LoadConfig::new(Target::from_addr(stub.addr), KEY, workload).expect("config");
    config.rate_quotes_per_s = rate;
    config.warmup = Duration::ZERO;
    config.duration = Duration::from_millis(duration_ms);
    config.connections = connections;
    config.timeout = Duration::from_secs(5);
    config
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

#[test]
fn sends_at_the_requested_rate() {
    let _guard = one_at_a_time();
    let stub = stub();
    let report = run(&config(&stub, requests(&["ok"]), 2000.0, 2000, 16)).expect("run");
    eprint!("{}", report.render());
    assert_eq!(
        (
            report.calls_scheduled,
            report.counts.ok,
            report.counts.calls()
        ),
        (4000, 4000, 4000)
    );
    let achieved = report.achieved_quotes_per_s();
    assert!(
        (1900.0..=2100.0).contains(&achieved),
        "achieved {achieved} quotes/s for 2000 offered"
    );
    assert!(
        report.failures(false).is_empty(),
        "{:?}",
        report.failures(false)
    );

    // The calls arrive spread over the two seconds, not in bursts: four half-seconds of about
    // 1 000 calls each.
    let arrivals = stub.arrivals();
    let first = arrivals.iter().min().copied().expect("arrivals");
    let mut bins = [0_u32; 4];
    for at in &arrivals {
        let bin = ((*at - first).as_millis() / 500) as usize;
        bins[bin.min(3)] += 1;
    }
    for (i, count) in bins.iter().enumerate() {
        assert!(
            (850..=1150).contains(count),
            "half-second {i}: {count} calls (bins {bins:?})"
        );
    }
}

/// The stub stalls for 200 ms once, one second in. Calls keep coming due at 1 000/s, queue
/// behind the 8 busy connections, and each counts from its due time: about 200 calls slow by
/// up to 200 ms, so the stall shows in p99, not just in the max. A closed-loop generator (one
/// that sends the next call when the previous answers) would record 8 slow calls and a clean
/// p99 — the coordinated omission this generator avoids.
#[test]
fn latency_counts_from_due_times_so_a_stall_shows() {
    let _guard = one_at_a_time();
    let stub = Stub::start(StubConfig {
        key: KEY.to_owned(),
        stall_at_call: Some(1000),
        stall: Duration::from_millis(200),
        ..StubConfig::default()
    });
    let report = run(&config(&stub, requests(&["ok"]), 1000.0, 2000, 8)).expect("run");
    eprint!("{}", report.render());
    let latency = report.latency;
    assert_eq!(report.counts.ok, 2000);
    assert!(ms(latency.max_us) >= 199.0, "max {} ms", ms(latency.max_us));
    assert!(
        ms(latency.p999_us) >= 180.0,
        "p99.9 {} ms",
        ms(latency.p999_us)
    );
    assert!(
        ms(latency.p99_us) >= 150.0,
        "p99 {} ms: the calls queued during the stall are missing",
        ms(latency.p99_us)
    );
    assert!(
        ms(latency.p50_us) < 50.0,
        "p50 {} ms: the stall should touch a tenth of the calls",
        ms(latency.p50_us)
    );
    assert!(
        ms(report.send_lag.max_us) >= 150.0,
        "calls waited for a connection during the stall"
    );
}

#[test]
fn counts_answers_by_status() {
    let _guard = one_at_a_time();
    let stub = stub();
    let workload = requests(&[
        "ok", "ok", "bad", "ok", "throttle", "ok", "boom", "ok", "hangup", "ok",
    ]);
    let report = run(&config(&stub, workload, 500.0, 1000, 4)).expect("run");
    eprint!("{}", report.render());
    let c = &report.counts;
    assert_eq!(
        (
            c.ok,
            c.bad_request,
            c.rate_limited,
            c.server_error,
            c.transport,
            c.other_4xx,
            c.unsent
        ),
        (300, 50, 50, 50, 50, 0, 0),
        "each of the ten requests is sent 50 times"
    );
    assert_eq!(c.calls(), report.calls_scheduled);
    let strict = report.failures(false);
    assert_eq!(
        strict.len(),
        3,
        "short of the rate, 5xx, transport: {strict:?}"
    );
    let relaxed = report.failures(true);
    assert_eq!(
        relaxed.len(),
        1,
        "--allow-errors keeps only the shortfall: {relaxed:?}"
    );
    assert!(
        report.error_samples.iter().any(|s| s.starts_with("500:")),
        "{:?}",
        report.error_samples
    );
    assert!(
        report
            .error_samples
            .iter()
            .any(|s| s.starts_with("transport:")),
        "{:?}",
        report.error_samples
    );
}

#[test]
fn a_wrong_key_is_counted_and_shown() {
    let _guard = one_at_a_time();
    let stub = stub();
    let mut config = config(&stub, requests(&["ok"]), 200.0, 500, 2);
    config.endpoint =
        loadtest::client::Endpoint::new(Target::from_addr(stub.addr), "wrong").expect("endpoint");
    let report = run(&config).expect("run");
    assert_eq!((report.counts.other_4xx, report.counts.ok), (100, 0));
    assert!(
        report.error_samples.iter().any(|s| s.starts_with("401:")),
        "{:?}",
        report.error_samples
    );
    assert!(
        !report.failures(true).is_empty(),
        "no quote answered: far short of the rate"
    );
}

#[test]
fn batches_count_quotes_not_calls() {
    let _guard = one_at_a_time();
    let stub = stub();
    let workload = requests(&["ok", "ok", "ok", "bad", "ok", "ok", "ok", "ok", "ok", "ok"]);
    let mut config = config(&stub, workload, 2000.0, 1000, 4);
    config.batch = 10;
    let report = run(&config).expect("run");
    eprint!("{}", report.render());
    assert_eq!(
        (report.calls_scheduled, report.counts.ok),
        (200, 200),
        "2 000 quotes/s in calls of 10"
    );
    assert_eq!(
        (
            report.quotes_ok,
            report.counts.batch_lines_refused,
            report.counts.batch_lines_missing
        ),
        (1800, 200, 0)
    );
    assert_eq!(stub.arrivals().len(), 200);
}

fn write_book(dir: &Path, name: &str, content: &[u8]) {
    std::fs::write(dir.join("book.toml"), format!("name = \"{name}\"\n")).expect("book.toml");
    std::fs::write(dir.join("services.parquet"), content).expect("parquet");
}

fn swap_scenario(stub: &Stub, compare_no_swap: bool) -> loadtest::swap::SwapOutcome {
    let (a, b) = (
        tempfile::tempdir().expect("dir"),
        tempfile::tempdir().expect("dir"),
    );
    write_book(a.path(), "book-a", b"PAR1 a");
    write_book(b.path(), "book-b", b"PAR1 b");
    let config = config(stub, requests(&["ok"]), 1000.0, 2000, 16);
    let options = SwapOptions {
        books: [a.path().to_owned(), b.path().to_owned()],
        every: Duration::from_millis(250),
        compare_no_swap,
    };
    run_swap(&config, &options).expect("swap scenario")
}

fn swap_report(report: &RunReport) -> &loadtest::swap::SwapReport {
    report.swap.as_ref().expect("a swap report")
}

#[test]
fn swaps_on_a_correct_server_give_only_expected_answers() {
    let _guard = one_at_a_time();
    let stub = stub();
    let outcome = swap_scenario(&stub, true);
    eprint!("{}", outcome.swap.render());
    let swap = swap_report(&outcome.swap);
    assert!(
        swap.labels[0].starts_with("book-a@") && swap.labels[1].starts_with("book-b@"),
        "{:?}",
        swap.labels
    );
    assert!(
        swap.swaps >= 6 && swap.swap_failures == 0,
        "{} swaps, {} failed",
        swap.swaps,
        swap.swap_failures
    );
    let [a, b, other, missing] = swap.answers_by_book;
    assert!(
        a > 500 && b > 500 && other == 0 && missing == 0,
        "{:?}",
        swap.answers_by_book
    );
    assert_eq!(swap.unexpected(), 0);
    // Swapping every 250 ms, only the calls due before the first swap are not within a second
    // of one.
    assert!(
        swap.rest.count > 0 && swap.after_swap.count > 5 * swap.rest.count,
        "{} vs {}",
        swap.after_swap.count,
        swap.rest.count
    );
    assert!(
        outcome.swap.failures(false).is_empty(),
        "{:?}",
        outcome.swap.failures(false)
    );

    let no_swap = outcome.no_swap.as_ref().expect("the comparison run");
    let quiet = swap_report(no_swap);
    assert_eq!(
        (quiet.swaps, quiet.answers_by_book[1], quiet.unexpected()),
        (0, 0, 0),
        "book A alone, all along"
    );
    assert!(outcome.p99_ratio().is_some());
}

#[test]
fn swaps_catch_a_server_that_answers_with_the_book_it_replaced() {
    let _guard = one_at_a_time();
    let stub = Stub::start(StubConfig {
        key: KEY.to_owned(),
        activation_lag: Duration::from_millis(100),
        ..StubConfig::default()
    });
    let outcome = swap_scenario(&stub, false);
    eprint!("{}", outcome.swap.render());
    let swap = swap_report(&outcome.swap);
    assert!(outcome.no_swap.is_none());
    // Each swap leaves ~100 ms of calls naming the old book after the activation answered;
    // the first 100 ms even name the stub's initial book, which is neither A nor B.
    assert!(
        swap.unexpected_not_in_force > 100,
        "{} not in force",
        swap.unexpected_not_in_force
    );
    assert!(
        swap.unexpected_unknown_book > 0 && swap.other_labels == ["stub-initial@00000000"],
        "{:?}",
        swap.other_labels
    );
    assert_eq!(swap.unexpected_no_book, 0);
    assert!(
        outcome
            .swap
            .failures(true)
            .iter()
            .any(|f| f.contains("book not in force")),
        "unexpected books fail even with --allow-errors"
    );
}

#[test]
fn the_binary_prints_one_json_line() {
    let _guard = one_at_a_time();
    let stub = stub();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_loadtest"))
        .args([
            "--url",
            &format!("http://{}", stub.addr),
            "--generate",
            "demo",
            "--n",
            "100",
            "--rate",
            "300",
        ])
        .args([
            "--duration",
            "1s",
            "--warmup",
            "200ms",
            "--connections",
            "4",
            "--json",
        ])
        .env("CROSSDOCK_KEY", KEY)
        .output()
        .expect("run the binary");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "exit {:?}\n{stdout}\n{stderr}",
        output.status
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    let report: serde_json::Value = serde_json::from_str(lines[0]).expect("JSON");
    assert_eq!(
        (
            report["kind"].as_str(),
            report["pass"].as_bool(),
            report["counts"]["2xx"].as_u64()
        ),
        (Some("run"), Some(true), Some(300))
    );
    assert!(
        report["latency_us"]["p99"].as_u64().is_some() && stderr.contains("latency"),
        "{stderr}"
    );

    let usage = std::process::Command::new(env!("CARGO_BIN_EXE_loadtest"))
        .arg("--rate")
        .output()
        .expect("run the binary");
    assert_eq!(usage.status.code(), Some(2), "bad usage exits 2");
}
