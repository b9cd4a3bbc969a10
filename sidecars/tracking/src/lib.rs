//! # crossdock-tracking: one timeline per parcel, customer webhooks, delivery performance
//!
//! Owns `tracking_parcels`, `tracking_numbers`, `tracking_events`, `tracking_connections`,
//! `tracking_webhooks` and `tracking_deliveries` (tracking.md).
//!
//! - **Registration** (`consume.rs`): `shipment.created` / `.relabelled` from the orders
//!   component, through the outbox, register the parcel under every issued number.
//! - **Sources** (`formats.rs`): hub scans, the 17TRACK, AfterShip and UPU EMSEVT pushes
//!   with their signatures, and the poll format (`poll.rs` runs the pollers). Every event
//!   is normalised to the contract's model (`model.rs`) and accepted by `ingest.rs`:
//!   deduplicated by identity, matched by number (else kept as unmatched), folded into the
//!   parcel's status (a maximum, so arrival order never matters), in one transaction with
//!   the `tracking.updated` it causes.
//! - **Views** (`http.rs`): the timeline, stuck parcels, unmatched events, the public page.
//! - **Customer webhooks** (`webhooks.rs`): fan-out from the outbox, signed deliveries
//!   with the contract's retry schedule, dead letters; outbound addresses are checked after
//!   resolution at registration and at every connection (`address.rs`).
//! - **Delivery performance** (`report.rs`).
//!
//! What it never knows: the orders component's tables (only its events), rate books,
//! money. A `weigh` scan's re-pricing happens in the orders component, which follows
//! `parcel.weighed`.

pub mod address;
mod consume;
pub mod formats;
mod http;
pub mod ingest;
pub mod model;
pub mod poll;
pub mod report;
pub mod store;
pub mod webhooks;

pub use consume::{on_shipments, parcel_of, register};
pub use http::{BULK_EVENTS_MIN, performance_rows};

use crossdock_db::{Db, Migration, Migrations};
use crossdock_http::{Clock, Component};
use std::sync::Arc;
use std::time::Duration;

pub static MIGRATIONS: Migrations = Migrations {
    component: "tracking",
    sqlite: &[Migration {
        version: 1,
        sql: include_str!("../migrations/sqlite/0001_init.sql"),
    }],
    postgres: &[Migration {
        version: 1,
        sql: include_str!("../migrations/postgres/0001_init.sql"),
    }],
};

/// Largest ingest body, in bytes (tracking.md: over 5 MiB answers 413).
pub const INGEST_BODY_BYTES_MAX: usize = 5 * 1024 * 1024;
/// Largest body of the other JSON routes, in bytes.
pub const BODY_BYTES_MAX: usize = 64 * 1024;

/// The tracking component's settings (tracking.md: `webhook_allow_cidrs`,
/// `webhook_retry_delays_s`, `webhook_timeout_s`, `carrier_replay_window_s`).
#[derive(Clone)]
pub struct TrackingConfig {
    /// Ranges exempt from the outbound address check (tests only; default none).
    pub allow_cidrs: Vec<address::Cidr>,
    /// Waits before each retry of a failed delivery, in seconds.
    pub retry_delays_s: Vec<u64>,
    /// A delivery succeeds with a 2xx within this long.
    pub timeout: Duration,
    /// A signed carrier push more than this far from now is refused (seconds).
    pub replay_window_s: i64,
    /// Name resolution for outbound addresses; `None`: the system's (tests give their own,
    /// to make a name change its addresses between registration and delivery).
    pub lookup: Option<webhooks::Lookup>,
    /// Seals the secrets and tokens kept in the tables (the runtime gives the
    /// installation's key; the default is a key of this process only).
    pub sealer: Arc<crossdock_http::sealing::Sealer>,
}

impl std::fmt::Debug for TrackingConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrackingConfig")
            .field("allow_cidrs", &self.allow_cidrs)
            .field("retry_delays_s", &self.retry_delays_s)
            .field("timeout", &self.timeout)
            .field("replay_window_s", &self.replay_window_s)
            .field("lookup", &self.lookup.as_ref().map(|_| "custom"))
            .finish()
    }
}

impl Default for TrackingConfig {
    fn default() -> TrackingConfig {
        TrackingConfig {
            allow_cidrs: Vec::new(),
            retry_delays_s: vec![5, 300, 1800, 7200, 18_000, 36_000, 36_000],
            timeout: Duration::from_secs(10),
            replay_window_s: 300,
            lookup: None,
            sealer: Arc::new(crossdock_http::sealing::Sealer::ephemeral()),
        }
    }
}

/// The tracking component's handle.
pub struct Tracking {
    pub(crate) db: Db,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) config: TrackingConfig,
    /// Wakes the delivery worker when the fan-out queued messages.
    pub(crate) deliveries: Arc<tokio::sync::Notify>,
}

impl std::fmt::Debug for Tracking {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tracking").finish_non_exhaustive()
    }
}

impl Tracking {
    pub fn new(db: Db, clock: Arc<dyn Clock>, config: TrackingConfig) -> Tracking {
        Tracking {
            db,
            clock,
            config,
            deliveries: Arc::new(tokio::sync::Notify::new()),
        }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub fn config(&self) -> &TrackingConfig {
        &self.config
    }

    /// Now, in milliseconds (the clock's seconds).
    pub(crate) fn now_ms(&self) -> i64 {
        self.clock.now_unix() * 1000
    }

    /// Routes and the two durable consumers (registration and webhook fan-out).
    pub fn component(self: &Arc<Tracking>) -> Component {
        Component {
            name: "tracking",
            migrations: &MIGRATIONS,
            router: http::router(self.clone()),
            subscriptions: vec![consume::subscription(), webhooks::fanout(self.clone())],
            ready: Arc::new(|| true),
        }
    }

    /// Starts the background jobs: the webhook delivery worker and the carrier pollers.
    /// They stop when the returned handles are dropped or aborted.
    pub fn spawn_jobs(self: &Arc<Tracking>) -> Vec<tokio::task::JoinHandle<()>> {
        vec![
            tokio::spawn(webhooks::worker(self.clone())),
            tokio::spawn(poll::scheduler(self.clone())),
        ]
    }
}
