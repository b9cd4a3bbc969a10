//! Accepting events: each one deduplicated by its identity, matched to its parcel by
//! number, stored, and folded into the parcel's status in the same transaction; a change
//! of `status` or `sub_status` emits `tracking.updated`, a `weigh` scan `parcel.weighed`.
//! The same [`apply`] runs when a number is registered after its events arrived.

use crate::formats::{Incoming, Parsed, Problem};
use crate::model::{Decider, Derived, Source, Status, utc_text};
use crate::store::{self, EventRow, ParcelRow, ParcelStatus};
use crossdock_db::{DbError, Tx};
use crossdock_events::{ParcelWeighed, TrackingUpdated, emit};
use sha2::Digest;

/// Where a body came from: the source, and the carrier connection for carriers' bodies.
#[derive(Clone, Debug)]
pub struct Origin {
    pub tenant: i64,
    pub source: Source,
    pub connection: Option<String>,
    pub carrier: Option<String>,
}

/// What became of one event of a body (tracking.md, "Sources").
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Created(String),
    Duplicate(String),
    Unmatched,
    Invalid(Vec<Problem>),
}

/// The stored identity: SHA-256 over the connection (hub scans: `hub`, per tenant) and the
/// contract's identity fields, hex.
pub fn identity_key(origin: &Origin, identity: &str) -> String {
    let mut h = sha2::Sha256::new();
    h.update(origin.connection.as_deref().unwrap_or("hub").as_bytes());
    h.update([0x1f]);
    h.update(identity.as_bytes());
    let digest = h.finalize();
    let mut out = String::with_capacity(64);
    for b in digest.iter() {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// Accepts `items` in order in one transaction. `ids` gives each event's id to use if it
/// is new (made outside the transaction).
pub fn ingest(
    tx: &mut Tx<'_>,
    origin: &Origin,
    items: &[Parsed],
    ids: &[String],
    now_ms: i64,
) -> Result<Vec<Outcome>, DbError> {
    let mut outcomes = Vec::with_capacity(items.len());
    for (item, id) in items.iter().zip(ids) {
        let outcome = match item {
            Parsed::Invalid(problems) => Outcome::Invalid(problems.clone()),
            Parsed::Event(incoming) => accept(tx, origin, incoming, id, now_ms)?,
        };
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

fn accept(
    tx: &mut Tx<'_>,
    origin: &Origin,
    e: &Incoming,
    id: &str,
    now_ms: i64,
) -> Result<Outcome, DbError> {
    let identity = identity_key(origin, &e.identity);
    let owner = store::number_owner(tx, origin.tenant, &e.tracking_number)?;
    let unmatched = match (&e.mapped, &owner) {
        (None, _) => Some("unknown_code"),
        (Some(_), None) => Some("unknown_tracking_number"),
        (Some(_), Some(_)) => None,
    };
    let row = EventRow {
        seq: 0,
        id: id.to_owned(),
        tenant: origin.tenant,
        identity: identity.clone(),
        shipment_id: if unmatched.is_none() { owner.clone() } else { None },
        tracking_number: e.tracking_number.clone(),
        source: origin.source.as_str().to_owned(),
        connection: origin.connection.clone(),
        carrier: origin.carrier.clone(),
        time: e.time.clone(),
        instant_ms: e.at.instant_ms,
        offset_s: i64::from(e.at.offset_s),
        status: e.mapped.map(|m| m.status.as_str().to_owned()),
        sub_status: e.mapped.map(|m| m.sub_status.to_owned()),
        segment: e.mapped.and_then(|m| m.segment).map(|s| s.as_str().to_owned()),
        code: e.code.clone(),
        description: e.description.clone(),
        country: e.country.clone(),
        city: e.city.clone(),
        facility: e.facility.clone(),
        weight_g: e.weight_g,
        bag: e.bag.clone(),
        unmatched: unmatched.map(str::to_owned),
        received_at: now_ms.div_euclid(1000),
    };
    if !store::insert_event(tx, &row)? {
        let existing = store::event_id_by_identity(tx, origin.tenant, &identity)?
            .ok_or_else(|| DbError::Backend("a duplicate event vanished".into()))?;
        return Ok(Outcome::Duplicate(existing));
    }
    if unmatched.is_some() {
        return Ok(Outcome::Unmatched);
    }
    if let Some(shipment_id) = &owner
        && let Some(parcel) = store::parcel(tx, shipment_id)?
    {
        apply(tx, &parcel, &row, now_ms)?;
    }
    Ok(Outcome::Created(row.id))
}

/// The deciding event of a parcel as its row keeps it.
fn decider_of(p: &ParcelRow) -> Option<Decider> {
    Some(Decider {
        instant_ms: p.status_ms?,
        status: Status::parse(&p.status)?,
        sub_status: p.sub_status.clone(),
        identity: p.decider.clone()?,
    })
}

/// Folds a stored, matched event into its parcel; emits `tracking.updated` when the
/// status or sub-status changes, `parcel.weighed` for a weighing.
pub fn apply(tx: &mut Tx<'_>, p: &ParcelRow, e: &EventRow, now_ms: i64) -> Result<(), DbError> {
    let Some(status) = e.status.as_deref().and_then(Status::parse) else {
        return Ok(());
    };
    let new = Decider {
        instant_ms: e.instant_ms,
        status,
        sub_status: e.sub_status.clone().unwrap_or_default(),
        identity: e.identity.clone(),
    };
    let old = decider_of(p);
    let activity_ms = match &old {
        None => e.instant_ms,
        Some(_) => p.activity_ms.max(e.instant_ms),
    };
    let deciding = Decider::max(old.clone(), new);
    let derived = Derived::of(Some(&deciding));
    let changed = derived.status.as_str() != p.status || derived.sub_status != p.sub_status;
    let changes = p.changes + i64::from(changed);
    store::set_parcel_status(
        tx,
        &p.shipment_id,
        &ParcelStatus {
            status: derived.status.as_str(),
            sub_status: &derived.sub_status,
            status_ms: deciding.instant_ms,
            decider: &deciding.identity,
            changes,
            activity_ms,
            final_: matches!(derived.status, Status::Delivered | Status::Returned),
        },
    )?;
    if changed && !p.voided {
        let event_id = crossdock_http::new_id("evt")
            .map_err(|_| DbError::Backend("no randomness for an event id".into()))?;
        let update = TrackingUpdated {
            event_id,
            shipment_id: p.shipment_id.clone(),
            customer: p.customer.clone(),
            tracking_number: p.tracking_number.clone(),
            sequence: changes,
            status: derived.status.as_str().to_owned(),
            sub_status: derived.sub_status.clone(),
            status_time: derived.status_time_ms.map(utc_text),
            previous_status: p.status.clone(),
            created_at: utc_text(now_ms - now_ms.rem_euclid(1000)),
            created_ms: now_ms,
        };
        emit(tx, p.tenant, now_ms.div_euclid(1000), &update)?;
    }
    if let (Some(weight_g), Some("WEIGHED")) = (e.weight_g, e.sub_status.as_deref()) {
        emit(
            tx,
            p.tenant,
            now_ms.div_euclid(1000),
            &ParcelWeighed {
                event_id: e.id.clone(),
                shipment_id: p.shipment_id.clone(),
                weight_g,
            },
        )?;
    }
    Ok(())
}

/// After `number` was registered for `parcel`: the events that waited for it apply.
pub fn apply_waiting(tx: &mut Tx<'_>, parcel: &ParcelRow, number: &str, now_ms: i64) -> Result<(), DbError> {
    for mut e in store::waiting_for(tx, parcel.tenant, number)? {
        store::match_event(tx, e.seq, &parcel.shipment_id)?;
        e.shipment_id = Some(parcel.shipment_id.clone());
        // Re-read: each applied event changes the row.
        if let Some(current) = store::parcel(tx, &parcel.shipment_id)? {
            apply(tx, &current, &e, now_ms)?;
        }
    }
    Ok(())
}
