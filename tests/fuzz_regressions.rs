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

/// An unknown field of a header entry holding a lone surrogate escape (`\ud800`), which JSON's
/// grammar allows and serde_json's strict parser refuses: it is copied verbatim, never
/// re-encoded, and the output parses back to the same request.
#[test]
fn a_lone_surrogate_escape_in_an_unknown_field_is_copied_verbatim() {
    let event = fs::read("tests/fuzz-regressions/header-entry-lone-surrogate.json").expect("regression file");
    assert!(String::from_utf8_lossy(&event).contains(r"\ud800"));
    let outcome = run(&event, &HandlerConfig::default(), &credentials(true), at()).expect("a valid event");
    let Outcome::Forward(request) = &outcome else {
        panic!("not forwarded: {}", outcome.to_json());
    };
    let json = outcome.to_json();
    assert!(json.contains(r"\ud800"), "{json}");
    let back: edge_signer::cloudfront::Request<'_> = serde_json::from_str(&json).expect("parses back");
    assert_eq!(&back, request.as_ref());
}
