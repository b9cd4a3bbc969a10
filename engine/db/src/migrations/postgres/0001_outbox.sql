-- The event outbox (see ../../outbox.rs). Sequence values can commit out of order on
-- PostgreSQL, so each row also keeps the id of the transaction that wrote it, and readers
-- walk (txid, seq) only below the oldest transaction still running: every row there is final.
CREATE TABLE db_outbox (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    txid        BIGINT NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
    component   TEXT   NOT NULL,
    tenant_id   BIGINT NOT NULL,
    topic       TEXT   NOT NULL,
    version     BIGINT NOT NULL,
    payload     TEXT   NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX db_outbox_by_position ON db_outbox (txid, seq);
CREATE INDEX db_outbox_by_age ON db_outbox (created_at);

CREATE TABLE db_cursors (
    consumer    TEXT   PRIMARY KEY,
    txid        BIGINT NOT NULL,
    seq         BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
