-- The orders component's tables (../../src/store.rs). Documents (`doc`) are the canonical
-- JSON the API answers; the columns beside them are what lists filter and sort by.
CREATE TABLE orders_orders (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT    NOT NULL UNIQUE,
    tenant_id    INTEGER NOT NULL,
    customer     TEXT    NOT NULL,
    reference    TEXT    NOT NULL,
    status       TEXT    NOT NULL,
    source       TEXT    NOT NULL,
    input        TEXT    NOT NULL,
    problems     TEXT    NOT NULL,
    shipment_id  TEXT,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    UNIQUE (tenant_id, customer, reference)
);
CREATE INDEX orders_orders_by_tenant ON orders_orders (tenant_id, seq);

CREATE TABLE orders_shipments (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT    NOT NULL UNIQUE,
    tenant_id    INTEGER NOT NULL,
    customer     TEXT    NOT NULL,
    order_id     TEXT    NOT NULL,
    status       TEXT    NOT NULL,
    service      TEXT    NOT NULL,
    live         INTEGER NOT NULL,
    doc          TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX orders_shipments_by_tenant ON orders_shipments (tenant_id, seq);
-- At most one live (not voided) shipment per order, whatever races.
CREATE UNIQUE INDEX orders_shipments_live ON orders_shipments (order_id) WHERE live = 1;

-- Every number ever issued: never twice (per tenant), found by any segment's number.
CREATE TABLE orders_numbers (
    tenant_id    INTEGER NOT NULL,
    number       TEXT    NOT NULL,
    shipment_id  TEXT    NOT NULL,
    segment      INTEGER NOT NULL,
    issued_at    INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, number)
);
CREATE INDEX orders_numbers_by_shipment ON orders_numbers (shipment_id);

CREATE TABLE orders_ranges (
    seq               INTEGER PRIMARY KEY AUTOINCREMENT,
    id                TEXT    NOT NULL UNIQUE,
    tenant_id         INTEGER NOT NULL,
    carrier           TEXT    NOT NULL,
    format            TEXT    NOT NULL,
    service_indicator TEXT    NOT NULL,
    country           TEXT    NOT NULL,
    prefix            TEXT    NOT NULL,
    first             INTEGER NOT NULL,
    last              INTEGER NOT NULL,
    next              INTEGER NOT NULL,
    created_at        INTEGER NOT NULL
);
CREATE INDEX orders_ranges_by_carrier ON orders_ranges (tenant_id, carrier, seq);

-- Installation-wide sequences (the `CD` numbers of carriers without ranges).
CREATE TABLE orders_sequences (
    name  TEXT    PRIMARY KEY,
    next  INTEGER NOT NULL
);
INSERT INTO orders_sequences (name, next) VALUES ('CD', 1);

-- The events of shipments as the API lists them (`GET /v1/events`); the same change also
-- enters the outbox in its transaction.
CREATE TABLE orders_events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT    NOT NULL UNIQUE,
    tenant_id   INTEGER NOT NULL,
    customer    TEXT    NOT NULL,
    type        TEXT    NOT NULL,
    subject     TEXT    NOT NULL,
    doc         TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX orders_events_by_tenant ON orders_events (tenant_id, seq);
CREATE INDEX orders_events_by_subject ON orders_events (tenant_id, subject, seq);

-- Inbound webhook endpoints for ERPs; the secret is kept (it signs), never shown again.
CREATE TABLE orders_inbound (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT    NOT NULL UNIQUE,
    tenant_id   INTEGER NOT NULL,
    customer    TEXT    NOT NULL,
    secret      TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);
-- A repeated webhook-id gets its first answer.
CREATE TABLE orders_inbound_seen (
    endpoint_id TEXT    NOT NULL,
    webhook_id  TEXT    NOT NULL,
    status      INTEGER NOT NULL,
    body        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (endpoint_id, webhook_id)
);
