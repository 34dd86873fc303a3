#!/usr/bin/env python3
"""kill -9 of the recorder at random moments of a live room, then recovery: how many files play, and how many
seconds each lost against what the API said was recorded just before the kill.

usage: Benchmarks/crash.py [KILLS=50]   (release build; the built-in test-pattern publisher; loopback only)
"""
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
binary = os.path.join(root, ".build/release/mcu-record")
kills = int(sys.argv[1]) if len(sys.argv) > 1 else 50
rng = random.Random(20261127)


def frames_and_audio(path):
    """Decoded video frames and audio seconds of a file (ffprobe counts packets: cheap and exact for our MP4s)."""
    out = subprocess.run(["ffprobe", "-v", "error", "-count_packets", "-show_entries", "stream=codec_type,nb_read_packets",
                          "-of", "json", path], capture_output=True, text=True).stdout
    streams = {s["codec_type"]: int(s.get("nb_read_packets", 0)) for s in json.loads(out or "{}").get("streams", [])}
    return streams.get("video", 0), streams.get("audio", 0) * 1024 / 48000


results = []
for n in range(kills):
    folder = tempfile.mkdtemp(prefix="mcu-crash-")
    room = subprocess.Popen([binary, "--room", "crash", "--http", "127.0.0.1:0", "--output", folder, "--tracks", folder + "/tracks",
                             "--size", "640x360"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    base = None
    while base is None:
        line = room.stdout.readline()
        match = re.search(r"(http://[^ ]+)/rooms/crash/whip", line)
        if match:
            base = match.group(1)
    publisher = subprocess.Popen([binary, "publish", "--whip", base + "/rooms/crash/whip", "--name", "Kim", "--duration", "30"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(rng.uniform(2.5, 9.0))
    try:
        with urllib.request.urlopen(base + "/rooms/crash", timeout=2) as r:
            recorded = json.load(r)["recording"].get("duration", 0.0)
    except Exception:
        recorded = 0.0
    room.send_signal(signal.SIGKILL)
    room.wait()
    publisher.terminate()
    publisher.wait()
    leftovers = [f for f in os.listdir(folder) if f.endswith(".recording.mp4")]
    recover = subprocess.run([binary, "recover", folder], capture_output=True, text=True)
    finals = [f for f in os.listdir(folder) if f.endswith(".mp4") and not f.endswith(".recording.mp4")]
    playable, lost = False, None
    if finals:
        frames, audio = frames_and_audio(os.path.join(folder, finals[0]))
        playable = frames > 0 and audio > 0
        lost = max(recorded - frames / 30, recorded - audio)
    tracks = [f for f in os.listdir(folder + "/tracks") if f.endswith(".webm")] if os.path.isdir(folder + "/tracks") else []
    track_ok = bool(tracks) and frames_and_audio(os.path.join(folder, "tracks", tracks[0]))[0] > 0
    results.append({"recorded": recorded, "lost": lost, "playable": playable, "track_playable": track_ok, "leftovers": len(leftovers)})
    print(f"kill {n + 1:2d}: recorded {recorded:5.2f} s, lost {lost if lost is not None else float('nan'):5.2f} s, "
          f"playable {playable}, track file playable {track_ok}", flush=True)
    shutil.rmtree(folder, ignore_errors=True)

ok = [r for r in results if r["playable"] and r["lost"] is not None and r["lost"] <= 2]
losses = sorted(r["lost"] for r in results if r["lost"] is not None)
print(f"\n{len(ok)} of {len(results)} kills left a playable recording missing at most 2 s; "
      f"track files playable {sum(r['track_playable'] for r in results)} of {len(results)}; "
      f"seconds lost: median {losses[len(losses) // 2]:.2f}, max {losses[-1]:.2f}" if losses else "no results")
