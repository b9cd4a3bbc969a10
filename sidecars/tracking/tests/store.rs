//! The tracking component's storage contract on SQLite and PostgreSQL: registration from
//! shipment events, deduplication by identity, unmatched events that apply when their
//! number registers later, the events a change emits, and a shuffled replay with
//! duplicates whose final statuses equal the contract's function of each parcel's set.

use crossdock_db::outbox::{Position, read_after};
use crossdock_db::testing::TestDb;
use crossdock_db::{DbError, Tx};
use crossdock_events::{ShipmentChange, TrackingUpdated, decode};
use crossdock_tracking::formats::{self, Parsed};
use crossdock_tracking::ingest::{self, Origin, Outcome};
use crossdock_tracking::model::{
    Decider, SUB_STATUSES, Source, Status, derive, parse_time, utc_text,
};
use crossdock_tracking::report::{self, Date, Key, ReportEvent, ReportParcel};
use crossdock_tracking::{MIGRATIONS, register, store};
use serde_json::json;

const TENANT: i64 = 7;
const NOW_MS: i64 = 1_795_478_400_000;

async fn migrated(db: &TestDb) {
    db.migrate(&[&MIGRATIONS]).await.expect("migrates");
}

fn shipment(id: &str, number: &str, extra_numbers: &[&str]) -> ShipmentChange {
    let mut segments = vec![json!({"seq": 1, "kind": "first_mile", "tracking_number": number})];
    for (i, n) in extra_numbers.iter().enumerate() {
        segments.push(json!({"seq": i + 2, "kind": "last_mile", "tracking_number": n}));
    }
    ShipmentChange {
        event_id: format!("evt_{id}"),
        customer: "acme".into(),
        shipment: json!({"id": id, "tracking_number": number, "carrier": "XB Line", "service": "XB-EU-TRK",
            "status": "labelled", "transit_days": {"min": 5, "max": 8},
            "shipper": {"country": "CN"}, "recipient": {"country": "DE"}, "segments": segments}),
        seq: None,
        previous: None,
    }
}

fn hub() -> Origin {
    Origin {
        tenant: TENANT,
        source: Source::Hub,
        connection: None,
        carrier: None,
    }
}

fn scans(list: &[(&str, &str, &str, &str)]) -> Vec<Parsed> {
    let scans: Vec<_> = list
        .iter()
        .map(|(id, number, kind, time)| {
            let mut s = json!({"scan_id": id, "tracking_number": number, "type": kind, "time": time, "facility": "SZX1", "country": "CN"});
            if *kind == "weigh" {
                s["weight_g"] = json!(512);
            }
            if *kind == "bag" {
                s["bag"] = json!("B1");
            }
            s
        })
        .collect();
    formats::hub_scans(json!({"scans": scans}).to_string().as_bytes()).expect("a hub body")
}

async fn accept(db: &TestDb, origin: Origin, items: Vec<Parsed>) -> Vec<Outcome> {
    let ids: Vec<String> = (0..items.len())
        .map(|_| crossdock_http::new_id("evt").unwrap())
        .collect();
    db.write(move |tx| ingest::ingest(tx, &origin, &items, &ids, NOW_MS))
        .await
        .expect("ingests")
}

async fn parcel(db: &TestDb, id: &str) -> store::ParcelRow {
    let id = id.to_owned();
    db.read(move |tx| store::parcel(tx, &id))
        .await
        .unwrap()
        .expect("registered")
}

/// The `tracking.updated` events once at least `n` are readable. On PostgreSQL the outbox
/// is read only below the database's oldest running transaction, and other tests' schemas
/// share the database, so a just-committed event can take a moment to show.
async fn updates_at_least(db: &TestDb, n: usize) -> Vec<TrackingUpdated> {
    for _ in 0..200 {
        let u = updates(db).await;
        if u.len() >= n {
            return u;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    updates(db).await
}

async fn updates(db: &TestDb) -> Vec<TrackingUpdated> {
    db.read(|tx| read_after(tx, Position::default(), 100_000))
        .await
        .unwrap()
        .iter()
        .filter_map(decode::<TrackingUpdated>)
        .collect()
}

async fn registers_and_folds_events_into_one_status(db: &TestDb) {
    migrated(db).await;
    let change = shipment("shp_1", "CD00000000018", &["LX001000090CN"]);
    db.write(move |tx: &mut Tx<'_>| register(tx, TENANT, &change, NOW_MS))
        .await
        .unwrap();
    // Registering twice changes nothing.
    let again = shipment("shp_1", "CD00000000018", &["LX001000090CN"]);
    db.write(move |tx: &mut Tx<'_>| register(tx, TENANT, &again, NOW_MS))
        .await
        .unwrap();
    let p = parcel(db, "shp_1").await;
    assert_eq!(
        (p.status.as_str(), p.sub_status.as_str(), p.lane.as_str()),
        ("info_received", "REGISTERED", "CN-DE")
    );

    let out = accept(
        db,
        hub(),
        scans(&[
            ("S1", "CD00000000018", "scan", "2026-11-24T16:15:00+08:00"),
            ("S2", "LX001000090CN", "weigh", "2026-11-24T16:20:00+08:00"),
            ("S1", "CD00000000018", "scan", "2026-11-24T16:15:00+08:00"),
        ]),
    )
    .await;
    let (Outcome::Created(first), Outcome::Created(_), Outcome::Duplicate(dup)) =
        (&out[0], &out[1], &out[2])
    else {
        panic!("{out:?}");
    };
    assert_eq!(first, dup, "a duplicate answers the first copy's id");
    let p = parcel(db, "shp_1").await;
    assert_eq!(
        (p.status.as_str(), p.sub_status.as_str()),
        ("at_hub", "WEIGHED")
    );
    assert_eq!(
        p.status_ms.map(utc_text).as_deref(),
        Some("2026-11-24T08:20:00Z")
    );
    // The same scans again: all duplicates, nothing changes, nothing is emitted.
    let before = updates_at_least(db, 1).await.len();
    let out = accept(
        db,
        hub(),
        scans(&[("S2", "LX001000090CN", "weigh", "2026-11-24T16:20:00+08:00")]),
    )
    .await;
    assert!(matches!(out[0], Outcome::Duplicate(_)), "{out:?}");
    assert_eq!(updates(db).await.len(), before);
    // One body, one change per parcel: the status before the body is the previous one.
    let u = updates_at_least(db, 1).await;
    assert_eq!(u.len(), 1);
    assert_eq!(
        (
            u[0].sequence,
            u[0].previous_status.as_str(),
            u[0].sub_status.as_str()
        ),
        (1, "info_received", "WEIGHED")
    );
    assert_eq!(u[0].status_time.as_deref(), Some("2026-11-24T08:20:00Z"));
    // A later body that changes it again counts the second change.
    accept(
        db,
        hub(),
        scans(&[(
            "S3",
            "CD00000000018",
            "despatch",
            "2026-11-24T18:00:00+08:00",
        )]),
    )
    .await;
    let u = updates_at_least(db, 2).await;
    assert_eq!(u.iter().map(|u| u.sequence).collect::<Vec<_>>(), vec![1, 2]);
    assert_eq!(
        (u[1].previous_status.as_str(), u[1].status.as_str()),
        ("at_hub", "line_haul")
    );
    // Another tenant's scan id is its own.
    let other = Origin {
        tenant: TENANT + 1,
        ..hub()
    };
    let out = accept(
        db,
        other,
        scans(&[("S1", "CD00000000018", "scan", "2026-11-24T16:15:00+08:00")]),
    )
    .await;
    assert_eq!(
        out,
        vec![Outcome::Unmatched],
        "another tenant does not know the number"
    );
}

async fn unmatched_events_apply_when_their_number_registers(db: &TestDb) {
    migrated(db).await;
    let out = accept(
        db,
        hub(),
        scans(&[
            ("U1", "CD00000000026", "scan", "2026-11-24T10:00:00Z"),
            ("U2", "CD00000000026", "despatch", "2026-11-24T12:00:00Z"),
        ]),
    )
    .await;
    assert_eq!(out, vec![Outcome::Unmatched, Outcome::Unmatched]);
    let listed = db
        .read(|tx| store::unmatched(tx, TENANT, None, 10))
        .await
        .unwrap();
    assert_eq!(listed.len(), 2);
    assert!(
        listed
            .iter()
            .all(|e| e.unmatched.as_deref() == Some("unknown_tracking_number"))
    );
    // A copy of a kept unmatched event is a duplicate.
    let out = accept(
        db,
        hub(),
        scans(&[("U1", "CD00000000026", "scan", "2026-11-24T10:00:00Z")]),
    )
    .await;
    assert!(matches!(out[0], Outcome::Duplicate(_)), "{out:?}");

    let change = shipment("shp_2", "CD00000000026", &[]);
    db.write(move |tx: &mut Tx<'_>| register(tx, TENANT, &change, NOW_MS))
        .await
        .unwrap();
    let p = parcel(db, "shp_2").await;
    assert_eq!(
        (p.status.as_str(), p.sub_status.as_str()),
        ("line_haul", "DEPARTED")
    );
    assert!(
        db.read(|tx| store::unmatched(tx, TENANT, None, 10))
            .await
            .unwrap()
            .is_empty()
    );
    let events = db.read(|tx| store::events_of(tx, "shp_2")).await.unwrap();
    assert_eq!(events.len(), 2);
    // An unmapped code is kept and listed, and never applies.
    let poll = Origin {
        tenant: TENANT,
        source: Source::Poll,
        connection: Some("ccn_x".into()),
        carrier: Some("c".into()),
    };
    let page = formats::poll_page(json!({"events": [{"id": "p1", "tracking_number": "CD00000000026", "code": "TELEPORTED",
        "description": "?", "time": "2026-11-25T10:00:00Z", "location": {"country": "DE", "city": "Berlin", "facility": null}}],
        "next_cursor": "c1", "has_more": false}).to_string().as_bytes()).unwrap();
    let out = accept(db, poll, page.events).await;
    assert_eq!(out, vec![Outcome::Unmatched]);
    let listed = db
        .read(|tx| store::unmatched(tx, TENANT, None, 10))
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].unmatched.as_deref(), Some("unknown_code"));
    assert_eq!(parcel(db, "shp_2").await.sub_status, "DEPARTED");
}

fn parcels_n() -> usize {
    120
}

/// A small deterministic generator (xorshift), so failures replay.
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

async fn a_shuffled_replay_with_duplicates_ends_as_the_sorted_one(db: &TestDb) {
    migrated(db).await;
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let parcels = parcels_n();
    for p in 0..parcels {
        let change = shipment(&format!("shp_{p}"), &format!("NUM{p:05}"), &[]);
        db.write(move |tx: &mut Tx<'_>| register(tx, TENANT, &change, NOW_MS))
            .await
            .unwrap();
    }
    // Poll events (our own codes): random sub-statuses at hours with many ties.
    let mut events = Vec::new();
    for p in 0..parcels {
        for i in 0..rng.below(9) {
            let sub = SUB_STATUSES[rng.below(SUB_STATUSES.len() as u64) as usize];
            let hour = rng.below(6);
            let offset = ["+08:00", "Z", "-05:00"][rng.below(3) as usize];
            let time = format!("2026-11-2{}T{:02}:00:00{offset}", 1 + hour / 3, 8 + hour);
            events.push(json!({"id": format!("p{p}-{i}"), "tracking_number": format!("NUM{p:05}"), "code": sub.sub_status,
                "description": "x", "time": time, "location": {"country": "DE", "city": null, "facility": null}}));
        }
    }
    // The expected status of each parcel: the contract's function of its distinct set.
    let mut expected = std::collections::HashMap::new();
    for p in 0..parcels {
        let number = format!("NUM{p:05}");
        let set: Vec<Decider> = events
            .iter()
            .filter(|e| e["tracking_number"] == number.as_str())
            .map(|e| {
                let m = SUB_STATUSES
                    .iter()
                    .find(|m| m.sub_status == e["code"])
                    .unwrap();
                Decider {
                    instant_ms: parse_time(e["time"].as_str().unwrap()).unwrap().instant_ms,
                    status: m.status,
                    sub_status: m.sub_status.to_owned(),
                    identity: String::new(),
                }
            })
            .collect();
        let d = derive(&set);
        expected.insert(
            format!("shp_{p}"),
            (d.status, d.sub_status, d.status_time_ms),
        );
    }
    // 10 % duplicates, shuffled, in batches of random sizes.
    let mut arrivals = events.clone();
    for _ in 0..events.len() / 10 {
        arrivals.push(events[rng.below(events.len() as u64) as usize].clone());
    }
    for i in (1..arrivals.len()).rev() {
        arrivals.swap(i, rng.below(i as u64 + 1) as usize);
    }
    let origin = Origin {
        tenant: TENANT,
        source: Source::Poll,
        connection: Some("ccn_r".into()),
        carrier: Some("r".into()),
    };
    let mut rest = arrivals.as_slice();
    while !rest.is_empty() {
        let n = (1 + rng.below(120) as usize).min(rest.len());
        let page = formats::poll_page(
            json!({"events": &rest[..n], "next_cursor": "c", "has_more": false})
                .to_string()
                .as_bytes(),
        )
        .unwrap();
        for o in accept(db, origin.clone(), page.events).await {
            assert!(
                matches!(o, Outcome::Created(_) | Outcome::Duplicate(_)),
                "{o:?}"
            );
        }
        rest = &rest[n..];
    }
    for p in 0..parcels {
        let row = parcel(db, &format!("shp_{p}")).await;
        let want = &expected[&format!("shp_{p}")];
        assert_eq!(
            (
                Status::parse(&row.status).unwrap(),
                row.sub_status.clone(),
                row.status_ms
            ),
            want.clone(),
            "parcel {p}"
        );
    }
    // The performance report equals a direct computation over the same stored events.
    let direct = {
        let mut parcels = Vec::new();
        for p in 0..parcels_n() {
            let id = format!("shp_{p}");
            let sid = id.clone();
            let mut events = db.read(move |tx| store::events_of(tx, &sid)).await.unwrap();
            events.retain(|e| e.status.is_some());
            events.sort_by(|a, b| {
                let rank = |e: &store::EventRow| {
                    Status::parse(e.status.as_deref().unwrap()).unwrap() as i64
                };
                (
                    a.instant_ms,
                    rank(a),
                    a.sub_status.clone(),
                    a.identity.clone(),
                )
                    .cmp(&(
                        b.instant_ms,
                        rank(b),
                        b.sub_status.clone(),
                        b.identity.clone(),
                    ))
            });
            let mut previous = "first_mile".to_owned();
            let report_events = events
                .iter()
                .map(|e| {
                    let segment = e.segment.clone().unwrap_or_else(|| previous.clone());
                    previous = segment.clone();
                    ReportEvent {
                        instant_ms: e.instant_ms,
                        offset_s: e.offset_s as i32,
                        status: e.status.clone().unwrap(),
                        segment,
                    }
                })
                .collect();
            parcels.push(ReportParcel {
                carrier: "XB Line".into(),
                service: "XB-EU-TRK".into(),
                lane: "CN-DE".into(),
                transit_max: Some(8),
                events: report_events,
            });
        }
        report::compute(
            &parcels,
            Date::parse("2026-11-01").unwrap(),
            Date::parse("2026-11-30").unwrap(),
            &[Key::Lane, Key::Week],
        )
    };
    let served = db
        .read(|tx| {
            crossdock_tracking::performance_rows(
                tx,
                TENANT,
                None,
                Date::parse("2026-11-01").unwrap(),
                Date::parse("2026-11-30").unwrap(),
                vec![Key::Lane, Key::Week],
            )
        })
        .await
        .unwrap();
    assert!(!served.is_empty());
    assert_eq!(served, direct);
    // Each parcel's changes are counted from 1 without gaps.
    let mut last = std::collections::HashMap::<String, i64>::new();
    for u in updates(db).await {
        let seen = last.entry(u.shipment_id.clone()).or_insert(0);
        assert_eq!(u.sequence, *seen + 1, "{}", u.shipment_id);
        *seen = u.sequence;
    }
}

async fn stuck_parcels_are_those_without_news(db: &TestDb) {
    migrated(db).await;
    for (id, number) in [("shp_a", "A1"), ("shp_b", "B1"), ("shp_c", "C1")] {
        let change = shipment(id, number, &[]);
        db.write(move |tx: &mut Tx<'_>| register(tx, TENANT, &change, NOW_MS - 10 * 86_400_000))
            .await
            .unwrap();
    }
    accept(
        db,
        hub(),
        scans(&[
            ("a", "A1", "scan", "2026-11-10T00:00:00Z"),
            ("b", "B1", "scan", "2026-11-23T00:00:00Z"),
        ]),
    )
    .await;
    let cutoff = NOW_MS - 3 * 86_400_000;
    let stuck = db
        .read(move |tx| store::stuck(tx, TENANT, cutoff, &store::StuckFilter::default(), None, 10))
        .await
        .unwrap();
    // A's newest event is oldest; C has only its registration (10 days ago); B is fresh.
    assert_eq!(
        stuck
            .iter()
            .map(|p| p.shipment_id.as_str())
            .collect::<Vec<_>>(),
        vec!["shp_a", "shp_c"]
    );
    let filter = store::StuckFilter {
        status: Some("at_hub".into()),
        ..Default::default()
    };
    let stuck = db
        .read(move |tx| store::stuck(tx, TENANT, cutoff, &filter, None, 10))
        .await
        .unwrap();
    assert_eq!(stuck.len(), 1);
}

async fn a_page_of_shipment_events_registers_as_the_events_one_by_one_would(db: &TestDb) {
    use crossdock_db::outbox::{Message, Position};
    use crossdock_events::{Event, ShipmentCreated, ShipmentRelabelled, ShipmentVoided};
    migrated(db).await;
    // Events already waiting for two of the numbers.
    let out = accept(
        db,
        hub(),
        scans(&[
            ("pw1", "PG00007", "scan", "2026-11-24T10:00:00Z"),
            ("pw2", "PG00140", "despatch", "2026-11-24T11:00:00Z"),
        ]),
    )
    .await;
    assert_eq!(out, vec![Outcome::Unmatched, Outcome::Unmatched]);
    let mut messages = Vec::new();
    let message = |topic: &str, payload: String, seq: i64| Message {
        position: Position { txid: 0, seq },
        component: "orders".into(),
        tenant: TENANT,
        topic: topic.into(),
        version: 1,
        payload,
        created_at: 0,
    };
    for i in 0..150 {
        let change = shipment(&format!("shp_p{i}"), &format!("PG{i:05}"), &[]);
        messages.push(message(
            ShipmentCreated::TOPIC,
            serde_json::to_string(&change).unwrap(),
            i,
        ));
    }
    // A relabel with a new number, a void, and a repeat of a creation, in the same page.
    let relabel = shipment("shp_p3", "PG00003", &["LX000000003CN"]);
    messages.push(message(
        ShipmentRelabelled::TOPIC,
        serde_json::to_string(&relabel).unwrap(),
        150,
    ));
    messages.push(message(
        ShipmentVoided::TOPIC,
        serde_json::to_string(&shipment("shp_p5", "PG00005", &[])).unwrap(),
        151,
    ));
    messages.push(message(
        ShipmentCreated::TOPIC,
        serde_json::to_string(&shipment("shp_p9", "PG00009", &[])).unwrap(),
        152,
    ));
    let page = messages.clone();
    db.write(move |tx| crossdock_tracking::on_shipments(tx, &page))
        .await
        .unwrap();
    for i in [0usize, 31, 32, 99, 100, 149] {
        let p = parcel(db, &format!("shp_p{i}")).await;
        assert_eq!(
            (p.tracking_number.clone(), p.lane.as_str()),
            (format!("PG{i:05}"), "CN-DE")
        );
    }
    assert_eq!(
        parcel(db, "shp_p7").await.sub_status,
        "HUB_IN",
        "waiting events applied"
    );
    assert_eq!(parcel(db, "shp_p140").await.sub_status, "DEPARTED");
    assert!(parcel(db, "shp_p5").await.voided);
    let owner = db
        .read(|tx| store::number_owner(tx, TENANT, "LX000000003CN"))
        .await
        .unwrap();
    assert_eq!(owner.as_deref(), Some("shp_p3"));
    assert!(
        db.read(|tx| store::unmatched(tx, TENANT, None, 10))
            .await
            .unwrap()
            .is_empty()
    );
    // The page again changes nothing.
    let page = messages.clone();
    db.write(move |tx| crossdock_tracking::on_shipments(tx, &page))
        .await
        .unwrap();
    assert_eq!(parcel(db, "shp_p7").await.changes, 1);
}

crossdock_db::contract_tests!(
    a_page_of_shipment_events_registers_as_the_events_one_by_one_would,
    registers_and_folds_events_into_one_status,
    unmatched_events_apply_when_their_number_registers,
    a_shuffled_replay_with_duplicates_ends_as_the_sorted_one,
    stuck_parcels_are_those_without_news,
);

#[allow(dead_code)]
fn _types(_: DbError) {}
