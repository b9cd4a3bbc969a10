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
    Event, ShipmentChange, ShipmentCreated, ShipmentRelabelled, ShipmentVoided, decode,
};
use serde_json::Value;
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
        handler: Handler::Durable(Arc::new(on_shipment)),
    }
}

fn on_shipment(tx: &mut Tx<'_>, message: &Message) -> Result<(), DbError> {
    let now_ms = crossdock_db::unix_now_s() * 1000;
    if let Some(ShipmentCreated(change)) = decode::<ShipmentCreated>(message) {
        register(tx, message.tenant, &change, now_ms)?;
    } else if let Some(ShipmentRelabelled(change)) = decode::<ShipmentRelabelled>(message) {
        register(tx, message.tenant, &change, now_ms)?;
    } else if let Some(ShipmentVoided(change)) = decode::<ShipmentVoided>(message)
        && let Some(id) = change.shipment["id"].as_str()
    {
        store::set_voided(tx, id)?;
    }
    Ok(())
}

/// The parcel a shipment document describes.
pub fn parcel_of(tenant: i64, change: &ShipmentChange, registered_ms: i64) -> Option<ParcelRow> {
    let s = &change.shipment;
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let registered = Derived::registered();
    Some(ParcelRow {
        shipment_id: s["id"].as_str()?.to_owned(),
        tenant,
        customer: change.customer.clone(),
        tracking_number: s["tracking_number"].as_str()?.to_owned(),
        carrier: text(&s["carrier"]),
        service: text(&s["service"]),
        lane: lane(
            s["shipper"]["country"].as_str().unwrap_or_default(),
            s["recipient"]["country"].as_str().unwrap_or_default(),
        ),
        destination: text(&s["recipient"]["country"]),
        transit_max: s["transit_days"]["max"].as_i64(),
        registered_ms,
        voided: s["status"].as_str() == Some("voided"),
        status: registered.status.as_str().to_owned(),
        sub_status: registered.sub_status,
        status_ms: None,
        decider: None,
        changes: 0,
        activity_ms: registered_ms,
    })
}

/// Registers the shipment's parcel and each issued number, then applies what waited.
pub fn register(
    tx: &mut Tx<'_>,
    tenant: i64,
    change: &ShipmentChange,
    now_ms: i64,
) -> Result<(), DbError> {
    let Some(parcel) = parcel_of(tenant, change, now_ms) else {
        tracing::warn!("a shipment event without an id or tracking number: skipped");
        return Ok(());
    };
    store::insert_parcel(tx, &parcel)?;
    let mut numbers: Vec<String> = vec![parcel.tracking_number.clone()];
    if let Some(segments) = change.shipment["segments"].as_array() {
        for n in segments
            .iter()
            .filter_map(|s| s["tracking_number"].as_str())
        {
            if !numbers.iter().any(|have| have == n) {
                numbers.push(n.to_owned());
            }
        }
    }
    for number in numbers {
        if store::insert_number(tx, tenant, &number, &parcel.shipment_id)?
            && let Some(current) = store::parcel(tx, &parcel.shipment_id)?
        {
            apply_waiting(tx, &current, &number, now_ms)?;
        }
    }
    Ok(())
}
