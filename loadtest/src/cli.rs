//! The command line: flags become [`Options`]; nothing here touches files or the network.

use crate::Error;
use crate::find_max::FindMaxOptions;
use crate::swap::SwapOptions;
use crate::workload::{Generate, Lanes};
use std::path::PathBuf;
use std::time::Duration;

pub const USAGE: &str = "\
loadtest: open-loop HTTP load for a crossdock quote server

usage:
  loadtest [--url URL] [--key KEY] (--parcels FILE | --generate demo|synthetic [--n N]) [options]

what to send
  --url URL             server, http://host:port[/prefix]            [http://127.0.0.1:8080]
  --key KEY             API key (Bearer); default: $CROSSDOCK_KEY
  --parcels FILE        NDJSON quote requests, one per line, sent in turn and cycled
  --generate LANES      build requests on the lanes of the demo or synthetic book
  --n N                 how many to generate                             [10000]
  --seed N              generator seed                                   [1]
  --currency CUR        quote currency of generated requests             [EUR]
  --ship-date DATE      ship_date of generated requests (YYYY-MM-DD)     [the server's today]

how hard
  --rate R              quotes per second offered (10k = 10000)         [1000; --find-max: start, 10000]
  --duration D          measured time (30s, 500ms, 2m)                   [30s; --find-max: 5s]
  --warmup D            unmeasured time first                            [3s; --find-max: 1s]
  --batch N             N quotes per call to /v1/quotes/batch            [1: /v1/quotes]
  --connections C       HTTP/1.1 keep-alive connections                  [64]
  --timeout D           a call taking longer is a transport error        [10s]
  --spin D              the end of each wait spent yielding, not sleeping [1ms; 0 = sleep only]

modes
  --find-max            search for the highest rate within --p99-max
  --p99-max D           the search's p99 budget                          [5ms]
  --max-rate R          the search's ceiling                             [1000000]
  --swap-books A,B      upload two book directories, activate them alternately
  --swap-every D        interval between activations                     [5s]
  --compare-no-swap     first run without swaps, then with; print the p99 ratio

output
  --json                one JSON line per run on stdout (text goes to stderr)
  --allow-errors        5xx, transport errors and failed activations do not fail the run
  -h, --help            this text

Exit status: 0 pass; 1 the run fell more than 5 % short of its rate, had 5xx or transport
errors, or (swaps) answers priced by a book not in force; 2 bad usage or setup failure.
";

/// Where the requests come from.
#[derive(Clone, Debug)]
pub enum Source {
    File(PathBuf),
    Generate(Generate),
}

/// What kind of run.
#[derive(Clone, Debug)]
pub enum Mode {
    /// One run at `--rate`.
    Fixed,
    FindMax(FindMaxOptions),
    Swap(SwapOptions),
}

impl Mode {
    /// (warm-up, duration) when not given: short steps for a search, a long run otherwise.
    pub fn default_timing(&self) -> (Duration, Duration) {
        match self {
            Mode::FindMax(_) => (Duration::from_secs(1), Duration::from_secs(5)),
            Mode::Fixed | Mode::Swap(_) => (Duration::from_secs(3), Duration::from_secs(30)),
        }
    }
}

/// Everything the flags say, checked but not yet acted on.
#[derive(Clone, Debug)]
pub struct Options {
    pub url: String,
    pub key: String,
    pub source: Source,
    pub rate_quotes_per_s: f64,
    pub warmup: Option<Duration>,
    pub duration: Option<Duration>,
    pub batch: usize,
    pub connections: usize,
    pub timeout: Duration,
    pub spin: Duration,
    pub json: bool,
    pub allow_errors: bool,
    pub mode: Mode,
}

#[derive(Clone, Debug)]
pub enum Parsed {
    Help,
    Run(Box<Options>),
}

/// Parses the arguments after the program name; `env_key` is `$CROSSDOCK_KEY`.
pub fn parse(args: &[String], env_key: Option<String>) -> Result<Parsed, Error> {
    let mut flags = Flags::default();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) if name.starts_with("--") => (name, Some(value.to_owned())),
            _ => (arg.as_str(), None),
        };
        if matches!(name, "-h" | "--help") {
            return Ok(Parsed::Help);
        }
        if let Some(switch) = flags.switch(name) {
            if inline.is_some() {
                return Err(Error::new(format!("{name} takes no value")));
            }
            *switch = true;
            continue;
        }
        let value = match inline {
            Some(value) => value,
            None => rest
                .next()
                .cloned()
                .ok_or_else(|| Error::new(format!("{name} needs a value")))?,
        };
        flags.set(name, value)?;
    }
    flags
        .into_options(env_key)
        .map(|options| Parsed::Run(Box::new(options)))
}

/// The flags as given, before defaults and cross-checks.
#[derive(Default)]
struct Flags {
    url: Option<String>,
    key: Option<String>,
    parcels: Option<String>,
    generate: Option<String>,
    n: Option<String>,
    seed: Option<String>,
    currency: Option<String>,
    ship_date: Option<String>,
    rate: Option<String>,
    duration: Option<String>,
    warmup: Option<String>,
    batch: Option<String>,
    connections: Option<String>,
    timeout: Option<String>,
    spin: Option<String>,
    p99_max: Option<String>,
    max_rate: Option<String>,
    swap_books: Option<String>,
    swap_every: Option<String>,
    find_max: bool,
    compare_no_swap: bool,
    json: bool,
    allow_errors: bool,
}

impl Flags {
    fn switch(&mut self, name: &str) -> Option<&mut bool> {
        match name {
            "--find-max" => Some(&mut self.find_max),
            "--compare-no-swap" => Some(&mut self.compare_no_swap),
            "--json" => Some(&mut self.json),
            "--allow-errors" => Some(&mut self.allow_errors),
            _ => None,
        }
    }

    fn set(&mut self, name: &str, value: String) -> Result<(), Error> {
        let slot = match name {
            "--url" => &mut self.url,
            "--key" => &mut self.key,
            "--parcels" => &mut self.parcels,
            "--generate" => &mut self.generate,
            "--n" => &mut self.n,
            "--seed" => &mut self.seed,
            "--currency" => &mut self.currency,
            "--ship-date" => &mut self.ship_date,
            "--rate" => &mut self.rate,
            "--duration" => &mut self.duration,
            "--warmup" => &mut self.warmup,
            "--batch" => &mut self.batch,
            "--connections" => &mut self.connections,
            "--timeout" => &mut self.timeout,
            "--spin" => &mut self.spin,
            "--p99-max" => &mut self.p99_max,
            "--max-rate" => &mut self.max_rate,
            "--swap-books" => &mut self.swap_books,
            "--swap-every" => &mut self.swap_every,
            other => return Err(Error::new(format!("unknown option {other} (see --help)"))),
        };
        if slot.replace(value).is_some() {
            return Err(Error::new(format!("{name} given twice")));
        }
        Ok(())
    }

    fn into_options(self, env_key: Option<String>) -> Result<Options, Error> {
        let key = self
            .key
            .clone()
            .or(env_key)
            .filter(|k| !k.is_empty())
            .ok_or_else(|| Error::new("no API key: give --key or set CROSSDOCK_KEY"))?;
        let source = self.source()?;
        let mut mode = self.mode()?;
        let default_rate = if matches!(mode, Mode::FindMax(_)) {
            10_000.0
        } else {
            1000.0
        };
        let rate_quotes_per_s =
            opt(self.rate.as_deref(), "--rate", parse_rate)?.unwrap_or(default_rate);
        if let Mode::FindMax(search) = &mut mode {
            if rate_quotes_per_s > search.max_rate {
                return Err(Error::new(
                    "--rate (the search's start) is above --max-rate",
                ));
            }
            search.start_rate = rate_quotes_per_s;
        }
        let mut options = Options {
            url: self
                .url
                .unwrap_or_else(|| "http://127.0.0.1:8080".to_owned()),
            key,
            source,
            rate_quotes_per_s,
            warmup: opt(self.warmup.as_deref(), "--warmup", parse_duration)?,
            duration: opt(self.duration.as_deref(), "--duration", parse_duration)?,
            batch: opt(self.batch.as_deref(), "--batch", parse_count)?.unwrap_or(1),
            connections: opt(self.connections.as_deref(), "--connections", parse_count)?
                .unwrap_or(64),
            timeout: opt(self.timeout.as_deref(), "--timeout", parse_duration)?
                .unwrap_or(Duration::from_secs(10)),
            spin: opt(self.spin.as_deref(), "--spin", parse_duration)?
                .unwrap_or(Duration::from_millis(1)),
            json: self.json,
            allow_errors: self.allow_errors,
            mode,
        };
        if options.duration.is_some_and(|d| d.is_zero()) {
            return Err(Error::new("--duration must be above zero"));
        }
        options.batch = options.batch.max(1);
        Ok(options)
    }

    fn source(&self) -> Result<Source, Error> {
        match (&self.parcels, &self.generate) {
            (Some(_), Some(_)) => Err(Error::new("--parcels and --generate exclude each other")),
            (None, None) => Err(Error::new(
                "nothing to send: give --parcels FILE or --generate demo|synthetic",
            )),
            (Some(path), None) => {
                if self.n.is_some()
                    || self.seed.is_some()
                    || self.currency.is_some()
                    || self.ship_date.is_some()
                {
                    return Err(Error::new(
                        "--n, --seed, --currency and --ship-date go with --generate",
                    ));
                }
                Ok(Source::File(PathBuf::from(path)))
            }
            (None, Some(lanes)) => {
                let lanes = match lanes.as_str() {
                    "demo" => Lanes::Demo,
                    "synthetic" => Lanes::Synthetic,
                    other => {
                        return Err(Error::new(format!(
                            "--generate {other}: expected demo or synthetic"
                        )));
                    }
                };
                let currency = self.currency.clone().unwrap_or_else(|| "EUR".to_owned());
                if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
                    return Err(Error::new(format!(
                        "--currency {currency}: expected an ISO 4217 code such as EUR"
                    )));
                }
                Ok(Source::Generate(Generate {
                    lanes,
                    n: opt(self.n.as_deref(), "--n", parse_count)?.unwrap_or(10_000),
                    seed: opt(self.seed.as_deref(), "--seed", |s| s.parse::<u64>().ok())?
                        .unwrap_or(1),
                    currency,
                    ship_date: self.ship_date.clone(),
                }))
            }
        }
    }

    fn mode(&self) -> Result<Mode, Error> {
        let search_flags = self.p99_max.is_some() || self.max_rate.is_some();
        let swap_flags = self.swap_every.is_some() || self.compare_no_swap;
        match (self.find_max, &self.swap_books) {
            (true, Some(_)) => Err(Error::new("--find-max and --swap-books exclude each other")),
            (true, None) if swap_flags => Err(Error::new(
                "--swap-every and --compare-no-swap go with --swap-books",
            )),
            (true, None) => Ok(Mode::FindMax(FindMaxOptions {
                p99_max: opt(self.p99_max.as_deref(), "--p99-max", parse_duration)?
                    .unwrap_or(Duration::from_millis(5)),
                start_rate: 0.0, // --rate, set once it is parsed
                max_rate: opt(self.max_rate.as_deref(), "--max-rate", parse_rate)?
                    .unwrap_or(1_000_000.0),
                pause: Duration::from_secs(1),
            })),
            (false, _) if search_flags => {
                Err(Error::new("--p99-max and --max-rate go with --find-max"))
            }
            (false, Some(books)) => {
                let dirs: Vec<&str> = books.split(',').map(str::trim).collect();
                let [a, b] = dirs.as_slice() else {
                    return Err(Error::new(
                        "--swap-books takes two directories: DIR_A,DIR_B",
                    ));
                };
                if a.is_empty() || b.is_empty() {
                    return Err(Error::new(
                        "--swap-books takes two directories: DIR_A,DIR_B",
                    ));
                }
                Ok(Mode::Swap(SwapOptions {
                    books: [PathBuf::from(a), PathBuf::from(b)],
                    every: opt(self.swap_every.as_deref(), "--swap-every", parse_duration)?
                        .unwrap_or(Duration::from_secs(5)),
                    compare_no_swap: self.compare_no_swap,
                }))
            }
            (false, None) if swap_flags => Err(Error::new(
                "--swap-every and --compare-no-swap go with --swap-books",
            )),
            (false, None) => Ok(Mode::Fixed),
        }
    }
}

fn opt<T>(
    value: Option<&str>,
    flag: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Option<T>, Error> {
    value
        .map(|v| {
            parse(v).ok_or_else(|| Error::new(format!("{flag} {v}: not understood (see --help)")))
        })
        .transpose()
}

/// A positive whole number (`64`, `10_000`).
fn parse_count(text: &str) -> Option<usize> {
    text.replace('_', "")
        .parse::<usize>()
        .ok()
        .filter(|&n| n > 0)
}

/// Quotes per second: `2500`, `0.5`, `10k`, `1.5k`.
fn parse_rate(text: &str) -> Option<f64> {
    let text = text.replace('_', "");
    let (number, scale) = match text.strip_suffix(['k', 'K']) {
        Some(number) => (number, 1000.0),
        None => (text.as_str(), 1.0),
    };
    let rate = number.parse::<f64>().ok()? * scale;
    (rate.is_finite() && rate > 0.0 && rate <= 100_000_000.0).then_some(rate)
}

/// `30s`, `1.5s`, `500ms`, `250us`, `2m`, `1h`; a bare number is seconds.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let unit_ns: u128 = match unit {
        "" | "s" => 1_000_000_000,
        "ms" => 1_000_000,
        "us" | "µs" => 1_000,
        "ns" => 1,
        "m" | "min" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        _ => return None,
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() && fraction.is_empty()
        || !fraction.bytes().all(|b| b.is_ascii_digit())
        || fraction.len() > 9
    {
        return None;
    }
    let whole: u128 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let fraction_ns: u128 = if fraction.is_empty() {
        0
    } else {
        fraction.parse::<u128>().ok()? * unit_ns / 10_u128.pow(fraction.len() as u32)
    };
    let ns = whole.checked_mul(unit_ns)?.checked_add(fraction_ns)?;
    u64::try_from(ns).ok().map(Duration::from_nanos)
}

#[cfg(test)]
mod tests {
    use super::{Mode, Parsed, Source, parse, parse_duration, parse_rate};
    use std::time::Duration;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_owned).collect()
    }

    fn options(line: &str) -> super::Options {
        match parse(&args(line), None) {
            Ok(Parsed::Run(options)) => *options,
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn durations() {
        let cases = [
            ("30s", Some(Duration::from_secs(30))),
            ("1.5s", Some(Duration::from_millis(1500))),
            ("500ms", Some(Duration::from_millis(500))),
            ("250us", Some(Duration::from_micros(250))),
            ("2m", Some(Duration::from_secs(120))),
            ("3", Some(Duration::from_secs(3))),
            ("0", Some(Duration::ZERO)),
            (".5s", Some(Duration::from_millis(500))),
            ("5 s", None),
            ("s", None),
            ("-1s", None),
            ("1.2.3s", None),
            ("10parsecs", None),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_duration(text), expected, "{text}");
        }
    }

    #[test]
    fn rates() {
        for (text, expected) in [
            ("10000", Some(10_000.0)),
            ("10k", Some(10_000.0)),
            ("2.5k", Some(2500.0)),
            ("0.5", Some(0.5)),
            ("0", None),
            ("-3", None),
            ("fast", None),
        ] {
            assert_eq!(parse_rate(text), expected, "{text}");
        }
    }

    #[test]
    fn a_fixed_run_with_every_flag() {
        let o = options(
            "--url http://10.0.0.1:9000 --key k1 --parcels p.ndjson --rate 10k --duration 30s --warmup=3s --batch 50 --connections 128 --timeout 2s --spin 0 --json --allow-errors",
        );
        assert_eq!(
            (
                o.url.as_str(),
                o.key.as_str(),
                o.rate_quotes_per_s,
                o.batch,
                o.connections
            ),
            ("http://10.0.0.1:9000", "k1", 10_000.0, 50, 128)
        );
        assert_eq!(
            (o.duration, o.warmup, o.timeout, o.spin),
            (
                Some(Duration::from_secs(30)),
                Some(Duration::from_secs(3)),
                Duration::from_secs(2),
                Duration::ZERO
            )
        );
        assert!(
            o.json
                && o.allow_errors
                && matches!(o.mode, Mode::Fixed)
                && matches!(o.source, Source::File(_))
        );
    }

    #[test]
    fn modes_and_defaults() {
        let o = options("--key k --generate demo --find-max --p99-max 2ms");
        let Mode::FindMax(search) = &o.mode else {
            panic!("find-max")
        };
        assert_eq!(
            (search.p99_max, search.start_rate, o.rate_quotes_per_s),
            (Duration::from_millis(2), 10_000.0, 10_000.0)
        );
        assert_eq!(
            o.mode.default_timing(),
            (Duration::from_secs(1), Duration::from_secs(5))
        );
        let Source::Generate(generate) = &o.source else {
            panic!("generate")
        };
        assert_eq!((generate.n, generate.currency.as_str()), (10_000, "EUR"));

        let o = options(
            "--key k --generate synthetic --n 500 --swap-books a,b --swap-every 2s --compare-no-swap",
        );
        let Mode::Swap(swap) = &o.mode else {
            panic!("swap")
        };
        assert_eq!(
            (swap.every, swap.compare_no_swap, swap.books[1].to_str()),
            (Duration::from_secs(2), true, Some("b"))
        );
        assert_eq!(o.rate_quotes_per_s, 1000.0);
        assert_eq!(
            o.mode.default_timing(),
            (Duration::from_secs(3), Duration::from_secs(30))
        );
    }

    #[test]
    fn the_key_may_come_from_the_environment() {
        let parsed = parse(&args("--generate demo"), Some("from-env".to_owned()));
        assert!(matches!(parsed, Ok(Parsed::Run(o)) if o.key == "from-env"));
        assert!(matches!(parse(&args("--help"), None), Ok(Parsed::Help)));
    }

    #[test]
    fn refuses_contradictions_and_nonsense() {
        for line in [
            "--generate demo",
            "--key k",
            "--key k --parcels a --generate demo",
            "--key k --generate moon",
            "--key k --parcels a --n 5",
            "--key k --generate demo --find-max --swap-books a,b",
            "--key k --generate demo --swap-every 1s",
            "--key k --generate demo --p99-max 1ms",
            "--key k --generate demo --swap-books a",
            "--key k --generate demo --swap-books a,b,c",
            "--key k --generate demo --rate",
            "--key k --generate demo --rate 1 --rate 2",
            "--key k --generate demo --connections 0",
            "--key k --generate demo --duration 0s",
            "--key k --generate demo --json=yes",
            "--key k --generate demo --currency euro",
            "--key k --generate demo --find-max --rate 2000k --max-rate 1000k",
            "--key k --generate demo --frobnicate 3",
        ] {
            assert!(parse(&args(line), None).is_err(), "{line}");
        }
    }
}
