#!/usr/bin/env python3
"""Which x264 settings fit composites: each candidate swept over CRF 18-33 on the compose cases, as BD-rate (bits at
equal SSIM against the lanczos reference) and encoding CPU against the recorder's settings (veryfast, 2 s keyframes,
psychovisual tuning on).

The composite before encoding is bit-identical to ffmpeg's bicubic grid (`Benchmarks/RESULTS.md`), so the candidates
are encoded by ffmpeg from that composite, kept losslessly: the same libx264 as the recorder's, on the same pictures,
with only the setting changed. CPU is the encoding process's user + system time (decoding the lossless input is the
same for every candidate).

usage: Benchmarks/encoder_sweep.py   (replaces its section of Benchmarks/RESULTS.md)
"""
import os
import pathlib
import re
import subprocess
import sys
import time

from quality import CASES, CRFS, WORK, aligned_quality, bd_rate, clips, grid_filter, reference, run, video_kbps

ROOT = pathlib.Path(__file__).resolve().parent.parent
BASE = ["-preset", "veryfast", "-g", "60", "-profile:v", "high"]
CANDIDATES = [
    ("recorder's settings", []),
    ("aq-mode=3 (dark-biased adaptive quantisation)", ["-x264-params", "aq-mode=3"]),
    ("tune film", ["-tune", "film"]),
    ("tune animation", ["-tune", "animation"]),
    ("tune stillimage", ["-tune", "stillimage"]),
    ("tune ssim (psychovisual tuning off)", ["-tune", "ssim"]),
    ("keyframes every 10 s", ["-g", "300"]),
    ("preset faster", ["-preset", "faster"]),
]


def composite(inputs, tile_w, tile_h, columns, out):
    """The grid as the recorder draws it (bicubic, contain), kept losslessly."""
    cmd = ["ffmpeg", "-v", "error", "-y"]
    for i in inputs:
        cmd += ["-i", str(i)]
    run(cmd + ["-filter_complex", grid_filter(len(inputs), tile_w, tile_h, columns, "bicubic"), "-map", "[v]", "-r", "30",
               "-c:v", "ffv1", "-pix_fmt", "yuv420p", str(out)])


def encode(source, crf, extra, out):
    """Encodes `source` at `crf` with the candidate's options; returns CPU seconds."""
    before = os.times()
    run(["ffmpeg", "-v", "error", "-y", "-i", str(source), "-c:v", "libx264", *BASE, "-crf", str(crf), *extra,
         "-pix_fmt", "yuv420p", str(out)])
    after = os.times()
    return (after.children_user - before.children_user) + (after.children_system - before.children_system)


def sweep(tag, n, size, tile_w, tile_h, columns):
    inputs = clips(n)
    ref, pictures = WORK / f"{tag}-reference.mkv", WORK / f"{tag}-composite.mkv"
    if not ref.exists():
        reference(inputs, tile_w, tile_h, columns, ref)
    if not pictures.exists():
        composite(inputs, tile_w, tile_h, columns, pictures)
    rows = []
    for name, extra in CANDIDATES:
        points, cpu = [], 0.0
        for crf in CRFS:
            out = WORK / f"{tag}-sweep-{CANDIDATES.index((name, extra))}-{crf}.mp4"
            cpu += encode(pictures, crf, extra, out)
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
             "CPU as a ratio of the recorder's settings' encoding time.", "",
             "| case | candidate | BD-rate | CPU | kbit/s, SSIM at CRF 23 |", "|---|---|---:|---:|---|"]
    for case in CASES:
        rows = sweep(*case)
        anchor, anchor_cpu = rows[0][1], rows[0][2]
        for name, points, cpu in rows:
            bd = bd_rate(anchor, points)
            k, s = points[CRFS.index(23)]
            lines.append(f"| ({case[0]}) {case[1]} → {case[2]} | {name} | {'n/a' if bd is None else f'{bd:+.1f} %'} | "
                         f"{cpu / anchor_cpu:.2f}x | {k:.0f}, {s:.4f} |")
    section = "\n".join(lines) + "\n"
    print(section)
    results = ROOT / "Benchmarks/RESULTS.md"
    text = results.read_text()
    marker = "## Encoder settings for composites"
    if marker in text:
        start = text.index(marker)
        end = text.find("\n## ", start + 1)
        text = text[:start] + section + (text[end + 1:] if end >= 0 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    results.write_text(text)


if __name__ == "__main__":
    main()
