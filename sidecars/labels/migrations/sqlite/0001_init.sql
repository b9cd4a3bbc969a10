-- The labels component's table (../../src/component.rs): one row per issued segment, with
-- the shipment as it was when the segment was issued. Labels are rendered from this row
-- alone, so every fetch, restart and replica gives the same bytes.
CREATE TABLE labels_labels (
    tenant_id        INTEGER NOT NULL,
    shipment_id      TEXT    NOT NULL,
    seq              INTEGER NOT NULL,
    customer         TEXT    NOT NULL,
    tracking_number  TEXT    NOT NULL,
    shipment         TEXT    NOT NULL,
    voided           INTEGER NOT NULL,
    created_at       INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, shipment_id, seq)
);
