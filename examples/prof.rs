use aws_credential_types::Credentials;
use edge_signer::sigv4::{
    self, SignableBody, SignableRequest, SigningKeyCache, SigningParams, SigningSettings,
};
use sha2::{Digest, Sha256};
use std::hint::black_box;
use std::time::{Duration, Instant, UNIX_EPOCH};

fn main() {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let n = 300_000u32;
    for len in [0usize, 1000] {
        let token: String = (0..len).map(|i| alphabet[(i * 7 + 3) % 64] as char).collect();
        let creds = Credentials::new(
            "ASIAIOSFODNN7EXAMPLE",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            (len > 0).then_some(token),
            None,
            "p",
        );
        let settings = SigningSettings::s3();
        let cache = SigningKeyCache::new();
        let headers = [
            (
                "host",
                "myap-123456789012.s3-object-lambda.us-west-2.amazonaws.com",
            ),
            (
                "x-amz-cf-id",
                "4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ==",
            ),
        ];
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
        let out = sigv4::sign(&request, &params, &cache).unwrap();
        let t = Instant::now();
        for _ in 0..n {
            black_box(sigv4::sign(black_box(&request), &params, &cache).unwrap());
        }
        let s = t.elapsed() / n;
        let cr = out.canonical_request.as_bytes();
        let t = Instant::now();
        for _ in 0..n {
            black_box(Sha256::digest(black_box(cr)));
        }
        let h = t.elapsed() / n;
        println!("token {len}: sign {s:?}, sha256(canonical {} B) {h:?}", cr.len());
    }
}
