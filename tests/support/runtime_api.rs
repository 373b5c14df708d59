//! A local emulator of the Lambda Runtime API, for black-box tests and benchmarks of a bootstrap.
//!
//! The emulator listens on `127.0.0.1` (an ephemeral port, loopback only) and speaks the part of
//! the API a custom runtime uses (see `../shared/notes/aws-facts.md`, "Lambda Runtime API"):
//!
//! - `GET /2018-06-01/runtime/invocation/next`: hands out the next queued event with the headers
//!   `Lambda-Runtime-Aws-Request-Id`, `Lambda-Runtime-Deadline-Ms` (now + 30 s, in milliseconds
//!   since the epoch), `Lambda-Runtime-Invoked-Function-Arn` and `Lambda-Runtime-Trace-Id`; while
//!   the queue is empty, the request is held open (long poll), as Lambda does;
//! - `POST /2018-06-01/runtime/invocation/{id}/response` and `…/{id}/error`: the invocation's
//!   outcome, answered `202 Accepted`;
//! - `POST /2018-06-01/runtime/init/error`: answered `202 Accepted`.
//!
//! Everything the runtime sends is recorded ([`RuntimeApi::exchanges`]), with the time it arrived,
//! so that a benchmark can measure process start → first `/next` (the end of init) → first
//! response itself. Anything outside the protocol (an unknown path, an outcome for an id never
//! handed out, a second outcome for the same id) is answered with an error status and listed by
//! [`RuntimeApi::violations`].
//!
//! Every wait the caller makes takes a timeout. Requests are served on std threads (one per
//! request, so a held `/next` never blocks a `/response`); dropping the emulator stops them all.
//!
//! Use it from a test or a bench with
//! `#[path = "…/tests/support/runtime_api.rs"] mod runtime_api;`.

// Each includer uses a different part of this module.
#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tiny_http::{Header, Method, Request, Response, Server};

/// The API version prefix of every path.
pub const PREFIX: &str = "/2018-06-01/runtime";
/// The function ARN sent with each event.
pub const FUNCTION_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:origin-request";
/// The X-Ray trace header sent with each event.
pub const TRACE_ID: &str = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
/// How long each invocation is given (the `Lambda-Runtime-Deadline-Ms` header is now + this).
pub const INVOCATION_BUDGET: Duration = Duration::from_secs(30);
/// How often held requests and the accept loop look at whether the emulator is stopping.
const TICK: Duration = Duration::from_millis(50);

/// One HTTP request the runtime made, as received.
#[derive(Clone, Debug)]
pub struct Exchange {
    /// When the request arrived (for `/next`: when the runtime started waiting).
    pub at: Instant,
    /// `GET`, `POST`, …
    pub method: String,
    /// The request target, such as `/2018-06-01/runtime/invocation/next`.
    pub path: String,
    /// Header names (lower-cased) and values, in the order received.
    pub headers: Vec<(String, String)>,
    /// The request body.
    pub body: Vec<u8>,
}

impl Exchange {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Which endpoint an outcome was posted to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutcomeKind {
    /// `POST …/invocation/{id}/response`.
    Response,
    /// `POST …/invocation/{id}/error`.
    Error,
}

/// What the runtime answered for one invocation (or, for [`RuntimeApi::init_errors`], at init).
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Response or error.
    pub kind: OutcomeKind,
    /// When the post arrived.
    pub at: Instant,
    /// The `Lambda-Runtime-Function-Error-Type` header, if any.
    pub error_type: Option<String>,
    /// The posted body (for an error, JSON with `errorType` and `errorMessage`).
    pub body: Vec<u8>,
}

impl Outcome {
    /// The body as JSON; panics (with the body) if it is not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "posted body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// `errorMessage` of an error body; `None` if absent.
    pub fn error_message(&self) -> Option<String> {
        let json: serde_json::Value = serde_json::from_slice(&self.body).ok()?;
        json.get("errorMessage")?.as_str().map(str::to_owned)
    }
}

#[derive(Default)]
struct State {
    /// Events not yet handed out: (request id, payload).
    queue: VecDeque<(String, Vec<u8>)>,
    /// Request ids handed out, with when.
    delivered: HashMap<String, Instant>,
    /// Outcomes by request id.
    outcomes: HashMap<String, Outcome>,
    init_errors: Vec<Outcome>,
    exchanges: Vec<Exchange>,
    violations: Vec<String>,
    next_polls: usize,
    invocations: u64,
    stopping: bool,
}

struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking handler thread must not hide the record from the test.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Waits until `done` holds or `timeout` passes; returns the state either way.
    fn wait_until(&self, timeout: Duration, mut done: impl FnMut(&State) -> bool) -> MutexGuard<'_, State> {
        let deadline = Instant::now() + timeout;
        let mut state = self.lock();
        while !done(&state) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            state = self
                .changed
                .wait_timeout(state, left)
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .0;
        }
        state
    }

    fn update<T>(&self, change: impl FnOnce(&mut State) -> T) -> T {
        let result = change(&mut self.lock());
        self.changed.notify_all();
        result
    }
}

/// The emulator. Dropping it stops the server and releases any held `/next`.
pub struct RuntimeApi {
    server: Arc<Server>,
    shared: Arc<Shared>,
    address: SocketAddr,
    acceptor: Option<JoinHandle<()>>,
}

impl RuntimeApi {
    /// Starts an emulator on `127.0.0.1` with an ephemeral port and an empty queue.
    pub fn start() -> io::Result<Self> {
        let listener = listener()?;
        let address = listener.local_addr()?;
        let server = Server::from_listener(listener, None).map_err(io::Error::other)?;
        let server = Arc::new(server);
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
        });
        let acceptor = {
            let (server, shared) = (Arc::clone(&server), Arc::clone(&shared));
            thread::Builder::new()
                .name("runtime-api-accept".into())
                .spawn(move || accept(&server, &shared))?
        };
        Ok(Self {
            server,
            shared,
            address,
            acceptor: Some(acceptor),
        })
    }

    /// `program` as Lambda starts a function: a bare environment (`PATH` kept) with the runtime's
    /// variables pointing at this emulator, `task_root` as `LAMBDA_TASK_ROOT` and working
    /// directory, and the given credentials (access key, secret, session token).
    pub fn lambda_command(
        &self,
        program: impl AsRef<std::ffi::OsStr>,
        task_root: &std::path::Path,
        (access_key, secret, token): (&str, &str, &str),
    ) -> std::process::Command {
        let mut command = std::process::Command::new(program);
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("AWS_LAMBDA_RUNTIME_API", self.address())
            .env("AWS_LAMBDA_FUNCTION_NAME", "origin-request")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
            .env("LAMBDA_TASK_ROOT", task_root)
            .env("AWS_ACCESS_KEY_ID", access_key)
            .env("AWS_SECRET_ACCESS_KEY", secret)
            .env("AWS_SESSION_TOKEN", token)
            .current_dir(task_root);
        command
    }

    /// `127.0.0.1:PORT`, the value for `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> String {
        self.address.to_string()
    }

    /// Queues an event and returns the request id it will be handed out with.
    pub fn invoke(&self, payload: impl Into<Vec<u8>>) -> String {
        let payload = payload.into();
        self.shared.update(|state| {
            state.invocations += 1;
            let id = format!("c0ffee00-0000-4000-8000-{:012x}", state.invocations);
            state.queue.push_back((id.clone(), payload));
            id
        })
    }

    /// The outcome posted for `request_id`, waiting up to `timeout` for it.
    pub fn wait_outcome(&self, request_id: &str, timeout: Duration) -> Option<Outcome> {
        let state = self
            .shared
            .wait_until(timeout, |s| s.outcomes.contains_key(request_id));
        state.outcomes.get(request_id).cloned()
    }

    /// [`Self::invoke`] then [`Self::wait_outcome`].
    pub fn invoke_and_wait(
        &self,
        payload: impl Into<Vec<u8>>,
        timeout: Duration,
    ) -> (String, Option<Outcome>) {
        let id = self.invoke(payload);
        let outcome = self.wait_outcome(&id, timeout);
        (id, outcome)
    }

    /// Whether the runtime has called `/next` at least `count` times, waiting up to `timeout`.
    /// The first call marks the end of the runtime's init.
    pub fn wait_next_polls(&self, count: usize, timeout: Duration) -> bool {
        self.shared
            .wait_until(timeout, |s| s.next_polls >= count)
            .next_polls
            >= count
    }

    /// The `/init/error` posts so far, waiting up to `timeout` for the first one.
    pub fn wait_init_errors(&self, timeout: Duration) -> Vec<Outcome> {
        self.shared
            .wait_until(timeout, |s| !s.init_errors.is_empty())
            .init_errors
            .clone()
    }

    /// How many times the runtime has called `/next`.
    pub fn next_polls(&self) -> usize {
        self.shared.lock().next_polls
    }

    /// When the runtime first called `/next` (the end of its init), if it has.
    pub fn first_poll_at(&self) -> Option<Instant> {
        let state = self.shared.lock();
        state
            .exchanges
            .iter()
            .find(|e| is_next(&e.method, &e.path))
            .map(|e| e.at)
    }

    /// When the event with `request_id` was handed out, if it was.
    pub fn delivered_at(&self, request_id: &str) -> Option<Instant> {
        self.shared.lock().delivered.get(request_id).copied()
    }

    /// Every outcome posted so far, by request id.
    pub fn outcomes(&self) -> HashMap<String, Outcome> {
        self.shared.lock().outcomes.clone()
    }

    /// Every request received so far, in order of arrival.
    pub fn exchanges(&self) -> Vec<Exchange> {
        self.shared.lock().exchanges.clone()
    }

    /// Protocol violations seen so far, in words.
    pub fn violations(&self) -> Vec<String> {
        self.shared.lock().violations.clone()
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.shared.update(|state| state.stopping = true);
        self.server.unblock();
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

/// A listening socket on `127.0.0.1`, ephemeral port, with `TCP_NODELAY` set: the connections it
/// accepts inherit the option. Without it, tiny_http writes a response's head and body in two
/// segments, and Nagle's algorithm holds the body until the runtime's delayed ACK (about 40 ms on
/// Linux) on every reused connection, which would swamp any timing.
fn listener() -> io::Result<std::net::TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))?;
    socket.set_tcp_nodelay(true)?;
    socket.bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())?;
    socket.listen(128)?;
    Ok(socket.into())
}

fn is_next(method: &str, path: &str) -> bool {
    method == "GET" && path == format!("{PREFIX}/invocation/next")
}

fn accept(server: &Server, shared: &Arc<Shared>) {
    while !shared.lock().stopping {
        match server.recv_timeout(TICK) {
            Ok(Some(request)) => {
                let shared = Arc::clone(shared);
                let spawned = thread::Builder::new()
                    .name("runtime-api-request".into())
                    .spawn(move || serve(request, &shared));
                if spawned.is_err() {
                    return;
                }
            }
            Ok(None) => {}
            Err(_) => return,
        }
    }
}

fn serve(mut request: Request, shared: &Shared) {
    let method = request.method().to_string();
    let path = request.url().to_owned();
    let headers = request
        .headers()
        .iter()
        .map(|h| {
            (
                h.field.as_str().as_str().to_ascii_lowercase(),
                h.value.as_str().to_owned(),
            )
        })
        .collect();
    let mut body = Vec::new();
    if request.as_reader().read_to_end(&mut body).is_err() {
        return;
    }
    let exchange = Exchange {
        at: Instant::now(),
        method,
        path,
        headers,
        body,
    };
    let response = if request.method() == &Method::Get && is_next("GET", &exchange.path) {
        next(exchange, shared)
    } else {
        post(exchange, shared)
    };
    if let Some(response) = response {
        let _ = request.respond(response);
    }
}

/// A held `/next`: answered when an event is queued; dropped (500) if the emulator stops first.
fn next(exchange: Exchange, shared: &Shared) -> Option<Response<io::Cursor<Vec<u8>>>> {
    shared.update(|state| {
        state.next_polls += 1;
        state.exchanges.push(exchange);
    });
    let mut state = shared.lock();
    loop {
        if state.stopping {
            return None;
        }
        if let Some((id, payload)) = state.queue.pop_front() {
            state.delivered.insert(id.clone(), Instant::now());
            drop(state);
            shared.changed.notify_all();
            let deadline = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .saturating_add(INVOCATION_BUDGET)
                .as_millis();
            return Some(
                Response::from_data(payload)
                    .with_status_code(200)
                    .with_header(header("Content-Type", "application/json"))
                    .with_header(header("Lambda-Runtime-Aws-Request-Id", &id))
                    .with_header(header("Lambda-Runtime-Deadline-Ms", &deadline.to_string()))
                    .with_header(header("Lambda-Runtime-Invoked-Function-Arn", FUNCTION_ARN))
                    .with_header(header("Lambda-Runtime-Trace-Id", TRACE_ID)),
            );
        }
        state = shared
            .changed
            .wait_timeout(state, TICK)
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .0;
    }
}

/// Outcomes and anything else: recorded, then answered 202 (or an error status off protocol).
fn post(exchange: Exchange, shared: &Shared) -> Option<Response<io::Cursor<Vec<u8>>>> {
    let outcome = |kind| Outcome {
        kind,
        at: exchange.at,
        error_type: exchange
            .header("lambda-runtime-function-error-type")
            .map(str::to_owned),
        body: exchange.body.clone(),
    };
    let target = exchange
        .path
        .strip_prefix(PREFIX)
        .filter(|_| exchange.method == "POST")
        .and_then(|rest| {
            if rest == "/init/error" {
                return Some((None, outcome(OutcomeKind::Error)));
            }
            let rest = rest.strip_prefix("/invocation/")?;
            let (id, kind) = rest.split_once('/')?;
            let kind = match kind {
                "response" => OutcomeKind::Response,
                "error" => OutcomeKind::Error,
                _ => return None,
            };
            Some((Some(id.to_owned()), outcome(kind)))
        });
    let description = format!("{} {}", exchange.method, exchange.path);
    let status = shared.update(|state| {
        state.exchanges.push(exchange);
        let (status, violation) = match target {
            None => (
                404,
                Some(format!("{description}: not an endpoint of the Runtime API")),
            ),
            Some((None, init_error)) => {
                state.init_errors.push(init_error);
                (202, None)
            }
            Some((Some(id), _)) if !state.delivered.contains_key(&id) => (
                400,
                Some(format!("{description}: request id {id} was never handed out")),
            ),
            Some((Some(id), _)) if state.outcomes.contains_key(&id) => (
                400,
                Some(format!("{description}: request id {id} already has an outcome")),
            ),
            Some((Some(id), outcome)) => {
                state.outcomes.insert(id, outcome);
                (202, None)
            }
        };
        state.violations.extend(violation);
        status
    });
    let body = if status == 202 {
        r#"{"status":"OK"}"#.to_owned()
    } else {
        r#"{"errorType":"InvalidRequest","errorMessage":"rejected by the emulator"}"#.to_owned()
    };
    Some(
        Response::from_data(body.into_bytes())
            .with_status_code(status)
            .with_header(header("Content-Type", "application/json")),
    )
}

fn header(name: &str, value: &str) -> Header {
    Header::from_bytes(name.as_bytes(), value.as_bytes())
        .unwrap_or_else(|()| panic!("invalid header {name}: {value}"))
}
