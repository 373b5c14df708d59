//! The signing hot path, side by side with aws-sigv4 and with the work no signer can skip, in one
//! run: `sign`, `floor` and `aws_sigv4` (see `support/signing.rs`).
//!
//! Run: `cargo bench --bench hot_path`. Goals: `sign` <= 1.5x `floor`, and `aws_sigv4` >= 4x `sign`.
//! `floor_rekeyed` is the floor with the HMAC keyed per signature: what the key cache saves by
//! keeping the keyed HMAC rather than the key's bytes.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

#[path = "support/event.rs"]
#[allow(dead_code)] // shared with cold_start, which also sends the event
mod event;
#[path = "support/signing.rs"]
mod signing;

fn hot_path(c: &mut Criterion) {
    let workloads = signing::Workloads::new();
    let mut group = c.benchmark_group("hot_path");
    group.bench_function("sign", |b| b.iter(|| black_box(&workloads).sign()));
    group.bench_function("floor", |b| b.iter(|| black_box(&workloads).floor()));
    group.bench_function("floor_rekeyed", |b| {
        b.iter(|| black_box(&workloads).floor_rekeyed())
    });
    group.bench_function("aws_sigv4", |b| b.iter(|| black_box(&workloads).aws_sigv4()));
    group.finish();
}

criterion_group!(benches, hot_path);
criterion_main!(benches);
