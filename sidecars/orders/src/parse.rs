//! An order's JSON, read strictly: every wrong type, unknown field, bad code or enum is a
//! problem of the request (400, nothing stored), all of them listed. What is merely
//! missing is not a problem here: the order is kept `held` with a `REQUIRED` problem
//! (model.rs). The same reader reads the order documents the store keeps.

use crate::model::{
    Address, BATTERIES, CUSTOMS_CATEGORIES, ContentLine, Money, OrderInput, Parcel, Routing,
};
use crossdock_http::Problem;
use rust_decimal::Decimal;
use serde_json::{Map, Value};
use std::str::FromStr;

/// Content lines an order may have.
pub const CONTENT_LINES_MAX: usize = 100;
/// Longest free-text field (names, address lines, descriptions), in characters.
pub const TEXT_CHARS_MAX: usize = 200;
/// Heaviest parcel, in grams (a sanity bound; services have their own limits).
pub const WEIGHT_G_MAX: u32 = 1_000_000;
/// Longest side, in millimetres.
pub const LENGTH_MM_MAX: u32 = 10_000;

/// The top-level fields an order may have.
const ORDER_FIELDS: [&str; 12] = [
    "reference",
    "customer",
    "shipper",
    "recipient",
    "parcel",
    "declared_value",
    "contents",
    "battery",
    "goods",
    "incoterm",
    "customs_category",
    "routing",
];

/// Reads an order. `Ok` with the order and the `customer` field if one was given.
pub fn order(value: &Value) -> Result<(OrderInput, Option<String>), Vec<Problem>> {
    let mut r = Reader::default();
    let Some(object) = value.as_object() else {
        return Err(vec![Problem::new("", "must be a JSON object")]);
    };
    r.unknown("", object, &ORDER_FIELDS);
    let reference = match object.get("reference") {
        None | Some(Value::Null) => {
            r.problem("reference", "required: 1 to 64 printable characters");
            String::new()
        }
        Some(Value::String(s)) if crate::model::reference_ok(s) => s.clone(),
        Some(_) => {
            r.problem("reference", "must be 1 to 64 printable characters");
            String::new()
        }
    };
    let customer = r.text(object, "customer", "customer");
    let input = OrderInput {
        reference,
        shipper: r.address(object, "shipper"),
        recipient: r.address(object, "recipient"),
        parcel: r.parcel(object),
        declared_value: r.money(object, "declared_value", "declared_value"),
        contents: r.contents(object),
        battery: r.one_of(object, "battery", "battery", &BATTERIES),
        goods: r.goods(object),
        incoterm: r.one_of(object, "incoterm", "incoterm", &["DDU", "DDP"]),
        customs_category: r.one_of(
            object,
            "customs_category",
            "customs_category",
            &CUSTOMS_CATEGORIES,
        ),
        routing: r.routing(object),
    };
    if r.problems.is_empty() {
        Ok((input, customer))
    } else {
        Err(r.problems)
    }
}

#[derive(Default)]
struct Reader {
    problems: Vec<Problem>,
}

fn path(prefix: &str, field: &str) -> String {
    if prefix.is_empty() {
        field.to_owned()
    } else {
        format!("{prefix}.{field}")
    }
}

impl Reader {
    fn problem(&mut self, field: impl Into<String>, problem: impl Into<String>) {
        self.problems.push(Problem::new(field, problem));
    }

    fn unknown(&mut self, prefix: &str, object: &Map<String, Value>, known: &[&str]) {
        for key in object.keys() {
            if !known.contains(&key.as_str()) {
                self.problem(path(prefix, key), "unknown field");
            }
        }
    }

    /// An optional object field; `None` when absent or null (a problem if not an object).
    fn object<'v>(
        &mut self,
        object: &'v Map<String, Value>,
        key: &str,
        field: &str,
    ) -> Option<&'v Map<String, Value>> {
        match object.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::Object(o)) => Some(o),
            Some(_) => {
                self.problem(field, "must be an object");
                None
            }
        }
    }

    /// An optional text field: trimmed; empty counts as absent.
    fn text(&mut self, object: &Map<String, Value>, key: &str, field: &str) -> Option<String> {
        match object.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => {
                let s = s.trim();
                if s.chars().count() > TEXT_CHARS_MAX {
                    self.problem(field, format!("at most {TEXT_CHARS_MAX} characters"));
                    None
                } else if s.chars().any(char::is_control) {
                    self.problem(field, "must not contain control characters");
                    None
                } else {
                    (!s.is_empty()).then(|| s.to_owned())
                }
            }
            Some(_) => {
                self.problem(field, "must be a string");
                None
            }
        }
    }

    fn country(&mut self, object: &Map<String, Value>, key: &str, field: &str) -> Option<String> {
        let code = self.text(object, key, field)?;
        if crossdock_refdata::country(&code).is_none() {
            self.problem(
                field,
                format!("{code:?} is not an ISO 3166-1 alpha-2 code in capitals"),
            );
            return None;
        }
        Some(code)
    }

    fn currency(&mut self, object: &Map<String, Value>, key: &str, field: &str) -> Option<String> {
        let code = self.text(object, key, field)?;
        if crossdock_engine::Currency::from_code(&code).is_none() {
            self.problem(
                field,
                format!("{code:?} is not an ISO 4217 currency code in capitals"),
            );
            return None;
        }
        Some(code)
    }

    fn one_of(
        &mut self,
        object: &Map<String, Value>,
        key: &str,
        field: &str,
        allowed: &[&str],
    ) -> Option<String> {
        let value = self.text(object, key, field)?;
        if !allowed.contains(&value.as_str()) {
            self.problem(field, format!("must be one of {}", allowed.join(", ")));
            return None;
        }
        Some(value)
    }

    fn whole(
        &mut self,
        object: &Map<String, Value>,
        key: &str,
        field: &str,
        max: u32,
        what: &str,
    ) -> Option<u32> {
        match object.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) => match n.as_u64() {
                Some(v) if (1..=u64::from(max)).contains(&v) => Some(v as u32),
                _ => {
                    self.problem(
                        field,
                        format!("must be a whole number of {what} from 1 to {max}"),
                    );
                    None
                }
            },
            Some(_) => {
                self.problem(field, format!("must be a whole number of {what}"));
                None
            }
        }
    }

    fn decimal(&mut self, object: &Map<String, Value>, key: &str, field: &str) -> Option<Decimal> {
        match object.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => match decimal_text(s) {
                Some(d) => Some(d),
                None => {
                    self.problem(
                        field,
                        "must be a decimal string such as \"45.00\", not negative",
                    );
                    None
                }
            },
            Some(_) => {
                self.problem(
                    field,
                    "must be a decimal string such as \"45.00\" (never a number)",
                );
                None
            }
        }
    }

    fn bool(&mut self, object: &Map<String, Value>, key: &str, field: &str) -> Option<bool> {
        match object.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => {
                self.problem(field, "must be true or false");
                None
            }
        }
    }

    fn address(&mut self, object: &Map<String, Value>, key: &str) -> Address {
        let Some(o) = self.object(object, key, key) else {
            return Address::default();
        };
        self.unknown(
            key,
            o,
            &[
                "name", "company", "line1", "line2", "city", "region", "postcode", "country",
                "phone", "email",
            ],
        );
        let f = |field: &str| path(key, field);
        Address {
            name: self.text(o, "name", &f("name")),
            company: self.text(o, "company", &f("company")),
            line1: self.text(o, "line1", &f("line1")),
            line2: self.text(o, "line2", &f("line2")),
            city: self.text(o, "city", &f("city")),
            region: self.text(o, "region", &f("region")),
            postcode: self
                .text(o, "postcode", &f("postcode"))
                .map(|p| p.to_uppercase()),
            country: self.country(o, "country", &f("country")),
            phone: self.text(o, "phone", &f("phone")),
            email: self.text(o, "email", &f("email")),
        }
    }

    fn parcel(&mut self, object: &Map<String, Value>) -> Parcel {
        let Some(o) = self.object(object, "parcel", "parcel") else {
            return Parcel::default();
        };
        self.unknown(
            "parcel",
            o,
            &["weight_g", "length_mm", "width_mm", "height_mm"],
        );
        Parcel {
            weight_g: self.whole(o, "weight_g", "parcel.weight_g", WEIGHT_G_MAX, "grams"),
            length_mm: self.whole(
                o,
                "length_mm",
                "parcel.length_mm",
                LENGTH_MM_MAX,
                "millimetres",
            ),
            width_mm: self.whole(
                o,
                "width_mm",
                "parcel.width_mm",
                LENGTH_MM_MAX,
                "millimetres",
            ),
            height_mm: self.whole(
                o,
                "height_mm",
                "parcel.height_mm",
                LENGTH_MM_MAX,
                "millimetres",
            ),
        }
    }

    fn money(&mut self, object: &Map<String, Value>, key: &str, field: &str) -> Option<Money> {
        let o = self.object(object, key, field)?;
        self.unknown(field, o, &["amount", "currency"]);
        let amount = self.decimal(o, "amount", &path(field, "amount"));
        let currency = self.currency(o, "currency", &path(field, "currency"));
        match (amount, currency) {
            (Some(amount), Some(currency)) => Some(Money { amount, currency }),
            (None, _) if !o.contains_key("amount") => {
                self.problem(path(field, "amount"), "required with the currency");
                None
            }
            (_, None) if !o.contains_key("currency") => {
                self.problem(path(field, "currency"), "required with the amount");
                None
            }
            _ => None,
        }
    }

    fn contents(&mut self, object: &Map<String, Value>) -> Vec<ContentLine> {
        let items = match object.get("contents") {
            None | Some(Value::Null) => return Vec::new(),
            Some(Value::Array(items)) => items,
            Some(_) => {
                self.problem("contents", "must be an array of content lines");
                return Vec::new();
            }
        };
        if items.len() > CONTENT_LINES_MAX {
            self.problem("contents", format!("at most {CONTENT_LINES_MAX} lines"));
            return Vec::new();
        }
        let mut lines = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let field = format!("contents[{i}]");
            let Some(o) = item.as_object() else {
                self.problem(field, "must be an object");
                continue;
            };
            self.unknown(
                &field,
                o,
                &[
                    "description",
                    "hs_code",
                    "quantity",
                    "value",
                    "origin_country",
                ],
            );
            let hs_code = self.text(o, "hs_code", &path(&field, "hs_code"));
            if let Some(code) = &hs_code
                && crossdock_refdata::hs_known(code) == crossdock_refdata::HsCheck::Malformed
            {
                self.problem(
                    path(&field, "hs_code"),
                    "2 to 10 digits (dots and spaces are ignored)",
                );
            }
            lines.push(ContentLine {
                description: self.text(o, "description", &path(&field, "description")),
                hs_code,
                quantity: self.whole(o, "quantity", &path(&field, "quantity"), 1_000_000, "items"),
                value: self.decimal(o, "value", &path(&field, "value")),
                origin_country: self.country(o, "origin_country", &path(&field, "origin_country")),
            });
        }
        lines
    }

    fn goods(&mut self, object: &Map<String, Value>) -> Vec<String> {
        match object.get("goods") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => {
                let mut goods = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    match item.as_str().map(str::trim) {
                        Some(g) if !g.is_empty() && g.len() <= 64 => goods.push(g.to_owned()),
                        _ => self.problem(format!("goods[{i}]"), "must be a goods category name"),
                    }
                }
                goods
            }
            Some(_) => {
                self.problem("goods", "must be an array of goods categories");
                Vec::new()
            }
        }
    }

    fn routing(&mut self, object: &Map<String, Value>) -> Routing {
        let Some(o) = self.object(object, "routing", "routing") else {
            return Routing::default();
        };
        self.unknown(
            "routing",
            o,
            &[
                "strategy",
                "require",
                "service",
                "currency",
                "value_per_day",
            ],
        );
        let (tracked, max_transit_days) = match self.object(o, "require", "routing.require") {
            Some(req) => {
                self.unknown("routing.require", req, &["tracked", "max_transit_days"]);
                (
                    self.bool(req, "tracked", "routing.require.tracked"),
                    self.whole(
                        req,
                        "max_transit_days",
                        "routing.require.max_transit_days",
                        365,
                        "days",
                    ),
                )
            }
            None => (None, None),
        };
        Routing {
            strategy: self.one_of(
                o,
                "strategy",
                "routing.strategy",
                &["cheapest", "fastest", "best_value"],
            ),
            tracked,
            max_transit_days,
            service: self.text(o, "service", "routing.service"),
            currency: self.currency(o, "currency", "routing.currency"),
            value_per_day: self.decimal(o, "value_per_day", "routing.value_per_day"),
        }
    }
}

/// A non-negative decimal written plainly (`"45.00"`, `"7"`): no sign, exponent or spaces.
pub fn decimal_text(s: &str) -> Option<Decimal> {
    let plain = !s.is_empty()
        && s.len() <= 24
        && s.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && s.bytes().filter(|b| *b == b'.').count() <= 1
        && !s.starts_with('.')
        && !s.ends_with('.');
    if !plain {
        return None;
    }
    Decimal::from_str(s).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec_order() -> Value {
        json!({"reference": "SO-10023",
         "shipper": {"name": "Li Wei", "line1": "18 Keji Rd", "city": "Shenzhen", "region": "Guangdong", "postcode": "518000", "country": "CN"},
         "recipient": {"name": "Anna Schmidt", "line1": "Invalidenstr. 116", "city": "Berlin", "postcode": "10115", "country": "DE"},
         "parcel": {"weight_g": 700, "length_mm": 300, "width_mm": 200, "height_mm": 100},
         "declared_value": {"amount": "45.00", "currency": "EUR"},
         "contents": [{"description": "Phone case", "hs_code": "392690", "quantity": 2, "value": "45.00", "origin_country": "CN"}],
         "routing": {"strategy": "cheapest", "require": {"tracked": true}, "service": null, "currency": "EUR"}})
    }

    #[test]
    fn the_spec_example_reads_and_validates_clean() {
        let (order, customer) = order(&spec_order()).expect("reads");
        assert_eq!(customer, None);
        assert_eq!(order.reference, "SO-10023");
        assert_eq!(order.routing.tracked, Some(true));
        assert_eq!(crate::model::validate(&order), vec![]);
    }

    #[test]
    fn every_fault_is_listed_with_its_field() {
        let mut o = spec_order();
        o["parcel"]["weight_g"] = json!(-3);
        o["recipient"]["country"] = json!("de");
        o["declared_value"]["amount"] = json!(45.0);
        o["colour"] = json!("red");
        o["contents"][0]["hs_code"] = json!("39A690");
        o["battery"] = json!("PI999");
        let problems = order(&o).unwrap_err();
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        for f in [
            "parcel.weight_g",
            "recipient.country",
            "declared_value.amount",
            "colour",
            "contents[0].hs_code",
            "battery",
        ] {
            assert!(fields.contains(&f), "{f} missing from {fields:?}");
        }
    }

    #[test]
    fn decimals_are_plain_and_never_floats() {
        for (text, ok) in [
            ("45.00", true),
            ("7", true),
            ("-1", false),
            ("1e3", false),
            (".5", false),
            ("5.", false),
            ("", false),
            (" 1", false),
        ] {
            assert_eq!(decimal_text(text).is_some(), ok, "{text:?}");
        }
    }
}
