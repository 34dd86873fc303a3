#!/usr/bin/env python3
"""What a live output costs on top of the recording: one 4-party 1280x720 room recorded alone, against the same room
recorded and streamed as HLS (--hls: the recording's own encoded packets segmented, no second composite or encoder),
and with an extra 480p HLS rendition (--hls-rendition 480: the canvas scaled once, its own x264). The same four
publishers (the built-in publisher's 640x360 test pattern, VP8 + Opus) every time.

The recorder's CPU (user + system, from /proc) over a window after a ramp-up, per run; RUNS runs of each, in turn.
The rendition's own encoder, for comparison: the rendition run's recording decoded and scaled to 854x480 by one
ffmpeg, piped raw into another that encodes it with the rendition's x264 settings; that encoder's CPU per second of
media. The result goes to Benchmarks/OUTPUTS.md.

usage: Benchmarks/outputs.py [SECONDS] [RUNS]   (default 30 s, 3 runs; a release build)
"""
import glob
import os
import pathlib
import shutil
import statistics
import subprocess
import sys

from liveserver import measure_room

ROOT = pathlib.Path(__file__).resolve().parent.parent
WORK = ROOT / "Benchmarks/work/outputs"
WINDOW = int(sys.argv[1]) if len(sys.argv) > 1 else 30
RUNS = int(sys.argv[2]) if len(sys.argv) > 2 else 3
RAMP = 8
RENDITION = (854, 480)


def run(extra):
    shutil.rmtree(WORK, ignore_errors=True)
    return measure_room(str(WORK), extra, lambda i: [], RAMP, WINDOW)


def encoder_cores(recording):
    """CPU seconds per media second of x264 alone (veryfast, CRF 23, 2 s fixed keyframes) on the 480p pictures."""
    width, height = RENDITION
    source = subprocess.Popen(["ffmpeg", "-v", "error", "-i", recording, "-an", "-vf", f"scale={width}:{height}:flags=bilinear",
                               "-pix_fmt", "yuv420p", "-f", "rawvideo", "-"], stdout=subprocess.PIPE)
    encoder = subprocess.Popen(["ffmpeg", "-v", "error", "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{width}x{height}", "-r", "30",
                                "-i", "-", "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-profile:v", "high", "-g", "60",
                                "-x264-params", "scenecut=0", "-f", "null", "-"], stdin=source.stdout)
    source.stdout.close()
    _, _, usage = os.wait4(encoder.pid, 0)
    encoder.returncode = 0
    used = usage.ru_utime + usage.ru_stime
    source.wait()
    frames = int(subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v", "-count_packets", "-show_entries", "stream=nb_read_packets",
                                 "-of", "csv=p=0", recording], capture_output=True, text=True).stdout.strip() or 0)
    return used / (frames / 30) if frames else float("nan")


def main():
    alone, streamed, rendition, encoder = [], [], [], []
    for _ in range(RUNS):
        alone.append(run([]))
        streamed.append(run(["--hls"]))
        rendition.append(run(["--hls", "--hls-rendition", str(RENDITION[1])]))
        recording = max(glob.glob(str(WORK / "bench-*.mp4")), key=os.path.getmtime)
        encoder.append(encoder_cores(recording))
        print(f"recording {alone[-1]:.3f} cores, + HLS {streamed[-1]:.3f}, + 480p rendition {rendition[-1]:.3f}; "
              f"its x264 alone {encoder[-1]:.3f}", flush=True)
    a, s, r, e = (statistics.median(x) for x in (alone, streamed, rendition, encoder))
    runs = lambda xs: ", ".join(f"{x:.3f}" for x in xs)
    text = f"""# Live outputs

`python3 Benchmarks/outputs.py {WINDOW} {RUNS}` (release build; {os.cpu_count()} cores): one 1280x720 room, four built-in
publishers (640x360 VP8 test pattern + Opus), the recorder's CPU over {WINDOW} s after {RAMP} s of ramp-up, median of {RUNS} runs.

| outputs | recorder CPU (cores) | runs |
|---|---|---|
| the recording | {a:.3f} | {runs(alone)} |
| the recording + HLS (`--hls`) | {s:.3f} | {runs(streamed)} |
| the recording + HLS + a 480p rendition (`--hls-rendition 480`) | {r:.3f} | {runs(rendition)} |
| for comparison: x264 alone on the 854x480 pictures (a separate ffmpeg, same settings) | {e:.3f} | {runs(encoder)} |

HLS costs {s / a:.3f}x the recording alone: it segments the recording's own encoded packets. The 480p rendition adds
{r - s:.3f} cores on top of that, {(r - s) / e:.2f}x what its encoder alone costs ({e:.3f}): the composite is not made again,
only scaled once.
"""
    (ROOT / "Benchmarks/OUTPUTS.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
