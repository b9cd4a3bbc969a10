//! Two `crossdock serve` processes on one PostgreSQL database (a fresh schema): a book
//! activated or rolled back through either is in force on the other within 5 seconds, every
//! quote names the book that priced it, and a key revoked through either is refused by the
//! other within 5 seconds (issue 7, "Several processes").
//!
//! The replicas are the `crossdock` binary that `cargo test --workspace` builds beside the
//! test executables (target/…/crossdock).

use crossdock_db::testing::PgSchema;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a change may take to reach the other replica (the issue's bound).
const FOLLOW_S_MAX: u64 = 5;

fn exe() -> PathBuf {
    let mut dir = std::env::current_exe().expect("the test executable");
    dir.pop(); // deps/
    dir.pop(); // debug/ (or release/)
    let exe = dir.join(format!("crossdock{}", std::env::consts::EXE_SUFFIX));
    assert!(
        exe.is_file(),
        "{} is missing: run `cargo build -p crossdock` (cargo test --workspace builds it)",
        exe.display()
    );
    exe
}

struct Replica {
    child: Child,
    url: String,
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("a port")
        .local_addr()
        .expect("addr")
        .port()
}

fn start(database: &str, data: &Path) -> Replica {
    let port = free_port();
    let child = Command::new(exe())
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(data)
        .args(["--database", database])
        .env("CROSSDOCK_OUTBOX_POLL_MS", "1000")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("crossdock serve starts");
    let replica = Replica {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    let started = Instant::now();
    loop {
        if let Ok((200, _)) = get(&replica.url, "/readyz", None) {
            return replica;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "replica on port {port} not ready in 60 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

fn answer(
    result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
) -> Result<(u16, String), String> {
    let mut response = result.map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    Ok((
        status,
        response
            .body_mut()
            .read_to_string()
            .map_err(|e| e.to_string())?,
    ))
}

fn get(base: &str, path: &str, key: Option<&str>) -> Result<(u16, String), String> {
    let mut request = agent().get(&format!("{base}{path}"));
    if let Some(key) = key {
        request = request.header("Authorization", &format!("Bearer {key}"));
    }
    answer(request.call())
}

fn post(base: &str, path: &str, key: &str, body: &[u8]) -> (u16, String) {
    answer(
        agent()
            .post(&format!("{base}{path}"))
            .header("Authorization", &format!("Bearer {key}"))
            .send(body),
    )
    .unwrap_or_else(|e| panic!("POST {path}: {e}"))
}

fn delete(base: &str, path: &str, key: &str) -> (u16, String) {
    answer(
        agent()
            .delete(&format!("{base}{path}"))
            .header("Authorization", &format!("Bearer {key}"))
            .call(),
    )
    .unwrap_or_else(|e| panic!("DELETE {path}: {e}"))
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
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

fn create_key(database: &str, data: &Path, roles: &str) -> (String, String) {
    let out = Command::new(exe())
        .args([
            "keys",
            "create",
            "--roles",
            roles,
            "--database",
            database,
            "--data-dir",
        ])
        .arg(data)
        .env("RUST_LOG", "warn")
        .output()
        .expect("crossdock keys create");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let secret = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let id = secret
        .split('_')
        .nth(1)
        .expect("cdk_<id>_<secret>")
        .to_owned();
    (id, secret)
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
    let (_, admin) = create_key(&database, &data_a, "admin,analyst,shipper");
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
        let (id, shipper) = create_key(&database, &data_a, "shipper");
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
