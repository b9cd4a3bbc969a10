//! Writes rate books: the committed demo book and large deterministic synthetic books.
//!
//! A rate book is a directory of Parquet tables plus `book.toml`, as specified in
//! `rate-book.md`. This crate produces two kinds:
//!
//! - the **demo book** ([`write_demo`]): 17 fictional but realistic cross-border services from
//!   China and Hong Kong to 46 destinations, the sample users see first
//!   (`rate-tables/demo/`, documented in `rate-tables/README.md`);
//! - **synthetic books** ([`write_synthetic`]): hundreds of services, every country, millions
//!   of rate rows, shaped so that each lane has about 30 candidate services, for benchmarks.
//!
//! [`sample_parcels`] and [`demo_sample_parcels`] draw realistic requests on those books' lanes.
//!
//! What it is not: it does not read books (that is `crossdock-tables`) and knows nothing of
//! pricing beyond writing tables that price sensibly. It depends on nothing but Arrow and
//! Parquet.
//!
//! Invariants:
//! - Deterministic: the same inputs give byte-identical files. No clock, no threads, no
//!   hash-order iteration in output; randomness comes from a seeded splitmix64.
//! - Every book passes the checks of `rate-book.md` before a byte is written (see `check`);
//!   a book that fails is an [`Error`], never a file.
//! - Money never touches floating point: amounts are fixed-scale integers written as
//!   `Decimal128`.

use std::fmt;
use std::path::{Path, PathBuf};

mod book;
mod check;
mod countries;
mod demo;
mod parcels;
mod rng;
mod synthetic;
mod tables;
mod values;

pub use parcels::SampleParcel;
pub use synthetic::{SyntheticSpec, SyntheticSummary};

/// Writes the demo book (`book.toml` and ten Parquet files) into `dir`, creating it if needed.
pub fn write_demo(dir: &Path) -> Result<(), Error> {
    demo::book()?.write(dir)
}

/// Writes the demo book a month on into `dir`: named `demo-next-2026-12`, with `XB-EU-TRK`
/// 15 % dearer and `SW-ECO-TRK` limited to 2 kg. The other half of a what-if example
/// (`crossdock book diff rate-tables/demo DIR --replay …`) and of the what-if tests.
pub fn write_demo_next(dir: &Path) -> Result<(), Error> {
    demo::next_book()?.write(dir)
}

/// Writes a synthetic book shaped by `spec` into `dir` and returns its row counts.
pub fn write_synthetic(dir: &Path, spec: &SyntheticSpec) -> Result<SyntheticSummary, Error> {
    let book = synthetic::book(spec)?;
    book.write(dir)?;
    Ok(SyntheticSummary::of(&book))
}

/// `n` realistic parcels on lanes of the synthetic book of `spec`: each lane (origin,
/// destination) is served by at least one service, and by about 30 with the default spec.
///
/// # Panics
/// If `spec` is invalid; [`write_synthetic`] reports why as an [`Error`].
pub fn sample_parcels(spec: &SyntheticSpec, n: usize, seed: u64) -> Vec<SampleParcel> {
    synthetic::sample_parcels(spec, n, seed)
}

/// `n` realistic parcels on lanes of the demo book.
pub fn demo_sample_parcels(n: usize, seed: u64) -> Vec<SampleParcel> {
    demo::sample_parcels(n, seed)
}

/// Why a book could not be written.
#[derive(Debug)]
pub struct Error(ErrorKind);

#[derive(Debug)]
enum ErrorKind {
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    Parquet {
        path: PathBuf,
        source: parquet::errors::ParquetError,
    },
    Arrow(arrow_schema::ArrowError),
    /// The generated book fails the checks of `rate-book.md`: a bug in the generator.
    InvalidBook(Vec<check::Problem>),
    InvalidSpec(String),
}

impl Error {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        Self(ErrorKind::Io {
            path: path.to_owned(),
            source,
        })
    }

    pub(crate) fn parquet(path: &Path, source: parquet::errors::ParquetError) -> Self {
        Self(ErrorKind::Parquet {
            path: path.to_owned(),
            source,
        })
    }

    pub(crate) fn invalid_book(problems: Vec<check::Problem>) -> Self {
        Self(ErrorKind::InvalidBook(problems))
    }

    pub(crate) fn invalid_spec(reason: impl Into<String>) -> Self {
        Self(ErrorKind::InvalidSpec(reason.into()))
    }
}

impl From<arrow_schema::ArrowError> for Error {
    fn from(source: arrow_schema::ArrowError) -> Self {
        Self(ErrorKind::Arrow(source))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        /// Enough to act on; the rest are usually the same mistake repeated.
        const PROBLEMS_SHOWN_MAX: usize = 20;
        match &self.0 {
            ErrorKind::Io { path, source } => write!(f, "{}: {source}", path.display()),
            ErrorKind::Parquet { path, source } => write!(f, "{}: {source}", path.display()),
            ErrorKind::Arrow(source) => write!(f, "building a table: {source}"),
            ErrorKind::InvalidSpec(reason) => write!(f, "invalid synthetic spec: {reason}"),
            ErrorKind::InvalidBook(problems) => {
                write!(f, "the generated book fails {} check(s):", problems.len())?;
                for problem in problems.iter().take(PROBLEMS_SHOWN_MAX) {
                    write!(f, "\n  {problem}")?;
                }
                if problems.len() > PROBLEMS_SHOWN_MAX {
                    write!(f, "\n  … and {} more", problems.len() - PROBLEMS_SHOWN_MAX)?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.0 {
            ErrorKind::Io { source, .. } => Some(source),
            ErrorKind::Parquet { source, .. } => Some(source),
            ErrorKind::Arrow(source) => Some(source),
            ErrorKind::InvalidBook(_) | ErrorKind::InvalidSpec(_) => None,
        }
    }
}

#[cfg(test)]
mod tests;
