#!/usr/bin/env python3
"""Tile-aware bitrate: a room of 4 Chromium 1280x720 publishers in the speaker layout (P0 pinned large, the other
three in the strip), recorded at 1280x720, with the tile-aware caps on (defaults) and off (every cap at the 4 Mb/s
ceiling, which is what a recorder without them lets Chromium send).

Per run, over a window after 20 s of ramp-up: ingress (what the senders' video and audio carry, from the API's
2 s rates), the server's CPU and its decoders' time, Chromium's CPU, each sender's resolution as decoded, and the
recorded tiles' SSIM (luma, below the frame-number bars) against the source clip scaled to the tile.

usage: Benchmarks/tileaware.py [SECONDS]   (default 30; needs `scripts/gen-fixtures.sh --bench`, a release build,
chromium and ffmpeg)
"""
import json
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

from liveserver import BIN, call, request

ROOT = pathlib.Path(__file__).resolve().parent.parent
CLIP = ROOT / "Fixtures/generated/bench/camera-720-indexed.y4m"
MICROPHONE = ROOT / "Fixtures/generated/microphone-300.wav"
PAGE = ROOT / "Benchmarks/tileaware.html"
WINDOW = int(sys.argv[1]) if len(sys.argv) > 1 else 30
RAMP = 20
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / TICK
        except (FileNotFoundError, ProcessLookupError, IndexError):
            pass
    return total


def processes_with(text):
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    if text.encode() in f.read():
                        pids.append(int(entry))
            except OSError:
                pass
    return pids


def metric_sum(base, name):
    with urllib.request.urlopen(f"{base}/metrics", timeout=30) as r:
        text = r.read().decode()
    return sum(float(m.group(1)) for m in re.finditer(rf"^{name}(?:{{[^}}]*}})? ([-\d.e+]+)$", text, re.M))


def start_room(folder, capped):
    extra = [] if capped else ["--min-video-bitrate", "4000", "--max-video-bitrate", "4000"]
    server = subprocess.Popen([BIN, "--room", "tile", "--http", "127.0.0.1:0", "--size", "1280x720", "--fps", "30",
                               "--layout", "speaker", "--output", folder, *extra],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    lines = []
    base = None
    while base is None:
        line = server.stdout.readline()
        if not line:
            sys.exit("the room did not start: " + "".join(lines))
        lines.append(line)
        match = re.search(r"WHIP (http://[^ ]+)/rooms/", line)
        if match:
            base = match.group(1)
    # Keep reading, so the server never blocks on a full pipe; the final lines name the recording.
    threading.Thread(target=lambda: lines.extend(server.stdout), daemon=True).start()
    return server, base, lines


def run(capped):
    folder = tempfile.mkdtemp(prefix="mcu-tileaware-")
    profile = tempfile.mkdtemp(prefix="mcu-tileaware-chromium-")
    server, base, lines = start_room(folder, capped)
    browser = subprocess.Popen(["chromium", "--headless=new", "--no-sandbox", "--disable-gpu", "--use-fake-device-for-media-stream",
                                "--use-fake-ui-for-media-stream", "--allow-loopback-in-peer-connection", "--allow-file-access-from-files",
                                f"--user-data-dir={profile}", f"--use-file-for-fake-video-capture={CLIP}",
                                f"--use-file-for-fake-audio-capture={MICROPHONE}", f"file://{PAGE}?whip={base}/rooms/tile/whip&count=4"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 60
        while True:
            people = request("GET", f"{base}/rooms/tile").get("participants", [])
            if len(people) == 4:
                break
            if time.time() > deadline:
                sys.exit(f"only {len(people)} of 4 publishers joined")
            time.sleep(0.5)
        speaker = next(p for p in people if p["name"] == "P0")
        status, _ = call_json("PATCH", f"{base}/rooms/tile/participants/{speaker['id']}", {"pin": True})
        assert status == 200, status
        time.sleep(RAMP)
        chromium = processes_with(profile)
        cpu0, browser0, decode0, t0 = cpu_seconds([server.pid]), cpu_seconds(chromium), metric_sum(base, "mcu_decode_seconds_total"), time.time()
        samples = []
        for _ in range(WINDOW):
            time.sleep(1)
            samples.append(request("GET", f"{base}/rooms/tile")["participants"])
        elapsed = time.time() - t0
        result = {
            "server_cpu": (cpu_seconds([server.pid]) - cpu0) / elapsed,
            "chromium_cpu": (cpu_seconds(chromium) - browser0) / elapsed,
            "decode": (metric_sum(base, "mcu_decode_seconds_total") - decode0) / elapsed,
        }
        per = {}
        for participants in samples:
            for p in participants:
                entry = per.setdefault(p["name"], {"bits": [], "sizes": {}, "fps": []})
                entry["bits"].append(sum(t.get("recent_bitrate", 0) for t in p["tracks"]))
                for t in p["tracks"]:
                    if t["kind"] == "video" and "width" in t:
                        size = f"{t['width']}x{t['height']}"
                        entry["sizes"][size] = entry["sizes"].get(size, 0) + 1
                        entry["fps"].append(t.get("recent_fps", 0))
        result["senders"] = {name: {"kbps": sum(e["bits"]) / len(e["bits"]) / 1000,
                                    "sizes": [f"{size} {100 * n // len(samples)} %" for size, n in sorted(e["sizes"].items(), key=lambda i: -i[1])],
                                    "fps": sum(e["fps"]) / max(1, len(e["fps"]))} for name, e in sorted(per.items())}
        result["ingress_kbps"] = sum(s["kbps"] for s in result["senders"].values())
    finally:
        browser.terminate()
        try:
            browser.wait(20)
        except subprocess.TimeoutExpired:
            browser.kill()
        server.send_signal(signal.SIGINT)
        try:
            server.wait(120)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(profile, ignore_errors=True)
    time.sleep(0.5)
    recorded = next((l.split()[2] for l in lines if l.startswith("recorded tile:")), None)
    if recorded is None:
        sys.exit("no recording reported: " + "".join(lines))
    result["ssim"] = tile_ssim(recorded, WINDOW)
    shutil.rmtree(folder, ignore_errors=True)
    return result


def call_json(method, url, body):
    data = json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status, json.load(r)


def gray(path, width, height, filters, seek=None, duration=None, frames=None):
    """Frames of a video as raw 8-bit luma, after `filters` (`seek`: seconds before the end)."""
    args = ["ffmpeg", "-v", "error"] + (["-sseof", f"-{seek}"] if seek else []) + ["-i", str(path)]
    args += (["-t", str(duration)] if duration else []) + (["-frames:v", str(frames)] if frames else [])
    args += ["-vf", f"{filters},format=gray", "-f", "rawvideo", "-"]
    data = subprocess.run(args, check=True, capture_output=True).stdout
    size = width * height
    return [data[i:i + size] for i in range(0, len(data) - size + 1, size)]


def tiles(frame):
    """The speaker layout's tiles in a 1280x720 luma frame, as (x, y, width, height): the runs of picture (not the
    black background) along a row of the large region and of the strip; the height is the 16:9 one of the width,
    placed up from the picture's last lit row (the frame-number bars at a tile's top may be black)."""
    def lit(x, y):
        return frame[y * 1280 + x] > 12

    found = []
    for row, top, bottom in ((300, 0, 562), (640, 562, 720)):
        start = None
        for x in range(1281):
            on = x < 1280 and lit(x, row)
            if on and start is None:
                start = x
            if not on and start is not None:
                if x - start > 40:
                    w = x - start
                    h = round(w * 9 / 16)
                    centre = start + w // 2
                    last = max(y for y in range(top, bottom) if lit(centre, y))
                    found.append((start, last - h + 1, w, h))
                start = None
    return [t for t in found if t[1] < 562][:1], [t for t in found if t[1] >= 500]


def tile_ssim(recording, seconds):
    """SSIM of the large tile and of each small one against the source clip, frame by frame matched through the
    frame-number bars; only the picture below the bars is compared."""
    large, small = tiles(gray(recording, 1280, 720, "null", seek=seconds // 2 + 3, frames=1)[0])
    out = {}
    for name, (x, y, w, h) in [("large", large[0])] + [(f"small{i}", t) for i, t in enumerate(small)]:
        frames = gray(recording, w, h, f"crop={w}:{h}:{x}:{y}", seek=seconds + 3, duration=seconds)
        source = gray(CLIP, w, h, f"scale={w}:{h}:flags=bicubic")
        bar = (h * 90 + 719) // 720 + 2
        rec_rows, ref_rows, matched = [], [], 0
        for tile in frames:
            index = 0
            for k in range(8):
                cx = int((k + 0.5) * w / 8)
                if tile[(bar // 2) * w + cx] > 128:
                    index |= 1 << k
            if index >= len(source):
                continue
            rec_rows.append(tile[bar * w:])
            ref_rows.append(source[index][bar * w:])
            matched += 1
        with tempfile.TemporaryDirectory() as work:
            a, b = os.path.join(work, "a.gray"), os.path.join(work, "b.gray")
            open(a, "wb").write(b"".join(rec_rows))
            open(b, "wb").write(b"".join(ref_rows))
            size = f"{w}x{h - bar}"
            text = subprocess.run(["ffmpeg", "-v", "info", "-f", "rawvideo", "-pix_fmt", "gray", "-s", size, "-i", a,
                                   "-f", "rawvideo", "-pix_fmt", "gray", "-s", size, "-i", b, "-lavfi", "ssim", "-f", "null", "-"],
                                  capture_output=True, text=True).stderr
        score = re.search(r"All:([\d.]+)", text)
        out[name] = {"tile": f"{w}x{h}", "frames": matched, "ssim": float(score.group(1)) if score else None}
    return out


def main():
    if not CLIP.exists():
        sys.exit("run scripts/gen-fixtures.sh --bench first")
    results = {}
    for capped in (True, False):
        label = "tile-aware" if capped else "uncapped"
        print(f"{label}: 4 publishers, {RAMP} s ramp-up, {WINDOW} s measured …", flush=True)
        results[label] = run(capped)
        r = results[label]
        print(f"  ingress {r['ingress_kbps']:.0f} kb/s, server CPU {r['server_cpu']:.2f} cores (decoding {r['decode']:.2f} s/s), "
              f"Chromium {r['chromium_cpu']:.2f} cores", flush=True)
        for name, s in r["senders"].items():
            print(f"  {name}: {s['kbps']:.0f} kb/s, {', '.join(s['sizes'])} at {s['fps']:.1f} fps", flush=True)
        for name, s in r["ssim"].items():
            print(f"  {name} tile {s['tile']}: SSIM {s['ssim']} over {s['frames']} frames", flush=True)
    on, off = results["tile-aware"], results["uncapped"]
    smalls = lambda r: [s["ssim"] for n, s in r["ssim"].items() if n.startswith("small") and s["ssim"] is not None]
    print(f"ingress: {on['ingress_kbps'] / off['ingress_kbps']:.2f}x of uncapped ({100 * (1 - on['ingress_kbps'] / off['ingress_kbps']):.0f} % lower)")
    print(f"decoding: {on['decode'] / off['decode']:.2f}x ({100 * (1 - on['decode'] / off['decode']):.0f} % lower); "
          f"server CPU {on['server_cpu'] / off['server_cpu']:.2f}x; Chromium CPU {on['chromium_cpu'] / off['chromium_cpu']:.2f}x")
    a, b = smalls(on), smalls(off)
    if a and b:
        print(f"small tiles' SSIM: {sum(a) / len(a):.4f} tile-aware, {sum(b) / len(b):.4f} uncapped "
              f"(difference {sum(b) / len(b) - sum(a) / len(a):+.4f})")


if __name__ == "__main__":
    main()
