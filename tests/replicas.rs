//! Two `crossdock serve` processes on one PostgreSQL database (a fresh schema): a book
//! activated or rolled back through either is in force on the other within 5 seconds, every
//! quote names the book that priced it, and a key revoked through either is refused by the
//! other within 5 seconds (issue 7, "Several processes").
//!
//! The replicas are the `crossdock` binary that `cargo test --workspace` builds beside the
//! test executables (target/…/crossdock).

mod serve;

use crossdock_db::testing::PgSchema;
use serve::{Server, create_key, delete, json, post};
use std::path::Path;
use std::time::{Duration, Instant};

/// How long a change may take to reach the other replica (the issue's bound).
const FOLLOW_S_MAX: u64 = 5;

type Replica = Server;

fn start(database: &str, data: &Path) -> Replica {
    Server::start(database, data, &[("CROSSDOCK_OUTBOX_POLL_MS", "1000")])
}

const QUOTE: &str = r#"{"origin":{"country":"CN"},"destination":{"country":"DE","postcode":"10115"},"parcel":{"weight_g":700},"currency":"EUR"}"#;

/// The book that priced a quote on this replica.
fn priced_by(replica: &Replica, key: &str) -> String {
    let (status, body) = post(&replica.url, "/v1/quotes", key, QUOTE.as_bytes());
    assert_eq!(status, 200, "{body}");
    json(&body)["rate_book"]
        .as_str()
        .expect("rate_book")
        .to_owned()
}

/// Waits until `check` holds, at most [`FOLLOW_S_MAX`] seconds; how long it took.
fn within_bound(what: &str, mut check: impl FnMut() -> bool) -> Duration {
    let started = Instant::now();
    while !check() {
        assert!(
            started.elapsed() < Duration::from_secs(FOLLOW_S_MAX),
            "{what}: not within {FOLLOW_S_MAX} s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    started.elapsed()
}

fn pack(dir: &Path) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    builder.append_dir_all(".", dir).expect("pack the book");
    builder.into_inner().expect("tar")
}

#[test]
fn replicas_follow_activations_rollbacks_and_revocations() {
    let Some(schema) = PgSchema::create() else {
        return;
    };
    let database = schema.url();
    let dirs = tempfile::tempdir().expect("temp");
    let (data_a, data_b) = (dirs.path().join("a"), dirs.path().join("b"));
    let a = start(&database, &data_a);
    let b = start(&database, &data_b);
    let (_, admin) = create_key(&database, &data_a, "admin,analyst,shipper", None);
    let demo = priced_by(&a, &admin);
    assert_eq!(
        priced_by(&b, &admin),
        demo,
        "both replicas start on the seeded demo book"
    );

    // A second book, published and activated through A.
    let next_dir = dirs.path().join("demo-next");
    crossdock_bookgen::write_demo_next(&next_dir).expect("demo-next");
    let (status, body) = post(&a.url, "/v1/rate-books", &admin, &pack(&next_dir));
    assert_eq!(status, 201, "{body}");
    let next_id = json(&body)["id"].as_i64().expect("id");
    let next_label = json(&body)["label"].as_str().expect("label").to_owned();
    let (status, body) = post(
        &a.url,
        &format!("/v1/rate-books/{next_id}/activate"),
        &admin,
        b"",
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        priced_by(&a, &admin),
        next_label,
        "in force at once where it was activated"
    );
    let mut seen = std::collections::BTreeSet::new();
    let took = within_bound("B follows A's activation", || {
        let label = priced_by(&b, &admin);
        seen.insert(label.clone());
        label == next_label
    });
    eprintln!("activation through A in force on B after {took:?}");

    // Rolled back through B: A follows.
    let (status, body) = post(&b.url, "/v1/rate-books/rollback", &admin, b"");
    assert_eq!(status, 200, "{body}");
    assert_eq!(priced_by(&b, &admin), demo);
    let took = within_bound("A follows B's rollback", || {
        let label = priced_by(&a, &admin);
        seen.insert(label.clone());
        label == demo
    });
    eprintln!("rollback through B in force on A after {took:?}");

    // Activated again through B (by id): A follows.
    let (status, body) = post(
        &b.url,
        &format!("/v1/rate-books/{next_id}/activate"),
        &admin,
        b"",
    );
    assert_eq!(status, 200, "{body}");
    within_bound("A follows B's activation", || {
        let label = priced_by(&a, &admin);
        seen.insert(label.clone());
        label == next_label
    });
    // Every quote named one of the two books, never anything else.
    assert!(
        seen.iter().all(|l| *l == demo || *l == next_label),
        "{seen:?}"
    );

    // A key revoked through B is refused by A (which had it cached), and the reverse.
    for (revoke_on, check_on) in [(&b, &a), (&a, &b)] {
        let (id, shipper) = create_key(&database, &data_a, "shipper", None);
        assert_eq!(
            post(&check_on.url, "/v1/quotes", &shipper, QUOTE.as_bytes()).0,
            200,
            "warm the cache"
        );
        let (status, body) = delete(&revoke_on.url, &format!("/v1/keys/{id}"), &admin);
        assert_eq!(status, 200, "{body}");
        let took = within_bound("the other replica refuses the revoked key", || {
            post(&check_on.url, "/v1/quotes", &shipper, QUOTE.as_bytes()).0 == 401
        });
        eprintln!(
            "revocation through {} refused by {} after {took:?}",
            revoke_on.url, check_on.url
        );
        assert_eq!(
            post(&check_on.url, "/v1/quotes", &admin, QUOTE.as_bytes()).0,
            200
        );
    }
    drop(a);
    drop(b);
    drop(schema);
}
