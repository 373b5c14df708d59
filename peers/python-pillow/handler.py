"""The EXIF-stripping Lambda function a user writes by hand in Python: for each record of an S3
event, get the object with boto3, open it with Pillow, save it again without EXIF, put it in the
destination bucket. The pattern of the typical "strip EXIF on upload" functions (Pillow re-encode,
boto3), written carefully: every record, keys decoded, Content-Type kept.

The peer of edge-signer's per-object work in benches/triggers.rs. Pillow's `save` re-encodes the
pixels (JPEG quality 75 by default), so the output is a different picture; that is what users get.
"""

import io
import os
import urllib.parse

import boto3
from botocore.config import Config
from PIL import Image

DEST_BUCKET = os.environ.get("DEST_BUCKET", "")
DEST_PREFIX = os.environ.get("DEST_PREFIX", "")

s3 = boto3.client(
    "s3",
    endpoint_url=os.environ.get("AWS_ENDPOINT_URL_S3"),
    config=Config(s3={"addressing_style": "path"}),
)


def handler(event, context):
    for record in event["Records"]:
        bucket = record["s3"]["bucket"]["name"]
        key = urllib.parse.unquote_plus(record["s3"]["object"]["key"])
        response = s3.get_object(Bucket=bucket, Key=key)
        body = response["Body"].read()
        image = Image.open(io.BytesIO(body))
        out = io.BytesIO()
        # No `exif=` argument: Pillow writes none.
        image.save(out, format=image.format)
        s3.put_object(
            Bucket=DEST_BUCKET or bucket,
            Key=DEST_PREFIX + key,
            Body=out.getvalue(),
            ContentType=response.get("ContentType", "application/octet-stream"),
        )
    return {"records": len(event["Records"])}
