//! The storage machinery's contract, on both backends: transactions, migrations, the
//! outbox and its relay.

use crossdock_db::outbox::{
    self, Emit, Handler, Message, Position, Relay, RelayOptions, Subscription,
};
use crossdock_db::testing::TestDb;
use crossdock_db::{DbError, Dialect, Migration, Migrations, Tx};
use std::sync::{Arc, Mutex};
use std::time::Duration;

static WIDGETS: Migrations = Migrations {
    component: "widgets",
    sqlite: &[Migration {
        version: 1,
        sql: "CREATE TABLE widgets_items (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, blob BLOB);\
              CREATE TABLE widgets_applied (seq INTEGER PRIMARY KEY, topic TEXT NOT NULL);",
    }],
    postgres: &[Migration {
        version: 1,
        sql: "CREATE TABLE widgets_items (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name TEXT NOT NULL UNIQUE, blob BYTEA);\
              CREATE TABLE widgets_applied (seq BIGINT PRIMARY KEY, topic TEXT NOT NULL);",
    }],
};

fn emit(tx: &mut Tx<'_>, topic: &str, payload: &str) -> Result<i64, DbError> {
    tx.emit(&Emit {
        component: "widgets",
        tenant: 1,
        topic,
        version: 1,
        payload,
        at: 1_767_225_600,
    })
}

async fn read_all(db: &crossdock_db::Db, after: Position) -> Vec<Message> {
    db.read(move |tx| outbox::read_after(tx, after, 1000))
        .await
        .expect("read the outbox")
}

/// Reads until `count` events are visible. On PostgreSQL a reader sees only events below
/// the oldest transaction still running anywhere in the database, so a test running
/// beside this one can hold committed events back for a moment: wait (bounded).
async fn read_settled(db: &crossdock_db::Db, count: usize) -> Vec<Message> {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let all = read_all(db, Position::default()).await;
        if all.len() >= count || std::time::Instant::now() >= deadline {
            return all;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn migrations_apply_once_and_refuse_newer(db: &TestDb) {
    let applied = db.migrate(&[&WIDGETS]).await.expect("migrate");
    assert_eq!(applied, vec![("db", vec![1, 2]), ("widgets", vec![1])]);
    let again = db.migrate(&[&WIDGETS]).await.expect("migrate again");
    assert_eq!(again, vec![("db", vec![]), ("widgets", vec![])]);
    db.execute_raw(
        "INSERT INTO db_migrations (component, version, applied_at) VALUES ('widgets', 2, 0)",
    )
    .await;
    let refused = db.migrate(&[&WIDGETS]).await;
    assert_eq!(
        refused,
        Err(DbError::SchemaTooNew {
            component: "widgets".into(),
            found: 2,
            known: 1
        })
    );
}

async fn scripts_commit_on_ok_and_leave_nothing_on_err(db: &TestDb) {
    db.migrate(&[&WIDGETS]).await.expect("migrate");
    let id: i64 = db
        .write(|tx| {
            let row = tx.query_one(
                "INSERT INTO widgets_items (name, blob) VALUES ($1, $2) RETURNING id",
                &[&"a", &vec![1u8, 2, 3]],
            )?;
            row.get::<i64>(0)
        })
        .await
        .expect("insert");
    let failed: Result<(), DbError> = db
        .write(|tx| {
            tx.execute("INSERT INTO widgets_items (name) VALUES ($1)", &[&"b"])?;
            emit(tx, "widget.made", "{}")?;
            Err(DbError::Decode("the script refuses".into()))
        })
        .await;
    assert!(failed.is_err());
    let duplicate = db
        .write(|tx| tx.execute("INSERT INTO widgets_items (name) VALUES ($1)", &[&"a"]))
        .await;
    assert!(
        matches!(duplicate, Err(DbError::Unique { .. })),
        "{duplicate:?}"
    );
    let names: Vec<(i64, String, Option<Vec<u8>>)> = db
        .read(|tx| {
            tx.query("SELECT id, name, blob FROM widgets_items ORDER BY id", &[])?
                .iter()
                .map(|r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .collect::<Result<Vec<_>, DbError>>()
        })
        .await
        .expect("read");
    assert_eq!(names, vec![(id, "a".to_owned(), Some(vec![1, 2, 3]))]);
    assert!(
        read_all(db, Position::default()).await.is_empty(),
        "a rolled-back event is gone"
    );
    let typed: Result<String, DbError> = db
        .read(|tx| {
            tx.query_one("SELECT id FROM widgets_items", &[])?
                .get::<String>(0)
        })
        .await;
    assert!(matches!(typed, Err(DbError::Decode(_))), "{typed:?}");
}

async fn events_are_read_in_order_in_bounded_pages(db: &TestDb) {
    db.migrate(&[&WIDGETS]).await.expect("migrate");
    for batch in 0..3 {
        db.write(move |tx| {
            for i in 0..4 {
                emit(tx, "widget.made", &format!("{{\"n\":{}}}", batch * 4 + i))?;
            }
            Ok::<_, DbError>(())
        })
        .await
        .expect("emit");
    }
    let head = db.read(outbox::head).await.expect("head");
    let mut after = Position::default();
    let mut seen = Vec::new();
    // On PostgreSQL rows are final only below the oldest running transaction of the whole
    // database, and other tests' transactions run beside this one: an empty page before
    // the head means "not yet", so wait (bounded) rather than stop.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while after != head && std::time::Instant::now() < deadline {
        let page = db
            .read(move |tx| outbox::read_after(tx, after, 5))
            .await
            .expect("page");
        assert!(page.len() <= 5);
        let Some(last) = page.last() else {
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        };
        after = last.position;
        seen.extend(page.into_iter().map(|m| m.payload));
    }
    let expected: Vec<String> = (0..12).map(|n| format!("{{\"n\":{n}}}")).collect();
    assert_eq!(seen, expected);
    assert_eq!(after, head);
    // A consumer of some topics gets every event (its position passes them all) but the
    // payloads of its topics only.
    db.write(|tx| {
        emit(tx, "widget.sold", "{\"sold\":1}")?;
        emit(tx, "widget.made", "{\"n\":12}")?;
        emit(tx, "widget.lost", "{\"lost\":1}")
    })
    .await
    .expect("emit");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let topics = vec!["widget.sold".to_owned(), "widget.lost".to_owned()];
    let page = loop {
        let topics = topics.clone();
        let page = db
            .read(move |tx| outbox::read_after_for(tx, head, 100, &topics))
            .await
            .expect("page");
        if page.len() == 3 || std::time::Instant::now() >= deadline {
            break page;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let got: Vec<(&str, &str)> = page
        .iter()
        .map(|m| (m.topic.as_str(), m.payload.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("widget.sold", "{\"sold\":1}"),
            ("widget.made", ""),
            ("widget.lost", "{\"lost\":1}")
        ]
    );
    let all = db
        .read(move |tx| outbox::read_after_for(tx, head, 100, &[]))
        .await
        .expect("page");
    assert_eq!(all.len(), 3);
    assert_eq!(all[1].payload, "{\"n\":12}");
}

/// A durable consumer applies each event exactly once with its cursor, even when two
/// relays (two processes) run it at once; a local consumer sees events committed after
/// its relay started.
async fn relays_deliver_to_durable_and_local_consumers(db: &TestDb) {
    db.migrate(&[&WIDGETS]).await.expect("migrate");
    db.write(|tx| emit(tx, "widget.made", "{\"before\":true}"))
        .await
        .expect("emit");
    let other = db.reopen().await;
    other.listen().expect("listen");
    db.listen().expect("listen");
    let local_seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut handles = Vec::new();
    for (i, handle_db) in [db.db.clone(), other.clone()].into_iter().enumerate() {
        let mut relay = Relay::new(
            handle_db,
            RelayOptions {
                poll: Duration::from_millis(200),
                ..Default::default()
            },
        )
        .await
        .expect("relay");
        relay.subscribe(Subscription {
            consumer: "widgets.applied".into(),
            topics: vec!["widget.made".into()],
            handler: Handler::Durable(Arc::new(|tx, m| {
                tx.execute(
                    "INSERT INTO widgets_applied (seq, topic) VALUES ($1, $2)",
                    &[&m.position.seq, &m.topic],
                )?;
                Ok(())
            })),
        });
        if i == 1 {
            let seen = local_seen.clone();
            relay.subscribe(Subscription {
                consumer: "memory".into(),
                topics: vec![],
                handler: Handler::Local(Arc::new(move |m| {
                    let seen = seen.clone();
                    Box::pin(async move { seen.lock().expect("lock").push(m.payload) })
                })),
            });
        }
        handles.push(relay.spawn());
    }
    for n in 0..300 {
        let topic = if n % 3 == 0 {
            "widget.other"
        } else {
            "widget.made"
        };
        db.write(move |tx| emit(tx, topic, &format!("{{\"n\":{n}}}")))
            .await
            .expect("emit");
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let applied: i64 = db
            .read(|tx| {
                tx.query_one("SELECT COUNT(*) FROM widgets_applied", &[])?
                    .get(0)
            })
            .await
            .expect("count");
        let local = local_seen.lock().expect("lock").len();
        if applied == 201 && local == 300 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "applied {applied} of 201, local {local} of 300"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for h in handles {
        h.stop().await;
    }
    // No event applied twice: the primary key of widgets_applied would have refused it and
    // the count would have stalled. The local consumer never saw the event from before it.
    assert!(
        !local_seen
            .lock()
            .expect("lock")
            .iter()
            .any(|p| p.contains("before"))
    );
    let cursor: i64 = db
        .read(|tx| {
            tx.query_one(
                "SELECT seq FROM db_cursors WHERE consumer = 'widgets.applied'",
                &[],
            )?
            .get(0)
        })
        .await
        .expect("cursor");
    let last = read_all(db, Position::default())
        .await
        .last()
        .map(|m| m.position.seq);
    assert_eq!(Some(cursor), last);
}

async fn old_events_are_pruned_once_applied(db: &TestDb) {
    db.migrate(&[&WIDGETS]).await.expect("migrate");
    for at in [100, 200, 300] {
        db.write(move |tx| {
            tx.emit(&Emit {
                component: "widgets",
                tenant: 1,
                topic: "t",
                version: 1,
                payload: "{}",
                at,
            })
        })
        .await
        .expect("emit");
    }
    let all = read_settled(db, 3).await;
    assert_eq!(all.len(), 3);
    // A durable consumer that has applied only the first event holds the others back.
    let first = all[0].position;
    db.write(move |tx| {
        tx.execute(
            "INSERT INTO db_cursors (consumer, txid, seq, updated_at) VALUES ('c', $1, $2, 0)",
            &[&first.txid, &first.seq],
        )
    })
    .await
    .expect("cursor");
    let deleted = db.write(|tx| outbox::prune(tx, 250)).await.expect("prune");
    assert_eq!(deleted, 1);
    let left: Vec<i64> = read_settled(db, 2)
        .await
        .iter()
        .map(|m| m.created_at)
        .collect();
    assert_eq!(left, vec![200, 300]);
}

async fn idempotency_keys_keep_the_first_final_answer(db: &TestDb) {
    use crossdock_db::idempotency::{self, CLAIM_STALE_S, Claim, Stored};
    db.migrate(&[&WIDGETS]).await.expect("migrate");
    let claim = |tenant: i64, key: &'static str, fp: &'static [u8], now: i64| {
        let db = crossdock_db::Db::clone(db);
        async move {
            db.write(move |tx| idempotency::claim(tx, tenant, key, fp, now))
                .await
                .expect("claim")
        }
    };
    assert_eq!(claim(1, "k", b"a", 100).await, Claim::Run);
    assert_eq!(claim(1, "k", b"a", 101).await, Claim::InProgress);
    assert_eq!(claim(1, "k", b"b", 101).await, Claim::Mismatch);
    // Another tenant's same key is its own.
    assert_eq!(claim(2, "k", b"b", 101).await, Claim::Run);
    let answer = Stored {
        status: 201,
        content_type: "application/json".into(),
        body: b"{\"id\":\"ord_x\"}".to_vec(),
    };
    let kept = answer.clone();
    crossdock_db::Db::clone(db)
        .write(move |tx| idempotency::complete(tx, 1, "k", &kept))
        .await
        .expect("complete");
    assert_eq!(claim(1, "k", b"a", 102).await, Claim::Replay(answer));
    // A released claim runs again; a claim its process abandoned is taken over when stale.
    crossdock_db::Db::clone(db)
        .write(|tx| idempotency::release(tx, 2, "k"))
        .await
        .expect("release");
    assert_eq!(claim(2, "k", b"c", 103).await, Claim::Run);
    assert_eq!(
        claim(2, "k", b"c", 103 + CLAIM_STALE_S - 1).await,
        Claim::InProgress
    );
    assert_eq!(claim(2, "k", b"c", 103 + CLAIM_STALE_S).await, Claim::Run);
    let pruned = crossdock_db::Db::clone(db)
        .write(|tx| idempotency::prune(tx, 103))
        .await
        .expect("prune");
    assert_eq!(
        pruned, 1,
        "tenant 1's answer (created at 100) is older than 103"
    );
}

async fn in_transaction_handlers_commit_or_refuse_with_the_change(db: &TestDb) {
    db.migrate(&[&WIDGETS]).await.expect("migrate");
    let handle = crossdock_db::Db::clone(db);
    handle.on_emit(
        "widget.made",
        Arc::new(|tx, e| {
            if e.payload == "refuse" {
                return Err(DbError::Backend("refused by the handler".into()));
            }
            tx.execute(
                "INSERT INTO widgets_items (name) VALUES ($1)",
                &[&format!("label-of-{}", e.payload)],
            )?;
            Ok(())
        }),
    );
    handle
        .write(|tx| emit(tx, "widget.made", "a").map(|_| ()))
        .await
        .expect("an emit with its handler");
    let refused = handle
        .write(|tx| {
            tx.execute("INSERT INTO widgets_items (name) VALUES ('cause')", &[])?;
            emit(tx, "widget.made", "refuse").map(|_| ())
        })
        .await;
    assert!(refused.is_err());
    let names: Vec<String> = handle
        .read(|tx| {
            tx.query("SELECT name FROM widgets_items ORDER BY name", &[])?
                .iter()
                .map(|r| r.get(0))
                .collect::<Result<Vec<String>, DbError>>()
        })
        .await
        .expect("read");
    assert_eq!(
        names,
        vec!["label-of-a".to_owned()],
        "the refused change left nothing"
    );
}

async fn many_events_are_written_in_order_with_their_handlers(db: &TestDb) {
    db.migrate(&[&WIDGETS]).await.expect("migrate");
    let handled = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let h = handled.clone();
    db.on_emit(
        "widget.many",
        Arc::new(move |_, _| {
            h.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok(())
        }),
    );
    // Two full statements of 64 and a remainder of 2, then one more event after them.
    let payloads: Vec<String> = (0..130).map(|i| format!("{{\"n\":{i}}}")).collect();
    db.write(move |tx| {
        let emits: Vec<Emit<'_>> = payloads
            .iter()
            .map(|p| Emit {
                component: "widgets",
                tenant: 1,
                topic: "widget.many",
                version: 1,
                payload: p,
                at: 1,
            })
            .collect();
        tx.emit_many(&emits)?;
        emit(tx, "widget.after", "{}")
    })
    .await
    .expect("emits");
    let all = read_all(db, Position::default()).await;
    assert_eq!(all.len(), 131);
    for (i, m) in all.iter().take(130).enumerate() {
        assert_eq!(m.payload, format!("{{\"n\":{i}}}"), "in order");
    }
    assert_eq!(all[130].topic, "widget.after");
    assert_eq!(handled.load(std::sync::atomic::Ordering::SeqCst), 130);
}

crossdock_db::contract_tests!(
    many_events_are_written_in_order_with_their_handlers,
    migrations_apply_once_and_refuse_newer,
    scripts_commit_on_ok_and_leave_nothing_on_err,
    events_are_read_in_order_in_bounded_pages,
    relays_deliver_to_durable_and_local_consumers,
    old_events_are_pruned_once_applied,
    idempotency_keys_keep_the_first_final_answer,
    in_transaction_handlers_commit_or_refuse_with_the_change,
);

/// Holds a write transaction open on a pool worker until told to commit.
struct Held {
    commit: std::sync::mpsc::Sender<()>,
    done: tokio::task::JoinHandle<Result<i64, DbError>>,
}

async fn hold(db: &crossdock_db::Db) -> (Held, tokio::sync::oneshot::Receiver<()>) {
    let (commit, wait) = std::sync::mpsc::channel::<()>();
    let (ready_tx, ready) = tokio::sync::oneshot::channel::<()>();
    let db = db.clone();
    let done = tokio::spawn(async move {
        db.write(move |tx| {
            let seq = emit(tx, "widget.made", "{}")?;
            let _ = ready_tx.send(());
            let _ = wait.recv();
            Ok(seq)
        })
        .await
    });
    (Held { commit, done }, ready)
}

/// PostgreSQL only (SQLite serialises writers, so commits are in sequence order there):
/// two emitting transactions commit in the opposite order of their sequence values, and a
/// reader that polls all along still sees both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_order_commits_skip_no_event() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    assert_eq!(db.dialect(), Dialect::Postgres);
    db.migrate(&[&WIDGETS]).await.expect("migrate");
    // Case 1: the earlier sequence value has the earlier transaction id.
    let (first, ready) = hold(&db).await;
    ready.await.expect("first emitted");
    let (second, ready) = hold(&db).await;
    ready.await.expect("second emitted");
    let mut cursor = Position::default();
    let mut seen: Vec<i64> = Vec::new();
    let poll = async |cursor: &mut Position, seen: &mut Vec<i64>| {
        for m in read_all(&db, *cursor).await {
            *cursor = m.position;
            seen.push(m.position.seq);
        }
    };
    second.commit.send(()).expect("commit second");
    let second_seq = second.done.await.expect("join").expect("second commits");
    poll(&mut cursor, &mut seen).await;
    assert!(
        seen.is_empty(),
        "nothing is final while the first transaction runs: {seen:?}"
    );
    first.commit.send(()).expect("commit first");
    let first_seq = first.done.await.expect("join").expect("first commits");
    assert!(first_seq < second_seq);
    poll(&mut cursor, &mut seen).await;
    seen.sort_unstable();
    assert_eq!(seen, vec![first_seq, second_seq]);

    // Case 2: the later sequence value has the *earlier* transaction id, and commits first.
    db.execute_raw("DELETE FROM widgets_items").await;
    let (early_xid, ready_late) = hold_late_emitter(&db).await;
    ready_late
        .await
        .expect("the early transaction holds its id");
    let (late_xid, ready) = hold(&db).await;
    ready.await.expect("emitted");
    // Now the early-id transaction emits (a higher seq) and commits first.
    early_xid.go.send(()).expect("go");
    tokio::time::sleep(Duration::from_millis(200)).await;
    early_xid.held.commit.send(()).expect("commit");
    let high_seq = early_xid.held.done.await.expect("join").expect("commits");
    poll(&mut cursor, &mut seen).await;
    late_xid.commit.send(()).expect("commit");
    let low_seq = late_xid.done.await.expect("join").expect("commits");
    assert!(low_seq < high_seq);
    poll(&mut cursor, &mut seen).await;
    assert!(
        seen.contains(&low_seq) && seen.contains(&high_seq),
        "{seen:?} lacks {low_seq} or {high_seq}"
    );
    assert_eq!(seen.len(), 4);
}

struct LateEmitter {
    held: Held,
    go: std::sync::mpsc::Sender<()>,
}

/// A transaction that takes its id now (by writing a row) but emits only when told.
async fn hold_late_emitter(
    db: &crossdock_db::Db,
) -> (LateEmitter, tokio::sync::oneshot::Receiver<()>) {
    let (commit, wait) = std::sync::mpsc::channel::<()>();
    let (go, go_rx) = std::sync::mpsc::channel::<()>();
    let (ready_tx, ready) = tokio::sync::oneshot::channel::<()>();
    let db = db.clone();
    let done = tokio::spawn(async move {
        db.write(move |tx| {
            tx.execute("INSERT INTO widgets_items (name) VALUES ($1)", &[&"early"])?;
            let _ = ready_tx.send(());
            let _ = go_rx.recv();
            let seq = emit(tx, "widget.made", "{\"late\":true}")?;
            let _ = wait.recv();
            Ok(seq)
        })
        .await
    });
    (
        LateEmitter {
            held: Held { commit, done },
            go,
        },
        ready,
    )
}

/// SQLite: a read does not queue behind a write in progress (readers have connections of
/// their own); it sees the last committed state.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_reads_do_not_wait_for_a_write_in_progress() {
    let db = TestDb::sqlite().await;
    db.migrate(&[&WIDGETS]).await.expect("migrate");
    let (commit, wait) = std::sync::mpsc::channel::<()>();
    let (started_tx, started) = tokio::sync::oneshot::channel::<()>();
    let writer = db.db.clone();
    let write = tokio::spawn(async move {
        writer
            .write(move |tx| {
                tx.execute("INSERT INTO widgets_items (name) VALUES ($1)", &[&"slow"])?;
                let _ = started_tx.send(());
                let _ = wait.recv();
                Ok::<_, DbError>(())
            })
            .await
    });
    started.await.expect("the write began");
    let count: i64 = tokio::time::timeout(
        Duration::from_secs(2),
        db.read(|tx| {
            tx.query_one("SELECT COUNT(*) FROM widgets_items", &[])?
                .get(0)
        }),
    )
    .await
    .expect("the read answered while the write was open")
    .expect("read");
    assert_eq!(count, 0, "the uncommitted row is not seen");
    commit.send(()).expect("commit");
    write.await.expect("join").expect("the write commits");
    let count: i64 = db
        .read(|tx| {
            tx.query_one("SELECT COUNT(*) FROM widgets_items", &[])?
                .get(0)
        })
        .await
        .expect("read");
    assert_eq!(count, 1);
}
