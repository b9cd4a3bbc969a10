//! The labels component: `labels_labels`, the label routes, and the in-transaction
//! handlers that keep a label row for every issued segment.
//!
//! A label is written in the transaction that issues its segment (orders-labels.md: "one
//! transaction: shipment, number, label, event"): the orders component emits
//! `shipment.created` or `shipment.relabelled` there, and [`Labels::install`] has
//! registered handlers that run inside that transaction (`Db::on_emit`) and insert the
//! row. `shipment.voided` marks the shipment's labels voided the same way. The row keeps
//! what the label prints of the shipment as the event carried it (its `shipment` column:
//! the shipment's JSON cut to the keys `from_shipment` reads; rows written before the cut
//! hold the whole shipment, and render the same); `GET …/labels/{seq}.zpl|pdf` renders
//! from it alone (`from_shipment` → `render`), so reprints are byte-identical.
//!
//! What it never knows: the orders component's tables or code; it reads the shipment JSON
//! of the event catalogue's `ShipmentChange`.

use crate::model::{Address, ContentLine, Customs, CustomsForm, LabelData};
use crossdock_db::outbox::{Emit, InTxHandler};
use crossdock_db::{Db, DbError, Migration, Migrations, Tx};
use crossdock_events::{
    Event, ShipmentChange, ShipmentCreated, ShipmentRelabelled, ShipmentVoided,
};
use crossdock_http::{ApiError, Clock, Component, ErrorBody, Principal, Role};
use serde_json::Value;
use std::sync::Arc;

pub static MIGRATIONS: Migrations = Migrations {
    component: "labels",
    sqlite: &[Migration {
        version: 1,
        sql: include_str!("../migrations/sqlite/0001_init.sql"),
    }],
    postgres: &[Migration {
        version: 1,
        sql: include_str!("../migrations/postgres/0001_init.sql"),
    }],
};

/// The labels component's handle.
pub struct Labels {
    db: Db,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Labels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Labels").finish_non_exhaustive()
    }
}

impl Labels {
    pub fn new(db: Db, clock: Arc<dyn Clock>) -> Labels {
        Labels { db, clock }
    }

    /// Registers the in-transaction handlers on the database. Every process that can issue
    /// shipments must install them (the runtime does, whatever `--components` serves).
    pub fn install(self: &Arc<Labels>) {
        let me = self.clone();
        let issued: InTxHandler = Arc::new(move |tx, emit| me.on_issued(tx, emit));
        self.db.on_emit(ShipmentCreated::TOPIC, issued.clone());
        self.db.on_emit(ShipmentRelabelled::TOPIC, issued);
        let voided: InTxHandler = Arc::new(on_voided);
        self.db.on_emit(ShipmentVoided::TOPIC, voided);
    }

    pub fn component(self: &Arc<Labels>) -> Component {
        Component {
            name: "labels",
            migrations: &MIGRATIONS,
            router: http::router(self.clone()),
            subscriptions: Vec::new(),
            ready: Arc::new(|| true),
        }
    }

    fn on_issued(&self, tx: &mut Tx<'_>, emit: &Emit<'_>) -> Result<(), DbError> {
        let change: IssuedChange = serde_json::from_str(emit.payload)
            .map_err(|e| DbError::Backend(format!("{}: unreadable payload: {e}", emit.topic)))?;
        let seq = change.seq.unwrap_or(1);
        let shipment = change.shipment.into_value();
        let id = shipment["id"].as_str().unwrap_or_default();
        // A label that cannot print its data exactly (a barcode too long, say) refuses the
        // segment's issue with it, rather than leaving an issued segment without a label.
        let data = from_shipment(&shipment, seq).ok_or_else(|| {
            DbError::Backend(format!("shipment {id}: segment {seq} has no number"))
        })?;
        data.check()
            .map_err(|e| DbError::Backend(format!("shipment {id}, segment {seq}: {e}")))?;
        let now = self.clock.now_unix();
        tx.execute(
            "INSERT INTO labels_labels (tenant_id, shipment_id, seq, customer, tracking_number, shipment, voided, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 0, $7) ON CONFLICT (tenant_id, shipment_id, seq) DO NOTHING",
            &[&emit.tenant, &id, &i64::from(seq), &change.customer, &data.tracking_number, &shipment.to_string(), &now],
        )?;
        Ok(())
    }
}

/// A `shipment.created` or `shipment.relabelled` payload as the labels component reads it:
/// of the shipment, only what a label prints (the keys [`from_shipment`] reads); the rest
/// is skipped unread. The row keeps these keys alone: a label row is about a third of the
/// shipment, and rendering from it gives what rendering from the whole shipment gives.
#[derive(serde::Deserialize)]
struct IssuedChange {
    customer: String,
    #[serde(default)]
    seq: Option<u32>,
    shipment: Printed,
}

/// The printed keys of a shipment, each as it came (missing: `null`).
#[derive(serde::Deserialize)]
struct Printed {
    #[serde(default)]
    id: Value,
    #[serde(default)]
    service: Value,
    #[serde(default)]
    zone: Value,
    #[serde(default)]
    ship_date: Value,
    #[serde(default)]
    customs_form: Value,
    #[serde(default)]
    customs_category: Value,
    #[serde(default)]
    declared_value: Value,
    #[serde(default)]
    parcel: Value,
    #[serde(default)]
    shipper: Value,
    #[serde(default)]
    recipient: Value,
    #[serde(default)]
    contents: Value,
    #[serde(default)]
    segments: Value,
}

impl Printed {
    fn into_value(self) -> Value {
        let fields = [
            ("id", self.id),
            ("service", self.service),
            ("zone", self.zone),
            ("ship_date", self.ship_date),
            ("customs_form", self.customs_form),
            ("customs_category", self.customs_category),
            ("declared_value", self.declared_value),
            ("parcel", self.parcel),
            ("shipper", self.shipper),
            ("recipient", self.recipient),
            ("contents", self.contents),
            ("segments", self.segments),
        ];
        Value::Object(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    }
}

fn change_of(emit: &Emit<'_>) -> Result<ShipmentChange, DbError> {
    serde_json::from_str(emit.payload)
        .map_err(|e| DbError::Backend(format!("{}: unreadable payload: {e}", emit.topic)))
}

fn on_voided(tx: &mut Tx<'_>, emit: &Emit<'_>) -> Result<(), DbError> {
    let change = change_of(emit)?;
    let id = change.shipment["id"].as_str().unwrap_or_default();
    tx.execute(
        "UPDATE labels_labels SET voided = 1 WHERE tenant_id = $1 AND shipment_id = $2",
        &[&emit.tenant, &id],
    )?;
    Ok(())
}

/// A stored label row.
struct Row {
    customer: String,
    shipment: String,
    voided: bool,
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

fn opt(v: &Value) -> Option<String> {
    v.as_str().filter(|s| !s.is_empty()).map(str::to_owned)
}

fn address(v: &Value) -> Address {
    Address {
        name: text(&v["name"]),
        company: opt(&v["company"]),
        line1: text(&v["line1"]),
        line2: opt(&v["line2"]),
        city: text(&v["city"]),
        region: opt(&v["region"]),
        postcode: opt(&v["postcode"]),
        country: text(&v["country"]),
    }
}

/// What the label of segment `seq` prints, from the shipment as stored. `None` when the
/// shipment has no such issued segment.
pub fn from_shipment(shipment: &Value, seq: u32) -> Option<LabelData> {
    let segments = shipment["segments"].as_array()?;
    let segment = segments
        .iter()
        .find(|s| s["seq"].as_u64() == Some(u64::from(seq)))?;
    let number = segment["tracking_number"].as_str()?;
    let recipient = address(&shipment["recipient"]);
    let country_name = crossdock_refdata::country(&recipient.country)
        .map(|c| c.name().to_uppercase())
        .unwrap_or_else(|| recipient.country.clone());
    let currency = text(&shipment["declared_value"]["currency"]);
    let lines = shipment["contents"]
        .as_array()
        .map(|ls| {
            ls.iter()
                .map(|l| ContentLine {
                    description: text(&l["description"]),
                    quantity: l["quantity"]
                        .as_u64()
                        .and_then(|q| u32::try_from(q).ok())
                        .unwrap_or(1),
                    value: text(&l["value"]),
                    currency: currency.clone(),
                    hs_code: opt(&l["hs_code"]),
                    origin_country: opt(&l["origin_country"]),
                })
                .collect()
        })
        .unwrap_or_default();
    Some(LabelData {
        sender: address(&shipment["shipper"]),
        recipient,
        recipient_country_name: country_name,
        service: text(&shipment["service"]),
        carrier: text(&segment["carrier"]),
        segment_seq: seq,
        segment_count: u32::try_from(segments.len()).unwrap_or(u32::MAX),
        segment_kind: text(&segment["kind"]),
        zone: text(&shipment["zone"]),
        weight_g: shipment["parcel"]["weight_g"]
            .as_u64()
            .and_then(|w| u32::try_from(w).ok())
            .unwrap_or(0),
        ship_date: text(&shipment["ship_date"]),
        tracking_number: number.to_owned(),
        shipment_id: text(&shipment["id"]),
        customs: Customs {
            form: if shipment["customs_form"] == "CN22" {
                CustomsForm::Cn22
            } else {
                CustomsForm::Cn23
            },
            category: opt(&shipment["customs_category"])
                .unwrap_or_else(|| "sale_of_goods".to_owned()),
            lines,
            total: text(&shipment["declared_value"]["amount"]),
            currency,
        },
    })
}

mod http {
    use super::*;
    use axum::extract::{Path, State};
    use axum::http::header;
    use axum::response::{IntoResponse, Response};
    use utoipa_axum::router::OpenApiRouter;
    use utoipa_axum::routes;

    pub(super) fn router(labels: Arc<Labels>) -> OpenApiRouter {
        OpenApiRouter::new()
            .routes(routes!(get_label))
            .with_state(labels)
    }

    /// A segment's label: `{seq}.zpl` (ZPL II, 203 dpi) or `{seq}.pdf` (one 4×6 in page).
    #[utoipa::path(get, path = "/v1/shipments/{id}/labels/{file}", tag = "labels", security(("api_key" = [])),
        params(("id" = String, Path), ("file" = String, Path, description = "`{seq}.zpl` or `{seq}.pdf`")),
        responses(
            (status = 200, description = "the label", content_type = "application/zpl"),
            (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
            (status = 404, description = "no such shipment or issued segment", body = ErrorBody),
            (status = 409, description = "the shipment is voided", body = ErrorBody)))]
    async fn get_label(
        State(labels): State<Arc<Labels>>,
        principal: Principal,
        Path((id, file)): Path<(String, String)>,
    ) -> Result<Response, ApiError> {
        principal.require(&[Role::Shipper, Role::Operator, Role::Admin])?;
        let (seq, pdf) = match file.rsplit_once('.') {
            Some((seq, "zpl")) => (seq, false),
            Some((seq, "pdf")) => (seq, true),
            _ => return Err(ApiError::not_found("label")),
        };
        let seq: u32 = seq.parse().map_err(|_| ApiError::not_found("label"))?;
        let tenant = principal.tenant.0;
        let (shipment_id, seq_i) = (id.clone(), i64::from(seq));
        let row = labels
            .db
            .read(move |tx| {
                let row = tx.query_opt(
                    "SELECT customer, shipment, voided FROM labels_labels WHERE tenant_id = $1 AND shipment_id = $2 AND seq = $3",
                    &[&tenant, &shipment_id, &seq_i],
                )?;
                row.map(|r| -> Result<Row, DbError> {
                    Ok(Row { customer: r.get(0)?, shipment: r.get(1)?, voided: r.get::<i64>(2)? == 1 })
                })
                .transpose()
            })
            .await
            .map_err(ApiError::from)?;
        let row = row
            .filter(|r| {
                principal
                    .customer
                    .as_deref()
                    .is_none_or(|own| own == r.customer)
            })
            .ok_or_else(|| ApiError::not_found("label"))?;
        if row.voided {
            return Err(ApiError::conflict(
                "conflict",
                "the shipment is voided; its labels are void",
            ));
        }
        let shipment: Value = serde_json::from_str(&row.shipment)
            .map_err(|e| ApiError::internal(format!("label {id}/{seq}: {e}")))?;
        let data = from_shipment(&shipment, seq).ok_or_else(|| {
            ApiError::internal(format!(
                "label {id}/{seq}: the stored shipment has no such segment"
            ))
        })?;
        let rendered = if pdf {
            crate::render::pdf(&data)
        } else {
            crate::render::zpl(&data)
        };
        let bytes = rendered.map_err(|e| ApiError::internal(format!("label {id}/{seq}: {e}")))?;
        let content_type = if pdf {
            "application/pdf"
        } else {
            "application/zpl"
        };
        Ok(([(header::CONTENT_TYPE, content_type)], bytes).into_response())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A shipment as the orders component answers it, with keys a label does not print.
    fn shipment() -> Value {
        json!({
            "id": "shp_2b7k3m4n5p6q7r8s9t2v3w4x5y", "order": "ord_x", "customer": "acme",
            "reference": "R-1", "status": "labelled", "ship_date": "2026-12-01",
            "service": "XB-EU-TRK", "carrier": "XB Line", "zone": "EU-A", "rate_book": "demo",
            "sell": {"amount": "9.80", "currency": "EUR"}, "lines": [{"code": "base", "amount": "9.80"}],
            "customs_form": "CN22", "customs_category": null,
            "declared_value": {"amount": "45.00", "currency": "EUR"}, "declared_value_sdr": "40.1",
            "tracking_number": "CD00000000018",
            "segments": [
                {"seq": 1, "kind": "linehaul", "carrier": "XB Line", "label_format": null, "tracking_number": "CD00000000018", "label": {}},
                {"seq": 2, "kind": "last_mile", "carrier": "DHL \"Paket\"", "label_format": null, "tracking_number": "CD00000000026", "label": {}},
                {"seq": 3, "kind": "last_mile", "carrier": "DHL", "label_format": null, "tracking_number": null, "label": null}
            ],
            "shipper": {"name": "Li Wei", "company": "Shenzhen Gadgets Co.", "line1": "18 Keji Rd", "city": "Shenzhen", "postcode": "518000", "country": "CN"},
            "recipient": {"name": "Anna Schmidt", "line1": "Invalidenstr. 116", "city": "Berlin", "postcode": "10115", "country": "DE"},
            "parcel": {"weight_g": 700, "length_cm": 20},
            "contents": [{"description": "Phone case", "quantity": 2, "value": "45.00", "hs_code": "392690", "origin_country": "CN"}],
            "problems": [], "created_at": "2026-12-01T08:00:00Z"
        })
    }

    /// What the handler keeps prints exactly what the whole shipment prints, for every
    /// issued segment, and holds none of the keys a label does not read.
    #[test]
    fn the_kept_keys_print_what_the_whole_shipment_prints() {
        let whole = shipment();
        for seq in [1, 2] {
            let payload =
                json!({"event_id": "evt_1", "customer": "acme", "shipment": whole, "seq": seq});
            let change: IssuedChange = serde_json::from_str(&payload.to_string()).expect("reads");
            assert_eq!(change.seq, Some(seq));
            let kept = change.shipment.into_value();
            for gone in ["sell", "lines", "order", "rate_book", "created_at"] {
                assert!(kept.get(gone).is_none(), "{gone} kept");
            }
            let (a, b) = (from_shipment(&whole, seq), from_shipment(&kept, seq));
            assert!(a.is_some());
            assert_eq!(a, b);
            let (a, b) = (a.expect("data"), b.expect("data"));
            assert_eq!(crate::render::zpl(&a).ok(), crate::render::zpl(&b).ok());
            assert_eq!(crate::render::pdf(&a).ok(), crate::render::pdf(&b).ok());
        }
        // Segment 3 is not issued: no label data.
        assert!(from_shipment(&whole, 3).is_none());
    }
}
