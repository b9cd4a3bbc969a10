//! A parcel's status is a pure function of the set of its events (tracking.md, "Status"):
//! property tests draw random event sets, duplicate some, deliver them in random orders
//! and check that folding them one by one as they arrive gives what the contract's own
//! words give over the sorted set — whatever the order, batching and duplicates.

use crossdock_tracking::model::{
    Decider, Derived, SUB_STATUSES, Source, Status, derive, map_code, parse_time, utc_text,
};
use proptest::prelude::*;

/// The contract read literally, written apart from `model.rs`: sort by instant, rank,
/// sub-status bytes; the deciding event is the last delivered, else the last returned,
/// else the last event.
fn by_the_contract(events: &[(i64, usize, String)]) -> (Status, String, Option<i64>) {
    let mut sorted: Vec<(i64, i64, String, String, Status)> = events
        .iter()
        .map(|(t, sub, id)| {
            let m = SUB_STATUSES[*sub];
            (
                *t,
                m.status as i64,
                m.sub_status.to_owned(),
                id.clone(),
                m.status,
            )
        })
        .collect();
    sorted.sort();
    let pick = sorted
        .iter()
        .rev()
        .find(|e| e.4 == Status::Delivered)
        .or_else(|| sorted.iter().rev().find(|e| e.4 == Status::Returned))
        .or_else(|| sorted.last());
    match pick {
        None => (Status::InfoReceived, "REGISTERED".into(), None),
        Some(e) => (e.4, e.2.clone(), Some(e.0)),
    }
}

fn decider(t: i64, sub: usize, id: &str) -> Decider {
    let m = SUB_STATUSES[sub];
    Decider {
        instant_ms: t,
        status: m.status,
        sub_status: m.sub_status.to_owned(),
        identity: id.to_owned(),
    }
}

fn fold(arrivals: &[(i64, usize, String)]) -> Derived {
    let mut current: Option<Decider> = None;
    for (t, sub, id) in arrivals {
        current = Some(Decider::max(current, decider(*t, *sub, id)));
    }
    Derived::of(current.as_ref())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn status_never_depends_on_arrival_order_or_duplicates(
        // Few instants, so equal times (and equal ranks) are common.
        events in proptest::collection::vec((0i64..6, 0usize..SUB_STATUSES.len()), 0..12),
        copies in proptest::collection::vec(0usize..3, 12),
        seed in any::<u64>(),
    ) {
        let set: Vec<(i64, usize, String)> = events
            .iter()
            .enumerate()
            .map(|(i, (t, sub))| (t * 3_600_000, *sub, format!("e{i}")))
            .collect();
        let expected = by_the_contract(&set);
        // Arrivals: every event once, some again, in a shuffled order.
        let mut arrivals: Vec<(i64, usize, String)> = Vec::new();
        for (i, e) in set.iter().enumerate() {
            for _ in 0..=copies[i % copies.len()] {
                arrivals.push(e.clone());
            }
        }
        let mut state = seed | 1;
        for i in (1..arrivals.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            arrivals.swap(i, (state % (i as u64 + 1)) as usize);
        }
        let folded = fold(&arrivals);
        prop_assert_eq!((folded.status, folded.sub_status.clone(), folded.status_time_ms), expected.clone());
        let sorted_set: Vec<Decider> = set.iter().map(|(t, s, id)| decider(*t, *s, id)).collect();
        let derived = derive(&sorted_set);
        prop_assert_eq!((derived.status, derived.sub_status, derived.status_time_ms), expected);
    }
}

#[test]
fn the_contracts_examples_hold() {
    let h = 3_600_000;
    // A late in_transit after delivered is stored, but the status stays delivered.
    let d = fold(&[(10 * h, 19, "d".into()), (12 * h, 2, "late".into())]);
    assert_eq!(
        (d.status, d.sub_status.as_str()),
        (Status::Delivered, "DELIVERED")
    );
    // An exception lasts until a later event.
    let e = fold(&[(h, 2, "a".into()), (2 * h, 15, "x".into())]);
    assert_eq!(e.status, Status::Exception);
    let e = fold(&[
        (h, 2, "a".into()),
        (2 * h, 15, "x".into()),
        (3 * h, 12, "o".into()),
    ]);
    assert_eq!(e.status, Status::OutForDelivery);
    // Only delivered replaces returned.
    let r = fold(&[(5 * h, 18, "r".into()), (6 * h, 13, "af".into())]);
    assert_eq!(r.status, Status::Returned);
    let r = fold(&[(5 * h, 18, "r".into()), (4 * h, 19, "d".into())]);
    assert_eq!(r.status, Status::Delivered);
    // Same instant: the higher rank decides (customs_cleared over at_hub).
    let t = fold(&[(h, 11, "c".into()), (h, 5, "hub".into())]);
    assert_eq!(t.status, Status::CustomsCleared);
    // No events.
    assert_eq!(fold(&[]), Derived::registered());
}

#[test]
fn every_sources_codes_map_as_the_table_says() {
    let cases = [
        (
            Source::SeventeenTrack,
            "InTransit_Arrival",
            Some("ARRIVED_DEST"),
        ),
        (
            Source::SeventeenTrack,
            "DeliveryFailure_NoBody",
            Some("ATTEMPT_FAILED"),
        ),
        (
            Source::SeventeenTrack,
            "Exception_Returning",
            Some("RETURNING"),
        ),
        (
            Source::SeventeenTrack,
            "Exception_Damage",
            Some("EXCEPTION"),
        ),
        (
            Source::SeventeenTrack,
            "Exception_Returned",
            Some("RETURNED"),
        ),
        (Source::SeventeenTrack, "NotFound_Other", None),
        (Source::AfterShip, "InTransit_009", Some("IN_TRANSIT")),
        (Source::AfterShip, "Exception_004", Some("INFO_REQUIRED")),
        (Source::AfterShip, "Exception_010", Some("RETURNING")),
        (Source::AfterShip, "Exception_011", Some("RETURNED")),
        (Source::AfterShip, "Exception_013", Some("EXCEPTION")),
        (Source::AfterShip, "Exception_1", None),
        (Source::AfterShip, "Delivered_005", Some("DELIVERED")),
        (Source::AfterShip, "Delivered_006", None),
        (Source::AfterShip, "AttemptFail_003", Some("ATTEMPT_FAILED")),
        (Source::UpuEdi, "EMD", Some("ARRIVED_DEST")),
        (Source::UpuEdi, "EDD", Some("HUB_IN")),
        (Source::UpuEdi, "EMK", Some("DEPARTED")),
        (Source::UpuEdi, "EMI", Some("DELIVERED")),
        (Source::UpuEdi, "EXA", None),
        (Source::Hub, "weigh", Some("WEIGHED")),
        (Source::Hub, "despatch", Some("DEPARTED")),
        (Source::Poll, "AT_PICKUP_POINT", Some("AT_PICKUP_POINT")),
        (Source::Poll, "at_pickup_point", None),
    ];
    for (source, code, expected) in cases {
        assert_eq!(
            map_code(source, code).map(|m| m.sub_status),
            expected,
            "{source:?} {code}"
        );
    }
    assert_eq!(
        map_code(Source::UpuEdi, "EDB").map(|m| m.status),
        Some(Status::CustomsHold)
    );
    assert_eq!(
        map_code(Source::UpuEdi, "EMC").map(|m| m.status),
        Some(Status::LineHaul)
    );
}

#[test]
fn times_keep_their_offset_and_name_one_instant() {
    let t = parse_time("2026-11-24T16:15:00+08:00").unwrap();
    assert_eq!(t.offset_s, 8 * 3600);
    assert_eq!(utc_text(t.instant_ms), "2026-11-24T08:15:00Z");
    let z = parse_time("2026-11-24T08:15:00.250Z").unwrap();
    assert_eq!(z.instant_ms, t.instant_ms + 250);
    let w = parse_time("2026-11-23T22:15:00-10:00").unwrap();
    assert_eq!(w.instant_ms, t.instant_ms);
    for bad in [
        "2026-11-24T16:15:00",
        "2026-11-24",
        "2026-02-29T00:00:00Z",
        "2026-11-24T24:00:00Z",
        "2026-11-24T16:15:00+8:00",
        "",
    ] {
        assert!(parse_time(bad).is_err(), "{bad}");
    }
}
