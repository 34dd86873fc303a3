#!/usr/bin/env python3
"""Picture quality of the live path: a room recorded from four built-in publishers, each sending one of the benchmark
inputs (`publish --file`: the file's VP8 frames as they are, so what was sent is the file), and each tile of the
recording compared with what its publisher sent, scaled losslessly to the tile with lanczos (the compose cases'
reference). The loss measured is the room's own: real-time scaling, frame timing (a late or repeated frame) and the
x264 encode at the room's default settings (veryfast, CRF 23).

Each tile is matched to its source frames by searching the offset that best fits a window of small grey thumbnails,
then SSIM and PSNR are taken over SECONDS; a one-frame shift must score lower, or the report says it is not aligned.
The same four inputs composed from files (bicubic, no timing loss) give the comparison row.

usage: Benchmarks/live_quality.py   (appends its section to Benchmarks/RESULTS.md)
"""
import pathlib
import re
import subprocess
import sys
import time

from liveserver import BIN, request, start_server, stop
from quality import LANCZOS, replace_results_section, run

ROOT = pathlib.Path(__file__).resolve().parent.parent
INPUTS = ROOT / "Fixtures/generated/bench"
WORK = ROOT / "Benchmarks/work/live-quality"
SECONDS = 10
SKIP = 8            # seconds of the recording before the measured window (everyone has joined and settled)
TILE_W, TILE_H = 480, 360
THUMB = (48, 36)
# Inputs with motion (testsrc2, testsrc): the static ones (smptebars, yuvtestsrc) cannot be aligned by their pictures.
INPUT_IDS = [0, 2, 4, 6]


def tile_origin(k):
    """Where tile k of the 2x2 grid shows its 4:3 picture on the 1280x720 canvas (contain: bars left and right)."""
    return (k % 2) * 640 + 80, (k // 2) * 360


def thumbnails(path, vf, seconds=None):
    """Tiny grey frames of `path` after the filter `vf`, as a list of byte strings."""
    cmd = ["ffmpeg", "-v", "error"] + (["-t", str(seconds)] if seconds else []) + ["-i", str(path), "-vf",
           f"{vf},scale={THUMB[0]}:{THUMB[1]}:flags=area,format=gray", "-vsync", "passthrough", "-f", "rawvideo", "-"]
    data = subprocess.run(cmd, capture_output=True, check=True).stdout
    size = THUMB[0] * THUMB[1]
    return [data[i:i + size] for i in range(0, len(data) - size + 1, size)]


def best_offset(recorded, source, start, window=60):
    """Source frame index minus recorded frame index that fits recorded[start:start+window] best."""
    def cost(offset):
        total = 0
        for i in range(0, window, 3):
            a, b = recorded[start + i], source[start + i + offset]
            total += sum(abs(x - y) for x, y in zip(a[::7], b[::7]))
        return total
    offsets = range(-start, len(source) - start - window)
    return min(offsets, key=cost)


def tile_quality(recording, k, offset, first, frames, shift=0):
    x, y = tile_origin(k)
    start = first + shift
    graph = (f"[0:v]crop={TILE_W}:{TILE_H}:{x}:{y},trim=start_frame={start}:end_frame={start + frames},setpts=PTS-STARTPTS[d];"
             f"[1:v]scale={TILE_W}:{TILE_H}:flags={LANCZOS},format=yuv420p,"
             f"trim=start_frame={first + offset}:end_frame={first + offset + frames},setpts=PTS-STARTPTS[r];"
             "[d]split[d0][d1];[r]split[r0][r1];[d0][r0]ssim=shortest=1;[d1][r1]psnr=shortest=1")
    text = run(["ffmpeg", "-v", "info", "-vsync", "passthrough", "-i", str(recording), "-i", str(INPUTS / f"in{INPUT_IDS[k]}.webm"),
                "-filter_complex", graph, "-f", "null", "-"])
    return float(re.search(r"SSIM .*All:([\d.]+)", text).group(1)), float(re.search(r"PSNR .*average:([\d.inf]+)", text).group(1))


def record_room():
    WORK.mkdir(parents=True, exist_ok=True)
    server, base = start_server(str(WORK), "1280x720")
    publishers = []
    try:
        request("POST", f"{base}/rooms/live/recording")
        for k in range(4):
            publishers.append(subprocess.Popen([BIN, "publish", "--whip", f"{base}/rooms/live/whip", "--name", f"p{k}",
                                                "--file", str(INPUTS / f"in{INPUT_IDS[k]}.webm"), "--duration", str(SKIP + SECONDS + 8)],
                                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            # Join in order, so that publisher k has tile k.
            for _ in range(100):
                if len(request("GET", f"{base}/rooms/live").get("participants", [])) > k:
                    break
                time.sleep(0.1)
        time.sleep(SKIP + SECONDS + 2)
        body = request("DELETE", f"{base}/rooms/live/recording")
        return pathlib.Path(body["file"])
    finally:
        stop(publishers)
        stop([server])


def compose_reference():
    """The same inputs composed from files by `compose` (the compose cases' settings), for the comparison row."""
    out = WORK / "composed.mp4"
    cmd = [BIN, "compose", "--layout", "grid", "--size", "1280x720", "--fps", "30", "--preset", "veryfast", "--crf", "23",
           "--quiet", "--output", str(out)]
    for k in range(4):
        cmd += ["--input", str(INPUTS / f"in{INPUT_IDS[k]}.webm")]
    run(cmd)
    return out


def measure(path, label):
    rows = []
    for k in range(4):
        x, y = tile_origin(k)
        recorded = thumbnails(path, f"crop={TILE_W}:{TILE_H}:{x}:{y}")
        source = thumbnails(INPUTS / f"in{INPUT_IDS[k]}.webm", "null", seconds=SKIP + SECONDS + 30)
        first = SKIP * 30
        if len(recorded) < first + SECONDS * 30:
            sys.exit(f"{label}: the recording has {len(recorded)} frames, fewer than {first + SECONDS * 30}")
        offset = best_offset(recorded, source, first)
        ssim, psnr = tile_quality(path, k, offset, first, SECONDS * 30)
        shifted, _ = tile_quality(path, k, offset, first, SECONDS * 30, shift=1)
        rows.append((k, offset, ssim, psnr, shifted < ssim))
        print(f"{label} tile {k}: offset {offset} frames, SSIM {ssim:.4f}, PSNR {psnr:.2f} dB{'' if shifted < ssim else ' (NOT ALIGNED)'}", flush=True)
    return rows


def main():
    if not pathlib.Path(BIN).exists():
        sys.exit("build first: swift build -c release")
    live = measure(record_room(), "live")
    composed = measure(compose_reference(), "compose")
    lines = ["## Live path quality (`Benchmarks/live_quality.py`, " + time.strftime("%Y-%m-%d") + ")", "",
             "Four built-in publishers send benchmark inputs 0, 2, 4 and 6 (the moving ones; `publish --file` sends the",
             "file's VP8 frames as they are) into a 1280x720 grid room (x264 veryfast CRF 23). Each 480x360 tile of the",
             f"recording against what was sent, scaled losslessly with lanczos, over {SECONDS} s after the first {SKIP} s; the",
             "same inputs composed from files for comparison.", "",
             "| tile | live SSIM | live PSNR | compose SSIM | compose PSNR |", "|---|---|---|---|---|"]
    for (k, _, ls, lp, la), (_, _, cs, cp, ca) in zip(live, composed):
        mark = lambda ok: "" if ok else " (not aligned)"
        lines.append(f"| {k} | {ls:.4f}{mark(la)} | {lp:.2f} dB | {cs:.4f}{mark(ca)} | {cp:.2f} dB |")
    mean = lambda rows, i: sum(r[i] for r in rows) / len(rows)
    lines.append(f"| mean | {mean(live, 2):.4f} | {mean(live, 3):.2f} dB | {mean(composed, 2):.4f} | {mean(composed, 3):.2f} dB |")
    section = "\n".join(lines) + "\n"
    print(section)
    replace_results_section("## Live path quality", section)


if __name__ == "__main__":
    main()
