//! The inbox (orders-labels.md, "Orders in bulk"): files dropped in
//! `<inbox_dir>/<tenant>/<customer>/` are uploaded as that customer's orders.
//!
//! Every [`SCAN_EVERY`] each `*.csv` and `*.parquet` file there (a `.part` file is not
//! one: write it, then rename) is uploaded exactly as `POST /v1/orders/upload` would with a
//! key of that customer, source `inbox`, one file at a time, in name order. Then the answer
//! is written beside where the file goes (`<name>.report.json`, through a temporary name)
//! and the file is moved to `done/` (refused: `failed/`) as `<yyyymmddThhmmssZ>-NAME`. A
//! crash before the move leaves the file where it was, so it is uploaded again and its
//! rows answer `duplicate`. A failure of ours (the database unavailable) leaves the file
//! for the next scan. A tenant directory naming no tenant: the file goes to `failed/` with
//! a report saying so.
//!
//! Tenants are found by name through [`TenantLookup`], which the runtime wires to
//! identity (components do not depend on each other).

use crate::error::OrdersError;
use crate::model::Source;
use crate::upload::{self, Format, UPLOAD_BYTES_MAX, UploadOptions};
use crate::{Actor, Orders};
use crossdock_http::{ApiError, Role, TenantId, rfc3339};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// How often the inbox is scanned.
pub const SCAN_EVERY: Duration = Duration::from_secs(2);

/// A tenant's id by its name; `Ok(None)`: no such tenant.
pub type TenantLookup = Arc<
    dyn Fn(String) -> Pin<Box<dyn Future<Output = Result<Option<TenantId>, String>> + Send>>
        + Send
        + Sync,
>;

/// The inbox of one process.
pub struct Inbox {
    orders: Arc<Orders>,
    dir: PathBuf,
    tenants: TenantLookup,
}

impl std::fmt::Debug for Inbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inbox").field("dir", &self.dir).finish()
    }
}

/// What became of one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Filed {
    /// Where the file is now (in `done/` or `failed/`).
    pub moved_to: PathBuf,
    pub report: PathBuf,
    pub done: bool,
}

impl Inbox {
    pub fn new(orders: Arc<Orders>, dir: PathBuf, tenants: TenantLookup) -> Inbox {
        Inbox {
            orders,
            dir,
            tenants,
        }
    }

    /// Scans the inbox every [`SCAN_EVERY`] until the task is aborted.
    pub fn spawn(self: Arc<Inbox>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            tracing::info!(dir = %self.dir.display(), "inbox watched");
            loop {
                if let Err(e) = self.scan().await {
                    tracing::warn!(dir = %self.dir.display(), error = %e, "inbox scan failed");
                }
                tokio::time::sleep(SCAN_EVERY).await;
            }
        })
    }

    /// One scan: every waiting file, one at a time. `Err` only when the inbox directory
    /// cannot be read; a file left for later (a failure of ours) is logged.
    pub async fn scan(&self) -> Result<Vec<Filed>, String> {
        let mut filed = Vec::new();
        for (tenant_name, customer, path) in waiting(&self.dir)? {
            match self.file_one(&tenant_name, &customer, &path).await {
                Ok(f) => filed.push(f),
                Err(e) => {
                    tracing::error!(file = %path.display(), error = %e, "inbox file left for the next scan");
                }
            }
        }
        Ok(filed)
    }

    async fn file_one(
        &self,
        tenant_name: &str,
        customer: &str,
        path: &Path,
    ) -> Result<Filed, String> {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or("a file name that is not UTF-8")?
            .to_owned();
        let format = Format::from_path(path).ok_or("neither .csv nor .parquet")?;
        let tenant = (self.tenants)(tenant_name.to_owned()).await?;
        let answer = match tenant {
            None => Err(ApiError::invalid_field(
                "tenant",
                format!("no tenant named {tenant_name:?}: the inbox directory names none"),
            )
            .body_json()
            .to_string()),
            Some(tenant) => {
                let started = std::time::Instant::now();
                let outcome = self.upload(tenant, customer, path, format).await;
                match outcome {
                    Ok(text) => {
                        tracing::info!(file = %path.display(), seconds = started.elapsed().as_secs_f64(), "inbox file uploaded");
                        Ok(text)
                    }
                    Err(e @ (OrdersError::Db(_) | OrdersError::Failed(_))) => {
                        return Err(e.to_string());
                    }
                    Err(refused) => Err(ApiError::from(refused).body_json().to_string()),
                }
            }
        };
        let done = answer.is_ok();
        let report = answer.unwrap_or_else(|e| e);
        let folder = path
            .parent()
            .ok_or("a file without a directory")?
            .join(if done { "done" } else { "failed" });
        std::fs::create_dir_all(&folder).map_err(|e| format!("{}: {e}", folder.display()))?;
        let stamp: String = rfc3339(self.orders.clock.now_unix())
            .chars()
            .filter(|c| *c != '-' && *c != ':')
            .collect();
        let mut target = folder.join(format!("{stamp}-{name}"));
        let mut n = 1;
        while target.exists() {
            target = folder.join(format!("{stamp}-{n}-{name}"));
            n += 1;
        }
        let target_name = target
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        let report_path = folder.join(format!("{target_name}.report.json"));
        let temp = folder.join(format!(".{target_name}.report.json.part"));
        std::fs::write(&temp, report.as_bytes())
            .and_then(|()| std::fs::rename(&temp, &report_path))
            .map_err(|e| format!("{}: {e}", report_path.display()))?;
        std::fs::rename(path, &target).map_err(|e| format!("{}: {e}", target.display()))?;
        if !done {
            tracing::warn!(file = %target.display(), "inbox file refused");
        }
        Ok(Filed {
            moved_to: target,
            report: report_path,
            done,
        })
    }

    /// The upload's answer as JSON text; `Err`: refused (or a failure of ours).
    async fn upload(
        &self,
        tenant: TenantId,
        customer: &str,
        path: &Path,
        format: Format,
    ) -> Result<String, OrdersError> {
        let owned = path.to_owned();
        let body = tokio::task::spawn_blocking(move || read_bounded(&owned))
            .await
            .map_err(|e| OrdersError::Failed(format!("reading an inbox file: {e}")))??;
        let actor = Actor {
            tenant,
            customer: Some(customer.to_owned()),
            roles: vec![Role::Operator],
        };
        let options = UploadOptions {
            format,
            ship: false,
            source: Source::Inbox,
        };
        let answer = upload::upload(&self.orders, &actor, body.into(), &options).await?;
        Ok(answer.to_json())
    }
}

/// The file's bytes, or 413 past [`UPLOAD_BYTES_MAX`].
fn read_bounded(path: &Path) -> Result<Vec<u8>, OrdersError> {
    let size = std::fs::metadata(path)
        .map_err(|e| OrdersError::Failed(format!("{}: {e}", path.display())))?
        .len();
    if size > UPLOAD_BYTES_MAX as u64 {
        return Err(OrdersError::TooLarge {
            field: "file",
            limit: "orders_upload_bytes_max",
            max: UPLOAD_BYTES_MAX as u64,
            unit: "bytes",
        });
    }
    std::fs::read(path).map_err(|e| OrdersError::Failed(format!("{}: {e}", path.display())))
}

/// Every waiting file: `(tenant, customer, path)`, by tenant, customer, then file name.
fn waiting(dir: &Path) -> Result<Vec<(String, String, PathBuf)>, String> {
    let mut out = Vec::new();
    for tenant in subdirectories(dir).map_err(|e| format!("{}: {e}", dir.display()))? {
        let Ok(customers) = subdirectories(&tenant) else {
            continue;
        };
        for customer in customers {
            let Ok(entries) = std::fs::read_dir(&customer) else {
                continue;
            };
            let mut files: Vec<PathBuf> = entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.is_file() && !hidden(p) && Format::from_path(p).is_some())
                .collect();
            files.sort();
            let name = |p: &Path| p.file_name().and_then(|n| n.to_str()).map(str::to_owned);
            if let (Some(t), Some(c)) = (name(&tenant), name(&customer)) {
                out.extend(files.into_iter().map(|f| (t.clone(), c.clone(), f)));
            }
        }
    }
    Ok(out)
}

fn hidden(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_none_or(|n| n.starts_with('.'))
}

fn subdirectories(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(dir)?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir() && !hidden(p))
        .collect();
    dirs.sort();
    Ok(dirs)
}
