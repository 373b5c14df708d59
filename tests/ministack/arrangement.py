"""The upload arrangement of deploy/, in small, on ministack (driven with boto3).

A source bucket whose uploads under a prefix invoke the `s3-event` function (provided.al2023, run
from its zip) through a real bucket notification, a destination bucket, an execution role with
only the permissions the function needs, and an IAM user that uploads. tests/ministack.rs runs it;
a person can too (docs/testing.md), with ministack started by `scripts/ministack start`:

    python arrangement.py setup --zip dist/s3-event-al2023.zip   # prints the uploader's keys
    python arrangement.py put uploads "in/my photo.jpg" photo.jpg
    python arrangement.py wait public "clean/my photo.jpg" --out DIR
    python arrangement.py logs

Every command talks to AWS_ENDPOINT_URL (ministack, never AWS) and signs with ministack's root
keys (`test`/`test`), or with MINISTACK_ACCESS_KEY_ID / MINISTACK_SECRET_ACCESS_KEY when set (the
uploader's, say). It never reads AWS credentials from the environment.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

REGION = "us-east-1"


def client(service):
    endpoint = os.environ.get("AWS_ENDPOINT_URL") or sys.exit("set AWS_ENDPOINT_URL to ministack's address")
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=os.environ.get("MINISTACK_ACCESS_KEY_ID", "test"),
        aws_secret_access_key=os.environ.get("MINISTACK_SECRET_ACCESS_KEY", "test"),
        aws_session_token=None,
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )


def ensure_bucket(s3, name):
    try:
        s3.create_bucket(Bucket=name)
    except ClientError as e:
        if e.response["Error"]["Code"] not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            raise


def role_policy(args):
    """What the function needs: read the uploads under its prefix, HEAD and write its outputs."""
    source = f"arn:aws:s3:::{args.source_bucket}/{args.source_prefix}*"
    dest = f"arn:aws:s3:::{args.dest_bucket}/{args.dest_prefix}*"
    statements = [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": [source, dest]}]
    if not args.no_put:
        statements.append({"Effect": "Allow", "Action": "s3:PutObject", "Resource": dest})
    return {"Version": "2012-10-17", "Statement": statements}


def zip_bootstrap(args):
    """Zips a built s3-event binary as `bootstrap` (0755) at the root, as scripts/package does. A
    debug build's debug information (most of its ~100 MB) is left out first when `strip` is there,
    as the release profile does, so that zipping and unpacking take a second, not ten."""
    with tempfile.TemporaryDirectory() as tmp:
        binary = os.path.join(tmp, "bootstrap")
        shutil.copyfile(args.bootstrap, binary)
        if shutil.which("strip"):
            subprocess.run(["strip", "--strip-debug", binary], check=True)
        with zipfile.ZipFile(args.out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
            entry = zipfile.ZipInfo("bootstrap")
            entry.external_attr = 0o100755 << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            with open(binary, "rb") as f:
                z.writestr(entry, f.read())


def setup(args):
    """Buckets, the execution role and its policy, the function (replaced if there), the bucket
    notification (ObjectCreated:*, prefix filter) and the uploader; prints the ARNs and the
    uploader's keys as JSON."""
    iam, s3, lam = client("iam"), client("s3"), client("lambda")
    ensure_bucket(s3, args.source_bucket)
    ensure_bucket(s3, args.dest_bucket)

    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
    role_name = f"{args.function}-role"
    try:
        role_arn = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    except iam.exceptions.EntityAlreadyExistsException:
        role_arn = iam.get_role(RoleName=role_name)["Role"]["Arn"]
    iam.put_role_policy(RoleName=role_name, PolicyName="objects", PolicyDocument=json.dumps(role_policy(args)))

    env = {
        "EDGE_SIGNER_SOURCE_PREFIX": args.source_prefix,
        "EDGE_SIGNER_DEST_BUCKET": args.dest_bucket,
        "EDGE_SIGNER_DEST_PREFIX": args.dest_prefix,
        # ministack gives a provided runtime no endpoint of its own: the function is told where S3 is.
        "AWS_ENDPOINT_URL_S3": os.environ["AWS_ENDPOINT_URL"],
    }
    if args.exif_suffix:
        env["EDGE_SIGNER_EXIF_SUFFIX"] = args.exif_suffix
    with zipfile.ZipFile(args.zip) as z:
        if "bootstrap" not in z.namelist():
            sys.exit(f"{args.zip}: no bootstrap at the root")
    with open(args.zip, "rb") as f:
        code = f.read()
    # The log group made before the first invocation, as a template does: ministack creates a
    # missing one at each invocation's end without a lock, so two invocations ending together
    # can each make it and one's log is lost.
    logs = client("logs")
    try:
        logs.create_log_group(logGroupName=f"/aws/lambda/{args.function}")
    except logs.exceptions.ResourceAlreadyExistsException:
        pass
    try:
        lam.delete_function(FunctionName=args.function)
    except lam.exceptions.ResourceNotFoundException:
        pass
    function_arn = lam.create_function(
        FunctionName=args.function,
        Runtime="provided.al2023",
        Handler="bootstrap",
        Role=role_arn,
        Code={"ZipFile": code},
        Timeout=30,
        MemorySize=256,
        Environment={"Variables": env},
    )["FunctionArn"]
    lam.put_function_event_invoke_config(FunctionName=args.function, MaximumRetryAttempts=0)
    lam.add_permission(
        FunctionName=args.function,
        StatementId=f"s3-{args.source_bucket}-{int(time.time() * 1000)}",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn=f"arn:aws:s3:::{args.source_bucket}",
    )
    s3.put_bucket_notification_configuration(
        Bucket=args.source_bucket,
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {
                    "Id": "strip-on-upload",
                    "LambdaFunctionArn": function_arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": args.source_prefix}]}},
                }
            ]
        },
    )

    # The uploader: an IAM user whose signed requests ministack verifies (it may read its uploads,
    # which CopyObject needs).
    user = f"{args.function}-uploader"
    try:
        iam.create_user(UserName=user)
    except iam.exceptions.EntityAlreadyExistsException:
        pass
    upload = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"],
                       "Resource": f"arn:aws:s3:::{args.source_bucket}/*"}],
    }
    iam.put_user_policy(UserName=user, PolicyName="upload", PolicyDocument=json.dumps(upload))
    key = iam.create_access_key(UserName=user)["AccessKey"]
    json.dump({"function_arn": function_arn, "role_arn": role_arn,
               "uploader": {"MINISTACK_ACCESS_KEY_ID": key["AccessKeyId"],
                            "MINISTACK_SECRET_ACCESS_KEY": key["SecretAccessKey"]}},
              sys.stdout)
    print()


def put(args):
    """Uploads one file (BUCKET KEY FILE), or a JSON list on stdin (BUCKET `-`) of {bucket, key,
    file, content_type, cache_control, metadata}, each with PutObject, or with "multipart": true
    as a one-part multipart upload, or with "copy_from": KEY as a CopyObject of that key (the
    given headers and metadata replacing its own); prints the ETags S3 answered."""
    s3 = client("s3")
    uploads = (json.load(sys.stdin) if args.bucket == "-" else
               [{"bucket": args.bucket, "key": args.key, "file": args.file}])
    etags = []
    for u in uploads:
        extra = {"Metadata": u.get("metadata", {})}
        if u.get("content_type"):
            extra["ContentType"] = u["content_type"]
        if u.get("cache_control"):
            extra["CacheControl"] = u["cache_control"]
        target = {"Bucket": u["bucket"], "Key": u["key"]}
        if u.get("copy_from"):
            answer = s3.copy_object(**target, CopySource={"Bucket": u["bucket"], "Key": u["copy_from"]},
                                    MetadataDirective="REPLACE", **extra)
            etag = answer["CopyObjectResult"]["ETag"]
        elif u.get("multipart"):
            upload_id = s3.create_multipart_upload(**target, **extra)["UploadId"]
            with open(u["file"], "rb") as f:
                part = s3.upload_part(**target, UploadId=upload_id, PartNumber=1, Body=f.read())
            etag = s3.complete_multipart_upload(**target, UploadId=upload_id, MultipartUpload={
                "Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})["ETag"]
        else:
            with open(u["file"], "rb") as f:
                etag = s3.put_object(**target, Body=f.read(), **extra)["ETag"]
        etags.append(etag.strip('"'))
    json.dump(etags, sys.stdout)
    print()


def wait(args):
    """Waits until every KEY is in BUCKET (with the user metadata --metadata K=V, if given), then
    writes each to OUT/<n>, and OUT/index.json: their headers and the bucket's listing."""
    want = dict([args.metadata.split("=", 1)]) if args.metadata else {}
    s3 = client("s3")
    deadline = time.monotonic() + args.timeout
    pending = list(args.keys)
    while pending:
        for key in list(pending):
            try:
                head = s3.head_object(Bucket=args.bucket, Key=key)
                if want.items() <= head.get("Metadata", {}).items():
                    pending.remove(key)
            except ClientError as e:
                if e.response["Error"]["Code"] not in ("404", "NoSuchKey"):
                    raise
        if pending and time.monotonic() > deadline:
            sys.exit(f"after {args.timeout} s, still missing from {args.bucket}: {pending}")
        if pending:
            time.sleep(0.2)
    os.makedirs(args.out, exist_ok=True)
    index = []
    for n, key in enumerate(args.keys):
        got = s3.get_object(Bucket=args.bucket, Key=key)
        path = os.path.join(args.out, str(n))
        with open(path, "wb") as f:
            f.write(got["Body"].read())
        index.append({"key": key, "file": path, "content_type": got.get("ContentType"),
                      "metadata": got.get("Metadata", {}), "cache_control": got.get("CacheControl")})
    listed = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=args.bucket)
              for o in page.get("Contents", [])]
    with open(os.path.join(args.out, "index.json"), "w") as f:
        json.dump({"objects": index, "listed": listed}, f, ensure_ascii=False)


def logs(args):
    """The function's log lines (CloudWatch Logs, /aws/lambda/FUNCTION), one a line."""
    cw = client("logs")
    try:
        events = cw.filter_log_events(logGroupName=f"/aws/lambda/{args.function}")["events"]
    except cw.exceptions.ResourceNotFoundException:
        events = []
    for e in events:
        print(e["message"].rstrip("\n"))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("setup", help="buckets, role, function, notification, uploader")
    p.add_argument("--zip", required=True, help="the function's zip (scripts/package: dist/s3-event-al2023.zip)")
    p.add_argument("--function", default="s3-event")
    p.add_argument("--source-bucket", default="uploads")
    p.add_argument("--source-prefix", default="in/")
    p.add_argument("--dest-bucket", default="public")
    p.add_argument("--dest-prefix", default="clean/")
    p.add_argument("--exif-suffix", default=".exif.json")
    p.add_argument("--no-put", action="store_true", help="a role without s3:PutObject (it must be refused)")
    p.set_defaults(run=setup)
    p = sub.add_parser("zip", help="zip a built s3-event binary as the function's code")
    p.add_argument("bootstrap")
    p.add_argument("--out", required=True)
    p.set_defaults(run=zip_bootstrap)
    p = sub.add_parser("put", help="upload FILE as BUCKET/KEY (BUCKET '-': a JSON list on stdin)")
    p.add_argument("bucket")
    p.add_argument("key", nargs="?")
    p.add_argument("file", nargs="?")
    p.set_defaults(run=put)
    p = sub.add_parser("wait", help="wait for keys in a bucket and download them")
    p.add_argument("bucket")
    p.add_argument("keys", nargs="+")
    p.add_argument("--out", required=True)
    p.add_argument("--timeout", type=float, default=60)
    p.add_argument("--metadata", help="K=V: wait until the objects carry this user metadata")
    p.set_defaults(run=wait)
    p = sub.add_parser("logs", help="the function's log lines")
    p.add_argument("function", nargs="?", default="s3-event")
    p.set_defaults(run=logs)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
