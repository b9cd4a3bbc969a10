//! `crossdock serve` on a real socket, driven by the `crossdock` commands an operator uses:
//! keys from the CLI, quotes over HTTP, a broken upload refused by the isolated checker,
//! `book status|publish`, graceful shutdown on SIGTERM, and the book in force after restart.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn exe() -> &'static str {
    env!("CARGO_BIN_EXE_crossdock")
}

fn demo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rate-tables/demo")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(data: &Path, port: u16) -> Server {
    let child = Command::new(exe())
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
            data.to_str().unwrap(),
            "--book",
            demo().to_str().unwrap(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("crossdock serve starts");
    let server = Server(child);
    let deadline = Instant::now() + Duration::from_secs(120);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    while Instant::now() < deadline {
        if agent
            .get(&format!("http://127.0.0.1:{port}/readyz"))
            .call()
            .is_ok_and(|r| r.status() == 200)
        {
            return server;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("crossdock serve did not become ready on port {port}");
}

fn post(url: &str, key: &str, content_type: &str, body: &[u8]) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut response = agent
        .post(url)
        .header("Authorization", &format!("Bearer {key}"))
        .header("Content-Type", content_type)
        .send(body)
        .expect("request sent");
    let status = response.status().as_u16();
    (
        status,
        response.body_mut().read_to_string().unwrap_or_default(),
    )
}

const QUOTE: &str = r#"{"origin":{"country":"CN"},"destination":{"country":"DE","postcode":"10115"},"parcel":{"weight_g":700},"currency":"EUR"}"#;

#[test]
fn serve_quote_refuse_a_broken_book_shut_down_and_restart() {
    let data = std::env::temp_dir().join(format!("crossdock-serve-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let key_out = Command::new(exe())
        .args([
            "keys",
            "create",
            "--roles",
            "admin,analyst,shipper",
            "--data-dir",
            data.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        key_out.status.success(),
        "{}",
        String::from_utf8_lossy(&key_out.stderr)
    );
    let key = String::from_utf8(key_out.stdout)
        .unwrap()
        .trim()
        .to_string();
    assert!(key.starts_with("cdk_"), "{key}");

    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let mut server = start(&data, port);
    let (status, answer) = post(
        &format!("{url}/v1/quotes"),
        &key,
        "application/json",
        QUOTE.as_bytes(),
    );
    assert_eq!(status, 200, "{answer}");
    let doc: serde_json::Value = serde_json::from_str(&answer).unwrap();
    let label = doc["rate_book"].as_str().unwrap().to_string();
    assert!(label.starts_with("demo-2026-11@"), "{label}");

    // A tar whose rates.parquet is garbage: refused by the isolated checker, server unharmed.
    let dir = data.join("broken");
    std::fs::create_dir_all(&dir).unwrap();
    for entry in std::fs::read_dir(demo()).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
    }
    std::fs::write(dir.join("rates.parquet"), b"PAR1 not really PAR1").unwrap();
    let tar = crossdock_rating::books::pack_dir(&dir).unwrap();
    let (status, body) = post(
        &format!("{url}/v1/rate-books"),
        &key,
        "application/x-tar",
        &tar,
    );
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("\"table\":\"rates\""), "{body}");

    // The CLI client against the server.
    let status_out = Command::new(exe())
        .args(["book", "status", "--url", &url, "--key", &key])
        .output()
        .unwrap();
    assert!(status_out.status.success());
    assert!(String::from_utf8_lossy(&status_out.stdout).contains(&label));
    let publish = Command::new(exe())
        .args([
            "book",
            "publish",
            demo().to_str().unwrap(),
            "--url",
            &url,
            "--key",
            &key,
        ])
        .output()
        .unwrap();
    assert!(
        publish.status.success(),
        "{}",
        String::from_utf8_lossy(&publish.stdout)
    );
    let bad_key = Command::new(exe())
        .args(["book", "status", "--url", &url, "--key", "cdk_nope"])
        .output()
        .unwrap();
    assert!(!bad_key.status.success());

    // SIGTERM: the server stops accepting and exits cleanly.
    let pid = server.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let exit = server.0.wait().unwrap();
    assert!(exit.success(), "graceful shutdown exits 0, got {exit:?}");

    // Restarted on the same data: same book in force, same key.
    let _server = start(&data, port);
    let (status, answer) = post(
        &format!("{url}/v1/quotes"),
        &key,
        "application/json",
        QUOTE.as_bytes(),
    );
    assert_eq!(status, 200, "{answer}");
    assert!(
        answer.contains(&format!("\"rate_book\":\"{label}\"")),
        "{answer}"
    );
    let _ = std::fs::remove_dir_all(&data);
}

/// `crossdock serve` from an empty directory (no rate-tables/ beside it) seeds the demo
/// book embedded in the binary; with `--log-format json` it logs one JSON line per request
/// with a request id (echoed as `x-request-id`), and never a key's secret.
#[test]
fn serve_works_from_any_directory_and_logs_requests_as_json_without_secrets() {
    let cwd = std::env::temp_dir().join(format!("crossdock-anywhere-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&cwd);
    std::fs::create_dir_all(&cwd).unwrap();
    let key_out = Command::new(exe())
        .current_dir(&cwd)
        .args(["keys", "create", "--roles", "shipper"])
        .output()
        .unwrap();
    assert!(
        key_out.status.success(),
        "{}",
        String::from_utf8_lossy(&key_out.stderr)
    );
    let key = String::from_utf8(key_out.stdout)
        .unwrap()
        .trim()
        .to_string();
    let secret_part = key.rsplit('_').next().unwrap().to_string();
    let port = free_port();
    let log = std::fs::File::create(cwd.join("serve.log")).unwrap();
    let mut server = Server(
        Command::new(exe())
            .current_dir(&cwd)
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--log-format",
                "json",
            ])
            .env("RUST_LOG", "info")
            .env("CROSSDOCK_ACCESS_LOG", "true")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap(),
    );
    let url = format!("http://127.0.0.1:{port}");
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !agent
        .get(&format!("{url}/readyz"))
        .call()
        .is_ok_and(|r| r.status() == 200)
    {
        assert!(Instant::now() < deadline, "not ready");
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut response = agent
        .post(&format!("{url}/v1/quotes"))
        .header("Authorization", &format!("Bearer {key}"))
        .header("x-request-id", "checkout-42")
        .send(QUOTE.as_bytes())
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers().get("x-request-id").unwrap(),
        "checkout-42"
    );
    let answer = response.body_mut().read_to_string().unwrap();
    assert!(
        answer.contains("\"rate_book\":\"demo-2026-11@"),
        "the embedded demo book: {answer}"
    );
    let bad = format!("cdk_aaaaaaaaaaaa_{}", "0".repeat(64));
    let refused = agent
        .get(&format!("{url}/v1/rate-books"))
        .header("Authorization", &format!("Bearer {bad}"))
        .call()
        .unwrap();
    assert_eq!(refused.status(), 401);
    assert!(
        Command::new("kill")
            .args(["-TERM", &server.0.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    assert!(server.0.wait().unwrap().success());
    let text = std::fs::read_to_string(cwd.join("serve.log")).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
        .collect();
    let quote_line = lines
        .iter()
        .find(|l| l["fields"]["route"] == "/v1/quotes")
        .unwrap_or_else(|| panic!("no request line for /v1/quotes in:\n{text}"));
    assert_eq!(quote_line["fields"]["request_id"], "checkout-42");
    assert_eq!(quote_line["fields"]["status"], 200);
    assert!(
        !text.contains(&secret_part) && !text.contains(&bad),
        "a secret reached the log:\n{text}"
    );
    let _ = std::fs::remove_dir_all(&cwd);
}
