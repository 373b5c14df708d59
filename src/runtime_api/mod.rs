//! The Lambda Runtime API client the bootstraps run on: the standard library and `httparse`, one
//! kept-alive connection, blocking calls.
//!
//! A custom runtime asks `GET /2018-06-01/runtime/invocation/next` for an event, then posts the
//! function's answer to `…/invocation/{id}/response` or its error to `…/invocation/{id}/error`, and
//! reports a failed start to `…/runtime/init/error`
//! ([Runtime API](https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html)). That is all
//! [`serve`] does around a handler, in a few hundred lines instead of lambda_runtime's async stack
//! (tokio, hyper, tower): `origin-request` does no I/O of its own, and the async stack was most of
//! what it spent above a std-only loop at a cold start (`cargo bench --bench cold_start`; the
//! README's cold-start section).
//!
//! What it does as lambda_runtime does: the same error document (`errorType`, `errorMessage`) and
//! `Lambda-Runtime-Function-Error-Type` header; a failed Runtime API call ends the process (Lambda
//! then starts a new one). What it adds: a start that fails (say, an invalid configuration file) is
//! posted to `/init/error` with its own error type, so that the caller sees that message rather
//! than `Runtime.ExitError`.

mod http;

use http::{Connection, Response};
use std::fmt::Display;
use std::process::ExitCode;

/// The path prefix of every call (the API version Lambda serves).
pub const PREFIX: &str = "/2018-06-01/runtime";

/// One event to handle, with what Lambda says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// `Lambda-Runtime-Aws-Request-Id`: names the invocation in the answer's path and in the logs.
    pub request_id: String,
    /// `Lambda-Runtime-Deadline-Ms`: when the invocation times out, in milliseconds since the epoch.
    pub deadline_ms: Option<u64>,
    /// `Lambda-Runtime-Invoked-Function-Arn`.
    pub invoked_function_arn: Option<String>,
    /// `Lambda-Runtime-Trace-Id`: the X-Ray trace header.
    pub trace_id: Option<String>,
    /// The event, as Lambda sent it.
    pub event: Vec<u8>,
}

/// A function error, as Lambda reports it to the caller: `{"errorType": …, "errorMessage": …}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// A short machine-readable kind, such as `InvalidEvent`.
    pub error_type: String,
    /// What went wrong, for a person.
    pub error_message: String,
}

impl Diagnostic {
    /// A diagnostic of `error_type` whose message is `message` displayed.
    pub fn new(error_type: impl Into<String>, message: impl Display) -> Self {
        Self {
            error_type: error_type.into(),
            error_message: message.to_string(),
        }
    }

    /// The JSON document Lambda expects.
    ///
    /// ```
    /// use edge_signer::runtime_api::Diagnostic;
    /// let json = Diagnostic::new("InvalidEvent", "line 1: \"x\"").to_json();
    /// assert_eq!(json, br#"{"errorType":"InvalidEvent","errorMessage":"line 1: \"x\""}"#);
    /// ```
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::json!({
            "errorType": self.error_type,
            "errorMessage": self.error_message,
        })
        .to_string()
        .into_bytes()
    }
}

/// Why the Runtime API could not be used. Each ends the process: Lambda starts a new one.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Not started by Lambda (or an emulator).
    #[error(
        "AWS_LAMBDA_RUNTIME_API is not set: this program is a Lambda function's bootstrap, started by Lambda"
    )]
    NotInLambda,
    /// The connection failed.
    #[error("the Runtime API at {api}: {source}")]
    Io {
        api: String,
        #[source]
        source: std::io::Error,
    },
    /// The answer was not the HTTP/1.1 the API speaks.
    #[error("the Runtime API at {api} answered {call} with malformed HTTP: {what}")]
    Protocol {
        api: String,
        call: &'static str,
        what: String,
    },
    /// The API refused a call.
    #[error("the Runtime API at {api} refused {call}: HTTP {status}: {body}")]
    Refused {
        api: String,
        call: &'static str,
        status: u16,
        body: String,
    },
}

/// A client of one Runtime API endpoint (`host:port`).
pub struct Client {
    api: String,
    connection: Option<Connection>,
    /// The request being written, kept between calls for its capacity.
    request: Vec<u8>,
}

impl Client {
    /// The endpoint in `AWS_LAMBDA_RUNTIME_API`.
    pub fn from_env() -> Result<Self, Error> {
        match std::env::var("AWS_LAMBDA_RUNTIME_API") {
            Ok(api) if !api.is_empty() => Ok(Self::new(api)),
            _ => Err(Error::NotInLambda),
        }
    }

    /// A client of `api` (`host:port`); it connects on its first call.
    pub fn new(api: impl Into<String>) -> Self {
        Self {
            api: api.into(),
            connection: None,
            request: Vec::with_capacity(4096),
        }
    }

    /// Waits for the next event (a long poll: as long as Lambda has none to give).
    pub fn next_invocation(&mut self) -> Result<Invocation, Error> {
        const CALL: &str = "GET /invocation/next";
        let response = self.call(CALL, "GET", "/invocation/next", false, &[])?;
        if response.status != 200 {
            return Err(self.refused(CALL, &response));
        }
        let request_id = response
            .request_id
            .filter(|id| is_path_safe(id))
            .ok_or_else(|| self.protocol(CALL, "no valid Lambda-Runtime-Aws-Request-Id"))?;
        tracing::trace!(request_id, bytes = response.body.len(), "invocation received");
        Ok(Invocation {
            request_id,
            deadline_ms: response.deadline_ms,
            invoked_function_arn: response.invoked_function_arn,
            trace_id: response.trace_id,
            event: response.body,
        })
    }

    /// Posts the answer to invocation `request_id`.
    pub fn respond(&mut self, request_id: &str, body: &[u8]) -> Result<(), Error> {
        let path = format!("/invocation/{request_id}/response");
        self.post("POST /invocation/{id}/response", &path, false, body)
    }

    /// Posts the error of invocation `request_id`.
    pub fn fail(&mut self, request_id: &str, diagnostic: &Diagnostic) -> Result<(), Error> {
        let path = format!("/invocation/{request_id}/error");
        let body = diagnostic.to_json();
        self.post("POST /invocation/{id}/error", &path, true, &body)
    }

    /// Reports that the function could not start.
    pub fn init_failed(&mut self, diagnostic: &Diagnostic) -> Result<(), Error> {
        let body = diagnostic.to_json();
        self.post("POST /init/error", "/init/error", true, &body)
    }

    fn post(&mut self, call: &'static str, path: &str, is_error: bool, body: &[u8]) -> Result<(), Error> {
        let response = self.call(call, "POST", path, is_error, body)?;
        if !(200..300).contains(&response.status) {
            return Err(self.refused(call, &response));
        }
        tracing::trace!(path, "posted");
        Ok(())
    }

    /// One request and its response, on the kept-alive connection (opened first if need be).
    fn call(
        &mut self,
        call: &'static str,
        method: &str,
        path: &str,
        is_error: bool,
        body: &[u8],
    ) -> Result<Response, Error> {
        let request = &mut self.request;
        request.clear();
        request.extend_from_slice(method.as_bytes());
        request.push(b' ');
        request.extend_from_slice(PREFIX.as_bytes());
        request.extend_from_slice(path.as_bytes());
        request.extend_from_slice(b" HTTP/1.1\r\nHost: ");
        request.extend_from_slice(self.api.as_bytes());
        request.extend_from_slice(b"\r\nUser-Agent: edge-signer/");
        request.extend_from_slice(env!("CARGO_PKG_VERSION").as_bytes());
        if method == "POST" {
            request.extend_from_slice(b"\r\nContent-Type: application/json\r\nContent-Length: ");
            request.extend_from_slice(body.len().to_string().as_bytes());
        }
        if is_error {
            // Lambda's own runtimes send `Unhandled`; the type is in the body.
            request.extend_from_slice(b"\r\nLambda-Runtime-Function-Error-Type: Unhandled");
        }
        request.extend_from_slice(b"\r\n\r\n");
        request.extend_from_slice(body);

        let connection = match &mut self.connection {
            Some(connection) => connection,
            empty => empty.insert(Connection::open(&self.api).map_err(|source| Error::Io {
                api: self.api.clone(),
                source,
            })?),
        };
        let result = connection.exchange(&self.request);
        match result {
            Ok(response) => {
                if response.close {
                    self.connection = None;
                }
                Ok(response)
            }
            Err(e) => {
                self.connection = None;
                Err(match e {
                    http::Failure::Io(source) => Error::Io {
                        api: self.api.clone(),
                        source,
                    },
                    http::Failure::Protocol(what) => self.protocol(call, what),
                })
            }
        }
    }

    fn protocol(&self, call: &'static str, what: impl Into<String>) -> Error {
        Error::Protocol {
            api: self.api.clone(),
            call,
            what: what.into(),
        }
    }

    fn refused(&self, call: &'static str, response: &Response) -> Error {
        Error::Refused {
            api: self.api.clone(),
            call,
            status: response.status,
            body: String::from_utf8_lossy(&response.body).into_owned(),
        }
    }
}

/// A request id goes into a path: visible ASCII only, and none of `/ ? # %`.
fn is_path_safe(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b'/' | b'?' | b'#' | b'%'))
}

/// A bootstrap's whole life: connect to the Runtime API named in the environment, run `init` once
/// (its error goes to `/init/error` and ends the process), then answer every event with `handler`
/// (its `Err` is the invocation's error), until the Runtime API fails.
///
/// Returns the process's exit status (always a failure: Lambda ends a healthy process by killing
/// it), having written `Error: …` to standard error.
pub fn serve<S>(
    init: impl FnOnce() -> Result<S, Diagnostic>,
    mut handler: impl FnMut(&S, &Invocation) -> Result<Vec<u8>, Diagnostic>,
) -> ExitCode {
    let fail = |message: &dyn Display| {
        eprintln!("Error: {message}");
        ExitCode::FAILURE
    };
    let mut client = match Client::from_env() {
        Ok(client) => client,
        Err(e) => return fail(&e),
    };
    let state = match init() {
        Ok(state) => state,
        Err(diagnostic) => {
            if let Err(e) = client.init_failed(&diagnostic) {
                tracing::error!(error = %e, "could not report the failed start");
            }
            return fail(&diagnostic.error_message);
        }
    };
    loop {
        let invocation = match client.next_invocation() {
            Ok(invocation) => invocation,
            Err(e) => return fail(&e),
        };
        let posted = match handler(&state, &invocation) {
            Ok(body) => client.respond(&invocation.request_id, &body),
            Err(diagnostic) => client.fail(&invocation.request_id, &diagnostic),
        };
        match posted {
            Ok(()) => {}
            // The invocation is lost (say, an answer over Lambda's size limit: 413), not the
            // process: go on with the next one.
            Err(e) if matches!(e, Error::Refused { status, .. } if (400..500).contains(&status)) => {
                let request_id = invocation.request_id.as_str();
                tracing::error!(request_id, error = %e, "answer refused");
            }
            Err(e) => return fail(&e),
        }
    }
}
