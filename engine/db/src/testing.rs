//! The two-backend contract-test harness: one test, written once, run on a fresh SQLite
//! file in a temporary directory and on a fresh PostgreSQL schema (dropped afterwards), so
//! tests run in parallel and repeatedly.
//!
//! PostgreSQL is the local server: `CROSSDOCK_TEST_POSTGRES_URL`, else
//! `postgres://postgres@127.0.0.1:5432/test`. If it cannot be reached the PostgreSQL half
//! fails, unless `CROSSDOCK_SKIP_POSTGRES=1`.
//!
//! ```ignore
//! async fn keys_are_scoped(db: &TestDb) { … }
//! crossdock_db::contract_tests!(keys_are_scoped);
//! ```

use crate::{Db, DbOptions, Dialect};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

/// The PostgreSQL server the tests use.
pub fn postgres_base_url() -> String {
    std::env::var("CROSSDOCK_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// Whether PostgreSQL tests are switched off (`CROSSDOCK_SKIP_POSTGRES=1`).
pub fn skip_postgres() -> bool {
    std::env::var("CROSSDOCK_SKIP_POSTGRES").is_ok_and(|v| v == "1")
}

/// A fresh PostgreSQL schema, dropped with everything in it when this is dropped.
#[derive(Debug)]
pub struct PgSchema {
    pub name: String,
    base: String,
}

impl PgSchema {
    /// Creates one; `None` when PostgreSQL tests are skipped. Panics if the server cannot
    /// be reached (a test environment fault, named).
    pub fn create() -> Option<PgSchema> {
        if skip_postgres() {
            eprintln!("CROSSDOCK_SKIP_POSTGRES=1: skipping the PostgreSQL half of this test");
            return None;
        }
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let name = format!(
            "crossdock_test_{:x}{:x}{n}",
            std::process::id(),
            nanos ^ (u64::from(std::process::id()) << 32)
        );
        let base = postgres_base_url();
        let sql = format!("CREATE SCHEMA {name}");
        run_sync(&base, &sql).unwrap_or_else(|e| {
            panic!("PostgreSQL at {base} is needed ({e}); set CROSSDOCK_SKIP_POSTGRES=1 to skip")
        });
        Some(PgSchema { name, base })
    }

    /// A URL whose connections use this schema.
    pub fn url(&self) -> String {
        let sep = if self.base.contains('?') { '&' } else { '?' };
        format!("{}{sep}options=-csearch_path%3D{}", self.base, self.name)
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        let _ = run_sync(
            &self.base,
            &format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name),
        );
    }
}

/// Runs SQL on a fresh connection, on a thread of its own (the blocking client must not
/// run on an async runtime's thread).
pub fn run_sync(url: &str, sql: &str) -> Result<(), String> {
    let (url, sql) = (url.to_owned(), sql.to_owned());
    std::thread::spawn(move || {
        let mut client = url
            .parse::<postgres::Config>()
            .and_then(|c| c.connect(postgres::NoTls))
            .map_err(|e| crate::error::describe(&e))?;
        client
            .batch_execute(&sql)
            .map_err(|e| crate::error::describe(&e))
    })
    .join()
    .map_err(|_| "the PostgreSQL helper thread panicked".to_owned())?
}

enum Place {
    Sqlite(tempfile::TempDir),
    Postgres(PgSchema),
}

/// One test's database, opened (not migrated).
pub struct TestDb {
    pub db: Db,
    place: Place,
}

impl std::fmt::Debug for TestDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TestDb({:?})", self.db.dialect())
    }
}

impl std::ops::Deref for TestDb {
    type Target = Db;
    fn deref(&self) -> &Db {
        &self.db
    }
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let db = Db::open("", dir.path(), &DbOptions::default())
            .await
            .expect("the SQLite database opens");
        TestDb {
            db,
            place: Place::Sqlite(dir),
        }
    }

    /// `None` when PostgreSQL tests are skipped.
    pub async fn postgres() -> Option<TestDb> {
        let schema = PgSchema::create()?;
        let db = Db::open(&schema.url(), &std::env::temp_dir(), &DbOptions::default())
            .await
            .expect("the PostgreSQL database opens");
        Some(TestDb {
            db,
            place: Place::Postgres(schema),
        })
    }

    /// The location and data directory that open this database again.
    pub fn location(&self) -> (String, PathBuf) {
        match &self.place {
            Place::Sqlite(dir) => (String::new(), dir.path().to_owned()),
            Place::Postgres(schema) => (schema.url(), std::env::temp_dir()),
        }
    }

    /// Another handle on the same database, as a second process would open it.
    pub async fn reopen(&self) -> Db {
        let (location, dir) = self.location();
        Db::open(&location, &dir, &DbOptions::default())
            .await
            .expect("the database opens again")
    }

    pub fn dialect(&self) -> Dialect {
        self.db.dialect()
    }

    /// Runs SQL directly, outside any component (tests that tamper or set up old schemas).
    pub async fn execute_raw(&self, sql: &str) {
        match &self.place {
            Place::Sqlite(dir) => {
                let conn = rusqlite::Connection::open(dir.path().join(crate::SQLITE_FILE_NAME))
                    .expect("open the SQLite file");
                conn.execute_batch(sql).expect("raw SQL runs");
            }
            Place::Postgres(schema) => run_sync(&schema.url(), sql).expect("raw SQL runs"),
        }
    }
}

/// Runs each named `async fn(&TestDb)` on SQLite and on PostgreSQL, as two tests each
/// (`on_sqlite::NAME`, `on_postgres::NAME`). The calling crate needs tokio with `macros`.
#[macro_export]
macro_rules! contract_tests {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = $crate::testing::TestDb::sqlite().await;
                    super::$name(&db).await;
                }
            )*
        }
        mod on_postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(db) = $crate::testing::TestDb::postgres().await else { return };
                    super::$name(&db).await;
                }
            )*
        }
    };
}
