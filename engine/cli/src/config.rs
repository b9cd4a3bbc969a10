//! `crossdock serve`'s configuration: defaults, then a TOML file, then `CROSSDOCK_<NAME>`
//! environment variables, then command-line flags — each layer overriding the one before.
//! Every key is a top-level key of the file and a variable of the same name in capitals
//! (api-conventions.md, "Settings"); a file with an unknown key is refused, naming it.

use crossdock_rating::RatingConfig;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Every component this build has, in start order.
pub const COMPONENTS: [&str; 5] = ["identity", "rating", "orders", "labels", "tracking"];

#[derive(Clone, Debug)]
pub struct Config {
    /// Where the server listens (default 127.0.0.1:8080).
    pub listen: SocketAddr,
    /// The embedded database and temporary files (default `./data`).
    pub data_dir: PathBuf,
    /// `postgres://…` for PostgreSQL; `None` for the embedded SQLite file in `data_dir`.
    pub database: Option<String>,
    /// The operator's tenant: created on first start, given the default book; its admins
    /// read `/metrics`.
    pub default_tenant: String,
    /// A rate book directory for the default tenant on first start; `None`: the demo book
    /// embedded in the binary; `Some("")` (`default_book = ""`): none.
    pub default_book: Option<PathBuf>,
    /// The components whose routes this process serves (default: all).
    pub components: Vec<String>,
    pub rating: RatingConfig,
    /// Requests per second allowed per API key (token bucket); 0 turns the limit off.
    pub rate_limit_per_s: u32,
    /// Burst allowance per API key.
    pub rate_limit_burst: u32,
    /// How long a verified key is trusted before the database is asked again (revocations
    /// reach every process at once through `key.revoked`; this is the safety net).
    pub key_cache_ttl: Duration,
    /// The longest wait of the event relay between reads.
    pub outbox_poll: Duration,
    /// How long events are kept after every durable consumer has applied them.
    pub outbox_retention: Duration,
    /// PostgreSQL connections of this process.
    pub postgres_connections: usize,
    /// `text` (default) or `json`, one line per event on stderr.
    pub log_format: String,
    /// A `tracing` filter (`info`, `crossdock_rating=debug,info`); `RUST_LOG` wins.
    pub log_level: String,
    /// One log line per request (method, route, status, time, key id, request id).
    pub access_log: bool,
    /// US dollars per SDR, for customs values when the pricing book has no `XDR` rate
    /// (orders-labels.md); decimal text.
    pub usd_per_sdr: String,
    /// The orders inbox: files in `<inbox_dir>/<tenant>/<customer>/` become orders
    /// (orders-labels.md, "Orders in bulk"); `None`: no inbox.
    pub inbox_dir: Option<PathBuf>,
    /// The tracking component's settings (`webhook_allow_cidrs`, `webhook_retry_delays_s`,
    /// `webhook_timeout_s`, `carrier_replay_window_s`; tracking.md).
    pub tracking: crossdock_tracking::TrackingConfig,
    /// The key secrets are sealed with at rest (base64 of 32 bytes); `None`: the
    /// `secrets.key` file of `data_dir`, made on first start. Every process sharing one
    /// database needs the same key.
    pub secrets_key: Option<String>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("data"),
            database: None,
            default_tenant: "default".into(),
            default_book: None,
            components: COMPONENTS.iter().map(|c| (*c).to_owned()).collect(),
            rating: RatingConfig::default(),
            rate_limit_per_s: 200_000,
            rate_limit_burst: 400_000,
            key_cache_ttl: crossdock_identity::KEY_CACHE_TTL,
            outbox_poll: Duration::from_millis(1000),
            outbox_retention: Duration::from_secs(7 * 86_400),
            postgres_connections: 8,
            log_format: "text".into(),
            log_level: "info".into(),
            access_log: false,
            usd_per_sdr: "1.36".into(),
            inbox_dir: None,
            tracking: crossdock_tracking::TrackingConfig::default(),
            secrets_key: None,
        }
    }
}

/// The file's shape: every key optional, unknown keys refused.
#[derive(Deserialize, Default, Debug)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    listen: Option<String>,
    data_dir: Option<PathBuf>,
    database: Option<String>,
    default_tenant: Option<String>,
    default_book: Option<PathBuf>,
    components: Option<String>,
    quote_body_bytes_max: Option<usize>,
    batch_body_bytes_max: Option<usize>,
    batch_lines_max: Option<usize>,
    upload_bytes_max: Option<usize>,
    rate_limit_per_s: Option<u32>,
    rate_limit_burst: Option<u32>,
    book_file_bytes_max: Option<u64>,
    book_table_rows_max: Option<u64>,
    isolate_checks: Option<bool>,
    key_cache_ttl_s: Option<u64>,
    outbox_poll_ms: Option<u64>,
    outbox_retention_days: Option<u64>,
    postgres_connections: Option<usize>,
    log_format: Option<String>,
    log_level: Option<String>,
    access_log: Option<bool>,
    usd_per_sdr: Option<toml::Value>,
    inbox_dir: Option<PathBuf>,
    /// A TOML array of CIDR strings, or (environment) one comma-separated string.
    webhook_allow_cidrs: Option<toml::Value>,
    /// A TOML array of whole seconds, or (environment) one comma-separated string.
    webhook_retry_delays_s: Option<toml::Value>,
    webhook_timeout_s: Option<u64>,
    carrier_replay_window_s: Option<u64>,
    secrets_key: Option<String>,
}

/// A list setting: a TOML array, or one comma-separated string (how the environment gives
/// it).
fn list_setting(key: &str, value: &toml::Value) -> Result<Vec<String>, String> {
    match value {
        toml::Value::String(s) => Ok(s
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect()),
        toml::Value::Integer(n) => Ok(vec![n.to_string()]),
        toml::Value::Array(items) => items
            .iter()
            .map(|v| match v {
                toml::Value::String(s) => Ok(s.trim().to_owned()),
                toml::Value::Integer(n) => Ok(n.to_string()),
                _ => Err(format!(
                    "{key}: every item must be a string or a whole number"
                )),
            })
            .collect(),
        _ => Err(format!("{key} must be a list")),
    }
}

/// The keys, for the environment layer (`CROSSDOCK_` + the key in capitals).
const KEYS: [&str; 29] = [
    "listen",
    "data_dir",
    "database",
    "default_tenant",
    "default_book",
    "components",
    "quote_body_bytes_max",
    "batch_body_bytes_max",
    "batch_lines_max",
    "upload_bytes_max",
    "rate_limit_per_s",
    "rate_limit_burst",
    "book_file_bytes_max",
    "book_table_rows_max",
    "isolate_checks",
    "key_cache_ttl_s",
    "outbox_poll_ms",
    "outbox_retention_days",
    "postgres_connections",
    "log_format",
    "log_level",
    "access_log",
    "usd_per_sdr",
    "inbox_dir",
    "webhook_allow_cidrs",
    "webhook_retry_delays_s",
    "webhook_timeout_s",
    "carrier_replay_window_s",
    "secrets_key",
];

impl Config {
    /// Applies a TOML config file.
    pub fn apply_file(&mut self, path: &Path) -> Result<(), String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("config file {}: {e}", path.display()))?;
        let file: FileConfig = toml::from_str(&text)
            .map_err(|e| format!("config file {}: {}", path.display(), e.message()))?;
        self.apply(file)
    }

    /// Applies `CROSSDOCK_<KEY>` variables: whole numbers and `true`/`false` as such,
    /// anything else as text.
    pub fn apply_env(&mut self, env: impl Fn(&str) -> Option<String>) -> Result<(), String> {
        let mut table = toml::Table::new();
        for key in KEYS {
            let name = format!("CROSSDOCK_{}", key.to_ascii_uppercase());
            let Some(value) = env(&name) else { continue };
            let parsed = if let Ok(n) = value.parse::<i64>() {
                toml::Value::Integer(n)
            } else if let Ok(b) = value.parse::<bool>() {
                toml::Value::Boolean(b)
            } else {
                toml::Value::String(value.clone())
            };
            let mut one = toml::Table::new();
            one.insert(key.to_owned(), parsed.clone());
            FileConfig::deserialize(one)
                .map_err(|e| format!("{name}={value:?}: {}", e.message()))?;
            table.insert(key.to_owned(), parsed);
        }
        let file =
            FileConfig::deserialize(table).map_err(|e| format!("environment: {}", e.message()))?;
        self.apply(file)
    }

    pub fn apply(&mut self, f: FileConfig) -> Result<(), String> {
        if let Some(listen) = f.listen {
            self.set_listen(&listen)?;
        }
        if let Some(v) = f.data_dir {
            self.data_dir = v;
        }
        if let Some(v) = f.database {
            self.database = Some(v).filter(|d| !d.is_empty());
        }
        if let Some(v) = f.default_tenant {
            self.default_tenant = v;
        }
        if let Some(v) = f.default_book {
            self.default_book = Some(v);
        }
        if let Some(v) = f.components {
            self.set_components(&v)?;
        }
        let r = &mut self.rating;
        macro_rules! set {
            ($($from:ident => $to:expr),* $(,)?) => {$(if let Some(v) = f.$from { $to = v; })*};
        }
        set!(
            quote_body_bytes_max => r.quote_body_bytes_max,
            batch_body_bytes_max => r.batch_body_bytes_max,
            batch_lines_max => r.batch_lines_max,
            upload_bytes_max => r.upload_bytes_max,
            book_file_bytes_max => r.book_limits.file_bytes_max,
            book_table_rows_max => r.book_limits.table_rows_max,
            isolate_checks => r.isolate_checks,
            rate_limit_per_s => self.rate_limit_per_s,
            rate_limit_burst => self.rate_limit_burst,
            postgres_connections => self.postgres_connections,
            access_log => self.access_log,
        );
        if let Some(v) = f.key_cache_ttl_s {
            self.key_cache_ttl = Duration::from_secs(v);
        }
        if let Some(v) = f.outbox_poll_ms {
            if v == 0 {
                return Err("outbox_poll_ms must be above 0".into());
            }
            self.outbox_poll = Duration::from_millis(v);
        }
        if let Some(v) = f.outbox_retention_days {
            self.outbox_retention = Duration::from_secs(v.saturating_mul(86_400));
        }
        if let Some(v) = f.log_format {
            if !matches!(v.as_str(), "text" | "json") {
                return Err(format!("log_format {v:?} is not text or json"));
            }
            self.log_format = v;
        }
        if let Some(v) = f.log_level {
            self.log_level = v;
        }
        if let Some(v) = f.usd_per_sdr {
            let text = match &v {
                toml::Value::String(s) => s.clone(),
                toml::Value::Integer(n) => n.to_string(),
                toml::Value::Float(x) => x.to_string(),
                _ => String::new(),
            };
            let ok = rust_decimal::Decimal::from_str_exact(text.trim())
                .is_ok_and(|d| d > rust_decimal::Decimal::ZERO);
            if !ok {
                return Err(format!(
                    "usd_per_sdr {text:?} is not a decimal above 0, such as \"1.36\""
                ));
            }
            self.usd_per_sdr = text.trim().to_owned();
        }
        if let Some(v) = f.inbox_dir {
            self.inbox_dir = Some(v).filter(|d| !d.as_os_str().is_empty());
        }
        if let Some(v) = f.webhook_allow_cidrs {
            self.tracking.allow_cidrs = list_setting("webhook_allow_cidrs", &v)?
                .iter()
                .map(|c| {
                    crossdock_tracking::address::Cidr::parse(c)
                        .map_err(|e| format!("webhook_allow_cidrs: {c:?}: {e}"))
                })
                .collect::<Result<_, _>>()?;
        }
        if let Some(v) = f.webhook_retry_delays_s {
            self.tracking.retry_delays_s = list_setting("webhook_retry_delays_s", &v)?
                .iter()
                .map(|d| {
                    d.parse::<u64>()
                        .map_err(|_| format!("webhook_retry_delays_s: {d:?} is not whole seconds"))
                })
                .collect::<Result<_, _>>()?;
        }
        if let Some(v) = f.webhook_timeout_s {
            if v == 0 || v > 300 {
                return Err("webhook_timeout_s must be from 1 to 300".into());
            }
            self.tracking.timeout = Duration::from_secs(v);
        }
        if let Some(v) = f.secrets_key {
            crossdock_http::sealing::Sealer::from_base64(&v)?;
            self.secrets_key = Some(v).filter(|k| !k.trim().is_empty());
        }
        if let Some(v) = f.carrier_replay_window_s {
            self.tracking.replay_window_s = i64::try_from(v).unwrap_or(i64::MAX);
        }
        self.rating.data_dir = self.data_dir.clone();
        Ok(())
    }

    pub fn set_listen(&mut self, listen: &str) -> Result<(), String> {
        self.listen = listen
            .parse()
            .map_err(|_| format!("listen {listen:?} is not an address such as 127.0.0.1:8080"))?;
        Ok(())
    }

    /// `identity,rating` (any order; `all` for every component).
    pub fn set_components(&mut self, list: &str) -> Result<(), String> {
        let mut chosen = Vec::new();
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            if name == "all" {
                chosen.extend(COMPONENTS.iter().map(|c| (*c).to_owned()));
            } else if COMPONENTS.contains(&name) {
                chosen.push(name.to_owned());
            } else {
                return Err(format!(
                    "components: {name:?} is not a component ({})",
                    COMPONENTS.join(", ")
                ));
            }
        }
        if chosen.is_empty() {
            return Err("components: name at least one".into());
        }
        chosen.sort_by_key(|c| COMPONENTS.iter().position(|k| k == c));
        chosen.dedup();
        self.components = chosen;
        Ok(())
    }

    pub fn serves(&self, component: &str) -> bool {
        self.components.iter().any(|c| c == component)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_refused_by_name() {
        let dir = tempfile_dir();
        let path = dir.join("crossdock.toml");
        std::fs::write(&path, "listen = \"127.0.0.1:9\"\nlisten_port = 9\n").expect("write");
        let e = Config::default().apply_file(&path).unwrap_err();
        assert!(e.contains("listen_port"), "{e}");
    }

    #[test]
    fn layers_apply_in_order_and_env_names_every_key() {
        let mut c = Config::default();
        c.apply_env(|name| match name {
            "CROSSDOCK_BATCH_LINES_MAX" => Some("7".into()),
            "CROSSDOCK_COMPONENTS" => Some("rating".into()),
            "CROSSDOCK_LISTEN" => Some("127.0.0.1:9999".into()),
            "CROSSDOCK_ISOLATE_CHECKS" => Some("false".into()),
            _ => None,
        })
        .expect("env");
        assert_eq!(c.rating.batch_lines_max, 7);
        assert_eq!(c.components, vec!["rating".to_owned()]);
        assert_eq!(c.listen.port(), 9999);
        assert!(!c.rating.isolate_checks);
        let e = c
            .apply_env(|name| (name == "CROSSDOCK_BATCH_LINES_MAX").then(|| "many".into()))
            .unwrap_err();
        assert!(e.contains("CROSSDOCK_BATCH_LINES_MAX"), "{e}");
        assert!(Config::default().set_components("rating,billing").is_err());
        let mut t = Config::default();
        t.apply_env(|name| match name {
            "CROSSDOCK_WEBHOOK_ALLOW_CIDRS" => Some("127.0.0.0/8, ::1".into()),
            "CROSSDOCK_WEBHOOK_RETRY_DELAYS_S" => Some("1,2".into()),
            "CROSSDOCK_WEBHOOK_TIMEOUT_S" => Some("3".into()),
            _ => None,
        })
        .expect("tracking env");
        assert_eq!(t.tracking.allow_cidrs.len(), 2);
        assert_eq!(t.tracking.retry_delays_s, vec![1, 2]);
        assert_eq!(t.tracking.timeout, Duration::from_secs(3));
        assert!(
            t.apply_env(|n| (n == "CROSSDOCK_WEBHOOK_ALLOW_CIDRS").then(|| "10.0.0.0/33".into()))
                .unwrap_err()
                .contains("webhook_allow_cidrs")
        );
    }

    fn tempfile_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("crossdock-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        dir
    }
}
