"""Verifies forwarded origin requests with botocore's SigV4 signer, as API Gateway and Lambda
function URLs verify them (the path normalised and encoded again, the body hashed).

Run by tests/origin_kinds.rs. Reads a JSON list of cases on stdin, each:
  {"label", "expect": "valid" | "invalid", "service", "region", "method", "url",
   "headers": [[name, value], ...]   (the signed headers, as they reach the origin),
   "body_base64", "authorization", "access_key", "secret_key", "token"}
For each case botocore computes the Authorization header from scratch (SigV4Auth, the timestamp
taken from x-amz-date) and the body's SHA-256 (hashlib); a "valid" case must match both, an
"invalid" one (a tampered request) must not. Prints one JSON summary line; exits 1 on any failure.
"""

import base64
import hashlib
import json
import sys

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def authorization_for(case):
    body = base64.b64decode(case["body_base64"])
    headers = dict(case["headers"])
    request = AWSRequest(method=case["method"], url=case["url"], headers=headers, data=body)
    request.context["timestamp"] = headers["x-amz-date"]
    credentials = Credentials(case["access_key"], case["secret_key"], case.get("token"))
    auth = SigV4Auth(credentials, case["service"], case["region"])
    canonical = auth.canonical_request(request)
    signature = auth.signature(auth.string_to_sign(request, canonical), request)
    signed = auth.signed_headers(auth.headers_to_sign(request))
    value = f"AWS4-HMAC-SHA256 Credential={auth.scope(request)}, SignedHeaders={signed}, Signature={signature}"
    body_ok = headers.get("x-amz-content-sha256") == hashlib.sha256(body).hexdigest()
    return value, body_ok, canonical


def main():
    cases = json.load(sys.stdin)
    verified, rejected, failures = 0, 0, []
    for case in cases:
        expected, body_ok, canonical = authorization_for(case)
        ok = body_ok and expected == case["authorization"]
        if case["expect"] == "valid" and ok:
            verified += 1
        elif case["expect"] == "invalid" and not ok:
            rejected += 1
        else:
            failures.append(
                {
                    "label": case["label"],
                    "expect": case["expect"],
                    "body_hash_matches": body_ok,
                    "botocore": expected,
                    "handler": case["authorization"],
                    "canonical_request": canonical,
                }
            )
    print(json.dumps({"verified": verified, "rejected": rejected, "failures": failures}))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
