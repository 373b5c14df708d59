//! Just enough HTTP/1.1 for the local chain, on hyper: a server loop over a handler of owned
//! requests, and a client that connects to an address while naming another host (as CloudFront
//! connects to an origin).

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::{TcpListener, TcpStream};

/// Bodies larger than this are refused (413); S3 Object Lambda itself stops far below.
pub const MAX_BODY: usize = 64 * 1024 * 1024;

/// A request or response, owned: header names in lower case, in the order received.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Message {
    /// Requests: the method. Responses: empty.
    pub method: String,
    /// Requests: the request target (path and query) as received. Responses: empty.
    pub target: String,
    /// Responses: the status. Requests: 0.
    pub status: u16,
    /// Headers, names in lower case.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Message {
    /// A response with `status`, a content type and a body.
    pub fn response(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body: body.into(),
            ..Self::default()
        }
    }

    /// The first value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The path part of the target.
    pub fn path(&self) -> &str {
        self.target.split_once('?').map_or(&self.target, |(p, _)| p)
    }

    /// The query part of the target, without `?` (empty when there is none).
    pub fn query(&self) -> &str {
        self.target.split_once('?').map_or("", |(_, q)| q)
    }
}

/// Serves `handler` on `listener` until the runtime stops; one task per connection.
pub async fn serve<H, F>(listener: TcpListener, handler: H)
where
    H: Fn(Message) -> F + Send + Sync + 'static,
    F: Future<Output = Message> + Send + 'static,
{
    let handler = Arc::new(handler);
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let handler = Arc::clone(&handler);
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let handler = Arc::clone(&handler);
                async move { Ok::<_, Infallible>(respond(request, &*handler).await) }
            });
            // A client that goes away mid-request is not our error.
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn respond<H, F>(request: hyper::Request<Incoming>, handler: &H) -> hyper::Response<Full<Bytes>>
where
    H: Fn(Message) -> F,
    F: Future<Output = Message>,
{
    let (parts, body) = request.into_parts();
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes().to_vec(),
        Err(_) => return into_hyper(Message::response(413, "text/plain", "request body too large\n")),
    };
    let message = Message {
        method: parts.method.as_str().to_owned(),
        target: parts
            .uri
            .path_and_query()
            .map_or("/", |pq| pq.as_str())
            .to_owned(),
        status: 0,
        headers: owned_headers(&parts.headers),
        body,
    };
    into_hyper(handler(message).await)
}

fn owned_headers(headers: &hyper::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

fn into_hyper(message: Message) -> hyper::Response<Full<Bytes>> {
    let mut response = hyper::Response::new(Full::new(Bytes::from(message.body)));
    *response.status_mut() =
        hyper::StatusCode::from_u16(message.status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in &message.headers {
        if let (Ok(name), Ok(value)) = (
            hyper::header::HeaderName::from_bytes(name.as_bytes()),
            hyper::header::HeaderValue::from_str(value),
        ) {
            response.headers_mut().append(name, value);
        }
    }
    response
}

/// Sends `request` (its `host` header names the server) over a new connection to `addr`, and
/// returns the response, reading at most [`MAX_BODY`] bytes of body.
///
/// # Errors
/// Connection and protocol failures, as text.
pub async fn send(addr: SocketAddr, request: &Message) -> Result<Message, String> {
    let stream = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect {addr}: {e}"))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("handshake with {addr}: {e}"))?;
    tokio::spawn(connection);
    let mut builder = hyper::Request::builder()
        .method(request.method.as_str())
        .uri(request.target.as_str());
    for (name, value) in &request.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    let outgoing = builder
        .body(Full::new(Bytes::from(request.body.clone())))
        .map_err(|e| format!("request to {addr}: {e}"))?;
    let is_head = request.method == "HEAD";
    let response = sender
        .send_request(outgoing)
        .await
        .map_err(|e| format!("request to {addr}: {e}"))?;
    let (parts, body) = response.into_parts();
    let body = if is_head {
        Vec::new()
    } else {
        Limited::new(body, MAX_BODY)
            .collect()
            .await
            .map_err(|e| format!("response from {addr}: {e}"))?
            .to_bytes()
            .to_vec()
    };
    Ok(Message {
        status: parts.status.as_u16(),
        headers: owned_headers(&parts.headers),
        body,
        ..Message::default()
    })
}
