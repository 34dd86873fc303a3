#!/usr/bin/env python3
"""A WHIP front door that only redirects: every POST gets `307 Temporary Redirect` to TARGET (as a load balancer or
a recorder fleet's entry point would answer). Prints `redirect ready PORT`, then serves until killed."""
import http.server
import sys

target = sys.argv[1]


class Redirect(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0") or 0))
        self.send_response(307)
        self.send_header("Location", target)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", 0), Redirect)
print(f"redirect ready {server.server_address[1]}", flush=True)
server.serve_forever()
