//! JSON → [`Request`], naming every field at fault.

use crossdock_engine::request::DIMENSION_MM_MAX;
use crossdock_engine::{
    Battery, ContentLine, Country, Currency, Date, Decimal, HsCode, Incoterm, Money, Postcode,
    Request, Strategy,
};
use serde_json::{Map, Value};
use std::str::FromStr;

/// What a request may leave out and where the answer comes from.
#[derive(Clone, Debug)]
pub struct Defaults {
    /// `ship_date` when the request has none: today (UTC), supplied by the caller's clock.
    pub today: Date,
    /// `customer` when the request has none: the caller's own (from its API key), or none.
    pub customer: Option<String>,
    /// `explain` when the request does not say.
    pub explain: bool,
}

/// One problem of a request: the field's path and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldProblem {
    pub field: String,
    pub problem: String,
}

impl FieldProblem {
    pub fn new(field: impl Into<String>, problem: impl Into<String>) -> FieldProblem {
        FieldProblem {
            field: field.into(),
            problem: problem.into(),
        }
    }
}

/// Limits on a request's parts, so no request is too large to validate cheaply.
pub const CONTENT_LINES_MAX: usize = 1000;
pub const NAMED_MAX: usize = 1000;
pub const TEXT_LEN_MAX: usize = 512;
pub const WEIGHT_G_MAX: u64 = 1_000_000_000;
const GOODS_MAX: usize = crossdock_engine::price::GOODS_MAX;

/// Parses a request from JSON text.
pub fn parse_request_str(text: &str, defaults: &Defaults) -> Result<Request, Vec<FieldProblem>> {
    match serde_json::from_str::<Value>(text) {
        Ok(value) => parse_request(&value, defaults),
        Err(e) => Err(vec![FieldProblem::new("", format!("not valid JSON: {e}"))]),
    }
}

/// Parses a request from a JSON value.
pub fn parse_request(value: &Value, defaults: &Defaults) -> Result<Request, Vec<FieldProblem>> {
    let mut p = Parser {
        problems: Vec::new(),
    };
    let request = p.request(value, defaults);
    match request {
        Some(request) if p.problems.is_empty() => Ok(request),
        _ => Err(p.problems),
    }
}

struct Parser {
    problems: Vec<FieldProblem>,
}

/// The keys of an object, checked against the known ones.
fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

impl Parser {
    fn problem(&mut self, field: impl Into<String>, problem: impl Into<String>) {
        self.problems.push(FieldProblem::new(field, problem));
    }

    /// The object at `field`, with unknown keys reported. `None` (and a problem) when not an object.
    fn object<'v>(
        &mut self,
        field: &str,
        value: &'v Value,
        known: &[&str],
    ) -> Option<&'v Map<String, Value>> {
        let Value::Object(map) = value else {
            self.problem(
                if field.is_empty() { "" } else { field },
                format!("must be a JSON object, not {}", kind(value)),
            );
            return None;
        };
        for key in map.keys() {
            if !known.contains(&key.as_str()) {
                self.problem(join(field, key), "is not a known field");
            }
        }
        Some(map)
    }

    fn request(&mut self, value: &Value, defaults: &Defaults) -> Option<Request> {
        const KNOWN: &[&str] = &[
            "customer",
            "ship_date",
            "origin",
            "destination",
            "parcel",
            "declared_value",
            "contents",
            "battery",
            "goods",
            "incoterm",
            "require",
            "strategy",
            "value_per_day",
            "currency",
            "landed_cost",
            "explain",
        ];
        let map = self.object("", value, KNOWN)?;
        let get = |key: &str| map.get(key).filter(|v| !v.is_null());

        let customer = match get("customer") {
            None => defaults.customer.clone(),
            Some(v) => self.text("customer", v),
        };
        let ship_date = match get("ship_date") {
            None => Some(defaults.today),
            Some(v) => self.date("ship_date", v),
        };
        let origin = self.place("origin", get("origin"));
        let destination = self.place("destination", get("destination"));
        let parcel = self.parcel(get("parcel"));
        let currency = match get("currency") {
            None => {
                self.problem("currency", "is required");
                None
            }
            Some(v) => self.currency("currency", v),
        };
        let declared_value = match get("declared_value") {
            None => Ok(None),
            Some(v) => self.money("declared_value", v).map(Some).ok_or(()),
        };
        let contents = match get("contents") {
            None => Some(Vec::new()),
            Some(v) => self.contents(v),
        };
        let battery = match get("battery") {
            None => Ok(None),
            Some(Value::String(s)) if s == "none" => Ok(None),
            Some(Value::String(s)) => {
                match Battery::parse(s) {
                    Some(b) => Ok(Some(b)),
                    None => {
                        self.problem("battery", format!("{s:?} is not none or one of PI965, PI966, PI967, PI968, PI969, PI970"));
                        Err(())
                    }
                }
            }
            Some(v) => {
                self.problem("battery", format!("must be a string, not {}", kind(v)));
                Err(())
            }
        };
        let goods = match get("goods") {
            None => Some(Vec::new()),
            Some(v) => self.goods(v),
        };
        let incoterm = match get("incoterm") {
            None => Some(Incoterm::Ddu),
            Some(v) => self.choice("incoterm", v, "DDU or DDP", Incoterm::parse),
        };
        let require = self.require(get("require"));
        let strategy = match get("strategy") {
            None => Some(Strategy::Cheapest),
            Some(v) => self.choice(
                "strategy",
                v,
                "cheapest, fastest or best_value",
                Strategy::parse,
            ),
        };
        let value_per_day = match get("value_per_day") {
            None => Some(Decimal::ZERO),
            Some(v) => self.amount("value_per_day", v),
        };
        let landed_cost = match get("landed_cost") {
            None => Some(false),
            Some(v) => self.boolean("landed_cost", v),
        };
        let explain = match get("explain") {
            None => Some(defaults.explain),
            Some(v) => self.boolean("explain", v),
        };

        let (Some(ship_date), Some(origin), Some(destination), Some(parcel), Some(currency)) =
            (ship_date, origin, destination, parcel, currency)
        else {
            return None;
        };
        let (
            Ok(declared_value),
            Some(contents),
            Ok(battery),
            Some(goods),
            Some(incoterm),
            Some(require),
            Some(strategy),
        ) = (
            declared_value,
            contents,
            battery,
            goods,
            incoterm,
            require,
            strategy,
        )
        else {
            return None;
        };
        let (Some(value_per_day), Some(landed_cost), Some(explain)) =
            (value_per_day, landed_cost, explain)
        else {
            return None;
        };
        if !self.problems.is_empty() {
            return None;
        }
        Some(Request {
            customer,
            ship_date,
            origin_country: origin.0,
            origin_postcode: origin.1,
            dest_country: destination.0,
            dest_postcode: destination.1,
            weight_g: parcel.0,
            dims_mm: parcel.1,
            declared_value,
            contents,
            battery,
            goods,
            incoterm,
            require_tracked: require.tracked,
            max_transit_days: require.max_transit_days,
            services: require.services,
            carriers: require.carriers,
            strategy,
            value_per_day,
            currency,
            landed_cost,
            explain,
        })
    }

    fn place(&mut self, field: &str, value: Option<&Value>) -> Option<(Country, Option<Postcode>)> {
        let Some(value) = value else {
            self.problem(join(field, "country"), "is required");
            return None;
        };
        let map = self.object(field, value, &["country", "postcode"])?;
        let country = match map.get("country").filter(|v| !v.is_null()) {
            None => {
                self.problem(join(field, "country"), "is required");
                None
            }
            Some(v) => self.country(&join(field, "country"), v),
        };
        let postcode = match map.get("postcode").filter(|v| !v.is_null()) {
            None => Ok(None),
            Some(Value::String(s)) => Postcode::normalise(s)
                .map_err(|why| self.problem(join(field, "postcode"), format!("{s:?} {why}"))),
            Some(v) => {
                self.problem(
                    join(field, "postcode"),
                    format!("must be a string, not {}", kind(v)),
                );
                Err(())
            }
        };
        Some((country?, postcode.ok()?))
    }

    #[allow(clippy::type_complexity)]
    fn parcel(&mut self, value: Option<&Value>) -> Option<(u32, [Option<u32>; 3])> {
        let Some(value) = value else {
            self.problem("parcel.weight_g", "is required");
            return None;
        };
        let map = self.object(
            "parcel",
            value,
            &["weight_g", "length_mm", "width_mm", "height_mm"],
        )?;
        let weight = match map.get("weight_g").filter(|v| !v.is_null()) {
            None => {
                self.problem("parcel.weight_g", "is required");
                None
            }
            Some(v) => match whole(v) {
                Some(g) if (1..=WEIGHT_G_MAX).contains(&g) => Some(g as u32),
                Some(g) if g > WEIGHT_G_MAX => {
                    self.problem(
                        "parcel.weight_g",
                        format!("must be at most {WEIGHT_G_MAX} grams"),
                    );
                    None
                }
                _ => {
                    self.problem("parcel.weight_g", "must be a whole number of grams above 0");
                    None
                }
            },
        };
        let mut dims = [None; 3];
        let mut ok = true;
        for (slot, name) in dims.iter_mut().zip(["length_mm", "width_mm", "height_mm"]) {
            let Some(v) = map.get(name).filter(|v| !v.is_null()) else {
                continue;
            };
            match whole(v) {
                Some(mm) if (1..=u64::from(DIMENSION_MM_MAX)).contains(&mm) => {
                    *slot = Some(mm as u32)
                }
                Some(mm) if mm > u64::from(DIMENSION_MM_MAX) => {
                    self.problem(
                        format!("parcel.{name}"),
                        format!("must be at most {DIMENSION_MM_MAX} millimetres"),
                    );
                    ok = false;
                }
                _ => {
                    self.problem(
                        format!("parcel.{name}"),
                        "must be a whole number of millimetres above 0",
                    );
                    ok = false;
                }
            }
        }
        ok.then_some((weight?, dims))
    }

    fn money(&mut self, field: &str, value: &Value) -> Option<Money> {
        let map = self.object(field, value, &["amount", "currency"])?;
        let amount = match map.get("amount").filter(|v| !v.is_null()) {
            None => {
                self.problem(join(field, "amount"), "is required");
                None
            }
            Some(v) => self.amount(&join(field, "amount"), v),
        };
        let currency = match map.get("currency").filter(|v| !v.is_null()) {
            None => {
                self.problem(join(field, "currency"), "is required");
                None
            }
            Some(v) => self.currency(&join(field, "currency"), v),
        };
        Some(Money {
            amount: amount?,
            currency: currency?,
        })
    }

    fn contents(&mut self, value: &Value) -> Option<Vec<ContentLine>> {
        let Value::Array(items) = value else {
            self.problem("contents", format!("must be an array, not {}", kind(value)));
            return None;
        };
        if items.len() > CONTENT_LINES_MAX {
            self.problem(
                "contents",
                format!("has {} lines; at most {CONTENT_LINES_MAX}", items.len()),
            );
            return None;
        }
        let mut out = Vec::with_capacity(items.len());
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            let field = format!("contents[{i}]");
            let line = self.content_line(&field, item);
            ok &= line.is_some();
            out.extend(line);
        }
        ok.then_some(out)
    }

    fn content_line(&mut self, field: &str, value: &Value) -> Option<ContentLine> {
        let map = self.object(
            field,
            value,
            &[
                "description",
                "hs_code",
                "quantity",
                "value",
                "origin_country",
            ],
        )?;
        let get = |key: &str| map.get(key).filter(|v| !v.is_null());
        let description = match get("description") {
            None => Ok(None),
            Some(v) => self
                .text(&join(field, "description"), v)
                .map(Some)
                .ok_or(()),
        };
        let hs_code = match get("hs_code") {
            None => Ok(None),
            Some(Value::String(s)) => match HsCode::parse(s) {
                Some(hs) => Ok(Some(hs)),
                None => {
                    self.problem(
                        join(field, "hs_code"),
                        format!("{s:?} is not an HS code (2 to 10 digits)"),
                    );
                    Err(())
                }
            },
            Some(v) => {
                self.problem(
                    join(field, "hs_code"),
                    format!("must be a string of digits, not {}", kind(v)),
                );
                Err(())
            }
        };
        let quantity = match get("quantity") {
            None => Some(1),
            Some(v) => match whole(v) {
                Some(q) if (1..=u64::from(u32::MAX)).contains(&q) => Some(q as u32),
                _ => {
                    self.problem(join(field, "quantity"), "must be a whole number above 0");
                    None
                }
            },
        };
        let line_value = match get("value") {
            None => {
                self.problem(join(field, "value"), "is required");
                None
            }
            Some(v) => self.amount(&join(field, "value"), v),
        };
        let origin_country = match get("origin_country") {
            None => Ok(None),
            Some(v) => self
                .country(&join(field, "origin_country"), v)
                .map(Some)
                .ok_or(()),
        };
        Some(ContentLine {
            description: description.ok()?,
            hs_code: hs_code.ok()?,
            quantity: quantity?,
            value: line_value?,
            origin_country: origin_country.ok()?,
        })
    }

    fn goods(&mut self, value: &Value) -> Option<Vec<String>> {
        let Value::Array(items) = value else {
            self.problem(
                "goods",
                format!("must be an array of strings, not {}", kind(value)),
            );
            return None;
        };
        let mut out: Vec<String> = Vec::new();
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            match item {
                Value::String(s) if !s.is_empty() && s.len() <= 64 => {
                    if !out.contains(s) {
                        out.push(s.clone());
                    }
                }
                Value::String(_) => {
                    self.problem(
                        format!("goods[{i}]"),
                        "must be a category name of 1 to 64 characters",
                    );
                    ok = false;
                }
                other => {
                    self.problem(
                        format!("goods[{i}]"),
                        format!("must be a string, not {}", kind(other)),
                    );
                    ok = false;
                }
            }
        }
        if out.len() > GOODS_MAX {
            self.problem("goods", format!("at most {GOODS_MAX} categories"));
            ok = false;
        }
        ok.then_some(out)
    }

    fn require(&mut self, value: Option<&Value>) -> Option<Require> {
        let Some(value) = value else {
            return Some(Require::default());
        };
        let map = self.object(
            "require",
            value,
            &["tracked", "max_transit_days", "services", "carriers"],
        )?;
        let get = |key: &str| map.get(key).filter(|v| !v.is_null());
        let tracked = match get("tracked") {
            None => Some(false),
            Some(v) => self.boolean("require.tracked", v),
        };
        let max_transit_days = match get("max_transit_days") {
            None => Ok(None),
            Some(v) => match whole(v) {
                Some(d) if d <= u64::from(u32::MAX) => Ok(Some(d as u32)),
                _ => {
                    self.problem(
                        "require.max_transit_days",
                        "must be a whole number of days, 0 or more",
                    );
                    Err(())
                }
            },
        };
        let services = self.names("require.services", get("services"));
        let carriers = self.names("require.carriers", get("carriers"));
        Some(Require {
            tracked: tracked?,
            max_transit_days: max_transit_days.ok()?,
            services: services?,
            carriers: carriers?,
        })
    }

    fn names(&mut self, field: &str, value: Option<&Value>) -> Option<Vec<String>> {
        let Some(value) = value else {
            return Some(Vec::new());
        };
        let Value::Array(items) = value else {
            self.problem(
                field,
                format!("must be an array of strings, not {}", kind(value)),
            );
            return None;
        };
        if items.len() > NAMED_MAX {
            self.problem(field, format!("at most {NAMED_MAX} names"));
            return None;
        }
        let mut out = Vec::with_capacity(items.len());
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            match item {
                Value::String(s) if s.len() <= TEXT_LEN_MAX => out.push(s.clone()),
                other => {
                    self.problem(
                        format!("{field}[{i}]"),
                        format!(
                            "must be a string of at most {TEXT_LEN_MAX} bytes, not {}",
                            kind(other)
                        ),
                    );
                    ok = false;
                }
            }
        }
        ok.then_some(out)
    }

    fn text(&mut self, field: &str, value: &Value) -> Option<String> {
        match value {
            Value::String(s) if !s.is_empty() && s.len() <= TEXT_LEN_MAX => Some(s.clone()),
            Value::String(_) => {
                self.problem(field, format!("must be 1 to {TEXT_LEN_MAX} bytes of text"));
                None
            }
            other => {
                self.problem(field, format!("must be a string, not {}", kind(other)));
                None
            }
        }
    }

    fn date(&mut self, field: &str, value: &Value) -> Option<Date> {
        let parsed = value.as_str().and_then(Date::parse);
        if parsed.is_none() {
            self.problem(field, "must be a date written YYYY-MM-DD");
        }
        parsed
    }

    fn country(&mut self, field: &str, value: &Value) -> Option<Country> {
        match value {
            Value::String(s) => {
                let parsed = Country::parse(s);
                if parsed.is_none() {
                    self.problem(
                        field,
                        format!("{s:?} is not an upper-case ISO 3166-1 alpha-2 country code"),
                    );
                }
                parsed
            }
            other => {
                self.problem(
                    field,
                    format!("must be a country code string, not {}", kind(other)),
                );
                None
            }
        }
    }

    fn currency(&mut self, field: &str, value: &Value) -> Option<Currency> {
        match value {
            Value::String(s) => {
                let parsed = Currency::from_code(s);
                if parsed.is_none() {
                    self.problem(
                        field,
                        format!("{s:?} is not an upper-case ISO 4217 currency code"),
                    );
                }
                parsed
            }
            other => {
                self.problem(
                    field,
                    format!("must be a currency code string, not {}", kind(other)),
                );
                None
            }
        }
    }

    /// A non-negative decimal string such as "45.00". Numbers are refused: no floats anywhere.
    fn amount(&mut self, field: &str, value: &Value) -> Option<Decimal> {
        let Value::String(s) = value else {
            self.problem(
                field,
                format!(
                    "must be a decimal string such as \"12.50\", not {}",
                    kind(value)
                ),
            );
            return None;
        };
        let int = s.split('.').next().unwrap_or("");
        let frac = s.split_once('.').map(|(_, f)| f);
        let shape_ok = !int.is_empty()
            && int.bytes().all(|b| b.is_ascii_digit())
            && frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()));
        if !shape_ok {
            self.problem(
                field,
                format!("{s:?} is not a non-negative decimal string such as \"12.50\""),
            );
            return None;
        }
        match Decimal::from_str(s) {
            Ok(d) if d < crossdock_engine::AMOUNT_MAX => Some(d),
            _ => {
                self.problem(field, format!("{s:?} is too large"));
                None
            }
        }
    }

    fn boolean(&mut self, field: &str, value: &Value) -> Option<bool> {
        let b = value.as_bool();
        if b.is_none() {
            self.problem(field, format!("must be true or false, not {}", kind(value)));
        }
        b
    }

    fn choice<T>(
        &mut self,
        field: &str,
        value: &Value,
        allowed: &str,
        parse: fn(&str) -> Option<T>,
    ) -> Option<T> {
        let parsed = value.as_str().and_then(parse);
        if parsed.is_none() {
            self.problem(field, format!("must be {allowed}"));
        }
        parsed
    }
}

#[derive(Default)]
struct Require {
    tracked: bool,
    max_transit_days: Option<u32>,
    services: Vec<String>,
    carriers: Vec<String>,
}

/// A JSON integer ≥ 0 (never a float, even `700.0`).
fn whole(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) if n.is_u64() => n.as_u64(),
        _ => None,
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a fractional number",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
