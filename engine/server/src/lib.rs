//! # crossdock-server: the HTTP quote server
//!
//! `POST /v1/quotes` answers exactly as `crossdock quote` does (both go through
//! `crossdock-api`), priced by the caller's tenant's rate book in force. Around it: API keys
//! with tenants and roles, per-key rate limits, rate-book upload/activation/rollback with an
//! audit log, health and Prometheus metrics.
//!
//! What it guarantees:
//! - **Atomic swaps.** A quote loads its tenant's book once (`arc_swap`) and is priced by
//!   exactly that book, which its answer names. New books are unpacked, checked (in a child
//!   process) and compiled off the serving threads; in-flight quotes finish on the old one.
//! - **Tenants are walls.** Every store query is scoped by the key's tenant; another tenant's
//!   book or key answers 404, never data.
//! - **No input crashes it.** Bodies are size-limited per route, every parse error is a 400
//!   naming the field, uploads are untrusted archives.
//!
//! It knows nothing of pricing rules (engine), Parquet (tables) or SQL (store).

pub mod books;
pub mod config;
pub mod metrics;
pub mod routes;
pub mod state;

pub use config::Config;
pub use state::{AppState, Clock, SystemClock};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post, put};
use crossdock_store::Store;
use std::sync::Arc;

/// The application: every route, with its body limit.
pub fn app(state: Arc<AppState>) -> Router {
    let c = &state.config;
    Router::new()
        .route("/healthz", get(routes::healthz))
        .route("/readyz", get(routes::readyz))
        .route("/metrics", get(routes::metrics))
        .route(
            "/v1/quotes",
            post(routes::quote).layer(DefaultBodyLimit::max(c.quote_body_bytes_max)),
        )
        .route(
            "/v1/quotes/batch",
            post(routes::quote_batch).layer(DefaultBodyLimit::max(c.batch_body_bytes_max)),
        )
        .route(
            "/v1/rate-books",
            post(routes::upload_book)
                .get(routes::list_books)
                .layer(DefaultBodyLimit::max(c.upload_bytes_max)),
        )
        .route(
            "/v1/route",
            post(routes::route).layer(DefaultBodyLimit::max(c.batch_body_bytes_max)),
        )
        .route("/v1/rate-books/audit", get(routes::audit))
        .route("/v1/rate-books/rollback", post(routes::rollback_book))
        .route("/v1/rate-books/{id}", get(routes::get_book))
        .route("/v1/rate-books/{id}/activate", post(routes::activate_book))
        .route("/v1/rate-books/{id}/diff", get(routes::diff_book))
        .route(
            "/v1/replays/{name}",
            put(routes::put_replay).layer(DefaultBodyLimit::max(c.upload_bytes_max)),
        )
        .route("/v1/replays", get(routes::list_replays))
        .route(
            "/v1/keys",
            post(routes::create_key)
                .get(routes::list_keys)
                .layer(DefaultBodyLimit::max(64 * 1024)),
        )
        .route("/v1/keys/{id}", delete(routes::revoke_key))
        .fallback(routes::not_found)
        .with_state(state)
}

/// Opens the store named by the configuration.
pub async fn open_store(config: &Config) -> Result<Store, String> {
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|e| format!("data directory {}: {e}", config.data_dir.display()))?;
    Store::open(config.database.as_deref().unwrap_or(""), &config.data_dir)
        .await
        .map_err(|e| e.to_string())
}

/// Runs the server until SIGINT or SIGTERM, then stops accepting and lets requests finish.
pub async fn serve(config: Config) -> Result<(), String> {
    let store = open_store(&config).await?;
    let listen = config.listen;
    let state = Arc::new(AppState::new(config, store, Arc::new(SystemClock)));
    state.start().await?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let books = state.live_labels();
    eprintln!(
        "crossdock: listening on http://{listen}; books in force: {}",
        books
            .iter()
            .map(|(l, _)| l.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|e| e.to_string())?;
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
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
