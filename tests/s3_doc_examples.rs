//! The worked SigV4 examples of the Amazon S3 API Reference, signed with `SigningSettings::s3()`.
//!
//! Data: `vectors/s3-doc-examples.json` (attribution in `vectors/S3-DOC-EXAMPLES.md`). All five
//! `examples` are checked: canonical URI, canonical request, string to sign, signature, and what
//! signing adds (the `Authorization` header, or the presigned URL). `common.derived_signing_key_hex`
//! is checked against `key::signing_key`.
//!
//! `streaming_examples` (aws-chunked uploads): only the *seed* signature is in our signer's scope.
//! It is an ordinary header signature whose payload hash is the literal
//! `STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]`, given as `SignableBody::Precomputed`, and it is
//! checked. The chunk and trailer signatures (`AWS4-HMAC-SHA256-PAYLOAD` / `-TRAILER` strings to
//! sign chained from the seed) are chunked streaming signing, which this project does not do: they
//! are out of scope and not checked.
//!
//! `do_not_use`: an illustrative signature from an S3 overview page that the data's authors could
//! not reproduce from the documented inputs. It is not used as an expectation; the test only checks
//! that no example expects it.

use aws_credential_types::Credentials;
use edge_signer::sigv4::{
    SignableBody, SignableRequest, SigningKeyCache, SigningOutput, SigningParams, SigningSettings, key,
    s3_canonical_path, sign, uri_encode,
};
use serde_json::Value;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use time::PrimitiveDateTime;
use time::macros::format_description;

fn data() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/vectors/s3-doc-examples.json");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).expect("valid JSON")
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} is not a string in {v}"))
}

fn pairs(v: &Value, key: &str) -> Vec<(String, String)> {
    v[key]
        .as_array()
        .unwrap_or_else(|| panic!("{key} is not an array"))
        .iter()
        .map(|pair| {
            let part = |i: usize| pair[i].as_str().expect("a pair of strings").to_owned();
            (part(0), part(1))
        })
        .collect()
}

/// `20130524T000000Z` as a time.
fn amz_time(value: &str) -> SystemTime {
    let format = format_description!("[year][month][day]T[hour][minute][second]Z");
    let utc = PrimitiveDateTime::parse(value, format)
        .unwrap_or_else(|e| panic!("{value}: {e}"))
        .assume_utc();
    UNIX_EPOCH + Duration::from_secs(u64::try_from(utc.unix_timestamp()).unwrap())
}

/// Signs `case` (an entry of `examples` or `streaming_examples`) with S3 settings.
fn sign_case<'a>(
    case: &'a Value,
    credentials: &'a Credentials,
    settings: &'a SigningSettings,
    query: &str,
    headers: &[(String, String)],
    body: SignableBody<'_>,
) -> SigningOutput<'a> {
    let name = text(case, "name");
    let path = s3_canonical_path(text(case, "path")).unwrap_or_else(|e| panic!("{name}: {e}"));
    let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let request = SignableRequest {
        method: text(case, "method"),
        path: &path,
        query,
        headers: &headers,
        body,
    };
    let params = SigningParams {
        credentials,
        region: text(case, "region"),
        service: text(case, "service"),
        time: amz_time(text(case, "date")),
        settings,
    };
    sign(&request, &params, &SigningKeyCache::new()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn credentials(case: &Value) -> Credentials {
    Credentials::new(
        text(case, "access_key"),
        text(case, "secret_key"),
        None,
        None,
        "s3-doc-examples",
    )
}

fn header<'a>(out: &'a SigningOutput<'_>, name: &str) -> &'a str {
    out.headers()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("no {name} header added"))
}

#[test]
fn every_documented_example_signs_as_published() {
    let data = data();
    let examples = data["examples"].as_array().expect("examples");
    assert_eq!(examples.len(), 5, "the file has five examples");
    for case in examples {
        let name = text(case, "name");
        assert_eq!(
            s3_canonical_path(text(case, "path")).unwrap(),
            text(case, "canonical_uri"),
            "{name}: canonical URI"
        );
        let credentials = credentials(case);
        let headers = pairs(case, "headers");
        let payload_hash = text(case, "payload_hash");

        let (settings, query, bodies) = match text(case, "signature_location") {
            "header" => {
                // The raw query as sent: `?lifecycle`, `?max-keys=2&prefix=J`.
                let query = pairs(case, "query")
                    .iter()
                    .map(|(k, v)| {
                        if v.is_empty() {
                            uri_encode(k.as_bytes()).into_owned()
                        } else {
                            format!("{}={}", uri_encode(k.as_bytes()), uri_encode(v.as_bytes()))
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("&");
                let payload = text(case, "payload");
                (
                    SigningSettings::s3().keeping_texts(),
                    query,
                    vec![
                        SignableBody::Bytes(payload.as_bytes()),
                        SignableBody::Precomputed(payload_hash),
                    ],
                )
            }
            "query" => {
                assert!(case["payload"].is_null(), "{name}: a presigned GET has no body");
                assert_eq!(payload_hash, "UNSIGNED-PAYLOAD");
                assert_eq!(headers.len(), 1, "{name}: only Host");
                assert!(headers[0].0.eq_ignore_ascii_case("host"));
                let expires = case["expires_in_seconds"].as_u64().expect("expires_in_seconds");
                (
                    SigningSettings::s3()
                        .presigned(Duration::from_secs(expires))
                        .keeping_texts(),
                    // The X-Amz-* parameters in `query` are what signing adds.
                    String::new(),
                    vec![
                        SignableBody::UnsignedPayload,
                        SignableBody::Precomputed(payload_hash),
                    ],
                )
            }
            other => panic!("{name}: unknown signature_location {other}"),
        };

        for body in bodies {
            let out = sign_case(case, &credentials, &settings, &query, &headers, body);
            if let Some(expected) = case["expected_canonical_request"].as_str() {
                assert_eq!(
                    out.canonical_request(),
                    Some(expected),
                    "{name} ({body:?}): canonical request"
                );
            }
            assert_eq!(
                out.string_to_sign(),
                Some(text(case, "expected_string_to_sign")),
                "{name} ({body:?}): string to sign"
            );
            assert_eq!(
                out.signature(),
                text(case, "expected_signature"),
                "{name} ({body:?}): signature"
            );

            if text(case, "signature_location") == "query" {
                // Presigned: the parameters added, in order, then the URL as published.
                let mut added: Vec<(&str, &str)> = out.query_params().collect();
                assert_eq!(
                    added.pop(),
                    Some(("X-Amz-Signature", text(case, "expected_signature")))
                );
                let expected = pairs(case, "query");
                let expected: Vec<(&str, &str)> =
                    expected.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
                assert_eq!(added, expected, "{name}: query parameters");
                assert_eq!(out.headers().count(), 0);
                let url = format!(
                    "https://{}{}?{}",
                    text(case, "host"),
                    text(case, "canonical_uri"),
                    out.encoded_query()
                );
                assert_eq!(url, text(case, "expected_url"), "{name}: presigned URL");
            } else {
                // Header mode: the date and checksum headers given in the input are replaced with
                // the signer's own values, which are the documented ones.
                assert_eq!(header(&out, "x-amz-date"), text(case, "date"), "{name}");
                assert_eq!(header(&out, "x-amz-content-sha256"), payload_hash, "{name}");
                // The docs print `,` where SDKs (and we) write `, ` before SignedHeaders= and
                // Signature= (see common.authorization_format_note).
                assert_eq!(
                    header(&out, "authorization").replace(", ", ","),
                    text(case, "expected_authorization"),
                    "{name}: Authorization"
                );
                assert!(
                    header(&out, "authorization")
                        .contains(&format!("SignedHeaders={},", text(case, "signed_headers")))
                );
                assert_eq!(out.query_params().count(), 0);
            }
        }

        if text(case, "signature_location") == "header" {
            // Without x-amz-date and x-amz-content-sha256 in the input, the signer adds the same.
            let managed = ["x-amz-date", "x-amz-content-sha256"];
            let fewer: Vec<(String, String)> = headers
                .iter()
                .filter(|(n, _)| !managed.iter().any(|m| n.eq_ignore_ascii_case(m)))
                .cloned()
                .collect();
            assert!(fewer.len() < headers.len());
            let out = sign_case(
                case,
                &credentials,
                &settings,
                &query,
                &fewer,
                SignableBody::Precomputed(payload_hash),
            );
            assert_eq!(
                out.signature(),
                text(case, "expected_signature"),
                "{name}: without x-amz-*"
            );
        }
    }
}

#[test]
fn derived_signing_key_matches() {
    let data = data();
    let common = &data["common"];
    let key = key::signing_key(
        text(common, "secret_key"),
        text(common, "date_stamp"),
        text(common, "region"),
        text(common, "service"),
    );
    assert_eq!(hex::encode(key), text(common, "derived_signing_key_hex"));
    assert_eq!(
        text(common, "credential_scope"),
        format!(
            "{}/{}/{}/aws4_request",
            text(common, "date_stamp"),
            text(common, "region"),
            text(common, "service")
        )
    );
    // Every example uses the common credentials and scope, so the key above is theirs.
    for case in data["examples"].as_array().unwrap() {
        for field in ["access_key", "secret_key", "region", "service", "date"] {
            assert_eq!(case[field], common[field], "{}: {field}", text(case, "name"));
        }
    }
}

/// Only the seed signature of an aws-chunked upload is in scope (see the module doc).
#[test]
fn streaming_examples_seed_signature() {
    let data = data();
    let streaming = data["streaming_examples"].as_array().expect("streaming_examples");
    assert!(!streaming.is_empty());
    for case in streaming {
        let name = text(case, "name");
        let payload_hash = text(case, "payload_hash");
        assert!(payload_hash.starts_with("STREAMING-AWS4-HMAC-SHA256-PAYLOAD"));
        let credentials = credentials(case);
        let settings = SigningSettings::s3().keeping_texts();
        let out = sign_case(
            case,
            &credentials,
            &settings,
            "",
            &pairs(case, "headers"),
            SignableBody::Precomputed(payload_hash),
        );
        assert_eq!(
            out.canonical_request(),
            Some(text(case, "expected_seed_canonical_request")),
            "{name}: seed canonical request"
        );
        assert_eq!(
            out.string_to_sign(),
            Some(text(case, "expected_seed_string_to_sign")),
            "{name}: seed string to sign"
        );
        assert_eq!(
            out.signature(),
            text(case, "expected_seed_signature"),
            "{name}: seed signature"
        );
        assert_eq!(header(&out, "x-amz-content-sha256"), payload_hash);
        // case["chunks"] and case["trailer"]: chunk signing is out of scope.
    }
}

#[test]
fn do_not_use_value_is_not_an_expectation() {
    let data = data();
    let bad = text(&data["do_not_use"], "value");
    assert_eq!(bad.len(), 64);
    for case in data["examples"].as_array().unwrap() {
        assert_ne!(text(case, "expected_signature"), bad, "{}", text(case, "name"));
    }
    for case in data["streaming_examples"].as_array().unwrap() {
        assert_ne!(
            text(case, "expected_seed_signature"),
            bad,
            "{}",
            text(case, "name")
        );
    }
}
