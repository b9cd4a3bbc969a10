//! A rate book in memory (its header and ten finished tables) and how it is written to disk.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::Path;

use arrow_array::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use crate::Error;
use crate::tables::{
    Customs, DutyRates, Fx, Prices, Rates, Restrictions, Segments, Services, Surcharges, Zones,
};

/// Rows per Parquet row group: large enough for fast scans, small enough to stream.
pub(crate) const ROW_GROUP_ROWS_MAX: usize = 1 << 20;

/// What `book.toml` holds.
#[derive(Clone, Debug)]
pub(crate) struct Header {
    pub name: String,
    pub base_currency: String,
    pub notes: String,
}

/// A whole book, ready to check and write. Tables are in `rate-book.md` order.
#[derive(Clone, Debug)]
pub(crate) struct Book {
    pub header: Header,
    pub services: RecordBatch,
    pub zones: RecordBatch,
    pub rates: RecordBatch,
    pub surcharges: RecordBatch,
    pub restrictions: RecordBatch,
    pub prices: RecordBatch,
    pub fx: RecordBatch,
    pub customs: RecordBatch,
    pub duty_rates: RecordBatch,
    pub segments: RecordBatch,
}

impl Book {
    /// Each table with its file stem, in `rate-book.md` order.
    pub(crate) fn tables(&self) -> [(&'static str, &RecordBatch); 10] {
        [
            (Services::NAME, &self.services),
            (Zones::NAME, &self.zones),
            (Rates::NAME, &self.rates),
            (Surcharges::NAME, &self.surcharges),
            (Restrictions::NAME, &self.restrictions),
            (Prices::NAME, &self.prices),
            (Fx::NAME, &self.fx),
            (Customs::NAME, &self.customs),
            (DutyRates::NAME, &self.duty_rates),
            (Segments::NAME, &self.segments),
        ]
    }

    /// Checks the book, then writes `book.toml` and one Parquet file per table into `dir`
    /// (created if missing; other files in it are left alone). A book that fails a check is
    /// never written.
    pub(crate) fn write(&self, dir: &Path) -> Result<(), Error> {
        let problems = crate::check::check(self);
        if !problems.is_empty() {
            return Err(Error::invalid_book(problems));
        }
        fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        write_header(&dir.join("book.toml"), &self.header)?;
        for (name, batch) in self.tables() {
            write_parquet(&dir.join(format!("{name}.parquet")), batch)?;
        }
        Ok(())
    }
}

fn write_header(path: &Path, header: &Header) -> Result<(), Error> {
    let text = format!(
        "name = {}\nbase_currency = {}\nnotes = {}\n",
        toml_string(&header.name),
        toml_string(&header.base_currency),
        toml_string(&header.notes),
    );
    fs::write(path, text).map_err(|e| Error::io(path, e))
}

/// A TOML basic string: quoted, with `"`, `\` and control characters escaped.
fn toml_string(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for c in text.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\n' => quoted.push_str("\\n"),
            '\t' => quoted.push_str("\\t"),
            c if c.is_control() => quoted.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

/// Snappy, fixed `created_by` (no library version in the bytes beyond the crate's own) and
/// bounded row groups; the output depends only on the batch.
fn writer_properties() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS_MAX))
        .set_created_by(concat!("crossdock-bookgen ", env!("CARGO_PKG_VERSION")).to_owned())
        .build()
}

fn write_parquet(path: &Path, batch: &RecordBatch) -> Result<(), Error> {
    let file = File::create(path).map_err(|e| Error::io(path, e))?;
    let mut writer = ArrowWriter::try_new(
        BufWriter::new(file),
        batch.schema(),
        Some(writer_properties()),
    )
    .map_err(|e| Error::parquet(path, e))?;
    writer.write(batch).map_err(|e| Error::parquet(path, e))?;
    let mut sink = writer.into_inner().map_err(|e| Error::parquet(path, e))?;
    sink.flush().map_err(|e| Error::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::toml_string;

    #[test]
    fn toml_strings_are_escaped() {
        assert_eq!(toml_string("demo-2026-11"), "\"demo-2026-11\"");
        assert_eq!(toml_string("a \"b\"\\\n"), "\"a \\\"b\\\"\\\\\\n\"");
    }
}
