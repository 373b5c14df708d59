//! Inputs the fuzzer (`fuzz/`, target `origin_request`) found to break a rule, kept as tests.
//! Each file in `tests/fuzz-regressions/` is an event; the handler must not panic, and a
//! forwarded request must hold every byte of the fields the handler does not own.

#[path = "support/origin.rs"]
mod support;

use edge_signer::config::HandlerConfig;
use edge_signer::origin_request::Outcome;
use std::fs;
use support::{at, credentials, run};

/// A `port` too large for any integer type, in an origin CloudFront would never send: it was
/// parsed into an `f64` and written back rounded, so the origin object changed.
#[test]
fn a_huge_number_in_an_unknown_field_comes_back_unchanged() {
    let event = fs::read("tests/fuzz-regressions/origin-port-huge-number.json").expect("regression file");
    let text = String::from_utf8_lossy(&event);
    let digits = text
        .split_once("\"port\": ")
        .map(|(_, rest)| rest.split(',').next().unwrap_or_default())
        .expect("a port");
    assert!(
        digits.len() > 200 && digits.bytes().all(|b| b.is_ascii_digit()),
        "{digits}"
    );
    let outcome = run(&event, &HandlerConfig::default(), &credentials(true), at()).expect("a valid event");
    assert!(matches!(outcome, Outcome::Forward(_)), "{}", outcome.to_json());
    assert!(
        outcome.to_json().contains(&format!("\"port\":{digits},")),
        "{}",
        outcome.to_json()
    );
}

/// Every kept input runs without a panic.
#[test]
fn every_kept_input_runs() {
    let mut count = 0;
    for entry in fs::read_dir("tests/fuzz-regressions").expect("the folder") {
        let path = entry.expect("an entry").path();
        let event = fs::read(&path).expect("readable");
        let _ = run(&event, &HandlerConfig::default(), &credentials(true), at());
        count += 1;
    }
    assert!(count >= 1);
}
