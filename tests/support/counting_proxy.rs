//! A loopback TCP proxy that counts what a client read, on the wire: the bytes a server sends
//! back, and the GET requests sent (tests/s3_batch.rs, benches/report_mode.rs).
#![allow(dead_code)] // each user reads some of the counts

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// What went through the proxy so far.
#[derive(Default)]
pub struct Counts {
    served: AtomicU64,
    gets: AtomicU64,
}

impl Counts {
    /// The bytes the server sent back (answers' heads and bodies).
    pub fn served(&self) -> u64 {
        self.served.load(Ordering::SeqCst)
    }

    /// The GET requests sent (a request head arrives in one read on loopback: each is counted
    /// by its `GET /` request line).
    pub fn gets(&self) -> u64 {
        self.gets.load(Ordering::SeqCst)
    }
}

/// Starts a proxy to `upstream` (`http://HOST:PORT`); returns its endpoint and its counts. The
/// Host header passes unchanged, so signatures still verify.
pub fn start(upstream: &str) -> (String, Arc<Counts>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let upstream = upstream.strip_prefix("http://").unwrap().to_owned();
    let counts = Arc::new(Counts::default());
    let shared = counts.clone();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let (Ok(client), Ok(server)) = (client, TcpStream::connect(&upstream)) else {
                continue;
            };
            // Without it, Nagle's algorithm and delayed ACKs add up to 40 ms to an exchange.
            let _ = (client.set_nodelay(true), server.set_nodelay(true));
            let (from_client, to_server) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            let requests = shared.clone();
            std::thread::spawn(move || {
                relay(from_client, to_server, |chunk| {
                    let gets = chunk.windows(5).filter(|w| w == b"GET /").count();
                    requests.gets.fetch_add(gets as u64, Ordering::SeqCst);
                })
            });
            let answers = shared.clone();
            std::thread::spawn(move || {
                relay(server, client, |chunk| {
                    answers.served.fetch_add(chunk.len() as u64, Ordering::SeqCst);
                })
            });
        }
    });
    (endpoint, counts)
}

/// Copies `from` to `to`, showing each chunk to `count`, until either side closes.
fn relay(mut from: TcpStream, mut to: TcpStream, count: impl Fn(&[u8])) {
    let mut buffer = [0u8; 16 * 1024];
    while let Ok(n @ 1..) = from.read(&mut buffer) {
        count(&buffer[..n]);
        if to.write_all(&buffer[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}
