-- rating, version 1: the rate-book tables exactly as crossdock 0.1 created them (its
-- single-track version 1, with identity's tables). Version 2 gives them rating's prefix.
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
