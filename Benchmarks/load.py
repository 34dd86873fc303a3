#!/usr/bin/env python3
"""Live-room load: K rooms, each with 4 built-in publishers streaming pre-encoded 640x480 VP8 + Opus (cheap to
send), recorded into 1280x720 composites, for DURATION seconds. K grows until a room no longer keeps up.

A room keeps up when its recording is DURATION long at >= 29.5 fps and the compositor's lag (how late frames are
made) stays under a second and does not end higher than it started. Each room is its own `mcu-record --room`
process, so its CPU seconds and peak RSS come from wait4() of that process alone.
Environment: DURATION (default 60), PRESETS (default "veryfast ultrafast"), KMAX (default 6).
"""
import os, pathlib, re, signal, subprocess, sys, time, datetime

ROOT = pathlib.Path(__file__).resolve().parent.parent
BIN = str(ROOT / ".build/release/mcu-record")
INPUTS = ROOT / "Fixtures/generated/bench"
WORK = ROOT / "Benchmarks/work/load"
DURATION = float(os.environ.get("DURATION", "60"))
PRESETS = os.environ.get("PRESETS", "veryfast ultrafast").split()
KMAX = int(os.environ.get("KMAX", "6"))


def start_room(name, preset):
    out = open(WORK / f"{name}.log", "w+")
    proc = subprocess.Popen([BIN, "--room", name, "--http", "127.0.0.1:0", "--size", "1280x720", "--preset", preset,
                             "--output", str(WORK / "recordings"), "--idle-timeout", "600"], stdout=out, stderr=subprocess.STDOUT)
    for _ in range(200):
        out.seek(0)
        m = re.search(r"WHIP (http://\S+/whip)", out.read())
        if m:
            return proc, out, m.group(1)
        time.sleep(0.05)
    sys.exit(f"room {name} did not start")


def run(k, preset):
    rooms = [start_room(f"load{r}", preset) for r in range(k)]
    publishers = []
    for r, (_, _, whip) in enumerate(rooms):
        for p in range(4):
            clip = INPUTS / f"in{(r * 4 + p) % 16}.webm"
            publishers.append(subprocess.Popen([BIN, "publish", "--whip", whip, "--name", f"p{p}", "--file", str(clip),
                                                "--duration", str(DURATION)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    for p in publishers:
        p.wait()
    results = []
    for proc, out, _ in rooms:
        proc.send_signal(signal.SIGINT)
        _, status, usage = os.wait4(proc.pid, 0)
        out.seek(0)
        text = out.read()
        duration = re.search(r"recorded \S+: \S+ \(([\d.]+) s", text)
        fps = re.search(r"frames \(([\d.]+) fps\)", text)
        lag = re.search(r"lag max (\d+) ms, at the end (-?\d+) ms", text)
        results.append({
            "cpu": usage.ru_utime + usage.ru_stime, "rss": usage.ru_maxrss / 1024,
            "duration": float(duration.group(1)) if duration else 0, "fps": float(fps.group(1)) if fps else 0,
            "lag": int(lag.group(1)) if lag else 10**9, "final": int(lag.group(2)) if lag else 10**9,
        })
    held = all(r["fps"] >= 29.5 and r["duration"] >= DURATION - 2 and r["lag"] < 1000 for r in results)
    return held, results


def main():
    WORK.mkdir(parents=True, exist_ok=True)
    lines = [f"# Load benchmark", "", f"Measured {datetime.date.today()} on this machine ({os.cpu_count()} cores), release build: "
             f"K rooms × 4 publishers (`mcu-record publish --file`, 640x480@30 VP8 + Opus), 1280x720@30 composites, "
             f"{DURATION:.0f} s; `Benchmarks/load.py` (part of `make bench`).", "",
             "| preset | K | held | fps (worst room) | max lag ms | CPU s per room | CPU cores per room | peak RSS MB per room |",
             "|---|---:|---|---:|---:|---:|---:|---:|"]
    best = {}
    for preset in PRESETS:
        for k in range(1, KMAX + 1):
            held, results = run(k, preset)
            cpu = sum(r["cpu"] for r in results) / k
            row = (f"| {preset} | {k} | {'yes' if held else 'no'} | {min(r['fps'] for r in results):.2f} | "
                   f"{max(r['lag'] for r in results)} | {cpu:.1f} | {cpu / DURATION:.2f} | {max(r['rss'] for r in results):.0f} |")
            print(row, flush=True)
            lines.append(row)
            if not held:
                break
            best[preset] = k
    lines += ["", "Largest K held in real time: " + ", ".join(f"{p} K = {best.get(p, 0)}" for p in PRESETS) + ".", ""]
    (ROOT / "Benchmarks/LOAD.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
