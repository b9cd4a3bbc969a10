//! The layering rules of ARCHITECTURE.md, checked by reading the code (as rust-analyzer's
//! `tidy.rs` does):
//!
//! - the engine core and every component's `model.rs` import no I/O, async, SQL or serde
//!   crate, and the core depends on `rust_decimal` only;
//! - components never depend on each other: no sidecar on another sidecar, no sidecar on
//!   identity or rating, rating and identity not on each other.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// What a pure file must not name: crates and std modules that do I/O, threads, async,
/// SQL or serialisation.
const IMPURE: [&str; 16] = [
    "tokio",
    "axum",
    "hyper",
    "serde",
    "rusqlite",
    "postgres",
    "crossdock_db",
    "std::fs",
    "std::net",
    "std::thread",
    "std::process",
    "std::time::SystemTime",
    "std::env",
    "arrow",
    "parquet",
    "rayon",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Lines that name an impure crate outside comments and test modules (tests may read
/// reference files).
fn impurities(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).expect("source");
    let mut found = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim() == "#[cfg(test)]" {
            break;
        }
        let code = line.split("//").next().unwrap_or("");
        for word in IMPURE {
            let hit = code.match_indices(word).any(|(at, _)| {
                let before = code[..at].chars().next_back();
                let after = code[at + word.len()..].chars().next();
                !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
                    && !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
            });
            if hit {
                found.push(format!(
                    "{}:{}: names {word}: {}",
                    path.display(),
                    i + 1,
                    line.trim()
                ));
            }
        }
    }
    found
}

#[test]
fn the_core_and_every_model_are_pure() {
    let mut files = Vec::new();
    rust_files(&root().join("engine/core/src"), &mut files);
    // The reference data is as pure as the core: compiled-in data, no I/O.
    rust_files(&root().join("engine/refdata/src"), &mut files);
    let mut models = Vec::new();
    for group in ["engine", "sidecars"] {
        let dir = root().join(group);
        if dir.is_dir() {
            let mut all = Vec::new();
            rust_files(&dir, &mut all);
            models.extend(
                all.into_iter()
                    .filter(|p| p.file_name().is_some_and(|n| n == "model.rs")),
            );
        }
    }
    assert!(
        models.len() >= 4,
        "the identity, rating, orders and labels models at least: {models:?}"
    );
    files.extend(models);
    let found: Vec<String> = files.iter().flat_map(|f| impurities(f)).collect();
    assert!(found.is_empty(), "impure imports:\n{}", found.join("\n"));
}

#[test]
fn the_core_depends_on_rust_decimal_only() {
    let manifest =
        std::fs::read_to_string(root().join("engine/core/Cargo.toml")).expect("manifest");
    let table: toml::Table = manifest.parse().expect("TOML");
    let deps: Vec<&String> = table
        .get("dependencies")
        .and_then(|d| d.as_table())
        .map(|d| d.keys().collect())
        .unwrap_or_default();
    assert_eq!(deps, vec!["rust_decimal"], "engine/core's dependencies");
}

/// Every component crate (sidecars, identity, rating) and its normal dependencies.
fn components() -> Vec<(String, Vec<String>)> {
    let mut dirs = vec![root().join("engine/identity"), root().join("engine/rating")];
    if let Ok(entries) = std::fs::read_dir(root().join("sidecars")) {
        dirs.extend(
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.join("Cargo.toml").is_file()),
        );
    }
    dirs.iter()
        .map(|dir| {
            let table: toml::Table = std::fs::read_to_string(dir.join("Cargo.toml"))
                .expect("manifest")
                .parse()
                .expect("TOML");
            let name = table["package"]["name"].as_str().expect("name").to_owned();
            let deps = table
                .get("dependencies")
                .and_then(|d| d.as_table())
                .map(|d| d.keys().cloned().collect())
                .unwrap_or_default();
            (name, deps)
        })
        .collect()
}

#[test]
fn no_component_depends_on_another() {
    let all = components();
    let names: Vec<&String> = all.iter().map(|(n, _)| n).collect();
    for (name, deps) in &all {
        for dep in deps {
            assert!(
                !(names.contains(&dep) && dep != name),
                "{name} depends on the component {dep}"
            );
        }
    }
}

#[test]
fn the_checks_can_fail() {
    // The scanner finds what it is meant to find, and not inside longer names or comments.
    let dir = std::env::temp_dir().join(format!("crossdock-layering-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("model.rs");
    std::fs::write(
        &file,
        "use serde::Serialize;\n// tokio in a comment\nlet tokio_like = 1;\nuse std::fs;\n#[cfg(test)]\nuse tokio;\n",
    )
    .expect("write");
    let found = impurities(&file);
    assert_eq!(found.len(), 2, "{found:?}");
}
