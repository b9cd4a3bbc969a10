//! `crossdock orders import FILE`: a CSV or Parquet file of orders, uploaded to a running
//! server (`--url`, `--key`) or created in-process on a data directory (`--data-dir` or
//! `--database`, `--tenant`, `--customer`) through the same upload code the server runs.
//!
//! Prints one tab-separated line per row (`row reference status order problems`, and with
//! `--ship` the tracking number or the ship error), then the counts. Exit status: 0; 1 if
//! a row is invalid or its ship was refused; 2 if the file is refused (or the server
//! cannot be reached).

use crate::{ImportArgs, server_cmds};
use crossdock_http::{Role, SystemClock};
use crossdock_orders::upload::{Format, UploadOptions};
use crossdock_orders::{Actor, model::Source};
use serde_json::Value;
use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

pub fn import(args: ImportArgs) -> Result<ExitCode, String> {
    let format = Format::from_path(&args.file).ok_or_else(|| {
        format!(
            "{}: the file type is chosen by extension, .csv or .parquet",
            args.file.display()
        )
    })?;
    let body = std::fs::read(&args.file).map_err(|e| format!("{}: {e}", args.file.display()))?;
    let local = args.state.data_dir.is_some() || args.state.database.is_some();
    let answer = if local {
        import_local(&args, format, body)?
    } else {
        import_remote(&args, format, body)?
    };
    print_answer(&answer, args.ship)
}

fn import_remote(args: &ImportArgs, format: Format, body: Vec<u8>) -> Result<Value, String> {
    let key = args.key.as_deref().ok_or(
        "--key (or CROSSDOCK_KEY) is required with --url; or give --data-dir to import in-process",
    )?;
    let mut url = format!(
        "{}/v1/orders/upload?ship={}",
        args.url.trim_end_matches('/'),
        args.ship
    );
    if let Some(c) = &args.customer {
        url.push_str("&customer=");
        url.push_str(&percent_encode(c));
    }
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut response = agent
        .post(&url)
        .header("Authorization", &format!("Bearer {key}"))
        .header("Content-Type", format.content_type())
        .send(&body[..])
        .map_err(|e| format!("cannot reach the server: {e}"))?;
    let status = response.status().as_u16();
    let text = response
        .body_mut()
        .with_config()
        .limit(u64::MAX)
        .read_to_string()
        .map_err(|e| format!("reading the answer: {e}"))?;
    let value: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    if status != 200 {
        return Err(format!(
            "the upload is refused ({status}): {}",
            refusal(&value)
        ));
    }
    Ok(value)
}

fn import_local(args: &ImportArgs, format: Format, body: Vec<u8>) -> Result<Value, String> {
    let config = server_cmds::config(&args.state)?;
    let tenant_name = args
        .tenant
        .clone()
        .unwrap_or_else(|| config.default_tenant.clone());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    runtime.block_on(async {
        let rt = crossdock::Runtime::start(&config, Arc::new(SystemClock)).await?;
        let outcome = async {
            let orders = rt
                .orders
                .clone()
                .ok_or("this configuration does not run the orders component")?;
            let tenant = rt
                .identity
                .tenant_by_name(&tenant_name)
                .await
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("no tenant named {tenant_name:?}"))?;
            let actor = Actor {
                tenant,
                customer: args.customer.clone(),
                roles: vec![Role::Admin],
            };
            let options = UploadOptions {
                format,
                ship: args.ship,
                source: Source::Upload,
            };
            match crossdock_orders::upload::upload(&orders, &actor, body.into(), &options).await {
                Ok(answer) => serde_json::from_str::<Value>(&answer.to_json())
                    .map_err(|e| format!("the answer: {e}")),
                Err(e) => {
                    let e = crossdock_http::ApiError::from(e);
                    Err(format!(
                        "the upload is refused ({}): {}",
                        e.status.as_u16(),
                        refusal(&e.body_json())
                    ))
                }
            }
        }
        .await;
        rt.stop().await;
        outcome
    })
}

/// An error body's problems, one line.
fn refusal(value: &Value) -> String {
    match value["problems"].as_array() {
        Some(list) if !list.is_empty() => problems_text(list),
        _ => value.to_string(),
    }
}

fn problems_text(list: &[Value]) -> String {
    list.iter()
        .map(|p| {
            let field = p["field"].as_str().unwrap_or("");
            let problem = p["problem"].as_str().unwrap_or("");
            let code = p["code"]
                .as_str()
                .map(|c| format!("{c}: "))
                .unwrap_or_default();
            if field.is_empty() {
                format!("{code}{problem}")
            } else {
                format!("{field}: {code}{problem}")
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Tabs and line breaks in a printed cell become spaces.
fn cell(text: &str) -> String {
    text.replace(['\t', '\n', '\r'], " ")
}

fn print_answer(answer: &Value, ship: bool) -> Result<ExitCode, String> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let text = |v: &Value| v.as_str().map(cell).unwrap_or_default();
    let mut failed = false;
    for r in answer["results"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[])
    {
        let problems = r["problems"]
            .as_array()
            .map(|l| problems_text(l))
            .unwrap_or_default();
        let mut line = format!(
            "{}\t{}\t{}\t{}\t{}",
            r["row"],
            text(&r["reference"]),
            text(&r["status"]),
            text(&r["order"]),
            cell(&problems)
        );
        failed |= r["status"] == "invalid";
        if ship {
            if let Some(e) = r.get("ship_error") {
                failed = true;
                line.push_str(&format!("\tship_error: {}", cell(&refusal(e))));
            } else {
                line.push_str(&format!("\t{}", text(&r["tracking_number"])));
            }
        }
        writeln!(out, "{line}").map_err(|e| format!("writing stdout: {e}"))?;
    }
    let mut counts = format!(
        "rows {}: created {}, duplicate {}, invalid {}",
        answer["rows"], answer["created"], answer["duplicate"], answer["invalid"]
    );
    if ship {
        counts.push_str(&format!(
            ", shipped {}, ship failed {}",
            answer["shipped"], answer["ship_failed"]
        ));
    }
    writeln!(out, "{counts}")
        .and_then(|()| out.flush())
        .map_err(|e| format!("writing stdout: {e}"))?;
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// `application/x-www-form-urlencoded`-safe text for a query value.
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
