-- The tracking component's tables (../../src/store.rs). Event times keep the source's text
-- (`time`, with its offset) beside the instant they name (`instant_ms`, UTC milliseconds).

-- A registered parcel: one shipment, its facts for the views and the report, and its
-- status, folded from its events as they arrive (model.rs, "Status is a maximum").
CREATE TABLE tracking_parcels (
    shipment_id     TEXT    PRIMARY KEY,
    tenant_id       BIGINT  NOT NULL,
    customer        TEXT    NOT NULL,
    tracking_number TEXT    NOT NULL,
    carrier         TEXT    NOT NULL,
    service         TEXT    NOT NULL,
    lane            TEXT    NOT NULL,
    destination     TEXT    NOT NULL,
    transit_max     BIGINT,
    registered_ms   BIGINT  NOT NULL,
    voided          BIGINT  NOT NULL DEFAULT 0,
    status          TEXT    NOT NULL,
    sub_status      TEXT    NOT NULL,
    status_ms       BIGINT,
    -- The deciding event's identity (the tie-breaker of equal keys).
    decider         TEXT,
    -- Status changes so far: the webhook's `sequence`.
    changes         BIGINT  NOT NULL DEFAULT 0,
    -- The newest event's instant, else the registration's: what "stuck" measures.
    activity_ms     BIGINT  NOT NULL,
    -- 1 once delivered or returned.
    final           BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX tracking_parcels_stuck ON tracking_parcels (tenant_id, final, activity_ms);

-- Every number a parcel answers to (segment 1's and each relabelled segment's).
CREATE TABLE tracking_numbers (
    tenant_id    BIGINT  NOT NULL,
    number       TEXT    NOT NULL,
    shipment_id  TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, number)
);
CREATE INDEX tracking_numbers_by_number ON tracking_numbers (number);

-- Every accepted event, matched or not. `identity` is the hash of the contract's identity
-- fields and the connection (hub scans: the scan id), unique per tenant: duplicates are one.
-- `id` (`evt_…`, random) is answered, never looked up, so it has no index of its own.
CREATE TABLE tracking_events (
    seq             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id              TEXT    NOT NULL,
    tenant_id       BIGINT  NOT NULL,
    identity        TEXT    NOT NULL,
    shipment_id     TEXT,
    tracking_number TEXT    NOT NULL,
    source          TEXT    NOT NULL,
    connection      TEXT,
    carrier         TEXT,
    time            TEXT    NOT NULL,
    instant_ms      BIGINT  NOT NULL,
    offset_s        BIGINT  NOT NULL,
    status          TEXT,
    sub_status      TEXT,
    segment         TEXT,
    code            TEXT    NOT NULL,
    description     TEXT,
    country         TEXT,
    city            TEXT,
    facility        TEXT,
    weight_g        BIGINT,
    bag             TEXT,
    -- `unknown_tracking_number` or `unknown_code` while listed as unmatched.
    unmatched       TEXT,
    received_at     BIGINT  NOT NULL,
    UNIQUE (tenant_id, identity)
);
CREATE INDEX tracking_events_by_shipment ON tracking_events (shipment_id);
CREATE INDEX tracking_events_unmatched ON tracking_events (tenant_id, tracking_number) WHERE unmatched IS NOT NULL;

-- Carrier connections: push formats with their secret, poll carriers with their cursor.
CREATE TABLE tracking_connections (
    seq            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id             TEXT    NOT NULL UNIQUE,
    tenant_id      BIGINT  NOT NULL,
    format         TEXT    NOT NULL,
    carrier        TEXT    NOT NULL,
    secret         TEXT,
    base_url       TEXT,
    token          TEXT,
    interval_s     BIGINT,
    rate_per_s     BIGINT,
    cursor         TEXT,
    next_poll_ms   BIGINT  NOT NULL DEFAULT 0,
    failures       BIGINT  NOT NULL DEFAULT 0,
    last_error     TEXT,
    created_at     BIGINT  NOT NULL
);

-- Customer webhook endpoints.
CREATE TABLE tracking_webhooks (
    seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id           TEXT    NOT NULL UNIQUE,
    tenant_id    BIGINT  NOT NULL,
    customer     TEXT,
    url          TEXT    NOT NULL,
    events       TEXT    NOT NULL,
    status       TEXT    NOT NULL,
    secret       TEXT    NOT NULL,
    created_ms   BIGINT  NOT NULL,
    updated_at   BIGINT  NOT NULL
);
CREATE INDEX tracking_webhooks_by_tenant ON tracking_webhooks (tenant_id, seq);

-- One message per endpoint and event: pending until delivered or dead.
CREATE TABLE tracking_deliveries (
    seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    endpoint_id  TEXT    NOT NULL,
    tenant_id    BIGINT  NOT NULL,
    event_id     TEXT    NOT NULL,
    type         TEXT    NOT NULL,
    payload      TEXT    NOT NULL,
    state        TEXT    NOT NULL,
    attempts     BIGINT  NOT NULL DEFAULT 0,
    next_at_ms   BIGINT  NOT NULL,
    last_status  TEXT,
    created_ms   BIGINT  NOT NULL,
    delivered_ms BIGINT,
    dead_at      BIGINT,
    UNIQUE (endpoint_id, event_id)
);
CREATE INDEX tracking_deliveries_due ON tracking_deliveries (state, next_at_ms);
