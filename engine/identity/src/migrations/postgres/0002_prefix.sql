-- identity owns its tables under its own prefix.
ALTER TABLE tenants RENAME TO identity_tenants;
ALTER TABLE api_keys RENAME TO identity_keys;
DROP INDEX api_keys_by_tenant;
CREATE INDEX identity_keys_by_tenant ON identity_keys (tenant_id, created_at, id);
