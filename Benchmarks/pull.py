#!/usr/bin/env python3
"""Pulled against published: the recorder's CPU for one 4-party 1280x720 room whose participants it pulls over WHEP
(full ICE, our offer) against the same room published to it over WHIP (ICE-lite), the same pre-encoded streams
either way, from the same WebRTC stack: four 1280x720@30 VP8 + Opus clips relayed undecoded by aiortc, publishing
them (Tests/peers/aiortc_publish.py --relay, WHIP) or serving them (Tests/peers/whep_server.py --relay, WHEP).

The recorder's CPU (user + system, from /proc) over a window after a ramp-up, and what it took in (the tracks'
recent bitrates from the API), per run; RUNS runs of each, alternating. The result goes to Benchmarks/PULL.md.

usage: Benchmarks/pull.py [SECONDS] [RUNS]   (default 30 s, 3 runs; a release build and `scripts/peers-venv.sh`)
"""
import os
import pathlib
import signal
import statistics
import subprocess
import sys
import time

from liveserver import BIN, request, start_server

ROOT = pathlib.Path(__file__).resolve().parent.parent
WORK = ROOT / "Benchmarks/work/pull"
PYTHON = ROOT / ".build-venv/bin/python"
WHEP_SERVER = ROOT / "Tests/peers/whep_server.py"
WHIP_CLIENT = ROOT / "Tests/peers/aiortc_publish.py"
WINDOW = int(sys.argv[1]) if len(sys.argv) > 1 else 30
RUNS = int(sys.argv[2]) if len(sys.argv) > 2 else 3
RAMP = 12
TICK = os.sysconf("SC_CLK_TCK")


def clips():
    """Four 60 s (longer than a run: aiortc relaying a file rushes when it loops) 1280x720@30 VP8 (1.5 Mb/s, a keyframe a second) + Opus clips, made once."""
    WORK.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(4):
        path = WORK / f"party{i}.webm"
        if not path.exists():
            subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=s=1280x720:r=30:d=60,hue=h={90 * i}",
                            "-f", "lavfi", "-i", f"sine=frequency={300 + 100 * i}:sample_rate=48000:duration=60",
                            "-c:v", "libvpx", "-b:v", "1500k", "-deadline", "realtime", "-cpu-used", "8", "-g", "30",
                            "-c:a", "libopus", "-b:a", "48k", "-shortest", str(path)], check=True)
        paths.append(path)
    return paths


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def start(extra):
    """A recording server for room "pull" (recording from now on)."""
    server, base = start_server(str(WORK), "1280x720", extra=["--room", "pull", *extra])
    request("POST", f"{base}/rooms/pull/recording")
    return server, base


def ingress(base):
    """Video and audio bitrate taken in now (kb/s) and packets so far, summed over the participants; how many."""
    room = request("GET", f"{base}/rooms/pull")
    total, packets = 0, 0
    for p in room.get("participants", []):
        for t in p.get("tracks", []):
            total += t.get("recent_bitrate", 0)
            packets += t.get("packets", 0)
    return total / 1000, len(room.get("participants", [])), packets


def measure(server, base, helpers):
    time.sleep(RAMP)
    before, start = cpu_seconds(server.pid), time.monotonic()
    samples = [ingress(base)]
    while time.monotonic() - start < WINDOW:
        time.sleep(5)
        samples.append(ingress(base))
    elapsed = time.monotonic() - start
    cores = (cpu_seconds(server.pid) - before) / elapsed
    for p in [server] + helpers:
        p.send_signal(signal.SIGINT)
    for p in [server] + helpers:
        try:
            p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
    kbps = statistics.mean(s[0] for s in samples[1:])
    present = min(s[1] for s in samples)
    rate = (samples[-1][2] - samples[0][2]) / elapsed
    return cores, kbps, present, rate


def whip_run(paths):
    server, base = start([])
    publishers = [subprocess.Popen([str(PYTHON), str(WHIP_CLIENT), f"{base}/rooms/pull/whip", str(path), str(RAMP + WINDOW + 30), f"p{i}", "--relay"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                  for i, path in enumerate(paths)]
    return measure(server, base, publishers)


def whep_run(paths):
    servers, urls = [], []
    for path in paths:
        peer = subprocess.Popen([str(PYTHON), str(WHEP_SERVER), str(path), "--relay"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = peer.stdout.readline()
        if not line.startswith("ready "):
            sys.exit("the WHEP server did not start")
        servers.append(peer)
        urls.append(f"whep+http://127.0.0.1:{line.split()[1]}/whep")
    server, base = start([arg for url in urls for arg in ("--pull", url)])
    return measure(server, base, servers)


def main():
    if not os.path.exists(BIN) or not PYTHON.exists():
        sys.exit("needs a release build (swift build -c release) and scripts/peers-venv.sh")
    paths = clips()
    results = {"whip": [], "whep": []}
    for run in range(RUNS):
        for mode, runner in (("whip", whip_run), ("whep", whep_run)):
            cores, kbps, present, rate = runner(paths)
            results[mode].append((cores, kbps, present, rate))
            print(f"run {run + 1} {mode}: {cores:.3f} cores, {kbps:.0f} kb/s in, {rate:.0f} packets/s, {present} participants", flush=True)
    whip = statistics.median(r[0] for r in results["whip"])
    whep = statistics.median(r[0] for r in results["whep"])
    ratio = whep / whip
    lines = [
        "# Pulled against published rooms",
        "",
        f"`python3 Benchmarks/pull.py {WINDOW} {RUNS}` — one room, four 1280x720@30 VP8 (1.5 Mb/s) + Opus participants, recorded at "
        f"1280x720@30 (veryfast); the recorder's CPU over {WINDOW} s after {RAMP} s of ramp-up, median of {RUNS} runs each "
        "(the same pre-encoded streams relayed undecoded by aiortc, publishing them over WHIP or serving them over WHEP).",
        "",
        "| how the participants arrive | recorder CPU (cores) | taken in (kb/s) | packets/s | runs (cores) |",
        "|---|---|---|---|---|",
        *[f"| {label} | {statistics.median(r[0] for r in results[mode]):.3f} | {statistics.median(r[1] for r in results[mode]):.0f} | "
          f"{statistics.median(r[3] for r in results[mode]):.0f} | " + ", ".join(f"{r[0]:.3f}" for r in results[mode]) + " |"
          for mode, label in (("whip", "published to it (WHIP, ICE-lite)"), ("whep", "pulled by it (WHEP, full ICE)"))],
        "",
        f"Pulled / published: **{ratio:.3f}** ({(ratio - 1) * 100:+.1f} %).",
        "",
    ]
    (ROOT / "Benchmarks/PULL.md").write_text("\n".join(lines))
    print("\n".join(lines))
    if abs(ratio - 1) > 0.05:
        print("more than 5 % apart", file=sys.stderr)


if __name__ == "__main__":
    main()
