//! Rate books arriving over the wire: unpacking an upload (tar or zip) safely, checking it in
//! isolation, and packing a directory for publishing.
//!
//! An upload is untrusted. Only the book's own file names are taken, each within the book
//! file limit, at the archive's root or under one top-level folder; links, devices, absolute
//! paths and `..` are refused. The check itself runs in a child `crossdock book check`
//! process when isolation is on, so a file that could crash or exhaust the checker takes
//! down the child, never the server.

use crossdock_engine::{Book, Report, Severity};
use crossdock_tables::{BOOK_FILES, Limits, load_dir};
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Why an upload could not even be checked.
#[derive(Debug)]
pub enum UploadError {
    /// Not a tar or zip archive of a book, or an entry that is not allowed.
    BadArchive(String),
    /// The check could not run (I/O, or the checker process died).
    CheckFailed(String),
}

impl std::fmt::Display for UploadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UploadError::BadArchive(why) => write!(f, "not a usable rate book archive: {why}"),
            UploadError::CheckFailed(why) => write!(f, "the book could not be checked: {why}"),
        }
    }
}

/// A checked upload: the compiled book and its warnings, or the report that refuses it.
pub enum Checked {
    Usable { book: Box<Book>, report: Report },
    Refused(Report),
}

/// How uploads are checked.
#[derive(Clone, Debug)]
pub struct CheckOptions {
    pub limits: Limits,
    /// The `crossdock` executable to check in; `None` checks in this process.
    pub isolate_with: Option<PathBuf>,
    /// Where temporary folders go.
    pub scratch_dir: PathBuf,
}

/// Unpacks `archive` into a fresh folder and checks the book in it.
pub fn check_archive(archive: &[u8], options: &CheckOptions) -> Result<Checked, UploadError> {
    let dir = TempDir::new(&options.scratch_dir)
        .map_err(|e| UploadError::CheckFailed(format!("temporary folder: {e}")))?;
    unpack(archive, dir.path(), &options.limits)?;
    if let Some(exe) = &options.isolate_with
        && let Some(report) = check_in_child(exe, dir.path(), &options.limits)?
    {
        return Ok(Checked::Refused(report));
    }
    Ok(match load_dir(dir.path(), &options.limits) {
        Ok(loaded) => Checked::Usable {
            book: Box::new(loaded.book),
            report: loaded.report,
        },
        Err(report) => Checked::Refused(report),
    })
}

/// Runs `crossdock book check --json` on the folder. `Ok(None)` when the book is usable.
fn check_in_child(exe: &Path, dir: &Path, limits: &Limits) -> Result<Option<Report>, UploadError> {
    const CHECK_TIME_MAX: Duration = Duration::from_secs(300);
    let mut child = Command::new(exe)
        .args([
            "book",
            "check",
            "--json",
            "--max-file-bytes",
            &limits.file_bytes_max.to_string(),
            "--max-rows",
            &limits.table_rows_max.to_string(),
        ])
        .arg(dir)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| {
            UploadError::CheckFailed(format!("cannot start the checker {}: {e}", exe.display()))
        })?;
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if started.elapsed() > CHECK_TIME_MAX => {
                let _ = child.kill();
                return Err(UploadError::CheckFailed(
                    "the check took more than 5 minutes".into(),
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(UploadError::CheckFailed(e.to_string())),
        }
    }
    let output = child
        .wait_with_output()
        .map_err(|e| UploadError::CheckFailed(e.to_string()))?;
    match output.status.code() {
        Some(0) => Ok(None),
        Some(1) => {
            let doc: serde_json::Value = serde_json::from_slice(&output.stdout).map_err(|_| {
                UploadError::CheckFailed("the checker's report was unreadable".into())
            })?;
            Ok(Some(report_from_json(&doc)))
        }
        _ => Err(UploadError::CheckFailed(
            "the checker process failed on this book (it is refused)".into(),
        )),
    }
}

fn report_from_json(doc: &serde_json::Value) -> Report {
    let mut report = Report::default();
    for p in doc["problems"].as_array().into_iter().flatten() {
        let table = p["table"].as_str().unwrap_or("book");
        let row = p["row"].as_u64().map(|r| r as u32);
        let column = p["column"].as_str();
        let message = p["message"].as_str().unwrap_or("").to_string();
        if p["severity"] == "warning" {
            report.warning(table, row, column, message);
        } else {
            report.error(table, row, column, message);
        }
    }
    if !report.has_errors() {
        report.error("book", None, None, "refused by the checker");
    }
    report
}

/// The report as JSON, as the API answers it.
pub fn report_json(report: &Report) -> serde_json::Value {
    let problems: Vec<serde_json::Value> = report
        .problems
        .iter()
        .map(|p| {
            serde_json::json!({
                "severity": if p.severity == Severity::Error { "error" } else { "warning" },
                "table": p.table, "row": p.row, "column": p.column, "message": p.message,
            })
        })
        .collect();
    serde_json::json!({ "usable": !report.has_errors(), "problems": problems })
}

/// Extracts the book's files from a tar or zip archive into `dir`.
pub fn unpack(archive: &[u8], dir: &Path, limits: &Limits) -> Result<(), UploadError> {
    let bad = |why: String| UploadError::BadArchive(why);
    let mut files = 0;
    let mut accept = |name: &str, size: u64, reader: &mut dyn Read| -> Result<(), UploadError> {
        let Some(file) = book_file_name(name)? else {
            return Ok(());
        };
        if size > limits.file_bytes_max {
            return Err(bad(format!(
                "{name} has {size} bytes, more than the limit of {}",
                limits.file_bytes_max
            )));
        }
        let mut bytes = Vec::with_capacity(size.min(1 << 20) as usize);
        reader
            .take(limits.file_bytes_max + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| bad(format!("{name}: {e}")))?;
        if bytes.len() as u64 > limits.file_bytes_max {
            return Err(bad(format!(
                "{name} is larger than the limit of {} bytes",
                limits.file_bytes_max
            )));
        }
        std::fs::write(dir.join(file), bytes)
            .map_err(|e| UploadError::CheckFailed(e.to_string()))?;
        files += 1;
        Ok(())
    };
    if archive.starts_with(b"PK\x03\x04") || archive.starts_with(b"PK\x05\x06") {
        let mut zip =
            zip::ZipArchive::new(Cursor::new(archive)).map_err(|e| bad(format!("zip: {e}")))?;
        for i in 0..zip.len() {
            let mut entry = zip
                .by_index(i)
                .map_err(|e| bad(format!("zip entry {i}: {e}")))?;
            if entry.is_dir() {
                continue;
            }
            let name = entry
                .name()
                .map(|n| n.into_owned())
                .map_err(|e| bad(format!("zip entry {i}: {e}")))?;
            if entry.is_symlink() {
                return Err(bad(format!("{name} is a link")));
            }
            let size = entry.size();
            accept(&name, size, &mut entry)?;
        }
    } else {
        let mut tar = tar::Archive::new(Cursor::new(archive));
        let entries = tar.entries().map_err(|e| bad(format!("tar: {e}")))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| bad(format!("tar: {e}")))?;
            let kind = entry.header().entry_type();
            let name = entry
                .path()
                .map_err(|e| bad(format!("tar entry name: {e}")))?
                .to_string_lossy()
                .into_owned();
            if kind.is_dir() || kind.is_pax_global_extensions() || kind.is_pax_local_extensions() {
                continue;
            }
            if !kind.is_file() {
                return Err(bad(format!("{name} is not a regular file")));
            }
            let size = entry
                .header()
                .size()
                .map_err(|e| bad(format!("{name}: {e}")))?;
            accept(&name, size, &mut entry)?;
        }
    }
    if files == 0 {
        return Err(bad(
            "it holds none of the rate book's files (book.toml, services.parquet, …)".into(),
        ));
    }
    Ok(())
}

/// The book file an archive entry is, if any: `name` or `folder/name`; anything deeper,
/// absolute or with `..` is refused; unknown names are skipped.
fn book_file_name(name: &str) -> Result<Option<&'static str>, UploadError> {
    let parts: Vec<&str> = name
        .trim_start_matches("./")
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    if name.starts_with('/') || parts.contains(&"..") || parts.len() > 2 {
        return Err(UploadError::BadArchive(format!(
            "{name:?} is outside the book's folder"
        )));
    }
    let file = parts.last().copied().unwrap_or("");
    Ok(BOOK_FILES.iter().find(|f| **f == file).copied())
}

/// Packs a book directory as a tar archive (its book files only, at the root).
pub fn pack_dir(dir: &Path) -> std::io::Result<Vec<u8>> {
    let mut builder = tar::Builder::new(Vec::new());
    for file in BOOK_FILES {
        let path = dir.join(file);
        if path.is_file() {
            let bytes = std::fs::read(&path)?;
            let mut header = tar::Header::new_ustar();
            header.set_size(bytes.len() as u64);
            header.set_mode(0o644);
            header.set_entry_type(tar::EntryType::Regular);
            builder.append_data(&mut header, file, bytes.as_slice())?;
        }
    }
    builder.into_inner()
}

/// A temporary folder removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(parent: &Path) -> std::io::Result<TempDir> {
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(0);
        std::fs::create_dir_all(parent)?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let path = parent.join(format!(
            "upload-{}-{}-{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir(&path)?;
        Ok(TempDir(path))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
