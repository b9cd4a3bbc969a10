//! The event relay: how long an event takes from its commit to a consumer in another
//! process, and how many events per second a backend writes and delivers.
//!
//! ```text
//! relay_bench latency    --postgres URL [--events 2000] [--rate 200] [--warmup 50]
//! relay_bench throughput --backend sqlite|postgres [--postgres URL] --consumer local|durable
//!                        [--events 10000] [--per-tx 1] [--writers 1]
//! ```
//!
//! Both modes go through the components' path: `crossdock_events::emit` of a catalogue-style
//! event in `Db::write`, a `Relay` with the default options (poll 1 s), and on PostgreSQL
//! `Db::listen` (LISTEN/NOTIFY wakes the relay), as `crossdock serve` sets them up.
//!
//! **latency** (PostgreSQL only; two processes): this process creates a fresh schema,
//! starts itself again as a consumer (`consume`, a relay with one local handler), waits for
//! it to be ready, then emits `--warmup` unmeasured events and `--events` measured ones at
//! `--rate` per second, one per transaction. Each payload carries the wall-clock time (ns)
//! read inside the emitting transaction, just before its insert; the consumer's handler
//! records `now − emitted`. So a latency is the rest of the emitting transaction (insert,
//! notify, commit), the notification, the relay's read and the hand-over. Both processes
//! read the same clock (`CLOCK_REALTIME` of one machine).
//!
//! **throughput** (one process): `--writers` tasks write `--events` events, `--per-tx` per
//! transaction, as fast as they can, while a relay delivers them to one consumer: `local`
//! (counts in memory) or `durable` (inserts one row per event in the transaction that
//! advances its cursor). The clock runs from the first write to the moment every event has
//! been applied (for `durable`: the rows are counted in the database); events/s is
//! `--events` over that time. SQLite goes to a fresh file under the temporary directory
//! (`synchronous=FULL`, so every commit is on disk); PostgreSQL to a fresh schema. Both are
//! removed at the end.
//!
//! Limits: at most [`EVENTS_MAX`] events, [`RATE_MAX`] per second, and every wait for
//! delivery ends after [`DELIVERY_WAIT_MAX`].

use crossdock_db::outbox::{Handler, LocalHandler, Relay, RelayOptions, Subscription};
use crossdock_db::{Db, DbError, DbOptions};
use crossdock_events::Event;
use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::Notify;

/// The most events one run writes.
const EVENTS_MAX: u64 = 1_000_000;
/// The highest paced emit rate, per second.
const RATE_MAX: u64 = 10_000;
/// How long a run waits for its events to be delivered before giving up.
const DELIVERY_WAIT_MAX: Duration = Duration::from_secs(300);
/// How long the consumer process waits after starting its relay and listener before it
/// says it is ready: the listener thread connects and `LISTEN`s on its own.
const CONSUMER_SETTLE: Duration = Duration::from_secs(1);
/// How often a durable run counts the applied rows once the handler has seen every event.
const COUNT_POLL: Duration = Duration::from_millis(2);

/// The benchmark's event: a catalogue-style type, serialised as components do.
#[derive(Serialize, Deserialize, Debug)]
struct BenchTick {
    n: u64,
    emitted_unix_ns: u64,
    warmup: bool,
}

impl Event for BenchTick {
    const TOPIC: &'static str = "bench.tick";
    const VERSION: i64 = 1;
    const PRODUCER: &'static str = "bench";
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Consumer {
    Local,
    Durable,
}

#[derive(Debug)]
enum Mode {
    Latency {
        postgres: String,
        events: u64,
        rate: u64,
        warmup: u64,
    },
    Consume {
        url: String,
        expected: u64,
    },
    Throughput {
        postgres: Option<String>,
        consumer: Consumer,
        events: u64,
        per_tx: u64,
        writers: u64,
    },
}

const USAGE: &str = "usage:
  relay_bench latency --postgres URL [--events 2000] [--rate 200] [--warmup 50]
  relay_bench throughput --backend sqlite|postgres [--postgres URL] --consumer local|durable [--events 10000] [--per-tx 1] [--writers 1]";

fn main() -> ExitCode {
    let mode = match parse_args() {
        Ok(mode) => mode,
        Err(e) => {
            eprintln!("relay_bench: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("relay_bench: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(async {
        match mode {
            Mode::Latency {
                postgres,
                events,
                rate,
                warmup,
            } => latency(&postgres, events, rate, warmup).await,
            Mode::Consume { url, expected } => consume(&url, expected).await,
            Mode::Throughput {
                postgres,
                consumer,
                events,
                per_tx,
                writers,
            } => throughput(postgres.as_deref(), consumer, events, per_tx, writers).await,
        }
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("relay_bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn parse_args() -> Result<Mode, String> {
    let mut args = std::env::args().skip(1);
    let mode = args.next().ok_or("no mode")?;
    let (mut postgres, mut url, mut backend, mut consumer) = (None, None, None, None);
    let (mut events, mut rate, mut warmup, mut per_tx, mut writers) = (None, 200, 50, 1, 1);
    while let Some(arg) = args.next() {
        let value = args.next().ok_or_else(|| format!("{arg} needs a value"))?;
        let number = || {
            value
                .parse::<u64>()
                .map_err(|_| format!("{arg}: {value:?} is not a number"))
        };
        match arg.as_str() {
            "--postgres" => postgres = Some(value),
            "--url" => url = Some(value),
            "--backend" => backend = Some(value),
            "--consumer" => consumer = Some(value),
            "--events" => events = Some(number()?),
            "--rate" => rate = number()?,
            "--warmup" => warmup = number()?,
            "--per-tx" => per_tx = number()?,
            "--writers" => writers = number()?,
            _ => return Err(format!("unknown argument {arg}")),
        }
    }
    let check = |what: &str, v: u64, max: u64| {
        if (1..=max).contains(&v) {
            Ok(v)
        } else {
            Err(format!("{what} must be 1..={max}, not {v}"))
        }
    };
    match mode.as_str() {
        "latency" => Ok(Mode::Latency {
            postgres: postgres.ok_or("latency needs --postgres URL")?,
            events: check("--events", events.unwrap_or(2000), EVENTS_MAX)?,
            rate: check("--rate", rate, RATE_MAX)?,
            warmup: check("--warmup", warmup, EVENTS_MAX)?,
        }),
        "consume" => Ok(Mode::Consume {
            url: url.ok_or("consume needs --url")?,
            expected: check(
                "--events",
                events.ok_or("consume needs --events")?,
                2 * EVENTS_MAX,
            )?,
        }),
        "throughput" => {
            let postgres = match backend.as_deref() {
                Some("sqlite") => None,
                Some("postgres") => {
                    Some(postgres.ok_or("--backend postgres needs --postgres URL")?)
                }
                _ => return Err("--backend sqlite|postgres".into()),
            };
            let consumer = match consumer.as_deref() {
                Some("local") => Consumer::Local,
                Some("durable") => Consumer::Durable,
                _ => return Err("--consumer local|durable".into()),
            };
            let events = check("--events", events.unwrap_or(10_000), EVENTS_MAX)?;
            let per_tx = check("--per-tx", per_tx, 10_000)?;
            if events % per_tx != 0 {
                return Err(format!(
                    "--events {events} is not a multiple of --per-tx {per_tx}"
                ));
            }
            let writers = check("--writers", writers, 64)?;
            Ok(Mode::Throughput {
                postgres,
                consumer,
                events,
                per_tx,
                writers,
            })
        }
        _ => Err(format!("unknown mode {mode:?}")),
    }
}

fn unix_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// Writes `count` events in one transaction, numbered from `first`.
async fn emit_tx(db: &Db, first: u64, count: u64, warmup: bool) -> Result<(), DbError> {
    db.write(move |tx| {
        for n in first..first + count {
            let emitted_unix_ns = unix_ns();
            let at = i64::try_from(emitted_unix_ns / 1_000_000_000).unwrap_or(i64::MAX);
            crossdock_events::emit(
                tx,
                0,
                at,
                &BenchTick {
                    n,
                    emitted_unix_ns,
                    warmup,
                },
            )?;
        }
        Ok::<_, DbError>(())
    })
    .await
}

// ── PostgreSQL schemas ────────────────────────────────────────────────────────────────

/// A fresh schema on the server at `base`; (its name, a URL whose connections use it).
async fn create_schema(base: &str) -> Result<(String, String), String> {
    let schema = format!(
        "relay_bench_{}_{}",
        std::process::id(),
        unix_ns() / 1_000_000
    );
    let admin = Db::open(
        base,
        Path::new("."),
        &DbOptions {
            postgres_connections: 1,
            ..DbOptions::default()
        },
    )
    .await
    .map_err(|e| e.to_string())?;
    let sql = format!("CREATE SCHEMA {schema}");
    admin
        .write(move |tx| tx.batch(&sql))
        .await
        .map_err(|e: DbError| e.to_string())?;
    admin.close().await;
    let separator = if base.contains('?') { '&' } else { '?' };
    Ok((
        schema.clone(),
        format!("{base}{separator}options=-csearch_path%3D{schema}"),
    ))
}

async fn drop_schema(base: &str, schema: &str) {
    let dropped = async {
        let admin = Db::open(
            base,
            Path::new("."),
            &DbOptions {
                postgres_connections: 1,
                ..DbOptions::default()
            },
        )
        .await?;
        let sql = format!("DROP SCHEMA {schema} CASCADE");
        admin.write(move |tx| tx.batch(&sql)).await?;
        admin.close().await;
        Ok::<_, DbError>(())
    };
    if let Err(e) = dropped.await {
        eprintln!("relay_bench: could not drop schema {schema}: {e}");
    }
}

// ── latency across processes ──────────────────────────────────────────────────────────

async fn latency(base: &str, events: u64, rate: u64, warmup: u64) -> Result<(), String> {
    let (schema, url) = create_schema(base).await?;
    let outcome = latency_in(&url, events, rate, warmup).await;
    drop_schema(base, &schema).await;
    outcome
}

async fn latency_in(url: &str, events: u64, rate: u64, warmup: u64) -> Result<(), String> {
    let db = Db::open(url, Path::new("."), &DbOptions::default())
        .await
        .map_err(|e| e.to_string())?;
    db.migrate(&[]).await.map_err(|e| e.to_string())?;

    let exe = std::env::current_exe().map_err(|e| format!("cannot find this binary: {e}"))?;
    let mut child = Command::new(exe)
        .args([
            "consume",
            "--url",
            url,
            "--events",
            &(warmup + events).to_string(),
        ])
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start the consumer: {e}"))?;
    let stdout = child.stdout.take().ok_or("the consumer has no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    match lines.next() {
        Some(Ok(line)) if line == "ready" => {}
        other => {
            let _ = child.kill();
            return Err(format!("the consumer did not start: {other:?}"));
        }
    }

    println!(
        "emitting {warmup} warm-up + {events} measured events at {rate}/s, one per transaction"
    );
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let start = tokio::time::Instant::now();
    let mut write_us = Vec::with_capacity(usize::try_from(events).unwrap_or(0));
    let mut behind = 0u64;
    for n in 0..warmup + events {
        let due = start + interval * u32::try_from(n).unwrap_or(u32::MAX);
        if tokio::time::Instant::now() > due + interval {
            behind += 1;
        }
        tokio::time::sleep_until(due).await;
        let began = Instant::now();
        emit_tx(&db, n, 1, n < warmup)
            .await
            .map_err(|e| e.to_string())?;
        if n >= warmup {
            write_us.push(u64::try_from(began.elapsed().as_micros()).unwrap_or(u64::MAX));
        }
    }
    println!(
        "emitter    {} events in {:.3} s; Db::write call→return: {} ({behind} writes started over one interval late)",
        warmup + events,
        start.elapsed().as_secs_f64(),
        summary_us(&mut write_us)
    );
    db.close().await;

    // The consumer prints its figures and exits once it has every event (or gives up).
    let report = tokio::task::spawn_blocking(move || {
        let printed: Vec<String> = lines.map_while(Result::ok).collect();
        (printed, child.wait())
    })
    .await
    .map_err(|e| e.to_string())?;
    for line in &report.0 {
        println!("{line}");
    }
    match report.1 {
        Ok(status) if status.success() => Ok(()),
        other => Err(format!("the consumer failed: {other:?}")),
    }
}

/// The consumer process: a relay with one local handler recording `now − emitted`.
async fn consume(url: &str, expected: u64) -> Result<(), String> {
    let db = Db::open(url, Path::new("."), &DbOptions::default())
        .await
        .map_err(|e| e.to_string())?;
    db.listen().map_err(|e| e.to_string())?;
    let latencies_ns = Arc::new(Mutex::new(Vec::<u64>::with_capacity(
        usize::try_from(expected).unwrap_or(0),
    )));
    let seen = Arc::new(AtomicU64::new(0));
    let done = Arc::new(Notify::new());
    let handler = {
        let (latencies_ns, seen, done) = (latencies_ns.clone(), seen.clone(), done.clone());
        let record: LocalHandler = Arc::new(move |message| {
            let now = unix_ns();
            let (latencies_ns, seen, done) = (latencies_ns.clone(), seen.clone(), done.clone());
            Box::pin(async move {
                if let Some(tick) = crossdock_events::decode::<BenchTick>(&message) {
                    if !tick.warmup {
                        latencies_ns
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .push(now.saturating_sub(tick.emitted_unix_ns));
                    }
                    if seen.fetch_add(1, Ordering::SeqCst) + 1 == expected {
                        done.notify_one();
                    }
                }
            })
        });
        Handler::Local(record)
    };
    let mut relay = Relay::new(db.clone(), RelayOptions::default())
        .await
        .map_err(|e| e.to_string())?;
    relay.subscribe(Subscription {
        consumer: "bench-local".into(),
        topics: vec![BenchTick::TOPIC.into()],
        handler,
    });
    let relay = relay.spawn();
    tokio::time::sleep(CONSUMER_SETTLE).await;
    println!("ready");
    std::io::stdout().flush().map_err(|e| e.to_string())?;

    let all = tokio::time::timeout(DELIVERY_WAIT_MAX, done.notified())
        .await
        .is_ok();
    relay.stop().await;
    db.close().await;
    let latencies = std::mem::take(
        &mut *latencies_ns
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    );
    println!(
        "consumer   {} of {expected} events delivered (warm-up included){}",
        seen.load(Ordering::SeqCst),
        if all { "" } else { " — gave up waiting" }
    );
    let mut us: Vec<u64> = latencies.into_iter().map(|ns| ns / 1_000).collect();
    println!(
        "latency    emit → applied in the other process, {} measured events: {}",
        us.len(),
        summary_us(&mut us)
    );
    if all {
        Ok(())
    } else {
        Err("not every event was delivered".into())
    }
}

/// `p50 … max` of microsecond samples (sorted in place).
fn summary_us(samples: &mut [u64]) -> String {
    if samples.is_empty() {
        return "no samples".into();
    }
    samples.sort_unstable();
    let at = |q: f64| {
        let rank = ((q * samples.len() as f64).ceil() as usize).clamp(1, samples.len());
        samples[rank - 1] as f64 / 1_000.0
    };
    format!(
        "min {:.3} · p50 {:.3} · p90 {:.3} · p99 {:.3} · max {:.3} ms",
        samples[0] as f64 / 1_000.0,
        at(0.50),
        at(0.90),
        at(0.99),
        at(1.0)
    )
}

// ── throughput in one process ─────────────────────────────────────────────────────────

async fn throughput(
    postgres: Option<&str>,
    consumer: Consumer,
    events: u64,
    per_tx: u64,
    writers: u64,
) -> Result<(), String> {
    match postgres {
        Some(base) => {
            let (schema, url) = create_schema(base).await?;
            let outcome =
                throughput_in(&url, Path::new("."), consumer, events, per_tx, writers).await;
            drop_schema(base, &schema).await;
            outcome
        }
        None => {
            let dir: PathBuf =
                std::env::temp_dir().join(format!("relay-bench-{}", std::process::id()));
            std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            let outcome = throughput_in("", &dir, consumer, events, per_tx, writers).await;
            let _ = std::fs::remove_dir_all(&dir);
            outcome
        }
    }
}

async fn throughput_in(
    location: &str,
    data_dir: &Path,
    consumer: Consumer,
    events: u64,
    per_tx: u64,
    writers: u64,
) -> Result<(), String> {
    let db = Db::open(location, data_dir, &DbOptions::default())
        .await
        .map_err(|e| e.to_string())?;
    db.migrate(&[]).await.map_err(|e| e.to_string())?;
    db.listen().map_err(|e| e.to_string())?;
    if consumer == Consumer::Durable {
        db.write(|tx| {
            tx.batch("CREATE TABLE bench_applied (seq BIGINT PRIMARY KEY, n BIGINT NOT NULL, applied_unix_ns BIGINT NOT NULL)")
        })
        .await
        .map_err(|e: DbError| e.to_string())?;
    }

    let seen = Arc::new(AtomicU64::new(0));
    let done = Arc::new(Notify::new());
    let handler = match consumer {
        Consumer::Local => {
            let (seen, done) = (seen.clone(), done.clone());
            let count: LocalHandler = Arc::new(move |message| {
                let (seen, done) = (seen.clone(), done.clone());
                Box::pin(async move {
                    if crossdock_events::decode::<BenchTick>(&message).is_some()
                        && seen.fetch_add(1, Ordering::SeqCst) + 1 == events
                    {
                        done.notify_one();
                    }
                })
            });
            Handler::Local(count)
        }
        Consumer::Durable => {
            let (seen, done) = (seen.clone(), done.clone());
            Handler::Durable(Arc::new(move |tx, message| {
                let Some(tick) = crossdock_events::decode::<BenchTick>(message) else {
                    return Ok(());
                };
                let n = i64::try_from(tick.n).unwrap_or(i64::MAX);
                let now = i64::try_from(unix_ns()).unwrap_or(i64::MAX);
                tx.execute(
                    "INSERT INTO bench_applied (seq, n, applied_unix_ns) VALUES ($1, $2, $3)",
                    &[&message.position.seq, &n, &now],
                )?;
                // Counted before the commit; the end is confirmed by counting rows.
                if seen.fetch_add(1, Ordering::SeqCst) + 1 == events {
                    done.notify_one();
                }
                Ok(())
            }))
        }
    };
    let mut relay = Relay::new(db.clone(), RelayOptions::default())
        .await
        .map_err(|e| e.to_string())?;
    relay.subscribe(Subscription {
        consumer: "bench".into(),
        topics: vec![BenchTick::TOPIC.into()],
        handler,
    });
    let relay = relay.spawn();

    let transactions = events / per_tx;
    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..writers {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            let mut t = w;
            while t < transactions {
                emit_tx(&db, t * per_tx, per_tx, false).await?;
                t += writers;
            }
            Ok::<_, DbError>(())
        }));
    }
    for task in tasks {
        task.await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
    }
    let written = start.elapsed();

    let deadline = tokio::time::Instant::now() + DELIVERY_WAIT_MAX;
    let all = tokio::time::timeout_at(deadline, done.notified())
        .await
        .is_ok();
    let mut applied_rows = None;
    if all && consumer == Consumer::Durable {
        while tokio::time::Instant::now() < deadline {
            let rows: i64 = db
                .read(|tx| {
                    tx.query_one("SELECT count(*) FROM bench_applied", &[])?
                        .get(0)
                })
                .await
                .map_err(|e: DbError| e.to_string())?;
            if u64::try_from(rows).ok() == Some(events) {
                applied_rows = Some(rows);
                break;
            }
            tokio::time::sleep(COUNT_POLL).await;
        }
    }
    let delivered = start.elapsed();
    relay.stop().await;
    db.close().await;

    let backend = if location.is_empty() {
        "sqlite"
    } else {
        "postgres"
    };
    let rate = |d: Duration| events as f64 / d.as_secs_f64();
    println!(
        "{backend} {consumer:?} consumer: {events} events, {per_tx} per transaction, {writers} writer(s): \
         written in {:.3} s ({:.0} events/s); all applied after {:.3} s: {:.0} events/s emitted-and-delivered{}",
        written.as_secs_f64(),
        rate(written),
        delivered.as_secs_f64(),
        rate(delivered),
        match applied_rows {
            Some(rows) => format!(" ({rows} rows counted)"),
            None => String::new(),
        }
    );
    let complete = all && (consumer == Consumer::Local || applied_rows.is_some());
    if complete {
        Ok(())
    } else {
        Err(format!(
            "only {} of {events} events were applied in time",
            seen.load(Ordering::SeqCst)
        ))
    }
}
