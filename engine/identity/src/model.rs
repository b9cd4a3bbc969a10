//! The identity component's values: key ids and records, and its error. Pure: no I/O,
//! async, SQL or serde.

use crossdock_http::{Role, TenantId};
use std::fmt;

/// An API key's public id: 12 characters of lowercase base32, unique across all tenants,
/// stored in clear and safe to log. It is the middle part of the presented key.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct KeyId(pub String);

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "key {}", self.0)
    }
}

/// A key to be created. `customer` narrows a key to one of the tenant's customers;
/// `None` acts for the tenant as a whole.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct NewKey {
    pub tenant: TenantId,
    pub customer: Option<String>,
    /// Stored and returned in canonical order ([`Role::ALL`]) without duplicates.
    pub roles: Vec<Role>,
    pub label: String,
}

/// A stored API key, without its secret (which is never kept).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct KeyRecord {
    pub id: KeyId,
    pub tenant: TenantId,
    pub customer: Option<String>,
    /// Canonical order, no duplicates.
    pub roles: Vec<Role>,
    pub label: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds; a key with any `revoked_at` is refused.
    pub revoked_at: Option<i64>,
}

/// A newly created key and its secret, which exists only here: the store keeps its
/// SHA-256. `Debug` redacts the secret, so logging this value cannot leak it.
#[derive(Clone, PartialEq, Eq)]
pub struct CreatedKey {
    pub record: KeyRecord,
    /// The whole key as a client presents it: `cdk_<key id>_<secret part>`. Show it once.
    pub secret: String,
}

impl fmt::Debug for CreatedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreatedKey")
            .field("record", &self.record)
            .field("secret", &"<redacted>")
            .finish()
    }
}
