//! Versioned schema migrations, one numbered SQL script per version and backend.
//!
//! Each backend's runner keeps `schema_migrations(version, applied_at)` and, in one
//! transaction: creates that table if absent, reads the highest applied version, refuses
//! a database newer than this build ([`crate::StoreError::SchemaTooNew`]), then applies
//! every newer script in order and records it. Opening an up-to-date database applies
//! nothing, so opening is idempotent; a script that fails leaves no trace.
//!
//! To change the schema, add `NNNN_<what>.sql` for *both* backends and list it below;
//! never edit a script that has shipped. The unit test below holds the lists in step.

/// One schema change.
pub(crate) struct Migration {
    /// 1, 2, 3, … with no gaps: the value recorded in `schema_migrations`.
    pub version: i64,
    pub sql: &'static str,
}

pub(crate) const SQLITE: &[Migration] = &[Migration {
    version: 1,
    sql: include_str!("migrations/sqlite/0001_init.sql"),
}];

pub(crate) const POSTGRES: &[Migration] = &[Migration {
    version: 1,
    sql: include_str!("migrations/postgres/0001_init.sql"),
}];

/// The newest version this build knows for a backend.
pub(crate) fn known_version(migrations: &[Migration]) -> i64 {
    migrations.last().map_or(0, |m| m.version)
}

/// The table both runners keep (same DDL text works on both backends).
pub(crate) const CREATE_SCHEMA_MIGRATIONS: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (\
     version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)";

/// Wall-clock seconds for `applied_at`: bookkeeping only, never read by crossdock.
pub(crate) fn unix_now_s() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_backends_have_the_same_gapless_versions() {
        let sqlite: Vec<i64> = SQLITE.iter().map(|m| m.version).collect();
        let postgres: Vec<i64> = POSTGRES.iter().map(|m| m.version).collect();
        assert_eq!(sqlite, postgres);
        let expected: Vec<i64> = (1..=sqlite.len() as i64).collect();
        assert_eq!(sqlite, expected);
    }
}
