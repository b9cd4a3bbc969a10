//! # crossdock-events: the event catalogue
//!
//! Every event one component emits and another consumes is a type here, with its topic and
//! version. This crate is the only serde components share (rule 6 of
//! `../shared/design/components.md`): adding an optional field is additive; changing or
//! removing one is a new version, and consumers keep reading the old one until its events
//! have aged out of the outbox.
//!
//! Producers write events with [`emit`] inside the transaction that makes the change;
//! consumers read them back with [`decode`], which answers `None` for another topic or
//! version.

use crossdock_db::outbox::{Emit, Message};
use crossdock_db::{DbError, Tx};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// An event type of the catalogue.
pub trait Event: Serialize + DeserializeOwned {
    /// `resource.happened`, e.g. `book.activated`.
    const TOPIC: &'static str;
    const VERSION: i64;
    /// The component that emits it.
    const PRODUCER: &'static str;
}

/// Writes `event` to the outbox in `tx`; its sequence value.
pub fn emit<E: Event>(tx: &mut Tx<'_>, tenant: i64, at: i64, event: &E) -> Result<i64, DbError> {
    let payload = serde_json::to_string(event)
        .map_err(|e| DbError::Backend(format!("event {}: {e}", E::TOPIC)))?;
    tx.emit(&Emit {
        component: E::PRODUCER,
        tenant,
        topic: E::TOPIC,
        version: E::VERSION,
        payload: &payload,
        at,
    })
}

/// Writes several events of type `E` of one tenant in `tx`, many per statement.
pub fn emit_all<E: Event>(
    tx: &mut Tx<'_>,
    tenant: i64,
    at: i64,
    events: &[E],
) -> Result<(), DbError> {
    let payloads = events
        .iter()
        .map(|e| {
            serde_json::to_string(e)
                .map_err(|err| DbError::Backend(format!("event {}: {err}", E::TOPIC)))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let emits: Vec<Emit<'_>> = payloads
        .iter()
        .map(|payload| Emit {
            component: E::PRODUCER,
            tenant,
            topic: E::TOPIC,
            version: E::VERSION,
            payload,
            at,
        })
        .collect();
    tx.emit_many(&emits)
}

/// Writes an event of type `E` already serialised (`payload`, what `serde_json` makes of an
/// `E`) to the outbox in `tx`: for writers that render outside their transaction.
pub fn emit_text<E: Event>(
    tx: &mut Tx<'_>,
    tenant: i64,
    at: i64,
    payload: &str,
) -> Result<i64, DbError> {
    tx.emit(&Emit {
        component: E::PRODUCER,
        tenant,
        topic: E::TOPIC,
        version: E::VERSION,
        payload,
        at,
    })
}

/// The event in `message` if it is of type `E` (topic and version), else `None`. A payload
/// that does not parse is `None` too: the consumer skips what it cannot read rather than
/// stall every later event behind it.
pub fn decode<E: Event>(message: &Message) -> Option<E> {
    if message.topic != E::TOPIC || message.version != E::VERSION {
        return None;
    }
    serde_json::from_str(&message.payload).ok()
}

/// `book.activated` v1: a tenant's book in force changed (an activation or a rollback).
/// Consumers re-read the tenant's active book rather than trust the order of events.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct BookActivated {
    pub book_id: i64,
    pub previous_book_id: Option<i64>,
    pub content_hash: String,
    pub actor: String,
    /// `activate` or `rollback`.
    pub how: String,
}

impl Event for BookActivated {
    const TOPIC: &'static str = "book.activated";
    const VERSION: i64 = 1;
    const PRODUCER: &'static str = "rating";
}

/// `key.revoked` v1: an API key was revoked; every process forgets it at once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct KeyRevoked {
    pub key_id: String,
    pub actor: String,
}

impl Event for KeyRevoked {
    const TOPIC: &'static str = "key.revoked";
    const VERSION: i64 = 1;
    const PRODUCER: &'static str = "identity";
}

/// What every shipment event carries (orders-labels.md, "Events and roles"): the event's
/// public id, the shipment after the change as the API answers it, and for a relabel the
/// segment issued. The shipment stays JSON here: its shape is the API's, owned by the
/// orders component, and consumers read the fields they need.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct ShipmentChange {
    /// `evt_…`, the id `GET /v1/events` and webhooks give it.
    pub event_id: String,
    pub customer: String,
    pub shipment: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u32>,
    /// For `shipment.repriced`: the prices before (`sell`, `cost`, `lines`, `landed_cost`,
    /// `chargeable_weight_g`), as the shipment showed them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<serde_json::Value>,
}

/// What a consumer that only follows parcels needs of a shipment event, read straight from
/// its payload without building the whole shipment document (the tracking component
/// registers every shipment from these; a document is a few kilobytes of JSON).
#[derive(Clone, Debug, Default, PartialEq, serde::Deserialize)]
pub struct ShipmentSummary {
    pub customer: String,
    pub shipment: ShipmentFacts,
}

/// The facts of [`ShipmentSummary`]; absent fields read as empty.
#[derive(Clone, Debug, Default, PartialEq, serde::Deserialize)]
#[serde(default)]
pub struct ShipmentFacts {
    pub id: String,
    pub tracking_number: Option<String>,
    pub carrier: String,
    pub service: String,
    pub status: String,
    pub transit_days: TransitDays,
    pub shipper: Place,
    pub recipient: Place,
    pub segments: Vec<SegmentNumber>,
}

#[derive(Clone, Debug, Default, PartialEq, serde::Deserialize)]
#[serde(default)]
pub struct TransitDays {
    pub max: Option<i64>,
}

#[derive(Clone, Debug, Default, PartialEq, serde::Deserialize)]
#[serde(default)]
pub struct Place {
    pub country: String,
}

#[derive(Clone, Debug, Default, PartialEq, serde::Deserialize)]
#[serde(default)]
pub struct SegmentNumber {
    pub tracking_number: Option<String>,
}

/// The [`ShipmentSummary`] of a `shipment.*` event of version 1, else `None`.
pub fn decode_shipment_summary(message: &Message) -> Option<ShipmentSummary> {
    if !message.topic.starts_with("shipment.") || message.version != 1 {
        return None;
    }
    serde_json::from_str(&message.payload).ok()
}

macro_rules! shipment_event {
    ($name:ident, $topic:literal, $doc:literal) => {
        #[doc = $doc]
        #[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub ShipmentChange);

        impl Event for $name {
            const TOPIC: &'static str = $topic;
            const VERSION: i64 = 1;
            const PRODUCER: &'static str = "orders";
        }
    };
}

shipment_event!(
    ShipmentCreated,
    "shipment.created",
    "`shipment.created` v1: an order was shipped; segment 1 is issued."
);
shipment_event!(
    ShipmentHandedOver,
    "shipment.handed_over",
    "`shipment.handed_over` v1: the parcel left the shipper for the first carrier."
);
shipment_event!(
    ShipmentVoided,
    "shipment.voided",
    "`shipment.voided` v1: the shipment was voided; its numbers are never reissued."
);
shipment_event!(
    ShipmentRelabelled,
    "shipment.relabelled",
    "`shipment.relabelled` v1: segment `seq` was issued."
);
shipment_event!(
    ShipmentRepriced,
    "shipment.repriced",
    "`shipment.repriced` v1: a weighed parcel was priced again."
);

/// `tracking.updated` v1: an accepted tracking event changed a parcel's `status` or
/// `sub_status` (tracking.md, "Customer webhooks"). Customers' webhooks carry it; the orders
/// component follows it with the shipment's `status`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct TrackingUpdated {
    /// `evt_…`: the webhook's `id` and `webhook-id`.
    pub event_id: String,
    pub shipment_id: String,
    pub customer: String,
    pub tracking_number: String,
    /// The parcel's changes so far, from 1.
    pub sequence: i64,
    pub status: String,
    pub sub_status: String,
    /// RFC 3339 UTC; `None` only for a parcel without events.
    pub status_time: Option<String>,
    pub previous_status: String,
    /// When the change was accepted (RFC 3339 UTC) and in milliseconds, for endpoints
    /// created after it.
    pub created_at: String,
    pub created_ms: i64,
}

impl Event for TrackingUpdated {
    const TOPIC: &'static str = "tracking.updated";
    const VERSION: i64 = 1;
    const PRODUCER: &'static str = "tracking";
}

/// `parcel.weighed` v1: a hub `weigh` scan measured a registered parcel; the orders
/// component re-prices the shipment at that weight (orders-labels.md, "Shipments").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ParcelWeighed {
    /// The scan's event id (`evt_…`).
    pub event_id: String,
    pub shipment_id: String,
    pub weight_g: i64,
}

impl Event for ParcelWeighed {
    const TOPIC: &'static str = "parcel.weighed";
    const VERSION: i64 = 1;
    const PRODUCER: &'static str = "tracking";
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossdock_db::outbox::Position;

    fn message(topic: &str, version: i64, payload: &str) -> Message {
        Message {
            position: Position::default(),
            component: "identity".into(),
            tenant: 1,
            topic: topic.into(),
            version,
            payload: payload.into(),
            created_at: 0,
        }
    }

    #[test]
    fn a_shipment_summary_reads_the_facts_of_any_shipment_event() {
        let change = ShipmentChange {
            event_id: "evt_1".into(),
            customer: "acme".into(),
            shipment: serde_json::json!({"id": "shp_1", "tracking_number": "CD1", "carrier": "XB", "service": "S",
                "status": "labelled", "transit_days": {"min": 5, "max": 8}, "shipper": {"country": "CN", "name": "x"},
                "recipient": {"country": "DE"}, "segments": [{"seq": 1, "tracking_number": "CD1"}, {"seq": 2, "tracking_number": null}],
                "contents": [{"description": "many other fields"}]}),
            seq: None,
            previous: None,
        };
        let text = serde_json::to_string(&ShipmentCreated(change)).unwrap();
        let mut m = message("shipment.created", 1, &text);
        let s = decode_shipment_summary(&m).expect("a summary");
        assert_eq!(
            (
                s.customer.as_str(),
                s.shipment.id.as_str(),
                s.shipment.transit_days.max
            ),
            ("acme", "shp_1", Some(8))
        );
        assert_eq!(
            (
                s.shipment.shipper.country.as_str(),
                s.shipment.recipient.country.as_str()
            ),
            ("CN", "DE")
        );
        assert_eq!(
            s.shipment
                .segments
                .iter()
                .map(|x| x.tracking_number.clone())
                .collect::<Vec<_>>(),
            vec![Some("CD1".to_owned()), None]
        );
        m.topic = "key.revoked".into();
        assert_eq!(decode_shipment_summary(&m), None);
    }

    #[test]
    fn events_decode_only_as_their_own_topic_and_version() {
        let m = message("key.revoked", 1, r#"{"key_id":"abc","actor":"key:x"}"#);
        assert_eq!(
            decode::<KeyRevoked>(&m),
            Some(KeyRevoked {
                key_id: "abc".into(),
                actor: "key:x".into()
            })
        );
        assert_eq!(decode::<BookActivated>(&m), None);
        assert_eq!(
            decode::<KeyRevoked>(&message("key.revoked", 2, r#"{"key_id":"abc","actor":""}"#)),
            None
        );
        assert_eq!(
            decode::<KeyRevoked>(&message("key.revoked", 1, "not json")),
            None
        );
    }
}
