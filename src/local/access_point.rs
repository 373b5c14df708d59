//! The S3 Object Lambda access point, emulated: it verifies each request's SigV4 signature
//! independently of our signer ([`Verifier`], aws-sigv4), answers 403 like AWS when it fails, then
//! invokes the `object-lambda` handler — the same code as in Lambda, through its event type — with
//! a presigned `inputS3Url` on the local store, and answers with what the handler sent to
//! `WriteGetObjectResponse` (which this server also receives, and verifies).

use super::http::Message;
use super::store::{Store, deny};
use super::verify::{Received, Verifier, error_xml};
use crate::object_lambda::{self, S3ObjectLambdaEvent};
use crate::sigv4::SigningKeyCache;
use aws_credential_types::Credentials;
use percent_encoding::percent_decode_str;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use tokio::sync::oneshot;

/// The account in the emulated ARNs.
pub const ACCOUNT: &str = "123456789012";
/// The Object Lambda access point's name.
pub const NAME: &str = "local-olap";
/// How long the access point waits for `WriteGetObjectResponse` (S3 Object Lambda allows 60 s).
pub const RESPONSE_TIMEOUT: Duration = Duration::from_secs(60);

/// The emulated access point.
pub struct AccessPoint {
    verifier: Verifier,
    credentials: Credentials,
    keys: SigningKeyCache,
    store: Arc<Store>,
    client: object_lambda::Client,
    settings: object_lambda::Settings,
    /// The `GET`s waiting for their `WriteGetObjectResponse`, by token: their request id, and
    /// where to send the answer.
    pending: Mutex<HashMap<String, (String, oneshot::Sender<Message>)>>,
    next: AtomicU64,
}

impl AccessPoint {
    /// An access point in `settings.region` that accepts requests signed with `credentials`, reads
    /// through `store`, and runs the transform with `settings` (whose endpoint is this server).
    pub fn new(
        credentials: Credentials,
        store: Arc<Store>,
        client: object_lambda::Client,
        settings: object_lambda::Settings,
    ) -> Self {
        Self {
            verifier: Verifier::new(credentials.clone(), &settings.region, object_lambda::SERVICE),
            credentials,
            keys: SigningKeyCache::new(),
            store,
            client,
            settings,
            pending: Mutex::new(HashMap::new()),
            next: AtomicU64::new(1),
        }
    }

    /// The access point's host name, as CloudFront's origin names it.
    pub fn domain(region: &str) -> String {
        format!("{NAME}-{ACCOUNT}.s3-object-lambda.{region}.amazonaws.com")
    }

    /// Answers one request: `GET`/`HEAD` of an object, or the transform's `WriteGetObjectResponse`.
    pub async fn handle(&self, request: Message) -> Message {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let request_id = format!("LOCAL{n:012}");
        match (request.method.as_str(), request.path()) {
            ("POST", object_lambda::PATH) => self.write_get_object_response(request, &request_id),
            ("GET" | "HEAD", _) => self.get_object(request, n, &request_id).await,
            _ => Message::response(
                405,
                "application/xml",
                error_xml(
                    "MethodNotAllowed",
                    "the access point serves GET and HEAD",
                    &request_id,
                ),
            ),
        }
    }

    async fn get_object(&self, request: Message, n: u64, request_id: &str) -> Message {
        let now = SystemTime::now();
        let received = Received::from(&request);
        if let Err(denied) = self.verifier.verify_header(&received, now) {
            return deny(&denied, request_id);
        }
        let fail = |status: u16, code: &str, message: &str| {
            Message::response(status, "application/xml", error_xml(code, message, request_id))
        };
        let key = percent_decode_str(request.path().trim_start_matches('/')).decode_utf8_lossy();
        let input_url = match self.store.presign_get(&key, &self.credentials, now, &self.keys) {
            Ok(url) => url,
            Err(e) => return fail(400, "InvalidArgument", &e.to_string()),
        };
        let route = format!("io-local-{n}");
        let token = format!(
            "token-{n}-{:016x}",
            now.duration_since(SystemTime::UNIX_EPOCH)
                .unwrap_or_default()
                .as_nanos()
        );
        let event = match self.event(&request, request_id, &input_url, &route, &token) {
            Ok(event) => event,
            Err(e) => return fail(500, "InternalError", &e),
        };

        let (sender, receiver) = oneshot::channel();
        self.lock().insert(token.clone(), (request_id.to_owned(), sender));
        let invoked = object_lambda::handle(
            &event,
            &self.client,
            &self.settings,
            &self.credentials,
            now,
            &self.keys,
        )
        .await;
        // `handle` returns once its WriteGetObjectResponse was answered, and that answer is sent
        // here first: what is still pending now never will be. Removing it drops the sender, so a
        // function that did not write is reported at once instead of after the timeout.
        self.lock().remove(&token);
        let answer = tokio::time::timeout(RESPONSE_TIMEOUT, receiver).await;
        let mut response = match (answer, invoked) {
            (Ok(Ok(response)), _) => response,
            (_, Err(e)) => fail(500, "LambdaRuntimeError", &format!("the function failed: {e}")),
            (_, Ok(_)) => fail(
                500,
                "LambdaResponseNotReceived",
                "the function did not call WriteGetObjectResponse",
            ),
        };
        response
            .headers
            .push(("x-amz-request-id".into(), request_id.to_owned()));
        response
    }

    /// The S3 Object Lambda event for `request`, built as JSON and read through the event type,
    /// as the Lambda runtime does.
    fn event(
        &self,
        request: &Message,
        request_id: &str,
        input_url: &str,
        route: &str,
        token: &str,
    ) -> Result<S3ObjectLambdaEvent, String> {
        let host = request.header("host").unwrap_or_default();
        let headers: serde_json::Map<String, serde_json::Value> = request
            .headers
            .iter()
            .map(|(n, v)| (n.clone(), serde_json::Value::String(v.clone())))
            .collect();
        let region = &self.settings.region;
        let event = serde_json::json!({
            "xAmzRequestId": request_id,
            "getObjectContext": {
                "inputS3Url": input_url,
                "outputRoute": route,
                "outputToken": token,
            },
            "configuration": {
                "accessPointArn": format!("arn:aws:s3-object-lambda:{region}:{ACCOUNT}:accesspoint/{NAME}"),
                "supportingAccessPointArn": format!("arn:aws:s3:{region}:{ACCOUNT}:accesspoint/local-supporting"),
                "payload": "",
            },
            "userRequest": {
                "url": format!("https://{host}{}", request.target),
                "headers": headers,
            },
            "userIdentity": {
                "type": "AssumedRole",
                "principalId": format!("AROAEXAMPLE:{}", self.credentials.access_key_id()),
                "arn": format!("arn:aws:sts::{ACCOUNT}:assumed-role/edge-signer/local"),
                "accountId": ACCOUNT,
                "accessKeyId": self.credentials.access_key_id(),
            },
            "protocolVersion": "1.00",
        });
        object_lambda::parse_event(event.to_string().as_bytes())
            .map_err(|e| format!("the event does not fit its type: {e}"))
    }

    /// `POST /WriteGetObjectResponse`: verified like any request, then handed to the `GET` that
    /// waits for it (by `x-amz-request-token`).
    fn write_get_object_response(&self, request: Message, request_id: &str) -> Message {
        let received = Received::from(&request);
        if let Err(denied) = self.verifier.verify_header(&received, SystemTime::now()) {
            return deny(&denied, request_id);
        }
        let waiting = request
            .header("x-amz-request-token")
            .and_then(|token| self.lock().remove(token));
        let Some((get_request_id, waiting)) = waiting else {
            return Message::response(
                400,
                "application/xml",
                error_xml(
                    "InvalidToken",
                    "no request waits for this x-amz-request-token",
                    request_id,
                ),
            );
        };
        let _ = waiting.send(forwarded(request, &get_request_id));
        Message::response(200, "text/plain", Vec::new())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (String, oneshot::Sender<Message>)>> {
        // A poisoned map only means another request panicked; its entries are still sound.
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// What the viewer gets from a `WriteGetObjectResponse`: `x-amz-fwd-status`, the
/// `x-amz-fwd-header-*` headers, and the body — or S3's error document when the function sent an
/// error code.
fn forwarded(wgor: Message, request_id: &str) -> Message {
    let status = wgor
        .header("x-amz-fwd-status")
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    if let Some(code) = wgor.header("x-amz-fwd-error-code") {
        let message = wgor.header("x-amz-fwd-error-message").unwrap_or_default();
        return Message::response(status, "application/xml", error_xml(code, message, request_id));
    }
    let headers = wgor
        .headers
        .iter()
        .filter_map(|(n, v)| {
            Some((
                n.strip_prefix(object_lambda::FORWARDED_HEADER_PREFIX)?.to_owned(),
                v.clone(),
            ))
        })
        .collect();
    Message {
        status,
        headers,
        body: wgor.body,
        ..Message::default()
    }
}
