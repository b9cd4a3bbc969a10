//! # crossdock-store: the state crossdock keeps
//!
//! The durable state every later part of crossdock builds on. Today that is:
//!
//! - **tenants**, the organisations crossdock serves, by unique name;
//! - **API keys**: who may call, for which tenant (and optionally which of its customers),
//!   in which [`Role`]s. The store keeps a key's SHA-256, never the key itself;
//! - **stored rate books**: each book's archive and check report, once per
//!   (tenant, content hash);
//! - **the active book** per tenant, with its activation history, so a bad book can be
//!   rolled back;
//! - **the audit log** of publishes, activations and rollbacks.
//!
//! What it is not: it knows nothing of pricing, rate book contents, Parquet, JSON or HTTP.
//! A book is bytes, a hash and a report string here; the server decides what a role
//! allows. Time comes in as arguments (`now`, unix seconds), so tests fix the clock.
//!
//! ## Guarantees
//!
//! - **Tenants are walls.** Every method that touches a tenant's rows takes its
//!   [`TenantId`] and every query is scoped by it: tenant B asking for tenant A's book id
//!   gets `None`, revoking A's key returns `false`, activating A's book is
//!   [`StoreError::NotFound`], with nothing that tells "someone else's" from "absent". The
//!   schema repeats the wall: rows reference a tenant's books by (tenant_id, id).
//! - **Each call is one transaction.** A publish and its audit entry, an activation, its
//!   history row and its audit entry, commit together or not at all.
//! - **Two backends, one contract.** SQLite (the default: one file, one writer thread, see
//!   `sqlite.rs`) and PostgreSQL (`postgres.rs`), each with its own SQL and migrations,
//!   held to the same behaviour by one test suite (`tests/contract.rs`) run on both.
//! - **Versioned schema.** [`Store::open`] migrates the database and refuses one written
//!   by a newer crossdock ([`StoreError::SchemaTooNew`]).
//! - **No panics on database errors**; every failure is a [`StoreError`].
//!
//! ## Active books and rollback
//!
//! Each tenant has an append-only activation history; its newest entry names the active
//! book and the book that was active before it. [`Store::activate`] appends an entry.
//! [`Store::rollback`] *swaps back*: it makes the previous book active again and records
//! the book it replaced as the new previous one. So a second rollback swaps forward again
//! (rollback is its own undo) rather than walking further into the past; to go further
//! back, activate that book by id. Activating the book that is already active changes and
//! records nothing.
//!
//! ## Keys
//!
//! A key is `cdk_<key id>_<secret part>` (see `keys.rs`): 60 random bits of id, stored in
//! clear for lookup, and 256 random bits of secret, of which only SHA-256 is stored.
//! [`Store::verify_key`] finds the id, hashes the presented secret and compares in constant
//! time. [`CreatedKey`]'s `Debug` redacts the secret, and nothing in this crate logs.

mod error;
mod keys;
mod migrate;
mod postgres;
mod sqlite;
mod types;

pub use error::{Result, StoreError};
pub use keys::{KEY_ID_CHARS, KEY_PREFIX, SECRET_BYTES};
pub use types::{
    AuditAction, AuditEntry, BookId, BookRecord, CreatedKey, KeyId, KeyRecord, NewKey, Role,
    TenantId,
};

use std::path::{Path, PathBuf};
use types::KeyRow;

/// Largest book archive the store accepts, in bytes. Both backends hold a value of up to
/// about 1 GB; half that leaves room and is far above any real book.
pub const BOOK_ARCHIVE_BYTES_MAX: usize = 512 << 20;
/// Most audit entries one [`Store::audit`] call returns; larger limits are cut to this.
pub const AUDIT_ENTRIES_MAX: usize = 10_000;
/// The SQLite file's name inside the data directory.
pub const SQLITE_FILE_NAME: &str = "crossdock.db";
/// Attempts to find an unused key id before giving up (a clash has odds of 2^-60 each).
const KEY_MINT_ATTEMPTS_MAX: usize = 4;

/// Where the store lives, parsed from the location string given to [`Store::open`].
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Location {
    /// A SQLite database file.
    Sqlite(PathBuf),
    /// A PostgreSQL server, by libpq URL.
    Postgres(String),
}

impl Location {
    /// Reads a location:
    ///
    /// - `""` or `"sqlite:"` → `data_dir/crossdock.db`;
    /// - `"sqlite:PATH"`, `"sqlite://PATH"` or a bare `PATH` → that file; a relative path is
    ///   taken inside `data_dir`;
    /// - `"postgres://…"` or `"postgresql://…"` → that PostgreSQL server.
    ///
    /// Any other `scheme://` is refused, as is SQLite's `:memory:` (the store is durable).
    pub fn parse(location: &str, data_dir: &Path) -> Result<Location> {
        if location.starts_with("postgres://") || location.starts_with("postgresql://") {
            return Ok(Location::Postgres(location.to_owned()));
        }
        let path = match location.strip_prefix("sqlite:") {
            Some(rest) => rest.strip_prefix("//").unwrap_or(rest),
            None if location.contains("://") => {
                let scheme = location.split("://").next().unwrap_or_default();
                return Err(StoreError::BadLocation(format!(
                    "unknown scheme {scheme:?} (expected sqlite:PATH, a path, or postgres://…)"
                )));
            }
            None => location,
        };
        if path.starts_with(":memory:") {
            return Err(StoreError::BadLocation(
                "in-memory SQLite is not supported: give a file".to_owned(),
            ));
        }
        if path.is_empty() {
            return Ok(Location::Sqlite(data_dir.join(SQLITE_FILE_NAME)));
        }
        // `join` keeps an absolute path as it is.
        Ok(Location::Sqlite(data_dir.join(path)))
    }
}

/// The store: a cheap handle, clone it freely (clones share the writer thread or connection).
/// Every method is one transaction; see the crate docs for the guarantees.
#[derive(Clone)]
pub struct Store {
    backend: Backend,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.backend {
            Backend::Sqlite(_) => "Store(sqlite)",
            Backend::Postgres(_) => "Store(postgres)",
        })
    }
}

#[derive(Clone)]
enum Backend {
    Sqlite(sqlite::SqliteStore),
    Postgres(postgres::PgStore),
}

/// Calls the same method on whichever backend the store has.
macro_rules! on_backend {
    ($store:expr, $method:ident($($arg:expr),*)) => {
        match &$store.backend {
            Backend::Sqlite(b) => b.$method($($arg),*).await,
            Backend::Postgres(b) => b.$method($($arg),*).await,
        }
    };
}

impl Store {
    /// Opens the store at `location` (see [`Location::parse`]) and migrates it. For SQLite,
    /// `data_dir` is created if absent. Must be called inside a tokio runtime (PostgreSQL's
    /// connection runs as a task on it).
    pub async fn open(location: &str, data_dir: &Path) -> Result<Store> {
        match Location::parse(location, data_dir)? {
            Location::Sqlite(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| {
                        StoreError::Backend(format!(
                            "cannot create data directory {}: {e}",
                            dir.display()
                        ))
                    })?;
                }
                Ok(Store {
                    backend: Backend::Sqlite(sqlite::SqliteStore::open(path).await?),
                })
            }
            Location::Postgres(url) => Ok(Store {
                backend: Backend::Postgres(postgres::PgStore::open(&url).await?),
            }),
        }
    }

    /// Closes the database for this handle and every clone: SQLite's file is closed (its
    /// WAL checkpointed) before this returns; later calls fail with [`StoreError::Closed`].
    /// Dropping every handle also closes it, without waiting.
    pub async fn close(&self) -> Result<()> {
        on_backend!(self, close())
    }

    /// Creates a tenant; [`StoreError::Conflict`] if the name is taken.
    pub async fn create_tenant(&self, name: &str, now: i64) -> Result<TenantId> {
        if name.is_empty() {
            return Err(StoreError::Invalid(
                "a tenant name must not be empty".to_owned(),
            ));
        }
        on_backend!(self, create_tenant(name.to_owned(), now))
    }

    pub async fn tenant_by_name(&self, name: &str) -> Result<Option<TenantId>> {
        on_backend!(self, tenant_by_name(name.to_owned()))
    }

    /// Creates a key and returns its secret, which is never available again.
    /// [`StoreError::NotFound`] if the tenant does not exist.
    pub async fn create_key(&self, new: NewKey, now: i64) -> Result<CreatedKey> {
        let roles = types::roles_to_text(&new.roles);
        for _ in 0..KEY_MINT_ATTEMPTS_MAX {
            let minted = keys::mint()?;
            let row = KeyRow {
                id: minted.id.0.clone(),
                tenant: new.tenant.0,
                customer: new.customer.clone(),
                roles: roles.clone(),
                label: new.label.clone(),
                created_at: now,
                revoked_at: None,
            };
            if let Some(record) = on_backend!(self, insert_key(row, minted.secret_sha256))? {
                return Ok(CreatedKey {
                    record,
                    secret: minted.presented,
                });
            }
        }
        Err(StoreError::Backend(format!(
            "no unused key id in {KEY_MINT_ATTEMPTS_MAX} attempts"
        )))
    }

    /// The key record if `presented` is a well-formed, known, unrevoked key whose secret
    /// matches; `None` otherwise, without saying which check failed.
    pub async fn verify_key(&self, presented: &str) -> Result<Option<KeyRecord>> {
        let Some(parsed) = keys::parse(presented) else {
            return Ok(None);
        };
        let Some((record, stored_sha256)) = on_backend!(self, key_by_id(parsed.id.to_owned()))?
        else {
            return Ok(None);
        };
        let matches =
            keys::constant_time_eq(&keys::secret_sha256(parsed.secret_part), &stored_sha256);
        Ok((matches && record.revoked_at.is_none()).then_some(record))
    }

    /// The tenant's keys, revoked ones included, oldest first.
    pub async fn list_keys(&self, tenant: TenantId) -> Result<Vec<KeyRecord>> {
        on_backend!(self, list_keys(tenant))
    }

    /// Revokes the tenant's key; `false` if the tenant has no such key. Revoking a revoked
    /// key returns `true` and keeps the first revocation time.
    pub async fn revoke_key(&self, tenant: TenantId, id: &KeyId, now: i64) -> Result<bool> {
        on_backend!(self, revoke_key(tenant, id.0.clone(), now))
    }

    /// Stores a book unless the tenant already has one with this content hash, in which case
    /// the stored one is returned unchanged (`false`: the first upload's name and label
    /// stay). A new book gets a Publish audit entry in the same transaction.
    /// [`StoreError::NotFound`] if the tenant does not exist; [`StoreError::Invalid`] for an
    /// empty hash or an archive over [`BOOK_ARCHIVE_BYTES_MAX`].
    #[allow(clippy::too_many_arguments)] // the contract's shape: one value per column written
    pub async fn put_book(
        &self,
        tenant: TenantId,
        content_hash: &str,
        name: &str,
        label: &str,
        archive: &[u8],
        report_json: &str,
        actor: &str,
        now: i64,
    ) -> Result<(BookRecord, bool)> {
        if content_hash.is_empty() {
            return Err(StoreError::Invalid(
                "a book's content hash must not be empty".to_owned(),
            ));
        }
        if archive.len() > BOOK_ARCHIVE_BYTES_MAX {
            return Err(StoreError::Invalid(format!(
                "the book archive has {} bytes, more than the limit of {BOOK_ARCHIVE_BYTES_MAX}",
                archive.len()
            )));
        }
        let size_bytes = i64::try_from(archive.len())
            .map_err(|_| StoreError::Invalid("archive too large".to_owned()))?;
        let new = BookRecord {
            id: BookId(0), // assigned by the database
            tenant,
            content_hash: content_hash.to_owned(),
            name: name.to_owned(),
            label: label.to_owned(),
            report_json: report_json.to_owned(),
            uploaded_by: actor.to_owned(),
            uploaded_at: now,
            size_bytes,
        };
        on_backend!(self, put_book(new, archive.to_vec()))
    }

    /// The tenant's book with this id; `None` if the tenant has none (whoever else does).
    pub async fn book(&self, tenant: TenantId, id: BookId) -> Result<Option<BookRecord>> {
        on_backend!(self, book(tenant, id))
    }

    /// The stored archive of the tenant's book, as given to `put_book`.
    pub async fn book_archive(&self, tenant: TenantId, id: BookId) -> Result<Option<Vec<u8>>> {
        on_backend!(self, book_archive(tenant, id))
    }

    /// The tenant's books, oldest first, without archives.
    pub async fn list_books(&self, tenant: TenantId) -> Result<Vec<BookRecord>> {
        on_backend!(self, list_books(tenant))
    }

    /// Makes the tenant's book `id` active and returns the book that was active before.
    /// In one transaction: an activation history entry and an Activate audit entry.
    /// [`StoreError::NotFound`] if the book is not this tenant's. Activating the active book
    /// changes and records nothing, and returns its id.
    pub async fn activate(
        &self,
        tenant: TenantId,
        id: BookId,
        actor: &str,
        now: i64,
    ) -> Result<Option<BookId>> {
        on_backend!(self, activate(tenant, id, actor.to_owned(), now))
    }

    /// Swaps back to the book that was active before the current one, and returns it; a
    /// second rollback swaps forward again (see the crate docs). Records a history entry and
    /// a Rollback audit entry (from, to, the hash of to). [`StoreError::NothingToRollBack`]
    /// if the tenant has had fewer than two books active.
    pub async fn rollback(&self, tenant: TenantId, actor: &str, now: i64) -> Result<BookId> {
        on_backend!(self, rollback(tenant, actor.to_owned(), now))
    }

    /// The tenant's active book, if any book was ever activated.
    pub async fn active_book(&self, tenant: TenantId) -> Result<Option<BookId>> {
        on_backend!(self, active_book(tenant))
    }

    /// Every tenant's active book, by tenant id: what a server loads at start-up. The one
    /// read that spans tenants, by design.
    pub async fn active_books(&self) -> Result<Vec<(TenantId, BookId)>> {
        on_backend!(self, active_books())
    }

    /// The tenant's newest `limit` audit entries (at most [`AUDIT_ENTRIES_MAX`]), newest first.
    pub async fn audit(&self, tenant: TenantId, limit: usize) -> Result<Vec<AuditEntry>> {
        let limit = i64::try_from(limit.min(AUDIT_ENTRIES_MAX)).unwrap_or(0);
        on_backend!(self, audit(tenant, limit))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_parse() {
        let dir = Path::new("/data");
        let sqlite = |p: &str| Ok(Location::Sqlite(PathBuf::from(p)));
        let cases: &[(&str, Result<Location>)] = &[
            ("", sqlite("/data/crossdock.db")),
            ("sqlite:", sqlite("/data/crossdock.db")),
            ("sqlite:state.db", sqlite("/data/state.db")),
            ("sqlite:///var/lib/x.db", sqlite("/var/lib/x.db")),
            ("/var/lib/x.db", sqlite("/var/lib/x.db")),
            ("x.db", sqlite("/data/x.db")),
            (
                "postgres://u@h/db",
                Ok(Location::Postgres("postgres://u@h/db".to_owned())),
            ),
            (
                "postgresql://u@h/db",
                Ok(Location::Postgres("postgresql://u@h/db".to_owned())),
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(&Location::parse(text, dir), expected, "{text:?}");
        }
        for bad in ["mysql://h/db", "sqlite::memory:", ":memory:"] {
            assert!(
                matches!(Location::parse(bad, dir), Err(StoreError::BadLocation(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn roles_are_stored_canonically() {
        let text = types::roles_to_text(&[Role::Admin, Role::Shipper, Role::Admin]);
        assert_eq!(text, "shipper,admin");
        assert_eq!(
            types::roles_from_text(&text),
            Ok(vec![Role::Shipper, Role::Admin])
        );
        assert_eq!(types::roles_from_text(""), Ok(vec![]));
        assert!(types::roles_from_text("root").is_err());
    }

    #[test]
    fn created_key_debug_redacts_the_secret() {
        let created = CreatedKey {
            record: KeyRecord {
                id: KeyId("abcdefghijkl".to_owned()),
                tenant: TenantId(1),
                customer: None,
                roles: vec![Role::Admin],
                label: "ops".to_owned(),
                created_at: 0,
                revoked_at: None,
            },
            secret: "cdk_abcdefghijkl_topsecret".to_owned(),
        };
        let shown = format!("{created:?}");
        assert!(!shown.contains("topsecret"), "{shown}");
        assert!(shown.contains("redacted"));
    }
}
