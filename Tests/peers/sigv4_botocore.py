#!/usr/bin/env python3
"""Signs requests with botocore's S3 SigV4 signer, for comparison with ours.

stdin: a JSON list of {"method", "url", "headers": [[name, value]], "body_hex", "time" (seconds since 1970),
"access_key", "secret_key", "token" (or null), "region"}. stdout: a JSON list of {"authorization", "x-amz-date",
"x-amz-content-sha256"} in the same order."""
import datetime
import json
import sys

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

out = []
for spec in json.load(sys.stdin):
    fixed = datetime.datetime.fromtimestamp(spec["time"], datetime.timezone.utc).replace(tzinfo=None)
    botocore.auth.get_current_datetime = lambda fixed=fixed: fixed
    request = AWSRequest(method=spec["method"], url=spec["url"], headers=dict(spec["headers"]),
                         data=bytes.fromhex(spec["body_hex"]))
    credentials = Credentials(spec["access_key"], spec["secret_key"], spec.get("token"))
    botocore.auth.S3SigV4Auth(credentials, "s3", spec["region"]).add_auth(request)
    out.append({"authorization": request.headers["Authorization"], "x-amz-date": request.headers["X-Amz-Date"],
                "x-amz-content-sha256": request.headers["X-Amz-Content-SHA256"]})
json.dump(out, sys.stdout)
