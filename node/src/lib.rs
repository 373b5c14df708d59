//! The origin-request handler as a Node-API addon: a thin shell over
//! [`edge_signer::origin_request::Handler`], for Lambda@Edge, which runs only Node.js and Python.
//!
//! `index.js` builds one [`Signer`] at load, from the environment's credentials and the bundled
//! `edge-signer.json`, then makes one call per event: `handle(eventJson, nowMillis)`. The clock comes
//! from JavaScript so the core stays pure and tests can fix it. Every refusal is a JS `Error` whose
//! `code` says what kind it is (see [`Code`]). Logging is `index.js`'s: the addon writes nothing.

use edge_signer::config::HandlerConfig;
use edge_signer::origin_request::{Handler, Outcome};
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

/// The handler, kept for the life of the process; or, when the environment has no credentials,
/// why not (every `handle` throws it).
#[napi]
pub struct Signer {
    handler: std::result::Result<Handler, String>,
}

/// What `handle` returns: the outcome's JSON, and for a generated response the operator's reason.
#[napi(object)]
pub struct Handled {
    /// The request to forward, or the generated response, as Lambda@Edge expects it back.
    pub json: String,
    /// Why the function answered instead of forwarding; absent when forwarding.
    pub reason: Option<String>,
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
            handler: credentials.map(|credentials| Handler::new(config, credentials)),
        })
    }

    /// The outcome (the request to forward, or the generated response) for an event's JSON,
    /// signed at `nowMillis` (milliseconds since the Unix epoch, as `Date.now()`). A panic, were
    /// one to happen, is thrown as this call's error.
    #[napi(catch_unwind)]
    pub fn handle(&self, event_json: String, now_millis: f64) -> Result<Handled> {
        let outcome = self.outcome(event_json.as_bytes(), now_millis)?;
        let reason = match &outcome {
            Outcome::Forward(_) => None,
            Outcome::Respond { reason, .. } => Some(reason.clone()),
        };
        Ok(Handled {
            json: outcome.to_json(),
            reason,
        })
    }

    /// [`Signer::handle`] for an event whose `body.data` is a placeholder, with the data given apart
    /// (`Handler::handle_detached`): `index.js` sends a body this way, so that it is not written
    /// into the event's JSON and parsed back out of the outcome's, and puts it back in the result.
    #[napi(catch_unwind)]
    pub fn handle_detached(&self, event_json: String, body_data: String, now_millis: f64) -> Result<Handled> {
        let outcome = self.outcome_with(event_json.as_bytes(), Some(&body_data), now_millis)?;
        let reason = match &outcome {
            Outcome::Forward(_) => None,
            Outcome::Respond { reason, .. } => Some(reason.clone()),
        };
        Ok(Handled {
            json: outcome.to_json(),
            reason,
        })
    }

    fn outcome<'e>(&'e self, event: &'e [u8], now_millis: f64) -> Result<Outcome<'e>> {
        self.outcome_with(event, None, now_millis)
    }

    fn outcome_with<'e>(
        &'e self,
        event: &'e [u8],
        body_data: Option<&'e str>,
        now_millis: f64,
    ) -> Result<Outcome<'e>> {
        let handler = self
            .handler
            .as_ref()
            .map_err(|e| Error::new(Code("MissingCredentials"), e.clone()))?;
        if !(now_millis.is_finite() && now_millis >= 0.0) {
            let message = format!("nowMillis must be a time after 1970, got {now_millis}");
            return Err(Error::new(Code("InvalidTime"), message));
        }
        let now = SystemTime::UNIX_EPOCH + Duration::from_millis(now_millis as u64);
        match body_data {
            None => handler.handle(event, now),
            Some(data) => handler.handle_detached(event, data, now),
        }
        .map_err(|e| Error::new(Code(e.kind()), e.to_string()))
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
