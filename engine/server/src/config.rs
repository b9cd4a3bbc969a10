//! Server configuration: defaults, then a TOML file, then `CROSSDOCK_*` environment
//! variables, then command-line flags — each layer overriding the one before.

use crossdock_tables::Limits;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(Clone, Debug)]
pub struct Config {
    /// Where the server listens (default 127.0.0.1:8080).
    pub listen: SocketAddr,
    /// Where the embedded database and temporary files live (default `./data`).
    pub data_dir: PathBuf,
    /// `postgres://…` for PostgreSQL; `None` for the embedded SQLite file in `data_dir`.
    pub database: Option<String>,
    /// The tenant created on first start, served the default book.
    pub default_tenant: String,
    /// A rate book directory published and activated for the default tenant on first start.
    pub default_book: Option<PathBuf>,
    /// Largest body of `POST /v1/quotes`.
    pub quote_body_bytes_max: usize,
    /// Largest body of the batch and bulk endpoints.
    pub batch_body_bytes_max: usize,
    /// Largest rate book upload.
    pub upload_bytes_max: usize,
    /// Requests per second allowed per API key (token bucket); 0 turns the limit off.
    pub rate_limit_per_s: u32,
    /// Burst allowance per API key.
    pub rate_limit_burst: u32,
    /// Limits on an uploaded book's files.
    pub book_limits: Limits,
    /// Check uploaded books in a child process (`crossdock book check`), so that no file can
    /// take the server down. Tests turn it off and check in-process.
    pub isolate_checks: bool,
    /// The `crossdock` executable used for isolated checks (default: this executable).
    pub checker: Option<PathBuf>,
    /// How long a verified key is trusted before the store is asked again
    /// ([`crate::state::KEY_CACHE_TTL`]); shorter only in tests.
    pub key_cache_ttl: std::time::Duration,
}

impl Default for Config {
    fn default() -> Config {
        let demo = PathBuf::from("rate-tables/demo");
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("data"),
            database: None,
            default_tenant: "default".into(),
            default_book: demo.is_dir().then_some(demo),
            quote_body_bytes_max: 64 * 1024,
            batch_body_bytes_max: 64 * 1024 * 1024,
            upload_bytes_max: 256 * 1024 * 1024,
            rate_limit_per_s: 200_000,
            rate_limit_burst: 400_000,
            book_limits: Limits {
                file_bytes_max: 256 * 1024 * 1024,
                table_rows_max: 20_000_000,
            },
            isolate_checks: true,
            checker: None,
            key_cache_ttl: crate::state::KEY_CACHE_TTL,
        }
    }
}

/// The config file's shape: every key optional.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<String>,
    data_dir: Option<PathBuf>,
    database: Option<String>,
    default_tenant: Option<String>,
    default_book: Option<PathBuf>,
    quote_body_bytes_max: Option<usize>,
    batch_body_bytes_max: Option<usize>,
    upload_bytes_max: Option<usize>,
    rate_limit_per_s: Option<u32>,
    rate_limit_burst: Option<u32>,
    book_file_bytes_max: Option<u64>,
    book_table_rows_max: Option<u64>,
    isolate_checks: Option<bool>,
}

impl Config {
    /// Applies a TOML config file.
    pub fn apply_file(&mut self, path: &Path) -> Result<(), String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("config file {}: {e}", path.display()))?;
        let file: FileConfig = toml::from_str(&text)
            .map_err(|e| format!("config file {}: {}", path.display(), e.message()))?;
        self.apply(file)
    }

    /// Applies `CROSSDOCK_LISTEN`, `CROSSDOCK_DATA_DIR`, `CROSSDOCK_DATABASE`, … from the environment.
    pub fn apply_env(&mut self, env: impl Fn(&str) -> Option<String>) -> Result<(), String> {
        let parse = |name: &str| -> Result<Option<u64>, String> {
            env(name)
                .map(|v| {
                    v.parse::<u64>()
                        .map_err(|_| format!("{name}={v:?} is not a whole number"))
                })
                .transpose()
        };
        let file = FileConfig {
            listen: env("CROSSDOCK_LISTEN"),
            data_dir: env("CROSSDOCK_DATA_DIR").map(PathBuf::from),
            database: env("CROSSDOCK_DATABASE"),
            default_tenant: env("CROSSDOCK_DEFAULT_TENANT"),
            default_book: env("CROSSDOCK_DEFAULT_BOOK").map(PathBuf::from),
            quote_body_bytes_max: parse("CROSSDOCK_QUOTE_BODY_BYTES_MAX")?.map(|v| v as usize),
            batch_body_bytes_max: parse("CROSSDOCK_BATCH_BODY_BYTES_MAX")?.map(|v| v as usize),
            upload_bytes_max: parse("CROSSDOCK_UPLOAD_BYTES_MAX")?.map(|v| v as usize),
            rate_limit_per_s: parse("CROSSDOCK_RATE_LIMIT_PER_S")?.map(|v| v as u32),
            rate_limit_burst: parse("CROSSDOCK_RATE_LIMIT_BURST")?.map(|v| v as u32),
            book_file_bytes_max: parse("CROSSDOCK_BOOK_FILE_BYTES_MAX")?,
            book_table_rows_max: parse("CROSSDOCK_BOOK_TABLE_ROWS_MAX")?,
            isolate_checks: None,
        };
        self.apply(file)
    }

    fn apply(&mut self, f: FileConfig) -> Result<(), String> {
        if let Some(listen) = f.listen {
            self.listen = listen.parse().map_err(|_| {
                format!("listen {listen:?} is not an address such as 127.0.0.1:8080")
            })?;
        }
        macro_rules! set {
            ($($field:ident),*) => {$(if let Some(v) = f.$field { self.$field = v; })*};
        }
        set!(
            data_dir,
            default_tenant,
            quote_body_bytes_max,
            batch_body_bytes_max,
            upload_bytes_max,
            rate_limit_per_s,
            rate_limit_burst,
            isolate_checks
        );
        if f.database.is_some() {
            self.database = f.database.filter(|d| !d.is_empty());
        }
        if f.default_book.is_some() {
            self.default_book = f.default_book.filter(|p| !p.as_os_str().is_empty());
        }
        if let Some(v) = f.book_file_bytes_max {
            self.book_limits.file_bytes_max = v;
        }
        if let Some(v) = f.book_table_rows_max {
            self.book_limits.table_rows_max = v;
        }
        Ok(())
    }
}
