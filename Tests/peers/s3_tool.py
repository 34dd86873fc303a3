#!/usr/bin/env python3
"""What the tests ask of the S3 server (moto's, started by the test) with boto3, beside the recorder.

  s3_tool.py ENDPOINT setup BUCKET          a user with S3 rights and its key (moto with INITIAL_NO_AUTH_ACTION_COUNT=3),
                                            then the bucket; prints {"access_key", "secret_key"}
  s3_tool.py ENDPOINT bucket BUCKET KEY SECRET  makes the bucket with those credentials
  s3_tool.py ENDPOINT get BUCKET KEY OUT KEYID SECRET   downloads an object; prints {"etag", "size", "sse"}
  s3_tool.py ENDPOINT uploads BUCKET KEYID SECRET       unfinished multipart uploads, as JSON
"""
import json
import sys

import boto3
from botocore.config import Config


def client(endpoint, service, key="test", secret="test"):
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=key,
                        aws_secret_access_key=secret, config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))


endpoint, command = sys.argv[1], sys.argv[2]
if command == "setup":
    iam = client(endpoint, "iam")
    iam.create_user(UserName="recorder")
    iam.put_user_policy(UserName="recorder", PolicyName="s3", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:*"], "Resource": "*"}]}))
    key = iam.create_access_key(UserName="recorder")["AccessKey"]
    client(endpoint, "s3", key["AccessKeyId"], key["SecretAccessKey"]).create_bucket(Bucket=sys.argv[3])
    print(json.dumps({"access_key": key["AccessKeyId"], "secret_key": key["SecretAccessKey"]}))
elif command == "bucket":
    client(endpoint, "s3", sys.argv[4], sys.argv[5]).create_bucket(Bucket=sys.argv[3])
elif command == "get":
    s3 = client(endpoint, "s3", sys.argv[6], sys.argv[7])
    head = s3.head_object(Bucket=sys.argv[3], Key=sys.argv[4])
    s3.download_file(sys.argv[3], sys.argv[4], sys.argv[5])
    print(json.dumps({"etag": head["ETag"], "size": head["ContentLength"], "sse": head.get("ServerSideEncryption")}))
elif command == "uploads":
    s3 = client(endpoint, "s3", sys.argv[4], sys.argv[5])
    print(json.dumps(s3.list_multipart_uploads(Bucket=sys.argv[3]).get("Uploads", []), default=str))
