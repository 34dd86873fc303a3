"""What the live-room benchmarks (soak, churn, overload) share: starting a server, its HTTP API, its memory, and
stopping processes."""
import json
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, ".build/release/mcu-record")


def call(method, url):
    """(status, JSON body) of an API request; errors are answers too."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method=method), timeout=60) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def request(method, url):
    """The JSON body of an API request that must succeed."""
    status, body = call(method, url)
    if status >= 300:
        sys.exit(f"{method} {url}: {status} {body}")
    return body


def start_server(folder, size, extra=(), preexec_fn=None):
    """A server recording on demand into `folder`; returns the process and its base URL."""
    server = subprocess.Popen([BIN, "--http", "127.0.0.1:0", "--output", folder, "--manual-recording", "--size", size,
                               "--idle-timeout", "600", *extra],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, preexec_fn=preexec_fn)
    while True:
        line = server.stdout.readline()
        if not line:
            sys.exit("the server did not start")
        match = re.search(r"(http://[^ ]+)/rooms/", line)
        if match:
            return server, match.group(1)


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1)) / 1024


def stop(processes):
    """SIGINT (publishers leave with a WHIP DELETE, a server finishes its recordings), then wait for all."""
    for p in processes:
        p.send_signal(signal.SIGINT)
    return [p.wait() for p in processes]
