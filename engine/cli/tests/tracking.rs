//! Tracking through the whole runtime in-process (tracking.md): a parcel shipped by the
//! orders component, registered through the outbox, followed by hub scans and the three
//! carrier push formats (signed, and refused when not), its timeline, the public page that
//! shows a buyer only what the contract allows, tenant and customer walls; customer
//! webhooks against a loopback receiver that fails, times out and recovers; outbound
//! address spellings that must never receive anything; a poll carrier on loopback with a
//! 429, a 500 and a restart mid-cursor. Signatures are checked here with our own HMAC, not
//! the component's code.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use base64::Engine;
use crossdock::{Config, Runtime};
use crossdock_http::Role;
use hmac::{KeyInit, Mac};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tower::ServiceExt;

mod orders_common;
use orders_common::*;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

async fn send(
    app: &Router,
    method: &str,
    uri: &str,
    key: Option<&str>,
    body: &[u8],
    headers: &[(&str, &str)],
) -> (StatusCode, Value, String) {
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(key) = key {
        request = request.header("Authorization", format!("Bearer {key}"));
    }
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::from(body.to_vec())).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        text,
    )
}

async fn call(app: &Router, method: &str, uri: &str, key: &str, body: &str) -> (StatusCode, Value) {
    let (s, v, _) = send(app, method, uri, Some(key), body.as_bytes(), &[]).await;
    (s, v)
}

struct T {
    rt: Runtime,
    app: Router,
    admin: String,
    acme: String,
    zeta: String,
    other: String,
}

async fn start(
    database: Option<String>,
    tracking: crossdock_tracking::TrackingConfig,
    dir: Option<std::path::PathBuf>,
) -> T {
    let dir = dir.unwrap_or_else(|| temp_dir("tracking"));
    let config = Config {
        database,
        tracking,
        outbox_poll: Duration::from_millis(100),
        ..config(&dir)
    };
    let rt = Runtime::start(&config, Arc::new(FixedClock))
        .await
        .expect("starts");
    let admin = key(
        &rt,
        "default",
        vec![Role::Admin, Role::Operator, Role::Analyst],
        None,
    )
    .await;
    let acme = key(&rt, "default", vec![Role::Shipper], Some("acme")).await;
    let zeta = key(&rt, "default", vec![Role::Shipper], Some("zeta")).await;
    let other = key(&rt, "other", vec![Role::Admin, Role::Operator], None).await;
    T {
        app: rt.router.clone(),
        rt,
        admin,
        acme,
        zeta,
        other,
    }
}

fn loopback_ok() -> crossdock_tracking::TrackingConfig {
    crossdock_tracking::TrackingConfig {
        allow_cidrs: vec![crossdock_tracking::address::Cidr::parse("127.0.0.0/8").unwrap()],
        retry_delays_s: vec![1, 1, 1],
        timeout: Duration::from_secs(2),
        ..Default::default()
    }
}

/// Ships the example order for acme; (shipment id, tracking number), once registered.
async fn shipped(t: &T, reference: &str) -> (String, String) {
    let (s, o) = call(
        &t.app,
        "POST",
        "/v1/orders",
        &t.acme,
        &order(reference).to_string(),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{o}");
    let (s, shp) = call(
        &t.app,
        "POST",
        &format!("/v1/orders/{}/ship", o["id"].as_str().unwrap()),
        &t.acme,
        "",
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{shp}");
    let id = shp["id"].as_str().unwrap().to_owned();
    // Registration follows shipment.created through the outbox (within 5 s).
    for _ in 0..100 {
        let (s, _) = call(
            &t.app,
            "GET",
            &format!("/v1/shipments/{id}/tracking"),
            &t.admin,
            "",
        )
        .await;
        if s == StatusCode::OK {
            return (id, shp["tracking_number"].as_str().unwrap().to_owned());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("shipment {id} was not registered within 5 s");
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn hmac_b64(key: &[u8], message: &[u8]) -> String {
    let mut mac = <HmacSha256 as KeyInit>::new_from_slice(key).unwrap();
    mac.update(message);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

fn standard_signature(secret: &str, id: &str, ts: i64, body: &[u8]) -> String {
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.trim_start_matches("whsec_"))
        .unwrap();
    let mut message = format!("{id}.{ts}.").into_bytes();
    message.extend_from_slice(body);
    format!("v1,{}", hmac_b64(&key, &message))
}

async fn connection(t: &T, body: Value) -> String {
    let (s, c) = call(
        &t.app,
        "POST",
        "/v1/carrier-connections",
        &t.admin,
        &body.to_string(),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    assert!(c.get("secret").is_none() && c.get("token").is_none(), "{c}");
    c["id"].as_str().unwrap().to_owned()
}

async fn a_parcels_life_across_every_source(t: T) {
    let (id, number) = shipped(&t, "TRK-1").await;

    // Hub scans: operator only.
    let scans = json!({"scans": [
        {"scan_id": "SZX1-000731", "tracking_number": number, "type": "scan", "time": "2026-11-24T16:15:00+08:00", "facility": "SZX1", "country": "CN", "city": "Shenzhen"},
        {"scan_id": "SZX1-000732", "tracking_number": number, "type": "bag", "time": "2026-11-24T16:40:00+08:00", "facility": "SZX1", "country": "CN", "city": "Shenzhen", "bag": "BAG-9"},
        {"scan_id": "SZX1-000733", "tracking_number": "CD99999999999", "type": "scan", "time": "2026-11-24T16:41:00+08:00"},
        {"scan_id": "SZX1-000734", "tracking_number": number, "type": "weigh", "time": "2026-11-24T16:42:00+08:00"},
        {"scan_id": "SZX1-000731", "tracking_number": number, "type": "scan", "time": "2026-11-24T16:15:00+08:00", "facility": "SZX1", "country": "CN", "city": "Shenzhen"}]}).to_string();
    let (s, _) = call(&t.app, "POST", "/v1/hub/scans", &t.acme, &scans).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _, _) = send(&t.app, "POST", "/v1/hub/scans", None, scans.as_bytes(), &[]).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // Over 5 MiB: 413 naming the limit, nothing stored.
    let huge = format!(
        "{{\"scans\": [], \"pad\": \"{}\"}}",
        "x".repeat(5 * 1024 * 1024)
    );
    let (s, r) = call(&t.app, "POST", "/v1/hub/scans", &t.admin, &huge).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{r}");
    let (s, r) = call(&t.app, "POST", "/v1/hub/scans", &t.admin, &scans).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let results: Vec<&str> = r["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["result"].as_str().unwrap())
        .collect();
    assert_eq!(
        results,
        ["created", "created", "unmatched", "invalid", "duplicate"]
    );
    assert_eq!(r["results"][4]["id"], r["results"][0]["id"]);
    assert_eq!(r["results"][3]["problems"][0]["field"], "scans[3].weight_g");

    // 17TRACK: sign = hex SHA-256 of body + "/" + secret.
    let c17 = connection(
        &t,
        json!({"format": "17track", "carrier": "china-post", "secret": "s17-secret"}),
    )
    .await;
    let body = json!({"event": "TRACKING_UPDATED", "data": {"number": number, "track_info": {"tracking": {"providers": [
        {"provider": {"key": 3011, "name": "China Post"}, "events": [
            {"time_iso": "2026-11-25T09:00:00+08:00", "time_utc": "2026-11-25T01:00:00Z", "description": "Departed from office of exchange", "sub_status": "InTransit_Departure", "address": {"country": "CN", "city": "Shenzhen"}},
            {"time_iso": "2026-11-27T06:10:00+01:00", "time_utc": "2026-11-27T05:10:00Z", "description": "Arrival at inward office of exchange", "sub_status": "InTransit_Arrival", "address": {"country": "DE", "city": "Frankfurt"}}]}]}}}}).to_string();
    let mut signed = body.clone().into_bytes();
    signed.extend_from_slice(b"/s17-secret");
    let sign = sha256_hex(&signed);
    let uri = format!("/v1/carriers/17track/events?connection={c17}");
    let (s, _, _) = send(
        &t.app,
        "POST",
        &uri,
        None,
        body.as_bytes(),
        &[("sign", &"0".repeat(64))],
    )
    .await;
    assert_eq!(
        s,
        StatusCode::UNAUTHORIZED,
        "a bad signature stores nothing"
    );
    let (s, _, _) = send(
        &t.app,
        "POST",
        "/v1/carriers/17track/events?connection=ccn_nope",
        None,
        body.as_bytes(),
        &[("sign", &sign)],
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, r, _) = send(
        &t.app,
        "POST",
        &uri,
        None,
        body.as_bytes(),
        &[("sign", &sign)],
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["results"].as_array().unwrap().len(), 2);
    let (_, r, _) = send(
        &t.app,
        "POST",
        &uri,
        None,
        body.as_bytes(),
        &[("sign", &sign)],
    )
    .await;
    assert!(
        r["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|x| x["result"] == "duplicate"),
        "a replay ends as duplicates: {r}"
    );

    // AfterShip: base64 HMAC of the body, `ts` within the replay window.
    let cas = connection(
        &t,
        json!({"format": "aftership", "carrier": "dhl-de", "secret": "as-secret"}),
    )
    .await;
    let aftership = |ts: i64| {
        json!({"event": "tracking_update", "event_id": "e1", "ts": ts, "msg": {"tracking_number": number, "slug": "dhl-germany",
        "checkpoints": [{"checkpoint_time": "2026-11-27T14:00:00+01:00", "subtag": "InTransit_006", "message": "Customs clearance", "city": "Frankfurt", "country_region": "DEU", "raw_tag": "CC"},
                        {"checkpoint_time": "2026-11-28T08:00:00+01:00", "subtag": "InTransit_005", "message": "Released by customs", "city": "Frankfurt", "country_region": "DEU", "raw_tag": "CR"}]}}).to_string()
    };
    let uri = format!("/v1/carriers/aftership/events?connection={cas}");
    let stale = aftership(NOW - 301);
    let (s, _, _) = send(
        &t.app,
        "POST",
        &uri,
        None,
        stale.as_bytes(),
        &[(
            "aftership-hmac-sha256",
            &hmac_b64(b"as-secret", stale.as_bytes()),
        )],
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "outside the replay window");
    let fresh = aftership(NOW - 10);
    let (s, r, _) = send(
        &t.app,
        "POST",
        &uri,
        None,
        fresh.as_bytes(),
        &[(
            "aftership-hmac-sha256",
            &hmac_b64(b"as-secret", fresh.as_bytes()),
        )],
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    // A 17TRACK connection's id on the AfterShip route is refused.
    let (s, _, _) = send(
        &t.app,
        "POST",
        &format!("/v1/carriers/aftership/events?connection={c17}"),
        None,
        fresh.as_bytes(),
        &[(
            "aftership-hmac-sha256",
            &hmac_b64(b"s17-secret", fresh.as_bytes()),
        )],
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    // UPU EMSEVT CSV, signed as Standard Webhooks.
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let cupu = connection(
        &t,
        json!({"format": "upu-edi", "carrier": "deutsche-post", "secret": secret}),
    )
    .await;
    let csv = format!(
        "mail_item_id,event_code,event_time,office_code,country,city,reason_code,description\r\n\
        {number},EDG,2026-11-29T08:00:00+01:00,DEBERA,DE,Berlin,,Out for delivery\r\n\
        {number},EMI,2026-11-29T13:05:00+01:00,DEBERA,DE,Berlin,,Delivered\r\n"
    );
    let uri = format!("/v1/carriers/upu-edi/events?connection={cupu}");
    let ts = NOW.to_string();
    let sig = standard_signature(secret, "msg_1", NOW, csv.as_bytes());
    let (s, _, _) = send(
        &t.app,
        "POST",
        &uri,
        None,
        csv.as_bytes(),
        &[
            ("webhook-id", "msg_1"),
            ("webhook-timestamp", &ts),
            ("webhook-signature", "v1,AAAA"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, r, _) = send(
        &t.app,
        "POST",
        &uri,
        None,
        csv.as_bytes(),
        &[
            ("content-type", "text/csv"),
            ("webhook-id", "msg_1"),
            ("webhook-timestamp", &ts),
            ("webhook-signature", &sig),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{r}");

    // A late event after delivery is stored and shown; the status stays delivered.
    let late = json!({"scans": [{"scan_id": "late-1", "tracking_number": number, "type": "scan", "time": "2026-11-30T10:00:00+08:00"}]}).to_string();
    call(&t.app, "POST", "/v1/hub/scans", &t.admin, &late).await;

    let (s, tl) = call(
        &t.app,
        "GET",
        &format!("/v1/shipments/{id}/tracking"),
        &t.acme,
        "",
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{tl}");
    assert_eq!(
        (tl["status"].as_str(), tl["sub_status"].as_str()),
        (Some("delivered"), Some("DELIVERED"))
    );
    assert_eq!(tl["status_time"], "2026-11-29T12:05:00Z");
    let subs: Vec<&str> = tl["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["sub_status"].as_str().unwrap())
        .collect();
    assert_eq!(
        subs,
        [
            "HUB_IN",
            "BAGGED",
            "DEPARTED",
            "ARRIVED_DEST",
            "IN_CUSTOMS",
            "RELEASED",
            "OUT_FOR_DELIVERY",
            "DELIVERED",
            "HUB_IN"
        ]
    );
    let first = &tl["events"][0];
    assert_eq!(
        first["time"], "2026-11-24T16:15:00+08:00",
        "times keep the source's offset"
    );
    assert_eq!(
        (
            first["segment"].as_str(),
            first["raw"]["code"].as_str(),
            first["location"]["facility"].as_str()
        ),
        (Some("hub"), Some("scan"), Some("SZX1"))
    );
    assert_eq!(
        tl["events"][4]["location"]["country"], "DE",
        "AfterShip's alpha-3 becomes alpha-2"
    );
    assert_eq!(tl["events"][2]["carrier"], "china-post");

    // The shipment follows: delivered.
    let mut status = Value::Null;
    for _ in 0..100 {
        let (_, shp) = call(&t.app, "GET", &format!("/v1/shipments/{id}"), &t.acme, "").await;
        status = shp["status"].clone();
        if status == "delivered" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status, "delivered");

    // The public page: exactly the allowed fields.
    let (s, page, _) = send(
        &t.app,
        "GET",
        &format!("/track/{number}.json"),
        None,
        b"",
        &[],
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let mut keys: Vec<&String> = page.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "destination_country",
            "events",
            "status",
            "status_time",
            "tracking_number"
        ]
    );
    assert_eq!(page["destination_country"], "DE");
    for e in page["events"].as_array().unwrap() {
        let mut k: Vec<&String> = e.as_object().unwrap().keys().collect();
        k.sort();
        assert_eq!(k, ["location", "status", "time"]);
        let mut l: Vec<&String> = e["location"].as_object().unwrap().keys().collect();
        l.sort();
        assert_eq!(l, ["city", "country"]);
    }
    let (s, _, html) = send(&t.app, "GET", &format!("/track/{number}"), None, b"", &[]).await;
    assert_eq!(s, StatusCode::OK);
    for secret_thing in [
        "SZX1",
        "BAG-9",
        &id,
        "acme",
        "Anna",
        "DEBERA",
        "Delivered",
        "HUB_IN",
        "china-post",
        "evt_",
        "512",
    ] {
        assert!(
            !html.contains(secret_thing),
            "the public page shows {secret_thing}: {html}"
        );
    }
    assert!(html.contains("delivered") && html.contains(&number));
    let (s, _, _) = send(&t.app, "GET", "/track/CD99999999999.json", None, b"", &[]).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Walls: another tenant and another customer see nothing.
    for key in [&t.other, &t.zeta] {
        let (s, _) = call(
            &t.app,
            "GET",
            &format!("/v1/shipments/{id}/tracking"),
            key,
            "",
        )
        .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
    }
    let (_, un) = call(&t.app, "GET", "/v1/tracking/unmatched", &t.admin, "").await;
    assert_eq!(un["data"].as_array().unwrap().len(), 1, "{un}");
    assert_eq!(un["data"][0]["reason"], "unknown_tracking_number");
    let (_, un) = call(&t.app, "GET", "/v1/tracking/unmatched", &t.other, "").await;
    assert!(un["data"].as_array().unwrap().is_empty());
    let (s, _) = call(&t.app, "GET", "/v1/tracking/unmatched", &t.acme, "").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, stuck) = call(&t.app, "GET", "/v1/tracking/stuck?days=0", &t.admin, "").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        stuck["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["shipment_id"] != id.as_str()),
        "delivered is never stuck"
    );
    let (s, _) = call(&t.app, "GET", "/v1/tracking/stuck", &t.admin, "").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "days is required");

    // The performance report: this one parcel, delivered on day 5 (11-24 → 11-29).
    let (s, rep) = call(
        &t.app,
        "GET",
        "/v1/reports/performance?from=2026-11-01&to=2026-11-30&group=carrier,lane",
        &t.admin,
        "",
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{rep}");
    let row = &rep["rows"][0];
    assert_eq!(
        (
            row["parcels"].as_i64(),
            row["delivered"].as_i64(),
            row["transit_days"]["p50"].as_i64()
        ),
        (Some(1), Some(1), Some(5))
    );
    assert_eq!(row["customs_hold_rate"], "1.0000");
    assert_eq!(row["lane"], "CN-DE");
    let (s, _) = call(
        &t.app,
        "GET",
        "/v1/reports/performance?from=2026-11-01&to=2026-11-30",
        &t.acme,
        "",
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // Another tenant's lists are empty: report, connections, webhooks, stuck.
    let (_, rep) = call(
        &t.app,
        "GET",
        "/v1/reports/performance?from=2026-11-01&to=2026-11-30",
        &t.other,
        "",
    )
    .await;
    assert_eq!(rep["rows"], json!([]), "{rep}");
    let other_admin = key(&t.rt, "other", vec![Role::Admin, Role::Analyst], None).await;
    let (_, rep) = call(
        &t.app,
        "GET",
        "/v1/reports/performance?from=2026-11-01&to=2026-11-30",
        &other_admin,
        "",
    )
    .await;
    assert_eq!(rep["rows"], json!([]), "{rep}");
    let (_, conns) = call(&t.app, "GET", "/v1/carrier-connections", &t.other, "").await;
    assert_eq!(conns["data"], json!([]), "{conns}");
    let (_, stuck) = call(&t.app, "GET", "/v1/tracking/stuck?days=0", &t.other, "").await;
    assert_eq!(stuck["data"], json!([]), "{stuck}");
    let (s, _) = call(
        &t.app,
        "GET",
        &format!("/v1/shipments/{id}/tracking"),
        &t.other,
        "",
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _, csv) = send(
        &t.app,
        "GET",
        "/v1/reports/performance?from=2026-11-01&to=2026-11-30&group=lane&format=csv",
        Some(&t.admin),
        b"",
        &[],
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        csv.starts_with("lane,parcels,delivered,transit_p50,transit_p90,on_time_rate,"),
        "{csv}"
    );
    t.rt.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parcels_life_on_sqlite() {
    a_parcels_life_across_every_source(start(None, loopback_ok(), None).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parcels_life_on_postgres() {
    let Some(schema) = crossdock_db::testing::PgSchema::create() else {
        return;
    };
    a_parcels_life_across_every_source(start(Some(schema.url()), loopback_ok(), None).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_weigh_scan_reprices_the_shipment_as_the_quote_would() {
    let t = start(None, loopback_ok(), None).await;
    let (id, number) = shipped(&t, "WEIGH-1").await;
    let (_, before) = call(&t.app, "GET", &format!("/v1/shipments/{id}"), &t.acme, "").await;
    let weigh = json!({"scans": [{"scan_id": "wg-1", "tracking_number": number, "type": "weigh", "weight_g": 2350, "time": "2026-11-24T16:15:00+08:00"}]}).to_string();
    let (s, r) = call(&t.app, "POST", "/v1/hub/scans", &t.admin, &weigh).await;
    assert_eq!(
        (s, r["results"][0]["result"].as_str()),
        (StatusCode::OK, Some("created")),
        "{r}"
    );
    let mut after = Value::Null;
    for _ in 0..100 {
        let (_, shp) = call(&t.app, "GET", &format!("/v1/shipments/{id}"), &t.acme, "").await;
        if shp["measured_weight_g"] == 2350 {
            after = shp;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(after["measured_weight_g"], 2350, "re-priced within 5 s");
    // The quote for the same parcel at the measured weight, same service and date.
    let mut q = json!({"customer": "acme", "ship_date": before["ship_date"], "origin": {"country": "CN", "postcode": "518000"},
        "destination": {"country": "DE", "postcode": "10115"}, "parcel": {"weight_g": 2350, "length_mm": 300, "width_mm": 200, "height_mm": 100},
        "declared_value": {"amount": "45.00", "currency": "EUR"},
        "contents": [{"description": "Phone case", "hs_code": "392690", "quantity": 2, "value": "45.00", "origin_country": "CN"}],
        "require": {"tracked": true, "services": [before["service"]]}, "currency": "EUR", "landed_cost": true});
    q["strategy"] = json!("cheapest");
    let (s, quote) = call(&t.app, "POST", "/v1/quotes", &t.acme, &q.to_string()).await;
    assert_eq!(s, StatusCode::OK, "{quote}");
    let option = &quote["options"][0];
    assert_eq!(after["chargeable_weight_g"], option["chargeable_weight_g"]);
    assert_ne!(after["chargeable_weight_g"], before["chargeable_weight_g"]);
    assert_eq!(after["sell"]["amount"], option["sell"], "{after}");
    assert_eq!(after["cost"]["amount"], option["cost"]);
    assert_eq!(
        after["tracking_number"], before["tracking_number"],
        "the labels stay"
    );
    let (_, events) = call(
        &t.app,
        "GET",
        &format!("/v1/events?type=shipment.repriced&subject={id}"),
        &t.admin,
        "",
    )
    .await;
    let e = &events["data"][0];
    assert_eq!(e["data"]["previous"]["sell"], before["sell"], "{events}");
    assert_eq!(e["data"]["shipment"]["sell"], after["sell"]);
    // The same weight again changes nothing; a weight the service cannot carry keeps the price.
    let heavy = json!({"scans": [{"scan_id": "wg-2", "tracking_number": number, "type": "weigh", "weight_g": 900_000, "time": "2026-11-24T16:20:00+08:00"}]}).to_string();
    call(&t.app, "POST", "/v1/hub/scans", &t.admin, &heavy).await;
    let mut refused = Value::Null;
    for _ in 0..100 {
        let (_, shp) = call(&t.app, "GET", &format!("/v1/shipments/{id}"), &t.acme, "").await;
        if shp["measured_weight_g"] == 900_000 {
            refused = shp;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(refused["sell"], after["sell"]);
    assert_eq!(
        refused["problems"][0]["code"], "REWEIGH_REFUSED",
        "{refused}"
    );
    t.rt.stop().await;
}

/// What a loopback receiver saw: (webhook-id, timestamp, signature, body).
type Seen = Arc<Mutex<Vec<(String, String, String, String)>>>;

/// A receiver that answers each request with the next of `script` (then 200); a 0 sleeps
/// past the client's timeout.
async fn receiver(script: Vec<u16>) -> (String, Seen) {
    let seen: Seen = Arc::default();
    let script = Arc::new(Mutex::new(std::collections::VecDeque::from(script)));
    let (s2, sc) = (seen.clone(), script.clone());
    let app = Router::new().fallback(move |headers: HeaderMap, body: String| {
        let (seen, script) = (s2.clone(), sc.clone());
        async move {
            let h = |n: &str| {
                headers
                    .get(n)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned()
            };
            seen.lock().unwrap().push((
                h("webhook-id"),
                h("webhook-timestamp"),
                h("webhook-signature"),
                body,
            ));
            let next = script.lock().unwrap().pop_front().unwrap_or(200);
            if next == 0 {
                tokio::time::sleep(Duration::from_secs(4)).await;
                return StatusCode::OK;
            }
            StatusCode::from_u16(next).unwrap()
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    (format!("http://{addr}/hooks"), seen)
}

async fn wait_for(seen: &Seen, n: usize, secs: u64) {
    for _ in 0..secs * 20 {
        if seen.lock().unwrap().len() >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "the receiver saw {} of {n} requests",
        seen.lock().unwrap().len()
    );
}

async fn scan(t: &T, scan_id: &str, number: &str, time: &str) {
    let body = json!({"scans": [{"scan_id": scan_id, "tracking_number": number, "type": "scan", "time": time}]}).to_string();
    let (s, r) = call(&t.app, "POST", "/v1/hub/scans", &t.admin, &body).await;
    assert_eq!(s, StatusCode::OK, "{r}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_are_signed_retried_with_one_id_and_dead_lettered() {
    let t = start(None, loopback_ok(), None).await;
    // Fails (500), times out, then recovers.
    let (url, seen) = receiver(vec![500, 0, 200]).await;
    let (s, ep) = call(
        &t.app,
        "POST",
        "/v1/webhooks",
        &t.acme,
        &json!({"url": url, "events": ["tracking.updated"]}).to_string(),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{ep}");
    assert_eq!(
        ep["customer"], "acme",
        "a shipper's endpoint is its customer's"
    );
    let secret = ep["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    let (_, got) = call(
        &t.app,
        "GET",
        &format!("/v1/webhooks/{}", ep["id"].as_str().unwrap()),
        &t.acme,
        "",
    )
    .await;
    assert!(got.get("secret").is_none(), "the secret is shown once");
    // Kept sealed: nothing stored reads as the secret (or a carrier's secret or token).
    connection(&t, json!({"format": "poll", "carrier": "p", "base_url": "http://127.0.0.1:9", "token": "tok-plain-42", "interval_s": 3600})).await;
    connection(
        &t,
        json!({"format": "17track", "carrier": "c", "secret": "s17-plain-42"}),
    )
    .await;
    let stored =
        t.rt.db
            .read(|tx| {
                let mut all: Vec<String> = Vec::new();
                for r in tx.query("SELECT secret FROM tracking_webhooks", &[])? {
                    all.push(r.get(0)?);
                }
                for r in tx.query(
                    "SELECT COALESCE(secret, ''), COALESCE(token, '') FROM tracking_connections",
                    &[],
                )? {
                    all.push(r.get(0)?);
                    all.push(r.get(1)?);
                }
                Ok::<_, crossdock_db::DbError>(all)
            })
            .await
            .unwrap();
    assert!(stored.len() >= 3, "{stored:?}");
    for value in &stored {
        assert!(
            !value.contains(&secret)
                && !value.contains("tok-plain-42")
                && !value.contains("s17-plain-42"),
            "{value}"
        );
        assert!(
            value.is_empty() || value.starts_with("sealed:v1:"),
            "{value}"
        );
    }
    let (s, _) = call(
        &t.app,
        "GET",
        &format!("/v1/webhooks/{}", ep["id"].as_str().unwrap()),
        &t.zeta,
        "",
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = call(
        &t.app,
        "POST",
        "/v1/webhooks",
        &t.acme,
        &json!({"url": url, "customer": "zeta"}).to_string(),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    let (id, number) = shipped(&t, "WH-1").await;
    scan(&t, "w1", &number, "2026-11-24T10:00:00Z").await;
    wait_for(&seen, 3, 15).await;
    let seen_now = seen.lock().unwrap().clone();
    let ids: Vec<&str> = seen_now.iter().map(|s| s.0.as_str()).collect();
    assert!(
        ids.iter().all(|i| *i == ids[0] && i.starts_with("evt_")),
        "one webhook-id across retries: {ids:?}"
    );
    for (wid, ts, sig, body) in &seen_now {
        let expected = standard_signature(&secret, wid, ts.parse().unwrap(), body.as_bytes());
        assert!(
            sig.split(' ').any(|s| s == expected),
            "signature of every attempt"
        );
    }
    let body: Value = serde_json::from_str(&seen_now[0].3).unwrap();
    assert_eq!(
        (body["type"].as_str(), body["subject"].as_str()),
        (Some("tracking.updated"), Some(id.as_str()))
    );
    assert_eq!(body["data"]["sequence"], 1);
    assert_eq!(
        (
            body["data"]["status"].as_str(),
            body["data"]["previous_status"].as_str()
        ),
        (Some("at_hub"), Some("info_received"))
    );
    assert_eq!(body["id"].as_str(), Some(ids[0]));
    // Delivered: no more attempts, nothing dead.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(seen.lock().unwrap().len(), 3);
    let (_, dead) = call(
        &t.app,
        "GET",
        &format!("/v1/webhooks/{}/dead-letters", ep["id"].as_str().unwrap()),
        &t.acme,
        "",
    )
    .await;
    assert!(dead["data"].as_array().unwrap().is_empty(), "{dead}");

    // 410 disables the endpoint and dead-letters the message; replay after re-enabling.
    let (gone_url, gone_seen) = receiver(vec![410]).await;
    let (_, ep2) = call(
        &t.app,
        "POST",
        "/v1/webhooks",
        &t.admin,
        &json!({"url": gone_url}).to_string(),
    )
    .await;
    let ep2 = ep2["id"].as_str().unwrap().to_owned();
    scan(&t, "w2", &number, "2026-11-25T10:00:00Z").await; // same status, new sub-status? no: HUB_IN again
    let desp = json!({"scans": [{"scan_id": "w3", "tracking_number": number, "type": "despatch", "time": "2026-11-26T10:00:00Z"}]}).to_string();
    call(&t.app, "POST", "/v1/hub/scans", &t.admin, &desp).await;
    wait_for(&gone_seen, 1, 10).await;
    let mut disabled = false;
    for _ in 0..40 {
        let (_, e) = call(&t.app, "GET", &format!("/v1/webhooks/{ep2}"), &t.admin, "").await;
        if e["status"] == "disabled" {
            disabled = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(disabled, "a 410 disables the endpoint");
    let (_, dead) = call(
        &t.app,
        "GET",
        &format!("/v1/webhooks/{ep2}/dead-letters"),
        &t.admin,
        "",
    )
    .await;
    let dead = dead["data"].as_array().unwrap().clone();
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(
        (
            dead[0]["attempts"].as_i64(),
            dead[0]["last_status"].as_i64()
        ),
        (Some(1), Some(410))
    );
    let (s, _) = call(
        &t.app,
        "PATCH",
        &format!("/v1/webhooks/{ep2}"),
        &t.admin,
        r#"{"status": "enabled"}"#,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, r) = call(
        &t.app,
        "POST",
        &format!("/v1/webhooks/{ep2}/dead-letters/replay"),
        &t.admin,
        "{}",
    )
    .await;
    assert_eq!((s, r["replayed"].as_i64()), (StatusCode::ACCEPTED, Some(1)));
    wait_for(&gone_seen, 2, 10).await;
    let g = gone_seen.lock().unwrap().clone();
    assert_eq!(g[0].0, g[1].0, "a replay keeps the webhook-id");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, dead) = call(
        &t.app,
        "GET",
        &format!("/v1/webhooks/{ep2}/dead-letters"),
        &t.admin,
        "",
    )
    .await;
    assert!(
        dead["data"].as_array().unwrap().is_empty(),
        "off the list once delivered: {dead}"
    );

    // Exhausted retries: a receiver that always fails ends as a dead letter after 1 + 3 attempts.
    let (bad_url, bad_seen) = receiver(vec![500, 500, 302, 503, 500]).await;
    let (_, ep3) = call(
        &t.app,
        "POST",
        "/v1/webhooks",
        &t.admin,
        &json!({"url": bad_url}).to_string(),
    )
    .await;
    let ep3 = ep3["id"].as_str().unwrap().to_owned();
    let ofd = json!({"scans": [{"scan_id": "w4", "tracking_number": number, "type": "weigh", "weight_g": 700, "time": "2026-11-27T10:00:00Z"}]}).to_string();
    call(&t.app, "POST", "/v1/hub/scans", &t.admin, &ofd).await;
    wait_for(&bad_seen, 4, 15).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        bad_seen.lock().unwrap().len(),
        4,
        "no attempt after the schedule ends (a 302 is not followed)"
    );
    let (_, dead) = call(
        &t.app,
        "GET",
        &format!("/v1/webhooks/{ep3}/dead-letters"),
        &t.admin,
        "",
    )
    .await;
    assert_eq!(dead["data"][0]["attempts"], 4, "{dead}");
    t.rt.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbound_addresses_that_reach_us_are_refused() {
    // A name that resolves to a public address at registration and to loopback afterwards.
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let c2 = calls.clone();
    let lookup: crossdock_tracking::webhooks::Lookup = Arc::new(move |name: &str| {
        let n = if name == "rebind.example.test" {
            c2.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        } else {
            0
        };
        match name {
            "rebind.example.test" if n == 0 => vec!["93.184.216.34".parse().unwrap()],
            "rebind.example.test" => vec!["127.0.0.1".parse().unwrap()],
            "localhost.example.test" => vec!["127.0.0.1".parse().unwrap()],
            "mixed.example.test" => vec![
                "93.184.216.34".parse().unwrap(),
                "10.0.0.1".parse().unwrap(),
            ],
            _ => Vec::new(),
        }
    });
    let config = crossdock_tracking::TrackingConfig {
        retry_delays_s: vec![1],
        timeout: Duration::from_secs(2),
        lookup: Some(lookup),
        ..Default::default()
    };
    let t = start(None, config, None).await;
    let (url, seen) = receiver(vec![]).await;
    let port = url
        .trim_start_matches("http://127.0.0.1:")
        .trim_end_matches("/hooks")
        .to_owned();
    let hosts = [
        "127.0.0.1",
        "127.1",
        "127.0.1",
        "2130706433",
        "0x7f000001",
        "0x7f.0.0.1",
        "017700000001",
        "0177.0.0.1",
        "127.000.000.001",
        "127.0.0.1.",
        "%31%32%37.0.0.1",
        "0",
        "0.0.0.0",
        "[::1]",
        "[0:0:0:0:0:0:0:1]",
        "[::]",
        "[::ffff:127.0.0.1]",
        "[::ffff:7f00:1]",
        "[::127.0.0.1]",
        "[fe80::1]",
        "[fc00::1]",
        "10.0.0.1",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "224.0.0.1",
        "255.255.255.255",
        "localhost.example.test",
        "mixed.example.test",
        "nowhere.example.test",
        "[64:ff9b::7f00:1]",
    ];
    for host in hosts {
        let target = format!("http://{host}:{port}/hooks");
        let (s, e) = call(
            &t.app,
            "POST",
            "/v1/webhooks",
            &t.admin,
            &json!({"url": target}).to_string(),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{target}: {e}");
        let (s, _) = call(
            &t.app,
            "POST",
            "/v1/carrier-connections",
            &t.admin,
            &json!({"format": "poll", "carrier": "x", "base_url": target, "token": "t"})
                .to_string(),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{target}");
    }
    for bad in [
        "ftp://example.com/",
        "http://user:pw@example.com/",
        "javascript:alert(1)",
    ] {
        let (s, _) = call(
            &t.app,
            "POST",
            "/v1/webhooks",
            &t.admin,
            &json!({"url": bad}).to_string(),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    // Registered while public; refused at delivery once it resolves to loopback.
    let (s, ep) = call(
        &t.app,
        "POST",
        "/v1/webhooks",
        &t.admin,
        &json!({"url": format!("http://rebind.example.test:{port}/hooks")}).to_string(),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{ep}");
    let (_, number) = shipped(&t, "SSRF-1").await;
    scan(&t, "s1", &number, "2026-11-24T10:00:00Z").await;
    let mut dead = Value::Null;
    for _ in 0..100 {
        let (_, d) = call(
            &t.app,
            "GET",
            &format!("/v1/webhooks/{}/dead-letters", ep["id"].as_str().unwrap()),
            &t.admin,
            "",
        )
        .await;
        if !d["data"].as_array().unwrap().is_empty() {
            dead = d;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(dead["data"][0]["last_status"], "refused_address", "{dead}");
    assert!(
        seen.lock().unwrap().is_empty(),
        "nothing reached the loopback receiver"
    );
    t.rt.stop().await;
}

/// A poll carrier on loopback: 500, then 429 (Retry-After 1), then three pages by cursor.
async fn fake_carrier(number: String) -> (String, Arc<Mutex<Vec<String>>>) {
    let asked: Arc<Mutex<Vec<String>>> = Arc::default();
    let a2 = asked.clone();
    let app = Router::new().route("/api/events", axum::routing::get(move |headers: HeaderMap, q: axum::extract::Query<std::collections::HashMap<String, String>>| {
        let (asked, number) = (a2.clone(), number.clone());
        async move {
            let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
            let cursor = q.get("cursor").cloned().unwrap_or_default();
            let n = {
                let mut a = asked.lock().unwrap();
                a.push(format!("{cursor}|{auth}|{}", q.get("limit").cloned().unwrap_or_default()));
                a.len()
            };
            let ev = |id: &str, code: &str, time: &str| json!({"id": id, "tracking_number": number, "code": code, "description": code,
                "time": time, "location": {"country": "DE", "city": "Leipzig", "facility": "LEJ"}});
            match (n, cursor.as_str()) {
                (1, _) => (StatusCode::INTERNAL_SERVER_ERROR, HeaderMap::new(), "oops".to_owned()),
                (2, _) => {
                    let mut h = HeaderMap::new();
                    h.insert("retry-after", "1".parse().unwrap());
                    (StatusCode::TOO_MANY_REQUESTS, h, String::new())
                }
                (_, "") => (StatusCode::OK, HeaderMap::new(), json!({"events": [ev("p1", "IN_TRANSIT", "2026-11-25T10:00:00+01:00")], "next_cursor": "c1", "has_more": true}).to_string()),
                (_, "c1") => (StatusCode::OK, HeaderMap::new(), json!({"events": [ev("p2", "ARRIVED_DEST", "2026-11-26T10:00:00+01:00")], "next_cursor": "c2", "has_more": true}).to_string()),
                (_, "c2") => (StatusCode::OK, HeaderMap::new(), json!({"events": [ev("p3", "OUT_FOR_DELIVERY", "2026-11-27T08:00:00+01:00"), ev("p2", "ARRIVED_DEST", "2026-11-26T10:00:00+01:00")], "next_cursor": "c3", "has_more": false}).to_string()),
                _ => (StatusCode::OK, HeaderMap::new(), json!({"events": [], "next_cursor": null, "has_more": false}).to_string()),
            }
        }
    }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    (format!("http://{addr}/api"), asked)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poll_carrier_is_followed_by_cursor_through_failures_and_a_restart() {
    let dir = temp_dir("poll");
    let t = start(None, loopback_ok(), Some(dir.clone())).await;
    let (id, number) = shipped(&t, "POLL-1").await;
    let (base, asked) = fake_carrier(number.clone()).await;
    let (s, c) = call(&t.app, "POST", "/v1/carrier-connections", &t.admin,
        &json!({"format": "poll", "carrier": "leipzig-post", "base_url": base, "token": "tok-1", "interval_s": 3600, "rate_per_s": 2}).to_string()).await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    // 500 → back off 1 s; 429 → wait 1 s; then the first page (has_more) → at once the second.
    for _ in 0..200 {
        if asked.lock().unwrap().len() >= 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    // Stop mid-cursor (after page 2 was asked, maybe before it was stored), start again on the same data.
    t.rt.stop().await;
    let t = start(None, loopback_ok(), Some(dir)).await;
    let mut status = Value::Null;
    for _ in 0..200 {
        let (_, tl) = call(
            &t.app,
            "GET",
            &format!("/v1/shipments/{id}/tracking"),
            &t.admin,
            "",
        )
        .await;
        status = tl["sub_status"].clone();
        if status == "OUT_FOR_DELIVERY" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status, "OUT_FOR_DELIVERY");
    let (_, tl) = call(
        &t.app,
        "GET",
        &format!("/v1/shipments/{id}/tracking"),
        &t.admin,
        "",
    )
    .await;
    assert_eq!(
        tl["events"].as_array().unwrap().len(),
        3,
        "each event once: {tl}"
    );
    let asked = asked.lock().unwrap().clone();
    assert!(
        asked.iter().all(|a| a.ends_with("|Bearer tok-1|100")),
        "{asked:?}"
    );
    let cursors: Vec<&str> = asked.iter().map(|a| a.split('|').next().unwrap()).collect();
    assert_eq!(
        &cursors[..3],
        ["", "", ""],
        "the 500 and the 429 are asked again from the start: {cursors:?}"
    );
    assert!(
        cursors.contains(&"c1") && cursors.contains(&"c2"),
        "{cursors:?}"
    );
    // The cursor only moves forward: after c1 is asked, "" is never asked again.
    let first_c1 = cursors.iter().position(|c| *c == "c1").unwrap();
    assert!(
        cursors[first_c1..].iter().all(|c| !c.is_empty()),
        "{cursors:?}"
    );
    let (_, list) = call(&t.app, "GET", "/v1/carrier-connections", &t.admin, "").await;
    assert_eq!(list["data"][0]["cursor"], "c3", "{list}");
    assert!(list["data"][0].get("token").is_none());
    t.rt.stop().await;
}
