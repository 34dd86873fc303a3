#!/usr/bin/env python3
"""Overload: more rooms than the machine can hold, on one server (release build), 1280x720 composites (veryfast).

1. Admission (default --max-load 0.9): rooms of 4 publishers (`mcu-record publish --file`, 640x480 VP8 + Opus)
   ask to record one after another, 15 s apart; prints which were admitted (201) and which refused (503, reason).
2. Over-commit (--max-load 100): ROOMS rooms record at once for HOLD seconds, then all but KEEP of them stop and
   the rest go on for CALM seconds. Samples the server's RSS and the compositor lag every 5 s; at the end prints per
   room the stop answer (duration, frames, lag, time at a faster preset / a lower frame rate), the load events of
   its events file, and checks every file decodes to its full length.

usage: Benchmarks/overload.py [ROOMS] [HOLD] [CALM]   (defaults 5 90 70; KEEP=2, ADMIT_ROOMS=5 in the environment)
Needs `scripts/gen-fixtures.sh --bench` (the publishers' inputs).
"""
import json
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import time
import urllib.request

from liveserver import BIN, call, request, rss_mb, start_server, stop

ROOT = pathlib.Path(__file__).resolve().parent.parent
INPUTS = ROOT / "Fixtures/generated/bench"
ROOMS = int(sys.argv[1]) if len(sys.argv) > 1 else 5
HOLD = float(sys.argv[2]) if len(sys.argv) > 2 else 90
CALM = float(sys.argv[3]) if len(sys.argv) > 3 else 70
KEEP = int(os.environ.get("KEEP", "2"))
ADMIT_ROOMS = int(os.environ.get("ADMIT_ROOMS", "5"))


def publishers(base, room, index, seconds):
    return [subprocess.Popen([BIN, "publish", "--whip", f"{base}/rooms/{room}/whip", "--name", f"p{p}",
                              "--file", str(INPUTS / f"in{(index * 4 + p) % 16}.webm"), "--duration", str(seconds)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for p in range(4)]


def metric(base, name):
    with urllib.request.urlopen(f"{base}/metrics", timeout=30) as r:
        text = r.read().decode()
    values = [float(m.group(1)) for m in re.finditer(rf"^{name}(?:{{[^}}]*}})? ([-\d.e+]+)$", text, re.M)]
    return values


def admission():
    folder = tempfile.mkdtemp(prefix="mcu-admit-")
    server, base = start_server(folder, "1280x720")
    senders = []
    print(f"1. admission (--max-load 0.9, {os.cpu_count()} cores): a new room asks to record every 15 s", flush=True)
    for r in range(ADMIT_ROOMS):
        room = f"admit{r}"
        senders += publishers(base, room, r, 15 * (ADMIT_ROOMS - r) + 10)
        time.sleep(3)
        status, body = call("POST", f"{base}/rooms/{room}/recording")
        cores = metric(base, "mcu_cpu_cores_used")
        detail = body.get("detail", body.get("file", ""))
        print(f"   room {r + 1}: {status} ({'admitted' if status == 201 else 'refused'}) "
              f"with the server using {cores[0] if cores else float('nan'):.2f} cores; {detail}", flush=True)
        time.sleep(12)
    stop(senders)
    stop([server])


def overcommit():
    folder = tempfile.mkdtemp(prefix="mcu-overload-")
    server, base = start_server(folder, "1280x720", ["--max-load", "100"])
    rooms = [f"over{r}" for r in range(ROOMS)]
    print(f"\n2. over-commit: {ROOMS} rooms record at once for {HOLD:.0f} s, then {KEEP} go on for {CALM:.0f} s", flush=True)
    senders = {}
    for r, room in enumerate(rooms):
        senders[room] = publishers(base, room, r, HOLD + CALM + 30)
    time.sleep(3)
    for room in rooms:
        status, body = call("POST", f"{base}/rooms/{room}/recording")
        if status != 201:
            sys.exit(f"{room}: {status} {body}")
    started = time.time()
    answers = {}
    rss = []
    while time.time() - started < HOLD + CALM:
        time.sleep(5)
        elapsed = time.time() - started
        lag = metric(base, "mcu_compositor_lag_seconds")
        rss.append((elapsed, rss_mb(server.pid)))
        print(f"   {elapsed:5.0f} s  RSS {rss[-1][1]:6.1f} MB  lag (s) {' '.join(f'{v:.2f}' for v in lag)}", flush=True)
        if elapsed >= HOLD and not answers:
            for room in rooms[KEEP:]:
                answers[room] = request("DELETE", f"{base}/rooms/{room}/recording")
                stop(senders[room])
            print(f"   {rooms[KEEP:]} stopped", flush=True)
    for room in rooms[:KEEP]:
        answers[room] = request("DELETE", f"{base}/rooms/{room}/recording")
    for room in rooms[:KEEP]:
        stop(senders[room])
    stop([server])

    print(f"\n   server RSS: {min(v for _, v in rss):.0f}-{max(v for _, v in rss):.0f} MB over the run; "
          f"{rss[len(rss) // 3][1]:.0f} MB at a third, {rss[-1][1]:.0f} MB at the end")
    for room in rooms:
        a = answers[room]
        planned = HOLD + (CALM if room in rooms[:KEEP] else 0)
        probe = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v", "-show_entries",
                                "stream=nb_read_frames:format=duration", "-of", "json", a["file"]], capture_output=True, text=True)
        info = json.loads(probe.stdout or "{}")
        frames = int(info.get("streams", [{}])[0].get("nb_read_frames", 0))
        duration = float(info.get("format", {}).get("duration", 0))
        faster, reduced = a.get("faster_preset"), a.get("reduced_frame_rate")
        print(f"   {room}: {duration:.1f} s of ~{planned:.0f} s, {frames} frames decode ({frames / max(duration, 0.001):.1f} fps average); "
              f"lag max {a['lag']['max']:.0f} ms, at the end {a['lag']['final']:.0f} ms; "
              + (f"faster preset {faster['seconds']:.0f} s (up to {faster['fastest']})" if faster else "no faster preset"), end="")
        print(f"; lower frame rate {reduced['seconds']:.0f} s (down to {reduced['lowest']} fps)" if reduced else "; full frame rate")
        steps = []
        with open(a["events"]) as f:
            for line in f:
                event = json.loads(line)
                if event.get("event") == "load":
                    steps.append(f"{event['t']:.0f}s {event['preset']}@{event['frame_rate']:g}")
        print(f"      load steps: {', '.join(steps) or 'none'}")


if __name__ == "__main__":
    if not (INPUTS / "in15.webm").exists():
        sys.exit("run scripts/gen-fixtures.sh --bench first")
    if os.environ.get("SKIP_ADMISSION") != "1":
        admission()
    overcommit()
