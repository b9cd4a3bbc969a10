//! Orders and their parts as the API's JSON (and the documents the store keeps): one owner
//! for every order rendering, read back by `parse.rs`.

use crate::model::{Address, ContentLine, Money, OrderInput, Problem};
use crate::store::OrderRow;
use crossdock_http::rfc3339;
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

/// A decimal at the currency's ISO 4217 minor units (`"45.00"`, JPY `"1240"`).
pub fn amount(value: Decimal, currency: &str) -> String {
    let digits = crossdock_engine::Currency::from_code(currency).map_or(2, |c| c.minor_digits());
    let mut v = value;
    v.rescale(digits);
    v.to_string()
}

pub fn money(m: &Money) -> Value {
    json!({"amount": amount(m.amount, &m.currency), "currency": m.currency})
}

fn put(o: &mut Map<String, Value>, key: &str, value: &Option<String>) {
    if let Some(v) = value {
        o.insert(key.to_owned(), Value::String(v.clone()));
    }
}

pub fn address(a: &Address) -> Value {
    let mut o = Map::new();
    put(&mut o, "name", &a.name);
    put(&mut o, "company", &a.company);
    put(&mut o, "line1", &a.line1);
    put(&mut o, "line2", &a.line2);
    put(&mut o, "city", &a.city);
    put(&mut o, "region", &a.region);
    put(&mut o, "postcode", &a.postcode);
    put(&mut o, "country", &a.country);
    put(&mut o, "phone", &a.phone);
    put(&mut o, "email", &a.email);
    Value::Object(o)
}

fn content_line(line: &ContentLine, currency: &str) -> Value {
    let mut o = Map::new();
    put(&mut o, "description", &line.description);
    put(&mut o, "hs_code", &line.hs_code);
    if let Some(q) = line.quantity {
        o.insert("quantity".into(), json!(q));
    }
    if let Some(v) = line.value {
        o.insert("value".into(), Value::String(amount(v, currency)));
    }
    put(&mut o, "origin_country", &line.origin_country);
    Value::Object(o)
}

/// The order as submitted, canonical: what the store keeps and two submissions compare by.
pub fn input(order: &OrderInput) -> Value {
    let currency = order
        .declared_value
        .as_ref()
        .map_or("EUR", |m| m.currency.as_str());
    let mut parcel = Map::new();
    for (key, v) in [
        ("weight_g", order.parcel.weight_g),
        ("length_mm", order.parcel.length_mm),
        ("width_mm", order.parcel.width_mm),
        ("height_mm", order.parcel.height_mm),
    ] {
        if let Some(v) = v {
            parcel.insert(key.into(), json!(v));
        }
    }
    let r = &order.routing;
    let mut require = Map::new();
    if let Some(t) = r.tracked {
        require.insert("tracked".into(), json!(t));
    }
    if let Some(d) = r.max_transit_days {
        require.insert("max_transit_days".into(), json!(d));
    }
    let mut routing = Map::new();
    put(&mut routing, "strategy", &r.strategy);
    if !require.is_empty() {
        routing.insert("require".into(), Value::Object(require));
    }
    put(&mut routing, "service", &r.service);
    put(&mut routing, "currency", &r.currency);
    if let Some(v) = r.value_per_day {
        routing.insert(
            "value_per_day".into(),
            Value::String(v.normalize().to_string()),
        );
    }
    let mut o = Map::new();
    o.insert("reference".into(), json!(order.reference));
    o.insert("shipper".into(), address(&order.shipper));
    o.insert("recipient".into(), address(&order.recipient));
    o.insert("parcel".into(), Value::Object(parcel));
    if let Some(m) = &order.declared_value {
        o.insert("declared_value".into(), money(m));
    }
    o.insert(
        "contents".into(),
        Value::Array(
            order
                .contents
                .iter()
                .map(|l| content_line(l, currency))
                .collect(),
        ),
    );
    put(&mut o, "battery", &order.battery);
    if !order.goods.is_empty() {
        o.insert("goods".into(), json!(order.goods));
    }
    put(&mut o, "incoterm", &order.incoterm);
    put(&mut o, "customs_category", &order.customs_category);
    o.insert("routing".into(), Value::Object(routing));
    Value::Object(o)
}

pub fn problems(list: &[Problem]) -> Value {
    Value::Array(
        list.iter()
            .map(|p| json!({"field": p.field, "code": p.code, "problem": p.problem}))
            .collect(),
    )
}

/// The answer for an order: its input, then what crossdock adds.
pub fn order(row: &OrderRow) -> Value {
    let mut o = match serde_json::from_str::<Value>(&row.input) {
        Ok(Value::Object(o)) => o,
        _ => Map::new(),
    };
    let mut out = Map::new();
    out.insert("id".into(), json!(row.id));
    out.insert("customer".into(), json!(row.customer));
    out.insert("reference".into(), json!(row.reference));
    out.insert("status".into(), json!(row.status));
    out.insert(
        "problems".into(),
        serde_json::from_str(&row.problems).unwrap_or(Value::Array(Vec::new())),
    );
    out.insert("source".into(), json!(row.source));
    out.insert("shipment".into(), json!(row.shipment_id));
    o.remove("reference");
    out.append(&mut o);
    out.insert("created_at".into(), json!(rfc3339(row.created_at)));
    out.insert("updated_at".into(), json!(rfc3339(row.updated_at)));
    Value::Object(out)
}
