"""Runs handler.py the way one warm Lambda instance would: one S3 event per object, in turn, after
the init (imports, the boto3 client) and one warm-up object (not counted). Prints one JSON line for benches/triggers.rs: objects, the CPU and wall time of the invocations alone, the peak RSS after the warm-up and at the end.

    driver.py --warm-up WARM_KEY BUCKET KEY... (environment: AWS_ENDPOINT_URL_S3, AWS_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION, DEST_BUCKET, DEST_PREFIX)
"""

import json
import resource
import sys
import time
import urllib.parse

import handler


def event(bucket, key):
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "eventName": "ObjectCreated:Put",
                "s3": {
                    "bucket": {"name": bucket},
                    "object": {"key": urllib.parse.quote_plus(key, safe="/")},
                },
            }
        ]
    }


def main():
    if sys.argv[1:2] != ["--warm-up"]:
        sys.exit(__doc__)
    warm, bucket, keys = sys.argv[2], sys.argv[3], sys.argv[4:]
    handler.handler(event(bucket, warm), None)
    warm_rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    wall, cpu = time.perf_counter(), time.process_time()
    for key in keys:
        handler.handler(event(bucket, key), None)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(
        json.dumps(
            {
                "objects": len(keys),
                "cpu_s": cpu,
                "wall_s": wall,
                "warm_maxrss_kb": warm_rss_kb,
                "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            }
        )
    )


if __name__ == "__main__":
    main()
