//! The one realistic event both benchmarks use (`hot_path` and `cold_start`): an origin-request
//! event of about 1.5 KB (six viewer headers, one `showExif`, a custom origin) as CloudFront sends
//! it, for an S3 Object Lambda access point, with a 1,000-character session token.

/// The access point's host name.
pub const HOST: &str = "myap-123456789012.s3-object-lambda.us-west-2.amazonaws.com";
/// `config.requestId`, which CloudFront sends as `X-Amz-Cf-Id`.
pub const CF_ID: &str = "4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ==";
/// The example credentials of the AWS documentation.
pub const ACCESS_KEY_ID: &str = "ASIAIOSFODNN7EXAMPLE";
/// The example secret of the AWS documentation.
pub const SECRET_ACCESS_KEY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

/// A 1,000-character session token (base64 alphabet, as STS tokens are).
pub fn session_token() -> String {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    (0..1000).map(|i| alphabet[(i * 7 + 3) % 64] as char).collect()
}

/// The event's JSON bytes.
pub fn realistic_event() -> Vec<u8> {
    let event = serde_json::json!({"Records": [{"cf": {
        "config": {"distributionDomainName": "d111111abcdef8.cloudfront.net", "distributionId": "EDFDVBD6EXAMPLE",
                   "eventType": "origin-request", "requestId": CF_ID},
        "request": {"clientIp": "203.0.113.178", "method": "GET", "uri": "/photos/2024/summer trip/IMG_0042.jpg",
            "querystring": "showExif=true",
            "headers": {
                "host": [{"key": "Host", "value": "d111111abcdef8.cloudfront.net"}],
                "user-agent": [{"key": "User-Agent", "value": "Amazon CloudFront"}],
                "via": [{"key": "Via", "value": "2.0 2afae0d44e2540f472c0635ab62c232b.cloudfront.net (CloudFront)"}],
                "x-forwarded-for": [{"key": "X-Forwarded-For", "value": "203.0.113.178"}],
                "accept": [{"key": "Accept", "value": "image/avif,image/webp,image/apng,image/*,*/*;q=0.8"}],
                "accept-encoding": [{"key": "Accept-Encoding", "value": "gzip"}]},
            "origin": {"custom": {"customHeaders": {}, "domainName": HOST, "keepaliveTimeout": 5, "path": "",
                "port": 443, "protocol": "https", "readTimeout": 30, "sslProtocols": ["TLSv1.2"]}}}}}]});
    serde_json::to_vec(&event).expect("json")
}
