//! Who is calling: the tenant, the customer and the roles of the API key presented
//! (api-conventions.md, "Access"), and the checks every route shares.

use crate::error::ApiError;
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use dashmap::DashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

/// A tenant: one customer organisation of crossdock. Every other row belongs to one.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct TenantId(pub i64);

/// What an API key may do (api-conventions.md): the one owner of role names.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub enum Role {
    /// Orders, shipments and labels of its own customer only; quotes as that customer.
    Shipper,
    /// Hub scans, relabel, void: every customer of the tenant.
    Operator,
    /// Rate books, reports.
    Analyst,
    /// Ledger, credit, invoices.
    Finance,
    /// Keys, webhooks, everything of the tenant.
    Admin,
}

impl Role {
    /// Every role, in the canonical order roles are stored and listed in.
    pub const ALL: [Role; 5] = [
        Role::Shipper,
        Role::Operator,
        Role::Analyst,
        Role::Finance,
        Role::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Shipper => "shipper",
            Role::Operator => "operator",
            Role::Analyst => "analyst",
            Role::Finance => "finance",
            Role::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == text)
    }

    /// Roles from names (`["shipper", "admin"]`), canonical order, no duplicates; the
    /// error names the first unknown one and lists the valid ones.
    pub fn parse_list<S: AsRef<str>>(names: &[S]) -> Result<Vec<Role>, String> {
        let mut roles = Vec::new();
        for name in names {
            let name = name.as_ref().trim();
            let role = Role::parse(name).ok_or_else(|| {
                format!("{name:?} is not a role (shipper, operator, analyst, finance, admin)")
            })?;
            roles.push(role);
        }
        Ok(Role::canonical(&roles))
    }

    pub fn canonical(roles: &[Role]) -> Vec<Role> {
        Role::ALL
            .into_iter()
            .filter(|r| roles.contains(r))
            .collect()
    }

    /// Roles as stored: canonical order, comma-separated (`shipper,admin`).
    pub fn list_to_text(roles: &[Role]) -> String {
        Role::canonical(roles)
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// The caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// The key's public id (safe to log).
    pub key_id: String,
    pub tenant: TenantId,
    /// A key narrowed to one customer of the tenant.
    pub customer: Option<String>,
    pub roles: Vec<Role>,
}

impl Principal {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// 403 unless the key has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.iter().any(|r| self.has(*r)) {
            return Ok(());
        }
        let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
        Err(ApiError::forbidden(format!(
            "this key needs the role {}",
            names.join(" or ")
        )))
    }

    /// Whether the caller may act for `customer`: keys not narrowed to a customer act for
    /// all of the tenant's; a customer key only for its own.
    pub fn may_act_for(&self, customer: Option<&str>) -> bool {
        match (&self.customer, customer) {
            (None, _) => true,
            (Some(own), Some(asked)) => own == asked,
            (Some(_), None) => true,
        }
    }

    /// Who did it, for audit trails.
    pub fn actor(&self) -> String {
        format!("key:{}", self.key_id)
    }
}

/// A boxed future, for the object-safe [`Authenticator`].
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Turns a presented API key into a principal; `Ok(None)` for an unknown, malformed or
/// revoked key (never saying which). The identity component implements it.
pub trait Authenticator: Send + Sync + 'static {
    fn verify<'a>(
        &'a self,
        presented: &'a str,
    ) -> BoxFuture<'a, Result<Option<Principal>, ApiError>>;

    /// The answer without waiting, when the authenticator has a fresh one at hand (a key
    /// cache hit): the quote path then allocates no future. `None`: ask [`Self::verify`].
    fn verify_cached(&self, _presented: &str) -> Option<Option<Principal>> {
        None
    }
}

/// What the edge knows for every request: how to authenticate, the rate limit, and the
/// operator's tenant (whose admins may read `/metrics`). Put on every request as an
/// extension by [`crate::app`].
pub struct Edge {
    pub auth: Arc<dyn Authenticator>,
    pub limiter: RateLimiter,
    pub operator_tenant: Option<TenantId>,
    /// Where `Idempotency-Key` answers are kept; `None` turns the header off.
    pub idempotency: Option<crossdock_db::Db>,
    pub clock: Arc<dyn crate::Clock>,
}

impl std::fmt::Debug for Edge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Edge")
            .field("operator_tenant", &self.operator_tenant)
            .finish_non_exhaustive()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Principal, ApiError> {
        let edge = parts
            .extensions
            .get::<Arc<Edge>>()
            .cloned()
            .ok_or_else(|| {
                ApiError::internal(
                    "no Edge extension: the app was assembled without crossdock_http::app",
                )
            })?;
        let principal = authenticate(&edge, &parts.headers).await?;
        // One token per request here; routes that do more work per request take more.
        edge.limiter.take(&principal.key_id, 1)?;
        if let Some(slot) = parts.extensions.get::<crate::observe::KeyForLog>()
            && let Ok(mut key) = slot.0.lock()
        {
            *key = Some(principal.key_id.clone());
        }
        Ok(principal)
    }
}

/// The principal of `Authorization: Bearer <key>`, or 401.
pub(crate) async fn authenticate(
    edge: &Edge,
    headers: &axum::http::HeaderMap,
) -> Result<Principal, ApiError> {
    let value = headers.get(header::AUTHORIZATION).ok_or_else(|| {
        ApiError::unauthorized("an API key is required: Authorization: Bearer <key>")
    })?;
    let presented = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or_else(|| ApiError::unauthorized("expected Authorization: Bearer <key>"))?;
    let verified = match edge.auth.verify_cached(presented) {
        Some(cached) => cached,
        None => edge.auth.verify(presented).await?,
    };
    verified.ok_or_else(|| ApiError::unauthorized("unknown or revoked API key"))
}

/// Per-key token buckets: `rate_per_s` tokens a second up to `burst`; 0 turns it off.
#[derive(Debug)]
pub struct RateLimiter {
    rate_per_s: u32,
    burst: u32,
    buckets: DashMap<String, Bucket>,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Buckets kept before the idle ones are forgotten (a flood of keys must not grow memory).
const BUCKETS_MAX: usize = 100_000;

impl RateLimiter {
    pub fn new(rate_per_s: u32, burst: u32) -> RateLimiter {
        RateLimiter {
            rate_per_s,
            burst: burst.max(1),
            buckets: DashMap::new(),
        }
    }

    /// Takes `tokens` of the key's bucket, or answers 429 with the seconds to wait.
    pub fn take(&self, key: &str, tokens: u32) -> Result<(), ApiError> {
        if self.rate_per_s == 0 {
            return Ok(());
        }
        let (rate, burst) = (f64::from(self.rate_per_s), f64::from(self.burst));
        let now = Instant::now();
        let mut bucket = match self.buckets.get_mut(key) {
            Some(bucket) => bucket,
            None => {
                // Only a new key can grow the map: count it (which locks every shard) then.
                if self.buckets.len() > BUCKETS_MAX {
                    self.buckets.clear();
                }
                self.buckets.entry(key.to_owned()).or_insert(Bucket {
                    tokens: burst,
                    at: now,
                })
            }
        };
        let refill = now.duration_since(bucket.at).as_secs_f64() * rate;
        bucket.tokens = (bucket.tokens + refill).min(burst);
        bucket.at = now;
        let needed = f64::from(tokens);
        if bucket.tokens >= needed {
            bucket.tokens -= needed;
            Ok(())
        } else {
            Err(ApiError::rate_limited(
                ((needed - bucket.tokens) / rate).ceil().max(1.0) as u64,
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_canonically_and_name_the_unknown() {
        assert_eq!(
            Role::parse_list(&["admin", "shipper", "admin"]),
            Ok(vec![Role::Shipper, Role::Admin])
        );
        assert_eq!(
            Role::list_to_text(&[Role::Finance, Role::Operator]),
            "operator,finance"
        );
        let e = Role::parse_list(&["root"]).unwrap_err();
        assert!(e.contains("\"root\"") && e.contains("finance"), "{e}");
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
    }

    #[test]
    fn customer_keys_act_only_for_their_customer() {
        let p = Principal {
            key_id: "k".into(),
            tenant: TenantId(1),
            customer: Some("acme".into()),
            roles: vec![Role::Shipper],
        };
        assert!(p.may_act_for(Some("acme")));
        assert!(!p.may_act_for(Some("other")));
        assert!(p.require(&[Role::Admin]).is_err());
        assert!(p.require(&[Role::Admin, Role::Shipper]).is_ok());
    }

    #[test]
    fn buckets_refuse_past_the_burst() {
        let limiter = RateLimiter::new(1, 2);
        assert!(limiter.take("k", 1).is_ok());
        assert!(limiter.take("k", 1).is_ok());
        let e = limiter.take("k", 1).unwrap_err();
        assert_eq!(e.retry_after_s, Some(1));
        assert!(limiter.take("other", 2).is_ok());
    }
}
