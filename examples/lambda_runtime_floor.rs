//! The cold-start floor of the `origin-request` bootstrap: a bare lambda_runtime function that
//! returns its event, with lambda_runtime's own log set-up, on the same current-thread tokio
//! runtime, built with the same features and profile. Whatever `origin-request` spends above it is
//! the price of its own work (configuration, credentials, parsing, signing).
//!
//! `benches/cold_start.rs` builds and starts it beside `origin-request`:
//! `cargo build --release --example lambda_runtime_floor`.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::value::RawValue;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    lambda_runtime::run(service_fn(|event: LambdaEvent<Box<RawValue>>| async move {
        Ok::<_, Error>(event.payload)
    }))
    .await
}
