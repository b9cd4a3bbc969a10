-- Idempotency-Key answers (../../idempotency.rs): status 0 is a claim whose request runs.
CREATE TABLE db_idempotency (
    tenant_id    BIGINT NOT NULL,
    idem_key     TEXT    NOT NULL,
    fingerprint  BYTEA    NOT NULL,
    status       BIGINT NOT NULL,
    content_type TEXT    NOT NULL,
    body         BYTEA    NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, idem_key)
);
CREATE INDEX db_idempotency_by_age ON db_idempotency (created_at);
