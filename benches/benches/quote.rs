//! Criterion benchmarks of the user-visible operations: quoting a parcel and loading a book.
//!
//! - `quote/demo`: one realistic CN → DE quote on the demo book, explained, reusing buffers
//!   (`Book::quote_into`); `quote/demo_exact` is the exact-decimal reference path on the same
//!   request; `quote/demo_json` is the whole of `crossdock quote` for one line (parse the JSON,
//!   price, render the answer).
//! - `quote/synthetic`: the default synthetic book (200 services, 4.32 M rate rows), rotating
//!   through [`REQUEST_POOL`] sample parcels on lanes of ≈ 30 candidate services each, every
//!   excluded service explained. `quote/synthetic_no_explain` and `quote/synthetic_exact` are
//!   the same requests without the exclusion list and on the exact path, to show where the
//!   time goes.
//! - `book/load_demo`, `book/load_synthetic`: read, check and compile a book from Parquet.
//!
//! Run: `cargo bench -p crossdock-benches --bench quote -- --warm-up-time 1 --measurement-time 3`.

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use crossdock_api::{Answer, Defaults, answer_line};
use crossdock_benches::{
    PARCEL_SEED, REQUEST_POOL, demo_dir, demo_json_line, demo_request, load, requests, ship_date,
    synthetic_dir,
};
use crossdock_bookgen::{SyntheticSpec, sample_parcels};
use crossdock_engine::{Book, Quote, Request, Scratch};
use std::hint::black_box;

fn quote_benches(c: &mut Criterion) {
    let demo = load(&demo_dir());
    let spec = SyntheticSpec::default();
    let synthetic = load(&synthetic_dir(&spec));
    let (pool, _) = requests(
        &synthetic,
        &sample_parcels(&spec, REQUEST_POOL, PARCEL_SEED),
    );

    let mut group = c.benchmark_group("quote");
    group.throughput(Throughput::Elements(1));

    let req = demo_request(&demo);
    let mut scratch = Scratch::default();
    let mut quote = Quote::new(req.currency);
    demo.quote_into(&req, &mut scratch, &mut quote)
        .expect("the demo request quotes");
    assert!(!quote.options.is_empty(), "the demo request has options");
    eprintln!(
        "quote/demo prices {} options ({} cost lines) and explains {} excluded services",
        quote.options.len(),
        quote.lines.len(),
        quote.excluded.len()
    );
    group.bench_function("demo", |b| {
        b.iter(|| {
            demo.quote_into(black_box(&req), &mut scratch, &mut quote)
                .expect("quotes");
            black_box(&quote);
        })
    });
    group.bench_function("demo_exact", |b| {
        b.iter(|| black_box(demo.quote_exact(black_box(&req)).expect("quotes")))
    });

    let line = demo_json_line(&demo);
    let defaults = Defaults {
        today: ship_date(),
        customer: None,
        explain: true,
    };
    match answer_line(&demo, &line, &defaults, &mut scratch, &mut quote) {
        Answer::Quoted(_) => {}
        Answer::Invalid(body) => panic!("the demo JSON line is refused: {body}"),
    }
    group.bench_function("demo_json", |b| {
        b.iter(|| {
            black_box(answer_line(
                &demo,
                black_box(&line),
                &defaults,
                &mut scratch,
                &mut quote,
            ))
        });
    });

    group.bench_function("synthetic", |b| {
        rotate(b, &synthetic, &pool, &mut scratch, &mut quote)
    });
    let quiet: Vec<Request> = pool
        .iter()
        .cloned()
        .map(|r| Request {
            explain: false,
            ..r
        })
        .collect();
    group.bench_function("synthetic_no_explain", |b| {
        rotate(b, &synthetic, &quiet, &mut scratch, &mut quote)
    });
    group.bench_function("synthetic_exact", |b| {
        let mut i = 0;
        b.iter(|| {
            let req = &pool[i];
            i = if i + 1 == pool.len() { 0 } else { i + 1 };
            black_box(synthetic.quote_exact(black_box(req)).expect("quotes"))
        })
    });
    group.finish();
}

/// Quotes the requests of `pool` in turn, reusing `scratch` and `quote`.
fn rotate(
    b: &mut criterion::Bencher<'_>,
    book: &Book,
    pool: &[Request],
    scratch: &mut Scratch,
    quote: &mut Quote,
) {
    for req in pool {
        book.quote_into(req, scratch, quote)
            .expect("every sample parcel quotes");
    }
    let mut i = 0;
    b.iter(|| {
        let req = &pool[i];
        i = if i + 1 == pool.len() { 0 } else { i + 1 };
        book.quote_into(black_box(req), scratch, quote)
            .expect("quotes");
        black_box(&*quote);
    })
}

fn load_benches(c: &mut Criterion) {
    let demo = demo_dir();
    let synthetic = synthetic_dir(&SyntheticSpec::default());
    let mut group = c.benchmark_group("book");
    // Loads take milliseconds (demo) to seconds (synthetic): a flat, small sample.
    group.sampling_mode(SamplingMode::Flat).sample_size(10);
    group.throughput(Throughput::Elements(load(&demo).rows() as u64));
    group.bench_function("load_demo", |b| {
        b.iter_with_large_drop(|| load(black_box(&demo)))
    });
    group.throughput(Throughput::Elements(load(&synthetic).rows() as u64));
    group.bench_function("load_synthetic", |b| {
        b.iter_with_large_drop(|| load(black_box(&synthetic)))
    });
    group.finish();
}

criterion_group!(benches, quote_benches, load_benches);
criterion_main!(benches);
