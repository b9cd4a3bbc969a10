//! `loadtest`: a thin shell over the library: flags in, reports out, an exit status.

use loadtest::cli::{self, Parsed};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match cli::parse(&args, std::env::var("CROSSDOCK_KEY").ok()) {
        Ok(Parsed::Help) => {
            print!("{}", cli::USAGE);
            return ExitCode::SUCCESS;
        }
        Ok(Parsed::Run(options)) => options,
        Err(error) => {
            eprintln!("loadtest: {error}\n(see --help)");
            return ExitCode::from(2);
        }
    };
    match loadtest::execute(&options) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("loadtest: {error}");
            ExitCode::from(2)
        }
    }
}
