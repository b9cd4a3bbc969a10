//! `crossdock serve`, `crossdock keys …` (straight to the database) and `crossdock book
//! publish|activate|rollback|status` (against a running server).

use crate::{KeysCommand, ServeArgs, StateArgs};
use crossdock::Config;
use crossdock_http::{Role, SystemClock, TenantId};
use crossdock_identity::{Identity, KeyId, NewKey};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

/// Defaults, then the config file (`--config`, `CROSSDOCK_CONFIG`, or `./crossdock.toml`
/// when present), then `CROSSDOCK_*` variables, then the flags of `state`.
pub(crate) fn config(state: &StateArgs) -> Result<Config, String> {
    let mut c = Config::default();
    let file = state
        .config
        .clone()
        .or_else(|| std::env::var_os("CROSSDOCK_CONFIG").map(PathBuf::from))
        .or_else(|| {
            let local = PathBuf::from("crossdock.toml");
            local.is_file().then_some(local)
        });
    if let Some(file) = file {
        c.apply_file(&file)?;
    }
    c.apply_env(|name| std::env::var(name).ok())?;
    if let Some(dir) = &state.data_dir {
        c.data_dir = dir.clone();
        c.rating.data_dir = dir.clone();
    }
    if let Some(db) = &state.database {
        c.database = Some(db.clone()).filter(|d| !d.is_empty());
    }
    Ok(c)
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))
}

/// Logs to stderr: `RUST_LOG` if set, else the configured level; text or JSON lines. Lines
/// are handed to a background writer thread (a request never waits on stderr); if it falls
/// behind by more than its buffer, lines are dropped rather than requests slowed. Keep the
/// guard alive while serving: dropping it flushes what is buffered.
fn init_logs(config: &Config) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    use std::io::IsTerminal;
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&config.log_level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let (writer, guard) = tracing_appender::non_blocking(std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(std::io::stderr().is_terminal());
    let installed = if config.log_format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
    installed.ok().map(|()| guard)
}

pub fn serve(args: ServeArgs) -> Result<ExitCode, String> {
    let mut config = config(&args.state)?;
    if let Some(listen) = &args.listen {
        config.set_listen(listen)?;
    }
    if let Some(book) = args.book {
        config.default_book = Some(book);
    }
    if let Some(list) = &args.components {
        config.set_components(list)?;
    }
    if let Some(format) = args.log_format {
        config.log_format = format;
    }
    if let Some(dir) = args.inbox {
        config.inbox_dir = Some(dir);
    }
    let _logs = init_logs(&config);
    runtime()?.block_on(crossdock::serve(config))?;
    Ok(ExitCode::SUCCESS)
}

async fn tenant(identity: &Identity, name: &str, create: bool) -> Result<TenantId, String> {
    match identity
        .tenant_by_name(name)
        .await
        .map_err(|e| e.to_string())?
    {
        Some(t) => Ok(t),
        None if create => {
            let t = identity
                .ensure_tenant(name)
                .await
                .map_err(|e| e.to_string())?;
            eprintln!("created tenant {name:?}");
            Ok(t)
        }
        None => Err(format!("no tenant named {name:?}")),
    }
}

/// `crossdock keys create|list|revoke`: manages API keys in the database directly (an
/// operator on the server's machine); admins can do the same over HTTP at /v1/keys.
pub fn keys(command: KeysCommand) -> Result<ExitCode, String> {
    let state = match &command {
        KeysCommand::Create { state, .. }
        | KeysCommand::List { state, .. }
        | KeysCommand::Revoke { state, .. } => state,
    };
    let config = config(state)?;
    runtime()?.block_on(async {
        let db = crossdock::runtime::open_db(&config).await?;
        let identity = Identity::new(db.clone(), Arc::new(SystemClock), config.key_cache_ttl);
        let outcome = match command {
            KeysCommand::Create { roles, tenant: name, customer, label, .. } => {
                let roles = Role::parse_list(&roles)?;
                let name = name.unwrap_or_else(|| config.default_tenant.clone());
                let tenant = tenant(&identity, &name, true).await?;
                let created = identity
                    .create_key(NewKey { tenant, customer, roles, label })
                    .await
                    .map_err(|e| e.to_string())?;
                eprintln!(
                    "key {} for tenant {name:?}; the secret below is shown once and stored only as a hash:",
                    created.record.id.0
                );
                println!("{}", created.secret);
                Ok(ExitCode::SUCCESS)
            }
            KeysCommand::List { tenant: name, .. } => {
                let name = name.unwrap_or_else(|| config.default_tenant.clone());
                let tenant = tenant(&identity, &name, false).await?;
                let mut after = None;
                loop {
                    let page = identity.list_keys(tenant, after.clone(), 1000).await.map_err(|e| e.to_string())?;
                    for k in &page {
                        let roles: Vec<&str> = k.roles.iter().map(|r| r.as_str()).collect();
                        let state = if k.revoked_at.is_some() { "revoked" } else { "active" };
                        println!(
                            "{}\t{}\t{}\tcustomer={}\t{}",
                            k.id.0,
                            state,
                            roles.join(","),
                            k.customer.as_deref().unwrap_or("-"),
                            k.label
                        );
                    }
                    match page.last() {
                        Some(last) if page.len() == 1000 => after = Some((last.created_at, last.id.0.clone())),
                        _ => break,
                    }
                }
                Ok(ExitCode::SUCCESS)
            }
            KeysCommand::Revoke { id, tenant: name, .. } => {
                let name = name.unwrap_or_else(|| config.default_tenant.clone());
                let tenant = tenant(&identity, &name, false).await?;
                if identity.revoke_key(tenant, &KeyId(id.clone()), "crossdock keys revoke").await.map_err(|e| e.to_string())? {
                    println!("revoked {id}");
                    Ok(ExitCode::SUCCESS)
                } else {
                    Err(format!("no key {id} in tenant {name:?}"))
                }
            }
        };
        db.close().await;
        outcome
    })
}

/// `crossdock book publish|activate|rollback|status` against a running server.
pub fn remote_book(
    command: &str,
    argument: Option<&str>,
    url: &str,
    key: &str,
) -> Result<ExitCode, String> {
    let url = url.trim_end_matches('/').to_string();
    let auth = format!("Bearer {key}");
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let (status, body) = match (command, argument) {
        ("publish", Some(dir)) => {
            let archive = crossdock_rating::books::pack_dir(Path::new(dir))
                .map_err(|e| format!("{dir}: {e}"))?;
            send(
                agent
                    .post(&format!("{url}/v1/rate-books"))
                    .header("Authorization", &auth)
                    .header("Content-Type", "application/x-tar")
                    .send(&archive[..]),
            )?
        }
        ("activate", Some(id)) => send(
            agent
                .post(&format!("{url}/v1/rate-books/{id}/activate"))
                .header("Authorization", &auth)
                .send_empty(),
        )?,
        ("rollback", _) => send(
            agent
                .post(&format!("{url}/v1/rate-books/rollback"))
                .header("Authorization", &auth)
                .send_empty(),
        )?,
        ("status", _) => send(
            agent
                .get(&format!("{url}/v1/rate-books"))
                .header("Authorization", &auth)
                .call(),
        )?,
        (other, _) => return Err(format!("book: unknown command {other}")),
    };
    let pretty = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or(body);
    println!("{pretty}");
    Ok(if (200..300).contains(&status) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn send(
    result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
) -> Result<(u16, String), String> {
    let mut response = result.map_err(|e| format!("cannot reach the server: {e}"))?;
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .read_to_string()
        .map_err(|e| format!("reading the answer: {e}"))?;
    Ok((status, body))
}
