// This binary's global allocator counts allocation calls, which implementing `GlobalAlloc`
// requires `unsafe` for (the trait's methods are unsafe). The wrapper only forwards to
// `std::alloc::System` and bumps an atomic counter; no other unsafe code is in this crate.
#![allow(unsafe_code)]

//! Latency distribution of single quotes, measured one by one.
//!
//! ```text
//! cargo run --release -p crossdock-benches --bin quote_percentiles -- [--book demo|synthetic]
//!     [--n 1000000] [--path into|fresh|exact] [--pool 4096] [--warmup-secs 2] [--slowest K]
//! ```
//!
//! Builds [`REQUEST_POOL`] requests from the generator's sample parcels, warms up, then times
//! each of `--n` quotes individually with [`Instant`] (rotating through the pool) and prints
//! min / p50 / p90 / p99 / p99.9 / max in nanoseconds and the quote rate. Each timed figure
//! includes one `Instant::now()` pair, whose own cost is measured and printed.
//!
//! Also prints allocation calls per quote for `quote_into` with reused buffers and for
//! `quote` (a fresh answer each time), and the average number of options and excluded
//! services per quote, to show the workload is real. `--slowest K` lists the K requests of the
//! pool with the slowest best-of-5 time, to find what makes a tail.

use crossdock_benches::{PARCEL_SEED, REQUEST_POOL, demo_dir, load, requests, synthetic_dir};
use crossdock_bookgen::{SyntheticSpec, demo_sample_parcels, sample_parcels};
use crossdock_engine::{Book, Quote, Reason, Request, Scratch};
use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Counts allocation calls (alloc, alloc_zeroed, realloc); frees are not counted.
struct CountingAlloc;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so the
// `GlobalAlloc` contract holds exactly as it does for `System`.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded unchanged; the caller upholds `alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as above; `ptr` came from this allocator, hence from `System`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

fn allocations() -> u64 {
    ALLOCATIONS.load(Ordering::Relaxed)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Path {
    /// `quote_into` with reused `Scratch` and `Quote`: the server's path.
    Into,
    /// `quote`: a fresh answer (and scratch) per request.
    Fresh,
    /// `quote_exact`: the exact-decimal reference.
    Exact,
}

struct Options {
    synthetic: bool,
    n: usize,
    path: Path,
    pool: usize,
    warmup: Duration,
    slowest: usize,
}

const USAGE: &str = "usage: quote_percentiles [--book demo|synthetic] [--n 1000000] [--path into|fresh|exact] [--pool 4096] [--warmup-secs 2] [--slowest K]";

fn parse_args() -> Result<Options, String> {
    let mut o = Options {
        synthetic: false,
        n: 1_000_000,
        path: Path::Into,
        pool: REQUEST_POOL,
        warmup: Duration::from_secs(2),
        slowest: 0,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        let number = |v: String| {
            v.parse::<usize>()
                .map_err(|_| format!("{v:?} is not a number"))
        };
        match arg.as_str() {
            "--book" => {
                o.synthetic = match value()?.as_str() {
                    "demo" => false,
                    "synthetic" => true,
                    other => return Err(format!("--book {other:?}: demo or synthetic")),
                }
            }
            "--n" => o.n = number(value()?)?.max(1),
            "--slowest" => o.slowest = number(value()?)?,
            "--pool" => o.pool = number(value()?)?.max(1),
            "--warmup-secs" => o.warmup = Duration::from_secs(number(value()?)? as u64),
            "--path" => {
                o.path = match value()?.as_str() {
                    "into" => Path::Into,
                    "fresh" => Path::Fresh,
                    "exact" => Path::Exact,
                    other => return Err(format!("--path {other:?}: into, fresh or exact")),
                }
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(o)
}

fn main() -> ExitCode {
    let options = match parse_args() {
        Ok(o) => o,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("quote_percentiles: {message}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let (name, book, pool, dropped) = if options.synthetic {
        let spec = SyntheticSpec::default();
        let book = load(&synthetic_dir(&spec));
        let (pool, dropped) = requests(&book, &sample_parcels(&spec, options.pool, PARCEL_SEED));
        ("synthetic", book, pool, dropped)
    } else {
        let book = load(&demo_dir());
        let (pool, dropped) = requests(&book, &demo_sample_parcels(options.pool, PARCEL_SEED));
        ("demo", book, pool, dropped)
    };
    println!(
        "book {name} ({}): {} services, {} rows, {} rate rows; {} requests in rotation ({} declared values dropped: currency not in the book)",
        book.label(),
        book.services().len(),
        book.rows(),
        book.band_count(),
        pool.len(),
        dropped
    );

    // The workload: what one pass over the pool answers.
    let mut scratch = Scratch::default();
    let mut quote = Quote::new(pool[0].currency);
    let (mut options_total, mut excluded_total, mut lines_total, mut empty) =
        (0usize, 0usize, 0usize, 0usize);
    let mut reasons = [0usize; Reason::ALL.len()];
    for req in &pool {
        book.quote_into(req, &mut scratch, &mut quote)
            .expect("every sample parcel quotes");
        options_total += quote.options.len();
        excluded_total += quote.excluded.len();
        lines_total += quote.lines.len();
        empty += usize::from(quote.options.is_empty());
        for excluded in &quote.excluded {
            for reason in excluded.reasons.iter() {
                reasons[reason as usize] += 1;
            }
        }
    }
    let per = |total: usize| total as f64 / pool.len() as f64;
    println!(
        "per quote: {:.1} options ({:.1} cost lines), {:.1} excluded services explained; {} of {} requests have no option",
        per(options_total),
        per(lines_total),
        per(excluded_total),
        empty,
        pool.len()
    );
    let reasons: Vec<String> = Reason::ALL
        .iter()
        .zip(reasons)
        .filter(|(_, n)| *n > 0)
        .map(|(reason, n)| format!("{} {:.1}", reason.code(), per(n)))
        .collect();
    println!(
        "exclusion reasons per quote (a service may have several): {}",
        reasons.join(", ")
    );

    // Warm up the path that will be timed (caches, branch predictors, CPU frequency).
    let started = Instant::now();
    let mut warm = 0usize;
    while started.elapsed() < options.warmup {
        for req in &pool {
            quote_once(&book, options.path, req, &mut scratch, &mut quote);
        }
        warm += pool.len();
    }
    println!(
        "warm-up: {warm} quotes in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    allocations_per_quote(&book, &pool, &mut scratch, &mut quote);

    // Untimed throughput: one clock read around a fifth as many quotes.
    let untimed_n = (options.n / 5).max(pool.len()).min(options.n);
    let started = Instant::now();
    for i in 0..untimed_n {
        quote_once(
            &book,
            options.path,
            &pool[i % pool.len()],
            &mut scratch,
            &mut quote,
        );
    }
    let untimed = started.elapsed();

    // Timed one by one.
    let mut samples: Vec<u32> = Vec::with_capacity(options.n);
    let cpu_before = CpuTimes::now();
    let started = Instant::now();
    for i in 0..options.n {
        let req = &pool[i % pool.len()];
        let t0 = Instant::now();
        quote_once(&book, options.path, req, &mut scratch, &mut quote);
        let dt = t0.elapsed();
        samples.push(u32::try_from(dt.as_nanos()).unwrap_or(u32::MAX));
    }
    let timed = started.elapsed();
    let others = CpuTimes::others_cores(&cpu_before, &CpuTimes::now(), timed);
    samples.sort_unstable();

    let path = match options.path {
        Path::Into => "quote_into (reused buffers)",
        Path::Fresh => "quote (fresh answer)",
        Path::Exact => "quote_exact (exact decimals)",
    };
    let pct =
        |p: f64| samples[((samples.len() as f64 * p).ceil() as usize).clamp(1, samples.len()) - 1];
    println!("{path}, {} quotes timed one by one, ns:", samples.len());
    println!(
        "  min {}  p50 {}  p90 {}  p99 {}  p99.9 {}  max {}",
        samples[0],
        pct(0.50),
        pct(0.90),
        pct(0.99),
        pct(0.999),
        samples[samples.len() - 1]
    );
    let mean_ns = samples.iter().map(|&s| u64::from(s)).sum::<u64>() as f64 / samples.len() as f64;
    println!(
        "  mean {mean_ns:.0} ns; timer overhead (an Instant::now pair, min of 10 000) {} ns",
        timer_overhead_ns()
    );
    println!(
        "  rate: {:.0} quotes/s untimed ({untimed_n} quotes, {:.0} ns each), {:.0} quotes/s with the per-quote clock reads",
        untimed_n as f64 / untimed.as_secs_f64(),
        untimed.as_nanos() as f64 / untimed_n as f64,
        options.n as f64 / timed.as_secs_f64()
    );
    match others {
        Some(cores) => println!(
            "  other processes used {cores:.2} of {} cores during the timed run{}",
            std::thread::available_parallelism().map_or(0, |n| n.get()),
            if cores > 0.3 {
                ": CONTENDED, figures are pessimistic"
            } else {
                ""
            }
        ),
        None => println!("  (no /proc/stat: contention by other processes unknown)"),
    }
    if options.slowest > 0 {
        slowest(
            &book,
            options.path,
            &pool,
            options.slowest,
            &mut scratch,
            &mut quote,
        );
    }
    ExitCode::SUCCESS
}

#[inline]
fn quote_once(book: &Book, path: Path, req: &Request, scratch: &mut Scratch, quote: &mut Quote) {
    match path {
        Path::Into => {
            book.quote_into(black_box(req), scratch, quote)
                .expect("quotes");
            black_box(&*quote);
        }
        Path::Fresh => {
            black_box(book.quote(black_box(req)).expect("quotes"));
        }
        Path::Exact => {
            black_box(book.quote_exact(black_box(req)).expect("quotes"));
        }
    }
}

/// Allocation calls per quote over one pass of the pool, for both public fast paths.
fn allocations_per_quote(book: &Book, pool: &[Request], scratch: &mut Scratch, quote: &mut Quote) {
    // Reused buffers: one pass to grow them to the pool's largest answer, then count.
    for req in pool {
        book.quote_into(req, scratch, quote).expect("quotes");
    }
    let mut worst = 0;
    let before = allocations();
    for req in pool {
        let at = allocations();
        book.quote_into(black_box(req), scratch, quote)
            .expect("quotes");
        worst = worst.max(allocations() - at);
    }
    let into = allocations() - before;
    let before = allocations();
    for req in pool {
        black_box(book.quote(black_box(req)).expect("quotes"));
    }
    let fresh = allocations() - before;
    let per = |n: u64| n as f64 / pool.len() as f64;
    println!(
        "allocations per quote: quote_into (reused buffers) {:.2} (worst {worst}), quote (fresh answer) {:.2}",
        per(into),
        per(fresh)
    );
}

/// Prints the `k` requests of the pool whose best of five quotes is slowest.
fn slowest(
    book: &Book,
    path: Path,
    pool: &[Request],
    k: usize,
    scratch: &mut Scratch,
    quote: &mut Quote,
) {
    let mut times: Vec<(u128, usize)> = pool
        .iter()
        .enumerate()
        .map(|(i, req)| {
            let best = (0..5)
                .map(|_| {
                    let t0 = Instant::now();
                    quote_once(book, path, req, scratch, quote);
                    t0.elapsed().as_nanos()
                })
                .min()
                .unwrap_or(0);
            (best, i)
        })
        .collect();
    times.sort_unstable_by(|a, b| b.cmp(a));
    println!("slowest requests (best of 5, ns):");
    for &(ns, i) in times.iter().take(k) {
        let req = &pool[i];
        book.quote_into(req, scratch, quote).expect("quotes");
        println!(
            "  {ns:>9}  #{i} {}→{} {:?} {} g dims {:?} value {:?} battery {:?} goods {:?}: {} options, {} excluded",
            req.origin_country,
            req.dest_country,
            req.dest_postcode.as_ref().map(|p| p.as_str()),
            req.weight_g,
            req.dims_mm,
            req.declared_value
                .as_ref()
                .map(|v| format!("{} {}", v.amount, v.currency)),
            req.battery,
            req.goods,
            quote.options.len(),
            quote.excluded.len()
        );
    }
}

/// CPU time of the whole machine and of this process, from `/proc`, in clock ticks.
struct CpuTimes {
    machine_busy: u64,
    own: u64,
}

impl CpuTimes {
    fn now() -> Option<CpuTimes> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        // cpu  user nice system idle iowait irq softirq steal …
        let fields: Vec<u64> = stat
            .lines()
            .next()?
            .split_whitespace()
            .skip(1)
            .filter_map(|f| f.parse().ok())
            .collect();
        let machine_busy = fields
            .iter()
            .take(8)
            .enumerate()
            .filter(|(i, _)| *i != 3 && *i != 4)
            .map(|(_, v)| v)
            .sum();
        let own_stat = std::fs::read_to_string("/proc/self/stat").ok()?;
        // After the parenthesised command name come fields 3 (state) onwards; utime and stime
        // are fields 14 and 15.
        let after_name: Vec<&str> = own_stat.rsplit_once(')')?.1.split_whitespace().collect();
        let own =
            after_name.get(11)?.parse::<u64>().ok()? + after_name.get(12)?.parse::<u64>().ok()?;
        Some(CpuTimes { machine_busy, own })
    }

    /// Cores' worth of CPU that other processes used between `before` and `now`.
    fn others_cores(
        before: &Option<CpuTimes>,
        now: &Option<CpuTimes>,
        elapsed: Duration,
    ) -> Option<f64> {
        let (now, before) = (now.as_ref()?, before.as_ref()?);
        /// `USER_HZ`: 100 on every Linux architecture crossdock runs on.
        const TICKS_PER_SECOND: f64 = 100.0;
        let others = (now.machine_busy - before.machine_busy).saturating_sub(now.own - before.own);
        Some(others as f64 / TICKS_PER_SECOND / elapsed.as_secs_f64())
    }
}

/// The smallest cost of the clock reads that wrap every timed quote.
fn timer_overhead_ns() -> u128 {
    (0..10_000)
        .map(|_| {
            let t0 = Instant::now();
            black_box(t0.elapsed()).as_nanos()
        })
        .min()
        .unwrap_or(0)
}
