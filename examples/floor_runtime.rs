//! The cold-start floor: the least a Lambda custom runtime can do. Standard library only — no async
//! runtime, no HTTP client, no TLS, no JSON, no logging: read `AWS_LAMBDA_RUNTIME_API`, then
//! forever `GET …/invocation/next` and post the event back unchanged as the response, over one
//! kept-alive connection.
//!
//! `benches/cold_start.rs` starts it beside `origin-request`, its lambda_runtime floor
//! (`lambda_runtime_floor.rs`) and the peers: what lambda_runtime, tokio and hyper cost above the
//! least possible. Build: `cargo build --release --example floor_runtime`.
//!
//! It speaks only the HTTP/1.1 the Runtime API uses (`Content-Length` bodies) and exits with a
//! message on anything else.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::ExitCode;

const NEXT: &[u8] = b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: runtime\r\n\r\n";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("floor_runtime: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let api = std::env::var("AWS_LAMBDA_RUNTIME_API").map_err(|_| "AWS_LAMBDA_RUNTIME_API is not set")?;
    let stream = TcpStream::connect(&api).map_err(|e| format!("connect {api}: {e}"))?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    let mut reader = BufReader::new(&stream);
    let mut writer = &stream;
    loop {
        writer.write_all(NEXT).map_err(|e| format!("GET next: {e}"))?;
        let (request_id, event) = read_response(&mut reader)?;
        let request_id = request_id.ok_or("no Lambda-Runtime-Aws-Request-Id")?;
        let mut post = format!(
            "POST /2018-06-01/runtime/invocation/{request_id}/response HTTP/1.1\r\nHost: runtime\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            event.len()
        )
        .into_bytes();
        post.extend_from_slice(&event);
        writer
            .write_all(&post)
            .map_err(|e| format!("POST response: {e}"))?;
        read_response(&mut reader)?;
    }
}

/// Reads one response: its `Lambda-Runtime-Aws-Request-Id` (if any) and its body.
fn read_response(reader: &mut impl BufRead) -> Result<(Option<String>, Vec<u8>), String> {
    let mut line = String::new();
    let mut length = 0;
    let mut request_id = None;
    let mut status_line = true;
    loop {
        line.clear();
        if reader.read_line(&mut line).map_err(|e| e.to_string())? == 0 {
            return Err("the Runtime API closed the connection".into());
        }
        let line = line.trim_end();
        if status_line {
            if !line.starts_with("HTTP/1.1 2") {
                return Err(format!("unexpected status: {line}"));
            }
            status_line = false;
            continue;
        }
        if line.is_empty() {
            break;
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(format!("bad header line: {line}"));
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = value
                .parse()
                .map_err(|_| format!("bad Content-Length: {value}"))?;
        } else if name.eq_ignore_ascii_case("lambda-runtime-aws-request-id") {
            request_id = Some(value.to_owned());
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            return Err(format!("Transfer-Encoding {value} is not supported"));
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).map_err(|e| e.to_string())?;
    Ok((request_id, body))
}
