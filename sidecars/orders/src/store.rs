//! The orders component's transaction scripts, written once against `crossdock_db::Tx`.
//! Documents are JSON text made and read by `json.rs`; this file knows only rows.

use crate::error::OrdersError;
use crate::model::{OrderStatus, RangeFormat};
use crossdock_db::{Row, Tx};

/// An order as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderRow {
    pub seq: i64,
    pub id: String,
    pub tenant: i64,
    pub customer: String,
    pub reference: String,
    pub status: String,
    pub source: String,
    /// The canonical JSON of the submitted order (json.rs).
    pub input: String,
    /// JSON array of `{field, code, problem}`.
    pub problems: String,
    pub shipment_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

const ORDER_COLUMNS: &str = "seq, id, tenant_id, customer, reference, status, source, input, problems, shipment_id, created_at, updated_at";

fn order_row(row: &Row) -> Result<OrderRow, OrdersError> {
    Ok(OrderRow {
        seq: row.get(0)?,
        id: row.get(1)?,
        tenant: row.get(2)?,
        customer: row.get(3)?,
        reference: row.get(4)?,
        status: row.get(5)?,
        source: row.get(6)?,
        input: row.get(7)?,
        problems: row.get(8)?,
        shipment_id: row.get(9)?,
        created_at: row.get(10)?,
        updated_at: row.get(11)?,
    })
}

/// Inserts the order unless the customer has one with its reference: `(row, created)`,
/// the row as stored (this one with its `seq` when it was inserted, else the customer's).
pub fn insert_order(tx: &mut Tx<'_>, order: &OrderRow) -> Result<(OrderRow, bool), OrdersError> {
    if let Some(seq) = insert_order_as_is(tx, order)? {
        let updated_at = order.created_at;
        return Ok((
            OrderRow {
                seq,
                updated_at,
                ..order.clone()
            },
            true,
        ));
    }
    let stored = order_by_reference(tx, order.tenant, &order.customer, &order.reference)?
        .ok_or_else(|| OrdersError::Failed("a conflicting order cannot be read".into()))?;
    Ok((stored, false))
}

/// Inserts `order` as it is (an upload's new order may come already `shipped`, with its
/// shipment id) unless the customer has an order with its reference: `Some(seq)` when
/// inserted, `None` when not (then nothing was written). `updated_at` is `created_at`.
pub fn insert_order_as_is(tx: &mut Tx<'_>, order: &OrderRow) -> Result<Option<i64>, OrdersError> {
    let row = tx.query_opt(
        "INSERT INTO orders_orders (id, tenant_id, customer, reference, status, source, input, problems, shipment_id, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) ON CONFLICT (tenant_id, customer, reference) DO NOTHING RETURNING seq",
        &[
            &order.id,
            &order.tenant,
            &order.customer,
            &order.reference,
            &order.status,
            &order.source,
            &order.input,
            &order.problems,
            &order.shipment_id,
            &order.created_at,
        ],
    )?;
    Ok(row.map(|r| r.get(0)).transpose()?)
}

pub fn order_by_reference(
    tx: &mut Tx<'_>,
    tenant: i64,
    customer: &str,
    reference: &str,
) -> Result<Option<OrderRow>, OrdersError> {
    let sql = format!(
        "SELECT {ORDER_COLUMNS} FROM orders_orders WHERE tenant_id = $1 AND customer = $2 AND reference = $3"
    );
    tx.query_opt(&sql, &[&tenant, &customer, &reference])?
        .map(|r| order_row(&r))
        .transpose()
}

/// The tenant's order `id` (of any customer: the caller checks the customer).
pub fn order_by_id(
    tx: &mut Tx<'_>,
    tenant: i64,
    id: &str,
) -> Result<Option<OrderRow>, OrdersError> {
    let sql = format!("SELECT {ORDER_COLUMNS} FROM orders_orders WHERE tenant_id = $1 AND id = $2");
    tx.query_opt(&sql, &[&tenant, &id])?
        .map(|r| order_row(&r))
        .transpose()
}

/// Filters of `GET /v1/orders`.
#[derive(Clone, Debug, Default)]
pub struct OrderFilter {
    pub status: Option<String>,
    pub reference: Option<String>,
    pub customer: Option<String>,
    pub source: Option<String>,
}

/// A page of the tenant's orders, newest first, below `before_seq`.
pub fn list_orders(
    tx: &mut Tx<'_>,
    tenant: i64,
    filter: &OrderFilter,
    before_seq: Option<i64>,
    limit: i64,
) -> Result<Vec<OrderRow>, OrdersError> {
    // Absent filters compare a column with itself, so one statement serves every filter.
    let sql = format!(
        "SELECT {ORDER_COLUMNS} FROM orders_orders WHERE tenant_id = $1 \
         AND ($2 = '' OR status = $2) AND ($3 = '' OR reference = $3) \
         AND ($4 = '' OR customer = $4) AND ($5 = '' OR source = $5) AND seq < $6 \
         ORDER BY seq DESC LIMIT $7"
    );
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let rows = tx.query(
        &sql,
        &[
            &tenant,
            &text(&filter.status),
            &text(&filter.reference),
            &text(&filter.customer),
            &text(&filter.source),
            &before_seq.unwrap_or(i64::MAX),
            &limit,
        ],
    )?;
    rows.iter().map(order_row).collect()
}

/// Rewrites a corrected order (input, status, problems).
pub fn update_order(
    tx: &mut Tx<'_>,
    tenant: i64,
    id: &str,
    input: &str,
    status: OrderStatus,
    problems: &str,
    now: i64,
) -> Result<(), OrdersError> {
    let changed = tx.execute(
        "UPDATE orders_orders SET input = $3, status = $4, problems = $5, updated_at = $6 \
         WHERE tenant_id = $1 AND id = $2",
        &[&tenant, &id, &input, &status.as_str(), &problems, &now],
    )?;
    if changed != 1 {
        return Err(OrdersError::Failed(format!(
            "order {id}: {changed} rows updated"
        )));
    }
    Ok(())
}

/// Sets an order's status and live shipment.
pub fn set_order_shipment(
    tx: &mut Tx<'_>,
    tenant: i64,
    id: &str,
    status: OrderStatus,
    shipment: Option<&str>,
    now: i64,
) -> Result<(), OrdersError> {
    let changed = tx.execute(
        "UPDATE orders_orders SET status = $3, shipment_id = $4, updated_at = $5 WHERE tenant_id = $1 AND id = $2",
        &[&tenant, &id, &status.as_str(), &shipment, &now],
    )?;
    if changed != 1 {
        return Err(OrdersError::Failed(format!(
            "order {id}: {changed} rows updated"
        )));
    }
    Ok(())
}

/// Serialises every script that ships or changes one order, on both backends (SQLite's
/// one writer already does; PostgreSQL takes a transaction-scoped lock on the order).
pub fn lock_order(tx: &mut Tx<'_>, order_seq: i64) -> Result<(), OrdersError> {
    Ok(tx.lock("orders.order", order_seq)?)
}

/// A shipment as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShipmentRow {
    pub seq: i64,
    pub id: String,
    pub tenant: i64,
    pub customer: String,
    pub order_id: String,
    pub status: String,
    pub service: String,
    pub live: bool,
    /// The shipment's JSON as answered.
    pub doc: String,
    pub created_at: i64,
    pub updated_at: i64,
}

const SHIPMENT_COLUMNS: &str =
    "seq, id, tenant_id, customer, order_id, status, service, live, doc, created_at, updated_at";

fn shipment_row(row: &Row) -> Result<ShipmentRow, OrdersError> {
    Ok(ShipmentRow {
        seq: row.get(0)?,
        id: row.get(1)?,
        tenant: row.get(2)?,
        customer: row.get(3)?,
        order_id: row.get(4)?,
        status: row.get(5)?,
        service: row.get(6)?,
        live: row.get::<i64>(7)? == 1,
        doc: row.get(8)?,
        created_at: row.get(9)?,
        updated_at: row.get(10)?,
    })
}

pub fn insert_shipment(tx: &mut Tx<'_>, s: &ShipmentRow) -> Result<(), OrdersError> {
    let live = i64::from(s.live);
    tx.execute(
        "INSERT INTO orders_shipments (id, tenant_id, customer, order_id, status, service, live, doc, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
        &[&s.id, &s.tenant, &s.customer, &s.order_id, &s.status, &s.service, &live, &s.doc, &s.created_at],
    )?;
    Ok(())
}

pub fn update_shipment(
    tx: &mut Tx<'_>,
    tenant: i64,
    id: &str,
    status: &str,
    live: bool,
    doc: &str,
    now: i64,
) -> Result<(), OrdersError> {
    let live = i64::from(live);
    let changed = tx.execute(
        "UPDATE orders_shipments SET status = $3, live = $4, doc = $5, updated_at = $6 WHERE tenant_id = $1 AND id = $2",
        &[&tenant, &id, &status, &live, &doc, &now],
    )?;
    if changed != 1 {
        return Err(OrdersError::Failed(format!(
            "shipment {id}: {changed} rows updated"
        )));
    }
    Ok(())
}

pub fn shipment_by_id(
    tx: &mut Tx<'_>,
    tenant: i64,
    id: &str,
) -> Result<Option<ShipmentRow>, OrdersError> {
    let sql =
        format!("SELECT {SHIPMENT_COLUMNS} FROM orders_shipments WHERE tenant_id = $1 AND id = $2");
    tx.query_opt(&sql, &[&tenant, &id])?
        .map(|r| shipment_row(&r))
        .transpose()
}

/// Filters of `GET /v1/shipments`.
#[derive(Clone, Debug, Default)]
pub struct ShipmentFilter {
    pub tracking_number: Option<String>,
    pub order: Option<String>,
    pub status: Option<String>,
    pub service: Option<String>,
    pub customer: Option<String>,
}

pub fn list_shipments(
    tx: &mut Tx<'_>,
    tenant: i64,
    filter: &ShipmentFilter,
    before_seq: Option<i64>,
    limit: i64,
) -> Result<Vec<ShipmentRow>, OrdersError> {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let sql = format!(
        "SELECT {SHIPMENT_COLUMNS} FROM orders_shipments s WHERE tenant_id = $1 \
         AND ($2 = '' OR id IN (SELECT shipment_id FROM orders_numbers n WHERE n.tenant_id = $1 AND n.number = $2)) \
         AND ($3 = '' OR order_id = $3) AND ($4 = '' OR status = $4) AND ($5 = '' OR service = $5) \
         AND ($6 = '' OR customer = $6) AND seq < $7 ORDER BY seq DESC LIMIT $8"
    );
    let rows = tx.query(
        &sql,
        &[
            &tenant,
            &text(&filter.tracking_number),
            &text(&filter.order),
            &text(&filter.status),
            &text(&filter.service),
            &text(&filter.customer),
            &before_seq.unwrap_or(i64::MAX),
            &limit,
        ],
    )?;
    rows.iter().map(shipment_row).collect()
}

/// Records an issued number; a number issued before is a failure of ours (never twice).
pub fn record_number(
    tx: &mut Tx<'_>,
    tenant: i64,
    number: &str,
    shipment: &str,
    segment: i64,
    now: i64,
) -> Result<(), OrdersError> {
    let inserted = tx.execute(
        "INSERT INTO orders_numbers (tenant_id, number, shipment_id, segment, issued_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (tenant_id, number) DO NOTHING",
        &[&tenant, &number, &shipment, &segment, &now],
    )?;
    if inserted != 1 {
        return Err(OrdersError::Failed(format!(
            "tracking number {number} was issued before"
        )));
    }
    Ok(())
}

/// A number range as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RangeRow {
    pub id: String,
    pub tenant: i64,
    pub carrier: String,
    pub format: RangeFormat,
    pub first: i64,
    pub last: i64,
    pub next: i64,
    pub created_at: i64,
}

const RANGE_COLUMNS: &str = "id, tenant_id, carrier, format, service_indicator, country, prefix, first, last, next, created_at";

fn range_row(row: &Row) -> Result<RangeRow, OrdersError> {
    let format: String = row.get(3)?;
    let format = match format.as_str() {
        "s10" => RangeFormat::S10 {
            service_indicator: row.get(4)?,
            country: row.get(5)?,
        },
        _ => RangeFormat::Internal {
            prefix: row.get(6)?,
        },
    };
    Ok(RangeRow {
        id: row.get(0)?,
        tenant: row.get(1)?,
        carrier: row.get(2)?,
        format,
        first: row.get(7)?,
        last: row.get(8)?,
        next: row.get(9)?,
        created_at: row.get(10)?,
    })
}

pub fn list_ranges(tx: &mut Tx<'_>, tenant: i64) -> Result<Vec<RangeRow>, OrdersError> {
    let sql =
        format!("SELECT {RANGE_COLUMNS} FROM orders_ranges WHERE tenant_id = $1 ORDER BY seq DESC");
    tx.query(&sql, &[&tenant])?.iter().map(range_row).collect()
}

/// Inserts a range unless it overlaps one of the tenant's with the same indicator and
/// country (S10) or prefix (internal): `false` then.
pub fn insert_range(tx: &mut Tx<'_>, r: &RangeRow) -> Result<bool, OrdersError> {
    tx.lock("orders.ranges", r.tenant)?;
    let (format, indicator, country, prefix) = match &r.format {
        RangeFormat::S10 {
            service_indicator,
            country,
        } => ("s10", service_indicator.as_str(), country.as_str(), ""),
        RangeFormat::Internal { prefix } => ("internal", "", "", prefix.as_str()),
    };
    let clash = tx.query_opt(
        "SELECT id FROM orders_ranges WHERE tenant_id = $1 AND format = $2 AND service_indicator = $3 \
         AND country = $4 AND prefix = $5 AND first <= $7 AND $6 <= last",
        &[&r.tenant, &format, &indicator, &country, &prefix, &r.first, &r.last],
    )?;
    if clash.is_some() {
        return Ok(false);
    }
    tx.execute(
        "INSERT INTO orders_ranges (id, tenant_id, carrier, format, service_indicator, country, prefix, first, last, next, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $8, $10)",
        &[&r.id, &r.tenant, &r.carrier, &format, &indicator, &country, &prefix, &r.first, &r.last, &r.created_at],
    )?;
    Ok(true)
}

/// The next number for `carrier`: from its oldest range with numbers left, else (no range
/// at all) from the installation-wide `CD` sequence. `None`: the carrier's ranges are used
/// up (`range_exhausted`). The number is taken for good: a rolled-back transaction gives it
/// back unissued, a committed one never issues it again.
pub fn take_number(
    tx: &mut Tx<'_>,
    tenant: i64,
    carrier: &str,
) -> Result<Option<String>, OrdersError> {
    let has_ranges = tx
        .query_opt(
            "SELECT 1 FROM orders_ranges WHERE tenant_id = $1 AND carrier = $2",
            &[&tenant, &carrier],
        )?
        .is_some();
    if !has_ranges {
        let row = tx.query_one(
            "UPDATE orders_sequences SET next = next + 1 WHERE name = $1 RETURNING next - 1",
            &[&crate::model::DEFAULT_PREFIX],
        )?;
        let serial: i64 = row.get(0)?;
        if serial > crate::model::INTERNAL_SERIAL_MAX {
            return Ok(None);
        }
        let format = RangeFormat::Internal {
            prefix: crate::model::DEFAULT_PREFIX.to_owned(),
        };
        return format
            .number(serial)
            .map(Some)
            .ok_or_else(|| OrdersError::Failed(format!("CD serial {serial} makes no number")));
    }
    let sql = format!(
        "UPDATE orders_ranges SET next = next + 1 WHERE seq = (SELECT seq FROM orders_ranges \
         WHERE tenant_id = $1 AND carrier = $2 AND next <= last ORDER BY seq LIMIT 1) \
         AND next <= last RETURNING {RANGE_COLUMNS}"
    );
    // `next <= last` is checked again on the row as updated: on PostgreSQL a concurrent
    // transaction may have taken the range's last number while this one waited for the row.
    let Some(row) = tx.query_opt(&sql, &[&tenant, &carrier])? else {
        return Ok(None);
    };
    let range = range_row(&row)?;
    // RETURNING gives the row after the update: the serial taken is one below.
    let serial = range.next - 1;
    debug_assert!(serial >= range.first && serial <= range.last);
    range.format.number(serial).map(Some).ok_or_else(|| {
        OrdersError::Failed(format!("range {} makes no number for {serial}", range.id))
    })
}

/// An event of a shipment, as `GET /v1/events` lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventRow {
    pub seq: i64,
    pub id: String,
    pub tenant: i64,
    pub customer: String,
    pub kind: String,
    pub subject: String,
    /// The whole event's JSON.
    pub doc: String,
    pub created_at: i64,
}

pub fn insert_event(tx: &mut Tx<'_>, e: &EventRow) -> Result<(), OrdersError> {
    tx.execute(
        "INSERT INTO orders_events (id, tenant_id, customer, type, subject, doc, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[&e.id, &e.tenant, &e.customer, &e.kind, &e.subject, &e.doc, &e.created_at],
    )?;
    Ok(())
}

pub fn list_events(
    tx: &mut Tx<'_>,
    tenant: i64,
    customer: Option<&str>,
    kind: Option<&str>,
    subject: Option<&str>,
    before_seq: Option<i64>,
    limit: i64,
) -> Result<Vec<EventRow>, OrdersError> {
    let rows = tx.query(
        "SELECT seq, id, tenant_id, customer, type, subject, doc, created_at FROM orders_events \
         WHERE tenant_id = $1 AND ($2 = '' OR customer = $2) AND ($3 = '' OR type = $3) \
         AND ($4 = '' OR subject = $4) AND seq < $5 ORDER BY seq DESC LIMIT $6",
        &[
            &tenant,
            &customer.unwrap_or(""),
            &kind.unwrap_or(""),
            &subject.unwrap_or(""),
            &before_seq.unwrap_or(i64::MAX),
            &limit,
        ],
    )?;
    rows.iter()
        .map(|r| {
            Ok(EventRow {
                seq: r.get(0)?,
                id: r.get(1)?,
                tenant: r.get(2)?,
                customer: r.get(3)?,
                kind: r.get(4)?,
                subject: r.get(5)?,
                doc: r.get(6)?,
                created_at: r.get(7)?,
            })
        })
        .collect()
}
