//! `bookgen`: writes the demo rate book or a synthetic one. A thin shell over the library.
//!
//! ```text
//! bookgen demo OUT_DIR
//! bookgen demo-next OUT_DIR
//! bookgen synthetic OUT_DIR [--services N] [--destinations N] [--bands N] [--prefixes N] [--seed N]
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use crossdock_bookgen::{SyntheticSpec, write_demo, write_demo_next, write_synthetic};

const USAGE: &str = "usage:
  bookgen demo OUT_DIR
  bookgen demo-next OUT_DIR     (the demo book a month on: XB-EU-TRK +15 %, SW-ECO-TRK up to 2 kg)
  bookgen synthetic OUT_DIR [--services N] [--destinations N] [--bands N] [--prefixes N] [--seed N]";

enum Command {
    Demo(PathBuf),
    DemoNext(PathBuf),
    Synthetic(PathBuf, SyntheticSpec),
}

fn parse(args: &[String]) -> Result<Command, String> {
    match args {
        [command, dir] if command == "demo" => Ok(Command::Demo(PathBuf::from(dir))),
        [command, dir] if command == "demo-next" => Ok(Command::DemoNext(PathBuf::from(dir))),
        [command, dir, options @ ..] if command == "synthetic" => {
            let mut spec = SyntheticSpec::default();
            let mut rest = options.iter();
            while let Some(flag) = rest.next() {
                let value = rest.next().ok_or_else(|| format!("{flag} needs a value"))?;
                let number = |what: &str| {
                    value
                        .parse::<u64>()
                        .map_err(|_| format!("{what}: {value:?} is not a whole number"))
                };
                match flag.as_str() {
                    "--services" => spec.services = number("--services")? as usize,
                    "--destinations" => spec.destinations = number("--destinations")? as usize,
                    "--bands" => spec.bands_per_zone = number("--bands")? as usize,
                    "--prefixes" => spec.prefixes_per_country = number("--prefixes")? as usize,
                    "--seed" => spec.seed = number("--seed")?,
                    other => return Err(format!("unknown option {other}")),
                }
            }
            Ok(Command::Synthetic(PathBuf::from(dir), spec))
        }
        _ => Err("expected a command".to_owned()),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = match parse(&args) {
        Ok(command) => command,
        Err(problem) => {
            eprintln!("bookgen: {problem}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let result = match command {
        Command::Demo(dir) => {
            write_demo(&dir).map(|()| println!("wrote the demo book to {}", dir.display()))
        }
        Command::DemoNext(dir) => write_demo_next(&dir)
            .map(|()| println!("wrote the demo book a month on to {}", dir.display())),
        Command::Synthetic(dir, spec) => write_synthetic(&dir, &spec).map(|summary| {
            println!("wrote a synthetic book to {} ({spec:?})", dir.display());
            for (table, rows) in &summary.rows_per_table {
                println!("{table:>14} {rows:>10}");
            }
            println!("{:>14} {:>10}", "total", summary.total_rows);
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("bookgen: {error}");
            ExitCode::FAILURE
        }
    }
}
