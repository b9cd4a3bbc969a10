-- The event outbox (see ../../outbox.rs). seq orders events; on SQLite every commit is
-- serialised by the one writer, so seq order is commit order and txid stays 0.
CREATE TABLE db_outbox (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    txid        INTEGER NOT NULL DEFAULT 0,
    component   TEXT    NOT NULL,
    tenant_id   INTEGER NOT NULL,
    topic       TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    payload     TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX db_outbox_by_position ON db_outbox (txid, seq);
CREATE INDEX db_outbox_by_age ON db_outbox (created_at);

-- Where each durable consumer has got to: the position of the last event it applied,
-- advanced in the transaction that applied it.
CREATE TABLE db_cursors (
    consumer    TEXT    PRIMARY KEY,
    txid        INTEGER NOT NULL,
    seq         INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
