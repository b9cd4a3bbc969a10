//! Schema migrations, one numbered track per component and dialect.
//!
//! Each component lists its scripts in both dialects ([`Migrations`]); [`crate::Db::migrate`]
//! applies them level by level (every track's version 1, then every track's version 2, …),
//! each level of each track in its own transaction, so a component's early script may name
//! a table that another component's later script renames. It records every applied version in
//! `db_migrations(component, version, applied_at)`, refuses a track that a newer crossdock
//! has taken further ([`DbError::SchemaTooNew`]), and applies the newer scripts in order.
//! Opening an up-to-date database applies nothing; a script that fails leaves no trace.
//! On PostgreSQL an advisory lock serialises replicas that start together.
//!
//! To change a component's schema, add `NNNN_<what>.sql` for *both* dialects and list it;
//! never edit a script that has shipped ([`Migrations::check`] holds the lists in step).
//!
//! ## Databases from before the tracks
//!
//! crossdock 0.1 kept one track in `schema_migrations(version)`; its version 1 created the
//! tables that identity's and rating's version 1 create now, with the same text. When such
//! a database is opened, its version 1 is recorded as version 1 of both tracks, and the old
//! table is set to version 2 so that a 0.1 binary refuses the upgraded database instead of
//! writing to tables that later versions renamed.

use crate::error::DbError;
use crate::tx::{Dialect, Tx};

/// One schema change of one component.
#[derive(Debug)]
pub struct Migration {
    /// 1, 2, 3, … with no gaps: the value recorded in `db_migrations`.
    pub version: i64,
    pub sql: &'static str,
}

/// A component's migration track in both dialects.
#[derive(Debug)]
pub struct Migrations {
    /// The component's name: its track, and the prefix of its tables.
    pub component: &'static str,
    pub sqlite: &'static [Migration],
    pub postgres: &'static [Migration],
}

impl Migrations {
    /// The newest version this build knows.
    pub fn known_version(&self) -> i64 {
        self.sqlite.last().map_or(0, |m| m.version)
    }

    /// Both dialects have the same gapless versions 1, 2, 3, …
    pub fn check(&self) -> Result<(), String> {
        let sqlite: Vec<i64> = self.sqlite.iter().map(|m| m.version).collect();
        let postgres: Vec<i64> = self.postgres.iter().map(|m| m.version).collect();
        if sqlite != postgres {
            return Err(format!(
                "{}: SQLite has versions {sqlite:?}, PostgreSQL {postgres:?}",
                self.component
            ));
        }
        let expected: Vec<i64> = (1..=sqlite.len() as i64).collect();
        if sqlite != expected {
            return Err(format!("{}: versions {sqlite:?} have gaps", self.component));
        }
        Ok(())
    }

    fn for_dialect(&self, dialect: Dialect) -> &'static [Migration] {
        match dialect {
            Dialect::Sqlite => self.sqlite,
            Dialect::Postgres => self.postgres,
        }
    }
}

/// The outbox's own track (`db_outbox`, `db_cursors`).
pub const OUTBOX: Migrations = Migrations {
    component: "db",
    sqlite: &[
        Migration {
            version: 1,
            sql: include_str!("migrations/sqlite/0001_outbox.sql"),
        },
        Migration {
            version: 2,
            sql: include_str!("migrations/sqlite/0002_idempotency.sql"),
        },
    ],
    postgres: &[
        Migration {
            version: 1,
            sql: include_str!("migrations/postgres/0001_outbox.sql"),
        },
        Migration {
            version: 2,
            sql: include_str!("migrations/postgres/0002_idempotency.sql"),
        },
    ],
};

const CREATE_DB_MIGRATIONS: &str = "CREATE TABLE IF NOT EXISTS db_migrations (\
     component TEXT NOT NULL, version BIGINT NOT NULL, applied_at BIGINT NOT NULL, \
     PRIMARY KEY (component, version))";

/// Whether a table of this name exists (in the current schema on PostgreSQL).
pub(crate) fn table_exists(tx: &mut Tx<'_>, name: &str) -> Result<bool, DbError> {
    let sql = tx.pick(
        "SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = $1",
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = $1",
    );
    Ok(tx.query_opt(sql, &[&name])?.is_some())
}

/// Applies one track's pending versions up to `upto`; the versions it applied.
pub(crate) fn migrate_track(
    tx: &mut Tx<'_>,
    track: &Migrations,
    upto: i64,
    now: i64,
) -> Result<Vec<i64>, DbError> {
    track.check().map_err(DbError::Backend)?;
    tx.lock("crossdock-migrations", 0)?;
    tx.batch(CREATE_DB_MIGRATIONS)?;
    import_legacy(tx, now)?;
    let found: Option<i64> = tx
        .query_one(
            "SELECT MAX(version) FROM db_migrations WHERE component = $1",
            &[&track.component],
        )?
        .get(0)?;
    let found = found.unwrap_or(0);
    let known = track.known_version();
    if found > known {
        return Err(DbError::SchemaTooNew {
            component: track.component.to_owned(),
            found,
            known,
        });
    }
    let mut applied = Vec::new();
    for migration in track
        .for_dialect(tx.dialect())
        .iter()
        .filter(|m| m.version > found && m.version <= upto)
    {
        tx.batch(migration.sql)?;
        tx.execute(
            "INSERT INTO db_migrations (component, version, applied_at) VALUES ($1, $2, $3)",
            &[&track.component, &migration.version, &now],
        )?;
        applied.push(migration.version);
    }
    Ok(applied)
}

/// The components whose version 1 was crossdock 0.1's single-track version 1.
const LEGACY_V1_COMPONENTS: [&str; 2] = ["identity", "rating"];

fn import_legacy(tx: &mut Tx<'_>, now: i64) -> Result<(), DbError> {
    if !table_exists(tx, "schema_migrations")? {
        return Ok(());
    }
    let imported = tx
        .query_opt(
            "SELECT 1 FROM db_migrations WHERE component = $1",
            &[&LEGACY_V1_COMPONENTS[0]],
        )?
        .is_some();
    if imported {
        return Ok(());
    }
    let legacy: Option<i64> = tx
        .query_one("SELECT MAX(version) FROM schema_migrations", &[])?
        .get(0)?;
    match legacy {
        None => Ok(()),
        Some(1) => {
            for component in LEGACY_V1_COMPONENTS {
                tx.execute(
                    "INSERT INTO db_migrations (component, version, applied_at) VALUES ($1, 1, $2)",
                    &[&component, &now],
                )?;
            }
            tx.execute(
                "INSERT INTO schema_migrations (version, applied_at) VALUES (2, $1)",
                &[&now],
            )?;
            Ok(())
        }
        Some(found) => Err(DbError::SchemaTooNew {
            component: "schema_migrations (crossdock 0.1)".to_owned(),
            found,
            known: 1,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_outbox_track_is_in_step() {
        assert_eq!(OUTBOX.check(), Ok(()));
    }

    #[test]
    fn tracks_out_of_step_are_named() {
        const BAD: Migrations = Migrations {
            component: "x",
            sqlite: &[
                Migration {
                    version: 1,
                    sql: "",
                },
                Migration {
                    version: 2,
                    sql: "",
                },
            ],
            postgres: &[Migration {
                version: 1,
                sql: "",
            }],
        };
        assert!(BAD.check().is_err_and(|e| e.starts_with("x:")));
        const GAP: Migrations = Migrations {
            component: "y",
            sqlite: &[Migration {
                version: 2,
                sql: "",
            }],
            postgres: &[Migration {
                version: 2,
                sql: "",
            }],
        };
        assert!(GAP.check().is_err());
    }
}
