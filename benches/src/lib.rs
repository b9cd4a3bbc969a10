//! Shared set-up for crossdock's benchmarks: where the bench books live, generating them once,
//! and turning generated sample parcels into engine requests.
//!
//! Used by the criterion benches (`benches/quote.rs`) and by the two plain binaries
//! (`quote_percentiles`, `load_book`). See `benches/README.md` for how to run them and what
//! the figures mean.

use crossdock_bookgen::{SampleParcel, SyntheticSpec, write_demo, write_synthetic};
use crossdock_engine::{Battery, Book, Country, Currency, Date, Decimal, Money, Postcode, Request};
use crossdock_tables::{Limits, load_dir};
use std::fs;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Instant;

/// Every benchmark request ships on this date: inside every validity window of both books
/// (and inside the synthetic book's peak-season surcharge window, so that line is priced too).
pub const SHIP_DATE: &str = "2026-11-24";

/// The quote currency of every benchmark request. Most services price in another currency,
/// so most lines are converted.
pub const QUOTE_CURRENCY: &str = "EUR";

/// Distinct requests a rotating benchmark cycles through: enough lanes, weights and options
/// that branch predictors and caches cannot learn one request.
pub const REQUEST_POOL: usize = 4096;

/// Seed of the sample parcels (any fixed value: runs must be comparable).
pub const PARCEL_SEED: u64 = 42;

/// The file in a generated synthetic book that records what it was generated from.
const SPEC_MARKER: &str = "bench-spec.txt";

/// Where the bench books are written: `$CROSSDOCK_BENCH_BOOKS`, else
/// `$CARGO_TARGET_DIR/bench-books`, else the workspace's `target/bench-books`.
pub fn books_root() -> PathBuf {
    if let Some(dir) = std::env::var_os("CROSSDOCK_BENCH_BOOKS") {
        return PathBuf::from(dir);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("..")
                .join("target")
        });
    target.join("bench-books")
}

/// Writes the demo book into `books_root()/demo` (it is small and deterministic, so it is
/// simply rewritten every time) and returns its directory.
pub fn demo_dir() -> PathBuf {
    let dir = books_root().join("demo");
    if let Err(e) = write_demo(&dir) {
        panic!("writing the demo book into {}: {e}", dir.display());
    }
    dir
}

/// The directory of the synthetic book of `spec`, generating it first unless a book of the
/// same spec, written by a generator with the same sources, is already there. Set
/// `CROSSDOCK_BENCH_REGEN=1` to force regeneration.
pub fn synthetic_dir(spec: &SyntheticSpec) -> PathBuf {
    let dir = books_root().join("synthetic");
    let marker = spec_marker(spec);
    let regen = std::env::var_os("CROSSDOCK_BENCH_REGEN").is_some_and(|v| v == "1");
    if !regen && fs::read_to_string(dir.join(SPEC_MARKER)).is_ok_and(|m| m == marker) {
        return dir;
    }
    eprintln!(
        "generating the synthetic book ({spec:?}) into {} …",
        dir.display()
    );
    let started = Instant::now();
    // Written beside, then renamed, so an interrupted run never leaves a half book that a
    // later run would mistake for a whole one.
    let partial = books_root().join(format!("synthetic.partial-{}", std::process::id()));
    let _ = fs::remove_dir_all(&partial);
    let summary = match write_synthetic(&partial, spec) {
        Ok(summary) => summary,
        Err(e) => panic!("writing the synthetic book into {}: {e}", partial.display()),
    };
    let io = |what: &str, r: std::io::Result<()>| {
        if let Err(e) = r {
            panic!("{what}: {e}");
        }
    };
    io(
        "writing the spec marker",
        fs::write(partial.join(SPEC_MARKER), &marker),
    );
    if dir.exists() {
        io("removing the old synthetic book", fs::remove_dir_all(&dir));
    }
    io(
        "moving the synthetic book into place",
        fs::rename(&partial, &dir),
    );
    eprintln!(
        "  {} rows ({} rate rows) in {:.1} s",
        summary.total_rows,
        summary.rate_rows,
        started.elapsed().as_secs_f64()
    );
    dir
}

fn spec_marker(spec: &SyntheticSpec) -> String {
    // The generator's sources are fingerprinted at build time (build.rs): a book written by
    // an older generator is regenerated even when the spec is the same.
    format!(
        "crossdock-bookgen {} sources {} {spec:?}\n",
        env!("CARGO_PKG_VERSION"),
        env!("CROSSDOCK_BOOKGEN_FINGERPRINT")
    )
}

/// Loads a book, panicking with the loader's report if it is refused.
pub fn load(dir: &Path) -> Book {
    match load_dir(dir, &Limits::default()) {
        Ok(loaded) => loaded.book,
        Err(report) => panic!("the book in {} was refused:\n{report:?}", dir.display()),
    }
}

/// The ship date of every benchmark request.
pub fn ship_date() -> Date {
    Date::parse(SHIP_DATE).expect("SHIP_DATE is a date")
}

/// The quote currency of benchmark requests on `book`: [`QUOTE_CURRENCY`] when the book has
/// an exchange rate for it, else the book's base currency.
pub fn quote_currency(book: &Book) -> Currency {
    let wanted = Currency::from_code(QUOTE_CURRENCY).expect("QUOTE_CURRENCY is ISO 4217");
    if book.has_currency(wanted) {
        wanted
    } else {
        book.base_currency()
    }
}

/// The single realistic parcel of `quote/demo`: a 850 g boxed order from Shenzhen to Berlin,
/// 300 × 200 × 100 mm, declared at 45.00 EUR, every excluded service explained.
pub fn demo_request(book: &Book) -> Request {
    let mut req = Request::new(
        country("CN"),
        country("DE"),
        850,
        quote_currency(book),
        ship_date(),
    );
    req.dest_postcode = Postcode::normalise("10115").expect("a valid postcode");
    req.dims_mm = [Some(300), Some(200), Some(100)];
    req.declared_value = Some(Money {
        amount: Decimal::new(4500, 2),
        currency: currency("EUR"),
    });
    req.explain = true;
    req
}

/// The same parcel as [`demo_request`], as a quote-api.md JSON line.
pub fn demo_json_line(book: &Book) -> String {
    format!(
        concat!(
            r#"{{"ship_date":"{}","origin":{{"country":"CN"}},"destination":{{"country":"DE","postcode":"10115"}},"#,
            r#""parcel":{{"weight_g":850,"length_mm":300,"width_mm":200,"height_mm":100}},"#,
            r#""declared_value":{{"amount":"45.00","currency":"EUR"}},"currency":"{}","explain":true}}"#
        ),
        SHIP_DATE,
        quote_currency(book)
    )
}

/// Engine requests for sample parcels, quoted in [`quote_currency`] with every excluded
/// service explained. A declared value in a currency the book has no rate for is left out
/// (the API would refuse the request); the count of those is returned too.
pub fn requests(book: &Book, parcels: &[SampleParcel]) -> (Vec<Request>, usize) {
    let (quote_in, date) = (quote_currency(book), ship_date());
    let mut dropped_values = 0;
    let requests = parcels
        .iter()
        .map(|p| {
            let mut req = Request::new(
                country(&p.origin_country),
                country(&p.dest_country),
                p.weight_g,
                quote_in,
                date,
            );
            req.dest_postcode = p
                .dest_postcode
                .as_deref()
                .and_then(|pc| Postcode::normalise(pc).ok().flatten());
            if let Some([l, w, h]) = p.dims_mm {
                req.dims_mm = [Some(l), Some(w), Some(h)];
            }
            if let Some((amount, code)) = &p.declared_value {
                let money = Money {
                    amount: Decimal::from_str(amount).expect("a decimal amount"),
                    currency: currency(code),
                };
                if book.has_currency(money.currency) {
                    req.declared_value = Some(money);
                } else {
                    dropped_values += 1;
                }
            }
            req.battery = p.battery.as_deref().and_then(Battery::parse);
            req.goods = p.goods.clone();
            req.explain = true;
            req
        })
        .collect();
    (requests, dropped_values)
}

fn country(code: &str) -> Country {
    Country::parse(code).unwrap_or_else(|| panic!("{code:?} is not a country code"))
}

fn currency(code: &str) -> Currency {
    Currency::from_code(code).unwrap_or_else(|| panic!("{code:?} is not a currency code"))
}
