//! Worker threads that own database connections and run jobs sent to them.
//!
//! Both backends' drivers are synchronous here (rusqlite; `postgres`, the blocking wrapper
//! of tokio-postgres), so a transaction script is plain code that runs start to end on one
//! thread holding one connection. Async callers send the job over a bounded channel and
//! await its answer: a runtime worker never blocks on disk or network, and a full queue
//! pushes back on callers instead of growing.

use crate::error::DbError;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot};

type Job<C> = Box<dyn FnOnce(Result<&mut C, DbError>) + Send>;

enum Command<C> {
    Run(Job<C>),
    /// Drop the connection (SQLite: closing checkpoints the WAL), then answer; later jobs
    /// get [`DbError::Unavailable`].
    Close(oneshot::Sender<()>),
}

/// Makes a connection for a worker; called again after a connection breaks.
pub(crate) type Connect<C> = Arc<dyn Fn() -> Result<C, DbError> + Send + Sync>;
/// Whether a connection is still usable after a job.
pub(crate) type Healthy<C> = fn(&mut C) -> bool;

pub(crate) struct Pool<C> {
    commands: mpsc::Sender<Command<C>>,
    workers: usize,
}

impl<C> Clone for Pool<C> {
    fn clone(&self) -> Pool<C> {
        Pool {
            commands: self.commands.clone(),
            workers: self.workers,
        }
    }
}

impl<C: 'static> Pool<C> {
    /// Starts `workers` threads named `name`, each with its own connection. `first` is the
    /// connection of worker 0 if the caller made it already (SQLite's writer, migrated).
    pub(crate) fn start(
        name: &str,
        workers: usize,
        queue_max: usize,
        connect: Connect<C>,
        healthy: Healthy<C>,
        mut first: Option<C>,
    ) -> Result<Pool<C>, DbError>
    where
        C: Send,
    {
        let (commands, queue) = mpsc::channel(queue_max);
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..workers.max(1) {
            let queue = queue.clone();
            let connect = connect.clone();
            let conn = first.take();
            std::thread::Builder::new()
                .name(format!("{name}-{i}"))
                .spawn(move || worker(&queue, &connect, healthy, conn))
                .map_err(|e| DbError::Backend(format!("cannot start a {name} thread: {e}")))?;
        }
        Ok(Pool {
            commands,
            workers: workers.max(1),
        })
    }

    /// Runs `job` on a worker with its connection and waits for the answer.
    pub(crate) async fn run<T, F>(&self, job: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&mut C) -> Result<T, DbError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Job<C> = Box::new(move |conn| {
            // The caller may have gone (a cancelled request): nothing to tell it then.
            let _ = reply.send(conn.and_then(job));
        });
        self.commands
            .send(Command::Run(job))
            .await
            .map_err(|_| closed())?;
        answer.await.map_err(|_| closed())?
    }

    /// Closes every worker's connection; waits until they have.
    pub(crate) async fn close(&self) {
        for _ in 0..self.workers {
            let (done, closed) = oneshot::channel();
            if self.commands.send(Command::Close(done)).await.is_err() {
                return;
            }
            let _ = closed.await;
        }
    }
}

fn closed() -> DbError {
    DbError::Unavailable("the database has been closed".to_owned())
}

fn worker<C>(
    queue: &Mutex<mpsc::Receiver<Command<C>>>,
    connect: &Connect<C>,
    healthy: Healthy<C>,
    mut conn: Option<C>,
) {
    loop {
        // One worker waits on the queue at a time; it lets go as soon as it has a job.
        let command = match queue.lock() {
            Ok(mut queue) => queue.blocking_recv(),
            Err(_) => return,
        };
        let Some(command) = command else { return };
        match command {
            Command::Run(job) => {
                if conn.is_none() {
                    match connect() {
                        Ok(c) => conn = Some(c),
                        Err(e) => {
                            job(Err(e));
                            continue;
                        }
                    }
                }
                let Some(c) = conn.as_mut() else { continue };
                // A panicking job is a bug: its transaction rolls back as it unwinds and
                // its caller sees the database as unavailable. Keep serving everyone else.
                let ok = catch_unwind(AssertUnwindSafe(|| job(Ok(&mut *c)))).is_ok();
                if !ok || !healthy(c) {
                    conn = None;
                }
            }
            Command::Close(done) => {
                // This worker ends; the others take the remaining close commands. When the
                // last has gone the queue closes and later calls fail as unavailable.
                drop(conn.take());
                let _ = done.send(());
                return;
            }
        }
    }
}
