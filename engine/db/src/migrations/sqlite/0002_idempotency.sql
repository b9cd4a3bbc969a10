-- Idempotency-Key answers (../../idempotency.rs): status 0 is a claim whose request runs.
CREATE TABLE db_idempotency (
    tenant_id    INTEGER NOT NULL,
    idem_key     TEXT    NOT NULL,
    fingerprint  BLOB    NOT NULL,
    status       INTEGER NOT NULL,
    content_type TEXT    NOT NULL,
    body         BLOB    NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, idem_key)
);
CREATE INDEX db_idempotency_by_age ON db_idempotency (created_at);
