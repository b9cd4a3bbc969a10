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
use std::collections::HashMap;

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

/// The stored identity: SHA-256 (its first 128 bits) over the connection (hub scans: `hub`, per tenant) and the
/// contract's identity fields, hex.
pub fn identity_key(origin: &Origin, identity: &str) -> String {
    let mut h = sha2::Sha256::new();
    h.update(origin.connection.as_deref().unwrap_or("hub").as_bytes());
    h.update([0x1f]);
    h.update(identity.as_bytes());
    let digest = h.finalize();
    // 128 bits of the digest: collisions are out of reach, and the index stays small.
    let mut out = String::with_capacity(32);
    for b in digest.iter().take(16) {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// Accepts `items` in order in one transaction. `ids` gives each event's id to use if it
/// is new (made outside the transaction). Each parcel the body touches is read once and
/// written once, and emits at most one `tracking.updated` for the whole body (with the
/// status before the body as `previous_status`).
pub fn ingest(
    tx: &mut Tx<'_>,
    origin: &Origin,
    items: &[Parsed],
    ids: &[String],
    now_ms: i64,
) -> Result<Vec<Outcome>, DbError> {
    let mut folding = Folding::default();
    let mut outcomes = Vec::with_capacity(items.len());
    for (item, id) in items.iter().zip(ids) {
        let outcome = match item {
            Parsed::Invalid(problems) => Outcome::Invalid(problems.clone()),
            Parsed::Event(incoming) => accept(tx, &mut folding, origin, incoming, id, now_ms)?,
        };
        outcomes.push(outcome);
    }
    folding.flush(tx, now_ms)?;
    Ok(outcomes)
}

fn accept(
    tx: &mut Tx<'_>,
    folding: &mut Folding,
    origin: &Origin,
    e: &Incoming,
    id: &str,
    now_ms: i64,
) -> Result<Outcome, DbError> {
    let identity = identity_key(origin, &e.identity);
    let owner = folding.owner(tx, origin.tenant, &e.tracking_number)?;
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
    if let Some(shipment_id) = &owner {
        folding.fold(tx, shipment_id, &row, now_ms)?;
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

/// The parcels one transaction touches: each read once, folded in memory, written once.
#[derive(Default)]
pub struct Folding {
    /// Numbers already looked up: the shipment they answer to, if any.
    owners: HashMap<String, Option<String>>,
    /// By shipment id: the row as read and as folded so far.
    parcels: HashMap<String, (ParcelRow, ParcelRow)>,
    /// Shipment ids in the order first touched (so writes and events keep an order).
    order: Vec<String>,
}

impl Folding {
    fn owner(&mut self, tx: &mut Tx<'_>, tenant: i64, number: &str) -> Result<Option<String>, DbError> {
        if let Some(known) = self.owners.get(number) {
            return Ok(known.clone());
        }
        let found = store::parcel_by_number(tx, tenant, number)?;
        let owner = found.as_ref().map(|p| p.shipment_id.clone());
        if let Some(p) = found
            && !self.parcels.contains_key(&p.shipment_id)
        {
            self.order.push(p.shipment_id.clone());
            self.parcels.insert(p.shipment_id.clone(), (p.clone(), p));
        }
        self.owners.insert(number.to_owned(), owner.clone());
        Ok(owner)
    }

    /// Folds a stored, matched event into its parcel (in memory); a `weigh` emits
    /// `parcel.weighed` at once.
    pub fn fold(&mut self, tx: &mut Tx<'_>, shipment_id: &str, e: &EventRow, now_ms: i64) -> Result<(), DbError> {
        if !self.parcels.contains_key(shipment_id) {
            let Some(p) = store::parcel(tx, shipment_id)? else {
                return Ok(());
            };
            self.order.push(shipment_id.to_owned());
            self.parcels.insert(shipment_id.to_owned(), (p.clone(), p));
        }
        let Some((_, p)) = self.parcels.get_mut(shipment_id) else {
            return Ok(());
        };
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
        p.activity_ms = match &old {
            None => e.instant_ms,
            Some(_) => p.activity_ms.max(e.instant_ms),
        };
        let deciding = Decider::max(old, new);
        let derived = Derived::of(Some(&deciding));
        p.status = derived.status.as_str().to_owned();
        p.sub_status = derived.sub_status;
        p.status_ms = Some(deciding.instant_ms);
        p.decider = Some(deciding.identity);
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

    /// Writes every touched parcel; each whose status or sub-status changed counts a change
    /// and emits `tracking.updated`.
    pub fn flush(self, tx: &mut Tx<'_>, now_ms: i64) -> Result<(), DbError> {
        let Folding { mut parcels, order, .. } = self;
        for id in order {
            let Some((before, mut p)) = parcels.remove(&id) else { continue };
            if p == before {
                continue;
            }
            let changed = p.status != before.status || p.sub_status != before.sub_status;
            if changed {
                p.changes += 1;
            }
            let (Some(status_ms), Some(decider)) = (p.status_ms, p.decider.as_deref()) else {
                continue;
            };
            store::set_parcel_status(
                tx,
                &p.shipment_id,
                &ParcelStatus {
                    status: &p.status,
                    sub_status: &p.sub_status,
                    status_ms,
                    decider,
                    changes: p.changes,
                    activity_ms: p.activity_ms,
                    final_: matches!(p.status.as_str(), "delivered" | "returned"),
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
                    sequence: p.changes,
                    status: p.status.clone(),
                    sub_status: p.sub_status.clone(),
                    status_time: Some(utc_text(status_ms)),
                    previous_status: before.status.clone(),
                    created_at: utc_text(now_ms - now_ms.rem_euclid(1000)),
                    created_ms: now_ms,
                };
                emit(tx, p.tenant, now_ms.div_euclid(1000), &update)?;
            }
        }
        Ok(())
    }
}

/// After `number` was registered for `parcel`: the events that waited for it apply.
pub fn apply_waiting(tx: &mut Tx<'_>, parcel: &ParcelRow, number: &str, now_ms: i64) -> Result<(), DbError> {
    let mut folding = Folding::default();
    for mut e in store::waiting_for(tx, parcel.tenant, number)? {
        store::match_event(tx, e.seq, &parcel.shipment_id)?;
        e.shipment_id = Some(parcel.shipment_id.clone());
        folding.fold(tx, &parcel.shipment_id, &e, now_ms)?;
    }
    folding.flush(tx, now_ms)
}
