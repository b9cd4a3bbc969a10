//! # crossdock-orders: orders, shipments and tracking numbers
//!
//! Owns `orders_orders`, `orders_shipments`, `orders_numbers`, `orders_ranges`,
//! `orders_sequences`, `orders_events` and the inbound webhook tables (orders-labels.md).
//! An order arrives by any channel, is read strictly (`parse.rs`: every fault of the
//! request named, nothing stored), validated on the reference data (`model.rs`:
//! postcodes, HS codes, required fields; customs issues of the book in force) and kept
//! `ready` or `held` with every problem. Shipping prices it through the rating component's
//! [`Pricing`] seam exactly as `POST /v1/quotes` does, then in one transaction writes the
//! shipment, takes segment 1's tracking number, marks the order and emits
//! `shipment.created`; the labels component renders the label in that same transaction
//! (an in-transaction handler of the event).
//!
//! What it never knows: rate books (only the seam), labels' tables, any other component's
//! tables. Numbers are taken with one `UPDATE … RETURNING` on the range's row, so two
//! processes never take the same one, and a rolled-back transaction returns it unissued.

pub mod bulk;
pub mod error;
pub mod follow;
mod http;
pub mod inbound;
pub mod inbox;
pub mod json;
pub mod model;
pub mod parse;
pub mod ship;
pub mod store;
pub mod upload;

pub use error::OrdersError;

use crossdock_db::{Db, Migration, Migrations};
use crossdock_http::seams::{PriceAsk, Priced, Pricing};
use crossdock_http::{Clock, Component, Principal, Problem, Role, TenantId};
use model::{OrderInput, OrderStatus, Source};
use serde_json::{Value, json};
use std::sync::Arc;
use store::OrderRow;

pub static MIGRATIONS: Migrations = Migrations {
    component: "orders",
    sqlite: &[Migration {
        version: 1,
        sql: include_str!("../migrations/sqlite/0001_init.sql"),
    }],
    postgres: &[Migration {
        version: 1,
        sql: include_str!("../migrations/postgres/0001_init.sql"),
    }],
};

/// Orders in one `POST /v1/orders/batch` or shipments in one `POST /v1/shipments/batch`.
pub const BATCH_ITEMS_MAX: usize = 1_000;
/// Largest JSON body of the order routes, in bytes.
pub const BODY_BYTES_MAX: usize = 8 * 1024 * 1024;

/// Settings of the orders component.
#[derive(Clone, Debug)]
pub struct OrdersConfig {
    /// US dollars per SDR when the pricing book has no `XDR` rate (`usd_per_sdr`).
    pub usd_per_sdr: String,
    /// Seals inbound endpoints' secrets at rest (the installation's key from the runtime).
    pub sealer: Arc<crossdock_http::sealing::Sealer>,
}

impl Default for OrdersConfig {
    fn default() -> OrdersConfig {
        OrdersConfig {
            usd_per_sdr: "1.36".into(),
            sealer: Arc::new(crossdock_http::sealing::Sealer::ephemeral()),
        }
    }
}

/// The orders component's handle.
pub struct Orders {
    pub(crate) db: Db,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) pricing: Arc<dyn Pricing>,
    pub(crate) config: OrdersConfig,
}

impl std::fmt::Debug for Orders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Orders").finish_non_exhaustive()
    }
}

/// Who acts: the tenant, and the one customer a shipper key is narrowed to.
#[derive(Clone, Debug)]
pub struct Actor {
    pub tenant: TenantId,
    /// `Some` for a key narrowed to one customer: it sees and names only that one.
    pub customer: Option<String>,
    pub roles: Vec<Role>,
}

impl Actor {
    pub fn of(principal: &Principal) -> Actor {
        Actor {
            tenant: principal.tenant,
            customer: principal.customer.clone(),
            roles: principal.roles.clone(),
        }
    }

    /// Whether a resource of `customer` exists for this caller (else it answers 404).
    pub fn sees(&self, customer: &str) -> bool {
        self.customer.as_deref().is_none_or(|own| own == customer)
    }
}

/// What a create did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Created {
    Created(OrderRow),
    /// The customer's order with this reference, submitted with the same content.
    Duplicate(OrderRow),
}

impl Orders {
    pub fn new(
        db: Db,
        clock: Arc<dyn Clock>,
        pricing: Arc<dyn Pricing>,
        config: OrdersConfig,
    ) -> Orders {
        Orders {
            db,
            clock,
            pricing,
            config,
        }
    }

    pub fn component(self: &Arc<Orders>) -> Component {
        Component {
            name: "orders",
            migrations: &MIGRATIONS,
            router: http::router(self.clone()),
            subscriptions: follow::subscriptions(self.clone()),
            ready: Arc::new(|| true),
        }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The customer an order is for: a narrowed key's own (naming another is 403); other
    /// keys must name one.
    fn customer_for(actor: &Actor, named: Option<String>) -> Result<String, OrdersError> {
        match (&actor.customer, named) {
            (Some(own), Some(named)) if *own != named => Err(OrdersError::Forbidden(
                "this key may create orders only for its own customer".into(),
            )),
            (Some(own), _) => Ok(own.clone()),
            (None, Some(named)) => Ok(named),
            (None, None) => Err(OrdersError::Invalid(vec![Problem::new(
                "customer",
                "required: this key is not narrowed to one customer, so the order must name it",
            )])),
        }
    }

    /// Creates an order from its JSON (or answers the existing one with its reference).
    pub async fn create(
        &self,
        actor: &Actor,
        value: &Value,
        source: Source,
    ) -> Result<Created, OrdersError> {
        let row = self.new_order_row(actor, value, source)?;
        let submitted = row.input.clone();
        let (stored, created) = self
            .db
            .write(move |tx| store::insert_order(tx, &row))
            .await?;
        settle(stored, created, &submitted)
    }

    /// The row an order's JSON would be stored as: read, its customer decided, validated
    /// (no storage touched). Shared by one create and creates in bulk (`bulk.rs`).
    pub(crate) fn new_order_row(
        &self,
        actor: &Actor,
        value: &Value,
        source: Source,
    ) -> Result<OrderRow, OrdersError> {
        self.new_order_row_quoted(actor, value, source, None)
            .map(|(row, _)| row)
    }

    /// [`Orders::new_order_row`] priced on `ship_date` when one is given (an upload that
    /// ships, on today's date): a `ready` order then comes with the quote that found it
    /// ready, which `plan_quoted` ships it with (one pricing per row, not two).
    pub(crate) fn new_order_row_quoted(
        &self,
        actor: &Actor,
        value: &Value,
        source: Source,
        ship_date: Option<&str>,
    ) -> Result<(OrderRow, Option<ship::Quoted>), OrdersError> {
        let (input, named) = parse::order(value).map_err(OrdersError::Invalid)?;
        let customer = Orders::customer_for(actor, named)?;
        let (problems, quote) = self.problems_quoted(actor.tenant, &customer, &input, ship_date);
        let now = self.clock.now_unix();
        let row = OrderRow {
            seq: 0,
            id: new_id("ord")?,
            tenant: actor.tenant.0,
            customer,
            reference: input.reference.clone(),
            status: if problems.is_empty() {
                OrderStatus::Ready
            } else {
                OrderStatus::Held
            }
            .as_str()
            .to_owned(),
            source: source.as_str().to_owned(),
            input: json::input(&input).to_string(),
            problems: json::problems(&problems).to_string(),
            shipment_id: None,
            created_at: now,
            updated_at: now,
        };
        let quoted = match (ship_date, quote) {
            (Some(date), Some((request, priced))) if problems.is_empty() => Some(ship::Quoted {
                input,
                date: date.to_owned(),
                request,
                priced,
            }),
            _ => None,
        };
        Ok((row, quoted))
    }

    /// Every problem that keeps `input` held: the reference data's, then the customs issues
    /// of the book in force (none without a book: they are checked again when shipping).
    pub(crate) fn problems(
        &self,
        tenant: TenantId,
        customer: &str,
        input: &OrderInput,
        ship_date: Option<&str>,
    ) -> Vec<model::Problem> {
        self.problems_quoted(tenant, customer, input, ship_date).0
    }

    /// [`Orders::problems`], with the quote request and pricing's answer when it priced.
    fn problems_quoted(
        &self,
        tenant: TenantId,
        customer: &str,
        input: &OrderInput,
        ship_date: Option<&str>,
    ) -> (Vec<model::Problem>, Option<(Value, Priced)>) {
        let mut problems = model::validate(input);
        if input.parcel.weight_g.is_none()
            || input.shipper.country.is_none()
            || input.recipient.country.is_none()
        {
            return (problems, None);
        }
        let request = ship::quote_request(input, customer, ship_date);
        let priced = self.pricing.price(&PriceAsk {
            tenant,
            customer: Some(customer),
            request: &request,
            usd_per_sdr: &self.config.usd_per_sdr,
        });
        if let Priced::Quoted { answer, .. } = &priced {
            let answer: Value = serde_json::from_str(answer).unwrap_or_default();
            problems.extend(ship::customs_problems_of(input, &answer));
        }
        (problems, Some((request, priced)))
    }

    /// The order `id` if this caller sees it.
    pub async fn order(&self, actor: &Actor, id: &str) -> Result<OrderRow, OrdersError> {
        let (tenant, id) = (actor.tenant.0, id.to_owned());
        let row = self
            .db
            .read(move |tx| store::order_by_id(tx, tenant, &id))
            .await?;
        row.filter(|r| actor.sees(&r.customer))
            .ok_or(OrdersError::NotFound("order"))
    }

    /// `PATCH /v1/orders/{id}`: an RFC 7396 merge patch of a `held` or `ready` order,
    /// validated again as a whole.
    pub async fn patch(
        &self,
        actor: &Actor,
        id: &str,
        patch: &Value,
    ) -> Result<OrderRow, OrdersError> {
        let Some(fields) = patch.as_object() else {
            return Err(OrdersError::Invalid(vec![Problem::new(
                "",
                "a merge patch is a JSON object",
            )]));
        };
        let fixed: Vec<Problem> = ["reference", "customer"]
            .iter()
            .filter(|f| fields.contains_key(**f))
            .map(|f| Problem::new(*f, "cannot be changed; create another order"))
            .collect();
        if !fixed.is_empty() {
            return Err(OrdersError::Invalid(fixed));
        }
        let current = self.order(actor, id).await?;
        if current.status == OrderStatus::Shipped.as_str() {
            return Err(error::conflict(
                "conflict",
                "status",
                "a shipped order cannot be changed; void its shipment first",
            ));
        }
        let mut doc: Value = serde_json::from_str(&current.input)
            .map_err(|e| OrdersError::Failed(format!("order {id}: stored input: {e}")))?;
        merge_patch(&mut doc, patch);
        let (input, _) = parse::order(&doc).map_err(OrdersError::Invalid)?;
        let problems = self.problems(actor.tenant, &current.customer, &input, None);
        let status = if problems.is_empty() {
            OrderStatus::Ready
        } else {
            OrderStatus::Held
        };
        let (tenant, id, seq) = (actor.tenant.0, current.id.clone(), current.seq);
        let input_text = json::input(&input).to_string();
        let problems_text = json::problems(&problems).to_string();
        let now = self.clock.now_unix();
        self.db
            .write(move |tx| {
                store::lock_order(tx, seq)?;
                let row =
                    store::order_by_id(tx, tenant, &id)?.ok_or(OrdersError::NotFound("order"))?;
                if row.status == OrderStatus::Shipped.as_str() {
                    return Err(error::conflict(
                        "conflict",
                        "status",
                        "the order was shipped meanwhile",
                    ));
                }
                store::update_order(tx, tenant, &id, &input_text, status, &problems_text, now)?;
                store::order_by_id(tx, tenant, &id)?.ok_or(OrdersError::NotFound("order"))
            })
            .await
    }
}

/// What an insert of `submitted` found: created, the same order again (a duplicate), or
/// another order with its reference (409 `idempotency_mismatch`).
pub(crate) fn settle(
    stored: OrderRow,
    created: bool,
    submitted: &str,
) -> Result<Created, OrdersError> {
    if created {
        return Ok(Created::Created(stored));
    }
    if stored.input == submitted {
        Ok(Created::Duplicate(stored))
    } else {
        Err(error::conflict(
            "idempotency_mismatch",
            "reference",
            format!("order {} has this reference with other content", stored.id),
        ))
    }
}

/// RFC 7396: objects merge key by key, `null` removes, anything else replaces.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Some(patch) = patch.as_object() else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = json!({});
    }
    if let Some(target) = target.as_object_mut() {
        for (key, value) in patch {
            if value.is_null() {
                target.remove(key);
            } else {
                merge_patch(target.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
    }
}

/// A new id of this component, as an error of its own when the system has no randomness.
pub(crate) fn new_id(prefix: &str) -> Result<String, OrdersError> {
    crossdock_http::new_id(prefix)
        .map_err(|_| OrdersError::Failed("no randomness for an id".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_patch_follows_rfc_7396() {
        // RFC 7396, appendix A, a few of its cases.
        for (target, patch, result) in [
            (json!({"a": "b"}), json!({"a": "c"}), json!({"a": "c"})),
            (
                json!({"a": "b"}),
                json!({"b": "c"}),
                json!({"a": "b", "b": "c"}),
            ),
            (json!({"a": "b"}), json!({"a": null}), json!({})),
            (json!({"a": ["b"]}), json!({"a": "c"}), json!({"a": "c"})),
            (
                json!({"a": {"b": "c"}}),
                json!({"a": {"b": "d", "c": null}}),
                json!({"a": {"b": "d"}}),
            ),
            (
                json!({"e": null}),
                json!({"a": 1}),
                json!({"e": null, "a": 1}),
            ),
        ] {
            let mut t = target.clone();
            merge_patch(&mut t, &patch);
            assert_eq!(t, result, "{target} + {patch}");
        }
    }
}
