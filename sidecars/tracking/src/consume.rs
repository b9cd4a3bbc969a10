//! The shipment events the tracking component follows (through the outbox, durable and
//! idempotent): `shipment.created` and `shipment.relabelled` register the parcel under
//! every issued number, and the events that waited for a number apply;
//! `shipment.voided` marks it voided (it stays searchable, leaves the stuck list and
//! sends no more webhooks). Re-applying an event changes nothing: parcels and numbers are
//! inserted only if absent.

use crate::ingest::apply_waiting;
use crate::model::{Derived, lane};
use crate::store::{self, ParcelRow};
use crossdock_db::outbox::{Handler, Message, Subscription};
use crossdock_db::{DbError, Tx};
use crossdock_events::{
    Event, ShipmentChange, ShipmentCreated, ShipmentRelabelled, ShipmentSummary, ShipmentVoided,
    decode_shipment_summary,
};
use std::sync::Arc;

pub const REGISTER_CONSUMER: &str = "tracking.register";

pub fn subscription() -> Subscription {
    Subscription {
        consumer: REGISTER_CONSUMER.to_owned(),
        topics: vec![
            ShipmentCreated::TOPIC.to_owned(),
            ShipmentRelabelled::TOPIC.to_owned(),
            ShipmentVoided::TOPIC.to_owned(),
        ],
        handler: Handler::DurablePage(Arc::new(on_shipments)),
    }
}

/// A page of shipment events as a set: the parcels and numbers of the created and
/// relabelled ones inserted many per statement, one look for events waiting for any of the
/// numbers, then the voids, in order (a void after its creation in one page applies).
pub fn on_shipments(tx: &mut Tx<'_>, messages: &[Message]) -> Result<(), DbError> {
    let now_ms = crossdock_db::unix_now_s() * 1000;
    let mut parcels: Vec<ParcelRow> = Vec::new();
    let mut numbers: Vec<(i64, String, String)> = Vec::new();
    let mut voided: Vec<String> = Vec::new();
    for message in messages {
        let Some(summary) = decode_shipment_summary(message) else {
            continue;
        };
        if message.topic == ShipmentVoided::TOPIC {
            if !summary.shipment.id.is_empty() {
                voided.push(summary.shipment.id.clone());
            }
            continue;
        }
        let Some(parcel) = parcel_of(message.tenant, &summary, now_ms) else {
            tracing::warn!("a shipment event without an id or tracking number: skipped");
            continue;
        };
        let mut own: Vec<&str> = vec![parcel.tracking_number.as_str()];
        for n in summary
            .shipment
            .segments
            .iter()
            .filter_map(|s| s.tracking_number.as_deref())
        {
            if !own.contains(&n) {
                own.push(n);
            }
        }
        for n in own {
            numbers.push((message.tenant, n.to_owned(), parcel.shipment_id.clone()));
        }
        parcels.push(parcel);
    }
    store::insert_parcels(tx, &parcels)?;
    store::insert_numbers(tx, &numbers)?;
    let mut tenants: Vec<i64> = numbers.iter().map(|(t, _, _)| *t).collect();
    tenants.sort_unstable();
    tenants.dedup();
    for tenant in tenants {
        let of_tenant: Vec<&str> = numbers
            .iter()
            .filter(|(t, _, _)| *t == tenant)
            .map(|(_, n, _)| n.as_str())
            .collect();
        for number in store::numbers_waited_for(tx, tenant, &of_tenant)? {
            if let Some(shipment) = store::number_owner(tx, tenant, &number)?
                && let Some(current) = store::parcel(tx, &shipment)?
            {
                apply_waiting(tx, &current, &number, now_ms)?;
            }
        }
    }
    for id in voided {
        store::set_voided(tx, &id)?;
    }
    Ok(())
}

/// The parcel a shipment event describes; `None` without an id or a tracking number.
pub fn parcel_of(tenant: i64, summary: &ShipmentSummary, registered_ms: i64) -> Option<ParcelRow> {
    let s = &summary.shipment;
    let registered = Derived::registered();
    Some(ParcelRow {
        shipment_id: Some(s.id.clone()).filter(|id| !id.is_empty())?,
        tenant,
        customer: summary.customer.clone(),
        tracking_number: s.tracking_number.clone()?,
        carrier: s.carrier.clone(),
        service: s.service.clone(),
        lane: lane(&s.shipper.country, &s.recipient.country),
        destination: s.recipient.country.clone(),
        transit_max: s.transit_days.max,
        registered_ms,
        voided: s.status == "voided",
        status: registered.status.as_str().to_owned(),
        sub_status: registered.sub_status,
        status_ms: None,
        decider: None,
        changes: 0,
        activity_ms: registered_ms,
    })
}

/// Registers the shipment of a `shipment.created` / `.relabelled` event (as the relay hands
/// it to the tracking component).
pub fn register(
    tx: &mut Tx<'_>,
    tenant: i64,
    change: &ShipmentChange,
    now_ms: i64,
) -> Result<(), DbError> {
    let summary: ShipmentSummary = serde_json::to_value(change)
        .and_then(serde_json::from_value)
        .map_err(|e| DbError::Backend(format!("a shipment event: {e}")))?;
    register_summary(tx, tenant, &summary, now_ms)
}

/// Registers the shipment's parcel and each issued number, then applies what waited.
fn register_summary(
    tx: &mut Tx<'_>,
    tenant: i64,
    summary: &ShipmentSummary,
    now_ms: i64,
) -> Result<(), DbError> {
    let Some(parcel) = parcel_of(tenant, summary, now_ms) else {
        tracing::warn!("a shipment event without an id or tracking number: skipped");
        return Ok(());
    };
    store::insert_parcel(tx, &parcel)?;
    let mut numbers: Vec<&str> = vec![parcel.tracking_number.as_str()];
    for n in summary
        .shipment
        .segments
        .iter()
        .filter_map(|s| s.tracking_number.as_deref())
    {
        if !numbers.contains(&n) {
            numbers.push(n);
        }
    }
    for number in numbers {
        // Events rarely wait for a number: look for them before reading the parcel.
        if store::insert_number(tx, tenant, number, &parcel.shipment_id)?
            && store::any_waiting(tx, tenant, number)?
            && let Some(current) = store::parcel(tx, &parcel.shipment_id)?
        {
            apply_waiting(tx, &current, number, now_ms)?;
        }
    }
    Ok(())
}
