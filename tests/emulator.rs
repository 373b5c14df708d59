//! The Runtime API emulator (`support/runtime_api.rs`) itself, driven over raw TCP: the HTTP it
//! speaks (keep-alive, pipelining, chunked bodies, `Expect: 100-continue`), held `/next`s, when it
//! stamps requests, what it reports as violations, and that dropping it releases everything.

#[path = "support/runtime_api.rs"]
mod runtime_api;

use runtime_api::{OutcomeKind, PREFIX, RuntimeApi};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(10);

fn connect(api: &RuntimeApi) -> (TcpStream, BufReader<TcpStream>) {
    let stream = TcpStream::connect(api.address()).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    let reader = BufReader::new(stream.try_clone().unwrap());
    (stream, reader)
}

/// Reads one response: status, headers (lower-cased names), body.
fn read_response(reader: &mut impl BufRead) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let status = line.split(' ').nth(1).unwrap().parse().unwrap();
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line).unwrap();
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').unwrap();
        headers.push((name.to_ascii_lowercase(), value.trim().to_owned()));
    }
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .map_or(0, |(_, v)| v.parse().unwrap());
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    (status, headers, body)
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> &'a str {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {name} in {headers:?}"))
}

const NEXT: &str = "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n";

#[test]
fn a_held_next_is_answered_when_an_event_is_queued_and_chunked_posts_are_read() {
    let api = RuntimeApi::start().unwrap();
    let (mut stream, mut reader) = connect(&api);
    stream.write_all(NEXT.as_bytes()).unwrap();
    assert!(api.wait_next_polls(1, WAIT));
    let id = api.invoke(br#"{"n":1}"#.to_vec());
    let (status, headers, body) = read_response(&mut reader);
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "lambda-runtime-aws-request-id"), id);
    assert!(
        header(&headers, "lambda-runtime-deadline-ms")
            .parse::<u128>()
            .is_ok()
    );
    assert_eq!(body, br#"{"n":1}"#);

    // Same connection: a chunked body behind `Expect: 100-continue`, with a trailer.
    write!(
        stream,
        "POST {PREFIX}/invocation/{id}/response HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\
         Expect: 100-continue\r\n\r\n"
    )
    .unwrap();
    let (status, _, _) = read_response(&mut reader);
    assert_eq!(status, 100);
    stream
        .write_all(b"4;ext=1\r\n{\"ok\r\n5\r\n\":tru\r\n2\r\ne}\r\n0\r\nX-Trailer: 1\r\n\r\n")
        .unwrap();
    let (status, _, body) = read_response(&mut reader);
    assert_eq!((status, body.as_slice()), (202, br#"{"status":"OK"}"#.as_slice()));
    let outcome = api.wait_outcome(&id, WAIT).unwrap();
    assert_eq!(outcome.kind, OutcomeKind::Response);
    assert_eq!(outcome.body, br#"{"ok":true}"#);
    assert!(api.violations().is_empty(), "{:?}", api.violations());
}

#[test]
fn requests_are_stamped_when_they_arrive_not_when_they_are_handled() {
    let api = RuntimeApi::start().unwrap();
    let (mut stream, mut reader) = connect(&api);
    // A held /next and, pipelined behind it in the same write, the answer to the event it will
    // get (the first request id is known): the post is handled only once the event is queued.
    let id = "c0ffee00-0000-4000-8000-000000000001";
    let sent = Instant::now();
    write!(
        stream,
        "{NEXT}POST {PREFIX}/invocation/{id}/response HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{{}}"
    )
    .unwrap();
    thread::sleep(Duration::from_millis(200));
    let queued = Instant::now();
    assert_eq!(api.invoke(b"{}".to_vec()), id);
    assert_eq!(read_response(&mut reader).0, 200);
    assert_eq!(read_response(&mut reader).0, 202);
    let outcome = api.wait_outcome(id, WAIT).unwrap();
    assert!(outcome.at >= sent && outcome.at < queued, "stamped at handling");
    assert!(api.first_poll_at().unwrap() < queued);
    assert!(api.delivered_at(id).unwrap() >= queued);
}

#[test]
fn protocol_violations_are_answered_with_an_error_and_listed() {
    let api = RuntimeApi::start().unwrap();
    let (mut stream, mut reader) = connect(&api);
    write!(
        stream,
        "POST {PREFIX}/invocation/nobody/response HTTP/1.1\r\nContent-Length: 0\r\n\r\n"
    )
    .unwrap();
    assert_eq!(read_response(&mut reader).0, 400);
    write!(stream, "GET /elsewhere HTTP/1.1\r\n\r\n").unwrap();
    assert_eq!(read_response(&mut reader).0, 404);
    stream.write_all(b"NONSENSE\r\n\r\n").unwrap();
    assert_eq!(read_response(&mut reader).0, 400);
    let mut rest = Vec::new();
    assert_eq!(
        reader.read_to_end(&mut rest).unwrap(),
        0,
        "closed after malformed HTTP"
    );
    let violations = api.violations();
    assert_eq!(violations.len(), 3, "{violations:?}");
    assert!(violations[2].starts_with("malformed HTTP"), "{violations:?}");
}

#[test]
fn many_connections_at_once_are_served_and_dropping_releases_held_nexts() {
    let api = RuntimeApi::start().unwrap();
    // More held connections than the emulator starts with acceptors.
    let mut clients: Vec<_> = (0..5).map(|_| connect(&api)).collect();
    for (stream, _) in &mut clients {
        stream.write_all(NEXT.as_bytes()).unwrap();
    }
    assert!(api.wait_next_polls(5, WAIT), "{} /next", api.next_polls());
    let dropped = Instant::now();
    drop(api);
    assert!(dropped.elapsed() < Duration::from_secs(2));
    for (_, reader) in &mut clients {
        let mut rest = Vec::new();
        assert_eq!(reader.read_to_end(&mut rest).unwrap_or(0), 0);
    }
}
