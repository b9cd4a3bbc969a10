//! `crossdock serve`, `crossdock keys …` (straight to the store) and `crossdock book
//! publish|activate|rollback|status` (against a running server).

use crossdock_server::Config;
use crossdock_store::{KeyId, NewKey, Store, TenantId};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Flags shared by `serve` and `keys`: where the state lives.
#[derive(Default)]
struct ServerFlags {
    config_file: Option<PathBuf>,
    listen: Option<String>,
    data_dir: Option<PathBuf>,
    database: Option<String>,
    book: Option<PathBuf>,
    rest: Vec<String>,
}

fn server_flags(args: &[String]) -> Result<ServerFlags, String> {
    let mut f = ServerFlags::default();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match arg.as_str() {
            "--config" => f.config_file = Some(value("--config")?.into()),
            "--listen" => f.listen = Some(value("--listen")?),
            "--data-dir" => f.data_dir = Some(value("--data-dir")?.into()),
            "--database" => f.database = Some(value("--database")?),
            "--book" => f.book = Some(value("--book")?.into()),
            _ => f.rest.push(arg.clone()),
        }
    }
    Ok(f)
}

/// Defaults, then the config file (`--config`, `CROSSDOCK_CONFIG`, or `./crossdock.toml`
/// when present), then `CROSSDOCK_*` variables, then flags.
fn config(f: &ServerFlags) -> Result<Config, String> {
    let mut c = Config::default();
    let file = f
        .config_file
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
    if let Some(listen) = &f.listen {
        c.listen = listen
            .parse()
            .map_err(|_| format!("--listen {listen:?} is not an address such as 127.0.0.1:8080"))?;
    }
    if let Some(dir) = &f.data_dir {
        c.data_dir = dir.clone();
    }
    if let Some(db) = &f.database {
        c.database = Some(db.clone()).filter(|d| !d.is_empty());
    }
    if let Some(book) = &f.book {
        c.default_book = Some(book.clone());
    }
    Ok(c)
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))
}

pub fn serve(args: &[String]) -> Result<ExitCode, String> {
    let f = server_flags(args)?;
    if let Some(extra) = f.rest.first() {
        return Err(format!("serve: unknown argument {extra}"));
    }
    let config = config(&f)?;
    runtime()?.block_on(crossdock_server::serve(config))?;
    Ok(ExitCode::SUCCESS)
}

fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

async fn tenant(store: &Store, name: &str, create: bool) -> Result<TenantId, String> {
    match store
        .tenant_by_name(name)
        .await
        .map_err(|e| e.to_string())?
    {
        Some(t) => Ok(t),
        None if create => {
            let t = store
                .create_tenant(name, now_unix())
                .await
                .map_err(|e| e.to_string())?;
            eprintln!("created tenant {name:?}");
            Ok(t)
        }
        None => Err(format!("no tenant named {name:?}")),
    }
}

/// `crossdock keys create|list|revoke`: manages API keys in the store directly (an operator
/// on the server's machine); admins can do the same over HTTP at /v1/keys.
pub fn keys(args: &[String]) -> Result<ExitCode, String> {
    let f = server_flags(args)?;
    let config = config(&f)?;
    let (command, rest) = f
        .rest
        .split_first()
        .ok_or("keys needs create, list or revoke")?;
    let mut tenant_name = config.default_tenant.clone();
    let (mut customer, mut roles, mut label, mut positional) =
        (None, Vec::new(), String::new(), Vec::new());
    let mut it = rest.iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match arg.as_str() {
            "--tenant" => tenant_name = value("--tenant")?,
            "--customer" => customer = Some(value("--customer")?),
            "--roles" => {
                roles = value("--roles")?
                    .split(',')
                    .map(str::trim)
                    .filter(|r| !r.is_empty())
                    .map(String::from)
                    .collect()
            }
            "--label" => label = value("--label")?,
            flag if flag.starts_with("--") => return Err(format!("keys: unknown option {flag}")),
            _ => positional.push(arg.clone()),
        }
    }
    let rt = runtime()?;
    rt.block_on(async {
        let store = crossdock_server::open_store(&config).await?;
        match command.as_str() {
            "create" => {
                let roles = crossdock_server::routes::parse_roles(&roles)?;
                if roles.is_empty() {
                    return Err("keys create needs --roles (shipper, analyst, admin; comma-separated)".to_string());
                }
                let tenant = tenant(&store, &tenant_name, true).await?;
                let created = store.create_key(NewKey { tenant, customer, roles, label }, now_unix()).await.map_err(|e| e.to_string())?;
                eprintln!("key {} for tenant {tenant_name:?}; the secret below is shown once and stored only as a hash:", created.record.id.0);
                println!("{}", created.secret);
                Ok(ExitCode::SUCCESS)
            }
            "list" => {
                let tenant = tenant(&store, &tenant_name, false).await?;
                for k in store.list_keys(tenant).await.map_err(|e| e.to_string())? {
                    let roles: Vec<&str> = k.roles.iter().map(|r| crossdock_server::routes::role_name(*r)).collect();
                    let state = if k.revoked_at.is_some() { "revoked" } else { "active" };
                    println!("{}\t{}\t{}\tcustomer={}\t{}", k.id.0, state, roles.join(","), k.customer.as_deref().unwrap_or("-"), k.label);
                }
                Ok(ExitCode::SUCCESS)
            }
            "revoke" => {
                let [id] = positional.as_slice() else { return Err("keys revoke needs one KEY_ID".to_string()) };
                let tenant = tenant(&store, &tenant_name, false).await?;
                if store.revoke_key(tenant, &KeyId(id.clone()), now_unix()).await.map_err(|e| e.to_string())? {
                    println!("revoked {id}");
                    Ok(ExitCode::SUCCESS)
                } else {
                    Err(format!("no key {id} in tenant {tenant_name:?}"))
                }
            }
            other => Err(format!("keys: unknown command {other} (create, list, revoke)")),
        }
    })
}

/// `crossdock book publish|activate|rollback|status` against `--url` (or `CROSSDOCK_URL`,
/// default http://127.0.0.1:8080) with `--key` (or `CROSSDOCK_KEY`).
pub fn remote_book(command: &str, args: &[String]) -> Result<ExitCode, String> {
    let mut url = std::env::var("CROSSDOCK_URL").unwrap_or_else(|_| "http://127.0.0.1:8080".into());
    let mut key = std::env::var("CROSSDOCK_KEY").ok();
    let mut positional = Vec::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--url" => url = it.next().cloned().ok_or("--url needs a value")?,
            "--key" => key = Some(it.next().cloned().ok_or("--key needs a value")?),
            flag if flag.starts_with("--") => {
                return Err(format!("book {command}: unknown option {flag}"));
            }
            _ => positional.push(arg.clone()),
        }
    }
    let key = key.ok_or("an API key is needed: --key KEY or CROSSDOCK_KEY")?;
    let url = url.trim_end_matches('/').to_string();
    let auth = format!("Bearer {key}");
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let (status, body) = match command {
        "publish" => {
            let [dir] = positional.as_slice() else {
                return Err("book publish needs one DIR".into());
            };
            let archive = crossdock_server::books::pack_dir(Path::new(dir))
                .map_err(|e| format!("{dir}: {e}"))?;
            send(
                agent
                    .post(&format!("{url}/v1/rate-books"))
                    .header("Authorization", &auth)
                    .header("Content-Type", "application/x-tar")
                    .send(&archive[..]),
            )?
        }
        "activate" => {
            let [id] = positional.as_slice() else {
                return Err("book activate needs one book ID".into());
            };
            send(
                agent
                    .post(&format!("{url}/v1/rate-books/{id}/activate"))
                    .header("Authorization", &auth)
                    .send_empty(),
            )?
        }
        "rollback" => send(
            agent
                .post(&format!("{url}/v1/rate-books/rollback"))
                .header("Authorization", &auth)
                .send_empty(),
        )?,
        "status" => send(
            agent
                .get(&format!("{url}/v1/rate-books"))
                .header("Authorization", &auth)
                .call(),
        )?,
        other => return Err(format!("book: unknown command {other}")),
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
