#!/usr/bin/env python3
"""Which x264 settings fit composites: each candidate swept over CRF 18-33 on the compose cases, as BD-rate (bits at
equal SSIM against the lanczos reference) and encoding CPU against the recorder's settings (veryfast, 2 s keyframes,
psychovisual tuning on).

The composite before encoding is bit-identical to ffmpeg's bicubic grid (`Benchmarks/RESULTS.md`), so the candidates
are encoded by ffmpeg's grid: the same libx264 as the recorder's, on the same pictures, with only the setting changed.
CPU is the whole ffmpeg process's user + system time (decoding and scaling, the same for every candidate, included).

usage: Benchmarks/encoder_sweep.py [a|b]...   (the compose cases to sweep, default both; replaces its section of
Benchmarks/RESULTS.md)
"""
import os
import pathlib
import re
import subprocess
import sys
import time

from quality import CASES, CRFS, WORK, aligned_quality, bd_rate, clips, grid_filter, reference, replace_results_section, run, video_kbps

ROOT = pathlib.Path(__file__).resolve().parent.parent
BASE = ["-preset", "veryfast", "-g", "60", "-profile:v", "high"]
CANDIDATES = [
    ("recorder's settings", []),
    ("aq-mode=3 (dark-biased adaptive quantisation)", ["-x264-params", "aq-mode=3"]),
    ("tune film", ["-tune", "film"]),
    ("tune animation", ["-tune", "animation"]),
    # What the recorder could use of it: the stream header (refs, B-frames) stays pinned to the preset's, so that
    # the encoder can change preset mid-recording (EncoderSettings.pinnedParameters).
    ("tune animation, header pinned", ["-tune", "animation", "-x264-params", "ref=1:bframes=3"]),
    # tune animation's parts, one at a time, on the recorder's settings.
    ("deblock 1:1 alone", ["-x264-params", "deblock=1,1"]),
    ("aq-strength 0.6 alone", ["-x264-params", "aq-strength=0.6"]),
    ("psy-rd 0.4 alone", ["-x264-params", "psy-rd=0.4,0"]),
    ("tune stillimage", ["-tune", "stillimage"]),
    ("tune ssim (psychovisual tuning off)", ["-tune", "ssim"]),
    ("keyframes every 10 s", ["-g", "300"]),
    ("preset faster", ["-preset", "faster"]),
]


def encode(inputs, tile_w, tile_h, columns, crf, extra, out):
    """The grid as the recorder draws it (bicubic, contain) encoded at `crf` with the candidate's options, straight
    from the filter graph as `quality.ffmpeg_output` does (encoding an intermediate lossless copy of the same pictures
    with the same options gave other numbers, 1808 against 1867 kbit/s and SSIM 0.9848 against 0.9895 at CRF 18, for
    a reason not found). Returns CPU seconds."""
    cmd = ["ffmpeg", "-v", "error", "-y"]
    for i in inputs:
        cmd += ["-i", str(i)]
    before = os.times()
    run(cmd + ["-filter_complex", grid_filter(len(inputs), tile_w, tile_h, columns, "bicubic"), "-map", "[v]", "-r", "30",
               "-c:v", "libx264", *BASE, "-crf", str(crf), *extra, "-pix_fmt", "yuv420p", str(out)])
    after = os.times()
    return (after.children_user - before.children_user) + (after.children_system - before.children_system)


def sweep(tag, n, size, tile_w, tile_h, columns):
    inputs = clips(n)
    ref = WORK / f"{tag}-reference.mkv"
    if not ref.exists():
        reference(inputs, tile_w, tile_h, columns, ref)
    rows = []
    for name, extra in CANDIDATES:
        points, cpu = [], 0.0
        for crf in CRFS:
            out = WORK / f"{tag}-sweep-{CANDIDATES.index((name, extra))}-{crf}.mp4"
            cpu += encode(inputs, tile_w, tile_h, columns, crf, extra, out)
            ssim, _, aligned = aligned_quality(out, ref)
            if not aligned:
                sys.exit(f"{name} at CRF {crf}: not aligned with the reference")
            points.append((video_kbps(out), ssim))
        rows.append((name, points, cpu))
        print(f"({tag}) {name}: " + ", ".join(f"{k:.0f} kb/s {s:.4f}" for k, s in points) + f"; {cpu:.1f} s CPU", flush=True)
    return rows


def main():
    lines = ["## Encoder settings for composites (`Benchmarks/encoder_sweep.py`, " + time.strftime("%Y-%m-%d") + ")", "",
             "Each candidate encodes the recorder's composite (bit-identical to ffmpeg's bicubic grid) at CRF " +
             ", ".join(map(str, CRFS)) + "; BD-rate", "against the recorder's settings at equal SSIM (negative: fewer bits), "
             "CPU (decoding and scaling included) as a ratio of the recorder's settings'.", "",
             "| case | candidate | BD-rate | CPU | kbit/s, SSIM at CRF 23 |", "|---|---|---:|---:|---|"]
    chosen = sys.argv[1:] or [case[0] for case in CASES]
    for case in [case for case in CASES if case[0] in chosen]:
        rows = sweep(*case)
        anchor, anchor_cpu = rows[0][1], rows[0][2]
        for name, points, cpu in rows:
            bd = bd_rate(anchor, points)
            k, s = points[CRFS.index(23)]
            lines.append(f"| ({case[0]}) {case[1]} → {case[2]} | {name} | {'n/a' if bd is None else f'{bd:+.1f} %'} | "
                         f"{cpu / anchor_cpu:.2f}x | {k:.0f}, {s:.4f} |")
    lines += ["", "One run per candidate: the CPU column carries this VM's drift (two candidates that write identical streams,",
              "psy-rd at veryfast's subme 2 being unused, measured 1.00x and 0.82x); read only large differences. SSIM rewards",
              "turning x264's psychovisual adaptive quantisation down (`--tune ssim` does exactly that), so a gain that comes",
              "from aq-strength is the metric's as much as the picture's."]
    section = "\n".join(lines) + "\n"
    print(section)
    replace_results_section("## Encoder settings for composites", section)


if __name__ == "__main__":
    main()
