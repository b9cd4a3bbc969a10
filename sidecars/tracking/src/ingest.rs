//! Accepting events: each one deduplicated by its identity, matched to its parcel by
//! number, stored, and folded into the parcel's status in the same transaction; a change
//! of `status` or `sub_status` emits `tracking.updated`, a `weigh` scan `parcel.weighed`.
//! The same [`apply`] runs when a number is registered after its events arrived.

use crate::formats::{Incoming, Parsed, Problem};
use crate::model::{Decider, Derived, Source, Status, utc_text};
use crate::store::{self, EventRow, ParcelRow, ParcelStatus};
use crossdock_db::{DbError, Tx};
use crossdock_events::{ParcelWeighed, TrackingUpdated, emit, emit_all};
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
/// is new (made outside the transaction). The body is handled as a set, so a large one
/// costs few statements (few round trips on PostgreSQL): its identities, numbers and parcels
/// are looked up in chunks, its new events inserted many rows per statement. Each parcel it
/// touches is read once and written once, and emits at most one `tracking.updated` for the
/// whole body (with the status before the body as `previous_status`).
pub fn ingest(
    tx: &mut Tx<'_>,
    origin: &Origin,
    items: &[Parsed],
    ids: &[String],
    now_ms: i64,
) -> Result<Vec<Outcome>, DbError> {
    let tenant = origin.tenant;
    // Each event's identity; a repeat within the body is a duplicate of its first copy.
    let mut outcomes: Vec<Option<Outcome>> = vec![None; items.len()];
    let mut first_copy: HashMap<String, usize> = HashMap::new();
    let mut copy_of: Vec<(usize, usize)> = Vec::new();
    let mut fresh: Vec<(usize, &Incoming, String)> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match item {
            Parsed::Invalid(problems) => outcomes[i] = Some(Outcome::Invalid(problems.clone())),
            Parsed::Event(e) => {
                let identity = identity_key(origin, &e.identity);
                match first_copy.get(&identity) {
                    Some(&first) => copy_of.push((i, first)),
                    None => {
                        first_copy.insert(identity.clone(), i);
                        fresh.push((i, e, identity));
                    }
                }
            }
        }
    }
    // Those stored before: duplicates.
    let identities: Vec<&str> = fresh.iter().map(|(_, _, id)| id.as_str()).collect();
    let stored = store::event_ids_by_identity(tx, tenant, &identities)?;
    fresh.retain(|(i, _, identity)| match stored.get(identity) {
        Some(id) => {
            outcomes[*i] = Some(Outcome::Duplicate(id.clone()));
            false
        }
        None => true,
    });
    // Their parcels, by number.
    let mut numbers: Vec<&str> = fresh
        .iter()
        .filter(|(_, e, _)| e.mapped.is_some())
        .map(|(_, e, _)| e.tracking_number.as_str())
        .collect();
    numbers.sort_unstable();
    numbers.dedup();
    let owners = store::number_owners(tx, tenant, &numbers)?;
    let mut folding = Folding::default();
    let mut shipments: Vec<&str> = owners.values().map(String::as_str).collect();
    shipments.sort_unstable();
    shipments.dedup();
    folding.preload(tx, &shipments)?;
    // The new events, stored.
    let rows: Vec<EventRow> = fresh
        .iter()
        .map(|(i, e, identity)| {
            let owner = owners.get(e.tracking_number.as_str());
            let unmatched = match (&e.mapped, owner) {
                (None, _) => Some("unknown_code"),
                (Some(_), None) => Some("unknown_tracking_number"),
                (Some(_), Some(_)) => None,
            };
            event_row(
                origin,
                e,
                &ids[*i],
                identity,
                owner.filter(|_| unmatched.is_none()),
                unmatched,
                now_ms,
            )
        })
        .collect();
    let inserted = store::insert_events(tx, &rows)?;
    let mut late_duplicates: Vec<usize> = Vec::new();
    for (k, ((i, _, _), row)) in fresh.iter().zip(&rows).enumerate() {
        if !inserted[k] {
            // Stored by another process since the lookup (PostgreSQL): a duplicate.
            late_duplicates.push(k);
            continue;
        }
        outcomes[*i] = Some(if row.unmatched.is_some() {
            Outcome::Unmatched
        } else {
            Outcome::Created(row.id.clone())
        });
        if let Some(shipment_id) = &row.shipment_id {
            folding.fold(tx, shipment_id, row, now_ms)?;
        }
    }
    if !late_duplicates.is_empty() {
        let late: Vec<&str> = late_duplicates
            .iter()
            .map(|k| rows[*k].identity.as_str())
            .collect();
        let found = store::event_ids_by_identity(tx, tenant, &late)?;
        for k in late_duplicates {
            let (i, _, identity) = &fresh[k];
            let id = found
                .get(identity)
                .cloned()
                .ok_or_else(|| DbError::Backend("a duplicate event vanished".into()))?;
            outcomes[*i] = Some(Outcome::Duplicate(id));
        }
    }
    // Repeats within the body answer what their first copy's duplicate or event is.
    for (i, first) in copy_of {
        let id = match &outcomes[first] {
            Some(Outcome::Created(id) | Outcome::Duplicate(id)) => Some(id.clone()),
            _ => None,
        };
        outcomes[i] = Some(match id {
            Some(id) => Outcome::Duplicate(id),
            // The first copy was kept unmatched: its id is the one given to it.
            None => Outcome::Duplicate(ids[first].clone()),
        });
    }
    folding.flush(tx, now_ms)?;
    outcomes
        .into_iter()
        .map(|o| o.ok_or_else(|| DbError::Backend("an event without an outcome".into())))
        .collect()
}

fn event_row(
    origin: &Origin,
    e: &Incoming,
    id: &str,
    identity: &str,
    shipment_id: Option<&String>,
    unmatched: Option<&str>,
    now_ms: i64,
) -> EventRow {
    EventRow {
        seq: 0,
        id: id.to_owned(),
        tenant: origin.tenant,
        identity: identity.to_owned(),
        shipment_id: shipment_id.cloned(),
        tracking_number: e.tracking_number.clone(),
        source: origin.source.as_str().to_owned(),
        connection: origin.connection.clone(),
        carrier: origin.carrier.clone(),
        time: e.time.clone(),
        instant_ms: e.at.instant_ms,
        offset_s: i64::from(e.at.offset_s),
        status: e.mapped.map(|m| m.status.as_str().to_owned()),
        sub_status: e.mapped.map(|m| m.sub_status.to_owned()),
        segment: e
            .mapped
            .and_then(|m| m.segment)
            .map(|s| s.as_str().to_owned()),
        code: e.code.clone(),
        description: e.description.clone(),
        country: e.country.clone(),
        city: e.city.clone(),
        facility: e.facility.clone(),
        weight_g: e.weight_g,
        bag: e.bag.clone(),
        unmatched: unmatched.map(str::to_owned),
        received_at: now_ms.div_euclid(1000),
    }
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
    /// By shipment id: the row as read and as folded so far.
    parcels: HashMap<String, (ParcelRow, ParcelRow)>,
    /// Shipment ids in the order first touched (so writes and events keep an order).
    order: Vec<String>,
}

impl Folding {
    /// Reads the parcels of `shipments` not read yet, in chunks.
    fn preload(&mut self, tx: &mut Tx<'_>, shipments: &[&str]) -> Result<(), DbError> {
        let missing: Vec<&str> = shipments
            .iter()
            .copied()
            .filter(|s| !self.parcels.contains_key(*s))
            .collect();
        for p in store::parcels(tx, &missing)? {
            self.order.push(p.shipment_id.clone());
            self.parcels.insert(p.shipment_id.clone(), (p.clone(), p));
        }
        Ok(())
    }

    /// Folds a stored, matched event into its parcel (in memory); a `weigh` emits
    /// `parcel.weighed` at once.
    pub fn fold(
        &mut self,
        tx: &mut Tx<'_>,
        shipment_id: &str,
        e: &EventRow,
        now_ms: i64,
    ) -> Result<(), DbError> {
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

    /// Writes every touched parcel (many per statement); each whose status or sub-status
    /// changed counts a change and emits `tracking.updated` (many per statement too).
    pub fn flush(self, tx: &mut Tx<'_>, now_ms: i64) -> Result<(), DbError> {
        let Folding {
            mut parcels, order, ..
        } = self;
        let mut written: Vec<ParcelRow> = Vec::new();
        let mut updates: Vec<(i64, TrackingUpdated)> = Vec::new();
        for id in order {
            let Some((before, mut p)) = parcels.remove(&id) else {
                continue;
            };
            if p == before || p.status_ms.is_none() || p.decider.is_none() {
                continue;
            }
            let changed = p.status != before.status || p.sub_status != before.sub_status;
            if changed {
                p.changes += 1;
            }
            if changed && !p.voided {
                let event_id = crossdock_http::new_id("evt")
                    .map_err(|_| DbError::Backend("no randomness for an event id".into()))?;
                updates.push((
                    p.tenant,
                    TrackingUpdated {
                        event_id,
                        shipment_id: p.shipment_id.clone(),
                        customer: p.customer.clone(),
                        tracking_number: p.tracking_number.clone(),
                        sequence: p.changes,
                        status: p.status.clone(),
                        sub_status: p.sub_status.clone(),
                        status_time: p.status_ms.map(utc_text),
                        previous_status: before.status.clone(),
                        created_at: utc_text(now_ms - now_ms.rem_euclid(1000)),
                        created_ms: now_ms,
                    },
                ));
            }
            written.push(p);
        }
        let rows: Vec<(String, ParcelStatus<'_>)> = written
            .iter()
            .map(|p| {
                (
                    p.shipment_id.clone(),
                    ParcelStatus {
                        status: &p.status,
                        sub_status: &p.sub_status,
                        status_ms: p.status_ms.unwrap_or_default(),
                        decider: p.decider.as_deref().unwrap_or_default(),
                        changes: p.changes,
                        activity_ms: p.activity_ms,
                        final_: matches!(p.status.as_str(), "delivered" | "returned"),
                    },
                )
            })
            .collect();
        store::set_parcel_statuses(tx, &rows)?;
        // One tenant per body in practice; grouped so that holds whatever the caller.
        let mut tenants: Vec<i64> = updates.iter().map(|(t, _)| *t).collect();
        tenants.sort_unstable();
        tenants.dedup();
        for tenant in tenants {
            let of_tenant: Vec<TrackingUpdated> = updates
                .iter()
                .filter(|(t, _)| *t == tenant)
                .map(|(_, u)| u.clone())
                .collect();
            emit_all(tx, tenant, now_ms.div_euclid(1000), &of_tenant)?;
        }
        Ok(())
    }
}

/// After `number` was registered for `parcel`: the events that waited for it apply.
pub fn apply_waiting(
    tx: &mut Tx<'_>,
    parcel: &ParcelRow,
    number: &str,
    now_ms: i64,
) -> Result<(), DbError> {
    let mut folding = Folding::default();
    for mut e in store::waiting_for(tx, parcel.tenant, number)? {
        store::match_event(tx, e.seq, &parcel.shipment_id)?;
        e.shipment_id = Some(parcel.shipment_id.clone());
        folding.fold(tx, &parcel.shipment_id, &e, now_ms)?;
    }
    folding.flush(tx, now_ms)
}
