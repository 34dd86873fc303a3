#!/usr/bin/env python3
"""Churn: one room (640x360) with 4 steady publishers while VISITORS more publish media for a second and leave, two at
a time, each with one of the churn behaviours in turn (plain, picture size changes, SSRC switches); one steady
publisher pauses 5 s every 15 s. Prints the server's RSS before and after, how the joins went, and checks the
recording: one format throughout, its full length, and the steady publishers' tiles showing at the end.

usage: Benchmarks/churn.py [VISITORS]   (default 100; release build)
"""
import json
import subprocess
import sys
import tempfile
import time

from liveserver import BIN, request, rss_mb, start_server, stop

VISITORS = int(sys.argv[1]) if len(sys.argv) > 1 else 100


folder = tempfile.mkdtemp(prefix="mcu-churn-")
server, base = start_server(folder, "640x360")
whip = f"{base}/rooms/churn/whip"
colours = ["c04040", "40c040", "4040c0", "c0c040"]
steady = [subprocess.Popen([BIN, "publish", "--whip", whip, "--name", f"steady{n}", "--size", "320x240", "--fps", "15",
                            "--colour", colours[n]] + (["--pause-every", "15", "--pause-for", "5"] if n == 3 else []),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for n in range(4)]
time.sleep(3)
request("POST", f"{base}/rooms/churn/recording")
time.sleep(5)
rss_before = rss_mb(server.pid)
started = time.time()
behaviours = [[], ["--resize-every", "0.5"], ["--switch-ssrc-every", "0.5"]]
failures = 0
running = []
for v in range(VISITORS):
    if len(running) >= 2:
        p = running.pop(0)
        failures += p.wait() != 0
    running.append(subprocess.Popen([BIN, "publish", "--whip", whip, "--name", f"visitor{v}", "--size", "320x240", "--fps", "15",
                                     "--colour", "808080", "--duration", "1"] + behaviours[v % 3],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
for p in running:
    failures += p.wait() != 0
churn_seconds = time.time() - started
time.sleep(5)
rss_after = rss_mb(server.pid)
room = request("GET", f"{base}/rooms/churn")
answer = request("DELETE", f"{base}/rooms/churn/recording")
stop(steady)
stop([server])

probe = json.loads(subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v", "-show_entries",
                                   "stream=width,height:frame=width,height", "-of", "json", answer["file"]],
                                  capture_output=True, text=True).stdout)
sizes = {(f["width"], f["height"]) for f in probe.get("frames", [])}
last = subprocess.run(["ffmpeg", "-v", "error", "-sseof", "-1", "-i", answer["file"], "-frames:v", "1", "-vf", "scale=64:36",
                       "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], capture_output=True).stdout


def tile_colour(cx, cy):
    """Mean colour of an 8x6 patch left of a 2x2 grid cell's centre (the test pattern's bar and counter run elsewhere)."""
    pixels = [last[(y * 64 + x) * 3:(y * 64 + x) * 3 + 3] for y in range(cy - 3, cy + 3) for x in range(cx - 12, cx - 4)]
    return tuple(sum(p[i] for p in pixels) // len(pixels) for i in range(3))


print(f"{VISITORS} visitors published for 1 s each (2 at a time; plain, size changes, SSRC switches in turn) in {churn_seconds:.0f} s; "
      f"{failures} publisher(s) failed")
print(f"server RSS {rss_before:.1f} MB before the visitors, {rss_after:.1f} MB after ({rss_after - rss_before:+.1f} MB); "
      f"participants at the end: {len(room.get('participants', []))}")
print(f"recording {answer['file']}: {answer['duration']:.1f} s, {answer['frames']} frames, frame sizes {sorted(sizes)}; "
      f"lag max {answer['lag']['max']:.0f} ms")
shown = [tile_colour(cx, cy) for cy in (9, 27) for cx in (16, 48)]
expected = [tuple(int(c[i:i + 2], 16) for i in (0, 2, 4)) for c in colours]
matches = sum(any(max(abs(a - b) for a, b in zip(s, e)) < 40 for e in expected) for s in shown)
print(f"steady tiles in the last frame: {matches} of 4 show a steady publisher's colour {shown}")
