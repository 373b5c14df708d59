//! A profiling loop over the hot-path bench's work, for tools that want one process doing one thing
//! (`perf record`, `valgrind --tool=cachegrind`/`callgrind`), and an allocation count per call.
//!
//! ```sh
//! cargo build --profile bench --example hot_loop
//! target/release/examples/hot_loop handler 100000          # allocations and bytes per call
//! valgrind --tool=callgrind target/release/examples/hot_loop sign 10000
//! ```
//!
//! `WHAT` is `handler` (event bytes → response JSON), `parse` (event bytes → typed event),
//! `transform` (event bytes → outcome, not yet written as JSON), `write` (outcome → JSON), `sign` (our signer as the handler calls it, `sign_headers`, cached key), `sign_full`
//! (`sign()`, which keeps the canonical request and string to sign) or `floor`
//! (SHA-256 of the canonical request + one HMAC), on the bench's event and request.

use aws_credential_types::Credentials;
use edge_signer::config::HandlerConfig;
use edge_signer::origin_request::{Context, handle_json};
use edge_signer::sigv4::{
    self, SignableBody, SignableRequest, SigningKeyCache, SigningParams, SigningSettings,
};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::hint::black_box;
use std::time::{Duration, Instant, UNIX_EPOCH};

#[path = "../benches/support/event.rs"]
mod event;
use event::{ACCESS_KEY_ID, CF_ID, HOST, SECRET_ACCESS_KEY, realistic_event, session_token};

/// Counts allocations (and reallocations) and the bytes they ask for, per thread: no atomic
/// instruction is added to the allocations being measured.
struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
    static BYTES: Cell<usize> = const { Cell::new(0) };
}

fn count(bytes: usize) {
    ALLOCATIONS.with(|n| n.set(n.get() + 1));
    BYTES.with(|n| n.set(n.get() + bytes));
}

// SAFETY: forwards every call to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: the caller's contract is the system allocator's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn main() {
    let mut args = std::env::args().skip(1);
    let what = args.next().unwrap_or_else(|| "handler".into());
    let n: u32 = args.next().and_then(|n| n.parse().ok()).unwrap_or(100_000);

    let creds = Credentials::new(
        ACCESS_KEY_ID,
        SECRET_ACCESS_KEY,
        Some(session_token()),
        None,
        "loop",
    );
    let settings = SigningSettings::s3();
    let cache = SigningKeyCache::new();
    let headers = [("host", HOST), ("x-amz-cf-id", CF_ID)];
    let request = SignableRequest {
        method: "GET",
        path: "/photos/2024/summer%20trip/IMG_0042.jpg",
        query: "showExif=true",
        headers: &headers,
        body: SignableBody::UnsignedPayload,
    };
    let params = SigningParams {
        credentials: &creds,
        region: "us-west-2",
        service: "s3-object-lambda",
        time: UNIX_EPOCH + Duration::from_secs(1_763_900_000),
        settings: &settings,
    };
    let event = realistic_event();
    let config = HandlerConfig::default();
    let context = Context {
        credentials: &creds,
        now: params.time,
        config: &config,
        keys: &cache,
    };
    let reference = sigv4::sign(&request, &params, &cache).expect("signs");
    let canonical = reference.canonical_request.into_bytes();
    let string_to_sign = reference.string_to_sign.into_bytes();
    let keyed = Hmac::<Sha256>::new_from_slice(&sigv4::key::signing_key(
        SECRET_ACCESS_KEY,
        "20251123",
        "us-west-2",
        "s3-object-lambda",
    ))
    .expect("key");

    let outcome = handle_json(&event, &context).expect("valid");
    let mut run: Box<dyn FnMut()> = match what.as_str() {
        "handler" => Box::new(|| {
            black_box(
                handle_json(black_box(&event), &context)
                    .map(|o| o.to_json())
                    .expect("valid"),
            );
        }),
        "parse" => Box::new(|| {
            black_box(edge_signer::origin_request::parse(black_box(&event)).expect("valid"));
        }),
        "transform" => Box::new(|| {
            black_box(handle_json(black_box(&event), &context).expect("valid"));
        }),
        "write" => Box::new(|| {
            black_box(black_box(&outcome).to_json());
        }),
        "sign" => Box::new(|| {
            black_box(sigv4::sign_headers(black_box(&request), &params, &cache).expect("signs"));
        }),
        "sign_full" => Box::new(|| {
            black_box(sigv4::sign(black_box(&request), &params, &cache).expect("signs"));
        }),
        "floor" => Box::new(|| {
            let digest = Sha256::digest(black_box(&canonical));
            let mut mac = keyed.clone();
            mac.update(black_box(&string_to_sign));
            black_box((digest, mac.finalize().into_bytes()));
        }),
        other => {
            panic!("unknown {other:?}: expected handler, parse, transform, write, sign, sign_full or floor")
        }
    };
    run(); // warm the key cache
    let (allocations, bytes) = (ALLOCATIONS.with(Cell::get), BYTES.with(Cell::get));
    // Batches, so that the fastest and the median batch can be told apart from interference on a
    // shared machine.
    const BATCHES: u32 = 50;
    let per_batch = (n / BATCHES).max(1);
    let mut batches: Vec<Duration> = (0..BATCHES)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..per_batch {
                run();
            }
            start.elapsed() / per_batch
        })
        .collect();
    batches.sort();
    let calls = per_batch * BATCHES;
    let per = |total: usize, before: usize| (total - before) as f64 / f64::from(calls);
    println!(
        "{what}: {:?}/call fastest batch, {:?} median; {:.1} allocations/call, {:.0} bytes allocated/call",
        batches[0],
        batches[batches.len() / 2],
        per(ALLOCATIONS.with(Cell::get), allocations),
        per(BYTES.with(Cell::get), bytes),
    );
}
