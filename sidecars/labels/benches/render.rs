//! Criterion benchmarks of rendering one label, the user-visible operation of
//! `GET /v1/shipments/{id}/labels/{seq}.zpl|.pdf` minus the database read.
//!
//! - `labels/zpl`: the spec's example label (CN 22) as ZPL into a new `Vec`, the way the
//!   HTTP route answers. Budget: ≤ 10 µs (≥ 100 000 labels/s per core).
//! - `labels/zpl_into`: the same into a reused buffer (what a bulk print job would do).
//! - `labels/pdf`: the same label as PDF, both barcodes encoded. Budget: ≤ 200 µs
//!   (≥ 5 000 labels/s per core).
//! - `labels/pdf_busy`: Latin-1 and CJK text, five content lines, long lines to fit.
//!
//! Run: `cargo bench -p crossdock-labels --bench render -- --warm-up-time 1 --measurement-time 3`.

#[path = "../tests/common/mod.rs"]
mod common;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use crossdock_labels::render::{pdf, zpl, zpl_into};
use std::hint::black_box;

fn render_benches(c: &mut Criterion) {
    let label = common::sample();
    let busy = common::busy();
    eprintln!(
        "labels: ZPL {} bytes, PDF {} bytes",
        zpl(&label).expect("renders").len(),
        pdf(&label).expect("renders").len()
    );

    let mut group = c.benchmark_group("labels");
    group.throughput(Throughput::Elements(1));
    group.bench_function("zpl", |b| {
        b.iter(|| black_box(zpl(black_box(&label)).expect("renders")))
    });
    let mut out = Vec::with_capacity(4096);
    group.bench_function("zpl_into", |b| {
        b.iter(|| {
            out.clear();
            zpl_into(black_box(&label), &mut out).expect("renders");
            black_box(&out);
        })
    });
    group.bench_function("pdf", |b| {
        b.iter(|| black_box(pdf(black_box(&label)).expect("renders")))
    });
    group.bench_function("pdf_busy", |b| {
        b.iter(|| black_box(pdf(black_box(&busy)).expect("renders")))
    });
    group.finish();
}

criterion_group!(benches, render_benches);
criterion_main!(benches);
