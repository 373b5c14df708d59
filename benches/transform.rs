//! Throughput of the EXIF transform on the shipped samples: stripping (the default answer) and the
//! `showExif=true` JSON report, per format.
//!
//! Run: `cargo bench --bench transform`. Criterion reports MB/s of input (`Throughput::Bytes`).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use edge_signer::transform::{exif_json, strip_metadata};
use std::hint::black_box;
use std::time::Duration;

const SAMPLES: [(&str, &[u8]); 3] = [
    ("jpeg", include_bytes!("../samples/images/sample.jpg")),
    ("png", include_bytes!("../samples/images/sample.png")),
    ("webp", include_bytes!("../samples/images/sample.webp")),
];

fn strip(c: &mut Criterion) {
    let mut group = c.benchmark_group("strip_metadata");
    group.measurement_time(Duration::from_secs(3));
    for (name, bytes) in SAMPLES {
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function(name, |b| b.iter(|| strip_metadata(black_box(bytes))));
    }
    group.finish();
}

fn json(c: &mut Criterion) {
    let mut group = c.benchmark_group("exif_json");
    group.measurement_time(Duration::from_secs(3));
    for (name, bytes) in SAMPLES {
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function(name, |b| b.iter(|| exif_json(black_box(bytes))));
    }
    group.finish();
}

criterion_group!(benches, strip, json);
criterion_main!(benches);
