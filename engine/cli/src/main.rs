//! The `crossdock` command: a thin shell over the engine, the loader, the JSON edge, the
//! server and the store.
//!
//! - `crossdock quote --book DIR` prices JSON Lines requests from stdin, one answer per line.
//! - `crossdock book check DIR` prints a rate book's check report; exit 0 only if usable.
//! - `crossdock book diff OLD NEW --replay FILE` re-prices parcels with two books (what-if).
//! - `crossdock serve` runs the HTTP server (the demo book on 127.0.0.1:8080 by default).
//! - `crossdock keys create|list|revoke` manages API keys in the store.
//! - `crossdock book publish|activate|rollback|status` talks to a running server.

mod server_cmds;

use crossdock_api::{Answer, Defaults, answer_line};
use crossdock_engine::{Date, Quote, Report, Scratch, Severity};
use crossdock_tables::{Limits, load_dir};
use std::io::{BufRead, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

const USAGE: &str = "\
crossdock: cross-border parcel rating

usage:
  crossdock quote --book DIR [--today YYYY-MM-DD] [--explain true|false] [LIMITS]
      Reads quote requests (JSON Lines) on stdin; writes one JSON answer or error per line.
  crossdock book check DIR [--json] [LIMITS]
      Checks a rate book; prints every problem; exit status 0 only for a usable book.
  crossdock book diff OLD_DIR NEW_DIR --replay FILE [--out FILE] [--top N] [--json]
                  [--strategy S] [--threads N] [--today YYYY-MM-DD] [LIMITS]
      What-if: re-prices a Parquet or CSV parcel file (the route columns) with both books and
      prints, per service and destination, parcels changing service, cost and sell deltas
      and parcels becoming unroutable; --out writes every group as .csv or .parquet.
  crossdock route --book DIR --in FILE --out FILE [--strategy cheapest|fastest|best_value]
                  [--threads N] [--today YYYY-MM-DD] [LIMITS]
      Pre-routes a Parquet or CSV parcel file (quote-api.md, section Bulk files) into a Parquet or
      CSV file, one output row per parcel; bad rows become `invalid` rows.
  crossdock serve [--config FILE] [--listen ADDR] [--data-dir DIR] [--database URL] [--book DIR]
      Runs the HTTP server. Defaults: 127.0.0.1:8080, SQLite in ./data, the demo book.
      Also from a TOML file (--config, CROSSDOCK_CONFIG or ./crossdock.toml) and
      CROSSDOCK_LISTEN, CROSSDOCK_DATA_DIR, CROSSDOCK_DATABASE, ... variables.
  crossdock keys create --roles shipper,analyst,admin [--tenant T] [--customer C] [--label L]
  crossdock keys list [--tenant T]
  crossdock keys revoke [--tenant T] KEY_ID
      Manage API keys in the store (same --data-dir/--database as serve).
  crossdock book publish DIR | activate ID | rollback | status  [--url URL] [--key KEY]
      Rate books in a running server (CROSSDOCK_URL, CROSSDOCK_KEY).

limits:
  --max-file-bytes N   largest accepted table file (default 1073741824)
  --max-rows N         most rows in one table (default 50000000)
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("quote") => quote(&args[1..]),
        Some("book") if args.get(1).map(String::as_str) == Some("check") => check(&args[2..]),
        Some("book") if args.get(1).map(String::as_str) == Some("diff") => diff(&args[2..]),
        Some("book")
            if matches!(
                args.get(1).map(String::as_str),
                Some("publish" | "activate" | "rollback" | "status")
            ) =>
        {
            server_cmds::remote_book(&args[1], &args[2..])
        }
        Some("route") => route(&args[1..]),
        Some("serve") => server_cmds::serve(&args[1..]),
        Some("keys") => server_cmds::keys(&args[1..]),
        Some("-h" | "--help" | "help") => {
            print!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        _ => Err(format!("unknown command\n\n{USAGE}")),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("crossdock: {message}");
            ExitCode::from(2)
        }
    }
}

/// Options shared by the commands, parsed by hand: a dozen flags do not need a parser crate.
#[derive(Default)]
struct Options {
    positional: Vec<String>,
    book: Option<PathBuf>,
    today: Option<Date>,
    explain: Option<bool>,
    json: bool,
    limits: Limits,
}

fn parse_options(args: &[String]) -> Result<Options, String> {
    let mut o = Options::default();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match arg.as_str() {
            "--book" => o.book = Some(PathBuf::from(value("--book")?)),
            "--today" => {
                let v = value("--today")?;
                o.today = Some(
                    Date::parse(&v)
                        .ok_or_else(|| format!("--today {v:?} is not a date (YYYY-MM-DD)"))?,
                );
            }
            "--explain" => {
                let v = value("--explain")?;
                o.explain = Some(
                    v.parse()
                        .map_err(|_| format!("--explain {v:?} is not true or false"))?,
                );
            }
            "--json" => o.json = true,
            "--max-file-bytes" => {
                let v = value("--max-file-bytes")?;
                o.limits.file_bytes_max = v
                    .parse()
                    .map_err(|_| format!("--max-file-bytes {v:?} is not a number"))?;
            }
            "--max-rows" => {
                let v = value("--max-rows")?;
                o.limits.table_rows_max = v
                    .parse()
                    .map_err(|_| format!("--max-rows {v:?} is not a number"))?;
            }
            flag if flag.starts_with("--") => {
                return Err(format!("unknown option {flag}\n\n{USAGE}"));
            }
            _ => o.positional.push(arg.clone()),
        }
    }
    Ok(o)
}

/// Today in UTC, from the system clock: the only clock read in crossdock's pricing path.
fn today_utc() -> Date {
    let days = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() / 86_400)
        .unwrap_or(0);
    Date::from_days_since_epoch(days as i32)
}

fn quote(args: &[String]) -> Result<ExitCode, String> {
    let o = parse_options(args)?;
    let dir = o
        .book
        .ok_or_else(|| format!("quote needs --book DIR\n\n{USAGE}"))?;
    let loaded = match load_dir(&dir, &o.limits) {
        Ok(loaded) => loaded,
        Err(report) => {
            print_report(&report, &mut std::io::stderr().lock());
            return Err(format!("rate book {} is refused", dir.display()));
        }
    };
    let book = loaded.book;
    let defaults = Defaults {
        today: o.today.unwrap_or_else(today_utc),
        customer: None,
        explain: o.explain.unwrap_or(true),
    };
    let stdin = std::io::stdin();
    let mut input = std::io::BufReader::with_capacity(1 << 16, stdin.lock());
    let mut output = BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let (mut scratch, mut quote) = (Scratch::default(), Quote::new(book.base_currency()));
    let mut line = String::new();
    loop {
        line.clear();
        match input.read_line(&mut line) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => return Err(format!("reading stdin: {e}")),
        }
        let request = line.trim_end_matches(['\n', '\r']);
        let answer = if request.trim().is_empty() {
            Answer::Invalid(crossdock_api::render_error(
                "invalid_request",
                &[crossdock_api::FieldProblem::new(
                    "",
                    "empty line: expected a JSON request",
                )],
            ))
        } else {
            answer_line(&book, request, &defaults, &mut scratch, &mut quote)
        };
        let written = output
            .write_all(answer.body().as_bytes())
            .and_then(|_| output.write_all(b"\n"));
        // A caller that waits for each answer before sending the next request gets it now;
        // a stream of requests is still written in large blocks.
        let flushed = if input.buffer().is_empty() {
            output.flush()
        } else {
            Ok(())
        };
        if let Err(e) = written.and(flushed) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                return Ok(ExitCode::SUCCESS);
            }
            return Err(format!("writing stdout: {e}"));
        }
    }
    output.flush().map_err(|e| format!("writing stdout: {e}"))?;
    Ok(ExitCode::SUCCESS)
}

/// The flags of the whole-file jobs (`route`, `book diff`); each command names the ones it
/// takes, and the rest go on to [`parse_options`].
#[derive(Default)]
struct JobFlags {
    input: Option<PathBuf>,
    output: Option<PathBuf>,
    replay: Option<PathBuf>,
    strategy: Option<crossdock_engine::Strategy>,
    threads: Option<usize>,
    top: Option<usize>,
}

impl JobFlags {
    fn parse(args: &[String], accepted: &[&str]) -> Result<(JobFlags, Vec<String>), String> {
        let (mut f, mut rest) = (JobFlags::default(), Vec::new());
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            let name = arg.as_str();
            if !accepted.contains(&name) {
                rest.push(arg.clone());
                continue;
            }
            let v = it
                .next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))?;
            match name {
                "--in" => f.input = Some(PathBuf::from(v)),
                "--out" => f.output = Some(PathBuf::from(v)),
                "--replay" => f.replay = Some(PathBuf::from(v)),
                "--strategy" => {
                    f.strategy = Some(crossdock_engine::Strategy::parse(&v).ok_or_else(|| {
                        format!("--strategy {v:?} is not cheapest, fastest or best_value")
                    })?);
                }
                "--threads" => {
                    f.threads = Some(
                        v.parse::<usize>()
                            .ok()
                            .filter(|n| *n > 0)
                            .ok_or_else(|| format!("--threads {v:?} is not a number above 0"))?,
                    );
                }
                "--top" => {
                    f.top = Some(
                        v.parse::<usize>()
                            .map_err(|_| format!("--top {v:?} is not a number"))?,
                    );
                }
                _ => unreachable!("{name} is accepted but not parsed"),
            }
        }
        Ok((f, rest))
    }
}

fn route(args: &[String]) -> Result<ExitCode, String> {
    let (job, rest) = JobFlags::parse(args, &["--in", "--out", "--strategy", "--threads"])?;
    let JobFlags {
        input,
        output,
        strategy,
        threads,
        ..
    } = job;
    let o = parse_options(&rest)?;
    let dir = o
        .book
        .ok_or_else(|| format!("route needs --book DIR\n\n{USAGE}"))?;
    let (input, output) = (
        input.ok_or("route needs --in FILE")?,
        output.ok_or("route needs --out FILE")?,
    );
    let book = load_book_for("rate book", &dir, &o.limits)?;
    let options = route_options(o.today, strategy, threads);
    let mut progress = crossdock_bulk::terminal_progress();
    let summary = crossdock_bulk::route_file(&book, &input, &output, &options, &mut progress)
        .map_err(|e| e.to_string())?;
    eprintln!(
        "{} parcels in {:.2} s ({:.0}/s): {} routed, {} unroutable, {} invalid; priced by {}",
        summary.rows,
        summary.seconds,
        summary.rows as f64 / summary.seconds.max(1e-9),
        summary.routed,
        summary.unroutable,
        summary.invalid,
        book.label()
    );
    Ok(ExitCode::SUCCESS)
}

/// Loads a book for a command (`what` names it in the error), printing its report when it
/// is refused.
fn load_book_for(
    what: &str,
    dir: &std::path::Path,
    limits: &Limits,
) -> Result<crossdock_engine::Book, String> {
    match load_dir(dir, limits) {
        Ok(loaded) => Ok(loaded.book),
        Err(report) => {
            print_report(&report, &mut std::io::stderr().lock());
            Err(format!("{what} {} is refused", dir.display()))
        }
    }
}

/// A whole-file job's options: rows without a ship date ship on `--today` (or today, UTC).
fn route_options(
    today: Option<Date>,
    strategy: Option<crossdock_engine::Strategy>,
    threads: Option<usize>,
) -> crossdock_bulk::RouteOptions {
    let mut options = crossdock_bulk::RouteOptions::new(today.unwrap_or_else(today_utc));
    options.strategy = strategy.unwrap_or(options.strategy);
    options.threads = threads;
    options
}

fn diff(args: &[String]) -> Result<ExitCode, String> {
    let flags = ["--replay", "--out", "--strategy", "--threads", "--top"];
    let (job, rest) = JobFlags::parse(args, &flags)?;
    let JobFlags {
        replay,
        output,
        strategy,
        threads,
        top,
        ..
    } = job;
    let top = top.unwrap_or(40);
    let o = parse_options(&rest)?;
    let [old_dir, new_dir] = o.positional.as_slice() else {
        return Err(format!("book diff needs OLD_DIR and NEW_DIR\n\n{USAGE}"));
    };
    let replay = replay.ok_or("book diff needs --replay FILE (a Parquet or CSV parcel file)")?;
    if let Some(out) = &output {
        crossdock_bulk::diff::check_output_path(out).map_err(|e| e.to_string())?;
    }
    let old = load_book_for("old rate book", std::path::Path::new(old_dir), &o.limits)?;
    let new = load_book_for("new rate book", std::path::Path::new(new_dir), &o.limits)?;
    let options = route_options(o.today, strategy, threads);
    let mut progress = crossdock_bulk::terminal_progress();
    let report = crossdock_bulk::diff_file(&old, &new, &replay, &options, &mut progress)
        .map_err(|e| e.to_string())?;
    if let Some(out) = &output {
        crossdock_bulk::diff::write_groups(&report, out).map_err(|e| e.to_string())?;
    }
    let mut stdout = std::io::stdout().lock();
    let text = if o.json {
        format!("{}\n", crossdock_bulk::diff::report_json(&report))
    } else {
        crossdock_bulk::diff::render_table(&report, top)
    };
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|e| format!("writing stdout: {e}"))?;
    eprintln!(
        "{} rows re-priced with both books in {:.2} s{}",
        report.rows,
        report.seconds,
        output
            .as_ref()
            .map(|p| format!("; groups written to {}", p.display()))
            .unwrap_or_default()
    );
    Ok(ExitCode::SUCCESS)
}

fn check(args: &[String]) -> Result<ExitCode, String> {
    let o = parse_options(args)?;
    let [dir] = o.positional.as_slice() else {
        return Err(format!("book check needs one DIR\n\n{USAGE}"));
    };
    let dir = PathBuf::from(dir);
    let mut out = std::io::stdout().lock();
    let (usable, report, summary) = match load_dir(&dir, &o.limits) {
        Ok(loaded) => {
            let b = &loaded.book;
            let summary = format!(
                "rate book {}: usable; {} services, {} rate rows, {} rows in all; base currency {}",
                b.label(),
                b.services().len(),
                b.band_count(),
                b.rows(),
                b.base_currency()
            );
            (true, loaded.report, summary)
        }
        Err(report) => {
            let errors = report.errors().count();
            (
                false,
                report,
                format!("rate book {}: refused; {errors} errors", dir.display()),
            )
        }
    };
    if o.json {
        let problems: Vec<serde_json::Value> = report
            .problems
            .iter()
            .map(|p| {
                serde_json::json!({
                    "severity": if p.severity == Severity::Error { "error" } else { "warning" },
                    "table": p.table, "row": p.row, "column": p.column, "message": p.message,
                })
            })
            .collect();
        let doc = serde_json::json!({"usable": usable, "summary": summary, "problems": problems});
        let _ = writeln!(out, "{doc}");
    } else {
        print_report(&report, &mut out);
        let _ = writeln!(out, "{summary}");
    }
    Ok(if usable {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn print_report(report: &Report, out: &mut dyn Write) {
    for problem in &report.problems {
        let _ = writeln!(out, "{problem}");
    }
}
