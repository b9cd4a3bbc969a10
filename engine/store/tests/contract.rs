//! The storage contract: one suite, written once, run against both backends.
//!
//! Each test is an `async fn(Db)`; the `contract!` macro at the bottom runs every one on a
//! fresh SQLite file in a temporary directory and on a fresh PostgreSQL schema
//! (`crossdock_test_<random>`, dropped afterwards), so the tests run in parallel and
//! repeatedly. PostgreSQL is the local server (`CROSSDOCK_TEST_POSTGRES_URL`, else
//! `postgres://postgres@127.0.0.1:5432/test`, else the same as `root`); if it cannot be
//! reached the PostgreSQL tests fail, unless `CROSSDOCK_SKIP_POSTGRES=1`.

use crossdock_store::{
    AuditAction, AuditEntry, BookId, KeyId, NewKey, Role, Store, StoreError, TenantId,
};
use std::future::Future;
use std::path::PathBuf;

const T0: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z: the injected clock's start

// ---------------------------------------------------------------------------------------
// Harness: a fresh database per test, on either backend.

/// One test's database: where it is, and raw access for the tests that tamper with it.
enum Db {
    Sqlite { dir: tempfile::TempDir },
    Postgres(PgSchema),
}

impl Db {
    fn sqlite() -> Db {
        Db::Sqlite {
            dir: tempfile::tempdir().expect("a temporary directory"),
        }
    }

    /// The location and data directory to give `Store::open`.
    fn location(&self) -> (String, PathBuf) {
        match self {
            Db::Sqlite { dir } => (String::new(), dir.path().to_owned()),
            Db::Postgres(pg) => (pg.store_url(), std::env::temp_dir()),
        }
    }

    async fn try_open(&self) -> Result<Store, StoreError> {
        let (location, data_dir) = self.location();
        Store::open(&location, &data_dir).await
    }

    async fn open(&self) -> Store {
        self.try_open().await.expect("the store opens")
    }

    /// Runs SQL on the database directly, outside the store.
    async fn execute_raw(&self, sql: &str) {
        match self {
            Db::Sqlite { dir } => {
                let conn =
                    rusqlite::Connection::open(dir.path().join(crossdock_store::SQLITE_FILE_NAME))
                        .expect("open the SQLite file");
                conn.execute_batch(sql).expect("raw SQL runs");
            }
            Db::Postgres(pg) => {
                let client = pg_connect(&pg.store_url()).await.expect("connect");
                client.batch_execute(sql).await.expect("raw SQL runs");
            }
        }
    }

    /// The versions recorded in `schema_migrations`, in order.
    async fn applied_versions(&self) -> Vec<i64> {
        let sql = "SELECT version FROM schema_migrations ORDER BY version";
        match self {
            Db::Sqlite { dir } => {
                let conn =
                    rusqlite::Connection::open(dir.path().join(crossdock_store::SQLITE_FILE_NAME))
                        .expect("open the SQLite file");
                let mut stmt = conn.prepare(sql).expect("prepare");
                stmt.query_map([], |r| r.get(0))
                    .expect("query")
                    .collect::<Result<_, _>>()
                    .expect("rows")
            }
            Db::Postgres(pg) => {
                let client = pg_connect(&pg.store_url()).await.expect("connect");
                client
                    .query(sql, &[])
                    .await
                    .expect("query")
                    .iter()
                    .map(|r| r.get(0))
                    .collect()
            }
        }
    }
}

/// Runs `test` on a fresh SQLite file in a temporary directory (removed afterwards).
async fn on_sqlite<Fut: Future<Output = ()>>(test: impl FnOnce(Db) -> Fut) {
    test(Db::sqlite()).await;
}

/// Runs `test` on a fresh schema of the local PostgreSQL server and drops the schema
/// afterwards, also when the test fails. The test runs as a task so that a failure comes
/// back here as a value: cleanup must not block the runtime, which the store's connection
/// (perhaps still rolling back a transaction that holds locks) needs to finish.
async fn on_postgres<Fut: Future<Output = ()> + Send + 'static>(test: impl FnOnce(Db) -> Fut) {
    if std::env::var("CROSSDOCK_SKIP_POSTGRES").is_ok_and(|v| v == "1") {
        eprintln!("CROSSDOCK_SKIP_POSTGRES=1: skipping this PostgreSQL contract test");
        return;
    }
    let schema = PgSchema::create().await;
    let outcome = tokio::spawn(test(Db::Postgres(schema.clone()))).await;
    schema.drop_schema().await;
    if let Err(failure) = outcome {
        std::panic::resume_unwind(failure.into_panic());
    }
}

/// A schema of its own on the local PostgreSQL server.
#[derive(Clone)]
struct PgSchema {
    base_url: String,
    name: String,
}

impl PgSchema {
    async fn create() -> PgSchema {
        let candidates: Vec<String> = match std::env::var("CROSSDOCK_TEST_POSTGRES_URL") {
            Ok(url) => vec![url],
            Err(_) => vec![
                "postgres://postgres@127.0.0.1:5432/test".to_owned(),
                "postgres://root@127.0.0.1:5432/test".to_owned(),
            ],
        };
        let mut failures = Vec::new();
        for base_url in candidates {
            match pg_connect(&base_url).await {
                Ok(client) => {
                    let mut random = [0u8; 8];
                    getrandom::fill(&mut random).expect("randomness");
                    let suffix: String = random.iter().map(|b| format!("{b:02x}")).collect();
                    let name = format!("crossdock_test_{suffix}");
                    client
                        .batch_execute(&format!("CREATE SCHEMA {name}"))
                        .await
                        .expect("create the test schema");
                    return PgSchema { base_url, name };
                }
                Err(e) => {
                    let cause = std::error::Error::source(&e)
                        .map(|c| format!(": {c}"))
                        .unwrap_or_default();
                    failures.push(format!("{base_url}: {e}{cause}"));
                }
            }
        }
        panic!(
            "PostgreSQL is not reachable for the storage contract tests ({}). Start the local \
             server (127.0.0.1:5432, database `test`, trust auth), point \
             CROSSDOCK_TEST_POSTGRES_URL at one, or set CROSSDOCK_SKIP_POSTGRES=1 to skip them.",
            failures.join("; ")
        );
    }

    /// The server URL with this schema as the connection's search_path.
    fn store_url(&self) -> String {
        let separator = if self.base_url.contains('?') {
            '&'
        } else {
            '?'
        };
        format!(
            "{}{separator}options=-c%20search_path%3D{}",
            self.base_url, self.name
        )
    }

    async fn drop_schema(&self) {
        let dropped = match pg_connect(&self.base_url).await {
            Ok(client) => {
                client
                    .batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name))
                    .await
            }
            Err(e) => Err(e),
        };
        if let Err(e) = dropped {
            eprintln!("could not drop test schema {}: {e}", self.name);
        }
    }
}

async fn pg_connect(url: &str) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

// ---------------------------------------------------------------------------------------
// Helpers.

fn new_key(tenant: TenantId, roles: &[Role]) -> NewKey {
    NewKey {
        tenant,
        customer: None,
        roles: roles.to_vec(),
        label: "test key".to_owned(),
    }
}

/// A fake content hash: 64 hex characters from a small number.
fn hash(n: u32) -> String {
    format!("{n:064x}")
}

async fn publish(store: &Store, tenant: TenantId, n: u32) -> BookId {
    let archive = format!("archive {n}").into_bytes();
    let (record, new) = store
        .put_book(
            tenant,
            &hash(n),
            &format!("book-{n}"),
            "label",
            &archive,
            "{}",
            "alice",
            T0 + i64::from(n),
        )
        .await
        .expect("put_book");
    assert!(new, "book {n} should be new");
    record.id
}

/// An audit entry without its id, time and actor: what the rollback tests compare.
type Shape = (AuditAction, Option<BookId>, Option<BookId>, Option<String>);

fn entry(action: AuditAction, from: Option<BookId>, to: BookId, n: u32) -> Shape {
    (action, from, Some(to), Some(hash(n)))
}

fn shape(entries: &[AuditEntry]) -> Vec<Shape> {
    entries
        .iter()
        .map(|e| (e.action, e.from_book, e.to_book, e.content_hash.clone()))
        .collect()
}

// ---------------------------------------------------------------------------------------
// The contract.

async fn tenants_are_unique_by_name(db: Db) {
    let store = db.open().await;
    let a = store.create_tenant("acme", T0).await.expect("create acme");
    let b = store
        .create_tenant("globex", T0)
        .await
        .expect("create globex");
    assert_ne!(a, b);
    assert!(matches!(
        store.create_tenant("acme", T0).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.create_tenant("", T0).await,
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(store.tenant_by_name("acme").await.expect("lookup"), Some(a));
    assert_eq!(
        store.tenant_by_name("globex").await.expect("lookup"),
        Some(b)
    );
    assert_eq!(store.tenant_by_name("initech").await.expect("lookup"), None);
}

async fn keys_verify_only_when_good(db: Db) {
    let store = db.open().await;
    let a = store.create_tenant("acme", T0).await.expect("tenant");
    let created = store
        .create_key(
            NewKey {
                tenant: a,
                customer: Some("C042".to_owned()),
                roles: vec![Role::Admin, Role::Shipper],
                label: "ops".to_owned(),
            },
            T0,
        )
        .await
        .expect("create_key");
    let record = &created.record;
    assert_eq!(record.tenant, a);
    assert_eq!(
        record.roles,
        vec![Role::Shipper, Role::Admin],
        "canonical role order"
    );
    assert_eq!(record.customer.as_deref(), Some("C042"));
    assert_eq!((record.created_at, record.revoked_at), (T0, None));
    assert_eq!(record.id.0.len(), crossdock_store::KEY_ID_CHARS);
    assert!(created.secret.starts_with(&format!("cdk_{}_", record.id.0)));
    assert!(
        !format!("{created:?}").contains(&created.secret),
        "Debug must not show the secret"
    );

    assert_eq!(
        store.verify_key(&created.secret).await.expect("verify"),
        Some(record.clone())
    );

    // A wrong secret for a known id: flip the last hex digit.
    let mut wrong = created.secret.clone();
    let last = wrong.pop().expect("non-empty");
    wrong.push(if last == '0' { '1' } else { '0' });
    let unknown_id = format!(
        "cdk_{}_{}",
        "a".repeat(crossdock_store::KEY_ID_CHARS),
        &created.secret[created.secret.len() - 64..]
    );
    let malformed = [
        "",
        "cdk_",
        "garbage",
        "Bearer x",
        &created.secret[..created.secret.len() - 1],
        &created.secret.to_uppercase(),
    ];
    for presented in [wrong.as_str(), unknown_id.as_str()]
        .into_iter()
        .chain(malformed)
    {
        assert_eq!(
            store.verify_key(presented).await.expect("verify"),
            None,
            "{presented:?} must not verify"
        );
    }

    // A second key is independent of the first.
    let other = store
        .create_key(new_key(a, &[Role::Analyst]), T0 + 1)
        .await
        .expect("second key");
    assert_ne!(other.record.id, record.id);
    assert_ne!(other.secret, created.secret);
    assert_eq!(
        store
            .verify_key(&other.secret)
            .await
            .expect("verify")
            .map(|r| r.id),
        Some(other.record.id)
    );

    assert!(matches!(
        store.create_key(new_key(TenantId(9_999), &[]), T0).await,
        Err(StoreError::NotFound(_))
    ));
}

async fn keys_are_listed_and_revoked_within_their_tenant(db: Db) {
    let store = db.open().await;
    let a = store.create_tenant("acme", T0).await.expect("tenant");
    let b = store.create_tenant("globex", T0).await.expect("tenant");
    let key_a = store
        .create_key(new_key(a, &[Role::Admin]), T0)
        .await
        .expect("key a");
    let key_b = store
        .create_key(new_key(b, &[Role::Shipper]), T0)
        .await
        .expect("key b");

    let ids =
        |keys: Vec<crossdock_store::KeyRecord>| keys.into_iter().map(|k| k.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store.list_keys(a).await.expect("list")),
        vec![key_a.record.id.clone()]
    );
    assert_eq!(
        ids(store.list_keys(b).await.expect("list")),
        vec![key_b.record.id.clone()]
    );

    // Tenant B cannot revoke A's key, nor learn that it exists.
    assert!(
        !store
            .revoke_key(b, &key_a.record.id, T0 + 5)
            .await
            .expect("revoke")
    );
    assert!(
        store
            .verify_key(&key_a.secret)
            .await
            .expect("verify")
            .is_some()
    );
    assert!(
        !store
            .revoke_key(a, &KeyId("nosuchkeyxxx".to_owned()), T0 + 5)
            .await
            .expect("revoke")
    );

    assert!(
        store
            .revoke_key(a, &key_a.record.id, T0 + 5)
            .await
            .expect("revoke")
    );
    assert_eq!(
        store.verify_key(&key_a.secret).await.expect("verify"),
        None,
        "revoked keys do not verify"
    );
    // Revoking again is harmless and keeps the first time.
    assert!(
        store
            .revoke_key(a, &key_a.record.id, T0 + 9)
            .await
            .expect("revoke again")
    );
    let listed = store.list_keys(a).await.expect("list");
    assert_eq!(listed.len(), 1, "revoked keys are still listed");
    assert_eq!(listed[0].revoked_at, Some(T0 + 5));
    // B's key is untouched.
    assert!(
        store
            .verify_key(&key_b.secret)
            .await
            .expect("verify")
            .is_some()
    );
}

async fn books_are_idempotent_by_hash_and_scoped(db: Db) {
    let store = db.open().await;
    let a = store.create_tenant("acme", T0).await.expect("tenant");
    let b = store.create_tenant("globex", T0).await.expect("tenant");
    let archive = b"PAR1 pretend archive".to_vec();

    let (first, new) = store
        .put_book(
            a,
            &hash(1),
            "demo",
            "v1",
            &archive,
            r#"{"warnings":[]}"#,
            "alice",
            T0,
        )
        .await
        .expect("put");
    assert!(new);
    assert_eq!(
        (
            first.tenant,
            first.content_hash.as_str(),
            first.name.as_str(),
            first.label.as_str()
        ),
        (a, hash(1).as_str(), "demo", "v1")
    );
    assert_eq!(
        (first.uploaded_by.as_str(), first.uploaded_at),
        ("alice", T0)
    );
    assert_eq!(
        (first.size_bytes, first.report_json.as_str()),
        (archive.len() as i64, r#"{"warnings":[]}"#)
    );

    // The same hash again: the stored book, unchanged, and no second Publish entry.
    let (again, new) = store
        .put_book(a, &hash(1), "renamed", "v2", &archive, "{}", "bob", T0 + 60)
        .await
        .expect("put");
    assert!(!new);
    assert_eq!(again, first);
    assert_eq!(store.audit(a, 100).await.expect("audit").len(), 1);

    // The same hash in another tenant is that tenant's own book.
    let (b_book, new) = store
        .put_book(b, &hash(1), "theirs", "", b"other bytes", "{}", "carol", T0)
        .await
        .expect("put");
    assert!(new);
    assert_ne!(b_book.id, first.id);

    assert_eq!(
        store.book(a, first.id).await.expect("book"),
        Some(first.clone())
    );
    assert_eq!(
        store.book_archive(a, first.id).await.expect("archive"),
        Some(archive)
    );
    assert_eq!(
        store.book(b, first.id).await.expect("book"),
        None,
        "B must not see A's book"
    );
    assert_eq!(
        store.book_archive(b, first.id).await.expect("archive"),
        None
    );
    assert_eq!(store.book(a, b_book.id).await.expect("book"), None);
    assert_eq!(store.book(a, BookId(9_999)).await.expect("book"), None);

    let second = publish(&store, a, 2).await;
    let listed: Vec<BookId> = store
        .list_books(a)
        .await
        .expect("list")
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(listed, vec![first.id, second]);
    assert_eq!(store.list_books(b).await.expect("list"), vec![b_book]);

    assert!(matches!(
        store
            .put_book(TenantId(9_999), &hash(3), "x", "", b"x", "{}", "alice", T0)
            .await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store
            .put_book(a, "", "x", "", b"x", "{}", "alice", T0)
            .await,
        Err(StoreError::Invalid(_))
    ));
    let publishes = store.audit(a, 100).await.expect("audit");
    assert!(
        publishes
            .iter()
            .all(|e| e.action == AuditAction::Publish && e.from_book.is_none())
    );
    assert_eq!(publishes.len(), 2);
}

async fn activation_rollback_and_audit(db: Db) {
    let store = db.open().await;
    let a = store.create_tenant("acme", T0).await.expect("tenant");
    let b = store.create_tenant("globex", T0).await.expect("tenant");
    assert_eq!(store.active_book(a).await.expect("active"), None);
    assert_eq!(
        store.rollback(a, "alice", T0).await,
        Err(StoreError::NothingToRollBack)
    );

    let b1 = publish(&store, a, 1).await;
    let b2 = publish(&store, a, 2).await;
    let b3 = publish(&store, a, 3).await;

    assert_eq!(
        store
            .activate(a, b1, "alice", T0 + 10)
            .await
            .expect("activate"),
        None
    );
    assert_eq!(store.active_book(a).await.expect("active"), Some(b1));
    assert_eq!(
        store.rollback(a, "alice", T0 + 11).await,
        Err(StoreError::NothingToRollBack),
        "one book ever active"
    );

    assert_eq!(
        store
            .activate(a, b2, "bob", T0 + 20)
            .await
            .expect("activate"),
        Some(b1)
    );
    assert_eq!(store.active_book(a).await.expect("active"), Some(b2));
    // Activating the active book changes and records nothing.
    assert_eq!(
        store
            .activate(a, b2, "bob", T0 + 21)
            .await
            .expect("activate"),
        Some(b2)
    );

    // Rollback swaps back; a second rollback swaps forward again.
    assert_eq!(
        store.rollback(a, "carol", T0 + 30).await.expect("rollback"),
        b1
    );
    assert_eq!(store.active_book(a).await.expect("active"), Some(b1));
    assert_eq!(
        store.rollback(a, "carol", T0 + 31).await.expect("rollback"),
        b2
    );
    assert_eq!(store.active_book(a).await.expect("active"), Some(b2));

    assert_eq!(
        store
            .activate(a, b3, "dave", T0 + 40)
            .await
            .expect("activate"),
        Some(b2)
    );
    assert_eq!(
        store.rollback(a, "dave", T0 + 41).await.expect("rollback"),
        b2
    );

    // Tenant B can neither activate A's book nor see A's state.
    assert!(matches!(
        store.activate(b, b3, "mallory", T0 + 50).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.activate(b, BookId(9_999), "mallory", T0 + 50).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store
            .activate(TenantId(9_999), b1, "mallory", T0 + 50)
            .await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(store.active_book(b).await.expect("active"), None);
    assert_eq!(
        store.rollback(b, "mallory", T0 + 50).await,
        Err(StoreError::NothingToRollBack)
    );
    assert_eq!(store.audit(b, 100).await.expect("audit"), vec![]);
    assert_eq!(
        store.active_book(a).await.expect("active"),
        Some(b2),
        "A's state is untouched"
    );

    let log = store.audit(a, 100).await.expect("audit");
    let expected = vec![
        entry(AuditAction::Rollback, Some(b3), b2, 2),
        entry(AuditAction::Activate, Some(b2), b3, 3),
        entry(AuditAction::Rollback, Some(b1), b2, 2),
        entry(AuditAction::Rollback, Some(b2), b1, 1),
        entry(AuditAction::Activate, Some(b1), b2, 2),
        entry(AuditAction::Activate, None, b1, 1),
        entry(AuditAction::Publish, None, b3, 3),
        entry(AuditAction::Publish, None, b2, 2),
        entry(AuditAction::Publish, None, b1, 1),
    ];
    assert_eq!(shape(&log), expected, "newest first");
    assert!(log.windows(2).all(|w| w[0].id > w[1].id));
    assert!(log.iter().all(|e| e.tenant == a));
    let newest = &log[0];
    assert_eq!((newest.at, newest.actor.as_str()), (T0 + 41, "dave"));
    assert_eq!(
        shape(&store.audit(a, 2).await.expect("audit")),
        expected[..2].to_vec()
    );
    assert_eq!(store.audit(a, 0).await.expect("audit"), vec![]);

    // B activates a book of its own; start-up sees every tenant's active book.
    let b_book = publish(&store, b, 7).await;
    assert_eq!(
        store
            .activate(b, b_book, "erin", T0 + 60)
            .await
            .expect("activate"),
        None
    );
    assert_eq!(
        store.active_books().await.expect("active_books"),
        vec![(a, b2), (b, b_book)]
    );
}

async fn concurrent_publishes_all_land(db: Db) {
    let store = db.open().await;
    let a = store.create_tenant("acme", T0).await.expect("tenant");
    let mut tasks = Vec::new();
    for n in 0..16u32 {
        let store = store.clone();
        // Half the tasks publish the same book: exactly one of them stores it.
        let n = if n % 2 == 0 { n } else { 1_000 };
        tasks.push(tokio::spawn(async move {
            store
                .put_book(a, &hash(n), "b", "", b"x", "{}", "alice", T0)
                .await
                .map(|(_, new)| new)
        }));
    }
    let mut stored = 0;
    for task in tasks {
        stored += usize::from(task.await.expect("task").expect("put_book"));
    }
    assert_eq!(stored, 9, "8 distinct books + 1 shared one");
    assert_eq!(store.list_books(a).await.expect("list").len(), 9);
    assert_eq!(store.audit(a, 100).await.expect("audit").len(), 9);
}

async fn migrations_are_idempotent(db: Db) {
    let store = db.open().await;
    let a = store.create_tenant("acme", T0).await.expect("tenant");
    // A second store on the same database while the first is open, then after it closes.
    let second = db.open().await;
    assert_eq!(
        second.tenant_by_name("acme").await.expect("lookup"),
        Some(a)
    );
    second.close().await.expect("close");
    store.close().await.expect("close");
    assert_eq!(store.tenant_by_name("acme").await, Err(StoreError::Closed));
    let third = db.open().await;
    assert_eq!(third.tenant_by_name("acme").await.expect("lookup"), Some(a));
    third.close().await.expect("close");
    assert_eq!(
        db.applied_versions().await,
        vec![1],
        "each migration applied once"
    );
}

async fn newer_schema_is_refused(db: Db) {
    db.open().await.close().await.expect("close");
    db.execute_raw("INSERT INTO schema_migrations (version, applied_at) VALUES (999, 0)")
        .await;
    match db.try_open().await {
        Err(StoreError::SchemaTooNew { found, known }) => {
            assert_eq!(found, 999);
            assert!(known < 999);
            let message = StoreError::SchemaTooNew { found, known }.to_string();
            assert!(
                message.contains("999") && message.contains("refusing"),
                "{message}"
            );
        }
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
}

async fn state_survives_reopening(db: Db) {
    let store = db.open().await;
    let a = store.create_tenant("acme", T0).await.expect("tenant");
    let key = store
        .create_key(new_key(a, &[Role::Shipper]), T0)
        .await
        .expect("key");
    let b1 = publish(&store, a, 1).await;
    let b2 = publish(&store, a, 2).await;
    store
        .activate(a, b1, "alice", T0 + 10)
        .await
        .expect("activate");
    store
        .activate(a, b2, "alice", T0 + 20)
        .await
        .expect("activate");
    let log = store.audit(a, 100).await.expect("audit");
    store.close().await.expect("close");
    drop(store);

    let store = db.open().await;
    assert_eq!(store.tenant_by_name("acme").await.expect("lookup"), Some(a));
    assert_eq!(store.active_book(a).await.expect("active"), Some(b2));
    assert_eq!(
        store.active_books().await.expect("active_books"),
        vec![(a, b2)]
    );
    assert_eq!(
        store.verify_key(&key.secret).await.expect("verify"),
        Some(key.record.clone())
    );
    assert_eq!(store.audit(a, 100).await.expect("audit"), log);
    assert_eq!(
        store.book_archive(a, b1).await.expect("archive"),
        Some(b"archive 1".to_vec())
    );
    // The activation history survived too: rollback still knows the previous book.
    assert_eq!(
        store.rollback(a, "alice", T0 + 30).await.expect("rollback"),
        b1
    );
}

// ---------------------------------------------------------------------------------------
// Outside the contract: opening, and the harness itself.

#[tokio::test]
async fn bad_locations_are_refused_clearly() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let err = Store::open("mysql://root@127.0.0.1/test", dir.path())
        .await
        .expect_err("unknown scheme");
    assert!(matches!(err, StoreError::BadLocation(_)), "{err}");
    // Port 1 refuses connections; the message says so and hides the password.
    let err = Store::open("postgres://u:hunter2@127.0.0.1:1/test", dir.path())
        .await
        .expect_err("refused");
    let message = err.to_string();
    assert!(
        message.contains("127.0.0.1:1") && message.contains("refused"),
        "{message}"
    );
    assert!(!message.contains("hunter2"), "{message}");
}

#[tokio::test]
async fn sqlite_file_is_in_wal_mode_under_the_data_dir() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let data_dir = dir.path().join("not/yet/there");
    let store = Store::open("", &data_dir).await.expect("open");
    store.create_tenant("acme", T0).await.expect("tenant");
    let path = data_dir.join(crossdock_store::SQLITE_FILE_NAME);
    let conn = rusqlite::Connection::open(&path).expect("open the file");
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .expect("pragma");
    assert_eq!(mode, "wal");
    store.close().await.expect("close");
}

#[tokio::test]
async fn a_failing_postgres_test_still_drops_its_schema() {
    if std::env::var("CROSSDOCK_SKIP_POSTGRES").is_ok_and(|v| v == "1") {
        return;
    }
    let (tx, rx) = tokio::sync::oneshot::channel();
    let failing = tokio::spawn(on_postgres(move |db| async move {
        let Db::Postgres(pg) = &db else {
            unreachable!("on_postgres gives a PostgreSQL db")
        };
        let _ = tx.send((pg.base_url.clone(), pg.name.clone()));
        let store = db.open().await;
        // Leave a transaction to roll back, as a failing test might.
        let _ = store.create_key(new_key(TenantId(9_999), &[]), T0).await;
        panic!("deliberate failure (expected in this test's output)");
    }));
    assert!(failing.await.is_err(), "the failure reaches the caller");
    let (url, schema) = rx.await.expect("the test ran");
    let client = pg_connect(&url).await.expect("connect");
    let rows = client
        .query("SELECT 1 FROM pg_namespace WHERE nspname = $1", &[&schema])
        .await
        .expect("query");
    assert!(rows.is_empty(), "schema {schema} should have been dropped");
}

// ---------------------------------------------------------------------------------------
// Every contract test, on both backends.

macro_rules! contract {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $test() {
                    super::on_sqlite(super::$test).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $test() {
                    super::on_postgres(super::$test).await;
                }
            )*
        }
    };
}

contract!(
    tenants_are_unique_by_name,
    keys_verify_only_when_good,
    keys_are_listed_and_revoked_within_their_tenant,
    books_are_idempotent_by_hash_and_scoped,
    activation_rollback_and_audit,
    concurrent_publishes_all_land,
    migrations_are_idempotent,
    newer_schema_is_refused,
    state_survives_reopening,
);
