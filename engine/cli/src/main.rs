//! The `crossdock` command: a thin shell over the engine, the loader, the JSON edge and the
//! runtime. Every subcommand answers `--help` with examples; a mistyped flag is answered
//! with the nearest valid one; usage errors exit 2.

mod orders_cmds;
mod server_cmds;

use clap::{Args, Parser, Subcommand};
use crossdock_api::{Answer, Defaults, answer_line};
use crossdock_engine::{Date, Quote, Report, Scratch};
use crossdock_tables::{Limits, load_dir};
use std::io::{BufRead, BufWriter, Write};

/// mimalloc rather than glibc's malloc: JSON documents of orders and shipments are many
/// small allocations freed from other threads (see benches/README.md, orders upload).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Parser)]
#[command(
    name = "crossdock",
    version,
    about = "Cross-border parcel management: rate engine, server and tools",
    after_help = "Examples:\n  crossdock serve\n  crossdock keys create --roles admin,analyst,shipper\n  \
                  echo '{\"origin\":{\"country\":\"CN\"},\"destination\":{\"country\":\"DE\",\"postcode\":\"10115\"},\"parcel\":{\"weight_g\":700},\"currency\":\"EUR\"}' | crossdock quote --book rate-tables/demo"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Prices quote requests (JSON Lines on stdin), one answer or error per line on stdout.
    #[command(
        after_help = "Example:\n  echo '{\"origin\":{\"country\":\"CN\"},\"destination\":{\"country\":\"DE\",\"postcode\":\"10115\"},\"parcel\":{\"weight_g\":700},\"currency\":\"EUR\"}' \\\n    | crossdock quote --book rate-tables/demo --today 2026-11-24"
    )]
    Quote(QuoteArgs),
    /// Rate books: check, what-if diff, and publish/activate/rollback/status on a server.
    #[command(subcommand)]
    Book(BookCommand),
    /// Pre-routes a Parquet or CSV parcel file into a Parquet or CSV file, one row per parcel.
    #[command(
        after_help = "Example:\n  crossdock route --book rate-tables/demo --in parcels.parquet --out routed.csv --strategy fastest"
    )]
    Route(RouteArgs),
    /// Runs the HTTP server (127.0.0.1:8080, SQLite in ./data, the embedded demo book by default).
    #[command(
        after_help = "Examples:\n  crossdock serve\n  crossdock serve --listen 0.0.0.0:8080 --database postgres://crossdock@db/crossdock\n  \
                  crossdock serve --components rating --log-format json\n\n\
                  Settings come from defaults, a TOML file (--config, CROSSDOCK_CONFIG or ./crossdock.toml),\n\
                  CROSSDOCK_<KEY> variables, then these flags. See the README for every key."
    )]
    Serve(ServeArgs),
    /// API keys in the database (same --data-dir/--database as serve); admins can also use /v1/keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Orders: import a CSV or Parquet file of orders.
    #[command(subcommand)]
    Orders(OrdersCommand),
}

#[derive(Subcommand)]
enum OrdersCommand {
    /// Creates an order per row of a CSV or Parquet file (the columns of GET
    /// /v1/orders/template.csv), on a server or in-process on a data directory; prints one
    /// tab-separated line per row (row, reference, status, order, problems), then the counts.
    /// Exit status 0; 1 if a row is invalid (or its ship refused); 2 if the file is refused.
    #[command(
        after_help = "Examples:\n  crossdock orders import orders.csv --url http://127.0.0.1:8080 --key $KEY\n  \
                  crossdock orders import orders.parquet --ship --customer acme --key $ADMIN_KEY\n  \
                  crossdock orders import orders.csv --data-dir ./data --tenant default --customer acme"
    )]
    Import(ImportArgs),
}

#[derive(Args)]
struct ImportArgs {
    /// The file: .csv or .parquet (the type is chosen by extension).
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Ship each row's ready order too; lines add the tracking number or the ship error.
    #[arg(long)]
    ship: bool,
    /// The server (without --data-dir or --database).
    #[arg(long, env = "CROSSDOCK_URL", default_value = "http://127.0.0.1:8080")]
    url: String,
    /// An API key with the shipper, operator or admin role.
    #[arg(long, env = "CROSSDOCK_KEY", hide_env_values = true)]
    key: Option<String>,
    /// The customer of every row (an operator or admin key's; in-process, the only one the
    /// rows may name). Without it, each row names its customer.
    #[arg(long)]
    customer: Option<String>,
    /// In-process: the tenant (default: the default tenant).
    #[arg(long)]
    tenant: Option<String>,
    /// In-process: --data-dir or --database (and --config) as for serve.
    #[command(flatten)]
    state: StateArgs,
}

#[derive(Args)]
struct LimitArgs {
    /// Largest accepted table file, in bytes.
    #[arg(long = "max-file-bytes", value_name = "BYTES", default_value_t = Limits::default().file_bytes_max)]
    file_bytes_max: u64,
    /// Most rows in one table.
    #[arg(long = "max-rows", value_name = "ROWS", default_value_t = Limits::default().table_rows_max)]
    table_rows_max: u64,
}

impl LimitArgs {
    fn limits(&self) -> Limits {
        Limits {
            file_bytes_max: self.file_bytes_max,
            table_rows_max: self.table_rows_max,
        }
    }
}

fn parse_date(text: &str) -> Result<Date, String> {
    Date::parse(text).ok_or_else(|| format!("{text:?} is not a date (YYYY-MM-DD)"))
}

fn parse_strategy(text: &str) -> Result<crossdock_engine::Strategy, String> {
    crossdock_engine::Strategy::parse(text)
        .ok_or_else(|| format!("{text:?} is not cheapest, fastest or best_value"))
}

#[derive(Args)]
struct QuoteArgs {
    /// The rate book directory.
    #[arg(long, value_name = "DIR")]
    book: PathBuf,
    /// The default ship date (default: today, UTC).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    today: Option<Date>,
    /// List excluded services with their reasons.
    #[arg(long, value_name = "BOOL", default_value_t = true, action = clap::ArgAction::Set)]
    explain: bool,
    #[command(flatten)]
    limits: LimitArgs,
}

#[derive(Args)]
struct JobArgs {
    /// cheapest, fastest or best_value.
    #[arg(long, value_name = "STRATEGY", value_parser = parse_strategy)]
    strategy: Option<crossdock_engine::Strategy>,
    /// Pricing threads (default: every core).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    threads: Option<u64>,
    /// Ship date of rows without one (default: today, UTC).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    today: Option<Date>,
}

#[derive(Args)]
struct RouteArgs {
    /// The rate book directory.
    #[arg(long, value_name = "DIR")]
    book: PathBuf,
    /// The parcels: .parquet or .csv with the bulk columns of quote-api.md.
    #[arg(long = "in", value_name = "FILE")]
    input: PathBuf,
    /// Where the routed rows go: .parquet or .csv (written to a temporary name, then renamed).
    #[arg(long = "out", value_name = "FILE")]
    output: PathBuf,
    #[command(flatten)]
    job: JobArgs,
    #[command(flatten)]
    limits: LimitArgs,
}

#[derive(Subcommand)]
enum BookCommand {
    /// Checks a rate book and prints every problem; exit status 0 only for a usable book.
    #[command(
        after_help = "Examples:\n  crossdock book check rate-tables/demo\n  crossdock book check --json my-book/"
    )]
    Check {
        /// The rate book directory.
        #[arg(value_name = "DIR")]
        dir: PathBuf,
        /// One JSON document instead of text.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// What-if: re-prices a parcel file with two books, grouped by service and destination.
    #[command(
        after_help = "Example:\n  crossdock book diff rate-tables/demo /tmp/demo-next --replay parcels.parquet --out groups.csv --top 20"
    )]
    Diff {
        #[arg(value_name = "OLD_DIR")]
        old: PathBuf,
        #[arg(value_name = "NEW_DIR")]
        new: PathBuf,
        /// Historical parcels (.parquet or .csv, the bulk columns).
        #[arg(long, value_name = "FILE")]
        replay: PathBuf,
        /// Every group, as .csv or .parquet.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Groups shown in the table.
        #[arg(long, value_name = "N", default_value_t = 40)]
        top: usize,
        /// One JSON document instead of the table.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        job: JobArgs,
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// Uploads a book directory to a running server (checked there, stored by content hash).
    #[command(
        after_help = "Example:\n  crossdock book publish rate-tables/demo --url http://127.0.0.1:8080 --key $KEY"
    )]
    Publish {
        #[arg(value_name = "DIR")]
        dir: PathBuf,
        #[command(flatten)]
        remote: RemoteArgs,
    },
    /// Puts a stored book in force on a running server.
    #[command(after_help = "Example:\n  crossdock book activate 3 --key $KEY")]
    Activate {
        #[arg(value_name = "ID")]
        id: String,
        #[command(flatten)]
        remote: RemoteArgs,
    },
    /// Puts the book in force before the current one back in force.
    #[command(after_help = "Example:\n  crossdock book rollback --key $KEY")]
    Rollback {
        #[command(flatten)]
        remote: RemoteArgs,
    },
    /// Lists a server's stored books and the one in force.
    #[command(after_help = "Example:\n  CROSSDOCK_KEY=$KEY crossdock book status")]
    Status {
        #[command(flatten)]
        remote: RemoteArgs,
    },
}

#[derive(Args)]
struct RemoteArgs {
    /// The server.
    #[arg(long, env = "CROSSDOCK_URL", default_value = "http://127.0.0.1:8080")]
    url: String,
    /// An API key with the analyst role.
    #[arg(long, env = "CROSSDOCK_KEY", hide_env_values = true)]
    key: String,
}

/// Where the state lives: shared by `serve` and `keys`.
#[derive(Args, Clone, Default)]
struct StateArgs {
    /// A TOML configuration file (default: CROSSDOCK_CONFIG, else ./crossdock.toml if present).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The data directory (SQLite file, temporary files, replay sets).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// postgres://… for PostgreSQL (default: SQLite in the data directory).
    #[arg(long, value_name = "URL")]
    database: Option<String>,
}

#[derive(Args)]
struct ServeArgs {
    #[command(flatten)]
    state: StateArgs,
    /// The address to listen on.
    #[arg(long, value_name = "ADDR")]
    listen: Option<String>,
    /// The default tenant's book on first start (default: the embedded demo book).
    #[arg(long, value_name = "DIR")]
    book: Option<PathBuf>,
    /// The components whose routes this process serves, comma-separated (identity, rating; default: all).
    #[arg(long, value_name = "LIST")]
    components: Option<String>,
    /// Log lines as text or json.
    #[arg(long, value_name = "FORMAT", value_parser = ["text", "json"])]
    log_format: Option<String>,
    /// Watch DIR/<tenant>/<customer>/ for order files (*.csv, *.parquet) every 2 s.
    #[arg(long, value_name = "DIR")]
    inbox: Option<PathBuf>,
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Creates a key; its secret is printed once on stdout and stored only as a hash.
    #[command(
        after_help = "Examples:\n  crossdock keys create --roles admin,analyst,shipper\n  \
                  crossdock keys create --roles shipper --customer acme --label 'acme checkout'"
    )]
    Create {
        /// Comma-separated: shipper, operator, analyst, finance, admin.
        #[arg(long, value_name = "ROLES", value_delimiter = ',', required = true)]
        roles: Vec<String>,
        /// The tenant (created if absent; default: the default tenant).
        #[arg(long)]
        tenant: Option<String>,
        /// Narrows the key to one customer of the tenant.
        #[arg(long)]
        customer: Option<String>,
        #[arg(long, default_value = "")]
        label: String,
        #[command(flatten)]
        state: StateArgs,
    },
    /// Lists a tenant's keys (never their secrets).
    #[command(after_help = "Example:\n  crossdock keys list --tenant acme")]
    List {
        #[arg(long)]
        tenant: Option<String>,
        #[command(flatten)]
        state: StateArgs,
    },
    /// Revokes a key: every server sharing the database refuses it within seconds.
    #[command(after_help = "Example:\n  crossdock keys revoke abcdefghijkl")]
    Revoke {
        #[arg(value_name = "KEY_ID")]
        id: String,
        #[arg(long)]
        tenant: Option<String>,
        #[command(flatten)]
        state: StateArgs,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Quote(args) => quote(args),
        Command::Route(args) => route(args),
        Command::Book(BookCommand::Check { dir, json, limits }) => {
            check(&dir, json, &limits.limits())
        }
        Command::Book(BookCommand::Diff {
            old,
            new,
            replay,
            out,
            top,
            json,
            job,
            limits,
        }) => diff(
            &old,
            &new,
            &replay,
            out.as_deref(),
            top,
            json,
            &job,
            &limits.limits(),
        ),
        Command::Book(BookCommand::Publish { dir, remote }) => server_cmds::remote_book(
            "publish",
            Some(&dir.display().to_string()),
            &remote.url,
            &remote.key,
        ),
        Command::Book(BookCommand::Activate { id, remote }) => {
            server_cmds::remote_book("activate", Some(&id), &remote.url, &remote.key)
        }
        Command::Book(BookCommand::Rollback { remote }) => {
            server_cmds::remote_book("rollback", None, &remote.url, &remote.key)
        }
        Command::Book(BookCommand::Status { remote }) => {
            server_cmds::remote_book("status", None, &remote.url, &remote.key)
        }
        Command::Serve(args) => server_cmds::serve(args),
        Command::Keys(command) => server_cmds::keys(command),
        Command::Orders(OrdersCommand::Import(args)) => orders_cmds::import(args),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("crossdock: {message}");
            ExitCode::from(2)
        }
    }
}

/// Today in UTC, from the system clock: the only clock read in crossdock's pricing path.
fn today_utc() -> Date {
    let days = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() / 86_400)
        .unwrap_or(0);
    Date::from_days_since_epoch(days as i32)
}

fn quote(args: QuoteArgs) -> Result<ExitCode, String> {
    let book = load_book_for("rate book", &args.book, &args.limits.limits())?;
    let defaults = Defaults {
        today: args.today.unwrap_or_else(today_utc),
        customer: None,
        explain: args.explain,
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

fn route(args: RouteArgs) -> Result<ExitCode, String> {
    let book = load_book_for("rate book", &args.book, &args.limits.limits())?;
    let options = route_options(&args.job);
    let mut progress = crossdock_bulk::terminal_progress();
    let summary =
        crossdock_bulk::route_file(&book, &args.input, &args.output, &options, &mut progress)
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
fn route_options(job: &JobArgs) -> crossdock_bulk::RouteOptions {
    let mut options = crossdock_bulk::RouteOptions::new(job.today.unwrap_or_else(today_utc));
    options.strategy = job.strategy.unwrap_or(options.strategy);
    options.threads = job
        .threads
        .map(|n| usize::try_from(n).unwrap_or(usize::MAX));
    options
}

#[allow(clippy::too_many_arguments)] // one value per flag of `book diff`
fn diff(
    old_dir: &std::path::Path,
    new_dir: &std::path::Path,
    replay: &std::path::Path,
    output: Option<&std::path::Path>,
    top: usize,
    json: bool,
    job: &JobArgs,
    limits: &Limits,
) -> Result<ExitCode, String> {
    if let Some(out) = output {
        crossdock_bulk::diff::check_output_path(out).map_err(|e| e.to_string())?;
    }
    let old = load_book_for("old rate book", old_dir, limits)?;
    let new = load_book_for("new rate book", new_dir, limits)?;
    let options = route_options(job);
    let mut progress = crossdock_bulk::terminal_progress();
    let report = crossdock_bulk::diff_file(&old, &new, replay, &options, &mut progress)
        .map_err(|e| e.to_string())?;
    if let Some(out) = output {
        crossdock_bulk::diff::write_groups(&report, out).map_err(|e| e.to_string())?;
    }
    let mut stdout = std::io::stdout().lock();
    let text = if json {
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
            .map(|p| format!("; groups written to {}", p.display()))
            .unwrap_or_default()
    );
    Ok(ExitCode::SUCCESS)
}

fn check(dir: &std::path::Path, json: bool, limits: &Limits) -> Result<ExitCode, String> {
    let mut out = std::io::stdout().lock();
    let (usable, report, summary) = match load_dir(dir, limits) {
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
    if json {
        // The same report document the rate-book upload answers, with the summary line.
        let mut doc = crossdock_rating::books::report_json(&report);
        doc["usable"] = serde_json::Value::from(usable);
        doc["summary"] = serde_json::Value::from(summary);
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
