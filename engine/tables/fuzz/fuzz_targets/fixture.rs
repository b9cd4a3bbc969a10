//! What both targets share: a private copy of the intact demo book, and a load that puts one
//! fuzzed file in place of the intact one.

use crossdock_tables::{BOOK_FILES, Limits, load_dir};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

/// Small limits: a fuzzed footer that claims millions of rows is refused before decoding,
/// while every table of the demo (at most a few thousand rows, well under 1 MiB) fits.
pub const LIMITS: Limits = Limits {
    file_bytes_max: 1 << 20,
    table_rows_max: 20_000,
};

/// The table files of a book, in `BOOK_FILES` order: the first byte of a `parquet_table`
/// input picks one of them, modulo their number (`seed.sh` writes the same order).
#[allow(dead_code)] // used by parquet_table, not by book_toml
pub fn parquet_files() -> Vec<&'static str> {
    BOOK_FILES
        .iter()
        .copied()
        .filter(|f| f.ends_with(".parquet"))
        .collect()
}

pub struct Fixture {
    dir: PathBuf,
    /// Every file of the intact book, to put back after a run.
    files: Vec<(&'static str, Vec<u8>)>,
}

/// The last panic message, for panics that escape `load_dir` when caught panics are ignored.
static LAST_PANIC: Mutex<String> = Mutex::new(String::new());

/// The fixture, made on first use: the demo book (`rate-tables/demo`, or the directory in
/// `CROSSDOCK_DEMO_BOOK`) copied into `$TMPDIR/crossdock-fuzz-<pid>`.
pub fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let source = std::env::var_os("CROSSDOCK_DEMO_BOOK")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../rate-tables/demo")
            });
        let dir = std::env::temp_dir().join(format!("crossdock-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("the fixture dir is created");
        let files: Vec<(&'static str, Vec<u8>)> = BOOK_FILES
            .iter()
            .map(|&name| {
                let bytes = std::fs::read(source.join(name)).unwrap_or_else(|e| {
                    panic!(
                        "{}: {e}; point CROSSDOCK_DEMO_BOOK at a written demo book",
                        source.join(name).display()
                    )
                });
                std::fs::write(dir.join(name), &bytes).expect("the fixture file is written");
                (name, bytes)
            })
            .collect();
        // The intact book must load, or every run would only find the fixture's own problem.
        if let Err(report) = load_dir(&dir, &LIMITS) {
            let problems: Vec<String> = report.problems.iter().map(|p| p.to_string()).collect();
            panic!(
                "the intact demo book at {} does not load:\n{}",
                source.display(),
                problems.join("\n")
            );
        }
        // libfuzzer-sys aborts on every panic, also on those `load_dir` catches in the Parquet
        // decoder and reports as a corrupt file. To look past those for panics that escape,
        // run with CROSSDOCK_FUZZ_IGNORE_CAUGHT_PANICS=1.
        if std::env::var_os("CROSSDOCK_FUZZ_IGNORE_CAUGHT_PANICS").is_some() {
            let _aborting = std::panic::take_hook();
            std::panic::set_hook(Box::new(|info| {
                if let Ok(mut last) = LAST_PANIC.lock() {
                    *last = info.to_string();
                }
            }));
        }
        Fixture { dir, files }
    })
}

impl Fixture {
    /// Loads the book with `data` in place of `file`, checks what the loader promises, and
    /// puts the intact file back.
    pub fn check(&self, file: &str, data: &[u8]) {
        let path = self.dir.join(file);
        std::fs::write(&path, data).expect("the fuzzed file is written");
        let outcome = match catch_unwind(AssertUnwindSafe(|| load_dir(&self.dir, &LIMITS))) {
            Ok(outcome) => outcome,
            Err(_) => {
                let last = LAST_PANIC.lock().map(|s| s.clone()).unwrap_or_default();
                eprintln!("load_dir panicked on a fuzzed {file}: {last}");
                std::process::abort();
            }
        };
        match outcome {
            Ok(loaded) => assert!(
                !loaded.report.has_errors(),
                "a book with errors was accepted"
            ),
            Err(report) => {
                assert!(report.has_errors(), "a book was refused without an error");
                for p in report.errors() {
                    let known = p.table == "book"
                        || BOOK_FILES
                            .iter()
                            .any(|f| f.strip_suffix(".parquet").unwrap_or(f) == p.table);
                    assert!(known, "an error names no table of the book: {p}");
                }
            }
        }
        let intact = &self
            .files
            .iter()
            .find(|(name, _)| *name == file)
            .expect("a book file")
            .1;
        std::fs::write(&path, intact).expect("the intact file is put back");
    }
}
