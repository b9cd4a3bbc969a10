-- rating owns its tables under its own prefix, and holds no foreign key into another
-- component's tables (identity's tenants): SQLite cannot drop a constraint, so the tables
-- are rebuilt and their rows copied, ids kept.
CREATE TABLE rating_books (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id     INTEGER NOT NULL,
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
INSERT INTO rating_books (id, tenant_id, content_hash, name, label, report_json, uploaded_by, uploaded_at, size_bytes, archive)
    SELECT id, tenant_id, content_hash, name, label, report_json, uploaded_by, uploaded_at, size_bytes, archive FROM books;

CREATE TABLE rating_activations (
    seq               INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id         INTEGER NOT NULL,
    book_id           INTEGER NOT NULL,
    previous_book_id  INTEGER,
    at                INTEGER NOT NULL,
    actor             TEXT    NOT NULL,
    FOREIGN KEY (tenant_id, book_id) REFERENCES rating_books (tenant_id, id),
    FOREIGN KEY (tenant_id, previous_book_id) REFERENCES rating_books (tenant_id, id)
);
INSERT INTO rating_activations (seq, tenant_id, book_id, previous_book_id, at, actor)
    SELECT seq, tenant_id, book_id, previous_book_id, at, actor FROM activations;

CREATE TABLE rating_audit (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id     INTEGER NOT NULL,
    at            INTEGER NOT NULL,
    actor         TEXT    NOT NULL,
    action        TEXT    NOT NULL CHECK (action IN ('publish', 'activate', 'rollback')),
    from_book     INTEGER,
    to_book       INTEGER,
    content_hash  TEXT,
    FOREIGN KEY (tenant_id, from_book) REFERENCES rating_books (tenant_id, id),
    FOREIGN KEY (tenant_id, to_book) REFERENCES rating_books (tenant_id, id)
);
INSERT INTO rating_audit (id, tenant_id, at, actor, action, from_book, to_book, content_hash)
    SELECT id, tenant_id, at, actor, action, from_book, to_book, content_hash FROM audit_log;

DROP TABLE audit_log;
DROP TABLE activations;
DROP TABLE books;
CREATE INDEX rating_activations_by_tenant ON rating_activations (tenant_id, seq);
CREATE INDEX rating_audit_by_tenant ON rating_audit (tenant_id, id);
