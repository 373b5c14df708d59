//! The cold-start floor of lambda_runtime: a function that returns its event, set up exactly as the
//! `origin-request` bootstrap is (the same current-thread tokio runtime, the same log set-up of
//! `edge_signer::logging`, the same `pow`), without the handler's own work (configuration, credentials,
//! parsing, signing, logging).
//!
//! `benches/cold_start.rs` starts it beside `origin-request` and `floor_runtime`: what it spends
//! above `floor_runtime` is the price of lambda_runtime, tokio and hyper, which the issue keeps;
//! what `origin-request` spends above it is ours. Build:
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

/// As in `src/bin/origin-request.rs`: keeps libm from being loaded at start.
#[unsafe(no_mangle)]
pub extern "C" fn pow(x: f64, y: f64) -> f64 {
    libm::pow(x, y)
}
