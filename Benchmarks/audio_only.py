#!/usr/bin/env python3
"""Audio-only against video: the recorder's CPU for one 4-party room recorded audio-only (--audio-only m4a: no video
decoded, composed or encoded) against the same room recorded as a 1280x720 video, the same four publishers (the
built-in publisher's 640x360 test pattern and beep, VP8 + Opus) either way.

The recorder's CPU (user + system, from /proc) over a window after a ramp-up, per run; RUNS runs of each,
alternating. The result goes to Benchmarks/AUDIO.md.

usage: Benchmarks/audio_only.py [SECONDS] [RUNS]   (default 30 s, 3 runs; a release build)
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
WORK = ROOT / "Benchmarks/work/audio"
WINDOW = int(sys.argv[1]) if len(sys.argv) > 1 else 30
RUNS = int(sys.argv[2]) if len(sys.argv) > 2 else 3
RAMP = 8
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def run(audio_only):
    WORK.mkdir(parents=True, exist_ok=True)
    extra = ["--audio-only", os.environ.get("FORMAT", "m4a")] if audio_only else []
    server, base = start_server(str(WORK), "1280x720", extra)
    publishers = []
    try:
        request("POST", f"{base}/rooms/bench/recording")
        for i in range(4):
            publishers.append(subprocess.Popen([BIN, "publish", "--whip", f"{base}/rooms/bench/whip", "--name", f"p{i}", "--size", "640x360",
                                                "--tone", str(400 + 200 * i), "--duration", str(RAMP + WINDOW + 10)],
                                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        time.sleep(RAMP)
        start, before = time.time(), cpu_seconds(server.pid)
        time.sleep(WINDOW)
        cores = (cpu_seconds(server.pid) - before) / (time.time() - start)
        request("DELETE", f"{base}/rooms/bench/recording")
        return cores
    finally:
        for p in publishers:
            p.send_signal(signal.SIGINT)
        for p in publishers:
            p.wait()
        server.send_signal(signal.SIGINT)
        server.wait()


def main():
    audio, video = [], []
    for _ in range(RUNS):
        audio.append(run(True))
        video.append(run(False))
        print(f"audio-only {audio[-1]:.3f} cores, video {video[-1]:.3f} cores", flush=True)
    a, v = statistics.median(audio), statistics.median(video)
    text = f"""# Audio-only recording

`python3 Benchmarks/audio_only.py {WINDOW} {RUNS}` (release build; {os.cpu_count()} cores): one room, four built-in publishers
(640x360 VP8 test pattern + Opus beeps), the recorder's CPU over {WINDOW} s after {RAMP} s of ramp-up, median of {RUNS} runs.

| recording | recorder CPU (cores) | runs |
|---|---|---|
| audio-only (`--audio-only m4a`) | {a:.3f} | {', '.join(f'{x:.3f}' for x in audio)} |
| 1280x720 video (composite, x264 veryfast) | {v:.3f} | {', '.join(f'{x:.3f}' for x in video)} |

Audio-only costs {v / a:.0f}x less: participants' video sections are answered inactive (nothing arrives), nothing is
decoded but Opus, nothing is composed, and the mix goes to one AAC encoder (FFmpeg's, with its fast coder).
"""
    (ROOT / "Benchmarks/AUDIO.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
