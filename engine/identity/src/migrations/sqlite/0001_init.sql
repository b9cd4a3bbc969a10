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

