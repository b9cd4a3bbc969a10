//! `book.toml` of the demo book replaced by the fuzz input; the tables stay intact.
//!
//! Checks: `load_dir` returns (never panics); an accepted book has no errors; a refused one
//! has at least one error, and every error names a table of the book.

#![no_main]

use libfuzzer_sys::fuzz_target;

mod fixture;

fuzz_target!(|data: &[u8]| {
    fixture::fixture().check("book.toml", data);
});
