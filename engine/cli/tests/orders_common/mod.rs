//! What the in-process tests of orders share (`orders.rs`, `orders_bulk.rs`): a runtime on
//! the demo book with a fixed clock, keys of two tenants and two customers, and tracking
//! number checks written from the standards, not from the code under test.
#![allow(dead_code)] // each test file uses its own part

use axum::Router;
use crossdock::{Config, Runtime};
use crossdock_http::{Clock, Role};
use crossdock_identity::NewKey;
use crossdock_rating::RatingConfig;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// 2026-11-24 00:00 UTC.
pub const NOW: i64 = 1_795_478_400;

pub struct FixedClock;

impl Clock for FixedClock {
    fn now_unix(&self) -> i64 {
        NOW
    }
}

pub fn temp_dir(name: &str) -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "crossdock-orders-{name}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn demo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rate-tables/demo")
}

pub struct H {
    pub rt: Runtime,
    pub app: Router,
    /// Tenant "default": admin + operator.
    pub admin: String,
    /// Tenant "default", customer "acme", shipper.
    pub acme: String,
    /// Tenant "default", customer "zeta", shipper.
    pub zeta: String,
    /// Tenant "other": admin + operator.
    pub other: String,
}

pub async fn key(rt: &Runtime, tenant: &str, roles: Vec<Role>, customer: Option<&str>) -> String {
    let t = rt.identity.ensure_tenant(tenant).await.unwrap();
    rt.identity
        .create_key(NewKey {
            tenant: t,
            customer: customer.map(String::from),
            roles,
            label: "t".into(),
        })
        .await
        .unwrap()
        .secret
}

/// The demo book, no rate limit, checks in-process.
pub fn config(dir: &Path) -> Config {
    Config {
        data_dir: dir.to_owned(),
        default_book: Some(demo()),
        rate_limit_per_s: 0,
        rating: RatingConfig {
            data_dir: dir.to_owned(),
            isolate_checks: false,
            ..RatingConfig::default()
        },
        ..Config::default()
    }
}

pub async fn harness() -> H {
    harness_on(None).await
}

/// On PostgreSQL: `None` when those tests are switched off (`CROSSDOCK_SKIP_POSTGRES=1`).
pub async fn pg_harness() -> Option<(H, crossdock_db::testing::PgSchema)> {
    let schema = crossdock_db::testing::PgSchema::create()?;
    Some((harness_on(Some(schema.url())).await, schema))
}

pub async fn harness_on(database: Option<String>) -> H {
    let dir = temp_dir("h");
    let config = Config {
        database,
        ..config(&dir)
    };
    let rt = Runtime::start(&config, Arc::new(FixedClock))
        .await
        .expect("starts");
    let admin = key(&rt, "default", vec![Role::Admin, Role::Operator], None).await;
    let acme = key(&rt, "default", vec![Role::Shipper], Some("acme")).await;
    let zeta = key(&rt, "default", vec![Role::Shipper], Some("zeta")).await;
    let other = key(&rt, "other", vec![Role::Admin, Role::Operator], None).await;
    H {
        app: rt.router.clone(),
        rt,
        admin,
        acme,
        zeta,
        other,
    }
}

/// UPU S10 check digit, from the standard: weights 8 6 4 2 3 5 9 7, 11 − sum mod 11,
/// 10 → 0, 11 → 5.
pub fn s10_digit(serial: &str) -> u32 {
    let sum: u32 = serial
        .chars()
        .zip([8, 6, 4, 2, 3, 5, 9, 7])
        .map(|(c, w)| c.to_digit(10).unwrap() * w)
        .sum();
    match 11 - sum % 11 {
        10 => 0,
        11 => 5,
        c => c,
    }
}

/// Luhn check digit over `digits`.
pub fn luhn_digit(digits: &str) -> u32 {
    let sum: u32 = digits
        .chars()
        .rev()
        .enumerate()
        .map(|(i, c)| {
            let d = c.to_digit(10).unwrap();
            if i % 2 == 0 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    (10 - sum % 10) % 10
}

pub fn internal_ok(number: &str) -> bool {
    let (prefix, rest) = number.split_at(number.len() - 11);
    prefix.len() >= 2
        && prefix.chars().all(|c| c.is_ascii_uppercase())
        && rest[..10].chars().all(|c| c.is_ascii_digit())
        && rest[10..].parse::<u32>().ok() == Some(luhn_digit(&rest[..10]))
}

/// The contract's example order.
pub fn order(reference: &str) -> Value {
    json!({"reference": reference,
     "shipper": {"name": "Li Wei", "line1": "18 Keji Rd", "city": "Shenzhen", "region": "Guangdong", "postcode": "518000", "country": "CN"},
     "recipient": {"name": "Anna Schmidt", "line1": "Invalidenstr. 116", "city": "Berlin", "postcode": "10115", "country": "DE"},
     "parcel": {"weight_g": 700, "length_mm": 300, "width_mm": 200, "height_mm": 100},
     "declared_value": {"amount": "45.00", "currency": "EUR"},
     "contents": [{"description": "Phone case", "hs_code": "392690", "quantity": 2, "value": "45.00", "origin_country": "CN"}],
     "routing": {"strategy": "cheapest", "require": {"tracked": true}, "service": null, "currency": "EUR"}})
}
