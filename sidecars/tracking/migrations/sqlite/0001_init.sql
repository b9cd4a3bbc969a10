-- The tracking component's tables (../../src/store.rs). Event times keep the source's text
-- (`time`, with its offset) beside the instant they name (`instant_ms`, UTC milliseconds).

-- A registered parcel: one shipment, its facts for the views and the report, and its
-- status, folded from its events as they arrive (model.rs, "Status is a maximum").
CREATE TABLE tracking_parcels (
    shipment_id     TEXT    PRIMARY KEY,
    tenant_id       INTEGER  NOT NULL,
    customer        TEXT    NOT NULL,
    tracking_number TEXT    NOT NULL,
    carrier         TEXT    NOT NULL,
    service         TEXT    NOT NULL,
    lane            TEXT    NOT NULL,
    destination     TEXT    NOT NULL,
    transit_max     INTEGER,
    registered_ms   INTEGER  NOT NULL,
    voided          INTEGER  NOT NULL DEFAULT 0,
    status          TEXT    NOT NULL,
    sub_status      TEXT    NOT NULL,
    status_ms       INTEGER,
    -- The deciding event's identity (the tie-breaker of equal keys).
    decider         TEXT,
    -- Status changes so far: the webhook's `sequence`.
    changes         INTEGER  NOT NULL DEFAULT 0,
    -- The newest event's instant, else the registration's: what "stuck" measures.
    activity_ms     INTEGER  NOT NULL,
    -- 1 once delivered or returned.
    final           INTEGER  NOT NULL DEFAULT 0
);
CREATE INDEX tracking_parcels_stuck ON tracking_parcels (tenant_id, final, activity_ms);

-- Every number a parcel answers to (segment 1's and each relabelled segment's).
CREATE TABLE tracking_numbers (
    tenant_id    INTEGER  NOT NULL,
    number       TEXT    NOT NULL,
    shipment_id  TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, number)
);
CREATE INDEX tracking_numbers_by_number ON tracking_numbers (number);

-- Every accepted event, matched or not. `identity` is the hash of the contract's identity
-- fields and the connection (hub scans: the scan id), unique per tenant: duplicates are one.
-- `id` (`evt_…`, random) is answered, never looked up, so it has no index of its own.
CREATE TABLE tracking_events (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT    NOT NULL,
    tenant_id       INTEGER  NOT NULL,
    identity        TEXT    NOT NULL,
    shipment_id     TEXT,
    tracking_number TEXT    NOT NULL,
    source          TEXT    NOT NULL,
    connection      TEXT,
    carrier         TEXT,
    time            TEXT    NOT NULL,
    instant_ms      INTEGER  NOT NULL,
    offset_s        INTEGER  NOT NULL,
    status          TEXT,
    sub_status      TEXT,
    segment         TEXT,
    code            TEXT    NOT NULL,
    description     TEXT,
    country         TEXT,
    city            TEXT,
    facility        TEXT,
    weight_g        INTEGER,
    bag             TEXT,
    -- `unknown_tracking_number` or `unknown_code` while listed as unmatched.
    unmatched       TEXT,
    received_at     INTEGER  NOT NULL,
    UNIQUE (tenant_id, identity)
);
CREATE INDEX tracking_events_by_shipment ON tracking_events (shipment_id);
CREATE INDEX tracking_events_unmatched ON tracking_events (tenant_id, tracking_number) WHERE unmatched IS NOT NULL;

-- Carrier connections: push formats with their secret, poll carriers with their cursor.
CREATE TABLE tracking_connections (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    id             TEXT    NOT NULL UNIQUE,
    tenant_id      INTEGER  NOT NULL,
    format         TEXT    NOT NULL,
    carrier        TEXT    NOT NULL,
    secret         TEXT,
    base_url       TEXT,
    token          TEXT,
    interval_s     INTEGER,
    rate_per_s     INTEGER,
    cursor         TEXT,
    next_poll_ms   INTEGER  NOT NULL DEFAULT 0,
    failures       INTEGER  NOT NULL DEFAULT 0,
    last_error     TEXT,
    created_at     INTEGER  NOT NULL
);

-- Customer webhook endpoints.
CREATE TABLE tracking_webhooks (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT    NOT NULL UNIQUE,
    tenant_id    INTEGER  NOT NULL,
    customer     TEXT,
    url          TEXT    NOT NULL,
    events       TEXT    NOT NULL,
    status       TEXT    NOT NULL,
    secret       TEXT    NOT NULL,
    created_ms   INTEGER  NOT NULL,
    updated_at   INTEGER  NOT NULL
);
CREATE INDEX tracking_webhooks_by_tenant ON tracking_webhooks (tenant_id, seq);

-- One message per endpoint and event: pending until delivered or dead.
CREATE TABLE tracking_deliveries (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint_id  TEXT    NOT NULL,
    tenant_id    INTEGER  NOT NULL,
    event_id     TEXT    NOT NULL,
    type         TEXT    NOT NULL,
    payload      TEXT    NOT NULL,
    state        TEXT    NOT NULL,
    attempts     INTEGER  NOT NULL DEFAULT 0,
    next_at_ms   INTEGER  NOT NULL,
    last_status  TEXT,
    created_ms   INTEGER  NOT NULL,
    delivered_ms INTEGER,
    dead_at      INTEGER,
    UNIQUE (endpoint_id, event_id)
);
CREATE INDEX tracking_deliveries_due ON tracking_deliveries (state, next_at_ms);
