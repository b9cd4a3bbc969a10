//! Orders, shipments and numbers through the whole runtime in-process (orders-labels.md):
//! the contract's rules table-driven, shipments compared with `POST /v1/quotes`, tenant
//! and customer walls, `Idempotency-Key`, numbers checked by an independent S10 and Luhn
//! computation written here from the standard, not from the code under test.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

mod orders_common;
use orders_common::*;

async fn call_with(
    app: &Router,
    method: &str,
    uri: &str,
    key: &str,
    body: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, Value, Vec<(String, String)>) {
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .header("Authorization", format!("Bearer {key}"));
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::from(body.to_owned())).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let headers = response
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, value, headers)
}

async fn call(app: &Router, method: &str, uri: &str, key: &str, body: &str) -> (StatusCode, Value) {
    let (s, v, _) = call_with(app, method, uri, key, body, &[]).await;
    (s, v)
}

/// Creates the example order under `reference` and ships it: (order, shipment), both 201.
async fn create_and_ship(h: &H, key: &str, reference: &str) -> (Value, Value) {
    let (s, created) = call(
        &h.app,
        "POST",
        "/v1/orders",
        key,
        &order(reference).to_string(),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().expect("an order id");
    let (s, shipment) = call(&h.app, "POST", &format!("/v1/orders/{id}/ship"), key, "").await;
    assert_eq!(s, StatusCode::CREATED, "{shipment}");
    (created, shipment)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_is_created_once_per_reference() {
    let h = harness().await;
    let body = order("SO-1").to_string();
    let (s, first) = call(&h.app, "POST", "/v1/orders", &h.acme, &body).await;
    assert_eq!(s, StatusCode::CREATED, "{first}");
    assert_eq!(first["status"], "ready", "{first}");
    assert_eq!(first["customer"], "acme");
    assert_eq!(first["source"], "api");
    assert_eq!(first["problems"], json!([]));
    assert!(
        first["id"].as_str().unwrap().starts_with("ord_")
            && first["id"].as_str().unwrap().len() >= 4 + 16
    );
    let (s, again) = call(&h.app, "POST", "/v1/orders", &h.acme, &body).await;
    assert_eq!((s, &again["id"]), (StatusCode::OK, &first["id"]));
    let mut changed = order("SO-1");
    changed["parcel"]["weight_g"] = json!(701);
    let (s, e) = call(&h.app, "POST", "/v1/orders", &h.acme, &changed.to_string()).await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    assert_eq!(e["error"], "idempotency_mismatch");
    assert_eq!(e["problems"][0]["field"], "reference");
    // Another customer may use the same reference.
    let (s, _) = call(&h.app, "POST", "/v1/orders", &h.zeta, &body).await;
    assert_eq!(s, StatusCode::CREATED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_orders_are_refused_whole_and_nothing_is_stored() {
    let h = harness().await;
    let cases: Vec<(&str, Value, &str)> = vec![
        ("unknown field", json!({"colour": "red"}), "colour"),
        (
            "lower-case country",
            json!({"recipient": {"country": "de"}}),
            "recipient.country",
        ),
        (
            "weight as text",
            json!({"parcel": {"weight_g": "700"}}),
            "parcel.weight_g",
        ),
        (
            "amount as a number",
            json!({"declared_value": {"amount": 45.0, "currency": "EUR"}}),
            "declared_value.amount",
        ),
        (
            "bad currency",
            json!({"declared_value": {"amount": "45.00", "currency": "eur"}}),
            "declared_value.currency",
        ),
        ("bad battery", json!({"battery": "PI999"}), "battery"),
        (
            "bad category",
            json!({"customs_category": "bribe"}),
            "customs_category",
        ),
        (
            "hs letters",
            json!({"contents": [{"description": "x", "hs_code": "39AB", "value": "45.00"}]}),
            "contents[0].hs_code",
        ),
        ("no reference", json!({"reference": null}), "reference"),
        (
            "reference too long",
            json!({"reference": "x".repeat(65)}),
            "reference",
        ),
    ];
    for (what, patch, field) in cases {
        let mut o = order("SO-BAD");
        crossdock_orders::merge_patch(&mut o, &patch);
        if patch.get("reference").is_some_and(Value::is_null) {
            o.as_object_mut().unwrap().remove("reference");
        }
        let (s, e) = call(&h.app, "POST", "/v1/orders", &h.acme, &o.to_string()).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{what}: {e}");
        assert!(
            e["problems"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["field"] == field),
            "{what}: {field} not named in {e}"
        );
    }
    let (s, list) = call(&h.app, "GET", "/v1/orders", &h.admin, "").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(list["data"], json!([]), "a refused order left a trace");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn held_orders_name_every_problem_and_are_corrected_by_patch() {
    let h = harness().await;
    let cases: Vec<(&str, Value, &str, &str)> = vec![
        (
            "DE postcode",
            json!({"recipient": {"postcode": "1011"}}),
            "recipient.postcode",
            "POSTCODE_FORMAT",
        ),
        (
            "no city",
            json!({"recipient": {"city": null}}),
            "recipient.city",
            "REQUIRED",
        ),
        (
            "CN region required",
            json!({"shipper": {"region": null}}),
            "shipper.region",
            "REQUIRED",
        ),
        (
            "no weight",
            json!({"parcel": {"weight_g": null}}),
            "parcel.weight_g",
            "REQUIRED",
        ),
        (
            "no contents",
            json!({"contents": []}),
            "contents",
            "REQUIRED",
        ),
        (
            "unknown subheading",
            json!({"contents": [{"description": "Phone case", "hs_code": "999999", "value": "45.00"}]}),
            "contents[0].hs_code",
            "HS_UNKNOWN",
        ),
        (
            "generic description",
            json!({"contents": [{"description": "gift", "hs_code": "392690", "value": "45.00"}]}),
            "contents[0].description",
            "GENERIC_DESCRIPTION",
        ),
        (
            "value mismatch",
            json!({"declared_value": {"amount": "50.00"}}),
            "declared_value.amount",
            "VALUE_MISMATCH",
        ),
    ];
    for (i, (what, patch, field, code)) in cases.into_iter().enumerate() {
        let mut o = order(&format!("SO-H{i}"));
        crossdock_orders::merge_patch(&mut o, &patch);
        let (s, created) = call(&h.app, "POST", "/v1/orders", &h.acme, &o.to_string()).await;
        assert_eq!(s, StatusCode::CREATED, "{what}: {created}");
        assert_eq!(created["status"], "held", "{what}: {created}");
        assert!(
            created["problems"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["field"] == field && p["code"] == code),
            "{what}: {field} {code} not in {}",
            created["problems"]
        );
    }
    // A held order cannot ship: 409 with its problems, and no number is taken.
    let mut o = order("SO-FIX");
    o["recipient"]["postcode"] = json!("1011");
    let (_, created) = call(&h.app, "POST", "/v1/orders", &h.acme, &o.to_string()).await;
    let id = created["id"].as_str().unwrap();
    let (s, e) = call(
        &h.app,
        "POST",
        &format!("/v1/orders/{id}/ship"),
        &h.acme,
        "",
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    assert_eq!(e["problems"][0]["field"], "recipient.postcode");
    // The fix: a merge patch; reference and customer cannot change.
    let (s, e) = call(
        &h.app,
        "PATCH",
        &format!("/v1/orders/{id}"),
        &h.acme,
        r#"{"reference": "SO-2"}"#,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    let (s, fixed) = call(
        &h.app,
        "PATCH",
        &format!("/v1/orders/{id}"),
        &h.acme,
        r#"{"recipient": {"postcode": " 10115 "}}"#,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{fixed}");
    assert_eq!(
        (
            fixed["status"].as_str(),
            fixed["recipient"]["postcode"].as_str()
        ),
        (Some("ready"), Some("10115"))
    );
    let (s, shipment) = call(
        &h.app,
        "POST",
        &format!("/v1/orders/{id}/ship"),
        &h.acme,
        "",
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{shipment}");
    // The first number of the installation's CD sequence: the held attempt took none.
    assert_eq!(shipment["tracking_number"], "CD00000000018");
    let (s, _) = call(
        &h.app,
        "PATCH",
        &format!("/v1/orders/{id}"),
        &h.acme,
        r#"{"parcel": {"weight_g": 800}}"#,
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shipment_is_priced_exactly_as_the_quote_and_issued_once() {
    let h = harness().await;
    let (_, created) = call(
        &h.app,
        "POST",
        "/v1/orders",
        &h.acme,
        &order("SO-Q").to_string(),
    )
    .await;
    let id = created["id"].as_str().unwrap();
    let (s, shipment) = call(
        &h.app,
        "POST",
        &format!("/v1/orders/{id}/ship"),
        &h.acme,
        r#"{"ship_date": "2026-11-24"}"#,
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{shipment}");
    let quote = json!({"customer": "acme", "ship_date": "2026-11-24",
        "origin": {"country": "CN", "postcode": "518000"}, "destination": {"country": "DE", "postcode": "10115"},
        "parcel": {"weight_g": 700, "length_mm": 300, "width_mm": 200, "height_mm": 100},
        "declared_value": {"amount": "45.00", "currency": "EUR"},
        "contents": [{"description": "Phone case", "hs_code": "392690", "quantity": 2, "value": "45.00", "origin_country": "CN"}],
        "require": {"tracked": true}, "strategy": "cheapest", "currency": "EUR", "landed_cost": true});
    let (s, answer) = call(&h.app, "POST", "/v1/quotes", &h.acme, &quote.to_string()).await;
    assert_eq!(s, StatusCode::OK, "{answer}");
    let best = &answer["options"][0];
    assert_eq!(shipment["service"], best["service"]);
    assert_eq!(shipment["carrier"], best["carrier"]);
    assert_eq!(
        shipment["sell"],
        json!({"amount": best["sell"], "currency": "EUR"})
    );
    assert_eq!(
        shipment["cost"],
        json!({"amount": best["cost"], "currency": "EUR"})
    );
    assert_eq!(shipment["rate_book"], answer["rate_book"]);
    assert_eq!(shipment["chargeable_weight_g"], best["chargeable_weight_g"]);
    assert_eq!(shipment["transit_days"], best["transit_days"]);
    assert_eq!(shipment["landed_cost"], best["landed_cost"]);
    let lines: Vec<Value> = best["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| json!({"code": l["code"], "amount": l["amount"], "currency": "EUR"}))
        .collect();
    assert_eq!(shipment["lines"], json!(lines));
    assert_eq!(shipment["status"], "labelled");
    assert_eq!(shipment["customs_form"], "CN22");
    assert!(!shipment["zone"].as_str().unwrap().is_empty());
    let number = shipment["tracking_number"].as_str().unwrap();
    assert!(internal_ok(number), "{number}");
    assert_eq!(shipment["segments"][0]["tracking_number"], number);
    // Again: the same shipment, nothing issued.
    let (s, again) = call(
        &h.app,
        "POST",
        &format!("/v1/orders/{id}/ship"),
        &h.acme,
        "",
    )
    .await;
    assert_eq!((s, &again["id"]), (StatusCode::OK, &shipment["id"]));
    let (_, order_now) = call(&h.app, "GET", &format!("/v1/orders/{id}"), &h.acme, "").await;
    assert_eq!(
        (order_now["status"].as_str(), &order_now["shipment"]),
        (Some("shipped"), &shipment["id"])
    );
    // Found by its number; its creation is an event.
    let (_, found) = call(
        &h.app,
        "GET",
        &format!("/v1/shipments?tracking_number={number}"),
        &h.acme,
        "",
    )
    .await;
    assert_eq!(found["data"][0]["id"], shipment["id"]);
    let sid = shipment["id"].as_str().unwrap();
    let (s, events) = call(
        &h.app,
        "GET",
        &format!("/v1/events?subject={sid}"),
        &h.admin,
        "",
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{events}");
    assert_eq!(events["data"].as_array().unwrap().len(), 1);
    assert_eq!(events["data"][0]["type"], "shipment.created");
    assert_eq!(events["data"][0]["data"]["shipment"]["id"], shipment["id"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn voided_numbers_are_never_reissued_and_states_are_enforced() {
    let h = harness().await;
    let (created, first) = create_and_ship(&h, &h.acme, "SO-V").await;
    let id = created["id"].as_str().unwrap();
    let sid = first["id"].as_str().unwrap();
    let (s, voided) = call(
        &h.app,
        "POST",
        &format!("/v1/shipments/{sid}/void"),
        &h.acme,
        "",
    )
    .await;
    assert_eq!(
        (s, voided["status"].as_str()),
        (StatusCode::OK, Some("voided")),
        "{voided}"
    );
    assert!(voided["voided_at"].is_string());
    let (s, again) = call(
        &h.app,
        "POST",
        &format!("/v1/shipments/{sid}/void"),
        &h.acme,
        "",
    )
    .await;
    assert_eq!((s, &again), (StatusCode::OK, &voided));
    let (_, order_now) = call(&h.app, "GET", &format!("/v1/orders/{id}"), &h.acme, "").await;
    assert_eq!(order_now["status"], "ready");
    let (s, second) = call(
        &h.app,
        "POST",
        &format!("/v1/orders/{id}/ship"),
        &h.acme,
        "",
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{second}");
    assert_ne!(second["tracking_number"], first["tracking_number"]);
    assert_eq!(
        (
            first["tracking_number"].as_str(),
            second["tracking_number"].as_str()
        ),
        (Some("CD00000000018"), Some("CD00000000026"))
    );
    // Hand-over needs an operator; after it, no void.
    let sid2 = second["id"].as_str().unwrap();
    let (s, _) = call(
        &h.app,
        "POST",
        &format!("/v1/shipments/{sid2}/handover"),
        &h.acme,
        "",
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, handed) = call(
        &h.app,
        "POST",
        &format!("/v1/shipments/{sid2}/handover"),
        &h.admin,
        "",
    )
    .await;
    assert_eq!(
        (s, handed["status"].as_str()),
        (StatusCode::OK, Some("handed_over"))
    );
    let (s, again) = call(
        &h.app,
        "POST",
        &format!("/v1/shipments/{sid2}/handover"),
        &h.admin,
        "",
    )
    .await;
    assert_eq!((s, &again), (StatusCode::OK, &handed));
    let (s, e) = call(
        &h.app,
        "POST",
        &format!("/v1/shipments/{sid2}/void"),
        &h.admin,
        "",
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_tenants_and_customers_see_nothing() {
    let h = harness().await;
    let (created, shipment) = create_and_ship(&h, &h.acme, "SO-W").await;
    let id = created["id"].as_str().unwrap();
    let sid = shipment["id"].as_str().unwrap();
    for key in [&h.other, &h.zeta] {
        for (method, uri) in [
            ("GET", format!("/v1/orders/{id}")),
            ("PATCH", format!("/v1/orders/{id}")),
            ("POST", format!("/v1/orders/{id}/ship")),
            ("GET", format!("/v1/shipments/{sid}")),
            ("POST", format!("/v1/shipments/{sid}/void")),
        ] {
            let (s, e) = call(&h.app, method, &uri, key, "{}").await;
            assert_eq!(s, StatusCode::NOT_FOUND, "{method} {uri}: {e}");
        }
        let (_, list) = call(&h.app, "GET", "/v1/orders", key, "").await;
        assert_eq!(list["data"], json!([]));
        let (_, list) = call(&h.app, "GET", "/v1/shipments", key, "").await;
        assert_eq!(list["data"], json!([]));
    }
    // A shipper naming another customer: 403; an admin key must name one.
    let mut o = order("SO-X");
    o["customer"] = json!("zeta");
    let (s, _) = call(&h.app, "POST", "/v1/orders", &h.acme, &o.to_string()).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, e) = call(
        &h.app,
        "POST",
        "/v1/orders",
        &h.admin,
        &order("SO-Y").to_string(),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    let (s, made) = call(&h.app, "POST", "/v1/orders", &h.admin, &o.to_string()).await;
    assert_eq!(
        (s, made["customer"].as_str()),
        (StatusCode::CREATED, Some("zeta"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idempotency_key_answers_its_first_answer() {
    let h = harness().await;
    let body = order("SO-I").to_string();
    let hdr = [("Idempotency-Key", "k-1")];
    let (s1, a1, _) = call_with(&h.app, "POST", "/v1/orders", &h.acme, &body, &hdr).await;
    let (s2, a2, headers) = call_with(&h.app, "POST", "/v1/orders", &h.acme, &body, &hdr).await;
    assert_eq!(
        (s1, s2),
        (StatusCode::CREATED, StatusCode::CREATED),
        "the same status, not the reference's 200"
    );
    assert_eq!(a1, a2);
    assert!(
        headers
            .iter()
            .any(|(k, v)| k == "idempotent-replayed" && v == "true")
    );
    let (s, e, _) = call_with(
        &h.app,
        "POST",
        "/v1/orders",
        &h.acme,
        &order("SO-J").to_string(),
        &hdr,
    )
    .await;
    assert_eq!(
        (s, e["error"].as_str()),
        (StatusCode::CONFLICT, Some("idempotency_mismatch"))
    );
    // Scoped to the tenant: another tenant's same key is its own.
    let mut o = order("SO-I");
    o["customer"] = json!("acme");
    let (s, _, _) = call_with(&h.app, "POST", "/v1/orders", &h.other, &o.to_string(), &hdr).await;
    assert_eq!(s, StatusCode::CREATED);
    let bad = [("Idempotency-Key", "")];
    let (s, _, _) = call_with(&h.app, "POST", "/v1/orders", &h.acme, &body, &bad).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s10_ranges_issue_checked_numbers_until_exhausted() {
    let h = harness().await;
    // Which carrier does the example order's first segment use?
    let (_, probe) = create_and_ship(&h, &h.acme, "SO-R0").await;
    let carrier = probe["segments"][0]["carrier"].as_str().unwrap().to_owned();
    let bad = json!({"carrier": carrier, "format": "s10", "service_indicator": "JJ", "country": "CN", "first": 10, "last": 5});
    let (s, e) = call(
        &h.app,
        "POST",
        "/v1/number-ranges",
        &h.admin,
        &bad.to_string(),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    let range = json!({"carrier": carrier, "format": "s10", "service_indicator": "RR", "country": "CN", "first": 12345678, "last": 12345679});
    let (s, e) = call(
        &h.app,
        "POST",
        "/v1/number-ranges",
        &h.acme,
        &range.to_string(),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{e}");
    let (s, made) = call(
        &h.app,
        "POST",
        "/v1/number-ranges",
        &h.admin,
        &range.to_string(),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{made}");
    assert_eq!(
        (made["next"].as_i64(), made["remaining"].as_i64()),
        (Some(12345678), Some(2))
    );
    let overlapping = json!({"carrier": "Other", "format": "s10", "service_indicator": "RR", "country": "CN", "first": 12345679, "last": 12345700});
    let (s, _) = call(
        &h.app,
        "POST",
        "/v1/number-ranges",
        &h.admin,
        &overlapping.to_string(),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    let mut numbers = Vec::new();
    for i in 1..=3 {
        let (_, o) = call(
            &h.app,
            "POST",
            "/v1/orders",
            &h.acme,
            &order(&format!("SO-R{i}")).to_string(),
        )
        .await;
        let (s, shipped) = call(
            &h.app,
            "POST",
            &format!("/v1/orders/{}/ship", o["id"].as_str().unwrap()),
            &h.acme,
            "",
        )
        .await;
        if i <= 2 {
            assert_eq!(s, StatusCode::CREATED, "{shipped}");
            numbers.push(shipped["tracking_number"].as_str().unwrap().to_owned());
        } else {
            assert_eq!(
                (s, shipped["error"].as_str()),
                (StatusCode::UNPROCESSABLE_ENTITY, Some("range_exhausted")),
                "{shipped}"
            );
        }
    }
    for (n, serial) in numbers.iter().zip(["12345678", "12345679"]) {
        assert_eq!(&n[..2], "RR");
        assert_eq!(&n[2..10], serial);
        assert_eq!(n[10..11].parse::<u32>().unwrap(), s10_digit(serial), "{n}");
        assert_eq!(&n[11..], "CN");
    }
    let (_, ranges) = call(&h.app, "GET", "/v1/number-ranges", &h.admin, "").await;
    assert_eq!(ranges["data"][0]["remaining"], 0);
}

#[test]
fn the_independent_check_digits_agree_with_the_standards_examples() {
    assert_eq!(s10_digit("12345678"), 5, "RB123456785GB");
    assert!(internal_ok("CD00000000018") && internal_ok("CD00000000026"));
    assert!(!internal_ok("CD00000000019"));
}

/// Many clients ship many orders at once, each order also shipped twice concurrently: every
/// order gets exactly one shipment, and no number is issued twice.
async fn concurrent_shipping_issues_each_number_once(h: H) {
    const ORDERS: usize = 120;
    let mut ids = Vec::new();
    for i in 0..ORDERS {
        let (s, o) = call(
            &h.app,
            "POST",
            "/v1/orders",
            &h.acme,
            &order(&format!("SO-C{i}")).to_string(),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{o}");
        ids.push(o["id"].as_str().unwrap().to_owned());
    }
    let mut tasks = tokio::task::JoinSet::new();
    for id in ids.iter().chain(ids.iter()) {
        let (app, key, id) = (h.app.clone(), h.acme.clone(), id.clone());
        tasks.spawn(async move {
            let (s, shipment) =
                call(&app, "POST", &format!("/v1/orders/{id}/ship"), &key, "").await;
            assert!(
                s == StatusCode::CREATED || s == StatusCode::OK,
                "{s}: {shipment}"
            );
            (
                id,
                shipment["id"].as_str().unwrap().to_owned(),
                shipment["tracking_number"].as_str().unwrap().to_owned(),
            )
        });
    }
    let mut by_order = std::collections::HashMap::new();
    let mut numbers = std::collections::HashSet::new();
    while let Some(done) = tasks.join_next().await {
        let (order, shipment, number) = done.unwrap();
        if let Some(previous) = by_order.insert(order.clone(), (shipment.clone(), number.clone())) {
            assert_eq!(
                previous,
                (shipment, number),
                "order {order} got two shipments"
            );
        } else {
            assert!(numbers.insert(number.clone()), "{number} issued twice");
            assert!(internal_ok(&number), "{number}");
        }
    }
    assert_eq!((by_order.len(), numbers.len()), (ORDERS, ORDERS));
    let (_, list) = call(&h.app, "GET", "/v1/shipments?limit=1000", &h.admin, "").await;
    assert_eq!(list["data"].as_array().unwrap().len(), ORDERS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_shipping_on_sqlite() {
    concurrent_shipping_issues_each_number_once(harness().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_shipping_on_postgres() {
    let Some(schema) = crossdock_db::testing::PgSchema::create() else {
        return;
    };
    concurrent_shipping_issues_each_number_once(harness_on(Some(schema.url())).await).await;
}

async fn raw(app: &Router, uri: &str, key: &str) -> (StatusCode, Vec<u8>, String) {
    let request = Request::builder()
        .uri(uri)
        .header("Authorization", format!("Bearer {key}"))
        .body(Body::empty())
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let ct = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (
        status,
        response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
        ct,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn labels_are_issued_with_the_shipment_and_reprinted_byte_for_byte() {
    let h = harness().await;
    let (_, shipment) = create_and_ship(&h, &h.acme, "SO-L").await;
    let sid = shipment["id"].as_str().unwrap();
    let number = shipment["tracking_number"].as_str().unwrap();
    assert_eq!(
        shipment["segments"][0]["label"]["zpl"],
        format!("/v1/shipments/{sid}/labels/1.zpl")
    );
    let (s, zpl, ct) = raw(
        &h.app,
        &format!("/v1/shipments/{sid}/labels/1.zpl"),
        &h.acme,
    )
    .await;
    assert_eq!((s, ct.as_str()), (StatusCode::OK, "application/zpl"));
    let zpl = String::from_utf8(zpl).unwrap();
    assert!(
        zpl.starts_with("^XA") && zpl.trim_end().ends_with("^XZ"),
        "{zpl}"
    );
    for part in ["^CI28", "^PW812", "^LL1218", "GERMANY", "0.700 kg", "CN 22"] {
        assert!(zpl.contains(part), "{part} missing from {zpl}");
    }
    let zone = shipment["zone"].as_str().unwrap();
    let service = shipment["service"].as_str().unwrap();
    let matrix = format!("CD1|{number}|{sid}|1|DE|10115|{zone}|{service}|700");
    assert!(
        zpl.contains(&format!("^FD{matrix}^FS")),
        "the DataMatrix content {matrix} is not in {zpl}"
    );
    assert!(
        zpl.contains(&format!("^FD{number}^FS")),
        "the Code 128 of {number} is not in {zpl}"
    );
    let (_, again, _) = raw(
        &h.app,
        &format!("/v1/shipments/{sid}/labels/1.zpl"),
        &h.admin,
    )
    .await;
    assert_eq!(again, zpl.as_bytes(), "a reprint differs");
    let (s, pdf, ct) = raw(
        &h.app,
        &format!("/v1/shipments/{sid}/labels/1.pdf"),
        &h.acme,
    )
    .await;
    assert_eq!((s, ct.as_str()), (StatusCode::OK, "application/pdf"));
    assert!(pdf.starts_with(b"%PDF-"));
    let (_, pdf_again, _) = raw(
        &h.app,
        &format!("/v1/shipments/{sid}/labels/1.pdf"),
        &h.acme,
    )
    .await;
    assert_eq!(pdf, pdf_again);
    // Not issued, not a label, another tenant or customer: 404.
    for (uri, key) in [
        (format!("/v1/shipments/{sid}/labels/9.zpl"), &h.acme),
        (format!("/v1/shipments/{sid}/labels/1.png"), &h.acme),
        (format!("/v1/shipments/{sid}/labels/1.zpl"), &h.other),
        (format!("/v1/shipments/{sid}/labels/1.pdf"), &h.zeta),
    ] {
        let (s, _, _) = raw(&h.app, &uri, key).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{uri}");
    }
    // Relabel: the next segment if the service has one, else 409.
    let segments = shipment["segments"].as_array().unwrap().len();
    let (s, relabelled) = call(
        &h.app,
        "POST",
        &format!("/v1/shipments/{sid}/relabel"),
        &h.admin,
        "",
    )
    .await;
    if segments > 1 {
        assert_eq!(s, StatusCode::CREATED, "{relabelled}");
        let (s, _, _) = raw(
            &h.app,
            &format!("/v1/shipments/{sid}/labels/2.zpl"),
            &h.acme,
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        let (s, _) = call(
            &h.app,
            "POST",
            &format!("/v1/shipments/{sid}/relabel"),
            &h.admin,
            r#"{"seq": 2}"#,
        )
        .await;
        assert_eq!(s, StatusCode::OK);
    } else {
        assert_eq!(s, StatusCode::CONFLICT, "{relabelled}");
    }
    // Voided: its labels answer 409.
    let (s, _) = call(
        &h.app,
        "POST",
        &format!("/v1/shipments/{sid}/void"),
        &h.acme,
        "",
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _, _) = raw(
        &h.app,
        &format!("/v1/shipments/{sid}/labels/1.zpl"),
        &h.acme,
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
}
