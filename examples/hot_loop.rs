//! A profiling loop over the hot-path bench's work, for tools that want one process doing one thing
//! (`perf record`, `valgrind --tool=cachegrind`/`callgrind`), and an allocation count per call.
//!
//! ```sh
//! cargo build --profile bench --example hot_loop
//! target/release/examples/hot_loop sign 1000000     # time and allocations per call
//! valgrind --tool=callgrind target/release/examples/hot_loop sign 10000
//! ```
//!
//! `WHAT` is `sign` (our signer as the handler calls it, cached key), `floor` (SHA-256 of the
//! canonical request + one HMAC, with sha2 and hmac), `floor_rekeyed` (the same, keying the HMAC
//! each time) or `aws_sigv4` (aws-sigv4's `sign()` on the same request): see
//! `benches/support/signing.rs`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::hint::black_box;
use std::time::{Duration, Instant};

#[path = "../benches/support/event.rs"]
#[allow(dead_code)] // shared with cold_start, which also sends the event
mod event;
#[path = "../benches/support/signing.rs"]
mod signing;

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
    let what = args.next().unwrap_or_else(|| "sign".into());
    let n: u32 = args.next().and_then(|n| n.parse().ok()).unwrap_or(100_000);

    let workloads = signing::Workloads::new();
    let mut run: Box<dyn FnMut()> = match what.as_str() {
        "sign" => Box::new(|| {
            black_box(black_box(&workloads).sign());
        }),
        "floor" => Box::new(|| {
            black_box(black_box(&workloads).floor());
        }),
        "floor_rekeyed" => Box::new(|| {
            black_box(black_box(&workloads).floor_rekeyed());
        }),
        "aws_sigv4" => Box::new(|| {
            black_box(black_box(&workloads).aws_sigv4());
        }),
        other => panic!("unknown {other:?}: expected sign, floor, floor_rekeyed or aws_sigv4"),
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
