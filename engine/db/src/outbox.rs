//! The event outbox: events written in the transaction that causes them, and the relay
//! that hands them to every consumer.
//!
//! ## Order and the out-of-order commit problem
//!
//! A row's position is `(txid, seq)`. On SQLite every write transaction runs on the one
//! writer thread, so `seq` order is commit order and `txid` is always 0. On PostgreSQL,
//! sequence values are taken when rows are inserted but become visible when their
//! transactions commit, in any order: a reader that remembered "the highest `seq` I have
//! seen" would skip a row whose transaction took a lower `seq` and committed later. So each
//! row also keeps the id of the transaction that wrote it (`pg_current_xact_id()`), and
//! readers walk rows in `(txid, seq)` order **only below the oldest transaction still
//! running** (`pg_snapshot_xmin`). Every transaction with a lower id has ended, so nothing
//! can appear behind a reader's cursor. The cost: a transaction that runs for a long time
//! holds back delivery of rows written after it began, until it ends. Emitting takes no lock,
//! so producers never wait for each other.
//!
//! ## Consumers
//!
//! - A **durable** consumer ([`Handler::Durable`]) applies an event inside a write
//!   transaction that also advances its cursor in `db_cursors`: the effect happens exactly
//!   once, even with the same consumer running in several processes (the cursor row is
//!   locked while a page is applied).
//! - A **local** consumer ([`Handler::Local`]) changes this process's memory (the books in
//!   force, the key cache). Its cursor lives in memory and starts at the outbox's head when
//!   the relay is created, *before* the component loads its state: start-up is the reload
//!   path, and whatever commits after it reaches the consumer as an event.
//!
//! Events are delivered at least once to local consumers (a handler should be idempotent,
//! e.g. re-read the state the event names), in bounded pages ([`PAGE_ROWS`]).
//!
//! ## Wake-up and retention
//!
//! The relay sleeps until the [`crate::Db`] is woken (after each emitting commit in this
//! process; on PostgreSQL also by other processes' `NOTIFY`, see [`crate::Db::listen`]) or
//! its poll interval passes. Rows older than the retention period and below every durable
//! consumer's cursor are deleted, at most [`DELETE_ROWS_MAX`] per round.

use crate::error::DbError;
use crate::tx::{Dialect, Param, Tx};
use crate::{Db, NOTIFY_CHANNEL};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// Rows read per page, for every consumer.
pub const PAGE_ROWS: i64 = 256;
/// Rows deleted per retention round.
pub const DELETE_ROWS_MAX: i64 = 10_000;
/// Largest event payload, in bytes.
pub const PAYLOAD_BYTES_MAX: usize = 64 * 1024;

/// A row's place in delivery order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    pub txid: i64,
    pub seq: i64,
}

/// An event to write.
#[derive(Clone, Copy, Debug)]
pub struct Emit<'a> {
    /// The producing component (its name, as in its migration track).
    pub component: &'a str,
    pub tenant: i64,
    pub topic: &'a str,
    pub version: i64,
    /// The event's body, JSON text (`crossdock-events` writes it).
    pub payload: &'a str,
    /// Unix seconds, from the producer's clock.
    pub at: i64,
}

/// An event read back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub position: Position,
    pub component: String,
    pub tenant: i64,
    pub topic: String,
    pub version: i64,
    pub payload: String,
    pub created_at: i64,
}

impl Tx<'_> {
    /// Writes an event in this transaction; its `seq`. It becomes visible to consumers
    /// when (and only if) the transaction commits.
    pub fn emit(&mut self, event: &Emit<'_>) -> Result<i64, DbError> {
        if event.payload.len() > PAYLOAD_BYTES_MAX {
            return Err(DbError::Backend(format!(
                "an event of {} bytes is over the limit of {PAYLOAD_BYTES_MAX}",
                event.payload.len()
            )));
        }
        let seq: i64 = self
            .insert_id(
                "INSERT INTO db_outbox (component, tenant_id, topic, version, payload, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
                "seq",
                &[
                    &event.component,
                    &event.tenant,
                    &event.topic,
                    &event.version,
                    &event.payload,
                    &event.at,
                ],
            )?
            .ok_or_else(|| DbError::Backend("an outbox insert wrote no row".into()))?;
        if self.dialect() == Dialect::Postgres && !self.emitted {
            // Delivered to listeners when the transaction commits, never before.
            self.execute("SELECT pg_notify($1, '')", &[&NOTIFY_CHANNEL])?;
        }
        self.emitted = true;
        if let Some(hooks) = self.hooks.clone() {
            for (topic, handler) in hooks.iter() {
                if topic == event.topic {
                    handler(self, event)?;
                }
            }
        }
        Ok(seq)
    }
}

/// Events per multi-row insert of [`Tx::emit_many`].
const EMIT_ROWS: usize = 64;

impl Tx<'_> {
    /// Writes several events in this transaction, [`EMIT_ROWS`] rows per statement (a body
    /// of many changes costs a few round trips, not one per event); as [`Tx::emit`]
    /// otherwise, in-transaction handlers included, in order.
    pub fn emit_many(&mut self, events: &[Emit<'_>]) -> Result<(), DbError> {
        if let Some(e) = events.iter().find(|e| e.payload.len() > PAYLOAD_BYTES_MAX) {
            return Err(DbError::Backend(format!(
                "an event of {} bytes is over the limit of {PAYLOAD_BYTES_MAX}",
                e.payload.len()
            )));
        }
        let full = events.len() - events.len() % EMIT_ROWS;
        if full > 0 {
            let values = (0..EMIT_ROWS)
                .map(|r| {
                    let b = r * 6;
                    format!(
                        "(${}, ${}, ${}, ${}, ${}, ${})",
                        b + 1,
                        b + 2,
                        b + 3,
                        b + 4,
                        b + 5,
                        b + 6
                    )
                })
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "INSERT INTO db_outbox (component, tenant_id, topic, version, payload, created_at) VALUES {values}"
            );
            for chunk in events[..full].chunks(EMIT_ROWS) {
                let params: Vec<&dyn crate::Param> = chunk
                    .iter()
                    .flat_map(|e| {
                        [
                            &e.component as &dyn crate::Param,
                            &e.tenant,
                            &e.topic,
                            &e.version,
                            &e.payload,
                            &e.at,
                        ]
                    })
                    .collect();
                self.execute(&sql, &params)?;
            }
            if self.dialect() == Dialect::Postgres && !self.emitted {
                self.execute("SELECT pg_notify($1, '')", &[&NOTIFY_CHANNEL])?;
            }
            self.emitted = true;
            if let Some(hooks) = self.hooks.clone() {
                for event in &events[..full] {
                    for (topic, handler) in hooks.iter() {
                        if topic == event.topic {
                            handler(self, event)?;
                        }
                    }
                }
            }
        }
        for event in &events[full..] {
            self.emit(event)?;
        }
        Ok(())
    }
}

/// A handler that runs inside the transaction that emits its topic, before it commits: its
/// writes commit with the change or not at all, and an `Err` refuses the change. For the
/// few effects that must be in the same transaction as their cause (a label with its
/// shipment, a credit check with its charge); everything else consumes through the relay.
pub type InTxHandler = Arc<dyn Fn(&mut Tx<'_>, &Emit<'_>) -> Result<(), DbError> + Send + Sync>;

/// The in-transaction handlers of a database, by topic.
pub type Hooks = Arc<Vec<(String, InTxHandler)>>;

/// Up to `limit` events after `after`, in delivery order; on PostgreSQL only final ones.
pub fn read_after(tx: &mut Tx<'_>, after: Position, limit: i64) -> Result<Vec<Message>, DbError> {
    read_after_for(tx, after, limit, &[])
}

/// [`read_after`] for a consumer of `topics` (empty: all): every event comes, so the
/// consumer's position moves past the others, but only the asked topics bring their
/// payload (the others' is empty). A bulk import writes a 2 KB shipment into the outbox per
/// row; the relay's consumers that want one rare topic need not copy them all out.
pub fn read_after_for(
    tx: &mut Tx<'_>,
    after: Position,
    limit: i64,
    topics: &[String],
) -> Result<Vec<Message>, DbError> {
    let payload = if topics.is_empty() {
        "payload".to_owned()
    } else {
        let asked: Vec<String> = (0..topics.len()).map(|i| format!("${}", i + 4)).collect();
        format!(
            "CASE WHEN topic IN ({}) THEN payload ELSE '' END",
            asked.join(", ")
        )
    };
    let columns = format!("seq, txid, component, tenant_id, topic, version, {payload}, created_at");
    let sql = match tx.dialect() {
        Dialect::Postgres => format!(
            "SELECT {columns} FROM db_outbox WHERE (txid, seq) > ($1, $2) \
             AND txid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint \
             ORDER BY txid, seq LIMIT $3"
        ),
        // Every txid is 0 on SQLite. The row value `(txid, seq) > ($1, $2)` is not a seek
        // there: SQLite seeks on txid alone and tests every row from there, so each page
        // read the whole outbox from its start (found by profiling a 100,000-row import).
        Dialect::Sqlite => format!(
            "SELECT {columns} FROM db_outbox WHERE txid = $1 AND seq > $2 ORDER BY txid, seq LIMIT $3"
        ),
    };
    let limit = limit.clamp(1, PAGE_ROWS * 16);
    let mut params: Vec<&dyn Param> = vec![&after.txid, &after.seq, &limit];
    params.extend(topics.iter().map(|t| t as &dyn Param));
    tx.query(&sql, &params)?
        .iter()
        .map(|r| {
            Ok(Message {
                position: Position {
                    seq: r.get(0)?,
                    txid: r.get(1)?,
                },
                component: r.get(2)?,
                tenant: r.get(3)?,
                topic: r.get(4)?,
                version: r.get(5)?,
                payload: r.get(6)?,
                created_at: r.get(7)?,
            })
        })
        .collect()
}

/// The position of the last final event: a consumer starting here sees every event that
/// commits from now on.
pub fn head(tx: &mut Tx<'_>) -> Result<Position, DbError> {
    let sql = tx.pick(
        "SELECT txid, seq FROM db_outbox \
         WHERE txid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint \
         ORDER BY txid DESC, seq DESC LIMIT 1",
        "SELECT txid, seq FROM db_outbox ORDER BY txid DESC, seq DESC LIMIT 1",
    );
    Ok(match tx.query_opt(sql, &[])? {
        Some(r) => Position {
            txid: r.get(0)?,
            seq: r.get(1)?,
        },
        None => Position::default(),
    })
}

/// A durable consumer's stored position (registering it at the start if new).
fn durable_cursor(tx: &mut Tx<'_>, consumer: &str, now: i64) -> Result<Position, DbError> {
    tx.execute(
        "INSERT INTO db_cursors (consumer, txid, seq, updated_at) VALUES ($1, 0, 0, $2) \
         ON CONFLICT (consumer) DO NOTHING",
        &[&consumer, &now],
    )?;
    let sql = tx.pick(
        "SELECT txid, seq FROM db_cursors WHERE consumer = $1 FOR UPDATE",
        "SELECT txid, seq FROM db_cursors WHERE consumer = $1",
    );
    let row = tx.query_one(sql, &[&consumer])?;
    Ok(Position {
        txid: row.get(0)?,
        seq: row.get(1)?,
    })
}

/// Deletes events older than `created_before` that every durable consumer has applied;
/// how many.
pub fn prune(tx: &mut Tx<'_>, created_before: i64) -> Result<u64, DbError> {
    let floor = tx.query_opt(
        "SELECT txid, seq FROM db_cursors ORDER BY txid, seq LIMIT 1",
        &[],
    )?;
    let (txid, seq) = match floor {
        Some(r) => (r.get::<i64>(0)?, r.get::<i64>(1)?),
        None => (i64::MAX, i64::MAX),
    };
    tx.execute(
        "DELETE FROM db_outbox WHERE seq IN (SELECT seq FROM db_outbox \
         WHERE created_at < $1 AND (txid, seq) <= ($2, $3) ORDER BY txid, seq LIMIT $4)",
        &[&created_before, &txid, &seq, &DELETE_ROWS_MAX],
    )
}

/// A local consumer's handler: an async effect on this process's memory.
pub type LocalHandler =
    Arc<dyn Fn(Message) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;
/// A durable consumer's handler: applies the event in the given transaction.
pub type DurableHandler = Arc<dyn Fn(&mut Tx<'_>, &Message) -> Result<(), DbError> + Send + Sync>;
/// A durable consumer's handler that takes a page of events at once (those of its topics,
/// in order), for consumers that do their work as a set.
pub type PageHandler = Arc<dyn Fn(&mut Tx<'_>, &[Message]) -> Result<(), DbError> + Send + Sync>;

#[derive(Clone)]
pub enum Handler {
    Local(LocalHandler),
    Durable(DurableHandler),
    /// A durable consumer applying a whole page in its transaction.
    DurablePage(PageHandler),
}

/// One consumer: a unique name, the topics it wants (empty: all), its handler.
#[derive(Clone)]
pub struct Subscription {
    pub consumer: String,
    pub topics: Vec<String>,
    pub handler: Handler,
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("consumer", &self.consumer)
            .field("topics", &self.topics)
            .finish_non_exhaustive()
    }
}

impl Subscription {
    fn wants(&self, topic: &str) -> bool {
        self.topics.is_empty() || self.topics.iter().any(|t| t == topic)
    }
}

/// How the relay runs.
#[derive(Clone, Debug)]
pub struct RelayOptions {
    /// The longest wait between reads when nothing wakes the relay.
    pub poll: Duration,
    /// How long events are kept after every durable consumer has applied them.
    pub retention: Duration,
    /// How often old events are pruned.
    pub prune_every: Duration,
}

impl Default for RelayOptions {
    fn default() -> RelayOptions {
        RelayOptions {
            poll: Duration::from_millis(1000),
            retention: Duration::from_secs(7 * 86_400),
            prune_every: Duration::from_secs(600),
        }
    }
}

/// Hands new events to every subscription. Create it *before* components load their
/// state (its local cursors start at the head it reads then), add subscriptions, then
/// [`Relay::spawn`] it.
pub struct Relay {
    db: Db,
    start: Position,
    subscriptions: Vec<Subscription>,
    options: RelayOptions,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay")
            .field("start", &self.start)
            .field("subscriptions", &self.subscriptions)
            .finish_non_exhaustive()
    }
}

impl Relay {
    pub async fn new(db: Db, options: RelayOptions) -> Result<Relay, DbError> {
        let start = db.read(head).await?;
        Ok(Relay {
            db,
            start,
            subscriptions: Vec::new(),
            options,
        })
    }

    /// Where local consumers start.
    pub fn start_position(&self) -> Position {
        self.start
    }

    pub fn subscribe(&mut self, subscription: Subscription) {
        self.subscriptions.push(subscription);
    }

    /// Runs the relay on the current runtime until the returned handle is dropped or
    /// stopped.
    pub fn spawn(self) -> RelayHandle {
        let stop = Arc::new(tokio::sync::Notify::new());
        let task = tokio::spawn(self.run(stop.clone()));
        RelayHandle {
            stop,
            task: Some(task),
        }
    }

    async fn run(self, stop: Arc<tokio::sync::Notify>) {
        let wake = self.db.wake();
        let mut cursors: Vec<Position> = vec![self.start; self.subscriptions.len()];
        let mut last_prune = tokio::time::Instant::now();
        loop {
            for (subscription, cursor) in self.subscriptions.iter().zip(cursors.iter_mut()) {
                if let Err(e) = deliver(&self.db, subscription, cursor).await {
                    tracing::error!(consumer = %subscription.consumer, error = %e, "event delivery failed; retrying");
                }
            }
            if last_prune.elapsed() >= self.options.prune_every {
                last_prune = tokio::time::Instant::now();
                let before = crate::unix_now_s()
                    - i64::try_from(self.options.retention.as_secs()).unwrap_or(i64::MAX);
                match self.db.write(move |tx| prune(tx, before)).await {
                    Ok(n) if n > 0 => tracing::info!(deleted = n, "outbox pruned"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "outbox pruning failed"),
                }
            }
            tokio::select! {
                () = wake.notified() => {}
                () = tokio::time::sleep(self.options.poll) => {}
                () = stop.notified() => return,
            }
        }
    }
}

/// Delivers every available page to one subscription.
async fn deliver(
    db: &Db,
    subscription: &Subscription,
    cursor: &mut Position,
) -> Result<(), DbError> {
    loop {
        let read = match &subscription.handler {
            Handler::Local(handler) => {
                let after = *cursor;
                let topics = subscription.topics.clone();
                let page = db
                    .read(move |tx| read_after_for(tx, after, PAGE_ROWS, &topics))
                    .await?;
                let n = page.len();
                for message in page {
                    *cursor = message.position;
                    if subscription.wants(&message.topic) {
                        handler(message).await;
                    }
                }
                n
            }
            Handler::Durable(_) | Handler::DurablePage(_) => {
                let subscription = subscription.clone();
                db.write(move |tx| {
                    let now = crate::unix_now_s();
                    let from = durable_cursor(tx, &subscription.consumer, now)?;
                    let page = read_after_for(tx, from, PAGE_ROWS, &subscription.topics)?;
                    match &subscription.handler {
                        Handler::DurablePage(handler) => {
                            let wanted: Vec<Message> = page
                                .iter()
                                .filter(|m| subscription.wants(&m.topic))
                                .cloned()
                                .collect();
                            if !wanted.is_empty() {
                                handler(tx, &wanted)?;
                            }
                        }
                        Handler::Durable(handler) => {
                            for message in &page {
                                if subscription.wants(&message.topic) {
                                    handler(tx, message)?;
                                }
                            }
                        }
                        Handler::Local(_) => {}
                    }
                    if let Some(last) = page.last() {
                        tx.execute(
                            "UPDATE db_cursors SET txid = $1, seq = $2, updated_at = $3 WHERE consumer = $4",
                            &[&last.position.txid, &last.position.seq, &now, &subscription.consumer],
                        )?;
                    }
                    Ok::<_, DbError>(page.len())
                })
                .await?
            }
        };
        if (read as i64) < PAGE_ROWS {
            return Ok(());
        }
    }
}

/// Stops the relay when dropped.
#[derive(Debug)]
pub struct RelayHandle {
    stop: Arc<tokio::sync::Notify>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl RelayHandle {
    /// Stops the relay after the round in progress and waits for it.
    pub async fn stop(mut self) {
        self.stop.notify_one();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for RelayHandle {
    fn drop(&mut self) {
        self.stop.notify_one();
    }
}
