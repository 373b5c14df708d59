//! The origin-request handler as a Node-API addon: a thin shell over
//! [`edge_signer::origin_request::handle_json`], for Lambda@Edge, which runs only Node.js and Python.
//!
//! `index.js` builds one [`Signer`] at load, from the environment's credentials and the bundled
//! `edge-signer.json`, then makes one call per event: `handle(eventJson, nowMillis)`. The clock comes
//! from JavaScript so the core stays pure and tests can fix it. Every refusal is a JS `Error` whose
//! `code` says what kind it is (see [`Code`]).

use aws_credential_types::Credentials;
use edge_signer::config::HandlerConfig;
use edge_signer::origin_request::{Context, Outcome, handle_json};
use edge_signer::sigv4::SigningKeyCache;
use napi::Error;
use napi_derive::napi;
use std::time::{Duration, SystemTime};

/// The `code` of a thrown error: one of the core's `EventError::kind()` names (`MalformedEvent`,
/// `WrongEventType`, `AmbiguousOrigin`, …), the same `errorType`s the al2023 bootstrap reports, or
/// `MissingCredentials`, `InvalidConfig`, `InvalidTime`.
pub struct Code(&'static str);

impl AsRef<str> for Code {
    fn as_ref(&self) -> &str {
        self.0
    }
}

type Result<T> = std::result::Result<T, Error<Code>>;

/// Credentials, configuration and signing keys, kept for the life of the process.
#[napi]
pub struct Signer {
    credentials: std::result::Result<Credentials, String>,
    config: HandlerConfig,
    keys: SigningKeyCache,
}

#[napi]
impl Signer {
    /// `configJson`: the contents of `edge-signer.json`, or `null` for the defaults. An invalid
    /// configuration throws; missing credentials do not (every `handle` throws instead).
    #[napi(constructor)]
    pub fn new(
        access_key_id: Option<String>,
        secret_access_key: Option<String>,
        session_token: Option<String>,
        config_json: Option<String>,
    ) -> Result<Self> {
        let config = match config_json {
            None => HandlerConfig::default(),
            Some(json) => {
                HandlerConfig::from_json(json.as_bytes()).map_err(|e| Error::new(Code("InvalidConfig"), e))?
            }
        };
        let credentials = edge_signer::credentials::from_lookup(|name| match name {
            "AWS_ACCESS_KEY_ID" => access_key_id.clone(),
            "AWS_SECRET_ACCESS_KEY" => secret_access_key.clone(),
            "AWS_SESSION_TOKEN" => session_token.clone(),
            _ => None,
        });
        Ok(Self {
            credentials,
            config,
            keys: SigningKeyCache::new(),
        })
    }

    /// The outcome's JSON (the request to forward, or the generated response) for an event's JSON,
    /// signed at `nowMillis` (milliseconds since the Unix epoch, as `Date.now()`).
    #[napi]
    pub fn handle(&self, event_json: String, now_millis: f64) -> Result<String> {
        self.outcome(event_json.as_bytes(), now_millis)
            .map(|outcome| outcome.to_json())
    }

    fn outcome<'e>(&'e self, event: &'e [u8], now_millis: f64) -> Result<Outcome<'e>> {
        let credentials = self
            .credentials
            .as_ref()
            .map_err(|e| Error::new(Code("MissingCredentials"), e.clone()))?;
        if !(now_millis.is_finite() && now_millis >= 0.0) {
            let message = format!("nowMillis must be a time after 1970, got {now_millis}");
            return Err(Error::new(Code("InvalidTime"), message));
        }
        let context = Context {
            credentials,
            now: SystemTime::UNIX_EPOCH + Duration::from_millis(now_millis as u64),
            config: &self.config,
            keys: &self.keys,
        };
        let outcome = handle_json(event, &context).map_err(|e| Error::new(Code(e.kind()), e.to_string()))?;
        if let Outcome::Respond { reason, .. } = &outcome {
            eprintln!("edge-signer: generated response: {reason}");
        }
        Ok(outcome)
    }
}

#[cfg(feature = "object-api")]
#[napi]
impl Signer {
    /// [`Signer::handle`] with the event and the outcome as JS objects, converted by napi's serde
    /// support.
    #[napi]
    pub fn handle_object(&self, event: serde_json::Value, now_millis: f64) -> Result<serde_json::Value> {
        let bytes =
            serde_json::to_vec(&event).map_err(|e| Error::new(Code("MalformedEvent"), e.to_string()))?;
        let json = self.outcome(&bytes, now_millis)?.to_json();
        serde_json::from_str(&json).map_err(|e| Error::new(Code("MalformedEvent"), e.to_string()))
    }
}

/// Round-trips a JS object through napi's serde conversion and nothing else: the floor of the
/// object path's cost, for the measurement.
#[cfg(feature = "object-api")]
#[napi]
pub fn round_trip_object(value: serde_json::Value) -> serde_json::Value {
    value
}
