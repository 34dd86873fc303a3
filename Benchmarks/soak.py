#!/usr/bin/env python3
"""Soak: 2 rooms x 4 built-in publishers for MINUTES (default 30) on one server (release build). Samples the
server's RSS and CPU every 10 s; at the end checks both recordings are complete and that lip sync (flash against
beep of the test pattern, in the composite) at the last minute equals the first within 20 ms.

RSS is what the kernel counts, and libx264 asks for transparent huge pages on its big buffers (madvise): the
kernel's khugepaged later collapses such 4 KiB pages into 2 MiB ones, which raises RSS in 2 MiB steps with no new
allocation. AnonHugePages is printed beside RSS; with THP=off the server runs with THP disabled for its process
(prctl PR_SET_THP_DISABLE), so RSS shows only what the program itself allocates.

usage: [THP=off] Benchmarks/soak.py [MINUTES]
"""
import ctypes
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

from liveserver import BIN as binary, request, rss_mb, start_server, stop

minutes = float(sys.argv[1]) if len(sys.argv) > 1 else 30
seconds = int(minutes * 60)
folder = tempfile.mkdtemp(prefix="mcu-soak-")


def sample(pid):
    rss = rss_mb(pid)
    with open(f"/proc/{pid}/smaps_rollup") as f:
        huge = int(re.search(r"AnonHugePages:\s+(\d+)", f.read()).group(1)) / 1024
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return rss, cpu, huge


def without_huge_pages():
    """Runs in the server's process before exec: no transparent huge pages for it (inherited across exec)."""
    ctypes.CDLL(None, use_errno=True).prctl(41, 1, 0, 0, 0)  # PR_SET_THP_DISABLE


def offsets(path, start, length=20):
    """Flash-to-beep offsets (s) in [start, start + length): flashes from the picture's brightness, beeps from
    the audio energy; paired to the nearest. `start` is a whole second, so the first decoded frame is at `start`
    exactly and frame i at start + i / fps (a start between two frames would shift every flash by the fraction)."""
    start = int(start)
    video = subprocess.run(["ffmpeg", "-v", "error", "-ss", str(start), "-t", str(length), "-i", path, "-vf", "scale=32:18,format=gray",
                            "-f", "rawvideo", "-"], capture_output=True).stdout
    frames = [sum(video[i:i + 576]) / 576 for i in range(0, len(video) - 575, 576)]
    fps = 30
    # A flash lifts the whole picture's brightness from one frame to the next.
    flashes = [i / fps for i in range(1, len(frames)) if frames[i] - frames[i - 1] > 40]
    audio = subprocess.run(["ffmpeg", "-v", "error", "-ss", str(start), "-t", str(length), "-i", path, "-ac", "1", "-ar", "48000",
                            "-f", "s16le", "-"], capture_output=True).stdout
    samples = [int.from_bytes(audio[i:i + 2], "little", signed=True) for i in range(0, len(audio) - 1, 2)]
    window = 240
    energy = [sum(abs(s) for s in samples[i:i + window]) / window for i in range(0, len(samples) - window, window)]
    loud = max(energy, default=0) / 4
    beeps = [i * window / 48000 for i in range(1, len(energy)) if energy[i] > loud >= energy[i - 1]]
    pairs = []
    for f in flashes:
        nearest = min(beeps, key=lambda b: abs(b - f), default=None)
        if nearest is not None and abs(nearest - f) < 0.4:
            pairs.append(nearest - f)
    return pairs


thp_off = os.environ.get("THP") == "off"
server, base = start_server(folder, "1280x720", preexec_fn=without_huge_pages if thp_off else None)
for room in ("a", "b"):
    request("POST", f"{base}/rooms/{room}/recording")
publishers = []
for room in ("a", "b"):
    for n in range(4):
        publishers.append(subprocess.Popen([binary, "publish", "--whip", f"{base}/rooms/{room}/whip", "--name", f"{room}{n}",
                                            "--size", "320x240", "--fps", "15", "--colour", ["c04040", "40c040", "4040c0", "c0c040"][n],
                                            "--duration", str(seconds + 5)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
samples = []
started = time.time()
while time.time() - started < seconds:
    time.sleep(10)
    rss, cpu, huge = sample(server.pid)
    samples.append((time.time() - started, rss, cpu, huge))
    print(f"{samples[-1][0]:7.0f} s  RSS {rss:7.1f} MB  CPU {cpu:8.1f} s  huge pages {huge:6.1f} MB", flush=True)
files = {room: request("DELETE", f"{base}/rooms/{room}/recording") for room in ("a", "b")}
stop(publishers)
stop([server])

warm = [s for s in samples if s[0] >= 120] or samples
rss_growth = warm[-1][1] - warm[0][1]
rates = [(b[2] - a[2]) / (b[0] - a[0]) for a, b in zip(warm, warm[1:])]
print(f"\nRSS after warm-up (2 min): {warm[0][1]:.1f} MB → {warm[-1][1]:.1f} MB (growth {rss_growth:+.1f} MB); "
      f"transparent huge pages {'disabled' if thp_off else 'as the system sets them'}: {warm[0][3]:.1f} → {warm[-1][3]:.1f} MB")
if rates:
    third = max(1, len(rates) // 3)
    print(f"CPU: {statistics.mean(rates[:third]):.2f} cores in the first third, {statistics.mean(rates[-third:]):.2f} in the last")
for room, summary in files.items():
    # Minute 1 against the last whole minute before the end (minute 29 of a 30-minute soak), and every 5 minutes.
    first = offsets(summary["file"], 60)
    last_minute = max(1, int(summary["duration"]) // 60 - 1)
    last = offsets(summary["file"], last_minute * 60)
    drift = (statistics.median(last) - statistics.median(first)) * 1000 if first and last else float("nan")
    print(f"room {room}: {summary['file']} {summary['duration']:.1f} s of {seconds} s; flash-to-beep median "
          f"{statistics.median(first) * 1000 if first else float('nan'):.1f} ms at minute 1, "
          f"{statistics.median(last) * 1000 if last else float('nan'):.1f} ms at minute {last_minute} (drift {drift:+.1f} ms)")
    series = []
    for minute in range(5, last_minute, 5):
        pairs = offsets(summary["file"], minute * 60)
        series.append(f"{minute}: {statistics.median(pairs) * 1000:.1f}" if pairs else f"{minute}: -")
    print(f"  every 5 minutes (ms): {', '.join(series)}")
