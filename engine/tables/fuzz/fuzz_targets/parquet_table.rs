//! One table of the demo book replaced by the fuzz input: the first byte picks the table
//! (modulo the number of Parquet files in `BOOK_FILES`), the rest is the file.
//!
//! Checks: `load_dir` returns (never panics, never aborts); an accepted book has no errors; a
//! refused one has at least one error, and every error names a table of the book.

#![no_main]

use libfuzzer_sys::fuzz_target;

mod fixture;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, table)) = data.split_first() else {
        return;
    };
    let files = fixture::parquet_files();
    let file = files[usize::from(selector) % files.len()];
    fixture::fixture().check(file, table);
});
