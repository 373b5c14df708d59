//! A local emulator of the Lambda Runtime API, for black-box tests and benchmarks of a bootstrap.
//!
//! The emulator listens on `127.0.0.1` (an ephemeral port, loopback only) and speaks the part of
//! the API a custom runtime uses (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html):
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
//! handed out, a second outcome for the same id, malformed HTTP) is answered with an error status
//! and listed by [`RuntimeApi::violations`].
//!
//! Built for timing as much as for testing, on the standard library only (HTTP/1.1 with
//! `Content-Length` or chunked bodies, keep-alive, `Expect: 100-continue`):
//!
//! - no thread hops: a few threads wait in `accept` from the start; the one that accepts a
//!   connection reads its requests, answers them and writes the answers itself, so an event that
//!   is already queued goes out as soon as the runtime's `/next` is read (a held `/next` waits on
//!   a condition variable until [`RuntimeApi::invoke`] queues one); a spare acceptor is started
//!   whenever the last idle one takes a connection, so a runtime may open any number;
//! - no polling: every wait is on a condition variable, and a waiter is woken only once what it
//!   waits for has happened, so the caller's thread does not run while the runtime starts;
//! - each request is stamped with the time its last byte arrived on the socket: on Linux the
//!   kernel's receive timestamp (`SO_TIMESTAMPNS`), so that how soon this process's thread gets a
//!   core (on a busy machine, up to milliseconds) is not counted against the runtime; elsewhere,
//!   the time the read returned.
//!
//! Every wait the caller makes takes a timeout. Dropping the emulator closes its connections and
//! stops and joins its threads.
//!
//! Use it from a test or a bench with
//! `#[path = "…/tests/support/runtime_api.rs"] mod runtime_api;`.

// Each includer uses a different part of this module.
#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::io::{self, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The API version prefix of every path.
pub const PREFIX: &str = "/2018-06-01/runtime";
/// The function ARN sent with each event.
pub const FUNCTION_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:origin-request";
/// The X-Ray trace header sent with each event.
pub const TRACE_ID: &str = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
/// How long each invocation is given (the `Lambda-Runtime-Deadline-Ms` header is now + this).
pub const INVOCATION_BUDGET: Duration = Duration::from_secs(30);
/// Threads waiting in `accept` from the start.
const ACCEPTORS: usize = 2;
/// The largest request head accepted.
const MAX_HEAD: usize = 64 * 1024;
/// The largest request body accepted (Lambda's own limit for a response is 6 MB).
const MAX_BODY: usize = 64 * 1024 * 1024;

/// One HTTP request the runtime made, as received.
#[derive(Clone, Debug)]
pub struct Exchange {
    /// When the request's last byte arrived (for `/next`: when the runtime started waiting).
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
    /// When the post's last byte arrived.
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

/// A thread waiting for the state to satisfy `ready`, woken through its own condition variable.
struct Waiter {
    id: u64,
    ready: Box<dyn Fn(&State) -> bool + Send>,
    wake: Arc<Condvar>,
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
    /// Given to each invocation from now on; `None`: [`INVOCATION_BUDGET`].
    budget: Option<Duration>,
    invocations: u64,
    stopping: bool,
    waiters: Vec<Waiter>,
    next_waiter: u64,
    /// Open connections (clones of the sockets, to shut them down when stopping), by number.
    connections: HashMap<u64, TcpStream>,
    next_connection: u64,
    /// Acceptor threads now waiting in `accept`.
    idle_acceptors: usize,
    threads: Vec<JoinHandle<()>>,
}

struct Shared {
    state: Mutex<State>,
    listener: TcpListener,
    address: SocketAddr,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking connection thread must not hide the record from the test.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Waits until `ready` holds or `timeout` passes (`None`: no limit); returns the state either
    /// way. Only changes that make `ready` hold wake the caller.
    fn wait_until(
        &self,
        timeout: Option<Duration>,
        ready: impl Fn(&State) -> bool + Send + 'static,
    ) -> MutexGuard<'_, State> {
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut state = self.lock();
        if ready(&state) {
            return state;
        }
        let wake = Arc::new(Condvar::new());
        let id = state.next_waiter;
        state.next_waiter += 1;
        state.waiters.push(Waiter {
            id,
            ready: Box::new(ready),
            wake: Arc::clone(&wake),
        });
        loop {
            let satisfied = state
                .waiters
                .iter()
                .find(|w| w.id == id)
                .is_some_and(|w| (w.ready)(&state));
            if satisfied {
                break;
            }
            state = match deadline {
                None => wake.wait(state).unwrap_or_else(|p| p.into_inner()),
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        break;
                    }
                    wake.wait_timeout(state, left)
                        .unwrap_or_else(|p| p.into_inner())
                        .0
                }
            };
        }
        state.waiters.retain(|w| w.id != id);
        state
    }

    /// Changes the state, then wakes the waiters the change satisfies.
    fn update<T>(&self, change: impl FnOnce(&mut State) -> T) -> T {
        let mut state = self.lock();
        let result = change(&mut state);
        wake_ready(&state);
        result
    }
}

fn wake_ready(state: &State) {
    for waiter in &state.waiters {
        if (waiter.ready)(state) {
            waiter.wake.notify_one();
        }
    }
}

/// The emulator. Dropping it stops the server and releases any held `/next`.
pub struct RuntimeApi {
    shared: Arc<Shared>,
}

impl RuntimeApi {
    /// Starts an emulator on `127.0.0.1` with an ephemeral port and an empty queue; returns once
    /// its acceptor threads are running.
    pub fn start() -> io::Result<Self> {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
        // Accepted sockets inherit the option, so that even a request sent before its connection
        // is accepted is stamped.
        timestamps::enable(&listener);
        let address = listener.local_addr()?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            listener,
            address,
        });
        let started = Arc::new(std::sync::Barrier::new(ACCEPTORS + 1));
        {
            let mut state = shared.lock();
            for _ in 0..ACCEPTORS {
                spawn_acceptor(&shared, &mut state, Some(Arc::clone(&started)))?;
            }
        }
        started.wait();
        Ok(Self { shared })
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
        self.shared.address.to_string()
    }

    /// Gives each invocation handed out from now on `budget` instead of [`INVOCATION_BUDGET`] (a
    /// near deadline, without waiting 30 s).
    pub fn set_invocation_budget(&self, budget: Duration) {
        self.shared.update(|state| state.budget = Some(budget));
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
        let id = request_id.to_owned();
        let state = self
            .shared
            .wait_until(Some(timeout), move |s| s.outcomes.contains_key(&id));
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
            .wait_until(Some(timeout), move |s| s.next_polls >= count)
            .next_polls
            >= count
    }

    /// The `/init/error` posts so far, waiting up to `timeout` for the first one.
    pub fn wait_init_errors(&self, timeout: Duration) -> Vec<Outcome> {
        self.shared
            .wait_until(Some(timeout), |s| !s.init_errors.is_empty())
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
        let (threads, idle) = {
            let mut state = self.shared.lock();
            state.stopping = true;
            wake_ready(&state);
            for connection in state.connections.values() {
                let _ = connection.shutdown(Shutdown::Both);
            }
            (std::mem::take(&mut state.threads), state.idle_acceptors)
        };
        // Wake the threads blocked in `accept`: on Linux shutting the listener down does; a
        // connection per idle acceptor does anywhere (each sees `stopping` and returns).
        let _ = socket2::SockRef::from(&self.shared.listener).shutdown(Shutdown::Both);
        for _ in 0..idle {
            let _ = TcpStream::connect_timeout(&self.shared.address, Duration::from_millis(100));
        }
        for thread in threads {
            let _ = thread.join();
        }
    }
}

fn is_next(method: &str, path: &str) -> bool {
    method == "GET" && path == format!("{PREFIX}/invocation/next")
}

/// Starts one more thread waiting in `accept` (counted idle from now).
fn spawn_acceptor(
    shared: &Arc<Shared>,
    state: &mut State,
    started: Option<Arc<std::sync::Barrier>>,
) -> io::Result<()> {
    let thread_shared = Arc::clone(shared);
    let thread = thread::Builder::new().name("runtime-api".into()).spawn(move || {
        if let Some(started) = started {
            started.wait();
        }
        accept_loop(&thread_shared);
    })?;
    state.idle_acceptors += 1;
    state.threads.push(thread);
    Ok(())
}

/// Accepts a connection, serves it until it closes, and again, until the emulator stops.
fn accept_loop(shared: &Arc<Shared>) {
    loop {
        let accepted = shared.listener.accept();
        let (stream, number) = {
            let mut state = shared.lock();
            if state.stopping {
                return;
            }
            let stream = match accepted {
                Ok((stream, _)) => stream,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::Interrupted | io::ErrorKind::ConnectionAborted
                    ) =>
                {
                    continue;
                }
                Err(e) => {
                    state.violations.push(format!("accept: {e}"));
                    state.idle_acceptors -= 1;
                    return;
                }
            };
            state.idle_acceptors -= 1;
            if state.idle_acceptors == 0 {
                // Keep one acceptor waiting, whatever the runtime does with this connection.
                if let Err(e) = spawn_acceptor(shared, &mut state, None) {
                    state.violations.push(format!("cannot start an acceptor: {e}"));
                }
            }
            let number = state.next_connection;
            state.next_connection += 1;
            if let Ok(clone) = stream.try_clone() {
                state.connections.insert(number, clone);
            }
            (stream, number)
        };
        serve_connection(stream, shared);
        let mut state = shared.lock();
        state.connections.remove(&number);
        if state.stopping {
            return;
        }
        state.idle_acceptors += 1;
    }
}

/// Reads and answers requests on one connection until it closes (or breaks the protocol).
fn serve_connection(stream: TcpStream, shared: &Shared) {
    let _ = stream.set_nodelay(true);
    let mut connection = Connection::new(stream);
    loop {
        let request = match connection.read_request() {
            Ok(Some(request)) => request,
            Ok(None) => return,
            Err(ReadError::Io(_)) => return,
            Err(ReadError::Protocol(message)) => {
                shared.update(|state| state.violations.push(format!("malformed HTTP: {message}")));
                let _ = connection.stream.write_all(&response(
                    400,
                    &[("Connection", "close")],
                    br#"{"errorType":"InvalidRequest","errorMessage":"malformed HTTP"}"#,
                ));
                return;
            }
        };
        let close = request.close;
        let answer = if is_next(&request.exchange.method, &request.exchange.path) {
            next(request.exchange, shared)
        } else {
            post(request.exchange, shared)
        };
        // `None`: the emulator is stopping; closing the connection is the answer.
        let Some(answer) = answer else { return };
        if connection.stream.write_all(&answer).is_err() || close {
            return;
        }
    }
}

/// A held `/next`: answered when an event is queued; the connection is closed if the emulator
/// stops first.
fn next(exchange: Exchange, shared: &Shared) -> Option<Vec<u8>> {
    shared.update(|state| {
        state.next_polls += 1;
        state.exchanges.push(exchange);
    });
    let (id, payload, budget) = loop {
        let mut state = shared.wait_until(None, |s| s.stopping || !s.queue.is_empty());
        if state.stopping {
            return None;
        }
        // Another held `/next` may have taken it first.
        if let Some(event) = state.queue.pop_front() {
            state.delivered.insert(event.0.clone(), Instant::now());
            wake_ready(&state);
            break (event.0, event.1, state.budget.unwrap_or(INVOCATION_BUDGET));
        }
    };
    let deadline = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .saturating_add(budget)
        .as_millis()
        .to_string();
    Some(response(
        200,
        &[
            ("Lambda-Runtime-Aws-Request-Id", &id),
            ("Lambda-Runtime-Deadline-Ms", &deadline),
            ("Lambda-Runtime-Invoked-Function-Arn", FUNCTION_ARN),
            ("Lambda-Runtime-Trace-Id", TRACE_ID),
        ],
        &payload,
    ))
}

/// Outcomes and anything else: recorded, then answered 202 (or an error status off protocol).
fn post(exchange: Exchange, shared: &Shared) -> Option<Vec<u8>> {
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
    let body: &[u8] = if status == 202 {
        br#"{"status":"OK"}"#
    } else {
        br#"{"errorType":"InvalidRequest","errorMessage":"rejected by the emulator"}"#
    };
    Some(response(status, &[], body))
}

/// A whole response, head and body, to be written at once (one segment for a small one).
fn response(status: u16, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let reason = match status {
        200 => "OK",
        202 => "Accepted",
        400 => "Bad Request",
        404 => "Not Found",
        _ => "Unknown",
    };
    let mut head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(name);
        head.push_str(": ");
        head.push_str(value);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// A request read off a connection.
struct Request {
    exchange: Exchange,
    /// The client asked to close the connection after the answer.
    close: bool,
}

enum ReadError {
    /// The connection failed or closed in the middle of a request.
    Io(io::Error),
    /// Not the HTTP/1.1 this emulator speaks.
    Protocol(String),
}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> Self {
        ReadError::Io(e)
    }
}

/// One connection's socket and the bytes read from it but not yet consumed.
struct Connection {
    stream: TcpStream,
    buffer: Vec<u8>,
    /// Where the unconsumed bytes start in `buffer`.
    start: usize,
    /// When the last bytes read arrived.
    arrived: Instant,
}

impl Connection {
    fn new(stream: TcpStream) -> Self {
        timestamps::enable(&stream);
        Connection {
            stream,
            buffer: Vec::with_capacity(16 * 1024),
            start: 0,
            arrived: Instant::now(),
        }
    }

    fn pending(&self) -> &[u8] {
        &self.buffer[self.start..]
    }

    /// Reads more bytes into the buffer; `Ok(0)` at the end of the stream.
    fn fill(&mut self) -> io::Result<usize> {
        if self.start > 0 {
            self.buffer.drain(..self.start);
            self.start = 0;
        }
        let old = self.buffer.len();
        self.buffer.resize(old + 16 * 1024, 0);
        let result = timestamps::receive(&self.stream, &mut self.buffer[old..]);
        let read = match &result {
            Ok((n, _)) => *n,
            Err(_) => 0,
        };
        self.buffer.truncate(old + read);
        let (n, arrived) = result?;
        if n > 0 {
            self.arrived = arrived;
        }
        Ok(n)
    }

    /// Takes `n` bytes, reading as many as needed.
    fn take(&mut self, n: usize) -> Result<Vec<u8>, ReadError> {
        while self.pending().len() < n {
            if self.fill()? == 0 {
                return Err(ReadError::Protocol("the connection closed inside a body".into()));
            }
        }
        let bytes = self.pending()[..n].to_vec();
        self.start += n;
        Ok(bytes)
    }

    /// Takes one line (without its CRLF), reading as much as needed.
    fn line(&mut self) -> Result<String, ReadError> {
        loop {
            if let Some(end) = self.pending().windows(2).position(|w| w == b"\r\n") {
                let line = String::from_utf8_lossy(&self.pending()[..end]).into_owned();
                self.start += end + 2;
                return Ok(line);
            }
            if self.pending().len() > MAX_HEAD {
                return Err(ReadError::Protocol("a line longer than 64 KiB".into()));
            }
            if self.fill()? == 0 {
                return Err(ReadError::Protocol(
                    "the connection closed inside a chunked body".into(),
                ));
            }
        }
    }

    /// The next request, or `None` if the client closed the connection between requests.
    fn read_request(&mut self) -> Result<Option<Request>, ReadError> {
        let head_end = loop {
            if let Some(end) = self.pending().windows(4).position(|w| w == b"\r\n\r\n") {
                break end;
            }
            if self.pending().len() > MAX_HEAD {
                return Err(ReadError::Protocol("a request head longer than 64 KiB".into()));
            }
            match self.fill() {
                Ok(0) if self.pending().is_empty() => return Ok(None),
                Ok(0) => {
                    return Err(ReadError::Protocol(
                        "the connection closed inside a request head".into(),
                    ));
                }
                Ok(_) => {}
                // A reset between requests (a killed runtime) ends the connection like a close.
                Err(_) if self.pending().is_empty() => return Ok(None),
                Err(e) => return Err(e.into()),
            }
        };
        let head = String::from_utf8_lossy(&self.pending()[..head_end]).into_owned();
        self.start += head_end + 4;

        let mut lines = head.split("\r\n");
        let request_line = lines.next().unwrap_or_default();
        let mut parts = request_line.split(' ');
        let (Some(method), Some(path), Some(version), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(ReadError::Protocol(format!("request line {request_line:?}")));
        };
        if version != "HTTP/1.1" && version != "HTTP/1.0" {
            return Err(ReadError::Protocol(format!("version {version:?}")));
        }
        let mut headers = Vec::new();
        for line in lines {
            let Some((name, value)) = line.split_once(':') else {
                return Err(ReadError::Protocol(format!("header line {line:?}")));
            };
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
        let find = |name: &str| headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
        let connection = find("connection").map(str::to_ascii_lowercase);
        let close = if version == "HTTP/1.0" {
            connection.as_deref() != Some("keep-alive")
        } else {
            connection.as_deref() == Some("close")
        };
        let chunked = find("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
        let length = match find("content-length") {
            Some(v) => Some(
                v.parse::<usize>()
                    .map_err(|_| ReadError::Protocol(format!("Content-Length {v:?}")))?,
            ),
            None => None,
        };
        if find("expect").is_some_and(|v| v.eq_ignore_ascii_case("100-continue")) {
            self.stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
        }
        let body = if chunked {
            let mut body = Vec::new();
            loop {
                let size_line = self.line()?;
                let size = size_line.split(';').next().unwrap_or_default().trim();
                let size = usize::from_str_radix(size, 16)
                    .map_err(|_| ReadError::Protocol(format!("chunk size {size_line:?}")))?;
                if size == 0 {
                    // Trailers, up to the empty line.
                    while !self.line()?.is_empty() {}
                    break body;
                }
                if body.len() + size > MAX_BODY {
                    return Err(ReadError::Protocol("a body larger than 64 MiB".into()));
                }
                body.extend(self.take(size)?);
                if !self.take(2)?.eq(b"\r\n") {
                    return Err(ReadError::Protocol("a chunk not followed by CRLF".into()));
                }
            }
        } else {
            match length {
                Some(n) if n > MAX_BODY => {
                    return Err(ReadError::Protocol("a body larger than 64 MiB".into()));
                }
                Some(n) => self.take(n)?,
                None => Vec::new(),
            }
        };
        Ok(Some(Request {
            exchange: Exchange {
                at: self.arrived,
                method: method.to_owned(),
                path: path.to_owned(),
                headers,
                body,
            },
            close,
        }))
    }
}

/// Starts `command` with no input and its standard output and error each read to the end by a
/// thread of its own (so that a chatty process never blocks on a full pipe); the readers return
/// the bytes once the process is gone.
pub fn spawn_captured(
    command: &mut std::process::Command,
) -> (std::process::Child, Vec<JoinHandle<Vec<u8>>>) {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
    let pipes: [Box<dyn Read + Send>; 2] = [
        Box::new(child.stdout.take().expect("piped stdout")),
        Box::new(child.stderr.take().expect("piped stderr")),
    ];
    let readers = pipes
        .into_iter()
        .map(|mut pipe| {
            thread::spawn(move || {
                let mut bytes = Vec::new();
                let _ = pipe.read_to_end(&mut bytes);
                bytes
            })
        })
        .collect();
    (child, readers)
}

/// When received bytes arrived: the kernel's receive timestamp where there is one.
#[cfg(target_os = "linux")]
mod timestamps {
    use std::io;
    use std::net::TcpStream;
    use std::os::fd::AsRawFd;
    use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

    /// Asks the kernel to stamp what this socket receives (`SO_TIMESTAMPNS`, `CLOCK_REALTIME`).
    pub fn enable(socket: &impl AsRawFd) {
        let on: libc::c_int = 1;
        // SAFETY: a valid socket and a c_int option of the right size.
        unsafe {
            libc::setsockopt(
                socket.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_TIMESTAMPNS,
                (&raw const on).cast(),
                size_of::<libc::c_int>() as libc::socklen_t,
            );
        }
    }

    /// Reads into `buffer`; returns how many bytes, and when the last of them arrived (the kernel's
    /// stamp, converted to an `Instant`; the time of the read if there is none).
    pub fn receive(stream: &TcpStream, buffer: &mut [u8]) -> io::Result<(usize, Instant)> {
        // Room for one cmsg with a timespec, aligned as cmsghdr needs.
        let mut control = [0u64; 8];
        let mut iov = libc::iovec {
            iov_base: buffer.as_mut_ptr().cast(),
            iov_len: buffer.len(),
        };
        // SAFETY: zeroed msghdr is valid; the pointers set below outlive the call.
        let mut message: libc::msghdr = unsafe { std::mem::zeroed() };
        message.msg_iov = &raw mut iov;
        message.msg_iovlen = 1;
        message.msg_control = control.as_mut_ptr().cast();
        message.msg_controllen = size_of_val(&control) as _;
        let n = loop {
            // SAFETY: a valid socket and a msghdr whose buffers are valid for the call.
            let n = unsafe { libc::recvmsg(stream.as_raw_fd(), &raw mut message, 0) };
            if n >= 0 {
                break n as usize;
            }
            let error = io::Error::last_os_error();
            if error.kind() != io::ErrorKind::Interrupted {
                return Err(error);
            }
        };
        let (now, wall) = (Instant::now(), SystemTime::now());
        let mut arrived = now;
        // SAFETY: the CMSG macros walk the control buffer the kernel filled in, within
        // msg_controllen.
        unsafe {
            let mut cmsg = libc::CMSG_FIRSTHDR(&raw const message);
            while !cmsg.is_null() {
                if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_TIMESTAMPNS {
                    let stamp: libc::timespec = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast());
                    let stamp = UNIX_EPOCH + Duration::new(stamp.tv_sec as u64, stamp.tv_nsec as u32);
                    // Stamped before the read returned, by how long the thread took to run.
                    if let Ok(ago) = wall.duration_since(stamp) {
                        arrived = now.checked_sub(ago).unwrap_or(now);
                    }
                }
                cmsg = libc::CMSG_NXTHDR(&raw const message, cmsg);
            }
        }
        Ok((n, arrived))
    }
}

#[cfg(not(target_os = "linux"))]
mod timestamps {
    use std::io::{self, Read};
    use std::net::TcpStream;
    use std::time::Instant;

    pub fn enable<T>(_: &T) {}

    pub fn receive(mut stream: &TcpStream, buffer: &mut [u8]) -> io::Result<(usize, Instant)> {
        let n = stream.read(buffer)?;
        Ok((n, Instant::now()))
    }
}
