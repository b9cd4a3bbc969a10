//! The tracking component's ingest, report and webhook figures (issue 9, "Performance").
//!
//! ```text
//! tracking_bench ingest   --backend sqlite|postgres [--events 1000000] [--parcels 100000] [--batch 1000]
//! tracking_bench webhooks [--events 20000] [--batch 100] [--rate 0]
//! ```
//!
//! **ingest**: a fresh database (SQLite file under the temporary directory, or a fresh
//! PostgreSQL schema from `CROSSDOCK_TEST_POSTGRES`/the local server), `--parcels` parcels
//! registered as `shipment.created` would register them, then a replay of `--events` events
//! — 90 % distinct (poll events of random sub-statuses and times, several per parcel) and
//! 10 % duplicates — in shuffled order, `--batch` per transaction, through
//! `ingest::ingest` (identity, match, insert, fold into the status, emit
//! `tracking.updated`), on the background writer when a batch is as large as the server
//! would treat as bulk (`BULK_EVENTS_MIN`). Events per second is the replay's count over its
//! wall time. Then
//! every parcel's final status is checked against the contract's function of its distinct
//! event set (the sorted replay's answer), and the delivery performance report over the
//! whole replay is timed.
//!
//! **webhooks**: SQLite, a loopback receiver, one endpoint; `--events` status changes are
//! ingested in batches; the relay fans them out and the worker delivers them. Deliveries
//! per second is events over the time from the first ingest to the last delivery; latency
//! is each event's delivery time minus its batch's commit. `--rate` paces the ingest (events
//! per second) for the latency at a steady load; without it the ingest outruns delivery and
//! the latency is mostly queueing.

use crossdock_db::outbox::{Relay, RelayOptions};
use crossdock_db::{Db, DbOptions, Tx};
use crossdock_events::ShipmentChange;
use crossdock_tracking::formats::{Incoming, Parsed};
use crossdock_tracking::ingest::{self, Origin, Outcome};
use crossdock_tracking::model::{Decider, SUB_STATUSES, Source, Status, derive, parse_time};
use crossdock_tracking::report::{Date, Key};
use crossdock_tracking::{MIGRATIONS, register, store};
use serde_json::json;
use std::collections::HashMap;
use std::time::{Duration, Instant};

const TENANT: i64 = 1;

/// The server's allocator (`crossdock serve` runs on mimalloc), so the figures are the
/// server's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn arg(args: &[String], name: &str, default: &str) -> String {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_else(|| default.to_owned())
}

fn shipment(i: usize) -> ShipmentChange {
    let lanes = [("CN", "DE"), ("CN", "FR"), ("CN", "US"), ("HK", "GB")];
    let (from, to) = lanes[i % lanes.len()];
    let carrier = ["XB Line", "Post NL", "DHL"][i % 3];
    ShipmentChange {
        event_id: format!("evt_b{i}"),
        customer: "acme".into(),
        shipment: json!({"id": format!("shp_{i:08}"), "tracking_number": format!("CD{i:011}"),
            "carrier": carrier, "service": "XB-EU-TRK", "status": "labelled",
            "transit_days": {"min": 5, "max": 8}, "shipper": {"country": from}, "recipient": {"country": to},
            "segments": [{"seq": 1, "tracking_number": format!("CD{i:011}")}]}),
        seq: None,
        previous: None,
    }
}

async fn open(
    backend: &str,
) -> (
    Db,
    Option<crossdock_db::testing::PgSchema>,
    Option<tempfile::TempDir>,
) {
    match backend {
        "postgres" => {
            let schema = crossdock_db::testing::PgSchema::create().expect("PostgreSQL");
            let db = Db::open(&schema.url(), &std::env::temp_dir(), &DbOptions::default())
                .await
                .expect("opens");
            (db, Some(schema), None)
        }
        _ => {
            let dir = tempfile::tempdir().expect("a temporary directory");
            let db = Db::open("", dir.path(), &DbOptions::default())
                .await
                .expect("opens");
            (db, None, Some(dir))
        }
    }
}

fn events_for(parcels: usize, distinct: usize, rng: &mut Rng) -> Vec<Incoming> {
    let mut out = Vec::with_capacity(distinct);
    let base = parse_time("2026-11-02T00:00:00Z").unwrap().instant_ms;
    for k in 0..distinct {
        let p = k % parcels;
        let sub = SUB_STATUSES[rng.below(SUB_STATUSES.len() as u64) as usize];
        let ms = base + (k / parcels) as i64 * 7_200_000 + rng.below(86_400) as i64 * 1000;
        let offset = [0i32, 8 * 3600, -5 * 3600][rng.below(3) as usize];
        let at = crossdock_tracking::model::EventTime {
            instant_ms: ms,
            offset_s: offset,
        };
        out.push(Incoming {
            source: Source::Poll,
            identity: format!("ev{k}"),
            tracking_number: format!("CD{p:011}"),
            time: String::new(),
            at,
            code: sub.sub_status.to_owned(),
            description: Some("bench".into()),
            mapped: Some(sub),
            country: Some("DE".into()),
            city: Some("Leipzig".into()),
            facility: None,
            weight_g: None,
            bag: None,
            raw_tag: None,
        });
    }
    // Times as a source gives them: RFC 3339 with the event's offset.
    for e in &mut out {
        let local = e.at.instant_ms + i64::from(e.at.offset_s) * 1000;
        let text = crossdock_tracking::model::utc_text(local);
        let off = match e.at.offset_s {
            0 => "Z".to_owned(),
            s => format!("{}{:02}:00", if s < 0 { '-' } else { '+' }, s.abs() / 3600),
        };
        e.time = format!("{}{off}", text.trim_end_matches('Z'));
    }
    out
}

async fn ingest_bench(args: &[String]) {
    let backend = arg(args, "--backend", "sqlite");
    let events: usize = arg(args, "--events", "1000000").parse().unwrap();
    let parcels: usize = arg(args, "--parcels", "100000").parse().unwrap();
    let batch: usize = arg(args, "--batch", "1000").parse().unwrap();
    // As the server does: a body this large is bulk work (the background writer on SQLite).
    let bulk = batch >= crossdock_tracking::BULK_EVENTS_MIN;
    let (db, _schema, _dir) = open(&backend).await;
    db.migrate(&[&MIGRATIONS]).await.expect("migrates");
    let t = Instant::now();
    for chunk in (0..parcels).collect::<Vec<_>>().chunks(1000) {
        let chunk = chunk.to_vec();
        db.write(move |tx: &mut Tx<'_>| {
            for i in chunk {
                register(tx, TENANT, &shipment(i), 1_795_000_000_000)?;
            }
            Ok::<_, crossdock_db::DbError>(())
        })
        .await
        .unwrap();
    }
    eprintln!(
        "registered {parcels} parcels in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let mut rng = Rng(0x7ac4_1234_5678_9abd);
    let distinct = events - events / 10;
    let set = events_for(parcels, distinct, &mut rng);
    let mut arrivals: Vec<Incoming> = set.clone();
    for _ in 0..events - distinct {
        arrivals.push(set[rng.below(set.len() as u64) as usize].clone());
    }
    for i in (1..arrivals.len()).rev() {
        arrivals.swap(i, rng.below(i as u64 + 1) as usize);
    }
    let origin = Origin {
        tenant: TENANT,
        source: Source::Poll,
        connection: Some("ccn_bench".into()),
        carrier: Some("bench".into()),
    };
    let t = Instant::now();
    let (mut created, mut duplicate) = (0usize, 0usize);
    let mut batch_ms = Vec::new();
    for chunk in arrivals.chunks(batch) {
        let items: Vec<Parsed> = chunk.iter().cloned().map(Parsed::Event).collect();
        let ids: Vec<String> = (0..items.len())
            .map(|_| crossdock_http::new_id("evt").unwrap())
            .collect();
        let origin = origin.clone();
        let b = Instant::now();
        let script =
            move |tx: &mut Tx<'_>| ingest::ingest(tx, &origin, &items, &ids, 1_796_000_000_000);
        let out = if bulk {
            db.write_bulk(script).await.unwrap()
        } else {
            db.write(script).await.unwrap()
        };
        batch_ms.push(b.elapsed().as_secs_f64() * 1000.0);
        for o in out {
            match o {
                Outcome::Created(_) => created += 1,
                Outcome::Duplicate(_) => duplicate += 1,
                other => panic!("{other:?}"),
            }
        }
    }
    let secs = t.elapsed().as_secs_f64();
    batch_ms.sort_by(|a, b| a.total_cmp(b));
    println!(
        "ingest {backend}: {events} events ({created} created, {duplicate} duplicate) in {secs:.2} s = {:.0} events/s; batch of {batch}: p50 {:.1} ms, p99 {:.1} ms",
        events as f64 / secs,
        batch_ms[batch_ms.len() / 2],
        batch_ms[batch_ms.len() * 99 / 100]
    );
    // The sorted replay's answer: the contract's function of each parcel's distinct set.
    let mut sets: HashMap<String, Vec<Decider>> = HashMap::new();
    for e in &set {
        let m = e.mapped.unwrap();
        sets.entry(e.tracking_number.clone())
            .or_default()
            .push(Decider {
                instant_ms: e.at.instant_ms,
                status: m.status,
                sub_status: m.sub_status.to_owned(),
                identity: String::new(),
            });
    }
    let mut wrong = 0;
    for i in 0..parcels {
        let id = format!("shp_{i:08}");
        let row = db
            .read(move |tx| store::parcel(tx, &id))
            .await
            .unwrap()
            .unwrap();
        let want = derive(
            sets.get(&format!("CD{i:011}"))
                .map_or(&[][..], Vec::as_slice),
        );
        if (
            Status::parse(&row.status),
            row.sub_status.as_str(),
            row.status_ms,
        ) != (
            Some(want.status),
            want.sub_status.as_str(),
            want.status_time_ms,
        ) {
            wrong += 1;
        }
    }
    println!(
        "final statuses equal to the sorted replay's: {} of {parcels}",
        parcels - wrong
    );
    assert_eq!(wrong, 0);
    let t = Instant::now();
    let rows = db
        .read(|tx| {
            crossdock_tracking::performance_rows(
                tx,
                TENANT,
                None,
                Date::parse("2026-11-01").unwrap(),
                Date::parse("2026-12-31").unwrap(),
                vec![Key::Carrier, Key::Service, Key::Lane, Key::Week],
            )
        })
        .await
        .unwrap();
    println!(
        "performance report over the replay ({} rows): {:.2} s",
        rows.len(),
        t.elapsed().as_secs_f64()
    );
    db.close().await;
}

async fn webhooks_bench(args: &[String]) {
    use axum::Router;
    use std::sync::{Arc, Mutex};
    let events: usize = arg(args, "--events", "20000").parse().unwrap();
    let batch: usize = arg(args, "--batch", "100").parse().unwrap();
    // Events per second to ingest at (0: as fast as possible), for latency at a steady rate.
    let rate: f64 = arg(args, "--rate", "0").parse().unwrap();
    let (db, _schema, _dir) = open("sqlite").await;
    db.migrate(&[&MIGRATIONS]).await.expect("migrates");
    let arrivals: Arc<Mutex<Vec<(String, Instant)>>> = Arc::default();
    let a2 = arrivals.clone();
    let app = Router::new().fallback(move |body: String| {
        let a = a2.clone();
        async move {
            let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
            a.lock().unwrap().push((
                v["data"]["tracking_number"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned(),
                Instant::now(),
            ));
            "ok"
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    let config = crossdock_tracking::TrackingConfig {
        allow_cidrs: vec![crossdock_tracking::address::Cidr::parse("127.0.0.0/8").unwrap()],
        ..Default::default()
    };
    struct Clock;
    impl crossdock_http::Clock for Clock {
        fn now_unix(&self) -> i64 {
            crossdock_db::unix_now_s()
        }
    }
    let tracking = Arc::new(crossdock_tracking::Tracking::new(
        db.clone(),
        Arc::new(Clock),
        config,
    ));
    let mut relay = Relay::new(
        db.clone(),
        RelayOptions {
            poll: Duration::from_millis(100),
            ..RelayOptions::default()
        },
    )
    .await
    .unwrap();
    for s in tracking.component().subscriptions {
        relay.subscribe(s);
    }
    let _relay = relay.spawn();
    let _jobs = tracking.spawn_jobs();
    let url = format!("http://{addr}/hooks");
    let created = crossdock_db::unix_now_ms() - 1000;
    db.write(move |tx| {
        tx.execute(
            "INSERT INTO tracking_webhooks (id, tenant_id, customer, url, events, status, secret, created_ms, updated_at) \
             VALUES ('whk_bench', $1, NULL, $2, 'tracking.updated', 'enabled', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', $3, 0)",
            &[&TENANT, &url, &created],
        )
    })
    .await
    .unwrap();
    for chunk in (0..events).collect::<Vec<_>>().chunks(1000) {
        let chunk = chunk.to_vec();
        db.write(move |tx: &mut Tx<'_>| {
            for i in chunk {
                register(tx, TENANT, &shipment(i), 1_795_000_000_000)?;
            }
            Ok::<_, crossdock_db::DbError>(())
        })
        .await
        .unwrap();
    }
    let origin = Origin {
        tenant: TENANT,
        source: Source::Hub,
        connection: None,
        carrier: None,
    };
    let mut committed: HashMap<String, Instant> = HashMap::new();
    let start = Instant::now();
    for (k, chunk) in (0..events).collect::<Vec<_>>().chunks(batch).enumerate() {
        if rate > 0.0 {
            let due = start + Duration::from_secs_f64((k * batch) as f64 / rate);
            tokio::time::sleep_until(due.into()).await;
        }
        let items: Vec<Parsed> = chunk
            .iter()
            .map(|i| {
                let body = json!({"scans": [{"scan_id": format!("s{i}"), "tracking_number": format!("CD{i:011}"), "type": "scan", "time": "2026-11-24T16:15:00+08:00"}]});
                crossdock_tracking::formats::hub_scans(body.to_string().as_bytes()).unwrap().remove(0)
            })
            .collect();
        let ids: Vec<String> = (0..items.len())
            .map(|_| crossdock_http::new_id("evt").unwrap())
            .collect();
        let origin = origin.clone();
        let now_ms = crossdock_db::unix_now_ms();
        db.write(move |tx| ingest::ingest(tx, &origin, &items, &ids, now_ms))
            .await
            .unwrap();
        let at = Instant::now();
        for i in chunk {
            committed.insert(format!("CD{i:011}"), at);
        }
    }
    let deadline = Instant::now() + Duration::from_secs(600);
    while arrivals.lock().unwrap().len() < events && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let arrivals = arrivals.lock().unwrap().clone();
    let last = arrivals.iter().map(|a| a.1).max().unwrap();
    let mut lat: Vec<f64> = arrivals
        .iter()
        .map(|(n, at)| at.duration_since(committed[n]).as_secs_f64() * 1000.0)
        .collect();
    lat.sort_by(|a, b| a.total_cmp(b));
    println!(
        "webhooks: {} of {events} delivered, {:.0} deliveries/s; ingest commit → delivery p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        arrivals.len(),
        arrivals.len() as f64 / last.duration_since(start).as_secs_f64(),
        lat[lat.len() / 2],
        lat[lat.len() * 99 / 100],
        lat[lat.len() - 1]
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("ingest") => ingest_bench(&args).await,
        Some("webhooks") => webhooks_bench(&args).await,
        _ => eprintln!("usage: tracking_bench ingest|webhooks [options]; see the source's header"),
    }
}
