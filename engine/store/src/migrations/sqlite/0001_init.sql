-- crossdock store, schema version 1 (SQLite).
-- Every tenant row carries tenant_id, and every reference between a tenant's rows goes
-- through (tenant_id, id), so the database itself refuses a row that points at another
-- tenant's book. Ids use AUTOINCREMENT so they are never reused.

CREATE TABLE tenants (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT    NOT NULL UNIQUE CHECK (name <> ''),
    created_at  INTEGER NOT NULL
);

-- id: the key id from the presented key (cdk_<id>_<secret>), unique across tenants because
-- a presented key names no tenant. secret_sha256: SHA-256 of the secret part; the secret
-- itself is never stored. roles: comma-separated, canonical order (shipper,analyst,admin).
CREATE TABLE api_keys (
    id             TEXT    PRIMARY KEY,
    tenant_id      INTEGER NOT NULL REFERENCES tenants (id),
    customer       TEXT,
    roles          TEXT    NOT NULL,
    label          TEXT    NOT NULL,
    secret_sha256  BLOB    NOT NULL CHECK (length(secret_sha256) = 32),
    created_at     INTEGER NOT NULL,
    revoked_at     INTEGER
);
CREATE INDEX api_keys_by_tenant ON api_keys (tenant_id);

-- A stored rate book: its archive and check report, once per (tenant, content hash).
CREATE TABLE books (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id     INTEGER NOT NULL REFERENCES tenants (id),
    content_hash  TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    label         TEXT    NOT NULL,
    report_json   TEXT    NOT NULL,
    uploaded_by   TEXT    NOT NULL,
    uploaded_at   INTEGER NOT NULL,
    size_bytes    INTEGER NOT NULL CHECK (size_bytes = length(archive)),
    archive       BLOB    NOT NULL,
    UNIQUE (tenant_id, content_hash),
    UNIQUE (tenant_id, id)
);

-- Every change of a tenant's active book, appended, never updated. The tenant's newest row
-- (highest seq) is the truth: book_id is active, previous_book_id is what rollback returns to.
CREATE TABLE activations (
    seq               INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id         INTEGER NOT NULL REFERENCES tenants (id),
    book_id           INTEGER NOT NULL,
    previous_book_id  INTEGER,
    at                INTEGER NOT NULL,
    actor             TEXT    NOT NULL,
    FOREIGN KEY (tenant_id, book_id) REFERENCES books (tenant_id, id),
    FOREIGN KEY (tenant_id, previous_book_id) REFERENCES books (tenant_id, id)
);
CREATE INDEX activations_by_tenant ON activations (tenant_id, seq);

CREATE TABLE audit_log (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id     INTEGER NOT NULL REFERENCES tenants (id),
    at            INTEGER NOT NULL,
    actor         TEXT    NOT NULL,
    action        TEXT    NOT NULL CHECK (action IN ('publish', 'activate', 'rollback')),
    from_book     INTEGER,
    to_book       INTEGER,
    content_hash  TEXT,
    FOREIGN KEY (tenant_id, from_book) REFERENCES books (tenant_id, id),
    FOREIGN KEY (tenant_id, to_book) REFERENCES books (tenant_id, id)
);
CREATE INDEX audit_log_by_tenant ON audit_log (tenant_id, id);
