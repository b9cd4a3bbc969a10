//! Orders in bulk through the whole runtime in-process (orders-labels.md, "Orders in
//! bulk"): CSV and Parquet uploads row by row, files refused whole, `?ship=true`, tenant and
//! customer walls, the template, the inbox, signed inbound webhooks (signed here with the
//! `hmac` crate directly and checked against the published Standard Webhooks vector), and
//! `crossdock orders import` as a process, in-process and against a served runtime.

use arrow_array::{ArrayRef, BooleanArray, Decimal128Array, Int64Array, RecordBatch, StringArray};
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use crossdock::{Config, Runtime};
use hmac::{Hmac, KeyInit, Mac};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tower::ServiceExt;

mod orders_common;
use orders_common::*;

async fn send(
    app: &Router,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> (StatusCode, Value, Vec<u8>) {
    let mut request = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::from(body)).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, value, bytes.to_vec())
}

async fn call(app: &Router, method: &str, uri: &str, key: &str, body: &str) -> (StatusCode, Value) {
    let auth = format!("Bearer {key}");
    let (s, v, _) = send(
        app,
        method,
        uri,
        &[("Authorization", &auth)],
        body.as_bytes().to_vec(),
    )
    .await;
    (s, v)
}

async fn upload(
    app: &Router,
    uri: &str,
    key: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (StatusCode, Value) {
    let auth = format!("Bearer {key}");
    let (s, v, _) = send(
        app,
        "POST",
        uri,
        &[("Authorization", &auth), ("Content-Type", content_type)],
        body,
    )
    .await;
    (s, v)
}

const CSV: &str = "text/csv";
const PARQUET: &str = "application/vnd.apache.parquet";

/// The columns a test file has, and a good row for them (the contract's example order).
const HEADER: &str = "reference,customer,shipper_name,shipper_line1,shipper_city,shipper_region,shipper_postcode,shipper_country,\
recipient_name,recipient_line1,recipient_city,recipient_postcode,recipient_country,weight_g,length_mm,width_mm,height_mm,\
value_amount,value_currency,strategy,tracked_required,currency,item1_description,item1_hs_code,item1_quantity,item1_value,\
item1_origin_country,item2_description,item2_hs_code,item2_quantity,item2_value,item2_origin_country";

/// A good row; `edit` rewrites cells by column name.
fn row(reference: &str, edit: &[(&str, &str)]) -> String {
    let names: Vec<&str> = HEADER.split(',').collect();
    let mut cells: Vec<String> = [
        reference,
        "",
        "Li Wei",
        "18 Keji Rd",
        "Shenzhen",
        "Guangdong",
        "518000",
        "CN",
        "Anna Schmidt",
        "Invalidenstr. 116",
        "Berlin",
        "10115",
        "DE",
        "700",
        "300",
        "200",
        "100",
        "45.00",
        "EUR",
        "cheapest",
        "true",
        "EUR",
        "Phone case",
        "392690",
        "2",
        "45.00",
        "CN",
        "",
        "",
        "",
        "",
        "",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    assert_eq!(cells.len(), names.len());
    for (name, value) in edit {
        let at = names.iter().position(|n| n == name).expect(name);
        cells[at] = (*value).to_owned();
    }
    cells
        .iter()
        .map(|c| {
            if c.contains(',') || c.contains('"') {
                format!("\"{}\"", c.replace('"', "\"\""))
            } else {
                c.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn csv_file(rows: &[String]) -> Vec<u8> {
    let mut text = format!("{HEADER}\n");
    for r in rows {
        text.push_str(r);
        text.push('\n');
    }
    text.into_bytes()
}

/// Uploads `rows` with `?ship=true` as acme's shipper; the upload itself must answer 200.
async fn upload_shipping(h: &H, rows: &[String]) -> Value {
    let (s, answer) = upload(
        &h.app,
        "/v1/orders/upload?ship=true",
        &h.acme,
        CSV,
        csv_file(rows),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{answer}");
    answer
}

fn fields(problems: &Value) -> Vec<(String, String)> {
    problems
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["field"].as_str().unwrap_or("").to_owned(),
                p["column"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

async fn orders_of(h: &H, key: &str, query: &str) -> Vec<Value> {
    let (s, page) = call(
        &h.app,
        "GET",
        &format!("/v1/orders?limit=1000&{query}"),
        key,
        "",
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{page}");
    page["data"].as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_csv_upload_answers_every_row() {
    let h = harness().await;
    // An order that exists before the upload: its row answers duplicate.
    let before = row("SO-0", &[]);
    let (s, first) = upload(
        &h.app,
        "/v1/orders/upload",
        &h.acme,
        CSV,
        csv_file(std::slice::from_ref(&before)),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{first}");
    assert_eq!(first["results"][0]["status"], "created");
    let rows = vec![
        row("SO-1", &[]),
        before,
        row("SO-1", &[]),
        row("SO-1", &[("weight_g", "701")]),
        row("SO-2", &[("weight_g", "abc")]),
        row(
            "SO-3",
            &[("item2_hs_code", "39A690"), ("item2_description", "Cable")],
        ),
        row("SO-4", &[("recipient_postcode", "")]),
        row(
            "SO-5",
            &[("tracked_required", "maybe"), ("length_mm", "1.5")],
        ),
        row("SO-6", &[("recipient_country", "de")]),
        row("SO-7", &[("customer", "acme")]),
        "SO-8,too,few".to_owned(),
    ];
    let (s, answer) = upload(&h.app, "/v1/orders/upload", &h.acme, CSV, csv_file(&rows)).await;
    assert_eq!(s, StatusCode::OK, "{answer}");
    let results = answer["results"].as_array().unwrap();
    assert_eq!(results.len(), rows.len());
    // (row, status, order_status, problem fields with their columns)
    let expected: Vec<Expected> = vec![
        (1, "created", Some("ready"), vec![]),
        (2, "duplicate", Some("ready"), vec![]),
        (3, "duplicate", Some("ready"), vec![]),
        (4, "invalid", None, vec![("reference", "reference")]),
        (5, "invalid", None, vec![("parcel.weight_g", "weight_g")]),
        (
            6,
            "invalid",
            None,
            vec![("contents[1].hs_code", "item2_hs_code")],
        ),
        (
            7,
            "created",
            Some("held"),
            vec![("recipient.postcode", "recipient_postcode")],
        ),
        (
            8,
            "invalid",
            None,
            vec![
                ("parcel.length_mm", "length_mm"),
                ("routing.require.tracked", "tracked_required"),
            ],
        ),
        (
            9,
            "invalid",
            None,
            vec![("recipient.country", "recipient_country")],
        ),
        (10, "created", Some("ready"), vec![]),
        (11, "invalid", None, vec![("", "")]),
    ];
    for (r, (n, status, order_status, problems)) in results.iter().zip(&expected) {
        assert_eq!(r["row"], *n, "{r}");
        assert_eq!(r["status"], *status, "{r}");
        assert_eq!(r["order_status"].as_str(), *order_status, "{r}");
        let mut got = fields(&r["problems"]);
        got.sort();
        let mut want: Vec<(String, String)> = problems
            .iter()
            .map(|(f, c)| ((*f).to_owned(), (*c).to_owned()))
            .collect();
        want.sort();
        assert_eq!(got, want, "row {n}: {r}");
        assert_eq!(r["order"].is_string(), status != &"invalid", "{r}");
    }
    assert_eq!(results[10]["reference"], "SO-8");
    assert_eq!(results[1]["order"], first["results"][0]["order"]);
    assert_eq!(results[2]["order"], results[0]["order"]);
    assert_eq!(
        (
            &answer["rows"],
            &answer["created"],
            &answer["duplicate"],
            &answer["invalid"]
        ),
        (&json!(11), &json!(3), &json!(2), &json!(6))
    );
    // Exactly the created rows exist, from the upload, as one POST would have made them.
    let listed = orders_of(&h, &h.acme, "source=upload").await;
    let mut refs: Vec<&str> = listed
        .iter()
        .map(|o| o["reference"].as_str().unwrap())
        .collect();
    refs.sort_unstable();
    assert_eq!(refs, ["SO-0", "SO-1", "SO-4", "SO-7"]);
    let (_, one) = call(
        &h.app,
        "GET",
        &format!("/v1/orders/{}", results[0]["order"].as_str().unwrap()),
        &h.acme,
        "",
    )
    .await;
    let mut by_post: Value = serde_json::from_str(&row_json("SO-1")).unwrap();
    by_post["reference"] = json!("SO-1-post");
    let (s, posted) = call(&h.app, "POST", "/v1/orders", &h.acme, &by_post.to_string()).await;
    assert_eq!(s, StatusCode::CREATED, "{posted}");
    for key in [
        "shipper",
        "recipient",
        "parcel",
        "declared_value",
        "contents",
        "routing",
        "status",
        "customer",
    ] {
        assert_eq!(one[key], posted[key], "{key}");
    }
}

/// The good row as the JSON `POST /v1/orders` takes.
fn row_json(reference: &str) -> String {
    json!({"reference": reference,
     "shipper": {"name": "Li Wei", "line1": "18 Keji Rd", "city": "Shenzhen", "region": "Guangdong", "postcode": "518000", "country": "CN"},
     "recipient": {"name": "Anna Schmidt", "line1": "Invalidenstr. 116", "city": "Berlin", "postcode": "10115", "country": "DE"},
     "parcel": {"weight_g": 700, "length_mm": 300, "width_mm": 200, "height_mm": 100},
     "declared_value": {"amount": "45.00", "currency": "EUR"},
     "contents": [{"description": "Phone case", "hs_code": "392690", "quantity": 2, "value": "45.00", "origin_country": "CN"}],
     "routing": {"strategy": "cheapest", "require": {"tracked": true}, "currency": "EUR"}})
    .to_string()
}

/// A Parquet row: reference, weight, value in cents, tracked.
type PqRow<'a> = (&'a str, Option<i64>, i128, bool);
/// A row's expected answer: (row, status, order_status, problem fields with their columns).
type Expected<'a> = (u64, &'a str, Option<&'a str>, Vec<(&'a str, &'a str)>);
type Headers = Vec<(String, String)>;

/// A Parquet file of the given rows: references, weights (Int64, null = absent), values
/// (DECIMAL(10,2)), tracked (BOOLEAN) and the rest of the good row as strings.
fn parquet_file(rows: &[PqRow]) -> Vec<u8> {
    let text = |f: &dyn Fn(&PqRow) -> Option<String>| -> ArrayRef {
        Arc::new(StringArray::from(rows.iter().map(f).collect::<Vec<_>>()))
    };
    let fixed = |v: &'static str| move |_: &PqRow| Some(v.to_owned());
    let columns: Vec<(&str, ArrayRef)> = vec![
        ("reference", text(&|r| Some(r.0.to_owned()))),
        ("shipper_name", text(&fixed("Li Wei"))),
        ("shipper_line1", text(&fixed("18 Keji Rd"))),
        ("shipper_city", text(&fixed("Shenzhen"))),
        ("shipper_region", text(&fixed("Guangdong"))),
        ("shipper_postcode", text(&fixed("518000"))),
        ("shipper_country", text(&fixed("CN"))),
        ("recipient_name", text(&fixed("Anna Schmidt"))),
        ("recipient_line1", text(&fixed("Invalidenstr. 116"))),
        ("recipient_city", text(&fixed("Berlin"))),
        ("recipient_postcode", text(&fixed("10115"))),
        ("recipient_country", text(&fixed("DE"))),
        (
            "weight_g",
            Arc::new(Int64Array::from(
                rows.iter().map(|r| r.1).collect::<Vec<_>>(),
            )),
        ),
        (
            "value_amount",
            Arc::new(
                Decimal128Array::from(rows.iter().map(|r| r.2).collect::<Vec<_>>())
                    .with_precision_and_scale(10, 2)
                    .unwrap(),
            ),
        ),
        ("value_currency", text(&fixed("EUR"))),
        (
            "tracked_required",
            Arc::new(BooleanArray::from(
                rows.iter().map(|r| r.3).collect::<Vec<_>>(),
            )),
        ),
        ("item1_description", text(&fixed("Phone case"))),
        ("item1_hs_code", text(&fixed("392690"))),
        (
            "item1_quantity",
            Arc::new(Int64Array::from(vec![2; rows.len()])),
        ),
        (
            "item1_value",
            Arc::new(
                Decimal128Array::from(rows.iter().map(|r| r.2).collect::<Vec<_>>())
                    .with_precision_and_scale(10, 2)
                    .unwrap(),
            ),
        ),
        ("item1_origin_country", text(&fixed("CN"))),
    ];
    write_parquet(columns)
}

fn write_parquet(columns: Vec<(&str, ArrayRef)>) -> Vec<u8> {
    let batch = RecordBatch::try_from_iter(columns).unwrap();
    let mut out = Vec::new();
    let mut writer = parquet::arrow::ArrowWriter::try_new(&mut out, batch.schema(), None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parquet_upload_reads_typed_columns() {
    let h = harness().await;
    let file = parquet_file(&[
        ("PQ-1", Some(700), 4500, true),
        ("PQ-1", Some(700), 4500, true),
        ("PQ-2", Some(-5), 4500, true),
        ("PQ-3", None, 4500, false),
        ("PQ-4", Some(700), 4510, true),
    ]);
    let (s, answer) = upload(&h.app, "/v1/orders/upload", &h.acme, PARQUET, file.clone()).await;
    assert_eq!(s, StatusCode::OK, "{answer}");
    let statuses: Vec<(&str, Option<&str>)> = answer["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["status"].as_str().unwrap(), r["order_status"].as_str()))
        .collect();
    assert_eq!(
        statuses,
        [
            ("created", Some("ready")),
            ("duplicate", Some("ready")),
            ("invalid", None),
            ("created", Some("held")),
            ("created", Some("ready")),
        ]
    );
    assert_eq!(
        fields(&answer["results"][2]["problems"]),
        [("parcel.weight_g".to_owned(), "weight_g".to_owned())]
    );
    assert_eq!(
        answer["results"][3]["problems"][0]["field"],
        "parcel.weight_g"
    );
    let id = answer["results"][4]["order"].as_str().unwrap();
    let (_, order) = call(&h.app, "GET", &format!("/v1/orders/{id}"), &h.acme, "").await;
    assert_eq!(
        order["declared_value"],
        json!({"amount": "45.10", "currency": "EUR"})
    );
    assert_eq!(order["routing"]["require"]["tracked"], true);
    assert_eq!(order["contents"][0]["quantity"], 2);
    // Again: every order exists, nothing new.
    let (_, again) = upload(&h.app, "/v1/orders/upload", &h.acme, PARQUET, file).await;
    assert_eq!(
        (&again["created"], &again["duplicate"], &again["invalid"]),
        (&json!(0), &json!(4), &json!(1))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreadable_files_and_unknown_columns_are_refused_whole() {
    let h = harness().await;
    let good = row("R-1", &[]);
    let mut over = String::from("reference\n");
    for i in 0..1_000_001 {
        over.push_str(&format!("r{i}\n"));
    }
    let float_money = write_parquet(vec![
        (
            "reference",
            Arc::new(StringArray::from(vec!["F-1"])) as ArrayRef,
        ),
        (
            "value_amount",
            Arc::new(arrow_array::Float64Array::from(vec![45.0])) as ArrayRef,
        ),
    ]);
    let cases: Vec<(&str, &str, Vec<u8>, StatusCode, &str)> = vec![
        (
            "unknown column",
            CSV,
            b"reference,colour\nR-1,red\n".to_vec(),
            StatusCode::BAD_REQUEST,
            "colour",
        ),
        (
            "no reference column",
            CSV,
            b"weight_g\n700\n".to_vec(),
            StatusCode::BAD_REQUEST,
            "reference",
        ),
        (
            "a column twice",
            CSV,
            b"reference,reference\nR,R\n".to_vec(),
            StatusCode::BAD_REQUEST,
            "reference",
        ),
        ("empty", CSV, Vec::new(), StatusCode::BAD_REQUEST, "body"),
        (
            "not Parquet",
            PARQUET,
            csv_file(std::slice::from_ref(&good)),
            StatusCode::BAD_REQUEST,
            "body",
        ),
        (
            "float money",
            PARQUET,
            float_money,
            StatusCode::BAD_REQUEST,
            "value_amount",
        ),
        (
            "unknown type",
            "application/json",
            csv_file(std::slice::from_ref(&good)),
            StatusCode::BAD_REQUEST,
            "Content-Type",
        ),
        (
            "over the row limit",
            CSV,
            over.into_bytes(),
            StatusCode::PAYLOAD_TOO_LARGE,
            "body",
        ),
    ];
    for (what, content_type, body, status, field) in cases {
        let (s, e) = upload(&h.app, "/v1/orders/upload", &h.acme, content_type, body).await;
        assert_eq!(s, status, "{what}: {e}");
        assert_eq!(e["problems"][0]["field"], field, "{what}: {e}");
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            assert!(
                e["problems"][0]["problem"]
                    .as_str()
                    .unwrap()
                    .contains("orders_upload_rows_max"),
                "{e}"
            );
        }
    }
    assert!(
        orders_of(&h, &h.admin, "").await.is_empty(),
        "a refused file creates nothing"
    );
    let (s, _) = upload(
        &h.app,
        "/v1/orders/upload?ship=yes",
        &h.acme,
        CSV,
        csv_file(&[good]),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ship_true_ships_ready_rows_and_adds_tracking_numbers() {
    ship_true(&harness().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ship_true_on_postgres() {
    if let Some((h, _schema)) = pg_harness().await {
        ship_true(&h).await;
    }
}

async fn ship_true(h: &H) {
    let mut rows: Vec<String> = (0..1200).map(|i| row(&format!("SH-{i}"), &[])).collect();
    rows.push(row("SH-held", &[("recipient_postcode", "")]));
    rows.push(row("SH-heavy", &[("weight_g", "999999")]));
    let file = csv_file(&rows);
    let (s, answer) = upload(
        &h.app,
        "/v1/orders/upload?ship=true",
        &h.acme,
        CSV,
        file.clone(),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{answer}");
    assert_eq!(
        (&answer["created"], &answer["shipped"]),
        (&json!(1202), &json!(1200))
    );
    let results = answer["results"].as_array().unwrap();
    let mut numbers = std::collections::HashSet::new();
    for r in &results[..1200] {
        let number = r["tracking_number"]
            .as_str()
            .unwrap_or_else(|| panic!("{r}"));
        assert!(internal_ok(number), "{number}");
        assert!(numbers.insert(number.to_owned()), "{number} twice");
        assert_eq!(r["order_status"], "shipped");
        assert!(r["shipment"].as_str().unwrap().starts_with("shp_"));
    }
    assert!(results[1200].get("shipment").is_none() && results[1200].get("ship_error").is_none());
    assert_eq!(
        results[1201]["ship_error"]["error"], "no_service",
        "{}",
        results[1201]
    );
    let sid = results[7]["shipment"].as_str().unwrap();
    let (s, shipment) = call(&h.app, "GET", &format!("/v1/shipments/{sid}"), &h.acme, "").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(shipment["tracking_number"], results[7]["tracking_number"]);
    assert_eq!(shipment["order"], results[7]["order"]);
    // The same file again: every row a duplicate with the shipment it has; none issued.
    let (_, again) = upload(&h.app, "/v1/orders/upload?ship=true", &h.acme, CSV, file).await;
    assert_eq!(
        (&again["duplicate"], &again["shipped"]),
        (&json!(1202), &json!(1200))
    );
    for (a, b) in results.iter().zip(again["results"].as_array().unwrap()) {
        assert_eq!(a["tracking_number"], b["tracking_number"]);
    }
    let (_, page) = call(&h.app, "GET", "/v1/shipments?limit=1000", &h.admin, "").await;
    let (_, page2) = call(
        &h.app,
        "GET",
        &format!(
            "/v1/shipments?limit=1000&cursor={}",
            page["next_cursor"].as_str().unwrap()
        ),
        &h.admin,
        "",
    )
    .await;
    assert_eq!(
        page["data"].as_array().unwrap().len() + page2["data"].as_array().unwrap().len(),
        1200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_keep_to_their_tenant_and_customer() {
    let h = harness().await;
    let file = |customer: &str| csv_file(&[row("W-1", &[("customer", customer)])]);
    // (key, query, customer cell, status, row status, customer of the order)
    let cases: Vec<(&str, &str, &str, StatusCode, &str, &str)> = vec![
        (&h.acme, "", "", StatusCode::OK, "created", "acme"),
        (&h.acme, "", "zeta", StatusCode::OK, "invalid", ""),
        (&h.acme, "?customer=zeta", "", StatusCode::FORBIDDEN, "", ""),
        (&h.admin, "", "", StatusCode::OK, "invalid", ""),
        (
            &h.admin,
            "?customer=zeta",
            "",
            StatusCode::OK,
            "created",
            "zeta",
        ),
        (
            &h.admin,
            "?customer=zeta",
            "acme",
            StatusCode::OK,
            "invalid",
            "",
        ),
        (&h.admin, "", "acme", StatusCode::OK, "duplicate", "acme"),
        (
            &h.other,
            "?customer=acme",
            "",
            StatusCode::OK,
            "created",
            "acme",
        ),
    ];
    let mut ids = Vec::new();
    for (key, query, customer, status, row_status, owner) in cases {
        let (s, answer) = upload(
            &h.app,
            &format!("/v1/orders/upload{query}"),
            key,
            CSV,
            file(customer),
        )
        .await;
        assert_eq!(s, status, "{query} {customer}: {answer}");
        if s != StatusCode::OK {
            continue;
        }
        let r = &answer["results"][0];
        assert_eq!(r["status"], row_status, "{query} {customer}: {r}");
        if row_status != "invalid" {
            let id = r["order"].as_str().unwrap().to_owned();
            let (_, o) = call(&h.app, "GET", &format!("/v1/orders/{id}"), key, "").await;
            assert_eq!(o["customer"], owner);
            ids.push((key.to_owned(), owner.to_owned(), id));
        } else {
            assert!(r["problems"][0]["field"] == "customer", "{r}");
        }
    }
    // Each order is seen by its tenant and customer only.
    let (acme_id, zeta_id, other_id) = (&ids[0].2, &ids[1].2, &ids[3].2);
    for (key, id, visible) in [
        (&h.zeta, acme_id, false),
        (&h.acme, zeta_id, false),
        (&h.zeta, zeta_id, true),
        (&h.other, acme_id, false),
        (&h.admin, other_id, false),
        (&h.other, other_id, true),
    ] {
        let (s, _) = call(&h.app, "GET", &format!("/v1/orders/{id}"), key, "").await;
        assert_eq!(s == StatusCode::OK, visible, "{id}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_template_uploads_as_a_ready_order() {
    let h = harness().await;
    let (s, _, bytes) = send(
        &h.app,
        "GET",
        "/v1/orders/template.csv",
        &[("Authorization", &format!("Bearer {}", h.acme))],
        Vec::new(),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let text = String::from_utf8(bytes.clone()).unwrap();
    let header = text.lines().next().unwrap();
    let mut expected = vec!["reference".to_owned(), "customer".to_owned()];
    for party in ["shipper", "recipient"] {
        for f in [
            "name", "company", "line1", "line2", "city", "region", "postcode", "country", "phone",
            "email",
        ] {
            expected.push(format!("{party}_{f}"));
        }
    }
    for c in [
        "weight_g",
        "length_mm",
        "width_mm",
        "height_mm",
        "value_amount",
        "value_currency",
        "battery",
        "goods",
        "incoterm",
        "customs_category",
        "strategy",
        "tracked_required",
        "max_transit_days",
        "service",
        "currency",
    ] {
        expected.push(c.to_owned());
    }
    for i in 1..=5 {
        for f in [
            "description",
            "hs_code",
            "quantity",
            "value",
            "origin_country",
        ] {
            expected.push(format!("item{i}_{f}"));
        }
    }
    assert_eq!(header.split(',').collect::<Vec<_>>(), expected);
    assert_eq!(text.lines().count(), 2);
    let (s, answer) = upload(&h.app, "/v1/orders/upload", &h.acme, CSV, bytes.clone()).await;
    assert_eq!(s, StatusCode::OK, "{answer}");
    assert_eq!(answer["results"][0]["status"], "created", "{answer}");
    assert_eq!(answer["results"][0]["order_status"], "ready", "{answer}");
    // An admin names the customer: the same order.
    let (_, again) = upload(
        &h.app,
        "/v1/orders/upload?customer=acme",
        &h.admin,
        CSV,
        bytes,
    )
    .await;
    assert_eq!(again["results"][0]["status"], "duplicate");
    assert_eq!(again["results"][0]["order"], answer["results"][0]["order"]);
}

fn inbox_for(h: &H, dir: &Path) -> crossdock_orders::inbox::Inbox {
    let identity = h.rt.identity.clone();
    let lookup: crossdock_orders::inbox::TenantLookup = Arc::new(move |name| {
        let identity = identity.clone();
        Box::pin(async move {
            identity
                .tenant_by_name(&name)
                .await
                .map_err(|e| e.to_string())
        })
    });
    crossdock_orders::inbox::Inbox::new(
        h.rt.orders.clone().expect("orders"),
        dir.to_owned(),
        lookup,
    )
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inbox_uploads_each_file_once_and_files_it_with_its_report() {
    let h = harness().await;
    let inbox_dir = temp_dir("inbox");
    let acme = inbox_dir.join("default/acme");
    let stranger = inbox_dir.join("nosuch/acme");
    std::fs::create_dir_all(&acme).unwrap();
    std::fs::create_dir_all(&stranger).unwrap();
    let good = csv_file(&[row("IN-1", &[]), row("IN-2", &[("weight_g", "x")])]);
    std::fs::write(acme.join("a.csv"), &good).unwrap();
    std::fs::write(acme.join("b.csv"), b"reference,colour\nIN-3,red\n").unwrap();
    std::fs::write(acme.join("c.csv.part"), &good).unwrap();
    std::fs::write(acme.join("notes.txt"), b"not an order file").unwrap();
    std::fs::write(stranger.join("d.csv"), &good).unwrap();
    let inbox = inbox_for(&h, &inbox_dir);
    let filed = inbox.scan().await.expect("scan");
    assert_eq!(filed.len(), 3, "{filed:?}");
    assert_eq!(
        files_in(&acme),
        ["c.csv.part", "done", "failed", "notes.txt"]
    );
    let stamp = "20261124T000000Z";
    assert_eq!(
        files_in(&acme.join("done")),
        [
            format!("{stamp}-a.csv"),
            format!("{stamp}-a.csv.report.json")
        ]
    );
    assert_eq!(
        files_in(&acme.join("failed")),
        [
            format!("{stamp}-b.csv"),
            format!("{stamp}-b.csv.report.json")
        ]
    );
    assert_eq!(
        std::fs::read(acme.join("done").join(format!("{stamp}-a.csv"))).unwrap(),
        good
    );
    let report =
        |p: PathBuf| -> Value { serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap() };
    let done = report(acme.join("done").join(format!("{stamp}-a.csv.report.json")));
    assert_eq!(
        (&done["created"], &done["invalid"]),
        (&json!(1), &json!(1)),
        "{done}"
    );
    let failed = report(
        acme.join("failed")
            .join(format!("{stamp}-b.csv.report.json")),
    );
    assert_eq!(failed["problems"][0]["field"], "colour", "{failed}");
    let unknown = report(
        stranger
            .join("failed")
            .join(format!("{stamp}-d.csv.report.json")),
    );
    assert!(
        unknown["problems"][0]["problem"]
            .as_str()
            .unwrap()
            .contains("nosuch"),
        "{unknown}"
    );
    let listed = orders_of(&h, &h.acme, "source=inbox").await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["reference"], "IN-1");
    // A file imported again (as after a crash before its move): its rows are duplicates.
    std::fs::write(acme.join("a.csv"), &good).unwrap();
    std::fs::rename(acme.join("c.csv.part"), acme.join("c.csv")).unwrap();
    let filed = inbox.scan().await.expect("scan");
    assert_eq!(filed.len(), 2);
    assert!(filed.iter().all(|f| f.done));
    let again = report(
        acme.join("done")
            .join(format!("{stamp}-1-a.csv.report.json")),
    );
    assert_eq!(
        (&again["created"], &again["duplicate"]),
        (&json!(0), &json!(1)),
        "{again}"
    );
    assert_eq!(orders_of(&h, &h.acme, "source=inbox").await.len(), 1);
    assert!(inbox.scan().await.expect("scan").is_empty());
}

type HmacSha256 = Hmac<sha2::Sha256>;

/// A Standard Webhooks signature, computed here with the `hmac` crate.
fn signature(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> String {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut mac = HmacSha256::new_from_slice(&key).unwrap();
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

#[test]
fn the_test_signer_reproduces_the_published_vector() {
    assert_eq!(
        signature(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            br#"{"test": 2432232314}"#
        ),
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbound_webhooks_are_verified_and_answered_once() {
    inbound_webhooks(&harness().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbound_webhooks_on_postgres() {
    if let Some((h, _schema)) = pg_harness().await {
        inbound_webhooks(&h).await;
    }
}

async fn inbound_webhooks(h: &H) {
    let (s, _) = call(
        &h.app,
        "POST",
        "/v1/inbound/endpoints",
        &h.acme,
        r#"{"customer": "acme"}"#,
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, endpoint) = call(
        &h.app,
        "POST",
        "/v1/inbound/endpoints",
        &h.admin,
        r#"{"customer": "acme"}"#,
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{endpoint}");
    let id = endpoint["id"].as_str().unwrap();
    assert!(id.starts_with("inb_"));
    assert_eq!(endpoint["url"], format!("/v1/inbound/orders?endpoint={id}"));
    let secret = endpoint["secret"].as_str().unwrap();
    assert_eq!(
        STANDARD.decode(&secret["whsec_".len()..]).unwrap().len(),
        32
    );
    let url = endpoint["url"].as_str().unwrap().to_owned();
    let mut order: Value = serde_json::from_str(&row_json("WH-1")).unwrap();
    order["customer"] = json!("acme");
    let body = json!({"orders": [order, {"reference": "WH-2", "customer": "zeta"}, {"colour": 1}]})
        .to_string();
    let post = |url: String, headers: Vec<(String, String)>, body: String| {
        let app = h.app.clone();
        async move {
            let headers: Vec<(&str, &str)> = headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            send(&app, "POST", &url, &headers, body.into_bytes()).await
        }
    };
    let signed = |wid: &str, ts: i64, sig: String| {
        vec![
            ("webhook-id".to_owned(), wid.to_owned()),
            ("webhook-timestamp".to_owned(), ts.to_string()),
            ("webhook-signature".to_owned(), sig),
            ("Content-Type".to_owned(), "application/json".to_owned()),
        ]
    };
    let good = signature(secret, "msg_1", NOW, body.as_bytes());
    let other_secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    // Refused without creating anything: (what, url, headers)
    let refusals: Vec<(&str, String, Headers)> = vec![
        (
            "no signature",
            url.clone(),
            vec![
                ("webhook-id".into(), "msg_1".into()),
                ("webhook-timestamp".into(), NOW.to_string()),
            ],
        ),
        (
            "another secret",
            url.clone(),
            signed(
                "msg_1",
                NOW,
                signature(other_secret, "msg_1", NOW, body.as_bytes()),
            ),
        ),
        (
            "another id",
            url.clone(),
            signed("msg_2", NOW, good.clone()),
        ),
        (
            "stale",
            url.clone(),
            signed(
                "msg_1",
                NOW - 301,
                signature(secret, "msg_1", NOW - 301, body.as_bytes()),
            ),
        ),
        (
            "ahead",
            url.clone(),
            signed(
                "msg_1",
                NOW + 301,
                signature(secret, "msg_1", NOW + 301, body.as_bytes()),
            ),
        ),
        (
            "not v1",
            url.clone(),
            signed("msg_1", NOW, good.replace("v1,", "v2,")),
        ),
        (
            "unknown endpoint",
            "/v1/inbound/orders?endpoint=inb_nosuch".into(),
            signed("msg_1", NOW, good.clone()),
        ),
        (
            "no endpoint",
            "/v1/inbound/orders".into(),
            signed("msg_1", NOW, good.clone()),
        ),
    ];
    for (what, u, headers) in refusals {
        let (s, e, _) = post(u, headers, body.clone()).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{what}: {e}");
    }
    assert!(orders_of(h, &h.admin, "").await.is_empty());
    // Within 300 s, among several signatures: accepted.
    let ts = NOW - 299;
    let several = format!(
        "v1,bm9wZQ== {} v1a,xyz",
        signature(secret, "msg_1", ts, body.as_bytes())
    );
    let (s, first, first_bytes) =
        post(url.clone(), signed("msg_1", ts, several), body.clone()).await;
    assert_eq!(s, StatusCode::OK, "{first}");
    let statuses: Vec<&str> = first["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["created", "invalid", "invalid"]);
    assert_eq!(first["results"][1]["problems"][0]["field"], "customer");
    let listed = orders_of(h, &h.acme, "source=webhook").await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], first["results"][0]["order"]);
    // The same webhook-id again, even with another (signed) body: the first answer.
    let body2 = json!({"orders": [{"reference": "WH-9", "customer": "acme"}]}).to_string();
    let (s, _, again) = post(
        url.clone(),
        signed(
            "msg_1",
            NOW,
            signature(secret, "msg_1", NOW, body2.as_bytes()),
        ),
        body2,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(again, first_bytes);
    assert_eq!(orders_of(h, &h.acme, "source=webhook").await.len(), 1);
    // A new id with the same orders: duplicates. A bad body is answered 400, once.
    let (_, dup, _) = post(
        url.clone(),
        signed(
            "msg_3",
            NOW,
            signature(secret, "msg_3", NOW, body.as_bytes()),
        ),
        body.clone(),
    )
    .await;
    assert_eq!(dup["results"][0]["status"], "duplicate");
    for _ in 0..2 {
        let (s, e, _) = post(
            url.clone(),
            signed("msg_4", NOW, signature(secret, "msg_4", NOW, b"{")),
            "{".into(),
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    }
}

// ---------------------------------------------------------------------------------------
// `crossdock orders import`.

fn crossdock(args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_crossdock"))
        .args(args)
        .env_remove("CROSSDOCK_URL")
        .env_remove("CROSSDOCK_KEY")
        .env_remove("CROSSDOCK_CONFIG")
        .output()
        .expect("crossdock runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn orders_import_runs_in_process_on_a_data_directory() {
    let dir = temp_dir("import");
    let data = dir.join("data");
    let good = dir.join("good.csv");
    std::fs::write(&good, csv_file(&[row("CLI-1", &[]), row("CLI-2", &[])])).unwrap();
    let mixed = dir.join("mixed.CSV");
    std::fs::write(
        &mixed,
        csv_file(&[
            row("CLI-1", &[]),
            row("CLI-3", &[("item2_hs_code", "39A690")]),
        ]),
    )
    .unwrap();
    let bad = dir.join("bad.csv");
    std::fs::write(&bad, b"reference,colour\nX,red\n").unwrap();
    let local = |file: &Path, tenant: &str, more: &[&str]| {
        let mut args = vec![
            "orders",
            "import",
            file.to_str().unwrap(),
            "--data-dir",
            data.to_str().unwrap(),
            "--tenant",
            tenant,
            "--customer",
            "acme",
        ];
        args.extend_from_slice(more);
        crossdock(&args)
    };
    let (code, out, err) = local(&good, "default", &["--ship"]);
    assert_eq!(code, 0, "{out}{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    let cells: Vec<&str> = lines[0].split('\t').collect();
    assert_eq!(&cells[..3], ["1", "CLI-1", "created"], "{out}");
    assert!(cells[3].starts_with("ord_") && cells[4].is_empty(), "{out}");
    assert!(internal_ok(cells[5]), "{out}");
    assert!(
        lines[2].starts_with("rows 2: created 2, duplicate 0, invalid 0, shipped 2"),
        "{out}"
    );
    let (code, out, err) = local(&mixed, "default", &[]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("1\tCLI-1\tduplicate\tord_"), "{out}");
    assert!(
        out.contains("2\tCLI-3\tinvalid\t\tcontents[1].hs_code: "),
        "{out}"
    );
    let (code, out, err) = local(&bad, "default", &[]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("colour"), "{err}");
    let (code, _, err) = local(&good, "nosuch", &[]);
    assert_eq!(code, 2);
    assert!(err.contains("no tenant named \"nosuch\""), "{err}");
    let (code, _, err) = crossdock(&[
        "orders",
        "import",
        "orders.txt",
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains(".csv or .parquet"), "{err}");
}

/// `crossdock orders import FILE --url URL --key KEY --customer CUSTOMER`, off the runtime.
async fn import_to_server(
    file: &std::path::Path,
    url: &str,
    key: &str,
    customer: &str,
) -> (i32, String, String) {
    let (file, url, key, customer) = (
        file.to_owned(),
        url.to_owned(),
        key.to_owned(),
        customer.to_owned(),
    );
    tokio::task::spawn_blocking(move || {
        crossdock(&[
            "orders",
            "import",
            file.to_str().unwrap(),
            "--url",
            &url,
            "--key",
            &key,
            "--customer",
            &customer,
        ])
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_import_uploads_to_a_server() {
    let h = harness().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = h.app.clone();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let dir = temp_dir("remote");
    let file = dir.join("orders.parquet");
    std::fs::write(
        &file,
        parquet_file(&[
            ("RM-1", Some(700), 4500, true),
            ("RM-2", Some(0), 4500, true),
        ]),
    )
    .unwrap();
    let (admin, acme) = (h.admin.clone(), h.acme.clone());
    let (code, out, err) = import_to_server(&file, &url, &admin, "acme").await;
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.starts_with("1\tRM-1\tcreated\tord_"), "{out}");
    assert!(
        out.contains("2\tRM-2\tinvalid\t\tparcel.weight_g: "),
        "{out}"
    );
    assert!(
        out.ends_with("rows 2: created 1, duplicate 0, invalid 1\n"),
        "{out}"
    );
    let listed = orders_of(&h, &h.acme, "source=upload").await;
    assert_eq!(listed.len(), 1);
    let (code, out, err) = import_to_server(&file, &url, &acme, "zeta").await;
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("403"), "{err}");
}

#[test]
fn orders_import_answers_help_with_examples() {
    for args in [&["orders", "--help"][..], &["orders", "import", "--help"]] {
        let (code, out, err) = crossdock(args);
        assert_eq!(code, 0, "{err}");
        assert!(out.contains("Usage: crossdock orders"), "{out}");
    }
    let (_, out, _) = crossdock(&["orders", "import", "--help"]);
    assert!(
        out.contains("Examples:") && out.contains("--data-dir"),
        "{out}"
    );
    let (code, _, err) = crossdock(&["orders", "import", "x.csv", "--shipp"]);
    assert_eq!(code, 2);
    assert!(err.contains("'--ship'"), "{err}");
}

#[test]
fn the_inbox_is_a_setting() {
    let mut c = Config::default();
    c.apply_env(|n| (n == "CROSSDOCK_INBOX_DIR").then(|| "/srv/inbox".into()))
        .expect("env");
    assert_eq!(c.inbox_dir, Some(PathBuf::from("/srv/inbox")));
}

/// The runtime watches `inbox_dir` by itself: a file dropped there is filed within a scan.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_runtime_watches_its_inbox() {
    let dir = temp_dir("watched");
    let inbox = dir.join("inbox");
    let acme = inbox.join("default/acme");
    std::fs::create_dir_all(&acme).unwrap();
    let config = Config {
        inbox_dir: Some(inbox.clone()),
        ..config(&dir)
    };
    let rt = Runtime::start(&config, Arc::new(FixedClock))
        .await
        .expect("starts");
    std::fs::write(acme.join("w.csv.part"), csv_file(&[row("WA-1", &[])])).unwrap();
    std::fs::rename(acme.join("w.csv.part"), acme.join("w.csv")).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !acme.join("done").join("20261124T000000Z-w.csv").exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "{:?}",
            files_in(&acme)
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    rt.stop().await;
}

/// A refusal inside a chunk's shipping transaction (numbers used up) rolls the chunk back
/// and ships each order alone: the others ship, the refused ones answer their error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_shipment_in_a_chunk_refuses_only_itself() {
    let h = harness().await;
    let probe = upload_shipping(&h, &[row("RF-0", &[])]).await;
    let sid = probe["results"][0]["shipment"]
        .as_str()
        .expect("shipped")
        .to_owned();
    let (_, shipment) = call(&h.app, "GET", &format!("/v1/shipments/{sid}"), &h.acme, "").await;
    let carrier = shipment["segments"][0]["carrier"].as_str().unwrap();
    let range =
        json!({"carrier": carrier, "format": "internal", "prefix": "XQ", "first": 1, "last": 3});
    let (s, made) = call(
        &h.app,
        "POST",
        "/v1/number-ranges",
        &h.admin,
        &range.to_string(),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{made}");
    let rows: Vec<String> = (1..=5).map(|i| row(&format!("RF-{i}"), &[])).collect();
    let answer = upload_shipping(&h, &rows).await;
    let results = answer["results"].as_array().unwrap();
    for r in &results[..3] {
        let number = r["tracking_number"]
            .as_str()
            .unwrap_or_else(|| panic!("{r}"));
        assert!(number.starts_with("XQ") && internal_ok(number), "{number}");
    }
    for r in &results[3..] {
        assert_eq!(r["ship_error"]["error"], "range_exhausted", "{r}");
        assert_eq!(r["order_status"], "ready", "{r}");
    }
    assert_eq!(
        (&answer["shipped"], &answer["ship_failed"]),
        (&json!(3), &json!(2))
    );
    let (_, ranges) = call(&h.app, "GET", "/v1/number-ranges", &h.admin, "").await;
    assert_eq!(ranges["data"][0]["remaining"], 0);
}

/// With `?ship=true` a chunk's new orders are created and shipped in one transaction;
/// a reference twice in the file still answers as two creates and ships in a row would:
/// the second `duplicate` with the first's shipment (same content) or 409
/// `idempotency_mismatch` (other content), and one shipment, one number.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reference_twice_in_a_shipping_upload_ships_once() {
    let h = harness().await;
    let rows = vec![
        row("TW-1", &[]),
        row("TW-2", &[]),
        row("TW-1", &[]),
        row("TW-2", &[("weight_g", "800")]),
        row("TW-3", &[]),
    ];
    let answer = upload_shipping(&h, &rows).await;
    let r = answer["results"].as_array().unwrap();
    let statuses: Vec<&str> = r.iter().map(|x| x["status"].as_str().unwrap()).collect();
    assert_eq!(
        statuses,
        ["created", "created", "duplicate", "invalid", "created"]
    );
    assert_eq!(r[2]["order"], r[0]["order"]);
    assert_eq!(r[2]["shipment"], r[0]["shipment"]);
    assert_eq!(r[2]["tracking_number"], r[0]["tracking_number"]);
    assert!(
        r[0]["tracking_number"].as_str().is_some_and(internal_ok),
        "{}",
        r[0]
    );
    assert!(
        r[3]["problems"].to_string().contains("reference"),
        "{}",
        r[3]
    );
    assert!(r[3].get("shipment").is_none(), "{}", r[3]);
    assert_eq!(
        (
            &answer["created"],
            &answer["duplicate"],
            &answer["invalid"],
            &answer["shipped"]
        ),
        (&json!(3), &json!(1), &json!(1), &json!(4))
    );
    let (_, page) = call(&h.app, "GET", "/v1/shipments?limit=100", &h.admin, "").await;
    assert_eq!(page["data"].as_array().unwrap().len(), 3, "{page}");
    // Each shipped order is `shipped` and names its shipment, as a single ship leaves it.
    for i in [0, 1, 4] {
        let order = r[i]["order"].as_str().unwrap();
        let (s, o) = call(&h.app, "GET", &format!("/v1/orders/{order}"), &h.acme, "").await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(o["status"], "shipped", "{o}");
        assert_eq!(o["shipment"], r[i]["shipment"], "{o}");
    }
}
