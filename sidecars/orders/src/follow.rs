//! What the orders component follows of other components, through the outbox (durable,
//! idempotent): `tracking.updated` moves a shipment's `status` (orders-labels.md: it
//! becomes `delivered` or `returned` with the tracking status, else `in_transit` from its
//! first scan). A voided shipment stays voided; a status never moves back from `delivered`
//! or `returned` to `in_transit`, and only `delivered` replaces `returned` (tracking.md).
//! `parcel.weighed` re-prices the shipment at the measured weight (`ship::reweigh`).

use crate::model::ShipmentStatus;
use crate::store;
use crossdock_db::outbox::{Handler, Message, Subscription};
use crossdock_db::{DbError, Tx};
use crossdock_events::{Event, ParcelWeighed, TrackingUpdated, decode};
use crossdock_http::rfc3339;
use serde_json::json;
use std::sync::Arc;

pub const TRACKING_CONSUMER: &str = "orders.tracking";

pub const WEIGHED_CONSUMER: &str = "orders.weighed";

pub fn subscriptions(orders: Arc<crate::Orders>) -> Vec<Subscription> {
    vec![
        Subscription {
            consumer: TRACKING_CONSUMER.to_owned(),
            topics: vec![TrackingUpdated::TOPIC.to_owned()],
            handler: Handler::Durable(Arc::new(on_tracking)),
        },
        Subscription {
            consumer: WEIGHED_CONSUMER.to_owned(),
            topics: vec![ParcelWeighed::TOPIC.to_owned()],
            handler: Handler::Durable(Arc::new(move |tx, message| {
                let Some(w) = decode::<ParcelWeighed>(message) else {
                    return Ok(());
                };
                crate::ship::reweigh(
                    tx,
                    orders.pricing.as_ref(),
                    &orders.config.usd_per_sdr,
                    message.tenant,
                    &w.shipment_id,
                    w.weight_g,
                    message.created_at,
                )
                .or_else(|e| match e {
                    // Storage failures are retried; anything else would fail again, so it
                    // is logged and the event passed (the weight stays on the timeline).
                    crate::OrdersError::Db(e) => Err(e),
                    other => {
                        tracing::warn!(shipment = %w.shipment_id, error = %other, "re-weighing failed");
                        Ok(())
                    }
                })
            })),
        },
    ]
}

/// The shipment status a tracking status means; `None`: no change (no scan yet).
pub fn shipment_status_of(tracking_status: &str) -> Option<ShipmentStatus> {
    match tracking_status {
        "delivered" => Some(ShipmentStatus::Delivered),
        "returned" => Some(ShipmentStatus::Returned),
        "info_received" => None,
        _ => Some(ShipmentStatus::InTransit),
    }
}

/// Whether a shipment in `from` moves to `to` on tracking's word.
pub fn moves(from: ShipmentStatus, to: ShipmentStatus) -> bool {
    use ShipmentStatus::*;
    match (from, to) {
        (Voided, _) => false,
        (a, b) if a == b => false,
        (Labelled | HandedOver | InTransit, _) => true,
        (Returned, Delivered) => true,
        _ => false,
    }
}

fn on_tracking(tx: &mut Tx<'_>, message: &Message) -> Result<(), DbError> {
    let Some(update) = decode::<TrackingUpdated>(message) else {
        return Ok(());
    };
    let Some(to) = shipment_status_of(&update.status) else {
        return Ok(());
    };
    let row = match store::shipment_by_id(tx, message.tenant, &update.shipment_id) {
        Ok(Some(row)) => row,
        Ok(None) => return Ok(()),
        Err(e) => return Err(DbError::Backend(e.to_string())),
    };
    let Some(from) = ShipmentStatus::parse(&row.status) else {
        return Ok(());
    };
    if !moves(from, to) {
        return Ok(());
    }
    let mut doc: serde_json::Value = serde_json::from_str(&row.doc)
        .map_err(|e| DbError::Backend(format!("shipment {}: {e}", row.id)))?;
    let now = message.created_at;
    doc["status"] = json!(to.as_str());
    doc["updated_at"] = json!(rfc3339(now));
    store::update_shipment(
        tx,
        row.tenant,
        &row.id,
        to.as_str(),
        row.live,
        &doc.to_string(),
        now,
    )
    .map_err(|e| DbError::Backend(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ShipmentStatus::*;

    #[test]
    fn tracking_moves_shipments_forward_only() {
        assert_eq!(shipment_status_of("at_hub"), Some(InTransit));
        assert_eq!(shipment_status_of("exception"), Some(InTransit));
        assert_eq!(shipment_status_of("delivered"), Some(Delivered));
        assert_eq!(shipment_status_of("info_received"), None);
        assert!(moves(Labelled, InTransit));
        assert!(moves(HandedOver, Delivered));
        assert!(moves(Returned, Delivered));
        assert!(!moves(Delivered, InTransit));
        assert!(!moves(Delivered, Returned));
        assert!(!moves(Voided, Delivered));
        assert!(!moves(InTransit, InTransit));
    }
}
