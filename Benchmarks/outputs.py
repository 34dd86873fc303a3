#!/usr/bin/env python3
"""What a live output costs on top of the recording: one 4-party 1280x720 room recorded alone, against the same room
recorded and streamed as HLS (--hls: the recording's own encoded packets segmented, no second composite or encoder),
and with an extra 480p HLS rendition (--hls-rendition 480: the canvas scaled once, its own x264). The same four
publishers (the built-in publisher's 640x360 test pattern, VP8 + Opus) every time.

The recorder's CPU (user + system, from /proc) over a window after a ramp-up, per run; RUNS runs of each, in turn.
The rendition's own encoder, for comparison: the rendition run's recording decoded and scaled to 854x480 (raw, saved),
then encoded by ffmpeg with the rendition's x264 settings, once on an idle machine (CPU per second of media) and once
in real time beside the recording + HLS room (both processes' CPU). The result goes to Benchmarks/OUTPUTS.md.

usage: Benchmarks/outputs.py [SECONDS] [RUNS]   (default 30 s, 3 runs; a release build)
"""
import glob
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import time

from liveserver import measure_room

ROOT = pathlib.Path(__file__).resolve().parent.parent
WORK = ROOT / "Benchmarks/work/outputs"
WINDOW = int(sys.argv[1]) if len(sys.argv) > 1 else 30
RUNS = int(sys.argv[2]) if len(sys.argv) > 2 else 3
RAMP = 8
RENDITION = (854, 480)
RAW = str(ROOT / "Benchmarks/work/outputs-480p.yuv")


def run(extra):
    shutil.rmtree(WORK, ignore_errors=True)
    return measure_room(str(WORK), extra, lambda i: [], RAMP, WINDOW)


def encoder_command(source_args):
    """x264 as the rendition runs it: veryfast, CRF 23, High profile, 2 s fixed keyframes."""
    width, height = RENDITION
    return ["ffmpeg", "-v", "error", *source_args, "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{width}x{height}", "-r", "30",
            "-i", "-" if not source_args else RAW, "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-profile:v", "high", "-g", "60",
            "-x264-params", "scenecut=0", "-f", "null", "-"]


def save_pictures(recording):
    """The recording's pictures at the rendition's size, raw, for the encoder on its own."""
    width, height = RENDITION
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", recording, "-an", "-vf", f"scale={width}:{height}:flags=area", "-pix_fmt", "yuv420p",
                    "-f", "rawvideo", RAW], check=True)


def encoder_alone():
    """CPU seconds per media second of that x264 on the saved pictures, on an otherwise idle machine."""
    encoder = subprocess.Popen(encoder_command([]), stdin=open(RAW, "rb"))
    _, _, usage = os.wait4(encoder.pid, 0)
    encoder.returncode = 0
    frames = os.path.getsize(RAW) // (RENDITION[0] * RENDITION[1] * 3 // 2)
    return (usage.ru_utime + usage.ru_stime) / (frames / 30)


def hls_beside_an_encoder():
    """The recording + HLS room while a separate x264 encodes the pictures in real time beside it (the same load on
    the machine as the rendition's): (room cores, encoder cores)."""
    started = time.time()
    encoder = subprocess.Popen(encoder_command(["-re", "-stream_loop", "-1"]), stdin=subprocess.DEVNULL)
    try:
        room = run(["--hls"])
    finally:
        encoder.terminate()
        _, _, usage = os.wait4(encoder.pid, 0)
        encoder.returncode = 0
    return room, (usage.ru_utime + usage.ru_stime) / (time.time() - started)


def main():
    alone, streamed, rendition, encoder, beside = [], [], [], [], []
    for _ in range(RUNS):
        alone.append(run([]))
        streamed.append(run(["--hls"]))
        rendition.append(run(["--hls", "--hls-rendition", str(RENDITION[1])]))
        save_pictures(max(glob.glob(str(WORK / "bench-*.mp4")), key=os.path.getmtime))
        encoder.append(encoder_alone())
        beside.append(hls_beside_an_encoder())
        print(f"recording {alone[-1]:.3f} cores, + HLS {streamed[-1]:.3f}, + 480p rendition {rendition[-1]:.3f}; its x264 alone "
              f"{encoder[-1]:.3f}; recording + HLS {beside[-1][0]:.3f} beside that x264 {beside[-1][1]:.3f}", flush=True)
    os.remove(RAW)
    a, s, r, e = (statistics.median(x) for x in (alone, streamed, rendition, encoder))
    both = [room + x264 for room, x264 in beside]
    b = statistics.median(both)
    runs = lambda xs: ", ".join(f"{x:.3f}" for x in xs)
    text = f"""# Live outputs

`python3 Benchmarks/outputs.py {WINDOW} {RUNS}` (release build; {os.cpu_count()} cores): one 1280x720 room, four built-in
publishers (640x360 VP8 test pattern + Opus), the recorder's CPU over {WINDOW} s after {RAMP} s of ramp-up, median of {RUNS} runs.
The 480p rendition's x264 for comparison: a separate ffmpeg with the same settings (veryfast, CRF 23, 2 s fixed keyframes)
on the rendition run's pictures at 854x480, on an idle machine, and in real time beside the recording + HLS room.

| outputs | CPU (cores) | runs |
|---|---|---|
| the recording | {a:.3f} | {runs(alone)} |
| the recording + HLS (`--hls`) | {s:.3f} | {runs(streamed)} |
| the recording + HLS + a 480p rendition (`--hls-rendition 480`) | {r:.3f} | {runs(rendition)} |
| x264 at 854x480 alone, on an idle machine | {e:.3f} | {runs(encoder)} |
| the recording + HLS, with that x264 running beside it (both processes) | {b:.3f} | {runs(both)} |

HLS costs {s / a:.3f}x the recording alone: it segments the recording's own encoded packets. The 480p rendition adds
{r - s:.3f} cores: {(r - s) / e:.2f}x its x264 on an idle machine; the same encoder run beside the room instead adds {b - s:.3f}
(two encoders share two cores: each slows the other). In the room, the rendition costs {r / b:.3f}x the recording + HLS + a
separate encoder: the composite is not made again, only scaled once.
"""
    (ROOT / "Benchmarks/OUTPUTS.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
