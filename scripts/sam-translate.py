"""Translates a SAM template to plain CloudFormation offline, as `sam package` + the
AWS::Serverless-2016-10-31 transform would, so that cfn-lint can check the result with the full
CloudFormation schemas (cfn-lint itself checks SAM resources against SAM's schema only).

Local artefacts (CodeUri: ../dist/x.zip) become s3://edge-signer-artefacts/x.zip, as `sam package` or
`aws cloudformation package` would upload them. No AWS call is made: the template uses no managed policy
names, so the policy loader is never asked.

Usage: python sam-translate.py IN.yaml OUT.json   (run by scripts/lint-templates)
"""

import json
import os
import sys

from cfnlint.decode import decode
from samtranslator.translator.transform import transform


class NoManagedPolicies:
    def load(self):
        return {}


def main(source, target):
    template, matches = decode(source)
    if matches:
        sys.exit(f"{source}: {matches}")
    for resource in template.get("Resources", {}).values():
        properties = resource.get("Properties", {})
        if resource.get("Type") == "AWS::Serverless::Function" and isinstance(properties.get("CodeUri"), str):
            uri = properties["CodeUri"]
            if not uri.startswith("s3://"):
                properties["CodeUri"] = "s3://edge-signer-artefacts/" + os.path.basename(uri)
    translated = transform(json.loads(json.dumps(template)), {}, NoManagedPolicies())
    with open(target, "w") as out:
        json.dump(translated, out, indent=1)


if __name__ == "__main__":
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    main(sys.argv[1], sys.argv[2])
