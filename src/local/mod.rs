//! `edge-signer local`: the whole chain on 127.0.0.1, so a user — and our tests — can curl it.
//!
//! ```text
//! viewer ──► front (CloudFront-like) ──► access point (verifies SigV4) ──► object-lambda handler
//!            runs the handler,           aws-sigv4, 403 like AWS           fetches inputS3Url from
//!            caches by path + showExif                                     the store, transforms,
//!                                          ◄── WriteGetObjectResponse ──── posts the answer here
//! ```
//!
//! - [`front`]: builds CloudFront's origin-request event for each viewer request, runs our
//!   origin-request handler on it, and forwards the signed request (adding `X-Amz-Cf-Id` in
//!   transit, as CloudFront does).
//! - [`access_point`]: verifies every request with aws-sigv4 ([`verify`]), then runs the
//!   `object-lambda` handler — the same code as in Lambda, through its event type — and answers
//!   with what it sent to `WriteGetObjectResponse`.
//! - [`store`]: the bucket over a directory, serving presigned `GET`s only.
//!
//! Every hop is real HTTP over loopback, so the signatures are checked as they travel.

pub mod access_point;
pub mod front;
pub mod http;
pub mod store;
pub mod verify;

use crate::object_lambda;
use access_point::AccessPoint;
use aws_credential_types::Credentials;
use front::Front;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use store::Store;
use tokio::net::TcpListener;

/// What `local` runs with.
#[derive(Debug, Clone)]
pub struct Options {
    /// The front's port (0: any free port). The access point and the store take free ports.
    pub port: u16,
    /// The directory served as the bucket.
    pub store: PathBuf,
    /// The region of the access point (and of every signature).
    pub region: String,
    /// The credentials the edge function and the transform sign with, which the access point and
    /// the store accept.
    pub credentials: Credentials,
}

/// The addresses of a running chain.
#[derive(Debug, Clone, Copy)]
pub struct Running {
    /// The CloudFront-like front: where viewers send requests.
    pub cloudfront: SocketAddr,
    /// The Object Lambda access point emulator (verifies signatures).
    pub access_point: SocketAddr,
    /// The store behind the supporting access point (presigned `GET`s only).
    pub store: SocketAddr,
}

/// Binds the three servers and spawns them on the current tokio runtime; they serve until it
/// stops.
///
/// # Errors
/// A port that cannot be bound or a store directory that does not exist, as text.
pub async fn start(options: Options) -> Result<Running, String> {
    if !options.store.is_dir() {
        return Err(format!("--store {}: not a directory", options.store.display()));
    }
    let bind = |port: u16| TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port)));
    let front_listener = bind(options.port)
        .await
        .map_err(|e| format!("cannot listen on 127.0.0.1:{}: {e}", options.port))?;
    let ap_listener = bind(0).await.map_err(|e| format!("cannot listen: {e}"))?;
    let store_listener = bind(0).await.map_err(|e| format!("cannot listen: {e}"))?;
    let local_addr = |l: &TcpListener| l.local_addr().map_err(|e| e.to_string());
    let running = Running {
        cloudfront: local_addr(&front_listener)?,
        access_point: local_addr(&ap_listener)?,
        store: local_addr(&store_listener)?,
    };

    let store = Arc::new(Store::new(
        options.store.clone(),
        running.store,
        options.credentials.clone(),
        &options.region,
    ));
    let mut settings = object_lambda::Settings::new(&options.region);
    settings.endpoint = Some(
        format!("http://{}", running.access_point)
            .parse()
            .map_err(|e| format!("the access point's endpoint: {e}"))?,
    );
    let client = object_lambda::Client::new();
    let access_point = Arc::new(AccessPoint::new(
        options.credentials.clone(),
        Arc::clone(&store),
        client,
        settings,
    ));
    let front = Arc::new(Front::new(
        running.access_point,
        AccessPoint::domain(&options.region),
        options.credentials,
    ));

    tokio::spawn(http::serve(store_listener, move |r| {
        let store = Arc::clone(&store);
        async move { store.handle(r).await }
    }));
    tokio::spawn(http::serve(ap_listener, move |r| {
        let access_point = Arc::clone(&access_point);
        async move { access_point.handle(r).await }
    }));
    tokio::spawn(http::serve(front_listener, move |r| {
        let front = Arc::clone(&front);
        async move { front.handle(r).await }
    }));
    Ok(running)
}
