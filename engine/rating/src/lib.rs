//! # crossdock-rating: the rating component
//!
//! Owns `rating_books`, `rating_activations` and `rating_audit`: each tenant's stored rate
//! books (archive and check report, once per content hash), the history of the book in
//! force, and the audit log of publishes, activations and rollbacks. Serves
//! `POST /v1/quotes` (exactly as `crossdock quote` answers, both through `crossdock-api`),
//! batches, bulk routing, rate-book upload/activation/rollback/audit and what-ifs.
//!
//! What it guarantees:
//! - **Atomic swaps.** A quote loads its tenant's book once (`arc_swap`) and is priced by
//!   exactly that book, which its answer names. New books are unpacked, checked (in a child
//!   process) and compiled off the serving threads; in-flight quotes finish on the old one.
//! - **Compile, then record, then swap** (`live.rs`), for activations and rollbacks alike.
//! - **Replicas follow.** Every activation or rollback emits `book.activated` in its
//!   transaction; every process consumes it by re-reading the tenant's active book, the
//!   same path start-up takes.
//! - **Tenants are walls.** Every query is scoped by the principal's tenant; another
//!   tenant's book answers 404, never data.
//!
//! What it never knows: keys and tenants' names (identity), SQL dialects (db), how errors
//! are rendered (http). It depends on no other component.

pub mod books;
mod error;
mod http;
mod live;
pub mod metrics;
pub mod model;
mod pricing;
mod store;

pub use error::RatingError;
pub use live::{COMPILED_PER_TENANT, Live, Rating};
pub use model::{AuditAction, AuditEntry, BookId, BookRecord};

use crossdock_db::outbox::{Handler, Subscription};
use crossdock_db::{Migration, Migrations};
use crossdock_events::BookActivated;
use crossdock_http::{Component, TenantId};
use crossdock_tables::Limits;
use std::path::PathBuf;
use std::sync::Arc;

pub static MIGRATIONS: Migrations = Migrations {
    component: "rating",
    sqlite: &[
        Migration {
            version: 1,
            sql: include_str!("migrations/sqlite/0001_init.sql"),
        },
        Migration {
            version: 2,
            sql: include_str!("migrations/sqlite/0002_prefix.sql"),
        },
    ],
    postgres: &[
        Migration {
            version: 1,
            sql: include_str!("migrations/postgres/0001_init.sql"),
        },
        Migration {
            version: 2,
            sql: include_str!("migrations/postgres/0002_prefix.sql"),
        },
    ],
};

/// The rating component's settings, with their units.
#[derive(Clone, Debug)]
pub struct RatingConfig {
    /// Where replay sets and temporary folders live.
    pub data_dir: PathBuf,
    /// Largest body of `POST /v1/quotes`, in bytes.
    pub quote_body_bytes_max: usize,
    /// Largest body of the batch and bulk endpoints, in bytes.
    pub batch_body_bytes_max: usize,
    /// Most lines of one `POST /v1/quotes/batch`.
    pub batch_lines_max: usize,
    /// Largest rate-book or replay upload, in bytes.
    pub upload_bytes_max: usize,
    /// Limits on an uploaded book's files.
    pub book_limits: Limits,
    /// Check uploaded books in a child process (`crossdock book check`), so that no file
    /// can take the server down. Tests turn it off and check in-process.
    pub isolate_checks: bool,
    /// The `crossdock` executable used for isolated checks (default: this executable).
    pub checker: Option<PathBuf>,
}

impl Default for RatingConfig {
    fn default() -> RatingConfig {
        RatingConfig {
            data_dir: PathBuf::from("data"),
            quote_body_bytes_max: 64 * 1024,
            batch_body_bytes_max: 64 * 1024 * 1024,
            batch_lines_max: 10_000,
            upload_bytes_max: 256 * 1024 * 1024,
            book_limits: Limits {
                file_bytes_max: 256 * 1024 * 1024,
                table_rows_max: 20_000_000,
            },
            isolate_checks: true,
            checker: None,
        }
    }
}

impl Rating {
    /// The component: its routes, its migrations, and the `book.activated` consumer that
    /// keeps this process's books in force equal to the database's.
    pub fn component(self: &Arc<Rating>) -> Component {
        let me = self.clone();
        let follow: crossdock_db::outbox::LocalHandler = Arc::new(move |message| {
            let me = me.clone();
            Box::pin(async move {
                if crossdock_events::decode::<BookActivated>(&message).is_none() {
                    return;
                }
                let tenant = TenantId(message.tenant);
                match me.reload(tenant).await {
                    Ok(()) => {
                        let label = me
                            .live_book(tenant)
                            .map(|l| l.book.label().to_owned())
                            .unwrap_or_default();
                        tracing::info!(tenant = tenant.0, book = %label, "book in force followed");
                    }
                    Err(e) => {
                        tracing::error!(tenant = tenant.0, error = %e, "cannot follow a book activation")
                    }
                }
            })
        });
        let ready = self.clone();
        Component {
            name: "rating",
            migrations: &MIGRATIONS,
            router: http::router(self.clone()),
            subscriptions: vec![Subscription {
                consumer: "rating.books_in_force".into(),
                topics: vec![<BookActivated as crossdock_events::Event>::TOPIC.to_owned()],
                handler: Handler::Local(follow),
            }],
            ready: Arc::new(move || ready.is_ready()),
        }
    }
}
