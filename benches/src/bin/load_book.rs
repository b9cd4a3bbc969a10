//! How long loading the synthetic book takes, and how much memory it holds.
//!
//! ```text
//! cargo run --release -p crossdock-benches --bin load_book -- [--runs 1]
//! ```
//!
//! Generates the default synthetic book if absent (see `crossdock_benches::synthetic_dir`),
//! then measures each load in a fresh child process, so that neither generation nor an
//! earlier load has warmed the allocator or inflated the peak:
//!
//! - `split`: `read_dir` (Parquet → `SourceBook`) and `compile` (check + index → `Book`) timed
//!   separately; resident memory (VmRSS, and the peak VmHWM) from `/proc/self/status` before,
//!   after reading, after compiling, and once everything but the `Book` is dropped;
//! - `load_dir`: the same as one call, as `crossdock quote --book` does it.
//!
//! The book's files are read once before the first run, so every run reads from the page
//! cache: the figures are CPU cost, not disk speed.

use crossdock_benches::synthetic_dir;
use crossdock_bookgen::SyntheticSpec;
use crossdock_engine::compile;
use crossdock_tables::{Limits, load_dir, read_dir};
use std::collections::HashMap;
use std::fs;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

const USAGE: &str = "usage: load_book [--runs N] [--dir BOOK_DIR]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // Internal: `--child split|load_dir DIR` is one measured load in this (fresh) process.
    if let [flag, mode, dir] = args.as_slice()
        && flag == "--child"
    {
        return child(mode, Path::new(dir));
    }
    let (mut runs, mut dir) = (1usize, None);
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match (arg.as_str(), it.next()) {
            ("--runs", Some(n)) if n.parse::<usize>().is_ok_and(|n| n > 0) => {
                runs = n.parse().unwrap_or(1)
            }
            ("--dir", Some(d)) => dir = Some(PathBuf::from(d)),
            _ => {
                eprintln!("{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let dir = dir.unwrap_or_else(|| synthetic_dir(&SyntheticSpec::default()));
    let file_bytes = warm_page_cache(&dir);
    println!(
        "book {} ({:.1} MB of files, read once beforehand: page cache warm)",
        dir.display(),
        file_bytes as f64 / 1e6
    );

    for run in 1..=runs {
        let Some(split) = measure("split", &dir) else {
            return ExitCode::FAILURE;
        };
        let Some(whole) = measure("load_dir", &dir) else {
            return ExitCode::FAILURE;
        };
        let rate_rows = split["rate_rows"];
        let per_million = |secs: f64| secs / (rate_rows / 1e6);
        let mb = |kb: f64| kb / 1024.0;
        println!("run {run}/{runs}:");
        println!(
            "  rows: {:.0} total, {:.0} rate rows, {:.0} services",
            split["rows"], rate_rows, split["services"]
        );
        println!(
            "  read_dir {:.2} s + compile {:.2} s = {:.2} s ({:.2} s per million rate rows); load_dir alone {:.2} s ({:.2} s per million)",
            split["read_s"],
            split["compile_s"],
            split["read_s"] + split["compile_s"],
            per_million(split["read_s"] + split["compile_s"]),
            whole["load_s"],
            per_million(whole["load_s"]),
        );
        println!(
            "  RSS MiB: before {:.0}, after read_dir {:.0}, after compile {:.0}, book alone {:.0}; peak (VmHWM) {:.0}",
            mb(split["rss_before_kb"]),
            mb(split["rss_read_kb"]),
            mb(split["rss_compiled_kb"]),
            mb(split["rss_book_kb"]),
            mb(split["hwm_kb"]),
        );
        let growth = (split["rss_book_kb"] - split["rss_before_kb"]) * 1024.0;
        println!(
            "  book's RSS growth {:.0} MiB = {:.0} bytes per rate row; load_dir: book {:.0} MiB RSS growth, peak {:.0} MiB",
            growth / 1_048_576.0,
            growth / rate_rows,
            mb(whole["rss_book_kb"] - whole["rss_before_kb"]),
            mb(whole["hwm_kb"]),
        );
    }
    ExitCode::SUCCESS
}

/// Runs one measured load in a child process and parses its `key=value` lines.
fn measure(mode: &str, dir: &Path) -> Option<HashMap<String, f64>> {
    let exe = std::env::current_exe().ok()?;
    let output = match Command::new(exe).arg("--child").arg(mode).arg(dir).output() {
        Ok(output) => output,
        Err(e) => {
            eprintln!("load_book: starting the {mode} child: {e}");
            return None;
        }
    };
    if !output.status.success() {
        eprintln!(
            "load_book: the {mode} child failed ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        return None;
    }
    let text = String::from_utf8_lossy(&output.stdout);
    Some(
        text.lines()
            .filter_map(|line| line.split_once('='))
            .filter_map(|(k, v)| Some((k.to_owned(), v.trim().parse().ok()?)))
            .collect(),
    )
}

/// One load, printed as `key=value` lines for the parent.
fn child(mode: &str, dir: &Path) -> ExitCode {
    let limits = Limits::default();
    let before = memory();
    match mode {
        "split" => {
            let t0 = Instant::now();
            let (source, read_report) = read_dir(dir, &limits);
            let read_s = t0.elapsed().as_secs_f64();
            let after_read = memory();
            let t1 = Instant::now();
            let compiled = compile(&source);
            let compile_s = t1.elapsed().as_secs_f64();
            let after_compile = memory();
            let (book, warnings) = match compiled {
                Ok(ok) if !read_report.has_errors() => ok,
                Ok((_, report)) | Err(report) => {
                    eprintln!("the book was refused:\n{read_report:?}\n{report:?}");
                    return ExitCode::FAILURE;
                }
            };
            drop((source, read_report, warnings));
            let after = memory();
            println!("read_s={read_s}\ncompile_s={compile_s}");
            println!(
                "rows={}\nrate_rows={}\nservices={}",
                book.rows(),
                book.band_count(),
                book.services().len()
            );
            println!(
                "rss_before_kb={}\nrss_read_kb={}\nrss_compiled_kb={}",
                before.rss_kb, after_read.rss_kb, after_compile.rss_kb
            );
            println!("rss_book_kb={}\nhwm_kb={}", after.rss_kb, after.hwm_kb);
            black_box(&book);
        }
        "load_dir" => {
            let t0 = Instant::now();
            let loaded = load_dir(dir, &limits);
            let load_s = t0.elapsed().as_secs_f64();
            let book = match loaded {
                Ok(loaded) => loaded.book,
                Err(report) => {
                    eprintln!("the book was refused:\n{report:?}");
                    return ExitCode::FAILURE;
                }
            };
            let after = memory();
            println!(
                "load_s={load_s}\nrows={}\nrate_rows={}",
                book.rows(),
                book.band_count()
            );
            println!(
                "rss_before_kb={}\nrss_book_kb={}\nhwm_kb={}",
                before.rss_kb, after.rss_kb, after.hwm_kb
            );
            black_box(&book);
        }
        other => {
            eprintln!("unknown child mode {other:?}");
            return ExitCode::from(2);
        }
    }
    ExitCode::SUCCESS
}

/// Resident memory of this process, from `/proc/self/status`, in KiB.
struct Memory {
    rss_kb: u64,
    hwm_kb: u64,
}

fn memory() -> Memory {
    let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    };
    Memory {
        rss_kb: field("VmRSS:"),
        hwm_kb: field("VmHWM:"),
    }
}

/// Reads every file of the book once (so all runs start from the page cache) and returns
/// their total size.
fn warm_page_cache(dir: &Path) -> u64 {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .filter_map(|e| fs::read(e.path()).ok())
        .map(|bytes| bytes.len() as u64)
        .sum()
}
