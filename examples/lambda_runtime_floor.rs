//! The cold-start floor of lambda_runtime, the Runtime API crate a Rust function would otherwise
//! use: a function that returns its event, on a current-thread tokio runtime, with the log set-up
//! of `edge_signer::logging`, and no work of its own.
//!
//! `benches/cold_start.rs` starts it beside `origin-request` and `floor_runtime`: what it spends
//! above `floor_runtime` is the price of lambda_runtime, tokio and hyper, which `origin-request`
//! no longer pays (it runs on `edge_signer::runtime_api`, a blocking client). Build:
//! `cargo build --release --example lambda_runtime_floor`.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::value::RawValue;

fn main() -> Result<(), Error> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .max_io_events_per_tick(32)
        .build()?
        .block_on(async {
            edge_signer::logging::init();
            lambda_runtime::run(service_fn(|event: LambdaEvent<Box<RawValue>>| async move {
                Ok::<_, Error>(event.payload)
            }))
            .await
        })
}

/// `pow`, defined here so that the example does not load `libm.so.6` at start (about 0.1 ms):
/// its only caller is tokio's multi-thread scheduler, which lambda_runtime links in and a
/// current-thread runtime never runs. This is musl's `pow` (the `libm` crate).
#[unsafe(no_mangle)]
pub extern "C" fn pow(x: f64, y: f64) -> f64 {
    libm::pow(x, y)
}
