//! A loopback proxy in front of an S3 server (s3s-fs), for what the server will not do on demand:
//! it logs every request (method, path, status: the "server log" that shows what a function did
//! and did not do), and answers `503 SlowDown` instead of forwarding while a fault is armed for a
//! path. Requests are forwarded byte for byte (the `Host` header too, so signatures still verify),
//! one request per connection (`Connection: close` is added; the header is not signed).

#![allow(dead_code)] // each test file uses some of these

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;

/// One request the proxy saw: method, path (with query, as sent), status answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Logged {
    pub method: String,
    pub path: String,
    pub status: u16,
    /// The request's `X-Amzn-Trace-Id`.
    pub trace_id: Option<String>,
}

#[derive(Default)]
struct Shared {
    log: Vec<Logged>,
    /// Requests whose path starts with one of these get 503.
    failing: Vec<String>,
}

/// A running proxy; its thread stops with the test process.
pub struct Proxy {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    shared: Arc<Mutex<Shared>>,
}

const SLOW_DOWN: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>";

impl Proxy {
    /// Forwards to `upstream` (`http://host:port`).
    pub fn start(upstream: &str) -> Self {
        let upstream = upstream
            .strip_prefix("http://")
            .expect("an http:// upstream")
            .trim_end_matches('/')
            .to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let shared = Arc::new(Mutex::new(Shared::default()));
        let for_thread = Arc::clone(&shared);
        thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let shared = Arc::clone(&for_thread);
                let upstream = upstream.clone();
                thread::spawn(move || {
                    let _ = serve(client, &upstream, &shared);
                });
            }
        });
        Self { endpoint, shared }
    }

    /// Answers 503 `SlowDown` to every request whose path starts with `path` (as sent, encoded).
    pub fn fail(&self, path: &str) {
        self.shared.lock().unwrap().failing.push(path.to_owned());
    }

    /// Forwards everything again.
    pub fn heal(&self) {
        self.shared.lock().unwrap().failing.clear();
    }

    /// Every request so far, in order of arrival.
    pub fn log(&self) -> Vec<Logged> {
        self.shared.lock().unwrap().log.clone()
    }

    /// Forgets the log.
    pub fn clear_log(&self) {
        self.shared.lock().unwrap().log.clear();
    }
}

fn serve(mut client: TcpStream, upstream: &str, shared: &Mutex<Shared>) -> io::Result<()> {
    let (head, rest) = read_head(&mut client)?;
    let text = String::from_utf8_lossy(&head).into_owned();
    let mut lines = text.split("\r\n");
    let request_line = lines.next().unwrap_or_default().to_owned();
    let mut parts = request_line.split(' ');
    let method = parts.next().unwrap_or_default().to_owned();
    let path = parts.next().unwrap_or_default().to_owned();
    let trace_id = text.split("\r\n").find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("x-amzn-trace-id")
            .then(|| value.trim().to_owned())
    });
    let fail = shared
        .lock()
        .unwrap()
        .failing
        .iter()
        .any(|p| path.starts_with(p.as_str()));
    if fail {
        let body = if method == "HEAD" { "" } else { SLOW_DOWN };
        write!(
            client,
            "HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            SLOW_DOWN.len()
        )?;
        shared.lock().unwrap().log.push(Logged {
            method,
            path,
            status: 503,
            trace_id,
        });
        let _ = client.shutdown(Shutdown::Write);
        // Drain a body the client may still send, so that closing does not reset the answer.
        let _ = io::copy(&mut client, &mut io::sink());
        return Ok(());
    }
    let mut server = TcpStream::connect(upstream)?;
    let mut forwarded = request_line.clone() + "\r\n";
    for line in lines.filter(|l| !l.is_empty()) {
        if !line.to_ascii_lowercase().starts_with("connection:") {
            forwarded.push_str(line);
            forwarded.push_str("\r\n");
        }
    }
    forwarded.push_str("Connection: close\r\n\r\n");
    server.write_all(forwarded.as_bytes())?;
    server.write_all(&rest)?;
    let mut to_server = client.try_clone()?;
    let mut server_writer = server.try_clone()?;
    let uploader = thread::spawn(move || {
        let _ = io::copy(&mut to_server, &mut server_writer);
    });
    let mut answer = Vec::new();
    server.read_to_end(&mut answer)?;
    let status = std::str::from_utf8(answer.get(9..12).unwrap_or_default())
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    shared.lock().unwrap().log.push(Logged {
        method,
        path,
        status,
        trace_id,
    });
    // The client must not reuse its connection: say so, if the server did not.
    let head_end = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(answer.len());
    let says_close = String::from_utf8_lossy(&answer[..head_end])
        .to_ascii_lowercase()
        .contains("\r\nconnection: close");
    if !says_close && let Some(line_end) = answer.windows(2).position(|w| w == b"\r\n") {
        answer.splice(
            line_end + 2..line_end + 2,
            b"Connection: close\r\n".iter().copied(),
        );
    }
    client.write_all(&answer)?;
    let _ = client.shutdown(Shutdown::Both);
    let _ = uploader.join();
    Ok(())
}

/// Reads up to the end of the request head; returns the head and any bytes read past it.
fn read_head(stream: &mut TcpStream) -> io::Result<(Vec<u8>, Vec<u8>)> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = buffer.split_off(end + 4);
            buffer.truncate(end);
            return Ok((buffer, rest));
        }
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "no request head"));
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
}
