//! A data directory of crossdock 0.1 (one migration track in `schema_migrations`, tables
//! `tenants`, `api_keys`, `books`, `activations`, `audit_log`) upgrades in place, on SQLite
//! and on PostgreSQL: its keys still verify, its book is still in force, its history and
//! audit are kept, and a 0.1 binary would now refuse the database instead of writing to it.
//!
//! The 0.1 schema is the release's own migration text (`fixtures/crossdock-0.1/`, copied
//! from commit d10b6e5), and the rows are written as 0.1 wrote them.

use crossdock::{Config, Runtime};
use crossdock_db::testing::TestDb;
use crossdock_db::{DbError, Dialect};
use sha2::{Digest, Sha256};
use std::sync::Arc;

const KEY_ID: &str = "abcdefghijkl";
const SECRET_PART: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Builds a 0.1 database: its schema, one tenant with one admin key, the demo book
/// published and activated, with its audit entries.
async fn make_release_0_1(db: &TestDb) {
    let schema = match db.dialect() {
        Dialect::Sqlite => include_str!("fixtures/crossdock-0.1/sqlite.sql"),
        Dialect::Postgres => include_str!("fixtures/crossdock-0.1/postgres.sql"),
    };
    db.execute_raw(&format!(
        "CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL);\
         {schema}\
         INSERT INTO schema_migrations (version, applied_at) VALUES (1, 1767225600);"
    ))
    .await;
    let secret_hash = hex(&Sha256::digest(SECRET_PART.as_bytes()));
    let blob = |h: &str| match db.dialect() {
        Dialect::Sqlite => format!("X'{h}'"),
        Dialect::Postgres => format!("'\\x{h}'::bytea"),
    };
    let archive = crossdock::demo::archive().expect("the demo archive");
    db.execute_raw(&format!(
        "INSERT INTO tenants (name, created_at) VALUES ('default', 1767225600);\
         INSERT INTO api_keys (id, tenant_id, customer, roles, label, secret_sha256, created_at) \
           VALUES ('{KEY_ID}', 1, NULL, 'shipper,analyst,admin', 'from 0.1', {}, 1767225600);\
         INSERT INTO books (tenant_id, content_hash, name, label, report_json, uploaded_by, uploaded_at, size_bytes, archive) \
           VALUES (1, 'hash-from-0.1', 'demo-2026-11', 'demo-2026-11@0.1', '{{}}', 'crossdock (first start)', 1767225600, {}, {});\
         INSERT INTO activations (tenant_id, book_id, previous_book_id, at, actor) VALUES (1, 1, NULL, 1767225600, 'crossdock (first start)');\
         INSERT INTO audit_log (tenant_id, at, actor, action, from_book, to_book, content_hash) \
           VALUES (1, 1767225600, 'crossdock (first start)', 'publish', NULL, 1, 'hash-from-0.1');\
         INSERT INTO audit_log (tenant_id, at, actor, action, from_book, to_book, content_hash) \
           VALUES (1, 1767225600, 'crossdock (first start)', 'activate', NULL, 1, 'hash-from-0.1');",
        blob(&secret_hash),
        archive.len(),
        blob(&hex(&archive)),
    ))
    .await;
}

async fn a_release_0_1_database_upgrades_in_place(db: &TestDb) {
    make_release_0_1(db).await;
    let (location, dir) = db.location();
    let config = Config {
        database: Some(location).filter(|l| !l.is_empty()),
        data_dir: dir.clone(),
        rating: crossdock_rating::RatingConfig {
            data_dir: dir,
            isolate_checks: false,
            ..Default::default()
        },
        ..Config::default()
    };
    let rt = Runtime::start(&config, Arc::new(crossdock_http::SystemClock))
        .await
        .expect("the upgraded runtime starts");
    // The key of 0.1 still verifies, with its roles.
    let record = rt
        .identity
        .verify_key_uncached(&format!("cdk_{KEY_ID}_{SECRET_PART}"))
        .await
        .expect("verify")
        .expect("the 0.1 key is known");
    assert_eq!(record.label, "from 0.1");
    assert_eq!(record.roles.len(), 3);
    // Its book is in force (not replaced by a newly seeded one), with its history.
    let rating = rt.rating.as_ref().expect("rating");
    let live = rating
        .live_book(rt.default_tenant)
        .expect("a book in force");
    assert_eq!(live.id.0, 1);
    let audit = rating
        .audit(rt.default_tenant, None, 10)
        .await
        .expect("audit");
    assert_eq!(audit.len(), 2, "no new entries: nothing was seeded");
    // The schema is on the component tracks, and 0.1 would refuse it (its newest is 1).
    let tracks: Vec<(String, i64)> = db
        .read(|tx| {
            tx.query("SELECT component, MAX(version) FROM db_migrations GROUP BY component ORDER BY component", &[])?
                .iter()
                .map(|r| Ok((r.get(0)?, r.get(1)?)))
                .collect::<Result<Vec<_>, DbError>>()
        })
        .await
        .expect("tracks");
    assert_eq!(
        tracks,
        vec![
            ("db".to_owned(), 2),
            ("identity".to_owned(), 2),
            ("labels".to_owned(), 1),
            ("orders".to_owned(), 1),
            ("rating".to_owned(), 2),
            ("tracking".to_owned(), 1)
        ]
    );
    let legacy: i64 = db
        .read(|tx| {
            tx.query_one("SELECT MAX(version) FROM schema_migrations", &[])?
                .get(0)
        })
        .await
        .expect("legacy version");
    assert_eq!(legacy, 2);
    // A second start changes nothing more.
    rt.stop().await;
    let rt = Runtime::start(&config, Arc::new(crossdock_http::SystemClock))
        .await
        .expect("restarts");
    assert_eq!(
        rt.rating
            .as_ref()
            .and_then(|r| r.live_book(rt.default_tenant))
            .map(|l| l.id.0),
        Some(1)
    );
    rt.stop().await;
}

crossdock_db::contract_tests!(a_release_0_1_database_upgrades_in_place);

/// The data directory made by the 0.1 binary itself (see fixtures/crossdock-0.1/README.md)
/// opens with this build: its key quotes, its book is in force, nothing is seeded again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_data_directory_made_by_the_0_1_binary_opens() {
    let fixture =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/crossdock-0.1/data");
    let dir = tempfile::tempdir().expect("temp");
    std::fs::copy(
        fixture.join("crossdock.db"),
        dir.path().join("crossdock.db"),
    )
    .expect("copy the fixture");
    let key = std::fs::read_to_string(fixture.join("admin-key.txt"))
        .expect("key")
        .trim()
        .to_owned();
    let config = Config {
        data_dir: dir.path().to_owned(),
        rating: crossdock_rating::RatingConfig {
            data_dir: dir.path().to_owned(),
            isolate_checks: false,
            ..Default::default()
        },
        ..Config::default()
    };
    let rt = Runtime::start(&config, Arc::new(crossdock_http::SystemClock))
        .await
        .expect("starts on the 0.1 data");
    let record = rt
        .identity
        .verify_key_uncached(&key)
        .await
        .expect("verify")
        .expect("the 0.1 key is known");
    assert_eq!(record.label, "made by crossdock 0.1");
    let rating = rt.rating.as_ref().expect("rating");
    let live = rating
        .live_book(rt.default_tenant)
        .expect("a book in force");
    assert_eq!(live.book.label(), "demo-2026-11@8c2cec19");
    let audit = rating
        .audit(rt.default_tenant, None, 10)
        .await
        .expect("audit");
    assert_eq!(audit.len(), 2, "0.1's publish and activate, nothing new");
    rt.stop().await;
}
