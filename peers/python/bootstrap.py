"""A minimal Lambda Runtime API loop for Python, standing in for the managed Python runtime in the
cold-start benchmark (benches/cold_start.rs) and in tests/peers.rs.

Like the managed runtime it imports the handler at init (`_HANDLER`, default
`edge_signer.handler`, from LAMBDA_TASK_ROOT or this file's directory), then asks for events and
posts each result. Standard library only; the managed runtime does more than this, so the figures
it gives are a lower bound for Python.
"""

import http.client
import importlib
import json
import os
import sys

PREFIX = "/2018-06-01/runtime"


def main():
    task_root = os.environ.get("LAMBDA_TASK_ROOT") or os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, task_root)
    module_name, function_name = os.environ.get("_HANDLER", "edge_signer.handler").rsplit(".", 1)
    handler = getattr(importlib.import_module(module_name), function_name)

    host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].split(":")
    connection = http.client.HTTPConnection(host, int(port))
    while True:
        connection.request("GET", PREFIX + "/invocation/next")
        response = connection.getresponse()
        event = response.read()
        request_id = response.getheader("Lambda-Runtime-Aws-Request-Id")
        context = {"aws_request_id": request_id}
        try:
            result = handler(json.loads(event), context)
            path = "%s/invocation/%s/response" % (PREFIX, request_id)
            body = json.dumps(result).encode("utf-8")
            headers = {"Content-Type": "application/json"}
        except Exception as error:  # a function error, as the managed runtime reports it
            path = "%s/invocation/%s/error" % (PREFIX, request_id)
            body = json.dumps({"errorType": type(error).__name__, "errorMessage": str(error)}).encode("utf-8")
            headers = {"Content-Type": "application/json", "Lambda-Runtime-Function-Error-Type": "Unhandled"}
        connection.request("POST", path, body=body, headers=headers)
        connection.getresponse().read()


if __name__ == "__main__":
    main()
