"""The origin-request signer the seed sample's way: Python, standard library only (hashlib, hmac,
urllib), as in aws-samples/amazon-s3-object-lambda-with-amazon-cloudfront lambda/edge_signer.

A cold-start peer for benches/cold_start.rs, which checks every response against aws-sigv4, and for
tests/peers.rs. It follows edge-signer's rules for a forwarded request, not the sample's shortcuts
(the sample signs the raw uri and query, which S3 rejects for many keys):

- the origin must be `<name>.s3-object-lambda.<region>.amazonaws.com[.cn]`; region from the domain;
- `host` becomes the origin domain; the viewer's `authorization` and `x-amz-*` headers are dropped;
- the path in S3 canonical form: decode, encode every byte outside A-Za-z0-9-_.~ once, keep `/`;
- only `showExif` kept in the query, canonically encoded and sorted;
- signed headers exactly host;x-amz-cf-id;x-amz-content-sha256;x-amz-date;x-amz-security-token,
  `x-amz-cf-id` = config.requestId signed but not added (CloudFront adds it);
- UNSIGNED-PAYLOAD without a body, the body's SHA-256 with one.

Anything else raises (the benchmark sends only valid events; generated responses are not modelled).
"""

import base64
import datetime
import hashlib
import hmac
import os
import re
import urllib.parse

ALLOWED_QUERY = {"showExif"}
ORIGIN = re.compile(r"^(.+)\.s3-object-lambda\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$")
SERVICE = "s3-object-lambda"
UNRESERVED = "-_.~"  # plus ASCII letters and digits, which quote() always keeps

# Read once at init, as the execution role's credentials arrive in the environment.
ACCESS_KEY = os.environ.get("AWS_ACCESS_KEY_ID")
SECRET_KEY = os.environ.get("AWS_SECRET_ACCESS_KEY")
SESSION_TOKEN = os.environ.get("AWS_SESSION_TOKEN")


def _hmac(key, text):
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()


def signing_key(secret, date, region, service):
    """kDate -> kRegion -> kService -> kSigning."""
    k_date = _hmac(("AWS4" + secret).encode("utf-8"), date)
    k_region = _hmac(k_date, region)
    k_service = _hmac(k_region, service)
    return _hmac(k_service, "aws4_request")


def canonical_path(uri):
    """S3's canonical path: decode every %XX (strictly), then encode each byte once, `/` kept."""
    if re.search(r"%(?![0-9A-Fa-f]{2})", uri):
        raise ValueError("invalid percent-encoding in uri %r" % uri)
    key = urllib.parse.unquote_to_bytes(uri)
    key.decode("utf-8")  # raises on invalid UTF-8
    return urllib.parse.quote(key, safe="/" + UNRESERVED)


def filtered_query(raw):
    """The allow-listed parameters, form-decoded, re-encoded and sorted: `name=value&...`."""
    pairs = []
    for name, value in urllib.parse.parse_qsl(raw, keep_blank_values=True):
        if name in ALLOWED_QUERY:
            pairs.append(
                (urllib.parse.quote(name, safe=UNRESERVED), urllib.parse.quote(value, safe=UNRESERVED))
            )
    pairs.sort()
    return "&".join("%s=%s" % pair for pair in pairs)


def origin_domain(origin):
    kinds = [kind for kind in ("custom", "s3") if origin.get(kind)]
    if len(kinds) != 1:
        raise ValueError("request.origin must hold exactly one of custom or s3")
    return origin[kinds[0]]["domainName"]


def payload_hash(request):
    body = request.get("body")
    if not body or not body.get("data"):
        return "UNSIGNED-PAYLOAD"
    if body.get("inputTruncated"):
        raise ValueError("the body was truncated by CloudFront")
    if body.get("encoding") == "base64":
        data = base64.b64decode(body["data"])
    else:
        data = body["data"].encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def handler(event, context):
    cf = event["Records"][0]["cf"]
    if cf["config"]["eventType"] != "origin-request":
        raise ValueError("eventType is %r, expected origin-request" % cf["config"]["eventType"])
    if not (ACCESS_KEY and SECRET_KEY):
        raise ValueError("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set")
    request = cf["request"]
    domain = origin_domain(request["origin"])
    match = ORIGIN.match(domain)
    if not match:
        raise ValueError("origin %s is not an S3 Object Lambda access point" % domain)
    region = match.group(2)

    uri = canonical_path(request["uri"])
    query = filtered_query(request.get("querystring", ""))
    content_sha256 = payload_hash(request)
    now = datetime.datetime.now(datetime.timezone.utc)
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    date = amz_date[:8]

    signed = [
        ("host", domain),
        ("x-amz-cf-id", cf["config"]["requestId"]),
        ("x-amz-content-sha256", content_sha256),
        ("x-amz-date", amz_date),
    ]
    if SESSION_TOKEN:
        signed.append(("x-amz-security-token", SESSION_TOKEN))
    signed_headers = ";".join(name for name, _ in signed)
    canonical_request = "\n".join(
        [
            request["method"],
            uri,
            query,
            "".join("%s:%s\n" % (name, " ".join(value.split())) for name, value in signed),
            signed_headers,
            content_sha256,
        ]
    )
    scope = "%s/%s/%s/aws4_request" % (date, region, SERVICE)
    string_to_sign = "\n".join(
        [
            "AWS4-HMAC-SHA256",
            amz_date,
            scope,
            hashlib.sha256(canonical_request.encode("utf-8")).hexdigest(),
        ]
    )
    key = signing_key(SECRET_KEY, date, region, SERVICE)
    signature = hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    authorization = "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (
        ACCESS_KEY,
        scope,
        signed_headers,
        signature,
    )

    headers = {
        name: fields
        for name, fields in request.get("headers", {}).items()
        if name not in ("authorization", "host") and not name.startswith("x-amz-")
    }
    headers["host"] = [{"key": "Host", "value": domain}]
    headers["x-amz-date"] = [{"key": "X-Amz-Date", "value": amz_date}]
    headers["x-amz-content-sha256"] = [{"key": "X-Amz-Content-SHA256", "value": content_sha256}]
    if SESSION_TOKEN:
        headers["x-amz-security-token"] = [{"key": "X-Amz-Security-Token", "value": SESSION_TOKEN}]
    headers["authorization"] = [{"key": "Authorization", "value": authorization}]

    forwarded = dict(request)
    forwarded["uri"] = uri
    forwarded["querystring"] = query
    forwarded["headers"] = headers
    return forwarded
