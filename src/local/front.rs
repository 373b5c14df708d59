//! The CloudFront-like front: for each viewer request it builds the origin-request event CloudFront
//! would, runs our origin-request handler on it (the same `origin_request::Handler` as Lambda@Edge), and sends
//! what the handler returned to the access point — connecting to the emulator while naming the
//! origin's host, and adding `X-Amz-Cf-Id` on the way as CloudFront does. Responses are cached by
//! path and `showExif`, as the distribution's cache policy does.

use super::http::{Message, send};
use crate::config::HandlerConfig;
use crate::origin_request::Handler;
use aws_credential_types::Credentials;
use base64::Engine;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

/// The distribution's domain in the events.
pub const DISTRIBUTION: &str = "d111111abcdef8.cloudfront.net";

/// Viewer headers CloudFront does not pass to the origin-request event (hop-by-hop, or handled by
/// CloudFront itself).
const NOT_FORWARDED: [&str; 14] = [
    "host",
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "proxy-authorization",
    "proxy-connection",
    "content-length",
    "expect",
    "accept-encoding",
    "range",
    "if-range",
];

/// The front.
pub struct Front {
    origin: SocketAddr,
    origin_domain: String,
    handler: Handler,
    cache: Mutex<HashMap<(String, Option<String>), Message>>,
    next: AtomicU64,
}

impl Front {
    /// A front whose origin is the access point at `origin`, named `origin_domain`.
    pub fn new(origin: SocketAddr, origin_domain: String, credentials: Credentials) -> Self {
        Self {
            origin,
            origin_domain,
            handler: Handler::new(HandlerConfig::default(), credentials),
            cache: Mutex::new(HashMap::new()),
            next: AtomicU64::new(1),
        }
    }

    /// Answers one viewer request.
    pub async fn handle(&self, viewer: Message) -> Message {
        if viewer.method != "GET" && viewer.method != "HEAD" {
            return with_cache_header(
                Message::response(
                    403,
                    "text/plain",
                    "This distribution is not configured to allow the HTTP request method.\n",
                ),
                "Error",
            );
        }
        let key = (viewer.path().to_owned(), show_exif_value(viewer.query()));
        if let Some(hit) = self.cached(&key) {
            return finish(hit, "Hit");
        }
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let request_id = request_id(n);
        let response = match self.to_origin(&viewer, &request_id).await {
            Ok(response) => response,
            Err(e) => Message::response(502, "text/plain", format!("502 Bad Gateway: {e}\n")),
        };
        if response.status == 200 && viewer.method == "GET" {
            self.lock().insert(key, response.clone());
        }
        let mut response = finish(response, "Miss");
        response.headers.push(("x-amz-cf-id".into(), request_id));
        response
    }

    /// Runs the origin-request handler, then forwards its request or returns its response.
    async fn to_origin(&self, viewer: &Message, request_id: &str) -> Result<Message, String> {
        let event = self.event(viewer, request_id);
        let outcome = self
            .handler
            .handle(event.as_bytes(), SystemTime::now())
            .map_err(|e| format!("the Lambda function failed: {e}"))?
            .to_json();
        let outcome: serde_json::Value =
            serde_json::from_str(&outcome).map_err(|e| format!("the Lambda function's result: {e}"))?;
        if outcome.get("status").is_some() {
            return generated_response(&outcome);
        }
        let request = &outcome;
        let text = |field: &str| request[field].as_str().unwrap_or_default().to_owned();
        let origin_path = request["origin"]["custom"]["path"].as_str().unwrap_or_default();
        let query = text("querystring");
        let mut target = format!("{origin_path}{}", text("uri"));
        if !query.is_empty() {
            target = format!("{target}?{query}");
        }
        let mut headers = header_pairs(&request["headers"]);
        // CloudFront adds its request id after the function has run.
        headers.push(("x-amz-cf-id".into(), request_id.to_owned()));
        let forwarded = Message {
            method: text("method"),
            target,
            headers,
            ..Message::default()
        };
        send(self.origin, &forwarded).await
    }

    /// The origin-request event CloudFront would send for `viewer`.
    fn event(&self, viewer: &Message, request_id: &str) -> String {
        let mut headers = serde_json::Map::new();
        let mut add = |name: &str, value: &str| {
            let entry = headers
                .entry(name.to_ascii_lowercase())
                .or_insert_with(|| serde_json::Value::Array(Vec::new()));
            if let serde_json::Value::Array(values) = entry {
                values.push(serde_json::json!({ "key": name, "value": value }));
            }
        };
        add("Host", &self.origin_domain);
        add("User-Agent", "Amazon CloudFront");
        add("Via", "2.0 local.cloudfront.net (CloudFront)");
        add("X-Forwarded-For", "127.0.0.1");
        for (name, value) in &viewer.headers {
            if !NOT_FORWARDED.contains(&name.as_str())
                && !matches!(name.as_str(), "user-agent" | "via" | "x-forwarded-for")
            {
                add(name, value);
            }
        }
        serde_json::json!({
            "Records": [{ "cf": {
                "config": {
                    "distributionDomainName": DISTRIBUTION,
                    "distributionId": "EDFDVBD6EXAMPLE",
                    "eventType": "origin-request",
                    "requestId": request_id,
                },
                "request": {
                    "clientIp": "127.0.0.1",
                    "method": viewer.method,
                    "uri": viewer.path(),
                    "querystring": viewer.query(),
                    "headers": headers,
                    "origin": { "custom": {
                        "customHeaders": {},
                        "domainName": self.origin_domain,
                        "keepaliveTimeout": 5,
                        "path": "",
                        "port": 443,
                        "protocol": "https",
                        "readTimeout": 30,
                        "sslProtocols": ["TLSv1.2"],
                    }},
                },
            }}],
        })
        .to_string()
    }

    fn cached(&self, key: &(String, Option<String>)) -> Option<Message> {
        self.lock().get(key).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, Option<String>), Message>> {
        // A poisoned cache only means another request panicked; its entries are still sound.
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The value of `showExif` in a raw query (the first one), as the cache key includes it.
fn show_exif_value(query: &str) -> Option<String> {
    query
        .split('&')
        .find_map(|pair| {
            pair.strip_prefix(crate::transform::SHOW_EXIF)
                .filter(|rest| rest.is_empty() || rest.starts_with('='))
        })
        .map(|rest| rest.trim_start_matches('=').to_owned())
}

/// A CloudFront request id: 56 characters of URL-safe base64, unique per request.
fn request_id(n: u64) -> String {
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let digest = Sha256::digest(format!("{n}/{now}/{}", std::process::id()));
    let mut bytes = digest.to_vec();
    bytes.extend_from_slice(&digest[..10]);
    base64::engine::general_purpose::URL_SAFE.encode(&bytes)
}

/// `(name, value)` pairs of a CloudFront headers object.
fn header_pairs(headers: &serde_json::Value) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    if let Some(headers) = headers.as_object() {
        for (name, values) in headers {
            for value in values.as_array().into_iter().flatten() {
                if let Some(value) = value["value"].as_str() {
                    pairs.push((name.clone(), value.to_owned()));
                }
            }
        }
    }
    pairs
}

/// A response the handler generated (400, 413, 414, 502…).
fn generated_response(response: &serde_json::Value) -> Result<Message, String> {
    let status = response["status"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .ok_or("the generated response has no valid status")?;
    let body = response["body"].as_str().unwrap_or_default();
    let body = if response["bodyEncoding"] == "base64" {
        base64::engine::general_purpose::STANDARD
            .decode(body)
            .map_err(|e| format!("the generated response's body: {e}"))?
    } else {
        body.as_bytes().to_vec()
    };
    Ok(Message {
        status,
        headers: header_pairs(&response["headers"]),
        body,
        ..Message::default()
    })
}

fn with_cache_header(mut response: Message, what: &str) -> Message {
    response
        .headers
        .push(("x-cache".into(), format!("{what} from cloudfront")));
    response
        .headers
        .push(("via".into(), "1.1 local.cloudfront.net (CloudFront)".into()));
    response
}

/// The response to the viewer, with CloudFront's `X-Cache` and `Via`. A body's length is announced
/// from the body; an origin's answer to `HEAD` has none, so its `content-length` stays.
fn finish(mut response: Message, hit: &str) -> Message {
    let has_body = !response.body.is_empty();
    response.headers.retain(|(n, _)| {
        !(n == "content-length" && has_body) && n != "connection" && n != "transfer-encoding" && n != "date"
    });
    with_cache_header(response, hit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_key_holds_show_exif_only() {
        assert_eq!(show_exif_value(""), None);
        assert_eq!(show_exif_value("utm=1"), None);
        assert_eq!(show_exif_value("showExif=true&utm=1"), Some("true".into()));
        assert_eq!(show_exif_value("a=b&showExif=TRUE"), Some("TRUE".into()));
        assert_eq!(show_exif_value("showExifs=true"), None);
        assert_eq!(show_exif_value("showExif"), Some(String::new()));
    }

    #[test]
    fn request_ids_look_like_cloudfront_ones() {
        let (a, b) = (request_id(1), request_id(2));
        assert_eq!(a.len(), 56);
        assert_ne!(a, b);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_alphanumeric() || b"-_=".contains(&c))
        );
    }
}
