-- crossdock store, schema version 1 (PostgreSQL). The same tables as the SQLite schema,
-- in PostgreSQL's types; see sqlite/0001_init.sql for what each table and column means.
-- Every tenant row carries tenant_id, and every reference between a tenant's rows goes
-- through (tenant_id, id), so the database itself refuses a row that points at another
-- tenant's book.

CREATE TABLE tenants (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        TEXT   NOT NULL UNIQUE CHECK (name <> ''),
    created_at  BIGINT NOT NULL
);

CREATE TABLE api_keys (
    id             TEXT   PRIMARY KEY,
    tenant_id      BIGINT NOT NULL REFERENCES tenants (id),
    customer       TEXT,
    roles          TEXT   NOT NULL,
    label          TEXT   NOT NULL,
    secret_sha256  BYTEA  NOT NULL CHECK (octet_length(secret_sha256) = 32),
    created_at     BIGINT NOT NULL,
    revoked_at     BIGINT
);
CREATE INDEX api_keys_by_tenant ON api_keys (tenant_id);

