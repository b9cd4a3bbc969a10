//! A parcel file the Parquet decoder panics on fails its job as `Corrupt`, and the panic
//! prints nothing: the guard is crossdock-tables' (`guard::decoding`), shared with the rate
//! book's loader. Its own test binary, so its panic hook is in place before any decoding.

use arrow_array::{ArrayRef, Decimal128Array, Int32Array, RecordBatch, StringArray};
use arrow_schema::{Field, Schema};
use crossdock_bulk::{BulkError, RouteOptions, route_file};
use crossdock_engine::Date;
use crossdock_tables::guard::{DecoderPanic, decoding};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Once};

/// Panics that reached the panic hook, which prints them to stderr.
static PRINTED: AtomicUsize = AtomicUsize::new(0);

fn count_printed_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let print = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PRINTED.fetch_add(1, Ordering::SeqCst);
            print(info);
        }));
    });
}

/// Eight parcels whose declared values repeat, so `value_amount` (a DECIMAL, stored as
/// FIXED_LEN_BYTE_ARRAY) is dictionary-encoded, as in the rate book's damaged `fx.parquet`.
fn parcels_file() -> Vec<u8> {
    let text = |v: &[&str]| -> ArrayRef { Arc::new(StringArray::from(v.to_vec())) };
    let n = 8;
    let ids: Vec<String> = (0..n).map(|i| format!("p{i}")).collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let values =
        Decimal128Array::from((0..n).map(|i| Some(1000 + 250 * (i % 3) as i128)).collect::<Vec<_>>()).with_precision_and_scale(12, 2).expect("a decimal type");
    let columns: Vec<(&str, ArrayRef)> = vec![
        ("id", text(&ids)),
        ("origin_country", text(&["CN"; 8])),
        ("dest_country", text(&["DE"; 8])),
        ("weight_g", Arc::new(Int32Array::from(vec![700; 8]))),
        ("value_amount", Arc::new(values)),
        ("value_currency", text(&["USD"; 8])),
    ];
    let fields: Vec<Field> = columns.iter().map(|(name, a)| Field::new(*name, a.data_type().clone(), true)).collect();
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns.into_iter().map(|(_, a)| a).collect()).expect("a batch");
    let mut bytes = Vec::new();
    let mut writer = ArrowWriter::try_new(&mut bytes, batch.schema(), None).expect("a writer");
    writer.write(&batch).expect("the batch writes");
    writer.close().expect("the file closes");
    bytes
}

/// Whether decoding every row of `bytes` panics (silently, inside the guard).
fn decoder_panics(bytes: &[u8]) -> bool {
    let bytes = bytes::Bytes::copy_from_slice(bytes);
    let outcome = decoding(|| {
        let reader = ParquetRecordBatchReaderBuilder::try_new(bytes).ok()?.build().ok()?;
        for batch in reader {
            batch.ok()?;
        }
        Some(())
    });
    outcome == Err(DecoderPanic)
}

#[test]
fn a_file_the_decoder_panics_on_fails_as_corrupt_without_printing() {
    count_printed_panics();
    let intact = parcels_file();
    assert!(!decoder_panics(&intact));
    // The first single-bit flip that makes the decoder panic (deterministic: the writer
    // writes the same bytes for the same batch).
    let damaged = (0..intact.len() * 8)
        .map(|i| {
            let mut bytes = intact.clone();
            bytes[i / 8] ^= 1 << (i % 8);
            bytes
        })
        .find(|bytes| decoder_panics(bytes))
        .expect("a single-bit flip the decoder panics on");
    assert_eq!(PRINTED.load(Ordering::SeqCst), 0, "the search's panics printed");

    let dir = tempfile::tempdir().expect("a temp dir");
    let input = dir.path().join("damaged.parquet");
    std::fs::write(&input, &damaged).expect("the damaged file writes");
    let book = demo_book();
    let options = RouteOptions::new(Date::parse("2026-11-24").expect("a date"));
    let outcome = route_file(&book, &input, &dir.path().join("out.csv"), &options, &mut |_| {});
    match outcome {
        Err(BulkError::Corrupt { path }) => assert_eq!(path, input),
        other => panic!("expected Corrupt, got {other:?}"),
    }
    assert_eq!(PRINTED.load(Ordering::SeqCst), 0, "the decoder's panic reached stderr");
}

fn demo_book() -> crossdock_engine::Book {
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rate-tables/demo");
    match crossdock_tables::load_dir(&committed, &crossdock_tables::Limits::default()) {
        Ok(loaded) => loaded.book,
        Err(report) => panic!("the demo book is refused: {report:?}"),
    }
}
