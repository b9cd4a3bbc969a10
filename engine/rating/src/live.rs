//! The books in force in this process, and every change to them.
//!
//! A tenant's book in force is an `ArcSwap<Live>`: a quote loads it once and prices with
//! that snapshot to the end, so a swap never changes a quote midway and never blocks one.
//! Books are compiled off the request path (blocking threads), **before** any change is
//! recorded: activation and rollback both compile the target first, then record the change
//! (with its audit entry and `book.activated` event) in one transaction, then swap.
//!
//! Start-up is the reload path: [`Rating::load_all`] and the `book.activated` consumer both
//! call [`Rating::reload`], which reads the tenant's active book from the database and
//! swaps it in if it differs from the one in force. So a book activated through any
//! process sharing the database is in force here as soon as the event arrives.

use crate::books::{self, CheckOptions, Checked, TempDir, UploadError};
use crate::error::RatingError;
use crate::metrics::Metrics;
use crate::model::{BookId, BookRecord};
use crate::{RatingConfig, store};
use arc_swap::ArcSwapOption;
use crossdock_db::Db;
use crossdock_engine::{Book, Date};
use crossdock_http::{Clock, TenantId};
use dashmap::DashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// The book a tenant quotes with.
#[derive(Debug)]
pub struct Live {
    pub id: BookId,
    pub book: Arc<Book>,
}

/// Compiled books kept per tenant besides the one in force: the previous one (a rollback or
/// an A/B swap stays instant) and a just-published one. Others are dropped and compiled
/// again from the database when needed (a large book is hundreds of MiB).
pub const COMPILED_PER_TENANT: usize = 2;

/// The rating component's state.
pub struct Rating {
    pub(crate) db: Db,
    pub(crate) clock: Arc<dyn Clock>,
    pub config: RatingConfig,
    pub(crate) metrics: Metrics,
    ready: AtomicBool,
    live: DashMap<i64, Arc<ArcSwapOption<Live>>>,
    /// Compiled books by (tenant, book), with when each was last used.
    compiled: DashMap<(i64, i64), (Instant, Arc<Book>)>,
    /// Changes of one tenant's book in force are serialised in this process (and across
    /// processes by the store's per-tenant lock).
    change_locks: DashMap<i64, Arc<tokio::sync::Mutex<()>>>,
    /// What-if runs are whole-file jobs: one at a time, on one thread.
    pub(crate) diff_permit: tokio::sync::Semaphore,
}

impl std::fmt::Debug for Rating {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rating")
            .field("tenants", &self.live.len())
            .finish_non_exhaustive()
    }
}

impl Rating {
    pub fn new(db: Db, clock: Arc<dyn Clock>, config: RatingConfig) -> Rating {
        crossdock_http::observe::prometheus();
        Rating {
            db,
            clock,
            config,
            metrics: Metrics::new(),
            ready: AtomicBool::new(false),
            live: DashMap::new(),
            compiled: DashMap::new(),
            change_locks: DashMap::new(),
            diff_permit: tokio::sync::Semaphore::new(1),
        }
    }

    pub fn today(&self) -> Date {
        Date::from_days_since_epoch(self.clock.now_unix().div_euclid(86_400) as i32)
    }

    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    /// Loads every tenant's active book (start-up). Ready afterwards.
    pub async fn load_all(&self) -> Result<(), RatingError> {
        let active = self.db.read(store::active_books).await?;
        for (tenant, _) in active {
            self.reload(tenant).await?;
        }
        self.ready.store(true, Ordering::Release);
        Ok(())
    }

    /// Makes this process's book in force for `tenant` the one the database names.
    pub async fn reload(&self, tenant: TenantId) -> Result<(), RatingError> {
        let lock = self.change_lock(tenant);
        let _guard = lock.lock().await;
        let Some(id) = self
            .db
            .read(move |tx| store::active_book(tx, tenant))
            .await?
        else {
            return Ok(());
        };
        if self.live_book(tenant).is_some_and(|l| l.id == id) {
            return Ok(());
        }
        let book = self.compiled_book(tenant, id).await?;
        self.swap(tenant, id, book);
        Ok(())
    }

    /// Gives the tenant `archive` as its book in force if it has none (first start).
    pub async fn seed(
        &self,
        tenant: TenantId,
        archive: Vec<u8>,
        actor: &str,
    ) -> Result<(), RatingError> {
        if self
            .db
            .read(move |tx| store::active_book(tx, tenant))
            .await?
            .is_some()
        {
            return Ok(());
        }
        let (record, _, _) = self.publish(tenant, archive, actor).await?;
        self.activate(tenant, record.id, actor).await?;
        Ok(())
    }

    fn slot(&self, tenant: TenantId) -> Arc<ArcSwapOption<Live>> {
        self.live
            .entry(tenant.0)
            .or_insert_with(|| Arc::new(ArcSwapOption::empty()))
            .clone()
    }

    fn swap(&self, tenant: TenantId, id: BookId, book: Arc<Book>) {
        self.slot(tenant).store(Some(Arc::new(Live { id, book })));
        self.metrics.activations.increment(1);
        self.metrics.books_in_force(&self.live_labels());
    }

    /// The tenant's book in force, loaded once per request.
    pub fn live_book(&self, tenant: TenantId) -> Option<Arc<Live>> {
        self.live.get(&tenant.0).and_then(|slot| slot.load_full())
    }

    /// (label, tenants) of every book in force.
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

    fn check_options(&self, isolate: bool) -> CheckOptions {
        let isolate_with = (isolate && self.config.isolate_checks)
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
            scratch_dir: self.scratch_dir(),
        }
    }

    /// Checks an uploaded archive off the request threads and stores it when usable:
    /// `(record, newly stored, report)`.
    pub async fn publish(
        &self,
        tenant: TenantId,
        archive: Vec<u8>,
        actor: &str,
    ) -> Result<(BookRecord, bool, serde_json::Value), RatingError> {
        let options = self.check_options(true);
        let (checked, archive) = tokio::task::spawn_blocking(move || {
            (books::check_archive(&archive, &options), archive)
        })
        .await
        .map_err(|e| RatingError::Failed(format!("the check task failed: {e}")))?;
        match checked.map_err(upload_error)? {
            Checked::Refused(report) => {
                self.metrics.uploads_refused.increment(1);
                Err(RatingError::Refused(
                    books::report_json(&report).to_string(),
                ))
            }
            Checked::Usable { book, report } => {
                let report = books::report_json(&report);
                let size_bytes = i64::try_from(archive.len())
                    .map_err(|_| RatingError::BadArchive("the archive is too large".into()))?;
                let new = BookRecord {
                    id: BookId(0),
                    tenant,
                    content_hash: book.content_hash().to_owned(),
                    name: book.name().to_owned(),
                    label: book.label().to_owned(),
                    report_json: report.to_string(),
                    uploaded_by: actor.to_owned(),
                    uploaded_at: self.clock.now_unix(),
                    size_bytes,
                };
                let (record, new) = self
                    .db
                    .write(move |tx| store::put_book(tx, &new, &archive))
                    .await?;
                self.remember(tenant, record.id, Arc::from(book));
                self.metrics.uploads_accepted.increment(1);
                Ok((record, new, report))
            }
        }
    }

    /// A stored book of the tenant, compiled (cached after the first time); `NotFound`
    /// for another tenant's.
    pub async fn compiled_book(
        &self,
        tenant: TenantId,
        id: BookId,
    ) -> Result<Arc<Book>, RatingError> {
        if let Some(mut entry) = self.compiled.get_mut(&(tenant.0, id.0)) {
            entry.0 = Instant::now();
            return Ok(entry.1.clone());
        }
        let archive = self
            .db
            .read(move |tx| store::book_archive(tx, tenant, id))
            .await?
            .ok_or(RatingError::NotFound)?;
        let options = self.check_options(false);
        let checked = tokio::task::spawn_blocking(move || books::check_archive(&archive, &options))
            .await
            .map_err(|e| RatingError::Failed(format!("the compile task failed: {e}")))?;
        match checked {
            Ok(Checked::Usable { book, .. }) => {
                let book: Arc<Book> = Arc::from(book);
                self.remember(tenant, id, book.clone());
                Ok(book)
            }
            // A stored book was checked when it was published: failing now is ours (a
            // damaged database, or an older crossdock's book this one refuses).
            Ok(Checked::Refused(report)) => Err(RatingError::Failed(format!(
                "stored {id} of tenant {} no longer compiles: {}",
                tenant.0,
                books::report_json(&report)
            ))),
            Err(e) => Err(RatingError::Failed(format!(
                "stored {id} of tenant {}: {e}",
                tenant.0
            ))),
        }
    }

    /// Caches a compiled book, then drops the tenant's least recently used ones beyond
    /// [`COMPILED_PER_TENANT`], never the one in force.
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

    /// The tenant's book labelled `label` (`name@hash`) if it is loaded: the one in force or
    /// one of the compiled books kept beside it.
    pub fn loaded_book(&self, tenant: TenantId, label: &str) -> Option<Arc<Book>> {
        if let Some(live) = self.live_book(tenant)
            && live.book.label() == label
        {
            return Some(live.book.clone());
        }
        self.compiled
            .iter()
            .find(|e| e.key().0 == tenant.0 && e.value().1.label() == label)
            .map(|e| e.value().1.clone())
    }

    /// How many compiled books are cached for a tenant (the one in force included).
    pub fn compiled_books(&self, tenant: TenantId) -> usize {
        self.compiled
            .iter()
            .filter(|e| e.key().0 == tenant.0)
            .count()
    }

    fn change_lock(&self, tenant: TenantId) -> Arc<tokio::sync::Mutex<()>> {
        self.change_locks
            .entry(tenant.0)
            .or_insert_with(|| Arc::new(tokio::sync::Mutex::new(())))
            .clone()
    }

    /// Makes a stored book the tenant's book in force: compiled first, then recorded
    /// (history, audit, `book.activated`), then swapped in. The previous book's id.
    pub async fn activate(
        &self,
        tenant: TenantId,
        id: BookId,
        actor: &str,
    ) -> Result<Option<BookId>, RatingError> {
        let lock = self.change_lock(tenant);
        let _guard = lock.lock().await;
        let book = self.compiled_book(tenant, id).await?;
        let (actor, now) = (actor.to_owned(), self.clock.now_unix());
        let previous = self
            .db
            .write(move |tx| store::activate(tx, tenant, id, &actor, now))
            .await?;
        self.swap(tenant, id, book);
        Ok(previous)
    }

    /// Back to the book in force before the current one: compiled first, then recorded,
    /// then swapped in.
    pub async fn rollback(&self, tenant: TenantId, actor: &str) -> Result<BookId, RatingError> {
        let lock = self.change_lock(tenant);
        let _guard = lock.lock().await;
        let Some((current, Some(target))) = self
            .db
            .read(move |tx| store::active_pair(tx, tenant))
            .await?
        else {
            return Err(RatingError::NothingToRollBack);
        };
        let book = self.compiled_book(tenant, target).await?;
        let (actor, now) = (actor.to_owned(), self.clock.now_unix());
        let target = self
            .db
            .write(move |tx| store::rollback(tx, tenant, (current, target), &actor, now))
            .await?;
        self.swap(tenant, target, book);
        Ok(target)
    }

    pub async fn book(
        &self,
        tenant: TenantId,
        id: BookId,
    ) -> Result<Option<BookRecord>, RatingError> {
        Ok(self.db.read(move |tx| store::book(tx, tenant, id)).await?)
    }

    pub async fn active_book(&self, tenant: TenantId) -> Result<Option<BookId>, RatingError> {
        Ok(self
            .db
            .read(move |tx| store::active_book(tx, tenant))
            .await?)
    }

    pub async fn list_books(
        &self,
        tenant: TenantId,
        before: Option<i64>,
        limit: usize,
    ) -> Result<Vec<BookRecord>, RatingError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        Ok(self
            .db
            .read(move |tx| store::list_books(tx, tenant, before, limit))
            .await?)
    }

    pub async fn audit(
        &self,
        tenant: TenantId,
        before: Option<i64>,
        limit: usize,
    ) -> Result<Vec<crate::AuditEntry>, RatingError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        Ok(self
            .db
            .read(move |tx| store::audit(tx, tenant, before, limit))
            .await?)
    }

    /// Where a tenant's replay sets (parcel files for what-ifs) are kept.
    pub fn replay_dir(&self, tenant: TenantId) -> std::path::PathBuf {
        self.config
            .data_dir
            .join("replays")
            .join(tenant.0.to_string())
    }

    pub fn scratch_dir(&self) -> std::path::PathBuf {
        self.config.data_dir.join("tmp")
    }

    pub fn temp_dir(&self) -> std::io::Result<TempDir> {
        TempDir::new(&self.scratch_dir())
    }
}

/// The caller's fault (a bad archive) or ours (the check could not run).
fn upload_error(e: UploadError) -> RatingError {
    match e {
        UploadError::BadArchive(why) => RatingError::BadArchive(why),
        UploadError::CheckFailed(why) => {
            RatingError::Failed(format!("the upload could not be checked: {why}"))
        }
    }
}
