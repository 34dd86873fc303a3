#!/usr/bin/env python3
"""Picture quality of the compose cases: mcu-record's composite and ffmpeg's (same grid, same x264 settings) against a
reference composite rendered losslessly (FFV1) with the best scaler (lanczos, accurate rounding, full chroma
interpolation), by FFmpeg's SSIM and PSNR filters, over the first SECONDS of the benchmark inputs.

A rate-quality sweep (CRF 18, 23, 28, 33) for both tools gives the BD-rate (Bjøntegaard): the bits mcu-record
spends more (positive) or less (negative) than ffmpeg's default pipeline for the same SSIM, SSIM taken in dB
(-10 log10(1 - SSIM)) so that the curves are near straight, cubic fits of log rate, integrated over the shared range.

Each comparison is checked for frame alignment: the same output shifted by one frame must score lower; when it does
not, the report says so instead of a number that looks fine.

usage: Benchmarks/quality.py   (prints the table; bench.py calls `case_quality` for RESULTS.md)
"""
import math
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
BIN = str(ROOT / ".build/release/mcu-record")
INPUTS = ROOT / "Fixtures/generated/bench"
WORK = ROOT / "Benchmarks/work/quality"
SECONDS = 10
CRFS = [18, 23, 28, 33]
LANCZOS = "lanczos+accurate_rnd+full_chroma_int+full_chroma_inp"


def run(cmd):
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"failed: {' '.join(map(str, cmd))}\n{done.stderr[-2000:]}")
    return done.stderr


def clips(n):
    """The first SECONDS of inputs 0..n-1, stream-copied (their keyframes are 2 s apart)."""
    WORK.mkdir(parents=True, exist_ok=True)
    out = []
    for k in range(n):
        clip = WORK / f"in{k}.webm"
        if not clip.exists():
            run(["ffmpeg", "-v", "error", "-y", "-i", str(INPUTS / f"in{k}.webm"), "-t", str(SECONDS), "-c", "copy", str(clip)])
        out.append(clip)
    return out


def grid_filter(n, tile_w, tile_h, columns, flags):
    parts = [f"[{k}:v]scale={tile_w}:{tile_h}:force_original_aspect_ratio=decrease:flags={flags},"
             f"pad={tile_w}:{tile_h}:(ow-iw)/2:(oh-ih)/2[v{k}]" for k in range(n)]
    layout = "|".join(f"{(k % columns) * tile_w}_{(k // columns) * tile_h}" for k in range(n))
    parts.append("".join(f"[v{k}]" for k in range(n)) + f"xstack=inputs={n}:layout={layout}[v]")
    return ";".join(parts)


def reference(inputs, tile_w, tile_h, columns, out):
    cmd = ["ffmpeg", "-v", "error", "-y"]
    for i in inputs:
        cmd += ["-i", str(i)]
    run(cmd + ["-filter_complex", grid_filter(len(inputs), tile_w, tile_h, columns, LANCZOS), "-map", "[v]", "-r", "30",
               "-c:v", "ffv1", "-pix_fmt", "yuv420p", str(out)])


def ffmpeg_output(inputs, tile_w, tile_h, columns, crf, out):
    """ffmpeg's default pipeline (bicubic scaling), video only, x264 as bench.py sets it."""
    cmd = ["ffmpeg", "-v", "error", "-y"]
    for i in inputs:
        cmd += ["-i", str(i)]
    run(cmd + ["-filter_complex", grid_filter(len(inputs), tile_w, tile_h, columns, "bicubic"), "-map", "[v]", "-r", "30",
               "-c:v", "libx264", "-preset", "veryfast", "-crf", str(crf), "-g", "60", "-profile:v", "high",
               "-pix_fmt", "yuv420p", str(out)])


def our_output(inputs, size, crf, out):
    cmd = [BIN, "compose", "--layout", "grid", "--size", size, "--fps", "30", "--preset", "veryfast", "--crf", str(crf),
           "--quiet", "--output", str(out)]
    for i in inputs:
        cmd += ["--input", str(i)]
    run(cmd)


def video_kbps(path):
    text = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=bit_rate",
                           "-of", "csv=p=0", str(path)], capture_output=True, text=True).stdout.strip()
    return int(text) / 1000


def compare(path, ref, shift=0):
    """SSIM (all planes) and PSNR (average) of `path` against `ref`, frame by frame from the first; `shift` drops
    that many of `path`'s first frames (the alignment check)."""
    dist = f"[0:v]trim=start_frame={shift},setpts=PTS-STARTPTS[d]" if shift else "[0:v]setpts=PTS-STARTPTS[d]"
    graph = f"{dist};[1:v]setpts=PTS-STARTPTS[r];[d]split[d0][d1];[r]split[r0][r1];[d0][r0]ssim=shortest=1;[d1][r1]psnr=shortest=1"
    text = run(["ffmpeg", "-v", "info", "-i", str(path), "-i", str(ref), "-filter_complex", graph, "-f", "null", "-"])
    ssim = re.search(r"SSIM .*All:([\d.]+)", text)
    psnr = re.search(r"PSNR .*average:([\d.inf]+)", text)
    return float(ssim.group(1)), float(psnr.group(1))


def aligned_quality(path, ref):
    """(SSIM, PSNR, aligned): aligned when a one-frame shift scores lower."""
    ssim, psnr = compare(path, ref)
    shifted, _ = compare(path, ref, shift=1)
    return ssim, psnr, shifted < ssim


def ssim_db(ssim):
    return -10 * math.log10(max(1e-9, 1 - ssim))


def cubic_fit(xs, ys):
    """Least-squares cubic through the points (exact for four): coefficients c0..c3."""
    rows = [[sum(x ** (i + j) for x in xs) for j in range(4)] + [sum(y * x ** i for x, y in zip(xs, ys))] for i in range(4)]
    for col in range(4):
        pivot = max(range(col, 4), key=lambda r: abs(rows[r][col]))
        rows[col], rows[pivot] = rows[pivot], rows[col]
        for r in range(4):
            if r != col:
                factor = rows[r][col] / rows[col][col]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[col])]
    return [rows[i][4] / rows[i][i] for i in range(4)]


def integral(c, lo, hi):
    return sum(c[i] * (hi ** (i + 1) - lo ** (i + 1)) / (i + 1) for i in range(4))


def bd_rate(anchor, test):
    """Percent bitrate `test` needs more than `anchor` for the same quality; each a list of (kbps, ssim)."""
    qa, qt = [ssim_db(s) for _, s in anchor], [ssim_db(s) for _, s in test]
    ca, ct = cubic_fit(qa, [math.log(r) for r, _ in anchor]), cubic_fit(qt, [math.log(r) for r, _ in test])
    lo, hi = max(min(qa), min(qt)), min(max(qa), max(qt))
    if hi <= lo:
        return None
    average = (integral(ct, lo, hi) - integral(ca, lo, hi)) / (hi - lo)
    return (math.exp(average) - 1) * 100


def case_quality(tag, n, size, tile_w, tile_h, columns, crfs=CRFS):
    """The sweep for one compose case: per tool and CRF (kbps, SSIM, PSNR, aligned), and the BD-rate."""
    inputs = clips(n)
    ref = WORK / f"{tag}-reference.mkv"
    if not ref.exists():
        reference(inputs, tile_w, tile_h, columns, ref)
    points = {"mcu-record": {}, "ffmpeg": {}}
    for crf in crfs:
        ours, theirs = WORK / f"{tag}-ours-{crf}.mp4", WORK / f"{tag}-ffmpeg-{crf}.mp4"
        our_output(inputs, size, crf, ours)
        ffmpeg_output(inputs, tile_w, tile_h, columns, crf, theirs)
        for tool, path in [("mcu-record", ours), ("ffmpeg", theirs)]:
            points[tool][crf] = (video_kbps(path),) + aligned_quality(path, ref)
    curve = {tool: [(p[0], p[1]) for _, p in sorted(points[tool].items())] for tool in points}
    return points, bd_rate(curve["ffmpeg"], curve["mcu-record"])


CASES = [("a", 4, "1280x720", 640, 360, 2), ("b", 16, "1920x1080", 480, 270, 4)]


def replace_results_section(marker, section):
    """Puts `section` (starting with its `## ` heading `marker`...) into Benchmarks/RESULTS.md in place of the
    section that starts with `marker`, or at the end; the other sections stay as they are."""
    results = ROOT / "Benchmarks/RESULTS.md"
    text = results.read_text()
    if marker in text:
        start = text.index(marker)
        end = text.find("\n## ", start + 1)
        text = text[:start] + section + (text[end + 1:] if end >= 0 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    results.write_text(text)


def report(results):
    """Markdown lines: per case and tool the CRF 23 point, and the BD-rate."""
    lines = ["| case | tool | kbit/s at CRF 23 | SSIM | PSNR dB | BD-rate vs ffmpeg (SSIM) |", "|---|---|---:|---:|---:|---:|"]
    for (tag, n, size, *_), (points, bd) in results:
        for tool in ["mcu-record", "ffmpeg"]:
            kbps, ssim, psnr, aligned = points[tool][23]
            flag = "" if aligned else " (misaligned)"
            bd_text = ("n/a" if bd is None else f"{bd:+.1f} %") if tool == "mcu-record" else ""
            lines.append(f"| ({tag}) {n} → {size} | {tool} | {kbps:.0f} | {ssim:.4f}{flag} | {psnr:.2f} | {bd_text} |")
    lines += ["", "The sweep (kbit/s, SSIM):", "", "| case | tool | " + " | ".join(f"CRF {c}" for c in CRFS) + " |",
              "|---|---|" + "---:|" * len(CRFS)]
    for (tag, n, size, *_), (points, _) in results:
        for tool in ["mcu-record", "ffmpeg"]:
            cells = " | ".join(f"{points[tool][c][0]:.0f}, {points[tool][c][1]:.4f}" for c in CRFS)
            lines.append(f"| ({tag}) {n} → {size} | {tool} | {cells} |")
    return lines


def main():
    results = []
    for case in CASES:
        print(f"({case[0]}) quality sweep, {SECONDS} s, CRF {CRFS}", flush=True)
        results.append((case, case_quality(*case)))
    print("\n".join(report(results)))


if __name__ == "__main__":
    main()
