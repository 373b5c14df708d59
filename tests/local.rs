//! End to end through `edge-signer local`, started as a user starts it: images come back
//! stripped (checked by exiftool), `showExif=true` gives the JSON, other parameters change nothing,
//! a text object is untouched, a missing key is 404, HEAD works; and requests sent straight to the
//! access point are refused with 403 unless our signer signed them exactly.
#![cfg(feature = "local")]

#[path = "support/exiftool.rs"]
mod exiftool;

use aws_credential_types::Credentials;
use edge_signer::local::http::{Message, send};
use edge_signer::origin_request::{Context, Outcome, handle_json};
use edge_signer::sigv4::{SigV4aKeyCache, SigningKeyCache};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime};

const JPEG: &[u8] = include_bytes!("../samples/images/sample.jpg");
const TEXT: &[u8] = include_bytes!("../samples/images/readme.txt");
const ACCESS_KEY: &str = "AKIDLOCALTEST";
const SECRET_KEY: &str = "local/test/secret/key/EXAMPLEKEY";
const REGION: &str = "eu-west-1";

/// An `edge-signer local` of its own for each test (it starts in milliseconds), killed when the
/// test ends.
struct Chain {
    cloudfront: SocketAddr,
    access_point: SocketAddr,
    _child: ChildGuard,
}

struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn chain() -> Chain {
    chain_over(None)
}

/// A chain over `store` (default: the shipped samples).
fn chain_over(store: Option<&std::path::Path>) -> Chain {
    {
        let mut command = Command::new(env!("CARGO_BIN_EXE_edge-signer"));
        command.args(["local", "--port", "0", "--region", REGION]);
        if let Some(store) = store {
            command.arg("--store").arg(store);
        }
        let mut child = command
            .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
            .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
            .env_remove("AWS_SESSION_TOKEN")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("edge-signer starts");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout is piped")).lines();
        let mut next = |prefix: &str| -> SocketAddr {
            let line = lines.next().expect("a line").expect("utf-8");
            let addr = line
                .strip_prefix(prefix)
                .and_then(|rest| rest.strip_prefix("http://"))
                .unwrap_or_else(|| panic!("expected {prefix:?}, got {line:?}"));
            assert!(addr.starts_with("127.0.0.1:"), "{line}");
            addr.parse().expect("an address")
        };
        let cloudfront = next("cloudfront: ");
        let access_point = next("access-point: ");
        Chain {
            cloudfront,
            access_point,
            _child: ChildGuard(child),
        }
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

fn request(method: &str, target: &str, headers: &[(&str, &str)]) -> Message {
    Message {
        method: method.into(),
        target: target.into(),
        headers: headers.iter().map(|(n, v)| ((*n).into(), (*v).into())).collect(),
        ..Message::default()
    }
}

fn call(addr: SocketAddr, message: &Message) -> Message {
    runtime()
        .block_on(send(addr, message))
        .expect("the server answers")
}

fn get(chain: &Chain, target: &str) -> Message {
    call(
        chain.cloudfront,
        &request("GET", target, &[("host", "localhost")]),
    )
}

fn assert_ok(response: &Message) {
    assert_eq!(
        response.status,
        200,
        "{}",
        String::from_utf8_lossy(&response.body)
    );
}

#[test]
fn an_image_comes_back_stripped_of_identifying_metadata() {
    let chain = chain();
    let response = get(&chain, "/sample.jpg");
    assert_ok(&response);
    assert_eq!(response.header("content-type"), Some("image/jpeg"));
    assert_ne!(response.body, JPEG);
    let before = exiftool::read(JPEG);
    assert!(
        !exiftool::identifying(&before).is_empty(),
        "the sample has metadata to strip"
    );
    let after = exiftool::read(&response.body);
    assert_eq!(exiftool::identifying(&after), Vec::<String>::new());
    assert!(
        after.keys().any(|k| k.starts_with("ICC_Profile:")),
        "the ICC profile is kept"
    );
    assert_eq!(after.get("IFD0:Orientation"), before.get("IFD0:Orientation"));
}

#[test]
fn show_exif_gives_the_exif_as_json() {
    let chain = chain();
    let response = get(&chain, "/sample.jpg?showExif=true");
    assert_ok(&response);
    assert_eq!(response.header("content-type"), Some("application/json"));
    let json: serde_json::Value = serde_json::from_slice(&response.body).expect("JSON");
    let tags = exiftool::read(JPEG);
    assert_eq!(json["image"]["Make"], tags["IFD0:Make"]);
    assert!(json["gps"]["GPSLatitude"].is_array(), "{json}");
}

#[test]
fn other_query_parameters_change_nothing() {
    let chain = chain();
    let plain = get(&chain, "/sample.jpg");
    assert_eq!(plain.header("x-cache"), Some("Miss from cloudfront"));
    let noisy = get(&chain, "/sample.jpg?utm_source=mail&w=100&showExifs=true");
    assert_eq!(noisy.status, 200);
    assert_eq!(noisy.body, plain.body);
    assert_eq!(noisy.header("x-cache"), Some("Hit from cloudfront"));

    let json = get(&chain, "/sample.jpg?showExif=true");
    let noisy_json = get(&chain, "/sample.jpg?a=1&showExif=true&b=2");
    assert_eq!(noisy_json.body, json.body);
}

#[test]
fn a_text_object_is_untouched() {
    let response = get(&chain(), "/readme.txt");
    assert_ok(&response);
    assert_eq!(response.body, TEXT);
}

#[test]
fn a_missing_key_is_404() {
    let response = get(&chain(), "/no/such/key.jpg");
    assert_eq!(
        response.status,
        404,
        "{}",
        String::from_utf8_lossy(&response.body)
    );
    assert!(String::from_utf8_lossy(&response.body).contains("<Code>NoSuchKey</Code>"));
}

#[test]
fn head_answers_with_the_length_and_no_body() {
    let chain = chain();
    let head = call(
        chain.cloudfront,
        &request("HEAD", "/sample.jpg", &[("host", "localhost")]),
    );
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert_eq!(head.header("x-cache"), Some("Miss from cloudfront"));
    let get = get(&chain, "/sample.jpg");
    assert_eq!(
        head.header("content-length"),
        Some(get.body.len().to_string().as_str())
    );
}

#[test]
fn other_methods_are_refused_by_the_front() {
    let response = call(
        chain().cloudfront,
        &request("DELETE", "/sample.jpg", &[("host", "localhost")]),
    );
    assert_eq!(response.status, 403);
}

#[test]
fn keys_with_any_characters_reach_the_object() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let names = [
        "a+b (1).txt",
        "it's @home, $5 = ok!*.txt",
        "caf\u{e9} \u{1f4f7}.txt",
        "semi;colon&amp.txt",
        "tilde~%41.txt",
    ];
    std::fs::create_dir(dir.path().join("sub dir")).expect("a subdirectory");
    for name in names {
        std::fs::write(dir.path().join("sub dir").join(name), name).expect("a file");
    }
    let chain = chain_over(Some(dir.path()));
    for name in names {
        // As a browser sends it: every byte outside the unreserved set escaped, `/` kept.
        let path: String = format!("/sub dir/{name}")
            .bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                    char::from(b).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect();
        let response = get(&chain, &path);
        assert_eq!(
            response.status,
            200,
            "{name:?}: {}",
            String::from_utf8_lossy(&response.body)
        );
        assert_eq!(response.body, name.as_bytes(), "{name:?}");
    }
}

/// A request as our origin-request handler signs it for the chain's access point, with the
/// `X-Amz-Cf-Id` CloudFront adds.
fn signed(uri: &str, request_id: &str) -> Message {
    signed_at(uri, request_id, SystemTime::now())
}

fn signed_at(uri: &str, request_id: &str, now: SystemTime) -> Message {
    let domain = format!("local-olap-123456789012.s3-object-lambda.{REGION}.amazonaws.com");
    let event = serde_json::json!({ "Records": [{ "cf": {
        "config": { "distributionDomainName": "d1.cloudfront.net", "distributionId": "E1",
                    "eventType": "origin-request", "requestId": request_id },
        "request": { "clientIp": "127.0.0.1", "method": "GET", "uri": uri, "querystring": "",
            "headers": { "host": [{ "key": "Host", "value": domain }] },
            "origin": { "custom": { "customHeaders": {}, "domainName": domain, "keepaliveTimeout": 5,
                "path": "", "port": 443, "protocol": "https", "readTimeout": 30, "sslProtocols": ["TLSv1.2"] } } }
    }}]})
    .to_string();
    let credentials = Credentials::new(ACCESS_KEY, SECRET_KEY, None, None, "test");
    let keys = SigningKeyCache::new();
    let v4a_keys = SigV4aKeyCache::new();
    let config = Default::default();
    let context = Context {
        credentials: &credentials,
        now,
        config: &config,
        keys: &keys,
        v4a_keys: &v4a_keys,
    };
    let outcome = handle_json(event.as_bytes(), &context).expect("a valid event");
    assert!(matches!(outcome, Outcome::Forward(_)));
    let out: serde_json::Value = serde_json::from_str(&outcome.to_json()).expect("JSON");
    let mut headers: Vec<(String, String)> = out["headers"]
        .as_object()
        .expect("headers")
        .iter()
        .map(|(n, v)| (n.clone(), v[0]["value"].as_str().expect("a value").to_owned()))
        .collect();
    headers.push(("x-amz-cf-id".into(), request_id.into()));
    Message {
        method: "GET".into(),
        target: out["uri"].as_str().expect("uri").to_owned(),
        headers,
        ..Message::default()
    }
}

fn error_code(response: &Message) -> String {
    let body = String::from_utf8_lossy(&response.body);
    body.split("<Code>")
        .nth(1)
        .and_then(|rest| rest.split("</Code>").next())
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn the_access_point_accepts_exactly_what_our_signer_signed() {
    let chain = chain();
    let ap = chain.access_point;
    let good = signed("/readme.txt", "cf-id-1");
    let response = call(ap, &good);
    assert_ok(&response);
    assert_eq!(response.body, TEXT);
}

#[test]
fn an_unsigned_request_to_the_access_point_is_403() {
    let chain = chain();
    let ap = chain.access_point;
    let response = call(ap, &request("GET", "/sample.jpg", &[("host", "localhost")]));
    assert_eq!(response.status, 403);
    assert_eq!(error_code(&response), "AccessDenied");
}

#[test]
fn a_tampered_request_to_the_access_point_is_403() {
    let chain = chain();
    let ap = chain.access_point;
    let refused = |message: &Message| {
        let response = call(ap, message);
        assert_eq!(
            response.status,
            403,
            "{}",
            String::from_utf8_lossy(&response.body)
        );
        error_code(&response)
    };

    let mut other_key = signed("/readme.txt", "cf-id-2");
    other_key.target = "/sample.jpg".into();
    assert_eq!(refused(&other_key), "SignatureDoesNotMatch");

    let mut other_cf_id = signed("/readme.txt", "cf-id-3");
    for (name, value) in &mut other_cf_id.headers {
        if name == "x-amz-cf-id" {
            *value = "another-request".into();
        }
    }
    assert_eq!(refused(&other_cf_id), "SignatureDoesNotMatch");

    let mut without_cf_id = signed("/readme.txt", "cf-id-4");
    without_cf_id.headers.retain(|(n, _)| n != "x-amz-cf-id");
    assert_eq!(refused(&without_cf_id), "SignatureDoesNotMatch");

    let mut extra_header = signed("/readme.txt", "cf-id-5");
    extra_header
        .headers
        .push(("x-amz-meta-note".into(), "unsigned".into()));
    assert_eq!(refused(&extra_header), "AccessDenied");

    let stale = signed_at(
        "/readme.txt",
        "cf-id-7",
        SystemTime::now() - Duration::from_secs(16 * 60),
    );
    assert_eq!(refused(&stale), "RequestTimeTooSkewed");

    let mut other_query = signed("/readme.txt", "cf-id-6");
    other_query.target.push_str("?showExif=true");
    assert_eq!(refused(&other_query), "SignatureDoesNotMatch");
}
