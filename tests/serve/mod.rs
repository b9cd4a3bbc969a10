//! `crossdock` processes for end-to-end tests: the binary `cargo test --workspace` builds
//! beside the test executables (target/…/crossdock), started on a free loopback port, and
//! plain blocking HTTP calls to it.

#![allow(dead_code)] // each test file uses its own part

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The `crossdock` binary built with the tests.
pub fn exe() -> PathBuf {
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

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("a port")
        .local_addr()
        .expect("addr")
        .port()
}

/// A running `crossdock serve`; killed (SIGKILL) and reaped when dropped.
pub struct Server {
    pub child: Child,
    pub url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts `crossdock serve` on `database` (a location as `--database` takes) with its
    /// data directory `data`, and waits until `/readyz` answers 200 (at most 60 s).
    pub fn start(database: &str, data: &Path, env: &[(&str, &str)]) -> Server {
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
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("crossdock serve starts");
        let server = Server {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let started = Instant::now();
        loop {
            if let Ok((200, _)) = get(&server.url, "/readyz", None) {
                return server;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "crossdock serve on port {port} not ready in 60 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `kill -9`: no shutdown hook, no flush, no goodbye.
    pub fn kill_9(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
    }
}

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

pub fn answer(
    result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
) -> Result<(u16, String), String> {
    let mut response = result.map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .with_config()
        .limit(1 << 30)
        .read_to_vec()
        .map_err(|e| e.to_string())?;
    // Labels in PDF are not text; the tests read only the status of those.
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

pub fn get(base: &str, path: &str, key: Option<&str>) -> Result<(u16, String), String> {
    let mut request = agent().get(&format!("{base}{path}"));
    if let Some(key) = key {
        request = request.header("Authorization", &format!("Bearer {key}"));
    }
    answer(request.call())
}

/// A POST that must get an HTTP answer (a transport failure fails the test).
pub fn post(base: &str, path: &str, key: &str, body: &[u8]) -> (u16, String) {
    try_post(base, path, key, None, body).unwrap_or_else(|e| panic!("POST {path}: {e}"))
}

/// A POST that may fail in transport (the server killed under it): `Err` says how.
pub fn try_post(
    base: &str,
    path: &str,
    key: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<(u16, String), String> {
    let mut request = agent()
        .post(&format!("{base}{path}"))
        .header("Authorization", &format!("Bearer {key}"));
    if let Some(t) = content_type {
        request = request.header("Content-Type", t);
    }
    answer(request.send(body))
}

pub fn delete(base: &str, path: &str, key: &str) -> (u16, String) {
    answer(
        agent()
            .delete(&format!("{base}{path}"))
            .header("Authorization", &format!("Bearer {key}"))
            .call(),
    )
    .unwrap_or_else(|e| panic!("DELETE {path}: {e}"))
}

pub fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// `crossdock keys create --roles ROLES [--customer C]` on the server's database: (key id,
/// secret).
pub fn create_key(
    database: &str,
    data: &Path,
    roles: &str,
    customer: Option<&str>,
) -> (String, String) {
    let mut command = Command::new(exe());
    command
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
        .env("RUST_LOG", "warn");
    if let Some(c) = customer {
        command.args(["--customer", c]);
    }
    let out = command.output().expect("crossdock keys create");
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
