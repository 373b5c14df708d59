//! The thin I/O layer: fetch the original, post the answer. Everything it decides is in
//! [`super::reply`], [`super::head`] and [`super::write`].

use super::Error;
use super::reply::Fetched;
use bytes::Bytes;
use http::{Method, Request, Uri, header};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::{self, connect::HttpConnector};
use hyper_util::rt::{TokioExecutor, TokioTimer};
use std::time::Duration;

/// How long an idle connection is kept for the next invocation. Short: Lambda freezes the process
/// between invocations, and a server closes idle connections after a while; a connection found
/// closed before the request was written is retried by the client, one closed later is not.
const IDLE_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest error body read from `WriteGetObjectResponse` (for its code and message).
const ERROR_BODY_LIMIT: usize = 64 * 1024;

/// An HTTP/1.1 client for `https://` (rustls with the ring provider and the Mozilla root
/// certificates compiled in: no OpenSSL, no certificate files read at start) and plain `http://`
/// (a local endpoint). Build it once and keep it: it pools connections between invocations.
#[derive(Clone, Debug)]
pub struct Client {
    http: legacy::Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl Default for Client {
    fn default() -> Self {
        Self::new()
    }
}

impl Client {
    /// A client with rustls' safe default protocol versions (TLS 1.2 and 1.3).
    pub fn new() -> Self {
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())
            // ring implements cipher suites for both default versions, so this cannot fail.
            .expect("the ring provider supports TLS 1.2 and 1.3")
            .https_or_http()
            .enable_http1()
            .build();
        Self {
            http: legacy::Client::builder(TokioExecutor::new())
                .pool_timer(TokioTimer::new())
                .pool_idle_timeout(IDLE_TIMEOUT)
                .build(connector),
        }
    }

    /// `method` on the presigned `url`, reading at most `limit` bytes of a 200 body; never an
    /// error: every failure is a [`Fetched`] the caller answers.
    pub(crate) async fn fetch(&self, method: Method, url: &str, limit: u64, timeout: Duration) -> Fetched {
        let uri = match url.parse::<Uri>() {
            Ok(uri) if matches!(uri.scheme_str(), Some("http" | "https")) && uri.host().is_some() => uri,
            // Never echo the URL: it carries a presigned signature and a session token.
            _ => return failed("the event's inputS3Url is not an http(s) URL"),
        };
        let head = method == Method::HEAD;
        let request = Request::builder()
            .method(method)
            .uri(uri)
            .body(Full::new(Bytes::new()));
        let Ok(request) = request else {
            return failed("the event's inputS3Url cannot be requested");
        };
        match tokio::time::timeout(timeout, self.read(request, head, limit)).await {
            Ok(fetched) => fetched,
            Err(_) => failed(&format!("no complete answer within {timeout:?}")),
        }
    }

    async fn read(&self, request: Request<Full<Bytes>>, head: bool, limit: u64) -> Fetched {
        let response = match self.http.request(request).await {
            Ok(response) => response,
            Err(e) => return failed(describe(&e)),
        };
        let (parts, body) = response.into_parts();
        let status = parts.status.as_u16();
        if status != 200 || head {
            // Only the status and headers matter: an error document is not read, and a HEAD answer
            // has no body (its Content-Length is the object's).
            return Fetched::Response {
                status,
                headers: parts.headers,
                body: Bytes::new(),
            };
        }
        let declared = parts
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        if declared.is_some_and(|length| length > limit) {
            return Fetched::TooLarge { limit };
        }
        let cap = usize::try_from(limit).unwrap_or(usize::MAX);
        match Limited::new(body, cap).collect().await {
            Ok(collected) => Fetched::Response {
                status,
                headers: parts.headers,
                body: collected.to_bytes(),
            },
            Err(e) if e.is::<LengthLimitError>() => Fetched::TooLarge { limit },
            Err(_) => failed("the connection broke while the original was read"),
        }
    }

    /// Sends a built `WriteGetObjectResponse`; `Ok` when S3 Object Lambda accepted it (2xx).
    pub(crate) async fn post(&self, request: Request<Bytes>, timeout: Duration) -> Result<(), Error> {
        let exchange = async {
            let response = self
                .http
                .request(request.map(Full::new))
                .await
                .map_err(|e| Error::WriteFailed(describe(&e).to_owned()))?;
            let status = response.status().as_u16();
            let body = Limited::new(response.into_body(), ERROR_BODY_LIMIT)
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            if (200..300).contains(&status) {
                Ok(())
            } else {
                Err(Error::refused(status, &body))
            }
        };
        tokio::time::timeout(timeout, exchange)
            .await
            .unwrap_or_else(|_| Err(Error::WriteFailed(format!("no answer within {timeout:?}"))))
    }
}

fn failed(reason: &str) -> Fetched {
    Fetched::Failed {
        reason: reason.to_owned(),
    }
}

/// A hyper error in words, without the URL.
fn describe(error: &legacy::Error) -> &'static str {
    if error.is_connect() {
        "could not connect (connection or TLS handshake failed)"
    } else {
        "the connection failed before a complete answer"
    }
}
