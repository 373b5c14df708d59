//! A loopback TCP proxy that counts the bytes a server sends back: how much of an object a client
//! read, measured on the wire (tests/s3_batch.rs, benches/report_mode.rs).

/// A loopback TCP proxy to `upstream` (`http://HOST:PORT`) that counts the bytes the server sends
/// back: what a function read. The Host header passes unchanged, so signatures still verify.
pub fn start(upstream: &str) -> (String, std::sync::Arc<std::sync::atomic::AtomicU64>) {
    use std::io::{Read, Write};
    use std::net::{Shutdown, TcpListener, TcpStream};
    use std::sync::atomic::Ordering;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let upstream = upstream.strip_prefix("http://").unwrap().to_owned();
    let served = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counter = served.clone();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let (Ok(client), Ok(server)) = (client, TcpStream::connect(&upstream)) else {
                continue;
            };
            // Without it, Nagle's algorithm and delayed ACKs add up to 40 ms to an exchange.
            let _ = (client.set_nodelay(true), server.set_nodelay(true));
            let (mut from_client, mut to_server) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut from_client, &mut to_server);
                let _ = to_server.shutdown(Shutdown::Write);
            });
            let counter = counter.clone();
            std::thread::spawn(move || {
                let (mut from_server, mut to_client) = (server, client);
                let mut buffer = [0u8; 16 * 1024];
                while let Ok(n @ 1..) = from_server.read(&mut buffer) {
                    counter.fetch_add(n as u64, Ordering::SeqCst);
                    if to_client.write_all(&buffer[..n]).is_err() {
                        break;
                    }
                }
                let _ = to_client.shutdown(Shutdown::Write);
            });
        }
    });
    (endpoint, served)
}
