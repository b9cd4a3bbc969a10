-- The labels component's table (../../src/component.rs): one row per issued segment, with
-- the shipment as it was when the segment was issued. Labels are rendered from this row
-- alone, so every fetch, restart and replica gives the same bytes.
CREATE TABLE labels_labels (
    tenant_id        BIGINT  NOT NULL,
    shipment_id      TEXT    NOT NULL,
    seq              BIGINT  NOT NULL,
    customer         TEXT    NOT NULL,
    tracking_number  TEXT    NOT NULL,
    shipment         TEXT    NOT NULL,
    voided           BIGINT  NOT NULL,
    created_at       BIGINT  NOT NULL,
    PRIMARY KEY (tenant_id, shipment_id, seq)
);
