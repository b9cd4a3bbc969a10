//! The server's shared state: the store, each tenant's rate book in force, caches.
//!
//! A tenant's book in force is an `ArcSwap<Live>`: a quote loads it once and prices with
//! that snapshot to the end, so a swap never changes a quote midway and never blocks one.
//! Books are built and checked off the request path (blocking threads); activations of one
//! tenant are serialised so the store and the in-memory pointer always agree.

use crate::books::{self, CheckOptions, Checked, TempDir, UploadError};
use crate::config::Config;
use crate::metrics::Metrics;
use arc_swap::ArcSwapOption;
use crossdock_engine::{Book, Date};
use crossdock_store::{BookId, KeyRecord, Role, Store, StoreError, TenantId};
use dashmap::DashMap;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The book a tenant quotes with.
#[derive(Debug)]
pub struct Live {
    pub id: BookId,
    pub book: Arc<Book>,
}

/// The clock, injected so tests are hermetic.
pub trait Clock: Send + Sync {
    fn now_unix(&self) -> i64;
    fn today(&self) -> Date {
        Date::from_days_since_epoch(self.now_unix().div_euclid(86_400) as i32)
    }
}

#[derive(Debug)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_unix(&self) -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
    }
}

/// How long a verified (or refused) key is trusted before the store is asked again; a key
/// revoked through another process stops working within this time (plus the one lookup that
/// refreshes it; a key unused for twice this time is looked up afresh).
pub const KEY_CACHE_TTL: Duration = Duration::from_secs(30);

pub struct AppState {
    pub config: Config,
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub metrics: Metrics,
    pub ready: AtomicBool,
    live: DashMap<i64, Arc<ArcSwapOption<Live>>>,
    /// Compiled books by (tenant, book), with when each was last used; at most
    /// [`COMPILED_PER_TENANT`] per tenant besides the one in force (see `remember`).
    compiled: DashMap<(i64, i64), (Instant, Arc<Book>)>,
    keys: DashMap<[u8; 32], (Instant, Option<KeyRecord>)>,
    buckets: DashMap<String, Bucket>,
    activation_locks: DashMap<i64, Arc<tokio::sync::Mutex<()>>>,
    /// What-if runs are whole-file jobs: one at a time, on one thread, so quoting keeps
    /// the other cores.
    pub diff_permit: tokio::sync::Semaphore,
}

/// Compiled books kept per tenant besides the one in force: the previous one (a rollback or
/// an A/B swap stays instant) and a just-published one. Others are dropped and compiled
/// again from the store when needed, so memory does not grow with every book ever published
/// (a large book is hundreds of MiB).
pub const COMPILED_PER_TENANT: usize = 2;

/// A token bucket: `tokens` refill at the configured rate up to the burst.
#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// What went wrong while changing books; mapped to HTTP answers in one place (`routes`).
#[derive(Debug)]
pub enum BookError {
    NotFound,
    NothingToRollBack,
    Upload(UploadError),
    Store(StoreError),
    Unusable(String),
}

impl From<StoreError> for BookError {
    fn from(e: StoreError) -> BookError {
        match e {
            StoreError::NotFound(_) => BookError::NotFound,
            StoreError::NothingToRollBack => BookError::NothingToRollBack,
            other => BookError::Store(other),
        }
    }
}

impl AppState {
    pub fn new(config: Config, store: Store, clock: Arc<dyn Clock>) -> AppState {
        AppState {
            config,
            store,
            clock,
            metrics: Metrics::default(),
            ready: AtomicBool::new(false),
            live: DashMap::new(),
            compiled: DashMap::new(),
            keys: DashMap::new(),
            buckets: DashMap::new(),
            activation_locks: DashMap::new(),
            diff_permit: tokio::sync::Semaphore::new(1),
        }
    }

    /// Loads every tenant's active book, and on first start gives the default tenant the
    /// default book. The same path a later activation takes: start-up is a reload.
    pub async fn start(&self) -> Result<(), String> {
        let active = self.store.active_books().await.map_err(|e| e.to_string())?;
        for (tenant, id) in active {
            let book = self
                .compiled_book(tenant, id)
                .await
                .map_err(|e| format!("active book {} of tenant {}: {e:?}", id.0, tenant.0))?;
            self.slot(tenant).store(Some(Arc::new(Live { id, book })));
        }
        let tenant = match self
            .store
            .tenant_by_name(&self.config.default_tenant)
            .await
            .map_err(|e| e.to_string())?
        {
            Some(t) => t,
            None => self
                .store
                .create_tenant(&self.config.default_tenant, self.clock.now_unix())
                .await
                .map_err(|e| e.to_string())?,
        };
        if self.live_book(tenant).is_none()
            && let Some(dir) = self.config.default_book.clone()
        {
            let archive = books::pack_dir(&dir)
                .map_err(|e| format!("default book {}: {e}", dir.display()))?;
            match self
                .publish(tenant, archive, "crossdock (first start)")
                .await
            {
                Ok((record, _, _)) => {
                    self.activate(tenant, record, "crossdock (first start)")
                        .await
                        .map_err(|e| format!("default book: {e:?}"))?;
                }
                Err(e) => return Err(format!("default book {}: {e:?}", dir.display())),
            }
        }
        self.ready.store(true, Ordering::Release);
        Ok(())
    }

    fn slot(&self, tenant: TenantId) -> Arc<ArcSwapOption<Live>> {
        self.live
            .entry(tenant.0)
            .or_insert_with(|| Arc::new(ArcSwapOption::empty()))
            .clone()
    }

    /// The tenant's book in force, loaded once per request.
    pub fn live_book(&self, tenant: TenantId) -> Option<Arc<Live>> {
        self.live.get(&tenant.0).and_then(|slot| slot.load_full())
    }

    /// (label, tenants) of every book in force, for metrics.
    pub fn live_labels(&self) -> Vec<(String, usize)> {
        let mut out: Vec<(String, usize)> = Vec::new();
        for slot in self.live.iter() {
            if let Some(live) = slot.load_full() {
                match out.iter_mut().find(|(l, _)| l == live.book.label()) {
                    Some(entry) => entry.1 += 1,
                    None => out.push((live.book.label().to_string(), 1)),
                }
            }
        }
        out.sort();
        out
    }

    fn check_options(&self) -> CheckOptions {
        let isolate_with = self
            .config
            .isolate_checks
            .then(|| {
                self.config
                    .checker
                    .clone()
                    .or_else(|| std::env::current_exe().ok())
            })
            .flatten();
        CheckOptions {
            limits: self.config.book_limits.clone(),
            isolate_with,
            scratch_dir: self.config.data_dir.join("tmp"),
        }
    }

    /// Checks an uploaded archive off the request threads and stores it when usable.
    /// `Ok((record, newly_stored, report))`; a refused book is `Err(Unusable)` with the report.
    pub async fn publish(
        &self,
        tenant: TenantId,
        archive: Vec<u8>,
        actor: &str,
    ) -> Result<(crossdock_store::BookRecord, bool, serde_json::Value), BookError> {
        let options = self.check_options();
        let (checked, archive) = tokio::task::spawn_blocking(move || {
            (books::check_archive(&archive, &options), archive)
        })
        .await
        .map_err(|e| BookError::Upload(UploadError::CheckFailed(e.to_string())))?;
        match checked.map_err(BookError::Upload)? {
            Checked::Refused(report) => {
                self.metrics.uploads_refused.fetch_add(1, Ordering::Relaxed);
                Err(BookError::Unusable(books::report_json(&report).to_string()))
            }
            Checked::Usable { book, report } => {
                let report = books::report_json(&report);
                let (record, new) = self
                    .store
                    .put_book(
                        tenant,
                        book.content_hash(),
                        book.name(),
                        book.label(),
                        &archive,
                        &report.to_string(),
                        actor,
                        self.clock.now_unix(),
                    )
                    .await?;
                self.remember(tenant, record.id, Arc::from(book));
                self.metrics
                    .uploads_accepted
                    .fetch_add(1, Ordering::Relaxed);
                Ok((record, new, report))
            }
        }
    }

    /// A stored book of the tenant, compiled; `NotFound` for another tenant's.
    pub async fn stored_book(&self, tenant: TenantId, id: BookId) -> Result<Arc<Book>, BookError> {
        self.compiled_book(tenant, id).await
    }

    /// Where a tenant's replay sets (parcel files for what-ifs) are kept.
    pub fn replay_dir(&self, tenant: TenantId) -> std::path::PathBuf {
        self.config
            .data_dir
            .join("replays")
            .join(tenant.0.to_string())
    }

    /// A stored book, compiled (cached after the first time).
    async fn compiled_book(&self, tenant: TenantId, id: BookId) -> Result<Arc<Book>, BookError> {
        if let Some(mut entry) = self.compiled.get_mut(&(tenant.0, id.0)) {
            entry.0 = Instant::now();
            return Ok(entry.1.clone());
        }
        let archive = self
            .store
            .book_archive(tenant, id)
            .await?
            .ok_or(BookError::NotFound)?;
        let options = CheckOptions {
            isolate_with: None,
            ..self.check_options()
        };
        let checked = tokio::task::spawn_blocking(move || books::check_archive(&archive, &options))
            .await
            .map_err(|e| BookError::Upload(UploadError::CheckFailed(e.to_string())))?
            .map_err(BookError::Upload)?;
        match checked {
            Checked::Usable { book, .. } => {
                let book: Arc<Book> = Arc::from(book);
                self.remember(tenant, id, book.clone());
                Ok(book)
            }
            Checked::Refused(report) => {
                Err(BookError::Unusable(books::report_json(&report).to_string()))
            }
        }
    }

    /// Caches a compiled book, then drops the tenant's least recently used ones beyond
    /// [`COMPILED_PER_TENANT`], never the one in force. A dropped book still in use by a
    /// quote or a what-if lives on until that finishes (it is an `Arc`).
    fn remember(&self, tenant: TenantId, id: BookId, book: Arc<Book>) {
        self.compiled
            .insert((tenant.0, id.0), (Instant::now(), book));
        let live = self.live_book(tenant).map(|l| l.id.0);
        let mut others: Vec<(Instant, i64)> = self
            .compiled
            .iter()
            .filter(|e| e.key().0 == tenant.0 && Some(e.key().1) != live)
            .map(|e| (e.value().0, e.key().1))
            .collect();
        if others.len() > COMPILED_PER_TENANT {
            others.sort_unstable();
            for (_, book) in &others[..others.len() - COMPILED_PER_TENANT] {
                self.compiled.remove(&(tenant.0, *book));
            }
        }
    }

    /// How many compiled books are cached for a tenant (the one in force included).
    pub fn compiled_books(&self, tenant: TenantId) -> usize {
        self.compiled
            .iter()
            .filter(|e| e.key().0 == tenant.0)
            .count()
    }

    fn activation_lock(&self, tenant: TenantId) -> Arc<tokio::sync::Mutex<()>> {
        self.activation_locks
            .entry(tenant.0)
            .or_insert_with(|| Arc::new(tokio::sync::Mutex::new(())))
            .clone()
    }

    /// Makes a stored book the tenant's book in force: built first, recorded in the store
    /// (with its audit entry), then swapped in atomically. Returns the previous book's id.
    pub async fn activate(
        &self,
        tenant: TenantId,
        record: crossdock_store::BookRecord,
        actor: &str,
    ) -> Result<Option<BookId>, BookError> {
        let lock = self.activation_lock(tenant);
        let _guard = lock.lock().await;
        let book = self.compiled_book(tenant, record.id).await?;
        let previous = self
            .store
            .activate(tenant, record.id, actor, self.clock.now_unix())
            .await?;
        self.slot(tenant).store(Some(Arc::new(Live {
            id: record.id,
            book,
        })));
        self.metrics.activations.fetch_add(1, Ordering::Relaxed);
        Ok(previous)
    }

    pub async fn activate_id(
        &self,
        tenant: TenantId,
        id: BookId,
        actor: &str,
    ) -> Result<Option<BookId>, BookError> {
        let record = self
            .store
            .book(tenant, id)
            .await?
            .ok_or(BookError::NotFound)?;
        self.activate(tenant, record, actor).await
    }

    /// Back to the book in force before the current one.
    pub async fn rollback(&self, tenant: TenantId, actor: &str) -> Result<BookId, BookError> {
        let lock = self.activation_lock(tenant);
        let _guard = lock.lock().await;
        let target = self
            .store
            .rollback(tenant, actor, self.clock.now_unix())
            .await?;
        let book = self.compiled_book(tenant, target).await?;
        self.slot(tenant)
            .store(Some(Arc::new(Live { id: target, book })));
        self.metrics.activations.fetch_add(1, Ordering::Relaxed);
        Ok(target)
    }

    /// The key behind a presented secret, from a short-lived cache or the store.
    pub async fn verify_key(&self, presented: &str) -> Result<Option<KeyRecord>, StoreError> {
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        if let Some(mut entry) = self.keys.get_mut(&digest) {
            let ttl = self.config.key_cache_ttl;
            if entry.0.elapsed() < ttl {
                return Ok(entry.1.clone());
            }
            // Expired. Exactly one caller asks the store again; until it has the answer the
            // others keep the cached one, so a busy key never sends a herd of lookups to the
            // store (where they would queue behind its writes) and never stalls its quotes.
            if entry.0.elapsed() < ttl * 2 {
                let cached = entry.1.clone();
                entry.0 = Instant::now();
                drop(entry);
                return match self.store.verify_key(presented).await {
                    Ok(record) => {
                        self.keys.insert(digest, (Instant::now(), record.clone()));
                        Ok(record)
                    }
                    // The store is unreachable for a moment: the cached answer stands.
                    Err(_) => Ok(cached),
                };
            }
        }
        let record = self.store.verify_key(presented).await?;
        // Bound the cache: a flood of made-up keys must not grow it without limit.
        if self.keys.len() > 100_000 {
            self.keys.clear();
        }
        self.keys.insert(digest, (Instant::now(), record.clone()));
        Ok(record)
    }

    /// Forgets cached keys (after a revocation through this server).
    pub fn forget_keys(&self) {
        self.keys.clear();
    }

    /// Takes one token of the key's bucket; `Err(seconds)` to wait when empty.
    pub fn take_token(&self, key: &str, tokens_needed: u32) -> Result<(), u64> {
        let (rate, burst) = (
            f64::from(self.config.rate_limit_per_s),
            f64::from(self.config.rate_limit_burst.max(1)),
        );
        if rate <= 0.0 {
            return Ok(());
        }
        let now = Instant::now();
        let mut bucket = self.buckets.entry(key.to_string()).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        let refill = now.duration_since(bucket.at).as_secs_f64() * rate;
        bucket.tokens = (bucket.tokens + refill).min(burst);
        bucket.at = now;
        let tokens_needed = f64::from(tokens_needed);
        if bucket.tokens >= tokens_needed {
            bucket.tokens -= tokens_needed;
            Ok(())
        } else {
            Err(((tokens_needed - bucket.tokens) / rate).ceil().max(1.0) as u64)
        }
    }

    pub fn scratch_dir(&self) -> std::path::PathBuf {
        self.config.data_dir.join("tmp")
    }

    pub fn temp_dir(&self) -> std::io::Result<TempDir> {
        TempDir::new(&self.scratch_dir())
    }
}

/// Who is calling: the key's tenant, customer and roles.
#[derive(Clone, Debug)]
pub struct Principal {
    pub key_id: String,
    pub tenant: TenantId,
    pub customer: Option<String>,
    pub roles: Vec<Role>,
}

impl Principal {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Analysts and admins may quote as any customer of their tenant; a shipper only as its own.
    pub fn may_quote_as(&self, customer: Option<&str>) -> bool {
        self.has(Role::Analyst)
            || self.has(Role::Admin)
            || customer.is_none()
            || customer == self.customer.as_deref()
    }

    pub fn actor(&self) -> String {
        format!("key:{}", self.key_id)
    }
}
