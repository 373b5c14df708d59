//! The bootstraps' Runtime API client (`edge_signer::runtime_api`) against servers it did not
//! come with: tiny_http (an HTTP/1.1 server crate) for the framings a server may choose, and raw
//! sockets for what a well-behaved server never sends. `tests/bootstrap.rs` and
//! `tests/object_lambda.rs` run the bootstraps on it against the Runtime API emulator.

#[path = "support/object_lambda.rs"]
mod object_lambda;

use edge_signer::runtime_api::{Client, Diagnostic, Error, Invocation};
use object_lambda::Received;
use proptest::prelude::*;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use tiny_http::{Header, Response, Server, StatusCode};

const NEXT: &str = "/2018-06-01/runtime/invocation/next";

fn header(name: &str, value: &str) -> Header {
    Header::from_bytes(name.as_bytes(), value.as_bytes()).unwrap()
}

/// An event of `len` bytes that is not all one byte (so that a misplaced chunk shows).
fn event(len: usize) -> Vec<u8> {
    (0..len).map(|i| b"0123456789abcdef"[i % 16]).collect()
}

fn receive(server: &Server) -> (tiny_http::Request, Received) {
    let mut request = server.recv().unwrap();
    let received = Received::read(&mut request);
    (request, received)
}

/// Serves one `/next` with `event` (chunked when `chunked`), then records and accepts (202) the
/// one post that follows.
fn serve_one(server: Server, event: Vec<u8>, chunked: bool) -> thread::JoinHandle<(Received, Received)> {
    thread::spawn(move || {
        let (request, next) = receive(&server);
        let threshold = if chunked { 0 } else { usize::MAX };
        let response = Response::from_data(event)
            .with_chunked_threshold(threshold)
            .with_header(header(
                "Lambda-Runtime-Aws-Request-Id",
                "8476a536-e9f4-11e8-9739-2dfe598c3fcd",
            ))
            .with_header(header("Lambda-Runtime-Deadline-Ms", "1542409706888"))
            .with_header(header(
                "Lambda-Runtime-Invoked-Function-Arn",
                "arn:aws:lambda:us-east-1:123456789012:function:custom-runtime",
            ))
            .with_header(header(
                "Lambda-Runtime-Trace-Id",
                "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Sampled=1",
            ));
        request.respond(response).unwrap();
        let (request, post) = receive(&server);
        request
            .respond(Response::from_string(r#"{"status":"OK"}"#).with_status_code(StatusCode(202)))
            .unwrap();
        (next, post)
    })
}

#[test]
fn events_in_either_framing_arrive_whole_and_answers_are_posted_as_lambda_expects() {
    // Small and large (many chunks, many socket reads), each framing.
    for (len, chunked) in [(1_500, false), (1_500, true), (300_000, false), (300_000, true)] {
        let case = format!("{len} bytes, chunked: {chunked}");
        let server = Server::http("127.0.0.1:0").unwrap();
        let mut client = Client::new(server.server_addr().to_ip().unwrap().to_string());
        let served = serve_one(server, event(len), chunked);
        let invocation = client.next_invocation().unwrap();
        assert_eq!(
            invocation,
            Invocation {
                request_id: "8476a536-e9f4-11e8-9739-2dfe598c3fcd".into(),
                deadline_ms: Some(1_542_409_706_888),
                invoked_function_arn: Some(
                    "arn:aws:lambda:us-east-1:123456789012:function:custom-runtime".into()
                ),
                trace_id: Some("Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Sampled=1".into()),
                event: event(len),
            },
            "{case}"
        );
        client.respond(&invocation.request_id, b"{\"ok\":true}").unwrap();
        let (next, post) = served.join().unwrap();
        assert_eq!((next.method.as_str(), next.url.as_str()), ("GET", NEXT), "{case}");
        assert_eq!(post.method, "POST", "{case}");
        assert_eq!(
            post.url, "/2018-06-01/runtime/invocation/8476a536-e9f4-11e8-9739-2dfe598c3fcd/response",
            "{case}"
        );
        assert_eq!(post.body, b"{\"ok\":true}", "{case}");
        assert_eq!(post.header("content-type"), Some("application/json"), "{case}");
        assert_eq!(post.header("lambda-runtime-function-error-type"), None, "{case}");
    }
}

#[test]
fn errors_are_posted_as_json_with_the_error_type_header() {
    let server = Server::http("127.0.0.1:0").unwrap();
    let mut client = Client::new(server.server_addr().to_ip().unwrap().to_string());
    let served = serve_one(server, b"{}".to_vec(), false);
    let invocation = client.next_invocation().unwrap();
    let diagnostic = Diagnostic::new("MalformedEvent", "line 1: \"quoted\" and \\ and \u{7}");
    client.fail(&invocation.request_id, &diagnostic).unwrap();
    let (_, post) = served.join().unwrap();
    assert!(
        post.url
            .ends_with("/invocation/8476a536-e9f4-11e8-9739-2dfe598c3fcd/error")
    );
    assert_eq!(
        post.header("lambda-runtime-function-error-type"),
        Some("Unhandled")
    );
    let body: serde_json::Value = serde_json::from_slice(&post.body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({
            "errorType": "MalformedEvent",
            "errorMessage": "line 1: \"quoted\" and \\ and \u{7}",
        })
    );
}

/// A server that answers each connection with the next scripted response, then closes it;
/// returns the requests it read (the head, as text).
fn raw_server(responses: Vec<Vec<u8>>) -> (String, thread::JoinHandle<Vec<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let handle = thread::spawn(move || {
        let mut heads = Vec::new();
        for response in responses {
            let (mut stream, _) = listener.accept().unwrap();
            heads.push(read_request(&mut stream));
            // The client may have gone; what it did with the answer is the test's to check.
            let _ = stream.write_all(&response);
        }
        heads
    });
    (address, handle)
}

/// Reads one request (head, then a `Content-Length` body); returns its head.
fn read_request(stream: &mut TcpStream) -> String {
    let mut bytes = Vec::new();
    let mut byte = [0];
    while !bytes.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).unwrap_or(0) == 0 {
            break;
        }
        bytes.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&bytes).into_owned();
    let length = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse::<usize>().unwrap())
        })
        .unwrap_or(0);
    let mut body = vec![0; length];
    stream.read_exact(&mut body).unwrap();
    head
}

#[test]
fn a_closed_connection_is_reopened_for_the_next_call() {
    // A later `Connection` header does not take back an earlier `close`.
    let next = b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: a1\r\nConnection: close\r\n\
                 Connection: upgrade\r\nContent-Length: 2\r\n\r\n{}"
        .to_vec();
    // An interim response first, and a body framed by the end of the connection.
    let accepted = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 202 Accepted\r\n\r\n{\"status\":\"OK\"}".to_vec();
    let (address, server) = raw_server(vec![next.clone(), accepted, next]);
    let mut client = Client::new(address);
    let invocation = client.next_invocation().unwrap();
    assert_eq!(
        (invocation.request_id.as_str(), invocation.event.as_slice()),
        ("a1", &b"{}"[..])
    );
    client.respond("a1", b"{}").unwrap();
    client.next_invocation().unwrap();
    let heads = server.join().unwrap();
    assert_eq!(heads.len(), 3, "one connection per call: {heads:?}");
    assert!(heads[1].starts_with("POST /2018-06-01/runtime/invocation/a1/response HTTP/1.1\r\n"));
}

/// What the client says when the API misbehaves: an error naming the call, never a panic.
#[test]
fn refusals_and_malformed_answers_are_errors_that_say_what_happened() {
    let cases: [(&str, &[u8], &[&str]); 9] = [
        (
            "a signed length",
            b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: a\r\nContent-Length: +2\r\n\r\n{}",
            &["malformed HTTP", "Content-Length \"+2\""],
        ),
        (
            "a framing header that is not text",
            b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: a\r\nTransfer-Encoding: chunked\x80\r\n\r\n",
            &["malformed HTTP", "Transfer-Encoding header that is not text"],
        ),
        (
            "500",
            b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 38\r\n\r\n{\"errorType\":\"Runtime.Unknown\",\"x\":1}\n",
            &["refused GET /invocation/next", "HTTP 500", "Runtime.Unknown"],
        ),
        (
            "no request id",
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}",
            &["no valid Lambda-Runtime-Aws-Request-Id"],
        ),
        (
            "a request id that would change the path",
            b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: ../init\r\nContent-Length: 2\r\n\r\n{}",
            &["no valid Lambda-Runtime-Aws-Request-Id"],
        ),
        ("not HTTP", b"SSH-2.0-OpenSSH_9.6\r\n\r\n", &["malformed HTTP", "response head"]),
        (
            "a bad chunk",
            b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            &["malformed HTTP", "chunk size"],
        ),
        (
            "an oversized body",
            b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: a\r\nContent-Length: 99999999999\r\n\r\n",
            &["malformed HTTP", "at most 16 MiB"],
        ),
        (
            "cut short",
            b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: a\r\nContent-Length: 10\r\n\r\n{}",
            &["closed in the middle of a response"],
        ),
    ];
    for (case, answer, expected) in cases {
        let (address, server) = raw_server(vec![answer.to_vec()]);
        let error = Client::new(&address).next_invocation().unwrap_err();
        let message = error.to_string();
        assert!(message.contains(&address), "{case}: {message}");
        for fragment in expected {
            assert!(
                message.contains(fragment),
                "{case}: {fragment:?} not in {message:?}"
            );
        }
        server.join().unwrap();
    }
    // Nothing listening: the address and the system's reason.
    let unused = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let error = Client::new(unused.to_string()).next_invocation().unwrap_err();
    assert!(matches!(error, Error::Io { .. }), "{error}");
    assert!(error.to_string().contains(&unused.to_string()), "{error}");
}

/// A 304 has no body, whatever its `Content-Length` says: the answer is a refusal at once, not a
/// wait for bytes that never come (the server keeps the connection open).
#[test]
fn a_304_with_a_length_is_a_refusal_not_a_wait() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let (done, finished) = std::sync::mpsc::channel();
    let server = thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        read_request(&mut stream);
        stream
            .write_all(b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: a\r\nContent-Length: 2\r\n\r\n{}")
            .unwrap();
        read_request(&mut stream);
        stream
            .write_all(b"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n")
            .unwrap();
        // Held open until the client has answered (or the test gave up on it).
        let _ = finished.recv_timeout(std::time::Duration::from_secs(10));
    });
    let (sent, outcome) = std::sync::mpsc::channel();
    thread::spawn(move || {
        let mut client = Client::new(address);
        client.next_invocation().unwrap();
        let _ = sent.send(client.respond("a", b"{}"));
    });
    let result = outcome.recv_timeout(std::time::Duration::from_secs(5));
    let _ = done.send(());
    server.join().unwrap();
    let error = result
        .expect("the client still waits for a body after a 304")
        .unwrap_err();
    assert!(matches!(error, Error::Refused { status: 304, .. }), "{error}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// Any bytes at all as the answer to `/next`: an invocation or an error, never a panic; and an
    /// invocation only with a request id that is safe in a path.
    #[test]
    fn any_answer_is_an_invocation_or_an_error(
        head in proptest::sample::select(vec![
            "HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: r\r\n",
            "HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: r\r\nTransfer-Encoding: chunked\r\n",
            "HTTP/1.0 200 OK\r\n",
            "",
        ]),
        rest in proptest::collection::vec(any::<u8>(), 0..200),
    ) {
        let mut answer = head.as_bytes().to_vec();
        answer.extend_from_slice(&rest);
        let (address, server) = raw_server(vec![answer]);
        if let Ok(invocation) = Client::new(address).next_invocation() {
            prop_assert!(!invocation.request_id.is_empty());
            prop_assert!(!invocation.request_id.contains(['/', '?', '#', '%', ' ']));
        }
        server.join().unwrap();
    }
}
