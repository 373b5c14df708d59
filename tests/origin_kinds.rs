//! The origin kinds beyond S3 Object Lambda: API Gateway (`execute-api`), Lambda function URLs
//! (`lambda`) and S3 Multi-Region Access Points (SigV4A). Hostile paths, queries and bodies; every
//! forwarded request is verified as the origin would verify it, by implementations that are not
//! ours:
//! - aws-sigv4 with the service's settings (`support::verify_forwarded`: the path normalised and
//!   double-encoded, the body hashed, exactly the five headers signed; for SigV4A,
//!   `support::check_sigv4a`: the string to sign shown to be aws-sigv4's and the ECDSA signature
//!   verified with the public key of aws-sigv4's derived key);
//! - botocore's `SigV4Auth` (`tests/botocore/verify_sigv4.py`, run here with the Python that
//!   `EDGE_SIGNER_PYTHON` names, else `python3`; scripts/test provides one with botocore). Without
//!   botocore the test is skipped with a message, except under `CI=true`, where it fails.

#[path = "support/origin.rs"]
mod support;

use base64::Engine;
use edge_signer::config::HandlerConfig;
use edge_signer::origin_request::{INCLUDE_BODY, Outcome};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::process::{Command, Stdio};
use support::*;

const API: &str = "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com";
const API_CN: &str = "a1b2c3d4e5.execute-api.cn-north-1.amazonaws.com.cn";
const FUNCTION_URL: &str = "abcdefghijklmnopqrstuvwxyz012345.lambda-url.eu-west-1.on.aws";
const SERVICE_ORIGINS: [&str; 3] = [API, API_CN, FUNCTION_URL];
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Paths a viewer may send that the service origin must receive unchanged.
const HOSTILE_PATHS: &[&str] = &[
    "/prod/pets",
    "/prod/a%20b/c+d",
    "/prod/%2Fencoded%2fslash",
    "/prod/%25percent%2525",
    "/prod/!$&'()*+,;=:@~",
    "/prod//double//slashes/",
    "/prod/./dot/../up",
    "/prod/..",
    "/prod/%2e%2E/x",
    "/prod/%C3%A9t%c3%a9/%F0%9F%98%80",
    "/prod/%FF%00bytes",
    "/prod/...",
    "/",
    "/prod/a.b/.c/",
];

/// Queries, raw as CloudFront passes them.
const HOSTILE_QUERIES: &[&str] = &[
    "",
    "b=2&a=1&a=0",
    "q=a+b&q=a%2bb&q=a%20b&flag",
    "X-Amz-Credential=AKIDEXAMPLE%2F20150830&x-amz-date=1&X%2DAmz-Signature=s&keep=1",
    "%c3%a9=%7e&empty=&=novalue&&",
    "a=%zz&b=%&c=%2",
    "redirect=https://example.com/?x=1&y=[]{}|\\^`\"",
];

fn request_for(domain: &str, method: &str, uri: &str, query: &str, body: Option<Value>) -> Value {
    let mut request = base_request();
    request["origin"]["custom"]["domainName"] = json!(domain);
    request["method"] = json!(method);
    request["uri"] = json!(uri);
    request["querystring"] = json!(query);
    for (name, key, value) in [
        (
            "authorization",
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=viewer",
        ),
        ("x-amz-date", "X-Amz-Date", "20990101T000000Z"),
        ("x-amz-content-sha256", "x-amz-content-sha256", "UNSIGNED-PAYLOAD"),
        ("x-amz-security-token", "X-AMZ-SECURITY-TOKEN", "viewer-token"),
        ("x-amz-target", "X-Amz-Target", "Evil.Operation"),
        ("content-type", "Content-Type", "application/json"),
    ] {
        request["headers"][name] = json!([{"key": key, "value": value}]);
    }
    if let Some(body) = body {
        request["body"] = body;
    }
    request
}

fn base64_body(bytes: &[u8]) -> Value {
    json!({"inputTruncated": false, "action": "read-only", "encoding": "base64",
           "data": base64::engine::general_purpose::STANDARD.encode(bytes)})
}

fn text_body(text: &str) -> Value {
    json!({"inputTruncated": false, "action": "read-only", "encoding": "text", "data": text})
}

fn outcome(request: &Value, config: &HandlerConfig) -> Outcome<'static> {
    run(
        event(request.clone()).to_string().as_bytes(),
        config,
        &credentials(true),
        at(),
    )
    .unwrap_or_else(|e| panic!("{e}: {request}"))
}

/// Runs the handler; a forwarded request is verified with aws-sigv4 and returned.
fn forwarded(request: &Value) -> Value {
    let outcome = outcome(request, &HandlerConfig::default());
    let output = outcome_value(&outcome);
    assert!(matches!(outcome, Outcome::Forward(_)), "not forwarded: {output}");
    verify_forwarded(
        request,
        &output,
        &HandlerConfig::default().query_allow_list,
        REQUEST_ID,
        &credentials(true),
        at(),
    )
    .unwrap_or_else(|e| panic!("{e}\n  input: {request}\n  output: {output}"));
    output
}

/// Runs the handler, expects a generated response with `status`; returns it and the reason.
fn responded(request: &Value, status: &str) -> (Value, String) {
    match outcome(request, &HandlerConfig::default()) {
        outcome @ Outcome::Respond { .. } => {
            let value = outcome_value(&outcome);
            verify_response(&value, status).unwrap_or_else(|e| panic!("{e}: {request}"));
            let Outcome::Respond { reason, .. } = outcome else {
                unreachable!()
            };
            (value, reason)
        }
        Outcome::Forward(_) => panic!("forwarded, expected {status}: {request}"),
    }
}

fn header_value<'a>(output: &'a Value, name: &str) -> &'a str {
    single_value(&output["headers"], name).unwrap_or_else(|| panic!("no single {name}: {output}"))
}

/// Every hostile request to every service origin, as a list of (input, output) pairs.
fn hostile_exchanges() -> Vec<(Value, Value)> {
    let body: Vec<u8> = (0u8..=255).cycle().take(3000).collect();
    let mut exchanges = Vec::new();
    for domain in SERVICE_ORIGINS {
        for path in HOSTILE_PATHS {
            for query in HOSTILE_QUERIES {
                let request = request_for(domain, "GET", path, query, None);
                exchanges.push((request.clone(), forwarded(&request)));
            }
        }
        for (method, body) in [
            ("POST", base64_body(&body)),
            ("PUT", text_body("{\"name\":\"été\",\"+\":\"%20\"}")),
            ("PATCH", base64_body(b"")),
            ("DELETE", text_body("x")),
            ("GET", text_body("")),
        ] {
            let request = request_for(domain, method, "/prod/items/%E2%82%AC", "id=1&x=a+b", Some(body));
            exchanges.push((request.clone(), forwarded(&request)));
        }
    }
    exchanges
}

#[test]
fn hostile_paths_queries_and_bodies_verify_with_aws_sigv4() {
    let exchanges = hostile_exchanges();
    assert_eq!(
        exchanges.len(),
        SERVICE_ORIGINS.len() * (HOSTILE_PATHS.len() * HOSTILE_QUERIES.len() + 5)
    );
    for (input, output) in &exchanges {
        // Verified above; here, what the kinds have in common beyond the signature.
        assert_eq!(output["uri"], input["uri"], "the uri goes unchanged");
        assert_eq!(header_value(output, "x-amz-security-token"), TOKEN);
        assert!(output["headers"].get("x-amz-target").is_none(), "{output}");
        assert!(
            header_value(output, "authorization").contains(&format!(", SignedHeaders={SIGNED_WITH_TOKEN}, "))
        );
    }
}

#[test]
fn the_signature_covers_the_double_encoded_normalised_path() {
    // The same path single-encoded (as S3 verifies) gives another signature: aws-sigv4 with the
    // service's settings is what the handler matches.
    let request = request_for(API, "GET", "/prod/a%20b/./c", "", None);
    let output = forwarded(&request);
    let mut as_s3 = output.clone();
    as_s3["uri"] = json!("/prod/a%2520b/c");
    let service = aws_sign(&request, &output, REQUEST_ID, &credentials(true), at(), true).unwrap();
    let other = aws_sign(&request, &as_s3, REQUEST_ID, &credentials(true), at(), true).unwrap();
    assert_eq!(
        service.get("authorization"),
        Some(header_value(&output, "authorization"))
    );
    assert_ne!(service.get("authorization"), other.get("authorization"));
}

#[test]
fn scope_is_the_service_and_the_region_in_the_host() {
    for (domain, scope) in [
        (API, "/us-east-1/execute-api/aws4_request"),
        (API_CN, "/cn-north-1/execute-api/aws4_request"),
        (FUNCTION_URL, "/eu-west-1/lambda/aws4_request"),
    ] {
        let output = forwarded(&request_for(domain, "GET", "/", "", None));
        assert!(
            header_value(&output, "authorization")
                .contains(&format!("Credential={ACCESS_KEY}/20150830{scope}, "))
        );
        assert_eq!(header_value(&output, "host"), domain);
    }
}

#[test]
fn dot_segments_above_the_root_are_400_for_services_and_part_of_the_key_for_s3() {
    for domain in SERVICE_ORIGINS {
        for uri in [
            "/..",
            "/prod/../..",
            "/../prod/x",
            "/prod/%2E%2E/%2e%2e/y",
            "/a//../../b",
        ] {
            let (_, reason) = responded(&request_for(domain, "GET", uri, "", None), "400");
            assert!(reason.contains("climb above"), "{reason}");
        }
        for uri in [
            "/prod/a b",
            "/prod/é",
            "/prod/100%",
            "/prod/%zz",
            "prod",
            "/prod/a\"b",
        ] {
            let (_, reason) = responded(&request_for(domain, "GET", uri, "", None), "400");
            assert!(
                reason.contains("percent-encoded") || reason.contains("start with"),
                "{reason}"
            );
        }
    }
    // With an origin path (the stage), the viewer's `..` may not leave it either.
    let mut request = request_for(API, "GET", "/../other-stage/x", "", None);
    request["origin"]["custom"]["path"] = json!("/prod");
    responded(&request, "400");
    let mut request = request_for(API, "GET", "/a/../x", "", None);
    request["origin"]["custom"]["path"] = json!("/prod");
    let output = forwarded(&request);
    assert_eq!(output["uri"], json!("/a/../x"));
    // S3: `..` is part of the key, signed as it is.
    let output = forwarded(&request_for(DOMAIN, "GET", "/../../k", "", None));
    assert_eq!(output["uri"], json!("/../../k"));
}

#[test]
fn bodies_are_hashed_and_bodiless_requests_sign_the_empty_hash() {
    for domain in SERVICE_ORIGINS {
        for method in ["GET", "HEAD", "DELETE", "OPTIONS"] {
            let output = forwarded(&request_for(domain, method, "/prod/x", "", None));
            assert_eq!(header_value(&output, "x-amz-content-sha256"), EMPTY_SHA256);
        }
        let bytes: Vec<u8> = (0..65_536u32).map(|i| (i * 7 % 251) as u8).collect();
        let output = forwarded(&request_for(
            domain,
            "POST",
            "/prod/x",
            "",
            Some(base64_body(&bytes)),
        ));
        assert_eq!(
            header_value(&output, "x-amz-content-sha256"),
            hex::encode(Sha256::digest(&bytes))
        );
    }
    // S3 kinds keep UNSIGNED-PAYLOAD without a body.
    let output = forwarded(&request_for(DOMAIN, "DELETE", "/k", "", None));
    assert_eq!(header_value(&output, "x-amz-content-sha256"), "UNSIGNED-PAYLOAD");
}

#[test]
fn a_body_the_function_cannot_see_is_502_saying_to_include_it() {
    for domain in SERVICE_ORIGINS.iter().chain([&DOMAIN]) {
        for method in ["POST", "PUT", "PATCH"] {
            let (response, reason) = responded(&request_for(domain, method, "/prod/x", "", None), "502");
            assert!(
                response["body"].as_str().unwrap().contains(INCLUDE_BODY),
                "{response}"
            );
            assert!(
                reason.contains("include body") && reason.contains(method),
                "{reason}"
            );
        }
    }
}

#[test]
fn a_truncated_body_is_413_for_every_kind() {
    for domain in SERVICE_ORIGINS.iter().chain([&DOMAIN]) {
        let mut body = base64_body(b"abc");
        body["inputTruncated"] = json!(true);
        responded(&request_for(domain, "POST", "/prod/x", "", Some(body)), "413");
    }
}

#[test]
fn the_whole_query_is_kept_canonical_in_the_viewers_order_without_x_amz_parameters() {
    let output = forwarded(&request_for(
        FUNCTION_URL,
        "GET",
        "/",
        "b=2&X-Amz-Expires=60&q=a+b&a=%7e&x-amz-security-token=t&X%2Damz-Algorithm=1&showExif=1",
        None,
    ));
    assert_eq!(output["querystring"], json!("b=2&q=a%20b&a=~&showExif=1"));
    // Repeated names are a list whose order the service reads.
    let output = forwarded(&request_for(API, "GET", "/prod/x", "id=2&id=1", None));
    assert_eq!(output["querystring"], json!("id=2&id=1"));
    // S3 kinds keep the allow-list.
    let output = forwarded(&request_for(DOMAIN, "GET", "/k", "acl=&uploads&showExif=1", None));
    assert_eq!(output["querystring"], json!("showExif=1"));
}

#[test]
fn a_kind_with_its_own_allow_list_keeps_only_that() {
    let config = HandlerConfig::from_json(
        br#"{"extraOrigins": [{"service": "execute-api", "hostLabel": "execute-api",
             "suffixes": ["amazonaws.com"], "signing": "default", "queryAllowList": ["page", "X-Amz-Date"]}]}"#,
    )
    .unwrap();
    let request = request_for(API, "GET", "/prod/x", "page=2&debug=1&X-Amz-Date=1&page=1", None);
    let outcome = outcome(&request, &config);
    let output = outcome_value(&outcome);
    assert_eq!(output["querystring"], json!("page=1&page=2"));
    // It verifies as a request with that query.
    let expected = aws_sign(&request, &output, REQUEST_ID, &credentials(true), at(), true).unwrap();
    assert_eq!(
        expected.get("authorization"),
        Some(header_value(&output, "authorization"))
    );
}

// ---------------------------------------------------------------------------------------------
// botocore
// ---------------------------------------------------------------------------------------------

fn python() -> String {
    std::env::var("EDGE_SIGNER_PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

/// Whether `python()` can import botocore; outside CI a missing one skips, under `CI=true` fails.
fn botocore_available() -> bool {
    let available = Command::new(python())
        .args(["-c", "import botocore"])
        .output()
        .is_ok_and(|out| out.status.success());
    let in_ci = std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1");
    assert!(
        available || !in_ci,
        "CI=true, and {} cannot import botocore: run scripts/test, which installs it into target/botocore-venv",
        python()
    );
    if !available {
        eprintln!(
            "skipped: {} cannot import botocore (outside CI only; scripts/test installs it)",
            python()
        );
    }
    available
}

/// The case botocore checks for one forwarded request (`expect`: "valid" or "invalid").
fn botocore_case(label: String, input: &Value, output: &Value, expect: &str) -> Value {
    let host = header_value(output, "host");
    let (region, service, _) = scope_of(host).expect("a service origin");
    let query = output["querystring"].as_str().unwrap();
    let url = format!(
        "https://{host}{}{}{}",
        output["origin"]["custom"]["path"].as_str().unwrap_or_default(),
        output["uri"].as_str().unwrap(),
        if query.is_empty() {
            String::new()
        } else {
            format!("?{query}")
        }
    );
    let mut headers = vec![json!(["host", host]), json!(["x-amz-cf-id", REQUEST_ID])];
    for name in ["x-amz-content-sha256", "x-amz-date", "x-amz-security-token"] {
        headers.push(json!([name, header_value(output, name)]));
    }
    json!({
        "label": label,
        "expect": expect,
        "service": service,
        "region": region,
        "method": output["method"],
        "url": url,
        "headers": headers,
        "body_base64": base64::engine::general_purpose::STANDARD.encode(body_bytes(input).unwrap_or_default()),
        "authorization": header_value(output, "authorization"),
        "access_key": ACCESS_KEY,
        "secret_key": SECRET,
        "token": TOKEN,
    })
}

#[test]
fn hostile_requests_verify_with_botocore() {
    if !botocore_available() {
        return;
    }
    let exchanges = hostile_exchanges();
    let mut cases: Vec<Value> = exchanges
        .iter()
        .enumerate()
        .map(|(i, (input, output))| botocore_case(format!("{i}: {}", input["uri"]), input, output, "valid"))
        .collect();
    // Controls: botocore must reject a changed path, query, body and clock.
    let (input, output) = exchanges
        .iter()
        .find(|(input, _)| input["body"].is_object() && input["method"] == json!("POST"))
        .unwrap();
    for (label, mutate) in [
        (
            "path",
            (|o: &mut Value| o["uri"] = json!("/prod/items/other")) as fn(&mut Value),
        ),
        ("query", |o| o["querystring"] = json!("id=2&x=a%20b")),
        ("method", |o| o["method"] = json!("PUT")),
        ("date", |o| {
            o["headers"]["x-amz-date"][0]["value"] = json!("20150830T123601Z")
        }),
    ] {
        let mut tampered = output.clone();
        mutate(&mut tampered);
        cases.push(botocore_case(
            format!("tampered {label}"),
            input,
            &tampered,
            "invalid",
        ));
    }
    let mut other_body = input.clone();
    other_body["body"] = base64_body(b"another body");
    cases.push(botocore_case(
        "tampered body".into(),
        &other_body,
        output,
        "invalid",
    ));

    let mut child = Command::new(python())
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/botocore/verify_sigv4.py"
        ))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run python");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(&cases).unwrap().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "botocore disagrees: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(summary["verified"], json!(exchanges.len()), "{summary}");
    assert_eq!(summary["rejected"], json!(5), "{summary}");
}

// ---------------------------------------------------------------------------------------------
// S3 Multi-Region Access Points (SigV4A)
// ---------------------------------------------------------------------------------------------

const MRAP: &str = "mfzwi23gnjvgw.mrap.accesspoint.s3-global.amazonaws.com";

#[test]
fn mrap_requests_verify_with_aws_sigv4s_key_and_string_to_sign() {
    let body: Vec<u8> = (0u8..=255).cycle().take(5000).collect();
    let mut n = 0;
    // Every hostile path but the one S3 refuses (`%FF%00` is not UTF-8, a generated 400).
    let paths = HOSTILE_PATHS.iter().filter(|p| !p.contains("%FF"));
    for path in paths.chain(&["/a+b/c d/%41%2f", "/../../k", "/é"]) {
        for query in HOSTILE_QUERIES {
            let output = forwarded(&request_for(MRAP, "GET", path, query, None));
            assert_eq!(header_value(&output, "x-amz-content-sha256"), "UNSIGNED-PAYLOAD");
            assert_eq!(header_value(&output, "x-amz-region-set"), "*");
            assert!(header_value(&output, "authorization").starts_with(&format!(
                "AWS4-ECDSA-P256-SHA256 Credential={ACCESS_KEY}/20150830/s3/aws4_request, SignedHeaders={SIGNED_V4A_WITH_TOKEN}, "
            )));
            n += 1;
        }
    }
    for (method, body) in [
        ("PUT", base64_body(&body)),
        ("POST", text_body("été")),
        ("GET", text_body("")),
    ] {
        let output = forwarded(&request_for(MRAP, method, "/k", "", Some(body)));
        assert_ne!(header_value(&output, "x-amz-content-sha256"), "UNSIGNED-PAYLOAD");
        n += 1;
    }
    assert_eq!(n, (HOSTILE_PATHS.len() + 2) * HOSTILE_QUERIES.len() + 3);
    // The S3 rules: the allow-list, the key in S3 canonical form, `..` part of the key.
    let output = forwarded(&request_for(
        MRAP,
        "GET",
        "/a b/../k",
        "acl&showExif=1&X-Amz-Date=1",
        None,
    ));
    assert_eq!(
        (output["uri"].as_str(), output["querystring"].as_str()),
        (Some("/a%20b/../k"), Some("showExif=1"))
    );
    responded(&request_for(MRAP, "PUT", "/k", "", None), "502");
}

#[test]
fn the_sigv4a_check_rejects_a_changed_request() {
    let request = request_for(MRAP, "GET", "/k", "showExif=1", None);
    let output = forwarded(&request);
    for mutate in [
        (|o: &mut Value| o["uri"] = json!("/other")) as fn(&mut Value),
        |o| o["querystring"] = json!("showExif=2"),
        |o| o["method"] = json!("HEAD"),
        |o| o["headers"]["x-amz-date"][0]["value"] = json!("20150830T123601Z"),
    ] {
        let mut tampered = output.clone();
        mutate(&mut tampered);
        let aws = aws_sign(&request, &tampered, REQUEST_ID, &credentials(true), at(), true).unwrap();
        assert!(
            check_sigv4a(&request, &tampered, REQUEST_ID, &credentials(true), &aws).is_err(),
            "{tampered}"
        );
    }
    let other_id = aws_sign(
        &request,
        &output,
        "another-request-id",
        &credentials(true),
        at(),
        true,
    )
    .unwrap();
    assert!(
        check_sigv4a(
            &request,
            &output,
            "another-request-id",
            &credentials(true),
            &other_id
        )
        .is_err()
    );
}
