#!/usr/bin/env python3
"""A webhook receiver as a user would write one: verifies each delivery with the `standardwebhooks` package and
appends it to a JSON-lines log ({"id", "type", "data", "attempt"}); answers 500 to the first FAIL deliveries (to
make the sender retry) and 401 to a bad signature (logged as {"invalid": reason}).

  webhook_receiver.py PORT SECRET LOG [--fail N]"""
import argparse
import http.server
import json
import threading

from standardwebhooks.webhooks import Webhook

parser = argparse.ArgumentParser()
parser.add_argument("port", type=int)
parser.add_argument("secret")
parser.add_argument("log")
parser.add_argument("--fail", type=int, default=0)
args = parser.parse_args()
webhook = Webhook(args.secret)
lock = threading.Lock()
state = {"seen": 0}


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        with lock:
            state["seen"] += 1
            attempt = state["seen"]
            if attempt <= args.fail:
                self.send_response(500)
                self.end_headers()
                return
            try:
                payload = webhook.verify(body, {k: v for k, v in self.headers.items()})
            except Exception as error:  # noqa: BLE001 - any verification failure is a 401
                with open(args.log, "a") as log:
                    log.write(json.dumps({"invalid": str(error)}) + "\n")
                self.send_response(401)
                self.end_headers()
                return
            with open(args.log, "a") as log:
                log.write(json.dumps({"id": self.headers["webhook-id"], "type": payload["type"], "data": payload["data"],
                                      "attempt": attempt}) + "\n")
        self.send_response(204)
        self.end_headers()

    def log_message(self, *_):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()
