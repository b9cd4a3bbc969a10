//! The demo rate book, embedded in the binary so `crossdock serve` works from any
//! directory: on a fresh data directory it is published and put in force for the default
//! tenant (unless `default_book` names another directory).

/// The demo book's files, as committed in `rate-tables/demo`.
const FILES: [(&str, &[u8]); 11] = [
    (
        "book.toml",
        include_bytes!("../../../rate-tables/demo/book.toml"),
    ),
    (
        "customs.parquet",
        include_bytes!("../../../rate-tables/demo/customs.parquet"),
    ),
    (
        "duty_rates.parquet",
        include_bytes!("../../../rate-tables/demo/duty_rates.parquet"),
    ),
    (
        "fx.parquet",
        include_bytes!("../../../rate-tables/demo/fx.parquet"),
    ),
    (
        "prices.parquet",
        include_bytes!("../../../rate-tables/demo/prices.parquet"),
    ),
    (
        "rates.parquet",
        include_bytes!("../../../rate-tables/demo/rates.parquet"),
    ),
    (
        "restrictions.parquet",
        include_bytes!("../../../rate-tables/demo/restrictions.parquet"),
    ),
    (
        "segments.parquet",
        include_bytes!("../../../rate-tables/demo/segments.parquet"),
    ),
    (
        "services.parquet",
        include_bytes!("../../../rate-tables/demo/services.parquet"),
    ),
    (
        "surcharges.parquet",
        include_bytes!("../../../rate-tables/demo/surcharges.parquet"),
    ),
    (
        "zones.parquet",
        include_bytes!("../../../rate-tables/demo/zones.parquet"),
    ),
];

/// The demo book as a tar archive, the form uploads take.
pub fn archive() -> std::io::Result<Vec<u8>> {
    let mut builder = tar::Builder::new(Vec::new());
    for (name, bytes) in FILES {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_cksum();
        builder.append_data(&mut header, name, bytes)?;
    }
    builder.into_inner()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_embedded_book_is_every_file_of_the_demo_directory() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rate-tables/demo");
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .expect("the demo directory")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        on_disk.sort();
        let mut embedded: Vec<String> = super::FILES.iter().map(|(n, _)| (*n).to_owned()).collect();
        embedded.sort();
        assert_eq!(embedded, on_disk);
        for (name, bytes) in super::FILES {
            assert_eq!(
                std::fs::read(dir.join(name)).expect("file"),
                bytes,
                "{name}"
            );
        }
    }
}
