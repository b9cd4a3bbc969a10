//! Orders in bulk: many creates and many ships with the semantics of one each, but not a
//! transaction each (orders-labels.md, "Orders in bulk").
//!
//! Creating: every order is read, given its customer and validated outside any transaction
//! (`Orders::new_order_row`, the code one create runs), then a chunk of them is inserted in
//! one write transaction, each with the same `INSERT … ON CONFLICT DO NOTHING` and read
//! back one create does, in order, so a reference twice in a chunk answers exactly as two
//! creates in a row would (the second `duplicate`, or 409 `idempotency_mismatch` if its
//! content differs). Shipping: each order is priced outside the transaction
//! (`Orders::plan_ship`), then a chunk is issued in one transaction; if one shipment is
//! refused there (its order changed meanwhile, no number left), the chunk is rolled back
//! and its shipments issued one transaction each, exactly as single ships; a failure of
//! ours refuses the chunk.
//!
//! An upload with `?ship=true` goes one step further (`Orders::create_and_ship`): its new
//! orders are priced before they exist (with the quote that validated them), and a chunk
//! is created and shipped in one transaction, each new order written `shipped` with its
//! shipment, number, label and event. What that cannot answer (a reference seen before, a
//! row pricing refused) goes the two-step way above after the transaction.
//!
//! Why: SQLite commits with `synchronous=FULL`, one disk flush per transaction; one
//! transaction per row would cap an upload at the disk's flush rate (a few hundred to a few
//! thousand a second), a chunk of [`CHUNK_ROWS`] per transaction does not.

use crate::error::OrdersError;
use crate::model::{OrderStatus, Source};
use crate::ship::{self, Planned, Shipped};
use crate::store::{self, OrderRow};
use crate::{Actor, Created, Orders, settle};
use crossdock_db::Tx;
use serde_json::{Value, json};
use std::sync::Arc;

/// Orders written per transaction by bulk creates and ships.
pub const CHUNK_ROWS: usize = 500;

/// What one order of a bulk create came to, exactly what `Orders::create` would answer.
pub type CreateOutcome = Result<Created, OrdersError>;

impl Orders {
    /// Creates every order of `items` as `create` would, in order, [`CHUNK_ROWS`] to a
    /// transaction; reading and validating runs on a blocking thread. `Err`: a failure of
    /// ours (chunks before it are committed, and answer `duplicate` when sent again).
    pub async fn create_many(
        self: &Arc<Orders>,
        actor: &Actor,
        items: Vec<Value>,
        source: Source,
    ) -> Result<Vec<CreateOutcome>, OrdersError> {
        let mut out = Vec::with_capacity(items.len());
        let mut items = items.into_iter();
        loop {
            let chunk: Vec<Value> = items.by_ref().take(CHUNK_ROWS).collect();
            if chunk.is_empty() {
                break;
            }
            let (this, who) = (self.clone(), actor.clone());
            let prepared = tokio::task::spawn_blocking(move || {
                chunk
                    .iter()
                    .map(|item| this.new_order_row(&who, item, source))
                    .collect::<Vec<_>>()
            })
            .await
            .map_err(|e| OrdersError::Failed(format!("preparing orders: {e}")))?;
            out.extend(self.insert_prepared(prepared).await?);
        }
        Ok(out)
    }

    /// Inserts the `Ok` rows of `prepared` in one transaction; every item answers, in
    /// order (an `Err` item answers its error).
    pub(crate) async fn insert_prepared(
        &self,
        prepared: Vec<Result<OrderRow, OrdersError>>,
    ) -> Result<Vec<CreateOutcome>, OrdersError> {
        let mut rows = Vec::with_capacity(prepared.len());
        let mut refused = Vec::with_capacity(prepared.len());
        for p in prepared {
            match p {
                Ok(row) => {
                    rows.push(row);
                    refused.push(None);
                }
                Err(e) => refused.push(Some(e)),
            }
        }
        let expected = rows.len();
        let stored = if rows.is_empty() {
            Vec::new()
        } else {
            self.db
                .write_bulk(move |tx| {
                    rows.into_iter()
                        .map(|row| {
                            let (stored, created) = store::insert_order(tx, &row)?;
                            Ok((stored, created, row.input))
                        })
                        .collect::<Result<Vec<_>, OrdersError>>()
                })
                .await?
        };
        assert_eq!(stored.len(), expected, "one answer per inserted row");
        let mut stored = stored.into_iter();
        let out: Vec<CreateOutcome> = refused
            .into_iter()
            .map(|r| match r {
                Some(e) => Err(e),
                None => match stored.next() {
                    Some((row, created, submitted)) => settle(row, created, &submitted),
                    None => Err(OrdersError::Failed(
                        "a prepared order was not inserted".into(),
                    )),
                },
            })
            .collect();
        Ok(out)
    }

    /// Ships every order of `orders` as `ship` would, in order, in two halves. This one
    /// prices them on the async workers (nothing is written but the holds a single ship
    /// would write); [`Orders::issue_planned`] then issues them in one transaction (one
    /// each after a refusal). `Err`: a failure of ours.
    pub(crate) async fn plan_many(
        self: &Arc<Orders>,
        actor: &Actor,
        orders: Vec<OrderRow>,
        ship_date: Option<String>,
    ) -> Result<PlannedMany, OrdersError> {
        let orders = orders.into_iter().map(|o| (o, None)).collect();
        let plans = self.plan_each(actor, orders, ship_date).await?;
        let mut slots = Vec::with_capacity(plans.len());
        let mut issuing = Vec::new();
        for p in plans {
            slots.push(match p {
                Ok(Planned::Issue(plan)) => {
                    issuing.push(*plan);
                    None
                }
                Ok(Planned::Existing(doc)) => Some(Ok(Shipped::Existing(doc))),
                Err(e @ (OrdersError::Db(_) | OrdersError::Failed(_))) => return Err(e),
                Err(refused) => Some(Err(refused)),
            });
        }
        Ok(PlannedMany { slots, issuing })
    }

    /// `plan_ship` of every order of `orders`, in order, on two planner threads; an order
    /// that comes with its quote is shipped with it (`plan_quoted`).
    pub(crate) async fn plan_each(
        self: &Arc<Orders>,
        actor: &Actor,
        orders: Vec<(OrderRow, Option<Box<ship::Quoted>>)>,
        ship_date: Option<String>,
    ) -> Result<Vec<Result<Planned, OrdersError>>, OrdersError> {
        // Two planners, each on a thread of its own in the idle class: pricing is CPU work,
        // the machine has more than one core, and quotes must not wait behind an import
        // (crossdock_db::background).
        let half = orders.len().div_ceil(2);
        let mut orders = orders;
        let second = orders.split_off(half.min(orders.len()));
        let runtime = tokio::runtime::Handle::current();
        let idle = self.bulk_in_idle_class();
        let plan = |list: Vec<(OrderRow, Option<Box<ship::Quoted>>)>| {
            let (this, who, date) = (self.clone(), actor.clone(), ship_date.clone());
            let runtime = runtime.clone();
            let (done, plans) = tokio::sync::oneshot::channel();
            let started = std::thread::Builder::new()
                .name("crossdock-plan".into())
                .spawn(move || {
                    if idle {
                        crossdock_db::background::lower_current_thread();
                    }
                    let plans = runtime.block_on(async {
                        let mut plans = Vec::with_capacity(list.len());
                        for (order, quoted) in list {
                            plans.push(match quoted {
                                Some(quoted) => this.plan_quoted(&who, order, *quoted).await,
                                None => this.plan_ship(&who, order, date.clone()).await,
                            });
                        }
                        plans
                    });
                    let _ = done.send(plans);
                });
            started
                .map(|_| plans)
                .map_err(|e| OrdersError::Failed(format!("starting a planner: {e}")))
        };
        let (a, b) = (plan(orders)?, plan(second)?);
        let failed = |_| OrdersError::Failed("a planner stopped".into());
        let mut plans = a.await.map_err(failed)?;
        plans.extend(b.await.map_err(failed)?);
        Ok(plans)
    }

    /// Creates the orders of `rows` and ships those priced already, in one transaction:
    /// the bulk way of an upload with `?ship=true`. Each row comes with its plan, priced
    /// before the order existed (`plan_each` of the unsaved row): a row whose reference is
    /// new is written `shipped` with its shipment, number, label and event, which is what
    /// creating it `ready` and then shipping it would have written. Anything else (a
    /// reference the customer has, no plan) is inserted as `create` inserts, and answered
    /// as [`Fresh::Stored`] for the caller to ship the ordinary way. A refused shipment
    /// rolls the whole transaction back and gives the rows back ([`Rollback::Refused`]).
    pub(crate) async fn create_and_ship(
        &self,
        rows: Vec<(OrderRow, Option<ship::Plan>)>,
    ) -> Result<Vec<Fresh>, Rollback<Vec<(OrderRow, Option<ship::Plan>)>>> {
        self.db
            .write_bulk(move |tx| {
                let mut out = Vec::with_capacity(rows.len());
                for (i, (row, plan)) in rows.iter().enumerate() {
                    if let Some(plan) = plan {
                        let mut shipped = row.clone();
                        shipped.status = OrderStatus::Shipped.as_str().to_owned();
                        shipped.shipment_id = Some(plan.shipment_id().to_owned());
                        if let Some(seq) = store::insert_order_as_is(tx, &shipped)? {
                            match ship::issue_new(tx, plan) {
                                Ok(issued) => {
                                    shipped.seq = seq;
                                    out.push(Done::Shipped(shipped, i, issued));
                                    continue;
                                }
                                Err(e @ (OrdersError::Db(_) | OrdersError::Failed(_))) => {
                                    return Err(Rollback::Failed(e));
                                }
                                Err(_) => return Err(Rollback::Refused(rows)),
                            }
                        }
                    }
                    let (stored, created) = store::insert_order(tx, row)?;
                    out.push(Done::Stored(stored, created, row.input.clone()));
                }
                Ok((rows, out))
            })
            .await
            .map(|(rows, done)| {
                let mut plans: Vec<Option<ship::Plan>> =
                    rows.into_iter().map(|(_, plan)| plan).collect();
                done.into_iter()
                    .map(|d| match d {
                        Done::Shipped(row, i, issued) => {
                            let plan = plans[i].take().expect("a shipped row has its plan");
                            Fresh::Shipped(row, plan.shipped(issued))
                        }
                        Done::Stored(row, created, submitted) => {
                            Fresh::Stored(row, created, submitted)
                        }
                    })
                    .collect()
            })
    }
    /// Whether bulk threads go to the idle class: on SQLite, where this process does all
    /// of an import's work. On PostgreSQL the database's own processes do much of it at
    /// normal priority; lowering only this half made imports 40 % slower and quotes no
    /// faster.
    pub(crate) fn bulk_in_idle_class(&self) -> bool {
        self.db.dialect() == crossdock_db::Dialect::Sqlite
    }

    /// The writing half of shipping many: see [`Orders::plan_many`].
    pub(crate) async fn issue_planned(
        &self,
        planned: PlannedMany,
    ) -> Result<Vec<Result<Shipped, OrdersError>>, OrdersError> {
        let PlannedMany { slots, issuing } = planned;
        let issued = if issuing.is_empty() {
            Vec::new()
        } else {
            match self.db.write_bulk(move |tx| issue_all(tx, issuing)).await {
                Ok(issued) => issued
                    .into_iter()
                    .map(|(plan, issued)| Ok(plan.shipped(issued)))
                    .collect(),
                Err(Rollback::Failed(e)) => return Err(e),
                // One refusal rolled the chunk back: each plan in a transaction of its own,
                // exactly as one ship would (a refusal there changes nothing).
                Err(Rollback::Refused(plans)) => {
                    let mut each = Vec::with_capacity(plans.len());
                    for plan in plans {
                        let issued = self
                            .db
                            .write_bulk(move |tx| {
                                ship::issue(tx, &plan).map(|issued| (plan, issued))
                            })
                            .await;
                        match issued {
                            Err(e @ (OrdersError::Db(_) | OrdersError::Failed(_))) => {
                                return Err(e);
                            }
                            other => each.push(other.map(|(plan, issued)| plan.shipped(issued))),
                        }
                    }
                    each
                }
            }
        };
        let mut issued = issued.into_iter();
        slots
            .into_iter()
            .map(|slot| match slot {
                Some(done) => Ok(done),
                None => issued
                    .next()
                    .ok_or_else(|| OrdersError::Failed("a planned shipment was not issued".into())),
            })
            .collect()
    }
}

/// Orders priced for shipping, in order: each slot answered already (`Some`: its live
/// shipment or its refusal) or waiting for the next plan of `issuing`.
pub(crate) struct PlannedMany {
    slots: Vec<Option<Result<Shipped, OrdersError>>>,
    issuing: Vec<ship::Plan>,
}

/// What [`Orders::create_and_ship`] did with one row, in order.
pub(crate) enum Fresh {
    /// Created and shipped: the order as written, the answer for its shipment.
    Shipped(OrderRow, Shipped),
    /// As `create` would answer: the stored order, whether this row created it, and the
    /// row's own input (for `settle`).
    Stored(OrderRow, bool, String),
}

enum Done {
    Shipped(OrderRow, usize, ship::Issued),
    Stored(OrderRow, bool, String),
}

/// Why a bulk shipping transaction did not commit: a shipment was refused (nothing was
/// written; what it was given comes back, `T`), or a failure of ours.
pub(crate) enum Rollback<T> {
    Refused(T),
    Failed(OrdersError),
}

impl<T> From<crossdock_db::DbError> for Rollback<T> {
    fn from(e: crossdock_db::DbError) -> Rollback<T> {
        Rollback::Failed(OrdersError::Db(e))
    }
}

impl<T> From<OrdersError> for Rollback<T> {
    fn from(e: OrdersError) -> Rollback<T> {
        Rollback::Failed(e)
    }
}

/// Issues every plan in this transaction; the first refusal rolls all of them back (no
/// savepoint per shipment: on SQLite each one journals every page it touches again, which
/// cost more than the shipments themselves). The plans come back with what each did, to
/// be answered (and dropped) off the writer.
fn issue_all(
    tx: &mut Tx<'_>,
    plans: Vec<ship::Plan>,
) -> Result<Vec<(ship::Plan, ship::Issued)>, Rollback<Vec<ship::Plan>>> {
    let mut out = Vec::with_capacity(plans.len());
    for plan in &plans {
        match ship::issue(tx, plan) {
            Ok(issued) => out.push(issued),
            Err(e @ (OrdersError::Db(_) | OrdersError::Failed(_))) => {
                return Err(Rollback::Failed(e));
            }
            Err(_) => return Err(Rollback::Refused(plans)),
        }
    }
    Ok(plans.into_iter().zip(out).collect())
}

/// A bulk create's outcome as a result row: `(status, order, problems)`; `Err` only for a
/// failure of ours (what one create answers 5xx).
pub fn outcome_row(
    outcome: CreateOutcome,
) -> Result<(&'static str, Option<OrderRow>, Value), OrdersError> {
    let stored_problems =
        |o: &OrderRow| serde_json::from_str(&o.problems).unwrap_or_else(|_| json!([]));
    let listed = |problems: &[crossdock_http::Problem]| {
        Value::Array(
            problems
                .iter()
                .map(|p| json!({"field": p.field, "problem": p.problem}))
                .collect(),
        )
    };
    match outcome {
        Ok(Created::Created(o)) => {
            let problems = stored_problems(&o);
            Ok(("created", Some(o), problems))
        }
        Ok(Created::Duplicate(o)) => {
            let problems = stored_problems(&o);
            Ok(("duplicate", Some(o), problems))
        }
        Err(OrdersError::Invalid(problems)) | Err(OrdersError::Conflict { problems, .. }) => {
            Ok(("invalid", None, listed(&problems)))
        }
        Err(OrdersError::Forbidden(why)) => Ok((
            "invalid",
            None,
            json!([{"field": "customer", "problem": why}]),
        )),
        Err(other) => Err(other),
    }
}

/// Whether a result row's order is one `?ship=true` ships: `ready`, or `shipped` already
/// (its shipment is answered again).
pub fn shippable(order: &OrderRow) -> bool {
    order.status == OrderStatus::Ready.as_str() || order.status == OrderStatus::Shipped.as_str()
}
