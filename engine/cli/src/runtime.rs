//! The runtime: one database, the components chosen, the event relay, one HTTP edge.
//!
//! Start order is the reload order. The relay is created (reading the outbox's head)
//! *before* any component loads its state, so whatever commits afterwards reaches this
//! process as an event; then components load (rating: every tenant's book in force), the
//! relay starts, and the router is assembled.
//!
//! Every process authenticates through identity and follows `key.revoked`, whichever
//! components it serves; `--components` chooses which routes and consumers a process runs.
//! Every process migrates every component's track (one binary, one schema).

use crate::config::Config;
use crossdock_db::outbox::{Relay, RelayHandle, RelayOptions};
use crossdock_db::{Db, DbOptions};
use crossdock_http::{Clock, Component, Edge, RateLimiter, TenantId};
use crossdock_identity::Identity;
use crossdock_labels::Labels;
use crossdock_orders::{Orders, OrdersConfig};
use crossdock_rating::Rating;
use crossdock_tracking::Tracking;
use std::sync::Arc;

/// A started runtime.
pub struct Runtime {
    pub db: Db,
    pub identity: Arc<Identity>,
    /// Present when this process serves rating.
    pub rating: Option<Arc<Rating>>,
    /// Present when this process serves orders.
    pub orders: Option<Arc<Orders>>,
    pub default_tenant: TenantId,
    pub router: axum::Router,
    pub openapi: utoipa::openapi::OpenApi,
    relay: Option<RelayHandle>,
    upkeep: Option<tokio::task::JoinHandle<()>>,
    /// The orders inbox's scanner, when `inbox_dir` is set.
    inbox: Option<tokio::task::JoinHandle<()>>,
    /// The tracking component's webhook worker and carrier pollers.
    jobs: Vec<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("db", &self.db)
            .finish_non_exhaustive()
    }
}

/// Opens the database named by the configuration and migrates every component's track.
pub async fn open_db(config: &Config) -> Result<Db, String> {
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|e| format!("data directory {}: {e}", config.data_dir.display()))?;
    let options = DbOptions {
        postgres_connections: config.postgres_connections,
        ..DbOptions::default()
    };
    let db = Db::open(
        config.database.as_deref().unwrap_or(""),
        &config.data_dir,
        &options,
    )
    .await
    .map_err(|e| e.to_string())?;
    db.migrate(&[
        &crossdock_identity::MIGRATIONS,
        &crossdock_rating::MIGRATIONS,
        &crossdock_orders::MIGRATIONS,
        &crossdock_labels::MIGRATIONS,
        &crossdock_tracking::MIGRATIONS,
    ])
    .await
    .map_err(|e| e.to_string())?;
    Ok(db)
}

impl Runtime {
    pub async fn start(config: &Config, clock: Arc<dyn Clock>) -> Result<Runtime, String> {
        crossdock_http::observe::prometheus();
        crossdock_http::observe::set_access_log(config.access_log);
        let db = open_db(config).await?;
        db.listen().map_err(|e| e.to_string())?;
        let mut relay = Relay::new(
            db.clone(),
            RelayOptions {
                poll: config.outbox_poll,
                retention: config.outbox_retention,
                ..RelayOptions::default()
            },
        )
        .await
        .map_err(|e| format!("event relay: {e}"))?;
        let identity = Arc::new(Identity::new(
            db.clone(),
            clock.clone(),
            config.key_cache_ttl,
        ));
        let default_tenant = identity
            .ensure_tenant(&config.default_tenant)
            .await
            .map_err(|e| format!("default tenant {:?}: {e}", config.default_tenant))?;
        // The key secrets are sealed with at rest: given, else the data directory's own.
        let sealer = Arc::new(match &config.secrets_key {
            Some(key) => crossdock_http::sealing::Sealer::from_base64(key)?,
            None => crossdock_http::sealing::Sealer::load_or_create(&config.data_dir)?,
        });
        let mut components: Vec<Component> = Vec::new();
        let identity_component = identity.component();
        for s in identity_component.subscriptions.iter().cloned() {
            relay.subscribe(s);
        }
        if config.serves("identity") {
            components.push(Component {
                subscriptions: Vec::new(),
                ..identity_component
            });
        }
        let mut rating = None;
        let mut orders_handle = None;
        // Orders price through rating's seam, so a process serving orders runs rating's
        // live books too (its routes only when it serves rating).
        if config.serves("rating") || config.serves("orders") {
            let r = Arc::new(Rating::new(
                db.clone(),
                clock.clone(),
                config.rating.clone(),
            ));
            r.load_all()
                .await
                .map_err(|e| format!("rate books in force: {e}"))?;
            seed_default_book(config, &r, default_tenant).await?;
            let component = r.component();
            for s in component.subscriptions.iter().cloned() {
                relay.subscribe(s);
            }
            if config.serves("rating") {
                components.push(component);
            }
            rating = Some(r);
        }
        // Labels are written inside the transaction that issues a segment, so every
        // process that can ship installs the handlers, whatever it serves.
        let labels = Arc::new(Labels::new(db.clone(), clock.clone()));
        labels.install();
        if config.serves("labels") {
            components.push(labels.component());
        }
        if config.serves("orders")
            && let Some(r) = &rating
        {
            let orders = Arc::new(Orders::new(
                db.clone(),
                clock.clone(),
                r.clone(),
                OrdersConfig {
                    usd_per_sdr: config.usd_per_sdr.clone(),
                    sealer: sealer.clone(),
                },
            ));
            let component = orders.component();
            for s in component.subscriptions.iter().cloned() {
                relay.subscribe(s);
            }
            components.push(component);
            orders_handle = Some(orders);
        }
        let mut jobs = Vec::new();
        if config.serves("tracking") {
            let tracking = Arc::new(Tracking::new(
                db.clone(),
                clock.clone(),
                crossdock_tracking::TrackingConfig {
                    sealer: sealer.clone(),
                    ..config.tracking.clone()
                },
            ));
            let component = tracking.component();
            for s in component.subscriptions.iter().cloned() {
                relay.subscribe(s);
            }
            components.push(component);
            jobs = tracking.spawn_jobs();
        }
        let inbox = match (&config.inbox_dir, &orders_handle) {
            (Some(dir), Some(orders)) => {
                let names = identity.clone();
                let lookup: crossdock_orders::inbox::TenantLookup = Arc::new(move |name| {
                    let names = names.clone();
                    Box::pin(
                        async move { names.tenant_by_name(&name).await.map_err(|e| e.to_string()) },
                    )
                });
                let inbox =
                    crossdock_orders::inbox::Inbox::new(orders.clone(), dir.clone(), lookup);
                Some(Arc::new(inbox).spawn())
            }
            _ => None,
        };
        let edge = Arc::new(Edge {
            auth: identity.clone(),
            limiter: RateLimiter::new(config.rate_limit_per_s, config.rate_limit_burst),
            operator_tenant: Some(default_tenant),
            idempotency: Some(db.clone()),
            clock: clock.clone(),
        });
        let upkeep = tokio::spawn(prune_idempotency(db.clone(), clock.clone()));
        let (router, openapi) = crossdock_http::app(edge, components);
        Ok(Runtime {
            db,
            identity,
            rating,
            orders: orders_handle,
            default_tenant,
            router,
            openapi,
            relay: Some(relay.spawn()),
            upkeep: Some(upkeep),
            inbox,
            jobs,
        })
    }

    /// Stops the relay and closes the database (SQLite's WAL is checkpointed).
    pub async fn stop(mut self) {
        if let Some(upkeep) = self.upkeep.take() {
            upkeep.abort();
        }
        if let Some(inbox) = self.inbox.take() {
            inbox.abort();
        }
        for job in self.jobs.drain(..) {
            job.abort();
        }
        if let Some(relay) = self.relay.take() {
            relay.stop().await;
        }
        self.db.close().await;
    }
}

/// How often kept `Idempotency-Key` answers past their time are deleted.
const IDEMPOTENCY_PRUNE_EVERY: std::time::Duration = std::time::Duration::from_secs(600);

/// Deletes kept `Idempotency-Key` answers older than `crossdock_http::idempotency::KEEP_S`,
/// every [`IDEMPOTENCY_PRUNE_EVERY`], for as long as the runtime runs.
async fn prune_idempotency(db: crossdock_db::Db, clock: Arc<dyn Clock>) {
    loop {
        tokio::time::sleep(IDEMPOTENCY_PRUNE_EVERY).await;
        let before = clock.now_unix() - crossdock_http::idempotency::KEEP_S;
        match db
            .write(move |tx| crossdock_db::idempotency::prune(tx, before))
            .await
        {
            Ok(n) if n > 0 => tracing::info!(deleted = n, "idempotency answers pruned"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "idempotency answers could not be pruned"),
        }
    }
}

/// On a fresh data directory, the default tenant gets the default book: a directory if
/// configured, else the demo book embedded in the binary.
async fn seed_default_book(
    config: &Config,
    rating: &Rating,
    tenant: TenantId,
) -> Result<(), String> {
    let archive = match &config.default_book {
        Some(dir) if dir.as_os_str().is_empty() => return Ok(()),
        Some(dir) => crossdock_rating::books::pack_dir(dir)
            .map_err(|e| format!("default book {}: {e}", dir.display()))?,
        None => crate::demo::archive().map_err(|e| format!("the embedded demo book: {e}"))?,
    };
    rating
        .seed(tenant, archive, "crossdock (first start)")
        .await
        .map_err(|e| format!("default book: {e}"))
}

/// Runs the server until SIGINT or SIGTERM, then stops accepting and lets requests finish.
pub async fn serve(config: Config) -> Result<(), String> {
    let runtime = Runtime::start(&config, Arc::new(crossdock_http::SystemClock)).await?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    let books: Vec<String> = runtime
        .rating
        .as_ref()
        .map(|r| r.live_labels().into_iter().map(|(l, _)| l).collect())
        .unwrap_or_default();
    tracing::info!(
        listen = %config.listen,
        components = %config.components.join(","),
        database = match runtime.db.dialect() {
            crossdock_db::Dialect::Sqlite => "sqlite",
            crossdock_db::Dialect::Postgres => "postgres",
        },
        books = %books.join(","),
        "crossdock serving"
    );
    eprintln!(
        "crossdock: listening on http://{}; books in force: {}",
        config.listen,
        books.join(", ")
    );
    axum::serve(listener, runtime.router.clone())
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|e| e.to_string())?;
    runtime.stop().await;
    tracing::info!("crossdock stopped");
    eprintln!("crossdock: stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
