#!/usr/bin/env python3
"""mcu-record compose vs the equivalent ffmpeg command, and vs the decode+encode floor.

Each command runs RUNS times, one at a time; CPU seconds (user+system), wall seconds and peak RSS come from
wait4() of that process alone. Medians are reported and written to Benchmarks/RESULTS.md.
"""
import os, statistics, subprocess, sys, time, pathlib, datetime

ROOT = pathlib.Path(__file__).resolve().parent.parent
BIN = str(ROOT / ".build/release/mcu-record")
INPUTS = ROOT / "Fixtures/generated/bench"
WORK = ROOT / "Benchmarks/work"
RUNS = int(os.environ.get("RUNS", "3"))
ENC = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-g", "60", "-profile:v", "high", "-pix_fmt", "yuv420p",
       "-c:a", "aac", "-b:a", "128k", "-ar", "48000", "-ac", "2"]


def measure(cmd):
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - start
    err = proc.stderr.read().decode(errors="replace")
    if status != 0:
        sys.exit(f"failed ({status}): {' '.join(cmd)}\n{err}")
    return usage.ru_utime + usage.ru_stime, wall, usage.ru_maxrss / 1024


def median_of(cmd):
    return interleaved([cmd])[0]


def interleaved(cmds):
    """Medians per command, the commands run in turn RUNS times over: a machine whose speed drifts (other
    tenants, thermal limits) then weighs on every command alike instead of on whichever ran during the dip."""
    runs = [[] for _ in cmds]
    for _ in range(RUNS):
        for k, cmd in enumerate(cmds):
            runs[k].append(measure(cmd))
    return [tuple(statistics.median(r[i] for r in rs) for i in range(3)) for rs in runs]


def ffmpeg_grid(inputs, tile_w, tile_h, columns, out):
    n = len(inputs)
    cmd = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y"]
    for i in inputs:
        cmd += ["-i", str(i)]
    parts, labels = [], []
    for k in range(n):
        parts.append(f"[{k}:v]scale={tile_w}:{tile_h}:force_original_aspect_ratio=decrease,"
                     f"pad={tile_w}:{tile_h}:(ow-iw)/2:(oh-ih)/2[v{k}]")
        labels.append(f"[v{k}]")
    layout = "|".join(f"{(k % columns) * tile_w}_{(k // columns) * tile_h}" for k in range(n))
    parts.append("".join(labels) + f"xstack=inputs={n}:layout={layout}[v]")
    parts.append("".join(f"[{k}:a]" for k in range(n)) + f"amix=inputs={n}[a]")
    return cmd + ["-filter_complex", ";".join(parts), "-map", "[v]", "-map", "[a]", "-r", "30"] + ENC + \
        ["-movflags", "+faststart", str(out)]


def ours(inputs, size, out):
    cmd = [BIN, "compose", "--layout", "grid", "--size", size, "--fps", "30", "--preset", "veryfast", "--crf", "23",
           "--quiet", "--output", str(out)]
    for i in inputs:
        cmd += ["--input", str(i)]
    return cmd


def floor_commands(inputs, size, tw, th, cols, tag):
    """Decoding the inputs (one thread each, as the compositor does) plus encoding the same, uncompressed,
    composite: ffmpeg renders the grid to raw pictures and audio first (not timed), then only the encode is timed.
    Returns the two timed commands and the raw files to delete afterwards."""
    decode = ["ffmpeg", "-hide_banner", "-loglevel", "error"]
    for i in inputs:
        decode += ["-threads", "1", "-i", str(i)]
    for k in range(len(inputs)):
        decode += ["-map", f"{k}:v", "-map", f"{k}:a"]
    decode += ["-f", "null", "-"]
    raw_v, raw_a = WORK / f"{tag}.yuv", WORK / f"{tag}.f32"
    render = ffmpeg_grid(inputs, tw, th, cols, "unused")
    cut = render.index("-map")
    render = render[:cut] + ["-map", "[v]", "-f", "rawvideo", "-pix_fmt", "yuv420p", "-r", "30", str(raw_v),
                             "-map", "[a]", "-f", "f32le", "-ar", "48000", "-ac", "2", str(raw_a)]
    subprocess.run(render, check=True)
    encode = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", size,
              "-r", "30", "-i", str(raw_v), "-f", "f32le", "-ar", "48000", "-ac", "2", "-i", str(raw_a)] + ENC + \
             ["-movflags", "+faststart", str(WORK / f"{tag}-floor.mp4")]
    return decode, encode, [raw_v, raw_a]


def main():
    WORK.mkdir(parents=True, exist_ok=True)
    rows, notes = [], []
    for tag, n, size, tw, th, cols in [("a", 4, "1280x720", 640, 360, 2), ("b", 16, "1920x1080", 480, 270, 4)]:
        inputs = [INPUTS / f"in{k}.webm" for k in range(n)]
        out_ours, out_ff = WORK / f"{tag}-ours.mp4", WORK / f"{tag}-ffmpeg.mp4"
        print(f"({tag}) {n} inputs 640x480@30 VP8+Opus, 60 s -> {size}@30 grid, {RUNS} runs each", flush=True)
        decode, encode, raw = floor_commands(inputs, size, tw, th, cols, tag)
        o, f, d, e = interleaved([ours(inputs, size, out_ours), ffmpeg_grid(inputs, tw, th, cols, out_ff), decode, encode])
        for r in raw:
            r.unlink()
        print(f"  mcu-record  cpu {o[0]:7.2f} s  wall {o[1]:6.2f} s  rss {o[2]:7.1f} MB", flush=True)
        print(f"  ffmpeg      cpu {f[0]:7.2f} s  wall {f[1]:6.2f} s  rss {f[2]:7.1f} MB", flush=True)
        fl = d[0] + e[0]
        print(f"  floor       cpu {fl:7.2f} s  (decode {d[0]:.2f} + encode {e[0]:.2f})", flush=True)
        rows.append((tag, n, size, o, f, d, e))
    # Decoders: FFmpeg's own against libvpx / libopus, one thread, same file.
    def decode_cpu(args, path, stream):
        return median_of(["ffmpeg", "-hide_banner", "-loglevel", "error", "-threads", "1"] + args +
                         ["-i", str(path), "-map", stream, "-f", "null", "-"])[0]
    decoders = [("VP8", decode_cpu([], INPUTS / "in0.webm", "0:v"), decode_cpu(["-c:v", "libvpx"], INPUTS / "in0.webm", "0:v"), "libvpx"),
                ("VP9", decode_cpu([], INPUTS / "vp9.webm", "0:v"), decode_cpu(["-c:v", "libvpx-vp9"], INPUTS / "vp9.webm", "0:v"), "libvpx"),
                ("Opus", decode_cpu([], INPUTS / "in0.webm", "0:a"), decode_cpu(["-c:a", "libopus"], INPUTS / "in0.webm", "0:a"), "libopus")]
    lines = [f"# Benchmarks", "", f"Measured {datetime.date.today()} on this machine ({os.cpu_count()} cores), "
             f"release build, median of {RUNS} runs, the commands of a case taking turns; `make bench` re-runs them "
             "(`Benchmarks/bench.py`).", "",
             "Inputs: 640x480@30 VP8 + Opus, 60 s each (`scripts/gen-fixtures.sh --bench`). Output: H.264 High "
             "veryfast CRF 23, GOP 60, AAC-LC 128 kbit/s, faststart MP4. ffmpeg: `scale`+`pad` per input, `xstack`, "
             "`amix`, its default decoders. Floor: decoding the inputs (one thread each) plus encoding the same "
             "composite pictures and audio from raw.", "",
             "| case | tool | CPU s | wall s | peak RSS MB | CPU vs ffmpeg | wall vs ffmpeg | RSS vs ffmpeg | CPU vs floor |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for tag, n, size, o, f, d, e in rows:
        fl = d[0] + e[0]
        lines.append(f"| ({tag}) {n} → {size} | mcu-record | {o[0]:.2f} | {o[1]:.2f} | {o[2]:.0f} | "
                     f"{o[0] / f[0]:.2f} | {o[1] / f[1]:.2f} | {o[2] / f[2]:.2f} | {o[0] / fl:.3f} |")
        lines.append(f"| ({tag}) {n} → {size} | ffmpeg | {f[0]:.2f} | {f[1]:.2f} | {f[2]:.0f} | | | | {f[0] / fl:.3f} |")
        lines.append(f"| ({tag}) {n} → {size} | floor | {fl:.2f} (decode {d[0]:.2f} + encode {e[0]:.2f}) | | | | | | 1.000 |")
    lines += ["", "Decoding one 60 s input, one thread (CPU s): mcu-record uses FFmpeg's decoders for files where they are "
              "at least as fast.", "", "| codec | FFmpeg's decoder | library decoder |", "|---|---:|---:|"]
    lines += [f"| {codec} | {own:.2f} | {lib:.2f} ({name}) |" for codec, own, lib, name in decoders]
    import quality
    print(f"picture quality: the first {quality.SECONDS} s, CRF {quality.CRFS}, both cases", flush=True)
    results = [(case, quality.case_quality(*case)) for case in quality.CASES]
    lines += ["", f"Picture quality (`Benchmarks/quality.py`): the first {quality.SECONDS} s of the same inputs, video only, "
              "each composite against a reference composite rendered losslessly with lanczos scaling (SSIM of all "
              "planes, PSNR average; a one-frame shift must score lower, or the row says misaligned). BD-rate: the "
              "bits mcu-record spends more (+) or less (−) than ffmpeg's default pipeline (bicubic) for equal SSIM, "
              f"over CRF {', '.join(map(str, quality.CRFS))}.", ""] + quality.report(results)
    lines.append("")
    # The sections after the first (other benchmarks' reports) stay as they are.
    results_md = ROOT / "Benchmarks/RESULTS.md"
    previous = results_md.read_text() if results_md.exists() else ""
    rest = previous[previous.index("\n## ") + 1:] if "\n## " in previous else ""
    results_md.write_text("\n".join(lines) + ("\n" + rest if rest else ""))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
