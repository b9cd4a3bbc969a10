//! # crossdock-identity: tenants, API keys and roles
//!
//! Owns `identity_tenants` and `identity_keys`. A key is `cdk_<id>_<secret>`: the id is
//! stored in clear for lookup, the secret only as SHA-256 (256 random bits, so a plain
//! hash is enough) and compared in constant time; a created key's secret is shown once.
//! Keys carry the five roles of api-conventions.md and optionally one customer.
//!
//! [`Identity`] is the [`crossdock_http::Authenticator`] every route's principal comes
//! from. Verified keys are cached for [`KEY_CACHE_TTL`]; a revocation emits `key.revoked`
//! in its transaction, and every process's relay evicts the key from its cache as soon as
//! the event arrives (within a second or so), so the TTL is only a safety net.
//!
//! What it never knows: rate books, orders, any other component's tables. Other
//! components learn of tenants by the ids on principals.

mod error;
mod http;
pub mod keys;
pub mod model;
mod store;

pub use error::IdentityError;
pub use model::{CreatedKey, KeyId, KeyRecord, NewKey};

use crossdock_db::outbox::{Handler, Subscription};
use crossdock_db::{Db, Migration, Migrations};
use crossdock_events::KeyRevoked;
use crossdock_http::{ApiError, Authenticator, BoxFuture, Clock, Component, Principal, TenantId};
use dashmap::DashMap;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a verified (or refused) key is trusted before the database is asked again.
pub const KEY_CACHE_TTL: Duration = Duration::from_secs(30);
/// Cached keys before the cache is emptied (a flood of made-up keys must not grow it).
const KEY_CACHE_ENTRIES_MAX: usize = 100_000;
/// Attempts to find an unused key id (a clash has odds of 2^-60 each).
const KEY_MINT_ATTEMPTS_MAX: usize = 4;
/// Longest tenant name, customer code and key label, in bytes.
pub const NAME_BYTES_MAX: usize = 200;

pub static MIGRATIONS: Migrations = Migrations {
    component: "identity",
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

type CacheEntry = (Instant, Option<KeyRecord>);

/// The identity component's handle: cheap to share (`Arc`).
pub struct Identity {
    db: Db,
    clock: Arc<dyn Clock>,
    ttl: Duration,
    /// Verified keys by SHA-256 of the whole presented key.
    cache: DashMap<[u8; 32], CacheEntry>,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity")
            .field("cached_keys", &self.cache.len())
            .finish_non_exhaustive()
    }
}

impl Identity {
    pub fn new(db: Db, clock: Arc<dyn Clock>, ttl: Duration) -> Identity {
        Identity {
            db,
            clock,
            ttl,
            cache: DashMap::new(),
        }
    }

    /// Creates a tenant; [`IdentityError::Conflict`] if the name is taken.
    pub async fn create_tenant(&self, name: &str) -> Result<TenantId, IdentityError> {
        check_name("name", name, false)?;
        let (name, now) = (name.to_owned(), self.clock.now_unix());
        self.db
            .write(move |tx| store::create_tenant(tx, &name, now))
            .await
    }

    pub async fn tenant_by_name(&self, name: &str) -> Result<Option<TenantId>, IdentityError> {
        let name = name.to_owned();
        Ok(self
            .db
            .read(move |tx| store::tenant_by_name(tx, &name))
            .await?)
    }

    /// The tenant of this name, created if absent (first start).
    pub async fn ensure_tenant(&self, name: &str) -> Result<TenantId, IdentityError> {
        match self.tenant_by_name(name).await? {
            Some(id) => Ok(id),
            None => match self.create_tenant(name).await {
                Err(IdentityError::Conflict(_)) => self
                    .tenant_by_name(name)
                    .await?
                    .ok_or_else(|| IdentityError::NotFound(format!("tenant {name:?}"))),
                other => other,
            },
        }
    }

    /// Creates a key and returns its secret, which is never available again.
    pub async fn create_key(&self, new: NewKey) -> Result<CreatedKey, IdentityError> {
        if new.roles.is_empty() {
            return Err(IdentityError::Invalid {
                field: "roles",
                problem: "at least one role".into(),
            });
        }
        if let Some(customer) = &new.customer {
            check_name("customer", customer, false)?;
        }
        check_name("label", &new.label, true)?;
        let now = self.clock.now_unix();
        for _ in 0..KEY_MINT_ATTEMPTS_MAX {
            let minted = keys::mint()?;
            let copy = new.clone();
            let id = minted.id.0.clone();
            let hash = minted.secret_sha256;
            let inserted = self
                .db
                .write(move |tx| {
                    let row = store::KeyRow {
                        id: &id,
                        tenant: copy.tenant,
                        customer: copy.customer.as_deref(),
                        roles: &copy.roles,
                        label: &copy.label,
                        created_at: now,
                    };
                    store::insert_key(tx, &row, &hash)
                })
                .await?;
            if inserted {
                let record = KeyRecord {
                    id: minted.id,
                    tenant: new.tenant,
                    customer: new.customer.clone(),
                    roles: crossdock_http::Role::canonical(&new.roles),
                    label: new.label.clone(),
                    created_at: now,
                    revoked_at: None,
                };
                return Ok(CreatedKey {
                    record,
                    secret: minted.presented,
                });
            }
        }
        Err(IdentityError::Failed(format!(
            "no unused key id in {KEY_MINT_ATTEMPTS_MAX} attempts"
        )))
    }

    /// The key record if `presented` is a well-formed, known, unrevoked key whose secret
    /// matches; `None` otherwise, without saying which check failed. Straight from the
    /// database (no cache).
    pub async fn verify_key_uncached(
        &self,
        presented: &str,
    ) -> Result<Option<KeyRecord>, IdentityError> {
        let Some(parsed) = keys::parse(presented) else {
            return Ok(None);
        };
        let id = parsed.id.to_owned();
        let presented_hash = keys::secret_sha256(parsed.secret_part);
        let found = self.db.read(move |tx| store::key_by_id(tx, &id)).await?;
        Ok(found.and_then(|(record, stored)| {
            (keys::constant_time_eq(&presented_hash, &stored) && record.revoked_at.is_none())
                .then_some(record)
        }))
    }

    /// [`Identity::verify_key_uncached`] through the cache. When a busy key's entry
    /// expires, one caller asks the database while the others keep the cached answer.
    /// The cached answer for a presented key while it is fresh; `None` when the database
    /// must be asked (not cached, or expired).
    pub fn cached_key(&self, presented: &str) -> Option<Option<KeyRecord>> {
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        let entry = self.cache.get(&digest)?;
        (entry.0.elapsed() < self.ttl).then(|| entry.1.clone())
    }

    pub async fn verify_key(&self, presented: &str) -> Result<Option<KeyRecord>, IdentityError> {
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        if let Some(mut entry) = self.cache.get_mut(&digest) {
            if entry.0.elapsed() < self.ttl {
                return Ok(entry.1.clone());
            }
            if entry.0.elapsed() < self.ttl * 2 {
                let cached = entry.1.clone();
                entry.0 = Instant::now();
                drop(entry);
                return match self.verify_key_uncached(presented).await {
                    Ok(record) => {
                        self.cache.insert(digest, (Instant::now(), record.clone()));
                        Ok(record)
                    }
                    // The database is unreachable for a moment: the cached answer stands.
                    Err(_) => Ok(cached),
                };
            }
        }
        let record = self.verify_key_uncached(presented).await?;
        if self.cache.len() > KEY_CACHE_ENTRIES_MAX {
            self.cache.clear();
        }
        self.cache.insert(digest, (Instant::now(), record.clone()));
        Ok(record)
    }

    /// Forgets a key in this process's cache (a `key.revoked` event, or a revocation here).
    pub fn forget_key(&self, key_id: &str) {
        self.cache
            .retain(|_, (_, record)| record.as_ref().is_none_or(|r| r.id.0 != key_id));
    }

    /// The tenant's keys, newest first, after `(created_at, id)`.
    pub async fn list_keys(
        &self,
        tenant: TenantId,
        after: Option<(i64, String)>,
        limit: usize,
    ) -> Result<Vec<KeyRecord>, IdentityError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        Ok(self
            .db
            .read(move |tx| {
                store::list_keys(
                    tx,
                    tenant,
                    after.as_ref().map(|(c, i)| (*c, i.as_str())),
                    limit,
                )
            })
            .await?)
    }

    /// Revokes the tenant's key (and emits `key.revoked`); `false` if the tenant has no
    /// such key. Revoking a revoked key answers `true` and keeps the first time.
    pub async fn revoke_key(
        &self,
        tenant: TenantId,
        id: &KeyId,
        actor: &str,
    ) -> Result<bool, IdentityError> {
        let (id_text, actor, now) = (id.0.clone(), actor.to_owned(), self.clock.now_unix());
        let revoked = self
            .db
            .write(move |tx| store::revoke_key(tx, tenant, &id_text, &actor, now))
            .await?;
        self.forget_key(&id.0);
        Ok(revoked)
    }

    /// The component: `/v1/keys` routes, its migrations, and the `key.revoked` consumer
    /// that evicts keys from this process's cache.
    pub fn component(self: &Arc<Identity>) -> Component {
        let me = self.clone();
        let evict: crossdock_db::outbox::LocalHandler = Arc::new(move |message| {
            let me = me.clone();
            Box::pin(async move {
                if let Some(event) = crossdock_events::decode::<KeyRevoked>(&message) {
                    me.forget_key(&event.key_id);
                    tracing::info!(key = %event.key_id, "key revoked elsewhere: forgotten");
                }
            })
        });
        Component {
            name: "identity",
            migrations: &MIGRATIONS,
            router: http::router(self.clone()),
            subscriptions: vec![Subscription {
                consumer: "identity.key_cache".into(),
                topics: vec![<KeyRevoked as crossdock_events::Event>::TOPIC.to_owned()],
                handler: Handler::Local(evict),
            }],
            ready: Arc::new(|| true),
        }
    }
}

fn check_name(field: &'static str, value: &str, empty_ok: bool) -> Result<(), IdentityError> {
    let problem = if value.is_empty() && !empty_ok {
        "must not be empty".to_owned()
    } else if value.len() > NAME_BYTES_MAX {
        format!("is longer than {NAME_BYTES_MAX} bytes")
    } else if value.chars().any(char::is_control) {
        "must not hold control characters".to_owned()
    } else {
        return Ok(());
    };
    Err(IdentityError::Invalid { field, problem })
}

impl Authenticator for Identity {
    fn verify<'a>(
        &'a self,
        presented: &'a str,
    ) -> BoxFuture<'a, Result<Option<Principal>, ApiError>> {
        Box::pin(async move {
            let record = self.verify_key(presented).await.map_err(ApiError::from)?;
            Ok(record.map(principal_of))
        })
    }

    fn verify_cached(&self, presented: &str) -> Option<Option<Principal>> {
        self.cached_key(presented)
            .map(|record| record.map(principal_of))
    }
}

fn principal_of(r: KeyRecord) -> Principal {
    Principal {
        key_id: r.id.0,
        tenant: r.tenant,
        customer: r.customer,
        roles: r.roles,
    }
}
