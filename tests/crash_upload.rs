//! `kill -9` of `crossdock serve` in the middle of a 20,000-row upload with `?ship=true`,
//! then a restart and the same file uploaded again (issue 8, "A crash test"). Afterwards:
//! every reference exists exactly once, no tracking number was issued twice, and every
//! shipment has its label and its `shipment.created` event, all read straight from the
//! database the server wrote.
//!
//! One command: `cargo test -p crossdock-e2e --test crash_upload` (SQLite; PostgreSQL too
//! unless `CROSSDOCK_SKIP_POSTGRES=1`). Where the kill lands is drawn afresh each run
//! (printed; `CROSSDOCK_CRASH_AT=N` kills once N shipments exist) and
//! `CROSSDOCK_CRASH_ROUNDS=K` (default 1) kills K times, each restart sending the file
//! again, before the final complete upload: the long version of this test.

mod serve;

use crossdock_db::testing::PgSchema;
use crossdock_db::{Db, DbOptions};
use serde_json::Value;
use serve::{Server, create_key, get, json, try_post};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

const ROWS: usize = 20_000;
const CUSTOMER: &str = "acme";

/// The upload: the server's own template row, 20,000 times under different references.
fn orders_csv(url: &str, key: &str) -> Vec<u8> {
    let (status, template) = get(url, "/v1/orders/template.csv", Some(key)).expect("template");
    assert_eq!(status, 200, "{template}");
    let mut lines = template.lines();
    let header = lines.next().expect("a header");
    let example = lines.next().expect("an example row");
    assert!(header.starts_with("reference,"), "{header}");
    let (_, rest) = example.split_once(',').expect("cells after the reference");
    let mut csv = format!("{header}\n");
    for i in 0..ROWS {
        csv.push_str(&format!("CRASH-{i:05},{rest}\n"));
    }
    csv.into_bytes()
}

/// Where to kill, given the `base` shipments already there: `CROSSDOCK_CRASH_AT`, or a point
/// drawn from the clock past `base` (up to 70 % of the rows left; at least one new
/// shipment), plus a pause of up to 0.3 s so the kill also lands between a chunk's orders
/// and its shipments.
fn kill_point(round: u64, base: u64) -> (u64, Duration) {
    if let Some(at) = std::env::var("CROSSDOCK_CRASH_AT")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        return (at.max(base + 1), Duration::ZERO);
    }
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .subsec_nanos() as u64
        ^ round.wrapping_mul(0x9E37_79B9);
    let left = ROWS as u64 - base;
    (
        base + 1 + seed % (left * 7 / 10).max(1),
        Duration::from_millis(seed % 300),
    )
}

fn count(rt: &tokio::runtime::Runtime, db: &Db, sql: &'static str) -> i64 {
    rt.block_on(db.read(move |tx| tx.query_one(sql, &[])?.get::<i64>(0)))
        .expect("count")
}

fn open(rt: &tokio::runtime::Runtime, database: &str, data: &Path) -> Db {
    rt.block_on(Db::open(database, data, &DbOptions::default()))
        .expect("open the server's database")
}

/// Sends the file and kills the server once `at` shipments exist; the file must not have
/// been answered by then (the kill is in the middle). Returns the shipments seen at the kill.
fn upload_and_kill(
    rt: &tokio::runtime::Runtime,
    server: Server,
    db: &Db,
    key: &str,
    csv: &[u8],
    round: u64,
) -> i64 {
    let base = count(rt, db, "SELECT count(*) FROM orders_shipments");
    let (at, pause) = kill_point(round, u64::try_from(base).unwrap_or(0));
    let url = server.url.clone();
    let body = csv.to_vec();
    let key = key.to_owned();
    let upload = std::thread::spawn(move || {
        try_post(
            &url,
            "/v1/orders/upload?ship=true",
            &key,
            Some("text/csv"),
            &body,
        )
    });
    let started = Instant::now();
    loop {
        let shipped = count(rt, db, "SELECT count(*) FROM orders_shipments");
        if shipped >= at as i64 {
            break;
        }
        assert!(
            !upload.is_finished(),
            "the upload ended before {at} shipments existed: {:?}",
            upload.join()
        );
        assert!(
            started.elapsed() < Duration::from_secs(900),
            "{at} shipments not reached in 900 s"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(pause);
    server.kill_9();
    let seen = count(rt, db, "SELECT count(*) FROM orders_shipments");
    eprintln!("round {round}: killed at {seen} shipments (aimed at {at}, then {pause:?})");
    let answered = upload.join().expect("the upload thread");
    assert!(
        answered.is_err(),
        "the upload was answered, so the kill was not in its middle: {answered:?}"
    );
    assert!(seen < ROWS as i64, "every row was shipped before the kill");
    seen
}

fn crash_and_upload_again(database: &str, data: &Path) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let server = Server::start(database, data, &[]);
    let (_, key) = create_key(database, data, "shipper", Some(CUSTOMER));
    let csv = orders_csv(&server.url, &key);
    let db = open(&rt, database, data);
    let rounds: u64 = std::env::var("CROSSDOCK_CRASH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);

    let mut server = Some(server);
    let mut killed_at = 0;
    for round in 0..rounds {
        let live = server
            .take()
            .unwrap_or_else(|| Server::start(database, data, &[]));
        killed_at = upload_and_kill(&rt, live, &db, &key, &csv, round);
    }

    let server = Server::start(database, data, &[]);
    let (status, body) = try_post(
        &server.url,
        "/v1/orders/upload?ship=true",
        &key,
        Some("text/csv"),
        &csv,
    )
    .expect("the second upload is answered");
    assert_eq!(status, 200, "{}", &body[..body.len().min(2000)]);
    let answer = json(&body);
    assert_eq!(answer["rows"], ROWS, "{}", answer_totals(&answer));
    assert_eq!(answer["invalid"], 0, "{}", answer_totals(&answer));
    assert_eq!(answer["shipped"], ROWS, "{}", answer_totals(&answer));
    assert_eq!(answer["ship_failed"], 0, "{}", answer_totals(&answer));
    let duplicate = answer["duplicate"].as_i64().expect("duplicate");
    assert!(
        duplicate >= killed_at,
        "orders shipped before the kill answer duplicate: {}",
        answer_totals(&answer)
    );
    assert_eq!(
        answer["created"].as_i64().expect("created") + duplicate,
        ROWS as i64
    );
    // The answer names each row's shipment and number; remembered to compare below.
    let mut answered: BTreeMap<String, (String, String)> = BTreeMap::new();
    for r in answer["results"].as_array().expect("results") {
        let reference = r["reference"].as_str().expect("reference").to_owned();
        let shipment = r["shipment"].as_str().expect("shipment").to_owned();
        let number = r["tracking_number"].as_str().expect("number").to_owned();
        assert!(
            answered
                .insert(reference.clone(), (shipment, number))
                .is_none(),
            "{reference} answered twice"
        );
    }
    assert_eq!(answered.len(), ROWS);

    let check = rt.block_on(db.read(|tx| {
        let orders: Vec<(String, String, Option<String>)> = tx
            .query(
                "SELECT reference, id, shipment_id FROM orders_orders WHERE customer = 'acme'",
                &[],
            )?
            .iter()
            .map(|r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .collect::<Result<_, crossdock_db::DbError>>()?;
        let shipments: Vec<(String, String, i64, String)> = tx
            .query(
                "SELECT id, order_id, live, doc FROM orders_shipments WHERE customer = 'acme'",
                &[],
            )?
            .iter()
            .map(|r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .collect::<Result<_, crossdock_db::DbError>>()?;
        let numbers: Vec<(String, String)> = tx
            .query("SELECT number, shipment_id FROM orders_numbers", &[])?
            .iter()
            .map(|r| Ok((r.get(0)?, r.get(1)?)))
            .collect::<Result<_, crossdock_db::DbError>>()?;
        let labels: Vec<(String, i64, String)> = tx
            .query(
                "SELECT shipment_id, seq, tracking_number FROM labels_labels",
                &[],
            )?
            .iter()
            .map(|r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .collect::<Result<_, crossdock_db::DbError>>()?;
        let created: Vec<String> = tx
            .query(
                "SELECT payload FROM db_outbox WHERE topic = 'shipment.created'",
                &[],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect::<Result<_, crossdock_db::DbError>>()?;
        Ok::<_, crossdock_db::DbError>((orders, shipments, numbers, labels, created))
    }));
    let (orders, shipments, numbers, labels, created) = check.expect("read back");

    // Every reference exactly once, each with its shipment.
    let references: BTreeSet<&str> = orders.iter().map(|(r, ..)| r.as_str()).collect();
    assert_eq!(orders.len(), ROWS, "orders rows");
    assert_eq!(references.len(), ROWS, "distinct references");
    assert!(references.iter().all(|r| answered.contains_key(*r)));
    // Nothing voids in this test: every shipment is live, one per order, the one answered.
    assert_eq!(shipments.len(), ROWS, "one shipment per order");
    let mut by_order = BTreeMap::new();
    let mut numbers_on_shipments = BTreeSet::new();
    for (id, order, live, doc) in &shipments {
        assert_eq!(*live, 1, "shipment {id} is live");
        assert!(
            by_order.insert(order.clone(), id.clone()).is_none(),
            "order {order} has two shipments"
        );
        let doc = json(doc);
        let number = doc["tracking_number"]
            .as_str()
            .expect("a number")
            .to_owned();
        let reference = doc["reference"].as_str().expect("reference");
        assert_eq!(
            answered[reference],
            (id.clone(), number.clone()),
            "the answer names the stored shipment and number of {reference}"
        );
        assert!(
            numbers_on_shipments.insert(number.clone()),
            "{number} issued twice"
        );
    }
    for (reference, id, shipment) in &orders {
        assert_eq!(
            shipment.as_ref(),
            by_order.get(id),
            "order {reference} names its one shipment"
        );
    }
    // The numbers ledger: each number once, each on one of these shipments, none lost.
    let issued: BTreeSet<&str> = numbers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(issued.len(), numbers.len(), "a number recorded twice");
    assert_eq!(
        numbers.len(),
        ROWS,
        "numbers recorded for rolled-back shipments"
    );
    assert!(
        numbers_on_shipments
            .iter()
            .all(|n| issued.contains(n.as_str()))
    );
    // Every shipment's first segment has its label, with its number.
    let label_of: BTreeMap<&str, &str> = labels
        .iter()
        .filter(|(_, seq, _)| *seq == 1)
        .map(|(s, _, n)| (s.as_str(), n.as_str()))
        .collect();
    assert_eq!(labels.len(), ROWS, "one label per shipment");
    for (id, _, _, doc) in &shipments {
        let number = json(doc)["tracking_number"]
            .as_str()
            .expect("number")
            .to_owned();
        assert_eq!(
            label_of.get(id.as_str()),
            Some(&number.as_str()),
            "label of {id}"
        );
    }
    // Every shipment's `shipment.created`, exactly once.
    let mut events: BTreeMap<String, usize> = BTreeMap::new();
    for payload in &created {
        let id = json(payload)["shipment"]["id"]
            .as_str()
            .expect("shipment id")
            .to_owned();
        *events.entry(id).or_default() += 1;
    }
    assert_eq!(events.len(), ROWS, "shipment.created events");
    assert!(events.values().all(|n| *n == 1), "an event twice");
    assert!(shipments.iter().all(|(id, ..)| events.contains_key(id)));
    // And the labels print: a sample fetched through the API.
    for (id, ..) in shipments.iter().step_by(ROWS / 20) {
        for file in ["1.zpl", "1.pdf"] {
            let (status, _) = get(
                &server.url,
                &format!("/v1/shipments/{id}/labels/{file}"),
                Some(&key),
            )
            .expect("label");
            assert_eq!(status, 200, "{id}/{file}");
        }
    }
    drop(server);
    rt.block_on(db.close());
}

fn answer_totals(answer: &Value) -> String {
    [
        "rows",
        "created",
        "duplicate",
        "invalid",
        "shipped",
        "ship_failed",
    ]
    .iter()
    .map(|k| format!("{k}={}", answer[*k]))
    .collect::<Vec<_>>()
    .join(" ")
}

#[test]
fn kill_9_in_an_upload_then_the_same_file_again_on_sqlite() {
    let dir = tempfile::tempdir().expect("temp");
    crash_and_upload_again("sqlite:", dir.path());
}

#[test]
fn kill_9_in_an_upload_then_the_same_file_again_on_postgres() {
    let Some(schema) = PgSchema::create() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp");
    crash_and_upload_again(&schema.url(), dir.path());
    drop(schema);
}
