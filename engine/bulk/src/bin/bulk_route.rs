//! `bulk_route`: routes a bulk file, for benchmarks and checks until `crossdock route` ships.
//! A thin shell over [`crossdock_bulk::route_file`].
//!
//! ```text
//! bulk_route --book DIR --in PARCELS.(parquet|csv) --out ROUTED.(parquet|csv)
//!            [--today YYYY-MM-DD] [--strategy cheapest|fastest|best_value] [--threads N] [--batch-rows N]
//! ```

use crossdock_bulk::{RouteOptions, route_file, terminal_progress};
use crossdock_engine::{Date, Strategy};
use crossdock_tables::{Limits, load_dir};
use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage: bulk_route --book DIR --in PARCELS.(parquet|csv) --out ROUTED.(parquet|csv) \
[--today YYYY-MM-DD] [--strategy cheapest|fastest|best_value] [--threads N] [--batch-rows N]";

struct Args {
    book: PathBuf,
    input: PathBuf,
    output: PathBuf,
    opts: RouteOptions,
}

fn parse(args: &[String]) -> Result<Args, String> {
    let (mut book, mut input, mut output) = (None, None, None);
    let mut opts = RouteOptions::default();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number = || value.parse::<usize>().map_err(|_| format!("{flag} {value:?} is not a whole number"));
        match flag.as_str() {
            "--book" => book = Some(PathBuf::from(value)),
            "--in" => input = Some(PathBuf::from(value)),
            "--out" => output = Some(PathBuf::from(value)),
            "--today" => opts.today = Date::parse(value).ok_or_else(|| format!("--today {value:?} is not a date (YYYY-MM-DD)"))?,
            "--strategy" => opts.strategy = Strategy::parse(value).ok_or_else(|| format!("--strategy {value:?} is not cheapest, fastest or best_value"))?,
            "--threads" => opts.threads = Some(number()?),
            "--batch-rows" => opts.batch_rows = number()?,
            other => return Err(format!("unknown option {other}")),
        }
    }
    match (book, input, output) {
        (Some(book), Some(input), Some(output)) => Ok(Args { book, input, output, opts }),
        _ => Err("--book, --in and --out are required".into()),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args = match parse(&args) {
        Ok(args) => args,
        Err(problem) => {
            eprintln!("bulk_route: {problem}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let loaded = match load_dir(&args.book, &Limits::default()) {
        Ok(loaded) => loaded,
        Err(report) => {
            for problem in &report.problems {
                eprintln!("{problem}");
            }
            eprintln!("bulk_route: rate book {} is refused", args.book.display());
            return ExitCode::FAILURE;
        }
    };
    let mut progress = terminal_progress();
    match route_file(&loaded.book, &args.input, &args.output, &args.opts, &mut progress) {
        Ok(s) => {
            println!(
                "{} rows in {:.2} s ({:.0} parcels/s): {} routed, {} unroutable, {} invalid",
                s.rows,
                s.seconds,
                s.rows as f64 / s.seconds.max(1e-9),
                s.routed,
                s.unroutable,
                s.invalid
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("bulk_route: {error}");
            ExitCode::FAILURE
        }
    }
}
