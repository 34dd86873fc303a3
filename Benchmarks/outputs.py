#!/usr/bin/env python3
"""What a live output costs on top of the recording: one 4-party 1280x720 room recorded alone, against the same room
recorded and streamed as HLS (--hls: the recording's own encoded packets segmented, no second composite or encoder),
the same four publishers (the built-in publisher's 640x360 test pattern, VP8 + Opus) either way.

The recorder's CPU (user + system, from /proc) over a window after a ramp-up, per run; RUNS runs of each,
alternating. The result goes to Benchmarks/OUTPUTS.md.

usage: Benchmarks/outputs.py [SECONDS] [RUNS]   (default 30 s, 3 runs; a release build)
"""
import os
import pathlib
import statistics
import sys

from liveserver import measure_room

ROOT = pathlib.Path(__file__).resolve().parent.parent
WORK = ROOT / "Benchmarks/work/outputs"
WINDOW = int(sys.argv[1]) if len(sys.argv) > 1 else 30
RUNS = int(sys.argv[2]) if len(sys.argv) > 2 else 3
RAMP = 8


def run(hls):
    return measure_room(str(WORK), ["--hls"] if hls else [], lambda i: [], RAMP, WINDOW)


def main():
    alone, streamed = [], []
    for _ in range(RUNS):
        alone.append(run(False))
        streamed.append(run(True))
        print(f"recording {alone[-1]:.3f} cores, recording + HLS {streamed[-1]:.3f} cores", flush=True)
    a, s = statistics.median(alone), statistics.median(streamed)
    text = f"""# Live outputs

`python3 Benchmarks/outputs.py {WINDOW} {RUNS}` (release build; {os.cpu_count()} cores): one 1280x720 room, four built-in
publishers (640x360 VP8 test pattern + Opus), the recorder's CPU over {WINDOW} s after {RAMP} s of ramp-up, median of {RUNS} runs.

| outputs | recorder CPU (cores) | runs |
|---|---|---|
| the recording | {a:.3f} | {', '.join(f'{x:.3f}' for x in alone)} |
| the recording + HLS (`--hls`) | {s:.3f} | {', '.join(f'{x:.3f}' for x in streamed)} |

HLS costs {s / a:.3f}x the recording alone: it segments the recording's own encoded packets.
"""
    (ROOT / "Benchmarks/OUTPUTS.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
