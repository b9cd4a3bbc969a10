-- rating, version 1: the rate-book tables exactly as crossdock 0.1 created them (its
-- single-track version 1, with identity's tables). Version 2 gives them rating's prefix.
CREATE TABLE books (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id     BIGINT NOT NULL REFERENCES tenants (id),
    content_hash  TEXT   NOT NULL,
    name          TEXT   NOT NULL,
    label         TEXT   NOT NULL,
    report_json   TEXT   NOT NULL,
    uploaded_by   TEXT   NOT NULL,
    uploaded_at   BIGINT NOT NULL,
    size_bytes    BIGINT NOT NULL CHECK (size_bytes = octet_length(archive)),
    archive       BYTEA  NOT NULL,
    UNIQUE (tenant_id, content_hash),
    UNIQUE (tenant_id, id)
);

CREATE TABLE activations (
    seq               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id         BIGINT NOT NULL REFERENCES tenants (id),
    book_id           BIGINT NOT NULL,
    previous_book_id  BIGINT,
    at                BIGINT NOT NULL,
    actor             TEXT   NOT NULL,
    FOREIGN KEY (tenant_id, book_id) REFERENCES books (tenant_id, id),
    FOREIGN KEY (tenant_id, previous_book_id) REFERENCES books (tenant_id, id)
);
CREATE INDEX activations_by_tenant ON activations (tenant_id, seq);

CREATE TABLE audit_log (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id     BIGINT NOT NULL REFERENCES tenants (id),
    at            BIGINT NOT NULL,
    actor         TEXT   NOT NULL,
    action        TEXT   NOT NULL CHECK (action IN ('publish', 'activate', 'rollback')),
    from_book     BIGINT,
    to_book       BIGINT,
    content_hash  TEXT,
    FOREIGN KEY (tenant_id, from_book) REFERENCES books (tenant_id, id),
    FOREIGN KEY (tenant_id, to_book) REFERENCES books (tenant_id, id)
);
CREATE INDEX audit_log_by_tenant ON audit_log (tenant_id, id);
