//! identity's contract on both backends: tenants, keys, roles, revocation and its event.

use crossdock_db::outbox::{self, Position};
use crossdock_db::testing::TestDb;
use crossdock_http::{FixedClock, Role, TenantId};
use crossdock_identity::{Identity, IdentityError, KeyId, NewKey};
use std::sync::Arc;
use std::time::Duration;

const T0: i64 = 1_767_225_600;

async fn identity(db: &TestDb) -> Identity {
    db.migrate(&[&crossdock_identity::MIGRATIONS])
        .await
        .expect("migrate");
    Identity::new(
        db.db.clone(),
        Arc::new(FixedClock(T0.into())),
        Duration::from_secs(30),
    )
}

fn new_key(tenant: TenantId, roles: &[Role]) -> NewKey {
    NewKey {
        tenant,
        customer: None,
        roles: roles.to_vec(),
        label: "test".into(),
    }
}

async fn tenants_are_unique_by_name(db: &TestDb) {
    let id = identity(db).await;
    let a = id.create_tenant("acme").await.expect("create");
    assert!(matches!(
        id.create_tenant("acme").await,
        Err(IdentityError::Conflict(_))
    ));
    assert_eq!(id.tenant_by_name("acme").await.expect("read"), Some(a));
    assert_eq!(id.ensure_tenant("acme").await.expect("ensure"), a);
    let b = id.ensure_tenant("beta").await.expect("ensure");
    assert_ne!(a, b);
    assert!(matches!(
        id.create_tenant("").await,
        Err(IdentityError::Invalid { field: "name", .. })
    ));
}

async fn keys_verify_only_with_their_secret_and_until_revoked(db: &TestDb) {
    let id = identity(db).await;
    let a = id.create_tenant("a").await.expect("tenant");
    let b = id.create_tenant("b").await.expect("tenant");
    let created = id
        .create_key(NewKey {
            customer: Some("acme".into()),
            ..new_key(a, &[Role::Admin, Role::Shipper, Role::Finance])
        })
        .await
        .expect("key");
    assert_eq!(
        created.record.roles,
        vec![Role::Shipper, Role::Finance, Role::Admin]
    );
    assert!(
        !format!("{created:?}").contains(&created.secret[20..]),
        "Debug redacts the secret"
    );
    let verified = id
        .verify_key(&created.secret)
        .await
        .expect("verify")
        .expect("known");
    assert_eq!(verified, created.record);
    let mut wrong = created.secret.clone();
    let last = wrong.pop().expect("char");
    wrong.push(if last == '0' { '1' } else { '0' });
    assert_eq!(id.verify_key(&wrong).await.expect("verify"), None);
    assert_eq!(id.verify_key("cdk_nonsense").await.expect("verify"), None);
    // The secret is not in the database, only its hash.
    let secret_part = created
        .secret
        .rsplit('_')
        .next()
        .expect("secret")
        .to_owned();
    let stored: Vec<u8> = db
        .read(move |tx| {
            tx.query_one("SELECT secret_sha256 FROM identity_keys", &[])?
                .get(0)
        })
        .await
        .expect("read");
    assert_eq!(stored.len(), 32);
    assert!(!String::from_utf8_lossy(&stored).contains(&secret_part));
    // Another tenant can neither see nor revoke it.
    assert!(
        !id.revoke_key(b, &created.record.id, "key:b")
            .await
            .expect("revoke")
    );
    assert!(id.list_keys(b, None, 10).await.expect("list").is_empty());
    assert!(
        id.revoke_key(a, &created.record.id, "key:a")
            .await
            .expect("revoke")
    );
    assert_eq!(
        id.verify_key(&created.secret).await.expect("verify"),
        None,
        "revoked at once here"
    );
    assert!(
        id.revoke_key(a, &created.record.id, "key:a")
            .await
            .expect("again")
    );
    assert!(
        !id.revoke_key(a, &KeyId("nosuchkeyxxx".into()), "key:a")
            .await
            .expect("absent")
    );
    // One key.revoked event, for the first revocation only.
    let events = db
        .read(|tx| outbox::read_after(tx, Position::default(), 100))
        .await
        .expect("events");
    let topics: Vec<&str> = events.iter().map(|e| e.topic.as_str()).collect();
    assert_eq!(topics, vec!["key.revoked"]);
    assert_eq!(events[0].tenant, a.0);
    assert!(events[0].payload.contains(&created.record.id.0));
}

async fn keys_list_newest_first_in_stable_pages(db: &TestDb) {
    let id = identity(db).await;
    let a = id.create_tenant("a").await.expect("tenant");
    let mut made = Vec::new();
    for _ in 0..7 {
        made.push(
            id.create_key(new_key(a, &[Role::Operator]))
                .await
                .expect("key")
                .record
                .id,
        );
    }
    let mut seen = Vec::new();
    let mut after: Option<(i64, String)> = None;
    loop {
        let page = id.list_keys(a, after.clone(), 3).await.expect("page");
        if page.is_empty() {
            break;
        }
        after = page.last().map(|k| (k.created_at, k.id.0.clone()));
        seen.extend(page.into_iter().map(|k| k.id));
    }
    // All keys have the same time here, so newest-first falls back to id order, descending.
    made.sort();
    made.reverse();
    assert_eq!(seen, made);
}

crossdock_db::contract_tests!(
    tenants_are_unique_by_name,
    keys_verify_only_with_their_secret_and_until_revoked,
    keys_list_newest_first_in_stable_pages,
);
