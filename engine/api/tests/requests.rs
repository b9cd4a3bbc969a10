//! Request parsing: every problem of a request is named by its field; valid requests get
//! the documented defaults.

use crossdock_api::{Defaults, parse_request_str};
use crossdock_engine::{Date, Incoterm, Strategy};

fn defaults() -> Defaults {
    Defaults {
        today: Date::parse("2026-11-24").unwrap(),
        customer: None,
        explain: true,
    }
}

fn problems(json: &str) -> Vec<String> {
    match parse_request_str(json, &defaults()) {
        Ok(_) => vec![],
        Err(problems) => problems.into_iter().map(|p| p.field).collect(),
    }
}

const MINIMAL: &str = r#"{"origin":{"country":"CN"},"destination":{"country":"DE"},"parcel":{"weight_g":700},"currency":"EUR"}"#;

#[test]
fn a_minimal_request_gets_the_documented_defaults() {
    let r = parse_request_str(MINIMAL, &defaults()).unwrap();
    assert_eq!(r.ship_date.to_string(), "2026-11-24");
    assert_eq!(r.incoterm, Incoterm::Ddu);
    assert_eq!(r.strategy, Strategy::Cheapest);
    assert!(r.explain && !r.landed_cost && r.customer.is_none());
    assert_eq!(r.weight_g, 700);
}

#[test]
fn the_full_example_of_the_spec_parses() {
    let json = r#"{
      "customer": "acme", "ship_date": "2026-11-24",
      "origin": {"country": "CN", "postcode": "518000"},
      "destination": {"country": "DE", "postcode": "10115"},
      "parcel": {"weight_g": 700, "length_mm": 300, "width_mm": 200, "height_mm": 100},
      "declared_value": {"amount": "45.00", "currency": "USD"},
      "contents": [{"description": "Phone case", "hs_code": "392690", "quantity": 2, "value": "45.00", "origin_country": "CN"}],
      "battery": "PI967", "goods": ["magnet"], "incoterm": "DDP",
      "require": {"tracked": true, "max_transit_days": 10, "services": [], "carriers": []},
      "strategy": "cheapest", "value_per_day": "0.50", "currency": "EUR", "landed_cost": true, "explain": true
    }"#;
    let r = parse_request_str(json, &defaults()).unwrap();
    assert_eq!(r.customer.as_deref(), Some("acme"));
    assert_eq!(r.dest_postcode.as_ref().map(|p| p.as_str()), Some("10115"));
    assert_eq!(r.dims_mm, [Some(300), Some(200), Some(100)]);
    assert_eq!(r.contents.len(), 1);
    assert_eq!(r.incoterm, Incoterm::Ddp);
    assert!(r.require_tracked);
    assert_eq!(r.max_transit_days, Some(10));
}

#[test]
fn every_field_at_fault_is_named() {
    let cases: &[(&str, &[&str])] = &[
        ("not json", &[""]),
        ("[]", &[""]),
        (
            "{}",
            &[
                "origin.country",
                "destination.country",
                "parcel.weight_g",
                "currency",
            ],
        ),
        (
            r#"{"origin":{"country":"CN"},"destination":{"country":"DE"},"parcel":{"weight_g":700.5},"currency":"EUR"}"#,
            &["parcel.weight_g"],
        ),
        (
            r#"{"origin":{"country":"CN"},"destination":{"country":"DE"},"parcel":{"weight_g":0},"currency":"EUR"}"#,
            &["parcel.weight_g"],
        ),
        (
            r#"{"origin":{"country":"CN"},"destination":{"country":"DE"},"parcel":{"weight_g":"700"},"currency":"EUR"}"#,
            &["parcel.weight_g"],
        ),
        (
            r#"{"origin":{"country":"CN"},"destination":{"country":"DE"},"parcel":{"weight_g":-5},"currency":"EUR"}"#,
            &["parcel.weight_g"],
        ),
        (
            r#"{"origin":{"country":"cn"},"destination":{"country":"XX"},"parcel":{"weight_g":700},"currency":"EURO"}"#,
            &["origin.country", "destination.country", "currency"],
        ),
        (
            r#"{"origin":{"country":"CN"},"destination":{"country":"DE"},"parcel":{"weight_g":700,"length_mm":0},"currency":"EUR"}"#,
            &["parcel.length_mm"],
        ),
        (
            r#"{"origin":{"country":"CN"},"destination":{"country":"DE"},"parcel":{"weight_g":700},"currency":"EUR","declared_value":{"amount":45.0,"currency":"USD"}}"#,
            &["declared_value.amount"],
        ),
        (
            r#"{"origin":{"country":"CN"},"destination":{"country":"DE"},"parcel":{"weight_g":700},"currency":"EUR","declared_value":{"amount":"-1","currency":"USD"}}"#,
            &["declared_value.amount"],
        ),
        (
            r#"{"origin":{"country":"CN"},"destination":{"country":"DE"},"parcel":{"weight_g":700},"currency":"EUR","declared_value":{"amount":"1e3","currency":"US"}}"#,
            &["declared_value.amount", "declared_value.currency"],
        ),
        (
            r#"{"origin":{"country":"CN"},"destination":{"country":"DE"},"parcel":{"weight_g":700},"currency":"EUR","contents":[{"value":"1"},{"hs_code":"39a","value":"x","quantity":0}]}"#,
            &[
                "contents[1].hs_code",
                "contents[1].quantity",
                "contents[1].value",
            ],
        ),
        (
            r#"{"origin":{"country":"CN"},"destination":{"country":"DE"},"parcel":{"weight_g":700},"currency":"EUR","battery":"PI971"}"#,
            &["battery"],
        ),
        (
            r#"{"origin":{"country":"CN"},"destination":{"country":"DE"},"parcel":{"weight_g":700},"currency":"EUR","incoterm":"DAP","strategy":"slowest"}"#,
            &["incoterm", "strategy"],
        ),
        (
            r#"{"origin":{"country":"CN"},"destination":{"country":"DE"},"parcel":{"weight_g":700},"currency":"EUR","ship_date":"2026-02-30"}"#,
            &["ship_date"],
        ),
        (
            r#"{"origin":{"country":"CN"},"destination":{"country":"DE"},"parcel":{"weight_g":700},"currency":"EUR","goods":["liquid",3]}"#,
            &["goods[1]"],
        ),
        (
            r#"{"origin":{"country":"CN"},"destination":{"country":"DE"},"parcel":{"weight_g":700},"currency":"EUR","require":{"tracked":"yes","max_transit_days":-1}}"#,
            &["require.tracked", "require.max_transit_days"],
        ),
        (
            r#"{"origin":{"country":"CN"},"destination":{"country":"DE","postcode":"10115;"},"parcel":{"weight_g":700},"currency":"EUR"}"#,
            &["destination.postcode"],
        ),
        (
            r#"{"origin":{"country":"CN"},"destination":{"country":"DE"},"parcel":{"weight_g":700,"colour":"red"},"currency":"EUR","speed":"fast"}"#,
            &["parcel.colour", "speed"],
        ),
        (
            r#"{"origin":{"country":"CN"},"destination":{"country":"DE"},"parcel":{"weight_g":700},"currency":"EUR","explain":1,"landed_cost":"true"}"#,
            &["landed_cost", "explain"],
        ),
    ];
    for (json, fields) in cases {
        let mut got = problems(json);
        let mut want: Vec<String> = fields.iter().map(|f| f.to_string()).collect();
        got.sort();
        want.sort();
        assert_eq!(got, want, "{json}");
    }
}

#[test]
fn nulls_mean_absent_and_none_means_no_battery() {
    let json = r#"{"origin":{"country":"CN","postcode":null},"destination":{"country":"DE"},"parcel":{"weight_g":700,"length_mm":null},"currency":"EUR","battery":"none","customer":null,"goods":["liquid","liquid"]}"#;
    let r = parse_request_str(json, &defaults()).unwrap();
    assert!(r.battery.is_none() && r.origin_postcode.is_none() && r.dims_mm[0].is_none());
    assert_eq!(r.goods, ["liquid"]);
}

#[test]
fn huge_and_deeply_nested_inputs_are_refused_without_crashing() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert_eq!(problems(&deep), [""]);
    let many_lines = format!(
        r#"{{"origin":{{"country":"CN"}},"destination":{{"country":"DE"}},"parcel":{{"weight_g":700}},"currency":"EUR","contents":[{}]}}"#,
        vec![r#"{"value":"1"}"#; 1001].join(",")
    );
    assert_eq!(problems(&many_lines), ["contents"]);
    let heavy = r#"{"origin":{"country":"CN"},"destination":{"country":"DE"},"parcel":{"weight_g":18446744073709551615},"currency":"EUR"}"#;
    assert_eq!(problems(heavy), ["parcel.weight_g"]);
}
