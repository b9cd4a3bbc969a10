//! The tracking component's transaction scripts: the SQL of its own tables, written once
//! for both dialects (components.md, rule 3). Nothing here decides; `ingest.rs` does.

use crossdock_db::{DbError, Row, Tx};

/// A registered parcel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParcelRow {
    pub shipment_id: String,
    pub tenant: i64,
    pub customer: String,
    pub tracking_number: String,
    pub carrier: String,
    pub service: String,
    pub lane: String,
    pub destination: String,
    pub transit_max: Option<i64>,
    pub registered_ms: i64,
    pub voided: bool,
    pub status: String,
    pub sub_status: String,
    pub status_ms: Option<i64>,
    pub decider: Option<String>,
    pub changes: i64,
    pub activity_ms: i64,
}

const PARCEL_COLUMNS: &str = "shipment_id, tenant_id, customer, tracking_number, carrier, service, lane, destination, \
     transit_max, registered_ms, voided, status, sub_status, status_ms, decider, changes, activity_ms";

fn parcel_row(r: &Row) -> Result<ParcelRow, DbError> {
    Ok(ParcelRow {
        shipment_id: r.get(0)?,
        tenant: r.get(1)?,
        customer: r.get(2)?,
        tracking_number: r.get(3)?,
        carrier: r.get(4)?,
        service: r.get(5)?,
        lane: r.get(6)?,
        destination: r.get(7)?,
        transit_max: r.get(8)?,
        registered_ms: r.get(9)?,
        voided: r.get::<i64>(10)? != 0,
        status: r.get(11)?,
        sub_status: r.get(12)?,
        status_ms: r.get(13)?,
        decider: r.get(14)?,
        changes: r.get(15)?,
        activity_ms: r.get(16)?,
    })
}

/// Registers a parcel; `false` if it was registered already.
pub fn insert_parcel(tx: &mut Tx<'_>, p: &ParcelRow) -> Result<bool, DbError> {
    let n = tx.execute(
        "INSERT INTO tracking_parcels (shipment_id, tenant_id, customer, tracking_number, carrier, service, lane, \
         destination, transit_max, registered_ms, voided, status, sub_status, status_ms, decider, changes, activity_ms, final) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 0, $11, $12, NULL, NULL, 0, $10, 0) \
         ON CONFLICT (shipment_id) DO NOTHING",
        &[
            &p.shipment_id, &p.tenant, &p.customer, &p.tracking_number, &p.carrier, &p.service, &p.lane,
            &p.destination, &p.transit_max, &p.registered_ms, &p.status, &p.sub_status,
        ],
    )?;
    Ok(n == 1)
}

/// Parcels per multi-row insert.
const PARCEL_INSERT_ROWS: usize = 32;

/// [`insert_parcel`] for many, [`PARCEL_INSERT_ROWS`] per statement (those registered
/// already are left as they are).
pub fn insert_parcels(tx: &mut Tx<'_>, parcels: &[ParcelRow]) -> Result<(), DbError> {
    let full = parcels.len() - parcels.len() % PARCEL_INSERT_ROWS;
    if full > 0 {
        let values = (0..PARCEL_INSERT_ROWS)
            .map(|r| {
                let b = r * 12;
                format!(
                    "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, 0, ${}, ${}, NULL, NULL, 0, ${}, 0)",
                    b + 1, b + 2, b + 3, b + 4, b + 5, b + 6, b + 7, b + 8, b + 9, b + 10, b + 11, b + 12, b + 10
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO tracking_parcels (shipment_id, tenant_id, customer, tracking_number, carrier, service, lane, \
             destination, transit_max, registered_ms, voided, status, sub_status, status_ms, decider, changes, activity_ms, final) \
             VALUES {values} ON CONFLICT (shipment_id) DO NOTHING"
        );
        for chunk in parcels[..full].chunks(PARCEL_INSERT_ROWS) {
            let params: Vec<&dyn crossdock_db::Param> = chunk
                .iter()
                .flat_map(|p| {
                    [
                        &p.shipment_id as &dyn crossdock_db::Param,
                        &p.tenant,
                        &p.customer,
                        &p.tracking_number,
                        &p.carrier,
                        &p.service,
                        &p.lane,
                        &p.destination,
                        &p.transit_max,
                        &p.registered_ms,
                        &p.status,
                        &p.sub_status,
                    ]
                })
                .collect();
            tx.execute(&sql, &params)?;
        }
    }
    for p in &parcels[full..] {
        insert_parcel(tx, p)?;
    }
    Ok(())
}

/// Numbers per multi-row insert.
const NUMBER_INSERT_ROWS: usize = 100;

/// [`insert_number`] for many `(tenant, number, shipment)`, [`NUMBER_INSERT_ROWS`] per
/// statement (a number that answers already keeps its parcel).
pub fn insert_numbers(tx: &mut Tx<'_>, numbers: &[(i64, String, String)]) -> Result<(), DbError> {
    let full = numbers.len() - numbers.len() % NUMBER_INSERT_ROWS;
    if full > 0 {
        let values = (0..NUMBER_INSERT_ROWS)
            .map(|r| format!("(${}, ${}, ${})", r * 3 + 1, r * 3 + 2, r * 3 + 3))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO tracking_numbers (tenant_id, number, shipment_id) VALUES {values} \
             ON CONFLICT (tenant_id, number) DO NOTHING"
        );
        for chunk in numbers[..full].chunks(NUMBER_INSERT_ROWS) {
            let params: Vec<&dyn crossdock_db::Param> = chunk
                .iter()
                .flat_map(|(t, n, s)| [t as &dyn crossdock_db::Param, n, s])
                .collect();
            tx.execute(&sql, &params)?;
        }
    }
    for (t, n, s) in &numbers[full..] {
        insert_number(tx, *t, n, s)?;
    }
    Ok(())
}

/// Which of `numbers` have events waiting for them in `tenant`.
pub fn numbers_waited_for(
    tx: &mut Tx<'_>,
    tenant: i64,
    numbers: &[&str],
) -> Result<Vec<String>, DbError> {
    let mut found: Vec<String> = query_in(
        tx,
        "SELECT DISTINCT tracking_number FROM tracking_events WHERE tenant_id = $1 \
         AND unmatched = 'unknown_tracking_number' AND tracking_number IN ({keys})",
        Some(tenant),
        numbers,
    )?
    .iter()
    .map(|r| r.get(0))
    .collect::<Result<_, _>>()?;
    found.sort();
    found.dedup();
    Ok(found)
}

pub fn parcel(tx: &mut Tx<'_>, shipment_id: &str) -> Result<Option<ParcelRow>, DbError> {
    let sql = format!("SELECT {PARCEL_COLUMNS} FROM tracking_parcels WHERE shipment_id = $1");
    tx.query_opt(&sql, &[&shipment_id])?
        .map(|r| parcel_row(&r))
        .transpose()
}

/// Up to two parcels of any tenant answering to `number` (the public page needs exactly one).
pub fn parcels_by_number(tx: &mut Tx<'_>, number: &str) -> Result<Vec<ParcelRow>, DbError> {
    let sql = format!(
        "SELECT {PARCEL_COLUMNS} FROM tracking_parcels WHERE shipment_id IN \
         (SELECT shipment_id FROM tracking_numbers WHERE number = $1 LIMIT 2)"
    );
    tx.query(&sql, &[&number])?.iter().map(parcel_row).collect()
}

/// The status part of a parcel after an event.
#[derive(Clone, Debug)]
pub struct ParcelStatus<'a> {
    pub status: &'a str,
    pub sub_status: &'a str,
    pub status_ms: i64,
    pub decider: &'a str,
    pub changes: i64,
    pub activity_ms: i64,
    pub final_: bool,
}

pub fn set_parcel_status(
    tx: &mut Tx<'_>,
    shipment_id: &str,
    s: &ParcelStatus<'_>,
) -> Result<(), DbError> {
    let final_ = i64::from(s.final_);
    tx.execute(
        "UPDATE tracking_parcels SET status = $2, sub_status = $3, status_ms = $4, decider = $5, changes = $6, \
         activity_ms = $7, final = $8 WHERE shipment_id = $1",
        &[&shipment_id, &s.status, &s.sub_status, &s.status_ms, &s.decider, &s.changes, &s.activity_ms, &final_],
    )?;
    Ok(())
}

/// Rows per multi-row parcel update.
const UPDATE_ROWS: usize = 64;

/// [`set_parcel_status`] for many parcels, [`UPDATE_ROWS`] per statement.
pub fn set_parcel_statuses(
    tx: &mut Tx<'_>,
    parcels: &[(String, ParcelStatus<'_>)],
) -> Result<(), DbError> {
    let full = parcels.len() - parcels.len() % UPDATE_ROWS;
    if full > 0 {
        let values = (0..UPDATE_ROWS)
            .map(|r| {
                let b = r * 8;
                format!(
                    "(${}, ${}, ${}, CAST(${} AS BIGINT), ${}, CAST(${} AS BIGINT), CAST(${} AS BIGINT), CAST(${} AS BIGINT))",
                    b + 1, b + 2, b + 3, b + 4, b + 5, b + 6, b + 7, b + 8
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        // VALUES columns are column1… in both dialects.
        let sql = format!(
            "UPDATE tracking_parcels SET status = v.column2, sub_status = v.column3, status_ms = v.column4, \
             decider = v.column5, changes = v.column6, activity_ms = v.column7, final = v.column8 \
             FROM (VALUES {values}) AS v WHERE tracking_parcels.shipment_id = v.column1"
        );
        let finals: Vec<i64> = parcels[..full]
            .iter()
            .map(|(_, p)| i64::from(p.final_))
            .collect();
        for (chunk, finals) in parcels[..full]
            .chunks(UPDATE_ROWS)
            .zip(finals.chunks(UPDATE_ROWS))
        {
            let params: Vec<&dyn crossdock_db::Param> = chunk
                .iter()
                .zip(finals)
                .flat_map(|((id, p), f)| {
                    [
                        id as &dyn crossdock_db::Param,
                        &p.status,
                        &p.sub_status,
                        &p.status_ms,
                        &p.decider,
                        &p.changes,
                        &p.activity_ms,
                        f,
                    ]
                })
                .collect();
            tx.execute(&sql, &params)?;
        }
    }
    for (id, p) in &parcels[full..] {
        set_parcel_status(tx, id, p)?;
    }
    Ok(())
}

pub fn set_voided(tx: &mut Tx<'_>, shipment_id: &str) -> Result<(), DbError> {
    tx.execute(
        "UPDATE tracking_parcels SET voided = 1 WHERE shipment_id = $1",
        &[&shipment_id],
    )?;
    Ok(())
}

/// Makes `number` answer to `shipment_id` in `tenant`; `false` if it already answers to one.
pub fn insert_number(
    tx: &mut Tx<'_>,
    tenant: i64,
    number: &str,
    shipment_id: &str,
) -> Result<bool, DbError> {
    let n = tx.execute(
        "INSERT INTO tracking_numbers (tenant_id, number, shipment_id) VALUES ($1, $2, $3) \
         ON CONFLICT (tenant_id, number) DO NOTHING",
        &[&tenant, &number, &shipment_id],
    )?;
    Ok(n == 1)
}

/// The parcel answering to `number` in `tenant`. Two lookups, not a join: SQLite (with
/// STAT4, as bundled) re-prepares a cached join on every run, which cost more than the
/// second lookup.
pub fn parcel_by_number(
    tx: &mut Tx<'_>,
    tenant: i64,
    number: &str,
) -> Result<Option<ParcelRow>, DbError> {
    match number_owner(tx, tenant, number)? {
        Some(shipment_id) => parcel(tx, &shipment_id),
        None => Ok(None),
    }
}

pub fn number_owner(tx: &mut Tx<'_>, tenant: i64, number: &str) -> Result<Option<String>, DbError> {
    tx.query_opt(
        "SELECT shipment_id FROM tracking_numbers WHERE tenant_id = $1 AND number = $2",
        &[&tenant, &number],
    )?
    .map(|r| r.get(0))
    .transpose()
}

/// One stored event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventRow {
    pub seq: i64,
    pub id: String,
    pub tenant: i64,
    pub identity: String,
    pub shipment_id: Option<String>,
    pub tracking_number: String,
    pub source: String,
    pub connection: Option<String>,
    pub carrier: Option<String>,
    pub time: String,
    pub instant_ms: i64,
    pub offset_s: i64,
    pub status: Option<String>,
    pub sub_status: Option<String>,
    /// `None`: the `*` of the contract's table (or an unmapped code).
    pub segment: Option<String>,
    pub code: String,
    pub description: Option<String>,
    pub country: Option<String>,
    pub city: Option<String>,
    pub facility: Option<String>,
    pub weight_g: Option<i64>,
    pub bag: Option<String>,
    pub unmatched: Option<String>,
    pub received_at: i64,
}

const EVENT_COLUMNS: &str = "seq, id, tenant_id, identity, shipment_id, tracking_number, source, connection, carrier, \
     time, instant_ms, offset_s, status, sub_status, segment, code, description, country, city, facility, weight_g, \
     bag, unmatched, received_at";

fn event_row(r: &Row) -> Result<EventRow, DbError> {
    Ok(EventRow {
        seq: r.get(0)?,
        id: r.get(1)?,
        tenant: r.get(2)?,
        identity: r.get(3)?,
        shipment_id: r.get(4)?,
        tracking_number: r.get(5)?,
        source: r.get(6)?,
        connection: r.get(7)?,
        carrier: r.get(8)?,
        time: r.get(9)?,
        instant_ms: r.get(10)?,
        offset_s: r.get(11)?,
        status: r.get(12)?,
        sub_status: r.get(13)?,
        segment: r.get(14)?,
        code: r.get(15)?,
        description: r.get(16)?,
        country: r.get(17)?,
        city: r.get(18)?,
        facility: r.get(19)?,
        weight_g: r.get(20)?,
        bag: r.get(21)?,
        unmatched: r.get(22)?,
        received_at: r.get(23)?,
    })
}

/// Keys per `IN (…)` lookup: a fixed count (the last key repeated to fill it), so each
/// lookup is one prepared statement.
const IN_KEYS: usize = 100;

/// `$first, $first+1, …` for `n` parameters.
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Runs `sql` (with `{keys}` where the `IN` list goes, after `$1` = `tenant` when given)
/// over `keys` in chunks of [`IN_KEYS`]; every row of every chunk.
fn query_in(
    tx: &mut Tx<'_>,
    sql: &str,
    tenant: Option<i64>,
    keys: &[&str],
) -> Result<Vec<Row>, DbError> {
    let first = if tenant.is_some() { 2 } else { 1 };
    let sql = sql.replace("{keys}", &placeholders(first, IN_KEYS));
    let mut out = Vec::new();
    for chunk in keys.chunks(IN_KEYS) {
        let Some(last) = chunk.last() else { continue };
        let mut params: Vec<&dyn crossdock_db::Param> = Vec::with_capacity(IN_KEYS + 1);
        if let Some(t) = &tenant {
            params.push(t);
        }
        for k in chunk {
            params.push(k);
        }
        for _ in chunk.len()..IN_KEYS {
            params.push(last);
        }
        out.extend(tx.query(&sql, &params)?);
    }
    Ok(out)
}

/// The ids of the tenant's stored events with these identities.
pub fn event_ids_by_identity(
    tx: &mut Tx<'_>,
    tenant: i64,
    identities: &[&str],
) -> Result<std::collections::HashMap<String, String>, DbError> {
    query_in(
        tx,
        "SELECT identity, id FROM tracking_events WHERE tenant_id = $1 AND identity IN ({keys})",
        Some(tenant),
        identities,
    )?
    .iter()
    .map(|r| Ok((r.get(0)?, r.get(1)?)))
    .collect()
}

/// The shipments these numbers answer to in `tenant`.
pub fn number_owners(
    tx: &mut Tx<'_>,
    tenant: i64,
    numbers: &[&str],
) -> Result<std::collections::HashMap<String, String>, DbError> {
    query_in(
        tx,
        "SELECT number, shipment_id FROM tracking_numbers WHERE tenant_id = $1 AND number IN ({keys})",
        Some(tenant),
        numbers,
    )?
    .iter()
    .map(|r| Ok((r.get(0)?, r.get(1)?)))
    .collect()
}

/// These parcels (those registered).
pub fn parcels(tx: &mut Tx<'_>, shipments: &[&str]) -> Result<Vec<ParcelRow>, DbError> {
    let sql =
        format!("SELECT {PARCEL_COLUMNS} FROM tracking_parcels WHERE shipment_id IN ({{keys}})");
    query_in(tx, &sql, None, shipments)?
        .iter()
        .map(parcel_row)
        .collect()
}

/// Rows per multi-row insert of events.
const INSERT_ROWS: usize = 32;
const EVENT_INSERT_COLUMNS: &str = "id, tenant_id, identity, shipment_id, tracking_number, source, connection, carrier, \
     time, instant_ms, offset_s, status, sub_status, segment, code, description, country, city, facility, weight_g, \
     bag, unmatched, received_at";
const EVENT_INSERT_PARAMS: usize = 23;

fn event_params(e: &EventRow) -> [&dyn crossdock_db::Param; EVENT_INSERT_PARAMS] {
    [
        &e.id,
        &e.tenant,
        &e.identity,
        &e.shipment_id,
        &e.tracking_number,
        &e.source,
        &e.connection,
        &e.carrier,
        &e.time,
        &e.instant_ms,
        &e.offset_s,
        &e.status,
        &e.sub_status,
        &e.segment,
        &e.code,
        &e.description,
        &e.country,
        &e.city,
        &e.facility,
        &e.weight_g,
        &e.bag,
        &e.unmatched,
        &e.received_at,
    ]
}

/// Stores events, [`INSERT_ROWS`] per statement; for each, whether it was stored (`false`:
/// one with its identity was stored meanwhile by another transaction).
pub fn insert_events(tx: &mut Tx<'_>, events: &[EventRow]) -> Result<Vec<bool>, DbError> {
    let mut stored = Vec::with_capacity(events.len());
    let full = events.len() - events.len() % INSERT_ROWS;
    let values = (0..INSERT_ROWS)
        .map(|r| {
            format!(
                "({})",
                placeholders(1 + r * EVENT_INSERT_PARAMS, EVENT_INSERT_PARAMS)
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let many = format!(
        "INSERT INTO tracking_events ({EVENT_INSERT_COLUMNS}) VALUES {values} ON CONFLICT (tenant_id, identity) DO NOTHING"
    );
    for chunk in events[..full].chunks(INSERT_ROWS) {
        let params: Vec<&dyn crossdock_db::Param> = chunk.iter().flat_map(event_params).collect();
        match tx.dialect() {
            crossdock_db::Dialect::Postgres => {
                let sql = format!("{many} RETURNING identity");
                let got: std::collections::HashSet<String> = tx
                    .query(&sql, &params)?
                    .iter()
                    .map(|r| r.get(0))
                    .collect::<Result<_, _>>()?;
                stored.extend(chunk.iter().map(|e| got.contains(&e.identity)));
            }
            crossdock_db::Dialect::Sqlite => {
                // One writer at a time: what was not found before is stored now.
                let n = tx.execute(&many, &params)?;
                if n as usize != chunk.len() {
                    return Err(DbError::Backend(format!(
                        "{n} of {} events stored",
                        chunk.len()
                    )));
                }
                stored.extend(std::iter::repeat_n(true, chunk.len()));
            }
        }
    }
    for e in &events[full..] {
        stored.push(insert_event(tx, e)?);
    }
    Ok(stored)
}

/// Stores an event unless one with its identity exists: `false` for a duplicate.
pub fn insert_event(tx: &mut Tx<'_>, e: &EventRow) -> Result<bool, DbError> {
    let n = tx.execute(
        "INSERT INTO tracking_events (id, tenant_id, identity, shipment_id, tracking_number, source, connection, carrier, \
         time, instant_ms, offset_s, status, sub_status, segment, code, description, country, city, facility, weight_g, \
         bag, unmatched, received_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23) \
         ON CONFLICT (tenant_id, identity) DO NOTHING",
        &[
            &e.id, &e.tenant, &e.identity, &e.shipment_id, &e.tracking_number, &e.source, &e.connection, &e.carrier,
            &e.time, &e.instant_ms, &e.offset_s, &e.status, &e.sub_status, &e.segment, &e.code, &e.description,
            &e.country, &e.city, &e.facility, &e.weight_g, &e.bag, &e.unmatched, &e.received_at,
        ],
    )?;
    Ok(n == 1)
}

pub fn event_id_by_identity(
    tx: &mut Tx<'_>,
    tenant: i64,
    identity: &str,
) -> Result<Option<String>, DbError> {
    tx.query_opt(
        "SELECT id FROM tracking_events WHERE tenant_id = $1 AND identity = $2",
        &[&tenant, &identity],
    )?
    .map(|r| r.get(0))
    .transpose()
}

/// A parcel's events (any order: callers sort them the contract's way).
pub fn events_of(tx: &mut Tx<'_>, shipment_id: &str) -> Result<Vec<EventRow>, DbError> {
    let sql = format!("SELECT {EVENT_COLUMNS} FROM tracking_events WHERE shipment_id = $1");
    tx.query(&sql, &[&shipment_id])?
        .iter()
        .map(event_row)
        .collect()
}

/// Events waiting for `number` to be registered in `tenant`.
pub fn waiting_for(tx: &mut Tx<'_>, tenant: i64, number: &str) -> Result<Vec<EventRow>, DbError> {
    let sql = format!(
        "SELECT {EVENT_COLUMNS} FROM tracking_events WHERE tenant_id = $1 AND tracking_number = $2 \
         AND unmatched = 'unknown_tracking_number' ORDER BY seq"
    );
    tx.query(&sql, &[&tenant, &number])?
        .iter()
        .map(event_row)
        .collect()
}

/// Whether any event waits for `number` to be registered in `tenant`.
pub fn any_waiting(tx: &mut Tx<'_>, tenant: i64, number: &str) -> Result<bool, DbError> {
    Ok(tx
        .query_opt(
            "SELECT 1 FROM tracking_events WHERE tenant_id = $1 AND tracking_number = $2 \
             AND unmatched = 'unknown_tracking_number' LIMIT 1",
            &[&tenant, &number],
        )?
        .is_some())
}

/// Attaches a waiting event to its parcel: it leaves the unmatched list.
pub fn match_event(tx: &mut Tx<'_>, seq: i64, shipment_id: &str) -> Result<(), DbError> {
    tx.execute(
        "UPDATE tracking_events SET shipment_id = $2, unmatched = NULL WHERE seq = $1",
        &[&seq, &shipment_id],
    )?;
    Ok(())
}

/// The tenant's unmatched events, newest first, before `before_seq`.
pub fn unmatched(
    tx: &mut Tx<'_>,
    tenant: i64,
    before_seq: Option<i64>,
    limit: i64,
) -> Result<Vec<EventRow>, DbError> {
    let before = before_seq.unwrap_or(i64::MAX);
    let sql = format!(
        "SELECT {EVENT_COLUMNS} FROM tracking_events WHERE tenant_id = $1 AND unmatched IS NOT NULL AND seq < $2 \
         ORDER BY seq DESC LIMIT $3"
    );
    tx.query(&sql, &[&tenant, &before, &limit])?
        .iter()
        .map(event_row)
        .collect()
}

/// Filters of `GET /v1/tracking/stuck`.
#[derive(Clone, Debug, Default)]
pub struct StuckFilter {
    pub customer: Option<String>,
    pub lane: Option<String>,
    pub status: Option<String>,
}

/// Parcels neither delivered nor returned (nor voided) whose activity is before
/// `cutoff_ms`, oldest first, after the position `(after_ms, after_id)`.
pub fn stuck(
    tx: &mut Tx<'_>,
    tenant: i64,
    cutoff_ms: i64,
    filter: &StuckFilter,
    after: Option<(i64, String)>,
    limit: i64,
) -> Result<Vec<ParcelRow>, DbError> {
    let (after_ms, after_id) = after.unwrap_or((i64::MIN, String::new()));
    let sql = format!(
        "SELECT {PARCEL_COLUMNS} FROM tracking_parcels WHERE tenant_id = $1 AND final = 0 AND voided = 0 \
         AND activity_ms < $2 AND ($3::TEXT IS NULL OR customer = $3) AND ($4::TEXT IS NULL OR lane = $4) \
         AND ($5::TEXT IS NULL OR status = $5) AND (activity_ms > $6 OR (activity_ms = $6 AND shipment_id > $7)) \
         ORDER BY activity_ms, shipment_id LIMIT $8"
    );
    let sql = match tx.dialect() {
        crossdock_db::Dialect::Postgres => sql,
        crossdock_db::Dialect::Sqlite => sql.replace("::TEXT", ""),
    };
    tx.query(
        &sql,
        &[
            &tenant,
            &cutoff_ms,
            &filter.customer,
            &filter.lane,
            &filter.status,
            &after_ms,
            &after_id,
            &limit,
        ],
    )?
    .iter()
    .map(parcel_row)
    .collect()
}
