-- rating owns its tables under its own prefix, and holds no foreign key into another
-- component's tables (identity's tenants).
ALTER TABLE books RENAME TO rating_books;
ALTER TABLE activations RENAME TO rating_activations;
ALTER TABLE audit_log RENAME TO rating_audit;
ALTER TABLE rating_books DROP CONSTRAINT books_tenant_id_fkey;
ALTER TABLE rating_activations DROP CONSTRAINT activations_tenant_id_fkey;
ALTER TABLE rating_audit DROP CONSTRAINT audit_log_tenant_id_fkey;
ALTER INDEX activations_by_tenant RENAME TO rating_activations_by_tenant;
ALTER INDEX audit_log_by_tenant RENAME TO rating_audit_by_tenant;
