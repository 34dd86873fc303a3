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


TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """User + system CPU seconds of a process so far (from /proc)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def thread_seconds(pid):
    """{thread id: (name, CPU seconds)} of a process's threads."""
    threads = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                text = f.read()
        except OSError:
            continue
        fields = text.rsplit(")", 1)[1].split()
        threads[tid] = (text[text.index("(") + 1:text.rindex(")")], (int(fields[11]) + int(fields[12])) / TICK)
    return threads


def measure_room(folder, extra, publisher_args, ramp, window, per_thread=None):
    """Cores one recording uses: a server recording room `bench` with `extra` options, four built-in publishers
    (640x360 test pattern; `publisher_args(i)` adds to publisher i's arguments), CPU over `window` s after `ramp` s.
    `per_thread`, a dict, gets the cores of each kind of thread (by thread name) over the same window."""
    import time
    os.makedirs(folder, exist_ok=True)
    server, base = start_server(folder, "1280x720", extra)
    publishers = []
    try:
        request("POST", f"{base}/rooms/bench/recording")
        for i in range(4):
            publishers.append(subprocess.Popen([BIN, "publish", "--whip", f"{base}/rooms/bench/whip", "--name", f"p{i}", "--size", "640x360",
                                                "--duration", str(ramp + window + 10), *publisher_args(i)],
                                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        time.sleep(ramp)
        start, before, threads = time.time(), cpu_seconds(server.pid), thread_seconds(server.pid)
        time.sleep(window)
        cores = (cpu_seconds(server.pid) - before) / (time.time() - start)
        if per_thread is not None:
            for tid, (name, seconds) in thread_seconds(server.pid).items():
                used = (seconds - threads.get(tid, (name, 0))[1]) / (time.time() - start)
                per_thread[name] = per_thread.get(name, 0) + used
        request("DELETE", f"{base}/rooms/bench/recording")
        return cores
    finally:
        stop(publishers)
        stop([server])
