//! From a `ready` order to a labelled shipment, and what happens to a shipment after:
//! void, hand-over, relabel (orders-labels.md, "Shipments").
//!
//! Pricing happens before the transaction (it reads only the book in force); the
//! transaction then locks the order, checks again that it has no live shipment, takes
//! segment 1's number, writes the shipment, marks the order and emits `shipment.created`.
//! A refusal anywhere rolls everything back: no number is issued for a refused shipment.

use crate::error::{OrdersError, conflict};
use crate::model::{self, OrderInput, OrderStatus, ShipmentStatus};
use crate::store::{self, OrderRow, ShipmentRow};
use crate::{Actor, Orders, json as render, new_id, parse};
use crossdock_db::Tx;
use crossdock_events::{
    Event, ShipmentChange, ShipmentCreated, ShipmentHandedOver, ShipmentRelabelled,
    ShipmentRepriced, ShipmentVoided,
};
use crossdock_http::seams::{FirstOption, PriceAsk, Priced};
use crossdock_http::{Problem, rfc3339};
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};
use std::str::FromStr;

/// The quote request for an order (orders-labels.md, "Shipments"): origin and destination
/// from the addresses, its parcel, value, contents, battery, goods, incoterm and routing;
/// `routing.service` becomes `require.services: [service]`; the landed cost is asked.
/// Excluded services are not asked (`explain: false`: the same prices, a smaller answer);
/// a shipment no service can carry asks again with them, for its `no_service` answer.
pub fn quote_request(order: &OrderInput, customer: &str, ship_date: Option<&str>) -> Value {
    let mut q = Map::new();
    q.insert("customer".into(), json!(customer));
    if let Some(date) = ship_date {
        q.insert("ship_date".into(), json!(date));
    }
    let place = |a: &model::Address| {
        let mut o = Map::new();
        if let Some(c) = &a.country {
            o.insert("country".into(), json!(c));
        }
        if let Some(p) = &a.postcode {
            o.insert("postcode".into(), json!(p));
        }
        Value::Object(o)
    };
    q.insert("origin".into(), place(&order.shipper));
    q.insert("destination".into(), place(&order.recipient));
    let input = render::input(order);
    for key in ["parcel", "declared_value", "battery", "goods", "incoterm"] {
        if let Some(v) = input.get(key) {
            q.insert(key.into(), v.clone());
        }
    }
    if let Some(contents) = input
        .get("contents")
        .filter(|c| c.as_array().is_some_and(|a| !a.is_empty()))
    {
        q.insert("contents".into(), contents.clone());
    }
    let r = &order.routing;
    let mut require = Map::new();
    if let Some(t) = r.tracked {
        require.insert("tracked".into(), json!(t));
    }
    if let Some(d) = r.max_transit_days {
        require.insert("max_transit_days".into(), json!(d));
    }
    if let Some(s) = &r.service {
        require.insert("services".into(), json!([s]));
    }
    if !require.is_empty() {
        q.insert("require".into(), Value::Object(require));
    }
    if let Some(s) = &r.strategy {
        q.insert("strategy".into(), json!(s));
    }
    if let Some(v) = r.value_per_day {
        q.insert("value_per_day".into(), json!(v.normalize().to_string()));
    }
    if let Some(c) = &r.currency {
        q.insert("currency".into(), json!(c));
    }
    q.insert("landed_cost".into(), json!(true));
    q.insert("explain".into(), json!(false));
    Value::Object(q)
}

/// The quote's customs issues as problems on the fields they are about.
pub fn customs_problems(order: &OrderInput, issues: &[&str]) -> Vec<model::Problem> {
    let mut problems = Vec::new();
    for issue in issues {
        match *issue {
            "HS6_REQUIRED" => {
                if order.contents.is_empty() {
                    problems.push(model::Problem::new(
                        "contents",
                        "HS6_REQUIRED",
                        "the destination requires content lines with 6-digit HS codes",
                    ));
                }
                for (i, line) in order.contents.iter().enumerate() {
                    let digits = line
                        .hs_code
                        .as_deref()
                        .map_or(0, |c| c.chars().filter(char::is_ascii_digit).count());
                    if digits < 6 {
                        problems.push(model::Problem::new(
                            format!("contents[{i}].hs_code"),
                            "HS6_REQUIRED",
                            "the destination requires a 6-digit HS code on every line",
                        ));
                    }
                }
            }
            "GENERIC_DESCRIPTION" => {
                for (i, line) in order.contents.iter().enumerate() {
                    if line
                        .description
                        .as_deref()
                        .is_some_and(crossdock_engine::customs::is_generic_description)
                    {
                        problems.push(model::Problem::new(
                            format!("contents[{i}].description"),
                            "GENERIC_DESCRIPTION",
                            "customs refuse descriptions this vague; say what the item is",
                        ));
                    }
                }
            }
            "VALUE_MISMATCH" => problems.push(model::Problem::new(
                "declared_value.amount",
                "VALUE_MISMATCH",
                "the content lines' values do not add up to the declared value",
            )),
            _ => {}
        }
    }
    problems
}

/// The customs problems of a quote answer (its `customs.issues`) on the order's fields.
pub fn customs_problems_of(order: &OrderInput, answer: &Value) -> Vec<model::Problem> {
    let issues: Vec<&str> = answer["customs"]["issues"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    customs_problems(order, &issues)
}

/// `YYYY-MM-DD` of a unix time (UTC).
pub fn date_of(unix_s: i64) -> String {
    rfc3339(unix_s)[..10].to_owned()
}

/// Reads `{"ship_date": "YYYY-MM-DD"}` (every field optional; an empty body is `{}`).
pub fn ship_date(body: &Value) -> Result<Option<String>, OrdersError> {
    let Some(o) = body.as_object() else {
        return Err(OrdersError::Invalid(vec![Problem::new(
            "",
            "must be a JSON object",
        )]));
    };
    let mut problems: Vec<Problem> = o
        .keys()
        .filter(|k| k.as_str() != "ship_date")
        .map(|k| Problem::new(k.clone(), "unknown field"))
        .collect();
    let date = match o.get("ship_date") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if crossdock_engine::Date::parse(s).is_some() => Some(s.clone()),
        Some(_) => {
            problems.push(Problem::new("ship_date", "a date such as \"2026-12-01\""));
            None
        }
    };
    if problems.is_empty() {
        Ok(date)
    } else {
        Err(OrdersError::Invalid(problems))
    }
}

/// What shipping an order did.
#[derive(Clone, Debug)]
pub enum Shipped {
    Created(Value),
    /// The order's live shipment, issued before (nothing new issued).
    Existing(Value),
}

impl Orders {
    /// The shipment `id` if this caller sees it.
    pub async fn shipment(&self, actor: &Actor, id: &str) -> Result<ShipmentRow, OrdersError> {
        let (tenant, id) = (actor.tenant.0, id.to_owned());
        let row = self
            .db
            .read(move |tx| store::shipment_by_id(tx, tenant, &id))
            .await?;
        row.filter(|r| actor.sees(&r.customer))
            .ok_or(OrdersError::NotFound("shipment"))
    }

    /// `POST /v1/orders/{id}/ship`.
    pub async fn ship(
        &self,
        actor: &Actor,
        order_id: &str,
        ship_date: Option<String>,
    ) -> Result<Shipped, OrdersError> {
        let order = self.order(actor, order_id).await?;
        match self.plan_ship(actor, order, ship_date).await? {
            Planned::Existing(doc) => Ok(Shipped::Existing(doc)),
            Planned::Issue(plan) => {
                let (plan, issued) = self
                    .db
                    .write(move |tx| issue(tx, &plan).map(|issued| (plan, issued)))
                    .await?;
                Ok(plan.shipped(issued))
            }
        }
    }

    /// Everything of shipping `order` but its transaction: its live shipment if it has
    /// one, else validated again and priced (`issue` then writes it). Held, no service,
    /// no book: the refusal. Shared by one ship and ships in bulk (`bulk.rs`).
    pub(crate) async fn plan_ship(
        &self,
        actor: &Actor,
        order: OrderRow,
        ship_date: Option<String>,
    ) -> Result<Planned, OrdersError> {
        let order_id = order.id.clone();
        if let Some(existing) = &order.shipment_id {
            let row = self.shipment(actor, existing).await?;
            return Ok(Planned::Existing(doc_of(&row)?));
        }
        let value: Value = serde_json::from_str(&order.input)
            .map_err(|e| OrdersError::Failed(format!("order {order_id}: stored input: {e}")))?;
        let (input, _) = parse::order(&value).map_err(|_| {
            OrdersError::Failed(format!("order {order_id}: stored input no longer reads"))
        })?;
        let date = ship_date.unwrap_or_else(|| date_of(self.clock.now_unix()));
        // Held orders are validated again first; so are ready ones (the book may have
        // changed). The reference data first; the book's customs issues come with the one
        // quote that also prices the shipment.
        let problems = model::validate(&input);
        if !problems.is_empty() {
            self.hold(&order, &problems).await?;
            return Err(held(&problems));
        }
        let request = quote_request(&input, &order.customer, Some(&date));
        let priced = self.pricing.price(&PriceAsk {
            tenant: actor.tenant,
            customer: Some(&order.customer),
            request: &request,
            usd_per_sdr: &self.config.usd_per_sdr,
        });
        self.plan_quoted(
            actor,
            order,
            Quoted {
                input,
                date,
                request,
                priced,
            },
        )
        .await
    }

    /// The rest of [`Orders::plan_ship`] once the order is read, valid and priced: its
    /// customs issues, its service, the shipment and its texts. An upload's new order comes
    /// here straight from the quote that validated it (`Orders::new_order_row_quoted`).
    pub(crate) async fn plan_quoted(
        &self,
        actor: &Actor,
        order: OrderRow,
        quoted: Quoted,
    ) -> Result<Planned, OrdersError> {
        let Quoted {
            input,
            date,
            request,
            priced,
        } = quoted;
        let ask = PriceAsk {
            tenant: actor.tenant,
            customer: Some(&order.customer),
            request: &request,
            usd_per_sdr: &self.config.usd_per_sdr,
        };
        let (answer, first, value_sdr) = match priced {
            Priced::NoBook => return Err(OrdersError::NoBook),
            Priced::Invalid(problems) => {
                return Err(OrdersError::Unprocessable {
                    code: "unprocessable",
                    problem: problems
                        .into_iter()
                        .next()
                        .unwrap_or_else(|| Problem::new("", "the quote refused the order")),
                    extra: None,
                });
            }
            Priced::Quoted {
                answer,
                first,
                declared_value_sdr,
            } => (answer, first, declared_value_sdr),
        };
        let answer: Value = serde_json::from_str(&answer)
            .map_err(|e| OrdersError::Failed(format!("quote answer: {e}")))?;
        let problems = customs_problems_of(&input, &answer);
        if !problems.is_empty() {
            self.hold(&order, &problems).await?;
            return Err(held(&problems));
        }
        let (Some(first), Some(option)) = (first, answer["options"].get(0).cloned()) else {
            let mut explained = request.clone();
            explained["explain"] = json!(true);
            let excluded = match self.pricing.price(&PriceAsk {
                request: &explained,
                ..ask
            }) {
                Priced::Quoted { answer, .. } => serde_json::from_str::<Value>(&answer)
                    .map(|a| a["excluded"].clone())
                    .unwrap_or_default(),
                _ => Value::Null,
            };
            return Err(OrdersError::Unprocessable {
                code: "no_service",
                problem: Problem::new("routing", "no service can carry this parcel; see excluded"),
                extra: Some(("excluded", excluded)),
            });
        };
        let now = self.clock.now_unix();
        let draft = Draft {
            shipment_id: new_id("shp")?,
            order,
            input,
            date,
            answer,
            option,
            first,
            value_sdr,
            now,
        };
        let token = new_id("number")?;
        let doc = shipment_doc(&draft, &token);
        let event_id = new_id("evt")?;
        let shipment_text = doc.to_string();
        let rendered = render_event::<ShipmentCreated>(
            &draft.shipment_id,
            &draft.order.customer,
            &shipment_text,
            None,
            &event_id,
            now,
        );
        let first_segment = draft
            .first
            .segments
            .first()
            .ok_or_else(|| OrdersError::Failed("a service without segments".into()))?;
        let plan = Plan {
            carrier: first_segment.carrier.clone(),
            service: doc["service"].as_str().unwrap_or_default().to_owned(),
            shipment_text,
            event_text: rendered.public,
            payload_text: rendered.payload,
            shipment_id: draft.shipment_id,
            order: draft.order,
            now,
            event_id,
            token,
            doc,
        };
        Ok(Planned::Issue(Box::new(plan)))
    }

    async fn hold(&self, order: &OrderRow, problems: &[model::Problem]) -> Result<(), OrdersError> {
        let (tenant, id, seq) = (order.tenant, order.id.clone(), order.seq);
        let input = order.input.clone();
        let problems = render::problems(problems).to_string();
        let now = self.clock.now_unix();
        self.db
            .write(move |tx| {
                store::lock_order(tx, seq)?;
                match store::order_by_id(tx, tenant, &id)? {
                    Some(row) if row.status != OrderStatus::Shipped.as_str() => {
                        store::update_order(
                            tx,
                            tenant,
                            &id,
                            &input,
                            OrderStatus::Held,
                            &problems,
                            now,
                        )
                    }
                    _ => Ok(()),
                }
            })
            .await
    }

    /// `POST /v1/shipments/{id}/void`: while `labelled`; again: unchanged.
    pub async fn void(&self, actor: &Actor, id: &str) -> Result<Value, OrdersError> {
        let row = self.shipment(actor, id).await?;
        let (event_id, now) = (new_id("evt")?, self.clock.now_unix());
        self.db
            .write(move |tx| {
                let (row, mut doc) = locked_shipment(tx, &row)?;
                match ShipmentStatus::parse(&row.status) {
                    Some(ShipmentStatus::Voided) => return Ok(doc),
                    Some(ShipmentStatus::Labelled) => {}
                    _ => {
                        return Err(conflict(
                            "conflict",
                            "status",
                            format!("a {} shipment cannot be voided", row.status),
                        ));
                    }
                }
                doc["status"] = json!("voided");
                doc["voided_at"] = json!(rfc3339(now));
                doc["updated_at"] = json!(rfc3339(now));
                store::update_shipment(
                    tx,
                    row.tenant,
                    &row.id,
                    "voided",
                    false,
                    &doc.to_string(),
                    now,
                )?;
                store::set_order_shipment(
                    tx,
                    row.tenant,
                    &row.order_id,
                    OrderStatus::Ready,
                    None,
                    now,
                )?;
                emit::<ShipmentVoided>(tx, &row, &doc, None, &event_id, now)?;
                Ok(doc)
            })
            .await
    }

    /// `POST /v1/shipments/{id}/handover`: `labelled` → `handed_over`; idempotent.
    pub async fn hand_over(&self, actor: &Actor, id: &str) -> Result<Value, OrdersError> {
        let row = self.shipment(actor, id).await?;
        let (event_id, now) = (new_id("evt")?, self.clock.now_unix());
        self.db
            .write(move |tx| {
                let (row, mut doc) = locked_shipment(tx, &row)?;
                match ShipmentStatus::parse(&row.status) {
                    Some(ShipmentStatus::Labelled) => {}
                    Some(ShipmentStatus::Voided) => {
                        return Err(conflict(
                            "conflict",
                            "status",
                            "a voided shipment cannot be handed over",
                        ));
                    }
                    _ => return Ok(doc),
                }
                doc["status"] = json!("handed_over");
                doc["handed_over_at"] = json!(rfc3339(now));
                doc["updated_at"] = json!(rfc3339(now));
                store::update_shipment(
                    tx,
                    row.tenant,
                    &row.id,
                    "handed_over",
                    true,
                    &doc.to_string(),
                    now,
                )?;
                emit::<ShipmentHandedOver>(tx, &row, &doc, None, &event_id, now)?;
                Ok(doc)
            })
            .await
    }

    /// `POST /v1/shipments/{id}/relabel` `{"seq"}`: issues the segment (default the first
    /// unissued): `(shipment, issued now)`.
    pub async fn relabel(
        &self,
        actor: &Actor,
        id: &str,
        seq: Option<u32>,
    ) -> Result<(Value, bool), OrdersError> {
        let row = self.shipment(actor, id).await?;
        let (event_id, now) = (new_id("evt")?, self.clock.now_unix());
        self.db
            .write(move |tx| {
                let (row, mut doc) = locked_shipment(tx, &row)?;
                if row.status == ShipmentStatus::Voided.as_str() {
                    return Err(conflict(
                        "conflict",
                        "status",
                        "a voided shipment cannot be relabelled",
                    ));
                }
                let segments = doc["segments"].as_array().cloned().unwrap_or_default();
                let issued = |s: &Value| !s["tracking_number"].is_null() || !s["label"].is_null();
                let first_unissued = segments.iter().position(|s| !issued(s));
                let index = match seq {
                    Some(seq) => segments
                        .iter()
                        .position(|s| s["seq"].as_u64() == Some(u64::from(seq)))
                        .ok_or_else(|| {
                            conflict(
                                "conflict",
                                "seq",
                                format!("the shipment has no segment {seq}"),
                            )
                        })?,
                    None => first_unissued
                        .ok_or_else(|| conflict("conflict", "seq", "every segment is issued"))?,
                };
                if issued(&segments[index]) {
                    return Ok((doc, false));
                }
                if first_unissued != Some(index) {
                    return Err(conflict(
                        "conflict",
                        "seq",
                        "segments are issued in order; an earlier one is not issued yet",
                    ));
                }
                let previous = &segments[index - 1];
                let segment = &segments[index];
                let carrier = segment["carrier"].as_str().unwrap_or_default().to_owned();
                let prev_number = previous["tracking_number"].as_str().map(str::to_owned);
                let keep = prev_number.as_ref().filter(|n| {
                    previous["carrier"].as_str() == Some(carrier.as_str())
                        || (segment["label_format"].as_str() == Some("UPU-S10")
                            && crossdock_refdata::s10_valid(n))
                });
                let number = match keep {
                    Some(n) => n.clone(),
                    None => {
                        let n = store::take_number(tx, row.tenant, &carrier)?
                            .ok_or_else(range_exhausted)?;
                        store::record_number(tx, row.tenant, &n, &row.id, index as i64 + 1, now)?;
                        n
                    }
                };
                let seg_no = segment["seq"].as_u64().unwrap_or(index as u64 + 1);
                doc["segments"][index]["tracking_number"] = json!(number);
                doc["segments"][index]["label"] = label_links(&row.id, seg_no);
                doc["updated_at"] = json!(rfc3339(now));
                store::update_shipment(
                    tx,
                    row.tenant,
                    &row.id,
                    &row.status,
                    row.live,
                    &doc.to_string(),
                    now,
                )?;
                emit::<ShipmentRelabelled>(tx, &row, &doc, Some(seg_no as u32), &event_id, now)?;
                Ok((doc, true))
            })
            .await
    }
}

fn range_exhausted() -> OrdersError {
    OrdersError::Unprocessable {
        code: "range_exhausted",
        problem: Problem::new(
            "tracking_number",
            "the carrier's number ranges are used up; add a range",
        ),
        extra: None,
    }
}

fn held(problems: &[model::Problem]) -> OrdersError {
    OrdersError::Conflict {
        code: "conflict",
        problems: problems
            .iter()
            .map(|p| Problem::new(p.field.clone(), format!("{}: {}", p.code, p.problem)))
            .collect(),
    }
}

/// The shipment's document.
pub fn doc_of(row: &ShipmentRow) -> Result<Value, OrdersError> {
    serde_json::from_str(&row.doc)
        .map_err(|e| OrdersError::Failed(format!("shipment {}: stored document: {e}", row.id)))
}

/// Locks the shipment's order and reads the shipment again inside the transaction.
fn locked_shipment(
    tx: &mut Tx<'_>,
    row: &ShipmentRow,
) -> Result<(ShipmentRow, Value), OrdersError> {
    let order = store::order_by_id(tx, row.tenant, &row.order_id)?
        .ok_or(OrdersError::NotFound("shipment"))?;
    store::lock_order(tx, order.seq)?;
    let row =
        store::shipment_by_id(tx, row.tenant, &row.id)?.ok_or(OrdersError::NotFound("shipment"))?;
    let doc = doc_of(&row)?;
    Ok((row, doc))
}

fn label_links(shipment: &str, seq: u64) -> Value {
    json!({"zpl": format!("/v1/shipments/{shipment}/labels/{seq}.zpl"), "pdf": format!("/v1/shipments/{shipment}/labels/{seq}.pdf")})
}

/// An order read and priced for shipping on `date`: the quote `request` and what pricing
/// answered.
pub(crate) struct Quoted {
    pub(crate) input: OrderInput,
    pub(crate) date: String,
    pub(crate) request: Value,
    pub(crate) priced: Priced,
}

/// What [`Orders::plan_ship`] found.
pub(crate) enum Planned {
    /// The order's live shipment (nothing to issue).
    Existing(Value),
    Issue(Box<Plan>),
}

/// Everything the shipping transaction needs, prepared outside it: the shipment, its
/// event and its outbox payload already rendered as JSON text, with [`Plan::token`] where
/// segment 1's number goes. The transaction takes the number and puts it in with a string
/// replacement, so the one writer does no JSON work (numbers are capitals and digits:
/// the same text serialising the finished document gives).
pub(crate) struct Plan {
    shipment_id: String,
    order: OrderRow,
    service: String,
    /// Segment 1's carrier: whose range the number comes from.
    carrier: String,
    now: i64,
    event_id: String,
    /// A fresh random id standing for the number; no order text can contain it.
    token: String,
    /// The shipment document with `token` for the number (answered with the number set).
    doc: Value,
    shipment_text: String,
    event_text: String,
    payload_text: String,
}

/// What the shipping transaction did: a number issued, or the order's live shipment found.
pub(crate) enum Issued {
    New(String),
    Existing(Value),
}

impl Plan {
    /// The shipment this plan issues.
    pub(crate) fn shipment_id(&self) -> &str {
        &self.shipment_id
    }

    /// The answer for the shipment this plan issued with `number`.
    pub(crate) fn shipped(self, issued: Issued) -> Shipped {
        match issued {
            Issued::Existing(doc) => Shipped::Existing(doc),
            Issued::New(number) => {
                let mut doc = self.doc;
                doc["tracking_number"] = json!(number);
                doc["segments"][0]["tracking_number"] = json!(number);
                Shipped::Created(doc)
            }
        }
    }
}

/// The shipping transaction.
pub(crate) fn issue(tx: &mut Tx<'_>, plan: &Plan) -> Result<Issued, OrdersError> {
    let order = &plan.order;
    store::lock_order(tx, order.seq)?;
    let current =
        store::order_by_id(tx, order.tenant, &order.id)?.ok_or(OrdersError::NotFound("order"))?;
    if let Some(existing) = &current.shipment_id {
        let row = store::shipment_by_id(tx, order.tenant, existing)?.ok_or_else(|| {
            OrdersError::Failed(format!("order {} names a missing shipment", order.id))
        })?;
        return Ok(Issued::Existing(doc_of(&row)?));
    }
    if current.input != order.input {
        return Err(conflict(
            "conflict",
            "order",
            "the order changed while it was being shipped; ship it again",
        ));
    }
    let number = write_shipment(tx, plan)?;
    store::set_order_shipment(
        tx,
        order.tenant,
        &order.id,
        OrderStatus::Shipped,
        Some(&plan.shipment_id),
        plan.now,
    )?;
    Ok(Issued::New(number))
}

/// The shipping transaction for an order written `shipped`, with this plan's shipment, in
/// this same transaction (`store::insert_order_as_is`: an upload's new order). Nobody
/// else can have seen, changed or shipped that order, so `issue`'s checks have nothing to
/// find; the rest is the same: the number, the shipment, its label and event.
pub(crate) fn issue_new(tx: &mut Tx<'_>, plan: &Plan) -> Result<Issued, OrdersError> {
    write_shipment(tx, plan).map(Issued::New)
}

/// Takes segment 1's number and writes the shipment, the number's record and
/// `shipment.created` (with the label, in its handler); answers the number.
fn write_shipment(tx: &mut Tx<'_>, plan: &Plan) -> Result<String, OrdersError> {
    let order = &plan.order;
    let number =
        store::take_number(tx, order.tenant, &plan.carrier)?.ok_or_else(range_exhausted)?;
    let fill = |text: &str| text.replace(&plan.token, &number);
    let row = ShipmentRow {
        seq: 0,
        id: plan.shipment_id.clone(),
        tenant: order.tenant,
        customer: order.customer.clone(),
        order_id: order.id.clone(),
        status: ShipmentStatus::Labelled.as_str().to_owned(),
        service: plan.service.clone(),
        live: true,
        doc: fill(&plan.shipment_text),
        created_at: plan.now,
        updated_at: plan.now,
    };
    store::insert_shipment(tx, &row)?;
    store::record_number(tx, order.tenant, &number, &row.id, 1, plan.now)?;
    write_event::<ShipmentCreated>(
        tx,
        &row,
        &plan.event_id,
        plan.now,
        &Rendered {
            public: fill(&plan.event_text),
            payload: fill(&plan.payload_text),
        },
    )?;
    Ok(number)
}

/// A `weigh` hub scan measured `weight_g` (orders-labels.md, "Shipments"): the shipment is
/// priced again by its order's quote at that weight, on its ship date, for its service, by
/// the book that priced it. If the chargeable weight changes, `sell`, `cost`, `lines`,
/// `landed_cost` and `chargeable_weight_g` change (the labels stay) and `shipment.repriced`
/// carries the previous prices; if the service cannot carry that weight (or that book is not
/// loaded here), the price stays and a `REWEIGH_REFUSED` problem is added for an operator.
/// A voided shipment, or a weight already applied, changes nothing.
pub(crate) fn reweigh(
    tx: &mut Tx<'_>,
    pricing: &dyn crossdock_http::seams::Pricing,
    usd_per_sdr: &str,
    tenant: i64,
    shipment_id: &str,
    weight_g: i64,
    now: i64,
) -> Result<(), OrdersError> {
    let Some(row) = store::shipment_by_id(tx, tenant, shipment_id)? else {
        return Ok(());
    };
    if ShipmentStatus::parse(&row.status) == Some(ShipmentStatus::Voided) {
        return Ok(());
    }
    let mut doc = doc_of(&row)?;
    if doc["measured_weight_g"].as_i64() == Some(weight_g) {
        return Ok(());
    }
    let order =
        store::order_by_id(tx, tenant, &row.order_id)?.ok_or(OrdersError::NotFound("order"))?;
    let value: Value = serde_json::from_str(&order.input)
        .map_err(|e| OrdersError::Failed(format!("order {}: stored input: {e}", order.id)))?;
    let (mut input, _) = parse::order(&value).map_err(|_| {
        OrdersError::Failed(format!("order {}: stored input no longer reads", order.id))
    })?;
    input.parcel.weight_g = u32::try_from(weight_g).ok();
    let date = doc["ship_date"].as_str().unwrap_or_default().to_owned();
    let service = doc["service"].as_str().unwrap_or_default().to_owned();
    let book = doc["rate_book"].as_str().unwrap_or_default().to_owned();
    let mut request = quote_request(&input, &order.customer, Some(&date));
    request["require"]["services"] = json!([service]);
    if let Some(currency) = doc["sell"]["currency"].as_str() {
        request["currency"] = json!(currency);
    }
    let priced = pricing.price_on_book(
        &PriceAsk {
            tenant: crossdock_http::TenantId(tenant),
            customer: Some(&order.customer),
            request: &request,
            usd_per_sdr,
        },
        &book,
    );
    let answer: Option<Value> = match &priced {
        Priced::Quoted { answer, .. } => serde_json::from_str(answer).ok(),
        _ => None,
    };
    let option = answer
        .as_ref()
        .and_then(|a| a["options"].as_array())
        .and_then(|o| o.iter().find(|o| o["service"] == service.as_str()).cloned());
    doc["measured_weight_g"] = json!(weight_g);
    doc["updated_at"] = json!(rfc3339(now));
    let option = match option {
        Some(option) if option["chargeable_weight_g"] != doc["chargeable_weight_g"] => option,
        // The same chargeable weight: the price stands; the measured weight is recorded.
        Some(_) => return save(tx, &row, &doc, now),
        None => {
            let why = match priced {
                Priced::NoBook => {
                    format!("the rate book {book} that priced it is not loaded in this process")
                }
                _ => format!("{service} cannot carry the measured {weight_g} g"),
            };
            let problem = json!({"code": "REWEIGH_REFUSED", "problem": why});
            match doc["problems"].as_array_mut() {
                Some(list) => list.push(problem),
                None => doc["problems"] = json!([problem]),
            }
            return save(tx, &row, &doc, now);
        }
    };
    let currency = answer
        .as_ref()
        .and_then(|a| a["currency"].as_str())
        .unwrap_or_default()
        .to_owned();
    let keys = [
        "sell",
        "cost",
        "lines",
        "landed_cost",
        "chargeable_weight_g",
    ];
    let previous: Map<String, Value> = keys
        .iter()
        .map(|k| ((*k).to_owned(), doc[*k].clone()))
        .collect();
    doc["sell"] = money(&option["sell"], &currency);
    doc["cost"] = money(&option["cost"], &currency);
    doc["lines"] = Value::Array(lines_of(&option, &currency));
    doc["landed_cost"] = option.get("landed_cost").cloned().unwrap_or(Value::Null);
    doc["chargeable_weight_g"] = option["chargeable_weight_g"].clone();
    save(tx, &row, &doc, now)?;
    let event_id = new_id("evt")?;
    let previous = Value::Object(previous);
    let change = ShipmentChange {
        event_id: event_id.clone(),
        customer: row.customer.clone(),
        shipment: doc.clone(),
        seq: None,
        previous: Some(previous.clone()),
    };
    let payload = serde_json::to_string(&ShipmentRepriced(change))
        .map_err(|e| OrdersError::Failed(format!("shipment.repriced: {e}")))?;
    let public =
        json!({"id": event_id, "type": ShipmentRepriced::TOPIC, "created_at": rfc3339(now),
        "subject": row.id, "data": {"shipment": doc, "previous": previous}})
        .to_string();
    write_event::<ShipmentRepriced>(tx, &row, &event_id, now, &Rendered { public, payload })
}

/// Writes a shipment's document back, its status and liveness unchanged.
fn save(tx: &mut Tx<'_>, row: &ShipmentRow, doc: &Value, now: i64) -> Result<(), OrdersError> {
    store::update_shipment(
        tx,
        row.tenant,
        &row.id,
        &row.status,
        row.live,
        &doc.to_string(),
        now,
    )
}

/// A quote option's cost lines as a shipment shows them, each with the quote's currency.
fn lines_of(option: &Value, currency: &str) -> Vec<Value> {
    option["lines"]
        .as_array()
        .map(|ls| {
            ls.iter()
                .map(|l| json!({"code": l["code"], "amount": l["amount"], "currency": currency}))
                .collect()
        })
        .unwrap_or_default()
}

fn money(amount: &Value, currency: &str) -> Value {
    json!({"amount": amount, "currency": currency})
}

/// The shipment as the API answers it: the quote's first option, the book's facts about it,
/// and what the label prints (addresses, parcel, contents), so labels render from it alone.
/// The priced shipment before it is rendered: what [`shipment_doc`] reads.
struct Draft {
    shipment_id: String,
    order: OrderRow,
    input: OrderInput,
    date: String,
    answer: Value,
    option: Value,
    first: FirstOption,
    value_sdr: Option<String>,
    now: i64,
}

fn shipment_doc(plan: &Draft, number: &str) -> Value {
    let o = &plan.option;
    let currency = plan.answer["currency"].as_str().unwrap_or_default();
    let lines = lines_of(o, currency);
    let form = plan
        .value_sdr
        .as_deref()
        .and_then(|v| Decimal::from_str(v).ok())
        .map_or("CN23", model::customs_form);
    let segments: Vec<Value> = plan
        .first
        .segments
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let issued = i == 0;
            json!({
                "seq": s.seq,
                "kind": s.kind,
                "carrier": s.carrier,
                "label_format": if s.label_format.is_empty() { Value::Null } else { json!(s.label_format) },
                "tracking_number": if issued { json!(number) } else { Value::Null },
                "label": if issued { label_links(&plan.shipment_id, u64::from(s.seq)) } else { Value::Null },
            })
        })
        .collect();
    let input = render::input(&plan.input);
    let now = rfc3339(plan.now);
    json!({
        "id": plan.shipment_id,
        "order": plan.order.id,
        "customer": plan.order.customer,
        "reference": plan.order.reference,
        "status": "labelled",
        "ship_date": plan.date,
        "service": o["service"],
        "carrier": o["carrier"],
        "zone": plan.first.zone,
        "rate_book": plan.answer["rate_book"],
        "sell": money(&o["sell"], currency),
        "cost": money(&o["cost"], currency),
        "lines": lines,
        "landed_cost": o.get("landed_cost").cloned().unwrap_or(Value::Null),
        "chargeable_weight_g": o["chargeable_weight_g"],
        "transit_days": o["transit_days"],
        "customs_form": form,
        "declared_value": input["declared_value"],
        "declared_value_sdr": plan.value_sdr,
        "tracking_number": number,
        "segments": segments,
        "shipper": input["shipper"],
        "recipient": input["recipient"],
        "parcel": input["parcel"],
        "contents": input["contents"],
        "customs_category": input.get("customs_category").cloned().unwrap_or(Value::Null),
        "problems": [],
        "handed_over_at": null,
        "voided_at": null,
        "created_at": now,
        "updated_at": now,
    })
}

/// Writes a shipment event: the API's record (`GET /v1/events`) and the outbox row, in the
/// change's transaction; the labels component's in-transaction handler runs inside `emit`.
fn emit<E: Event>(
    tx: &mut Tx<'_>,
    row: &ShipmentRow,
    doc: &Value,
    seq: Option<u32>,
    event_id: &str,
    now: i64,
) -> Result<(), OrdersError> {
    let rendered = render_event::<E>(&row.id, &row.customer, &doc.to_string(), seq, event_id, now);
    write_event::<E>(tx, row, event_id, now, &rendered)
}

/// A shipment event as text: the API's record and the outbox payload.
struct Rendered {
    public: String,
    payload: String,
}

/// The event's two texts around the shipment's `doc` text, written directly rather than
/// through a cloned document: the API's record with its keys in the order a
/// `serde_json::Value` gives them, the payload in [`ShipmentChange`]'s field order.
fn render_event<E: Event>(
    shipment_id: &str,
    customer: &str,
    doc: &str,
    seq: Option<u32>,
    event_id: &str,
    now: i64,
) -> Rendered {
    let quoted = |text: &str| Value::String(text.to_owned()).to_string();
    let (event_id, customer) = (quoted(event_id), quoted(customer));
    let data_seq = seq.map(|n| format!("\"seq\":{n},")).unwrap_or_default();
    let public = format!(
        "{{\"created_at\":{},\"data\":{{{data_seq}\"shipment\":{doc}}},\"id\":{event_id},\"subject\":{},\"type\":{}}}",
        quoted(&rfc3339(now)),
        quoted(shipment_id),
        quoted(E::TOPIC),
    );
    let payload_seq = seq.map(|n| format!(",\"seq\":{n}")).unwrap_or_default();
    let payload = format!(
        "{{\"event_id\":{event_id},\"customer\":{customer},\"shipment\":{doc}{payload_seq}}}"
    );
    Rendered { public, payload }
}

fn write_event<E: Event>(
    tx: &mut Tx<'_>,
    row: &ShipmentRow,
    event_id: &str,
    now: i64,
    rendered: &Rendered,
) -> Result<(), OrdersError> {
    store::insert_event(
        tx,
        &store::EventRow {
            seq: 0,
            id: event_id.to_owned(),
            tenant: row.tenant,
            customer: row.customer.clone(),
            kind: E::TOPIC.to_owned(),
            subject: row.id.clone(),
            doc: rendered.public.clone(),
            created_at: now,
        },
    )?;
    crossdock_events::emit_text::<E>(tx, row.tenant, now, &rendered.payload)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossdock_events::ShipmentChange;

    /// The texts written around a rendered document are exactly what serialising the
    /// event and the API's record as values gives, with and without a segment.
    #[test]
    fn rendered_events_are_the_serialised_events() {
        let doc = json!({"id": "shp_1", "reference": "R \"1\"\n", "segments": [{"seq": 1}], "sell": {"amount": "1.20"}});
        for seq in [None, Some(2)] {
            let r = render_event::<ShipmentCreated>(
                "shp_1",
                "acme \"a\"",
                &doc.to_string(),
                seq,
                "evt_1",
                1_780_000_000,
            );
            let change = ShipmentChange {
                event_id: "evt_1".into(),
                customer: "acme \"a\"".into(),
                shipment: doc.clone(),
                seq,
                previous: None,
            };
            assert_eq!(
                r.payload,
                serde_json::to_string(&ShipmentCreated(change)).expect("json")
            );
            let mut data = json!({"shipment": doc});
            if let Some(n) = seq {
                data["seq"] = json!(n);
            }
            let public = json!({"id": "evt_1", "type": "shipment.created", "created_at": rfc3339(1_780_000_000), "subject": "shp_1", "data": data});
            assert_eq!(r.public, public.to_string());
        }
    }
}
