//! Compiled books keep the invariants `Book`'s fields promise: `compile` asserts them
//! (`Book::check_invariants`) on every book it returns in builds with debug assertions, as
//! this test build has. Here on the demo book and on a synthetic book of every index's shape
//! (postcode zones, many bands, weekly surcharges, several charts).

use crossdock_bookgen::{SyntheticSpec, write_demo, write_synthetic};
use crossdock_tables::{Limits, load_dir};
use std::path::Path;
use tempfile::TempDir;

fn compiles_with_invariants(dir: &Path, what: &str) {
    match load_dir(dir, &Limits::default()) {
        Ok(loaded) => assert!(loaded.book.services().len() > 1, "{what}: too few services"),
        Err(report) => panic!("{what} is refused: {report:?}"),
    }
}

#[test]
#[cfg_attr(not(debug_assertions), ignore = "asserted only with debug assertions")]
fn the_demo_book_passes_its_invariants() {
    let dir = TempDir::new().expect("a temp dir");
    write_demo(dir.path()).expect("the demo book writes");
    compiles_with_invariants(dir.path(), "the demo book");
}

#[test]
#[cfg_attr(not(debug_assertions), ignore = "asserted only with debug assertions")]
fn a_synthetic_book_passes_its_invariants() {
    let dir = TempDir::new().expect("a temp dir");
    let spec = SyntheticSpec {
        services: 24,
        destinations: 30,
        bands_per_zone: 12,
        prefixes_per_country: 2,
        seed: 7,
    };
    write_synthetic(dir.path(), &spec).expect("the synthetic book writes");
    compiles_with_invariants(dir.path(), "a synthetic book");
}
